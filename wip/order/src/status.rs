//! The customer-facing status of an order (the seed's twelve states) and the one function
//! that says which changes are allowed. The saga, the customer's actions and the admins'
//! status changes all go through [`check`].

use crate::error::{Error, Result};

platform::text_enum! {
    /// Where an order stands, as the customer sees it.
    pub enum OrderStatus {
        /// Placed; the saga holds the items (and the slot) and waits for payment.
        Pending = "pending",
        /// Paid (authorised): the saga's pivot.
        Confirmed = "confirmed",
        /// The library gets the items ready.
        Preparing = "preparing",
        /// Ready at the depot (for the courier, or for collection).
        ReadyForDelivery = "ready_for_delivery",
        InDelivery = "in_delivery",
        Delivered = "delivered",
        /// In the customer's hands for the rental period.
        Active = "active",
        ReturnRequested = "return_requested",
        /// Back at the depot, being inspected.
        Returned = "returned",
        /// Settled (deposit released or partly kept).
        Completed = "completed",
        Cancelled = "cancelled",
        /// Money given back after a cancellation or a complaint.
        Refunded = "refunded",
    }
}

use OrderStatus::*;

/// Every allowed change, `from -> to`. Anything not listed is refused.
const ALLOWED: &[(OrderStatus, OrderStatus)] = &[
    (Pending, Confirmed),
    (Pending, Cancelled),
    (Confirmed, Preparing),
    (Confirmed, Cancelled),
    (Preparing, ReadyForDelivery),
    (Preparing, Cancelled),
    (ReadyForDelivery, InDelivery),
    // Collected at the depot (pickup orders): in the customer's hands at once.
    (ReadyForDelivery, Active),
    (ReadyForDelivery, Cancelled),
    (InDelivery, Delivered),
    // A failed attempt: the items go back to the depot for the next slot.
    (InDelivery, ReadyForDelivery),
    (Delivered, Active),
    (Active, ReturnRequested),
    // Brought back to the depot by the customer.
    (Active, Returned),
    (ReturnRequested, Returned),
    (Returned, Completed),
    (Cancelled, Refunded),
    (Completed, Refunded),
];

impl OrderStatus {
    pub fn can_become(self, to: OrderStatus) -> bool {
        ALLOWED.contains(&(self, to))
    }

    /// No change leads out of it.
    pub fn is_final(self) -> bool {
        !ALLOWED.iter().any(|(from, _)| *from == self)
    }

    /// Still running for the customer: `GET /orders/active`.
    pub fn is_active(self) -> bool {
        !matches!(self, Completed | Cancelled | Refunded)
    }

    /// Before the payment's pivot: cancelling compensates and charges nothing.
    pub fn before_pivot(self) -> bool {
        self == Pending
    }

    /// A customer may cancel until the items leave the library's hands.
    pub fn customer_may_cancel(self) -> bool {
        matches!(self, Pending | Confirmed | Preparing)
    }
}

/// The change `from -> to`, or a 409 `invalid_transition` naming both.
pub fn check(from: OrderStatus, to: OrderStatus) -> Result<()> {
    if from.can_become(to) {
        Ok(())
    } else {
        Err(Error::conflict(
            "invalid_transition",
            format!("an order that is {from} cannot become {to}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::db::TextEnum;

    /// Every pair of states, allowed or refused, against the table written out a second
    /// time by hand (so a slip in `ALLOWED` shows as a difference, not as itself).
    #[test]
    fn every_pair_is_allowed_or_refused_as_documented() {
        let expected: &[(&str, &[&str])] = &[
            ("pending", &["confirmed", "cancelled"]),
            ("confirmed", &["preparing", "cancelled"]),
            ("preparing", &["ready_for_delivery", "cancelled"]),
            ("ready_for_delivery", &["in_delivery", "active", "cancelled"]),
            ("in_delivery", &["delivered", "ready_for_delivery"]),
            ("delivered", &["active"]),
            ("active", &["return_requested", "returned"]),
            ("return_requested", &["returned"]),
            ("returned", &["completed"]),
            ("completed", &["refunded"]),
            ("cancelled", &["refunded"]),
            ("refunded", &[]),
        ];
        assert_eq!(expected.len(), OrderStatus::ALL.len());
        for from in OrderStatus::ALL {
            let (_, allowed) = expected
                .iter()
                .find(|(f, _)| *f == from.as_str())
                .unwrap();
            for to in OrderStatus::ALL {
                let want = allowed.contains(&to.as_str());
                assert_eq!(from.can_become(*to), want, "{from} -> {to}");
                assert_eq!(check(*from, *to).is_ok(), want, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn nothing_becomes_itself_and_only_refunded_is_final() {
        for s in OrderStatus::ALL {
            assert!(!s.can_become(*s), "{s} -> {s}");
            assert_eq!(s.is_final(), *s == Refunded, "{s}");
        }
    }

    #[test]
    fn a_refused_change_is_a_conflict_with_a_stable_code() {
        match check(Completed, Pending) {
            Err(Error::Conflict { code, message }) => {
                assert_eq!(code, "invalid_transition");
                assert!(message.contains("completed") && message.contains("pending"));
            }
            other => panic!("{other:?}"),
        }
    }
}
