//! X12 reader tests: grammar loading, golden `parse --json` per sample, per-sample verdicts and
//! codes, the streaming API, the shared corpus verdicts, and property tests (no panics).

mod common;

use entrywatch::grammar::{GrammarFile, Grammars};
use entrywatch::parse::x12::{read, summarize, AckStatus, X12Event};
use entrywatch::parse::{parse_file, ParsedFile};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn grammars() -> &'static Grammars {
    static G: OnceLock<Grammars> = OnceLock::new();
    G.get_or_init(|| Grammars::embedded().expect("embedded grammars load"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("samples/x12"))
        .expect("samples/x12")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "x12"))
        .collect();
    v.sort();
    v
}

fn parse_sample(p: &Path) -> ParsedFile {
    let rel = p.strip_prefix(root()).unwrap_or(p).to_string_lossy().replace('\\', "/");
    parse_file(&rel, &std::fs::read(p).expect("read sample"), grammars())
}

fn codes(r: &ParsedFile) -> Vec<String> {
    r.errors.iter().map(|e| e.code.clone()).collect()
}

#[test]
fn every_grammar_loads_and_names_the_sets() {
    let g = grammars();
    for set in ["350", "309", "353", "355", "997", "999", "810", "850", "856"] {
        assert!(g.x12.sets.contains_key(set), "set {set} missing");
    }
    assert!(g.x12.dictionaries.contains_key("004010") && g.x12.dictionaries.contains_key("005010"));
    let (_, warn) = g.x12.dictionary("004060").expect("a dictionary");
    assert!(warn.is_some_and(|w| w.contains("004010")));
    let fids = &g.x12.sets["350"].functional_ids;
    assert!(fids.contains(&"SO".to_string()) && fids.contains(&"AU".to_string()));
    let x407 = g.codes.list("x407").expect("x407 list");
    assert!(x407.get("1H").is_some() && x407.get("1I").is_some_and(|c| c.removes == ["1H"]));
}

fn with_replaced(path: &str, text: &str) -> Vec<GrammarFile> {
    let mut files = entrywatch::grammar::embedded_files();
    files.retain(|f| f.path != path);
    files.push(GrammarFile { path: path.into(), text: text.into() });
    files
}

fn load_codes(files: &[GrammarFile]) -> Vec<&'static str> {
    match Grammars::from_files(files) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(|e| e.code).collect(),
    }
}

#[test]
fn grammar_errors_have_stable_codes() {
    let set = |s: &str| {
        format!("kind = \"set\"\nset = \"901\"\nfunctional-ids = [\"ZZ\"]\nstructure = \"\"\"\n{s}\n\"\"\"\n")
    };
    let cases: Vec<(&str, String, &str)> = vec![
        ("x12/sets/901.toml", "kind = \"bogus\"".into(), "G101"),
        ("x12/sets/901.toml", set("ST 1 1\nQQQ 0 1\nSE 1 1"), "G108"),
        ("x12/sets/901.toml", set("ST 1 1\nLOOP A 0 1 {\nN1 1 1\nSE 1 1"), "G107"),
        ("x12/sets/901.toml", set("ST 1 1\nN1 2 1\nSE 1 1"), "G104"),
        ("x12/sets/901.toml", set("N1 1 1\nSE 1 1"), "G112"),
        ("x12/sets/850.toml", set("ST 1 1\nSE 1 1").replace("901", "850"), "G106"),
        ("x12/sets/901.toml", format!("{}[segments]\nN1 = [\"M QQ 1 2 98\"]\n", set("ST 1 1\nSE 1 1")), "G103"),
        ("x12/sets/901.toml", format!("{}[segments]\nN1 = [\"M ID 2 2 98 @nolist\"]\n", set("ST 1 1\nSE 1 1")), "G105"),
        ("x12/004010/extra.toml", "kind = \"dictionary\"\nversion = \"009999\"\nbase = \"nope\"".into(), "G109"),
    ];
    for (path, text, code) in cases {
        let mut files = entrywatch::grammar::embedded_files();
        if path == "x12/sets/850.toml" {
            files.push(GrammarFile { path: "x12/sets/850-copy.toml".into(), text });
        } else {
            files = with_replaced(path, &text);
        }
        let got = load_codes(&files);
        assert!(got.contains(&code), "{code} expected for {path}, got {got:?}");
    }
}

