//! Integration tests of the notification service against the real PostgreSQL, Redis,
//! broker and a real SMTP server (aiosmtpd).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod adapters;
mod common;
mod email;
mod inbox;
mod migrations;
mod preferences;
