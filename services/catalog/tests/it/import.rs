//! CSV export and import of a library's tools: who may, the round trip, all-or-nothing
//! with every bad row named, formula cells, and what is not a CSV file.

use crate::common::{self, ANONYMOUS, Library, Person, Service};
use catalog::communities::{MemberRole, Visibility};
use catalog::import::COLUMNS;
use events::proto::catalog::v1 as ev;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

/// A CSV answer: the status, the content type and the text.
struct Csv {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Csv {
    /// The data rows, each a map of column to cell.
    fn rows(&self) -> Vec<std::collections::HashMap<String, String>> {
        let mut reader = csv::Reader::from_reader(self.text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        reader
            .records()
            .map(|r| {
                header
                    .iter()
                    .cloned()
                    .zip(r.unwrap().iter().map(str::to_owned))
                    .collect()
            })
            .collect()
    }
}

async fn export(svc: &Service, community: Uuid, who: Option<&Person>) -> Csv {
    let mut req = svc.http.get(format!(
        "{}/api/tools/admin/export?communityId={community}",
        svc.base
    ));
    if let Some(p) = who {
        req = req.bearer_auth(&p.token);
    }
    let resp = req.send().await.unwrap();
    Csv {
        status: resp.status(),
        content_type: resp
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        text: resp.text().await.unwrap(),
    }
}

/// Posts `body` as `content_type`; the status and the JSON answer.
async fn import_as(
    svc: &Service,
    community: Uuid,
    who: Option<&Person>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let mut req = svc
        .http
        .post(format!(
            "{}/api/tools/admin/import?communityId={community}",
            svc.base
        ))
        .header(header::CONTENT_TYPE, content_type)
        .body(body);
    if let Some(p) = who {
        req = req.bearer_auth(&p.token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn import(svc: &Service, library: &Library, who: &Person, file: &str) -> (StatusCode, Value) {
    import_as(svc, library.id, Some(who), "text/csv", file.to_owned()).await
}

/// The `field`s of a refusal's `errors`.
fn fields(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_export_imported_again_updates_its_tools_and_creates_none() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "GBP", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let drill = svc
        .tool(
            &library,
            category,
            "Cordless drill",
            json!({ "description": "18V, two batteries,\n\"quick\" charger", "brand": "Bosch",
                    "weeklyPrice": 6000, "minRentalDays": 2, "bufferDays": 1, "initialItems": 2 }),
        )
        .await;
    let saw = svc.tool(&library, category, "Jigsaw", json!({})).await;
    // Neither a deleted tool nor another library's is exported.
    let gone = svc.tool(&library, category, "Old sander", json!({})).await;
    svc.send(
        Method::DELETE,
        &format!("/api/tools/{gone}"),
        None,
        &library.manager,
    )
    .await
    .expect(StatusCode::OK);
    let elsewhere = svc.library("Oak Lane", "GBP", Visibility::Members).await;
    svc.tool(&elsewhere, category, "Hedge trimmer", json!({}))
        .await;

    let file = export(&svc, library.id, Some(&library.manager)).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.text);
    assert!(
        file.content_type.starts_with("text/csv"),
        "{}",
        file.content_type
    );
    assert_eq!(file.text.lines().next().unwrap(), COLUMNS.join(","));
    let rows = file.rows();
    assert_eq!(rows.len(), 2, "{}", file.text);
    let by_name = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap();
    let d = by_name("Cordless drill");
    assert_eq!(d["id"], drill.to_string());
    assert_eq!(d["categoryId"], category.to_string());
    assert_eq!(d["description"], "18V, two batteries,\n\"quick\" charger");
    assert_eq!(d["brand"], "Bosch");
    assert_eq!(d["model"], "");
    assert_eq!(
        (
            d["dailyPrice"].as_str(),
            d["weeklyPrice"].as_str(),
            d["monthlyPrice"].as_str()
        ),
        ("1000", "6000", "")
    );
    assert_eq!(d["deposit"], "5000");
    assert_eq!(d["currency"], "GBP");
    assert_eq!(
        (
            d["minRentalDays"].as_str(),
            d["maxRentalDays"].as_str(),
            d["bufferDays"].as_str()
        ),
        ("2", "30", "1")
    );
    assert_eq!(d["active"], "true");
    assert_eq!(d["items"], "2");
    assert_eq!(by_name("Jigsaw")["id"], saw.to_string());
    let before = svc
        .get(&format!("/api/tools/{drill}"), &library.manager)
        .await
        .expect(StatusCode::OK);

    let (status, body) = import(&svc, &library, &library.manager, &file.text).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!({ "created": 0, "updated": 2 }));
    let after = svc
        .get(&format!("/api/tools/{drill}"), &library.manager)
        .await
        .expect(StatusCode::OK);
    for field in [
        "name",
        "description",
        "brand",
        "model",
        "dailyPrice",
        "weeklyPrice",
        "monthlyPrice",
        "deposit",
        "minRentalDays",
        "maxRentalDays",
        "bufferDays",
        "active",
        "categoryId",
    ] {
        assert_eq!(after.data()[field], before.data()[field], "{field}");
    }
    assert_eq!(svc.items(&library, drill).await.len(), 2);
    // The single routes' events: carts and projections learn of the import as of a PATCH.
    let updated: Vec<ev::ToolUpdated> = svc.events("catalog.tool.updated").await;
    assert_eq!(updated.len(), 2);
    assert_eq!(updated[0].updated_by, library.manager.id.to_string());
    let created: Vec<ev::ToolCreated> = svc.events("catalog.tool.created").await;
    assert_eq!(
        created.len(),
        4,
        "the four made by the create route, none by the import"
    );
    assert_eq!(
        export(&svc, library.id, Some(&library.manager))
            .await
            .rows()
            .len(),
        2
    );
}

#[tokio::test]
async fn one_bad_row_among_good_ones_writes_nothing_and_every_bad_row_is_named() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let category = svc.category("Garden", None).await;
    let retired = svc.category("Retired", None).await;
    svc.patch(
        &format!("/api/categories/{retired}"),
        json!({ "active": false }),
        &svc.admin(),
    )
    .await
    .expect(StatusCode::OK);
    let rake = svc.tool(&library, category, "Rake", json!({})).await;
    let elsewhere = svc.library("Oak Lane", "EUR", Visibility::Members).await;
    let theirs = svc.tool(&elsewhere, category, "Hoe", json!({})).await;
    let tools_before = svc.count("SELECT count(*) AS n FROM tools").await;
    let outbox_before = svc.count("SELECT count(*) AS n FROM outbox").await;

    let file = format!(
        "id,categoryId,name,dailyPrice,deposit,minRentalDays,maxRentalDays,currency,items\n\
         ,{category},Spade,500,0,,,EUR,1\n\
         ,{category},Shears,lots,0,10,5,,\n\
         {rake},{category},Leaf rake,700,0,,,,\n\
         {theirs},{category},Not ours,100,0,,,,\n\
         ,{retired},Scythe,100,0,,,USD,\n\
         {rake},{category},Rake again,100,0,,,,\n"
    );
    let (status, body) = import(&svc, &library, &library.manager, &file).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        fields(&body),
        [
            "rows.2.dailyPrice",
            "rows.2.maxRentalDays",
            "rows.4.id",
            "rows.5.categoryId",
            "rows.5.currency",
            "rows.6.id",
        ],
        "{body}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors[1]["message"], "must be at least minRentalDays");
    assert_eq!(errors[2]["message"], "no tool of this library has this id");
    assert_eq!(errors[5]["message"], "the same tool as row 3");
    // Nothing written: not the good new row, not the good update, no event.
    assert_eq!(
        svc.count("SELECT count(*) AS n FROM tools").await,
        tools_before
    );
    assert_eq!(
        svc.count("SELECT count(*) AS n FROM outbox").await,
        outbox_before
    );
    let r = svc
        .get(&format!("/api/tools/{rake}"), &library.manager)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], "Rake");

