//! The token verifier every service uses: only genuine, current EdDSA tokens of our issuer
//! and audience, from a session that has not been revoked, get through.

use actix_web::web;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform::auth::{AuthConfig, AuthError, AuthUser, Claims, TokenVerifier, revoked_session_key};
use platform::http::health::Readiness;
use platform::http::server::{HttpConfig, start};
use platform::http::{ApiResult, envelope};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const ISSUER: &str = "neighbourly-auth";
const AUDIENCE: &str = "neighbourly";

struct Key {
    kid: String,
    signing: SigningKey,
}

impl Key {
    fn new(kid: &str) -> Self {
        let mut seed = [0u8; 32];
        seed[..16].copy_from_slice(Uuid::new_v4().as_bytes());
        seed[16..].copy_from_slice(Uuid::new_v4().as_bytes());
        Self {
            kid: kid.to_owned(),
            signing: SigningKey::from_bytes(&seed),
        }
    }

    fn public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": self.kid, "x": B64.encode(self.public()) })
    }

    fn encoding(&self) -> EncodingKey {
        // PKCS#8 v1 wrapping of an Ed25519 seed: a fixed 16-byte prefix, then the seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&self.signing.to_bytes());
        EncodingKey::from_ed_der(&der)
    }

    fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding()).unwrap()
    }
}

fn claims() -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: Uuid::now_v7(),
        sid: Uuid::now_v7(),
        roles: vec!["resident".into()],
        perms: vec!["catalog.read".into()],
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        iat: now,
        exp: now + 900,
        jti: Some(Uuid::new_v4()),
    }
}

struct Fixture {
    verifier: TokenVerifier,
    jwks: Arc<Mutex<Value>>,
    base: String,
    _stop: CancellationToken,
}

async fn fixture(keys: &[&Key]) -> Fixture {
    let jwks = Arc::new(Mutex::new(
        json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() }),
    ));
    let stop = CancellationToken::new();
    let served = jwks.clone();
    let server = start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg: &mut web::ServiceConfig| {
            let served = served.clone();
            cfg.route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    let body = served.lock().unwrap().clone();
                    async move { actix_web::HttpResponse::Ok().json(body) }
                }),
            );
        },
        stop.clone(),
    )
    .unwrap();
    let base = format!("http://{}", server.addr);
    let config = AuthConfig {
        jwks_url: format!("{base}/.well-known/jwks.json"),
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        redis_url: platform::config::Secret::new(
            std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into()),
        ),
        leeway: Duration::from_secs(0),
        min_refresh_interval: Duration::from_millis(200),
    };
    Fixture {
        verifier: TokenVerifier::new(config)
            .await
            .expect("verifier (is Redis up?)"),
        jwks,
        base,
        _stop: stop,
    }
}

fn invalid(r: Result<Claims, AuthError>) -> bool {
    matches!(r, Err(AuthError::Invalid(_)))
}

#[tokio::test]
async fn genuine_tokens_pass_and_forgeries_do_not() {
    let key = Key::new("k1");
    let f = fixture(&[&key]).await;
    let good = claims();
    assert_eq!(f.verifier.verify(&key.sign(&good)).await.unwrap(), good);

    // alg=none: no signature at all.
    let none = format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        B64.encode(serde_json::to_vec(&good).unwrap())
    );
    assert!(invalid(f.verifier.verify(&none).await), "alg=none accepted");

    // HS256 "signed" with the public key, the classic algorithm-confusion attack.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    let confused =
        jsonwebtoken::encode(&hs, &good, &EncodingKey::from_secret(&key.public())).unwrap();
    assert!(
        invalid(f.verifier.verify(&confused).await),
        "HS256 with the public key accepted"
    );
    let x = key.jwk()["x"].as_str().unwrap().to_owned();
    let confused =
        jsonwebtoken::encode(&hs, &good, &EncodingKey::from_secret(x.as_bytes())).unwrap();
    assert!(invalid(f.verifier.verify(&confused).await));

    // A key we never published, under a made-up kid and under ours.
    let rogue = Key::new("rogue");
    assert!(
        invalid(f.verifier.verify(&rogue.sign(&good)).await),
        "forged kid accepted"
    );
    let impostor = Key {
        kid: "k1".into(),
        signing: rogue.signing.clone(),
    };
    assert!(
        invalid(f.verifier.verify(&impostor.sign(&good)).await),
        "wrong key accepted"
    );

    let expired = Claims {
        exp: chrono::Utc::now().timestamp() - 5,
        ..claims()
    };
    assert!(
        invalid(f.verifier.verify(&key.sign(&expired)).await),
        "expired token accepted"
    );
    let wrong_aud = Claims {
        aud: "someone-else".into(),
        ..claims()
    };
    assert!(
        invalid(f.verifier.verify(&key.sign(&wrong_aud)).await),
        "wrong aud accepted"
    );
    let wrong_iss = Claims {
        iss: "evil-issuer".into(),
        ..claims()
    };
    assert!(
        invalid(f.verifier.verify(&key.sign(&wrong_iss)).await),
        "wrong iss accepted"
    );

    // A character well inside the signature (the last one carries padding bits only).
    let mut tampered = key.sign(&good).into_bytes();
    let i = tampered.len() - 10;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert!(
        invalid(f.verifier.verify(&tampered).await),
        "tampered signature accepted"
    );
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_and_the_old_one_keeps_working() {
    let old = Key::new("2026-01");
    let f = fixture(&[&old]).await;
    let before = claims();
    f.verifier.verify(&old.sign(&before)).await.unwrap();

    // Rotation: the auth service publishes the new key beside the old one.
    let new = Key::new("2026-02");
    *f.jwks.lock().unwrap() = json!({ "keys": [old.jwk(), new.jwk()] });
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after = claims();
    assert_eq!(
        f.verifier.verify(&new.sign(&after)).await.unwrap(),
        after,
        "unknown kid did not trigger a refresh"
    );
    assert_eq!(
        f.verifier.verify(&old.sign(&before)).await.unwrap(),
        before,
        "old tokens must stay valid until expiry"
    );
}

