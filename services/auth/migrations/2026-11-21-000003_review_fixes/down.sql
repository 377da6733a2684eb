DROP INDEX signing_keys_activates_at;
ALTER TABLE signing_keys DROP COLUMN activates_at;
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE retired_at IS NULL;
ALTER TABLE permissions DROP COLUMN is_system;
DELETE FROM roles WHERE name = 'verified_courier';
DELETE FROM permissions WHERE name = 'courier.apply';
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000005', id FROM permissions WHERE name = 'courier.work';
