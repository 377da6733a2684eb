-- The catalog: what it knows of communities (from community.* events), the category tree,
-- tools, their physical items, bookings of items over dates, favourites.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- levenshtein(), for the typo fallback of search ("drlil" finds drills).
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- A projection of community.community.v1 and community.member.v1: the catalog never reads
-- the community service's database.
CREATE TABLE communities (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL DEFAULT 'EUR' CHECK (currency ~ '^[A-Z]{3}$'),
    catalog_visibility TEXT NOT NULL DEFAULT 'members'
        CHECK (catalog_visibility IN ('members', 'public')),
    manager_id UUID NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- No foreign key: a membership may arrive (another topic) before its community.
CREATE TABLE memberships (
    community_id UUID NOT NULL,
    user_id UUID NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('resident', 'moderator', 'manager')),
    PRIMARY KEY (community_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE categories (
    id UUID PRIMARY KEY,
    parent_id UUID REFERENCES categories (id) ON DELETE RESTRICT,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    slug TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    icon TEXT,
    colour TEXT CHECK (colour ~ '^#[0-9a-f]{6}$'),
    sort_order INT NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX categories_parent ON categories (parent_id);

CREATE TABLE tools (
    id UUID PRIMARY KEY,
    community_id UUID NOT NULL REFERENCES communities (id),
    category_id UUID NOT NULL REFERENCES categories (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT NOT NULL DEFAULT '',
    brand TEXT,
    model TEXT,
    -- [{"name": "Power", "value": "750", "unit": "W"}]
    specifications JSONB NOT NULL DEFAULT '[]',
    currency TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    daily_price BIGINT NOT NULL CHECK (daily_price >= 0),
    deposit BIGINT NOT NULL CHECK (deposit >= 0),
    weekly_price BIGINT CHECK (weekly_price >= 0),
    monthly_price BIGINT CHECK (monthly_price >= 0),
    min_rental_days INT NOT NULL DEFAULT 1 CHECK (min_rental_days >= 1),
    max_rental_days INT NOT NULL DEFAULT 30 CHECK (max_rental_days >= min_rental_days),
    buffer_days INT NOT NULL DEFAULT 0 CHECK (buffer_days BETWEEN 0 AND 30),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    -- Some item is free today; kept by the service so "back in stock" fires on the change.
    in_stock BOOLEAN NOT NULL DEFAULT FALSE,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    rating_count BIGINT NOT NULL DEFAULT 0,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ,
    -- Weighted: a match in the name counts most, then brand and model, then the text.
    -- English stemming for words ("drills" finds "drill"), none for brands and models.
    search TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(brand, '') || ' ' || coalesce(model, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(description, '')), 'C')
    ) STORED
);
CREATE INDEX tools_community ON tools (community_id) WHERE deleted_at IS NULL;
CREATE INDEX tools_category ON tools (category_id) WHERE deleted_at IS NULL;
CREATE INDEX tools_search ON tools USING gin (search);
-- Typos: "drlil" still finds "drill" by trigram similarity of the name.
CREATE INDEX tools_name_trgm ON tools USING gin (lower(name) gin_trgm_ops);

-- One row per physical item.
CREATE TABLE items (
    id UUID PRIMARY KEY,
    tool_id UUID NOT NULL REFERENCES tools (id),
    serial_number TEXT,
    status TEXT NOT NULL DEFAULT 'available'
        CHECK (status IN ('available', 'rented', 'maintenance', 'retired')),
    condition TEXT NOT NULL DEFAULT 'good' CHECK (condition IN ('new', 'good', 'fair', 'worn')),
    last_maintenance DATE,
    notes TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tool_id, serial_number)
);
CREATE INDEX items_tool ON items (tool_id);

-- One row per physical item per booking. `period` is the rental [start, end); `blocked`
-- adds the tool's buffer days after it, and is what may not overlap: double booking is
-- impossible by construction, whatever the code above it does.
CREATE TABLE reservations (
    id UUID PRIMARY KEY,
    item_id UUID NOT NULL REFERENCES items (id),
    tool_id UUID NOT NULL REFERENCES tools (id),
    order_id UUID NOT NULL,
    order_item_id UUID NOT NULL,
    period DATERANGE NOT NULL CHECK (NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)),
    blocked DATERANGE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('hold', 'confirmed', 'released', 'returned')),
    expires_at TIMESTAMPTZ,
    -- Why a released row was released: only a lapsed hold may be taken again on payment.
    release_reason TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (blocked @> period),
    EXCLUDE USING gist (item_id WITH =, blocked WITH &&) WHERE (status IN ('hold', 'confirmed'))
);
CREATE INDEX reservations_order ON reservations (order_id);
CREATE INDEX reservations_tool_period ON reservations USING gist (tool_id, blocked)
    WHERE status IN ('hold', 'confirmed');
CREATE INDEX reservations_expiring ON reservations (expires_at) WHERE status = 'hold';

CREATE TABLE favourites (
    user_id UUID NOT NULL,
    tool_id UUID NOT NULL REFERENCES tools (id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, tool_id)
);
CREATE INDEX favourites_tool ON favourites (tool_id);

-- Extension requests answered, so a redelivered request gives the same answer.
CREATE TABLE extensions (
    id UUID PRIMARY KEY,
    order_id UUID NOT NULL,
    new_end DATE NOT NULL,
    accepted BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
