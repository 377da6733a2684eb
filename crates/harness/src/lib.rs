//! What the services' integration tests share (a dev-dependency only): [`TestService`],
//! a service under test run through its own composition root; access tokens from a test
//! key it trusts, events published as another service's relay would, private topics, and
//! the events a service wrote to its outbox.
//!
//! Kept apart from `test-support` because it builds on the platform kit, whose own tests
//! use `test-support`.

mod service;

pub use service::{Builder, Resp, TestService};
pub use test_support::eventually;

use futures::future::BoxFuture;
use jsonwebtoken::jwk::JwkSet;
use platform::auth::{Claims, KeySource};
use platform::db::DbPool;
use platform::kafka::KafkaConfig;
use std::time::Duration;
use test_support::tokens::Ed25519Key;
use uuid::Uuid;

/// The test's token issuer: one Ed25519 key, served to the verifier as a JWKS.
pub struct TestKeys(Ed25519Key);

impl Default for TestKeys {
    fn default() -> Self {
        Self(Ed25519Key::new("test"))
    }
}

impl TestKeys {
    /// A 15-minute access token for `sub` with `perms`.
    pub fn token(&self, sub: Uuid, perms: &[&str]) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        self.0.sign(&Claims {
            sub,
            sid: Uuid::now_v7(),
            roles: vec![],
            perms: perms.iter().map(|p| (*p).to_owned()).collect(),
            iss: "neighbourly-auth".into(),
            aud: "neighbourly".into(),
            iat: now,
            exp: now + 900,
            jti: Some(Uuid::new_v4()),
        })
    }
}

impl KeySource for TestKeys {
    fn fetch(&self) -> BoxFuture<'_, anyhow::Result<JwkSet>> {
        let jwks = self.0.jwks();
        Box::pin(async move { Ok(serde_json::from_value(jwks)?) })
    }
}

/// A private topic (and its DLQ) standing in for a real one.
pub async fn private_topic(kafka: &KafkaConfig, name: &str) -> anyhow::Result<String> {
    let t = test_support::unique(&format!("test.{name}"));
    platform::kafka::admin::ensure_topics(kafka, &[t.clone(), events::topics::dlq_of(&t)], 3)
        .await?;
    Ok(t)
}

/// Publishes `event` on `topic` under `key` with the CloudEvents id `id`, as another
/// service's relay would (the same id twice is a redelivery).
pub async fn publish<E: events::DomainEvent>(
    kafka: &KafkaConfig,
    topic: &str,
    key: &str,
    event: &E,
    id: Uuid,
) -> anyhow::Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = kafka.producer_config().create()?;
    let mut env = events::Envelope::new("test", E::TYPE);
    env.id = id;
    env.subject = Some(format!("test/{key}"));
    let payload = event.encode_to_vec();
    producer
        .send(
            FutureRecord::to(topic)
                .key(key.as_bytes())
                .payload(&payload)
                .headers(platform::kafka::headers::to_kafka(&env)),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)?;
    Ok(())
}

/// The events of `event_type` a service wrote to its outbox, oldest first.
pub async fn outbox_events<E: prost::Message + Default>(
    pool: &DbPool,
    event_type: &str,
) -> anyhow::Result<Vec<E>> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        payload: Vec<u8>,
    }
    let mut conn = platform::db::conn(pool).await?;
    let rows: Vec<Row> =
        diesel::sql_query("SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id")
            .bind::<diesel::sql_types::Text, _>(event_type)
            .load(&mut conn)
            .await?;
    rows.into_iter()
        .map(|r| Ok(E::decode(r.payload.as_slice())?))
        .collect()
}
