//! Deadlines end to end, pure parts: each kind worked from its rule (weekends and holidays included), reminders as time moves forward across restarts, moved and done deadlines, next wake, the ICS feed.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use entrywatch::calendar::Calendar;
use entrywatch::clock::Clock;
use entrywatch::deadline::{
    compute, listing, to_ics, Deadline, DeadlineFacts, DeadlineKind, EntryDeadline, ReminderKey, ReminderPlan,
};
use entrywatch::entry_number::EntryNumber;
use std::collections::HashSet;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> DateTime<FixedOffset> {
    // The same format ENTRYWATCH_NOW takes.
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn entry() -> EntryNumber {
    "EEE-1234567-3".parse().unwrap()
}

fn find(ds: &[Deadline], kind: DeadlineKind) -> Option<&Deadline> {
    ds.iter().find(|x| x.kind == kind)
}

fn get(ds: &[Deadline], kind: DeadlineKind) -> &Deadline {
    find(ds, kind).unwrap_or_else(|| panic!("no {kind} deadline in {ds:#?}"))
}

fn with_entry(ds: Vec<Deadline>) -> Vec<EntryDeadline> {
    ds.into_iter().map(|deadline| EntryDeadline { entry: entry(), deadline }).collect()
}

fn plan() -> ReminderPlan {
    ReminderPlan::new(&[30, 14, 7, 3, 1], 8, chrono_tz::America::New_York)
}

// ---------------------------------------------------------------- each kind

#[test]
fn summary_filing_counts_working_days_over_thanksgiving_and_a_closure() {
    let cal = Calendar::default();
    let facts = DeadlineFacts {
        summary_filed_separately: true,
        release_date: Some(d("2026-11-18")), // Wednesday
        ..Default::default()
    };
    // Working days after Wed 11-18: Thu 19 (1), Fri 20 (2), Mon 23 (3), Tue 24 (4), Wed 25 (5),
    // Thu 26 Thanksgiving (skipped), Fri 27 (6), Mon 30 (7), Tue 12-01 (8), Wed 02 (9), Thu 03 (10).
    let s = get(&compute(&facts, &cal), DeadlineKind::SummaryFiling).clone();
    assert_eq!(s.due, d("2026-12-03"));
    assert!(!s.estimated && !s.done);
    assert_eq!(s.rule, "10 working days after release (entry summary filed separately)");

    // With Fri 11-27 configured as a closure the 10th working day is Fri 12-04.
    let closed = Calendar::new([d("2026-11-27")]);
    assert_eq!(get(&compute(&facts, &closed), DeadlineKind::SummaryFiling).due, d("2026-12-04"));

    // Filed: done. Filed with the entry: no deadline at all.
    let filed = DeadlineFacts { summary_filed_date: Some(d("2026-11-30")), ..facts.clone() };
    assert!(get(&compute(&filed, &cal), DeadlineKind::SummaryFiling).done);
    let together = DeadlineFacts { summary_filed_separately: false, ..facts };
    assert!(find(&compute(&together, &cal), DeadlineKind::SummaryFiling).is_none());
}

#[test]
fn statement_payment_from_the_statement_and_done_when_paid() {
    let cal = Calendar::default();
    let facts = DeadlineFacts { statement_due: Some(d("2026-03-13")), ..Default::default() };
    let s = get(&compute(&facts, &cal), DeadlineKind::StatementPayment).clone();
    assert_eq!((s.due, s.legal, s.done), (d("2026-03-13"), d("2026-03-13"), false));
    // A due date on the observed Independence Day (Fri 2026-07-03; July 4 is a Saturday)
    // is shown on Thu 07-02.
    let odd = DeadlineFacts { statement_due: Some(d("2026-07-03")), ..Default::default() };
    let s = get(&compute(&odd, &cal), DeadlineKind::StatementPayment).clone();
    assert_eq!((s.due, s.legal), (d("2026-07-02"), d("2026-07-03")));
    assert!(s.rule.contains("Independence Day (observed)"), "{}", s.rule);
    let paid = DeadlineFacts { statement_paid: true, ..facts };
    assert!(get(&compute(&paid, &cal), DeadlineKind::StatementPayment).done);
}

#[test]
fn psc_earlier_of_300_days_and_scheduled_liquidation_minus_15() {
    let cal = Calendar::default();
    let base = DeadlineFacts { entry_date: Some(d("2026-02-02")), ..Default::default() };

    // Scheduled liquidation Fri 2026-12-11 - 15 days = Thu 11-26 (Thanksgiving); entry
    // 2026-02-02 + 300 days = Sun 11-29. The earlier is 11-26, a holiday: due Wed 11-25.
    let er = DeadlineFacts { scheduled_liquidation: Some(d("2026-12-11")), ..base.clone() };
    let p = get(&compute(&er, &cal), DeadlineKind::Psc).clone();
    assert_eq!((p.legal, p.due, p.estimated), (d("2026-11-26"), d("2026-11-25"), false));
    assert!(p.rule.starts_with("earlier of entry date + 300 days and liquidation - 15 days"));
    assert!(p.rule.contains("Thanksgiving Day"));

    // Liquidation extended to Fri 2027-06-11: - 15 = 2027-05-27, later than 300 days, so
    // entry + 300 = Sun 2026-11-29 rules: due Fri 11-27 (the day after Thanksgiving works).
    let ext = DeadlineFacts { scheduled_liquidation: Some(d("2027-06-11")), extensions: 1, ..base.clone() };
    let p = get(&compute(&ext, &cal), DeadlineKind::Psc).clone();
    assert_eq!((p.legal, p.due, p.estimated), (d("2026-11-29"), d("2026-11-27"), false));

    // Changed (issue 14): the estimate lands on ACE's Friday cycle. No scheduled date:
    // entry + 314 = Sun 12-13, the cycle Friday before is 12-11; - 15 = Thu 11-26
    // (Thanksgiving), earlier than 11-29: due Wed 11-25, estimated.
    let p = get(&compute(&base, &cal), DeadlineKind::Psc).clone();
    assert_eq!((p.legal, p.due, p.estimated), (d("2026-11-26"), d("2026-11-25"), true));

    // Changed (issue 14; 84 FR 40430): after an importer-requested extension the 300-day cap
    // no longer applies: extended liquidation Fri 2027-06-11 - 15 = Thu 2027-05-27.
    let importer = DeadlineFacts { importer_extension: true, ..ext.clone() };
    let p = get(&compute(&importer, &cal), DeadlineKind::Psc).clone();
    assert_eq!((p.legal, p.due), (d("2027-05-27"), d("2027-05-27")));
    assert!(p.rule.contains("84 FR 40430"), "{}", p.rule);

    // Informal entries (11, 12) cannot be corrected by PSC (02 usage note gg, page 184).
    for t in ["11", "12"] {
        let informal = DeadlineFacts { entry_type: t.into(), ..er.clone() };
        assert!(find(&compute(&informal, &cal), DeadlineKind::Psc).is_none());
    }

    // Filed: done. Liquidated without a PSC: the window is closed, no deadline.
    let filed = DeadlineFacts { psc_filed: true, ..er.clone() };
    assert!(get(&compute(&filed, &cal), DeadlineKind::Psc).done);
    let liquidated = DeadlineFacts { liquidation_date: Some(d("2026-12-11")), ..er };
    assert!(find(&compute(&liquidated, &cal), DeadlineKind::Psc).is_none());
}

#[test]
fn fta_claim_one_year_from_importation() {
    let cal = Calendar::default();
    // Changed (issue 14): the last day is the day before the anniversary. Imported Thu
    // 2025-07-03; the anniversary Fri 2026-07-03 is refused, last day Thu 2026-07-02.
    let facts = DeadlineFacts {
        fta_claimable: true,
        importation_date: Some(d("2025-07-03")),
        entry_date: Some(d("2025-07-07")),
        ..Default::default()
    };
    let f = get(&compute(&facts, &cal), DeadlineKind::FtaClaim).clone();
    assert_eq!((f.legal, f.due, f.estimated, f.done), (d("2026-07-02"), d("2026-07-02"), false, false));
    assert!(f.rule.starts_with("day before the 1st anniversary of importation"));
    // Importation date unknown: entry date Mon 2025-07-07: last day Mon 2026-07-06, estimated.
    let est = DeadlineFacts { importation_date: None, ..facts.clone() };
    let f = get(&compute(&est, &cal), DeadlineKind::FtaClaim).clone();
    assert_eq!((f.due, f.estimated), (d("2026-07-06"), true));
    // Claimed: done. Not claimable: none.
    assert!(get(&compute(&DeadlineFacts { fta_claimed: true, ..facts.clone() }, &cal), DeadlineKind::FtaClaim).done);
    assert!(find(&compute(&DeadlineFacts { fta_claimable: false, ..facts }, &cal), DeadlineKind::FtaClaim).is_none());
}

#[test]
fn reconciliation_21_months_or_12_for_fta() {
    let cal = Calendar::default();
    // Value issue (001): earliest flagged summary 2025-02-28 + 21 months = Sat 2026-11-28:
    // due Fri 2026-11-27.
    let value = DeadlineFacts {
        entry_date: Some(d("2025-03-10")),
        recon_issue: Some("001".into()),
        earliest_recon_flagged_summary_date: Some(d("2025-02-28")),
        ..Default::default()
    };
    let r = get(&compute(&value, &cal), DeadlineKind::Reconciliation).clone();
    assert_eq!((r.legal, r.due, r.estimated), (d("2026-11-28"), d("2026-11-27"), false));
    assert!(r.rule.starts_with("earliest flagged summary + 21 months"));

    // Month-end clamp: 2025-05-31 + 21 months = 2027-02-31 → 2027-02-28 (a Sunday): due Fri 02-26.
    let clamp = DeadlineFacts { earliest_recon_flagged_summary_date: Some(d("2025-05-31")), ..value.clone() };
    let r = get(&compute(&clamp, &cal), DeadlineKind::Reconciliation).clone();
    assert_eq!((r.legal, r.due), (d("2027-02-28"), d("2027-02-26")));

    // FTA (pos 46 Y): earliest flagged importation 2025-12-25 + 12 months = Fri 2026-12-25,
    // Christmas: due Thu 2026-12-24.
    let fta = DeadlineFacts {
        entry_date: Some(d("2025-12-29")),
        recon_fta: true,
        earliest_recon_flagged_importation_date: Some(d("2025-12-25")),
        earliest_recon_flagged_summary_date: Some(d("2026-01-05")),
        ..Default::default()
    };
    let r = get(&compute(&fta, &cal), DeadlineKind::Reconciliation).clone();
    assert_eq!((r.legal, r.due), (d("2026-12-25"), d("2026-12-24")));
    assert!(r.rule.contains("12 months"));

    // FTA plus classification (002): the FTA one (2026-12-24) is open and earlier than
    // 2026-01-05 + 21 months = 2027-10-05; once the FTA reconciliation is filed the deadline
    // moves to Tue 2027-10-05.
    let both = DeadlineFacts { recon_issue: Some("002".into()), ..fta };
    assert_eq!(get(&compute(&both, &cal), DeadlineKind::Reconciliation).due, d("2026-12-24"));
    let fta_done = DeadlineFacts { recon_fta_filed: true, ..both };
    let r = get(&compute(&fta_done, &cal), DeadlineKind::Reconciliation).clone();
    assert_eq!((r.due, r.done), (d("2027-10-05"), false));
    let all_done = DeadlineFacts { recon_other_filed: true, ..fta_done };
    assert!(get(&compute(&all_done, &cal), DeadlineKind::Reconciliation).done);

    // Issue code "000" or blank is no flag.
    let none = DeadlineFacts { recon_issue: Some("000".into()), ..value };
    assert!(find(&compute(&none, &cal), DeadlineKind::Reconciliation).is_none());
}

#[test]
fn liquidation_scheduled_estimated_posted_suspended() {
    let cal = Calendar::default();
    let base = DeadlineFacts { entry_date: Some(d("2026-02-02")), ..Default::default() };
    // From ER: shown on its own date, not estimated.
    let er = DeadlineFacts { scheduled_liquidation: Some(d("2026-12-11")), ..base.clone() };
    let l = get(&compute(&er, &cal), DeadlineKind::Liquidation).clone();
    assert_eq!((l.due, l.estimated, l.done), (d("2026-12-11"), false, false));
    // Changed (issue 14): unknown: entry 2026-02-02 + 314 days = Sun 2026-12-13; ACE
    // liquidates on its weekly Friday cycle, so the estimate is Fri 2026-12-11, never a Sunday.
    let l = get(&compute(&base, &cal), DeadlineKind::Liquidation).clone();
    assert_eq!((l.due, l.estimated), (d("2026-12-11"), true));
    assert!(l.rule.contains("entry date + 314 days") && l.rule.contains("Friday"), "{}", l.rule);
    // Posted: done. Suspended with no date: none.
    let posted = DeadlineFacts { liquidation_date: Some(d("2026-12-11")), ..er };
    assert!(get(&compute(&posted, &cal), DeadlineKind::Liquidation).done);
    let susp = DeadlineFacts { suspended: true, ..base };
    assert!(find(&compute(&susp, &cal), DeadlineKind::Liquidation).is_none());
}

#[test]
fn extension_request_before_the_period_ends() {
    let cal = Calendar::default();
    // Changed (issue 14): the request must come before the (estimated) liquidation, with a
    // 15-day lead, not merely before the period ends. Entry Mon 2026-06-01: liquidation
    // estimated on Fri 2027-04-09 (entry + 314 = Sun 04-11, cycle Friday before); - 15 days
    // = Thu 2027-03-25, well before the period's end (2027-05-31).
    let facts = DeadlineFacts { entry_date: Some(d("2026-06-01")), ..Default::default() };
    let ds = compute(&facts, &cal);
    let e = get(&ds, DeadlineKind::ExtensionRequest).clone();
    assert_eq!((e.legal, e.due, e.estimated), (d("2027-03-25"), d("2027-03-25"), true));
    assert!(e.due < get(&ds, DeadlineKind::Liquidation).due);
    assert!(e.rule.contains("159.12(a)(1)(ii)"), "{}", e.rule);
    // A scheduled date from ER: Fri 2027-04-16 - 15 = Thu 04-01, not estimated.
    let er = DeadlineFacts { scheduled_liquidation: Some(d("2027-04-16")), ..facts.clone() };
    let e = get(&compute(&er, &cal), DeadlineKind::ExtensionRequest).clone();
    assert_eq!((e.due, e.estimated), (d("2027-04-01"), false));
    // One extension: estimate Fri 2028-04-07 (2027-04-11 + 1 year = Tue 2028-04-11), - 15 = Thu 03-23.
    let one = DeadlineFacts { extensions: 1, ..facts.clone() };
    assert_eq!(get(&compute(&one, &cal), DeadlineKind::ExtensionRequest).due, d("2028-03-23"));
    // A scheduled date after the period's end minus one day cannot push it past the end:
    // the period ends 2027-06-01, so the last day is Mon 2027-05-31 (Memorial Day): Fri 05-28.
    let late = DeadlineFacts { scheduled_liquidation: Some(d("2027-06-25")), ..facts.clone() };
    let e = get(&compute(&late, &cal), DeadlineKind::ExtensionRequest).clone();
    assert_eq!((e.legal, e.due), (d("2027-05-31"), d("2027-05-28")));
    assert!(e.rule.contains("Memorial Day"));
    // Three extensions reach the 4-year limit: nothing left to request. Suspended or
    // liquidated: none either.
    assert!(find(&compute(&DeadlineFacts { extensions: 3, ..facts.clone() }, &cal), DeadlineKind::ExtensionRequest)
        .is_none());
    assert!(find(&compute(&DeadlineFacts { suspended: true, ..facts.clone() }, &cal), DeadlineKind::ExtensionRequest)
        .is_none());
    let liq = DeadlineFacts { liquidation_date: Some(d("2027-04-09")), ..facts };
    assert!(find(&compute(&liq, &cal), DeadlineKind::ExtensionRequest).is_none());
}

#[test]
fn deemed_liquidation_one_year_plus_extensions_capped_at_four() {
    let cal = Calendar::default();
    let facts = DeadlineFacts { entry_date: Some(d("2026-06-01")), ..Default::default() };
    // 2026-06-01 + 1 year = 2027-06-01.
    let dl = get(&compute(&facts, &cal), DeadlineKind::DeemedLiquidation).clone();
    assert_eq!((dl.due, dl.rule.as_str()), (d("2027-06-01"), "entry date + 1 year (19 U.S.C. 1504)"));
    // 2 extensions: + 3 years = 2029-06-01.
    let two = DeadlineFacts { extensions: 2, ..facts.clone() };
    assert_eq!(get(&compute(&two, &cal), DeadlineKind::DeemedLiquidation).due, d("2029-06-01"));
    // 5 extensions reported: capped at 4 years = Sat 2030-06-01 (an event: not moved).
    let many = DeadlineFacts { extensions: 5, ..facts.clone() };
    let dl = get(&compute(&many, &cal), DeadlineKind::DeemedLiquidation).clone();
    assert_eq!(dl.due, d("2030-06-01"));
    assert!(dl.rule.contains("4-year limit"));
    // Leap day: 2028-02-29 + 1 year = 2029-02-28 (clamped, never later).
    let leap = DeadlineFacts { entry_date: Some(d("2028-02-29")), ..Default::default() };
    assert_eq!(get(&compute(&leap, &cal), DeadlineKind::DeemedLiquidation).due, d("2029-02-28"));
    // None while suspended, none once liquidated.
    assert!(find(&compute(&DeadlineFacts { suspended: true, ..facts.clone() }, &cal), DeadlineKind::DeemedLiquidation)
        .is_none());
    let liq = DeadlineFacts { liquidation_date: Some(d("2027-04-09")), ..facts };
    assert!(find(&compute(&liq, &cal), DeadlineKind::DeemedLiquidation).is_none());
}

#[test]
fn protest_180_days_from_liquidation_or_reliquidation() {
    let cal = Calendar::default();
    // Liquidated Fri 2026-05-15 + 180 days = Wed 2026-11-11, Veterans Day: due Tue 11-10.
    let facts = DeadlineFacts {
        entry_date: Some(d("2025-07-01")),
        liquidation_date: Some(d("2026-05-15")),
        ..Default::default()
    };
    let p = get(&compute(&facts, &cal), DeadlineKind::Protest).clone();
    assert_eq!((p.legal, p.due), (d("2026-11-11"), d("2026-11-10")));
    assert!(p.rule.starts_with("liquidation date + 180 days"));
    // Changed (issue 14): reliquidated Fri 2027-05-14: + 180 days = Wed 2027-11-10, a new
    // window of its own; the first one stays.
    let reliq = DeadlineFacts { reliquidation_date: Some(d("2027-05-14")), ..facts.clone() };
    let ds = compute(&reliq, &cal);
    let p = get(&ds, DeadlineKind::ReliquidationProtest).clone();
    assert_eq!(p.due, d("2027-11-10"));
    assert!(p.rule.starts_with("reliquidation date + 180 days"));
    assert_eq!(get(&ds, DeadlineKind::Protest).due, d("2026-11-10"));
    // A protest on file covers the liquidation; against the reliquidation only when filed after it.
    let filed = DeadlineFacts { protest_filed: true, ..facts.clone() };
    assert!(get(&compute(&filed, &cal), DeadlineKind::Protest).done);
    let old_protest = DeadlineFacts { protest_filed: true, protest_filed_date: Some(d("2026-09-01")), ..reliq.clone() };
    let ds = compute(&old_protest, &cal);
    assert!(get(&ds, DeadlineKind::Protest).done);
    assert!(!get(&ds, DeadlineKind::ReliquidationProtest).done);
    let new_protest = DeadlineFacts { protest_filed: true, protest_filed_date: Some(d("2027-06-01")), ..reliq };
    assert!(get(&compute(&new_protest, &cal), DeadlineKind::ReliquidationProtest).done);
    // Entries before 2004-12-18 had 90 days: liquidated Fri 2005-04-29 + 90 = Thu 2005-07-28.
    let old = DeadlineFacts {
        entry_date: Some(d("2004-06-01")),
        liquidation_date: Some(d("2005-04-29")),
        ..Default::default()
    };
    assert_eq!(get(&compute(&old, &cal), DeadlineKind::Protest).due, d("2005-07-28"));
}

#[test]
fn court_action_180_days_from_denial() {
    let cal = Calendar::default();
    // Denied Tue 2027-01-05 + 180 days = Sun 2027-07-04; Mon 07-05 is the observed
    // Independence Day anyway, and on or before Sunday: Sat 07-03, Fri 07-02.
    let facts = DeadlineFacts { protest_denied_date: Some(d("2027-01-05")), ..Default::default() };
    let c = get(&compute(&facts, &cal), DeadlineKind::CourtAction).clone();
    assert_eq!((c.legal, c.due), (d("2027-07-04"), d("2027-07-02")));
    // Denied Wed 2027-01-06 + 180 = Mon 2027-07-05, the observed holiday: also Fri 07-02.
    let c = get(
        &compute(&DeadlineFacts { protest_denied_date: Some(d("2027-01-06")), ..Default::default() }, &cal),
        DeadlineKind::CourtAction,
    )
    .clone();
    assert_eq!((c.legal, c.due), (d("2027-07-05"), d("2027-07-02")));
    assert!(c.rule.contains("Independence Day (observed)"));
    let filed = DeadlineFacts { court_action_filed: true, ..facts };
    assert!(get(&compute(&filed, &cal), DeadlineKind::CourtAction).done);
}

#[test]
fn due_dates_are_never_later_than_the_rule_and_always_working_days() {
    // Sweep a year of entry dates with every fact present: each action deadline is a
    // working day no later than its legal date, at most a few days before it.
    let cal = Calendar::new([d("2026-12-24")]);
    let mut entry = d("2026-01-01");
    while entry < d("2027-01-01") {
        let facts = DeadlineFacts {
            entry_date: Some(entry),
            importation_date: Some(entry),
            release_date: Some(entry),
            summary_filed_separately: true,
            statement_due: Some(entry + Duration::days(12)),
            fta_claimable: true,
            recon_fta: true,
            recon_issue: Some("007".into()),
            liquidation_date: Some(entry + Duration::days(314)),
            protest_denied_date: Some(entry + Duration::days(400)),
            ..Default::default()
        };
        for dl in compute(&facts, &cal) {
            assert!(dl.due <= dl.legal || dl.kind == DeadlineKind::SummaryFiling, "{dl:?}");
            if dl.kind.is_action() {
                assert!(cal.is_working_day(dl.due), "{dl:?}");
                assert!((dl.legal - dl.due).num_days() <= 5, "{dl:?}");
            }
        }
        entry = entry.succ_opt().unwrap();
    }
}

// ---------------------------------------------------------------- reminders

/// The scheduler's loop, simulated: wake at each step, send what is due, record the keys.
fn step(
    plan: &ReminderPlan,
    items: &[EntryDeadline],
    now: DateTime<FixedOffset>,
    ledger: &mut HashSet<ReminderKey>,
    log: &mut Vec<(ReminderKey, DateTime<FixedOffset>, bool)>,
) {
    let due = plan.due(items, now, &|k| ledger.contains(k));
    for r in due {
        assert!(ledger.insert(r.key.clone()), "produced twice: {:?}", r.key);
        log.push((r.key, now, r.late));
    }
}

#[test]
fn reminders_once_each_across_a_restart_with_missed_leads_collapsed() {
    let cal = Calendar::default();
    // PSC due Wed 2026-11-25 (scheduled liquidation 2026-12-11 - 15 = Thanksgiving, moved back).
    let facts = DeadlineFacts {
        entry_date: Some(d("2026-02-02")),
        scheduled_liquidation: Some(d("2026-12-11")),
        ..Default::default()
    };
    let psc: Vec<Deadline> = compute(&facts, &cal).into_iter().filter(|x| x.kind == DeadlineKind::Psc).collect();
    let items = with_entry(psc);
    assert_eq!(items[0].deadline.due, d("2026-11-25"));

    // Leads fire at 08:00 New York on: 30 → 10-26, 14 → 11-11, 7 → 11-18, 3 → 11-22, 1 → 11-24, 0 → 11-25.
    let mut ledger = HashSet::new(); // the store's sent-ledger: survives restarts
    let mut log = Vec::new();
    let mut now = at("2026-10-01T00:00:00-04:00");
    // First run: every 6 hours until the daemon stops on 2026-11-10.
    while now < at("2026-11-10T00:00:00-05:00") {
        let plan = plan();
        step(&plan, &items, now, &mut ledger, &mut log);
        now += Duration::hours(6);
    }
    // Down from 11-10 to 11-21 12:00 (leads 14 and 7 missed), then restarted: a fresh plan,
    // the same ledger.
    now = at("2026-11-21T12:00:00-05:00");
    while now < at("2026-12-05T00:00:00-05:00") {
        let plan = plan();
        step(&plan, &items, now, &mut ledger, &mut log);
        now += Duration::hours(6);
    }
    let leads: Vec<u32> = log.iter().map(|(k, _, _)| k.lead_days).collect();
    // 14 was superseded by 7 while down: only the most recent missed lead is sent.
    assert_eq!(leads, [30, 7, 3, 1, 0]);
    let sent_at: Vec<String> = log.iter().map(|(_, t, _)| t.to_rfc3339()).collect();
    assert_eq!(
        sent_at,
        [
            "2026-10-26T12:00:00-04:00", // first 6-hour step at or after 08:00 EDT
            "2026-11-21T12:00:00-05:00", // at restart, late
            "2026-11-22T12:00:00-05:00", // steps after restart: 18, 00, 06, 12; 06:00 is before 08:00
            "2026-11-24T12:00:00-05:00",
            "2026-11-25T12:00:00-05:00",
        ]
    );
    let late: Vec<bool> = log.iter().map(|(_, _, l)| *l).collect();
    assert_eq!(late, [false, true, false, false, false]);
    assert!(log.iter().all(|(k, _, _)| k.due == d("2026-11-25") && k.entry == entry()));
}

#[test]
fn next_wake_is_the_next_unsent_lead() {
    let cal = Calendar::default();
    let facts = DeadlineFacts {
        entry_date: Some(d("2026-02-02")),
        scheduled_liquidation: Some(d("2026-12-11")),
        ..Default::default()
    };
    let items =
        with_entry(compute(&facts, &cal).into_iter().filter(|x| x.kind == DeadlineKind::Psc).collect::<Vec<_>>());
    let plan = plan();
    let mut ledger: HashSet<ReminderKey> = HashSet::new();
    // Before anything: lead 30 of 2026-11-25, at 08:00 EDT on 10-26.
    let now = at("2026-10-01T09:00:00-04:00");
    assert_eq!(plan.next_wake(&items, now, &|k| ledger.contains(k)), Some(at("2026-10-26T08:00:00-04:00")));
    assert!(plan.due(&items, now, &|k| ledger.contains(k)).is_empty());
    // Sleep until then: exactly one reminder is due at that instant, none a second before.
    let wake = at("2026-10-26T08:00:00-04:00");
    assert!(plan.due(&items, wake - Duration::seconds(1), &|k| ledger.contains(k)).is_empty());
    let due = plan.due(&items, wake, &|k| ledger.contains(k));
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].days_left, 30);
    ledger.insert(due[0].key.clone());
    // Next: lead 14 on 11-11 at 08:00 EST (DST ended 11-01).
    assert_eq!(plan.next_wake(&items, wake, &|k| ledger.contains(k)), Some(at("2026-11-11T08:00:00-05:00")));
    // After the day itself nothing is left.
    assert_eq!(plan.next_wake(&items, at("2026-11-25T09:00:00-05:00"), &|k| ledger.contains(k)), None);
    // Through the clock the daemon uses: ENTRYWATCH_NOW's format into Clock::Fixed.
    let clock = Clock::Fixed(at("2026-11-24T08:00:00-05:00"));
    let due = plan.due(&items, clock.now(), &|k| ledger.contains(k));
    assert_eq!(due.iter().map(|r| r.key.lead_days).collect::<Vec<_>>(), [1]);
}

