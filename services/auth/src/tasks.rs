//! Operator commands of the auth binary (run with the service's configuration):
//!
//! - `auth admin create <email>`: creates (or promotes) the first `super_admin`; the
//!   password comes from `AUTH_ADMIN_PASSWORD` or the first line of standard input, never
//!   from the command line where `ps` would show it;
//! - `auth keys rotate`: a new signing key; the old one stays published until its tokens
//!   expire;
//! - `auth keys list`: the published keys.

use crate::accounts::SUPER_ADMIN;
use crate::error::Error;
use crate::schema::users;
use crate::state::State;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use events::proto::auth::v1 as ev;
use platform::http::RequestId;
use platform::kafka::outbox::Emits;
use uuid::Uuid;

pub const TASKS: &[&str] = &["admin", "keys"];

pub const USAGE: &str = "usage: auth admin create <email> | auth keys rotate | auth keys list";

pub async fn run(state: State, args: &[String]) -> anyhow::Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["admin", "create", email] => admin_create(&state, email).await,
        ["keys", "rotate"] => {
            let mut conn = platform::db::conn(&state.pool).await?;
            crate::keys::ensure_active(&mut conn, &state.kek).await?;
            let publish_for = state.config.tokens.access_ttl + state.config.verify.leeway;
            let delay = crate::keys::ACTIVATION_DELAY;
            let kid = crate::keys::rotate(&mut conn, &state.kek, publish_for, delay).await?;
            println!(
                "new signing key {kid}, published now, signing in {delay:?}; the previous key stays published until its tokens expire"
            );
            Ok(())
        }
        ["keys", "list"] => {
            let mut conn = platform::db::conn(&state.pool).await?;
            for k in crate::keys::list(&mut conn).await? {
                match k.retired_at {
                    None => println!("{}  signing since {}", k.kid, k.created_at),
                    Some(r) => println!(
                        "{}  retired {}, published until {}",
                        k.kid,
                        r,
                        k.publish_until.map(|p| p.to_string()).unwrap_or_default()
                    ),
                }
            }
            Ok(())
        }
        _ => anyhow::bail!("{USAGE}"),
    }
}

fn admin_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("AUTH_ADMIN_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn admin_create(state: &State, email: &str) -> anyhow::Result<()> {
    let email =
        crate::identifiers::normalize_email(email, "email").map_err(|e| anyhow::anyhow!("{e}"))?;
    let rid = RequestId(format!("cli-{}", Uuid::now_v7()));
    let mut conn = platform::db::conn(&state.pool).await?;
    let existing: Option<Uuid> = users::table
        .filter(users::email.eq(&email))
        .select(users::id)
        .first(&mut conn)
        .await
        .optional()?;
    let hash = match existing {
        Some(_) => None,
        None => {
            let password = admin_password()?;
            crate::password::check_policy(&password, &[&email])
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Some(
                state
                    .hasher
                    .hash(password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            )
        }
    };
    let shown = email.clone();
    let (id, created) = conn
        .transaction::<_, Error, _>(|conn| {
            async move {
                let (id, created) = match (existing, hash) {
                    (Some(id), _) => (id, false),
                    (None, hash) => {
                        let id = Uuid::now_v7();
                        diesel::insert_into(users::table)
                            .values((
                                users::id.eq(id),
                                users::email.eq(&email),
                                users::password_hash.eq(hash.unwrap_or_default()),
                                // The operator vouches for the address.
                                users::email_verified_at.eq(diesel::dsl::now),
                            ))
                            .execute(conn)
                            .await?;
                        let event = ev::UserRegistered {
                            user_id: id.to_string(),
                            email: email.clone(),
                            phone: String::new(),
                            roles: vec![SUPER_ADMIN.to_owned()],
                            referral_code: String::new(),
                            registered_at: Some(events::timestamp(chrono::Utc::now())),
                        };
                        state.emit(conn, id, &event, Some(&rid)).await?;
                        let verified = ev::EmailVerified {
                            user_id: id.to_string(),
                            email: email.clone(),
                        };
                        state.emit(conn, id, &verified, Some(&rid)).await?;
                        (id, true)
                    }
                };
                crate::rbac::grant(conn, state, id, SUPER_ADMIN, None, &rid).await?;
                Ok((id, created))
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if created {
        println!("created super_admin {shown} ({id})");
    } else {
        println!("granted super_admin to existing account {shown} ({id})");
    }
    Ok(())
}
