DROP TABLE signing_keys, recovery_codes, otp_codes, one_time_tokens, refresh_tokens,
    sessions, devices, user_roles, role_permissions, permissions, roles, users;
