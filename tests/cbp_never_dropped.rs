//! CBP's word is never dropped (issue 13 item 3), through `ingest` into a real store: for AX,
//! UC, SO, PF, MS and ER, a file with a record identifier no grammar defines and a file with a
//! code its list lacks are applied with warnings, the entry shows the finding in words, and one
//! alert of category `unknown-code` is queued. The AX whose final E1 (disposition R) has a blank
//! condition code is a rejection that reaches the entry and alerts. A file whose envelope is
//! broken, or in which no entry can be identified, is still quarantined.

mod common;

use common::names_in;
use entrywatch::ingest::sample;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-03-20T09:00:00-05:00";
const E: &str = "EEE-1234567-3";
const TX: u32 = 1_234_567;

/// The common env with this file's clock and alert routes.
struct Env(common::Env);

impl Env {
    /// A data dir whose config routes unknown-code, rejection and disposition alerts (no SMTP: they stay queued).
    fn new() -> Env {
        let env = common::Env::new().at(NOW);
        env.add_config(
            "[[route]]\nto = [\"look@example.com\"]\ncategories = [\"unknown-code\"]\nmin-severity = \"info\"\n\n\
             [[route]]\nto = [\"rejections@example.com\"]\ncategories = [\"rejection\"]\nmin-severity = \"info\"\n\n\
             [[route]]\nto = [\"desk@example.com\"]\ncategories = [\"disposition\"]\nmin-severity = \"info\"\n",
        );
        Env(env)
    }

    /// The same, reading with a copy of the shipped grammars/ where `edit` changed one file
    /// (an operator's `grammar-dir`).
    fn with_grammars(file: &str, edit: impl Fn(&str) -> String) -> Env {
        let env = Env::new();
        let root = env.0.root();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("grammars");
        copy_dir(&src, &root.join("grammars"));
        let p = root.join("grammars").join(file);
        let text = std::fs::read_to_string(&p).expect("grammar file");
        let changed = edit(&text);
        assert_ne!(changed, text, "the edit changed nothing");
        std::fs::write(&p, changed).expect("edited grammar");
        let cfg = std::fs::read_to_string(env.config()).expect("config");
        let cfg = format!("grammar-dir = {:?}\n{cfg}", root.join("grammars"));
        std::fs::write(env.config(), cfg).expect("config");
        env
    }

    fn config(&self) -> PathBuf {
        self.0.config()
    }

    fn cmd(&self) -> Command {
        self.0.cmd()
    }

    /// Ingest one file (copied); a file that is not quarantined must give exit 0.
    fn ingest(&self, name: &str, bytes: &[u8]) -> Output {
        let p = self.0.drop_file("broker", name, bytes);
        let o = self
            .cmd()
            .arg("ingest")
            .arg("--config")
            .arg(self.config())
            .args(["--inbox", "broker"])
            .arg(&p)
            .output()
            .expect("run ingest");
        let quarantined = self.quarantined().iter().any(|q| q == name);
        assert!(quarantined || o.status.success(), "ingest {name}: {}", String::from_utf8_lossy(&o.stderr));
        o
    }

    fn quarantined(&self) -> Vec<String> {
        names_in(&self.0.data().join("quarantine/broker"))
    }

    fn entry_json(&self) -> serde_json::Value {
        self.0.entry_json(E)
    }

    fn entry_text(&self) -> String {
        String::from_utf8_lossy(&self.0.run(&["entry", E]).stdout).into_owned()
    }

    /// Alert ids in the outbox.
    fn alerts(&self) -> Vec<String> {
        let v = self.0.json(&["alerts", "--json"]);
        v.as_array().expect("array").iter().map(|r| r["id"].as_str().unwrap_or_default().to_string()).collect()
    }

    fn unknown_code_alerts(&self) -> Vec<String> {
        self.alerts().into_iter().filter(|id| id.contains("/unrecognised/")).collect()
    }

    /// The `finding` events' details.
    fn findings(&self) -> Vec<String> {
        let j = self.entry_json();
        j["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["kind"] == "finding")
            .map(|e| e["detail"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read grammars").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).expect("copy");
        }
    }
}

/// The file's lines.
fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes).lines().map(str::to_string).collect()
}

