//! The category tree: a parent each (or none), sort order, icon, colour, active flag. The
//! tree is served whole (it is small and every client shows it), with a content ETag.
//! A change that would make a category its own ancestor is refused.

use crate::error::{Error, Result};
use crate::schema::{categories as cat, tools as t};
use crate::state::State;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use platform::http::patch::Patch;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = cat)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    /// Lower-case words joined by `-`, unique: for URLs.
    pub slug: String,
    pub icon: Option<String>,
    /// `#rrggbb`.
    pub colour: Option<String>,
    pub sort_order: i32,
    pub active: bool,
    pub updated_at: DateTime<Utc>,
}

/// A category with its children, in sort order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryNode {
    #[serde(flatten)]
    pub category: Category,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCategory {
    pub parent_id: Option<Uuid>,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "platform::http::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 100, example = "Drills")]
    pub name: String,
    #[validate(length(min = 1, max = 100), custom(function = "valid_slug"))]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        example = "drills"
    )]
    pub slug: String,
    #[validate(length(max = 64))]
    #[schema(max_length = 64)]
    pub icon: Option<String>,
    #[validate(custom(function = "valid_colour"))]
    #[schema(pattern = "^#[0-9a-f]{6}$", example = "#1f8a70")]
    pub colour: Option<String>,
    #[serde(default)]
    pub sort_order: i32,
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Absent fields stay; `null` clears the optional ones (`parentId: null` makes a root).
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryPatch {
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Patch<Uuid>,
    #[validate(
        length(min = 1, max = 100),
        custom(function = "platform::http::validation::not_blank")
    )]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(length(min = 1, max = 100), custom(function = "valid_slug"))]
    #[schema(min_length = 1, max_length = 100, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub icon: Patch<String>,
    #[serde(default, deserialize_with = "platform::http::patch::double")]
    #[schema(value_type = Option<String>, pattern = "^#[0-9a-f]{6}$")]
    pub colour: Patch<String>,
    pub sort_order: Option<i32>,
    pub active: Option<bool>,
}

fn valid_slug(s: &str) -> std::result::Result<(), validator::ValidationError> {
    let ok = !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("slug")
            .with_message("lower-case letters and digits, words joined by '-'".into()))
    }
}

fn valid_colour(s: &str) -> std::result::Result<(), validator::ValidationError> {
    let ok = s.len() == 7
        && s.starts_with('#')
        && s[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("colour").with_message("#rrggbb, lower case".into()))
    }
}

/// The whole tree, roots first; inactive categories only when asked (admins).
pub async fn tree(state: &State, include_inactive: bool) -> Result<Vec<CategoryNode>> {
    let mut conn = platform::db::conn(&state.pool).await?;
    let mut q = cat::table.select(Category::as_select()).into_boxed();
    if !include_inactive {
        q = q.filter(cat::active.eq(true));
    }
    let rows: Vec<Category> = q
        .order((cat::sort_order.asc(), cat::name.asc(), cat::id.asc()))
        .load(&mut conn)
        .await?;
    Ok(build_tree(rows))
}

/// Nests rows under their parents, keeping their order; a row whose parent is absent (an
/// inactive parent left out) is not shown, as its subtree is hidden with it.
pub fn build_tree(rows: Vec<Category>) -> Vec<CategoryNode> {
    fn children_of(parent: Option<Uuid>, rows: &[Category]) -> Vec<CategoryNode> {
        rows.iter()
            .filter(|c| c.parent_id == parent)
            .map(|c| CategoryNode {
                category: c.clone(),
                children: children_of(Some(c.id), rows),
            })
            .collect()
    }
    children_of(None, &rows)
}

pub async fn get(state: &State, id: Uuid) -> Result<Category> {
    let mut conn = platform::db::conn(&state.pool).await?;
    cat::table
        .find(id)
        .select(Category::as_select())
        .first(&mut conn)
        .await
        .optional()?
        .ok_or(Error::NotFound("category"))
}

pub async fn create(state: &State, new: NewCategory) -> Result<Category> {
    let mut conn = platform::db::conn(&state.pool).await?;
    if let Some(parent) = new.parent_id {
        exists(&mut conn, parent).await?;
    }
    let id = Uuid::now_v7();
    diesel::insert_into(cat::table)
        .values((
            cat::id.eq(id),
            cat::parent_id.eq(new.parent_id),
            cat::name.eq(new.name.trim()),
            cat::slug.eq(&new.slug),
            cat::icon.eq(&new.icon),
            cat::colour.eq(&new.colour),
            cat::sort_order.eq(new.sort_order),
            cat::active.eq(new.active),
        ))
        .returning(Category::as_returning())
        .get_result(&mut conn)
        .await
        .map_err(slug_taken)
}

