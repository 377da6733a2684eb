ALTER TABLE deliveries DROP COLUMN expires_at;
