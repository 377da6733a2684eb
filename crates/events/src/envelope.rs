//! The CloudEvents Kafka protocol binding in binary mode: the event's attributes travel as
//! `ce_*` headers and the record value is the bare protobuf payload.
//!
//! Kept free of any Kafka client type so that the producer, the consumer, the DLQ tooling
//! and tests all share one definition of the header names and their parsing.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

/// The CloudEvents spec version this platform emits and accepts.
pub const SPEC_VERSION: &str = "1.0";
/// Content type of every payload: a protobuf message from `proto-events/`.
pub const CONTENT_TYPE_PROTOBUF: &str = "application/protobuf";

/// Header names of the binding, plus W3C trace context and the request id extension.
pub mod headers {
    pub const SPEC_VERSION: &str = "ce_specversion";
    pub const ID: &str = "ce_id";
    pub const SOURCE: &str = "ce_source";
    pub const TYPE: &str = "ce_type";
    pub const TIME: &str = "ce_time";
    pub const SUBJECT: &str = "ce_subject";
    /// CloudEvents extension carrying the `x-request-id` of the HTTP request that caused it.
    pub const REQUEST_ID: &str = "ce_requestid";
    pub const CONTENT_TYPE: &str = "content-type";
    pub const TRACEPARENT: &str = "traceparent";
    pub const TRACESTATE: &str = "tracestate";
}

/// Errors that make a record unusable as an event; such a record goes to the DLQ.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("missing header {0}")]
    Missing(&'static str),
    #[error("header {header} is not valid: {reason}")]
    Invalid {
        header: &'static str,
        reason: String,
    },
}

/// The attributes of one event. The payload and the partition key travel beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// UUIDv7 on creation; consumers use it as the idempotency key.
    pub id: Uuid,
    /// The producing service, as a URI reference (`/services/<name>`).
    pub source: String,
    /// CloudEvents `type`, one of the constants in [`crate::types`].
    pub event_type: String,
    pub time: DateTime<Utc>,
    /// The aggregate the event is about, as `<aggregate>/<id>`.
    pub subject: Option<String>,
    pub content_type: String,
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    pub request_id: Option<String>,
}

impl Envelope {
    /// A new envelope with a fresh UUIDv7 id and the current time.
    pub fn new(service: &str, event_type: &str) -> Self {
        Self {
            id: Uuid::now_v7(),
            source: source_of(service),
            event_type: event_type.to_owned(),
            time: Utc::now(),
            subject: None,
            content_type: CONTENT_TYPE_PROTOBUF.to_owned(),
            traceparent: None,
            tracestate: None,
            request_id: None,
        }
    }

    /// The headers of the binary-mode binding, in a stable order.
    pub fn to_headers(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            (headers::SPEC_VERSION, SPEC_VERSION.to_owned()),
            (headers::ID, self.id.to_string()),
            (headers::SOURCE, self.source.clone()),
            (headers::TYPE, self.event_type.clone()),
            (
                headers::TIME,
                self.time.to_rfc3339_opts(SecondsFormat::Micros, true),
            ),
            (headers::CONTENT_TYPE, self.content_type.clone()),
        ];
        let optional = [
            (headers::SUBJECT, &self.subject),
            (headers::TRACEPARENT, &self.traceparent),
            (headers::TRACESTATE, &self.tracestate),
            (headers::REQUEST_ID, &self.request_id),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                out.push((name, v.clone()));
            }
        }
        out
    }

    /// Parses the binding's headers. Unknown headers are ignored so that producers may add
    /// extensions without breaking older consumers.
    pub fn from_headers<'a, I>(headers: I) -> Result<Self, EnvelopeError>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let mut spec = None;
        let mut id = None;
        let mut source = None;
        let mut event_type = None;
        let mut time = None;
        let mut subject = None;
        let mut content_type = None;
        let mut traceparent = None;
        let mut tracestate = None;
        let mut request_id = None;
        for (name, raw) in headers {
            let slot = match name {
                headers::SPEC_VERSION => &mut spec,
                headers::ID => &mut id,
                headers::SOURCE => &mut source,
                headers::TYPE => &mut event_type,
                headers::TIME => &mut time,
                headers::SUBJECT => &mut subject,
                headers::CONTENT_TYPE => &mut content_type,
                headers::TRACEPARENT => &mut traceparent,
                headers::TRACESTATE => &mut tracestate,
                headers::REQUEST_ID => &mut request_id,
                _ => continue,
            };
            let value = std::str::from_utf8(raw).map_err(|_| EnvelopeError::Invalid {
                header: static_name(name),
                reason: "not UTF-8".into(),
            })?;
            *slot = Some(value.to_owned());
        }

        let spec = spec.ok_or(EnvelopeError::Missing(headers::SPEC_VERSION))?;
        if spec != SPEC_VERSION {
            return Err(EnvelopeError::Invalid {
                header: headers::SPEC_VERSION,
                reason: format!("unsupported version {spec:?}"),
            });
        }
        let id = id.ok_or(EnvelopeError::Missing(headers::ID))?;
        let id = Uuid::parse_str(&id).map_err(|e| EnvelopeError::Invalid {
            header: headers::ID,
            reason: e.to_string(),
        })?;
        let time = time.ok_or(EnvelopeError::Missing(headers::TIME))?;
        let time = DateTime::parse_from_rfc3339(&time)
            .map_err(|e| EnvelopeError::Invalid {
                header: headers::TIME,
                reason: e.to_string(),
            })?
            .with_timezone(&Utc);
        let non_empty = |v: Option<String>, h: &'static str| match v {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(EnvelopeError::Missing(h)),
        };
        Ok(Self {
            id,
            source: non_empty(source, headers::SOURCE)?,
            event_type: non_empty(event_type, headers::TYPE)?,
            time,
            subject,
            content_type: content_type.unwrap_or_else(|| CONTENT_TYPE_PROTOBUF.to_owned()),
            traceparent,
            tracestate,
            request_id,
        })
    }
}

