//! Prometheus metrics of one node, served on their own listener.

use std::sync::Arc;

use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};
use tokio_util::sync::CancellationToken;

/// How a task ended on this node.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `paid`, `unpaid` (settled without pay: no majority, refunded), `slashed`, `declined`.
    pub outcome: String,
}

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Tasks by outcome.
    pub tasks: Family<OutcomeLabels, Counter>,
    /// Wall time of executions.
    pub execution_seconds: Histogram,
    /// Fuel consumed.
    pub fuel: Counter,
    /// Tokens withdrawn from the market (whole tokens, 18 decimals).
    pub earnings_tokens: Counter<f64, std::sync::atomic::AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("verity_node");
        let tasks = Family::<OutcomeLabels, Counter>::default();
        registry.register("tasks", "Tasks by outcome", tasks.clone());
        let execution_seconds = Histogram::new([0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0, 60.0]);
        registry.register(
            "execution_seconds",
            "Wall time of executions",
            execution_seconds.clone(),
        );
        let fuel = Counter::default();
        registry.register("fuel", "Fuel consumed by executions", fuel.clone());
        let earnings_tokens = Counter::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "earnings_tokens",
            "Tokens withdrawn from the market",
            earnings_tokens.clone(),
        );
        Self {
            registry,
            tasks,
            execution_seconds,
            fuel,
            earnings_tokens,
        }
    }
}

impl Metrics {
    /// Counts one task outcome.
    pub fn outcome(&self, outcome: &str) {
        self.tasks
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// `GET /metrics`.
pub fn app(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(metrics)
}

async fn render(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
}

/// Serves `/metrics` until cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, app(metrics))
        .with_graceful_shutdown(cancel.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_their_labels_and_units() {
        let m = Metrics::default();
        m.outcome("paid");
        m.outcome("paid");
        m.outcome("declined");
        m.fuel.inc_by(1234);
        m.execution_seconds.observe(0.2);
        let text = m.render();
        assert!(
            text.contains("verity_node_tasks_total{outcome=\"paid\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("verity_node_tasks_total{outcome=\"declined\"} 1"),
            "{text}"
        );
        assert!(text.contains("verity_node_fuel_total 1234"), "{text}");
        assert!(
            text.contains("verity_node_execution_seconds_count 1"),
            "{text}"
        );
    }
}
