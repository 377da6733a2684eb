DROP TABLE extensions;
DROP TABLE favourites;
DROP TABLE reservations;
DROP TABLE items;
DROP TABLE tools;
DROP TABLE categories;
DROP TABLE memberships;
DROP TABLE communities;
-- The service's own database: nothing else uses the extensions its up.sql created.
DROP EXTENSION IF EXISTS fuzzystrmatch;
DROP EXTENSION IF EXISTS pg_trgm;
DROP EXTENSION IF EXISTS btree_gist;
