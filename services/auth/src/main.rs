#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::main(
        auth::SPEC,
        auth::config::AuthServiceConfig::from_vars,
        auth::run,
    )
    .await
}
