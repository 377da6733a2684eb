//! `text[]` columns read as `Vec<String>`.
//!
//! PostgreSQL has no non-null element type, so `diesel print-schema` (rightly) gives a
//! `text[]` column as `Array<Nullable<Text>>`, which loads as `Vec<Option<String>>`. The
//! services only ever write lists of strings; a model keeps `Vec<String>` and reads it
//! through this type:
//!
//! ```ignore
//! #[diesel(deserialize_as = platform::db::TextList)]
//! pub roles: Vec<String>,
//! ```
//!
//! Writing needs nothing: a `Vec<String>` binds to `Array<Nullable<Text>>` as it is.

use diesel::deserialize::{self, Queryable};
use diesel::pg::Pg;
use diesel::sql_types::{Array, Nullable, Text};

/// A `text[]` value with no NULL element; a NULL element is a read error (it would mean a
/// writer outside this code, and silently dropping it would lose data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextList(pub Vec<String>);

impl Queryable<Array<Nullable<Text>>, Pg> for TextList {
    type Row = Vec<Option<String>>;

    fn build(row: Self::Row) -> deserialize::Result<Self> {
        row.into_iter()
            .map(|item| item.ok_or("a NULL element in a text[] column read as a list of strings"))
            .collect::<Result<Vec<_>, _>>()
            .map(TextList)
            .map_err(Into::into)
    }
}

impl From<TextList> for Vec<String> {
    fn from(list: TextList) -> Self {
        list.0
    }
}

#[cfg(test)]
mod tests {
    use super::TextList;
    use diesel::deserialize::Queryable;

    #[test]
    fn null_elements_are_refused() {
        let ok = <TextList as Queryable<_, diesel::pg::Pg>>::build(vec![Some("a".to_owned())]);
        assert_eq!(ok.ok(), Some(TextList(vec!["a".to_owned()])));
        let bad = <TextList as Queryable<_, diesel::pg::Pg>>::build(vec![None]);
        assert!(bad.is_err());
    }
}
