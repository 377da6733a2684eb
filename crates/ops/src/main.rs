//! `ops`: commands an operator (or the local stack) runs against the platform.
//!
//!   ops topics-list                 every topic of the events crate, with its DLQ
//!   ops topics-ensure               create the missing ones (KAFKA_BOOTSTRAP_SERVERS)
//!   ops dlq-replay <topic>.dlq      send dead letters back to their topic
//!
//! It depends on the kit and the events crate only, so the operator image links no
//! service; the benchmarks are the `bench` tool's (tools/bench).

use platform::kafka::KafkaConfig;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: ops topics-list | topics-ensure | dlq-replay <topic>.dlq";

fn kafka() -> KafkaConfig {
    let servers =
        std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap_or_else(|_| "127.0.0.1:59092".into());
    KafkaConfig::new(servers, "ops")
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
        _ => {
            eprintln!("{USAGE}");
            return Ok(ExitCode::from(2));
        }
    }
    Ok(ExitCode::SUCCESS)
}
