#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::main(user::SPEC, user::config::UserConfig::from_vars, user::run).await
}
