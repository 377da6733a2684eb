-- An address proven by one account is no one else's: when it moves to another account,
-- the projection drops it from the old one first (people::set_verified_email).
DROP INDEX people_verified_email;
CREATE UNIQUE INDEX people_verified_email ON people (verified_email) WHERE verified_email IS NOT NULL;
