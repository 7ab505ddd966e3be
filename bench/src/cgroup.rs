//! Lambda's CPU share for a function process: a CPU cgroup capped at `memory / 1,769 MB` of one
//! vCPU (1,769 MB is one vCPU, so 128 MB gets 0.072 of one), through cgroup v1's
//! `cpu.cfs_quota_us` / `cpu.cfs_period_us` or cgroup v2's `cpu.max`, whichever this machine
//! lets us write. One fresh cgroup per process run, removed after it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Lambda's memory size for one whole vCPU.
pub const MB_PER_VCPU: f64 = 1769.0;
/// The kernel refuses a quota under 1 ms.
const MIN_QUOTA_US: u64 = 1000;

static NEXT: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
}

/// Where this machine lets us make CPU-capped cgroups.
#[derive(Debug, Clone)]
pub struct CpuControl {
    pub version: Version,
    /// The directory new cgroups are made in.
    pub parent: PathBuf,
    pub period_us: u64,
}

/// One cgroup capped at a share of a vCPU; removed on drop (once its processes are gone).
pub struct CpuCgroup {
    dir: PathBuf,
    version: Version,
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value)
        .map_err(|err| format!("writing {value:?} to {}: {err}", path.display()))
}

/// The mount point of the hierarchy with the `cpu` controller (v1), or of cgroup2, from
/// /proc/self/mountinfo.
fn mounts() -> (Option<PathBuf>, Option<PathBuf>) {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let (mut v1, mut v2) = (None, None);
    for line in info.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mount_point = left.split(' ').nth(4).map(PathBuf::from);
        let mut right = right.split(' ');
        let fs_type = right.next().unwrap_or_default();
        let options = right.nth(1).unwrap_or_default();
        match fs_type {
            "cgroup" if options.split(',').any(|o| o == "cpu") => v1 = v1.or(mount_point),
            "cgroup2" => v2 = v2.or(mount_point),
            _ => {}
        }
    }
    (v1, v2)
}

/// This process's own cgroup path in the v1 `cpu` hierarchy (`""` for v2), from /proc/self/cgroup.
fn own_path(v1: bool) -> String {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    cgroups
        .lines()
        .find_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let matches = if v1 {
                controllers.split(',').any(|c| c == "cpu")
            } else {
                controllers.is_empty()
            };
            matches.then(|| path.trim_start_matches('/').to_owned())
        })
        .unwrap_or_default()
}

impl CpuControl {
    /// Finds a writable CPU controller and proves it by making, capping and removing a cgroup.
    /// The error says why neither version can be used.
    pub fn detect(period_us: u64) -> Result<Self, String> {
        let (v1, v2) = mounts();
        let mut reasons = Vec::new();
        if let Some(mount) = v1 {
            let control = Self {
                version: Version::V1,
                parent: mount.join(own_path(true)),
                period_us,
            };
            match control.create(0.5) {
                Ok(_probe) => return Ok(control),
                Err(err) => reasons.push(format!("cgroup v1 at {}: {err}", mount.display())),
            }
        } else {
            reasons.push("no cgroup v1 hierarchy with the cpu controller".into());
        }
        if let Some(mount) = v2 {
            let control = Self {
                version: Version::V2,
                parent: mount.join(own_path(false)),
                period_us,
            };
            let controllers = std::fs::read_to_string(control.parent.join("cgroup.controllers"))
                .unwrap_or_default();
            if !controllers.split_whitespace().any(|c| c == "cpu") {
                reasons.push(format!(
                    "cgroup v2 at {}: the cpu controller is not available there",
                    control.parent.display()
                ));
            } else {
                // Children get the cpu controller only if the parent hands it down.
                let _ = std::fs::write(control.parent.join("cgroup.subtree_control"), "+cpu");
                match control.create(0.5) {
                    Ok(_probe) => return Ok(control),
                    Err(err) => reasons.push(format!("cgroup v2 at {}: {err}", mount.display())),
                }
            }
        } else {
            reasons.push("no cgroup2 mount".into());
        }
        Err(reasons.join("; "))
    }

    /// The quota for `vcpu` of one CPU per period.
    pub fn quota_us(&self, vcpu: f64) -> u64 {
        ((self.period_us as f64 * vcpu).round() as u64).max(MIN_QUOTA_US)
    }

    /// A new cgroup capped at `vcpu` of one CPU.
    pub fn create(&self, vcpu: f64) -> Result<CpuCgroup, String> {
        let name = format!(
            "gitsync-bench.{}.{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let dir = self.parent.join(name);
        std::fs::create_dir(&dir).map_err(|err| format!("mkdir {}: {err}", dir.display()))?;
        let cgroup = CpuCgroup {
            dir,
            version: self.version,
        };
        let quota = self.quota_us(vcpu);
        match self.version {
            Version::V1 => {
                write(
                    &cgroup.dir.join("cpu.cfs_period_us"),
                    &self.period_us.to_string(),
                )?;
                write(&cgroup.dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
            }
            Version::V2 => write(
                &cgroup.dir.join("cpu.max"),
                &format!("{quota} {}", self.period_us),
            )?,
        }
        Ok(cgroup)
    }
}

impl CpuCgroup {
    /// `cgroup.procs`, opened for writing: a process that writes "0" to it moves itself in.
    /// Open it before forking, so the child only writes (no allocation between fork and exec).
    pub fn procs(&self) -> Result<File, String> {
        let path = self.dir.join("cgroup.procs");
        OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|err| format!("{}: {err}", path.display()))
    }

    /// How long the cgroup's processes waited for their quota so far.
    pub fn throttled(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(self.dir.join("cpu.stat")).ok()?;
        let (key, unit_ns) = match self.version {
            Version::V1 => ("throttled_time", 1),
            Version::V2 => ("throttled_usec", 1000),
        };
        stat.lines().find_map(|line| {
            let (name, value) = line.split_once(' ')?;
            (name == key)
                .then(|| value.trim().parse::<u64>().ok())
                .flatten()
                .map(|v| Duration::from_nanos(v * unit_ns))
        })
    }
}

impl Drop for CpuCgroup {
    fn drop(&mut self) {
        // A process that was just killed may take a moment to leave.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() || !self.dir.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("could not remove the cgroup {}", self.dir.display());
    }
}
