//! `/api/...`: the JSON behind the pages (overview, entries, one entry, brokers, deadlines).

use super::pages::{EntriesQuery, WithinQuery};
use super::{blocking, overview as gather, AppState};
use crate::report::brokers::scorecard;
use crate::view::{EntryFilter, EntryView};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Duration;

/// Largest `limit` of `/api/entries`.
pub const MAX_LIMIT: usize = 1000;

pub async fn overview(State(s): State<AppState>) -> Response {
    blocking(move || Json(gather(&*s.model, s.clock.now())).into_response()).await
}

fn bad_request(msgs: Vec<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": msgs.join("; ") }))).into_response()
}

/// Entries passing the query's filters: `limit` (default 100, at most 1000) from `offset`.
pub async fn entries(State(s): State<AppState>, Query(q): Query<EntriesQuery>) -> Response {
    blocking(move || {
        let (f, problems) = q.filter();
        if !problems.is_empty() {
            return bad_request(problems);
        }
        let limit = q.limit.as_deref().and_then(|l| l.parse().ok()).unwrap_or(100usize).min(MAX_LIMIT);
        let offset = q.offset.as_deref().and_then(|l| l.parse().ok()).unwrap_or(0usize);
        let v: Vec<EntryView> = s.model.entries(&f).skip(offset).take(limit).collect();
        Json(v).into_response()
    })
    .await
}

pub async fn entry(State(s): State<AppState>, Path(key): Path<String>) -> Response {
    blocking(move || match s.model.entry(&key) {
        Some(e) => Json(e).into_response(),
        None => {
            (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": format!("no entry {key}") }))).into_response()
        }
    })
    .await
}

pub async fn brokers(State(s): State<AppState>) -> Response {
    blocking(move || Json(scorecard(&*s.model, &EntryFilter::default())).into_response()).await
}

/// Deadlines from today within `?within=DAYS` (default 90), soonest first (`deadlines --json` shape).
pub async fn deadlines(State(s): State<AppState>, Query(q): Query<WithinQuery>) -> Response {
    blocking(move || {
        let today = s.clock.now().date_naive();
        Json(s.model.deadlines_between(today, today + Duration::days(q.days()), usize::MAX).rows).into_response()
    })
    .await
}
