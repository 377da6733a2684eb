//! The auth benchmark: what the hardware allows and what the service delivers.
//!
//! 1. argon2id hashes/s with the service's parameters on every core: the physical ceiling
//!    for logins, since each login verifies one hash;
//! 2. logins/s through the running service (HTTP, one session per login);
//! 3. refreshes/s through the service, each worker rotating its own session's token;
//!
//! `scripts/bench-auth` adds pgbench's single-row-update TPS on the same PostgreSQL, the
//! ceiling for anything that writes a row per request.

use auth::config::Argon2Params;
use auth::password::Hasher;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "violet kettle drums sideways";

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Hashes per second with OWASP parameters, one hashing thread per core.
async fn argon2_rate(secs: u64) -> anyhow::Result<f64> {
    let params = Argon2Params {
        memory_kib: 19_456,
        iterations: 2,
    };
    let hasher = Hasher::new(params, cores())?;
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..cores() * 2 {
        let (hasher, count) = (hasher.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                if hasher.hash(PASSWORD.to_owned()).await.is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

async fn post(http: &reqwest::Client, url: &str, body: Value) -> anyhow::Result<(u16, Value)> {
    let resp = http.post(url).json(&body).send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

/// Runs `workers` loops of `step` for `secs`; returns successful operations per second.
async fn measure<S, F>(
    workers: usize,
    secs: u64,
    state: Vec<S>,
    step: F,
) -> anyhow::Result<(f64, u64)>
where
    S: Send + 'static,
    F: Fn(S) -> futures::future::BoxFuture<'static, (S, bool)> + Send + Sync + 'static,
{
    let step = Arc::new(step);
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut s in state.into_iter().take(workers) {
        let (step, ok, failed) = (step.clone(), ok.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let (next, success) = step(s).await;
                s = next;
                if success {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let rate = ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    Ok((rate, failed.load(Ordering::Relaxed)))
}

/// `AUTH_BENCH_PHASES` (comma-separated `argon2,login,refresh`) runs a subset, for
/// profiling one phase.
fn phase(name: &str) -> bool {
    std::env::var("AUTH_BENCH_PHASES").map_or(true, |p| p.split(',').any(|x| x.trim() == name))
}

pub async fn run(base: &str, secs: u64, workers: usize) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(workers * 2)
        .build()?;
    let api = format!("{}/api/auth", base.trim_end_matches('/'));
    let email = format!("bench-{}@example.com", uuid::Uuid::now_v7().simple());
    let (status, body) = post(
        &http,
        &format!("{api}/register"),
        json!({ "email": email, "password": PASSWORD }),
    )
    .await?;
    anyhow::ensure!(status == 202, "register failed: {status} {body}");

    let argon = if phase("argon2") {
        println!(
            "argon2id (m=19456 KiB, t=2, p=1) on {} cores, {secs}s ...",
            cores()
        );
        let argon = argon2_rate(secs).await?;
        println!("  argon2id hashes/s:  {argon:>8.1}");
        argon
    } else {
        f64::NAN
    };

    let login_url = format!("{api}/login");
    if phase("login") {
        login_phase(&http, &login_url, &email, secs, workers, argon).await?;
    }
    if phase("refresh") {
        refresh_phase(&http, &api, &login_url, &email, secs, workers).await?;
    }
    Ok(())
}

async fn login_phase(
    http: &reqwest::Client,
    login_url: &str,
    email: &str,
    secs: u64,
    workers: usize,
    argon: f64,
) -> anyhow::Result<()> {
    let logins = (0..workers)
        .map(|i| (http.clone(), login_url.to_owned(), email.to_owned(), i))
        .collect();
    let (login_rate, login_failed) = measure(workers, secs, logins, |(http, url, email, i)| {
        Box::pin(async move {
            let body = json!({ "identifier": email, "password": PASSWORD, "deviceId": format!("bench-{i}") });
            let ok = matches!(post(&http, &url, body).await, Ok((200, _)));
            ((http, url, email, i), ok)
        })
    })
    .await?;
    println!(
        "  logins/s:           {login_rate:>8.1}   ({:.0}% of the argon2 limit, {login_failed} failed)",
        100.0 * login_rate / argon
    );
    Ok(())
}

async fn refresh_phase(
    http: &reqwest::Client,
    api: &str,
    login_url: &str,
    email: &str,
    secs: u64,
    workers: usize,
) -> anyhow::Result<()> {
    // One session per worker, each refreshed in a loop with the token it got last.
    let mut sessions = Vec::new();
    for i in 0..workers {
        let body =
            json!({ "identifier": email, "password": PASSWORD, "deviceId": format!("bench-r{i}") });
        let (status, resp) = post(http, login_url, body).await?;
        anyhow::ensure!(status == 200, "login failed: {status} {resp}");
        let token = resp["data"]["tokens"]["refreshToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        sessions.push((http.clone(), format!("{api}/refresh"), token));
    }
    let (refresh_rate, refresh_failed) = measure(workers, secs, sessions, |(http, url, token)| {
        Box::pin(async move {
            match post(&http, &url, json!({ "refreshToken": token })).await {
                Ok((200, body)) => {
                    let next = body["data"]["refreshToken"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    ((http, url, next), true)
                }
                _ => ((http, url, token), false),
            }
        })
    })
    .await?;
    println!("  refreshes/s:        {refresh_rate:>8.1}   ({refresh_failed} failed)");
    Ok(())
}
