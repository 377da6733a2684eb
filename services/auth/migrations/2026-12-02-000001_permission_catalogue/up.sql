-- Permissions the kit's catalogue (crates/platform/src/permissions.rs) names that the
-- earlier seeds lack; the auth test `permissions` holds the seed to the catalogue.
-- promo.manage splits promo codes off orders.manage, so a marketing role can run
-- promotions without touching orders. Management permissions go to admin (super_admin
-- holds every permission at token time; its rows keep the defaults visible to admins).
-- ON CONFLICT: an operator may have created the name through the admin API already; from
-- now on it is the built-in one.
INSERT INTO permissions (id, name, description, is_system) VALUES
    ('00000000-0000-7000-8000-000000000110', 'promo.manage', 'Create, change and retire promo codes', true)
ON CONFLICT (name) DO UPDATE SET description = EXCLUDED.description, is_system = true;

UPDATE permissions SET description = 'Manage every order' WHERE name = 'orders.manage';

INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id FROM roles r, permissions p
 WHERE r.name IN ('super_admin', 'admin') AND p.name = 'promo.manage'
ON CONFLICT DO NOTHING;
