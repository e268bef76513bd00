//! The alert ingest hook: turns each new fact of an entry into alerts (code lists + `[[alerts.override]]`, `[[route]]`) and queues them in the outbox inside the file's own store transaction.

use super::outbox::OutboxItem;
use super::rules::{self, CodedFact};
use super::store::{insert_held_tx, insert_new_tx};
use super::{Alert, AlertKind, EntryFacts, LineRef};
use crate::clock::Clock;
use crate::config::{Alerts, Category, Config, Route};
use crate::domain::{Entry, Fact, FactKind, ReleaseStatus, SummaryStatus};
use crate::grammar::codes::{AlertSeverity, CodeLists, Effect};
use crate::grammar::Grammars;
use crate::ingest::IngestHook;
use crate::store::entries::EntryState;
use crate::store::{StoreTx, TxError};
use chrono::{DateTime, FixedOffset, NaiveDateTime};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Says an entry's next deadline in words (`2026-03-02: post-summary correction window
/// closes`), from the entry, its facts and now; the deadline module plugs one in with
/// [`AlertHook::with_next_deadline`].
pub type NextDeadlineFn = Arc<dyn Fn(&Entry, &[Fact], DateTime<FixedOffset>) -> Option<String> + Send + Sync + 'static>;

/// Makes alerts from facts and queues them. Built once from the config and the grammars'
/// code lists; shared by the pipeline (ingest) and the mailer loop (the no-release check).
pub struct AlertHook {
    codes: CodeLists,
    alerts: Alerts,
    routes: Vec<Route>,
    tz: chrono_tz::Tz,
    digest_hour: u32,
    clock: Clock,
    queued: AtomicU64,
    next_deadline: Option<NextDeadlineFn>,
    affected: crate::links::AffectedConfig,
    calendar: crate::calendar::Calendar,
}

impl std::fmt::Debug for AlertHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertHook").field("routes", &self.routes.len()).field("tz", &self.tz).finish()
    }
}

/// A message time (local wall time in the configured zone) as an instant: the earlier one in
/// the autumn overlap, an hour later in the spring gap (a wall time that did not exist).
pub fn local_time(tz: chrono_tz::Tz, at: NaiveDateTime) -> DateTime<FixedOffset> {
    crate::clock::local_instant(tz, at)
}

/// The entry's facts as shown in a mail.
pub fn entry_facts(entry: &Entry) -> EntryFacts {
    let nonempty = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let po_of = |line: u32| {
        entry
            .pre_entry
            .as_ref()
            .and_then(|p| p.lines.iter().find(|l| l.line == line))
            .map(|l| (nonempty(&l.po_number), nonempty(&l.po_line)))
    };
    let lines = entry
        .current_filing()
        .map(|f| {
            f.summary
                .lines
                .iter()
                .map(|l| {
                    let (po_number, po_line) = po_of(l.line).unwrap_or((None, None));
                    LineRef { line: l.line, po_number, po_line }
                })
                .collect()
        })
        .unwrap_or_default();
    EntryFacts {
        entry: entry.entry.clone(),
        importer: nonempty(&entry.importer),
        importer_name: None,
        broker: entry.entry.as_ref().map(|e| e.filer.clone()),
        port: nonempty(&entry.port),
        lines,
        open_holds: entry
            .holds
            .iter()
            .map(|h| {
                let what =
                    if h.narrative.trim().is_empty() { String::new() } else { format!(": {}", h.narrative.trim()) };
                format!("{} {} ({}){what}", h.list.to_uppercase(), h.code, h.agency)
            })
            .collect(),
        next_deadline: None,
        affected: None,
    }
}

/// When the daily digest after `now` is made: the next `hour`:00 local time (strictly later).
pub fn next_digest_time(now: DateTime<FixedOffset>, tz: chrono_tz::Tz, hour: u32) -> DateTime<FixedOffset> {
    let local = now.with_timezone(&tz);
    let at_hour = |d: chrono::NaiveDate| {
        d.and_hms_opt(hour.min(23), 0, 0).map(|t| local_time(tz, t)).unwrap_or(now + chrono::Duration::days(1))
    };
    let today = at_hour(local.date_naive());
    if today > now {
        return today;
    }
    local.date_naive().succ_opt().map(at_hour).unwrap_or(now + chrono::Duration::days(1))
}

