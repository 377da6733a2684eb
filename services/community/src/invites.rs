//! Invites by e-mail token: at most one active invite per address and community (inviting
//! again re-sends it), valid for `COMMUNITY_INVITE_TTL`, expired by a sweep that any number
//! of replicas can run, revocable, and accepted by joining (see `members::join`).

use crate::access::{self, Caller};
use crate::error::{Error, Result};
use crate::people;
use crate::schema::{invites as i, members as m};
use crate::state::State;
use crate::tokens;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::community::v1 as ev;
use platform::http::RequestId;
use platform::http::pagination::{Page, Paginated};
use platform::kafka::outbox::Emits;
use platform::kafka::outbox::OutboxRecord;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::ValidateEmail;

/// The most addresses one bulk request may carry.
pub const MAX_BULK: usize = 500;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = i)]
pub struct Invite {
    pub id: Uuid,
    pub community_id: Uuid,
    pub email: String,
    pub token_hash: Vec<u8>,
    pub status: Status,
    pub invited_by: Uuid,
    pub sent_count: i32,
    pub last_sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<Uuid>,
}

platform::text_enum! {
    /// Where an invite stands (`invites.status`): active until accepted (members::join),
    /// expired (sweep) or revoked.
    pub enum Status {
        Active = "active",
        Accepted = "accepted",
        Expired = "expired",
        Revoked = "revoked",
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteView {
    pub id: Uuid,
    pub community_id: Uuid,
    pub email: String,
    pub status: Status,
    /// How many times the invite was e-mailed.
    pub sent_count: i32,
    pub last_sent_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// When it was accepted, expired or revoked.
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<Invite> for InviteView {
    fn from(i: Invite) -> Self {
        Self {
            id: i.id,
            community_id: i.community_id,
            email: i.email,
            status: i.status,
            sent_count: i.sent_count,
            last_sent_at: i.last_sent_at,
            expires_at: i.expires_at,
            created_at: i.created_at,
            closed_at: i.closed_at,
        }
    }
}

/// What happened to one address of a (bulk) invite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new invite was created and sent.
    Invited,
    /// An active invite existed: it was sent again, same token, same expiry.
    Resent,
    /// An active invite was e-mailed less than `COMMUNITY_RESEND_INTERVAL` ago: not sent
    /// again.
    RecentlySent,
    /// The address belongs to a member of the community: nothing sent.
    AlreadyMember,
    /// Not an e-mail address: nothing sent.
    Invalid,
    /// The address came earlier in the same request: handled there.
    Duplicate,
}

/// One address's result.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// As sent.
    pub email: String,
    pub outcome: Outcome,
    /// The invite sent (invited, resent).
    pub invite: Option<InviteView>,
}

/// Lower-cased and trimmed, if it is an e-mail address at all.
pub fn normalise(raw: &str) -> Option<String> {
    let e = raw.trim().to_lowercase();
    (e.len() <= 254 && e.validate_email()).then_some(e)
}

/// Invites `emails` to community `id`: one transaction for the batch, so a failure
/// writes nothing (the request can be repeated: re-sent invites keep their token), and
/// every address's invite and its e-mail event are written together.
pub async fn invite(
    state: &State,
    id: Uuid,
    caller: Caller,
    emails: Vec<String>,
    rid: &RequestId,
) -> Result<Vec<Row>> {
    if emails.len() > MAX_BULK {
        return Err(Error::field(
            "emails",
            format!("at most {MAX_BULK} addresses per request"),
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    let rows = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                // Locked: batches for one community run one after another, so the "one
                // active invite" rule never meets a race, and a deletion waits for us.
                let standing = access::standing(conn, id, caller, true).await?;
                standing.require_manager()?;
                let community = standing.community;
                let resend_before = Utc::now()
                    - chrono::Duration::from_std(state.resend_interval)
                        .map_err(|e| Error::Internal(e.into()))?;

                let mut seen = HashSet::new();
                let parsed: Vec<(String, Option<String>, bool)> = emails
                    .into_iter()
                    .map(|raw| {
                        let n = normalise(&raw);
                        let first = n.as_ref().is_none_or(|e| seen.insert(e.clone()));
                        (raw, n, first)
                    })
                    .collect();
                let wanted: Vec<String> = parsed
                    .iter()
                    .filter(|(_, n, first)| *first && n.is_some())
                    .filter_map(|(_, n, _)| n.clone())
                    .collect();

                expire(conn, state, Some((id, &wanted)), i64::MAX).await?;

                let known = people::by_verified_email(conn, &wanted).await?;
                let user_ids: Vec<Uuid> = known.values().copied().collect();
                let member_ids: HashSet<Uuid> = m::table
                    .filter(m::community_id.eq(id))
                    .filter(m::user_id.eq_any(&user_ids))
                    .select(m::user_id)
                    .load::<Uuid>(conn)
                    .await?
                    .into_iter()
                    .collect();
                let members: HashSet<&str> = known
                    .iter()
                    .filter(|(_, u)| member_ids.contains(u))
                    .map(|(e, _)| e.as_str())
                    .collect();
                let to_send: Vec<String> = wanted
                    .iter()
                    .filter(|e| !members.contains(e.as_str()))
                    .cloned()
                    .collect();

                // Active, but e-mailed less than COMMUNITY_RESEND_INTERVAL ago: not sent
                // again, so repeating a request cannot flood an inbox.
                let mut recent: Vec<Invite> = i::table
                    .filter(i::community_id.eq(id))
                    .filter(i::status.eq(Status::Active))
                    .filter(i::email.eq_any(&to_send))
                    .filter(i::last_sent_at.gt(resend_before))
                    .select(Invite::as_select())
                    .load(conn)
                    .await?;
                let resent: Vec<Invite> = diesel::update(
                    i::table
                        .filter(i::community_id.eq(id))
                        .filter(i::status.eq(Status::Active))
                        .filter(i::expires_at.gt(diesel::dsl::now))
                        .filter(i::last_sent_at.le(resend_before))
                        .filter(i::email.eq_any(&to_send)),
                )
                .set((
                    i::sent_count.eq(i::sent_count + 1),
                    i::last_sent_at.eq(diesel::dsl::now),
                ))
                .returning(Invite::as_returning())
                .get_results(conn)
                .await?;
                let mut resent = rekey(conn, state, resent).await?;
                let already: HashSet<&str> = resent
                    .iter()
                    .chain(&recent)
                    .map(|r| r.email.as_str())
                    .collect();

                let expires_at = Utc::now()
                    + chrono::Duration::from_std(state.invite_ttl)
                        .map_err(|e| Error::Internal(e.into()))?;
                let fresh: Vec<_> = to_send
                    .iter()
                    .filter(|e| !already.contains(e.as_str()))
                    .map(|email| {
                        let invite = Uuid::now_v7();
                        (
                            i::id.eq(invite),
                            i::community_id.eq(id),
                            i::email.eq(email.clone()),
                            i::token_hash.eq(tokens::hash(&state.invite_key.token(invite))),
                            i::invited_by.eq(caller.id),
                            i::expires_at.eq(expires_at),
                        )
                    })
                    .collect();
                let created: Vec<Invite> = if fresh.is_empty() {
                    Vec::new()
                } else {
                    diesel::insert_into(i::table)
                        .values(&fresh)
                        .returning(Invite::as_returning())
                        .get_results(conn)
                        .await?
                };

                let key = id.to_string();
                let records: Vec<OutboxRecord> = created
                    .iter()
                    .map(|inv| (inv, false))
                    .chain(resent.iter().map(|inv| (inv, true)))
                    .map(|(inv, resent)| {
                        let event = ev::InviteCreated {
                            invite_id: inv.id.to_string(),
                            community_id: key.clone(),
                            community_name: community.name.clone(),
                            email: inv.email.clone(),
                            invited_by: caller.id.to_string(),
                            token: state.invite_key.token(inv.id),
                            expires_at: Some(events::timestamp(inv.expires_at)),
                            resent,
                        };
                        OutboxRecord::of("community", &key, &event)
                    })
                    .collect();
                state.outbox.add_records(conn, &records, Some(rid)).await?;

                let mut by_email: HashMap<String, (Outcome, Invite)> = created
                    .into_iter()
                    .map(|inv| (inv.email.clone(), (Outcome::Invited, inv)))
                    .collect();
                by_email.extend(
                    resent
                        .drain(..)
                        .map(|inv| (inv.email.clone(), (Outcome::Resent, inv))),
                );
                by_email.extend(
                    recent
                        .drain(..)
                        .map(|inv| (inv.email.clone(), (Outcome::RecentlySent, inv))),
                );
                let mut rows = Vec::with_capacity(parsed.len());
                for (raw, n, first) in parsed {
                    let (outcome, invite) = match n {
                        None => (Outcome::Invalid, None),
                        Some(_) if !first => (Outcome::Duplicate, None),
                        Some(e) if members.contains(e.as_str()) => (Outcome::AlreadyMember, None),
                        Some(e) => {
                            let (o, inv) = by_email.remove(&e).ok_or_else(|| {
                                Error::Internal(anyhow::anyhow!("no invite row for an address"))
                            })?;
                            (o, Some(inv.into()))
                        }
                    };
                    rows.push(Row {
                        email: raw,
                        outcome,
                        invite,
                    });
                }
                Ok(rows)
            }
            .scope_boxed()
        })
        .await;
    let rows: Vec<Row> = rows?;
    for r in &rows {
        let outcome = match r.outcome {
            Outcome::Invited => "invited",
            Outcome::Resent => "resent",
            Outcome::RecentlySent => "recently_sent",
            Outcome::AlreadyMember => "already_member",
            Outcome::Invalid => "invalid",
            Outcome::Duplicate => "duplicate",
        };
        metrics::counter!("community_invites_total", "outcome" => outcome).increment(1);
    }
    Ok(rows)
}

/// After a change of `COMMUNITY_INVITE_KEY` an active invite's token no longer comes from
/// the key: it gets a new one (the old link stops working, the e-mail being sent carries
/// the new one).
async fn rekey(
    conn: &mut AsyncPgConnection,
    state: &State,
    invites: Vec<Invite>,
) -> Result<Vec<Invite>> {
    let mut out = Vec::with_capacity(invites.len());
    for mut inv in invites {
        let hash = tokens::hash(&state.invite_key.token(inv.id));
        if hash != inv.token_hash {
            diesel::update(i::table.find(inv.id))
                .set(i::token_hash.eq(&hash))
                .execute(conn)
                .await?;
            inv.token_hash = hash;
        }
        out.push(inv);
    }
    Ok(out)
}

/// Marks active invites whose time is up as expired, with an event each; at most `limit`
/// of them. `only` narrows it to some addresses of one community (before inviting them
/// again). `SKIP LOCKED`: replicas sweeping at once share the work instead of queueing.
pub async fn expire(
    conn: &mut AsyncPgConnection,
    state: &State,
    only: Option<(Uuid, &[String])>,
    limit: i64,
) -> Result<usize> {
    let due = i::table
        .filter(i::status.eq(Status::Active))
        .filter(i::expires_at.le(diesel::dsl::now));
    // Locking clauses cannot be boxed: one query per shape.
    let ids: Vec<Uuid> = match only {
        Some((community, emails)) => {
            due.filter(i::community_id.eq(community))
                .filter(i::email.eq_any(emails))
                .select(i::id)
                .order(i::expires_at)
                .limit(limit)
                .for_update()
                .skip_locked()
                .load(conn)
                .await?
        }
        None => {
            due.select(i::id)
                .order(i::expires_at)
                .limit(limit)
                .for_update()
                .skip_locked()
                .load(conn)
                .await?
        }
    };
    if ids.is_empty() {
        return Ok(0);
    }
    let expired: Vec<(Uuid, Uuid, String)> = diesel::update(i::table.filter(i::id.eq_any(&ids)))
        .set((
            i::status.eq(Status::Expired),
            i::closed_at.eq(diesel::dsl::now),
        ))
        .returning((i::id, i::community_id, i::email))
        .get_results(conn)
        .await?;
    let records: Vec<OutboxRecord> = expired
        .iter()
        .map(|(invite, community, email)| {
            let event = ev::InviteExpired {
                invite_id: invite.to_string(),
                community_id: community.to_string(),
                email: email.clone(),
            };
            OutboxRecord::of("community", &community.to_string(), &event)
        })
        .collect();
    state.outbox.add_records(conn, &records, None).await?;
    Ok(expired.len())
}

/// The deleted account `user` proved `email`: its open invites are withdrawn and the
/// address is erased from every invite (no event: nobody is to be told, and an event
/// would carry the address on).
pub async fn forget_address(conn: &mut AsyncPgConnection, email: &str, user: Uuid) -> Result<()> {
    diesel::update(
        i::table
            .filter(i::email.eq(email))
            .filter(i::status.eq(Status::Active)),
    )
    .set((
        i::status.eq(Status::Revoked),
        i::closed_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .await?;
    diesel::update(i::table.filter(i::email.eq(email)))
        .set(i::email.eq(format!("deleted-{}@invalid", user.simple())))
        .execute(conn)
        .await?;
    Ok(())
}

/// One sweep of the expiry job: batches of 500 until none is due.
pub async fn sweep(state: &State) -> Result<usize> {
    const BATCH: i64 = 500;
    let mut total = 0;
    loop {
        let mut conn = platform::db::conn(&state.pool).await?;
        let n = conn
            .transaction::<_, Error, _>(|conn| {
                async move { expire(conn, state, None, BATCH).await }.scope_boxed()
            })
            .await?;
        total += n;
        if i64::try_from(n).unwrap_or(0) < BATCH {
            return Ok(total);
        }
    }
}

pub async fn list(
    state: &State,
    id: Uuid,
    caller: Caller,
    status: Option<Status>,
    page: Page,
) -> Result<Paginated<InviteView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    access::standing(&mut conn, id, caller, false)
        .await?
        .require_manager()?;
    let filtered = || {
        let mut q = i::table.filter(i::community_id.eq(id)).into_boxed();
        if let Some(s) = status {
            q = q.filter(i::status.eq(s));
        }
        q
    };
    let total: i64 = filtered().count().get_result(&mut conn).await?;
    let rows: Vec<Invite> = filtered()
        .order((i::created_at.desc(), i::id))
        .limit(page.limit())
        .offset(page.offset())
        .select(Invite::as_select())
        .load(&mut conn)
        .await?;
    Ok(Paginated::new(
        rows.into_iter().map(Into::into).collect(),
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

/// Withdraws an active invite: its token stops working at once.
pub async fn revoke(
    state: &State,
    id: Uuid,
    invite: Uuid,
    caller: Caller,
    rid: &RequestId,
) -> Result<InviteView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            access::standing(conn, id, caller, false)
                .await?
                .require_manager()?;
            let current: Invite = i::table
                .find(invite)
                .filter(i::community_id.eq(id))
                .select(Invite::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(Error::NotFound("invite"))?;
            if current.status != Status::Active {
                return Err(Error::Conflict(format!(
                    "this invite is already {}",
                    current.status
                )));
            }
            let row: Invite = diesel::update(i::table.find(invite))
                .set((
                    i::status.eq(Status::Revoked),
                    i::closed_at.eq(diesel::dsl::now),
                    i::closed_by.eq(caller.id),
                ))
                .returning(Invite::as_returning())
                .get_result(conn)
                .await?;
            let event = ev::InviteRevoked {
                invite_id: invite.to_string(),
                community_id: id.to_string(),
                email: row.email.clone(),
                revoked_by: caller.id.to_string(),
            };
            state.emit(conn, id, &event, Some(rid)).await?;
            Ok(row.into())
        }
        .scope_boxed()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalise("  Ada@Example.COM ").as_deref(),
            Some("ada@example.com")
        );
        assert_eq!(normalise("not an address"), None);
        assert_eq!(normalise(""), None);
        assert_eq!(normalise("a@b@c"), None);
        assert_eq!(normalise(&format!("{}@example.com", "a".repeat(250))), None);
    }
}
