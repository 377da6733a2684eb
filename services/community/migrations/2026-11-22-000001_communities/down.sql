DROP TABLE announcements;
DROP TABLE invites;
DROP TABLE members;
DROP TABLE communities;
DROP TABLE people;
