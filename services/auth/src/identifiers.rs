//! E-mail addresses and phone numbers as accounts know them: normalised once, here.

use crate::error::{Error, Result};
use validator::ValidateEmail;

/// What a person signs in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Email(String),
    Phone(String),
}

impl Identifier {
    /// A phone number if it starts with `+`, an e-mail address otherwise.
    pub fn parse(raw: &str, field: &'static str) -> Result<Self> {
        let raw = raw.trim();
        if raw.starts_with('+') {
            Ok(Identifier::Phone(normalize_phone(raw, field)?))
        } else {
            Ok(Identifier::Email(normalize_email(raw, field)?))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Identifier::Email(s) | Identifier::Phone(s) => s,
        }
    }
}

/// Lower-cased and trimmed; addresses are compared case-insensitively everywhere.
pub fn normalize_email(raw: &str, field: &'static str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || !email.validate_email() {
        return Err(Error::field(field, "must be a valid e-mail address"));
    }
    Ok(email)
}

/// E.164: `+`, a country code that does not start with 0, 8 to 15 digits in all. Spaces,
/// dashes, dots and parentheses people type are dropped first.
pub fn normalize_phone(raw: &str, field: &'static str) -> Result<String> {
    let digits: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let valid = digits.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
    });
    if !valid {
        return Err(Error::field(
            field,
            "must be a phone number in international format, like +14155550123",
        ));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert_eq!(
            Identifier::parse(" Anna@Example.COM ", "identifier").unwrap(),
            Identifier::Email("anna@example.com".into())
        );
        assert_eq!(
            Identifier::parse("+1 (415) 555-0123", "identifier").unwrap(),
            Identifier::Phone("+14155550123".into())
        );
        assert!(Identifier::parse("+0123456789", "identifier").is_err());
        assert!(Identifier::parse("+12", "identifier").is_err());
        assert!(Identifier::parse("not-an-address", "identifier").is_err());
    }
}
