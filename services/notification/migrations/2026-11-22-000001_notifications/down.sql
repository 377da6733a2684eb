DROP TABLE broadcasts;
DROP TABLE push_tokens;
DROP TABLE deliveries;
DROP TABLE notifications;
DROP TABLE community_members;
DROP TABLE communities;
DROP TABLE recipients;
