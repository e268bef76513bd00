//! Acknowledgments: generated 997/999/TA1 compared with hand-written expected files, control
//! numbers across restarts, acks read back by our own reader, the shared corpus, inbound acks,
//! and the pipeline writing acks into an ack dir.

mod common;

use common::{names_in, Env};

use entrywatch::ack::{self, control::Reserved, AckOptions};
use entrywatch::clock::Clock;
use entrywatch::config::AckKind;
use entrywatch::grammar::Grammars;
use entrywatch::parse::{self, Format};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn grammars() -> &'static Grammars {
    static G: OnceLock<Grammars> = OnceLock::new();
    G.get_or_init(|| Grammars::embedded().expect("embedded grammars load"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn now() -> chrono::NaiveDateTime {
    let c = Clock::Fixed(chrono::DateTime::parse_from_rfc3339("2026-03-02T09:30:00-05:00").unwrap());
    c.now().naive_local()
}

/// The acks of a file with fixed control numbers: interchange i gets ISA13 900000001+i, groups
/// are numbered from 5001 across the file.
fn acks_for(bytes: &[u8], kind: AckKind) -> Vec<u8> {
    let mut out = Vec::new();
    let mut isa = 900_000_001;
    let mut gs = 5001;
    for ic in ack::collect(bytes, grammars()) {
        let p = ack::plan(&ic, kind, false);
        if p.is_empty() {
            continue;
        }
        let r = Reserved { interchange: isa, first_group: gs };
        out.extend(ack::render(&ic.header, &p, &AckOptions::new(kind), &r, now()));
        isa += 1;
        gs += p.groups.len() as u64;
    }
    out
}

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("samples/x12"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "x12"))
        .collect();
    v.sort();
    v
}

fn fixture(stem: &str, ext: &str) -> PathBuf {
    root().join("tests/fixtures/acks").join(format!("{stem}.{ext}"))
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_str().unwrap().to_string()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace('\x1d', "<GS>")
}

/// Whether every group of the file is an acknowledgment group and no TA1 is due.
fn only_fa_groups(bytes: &[u8]) -> bool {
    ack::collect(bytes, grammars()).iter().all(|ic| {
        ic.groups.iter().all(|g| g.header.functional_id == "FA")
            && ic.header.ack_requested != "1"
            && ic.result.as_ref().is_some_and(|r| r.codes.is_empty())
    })
}

#[test]
fn samples_get_the_hand_written_997() {
    let mut compared = 0;
    for p in samples() {
        let bytes = std::fs::read(&p).unwrap();
        let got = acks_for(&bytes, AckKind::Ack997);
        let f = fixture(&stem(&p), "997");
        if f.exists() {
            let want = std::fs::read(&f).unwrap();
            assert_eq!(show(&got), show(&want), "{}: generated 997 differs from {}", p.display(), f.display());
            compared += 1;
        } else {
            assert!(only_fa_groups(&bytes), "{}: no expected ack file, but the file needs one", p.display());
            assert!(got.is_empty(), "{}: an FA-only file got an ack:\n{}", p.display(), show(&got));
        }
    }
    assert!(compared >= 40, "only {compared} samples compared");
}

#[test]
fn samples_get_the_hand_written_999() {
    let mut compared = 0;
    for p in samples() {
        let f = fixture(&stem(&p), "999");
        if !f.exists() {
            continue;
        }
        let got = acks_for(&std::fs::read(&p).unwrap(), AckKind::Ack999);
        assert_eq!(show(&got), show(&std::fs::read(&f).unwrap()), "{}", p.display());
        compared += 1;
    }
    assert!(compared >= 7);
}

/// Every ack we generate is valid for our own reader, and reading it back as an inbound ack
/// gives the statuses the plan said.
#[test]
fn every_generated_ack_reads_back_valid() {
    let dir = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for p in samples() {
        let bytes = std::fs::read(&p).unwrap();
        for kind in [AckKind::Ack997, AckKind::Ack999] {
            let out = acks_for(&bytes, kind);
            if out.is_empty() {
                continue;
            }
            check_reads_back(&p.display().to_string(), &bytes, &out, kind);
            let f = dir.path().join(format!("{}.{kind:?}.x12", stem(&p)));
            std::fs::write(&f, &out).unwrap();
            written.push(f);
        }
    }
    assert!(written.len() >= 80, "{}", written.len());
    // The command line says the same: `entrywatch parse` exits 0 (valid) for all of them.
    let o = Command::new(env!("CARGO_BIN_EXE_entrywatch")).arg("parse").args(&written).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}

