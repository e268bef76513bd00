//! Hostile conditions against the real daemon (`entrywatch run` as a child process, loopback
//! only): files that fail after their claim are retried without a restart and `/healthz` says
//! so meanwhile; symbolic links and non-UTF-8 names in a watched inbox; idle, slow and many
//! dashboard connections; a dashboard port taken and a mailer without its password stop the
//! daemon with a non-zero exit; file names cannot forge log lines.

mod common;

use common::daemon::*;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-02-20T09:00:00-05:00";

fn sample_350() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/x12/350-holds-exam-release.x12")).unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    port: u16,
}

impl Setup {
    /// A data dir, a `broker` inbox and the dashboard on a free loopback port.
    fn new(extra: &str) -> Setup {
        Setup::on_port(extra, common::net::free_port())
    }
    /// The daemon's dashboard on `port`.
    fn on_port(extra: &str, port: u16) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("in")).unwrap();
        let cfg = format!(
            "data-dir = {:?}\n[daemon]\nrescan-secs = 1\n[dashboard]\nlisten = \"127.0.0.1:{port}\"\n\
             [[inbox]]\nname = \"broker\"\npath = {:?}\nrole = \"broker\"\nsettle-secs = 1\ntruncated-grace-secs = 2\n{extra}",
            root.join("data").display().to_string(),
            root.join("in").display().to_string(),
        );
        std::fs::write(root.join("ew.toml"), cfg).unwrap();
        Setup { _dir: dir, root, port }
    }
    fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    fn inbox(&self) -> PathBuf {
        self.root.join("in")
    }
    fn start(&self, env: &[(&str, &str)]) -> RunningDaemon {
        let mut all = vec![("ENTRYWATCH_NOW", NOW)];
        all.extend_from_slice(env);
        let d = RunningDaemon::start(&self.root.join("ew.toml"), &self.root.join("daemon.log"), &all);
        let up = wait_until(Duration::from_secs(20), || d.log_text().contains("DashboardListening"));
        assert!(up, "the dashboard did not start:\n{}", d.log_tail());
        d
    }
    /// GET a path on the dashboard: (status, body).
    fn get(&self, path: &str) -> (u16, String) {
        common::http::get_port(self.port, path)
    }
}

#[test]
fn files_that_fail_after_their_claim_are_retried_without_a_restart() {
    let s = Setup::new("");
    // The day's archive folder cannot be made (a file stands where the year folder goes), and
    // neither can the quarantine folder: a good file is committed but cannot be archived, a bad
    // file cannot be quarantined. Both are claimed into work/ first.
    std::fs::create_dir_all(s.data().join("archive")).unwrap();
    std::fs::write(s.data().join("archive/2026"), b"in the way").unwrap();
    std::fs::create_dir_all(s.data().join("quarantine")).unwrap();
    std::fs::write(s.data().join("quarantine/broker"), b"in the way").unwrap();
    let d = s.start(&[("ENTRYWATCH_RETRY_SECS", "1")]);
    std::fs::write(s.inbox().join("good.x12"), sample_350()).unwrap();
    std::fs::write(s.inbox().join("bad.txt"), b"not a customs file\n").unwrap();
    let work = s.data().join("work/broker");
    let stuck = wait_until(Duration::from_secs(20), || names_in(&work).len() == 2 && names_in(&s.inbox()).is_empty());
    assert!(stuck, "both claimed and held: work {:?}\n{}", names_in(&work), d.log_tail());
    let failing = wait_until(Duration::from_secs(10), || s.get("/healthz").0 == 503);
    assert!(failing, "/healthz reports the stuck files: {:?}", s.get("/healthz"));
    assert!(s.get("/healthz").1.contains("inbox broker"), "{:?}", s.get("/healthz"));
    // Still stuck a few retries later, and retried: the log says so.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(names_in(&work).len(), 2);
    assert!(d.log_text().contains("ClaimedRetryScheduled"), "{}", d.log_tail());
    // Space (here: the folders) comes back: both finish without a restart.
    std::fs::remove_file(s.data().join("archive/2026")).unwrap();
    std::fs::remove_file(s.data().join("quarantine/broker")).unwrap();
    let done = wait_until(Duration::from_secs(30), || names_in(&work).is_empty());
    assert!(done, "work/ emptied: {:?}\n{}", names_in(&work), d.log_tail());
    assert!(archived(&s.data()).iter().any(|(_, n)| n == "good.x12"), "{:?}", archived(&s.data()));
    assert!(names_in(&s.data().join("quarantine/broker")).contains(&"bad.txt.error.txt".to_string()));
    assert!(wait_until(Duration::from_secs(10), || s.get("/healthz") == (200, "ok\n".to_string())));
    d.stop();
}

