// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

diesel::table! {
    broadcasts (id) {
        id -> Uuid,
        created_by -> Uuid,
        audience -> Text,
        target -> Nullable<Text>,
        title -> Text,
        body -> Text,
        channels -> Array<Nullable<Text>>,
        promotional -> Bool,
        status -> Text,
        cursor -> Nullable<Uuid>,
        recipients -> Int4,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    communities (id) {
        id -> Uuid,
        name -> Text,
        manager_id -> Nullable<Uuid>,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    community_members (community_id, user_id) {
        community_id -> Uuid,
        user_id -> Uuid,
    }
}

diesel::table! {
    deliveries (id) {
        id -> Uuid,
        source_id -> Uuid,
        kind -> Text,
        channel -> Text,
        user_id -> Nullable<Uuid>,
        destination -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        content -> Nullable<Jsonb>,
        last_error -> Nullable<Text>,
        provider_response -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        user_id -> Uuid,
        source_id -> Uuid,
        kind -> Text,
        title -> Text,
        body -> Text,
        data -> Jsonb,
        read_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    push_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        platform -> Text,
        token -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    recipients (user_id) {
        user_id -> Uuid,
        email -> Nullable<Text>,
        email_verified -> Bool,
        phone -> Nullable<Text>,
        locale -> Text,
        display_name -> Nullable<Text>,
        roles -> Array<Nullable<Text>>,
        pref_email -> Bool,
        pref_sms -> Bool,
        pref_push -> Bool,
        pref_promotions -> Bool,
        deleted_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    broadcasts,
    communities,
    community_members,
    deliveries,
    notifications,
    push_tokens,
    recipients,
);