fn check_reads_back(what: &str, input: &[u8], out: &[u8], kind: AckKind) {
    let parsed = parse::parse_file("ack.x12", out, grammars());
    assert!(parsed.ok, "{what} ({kind:?}): our ack is not valid:\n{}\n{:#?}", show(out), parsed.errors);
    assert_eq!(parsed.format, Format::X12);
    let warnings: Vec<_> = parsed.errors.iter().map(|d| d.code.as_str()).collect();
    assert!(warnings.iter().all(|c| *c == "X12E011"), "{what}: {warnings:?}");
    let back = ack::inbound::parse_inbound(out, grammars(), "ack.x12", "sha", now());
    let mut want = Vec::new();
    for ic in ack::collect(input, grammars()) {
        let p = ack::plan(&ic, kind, false);
        if let Some(t) = &p.ta1 {
            want.push(("interchange".to_string(), t.status.clone()));
        }
        for g in &p.groups {
            for s in &g.sets {
                want.push(("transaction".to_string(), s.status.clone()));
            }
            want.push(("group".to_string(), g.status.clone()));
        }
    }
    let got: Vec<_> = back.iter().map(|a| (a.level.clone(), a.status.clone())).collect();
    assert_eq!(got, want, "{what}: statuses read back");
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                corpus_files(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// Every corpus file with a functional group (other than FA) gets a 997 and a 999 for it that
/// our reader accepts; files whose envelope is rejected get a TA1 instead.
#[test]
fn shared_corpus_files_get_acks_our_reader_accepts() {
    let Some(dir) = common::require_corpus() else { return };
    let mut files = Vec::new();
    corpus_files(&dir, &mut files);
    files.sort();
    let mut with_groups = 0;
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        if parse::sniff(&bytes) != Format::X12 {
            continue;
        }
        let received = ack::collect(&bytes, grammars());
        let groups: usize =
            received.iter().map(|ic| ic.groups.iter().filter(|g| g.header.functional_id != "FA").count()).sum();
        for kind in [AckKind::Ack997, AckKind::Ack999] {
            let out = acks_for(&bytes, kind);
            let mut acked_groups = 0;
            for ic in &received {
                let plan = ack::plan(ic, kind, false);
                let rejected = plan.ta1.as_ref().is_some_and(|t| t.status == "R");
                let non_fa = ic.groups.iter().filter(|g| g.header.functional_id != "FA").count();
                if rejected {
                    assert!(plan.groups.is_empty());
                } else {
                    assert_eq!(plan.groups.len(), non_fa, "{}: one ack per group", p.display());
                }
                acked_groups += plan.groups.len() + usize::from(rejected) * non_fa;
            }
            assert_eq!(acked_groups, groups, "{}", p.display());
            if !out.is_empty() {
                check_reads_back(&p.display().to_string(), &bytes, &out, kind);
            }
        }
        if groups > 0 {
            with_groups += 1;
        }
    }
    assert!(with_groups >= 10, "{with_groups} corpus files with groups");
}

const NOW: &str = "2026-03-02T09:30:00-05:00";

/// A data dir whose `broker` inbox acknowledges (`ack_kind`) into `out/`; runs the real binary.
fn ack_env(ack_kind: &str) -> Env {
    let env = Env::new().at(NOW);
    env.inbox_keys("broker", &format!("ack-dir = {:?}\nack-kind = \"{ack_kind}\"", env.path("out")));
    env
}

/// What the ack tests do with an env.
trait AckEnv {
    fn ingest_sample(&self, name: &str);
    fn out_files(&self) -> Vec<String>;
    fn parse_ok(&self, file: &str);
    fn store(&self) -> entrywatch::store::Store;
}

impl AckEnv for Env {
    /// Copy a sample into the inbox and ingest it in a new process.
    fn ingest_sample(&self, name: &str) {
        let to = self.path("in/broker").join(name);
        std::fs::copy(root().join("samples/x12").join(name), &to).unwrap();
        let o = self
            .cmd()
            .arg("ingest")
            .arg("--config")
            .arg(self.path("entrywatch.toml"))
            .args(["--inbox", "broker"])
            .arg(&to)
            .output()
            .unwrap();
        // Exit 1 when the file is quarantined (invalid input); the ack is written either way.
        assert!(matches!(o.status.code(), Some(0 | 1)), "ingest {name}: {}", String::from_utf8_lossy(&o.stderr));
    }
    fn out_files(&self) -> Vec<String> {
        names_in(&self.path("out"))
    }
    fn parse_ok(&self, file: &str) {
        let o = self.cmd().arg("parse").arg(self.path("out").join(file)).output().unwrap();
        assert!(o.status.success(), "entrywatch parse {file}: {}", String::from_utf8_lossy(&o.stdout));
    }
    fn store(&self) -> entrywatch::store::Store {
        entrywatch::store::Store::open(&self.data().join("store")).unwrap()
    }
}

fn sha_of(sample: &str) -> String {
    entrywatch::ingest::sha256_hex(&std::fs::read(root().join("samples/x12").join(sample)).unwrap())
}

#[test]
fn pipeline_writes_acks_with_numbers_that_survive_restarts() {
    let env = ack_env("997");
    env.ingest_sample("350-holds-exam-release.x12");
    assert_eq!(env.out_files(), ["997-ENTRYWATCHTEST-000000001.x12"]);
    {
        // The entry the 350 touched reaches the ack through its audit trail.
        let store = env.store();
        let recs = ack::acks_for_entry(&store, "EEE12345673").unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].name, "350-holds-exam-release.x12");
        assert_eq!(recs[0].entries, ["EEE12345673"]);
        assert_eq!(recs[0].acks[0].file, "997-ENTRYWATCHTEST-000000001.x12");
    }
    let first = std::fs::read_to_string(env.path("out/997-ENTRYWATCHTEST-000000001.x12")).unwrap();
    assert!(first.starts_with("ISA*00*          *00*          *ZZ*CBPTEST        *ZZ*ENTRYWATCHTEST *260302*0930*^*00501*000000001*0*T*:~"), "{first}");
    assert!(first.contains("GS*FA*CBPTEST*ENTRYWATCHTEST*20260302*0930*1*X*005010~"), "{first}");
    assert!(first.contains("AK9*A*1*1*1~"), "{first}");
    env.parse_ok("997-ENTRYWATCHTEST-000000001.x12");

    // New processes: the store is reopened each time, numbers go on increasing.
    env.ingest_sample("err-el-too-long.x12");
    env.ingest_sample("err-iea-control.x12");
    assert_eq!(
        env.out_files(),
        ["997-ENTRYWATCHTEST-000000001.x12", "997-ENTRYWATCHTEST-000000002.x12", "TA1-ENTRYWATCHTEST-000000003.x12"]
    );
    let second = std::fs::read_to_string(env.path("out/997-ENTRYWATCHTEST-000000002.x12")).unwrap();
    assert!(second.contains("*000000002*0*T*:~") && second.contains("*0930*2*X*005010~"), "{second}");
    assert!(second.contains("AK4*9*140*5*MAEUX~") && second.contains("AK9*R*1*1*0~"), "{second}");
    let third = std::fs::read_to_string(env.path("out/TA1-ENTRYWATCHTEST-000000003.x12")).unwrap();
    assert!(third.contains("TA1*000000601*260203*1012*R*001~") && third.contains("IEA*0*000000003~"), "{third}");
    for f in env.out_files() {
        env.parse_ok(&f);
    }

    // The same bytes again: a duplicate, no second ack.
    env.ingest_sample("350-holds-exam-release.x12");
    assert_eq!(env.out_files().len(), 3);

    // The audit trail: each file's acks are recorded, written, with their control numbers.
    let store = env.store();
    let rec = ack::acks_of(&store, &sha_of("err-el-too-long.x12")).unwrap().expect("recorded");
    assert_eq!(rec.name, "err-el-too-long.x12");
    assert_eq!(rec.inbox, "broker");
    assert_eq!(rec.acks.len(), 1);
    let a = &rec.acks[0];
    assert!(a.written);
    assert_eq!((a.interchange_control, a.first_group_control), (2, 2));
    assert_eq!(a.acknowledged_interchange, "000000901");
    assert_eq!(a.plan.groups[0].status, "R");
    assert_eq!(a.bytes, second.as_bytes());
    let rej =
        ack::acks_of(&store, &sha_of("err-iea-control.x12")).unwrap().expect("quarantined files are acknowledged too");
    assert_eq!(rej.acks[0].plan.ta1.as_ref().map(|t| t.note_code.as_str()), Some("001"));
    assert_eq!(ack::control::last_used(&store, "isa", "ZZ:ENTRYWATCHTEST").unwrap(), 3);
    assert_eq!(ack::control::last_used(&store, "gs", "ZZ:ENTRYWATCHTEST").unwrap(), 3);
    drop(store);

    // `rebuild` replays the archive into a fresh store: the numbers are carried over.
    let o = env.cmd().arg("rebuild").arg("--config").arg(env.path("entrywatch.toml")).output().unwrap();
    assert!(o.status.success(), "rebuild: {}", String::from_utf8_lossy(&o.stderr));
    env.ingest_sample("err-seg-max.x12");
    assert_eq!(env.out_files().len(), 4);
    assert!(env.out_files().contains(&"997-ENTRYWATCHTEST-000000004.x12".to_string()), "{:?}", env.out_files());
    let fourth = std::fs::read_to_string(env.path("out/997-ENTRYWATCHTEST-000000004.x12")).unwrap();
    assert!(fourth.contains("*0930*4*X*005010~"), "{fourth}");
}

