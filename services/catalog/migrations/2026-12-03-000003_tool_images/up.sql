-- Tool images: each upload decoded, re-encoded without its metadata (no EXIF, so no GPS
-- of a neighbour's home) in three sizes, kept in the object store under
-- tools/<tool>/<image>/<size>.jpg; the rows say which exist and in what order.
CREATE TABLE tool_images (
    id UUID PRIMARY KEY,
    tool_id UUID NOT NULL REFERENCES tools (id),
    position INT NOT NULL DEFAULT 0,
    width INT NOT NULL CHECK (width > 0),
    height INT NOT NULL CHECK (height > 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX tool_images_tool ON tool_images (tool_id, position);

-- The image shown first (lists, carts); kept by the service.
ALTER TABLE tools ADD COLUMN main_image_id UUID REFERENCES tool_images (id) ON DELETE SET NULL;