/// When the cargo arrived, as far as the facts say: the earliest SO50 95 "bill arrived",
/// else the earliest cargo release message (SO10 header or any disposition).
pub fn arrival(facts: &[Fact]) -> Option<NaiveDateTime> {
    let bill_arrived = facts
        .iter()
        .filter(|f| matches!(&f.kind, FactKind::Disposition { list, code, .. } if list == "so50" && code == "95"))
        .map(|f| f.at)
        .min();
    bill_arrived.or_else(|| {
        facts
            .iter()
            .filter(|f| matches!(f.kind, FactKind::CargoHeader { .. } | FactKind::Disposition { .. }))
            .map(|f| f.at)
            .min()
    })
}

/// The time of the latest release disposition, if any.
fn released_at(facts: &[Fact]) -> Option<NaiveDateTime> {
    facts
        .iter()
        .filter(|f| matches!(&f.kind, FactKind::Disposition { effect: Effect::Released, .. }))
        .map(|f| f.at)
        .max()
}

/// Whether an entry can still raise the no-release warning.
pub fn awaits_release(entry: &Entry) -> bool {
    !entry.released && entry.release != ReleaseStatus::Cancelled && entry.summary_status != SummaryStatus::Deleted
}

/// The fact being turned into alerts, with the entry's facts and the time.
#[derive(Clone, Copy)]
struct FactCx<'a> {
    fact: &'a Fact,
    facts: &'a EntryFacts,
    now: DateTime<FixedOffset>,
}

impl AlertHook {
    pub fn new(config: &Config, grammars: &Grammars, clock: Clock) -> AlertHook {
        AlertHook {
            codes: grammars.codes.clone(),
            alerts: config.alerts.clone(),
            routes: config.route.clone(),
            tz: config.timezone(),
            digest_hour: config.deadlines.remind_hour.min(23),
            clock,
            queued: AtomicU64::new(0),
            next_deadline: None,
            affected: config.affected.clone(),
            calendar: crate::calendar::Calendar::from_config(&config.deadlines),
        }
    }

