#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::main(
        notification::SPEC,
        notification::config::NotificationConfig::from_vars,
        notification::run,
    )
    .await
}
