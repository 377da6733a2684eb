//! Routes that work without a token: sign-up, sign-in, refresh, codes, password reset,
//! e-mail verification and the JWKS.

use super::{Client, Ctx};
use crate::credentials::{self, Verified};
use crate::devices::DeviceInfo;
use crate::identifiers::{Identifier, normalize_email, normalize_phone};
use crate::login::{LoggedIn, LoginResponse};
use crate::otp::Purpose;
use crate::registration::{self, NewAccount};
use crate::sessions::Refreshed;
use crate::tokens::{self, TokenPair};
use actix_web::{HttpResponse, get, post};
use platform::http::envelope::{accepted, ok};
use platform::http::surface::Routes;
use platform::http::{ApiResult, ValidJson};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

pub fn routes(cfg: &mut Routes<'_>) {
    cfg.service(register)
        .service(login)
        .service(login_otp)
        .service(login_mfa)
        .service(refresh)
        .service(otp_send)
        .service(otp_verify)
        .service(verify_email)
        .service(forgot_password)
        .service(reset_password)
        .service(jwks);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRequest {
    #[validate(length(max = 254))]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// E.164, like `+14155550123`.
    #[validate(length(max = 32))]
    #[schema(max_length = 32)]
    pub phone: Option<String>,
    /// 12 to 128 characters; common and easily guessed passwords are refused.
    #[validate(length(max = 128))]
    // `crate::password::MIN_LEN`, checked in code, said here for clients.
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    /// `resident` (default), `community_manager` or `courier`.
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub role: Option<String>,
    #[validate(length(max = 32))]
    #[schema(max_length = 32)]
    pub referral_code: Option<String>,
}

const REGISTERED: &str =
    "registration received; if the address can be used, a verification message is on its way";

/// Creates an account. The answer is the same for a new and an already registered
/// identifier; the existing account's owner is notified instead.
#[utoipa::path(tag = "auth", request_body = RegisterRequest,
    responses((status = 202, description = "Registration accepted"),
              (status = 400, description = "Invalid input or weak password", body = platform::http::ErrorBody),
              (status = 429, description = "Too many attempts from this address")))]
#[post("/register")]
pub async fn register(state: Ctx, client: Client, body: ValidJson<RegisterRequest>) -> ApiResult {
    let body = body.into_inner();
    state.limits.check_ip("register", client.ip).await?;
    let email = body
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .map(|e| normalize_email(e, "email"))
        .transpose()?;
    let phone = body
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| normalize_phone(p, "phone"))
        .transpose()?;
    let new = NewAccount {
        email,
        phone,
        password: body.password,
        role: body.role,
        referral_code: body.referral_code,
    };
    registration::register(&state, new, &client.request_id).await?;
    Ok(accepted(REGISTERED))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// E-mail address or E.164 phone number.
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub identifier: String,
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub password: String,
    /// The app's stable id for this device; sessions and new-device alerts hang on it.
    #[validate(length(max = 128))]
    #[schema(max_length = 128)]
    pub device_id: Option<String>,
    #[validate(length(max = 128))]
    #[schema(max_length = 128)]
    pub device_name: Option<String>,
}

fn device(client: &Client, id: Option<String>, name: Option<String>) -> DeviceInfo {
    DeviceInfo::new(id, name, client.user_agent.clone(), client.ip)
}

/// Signs in with a password. Returns tokens, or an MFA challenge when 2FA is on.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Signed in, or MFA required", body = LoginResponse),
              (status = 401, description = "Invalid credentials (unknown account or wrong password alike)"),
              (status = 403, description = "Account suspended or device blocked"),
              (status = 429, description = "Locked after failed attempts, or rate limited")))]
#[post("/login")]
pub async fn login(state: Ctx, client: Client, body: ValidJson<LoginRequest>) -> ApiResult {
    let body = body.into_inner();
    let identifier = Identifier::parse(&body.identifier, "identifier")?;
    let device = device(&client, body.device_id, body.device_name);
    let result = crate::login::with_password(
        &state,
        &identifier,
        &body.password,
        device,
        &client.request_id,
    )
    .await;
    count_login("password", &result);
    Ok(ok(result?))
}

fn count_login(method: &'static str, result: &crate::error::Result<LoginResponse>) {
    let outcome = crate::login::outcome(result, |r| r.mfa_required);
    metrics::counter!("auth_logins_total", "method" => method, "outcome" => outcome).increment(1);
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtpLoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub identifier: String,
    /// The 6-digit code from `/otp/send` with purpose `login`.
    #[validate(length(min = 6, max = 6))]
    #[schema(min_length = 6, max_length = 6)]
    pub code: String,
    #[validate(length(max = 128))]
    #[schema(max_length = 128)]
    pub device_id: Option<String>,
    #[validate(length(max = 128))]
    #[schema(max_length = 128)]
    pub device_name: Option<String>,
}

