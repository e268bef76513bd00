//! The entry summary (AE/AX) and PGA grammars against CBP's own text: every record of chapter
//! 02's structure maps and every PG record of chapter 08 has a grammar record (or is listed as
//! deliberately not read, with the reason); the CATAIR examples in samples/abi/catair parse
//! with the meaning their page gives; the AX condition code list is what
//! scripts/error_dictionary.py makes of the ACE Error Dictionary, and holds every code of the CSV.
//!
//! The chapters are read from ../shared/reference/catair next to the repository (or two levels
//! up, for a worktree).

use entrywatch::grammar::Grammars;
use entrywatch::parse::abi::{self, AbiEvent};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// reference/catair: ../shared next to the repository, or ../../shared for a git worktree.
fn catair() -> PathBuf {
    let candidates = [root().join("../shared/reference/catair"), root().join("../../shared/reference/catair")];
    candidates
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| panic!("reference/catair not found at {:?}: these tests read CBP's text", candidates))
}

fn chapter(name: &str) -> String {
    std::fs::read_to_string(catair().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The text of pages `from..=to` (the `=== PAGE n ===` markers).
fn pages(text: &str, from: u32, to: u32) -> String {
    let mut out = String::new();
    let mut page = 0;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("=== PAGE ").and_then(|r| r.strip_suffix(" ===")) {
            page = n.trim().parse().unwrap_or(0);
            continue;
        }
        if (from..=to).contains(&page) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A control identifier at the start of a structure-map row: `10`, `SE13`, `CW02`, `PG01`, `OI`.
fn control_id(line: &str) -> Option<String> {
    let t = line.trim_start();
    let word: String = t.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let rest = t.get(word.len()..).unwrap_or("");
    // A row: the identifier, then spaces and the record's name.
    if !rest.starts_with(' ') || !rest.trim_start().starts_with(|c: char| c.is_ascii_uppercase() || c == '(') {
        return None;
    }
    let id =
        word.get(..4).filter(|w| w.starts_with("SE") || w.starts_with("CW") || w.starts_with("PG")).map(str::to_string);
    let id = id.or_else(|| {
        let two = (word.len() == 2).then(|| word.clone());
        two.filter(|w| w.chars().all(|c| c.is_ascii_digit()) || w == "OI" || w == "E0" || w == "E1")
    })?;
    id.get(2..).is_none_or(|n| n.is_empty() || n.chars().all(|c| c.is_ascii_digit())).then_some(id)
}

fn grammar_ids(g: &Grammars, app: &str) -> BTreeSet<String> {
    g.abi.app(app).map(|a| a.records.iter().map(|r| r.id.clone()).collect()).unwrap_or_default()
}

/// Records of the structure maps entrywatch deliberately does not read, with the reason.
const NOT_READ: &[(&str, &str)] = &[];

#[test]
fn every_record_of_the_entry_summary_structure_maps_has_a_grammar_record() {
    let g = Grammars::embedded().expect("grammars");
    let ae = grammar_ids(&g, "AE");
    // 02, pages 20-25: block control, ES transaction, ES line grouping and PGA grouping input maps.
    let text = chapter("02-entry-summary-create-update-2026-07.txt");
    let mut ids: BTreeSet<String> = pages(&text, 20, 25).lines().filter_map(control_id).collect();
    assert!(ids.len() >= 50, "only {} records read from the structure maps: {ids:?}", ids.len());
    for must in ["10", "11", "SE13", "CW02", "SE30", "SE36", "OI", "PG01", "PG60", "90"] {
        assert!(ids.contains(must), "the structure map reading missed {must}: {ids:?}");
    }
    // 08: every PG record with a layout ("Record Identifier PGnn (Input)").
    let pga = chapter("08-pga-message-set-2026-07.txt");
    let pg: BTreeSet<String> = pga
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Record Identifier ")?.strip_suffix(" (Input)").map(str::to_string))
        .collect();
    assert!(pg.len() >= 30 && pg.contains("PG55") && pg.contains("PG00"), "{pg:?}");
    ids.extend(pg);
    let missing: Vec<&String> =
        ids.iter().filter(|id| !ae.contains(*id) && !NOT_READ.iter().any(|(n, _)| n == *id)).collect();
    assert!(missing.is_empty(), "records of the CATAIR structure maps with no AE grammar record: {missing:?}");

    // 02, page 192: the output (AX) structure map.
    let ax = grammar_ids(&g, "AX");
    let out: BTreeSet<String> = pages(&text, 192, 192).lines().filter_map(control_id).collect();
    assert!(out.contains("E0") && out.contains("E1"), "{out:?}");
    assert!(out.iter().all(|id| ax.contains(id)), "AX output records without a grammar record: {out:?}");
}

#[test]
fn every_ae_record_cites_its_chapter_and_page() {
    let g = Grammars::embedded().expect("grammars");
    let ae = g.abi.app("AE").expect("AE");
    let interpreted = ["10", "11", "40", "50", "62", "89", "90"];
    for r in &ae.records {
        if interpreted.contains(&r.name.as_str()) {
            continue; // confirmed layouts, cited in the file header
        }
        let n = r.notes.as_deref().unwrap_or_default();
        assert!(
            (n.contains("02-entry-summary-create-update-2026-07") || n.contains("08-pga-message-set-2026-07"))
                && n.contains("page"),
            "record {} cites no chapter and page: {n:?}",
            r.name
        );
    }
}

/// One record as read: its layout name and each field's text.
type Rec = (String, Vec<(String, String)>);

/// Each transaction's records of a sample, and the reader's diagnostics.
fn read_sample(name: &str) -> (Vec<Vec<Rec>>, Vec<String>) {
    let g = Grammars::embedded().expect("grammars");
    let bytes = std::fs::read(root().join("samples/abi/catair").join(name)).expect("sample");
    let mut txs = Vec::new();
    let diags = abi::read(&bytes, &g, &mut |ev| {
        if let AbiEvent::Transaction(t) = ev {
            txs.push(
                t.records
                    .iter()
                    .map(|r| {
                        let fields =
                            r.fields().map(|(f, _)| (f.to_string(), r.text(f).unwrap_or("").to_string())).collect();
                        (r.name.to_string(), fields)
                    })
                    .collect(),
            );
        }
    });
    (txs, diags.iter().map(|d| format!("{} {}", d.code, d.message)).collect())
}

fn field<'a>(rec: &'a Rec, name: &str) -> &'a str {
    rec.1.iter().find(|(f, _)| f == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("{} has no {name}", rec.0))
}

fn named<'a>(tx: &'a [Rec], name: &'a str) -> impl Iterator<Item = &'a Rec> + 'a {
    tx.iter().filter(move |r| r.0 == name)
}

