ALTER TABLE profiles DROP COLUMN status_before;
