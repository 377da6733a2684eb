//! The platform's event vocabulary, in one place so no service spells a topic or an event
//! type as a string literal.
//!
//! - [`topics`]: every Kafka topic, with its partition count and dead-letter topic.
//! - [`proto`]: the protobuf messages generated from `proto-events/`.
//! - [`DomainEvent`]: ties each message to its topic and CloudEvents `type`.
//! - [`envelope`]: the CloudEvents Kafka binding (binary mode) shared by producer and consumer.

pub mod envelope;
pub mod topics;

pub use envelope::{Envelope, EnvelopeError};
pub use topics::Topic;

/// Generated protobuf messages, one module per `proto-events/<service>/v1` package.
pub mod proto {
    pub mod platform {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/platform.v1.rs"));
        }
    }
    pub mod auth {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/auth.v1.rs"));
        }
    }
    pub mod user {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/user.v1.rs"));
        }
    }
    pub mod courier {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/courier.v1.rs"));
        }
    }
    pub mod community {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/community.v1.rs"));
        }
    }
    pub mod notification {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/notification.v1.rs"));
        }
    }
    pub mod catalog {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/catalog.v1.rs"));
        }
    }
    pub mod order {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/order.v1.rs"));
        }
    }
    pub mod payment {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/payment.v1.rs"));
        }
    }
    pub mod delivery {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/delivery.v1.rs"));
        }
    }
}

/// A protobuf message that is published as a domain event.
///
/// The associated constants make the topic and type part of the message's type, so
/// publishing a message on the wrong topic does not compile.
pub trait DomainEvent: prost::Message + Default {
    /// The CloudEvents `type`, `<service>.<aggregate>.<what happened>`.
    const TYPE: &'static str;
    /// The topic the event's aggregate stream lives on.
    const TOPIC: Topic;
}

