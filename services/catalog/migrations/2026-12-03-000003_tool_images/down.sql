ALTER TABLE tools DROP COLUMN main_image_id;
DROP TABLE tool_images;
