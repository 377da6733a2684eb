//! Join tokens. A token is an HMAC of the invite's (random) id under a server key: only its
//! SHA-256 is stored, yet the same token can be e-mailed again while the invite is active
//! (the rule "inviting again re-sends the same invite"). Whoever reads the database learns
//! neither the tokens nor how to make one.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct InviteKey([u8; 32]);

impl fmt::Debug for InviteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InviteKey([redacted])")
    }
}

impl FromStr for InviteKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let root = STANDARD
            .decode(s.trim())
            .map_err(|_| "must be base64 (try `openssl rand -base64 32`)".to_owned())?;
        if root.len() != 32 {
            return Err(format!("must decode to 32 bytes, not {}", root.len()));
        }
        Ok(Self::from_bytes(&root))
    }
}

impl InviteKey {
    /// Keys are derived for this one purpose, so the operator's root never signs anything
    /// directly.
    pub fn from_bytes(root: &[u8]) -> Self {
        Self(mac(root, b"community/invite-token/v1"))
    }

    /// The join token of an invite (43 URL-safe characters).
    pub fn token(&self, invite_id: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(mac(&self.0, invite_id.as_bytes()))
    }
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(key) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// What the database keeps of a token. A plain hash is enough: the token carries 256 bits
/// of the key's output, nothing a dictionary can reach.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_stable_per_invite_and_key() {
        let key = InviteKey::from_bytes(&[7; 32]);
        let id = Uuid::new_v4();
        assert_eq!(key.token(id), key.token(id));
        assert_ne!(key.token(id), key.token(Uuid::new_v4()));
        assert_ne!(key.token(id), InviteKey::from_bytes(&[8; 32]).token(id));
        assert_eq!(key.token(id).len(), 43);
    }

    #[test]
    fn the_hash_ignores_surrounding_space() {
        assert_eq!(hash(" abc\n"), hash("abc"));
        assert_eq!(hash("abc").len(), 32);
    }

    #[test]
    fn keys_must_be_32_base64_bytes() {
        assert!("c2hvcnQ=".parse::<InviteKey>().is_err());
        assert!("not base64!".parse::<InviteKey>().is_err());
        assert!(STANDARD.encode([1u8; 32]).parse::<InviteKey>().is_ok());
        assert_eq!(
            format!("{:?}", InviteKey::from_bytes(&[1; 32])),
            "InviteKey([redacted])"
        );
    }
}
