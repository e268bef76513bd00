//! ABI reader tests: goldens per sample, broken samples' codes, the abi.md example records,
//! the streaming API's typed values, framing equivalence and no-panic properties.

use entrywatch::grammar::codes::Effect;
use entrywatch::grammar::Grammars;
use entrywatch::parse::abi::{self, AbiEvent, Decimal, Value};
use entrywatch::parse::error::Diagnostic;
use entrywatch::parse::{parse_file, Format};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn grammars() -> Grammars {
    Grammars::embedded().expect("embedded grammars load")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("samples/abi"))
        .expect("samples/abi")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "abi"))
        .collect();
    v.sort();
    v
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// Pad reference-document lines (trailing spaces trimmed in the source) to 80 columns.
fn lines(ls: &[&str]) -> Vec<u8> {
    ls.iter().map(|l| format!("{l:<80}\n")).collect::<String>().into_bytes()
}

/// Every transaction of a file, as owned data: (application, kind, entry, records as
/// (name, fields), ok), plus the diagnostics.
type Fields = Vec<(String, String)>;
struct Tx {
    application: String,
    kind: String,
    entry: Option<String>,
    records: Vec<(String, Fields)>,
}

fn collect(bytes: &[u8], g: &Grammars) -> (Vec<Tx>, Vec<String>, Vec<Diagnostic>) {
    let mut txs = Vec::new();
    let mut blocks = Vec::new();
    let diags = abi::read(bytes, g, &mut |ev| match ev {
        AbiEvent::Transaction(t) => txs.push(Tx {
            application: t.application.clone(),
            kind: t.kind.to_string(),
            entry: t.entry.as_ref().map(|e| e.to_string()),
            records: t
                .records
                .iter()
                .map(|r| (r.name.to_string(), r.fields().map(|(n, v)| (n.to_string(), format!("{v:?}"))).collect()))
                .collect(),
        }),
        AbiEvent::BlockStart(b) => blocks.push(b.text("application_id").unwrap_or_default().to_string()),
        _ => {}
    });
    (txs, blocks, diags)
}

fn codes(d: &[Diagnostic]) -> Vec<&str> {
    d.iter().map(|d| d.code.as_str()).collect()
}

