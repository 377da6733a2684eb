//! Every topic of the platform: `<service>.<aggregate>.v1`, keyed by aggregate id.
//!
//! The local stack, the Kubernetes `KafkaTopic` resources and the tests all read [`ALL`];
//! adding a topic here is the only step needed to have it created everywhere.

use std::fmt;

/// A topic name, typed so that call sites cannot pass an arbitrary string by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topic(&'static str);

/// Suffix of the dead-letter topic that belongs to every topic.
pub const DLQ_SUFFIX: &str = ".dlq";

/// Partitions per topic: enough for a few consumer replicas to share the work, few enough
/// for a laptop broker.
pub const DEFAULT_PARTITIONS: i32 = 3;

impl Topic {
    pub const fn new(name: &'static str) -> Self {
        Self(name)
    }

    pub const fn name(&self) -> &'static str {
        self.0
    }

    /// The owning service, the first dotted segment.
    pub fn service(&self) -> &'static str {
        self.0.split('.').next().unwrap_or(self.0)
    }

    /// Name of the dead-letter topic that receives this topic's poison messages.
    pub fn dlq(&self) -> String {
        dlq_of(self.0)
    }
}

/// Topics whose events carry secrets (one-time codes, link and join tokens): they need an
/// ACL limited to their producer and the notification service, a short retention, and the
/// outbox relay empties their rows' payloads once published, so the secret does not stay
/// in the producer's database for the outbox retention.
pub const SECRET_BEARING: &[Topic] = &[AUTH_OTP, COMMUNITY_INVITE];

/// Dead-letter topic of any topic name (also used for test topics that are not in [`ALL`]).
pub fn dlq_of(topic: &str) -> String {
    format!("{topic}{DLQ_SUFFIX}")
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        self.0
    }
}

macro_rules! topics {
    ($($(#[$doc:meta])* $ident:ident = $name:literal;)*) => {
        $($(#[$doc])* pub const $ident: Topic = Topic($name);)*
        /// Every topic, in declaration order.
        pub const ALL: &[Topic] = &[$($ident),*];
    };
}

topics! {
    /// Synthetic probe events (tests, benchmarks, smoke checks).
    PLATFORM_PROBE = "platform.probe.v1";

    /// Accounts: registered, e-mail verified, locked, roles changed, password reset or
    /// e-mail verification requested.
    AUTH_USER = "auth.user.v1";
    /// Sessions: created, refreshed, revoked, refresh-token reuse detected.
    AUTH_SESSION = "auth.session.v1";
    /// Devices: first seen, trusted, blocked.
    AUTH_DEVICE = "auth.device.v1";
    /// One-time codes requested (the notification service delivers them).
    AUTH_OTP = "auth.otp.v1";

    /// Profiles, preferences and lifecycle (suspended, banned, reinstated, deleted).
    USER_PROFILE = "user.profile.v1";

    /// Communities: created, updated, deleted.
    COMMUNITY_COMMUNITY = "community.community.v1";
    /// Invites: created, accepted, expired, revoked.
    COMMUNITY_INVITE = "community.invite.v1";
    /// Memberships: joined, left, removed, role changed.
    COMMUNITY_MEMBER = "community.member.v1";
    /// Announcements published to a community.
    COMMUNITY_ANNOUNCEMENT = "community.announcement.v1";

    /// Tools and their listing.
    CATALOG_TOOL = "catalog.tool.v1";
    /// Reservations of inventory items: reserved, rejected, released.
    CATALOG_RESERVATION = "catalog.reservation.v1";
    /// Stock signals such as back-in-stock.
    CATALOG_STOCK = "catalog.stock.v1";

    /// Orders and their state machine (the saga log).
    ORDER_ORDER = "order.order.v1";

    /// Payments: authorized, captured, failed, refunded.
    PAYMENT_PAYMENT = "payment.payment.v1";
    /// Deposits: held, released, forfeited.
    PAYMENT_DEPOSIT = "payment.deposit.v1";

    /// Deliveries: scheduled, assigned, picked up, in transit, delivered, failed.
    DELIVERY_DELIVERY = "delivery.delivery.v1";
    /// Places in delivery slots held for orders (the saga's slot step), keyed by order id.
    DELIVERY_SLOT = "delivery.slot.v1";

    /// Couriers: registered, verified, blocked, status changed.
    COURIER_COURIER = "courier.courier.v1";
    /// A courier's answers to delivery offers and completions.
    COURIER_DELIVERY = "courier.delivery.v1";
    /// Courier positions (high volume, compacted by consumers).
    COURIER_LOCATION = "courier.location.v1";
    /// Earnings and payout requests.
    COURIER_EARNING = "courier.earning.v1";

    /// Notifications sent or failed, per channel.
    NOTIFICATION_NOTIFICATION = "notification.notification.v1";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_follow_the_convention_and_are_unique() {
        let mut seen = HashSet::new();
        for t in ALL {
            let parts: Vec<&str> = t.name().split('.').collect();
            assert_eq!(parts.len(), 3, "{t} is not <service>.<aggregate>.v<N>");
            assert!(parts[2].starts_with('v'), "{t} lacks a version suffix");
            assert!(
                t.name()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'),
                "{t} has characters Kafka tooling dislikes"
            );
            assert!(seen.insert(t.name()), "{t} declared twice");
        }
    }

    #[test]
    fn dlq_names_derive_from_the_topic() {
        assert_eq!(ORDER_ORDER.dlq(), "order.order.v1.dlq");
        assert_eq!(ORDER_ORDER.service(), "order");
    }
}
