-- What this service knows about people, from auth and user events (never read from their
-- databases): the verified e-mail decides whose invite is whose, the names are shown.
CREATE TABLE people (
    user_id        uuid PRIMARY KEY,
    -- Lower-cased; set only once auth says the address was proven.
    verified_email text,
    username       text,
    first_name     text,
    last_name      text,
    deleted_at     timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX people_verified_email ON people (verified_email) WHERE verified_email IS NOT NULL;

CREATE TABLE communities (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    line1       text NOT NULL,
    line2       text,
    city        text NOT NULL,
    region      text,
    postal_code text,
    country     text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    manager_id  uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: the row stays for the events and audits that name it.
    deleted_at  timestamptz,
    deleted_by  uuid,
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX communities_manager ON communities (manager_id) WHERE deleted_at IS NULL;
CREATE INDEX communities_city ON communities (lower(city)) WHERE deleted_at IS NULL;
CREATE INDEX communities_created ON communities (created_at) WHERE deleted_at IS NULL;

CREATE TABLE members (
    community_id uuid NOT NULL REFERENCES communities (id),
    user_id      uuid NOT NULL,
    role         text NOT NULL CHECK (role IN ('resident', 'moderator', 'manager')),
    invite_id    uuid,
    joined_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE invites (
    id           uuid PRIMARY KEY,
    community_id uuid NOT NULL REFERENCES communities (id),
    -- Lower-cased.
    email        text NOT NULL,
    -- SHA-256 of the join token; the token itself is derived from the id with a server key
    -- (COMMUNITY_INVITE_KEY), so it can be sent again without being stored.
    token_hash   bytea NOT NULL UNIQUE,
    status       text NOT NULL DEFAULT 'active'
                 CHECK (status IN ('active', 'accepted', 'expired', 'revoked')),
    invited_by   uuid NOT NULL,
    sent_count   integer NOT NULL DEFAULT 1,
    last_sent_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- Who ended the invite and when (accepted, expired or revoked).
    closed_at    timestamptz,
    closed_by    uuid
);
-- The rule "one active invite per e-mail and community", whatever the concurrency.
CREATE UNIQUE INDEX invites_one_active ON invites (community_id, email) WHERE status = 'active';
CREATE INDEX invites_due ON invites (expires_at) WHERE status = 'active';
CREATE INDEX invites_by_status ON invites (community_id, status, created_at);

CREATE TABLE announcements (
    id           uuid PRIMARY KEY,
    community_id uuid NOT NULL REFERENCES communities (id),
    author_id    uuid NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL,
    pinned       boolean NOT NULL DEFAULT false,
    expires_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX announcements_feed ON announcements (community_id, pinned DESC, created_at DESC);
