//! What else an entry's status touches: the links each entry carries (bill of lading, container,
//! purchase order and PO line, HTS number and manufacturer per importer), their index in the
//! store, the impact rules (which event names which linked entries) and the bounded list of
//! affected entries an alert, `entrywatch affected` and `report affected` show.
//!
//! Links are read from the entry's derived state only ([`links_of`]); the index (table
//! `links`, key formats in [`crate::store::links`]) is written in each file's own transaction
//! by the ingest pipeline ([`index_tx`]), so `rebuild` recreates it and no query scans.

use crate::calendar::Calendar;
pub use crate::config::affected::{AffectedConfig, ImpactRule, LinkKind, Scope, Trigger};
use crate::deadline::DeadlineKind;
use crate::domain::{Entry, Fact, FactKind, LiquidationStatus, SummaryStatus};
use crate::entry_number::EntryNumber;
use crate::grammar::codes::Effect;
use crate::store::links as table;
use crate::store::{Store, StoreError, StoreTx, TxError};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One link of an entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    pub value: String,
}

fn clean(s: &str) -> String {
    s.trim().chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase()
}

fn hts10(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).take(10).collect()
}

/// Every link the entry's state carries, sorted, without repeats:
/// - bills and containers: the broker's filing (AE 23 and SE17 records), cargo release (SO40,
///   X12 350 X4) and the approved pre-entry (its lines, or the AE it was approved as);
/// - POs and PO lines: the approved pre-entry lines;
/// - HTS numbers and manufacturer IDs under the entry's importer: the current filing's lines
///   (50 and 47 records) and the pre-entry lines.
pub fn links_of(entry: &Entry) -> Vec<Link> {
    let mut out = BTreeSet::new();
    let mut add = |kind, value: String| {
        if !value.is_empty() && !value.ends_with('|') && value.len() <= 120 {
            out.insert(Link { kind, value });
        }
    };
    let importer = entry.importer.trim();
    let importer = match (&entry.pre_entry, importer.is_empty()) {
        (Some(p), true) => p.importer.trim(),
        _ => importer,
    };
    let summaries = entry
        .current_filing()
        .map(|f| &f.summary)
        .into_iter()
        .chain(entry.pre_entry.as_ref().and_then(|p| p.summary.as_ref()));
    for s in summaries {
        for b in &s.bills {
            add(LinkKind::Bill, clean(b));
        }
        for c in &s.containers {
            add(LinkKind::Container, clean(c));
        }
        for l in &s.lines {
            for t in &l.tariffs {
                add(LinkKind::Hts, format!("{importer}|{}", hts10(&t.hts)));
            }
            let mid = clean(&l.manufacturer_id);
            if !mid.is_empty() {
                add(LinkKind::Manufacturer, format!("{importer}|{mid}"));
            }
        }
    }
    for b in &entry.bills {
        add(LinkKind::Bill, clean(b));
    }
    for c in &entry.containers {
        add(LinkKind::Container, clean(c));
    }
    if let Some(p) = &entry.pre_entry {
        for l in &p.lines {
            add(LinkKind::Bill, clean(&l.bill_of_lading));
            add(LinkKind::Container, clean(&l.container));
            let po = clean(&l.po_number);
            if !po.is_empty() {
                let pl = clean(&l.po_line);
                if !pl.is_empty() {
                    add(LinkKind::PoLine, format!("{po}#{pl}"));
                }
                add(LinkKind::Po, po);
            }
            add(LinkKind::Hts, format!("{importer}|{}", hts10(&l.hts)));
            let mid = clean(&l.manufacturer_id);
            if !mid.is_empty() {
                add(LinkKind::Manufacturer, format!("{importer}|{mid}"));
            }
        }
    }
    out.into_iter().collect()
}

