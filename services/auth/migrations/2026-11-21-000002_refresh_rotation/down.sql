DROP FUNCTION rotate_refresh_token(bytea, interval, bytea);
