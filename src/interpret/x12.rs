//! X12 messages → facts: CBP 350 X4 dispositions per entry, each code's effect from grammars/codes/x407.toml.
//!
//! The X12 reader validates envelope and structure (X12E codes); sets other than 350 are read
//! and archived without facts. `I101` (warning): an X4 whose X404 is not an entry number.

use super::codes::{lookup, release_lifts};
use super::{FileContext, Interpretation};
use crate::domain::{Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::parse::error::{Diagnostic, Position};
use crate::parse::x12::{read, X12Event};
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

/// Interpret an X12 file.
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    let mut facts = Vec::new();
    let mut warnings = Vec::new();
    let outcome = read(bytes, grammars, &mut |ev| {
        let X12Event::Transaction(t) = ev else { return };
        if t.set != "350" {
            return;
        }
        let segs = t.segments;
        for (i, s) in segs.iter().enumerate() {
            if s.id() != b"X4" {
                continue;
            }
            let pos = Position { line: s.line, byte: s.byte, segment: Some(s.index), record: None };
            let raw_entry = s.element_str(4).trim().to_string();
            let Ok(en) = raw_entry.parse::<EntryNumber>() else {
                warnings.push(Diagnostic::warning(
                    "I101",
                    format!("X4 with X404 {raw_entry:?}: not an entry number; the disposition is not tied to an entry"),
                    pos,
                ));
                continue;
            };
            let code = s.element_str(7).trim().to_string();
            let at = date_time(&s.element_str(5), &s.element_str(6)).unwrap_or(ctx.received);
            let narrative = segs
                .get(i + 1)
                .filter(|k| k.id() == b"K1")
                .map(|k| k.element_str(1).trim().to_string())
                .unwrap_or_default();
            let m = lookup(grammars, "x407", &code);
            let removes = if m.effect == crate::grammar::codes::Effect::Released {
                release_lifts("x407", &code, "")
            } else {
                m.removes.clone()
            };
            let kind = FactKind::Disposition {
                list: "x407".to_string(),
                code,
                agency: m.agency.clone().unwrap_or_else(|| "CBP".into()),
                effect: m.effect,
                removes,
                narrative: if narrative.is_empty() { m.meaning.clone() } else { narrative },
                release_date: None,
                release_origin: String::new(),
            };
            facts.push((en, Fact { at, kind, source: ctx.source(s.line, s.index) }));
        }
    });
    let mut out = Interpretation { facts, diagnostics: outcome.diagnostics, ..Interpretation::default() };
    out.diagnostics.extend(warnings);
    out
}
