//! A community's tool library through the gateway: an admin adds a category; a manager
//! creates a community and adds a tool with an item and a photo (its GPS stripped); a resident joins, finds the tool by
//! a misspelt search, reads its availability and price, keeps it as a favourite; someone
//! of no community sees none of it, and a stranger's anonymous browse neither.

use e2e::people::{WITHIN, join, verified};
use e2e::{Client, admin_credentials, eventually};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_member_finds_a_misspelt_tool_and_a_stranger_sees_nothing() -> anyhow::Result<()> {
    let mut admin = Client::new().await?;
    let (email, password) = admin_credentials()?;
    admin.login(&email, &password).await?;
    let slug = format!("drills-{}", uuid::Uuid::new_v4().simple());
    let category = admin
        .post(
            "/api/categories",
            &json!({ "name": "Drills", "slug": slug }),
        )
        .await?;
    let category = category.expect_status(StatusCode::CREATED)?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let (manager, _, _) = verified("librarian", "community_manager").await?;
    let name = format!("Elm Row {}", &slug[7..15]);
    let created = manager
        .post(
            "/api/communities",
            &json!({
                "name": name,
                "description": "A shed of shared tools",
                "address": { "line1": "3 Elm Row", "city": "Leeds", "country": "GB" },
            }),
        )
        .await?;
    let community = created.expect_status(StatusCode::CREATED)?["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // The catalog hears of the community (and its manager) through Kafka.
    let tool = eventually("the catalog knowing the community", WITHIN, || async {
        let answer = manager
            .post(
                "/api/tools",
                &json!({
                    "communityId": community,
                    "categoryId": category,
                    "name": "Cordless drill 18V",
                    "description": "Two batteries, a case and a set of bits",
                    "brand": "Makita",
                    "dailyPrice": 800,
                    "weeklyPrice": 3500,
                    "deposit": 5000,
                    "maxRentalDays": 14,
                    "initialItems": 1,
                }),
            )
            .await?;
        match answer.status {
            StatusCode::CREATED => Ok(Some(answer.data().clone())),
            StatusCode::NOT_FOUND => Ok(None),
            other => anyhow::bail!("creating the tool answered {other}: {}", answer.body),
        }
    })
    .await?;
    let tool_id = tool["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        tool["dailyPrice"],
        json!({ "amount": 800, "currency": "EUR" })
    );

    // A photo taken at home, with its GPS position in the EXIF block.
    let photo = jpeg_with_gps();
    let uploaded = manager
        .upload(
            &format!("/api/tools/{tool_id}/images"),
            "drill.jpg",
            "image/jpeg",
            &photo,
        )
        .await?;
    let uploaded = uploaded.expect_status(StatusCode::CREATED)?.clone();
    assert_eq!(uploaded["main"], true);

    let (resident, resident_email, _) = verified("borrower", "resident").await?;
    manager
        .post(
            &format!("/api/communities/{community}/invites"),
            &json!({ "email": resident_email }),
        )
        .await?
        .expect_status(StatusCode::CREATED)?;
    join(&resident, &resident_email, &name).await?;

    // The misspelling finds the drill once the catalog knows the resident is a member.
    let found = eventually("the misspelt search", WITHIN, || async {
        let answer = resident
            .get(&format!(
                "/api/tools/search?q=drlil&communityId={community}"
            ))
            .await?;
        let data = answer.expect_status(StatusCode::OK)?;
        Ok((data["totalCount"] == 1).then(|| data.clone()))
    })
    .await?;
    assert_eq!(found["items"][0]["id"], tool_id.as_str());
    assert_eq!(found["fuzzy"], true);

    let from = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let to = from + chrono::Duration::days(7);
    let availability = resident
        .get(&format!(
            "/api/tools/{tool_id}/availability?from={from}&to={to}"
        ))
        .await?;
    let days = availability.expect_status(StatusCode::OK)?["days"].clone();
    assert_eq!(days.as_array().map(Vec::len), Some(7));
    assert!(
        days.as_array()
            .into_iter()
            .flatten()
            .all(|d| d["free"] == 1),
        "{days}"
    );
    let quote = resident
        .get(&format!("/api/tools/{tool_id}/quote?from={from}&to={to}"))
        .await?;
    // Seven days at the weekly rate.
    assert_eq!(quote.expect_status(StatusCode::OK)?["rent"]["amount"], 3500);

    // The picture, through the gateway, without the position it was taken at.
    let url = found["items"][0]["mainImage"]["medium"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(url, uploaded["urls"]["medium"].as_str().unwrap_or_default());
    let (status, bytes) = resident.get_bytes(url).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(image::load_from_memory(&bytes).is_ok());
    assert!(
        !bytes.windows(3).any(|w| w == b"GPS"),
        "the GPS position leaked"
    );

    let kept = resident
        .call(Method::PUT, &format!("/api/favorites/{tool_id}"), None)
        .await?;
    assert_eq!(kept.expect_status(StatusCode::OK)?["favourite"], true);
    let mine = resident.get("/api/favorites").await?;
    assert_eq!(
        mine.expect_status(StatusCode::OK)?["items"][0]["tool"]["id"],
        tool_id.as_str()
    );

    // Someone of no community, and nobody at all, see nothing of a members-only library.
    let (stranger, _, _) = verified("stranger", "resident").await?;
    let seen = stranger.get(&format!("/api/tools/{tool_id}")).await?;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.body);
    let listed = stranger.get("/api/tools/search?q=drill").await?;
    let listed = listed.expect_status(StatusCode::OK)?;
    assert!(
        listed["items"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|t| t["id"] != tool_id.as_str()),
        "{listed}"
    );
    let anonymous = Client::new().await?;
    let seen = anonymous.get(&format!("/api/tools/{tool_id}")).await?;
    assert_eq!(seen.status, StatusCode::NOT_FOUND, "{}", seen.body);
    let (status, _) = stranger.get_bytes(url).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    Ok(())
}

/// A 640x480 JPEG with an APP1 EXIF segment carrying a GPS marker.
fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut plain = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 90);
    image::DynamicImage::ImageRgb8(img)
        .write_with_encoder(encoder)
        .expect("encoding a JPEG in memory");
    let payload =
        b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x88\x25\0\x04\0\0\0\x01\0\0\0\x1aGPS-53.7997-1.5492";
    let len = u16::try_from(payload.len() + 2).unwrap_or(0).to_be_bytes();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, len[0], len[1]]);
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}
