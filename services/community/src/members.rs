//! Memberships: joining with an invite token, the member list, leaving, removal and
//! community roles (handing the community to another member included).

use crate::access::{self, Caller, Role};
use crate::communities::PersonRef;
use crate::error::{Error, JoinRefusal, Result};
use crate::invites::{Invite, Status};
use crate::people;
use crate::schema::{communities as c, invites as i, members as m};
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
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user: PersonRef,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The caller's new membership.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub community_id: Uuid,
    pub community_name: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// Joins the community of the invite `token`. The checks go from what the caller may
/// learn to what only the invitee may: an unknown token, then whose it is (never saying
/// to whom it was sent), then its state.
pub async fn join(state: &State, caller: Uuid, token: &str, rid: &RequestId) -> Result<Membership> {
    let hash = tokens::hash(token);
    let mut conn = platform::db::conn(&state.pool).await?;
    let joined = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let (invite_id, community_id): (Uuid, Uuid) = i::table
                    .filter(i::token_hash.eq(&hash))
                    .select((i::id, i::community_id))
                    .first(conn)
                    .await
                    .optional()?
                    .ok_or(Error::Join(JoinRefusal::Unknown))?;
                // Locks in the order every writer takes them (community, then invite), or a join
                // meeting a re-send or a deletion could deadlock. Shared: joins do not wait for
                // each other; a deletion waits for them, or they see it.
                let (community_name, manager, deleted): (String, Uuid, Option<DateTime<Utc>>) =
                    c::table
                        .find(community_id)
                        .select((c::name, c::manager_id, c::deleted_at))
                        .for_share()
                        .first(conn)
                        .await?;
                let invite: Invite = i::table
                    .find(invite_id)
                    .select(Invite::as_select())
                    .for_update()
                    .first(conn)
                    .await?;
                let email = people::verified_email(conn, caller)
                    .await?
                    .ok_or(Error::Join(JoinRefusal::EmailNotVerified))?;
                if email != invite.email {
                    return Err(Error::Join(JoinRefusal::NotYours));
                }
                match invite.status {
                    Status::Accepted => {
                        let member: Option<Uuid> = m::table
                            .find((invite.community_id, caller))
                            .select(m::user_id)
                            .first(conn)
                            .await
                            .optional()?;
                        return Err(Error::Join(if member.is_some() {
                            JoinRefusal::AlreadyMember
                        } else {
                            JoinRefusal::AlreadyUsed
                        }));
                    }
                    Status::Revoked => return Err(Error::Join(JoinRefusal::Revoked)),
                    Status::Expired => return Err(Error::Join(JoinRefusal::Expired)),
                    // Past its time but not swept yet: expired all the same.
                    Status::Active if invite.expires_at <= Utc::now() => {
                        return Err(Error::Join(JoinRefusal::Expired));
                    }
                    Status::Active => {}
                }
                if deleted.is_some() {
                    return Err(Error::Join(JoinRefusal::CommunityGone));
                }
                let joined_at: Option<DateTime<Utc>> = diesel::insert_into(m::table)
                    .values((
                        m::community_id.eq(invite.community_id),
                        m::user_id.eq(caller),
                        m::role.eq(Role::Resident.as_str()),
                        m::invite_id.eq(invite.id),
                    ))
                    .on_conflict_do_nothing()
                    .returning(m::joined_at)
                    .get_result(conn)
                    .await
                    .optional()?;
                let joined_at = joined_at.ok_or(Error::Join(JoinRefusal::AlreadyMember))?;
                diesel::update(i::table.find(invite.id))
                    .set((
                        i::status.eq(Status::Accepted),
                        i::closed_at.eq(diesel::dsl::now),
                        i::closed_by.eq(caller),
                    ))
                    .execute(conn)
                    .await?;
                let cid = invite.community_id;
                let accepted = ev::InviteAccepted {
                    invite_id: invite.id.to_string(),
                    community_id: cid.to_string(),
                    user_id: caller.to_string(),
                };
                state.emit(conn, cid, &accepted, Some(rid)).await?;
                let joined = ev::MemberJoined {
                    community_id: cid.to_string(),
                    user_id: caller.to_string(),
                    role: ev::CommunityRole::Resident.into(),
                    invite_id: invite.id.to_string(),
                    manager_id: manager.to_string(),
                };
                state.emit(conn, cid, &joined, Some(rid)).await?;
                Ok(Membership {
                    community_id: cid,
                    community_name,
                    role: Role::Resident,
                    joined_at,
                })
            }
            .scope_boxed()
        })
        .await;
    let result = match &joined {
        Ok(_) => "joined",
        Err(Error::Join(_)) => "refused",
        Err(_) => "failed",
    };
    metrics::counter!("community_joins_total", "result" => result).increment(1);
    joined
}

