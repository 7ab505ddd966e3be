//! The EventBridge events the emulator publishes, delivered to an optional collector
//! (`--events-to URL`) by one worker, so that they arrive in the order they happened.

use serde_json::Value;
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum EventSinkError {
    #[error("--events-to {url}: {problem}")]
    Url { url: String, problem: String },
    #[error("--events-to: cannot build an HTTP client: {0}")]
    Client(reqwest::Error),
}

/// A collector that receives every event as a JSON `POST`.
#[derive(Debug)]
pub struct EventSink {
    queue: mpsc::UnboundedSender<Value>,
}

impl EventSink {
    /// Checks the URL and starts the delivery worker; needs a Tokio runtime.
    pub fn start(url: &str) -> Result<Self, EventSinkError> {
        let invalid = |problem: String| EventSinkError::Url {
            url: url.to_owned(),
            problem,
        };
        let parsed = reqwest::Url::parse(url).map_err(|error| invalid(error.to_string()))?;
        // The emulator speaks plain HTTP only: collectors are local test fixtures.
        if parsed.scheme() != "http" {
            return Err(invalid("only http:// URLs are supported".to_owned()));
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(EventSinkError::Client)?;
        let (queue, mut events) = mpsc::unbounded_channel::<Value>();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                deliver(&client, &parsed, &event).await;
            }
        });
        Ok(Self { queue })
    }

    pub fn publish(&self, event: Value) {
        // The worker lives as long as the runtime; once it is gone, so is the emulator.
        if self.queue.send(event).is_err() {
            tracing::warn!("the event delivery worker has stopped; event dropped");
        }
    }
}

/// One attempt per event: a collector that is down loses events, as EventBridge
/// delivery is best effort too; the log says so.
async fn deliver(client: &reqwest::Client, url: &reqwest::Url, event: &Value) {
    match client.post(url.clone()).json(event).send().await {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => {
            tracing::warn!(%url, status = %response.status(), "the event collector refused an event")
        }
        Err(error) => tracing::warn!(%url, %error, "cannot deliver an event to the collector"),
    }
}
