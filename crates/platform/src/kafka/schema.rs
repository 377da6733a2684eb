// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

diesel::table! {
    outbox (id) {
        id -> Int8,
        event_id -> Uuid,
        topic -> Text,
        partition_key -> Text,
        event_type -> Text,
        source -> Text,
        subject -> Nullable<Text>,
        occurred_at -> Timestamptz,
        traceparent -> Nullable<Text>,
        tracestate -> Nullable<Text>,
        request_id -> Nullable<Text>,
        payload -> Bytea,
        created_at -> Timestamptz,
        published_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    processed_events (consumer_group, event_id) {
        consumer_group -> Text,
        event_id -> Uuid,
        topic -> Text,
        event_type -> Text,
        processed_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(outbox, processed_events,);
