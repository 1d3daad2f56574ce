//! The coordinator's HTTP API: the REST endpoints (tasks, disputes, nodes, stats, heartbeats), the
//! OpenAPI document, Prometheus `/metrics` and the web dashboard.
//!
//! [`app`] builds the router without a socket (tests call it with `oneshot`); [`serve`] runs
//! it on a listener until cancelled. Input is strict: JSON bodies need
//! `Content-Type: application/json`, stay under the size limit and have no unknown fields or
//! trailing bytes; query strings may only hold the endpoint's parameters, once each; pages are
//! at most [`MAX_LIMIT`] rows. Every error is a JSON body `{"error": {"code", "message"}}`
//! with a stable code ([`codes`]) and a status that says whose fault it is.
//!
//! The API only reads what the indexer wrote and accepts heartbeats. It never creates tasks:
//! a task is created on chain by its client (the SDK or `verity task submit`), which escrows
//! the bounty from its own account, and appears here once indexed. `POST /v1/tasks` answers
//! 405 with code `V-API-014` saying so.

mod dashboard;
mod disputes;
mod error;
mod heartbeats;
mod input;
mod logs;
mod metrics;
mod model;
mod nodes;
mod openapi;
mod stats;
mod tasks;

use std::{future::Future, sync::Arc};

use alloy::primitives::Address;
use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
    routing::{MethodRouter, get, post},
};

pub use dashboard::DASHBOARD_HTML;
pub use error::{ApiError, codes};
pub use input::{DEFAULT_LIMIT, MAX_LIMIT};
pub use logs::{LogAccepted, SeatLog, TaskLogs};
pub use metrics::{ApiMetrics, PREFIX as METRICS_PREFIX, RequestLabels, RouteLabels};
pub use model::{
    BallotView, DisputePhase, DisputeView, NodeDetail, NodeSpec, NodeStatus, NodeSummary,
    OutcomeView, PageOf, ReassignmentView, SeatView, Stats, TaskDetail, TaskResult, TaskSummary,
    Verification, VoteCount,
};
pub use openapi::OPENAPI_JSON;
pub use stats::{LATENCY_SAMPLE, THROUGHPUT_WINDOW_SECS};

use crate::{
    clock::Clock,
    disputes::DisputeReader,
    heartbeat::HeartbeatIntake,
    liveness::LivenessPolicy,
    reputation::ReputationPolicy,
    store::{Store, Views},
};

/// The deployment the coordinator serves, as `/v1/stats` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkInfo {
    /// Chain id.
    pub chain_id: u64,
    /// TaskMarket contract.
    pub market: Address,
    /// NodeRegistry contract.
    pub registry: Address,
}

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub struct ApiState {
    /// Heartbeat verification and storage.
    pub intake: Arc<HeartbeatIntake>,
    /// The chain projection.
    pub store: Arc<dyn Store>,
    /// Read-only queries beyond the store's (the same database).
    pub views: Arc<dyn Views>,
    /// The coordinator's clock (liveness, reputation decay).
    pub clock: Arc<dyn Clock>,
    /// The deployment.
    pub network: NetworkInfo,
    /// When a node counts as late or down.
    pub liveness: LivenessPolicy,
    /// How outcomes become a reputation score.
    pub reputation: ReputationPolicy,
    /// The registry `/metrics` renders (HTTP metrics, plus the indexer's and assigner's when
    /// built with [`ApiMetrics::with_coordinator`]).
    pub metrics: Arc<ApiMetrics>,
    /// The dispute court, read on request for `/v1/disputes` (`None` without a deployment:
    /// that endpoint then answers 503).
    pub disputes: Option<Arc<dyn DisputeReader>>,
}

/// One routed method and path (axum's `{param}` syntax, as in the OpenAPI document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    /// The method, upper case.
    pub method: &'static str,
    /// The path template.
    pub path: &'static str,
}

/// The route table: [`app`] is built from it, so [`routes`] is exactly what is served.
fn table() -> Vec<(Route, MethodRouter<ApiState>)> {
    let r = |method, path| Route { method, path };
    vec![
        (r("GET", "/"), get(dashboard::page)),
        (r("GET", "/dashboard"), get(dashboard::page)),
        (r("GET", "/openapi.json"), get(openapi::document)),
        (r("GET", "/metrics"), get(metrics::render)),
        (r("GET", "/v1/stats"), get(stats::stats)),
        (r("GET", "/v1/tasks"), get(tasks::list)),
        (r("POST", "/v1/tasks"), post(tasks::create_refused)),
        (r("GET", "/v1/tasks/{id}"), get(tasks::detail)),
        (r("GET", "/v1/tasks/{id}/result"), get(tasks::result)),
        (r("GET", "/v1/tasks/{id}/logs"), get(logs::list)),
        (r("POST", "/v1/tasks/{id}/logs"), post(logs::post)),
        (r("GET", "/v1/disputes"), get(disputes::list)),
        (r("GET", "/v1/nodes"), get(nodes::list)),
        (r("GET", "/v1/nodes/{operator}"), get(nodes::detail)),
        (r("POST", "/v1/heartbeats"), post(heartbeats::post)),
        (r("POST", "/v1/heartbeats/echo"), post(heartbeats::echo)),
    ]
}

/// Every method and path the router serves (`POST /v1/tasks` only to refuse it).
pub fn routes() -> Vec<Route> {
    table().into_iter().map(|(r, _)| r).collect()
}

/// Builds the router. `max_body_bytes` bounds every request body.
pub fn app(state: ApiState, max_body_bytes: usize) -> Router {
    let mut router = Router::new();
    for (route, method_router) in table() {
        // Routing one path twice merges the methods.
        router = router.route(route.path, method_router);
    }
    router
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        codes::NO_ROUTE,
        format!(
            "no route {method} {}; see /openapi.json",
            uri.path().chars().take(128).collect::<String>()
        ),
    )
    .into_response()
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    let allowed: Vec<&str> = routes()
        .iter()
        .filter(|r| path_matches(r.path, path))
        .map(|r| r.method)
        .collect();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        format!(
            "{method} is not allowed here; allowed: {}",
            if allowed.is_empty() {
                "see /openapi.json".to_owned()
            } else {
                allowed.join(", ")
            }
        ),
    )
    .into_response()
}

/// Whether a concrete path fits a template (`{x}` matches one segment).
fn path_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_one_segment_per_parameter() {
        assert!(path_matches("/v1/tasks/{id}", "/v1/tasks/7"));
        assert!(!path_matches("/v1/tasks/{id}", "/v1/tasks/"));
        assert!(!path_matches("/v1/tasks/{id}", "/v1/tasks/7/result"));
        assert!(path_matches("/v1/tasks", "/v1/tasks"));
    }

    #[test]
    fn the_route_table_has_no_duplicates() {
        let mut r = routes();
        let n = r.len();
        r.sort();
        r.dedup();
        assert_eq!(r.len(), n);
    }
}
