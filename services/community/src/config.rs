//! The community service's own settings (the common ones come from the platform kit).

use crate::tokens::InviteKey;
use platform::auth::AuthConfig;
use platform::config::{Dur, VarDoc, Vars};
use std::time::Duration;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "COMMUNITY_INVITE_KEY",
        default: None,
        doc: "32 random bytes, base64: the server key join tokens are derived from (so an active invite can be sent again without storing its token). Required by the community service; changing it gives active invites a new token when they are next re-sent.",
    },
    VarDoc {
        name: "COMMUNITY_INVITE_TTL",
        default: Some("7d"),
        doc: "How long an invite's join token stays valid.",
    },
    VarDoc {
        name: "COMMUNITY_RESEND_INTERVAL",
        default: Some("10m"),
        doc: "The shortest time between two e-mails of one invite: inviting an address again sooner reports `recently_sent` and sends nothing.",
    },
    VarDoc {
        name: "COMMUNITY_EXPIRY_INTERVAL",
        default: Some("60s"),
        doc: "How often the community service marks invites whose time is up as expired.",
    },
];

#[derive(Debug, Clone)]
pub struct CommunityConfig {
    pub auth: AuthConfig,
    pub invite_key: InviteKey,
    pub invite_ttl: Duration,
    pub resend_interval: Duration,
    pub expiry_interval: Duration,
}

impl CommunityConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        let auth = AuthConfig::from_vars(v);
        let invite_key = v.required_with(
            "COMMUNITY_INVITE_KEY",
            "32 random bytes, base64",
            InviteKey::from_bytes(&[0; 32]),
        );
        Self {
            auth,
            invite_key,
            invite_ttl: v
                .or("COMMUNITY_INVITE_TTL", Dur(Duration::from_secs(7 * 86_400)))
                .0,
            resend_interval: v
                .or("COMMUNITY_RESEND_INTERVAL", Dur(Duration::from_secs(600)))
                .0,
            expiry_interval: v
                .or("COMMUNITY_EXPIRY_INTERVAL", Dur(Duration::from_secs(60)))
                .0,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_documents_every_variable() {
        let missing =
            platform::config::undocumented(include_str!("../../../README.md"), super::VARS);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }
}
