-- What a suspension or ban interrupted, so reinstatement returns there: an unverified
-- (pending) account must not come back active.
ALTER TABLE profiles ADD COLUMN status_before text
    CHECK (status_before IN ('pending', 'active'));
