//! Account lifecycle: pending -> active -> suspended / banned -> reinstated, and deletion.
//! Every decision is an event the auth service acts on (revoke sessions, refuse login);
//! a suspension with an end date is lifted by [`lift_expired`], which several replicas
//! may run at once (`FOR UPDATE SKIP LOCKED`).

use crate::error::{Error, Result};
use crate::profiles::{self, Profile, ProfileStatus, ProfileView};
use crate::schema::{addresses, profiles as p};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::user::v1 as ev;
use platform::http::RequestId;
use platform::http::pagination::{Page, Paginated};
use platform::kafka::outbox::Emits;
use uuid::Uuid;

/// Whether `from -> to` is allowed.
pub fn allowed(from: ProfileStatus, to: ProfileStatus) -> bool {
    use ProfileStatus::{Active, Banned, Deleted, Pending, Suspended};
    matches!(
        (from, to),
        (Pending, Active | Suspended | Banned | Deleted)
            | (Active, Suspended | Banned | Deleted)
            | (Suspended, Active | Suspended | Banned | Deleted)
            | (Banned, Active | Deleted)
    )
}

/// Moves `user_id` to `to`, checking the transition under the row lock. Suspending or
/// banning remembers the state it interrupts; reinstating (`to == Active` from a
/// suspension or ban) returns to it.
async fn transition(
    conn: &mut AsyncPgConnection,
    user_id: Uuid,
    to: ProfileStatus,
    reason: Option<&str>,
    until: Option<DateTime<Utc>>,
) -> Result<Profile> {
    use ProfileStatus::{Active, Banned, Suspended};
    let (status, before): (ProfileStatus, Option<ProfileStatus>) = p::table
        .find(user_id)
        .select((p::status, p::status_before))
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("user"))?;
    if !allowed(status, to) {
        return Err(Error::Rule(format!(
            "a {status} account cannot become {to}"
        )));
    }
    let interrupted = matches!(status, Suspended | Banned);
    let (to, before) = match to {
        Suspended | Banned if interrupted => (to, before),
        Suspended | Banned => (to, Some(status)),
        Active if interrupted => (before.unwrap_or(Active), None),
        other => (other, None),
    };
    diesel::update(p::table.find(user_id))
        .set((
            p::status.eq(to),
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
            let profile =
                transition(conn, user_id, ProfileStatus::Suspended, Some(reason), until).await?;
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
            let profile =
                transition(conn, user_id, ProfileStatus::Banned, Some(reason), None).await?;
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
    let status: ProfileStatus = p::table
        .find(user_id)
        .select(p::status)
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("user"))?;
    if !matches!(status, ProfileStatus::Suspended | ProfileStatus::Banned) {
        return Err(Error::Rule(format!(
            "a {status} account has nothing to lift"
        )));
    }
    let profile = transition(conn, user_id, ProfileStatus::Active, None, None).await?;
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
                        .filter(p::status.eq(ProfileStatus::Suspended))
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
    diesel::update(
        p::table
            .find(user_id)
            .filter(p::status.eq(ProfileStatus::Pending)),
    )
    .set((
        p::status.eq(ProfileStatus::Active),
        p::updated_at.eq(diesel::dsl::now),
    ))
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
            transition(
                conn,
                user_id,
                ProfileStatus::Deleted,
                Some("deleted by the owner"),
                None,
            )
            .await?;
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
    status: Option<ProfileStatus>,
    role: Option<&str>,
    text: Option<&str>,
    page: Page,
) -> Result<Paginated<ProfileView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let filtered = || {
        let mut q = p::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(p::status.eq(s));
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
    use crate::profiles::ProfileStatus::{Active, Banned, Deleted, Pending, Suspended};

    #[test]
    fn transitions() {
        assert!(allowed(Pending, Active));
        assert!(allowed(Active, Suspended));
        assert!(allowed(Suspended, Active));
        assert!(allowed(Banned, Active));
        assert!(!allowed(Deleted, Active));
        assert!(!allowed(Banned, Suspended));
        assert!(!allowed(Active, Pending));
    }
}
