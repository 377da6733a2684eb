//! A real SMTP server for tests: aiosmtpd (installed from PyPI by `scripts/stack up` into
//! a virtualenv, `SMTP_SINK_PYTHON` names its python) storing every message it accepts in
//! a Maildir, on a port of its own. Tests read what was really sent over SMTP, and can
//! stop the server and start it again on the same port to see retries.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

/// One message as received: the raw RFC 5322 text.
#[derive(Debug, Clone)]
pub struct Received {
    pub raw: String,
}

impl SmtpSink {
    fn python() -> PathBuf {
        if let Ok(p) = std::env::var("SMTP_SINK_PYTHON") {
            return PathBuf::from(p);
        }
        let cache = std::env::var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
            });
        cache.join("aiosmtpd-venv/bin/python")
    }

    pub fn start() -> anyhow::Result<Self> {
        let mut sink = Self {
            port: super::process::free_port()?,
            dir: tempfile::tempdir()?,
            child: None,
        };
        sink.restart()?;
        Ok(sink)
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on the same port and mailbox.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let maildir = self.dir.path().join("mail");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("smtp.log"))?;
        let python = Self::python();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot start {} -m aiosmtpd (run scripts/stack up --infra): {e}",
                    python.display()
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        anyhow::bail!("aiosmtpd did not listen on {} in 20 s", self.port)
    }

    /// Stops the server: connections are refused until `restart`.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let new = self.dir.path().join("mail/new");
        let mut files: Vec<_> = std::fs::read_dir(new)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|raw| Received { raw })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
