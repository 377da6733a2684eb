//! Every `down.sql` undoes its `up.sql`: migrate, revert, migrate again, and compare the
//! catalogue before and after.

use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::config::Secret;

#[derive(QueryableByName, PartialEq, Eq, Debug)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    descr: String,
}

async fn shape(url: &str) -> Vec<String> {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(
        "SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable AS descr \
         FROM information_schema.columns WHERE table_schema = 'public' \
         UNION ALL SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
         ORDER BY 1",
    )
    .load::<Column>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|c| c.descr)
    .collect()
}

#[tokio::test]
async fn migrations_revert_cleanly_and_reapply() {
    let db = test_support::TestDb::from_template("empty", "empty-1", |_| async { Ok(()) })
        .await
        .unwrap();
    let url = Secret::new(db.url.clone());
    let applied = platform::db::run_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
        .await
        .unwrap();
    assert!(!applied.is_empty());
    let first = shape(&db.url).await;
    assert!(first.iter().any(|c| c.starts_with("outbox.event_id")));

    platform::db::revert_all_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
        .await
        .unwrap();
    let reverted = shape(&db.url).await;
    assert!(
        reverted
            .iter()
            .all(|c| c.contains("__diesel_schema_migrations")),
        "left behind after revert: {reverted:?}"
    );

    platform::db::run_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(shape(&db.url).await, first);
    // A second run applies nothing.
    assert!(
        platform::db::run_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
            .await
            .unwrap()
            .is_empty()
    );
}
