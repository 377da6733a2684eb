//! `?page=&pageSize=` in, `{items, page, pageSize, totalCount, totalPages, hasNext, hasPrev}` out.

use super::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
/// The highest page number: the largest int32, as the documents say.
pub const MAX_PAGE: u32 = 2_147_483_647;

/// The query parameters as sent; [`PageQuery::resolve`] checks and bounds them.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    pub page_size: Option<u32>,
}

/// A checked page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u32,
    pub page_size: u32,
}

impl PageQuery {
    /// A page of 0 or a size outside 1..=100 is a 400, not silently clamped: a client that
    /// asks for 1000 rows and gets 100 would believe it has everything.
    pub fn resolve(self) -> Result<Page, ApiError> {
        let page = self.page.unwrap_or(1);
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let mut errors = Vec::new();
        // Documented as an int32 (what clients generated from the document can send).
        if page == 0 || page > MAX_PAGE {
            errors.push(super::FieldError {
                field: "page".into(),
                message: format!("must be between 1 and {MAX_PAGE}"),
            });
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            errors.push(super::FieldError {
                field: "pageSize".into(),
                message: format!("must be between 1 and {MAX_PAGE_SIZE}"),
            });
        }
        if errors.is_empty() {
            Ok(Page { page, page_size })
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

impl Page {
    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.page_size)
    }
}

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub page_size: u32,
    pub total_count: u64,
    pub total_pages: u64,
    pub has_next: bool,
    pub has_prev: bool,
}

impl<T> Paginated<T> {
    pub fn new(items: Vec<T>, page: Page, total_count: u64) -> Self {
        let size = u64::from(page.page_size);
        let total_pages = total_count.div_ceil(size);
        Self {
            items,
            page: page.page,
            page_size: page.page_size,
            total_count,
            total_pages,
            has_next: u64::from(page.page) < total_pages,
            has_prev: page.page > 1,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paginated<U> {
        Paginated {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            page_size: self.page_size,
            total_count: self.total_count,
            total_pages: self.total_pages,
            has_next: self.has_next,
            has_prev: self.has_prev,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        assert!(
            PageQuery {
                page: Some(0),
                page_size: None
            }
            .resolve()
            .is_err()
        );
        let err = PageQuery {
            page: Some(1),
            page_size: Some(101),
        }
        .resolve()
        .unwrap_err();
        assert_eq!(err.field_errors()[0].field, "pageSize");
        let p = PageQuery::default().resolve().unwrap();
        assert_eq!((p.page, p.page_size, p.offset()), (1, 20, 0));
    }

    #[test]
    fn flags_and_totals() {
        let page = Page {
            page: 2,
            page_size: 10,
        };
        let p = Paginated::new(vec![1, 2, 3], page, 23);
        assert_eq!((p.total_pages, p.has_next, p.has_prev), (3, true, true));
        let last = Paginated::<u8>::new(
            vec![],
            Page {
                page: 3,
                page_size: 10,
            },
            23,
        );
        assert!(!last.has_next);
        let empty = Paginated::<u8>::new(
            vec![],
            Page {
                page: 1,
                page_size: 10,
            },
            0,
        );
        assert_eq!(
            (empty.total_pages, empty.has_next, empty.has_prev),
            (0, false, false)
        );
    }
}
