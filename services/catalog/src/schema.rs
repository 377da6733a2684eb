// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

pub mod sql_types {
    #[derive(diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    categories (id) {
        id -> Uuid,
        parent_id -> Nullable<Uuid>,
        name -> Text,
        slug -> Text,
        icon -> Nullable<Text>,
        colour -> Nullable<Text>,
        sort_order -> Int4,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    communities (id) {
        id -> Uuid,
        name -> Text,
        currency -> Text,
        catalog_visibility -> Text,
        manager_id -> Uuid,
        deleted -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    extensions (id) {
        id -> Uuid,
        order_id -> Uuid,
        new_end -> Date,
        accepted -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    favourites (user_id, tool_id) {
        user_id -> Uuid,
        tool_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    items (id) {
        id -> Uuid,
        tool_id -> Uuid,
        serial_number -> Nullable<Text>,
        status -> Text,
        condition -> Text,
        last_maintenance -> Nullable<Date>,
        notes -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    memberships (community_id, user_id) {
        community_id -> Uuid,
        user_id -> Uuid,
        role -> Text,
    }
}

diesel::table! {
    rentals (order_item_id) {
        order_item_id -> Uuid,
        order_id -> Uuid,
        user_id -> Uuid,
        tool_id -> Uuid,
        completed_at -> Timestamptz,
    }
}

diesel::table! {
    reservations (id) {
        id -> Uuid,
        item_id -> Uuid,
        tool_id -> Uuid,
        order_id -> Uuid,
        order_item_id -> Uuid,
        period -> Daterange,
        blocked -> Daterange,
        status -> Text,
        expires_at -> Nullable<Timestamptz>,
        release_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    review_reports (review_id, user_id) {
        review_id -> Uuid,
        user_id -> Uuid,
        reason -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    reviews (id) {
        id -> Uuid,
        tool_id -> Uuid,
        user_id -> Uuid,
        order_item_id -> Uuid,
        rating -> Int2,
        comment -> Text,
        status -> Text,
        moderation_reason -> Nullable<Text>,
        reports -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    search_words (word) {
        word -> Text,
    }
}

diesel::table! {
    tool_images (id) {
        id -> Uuid,
        tool_id -> Uuid,
        position -> Int4,
        width -> Int4,
        height -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    tools (id) {
        id -> Uuid,
        community_id -> Uuid,
        category_id -> Uuid,
        name -> Text,
        description -> Text,
        brand -> Nullable<Text>,
        model -> Nullable<Text>,
        specifications -> Jsonb,
        currency -> Text,
        daily_price -> Int8,
        deposit -> Int8,
        weekly_price -> Nullable<Int8>,
        monthly_price -> Nullable<Int8>,
        min_rental_days -> Int4,
        max_rental_days -> Int4,
        buffer_days -> Int4,
        active -> Bool,
        in_stock -> Bool,
        rating_sum -> Int8,
        rating_count -> Int8,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        search -> Nullable<Tsvector>,
        main_image_id -> Nullable<Uuid>,
    }
}

diesel::joinable!(favourites -> tools (tool_id));
diesel::joinable!(items -> tools (tool_id));
diesel::joinable!(rentals -> tools (tool_id));
diesel::joinable!(reservations -> items (item_id));
diesel::joinable!(reservations -> tools (tool_id));
diesel::joinable!(review_reports -> reviews (review_id));
diesel::joinable!(reviews -> rentals (order_item_id));
diesel::joinable!(reviews -> tools (tool_id));
diesel::joinable!(tools -> categories (category_id));
diesel::joinable!(tools -> communities (community_id));

diesel::allow_tables_to_appear_in_same_query!(
    categories,
    communities,
    extensions,
    favourites,
    items,
    memberships,
    rentals,
    reservations,
    review_reports,
    reviews,
    search_words,
    tool_images,
    tools,
);
