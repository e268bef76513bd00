//! The read-only dashboard: an axum 0.8 router over a [`ReadModel`] with server-rendered
//! HTML pages (charts as inline SVG), JSON under `/api`, Prometheus `/metrics`, `/healthz`
//! and `/deadlines.ics`. GET and HEAD only; loopback by default, credentials otherwise.

pub mod api;
pub mod auth;
pub mod charts;
pub mod html;
pub mod ics;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod recovery;
pub mod store_model;

use crate::clock::Clock;
use crate::config::Dashboard;
use crate::view::{DeadlineRow, HoldRow, ReadModel, TrendPoint};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;

pub use auth::{Auth, AuthError};

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub model: Arc<dyn ReadModel>,
    pub clock: Clock,
    pub auth: Arc<Auth>,
}

/// Why the dashboard stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Clock(String),
    #[error("dashboard on {addr}: {source}")]
    Io { addr: String, source: std::io::Error },
}

/// Days of message volume on the overview.
pub const VOLUME_DAYS: i64 = 60;
/// The overview's deadline window.
pub const DEADLINE_DAYS: i64 = 30;

/// Messages on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub messages: u64,
}

/// Rows of each list on the overview (the totals are given beside them).
pub const OVERVIEW_ROWS: usize = 50;

/// What the overview shows (`/api/overview`): lists are the first [`OVERVIEW_ROWS`], with totals.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub now: DateTime<FixedOffset>,
    pub entries: u64,
    /// Open holds of any severity.
    pub open_holds: usize,
    pub open_critical_holds_total: usize,
    /// The oldest open critical holds.
    pub open_critical_holds: Vec<HoldRow>,
    pub deadlines_next_30_days_total: usize,
    /// The soonest deadlines of the next 30 days.
    pub deadlines_next_30_days: Vec<DeadlineRow>,
    pub message_volume: Vec<DayCount>,
    pub cycle_trend: Vec<TrendPoint>,
}

/// Gather the overview from the model's aggregate queries.
pub fn overview(model: &dyn ReadModel, now: DateTime<FixedOffset>) -> Overview {
    let today = now.date_naive();
    let critical = model.open_holds(true, OVERVIEW_ROWS);
    let deadlines = model.deadlines_between(today, today + Duration::days(DEADLINE_DAYS), OVERVIEW_ROWS);
    Overview {
        now,
        entries: model.metrics().entries,
        open_holds: model.open_holds(false, 0).total,
        open_critical_holds_total: critical.total,
        open_critical_holds: critical.rows,
        deadlines_next_30_days_total: deadlines.total,
        deadlines_next_30_days: deadlines.rows,
        message_volume: model
            .message_volume(today - Duration::days(VOLUME_DAYS - 1), today)
            .into_iter()
            .map(|(day, messages)| DayCount { day, messages })
            .collect(),
        cycle_trend: model.cycle_trend(),
    }
}

/// Run a handler's model work off the async threads.
pub(crate) async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

async fn guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")], "read-only: GET and HEAD only\n")
            .into_response();
    }
    if req.uri().path() != "/healthz" {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if !s.auth.allows(given) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, s.auth.challenge())],
                "authorization required\n",
            )
                .into_response();
        }
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The dashboard's routes over a model (tests serve this on their own listener).
pub fn router(model: Arc<dyn ReadModel>, clock: Clock, auth: Auth) -> Router {
    let state = AppState { model, clock, auth: Arc::new(auth) };
    Router::new()
        .route("/", get(pages::overview))
        .route("/entries", get(pages::entries))
        .route("/entries/{entry}", get(pages::entry))
        .route("/brokers", get(pages::brokers))
        .route("/deadlines", get(pages::deadlines))
        .route("/deadlines.ics", get(ics::deadlines_ics))
        .route("/recovery", get(recovery::recovery))
        .route("/api/overview", get(api::overview))
        .route("/api/entries", get(api::entries))
        .route("/api/entries/{entry}", get(api::entry))
        .route("/api/brokers", get(api::brokers))
        .route("/api/deadlines", get(api::deadlines))
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(healthz))
        .fallback(pages::not_found)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// `ok` (200), or 503 with one line per open problem ([`crate::health`]): a file stuck after
/// its claim, a store write that failed, a task that stopped.
async fn healthz() -> Response {
    let problems = crate::health::problems();
    if problems.is_empty() {
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok\n").into_response();
    }
    let mut text = String::from("failing\n");
    for (part, what) in problems {
        text.push_str(&format!(
            "{}: {}\n",
            crate::logging::escape_control(&part),
            crate::logging::escape_control(&what)
        ));
    }
    (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// Serve a router on a bound listener until `shutdown` completes.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let listener = limits::LimitedListener::new(listener, limits::Limits::from_env());
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(|source| WebError::Io { addr, source })
}

/// Check the config (listen rule, credentials), bind and serve until `shutdown` completes.
/// The clock comes from `ENTRYWATCH_NOW` or the system.
pub async fn serve(
    cfg: &Dashboard,
    model: Arc<dyn ReadModel>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    let clock = Clock::from_env().map_err(WebError::Clock)?;
    let (addr, auth) = Auth::from_config(cfg)?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|source| WebError::Io { addr: addr.to_string(), source })?;
    tracing::info!(addr = %addr, auth = auth.is_required(), "DashboardListening");
    serve_on(listener, router(model, clock, auth), shutdown).await
}
