//! Signing keys: Ed25519, private halves encrypted at rest, one signing at a time.
//!
//! Rotation publishes a new key at once but lets it sign only after [`ACTIVATION_DELAY`],
//! so verifiers that fetched the JWKS moments before know it by the time they meet its
//! tokens. The old key signs until then and stays published until every token it may
//! have signed has expired (`publish_until`). Replicas reload the signing key every
//! [`RELOAD_EVERY`], which the publication window covers too.

use crate::crypto::Kek;
use crate::schema::signing_keys;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use ed25519_dalek::SigningKey;
use futures::future::BoxFuture;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::jwk::JwkSet;
use platform::db::{DbError, DbPool};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

pub const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// Longer than the JWKS `max-age` (60 s) plus a verifier's refetch rate limit (10 s).
pub const ACTIVATION_DELAY: Duration = Duration::from_secs(75);

#[derive(Queryable, Selectable)]
#[diesel(table_name = signing_keys)]
struct KeyRow {
    kid: String,
    public_key: Vec<u8>,
    private_key_enc: Vec<u8>,
    created_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
    publish_until: Option<DateTime<Utc>>,
}

/// A published key, as `keys list` shows it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    pub publish_until: Option<DateTime<Utc>>,
}

fn context(kid: &str) -> String {
    format!("signing_keys/{kid}")
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
fn pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

async fn insert_new_key(
    conn: &mut AsyncPgConnection,
    kek: &Kek,
    activates_at: DateTime<Utc>,
) -> Result<String, DbError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| DbError::Other(anyhow::anyhow!("rng: {e}")))?;
    let signing = SigningKey::from_bytes(&seed);
    let kid = format!("k{}", Utc::now().format("%Y%m%d%H%M%S%3f"));
    let enc = kek.encrypt(&seed, &context(&kid)).map_err(DbError::Other)?;
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&kid),
            signing_keys::public_key.eq(signing.verifying_key().to_bytes().to_vec()),
            signing_keys::private_key_enc.eq(enc),
            signing_keys::activates_at.eq(activates_at),
        ))
        .execute(conn)
        .await?;
    Ok(kid)
}

/// Serialises key changes across replicas and the `keys` command.
async fn lock(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    platform::db::advisory_xact_lock(conn, "auth.signing_keys").await
}

/// Creates the first key when there is none (first start of a fresh database).
pub async fn ensure_active(conn: &mut AsyncPgConnection, kek: &Kek) -> Result<(), DbError> {
    let kek = kek.clone();
    conn.transaction::<_, DbError, _>(|conn| {
        Box::pin(async move {
            lock(conn).await?;
            let active: i64 = signing_keys::table
                .filter(signing_keys::retired_at.is_null())
                .count()
                .get_result(conn)
                .await?;
            if active == 0 {
                let kid = insert_new_key(conn, &kek, Utc::now()).await?;
                tracing::info!(kid, "created the first signing key");
            }
            Ok(())
        })
    })
    .await
}

/// Publishes a new key that signs from `activate_after` on; the current one signs until
/// then and stays published for `publish_for` after that.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    kek: &Kek,
    publish_for: Duration,
    activate_after: Duration,
) -> Result<String, DbError> {
    let kek = kek.clone();
    let dur = |d: Duration| chrono::Duration::from_std(d).map_err(|e| DbError::Other(e.into()));
    let activates_at = Utc::now() + dur(activate_after)?;
    let until = activates_at + dur(publish_for + RELOAD_EVERY)?;
    conn.transaction::<_, DbError, _>(|conn| {
        Box::pin(async move {
            lock(conn).await?;
            diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
                .set((
                    signing_keys::retired_at.eq(activates_at),
                    signing_keys::publish_until.eq(until),
                ))
                .execute(conn)
                .await?;
            insert_new_key(conn, &kek, activates_at).await
        })
    })
    .await
}

/// Keys still published, newest first.
async fn published(conn: &mut AsyncPgConnection) -> Result<Vec<KeyRow>, DbError> {
    Ok(signing_keys::table
        .filter(
            signing_keys::retired_at
                .is_null()
                .or(signing_keys::publish_until.gt(diesel::dsl::now)),
        )
        .order(signing_keys::created_at.desc())
        .select(KeyRow::as_select())
        .load(conn)
        .await?)
}

pub async fn list(conn: &mut AsyncPgConnection) -> Result<Vec<KeyInfo>, DbError> {
    Ok(published(conn)
        .await?
        .into_iter()
        .map(|k| KeyInfo {
            kid: k.kid,
            created_at: k.created_at,
            retired_at: k.retired_at,
            publish_until: k.publish_until,
        })
        .collect())
}

/// The JWKS document (RFC 7517, OKP keys of RFC 8037).
pub async fn jwks(conn: &mut AsyncPgConnection) -> Result<Value, DbError> {
    let keys: Vec<Value> = published(conn)
        .await?
        .iter()
        .map(|k| {
            json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": k.kid,
                "x": URL_SAFE_NO_PAD.encode(&k.public_key),
            })
        })
        .collect();
    Ok(json!({ "keys": keys }))
}

/// The key tokens are signed with now.
#[derive(Clone)]
pub struct Signer {
    pub kid: String,
    pub key: EncodingKey,
}

struct Cached {
    signer: Signer,
    loaded_at: Instant,
}

/// The signing key, cached and reloaded every [`RELOAD_EVERY`].
#[derive(Clone)]
pub struct KeyStore {
    pool: DbPool,
    kek: Kek,
    current: Arc<RwLock<Option<Cached>>>,
}

impl KeyStore {
    pub fn new(pool: DbPool, kek: Kek) -> Self {
        Self {
            pool,
            kek,
            current: Arc::new(RwLock::new(None)),
        }
    }

    pub async fn signer(&self) -> Result<Signer, DbError> {
        if let Some(c) = self.current.read().await.as_ref()
            && c.loaded_at.elapsed() < RELOAD_EVERY
        {
            return Ok(c.signer.clone());
        }
        let mut slot = self.current.write().await;
        if let Some(c) = slot.as_ref()
            && c.loaded_at.elapsed() < RELOAD_EVERY
        {
            return Ok(c.signer.clone());
        }
        let mut conn = platform::db::conn(&self.pool).await?;
        let row: KeyRow = signing_keys::table
            .filter(signing_keys::activates_at.le(diesel::dsl::now))
            // A key replaced before it ever activated never signs.
            .filter(
                signing_keys::retired_at
                    .is_null()
                    .or(signing_keys::retired_at.gt(diesel::dsl::now)),
            )
            .order(signing_keys::activates_at.desc())
            .select(KeyRow::as_select())
            .first(&mut conn)
            .await?;
        let seed = self
            .kek
            .decrypt(&row.private_key_enc, &context(&row.kid))
            .map_err(DbError::Other)?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| DbError::Other(anyhow::anyhow!("stored key has the wrong length")))?;
        let signer = Signer {
            kid: row.kid,
            key: EncodingKey::from_ed_der(&pkcs8(&seed)),
        };
        *slot = Some(Cached {
            signer: signer.clone(),
            loaded_at: Instant::now(),
        });
        Ok(signer)
    }
}

/// The auth service verifies its own tokens from the database, not over HTTP to itself.
pub struct LocalKeys(pub DbPool);

impl platform::auth::KeySource for LocalKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        Box::pin(async move {
            let mut conn = platform::db::conn(&self.0).await?;
            let doc = jwks(&mut conn).await?;
            Ok(serde_json::from_value(doc)?)
        })
    }
}
