//! Secrets at rest: random tokens and codes, their keyed hashes, and envelope encryption
//! of what must be read back (private signing keys, TOTP secrets).
//!
//! One operator-provided key (`AUTH_KEY_ENCRYPTION_KEY`) is the root: encryption uses a
//! key derived for that purpose, hashing another, so neither use weakens the other. Hashes
//! are HMACs rather than plain SHA-256 because six-digit codes and short recovery codes
//! would fall to a dictionary in seconds if the table leaked without the key.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

const NONCE_LEN: usize = 12;

/// The key-encryption key and the two keys derived from it.
#[derive(Clone)]
pub struct Kek {
    encryption: [u8; 32],
    hashing: [u8; 32],
}

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek([redacted])")
    }
}

fn derive(root: &[u8], label: &str) -> [u8; 32] {
    let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(root) else {
        // HMAC accepts keys of any length; this branch cannot be taken.
        return [0; 32];
    };
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl FromStr for Kek {
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

impl Kek {
    pub fn from_bytes(root: &[u8]) -> Self {
        Self {
            encryption: derive(root, "neighbourly-auth/encryption/v1"),
            hashing: derive(root, "neighbourly-auth/token-hash/v1"),
        }
    }

    /// AES-256-GCM with a random nonce, stored as `nonce || ciphertext`. `context` is bound
    /// as associated data, so a ciphertext moved to another row or column fails to open.
    pub fn encrypt(&self, plaintext: &[u8], context: &str) -> anyhow::Result<Vec<u8>> {
        let cipher = Aes256Gcm::new((&self.encryption).into());
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)?;
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                aes_gcm::aead::Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn decrypt(&self, sealed: &[u8], context: &str) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            anyhow::bail!("ciphertext too short");
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into()?;
        let cipher = Aes256Gcm::new((&self.encryption).into());
        cipher
            .decrypt(
                &Nonce::from(nonce),
                aes_gcm::aead::Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("decryption failed: wrong AUTH_KEY_ENCRYPTION_KEY?"))
    }

    /// The stored form of a token or code; `purpose` separates the namespaces (a refresh
    /// token can never match a reset token's hash).
    pub fn hash(&self, purpose: &str, secret: &str) -> Vec<u8> {
        let Ok(mut mac) = <HmacSha256 as Mac>::new_from_slice(&self.hashing) else {
            return Vec::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Constant-time comparison of two hashes.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// 256 random bits, URL-safe: refresh tokens, links, challenges.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A uniformly random string of `len` decimal digits.
pub fn random_digits(len: usize) -> anyhow::Result<String> {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut b = [0u8; 1];
        getrandom::fill(&mut b)?;
        // Rejection sampling: 250..=255 would make 0..=5 likelier than 6..=9.
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    Ok(out)
}

/// A recovery code: 10 characters from an alphabet without look-alikes, shown as `xxxxx-xxxxx`.
pub fn recovery_code() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(11);
    while out.len() < 11 {
        if out.len() == 5 {
            out.push('-');
        }
        let mut b = [0u8; 1];
        getrandom::fill(&mut b)?;
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(b[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(b[0]) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// Recovery codes are accepted with or without the dash, in any case.
pub fn normalize_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek() -> Kek {
        Kek::from_bytes(&[7u8; 32])
    }

    #[test]
    fn encryption_round_trips_and_binds_context() {
        let sealed = kek().encrypt(b"secret", "signing_keys/k1").unwrap();
        assert_eq!(
            kek().decrypt(&sealed, "signing_keys/k1").unwrap(),
            b"secret"
        );
        assert!(kek().decrypt(&sealed, "signing_keys/k2").is_err());
        assert!(
            Kek::from_bytes(&[8u8; 32])
                .decrypt(&sealed, "signing_keys/k1")
                .is_err()
        );
    }

    #[test]
    fn hashes_are_keyed_and_namespaced() {
        let k = kek();
        assert_eq!(k.hash("refresh", "abc"), k.hash("refresh", "abc"));
        assert_ne!(k.hash("refresh", "abc"), k.hash("reset", "abc"));
        assert_ne!(
            k.hash("refresh", "abc"),
            Kek::from_bytes(&[8u8; 32]).hash("refresh", "abc")
        );
    }

    #[test]
    fn kek_parsing() {
        assert!("not base64!".parse::<Kek>().is_err());
        assert!(
            STANDARD
                .encode([1u8; 16])
                .parse::<Kek>()
                .unwrap_err()
                .contains("32 bytes")
        );
        assert!(STANDARD.encode([1u8; 32]).parse::<Kek>().is_ok());
        assert_eq!(format!("{:?}", kek()), "Kek([redacted])");
    }

    #[test]
    fn random_shapes() {
        assert_eq!(random_token().unwrap().len(), 43);
        let code = random_digits(6).unwrap();
        assert!(code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()));
        let rc = recovery_code().unwrap();
        assert_eq!(rc.len(), 11);
        assert_eq!(normalize_recovery_code(&rc.to_uppercase()).len(), 10);
    }
}
