//! The `entries` row of an entry (`entries --json`); the entry's full view is `query::entry`.

use super::EntryRow;
use chrono::NaiveDateTime;
use serde_json::{json, Value};

/// A message time (local to the port, as CBP sends it) in the configured zone, RFC 3339 with
/// its offset always (a time in the spring-forward gap too: `clock::local_instant`).
pub fn local_time(t: NaiveDateTime, tz: chrono_tz::Tz) -> String {
    crate::clock::local_instant(tz, t).to_rfc3339()
}

fn date(d: Option<chrono::NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.format("%Y-%m-%d").to_string()))
}

/// One row of `entries --json`.
pub fn entry_row(e: &EntryRow) -> Value {
    json!({
        "entry": e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "importer": e.importer, "broker": e.entry.as_ref().map(|n| n.filer.clone()).unwrap_or_default(),
        "port": e.port, "entry_type": e.entry_type, "entry_date": date(e.entry_date),
        "summary": e.summary.as_str(), "release": e.release.as_str(),
        "open_holds": e.open_holds, "liquidation": e.liquidation.as_str(),
        "liquidation_date": date(e.liquidation_date),
        "variance": e.variance.as_str(), "variance_differences": e.variance_differences,
    })
}
