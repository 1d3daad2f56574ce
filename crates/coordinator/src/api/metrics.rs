//! `GET /metrics`: Prometheus text for the coordinator — the HTTP layer's own request counts
//! and latencies, plus whatever else is registered in the same registry (the indexer's and
//! assigner's [`crate::metrics::CoordinatorMetrics`]).

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

use crate::metrics::CoordinatorMetrics;

/// Every metric name gets this prefix.
pub const PREFIX: &str = "verity_coordinator";

/// Labels of a request count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template (`/v1/tasks/{id}`), or `unmatched`.
    pub route: String,
    /// The method (`GET`, `POST`, ..., or `other`).
    pub method: String,
    /// The status code.
    pub status: u16,
}

/// Labels of a latency histogram.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template, or `unmatched`.
    pub route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

/// The registry `/metrics` renders, and the HTTP layer's metrics in it.
#[derive(Debug)]
pub struct ApiMetrics {
    registry: Registry,
    /// Requests by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Time to answer, by route, seconds.
    pub duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl ApiMetrics {
    /// The HTTP metrics alone.
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    /// The HTTP metrics and the indexer's and assigner's.
    pub fn with_coordinator(coordinator: &CoordinatorMetrics) -> Self {
        Self::with(|r| coordinator.register(r))
    }

    /// The HTTP metrics plus whatever `register` adds (names get [`PREFIX`]).
    pub fn with(register: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let duration = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            duration.clone(),
        );
        register(&mut registry);
        Self {
            registry,
            requests,
            duration,
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(target: "coordinator::api", error = %e, "encoding metrics failed");
        }
        out
    }
}

impl Default for ApiMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Bounded label values: arbitrary methods must not create arbitrary series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Middleware: counts and times every request by its route template.
pub(crate) async fn track(
    State(metrics): State<Arc<ApiMetrics>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let resp = next.run(req).await;
    metrics
        .duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method: method.to_owned(),
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}

/// `GET /metrics`.
pub(crate) async fn render(State(state): State<super::ApiState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
