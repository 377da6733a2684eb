//! Account lifecycle: pending -> active -> suspended / banned -> reinstated, and deletion.
//! Every decision is an event the auth service acts on (revoke sessions, refuse login);
//! a suspension with an end date is lifted by [`lift_expired`], which several replicas
//! may run at once (`FOR UPDATE SKIP LOCKED`).

use crate::error::{Error, Result};
use crate::profiles::{self, Profile, ProfileView};
use crate::schema::{addresses, profiles as p};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::user::v1 as ev;
use platform::http::RequestId;
use platform::http::pagination::{Page, Paginated};
use uuid::Uuid;

/// Whether `from -> to` is allowed.
pub fn allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("pending", "active" | "suspended" | "banned" | "deleted")
            | ("active", "suspended" | "banned" | "deleted")
            | ("suspended", "active" | "suspended" | "banned" | "deleted")
            | ("banned", "active" | "deleted")
    )
}

/// Moves `user_id` to `to`, checking the transition under the row lock. Suspending or
/// banning remembers the state it interrupts; reinstating (`to == "active"` from a
/// suspension or ban) returns to it.
async fn transition(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    to: &str,
    reason: Option<&str>,
    until: Option<DateTime<Utc>>,
) -> Result<Profile> {
    let (status, before): (String, Option<String>) = p::table
        .find(user_id)
        .select((p::status, p::status_before))
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("user"))?;
    if !allowed(&status, to) {
        return Err(Error::Rule(format!(
            "a {status} account cannot become {to}"
        )));
    }
    let interrupted = matches!(status.as_str(), "suspended" | "banned");
    let (to, before) = match to {
        "suspended" | "banned" if interrupted => (to.to_owned(), before),
        "suspended" | "banned" => (to.to_owned(), Some(status.clone())),
        "active" if interrupted => (before.unwrap_or_else(|| "active".into()), None),
        other => (other.to_owned(), None),
    };
    diesel::update(p::table.find(user_id))
        .set((
            p::status.eq(&to),
            p::status_before.eq(before),
            p::status_reason.eq(reason),
            p::suspended_until.eq(until),
            p::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    profiles::get(conn, user_id)
        .await?
        .ok_or(Error::NotFound("user"))
}

pub async fn suspend(
    state: &State,
    user_id: Uuid,
    reason: &str,
    until: Option<DateTime<Utc>>,
    rid: &RequestId,
) -> Result<ProfileView> {
    if until.is_some_and(|u| u <= Utc::now()) {
        return Err(Error::field("until", "must be in the future"));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let profile = transition(conn, user_id, "suspended", Some(reason), until).await?;
            let event = ev::UserSuspended {
                user_id: user_id.to_string(),
                reason: reason.to_owned(),
                until: until.map(events::timestamp),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(profile.into())
        }
        .scope_boxed()
    })
    .await
}

pub async fn ban(
    state: &State,
    user_id: Uuid,
    reason: &str,
    rid: &RequestId,
) -> Result<ProfileView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let profile = transition(conn, user_id, "banned", Some(reason), None).await?;
            let event = ev::UserBanned {
                user_id: user_id.to_string(),
                reason: reason.to_owned(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(profile.into())
        }
        .scope_boxed()
    })
    .await
}

async fn reinstate_in(
    conn: &mut AsyncPgConnection,
    state: &State,
    user_id: Uuid,
    rid: &RequestId,
) -> Result<Profile> {
    let status: String = p::table
        .find(user_id)
        .select(p::status)
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("user"))?;
    if !matches!(status.as_str(), "suspended" | "banned") {
        return Err(Error::Rule(format!(
            "a {status} account has nothing to lift"
        )));
    }
    let profile = transition(conn, user_id, "active", None, None).await?;
    let event = ev::UserReinstated {
        user_id: user_id.to_string(),
    };
    state.emit(conn, user_id, &event, Some(rid)).await?;
    Ok(profile)
}

pub async fn reinstate(state: &State, user_id: Uuid, rid: &RequestId) -> Result<ProfileView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            reinstate_in(conn, state, user_id, rid)
                .await
                .map(Into::into)
        }
        .scope_boxed()
    })
    .await
}

