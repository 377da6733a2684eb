//! PostgreSQL access: a diesel-async pool on deadpool, the error mapping every service
//! shares, and embedded migrations run under an advisory lock.

use crate::config::{Dur, Flag, Secret, VarDoc, Vars};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Object, Pool, PoolError};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub use diesel_async::AsyncPgConnection as PgConn;

mod text_enum;
mod text_list;
#[doc(hidden)]
pub use text_enum::__private as __text_enum;
pub use text_enum::{TextEnum, UnknownVariant};
pub use text_list::TextList;

/// The pool every service uses.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection checked out of [`DbPool`].
pub type DbConn = Object<AsyncPgConnection>;

/// The kit's own tables (outbox, processed events); every service runs them first.
pub const KIT_MIGRATIONS: EmbeddedMigrations = diesel_migrations::embed_migrations!("migrations");

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "DATABASE_URL",
        default: None,
        doc: "PostgreSQL URL of the service's own database.",
    },
    VarDoc {
        name: "DATABASE_POOL_MAX_SIZE",
        default: Some("10"),
        doc: "Connections in the pool.",
    },
    VarDoc {
        name: "DATABASE_POOL_WAIT_TIMEOUT",
        default: Some("2s"),
        doc: "How long a request waits for a free connection before answering 503.",
    },
    VarDoc {
        name: "DATABASE_CONNECT_TIMEOUT",
        default: Some("5s"),
        doc: "How long opening a new connection may take.",
    },
    VarDoc {
        name: "DATABASE_STATEMENT_TIMEOUT",
        default: Some("10s"),
        doc: "Server-side `statement_timeout` set on every connection.",
    },
    VarDoc {
        name: "MIGRATE_ON_START",
        default: Some("false"),
        doc: "Run migrations at start (local runs). In production the `migrate` command runs them as a release step.",
    },
];

#[derive(Debug, Clone, Default)]
pub struct DbConfig {
    pub url: Secret<String>,
    pub max_size: usize,
    pub wait_timeout: Duration,
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub migrate_on_start: bool,
}

impl DbConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        let url: Secret<String> = v.required("DATABASE_URL");
        if !url.expose().is_empty() && !url.expose().starts_with("postgres") {
            v.problem("DATABASE_URL must be a postgres:// or postgresql:// URL");
        }
        Self {
            url,
            max_size: v.or("DATABASE_POOL_MAX_SIZE", 10),
            wait_timeout: v
                .or("DATABASE_POOL_WAIT_TIMEOUT", Dur(Duration::from_secs(2)))
                .0,
            connect_timeout: v
                .or("DATABASE_CONNECT_TIMEOUT", Dur(Duration::from_secs(5)))
                .0,
            statement_timeout: v
                .or("DATABASE_STATEMENT_TIMEOUT", Dur(Duration::from_secs(10)))
                .0,
            migrate_on_start: v.or("MIGRATE_ON_START", Flag(false)).0,
        }
    }

    /// A configuration with the defaults, for tools and tests.
    pub fn for_url(url: impl Into<String>) -> Self {
        Self {
            url: Secret::new(url.into()),
            max_size: 10,
            wait_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            migrate_on_start: false,
        }
    }
}

/// Storage errors as the rest of a service sees them.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("row not found")]
    NotFound,
    /// The pool is exhausted or the database is unreachable: a 503, worth retrying.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint was hit; the text is the constraint name, safe to branch on.
    #[error("unique violation on {0}")]
    UniqueViolation(String),
    /// An exclusion constraint was hit (SQLSTATE 23P01: two bookings of one item over
    /// overlapping dates); the text is the constraint name.
    #[error("exclusion violation on {0}")]
    ExclusionViolation(String),
    #[error(transparent)]
    Other(anyhow::Error),
}

impl DbError {
    /// True when retrying later may succeed (used by consumers to tell transient failures
    /// from poison messages).
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => DbError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                DbError::UniqueViolation(info.constraint_name().unwrap_or("unknown").to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                DbError::Unavailable("connection closed".into())
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                DbError::Unavailable("serialization failure, retry".into())
            }
            // diesel-async reports 23P01 as `Unknown`, with PostgreSQL's own message.
            DieselError::DatabaseError(_, ref info)
                if info.message().contains("violates exclusion constraint") =>
            {
                DbError::ExclusionViolation(info.constraint_name().unwrap_or("unknown").to_owned())
            }
            DieselError::DatabaseError(_, ref info) if is_unavailable_message(info.message()) => {
                DbError::Unavailable(info.message().to_owned())
            }
            other => DbError::Other(other.into()),
        }
    }
}

