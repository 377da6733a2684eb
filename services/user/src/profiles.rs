//! Profiles: created from the auth service's registration event, edited by their owner,
//! shown publicly with only public fields.

use crate::error::{Error, Result};
use crate::schema::{notification_preferences, profiles};
use crate::state::State;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::user::v1 as ev;
use platform::db::DbError;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

platform::text_enum! {
    /// Where an account stands (`profiles.status`); the transitions are
    /// [`crate::lifecycle::allowed`].
    pub enum ProfileStatus {
        /// Registered, no e-mail or phone proven yet.
        Pending = "pending",
        Active = "active",
        Suspended = "suspended",
        Banned = "banned",
        Deleted = "deleted",
    }
}

impl ProfileStatus {
    /// The accounts that count as people: referrals and referral codes work for them.
    pub const LIVE: [Self; 3] = [Self::Pending, Self::Active, Self::Suspended];
    /// The accounts others may see.
    pub const VISIBLE: [Self; 2] = [Self::Active, Self::Suspended];
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles)]
pub struct Profile {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub gender: Option<String>,
    pub age_bracket: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub location: Option<String>,
    #[diesel(deserialize_as = platform::db::TextList)]
    pub interests: Vec<String>,
    pub referral_code: String,
    pub referred_by: Option<Uuid>,
    #[diesel(deserialize_as = platform::db::TextList)]
    pub roles: Vec<String>,
    pub status: ProfileStatus,
    pub status_reason: Option<String>,
    pub suspended_until: Option<DateTime<Utc>>,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Profile {
    /// Share of the profile fields filled in, 0 to 100 (contact details are the auth
    /// service's business and do not count).
    pub fn completion(&self) -> u8 {
        let filled = [
            self.first_name.is_some(),
            self.last_name.is_some(),
            self.avatar_url.is_some(),
            self.bio.is_some(),
            self.gender.is_some(),
            self.age_bracket.is_some(),
            self.birth_date.is_some(),
            self.location.is_some(),
            !self.interests.is_empty(),
        ];
        let n = filled.iter().filter(|f| **f).count();
        u8::try_from(n * 100 / filled.len()).unwrap_or(100)
    }
}

/// The profile as its owner (or an admin) sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub user_id: Uuid,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub gender: Option<String>,
    pub age_bracket: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub location: Option<String>,
    pub interests: Vec<String>,
    pub referral_code: String,
    pub roles: Vec<String>,
    pub status: ProfileStatus,
    pub status_reason: Option<String>,
    pub suspended_until: Option<DateTime<Utc>>,
    pub completion_percent: u8,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Profile> for ProfileView {
    fn from(p: Profile) -> Self {
        let completion_percent = p.completion();
        Self {
            user_id: p.user_id,
            email: p.email,
            phone: p.phone,
            username: p.username,
            first_name: p.first_name,
            last_name: p.last_name,
            avatar_url: p.avatar_url,
            bio: p.bio,
            gender: p.gender,
            age_bracket: p.age_bracket,
            birth_date: p.birth_date,
            location: p.location,
            interests: p.interests,
            referral_code: p.referral_code,
            roles: p.roles,
            status: p.status,
            status_reason: p.status_reason,
            suspended_until: p.suspended_until,
            completion_percent,
            last_active_at: p.last_active_at,
            created_at: p.created_at,
        }
    }
}

/// What anyone signed in may see of someone.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicProfile {
    pub user_id: Uuid,
    pub username: String,
    pub first_name: Option<String>,
    pub avatar_url: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    pub interests: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Profile> for PublicProfile {
    fn from(p: Profile) -> Self {
        Self {
            user_id: p.user_id,
            username: p.username,
            first_name: p.first_name,
            avatar_url: p.avatar_url,
            bio: p.bio,
            location: p.location,
            interests: p.interests,
            created_at: p.created_at,
        }
    }
}

/// Names nobody may take: they would impersonate the platform or its routes.
const RESERVED: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "system",
    "support",
    "help",
    "api",
    "me",
    "auth",
    "login",
    "logout",
    "register",
    "settings",
    "neighbourly",
    "moderator",
    "staff",
    "security",
    "null",
    "undefined",
    "by-username",
];