/// The importer's products as (`importer|hts`, `importer|MID` when known) pairs: what a
/// reclassification is matched on.
pub fn products_of(entry: &Entry) -> Vec<(String, Option<String>)> {
    let importer = entry.importer.trim();
    let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
    if let Some(f) = entry.current_filing() {
        for l in &f.summary.lines {
            // The filed line's MID (AE 47, type M) names the product with its HTS numbers.
            let mid = clean(&l.manufacturer_id);
            for t in &l.tariffs {
                let h = hts10(&t.hts);
                if !h.is_empty() {
                    let slot = out.entry(format!("{importer}|{h}")).or_insert(None);
                    if !mid.is_empty() && slot.is_none() {
                        *slot = Some(format!("{importer}|{mid}"));
                    }
                }
            }
        }
    }
    if let Some(p) = &entry.pre_entry {
        for l in &p.lines {
            let h = hts10(&l.hts);
            if h.is_empty() {
                continue;
            }
            let mid = clean(&l.manufacturer_id);
            let slot = out.entry(format!("{importer}|{h}")).or_insert(None);
            if !mid.is_empty() && slot.is_none() {
                *slot = Some(format!("{importer}|{mid}"));
            }
        }
    }
    out.into_iter().collect()
}

/// Update the index for one entry inside the file's transaction: add the links it has now,
/// drop the ones it no longer has. Called by the ingest pipeline (and so by `rebuild`).
pub fn index_tx(tx: &mut StoreTx<'_>, key: &str, entry: &Entry) -> Result<(), TxError> {
    let now: Vec<Link> = links_of(entry);
    let before: Vec<Link> = table::entry_links_tx(tx, key)?;
    if before == now {
        return Ok(());
    }
    // Posting lists are sets kept decoded for the whole transaction (written once at its end).
    for l in before.iter().filter(|l| !now.contains(l)) {
        table::posting_remove_tx(tx, l.kind.as_str(), &l.value, key)?;
    }
    for l in now.iter().filter(|l| !before.contains(l)) {
        table::posting_insert_tx(tx, l.kind.as_str(), &l.value, key)?;
    }
    table::put_entry_links_tx(tx, key, &now)
}

/// Reads the index and entries: inside a file's transaction (alerts) or from the store
/// (commands, reports).
pub trait LinkReader {
    /// The entry keys sharing one link (sorted).
    fn postings(&self, kind: LinkKind, value: &str) -> Result<Vec<String>, StoreError>;
    /// An entry's fact log.
    fn facts(&self, key: &str) -> Result<Option<Vec<Fact>>, StoreError>;
}

impl LinkReader for Store {
    fn postings(&self, kind: LinkKind, value: &str) -> Result<Vec<String>, StoreError> {
        table::postings(self, kind.as_str(), value)
    }
    fn facts(&self, key: &str) -> Result<Option<Vec<Fact>>, StoreError> {
        crate::store::entries::facts_by_key(self, key)
    }
}

/// [`LinkReader`] inside a transaction.
pub struct TxReader<'a, 'b>(pub &'a StoreTx<'b>);

fn tx_err(e: TxError) -> StoreError {
    StoreError::Aborted(e.to_string())
}

impl LinkReader for TxReader<'_, '_> {
    fn postings(&self, kind: LinkKind, value: &str) -> Result<Vec<String>, StoreError> {
        table::postings_tx(self.0, kind.as_str(), value).map_err(tx_err)
    }
    fn facts(&self, key: &str) -> Result<Option<Vec<Fact>>, StoreError> {
        crate::store::entries::facts_tx(self.0, key).map_err(tx_err)
    }
}