/// Rebuild a file from lines, fixing the Y image count of each block (B..Y).
fn join(mut ls: Vec<String>) -> Vec<u8> {
    let mut since_b: Option<usize> = None;
    for l in ls.iter_mut() {
        if l.starts_with('B') {
            since_b = Some(0);
        } else if l.starts_with('Y') {
            let n = since_b.take().unwrap_or(0);
            let mut b = format!("{l:<80}").into_bytes();
            b.splice(12..17, format!("{n:05}").into_bytes());
            *l = String::from_utf8(b).expect("ascii").trim_end().to_string();
        } else if let Some(n) = since_b.as_mut() {
            *n += 1;
        }
    }
    let mut s = ls.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// Insert `record` after the first line starting with `after`.
fn insert_after(bytes: &[u8], after: &str, record: &str) -> Vec<u8> {
    let mut ls = lines(bytes);
    let i = ls.iter().position(|l| l.starts_with(after)).expect("anchor record");
    ls.insert(i + 1, record.to_string());
    join(ls)
}

/// Put `text` at 1-based column `col` of the first line starting with `prefix`.
fn set(bytes: &[u8], prefix: &str, col: usize, text: &str) -> Vec<u8> {
    let mut ls = lines(bytes);
    let l = ls.iter_mut().find(|l| l.starts_with(prefix)).expect("record");
    let mut b = format!("{l:<80}").into_bytes();
    b.splice(col - 1..col - 1 + text.len(), text.bytes());
    *l = String::from_utf8(b).expect("ascii").trim_end().to_string();
    join(ls)
}

fn repo_sample(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/abi").join(name)).expect("sample")
}

/// The common verdict: applied (nothing quarantined), the finding in words on the entry, one
/// unknown-code alert.
fn applied_with_one_finding(env: &Env, words: &[&str]) {
    assert!(env.quarantined().is_empty(), "quarantined: {:?}", env.quarantined());
    let f = env.findings();
    assert_eq!(f.len(), 1, "{f:?}");
    for w in words {
        assert!(f[0].contains(w), "finding {:?} lacks {w:?}", f[0]);
    }
    assert_eq!(env.unknown_code_alerts().len(), 1, "{:?}", env.alerts());
}

// ------------------------------------------------------------------------------------ AX

#[test]
fn ax_unknown_record_is_applied_with_a_warning_and_one_alert() {
    let env = Env::new();
    let ax = insert_after(&sample::ax("EEE", TX, true, "020226"), "E0", "EZ NEW CBP RECORD");
    env.ingest("ax.abi", &ax);
    applied_with_one_finding(&env, &["unknown record identifier \"EZ\"", "EZ NEW CBP RECORD"]);
    assert_eq!(env.entry_json()["summary"]["status"], "accepted");
}

#[test]
fn ax_unknown_condition_code_is_applied_in_words_with_one_alert() {
    let env = Env::new();
    let ax = set(&sample::ax("EEE", TX, false, "020226"), "E1 F408", 5, "4Q9");
    env.ingest("ax.abi", &ax);
    applied_with_one_finding(&env, &["code 4Q9 is not in ax_conditions; meaning unknown"]);
    let j = env.entry_json();
    assert_eq!(j["summary"]["status"], "rejected");
    assert!(env.entry_text().contains("code 4Q9 is not in ax_conditions; meaning unknown"));
}

#[test]
fn ax_final_rejection_with_a_blank_condition_code_reaches_the_entry_and_alerts() {
    let env = Env::new();
    // The final E1: disposition R, severity F, condition code (5-7) blank.
    let ax = set(&sample::ax("EEE", TX, false, "020226"), "E1RF", 5, "   ");
    env.ingest("ax.abi", &ax);
    assert!(env.quarantined().is_empty(), "{:?}", env.quarantined());
    let j = env.entry_json();
    assert_eq!(j["summary"]["status"], "rejected");
    let alerts = env.alerts();
    assert!(alerts.iter().any(|id| id.contains("/rejected/")), "{alerts:?}");
    let f = env.findings();
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("condition_code: mandatory field is blank"), "{f:?}");
}

// ------------------------------------------------------------------------------------ UC

#[test]
fn uc_unknown_record_is_applied_with_a_warning_and_one_alert() {
    let env = Env::new();
    let uc = insert_after(&repo_sample("uc-notifications.abi"), "E3", "E9SOMETHING CBP ADDED");
    env.ingest("uc.abi", &uc);
    applied_with_one_finding(&env, &["unknown record identifier \"E9\""]);
    assert!(env.entry_json()["events"].as_array().expect("events").iter().any(|e| e["kind"] == "notice"));
}

#[test]
fn uc_unknown_disposition_is_applied_in_words_with_one_alert() {
    let env = Env::new();
    let uc = set(&repo_sample("uc-notifications.abi"), "E14", 3, "Z");
    env.ingest("uc.abi", &uc);
    applied_with_one_finding(&env, &["code Z is not in uc_dispositions; meaning unknown"]);
}

