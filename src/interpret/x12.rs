//! X12 messages → facts: CBP 350 X4 dispositions per entry, each code's effect from grammars/codes/x407.toml.
//!
//! The X12 reader validates envelope and structure (X12E codes); sets other than 350 are read
//! and archived without facts. X4 and K1 are read by element name (`customs_entry_number`,
//! `date`, `time`, `disposition_code`, `free_form_message`), as ABI is read by field name.
//! `I101` (warning): an X4 whose entry number is not one; `I102` (error): the grammar names none.

use super::abi::bill_ref;
use super::abi::FactSink;
use super::codes::lookup;
use super::{FileContext, Interpretation};
use crate::domain::{Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::x12::seg_id;
use crate::grammar::Grammars;
use crate::parse::error::{Diagnostic, Position, MAX_DIAGNOSTICS};
use crate::parse::x12::{read, read_from, ReadOptions, Transaction, X12Event};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

fn date_time(d: &str, t: &str) -> Option<NaiveDateTime> {
    let day = NaiveDate::parse_from_str(d.trim(), "%Y%m%d").ok()?;
    let t = t.trim();
    let time = match (t.get(0..2).and_then(|h| h.parse().ok()), t.get(2..4).and_then(|m| m.parse().ok())) {
        (Some(h), Some(m)) => NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN),
        _ => NaiveTime::MIN,
    };
    Some(day.and_time(time))
}

/// Positions of the X4 and K1 elements the 350 is read by, looked up by name.
struct X4Names {
    entry: usize,
    date: usize,
    time: usize,
    code: usize,
    message: usize,
    /// X401/X409 bill and its SCAC, X408/X410 master bill and its SCAC, X411/X412 equipment
    /// (reference/x12.md §1.3; secondary: no CBP 350 guide is among the primary texts).
    refs: Option<[usize; 6]>,
}

impl X4Names {
    fn of(g: &Grammars, version: &str) -> Option<X4Names> {
        let (dict, _) = g.x12.dictionary(version)?;
        let x4 = dict.get(seg_id(b"X4")?)?;
        let k1 = dict.get(seg_id(b"K1")?)?;
        Some(X4Names {
            entry: x4.position("customs_entry_number")?,
            date: x4.position("date")?,
            time: x4.position("time")?,
            code: x4.position("disposition_code")?,
            message: k1.position("free_form_message")?,
            refs: (|| {
                Some([
                    x4.position("bill_of_lading_number")?,
                    x4.position("scac")?,
                    x4.position("master_bill_of_lading_number")?,
                    x4.position("scac_2")?,
                    x4.position("equipment_initial")?,
                    x4.position("equipment_number")?,
                ])
            })(),
        })
    }
}

/// The facts of one X12 file, a transaction set at a time, and the I1xx findings.
struct X12Facts<'c, 'x> {
    ctx: &'c FileContext<'x>,
    grammars: &'c Grammars,
    /// Segments of the file's earlier transaction sets: a fact's record number starts there.
    earlier_sets: usize,
    /// I101 / I102 findings, in file order; past [`KEEP`] of a kind they are counted only.
    findings: Vec<Diagnostic>,
    /// Findings of each kind (errors, warnings) kept in `findings`, and those only counted.
    kept: (usize, usize),
    skipped: usize,
    /// Keep every finding (the whole-file [`interpret`] keeps them all, as before).
    keep_all: bool,
}

/// Findings of one kind (errors, warnings) a streamed read keeps: one more than the first
/// [`MAX_DIAGNOSTICS`] of each, which is all the ingest cap (`P099`) can list of them.
const KEEP: usize = MAX_DIAGNOSTICS + 1;

impl X12Facts<'_, '_> {
    fn finding(&mut self, d: Diagnostic) {
        let kept = if d.is_error() { &mut self.kept.0 } else { &mut self.kept.1 };
        if self.keep_all || *kept < KEEP {
            *kept += 1;
            self.findings.push(d);
        } else {
            self.skipped += 1;
        }
    }

