//! The notification service: e-mail over SMTP, SMS, push and in-app messages, driven by
//! the platform's events.
//!
//! Modules: `catalogue` (every notification type), `templates` (files rendered with
//! minijinja, checked at start), `recipients` (the directory built from events), `notify`
//! (a message to a person: preferences, destinations, rendering), `deliveries` (the log and
//! the dispatcher with retries), `channels` (senders: SMTP, Twilio-shaped SMS, FCM push,
//! log adapters), `inbox` (in-app), `push_tokens`, `broadcasts`; `consumer` maps events to
//! notifications, `routes` is the HTTP surface.

pub mod broadcasts;
pub mod catalogue;
pub mod channels;
pub mod config;
pub mod consumer;
pub mod deliveries;
pub mod error;
pub mod inbox;
pub mod notify;
pub mod push_tokens;
pub mod recipients;
pub mod routes;
pub mod schema;
pub mod state;
pub mod templates;

use channels::{email::Smtp, push, sms};
use config::{NotificationConfig, PushProvider, SmsProvider};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use platform::app::{App, ServiceSpec, Wired};
use state::{Senders, State};
use std::sync::Arc;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The senders the configuration asks for.
pub fn senders(config: &NotificationConfig) -> anyhow::Result<Senders> {
    let sms: Arc<dyn channels::SmsSender> = match &config.sms {
        SmsProvider::Custom(sender) => sender.0.clone(),
        SmsProvider::Log => Arc::new(sms::LogSms {
            show_text: config.log_content,
        }),
        SmsProvider::Twilio {
            base_url,
            account_sid,
            auth_token,
            from,
        } => Arc::new(sms::Twilio::new(
            base_url,
            account_sid,
            auth_token.clone(),
            from,
        )?),
    };
    let push: Arc<dyn channels::PushSender> = match &config.push {
        PushProvider::Custom(sender) => sender.0.clone(),
        PushProvider::Log => Arc::new(push::LogPush {
            show_text: config.log_content,
        }),
        PushProvider::Fcm {
            endpoint,
            project_id,
            credentials,
        } => {
            let raw = std::fs::read_to_string(credentials).map_err(|e| {
                anyhow::anyhow!(
                    "NOTIFICATION_FCM_CREDENTIALS {}: {e}",
                    credentials.display()
                )
            })?;
            let account: push::ServiceAccount = serde_json::from_str(&raw)?;
            Arc::new(push::Fcm::new(endpoint, project_id, account)?)
        }
    };
    Ok(Senders {
        email: Arc::new(Smtp::new(config.smtp_url.expose(), &config.email_from)?),
        sms,
        push,
    })
}

/// The notification service, for `platform::app::run` and `harness::TestService`.
pub struct Notification;

impl platform::app::Service for Notification {
    const SPEC: ServiceSpec = ServiceSpec {
        name: "notification",
        default_port: 18089,
        migrations: MIGRATIONS,
        migrations_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"),
        tasks: &[],
    };
    type Config = NotificationConfig;
    type State = State;

    fn config(v: &mut platform::config::Vars<'_>) -> NotificationConfig {
        NotificationConfig::from_vars(v)
    }

    async fn build(app: &mut App, config: NotificationConfig) -> anyhow::Result<Wired<State>> {
        let templates =
            templates::Templates::load(&config.templates_dir, "Neighbourly", &config.app_url)?;
        let state = State {
            pool: app.pool.clone(),
            outbox: app.outbox,
            templates: Arc::new(templates),
            senders: senders(&config)?,
            app_url: config.app_url.clone(),
            dispatch: config.dispatch,
        };
        let verifier = app.verifier(config.auth.clone()).await?;
        app.spawn_consumer(
            consumer::config(),
            consumer::Handler {
                state: state.clone(),
            },
        )?;
        let dispatcher = state.clone();
        app.spawn_task(move |shutdown| deliveries::run(dispatcher, shutdown));
        let fan_out = state.clone();
        app.spawn_task(move |shutdown| broadcasts::run(fan_out, shutdown));
        let routes_state = state.clone();
        Ok(Wired::new(state, move |cfg| {
            routes::configure(cfg, routes_state.clone(), verifier.clone())
        }))
    }
}
