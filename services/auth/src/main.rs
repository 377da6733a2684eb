#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::run::<auth::Auth>().await
}
