//! Between [`events::Envelope`] and Kafka record headers.

use events::Envelope;
use events::envelope::EnvelopeError;
use rdkafka::message::{Header, Headers, OwnedHeaders};

/// The binding's headers for `envelope`.
pub fn to_kafka(envelope: &Envelope) -> OwnedHeaders {
    envelope
        .to_headers()
        .into_iter()
        .fold(OwnedHeaders::new(), |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value.as_bytes()),
            })
        })
}

/// Every header as owned pairs (a header without a value becomes empty bytes).
pub fn pairs<H: Headers>(headers: Option<&H>) -> Vec<(String, Vec<u8>)> {
    headers
        .map(|h| {
            h.iter()
                .map(|hd| {
                    (
                        hd.key.to_owned(),
                        hd.value.map(<[u8]>::to_vec).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses the envelope out of owned header pairs.
pub fn envelope_of(pairs: &[(String, Vec<u8>)]) -> Result<Envelope, EnvelopeError> {
    Envelope::from_headers(pairs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
}

/// Rebuilds Kafka headers from owned pairs, skipping those `drop` rejects.
pub fn from_pairs(pairs: &[(String, Vec<u8>)], keep: impl Fn(&str) -> bool) -> OwnedHeaders {
    pairs
        .iter()
        .filter(|(k, _)| keep(k))
        .fold(OwnedHeaders::new(), |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value.as_slice()),
            })
        })
}
