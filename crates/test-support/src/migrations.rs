//! Every `down.sql` undoes its `up.sql`: [`migrations_round_trip`] applies a set of
//! migrations one at a time, reverts them one at a time, applies them again, and compares
//! the database's schema ([`schema_dump`]) at every step with what it was at the same
//! point before.
//!
//! The schema is read from the catalogue rather than with `pg_dump --schema-only`: the
//! output stays the same across client versions (pg_dump's header, `\restrict` keys and
//! ordering change between releases) and no PostgreSQL binaries need to be found.

use crate::TestDb;
use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

type SyncConn = AsyncConnectionWrapper<AsyncPgConnection>;

/// One line per schema object, each with everything that defines it, sorted. Objects:
/// schemas, tables, views, sequences and composite types (persistence, row security,
/// storage options, privileges, partitioning, comments), columns (position among the
/// live ones, type, nullability, default, identity, generation, collation, comment),
/// constraints, indexes, views' queries, sequences' parameters and owners, enum, domain
/// and range types, functions and procedures (full definitions), triggers (and whether
/// enabled), rules, policies, extensions, event triggers and default privileges. Column
/// positions are counted over live columns so a dropped and re-added last column reads
/// the same; anything an extension owns is left to its `extension` line; diesel's own
/// history table is left out (it appears with the first migration and stays).
const DUMP_SQL: &str = r#"
WITH ns AS (
    SELECT oid, nspname, nspacl FROM pg_namespace
     WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast')
       AND nspname NOT LIKE 'pg\_temp\_%' AND nspname NOT LIKE 'pg\_toast\_temp\_%'
),
ext AS (
    SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
),
rel AS (
    SELECT c.oid, c.relname, c.relkind, ns.nspname, c.relpersistence, c.relrowsecurity,
           c.relforcerowsecurity, c.reloptions, c.relacl, c.relpartbound
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
       AND c.relname <> '__diesel_schema_migrations'
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
)
SELECT line FROM (
    SELECT format('schema %I acl=%s', nspname, coalesce(nspacl::text, '')) AS line FROM ns
    UNION ALL
    SELECT format('relation %I.%I kind=%s persistence=%s rls=%s/%s options=%s acl=%s bound=%s comment=%s',
                  nspname, relname, relkind, relpersistence, relrowsecurity, relforcerowsecurity,
                  coalesce(reloptions::text, ''), coalesce(relacl::text, ''),
                  coalesce(pg_get_expr(relpartbound, oid), ''),
                  coalesce(quote_literal(obj_description(oid, 'pg_class')), ''))
      FROM rel
    UNION ALL
    SELECT format('partition key %I.%I %s', nspname, relname, pg_get_partkeydef(oid))
      FROM rel WHERE relkind = 'p'
    UNION ALL
    SELECT format('column %I.%I #%s %I %s%s%s%s%s%s%s', r.nspname, r.relname,
                  row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
                  a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                  coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
                  CASE a.attidentity WHEN 'a' THEN ' identity always'
                                     WHEN 'd' THEN ' identity by default' ELSE '' END,
                  CASE a.attgenerated WHEN 's' THEN ' generated stored'
                                      WHEN 'v' THEN ' generated virtual' ELSE '' END,
                  CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                       THEN ' collate ' || co.collname ELSE '' END,
                  coalesce(' comment ' || quote_literal(col_description(a.attrelid, a.attnum)), ''))
      FROM pg_attribute a
      JOIN rel r ON r.oid = a.attrelid AND r.relkind <> 'S'
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('constraint %s %I %s',
                  CASE WHEN con.conrelid <> 0 THEN con.conrelid::regclass::text
                       ELSE con.contypid::regtype::text END,
                  con.conname, pg_get_constraintdef(con.oid))
      FROM pg_constraint con JOIN ns ON ns.oid = con.connamespace
     WHERE NOT EXISTS (SELECT 1 FROM pg_class c
                        WHERE c.oid = con.conrelid AND c.relname = '__diesel_schema_migrations')
    UNION ALL
    SELECT format('index %I.%I %s%s', r.nspname, i.relname, pg_get_indexdef(i.oid),
                  CASE WHEN x.indisclustered THEN ' clustered' ELSE '' END)
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN rel r ON r.oid = x.indrelid
    UNION ALL
    SELECT format('view %I.%I %s', nspname, relname, pg_get_viewdef(oid))
      FROM rel WHERE relkind IN ('v', 'm')
    UNION ALL
    SELECT format('sequence %I.%I %s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',
                  r.nspname, r.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
                  s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
                  coalesce(dep.refobjid::regclass::text || '.' || quote_ident(oa.attname), ''))
      FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid
      LEFT JOIN pg_depend dep ON dep.classid = 'pg_class'::regclass AND dep.objid = s.seqrelid
            AND dep.refclassid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
            AND dep.refobjsubid > 0
      LEFT JOIN pg_attribute oa ON oa.attrelid = dep.refobjid AND oa.attnum = dep.refobjsubid
    UNION ALL
    SELECT format('type %I.%I %s %s', ns.nspname, t.typname, t.typtype,
                  CASE t.typtype
                      WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                       FROM pg_enum e WHERE e.enumtypid = t.oid)
                      WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod)
                                    || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                                    || coalesce(' default ' || t.typdefault, '')
                      WHEN 'r' THEN (SELECT format_type(rg.rngsubtype, NULL) FROM pg_range rg
                                      WHERE rg.rngtypid = t.oid)
                      ELSE '' END)
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
     WHERE (t.typtype IN ('e', 'd', 'r')
            OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c
                                             WHERE c.oid = t.typrelid AND c.relkind = 'c')))
       AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
    UNION ALL
    SELECT format('function %s acl=%s', CASE WHEN p.prokind = 'a'
                                             THEN 'aggregate ' || p.oid::regprocedure::text
                                             ELSE pg_get_functiondef(p.oid) END,
                  coalesce(p.proacl::text, ''))
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
     WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)
    UNION ALL
    SELECT format('trigger %s enabled=%s', pg_get_triggerdef(tg.oid), tg.tgenabled)
      FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid
     WHERE NOT tg.tgisinternal
    UNION ALL
    SELECT format('rule %I.%I %s', ru.schemaname, ru.tablename, ru.definition)
      FROM pg_rules ru JOIN ns ON ns.nspname = ru.schemaname
    UNION ALL
    SELECT format('policy %I.%I %I %s %s roles=%s using=%s check=%s', po.schemaname, po.tablename,
                  po.policyname, po.permissive, po.cmd, po.roles::text,
                  coalesce(po.qual, ''), coalesce(po.with_check, ''))
      FROM pg_policies po JOIN ns ON ns.nspname = po.schemaname
    UNION ALL
    SELECT format('extension %I', extname) FROM pg_extension
    UNION ALL
    SELECT format('event trigger %I on %s calls %s enabled=%s tags=%s', evtname, evtevent,
                  evtfoid::regproc::text, evtenabled, coalesce(evttags::text, ''))
      FROM pg_event_trigger
    UNION ALL
    SELECT format('default acl %s in %s for %s: %s', defaclrole::regrole::text,
                  CASE WHEN defaclnamespace = 0 THEN '*' ELSE defaclnamespace::regnamespace::text END,
                  defaclobjtype, defaclacl::text)
      FROM pg_default_acl
) dump
ORDER BY line COLLATE "C"
"#;