/// The triggers one new fact raises (none for most facts). `before`/`after` are the entry's
/// state around the change (a liquidation's duty is compared with the filed duty).
pub fn triggers_of(fact: &Fact, after: &Entry) -> Vec<Trigger> {
    let mut v = Vec::new();
    match &fact.kind {
        FactKind::Disposition { effect, .. } => match effect {
            Effect::HoldPlaced => v.push(Trigger::HoldPlaced),
            Effect::Exam => v.push(Trigger::Exam),
            Effect::Seizure => v.push(Trigger::Seizure),
            Effect::DocumentsRequired => v.push(Trigger::DocumentsRequired),
            Effect::Cancelled => v.push(Trigger::Cancelled),
            Effect::Rejected => v.push(Trigger::Rejected),
            _ => {}
        },
        FactKind::SummaryRejected { .. } => v.push(Trigger::Rejected),
        FactKind::Notice { effect: Effect::Rejected, .. } => v.push(Trigger::Rejected),
        FactKind::Notice { .. } => v.push(Trigger::UcNotice),
        FactKind::SummaryAccepted { condition, .. } if !condition.trim().is_empty() => v.push(Trigger::AxCondition),
        FactKind::Liquidation { status_code, duty_cents, .. } if matches!(status_code.trim(), "1" | "3") => {
            let filed = after.current_filing().map(|f| f.summary.total_duty_cents);
            if filed.is_some_and(|f| f != *duty_cents) {
                v.push(Trigger::LiquidationDutyChange);
            }
        }
        _ => {}
    }
    v
}

/// One entry an event touches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedEntry {
    /// Printed as `EEE-1234567-3`.
    pub entry: String,
    /// The links it shares with the triggering entry.
    pub via: Vec<LinkKind>,
    /// For the window scope: the soonest open PSC or protest deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<AffectedDeadline>,
}

/// The deadline that keeps an affected entry open to correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedDeadline {
    pub kind: DeadlineKind,
    pub due: NaiveDate,
    pub estimated: bool,
}

/// The affected entries of one event: at most `max-listed` listed, each once, with counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AffectedList {
    /// The trigger names (`exam`, `uc-notice` ...).
    pub triggers: Vec<String>,
    pub listed: Vec<AffectedEntry>,
    /// Entries that passed the rule's scope among those checked (listed or not).
    pub matching: usize,
    /// Entries sharing a link the rule looks at (before the scope).
    pub linked: usize,
    /// False when more linked entries existed than `max-checked` allowed to check.
    pub complete: bool,
}

impl AffectedList {
    pub fn is_empty(&self) -> bool {
        self.matching == 0
    }

    /// Plain-text lines for mails and the CLI.
    pub fn text(&self) -> String {
        let mut s = format!(
            "Affected entries ({}): {} {}\n",
            self.triggers.join(", "),
            self.matching,
            if self.complete { "" } else { "or more (not all linked entries were checked)" }
        );
        for a in &self.listed {
            let via: Vec<&str> = a.via.iter().map(|k| k.title()).collect();
            s.push_str(&format!("  {}  same {}", a.entry, via.join(", ")));
            if let Some(d) = &a.deadline {
                let est = if d.estimated { " (estimated)" } else { "" };
                s.push_str(&format!("  {} by {}{est}", d.kind.title(), d.due));
            }
            s.push('\n');
        }
        if self.matching > self.listed.len() {
            s.push_str(&format!("  ... and {} more\n", self.matching - self.listed.len()));
        }
        s
    }
}

/// An entry still open to the shipment rules: not liquidated, summary not deleted.
fn is_open(e: &Entry) -> bool {
    e.liquidation.status != LiquidationStatus::Liquidated && e.summary_status != SummaryStatus::Deleted
}

/// The soonest open PSC or protest deadline due today or later.
fn window(e: &Entry, facts: &[Fact], cal: &Calendar, today: NaiveDate) -> Option<AffectedDeadline> {
    crate::deadline::facts::entry_deadlines(e, facts, cal)
        .into_iter()
        .filter(|d| matches!(d.kind, DeadlineKind::Psc | DeadlineKind::Protest | DeadlineKind::ReliquidationProtest))
        .filter(|d| !d.done && d.due >= today)
        .min_by_key(|d| (d.due, d.kind))
        .map(|d| AffectedDeadline { kind: d.kind, due: d.due, estimated: d.estimated })
}

