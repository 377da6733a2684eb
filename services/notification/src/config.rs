//! The notification service's own settings (the common ones come from the platform kit).

use platform::auth::AuthConfig;
use platform::config::{Dur, Secret, VarDoc, Vars};
use std::path::PathBuf;
use std::time::Duration;

pub const VARS: &[VarDoc] = &[
    VarDoc {
        name: "NOTIFICATION_SMTP_URL",
        default: Some("smtp://127.0.0.1:51025"),
        doc: "SMTP server: `smtp://host:port` (plain), `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465` (TLS). The default is the local stack's dev inbox.",
    },
    VarDoc {
        name: "NOTIFICATION_EMAIL_FROM",
        default: Some("Neighbourly <no-reply@neighbourly.local>"),
        doc: "The From of every e-mail.",
    },
    VarDoc {
        name: "NOTIFICATION_SMS_PROVIDER",
        default: Some("log"),
        doc: "`twilio` (an HTTP API shaped like Twilio's) or `log` (development: written to the log, not sent).",
    },
    VarDoc {
        name: "NOTIFICATION_TWILIO_BASE_URL",
        default: Some("https://api.twilio.com"),
        doc: "Base URL of the SMS provider's API.",
    },
    VarDoc {
        name: "NOTIFICATION_TWILIO_ACCOUNT_SID",
        default: None,
        doc: "SMS provider account id (required with `twilio`).",
    },
    VarDoc {
        name: "NOTIFICATION_TWILIO_AUTH_TOKEN",
        default: None,
        doc: "SMS provider secret (required with `twilio`).",
    },
    VarDoc {
        name: "NOTIFICATION_SMS_FROM",
        default: None,
        doc: "Sender number or id of SMS (required with `twilio`).",
    },
    VarDoc {
        name: "NOTIFICATION_PUSH_PROVIDER",
        default: Some("log"),
        doc: "`fcm` (Firebase Cloud Messaging HTTP v1) or `log` (development).",
    },
    VarDoc {
        name: "NOTIFICATION_FCM_ENDPOINT",
        default: Some("https://fcm.googleapis.com"),
        doc: "Base URL of the FCM API.",
    },
    VarDoc {
        name: "NOTIFICATION_FCM_PROJECT_ID",
        default: None,
        doc: "Firebase project id (required with `fcm`).",
    },
    VarDoc {
        name: "NOTIFICATION_FCM_CREDENTIALS",
        default: None,
        doc: "Path of the Google service-account JSON key used to obtain FCM access tokens (required with `fcm`).",
    },
    VarDoc {
        name: "NOTIFICATION_LOG_CONTENT",
        default: Some("false"),
        doc: "With the `log` SMS or push adapter, also log the message text (it may hold a code): for development only.",
    },
    VarDoc {
        name: "NOTIFICATION_TEMPLATES_DIR",
        default: Some("the crate's templates/"),
        doc: "Folder of the message templates (`<kind>/<channel part>`), checked at start.",
    },
    VarDoc {
        name: "NOTIFICATION_APP_URL",
        default: Some("http://127.0.0.1:18080"),
        doc: "Base of the links in messages (join, verify, reset).",
    },
    VarDoc {
        name: "NOTIFICATION_MAX_ATTEMPTS",
        default: Some("8"),
        doc: "Attempts per delivery before it is marked failed (transient errors only; a permanent refusal fails at once).",
    },
    VarDoc {
        name: "NOTIFICATION_RETRY_BASE",
        default: Some("5s"),
        doc: "First retry delay; it doubles per attempt, up to one hour.",
    },
    VarDoc {
        name: "NOTIFICATION_DISPATCH_INTERVAL",
        default: Some("250ms"),
        doc: "How often an idle dispatcher looks for due deliveries.",
    },
];

#[derive(Debug, Clone)]
pub enum SmsProvider {
    Log,
    /// A sender supplied by the program embedding the service (the tests' recorder).
    Custom(Custom<dyn crate::channels::SmsSender>),
    Twilio {
        base_url: String,
        account_sid: String,
        auth_token: Secret<String>,
        from: String,
    },
}

#[derive(Debug, Clone)]
pub enum PushProvider {
    Log,
    /// A sender supplied by the program embedding the service (the tests' recorder).
    Custom(Custom<dyn crate::channels::PushSender>),
    Fcm {
        endpoint: String,
        project_id: String,
        credentials: PathBuf,
    },
}

