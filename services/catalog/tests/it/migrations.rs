//! Every `down.sql` of the service undoes its `up.sql` (after the kit's migrations):
//! each migration applied, reverted and applied again on a scratch database, the schema
//! compared at every step.

#[tokio::test]
async fn migrations_round_trip() {
    let checked = test_support::migrations_round_trip(
        vec![platform::db::KIT_MIGRATIONS],
        catalog::MIGRATIONS,
    )
    .await
    .unwrap();
    assert!(!checked.is_empty());
}
