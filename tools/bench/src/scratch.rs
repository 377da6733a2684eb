//! A database of its own for one benchmark run, dropped at the end, so a run never
//! touches a service's data and leaves nothing behind.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

pub struct ScratchDb {
    admin: AsyncPgConnection,
    name: String,
    pub url: String,
}

impl ScratchDb {
    /// Creates `<prefix>_<run id>` with the superuser from `DATABASE_ADMIN_URL` (the local
    /// stack's, by default).
    pub async fn create(prefix: &str, run_id: &str) -> anyhow::Result<Self> {
        let admin_url = std::env::var("DATABASE_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:55432/postgres".into());
        let name = format!("{prefix}_{run_id}");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        let mut admin = AsyncPgConnection::establish(&admin_url).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        Ok(Self { admin, name, url })
    }

    /// Drops the database, closing whatever still holds a connection to it.
    pub async fn drop(mut self) {
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await;
    }
}