#[test]
fn every_sample_matches_its_golden() {
    let g = grammars();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = root().join("tests/golden/abi");
    std::fs::create_dir_all(&dir).expect("golden dir");
    let mut failures = Vec::new();
    for p in samples() {
        let bytes = std::fs::read(&p).expect("sample");
        let parsed = parse_file(&rel(&p), &bytes, &g);
        let json = serde_json::to_string_pretty(&parsed).expect("json") + "\n";
        let golden = dir.join(format!("{}.json", p.file_stem().and_then(|s| s.to_str()).unwrap_or("x")));
        if update {
            std::fs::write(&golden, &json).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(want) if want == json => {}
            Ok(_) => failures.push(format!("{} differs from {}", rel(&p), rel(&golden))),
            Err(_) => failures.push(format!("{} has no golden (run with UPDATE_GOLDEN=1)", rel(&p))),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn valid_samples_are_ok_and_broken_ones_give_their_codes() {
    let g = grammars();
    // `ok` is false only for a broken envelope (or nothing to read): what is wrong inside a
    // transaction that names its entry is a warning, and the message is applied (docs/abi.md).
    let expected: &[(&str, &str, bool)] = &[
        ("broken-bad-amount", "ABIE021", true),
        ("broken-bad-date", "ABIE022", true),
        ("broken-check-digit", "ABIE030", true),
        ("broken-data-in-filler", "ABIE023", true),
        ("broken-empty", "P001", false),
        ("broken-long-record", "ABIE003", false),
        ("broken-lowercase", "ABIE005", true),
        ("broken-mandatory-blank", "ABIE020", true),
        ("broken-missing-y", "ABIE044", false),
        ("broken-missing-z", "ABIE041", false),
        ("broken-no-envelope", "ABIE049", false),
        ("broken-non-printable", "ABIE004", false),
        ("broken-out-of-sequence", "ABIE011", true),
        ("broken-short-records", "ABIE002", true),
        ("broken-unknown-entry-type", "ABIE025", true),
        ("broken-unknown-record", "ABIE010", true),
        ("broken-x19-application-conflict", "ABIE047", false),
        ("broken-y-count", "ABIE046", false),
        ("broken-z-mismatch", "ABIE042", false),
    ];
    for p in samples() {
        let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let parsed = parse_file(&rel(&p), &std::fs::read(&p).expect("sample"), &g);
        match expected.iter().find(|(n, _, _)| *n == name) {
            Some((_, code, ok)) => {
                assert!(codes(&parsed.errors).contains(code), "{name}: want {code}, got {:?}", codes(&parsed.errors));
                assert_eq!(parsed.ok, *ok, "{name}: ok");
            }
            None => {
                assert!(!name.starts_with("broken-"), "{name} has no expected code in this test");
                assert_eq!(parsed.format, Format::Abi, "{name}");
                assert!(parsed.ok && parsed.errors.is_empty(), "{name}: {:?}", parsed.errors);
            }
        }
    }
}

#[test]
fn stream_crlf_and_lines_read_the_same() {
    let g = grammars();
    let read = |n: &str| {
        let bytes = std::fs::read(root().join("samples/abi").join(n)).expect("sample");
        let (s, d) = abi::summarize(&bytes, &g);
        assert!(d.is_empty(), "{n}: {d:?}");
        s
    };
    let lines = read("life-01-ae-filed.abi");
    assert_eq!(lines, read("ae-stream.abi"));
    assert_eq!(lines, read("ae-crlf.abi"));
    let t = &lines.batches[0].blocks[0].transactions[0];
    assert_eq!(
        (t.kind.as_str(), t.entry.as_deref(), t.records, t.ok),
        ("entry-summary", Some("EEE-1234567-3"), 12, true)
    );
    assert!(lines.tree().contains("entry-summary EEE-1234567-3 (12 records)"));
}

#[test]
fn streaming_api_gives_typed_fields_and_places() {
    let g = grammars();
    let bytes = std::fs::read(root().join("samples/abi/life-01-ae-filed.abi")).expect("sample");
    let mut seen = 0;
    let diags = abi::read(&bytes, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            seen += 1;
            assert_eq!((t.application.as_str(), t.port.as_str(), t.filer.as_str()), ("AE", "2704", "EEE"));
            let e = t.entry.as_ref().expect("entry");
            assert_eq!((e.filer.as_str(), e.number.as_str(), e.check), ("EEE", "1234567", 3));
            let h = t.record("10").expect("10");
            assert_eq!((h.index, h.line, h.byte), (3, 3, 162));
            assert_eq!(h.text("port_of_entry"), Some("2704"));
            assert_eq!(h.text("entry_type"), Some("01"));
            assert_eq!(h.date("statement_print_date"), chrono::NaiveDate::from_ymd_opt(2026, 2, 10));
            assert_eq!(t.record("11").and_then(|r| r.text("importer_number")), Some("12-345678900"));
            let tariffs: Vec<_> = t.records_named("50").collect();
            assert_eq!(tariffs.len(), 2);
            assert_eq!(tariffs[0].text("hts_number"), Some("6110202079"));
            assert_eq!(tariffs[0].decimal("duty_amount"), Some(Decimal { units: 165000, scale: 2 }));
            assert_eq!(tariffs[0].value("entered_value"), Some(Value::Int(10000)));
            assert_eq!(tariffs[0].value("quantity_2"), Some(Value::Decimal(Decimal { units: 120000, scale: 2 })));
            assert_eq!(tariffs[0].value("uom_3"), Some(Value::Blank));
            assert_eq!(tariffs[0].value("no_such_field"), None);
            let lines: Vec<_> = t.records_named("40").filter_map(|r| r.int("line_number")).collect();
            assert_eq!(lines, vec![1, 2]);
            assert_eq!(
                t.record("90").and_then(|r| r.decimal("total_user_fees")).map(|d| d.to_string()).as_deref(),
                Some("70.71")
            );
            assert!(t.ok() && t.diagnostics.is_empty());
        }
    });
    assert_eq!(seen, 1);
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn abi_md_1_8_rejected_batch() {
    let g = grammars();
    let bytes = lines(&[
        "A2704EEE      020226                                       MYREF-0002",
        "B                                                                              B",
        "X1 FX12   NOT A KNOWN ACE APPLICATION ID CODE",
        "X1RF999   BATCH REJECTED",
        "Y           00002                                                              Y",
        "Z                                                                              Z",
    ]);
    let (txs, blocks, diags) = collect(&bytes, &g);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(blocks, vec![String::new()]);
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].kind, "batch-condition");
    let names: Vec<_> = txs[0].records.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["X1", "X1"]);
    let field = |i: usize, f: &str| txs[0].records[i].1.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone());
    assert_eq!(field(0, "condition_code").as_deref(), Some("Text(\"X12\")"));
    assert_eq!(field(1, "disposition_type").as_deref(), Some("Text(\"R\")"));
    assert_eq!(field(1, "condition_code").as_deref(), Some("Text(\"999\")"));
    assert_eq!(g.codes.get("batch_conditions", "999").map(|c| c.effect), Some(Effect::Rejected));
}

