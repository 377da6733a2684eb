-- Refresh-token rotation as one server-side function: one round trip per refresh, and
-- PL/pgSQL keeps the plans of its statements for the life of the connection, where an
-- ad-hoc statement would be parsed and planned on every call.
--
-- Returns one row (the session, its owner, the new sliding expiry and the grants for the
-- next access token) when p_hash was an unspent token of a live session; it is then spent
-- and p_next added to the family. Returns nothing otherwise; the caller tells unknown,
-- reused and expired apart. A concurrent call with the same token waits for the token
-- row and then finds it spent.
CREATE FUNCTION rotate_refresh_token(p_hash bytea, p_idle interval, p_next bytea)
RETURNS TABLE (session_id uuid, user_id uuid, expires_at timestamptz, roles text[], perms text[])
LANGUAGE plpgsql AS $$
DECLARE
    v_session uuid;
    v_user    uuid;
    v_expires timestamptz;
BEGIN
    UPDATE refresh_tokens t SET spent_at = now()
     WHERE t.token_hash = p_hash AND t.spent_at IS NULL
       AND EXISTS (SELECT 1 FROM sessions s
                    WHERE s.id = t.session_id AND s.revoked_at IS NULL AND s.expires_at > now())
    RETURNING t.session_id INTO v_session;
    IF v_session IS NULL THEN
        RETURN;
    END IF;
    UPDATE sessions s
       SET last_used_at = now(), expires_at = LEAST(s.absolute_expires_at, now() + p_idle)
     WHERE s.id = v_session AND s.revoked_at IS NULL
    RETURNING s.user_id, s.expires_at INTO v_user, v_expires;
    IF v_user IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO refresh_tokens (token_hash, session_id) VALUES (p_next, v_session);
    RETURN QUERY SELECT
        v_session, v_user, v_expires,
        ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
               WHERE ur.user_id = v_user ORDER BY r.name),
        ARRAY(SELECT p.name FROM permissions p
               WHERE EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                              WHERE ur.user_id = v_user AND r.name = 'super_admin')
                  OR EXISTS (SELECT 1 FROM user_roles ur
                               JOIN role_permissions rp ON rp.role_id = ur.role_id
                              WHERE ur.user_id = v_user AND rp.permission_id = p.id)
               ORDER BY p.name);
END
$$;
