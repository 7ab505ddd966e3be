//! Throughput of the emulator over loopback: starts the bench-built binary, seeds it, and
//! drives simple API calls over a few keep-alive connections for a bounded number of
//! requests, printing requests per second and p50/p99 latency.
//!
//!     cargo bench -p connections-emulator --bench throughput

use std::time::{Duration, Instant};

use connections_emulator::launcher::{Launcher, RunningEmulator};
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_connections-emulator");
/// Keep-alive connections, each driven by one task issuing requests back to back.
const CONNECTIONS: usize = 4;
const WARM_UP_REQUESTS: usize = 2_000;
const MEASURED_REQUESTS: usize = 40_000;
const SEEDED_CONNECTIONS: usize = 500;

fn start_emulator() -> RunningEmulator {
    Launcher::new(BINARY)
        .env("RUST_LOG", "warn")
        .start()
        .expect("the emulator starts and announces its address")
}

#[derive(Clone, Copy)]
enum Workload {
    GetConnection,
    ListConnections,
    Mixed,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Self::GetConnection => "GetConnection",
            Self::ListConnections => "ListConnections (MaxResults 10)",
            Self::Mixed => "GetConnection + ListConnections",
        }
    }

    /// The operation and body of the n-th request.
    fn request(self, n: usize, connection_arn: &str) -> (&'static str, String) {
        let get = (
            "GetConnection",
            json!({"ConnectionArn": connection_arn}).to_string(),
        );
        let list = ("ListConnections", json!({"MaxResults": 10}).to_string());
        match self {
            Self::GetConnection => get,
            Self::ListConnections => list,
            Self::Mixed if n.is_multiple_of(2) => get,
            Self::Mixed => list,
        }
    }
}

/// Runs `total` requests split over the connections; answers the wall time and every latency.
async fn drive(
    endpoint: &str,
    workload: Workload,
    total: usize,
    connection_arn: &str,
) -> (Duration, Vec<Duration>) {
    let per_connection = total / CONNECTIONS;
    let started = Instant::now();
    let workers = (0..CONNECTIONS).map(|_| {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(1)
            .build()
            .expect("an HTTP client");
        let url = format!("{endpoint}/");
        let connection_arn = connection_arn.to_owned();
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_connection);
            for n in 0..per_connection {
                let (operation, body) = workload.request(n, &connection_arn);
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header(
                        "X-Amz-Target",
                        format!("CodeStar_connections_20191201.{operation}"),
                    )
                    .header("Content-Type", "application/x-amz-json-1.0")
                    .body(body)
                    .send()
                    .await
                    .expect("the emulator answers");
                let status = response.status();
                response.bytes().await.expect("a body");
                latencies.push(sent.elapsed());
                assert!(status.is_success(), "{operation} answered {status}");
            }
            latencies
        })
    });
    let mut latencies = Vec::with_capacity(total);
    for worker in futures::future::join_all(workers).await {
        latencies.extend(worker.expect("a worker finished"));
    }
    (started.elapsed(), latencies)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn main() {
    let emulator = start_emulator();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let seed = json!({
            "Connections": (0..SEEDED_CONNECTIONS)
                .map(|i| json!({"Name": format!("bench-{i}"), "ProviderType": "GitHub", "Status": "AVAILABLE"}))
                .collect::<Vec<_>>()
        });
        let http = reqwest::Client::builder().no_proxy().build().expect("an HTTP client");
        let seeded = http
            .post(emulator.admin_url("seed"))
            .json(&seed)
            .send()
            .await
            .expect("the emulator answers");
        assert!(seeded.status().is_success(), "seeding failed");
        let state: serde_json::Value = http
            .get(emulator.admin_url("state"))
            .send()
            .await
            .expect("the emulator answers")
            .json()
            .await
            .expect("the state");
        let connection_arn = state["Connections"][SEEDED_CONNECTIONS / 2]["ConnectionArn"]
            .as_str()
            .expect("a seeded connection")
            .to_owned();

        println!(
            "connections-emulator throughput: {MEASURED_REQUESTS} requests per workload over {CONNECTIONS} keep-alive connections, \
             {SEEDED_CONNECTIONS} connections in state, client and server on this machine"
        );
        for workload in [Workload::GetConnection, Workload::ListConnections, Workload::Mixed] {
            drive(emulator.endpoint(), workload, WARM_UP_REQUESTS, &connection_arn).await;
            let (elapsed, mut latencies) = drive(emulator.endpoint(), workload, MEASURED_REQUESTS, &connection_arn).await;
            latencies.sort_unstable();
            let per_second = latencies.len() as f64 / elapsed.as_secs_f64();
            println!(
                "  {:<34} {:>8.0} requests/s   p50 {:>6} µs   p99 {:>6} µs",
                workload.name(),
                per_second,
                percentile(&latencies, 0.50).as_micros(),
                percentile(&latencies, 0.99).as_micros(),
            );
        }
    });
}
