//! Browsing and search: one query builder for `GET /api/tools` and `/api/tools/search`.
//!
//! Text search is PostgreSQL's own: a weighted tsvector (name, then brand and model, then
//! the description; `websearch_to_tsquery`, so quotes and `-word` work as people expect),
//! answered by its GIN index. When that finds nothing, a typo fallback
//! corrects each query word against the dictionary of words of names, brands and models
//! (`search_words`, kept by a trigger) within an edit distance (1 for words of 3-4
//! letters, 2 from 5), and runs the indexed search again with the corrections, so
//! "drlil" still finds drills. The edit distance is computed over the dictionary (a few
//! thousand words), never over every tool.

use crate::access::Viewer;
use crate::categories;
use crate::error::{Error, Result};
use crate::state::State;
use crate::tools::{self, ToolView};
use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, BigInt, Bool, Date, Text, Uuid as SqlUuid};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use platform::http::pagination::{Page, Paginated};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

platform::text_enum! {
    /// The order of a list.
    pub enum Sort {
        /// Best text match first (the default with `q`; newest without).
        Relevance = "relevance",
        PriceAsc = "price",
        PriceDesc = "-price",
        /// Best rated first.
        Rating = "rating",
        /// Most booked in the last 30 days, then most favourited.
        Popular = "popular",
        Newest = "newest",
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub community: Option<Uuid>,
    /// The category and everything below it.
    pub category: Option<Uuid>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Free for `[from, to)` (plus the tool's buffer).
    pub available: Option<(NaiveDate, NaiveDate)>,
    /// Tenths of a star (35 is 3.5).
    pub min_rating_tenths: Option<i64>,
    pub brand: Option<String>,
    pub q: Option<String>,
    pub sort: Option<Sort>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryCount {
    pub category_id: Uuid,
    pub count: i64,
}

/// A page of tools, with how many of the filtered tools each category holds (the
/// category filter itself left out, so a client can show the other choices).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ToolPage {
    #[serde(flatten)]
    pub page: Paginated<ToolView>,
    pub category_counts: Vec<CategoryCount>,
    /// True when nothing matched exactly and the results are typo matches.
    pub fuzzy: bool,
}

enum Bind {
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    Text(String),
    Int(i64),
    Bool(bool),
    Date(NaiveDate),
}

/// SQL text with its positional binds, built together so `$n` always matches.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends `$n` for a new bind.
    fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    fn query(&self) -> BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
        let mut q = sql_query(self.text.clone()).into_boxed::<Pg>();
        for b in &self.binds {
            q = match b {
                Bind::Uuid(v) => q.bind::<SqlUuid, _>(*v),
                Bind::Uuids(v) => q.bind::<Array<SqlUuid>, _>(v.clone()),
                Bind::Text(v) => q.bind::<Text, _>(v.clone()),
                Bind::Int(v) => q.bind::<BigInt, _>(*v),
                Bind::Bool(v) => q.bind::<Bool, _>(*v),
                Bind::Date(v) => q.bind::<Date, _>(*v),
            };
        }
        q
    }
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = BigInt)]
    total: i64,
    /// The category counts as JSON (`[{"categoryId", "count"}]`), the same in every row.
    #[diesel(sql_type = Text)]
    facets: String,
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Text)]
    word: String,
}

/// The `to_tsquery` text of the closest dictionary words to each query word (at most five
/// each), or `None` when no word has any. The candidates are `[[:alnum:]]+` words from
/// the dictionary, so the query text needs no escaping.
async fn corrections(conn: &mut AsyncPgConnection, words: &[String]) -> Result<Option<String>> {
    let mut parts = Vec::new();
    for word in words {
        let found: Vec<Candidate> = sql_query(
            "SELECT word FROM search_words
              WHERE length(word) BETWEEN length($1) - 2 AND length($1) + 2
                AND levenshtein(word, $1) <= CASE WHEN length($1) >= 5 THEN 2 ELSE 1 END
              ORDER BY levenshtein(word, $1), word
              LIMIT 5",
        )
        .bind::<Text, _>(word)
        .load(conn)
        .await
        .map_err(Error::from)?;
        let alternatives: Vec<String> = found
            .into_iter()
            .map(|c| c.word)
            .filter(|w| w.chars().all(char::is_alphanumeric))
            .collect();
        if !alternatives.is_empty() {
            parts.push(format!("({})", alternatives.join(" | ")));
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join(" & ")))
}

