DROP INDEX people_verified_email;
CREATE INDEX people_verified_email ON people (verified_email) WHERE verified_email IS NOT NULL;
