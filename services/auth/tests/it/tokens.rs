//! Refresh-token families, forged and stale access tokens, and key rotation.

use crate::common::{self, tokens};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use events::proto::auth::v1 as ev;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_family() {
    let svc = common::start().await;
    let (_, refresh1, sid) = svc.signed_in(&common::email("reuse")).await;
    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh1 }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let access2 = r.data()["accessToken"].as_str().unwrap().to_owned();
    let refresh2 = r.data()["refreshToken"].as_str().unwrap().to_owned();

    // The thief replays the first token.
    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh1 }))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The whole family is dead: the legitimate newer token and its access token too.
    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh2 }))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        svc.get_auth("/me", &access2).await.status,
        StatusCode::UNAUTHORIZED
    );

    let reused: ev::RefreshTokenReused = svc
        .last_event(events::types::AUTH_SESSION_REFRESH_TOKEN_REUSED)
        .await
        .expect("reuse event");
    assert_eq!(reused.session_id, sid);
    let revoked: ev::SessionRevoked = svc
        .last_event(events::types::AUTH_SESSION_REVOKED)
        .await
        .unwrap();
    assert_eq!(revoked.reason, "refresh_token_reuse");
}

#[tokio::test]
async fn unknown_refresh_tokens_are_refused() {
    let svc = common::start().await;
    let r = svc
        .post("/refresh", json!({ "refreshToken": "not-a-token" }))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["message"], "refresh token is invalid or expired");
    let r = svc.post("/refresh", json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

fn parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    let mut it = token.split('.');
    let h = B64.decode(it.next().unwrap()).unwrap();
    let c = B64.decode(it.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&h).unwrap(),
        serde_json::from_slice(&c).unwrap(),
    )
}

fn unsigned(header: &serde_json::Value, claims: &serde_json::Value) -> String {
    format!(
        "{}.{}.",
        B64.encode(serde_json::to_vec(header).unwrap()),
        B64.encode(serde_json::to_vec(claims).unwrap())
    )
}

