//! The service process lifecycle (`platform::app`), run for real in a child process: a
//! configuration error names every bad variable and exits 2, `migrate` migrates and exits,
//! `serve` becomes ready and stops cleanly on SIGTERM.

use crate::common::*;
use actix_web::web;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::app::{ServiceSpec, main_with_args};
use platform::http::{ApiResult, envelope};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const CHILD_ARGS: &str = "PLATFORM_IT_APP_ARGS";

fn spec() -> ServiceSpec {
    ServiceSpec {
        name: "it-app",
        default_port: 0,
        migrations: platform::db::NO_SERVICE_MIGRATIONS,
        migrations_dir: "",
        tasks: &[],
    }
}

/// The child's body: a minimal service built with `platform::app::main_with_args`.
#[tokio::test]
#[ignore = "runs only as the child process of the app lifecycle tests"]
async fn app_child() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
    let code = main_with_args(
        args,
        spec(),
        |v| v.required::<String>("IT_APP_GREETING"),
        |app, greeting| async move {
            app.serve(move |cfg: &mut web::ServiceConfig| {
                let greeting = greeting.clone();
                cfg.route(
                    "/hello",
                    web::get().to(move || {
                        let greeting = greeting.clone();
                        async move { ApiResult::Ok(envelope::ok(greeting)) }
                    }),
                );
            })
            .await
        },
    )
    .await;
    let status = if code == ExitCode::SUCCESS {
        0
    } else if code == ExitCode::from(2) {
        2
    } else {
        1
    };
    std::process::exit(status);
}

fn child(args: &str, env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "app::app_child", "--ignored", "--nocapture"])
        .env(CHILD_ARGS, args)
        .env_remove("DATABASE_URL")
        .env_remove("HTTP_PORT")
        .env("LOG_FORMAT", "json")
        .env("KAFKA_BOOTSTRAP_SERVERS", test_support::kafka_bootstrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

#[test]
fn a_bad_configuration_names_every_problem_and_exits_2() {
    let out = child(
        "serve",
        &[
            ("HTTP_PORT", "eighty".into()),
            ("DATABASE_URL", "mysql://x".into()),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "HTTP_PORT is malformed",
        "DATABASE_URL must be a postgres",
        "IT_APP_GREETING is required",
    ] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from: {stderr}"
        );
    }
    let out = child("launch", &[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown command is a usage error"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_then_serve_until_sigterm() {
    let db = test_support::TestDb::from_template("empty", "empty-1", |_| async { Ok(()) })
        .await
        .unwrap();
    let env = |port: u16| {
        vec![
            ("DATABASE_URL", db.url.clone()),
            ("HTTP_PORT", port.to_string()),
            ("IT_APP_GREETING", "hello neighbour".to_owned()),
        ]
    };

    let status = child("migrate", &env(0))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut conn = AsyncPgConnection::establish(&db.url).await.unwrap();
    diesel::sql_query("SELECT 1 FROM outbox LIMIT 1")
        .execute(&mut conn)
        .await
        .expect("migrate created the kit's tables");

    let port = test_support::free_port().unwrap();
    let mut server = child("serve", &env(port))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    eventually(
        Duration::from_secs(30),
        "the service to become ready",
        || {
            let (client, url) = (client.clone(), format!("{base}/health/ready"));
            async move {
                client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await;
    let body = get_json(&client, format!("{base}/hello")).await;
    assert_eq!(body["data"], "hello neighbour");

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let code = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = server.kill();
            panic!("the service did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(code, Some(0), "a graceful stop exits 0");
}
