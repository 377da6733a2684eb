//! Connecting to Redis the same way everywhere: a reconnecting connection manager, and a
//! start-up that fails with a clear message instead of retrying forever when Redis is not
//! there.

use redis::aio::ConnectionManager;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn connect(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    match tokio::time::timeout(CONNECT_TIMEOUT, ConnectionManager::new(client)).await {
        Ok(conn) => Ok(conn?),
        Err(_) => anyhow::bail!(
            "Redis did not answer within {}s (is it running? check REDIS_URL)",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}
