//! Test helpers shared by every crate's integration tests.
//!
//! - [`TestDb`]: a fresh database per test, copied from a migrated template, dropped at
//!   the end, so tests run in parallel without seeing each other's rows.
//! - [`migrations_round_trip`]: every migration applied, reverted and applied again on a
//!   scratch database, the schema compared at each step ([`schema_dump`]).
//! - [`unique`]: names (topics, groups) no other test uses.
//! - [`BrokerProcess`] and [`PgProcess`]: private broker and PostgreSQL processes for the
//!   tests that stop and restart them.
//! - [`tokens::Ed25519Key`]: mints access tokens and serves their JWKS, in place of auth.
//!
//! Tests find the local stack through the same variables `scripts/stack env` prints, with
//! the stack's defaults when they are unset.

mod migrations;
mod process;
pub mod smtp;
pub mod tokens;

pub use migrations::{migrations_round_trip, schema_dump};
pub use process::{BrokerProcess, PgProcess, free_port};
pub use smtp::SmtpSink;

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use std::future::Future;

/// URL of a superuser connection to the test cluster's `postgres` database.
pub fn admin_url() -> String {
    std::env::var("DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:55432/postgres".into())
}

/// Bootstrap servers of the shared test broker.
pub fn kafka_bootstrap() -> String {
    std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:59092".into())
}

/// A name that is unique across test processes: `<prefix>.<uuid>`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::now_v7().simple())
}

fn url_for(db: &str) -> String {
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(b, _)| b)
        .to_owned();
    format!("{base}/{db}")
}

/// A fingerprint of a service's migrations and the kit's (every file's path and content),
/// for [`TestDb::from_template`]: the template is rebuilt whenever one of them changes.
/// `service_dir` is the service's `migrations` folder.
pub fn migrations_fingerprint(service_dir: &str) -> String {
    let kit = concat!(env!("CARGO_MANIFEST_DIR"), "/../platform/migrations");
    let mut files = Vec::new();
    for dir in [kit, service_dir] {
        collect_files(std::path::Path::new(dir), &mut files);
    }
    files.sort();
    files
        .iter()
        .map(|f| {
            let body = std::fs::read_to_string(f).unwrap_or_default();
            format!("{}:{body}", f.display())
        })
        .collect::<Vec<_>>()
        .join("|")
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A database of its own for one test; dropped (forcibly) when the value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Copies the template `<name>` (created and migrated by `migrate` on first use, by
    /// whichever test process gets there first) into a new database. `fingerprint` must
    /// change when the migrations change, so a stale template is never reused.
    pub async fn from_template<F, Fut>(
        name: &str,
        fingerprint: &str,
        migrate: F,
    ) -> anyhow::Result<Self>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let template = format!("tmpl_{name}_{:016x}", fnv(fingerprint));
        let mut admin = AsyncPgConnection::establish(&admin_url()).await?;
        // Serialise template creation across test processes; copying needs no lock.
        let lock = fnv(&template) as i64;
        admin
            .batch_execute(&format!("SELECT pg_advisory_lock({lock})"))
            .await?;
        let built = ensure_template(&mut admin, &template, migrate).await;
        admin
            .batch_execute(&format!("SELECT pg_advisory_unlock({lock})"))
            .await?;
        built?;

        let db = format!("t_{}", uuid::Uuid::now_v7().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE \"{db}\" TEMPLATE \"{template}\""))
            .await?;
        Ok(Self {
            url: url_for(&db),
            name: db,
        })
    }
}

impl TestDb {
    /// A new database with nothing in it (copied from `template1`, as `CREATE DATABASE`
    /// does by default).
    pub async fn empty() -> anyhow::Result<Self> {
        let mut admin = AsyncPgConnection::establish(&admin_url()).await?;
        let db = format!("t_{}", uuid::Uuid::now_v7().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE \"{db}\""))
            .await?;
        Ok(Self {
            url: url_for(&db),
            name: db,
        })
    }
}

async fn ensure_template<F, Fut>(
    admin: &mut AsyncPgConnection,
    template: &str,
    migrate: F,
) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(template)
            .get_result(admin)
            .await?;
    if found.exists {
        return Ok(());
    }
    // Built under another name and renamed when complete, so a crash mid-migration never
    // leaves a half-migrated template behind.
    let building = format!("{template}_building");
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
        ))
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE \"{building}\""))
        .await?;
    migrate(url_for(&building)).await?;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{template}\"; \
             ALTER DATABASE \"{template}\" WITH IS_TEMPLATE true"
        ))
        .await?;
    Ok(())
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any async context we could borrow; a short-lived runtime on its
        // own thread does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut admin) = AsyncPgConnection::establish(&admin_url()).await {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Installs a test log subscriber once (honours RUST_LOG; quiet by default).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// The stack's Redis, database 15: tests' counters (rate limits keyed by 127.0.0.1) and
/// deny-list entries stay away from database 0, where the services of the running stack
/// keep theirs.
pub fn redis_url() -> String {
    let base = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into());
    let server = match base.rsplit_once('/') {
        Some((head, db)) if !db.is_empty() && db.chars().all(|c| c.is_ascii_digit()) => head,
        _ => base.as_str(),
    };
    format!("{}/15", server.trim_end_matches('/'))
}

/// Polls `check` until it holds; panics after a minute naming `what`. For effects that
/// travel through the broker, never as a timing assertion.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}");
}
