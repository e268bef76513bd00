//! The outward views of an entry: `entry --json` (interface.md keys), the human text, the `entries` row.

use super::{sort_facts, Entry, EntryRow, Fact, FactKind, LiquidationStatus, ReleaseStatus, SummaryStatus};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

/// A message time (local to the port, as CBP sends it) in the configured zone, RFC 3339 with
/// its offset always (a time in the spring-forward gap too: `clock::local_instant`).
pub fn local_time(t: NaiveDateTime, tz: chrono_tz::Tz) -> String {
    crate::clock::local_instant(tz, t).to_rfc3339()
}

pub fn summary_status(s: SummaryStatus) -> &'static str {
    match s {
        SummaryStatus::None => "none",
        SummaryStatus::Filed => "filed",
        SummaryStatus::Accepted => "accepted",
        SummaryStatus::Rejected => "rejected",
        SummaryStatus::Deleted => "deleted",
    }
}

pub fn release_status(s: ReleaseStatus) -> &'static str {
    match s {
        ReleaseStatus::Pending => "pending",
        ReleaseStatus::Held => "held",
        ReleaseStatus::Released => "released",
        ReleaseStatus::Cancelled => "cancelled",
    }
}

pub fn liquidation_status(s: LiquidationStatus) -> &'static str {
    match s {
        LiquidationStatus::Unliquidated => "unliquidated",
        LiquidationStatus::Scheduled => "scheduled",
        LiquidationStatus::Liquidated => "liquidated",
        LiquidationStatus::Extended => "extended",
        LiquidationStatus::Suspended => "suspended",
    }
}

fn date(d: Option<chrono::NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.format("%Y-%m-%d").to_string()))
}

fn cents(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.unsigned_abs() / 100, c.unsigned_abs() % 100)
}

/// The event log, canonical order.
pub fn events(facts: &[Fact], tz: chrono_tz::Tz) -> Vec<Value> {
    let mut sorted = facts.to_vec();
    sort_facts(&mut sorted);
    sorted
        .iter()
        .map(|f| {
            json!({
                "at": local_time(f.at, tz),
                "kind": f.kind.name(),
                "code": f.kind.code(),
                "detail": detail(&f.kind),
                "source": { "file": f.source.file, "inbox": f.source.inbox, "line": f.source.line,
                            "record": f.source.record, "sha256": f.source.sha256 },
            })
        })
        .collect()
}

fn detail(k: &FactKind) -> String {
    match k {
        FactKind::SummaryFiled { summary } => {
            format!(
                "{} line(s), duty {}, fees {}",
                summary.lines.len(),
                cents(summary.total_duty_cents),
                cents(summary.total_fees_cents)
            )
        }
        FactKind::SummaryAccepted { version, narrative, .. } => {
            format!("version {version} {narrative}").trim().to_string()
        }
        FactKind::SummaryRejected { conditions, .. } => {
            conditions.iter().map(|(c, n)| format!("{c} {n}")).collect::<Vec<_>>().join("; ")
        }
        FactKind::SummaryDeleted { .. } => "ENTRY SUMMARY DELETED".into(),
        FactKind::CargoHeader { .. } => String::new(),
        FactKind::Disposition { agency, narrative, .. } => format!("{agency} {narrative}").trim().to_string(),
        FactKind::Notice { remarks, line, .. } => {
            let l = if line.trim().is_empty() { String::new() } else { format!("line {} ", line.trim()) };
            format!("{l}{}", remarks.join(" ")).trim().to_string()
        }
        FactKind::Statement { number, .. } => number.clone(),
        FactKind::MonthlyStatement { daily_number, monthly_number, .. } => {
            format!("{daily_number} on {monthly_number}")
        }
        FactKind::Liquidation { date: d, reasons, .. } => {
            format!("{} {}", d.map(|d| d.to_string()).unwrap_or_default(), reasons.join(",")).trim().to_string()
        }
        FactKind::Protest { number, protest_type, decided, summons, .. } => {
            let mut d = format!("protest {number} type {protest_type}");
            if let Some(x) = decided {
                d.push_str(&format!(" decided {x}"));
            }
            if *summons {
                d.push_str(" summons filed");
            }
            d
        }
        FactKind::PreEntryApproved { pre_entry } => format!("{} line(s)", pre_entry.lines.len()),
        FactKind::Finding { notes, .. } => notes.join("; "),
        FactKind::AceReported { ace } => {
            let liq = match ace.liquidation_date {
                Some(d) => format!(", liquidation {} {d}", ace.liquidation_status),
                None => String::new(),
            };
            format!("ES-003: {} tariff row(s){liq}", ace.rows.len())
        }
        FactKind::CargoRefs { bills, containers } => {
            let mut parts = Vec::new();
            if !bills.is_empty() {
                parts.push(format!("bill {}", bills.join(", ")));
            }
            if !containers.is_empty() {
                parts.push(format!("container {}", containers.join(", ")));
            }
            parts.join("; ")
        }
    }
}

