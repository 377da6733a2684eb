-- The order service: its projection of the catalog's tools (prices), carts, promo codes,
-- orders with their items and status history, and the saga that carries each order.

-- A projection of catalog.tool.v1 (each event is the tool's whole picture): the cart's
-- prices, never read from the catalog's database.
CREATE TABLE tools (
    id UUID PRIMARY KEY,
    community_id UUID NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    daily_price BIGINT NOT NULL CHECK (daily_price >= 0),
    weekly_price BIGINT CHECK (weekly_price >= 0),
    monthly_price BIGINT CHECK (monthly_price >= 0),
    deposit BIGINT NOT NULL CHECK (deposit >= 0),
    min_rental_days INT NOT NULL CHECK (min_rental_days >= 1),
    max_rental_days INT NOT NULL CHECK (max_rental_days >= min_rental_days),
    active BOOLEAN NOT NULL,
    image_url TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE promo_codes (
    id UUID PRIMARY KEY,
    -- Stored upper-case; customers type it in any case.
    code TEXT NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{2,31}$'),
    kind TEXT NOT NULL CHECK (kind IN ('percentage', 'fixed')),
    -- Basis points of the rent (2500 is 25 %), for `percentage`.
    percent_bps INT CHECK (percent_bps BETWEEN 1 AND 10000),
    -- Minor units of `currency`, for `fixed`.
    amount BIGINT CHECK (amount > 0),
    -- The currency of `amount` and `min_order_amount`; a code applies only to carts in it.
    currency TEXT CHECK (currency ~ '^[A-Z]{3}$'),
    min_order_amount BIGINT CHECK (min_order_amount >= 0),
    valid_from TIMESTAMPTZ,
    valid_until TIMESTAMPTZ,
    max_uses INT CHECK (max_uses >= 1),
    max_uses_per_user INT CHECK (max_uses_per_user >= 1),
    uses INT NOT NULL DEFAULT 0 CHECK (uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)),
    -- NULL: every community.
    community_id UUID,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((kind = 'percentage') = (percent_bps IS NOT NULL)),
    CHECK ((kind = 'fixed') = (amount IS NOT NULL)),
    CHECK (amount IS NULL OR currency IS NOT NULL),
    CHECK (min_order_amount IS NULL OR currency IS NOT NULL),
    CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from)
);

-- One cart per user and community: an order is lent from one depot.
CREATE TABLE carts (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    community_id UUID NOT NULL,
    promo_code_id UUID REFERENCES promo_codes (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, community_id)
);

CREATE TABLE cart_items (
    id UUID PRIMARY KEY,
    cart_id UUID NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    tool_id UUID NOT NULL,
    quantity INT NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL CHECK (end_date > start_date),
    -- The price when the line was added or last refreshed (per unit, for the period).
    currency TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    unit_rent BIGINT NOT NULL CHECK (unit_rent >= 0),
    unit_deposit BIGINT NOT NULL CHECK (unit_deposit >= 0),
    -- The tool's price moved since the customer last saw this line.
    price_changed BOOLEAN NOT NULL DEFAULT FALSE,
    -- The catalog's advisory answer: `available`, `unavailable`, or `unverified` (it
    -- could not be asked; the saga's hold decides).
    availability TEXT NOT NULL CHECK (availability IN ('available', 'unavailable', 'unverified')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (cart_id, tool_id, start_date, end_date)
);
CREATE INDEX cart_items_tool ON cart_items (tool_id);

-- NB-<year>-<6 digits>: the number customers quote on the phone.
CREATE SEQUENCE order_number_seq;

CREATE TABLE orders (
    id UUID PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    user_id UUID NOT NULL,
    community_id UUID NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'preparing',
        'ready_for_delivery', 'in_delivery', 'delivered', 'active', 'return_requested',
        'returned', 'completed', 'cancelled', 'refunded')),
    delivery_method TEXT NOT NULL CHECK (delivery_method IN ('delivery', 'pickup')),
    address_id UUID,
    slot_id UUID,
    currency TEXT NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    rent BIGINT NOT NULL CHECK (rent >= 0),
    discount BIGINT NOT NULL DEFAULT 0 CHECK (discount >= 0 AND discount <= rent),
    deposit BIGINT NOT NULL CHECK (deposit >= 0),
    -- Unknown until the delivery service fixes it (NULL); 0 for pickup.
    delivery_fee BIGINT CHECK (delivery_fee >= 0),
    promo_code_id UUID REFERENCES promo_codes (id) ON DELETE SET NULL,
    promo_code TEXT,
    notes TEXT NOT NULL DEFAULT '',
    payment_id TEXT,
    pay_by TIMESTAMPTZ,
    cancel_reason TEXT,
    placed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((delivery_method = 'delivery') = (address_id IS NOT NULL AND slot_id IS NOT NULL))
);
CREATE INDEX orders_user ON orders (user_id, placed_at DESC);
CREATE INDEX orders_status ON orders (status, placed_at DESC);
CREATE INDEX orders_community ON orders (community_id, placed_at DESC);

