//! From a stored entry to its deadlines: [`deadline_facts`] reads what the domain knows (filings, release, statement, ER liquidation reports) into [`DeadlineFacts`]; [`entry_deadlines`] runs the rules; [`deadlines_json`] is the `entry --json` `deadlines` value.
//!
//! Entries are derived from their facts on read, so their deadlines are too: whenever a file
//! adds a fact, the next read (the `entry` and `deadlines` commands, the scheduler's next
//! pass) sees the new deadlines. Nothing here reads the store or the clock.

use super::rules::{compute, DeadlineFacts};
use super::{Deadline, EntryDeadline};
use crate::calendar::Calendar;
use crate::domain::{extends, suspends, Entry, ExtSusp, Fact, FactKind, LiquidationStatus, SummaryStatus};
use chrono::NaiveDate;

/// One agreement of grammars/codes/fta_1520d.toml: who may make a post-importation claim
/// (19 U.S.C. 1520(d)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement1520d {
    pub code: String,
    pub name: String,
    pub countries: Vec<String>,
    pub spi: Vec<String>,
    pub regulation: String,
}

/// The agreements of the `fta_1520d` code list.
pub fn agreements_1520d(codes: &crate::grammar::codes::CodeLists) -> Vec<Agreement1520d> {
    let Some(list) = codes.list("fta_1520d") else { return Vec::new() };
    let strs = |t: &toml::Table, k: &str| -> Vec<String> {
        t.get(k)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()).map(|x| x.trim().to_string()).collect())
            .unwrap_or_default()
    };
    list.table
        .iter()
        .filter_map(|t| {
            let code = t.get("agreement")?.as_str()?.to_string();
            Some(Agreement1520d {
                name: list.get(&code).map(|c| c.meaning.clone()).unwrap_or_else(|| code.clone()),
                countries: strs(t, "countries"),
                spi: strs(t, "spi"),
                regulation: t.get("regulation").and_then(|v| v.as_str()).unwrap_or_default().to_string(),
                code,
            })
        })
        .collect()
}

/// The embedded `fta_1520d` list, loaded once.
fn embedded_1520d() -> &'static [Agreement1520d] {
    static LIST: std::sync::OnceLock<Vec<Agreement1520d>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        crate::grammar::Grammars::embedded_shared().map(|g| agreements_1520d(&g.codes)).unwrap_or_default()
    })
}

/// One ER (entry summary query) report, in canonical fact order.
struct Er<'a> {
    day: NaiveDate,
    status: &'a str,
    date: Option<NaiveDate>,
    kinds: &'a [ExtSusp],
    ext_date: Option<NaiveDate>,
    protest: &'a str,
    entry_date: Option<NaiveDate>,
    reasons: &'a [String],
}

fn ers(facts: &[Fact]) -> Vec<Er<'_>> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by_key(|f| f.at);
    sorted
        .into_iter()
        .filter_map(|f| match &f.kind {
            FactKind::Liquidation {
                status_code, date, ext_susp, ext_susp_date, protest, entry_date, reasons, ..
            } => Some(Er {
                day: f.at.date(),
                status: status_code.as_str(),
                date: *date,
                kinds: ext_susp,
                ext_date: *ext_susp_date,
                protest: protest.as_str(),
                entry_date: *entry_date,
                reasons,
            }),
            _ => None,
        })
        .collect()
}

/// Whole years (at least 1) by which `scheduled` lies beyond `entry + 1 year`: the
/// extensions a scheduled date past the first year implies.
fn implied_extensions(entry: NaiveDate, scheduled: NaiveDate) -> u32 {
    let mut n = 0;
    while n < 3 {
        let end = entry.checked_add_months(chrono::Months::new(12 * (n + 1)));
        match end {
            Some(end) if scheduled > end => n += 1,
            _ => break,
        }
    }
    n
}

