//! CBP's own X12 350 through `ingest` into a real store (issue 13): the Appendix N dispositions
//! the list now carries (4A, 1T ...) apply as holds, an X407 code not in our list is a warning
//! that keeps every hold and release of the set, raises one alert and is acknowledged "accepted,
//! errors noted" (AK5 E), while a partner's code error still rejects.

mod common;

use common::{files_under, Env};
use std::process::Output;

const E: &str = "EEE-1234567-3";

/// A data dir whose broker inbox acknowledges (997) into `out/`; every alert is routed to one person.
fn env() -> Env {
    let env = Env::new();
    std::fs::create_dir_all(env.path("out")).unwrap();
    env.inbox_keys("broker", &format!("ack-dir = {:?}\nack-kind = \"997\"", env.path("out")));
    env.add_config("[[route]]\nto = [\"ops@example.com\"]\nmin-severity = \"info\"\n");
    env
}

/// Ingest `text` as broker file `name` (copied, `--json`).
fn ingest(env: &Env, name: &str, text: &str) -> Output {
    let p = env.drop_file("broker", name, text.as_bytes());
    env.cmd()
        .arg("ingest")
        .arg("--config")
        .arg(env.config())
        .args(["--inbox", "broker", "--json"])
        .arg(&p)
        .output()
        .unwrap()
}

