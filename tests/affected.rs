//! What else an entry's status touches (issue 19), end to end through `entrywatch ingest` and
//! through `entrywatch run`: four entries of one importer share bills, containers, a purchase
//! order, HTS numbers and manufacturers; an exam on one gives one alert naming the others on
//! its bill and container (and PO), each once; a CBP UC notice on it names the same product's
//! other entries still inside a PSC or protest window, with the deadline of each.
//!
//! The ABI files are the project's samples (samples/abi life-01, life-03, uc-notifications)
//! with the entry number changed; the links come from the approved pre-entry CSV.

mod common;

use common::{archived, run_config_text, wait_until, RunningDaemon};
use common::{ok, Env, NOW};
use entrywatch::alert::outbox::Payload;
use entrywatch::alert::render::{render_alert, RenderContext};
use entrywatch::alert::store::SledOutbox;
use entrywatch::alert::{Alert, AlertKind};
use entrywatch::entry_number::check_digit;
use entrywatch::store::Store;
use std::path::PathBuf;
use std::time::Duration;

/// Transaction number and check digit (`12345673`) and the printed number.
fn entry(n: u32) -> (String, String) {
    let num = format!("{n:07}");
    let cd = check_digit("EEE", &num).expect("check digit");
    (format!("{num}{cd}"), format!("EEE-{num}-{cd}"))
}

const A: u32 = 1234567;
const B: u32 = 2000001;
const C: u32 = 2000002;
const D: u32 = 2000003;

fn sample(name: &str) -> String {
    std::fs::read_to_string(common::samples().join(name)).expect("sample")
}

/// The AE of samples/abi/life-01 filed for another entry.
fn ae_for(n: u32) -> Vec<u8> {
    sample("life-01-ae-filed.abi").replace("12345673", &entry(n).0).into_bytes()
}

/// The exam of samples/abi/life-03 (SO60 03) for another entry.
fn exam_for(n: u32) -> Vec<u8> {
    sample("life-03-so-exam.abi").replace("12345673", &entry(n).0).into_bytes()
}

/// A UC notice (disposition 2, request for the entry summary package, with the remark
/// "CLASSIFICATION INCORRECT ON LINE 001"), built from the first notice of
/// samples/abi/uc-notifications.abi.
fn uc_for(n: u32) -> Vec<u8> {
    let s = sample("uc-notifications.abi");
    let lines: Vec<&str> = s.lines().collect();
    let e1 = lines[2].replacen("E14", "E12", 1).replace("12345673", &entry(n).0);
    let y = lines[8].replace("00006", "00003");
    format!("{}\n{}\n{e1}\n{}\n{}\n{y}\n{}\n", lines[0], lines[1], lines[3], lines[4], lines[9]).into_bytes()
}

/// The approved pre-entry rows: (entry, bill, container, PO, MID of the 6110202079 line).
/// Line 2 (8471300100) has a manufacturer of its own per entry, so it links nothing.
fn pre_entry_csv() -> Vec<u8> {
    let rows = [
        (A, "MAEU612W0001", "MSKU1234565", "PO-1", "CNMIDXSHA"),
        (B, "MAEU612W0001", "TGHU7654321", "PO-1", "CNMIDXSHA"),
        (C, "MAEU612W0002", "MSKU1234565", "PO-3", "VNMIDYHAN"),
        (D, "MAEU612W0003", "CAIU5555555", "PO-4", "CNMIDXSHA"),
    ];
    let mut s = String::from("entry_number,importer_number,broker_reference,invoice_number,po_number,po_line,line_number,hts,country_of_origin,spi,quantity,uom,value_usd,duty_rate,duty_usd,bill_of_lading,container,manufacturer_id\n");
    for (n, bill, cont, po, mid) in rows {
        let e = entry(n).1;
        s.push_str(&format!("{e},12-345678900,BR0001,INV-1,{po},10,1,6110202079,CN,,120.00,DOZ,10000,0.165,1650.00,{bill},{cont},{mid}\n"));
        s.push_str(&format!(
            "{e},12-345678900,BR0001,INV-1,{po},20,2,8471300100,VN,,50.00,NO,5000,0,0,{bill},{cont},L2MID{n}\n"
        ));
    }
    s.into_bytes()
}

