//! Every data command while `entrywatch run` holds the store: the real daemon, the real binary
//! as the CLI. Each command's stdout, stderr and exit code with the daemon running (answered
//! over its local socket) are compared byte for byte with the same command after the daemon
//! stopped (read from the store directly); `ingest` likewise, on the same data dir rebuilt
//! from nothing. Also: ingest copies unless `--move`, and the error when nothing can be reached.

mod common;

use common::{run_config_text, wait_until, RunningDaemon};
use common::{samples, Env, NOW};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

const E: &str = "EEE-1234567-3";

/// A data dir and inboxes whose config is made for `entrywatch run` (settle 0, dashboard off).
fn daemon_env() -> Env {
    let env = Env::new();
    let text = run_config_text(&env.data(), &env.inbox("broker"), &env.inbox("approved"), 0, 300);
    std::fs::write(env.config(), text).unwrap();
    env
}

fn start(env: &Env) -> RunningDaemon {
    RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", NOW)])
}

/// The user's own copies of the samples, outside every inbox: (approved pre-entry, broker files).
fn user_files(env: &Env) -> (PathBuf, Vec<PathBuf>) {
    let dir = env.root().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    let names = common::life_names();
    let copy = |n: &str| {
        let to = dir.join(n);
        std::fs::copy(samples().join(n), &to).unwrap();
        to
    };
    let mut broker: Vec<PathBuf> = names[1..].iter().map(|n| copy(n)).collect();
    // One file CBP could not have sent (quarantined), one resent (duplicate), one missing.
    let junk = dir.join("junk.abi");
    std::fs::write(&junk, b"this is not an ABI file\n").unwrap();
    broker.push(junk);
    broker.push(broker[0].clone());
    broker.push(dir.join("never-written.abi"));
    (copy(&names[0]), broker)
}

/// What one command printed and its exit code.
#[derive(Debug, PartialEq, Eq)]
struct Said {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Said {
    fn from(o: Output) -> Said {
        Said {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).to_string(),
            stderr: String::from_utf8_lossy(&o.stderr).to_string(),
        }
    }
}

fn run(env: &Env, args: &[&str]) -> Said {
    let mut c = env.cmd();
    c.args(args).arg("--config").arg(env.config()).env_remove("ENTRYWATCH_SOCKET").env_remove("RUNTIME_DIRECTORY");
    c.output().unwrap().into()
}

fn ingest(env: &Env, inbox: &str, files: &[PathBuf], extra: &[&str]) -> Said {
    let mut c = env.cmd();
    c.args(["ingest", "--inbox", inbox])
        .args(extra)
        .arg("--config")
        .arg(env.config())
        .args(files)
        .env_remove("ENTRYWATCH_SOCKET")
        .env_remove("RUNTIME_DIRECTORY");
    c.output().unwrap().into()
}

/// Every read command of interface.md, with its output variants, and error cases.
fn read_commands() -> Vec<Vec<String>> {
    let mut v: Vec<Vec<&str>> = vec![
        vec!["entries"],
        vec!["entries", "--json"],
        vec!["entries", "--status", "accepted"],
        vec!["entries", "--status", "liquidated", "--json"],
        vec!["entries", "--importer", "no-such-importer"],
        vec!["entries", "--broker", "EEE", "--json"],
        vec!["entry", E],
        vec!["entry", E, "--json"],
        vec!["entry", "EEE 1234567 3", "--json"],
        vec!["entry", "EEE-7654321-0"],
        vec!["entry", "not-an-entry"],
        vec!["variance", E],
        vec!["variance", E, "--json"],
        vec!["variance", E, "--csv"],
        vec!["variance", "EEE-7654321-0", "--json"],
        vec!["deadlines"],
        vec!["deadlines", "--json"],
        vec!["deadlines", "--within", "400", "--json"],
        vec!["deadlines", "--ics"],
        vec!["alerts"],
        vec!["alerts", "--json"],
        vec!["report", "no-such-report"],
    ];
    for name in entrywatch::report::NAMES {
        for format in ["text", "csv", "json"] {
            v.push(vec!["report", name, "--format", format]);
        }
    }
    v.push(vec!["report", "entry-summary", "--from", "2026-01-01", "--to", "2026-12-31", "--broker", "EEE"]);
    v.into_iter().map(|c| c.into_iter().map(String::from).collect()).collect()
}

