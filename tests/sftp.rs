//! Uploads through a real OpenSSH server (internal-sftp, chrooted when run as root) into a watched inbox: slow uploads, temp-name-then-rename, an upload cut off halfway, and the real `entrywatch run` storing uploads as `ingest` does.

mod common;

use common::daemon::*;
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SSHD: &str = "/usr/sbin/sshd";
const USER: &str = "ewsftp";

/// Creating the system user is done once at a time (the tests run in parallel).
static USER_SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A folder whose every ancestor is root-owned and not writable by group or others (what
/// sshd demands of a ChrootDirectory).
fn chroot_base() -> PathBuf {
    let target_tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let safe = |p: &Path| {
        p.ancestors().all(|a| std::fs::metadata(a).map(|m| m.uid() == 0 && m.mode() & 0o022 == 0).unwrap_or(false))
    };
    if std::fs::create_dir_all(&target_tmp).is_ok() && safe(&target_tmp) {
        return target_tmp;
    }
    let srv = PathBuf::from("/srv/entrywatch-sftp-test");
    std::fs::create_dir_all(&srv).unwrap();
    std::fs::set_permissions(&srv, std::fs::Permissions::from_mode(0o755)).unwrap();
    srv
}

struct Sshd {
    child: Child,
    port: u16,
    key: PathBuf,
    user: String,
    /// The upload folder as the client names it.
    remote_dir: String,
    log: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    /// Start sshd on a free loopback port, with an sftp-only user whose uploads land in `inbox`.
    fn start(dir: &Path, chroot: &Path, inbox: &Path) -> Sshd {
        let root = is_root();
        let user = if root {
            let _guard = USER_SETUP.lock().unwrap_or_else(|e| e.into_inner());
            if Command::new("getent").args(["passwd", USER]).output().map(|o| !o.status.success()).unwrap_or(true) {
                run(Command::new("useradd").args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    USER,
                ]));
            }
            // Without PAM, sshd refuses accounts whose password field starts with '!'.
            run(Command::new("usermod").args(["-p", "*", USER]));
            std::fs::create_dir_all("/run/sshd").unwrap();
            USER.to_string()
        } else {
            String::from_utf8_lossy(&run(Command::new("id").arg("-un")).stdout).trim().to_string()
        };
        let host_key = dir.join("host_key");
        let key = dir.join("client_key");
        for k in [&host_key, &key] {
            run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(k));
        }
        let auth = dir.join("authorized_keys");
        std::fs::copy(key.with_extension("pub"), &auth).unwrap();
        let port = common::net::free_port();
        let remote_dir = upload_folder(chroot, inbox);
        let chroot_lines = if root {
            std::fs::set_permissions(chroot, std::fs::Permissions::from_mode(0o755)).unwrap();
            format!("    ChrootDirectory {}\n", chroot.display())
        } else {
            String::new()
        };
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile none\nUsePAM no\nStrictModes no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 AuthorizedKeysFile {}\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n\
                 Match User {user}\n{chroot_lines}    ForceCommand internal-sftp\n    AllowTcpForwarding no\n    X11Forwarding no\n",
                host_key.display(),
                auth.display()
            ),
        )
        .unwrap();
        let log = dir.join("sshd.log");
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let s = Sshd { child, port, key, user, remote_dir, log };
        assert!(
            common::net::wait_for_port(port, Duration::from_secs(10)),
            "sshd did not listen: {}",
            std::fs::read_to_string(&s.log).unwrap_or_default()
        );
        s
    }

    /// `sftp -b` with the batch commands; `limit_kbit` rate-limits the transfer.
    fn sftp(&self, batch: &str, limit_kbit: Option<u32>) -> Command {
        let file = self.key.with_file_name(format!("batch-{}", Instant::now().elapsed().as_nanos() ^ rand_suffix()));
        std::fs::write(&file, batch).unwrap();
        let mut c = Command::new("sftp");
        c.arg("-b").arg(&file).arg("-i").arg(&self.key).arg("-P").arg(self.port.to_string());
        for o in [
            "StrictHostKeyChecking=no",
            "UserKnownHostsFile=/dev/null",
            "BatchMode=yes",
            "IdentitiesOnly=yes",
            "LogLevel=ERROR",
        ] {
            c.arg("-o").arg(o);
        }
        if let Some(l) = limit_kbit {
            // One outstanding 16 KB request at a time, so the limit spaces the writes out
            // (with the default 64 pipelined requests the server writes a small file at once).
            c.arg("-l").arg(l.to_string()).args(["-R", "1", "-B", "16384"]);
        }
        c.arg(format!("{}@127.0.0.1", self.user)).stdout(Stdio::null()).stderr(Stdio::piped());
        c
    }

    fn sshd_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Make `dir` (inside the chroot) an upload folder of the sftp user, and return its path as
/// the client names it. As root the chroot is root-owned and the upload folder inside it
/// belongs to the broker user.
fn upload_folder(chroot: &Path, dir: &Path) -> String {
    if is_root() {
        run(Command::new("chown").arg(format!("{USER}:{USER}")).arg(dir));
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o775)).unwrap();
        format!("/{}", dir.strip_prefix(chroot).unwrap().display())
    } else {
        dir.display().to_string()
    }
}