pub async fn update(state: &State, id: Uuid, patch: CategoryPatch) -> Result<Category> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            // One writer of the tree at a time, so two moves cannot make a cycle together
            // that neither makes alone.
            platform::db::advisory_xact_lock(conn, "catalog.categories").await?;
            let mut current: Category = cat::table
                .find(id)
                .select(Category::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(Error::NotFound("category"))?;
            match patch.parent_id {
                None => {}
                Some(None) => current.parent_id = None,
                Some(Some(parent)) => {
                    exists(conn, parent).await?;
                    if would_cycle(conn, id, parent).await? {
                        return Err(Error::rule(
                            "category_cycle",
                            "a category cannot be moved under itself or one of its descendants",
                        ));
                    }
                    current.parent_id = Some(parent);
                }
            }
            if let Some(name) = patch.name {
                current.name = name.trim().to_owned();
            }
            if let Some(slug) = patch.slug {
                current.slug = slug;
            }
            if let Some(icon) = patch.icon {
                current.icon = icon;
            }
            if let Some(colour) = patch.colour {
                current.colour = colour;
            }
            if current
                .icon
                .as_ref()
                .is_some_and(|i| i.chars().count() > 64)
            {
                return Err(Error::field("icon", "at most 64 characters"));
            }
            if let Some(order) = patch.sort_order {
                current.sort_order = order;
            }
            if let Some(active) = patch.active {
                current.active = active;
            }
            if let Some(colour) = &current.colour {
                valid_colour(colour).map_err(|_| Error::field("colour", "#rrggbb, lower case"))?;
            }
            diesel::update(cat::table.find(id))
                .set((
                    cat::parent_id.eq(current.parent_id),
                    cat::name.eq(&current.name),
                    cat::slug.eq(&current.slug),
                    cat::icon.eq(&current.icon),
                    cat::colour.eq(&current.colour),
                    cat::sort_order.eq(current.sort_order),
                    cat::active.eq(current.active),
                    cat::updated_at.eq(Utc::now()),
                ))
                .returning(Category::as_returning())
                .get_result(conn)
                .await
                .map_err(slug_taken)
        }
        .scope_boxed()
    })
    .await
}

/// Deletes a category with no children and no tools (deactivate it otherwise).
pub async fn delete(state: &State, id: Uuid) -> Result<()> {
    let mut conn = platform::db::conn(&state.pool).await?;
    conn.transaction::<_, Error, _>(|conn| {
        async move {
            platform::db::advisory_xact_lock(conn, "catalog.categories").await?;
            exists(conn, id).await?;
            let children: i64 = cat::table
                .filter(cat::parent_id.eq(id))
                .count()
                .get_result(conn)
                .await?;
            let tools: i64 = t::table
                .filter(t::category_id.eq(id))
                .count()
                .get_result(conn)
                .await?;
            if children > 0 || tools > 0 {
                return Err(Error::conflict(
                    "category_in_use",
                    format!(
                        "the category has {children} subcategories and {tools} tools; move them or deactivate the category instead"
                    ),
                ));
            }
            diesel::delete(cat::table.find(id)).execute(conn).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

/// The category and all below it, for filters on a subtree.
pub async fn subtree(conn: &mut AsyncPgConnection, root: Uuid) -> Result<Vec<Uuid>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "WITH RECURSIVE sub(id) AS (
             SELECT id FROM categories WHERE id = $1
             UNION
             SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
         SELECT id FROM sub",
    )
    .bind::<SqlUuid, _>(root)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

async fn exists(conn: &mut AsyncPgConnection, id: Uuid) -> Result<()> {
    let found: Option<Uuid> = cat::table
        .find(id)
        .select(cat::id)
        .first(conn)
        .await
        .optional()?;
    found.map(|_| ()).ok_or(Error::NotFound("category"))
}

/// Whether `parent` is `id` or lies below it.
async fn would_cycle(conn: &mut AsyncPgConnection, id: Uuid, parent: Uuid) -> Result<bool> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Bool)]
        cycle: bool,
    }
    let row: Row = diesel::sql_query(
        "WITH RECURSIVE up(id, parent_id) AS (
             SELECT id, parent_id FROM categories WHERE id = $2
             UNION
             SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id)
         SELECT EXISTS (SELECT 1 FROM up WHERE id = $1) AS cycle",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(parent)
    .get_result(conn)
    .await?;
    Ok(row.cycle)
}

fn slug_taken(e: diesel::result::Error) -> Error {
    match platform::db::DbError::from(e) {
        platform::db::DbError::UniqueViolation(_) => {
            Error::field("slug", "another category has this slug")
        }
        other => Error::Db(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u128, parent: Option<u128>, order: i32) -> Category {
        Category {
            id: Uuid::from_u128(id),
            parent_id: parent.map(Uuid::from_u128),
            name: format!("c{id}"),
            slug: format!("c{id}"),
            icon: None,
            colour: None,
            sort_order: order,
            active: true,
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn rows_nest_under_their_parents_in_order() {
        let tree = build_tree(vec![
            row(1, None, 0),
            row(2, Some(1), 0),
            row(3, Some(1), 1),
            row(4, None, 1),
            row(5, Some(9), 0),
        ]);
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].children.len(), 2);
        assert_eq!(tree[0].children[1].category.id, Uuid::from_u128(3));
        // The orphan (its parent left out) is hidden with the parent.
        assert!(tree.iter().all(|n| n.category.id != Uuid::from_u128(5)));
    }

    #[test]
    fn slugs_and_colours_are_checked() {
        assert!(valid_slug("power-tools").is_ok());
        assert!(valid_slug("Power").is_err());
        assert!(valid_slug("a--b").is_err());
        assert!(valid_colour("#1f8a70").is_ok());
        assert!(valid_colour("#1F8A70").is_err());
        assert!(valid_colour("1f8a70").is_err());
    }
}