/// `entry ENTRY --json`: the interface.md keys plus a few more.
///
/// `variance` is the entry's stored report (callers run `variance::annotate` first);
/// `deadlines` is filled by the caller from `deadline::facts` (the domain knows no calendar).
pub fn entry_json(e: &Entry, facts: &[Fact], tz: chrono_tz::Tz) -> Value {
    let mut v = entry_json_core(e, facts, tz);
    // The third side (issue 18): present only once an ES-003 export listed the entry.
    if let (Some(rec), Value::Object(m)) = (&e.ace, &mut v) {
        m.insert("ace".into(), crate::ace::compare::ace_json(rec, e.three_way.as_ref()));
    }
    v
}

fn entry_json_core(e: &Entry, facts: &[Fact], tz: chrono_tz::Tz) -> Value {
    let entry = e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default();
    let filer = e.entry.as_ref().map(|n| n.filer.clone()).unwrap_or_default();
    let holds: Vec<Value> = e
        .holds
        .iter()
        .map(|h| json!({"code": h.code, "agency": h.agency, "since": local_time(h.since, tz), "list": h.list, "narrative": h.narrative}))
        .collect();
    let statement = match &e.statement {
        None => Value::Null,
        Some(s) => json!({
            "number": s.number, "status": if s.final_statement { "final" } else { "preliminary" },
            "due": date(s.due), "print_date": date(s.print_date),
            "duty": cents(s.duty_cents), "tax": cents(s.tax_cents), "fees": cents(s.fees_cents),
            "monthly": s.monthly,
        }),
    };
    let l = &e.liquidation;
    let filing = e.current_filing().map(|f| {
        let s = &f.summary;
        json!({
            "broker_ref": s.broker_ref, "mode_of_transport": s.mode_of_transport, "payment_type": s.payment_type,
            "total_duty": cents(s.total_duty_cents), "total_fees": cents(s.total_fees_cents),
            "fees": s.fee_totals.iter().map(|(k, v)| (k.clone(), Value::String(cents(*v)))).collect::<serde_json::Map<_, _>>(),
            "lines": s.lines.iter().map(|ln| json!({
                "line": ln.line, "country_of_origin": ln.country_of_origin, "country_of_export": ln.country_of_export,
                "spi": ln.spi,
                "tariffs": ln.tariffs.iter().map(|t| json!({"hts": t.hts, "duty": cents(t.duty_cents),
                    "value": t.value_usd, "quantity": cents(t.quantity_hundredths), "uom": t.uom})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    });
    let pre = e.pre_entry.as_ref().map(|p| {
        json!({
            "importer": p.importer, "broker_ref": p.broker_ref,
            "lines": p.lines.iter().map(|ln| json!({"line": ln.line, "po_number": ln.po_number, "po_line": ln.po_line,
                "invoice_number": ln.invoice_number, "hts": ln.hts, "value": ln.value_usd, "duty": cents(ln.duty_cents)})).collect::<Vec<_>>(),
        })
    });
    json!({
        "entry": entry,
        "filer": filer,
        "importer": e.importer,
        "port": e.port,
        "entry_type": e.entry_type,
        "entry_date": date(e.entry_date),
        "broker_ref": e.broker_ref,
        "summary": { "status": summary_status(e.summary_status), "version": e.version,
                     "rejection_reasons": e.rejection_reasons.iter().map(|(c, n)| json!({"code": c, "narrative": n})).collect::<Vec<_>>(),
                     "filings": e.filings.len() },
        "release": { "status": release_status(e.release), "open_holds": holds, "released": e.released,
                     "release_date": date(e.release_date),
                     "agencies": e.agencies.iter().map(|(a, (t, c, n))| (a.clone(), json!({"code": c, "narrative": n, "at": local_time(*t, tz)}))).collect::<serde_json::Map<_, _>>() },
        "statement": statement,
        "liquidation": { "status": liquidation_status(l.status), "date": date(l.date), "protest": l.protest,
                         "extension_suspension": l.ext_susp_codes, "extension_suspension_date": date(l.ext_susp_date),
                         "duty": cents(l.duty_cents), "tax": cents(l.tax_cents), "fees": cents(l.fees_cents),
                         "interest": cents(l.interest_cents), "adcvd": cents(l.adcvd_cents), "reasons": l.reasons },
        "notices": e.notices.iter().map(|n| json!({"at": local_time(n.at, tz), "disposition": n.disposition, "reason": n.reason, "line": n.line, "remarks": n.remarks})).collect::<Vec<_>>(),
        "filing": filing,
        "pre_entry": pre,
        "variance": crate::variance::entry_summary_json(e.variance.as_ref(), e.pre_entry.is_some()),
        "deadlines": [],
        "events": events(facts, tz),
    })
}

/// The human `entry` output: state, open holds, timeline.
pub fn entry_text(e: &Entry, facts: &[Fact], tz: chrono_tz::Tz) -> String {
    let mut s = String::new();
    let n = e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default();
    s.push_str(&format!("Entry {n}  importer {}  port {}  type {}\n", e.importer, e.port, e.entry_type));
    s.push_str(&format!(
        "Summary: {}{}\n",
        summary_status(e.summary_status),
        if e.version.is_empty() { String::new() } else { format!(" (version {})", e.version) }
    ));
    s.push_str(&format!("Release: {}\n", release_status(e.release)));
    if e.holds.is_empty() {
        s.push_str("Open holds: none\n");
    } else {
        s.push_str("Open holds:\n");
        for h in &e.holds {
            s.push_str(&format!("  {} {} since {} {}\n", h.agency, h.code, local_time(h.since, tz), h.narrative));
        }
    }
    if let Some(st) = &e.statement {
        s.push_str(&format!(
            "Statement: {} {} due {}\n",
            st.number,
            if st.final_statement { "final" } else { "preliminary" },
            st.due.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
        ));
    }
    s.push_str(&format!(
        "Liquidation: {}{}\n",
        liquidation_status(e.liquidation.status),
        e.liquidation.date.map(|d| format!(" {d}")).unwrap_or_default()
    ));
    if let Some(v) = &e.variance {
        s.push_str(&format!(
            "Variance: {} ({} difference(s); `entrywatch variance` explains)\n",
            v.status.as_str(),
            v.differences.len()
        ));
    }
    if let (Some(rec), Some(t)) = (&e.ace, &e.three_way) {
        s.push_str(&format!(
            "ACE (ES-003 {}): {} finding(s); approved / broker / ACE:\n",
            rec.source.file,
            t.findings.len()
        ));
        if rec.entry.liquidation_date.is_some() || !rec.entry.liquidation_status.trim().is_empty() {
            s.push_str(&format!(
                "  ACE liquidation: {} {} (from {} row {})\n",
                rec.entry.liquidation_status.trim(),
                rec.entry.liquidation_date.map(|d| d.to_string()).unwrap_or_default(),
                rec.source.file,
                rec.source.line
            ));
        }
        for f in &t.findings {
            s.push_str(&format!("  {}\n", f.explanation()));
        }
    }
    s.push_str("Timeline:\n");
    for ev in events(facts, tz) {
        s.push_str(&format!(
            "  {}  {:<20} {:<10} {}  ({} line {})\n",
            ev["at"].as_str().unwrap_or(""),
            ev["kind"].as_str().unwrap_or(""),
            ev["code"].as_str().unwrap_or(""),
            ev["detail"].as_str().unwrap_or(""),
            ev["source"]["file"].as_str().unwrap_or(""),
            ev["source"]["line"]
        ));
    }
    s
}

/// One row of `entries --json`.
pub fn entry_row(e: &EntryRow) -> Value {
    json!({
        "entry": e.entry.as_ref().map(|n| n.to_string()).unwrap_or_default(),
        "importer": e.importer, "broker": e.entry.as_ref().map(|n| n.filer.clone()).unwrap_or_default(),
        "port": e.port, "entry_type": e.entry_type, "entry_date": date(e.entry_date),
        "summary": summary_status(e.summary), "release": release_status(e.release),
        "open_holds": e.open_holds, "liquidation": liquidation_status(e.liquidation),
        "liquidation_date": date(e.liquidation_date),
        "variance": e.variance.as_str(), "variance_differences": e.variance_differences,
    })
}