fn run_all(env: &Env) -> Vec<(Vec<String>, Said)> {
    read_commands()
        .into_iter()
        .map(|c| {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            let said = run(env, &args);
            (c, said)
        })
        .collect()
}

/// Wait until the daemon's mailer and scheduler are done with what the ingest queued (the
/// outbox reads the same twice, a second apart), so both runs see the same outbox.
fn wait_outbox_settled(env: &Env) {
    let mut last = String::new();
    let settled = wait_until(Duration::from_secs(30), || {
        let now = run(env, &["alerts", "--json"]);
        assert_eq!(now.code, Some(0), "{now:?}");
        let same = now.stdout == last;
        last = now.stdout;
        if !same {
            std::thread::sleep(Duration::from_millis(1000));
        }
        same
    });
    assert!(settled, "the outbox kept changing:\n{last}");
}

fn assert_same(what: &str, live: &[(Vec<String>, Said)], direct: &[(Vec<String>, Said)]) {
    assert_eq!(live.len(), direct.len());
    for ((cmd, a), (_, b)) in live.iter().zip(direct) {
        assert_eq!(a, b, "{what}: `entrywatch {}` differs (left: daemon running, right: store)", cmd.join(" "));
    }
}

#[test]
fn every_data_command_prints_the_same_with_the_daemon_running_and_stopped() {
    let env = daemon_env();
    let (pre, broker) = user_files(&env);
    let before: Vec<(PathBuf, Vec<u8>)> = std::iter::once(&pre)
        .chain(&broker)
        .filter(|p| p.is_file())
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();

    let d = start(&env);
    let live_pre = ingest(&env, "approved", std::slice::from_ref(&pre), &[]);
    let live_broker = ingest(&env, "broker", &broker, &[]);
    let live_json = ingest(&env, "broker", &broker[..2], &["--json"]);
    assert_eq!(live_pre.code, Some(0), "{live_pre:?}\n{}", d.log_tail());
    assert!(live_pre.stdout.starts_with("applied "), "{live_pre:?}");
    assert_eq!(live_broker.code, Some(1), "a quarantined and a missing file: exit 1 {live_broker:?}");
    assert!(live_broker.stdout.contains("applied ") && live_broker.stdout.contains("quarantined "), "{live_broker:?}");
    assert!(live_broker.stdout.contains("duplicate "), "{live_broker:?}");
    assert!(live_broker.stderr.contains("never-written.abi: not a file"), "{live_broker:?}");
    assert!(d.log_text().contains("SocketListening"), "{}", d.log_tail());
    // The CLI could not have read the store itself: the daemon holds it.
    assert!(matches!(
        entrywatch::store::Store::open(&env.data().join("store")),
        Err(entrywatch::store::StoreError::InUse { .. })
    ));
    // The user's files are where they were, unchanged.
    for (p, bytes) in &before {
        assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} was touched", p.display());
    }
    wait_outbox_settled(&env);
    let live = run_all(&env);
    let entry = &live.iter().find(|(c, _)| c == &["entry", E]).unwrap().1;
    assert_eq!(entry.code, Some(0), "{entry:?}");
    assert!(entry.stdout.contains(E) && entry.stdout.contains("Timeline:"), "{entry:?}");
    let remind = run(&env, &["deadlines", "--remind"]);
    assert_eq!(remind.code, Some(0), "{remind:?}");
    assert!(remind.stdout.ends_with("reminder(s) queued\n"), "{remind:?}");
    d.stop();

    let direct = run_all(&env);
    assert_same("reads", &live, &direct);

    // The same ingests on the same data dir started afresh, with no daemon: same outcomes.
    std::fs::remove_dir_all(env.data()).unwrap();
    let direct_pre = ingest(&env, "approved", std::slice::from_ref(&pre), &[]);
    let direct_broker = ingest(&env, "broker", &broker, &[]);
    let direct_json = ingest(&env, "broker", &broker[..2], &["--json"]);
    assert_eq!(live_pre, direct_pre);
    assert_eq!(live_broker, direct_broker);
    assert_eq!(live_json, direct_json);
    for (p, bytes) in &before {
        assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} was touched", p.display());
    }
    // And they made the same entries.
    for cmd in [vec!["entries", "--json"], vec!["entry", E, "--json"], vec!["variance", E, "--json"]] {
        let again = run(&env, &cmd);
        let first = &direct.iter().find(|(c, _)| c == &cmd).unwrap().1;
        assert_eq!(&again, first, "`entrywatch {}` after the direct ingest", cmd.join(" "));
    }
    assert!(!env.data().join("incoming").exists(), "the staging folder was left behind");
}