#[test]
fn abi_md_2_9_entry_summary_and_acceptance() {
    let g = grammars();
    let ae = lines(&[
        "A2704EEEPASSWD020226     AE                                MYREF-0001",
        "B  2704EEEAE",
        "10AEEE  12345673 2704BR0001      0111 X           2021026",
        "1112-345678900                           020226013126       CA",
        "40  001 CNCN010526        0000000850570350000001200",
        "506110202079 0000165000 0000010000 000000010000DOZ000000120000KG",
        "6249900003464",
        "6250100001250",
        "894990000000346450100000001250",
        "9000000165000 00000004714",
        "Y  2704EEEAE",
        "Z2704EEE      020226",
    ]);
    let mut checked = false;
    let diags = abi::read(&ae, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            checked = true;
            assert_eq!(t.kind, "entry-summary");
            assert_eq!(t.entry.as_ref().map(|e| e.to_string()).as_deref(), Some("EEE-1234567-3"));
            let h = t.record("10").expect("10");
            assert_eq!(h.text("mode_of_transport"), Some("11"));
            assert_eq!(h.text("payment_type"), Some("2"));
            let c = t.record("11").expect("11");
            assert_eq!(c.date("estimated_entry_date"), chrono::NaiveDate::from_ymd_opt(2026, 2, 2));
            assert_eq!(c.date("import_date"), chrono::NaiveDate::from_ymd_opt(2026, 1, 31));
            let l = t.record("40").expect("40");
            assert_eq!(l.text("country_of_origin"), Some("CN"));
            assert_eq!(l.int("charges_amount"), Some(850));
            let tar = t.record("50").expect("50");
            assert_eq!(tar.decimal("duty_amount").map(|d| d.to_string()).as_deref(), Some("1650.00"));
            assert_eq!(tar.decimal("quantity_1").map(|d| d.to_string()).as_deref(), Some("100.00"));
            assert_eq!(tar.text("uom_1"), Some("DOZ"));
            let fees: Vec<_> = t
                .records_named("62")
                .map(|r| {
                    (r.text("fee_class").unwrap_or_default().to_string(), r.decimal("fee_amount").map(|d| d.cents()))
                })
                .collect();
            assert_eq!(fees, vec![("499".to_string(), Some(3464)), ("501".to_string(), Some(1250))]);
            let tot = t.record("89").expect("89");
            assert_eq!(tot.decimal("fee_amount_1").map(|d| d.cents()), Some(3464));
            assert_eq!(tot.decimal("fee_amount_2").map(|d| d.cents()), Some(1250));
            let gt = t.record("90").expect("90");
            assert_eq!(gt.decimal("total_duty").map(|d| d.cents()), Some(165000));
            assert_eq!(gt.decimal("total_user_fees").map(|d| d.cents()), Some(4714));
        }
    });
    assert!(checked);
    assert!(diags.is_empty(), "{diags:?}");

    let ax = lines(&[
        "A2704EEE      020226     AX                                MYREF-0001",
        "B  2704EEEAX",
        "E0 SUMMRY 000001 REF ID: EEE 12345673 BR0001",
        "E1A 995   SUMMARY HAS BEEN ADDED                  EEE  1234567300100BR0001",
        "Y  2704EEEAX00002",
        "Z2704EEE      020226",
    ]);
    let mut checked = false;
    let diags = abi::read(&ax, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            checked = true;
            assert_eq!(t.kind, "entry-summary-response");
            assert_eq!(t.entry.as_ref().map(|e| e.to_string()).as_deref(), Some("EEE-1234567-3"));
            let e1 = t.record("E1").expect("E1");
            assert_eq!(e1.text("disposition_code"), Some("A"));
            assert_eq!(e1.text("condition_code"), Some("995"));
            assert_eq!(e1.text("narrative"), Some("SUMMARY HAS BEEN ADDED"));
            assert_eq!(e1.text("version_number"), Some("00100"));
            assert_eq!(t.record("E0").and_then(|r| r.text("broker_reference")), Some("BR0001"));
        }
    });
    assert!(checked);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(g.codes.get("ax_dispositions", "A").map(|c| c.effect), Some(Effect::Entered));
}

