//! The permission catalogue: every permission string the platform checks, in one list.
//!
//! A permission is a contract between three places: the auth service seeds it and grants
//! it to roles (its migrations), access tokens carry it (`perms`), and a handler checks it
//! ([`crate::auth::AuthUser::require`]). A typo in any of them fails closed and silently:
//! the endpoint answers 403 to everyone. Handlers use these constants, so the compiler
//! checks their side; the auth service's integration test `permissions` holds its seed to
//! [`ALL`], so the two lists cannot drift.
//!
//! Services check permissions, never role names, so roles can be reshaped in the auth
//! service without a deployment anywhere else.
//!
//! Adding one: a constant here, its entry in [`ALL`], and an auth migration that inserts it
//! with `is_system = true` (code relies on it, so it must not be deletable) and grants it to
//! the roles that should hold it (`super_admin` holds every permission at token time).
//!
//! Names are `<area>.<verb>` in lower case: a plural area for a resource administered
//! platform-wide (`orders.manage`), a singular one for a role's own work (`courier.work`).

/// One permission: the string tokens carry, and what it allows, for admins choosing grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    pub name: &'static str,
    pub description: &'static str,
}

// Accounts and access (auth, user).
pub const USERS_READ: &str = "users.read";
pub const USERS_MANAGE: &str = "users.manage";
pub const ROLES_MANAGE: &str = "roles.manage";

// Communities (community).
pub const COMMUNITIES_CREATE: &str = "communities.create";
pub const COMMUNITIES_MANAGE: &str = "communities.manage";

// The marketplace (catalog, order, payment, delivery, courier).
pub const CATALOG_MANAGE: &str = "catalog.manage";
pub const REVIEWS_WRITE: &str = "reviews.write";
pub const ORDERS_PLACE: &str = "orders.place";
pub const ORDERS_MANAGE: &str = "orders.manage";
pub const PROMO_MANAGE: &str = "promo.manage";
pub const PAYMENTS_MANAGE: &str = "payments.manage";
pub const DELIVERIES_MANAGE: &str = "deliveries.manage";
pub const COURIERS_MANAGE: &str = "couriers.manage";
pub const COURIER_APPLY: &str = "courier.apply";
pub const COURIER_WORK: &str = "courier.work";

// Notifications (notification).
pub const NOTIFICATIONS_BROADCAST: &str = "notifications.broadcast";

const fn p(name: &'static str, description: &'static str) -> Permission {
    Permission { name, description }
}

/// Every permission, with the description the auth service seeds for it.
pub const ALL: &[Permission] = &[
    p(USERS_READ, "Read any user's account and profile"),
    p(USERS_MANAGE, "Suspend, ban, reinstate and delete users"),
    p(
        ROLES_MANAGE,
        "Create, change and assign roles and permissions",
    ),
    p(COMMUNITIES_CREATE, "Create communities"),
    p(COMMUNITIES_MANAGE, "Manage every community"),
    p(CATALOG_MANAGE, "Manage categories, tools and inventory"),
    p(REVIEWS_WRITE, "Review rented tools"),
    p(ORDERS_PLACE, "Rent tools"),
    p(ORDERS_MANAGE, "Manage every order"),
    p(PROMO_MANAGE, "Create, change and retire promo codes"),
    p(
        PAYMENTS_MANAGE,
        "Refund payments, release and forfeit deposits",
    ),
    p(DELIVERIES_MANAGE, "Manage delivery zones and assignments"),
    p(COURIERS_MANAGE, "Verify and block couriers"),
    p(
        COURIER_APPLY,
        "Apply to deliver: courier profile and documents",
    ),
    p(COURIER_WORK, "Take and deliver delivery jobs"),
    p(NOTIFICATIONS_BROADCAST, "Send broadcasts"),
];

/// The catalogue entry of `name`, if it is one.
pub fn find(name: &str) -> Option<&'static Permission> {
    ALL.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_area_dot_verb_and_described() {
        let mut seen = HashSet::new();
        for perm in ALL {
            assert!(seen.insert(perm.name), "{} listed twice", perm.name);
            let (area, verb) = perm.name.split_once('.').unwrap();
            for word in [area, verb] {
                assert!(
                    !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                    "{} is not <area>.<verb>",
                    perm.name
                );
            }
            assert!(
                !perm.description.is_empty(),
                "{} has no description",
                perm.name
            );
            assert!(!perm.description.contains('\n'), "{}: one line", perm.name);
        }
    }

    #[test]
    fn lookups_find_catalogue_entries_only() {
        assert_eq!(
            find(ORDERS_PLACE).map(|p| p.description),
            Some("Rent tools")
        );
        assert_eq!(find("orders.plac"), None);
    }
}