/// `--move`: the file goes into the data dir (archived), with the daemon running or not.
#[test]
fn ingest_move_removes_the_file_and_plain_ingest_keeps_it() {
    let env = daemon_env();
    let (pre, broker) = user_files(&env);
    let d = start(&env);
    let kept = ingest(&env, "approved", std::slice::from_ref(&pre), &[]);
    assert_eq!(kept.code, Some(0), "{kept:?}");
    assert!(pre.is_file(), "plain ingest removed the user's file");
    let moved = ingest(&env, "broker", &broker[..1], &["--move"]);
    assert_eq!(moved.code, Some(0), "{moved:?}\n{}", d.log_tail());
    assert!(!broker[0].exists(), "--move left the file with the daemon running");
    d.stop();
    let moved = ingest(&env, "broker", &broker[1..2], &["--move"]);
    assert_eq!(moved.code, Some(0), "{moved:?}");
    assert!(!broker[1].exists(), "--move left the file");
    let kept = ingest(&env, "broker", &broker[2..3], &[]);
    assert_eq!(kept.code, Some(0), "{kept:?}");
    assert!(broker[2].is_file(), "plain ingest removed the user's file");
    let archived = common::archived(&env.data());
    for p in &broker[..3] {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        assert!(archived.contains(&("broker".to_string(), name.clone())), "{name} not archived: {archived:?}");
    }
}

/// Held by a process that is not the daemon (here: this test), with no daemon to ask: one
/// clear error that says what was tried and what to do; exit 2.
#[test]
fn neither_store_nor_daemon_reachable_says_what_was_tried() {
    let env = daemon_env();
    std::fs::create_dir_all(env.data()).unwrap();
    let _held = entrywatch::store::Store::open(&env.data().join("store")).unwrap();
    for args in [vec!["entries"], vec!["entry", E, "--json"], vec!["report", "brokers"]] {
        let said = run(&env, &args);
        assert_eq!(said.code, Some(2), "{args:?}: {said:?}");
        assert_eq!(said.stdout, "", "{said:?}");
        let err = &said.stderr;
        assert!(err.starts_with("error: the entry store at ") && err.contains("in use"), "{err}");
        assert!(err.contains("no entrywatch daemon answered"), "{err}");
        let tried = env.data().join("entrywatch.sock");
        assert!(err.contains(&tried.display().to_string()), "the data dir's socket is not named: {err}");
        assert!(err.contains("/run/entrywatch/entrywatch.sock"), "{err}");
        assert!(err.contains("what to do:") && err.contains("usermod -aG entrywatch"), "{err}");
    }
    let f = env.root().join("a.abi");
    std::fs::write(&f, b"x").unwrap();
    let said = ingest(&env, "broker", std::slice::from_ref(&f), &[]);
    assert_eq!(said.code, Some(2), "{said:?}");
    assert!(said.stderr.contains("no entrywatch daemon answered"), "{said:?}");
    assert!(f.is_file());
}

/// A socket file left by a daemon that was killed is not "a daemon": it is named among the
/// places tried, and the next daemon replaces it.
#[test]
fn a_stale_socket_is_replaced_and_a_silent_client_does_not_stop_the_daemon() {
    let env = daemon_env();
    let sock = env.data().join("entrywatch.sock");
    let d = start(&env);
    assert!(sock.exists(), "no socket at {}", sock.display());
    d.kill();
    assert!(sock.exists(), "SIGKILL cannot remove the socket; the test needs it left behind");
    let d = start(&env);
    // For the daemon's user and group only.
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "socket mode {mode:o}");
    // A client that connects and sends nothing, and one that sends garbage.
    let silent = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let mut garbage = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    garbage.write_all(&[0xff, 0xff, 0xff, 0xff, b'{']).unwrap();
    let mut answer = Vec::new();
    garbage.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = garbage.read_to_end(&mut answer);
    assert_eq!(answer.first(), Some(&b'R'), "an oversized request is refused: {answer:?}");
    let said = run(&env, &["entries", "--json"]);
    assert_eq!(said, Said { code: Some(0), stdout: "[]\n".into(), stderr: String::new() });
    drop(silent);
    d.stop();
    assert!(!sock.exists(), "the socket outlived the daemon");
}

