DROP TABLE notification_preferences, addresses, profiles;
