//! `ops`: commands an operator (or the local stack) runs against the platform.
//!
//!   ops topics-list                 every topic of the events crate, with its DLQ
//!   ops topics-ensure               create the missing ones (KAFKA_BOOTSTRAP_SERVERS)
//!   ops dlq-replay <topic>.dlq      send dead letters back to their topic
//!   ops bench [EVENTS]              raw producer rate vs outbox relay rate (DATABASE_ADMIN_URL)
//!   ops auth-bench URL [SECS] [WORKERS]  argon2 ceiling, logins/s and refreshes/s of an auth service
//!   ops notification-bench SMTP_URL [EVENTS] [DISPATCHERS]  events -> queued e-mails -> sent

mod auth_bench;
mod bench;
mod notification_bench;
mod scratch;

use platform::kafka::KafkaConfig;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: ops topics-list | topics-ensure | dlq-replay <topic>.dlq | bench [EVENTS] | auth-bench URL [SECS] [WORKERS] | notification-bench SMTP_URL [EVENTS] [DISPATCHERS]";

fn kafka() -> KafkaConfig {
    let servers =
        std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:59092".into());
    KafkaConfig::new(servers, "ops")
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
        platform::telemetry::init("ops", &platform::telemetry::TelemetryConfig::default())?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["topics-list"] => {
            for t in platform::kafka::admin::platform_topics() {
                println!("{t}");
            }
        }
        ["topics-ensure"] => {
            let topics = platform::kafka::admin::platform_topics();
            platform::kafka::admin::ensure_topics(
                &kafka(),
                &topics,
                events::topics::DEFAULT_PARTITIONS,
            )
            .await?;
            println!("{} topics present", topics.len());
        }
        ["dlq-replay", topic] => {
            let n = platform::kafka::dlq::replay(&kafka(), topic, Duration::from_secs(30)).await?;
            println!("replayed {n} record(s) from {topic}");
        }
        ["bench", rest @ ..] => {
            let events = match rest.first() {
                Some(n) => n
                    .parse()
                    .map_err(|_| anyhow::anyhow!("EVENTS must be a number"))?,
                None => 50_000,
            };
            bench::run(&kafka(), events).await?;
        }
        ["auth-bench", url, rest @ ..] => {
            let workers = usize::try_from(number(rest, 1, 16)?)?;
            auth_bench::run(url, number(rest, 0, 10)?, workers).await?;
        }
        ["notification-bench", smtp_url, rest @ ..] => {
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