fn is_unavailable_message(message: &str) -> bool {
    // tokio-postgres reports a dropped socket as an "Unknown" error kind with these texts.
    let m = message.to_ascii_lowercase();
    m.contains("connection closed")
        || m.contains("broken pipe")
        || m.contains("connection reset")
        || m.contains("terminating connection")
        || m.contains("the database system is")
        // Contention and overload, not bad input: worth retrying, and a 503 to clients.
        || m.contains("canceling statement due to statement timeout")
        || m.contains("deadlock detected")
        || m.contains("could not obtain lock")
        || m.contains("lock timeout")
}

impl From<PoolError> for DbError {
    fn from(e: PoolError) -> Self {
        DbError::Unavailable(e.to_string())
    }
}

/// Builds the pool. Connections are opened lazily, so a service starts (and answers
/// `/health/live`) while its database is still coming up.
pub fn build_pool(config: &DbConfig, application_name: &str) -> anyhow::Result<DbPool> {
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new(config.url.expose().clone());
    // Quoted as a literal: the name comes from our code, but quoting keeps it a value.
    let setup = format!(
        "SET application_name = '{}'; SET statement_timeout = {}",
        application_name.replace('\'', ""),
        config.statement_timeout.as_millis()
    );
    let pool = Pool::builder(manager)
        .max_size(config.max_size)
        .wait_timeout(Some(config.wait_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .post_create(Hook::async_fn(
            move |conn: &mut AsyncPgConnection, _: &deadpool::managed::Metrics| {
                let setup = setup.clone();
                Box::pin(async move {
                    conn.batch_execute(&setup)
                        .await
                        .map_err(|e| HookError::message(format!("session setup failed: {e}")))
                })
            },
        ))
        .build()?;
    Ok(pool)
}

/// Checks out a connection, mapping pool errors to [`DbError::Unavailable`].
pub async fn conn(pool: &DbPool) -> Result<DbConn, DbError> {
    Ok(pool.get().await?)
}

/// Key of the advisory lock that serialises migration runs across replicas.
const MIGRATION_LOCK_KEY: i64 = 0x006d_6967_7261_7465; // "migrate" in ASCII

/// Runs the kit's migrations and then the service's, holding a session advisory lock so
/// that replicas starting together do not race. Returns the versions applied.
pub async fn run_migrations(
    url: &Secret<String>,
    service: EmbeddedMigrations,
) -> anyhow::Result<Vec<String>> {
    use diesel::RunQueryDsl as _;
    use diesel::connection::Connection as _;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;

    let url = url.expose().clone();
    // The harness is synchronous; the wrapper blocks on the async connection internally,
    // which must not happen on a runtime worker thread.
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn)?;
        let result = (|| -> anyhow::Result<Vec<String>> {
            let mut applied = Vec::new();
            for source in [KIT_MIGRATIONS, service] {
                let versions = conn
                    .run_pending_migrations(source)
                    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
                applied.extend(versions.into_iter().map(|v| v.to_string()));
            }
            Ok(applied)
        })();
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
            .execute(&mut conn)?;
        result
    })
    .await?
}

/// Reverts every migration of the service and then the kit's (used by the migration
/// round-trip test, never by a running service).
pub async fn revert_all_migrations(
    url: &Secret<String>,
    service: EmbeddedMigrations,
) -> anyhow::Result<()> {
    use diesel::connection::Connection as _;
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    let url = url.expose().clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)?;
        // Both sets share one history table, so each is reverted only while the newest
        // applied version is one of its own.
        for source in [service, KIT_MIGRATIONS] {
            let own =
                MigrationSource::<Pg>::migrations(&source).map_err(|e| anyhow::anyhow!("{e}"))?;
            loop {
                let applied = conn
                    .applied_migrations()
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let last = applied.iter().map(ToString::to_string).max();
                let Some(m) = own
                    .iter()
                    .find(|m| Some(m.name().version().to_string()) == last)
                else {
                    break;
                };
                conn.revert_migration(&**m)
                    .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
            }
        }
        Ok(())
    })
    .await?
}

/// An empty migration set, for tools that need only the kit's tables.
pub const NO_SERVICE_MIGRATIONS: EmbeddedMigrations = EmbeddedMigrations::new(&[]);

/// Liveness of the database for `/health/ready`: a pooled connection answers `SELECT 1`.
/// An `ILIKE` pattern matching values that contain `text` literally (its `%`, `_` and `\\`
/// lose their wildcard meaning).
pub fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Takes a transaction-scoped advisory lock on `key` (any text; hashed by PostgreSQL), held
/// until the caller's transaction ends. For serialising work on something that has no row
/// to lock yet (the first signing key, the codes sent to one address).
pub async fn advisory_xact_lock(conn: &mut AsyncPgConnection, key: &str) -> Result<(), DbError> {
    use diesel_async::RunQueryDsl;
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(key)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn ping(pool: &DbPool) -> Result<(), DbError> {
    let mut c = conn(pool).await?;
    c.batch_execute("SELECT 1").await.map_err(DbError::from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn patterns_match_wildcards_literally() {
        assert_eq!(super::contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(super::contains_pattern("oak"), "%oak%");
    }
}