#[test]
fn uc_e4_for_a_line_cbp_added_is_read_without_a_finding() {
    let env = Env::new();
    // The first notification (EEE-1234567-3) gets an E4 for line *02, a line CBP added.
    let uc = insert_after(&repo_sample("uc-notifications.abi"), "E3", "E4*0201QUOTA LINE ADDED BY CBP");
    env.ingest("uc.abi", &uc);
    assert!(env.quarantined().is_empty(), "{:?}", env.quarantined());
    assert!(env.findings().is_empty(), "{:?}", env.findings());
    assert!(env.unknown_code_alerts().is_empty());
    assert!(env.entry_json()["events"].as_array().expect("events").iter().any(|e| e["kind"] == "notice"));
}

// ------------------------------------------------------------------------------------ SO

#[test]
fn so_unknown_record_is_applied_with_a_warning_and_one_alert() {
    let env = Env::new();
    let so = insert_after(&sample::so_hold_release_removed("EEE", TX), "SO50", "SO99 A RECORD CBP ADDED");
    env.ingest("so.abi", &so);
    applied_with_one_finding(&env, &["unknown record identifier \"SO\"", "SO99 A RECORD CBP ADDED"]);
    // The release in the same file is applied.
    assert_eq!(env.entry_json()["release"]["status"], "released");
}

#[test]
fn so_unknown_disposition_is_applied_in_words_with_one_alert() {
    let env = Env::new();
    let so = set(&sample::so_hold_release_removed("EEE", TX), "SO50", 15, "4Q");
    env.ingest("so.abi", &so);
    applied_with_one_finding(&env, &["code 4Q is not in so50_dispositions; meaning unknown"]);
    // The unknown code alerts once, in the unknown-code alert, not also as an advisory.
    let advisory: Vec<String> = env.alerts().into_iter().filter(|id| id.contains("/advisory/4Q/")).collect();
    assert!(advisory.is_empty(), "{advisory:?}");
    let events = env.entry_json()["events"].clone();
    assert!(events.as_array().expect("events").iter().any(|e| e["code"] == "SO50:4Q"), "{events}");
}

#[test]
fn a_code_the_operator_deleted_from_its_list_is_unknown_not_restored() {
    // The operator's so60_dispositions lacks 98 (RELEASED): the release is CBP's word applied
    // as an unknown code (finding + alert), never silently restored from a built-in table.
    let env = Env::with_grammars("codes/so60_dispositions.toml", |t| {
        t.replace(
            "[[code]]\ncode = \"98\"\nmeaning = \"RELEASED (lifts CBP's own 99, 96 and 90; PGA holds stay open)\"\neffect = \"released\"\nremoves = [\"99\", \"96\", \"90\"]\n",
            "",
        )
    });
    env.ingest("so.abi", &sample::so_hold_release_removed("EEE", TX));
    applied_with_one_finding(&env, &["code 98 is not in so60_dispositions; meaning unknown"]);
    let j = env.entry_json();
    assert_ne!(j["release"]["status"], "released", "{}", j["release"]);
    assert!(j["events"].as_array().expect("events").iter().any(|e| e["code"] == "SO60:98"), "{}", j["events"]);
}

#[test]
fn with_the_shipped_list_the_same_release_is_applied() {
    let env = Env::new();
    env.ingest("so.abi", &sample::so_hold_release_removed("EEE", TX));
    assert!(env.findings().is_empty(), "{:?}", env.findings());
    assert_eq!(env.entry_json()["release"]["status"], "released");
}

// ------------------------------------------------------------------------------------ PF

#[test]
fn pf_unknown_record_is_applied_with_a_warning_and_one_alert() {
    let env = Env::new();
    let pf = insert_after(&sample::pf("EEE", &[TX], false), "QA", "QZ A NEW STATEMENT RECORD");
    env.ingest("pf.abi", &pf);
    applied_with_one_finding(&env, &["unknown record identifier \"QZ\""]);
    assert_eq!(env.entry_json()["statement"]["number"], "2726041A01");
}

#[test]
fn pf_unknown_fee_class_is_applied_in_words_with_one_alert() {
    let env = Env::new();
    let pf = set(&sample::pf("EEE", &[TX], false), "QA", 5, "998");
    env.ingest("pf.abi", &pf);
    applied_with_one_finding(&env, &["code 998 is not in fee_classes; meaning unknown"]);
    assert_eq!(env.entry_json()["statement"]["number"], "2726041A01");
}

// ------------------------------------------------------------------------------------ MS