/// What the deadline rules need, read from an entry and its fact log.
///
/// - entry date: CBP's (ER JD 4–9) when reported, else the summary's (AE 11-record 42–47),
///   else the release date, marked estimated (19 CFR 141.68(a); 02 usage notes j, ll);
/// - release: the release disposition's date; the summary counts as filed separately when
///   there is a release and no summary was filed (accepted or pending) on or before that day;
/// - statement: payment type from the statement (or the filing); a daily statement (2, 3, 5)
///   is paid once final; a periodic daily statement (6, 7, 8) only once its periodic monthly
///   statement (MS) is final, due on the MS due date;
/// - 1520(d) claim: claimable when a line's origin or SPI belongs to an agreement of
///   grammars/codes/fta_1520d.toml; claimed when every such line carries one of the
///   agreements' SPIs, or a 520(d) petition (ER JJ protest type 3) is on file;
/// - reconciliation: AE 10-record pos 46 (FTA) and 47–49 (issue code) of any filing;
/// - liquidation from the ER reports in order: status 2 with a date = scheduled; status 1
///   = liquidated (first one); status 3 = reliquidated (latest one); extensions = distinct
///   extension dates reported with codes 49–51, or the years a scheduled date implies;
///   suspended when the latest report carries a suspension code (43–48, 65, 66:
///   [`ExtSusp`]); lifted on the first report without one after one with one;
/// - PSC filed: a filing with the PSC indicator (AE pos 65) or liquidation reason 62;
/// - protest: on file when ER JJ reports a protest (type 1, not withdrawn) or the latest JC
///   says `YS`; denied (DN) or partly denied (PD) with a decision date starts the court
///   action clock, done when JJ's summons indicator is set.
pub fn deadline_facts(entry: &Entry, facts: &[Fact]) -> DeadlineFacts {
    let reports = ers(facts);
    let mut f = DeadlineFacts {
        entry_date: reports.iter().rev().find_map(|r| r.entry_date).or(entry.entry_date),
        entry_type: entry.entry_type.trim().to_string(),
        ..DeadlineFacts::default()
    };

    // Release and the entry summary.
    f.release_date = if entry.released {
        entry.release_date.or_else(|| {
            facts
                .iter()
                .filter(|x| {
                    matches!(&x.kind, FactKind::Disposition { effect: crate::grammar::codes::Effect::Released, .. })
                })
                .map(|x| x.at.date())
                .min()
        })
    } else {
        None
    };
    if f.entry_date.is_none() && f.release_date.is_some() {
        f.entry_date = f.release_date;
        f.entry_date_estimated = true;
    }
    f.summary_filed_date = entry
        .filings
        .iter()
        .find(|x| x.summary.action != "D" && x.outcome != SummaryStatus::Rejected)
        .map(|x| x.at.date());
    if let Some(rel) = f.release_date {
        f.summary_filed_separately = f.summary_filed_date.is_none_or(|s| s > rel);
    }

    // Statement.
    let filed_payment_type =
        entry.filings.iter().rev().map(|x| x.summary.payment_type.trim()).find(|p| !p.is_empty()).unwrap_or("");
    f.statement_print_date = entry.filings.iter().rev().find_map(|x| x.summary.statement_print_date);
    if let Some(s) = &entry.statement {
        f.payment_type = if s.payment_type.trim().is_empty() {
            filed_payment_type.to_string()
        } else {
            s.payment_type.trim().to_string()
        };
        f.statement_print_date = s.print_date.or(f.statement_print_date);
        if super::rules::PERIODIC_PAYMENT_TYPES.contains(&f.payment_type.as_str()) {
            f.statement_due = s.monthly.as_ref().and(s.due);
            f.statement_paid = s.monthly_final;
        } else {
            f.statement_due = s.due;
            f.statement_paid = s.final_statement;
        }
    } else {
        f.payment_type = filed_payment_type.to_string();
    }

    // The current filing: importation date, preference claims, reconciliation flags.
    let agreements = embedded_1520d();
    if let Some(cur) = entry.current_filing() {
        let s = &cur.summary;
        f.importation_date = s.import_date;
        let partner = |l: &crate::domain::Line| {
            agreements.iter().any(|a| {
                a.countries.iter().any(|c| c == l.country_of_origin.trim()) || a.spi.iter().any(|x| x == l.spi.trim())
            })
        };
        let claims = |l: &crate::domain::Line| agreements.iter().any(|a| a.spi.iter().any(|x| x == l.spi.trim()));
        let partner_lines: Vec<_> = s.lines.iter().filter(|l| partner(l)).collect();
        f.fta_claimable = !partner_lines.is_empty();
        f.fta_claimed = f.fta_claimable && partner_lines.iter().all(|l| claims(l));
        f.recon_issue = Some(s.recon_issue.trim().to_string()).filter(|c| !c.is_empty());
        // 02 usage note j (page 159) and AE Table 9 (page 219): 9813.00.75 is under a 6-month bond.
        f.tib_six_months =
            s.lines.iter().flat_map(|l| l.tariffs.iter()).any(|t| t.hts.replace('.', "").starts_with("98130075"));
    }
    if entry.protests.iter().any(|p| p.protest_type == "3" && p.status != "WD") {
        f.fta_claimed = true;
    }
    if f.importation_date.is_none() {
        f.importation_date = entry.filings.iter().rev().find_map(|x| x.summary.import_date);
    }
    f.recon_fta = entry.filings.iter().any(|x| x.summary.recon_fta);
    if f.recon_issue.is_none() {
        f.recon_issue = entry
            .filings
            .iter()
            .rev()
            .map(|x| x.summary.recon_issue.trim())
            .find(|c| !c.is_empty())
            .map(str::to_string);
    }

    // Liquidation from the ER reports.
    f.liquidation_date = reports.iter().find(|r| r.status == "1").and_then(|r| r.date);
    f.reliquidation_date = reports.iter().rev().find(|r| r.status == "3").and_then(|r| r.date);
    if let Some(last) = reports.last() {
        if last.status == "2" {
            f.scheduled_liquidation = last.date;
        }
        f.suspended = suspends(last.kinds) || entry.liquidation.status == LiquidationStatus::Suspended;
        f.adcvd_suspended = last.kinds.contains(&ExtSusp::AdcvdSuspension);
        f.protest_filed = last.protest == "YS";
        if !f.suspended {
            // The first report without a suspension after the last one with it.
            if let Some(i) = reports.iter().rposition(|r| suspends(r.kinds)) {
                f.suspension_lifted = reports.get(i + 1).map(|r| r.day);
            }
        }
    }
    let mut ext_dates: Vec<Option<NaiveDate>> =
        reports.iter().filter(|r| extends(r.kinds)).map(|r| r.ext_date).collect();
    ext_dates.sort();
    ext_dates.dedup();
    f.importer_extension = reports.iter().any(|r| r.kinds.contains(&ExtSusp::ImporterExtension));
    let reported = u32::try_from(ext_dates.len()).unwrap_or(u32::MAX);
    let implied = f.entry_date.zip(f.scheduled_liquidation).map_or(0, |(e, s)| implied_extensions(e, s));
    f.extensions = reported.max(implied);

    // ACE's own record (ES-003, issue 18) where no ER reported the liquidation: its date runs
    // the clocks like an ER's would (the `ace-liquidation` finding names the source).
    if let Some(ace) = entry.ace.as_ref().map(|r| &r.entry).filter(|a| a.liquidated()) {
        if f.liquidation_date.is_none() && f.reliquidation_date.is_none() {
            f.liquidation_date = ace.liquidation_date;
        }
    }

    // Post summary correction.
    f.psc_filed = entry.filings.iter().any(|x| x.summary.psc && x.outcome != SummaryStatus::Rejected)
        || reports.iter().any(|r| r.reasons.iter().any(|c| c == "62"))
        || entry.ace.as_ref().is_some_and(|r| r.entry.psc || r.entry.rows.iter().any(|x| x.line_psc));

    // A protest seen only after a reliquidation was reported without one was filed after it.
    if f.protest_filed {
        if let Some(reliq_seen) = reports.iter().position(|r| r.status == "3" && r.protest != "YS") {
            f.protest_filed_date = reports
                .iter()
                .skip(reliq_seen + 1)
                .find(|r| r.protest == "YS")
                .map(|r| r.day.max(f.reliquidation_date.unwrap_or(r.day)));
        }
    }

    // ER JJ protests (03-entry-summary-query, page 43): type 1 is a 514 protest.
    let protests_514: Vec<_> =
        entry.protests.iter().filter(|p| matches!(p.protest_type.as_str(), "1" | "") && p.status != "WD").collect();
    if !protests_514.is_empty() {
        f.protest_filed = true;
        // A protest number first reported after the reliquidation was reported was filed
        // after it (JJ repeats every protest of the entry on each report).
        let reliq_seen = reports.iter().find(|r| r.status == "3").map(|r| r.day);
        let first_seen = |number: &str| {
            facts
                .iter()
                .filter(|x| matches!(&x.kind, FactKind::Protest { number: n, .. } if n.trim() == number))
                .map(|x| x.at.date())
                .min()
        };
        if let Some(seen) = reliq_seen {
            let after = protests_514.iter().filter_map(|p| first_seen(&p.number)).filter(|d| *d > seen).min();
            if let Some(d) = after {
                let d = d.max(f.reliquidation_date.unwrap_or(d));
                f.protest_filed_date = Some(f.protest_filed_date.map_or(d, |x| x.min(d)));
            }
        }
    }
    let denied = protests_514
        .iter()
        .filter(|p| matches!(p.status.as_str(), "DN" | "PD"))
        .filter_map(|p| p.decided.map(|d| (d, p.summons)))
        .min_by_key(|(d, summons)| (*summons, *d));
    if let Some((d, summons)) = denied {
        f.protest_denied_date = Some(d);
        f.court_action_filed = summons;
    }
    f
}

