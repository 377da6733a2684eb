//! Password policy and argon2id hashing.
//!
//! Hashing costs ~19 MiB and tens of milliseconds of one core by design, so it runs on a
//! pool of `hashing_threads` dedicated threads, never on the async workers: more concurrent
//! logins queue instead of thrashing memory and starving the runtime. The thread count is
//! the physical login capacity of a replica.

use crate::config::Argon2Params;
use crate::error::{Error, Result};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::Arc;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

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

/// A hashing job: runs on a pool thread with that thread's working memory.
type Job = Box<dyn FnOnce(&Engine, &mut Vec<Block>) + Send>;

/// The configured hasher and its parameters (the crate does not hand them back).
struct Engine {
    argon: Argon2<'static>,
    params: Params,
}

/// Hashes on its own threads, one per permitted concurrent hash. Each thread allocates its
/// argon2 working memory (`memory_kib` KiB) once and reuses it for every hash and check:
/// letting the crate allocate per call left every freed 19 MiB block to the allocator,
/// which kept the auth service at ~317 MB after a few hundred sign-ins. A dedicated pool
/// (rather than tokio's blocking pool) also bounds how many such blocks exist.
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
        let blocks = params.block_count();
        let engine = Arc::new(Engine {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            params,
        });
        let dummy = {
            let mut memory = vec![Block::new(); blocks];
            hash_with(&engine, &mut memory, &crate::crypto::random_token()?)?
        };
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let (queue, engine) = (queue.clone(), engine.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let mut memory = vec![Block::new(); blocks];
                    loop {
                        // The lock is held only to take the next job, not while hashing.
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&engine, &mut memory),
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
        work: impl FnOnce(&Engine, &mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |engine, memory| {
            let _ = tx.send(work(engine, memory));
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
            .blocking(move |engine, memory| hash_with(engine, memory, &password))
            .await??)
    }

    /// True when `password` matches `stored`; with no stored hash (unknown user) the dummy
    /// is checked instead and the answer is always false.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.to_string());
        let ok = self
            .blocking(move |_, memory| verify_with(memory, &password, &stored))
            .await?;
        Ok(ok && known)
    }
}

/// A PHC string (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`) of `password` with a fresh
/// salt, computed in `memory`.
fn hash_with(engine: &Engine, memory: &mut [Block], password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    phc_with(engine, memory, password, &salt)
}

fn phc_with(
    engine: &Engine,
    memory: &mut [Block],
    password: &str,
    salt: &[u8],
) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut salt_buf = [0u8; 64];
    let raw_salt = salt
        .as_salt()
        .decode_b64(&mut salt_buf)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    engine
        .argon
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let params = ParamsString::try_from(&engine.params)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string in `memory` (grown once if the stored hash
/// asks for more than the configured cost, as after a cost increase).
fn verify_with(memory: &mut Vec<Block>, password: &str, stored: &str) -> bool {
    let mut check = || -> Option<bool> {
        let hash = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(hash.algorithm).ok()?;
        let version = match hash.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let params = Params::try_from(&hash).ok()?;
        let expected = hash.hash?;
        let mut salt_buf = [0u8; 64];
        let salt = hash.salt?.decode_b64(&mut salt_buf).ok()?;
        if memory.len() < params.block_count() {
            memory.resize(params.block_count(), Block::new());
        }
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
            .ok()?;
        Some(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
    };
    check().unwrap_or(false)
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

    /// The reused-memory path writes exactly what the crate's own encoder writes, so old
    /// hashes verify and new ones verify elsewhere.
    #[test]
    fn reused_memory_matches_the_crates_encoder() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let params = Params::new(1024, 2, 1, None).unwrap();
        let engine = Engine {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            params: params.clone(),
        };
        let mut memory = vec![Block::new(); params.block_count()];
        let salt = [7u8; 16];
        let ours = phc_with(&engine, &mut memory, "violet kettle", &salt).unwrap();
        let salt_string = SaltString::encode_b64(&salt).unwrap();
        let theirs = engine
            .argon
            .hash_password(b"violet kettle", &salt_string)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        // Reused memory holds the last hash's blocks: a second run must not depend on it.
        let again = phc_with(&engine, &mut memory, "violet kettle", &salt).unwrap();
        assert_eq!(again, theirs);
        let parsed = PasswordHash::new(&theirs).unwrap();
        assert!(
            engine
                .argon
                .verify_password(b"violet kettle", &parsed)
                .is_ok()
        );
        assert!(verify_with(&mut memory, "violet kettle", &theirs));
        assert!(!verify_with(&mut memory, "violet kettlf", &theirs));
        assert!(!verify_with(&mut memory, "violet kettle", "not a hash"));
        // A stored hash with a higher cost than the configured one still verifies.
        let mut small = vec![Block::new(); 8];
        assert!(verify_with(&mut small, "violet kettle", &theirs));
    }
}