#[test]
fn pipeline_writes_999_when_configured() {
    let env = ack_env("999");
    env.ingest_sample("err-st-duplicate.x12");
    assert_eq!(env.out_files(), ["999-ENTRYWATCHTEST-000000001.x12"]);
    let t = std::fs::read_to_string(env.path("out/999-ENTRYWATCHTEST-000000001.x12")).unwrap();
    assert!(t.contains("ST*999*0001*005010X231A1~") && t.contains("IK5*R*23~") && t.contains("AK9*P*2*2*1~"), "{t}");
    env.parse_ok("999-ENTRYWATCHTEST-000000001.x12");
}

#[test]
fn inbound_acks_are_recorded_and_rejections_become_events() {
    let env = ack_env("997");
    env.ingest_sample("997-ack.x12");
    env.ingest_sample("999-ack.x12");
    // Acknowledgment groups are never acknowledged; the second file repeats ISA13 000000101 of
    // the same sender, which is worth a TA1 E 025.
    assert_eq!(env.out_files(), ["TA1-ENTRYWATCHTEST-000000001.x12"]);
    let ta1 = std::fs::read_to_string(env.path("out/TA1-ENTRYWATCHTEST-000000001.x12")).unwrap();
    assert!(ta1.contains("TA1*000000101*260203*1012*E*025~"), "{ta1}");
    let store = env.store();
    let ok = ack::inbound::latest(&store, "ZZ:ENTRYWATCHTEST", "st|17|0001").unwrap().expect("997 recorded");
    assert_eq!((ok.kind.as_str(), ok.status.as_str(), ok.set.as_deref()), ("997", "A", Some("309")));
    let g = ack::inbound::latest(&store, "ZZ:ENTRYWATCHTEST", "gs|21").unwrap().expect("999 group recorded");
    assert_eq!(g.status, "R");
    assert_eq!(g.counts, Some(("1".into(), "1".into(), "0".into())));
    let events = ack::inbound::events(&store).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let ack::AckEvent::AckRejected { ack: t } = &events[0];
    assert_eq!((t.kind.as_str(), t.level.as_str(), t.status.as_str()), ("999", "transaction", "R"));
    assert_eq!(t.set_control_number.as_deref(), Some("0001"));
    assert_eq!(t.codes, ["5"]);
    assert_eq!(t.errors, ["IT1 at 5 (loop IT1): 8", "element 2: 6"]);
    assert_eq!(t.file, "999-ack.x12");
    let ack::AckEvent::AckRejected { ack: g2 } = &events[1];
    assert_eq!((g2.level.as_str(), g2.control_number.as_str()), ("group", "21"));
}

