//! The SMS and push adapters against stand-ins for the providers' HTTP APIs: the requests
//! they make, and how answers become sent, retry or give up.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use notification::channels::push::{Fcm, ServiceAccount};
use notification::channels::sms::Twilio;
use notification::channels::{PushSender, SendError, SmsSender};
use platform::config::Secret;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// A provider stand-in answering `status` with `answer` and recording (path,
/// authorization, body); its `/token` endpoint hands out access tokens.
async fn provider(status: u16, answer: serde_json::Value) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let server = HttpServer::new(move || {
        let (s, answer) = (s.clone(), answer.clone());
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (s, answer) = (s.clone(), answer.clone());
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
                    .json(answer)
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
    // Twilio's answer repeats the message and the number: the receipt keeps neither.
    let twilio_answer = serde_json::json!({
        "sid": "SM123", "status": "queued", "to": "+447700900123", "body": "Your code is 1",
    });
    let (base, seen) = provider(201, twilio_answer).await;
    let sms = Twilio::new(&base, "AC123", Secret::new("secret".into()), "+15005550006").unwrap();
    let receipt = sms.send("+447700900123", "Your code is 1").await.unwrap();
    assert_eq!(receipt.0, "201 sid=SM123");
    let (path, auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(path, "/2010-04-01/Accounts/AC123/Messages.json");
    assert!(auth.starts_with("Basic "));
    assert!(
        body.contains("To=%2B447700900123") && body.contains("Body=Your+code+is+1"),
        "{body}"
    );

    let (busy, _) = provider(503, serde_json::json!({})).await;
    let sms = Twilio::new(&busy, "AC123", Secret::new("secret".into()), "+1").unwrap();
    assert!(matches!(
        sms.send("+1", "x").await,
        Err(SendError::Transient(_))
    ));
    let refusal =
        serde_json::json!({ "code": 21211, "message": "The 'To' number +1 is not valid." });
    let (refusing, _) = provider(400, refusal).await;
    let sms = Twilio::new(&refusing, "AC123", Secret::new("secret".into()), "+1").unwrap();
    match sms.send("+1", "x").await {
        Err(SendError::Permanent(m)) => assert_eq!(m, "400 code=21211"),
        other => panic!("{other:?}"),
    }
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
    let (base, seen) = provider(200, serde_json::json!({ "name": "projects/p/messages/1" })).await;
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

fn account(base: &str) -> ServiceAccount {
    ServiceAccount {
        client_email: "push@project.iam.gserviceaccount.com".into(),
        private_key: TEST_RSA_KEY.into(),
        token_uri: format!("{base}/token"),
    }
}

#[tokio::test]
async fn fcm_refusals_name_their_reason_and_a_refused_token_is_fetched_again() {
    let gone = serde_json::json!({ "error": {
        "code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
        "details": [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED" }],
    }});
    let (base, _) = provider(404, gone).await;
    let fcm = Fcm::new(&base, "p", account(&base)).unwrap();
    match fcm.send("old-device", "t", "b").await {
        Err(SendError::Permanent(m)) => {
            assert_eq!(m, "404 status=NOT_FOUND errorCode=UNREGISTERED")
        }
        other => panic!("{other:?}"),
    }
    // 401: transient, and the next message exchanges a new token.
    let (base, seen) = provider(401, serde_json::json!({})).await;
    let fcm = Fcm::new(&base, "p", account(&base)).unwrap();
    assert!(matches!(
        fcm.send("d", "t", "b").await,
        Err(SendError::Transient(_))
    ));
    let _ = fcm.send("d", "t", "b").await;
    let tokens = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _, _)| p == "/token")
        .count();
    assert_eq!(tokens, 2);
}
