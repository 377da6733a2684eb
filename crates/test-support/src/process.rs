//! Private server processes for tests that kill and restart them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_port(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    anyhow::bail!("nothing listens on 127.0.0.1:{port} after {timeout:?}")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// A tansu broker with durable SQLite storage in a temporary directory.
pub struct BrokerProcess {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl BrokerProcess {
    fn tansu_bin() -> PathBuf {
        if let Ok(p) = std::env::var("TANSU_BIN") {
            return PathBuf::from(p);
        }
        let cache = std::env::var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache")
            });
        cache.join("tansu-0.6.0/bin/tansu")
    }

    pub fn start() -> anyhow::Result<Self> {
        let mut b = Self {
            port: free_port()?,
            bin: Self::tansu_bin(),
            dir: tempfile::tempdir()?,
            child: None,
        };
        b.restart()?;
        Ok(b)
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the broker again on the same port and storage.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("broker.log"))?;
        let child = Command::new(&self.bin)
            .arg("broker")
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            // tansu resolves the SQLite path against its working directory.
            .args(["--storage-engine", "sqlite://broker.db"])
            .current_dir(self.dir.path())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        wait_port(self.port, Duration::from_secs(30))
    }

    /// SIGKILL: no chance to flush or say goodbye.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A PostgreSQL cluster of its own (trust auth on loopback) in a temporary directory.
pub struct PgProcess {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl PgProcess {
    fn bin_dir() -> anyhow::Result<PathBuf> {
        if let Ok(d) = std::env::var("PG_BIN_DIR")
            && !d.is_empty()
        {
            return Ok(PathBuf::from(d));
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").exists())
            .collect();
        found.sort();
        found
            .pop()
            .ok_or_else(|| anyhow::anyhow!("no PostgreSQL server binaries found"))
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let exe = self.bin.join(program);
        // PostgreSQL refuses to run as root.
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output()?;
        if !out.status.success() {
            anyhow::bail!("{program} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn start_new() -> anyhow::Result<Self> {
        let pg = Self {
            port: free_port()?,
            bin: Self::bin_dir()?,
            dir: tempfile::tempdir()?,
        };
        if is_root() {
            let status = Command::new("chown")
                .arg("postgres")
                .arg(pg.dir.path())
                .status()?;
            anyhow::ensure!(status.success(), "chown failed");
        }
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                path(&data)?,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-locale",
                "-E",
                "UTF8",
            ],
        )?;
        pg.start()?;
        Ok(pg)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    pub fn start(&self) -> anyhow::Result<()> {
        let data = self.data();
        let log = self.dir.path().join("pg.log");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            path(self.dir.path())?
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                path(&data)?,
                "-l",
                path(&log)?,
                "-o",
                &opts,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Immediate shutdown: connections drop as in a crash.
    pub fn stop(&self) -> anyhow::Result<()> {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", path(&data)?, "-m", "immediate", "-w", "stop"],
        )
    }
}

fn path(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .ok_or_else(|| anyhow::anyhow!("non-UTF-8 path {}", p.display()))
}

impl Drop for PgProcess {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