/// A partner's rejecting 999 raises a critical alert (category rejection) that is mailed
/// once: ingesting more files later does not mail it again.
#[test]
fn a_rejecting_ack_from_a_partner_is_mailed_once() {
    let env = ack_env("997");
    let cfg = std::fs::read_to_string(env.path("entrywatch.toml")).unwrap();
    let cfg = format!(
        "{cfg}[[route]]\nto = [\"edi@example.com\"]\ncategories = [\"rejection\"]\nmin-severity = \"warning\"\n"
    );
    std::fs::write(env.path("entrywatch.toml"), cfg).unwrap();
    env.ingest_sample("999-ack.x12");
    let mails = || -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(env.path("data/mail")) else { return Vec::new() };
        rd.flatten().map(|e| std::fs::read_to_string(e.path()).unwrap()).collect()
    };
    let first = mails();
    assert_eq!(first.len(), 2, "one mail per rejection (the transaction and its group): {first:#?}");
    for m in &first {
        assert!(m.contains("Subject: [entrywatch] CRITICAL"), "{m}");
        assert!(m.contains("To: edi@example.com"), "{m}");
        assert!(m.contains("ZZ:ENTRYWATCHTEST"), "the partner is named: {m}");
    }
    env.ingest_sample("997-ack.x12");
    assert_eq!(mails().len(), 2, "no mail again for the same rejections");
}

