//! Every `down.sql` undoes its `up.sql`: migrate, revert, migrate again, and compare the
//! catalogue before and after (test_support::schema_dump: tables, columns, constraints,
//! indexes, functions, triggers and the rest).

use platform::config::Secret;

/// Each of the kit's migrations, one at a time: applied, reverted (the schema must be the
/// one before it), applied again (the one after it).
#[tokio::test]
async fn kit_migrations_round_trip() {
    let checked = test_support::migrations_round_trip(Vec::new(), platform::db::KIT_MIGRATIONS)
        .await
        .unwrap();
    assert!(!checked.is_empty());
}

/// The kit's own runner and reverter, as `revert_all_migrations` is used by services'
/// tooling: all the way down leaves an empty schema, and a second run applies nothing.
#[tokio::test]
async fn migrations_revert_cleanly_and_reapply() {
    let db = test_support::TestDb::empty().await.unwrap();
    let empty = test_support::schema_dump(&db.url).await.unwrap();
    let url = Secret::new(db.url.clone());
    let applied = platform::db::run_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
        .await
        .unwrap();
    assert!(!applied.is_empty());
    let first = test_support::schema_dump(&db.url).await.unwrap();
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("column public.outbox #2 event_id uuid")),
        "{first:#?}"
    );

    platform::db::revert_all_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(test_support::schema_dump(&db.url).await.unwrap(), empty);

    platform::db::run_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(test_support::schema_dump(&db.url).await.unwrap(), first);
    // A second run applies nothing.
    assert!(
        platform::db::run_migrations(&url, platform::db::NO_SERVICE_MIGRATIONS)
            .await
            .unwrap()
            .is_empty()
    );
}
