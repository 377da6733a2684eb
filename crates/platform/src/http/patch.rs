//! Partial updates (PATCH bodies) must tell a field left out ("keep it") from a field
//! sent as `null` ("clear it"); serde alone folds both into `None`.
//!
//! ```ignore
//! #[derive(Deserialize)]
//! struct ProfilePatch {
//!     #[serde(default, deserialize_with = "platform::http::patch::double")]
//!     bio: Patch<String>,
//! }
//! ```

/// `None`: absent (keep); `Some(None)`: null (clear); `Some(Some(v))`: set to `v`.
pub type Patch<T> = Option<Option<T>>;

/// Deserialises a present field (null or a value) as `Some(..)`; with `#[serde(default)]`
/// an absent one stays `None`.
pub fn double<'de, D, T>(d: D) -> Result<Patch<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::Patch;

    #[derive(serde::Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "super::double")]
        bio: Patch<String>,
    }

    #[test]
    fn absent_null_and_value_are_three_things() {
        let parse = |s: &str| serde_json::from_str::<P>(s).map(|p| p.bio).ok();
        assert_eq!(parse("{}"), Some(None));
        assert_eq!(parse(r#"{"bio":null}"#), Some(Some(None)));
        assert_eq!(parse(r#"{"bio":"hi"}"#), Some(Some(Some("hi".into()))));
    }
}