/// Every CloudEvents `type` of the platform, as constants.
pub mod types {
    pub const PLATFORM_PROBE_RECORDED: &str = "platform.probe.recorded";
    pub const AUTH_USER_REGISTERED: &str = "auth.user.registered";
    pub const AUTH_USER_REGISTRATION_ATTEMPTED: &str = "auth.user.registration_attempted";
    pub const AUTH_USER_EMAIL_VERIFICATION_REQUESTED: &str =
        "auth.user.email_verification_requested";
    pub const AUTH_USER_EMAIL_VERIFIED: &str = "auth.user.email_verified";
    pub const AUTH_USER_PHONE_VERIFIED: &str = "auth.user.phone_verified";
    pub const AUTH_USER_PASSWORD_RESET_REQUESTED: &str = "auth.user.password_reset_requested";
    pub const AUTH_USER_PASSWORD_CHANGED: &str = "auth.user.password_changed";
    pub const AUTH_USER_LOCKED: &str = "auth.user.locked";
    pub const AUTH_USER_ROLES_CHANGED: &str = "auth.user.roles_changed";
    pub const AUTH_USER_MFA_CHANGED: &str = "auth.user.mfa_changed";
    pub const AUTH_SESSION_CREATED: &str = "auth.session.created";
    pub const AUTH_SESSION_REVOKED: &str = "auth.session.revoked";
    pub const AUTH_SESSION_REFRESH_TOKEN_REUSED: &str = "auth.session.refresh_token_reused";
    pub const AUTH_SESSION_LOGIN_FAILED: &str = "auth.session.login_failed";
    pub const AUTH_SESSION_LOGIN_SUCCEEDED: &str = "auth.session.login_succeeded";
    pub const AUTH_DEVICE_REGISTERED: &str = "auth.device.registered";
    pub const AUTH_DEVICE_TRUSTED: &str = "auth.device.trusted";
    pub const AUTH_DEVICE_BLOCKED: &str = "auth.device.blocked";
    pub const AUTH_OTP_REQUESTED: &str = "auth.otp.requested";
    pub const USER_PROFILE_CREATED: &str = "user.profile.created";
    pub const USER_PROFILE_UPDATED: &str = "user.profile.updated";
    pub const USER_PREFERENCES_UPDATED: &str = "user.preferences.updated";
    pub const USER_SUSPENDED: &str = "user.suspended";
    pub const USER_BANNED: &str = "user.banned";
    pub const USER_REINSTATED: &str = "user.reinstated";
    pub const USER_DELETED: &str = "user.deleted";
    pub const COURIER_VERIFIED: &str = "courier.verified";
    pub const COMMUNITY_CREATED: &str = "community.created";
    pub const COMMUNITY_UPDATED: &str = "community.updated";
    pub const COMMUNITY_DELETED: &str = "community.deleted";
    pub const COMMUNITY_INVITE_CREATED: &str = "community.invite.created";
    pub const COMMUNITY_INVITE_ACCEPTED: &str = "community.invite.accepted";
    pub const COMMUNITY_INVITE_EXPIRED: &str = "community.invite.expired";
    pub const COMMUNITY_INVITE_REVOKED: &str = "community.invite.revoked";
    pub const COMMUNITY_MEMBER_JOINED: &str = "community.member.joined";
    pub const COMMUNITY_MEMBER_LEFT: &str = "community.member.left";
    pub const COMMUNITY_MEMBER_REMOVED: &str = "community.member.removed";
    pub const COMMUNITY_MEMBER_ROLE_CHANGED: &str = "community.member.role_changed";
    pub const COMMUNITY_ANNOUNCEMENT_PUBLISHED: &str = "community.announcement.published";
    pub const CATALOG_TOOL_CREATED: &str = "catalog.tool.created";
    pub const CATALOG_TOOL_UPDATED: &str = "catalog.tool.updated";
    pub const CATALOG_TOOL_DELETED: &str = "catalog.tool.deleted";
    pub const CATALOG_RESERVATION_RESERVED: &str = "catalog.reservation.reserved";
    pub const CATALOG_RESERVATION_REJECTED: &str = "catalog.reservation.rejected";
    pub const CATALOG_RESERVATION_CONFIRMED: &str = "catalog.reservation.confirmed";
    pub const CATALOG_RESERVATION_RELEASED: &str = "catalog.reservation.released";
    pub const CATALOG_RESERVATION_EXTENDED: &str = "catalog.reservation.extended";
    pub const CATALOG_RESERVATION_EXTENSION_REJECTED: &str =
        "catalog.reservation.extension_rejected";
    pub const CATALOG_STOCK_BACK_IN_STOCK: &str = "catalog.stock.back_in_stock";
    pub const ORDER_PLACED: &str = "order.placed";
    pub const ORDER_CONFIRMED: &str = "order.confirmed";
    pub const ORDER_CANCELLED: &str = "order.cancelled";
    pub const ORDER_EXTENSION_REQUESTED: &str = "order.extension_requested";
    pub const ORDER_RETURNED: &str = "order.returned";
    pub const ORDER_COMPLETED: &str = "order.completed";
    pub const ORDER_SLOT_REQUESTED: &str = "order.slot_requested";
    pub const ORDER_SLOT_RELEASE_REQUESTED: &str = "order.slot_release_requested";
    pub const ORDER_AWAITING_PAYMENT: &str = "order.awaiting_payment";
    pub const ORDER_STATUS_CHANGED: &str = "order.status_changed";
    pub const PAYMENT_AUTHORIZED: &str = "payment.authorized";
    pub const PAYMENT_FAILED: &str = "payment.failed";
    pub const DELIVERY_SLOT_HELD: &str = "delivery.slot.held";
    pub const DELIVERY_SLOT_REJECTED: &str = "delivery.slot.rejected";
    pub const DELIVERY_SLOT_RELEASED: &str = "delivery.slot.released";
    pub const NOTIFICATION_SENT: &str = "notification.notification.sent";
    pub const NOTIFICATION_FAILED: &str = "notification.notification.failed";
}

/// Ties each message to its topic and type; one line per event.
macro_rules! domain_events {
    ($($msg:ty => $ty:ident on $topic:ident),* $(,)?) => {
        $(impl DomainEvent for $msg {
            const TYPE: &'static str = types::$ty;
            const TOPIC: Topic = topics::$topic;
        })*
    };
}

