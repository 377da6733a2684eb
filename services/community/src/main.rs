#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::main(
        community::SPEC,
        community::config::CommunityConfig::from_vars,
        community::run,
    )
    .await
}
