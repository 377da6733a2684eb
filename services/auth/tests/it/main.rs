//! Integration tests of the auth service against the real PostgreSQL, Redis and broker of
//! the local stack (`scripts/stack up --infra`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod common;
mod consumer;
mod enumeration;
mod flows;
mod lockout;
mod mfa;
mod migrations;
mod otp;
mod permissions;
mod sessions;
mod tokens;
