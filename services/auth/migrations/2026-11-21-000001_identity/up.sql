-- Identity: credentials, roles and permissions, devices, sessions and refresh-token
-- families, one-time tokens and codes, TOTP recovery codes, signing keys.
-- Every secret a client presents (refresh tokens, one-time tokens, OTP and recovery codes)
-- is stored only as a keyed hash; TOTP secrets and private signing keys are stored
-- encrypted, because they must be read back.

CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    email              text,
    phone              text,
    password_hash      text NOT NULL,
    email_verified_at  timestamptz,
    phone_verified_at  timestamptz,
    status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'suspended', 'banned', 'deleted')),
    status_reason      text,
    suspended_until    timestamptz,
    totp_secret_enc    bytea,
    mfa_enabled_at     timestamptz,
    totp_last_step     bigint,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (email IS NOT NULL OR phone IS NOT NULL OR status = 'deleted'),
    CHECK (email IS NULL OR email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL;

CREATE TABLE roles (
    id           uuid PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    -- System roles cannot be deleted or renamed; code refers to them by name.
    is_system    boolean NOT NULL DEFAULT false,
    -- Roles a person may pick when registering.
    self_service boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE permissions (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE role_permissions (
    role_id       uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id uuid NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);

CREATE TABLE user_roles (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id    uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    granted_by uuid,
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE devices (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The client's own device identifier (or a fingerprint when it sends none).
    device_key     text NOT NULL,
    name           text,
    user_agent     text,
    last_ip        text,
    trusted_at     timestamptz,
    blocked_at     timestamptz,
    blocked_reason text,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, device_key)
);

CREATE TABLE sessions (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id           uuid NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    ip                  text,
    user_agent          text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz NOT NULL DEFAULT now(),
    -- Sliding expiry, pushed forward by each refresh but never past the absolute one.
    expires_at          timestamptz NOT NULL,
    absolute_expires_at timestamptz NOT NULL,
    revoked_at          timestamptz,
    revoked_reason      text
);
CREATE INDEX sessions_user_active ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_revoked_at ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- One family per session: every refresh spends one token and adds the next.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    spent_at   timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Single-use bearer tokens: e-mail verification links, password resets, MFA challenges.
CREATE TABLE one_time_tokens (
    token_hash bytea PRIMARY KEY,
    kind       text NOT NULL
               CHECK (kind IN ('email_verification', 'password_reset', 'mfa_challenge')),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- What the token is about: the e-mail address being verified, the pending login.
    payload    jsonb NOT NULL DEFAULT '{}',
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, kind);

-- Codes sent by e-mail or SMS. A row exists for unknown identifiers too (with no user and
-- nothing sent), so limits and answers do not reveal which identifiers have accounts.
CREATE TABLE otp_codes (
    id         uuid PRIMARY KEY,
    identifier text NOT NULL,
    purpose    text NOT NULL
               CHECK (purpose IN ('login', 'verify_email', 'verify_phone', 'password_reset')),
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    consumed_at timestamptz
);
CREATE INDEX otp_codes_identifier ON otp_codes (identifier, created_at DESC);

CREATE TABLE recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE signing_keys (
    kid             text PRIMARY KEY,
    public_key      bytea NOT NULL,
    private_key_enc bytea NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- Set when a newer key takes over signing; the key stays published until
    -- publish_until so tokens it signed keep verifying until they expire.
    retired_at      timestamptz,
    publish_until   timestamptz
);
-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL;

-- Default roles and permissions. Services check permissions, never role names, so an
-- operator can reshape roles without a deployment.
INSERT INTO permissions (id, name, description) VALUES
    ('00000000-0000-7000-8000-000000000101', 'users.read', 'Read any user''s account and profile'),
    ('00000000-0000-7000-8000-000000000102', 'users.manage', 'Suspend, ban, reinstate and delete users'),
    ('00000000-0000-7000-8000-000000000103', 'roles.manage', 'Create, change and assign roles and permissions'),
    ('00000000-0000-7000-8000-000000000104', 'communities.create', 'Create communities'),
    ('00000000-0000-7000-8000-000000000105', 'communities.manage', 'Manage every community'),
    ('00000000-0000-7000-8000-000000000106', 'catalog.manage', 'Manage categories, tools and inventory'),
    ('00000000-0000-7000-8000-000000000107', 'orders.manage', 'Manage every order and promo code'),
    ('00000000-0000-7000-8000-000000000108', 'payments.manage', 'Refund payments, release and forfeit deposits'),
    ('00000000-0000-7000-8000-000000000109', 'deliveries.manage', 'Manage delivery zones and assignments'),
    ('00000000-0000-7000-8000-00000000010a', 'couriers.manage', 'Verify and block couriers'),
    ('00000000-0000-7000-8000-00000000010b', 'courier.work', 'Take and deliver delivery jobs'),
    ('00000000-0000-7000-8000-00000000010c', 'notifications.broadcast', 'Send broadcasts'),
    ('00000000-0000-7000-8000-00000000010d', 'orders.place', 'Rent tools'),
    ('00000000-0000-7000-8000-00000000010e', 'reviews.write', 'Review rented tools');

INSERT INTO roles (id, name, description, is_system, self_service) VALUES
    ('00000000-0000-7000-8000-000000000001', 'super_admin', 'Everything, including roles', true, false),
    ('00000000-0000-7000-8000-000000000002', 'admin', 'Runs the platform day to day', true, false),
    ('00000000-0000-7000-8000-000000000003', 'community_manager', 'Creates and runs communities', true, true),
    ('00000000-0000-7000-8000-000000000004', 'resident', 'Member of communities, rents tools', true, true),
    ('00000000-0000-7000-8000-000000000005', 'courier', 'Delivers rentals', true, true);

-- super_admin gets every permission at token time (including ones added later);
-- the rows below make the defaults visible to admins.
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000001', id FROM permissions;
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000002', id FROM permissions WHERE name <> 'roles.manage';
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000003', id FROM permissions
WHERE name IN ('communities.create', 'orders.place', 'reviews.write');
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000004', id FROM permissions
WHERE name IN ('orders.place', 'reviews.write');
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000005', id FROM permissions
WHERE name IN ('courier.work', 'orders.place', 'reviews.write');