#[test]
fn links_and_names_that_are_not_utf8_in_a_watched_inbox() {
    let s = Setup::new("");
    let d = s.start(&[]);
    let outside = s.root.join("outside.x12");
    std::fs::write(&outside, sample_350()).unwrap();
    std::os::unix::fs::symlink(&outside, s.inbox().join("link.x12")).unwrap();
    let odd: PathBuf = s.inbox().join(std::ffi::OsStr::from_bytes(b"odd-\xff.txt"));
    std::fs::write(&odd, b"not a customs file either\n").unwrap();
    let q = s.data().join("quarantine/broker");
    let both = wait_until(Duration::from_secs(20), || names_in(&q).len() == 4);
    assert!(both, "quarantine: {:?}\n{}", names_in(&q), d.log_tail());
    assert!(std::fs::symlink_metadata(q.join("link.x12")).unwrap().file_type().is_symlink());
    assert!(names_in(&q).contains(&"odd-\u{FFFD}.txt".to_string()), "{:?}", names_in(&q));
    assert!(archived(&s.data()).is_empty(), "the link's target was not ingested");
    assert!(outside.exists());
    assert!(d.log_text().contains("FileNameNotUtf8"), "{}", d.log_tail());
    d.stop();
}

#[test]
fn file_names_and_narratives_cannot_forge_logs_pages_or_mails() {
    let s =
        Setup::new("[[route]]\nto = [\"c@example.com\"]\ncategories = [\"disposition\"]\nmin-severity = \"info\"\n");
    // A 350 names no importer and no filing follows here: do not hold its alerts long.
    let d = s.start(&[("ENTRYWATCH_ALERT_SETTLE_SECS", "1")]);
    let name = "x\nINFO FileIngested file=forged \u{1b}[2J\u{202e}txt.exe";
    std::fs::write(s.inbox().join(name), b"junk\n").unwrap();
    let q = s.data().join("quarantine/broker");
    assert!(wait_until(Duration::from_secs(20), || names_in(&q).len() == 2), "{}", d.log_tail());
    let escaped = "x\\nINFO FileIngested file=forged \\u{1b}[2J\\u{202e}txt.exe";
    assert!(wait_until(Duration::from_secs(10), || d.log_text().contains("FileHandled")), "{}", d.log_tail());
    let log = d.log_text();
    assert!(!log.lines().any(|l| l.starts_with("INFO FileIngested")), "a forged line:\n{log}");
    assert!(!log.contains('\u{1b}') && !log.contains('\u{202e}'), "raw controls in the log");
    assert!(log.contains(escaped), "{log}");
    // A narrative with a bidi override (the X12 reader refuses NUL and ESC in elements; the
    // renderers' unit tests cover those): the dashboard and the mail show it escaped.
    let evil =
        String::from_utf8(sample_350()).unwrap().replace("K1*INTENSIVE EXAM REQUIRED", "K1*EXAM RED \u{202e}fdp.exe");
    std::fs::write(s.inbox().join("evil.x12"), evil).unwrap();
    assert!(wait_until(Duration::from_secs(20), || !archived(&s.data()).is_empty()), "{}", d.log_tail());
    let (status, page) = s.get("/entries/EEE-1234567-3");
    assert_eq!(status, 200);
    assert!(page.contains("EXAM RED \\u{202e}fdp.exe"), "the narrative, escaped");
    assert!(!page.contains('\u{1b}') && !page.contains('\u{202e}') && !page.contains('\u{0}'));
    let mail = s.data().join("mail");
    assert!(wait_until(Duration::from_secs(10), || !names_in(&mail).is_empty()), "mails written");
    assert!(
        wait_until(Duration::from_secs(10), || names_in(&mail).iter().any(|n| {
            let m = std::fs::read_to_string(mail.join(n)).unwrap_or_default();
            m.contains("fdp.exe")
        })),
        "{:?}",
        names_in(&mail)
    );
    for n in names_in(&mail) {
        let m = std::fs::read(mail.join(n)).unwrap();
        assert!(!m.windows(3).any(|w| w == "\u{202e}".as_bytes()) && !m.contains(&0x1b), "raw controls in a mail");
    }
    d.stop();
}

