//! A private PostgreSQL server for tests, benchmarks and the load test: its own data
//! directory and port on loopback, gone when dropped, restartable under a running relay.
//! Needs PostgreSQL's binaries (Debian: `postgresql`; `scripts/test.sh` installs them);
//! `REDBOOK_PG_BIN` names their folder if it is not `/usr/lib/postgresql/<version>/bin`.

use std::collections::HashSet;
use std::io::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use tempfile::TempDir;

pub struct PrivateServer {
    /// Unique to this server (tests start several at once); removed after the server stops.
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    /// initdb refuses to run as root: as root, the server runs as the `postgres` user.
    as_postgres: bool,
}

fn binaries() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("REDBOOK_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|bin| bin.join("initdb").exists());
    versions.sort();
    versions.pop().ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            "PostgreSQL's binaries were not found: run scripts/test.sh (it installs them) \
             or set REDBOOK_PG_BIN",
        )
    })
}

/// A loopback port nothing listens on now and no server of this process was given: the
/// system may hand a just-closed port out again, and two servers on one port would clash.
fn free_port() -> Result<u16> {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut given = GIVEN
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
}

/// Another process may bind the port between its choice and the server's start.
const START_ATTEMPTS: usize = 3;

impl PrivateServer {
    /// A new, empty server, started.
    pub fn start() -> Result<Self> {
        let bin = binaries()?;
        let dir = tempfile::Builder::new().prefix("redbook-pg-").tempdir()?;
        let as_postgres = std::env::var("USER").as_deref() == Ok("root")
            || Command::new("id").arg("-u").output()?.stdout == b"0\n";
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()))?;
        }
        let mut server = Self {
            dir,
            bin,
            port: free_port()?,
            as_postgres,
        };
        let data = server.dir.path().join("data");
        server.pg(
            "initdb",
            &[
                "-D",
                path(&data),
                "-A",
                "trust",
                "-U",
                "redbook",
                "--no-sync",
            ],
        )?;
        let mut attempt = 1;
        while let Err(error) = server.resume() {
            if attempt == START_ATTEMPTS {
                return Err(error);
            }
            attempt += 1;
            server.port = free_port()?;
        }
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("postgresql://redbook@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn pause(&self) -> Result<()> {
        let data = self.dir.path().join("data");
        self.pg("pg_ctl", &["-D", path(&data), "-m", "fast", "-w", "stop"])
    }

    /// Starts it again on the same port with the same data.
    pub fn resume(&self) -> Result<()> {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log");
        self.pg(
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-o",
                &options,
                "-l",
                path(&log),
                "-w",
                "start",
            ],
        )
    }

    /// Every file the server keeps (for tests that look for what it must not hold).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg(&self, program: &str, args: &[&str]) -> Result<()> {
        let program = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        run(command.args(args))
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn run(command: &mut Command) -> Result<()> {
    let output = command.output()?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::other(format!(
            "{:?} failed: {}",
            command.get_program(),
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        // The directory itself goes when `dir` drops, after this.
        let _ = self.pause();
    }
}
