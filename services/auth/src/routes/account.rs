//! The caller's own account: profile of credentials, logout, sessions, devices, password,
//! e-mail and phone changes, and 2FA. Every route needs a valid access token; ids of
//! someone else's sessions or devices answer 404.

use super::{Client, Ctx};
use crate::accounts::{self, UserView};
use crate::error::Error;
use crate::identifiers::{normalize_email, normalize_phone};
use crate::mfa::{self, Setup};
use crate::sessions::{Scope, SessionView};
use crate::{credentials, registration};
use actix_web::{delete, get, post, put, web};
use diesel_async::AsyncConnection;
use diesel_async::scoped_futures::ScopedFutureExt;
use platform::auth::AuthUser;
use platform::http::envelope::ok;
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(me)
        .service(change_email)
        .service(change_phone)
        .service(logout)
        .service(logout_all)
        .service(resend_verification)
        .service(change_password)
        .service(sessions)
        .service(revoke_other_sessions)
        .service(revoke_session)
        .service(devices)
        .service(trust_device)
        .service(block_device)
        .service(unblock_device)
        .service(mfa_setup)
        .service(mfa_enable)
        .service(mfa_disable)
        .service(recovery_codes);
}

#[derive(Serialize, ToSchema)]
struct Done {
    done: bool,
}

fn done() -> actix_web::HttpResponse {
    ok(Done { done: true })
}

/// The caller's account.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "The account", body = UserView),
              (status = 401, description = "No or invalid token")))]
#[get("/me")]
pub async fn me(state: Ctx, user: AuthUser) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    let account = accounts::find(&mut conn, user.id())
        .await?
        .ok_or(Error::NotFound("user"))?;
    let roles = accounts::role_names(&mut conn, user.id()).await?;
    Ok(ok(UserView::new(&account, roles)))
}

async fn revoke_and_deny(
    state: &Ctx,
    scope: Scope,
    reason: &str,
    client: &Client,
) -> Result<usize, Error> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let rid = &client.request_id;
    let revoked = conn
        .transaction::<_, Error, _>(|conn| {
            async move { crate::sessions::revoke(conn, state, scope, reason, rid).await }
                .scope_boxed()
        })
        .await?;
    let ids: Vec<Uuid> = revoked.into_iter().map(|(s, _)| s).collect();
    crate::sessions::deny(state, &ids).await;
    Ok(ids.len())
}

/// Ends the current session; its access and refresh tokens stop working at once.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Signed out", body = Done)))]
#[post("/logout")]
pub async fn logout(state: Ctx, user: AuthUser, client: Client) -> ApiResult {
    let scope = Scope::One {
        user_id: user.id(),
        session_id: user.0.sid,
    };
    revoke_and_deny(&state, scope, "logout", &client).await?;
    Ok(done())
}

/// Ends every session of the account, this one included.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Signed out everywhere", body = Done)))]
#[post("/logout-all")]
pub async fn logout_all(state: Ctx, user: AuthUser, client: Client) -> ApiResult {
    revoke_and_deny(&state, Scope::All(user.id()), "logout_all", &client).await?;
    Ok(done())
}

/// Sends a new verification link to the account's unverified e-mail address.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Sent", body = Done),
              (status = 422, description = "No address, or already verified")))]
#[post("/verify-email/resend")]
pub async fn resend_verification(state: Ctx, user: AuthUser, client: Client) -> ApiResult {
    registration::resend_verification(&state, user.id(), &client.request_id).await?;
    Ok(done())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub current_password: String,
    #[validate(length(max = 128))]
    // `crate::password::MIN_LEN`, checked in code, said here for clients.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Changes the password; every other session ends.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "Changed", body = Done),
              (status = 400, description = "Wrong current password or weak new one")))]
