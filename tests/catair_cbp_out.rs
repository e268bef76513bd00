//! CBP's output records read from the CATAIR text: the chapters' structure maps against the
//! grammars, the printed example records and batches (samples/abi/catair), code lists against
//! the chapters' own tables, and the meaning ER, SO, PF and MS files get (facts, warnings, holds).
//!
//! The chapter texts are read from `shared/reference/catair/`, found beside an ancestor of the
//! repository (`../shared` from a checkout in /work/main, `../../shared` from a worktree).

use chrono::{NaiveDate, NaiveDateTime};
use entrywatch::config::Role;
use entrywatch::domain::{Entry, FactKind};
use entrywatch::entry_number::EntryNumber;
use entrywatch::grammar::codes::Effect;
use entrywatch::grammar::Grammars;
use entrywatch::interpret::{interpret, FileContext, Interpretation};
use entrywatch::parse::abi::{self, AbiEvent, Record};
use entrywatch::parse::error::Diagnostic;
use std::borrow::Cow;
use std::path::PathBuf;

fn grammars() -> Grammars {
    Grammars::embedded().expect("embedded grammars load")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The CATAIR chapter texts (shared/reference/catair beside an ancestor of the repository).
fn catair(file: &str) -> String {
    let dir = root()
        .ancestors()
        .map(|a| a.join("shared/reference/catair"))
        .find(|d| d.is_dir())
        .expect("shared/reference/catair beside an ancestor of the repository");
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The text of `=== PAGE from ===` up to (not including) `=== PAGE to+1 ===`.
fn pages(text: &str, from: u32, to: u32) -> String {
    let mut out = String::new();
    let mut page = 0;
    for l in text.lines() {
        if let Some(n) = l.trim().strip_prefix("=== PAGE ").and_then(|r| r.strip_suffix(" ===")) {
            page = n.parse().unwrap_or(0);
            continue;
        }
        if (from..=to).contains(&page) {
            out.push_str(l);
            out.push('\n');
        }
    }
    assert!(!out.is_empty(), "pages {from}-{to} are in the text");
    out
}

fn pad(l: &str) -> String {
    format!("{l:<80}")
}

/// An ABI file from records (each padded to 80 columns), in an A/B/Y/Z envelope for `app`.
fn batch(app: &str, bstmt: &str, body: &[&str]) -> Vec<u8> {
    let mut v = vec![pad(&format!("A2704EEE      121826     {app}")), pad(&format!("B  2704EEE{app}{bstmt}"))];
    v.extend(body.iter().map(|l| pad(l)));
    v.push(pad(&format!("Y  2704EEE{app}{:05}", body.len())));
    v.push(pad("Z2704EEE      121826"));
    v.iter().map(|l| format!("{l}\n")).collect::<String>().into_bytes()
}

fn ctx() -> FileContext<'static> {
    let received = NaiveDate::from_ymd_opt(2026, 12, 18).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("date");
    FileContext { name: "cbp.abi", inbox: "broker", role: Role::Broker, sha256: "00", received }
}

fn run(bytes: &[u8]) -> Interpretation {
    interpret(bytes, &ctx(), &grammars())
}

fn codes(d: &[Diagnostic]) -> Vec<String> {
    d.iter().map(|d| d.code.to_string()).collect()
}

fn errors(d: &[Diagnostic]) -> Vec<String> {
    d.iter().filter(|d| d.is_error()).map(|d| d.to_string()).collect()
}

/// One record image read against an application's grammar, as the reader would type it.
fn one<'g>(g: &'g Grammars, app: &str, line: &str) -> Record<'g> {
    let gram = if app == "envelope" { &g.abi.envelope } else { g.abi.app(app).expect("application grammar") };
    let image = pad(line).into_bytes();
    let def = gram.lookup(&image).and_then(|i| gram.records.get(i)).unwrap_or_else(|| panic!("no record for {line:?}"));
    Record { name: def.name.as_str(), def: Some(def), index: 1, line: 1, byte: 0, image: Cow::Owned(image) }
}

/// Every field of a record fits its class (the checks the reader makes on each field).
fn fits(r: &Record<'_>) {
    let def = r.def.expect("layout");
    for f in &def.fields {
        let raw = r.image.get(f.range()).expect("in range");
        assert!(abi::value::check(raw, f.class).is_ok(), "{} {} {:?}", def.name, f.name, String::from_utf8_lossy(raw));
    }
}

