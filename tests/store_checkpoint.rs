//! The running daemon's store checkpoint (`[daemon] checkpoint-idle-secs`,
//! `checkpoint-after-mb`): the real binary closes and reopens its store in place when quiet,
//! keeps serving the CLI and the dashboard through it, and a SIGKILL after it loses nothing.

mod common;

use common::http::get_port;
use common::net::{free_port, wait_for_port};
use common::{archived, run_config_text, wait_until, RunningDaemon};
use common::{samples, Env, NOW};
use entrywatch::ingest::sample;
use std::time::Duration;

const E: &str = "EEE-1234567-3";

/// The sample life (approved pre-entry and broker files), the dashboard on a loopback port,
/// the store checkpointed after one quiet second.
fn checkpoint_env(port: u16) -> Env {
    let env = Env::new();
    let text = run_config_text(&env.data(), &env.inbox("broker"), &env.inbox("approved"), 0, 300)
        .replace("[daemon]\n", "[daemon]\ncheckpoint-idle-secs = 1\n")
        .replace("[dashboard]\nenabled = false\n", &format!("[dashboard]\nlisten = \"127.0.0.1:{port}\"\n"));
    std::fs::write(env.config(), text).unwrap();
    env
}

fn checkpoints(d: &RunningDaemon) -> usize {
    d.log_text().matches("StoreCheckpointed").count()
}

#[test]
fn the_daemon_checkpoints_when_quiet_keeps_serving_and_a_kill_after_loses_nothing() {
    let port = free_port();
    let env = checkpoint_env(port);
    let d = RunningDaemon::start(&env.config(), &env.root().join("run.log"), &[("ENTRYWATCH_NOW", NOW)]);
    assert!(wait_for_port(port, Duration::from_secs(10)), "the dashboard did not listen");
    // Nothing written yet: nothing to checkpoint.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(checkpoints(&d), 0, "a checkpoint with nothing written:\n{}", d.log_tail());

    let names = common::life_names();
    env.drop_file("approved", &names[0], &std::fs::read(samples().join(&names[0])).unwrap());
    for n in &names[1..] {
        env.drop_file("broker", n, &std::fs::read(samples().join(n)).unwrap());
        std::thread::sleep(Duration::from_millis(20));
    }
    let ok = wait_until(Duration::from_secs(60), || archived(&env.data()).len() == names.len());
    assert!(ok, "not every file archived:\n{}", d.log_tail());
    assert!(
        d.wait_log("StoreCheckpointed", Duration::from_secs(30)),
        "no checkpoint after a quiet second:\n{}",
        d.log_tail()
    );
    let line = d.log_text().lines().find(|l| l.contains("StoreCheckpointed")).unwrap_or_default().to_string();
    assert!(line.contains("reason=\"idle\"") || line.contains("reason=idle"), "{line}");
    // One checkpoint per quiet spell: nothing new written, no second one.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(checkpoints(&d), 1, "{}", d.log_tail());

    // The reopened store serves the CLI (over the daemon's socket) and the dashboard.
    let entry = env.entry_json(E);
    assert_eq!(entry["entry"], E, "{entry:#}");
    let (code, page) = get_port(port, &format!("/entries/{E}"));
    assert_eq!(code, 200, "{page}");
    assert!(page.contains(E));

    // A file after the checkpoint, then SIGKILL before the next one: nothing is lost.
    let other = sample::ae("EEE", 2222222, "A");
    env.drop_file("broker", "late-ae.abi", &other);
    let ok = wait_until(Duration::from_secs(30), || archived(&env.data()).iter().any(|(_, n)| n == "late-ae.abi"));
    assert!(ok, "the late file was not archived:\n{}", d.log_tail());
    d.kill();
    let late = sample::entry_display("EEE", 2222222);
    assert_eq!(env.entry_json(&late)["entry"], late.as_str());
    // The first entry as before, now related to the late one (same importer and HTS).
    let mut after = env.entry_json(E);
    let related = after.as_object_mut().unwrap().remove("related").unwrap_or_default().to_string();
    assert!(related.contains(&late), "{related}");
    let mut before = entry;
    before.as_object_mut().unwrap().remove("related");
    assert!(after == before, "the entry read after the kill differs:\n{after:#}\n{before:#}");
}