/// The deadlines of one stored entry (rules from [`deadline_facts`]).
pub fn entry_deadlines(entry: &Entry, facts: &[Fact], cal: &Calendar) -> Vec<Deadline> {
    let mut ds = compute(&deadline_facts(entry, facts), cal);
    let refunds = crate::recovery::evaluate::refund_deadlines(embedded_remedies(), entry, &ds, cal);
    ds.extend(refunds);
    ds
}

/// The embedded remedies (grammars/remedies/), loaded once.
pub fn embedded_remedies() -> &'static crate::recovery::Remedies {
    static R: std::sync::OnceLock<crate::recovery::Remedies> = std::sync::OnceLock::new();
    R.get_or_init(|| crate::grammar::Grammars::embedded_shared().map(|g| g.remedies.clone()).unwrap_or_default())
}

/// The same, each with its entry (for listings, reminders, the feed). Empty without an entry number.
pub fn entry_deadline_items(entry: &Entry, facts: &[Fact], cal: &Calendar) -> Vec<EntryDeadline> {
    let Some(en) = entry.entry.clone() else { return Vec::new() };
    entry_deadlines(entry, facts, cal)
        .into_iter()
        .map(|deadline| EntryDeadline { entry: en.clone(), deadline })
        .collect()
}

/// The soonest open deadline due today or later, in words (`2026-11-25: Post summary
/// correction window closes`, ` (estimated)` when it is).
pub fn next_deadline_text(deadlines: &[Deadline], today: NaiveDate) -> Option<String> {
    deadlines.iter().filter(|d| !d.done && d.due >= today).min_by_key(|d| (d.due, d.kind)).map(|d| {
        let est = if d.estimated { " (estimated)" } else { "" };
        format!("{}: {}{est}", d.due, d.kind.title())
    })
}

