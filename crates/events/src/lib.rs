//! The platform's event vocabulary, in one place so no service spells a topic or an event
//! type as a string literal.
//!
//! - [`topics`]: every Kafka topic, with its partition count and dead-letter topic.
//! - [`proto`]: the protobuf messages generated from `proto-events/`.
//! - [`DomainEvent`]: ties each message to its topic and CloudEvents `type`.
//! - [`envelope`]: the CloudEvents Kafka binding (binary mode) shared by producer and consumer.

pub mod envelope;
pub mod topics;

pub use envelope::{Envelope, EnvelopeError};
pub use topics::Topic;

/// Generated protobuf messages, one module per `proto-events/<service>/v1` package.
pub mod proto {
    pub mod platform {
        pub mod v1 {
            include!(concat!(env!("OUT_DIR"), "/platform.v1.rs"));
        }
    }
}

/// A protobuf message that is published as a domain event.
///
/// The associated constants make the topic and type part of the message's type, so
/// publishing a message on the wrong topic does not compile.
pub trait DomainEvent: prost::Message + Default {
    /// The CloudEvents `type`, `<service>.<aggregate>.<what happened>`.
    const TYPE: &'static str;
    /// The topic the event's aggregate stream lives on.
    const TOPIC: Topic;
}

/// Every CloudEvents `type` of the platform, as constants.
pub mod types {
    pub const PLATFORM_PROBE_RECORDED: &str = "platform.probe.recorded";
}

impl DomainEvent for proto::platform::v1::ProbeRecorded {
    const TYPE: &'static str = types::PLATFORM_PROBE_RECORDED;
    const TOPIC: Topic = topics::PLATFORM_PROBE;
}
