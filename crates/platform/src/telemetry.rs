//! Logs and traces: `tracing` with pretty or JSON output, W3C trace context propagation,
//! and OTLP/HTTP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
//!
//! A tracer provider is installed even without an exporter so that every span has a
//! trace id: the id is what carries one trace from an HTTP request into the events it
//! causes and into the consumers of those events.

use crate::config::{LogFormat, VarDoc, Vars};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "LOG_FORMAT",
        default: Some("pretty"),
        doc: "`pretty` for people, `json` for log collectors.",
    },
    VarDoc {
        name: "RUST_LOG",
        default: Some("info"),
        doc: "Log filter in `tracing` EnvFilter syntax, e.g. `info,platform=debug`.",
    },
    VarDoc {
        name: "OTEL_EXPORTER_OTLP_ENDPOINT",
        default: None,
        doc: "OTLP/HTTP collector base URL (e.g. `http://127.0.0.1:4318`); traces are exported only when set.",
    },
];

#[derive(Debug, Clone, Default)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    pub otlp_endpoint: Option<String>,
}

impl TelemetryConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        Self {
            log_format: v.or("LOG_FORMAT", LogFormat::Pretty),
            otlp_endpoint: v.optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
        }
    }
}

/// Flushes pending spans when dropped; keep it alive for the life of `main`.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        // Nothing useful can be done with a flush error while the process is exiting.
        let _ = self.provider.shutdown();
    }
}

/// Installs the global subscriber and propagator. Call once, at start-up.
pub fn init(service: &str, config: &TelemetryConfig) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let resource = Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if config.otlp_endpoint.is_some() {
        // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself and appends /v1/traces.
        use opentelemetry_otlp::WithExportConfig as _;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(service.to_owned());
    opentelemetry::global::set_tracer_provider(provider.clone());

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let otel = tracing_opentelemetry::layer().with_tracer(tracer);
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    match config.log_format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init()?,
        LogFormat::Pretty => registry
            .with(tracing_subscriber::fmt::layer().compact())
            .try_init()?,
    }
    Ok(TelemetryGuard { provider })
}

/// Carrier over a list of header pairs, used for Kafka headers and outbox rows.
#[derive(Debug, Default, Clone)]
pub struct HeaderPairs(pub Vec<(String, String)>);

impl Injector for HeaderPairs {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

impl Extractor for HeaderPairs {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// W3C trace context of the current span: (`traceparent`, `tracestate`).
pub fn current_trace_context() -> (Option<String>, Option<String>) {
    let cx = tracing::Span::current().context();
    let mut carrier = HeaderPairs::default();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    let get = |k: &str| Extractor::get(&carrier, k).map(str::to_owned);
    (
        get("traceparent"),
        get("tracestate").filter(|s| !s.is_empty()),
    )
}

/// Makes `span` a child of the remote context carried by `carrier` (if any).
pub fn set_remote_parent(span: &tracing::Span, carrier: &dyn Extractor) {
    let cx = TraceContextPropagator::new().extract(carrier);
    span.set_parent(cx);
}

/// The trace id of the current span, for correlating logs with traces.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt as _;
    let cx = tracing::Span::current().context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn trace_context_goes_out_and_comes_back() {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let producer_span = tracing::info_span!("produce");
            let _entered = producer_span.enter();
            let (traceparent, _) = current_trace_context();
            let traceparent = traceparent.expect("a traceparent inside a span");
            assert!(
                traceparent.starts_with("00-") && traceparent.len() == 55,
                "{traceparent}"
            );
            let trace_id = current_trace_id().unwrap();
            assert!(traceparent.contains(&trace_id));

            // A consumer's span adopts the remote parent: same trace id.
            let carrier = HeaderPairs(vec![("traceparent".into(), traceparent)]);
            let consumer_span = tracing::info_span!(parent: None, "consume");
            set_remote_parent(&consumer_span, &carrier);
            let _c = consumer_span.enter();
            assert_eq!(current_trace_id().as_deref(), Some(trace_id.as_str()));
        });
    }
}