    /// The facts of one transaction set (none for sets other than 350).
    fn transaction(&mut self, t: &Transaction<'_>) -> Vec<(EntryNumber, Fact)> {
        let (ctx, grammars) = (self.ctx, self.grammars);
        let mut facts = Vec::new();
        // A fact's identity is its file and record (domain::Fact::identity): the record of an X12
        // fact is its segment's position among the file's transaction-set segments (the segments
        // of earlier sets, then its place in its own set), so two sets or interchanges of one file
        // never share one. The position in the set alone made a second set's X4 at the same place
        // (a later release of the same code) look like the first one's, and it was dropped.
        let offset = self.earlier_sets;
        self.earlier_sets += t.segments.len();
        if t.set != "350" {
            return facts;
        }
        let segs = t.segments;
        // Elements are read by name (grammars/x12/<version>/segments.toml `name=`), in the
        // dictionary this set was read with.
        let Some(names) = X4Names::of(grammars, &t.grammar_version) else {
            if segs.iter().any(|s| s.id() == b"X4") {
                let first = segs.first().map(|s| (s.line, s.byte)).unwrap_or((1, 0));
                self.finding(Diagnostic::error(
                    "I102",
                    format!(
                        "the {} grammar does not name X4 customs_entry_number, date, time and disposition_code or K1 free_form_message: the 350 cannot be read",
                        t.grammar_version
                    ),
                    Position { line: first.0, byte: first.1, segment: Some(1), record: None },
                ));
            }
            return facts;
        };
        // The bills and containers the set's X4s name: one cargo-refs fact per entry (at its
        // first X4), so the timeline shows them once.
        let mut refs: std::collections::BTreeMap<String, (EntryNumber, Fact)> = std::collections::BTreeMap::new();
        for (i, s) in segs.iter().enumerate() {
            if s.id() != b"X4" {
                continue;
            }
            let pos = Position { line: s.line, byte: s.byte, segment: Some(s.index), record: None };
            let raw_entry = s.element_str(names.entry).trim().to_string();
            let Ok(en) = raw_entry.parse::<EntryNumber>() else {
                self.finding(Diagnostic::warning(
                    "I101",
                    format!("X4 with X404 {raw_entry:?}: not an entry number; the disposition is not tied to an entry"),
                    pos,
                ));
                continue;
            };
            let code = s.element_str(names.code).trim().to_string();
            let at = date_time(&s.element_str(names.date), &s.element_str(names.time)).unwrap_or(ctx.received);
            let narrative = segs
                .get(i + 1)
                .filter(|k| k.id() == b"K1")
                .map(|k| k.element_str(names.message).trim().to_string())
                .unwrap_or_default();
            let m = lookup(grammars, "x407", &code);
            // What a release or removal lifts is the code list's `removes` (x407.toml: 1B and
            // 4C lift the 1A/4A exam).
            let removes = m.removes.clone();
            let narrative = if !m.known {
                // CBP's word is applied even when we do not know it, and said in words.
                let said = if narrative.is_empty() { String::new() } else { format!(" (CBP: {narrative})") };
                format!("code {code} is not in x407; meaning unknown{said}")
            } else if narrative.is_empty() {
                m.meaning.clone()
            } else {
                narrative
            };
            let kind = FactKind::Disposition {
                list: "x407".to_string(),
                code,
                agency: m.agency.clone().unwrap_or_else(|| "CBP".into()),
                effect: m.effect,
                removes,
                narrative,
                release_date: None,
                release_origin: String::new(),
            };
            facts.push((en.clone(), Fact { at, kind, source: ctx.source(s.line, offset + s.index) }));
            if let Some([bill, scac, master, scac2, ei, eq]) = names.refs {
                let el = |i: usize| s.element_str(i).trim().to_string();
                let slot = refs.entry(en.compact()).or_insert_with(|| {
                    let f = Fact {
                        at,
                        kind: FactKind::CargoRefs { bills: Vec::new(), containers: Vec::new() },
                        source: ctx.source(s.line, offset + s.index),
                    };
                    (en.clone(), f)
                });
                if let FactKind::CargoRefs { bills, containers } = &mut slot.1.kind {
                    for b in [bill_ref(&el(scac), &el(bill)), bill_ref(&el(scac2), &el(master))] {
                        if !b.is_empty() && !bills.contains(&b) {
                            bills.push(b);
                        }
                    }
                    let c = bill_ref(&el(ei), &el(eq));
                    if !c.is_empty() && !containers.contains(&c) {
                        containers.push(c);
                    }
                }
            }
        }
        let named = |f: &Fact| matches!(&f.kind, FactKind::CargoRefs { bills, containers } if !bills.is_empty() || !containers.is_empty());
        facts.extend(refs.into_values().filter(|(_, f)| named(f)));
        facts
    }