/// `revert_last_migration` takes its source by value, and embedded migrations are not
/// `Copy`: this lends them for one call.
struct Borrowed<'a>(&'a EmbeddedMigrations);

impl MigrationSource<Pg> for Borrowed<'_> {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<Pg>>>> {
        MigrationSource::<Pg>::migrations(self.0)
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

fn dump(conn: &mut SyncConn) -> anyhow::Result<Vec<String>> {
    Ok(diesel::sql_query(DUMP_SQL)
        .load::<Line>(conn)?
        .into_iter()
        .map(|l| l.line)
        .collect())
}

/// The schema of the database at `url`, one sorted line per object (see [`DUMP_SQL`]).
pub async fn schema_dump(url: &str) -> anyhow::Result<Vec<String>> {
    let url = url.to_owned();
    // The wrapper blocks on the async connection, which must not happen on a runtime
    // worker thread (as in platform::db::run_migrations).
    tokio::task::spawn_blocking(move || dump(&mut SyncConn::establish(&url)?)).await?
}

/// What differs between two dumps: `-` lines only in `expected`, `+` only in `actual`.
fn difference(expected: &[String], actual: &[String]) -> Option<String> {
    let mut out = String::new();
    for line in expected.iter().filter(|l| !actual.contains(l)) {
        out.push_str(&format!("  - {line}\n"));
    }
    for line in actual.iter().filter(|l| !expected.contains(l)) {
        out.push_str(&format!("  + {line}\n"));
    }
    (!out.is_empty() || expected != actual).then(|| {
        if out.is_empty() {
            // Same lines, different counts (an object now there twice or once less).
            format!("  expected {expected:#?}\n  found {actual:#?}\n")
        } else {
            out
        }
    })
}

