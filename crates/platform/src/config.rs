//! Typed configuration from environment variables.
//!
//! No configuration framework: a service reads its variables through [`Vars`], which
//! records every missing or malformed variable instead of stopping at the first, so one
//! start-up error names all of them. Every variable a service reads is also listed in
//! [`VarDoc`] tables, which the README's configuration reference mirrors.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Documentation of one variable: what the README's configuration reference lists.
#[derive(Debug, Clone, Copy)]
pub struct VarDoc {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

/// The variables of `vars` a document (the README) does not name in backticks: each
/// crate's test asserts this is empty, so no setting goes undocumented.
pub fn undocumented<'a>(document: &str, vars: &'a [VarDoc]) -> Vec<&'a str> {
    vars.iter()
        .map(|v| v.name)
        .filter(|name| !document.contains(&format!("`{name}`")))
        .collect()
}

/// The start-up error naming every variable that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// A value that must never reach a log line or an error message.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The secret itself; call sites are easy to audit with a search for `expose`.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T: FromStr> FromStr for Secret<T> {
    type Err = T::Err;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        T::from_str(s).map(Secret)
    }
}

/// A duration written as an integer followed by `ms`, `s`, `m`, `h` or `d` (`250ms`, `30s`, `7d`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a duration like 250ms, 30s, 5m or 1h"))?;
        let d = match unit {
            "ms" => Duration::from_millis(n),
            "s" | "" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            "d" => Duration::from_secs(n * 86_400),
            _ => return Err(format!("{s:?} has an unknown unit (use ms, s, m, h or d)")),
        };
        Ok(Dur(d))
    }
}

/// Where variables come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::HashMap::get(self, name).cloned()
    }
}

/// Reads variables and collects every problem; see the module docs.
pub struct Vars<'a> {
    source: &'a dyn Source,
    problems: Vec<String>,
}

impl<'a> Vars<'a> {
    pub fn new(source: &'a dyn Source) -> Self {
        Self {
            source,
            problems: Vec::new(),
        }
    }

    fn raw(&self, name: &str) -> Option<String> {
        // An empty value is treated as unset: `FOO=` in an env file means "not given".
        self.source.get(name).filter(|v| !v.trim().is_empty())
    }

    /// A variable that must be set. When it is missing or malformed the problem is
    /// recorded and `T::default()` stands in until [`Vars::finish`] reports it.
    pub fn required<T>(&mut self, name: &str) -> T
    where
        T: FromStr + Default,
        T::Err: fmt::Display,
    {
        match self.raw(name) {
            None => {
                self.problems
                    .push(format!("{name} is required but not set"));
                T::default()
            }
            Some(v) => self.parse(name, &v).unwrap_or_default(),
        }
    }

    /// A variable that must be set, of a type with no sensible default (a key): when it is
    /// missing or malformed the problem, with `hint` on how to make one, is recorded and
    /// `placeholder` stands in. The placeholder is never used: [`Vars::finish`] fails.
    pub fn required_with<T>(&mut self, name: &str, hint: &str, placeholder: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(name) {
            None => {
                self.problems.push(format!("{name} is required ({hint})"));
                placeholder
            }
            Some(v) => self.parse(name, &v).unwrap_or(placeholder),
        }
    }

    /// A variable with a default used when it is unset.
    pub fn or<T>(&mut self, name: &str, default: T) -> T
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.raw(name) {
            None => default,
            Some(v) => self.parse(name, &v).unwrap_or(default),
        }
    }

    /// A variable that may be absent.
    pub fn optional<T>(&mut self, name: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        let v = self.raw(name)?;
        self.parse(name, &v)
    }

    /// Records a problem found by a cross-field check.
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    fn parse<T>(&mut self, name: &str, value: &str) -> Option<T>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match value.trim().parse() {
            Ok(v) => Some(v),
            Err(e) => {
                // The value itself is left out: it may be a secret.
                self.problems.push(format!("{name} is malformed: {e}"));
                None
            }
        }
    }

    /// Ends reading: an error naming every problem, or `Ok` when there were none.
    pub fn finish(self) -> Result<(), ConfigError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                problems: self.problems,
            })
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, coloured when writing to a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pretty" | "text" => Ok(Self::Pretty),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is not one of pretty, json")),
        }
    }
}

/// A boolean written as true/false, 1/0, yes/no or on/off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl FromStr for Flag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Flag(true)),
            "0" | "false" | "no" | "off" => Ok(Flag(false)),
            other => Err(format!("{other:?} is not a boolean (true/false)")),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn undocumented_names_the_variables_a_document_lacks() {
        let doc = |name| super::VarDoc {
            name,
            default: None,
            doc: "",
        };
        let vars = [doc("A_VAR"), doc("B_VAR")];
        assert_eq!(
            super::undocumented("set `A_VAR` and B_VAR", &vars),
            ["B_VAR"]
        );
    }

    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let src = env(&[("PORT", "eighty"), ("WAIT", "5 parsecs")]);
        let mut v = Vars::new(&src);
        let _: String = v.required("DATABASE_URL");
        let _: u16 = v.or("PORT", 8080);
        let _: Dur = v.or("WAIT", Dur(Duration::from_secs(1)));
        let err = v.finish().unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        let text = err.to_string();
        assert!(text.contains("DATABASE_URL is required"));
        assert!(text.contains("PORT is malformed"));
        assert!(text.contains("WAIT is malformed"));
    }

    #[test]
    fn malformed_secrets_are_not_echoed() {
        let src = env(&[("TOKEN_TTL", "hunter2")]);
        let mut v = Vars::new(&src);
        let _: Secret<u32> = v.required("TOKEN_TTL");
        assert!(!v.finish().unwrap_err().to_string().contains("hunter2"));
        assert_eq!(format!("{:?}", Secret::new("pw")), "Secret([redacted])");
    }

    #[test]
    fn defaults_and_empty_values() {
        let src = env(&[("EMPTY", "  "), ("SET", "30s"), ("ON", "yes")]);
        let mut v = Vars::new(&src);
        assert_eq!(v.or("EMPTY", 7u32), 7);
        assert_eq!(v.or("SET", Dur::default()).0, Duration::from_secs(30));
        assert_eq!(v.optional::<Flag>("ON"), Some(Flag(true)));
        assert_eq!(v.optional::<u8>("MISSING"), None);
        v.finish().unwrap();
    }

    #[test]
    fn durations() {
        assert_eq!(
            "250ms".parse::<Dur>().unwrap().0,
            Duration::from_millis(250)
        );
        assert_eq!("2m".parse::<Dur>().unwrap().0, Duration::from_secs(120));
        assert!("3 weeks".parse::<Dur>().is_err());
    }
}