/// Golden JSON: `parse --json` output of every sample. UPDATE_GOLDEN=1 rewrites them.
#[test]
fn samples_match_golden_json() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let dir = root().join("tests/golden/x12");
    if update {
        std::fs::create_dir_all(&dir).expect("golden dir");
    }
    let mut failures = Vec::new();
    for p in samples() {
        let r = parse_sample(&p);
        let json = serde_json::to_string_pretty(&r).expect("json") + "\n";
        let name = p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let gp = dir.join(format!("{name}.json"));
        if update {
            std::fs::write(&gp, &json).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&gp) {
            Ok(g) if g == json => {}
            Ok(_) => failures.push(format!("{name}: differs from {}", gp.display())),
            Err(_) => failures.push(format!("{name}: no golden file (run with UPDATE_GOLDEN=1)")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// What each sample must show: valid files are ok; each error sample carries its code and ack.
#[test]
fn sample_verdicts_and_codes() {
    let expect: &[(&str, &str, Option<&str>)] = &[
        ("err-after-iea", "X12E001", Some("TA105:024")),
        ("err-delimiters", "X12E007", Some("TA105:027")),
        ("err-el-components", "X12E070", Some("AK403:13")),
        ("err-el-invalid-char", "X12E065", Some("AK403:6")),
        ("err-el-invalid-code", "X12E066", Some("AK403:7")),
        ("err-el-invalid-date", "X12E067", Some("AK403:8")),
        ("err-el-invalid-time", "X12E068", Some("AK403:9")),
        ("err-el-missing", "X12E060", Some("AK403:1")),
        ("err-el-repetitions", "X12E069", Some("AK403:12")),
        ("err-el-too-long", "X12E064", Some("AK403:5")),
        ("err-el-too-many", "X12E062", Some("AK403:3")),
        ("err-el-too-short", "X12E063", Some("AK403:4")),
        ("err-ge-control", "X12E030", Some("AK905:4")),
        ("err-ge-count", "X12E031", Some("AK905:5")),
        ("err-gs-duplicate", "X12E033", Some("AK905:19")),
        ("err-gs-element", "X12E036", Some("TA105:024")),
        ("err-iea-control", "X12E020", Some("TA105:001")),
        ("err-iea-count", "X12E021", Some("TA105:021")),
        ("err-isa-fields", "X12E010", Some("TA105:014")),
        ("err-loop-max", "X12E053", Some("AK304:4")),
        ("err-outside-set", "X12E045", Some("TA105:024")),
        ("err-se-control", "X12E041", Some("AK502:3")),
        ("err-se-count", "X12E042", Some("AK502:4")),
        ("err-seg-max", "X12E054", Some("AK304:5")),
        ("err-seg-missing", "X12E052", Some("AK304:3")),
        ("err-seg-not-in-set", "X12E055", Some("AK304:6")),
        ("err-seg-out-of-order", "X12E056", Some("AK304:7")),
        ("err-seg-unexpected", "X12E051", Some("AK304:2")),
        ("err-seg-unrecognized", "X12E050", Some("AK304:1")),
        ("err-st-duplicate", "X12E043", Some("AK502:23")),
        ("err-truncated", "X12E022", Some("TA105:023")),
        ("quirk-bin-segment", "X12E044", None),
        ("quirk-short-isa", "X12E005", None),
        ("quirk-utf16", "X12E002", None),
        ("quirk-version-004060", "X12E011", None),
        ("850-older-003060", "X12E011", None),
        ("856-newer-005030", "X12E011", None),
        ("810-older-003060", "X12E011", None),
        ("856-older-003040", "X12E011", None),
        ("850-newer-005030", "X12E011", None),
        ("810-newer-005030", "X12E011", None),
        ("quirk-wrapped-80", "X12E008", None),
        ("quirk-unknown-set", "X12E044", None),
        ("warn-duplicate-isa13", "X12E023", Some("TA105:025")),
        ("warn-350-unknown-code", "X12W066", None),
    ];
    for p in samples() {
        let stem = p.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let r = parse_sample(&p);
        assert_eq!(r.format, entrywatch::parse::Format::X12, "{stem}");
        assert_eq!(r.ok, !stem.starts_with("err-"), "{stem}: {:#?}", r.errors);
        let x = r.x12.as_ref().expect("x12 summary");
        if !stem.starts_with("err-after") && !stem.starts_with("err-delim") {
            assert!(!x.interchanges.is_empty(), "{stem}");
        }
        if let Some((_, code, ack)) = expect.iter().find(|(n, _, _)| *n == stem) {
            let hit = r.errors.iter().find(|e| e.code == *code);
            let hit = hit.unwrap_or_else(|| panic!("{stem}: no {code} in {:?}", codes(&r)));
            assert_eq!(hit.ack.as_deref(), *ack, "{stem}");
            assert!(hit.line >= 1, "{stem}");
        } else {
            assert!(r.errors.is_empty(), "{stem}: {:#?}", r.errors);
        }
    }
}

#[test]
fn streaming_api_reports_segments_and_ack_content() {
    let bytes = std::fs::read(root().join("samples/x12/350-holds-exam-release.x12")).expect("sample");
    let mut x407 = Vec::new();
    let mut headers = Vec::new();
    let mut group_results = Vec::new();
    let out = read(&bytes, grammars(), &mut |ev| match ev {
        X12Event::InterchangeStart(h) => {
            headers.push((h.sender_qualifier.clone(), h.sender_id.clone(), h.version.clone()))
        }
        X12Event::Transaction(t) => {
            assert_eq!((t.set.as_str(), t.functional_id.as_str(), t.grammar_version.as_str()), ("350", "AU", "005010"));
            for s in t.segments.iter().filter(|s| s.id() == b"X4") {
                x407.push((s.element_str(7).to_string(), s.line, s.index));
            }
            assert_eq!(t.segments.last().map(|s| s.id()), Some(&b"SE"[..]));
        }
        X12Event::GroupEnd(_, r) => group_results.push((r.status, r.received, r.accepted)),
        _ => {}
    });
    assert!(out.diagnostics.is_empty());
    assert_eq!(headers, vec![("ZZ".to_string(), "ENTRYWATCHTEST".to_string(), "00501".to_string())]);
    let codes: Vec<&str> = x407.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(codes, ["1H", "1A", "1I", "1B", "1C"]);
    assert_eq!((x407[0].1, x407[0].2), (7, 5));
    assert_eq!(group_results, vec![(AckStatus::Accepted, 1, 1)]);

    // Structured errors for the 997/999 builder: a partner's unknown code rejects the set ...
    let bytes = std::fs::read(root().join("samples/x12/err-el-invalid-code.x12")).expect("sample");
    let mut seen = false;
    read(&bytes, grammars(), &mut |ev| {
        if let X12Event::Transaction(t) = ev {
            assert_eq!(t.result.status, AckStatus::Rejected);
            assert_eq!(t.result.codes, vec![5]);
            let e = &t.result.segment_errors[0];
            assert_eq!((e.segment_id.as_str(), e.position, e.code), ("AK5", 4, 8));
            let el = &e.elements[0];
            assert_eq!((el.position, el.reference.as_deref(), el.code), (1, Some("717"), 7));
            assert_eq!(el.bad_data.as_deref(), Some("Q"));
            seen = true;
        }
    });
    assert!(seen);
    // ... CBP's 350 with an X407 code not in our list is accepted with the error noted (AK5 E).
    let bytes = std::fs::read(root().join("samples/x12/warn-350-unknown-code.x12")).expect("sample");
    let mut seen = false;
    let out = read(&bytes, grammars(), &mut |ev| {
        if let X12Event::Transaction(t) = ev {
            assert_eq!(t.result.status, AckStatus::AcceptedWithErrors);
            assert!(t.result.codes.is_empty());
            let e = &t.result.segment_errors[0];
            assert_eq!((e.segment_id.as_str(), e.position, e.loop_id.as_deref(), e.code), ("X4", 5, Some("X4"), 8));
            let el = &e.elements[0];
            assert_eq!((el.position, el.reference.as_deref(), el.code), (7, Some("35"), 7));
            assert_eq!(el.bad_data.as_deref(), Some("ZZ"));
            seen = true;
        }
    });
    assert!(seen);
    let w: Vec<_> = out.diagnostics.iter().map(|d| (d.code.as_str(), d.is_error(), d.line)).collect();
    assert_eq!(w, [("X12W066", false, 7)]);

    // Interchange and group results: TA105 and AK905 codes.
    let bytes = std::fs::read(root().join("samples/x12/err-ge-control.x12")).expect("sample");
    let mut got = Vec::new();
    read(&bytes, grammars(), &mut |ev| match ev {
        X12Event::GroupEnd(_, r) => got.push(format!("AK9 {} {:?}", r.status.code(), r.codes)),
        X12Event::InterchangeEnd(_, r) => got.push(format!("TA1 {} {}", r.status.code(), r.note_code)),
        _ => {}
    });
    assert_eq!(got, ["AK9 R [4]", "TA1 A 000"]);
}

#[test]
fn summary_tree_and_multi_interchange() {
    let bytes = std::fs::read(root().join("samples/x12/quirk-multi-interchange.x12")).expect("sample");
    let (s, errs) = summarize(&bytes, grammars());
    assert!(errs.is_empty(), "{errs:?}");
    assert_eq!(s.interchanges.len(), 2);
    assert_eq!(s.interchanges[1].groups[0].transactions[0].set, "997");
    let tree = s.tree();
    assert!(tree.contains("ST 350 0001") && tree.contains("ST 997 0001"), "{tree}");
}

/// The shared corpus, judged as SOURCES.md says (differences explained in docs/x12.md).
#[test]
fn shared_corpus_verdicts() {
    let Some(dir) = common::require_corpus() else { return };
    // (file, ok, codes that must appear)
    let table: &[(&str, bool, &[&str])] = &[
        ("staedi/simple997.edi", true, &[]),
        ("staedi/simple997-multiple-interchanges.edi", true, &[]),
        ("staedi/invalid997.edi", false, &["X12E064", "X12E065"]),
        ("staedi/invalid997_min.edi", false, &["X12E036", "X12E030"]),
        ("staedi/empty997.edi", false, &["X12E052"]),
        ("staedi/extraDelimiter997.edi", false, &["X12E069", "X12E070"]),
        ("staedi/simple999.edi", true, &[]),
        ("staedi/invalid999.edi", false, &["X12E051", "X12E064", "X12E062", "X12E066", "X12E042"]),
        ("staedi/simple810.edi", true, &[]),
        ("staedi/invoice810_po850_dual.edi", true, &[]),
        ("staedi/issue109_ts214_ellipses_segterm.edi", true, &["X12E044"]),
        ("staedi/issue128_ts210_80char.edi", true, &["X12E008"]),
        ("staedi/issue590_multi-tx-transaction-type.edi", true, &[]),
        ("staedi/optionalInterchangeServices.edi", true, &[]),
        ("staedi/simple_with_binary_segment.edi", true, &[]),
        ("staedi/nonnumeric_BIN01.edi", false, &["X12E065"]),
        ("staedi/x12_interchange_ack.txt", false, &["X12E021"]),
        // imsweb: every 837 has a wrong SE01 (AK502:4), so all are invalid.
        ("imsweb/x12_bad_first_line.txt", false, &["X12E005", "X12E042"]),
        ("imsweb/x12_no_isa_line.txt", false, &["P001"]),
        ("imsweb/x12_bad_segment_identifier.txt", false, &["X12E050"]),
        ("imsweb/x12_valid_different_separators.txt", false, &["X12E042"]),
        ("imsweb/x12_multiple_isa.txt", false, &["X12E042"]),
        ("imsweb/x12_multiple_gs.txt", false, &["X12E021"]),
        ("imsweb/x12_999_accepted.txt", false, &["X12E020"]),
        ("imsweb/x12_999_rejected.txt", true, &[]),
        ("imsweb/x12_many_claims.txt", false, &["X12E042"]),
        ("nodex12/850.edi", true, &[]),
        ("nodex12/850_fat.edi", true, &[]),
        ("nodex12/855.edi", true, &[]),
        ("nodex12/856.edi", true, &["X12E009"]),
        ("pyx12/834_ls_le_ls_5010.999.txt", true, &[]),
        ("pyx12/834_lui_id_5010.999.txt", true, &[]),
    ];
    for (f, ok, want) in table {
        let p = dir.join(f);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("corpus file {}: {e}", p.display()));
        let r = parse_file(f, &bytes, grammars());
        let got = codes(&r);
        assert_eq!(r.ok, *ok, "{f}: {:#?}", r.errors);
        for w in *want {
            assert!(got.iter().any(|c| c == w), "{f}: {w} expected, got {got:?}");
        }
        if *ok {
            assert!(!r.errors.iter().any(|e| e.is_error()), "{f}");
        }
    }
}

fn sample_bytes() -> &'static [Vec<u8>] {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| samples().iter().filter_map(|p| std::fs::read(p).ok()).collect())
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(mut b in proptest::collection::vec(any::<u8>(), 0..400), isa in any::<bool>()) {
        if isa {
            let mut v = b"ISA*".to_vec();
            v.append(&mut b);
            b = v;
        }
        let (_, diags) = summarize(&b, grammars());
        prop_assert!(diags.iter().all(|d| !d.code.is_empty()));
    }

    #[test]
    fn mutated_samples_never_panic(idx in 0usize..64, edits in proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 1..8)) {
        let all = sample_bytes();
        let mut b = all[idx % all.len()].clone();
        for (at, byte, op) in edits {
            if b.is_empty() { break; }
            let i = at as usize % b.len();
            match op {
                0 => b[i] = byte,
                1 => b.insert(i, byte),
                _ => { b.remove(i); }
            }
        }
        let r = parse_file("mutated", &b, grammars());
        prop_assert_eq!(r.ok, !r.errors.iter().any(|e| e.is_error()));
    }
}