#[test]
fn moved_deadline_reminds_for_its_new_date() {
    let cal = Calendar::default();
    let plan = plan();
    let mut ledger = HashSet::new();
    let mut log = Vec::new();
    // Liquidated Fri 2026-12-11: protest due Wed 2027-06-09; lead 30 fires Mon 2027-05-10.
    let facts = DeadlineFacts {
        entry_date: Some(d("2026-02-02")),
        liquidation_date: Some(d("2026-12-11")),
        ..Default::default()
    };
    let protest_only = |f: &DeadlineFacts, kind: DeadlineKind| {
        with_entry(compute(f, &cal).into_iter().filter(|x| x.kind == kind).collect::<Vec<_>>())
    };
    let items = protest_only(&facts, DeadlineKind::Protest);
    assert_eq!(items[0].deadline.due, d("2027-06-09"));
    step(&plan, &items, at("2027-05-10T09:00:00-04:00"), &mut ledger, &mut log);
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].0.due, log[0].0.lead_days), (d("2027-06-09"), 30));

    // Reliquidated Fri 2027-05-14: a new protest window closes Wed 2027-11-10.
    let moved = DeadlineFacts { reliquidation_date: Some(d("2027-05-14")), ..facts };
    let items = protest_only(&moved, DeadlineKind::ReliquidationProtest);
    assert_eq!(items[0].deadline.due, d("2027-11-10"));
    // On 05-20 nothing: the new date's leads are all ahead; the next is lead 30 on Mon 2027-10-11.
    step(&plan, &items, at("2027-05-20T09:00:00-04:00"), &mut ledger, &mut log);
    assert_eq!(log.len(), 1);
    assert_eq!(
        plan.next_wake(&items, at("2027-05-20T09:00:00-04:00"), &|k| ledger.contains(k)),
        Some(at("2027-10-11T08:00:00-04:00"))
    );
    step(&plan, &items, at("2027-10-11T08:00:00-04:00"), &mut ledger, &mut log);
    assert_eq!(log.len(), 2);
    assert_eq!((log[1].0.due, log[1].0.lead_days), (d("2027-11-10"), 30));

    // An extension moves deemed liquidation a year: reminders for 2028-06-01, none for the old date.
    let ext0 = DeadlineFacts { entry_date: Some(d("2026-06-01")), ..Default::default() };
    let deemed = |f: &DeadlineFacts| {
        with_entry(
            compute(f, &cal).into_iter().filter(|x| x.kind == DeadlineKind::DeemedLiquidation).collect::<Vec<_>>(),
        )
    };
    let now = at("2027-05-03T09:00:00-04:00"); // after lead 30 (05-02) of 2027-06-01
    let before = plan.due(&deemed(&ext0), now, &|k| ledger.contains(k));
    assert_eq!(before.iter().map(|r| (r.key.due, r.key.lead_days)).collect::<Vec<_>>(), [(d("2027-06-01"), 30)]);
    let ext1 = DeadlineFacts { extensions: 1, ..ext0 };
    let items = deemed(&ext1);
    assert!(plan.due(&items, now, &|k| ledger.contains(k)).is_empty());
    assert_eq!(plan.next_wake(&items, now, &|k| ledger.contains(k)), Some(at("2028-05-02T08:00:00-04:00")));
}