/// The candidates of one rule: entry key → the link kinds shared.
fn candidates(
    r: &dyn LinkReader,
    entry: &Entry,
    kinds: &[LinkKind],
    self_key: &str,
) -> Result<BTreeMap<String, BTreeSet<LinkKind>>, StoreError> {
    let mut out: BTreeMap<String, BTreeSet<LinkKind>> = BTreeMap::new();
    let mut add = |keys: Vec<String>, via: &[LinkKind]| {
        for k in keys.into_iter().filter(|k| k != self_key) {
            out.entry(k).or_default().extend(via.iter().copied());
        }
    };
    let product = kinds.contains(&LinkKind::Hts) || kinds.contains(&LinkKind::Manufacturer);
    for l in links_of(entry) {
        if kinds.contains(&l.kind) && !matches!(l.kind, LinkKind::Hts | LinkKind::Manufacturer) {
            add(r.postings(l.kind, &l.value)?, &[l.kind]);
        }
    }
    if product {
        // The same product: same importer and HTS, and the same manufacturer when the entry
        // names one (a sorted intersection of the two posting lists).
        for (hts, mid) in products_of(entry) {
            let by_hts = r.postings(LinkKind::Hts, &hts)?;
            match mid.filter(|_| kinds.contains(&LinkKind::Manufacturer)) {
                Some(mid) => {
                    let by_mid: BTreeSet<String> = r.postings(LinkKind::Manufacturer, &mid)?.into_iter().collect();
                    let both: Vec<String> = by_hts.into_iter().filter(|k| by_mid.contains(k)).collect();
                    add(both, &[LinkKind::Hts, LinkKind::Manufacturer]);
                }
                None => add(by_hts, &[LinkKind::Hts]),
            }
        }
    }
    Ok(out)
}

/// The entries one event on `entry` touches under the configured rules. Each entry is listed
/// once (with every link it shares), at most `max-listed`; at most `max-checked` linked entries
/// are loaded to check their scope.
pub fn affected(
    r: &dyn LinkReader,
    cfg: &AffectedConfig,
    entry: &Entry,
    triggers: &[Trigger],
    cal: &Calendar,
    today: NaiveDate,
) -> Result<AffectedList, StoreError> {
    let self_key = entry.entry.as_ref().map(EntryNumber::compact).unwrap_or_default();
    let mut list = AffectedList { complete: true, ..AffectedList::default() };
    // Per candidate: the links shared and the narrowest scope any matching rule asks for.
    let mut cands: BTreeMap<String, (BTreeSet<LinkKind>, Scope)> = BTreeMap::new();
    for rule in cfg.rules.iter().filter(|r| r.on.iter().any(|t| triggers.contains(t))) {
        for t in triggers.iter().filter(|t| rule.on.contains(t)) {
            if !list.triggers.iter().any(|n| n == t.as_str()) {
                list.triggers.push(t.as_str().to_string());
            }
        }
        for (k, via) in candidates(r, entry, &rule.links, &self_key)? {
            let slot = cands.entry(k).or_insert_with(|| (BTreeSet::new(), rule.scope));
            slot.0.extend(via);
            slot.1 = slot.1.min(rule.scope);
        }
    }
    list.linked = cands.len();
    for (checked, (key, (via, scope))) in cands.into_iter().enumerate() {
        if checked >= cfg.max_checked {
            list.complete = false;
            break;
        }
        let Ok(en) = key.parse::<EntryNumber>() else { continue };
        if scope == Scope::Any {
            list.matching += 1;
            if list.listed.len() < cfg.max_listed {
                list.listed.push(AffectedEntry {
                    entry: en.to_string(),
                    via: via.into_iter().collect(),
                    deadline: None,
                });
            }
            continue;
        }
        let Some(facts) = r.facts(&key)? else { continue };
        let e = Entry::derive(&en, &facts);
        let deadline = match scope {
            Scope::Any => None,
            Scope::Open => {
                if !is_open(&e) {
                    continue;
                }
                None
            }
            Scope::Window => match window(&e, &facts, cal, today) {
                Some(d) => Some(d),
                None => continue,
            },
        };
        list.matching += 1;
        if list.listed.len() < cfg.max_listed {
            list.listed.push(AffectedEntry { entry: en.to_string(), via: via.into_iter().collect(), deadline });
        }
    }
    Ok(list)
}

