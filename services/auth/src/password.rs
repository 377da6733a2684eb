//! Password policy and argon2id hashing.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core by design, so it runs on the
//! blocking pool, never on the async workers, and at most `hashing_threads` at once: more
//! concurrent logins queue for a permit instead of thrashing memory and starving the
//! runtime. The permit count is the physical login capacity of a replica.

use crate::config::Argon2Params;
use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// Checks length and guessability (zxcvbn: common passwords, keyboard walks, dates, the
/// person's own e-mail or phone). Composition rules are deliberately absent (NIST 800-63B).
pub fn check_policy(password: &str, user_inputs: &[&str]) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Error::field(
            "password",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    if len > MAX_LEN {
        return Err(Error::field(
            "password",
            format!("must be at most {MAX_LEN} characters"),
        ));
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if (estimate.score() as u8) < 3 {
        return Err(Error::field(
            "password",
            "is too common or too easy to guess; try a longer phrase of unrelated words",
        ));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Hasher {
    argon: Arc<Argon2<'static>>,
    permits: Arc<Semaphore>,
    /// A real hash of a random password: unknown users are verified against it, so they
    /// take as long as known ones.
    dummy: Arc<str>,
}

impl Hasher {
    pub fn new(params: Argon2Params, threads: usize) -> anyhow::Result<Self> {
        let params = Params::new(params.memory_kib, params.iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = hash_with(&argon, &crate::crypto::random_token()?)?;
        Ok(Self {
            argon: Arc::new(argon),
            permits: Arc::new(Semaphore::new(threads)),
            dummy: dummy.into(),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| anyhow::anyhow!("hashing pool closed: {e}"))?;
        let argon = self.argon.clone();
        let out = tokio::task::spawn_blocking(move || work(&argon))
            .await
            .map_err(|e| anyhow::anyhow!("hashing task failed: {e}"))?;
        Ok(out)
    }

    pub async fn hash(&self, password: String) -> Result<String> {
        Ok(self
            .blocking(move |argon| hash_with(argon, &password))
            .await??)
    }

    /// True when `password` matches `stored`; with no stored hash (unknown user) the dummy
    /// is checked instead and the answer is always false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.to_string());
        let ok = self
            .blocking(move |argon| {
                PasswordHash::new(&stored)
                    .map(|h| argon.verify_password(password.as_bytes(), &h).is_ok())
                    .unwrap_or(false)
            })
            .await?;
        Ok(ok && known)
    }
}

fn hash_with(argon: &Argon2<'_>, password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(check_policy("short", &[]).is_err());
        assert!(check_policy(&"x".repeat(129), &[]).is_err());
        assert!(check_policy("password1234", &[]).is_err());
        assert!(check_policy("qwertyuiop123", &[]).is_err());
        assert!(check_policy("anna.smith@example.com", &["anna.smith@example.com"]).is_err());
        assert!(check_policy("violet kettle drums sideways", &[]).is_ok());
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = Hasher::new(
            Argon2Params {
                memory_kib: 1024,
                iterations: 1,
            },
            2,
        )
        .unwrap();
        let stored = h.hash("violet kettle drums".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(
            h.verify("violet kettle drums".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("violet kettle drum".into(), Some(stored))
                .await
                .unwrap()
        );
        assert!(!h.verify("anything".into(), None).await.unwrap());
    }
}