#[test]
fn done_deadlines_are_silent_and_overdue_ones_are_not_reminded() {
    let cal = Calendar::default();
    let plan = plan();
    let facts = DeadlineFacts {
        entry_date: Some(d("2026-02-02")),
        scheduled_liquidation: Some(d("2026-12-11")),
        statement_due: Some(d("2026-02-17")),
        statement_paid: true,
        psc_filed: true,
        ..Default::default()
    };
    let items: Vec<EntryDeadline> = with_entry(compute(&facts, &cal))
        .into_iter()
        .filter(|i| matches!(i.deadline.kind, DeadlineKind::Psc | DeadlineKind::StatementPayment))
        .collect();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.deadline.done));
    let never = |_: &ReminderKey| false;
    for day in ["2026-02-10", "2026-02-17", "2026-10-26", "2026-11-25"] {
        let now = at(&format!("{day}T12:00:00-05:00"));
        assert!(plan.due(&items, now, &never).is_empty(), "{day}");
    }
    assert_eq!(plan.next_wake(&items, at("2026-02-01T00:00:00-05:00"), &never), None);

    // An open deadline whose day has passed (local date) gets no reminder, even unsent.
    let open = with_entry(vec![Deadline { done: false, ..items[0].deadline.clone() }]);
    let due = open[0].deadline.due;
    let after = at(&format!("{}T00:30:00-05:00", due + Duration::days(1)));
    assert!(plan.due(&open, after, &never).is_empty());
    // ... but on the day itself, after remind-hour, the lead-0 reminder is due.
    let on_day = at(&format!("{due}T09:00:00-05:00"));
    let r = plan.due(&open, on_day, &never);
    assert_eq!(r.iter().map(|r| (r.key.lead_days, r.days_left)).collect::<Vec<_>>(), [(0, 0)]);
}