/// The members of a community (seen by its members), managers first, then by joining date.
pub async fn list(
    state: &State,
    id: Uuid,
    caller: Caller,
    role: Option<Role>,
    page: Page,
) -> Result<Paginated<MemberView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    access::standing(&mut conn, id, caller, false).await?;
    let filtered = || {
        let mut q = m::table.filter(m::community_id.eq(id)).into_boxed();
        if let Some(r) = role {
            q = q.filter(m::role.eq(r.as_str()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(&mut conn).await?;
    // 'manager' < 'moderator' < 'resident': alphabetical order is rank order.
    let rows: Vec<(Uuid, String, DateTime<Utc>)> = filtered()
        .order((m::role.asc(), m::joined_at.asc(), m::user_id.asc()))
        .limit(page.limit())
        .offset(page.offset())
        .select((m::user_id, m::role, m::joined_at))
        .load(&mut conn)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let names = people::names(&mut conn, &ids).await?;
    let items = rows
        .into_iter()
        .map(|(user, role, joined_at)| MemberView {
            user: PersonRef {
                id: user,
                name: names.get(&user).cloned(),
            },
            role: Role::parse(&role).unwrap_or(Role::Resident),
            joined_at,
        })
        .collect();
    Ok(Paginated::new(
        items,
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

/// The caller leaves. A community's manager cannot: they hand it to another member first.
pub async fn leave(state: &State, id: Uuid, caller: Caller, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let standing = access::standing(conn, id, caller, true).await?;
            if standing.role.is_none() {
                return Err(Error::NotFound("membership"));
            }
            if standing.community.manager_id == caller.id {
                return Err(Error::Rule(
                    "the manager cannot leave their community; make another member its manager first".into(),
                ));
            }
            delete_membership(conn, id, caller.id).await?;
            let event = ev::MemberLeft {
                community_id: id.to_string(),
                user_id: caller.id.to_string(),
            };
            state.emit(conn, id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

async fn delete_membership(conn: &mut AsyncPgConnection, id: Uuid, user: Uuid) -> Result<bool> {
    let n = diesel::delete(m::table.find((id, user)))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The manager (or an admin) removes a member; never the manager themself.
pub async fn remove(
    state: &State,
    id: Uuid,
    user: Uuid,
    caller: Caller,
    rid: &RequestId,
) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let standing = access::standing(conn, id, caller, true).await?;
            standing.require_manager()?;
            if standing.community.manager_id == user {
                return Err(Error::Rule(
                    "the manager cannot be removed; make another member its manager first".into(),
                ));
            }
            if !delete_membership(conn, id, user).await? {
                return Err(Error::NotFound("member"));
            }
            let event = ev::MemberRemoved {
                community_id: id.to_string(),
                user_id: user.to_string(),
                removed_by: caller.id.to_string(),
            };
            state.emit(conn, id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// Sets a member's role. Making someone `manager` hands them the community: the previous
/// manager stays as a moderator.
pub async fn change_role(
    state: &State,
    id: Uuid,
    user: Uuid,
    role: Role,
    caller: Caller,
    rid: &RequestId,
) -> Result<MemberView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let standing = access::standing(conn, id, caller, true).await?;
            standing.require_manager()?;
            let current: (String, DateTime<Utc>) = m::table
                .find((id, user))
                .select((m::role, m::joined_at))
                .first(conn)
                .await
                .optional()?
                .ok_or(Error::NotFound("member"))?;
            let old_manager = standing.community.manager_id;
            let unchanged = Role::parse(&current.0) == Some(role);
            if !unchanged && user == old_manager {
                return Err(Error::Rule(
                    "the manager's role changes only by making another member the manager".into(),
                ));
            }
            let mut changes = if unchanged {
                vec![]
            } else {
                vec![(user, role)]
            };
            if role == Role::Manager && !unchanged {
                diesel::update(c::table.find(id))
                    .set((c::manager_id.eq(user), c::updated_at.eq(diesel::dsl::now)))
                    .execute(conn)
                    .await?;
                changes.push((old_manager, Role::Moderator));
            }
            for (who, r) in changes {
                let n = diesel::update(m::table.find((id, who)))
                    .set(m::role.eq(r.as_str()))
                    .execute(conn)
                    .await?;
                if n == 0 {
                    // The previous manager had been deleted: nothing to demote.
                    continue;
                }
                let event = ev::MemberRoleChanged {
                    community_id: id.to_string(),
                    user_id: who.to_string(),
                    role: r.to_proto().into(),
                    changed_by: caller.id.to_string(),
                };
                state.emit(conn, id, &event, Some(rid)).await?;
            }
            let names = people::names(conn, &[user]).await?;
            Ok(MemberView {
                user: PersonRef {
                    id: user,
                    name: names.get(&user).cloned(),
                },
                role,
                joined_at: current.1,
            })
        }
        .scope_boxed()
    })
    .await
}

/// A deleted account leaves every community (an event each, so managers hear of it).
/// Communities it managed stay, for an admin to hand to another member.
pub async fn remove_everywhere(
    conn: &mut AsyncPgConnection,
    state: &State,
    user: Uuid,
    rid: &RequestId,
) -> Result<usize> {
    let left: Vec<Uuid> = diesel::delete(m::table.filter(m::user_id.eq(user)))
        .returning(m::community_id)
        .get_results(conn)
        .await?;
    for community in &left {
        let event = ev::MemberLeft {
            community_id: community.to_string(),
            user_id: user.to_string(),
        };
        state.emit(conn, *community, &event, Some(rid)).await?;
    }
    Ok(left.len())
}