const ROUTE: &str = "\n[[route]]\nto = [\"ops@example.com\"]\nmin-severity = \"info\"\n";

fn with_route(env: &Env, text: String) {
    std::fs::write(env.config(), text + ROUTE).expect("config");
}

fn outbox(env: &Env) -> Vec<Alert> {
    let store = Store::open(&env.data().join("store")).expect("store");
    SledOutbox::new(store)
        .all()
        .expect("outbox")
        .into_iter()
        .filter_map(|i| match i.payload {
            Payload::Alert(a) => Some(*a),
            Payload::Digest(_) => None,
        })
        .collect()
}

/// The checks both paths share: what the exam alert and the UC alert of entry A list.
fn check_alerts(alerts: &[Alert]) {
    let a = entry(A).1;
    let exams: Vec<&Alert> = alerts.iter().filter(|x| x.kind == AlertKind::Exam && x.entry_display() == a).collect();
    assert_eq!(exams.len(), 1, "one exam alert for {a}: {alerts:#?}");
    let list = exams[0].facts.affected.as_ref().expect("the exam alert lists affected entries");
    let named: Vec<&str> = list.listed.iter().map(|x| x.entry.as_str()).collect();
    assert_eq!(named, vec![entry(B).1.as_str(), entry(C).1.as_str()], "{list:#?}");
    assert_eq!(list.matching, 2);
    assert_eq!(list.triggers, vec!["exam"]);
    let via = |e: u32| list.listed.iter().find(|x| x.entry == entry(e).1).map(|x| x.via.clone()).unwrap_or_default();
    use entrywatch::links::LinkKind::{Bill, Container, Po};
    assert_eq!(via(B), vec![Bill, Po], "B shares the bill and the PO, listed once");
    assert_eq!(via(C), vec![Container]);
    // No alert names an entry twice, nor its own entry.
    for x in alerts {
        if let Some(l) = &x.facts.affected {
            let mut seen = std::collections::BTreeSet::new();
            for e in &l.listed {
                assert!(seen.insert(&e.entry), "{} listed twice in {}", e.entry, x.id);
                assert_ne!(e.entry, x.entry_display());
            }
        }
    }
    // The UC notice: the same product (importer, HTS 6110202079, manufacturer CNMIDXSHA)
    // with a PSC window open: B. C has another manufacturer; D was never filed, so it has
    // no PSC or protest window (and no line of a filing to correct).
    let ucs: Vec<&Alert> = alerts
        .iter()
        .filter(|x| x.entry_display() == a && x.code.as_ref().is_some_and(|c| c.list == "uc" && c.code == "2"))
        .collect();
    assert_eq!(ucs.len(), 1, "one UC alert: {alerts:#?}");
    let list = ucs[0].facts.affected.as_ref().expect("the UC alert lists affected entries");
    assert_eq!(list.triggers, vec!["uc-notice"]);
    assert_eq!(list.listed.len(), 1, "{list:#?}");
    let b = &list.listed[0];
    assert_eq!(b.entry, entry(B).1);
    let d = b.deadline.as_ref().expect("a deadline");
    assert_eq!(d.kind, entrywatch::deadline::DeadlineKind::Psc);
    assert!(d.due > chrono::NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(), "{d:?}");
    // The mail says it in words, in the text and the HTML part.
    let ctx = RenderContext { dashboard_url: "http://127.0.0.1:8480".into() };
    let mail = render_alert(exams[0], &ctx);
    assert!(mail.text.contains("Affected entries (exam): 2"), "{}", mail.text);
    assert!(mail.text.contains(&format!("{}  same bill of lading, purchase order", entry(B).1)), "{}", mail.text);
    assert!(mail.html.contains(&entry(C).1), "{}", mail.html);
    let mail = render_alert(ucs[0], &ctx);
    assert!(
        mail.text.contains(&format!("{}  same HTS number, manufacturer  Post summary", entry(B).1)),
        "{}",
        mail.text
    );
}

