// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

diesel::table! {
    announcements (id) {
        id -> Uuid,
        community_id -> Uuid,
        author_id -> Uuid,
        title -> Text,
        body -> Text,
        pinned -> Bool,
        expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    communities (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        line1 -> Text,
        line2 -> Nullable<Text>,
        city -> Text,
        region -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        country -> Text,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        manager_id -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        deleted_by -> Nullable<Uuid>,
        catalog_visibility -> Text,
        currency -> Text,
    }
}

diesel::table! {
    invites (id) {
        id -> Uuid,
        community_id -> Uuid,
        email -> Text,
        token_hash -> Bytea,
        status -> Text,
        invited_by -> Uuid,
        sent_count -> Int4,
        last_sent_at -> Timestamptz,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        closed_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    members (community_id, user_id) {
        community_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
        invite_id -> Nullable<Uuid>,
        joined_at -> Timestamptz,
    }
}

diesel::table! {
    people (user_id) {
        user_id -> Uuid,
        verified_email -> Nullable<Text>,
        username -> Nullable<Text>,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        deleted_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(announcements -> communities (community_id));
diesel::joinable!(invites -> communities (community_id));
diesel::joinable!(members -> communities (community_id));

diesel::allow_tables_to_appear_in_same_query!(announcements, communities, invites, members, people,);