/// The "Next deadline" line of every alert mail, for
/// `AlertHook::with_next_deadline(deadline::facts::next_deadline_fn(&config))`.
pub fn next_deadline_fn(config: &crate::config::Config) -> crate::alert::hook::NextDeadlineFn {
    let cal = Calendar::from_config(&config.deadlines);
    let tz = config.timezone();
    std::sync::Arc::new(move |entry: &Entry, facts: &[Fact], now: chrono::DateTime<chrono::FixedOffset>| {
        next_deadline_text(&entry_deadlines(entry, facts, &cal), super::local_today(now, tz))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deadline::DeadlineKind;
    use crate::domain::{Filing, Line, Source, Summary};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn er(day: &str, status: &str, date: Option<&str>, codes: &[&str], ext: Option<&str>, protest: &str) -> Fact {
        Fact {
            at: d(day).and_hms_opt(12, 0, 0).unwrap(),
            kind: FactKind::Liquidation {
                status_code: status.into(),
                date: date.map(d),
                ext_susp_codes: codes.iter().map(|c| c.to_string()).collect(),
                ext_susp: crate::grammar::Grammars::embedded()
                    .unwrap()
                    .codes
                    .ext_susp(&codes.iter().map(|c| c.to_string()).collect::<Vec<_>>()),
                ext_susp_date: ext.map(d),
                protest: protest.into(),
                entry_date: Some(d("2026-02-02")),
                duty_cents: 0,
                tax_cents: 0,
                fees_cents: 0,
                interest_cents: 0,
                adcvd_cents: 0,
                reasons: Vec::new(),
            },
            source: Source { file: day.into(), inbox: "b".into(), sha256: day.into(), line: 1, record: 1 },
        }
    }

    fn entry_with_filing(origin: &str, spi: &str) -> Entry {
        let summary = Summary {
            action: "A".into(),
            entry_date: Some(d("2026-02-02")),
            import_date: Some(d("2026-01-31")),
            lines: vec![Line { line: 1, country_of_origin: origin.into(), spi: spi.into(), ..Line::default() }],
            ..Summary::default()
        };
        Entry {
            entry: "EEE-1234567-3".parse().ok(),
            entry_date: Some(d("2026-02-02")),
            filings: vec![Filing {
                at: d("2026-02-02").and_hms_opt(10, 0, 0).unwrap(),
                summary,
                version: None,
                outcome: SummaryStatus::Accepted,
            }],
            ..Entry::default()
        }
    }

    #[test]
    fn extensions_counted_from_reports_and_implied_by_the_scheduled_date() {
        let e = entry_with_filing("CN", "");
        let facts = vec![
            er("2026-06-01", "2", Some("2026-12-11"), &[], None, ""),
            er("2026-12-01", "2", Some("2027-12-10"), &["50"], Some("2027-02-02"), ""),
        ];
        let f = deadline_facts(&e, &facts);
        assert_eq!(f.scheduled_liquidation, Some(d("2027-12-10")));
        assert_eq!(f.extensions, 1);
        // A scheduled date more than 2 years after entry implies two extensions.
        let facts = vec![er("2027-12-01", "2", Some("2028-06-01"), &[], None, "")];
        assert_eq!(deadline_facts(&e, &facts).extensions, 2);
    }

    #[test]
    fn reliquidation_then_protest_seen_later_covers_it() {
        let e = entry_with_filing("CN", "");
        let facts = vec![
            er("2026-12-18", "1", Some("2026-12-11"), &[], None, "YS"),
            er("2027-03-05", "3", Some("2027-03-01"), &[], None, "NO"),
            er("2027-04-02", "3", Some("2027-03-01"), &[], None, "YS"),
        ];
        let f = deadline_facts(&e, &facts);
        assert_eq!(f.liquidation_date, Some(d("2026-12-11")));
        assert_eq!(f.reliquidation_date, Some(d("2027-03-01")));
        assert!(f.protest_filed);
        assert_eq!(f.protest_filed_date, Some(d("2027-04-02")));
        let ds = entry_deadlines(&e, &facts, &Calendar::default());
        let protest = ds.iter().find(|x| x.kind == DeadlineKind::Protest).unwrap();
        assert!(protest.done, "{protest:?}");
        // Without the later report, the protest on file covers only the original liquidation.
        let ds = entry_deadlines(&e, &facts[..2], &Calendar::default());
        assert!(!ds.iter().find(|x| x.kind == DeadlineKind::Protest).unwrap().done);
    }

    #[test]
    fn fta_claim_from_origin_and_spi() {
        let f = deadline_facts(&entry_with_filing("MX", ""), &[]);
        assert!(f.fta_claimable && !f.fta_claimed);
        let f = deadline_facts(&entry_with_filing("MX", "S"), &[]);
        assert!(f.fta_claimable && f.fta_claimed);
        let f = deadline_facts(&entry_with_filing("CN", ""), &[]);
        assert!(!f.fta_claimable);
    }

    #[test]
    fn next_deadline_in_words() {
        let e = entry_with_filing("CN", "");
        let ds = entry_deadlines(&e, &[], &Calendar::default());
        let next = next_deadline_text(&ds, d("2026-03-01")).unwrap();
        assert!(next.contains(": Post summary correction window closes"), "{next}");
    }
}