/// The acks written, sorted.
fn acks(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(env.path("out"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    v.sort();
    v
}

fn quarantined(env: &Env) -> usize {
    files_under(&env.data().join("quarantine")).len()
}

/// A 350 from CBP with one X4 (+ K1 narrative) per disposition, all for entry EEE-1234567-3.
fn x350(codes: &[(&str, &str)]) -> String {
    let mut body = vec![
        "ST*350*0001".to_string(),
        "M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W".into(),
        "P4*2704*20260201*100*2704".into(),
    ];
    for (i, (code, time)) in codes.iter().enumerate() {
        body.push(format!("X4*MAEU12345678{i}*100*01*EEE12345673*20260203*{time}*{code}**MAEU"));
        body.push(format!("K1*DISPOSITION {code}"));
    }
    body.push(format!("SE*{}*0001", body.len() + 1));
    format!(
        "ISA*00*          *00*          *ZZ*CBPTEST        *ZZ*ENTRYWATCHTEST *260203*1012*^*00501*000000101*0*T*:~\n\
         GS*AU*CBPTEST*ENTRYWATCHTEST*20260203*1012*101*X*005010~\n{}~\nGE*1*101~\nIEA*1*000000101~\n",
        body.join("~\n")
    )
}

fn open_holds(j: &serde_json::Value) -> Vec<String> {
    j["release"]["open_holds"].as_array().unwrap().iter().map(|h| h["code"].as_str().unwrap().to_string()).collect()
}

fn event_codes(j: &serde_json::Value) -> Vec<String> {
    // The X4 bills are their own `cargo-refs` event (docs/affected.md): dispositions only here.
    j["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] != "cargo-refs")
        .filter_map(|e| e["code"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn appendix_n_codes_4a_and_1t_apply_as_exam_and_seizure() {
    let env = env();
    // 1C released, then 4A withdraws it for an intensive exam, then 1T seized.
    let o = ingest(&env, "350-4a-1t.x12", &x350(&[("1C", "0900"), ("4A", "1000"), ("1T", "1100")]));
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(quarantined(&env), 0);
    let j = env.json(&["entry", E, "--json"]);
    assert_eq!(event_codes(&j), ["X407:1C", "X407:4A", "X407:1T"], "{j}");
    let holds = open_holds(&j);
    assert!(holds.contains(&"4A".to_string()) && holds.contains(&"1T".to_string()), "{holds:?}");
    assert_ne!(j["release"]["status"], "released", "{}", j["release"]);
    // Our 997 to CBP's side accepts the set.
    let acks = acks(&env);
    assert_eq!(acks.len(), 1);
    assert!(acks[0].contains("AK2*350*0001~") && acks[0].contains("AK5*A~"), "{}", acks[0]);
    // A later 1B (released after the intensive exam) lifts the 4A exam; the seizure stays.
    let text = x350(&[("1B", "1500")])
        .replace("000000101", "000000102")
        .replace("*101*", "*102*")
        .replace("GE*1*101", "GE*1*102");
    let o = ingest(&env, "350-1b.x12", &text);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let j = env.json(&["entry", E, "--json"]);
    assert_eq!(open_holds(&j), ["1T"], "{}", j["release"]);
}

#[test]
fn an_unknown_cbp_code_is_a_warning_and_the_set_is_applied() {
    let env = env();
    let text = x350(&[("1H", "0900"), ("Q7", "0930"), ("1C", "1000")]);
    std::fs::write(env.path("copy.x12"), &text).unwrap();
    let o = ingest(&env, "350-unknown.x12", &text);
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(quarantined(&env), 0);
    // The warning names code, line and segment (`parse` shows a file's diagnostics).
    let o = env.cmd().args(["parse", "--json"]).arg(env.path("copy.x12")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let diags = report["errors"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!((d["code"].as_str(), d["severity"].as_str()), (Some("X12W066"), Some("warning")));
    assert_eq!((d["line"].as_u64(), d["segment"].as_u64()), (Some(8), Some(6)));
    assert!(d["message"].as_str().unwrap().contains("X407 (35): code \"Q7\""), "{d}");
    // Every hold and release of the set is kept, the unknown code too (as an advisory).
    let j = env.json(&["entry", E, "--json"]);
    assert_eq!(event_codes(&j), ["X407:1H", "X407:Q7", "X407:1C"], "{j}");
    assert_eq!(open_holds(&j), ["1H"]);
    assert!(j.to_string().contains("code Q7 is not in x407; meaning unknown (CBP: DISPOSITION Q7)"), "{j}");
    // One alert for the unknown code, so a person looks it up.
    let alerts = env.json(&["alerts", "--json"]);
    let about_q7: Vec<&serde_json::Value> =
        alerts.as_array().unwrap().iter().filter(|a| a.to_string().contains("Q7")).collect();
    assert_eq!(about_q7.len(), 1, "{alerts}");
    assert!(about_q7[0].to_string().contains("not in the x407 code list"), "{}", about_q7[0]);
    // The 997 to CBP's side says "accepted, errors noted", naming the element.
    let acks = acks(&env);
    assert_eq!(acks.len(), 1);
    assert!(acks[0].contains("AK3*X4*6*X4*8~") && acks[0].contains("AK4*7*35*7*Q7~"), "{}", acks[0]);
    assert!(acks[0].contains("AK5*E~") && acks[0].contains("AK9*E*1*1*1~"), "{}", acks[0]);
}

#[test]
fn a_partner_code_error_still_rejects_and_a_broken_cbp_envelope_still_quarantines() {
    let env = env();
    // A partner's 999 with an IK5 code that X12 does not define: the set is rejected (IK5 is
    // validated like AK5) and the file is quarantined: our strictness stays on partner X12.
    let partner = "ISA*00*          *00*          *ZZ*PARTNER        *ZZ*ENTRYWATCHTEST *260203*1012*^*00501*000000201*0*T*:~\n\
                   GS*FA*PARTNER*ENTRYWATCHTEST*20260203*1012*201*X*005010X231A1~\n\
                   ST*999*0001*005010X231A1~\nAK1*PO*17*005010X231A1~\nAK2*850*0001~\nIK5*Q~\nAK9*A*1*1*1~\nSE*6*0001~\n\
                   GE*1*201~\nIEA*1*000000201~\n";
    let o = ingest(&env, "partner-999.x12", partner);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("X12E066"), "{out}");
    assert_eq!(quarantined(&env), 2, "the file and its error report");
    // CBP's 350 with an unknown code but a wrong SE count: the envelope is broken, quarantined.
    let broken = x350(&[("Q7", "0930")]).replace("SE*6*0001", "SE*9*0001");
    let o = ingest(&env, "350-broken.x12", &broken);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert_eq!(quarantined(&env), 4);
}
