//! Money: an integer amount of minor units (cents, pence, yen) with its ISO 4217 currency.
//!
//! Why integers: binary floats cannot hold 0.10 exactly, so sums of prices drift and two
//! services can disagree by a cent about the same order. Every amount here is an `i64`
//! count of the currency's smallest unit, and every operation that can lose precision
//! (percentages, splits) says how it rounds. There is no float anywhere in this module.
//!
//! Why the currency travels with the amount: `1250` alone is EUR 12.50 or JPY 1,250. Adding
//! amounts of two currencies is an error, not a silent sum.
//!
//! - JSON (requests, responses, event payloads that embed JSON): `{"amount": 1250,
//!   "currency": "EUR"}`, the amount in minor units. Deserialising checks the currency code.
//! - Database: two columns, not a custom SQL type, so SQL can sum and compare amounts:
//!
//!   ```sql
//!   price_amount   BIGINT  NOT NULL,
//!   price_currency CHAR(3) NOT NULL CHECK (price_currency ~ '^[A-Z]{3}$'),
//!   ```
//!
//!   Reading: [`Money`] is `Queryable` from the pair `(BigInt, Text)`, so a `Selectable`
//!   struct names both columns for one field:
//!
//!   ```ignore
//!   #[derive(Queryable, Selectable)]
//!   #[diesel(table_name = tools, check_for_backend(diesel::pg::Pg))]
//!   struct ToolRow {
//!       id: Uuid,
//!       #[diesel(select_expression = (tools::price_amount, tools::price_currency))]
//!       #[diesel(select_expression_type = (tools::price_amount, tools::price_currency))]
//!       price: Money,
//!   }
//!   ```
//!
//!   Writing: [`Money::to_columns`] gives the two assignments, for `.values(..)` and
//!   `.set(..)`: `.values((tools::id.eq(id), price.to_columns(tools::price_amount,
//!   tools::price_currency)))`. [`Currency`] alone maps to a `Text`/`CHAR(3)` column.

use diesel::deserialize::{self, FromSql, FromSqlRow, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use diesel::{Expression, ExpressionMethods};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// Basis points in a whole: 10,000 bps = 100 %.
pub const BPS_PER_WHOLE: u32 = 10_000;

/// What can go wrong with money; every operation that can fail says so in its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be three upper-case letters (ISO 4217), got {0:?}")]
    InvalidCurrency(String),
    #[error("cannot combine amounts in {left} and {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    /// The result does not fit in an `i64` of minor units.
    #[error("amount out of range")]
    Overflow,
    #[error("a discount is 0 to 10000 basis points, got {0}")]
    InvalidDiscount(u32),
    /// An allocation over no parts, or over parts whose weights are all zero.
    #[error("nothing to allocate over")]
    NoParts,
}

impl From<MoneyError> for crate::http::ApiError {
    fn from(e: MoneyError) -> Self {
        use crate::http::ApiError;
        match e {
            MoneyError::InvalidCurrency(_) => {
                ApiError::bad_request(e.to_string()).with_code("invalid_currency")
            }
            MoneyError::CurrencyMismatch { .. } => {
                ApiError::unprocessable(e.to_string()).with_code("currency_mismatch")
            }
            MoneyError::Overflow => {
                ApiError::unprocessable(e.to_string()).with_code("amount_out_of_range")
            }
            MoneyError::InvalidDiscount(_) => {
                ApiError::unprocessable(e.to_string()).with_code("invalid_discount")
            }
            // Allocating over nothing is a bug in the caller, not in the request.
            MoneyError::NoParts => ApiError::internal(e),
        }
    }
}

/// An ISO 4217 currency code: exactly three upper-case ASCII letters (`EUR`).
///
/// Any such code is accepted (the list changes; a service that trades only in some
/// currencies checks that itself). The minor-unit exponent is known for the codes ISO
/// gives no or three decimals; every other code has two.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Currency([u8; 3]);

