//! The SMS and push adapters against stand-ins for the providers' HTTP APIs: the requests
//! they make, and how answers become sent, retry or give up.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use notification::channels::push::{Fcm, ServiceAccount};
use notification::channels::sms::Twilio;
use notification::channels::{PushSender, SendError, SmsSender};
use platform::config::Secret;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A provider stand-in answering `status` and recording (path, authorization, body).
async fn provider(status: u16) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let server = HttpServer::new(move || {
        let s = s.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let s = s.clone();
            async move {
                let auth = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                s.lock().unwrap().push((
                    req.path().to_owned(),
                    auth,
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                if req.path() == "/token" {
                    return HttpResponse::Ok().json(
                        serde_json::json!({ "access_token": "ya29.test", "expires_in": 3600 }),
                    );
                }
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                    .json(serde_json::json!({ "sid": "SM123", "name": "projects/p/messages/1" }))
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn twilio_shaped_sms_requests_and_answers() {
    let (base, seen) = provider(201).await;
    let sms = Twilio::new(&base, "AC123", Secret::new("secret".into()), "+15005550006").unwrap();
    let receipt = sms.send("+447700900123", "Your code is 1").await.unwrap();
    assert!(receipt.0.starts_with("201"));
    let (path, auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(path, "/2010-04-01/Accounts/AC123/Messages.json");
    assert!(auth.starts_with("Basic "));
    assert!(
        body.contains("To=%2B447700900123") && body.contains("Body=Your+code+is+1"),
        "{body}"
    );

    let (busy, _) = provider(503).await;
    let sms = Twilio::new(&busy, "AC123", Secret::new("secret".into()), "+1").unwrap();
    assert!(matches!(
        sms.send("+1", "x").await,
        Err(SendError::Transient(_))
    ));
    let (refusing, _) = provider(400).await;
    let sms = Twilio::new(&refusing, "AC123", Secret::new("secret".into()), "+1").unwrap();
    assert!(matches!(
        sms.send("+1", "x").await,
        Err(SendError::Permanent(_))
    ));
    let down = Twilio::new("http://127.0.0.1:9", "AC", Secret::new("s".into()), "+1").unwrap();
    assert!(matches!(
        down.send("+1", "x").await,
        Err(SendError::Transient(_))
    ));
}

/// A throwaway RSA key for the service account (generated for these tests only).
const TEST_RSA_KEY: &str = include_str!("test_rsa_key.pem");

#[tokio::test]
async fn fcm_v1_gets_a_token_once_and_sends() {
    let (base, seen) = provider(200).await;
    let account = ServiceAccount {
        client_email: "push@project.iam.gserviceaccount.com".into(),
        private_key: TEST_RSA_KEY.into(),
        token_uri: format!("{base}/token"),
    };
    let fcm = Fcm::new(&base, "neighbourly-test", account).unwrap();
    fcm.send("device-1", "Title", "Body").await.unwrap();
    fcm.send("device-2", "Title", "Body").await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/token",
            "/v1/projects/neighbourly-test/messages:send",
            "/v1/projects/neighbourly-test/messages:send"
        ],
        "one token exchange for both messages"
    );
    assert!(
        seen[0]
            .2
            .contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
    );
    assert_eq!(seen[1].1, "Bearer ya29.test");
    let message: serde_json::Value = serde_json::from_str(&seen[1].2).unwrap();
    assert_eq!(message["message"]["token"], "device-1");
    assert_eq!(message["message"]["notification"]["title"], "Title");
}
