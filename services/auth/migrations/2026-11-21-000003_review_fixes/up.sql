-- Couriers: signing up as a courier is an application, not a licence to work. The
-- self-service `courier` role may apply; `courier.work` belongs to `verified_courier`,
-- granted only when the courier service verifies the person's documents.
INSERT INTO permissions (id, name, description) VALUES
    ('00000000-0000-7000-8000-00000000010f', 'courier.apply', 'Apply to deliver: courier profile and documents');
DELETE FROM role_permissions
 WHERE role_id = '00000000-0000-7000-8000-000000000005'
   AND permission_id = (SELECT id FROM permissions WHERE name = 'courier.work');
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000005', id FROM permissions WHERE name = 'courier.apply';
INSERT INTO roles (id, name, description, is_system, self_service) VALUES
    ('00000000-0000-7000-8000-000000000006', 'verified_courier', 'Courier whose documents were verified', true, false);
INSERT INTO role_permissions (role_id, permission_id)
SELECT '00000000-0000-7000-8000-000000000006', id FROM permissions
 WHERE name IN ('courier.work', 'orders.place', 'reviews.write');
INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM roles r, permissions p
 WHERE r.name IN ('super_admin', 'admin') AND p.name = 'courier.apply';

-- Permissions the code relies on cannot be deleted (deleting roles.manage would lock every
-- admin out of this API).
ALTER TABLE permissions ADD COLUMN is_system boolean NOT NULL DEFAULT false;
UPDATE permissions SET is_system = true;

-- Key rotation publishes the next key before it signs: verifiers that fetched the JWKS
-- moments ago learn it before they meet a token it signed.
ALTER TABLE signing_keys ADD COLUMN activates_at timestamptz NOT NULL DEFAULT now();
DROP INDEX signing_keys_one_active;
CREATE INDEX signing_keys_activates_at ON signing_keys (activates_at DESC);
