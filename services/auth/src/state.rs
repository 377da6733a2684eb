//! What every handler and consumer shares.

use crate::config::AuthServiceConfig;
use crate::crypto::Kek;
use crate::keys::KeyStore;
use crate::limits::Limits;
use crate::password::Hasher;
use platform::db::DbPool;
use platform::kafka::outbox::Outbox;
use redis::aio::ConnectionManager;
use std::sync::Arc;

#[derive(Clone)]
pub struct State {
    pub pool: DbPool,
    pub outbox: Outbox,
    pub config: Arc<AuthServiceConfig>,
    pub kek: Kek,
    pub hasher: Hasher,
    pub keys: KeyStore,
    pub limits: Limits,
    pub redis: ConnectionManager,
}

impl State {
    pub async fn new(
        pool: DbPool,
        outbox: Outbox,
        config: AuthServiceConfig,
    ) -> anyhow::Result<Self> {
        let redis = platform::redis_conn::connect(config.verify.redis_url.expose()).await?;
        let hasher = Hasher::new(config.argon2, config.hashing_threads)?;
        Ok(Self {
            keys: KeyStore::new(pool.clone(), config.kek.clone()),
            limits: Limits::new(
                redis.clone(),
                config.lockout.clone(),
                config.ip_limit_per_minute,
            ),
            kek: config.kek.clone(),
            hasher,
            redis,
            pool,
            outbox,
            config: Arc::new(config),
        })
    }
}

impl State {
    /// Adds an event about `user_id` to the outbox, in the caller's transaction. Every auth
    /// event is keyed by the user, so one person's events stay in order.
    pub async fn emit<E: events::DomainEvent>(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        user_id: uuid::Uuid,
        event: &E,
        request_id: Option<&platform::http::RequestId>,
    ) -> Result<(), platform::db::DbError> {
        self.outbox
            .add(conn, "user", &user_id.to_string(), event, request_id)
            .await
            .map(|_| ())
    }
}
