//! Both services running, talking only through the real topics: a registration at auth
//! becomes a profile here; a suspension here makes auth refuse the login and kill the
//! sessions.

use crate::common;
use auth::config::{Argon2Params, AuthServiceConfig, LockoutPolicy, TokenPolicy};
use diesel_async::AsyncConnection;
use diesel_async::scoped_futures::ScopedFutureExt;
use platform::auth::KeySource;
use platform::config::Secret;
use platform::db::DbConfig;
use platform::http::health::Readiness;
use platform::http::server::HttpConfig;
use platform::kafka::consumer::{ConsumerConfig, ConsumerRunner};
use platform::kafka::outbox::Outbox;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use test_support::TestDb;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "violet kettle drums sideways";

struct Auth {
    base: String,
    state: auth::state::State,
    _db: TestDb,
}

async fn start_auth(shutdown: &CancellationToken) -> Auth {
    let fingerprint = test_support::migrations_fingerprint(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../auth/migrations"
    ));
    let db = TestDb::from_template("auth_for_user_it", &fingerprint, |url| async move {
        platform::db::run_migrations(&Secret::new(url), auth::MIGRATIONS).await?;
        Ok(())
    })
    .await
    .unwrap();
    let pool = platform::db::build_pool(&DbConfig::for_url(db.url.clone()), "auth-x").unwrap();
    let mut root = [0u8; 32];
    root.copy_from_slice(&uuid::Uuid::new_v4().as_bytes().repeat(2)[..32]);
    let verify = common::auth_config();
    let config = AuthServiceConfig {
        kek: auth::crypto::Kek::from_bytes(&root),
        tokens: TokenPolicy {
            issuer: verify.issuer.clone(),
            audience: verify.audience.clone(),
            access_ttl: Duration::from_secs(900),
            refresh_idle_ttl: Duration::from_secs(86_400),
            refresh_absolute_ttl: Duration::from_secs(86_400),
        },
        lockout: LockoutPolicy {
            threshold: 100,
            window: Duration::from_secs(60),
            base: Duration::from_secs(1),
            max: Duration::from_secs(1),
        },
        ip_limit_per_minute: 1_000_000,
        argon2: Argon2Params {
            memory_kib: 4096,
            iterations: 1,
        },
        hashing_threads: 2,
        verify: verify.clone(),
    };
    let state = auth::state::State::new(pool.clone(), Outbox::new("auth"), config)
        .await
        .unwrap();
    let mut conn = platform::db::conn(&pool).await.unwrap();
    auth::keys::ensure_active(&mut conn, &state.kek)
        .await
        .unwrap();
    drop(conn);
    let verifier = platform::auth::TokenVerifier::with_key_source(
        verify,
        Arc::new(auth::keys::LocalKeys(pool.clone())),
    )
    .await
    .unwrap();
    let kafka = common::kafka();
    let relay =
        platform::kafka::relay::OutboxRelay::new(pool.clone(), &kafka, Default::default()).unwrap();
    tokio::spawn(relay.run(shutdown.clone()));
    let consumer = ConsumerRunner::new(
        pool.clone(),
        &kafka,
        ConsumerConfig::new(
            test_support::unique("auth-x"),
            &[events::topics::USER_PROFILE.name()],
        ),
        auth::consumer::Handler {
            state: state.clone(),
        },
    )
    .unwrap();
    tokio::spawn(consumer.run(shutdown.clone()));
    let (s, v) = (state.clone(), verifier.clone());
    let running = platform::http::server::start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg| auth::routes::configure(cfg, s.clone(), v.clone()),
        shutdown.clone(),
    )
    .unwrap();
    Auth {
        base: format!("http://{}/api/auth", running.addr),
        state,
        _db: db,
    }
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let r = http.post(url).json(&body).send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_suspension_reaches_auth_and_blocks_login() {
    let shutdown = CancellationToken::new();
    let auth = start_auth(&shutdown).await;
    let keys: Arc<dyn KeySource> = Arc::new(auth::keys::LocalKeys(auth.state.pool.clone()));
    let users = common::start(events::topics::AUTH_USER.name(), Some(keys)).await;
    let http = reqwest::Client::new();

    let email = format!("x{}@example.com", uuid::Uuid::now_v7().simple());
    let (status, _) = post(
        &http,
        format!("{}/register", auth.base),
        json!({ "email": email, "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, login) = post(
        &http,
        format!("{}/login", auth.base),
        json!({ "identifier": email, "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login:?}");
    let token = login["data"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id = login["data"]["user"]["id"].as_str().unwrap().to_owned();
    common::eventually("the profile from auth.user.registered", || async {
        users.get("/me", &token).await.status == StatusCode::OK
    })
    .await;

    // An admin, bootstrapped the way `auth admin create` does.
    let admin_email = format!("admin{}@example.com", uuid::Uuid::now_v7().simple());
    post(
        &http,
        format!("{}/register", auth.base),
        json!({ "email": admin_email, "password": PASSWORD }),
    )
    .await;
    let mut conn = platform::db::conn(&auth.state.pool).await.unwrap();
    let admin_id = auth::accounts::find_by_identifier(
        &mut conn,
        &auth::identifiers::Identifier::Email(admin_email.clone()),
    )
    .await
    .unwrap()
    .unwrap()
    .id;
    let st = auth.state.clone();
    conn.transaction::<_, auth::error::Error, _>(|conn| {
        async move {
            auth::rbac::grant(
                conn,
                &st,
                admin_id,
                "super_admin",
                None,
                &platform::http::RequestId("t".into()),
            )
            .await
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    let (_, admin_login) = post(
        &http,
        format!("{}/login", auth.base),
        json!({ "identifier": admin_email, "password": PASSWORD }),
    )
    .await;
    let admin = admin_login["data"]["tokens"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = users
        .call(
            Method::POST,
            &format!("/admin/{user_id}/suspend"),
            Some(json!({ "reason": "fraud" })),
            &admin,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);

    // Through user.profile.v1 to auth: the live session dies everywhere, login is refused.
    common::eventually("the session to be revoked", || async {
        users.get("/me", &token).await.status == StatusCode::UNAUTHORIZED
    })
    .await;
    let (status, body) = post(
        &http,
        format!("{}/login", auth.base),
        json!({ "identifier": email, "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:?}");
    assert_eq!(body["message"], "account is suspended");
    shutdown.cancel();
}