/// Record identifiers listed in a structure map table: the first token of each row that is a
/// control identifier (letters/digits, 1-2 characters, or 2 letters + 2 digits).
fn map_ids(table: &str, ok: impl Fn(&str) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for l in table.lines() {
        let Some(tok) = l.split_whitespace().next() else { continue };
        if ok(tok) && !ids.iter().any(|i| i == tok) {
            ids.push(tok.to_string());
        }
    }
    ids
}

fn between<'t>(text: &'t str, start: &str, end: &str) -> &'t str {
    let a = text.find(start).unwrap_or_else(|| panic!("{start:?} in the text"));
    let rest = &text[a..];
    let b = rest.find(end).unwrap_or(rest.len());
    &rest[..b]
}

#[test]
fn every_structure_map_record_has_a_grammar_record() {
    let g = grammars();
    let is =
        |t: &str, first: &[char]| t.len() == 2 && t.starts_with(first) && t.chars().all(|c| c.is_ascii_alphanumeric());
    // 03, page 24: Output Record Structure Map (JA..JN, the 10..90 detail echo, JZ).
    let esq = pages(&catair("03-entry-summary-query-2026-05-v26.txt"), 24, 24);
    let er = map_ids(between(&esq, "Output Record Structure Map", "Designation:"), |t| {
        is(t, &['J']) || (t.len() == 2 && t.chars().all(|c| c.is_ascii_digit()))
    });
    // 05, page 9 and 05b, page 6.
    let ds = pages(&catair("05-daily-statement.txt"), 9, 9);
    let pf = map_ids(between(&ds, "Output Record Structure Map", "Designation:"), |t| is(t, &['Q']));
    let pms = pages(&catair("05b-periodic-monthly-statement.txt"), 6, 6);
    let ms = map_ids(between(&pms, "Output Record Structure Map", "Designation:"), |t| is(t, &['Q']));
    // 04b: the WO10..WO72 output records, which "mimic" SO10..SO72 (page 46).
    let acmq = catair("04b-cargo-manifest-bond-entry-status-query-v21.txt");
    let mut so: Vec<String> = Vec::new();
    for l in pages(&acmq, 46, 64).lines() {
        if let Some(id) = l.trim().strip_prefix("Record Identifier WO").and_then(|r| r.strip_suffix(" (Output)")) {
            let id = format!("SO{id}");
            if !so.contains(&id) {
                so.push(id);
            }
        }
    }
    // 01, page 20: Batch and Block Control Output Structure Map (both tables).
    let bb = pages(&catair("01-batch-block-control-v23.txt"), 20, 20);
    let env = map_ids(&bb, |t| matches!(t, "A" | "B" | "Y" | "Z") || is(t, &['X']));

    let expect = [
        ("ER", er, 17, vec!["JA", "JB", "JE", "JJ", "JN", "10", "90", "JZ"]),
        ("PF", pf, 10, vec!["Q1", "Q2", "QA", "Q7"]),
        ("MS", ms, 10, vec!["Q1", "Q2", "QJ", "Q7"]),
        ("SO", so, 10, vec!["SO10", "SO42", "SO60", "SO71", "SO72"]),
        ("envelope", env, 6, vec!["A", "B", "Y", "Z", "X0", "X1"]),
    ];
    for (app, ids, n, must) in expect {
        assert!(ids.len() >= n, "{app}: the structure map gave {ids:?}");
        for m in must {
            assert!(ids.iter().any(|i| i == m), "{app}: {m} read from the map ({ids:?})");
        }
        let gram = if app == "envelope" { &g.abi.envelope } else { g.abi.app(app).expect("grammar") };
        for id in &ids {
            let image = pad(id).into_bytes();
            let hit = gram.lookup(&image).and_then(|i| gram.records.get(i));
            assert!(hit.is_some(), "{app}: structure map record {id} has no grammar record");
        }
    }
}