/// 3 to 30 characters: lower-case letters, digits, `_` and `.`, starting with a letter,
/// no `..`, not reserved.
pub fn check_username(name: &str) -> Result<String> {
    let name = name.trim().to_lowercase();
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !(3..=30).contains(&name.len())
        || !ok_chars
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.contains("..")
        || name.ends_with('.')
    {
        return Err(Error::field(
            "username",
            "use 3-30 lower-case letters, digits, '_' or '.', starting with a letter",
        ));
    }
    // `admin1` or `support_team` would impersonate as well as the bare words.
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '.');
    let first_word = name.split(['_', '.']).next().unwrap_or(&name);
    if RESERVED.contains(&stem) || RESERVED.contains(&first_word) {
        return Err(Error::field("username", "this username is reserved"));
    }
    Ok(name)
}

fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(len);
    // A v4 UUID is 122 random bits from the OS generator: plenty for 16 characters.
    let buf = Uuid::new_v4().into_bytes();
    for b in buf.iter().take(len) {
        out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
    }
    out
}

/// A username derived from the e-mail's local part, made unique with a suffix.
fn initial_username(email: Option<&str>) -> String {
    let base: String = email
        .and_then(|e| e.split('@').next())
        .unwrap_or("neighbour")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(16)
        .collect();
    let base = if base.starts_with(|c: char| c.is_ascii_lowercase()) {
        base
    } else {
        format!("n{base}")
    };
    format!("{base}_{}", random_suffix(5))
}

/// Creates the profile for a registered account, once: a redelivered event finds it.
pub async fn create_from_registration(
    conn: &mut AsyncPgConnection,
    state: &State,
    e: &events::proto::auth::v1::UserRegistered,
    rid: &RequestId,
) -> Result<()> {
    let user_id: Uuid = e
        .user_id
        .parse()
        .map_err(|_| Error::Internal(anyhow::anyhow!("bad user id {:?}", e.user_id)))?;
    let exists: i64 = profiles::table
        .find(user_id)
        .count()
        .get_result(conn)
        .await?;
    if exists > 0 {
        return Ok(());
    }
    let referred_by: Option<Uuid> = if e.referral_code.is_empty() {
        None
    } else {
        profiles::table
            .filter(profiles::referral_code.eq(e.referral_code.to_uppercase()))
            .filter(profiles::status.eq_any(ProfileStatus::LIVE))
            .select(profiles::user_id)
            .first(conn)
            .await
            .optional()?
    };
    let email = (!e.email.is_empty()).then(|| e.email.clone());
    let phone = (!e.phone.is_empty()).then(|| e.phone.clone());
    // A collision on the random parts is astronomically rare; retry a few times anyway.
    for _ in 0..5 {
        let username = initial_username(email.as_deref());
        let code = random_suffix(8).to_uppercase();
        let inserted = diesel::insert_into(profiles::table)
            .values((
                profiles::user_id.eq(user_id),
                profiles::email.eq(&email),
                profiles::phone.eq(&phone),
                profiles::username.eq(&username),
                profiles::referral_code.eq(&code),
                profiles::referred_by.eq(referred_by),
                profiles::roles.eq(&e.roles),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            continue;
        }
        diesel::insert_into(notification_preferences::table)
            .values(notification_preferences::user_id.eq(user_id))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        let event = ev::ProfileCreated {
            user_id: user_id.to_string(),
            username,
            referral_code: code,
            referred_by: referred_by.map(|r| r.to_string()).unwrap_or_default(),
        };
        state.emit(conn, user_id, &event, Some(rid)).await?;
        return Ok(());
    }
    Err(Error::Internal(anyhow::anyhow!(
        "could not pick a unique username"
    )))
}

pub async fn get(conn: &mut AsyncPgConnection, user_id: Uuid) -> Result<Option<Profile>> {
    Ok(profiles::table
        .find(user_id)
        .select(Profile::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The caller's own profile, recording that they are active (at most every 5 minutes).
pub async fn me(state: &State, user_id: Uuid) -> Result<Profile> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let recently = Utc::now() - chrono::Duration::minutes(5);
    diesel::update(
        profiles::table.find(user_id).filter(
            profiles::last_active_at
                .is_null()
                .or(profiles::last_active_at.lt(recently)),
        ),
    )
    .set(profiles::last_active_at.eq(diesel::dsl::now))
    .execute(&mut conn)
    .await?;
    match get(&mut conn, user_id).await? {
        Some(p) if p.status == ProfileStatus::Deleted => Err(Error::Deleted),
        Some(p) => Ok(p),
        None => Err(Error::ProfileNotReady),
    }
}

/// A visible profile by id or username; deleted, banned and pending ones are not shown.
pub async fn public(
    state: &State,
    id: Option<Uuid>,
    username: Option<&str>,
) -> Result<PublicProfile> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let query = profiles::table
        .filter(profiles::status.eq_any(ProfileStatus::VISIBLE))
        .select(Profile::as_select())
        .into_boxed();
    let query = match (id, username) {
        (Some(id), _) => query.filter(profiles::user_id.eq(id)),
        (None, Some(u)) => query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(username) = ")
                .bind::<diesel::sql_types::Text, _>(u.to_lowercase()),
        ),
        (None, None) => return Err(Error::NotFound("profile")),
    };
    query
        .first(&mut conn)
        .await
        .optional()?
        .map(Into::into)
        .ok_or(Error::NotFound("profile"))
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = profiles)]
pub struct Changes {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub gender: Option<Option<String>>,
    pub age_bracket: Option<Option<String>>,
    pub birth_date: Option<Option<NaiveDate>>,
    pub location: Option<Option<String>>,
    pub interests: Option<Vec<String>>,
}

