#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::app::run::<catalog::Catalog>().await
}