/// Currencies without a minor unit (ISO 4217 exponent 0).
const EXPONENT_0: &[&[u8; 3]] = &[
    b"BIF", b"CLP", b"DJF", b"GNF", b"ISK", b"JPY", b"KMF", b"KRW", b"PYG", b"RWF", b"UGX", b"UYI",
    b"VND", b"VUV", b"XAF", b"XOF", b"XPF",
];
/// Currencies with thousandths (ISO 4217 exponent 3).
const EXPONENT_3: &[&[u8; 3]] = &[b"BHD", b"IQD", b"JOD", b"KWD", b"LYD", b"OMR", b"TND"];
/// Currencies with ten-thousandths (ISO 4217 exponent 4): units of account.
const EXPONENT_4: &[&[u8; 3]] = &[b"CLF", b"UYW"];

impl Currency {
    pub const EUR: Self = Self(*b"EUR");
    pub const USD: Self = Self(*b"USD");
    pub const GBP: Self = Self(*b"GBP");
    pub const CHF: Self = Self(*b"CHF");
    pub const JPY: Self = Self(*b"JPY");

    /// Parses a code; lower case and anything but three ASCII letters are refused, so a
    /// value read back always prints as it was written.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(MoneyError::InvalidCurrency(code.chars().take(16).collect())),
        }
    }

    pub fn as_str(&self) -> &str {
        // The bytes are ASCII letters by construction, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit: 2 for EUR (cents), 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u32 {
        if EXPONENT_0.contains(&&self.0) {
            0
        } else if EXPONENT_3.contains(&&self.0) {
            3
        } else if EXPONENT_4.contains(&&self.0) {
            4
        } else {
            2
        }
    }

    /// Minor units in one major unit: 100 for EUR, 1 for JPY, 1000 for KWD.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Code;
        impl serde::de::Visitor<'_> for Code {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"EUR\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(Code)
    }
}

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("ISO 4217 currency code: three upper-case letters."))
            .pattern(Some("^[A-Z]{3}$"))
            .min_length(Some(3))
            .max_length(Some(3))
            .examples(["EUR"])
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

impl ToSql<Text, Pg> for Currency {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for Currency {
    /// A stored code is checked like a received one: a bad row is an error, not a guess.
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(value)?;
        // CHAR(3) pads shorter values with spaces; a valid code is never shorter.
        Ok(Self::parse(text.trim_end())?)
    }
}

/// An amount of money: `amount` minor units of `currency`. On the wire
/// `{"amount": 1250, "currency": "EUR"}` is EUR 12.50 and `{"amount": 1250, "currency":
/// "JPY"}` is JPY 1,250: the amount is always an integer count of the currency's minor
/// unit, never a decimal. Negative amounts are allowed (refunds, ledger debits); whether a
/// price may be negative is the caller's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"amount": 1250, "currency": "EUR"}))]
pub struct Money {
    /// Minor units of the currency (cents for EUR: 1250 is EUR 12.50), an integer.
    #[schema(example = 1250)]
    amount: i64,
    currency: Currency,
}