#[test]
fn many_entries_each_key_once_over_a_year_of_days() {
    // 40 entries a week apart; step a day at a time through 2026-2027 at 08:30 New York
    // time with one restart; every produced key is new, and every lead of every deadline
    // whose leads all lie inside the run window is produced exactly once.
    let cal = Calendar::default();
    let plan = plan();
    let mut items = Vec::new();
    for i in 0..40u32 {
        let entry: EntryNumber = format!("EEE{:07}0", 1000 + i).parse().unwrap();
        let facts =
            DeadlineFacts { entry_date: Some(d("2026-01-05") + Duration::weeks(i64::from(i))), ..Default::default() };
        for deadline in compute(&facts, &cal) {
            items.push(EntryDeadline { entry: entry.clone(), deadline });
        }
    }
    let mut ledger = HashSet::new();
    let mut log = Vec::new();
    let mut day = d("2026-01-01");
    while day <= d("2028-12-31") {
        let now = at(&format!("{day}T08:30:00-05:00"));
        step(&plan, &items, now, &mut ledger, &mut log);
        day = day.succ_opt().unwrap();
    }
    // Each deadline is due after 2026-02-04 (30 days in) and before 2028-12-31: all six
    // leads once each (stepping daily after the fire hour misses none).
    for it in &items {
        let n = log.iter().filter(|(k, _, _)| k.entry == it.entry && k.kind == it.deadline.kind).count();
        assert_eq!(n, 6, "{} {}", it.entry, it.deadline.kind);
    }
    assert_eq!(log.len(), items.len() * 6);
}