#[test]
fn pending_acks_are_written_by_retry() {
    let dir = tempfile::tempdir().unwrap();
    let store = entrywatch::store::Store::open(&dir.path().join("store")).unwrap();
    // The ack dir is a plain file: writing fails, the ack stays recorded as pending.
    let blocked = dir.path().join("out");
    std::fs::write(&blocked, b"not a dir").unwrap();
    let inbox: entrywatch::config::Inbox =
        toml::from_str(&format!("name = \"b\"\npath = \"/nonexistent\"\nrole = \"broker\"\nack-dir = {:?}\n", blocked))
            .unwrap();
    let bytes = std::fs::read(root().join("samples/x12/309-manifest.x12")).unwrap();
    let file = ack::ReceivedFile { name: "309.x12", sha256: "abc", received: now(), entries: vec![] };
    let sent = ack::acknowledge_file(&store, &inbox, grammars(), &bytes, &file).unwrap();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].written);
    assert_eq!(ack::retry_pending(&store).unwrap(), 0);
    std::fs::remove_file(&blocked).unwrap();
    assert_eq!(ack::retry_pending(&store).unwrap(), 1);
    let written = std::fs::read(blocked.join(&sent[0].file)).unwrap();
    assert_eq!(written, sent[0].bytes);
    // The same file again is not acknowledged twice.
    let again = ack::acknowledge_file(&store, &inbox, grammars(), &bytes, &file).unwrap();
    assert_eq!(again, ack::acks_of(&store, "abc").unwrap().unwrap().acks);
    assert_eq!(ack::control::last_used(&store, "isa", "ZZ:ENTRYWATCHTEST").unwrap(), 1);
    assert_eq!(std::fs::read_dir(&blocked).unwrap().count(), 1, "no temporary file left");
}

/// Damaged inputs (a byte replaced, a range removed) never break the builder, and whatever ack
/// comes out is still valid for our reader.
#[test]
fn damaged_inputs_still_get_valid_acks() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let inputs: Vec<Vec<u8>> =
        samples().iter().filter(|p| !stem(p).starts_with("quirk-utf16")).map(|p| std::fs::read(p).unwrap()).collect();
    let mut runner = TestRunner::new(Config { cases: 2000, failure_persistence: None, ..Config::default() });
    let alphabet = b"*:~^|>0123456789AZaz \n-.";
    runner
        .run(
            &(0..inputs.len(), any::<prop::sample::Index>(), 0..alphabet.len(), 0usize..40, any::<bool>()),
            |(i, at, c, cut, replace)| {
                let mut b = inputs[i].clone();
                let at = at.index(b.len());
                if replace {
                    b[at] = alphabet[c];
                } else {
                    let end = (at + cut).min(b.len());
                    b.drain(at..end);
                }
                for kind in [AckKind::Ack997, AckKind::Ack999] {
                    let out = acks_for(&b, kind);
                    if out.is_empty() {
                        continue;
                    }
                    let parsed = parse::parse_file("ack.x12", &out, grammars());
                    let errors: Vec<_> = parsed.errors.iter().filter(|d| d.is_error()).collect();
                    prop_assert!(errors.is_empty(), "input:\n{}\nack:\n{}\n{:?}", show(&b), show(&out), errors);
                }
                Ok(())
            },
        )
        .unwrap();
}
