//! A minimal Lambda Runtime API for one function process: it hands out one event, records
//! when the process first asked for work and when it answered, and keeps the process waiting
//! after that.

use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

use crate::cgroup::CpuCgroup;

const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

#[derive(Default)]
struct Timeline {
    first_next: Option<Instant>,
    /// The same moment on the wall clock, to compare with the child's exec.
    first_next_wall: Option<SystemTime>,
    answered: Option<Instant>,
    failed: Option<String>,
    body: Option<Value>,
}

struct Shared {
    event: Value,
    timeline: Mutex<Timeline>,
    done: Notify,
}

/// What one run of a function process looked like.
#[derive(Debug, Clone)]
pub struct Run {
    /// From the process's exec (inside its cgroup, if any) to its first
    /// `GET /runtime/invocation/next`.
    pub init: Duration,
    /// From handing out the event to the function's response.
    pub invocation: Duration,
    pub response: Value,
    /// Peak resident memory of the process (VmHWM), in KiB.
    pub peak_rss_kib: u64,
    /// How long the process waited for its CPU quota, when it ran in a capped cgroup.
    pub throttled: Option<Duration>,
}

pub struct RuntimeApi {
    pub address: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Timeline> {
    shared.timeline.lock().unwrap_or_else(|p| p.into_inner())
}

impl RuntimeApi {
    pub async fn start(event: Value) -> Result<Self, String> {
        let shared = Arc::new(Shared {
            event,
            timeline: Mutex::new(Timeline::default()),
            done: Notify::new(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|err| format!("runtime API listener: {err}"))?;
        let address = listener
            .local_addr()
            .map_err(|err| format!("runtime API address: {err}"))?
            .to_string();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stop.await;
                })
                .await;
        });
        Ok(Self {
            address,
            shared,
            shutdown: Some(shutdown),
        })
    }

    /// Spawns `command` against this API (inside `cgroup` from its first instruction, if
    /// given), waits for its answer (at most `timeout`), then stops it.
    pub async fn run(
        &self,
        mut command: tokio::process::Command,
        timeout: Duration,
        cgroup: Option<&CpuCgroup>,
    ) -> Result<Run, String> {
        command
            .env("AWS_LAMBDA_RUNTIME_API", &self.address)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let procs = cgroup.map(CpuCgroup::procs).transpose()?;
        let (mut stamps, stamp) = std::io::pipe().map_err(|err| format!("pipe: {err}"))?;
        // SAFETY: the closure runs in the forked child before exec and only makes system calls
        // on files opened beforehand (no allocation, no lock): "0" moves the calling process
        // into the cgroup, so everything the child executes runs under its quota; then it
        // sends the wall-clock time it is about to exec at. Init starts there: the fork of
        // the runner and the move (an RCU grace period in cgroup v1, milliseconds) are the
        // bench's, not the function's.
        unsafe {
            command.pre_exec(move || {
                if let Some(procs) = &procs {
                    (&*procs).write_all(b"0")?;
                }
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                (&stamp).write_all(&now.to_le_bytes())
            });
        }
        let mut child = command.spawn().map_err(|err| format!("spawn: {err}"))?;
        let mut exec_ns = [0u8; 16];
        stamps
            .read_exact(&mut exec_ns)
            .map_err(|err| format!("the child's exec time: {err}"))?;
        let exec = UNIX_EPOCH + Duration::from_nanos(u128::from_le_bytes(exec_ns) as u64);
        let waited = tokio::time::timeout(timeout, self.shared.done.notified()).await;
        let peak_rss_kib = child.id().map(peak_rss_kib).unwrap_or(0);
        let _ = child.kill().await;
        let throttled = cgroup.and_then(CpuCgroup::throttled);
        waited.map_err(|_| format!("no answer within {timeout:?}"))?;
        let timeline = lock(&self.shared);
        if let Some(failure) = &timeline.failed {
            return Err(format!("the function failed: {failure}"));
        }
        let (Some(first_next), Some(first_next_wall), Some(answered)) = (
            timeline.first_next,
            timeline.first_next_wall,
            timeline.answered,
        ) else {
            return Err("the function answered without asking for work".into());
        };
        Ok(Run {
            init: first_next_wall.duration_since(exec).unwrap_or_default(),
            invocation: answered.duration_since(first_next),
            response: timeline.body.clone().unwrap_or(Value::Null),
            peak_rss_kib,
            throttled,
        })
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// VmHWM from /proc: the process's peak resident set, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn next(State(shared): State<Arc<Shared>>) -> (StatusCode, HeaderMap, String) {
    let first = {
        let mut timeline = lock(&shared);
        let first = timeline.first_next.is_none();
        if first {
            timeline.first_next = Some(Instant::now());
            timeline.first_next_wall = Some(SystemTime::now());
        }
        first
    };
    if !first {
        // One event per process: the second ask waits until the process is stopped.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
        + 900_000;
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", REQUEST_ID.to_owned()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".to_owned(),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, shared.event.to_string())
}

async fn response(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    {
        let mut timeline = lock(&shared);
        timeline.answered = Some(Instant::now());
        timeline.body = serde_json::from_slice(&body).ok();
    }
    shared.done.notify_one();
    StatusCode::ACCEPTED
}

async fn error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    {
        let mut timeline = lock(&shared);
        timeline.answered = Some(Instant::now());
        timeline.failed = Some(String::from_utf8_lossy(&body).into_owned());
    }
    shared.done.notify_one();
    StatusCode::ACCEPTED
}