    // The good rows alone go in, in one go; a new row may start inactive, with items.
    let file = format!(
        "id,categoryId,name,dailyPrice,deposit,active,items\n\
         ,{category},Spade,500,0,false,3\n\
         {rake},{category},Leaf rake,700,0,,\n"
    );
    let (status, body) = import(&svc, &library, &library.manager, &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!({ "created": 1, "updated": 1 }));
    let r = svc
        .get(&format!("/api/tools/{rake}"), &library.manager)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], "Leaf rake");
    assert_eq!(
        r.data()["dailyPrice"],
        json!({ "amount": 700, "currency": "EUR" })
    );
    assert_eq!(r.data()["active"], true, "an empty active keeps the tool's");
    let created: Vec<ev::ToolCreated> = svc.events("catalog.tool.created").await;
    let spade = created
        .iter()
        .filter_map(|e| e.tool.as_ref())
        .find(|t| t.name == "Spade")
        .unwrap();
    assert_eq!(spade.daily_price.as_ref().unwrap().currency, "EUR");
    let spade: Uuid = spade.tool_id.parse().unwrap();
    let r = svc
        .get(&format!("/api/tools/{spade}"), &library.manager)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["active"], false);
    assert_eq!(svc.items(&library, spade).await.len(), 3);
    let updated: Vec<ev::ToolUpdated> = svc.events("catalog.tool.updated").await;
    assert!(
        updated.iter().any(|e| e
            .tool
            .as_ref()
            .is_some_and(|t| t.tool_id == spade.to_string() && !t.active)),
        "the projections learn the new tool is inactive"
    );
}