/// The `ce_source` of a service.
pub fn source_of(service: &str) -> String {
    format!("/services/{service}")
}

fn static_name(name: &str) -> &'static str {
    match name {
        headers::SPEC_VERSION => headers::SPEC_VERSION,
        headers::ID => headers::ID,
        headers::SOURCE => headers::SOURCE,
        headers::TYPE => headers::TYPE,
        headers::TIME => headers::TIME,
        headers::SUBJECT => headers::SUBJECT,
        headers::CONTENT_TYPE => headers::CONTENT_TYPE,
        headers::TRACEPARENT => headers::TRACEPARENT,
        headers::TRACESTATE => headers::TRACESTATE,
        _ => headers::REQUEST_ID,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(env: &Envelope) -> Vec<(&'static str, Vec<u8>)> {
        env.to_headers()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect()
    }

    #[test]
    fn round_trips_through_headers() {
        let mut env = Envelope::new("order", "order.order.placed");
        env.subject = Some("order/42".into());
        env.traceparent = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into());
        env.request_id = Some("req-1".into());
        let hs = owned(&env);
        let parsed = Envelope::from_headers(hs.iter().map(|(k, v)| (*k, v.as_slice()))).unwrap();
        assert_eq!(parsed.id, env.id);
        assert_eq!(parsed.source, "/services/order");
        assert_eq!(parsed.subject.as_deref(), Some("order/42"));
        assert_eq!(parsed.request_id.as_deref(), Some("req-1"));
        // Microsecond precision survives the RFC 3339 round trip.
        assert_eq!(parsed.time.timestamp_micros(), env.time.timestamp_micros());
    }

    #[test]
    fn new_ids_are_uuid_v7() {
        assert_eq!(Envelope::new("x", "x.y.z").id.get_version_num(), 7);
    }

    #[test]
    fn rejects_missing_id_and_bad_spec_version() {
        let env = Envelope::new("a", "a.b.c");
        let hs = owned(&env);
        let without_id = hs
            .iter()
            .filter(|(k, _)| *k != headers::ID)
            .map(|(k, v)| (*k, v.as_slice()));
        assert_eq!(
            Envelope::from_headers(without_id),
            Err(EnvelopeError::Missing(headers::ID))
        );

        let bad_spec = hs.iter().map(|(k, v)| {
            if *k == headers::SPEC_VERSION {
                (*k, b"0.3".as_slice())
            } else {
                (*k, v.as_slice())
            }
        });
        assert!(matches!(
            Envelope::from_headers(bad_spec),
            Err(EnvelopeError::Invalid {
                header: headers::SPEC_VERSION,
                ..
            })
        ));
    }

    #[test]
    fn rejects_garbage_id_and_time() {
        let hs: Vec<(&str, &[u8])> = vec![
            (headers::SPEC_VERSION, b"1.0"),
            (headers::ID, b"not-a-uuid"),
            (headers::SOURCE, b"/services/x"),
            (headers::TYPE, b"x.y.z"),
            (headers::TIME, b"2026-01-01T00:00:00Z"),
        ];
        assert!(matches!(
            Envelope::from_headers(hs),
            Err(EnvelopeError::Invalid {
                header: headers::ID,
                ..
            })
        ));
    }
}
