CREATE INDEX tools_name_trgm ON tools USING gin (lower(name) gin_trgm_ops);