#[test]
fn exam_and_reclassification_through_ingest_name_the_linked_entries() {
    let env = Env::new();
    with_route(&env, std::fs::read_to_string(env.config()).expect("config"));
    let pre = env.drop_file("approved", "pre-entries.csv", &pre_entry_csv());
    ok(&env.ingest("approved", &[pre]));
    let filed: Vec<PathBuf> =
        [A, B, C].iter().map(|n| env.drop_file("broker", &format!("ae-{n}.abi"), &ae_for(*n))).collect();
    ok(&env.ingest("broker", &filed));
    let exam = env.drop_file("broker", "so-exam.abi", &exam_for(A));
    ok(&env.ingest("broker", &[exam]));
    let uc = env.drop_file("broker", "uc.abi", &uc_for(A));
    ok(&env.ingest("broker", &[uc]));
    check_alerts(&outbox(&env));

    // `affected` and `entry` read the same index.
    let o = env.cmd().args(["affected", &entry(A).1, "--json", "--config"]).arg(env.config()).output().unwrap();
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let events: Vec<&str> = v["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["exam-ordered", "notice"], "{v:#}");
    let bill = v["related"].as_array().unwrap().iter().find(|r| r["kind"] == "bill").expect("bill");
    assert_eq!(bill["entries"], serde_json::json!([entry(B).1]));
    let e = env.entry_json(&entry(C).1);
    let cont = e["related"].as_array().unwrap().iter().find(|r| r["kind"] == "container").expect("container");
    assert_eq!(cont["entries"], serde_json::json!([entry(A).1]));
    let o = env.cmd().args(["entry", &entry(A).1, "--config"]).arg(env.config()).output().unwrap();
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("Related entries:") && text.contains("bill of lading MAEU612W0001"), "{text}");

    // The report lists both events of A.
    let o = env.cmd().args(["report", "affected", "--format", "csv", "--config"]).arg(env.config()).output().unwrap();
    ok(&o);
    let csv = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows[0].starts_with(&format!("{},", entry(A).1)) && rows[0].contains("exam"), "{csv}");
    assert!(rows[1].contains("uc-notice") && rows[1].contains(&entry(B).1), "{csv}");

    // `rebuild` recreates the index: the same answers after it.
    let o = env.cmd().args(["rebuild", "--config"]).arg(env.config()).output().unwrap();
    ok(&o);
    let o = env.cmd().args(["affected", &entry(A).1, "--json", "--config"]).arg(env.config()).output().unwrap();
    ok(&o);
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(w["related"], v["related"]);
    assert_eq!(w["events"], v["events"]);

    // The dashboard's entry page shows the same related entries by link kind.
    use entrywatch::view::ReadModel;
    let cfg = entrywatch::config::Config::from_toml(&std::fs::read_to_string(env.config()).unwrap(), "test").unwrap();
    let model = entrywatch::web::store_model::StoreModel::open(&cfg).expect("store");
    let page = model.entry(&entry(A).1).expect("entry view");
    let bill = page.related.iter().find(|r| r.kind == "bill").expect("bill on the page");
    assert_eq!((bill.value.as_str(), bill.entries.clone(), bill.count), ("MAEU612W0001", vec![entry(B).1], 1));
    assert_eq!(
        serde_json::to_value(&page.related).unwrap().as_array().map(Vec::len),
        v["related"].as_array().map(Vec::len)
    );
    let html = entrywatch::web::pages::entry_html(&page, chrono::DateTime::parse_from_rfc3339(NOW).unwrap());
    assert!(html.contains("Related entries"), "{html}");
    let row = format!(
        "<td>bill of lading</td><td class=\"mono\">MAEU612W0001</td><td class=\"wrap\"><a class=\"mono\" href=\"/entries/{0}\">{0}</a></td>",
        entry(B).1
    );
    assert!(html.contains(&row), "{html}");
}

