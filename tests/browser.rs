//! The dashboard in a real headless browser (Debian's chromium): the overview, an entry page
//! and the brokers page render with their SVG charts; screenshots go to docs/screenshots/.
//! Fails in CI when chromium is missing; elsewhere says it did not run.

mod common;

use common::http::{serve, Server};
use entrywatch::clock::Clock;
use entrywatch::view::{EntryView, MemoryModel, ReadModel};
use entrywatch::web::Auth;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn fixtures() -> Vec<EntryView> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/entries");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap())
        .collect()
}

fn start() -> Server {
    // The importer name is made friendly for the screenshots; the narrative keeps its <script>.
    let mut entries = fixtures();
    for e in &mut entries {
        if e.importer_name.is_some() {
            e.importer_name = Some("Acme Apparel Inc.".into());
        }
    }
    let model: Arc<dyn ReadModel> = Arc::new(MemoryModel::new(entries));
    let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339("2026-03-01T09:00:00-05:00").unwrap());
    serve(model, clock, Auth::default())
}

fn run_chromium(bin: &Path, profile: &Path, extra: &[String], url: &str) -> std::process::Output {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().cloned());
    args.push(url.to_string());
    Command::new(bin).args(&args).output().expect("run chromium")
}

#[test]
fn pages_render_with_charts_in_chromium() {
    let Some(bin) = common::require_program(&["chromium", "chromium-browser"], "chromium") else { return };
    let server = start();
    let addr = server.addr;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tempfile::tempdir().unwrap();
    for (name, path, needles, charts) in [
        ("overview", "/", vec!["Open critical holds", "Deadlines in the next 30 days", "EEE-1234567-3"], 2),
        ("entry", "/entries/EEE-1234567-3", vec!["Audit trail", "PO-4500012", "Timeline"], 1),
        ("brokers", "/brokers", vec!["Scorecard", "KKK"], 4),
    ] {
        let url = format!("http://{addr}{path}");
        let dom = run_chromium(&bin, profile.path(), &["--dump-dom".into()], &url);
        let text = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.status.success(), "{name}: {}", String::from_utf8_lossy(&dom.stderr));
        assert!(text.contains("</html>"), "{name}: no document:\n{text}");
        for n in needles {
            assert!(text.contains(n), "{name}: {n} missing");
        }
        assert_eq!(text.matches("<svg").count(), charts, "{name}: charts");
        // The escaped narrative stays text in the parsed DOM: no script element was created.
        assert!(!text.contains("<script"), "{name}: a script element in the DOM");
        let png = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&png);
        let shot = run_chromium(
            &bin,
            profile.path(),
            &[
                "--run-all-compositor-stages-before-draw".into(),
                "--virtual-time-budget=3000".into(),
                format!("--screenshot={}", png.display()),
            ],
            &url,
        );
        assert!(shot.status.success(), "{name}: {}", String::from_utf8_lossy(&shot.stderr));
        let bytes = std::fs::read(&png).expect("screenshot written");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000, "{name}: not a real PNG");
    }
    drop(server);
}
