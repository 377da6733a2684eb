-- Profiles are created from auth.user.registered, never by a client call.
CREATE TABLE profiles (
    user_id         uuid PRIMARY KEY,
    email           text,
    phone           text,
    username        text NOT NULL,
    first_name      text,
    last_name       text,
    avatar_url      text,
    bio             text,
    gender          text CHECK (gender IN ('male', 'female', 'other', 'prefer_not_to_say')),
    age_bracket     text CHECK (age_bracket IN ('18-24', '25-34', '35-44', '45-54', '55+')),
    birth_date      date,
    location        text,
    interests       text[] NOT NULL DEFAULT '{}',
    referral_code   text NOT NULL UNIQUE,
    referred_by     uuid REFERENCES profiles (user_id) ON DELETE SET NULL,
    roles           text[] NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'active', 'suspended', 'banned', 'deleted')),
    status_reason   text,
    suspended_until timestamptz,
    last_active_at  timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
-- Usernames are unique case-insensitively.
CREATE UNIQUE INDEX profiles_username_key ON profiles (lower(username));
CREATE INDEX profiles_referred_by ON profiles (referred_by) WHERE referred_by IS NOT NULL;
CREATE INDEX profiles_suspension_end ON profiles (suspended_until) WHERE status = 'suspended';

CREATE TABLE addresses (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES profiles (user_id) ON DELETE CASCADE,
    name       text NOT NULL,
    city       text NOT NULL,
    street     text NOT NULL,
    building   text NOT NULL,
    apartment  text,
    entrance   text,
    floor      text,
    intercom   text,
    latitude   double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude  double precision CHECK (longitude BETWEEN -180 AND 180),
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user ON addresses (user_id);
-- At most one default address per user, whatever the concurrency.
CREATE UNIQUE INDEX addresses_one_default ON addresses (user_id) WHERE is_default;

CREATE TABLE notification_preferences (
    user_id    uuid PRIMARY KEY REFERENCES profiles (user_id) ON DELETE CASCADE,
    push       boolean NOT NULL DEFAULT true,
    sms        boolean NOT NULL DEFAULT true,
    email      boolean NOT NULL DEFAULT true,
    promotions boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);