impl Money {
    /// `amount` minor units of `currency`: `Money::new(1250, Currency::EUR)` is EUR 12.50.
    pub const fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units.
    pub const fn amount(&self) -> i64 {
        self.amount
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    pub const fn is_zero(&self) -> bool {
        self.amount == 0
    }

    pub const fn is_negative(&self) -> bool {
        self.amount < 0
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    fn with_amount(&self, amount: i128) -> Result<Money, MoneyError> {
        let amount = i64::try_from(amount).map_err(|_| MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_add(&self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    pub fn checked_sub(&self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// The price of `quantity` items at this unit price.
    pub fn checked_mul(&self, quantity: i64) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(quantity)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// The sum of `items`, all in `currency` (an empty list sums to zero of it).
    pub fn sum(
        currency: Currency,
        items: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }

    /// `bps` basis points of this amount (1250 bps = 12.5 %), rounded to the nearest minor
    /// unit with ties away from zero: half-up for the positive amounts prices are (12.5 % of
    /// EUR 0.04 is 0.5 cent, which rounds to 1 cent), and mirrored for negative amounts so a
    /// refund's share is exactly the negated charge's share. Above 10,000 bps is allowed
    /// (a 150 % surcharge); use [`Money::discounted`] for discounts.
    pub fn percentage(&self, bps: u32) -> Result<Money, MoneyError> {
        let whole = i128::from(BPS_PER_WHOLE);
        let scaled = i128::from(self.amount) * i128::from(bps);
        let (quotient, remainder) = (scaled / whole, scaled % whole);
        let rounded = if remainder.abs() * 2 >= whole {
            quotient + scaled.signum()
        } else {
            quotient
        };
        self.with_amount(rounded)
    }

    /// This amount less a discount of `bps` basis points (0..=10,000). The discount is
    /// [`Money::percentage`] of the amount, rounded half-up (ties away from zero), and the
    /// result is the amount minus that discount: on a tie the customer gets the half unit.
    /// `price.checked_sub(price.discounted(bps)?)` is the discount itself.
    pub fn discounted(&self, bps: u32) -> Result<Money, MoneyError> {
        if bps > BPS_PER_WHOLE {
            return Err(MoneyError::InvalidDiscount(bps));
        }
        self.checked_sub(self.percentage(bps)?)
    }

    /// Splits this amount in proportion to `weights` without losing or inventing a minor
    /// unit: the parts always sum to the whole. Each part first gets the rounded-down
    /// (toward zero) share; the minor units left over go one each to the parts with the
    /// largest remainders, the earlier part first on equal remainders. A part of weight 0
    /// gets nothing. Negative amounts split as the negation of their magnitude's split.
    ///
    /// `Money::new(1000, EUR).allocate(&[1, 1, 1])` is `[334, 333, 333]`; a 70/30 fee split
    /// of 999 is `[699, 300]`.
    pub fn allocate(&self, weights: &[u32]) -> Result<Vec<Money>, MoneyError> {
        let total: u128 = weights.iter().map(|&w| u128::from(w)).sum();
        if total == 0 {
            return Err(MoneyError::NoParts);
        }
        let magnitude = i128::from(self.amount).unsigned_abs();
        let exact: Vec<(u128, u128)> = weights
            .iter()
            .map(|&w| {
                let scaled = magnitude * u128::from(w);
                (scaled / total, scaled % total)
            })
            .collect();
        let floor_sum: u128 = exact.iter().map(|(share, _)| share).sum();
        // Fewer than `weights.len()` units: the remainders' fractions sum to below that.
        let left_over = usize::try_from(magnitude - floor_sum).map_err(|_| MoneyError::Overflow)?;
        let mut order: Vec<usize> = (0..exact.len()).collect();
        order.sort_by(|&a, &b| exact[b].1.cmp(&exact[a].1).then(a.cmp(&b)));
        let mut shares: Vec<u128> = exact.iter().map(|(share, _)| *share).collect();
        for &i in order.iter().take(left_over) {
            shares[i] += 1;
        }
        let sign: i128 = if self.amount < 0 { -1 } else { 1 };
        shares
            .into_iter()
            .map(|share| {
                let share = i128::try_from(share).map_err(|_| MoneyError::Overflow)?;
                self.with_amount(sign * share)
            })
            .collect()
    }

    /// Splits this amount into `parts` near-equal parts that sum to the whole; the first
    /// parts get the extra minor units (`1000` in 3 is `[334, 333, 333]`).
    pub fn split(&self, parts: usize) -> Result<Vec<Money>, MoneyError> {
        self.allocate(&vec![1; parts])
    }

    /// The two column assignments that store this amount, for `insert_into(..).values(..)`
    /// and `update(..).set(..)`: `price.to_columns(tools::price_amount, tools::price_currency)`.
    pub fn to_columns<A, C>(
        &self,
        amount: A,
        currency: C,
    ) -> (diesel::dsl::Eq<A, i64>, diesel::dsl::Eq<C, Currency>)
    where
        A: ExpressionMethods + Expression<SqlType = BigInt>,
        C: ExpressionMethods + Expression<SqlType = Text>,
    {
        (amount.eq(self.amount), currency.eq(self.currency))
    }
}

/// `(amount BIGINT, currency TEXT/CHAR(3))` read as one value; see the module docs.
impl Queryable<(BigInt, Text), Pg> for Money {
    type Row = (i64, Currency);

    fn build((amount, currency): Self::Row) -> deserialize::Result<Self> {
        Ok(Money::new(amount, currency))
    }
}

/// `12.50 EUR`, `-3.000 KWD`, `1250 JPY`: for logs and plain-text messages, not for
/// parsing back (clients get the JSON form and format for their locale).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.exponent();
        let magnitude = i128::from(self.amount).unsigned_abs();
        let sign = if self.amount < 0 { "-" } else { "" };
        if exponent == 0 {
            return write!(f, "{sign}{magnitude} {}", self.currency);
        }
        let unit = 10_u128.pow(exponent);
        let width = exponent as usize;
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            magnitude / unit,
            magnitude % unit,
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    fn amounts(parts: &[Money]) -> Vec<i64> {
        parts.iter().map(Money::amount).collect()
    }

    /// A small deterministic generator (xorshift64*), so the property tests need no crate
    /// and a failure reproduces.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn amount(&mut self) -> i64 {
            // Mix small amounts (where rounding shows) with extremes (where overflow would).
            match self.next() % 4 {
                0 => (self.next() % 200) as i64 - 100,
                1 => (self.next() % 1_000_000) as i64,
                2 => self.next() as i64,
                _ => [i64::MIN, i64::MAX, i64::MIN + 1, 0][(self.next() % 4) as usize],
            }
        }
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
        for bad in ["eur", "EU", "EURO", "E1R", "", "ÉUR", "EU "] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(Currency::EUR.exponent(), 2);
        assert_eq!(Currency::JPY.exponent(), 0);
        assert_eq!(Currency::parse("KRW").unwrap().exponent(), 0);
        for three in ["BHD", "KWD", "JOD", "OMR", "TND"] {
            assert_eq!(Currency::parse(three).unwrap().exponent(), 3, "{three}");
        }
        assert_eq!(Currency::parse("KWD").unwrap().minor_per_major(), 1000);
        assert_eq!(format!("{:?}", Currency::GBP), "Currency(GBP)");
    }

    #[test]
    fn json_is_amount_in_minor_units_and_a_checked_code() {
        let price = eur(1250);
        assert_eq!(
            serde_json::to_value(price).unwrap(),
            json!({"amount": 1250, "currency": "EUR"})
        );
        let back: Money =
            serde_json::from_value(json!({"amount": 1250, "currency": "EUR"})).unwrap();
        assert_eq!(back, price);
        for bad in [
            json!({"amount": 1250, "currency": "eur"}),
            json!({"amount": 1250, "currency": "EURO"}),
            json!({"amount": 12.5, "currency": "EUR"}),
            json!({"amount": "1250", "currency": "EUR"}),
            json!({"amount": 1250}),
        ] {
            assert!(
                serde_json::from_value::<Money>(bad.clone()).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn the_schema_documents_the_wire_form() {
        use utoipa::PartialSchema;
        let money = serde_json::to_value(Money::schema()).unwrap();
        assert_eq!(money["properties"]["amount"]["format"], "int64");
        assert_eq!(money["example"], json!({"amount": 1250, "currency": "EUR"}));
        assert!(
            money["description"]
                .as_str()
                .unwrap()
                .contains("minor unit")
        );
        let currency = serde_json::to_value(Currency::schema()).unwrap();
        assert_eq!(currency["pattern"], "^[A-Z]{3}$");
    }

    #[test]
    fn arithmetic_is_checked_and_keeps_currencies_apart() {
        assert_eq!(eur(1250).checked_add(eur(250)), Ok(eur(1500)));
        assert_eq!(eur(1250).checked_sub(eur(1500)), Ok(eur(-250)));
        assert_eq!(eur(1250).checked_mul(3), Ok(eur(3750)));
        assert_eq!(
            eur(1).checked_add(Money::new(1, Currency::USD)),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::EUR,
                right: Currency::USD
            })
        );
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), Err(MoneyError::Overflow));
        assert_eq!(eur(i64::MIN).checked_sub(eur(1)), Err(MoneyError::Overflow));
        assert_eq!(
            eur(i64::MAX / 2 + 1).checked_mul(2),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::sum(Currency::EUR, [eur(1), eur(2), eur(3)]),
            Ok(eur(6))
        );
        assert_eq!(Money::sum(Currency::EUR, []), Ok(eur(0)));
        assert!(Money::sum(Currency::USD, [eur(1)]).is_err());
    }

    #[test]
    fn percentages_round_half_up_on_minor_units() {
        // 12.5 % of 4 cents is 0.5 cent: a tie, rounded up.
        assert_eq!(eur(4).percentage(1250), Ok(eur(1)));
        // 12.5 % of 3 cents is 0.375 cent: rounded down.
        assert_eq!(eur(3).percentage(1250), Ok(eur(0)));
        // 12.5 % of 5 cents is 0.625 cent: rounded up.
        assert_eq!(eur(5).percentage(1250), Ok(eur(1)));
        assert_eq!(eur(-4).percentage(1250), Ok(eur(-1)));
        assert_eq!(eur(1999).percentage(10_000), Ok(eur(1999)));
        assert_eq!(eur(1000).percentage(15_000), Ok(eur(1500)));
        assert_eq!(eur(i64::MAX).percentage(20_000), Err(MoneyError::Overflow));
        assert_eq!(eur(i64::MIN).percentage(10_000), Ok(eur(i64::MIN)));

        // 15 % off EUR 19.99: the discount is 299.85 -> 300 cents, the price 16.99.
        assert_eq!(eur(1999).discounted(1500), Ok(eur(1699)));
        assert_eq!(eur(1999).discounted(0), Ok(eur(1999)));
        assert_eq!(eur(1999).discounted(10_000), Ok(eur(0)));
        assert_eq!(
            eur(1999).discounted(10_001),
            Err(MoneyError::InvalidDiscount(10_001))
        );
    }

    #[test]
    fn percentages_of_a_negation_are_the_negated_percentage() {
        let mut rng = Rng(0x5eed_0001);
        for _ in 0..10_000 {
            let a = rng.amount();
            let bps = (rng.next() % 20_001) as u32;
            let (Ok(neg), Ok(pos)) = (eur(a).checked_mul(-1), eur(a).percentage(bps)) else {
                continue;
            };
            match neg.percentage(bps) {
                Ok(p) => assert_eq!(p.amount(), -pos.amount(), "{a} at {bps}"),
                Err(e) => assert_eq!(e, MoneyError::Overflow),
            }
        }
    }

    #[test]
    fn allocation_hands_out_remainders_by_largest_remainder() {
        assert_eq!(amounts(&eur(1000).split(3).unwrap()), [334, 333, 333]);
        assert_eq!(amounts(&eur(-1000).split(3).unwrap()), [-334, -333, -333]);
        assert_eq!(amounts(&eur(2).split(3).unwrap()), [1, 1, 0]);
        assert_eq!(amounts(&eur(999).allocate(&[70, 30]).unwrap()), [699, 300]);
        // 5 over [1, 2]: exact shares 1.67 and 3.33; the larger remainder (the first) wins.
        assert_eq!(amounts(&eur(5).allocate(&[1, 2]).unwrap()), [2, 3]);
        assert_eq!(amounts(&eur(10).allocate(&[0, 1, 0]).unwrap()), [0, 10, 0]);
        assert_eq!(eur(10).allocate(&[]), Err(MoneyError::NoParts));
        assert_eq!(eur(10).allocate(&[0, 0]), Err(MoneyError::NoParts));
        assert_eq!(eur(10).split(0), Err(MoneyError::NoParts));
        let extremes = eur(i64::MIN).allocate(&[u32::MAX, 1]).unwrap();
        assert_eq!(Money::sum(Currency::EUR, extremes).unwrap(), eur(i64::MIN));
    }

    #[test]
    fn allocation_never_loses_or_invents_a_minor_unit() {
        let mut rng = Rng(0x5eed_0002);
        for _ in 0..5_000 {
            let whole = eur(rng.amount());
            let weights: Vec<u32> = (0..1 + rng.next() % 12)
                .map(|_| match rng.next() % 3 {
                    0 => 0,
                    1 => (rng.next() % 10) as u32,
                    _ => rng.next() as u32,
                })
                .collect();
            let Ok(parts) = whole.allocate(&weights) else {
                assert!(weights.iter().all(|&w| w == 0), "{whole} over {weights:?}");
                continue;
            };
            assert_eq!(parts.len(), weights.len());
            let total: i128 = parts.iter().map(|p| i128::from(p.amount())).sum();
            assert_eq!(
                total,
                i128::from(whole.amount()),
                "{whole} over {weights:?}"
            );
            let weight_sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
            for (part, &w) in parts.iter().zip(&weights) {
                // Every part is within one minor unit of its exact share, on the whole's side.
                let exact_floor =
                    i128::from(whole.amount()).unsigned_abs() * u128::from(w) / weight_sum;
                let got = i128::from(part.amount()).unsigned_abs();
                assert!(
                    got == exact_floor || got == exact_floor + 1,
                    "{whole} over {weights:?}"
                );
                assert!(part.amount() == 0 || part.is_negative() == whole.is_negative());
                if w == 0 {
                    assert!(part.is_zero());
                }
            }
        }
    }

    #[test]
    fn equal_splits_differ_by_at_most_one_unit() {
        let mut rng = Rng(0x5eed_0003);
        for _ in 0..2_000 {
            let whole = eur(rng.amount());
            let n = 1 + (rng.next() % 50) as usize;
            let parts = whole.split(n).unwrap();
            let (min, max) = (
                parts.iter().map(Money::amount).min().unwrap(),
                parts.iter().map(Money::amount).max().unwrap(),
            );
            assert!(i128::from(max) - i128::from(min) <= 1, "{whole} in {n}");
            assert_eq!(Money::sum(Currency::EUR, parts), Ok(whole));
        }
    }

    #[test]
    fn display_uses_the_currency_exponent() {
        assert_eq!(eur(1250).to_string(), "12.50 EUR");
        assert_eq!(eur(-5).to_string(), "-0.05 EUR");
        assert_eq!(Money::new(1250, Currency::JPY).to_string(), "1250 JPY");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(-3000, kwd).to_string(), "-3.000 KWD");
        assert_eq!(eur(i64::MIN).to_string(), "-92233720368547758.08 EUR");
    }

    diesel::table! {
        tools (id) {
            id -> Int8,
            price_amount -> Int8,
            price_currency -> Bpchar,
        }
    }

    #[derive(diesel::Queryable, diesel::Selectable)]
    #[diesel(table_name = tools, check_for_backend(diesel::pg::Pg))]
    #[allow(dead_code)]
    struct ToolRow {
        id: i64,
        #[diesel(select_expression = (tools::price_amount, tools::price_currency))]
        #[diesel(select_expression_type = (tools::price_amount, tools::price_currency))]
        price: Money,
    }

    #[test]
    fn the_diesel_helpers_name_both_columns() {
        use diesel::prelude::*;
        let price = eur(1250);
        let insert = diesel::insert_into(tools::table).values((
            tools::id.eq(1),
            price.to_columns(tools::price_amount, tools::price_currency),
        ));
        let sql = diesel::debug_query::<Pg, _>(&insert).to_string();
        assert!(
            sql.contains(r#"("id", "price_amount", "price_currency")"#),
            "{sql}"
        );
        assert!(sql.contains(r#"binds: [1, 1250, Currency(EUR)]"#), "{sql}");
        let select = tools::table.select(ToolRow::as_select());
        let sql = diesel::debug_query::<Pg, _>(&select).to_string();
        assert!(
            sql.contains(r#""tools"."price_amount", "tools"."price_currency""#),
            "{sql}"
        );
    }
}