#[test]
fn chapter_02_page_91_se60_example() {
    let (txs, diags) = read_sample("02-p91-se60-sanction-disclaim.abi");
    assert!(diags.is_empty(), "{diags:?}");
    let se60: Vec<_> = named(&txs[0], "SE60").collect();
    assert_eq!(se60.len(), 1);
    // "When an HTS is not subject to sanctions, this indicator should be set to Y."
    assert_eq!(field(se60[0], "sanction_disclaim_indicator"), "Y");
}

#[test]
fn chapter_02_pages_121_122_cargo_sanctions_examples() {
    let (txs, diags) = read_sample("02-p121-se62-se63-cargo-sanctions.abi");
    assert!(diags.is_empty(), "{diags:?}");
    let tx = &txs[0];
    let pairs: Vec<(String, String, String)> = tx
        .iter()
        .zip(tx.iter().skip(1))
        .filter(|(a, b)| a.0 == "SE62" && b.0 == "SE63")
        .map(|(a, b)| {
            (
                field(a, "record_type").to_string(),
                field(a, "field_name").to_string(),
                field(b, "field_value").to_string(),
            )
        })
        .collect();
    let want = [
        ("FSHNG INFO", "METHOD OF HARVEST", "VESSEL"),
        ("FSHNG INFO", "VESSEL NAME", "ABC"),
        ("FSHNG INFO", "COUNTRY OF HARVEST", "MX"),
        ("FSHNG INFO", "VESSEL FLAG", "MX"),
        ("FSHNG INFO", "VESSEL IMO", "1234567890"),
        ("MINE INFO", "COUNTRY OF MINING", "MX"),
    ];
    let got: Vec<(&str, &str, &str)> = pairs.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(got, want);
    assert!(named(tx, "SE62").all(|r| field(r, "record_sequence") == "01"));
}

