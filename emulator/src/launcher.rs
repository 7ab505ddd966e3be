//! Starts a built emulator binary as a child process, for other crates' tests, demos and
//! benchmarks that need the real process: it reads the `listening on http://...` line the
//! binary announces, and stops the process when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const ANNOUNCEMENT: &str = "listening on ";

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("cannot read the emulator's address from its stdout: {0}")]
    Read(std::io::Error),
    #[error("unexpected first line from the emulator: {0:?}")]
    Announcement(String),
}

/// How to start the emulator: `--listen 127.0.0.1:0` plus whatever arguments are added.
pub struct Launcher {
    command: Command,
    binary: String,
}

impl Launcher {
    pub fn new(binary: impl AsRef<Path>) -> Self {
        let binary = binary.as_ref();
        let mut command = Command::new(binary);
        command
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        Self {
            command,
            binary: binary.display().to_string(),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn scenario(mut self, scenario: impl AsRef<Path>) -> Self {
        self.command.arg("--scenario").arg(scenario.as_ref());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Where the emulator's logs go; the parent's stderr unless set.
    pub fn stderr(mut self, stderr: Stdio) -> Self {
        self.command.stderr(stderr);
        self
    }

    /// Starts the process and waits until it announces its address.
    pub fn start(mut self) -> Result<RunningEmulator, LaunchError> {
        let mut child = self.command.spawn().map_err(|source| LaunchError::Spawn {
            binary: self.binary,
            source,
        })?;
        // Built this way the running emulator owns the child from here on, so every early
        // return below stops the process.
        let stdout = child.stdout.take();
        let mut running = RunningEmulator {
            child,
            endpoint: String::new(),
        };
        let mut line = String::new();
        if let Some(stdout) = stdout {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(LaunchError::Read)?;
        }
        running.endpoint = line
            .trim_end()
            .strip_prefix(ANNOUNCEMENT)
            .ok_or_else(|| LaunchError::Announcement(line.clone()))?
            .to_owned();
        Ok(running)
    }
}

/// A running emulator, stopped when dropped.
pub struct RunningEmulator {
    child: Child,
    endpoint: String,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT`, as the emulator announced it.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The URL of an admin API endpoint, e.g. `admin_url("state")`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("{}/_emulator/{path}", self.endpoint)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit (after a signal); `None` if it is
    /// still running then.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        // Killing a process that already exited fails harmlessly; waiting reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