/// Passwordless sign-in with a login code.
#[utoipa::path(tag = "auth", request_body = OtpLoginRequest,
    responses((status = 200, description = "Signed in, or MFA required", body = LoginResponse),
              (status = 400, description = "Invalid or expired code")))]
#[post("/login/otp")]
pub async fn login_otp(state: Ctx, client: Client, body: ValidJson<OtpLoginRequest>) -> ApiResult {
    let body = body.into_inner();
    let identifier = Identifier::parse(&body.identifier, "identifier")?;
    let device = device(&client, body.device_id, body.device_name);
    let result =
        crate::login::with_otp(&state, &identifier, &body.code, device, &client.request_id).await;
    count_login("otp", &result);
    Ok(ok(result?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaLoginRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub mfa_token: String,
    /// A current TOTP code...
    #[validate(length(min = 6, max = 6))]
    #[schema(min_length = 6, max_length = 6)]
    pub code: Option<String>,
    /// ...or one of the recovery codes (each works once).
    #[validate(length(min = 10, max = 16))]
    #[schema(min_length = 10, max_length = 16)]
    pub recovery_code: Option<String>,
}

/// The second step of a sign-in with 2FA.
#[utoipa::path(tag = "auth", request_body = MfaLoginRequest,
    responses((status = 200, description = "Signed in", body = LoggedIn),
              (status = 400, description = "Invalid code or expired challenge")))]
#[post("/login/mfa")]
pub async fn login_mfa(state: Ctx, client: Client, body: ValidJson<MfaLoginRequest>) -> ApiResult {
    let body = body.into_inner();
    if body.code.is_none() && body.recovery_code.is_none() {
        return Err(crate::error::Error::field(
            "code",
            "a TOTP code or a recovery code is required",
        )
        .into());
    }
    let result = crate::login::with_mfa(
        &state,
        &body.mfa_token,
        body.code.as_deref(),
        body.recovery_code.as_deref(),
        client.ip,
        &client.request_id,
    )
    .await;
    let outcome = crate::login::outcome(&result, |_| false);
    metrics::counter!("auth_logins_total", "method" => "mfa", "outcome" => outcome).increment(1);
    Ok(ok(result?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair; the presented token is spent. Presenting a
/// spent token again revokes the session.
#[utoipa::path(tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "New token pair", body = TokenPair),
              (status = 401, description = "Invalid, expired, revoked or reused refresh token")))]
#[post("/refresh")]
pub async fn refresh(state: Ctx, client: Client, body: ValidJson<RefreshRequest>) -> ApiResult {
    let token = body.into_inner().refresh_token;
    // Loaded first: once the rotation commits, the old token is spent, so nothing that can
    // fail may stand between the commit and the answer.
    let signer = state.keys.signer().await?;
    let result =
        crate::sessions::refresh(&state, &token, &client.ip.to_string(), &client.request_id).await;
    let outcome = match &result {
        Ok(Refreshed::Rotated { .. }) => "rotated",
        Ok(Refreshed::Reused { .. }) => "reused",
        Err(crate::error::Error::SessionExpired) => "invalid",
        Err(_) => "error",
    };
    metrics::counter!("auth_refreshes_total", "outcome" => outcome).increment(1);
    match result? {
        Refreshed::Rotated {
            user_id,
            session_id,
            refresh_token,
            expires_at,
            roles,
            perms,
        } => {
            let access = tokens::sign_with(&state, &signer, user_id, session_id, roles, perms)?;
            Ok(ok(tokens::pair(&state, access, refresh_token, expires_at)))
        }
        Refreshed::Reused { session_id } => {
            tracing::warn!(%session_id, "refresh token reused; session revoked");
            Err(crate::error::Error::SessionExpired.into())
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtpSendRequest {
    /// E-mail address (code by e-mail) or E.164 phone number (code by SMS).
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub identifier: String,
    pub purpose: Purpose,
}

const CODE_SENT: &str = "if the account exists, a code is on its way";

/// Sends a 6-digit code (valid 5 minutes, 3 attempts; at most 3 codes per 15 minutes).
#[utoipa::path(tag = "auth", request_body = OtpSendRequest,
    responses((status = 202, description = "Accepted (the same whether or not the account exists)"),
              (status = 429, description = "Too many codes for this identifier")))]
#[post("/otp/send")]
pub async fn otp_send(state: Ctx, client: Client, body: ValidJson<OtpSendRequest>) -> ApiResult {
    let body = body.into_inner();
    state.limits.check_ip("otp", client.ip).await?;
    let identifier = Identifier::parse(&body.identifier, "identifier")?;
    crate::otp::send(&state, &identifier, body.purpose, &client.request_id).await?;
    Ok(accepted(CODE_SENT))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtpVerifyRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub identifier: String,
    /// `verify_email`, `verify_phone` or `password_reset` (login codes go to `/login/otp`).
    pub purpose: Purpose,
    #[validate(length(min = 6, max = 6))]
    #[schema(min_length = 6, max_length = 6)]
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtpVerified {
    pub verified: bool,
    /// For `password_reset`: the token to send to `/password/reset` (30 minutes).
    pub reset_token: Option<String>,
}

/// Checks a code for verifying an e-mail or phone, or for a password reset.
#[utoipa::path(tag = "auth", request_body = OtpVerifyRequest,
    responses((status = 200, description = "Code accepted", body = OtpVerified),
              (status = 400, description = "Invalid, expired or exhausted code")))]
