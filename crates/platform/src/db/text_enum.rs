//! Rust enums stored in TEXT columns ([`text_enum!`](crate::text_enum)).
//!
//! Status-like columns are `text` with a `CHECK (col IN (...))` in the migrations: adding a
//! value is a plain constraint change, where a PostgreSQL enum type would need `ALTER TYPE`
//! outside a transaction. The macro gives the Rust side one spelling of each value, used
//! by the database mapping, JSON, query strings, `Display`/`FromStr` and the OpenAPI
//! schema alike, so none of them can drift from the others.

/// A value that names none of an enum's variants (a row written by newer code, a bad
/// query parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {type_name} value {value:?}")]
pub struct UnknownVariant {
    pub type_name: &'static str,
    pub value: String,
}

/// What [`text_enum!`](crate::text_enum) implements; generic code (and tests) can list the
/// values through it.
pub trait TextEnum: Copy + Sized + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];
    /// Every variant's text, in declaration order.
    const TEXTS: &'static [&'static str];
    /// The text stored and sent for this variant.
    fn as_str(self) -> &'static str;
}

/// Defines a fieldless enum whose variants are stored as the given texts in a
/// `diesel::sql_types::Text` (or `Nullable<Text>`) column on PostgreSQL, and sent as the
/// same texts in JSON and query strings:
///
/// ```
/// platform::text_enum! {
///     /// Where an invite stands.
///     pub enum InviteStatus {
///         Active = "active",
///         Accepted = "accepted",
///         Revoked = "revoked",
///     }
/// }
/// assert_eq!(InviteStatus::Active.as_str(), "active");
/// assert_eq!("revoked".parse::<InviteStatus>(), Ok(InviteStatus::Revoked));
/// assert_eq!(InviteStatus::Accepted.to_string(), "accepted");
/// ```
///
/// Generated: `Debug, Clone, Copy, PartialEq, Eq, Hash`, `as_str`, `ALL`, `Display`,
/// `FromStr` (error [`UnknownVariant`]), serde `Serialize`/`Deserialize`, utoipa
/// `ToSchema` (a string with the values as its `enum`), and diesel's `AsExpression`,
/// `ToSql`, `FromSql` and `Queryable` for `Text` and `Nullable<Text>` on `Pg`, so the
/// enum goes in `Queryable`/`Selectable`/`Insertable`/`AsChangeset` structs and in
/// `.eq(...)`, `.ne(...)`, `.eq_any([...])` filters. The texts are written out (the
/// project's convention is snake_case) rather than derived from the variant names, so
/// renaming a variant never changes what is stored. The calling crate needs none of
/// serde, utoipa or diesel as a dependency for the macro itself.
#[macro_export]
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The text stored and sent for this variant.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl $crate::db::TextEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            const TEXTS: &'static [&'static str] = &[$($text),+];
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::db::UnknownVariant;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::db::UnknownVariant {
                        type_name: ::core::stringify!($name),
                        value: s.to_owned(),
                    }),
                }
            }
        }

        impl $crate::db::__text_enum::serde::Serialize for $name {
            fn serialize<S>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error>
            where
                S: $crate::db::__text_enum::serde::Serializer,
            {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::db::__text_enum::serde::Deserialize<'de> for $name {
            fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
            where
                D: $crate::db::__text_enum::serde::Deserializer<'de>,
            {
                $crate::db::__text_enum::deserialize(deserializer)
            }
        }

        impl $crate::db::__text_enum::utoipa::PartialSchema for $name {
            fn schema() -> $crate::db::__text_enum::utoipa::openapi::RefOr<
                $crate::db::__text_enum::utoipa::openapi::schema::Schema,
            > {
                $crate::db::__text_enum::schema(<Self as $crate::db::TextEnum>::TEXTS)
            }
        }

        impl $crate::db::__text_enum::utoipa::ToSchema for $name {
            fn name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(::core::stringify!($name))
            }
        }

        $crate::__text_enum_diesel!($name);
    };
}