#[tokio::test]
async fn only_those_who_run_the_library_export_and_import() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "GBP", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    svc.tool(&library, category, "Drill", json!({})).await;
    let file = format!("categoryId,name,dailyPrice,deposit\n{category},Saw,100,0\n");

    let resident = svc.member(&library, MemberRole::Resident).await;
    assert_eq!(
        export(&svc, library.id, Some(&resident)).await.status,
        StatusCode::FORBIDDEN
    );
    let (status, _) = import(&svc, &library, &resident, &file).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A member of another community does not learn this one exists; nor does anyone of an
    // unknown one.
    let elsewhere = svc.library("Oak Lane", "GBP", Visibility::Members).await;
    let stranger = svc.member(&elsewhere, MemberRole::Moderator).await;
    assert_eq!(
        export(&svc, library.id, Some(&stranger)).await.status,
        StatusCode::NOT_FOUND
    );
    let (status, _) = import(&svc, &library, &stranger, &file).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        export(&svc, Uuid::now_v7(), Some(&library.manager))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        export(&svc, library.id, ANONYMOUS).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(svc.count("SELECT count(*) AS n FROM tools").await, 1);

    let moderator = svc.member(&library, MemberRole::Moderator).await;
    let (status, body) = import(&svc, &library, &moderator, &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin = svc.admin();
    let csv = export(&svc, library.id, Some(&admin)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.rows().len(), 2);
    let created: Vec<ev::ToolCreated> = svc.events("catalog.tool.created").await;
    assert_eq!(created.last().unwrap().created_by, moderator.id.to_string());
}

#[tokio::test]
async fn formula_cells_are_escaped_in_the_export_and_restored_by_the_import() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "GBP", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let name = "=HYPERLINK(\"http://evil.example\",\"Drill\")";
    let tool = svc
        .tool(
            &library,
            category,
            name,
            json!({ "brand": "+44 20 7946 0000", "model": "@SUM(A1)", "description": "-1 day" }),
        )
        .await;
    let file = export(&svc, library.id, Some(&library.manager)).await;
    let rows = file.rows();
    let row = &rows[0];
    assert_eq!(row["name"], format!("'{name}"));
    assert_eq!(row["brand"], "'+44 20 7946 0000");
    assert_eq!(row["model"], "'@SUM(A1)");
    assert_eq!(row["description"], "'-1 day");
    assert!(
        !file.text.lines().skip(1).any(|l| l.starts_with('=')),
        "{}",
        file.text
    );

    let (status, body) = import(&svc, &library, &library.manager, &file.text).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = svc
        .get(&format!("/api/tools/{tool}"), &library.manager)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.data()["name"], name);
    assert_eq!(r.data()["brand"], "+44 20 7946 0000");
    assert_eq!(r.data()["model"], "@SUM(A1)");
    assert_eq!(r.data()["description"], "-1 day");
}

#[tokio::test]
async fn what_is_not_a_csv_file_of_tools_is_refused() {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "GBP", Visibility::Members).await;
    let category = svc.category("Drills", None).await;
    let file = format!("categoryId,name,dailyPrice,deposit\n{category},Saw,100,0\n");
    let manager = Some(&library.manager);

    for content_type in [
        "application/json",
        "text/plain",
        "text/csv; charset=iso-8859-1",
    ] {
        let (status, body) = import_as(&svc, library.id, manager, content_type, file.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}: {body}");
        assert_eq!(body["success"], false);
    }
    // JSON, as the other routes take it, is not a file.
    svc.post(
        &format!("/api/tools/admin/import?communityId={}", library.id),
        json!({ "rows": [] }),
        &library.manager,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    let (status, _) = import_as(&svc, library.id, manager, "text/csv; charset=UTF-8", file).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = import(&svc, &library, &library.manager, "name,price\nSaw,1\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(fields(&body).iter().all(|f| f == "header"), "{body}");
    let mut many = String::from("categoryId,name,dailyPrice,deposit\n");
    for n in 0..=catalog::import::MAX_ROWS {
        many.push_str(&format!("{category},Saw {n},100,0\n"));
    }
    let (status, body) = import(&svc, &library, &library.manager, &many).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(fields(&body), ["rows"]);
    let big = format!(
        "categoryId,name,dailyPrice,deposit,description\n{category},Saw,100,0,{}\n",
        "x".repeat(catalog::import::MAX_BYTES)
    );
    let (status, _) = import(&svc, &library, &library.manager, &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing but the one good file went in.
    assert_eq!(svc.count("SELECT count(*) AS n FROM tools").await, 1);
}
