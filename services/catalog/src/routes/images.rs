//! A tool's images: uploaded (multipart, field `file`) and arranged by the library's
//! manager and moderators, served to whoever may see the tool.

use super::Ctx;
use crate::access::Viewer;
use crate::error::Error;
use crate::images::{self, ImagePatch, ImageView, Size};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use futures::TryStreamExt;
use platform::auth::{AuthUser, MaybeAuthUser};
use platform::http::envelope::{created, ok};
use platform::http::surface::Routes;
use platform::http::{ApiError, ApiResult, ValidJson};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(upload)
        .service(list)
        .service(file)
        .service(update)
        .service(remove);
}

/// The upload form: one part named `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// JPEG, PNG or WebP.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Adds an image (JPEG, PNG or WebP): stored in three sizes, re-encoded, without the
/// original's metadata. The first image of a tool becomes its main one.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    responses((status = 201, description = "The image", body = ImageView),
        (status = 400, description = "Not an image, or no `file` part", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 413, description = "Larger than CATALOG_IMAGE_MAX_BYTES", body = platform::http::ErrorBody),
        (status = 422, description = "The tool has its 12 images (`too_many_images`)", body = platform::http::ErrorBody)))]
#[post("/tools/{id}/images")]
pub async fn upload(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    mut form: Multipart,
) -> ApiResult {
    let limit = state.image_max_bytes;
    let bad = |e: actix_multipart::MultipartError| {
        ApiError::bad_request(format!("a malformed upload: {e}"))
    };
    // Not `file`: the handler of that name is a unit struct.
    let mut upload_bytes: Option<Vec<u8>> = None;
    // The limit is for the whole form: other parts are read and dropped, but they count.
    let mut received = 0usize;
    while let Some(mut part) = form.try_next().await.map_err(bad)? {
        let is_file = part.name() == Some("file");
        let mut bytes = Vec::new();
        while let Some(chunk) = part.try_next().await.map_err(bad)? {
            received += chunk.len();
            if received > limit {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("an image may be at most {limit} bytes"),
                ));
            }
            if is_file {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            upload_bytes = Some(bytes);
        }
    }
    let bytes = upload_bytes
        .ok_or_else(|| Error::field("file", "send the image in a part named `file`"))?;
    let image = images::add(
        &state,
        Viewer::of(Some(&user)),
        id.into_inner(),
        bytes.into(),
    )
    .await?;
    Ok(created(image))
}

/// The tool's images, in order.
#[utoipa::path(tag = "images", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id")),
    responses((status = 200, description = "The images", body = Vec<ImageView>),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/images")]
pub async fn list(state: Ctx, user: MaybeAuthUser, id: web::Path<Uuid>) -> ApiResult {
    Ok(ok(images::list(
        &state,
        Viewer::of(user.as_ref()),
        id.into_inner(),
    )
    .await?))
}

/// One size of an image, as JPEG. Its URL never changes content (a new upload is a new
/// image), so it may be cached for good; members-only libraries' images privately.
#[utoipa::path(tag = "images", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("image" = Uuid, Path, description = "Image id"),
        ("size" = inline(Size), Path, description = "thumbnail, medium or large")),
    extensions(("x-raw-body" = json!(true))),
    responses((status = 200, description = "The picture", content_type = "image/jpeg"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/tools/{id}/images/{image}/{size}")]
pub async fn file(
    state: Ctx,
    req: HttpRequest,
    user: MaybeAuthUser,
    path: web::Path<(Uuid, Uuid, String)>,
) -> ApiResult {
    let (tool, image_id, size) = path.into_inner();
    let size: Size = size
        .parse()
        .map_err(|_| ApiError::not_found("image size"))?;
    // Content never changes for a URL: the image id and size are the version.
    let tag = format!("\"{image_id}-{}\"", size.as_str());
    let (bytes, public) =
        images::file(&state, Viewer::of(user.as_ref()), tool, image_id, size).await?;
    let control = if public {
        "public, max-age=31536000, immutable"
    } else {
        "private, max-age=31536000, immutable"
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|c| c.trim() == tag));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, control))
        .insert_header((header::VARY, "Authorization"));
    Ok(if fresh {
        res.finish()
    } else {
        res.content_type("image/jpeg").body(bytes)
    })
}

/// Makes an image the main one, or moves it.
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("image" = Uuid, Path, description = "Image id")),
    request_body = ImagePatch,
    responses((status = 200, description = "The image", body = ImageView),
        (status = 400, description = "Invalid fields", body = platform::http::ErrorBody),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[patch("/tools/{id}/images/{image}")]
pub async fn update(
    state: Ctx,
    user: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<ImagePatch>,
) -> ApiResult {
    let (tool, image_id) = path.into_inner();
    Ok(ok(images::update(
        &state,
        Viewer::of(Some(&user)),
        tool,
        image_id,
        body.into_inner(),
    )
    .await?))
}

/// Removes an image (and its files).
#[utoipa::path(tag = "images", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Tool id"), ("image" = Uuid, Path, description = "Image id")),
    responses((status = 200, description = "Deleted"),
        (status = 403, description = "Not the library's manager or a moderator", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[delete("/tools/{id}/images/{image}")]
pub async fn remove(state: Ctx, user: AuthUser, path: web::Path<(Uuid, Uuid)>) -> ApiResult {
    let (tool, image_id) = path.into_inner();
    images::delete(&state, Viewer::of(Some(&user)), tool, image_id).await?;
    Ok(ok(json!({ "deleted": true })))
}
