//! A private PostgreSQL server for tests, benchmarks and the load test: its own data
//! directory and port on loopback, gone when dropped, restartable under a running relay.
//! Needs PostgreSQL's binaries (Debian: `postgresql`; `scripts/test.sh` installs them);
//! `REDBOOK_PG_BIN` names their folder if it is not `/usr/lib/postgresql/<version>/bin`.

use std::io::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PrivateServer {
    dir: PathBuf,
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

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl PrivateServer {
    /// A new, empty server, started.
    pub fn start() -> Result<Self> {
        let bin = binaries()?;
        let dir = std::env::temp_dir().join(format!(
            "redbook-pg-{}-{}",
            std::process::id(),
            free_port()?
        ));
        std::fs::create_dir_all(&dir)?;
        let as_postgres = std::env::var("USER").as_deref() == Ok("root")
            || Command::new("id").arg("-u").output()?.stdout == b"0\n";
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(&dir))?;
        }
        let server = Self {
            dir,
            bin,
            port: free_port()?,
            as_postgres,
        };
        let data = server.dir.join("data");
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
        server.resume()?;
        Ok(server)
    }

    pub fn url(&self) -> String {
        format!("postgresql://redbook@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast shutdown: open connections are cut).
    pub fn pause(&self) -> Result<()> {
        let data = self.dir.join("data");
        self.pg("pg_ctl", &["-D", path(&data), "-m", "fast", "-w", "stop"])
    }

    /// Starts it again on the same port with the same data.
    pub fn resume(&self) -> Result<()> {
        let data = self.dir.join("data");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
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
        self.dir.join("data")
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
        let _ = self.pause();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
