//! Password policy and argon2id hashing.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core by design, so it runs on a
//! pool of `hashing_threads` dedicated threads, never on the async workers: more concurrent
//! logins queue instead of thrashing memory and starving the runtime. The thread count is
//! the physical login capacity of a replica.

use crate::config::Argon2Params;
use crate::error::{Error, Result};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use std::sync::Mutex;

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

type Job = Box<dyn FnOnce(&Argon2<'static>) + Send>;

/// Hashes on its own threads, one per permitted concurrent hash. A dedicated pool (rather
/// than tokio's blocking pool) keeps memory bounded: every thread that ever hashed keeps
/// a ~19 MiB allocator arena, and the blocking pool would rotate work over many threads.
#[derive(Clone)]
pub struct Hasher {
    jobs: std::sync::mpsc::Sender<Job>,
    /// A real hash of a random password: unknown users are verified against it, so they
    /// take as long as known ones.
    dummy: Arc<str>,
}

impl Hasher {
    pub fn new(params: Argon2Params, threads: usize) -> anyhow::Result<Self> {
        let params = Params::new(params.memory_kib, params.iterations, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params));
        let dummy = hash_with(&argon, &crate::crypto::random_token()?)?;
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let (queue, argon) = (queue.clone(), argon.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    loop {
                        // The lock is held only to take the next job, not while hashing.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&argon),
                            // Every Hasher clone is gone: the pool ends.
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self {
            jobs,
            dummy: dummy.into(),
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Argon2<'static>) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |argon| {
            let _ = tx.send(work(argon));
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("hashing pool stopped"))?;
        Ok(rx
            .await
            .map_err(|_| anyhow::anyhow!("hashing thread failed"))?)
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
