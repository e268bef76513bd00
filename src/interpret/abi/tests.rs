//! Tests of the ABI interpretation, through [`super::interpret`].

use super::interpret;
use crate::config::Role;
use crate::domain::{FactKind, Summary};
use crate::grammar::Grammars;
use crate::grammar::{embedded_files, GrammarFile};
use crate::ingest::sample;
use crate::interpret::{FileContext, Interpretation};
use chrono::NaiveDate;

fn ctx() -> FileContext<'static> {
    let received = NaiveDate::from_ymd_opt(2026, 2, 3).and_then(|d| d.and_hms_opt(9, 0, 0)).unwrap_or_default();
    FileContext { name: "ae.abi", inbox: "broker", role: Role::Broker, sha256: "00", received }
}

/// The embedded grammars with `edit` applied to `abi/ae.toml`.
fn grammars_with_ae(edit: impl Fn(&str) -> String) -> Grammars {
    let files: Vec<GrammarFile> = embedded_files()
        .into_iter()
        .map(|f| if f.path == "abi/ae.toml" { GrammarFile { text: edit(&f.text), path: f.path } } else { f })
        .collect();
    Grammars::from_files(&files).expect("edited grammars load")
}

fn filed(out: &Interpretation) -> Vec<&Summary> {
    out.facts
        .iter()
        .filter_map(|(_, f)| match &f.kind {
            FactKind::SummaryFiled { summary } => Some(summary),
            _ => None,
        })
        .collect()
}

fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn summary_read_by_field_name() {
    let g = Grammars::embedded().expect("embedded grammars");
    let out = interpret(&sample::ae("EEE", 1_000_001, "A"), &ctx(), &g);
    // The reader's warnings (short records) come through; nothing from the interpretation.
    assert!(!out.has_errors(), "{:?}", out.diagnostics);
    assert!(out.diagnostics.iter().all(|d| d.code.starts_with("ABIE")), "{:?}", out.diagnostics);
    let s = filed(&out);
    assert_eq!(s.len(), 1);
    let s = s[0];
    assert_eq!((s.action.as_str(), s.port.as_str(), s.broker_ref.as_str()), ("A", "2704", "BR1000001"));
    assert_eq!((s.entry_date, s.import_date), (day(2026, 2, 2), day(2026, 1, 31)));
    assert_eq!(s.statement_print_date, day(2026, 2, 10));
    let l = &s.lines[0];
    assert_eq!((l.line, l.tariffs[0].duty_cents, l.tariffs[0].quantity_hundredths), (1, 165_000, 10_000));
    assert_eq!(l.fees.get("499"), Some(&3464));
    assert_eq!((s.total_duty_cents, s.total_fees_cents), (165_000, 4714));
    assert_eq!(s.fee_totals.get("501"), Some(&1250));
    // 90-record tax and AD/CVD totals (blank: none declared) and the 10-record position 42.
    assert_eq!((s.total_tax_cents, s.total_adcvd_cents, s.consolidated), (Some(0), Some(0), false));
    let text = String::from_utf8(sample::ae("EEE", 1_000_001, "A")).unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            let l = format!("{l:<80}");
            match l.get(..2) {
                Some("10") => format!("{}Y{}", &l[..41], &l[42..]),
                Some("90") => format!("{}00000012345 00000002000 00000000500{}", &l[..26], &l[61..]),
                _ => l,
            }
        })
        .collect();
    let out = interpret(lines.join("\n").as_bytes(), &ctx(), &g);
    let s = filed(&out)[0];
    assert_eq!((s.total_tax_cents, s.total_adcvd_cents, s.consolidated), (Some(12_345), Some(2_500), true));
}

#[test]
fn a_bad_field_in_a_message_tied_to_an_entry_is_a_finding_not_a_refusal() {
    let g = Grammars::embedded().expect("embedded grammars");
    // A 50-record amount with letters in it (class SN): ABIE021, now a warning; the summary is applied
    // and the finding reaches the entry in words.
    let text = String::from_utf8(sample::ae("EEE", 1_000_001, "A")).unwrap_or_default();
    let bad = text.replace("0000165000", "00001650X0");
    assert_ne!(bad, text);
    let out = interpret(bad.as_bytes(), &ctx(), &g);
    assert!(!out.has_errors(), "{:?}", out.diagnostics);
    assert!(out.diagnostics.iter().any(|d| d.code == "ABIE021"), "{:?}", out.diagnostics);
    assert_eq!(filed(&out).len(), 1);
    let notes: Vec<&Vec<String>> = out
        .facts
        .iter()
        .filter_map(|(_, f)| match &f.kind {
            FactKind::Finding { notes, .. } => Some(notes),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].iter().any(|n| n.contains("ABIE021") && n.contains("duty_amount")), "{notes:?}");
}

#[test]
fn a_broken_envelope_gives_only_the_reader_diagnostics() {
    let g = Grammars::embedded().expect("embedded grammars");
    let text = String::from_utf8(sample::ae("EEE", 1_000_001, "A")).unwrap_or_default();
    let bad: String = text.lines().filter(|l| !l.starts_with('Y')).map(|l| format!("{l}\n")).collect();
    let out = interpret(bad.as_bytes(), &ctx(), &g);
    assert!(out.facts.is_empty());
    assert!(out.diagnostics.iter().any(|d| d.code == "ABIE044" && d.is_error()), "{:?}", out.diagnostics);
}

#[test]
fn the_grammar_decides_where_a_field_is() {
    // Swap the names of the two adjacent 11-record dates: the interpreter follows the grammar.
    let g = grammars_with_ae(|t| {
        t.replace("\"estimated_entry_date\"", "\"swap\"")
            .replace("\"import_date\"", "\"estimated_entry_date\"")
            .replace("\"swap\"", "\"import_date\"")
    });
    let out = interpret(&sample::ae("EEE", 1_000_001, "A"), &ctx(), &g);
    let s = filed(&out);
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].entry_date, s[0].import_date), (day(2026, 1, 31), day(2026, 2, 2)));
}

#[test]
fn a_field_missing_from_the_grammar_is_reported() {
    let g = grammars_with_ae(|t| t.replace("\"recon_issue_code\"", "\"recon_issue\""));
    let out = interpret(&sample::ae("EEE", 1_000_001, "A"), &ctx(), &g);
    let i213: Vec<_> = out.diagnostics.iter().filter(|d| d.code == "I213").collect();
    assert_eq!(i213.len(), 1, "{:?}", out.diagnostics);
    assert!(i213[0].message.contains("recon_issue_code"));
    assert!(out.has_errors());
    assert_eq!(filed(&out).len(), 1);
}
