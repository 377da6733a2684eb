-- Its grants go with it (role_permissions cascades).
DELETE FROM permissions WHERE name = 'promo.manage';
UPDATE permissions SET description = 'Manage every order and promo code' WHERE name = 'orders.manage';
