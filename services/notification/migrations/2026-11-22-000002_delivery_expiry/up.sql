-- A code or link that has expired is not worth sending late: retries stop at this time.
ALTER TABLE deliveries ADD COLUMN expires_at timestamptz;
