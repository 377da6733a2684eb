// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

diesel::table! {
    addresses (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        city -> Text,
        street -> Text,
        building -> Text,
        apartment -> Nullable<Text>,
        entrance -> Nullable<Text>,
        floor -> Nullable<Text>,
        intercom -> Nullable<Text>,
        latitude -> Nullable<Float8>,
        longitude -> Nullable<Float8>,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notification_preferences (user_id) {
        user_id -> Uuid,
        push -> Bool,
        sms -> Bool,
        email -> Bool,
        promotions -> Bool,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    profiles (user_id) {
        user_id -> Uuid,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        username -> Text,
        first_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        bio -> Nullable<Text>,
        gender -> Nullable<Text>,
        age_bracket -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        location -> Nullable<Text>,
        interests -> Array<Nullable<Text>>,
        referral_code -> Text,
        referred_by -> Nullable<Uuid>,
        roles -> Array<Nullable<Text>>,
        status -> Text,
        status_reason -> Nullable<Text>,
        suspended_until -> Nullable<Timestamptz>,
        last_active_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        status_before -> Nullable<Text>,
    }
}

diesel::joinable!(addresses -> profiles (user_id));
diesel::joinable!(notification_preferences -> profiles (user_id));

diesel::allow_tables_to_appear_in_same_query!(addresses, notification_preferences, profiles,);