#[test]
fn chapter_08_page_68_entity_roles_example() {
    let (txs, diags) = read_sample("08-p68-pg19-pg55-entity-roles.abi");
    // The examples print no PG01 program code (README-ae.md): that one warning, nothing else.
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert!(diags[0].starts_with("ABIE020 PG01 government_agency_program_code"), "{diags:?}");
    let tx = &txs[0];
    let oi = named(tx, "OI").next().expect("OI");
    assert_eq!(field(oi, "commercial_description"), "CERTIFIED KUBOTA ENGINES");
    let pg01 = named(tx, "PG01").next().expect("PG01");
    assert_eq!((field(pg01, "pga_line_number"), field(pg01, "government_agency_code")), ("001", "EPA"));
    let pg19 = named(tx, "PG19").next().expect("PG19");
    assert_eq!(
        (field(pg19, "entity_role_code"), field(pg19, "entity_name"), field(pg19, "entity_address_1")),
        ("IM", "TOYOTA NORTH AMERICA", "1234 PEACHTREE STREET")
    );
    let pg20 = named(tx, "PG20").next().expect("PG20");
    assert_eq!(
        (
            field(pg20, "entity_city"),
            field(pg20, "entity_state_province"),
            field(pg20, "entity_country"),
            field(pg20, "entity_zip_postal_code")
        ),
        ("ATLANTA", "GA", "US", "30301")
    );
    let pg21 = named(tx, "PG21").next().expect("PG21");
    assert_eq!(
        (
            field(pg21, "individual_name"),
            field(pg21, "telephone_number_of_the_individual"),
            field(pg21, "email_address_or_fax_number_for_the_individual")
        ),
        ("JANE SMITH", "7062345678", "JANE.SMITH@TOYOTAAMERICA.COM")
    );
    // PG55: the additional roles, three characters each.
    let roles: Vec<(String, String)> = named(tx, "PG55")
        .map(|r| (field(r, "entity_role_code").to_string(), field(r, "entity_role_code_2").to_string()))
        .collect();
    assert_eq!(roles, [("DFP".to_string(), "IM".to_string()), ("INC".to_string(), "DDO".to_string())]);
}

