//! The auth seed is the kit's permission catalogue (`platform::permissions::ALL`): the same
//! names with the same descriptions, each built in (undeletable, as code relies on it), and
//! granted as the role model says. Equality, not inclusion, both ways: a seeded permission
//! the catalogue lacks is one no handler can name, and a catalogue entry the seed lacks is
//! one a handler checks but nobody can hold (its endpoint answers 403 to everyone).

use diesel::QueryableByName;
use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::permissions::{ALL, ROLES_MANAGE};
use std::collections::BTreeMap;

#[derive(QueryableByName)]
struct Seeded {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    description: String,
    #[diesel(sql_type = Bool)]
    is_system: bool,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

async fn granted(conn: &mut AsyncPgConnection, role: &str) -> Vec<String> {
    diesel::sql_query(
        "SELECT p.name FROM permissions p \
         JOIN role_permissions rp ON rp.permission_id = p.id \
         JOIN roles r ON r.id = rp.role_id WHERE r.name = $1 ORDER BY p.name",
    )
    .bind::<Text, _>(role)
    .load::<Name>(conn)
    .await
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect()
}

#[tokio::test]
async fn the_seeded_permissions_are_the_catalogue() {
    let auth = crate::common::start().await;
    let mut conn = auth.pool.get().await.unwrap();
    let seeded: Vec<Seeded> =
        diesel::sql_query("SELECT name, description, is_system FROM permissions ORDER BY name")
            .load(&mut conn)
            .await
            .unwrap();

    let seed: BTreeMap<&str, &str> = seeded
        .iter()
        .map(|s| (s.name.as_str(), s.description.as_str()))
        .collect();
    let catalogue: BTreeMap<&str, &str> = ALL.iter().map(|p| (p.name, p.description)).collect();
    let only_seeded: Vec<_> = seed
        .keys()
        .filter(|n| !catalogue.contains_key(*n))
        .collect();
    let only_catalogued: Vec<_> = catalogue
        .keys()
        .filter(|n| !seed.contains_key(*n))
        .collect();
    assert!(
        only_seeded.is_empty() && only_catalogued.is_empty(),
        "seeded but not in platform::permissions::ALL: {only_seeded:?}; \
         in the catalogue but not seeded (add an auth migration): {only_catalogued:?}"
    );
    assert_eq!(seed, catalogue, "descriptions differ");
    let deletable: Vec<_> = seeded
        .iter()
        .filter(|s| !s.is_system)
        .map(|s| &s.name)
        .collect();
    assert!(
        deletable.is_empty(),
        "code relies on these, so they must be built in: {deletable:?}"
    );

    // super_admin's rows show every permission (it holds them all at token time anyway);
    // admin runs the platform: every management permission but roles.
    let every: Vec<String> = catalogue.keys().map(|n| (*n).to_owned()).collect();
    assert_eq!(granted(&mut conn, "super_admin").await, every);
    let admin = granted(&mut conn, "admin").await;
    let missing: Vec<_> = ALL
        .iter()
        .map(|p| p.name)
        .filter(|n| n.ends_with(".manage") && *n != ROLES_MANAGE)
        .filter(|n| !admin.iter().any(|a| a == n))
        .collect();
    assert!(missing.is_empty(), "admin lacks {missing:?}");
    assert!(!admin.iter().any(|a| a == ROLES_MANAGE));
}
