//! The user service's own settings (the common ones come from the platform kit).

use platform::auth::AuthConfig;
use platform::config::{Dur, VarDoc, Vars};
use std::time::Duration;

pub const VARS: &[VarDoc] = &[VarDoc {
    name: "USER_SUSPENSION_SWEEP_INTERVAL",
    default: Some("30s"),
    doc: "How often the user service lifts suspensions whose end date has passed.",
}];

#[derive(Debug, Clone)]
pub struct UserConfig {
    pub auth: AuthConfig,
    pub sweep_interval: Duration,
}

impl UserConfig {
    pub fn from_vars(v: &mut Vars<'_>) -> Self {
        Self {
            auth: AuthConfig::from_vars(v),
            sweep_interval: v
                .or(
                    "USER_SUSPENSION_SWEEP_INTERVAL",
                    Dur(Duration::from_secs(30)),
                )
                .0,
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