#[test]
fn ax_condition_codes_are_what_the_script_makes_of_the_error_dictionary() {
    let script = root().join("scripts/error_dictionary.py");
    let o = std::process::Command::new("python3")
        .arg(&script)
        .arg("--check")
        .arg("--source")
        .arg(catair())
        .output()
        .expect("python3 runs scripts/error_dictionary.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Independently of the script: every condition code of the CSV is in the list, with its narrative.
    let g = Grammars::embedded().expect("grammars");
    let list = g.codes.list("ax_conditions").expect("ax_conditions");
    let mut rdr = csv::Reader::from_path(catair().join("10-error-dictionary-2026-07.csv")).expect("csv");
    let mut codes = BTreeSet::new();
    for row in rdr.records() {
        let row = row.expect("row");
        let code = row.get(0).unwrap_or_default().trim().to_ascii_uppercase();
        let narrative = row.get(1).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        let c = list.get(&code).unwrap_or_else(|| panic!("condition {code} missing"));
        assert!(
            c.meaning.to_uppercase().contains(&narrative.to_uppercase()),
            "{code}: {narrative:?} not in {:?}",
            c.meaning
        );
        codes.insert(code);
    }
    assert_eq!(list.codes.len(), codes.len());
    assert_eq!(list.get("ZZZ").map(|c| c.meaning.as_str()), Some("ACE System Failure"));
    assert!(Path::new(&root().join("grammars/codes/ax_conditions.toml")).is_file());
}

#[test]
fn appendix_code_lists_are_what_the_script_makes_of_the_catair_text() {
    let o = std::process::Command::new("python3")
        .arg(root().join("scripts/appendix_codes.py"))
        .arg("--check")
        .arg("--source")
        .arg(catair())
        .output()
        .expect("python3 runs scripts/appendix_codes.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let g = Grammars::embedded().expect("grammars");
    let meaning = |list: &str, code: &str| g.codes.get(list, code).map(|c| c.meaning.clone()).unwrap_or_default();
    // appendix B page 26: every entry type, with its footnote marks in words.
    assert_eq!(g.codes.list("entry_types").map(|l| l.codes.len()), Some(40));
    assert_eq!(meaning("entry_types", "01"), "Consumption - Free and Dutiable (approved for EIP/RLF filing)");
    assert_eq!(meaning("entry_types", "66"), "Baggage (not approved for automated filing)");
    assert!(g.codes.get("entry_types", "10").is_none(), "10 is a category heading, not an entry type");
    // appendix B page 27, AE Table 8 (02 pages 218-219), appendix V pages 3-4.
    assert_eq!(g.codes.list("modes_of_transport").map(|l| l.codes.len()), Some(15));
    assert_eq!(meaning("modes_of_transport", "11"), "Vessel, Container");
    assert_eq!(g.codes.list("spi").map(|l| l.codes.len()), Some(38));
    assert!(meaning("spi", "S+").starts_with("Qualifying U.S.-Mexico-Canada Agreement (USMCA) commodities."));
    assert_eq!(g.codes.list("agencies").map(|l| l.codes.len()), Some(53));
    assert_eq!(
        meaning("agencies", "FDA"),
        "U.S. Department of Health and Human Services, Food and Drug Administration"
    );
    let src = g.codes.get("agencies", "UTC").and_then(|c| c.source.clone());
    assert_eq!(src.as_deref(), Some("appendix-v-government-agency-codes, page 4"));
}

/// The layout rows scripts/catair_layouts.py reads from a chapter: id → [(start, length)].
fn chapter_rows(chapter: &str, ids: &[&str]) -> serde_json::Map<String, serde_json::Value> {
    let o = std::process::Command::new("python3")
        .arg(root().join("scripts/catair_layouts.py"))
        .arg("--json")
        .arg(catair().join(chapter))
        .args(ids)
        .output()
        .expect("python3 runs scripts/catair_layouts.py");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v.as_object().cloned().expect("object")
}

#[test]
fn the_interpreted_ae_records_sit_where_chapter_02_prints_them() {
    // 10, 11, 40, 50, 62, 89, 90 predate this transcription: every data element the chapter's
    // layout table gives (start and length) must be a field of the grammar record.
    let g = Grammars::embedded().expect("grammars");
    let ae = g.abi.app("AE").expect("AE");
    let ids = ["10", "11", "40", "50", "62", "89", "90"];
    let rows = chapter_rows("02-entry-summary-create-update-2026-07.txt", &ids);
    for id in ids {
        let rec = ae.records.iter().find(|r| r.name == id).expect("record");
        let printed = rows.get(id).and_then(|v| v.as_array()).cloned().unwrap_or_default();
        assert!(printed.len() >= 3, "{id}: the chapter's layout table was not read");
        for row in printed {
            let (start, len) = (row[0].as_u64().unwrap_or(0) as usize, row[1].as_u64().unwrap_or(0) as usize);
            let page = &row[4];
            assert!(
                rec.fields.iter().any(|f| f.start == start && f.length == len),
                "{id}: the chapter (page {page}) has a data element at {start}, length {len}; the grammar does not"
            );
        }
    }
}