// ---------------------------------------------------------------- listing and ICS

#[test]
fn listing_is_soonest_first_within_days() {
    let cal = Calendar::default();
    let facts = DeadlineFacts {
        entry_date: Some(d("2026-02-02")),
        scheduled_liquidation: Some(d("2026-12-11")),
        ..Default::default()
    };
    let items = with_entry(compute(&facts, &cal));
    let rows = listing(&items, d("2026-11-01"), Some(45), false);
    // PSC 11-25, the extension request (liquidation - 15 days: 11-25 too) and liquidation
    // 12-11 fall within 45 days of 11-01 (12-16); deemed liquidation (2027-02-02) does not.
    let got: Vec<(String, NaiveDate)> = rows.iter().map(|r| (r.kind.to_string(), r.due)).collect();
    assert_eq!(
        got,
        [
            ("psc".to_string(), d("2026-11-25")),
            ("extension-request".to_string(), d("2026-11-25")),
            ("liquidation".to_string(), d("2026-12-11"))
        ]
    );
    let json = serde_json::to_value(&rows).unwrap();
    assert_eq!(json[0]["entry"], "EEE-1234567-3");
    assert_eq!(json[0]["estimated"], false);
    assert!(json[0]["rule"].as_str().unwrap().starts_with("earlier of entry date + 300 days"));
}