#[test]
fn abi_md_2_10_uc_rejection() {
    let g = grammars();
    let uc = lines(&[
        "B  2704EEEUC",
        "E141110003031026                                  EEE  12345673     BR0001",
        "E3CLASSIFICATION INCORRECT ON LINE 001",
        "Y  2704EEEUC00002",
    ]);
    let mut checked = false;
    let diags = abi::read(&uc, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            checked = true;
            assert_eq!(t.kind, "entry-summary-status");
            assert_eq!(t.entry.as_ref().map(|e| e.to_string()).as_deref(), Some("EEE-1234567-3"));
            let e1 = t.record("E1").expect("E1");
            assert_eq!(e1.text("disposition_code"), Some("4"));
            assert_eq!(e1.text("action_source"), Some("1"));
            assert_eq!(e1.text("cbp_team"), Some("110"));
            assert_eq!(e1.text("reason_code"), Some("003"));
            assert_eq!(e1.date("action_date"), chrono::NaiveDate::from_ymd_opt(2026, 3, 10));
            assert_eq!(e1.text("broker_reference"), Some("BR0001"));
            assert_eq!(t.record("E3").and_then(|r| r.text("remarks")), Some("CLASSIFICATION INCORRECT ON LINE 001"));
        }
    });
    assert!(checked);
    // A block extract: no batch header, no other problem.
    assert_eq!(codes(&diags), ["ABIE040"]);
    assert_eq!(g.codes.get("uc_dispositions", "4").map(|c| c.effect), Some(Effect::Rejected));
    assert_eq!(g.codes.get("uc_reasons", "003").map(|c| c.meaning.as_str()), Some("Classification"));
}