#[test]
fn a_checkpoint_is_due_after_a_quiet_spell_or_enough_written() {
    use entrywatch::cli::run::checkpoint_due;
    use entrywatch::store::Written;
    let cfg = entrywatch::config::Daemon { checkpoint_idle_secs: 60, checkpoint_after_mb: 64, ..Default::default() };
    let quiet = |s| Duration::from_secs(s);
    assert_eq!(checkpoint_due(Written::default(), quiet(3600), &cfg), None, "nothing written");
    let few = Written { commits: 3, bytes: 10_000 };
    assert_eq!(checkpoint_due(few, quiet(59), &cfg), None);
    assert_eq!(checkpoint_due(few, quiet(60), &cfg), Some("idle"));
    let much = Written { commits: 900, bytes: 64 << 20 };
    assert_eq!(checkpoint_due(much, quiet(0), &cfg), Some("written"));
    let never = entrywatch::config::Daemon { checkpoint_after_mb: 0, ..cfg };
    assert_eq!(checkpoint_due(much, quiet(0), &never), None, "0: only when quiet");
}

/// One `ingest` of a 3,000-entry file: with a checkpoint every MiB written (between its chunks
/// and batches) the store is the same as with none.
#[test]
fn checkpoints_between_the_chunks_of_a_large_file_change_nothing() {
    let mut file = Vec::new();
    for k in 0..3_000u32 {
        file.extend(sample::ae("EEE", 4_000_000 + k, "A"));
    }
    let mut dumps = Vec::new();
    for after_mb in [0, 1] {
        let env = Env::new();
        env.add_config(&format!("[daemon]\ncheckpoint-after-mb = {after_mb}\nstore-cache-mb = 8\n"));
        let f = env.root().join("big.abi");
        std::fs::write(&f, &file).unwrap();
        let o = env.ingest("broker", &[f]);
        common::ok(&o);
        let entries = env.entries();
        assert_eq!(entries.len(), 3_000);
        let some: Vec<serde_json::Value> =
            [0u32, 1_499, 2_999].iter().map(|k| env.entry_json(&sample::entry_display("EEE", 4_000_000 + k))).collect();
        dumps.push((some, env.json(&["entries", "--json"])));
    }
    assert!(dumps[0] == dumps[1], "the store differs with checkpoints between chunks");
}

/// The same 3,000-entry file through the pipeline, with `checkpoint-after-mb = 1` and with 0
/// (never): with it the store was checkpointed between chunks (what is written since the last
/// checkpoint is a fraction of the whole), and every entry is the same.
#[test]
fn the_pipeline_checkpoints_between_chunks_once_enough_is_written() {
    use entrywatch::clock::Clock;
    use entrywatch::config::Config;
    use entrywatch::grammar::Grammars;
    use entrywatch::ingest::{load_entry, Pipeline};
    let mut file = Vec::new();
    for k in 0..3_000u32 {
        file.extend(sample::ae("EEE", 5_000_000 + k, "A"));
    }
    let g = Grammars::embedded().unwrap();
    let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339(NOW).unwrap());
    let mut runs = Vec::new();
    for after_mb in [0u64, 1] {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("in");
        std::fs::create_dir_all(&inbox).unwrap();
        let cfg = Config::from_toml(
            &format!(
                "data-dir = {:?}\n[daemon]\ncheckpoint-after-mb = {after_mb}\n[[inbox]]\nname = \"b\"\npath = {inbox:?}\nrole = \"broker\"\n",
                dir.path().join("data")
            ),
            "test",
        )
        .unwrap();
        let p = Pipeline::open(&cfg, &g, clock).unwrap();
        let f = inbox.join("big.abi");
        std::fs::write(&f, &file).unwrap();
        for (_, r) in p.process_batch(cfg.inbox("b").unwrap(), &[f]) {
            r.unwrap();
        }
        let written = p.store().written().bytes;
        let some: Vec<_> = [0u32, 1_499, 2_999]
            .iter()
            .map(|k| {
                let en = sample::entry_display("EEE", 5_000_000 + k).parse().unwrap();
                load_entry(p.store(), &en).unwrap().expect("entry").1
            })
            .collect();
        runs.push((written, some, dir));
    }
    let (never, with) = (runs[0].0, runs[1].0);
    assert!(never > 4 << 20, "the file writes several MiB: {never}");
    assert!(with < never / 2, "checkpointed between chunks: {with} bytes since the last one, {never} in all");
    assert!(runs[0].1 == runs[1].1, "the entries differ with checkpoints between chunks");
}
