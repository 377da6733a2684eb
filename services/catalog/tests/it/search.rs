//! Browsing and search over thirty tools: text ranking, the typo fallback, filters
//! (subcategories, prices, free dates), sorting, pages, category counts, bad parameters.

use crate::common::{self, Person, day, reserved};
use catalog::communities::{MemberRole, Visibility};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

struct Shelf {
    svc: common::Service,
    resident: Person,
    /// Category by name.
    categories: BTreeMap<&'static str, Uuid>,
    /// Tool by name.
    tools: BTreeMap<&'static str, Uuid>,
    /// Daily prices, by name.
    prices: BTreeMap<&'static str, i64>,
}

/// Name, category, daily price, description.
const TOOLS: [(&str, &str, i64, &str); 30] = [
    (
        "Cordless drill",
        "drills",
        1500,
        "Two batteries and a charger",
    ),
    ("Hammer drill", "drills", 2500, "For concrete and brick"),
    ("Masonry bit set", "power", 400, "Fits any drill chuck"),
    ("Circular saw", "saws", 1800, ""),
    ("Jigsaw", "saws", 1200, "Curves in plywood"),
    ("Mitre saw", "saws", 3000, ""),
    ("Angle grinder", "power", 1300, "Cuts metal"),
    ("Belt sander", "power", 1100, ""),
    ("Floor sander", "power", 4500, "For a whole room"),
    ("Heat gun", "power", 700, "Strips paint"),
    ("Lawn mower", "garden", 2000, "Petrol, self-propelled"),
    ("Hedge trimmer", "garden", 1400, ""),
    ("Leaf blower", "garden", 900, ""),
    ("Garden rake", "garden", 300, ""),
    ("Wheelbarrow", "garden", 600, ""),
    ("Chainsaw", "garden", 3500, "Chaps and helmet included"),
    ("Log splitter", "garden", 4000, ""),
    ("Pressure washer", "cleaning", 2200, "Patios and cars"),
    ("Carpet cleaner", "cleaning", 2600, ""),
    ("Wet vacuum", "cleaning", 1700, ""),
    ("Window squeegee", "cleaning", 200, ""),
    ("Step ladder", "access", 500, ""),
    ("Extension ladder", "access", 1600, "Eight metres"),
    ("Scaffold tower", "access", 5000, ""),
    ("Tile cutter", "decorating", 1000, ""),
    ("Paint sprayer", "decorating", 2100, ""),
    ("Wallpaper steamer", "decorating", 800, ""),
    ("Spirit level", "decorating", 100, ""),
    ("Socket set", "hand", 350, "Metric"),
    ("Torque wrench", "hand", 650, ""),
];

async fn shelf() -> Shelf {
    let svc = common::start().await;
    let library = svc.library("Elm Row", "EUR", Visibility::Members).await;
    let resident = svc.member(&library, MemberRole::Resident).await;
    let mut categories = BTreeMap::new();
    let power = svc.category("Power tools", None).await;
    categories.insert("power", power);
    categories.insert("drills", svc.category("Drills", Some(power)).await);
    categories.insert("saws", svc.category("Saws", Some(power)).await);
    for name in ["garden", "cleaning", "access", "decorating", "hand"] {
        categories.insert(name, svc.category(name, None).await);
    }
    let mut tools = BTreeMap::new();
    let mut prices = BTreeMap::new();
    for (name, category, price, description) in TOOLS {
        let id = svc
            .tool(
                &library,
                categories[category],
                name,
                json!({ "dailyPrice": price, "description": description }),
            )
            .await;
        tools.insert(name, id);
        prices.insert(name, price);
    }
    // A drill the resident cannot see: never in their results.
    let elsewhere = svc.library("Birch Road", "EUR", Visibility::Members).await;
    svc.tool(
        &elsewhere,
        categories["drills"],
        "Cordless drill",
        json!({}),
    )
    .await;
    // The hammer drill's only item is booked from day 10 to 15.
    let (_, held) = svc
        .hold_new(&library, tools["Hammer drill"], 1, 10, 15)
        .await;
    reserved(&held);
    Shelf {
        svc,
        resident,
        categories,
        tools,
        prices,
    }
}

