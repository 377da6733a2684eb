// @generated automatically by Diesel CLI.
//! Diesel's view of this crate's tables, generated from its migrations (after the kit's)
//! by `scripts/check-schema --write`, which `scripts/test` runs to catch drift. Do not
//! edit by hand: change the migrations and regenerate.

diesel::table! {
    devices (id) {
        id -> Uuid,
        user_id -> Uuid,
        device_key -> Text,
        name -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        last_ip -> Nullable<Text>,
        trusted_at -> Nullable<Timestamptz>,
        blocked_at -> Nullable<Timestamptz>,
        blocked_reason -> Nullable<Text>,
        first_seen_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    one_time_tokens (token_hash) {
        token_hash -> Bytea,
        kind -> Text,
        user_id -> Uuid,
        payload -> Jsonb,
        attempts -> Int4,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    otp_codes (id) {
        id -> Uuid,
        identifier -> Text,
        purpose -> Text,
        user_id -> Nullable<Uuid>,
        code_hash -> Bytea,
        attempts -> Int4,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        consumed_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    permissions (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        created_at -> Timestamptz,
        is_system -> Bool,
    }
}

diesel::table! {
    recovery_codes (user_id, code_hash) {
        user_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Uuid,
        created_at -> Timestamptz,
        spent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    role_permissions (role_id, permission_id) {
        role_id -> Uuid,
        permission_id -> Uuid,
    }
}

diesel::table! {
    roles (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        is_system -> Bool,
        self_service -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        device_id -> Uuid,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expires_at -> Timestamptz,
        absolute_expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        public_key -> Bytea,
        private_key_enc -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
        publish_until -> Nullable<Timestamptz>,
        activates_at -> Timestamptz,
    }
}

diesel::table! {
    user_roles (user_id, role_id) {
        user_id -> Uuid,
        role_id -> Uuid,
        granted_at -> Timestamptz,
        granted_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        password_hash -> Text,
        email_verified_at -> Nullable<Timestamptz>,
        phone_verified_at -> Nullable<Timestamptz>,
        status -> Text,
        status_reason -> Nullable<Text>,
        suspended_until -> Nullable<Timestamptz>,
        totp_secret_enc -> Nullable<Bytea>,
        mfa_enabled_at -> Nullable<Timestamptz>,
        totp_last_step -> Nullable<Int8>,
        password_changed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::joinable!(devices -> users (user_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(otp_codes -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(role_permissions -> permissions (permission_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::joinable!(sessions -> devices (device_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(user_roles -> roles (role_id));
diesel::joinable!(user_roles -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    devices,
    one_time_tokens,
    otp_codes,
    permissions,
    recovery_codes,
    refresh_tokens,
    role_permissions,
    roles,
    sessions,
    signing_keys,
    user_roles,
    users,
);