#[post("/password/change")]
pub async fn change_password(
    state: Ctx,
    user: AuthUser,
    client: Client,
    body: ValidJson<ChangePasswordRequest>,
) -> ApiResult {
    let body = body.into_inner();
    credentials::change_password(
        &state,
        user.id(),
        user.0.sid,
        &body.current_password,
        &body.new_password,
        &client.request_id,
    )
    .await?;
    Ok(done())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangeEmailRequest {
    /// The account's password (re-authentication).
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
}

/// Changes the e-mail address; a verification link goes to the new one.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = ChangeEmailRequest,
    responses((status = 200, description = "Changed, verification pending", body = Done),
              (status = 400, description = "Wrong password, invalid or taken address")))]
#[put("/me/email")]
pub async fn change_email(
    state: Ctx,
    user: AuthUser,
    client: Client,
    body: ValidJson<ChangeEmailRequest>,
) -> ApiResult {
    let body = body.into_inner();
    let email = normalize_email(&body.email, "email")?;
    credentials::change_email(
        &state,
        user.id(),
        &body.password,
        &email,
        &client.request_id,
    )
    .await?;
    Ok(done())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ChangePhoneRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub phone: String,
}

/// Changes the phone number; a verification code goes to the new one.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = ChangePhoneRequest,
    responses((status = 200, description = "Changed, verification pending", body = Done),
              (status = 400, description = "Wrong password, invalid or taken number")))]
#[put("/me/phone")]
pub async fn change_phone(
    state: Ctx,
    user: AuthUser,
    client: Client,
    body: ValidJson<ChangePhoneRequest>,
) -> ApiResult {
    let body = body.into_inner();
    let phone = normalize_phone(&body.phone, "phone")?;
    credentials::change_phone(
        &state,
        user.id(),
        &body.password,
        &phone,
        &client.request_id,
    )
    .await?;
    Ok(done())
}

/// The account's live sessions, the current one marked.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Sessions", body = [SessionView])))]
#[get("/sessions")]
pub async fn sessions(state: Ctx, user: AuthUser) -> ApiResult {
    Ok(ok(
        crate::sessions::list(&state, user.id(), user.0.sid).await?
    ))
}

/// Ends one of the caller's sessions.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, description = "Revoked", body = Done),
              (status = 404, description = "No such live session of the caller")))]
#[delete("/sessions/{id}")]
pub async fn revoke_session(
    state: Ctx,
    user: AuthUser,
    client: Client,
    id: web::Path<Uuid>,
) -> ApiResult {
    let scope = Scope::One {
        user_id: user.id(),
        session_id: id.into_inner(),
    };
    if revoke_and_deny(&state, scope, "revoked_by_user", &client).await? == 0 {
        return Err(Error::NotFound("session").into());
    }
    Ok(done())
}

/// Ends every session but the current one.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Revoked")))]
#[post("/sessions/revoke-others")]
pub async fn revoke_other_sessions(state: Ctx, user: AuthUser, client: Client) -> ApiResult {
    let scope = Scope::AllExcept {
        user_id: user.id(),
        keep: user.0.sid,
    };
    let n = revoke_and_deny(&state, scope, "revoked_by_user", &client).await?;
    Ok(ok(serde_json::json!({ "revoked": n })))
}

/// Devices the account has signed in from.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    responses((status = 200, description = "Devices", body = [crate::devices::DeviceView])))]
#[get("/devices")]
pub async fn devices(state: Ctx, user: AuthUser) -> ApiResult {
    Ok(ok(crate::devices::list(&state, user.id()).await?))
}

/// Marks a device as trusted.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses((status = 200, description = "Trusted", body = Done), (status = 404, description = "Not the caller's device, or blocked")))]
#[post("/devices/{id}/trust")]
pub async fn trust_device(
    state: Ctx,
    user: AuthUser,
    client: Client,
    id: web::Path<Uuid>,
) -> ApiResult {
    crate::devices::trust(&state, user.id(), id.into_inner(), &client.request_id).await?;
    Ok(done())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct BlockDeviceRequest {
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Blocks a device: its sessions end and it cannot sign in until unblocked.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")), request_body = BlockDeviceRequest,
    responses((status = 200, description = "Blocked", body = Done), (status = 404, description = "Not the caller's device")))]
