// The kit's tables (see migrations/00000000000001_outbox_inbox).

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