#[test]
fn the_dashboard_closes_idle_and_slow_connections_and_bounds_them() {
    let s = Setup::new("");
    // 8 connections at most, 1 s idle, 3 s to finish reading.
    let d = s.start(&[("ENTRYWATCH_WEB_LIMITS", "8,1,3")]);
    let open: Vec<TcpStream> = (0..40)
        .filter_map(|_| TcpStream::connect_timeout(&([127, 0, 0, 1], s.port).into(), Duration::from_secs(2)).ok())
        .collect();
    assert!(open.len() >= 8, "connections opened: {}", open.len());
    // The idle ones are closed and the dashboard keeps answering.
    let t = Instant::now();
    let (status, body) = s.get("/healthz");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(t.elapsed() < Duration::from_secs(15), "answered after {:?}", t.elapsed());
    for mut c in open.into_iter().take(8) {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        let n = c.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "an idle connection was closed by the server");
    }
    // A client that sends its request a byte at a time is cut off after 3 s.
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let started = Instant::now();
    let mut closed = false;
    for b in
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            .iter()
    {
        if slow.write_all(&[*b]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
        if started.elapsed() > Duration::from_secs(12) {
            break;
        }
    }
    if !closed {
        slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 64];
        closed = matches!(slow.read(&mut buf), Ok(0) | Err(_));
    }
    assert!(closed, "the slow client was not cut off");
    assert!(started.elapsed() < Duration::from_secs(12), "cut off after {:?}", started.elapsed());
    d.stop();
}

/// Run the daemon expecting it to stop by itself; returns (exit code, log).
fn run_until_exit(s: &Setup) -> (Option<i32>, String) {
    let log = s.root.join("exit.log");
    let err = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_entrywatch"))
        .args(["run", "--config"])
        .arg(s.root.join("ew.toml"))
        .env("ENTRYWATCH_NOW", NOW)
        .env("RUST_LOG", "info")
        .env_remove("ENTRYWATCH_CONFIG")
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (code, std::fs::read_to_string(&log).unwrap_or_default())
}

#[test]
fn a_dashboard_port_taken_stops_the_daemon_with_a_failure() {
    // The port is taken first (by the kernel's choice), so no other test can hold it.
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let s = Setup::on_port("", taken.local_addr().unwrap().port());
    let (code, log) = run_until_exit(&s);
    assert_eq!(code, Some(2), "exit code; log:\n{log}");
    assert!(log.contains("DashboardFailed") && log.contains("DaemonFailed"), "{log}");
}

