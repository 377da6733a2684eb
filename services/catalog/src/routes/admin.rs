//! The admin surface of a library: its tools exported to CSV and imported from it, for
//! those who may create tools there (the manager, moderators, admins).

use super::Ctx;
use crate::access::Viewer;
use crate::import::{self, ImportSummary};
use actix_web::body::{self, BodyStream};
use actix_web::dev::Decompress;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, get, post, web};
use platform::auth::AuthUser;
use platform::http::envelope::ok;
use platform::http::surface::Routes;
use platform::http::{ApiError, ApiResult, RequestId};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(export_tools).service(import_tools);
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LibraryQuery {
    /// The community whose library it is.
    pub community_id: Uuid,
}

/// The library's tools as CSV, to edit in a spreadsheet and import again.
///
/// Deleted tools aside, inactive ones included: a header row, then one tool a row, with
/// the columns `id, categoryId, name, description, brand, model, dailyPrice, weeklyPrice,
/// monthlyPrice, deposit` (minor units), `currency, minRentalDays, maxRentalDays,
/// bufferDays, active, items` (items not retired). A cell a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) starts with an
/// apostrophe, which the import takes off again.
#[utoipa::path(tag = "tools", security(("bearer" = [])), params(LibraryQuery),
    extensions(("x-raw-body" = json!(true))),
    responses((status = 200, description = "The tools, as CSV (UTF-8)", content_type = "text/csv", body = String),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "No such community for the caller", body = platform::http::ErrorBody)))]
#[get("/tools/admin/export")]
pub async fn export_tools(
    state: Ctx,
    user: AuthUser,
    query: web::Query<LibraryQuery>,
) -> ApiResult {
    let community = query.into_inner().community_id;
    let csv = import::export(&state, Viewer::of(Some(&user)), community).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"tools-{community}.csv\""),
        ))
        // Prices and inventory of a private library: no shared cache keeps a copy.
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(csv))
}

/// Creates and updates the library's tools from a CSV file, all or nothing.
///
/// The file is `text/csv`, UTF-8, at most 1 MiB and 2000 rows, with the export's columns
/// in any order (`categoryId`, `name`, `dailyPrice` and `deposit` required). A row with an
/// `id` updates that tool of the library, one without creates a tool (`items`: how many
/// items it starts with; read only for new tools). An empty `minRentalDays`,
/// `maxRentalDays`, `bufferDays` or `active` means the default for a new tool (1, 30, 0,
/// true) and no change for an update; an empty `brand`, `model`, `weeklyPrice` or
/// `monthlyPrice` means none. Every row is checked as `POST /api/tools` checks its body;
/// any problem answers 400 with every one in `errors` (`rows.<n>.<column>`, `n` counting
/// data rows from 1; `header` and `rows` for the file) and writes nothing. Importing an
/// export again updates its tools and creates none.
#[utoipa::path(tag = "tools", security(("bearer" = [])), params(LibraryQuery),
    request_body(content = String, content_type = "text/csv", description = "The tools, a header row first"),
    responses((status = 200, description = "What was created and updated", body = ImportSummary),
        (status = 400, description = "Not text/csv, or problems in the file (each in `errors`); nothing was written", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "No such community for the caller", body = platform::http::ErrorBody),
        (status = 413, description = "More than 1 MiB", body = platform::http::ErrorBody)))]
#[post("/tools/admin/import")]
pub async fn import_tools(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    req: HttpRequest,
    query: web::Query<LibraryQuery>,
    payload: web::Payload,
) -> ApiResult {
    require_csv(&req)?;
    // Read here rather than by the `Bytes` extractor, whose limit is the server's JSON one;
    // decoded first (gzip), so the limit holds for what is parsed.
    let stream = BodyStream::new(Decompress::from_headers(
        payload.into_inner(),
        req.headers(),
    ));
    let file = match body::to_bytes_limited(stream, import::MAX_BYTES).await {
        Ok(Ok(file)) => file,
        Ok(Err(_)) => return Err(ApiError::bad_request("could not read the request body")),
        Err(_) => {
            return Err(ApiError::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "the file is larger than 1 MiB",
            ));
        }
    };
    let summary = import::import(
        &state,
        Viewer::of(Some(&user)),
        query.into_inner().community_id,
        &file,
        &rid,
    )
    .await?;
    Ok(ok(summary))
}

/// `text/csv`, in UTF-8 when a charset is named. 400 rather than 415, as the kit answers a
/// JSON route's wrong type, so that clients need one branch for every unreadable body.
fn require_csv(req: &HttpRequest) -> Result<(), ApiError> {
    let mime = req.mime_type().ok().flatten();
    let Some(mime) = mime.filter(|m| m.type_() == "text" && m.subtype() == "csv") else {
        return Err(ApiError::bad_request("content type must be text/csv"));
    };
    match mime.get_param("charset") {
        Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => Err(
            ApiError::bad_request("the file must be UTF-8 (charset=utf-8)"),
        ),
        _ => Ok(()),
    }
}