/// Lifts suspensions whose end has passed, one short transaction each (one failing row
/// does not hold back the others); returns how many.
pub async fn lift_expired(state: &State) -> Result<usize> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let rid = RequestId(format!("suspension-sweep-{}", Uuid::now_v7()));
    let rid = &rid;
    let mut lifted = 0;
    for _ in 0..500 {
        let outcome = conn
            .transaction::<_, Error, _>(|conn| {
                async move {
                    // Another replica's sweep skips the row this one holds.
                    let due: Option<Uuid> = p::table
                        .filter(p::status.eq("suspended"))
                        .filter(p::suspended_until.le(Utc::now()))
                        .select(p::user_id)
                        .for_update()
                        .skip_locked()
                        .first(conn)
                        .await
                        .optional()?;
                    match due {
                        Some(user_id) => {
                            reinstate_in(conn, state, user_id, rid).await.map(|_| true)
                        }
                        None => Ok(false),
                    }
                }
                .scope_boxed()
            })
            .await;
        match outcome {
            Ok(true) => lifted += 1,
            Ok(false) => break,
            Err(e) => {
                tracing::warn!(error = %e, "could not lift a suspension; next sweep retries");
                break;
            }
        }
    }
    Ok(lifted)
}

/// pending -> active once the person proved an e-mail or phone (auth events).
pub async fn activate(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<()> {
    diesel::update(p::table.find(user_id).filter(p::status.eq("pending")))
        .set((p::status.eq("active"), p::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await?;
    Ok(())
}

/// The owner deletes their account: personal data is anonymised at once and every other
/// service is told to forget theirs.
pub async fn delete_own(state: &State, user_id: Uuid, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            transition(conn, user_id, "deleted", Some("deleted by the owner"), None).await?;
            diesel::update(p::table.find(user_id))
                .set((
                    p::email.eq(None::<String>),
                    p::phone.eq(None::<String>),
                    p::username.eq(format!("deleted_{}", user_id.simple())),
                    p::first_name.eq(None::<String>),
                    p::last_name.eq(None::<String>),
                    p::avatar_url.eq(None::<String>),
                    p::bio.eq(None::<String>),
                    p::gender.eq(None::<String>),
                    p::age_bracket.eq(None::<String>),
                    p::birth_date.eq(None::<chrono::NaiveDate>),
                    p::location.eq(None::<String>),
                    p::interests.eq(Vec::<String>::new()),
                    p::roles.eq(Vec::<String>::new()),
                    p::last_active_at.eq(None::<DateTime<Utc>>),
                    // The old code must not keep linking new sign-ups to a deleted person.
                    p::referral_code.eq(format!("X{}", Uuid::new_v4().simple())),
                ))
                .execute(conn)
                .await?;
            diesel::delete(addresses::table.filter(addresses::user_id.eq(user_id)))
                .execute(conn)
                .await?;
            let event = ev::UserDeleted {
                user_id: user_id.to_string(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Admin search: by status, role and text (username, name, e-mail, phone), newest first.
pub async fn search(
    state: &State,
    status: Option<&str>,
    role: Option<&str>,
    text: Option<&str>,
    page: Page,
) -> Result<Paginated<ProfileView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let filtered = || {
        let mut q = p::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(p::status.eq(s.to_owned()));
        }
        if let Some(r) = role {
            q = q.filter(p::roles.contains(vec![r.to_owned()]));
        }
        if let Some(t) = text.map(str::trim).filter(|t| !t.is_empty()) {
            let like = platform::db::contains_pattern(t);
            q = q.filter(
                p::username
                    .ilike(like.clone())
                    .or(p::first_name.ilike(like.clone()))
                    .or(p::last_name.ilike(like.clone()))
                    .or(p::email.ilike(like.clone()))
                    .or(p::phone.ilike(like)),
            );
        }
        q
    };
    let total: i64 = filtered().count().get_result(&mut conn).await?;
    let rows: Vec<Profile> = filtered()
        .order((p::created_at.desc(), p::user_id))
        .limit(page.limit())
        .offset(page.offset())
        .select(Profile::as_select())
        .load(&mut conn)
        .await?;
    let items = rows.into_iter().map(Into::into).collect();
    Ok(Paginated::new(
        items,
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn transitions() {
        assert!(allowed("pending", "active"));
        assert!(allowed("active", "suspended"));
        assert!(allowed("suspended", "active"));
        assert!(allowed("banned", "active"));
        assert!(!allowed("deleted", "active"));
        assert!(!allowed("banned", "suspended"));
        assert!(!allowed("active", "pending"));
    }
}