#[tokio::test]
async fn forged_and_stale_tokens_are_rejected() {
    let svc = common::start().await;
    let (access, _, _) = svc.signed_in(&common::email("forge")).await;
    assert_eq!(svc.get_auth("/me", &access).await.status, StatusCode::OK);
    let (header, claims) = parts(&access);
    let kid = header["kid"].as_str().unwrap().to_owned();

    // alg=none with the real kid and claims.
    let none = unsigned(&json!({ "alg": "none", "kid": kid, "typ": "JWT" }), &claims);
    // HS256 keyed with the public key (the classic algorithm-confusion attack).
    let jwks: serde_json::Value = svc.get_json("/.well-known/jwks.json").await;
    let x = jwks["keys"][0]["x"].as_str().unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let confused =
        jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(x.as_bytes())).unwrap();
    let raw = B64.decode(x).unwrap();
    let confused_raw = jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(&raw)).unwrap();

    // A key of the attacker's own, under a kid the service never issued.
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&seed);
    let attacker = EncodingKey::from_ed_der(&der);
    let mut ed = Header::new(Algorithm::EdDSA);
    ed.kid = Some("k-forged".into());
    let forged_kid = jsonwebtoken::encode(&ed, &claims, &attacker).unwrap();
    // The attacker's key under the real kid.
    ed.kid = Some(kid.clone());
    let forged_sig = jsonwebtoken::encode(&ed, &claims, &attacker).unwrap();

    // Properly signed by the service's key, but expired / for another audience.
    let signer = svc.state.keys.signer().await.unwrap();
    let mut real = Header::new(Algorithm::EdDSA);
    real.kid = Some(signer.kid.clone());
    let mut expired = claims.clone();
    expired["iat"] = json!(claims["iat"].as_i64().unwrap() - 3600);
    expired["exp"] = json!(claims["iat"].as_i64().unwrap() - 1800);
    let expired = jsonwebtoken::encode(&real, &expired, &signer.key).unwrap();
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("another-platform");
    let wrong_aud = jsonwebtoken::encode(&real, &wrong_aud, &signer.key).unwrap();
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("someone-else");
    let wrong_iss = jsonwebtoken::encode(&real, &wrong_iss, &signer.key).unwrap();
    // Tampered payload under the original signature.
    let mut tampered_claims = claims.clone();
    tampered_claims["roles"] = json!(["super_admin"]);
    let sig = access.rsplit('.').next().unwrap();
    let tampered = format!("{}{}", unsigned(&header, &tampered_claims), sig);

    for (name, token) in [
        ("alg=none", none),
        ("HS256 with the JWK text", confused),
        ("HS256 with the raw public key", confused_raw),
        ("forged kid", forged_kid),
        ("foreign signature", forged_sig),
        ("expired", expired),
        ("wrong aud", wrong_aud),
        ("wrong iss", wrong_iss),
        ("tampered", tampered),
        ("garbage", "a.b.c".to_owned()),
    ] {
        let r = svc.get_auth("/me", &token).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name} was accepted");
        assert_eq!(r.body["success"], false);
    }
    let r = svc.call(reqwest::Method::GET, "/me", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_until_they_expire() {
    let svc = common::start().await;
    let email = common::email("rotate");
    let (old_access, _, _) = svc.signed_in(&email).await;
    let (old_header, _) = parts(&old_access);

    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    // A pending key is published before it signs.
    let pending = auth::keys::rotate(
        &mut conn,
        &svc.state.kek,
        std::time::Duration::from_secs(900),
        std::time::Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let doc = auth::keys::jwks(&mut conn).await.unwrap();
    assert_eq!(doc["keys"].as_array().unwrap().len(), 2);
    let still = auth::keys::KeyStore::new(svc.state.pool.clone(), svc.state.kek.clone());
    assert_eq!(json!(still.signer().await.unwrap().kid), old_header["kid"]);
    // Then one that signs at once (as if the delay had passed).
    let new_kid = auth::keys::rotate(
        &mut conn,
        &svc.state.kek,
        std::time::Duration::from_secs(900),
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    assert_ne!(pending, new_kid);
    drop(conn);
    assert_ne!(old_header["kid"], json!(new_kid));

    // A replica picks up the new key on reload; simulate one that has (a fresh key store).
    let fresh = auth::keys::KeyStore::new(svc.state.pool.clone(), svc.state.kek.clone());
    let signer = fresh.signer().await.unwrap();
    assert_eq!(signer.kid, new_kid);
    let claims = svc.verifier.verify(&old_access).await.unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(signer.kid.clone());
    let new_access = jsonwebtoken::encode(&header, &claims, &signer.key).unwrap();

    // Both verify: the old through the still-published retired key, the new after the
    // verifier refetches the JWKS on the unknown kid.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert_eq!(
        svc.get_auth("/me", &old_access).await.status,
        StatusCode::OK
    );
    assert_eq!(
        svc.get_auth("/me", &new_access).await.status,
        StatusCode::OK
    );
    let jwks: serde_json::Value = svc.get_json("/.well-known/jwks.json").await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 3);
    assert!(kids.contains(&new_kid.as_str()));

    // Once the publication window has passed the retired key is gone.
    let mut conn = platform::db::conn(&svc.state.pool).await.unwrap();
    diesel_async::RunQueryDsl::execute(
        diesel::sql_query("UPDATE signing_keys SET publish_until = now() - interval '1 second' WHERE retired_at IS NOT NULL"),
        &mut conn,
    )
    .await
    .unwrap();
    let doc = auth::keys::jwks(&mut conn).await.unwrap();
    assert_eq!(doc["keys"].as_array().unwrap().len(), 1);
    assert_eq!(doc["keys"][0]["kid"], json!(new_kid));
    let _ = tokens;
}

#[tokio::test]
async fn sessions_slide_but_never_past_their_absolute_end() {
    let svc = common::start().await;
    let (_, refresh, sid) = svc.signed_in(&common::email("slide")).await;
    let sql = |q: String| {
        let pool = svc.state.pool.clone();
        async move {
            let mut conn = platform::db::conn(&pool).await.unwrap();
            diesel_async::RunQueryDsl::execute(diesel::sql_query(q), &mut conn)
                .await
                .unwrap();
        }
    };
    // Thirty days on, the absolute end is an hour away: a refresh may not pass it.
    sql(format!(
        "UPDATE sessions SET absolute_expires_at = now() + interval '1 hour' WHERE id = '{sid}'"
    ))
    .await;
    let r = svc
        .post("/refresh", json!({ "refreshToken": refresh }))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let until: chrono::DateTime<chrono::Utc> = r.data()["refreshExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(until <= chrono::Utc::now() + chrono::Duration::hours(1));
    let next = r.data()["refreshToken"].as_str().unwrap().to_owned();
    // Idle past the sliding expiry: the session is over.
    sql(format!(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '{sid}'"
    ))
    .await;
    let r = svc.post("/refresh", json!({ "refreshToken": next })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
