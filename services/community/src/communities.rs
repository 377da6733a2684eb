//! Communities: created by community managers (or admins), seen by their members, run by
//! their manager, soft-deleted with their members told.

use crate::access::{self, Caller, Role};
use crate::error::{Error, Result};
use crate::invites::Status as InviteStatus;
use crate::people;
use crate::schema::{communities as c, invites as i, members as m};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use events::proto::community::v1 as ev;
use platform::http::RequestId;
use platform::http::pagination::{Page, Paginated};
use platform::kafka::outbox::Emits;
use platform::money::Currency;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

diesel::define_sql_function! {
    /// SQL's `lower`, matching the `communities_city` index.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = c)]
pub struct Community {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub manager_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub catalog_visibility: CatalogVisibility,
    pub currency: Currency,
}

platform::text_enum! {
    /// Who may browse the community's tool library (`communities.catalog_visibility`). The
    /// rule is the catalog's to apply; it learns the setting from `community.*` events.
    #[derive(Default)]
    pub enum CatalogVisibility {
        /// Its members (and admins): the default.
        #[default]
        Members = "members",
        /// Anyone, even without an account or a token.
        Public = "public",
    }
}

impl CatalogVisibility {
    fn to_proto(self) -> ev::CatalogVisibility {
        match self {
            Self::Members => ev::CatalogVisibility::Members,
            Self::Public => ev::CatalogVisibility::Public,
        }
    }
}

const CURRENCY_RULE: &str = "must be an ISO 4217 code of three upper-case letters, like EUR";

fn default_currency() -> String {
    Currency::EUR.to_string()
}

fn currency_code(code: &str) -> Result<(), ValidationError> {
    Currency::parse(code)
        .map(drop)
        .map_err(|_| ValidationError::new("currency").with_message(CURRENCY_RULE.into()))
}

/// The validated code as a [`Currency`]; the derive has checked it already, so the error
/// is only there to keep a bypassed check from becoming a panic.
fn currency(code: &str) -> Result<Currency> {
    Currency::parse(code).map_err(|_| Error::field("currency", CURRENCY_RULE))
}

fn country_code(code: &str) -> Result<(), ValidationError> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(ValidationError::new("country")
            .with_message("must be an ISO 3166-1 alpha-2 code, like GB".into()))
    }
}

