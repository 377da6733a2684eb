#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::run::<order::Order>().await
}
