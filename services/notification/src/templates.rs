//! Message templates: files under `NOTIFICATION_TEMPLATES_DIR` named
//! `<kind>/<channel part>` (`community_invite/email.subject`, `.../email.txt`,
//! `.../email.html`...), rendered with minijinja (HTML parts auto-escaped, unknown
//! variables an error). At start every template of every kind and channel must exist,
//! compile, and use only the variables its kind provides, so a typo stops the deployment
//! instead of a message.

use crate::catalogue::{self, Channel, Kind};
use anyhow::{Context, bail};
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A rendered message, as stored in the delivery log until sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// E-mail subject, push or in-app title.
    pub title: Option<String>,
    pub text: String,
    /// E-mail only: the HTML alternative.
    pub html: Option<String>,
}

#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    globals: serde_json::Value,
}

impl Templates {
    /// Loads and checks every template of the catalogue from `dir`.
    pub fn load(dir: &Path, app_name: &str, app_url: &str) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut problems = Vec::new();
        for kind in catalogue::ALL {
            for channel in kind.channels {
                for part in channel.parts() {
                    let name = format!("{}/{part}", kind.name);
                    let path = dir.join(&name);
                    let source = match std::fs::read_to_string(&path) {
                        Ok(s) => s,
                        Err(e) => {
                            problems.push(format!("{}: {e}", path.display()));
                            continue;
                        }
                    };
                    if let Err(e) = env.add_template_owned(name.clone(), source) {
                        problems.push(format!("{name}: {e}"));
                        continue;
                    }
                    if let Err(e) = check_variables(&env, &name, kind) {
                        problems.push(e.to_string());
                    }
                }
            }
        }
        if !problems.is_empty() {
            bail!(
                "notification templates in {}:\n  {}",
                dir.display(),
                problems.join("\n  ")
            );
        }
        Ok(Self {
            env,
            globals: serde_json::json!({ "app_name": app_name, "app_url": app_url }),
        })
    }

    /// Renders `kind` for `channel` with `vars` (an object of the kind's variables).
    pub fn render(
        &self,
        kind: &Kind,
        channel: Channel,
        vars: &serde_json::Value,
    ) -> anyhow::Result<Content> {
        let mut ctx = self.globals.clone();
        if let (Some(c), Some(v)) = (ctx.as_object_mut(), vars.as_object()) {
            c.extend(v.clone());
        }
        let part = |p: &str| -> anyhow::Result<String> {
            let name = format!("{}/{p}", kind.name);
            let out = self
                .env
                .get_template(&name)
                .with_context(|| format!("template {name}"))?
                .render(&ctx)
                .with_context(|| format!("rendering {name}"))?;
            Ok(out.trim().to_owned())
        };
        Ok(match channel {
            Channel::Email => Content {
                title: Some(part("email.subject")?),
                text: part("email.txt")?,
                html: Some(part("email.html")?),
            },
            Channel::Sms => Content {
                title: None,
                text: part("sms.txt")?,
                html: None,
            },
            Channel::Push => Content {
                title: Some(part("push.title")?),
                text: part("push.txt")?,
                html: None,
            },
            Channel::InApp => Content {
                title: Some(part("in_app.title")?),
                text: part("in_app.txt")?,
                html: None,
            },
        })
    }
}

fn check_variables(env: &Environment<'static>, name: &str, kind: &Kind) -> anyhow::Result<()> {
    let template = env.get_template(name)?;
    let mut unknown: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| {
            !kind.variables.contains(&v.as_str()) && !catalogue::GLOBALS.contains(&v.as_str())
        })
        .collect();
    unknown.sort();
    if unknown.is_empty() {
        Ok(())
    } else {
        bail!(
            "{name} uses {unknown:?}, which a {} notification does not provide (it has {:?})",
            kind.name,
            kind.variables
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Templates {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        Templates::load(&dir, "Neighbourly", "http://app.test").unwrap()
    }

    #[test]
    fn the_shipped_templates_load_and_check() {
        shipped();
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = shipped();
        let vars = serde_json::json!({
            "community_name": "<Oak & Ash>", "inviter_name": "Pat", "link": "http://app.test/join?token=t",
            "token": "t", "expires_at": "2026-12-01",
        });
        let c = t
            .render(&catalogue::COMMUNITY_INVITE, Channel::Email, &vars)
            .unwrap();
        assert!(c.html.unwrap().contains("&lt;Oak &amp; Ash&gt;"));
        assert!(c.text.contains("<Oak & Ash>"));
        assert!(c.title.unwrap().contains("<Oak & Ash>"));
    }

    #[test]
    fn a_missing_variable_is_an_error_not_an_empty_string() {
        let t = shipped();
        let err = t
            .render(
                &catalogue::COMMUNITY_INVITE,
                Channel::Email,
                &serde_json::json!({}),
            )
            .unwrap_err();
        assert!(format!("{err:#}").contains("undefined"), "{err:#}");
    }

    #[test]
    fn a_template_using_an_unknown_variable_stops_the_start() {
        let dir = tempdir_with_shipped();
        std::fs::write(dir.join("otp/sms.txt"), "Your code: {{ cod }}").unwrap();
        let err = Templates::load(&dir, "N", "u").unwrap_err().to_string();
        assert!(err.contains("otp/sms.txt") && err.contains("cod"), "{err}");
        std::fs::remove_file(dir.join("otp/sms.txt")).unwrap();
        let err = Templates::load(&dir, "N", "u").unwrap_err().to_string();
        assert!(err.contains("otp/sms.txt"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempdir_with_shipped() -> std::path::PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let dst = std::env::temp_dir().join(format!("templates-{}", uuid::Uuid::new_v4()));
        for kind in std::fs::read_dir(&src).unwrap().flatten() {
            let to = dst.join(kind.file_name());
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(kind.path()).unwrap().flatten() {
                std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
        dst
    }
}