/// A postal address.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    #[validate(length(min = 1, max = 200))]
    pub line1: String,
    #[validate(length(max = 200))]
    pub line2: Option<String>,
    #[validate(length(min = 1, max = 100))]
    pub city: String,
    #[validate(length(max = 100))]
    pub region: Option<String>,
    #[validate(length(max = 20))]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 (stored upper-case).
    #[validate(custom(function = "country_code"))]
    #[schema(example = "GB")]
    pub country: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Coordinates {
    #[validate(range(min = -90.0, max = 90.0))]
    pub latitude: f64,
    #[validate(range(min = -180.0, max = 180.0))]
    pub longitude: f64,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCommunity {
    #[validate(length(min = 2, max = 120))]
    pub name: String,
    #[validate(length(max = 2000))]
    #[serde(default)]
    pub description: String,
    /// The depot: where the community's tools are lent from.
    #[validate(nested)]
    pub address: Address,
    #[validate(nested)]
    pub coordinates: Option<Coordinates>,
    /// Who may browse the community's tool library: `members` (its members and admins,
    /// the default) or `public` (anyone, even without a token).
    #[serde(default)]
    #[schema(default = "members")]
    pub catalog_visibility: CatalogVisibility,
    /// What the community's tools are priced in (ISO 4217, three upper-case letters);
    /// `EUR` unless given.
    #[validate(custom(function = "currency_code"))]
    #[serde(default = "default_currency")]
    #[schema(value_type = Currency, default = "EUR")]
    pub currency: String,
}

/// Every field optional: absent keeps the value; `coordinates: null` removes them; an
/// address is replaced whole.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommunityPatch {
    #[validate(length(min = 2, max = 120))]
    pub name: Option<String>,
    #[validate(length(max = 2000))]
    pub description: Option<String>,
    /// The depot: where the community's tools are lent from.
    #[validate(nested)]
    pub address: Option<Address>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<Coordinates>)]
    pub coordinates: Option<Option<Coordinates>>,
    /// Who may browse the community's tool library: `members` (its members and admins)
    /// or `public` (anyone, even without a token).
    pub catalog_visibility: Option<CatalogVisibility>,
    /// What the community's tools are priced in (ISO 4217, three upper-case letters).
    #[validate(custom(function = "currency_code"))]
    #[schema(value_type = Option<Currency>)]
    pub currency: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonRef {
    pub id: Uuid,
    /// Absent until the person's profile is known here.
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommunityView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The depot: where the community's tools are lent from.
    pub address: Address,
    pub coordinates: Option<Coordinates>,
    /// Who may browse the community's tool library: `members` (its members and admins)
    /// or `public` (anyone, even without a token).
    pub catalog_visibility: CatalogVisibility,
    /// What the community's tools are priced in (ISO 4217).
    pub currency: Currency,
    pub manager: PersonRef,
    pub member_count: i64,
    /// The caller's role in it; absent for an admin who is not a member.
    pub my_role: Option<Role>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Community {
    fn address(&self) -> Address {
        Address {
            line1: self.line1.clone(),
            line2: self.line2.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
        }
    }

    fn coordinates(&self) -> Option<Coordinates> {
        self.latitude
            .zip(self.longitude)
            .map(|(latitude, longitude)| Coordinates {
                latitude,
                longitude,
            })
    }

    fn proto_address(&self) -> ev::Address {
        ev::Address {
            line1: self.line1.clone(),
            line2: self.line2.clone().unwrap_or_default(),
            city: self.city.clone(),
            region: self.region.clone().unwrap_or_default(),
            postal_code: self.postal_code.clone().unwrap_or_default(),
            country: self.country.clone(),
        }
    }

    fn proto_coordinates(&self) -> Option<ev::Coordinates> {
        self.coordinates().map(|c| ev::Coordinates {
            latitude: c.latitude,
            longitude: c.longitude,
        })
    }
}

/// Trims optional text; blank is "not given".
fn given(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Trimmed, and at least `min` characters once trimmed (the derive counts the spaces).
fn required(field: &'static str, s: &str, min: usize) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::field(field, "must not be blank"));
    }
    if t.chars().count() < min {
        return Err(Error::field(
            field,
            format!("must be at least {min} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// Views of `rows`, with manager names, member counts and the caller's roles in one query
/// each.
async fn views(
    conn: &mut AsyncPgConnection,
    rows: Vec<Community>,
    caller: Uuid,
) -> Result<Vec<CommunityView>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let managers: Vec<Uuid> = rows.iter().map(|r| r.manager_id).collect();
    let names = people::names(conn, &managers).await?;
    let counts: HashMap<Uuid, i64> = m::table
        .filter(m::community_id.eq_any(&ids))
        .group_by(m::community_id)
        .select((m::community_id, diesel::dsl::count_star()))
        .load::<(Uuid, i64)>(conn)
        .await?
        .into_iter()
        .collect();
    let roles: HashMap<Uuid, String> = m::table
        .filter(m::community_id.eq_any(&ids))
        .filter(m::user_id.eq(caller))
        .select((m::community_id, m::role))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| CommunityView {
            address: r.address(),
            coordinates: r.coordinates(),
            manager: PersonRef {
                id: r.manager_id,
                name: names.get(&r.manager_id).cloned(),
            },
            member_count: counts.get(&r.id).copied().unwrap_or(0),
            my_role: roles.get(&r.id).and_then(|s| Role::parse(s)),
            catalog_visibility: r.catalog_visibility,
            currency: r.currency,
            id: r.id,
            name: r.name,
            description: r.description,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

async fn view(conn: &mut AsyncPgConnection, row: Community, caller: Uuid) -> Result<CommunityView> {
    views(conn, vec![row], caller)
        .await?
        .pop()
        .ok_or(Error::NotFound("community"))
}

/// Creates a community run by the caller, who becomes its first member (as manager).
pub async fn create(
    state: &State,
    caller: Caller,
    input: NewCommunity,
    rid: &RequestId,
) -> Result<CommunityView> {
    let name = required("name", &input.name, 2)?;
    let line1 = required("address.line1", &input.address.line1, 1)?;
    let city = required("address.city", &input.address.city, 1)?;
    let currency = currency(&input.currency)?;
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let id = Uuid::now_v7();
            let row: Community = diesel::insert_into(c::table)
                .values((
                    c::id.eq(id),
                    c::name.eq(name),
                    c::description.eq(input.description.trim()),
                    c::line1.eq(line1),
                    c::line2.eq(given(input.address.line2)),
                    c::city.eq(city),
                    c::region.eq(given(input.address.region)),
                    c::postal_code.eq(given(input.address.postal_code)),
                    c::country.eq(input.address.country.to_uppercase()),
                    c::latitude.eq(input.coordinates.map(|c| c.latitude)),
                    c::longitude.eq(input.coordinates.map(|c| c.longitude)),
                    c::manager_id.eq(caller.id),
                    c::catalog_visibility.eq(input.catalog_visibility),
                    c::currency.eq(currency),
                ))
                .returning(Community::as_returning())
                .get_result(conn)
                .await?;
            diesel::insert_into(m::table)
                .values((
                    m::community_id.eq(id),
                    m::user_id.eq(caller.id),
                    m::role.eq(Role::Manager.as_str()),
                ))
                .execute(conn)
                .await?;
            let created = ev::CommunityCreated {
                community_id: id.to_string(),
                name: row.name.clone(),
                description: row.description.clone(),
                address: Some(row.proto_address()),
                coordinates: row.proto_coordinates(),
                manager_id: caller.id.to_string(),
                created_at: Some(events::timestamp(row.created_at)),
                catalog_visibility: row.catalog_visibility.to_proto().into(),
                currency: row.currency.to_string(),
            };
            state.emit(conn, id, &created, Some(rid)).await?;
            let joined = ev::MemberJoined {
                community_id: id.to_string(),
                user_id: caller.id.to_string(),
                role: ev::CommunityRole::Manager.into(),
                invite_id: String::new(),
                manager_id: caller.id.to_string(),
            };
            state.emit(conn, id, &joined, Some(rid)).await?;
            view(conn, row, caller.id).await
        }
        .scope_boxed()
    })
    .await
}

pub async fn get(state: &State, id: Uuid, caller: Caller) -> Result<CommunityView> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let standing = access::standing(&mut conn, id, caller, false).await?;
    view(&mut conn, standing.community, caller.id).await
}

/// Which communities a listing covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The ones the caller belongs to (managed ones included).
    #[default]
    Member,
    /// The ones the caller manages.
    Managed,
    /// Every community (needs `communities.manage`).
    All,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
pub enum Sort {
    #[serde(rename = "name")]
    NameAsc,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "createdAt")]
    CreatedAsc,
    #[default]
    #[serde(rename = "-createdAt")]
    CreatedDesc,
}

#[derive(Debug, Default)]
pub struct Filter {
    pub scope: Scope,
    /// Part of the name.
    pub q: Option<String>,
    pub city: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub sort: Sort,
}

pub async fn list(
    state: &State,
    caller: Caller,
    filter: Filter,
    page: Page,
) -> Result<Paginated<CommunityView>> {
    if filter.scope == Scope::All && !caller.admin {
        return Err(Error::Forbidden(
            "listing every community needs the communities.manage permission",
        ));
    }
    let mut conn = platform::db::conn(&state.pool).await?;
    let filtered = || {
        let mut q = c::table.filter(c::deleted_at.is_null()).into_boxed();
        match filter.scope {
            Scope::Member => {
                let mine = m::table
                    .filter(m::user_id.eq(caller.id))
                    .select(m::community_id);
                q = q.filter(c::id.eq_any(mine));
            }
            Scope::Managed => q = q.filter(c::manager_id.eq(caller.id)),
            Scope::All => {}
        }
        if let Some(t) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            q = q.filter(c::name.ilike(platform::db::contains_pattern(t)));
        }
        if let Some(city) = filter
            .city
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            q = q.filter(lower(c::city).eq(city.to_lowercase()));
        }
        if let Some(from) = filter.created_from {
            q = q.filter(c::created_at.ge(from));
        }
        if let Some(to) = filter.created_to {
            q = q.filter(c::created_at.lt(to));
        }
        q
    };
    let total: i64 = filtered().count().get_result(&mut conn).await?;
    let ordered = match filter.sort {
        Sort::NameAsc => filtered().order((c::name.asc(), c::id.asc())),
        Sort::NameDesc => filtered().order((c::name.desc(), c::id.asc())),
        Sort::CreatedAsc => filtered().order((c::created_at.asc(), c::id.asc())),
        Sort::CreatedDesc => filtered().order((c::created_at.desc(), c::id.asc())),
    };
    let rows: Vec<Community> = ordered
        .limit(page.limit())
        .offset(page.offset())
        .select(Community::as_select())
        .load(&mut conn)
        .await?;
    let items = views(&mut conn, rows, caller.id).await?;
    Ok(Paginated::new(
        items,
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

pub async fn update(
    state: &State,
    id: Uuid,
    caller: Caller,
    patch: CommunityPatch,
    rid: &RequestId,
) -> Result<CommunityView> {
    let name = patch
        .name
        .as_deref()
        .map(|n| required("name", n, 2))
        .transpose()?;
    // The derive does not reach inside `Option<Option<_>>`.
    if let Some(Some(c)) = patch.coordinates {
        if !(-90.0..=90.0).contains(&c.latitude) {
            return Err(Error::field("coordinates.latitude", "is out of range"));
        }
        if !(-180.0..=180.0).contains(&c.longitude) {
            return Err(Error::field("coordinates.longitude", "is out of range"));
        }
    }
    if let Some(a) = &patch.address {
        required("address.line1", &a.line1, 1)?;
        required("address.city", &a.city, 1)?;
    }
    let new_currency = patch.currency.as_deref().map(currency).transpose()?;
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let standing = access::standing(conn, id, caller, true).await?;
            standing.require_manager()?;
            let mut row = standing.community;
            if let Some(n) = name {
                row.name = n;
            }
            if let Some(d) = patch.description {
                row.description = d.trim().to_owned();
            }
            if let Some(a) = patch.address {
                row.line1 = a.line1.trim().to_owned();
                row.line2 = given(a.line2);
                row.city = a.city.trim().to_owned();
                row.region = given(a.region);
                row.postal_code = given(a.postal_code);
                row.country = a.country.to_uppercase();
            }
            if let Some(coords) = patch.coordinates {
                row.latitude = coords.map(|c| c.latitude);
                row.longitude = coords.map(|c| c.longitude);
            }
            if let Some(v) = patch.catalog_visibility {
                row.catalog_visibility = v;
            }
            if let Some(code) = new_currency {
                row.currency = code;
            }
            let row: Community = diesel::update(c::table.find(id))
                .set((
                    c::name.eq(&row.name),
                    c::description.eq(&row.description),
                    c::line1.eq(&row.line1),
                    c::line2.eq(&row.line2),
                    c::city.eq(&row.city),
                    c::region.eq(&row.region),
                    c::postal_code.eq(&row.postal_code),
                    c::country.eq(&row.country),
                    c::latitude.eq(row.latitude),
                    c::longitude.eq(row.longitude),
                    c::catalog_visibility.eq(row.catalog_visibility),
                    c::currency.eq(row.currency),
                    c::updated_at.eq(diesel::dsl::now),
                ))
                .returning(Community::as_returning())
                .get_result(conn)
                .await?;
            let event = ev::CommunityUpdated {
                community_id: id.to_string(),
                name: row.name.clone(),
                description: row.description.clone(),
                address: Some(row.proto_address()),
                coordinates: row.proto_coordinates(),
                updated_by: caller.id.to_string(),
                catalog_visibility: row.catalog_visibility.to_proto().into(),
                currency: row.currency.to_string(),
            };
            state.emit(conn, id, &event, Some(rid)).await?;
            view(conn, row, caller.id).await
        }
        .scope_boxed()
    })
    .await
}

