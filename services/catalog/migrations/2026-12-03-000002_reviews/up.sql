-- Reviews of tools, by those who rented them: a completed order line is the right to one
-- review (order.completed tells the catalog who rented what).
CREATE TABLE rentals (
    order_item_id UUID PRIMARY KEY,
    order_id UUID NOT NULL,
    user_id UUID NOT NULL,
    tool_id UUID NOT NULL REFERENCES tools (id),
    completed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rentals_user_tool ON rentals (user_id, tool_id);

CREATE TABLE reviews (
    id UUID PRIMARY KEY,
    tool_id UUID NOT NULL REFERENCES tools (id),
    user_id UUID NOT NULL,
    -- One review per rented line.
    order_item_id UUID NOT NULL UNIQUE REFERENCES rentals (order_item_id),
    rating SMALLINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    -- Hidden by a moderator: not shown, not counted in the tool's rating.
    status TEXT NOT NULL DEFAULT 'visible' CHECK (status IN ('visible', 'hidden')),
    moderation_reason TEXT,
    reports INT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reviews_tool ON reviews (tool_id, created_at DESC) WHERE status = 'visible';
CREATE INDEX reviews_reported ON reviews (reports DESC) WHERE reports > 0;

-- Who reported which review: once each.
CREATE TABLE review_reports (
    review_id UUID NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, user_id)
);