CREATE TABLE order_items (
    id UUID PRIMARY KEY,
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    tool_id UUID NOT NULL,
    tool_name TEXT NOT NULL,
    quantity INT NOT NULL CHECK (quantity >= 1),
    start_date DATE NOT NULL,
    end_date DATE NOT NULL CHECK (end_date > start_date),
    unit_rent BIGINT NOT NULL CHECK (unit_rent >= 0),
    rent BIGINT NOT NULL CHECK (rent >= 0),
    deposit BIGINT NOT NULL CHECK (deposit >= 0),
    -- The physical items the catalog holds for the line, once it said so.
    item_ids UUID[]
);
CREATE INDEX order_items_order ON order_items (order_id);

-- One row per use of a code, written with the order: the per-user limit counts these.
CREATE TABLE promo_redemptions (
    order_id UUID PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    promo_code_id UUID NOT NULL REFERENCES promo_codes (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX promo_redemptions_user ON promo_redemptions (promo_code_id, user_id);

CREATE TABLE order_status_history (
    id BIGSERIAL PRIMARY KEY,
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    -- NULL: the saga.
    changed_by UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);

-- The saga's memory: where each order's saga stands.
CREATE TABLE sagas (
    order_id UUID PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    step TEXT NOT NULL CHECK (step IN ('reserve', 'slot', 'payment', 'confirm', 'done')),
    direction TEXT NOT NULL CHECK (direction IN ('forward', 'backward')),
    status TEXT NOT NULL CHECK (status IN ('running', 'compensating', 'completed',
        'compensated', 'needs_operator')),
    -- When the step awaited times out; NULL when nothing is awaited.
    deadline TIMESTAMPTZ,
    attempt INT NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    last_error TEXT,
    -- Why the saga compensates (a stable code: `reservation_rejected`, `payment_expired`).
    reason TEXT,
    -- Forward steps whose effect stands and must be undone on compensation.
    done TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The deadline sweep: only sagas that wait.
CREATE INDEX sagas_deadline ON sagas (deadline)
    WHERE status IN ('running', 'compensating') AND deadline IS NOT NULL;
CREATE INDEX sagas_stuck ON sagas (updated_at) WHERE status = 'needs_operator';

-- Append-only: every command sent, every answer, every timeout.
CREATE TABLE saga_log (
    id BIGSERIAL PRIMARY KEY,
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    step TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('forward', 'backward')),
    attempt INT NOT NULL,
    command_id UUID,
    -- `sent`, `succeeded`, `failed`, `timed_out`, `dropped` (a reply not awaited),
    -- `operator` (an operator's action).
    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'succeeded', 'failed', 'timed_out',
        'dropped', 'operator')),
    detail TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX saga_log_order ON saga_log (order_id, id);
