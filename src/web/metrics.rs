//! `/metrics`: operational counters in the Prometheus text exposition format (0.0.4).

use super::AppState;
use crate::view::Metrics;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

/// Render the metrics with `# HELP` and `# TYPE` lines.
pub fn render(m: &Metrics) -> String {
    let mut s = String::new();
    let mut one = |name: &str, kind: &str, help: &str, value: String| {
        let _ = write!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
    };
    one(
        "entrywatch_files_processed_total",
        "counter",
        "Files parsed and applied to the store.",
        m.files_processed.to_string(),
    );
    one(
        "entrywatch_files_quarantined_total",
        "counter",
        "Files moved to quarantine because they could not be read.",
        m.files_quarantined.to_string(),
    );
    one("entrywatch_alerts_queued", "gauge", "Alerts waiting in the outbox.", m.alerts_queued.to_string());
    one("entrywatch_alerts_sent_total", "counter", "Alerts the SMTP server accepted.", m.alerts_sent.to_string());
    one("entrywatch_alerts_failed_total", "counter", "Alerts that failed permanently.", m.alerts_failed.to_string());
    let secs = if m.parse_seconds_total.is_finite() { m.parse_seconds_total.max(0.0) } else { 0.0 };
    one("entrywatch_parse_seconds_total", "counter", "Time spent parsing files, in seconds.", format!("{secs}"));
    one("entrywatch_store_size_bytes", "gauge", "Size of the store on disk, in bytes.", m.store_bytes.to_string());
    one("entrywatch_entries", "gauge", "Entries in the store.", m.entries.to_string());
    s
}

pub async fn metrics(State(s): State<AppState>) -> Response {
    let m = s.model.metrics();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], render(&m)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_help_and_type() {
        let text = render(&Metrics { files_processed: 3, parse_seconds_total: 0.25, ..Metrics::default() });
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), 8);
        for s in samples {
            let name = s.split(' ').next().unwrap();
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        assert!(text.contains("entrywatch_files_processed_total 3\n"));
        assert!(text.contains("entrywatch_parse_seconds_total 0.25\n"));
    }
}