/// The diesel half of [`text_enum!`](crate::text_enum), split out to keep that one readable.
#[doc(hidden)]
#[macro_export]
macro_rules! __text_enum_diesel {
    ($name:ident) => {
        const _: () = {
            use diesel::expression::AsExpression;
            use diesel::pg::Pg;
            use diesel::sql_types::{Nullable, Text};
            use $crate::db::__text_enum::diesel;

            // Expressions are the `&'static str` ones: an enum binds exactly as its text.
            impl AsExpression<Text> for $name {
                type Expression = <&'static str as AsExpression<Text>>::Expression;
                fn as_expression(self) -> Self::Expression {
                    AsExpression::<Text>::as_expression(self.as_str())
                }
            }
            impl AsExpression<Text> for &$name {
                type Expression = <&'static str as AsExpression<Text>>::Expression;
                fn as_expression(self) -> Self::Expression {
                    AsExpression::<Text>::as_expression(self.as_str())
                }
            }
            impl AsExpression<Nullable<Text>> for $name {
                type Expression = <&'static str as AsExpression<Nullable<Text>>>::Expression;
                fn as_expression(self) -> Self::Expression {
                    AsExpression::<Nullable<Text>>::as_expression(self.as_str())
                }
            }
            impl AsExpression<Nullable<Text>> for &$name {
                type Expression = <&'static str as AsExpression<Nullable<Text>>>::Expression;
                fn as_expression(self) -> Self::Expression {
                    AsExpression::<Nullable<Text>>::as_expression(self.as_str())
                }
            }

            // `Option<Enum>` binds through diesel's own impls, which need this one.
            impl diesel::serialize::ToSql<Text, Pg> for $name {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, Pg>,
                ) -> diesel::serialize::Result {
                    <str as diesel::serialize::ToSql<Text, Pg>>::to_sql(self.as_str(), out)
                }
            }

            impl diesel::deserialize::FromSql<Text, Pg> for $name {
                fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                    let text = ::core::str::from_utf8(value.as_bytes())?;
                    Ok(text.parse::<$name>()?)
                }
            }

            // What `#[derive(FromSqlRow)]` would write: a single value read by `FromSql`
            // (`Option<Enum>` for `Nullable<Text>` follows from diesel's impls).
            impl diesel::deserialize::Queryable<Text, Pg> for $name {
                type Row = Self;
                fn build(row: Self) -> diesel::deserialize::Result<Self> {
                    Ok(row)
                }
            }
        };
    };
}

/// What the macro's expansion refers to; not part of the kit's API.
#[doc(hidden)]
pub mod __private {
    pub use diesel;
    pub use serde;
    pub use utoipa;

    use super::TextEnum;
    use std::marker::PhantomData;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    /// A string schema listing the values, as utoipa's derive writes one for a unit enum.
    pub fn schema(texts: &'static [&'static str]) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(texts.iter().copied()))
            .into()
    }

    /// Reads the text and names the accepted values when it is none of them (the message
    /// serde's own enum derive gives).
    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: TextEnum + std::str::FromStr,
    {
        struct Visit<T>(PhantomData<T>);
        impl<T: TextEnum + std::str::FromStr> serde::de::Visitor<'_> for Visit<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "one of {}", T::TEXTS.join(", "))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
                v.parse().map_err(|_| E::unknown_variant(v, T::TEXTS))
            }
        }
        deserializer.deserialize_str(Visit(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::{TextEnum, UnknownVariant};

    crate::text_enum! {
        /// A test enum.
        pub enum Light {
            /// Stop.
            Red = "red",
            Amber = "amber",
            GreenArrow = "green_arrow",
        }
    }

    #[test]
    fn texts_round_trip() {
        for l in Light::ALL {
            assert_eq!(l.as_str().parse::<Light>(), Ok(*l));
            assert_eq!(l.to_string(), l.as_str());
        }
        assert_eq!(<Light as TextEnum>::TEXTS, &["red", "amber", "green_arrow"]);
        assert_eq!(
            "blue".parse::<Light>(),
            Err(UnknownVariant {
                type_name: "Light",
                value: "blue".into()
            })
        );
    }

    #[test]
    fn json_is_the_text() {
        assert_eq!(
            serde_json::to_string(&Light::GreenArrow).ok().as_deref(),
            Some("\"green_arrow\"")
        );
        let back: Result<Light, _> = serde_json::from_str("\"amber\"");
        assert_eq!(back.ok(), Some(Light::Amber));
        let bad = serde_json::from_str::<Light>("\"blue\"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.contains("unknown variant `blue`"), "{bad}");
        assert!(serde_json::from_str::<Light>("3").is_err());
    }

    #[test]
    fn schema_lists_the_values() {
        use utoipa::{PartialSchema, ToSchema};
        let schema = serde_json::to_value(Light::schema()).unwrap_or_default();
        assert_eq!(
            schema,
            serde_json::json!({"type": "string", "enum": ["red", "amber", "green_arrow"]})
        );
        assert_eq!(Light::name(), "Light");
    }
}