/// Soft-deletes the community: its members are named in the event (to be told), its open
/// invites are withdrawn so their tokens stop working.
pub async fn delete(state: &State, id: Uuid, caller: Caller, rid: &RequestId) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            let standing = access::standing(conn, id, caller, true).await?;
            standing.require_manager()?;
            diesel::update(c::table.find(id))
                .set((
                    c::deleted_at.eq(diesel::dsl::now),
                    c::deleted_by.eq(caller.id),
                ))
                .execute(conn)
                .await?;
            let withdrawn: Vec<(Uuid, String)> = diesel::update(
                i::table
                    .filter(i::community_id.eq(id))
                    .filter(i::status.eq(InviteStatus::Active)),
            )
            .set((
                i::status.eq(InviteStatus::Revoked),
                i::closed_at.eq(diesel::dsl::now),
                i::closed_by.eq(caller.id),
            ))
            .returning((i::id, i::email))
            .get_results(conn)
            .await?;
            for (invite, email) in withdrawn {
                let event = ev::InviteRevoked {
                    invite_id: invite.to_string(),
                    community_id: id.to_string(),
                    email,
                    revoked_by: caller.id.to_string(),
                };
                state.emit(conn, id, &event, Some(rid)).await?;
            }
            let member_ids: Vec<Uuid> = m::table
                .filter(m::community_id.eq(id))
                .select(m::user_id)
                .load(conn)
                .await?;
            let event = ev::CommunityDeleted {
                community_id: id.to_string(),
                deleted_by: caller.id.to_string(),
                member_ids: member_ids.iter().map(Uuid::to_string).collect(),
            };
            state.emit(conn, id, &event, Some(rid)).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}