#[derive(QueryableByName)]
struct Facet {
    #[diesel(sql_type = SqlUuid)]
    category_id: Uuid,
    #[diesel(sql_type = BigInt)]
    count: i64,
}

/// Query words for the typo fallback: lower case, letters and digits, 3 letters or more.
pub fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .take(8)
        .collect()
}

enum Match<'a> {
    None,
    Indexed(&'a str),
    /// A `to_tsquery` text of corrected words: `(drill | drills) & makita`.
    Fuzzy(String),
}

fn where_clause(
    sql: &mut Sql,
    viewer: Viewer,
    f: &Filter,
    subtree: Option<&[Uuid]>,
    text: &Match<'_>,
) {
    sql.push(
        " FROM tools t JOIN communities c ON c.id = t.community_id
          WHERE t.deleted_at IS NULL AND t.active AND NOT c.deleted",
    );
    // Seeing: admins everything, members their communities, everyone the public ones.
    sql.push(" AND (").bind(Bind::Bool(viewer.is_admin()));
    sql.push(" OR c.catalog_visibility = 'public'");
    if let Some(user) = viewer.user_id() {
        sql.push(" OR EXISTS (SELECT 1 FROM memberships m WHERE m.community_id = t.community_id AND m.user_id = ")
            .bind(Bind::Uuid(user))
            .push(")");
    }
    sql.push(")");
    if let Some(community) = f.community {
        sql.push(" AND t.community_id = ")
            .bind(Bind::Uuid(community));
    }
    if let Some(ids) = subtree {
        sql.push(" AND t.category_id = ANY(")
            .bind(Bind::Uuids(ids.to_vec()))
            .push(")");
    }
    if let Some(min) = f.min_price {
        sql.push(" AND t.daily_price >= ").bind(Bind::Int(min));
    }
    if let Some(max) = f.max_price {
        sql.push(" AND t.daily_price <= ").bind(Bind::Int(max));
    }
    if let Some(min) = f.min_rating_tenths {
        // rating_sum / rating_count >= min / 10, in integers.
        sql.push(" AND t.rating_count > 0 AND t.rating_sum * 10 >= t.rating_count * ")
            .bind(Bind::Int(min));
    }
    if let Some(brand) = &f.brand {
        sql.push(" AND lower(t.brand) = lower(")
            .bind(Bind::Text(brand.clone()))
            .push(")");
    }
    if let Some((from, to)) = f.available {
        sql.push(
            " AND EXISTS (SELECT 1 FROM items i
                  WHERE i.tool_id = t.id AND i.status IN ('available', 'rented')
                    AND NOT EXISTS (SELECT 1 FROM reservations r
                          WHERE r.item_id = i.id AND r.status IN ('hold', 'confirmed')
                            AND r.blocked && daterange(",
        )
        .bind(Bind::Date(from))
        .push(", ")
        .bind(Bind::Date(to))
        .push(" + t.buffer_days)))");
    }
    match text {
        Match::None => {}
        Match::Indexed(q) => {
            // The tsvector alone, so the GIN index answers (an OR with a trigram test on
            // the name made PostgreSQL scan every tool: 21 ms against 2 ms at 10,000).
            sql.push(" AND t.search @@ (websearch_to_tsquery('english', ")
                .bind(Bind::Text((*q).to_owned()))
                .push(") || websearch_to_tsquery('simple', ")
                .bind(Bind::Text((*q).to_owned()))
                .push("))");
        }
        Match::Fuzzy(tsquery) => {
            sql.push(" AND t.search @@ (to_tsquery('english', ")
                .bind(Bind::Text(tsquery.clone()))
                .push(") || to_tsquery('simple', ")
                .bind(Bind::Text(tsquery.clone()))
                .push("))");
        }
    }
}

fn order_clause(sql: &mut Sql, sort: Sort, text: &Match<'_>) {
    match (sort, text) {
        (Sort::Relevance, Match::Indexed(q)) => {
            // Weights make a name match outrank a description match.
            sql.push(" ORDER BY ts_rank_cd(t.search, websearch_to_tsquery('english', ")
                .bind(Bind::Text((*q).to_owned()))
                .push(")) DESC, t.id DESC");
        }
        (Sort::Relevance, Match::Fuzzy(tsquery)) => {
            sql.push(" ORDER BY ts_rank_cd(t.search, to_tsquery('simple', ")
                .bind(Bind::Text(tsquery.clone()))
                .push(")) DESC, t.id DESC");
        }
        (Sort::Relevance | Sort::Newest, _) => {
            sql.push(" ORDER BY t.created_at DESC, t.id DESC");
        }
        (Sort::PriceAsc, _) => {
            sql.push(" ORDER BY t.daily_price ASC, t.id ASC");
        }
        (Sort::PriceDesc, _) => {
            sql.push(" ORDER BY t.daily_price DESC, t.id DESC");
        }
        (Sort::Rating, _) => {
            sql.push(
                " ORDER BY CASE WHEN t.rating_count = 0 THEN 0 ELSE t.rating_sum * 1000 / t.rating_count END DESC, t.rating_count DESC, t.id DESC",
            );
        }
        (Sort::Popular, _) => {
            sql.push(
                " ORDER BY (SELECT count(*) FROM reservations r
                             WHERE r.tool_id = t.id AND r.status IN ('confirmed', 'returned')
                               AND r.created_at > now() - interval '30 days') DESC,
                           (SELECT count(*) FROM favourites f WHERE f.tool_id = t.id) DESC,
                           t.id DESC",
            );
        }
    }
}

/// One page of hits, their total and the category counts, in one statement: the matches
/// are found once (`hits`, without the category filter, which the counts must not have),
/// then paged, counted and grouped from there.
async fn run(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    f: &Filter,
    subtree: Option<&[Uuid]>,
    text: &Match<'_>,
    page: Page,
) -> Result<(Vec<Uuid>, i64, Vec<CategoryCount>)> {
    let mut sql = Sql::default();
    sql.push(
        "WITH hits AS MATERIALIZED (SELECT t.id, t.category_id, t.search, t.daily_price,
                t.created_at, t.rating_sum, t.rating_count",
    );
    where_clause(&mut sql, viewer, f, None, text);
    sql.push("), chosen AS (SELECT * FROM hits t");
    if let Some(ids) = subtree {
        sql.push(" WHERE t.category_id = ANY(")
            .bind(Bind::Uuids(ids.to_vec()))
            .push(")");
    }
    sql.push(
        ")
         SELECT t.id,
                (SELECT count(*) FROM chosen) AS total,
                (SELECT coalesce(json_agg(json_build_object('categoryId', g.category_id, 'count', g.n)
                                 ORDER BY g.n DESC, g.category_id), '[]')::text
                   FROM (SELECT category_id, count(*) AS n FROM hits GROUP BY category_id) AS g) AS facets
           FROM chosen t",
    );
    order_clause(&mut sql, f.sort.unwrap_or(Sort::Relevance), text);
    sql.push(" LIMIT ")
        .bind(Bind::Int(page.limit()))
        .push(" OFFSET ")
        .bind(Bind::Int(page.offset()));
    let hits: Vec<Hit> = sql.query().load(conn).await.map_err(Error::from)?;
    // The slice's `first`, not diesel's query method of that name.
    if let Some(first) = <[Hit]>::first(&hits) {
        let counts = serde_json::from_str(&first.facets).map_err(anyhow::Error::from)?;
        let total = first.total;
        return Ok((hits.into_iter().map(|h| h.id).collect(), total, counts));
    }
    // Nothing on the first page and no category filter: nothing matched at all (the
    // common case before the typo fallback), so there is nothing to count either.
    if page.offset() == 0 && subtree.is_none() {
        return Ok((Vec::new(), 0, Vec::new()));
    }
    // An empty page past the end, or a category with nothing, still has a total and the
    // other categories' counts.
    let mut count = Sql::default();
    count.push(
        "SELECT '00000000-0000-0000-0000-000000000000'::uuid AS id, count(*) AS total, '[]' AS facets",
    );
    where_clause(&mut count, viewer, f, subtree, text);
    let rows: Vec<Hit> = count.query().load(conn).await.map_err(Error::from)?;
    let total = <[Hit]>::first(&rows).map_or(0, |h| h.total);
    let mut facets = Sql::default();
    facets.push("SELECT t.category_id, count(*) AS count");
    where_clause(&mut facets, viewer, f, None, text);
    facets.push(" GROUP BY t.category_id ORDER BY count DESC, t.category_id");
    let counts: Vec<Facet> = facets.query().load(conn).await.map_err(Error::from)?;
    let counts = counts
        .into_iter()
        .map(|c| CategoryCount {
            category_id: c.category_id,
            count: c.count,
        })
        .collect();
    Ok((Vec::new(), total, counts))
}

pub async fn list(state: &State, viewer: Viewer, f: Filter, page: Page) -> Result<ToolPage> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let subtree = match f.category {
        Some(root) => Some(categories::subtree(&mut conn, root).await?),
        None => None,
    };
    let q = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let text = q.map_or(Match::None, Match::Indexed);
    let (mut ids, mut total, mut counts) =
        run(&mut conn, viewer, &f, subtree.as_deref(), &text, page).await?;
    let mut fuzzy = false;
    if total == 0
        && let Some(q) = q
        && let Some(corrected) = corrections(&mut conn, &words(q)).await?
    {
        let text = Match::Fuzzy(corrected);
        (ids, total, counts) = run(&mut conn, viewer, &f, subtree.as_deref(), &text, page).await?;
        fuzzy = true;
    }
    let tools = tools::load_many(&mut conn, &ids).await?;
    Ok(ToolPage {
        page: Paginated::new(
            tools.iter().map(tools::Tool::view).collect(),
            page,
            u64::try_from(total).unwrap_or(0),
        ),
        category_counts: counts,
        fuzzy,
    })
}

