-- Who can be reached, and how they want to be: a projection of auth and user events, so
-- sending never asks another service.
CREATE TABLE recipients (
    user_id        uuid PRIMARY KEY,
    email          text,
    email_verified boolean NOT NULL DEFAULT false,
    phone          text,
    locale         text NOT NULL DEFAULT 'en',
    display_name   text,
    roles          text[] NOT NULL DEFAULT '{}',
    -- Channel preferences (user.preferences.updated); security messages ignore them.
    pref_email      boolean NOT NULL DEFAULT true,
    pref_sms        boolean NOT NULL DEFAULT true,
    pref_push       boolean NOT NULL DEFAULT true,
    pref_promotions boolean NOT NULL DEFAULT false,
    deleted_at     timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recipients_roles ON recipients USING gin (roles);

-- Community names and members (community events), for announcements and broadcasts.
CREATE TABLE communities (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    manager_id uuid,
    deleted_at timestamptz
);
CREATE TABLE community_members (
    community_id uuid NOT NULL,
    user_id      uuid NOT NULL,
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX community_members_user ON community_members (user_id);

-- The in-app inbox.
CREATE TABLE notifications (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL,
    -- The event (or broadcast) it came from: redelivery adds nothing.
    source_id  uuid NOT NULL,
    kind       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, user_id)
);
CREATE INDEX notifications_inbox ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

-- The delivery log: one row per notification and channel and destination, the unit of
-- sending, retrying and idempotency.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    source_id        uuid NOT NULL,
    kind             text NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
    user_id          uuid,
    destination      text NOT NULL,
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- The rendered message while it waits; emptied once sent or given up (it may hold a
    -- code or a link token).
    content          jsonb,
    last_error       text,
    provider_response text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (source_id, channel, destination)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'queued';
CREATE INDEX deliveries_log ON deliveries (created_at DESC);

CREATE TABLE push_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL,
    platform   text NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
    -- A device's token belongs to whoever registered it last.
    token      text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_tokens_user ON push_tokens (user_id);

CREATE TABLE broadcasts (
    id          uuid PRIMARY KEY,
    created_by  uuid NOT NULL,
    audience    text NOT NULL CHECK (audience IN ('all', 'role', 'community')),
    target      text,
    title       text NOT NULL,
    body        text NOT NULL,
    channels    text[] NOT NULL,
    promotional boolean NOT NULL DEFAULT false,
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done')),
    -- Fan-out resumes after the last user id handled, whatever crashed.
    cursor      uuid,
    recipients  integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX broadcasts_pending ON broadcasts (created_at) WHERE status <> 'done';