#[derive(Debug, Clone)]
pub struct NotificationConfig {
    pub auth: AuthConfig,
    pub smtp_url: Secret<String>,
    pub email_from: String,
    pub sms: SmsProvider,
    pub push: PushProvider,
    pub templates_dir: PathBuf,
    pub app_url: String,
    pub log_content: bool,
    pub dispatch: DispatchConfig,
}

#[derive(Debug, Clone, Copy)]
pub struct DispatchConfig {
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub interval: Duration,
    pub batch: i64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            retry_base: Duration::from_secs(5),
            interval: Duration::from_millis(250),
            batch: 50,
        }
    }
}

/// A sender given in code rather than by a variable; shown as `Custom` in debug output.
pub struct Custom<T: ?Sized>(pub std::sync::Arc<T>);

impl<T: ?Sized> Clone for Custom<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: ?Sized> std::fmt::Debug for Custom<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Custom")
    }
}

fn required(v: &mut Vars<'_>, name: &str, with: &str) -> String {
    v.optional::<String>(name).unwrap_or_else(|| {
        v.problem(format!("{name} is required with {with}"));
        String::new()
    })
}

impl NotificationConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        let auth = AuthConfig::from_vars(v);
        let sms = match v.or("NOTIFICATION_SMS_PROVIDER", "log".to_owned()).as_str() {
            "twilio" => SmsProvider::Twilio {
                base_url: v.or(
                    "NOTIFICATION_TWILIO_BASE_URL",
                    "https://api.twilio.com".to_owned(),
                ),
                account_sid: required(v, "NOTIFICATION_TWILIO_ACCOUNT_SID", "twilio"),
                auth_token: Secret::new(required(v, "NOTIFICATION_TWILIO_AUTH_TOKEN", "twilio")),
                from: required(v, "NOTIFICATION_SMS_FROM", "twilio"),
            },
            "log" => SmsProvider::Log,
            other => {
                v.problem(format!(
                    "NOTIFICATION_SMS_PROVIDER: unknown provider {other:?}"
                ));
                SmsProvider::Log
            }
        };
        let push = match v
            .or("NOTIFICATION_PUSH_PROVIDER", "log".to_owned())
            .as_str()
        {
            "fcm" => PushProvider::Fcm {
                endpoint: v.or(
                    "NOTIFICATION_FCM_ENDPOINT",
                    "https://fcm.googleapis.com".to_owned(),
                ),
                project_id: required(v, "NOTIFICATION_FCM_PROJECT_ID", "fcm"),
                credentials: PathBuf::from(required(v, "NOTIFICATION_FCM_CREDENTIALS", "fcm")),
            },
            "log" => PushProvider::Log,
            other => {
                v.problem(format!(
                    "NOTIFICATION_PUSH_PROVIDER: unknown provider {other:?}"
                ));
                PushProvider::Log
            }
        };
        let d = DispatchConfig::default();
        Self {
            auth,
            smtp_url: Secret::new(
                v.or("NOTIFICATION_SMTP_URL", "smtp://127.0.0.1:51025".to_owned()),
            ),
            email_from: v.or(
                "NOTIFICATION_EMAIL_FROM",
                "Neighbourly <no-reply@neighbourly.local>".to_owned(),
            ),
            sms,
            push,
            templates_dir: v
                .optional::<String>("NOTIFICATION_TEMPLATES_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
                }),
            log_content: v.or("NOTIFICATION_LOG_CONTENT", false),
            app_url: v
                .or("NOTIFICATION_APP_URL", "http://127.0.0.1:18080".to_owned())
                .trim_end_matches('/')
                .to_owned(),
            dispatch: DispatchConfig {
                max_attempts: v.or("NOTIFICATION_MAX_ATTEMPTS", d.max_attempts).max(1),
                retry_base: v.or("NOTIFICATION_RETRY_BASE", Dur(d.retry_base)).0,
                interval: v.or("NOTIFICATION_DISPATCH_INTERVAL", Dur(d.interval)).0,
                batch: d.batch,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_documents_every_variable() {
        let missing =
            platform::config::undocumented(include_str!("../../../README.md"), super::VARS);
        assert!(missing.is_empty(), "README does not document {missing:?}");
    }
}
