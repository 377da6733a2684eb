//! Bodies stream both ways; the size limit holds for declared and chunked uploads.

use crate::common::{self, json};
use reqwest::StatusCode;

#[tokio::test]
async fn uploads_below_the_limit_arrive_whole() {
    let gw = common::start(&[]).await;
    let body: Vec<u8> = (0..200 * 1024).map(|i| (i % 251) as u8).collect();
    let sum: u64 = body.iter().map(|b| u64::from(*b)).sum();
    let resp = gw
        .http
        .post(gw.url("/api/echo/public/upload"))
        .header("content-type", "application/octet-stream")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let seen = json(resp).await;
    assert_eq!(seen["bodyLen"], body.len());
    assert_eq!(seen["bodySum"], sum);
    assert_eq!(seen["headers"]["content-type"], "application/octet-stream");
}

#[tokio::test]
async fn chunked_uploads_are_streamed_and_cut_at_the_limit() {
    let gw = common::start(&[]).await;
    let chunks = |n: usize| {
        reqwest::Body::wrap_stream(futures::stream::iter(
            (0..n).map(|_| Ok::<_, std::io::Error>(vec![1u8; 32 * 1024])),
        ))
    };
    let ok = gw
        .http
        .post(gw.url("/api/echo/public/upload"))
        .body(chunks(4))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(json(ok).await["bodyLen"], 4 * 32 * 1024);

    let too_big = gw
        .http
        .post(gw.url("/api/echo/public/upload"))
        .body(chunks(12))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_declared_oversize_body_is_refused_before_forwarding() {
    let gw = common::start(&[]).await;
    let resp = gw
        .http
        .post(gw.url("/api/echo/public/counted"))
        .body(vec![0u8; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json(resp).await["success"], false);
    let hits = json(gw.get("/api/echo/public/hits", None).await).await;
    assert_eq!(hits["hits"], 0, "the upstream never saw the request");
}

#[tokio::test]
async fn a_body_that_stalls_is_cut_off() {
    // The test gateway allows 500 ms of silence; the upstream pauses 2 s mid-body.
    let gw = common::start(&[]).await;
    let resp = gw.get("/api/echo/public/stall", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // Without the cut the body would complete ("firstlate") after the pause.
    assert!(
        resp.bytes().await.is_err(),
        "a truncated body must not look complete"
    );
}

#[tokio::test]
async fn large_responses_stream_through_intact() {
    let gw = common::start(&[]).await;
    let big = gw.get("/api/echo/public/big", None).await;
    assert_eq!(big.status(), StatusCode::OK);
    let bytes = big.bytes().await.unwrap();
    assert_eq!(bytes.len(), 80 * 64 * 1024);
    assert!(
        bytes
            .chunks(64 * 1024)
            .enumerate()
            .all(|(i, c)| c.iter().all(|b| usize::from(*b) == i))
    );

    let sized = gw.get("/api/echo/public/sized", None).await;
    assert_eq!(sized.headers()["content-length"], "1048576");
    assert_eq!(sized.bytes().await.unwrap().len(), 1024 * 1024);
}
