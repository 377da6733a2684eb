//! The price of renting a tool for a period, in one function the catalog (its quotes) and
//! the order service (its cart) both call, so a price shown is the price charged.
//!
//! A period is half-open, `[start, end)` in whole days: collected on the 24th and back on
//! the 27th is 3 days. The rates: a daily price, and optionally a weekly and a monthly
//! (30-day) one. The period is charged in months, then weeks, then days, and no part costs
//! more than the next rate up: 6 days never cost more than a week, 3 weeks and 6 days
//! never more than a month. So a longer rental never costs less than a shorter one, and
//! a customer never does better by splitting one.

use chrono::NaiveDate;
use platform::money::{Money, MoneyError};
use serde::Serialize;
use utoipa::ToSchema;

/// Days in the monthly rate.
pub const MONTH_DAYS: i64 = 30;
pub const WEEK_DAYS: i64 = 7;

/// What a tool costs, all in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub daily: Money,
    pub weekly: Option<Money>,
    pub monthly: Option<Money>,
    /// Held on the customer's card and released on a good return, per unit.
    pub deposit: Money,
    pub min_days: i64,
    pub max_days: i64,
}

/// The price of `quantity` units for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub days: i64,
    pub quantity: i64,
    /// One unit for the whole period.
    pub unit_rent: Money,
    /// `unit_rent` times the quantity.
    pub rent: Money,
    /// The deposit of every unit.
    pub deposit: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("the period must end after it starts")]
    EmptyPeriod,
    #[error("this tool is rented for {min} to {max} days, not {days}")]
    Length { days: i64, min: i64, max: i64 },
    #[error("the quantity must be at least 1")]
    Quantity,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl QuoteError {
    /// A stable code for clients and for the saga's rejection reasons.
    pub fn code(&self) -> &'static str {
        match self {
            QuoteError::EmptyPeriod => "empty_period",
            QuoteError::Length { .. } => "rental_length",
            QuoteError::Quantity => "quantity",
            QuoteError::Money(_) => "amount",
        }
    }
}

/// Whole days of `[start, end)`.
pub fn days(start: NaiveDate, end: NaiveDate) -> i64 {
    (end - start).num_days()
}

pub fn quote(
    rates: &Rates,
    start: NaiveDate,
    end: NaiveDate,
    quantity: i64,
) -> Result<Quote, QuoteError> {
    let days = days(start, end);
    if days <= 0 {
        return Err(QuoteError::EmptyPeriod);
    }
    if days < rates.min_days || days > rates.max_days {
        return Err(QuoteError::Length {
            days,
            min: rates.min_days,
            max: rates.max_days,
        });
    }
    if quantity < 1 {
        return Err(QuoteError::Quantity);
    }
    let unit_rent = rent(rates, days)?;
    Ok(Quote {
        days,
        quantity,
        unit_rent,
        rent: unit_rent.checked_mul(quantity)?,
        deposit: rates.deposit.checked_mul(quantity)?,
    })
}

/// One unit for `days` days (at least one).
pub fn rent(rates: &Rates, days: i64) -> Result<Money, MoneyError> {
    match rates.monthly {
        Some(month) => {
            let whole = month.checked_mul(days / MONTH_DAYS)?;
            let rest = weeks_and_days(rates, days % MONTH_DAYS)?;
            whole.checked_add(cheaper(rest, month))
        }
        None => weeks_and_days(rates, days),
    }
}

fn weeks_and_days(rates: &Rates, days: i64) -> Result<Money, MoneyError> {
    match rates.weekly {
        Some(week) => {
            let whole = week.checked_mul(days / WEEK_DAYS)?;
            let rest = rates.daily.checked_mul(days % WEEK_DAYS)?;
            whole.checked_add(cheaper(rest, week))
        }
        None => rates.daily.checked_mul(days),
    }
}

fn cheaper(a: Money, b: Money) -> Money {
    if b.amount() < a.amount() { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::money::Currency;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    fn rates(daily: i64, weekly: Option<i64>, monthly: Option<i64>) -> Rates {
        Rates {
            daily: eur(daily),
            weekly: weekly.map(eur),
            monthly: monthly.map(eur),
            deposit: eur(5_000),
            min_days: 1,
            max_days: 90,
        }
    }

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, day).unwrap()
    }

    #[test]
    fn days_are_the_half_open_period() {
        assert_eq!(days(d(24), d(27)), 3);
        let q = quote(&rates(1_000, None, None), d(24), d(27), 2).unwrap();
        assert_eq!(
            (q.days, q.unit_rent, q.rent, q.deposit),
            (3, eur(3_000), eur(6_000), eur(10_000))
        );
    }

    #[test]
    fn weekly_and_monthly_rates_apply_and_cap_the_parts() {
        let r = rates(1_000, Some(5_000), Some(15_000));
        assert_eq!(rent(&r, 4).unwrap(), eur(4_000));
        // 6 days at the daily rate (6,000) would cost more than the week.
        assert_eq!(rent(&r, 6).unwrap(), eur(5_000));
        assert_eq!(rent(&r, 7).unwrap(), eur(5_000));
        assert_eq!(rent(&r, 9).unwrap(), eur(7_000));
        // 3 weeks and 6 days (20,000) is capped at the month.
        assert_eq!(rent(&r, 27).unwrap(), eur(15_000));
        assert_eq!(rent(&r, 30).unwrap(), eur(15_000));
        assert_eq!(rent(&r, 32).unwrap(), eur(17_000));
    }

    #[test]
    fn a_longer_rental_never_costs_less() {
        for r in [
            rates(1_000, Some(5_000), Some(15_000)),
            rates(700, Some(6_000), None),
            rates(900, None, Some(20_000)),
        ] {
            let mut last = 0;
            for days in 1..=90 {
                let price = rent(&r, days).unwrap().amount();
                assert!(
                    price >= last,
                    "{days} days cost {price}, {} cost {last}",
                    days - 1
                );
                last = price;
            }
        }
    }

    #[test]
    fn bad_periods_and_quantities_are_refused_with_their_code() {
        let mut r = rates(1_000, None, None);
        r.min_days = 2;
        r.max_days = 5;
        assert_eq!(quote(&r, d(5), d(5), 1).unwrap_err().code(), "empty_period");
        assert_eq!(
            quote(&r, d(5), d(6), 1).unwrap_err().code(),
            "rental_length"
        );
        assert_eq!(
            quote(&r, d(5), d(11), 1).unwrap_err().code(),
            "rental_length"
        );
        assert_eq!(quote(&r, d(5), d(7), 0).unwrap_err().code(), "quantity");
        assert!(quote(&r, d(5), d(10), 1).is_ok());
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let r = rates(i64::MAX / 2, None, None);
        assert!(matches!(
            quote(&r, d(1), d(4), 1),
            Err(QuoteError::Money(_))
        ));
    }
}