#[test]
fn exam_and_reclassification_through_the_daemon_name_the_linked_entries() {
    let env = Env::new();
    with_route(&env, run_config_text(&env.data(), &env.inbox("broker"), &env.inbox("approved"), 0, 1));
    let d = RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", NOW)]);
    let wait = |inbox: &str, name: &str| {
        let want = (inbox.to_string(), name.to_string());
        let done = wait_until(Duration::from_secs(60), || archived(&env.data()).contains(&want));
        assert!(done, "{name} not archived:\n{}", d.log_tail());
    };
    env.drop_file("approved", "pre-entries.csv", &pre_entry_csv());
    wait("approved", "pre-entries.csv");
    for n in [A, B, C] {
        let name = format!("ae-{n}.abi");
        env.drop_file("broker", &name, &ae_for(n));
        wait("broker", &name);
    }
    env.drop_file("broker", "so-exam.abi", &exam_for(A));
    wait("broker", "so-exam.abi");
    env.drop_file("broker", "uc.abi", &uc_for(A));
    wait("broker", "uc.abi");
    d.stop();
    check_alerts(&outbox(&env));
}

const E5: u32 = 2000004;

/// The AE of samples/abi/life-01 for another entry with the records that carry links
/// (02-entry-summary-create-update): a 22 cargo manifest (page 43) with its 23 bill of lading,
/// type M, issuer and number (page 44) when `bill` is given, an SE17 equipment number (page
/// 47) when `container` is, and a 47 article party of type M (the manufacturer, page 78) on
/// each line: `mid` on line 1, a MID of the entry's own on line 2.
fn ae_linked(n: u32, bill: Option<&str>, container: Option<&str>, mid: &str) -> Vec<u8> {
    let text = String::from_utf8(ae_for(n)).unwrap();
    let cargo = |_: usize| {
        let mut v = Vec::new();
        if let Some(b) = bill {
            v.push("2200000100CTN  ".to_string());
            v.push(format!("23M{}{:<12}", &b[..4], &b[4..]));
        }
        if let Some(c) = container {
            v.push(format!("SE17{c:<20}"));
        }
        v
    };
    let text = common::abi_insert(&text, "11", &cargo);
    let parties = |i: usize| vec![format!("47M{:<15}", if i == 0 { mid.to_string() } else { format!("L2MID{n}") })];
    common::abi_insert(&text, "40", &parties).into_bytes()
}

/// A cargo release notification (SO10 and SO50 of samples/abi/life-03) for another entry
/// with an SO40 naming the bill: type M, issuer and number (04b, page 51, WO40 mirror).
fn so_bill_for(n: u32, bill: &str) -> Vec<u8> {
    let text = String::from_utf8(exam_for(n)).unwrap();
    let text: String = text.lines().filter(|l| !l.starts_with("SO60")).map(|l| format!("{l}\n")).collect();
    let so40 = |_: usize| vec![format!("SO40M{}{:<50}{:08}", &bill[..4], &bill[4..], 100)];
    common::abi_insert(&text, "SO10", &so40).into_bytes()
}