#[test]
fn a_mailer_without_its_password_stops_the_daemon_with_a_failure() {
    let s = Setup::new(&format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"ew <ew@example.com>\"\nusername = \"ew\"\npassword-file = {:?}\n",
        common::net::free_port(),
        "/nonexistent/entrywatch-smtp-password"
    ));
    let (code, log) = run_until_exit(&s);
    assert_eq!(code, Some(2), "exit code; log:\n{log}");
    assert!(log.contains("mailer"), "{log}");
}

#[test]
fn the_unit_raises_the_descriptor_limit_above_the_dashboard_connections() {
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/entrywatch.service")).unwrap();
    let limit: u64 = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("LimitNOFILE="))
        .and_then(|v| v.trim().parse().ok())
        .expect("LimitNOFILE= in the unit");
    let web = entrywatch::web::limits::Limits::default().max_connections as u64;
    assert!(limit >= 16 * web, "LimitNOFILE={limit} leaves too little beside {web} dashboard connections");
}

/// Every mail the SMTP server accepted, as (recipients, subject), counted.
fn mails_by_subject(server: &common::smtp::Server) -> std::collections::BTreeMap<(String, String), usize> {
    let mut out = std::collections::BTreeMap::new();
    for m in server.received() {
        let subject = common::smtp::headers(&m.data)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("subject"))
            .map(|(_, v)| v)
            .unwrap_or_default();
        *out.entry((m.rcpt_tos.join(","), subject)).or_insert(0) += 1;
    }
    out
}

