//! Every notification type: what it is about, which channels carry it, whether people may
//! opt out, and the variables its templates may use (checked at start). A later service
//! adds its notifications here, with one consumer handler and one template folder each.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
    InApp,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::InApp => "in_app",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Channel::Email),
            "sms" => Some(Channel::Sms),
            "push" => Some(Channel::Push),
            "in_app" => Some(Channel::InApp),
            _ => None,
        }
    }

    /// The template files a message on this channel is made of.
    pub fn parts(self) -> &'static [&'static str] {
        match self {
            Channel::Email => &["email.subject", "email.txt", "email.html"],
            Channel::Sms => &["sms.txt"],
            Channel::Push => &["push.title", "push.txt"],
            Channel::InApp => &["in_app.title", "in_app.txt"],
        }
    }
}

/// Whether a person's preferences apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Security and account messages (codes, resets, lockouts, invites): always sent. When
    /// such a type lists both e-mail and SMS, SMS is the fallback for people without a
    /// verified address.
    Essential,
    /// Activity in the person's communities: each channel as the person chose.
    Activity,
    /// Promotions: only to people who accept them, on the channels they chose.
    Promotional,
}

#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub category: Category,
    pub channels: &'static [Channel],
    pub variables: &'static [&'static str],
}

/// Variables every template may use.
pub const GLOBALS: &[&str] = &["app_name", "app_url"];

use Channel::*;

pub const OTP: Kind = Kind {
    name: "otp",
    category: Category::Essential,
    channels: &[Email, Sms],
    variables: &["code", "purpose", "expires_minutes"],
};
pub const EMAIL_VERIFICATION: Kind = Kind {
    name: "email_verification",
    category: Category::Essential,
    channels: &[Email],
    variables: &["name", "link", "token", "expires_at"],
};
pub const PASSWORD_RESET: Kind = Kind {
    name: "password_reset",
    category: Category::Essential,
    channels: &[Email],
    variables: &["name", "link", "token", "expires_at"],
};
pub const NEW_DEVICE: Kind = Kind {
    name: "new_device",
    category: Category::Essential,
    channels: &[Email, Sms, InApp],
    variables: &["name", "device", "ip"],
};
pub const ACCOUNT_LOCKED: Kind = Kind {
    name: "account_locked",
    category: Category::Essential,
    channels: &[Email, Sms, InApp],
    variables: &["name", "locked_until", "failed_attempts"],
};
pub const ACCOUNT_SUSPENDED: Kind = Kind {
    name: "account_suspended",
    category: Category::Essential,
    channels: &[Email, Sms],
    variables: &["name", "reason", "until"],
};
pub const ACCOUNT_BANNED: Kind = Kind {
    name: "account_banned",
    category: Category::Essential,
    channels: &[Email, Sms],
    variables: &["name", "reason"],
};
pub const COMMUNITY_INVITE: Kind = Kind {
    name: "community_invite",
    category: Category::Essential,
    channels: &[Email],
    variables: &[
        "community_name",
        "inviter_name",
        "link",
        "token",
        "expires_at",
    ],
};
pub const MEMBER_JOINED: Kind = Kind {
    name: "member_joined",
    category: Category::Activity,
    channels: &[Email, InApp],
    variables: &["name", "member_name", "community_name"],
};
pub const ANNOUNCEMENT: Kind = Kind {
    name: "announcement",
    category: Category::Activity,
    channels: &[InApp, Push],
    variables: &["name", "community_name", "title", "body"],
};
/// A favourited tool has an item free again (`catalog.stock.back_in_stock`).
pub const BACK_IN_STOCK: Kind = Kind {
    name: "back_in_stock",
    category: Category::Activity,
    channels: &[InApp, Push, Email],
    variables: &["name", "tool_name", "community_name"],
};
pub const BROADCAST: Kind = Kind {
    name: "broadcast",
    category: Category::Activity,
    channels: &[InApp, Push, Email],
    variables: &["name", "title", "body"],
};

pub const REGISTRATION_ATTEMPTED: Kind = Kind {
    name: "registration_attempted",
    category: Category::Essential,
    channels: &[Email, Sms],
    variables: &["name"],
};
pub const COMMUNITY_CLOSED: Kind = Kind {
    name: "community_closed",
    category: Category::Activity,
    channels: &[InApp, Email],
    variables: &["name", "community_name"],
};

pub const ALL: &[&Kind] = &[
    &OTP,
    &EMAIL_VERIFICATION,
    &PASSWORD_RESET,
    &NEW_DEVICE,
    &ACCOUNT_LOCKED,
    &ACCOUNT_SUSPENDED,
    &ACCOUNT_BANNED,
    &COMMUNITY_INVITE,
    &MEMBER_JOINED,
    &ANNOUNCEMENT,
    &BACK_IN_STOCK,
    &BROADCAST,
    &REGISTRATION_ATTEMPTED,
    &COMMUNITY_CLOSED,
];

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = super::ALL.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), super::ALL.len());
    }
}