    /// Fill each mail's "Next deadline" line with `f`.
    pub fn with_next_deadline(mut self, f: NextDeadlineFn) -> AlertHook {
        self.next_deadline = Some(f);
        self
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn alerts_config(&self) -> &Alerts {
        &self.alerts
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// The local hour the daily digest is made (`deadlines.remind-hour`).
    pub fn digest_hour(&self) -> u32 {
        self.digest_hour
    }

    /// Alerts put in the outbox by this hook so far (counted when written into a transaction;
    /// a transaction retried after a conflict can count twice).
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    fn coded(
        &self,
        cx: &FactCx<'_>,
        list: &str,
        code: &str,
        narrative: Option<String>,
        category: Option<Category>,
    ) -> Option<Alert> {
        let FactCx { fact: f, facts, now } = *cx;
        let resolved = crate::grammar::codes::list_name(list);
        let fact = CodedFact {
            list: resolved.to_string(),
            code: code.to_string(),
            at: local_time(self.tz, f.at),
            inbox: Some(f.source.inbox.clone()).filter(|s| !s.is_empty()),
            narrative: narrative.filter(|n| !n.trim().is_empty()),
            facts: facts.clone(),
            category,
        };
        let mut a = rules::alert_for_code(&self.codes, &self.alerts, fact, now)?;
        // A narrative that only repeats the code's meaning adds nothing.
        if let (Some(n), Some(c)) = (&a.narrative, &a.code) {
            if n.trim().eq_ignore_ascii_case(c.meaning.trim()) {
                a.narrative = None;
            }
        }
        // Show and override by the short name staff know (`so60`); the list's own name works too.
        if resolved != list {
            a.severity = rules::severity_for(
                &self.alerts,
                list,
                code.trim(),
                a.facts.importer.as_deref(),
                a.inbox.as_deref(),
                a.severity,
            );
            if let Some(c) = a.code.as_mut() {
                c.list = list.to_string();
            }
        }
        Some(a)
    }

    /// The alerts one new fact raises (none for plain data).
    pub fn alerts_for_fact(&self, f: &Fact, facts: &EntryFacts, now: DateTime<FixedOffset>) -> Vec<Alert> {
        let mut out = Vec::new();
        let cx = FactCx { fact: f, facts, now };
        match &f.kind {
            FactKind::Disposition { effect: Effect::None, .. } => {}
            FactKind::Disposition { list, code, narrative, .. } => {
                out.extend(self.coded(&cx, list, code, Some(narrative.clone()), None));
            }
            FactKind::SummaryAccepted { narrative, .. } => {
                out.extend(self.coded(&cx, "ax", "A", Some(narrative.clone()), None));
            }
            FactKind::SummaryRejected { conditions, .. } => {
                let text: Vec<String> = conditions.iter().map(|(c, n)| format!("{c}: {n}")).collect();
                out.extend(self.coded(&cx, "ax", "R", Some(text.join("\n")), Some(Category::Rejection)));
            }
            FactKind::SummaryDeleted { version } => {
                let at = local_time(self.tz, f.at);
                let mut a = rules::alert_for_event(
                    AlertKind::Cancelled,
                    AlertSeverity::Warning,
                    Some("summary-deleted"),
                    at,
                    facts.clone(),
                    now,
                );
                a.inbox = Some(f.source.inbox.clone());
                a.narrative = Some(format!("Entry summary deleted (version {version})."));
                out.push(a);
            }
            FactKind::Notice { disposition, reason, remarks, effect, .. } => {
                let mut text = Vec::new();
                if !reason.trim().is_empty() {
                    text.push(format!("Reason {}", reason.trim()));
                }
                text.extend(remarks.iter().cloned());
                // The disposition's effect in uc_dispositions, as the interpreter recorded it.
                let cat = (*effect == Effect::Rejected).then_some(Category::Rejection);
                out.extend(self.coded(&cx, "uc", disposition, Some(text.join("\n")), cat));
            }
            FactKind::Statement { final_statement, .. } => {
                let code = if *final_statement { "F" } else { "P" };
                out.extend(self.coded(&cx, "statement", code, None, Some(Category::Statement)));
            }
            FactKind::Liquidation { status_code, .. } => {
                out.extend(self.coded(&cx, "liquidation", status_code, None, Some(Category::Liquidation)));
            }
            FactKind::RefundClaim { claim } if claim.status == crate::recovery::result::ClaimStatus::Rejected => {
                // One alert per result file and entry (its file and first row make it unique).
                let at = local_time(self.tz, f.at);
                let sha = f.source.sha256.get(..12).unwrap_or(&f.source.sha256);
                let what = format!("{}-{sha}-{}", claim.program, f.source.record);
                let mut a = rules::alert_for_event(
                    AlertKind::RefundRejected,
                    AlertSeverity::Warning,
                    Some(&what),
                    at,
                    facts.clone(),
                    now,
                );
                a.inbox = Some(f.source.inbox.clone()).filter(|s| !s.is_empty());
                a.narrative = Some(format!("{} (file {})", claim.detail(), f.source.file));
                out.push(a);
            }
            FactKind::Finding { application, notes } => {
                // One alert per applied message with findings (its file and record make it unique).
                let at = local_time(self.tz, f.at);
                let sha = f.source.sha256.get(..12).unwrap_or(&f.source.sha256);
                let what = format!("finding-{sha}-{}", f.source.record);
                let mut a = rules::alert_for_event(
                    AlertKind::Unrecognised,
                    AlertSeverity::Warning,
                    Some(&what),
                    at,
                    facts.clone(),
                    now,
                );
                a.inbox = Some(f.source.inbox.clone()).filter(|s| !s.is_empty());
                a.narrative = Some(format!(
                    "{application} message applied with findings (file {}):\n{}",
                    f.source.file,
                    notes.join("\n")
                ));
                out.push(a);
            }
            _ => {}
        }
        out
    }

    /// Every alert an entry change raises: one per new coded fact, and the release
    /// confirmation (when on and now due). `all_facts` is the entry's whole fact log including
    /// `new_facts`. The no-release warning is not raised here (a backlog replayed file by file
    /// would warn about entries a later file of the same batch releases): see
    /// [`AlertHook::no_release_for`] and `service::check_no_release`, run after commits.
    pub fn alerts_for_change(
        &self,
        after: &Entry,
        all_facts: &[Fact],
        new_facts: &[Fact],
        now: DateTime<FixedOffset>,
    ) -> Vec<Alert> {
        let mut facts = entry_facts(after);
        if let Some(f) = &self.next_deadline {
            facts.next_deadline = f(after, all_facts, now);
        }
        // A file whose findings reached the entry (a `finding` fact) names its unknown codes in
        // that one unknown-code alert: its coded facts do not also alert for being unknown.
        let with_findings: std::collections::HashSet<&str> = new_facts
            .iter()
            .filter(|f| matches!(f.kind, FactKind::Finding { .. }))
            .map(|f| f.source.sha256.as_str())
            .collect();
        let mut out: Vec<Alert> = new_facts
            .iter()
            .flat_map(|f| {
                let mut a = self.alerts_for_fact(f, &facts, now);
                if with_findings.contains(f.source.sha256.as_str()) {
                    a.retain(|a| {
                        let unknown = a.code.as_ref().is_some_and(|c| {
                            self.codes.get(crate::grammar::codes::list_name(&c.list), c.code.trim()).is_none()
                        });
                        !(a.kind == AlertKind::Advisory && unknown)
                    });
                }
                a
            })
            .collect();
        if self.alerts.release_confirmation && after.release == ReleaseStatus::Released {
            let statement_final = after.statement.as_ref().is_some_and(|s| s.final_statement);
            let at = released_at(all_facts).map(|t| local_time(self.tz, t));
            out.extend(rules::release_confirmation_alert(&self.alerts, &facts, at, statement_final, now));
        }
        out
    }

    /// The no-release (demurrage) warning for an entry, when it is due.
    pub fn no_release_for(&self, entry: &Entry, all_facts: &[Fact], now: DateTime<FixedOffset>) -> Option<Alert> {
        if !awaits_release(entry) {
            return None;
        }
        let arrived = local_time(self.tz, arrival(all_facts)?);
        rules::no_release_alert(&self.alerts, &entry_facts(entry), arrived, false, now)
    }

    /// Queue alerts inside a transaction: each routed alert once per identity; with
    /// `alerts.digest` on, non-critical ones are held for the next daily digest instead.
    /// Returns how many were new.
    pub fn queue_tx(
        &self,
        tx: &mut StoreTx<'_>,
        alerts: Vec<Alert>,
        now: DateTime<FixedOffset>,
    ) -> Result<u64, TxError> {
        let mut n = 0;
        for a in alerts {
            let to = rules::routes_for(&a, &self.routes);
            if to.is_empty() {
                continue;
            }
            let new = if rules::goes_to_digest(&a, &self.alerts) {
                let mut item = OutboxItem::for_alert(a, to, now);
                item.next_attempt = next_digest_time(now, self.tz, self.digest_hour);
                insert_held_tx(tx, &item)?
            } else {
                insert_new_tx(tx, &OutboxItem::for_alert(a, to, now))?
            };
            if new {
                n += 1;
            }
        }
        Ok(n)
    }
}

impl AlertHook {
    /// Give each alert of a triggering fact (impact rules, `[affected]`) the list of other
    /// entries it touches, read from the links index inside the file's transaction. An alert
    /// is matched to its fact by its stable identity.
    fn attach_affected(
        &self,
        tx: &mut StoreTx<'_>,
        after: &Entry,
        new_facts: &[Fact],
        alerts: &mut [Alert],
        now: DateTime<FixedOffset>,
    ) -> Result<(), TxError> {
        let today = crate::deadline::local_today(now, self.tz);
        let facts = entry_facts(after);
        for f in new_facts {
            let triggers = crate::links::triggers_of(f, after);
            if triggers.is_empty() {
                continue;
            }
            let ids: Vec<String> = self.alerts_for_fact(f, &facts, now).into_iter().map(|a| a.id).collect();
            if !alerts.iter().any(|a| ids.contains(&a.id)) {
                continue;
            }
            let reader = crate::links::TxReader(tx);
            let list = crate::links::affected(&reader, &self.affected, after, &triggers, &self.calendar, today)
                .map_err(|e| TxError::abort(e.to_string()))?;
            if list.is_empty() {
                continue;
            }
            for a in alerts.iter_mut().filter(|a| ids.contains(&a.id)) {
                a.facts.affected = Some(list.clone());
            }
        }
        Ok(())
    }
}

impl IngestHook for AlertHook {
    fn on_entry_changed(
        &self,
        tx: &mut StoreTx<'_>,
        before: Option<&EntryState>,
        after: &EntryState,
        new_facts: &[Fact],
    ) -> Result<(), TxError> {
        let now = self.clock.now();
        let (state, after) = (after, &after.entry);
        let key = after.entry.as_ref().map(|e| e.compact()).unwrap_or_default();
        // The fact log as stored before this file (the pipeline writes it after the hooks).
        let mut all: Vec<Fact> = crate::store::entries::facts_tx(tx, &key)?.unwrap_or_default();
        all.extend(new_facts.iter().cloned());
        let mut alerts = self.alerts_for_change(after, &all, new_facts, now);
        self.attach_affected(tx, after, new_facts, &mut alerts, now)?;
        alerts.extend(variance_alert(before, state, now));
        let before_match = before.and_then(|b| b.three_way.as_ref());
        alerts.extend(crate::ace::compare::alerts(before_match, after, state.three_way.as_ref(), now));
        let alerts = group_alerts(alerts, new_facts.first().map(|f| &f.source));
        let n = self.queue_tx(tx, alerts, now)?;
        if n > 0 {
            self.queued.fetch_add(n, Ordering::Relaxed);
            tracing::debug!(target: "entrywatch", event = "AlertQueued", entry = %key, count = n);
        }
        Ok(())
    }
}

/// Above this many alerts for one entry from one file, the file's alerts for that entry are
/// grouped: one alert per kind, with counts per code (a 350 with 50,000 X4 segments makes a
/// handful of mails, not 60,000).
pub const GROUP_ABOVE: usize = 10;

/// Codes and narratives listed in a grouped alert (the rest are counted).
const GROUP_LISTED: usize = 20;

/// Group one file's alerts for one entry when there are more than [`GROUP_ABOVE`]: one alert
/// per kind, the most severe of the kind, its identity naming the file (stable across a retry
/// of the same file), its narrative counting the alerts per code.
pub fn group_alerts(alerts: Vec<Alert>, source: Option<&crate::domain::Source>) -> Vec<Alert> {
    if alerts.len() <= GROUP_ABOVE {
        return alerts;
    }
    let mut by_kind: std::collections::BTreeMap<AlertKind, Vec<Alert>> = std::collections::BTreeMap::new();
    for a in alerts {
        by_kind.entry(a.kind).or_default().push(a);
    }
    let (file, sha) = source.map_or(("", ""), |s| (s.file.as_str(), s.sha256.as_str()));
    let mut out = Vec::new();
    for (kind, group) in by_kind {
        if group.len() == 1 {
            out.extend(group);
            continue;
        }
        let n = group.len();
        let first_time = group.iter().map(|a| a.fact_time).min();
        let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        let mut narratives: Vec<String> = Vec::new();
        for a in &group {
            let code = a
                .code
                .as_ref()
                .map(|c| format!("{} {}: {}", c.list.to_uppercase(), c.code, c.meaning))
                .unwrap_or_else(|| "(no code)".into());
            *counts.entry(code).or_default() += 1;
            if narratives.len() < GROUP_LISTED {
                if let Some(t) = a.narrative.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                    if !narratives.iter().any(|x| x == t) {
                        narratives.push(t.to_string());
                    }
                }
            }
        }
        let Some(mut base) = group.into_iter().max_by_key(|a| a.severity) else { continue };
        let at = first_time.unwrap_or(base.fact_time);
        let tag = format!("file-{}", sha.get(..12).unwrap_or(sha));
        base.id = Alert::identity(base.facts.entry.as_ref(), kind, Some(&tag), at);
        base.fact_time = at;
        base.code = None;
        let mut text =
            vec![format!("{n} alerts of this kind for this entry from file {file}, grouped into this one mail.")];
        text.push("By code:".into());
        let codes = counts.len();
        for (code, c) in counts.into_iter().take(GROUP_LISTED) {
            text.push(format!("  {c} x {code}"));
        }
        if codes > GROUP_LISTED {
            text.push(format!("  ... and {} more codes", codes - GROUP_LISTED));
        }
        if !narratives.is_empty() {
            text.push("Narratives (first ones):".into());
            text.extend(narratives.into_iter().map(|t| format!("  {t}")));
        }
        text.push("Every message is on the entry's timeline (entrywatch entry ENTRY).".into());
        base.narrative = Some(text.join("\n"));
        tracing::info!(target: "entrywatch", event = "AlertsGrouped", kind = %kind, count = n, file = %file);
        out.push(base);
    }
    out
}

/// One alert (category variance) listing the differences this change newly raised, each with
/// both values in the analyst's words; its identity names the set of differences, so the same
/// differences never alert twice and a new one does.
pub fn variance_alert(before: Option<&EntryState>, after: &EntryState, now: DateTime<FixedOffset>) -> Option<Alert> {
    let diffs = crate::variance::alert_differences(before.and_then(|b| b.variance.as_ref()), after.variance.as_ref());
    let after = &after.entry;
    let severity = diffs.iter().map(|d| d.severity.alert_severity()).max()?;
    let keys: Vec<String> = diffs.iter().map(|d| d.key()).collect();
    let digest = crate::ingest::sha256_hex(keys.join("\n").as_bytes());
    let what = format!("{} difference{} {}", diffs.len(), if diffs.len() == 1 { "" } else { "s" }, &digest[..12]);
    let mut alert = rules::alert_for_event(AlertKind::Variance, severity, Some(&what), now, entry_facts(after), now);
    let lines: Vec<String> = diffs.iter().map(|d| d.explanation.clone()).collect();
    alert.narrative = Some(lines.join("\n"));
    Some(alert)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    #[test]
    fn digest_time_is_the_next_local_hour_across_dst() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(next_digest_time(t("2026-02-05T07:59:00-05:00"), ny, 8), t("2026-02-05T08:00:00-05:00"));
        assert_eq!(next_digest_time(t("2026-02-05T08:00:00-05:00"), ny, 8), t("2026-02-06T08:00:00-05:00"));
        // Clocks go forward on 2026-03-08: the next 08:00 is EDT.
        assert_eq!(next_digest_time(t("2026-03-07T12:00:00-05:00"), ny, 8), t("2026-03-08T08:00:00-04:00"));
        assert_eq!(next_digest_time(t("2026-02-05T15:00:00+00:00"), ny, 8), t("2026-02-06T08:00:00-05:00"));
    }

