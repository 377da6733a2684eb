//! Access tokens (EdDSA JWTs) and the token pair the API hands out.

use crate::error::Result;
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use jsonwebtoken::{Algorithm, Header};
use platform::auth::Claims;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    /// Opaque; present it once to `/refresh`, which returns the next one.
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// When the session ends unless refreshed (sliding, capped by the absolute expiry).
    pub refresh_expires_at: DateTime<Utc>,
}

/// Signs an access token for `user_id` in session `sid` with their current grants.
pub async fn access_token(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    sid: Uuid,
) -> Result<String> {
    let (roles, perms) = crate::accounts::grants(conn, user_id).await?;
    sign(state, user_id, sid, roles, perms).await
}

pub async fn sign(
    state: &State,
    user_id: Uuid,
    sid: Uuid,
    roles: Vec<String>,
    perms: Vec<String>,
) -> Result<String> {
    let signer = state.keys.signer().await?;
    sign_with(state, &signer, user_id, sid, roles, perms)
}

/// Signs with a key already loaded (cannot fail on storage).
pub fn sign_with(
    state: &State,
    signer: &crate::keys::Signer,
    user_id: Uuid,
    sid: Uuid,
    roles: Vec<String>,
    perms: Vec<String>,
) -> Result<String> {
    let policy = &state.config.tokens;
    let now = Utc::now().timestamp();
    let ttl = i64::try_from(policy.access_ttl.as_secs()).unwrap_or(900);
    let claims = Claims {
        sub: user_id,
        sid,
        roles,
        perms,
        iss: policy.issuer.clone(),
        aud: policy.audience.clone(),
        iat: now,
        exp: now + ttl,
        jti: Some(Uuid::now_v7()),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(signer.kid.clone());
    Ok(jsonwebtoken::encode(&header, &claims, &signer.key)
        .map_err(|e| anyhow::anyhow!("signing: {e}"))?)
}

pub fn pair(
    state: &State,
    access_token: String,
    refresh_token: String,
    refresh_expires_at: DateTime<Utc>,
) -> TokenPair {
    TokenPair {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.config.tokens.access_ttl.as_secs(),
        refresh_expires_at,
    }
}