#[test]
fn chapter_01_responses_read_as_printed() {
    let g = grammars();
    let dir = root().join("samples/abi/catair");
    let x1 = |file: &str| -> (Vec<String>, Vec<Diagnostic>) {
        let bytes = std::fs::read(dir.join(file)).expect(file);
        let mut conds = Vec::new();
        let diags = abi::read(&bytes, &g, &mut |ev| {
            if let AbiEvent::Transaction(t) = ev {
                for r in t.records.iter().filter(|r| r.name == "X1") {
                    conds.push(format!(
                        "{}{} {}",
                        r.text("severity").unwrap_or(""),
                        r.text("condition_code").unwrap_or(""),
                        r.text("narrative").unwrap_or("")
                    ));
                }
            }
        });
        (conds, diags)
    };
    // Page 35: an unknown application code rejects the batch.
    let (c, d) = x1("01-p35-batch-rejection-response.abi");
    assert_eq!(c, ["FX12 NOT A KNOWN ACE APPLICATION ID CODE", "F999 BATCH REJECTED"]);
    assert_eq!(errors(&d), Vec::<String>::new());
    // Page 36: block conditions X31, X12, X19, X32, then the batch is rejected.
    let (c, d) = x1("01-p36-block-rejection-response.abi");
    let conds: Vec<&str> = c.iter().map(|s| &s[1..4]).collect();
    assert_eq!(conds, ["X31", "X12", "X19", "X32", "999"]);
    assert_eq!(errors(&d), Vec::<String>::new());
    // Page 37: a transaction syntax condition (X34 on record 5 of block 1).
    let (c, d) = x1("01-p37-transaction-syntax-rejection-response.abi");
    assert_eq!(c, ["FX34 UNKNOWN RECORD ID FOUND IN GROUPING", "F999 BATCH REJECTED"]);
    assert_eq!(errors(&d), Vec::<String>::new());
    let x0 = one(&g, "envelope", "X0 TRNACT 000001 REF ID: 0000005 00");
    assert_eq!(x0.text("reference_type"), Some("TRNACT"));
    assert_eq!(x0.int("occurrence"), Some(1));
    // Page 38: the accepted batch answered with AX E0/E1 995 (added) and 996 (replaced). The
    // printed second Y (1201N02) does not match its B (1202N01): the reader says so.
    let bytes = std::fs::read(dir.join("01-p38-batch-acceptance-response.abi")).expect("p38");
    let mut e1 = Vec::new();
    let diags = abi::read(&bytes, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            for r in t.records.iter().filter(|r| r.name == "E1") {
                // The disposition by its field; condition and narrative as printed (the AX layout
                // is chapter 02's, not this chapter's).
                let printed = r.as_text().get(3..).map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
                e1.push(format!("{} {}", r.text("disposition_code").unwrap_or(""), printed.unwrap_or_default()));
            }
        }
    });
    assert_eq!(
        e1.iter().map(|s| s.split(" N01").next().unwrap_or("")).collect::<Vec<_>>(),
        ["A 995 SUMMARY HAS BEEN ADDED", "A 995 SUMMARY HAS BEEN ADDED", "A 996 SUMMARY HAS BEEN REPLACED"]
    );
    assert!(
        diags.iter().any(|d| d.message.contains('Y') && d.line == 11),
        "the Y/B mismatch on line 11 is reported: {:?}",
        diags.iter().map(|d| d.to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn chapter_03_example_records_read_as_printed() {
    let g = grammars();
    let dir = root().join("samples/abi/catair");
    let lines = |f: &str| -> Vec<String> {
        std::fs::read_to_string(dir.join(f)).expect(f).lines().map(str::to_string).collect()
    };
    // Page 42, JI Note 1.
    let l = lines("03-p42-ji-no-bond-on-file.rec");
    let r = one(&g, "ER", &l[0]);
    fits(&r);
    assert_eq!(r.name, "JI-NOBOND");
    assert_eq!(r.text("surety_code"), Some("891"));
    assert_eq!(r.text("message"), Some("NO BOND ON FILE IN ACE EBOND"));
    // Page 45, JK Note 1; page 46, JL Note 1; page 50, JN Note 1.
    for (f, name, msg) in [
        ("03-p45-jk-billing-data-not-on-file.rec", "JK-NODATA", "BILLING DATA NOT ON FILE"),
        ("03-p46-jl-collection-data-not-on-file.rec", "JL-NODATA", "COLLECTION DATA NOT ON FILE"),
        ("03-p50-jn-billing-data-not-on-file.rec", "JN-NODATA", "BILLING DATA NOT ON FILE"),
    ] {
        let l = lines(f);
        let r = one(&g, "ER", &l[0]);
        fits(&r);
        assert_eq!((r.name, r.text("message")), (name, Some(msg)), "{f}");
    }
    let r = one(&g, "ER", &lines("03-p50-jn-billing-data-not-on-file.rec")[0]);
    assert_eq!((r.text("surety_code"), r.text("primary_surety")), (Some("037"), Some("Y")));
    // Page 54: a 4A CBP line number precedes each echoed 40 record.
    let l = lines("03-p54-4a-cbp-line-numbers.rec");
    let recs: Vec<Record<'_>> = l.iter().map(|x| one(&g, "ER", x)).collect();
    let names: Vec<&str> = recs.iter().map(|r| r.name).collect();
    assert_eq!(names, ["4A", "detail-4", "detail-5", "4A", "detail-4", "detail-5"]);
    assert_eq!(recs[0].int("cbp_line_number"), Some(1));
    assert_eq!(recs[3].int("cbp_line_number"), Some(2));
    for r in &recs {
        fits(r);
    }
}

/// A full ER summary group as chapter 03 lays it out (pages 26-50), for entry EEE-1234567-3.
const JB: &str = "JBEEE  1234567300100121726101500AMY121726Y1112126 CEE004";
const JC: &str = "JC2102022601020926 2021326 1217261218260 NO EEE  12345673             5049";
const JD: &str = "JD2020226000000165000000000000000000000007071000000000000000000012500023642N";
const JE: &str = "JE00000001650000000000000000000000000707100000000000000000000012500";
const JF: &str = "JF12-34567890001      3E2704020226";
const JG: &str = "JG   N612CEE004002";
const JH: &str = "JHABC123456789021026BR0001";
const JI: &str = "JI123Y8BN2712345670000000000000000000050000";
const JJ: &str = "JJ2704260001231DN0315270";
const JK: &str = "JK1234567890106012620400000012500000000125000000001250000000000000";
const JL: &str = "JL02132600000172071";
const JM: &str = "JM00100000165000";
const JN: &str = "JN123Y0601261234567890106012620400000012500000000125000000001250000000000000";

#[test]
fn er_full_group_reads_every_record_and_liquidates() {
    let body = [
        JB,
        JC,
        JD,
        JE,
        JF,
        JG,
        JH,
        JI,
        JJ,
        JK,
        JL,
        JM,
        JN,
        "4A00001",
        "10AEEE  12345673",
        "90",
        "JZ013   ENTRY SUMMARY NOT FOUND FOR QUERY        EEE  76543213  2704",
    ];
    let out = run(&batch("ER", "", &body));
    assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
    let liq = out
        .facts
        .iter()
        .find_map(|(e, f)| match &f.kind {
            FactKind::Liquidation { .. } if e.to_string() == "EEE-1234567-3" => Some(&f.kind),
            _ => None,
        })
        .expect("a Liquidation fact");
    let FactKind::Liquidation {
        status_code,
        date,
        ext_susp_codes,
        ext_susp_date,
        protest,
        entry_date,
        duty_cents,
        fees_cents,
        adcvd_cents,
        reasons,
        ..
    } = liq
    else {
        unreachable!()
    };
    assert_eq!(status_code, "1");
    assert_eq!(*date, NaiveDate::from_ymd_opt(2026, 11, 21));
    assert_eq!(ext_susp_codes, &["50", "49"]);
    assert_eq!(*ext_susp_date, NaiveDate::from_ymd_opt(2026, 12, 17));
    assert_eq!(protest, "NO");
    assert_eq!(*entry_date, NaiveDate::from_ymd_opt(2026, 2, 2));
    assert_eq!((*duty_cents, *fees_cents, *adcvd_cents), (165000, 7071, 12500));
    assert_eq!(reasons, &["02", "36", "42"]);
    // JJ (page 43): one Protest fact per protest record.
    let protests: Vec<&FactKind> =
        out.facts.iter().map(|(_, f)| &f.kind).filter(|k| matches!(k, FactKind::Protest { .. })).collect();
    assert_eq!(
        protests,
        [&FactKind::Protest {
            number: "270426000123".into(),
            protest_type: "1".into(),
            status: "DN".into(),
            decided: NaiveDate::from_ymd_opt(2027, 3, 15),
            summons: false,
        }]
    );
    // JZ 013 is CBP's word about another entry: a warning naming it, not a refusal.
    let jz: Vec<&Diagnostic> = out.diagnostics.iter().filter(|d| d.code == "I241").collect();
    assert_eq!(jz.len(), 1);
    assert!(jz[0].message.contains("013") && jz[0].message.contains("EEE-7654321-3"), "{}", jz[0].message);
    assert!(!codes(&out.diagnostics).contains(&"I240".to_string()), "a full group has every mandatory record");
}

#[test]
fn er_typed_values_come_from_the_chapter_columns() {
    let g = grammars();
    // JE (page 36): five 13-column amounts from column 3, two implied decimals, sign allowed.
    let je = one(&g, "ER", "JE        -12500000000000000000000000707100000000000000000000012500");
    fits(&je);
    assert_eq!(je.decimal("estimated_duty").map(|d| d.cents()), Some(-1250));
    assert_eq!(je.decimal("estimated_fees").map(|d| d.cents()), Some(7071));
    assert_eq!(je.decimal("estimated_adcvd").map(|d| d.cents()), Some(12500));
    // JJ (page 43): protest number 3-14, type 15, status 16-17, decision date 18-23, summons 24.
    let jj = one(&g, "ER", JJ);
    fits(&jj);
    assert_eq!(jj.text("protest_number"), Some("270426000123"));
    assert_eq!(jj.text("protest_type"), Some("1"));
    assert_eq!(jj.text("protest_status"), Some("DN"));
    assert_eq!(jj.date("decision_date"), NaiveDate::from_ymd_opt(2027, 3, 15));
    // JK (page 44): bill type 20, collection status 21-22, total 23-33.
    let jk = one(&g, "ER", JK);
    fits(&jk);
    assert_eq!((jk.text("bill_type"), jk.text("bill_status")), (Some("2"), Some("04")));
    assert_eq!(jk.decimal("total_bill_amount").map(|d| d.cents()), Some(12500));
    // JC (pages 29-33): quota 44, recon filer/entry 45-57, four extension codes 71-78.
    let jc = one(&g, "ER", JC);
    fits(&jc);
    assert_eq!(jc.text("trade_recon_filer"), Some("EEE"));
    assert_eq!(jc.text("trade_recon_entry"), Some("12345673"));
    assert_eq!((jc.text("extension_code_1"), jc.text("extension_code_2")), (Some("50"), Some("49")));
    // JF (page 37): importer 3-14, entry type 15-16, port 25-28, filing date 29-34.
    let jf = one(&g, "ER", JF);
    fits(&jf);
    assert_eq!(jf.text("entry_type"), Some("01"));
    assert_eq!(jf.text("port_of_entry"), Some("2704"));
    assert_eq!(jf.date("filing_date"), NaiveDate::from_ymd_opt(2026, 2, 2));
}

#[test]
fn er_group_without_its_mandatory_records_is_applied_with_warnings() {
    let out = run(&batch("ER", "", &[JB, JC, JD]));
    assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
    assert!(out.facts.iter().any(|(_, f)| matches!(f.kind, FactKind::Liquidation { .. })));
    let missing: Vec<&Diagnostic> = out.diagnostics.iter().filter(|d| d.code == "I240").collect();
    let ids: Vec<&str> = missing.iter().filter_map(|d| d.message.split("has no ").nth(1)?.get(..2)).collect();
    assert_eq!(ids, ["JE", "JF", "JG", "JH", "JI"]);
    assert!(missing.iter().all(|d| !d.is_error()));
    assert!(missing[0].message.contains("M (Reporting Mandatory)") && missing[0].message.contains("page 24"));
}

#[test]
fn er_code_lists_match_chapter_03() {
    let g = grammars();
    let esq = catair("03-entry-summary-query-2026-05-v26.txt");
    // JD Note 2 (page 35): two columns of "NN  Meaning".
    let note = pages(&esq, 35, 35);
    let table = between(&note, "Valid Liquidation Reason Codes are:", "Note 3");
    let mut read = Vec::new();
    for l in table.lines().skip(1) {
        let toks: Vec<&str> = l.split_whitespace().collect();
        let mut i = 0;
        while i < toks.len() {
            if toks[i].len() == 2 && toks[i].chars().all(|c| c.is_ascii_digit()) {
                let mut words = Vec::new();
                let mut j = i + 1;
                while j < toks.len() && !(toks[j].len() == 2 && toks[j].chars().all(|c| c.is_ascii_digit())) {
                    words.push(toks[j]);
                    j += 1;
                }
                read.push((toks[i].to_string(), words.join(" ")));
                i = j;
            } else {
                i += 1;
            }
        }
    }
    assert_eq!(read.len(), 34, "{read:?}");
    let list = g.codes.list("liquidation_reasons").expect("liquidation_reasons");
    assert_eq!(list.codes.len(), read.len());
    for (code, meaning) in &read {
        let c = list.get(code).unwrap_or_else(|| panic!("reason {code} in the list"));
        assert_eq!(&c.meaning, meaning, "reason {code}");
    }
    assert_eq!(list.get("12").map(|c| c.meaning.as_str()), Some("Classification Post-Entry Amendment (PEA)"));
    // JC extension/suspension codes (pages 32-33) and JJ protest status (page 43).
    let ext: Vec<&str> =
        g.codes.list("extension_suspension").expect("ext").codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(ext, ["43", "44", "45", "46", "47", "48", "49", "50", "51", "65", "66"]);
    let ps: Vec<&str> = g.codes.list("protest_statuses").expect("ps").codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(ps, ["OP", "AP", "DN", "NP", "SP", "PD", "WD", "UT"]);
    let bills = g.codes.list("bill_statuses").expect("bills");
    assert_eq!(bills.codes.len(), 11);
    assert_eq!(bills.get("11").map(|c| c.meaning.as_str()), Some("Write-off with Partial Payment"));
}

#[test]
fn so_dispositions_match_the_wo_notes() {
    let g = grammars();
    let acmq = catair("04b-cargo-manifest-bond-entry-status-query-v21.txt");
    // WO60 Note 1 (pages 55-56): every "NN  NARRATIVE" row, up to the reserved-code footnote.
    let notes = pages(&acmq, 55, 56);
    let table = between(&notes, "Code     Description", "Not used in ACE Cargo Release");
    let mut read: Vec<(String, String)> = Vec::new();
    for l in table.lines() {
        let t = l.trim();
        let (Some(code), Some(rest)) = (t.get(..2), t.get(2..)) else { continue };
        if code.chars().all(|c| c.is_ascii_digit()) && rest.starts_with(' ') {
            let narrative = rest.trim_end().trim_end_matches('*').split_whitespace().collect::<Vec<_>>().join(" ");
            read.push((code.to_string(), narrative));
        }
    }
    assert!(read.len() >= 34, "{read:?}");
    let so60 = g.codes.list("so60_dispositions").expect("so60");
    assert_eq!(so60.codes.len(), read.len(), "the list has exactly the codes of Note 1");
    for (code, narrative) in &read {
        let c = so60.get(code).unwrap_or_else(|| panic!("SO60 {code} in the list"));
        let norm = |s: &str| s.replace(' ', "");
        assert!(norm(&c.meaning).starts_with(&norm(narrative)), "SO60 {code}: {:?} vs {narrative:?}", c.meaning);
    }
    assert!(so60.get("77").is_none() && so60.get("78").is_none());
    assert!(so60.get("76").is_some_and(|c| c.meaning.starts_with("ACTIVE ENTRY SUMMARY NOT FOUND")));
    // WO50 Note 1 (page 54): 61-63 delete a bill or in-bond, not the entry.
    let so50 = g.codes.list("so50_dispositions").expect("so50");
    for code in ["61", "62", "63"] {
        assert_ne!(so50.get(code).map(|c| c.effect), Some(Effect::Cancelled), "SO50 {code}");
    }
    let wo50 = pages(&acmq, 54, 54);
    let n50 = between(&wo50, "Code    Description", "*For Ocean")
        .lines()
        .filter(|l| l.split_whitespace().next().is_some_and(|t| t.len() == 2 && t.chars().all(|c| c.is_ascii_digit())))
        .count();
    assert_eq!(so50.codes.len(), n50);
}

#[test]
fn so_layouts_from_the_wo_records() {
    let g = grammars();
    // WO60 (page 55; document type 65-70 per the revision note on page 6).
    let so60 = one(&g, "SO", "SO60021226140598RELEASED                                02122601AB1234");
    fits(&so60);
    assert_eq!(so60.text("release_origin"), Some("01"));
    assert_eq!(so60.text("document_type"), Some("AB1234"));
    // WO70 (page 58), version 04 line columns.
    let so70 = one(&g, "SO", "SO70FDAFOO021026090302HOLD INTACT                   0211001010010020200300099204");
    assert_eq!(so70.text("pga_status"), Some("02"));
    assert_eq!(so70.int("line_number"), Some(1));
    assert_eq!(so70.int("pga_line_number"), Some(1));
    assert_eq!(so70.int("end_line_number"), Some(2));
    assert_eq!(so70.int("end_pga_line_number"), Some(3));
    assert_eq!(so70.text("document_type"), Some("00099"));
    assert_eq!(so70.text("processing_version"), Some("04"));
    // WO71 (pages 62-63): qualifiers and identifiers, receipt date/time, ten sub-reasons.
    let so71 = one(&g, "SO", "SO71PN123456789012020626101530A01B02                        EC123456789012345678");
    fits(&so71);
    assert_eq!(so71.text("reference_qualifier"), Some("PN"));
    assert_eq!(so71.text("reference_id"), Some("123456789012"));
    assert_eq!(so71.date("receipt_date"), NaiveDate::from_ymd_opt(2026, 2, 6));
    assert_eq!((so71.text("sub_reason_1"), so71.text("sub_reason_2")), (Some("A01"), Some("B02")));
    assert_eq!(so71.text("reference_qualifier_2"), Some("EC"));
    assert_eq!(so71.text("reference_id_2"), Some("123456789012345678"));
    // WO72 (page 64): comments 5-80.
    let so72 = one(&g, "SO", "SO72PRODUCT SAMPLE REQUESTED BY FDA DISTRICT");
    assert_eq!(so72.text("comment"), Some("PRODUCT SAMPLE REQUESTED BY FDA DISTRICT"));
}

fn so_file(records: &[&str]) -> Vec<u8> {
    let mut body = vec!["SO102704EEE  12345673 0112-345678900"];
    body.extend_from_slice(records);
    batch("SO", "", &body)
}

fn derive(files: &[Vec<u8>]) -> Entry {
    let mut facts = Vec::new();
    for f in files {
        let out = run(f);
        assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
        facts.extend(out.facts.into_iter().map(|(_, f)| f));
    }
    let e = EntryNumber::from_parts("EEE", "12345673").expect("entry");
    Entry::derive(&e, &facts)
}

#[test]
fn release_98_lifts_cbp_99_96_90_but_not_pga_holds() {
    // Issue 14 item 8: SO60 98 after CBP's own 99, 96, 90 lifts them (so60_dispositions,
    // 04b page 56, WO60 Note 1); an FDA hold (SO70 02) survives the CBP release.
    let holds = so_file(&[
        "SO60021026090099RELEASE SUSPENDED",
        "SO60021026090196DOCUMENT REQUIRED",
        "SO60021026090290UNDER CBP REVIEW",
        "SO70FDAFOO021026090302HOLD INTACT                   0211001010010020200300099204",
    ]);
    let e = derive(std::slice::from_ref(&holds));
    let mut open: Vec<String> = e.holds.iter().map(|h| format!("{} {}", h.list, h.code)).collect();
    open.sort();
    assert_eq!(open, ["so60 90", "so60 96", "so60 99", "so70 02"]);
    let released = so_file(&["SO60021226140598RELEASED                                021226"]);
    let e = derive(&[holds, released]);
    assert!(e.released);
    let open: Vec<String> = e.holds.iter().map(|h| format!("{} {} {}", h.list, h.code, h.agency)).collect();
    assert_eq!(open, ["so70 02 FDA"]);
}

#[test]
fn release_98_does_not_lift_a_manifest_hold() {
    let e = derive(&[so_file(&[
        "SO50021026080053CBP HOLD",
        "SO60021226140598RELEASED                                021226",
    ])]);
    let open: Vec<String> = e.holds.iter().map(|h| format!("{} {}", h.list, h.code)).collect();
    assert_eq!(open, ["so50 53"], "SO50 53 is lifted by SO50 56 only");
}

#[test]
fn monthly_statement_from_chapter_05b_gives_due_date_and_final() {
    // A final PMS as 05b lays it out (pages 7-20): Q1/Q2/QA per daily statement, Q3/Q4/QE
    // (preliminary amounts, repeated on the final), Q5/Q6/QJ (final), Q7 (deletions).
    let body = [
        "Q12726041A012704EEE12-3456789000210260211260000016500000000000000",
        "Q2000000000000000000000000000172071",
        "QA014990000000519650100000001875",
        "Q32726P02A01031726041526EEE12-3456789000000016500000000000000",
        "Q4000000000000000000000000000172071",
        "QE014990000000519650100000001875",
        "Q52726P02A01031726041526EEE12-3456789000000016500000000000000",
        "Q6000000000000000000000000000172071",
        "QJ014990000000519650100000001875",
        "Q72726041A02EEE  76543213ABI",
    ];
    let out = run(&batch("MS", "F2726P02A01031726612-345678900", &body));
    assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
    assert_eq!(out.monthly.len(), 1);
    let m = &out.monthly[0];
    assert_eq!(m.daily_number, "2726041A01");
    assert_eq!(m.monthly_number, "2726P02A01");
    assert_eq!(m.due, NaiveDate::from_ymd_opt(2026, 4, 15));
    assert!(m.final_statement);
    let g = grammars();
    let q2 = one(&g, "MS", body[1]);
    fits(&q2);
    assert_eq!(q2.decimal("amount_due").map(|d| d.cents()), Some(172071));
    let q7 = one(&g, "MS", body[9]);
    fits(&q7);
    assert_eq!(q7.text("entry_number_1"), Some("76543213"));
    assert_eq!(q7.text("delete_source_1"), Some("ABI"));
    // A preliminary PMS (no final grouping, B status P) is not paid; its due date is Q3's.
    let out = run(&batch("MS", "P2726P02A01031726612-345678900", &body[..6]));
    assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
    assert_eq!(out.monthly[0].due, NaiveDate::from_ymd_opt(2026, 4, 15));
    assert!(!out.monthly[0].final_statement);
}

#[test]
fn daily_statement_q7_reads_four_deleted_entries() {
    let g = grammars();
    // 05, pages 28-30.
    let q7 = one(&g, "PF", "Q72726041A01EEE  12345673ABIEEE  76543213CBPEEE  11111116ABIEEE  22222224CBP");
    fits(&q7);
    let got: Vec<(Option<&str>, Option<&str>)> =
        (1..=4).map(|i| (q7.text(&format!("entry_number_{i}")), q7.text(&format!("delete_source_{i}")))).collect();
    assert_eq!(
        got,
        [
            (Some("12345673"), Some("ABI")),
            (Some("76543213"), Some("CBP")),
            (Some("11111116"), Some("ABI")),
            (Some("22222224"), Some("CBP"))
        ]
    );
}

#[test]
fn application_codes_match_chapter_01() {
    let g = grammars();
    let bb = catair("01-batch-block-control-v23.txt");
    let mut read: Vec<String> = Vec::new();
    for (from, to) in [(11, 12), (22, 23)] {
        for l in pages(&bb, from, to).lines() {
            let toks: Vec<&str> = l.split_whitespace().collect();
            if toks.len() < 2 {
                continue;
            }
            let code = |t: &str| {
                t.len() == 2 && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '$' || c == '%')
            };
            for t in toks.iter().rev().take(2).take_while(|t| code(t)) {
                if !read.iter().any(|r| r == t) {
                    read.push(t.to_string());
                }
            }
        }
    }
    assert!(read.len() >= 60, "{read:?}");
    let list = g.codes.list("applications").expect("applications");
    for c in &read {
        assert!(list.get(c).is_some(), "application code {c} (chapter 01) is in the list");
    }
    assert_eq!(list.codes.len(), read.len(), "no code the chapter does not list");
}

#[test]
fn er_facts_are_dated_by_the_batch_transmission_date() {
    // The ER facts are dated by the A-record transmission date (121826).
    let out = run(&batch("ER", "", &[JB, JC, JD, JE, JF, JG, JH, JI]));
    let at: Vec<NaiveDateTime> = out.facts.iter().map(|(_, f)| f.at).collect();
    assert_eq!(at, [NaiveDate::from_ymd_opt(2026, 12, 18).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("t")]);
}

#[test]
fn unknown_cbp_codes_are_applied_with_warnings() {
    // A liquidation reason and an extension code chapter 03 does not list (77, 67): the
    // liquidation is still applied, each code is a warning (ABIE025).
    let jd = JD.replace("023642N", "023677N");
    let jc = JC.replace("5049", "6749");
    let out = run(&batch("ER", "", &[JB, &jc, &jd, JE, JF, JG, JH, JI]));
    assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
    let unknown: Vec<&str> =
        out.diagnostics.iter().filter(|d| d.code == "ABIE025").map(|d| d.message.as_str()).collect();
    assert_eq!(unknown.len(), 2, "{unknown:?}");
    assert!(unknown.iter().any(|m| m.contains("code 77 ") && m.contains("liquidation_reasons")));
    assert!(unknown.iter().any(|m| m.contains("code 67 ") && m.contains("extension_suspension")));
    let reasons = out.facts.iter().find_map(|(_, f)| match &f.kind {
        FactKind::Liquidation { reasons, ext_susp_codes, .. } => Some((reasons.clone(), ext_susp_codes.clone())),
        _ => None,
    });
    assert_eq!(reasons, Some((vec!["02".into(), "36".into(), "77".into()], vec!["67".into(), "49".into()])));
    // An SO60 code not in WO60 Note 1: the disposition is applied (advisory), with a warning.
    let out = run(&so_file(&["SO6002102609004QNEW CBP DISPOSITION"]));
    assert_eq!(errors(&out.diagnostics), Vec::<String>::new());
    assert!(codes(&out.diagnostics).contains(&"ABIE025".to_string()));
    let d = out.facts.iter().find_map(|(_, f)| match &f.kind {
        FactKind::Disposition { code, effect, narrative, .. } => Some((code.clone(), *effect, narrative.clone())),
        _ => None,
    });
    assert_eq!(d, Some(("4Q".into(), Effect::Advisory, "NEW CBP DISPOSITION".into())));
}
