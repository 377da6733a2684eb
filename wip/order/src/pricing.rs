//! What an order costs: the lines' rent (from `rental::quote`), the promo code's discount
//! (on the rent only, never on the deposit or the delivery), the deposits held beside the
//! payment, the delivery fee once the delivery service fixed it.

use platform::money::{Money, MoneyError};
use serde::Serialize;
use utoipa::ToSchema;

/// A promo code's effect, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// Basis points of the rent (2500 is 25 %).
    Percentage(u32),
    /// A fixed amount off the rent, never more than the rent.
    Fixed(Money),
}

impl Discount {
    /// The amount off `rent`, at most the rent; a percentage rounds half-up as the kit's
    /// `Money::discounted` does (on a tie the customer gets the half unit).
    pub fn off(&self, rent: Money) -> Result<Money, MoneyError> {
        let off = match self {
            Discount::Percentage(bps) => rent.percentage(*bps)?,
            Discount::Fixed(amount) => {
                if amount.currency() != rent.currency() {
                    return Err(MoneyError::CurrencyMismatch {
                        left: rent.currency(),
                        right: amount.currency(),
                    });
                }
                *amount
            }
        };
        Ok(if off.amount() > rent.amount() {
            rent
        } else {
            off
        })
    }
}

/// The sums of a cart or an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// The lines' rent, before the discount.
    pub rent: Money,
    pub discount: Money,
    /// Held on the card beside the payment and released on a good return.
    pub deposit: Money,
    /// Unknown (absent) until the delivery service fixed it; zero for pickup.
    pub delivery_fee: Option<Money>,
    /// What is charged: rent less the discount, plus the delivery fee when known.
    pub total: Money,
    /// What the card must cover for now: the total and the deposit.
    pub to_authorize: Money,
}

impl Totals {
    pub fn new(
        rent: Money,
        discount: Money,
        deposit: Money,
        delivery_fee: Option<Money>,
    ) -> Result<Totals, MoneyError> {
        let mut total = rent.checked_sub(discount)?;
        if let Some(fee) = delivery_fee {
            total = total.checked_add(fee)?;
        }
        Ok(Totals {
            rent,
            discount,
            deposit,
            delivery_fee,
            total,
            to_authorize: total.checked_add(deposit)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::money::Currency;

    fn eur(a: i64) -> Money {
        Money::new(a, Currency::EUR)
    }

    #[test]
    fn a_percentage_rounds_half_up_and_a_fixed_amount_never_exceeds_the_rent() {
        assert_eq!(Discount::Percentage(2500).off(eur(999)).unwrap(), eur(250));
        assert_eq!(Discount::Percentage(2500).off(eur(998)).unwrap(), eur(250));
        assert_eq!(Discount::Percentage(2500).off(eur(997)).unwrap(), eur(249));
        assert_eq!(Discount::Percentage(10000).off(eur(999)).unwrap(), eur(999));
        assert_eq!(Discount::Fixed(eur(500)).off(eur(1200)).unwrap(), eur(500));
        assert_eq!(Discount::Fixed(eur(5000)).off(eur(1200)).unwrap(), eur(1200));
    }

    #[test]
    fn a_fixed_amount_in_another_currency_is_refused() {
        let usd = Money::new(500, Currency::parse("USD").unwrap());
        assert!(Discount::Fixed(usd).off(eur(1200)).is_err());
    }

    #[test]
    fn totals_take_the_discount_off_the_rent_only() {
        let t = Totals::new(eur(3000), eur(750), eur(10000), Some(eur(490))).unwrap();
        assert_eq!(t.total, eur(3000 - 750 + 490));
        assert_eq!(t.to_authorize, eur(3000 - 750 + 490 + 10000));
        let pickup = Totals::new(eur(3000), eur(0), eur(10000), None).unwrap();
        assert_eq!(pickup.total, eur(3000));
    }

    #[test]
    fn totals_refuse_a_discount_above_the_rent_and_mixed_currencies() {
        // The discount is capped before it gets here; a bigger one is a bug, not a credit.
        assert!(Totals::new(eur(100), eur(200), eur(0), None).is_ok_and(|t| t.total.is_negative()));
        let usd = Money::new(1, Currency::parse("USD").unwrap());
        assert!(Totals::new(eur(100), eur(0), usd, None).is_err());
    }
}