/// The daily statement first (it ties the monthly statement to the entry), then the MS file.
fn ms_after_pf(env: &Env, ms: &[u8]) {
    env.ingest("pf.abi", &sample::pf("EEE", &[TX], false));
    env.ingest("ms.abi", ms);
}

#[test]
fn ms_unknown_record_is_applied_with_a_warning_and_one_alert() {
    let env = Env::new();
    ms_after_pf(&env, &insert_after(&repo_sample("ms-monthly.abi"), "Q1", "QZ A NEW MONTHLY RECORD"));
    applied_with_one_finding(&env, &["unknown record identifier \"QZ\""]);
    assert_eq!(env.entry_json()["statement"]["monthly"], "2726P02A01");
}

#[test]
fn ms_unknown_fee_class_is_applied_in_words_with_one_alert() {
    let env = Env::new();
    ms_after_pf(&env, &set(&repo_sample("ms-monthly.abi"), "QA", 5, "998"));
    applied_with_one_finding(&env, &["code 998 is not in fee_classes; meaning unknown"]);
    assert_eq!(env.entry_json()["statement"]["monthly"], "2726P02A01");
}

// ------------------------------------------------------------------------------------ ER

#[test]
fn er_unknown_record_is_applied_with_a_warning_and_one_alert() {
    let env = Env::new();
    let er = insert_after(&sample::er("EEE", TX, true), "JD", "J9 A NEW QUERY OUTPUT RECORD");
    env.ingest("er.abi", &er);
    applied_with_one_finding(&env, &["unknown record identifier \"J9\""]);
    assert_eq!(env.entry_json()["liquidation"]["status"], "liquidated");
}

#[test]
fn er_unknown_liquidation_status_is_applied_in_words_with_one_alert() {
    let env = Env::new();
    let er = set(&sample::er("EEE", TX, false), "JB", 43, "7");
    env.ingest("er.abi", &er);
    applied_with_one_finding(&env, &["code 7 is not in liquidation_statuses; meaning unknown"]);
}

#[test]
fn a_message_that_names_no_entry_is_skipped_and_the_rest_of_the_file_applied() {
    let env = Env::new();
    // A second cargo release message whose SO10 entry number is not one, before the good one.
    let good = lines(&sample::so_hold_release_removed("EEE", TX));
    let mut ls: Vec<String> = good.iter().take(2).cloned().collect();
    ls.push(sample::record(&[(1, "SO10"), (5, "2704"), (9, "EEE"), (14, "12X45673"), (23, "01")]));
    ls.push(sample::record(&[(1, "SO60"), (5, "020426"), (11, "0900"), (15, "98"), (17, "RELEASED")]));
    ls.extend(good.iter().skip(2).cloned());
    let file = join(ls);
    // The interpretation says so: I214, a warning.
    let g = entrywatch::grammar::Grammars::embedded().expect("grammars");
    let received = chrono::NaiveDate::from_ymd_opt(2026, 3, 20).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("date");
    let ctx = entrywatch::interpret::FileContext {
        name: "so.abi",
        inbox: "broker",
        role: entrywatch::config::Role::Broker,
        sha256: "00",
        received,
    };
    let out = entrywatch::interpret::interpret(&file, &ctx, &g);
    assert!(!out.has_errors(), "{:?}", out.diagnostics);
    assert!(out.diagnostics.iter().any(|d| d.code == "I214"), "{:?}", out.diagnostics);
    let o = env.ingest("so.abi", &file);
    assert!(o.status.success());
    assert!(env.quarantined().is_empty(), "{:?}", env.quarantined());
    assert_eq!(env.entry_json()["release"]["status"], "released");
}

// ------------------------------------------------------------------------------ still refused

#[test]
fn a_broken_envelope_or_no_entry_is_still_quarantined() {
    let env = Env::new();
    // The Y count says 9 records; the block holds 4.
    let mut ls = lines(&sample::so_hold_release_removed("EEE", TX));
    let y = ls.iter_mut().find(|l| l.starts_with('Y')).expect("Y");
    y.replace_range(12..17, "00009");
    let mut bad = ls.join("\n");
    bad.push('\n');
    env.ingest("so-count.abi", bad.as_bytes());
    // An SO10 whose entry number is not one: nothing in the file names an entry.
    let no_entry = set(&sample::so_hold_release_removed("EEE", TX), "SO10", 14, "12X4567");
    env.ingest("so-noentry.abi", &no_entry);
    let q = env.quarantined();
    assert!(q.contains(&"so-count.abi".to_string()) && q.contains(&"so-noentry.abi".to_string()), "{q:?}");
}