/// Issue 19 through the daemon with no pre-entry: every link is learned from the broker's AE
/// (23 bill, SE17 container, 47 manufacturer) and CBP's cargo release (SO40 bill). A: bill
/// MAEU612W0001, container MSKU1234565, MID CNMIDXSHA. B: same bill (AE 23). C: no bill in its
/// AE, the same bill in its SO40; another MID. D: another bill, the same container (SE17).
/// E: another bill, no container, A's MID.
#[test]
fn links_from_ae_and_cargo_release_records_through_the_daemon() {
    let env = Env::new();
    with_route(&env, run_config_text(&env.data(), &env.inbox("broker"), &env.inbox("approved"), 0, 1));
    let d = RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", NOW)]);
    let wait = |name: &str| {
        let want = ("broker".to_string(), name.to_string());
        let done = wait_until(Duration::from_secs(60), || archived(&env.data()).contains(&want));
        assert!(done, "{name} not archived:\n{}", d.log_tail());
    };
    let files: Vec<(String, Vec<u8>)> = vec![
        ("ae-a.abi".into(), ae_linked(A, Some("MAEU612W0001"), Some("MSKU1234565"), "CNMIDXSHA")),
        ("ae-b.abi".into(), ae_linked(B, Some("MAEU612W0001"), None, "CNMIDXSHA")),
        ("ae-c.abi".into(), ae_linked(C, None, None, "VNMIDYHAN")),
        ("so-c.abi".into(), so_bill_for(C, "MAEU612W0001")),
        ("ae-d.abi".into(), ae_linked(D, Some("MAEU612W0009"), Some("MSKU1234565"), "VNMIDYHAN")),
        ("ae-e.abi".into(), ae_linked(E5, Some("MAEU612W0010"), None, "CNMIDXSHA")),
        ("so-exam.abi".into(), exam_for(A)),
        ("uc.abi".into(), uc_for(A)),
    ];
    for (name, bytes) in &files {
        env.drop_file("broker", name, bytes);
        wait(name);
    }
    d.stop();
    let alerts = outbox(&env);
    let a = entry(A).1;
    let exams: Vec<&Alert> = alerts.iter().filter(|x| x.kind == AlertKind::Exam && x.entry_display() == a).collect();
    assert_eq!(exams.len(), 1, "one exam alert for {a}: {alerts:#?}");
    let list = exams[0].facts.affected.as_ref().expect("the exam alert lists affected entries");
    use entrywatch::links::LinkKind::{Bill, Container, Hts, Manufacturer};
    let got: Vec<(String, Vec<entrywatch::links::LinkKind>)> =
        list.listed.iter().map(|x| (x.entry.clone(), x.via.clone())).collect();
    assert_eq!(
        got,
        vec![(entry(B).1, vec![Bill]), (entry(C).1, vec![Bill]), (entry(D).1, vec![Container])],
        "{list:#?}"
    );
    assert_eq!(list.matching, 3);
    // The UC notice on A: the same product (HTS 6110202079 and MID CNMIDXSHA, both from the AE)
    // inside a PSC window: B and E, each with its deadline; C and D have another manufacturer.
    let ucs: Vec<&Alert> = alerts
        .iter()
        .filter(|x| x.entry_display() == a && x.code.as_ref().is_some_and(|c| c.list == "uc" && c.code == "2"))
        .collect();
    assert_eq!(ucs.len(), 1, "one UC alert: {alerts:#?}");
    let list = ucs[0].facts.affected.as_ref().expect("the UC alert lists affected entries");
    let named: Vec<&str> = list.listed.iter().map(|x| x.entry.as_str()).collect();
    assert_eq!(named, vec![entry(B).1.as_str(), entry(E5).1.as_str()], "{list:#?}");
    for x in &list.listed {
        assert_eq!(x.via, vec![Hts, Manufacturer]);
        let dl = x.deadline.as_ref().expect("each with its deadline");
        assert_eq!(dl.kind, entrywatch::deadline::DeadlineKind::Psc);
        assert!(dl.due > chrono::NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(), "{dl:?}");
    }
    // No alert names an entry twice, nor its own entry.
    for x in &alerts {
        if let Some(l) = &x.facts.affected {
            let mut seen = std::collections::BTreeSet::new();
            for e in &l.listed {
                assert!(seen.insert(&e.entry), "{} listed twice in {}", e.entry, x.id);
                assert_ne!(e.entry, x.entry_display());
            }
        }
    }
    // `entry --json` of C: the bill its cargo release named links it to A and B.
    let j = env.entry_json(&entry(C).1);
    let bill = j["related"].as_array().unwrap().iter().find(|r| r["kind"] == "bill").expect("bill");
    assert_eq!(bill["value"], "MAEU612W0001");
    assert_eq!(bill["entries"], serde_json::json!([entry(A).1, entry(B).1]));
}
