//! The people this service has heard of, from auth and user events: a verified e-mail
//! (whose invite is whose) and the names to show. Sending never asks another service.

use crate::error::Result;
use crate::schema::people as p;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;
use uuid::Uuid;

/// "First Last" when the person gave a name, else their username, else nothing.
pub fn display_name(
    username: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Option<String> {
    let full = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if !full.is_empty() {
        return Some(full);
    }
    username
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

/// Display names of `ids` (absent for people not heard of yet or deleted).
pub async fn names(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> Result<HashMap<Uuid, String>> {
    type Names = (Uuid, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Names> = p::table
        .filter(p::user_id.eq_any(ids))
        .filter(p::deleted_at.is_null())
        .select((p::user_id, p::username, p::first_name, p::last_name))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, u, f, l)| {
            display_name(u.as_deref(), f.as_deref(), l.as_deref()).map(|n| (id, n))
        })
        .collect())
}

/// The caller's verified e-mail, lower-cased, if auth has said so.
pub async fn verified_email(conn: &mut AsyncPgConnection, user: Uuid) -> Result<Option<String>> {
    Ok(p::table
        .find(user)
        .filter(p::deleted_at.is_null())
        .select(p::verified_email)
        .first::<Option<String>>(conn)
        .await
        .optional()?
        .flatten())
}

/// The ids of (not deleted) people whose verified e-mail is one of `emails` (lower-cased).
pub async fn by_verified_email(
    conn: &mut AsyncPgConnection,
    emails: &[String],
) -> Result<HashMap<String, Uuid>> {
    let rows: Vec<(Uuid, Option<String>)> = p::table
        .filter(p::verified_email.eq_any(emails))
        .filter(p::deleted_at.is_null())
        .select((p::user_id, p::verified_email))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, e)| e.map(|e| (e, id)))
        .collect())
}

/// Records a proven e-mail (a later proof, after an address change, replaces it).
pub async fn set_verified_email(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    email: &str,
) -> Result<()> {
    let email = email.trim().to_lowercase();
    registered(conn, user).await?;
    // The address moved here from another account (auth allows it once the other gave it
    // up): the other no longer proves it.
    diesel::update(
        p::table
            .filter(p::verified_email.eq(&email))
            .filter(p::user_id.ne(user)),
    )
    .set((
        p::verified_email.eq(None::<String>),
        p::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    // A deleted person stays forgotten, whatever arrives late.
    diesel::update(p::table.find(user).filter(p::deleted_at.is_null()))
        .set((
            p::verified_email.eq(&email),
            p::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the names a person goes by (empty strings are "not given").
pub async fn set_names(
    conn: &mut AsyncPgConnection,
    user: Uuid,
    username: &str,
    first: Option<&str>,
    last: Option<&str>,
) -> Result<()> {
    let given = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let username = given(Some(username));
    let (first, last) = (given(first), given(last));
    registered(conn, user).await?;
    diesel::update(p::table.find(user).filter(p::deleted_at.is_null()))
        .set((
            p::username.eq(&username),
            p::first_name.eq(&first),
            p::last_name.eq(&last),
            p::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// A registration: the person exists (nothing verified, no names yet).
pub async fn registered(conn: &mut AsyncPgConnection, user: Uuid) -> Result<()> {
    diesel::insert_into(p::table)
        .values(p::user_id.eq(user))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets a deleted account's personal data; the row stays as a tombstone so a late
/// event cannot bring the data back.
pub async fn forget(conn: &mut AsyncPgConnection, user: Uuid) -> Result<()> {
    diesel::insert_into(p::table)
        .values((p::user_id.eq(user), p::deleted_at.eq(diesel::dsl::now)))
        .on_conflict(p::user_id)
        .do_update()
        .set((
            p::verified_email.eq(None::<String>),
            p::username.eq(None::<String>),
            p::first_name.eq(None::<String>),
            p::last_name.eq(None::<String>),
            p::deleted_at.eq(diesel::dsl::now),
            p::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn names_prefer_the_full_name() {
        assert_eq!(
            display_name(Some("ada"), Some("Ada"), Some("Lovelace")).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(
            display_name(Some("ada"), Some(" "), None).as_deref(),
            Some("ada")
        );
        assert_eq!(
            display_name(Some("ada"), None, Some("L")).as_deref(),
            Some("L")
        );
        assert_eq!(display_name(None, None, None), None);
        assert_eq!(display_name(Some(""), None, None), None);
    }
}