#[tokio::test]
async fn a_remembered_verification_ends_with_its_key_or_its_expiry() {
    let key = Key::new("2026-03");
    let f = fixture(&[&key]).await;
    let good = claims();
    let token = key.sign(&good);
    // Verified twice: the second time from the verified-token cache.
    assert_eq!(f.verifier.verify(&token).await.unwrap(), good);
    assert_eq!(f.verifier.verify(&token).await.unwrap(), good);

    // The auth service withdraws the key: the cached verification must not outlive it.
    *f.jwks.lock().unwrap() = json!({ "keys": [] });
    f.verifier.refresh_keys().await.unwrap();
    assert!(invalid(f.verifier.verify(&token).await));

    // The same kid naming other key material (a botched re-key) does not keep old
    // verifications alive either.
    let first = Key::new("same-kid");
    *f.jwks.lock().unwrap() = json!({ "keys": [first.jwk()] });
    f.verifier.refresh_keys().await.unwrap();
    let by_first = first.sign(&claims());
    f.verifier.verify(&by_first).await.unwrap();
    let second = Key::new("same-kid");
    *f.jwks.lock().unwrap() = json!({ "keys": [second.jwk()] });
    f.verifier.refresh_keys().await.unwrap();
    assert!(invalid(f.verifier.verify(&by_first).await));

    // A token that expires while cached is refused from then on.
    let other = Key::new("2026-04");
    *f.jwks.lock().unwrap() = json!({ "keys": [other.jwk()] });
    f.verifier.refresh_keys().await.unwrap();
    let mut short = claims();
    short.exp = chrono::Utc::now().timestamp() + 2;
    let short_token = other.sign(&short);
    assert_eq!(f.verifier.verify(&short_token).await.unwrap(), short);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(invalid(f.verifier.verify(&short_token).await));
}

#[tokio::test]
async fn a_revoked_session_is_refused() {
    let key = Key::new("k1");
    let f = fixture(&[&key]).await;
    let c = claims();
    let token = key.sign(&c);
    f.verifier.verify(&token).await.unwrap();

    let client = redis::Client::open(
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".into()),
    )
    .unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::AsyncCommands::set_ex(&mut conn, revoked_session_key(&c.sid), "logout", 60)
        .await
        .unwrap();
    assert!(matches!(
        f.verifier.verify(&token).await,
        Err(AuthError::Revoked)
    ));
}

#[tokio::test]
async fn the_extractor_answers_401_and_403_as_envelopes() {
    let key = Key::new("k1");
    let f = fixture(&[&key]).await;
    let stop = CancellationToken::new();
    let verifier = web::Data::new(f.verifier.clone());
    let server = start(
        &HttpConfig::ephemeral(),
        Readiness::new(),
        move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(verifier.clone())
                .route(
                    "/me",
                    web::get().to(|user: AuthUser| async move {
                        ApiResult::Ok(envelope::ok(json!({ "id": user.id() })))
                    }),
                )
                .route(
                    "/admin",
                    web::get().to(|user: AuthUser| async move {
                        user.require("users.manage")?;
                        ApiResult::Ok(envelope::ok(json!({})))
                    }),
                );
        },
        stop.clone(),
    )
    .unwrap();
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://{}{p}", server.addr);

    let res = client.get(url("/me")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["success"].clone(), body["data"].clone()),
        (json!(false), Value::Null)
    );

    let c = claims();
    let token = key.sign(&c);
    let res = client
        .get(url("/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["id"], json!(c.sub));

    let res = client
        .get(url("/me"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = client
        .get(url("/admin"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "a resident lacks users.manage");
    assert!(!f.base.is_empty());
    stop.cancel();
}
