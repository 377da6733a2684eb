DROP TABLE review_reports;
DROP TABLE reviews;
DROP TABLE rentals;