#[test]
fn files_in_any_order_through_the_daemon_send_the_same_mails() {
    // An entry's life (filed, accepted, exam, FDA hold, released) dropped one file at a time
    // into the watched inbox, in the clean order and in orders where CBP's messages come
    // before the filing they answer. Real SMTP; the deadline scheduler and the no-release
    // check run after every commit, as they do in service.
    let files = [
        "life-01-ae-filed.abi",
        "life-02-ax-accepted.abi",
        "life-03-so-exam.abi",
        "life-04-so-fda-hold.abi",
        "life-06-so-released.abi",
    ];
    let orders: [[usize; 5]; 3] = [[0, 1, 2, 3, 4], [2, 3, 4, 1, 0], [1, 4, 0, 3, 2]];
    // Each order in its own data dir, daemon and SMTP server, the three at once (one after
    // another they took 80 s).
    let run_order = |order: [usize; 5]| {
        let smtp_port = common::smtp::free_port();
        let s = Setup::new(&format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nfrom = \"ew <ew@example.com>\"\ntimeout-secs = 5\n\
             [alerts]\nno-release-days = 1\n\
             [[route]]\nto = [\"c@example.com\"]\ncategories = [\"disposition\", \"rejection\", \"variance\", \"deadline\", \"statement\", \"liquidation\"]\nmin-severity = \"info\"\n"
        ));
        let server = common::smtp::Server::start(smtp_port, &s.root.join("smtp"), &[])?;
        // The scheduler passes after every file (not at most every 30 s); an entry's facts
        // count as settled 8 s after its last file (the default is 2 minutes).
        let d = s.start(&[("ENTRYWATCH_SCHEDULER_WAKE_SECS", "0"), ("ENTRYWATCH_ALERT_SETTLE_SECS", "8")]);
        for (n, i) in order.iter().enumerate() {
            let bytes =
                std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/abi").join(files[*i])).unwrap();
            std::fs::write(s.inbox().join(files[*i]), bytes).unwrap();
            let done = wait_until(Duration::from_secs(20), || archived(&s.data()).len() == n + 1);
            assert!(done, "{} not archived in order {order:?}:\n{}", files[*i], d.log_tail());
            // The scheduler and the mailer look at this state before the next file lands.
            std::thread::sleep(Duration::from_millis(1500));
        }
        // The entry settles (8 s after its last file), the scheduler's reminder follows; then
        // let the mailer drain: the count stops moving.
        std::thread::sleep(Duration::from_secs(10));
        let reminded = wait_until(Duration::from_secs(60), || {
            mails_by_subject(&server).keys().any(|(_, subject)| subject.contains("REMINDER"))
        });
        assert!(reminded, "the scheduler's reminder in order {order:?}:\n{}", d.log_tail());
        let mut last = usize::MAX;
        let settled = wait_until(Duration::from_secs(30), || {
            std::thread::sleep(Duration::from_millis(1500));
            let now = server.received().len();
            let same = now == last && now > 0;
            last = now;
            same
        });
        assert!(settled, "mail did not settle:\n{}", d.log_tail());
        d.stop();
        let m = mails_by_subject(&server);
        assert!(m.values().all(|&n| n == 1), "a mail twice in order {order:?}: {m:#?}");
        assert!(m.keys().any(|(_, s)| s.contains("REMINDER")), "the scheduler ran: {m:#?}");
        assert!(m.keys().all(|(_, s)| s.contains("(12-345678900)")), "every mail names the importer: {m:#?}");
        Some((order, m))
    };
    let runs: Vec<Option<_>> = std::thread::scope(|sc| {
        let handles: Vec<_> = orders.into_iter().map(|order| sc.spawn(move || run_order(order))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    let Some(seen) = runs.into_iter().collect::<Option<Vec<_>>>() else { return };
    for (order, m) in &seen[1..] {
        assert_eq!(m, &seen[0].1, "order {order:?} against the clean order {:?}", seen[0].0);
    }
}

/// Runs `cmd args` and says whether it succeeded.
fn sh(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// A small tmpfs mounted at `at` for the life of the value, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mount one, or say why it cannot be done here. Under CI the test must not skip.
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        std::fs::create_dir_all(at).unwrap();
        let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
        if !is_root {
            return Err("not root: mounting a tmpfs needs root (CI runs the tests as root)".into());
        }
        let opt = format!("size={size}");
        if !sh("mount", &["-t", "tmpfs", "-o", &opt, "tmpfs", &at.display().to_string()]) {
            return Err(format!("mount -t tmpfs -o {opt} failed (no CAP_SYS_ADMIN in this container?)"));
        }
        Ok(Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // The daemon may still hold files open when a failed assertion unwinds: lazy unmount.
        let _ = sh("umount", &["-l", &self.0.display().to_string()]);
    }
}

/// Fill the filesystem of `dir` with one file until a write fails (ENOSPC); returns its path.
fn fill(dir: &Path) -> PathBuf {
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let block = vec![0xA5u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    // The last partial block: byte by byte until nothing fits.
    while f.write_all(&[0]).is_ok() {}
    let _ = f.flush();
    p
}

/// Append to the filler until the filesystem is full again.
fn top_up(filler: &Path) {
    let mut f = std::fs::OpenOptions::new().append(true).open(filler).unwrap();
    let block = vec![0x5Au8; 4096];
    while f.write_all(&block).is_ok() {}
    while f.write_all(&[0]).is_ok() {}
}

#[test]
fn a_full_disk_is_reported_loses_nothing_and_the_file_is_applied_once_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    let _fs = match Tmpfs::mount(&mnt, "24m") {
        Ok(fs) => fs,
        Err(why) => {
            common::require(false, &why);
            return;
        }
    };
    // The data dir on the small tmpfs, its inbox beside the data dir's own folders (the same
    // filesystem: the claim is a rename, the store write is the first thing that needs space).
    let data = mnt.join("data");
    let inbox = data.join("inbox/broker");
    std::fs::create_dir_all(&inbox).unwrap();
    let staged = mnt.join("staged.x12");
    std::fs::write(&staged, sample_350()).unwrap();
    let port = common::net::free_port();
    let cfg = format!(
        "data-dir = {:?}\n[daemon]\nrescan-secs = 1\n[dashboard]\nlisten = \"127.0.0.1:{port}\"\n\
         [[inbox]]\nname = \"broker\"\npath = {:?}\nrole = \"broker\"\nsettle-secs = 1\ntruncated-grace-secs = 2\n",
        data.display().to_string(),
        inbox.display().to_string(),
    );
    std::fs::write(dir.path().join("ew.toml"), &cfg).unwrap();
    let s = Setup { _dir: tempfile::tempdir().unwrap(), root: dir.path().to_path_buf(), port };
    let d = s.start(&[("ENTRYWATCH_RETRY_SECS", "1")]);
    assert_eq!(s.get("/healthz"), (200, "ok\n".to_string()));
    let filler = fill(&mnt);
    std::fs::rename(&staged, inbox.join("hold.x12")).unwrap();
    // The daemon cannot commit: /healthz says so, the file is held (inbox or work/), nothing
    // archived. The disk is kept full meanwhile (whatever the daemon frees is taken again).
    let mut d = d;
    let failing = wait_until(Duration::from_secs(30), || {
        top_up(&filler);
        assert!(d.child.try_wait().unwrap().is_none(), "the daemon stopped while the disk was full:\n{}", d.log_tail());
        s.get("/healthz").0 == 503
    });
    assert!(failing, "/healthz while the disk is full: {:?}\n{}", s.get("/healthz"), d.log_tail());
    let held = || names_in(&inbox).len() + names_in(&data.join("work/broker")).len();
    for _ in 0..6 {
        top_up(&filler);
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(d.child.try_wait().unwrap().is_none(), "the daemon stopped while the disk was full:\n{}", d.log_tail());
    assert_eq!(
        held(),
        1,
        "the file is kept: inbox {:?}, work {:?}",
        names_in(&inbox),
        names_in(&data.join("work/broker"))
    );
    assert!(archived(&data).is_empty(), "{:?}", archived(&data));
    // Space returns. The store's engine keeps a failed write for the life of the process, so
    // the daemon stops by itself with a failure (exit 2) and systemd (`Restart=on-failure`)
    // starts it again: here the test does what systemd does.
    std::fs::remove_file(&filler).unwrap();
    let exited = wait_until(Duration::from_secs(30), || d.child.try_wait().unwrap().is_some());
    assert!(exited, "the daemon did not stop after space returned:\n{}", d.log_tail());
    let code = d.child.wait().unwrap().code();
    assert_eq!(code, Some(2), "a failure exit, for systemd to restart it:\n{}", d.log_tail());
    assert!(d.log_text().contains("StoreWriteFailed"), "{}", d.log_tail());
    assert!(archived(&data).is_empty() && held() == 1, "nothing half-done before the restart");
    drop(d);
    let d = s.start(&[]);
    let done = wait_until(Duration::from_secs(60), || archived(&data).len() == 1 && held() == 0);
    assert!(done, "after the restart: archive {:?}\n{}", archived(&data), d.log_tail());
    assert!(
        wait_until(Duration::from_secs(20), || s.get("/healthz") == (200, "ok\n".to_string())),
        "{:?}",
        s.get("/healthz")
    );
    d.stop();
    let journal = std::fs::read_to_string(data.join("archive/journal.log")).unwrap();
    assert_eq!(journal.lines().count(), 1, "applied once: {journal}");
    // What was reported done is on disk: after a restart the entry is there and the store
    // takes the next file.
    let d = s.start(&[]);
    // The dashboard's port is bound before READY: it answers at once.
    let (status, page) = s.get("/entries/EEE-1234567-3");
    assert_eq!(status, 200, "the entry after a restart: {page}\n{}", d.log_tail());
    let next = String::from_utf8(sample_350()).unwrap().replace("K1*INTENSIVE EXAM REQUIRED", "K1*SECOND FILE");
    std::fs::write(inbox.join("next.x12"), next).unwrap();
    assert!(wait_until(Duration::from_secs(30), || archived(&data).len() == 2), "{}", d.log_tail());
    assert!(s.get("/entries/EEE-1234567-3").1.contains("SECOND FILE"));
    d.stop();
}
