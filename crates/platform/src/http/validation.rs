//! Validation at the edge: a request body becomes a typed, checked value before any
//! handler logic runs, and every failing field is reported at once.

use super::envelope::FieldError;
use super::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

/// JSON body that has passed `validator` checks; use it instead of `web::Json`.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate> ValidJson<T> {
    /// Parses and checks a body the handler took as `web::Bytes` (because it also needs the
    /// raw bytes, as [`super::idempotency`] does), with the same answers as the extractor.
    pub fn from_bytes(body: &[u8]) -> Result<Self, ApiError> {
        let value: T = serde_json::from_slice(body).map_err(|e| {
            if e.is_data() {
                ApiError::bad_request(format!("request body does not match the schema: {e}"))
            } else {
                ApiError::bad_request(format!("malformed JSON: {e}"))
            }
        })?;
        value.validate()?;
        Ok(ValidJson(value))
    }
}

impl<T> FromRequest for ValidJson<T>
where
    T: DeserializeOwned + Validate + 'static,
{
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = web::Json::<T>::from_request(req, payload);
        Box::pin(async move {
            let value = fut.await?.into_inner();
            value.validate().map_err(ApiError::from)?;
            Ok(ValidJson(value))
        })
    }
}

/// Flattens validator's nested errors into `field` (camelCase, dotted for nesting) and
/// `message` pairs, sorted so responses are stable.
/// A text that is not only whitespace: `#[validate(custom(function =
/// "platform::http::validation::not_blank"))]` on fields stored trimmed, so "   " is a 400
/// here rather than a database CHECK failing (a 500) after the trim.
pub fn not_blank(text: &str) -> Result<(), validator::ValidationError> {
    if text.trim().is_empty() {
        Err(validator::ValidationError::new("blank").with_message("must not be blank".into()))
    } else {
        Ok(())
    }
}

pub fn field_errors(errors: &ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field).then(a.message.cmp(&b.message)));
    out
}

fn collect(prefix: &str, errors: &ValidationErrors, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            camel(field)
        } else {
            format!("{prefix}.{}", camel(field))
        };
        match kind {
            ValidationErrorsKind::Field(list) => out.extend(list.iter().map(|e| {
                FieldError {
                    field: name.clone(),
                    message: e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| default_message(&e.code)),
                }
            })),
            ValidationErrorsKind::Struct(inner) => collect(&name, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect(&format!("{name}[{i}]"), inner, out);
                }
            }
        }
    }
}

fn default_message(code: &str) -> String {
    match code {
        "email" => "must be a valid e-mail address".into(),
        "url" => "must be a valid URL".into(),
        "length" => "has an invalid length".into(),
        "range" => "is out of range".into(),
        "required" => "is required".into(),
        other => format!("is invalid ({other})"),
    }
}

/// `snake_case` to `camelCase`, the wire naming of every JSON key.
pub fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Validate)]
    struct Signup {
        #[validate(email)]
        email_address: String,
        #[validate(length(min = 12, message = "must be at least 12 characters"))]
        password: String,
    }

    #[test]
    fn reports_every_field_in_camel_case() {
        let s = Signup {
            email_address: "nope".into(),
            password: "short".into(),
        };
        let errs = field_errors(&s.validate().unwrap_err());
        assert_eq!(
            errs,
            vec![
                FieldError {
                    field: "emailAddress".into(),
                    message: "must be a valid e-mail address".into()
                },
                FieldError {
                    field: "password".into(),
                    message: "must be at least 12 characters".into()
                },
            ]
        );
    }
}