#[post("/otp/verify")]
pub async fn otp_verify(
    state: Ctx,
    client: Client,
    body: ValidJson<OtpVerifyRequest>,
) -> ApiResult {
    let body = body.into_inner();
    state.limits.check_ip("otp", client.ip).await?;
    let identifier = Identifier::parse(&body.identifier, "identifier")?;
    let verified = credentials::verify_code(
        &state,
        &identifier,
        body.purpose,
        &body.code,
        &client.request_id,
    )
    .await?;
    let reset_token = match verified {
        Verified::Identifier => None,
        Verified::ResetToken(t) => Some(t),
    };
    Ok(ok(OtpVerified {
        verified: true,
        reset_token,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct TokenRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub token: String,
}

/// Verifies an e-mail address with the token from the verification link.
#[utoipa::path(tag = "auth", request_body = TokenRequest,
    responses((status = 200, description = "Verified"),
              (status = 400, description = "Invalid or expired token")))]
#[post("/verify-email")]
pub async fn verify_email(state: Ctx, client: Client, body: ValidJson<TokenRequest>) -> ApiResult {
    registration::verify_email(&state, &body.into_inner().token, &client.request_id).await?;
    Ok(ok(serde_json::json!({ "verified": true })))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ForgotPasswordRequest {
    /// E-mail address (a link) or E.164 phone number (a code).
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub identifier: String,
}

const RESET_SENT: &str = "if the account exists, reset instructions are on their way";

/// Starts a password reset. Always the same 202, whether or not the account exists.
#[utoipa::path(tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 202, description = "Accepted")))]
#[post("/password/forgot")]
pub async fn forgot_password(
    state: Ctx,
    client: Client,
    body: ValidJson<ForgotPasswordRequest>,
) -> ApiResult {
    state.limits.check_ip("forgot", client.ip).await?;
    let identifier = Identifier::parse(&body.into_inner().identifier, "identifier")?;
    credentials::forgot_password(&state, &identifier, &client.request_id).await?;
    Ok(accepted(RESET_SENT))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub token: String,
    #[validate(length(max = 128))]
    // `crate::password::MIN_LEN`, checked in code, said here for clients.
    #[schema(min_length = 12, max_length = 128)]
    pub new_password: String,
}

/// Sets a new password with a reset token; every session of the account ends.
#[utoipa::path(tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 200, description = "Password changed"),
              (status = 400, description = "Invalid token or weak password")))]
#[post("/password/reset")]
pub async fn reset_password(
    state: Ctx,
    client: Client,
    body: ValidJson<ResetPasswordRequest>,
) -> ApiResult {
    let body = body.into_inner();
    credentials::reset_password(&state, &body.token, &body.new_password, &client.request_id)
        .await
        .map_err(|e| match e {
            crate::error::Error::Field { message, .. } => crate::error::Error::Field {
                field: "newPassword",
                message,
            },
            other => other,
        })?;
    Ok(ok(serde_json::json!({ "reset": true })))
}

/// The public keys access tokens are signed with (RFC 7517).
#[utoipa::path(tag = "auth",
    extensions(("x-raw-body" = json!(true))),
    responses((status = 200, description = "JSON Web Key Set")))]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: Ctx) -> ApiResult {
    let mut conn = platform::db::conn(&state.pool).await?;
    let doc = crate::keys::jwks(&mut conn).await?;
    // Short enough that a rotation reaches caches well before the old key is unpublished.
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "public, max-age=60"))
        .json(doc))
}
