//! One entry's view, built once from its facts, deadlines and variance ([`entry_view`]),
//! and its human text ([`entry_text`]): `entry` (text and `--json`), `/api`, the dashboard,
//! the reports and the index all take this same value.

use crate::calendar::Calendar;
use crate::domain::{sort_facts, Entry, Fact, FactKind, LiquidationStatus, StatementStatus, VarianceStatus};
use crate::entry_number::EntryNumber;
use crate::grammar::codes::Effect;
use crate::money::{plain, Cents};
use crate::store::entries::EntryState;
use crate::view::{
    AceSide, AgencyState, CodeNarrative, Deadline, EntryView, Event, FiledLine, FiledTariff, Filing, Hold, Line,
    Liquidation, Notice, PreEntry, PreEntryLine, Related, Release, Source, Statement, Summary, SummaryVersion,
    ThreeWayRow, Timestamps, Totals, Variance,
};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

/// A message time (local to the port, as CBP sends it) in the configured zone, always with
/// its offset (a time in the spring-forward gap too: `clock::local_instant`).
fn at(t: NaiveDateTime, tz: chrono_tz::Tz) -> DateTime<FixedOffset> {
    crate::clock::local_instant(tz, t)
}

/// What a fact said, in a line (the timeline's detail).
pub fn detail(k: &FactKind) -> String {
    match k {
        FactKind::SummaryFiled { summary } => {
            format!(
                "{} line(s), duty {}, fees {}",
                summary.lines.len(),
                plain(summary.total_duty_cents),
                plain(summary.total_fees_cents)
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
        FactKind::RefundClaim { claim } => claim.detail(),
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

/// The timeline, canonical order.
pub fn events(facts: &[Fact], tz: chrono_tz::Tz) -> Vec<Event> {
    let mut sorted = facts.to_vec();
    sort_facts(&mut sorted);
    sorted
        .iter()
        .map(|f| {
            let d = detail(&f.kind);
            Event {
                at: at(f.at, tz),
                kind: f.kind.name().to_string(),
                code: Some(f.kind.code()),
                text: (!d.is_empty()).then(|| d.clone()),
                detail: d,
                source: Source {
                    file: f.source.file.clone(),
                    line: Some(f.source.line as u64),
                    inbox: f.source.inbox.clone(),
                    record: Some(f.source.record as u64),
                    sha256: f.source.sha256.clone(),
                },
            }
        })
        .collect()
}

fn nonempty(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_string())
}

/// The view of one entry from its state (variance already evaluated: `store::entries::load`),
/// its facts and the deadline calendar. `None` only for an entry with no date and no fact.
pub fn entry_view(
    en: &EntryNumber,
    state: &EntryState,
    facts: &[Fact],
    tz: chrono_tz::Tz,
    cal: &Calendar,
) -> Option<EntryView> {
    entry_view_with(en, state, facts, tz, crate::deadline::facts::entry_deadlines(&state.entry, facts, cal))
}

/// [`entry_view`] with the entry's deadlines already computed (`deadline::facts::entry_deadlines`;
/// the index needs them too, so a file's transaction computes them once).
pub fn entry_view_with(
    en: &EntryNumber,
    state: &EntryState,
    facts: &[Fact],
    tz: chrono_tz::Tz,
    mut deadlines: Vec<crate::deadline::Deadline>,
) -> Option<EntryView> {
    let e = &state.entry;
    let mut sorted: Vec<Fact> = facts.to_vec();
    sort_facts(&mut sorted);
    // An entry seen only through release messages has no entry date yet: its first message's day.
    let first_day = facts.iter().map(|f| f.at).min().map(|t| t.date());
    let entry_date = e.entry_date.or(first_day)?;
    let holds = e
        .holds
        .iter()
        .map(|h| Hold {
            code: h.code.clone(),
            agency: h.agency.clone(),
            since: at(h.since, tz),
            list: h.list.clone(),
            narrative: h.narrative.clone(),
            meaning: nonempty(&h.narrative),
            severity: None,
        })
        .collect();
    let statement = e.statement.as_ref().map(|s| Statement {
        number: s.number.clone(),
        status: if s.final_statement { StatementStatus::Final } else { StatementStatus::Preliminary },
        due: s.due,
        print_date: s.print_date,
        duty: Cents(s.duty_cents),
        tax: Cents(s.tax_cents),
        fees: Cents(s.fees_cents),
        monthly: s.monthly.clone(),
        paid: if s.final_statement { s.print_date.or(s.due) } else { None },
        amount_cents: Some(s.duty_cents.saturating_add(s.tax_cents).saturating_add(s.fees_cents)),
    });
    let l = &e.liquidation;
    let liquidated = facts.iter().any(|f| matches!(f.kind, FactKind::Liquidation { .. }));
    let liquidation = Liquidation {
        status: l.status,
        date: l.date,
        protest: l.protest.clone(),
        extension_suspension: l.ext_susp_codes.clone(),
        extension_suspension_date: l.ext_susp_date,
        duty: Cents(l.duty_cents),
        tax: Cents(l.tax_cents),
        fees: Cents(l.fees_cents),
        interest: Cents(l.interest_cents),
        adcvd: Cents(l.adcvd_cents),
        reasons: l.reasons.clone(),
        duty_cents: liquidated.then_some(l.duty_cents),
        fees_cents: liquidated.then_some(l.fees_cents),
        reason_codes: if liquidated { l.reasons.clone() } else { Vec::new() },
    };
    let filing = e.current_filing().map(|f| {
        let s = &f.summary;
        Filing {
            broker_ref: s.broker_ref.clone(),
            mode_of_transport: s.mode_of_transport.clone(),
            payment_type: s.payment_type.clone(),
            total_duty: Cents(s.total_duty_cents),
            total_fees: Cents(s.total_fees_cents),
            fees: s.fee_totals.iter().map(|(k, v)| (k.clone(), Cents(*v))).collect(),
            lines: s
                .lines
                .iter()
                .map(|ln| FiledLine {
                    line: ln.line,
                    country_of_origin: ln.country_of_origin.clone(),
                    country_of_export: ln.country_of_export.clone(),
                    spi: ln.spi.clone(),
                    tariffs: ln
                        .tariffs
                        .iter()
                        .map(|t| FiledTariff {
                            hts: t.hts.clone(),
                            duty: Cents(t.duty_cents),
                            value: t.value_usd,
                            quantity: Cents(t.quantity_hundredths),
                            uom: t.uom.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    });
    let pre_entry = e.pre_entry.as_ref().map(|p| PreEntry {
        importer: p.importer.clone(),
        broker_ref: p.broker_ref.clone(),
        lines: p
            .lines
            .iter()
            .map(|ln| PreEntryLine {
                line: ln.line,
                po_number: ln.po_number.clone(),
                po_line: ln.po_line.clone(),
                invoice_number: ln.invoice_number.clone(),
                hts: ln.hts.clone(),
                value: ln.value_usd,
                duty: Cents(ln.duty_cents),
            })
            .collect(),
    });
    let variance = match &state.variance {
        Some(r) => Variance {
            status: r.status,
            differences: r.differences.len() as u32,
            major: Some(r.differences.iter().filter(|d| d.severity == crate::variance::Severity::Major).count() as u32),
        },
        None => Variance {
            status: if e.pre_entry.is_some() { VarianceStatus::None } else { VarianceStatus::NoPreEntry },
            differences: 0,
            major: None,
        },
    };
    deadlines.sort_by_key(|d| (d.due, d.kind));
    let deadlines = deadlines
        .into_iter()
        .map(|d| Deadline {
            kind: d.kind.as_str().to_string(),
            due: d.due,
            estimated: d.estimated,
            rule: Some(d.rule),
            legal: Some(d.legal),
            done: d.done,
        })
        .collect();
    // Lines of the current filing, with the pre-entry's PO and HTS for the same line number.
    let mut lines = Vec::new();
    let mut totals = None;
    if let Some(filing) = e.current_filing() {
        let s = &filing.summary;
        let pre_lines = e.pre_entry.as_ref().map(|p| p.lines.as_slice()).unwrap_or_default();
        let pre_summary_lines = e.pre_entry.as_ref().and_then(|p| p.summary.as_ref()).map(|s| s.lines.as_slice());
        for ln in &s.lines {
            let pre = pre_lines.iter().find(|p| p.line == ln.line);
            let approved_hts = pre.map(|p| p.hts.clone()).filter(|h| !h.trim().is_empty()).or_else(|| {
                pre_summary_lines?
                    .iter()
                    .find(|p| p.line == ln.line)
                    .and_then(|p| p.tariffs.first())
                    .map(|t| t.hts.clone())
            });
            lines.push(Line {
                line: ln.line,
                hts: ln.tariffs.first().map(|t| t.hts.clone()).unwrap_or_default(),
                origin: ln.country_of_origin.clone(),
                value_cents: ln.tariffs.iter().map(|t| t.value_usd.saturating_mul(100)).fold(0, i64::saturating_add),
                duty_cents: ln.tariffs.iter().map(|t| t.duty_cents).fold(0, i64::saturating_add),
                spi: nonempty(&ln.spi),
                po_number: pre.and_then(|p| nonempty(&p.po_number)),
                po_line: pre.and_then(|p| nonempty(&p.po_line)),
                approved_hts,
                liquidated_hts: None,
            });
        }
        totals = Some(Totals {
            duty_cents: s.total_duty_cents,
            fees_cents: s.total_fees_cents,
            value_cents: lines.iter().map(|l: &Line| l.value_cents).fold(0, i64::saturating_add),
        });
    }
    let first_of = |pred: &dyn Fn(&FactKind) -> bool| sorted.iter().find(|f| pred(&f.kind)).map(|f| at(f.at, tz));
    let timestamps = Timestamps {
        arrival: first_of(&|k| matches!(k, FactKind::Disposition { .. })),
        release: first_of(&|k| matches!(k, FactKind::Disposition { effect: Effect::Released, .. })),
        summary_accepted: first_of(&|k| matches!(k, FactKind::SummaryAccepted { .. })),
        liquidation: l
            .date
            .filter(|_| l.status == LiquidationStatus::Liquidated)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| at(t, tz)),
    };
    Some(EntryView {
        entry: en.to_string(),
        filer: en.filer.clone(),
        importer: e.importer.clone(),
        port: e.port.clone(),
        entry_type: e.entry_type.clone(),
        entry_date,
        entry_date_estimated: e.entry_date.is_none(),
        broker_ref: e.broker_ref.clone(),
        summary: Summary {
            status: e.summary_status,
            version: e.version.clone(),
            rejection_reasons: e
                .rejection_reasons
                .iter()
                .map(|(c, n)| CodeNarrative { code: c.clone(), narrative: n.clone() })
                .collect(),
            filings: e.filings.len(),
        },
        release: Release {
            status: e.release,
            open_holds: holds,
            released: e.released,
            release_date: e.release_date,
            agencies: e
                .agencies
                .iter()
                .map(|(a, (t, c, n))| {
                    (a.clone(), AgencyState { code: c.clone(), narrative: n.clone(), at: at(*t, tz) })
                })
                .collect(),
        },
        statement,
        liquidation,
        notices: e
            .notices
            .iter()
            .map(|n| Notice {
                at: at(n.at, tz),
                disposition: n.disposition.clone(),
                reason: n.reason.clone(),
                line: n.line.clone(),
                remarks: n.remarks.clone(),
            })
            .collect(),
        filing,
        pre_entry,
        variance,
        deadlines,
        events: events(facts, tz),
        ace: e.ace.as_ref().map(|rec| ace_view(rec, state.three_way.as_ref())),
        related: Vec::new(),
        ace_side: e.ace.as_ref().map(|r| AceSide {
            file: r.source.file.clone(),
            inbox: r.source.inbox.clone(),
            row: r.source.line,
            exports: r.exports,
            rows: r.entry.rows.len(),
            liquidation_status: r.entry.liquidation_status.clone(),
            liquidation_date: r.entry.liquidation_date,
            final_liquidation: r.entry.final_liquidation.clone(),
            psc: r.entry.psc,
        }),
        three_way: state
            .three_way
            .as_ref()
            .map(|t| {
                t.findings
                    .iter()
                    .map(|f| ThreeWayRow {
                        kind: f.kind.as_str().to_string(),
                        severity: f.severity.as_str().to_string(),
                        line: f.line,
                        tariff: f.ordinal,
                        field: f.field.clone(),
                        approved: f.approved.clone(),
                        broker: f.broker.clone(),
                        ace: f.ace.clone(),
                        ace_row: f.ace_row,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        refund_claims: e.refund_claims.clone(),
        broker: Some(en.filer.clone()),
        inbox: sorted
            .iter()
            .find(|f| matches!(f.kind, FactKind::SummaryFiled { .. }))
            .or(sorted.first())
            .map(|f| f.source.inbox.clone()),
        importer_name: None,
        lines,
        totals,
        summary_history: summary_history(&sorted, tz),
        timestamps,
    })
}

/// ACE's record as `ace::compare::ace_json` gives it, each finding with its explanation in words.
fn ace_view(rec: &crate::ace::compare::AceRecord, t: Option<&crate::ace::compare::ThreeWay>) -> serde_json::Value {
    let mut v = crate::ace::compare::ace_json(rec, t);
    if let (Some(t), Some(list)) = (t, v.get_mut("findings").and_then(|f| f.as_array_mut())) {
        for (j, f) in list.iter_mut().zip(&t.findings) {
            if let Some(o) = j.as_object_mut() {
                o.insert("explanation".into(), serde_json::Value::String(f.explanation()));
            }
        }
    }
    v
}

/// Each filing with the answer that followed it (facts in canonical order).
fn summary_history(sorted: &[Fact], tz: chrono_tz::Tz) -> Vec<SummaryVersion> {
    let mut history: Vec<SummaryVersion> = Vec::new();
    let answered = |h: &SummaryVersion| h.accepted.is_some() || h.rejected.is_some();
    for f in sorted {
        // A response with no filing before it (the filing never reached us) gets its own row.
        match &f.kind {
            FactKind::SummaryFiled { .. } => {
                history.push(SummaryVersion { filed: Some(at(f.at, tz)), ..SummaryVersion::default() })
            }
            FactKind::SummaryAccepted { version, .. } => {
                if history.last().is_none_or(answered) {
                    history.push(SummaryVersion::default());
                }
                if let Some(h) = history.last_mut() {
                    h.version = version.clone();
                    h.accepted = Some(at(f.at, tz));
                }
            }
            FactKind::SummaryRejected { version, conditions } => {
                if history.last().is_none_or(answered) {
                    history.push(SummaryVersion::default());
                }
                if let Some(h) = history.last_mut() {
                    if !version.trim().is_empty() {
                        h.version = version.clone();
                    }
                    h.rejected = Some(at(f.at, tz));
                    h.reject_codes = conditions.iter().map(|(c, _)| c.clone()).collect();
                }
            }
            // A UC notice whose disposition rejects (uc_dispositions: effect "rejected", code 4):
            // CBP rejected the summary on file after the fact.
            FactKind::Notice { effect: crate::domain::Effect::Rejected, reason, .. } => {
                if let Some(h) = history.last_mut().filter(|h| h.rejected.is_none()) {
                    h.rejected = Some(at(f.at, tz));
                    h.reject_codes = vec![reason.trim().to_string()];
                } else {
                    history.push(SummaryVersion {
                        rejected: Some(at(f.at, tz)),
                        reject_codes: vec![reason.trim().to_string()],
                        ..SummaryVersion::default()
                    });
                }
            }
            _ => {}
        }
    }
    history
}

/// Entries shown per link in `related`.
pub const RELATED_SHOWN: usize = 20;

/// The other entries sharing each of the entry's links (`links::related`), at most
/// [`RELATED_SHOWN`] each, with the count.
pub fn related_of(r: &dyn crate::links::LinkReader, e: &Entry) -> Result<Vec<Related>, crate::store::StoreError> {
    Ok(crate::links::related(r, e, RELATED_SHOWN)?
        .into_iter()
        .map(|(l, entries, count)| Related {
            kind: l.kind.as_str().to_string(),
            title: l.kind.title().to_string(),
            value: l.value,
            entries,
            count,
        })
        .collect())
}

/// Fill `related` from the links index ([`related_of`]).
pub fn with_related(
    v: &mut EntryView,
    r: &dyn crate::links::LinkReader,
    e: &Entry,
) -> Result<(), crate::store::StoreError> {
    v.related = related_of(r, e)?;
    Ok(())
}

/// The `Related entries:` block (`entry`, `affected`); empty when the entry shares no link.
pub fn related_text(related: &[Related]) -> String {
    if related.is_empty() {
        return String::new();
    }
    let mut s = String::from("\nRelated entries:\n");
    for r in related {
        let more =
            if r.count > r.entries.len() { format!(" and {} more", r.count - r.entries.len()) } else { String::new() };
        s.push_str(&format!("  {} {}: {}{more}\n", r.title, r.value, r.entries.join(", ")));
    }
    s
}

fn weekday(d: NaiveDate) -> String {
    d.format("%a").to_string()
}

/// The human `entry` output: state, open holds, ACE's view, deadlines, timeline, related entries.
pub fn entry_text(v: &EntryView, today: NaiveDate) -> String {
    let mut s = String::new();
    s.push_str(&format!("Entry {}  importer {}  port {}  type {}\n", v.entry, v.importer, v.port, v.entry_type));
    let version =
        if v.summary.version.is_empty() { String::new() } else { format!(" (version {})", v.summary.version) };
    s.push_str(&format!("Summary: {}{version}\n", v.summary.status));
    s.push_str(&format!("Release: {}\n", v.release.status));
    if v.release.open_holds.is_empty() {
        s.push_str("Open holds: none\n");
    } else {
        s.push_str("Open holds:\n");
        for h in &v.release.open_holds {
            s.push_str(&format!("  {} {} since {} {}\n", h.agency, h.code, h.since.to_rfc3339(), h.narrative));
        }
    }
    if let Some(st) = &v.statement {
        let due = st.due.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        s.push_str(&format!("Statement: {} {} due {due}\n", st.number, st.status));
    }
    let liq_date = v.liquidation.date.map(|d| format!(" {d}")).unwrap_or_default();
    s.push_str(&format!("Liquidation: {}{liq_date}\n", v.liquidation.status));
    // Present once the variance was evaluated (the report counts its major differences).
    if v.variance.major.is_some() {
        s.push_str(&format!(
            "Variance: {} ({} difference(s); `entrywatch variance` explains)\n",
            v.variance.status, v.variance.differences
        ));
    }
    if let Some(ace) = &v.ace {
        let file = ace.get("file").and_then(|f| f.as_str()).unwrap_or("");
        let findings: Vec<&str> = ace
            .get("findings")
            .and_then(|f| f.as_array())
            .map(|a| a.iter().filter_map(|f| f.get("explanation").and_then(|x| x.as_str())).collect())
            .unwrap_or_default();
        s.push_str(&format!("ACE (ES-003 {file}): {} finding(s); approved / broker / ACE:\n", findings.len()));
        if let Some(a) =
            v.ace_side.as_ref().filter(|a| a.liquidation_date.is_some() || !a.liquidation_status.trim().is_empty())
        {
            let date = a.liquidation_date.map(|d| d.to_string()).unwrap_or_default();
            s.push_str(&format!(
                "  ACE liquidation: {} {date} (from {} row {})\n",
                a.liquidation_status.trim(),
                a.file,
                a.row
            ));
        }
        for f in findings {
            s.push_str(&format!("  {f}\n"));
        }
    }
    for c in &v.refund_claims {
        s.push_str(&format!("Refund claim {}: {}\n", c.program.to_uppercase(), c.summary()));
    }
    if v.deadlines.is_empty() {
        s.push_str("Deadlines: none\n");
    } else {
        s.push_str("Deadlines:\n");
        for d in &v.deadlines {
            let left = (d.due - today).num_days();
            let mut marks = Vec::new();
            if d.done {
                marks.push("done".to_string());
            } else if left < 0 {
                marks.push(format!("overdue {} day(s)", -left));
            } else {
                marks.push(format!("{left} day(s) left"));
            }
            if d.estimated {
                marks.push("estimated".into());
            }
            s.push_str(&format!(
                "  {} {:<3} {:<19} {}  [{}]\n",
                d.due,
                weekday(d.due),
                d.kind,
                d.rule.as_deref().unwrap_or(""),
                marks.join(", ")
            ));
        }
    }
    s.push_str("Timeline:\n");
    for ev in &v.events {
        let line = ev.source.line.map_or_else(|| "null".to_string(), |l| l.to_string());
        s.push_str(&format!(
            "  {}  {:<20} {:<10} {}  ({} line {line})\n",
            ev.at.to_rfc3339(),
            ev.kind,
            ev.code.as_deref().unwrap_or(""),
            ev.detail,
            ev.source.file,
        ));
    }
    s.push_str(&related_text(&v.related));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Source as FactSource;

    fn fact(at: &str, code: &str, effect: Effect) -> Fact {
        Fact {
            at: NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M").unwrap(),
            kind: FactKind::Disposition {
                list: "so70".into(),
                code: code.into(),
                agency: "CBP".into(),
                effect,
                removes: Vec::new(),
                narrative: String::new(),
                release_date: None,
                release_origin: String::new(),
            },
            source: FactSource { file: "so.abi".into(), inbox: "b".into(), sha256: "0".into(), line: 3, record: 3 },
        }
    }

    /// Message times in the spring-forward gap and the fall-back hour (New York, 2026) are
    /// shown with their offsets, as `clock::local_instant` documents, and the entry stays
    /// readable (it used to vanish from the dashboard on a time without an offset).
    #[test]
    fn dst_gap_and_overlap_times_carry_offsets_and_the_entry_stays_readable() {
        let en: EntryNumber = "EEE-1234567-3".parse().unwrap();
        let facts =
            vec![fact("2026-03-08T02:30", "1H", Effect::HoldPlaced), fact("2026-11-01T01:30", "01", Effect::Released)];
        let e = EntryState::unevaluated(Entry::derive(&en, &facts));
        let ny = chrono_tz::America::New_York;
        let v = entry_view(&en, &e, &facts, ny, &Calendar::default()).expect("view");
        let times: Vec<String> = v.events.iter().map(|e| e.at.to_rfc3339()).collect();
        assert_eq!(times, ["2026-03-08T03:30:00-04:00", "2026-11-01T01:30:00-04:00"]);
        assert_eq!(v.timestamps.arrival.map(|t| t.to_rfc3339()).as_deref(), Some("2026-03-08T03:30:00-04:00"));
        // Its serde form (entry --json, /api) reads back to the same view.
        let json = serde_json::to_string(&v).unwrap();
        let back: EntryView = serde_json::from_str(&json).unwrap();
        assert_eq!(back, v);
        assert!(v.entry_date_estimated, "no summary: the date is the first message's day");
    }
}
