ALTER TABLE communities DROP COLUMN currency, DROP COLUMN catalog_visibility;