#[post("/devices/{id}/block")]
pub async fn block_device(
    state: Ctx,
    user: AuthUser,
    client: Client,
    id: web::Path<Uuid>,
    body: ValidJson<BlockDeviceRequest>,
) -> ApiResult {
    let reason = body.into_inner().reason.unwrap_or_default();
    crate::devices::block(
        &state,
        user.id(),
        id.into_inner(),
        &reason,
        &client.request_id,
    )
    .await?;
    Ok(done())
}

/// Lifts a block.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Device id")),
    responses((status = 200, description = "Unblocked", body = Done), (status = 404, description = "Not the caller's device")))]
#[post("/devices/{id}/unblock")]
pub async fn unblock_device(state: Ctx, user: AuthUser, id: web::Path<Uuid>) -> ApiResult {
    crate::devices::unblock(&state, user.id(), id.into_inner()).await?;
    Ok(done())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PasswordRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
}

/// Starts 2FA enrolment (needs the password): a secret to put into an authenticator.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = PasswordRequest,
    responses((status = 200, description = "Secret and otpauth URI", body = Setup),
              (status = 409, description = "Already enabled")))]
#[post("/2fa/setup")]
pub async fn mfa_setup(state: Ctx, user: AuthUser, body: ValidJson<PasswordRequest>) -> ApiResult {
    Ok(ok(mfa::setup(
        &state,
        user.id(),
        &body.into_inner().password,
    )
    .await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CodeRequest {
    #[validate(length(min = 6, max = 6))]
    #[schema(min_length = 6, max_length = 6)]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodes {
    /// Shown once; each works once in place of a TOTP code.
    pub recovery_codes: Vec<String>,
}

/// Turns 2FA on with a code from the authenticator; returns the recovery codes.
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = CodeRequest,
    responses((status = 200, description = "Enabled", body = RecoveryCodes),
              (status = 400, description = "Wrong code"),
              (status = 409, description = "2FA is on already"),
              (status = 422, description = "No setup started: start with /2fa/setup")))]
#[post("/2fa/enable")]
pub async fn mfa_enable(
    state: Ctx,
    user: AuthUser,
    client: Client,
    body: ValidJson<CodeRequest>,
) -> ApiResult {
    let codes = mfa::enable(
        &state,
        user.id(),
        &body.into_inner().code,
        &client.request_id,
    )
    .await?;
    Ok(ok(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisableMfaRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    #[validate(length(min = 6, max = 6))]
    #[schema(min_length = 6, max_length = 6)]
    pub code: Option<String>,
    #[validate(length(min = 10, max = 16))]
    #[schema(min_length = 10, max_length = 16)]
    pub recovery_code: Option<String>,
}

/// Turns 2FA off (needs the password and a TOTP or recovery code).
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = DisableMfaRequest,
    responses((status = 200, description = "Disabled", body = Done), (status = 400, description = "Wrong password or code")))]
#[post("/2fa/disable")]
pub async fn mfa_disable(
    state: Ctx,
    user: AuthUser,
    client: Client,
    body: ValidJson<DisableMfaRequest>,
) -> ApiResult {
    let b = body.into_inner();
    mfa::disable(
        &state,
        user.id(),
        &b.password,
        b.code.as_deref(),
        b.recovery_code.as_deref(),
        &client.request_id,
    )
    .await?;
    Ok(done())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RegenerateCodesRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    #[validate(length(min = 6, max = 6))]
    #[schema(min_length = 6, max_length = 6)]
    pub code: String,
}

/// Replaces the recovery codes (needs the password and a TOTP code).
#[utoipa::path(tag = "account", security(("bearer" = [])),
    request_body = RegenerateCodesRequest,
    responses((status = 200, description = "New codes", body = RecoveryCodes)))]
#[post("/2fa/recovery-codes")]
pub async fn recovery_codes(
    state: Ctx,
    user: AuthUser,
    body: ValidJson<RegenerateCodesRequest>,
) -> ApiResult {
    let b = body.into_inner();
    let codes = mfa::regenerate_recovery_codes(&state, user.id(), &b.password, &b.code).await?;
    Ok(ok(RecoveryCodes {
        recovery_codes: codes,
    }))
}
