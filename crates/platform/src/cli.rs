//! The commands every service binary understands, so operators learn them once:
//!
//! - `serve` (the default): run the service;
//! - `migrate`: apply pending migrations and exit (a release step / init container);
//! - `dlq-replay <topic>.dlq`: send dead-lettered records back to their topic;
//! - `healthcheck`: exit 0 when the running server on this host is ready (container
//!   health checks; the images have no curl);
//! - a service's own tasks (the auth service's `admin create`, `keys rotate`), named in its
//!   [`crate::app::ServiceSpec::tasks`] and run with the same configuration and pool.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve,
    Migrate,
    DlqReplay {
        dlq_topic: String,
    },
    Healthcheck,
    /// A service-specific task: its name and the arguments after it.
    Task(Vec<String>),
}

pub const USAGE: &str = "usage: <service> [serve | migrate | dlq-replay <topic>.dlq | healthcheck]";

impl Command {
    /// Parses the arguments after the program name; `tasks` are the service's own commands.
    pub fn parse<I: IntoIterator<Item = String>>(args: I, tasks: &[&str]) -> Result<Self, String> {
        let mut args = args.into_iter();
        let first = args.next();
        if let Some(task) = first.as_deref().filter(|t| tasks.contains(t)) {
            return Ok(Command::Task(
                std::iter::once(task.to_owned()).chain(args).collect(),
            ));
        }
        let cmd = match first.as_deref() {
            None | Some("serve") => Command::Serve,
            Some("migrate") => Command::Migrate,
            Some("healthcheck") => Command::Healthcheck,
            Some("dlq-replay") => {
                let dlq_topic = args.next().ok_or("dlq-replay needs the DLQ topic name")?;
                if !dlq_topic.ends_with(events::topics::DLQ_SUFFIX) {
                    return Err(format!(
                        "{dlq_topic} is not a DLQ topic (it must end in .dlq)"
                    ));
                }
                Command::DlqReplay { dlq_topic }
            }
            Some("-h" | "--help" | "help") => return Err(USAGE.to_owned()),
            Some(other) => return Err(format!("unknown command {other:?}\n{USAGE}")),
        };
        if let Some(extra) = args.next() {
            return Err(format!("unexpected argument {extra:?}\n{USAGE}"));
        }
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Command::parse(args.iter().map(|s| s.to_string()), &["keys"])
    }

    #[test]
    fn commands() {
        assert_eq!(parse(&[]), Ok(Command::Serve));
        assert_eq!(parse(&["migrate"]), Ok(Command::Migrate));
        assert_eq!(parse(&["healthcheck"]), Ok(Command::Healthcheck));
        assert_eq!(
            parse(&["dlq-replay", "order.order.v1.dlq"]),
            Ok(Command::DlqReplay {
                dlq_topic: "order.order.v1.dlq".into()
            })
        );
        assert!(parse(&["dlq-replay", "order.order.v1"]).is_err());
        assert!(parse(&["migrate", "now"]).is_err());
        assert!(parse(&["launch"]).is_err());
        assert_eq!(
            parse(&["keys", "rotate"]),
            Ok(Command::Task(vec!["keys".into(), "rotate".into()]))
        );
    }
}