/// The entries sharing each link of `entry` (itself left out), by link kind: what `entry` and
/// the dashboard show as "related entries". At most `max` keys per link.
pub fn related(r: &dyn LinkReader, entry: &Entry, max: usize) -> Result<Vec<(Link, Vec<String>, usize)>, StoreError> {
    let self_key = entry.entry.as_ref().map(EntryNumber::compact).unwrap_or_default();
    let mut out = Vec::new();
    for l in links_of(entry) {
        let keys: Vec<String> = r.postings(l.kind, &l.value)?.into_iter().filter(|k| *k != self_key).collect();
        if keys.is_empty() {
            continue;
        }
        let n = keys.len();
        let shown =
            keys.into_iter().take(max).map(|k| k.parse::<EntryNumber>().map(|e| e.to_string()).unwrap_or(k)).collect();
        out.push((l, shown, n));
    }
    Ok(out)
}

/// One row of `report affected`: an event and what it touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub entry: String,
    pub at: chrono::NaiveDateTime,
    pub event: String,
    pub code: String,
    #[serde(flatten)]
    pub affected: AffectedList,
}

/// Every triggering event in one entry's history with its affected entries (as the index
/// stands now), oldest first; events that touch no other entry are left out.
pub fn events_of(
    r: &dyn LinkReader,
    cfg: &AffectedConfig,
    entry: &Entry,
    facts: &[Fact],
    cal: &Calendar,
    today: NaiveDate,
) -> Result<Vec<EventRow>, StoreError> {
    let mut sorted: Vec<&Fact> = facts.iter().collect();
    sorted.sort_by_key(|f| f.at);
    let mut out = Vec::new();
    for f in sorted {
        let t = triggers_of(f, entry);
        if t.is_empty() {
            continue;
        }
        let list = affected(r, cfg, entry, &t, cal, today)?;
        if list.is_empty() {
            continue;
        }
        out.push(EventRow {
            entry: entry.entry.as_ref().map(|e| e.to_string()).unwrap_or_default(),
            at: f.at,
            event: f.kind.name().to_string(),
            code: f.kind.code(),
            affected: list,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PreEntry, PreEntryLine};

    fn entry_with(lines: Vec<PreEntryLine>) -> Entry {
        Entry {
            entry: "EEE-1234567-3".parse().ok(),
            importer: "12-345678900".into(),
            pre_entry: Some(PreEntry { importer: "12-345678900".into(), lines, ..PreEntry::default() }),
            ..Entry::default()
        }
    }

    #[test]
    fn links_are_cleaned_deduplicated_and_blank_ones_dropped() {
        let l = |bill: &str, cont: &str, po: &str, pl: &str| PreEntryLine {
            bill_of_lading: bill.into(),
            container: cont.into(),
            po_number: po.into(),
            po_line: pl.into(),
            hts: "6110.20.2079".into(),
            manufacturer_id: "cnabcfoo123sha".into(),
            ..PreEntryLine::default()
        };
        let e = entry_with(vec![l("maeu 123", "MSKU1234565", "PO-1", "10"), l("MAEU123", "", "PO-1", "")]);
        let got: Vec<(LinkKind, String)> = links_of(&e).into_iter().map(|l| (l.kind, l.value)).collect();
        assert_eq!(
            got,
            vec![
                (LinkKind::Bill, "MAEU123".into()),
                (LinkKind::Container, "MSKU1234565".into()),
                (LinkKind::Po, "PO-1".into()),
                (LinkKind::PoLine, "PO-1#10".into()),
                (LinkKind::Hts, "12-345678900|6110202079".into()),
                (LinkKind::Manufacturer, "12-345678900|CNABCFOO123SHA".into()),
            ]
        );
        assert_eq!(
            products_of(&e),
            vec![("12-345678900|6110202079".to_string(), Some("12-345678900|CNABCFOO123SHA".to_string()))]
        );
    }

    #[test]
    fn an_entry_without_a_pre_entry_or_filing_has_no_links() {
        let e = Entry { entry: "EEE-1234567-3".parse().ok(), ..Entry::default() };
        assert!(links_of(&e).is_empty());
        assert!(products_of(&e).is_empty());
    }

    #[test]
    fn index_follows_changes_and_lookups_name_each_entry_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let line = |bill: &str, po: &str| PreEntryLine {
            bill_of_lading: bill.into(),
            container: "MSKU1234565".into(),
            po_number: po.into(),
            hts: "6110202079".into(),
            ..PreEntryLine::default()
        };
        let mk = |en: &str, bill: &str, po: &str| Entry {
            entry: en.parse().ok(),
            importer: "12-345678900".into(),
            pre_entry: Some(PreEntry { lines: vec![line(bill, po)], ..PreEntry::default() }),
            ..Entry::default()
        };
        let a = mk("EEE-1234567-3", "B1", "PO-1");
        let b = mk("EEE-2000001-6", "B1", "PO-1");
        let b_moved = mk("EEE-2000001-6", "B2", "PO-2");
        for (k, e) in [("EEE12345673", &a), ("EEE20000016", &b)] {
            store.transaction(|tx| index_tx(tx, k, e)).unwrap();
        }
        assert_eq!(store.postings(LinkKind::Bill, "B1").unwrap(), vec!["EEE12345673", "EEE20000016"]);
        let cfg = AffectedConfig {
            rules: vec![ImpactRule {
                on: vec![Trigger::Exam],
                links: vec![LinkKind::Bill, LinkKind::Container, LinkKind::Po],
                scope: Scope::Any,
            }],
            ..AffectedConfig::default()
        };
        let cal = Calendar::from_config(&crate::config::Deadlines::default());
        let today = NaiveDate::from_ymd_opt(2026, 2, 20).unwrap();
        let l = affected(&store, &cfg, &a, &[Trigger::Exam], &cal, today).unwrap();
        assert_eq!(l.matching, 1);
        assert_eq!(l.listed.len(), 1);
        assert_eq!(l.listed[0].via, vec![LinkKind::Bill, LinkKind::Container, LinkKind::Po]);
        // B moves to another bill and PO: the old postings lose it, the container still links.
        store.transaction(|tx| index_tx(tx, "EEE20000016", &b_moved)).unwrap();
        assert_eq!(store.postings(LinkKind::Bill, "B1").unwrap(), vec!["EEE12345673"]);
        assert_eq!(store.postings(LinkKind::Bill, "B2").unwrap(), vec!["EEE20000016"]);
        let l = affected(&store, &cfg, &a, &[Trigger::Exam], &cal, today).unwrap();
        assert_eq!(l.listed[0].via, vec![LinkKind::Container]);
        // A trigger no rule takes names nobody.
        assert!(affected(&store, &cfg, &a, &[Trigger::Seizure], &cal, today).unwrap().is_empty());
        // At most max-listed are listed; all are counted.
        let small = AffectedConfig { max_listed: 0, ..cfg };
        let l = affected(&store, &small, &a, &[Trigger::Exam], &cal, today).unwrap();
        assert_eq!((l.listed.len(), l.matching), (0, 1));
    }

    #[test]
    fn link_kinds_round_trip() {
        for k in LinkKind::ALL {
            assert_eq!(k.as_str().parse::<LinkKind>(), Ok(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
        }
    }
}