pub async fn update(
    state: &State,
    user_id: Uuid,
    changes: Changes,
    changed: Vec<String>,
    rid: &RequestId,
) -> Result<Profile> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let current = get(conn, user_id)
                .await?
                .filter(|p| p.status != ProfileStatus::Deleted);
            if current.is_none() {
                return Err(Error::ProfileNotReady);
            }
            if !changed.is_empty() {
                diesel::update(
                    profiles::table
                        .find(user_id)
                        .filter(profiles::status.ne(ProfileStatus::Deleted)),
                )
                .set((&changes, profiles::updated_at.eq(diesel::dsl::now)))
                .execute(conn)
                .await?;
            }
            let p = get(conn, user_id).await?.ok_or(Error::ProfileNotReady)?;
            if !changed.is_empty() {
                let event = ev::ProfileUpdated {
                    user_id: user_id.to_string(),
                    changed,
                    username: p.username.clone(),
                    first_name: p.first_name.clone().unwrap_or_default(),
                    last_name: p.last_name.clone().unwrap_or_default(),
                };
                state.emit(conn, user_id, &event, Some(rid)).await?;
            }
            Ok(p)
        }
        .scope_boxed()
    })
    .await
}

pub async fn change_username(
    state: &State,
    user_id: Uuid,
    username: &str,
    rid: &RequestId,
) -> Result<Profile> {
    let username = check_username(username)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let n = diesel::update(
                profiles::table
                    .find(user_id)
                    .filter(profiles::status.ne(ProfileStatus::Deleted)),
            )
            .set((
                profiles::username.eq(&username),
                profiles::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map_err(|e| match DbError::from(e) {
                DbError::UniqueViolation(_) => Error::field("username", "this username is taken"),
                other => other.into(),
            })?;
            if n == 0 {
                return Err(Error::ProfileNotReady);
            }
            let p = get(conn, user_id).await?.ok_or(Error::ProfileNotReady)?;
            let event = ev::ProfileUpdated {
                user_id: user_id.to_string(),
                changed: vec!["username".into()],
                username: p.username.clone(),
                first_name: p.first_name.clone().unwrap_or_default(),
                last_name: p.last_name.clone().unwrap_or_default(),
            };
            state.emit(conn, user_id, &event, Some(rid)).await?;
            Ok(p)
        }
        .scope_boxed()
    })
    .await
}

/// People who registered with the caller's referral code.
pub async fn referrals(state: &State, user_id: Uuid) -> Result<Vec<PublicProfile>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let rows: Vec<Profile> = profiles::table
        .filter(profiles::referred_by.eq(user_id))
        .filter(profiles::status.eq_any(ProfileStatus::LIVE))
        .order(profiles::created_at.desc())
        .select(Profile::as_select())
        .load(&mut conn)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[cfg(test)]
mod tests {
    use super::check_username;

    #[test]
    fn usernames() {
        assert_eq!(check_username(" Anna.Lee ").unwrap(), "anna.lee");
        for bad in [
            "ab",
            "9lives",
            "a..b",
            "anna.",
            "white space",
            "admin",
            "admin1",
            "support_team",
            "root.user",
        ] {
            assert!(check_username(bad).is_err(), "{bad} accepted");
        }
        assert!(
            check_username("administrators_fan").is_ok(),
            "only whole words are reserved"
        );
    }
}
