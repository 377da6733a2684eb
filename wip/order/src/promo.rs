//! Promo codes: admins (`promo.manage`) create them; customers put one on a cart; a use is
//! counted when the order is placed, atomically (the code's row is updated with a guard on
//! its limit, so concurrent orders cannot overspend it), and given back when the order is
//! cancelled before payment.

use crate::error::{Error, Result};
use crate::pricing::Discount;
use crate::schema::{promo_codes as p, promo_redemptions as pr};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::http::pagination::{Page, Paginated};
use platform::http::patch::Patch;
use platform::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

platform::text_enum! {
    pub enum PromoKind {
        /// A share of the rent (`percentBps`).
        Percentage = "percentage",
        /// A fixed amount off the rent (`amount`).
        Fixed = "fixed",
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = p, check_for_backend(diesel::pg::Pg))]
pub struct Promo {
    pub id: Uuid,
    pub code: String,
    pub kind: PromoKind,
    pub percent_bps: Option<i32>,
    pub amount: Option<i64>,
    pub currency: Option<Currency>,
    pub min_order_amount: Option<i64>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub max_uses_per_user: Option<i32>,
    pub uses: i32,
    pub community_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A promo code as admins see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromoView {
    pub id: Uuid,
    #[schema(example = "SPRING25")]
    pub code: String,
    pub kind: PromoKind,
    /// Basis points of the rent (2500 is 25 %), for `percentage`.
    pub percent_bps: Option<i32>,
    /// For `fixed`.
    pub amount: Option<Money>,
    /// The smallest rent the code applies to.
    pub min_order_amount: Option<Money>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub max_uses_per_user: Option<i32>,
    /// Orders placed with it (cancelled ones before payment given back).
    pub uses: i32,
    /// Absent: every community.
    pub community_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Promo {
    pub fn view(&self) -> PromoView {
        let money = |a: Option<i64>| a.zip(self.currency).map(|(a, c)| Money::new(a, c));
        PromoView {
            id: self.id,
            code: self.code.clone(),
            kind: self.kind,
            percent_bps: self.percent_bps,
            amount: money(self.amount),
            min_order_amount: money(self.min_order_amount),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            max_uses: self.max_uses,
            max_uses_per_user: self.max_uses_per_user,
            uses: self.uses,
            community_id: self.community_id,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn discount(&self) -> Result<Discount> {
        match (self.kind, self.percent_bps, self.amount, self.currency) {
            (PromoKind::Percentage, Some(bps), _, _) => Ok(Discount::Percentage(
                u32::try_from(bps).map_err(|_| anyhow::anyhow!("negative basis points"))?,
            )),
            (PromoKind::Fixed, _, Some(a), Some(c)) => Ok(Discount::Fixed(Money::new(a, c))),
            _ => Err(anyhow::anyhow!("promo code {} breaks its own checks", self.id).into()),
        }
    }

    /// Whether the code applies to a cart of `community` whose rent is `rent`, now: the
    /// answer a customer gets on applying it, and again at placement.
    pub fn applies(&self, community: Uuid, rent: Money, now: DateTime<Utc>) -> Result<()> {
        let refuse = |code, message: &str| Err(Error::rule(code, message));
        if !self.active
            || self.valid_from.is_some_and(|t| now < t)
            || self.valid_until.is_some_and(|t| now >= t)
        {
            return refuse("promo_inactive", "this code is not valid now");
        }
        if self.community_id.is_some_and(|c| c != community) {
            return refuse("promo_not_here", "this code is not valid in this community");
        }
        if self.max_uses.is_some_and(|m| self.uses >= m) {
            return refuse("promo_exhausted", "this code has been used up");
        }
        if let Some(currency) = self.currency
            && currency != rent.currency()
        {
            return refuse("promo_currency", "this code is for another currency");
        }
        if self.min_order_amount.is_some_and(|min| rent.amount() < min) {
            return refuse(
                "promo_minimum",
                "the rent is below this code's minimum order amount",
            );
        }
        Ok(())
    }
}

fn normalise(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPromo {
    /// 3 to 32 letters, digits, `-` or `_`; stored and matched upper-case.
    #[validate(custom(function = "code_chars"))]
    #[schema(example = "SPRING25", pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{2,31}$")]
    pub code: String,
    pub kind: PromoKind,
    #[validate(range(min = 1, max = 10000))]
    #[schema(minimum = 1, maximum = 10000, example = 2500)]
    pub percent_bps: Option<i32>,
    pub amount: Option<Money>,
    pub min_order_amount: Option<Money>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    #[validate(range(min = 1, max = 1_000_000_000))]
    #[schema(minimum = 1)]
    pub max_uses: Option<i32>,
    #[validate(range(min = 1, max = 1_000_000_000))]
    #[schema(minimum = 1)]
    pub max_uses_per_user: Option<i32>,
    pub community_id: Option<Uuid>,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// The migration's `CHECK`, said first here so a bad code is a 400 naming the field.
fn code_chars(code: &str) -> Result<(), validator::ValidationError> {
    let mut chars = code.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if first_ok && rest_ok && (3..=32).contains(&code.len()) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("code")
            .with_message("3 to 32 letters, digits, - or _, starting with a letter or digit".into()))
    }
}

/// What may change on a code; its kind and amounts stay (make a new code instead, so orders
/// already placed keep meaning what they said).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromoPatch {
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_from: Patch<DateTime<Utc>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Patch<DateTime<Utc>>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub max_uses: Patch<i32>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    pub max_uses_per_user: Patch<i32>,
}

fn amounts(new: &NewPromo) -> Result<(Option<i64>, Option<Currency>, Option<i64>)> {
    let (percent, amount) = (new.percent_bps, new.amount);
    match new.kind {
        PromoKind::Percentage if percent.is_none() => {
            return Err(Error::field("percentBps", "required for a percentage code"));
        }
        PromoKind::Percentage if amount.is_some() => {
            return Err(Error::field("amount", "only for a fixed code"));
        }
        PromoKind::Fixed if amount.is_none() => {
            return Err(Error::field("amount", "required for a fixed code"));
        }
        PromoKind::Fixed if percent.is_some() => {
            return Err(Error::field("percentBps", "only for a percentage code"));
        }
        _ => {}
    }
    if amount.is_some_and(|a| a.amount() <= 0) {
        return Err(Error::field("amount", "must be above zero"));
    }
    if new.min_order_amount.is_some_and(|a| a.is_negative()) {
        return Err(Error::field("minOrderAmount", "must not be negative"));
    }
    let currency = match (amount, new.min_order_amount) {
        (Some(a), Some(m)) if a.currency() != m.currency() => {
            return Err(Error::field("minOrderAmount", "must be in the amount's currency"));
        }
        (Some(a), _) => Some(a.currency()),
        (None, Some(m)) => Some(m.currency()),
        (None, None) => None,
    };
    Ok((
        amount.map(|a| a.amount()),
        currency,
        new.min_order_amount.map(|m| m.amount()),
    ))
}

fn window(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>) -> Result<()> {
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        return Err(Error::field("validUntil", "must be after validFrom"));
    }
    Ok(())
}

pub async fn create(conn: &mut AsyncPgConnection, by: Uuid, new: NewPromo) -> Result<PromoView> {
    let (amount, currency, min_order) = amounts(&new)?;
    window(new.valid_from, new.valid_until)?;
    let code = normalise(&new.code);
    let inserted = diesel::insert_into(p::table)
        .values((
            p::id.eq(Uuid::now_v7()),
            p::code.eq(&code),
            p::kind.eq(new.kind),
            p::percent_bps.eq(new.percent_bps),
            p::amount.eq(amount),
            p::currency.eq(currency),
            p::min_order_amount.eq(min_order),
            p::valid_from.eq(new.valid_from),
            p::valid_until.eq(new.valid_until),
            p::max_uses.eq(new.max_uses),
            p::max_uses_per_user.eq(new.max_uses_per_user),
            p::community_id.eq(new.community_id),
            p::active.eq(new.active),
            p::created_by.eq(by),
        ))
        .on_conflict(p::code)
        .do_nothing()
        .returning(Promo::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    match inserted {
        Some(promo) => Ok(promo.view()),
        None => Err(Error::conflict("code_taken", format!("{code} exists already"))),
    }
}

pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Promo> {
    p::table
        .find(id)
        .select(Promo::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("promo code"))
}

pub async fn by_code(conn: &mut AsyncPgConnection, code: &str) -> Result<Option<Promo>> {
    Ok(p::table
        .filter(p::code.eq(normalise(code)))
        .select(Promo::as_select())
        .first(conn)
        .await
        .optional()?)
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    active: Option<bool>,
    page: Page,
) -> Result<Paginated<PromoView>> {
    let mut query = p::table.into_boxed();
    let mut count = p::table.into_boxed();
    if let Some(active) = active {
        query = query.filter(p::active.eq(active));
        count = count.filter(p::active.eq(active));
    }
    let total: i64 = count.count().get_result(conn).await?;
    let rows: Vec<Promo> = query
        .order((p::created_at.desc(), p::id.desc()))
        .limit(page.limit())
        .offset(page.offset())
        .select(Promo::as_select())
        .load(conn)
        .await?;
    Ok(Paginated::new(
        rows.iter().map(Promo::view).collect(),
        page,
        u64::try_from(total).unwrap_or(0),
    ))
}

pub async fn update(conn: &mut AsyncPgConnection, id: Uuid, patch: PromoPatch) -> Result<PromoView> {
    let current = get(conn, id).await?;
    let from = patch.valid_from.unwrap_or(current.valid_from);
    let until = patch.valid_until.unwrap_or(current.valid_until);
    window(from, until)?;
    let max_uses = patch.max_uses.unwrap_or(current.max_uses);
    if max_uses.is_some_and(|m| m < 1) || patch.max_uses_per_user.flatten().is_some_and(|m| m < 1)
    {
        return Err(Error::field("maxUses", "must be at least 1"));
    }
    if max_uses.is_some_and(|m| m < current.uses) {
        return Err(Error::rule(
            "below_uses",
            format!("the code has been used {} times already", current.uses),
        ));
    }
    let promo = diesel::update(p::table.find(id))
        .set((
            p::active.eq(patch.active.unwrap_or(current.active)),
            p::valid_from.eq(from),
            p::valid_until.eq(until),
            p::max_uses.eq(max_uses),
            p::max_uses_per_user.eq(patch.max_uses_per_user.unwrap_or(current.max_uses_per_user)),
            p::updated_at.eq(Utc::now()),
        ))
        .returning(Promo::as_returning())
        .get_result(conn)
        .await?;
    Ok(promo.view())
}

/// Retires a code: orders placed with it keep their discount; carts holding it lose it.
pub async fn deactivate(conn: &mut AsyncPgConnection, id: Uuid) -> Result<PromoView> {
    let promo = diesel::update(p::table.find(id))
        .set((p::active.eq(false), p::updated_at.eq(Utc::now())))
        .returning(Promo::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("promo code"))?;
    Ok(promo.view())
}

/// Counts one use for `order`, in the placement's transaction. The guarded `UPDATE` takes
/// the code's row lock, so concurrent placements queue on it and the limit check and the
/// per-user count below see every use committed before them: N uses left give exactly N
/// discounts.
pub async fn redeem(
    conn: &mut AsyncPgConnection,
    promo: &Promo,
    user: Uuid,
    order: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    let taken = diesel::update(
        p::table
            .find(promo.id)
            .filter(p::active.eq(true))
            .filter(p::max_uses.is_null().or(p::uses.lt(p::max_uses.assume_not_null()))),
    )
    .set(p::uses.eq(p::uses + 1))
    .returning(p::valid_until)
    .get_result::<Option<DateTime<Utc>>>(conn)
    .await
    .optional()?;
    let Some(until) = taken else {
        return Err(Error::rule("promo_exhausted", "this code has been used up"));
    };
    if until.is_some_and(|t| now >= t) {
        return Err(Error::rule("promo_inactive", "this code is not valid now"));
    }
    if let Some(per_user) = promo.max_uses_per_user {
        let used: i64 = pr::table
            .filter(pr::promo_code_id.eq(promo.id))
            .filter(pr::user_id.eq(user))
            .count()
            .get_result(conn)
            .await?;
        if used >= i64::from(per_user) {
            return Err(Error::rule(
                "promo_used",
                "you have used this code as often as it allows",
            ));
        }
    }
    diesel::insert_into(pr::table)
        .values((
            pr::order_id.eq(order),
            pr::promo_code_id.eq(promo.id),
            pr::user_id.eq(user),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives the order's use back (cancelled before payment). Nothing to give back is fine.
pub async fn give_back(conn: &mut AsyncPgConnection, order: Uuid) -> Result<()> {
    let freed: Option<Uuid> = diesel::delete(pr::table.find(order))
        .returning(pr::promo_code_id)
        .get_result(conn)
        .await
        .optional()?;
    if let Some(promo) = freed {
        diesel::update(p::table.find(promo).filter(p::uses.gt(0)))
            .set(p::uses.eq(p::uses - 1))
            .execute(conn)
            .await?;
    }
    Ok(())
}