/// OpenSSH server and client (scripts/test installs them), through [`common::require`].
fn have_openssh() -> bool {
    let have = Path::new(SSHD).exists() && Command::new("sftp").arg("-h").output().is_ok();
    common::require(
        have,
        "OpenSSH server/client not installed (scripts/test installs openssh-server and openssh-client)",
    )
}

fn rand_suffix() -> u128 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u128
}

#[test]
fn sftp_uploads_are_picked_up_whole_and_once() {
    if !have_openssh() {
        return;
    }
    let base = chroot_base();
    let dir = tempfile::Builder::new().prefix("ew-sftp").tempdir_in(&base).unwrap();
    let chroot = dir.path().join("chroot");
    let inbox = chroot.join("in");
    std::fs::create_dir_all(&inbox).unwrap();
    let handler_root = dir.path().join("handler");
    let sshd = Sshd::start(dir.path(), &chroot, &inbox);

    // The daemon, in this process: settle 1 s, grace 4 s for incomplete envelopes.
    let config_path = dir.path().join("entrywatch.toml");
    std::fs::write(&config_path, config_text(&dir.path().join("data"), &[("eee", &inbox)], 1, 4, 3600)).unwrap();
    let (cfg, source) = entrywatch::config::Config::discover(Some(&config_path)).unwrap();
    let handler = Arc::new(LogHandler::new(&handler_root, Duration::ZERO).unwrap());
    let daemon = entrywatch::daemon::Daemon::new(cfg, source, handler).without_signals();
    let control = daemon.controller();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let daemon = daemon.on_ready(ready_tx);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let runner = std::thread::spawn(move || rt.block_on(daemon.run()));
    ready_rx.blocking_recv().unwrap();

    let local = dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let logged = |name: &str| read_log(&handler_root).into_iter().filter(|l| l.name == name).collect::<Vec<_>>();
    let remote = &sshd.remote_dir;

    // 1. Slow uploads (64 KB at 64 kbit/s in 16 KB writes, ~8 s: the file
    //    stops growing for seconds at a time — longer than settle-secs): not picked up before
    //    they are complete. One X12 file (the envelope check also holds it) and one file of no
    //    known format (only the write inotify saw open holds it), uploaded side by side.
    let x12 = x12_of_size(64_000, "slow");
    let plain: Vec<u8> = (0..64_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(local.join("slow.x12"), &x12).unwrap();
    std::fs::write(local.join("slow.dat"), &plain).unwrap();
    let clients: Vec<_> = ["slow.x12", "slow.dat"]
        .iter()
        .map(|n| sshd.sftp(&format!("put {} {remote}/{n}\n", local.join(n).display()), Some(64)).spawn().unwrap())
        .collect();
    for c in clients {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "sftp: {}\nsshd: {}", String::from_utf8_lossy(&out.stderr), sshd.sshd_log());
    }
    for (name, bytes) in [("slow.x12", &x12), ("slow.dat", &plain)] {
        assert!(wait_until(Duration::from_secs(15), || !logged(name).is_empty()), "{name} never picked up");
        let l = logged(name);
        assert_eq!(l.len(), 1, "{name} picked up {} times", l.len());
        assert_eq!(
            l[0].sha,
            sha256_hex(bytes),
            "{name} picked up before the upload completed ({} of {} bytes)",
            l[0].len,
            bytes.len()
        );
    }

    // 2. Upload under a temporary name, then rename: picked up once, whole, under the final name.
    let body = x12_of_size(20_000, "renamed");
    std::fs::write(local.join("r.x12"), &body).unwrap();
    let out = sshd
        .sftp(
            &format!(
                "put {} {remote}/upload.x12.part\nrename {remote}/upload.x12.part {remote}/final.x12\n",
                local.join("r.x12").display()
            ),
            None,
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "sftp: {}", String::from_utf8_lossy(&out.stderr));
    assert!(wait_until(Duration::from_secs(10), || !logged("final.x12").is_empty()), "final.x12 never picked up");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(logged("final.x12").len(), 1);
    assert_eq!(logged("final.x12")[0].sha, sha256_hex(&body));
    assert!(logged("upload.x12.part").is_empty(), "the temporary name was picked up");

    // 3. An upload cut off halfway (the client killed): OpenSSH closes the file under its final
    //    name. It is not processed as whole: it waits out the grace (4 s), then goes to the
    //    handler flagged truncated.
    let big = x12_of_size(400_000, "cut");
    std::fs::write(local.join("cut.x12"), &big).unwrap();
    let mut client =
        sshd.sftp(&format!("put {} {remote}/cut.x12\n", local.join("cut.x12").display()), Some(400)).spawn().unwrap();
    let remote_file = inbox.join("cut.x12");
    assert!(
        wait_until(Duration::from_secs(10), || std::fs::metadata(&remote_file)
            .map(|m| m.len() > 60_000)
            .unwrap_or(false)),
        "the upload did not start"
    );
    client.kill().unwrap();
    let _ = client.wait();
    let cut_at = Instant::now();
    // The server side closes the file once it sees the connection drop.
    std::thread::sleep(Duration::from_millis(1000));
    let size = std::fs::metadata(&remote_file).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0 && size < big.len() as u64, "expected a partial file, found {size} of {} bytes", big.len());
    // Settled (1 s) but incomplete: still waiting within the grace.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(logged("cut.x12").is_empty(), "the cut upload was handed over before the grace ran out");
    assert!(wait_until(Duration::from_secs(15), || !logged("cut.x12").is_empty()), "cut.x12 never handed over");
    assert!(
        cut_at.elapsed() >= Duration::from_secs(4),
        "handed over after {:?}, before the 4 s grace",
        cut_at.elapsed()
    );
    let l = logged("cut.x12");
    assert_eq!(l.len(), 1);
    assert!(l[0].truncated, "not flagged truncated");
    assert!(l[0].len < big.len() as u64 && l[0].sha != sha256_hex(&big));

    control.shutdown();
    runner.join().unwrap().unwrap();
    // Nothing else was processed, nothing is left.
    assert_eq!(read_log(&handler_root).len(), 4, "{:?}", read_log(&handler_root));
    assert_eq!(std::fs::read_dir(&inbox).unwrap().count(), 0);
}

