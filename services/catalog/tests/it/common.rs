//! The catalog service under test: `harness::TestService` runs it through its own
//! composition root; these are the catalog-specific helpers on top (a library, its
//! members, categories and tools, the saga's steps called as the consumer calls them).

use catalog::Catalog;
use catalog::communities::{self, Details, MemberRole, Visibility};
use catalog::error::Error;
use catalog::reservations::{self, Held, Line};
use chrono::{Days, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use platform::money::Currency;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub use harness::{Resp, eventually};
pub use platform::permissions::CATALOG_MANAGE;

/// The running service; `svc.state`, `svc.pool`, `svc.sql(..)`, `svc.events(..)` and
/// `svc.publish(..)` come from the harness.
pub struct Service(harness::TestService<Catalog>);

impl std::ops::Deref for Service {
    type Target = harness::TestService<Catalog>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub fn builder() -> harness::Builder<Catalog> {
    // Each test's images in a folder of its own, outside the work tree.
    let store = std::env::temp_dir().join(format!("catalog-it-{}", Uuid::now_v7().simple()));
    harness::TestService::<Catalog>::builder().env("CATALOG_STORE_URL", store.display().to_string())
}

/// Starts the service without its consumers.
pub async fn start() -> Service {
    Service(builder().start().await)
}

/// Starts the service as `builder` says (consumers, settings).
pub async fn start_with(builder: harness::Builder<Catalog>) -> Service {
    Service(builder.start().await)
}

/// Today plus `n` days.
pub fn day(n: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(n)
}

/// One order line: `quantity` of `tool` over `[start, end)` days from today.
pub fn line(tool: Uuid, quantity: i64, start: u64, end: u64) -> Line {
    Line {
        order_item_id: Uuid::now_v7(),
        tool_id: tool,
        quantity,
        start: day(start),
        end: day(end),
    }
}

/// The reason of a rejected hold (a panic for anything else).
#[track_caller]
pub fn rejected(held: &Held) -> &'static str {
    match held {
        Held::Rejected(r) => r.reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The items a hold took (a panic for anything else).
#[track_caller]
pub fn reserved(held: &Held) -> Vec<Uuid> {
    match held {
        Held::Reserved { items, .. } => items.iter().flat_map(|(_, i)| i.clone()).collect(),
        other => panic!("expected a hold, got {other:?}"),
    }
}

pub fn id_of(r: &Resp) -> Uuid {
    r.data()["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("a uuid")
}

/// No token at all, for [`Service::send`] and the verbs.
pub const ANONYMOUS: Option<&'static Person> = None;

/// A signed-in person: their id and access token.
pub struct Person {
    pub id: Uuid,
    pub token: String,
}

/// A community the catalog knows of, and its manager.
pub struct Library {
    pub id: Uuid,
    pub manager: Person,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

impl Service {
    /// A person holding `perms`, member of nothing.
    pub fn person(&self, perms: &[&str]) -> Person {
        let id = Uuid::now_v7();
        Person {
            id,
            token: self.token(id, perms),
        }
    }

    /// Someone holding `catalog.manage`.
    pub fn admin(&self) -> Person {
        self.person(&[CATALOG_MANAGE])
    }

    /// A community as its events would tell it, priced in `currency`, with its manager.
    pub async fn library(&self, name: &str, currency: &str, visibility: Visibility) -> Library {
        let manager = self.person(&[]);
        let id = Uuid::now_v7();
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        communities::upsert(
            &mut conn,
            Details {
                id,
                name,
                currency: Currency::parse(currency).unwrap(),
                visibility,
                manager_id: Some(manager.id),
            },
        )
        .await
        .unwrap();
        communities::set_member(&mut conn, id, manager.id, MemberRole::Manager)
            .await
            .unwrap();
        Library { id, manager }
    }

    /// A new member of `library` in `role`.
    pub async fn member(&self, library: &Library, role: MemberRole) -> Person {
        let p = self.person(&[]);
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        communities::set_member(&mut conn, library.id, p.id, role)
            .await
            .unwrap();
        p
    }

    /// Sends a request as `who` (or anonymously) to an absolute `/api/...` path.
    pub async fn send<'a>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        who: impl Into<Option<&'a Person>>,
    ) -> Resp {
        let token = who.into().map(|p| p.token.as_str());
        self.0.call(method, path, body, token).await
    }

    pub async fn get<'a>(&self, path: &str, who: impl Into<Option<&'a Person>>) -> Resp {
        self.send(Method::GET, path, None, who).await
    }

    pub async fn post<'a>(
        &self,
        path: &str,
        body: Value,
        who: impl Into<Option<&'a Person>>,
    ) -> Resp {
        self.send(Method::POST, path, Some(body), who).await
    }

    pub async fn patch<'a>(
        &self,
        path: &str,
        body: Value,
        who: impl Into<Option<&'a Person>>,
    ) -> Resp {
        self.send(Method::PATCH, path, Some(body), who).await
    }

    /// A category made by an admin; returns its id.
    pub async fn category(&self, name: &str, parent: Option<Uuid>) -> Uuid {
        let slug = format!(
            "{}-{}",
            name.to_lowercase().replace(' ', "-"),
            &Uuid::new_v4().simple().to_string()[..6]
        );
        let r = self
            .post(
                "/api/categories",
                json!({ "name": name, "slug": slug, "parentId": parent }),
                &self.admin(),
            )
            .await
            .expect(StatusCode::CREATED);
        id_of(&r)
    }

    /// A tool of `library` made by its manager: one item, 10.00 a day, 50.00 deposit,
    /// unless `fields` says otherwise. Returns its id.
    pub async fn tool(&self, library: &Library, category: Uuid, name: &str, fields: Value) -> Uuid {
        let mut body = json!({
            "communityId": library.id,
            "categoryId": category,
            "name": name,
            "dailyPrice": 1000,
            "deposit": 5000,
            "initialItems": 1,
        });
        for (k, v) in fields.as_object().expect("an object") {
            body[k] = v.clone();
        }
        let r = self
            .post("/api/tools", body, &library.manager)
            .await
            .expect(StatusCode::CREATED);
        id_of(&r)
    }

    /// The ids of the tool's items, oldest first.
    pub async fn items(&self, library: &Library, tool: Uuid) -> Vec<Uuid> {
        let r = self
            .get(&format!("/api/tools/{tool}/items"), &library.manager)
            .await
            .expect(StatusCode::OK);
        r.data()
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    /// A number from the service's database (`SELECT count(*) AS n ...`).
    pub async fn count(&self, query: &str) -> i64 {
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        diesel::sql_query(query)
            .get_result::<Count>(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .n
    }

    /// Live (held or booked) reservation rows of `order`.
    pub async fn live(&self, order: Uuid) -> i64 {
        self.count(&format!(
            "SELECT count(*) AS n FROM reservations
              WHERE order_id = '{order}' AND status IN ('hold', 'confirmed')"
        ))
        .await
    }

    /// `order.placed` as the consumer handles it: holds in one transaction.
    pub async fn hold(&self, order: Uuid, community: Uuid, lines: &[Line]) -> Held {
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        let state = &self.state;
        conn.transaction::<_, Error, _>(|conn| {
            async move { reservations::hold_in(conn, state, order, community, lines, None).await }
                .scope_boxed()
        })
        .await
        .unwrap()
    }

    /// A new order holding `quantity` of `tool` over the days `[start, end)`.
    pub async fn hold_new(
        &self,
        library: &Library,
        tool: Uuid,
        quantity: i64,
        start: u64,
        end: u64,
    ) -> (Uuid, Held) {
        let order = Uuid::now_v7();
        let held = self
            .hold(order, library.id, &[line(tool, quantity, start, end)])
            .await;
        (order, held)
    }

    /// `order.confirmed`.
    pub async fn confirm(&self, order: Uuid) {
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        let state = &self.state;
        conn.transaction::<_, Error, _>(|conn| {
            async move { reservations::confirm_in(conn, state, order, None).await }.scope_boxed()
        })
        .await
        .unwrap();
    }

    /// `order.cancelled`.
    pub async fn release(&self, order: Uuid) {
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        let state = &self.state;
        conn.transaction::<_, Error, _>(|conn| {
            async move { reservations::release_in(conn, state, order, "order_cancelled", None).await }
                .scope_boxed()
        })
        .await
        .unwrap();
    }

    /// `order.extension_requested`; whether it was accepted.
    pub async fn extend(&self, order: Uuid, extension: Uuid, new_end: NaiveDate) -> bool {
        let mut conn = platform::db::conn(&self.pool).await.unwrap();
        let state = &self.state;
        conn.transaction::<_, Error, _>(|conn| {
            async move { reservations::extend_in(conn, state, order, extension, new_end, None).await }
                .scope_boxed()
        })
        .await
        .unwrap()
    }
}