#[test]
fn abi_md_3_4_cargo_release_status() {
    let g = grammars();
    let so = lines(&[
        "A2704EEE      020326     SO",
        "B  2704EEESO",
        "SO102704EEE  12345673 0112-345678900MAEUMAERSK EXAMPLE      612W 020526",
        "SO50020526081595BILL ARRIVED                            NMAEU612W 0205262704",
        "SO60020526093003PENDING INTENSIVE EXAM",
        "SO70FDAFOO020526101202HOLD INTACT                   021100101001              04",
        "SO60020926140598RELEASED                                02092605",
        "Y  2704EEESO00005",
        "Z2704EEE      020926",
    ]);
    let mut checked = false;
    let diags = abi::read(&so, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            checked = true;
            assert_eq!(t.kind, "cargo-release-status");
            assert_eq!(t.entry.as_ref().map(|e| e.to_string()).as_deref(), Some("EEE-1234567-3"));
            let h = t.record("SO10").expect("SO10");
            assert_eq!(h.text("importer_number"), Some("12-345678900"));
            assert_eq!(h.text("vessel_name"), Some("MAERSK EXAMPLE"));
            assert_eq!(h.date("estimated_arrival_date"), chrono::NaiveDate::from_ymd_opt(2026, 2, 5));
            assert_eq!(t.record("SO50").and_then(|r| r.text("disposition_code")), Some("95"));
            let so60: Vec<_> = t.records_named("SO60").collect();
            assert_eq!(so60[0].text("disposition_code"), Some("03"));
            assert_eq!(so60[1].text("disposition_code"), Some("98"));
            assert_eq!(so60[1].date("release_date"), chrono::NaiveDate::from_ymd_opt(2026, 2, 9));
            assert_eq!(so60[1].text("release_origin"), Some("05"));
            let pga = t.record("SO70").expect("SO70");
            assert_eq!(pga.text("agency_code"), Some("FDA"));
            assert_eq!(pga.text("pga_status"), Some("02"));
            assert_eq!(pga.text("line_status"), Some("02"));
            assert_eq!(pga.text("status_reason"), Some("11"));
            assert_eq!(pga.int("line_number"), Some(1));
            assert_eq!(pga.text("processing_version"), Some("04"));
        }
    });
    assert!(checked);
    // The example's Z date (02/09) differs from its A date (02/03): a warning, not an error.
    assert_eq!(codes(&diags), ["ABIE043"]);
    let c = |l: &str, k: &str| g.codes.get(l, k).map(|c| c.effect);
    assert_eq!(c("so60_dispositions", "03"), Some(Effect::Exam));
    assert_eq!(c("so60_dispositions", "98"), Some(Effect::Released));
    assert_eq!(c("so70_statuses", "02"), Some(Effect::HoldPlaced));
    assert_eq!(c("release_origins", "05"), Some(Effect::HoldRemoved));
}

#[test]
fn abi_md_4_5_daily_statement_fragment() {
    let g = grammars();
    let pf = lines(&[
        "B  2704EEEPFP2726041A010210262",
        "Q12704EEE  12345673  12-3456789000210260000016500000000000000 BR0001         01",
        "QA014990000000346450100000001250",
    ]);
    let mut block = None;
    let mut checked = false;
    let diags = abi::read(&pf, &g, &mut |ev| match ev {
        AbiEvent::BlockStart(b) => {
            block = Some((
                b.text("statement_status").map(String::from),
                b.text("statement_number").map(String::from),
                b.date("statement_print_date"),
                b.text("payment_type").map(String::from),
            ))
        }
        AbiEvent::Transaction(t) => {
            checked = true;
            assert_eq!(t.kind, "statement-entry");
            assert_eq!(t.entry.as_ref().map(|e| e.to_string()).as_deref(), Some("EEE-1234567-3"));
            let q1 = t.record("Q1").expect("Q1");
            assert_eq!(q1.text("importer_number"), Some("12-345678900"));
            assert_eq!(q1.date("statement_print_date"), chrono::NaiveDate::from_ymd_opt(2026, 2, 10));
            assert_eq!(q1.decimal("duty_amount").map(|d| d.cents()), Some(165000));
            assert_eq!(q1.text("entry_type"), Some("01"));
            let qa = t.record("QA").expect("QA");
            assert_eq!(qa.text("fee_class_1"), Some("499"));
            assert_eq!(qa.decimal("fee_amount_1").map(|d| d.cents()), Some(3464));
            assert_eq!(qa.decimal("fee_amount_2").map(|d| d.cents()), Some(1250));
        }
        _ => {}
    });
    assert!(checked);
    assert_eq!(
        block,
        Some((
            Some("P".into()),
            Some("2726041A01".into()),
            chrono::NaiveDate::from_ymd_opt(2026, 2, 10),
            Some("2".into())
        ))
    );
    // A fragment: no batch header, and the block has no trailer.
    assert_eq!(codes(&diags), ["ABIE040", "ABIE044"]);
}