#[test]
fn ics_feed_is_well_formed() {
    let cal = Calendar::default();
    let facts = DeadlineFacts {
        entry_date: Some(d("2026-02-02")),
        scheduled_liquidation: Some(d("2026-12-11")),
        statement_due: Some(d("2026-02-17")),
        statement_paid: true,
        ..Default::default()
    };
    let items = with_entry(compute(&facts, &cal));
    let stamp = at("2026-03-01T09:00:00-05:00");
    let ics = to_ics(&items, stamp);

    assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    // Every line ends in CRLF, no bare LF or CR, no physical line over 75 octets.
    assert!(!ics.replace("\r\n", "").contains('\n') && !ics.replace("\r\n", "").contains('\r'));
    let physical: Vec<&str> = ics.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(physical.iter().all(|l| l.len() <= 75), "{physical:#?}");
    // Some line was long enough to be folded (the PSC description), and unfolding restores it.
    assert!(physical.iter().any(|l| l.starts_with(' ')));
    let unfolded = ics.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.iter().filter(|l| **l == "BEGIN:VEVENT").count(), items.len());
    assert_eq!(lines.iter().filter(|l| **l == "END:VEVENT").count(), items.len());
    // DTSTAMP in UTC from the injected clock: 09:00 -05:00 = 14:00Z.
    assert_eq!(lines.iter().filter(|l| **l == "DTSTAMP:20260301T140000Z").count(), items.len());
    // The PSC event: all-day on 2026-11-25, stable UID, the rule escaped (; and , of the rule text).
    assert!(lines.contains(&"UID:EEE12345673-psc@entrywatch"));
    assert!(lines.contains(&"DTSTART;VALUE=DATE:20261125"));
    assert!(lines.contains(&"DTEND;VALUE=DATE:20261126"));
    let desc =
        lines.iter().find(|l| l.starts_with("DESCRIPTION:Entry EEE-1234567-3\\nDeadline: Post summary")).unwrap();
    assert!(desc.contains("(ER))\\; 2026-11-26 is not a working day"), "{desc}");
    let value = desc.trim_start_matches("DESCRIPTION:");
    assert!(value.match_indices([';', ',']).all(|(i, _)| value[..i].ends_with('\\')), "unescaped ; or , in {value}");
    assert!(lines.contains(&"SUMMARY:Statement payment due: EEE-1234567-3 [done]"));
    // Every property line is NAME[;params]:value with a known name.
    for l in &lines {
        let name = l.split([':', ';']).next().unwrap();
        assert!(
            [
                "BEGIN",
                "END",
                "VERSION",
                "PRODID",
                "CALSCALE",
                "METHOD",
                "X-WR-CALNAME",
                "UID",
                "DTSTAMP",
                "DTSTART",
                "DTEND",
                "SUMMARY",
                "DESCRIPTION",
                "CATEGORIES",
                "TRANSP"
            ]
            .contains(&name),
            "{l}"
        );
    }

    // The UID survives a moved date (so subscribed calendars move the event).
    let moved = DeadlineFacts { scheduled_liquidation: Some(d("2027-06-11")), extensions: 1, ..facts };
    let ics2 = to_ics(&with_entry(compute(&moved, &cal)), stamp).replace("\r\n ", "");
    assert!(ics2.contains("UID:EEE12345673-psc@entrywatch\r\n"));
    assert!(ics2.contains("DTSTART;VALUE=DATE:20261127\r\n"));
}