domain_events! {
    proto::platform::v1::ProbeRecorded => PLATFORM_PROBE_RECORDED on PLATFORM_PROBE,
    proto::auth::v1::UserRegistered => AUTH_USER_REGISTERED on AUTH_USER,
    proto::auth::v1::RegistrationAttempted => AUTH_USER_REGISTRATION_ATTEMPTED on AUTH_USER,
    proto::auth::v1::EmailVerificationRequested => AUTH_USER_EMAIL_VERIFICATION_REQUESTED on AUTH_OTP,
    proto::auth::v1::EmailVerified => AUTH_USER_EMAIL_VERIFIED on AUTH_USER,
    proto::auth::v1::PhoneVerified => AUTH_USER_PHONE_VERIFIED on AUTH_USER,
    proto::auth::v1::PasswordResetRequested => AUTH_USER_PASSWORD_RESET_REQUESTED on AUTH_OTP,
    proto::auth::v1::PasswordChanged => AUTH_USER_PASSWORD_CHANGED on AUTH_USER,
    proto::auth::v1::AccountLocked => AUTH_USER_LOCKED on AUTH_USER,
    proto::auth::v1::RolesChanged => AUTH_USER_ROLES_CHANGED on AUTH_USER,
    proto::auth::v1::MfaChanged => AUTH_USER_MFA_CHANGED on AUTH_USER,
    proto::auth::v1::SessionCreated => AUTH_SESSION_CREATED on AUTH_SESSION,
    proto::auth::v1::SessionRevoked => AUTH_SESSION_REVOKED on AUTH_SESSION,
    proto::auth::v1::RefreshTokenReused => AUTH_SESSION_REFRESH_TOKEN_REUSED on AUTH_SESSION,
    proto::auth::v1::LoginFailed => AUTH_SESSION_LOGIN_FAILED on AUTH_SESSION,
    proto::auth::v1::LoginSucceeded => AUTH_SESSION_LOGIN_SUCCEEDED on AUTH_SESSION,
    proto::auth::v1::DeviceRegistered => AUTH_DEVICE_REGISTERED on AUTH_DEVICE,
    proto::auth::v1::DeviceTrusted => AUTH_DEVICE_TRUSTED on AUTH_DEVICE,
    proto::auth::v1::DeviceBlocked => AUTH_DEVICE_BLOCKED on AUTH_DEVICE,
    proto::auth::v1::OtpRequested => AUTH_OTP_REQUESTED on AUTH_OTP,
    proto::user::v1::ProfileCreated => USER_PROFILE_CREATED on USER_PROFILE,
    proto::user::v1::ProfileUpdated => USER_PROFILE_UPDATED on USER_PROFILE,
    proto::user::v1::PreferencesUpdated => USER_PREFERENCES_UPDATED on USER_PROFILE,
    proto::user::v1::UserSuspended => USER_SUSPENDED on USER_PROFILE,
    proto::user::v1::UserBanned => USER_BANNED on USER_PROFILE,
    proto::user::v1::UserReinstated => USER_REINSTATED on USER_PROFILE,
    proto::user::v1::UserDeleted => USER_DELETED on USER_PROFILE,
    proto::courier::v1::CourierVerified => COURIER_VERIFIED on COURIER_COURIER,
    proto::community::v1::CommunityCreated => COMMUNITY_CREATED on COMMUNITY_COMMUNITY,
    proto::community::v1::CommunityUpdated => COMMUNITY_UPDATED on COMMUNITY_COMMUNITY,
    proto::community::v1::CommunityDeleted => COMMUNITY_DELETED on COMMUNITY_COMMUNITY,
    proto::community::v1::InviteCreated => COMMUNITY_INVITE_CREATED on COMMUNITY_INVITE,
    proto::community::v1::InviteAccepted => COMMUNITY_INVITE_ACCEPTED on COMMUNITY_INVITE,
    proto::community::v1::InviteExpired => COMMUNITY_INVITE_EXPIRED on COMMUNITY_INVITE,
    proto::community::v1::InviteRevoked => COMMUNITY_INVITE_REVOKED on COMMUNITY_INVITE,
    proto::community::v1::MemberJoined => COMMUNITY_MEMBER_JOINED on COMMUNITY_MEMBER,
    proto::community::v1::MemberLeft => COMMUNITY_MEMBER_LEFT on COMMUNITY_MEMBER,
    proto::community::v1::MemberRemoved => COMMUNITY_MEMBER_REMOVED on COMMUNITY_MEMBER,
    proto::community::v1::MemberRoleChanged => COMMUNITY_MEMBER_ROLE_CHANGED on COMMUNITY_MEMBER,
    proto::community::v1::AnnouncementPublished => COMMUNITY_ANNOUNCEMENT_PUBLISHED on COMMUNITY_ANNOUNCEMENT,
    proto::catalog::v1::ToolCreated => CATALOG_TOOL_CREATED on CATALOG_TOOL,
    proto::catalog::v1::ToolUpdated => CATALOG_TOOL_UPDATED on CATALOG_TOOL,
    proto::catalog::v1::ToolDeleted => CATALOG_TOOL_DELETED on CATALOG_TOOL,
    proto::catalog::v1::ReservationReserved => CATALOG_RESERVATION_RESERVED on CATALOG_RESERVATION,
    proto::catalog::v1::ReservationRejected => CATALOG_RESERVATION_REJECTED on CATALOG_RESERVATION,
    proto::catalog::v1::ReservationConfirmed => CATALOG_RESERVATION_CONFIRMED on CATALOG_RESERVATION,
    proto::catalog::v1::ReservationReleased => CATALOG_RESERVATION_RELEASED on CATALOG_RESERVATION,
    proto::catalog::v1::ReservationExtended => CATALOG_RESERVATION_EXTENDED on CATALOG_RESERVATION,
    proto::catalog::v1::ReservationExtensionRejected => CATALOG_RESERVATION_EXTENSION_REJECTED on CATALOG_RESERVATION,
    proto::catalog::v1::BackInStock => CATALOG_STOCK_BACK_IN_STOCK on CATALOG_STOCK,
    proto::order::v1::OrderPlaced => ORDER_PLACED on ORDER_ORDER,
    proto::order::v1::OrderConfirmed => ORDER_CONFIRMED on ORDER_ORDER,
    proto::order::v1::OrderCancelled => ORDER_CANCELLED on ORDER_ORDER,
    proto::order::v1::OrderExtensionRequested => ORDER_EXTENSION_REQUESTED on ORDER_ORDER,
    proto::order::v1::OrderReturned => ORDER_RETURNED on ORDER_ORDER,
    proto::order::v1::OrderCompleted => ORDER_COMPLETED on ORDER_ORDER,
    proto::order::v1::OrderSlotRequested => ORDER_SLOT_REQUESTED on ORDER_ORDER,
    proto::order::v1::OrderSlotReleaseRequested => ORDER_SLOT_RELEASE_REQUESTED on ORDER_ORDER,
    proto::order::v1::OrderAwaitingPayment => ORDER_AWAITING_PAYMENT on ORDER_ORDER,
    proto::order::v1::OrderStatusChanged => ORDER_STATUS_CHANGED on ORDER_ORDER,
    proto::payment::v1::PaymentAuthorized => PAYMENT_AUTHORIZED on PAYMENT_PAYMENT,
    proto::payment::v1::PaymentFailed => PAYMENT_FAILED on PAYMENT_PAYMENT,
    proto::delivery::v1::SlotHeld => DELIVERY_SLOT_HELD on DELIVERY_SLOT,
    proto::delivery::v1::SlotRejected => DELIVERY_SLOT_REJECTED on DELIVERY_SLOT,
    proto::delivery::v1::SlotReleased => DELIVERY_SLOT_RELEASED on DELIVERY_SLOT,
    proto::notification::v1::NotificationSent => NOTIFICATION_SENT on NOTIFICATION_NOTIFICATION,
    proto::notification::v1::NotificationFailed => NOTIFICATION_FAILED on NOTIFICATION_NOTIFICATION,
}

/// A protobuf `Timestamp` for a chrono time (events carry times as `google.protobuf.Timestamp`).
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// The chrono time of a protobuf `Timestamp`; `None` when unset or out of range.
pub fn from_timestamp(t: Option<&prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}