impl Shelf {
    async fn get(&self, path: &str) -> Value {
        self.svc
            .get(path, &self.resident)
            .await
            .expect(StatusCode::OK)
            .body["data"]
            .clone()
    }

    async fn bad(&self, path: &str) -> Value {
        self.svc
            .get(path, &self.resident)
            .await
            .expect(StatusCode::BAD_REQUEST)
            .body
    }
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn text_search_ranks_names_first_and_forgives_typos() {
    let shelf = shelf().await;

    let page = shelf.get("/api/tools/search?q=drill").await;
    let found = names(&page);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        sorted(found[..2].to_vec()),
        ["Cordless drill", "Hammer drill"]
    );
    assert_eq!(found[2], "Masonry bit set");
    assert_eq!(page["fuzzy"], false);
    assert_eq!(page["totalCount"], 3);
    // Every match is the resident's library's.
    let mine = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| shelf.tools.values().any(|id| t["id"] == id.to_string()))
    };
    assert!(mine(&page));
    // Stemming: "drills" finds the drills.
    let page = shelf.get("/api/tools/search?q=drills").await;
    assert_eq!(names(&page).len(), 3);

    // A typo: nothing matches exactly; the fallback corrects "drlil" to "drill" and finds
    // what "drill" finds, the name matches first.
    let page = shelf.get("/api/tools/search?q=drlil").await;
    assert_eq!(page["fuzzy"], true);
    let found = names(&page);
    assert_eq!(
        sorted(found[..2].to_vec()),
        ["Cordless drill", "Hammer drill"]
    );
    assert_eq!(found[2], "Masonry bit set");
    assert!(mine(&page));
    // A letter short is near enough for the trigram match of the name itself.
    let page = shelf.get("/api/tools/search?q=chainsw").await;
    assert_eq!(names(&page), ["Chainsaw"]);
    // Nothing near: nothing at all.
    let page = shelf.get("/api/tools/search?q=xylophone").await;
    assert_eq!(page["totalCount"], 0);
    assert!(names(&page).is_empty());

    // The counts per category cover what matched.
    let page = shelf.get("/api/tools/search?q=drill").await;
    let counts: BTreeMap<String, i64> = page["categoryCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["categoryId"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: BTreeMap<String, i64> = [
        (shelf.categories["drills"].to_string(), 2),
        (shelf.categories["power"].to_string(), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(counts, expected);
    // Filtering on a category leaves the counts of the others.
    let page = shelf
        .get(&format!(
            "/api/tools/search?q=drill&categoryId={}",
            shelf.categories["drills"]
        ))
        .await;
    assert_eq!(names(&page).len(), 2);
    assert_eq!(page["categoryCounts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn filters_sorting_and_pages() {
    let shelf = shelf().await;

    // A category includes its subcategories.
    let page = shelf
        .get(&format!(
            "/api/tools?categoryId={}&pageSize=100",
            shelf.categories["power"]
        ))
        .await;
    let power: Vec<&str> = TOOLS
        .iter()
        .filter(|t| ["power", "drills", "saws"].contains(&t.1))
        .map(|t| t.0)
        .collect();
    assert_eq!(
        sorted(names(&page)),
        sorted(power.iter().map(|s| (*s).to_owned()).collect())
    );
    assert_eq!(page["totalCount"], 10);
    let page = shelf
        .get(&format!(
            "/api/tools?categoryId={}",
            shelf.categories["saws"]
        ))
        .await;
    assert_eq!(page["totalCount"], 3);

    // Prices, inclusive.
    let page = shelf
        .get("/api/tools?minPrice=1000&maxPrice=2000&sort=price&pageSize=100")
        .await;
    let mut in_range: Vec<(i64, &str)> = shelf
        .prices
        .iter()
        .filter(|(_, p)| (1000..=2000).contains(*p))
        .map(|(n, p)| (*p, *n))
        .collect();
    in_range.sort();
    assert_eq!(
        names(&page),
        in_range
            .iter()
            .map(|(_, n)| (*n).to_owned())
            .collect::<Vec<_>>()
    );
    assert_eq!(page["items"][0]["dailyPrice"]["amount"], 1000);

    // Free dates: the hammer drill is booked from day 10 to 15.
    let page = shelf
        .get(&format!(
            "/api/tools/search?q=drill&availableFrom={}&availableTo={}",
            day(11),
            day(13)
        ))
        .await;
    assert_eq!(sorted(names(&page)), ["Cordless drill", "Masonry bit set"]);
    let page = shelf
        .get(&format!(
            "/api/tools/search?q=drill&availableFrom={}&availableTo={}",
            day(15),
            day(17)
        ))
        .await;
    assert_eq!(names(&page).len(), 3);

    // Sorted by price, both ways.
    let all: Vec<i64> = {
        let mut p: Vec<i64> = shelf.prices.values().copied().collect();
        p.sort_unstable();
        p
    };
    let amounts = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["dailyPrice"]["amount"].as_i64().unwrap())
            .collect()
    };
    let page = shelf.get("/api/tools?sort=price&pageSize=100").await;
    assert_eq!(amounts(&page), all);
    let page = shelf.get("/api/tools?sort=-price&pageSize=100").await;
    assert_eq!(
        amounts(&page),
        all.iter().rev().copied().collect::<Vec<_>>()
    );

    // Pages: 30 tools in pages of 7.
    let page = shelf.get("/api/tools?pageSize=7&sort=price").await;
    assert_eq!(names(&page).len(), 7);
    assert_eq!(
        (
            &page["page"],
            &page["pageSize"],
            &page["totalCount"],
            &page["totalPages"]
        ),
        (&json!(1), &json!(7), &json!(30), &json!(5))
    );
    assert_eq!(
        (&page["hasNext"], &page["hasPrev"]),
        (&json!(true), &json!(false))
    );
    let mut seen = Vec::new();
    for n in 1..=5 {
        let page = shelf
            .get(&format!("/api/tools?pageSize=7&page={n}&sort=price"))
            .await;
        seen.extend(amounts(&page));
        if n == 5 {
            assert_eq!(names(&page).len(), 2);
            assert_eq!(
                (&page["hasNext"], &page["hasPrev"]),
                (&json!(false), &json!(true))
            );
        }
    }
    assert_eq!(seen, all);
    let past = shelf.get("/api/tools?pageSize=7&page=6").await;
    assert!(names(&past).is_empty());
    assert_eq!(past["totalCount"], 30);
    // Category counts over the whole library.
    let page = shelf.get("/api/tools").await;
    let total: i64 = page["categoryCounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 30);
}

#[tokio::test]
async fn bad_parameters_are_400() {
    let shelf = shelf().await;
    let from = day(3);
    let to = day(5);
    for (path, field) in [
        ("/api/tools?page=0".to_owned(), Some("page")),
        ("/api/tools?pageSize=101".to_owned(), Some("pageSize")),
        (
            format!("/api/tools?availableFrom={from}"),
            Some("availableTo"),
        ),
        (format!("/api/tools?availableTo={to}"), Some("availableTo")),
        (
            format!("/api/tools?availableFrom={to}&availableTo={from}"),
            Some("availableTo"),
        ),
        (
            "/api/tools?minPrice=2000&maxPrice=1000".to_owned(),
            Some("maxPrice"),
        ),
        ("/api/tools?minRating=5".to_owned(), Some("minRating")),
        ("/api/tools/search".to_owned(), Some("q")),
        ("/api/tools/search?q=%20%20".to_owned(), Some("q")),
        ("/api/tools/search?q=drill&page=0".to_owned(), Some("page")),
        ("/api/tools?sort=cheapest".to_owned(), None),
        ("/api/tools?minPrice=cheap".to_owned(), None),
        ("/api/tools?colour=red".to_owned(), None),
    ] {
        let body = shelf.bad(&path).await;
        assert_eq!(body["success"], false, "{path}");
        if let Some(field) = field {
            assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
        }
    }
}
