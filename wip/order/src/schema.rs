// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

diesel::table! {
    cart_items (id) {
        id -> Uuid,
        cart_id -> Uuid,
        tool_id -> Uuid,
        quantity -> Int4,
        start_date -> Date,
        end_date -> Date,
        currency -> Text,
        unit_rent -> Int8,
        unit_deposit -> Int8,
        price_changed -> Bool,
        availability -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    carts (id) {
        id -> Uuid,
        user_id -> Uuid,
        community_id -> Uuid,
        promo_code_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    order_items (id) {
        id -> Uuid,
        order_id -> Uuid,
        tool_id -> Uuid,
        tool_name -> Text,
        quantity -> Int4,
        start_date -> Date,
        end_date -> Date,
        unit_rent -> Int8,
        rent -> Int8,
        deposit -> Int8,
        item_ids -> Nullable<Array<Nullable<Uuid>>>,
    }
}

diesel::table! {
    order_status_history (id) {
        id -> Int8,
        order_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        comment -> Text,
        changed_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Uuid,
        number -> Text,
        user_id -> Uuid,
        community_id -> Uuid,
        status -> Text,
        delivery_method -> Text,
        address_id -> Nullable<Uuid>,
        slot_id -> Nullable<Uuid>,
        currency -> Text,
        rent -> Int8,
        discount -> Int8,
        deposit -> Int8,
        delivery_fee -> Nullable<Int8>,
        promo_code_id -> Nullable<Uuid>,
        promo_code -> Nullable<Text>,
        notes -> Text,
        payment_id -> Nullable<Text>,
        pay_by -> Nullable<Timestamptz>,
        cancel_reason -> Nullable<Text>,
        placed_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    promo_codes (id) {
        id -> Uuid,
        code -> Text,
        kind -> Text,
        percent_bps -> Nullable<Int4>,
        amount -> Nullable<Int8>,
        currency -> Nullable<Text>,
        min_order_amount -> Nullable<Int8>,
        valid_from -> Nullable<Timestamptz>,
        valid_until -> Nullable<Timestamptz>,
        max_uses -> Nullable<Int4>,
        max_uses_per_user -> Nullable<Int4>,
        uses -> Int4,
        community_id -> Nullable<Uuid>,
        active -> Bool,
        created_by -> Uuid,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    promo_redemptions (order_id) {
        order_id -> Uuid,
        promo_code_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    saga_log (id) {
        id -> Int8,
        order_id -> Uuid,
        step -> Text,
        direction -> Text,
        attempt -> Int4,
        command_id -> Nullable<Uuid>,
        outcome -> Text,
        detail -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sagas (order_id) {
        order_id -> Uuid,
        step -> Text,
        direction -> Text,
        status -> Text,
        deadline -> Nullable<Timestamptz>,
        attempt -> Int4,
        last_error -> Nullable<Text>,
        reason -> Nullable<Text>,
        done -> Array<Nullable<Text>>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tools (id) {
        id -> Uuid,
        community_id -> Uuid,
        name -> Text,
        currency -> Text,
        daily_price -> Int8,
        weekly_price -> Nullable<Int8>,
        monthly_price -> Nullable<Int8>,
        deposit -> Int8,
        min_rental_days -> Int4,
        max_rental_days -> Int4,
        active -> Bool,
        image_url -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(cart_items -> carts (cart_id));
diesel::joinable!(carts -> promo_codes (promo_code_id));
diesel::joinable!(order_items -> orders (order_id));
diesel::joinable!(order_status_history -> orders (order_id));
diesel::joinable!(orders -> promo_codes (promo_code_id));
diesel::joinable!(promo_redemptions -> orders (order_id));
diesel::joinable!(promo_redemptions -> promo_codes (promo_code_id));
diesel::joinable!(saga_log -> orders (order_id));
diesel::joinable!(sagas -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    cart_items,
    carts,
    order_items,
    order_status_history,
    orders,
    promo_codes,
    promo_redemptions,
    saga_log,
    sagas,
    tools,
);