    /// The file's diagnostics: the reader's, then the findings. When findings were only
    /// counted, the list is cut as the ingest cap cuts it (errors first, the first
    /// [`MAX_DIAGNOSTICS`] kept, then `P099` counting the rest): what the cap makes of the
    /// whole list, without holding it.
    fn diagnostics(self, mut reader: Vec<Diagnostic>) -> Vec<Diagnostic> {
        reader.extend(self.findings);
        if self.skipped > 0 {
            crate::parse::error::cap(&mut reader, self.skipped);
        }
        reader
    }
}

/// Interpret an X12 file.
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    let mut x =
        X12Facts { ctx, grammars, earlier_sets: 0, findings: Vec::new(), kept: (0, 0), skipped: 0, keep_all: true };
    let mut facts = Vec::new();
    let outcome = read(bytes, grammars, &mut |ev| {
        if let X12Event::Transaction(t) = ev {
            facts.extend(x.transaction(t));
        }
    });
    Interpretation { facts, diagnostics: x.diagnostics(outcome.diagnostics), ..Interpretation::default() }
}

/// Interpret an X12 file read from `r` ([`crate::parse::x12::read_from`]: one interchange held
/// at a time): each event is shown to `observe` (the acknowledgment side collects what it
/// needs), each transaction set's facts are handed to `sink` as they come, in the order and
/// with the record numbers [`interpret`] gives them. The result holds the diagnostics, no
/// facts. I101/I102 findings are kept up to what the ingest cap lists.
pub fn interpret_read(
    r: &mut dyn std::io::Read,
    ctx: &FileContext<'_>,
    grammars: &Grammars,
    observe: &mut dyn FnMut(&X12Event<'_>),
    sink: &mut FactSink<'_>,
) -> std::io::Result<Interpretation> {
    let mut x =
        X12Facts { ctx, grammars, earlier_sets: 0, findings: Vec::new(), kept: (0, 0), skipped: 0, keep_all: false };
    let outcome = read_from(r, grammars, ReadOptions::default(), &mut |ev| {
        observe(&ev);
        if let X12Event::Transaction(t) = ev {
            let facts = x.transaction(t);
            if !facts.is_empty() {
                sink(facts);
            }
        }
    })?;
    Ok(Interpretation { diagnostics: x.diagnostics(outcome.diagnostics), ..Interpretation::default() })
}

#[cfg(test)]
// Tests index fixtures they built themselves: a panic there is a failing test, not untrusted
// input.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::config::Role;
    use crate::parse::error::not_kept;

    /// A 350 of 2,500 X4s whose X404 is not an entry number (I101 each) and one bad date (an
    /// error): read streamed, the findings kept are what the ingest cap lists of the whole list
    /// (errors first, the first 1,000, then `P099` counting the rest); facts come as the whole
    /// read gives them.
    #[test]
    fn a_flood_of_findings_is_kept_as_the_cap_keeps_it() {
        let g = Grammars::embedded().expect("grammars");
        let received = NaiveDate::from_ymd_opt(2026, 2, 3).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap_or_default();
        let ctx = FileContext { name: "350.x12", inbox: "broker", role: Role::Broker, sha256: "00", received };
        let mut body = String::new();
        for k in 0..2_500 {
            body += &format!("X4*MAEU{k:09}*100*01*NOTANENTRY{k}*20260203*1012*1H**MAEU~\n");
        }
        body += "X4*MAEU123456789*100*01*EEE12345673*20261303*1012*1H**MAEU~\n";
        body += "X4*MAEU123456789*100*01*EEE12345673*20260203*1012*1C**MAEU~\n";
        let text = format!(
            "ISA*00*          *00*          *ZZ*ENTRYWATCHTEST *ZZ*CBPTEST        *260203*1012*^*00501*000000101*0*T*:~\n\
             GS*AU*ENTRYWATCHTEST*CBPTEST*20260203*1012*101*X*005010~\nST*350*0001~\n\
             M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\nP4*2704*20260201*100*2704~\n{body}SE*2506*0001~\n\
             GE*1*101~\nIEA*1*000000101~\n"
        );
        let whole = interpret(text.as_bytes(), &ctx, &g);
        assert_eq!(whole.diagnostics.iter().filter(|d| d.code == "I101").count(), 2_500);
        let mut expected = whole.diagnostics.clone();
        let total = expected.len();
        expected.sort_by_key(|d| !d.is_error());
        expected.truncate(MAX_DIAGNOSTICS);
        expected.push(not_kept("P099", total - MAX_DIAGNOSTICS));
        let mut facts = Vec::new();
        let streamed =
            interpret_read(&mut text.as_bytes(), &ctx, &g, &mut |_| {}, &mut |f| facts.extend(f)).expect("read");
        assert_eq!(streamed.diagnostics, expected);
        assert!(streamed.diagnostics.first().is_some_and(Diagnostic::is_error));
        assert_eq!(facts, whole.facts);
    }

    /// samples/x12/350-holds-exam-release.x12: each X4 names bill MAEU123456789 (or
    /// MAEU987654321) with SCAC MAEU; the bills become the entry's cargo references, the SCAC
    /// not doubled. An X4 with a master bill and equipment initial and number names both.
    #[test]
    fn x4_bills_and_equipment_become_cargo_refs() {
        let g = Grammars::embedded().expect("grammars");
        let received = NaiveDate::from_ymd_opt(2026, 2, 3).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap_or_default();
        let ctx = FileContext { name: "350.x12", inbox: "broker", role: Role::Broker, sha256: "00", received };
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/x12/350-holds-exam-release.x12"))
            .expect("sample");
        let refs = |out: &Interpretation| -> Vec<(Vec<String>, Vec<String>)> {
            out.facts
                .iter()
                .filter_map(|(_, f)| match &f.kind {
                    FactKind::CargoRefs { bills, containers } => Some((bills.clone(), containers.clone())),
                    _ => None,
                })
                .collect()
        };
        let out = interpret(&bytes, &ctx, &g);
        let got = refs(&out);
        // One cargo-refs fact for the entry, each bill once.
        assert_eq!(got, vec![(vec!["MAEU123456789".to_string(), "MAEU987654321".to_string()], vec![])]);
        // The same X4 with the bill number alone, a master bill and a container.
        let text = String::from_utf8(bytes).expect("ascii").replace(
            "X4*MAEU987654321*100*01*EEE12345673*20260203*1012*1C**MAEU~",
            "X4*987654321*100*01*EEE12345673*20260203*1012*1C*MB00001*MAEU*MEDU*MSKU*1234565~",
        );
        let got = refs(&interpret(text.as_bytes(), &ctx, &g));
        let bills = ["MAEU123456789", "MAEU987654321", "MEDUMB00001"].map(String::from).to_vec();
        assert_eq!(got, vec![(bills, vec!["MSKU1234565".to_string()])]);
    }
}