// ---------------------------------------------------------------- robustness

mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn any_date() -> impl Strategy<Value = Option<NaiveDate>> {
        // The whole range chrono represents, plus None.
        let lo = NaiveDate::MIN.num_days_from_ce();
        let hi = NaiveDate::MAX.num_days_from_ce();
        proptest::option::of((lo..=hi).prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap()))
    }

    use chrono::Datelike;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn compute_remind_and_ics_never_panic(
            entry_date in any_date(), release in any_date(), sched in any_date(), liq in any_date(),
            reliq in any_date(), denied in any_date(), due in any_date(), ext in 0u32..10,
            flags in any::<[bool; 6]>(), issue in proptest::option::of("[ 0-9A-Z]{0,4}"),
        ) {
            let facts = DeadlineFacts {
                entry_date, release_date: release, importation_date: entry_date,
                summary_filed_separately: flags[0], statement_due: due, fta_claimable: flags[1],
                recon_fta: flags[2], recon_issue: issue, earliest_recon_flagged_summary_date: release,
                scheduled_liquidation: sched, liquidation_date: liq, reliquidation_date: reliq,
                extensions: ext, suspended: flags[3], psc_filed: flags[4], protest_filed: flags[5],
                protest_denied_date: denied, ..Default::default()
            };
            let cal = Calendar::new(due);
            let ds = compute(&facts, &cal);
            for dl in &ds {
                prop_assert!(dl.due <= dl.legal || dl.kind == DeadlineKind::SummaryFiling);
            }
            let items = with_entry(ds);
            let p = plan();
            let now = at("2026-06-01T12:00:00-04:00");
            let _ = p.due(&items, now, &|_| false);
            let _ = p.next_wake(&items, now, &|_| false);
            let ics = to_ics(&items, now);
            prop_assert!(ics.ends_with("END:VCALENDAR\r\n"));
        }

        /// The issue 14 facts (entry types, payment types, suspension lift, warehouse
        /// withdrawal, importer extension) at the edges of the calendar: no panic, and every
        /// estimated liquidation is a Friday.
        #[test]
        fn sourced_rules_never_panic(
            entry_date in any_date(), print in any_date(), lifted in any_date(), withdrawal in any_date(),
            sched in any_date(), ext in 0u32..6, flags in any::<[bool; 6]>(),
            entry_type in proptest::sample::select(vec!["01", "11", "12", "21", "23", ""]),
            payment_type in proptest::sample::select(vec!["", "1", "2", "3", "5", "6", "7", "8"]),
        ) {
            let facts = DeadlineFacts {
                entry_date, entry_date_estimated: flags[0], entry_type: entry_type.into(),
                payment_type: payment_type.into(), statement_print_date: print, release_date: print,
                suspension_lifted: lifted, final_withdrawal: withdrawal, scheduled_liquidation: sched,
                extensions: ext, importer_extension: flags[1], suspended: flags[2],
                adcvd_suspended: flags[3], tib_six_months: flags[4], fta_claimable: flags[5],
                importation_date: entry_date, ..Default::default()
            };
            let ds = compute(&facts, &Calendar::default());
            for dl in &ds {
                prop_assert!(dl.due <= dl.legal || dl.kind == DeadlineKind::SummaryFiling);
                if dl.kind == DeadlineKind::Liquidation && dl.estimated && lifted.is_none() {
                    prop_assert_eq!(dl.due.weekday(), chrono::Weekday::Fri);
                }
            }
            let _ = to_ics(&with_entry(ds), at("2026-06-01T12:00:00-04:00"));
        }
    }
}
