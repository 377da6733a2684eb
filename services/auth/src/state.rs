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
                config.verify.redis_url.expose(),
                config.lockout.clone(),
                config.ip_limit_per_minute,
            )?,
            kek: config.kek.clone(),
            hasher,
            redis,
            pool,
            outbox,
            config: Arc::new(config),
        })
    }
}

/// Events about this service's aggregates go through the kit's one `emit`.
impl platform::kafka::outbox::Emits for State {
    const AGGREGATE: &'static str = "user";
    fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}
