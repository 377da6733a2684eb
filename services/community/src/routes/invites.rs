//! Invites (the community's manager or an admin): one address, or up to 500 in one request
//! with a result per address; listing by status; revoking.

use super::Ctx;
use crate::access::Caller;
use crate::error::Error;
use crate::invites::{self, InviteView, MAX_BULK, Outcome, Row, Status};
use actix_web::http::StatusCode;
use actix_web::{get, post, web};
use platform::auth::AuthUser;
use platform::http::envelope::{created, ok, with_status};
use platform::http::pagination::{PageQuery, Paginated};
use platform::http::surface::Routes;
use platform::http::{ApiError, ApiResult, RequestId, ValidJson};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(invite)
        .service(list)
        .service(bulk)
        .service(revoke);
}

/// Invites one address to a community.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteResidentToCommunityRequest {
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    #[schema(example = "resident@example.com")]
    pub email: String,
    /// Optional: the community is the one in the path; when given, it must be the same.
    pub community_id: Option<Uuid>,
}

/// Invites an e-mail address. A new invite is 201; an active one for the address is sent
/// again (same token, same expiry) with 200, unless it was e-mailed less than
/// `COMMUNITY_RESEND_INTERVAL` ago (200, nothing sent, said in `message`).
#[utoipa::path(tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    request_body = InviteResidentToCommunityRequest,
    responses((status = 201, description = "Invited", body = InviteView),
        (status = 200, description = "The active invite, sent again", body = InviteView),
        (status = 400, description = "Not an e-mail address", body = platform::http::ErrorBody),
        (status = 403, description = "Not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 409, description = "The address belongs to a member", body = platform::http::ErrorBody)))]
#[post("/{id}/invites")]
pub async fn invite(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<InviteResidentToCommunityRequest>,
) -> ApiResult {
    let (id, body) = (id.into_inner(), body.into_inner());
    if body.community_id.is_some_and(|c| c != id) {
        return Err(Error::field("communityId", "must be the community of the path").into());
    }
    let rows = invites::invite(&state, id, Caller::of(&user), vec![body.email], &rid).await?;
    let row = rows
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no result for the address")))?;
    match (row.outcome, row.invite) {
        (Outcome::Invited, Some(view)) => Ok(created(view)),
        (Outcome::Resent, Some(view)) => Ok(ok(view)),
        (Outcome::RecentlySent, Some(view)) => Ok(with_status(
            StatusCode::OK,
            view,
            Some("this invite was e-mailed a moment ago; it was not sent again".into()),
        )),
        (Outcome::AlreadyMember, _) => Err(ApiError::conflict(
            "this address belongs to a member of the community already",
        )),
        _ => Err(Error::field("email", "must be an e-mail address").into()),
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkInviteRequest {
    /// 1 to 500 addresses; invalid ones and repeats are reported, not refused.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_items = 1, max_items = 500)]
    pub emails: Vec<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkCounts {
    pub invited: usize,
    pub resent: usize,
    pub recently_sent: usize,
    pub already_member: usize,
    pub invalid: usize,
    pub duplicate: usize,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkInviteResult {
    pub counts: BulkCounts,
    /// One per address sent, in the same order.
    pub results: Vec<Row>,
}

/// Invites up to 500 addresses at once, with a result per address (invited, resent,
/// recently_sent, already_member, invalid, duplicate). One transaction: either every address is handled
/// or (on a server error) none is, and repeating the request is safe.
#[utoipa::path(tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id")),
    request_body = BulkInviteRequest,
    responses((status = 200, description = "Per-address results", body = BulkInviteResult),
        (status = 400, description = "No addresses, or more than 500", body = platform::http::ErrorBody),
        (status = 403, description = "Not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[post("/{id}/invites/bulk")]
pub async fn bulk(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    id: web::Path<Uuid>,
    body: ValidJson<BulkInviteRequest>,
) -> ApiResult {
    let emails = body.into_inner().emails;
    debug_assert!(emails.len() <= MAX_BULK);
    let results = invites::invite(&state, id.into_inner(), Caller::of(&user), emails, &rid).await?;
    let mut counts = BulkCounts::default();
    for r in &results {
        *match r.outcome {
            Outcome::Invited => &mut counts.invited,
            Outcome::Resent => &mut counts.resent,
            Outcome::RecentlySent => &mut counts.recently_sent,
            Outcome::AlreadyMember => &mut counts.already_member,
            Outcome::Invalid => &mut counts.invalid,
            Outcome::Duplicate => &mut counts.duplicate,
        } += 1;
    }
    Ok(ok(BulkInviteResult { counts, results }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page number (default 1); `PageQuery::resolve` refuses 0.
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
    /// active, accepted, expired or revoked (default: all).
    // The enum itself, so the document lists the accepted values.
    #[param(inline)]
    pub status: Option<Status>,
}

/// A community's invites, newest first, optionally of one status.
#[utoipa::path(tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), ListQuery),
    responses((status = 200, description = "A page of invites", body = Paginated<InviteView>),
        (status = 403, description = "Not the manager", body = platform::http::ErrorBody),
        (status = 404, description = "Not found", body = platform::http::ErrorBody)))]
#[get("/{id}/invites")]
pub async fn list(
    state: Ctx,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<ListQuery>,
) -> ApiResult {
    let q = query.into_inner();
    let page = PageQuery {
        page: q.page,
        page_size: q.page_size,
    }
    .resolve()?;
    let result = invites::list(&state, id.into_inner(), Caller::of(&user), q.status, page).await?;
    Ok(ok(result))
}

/// Withdraws an active invite; its token stops working.
#[utoipa::path(tag = "invites", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Community id"), ("invite" = Uuid, Path, description = "Invite id")),
    responses((status = 200, description = "The revoked invite", body = InviteView),
        (status = 404, description = "Not found", body = platform::http::ErrorBody),
        (status = 409, description = "Already accepted, expired or revoked", body = platform::http::ErrorBody)))]
#[post("/{id}/invites/{invite}/revoke")]
pub async fn revoke(
    state: Ctx,
    user: AuthUser,
    rid: RequestId,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult {
    // Not `invite`: the handler of that name is a unit struct, which a binding would match.
    let (id, invite_id) = path.into_inner();
    Ok(ok(invites::revoke(
        &state,
        id,
        invite_id,
        Caller::of(&user),
        &rid,
    )
    .await?))
}