    #[test]
    fn message_times_are_local_wall_times_and_arrival_prefers_bill_arrived() {
        use crate::domain::Source;
        let ny = chrono_tz::America::New_York;
        let naive = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("naive");
        assert_eq!(local_time(ny, naive("2026-07-01T09:30")), t("2026-07-01T09:30:00-04:00"));
        assert_eq!(local_time(ny, naive("2026-03-08T02:30")), t("2026-03-08T03:30:00-04:00"), "spring gap");
        assert_eq!(local_time(ny, naive("2026-11-01T01:30")), t("2026-11-01T01:30:00-04:00"), "autumn overlap");
        let src = Source { file: "f".into(), inbox: "b".into(), sha256: "s".into(), line: 1, record: 1 };
        let disp = |code: &str, at: &str| Fact {
            at: naive(at),
            kind: FactKind::Disposition {
                list: "so50".into(),
                code: code.into(),
                agency: "CBP".into(),
                effect: Effect::Advisory,
                removes: vec![],
                narrative: String::new(),
                release_date: None,
                release_origin: String::new(),
            },
            source: src.clone(),
        };
        let facts = vec![disp("57", "2026-02-04T10:00"), disp("95", "2026-02-05T08:15")];
        assert_eq!(arrival(&facts), Some(naive("2026-02-05T08:15")));
        assert_eq!(arrival(&facts[..1]), Some(naive("2026-02-04T10:00")));
        assert_eq!(arrival(&[]), None);
    }
}