/// `entry --json` / `entries --json` of the store a config names.
fn query(config: &Path, args: &[&str]) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("ENTRYWATCH_NOW", common::NOW)
        .env_remove("ENTRYWATCH_CONFIG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The real daemon (`entrywatch run`, the ingest pipeline, sled) behind a real sshd: the
/// approved pre-entry uploaded to the approved inbox and the rest of the entry's life to the
/// broker inbox with `sftp -b`; the stored entry equals what `ingest` makes of the same files.
#[test]
fn sftp_uploads_into_entrywatch_run_equal_ingest() {
    if !have_openssh() {
        return;
    }
    let base = chroot_base();
    let dir = tempfile::Builder::new().prefix("ew-sftp-run").tempdir_in(&base).unwrap();
    let chroot = dir.path().join("chroot");
    let broker = chroot.join("in");
    let approved = chroot.join("approved");
    for d in [&broker, &approved] {
        std::fs::create_dir_all(d).unwrap();
    }
    let sshd = Sshd::start(dir.path(), &chroot, &broker);
    let approved_remote = upload_folder(&chroot, &approved);
    let config = dir.path().join("entrywatch.toml");
    std::fs::write(&config, run_config_text(&dir.path().join("data"), &broker, &approved, 1, 300)).unwrap();
    let d = RunningDaemon::start(&config, &dir.path().join("run.log"), &[("ENTRYWATCH_NOW", common::NOW)]);

    // The life samples, uploaded one after the other in one sftp session.
    let life = common::life_names();
    let local = dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let mut batch = String::new();
    for (i, n) in life.iter().enumerate() {
        std::fs::copy(common::samples().join(n), local.join(n)).unwrap();
        let to = if i == 0 { &approved_remote } else { &sshd.remote_dir };
        batch.push_str(&format!("put {} {to}/{n}\n", local.join(n).display()));
    }
    let out = sshd.sftp(&batch, None).output().unwrap();
    assert!(out.status.success(), "sftp: {}\nsshd: {}", String::from_utf8_lossy(&out.stderr), sshd.sshd_log());
    let want: Vec<(String, String)> = life
        .iter()
        .enumerate()
        .map(|(i, n)| ((if i == 0 { "approved" } else { "broker" }).to_string(), n.clone()))
        .collect();
    let data = dir.path().join("data");
    let done = wait_until(Duration::from_secs(30), || {
        let have = archived(&data);
        want.iter().all(|w| have.contains(w))
    });
    assert!(done, "uploads not archived within 30 s: {:?}\n{}", archived(&data), d.log_tail());
    d.stop();
    assert!(names_in(&broker).is_empty() && names_in(&approved).is_empty(), "uploads left in the inboxes");
    assert!(files_under(&data.join("work")).is_empty() && files_under(&data.join("quarantine")).is_empty());

    // The same files through `ingest` into another data dir.
    let r = common::Env::new();
    for (inbox, names) in [("approved", &life[..1]), ("broker", &life[1..])] {
        let paths: Vec<PathBuf> =
            names.iter().map(|n| r.drop_file(inbox, n, &std::fs::read(common::samples().join(n)).unwrap())).collect();
        let o = r.ingest(inbox, &paths);
        assert!(o.status.success(), "ingest: {}", String::from_utf8_lossy(&o.stderr));
    }
    let e = "EEE-1234567-3";
    let ours = query(&config, &["entry", e, "--json"]);
    assert_eq!(ours["release"]["status"], "released", "{ours:#}");
    assert_eq!(ours["variance"]["status"], r.entry_json(e)["variance"]["status"]);
    assert_ne!(ours["variance"]["status"], "no-pre-entry", "the uploaded pre-entry was not matched");
    assert_eq!(ours, r.entry_json(e), "entry --json differs between the uploads and ingest");
    assert_eq!(query(&config, &["entries", "--json"]), query(&r.config(), &["entries", "--json"]));
}