/// Tools like this one: the same category first, then text similarity; never itself.
pub async fn similar(state: &State, viewer: Viewer, id: Uuid, limit: i64) -> Result<Vec<ToolView>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let (tool, _) = tools::visible(&mut conn, viewer, id).await?;
    let mut sql = Sql::default();
    sql.push("SELECT t.id, 0::bigint AS total, '[]' AS facets");
    where_clause(&mut sql, viewer, &Filter::default(), None, &Match::None);
    sql.push(" AND t.id <> ").bind(Bind::Uuid(tool.id));
    sql.push(" AND t.community_id = ")
        .bind(Bind::Uuid(tool.community_id));
    sql.push(" ORDER BY (t.category_id = ")
        .bind(Bind::Uuid(tool.category_id))
        .push(") DESC, similarity(lower(t.name), lower(")
        .bind(Bind::Text(tool.name.clone()))
        .push(")) DESC, t.id DESC LIMIT ")
        .bind(Bind::Int(limit));
    let hits: Vec<Hit> = sql.query().load(&mut conn).await.map_err(Error::from)?;
    let ids: Vec<Uuid> = hits.into_iter().map(|h| h.id).collect();
    Ok(tools::load_many(&mut conn, &ids)
        .await?
        .iter()
        .map(tools::Tool::view)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_are_the_long_enough_ones_in_lower_case() {
        assert_eq!(words("Drlil 18V, a saw!"), ["drlil", "18v", "saw"]);
        assert!(words("a b").is_empty());
    }

    #[test]
    fn binds_are_numbered_in_order() {
        let mut sql = Sql::default();
        sql.push("a = ")
            .bind(Bind::Int(1))
            .push(" AND b = ")
            .bind(Bind::Bool(true));
        assert_eq!(sql.text, "a = $1 AND b = $2");
        assert_eq!(sql.binds.len(), 2);
    }
}
