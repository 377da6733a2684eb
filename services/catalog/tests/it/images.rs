//! Tool images through HTTP: a multipart upload comes back in three sizes without its
//! metadata, the first is the tool's main image, members-only pictures stay private, and
//! what is not an image is refused.

use crate::common::{self, ANONYMOUS};
use catalog::communities::{MemberRole, Visibility};
use image::{DynamicImage, ImageBuffer, Rgb};
use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let img: ImageBuffer<Rgb<u8>, Vec<u8>> = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut plain, 90,
        ))
        .unwrap();
    // An APP1 EXIF segment after SOI, with a GPS marker in it.
    let payload =
        b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1aGPS-51.4545-2.5879";
    let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// Posts `bytes` as the `file` part of a multipart form.
async fn upload(
    svc: &common::Service,
    tool: Uuid,
    token: &str,
    bytes: &[u8],
) -> (StatusCode, serde_json::Value) {
    let boundary = "catalog-it-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"drill.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = svc
        .http
        .post(format!("{}/api/tools/{tool}/images", svc.base))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn an_upload_is_resized_stripped_and_becomes_the_main_image() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let original = jpeg_with_gps(2400, 1200);
    let (status, body) = upload(&svc, tool, &library.manager.token, &original).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let image = &body["data"];
    assert_eq!(image["main"], true);
    assert_eq!(
        (image["width"].clone(), image["height"].clone()),
        (json!(1600), json!(800))
    );

    let resident = svc.member(&library, MemberRole::Resident).await;
    for (size, side) in [("thumbnail", 240), ("medium", 800), ("large", 1600)] {
        let url = image["urls"][size].as_str().unwrap();
        let r = svc
            .http
            .get(format!("{}{url}", svc.base))
            .bearer_auth(&resident.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("private")
        );
        let bytes = r.bytes().await.unwrap();
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "{size} kept the EXIF block"
        );
        assert!(
            !bytes.windows(3).any(|w| w == b"GPS"),
            "{size} kept the GPS data"
        );
        let back = image::load_from_memory(&bytes).unwrap();
        assert_eq!(back.width(), side);
    }
    // The tool shows its main image; a second upload is not the main one.
    let t = svc
        .get(&format!("/api/tools/{tool}"), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(t.data()["mainImage"], image["urls"]);
    let (_, second) = upload(&svc, tool, &library.manager.token, &jpeg_with_gps(300, 300)).await;
    assert_eq!(second["data"]["main"], false);
    let second_id = second["data"]["id"].as_str().unwrap().to_owned();
    svc.patch(
        &format!("/api/tools/{tool}/images/{second_id}"),
        json!({ "main": true }),
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);
    let list = svc
        .get(&format!("/api/tools/{tool}/images"), &resident)
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.data().as_array().unwrap().len(), 2);
    assert_eq!(list.data()[1]["main"], true);

    // Deleting the main image makes the other the main one.
    svc.send(
        Method::DELETE,
        &format!("/api/tools/{tool}/images/{second_id}"),
        None,
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);
    let t = svc.get(&format!("/api/tools/{tool}"), &resident).await;
    assert_eq!(t.data()["mainImage"], image["urls"]);
}

#[tokio::test]
async fn only_the_library_uploads_strangers_see_nothing_and_non_images_are_refused() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let tool = svc.tool(&library, category, "Drill", json!({})).await;
    let resident = svc.member(&library, MemberRole::Resident).await;
    let (status, _) = upload(&svc, tool, &resident.token, &jpeg_with_gps(50, 50)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = svc.person(&[]);
    let (status, _) = upload(&svc, tool, &stranger.token, &jpeg_with_gps(50, 50)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = upload(
        &svc,
        tool,
        &library.manager.token,
        b"%PDF-1.7 not a picture",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "file");

    let (_, body) = upload(&svc, tool, &library.manager.token, &jpeg_with_gps(50, 50)).await;
    let url = body["data"]["urls"]["thumbnail"]
        .as_str()
        .unwrap()
        .to_owned();
    svc.get(&url, &stranger).await.expect(StatusCode::NOT_FOUND);
    svc.get(&url, ANONYMOUS).await.expect(StatusCode::NOT_FOUND);
    svc.get(&format!("/api/tools/{tool}/images"), &stranger)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_public_librarys_pictures_are_public_and_revalidate() {
    let svc = common::start().await;
    let library = svc.library("Open Shed", "EUR", Visibility::Public).await;
    let category = svc.category("Saws", None).await;
    let tool = svc.tool(&library, category, "Saw", json!({})).await;
    let (_, body) = upload(&svc, tool, &library.manager.token, &jpeg_with_gps(64, 64)).await;
    let url = format!(
        "{}{}",
        svc.base,
        body["data"]["urls"]["medium"].as_str().unwrap()
    );
    let r = svc.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let tag = r.headers()["etag"].to_str().unwrap().to_owned();
    let again = svc
        .http
        .get(&url)
        .header("if-none-match", tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}