fn same(
    expected: &[String],
    actual: &[String],
    what: impl FnOnce() -> String,
) -> anyhow::Result<()> {
    match difference(expected, actual) {
        None => Ok(()),
        Some(diff) => Err(anyhow::anyhow!(
            "{}: the schema differs (- expected, + found):\n{diff}",
            what()
        )),
    }
}

/// On a fresh scratch database: applies `applied_first` (the kit's migrations, for a
/// service), then every migration of `under_test` one at a time, dumping the schema after
/// each; reverts them one at a time with diesel's `revert_last_migration`, checking that
/// each revert restores the schema from before that migration; then applies them one at a
/// time again, checking each step reproduces the first pass. Returns the names of the
/// migrations checked, oldest first. An error names the migration and shows the diff.
pub async fn migrations_round_trip(
    applied_first: Vec<EmbeddedMigrations>,
    under_test: EmbeddedMigrations,
) -> anyhow::Result<Vec<String>> {
    let db = TestDb::empty().await?;
    let url = db.url.clone();
    let checked = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
        let mut conn = SyncConn::establish(&url)?;
        let harness = |e: Box<dyn std::error::Error + Send + Sync>| anyhow::anyhow!("{e}");
        // Creates diesel's history table, which `run_migration` expects to exist.
        conn.applied_migrations().map_err(harness)?;
        for set in applied_first {
            conn.run_pending_migrations(set).map_err(harness)?;
        }
        let mut migrations = MigrationSource::<Pg>::migrations(&under_test).map_err(harness)?;
        migrations.sort_by_key(|m| m.name().version().as_owned());
        let names: Vec<String> = migrations.iter().map(|m| m.name().to_string()).collect();

        // shapes[i]: the schema with the first i migrations applied.
        let mut shapes = vec![dump(&mut conn)?];
        for (m, name) in migrations.iter().zip(&names) {
            conn.run_migration(&**m)
                .map_err(|e| anyhow::anyhow!("applying {name}: {e}"))?;
            shapes.push(dump(&mut conn)?);
        }

        for (i, name) in names.iter().enumerate().rev() {
            let reverted = conn
                .revert_last_migration(Borrowed(&under_test))
                .map_err(|e| anyhow::anyhow!("reverting {name}: {e}"))?;
            anyhow::ensure!(
                reverted == migrations[i].name().version(),
                "reverting {name}: diesel reverted {reverted} instead"
            );
            same(&shapes[i], &dump(&mut conn)?, || {
                format!("after reverting {name} (its down.sql), compared with before its up.sql")
            })?;
        }

        for (i, (m, name)) in migrations.iter().zip(&names).enumerate() {
            conn.run_migration(&**m)
                .map_err(|e| anyhow::anyhow!("applying {name} again after its down.sql: {e}"))?;
            same(&shapes[i + 1], &dump(&mut conn)?, || {
                format!("after applying {name} again, compared with its first application")
            })?;
        }
        Ok(names)
    })
    .await??;
    drop(db);
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn differences_name_both_sides() {
        let a = vec!["index a".to_owned(), "table t".to_owned()];
        let b = vec!["index b".to_owned(), "table t".to_owned()];
        assert_eq!(difference(&a, &a), None);
        assert_eq!(
            difference(&a, &b).as_deref(),
            Some("  - index a\n  + index b\n")
        );
        let twice = vec!["table t".to_owned(), "table t".to_owned()];
        assert!(difference(&twice[..1], &twice).is_some());
    }
}
