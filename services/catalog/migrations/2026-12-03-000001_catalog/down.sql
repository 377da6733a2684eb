DROP TABLE extensions;
DROP TABLE favourites;
DROP TABLE reservations;
DROP TABLE items;
DROP TABLE tools;
DROP TABLE categories;
DROP TABLE memberships;
DROP TABLE communities;
-- The extensions stay: other objects of the database may use them.