#[test]
fn the_approved_pre_entry_differs_from_the_filing_in_one_hts() {
    let g = grammars();
    let hts = |n: &str| {
        let bytes = std::fs::read(root().join("samples/abi").join(n)).expect("sample");
        let (txs, _, _) = collect(&bytes, &g);
        txs.iter()
            .flat_map(|t| t.records.iter())
            .filter(|r| r.0 == "50")
            .filter_map(|r| r.1.iter().find(|(n, _)| n == "hts_number").map(|(_, v)| v.clone()))
            .collect::<Vec<_>>()
    };
    let filed = hts("life-01-ae-filed.abi");
    let approved = hts("life-00-approved-pre-entry.abi");
    assert_eq!(filed.len(), 2);
    assert_eq!(filed[0], approved[0]);
    assert_ne!(filed[1], approved[1]);
}

#[test]
fn every_life_file_is_about_the_same_entry() {
    let g = grammars();
    for p in samples().into_iter().filter(|p| rel(p).contains("/life-")) {
        let (txs, _, diags) = collect(&std::fs::read(&p).expect("sample"), &g);
        assert!(diags.is_empty(), "{}: {diags:?}", rel(&p));
        assert!(!txs.is_empty());
        for t in txs.iter().filter(|t| !t.kind.starts_with("statement-totals")) {
            assert_eq!(t.entry.as_deref(), Some("EEE-1234567-3"), "{} {}", rel(&p), t.kind);
            assert!(!t.application.is_empty());
        }
    }
}

fn sample_bytes() -> Vec<Vec<u8>> {
    samples().iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1200)) {
        let g = grammars();
        let mut n = 0usize;
        let d = abi::read(&bytes, &g, &mut |_| n += 1);
        let (s, _) = abi::summarize(&bytes, &g);
        let _ = s.tree();
        prop_assert!(d.len() <= 10_001);
    }

    #[test]
    fn mutated_samples_never_panic(
        pick in 0usize..64,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
        cut in any::<usize>(),
    ) {
        let g = grammars();
        let all = sample_bytes();
        let mut bytes = all[pick % all.len()].clone();
        for (at, b) in edits {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
        }
        if !bytes.is_empty() && cut % 3 == 0 {
            bytes.truncate(cut % bytes.len());
        }
        let (s, d) = abi::summarize(&bytes, &g);
        let _ = s.tree();
        // Every transaction counted in the summary is well-formed JSON.
        prop_assert!(serde_json::to_string(&s).is_ok());
        for x in &d {
            prop_assert!(x.code.starts_with("ABIE"));
        }
    }
}

#[test]
fn grouping_and_envelope_faults_give_their_codes() {
    let g = grammars();
    let ten = "10AEEE  12345673 2704BR0001      0111 X           2021026";
    let eleven = "1112-345678900                           020226013126       CA";
    let cases: &[(&str, Vec<&str>, &str)] = &[
        // An 11 three times under one 10 (max 1).
        (
            "ABIE012",
            vec![
                "A2704EEE      020226     AE",
                "B  2704EEEAE",
                ten,
                eleven,
                eleven,
                "Y  2704EEEAE",
                "Z2704EEE      020226",
            ],
            "repeat",
        ),
        // A block whose first record is a line, not a 10.
        (
            "ABIE013",
            vec![
                "A2704EEE      020226     AE",
                "B  2704EEEAE",
                "40  001 CNCN010526",
                "Y  2704EEEAE",
                "Z2704EEE      020226",
            ],
            "no start",
        ),
        // A record between the A and the first B.
        (
            "ABIE049",
            vec![
                "A2704EEE      020226     AE",
                ten,
                "B  2704EEEAE",
                ten,
                eleven,
                "Y  2704EEEAE",
                "Z2704EEE      020226",
            ],
            "outside",
        ),
        // The Y names another port.
        (
            "ABIE045",
            vec!["A2704EEE      020226     AE", "B  2704EEEAE", ten, eleven, "Y  3001EEEAE", "Z2704EEE      020226"],
            "y mismatch",
        ),
        // An application without a grammar.
        (
            "ABIE048",
            vec!["A2704EEE      020226     NR", "B  2704EEENR", "N1XXXX", "Y  2704EEENR", "Z2704EEE      020226"],
            "unknown app",
        ),
        // An entry number that is not 7 digits + check digit.
        (
            "ABIE031",
            vec![
                "A2704EEE      020226     AE",
                "B  2704EEEAE",
                "10AEEE  1234X673 2704BR0001      0111 X           2021026",
                eleven,
                "Y  2704EEEAE",
                "Z2704EEE      020226",
            ],
            "bad entry",
        ),
        // Punctuation in an AN field.
        (
            "ABIE024",
            vec![
                "A2704EEE      020226     AE",
                "B  2704EEEAE",
                "10AEEE  12345673 27-4BR0001      0111 X           2021026",
                eleven,
                "Y  2704EEEAE",
                "Z2704EEE      020226",
            ],
            "AN class",
        ),
    ];
    for (code, recs, what) in cases {
        let diags = abi::read(&lines(recs), &g, &mut |_| {});
        assert!(codes(&diags).contains(code), "{what}: want {code}, got {:?}", codes(&diags));
    }
    // An empty line between records is a warning, and records keep their line numbers.
    let mut text =
        String::from_utf8(lines(&["A2704EEE      020226     AE", "B  2704EEEAE", ten, eleven])).expect("utf8");
    text.push('\n');
    text.push_str(&String::from_utf8(lines(&["Y  2704EEEAE", "Z2704EEE      020226"])).expect("utf8"));
    let mut y_line = 0;
    let diags = abi::read(text.as_bytes(), &g, &mut |ev| {
        if let AbiEvent::BlockEnd(Some(y)) = ev {
            y_line = y.line;
        }
    });
    assert_eq!(codes(&diags), ["ABIE006"]);
    assert_eq!(y_line, 6);
    // Nothing at all.
    assert_eq!(codes(&abi::read(b"", &g, &mut |_| {})), ["ABIE001"]);
}