/// Under systemd (`RuntimeDirectory=entrywatch` sets `$RUNTIME_DIRECTORY`) the socket lives
/// there, and the data dir links to it: a user's shell, without that variable, still finds it.
#[test]
fn under_systemd_the_socket_is_in_the_runtime_directory_and_linked_from_the_data_dir() {
    let env = daemon_env();
    let rt = env.root().join("rt");
    std::fs::create_dir_all(&rt).unwrap();
    let d = RunningDaemon::start(
        &env.config(),
        &env.root().join("run.log"),
        &[("ENTRYWATCH_NOW", NOW), ("RUNTIME_DIRECTORY", rt.to_str().unwrap())],
    );
    let sock = rt.join("entrywatch.sock");
    let link = env.data().join("entrywatch.sock");
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o660);
    assert_eq!(std::fs::read_link(&link).unwrap(), sock);
    let said = run(&env, &["alerts", "--json"]);
    assert_eq!(said, Said { code: Some(0), stdout: "[]\n".into(), stderr: String::new() });
    d.stop();
    assert!(!sock.exists() && std::fs::symlink_metadata(&link).is_err(), "socket or link left behind");
}

/// At most 16 commands at once: the 17th client is told the daemon is busy (exit 2, no
/// output), and once the silent clients hang up, commands are answered again.
#[test]
fn too_many_clients_are_told_busy_and_the_daemon_recovers() {
    let env = daemon_env();
    let d = start(&env);
    let sock = env.data().join("entrywatch.sock");
    let silent: Vec<_> =
        (0..entrywatch::ipc::MAX_CLIENTS).map(|_| std::os::unix::net::UnixStream::connect(&sock).unwrap()).collect();
    // The daemon has accepted them all (each holds a place while it waits for a request).
    std::thread::sleep(Duration::from_millis(300));
    let said = run(&env, &["entries"]);
    assert_eq!(said.code, Some(2), "{said:?}");
    assert_eq!(said.stdout, "");
    assert!(said.stderr.contains("refused the command: busy"), "{said:?}");
    drop(silent);
    let ok = wait_until(Duration::from_secs(10), || run(&env, &["entries", "--json"]).code == Some(0));
    assert!(ok, "the daemon did not answer again after the clients left:\n{}", d.log_tail());
    d.stop();
}

/// Output larger than one frame (64 KiB) arrives whole and in order: 300 entries listed and
/// reported with the daemon running equal the same commands on the store.
#[test]
fn long_output_streams_whole_through_the_socket() {
    let env = daemon_env();
    let dir = env.root().join("many");
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = (0..300u32)
        .map(|k| {
            let p = dir.join(format!("ae-{k:03}.abi"));
            std::fs::write(&p, entrywatch::ingest::sample::ae("EEE", 2_000_000 + k, "A")).unwrap();
            p
        })
        .collect();
    let o = ingest(&env, "broker", &files, &["--move"]);
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let cmds: Vec<Vec<&str>> = vec![
        vec!["entries", "--json"],
        vec!["entries"],
        vec!["report", "entry-summary", "--format", "json"],
        vec!["deadlines", "--ics"],
    ];
    let d = start(&env);
    let live: Vec<Said> = cmds.iter().map(|c| run(&env, c)).collect();
    d.stop();
    let direct: Vec<Said> = cmds.iter().map(|c| run(&env, c)).collect();
    assert!(live[0].stdout.len() > 64 * 1024, "only {} bytes: not more than one frame", live[0].stdout.len());
    for ((c, a), b) in cmds.iter().zip(&live).zip(&direct) {
        assert_eq!(a.code, Some(0), "{c:?}: {}", a.stderr);
        assert!(a == b, "`entrywatch {}` differs between the daemon and the store", c.join(" "));
    }
}
