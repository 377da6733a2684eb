#!/bin/sh
# Runs once, when the PostgreSQL container starts on an empty data folder: one role and one
# database per service (SERVICE_DATABASES), each database owned by its role and closed to
# everyone else, as each service owns its data. Development passwords equal the role name.
set -eu
for svc in ${SERVICE_DATABASES:?}; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE "$svc" LOGIN PASSWORD '$svc';
CREATE DATABASE "${svc}_db" OWNER "$svc";
REVOKE ALL ON DATABASE "${svc}_db" FROM PUBLIC;
SQL
done
