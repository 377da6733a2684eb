//! `bench`: the platform's benchmarks, each reporting its figure as a ratio to a limit
//! measured in the same run.
//!
//!   bench pipeline [EVENTS]                 raw producer rate vs outbox relay rate (DATABASE_ADMIN_URL)
//!   bench auth URL [SECS] [WORKERS]         argon2 ceiling, logins/s and refreshes/s of an auth service
//!   bench notification SMTP_URL [EVENTS] [DISPATCHERS]  events -> queued e-mails -> sent
//!
//! The operator commands (topics, DLQ replay) are the `ops` binary's; these live apart
//! because they link whole services.

mod auth_bench;
mod notification_bench;
mod pipeline;
mod scratch;

use platform::kafka::KafkaConfig;
use std::process::ExitCode;

const USAGE: &str = "usage: bench pipeline [EVENTS] | auth URL [SECS] [WORKERS] | notification SMTP_URL [EVENTS] [DISPATCHERS]";

fn kafka() -> KafkaConfig {
    let servers =
        std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:59092".into());
    KafkaConfig::new(servers, "bench")
}

/// The `i`-th optional numeric argument, or `default`.
fn number(args: &[&str], i: usize, default: u64) -> anyhow::Result<u64> {
    args.get(i).map_or(Ok(default), |n| {
        n.parse()
            .map_err(|_| anyhow::anyhow!("{n:?} is not a number"))
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    // Warnings from the platform kit (a consumer that cannot fetch, say) reach the operator.
    let _telemetry =
        platform::telemetry::init("bench", &platform::telemetry::TelemetryConfig::default())?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["pipeline", rest @ ..] => {
            let events = usize::try_from(number(rest, 0, 50_000)?)?;
            pipeline::run(&kafka(), events).await?;
        }
        ["auth", url, rest @ ..] => {
            let workers = usize::try_from(number(rest, 1, 16)?)?;
            auth_bench::run(url, number(rest, 0, 10)?, workers).await?;
        }
        ["notification", smtp_url, rest @ ..] => {
            let events = usize::try_from(number(rest, 0, 2000)?)?;
            let dispatchers = usize::try_from(number(rest, 1, 1)?)?.max(1);
            notification_bench::run(&kafka(), smtp_url, events, dispatchers).await?;
        }
        _ => {
            eprintln!("{USAGE}");
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}