#[test]
fn code_lists_hold_rules_and_mpf_table() {
    let g = grammars();
    // Every code a removal names is a hold (or exam) somewhere in the ABI lists.
    let holds: Vec<(&str, &str)> = g
        .codes
        .lists
        .values()
        .flat_map(|l| l.codes.iter().map(move |c| (l.name.as_str(), c)))
        .filter(|(_, c)| matches!(c.effect, Effect::HoldPlaced | Effect::Exam))
        .map(|(l, c)| (l, c.code.as_str()))
        .collect();
    let mut removals = 0;
    for l in g.codes.lists.values() {
        for c in l.codes.iter().filter(|c| c.effect == Effect::HoldRemoved) {
            removals += 1;
            for r in &c.removes {
                assert!(holds.iter().any(|(_, h)| h == r), "{} {} removes {r}, which places no hold", l.name, c.code);
            }
        }
    }
    assert!(removals >= 6);
    let effect = |l: &str, c: &str| g.codes.get(l, c).map(|c| c.effect);
    for (l, c) in [
        ("so50_dispositions", "51"),
        ("so50_dispositions", "52"),
        ("so50_dispositions", "53"),
        ("so60_dispositions", "99"),
        ("so70_statuses", "02"),
        ("so70_statuses", "06"),
        ("uc_dispositions", "D"),
    ] {
        assert_eq!(effect(l, c), Some(Effect::HoldPlaced), "{l} {c}");
    }
    assert_eq!(effect("so60_dispositions", "98"), Some(Effect::Released));
    assert_eq!(g.codes.get("so50_dispositions", "56").map(|c| c.removes.clone()), Some(vec!["53".to_string()]));
    // The MPF table: FY26 row and ten fiscal periods, amounts in cents.
    let mpf = g.codes.list("mpf").expect("mpf list");
    assert_eq!(mpf.table.len(), 10);
    let fy26 = mpf.table.iter().find(|r| r.get("fiscal_year").and_then(|v| v.as_str()) == Some("FY26")).expect("FY26");
    assert_eq!(fy26.get("min_cents").and_then(|v| v.as_integer()), Some(3358));
    assert_eq!(fy26.get("max_cents").and_then(|v| v.as_integer()), Some(65150));
    assert_eq!(fy26.get("rate_per_million").and_then(|v| v.as_integer()), Some(3464));
    // Every ABI field's code list exists and every entry type the samples use is known.
    assert!(g.codes.get("entry_types", "01").is_some() && g.codes.get("modes_of_transport", "11").is_some());
}
