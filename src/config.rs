//! Configuration: serde types for entrywatch.toml (kebab-case, unknown keys refused), lookup order, defaults, validation.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The embedded default used when no config file is found (interface.md).
pub const EMBEDDED_DEFAULT: &str = r#"
data-dir = "./entrywatch-data"

[[inbox]]
name = "broker"
path = "./entrywatch-data/inbox/broker"
role = "broker"
settle-secs = 1

[[inbox]]
name = "approved"
path = "./entrywatch-data/inbox/approved"
role = "approved"
settle-secs = 1

[[route]]
to = ["compliance@localhost"]
categories = ["disposition", "rejection", "variance", "deadline", "statement", "liquidation"]
min-severity = "warning"

[dashboard]
listen = "127.0.0.1:8480"
"#;

/// The whole configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// sled store, archive/, quarantine/, work/, mail/.
    pub data_dir: PathBuf,
    /// Read grammars from this folder instead of the copy embedded in the binary.
    #[serde(default)]
    pub grammar_dir: Option<PathBuf>,
    #[serde(default)]
    pub inbox: Vec<Inbox>,
    #[serde(default)]
    pub smtp: Option<Smtp>,
    #[serde(default)]
    pub route: Vec<Route>,
    #[serde(default)]
    pub deadlines: Deadlines,
    #[serde(default)]
    pub variance: Variance,
    #[serde(default)]
    pub dashboard: Dashboard,
    #[serde(default)]
    pub alerts: Alerts,
    #[serde(default)]
    pub daemon: Daemon,
    /// Impact rules: which events name which linked entries (docs/affected.md).
    #[serde(default)]
    pub affected: affected::AffectedConfig,
}

/// What an inbox receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Filings and CBP messages from a broker.
    Broker,
    /// The importer's approved pre-entries.
    Approved,
    /// The importer's own ACE portal reports (ES-003 CSV or XLSX).
    Ace,
    /// A refund program's result files (CAPE validation result, claim details; docs/recovery.md).
    RefundResults,
}

/// Which functional acknowledgment to send for X12 input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AckKind {
    #[default]
    #[serde(rename = "997")]
    Ack997,
    #[serde(rename = "999")]
    Ack999,
}

/// One watched folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Inbox {
    pub name: String,
    pub path: PathBuf,
    pub role: Role,
    #[serde(default = "default_settle")]
    pub settle_secs: u64,
    /// 997/999/TA1 are written here for X12 input.
    #[serde(default)]
    pub ack_dir: Option<PathBuf>,
    #[serde(default)]
    pub ack_kind: AckKind,
    /// Poll instead of inotify (network filesystems).
    #[serde(default)]
    pub poll: bool,
    /// How long a file with an incomplete envelope may wait for the rest before it is quarantined as truncated.
    #[serde(default = "default_truncated_grace")]
    pub truncated_grace_secs: u64,
    /// A file larger than this is not read: it goes to quarantine with the reason (memory
    /// per file stays bounded whatever is dropped into the inbox).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
}

/// The default `max-file-bytes`: 16 MiB, far above any CBP message or broker batch seen.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

fn default_max_file_bytes() -> u64 {
    DEFAULT_MAX_FILE_BYTES
}

fn default_settle() -> u64 {
    2
}
fn default_truncated_grace() -> u64 {
    300
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    #[default]
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Smtp {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    pub from: String,
    /// PEM file of extra CA certificates to trust (private relays).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_smtp_port() -> u16 {
    25
}
fn default_timeout() -> u64 {
    30
}

/// Alert categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Disposition,
    Rejection,
    Variance,
    Deadline,
    Statement,
    Liquidation,
    /// CBP said something entrywatch does not know (an unknown code or record, a blank or
    /// malformed field): the message was applied; a person should look (docs/abi.md).
    #[serde(rename = "unknown-code")]
    UnknownCode,
    /// ACE holds an entry no broker file and no pre-entry mention.
    #[serde(rename = "unreported-entry")]
    UnreportedEntry,
    /// The broker's copy and ACE's record differ.
    #[serde(rename = "ace-broker-mismatch")]
    AceBrokerMismatch,
    /// ACE differs from the approved pre-entry though the broker's copy agrees.
    #[serde(rename = "ace-approved-mismatch")]
    AceApprovedMismatch,
    /// ACE reports a liquidation not seen from an ER.
    #[serde(rename = "ace-liquidation")]
    AceLiquidation,
    /// ACE shows a post summary correction not seen from the broker.
    #[serde(rename = "ace-psc")]
    AcePsc,
    /// An entry left a refund program's window it was eligible for (docs/recovery.md).
    #[serde(rename = "recovery-window")]
    RecoveryWindow,
    /// A refund program rejected an entry's claim (docs/recovery.md).
    #[serde(rename = "recovery-claim")]
    RecoveryClaim,
}

/// Who gets what.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Route {
    pub to: Vec<String>,
    #[serde(default = "all_categories")]
    pub categories: Vec<Category>,
    #[serde(default = "default_min_severity")]
    pub min_severity: AlertSeverity,
    #[serde(default)]
    pub importers: Vec<String>,
    #[serde(default)]
    pub inboxes: Vec<String>,
}

fn all_categories() -> Vec<Category> {
    vec![
        Category::Disposition,
        Category::Rejection,
        Category::Variance,
        Category::Deadline,
        Category::Statement,
        Category::Liquidation,
        Category::UnknownCode,
        Category::UnreportedEntry,
        Category::AceBrokerMismatch,
        Category::AceApprovedMismatch,
        Category::AceLiquidation,
        Category::AcePsc,
        Category::RecoveryWindow,
        Category::RecoveryClaim,
    ]
}
fn default_min_severity() -> AlertSeverity {
    AlertSeverity::Warning
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Deadlines {
    #[serde(default = "default_tz")]
    pub timezone: String,
    #[serde(default = "default_remind_days")]
    pub remind_days: Vec<u32>,
    /// Extra days CBP is closed (YYYY-MM-DD), beyond the computed federal holidays.
    #[serde(default)]
    pub closures: Vec<chrono::NaiveDate>,
    /// Local hour of day at which reminders go out.
    #[serde(default = "default_remind_hour")]
    pub remind_hour: u32,
}

/// Alert severity of a fact (code lists, `[alerts] min-severity`, routes); declared here so
/// the configuration names no module above it (`grammar::codes` re-exports it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    #[default]
    Info,
    Warning,
    Critical,
}

impl crate::calendar::Calendar {
    /// From config `[deadlines] closures` (here, so the calendar names no configuration).
    pub fn from_config(d: &Deadlines) -> crate::calendar::Calendar {
        crate::calendar::Calendar::new(d.closures.iter().copied())
    }
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            timezone: default_tz(),
            remind_days: default_remind_days(),
            closures: Vec::new(),
            remind_hour: default_remind_hour(),
        }
    }
}

fn default_tz() -> String {
    "America/New_York".into()
}
fn default_remind_days() -> Vec<u32> {
    vec![30, 14, 7, 3, 1]
}
fn default_remind_hour() -> u32 {
    8
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Variance {
    #[serde(default = "default_value_tol")]
    pub value_tolerance_pct: f64,
    #[serde(default = "default_duty_tol")]
    pub duty_tolerance_usd: f64,
    /// Severity per field name (interface.md field names), overriding the defaults.
    #[serde(default)]
    pub severity: std::collections::BTreeMap<String, String>,
}

impl Default for Variance {
    fn default() -> Self {
        Variance {
            value_tolerance_pct: default_value_tol(),
            duty_tolerance_usd: default_duty_tol(),
            severity: Default::default(),
        }
    }
}
/// How serious one variance difference is (`[variance] severity`: `major`, `minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Minor,
    Major,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
        }
    }

    /// The alert severity for the alert rules: major → critical, minor → warning.
    pub fn alert_severity(self) -> AlertSeverity {
        match self {
            Severity::Minor => AlertSeverity::Warning,
            Severity::Major => AlertSeverity::Critical,
        }
    }
}

/// Every field a severity can be configured for, with its default.
pub const VARIANCE_FIELDS: [(&str, Severity); 28] = [
    ("importer", Severity::Major),
    ("entry_type", Severity::Major),
    ("port", Severity::Minor),
    ("mode_of_transport", Severity::Minor),
    ("payment_type", Severity::Minor),
    ("reconciliation", Severity::Major),
    ("country_of_origin", Severity::Major),
    ("country_of_export", Severity::Minor),
    ("spi", Severity::Major),
    ("hts", Severity::Major),
    ("value", Severity::Major),
    ("quantity", Severity::Minor),
    ("uom", Severity::Minor),
    ("duty", Severity::Major),
    ("duty_rate", Severity::Major),
    ("mpf", Severity::Minor),
    ("hmf", Severity::Minor),
    ("total_duty", Severity::Major),
    ("total_fees", Severity::Minor),
    ("liquidated_duty", Severity::Major),
    ("liquidated_fees", Severity::Major),
    ("liquidated_tax", Severity::Major),
    ("liquidated_adcvd", Severity::Major),
    ("liquidated_interest", Severity::Major),
    ("line", Severity::Major),
    ("entry_number", Severity::Minor),
    ("fee", Severity::Minor),
    // Compared in the three-way match only (approved / AE 47 / ES-003 Manufacturer ID).
    ("manufacturer_id", Severity::Minor),
];

/// Problems in the `[variance]` section, in words (empty when valid): unknown field names and
/// severities. For `check-config`.
pub fn validate_variance(cfg: &Variance) -> Vec<String> {
    let mut p = Vec::new();
    for (field, sev) in &cfg.severity {
        if !VARIANCE_FIELDS.iter().any(|(f, _)| f == field) {
            let names: Vec<&str> = VARIANCE_FIELDS.iter().map(|(f, _)| *f).collect();
            p.push(format!("variance.severity: unknown field {field:?} (fields: {})", names.join(", ")));
        }
        if !matches!(sev.trim().to_ascii_lowercase().as_str(), "major" | "minor" | "ignore" | "none") {
            p.push(format!("variance.severity.{field} = {sev:?}: use \"major\", \"minor\" or \"ignore\""));
        }
    }
    if !cfg.value_tolerance_pct.is_finite() || !cfg.duty_tolerance_usd.is_finite() {
        p.push("variance tolerances must be numbers".into());
    }
    p
}

fn default_value_tol() -> f64 {
    1.0
}
fn default_duty_tol() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dashboard {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Bearer token required when bound to a non-loopback address.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// `user:password` file for basic auth, as an alternative to the token.
    #[serde(default)]
    pub basic_auth_file: Option<PathBuf>,
    /// The link put in mails.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Set false to run without the dashboard.
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for Dashboard {
    fn default() -> Self {
        Dashboard { listen: default_listen(), token_file: None, basic_auth_file: None, public_url: None, enabled: true }
    }
}
fn default_listen() -> String {
    "127.0.0.1:8480".into()
}
fn yes() -> bool {
    true
}

/// A severity override for a code (optionally only for one importer or inbox).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SeverityOverride {
    /// Code list name (e.g. `so60`, `x407`); empty for any list.
    #[serde(default)]
    pub list: Option<String>,
    pub code: String,
    pub severity: AlertSeverity,
    #[serde(default)]
    pub importer: Option<String>,
    #[serde(default)]
    pub inbox: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Alerts {
    #[serde(default, rename = "override")]
    pub overrides: Vec<SeverityOverride>,
    /// Group non-critical alerts into one daily digest mail.
    #[serde(default)]
    pub digest: bool,
    /// Give up on an undeliverable alert after this long (state `failed`).
    #[serde(default = "default_give_up")]
    pub give_up_hours: u64,
    /// Confirm release with no hold and a final statement (info alert).
    #[serde(default)]
    pub release_confirmation: bool,
    /// Warn when an entry has no release this many days after arrival (demurrage risk).
    #[serde(default = "default_no_release")]
    pub no_release_days: u32,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            overrides: Vec::new(),
            digest: false,
            give_up_hours: default_give_up(),
            release_confirmation: false,
            no_release_days: default_no_release(),
        }
    }
}
fn default_give_up() -> u64 {
    48
}
fn default_no_release() -> u32 {
    5
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Daemon {
    /// Full rescan of every inbox this often, whatever inotify says.
    #[serde(default = "default_rescan")]
    pub rescan_secs: u64,
    /// Files processed at once across inboxes (each inbox stays in order).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Checkpoint the store (close and reopen it in place) once no file has been committed
    /// for this long: a start after a crash then reads only the log written since.
    #[serde(default = "default_checkpoint_idle")]
    pub checkpoint_idle_secs: u64,
    /// ... or once this much has been written since the last checkpoint, idle or not (MiB of
    /// keys and values committed).
    #[serde(default = "default_checkpoint_after_mb")]
    pub checkpoint_after_mb: u64,
    /// The store's page cache, MiB (sled's `cache_capacity`; its memory use is a few times this).
    #[serde(default = "default_store_cache_mb")]
    pub store_cache_mb: u64,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            rescan_secs: default_rescan(),
            concurrency: default_concurrency(),
            checkpoint_idle_secs: default_checkpoint_idle(),
            checkpoint_after_mb: default_checkpoint_after_mb(),
            store_cache_mb: default_store_cache_mb(),
        }
    }
}
fn default_checkpoint_idle() -> u64 {
    60
}
/// The default of `[daemon] store-cache-mb`.
pub const DEFAULT_STORE_CACHE_MB: u64 = 256;
/// The default of `[daemon] checkpoint-after-mb`.
pub const DEFAULT_CHECKPOINT_AFTER_MB: u64 = 32;
fn default_store_cache_mb() -> u64 {
    DEFAULT_STORE_CACHE_MB
}
fn default_checkpoint_after_mb() -> u64 {
    DEFAULT_CHECKPOINT_AFTER_MB
}
fn default_rescan() -> u64 {
    30
}
fn default_concurrency() -> usize {
    2
}

/// Where a loaded config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    File(PathBuf),
    Embedded,
}

/// A configuration problem (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {err}")]
    Read { path: PathBuf, err: std::io::Error },
    #[error("config {path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("config {path}: {}", .problems.join("; "))]
    Invalid { path: String, problems: Vec<String> },
}

impl Config {
    /// The embedded default configuration.
    pub fn embedded() -> Config {
        toml::from_str(EMBEDDED_DEFAULT).expect("embedded default config is valid")
    }

    /// Parse and validate config text. A text with several syntax or key errors reports
    /// each of them (up to 100), not only the first: see [`toml_problems`].
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let c: Config = match toml::from_str(text) {
            Ok(c) => c,
            Err(e) => {
                let problems = toml_problems(text);
                if problems.len() > 1 {
                    return Err(ConfigError::Invalid { path: origin.into(), problems });
                }
                return Err(ConfigError::Parse { path: origin.into(), msg: one_line(&e.to_string()) });
            }
        };
        let problems = c.validate();
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(ConfigError::Invalid { path: origin.into(), problems })
        }
    }

    /// Find and load the config: `--config`, `$ENTRYWATCH_CONFIG`, `./entrywatch.toml`,
    /// `/etc/entrywatch/entrywatch.toml`, else the embedded default.
    pub fn discover(explicit: Option<&Path>) -> Result<(Config, ConfigSource), ConfigError> {
        let mut candidates: Vec<(PathBuf, bool)> = Vec::new();
        if let Some(p) = explicit {
            candidates.push((p.to_path_buf(), true));
        } else if let Some(p) = std::env::var_os("ENTRYWATCH_CONFIG").filter(|v| !v.is_empty()) {
            candidates.push((PathBuf::from(p), true));
        } else {
            candidates.push((PathBuf::from("./entrywatch.toml"), false));
            candidates.push((PathBuf::from("/etc/entrywatch/entrywatch.toml"), false));
        }
        for (p, required) in candidates {
            match std::fs::read_to_string(&p) {
                Ok(text) => return Ok((Config::from_toml(&text, &p.display().to_string())?, ConfigSource::File(p))),
                Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(ConfigError::Read { path: p, err: e })
                }
                Err(_) => continue,
            }
        }
        Ok((Config::embedded(), ConfigSource::Embedded))
    }

    /// Every problem in the config, in words (empty when valid).
    pub fn validate(&self) -> Vec<String> {
        let mut p = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        p.extend(self.overlaps());
        for i in &self.inbox {
            if i.max_file_bytes == 0 {
                p.push(format!("inbox {}: max-file-bytes must be at least 1", i.name));
            }
            if i.name.is_empty() || !i.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                p.push(format!("inbox name {:?} must be letters, digits, '-' or '_'", i.name));
            }
            if !names.insert(i.name.clone()) {
                p.push(format!("inbox name {:?} is used twice", i.name));
            }
        }
        for (n, r) in self.route.iter().enumerate() {
            if r.to.is_empty() {
                p.push(format!("route {} has no recipients (`to`)", n + 1));
            }
            for a in &r.to {
                if a.parse::<lettre::Address>().is_err() {
                    p.push(format!("route {}: {:?} is not an email address", n + 1, a));
                }
            }
        }
        if let Some(s) = &self.smtp {
            if s.from.parse::<lettre::message::Mailbox>().is_err() {
                p.push(format!("smtp.from {:?} is not a mailbox (\"Name <addr@host>\")", s.from));
            }
            if s.username.is_some() != s.password_file.is_some() {
                p.push("smtp.username and smtp.password-file go together".into());
            }
        }
        if self.deadlines.timezone.parse::<chrono_tz::Tz>().is_err() {
            p.push(format!("deadlines.timezone {:?} is not an IANA time zone", self.deadlines.timezone));
        }
        if self.deadlines.remind_hour > 23 {
            p.push("deadlines.remind-hour must be 0..=23".into());
        }
        match self.dashboard.listen.parse::<std::net::SocketAddr>() {
            Err(_) => p.push(format!("dashboard.listen {:?} is not ADDRESS:PORT", self.dashboard.listen)),
            Ok(a) if self.dashboard.enabled
                && !a.ip().is_loopback()
                && self.dashboard.token_file.is_none()
                && self.dashboard.basic_auth_file.is_none() =>
            {
                p.push(format!(
                    "dashboard.listen {} is not a loopback address: set dashboard.token-file or dashboard.basic-auth-file",
                    self.dashboard.listen
                ))
            }
            Ok(_) => {}
        }
        if self.daemon.concurrency == 0 {
            p.push("daemon.concurrency must be at least 1".into());
        }
        if self.variance.value_tolerance_pct < 0.0 || self.variance.duty_tolerance_usd < 0.0 {
            p.push("variance tolerances must not be negative".into());
        }
        p.extend(validate_variance(&self.variance));
        p
    }

    /// Folders that must not contain one another: every inbox (and its ack-dir) against the
    /// data dir (store, archive, quarantine, work live there) and against every other inbox.
    /// An inbox inside the data dir would pick up its own quarantine reports, one inside
    /// another inbox would take that inbox's files.
    fn overlaps(&self) -> Vec<String> {
        let norm = |p: &Path| -> PathBuf {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
            // Resolve what exists (symlinked parents); keep the rest as written.
            let mut existing = abs.clone();
            let mut tail = Vec::new();
            while !existing.exists() {
                match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
                    (Some(n), Some(parent)) => {
                        tail.push(n);
                        existing = parent.to_path_buf();
                    }
                    _ => break,
                }
            }
            let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
            for n in tail.into_iter().rev() {
                out.push(n);
            }
            // Lexically drop `.` and `..` left in the part that does not exist yet.
            let mut clean = PathBuf::new();
            for c in out.components() {
                match c {
                    std::path::Component::CurDir => {}
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    other => clean.push(other),
                }
            }
            clean
        };
        let data = norm(&self.data_dir);
        let managed: Vec<PathBuf> =
            ["store", "store.rebuild", "archive", "quarantine", "work", "mail"].iter().map(|d| data.join(d)).collect();
        let mut folders: Vec<(String, PathBuf)> = Vec::new();
        for i in &self.inbox {
            folders.push((format!("inbox {} path {}", i.name, i.path.display()), norm(&i.path)));
            if let Some(a) = &i.ack_dir {
                folders.push((format!("inbox {} ack-dir {}", i.name, a.display()), norm(a)));
            }
        }
        let mut p = Vec::new();
        for (what, f) in &folders {
            if data.starts_with(f) || managed.iter().any(|m| f.starts_with(m)) {
                p.push(format!(
                    "{what} overlaps data-dir {} (its store, archive, quarantine, work and mail folders): use a folder outside them",
                    self.data_dir.display()
                ));
            }
        }
        for (n, (wa, a)) in folders.iter().enumerate() {
            for (wb, b) in folders.iter().skip(n + 1) {
                // Inboxes are watched without subfolders: only the same folder twice collides.
                if a == b {
                    p.push(format!(
                        "{wa} is the same folder as {wb}: each inbox and ack-dir needs a folder of its own"
                    ));
                }
            }
        }
        p
    }

    /// Files the config names that must exist and be readable by the user running this
    /// (check-config runs as the service user under systemd): the SMTP password, the CA
    /// bundle, the dashboard token and users files, the grammar folder.
    pub fn check_files(&self) -> Vec<String> {
        let mut want: Vec<(&str, &Path)> = Vec::new();
        if let Some(s) = &self.smtp {
            if let Some(f) = &s.password_file {
                want.push(("smtp.password-file", f));
            }
            if let Some(f) = &s.ca_file {
                want.push(("smtp.ca-file", f));
            }
        }
        if self.dashboard.enabled {
            if let Some(f) = &self.dashboard.token_file {
                want.push(("dashboard.token-file", f));
            }
            if let Some(f) = &self.dashboard.basic_auth_file {
                want.push(("dashboard.basic-auth-file", f));
            }
        }
        let mut p = Vec::new();
        for (key, f) in want {
            match std::fs::File::open(f).and_then(|h| h.metadata()) {
                Ok(m) if m.is_file() => {}
                Ok(_) => p.push(format!("{key} {} is not a regular file", f.display())),
                Err(e) => p.push(format!("{key} {} cannot be read: {e}", f.display())),
            }
        }
        if let Some(d) = &self.grammar_dir {
            if let Err(e) = std::fs::read_dir(d) {
                p.push(format!("grammar-dir {} cannot be read: {e}", d.display()));
            }
        }
        p
    }

    /// The configured time zone (validated).
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.deadlines.timezone.parse().unwrap_or(chrono_tz::America::New_York)
    }

    pub fn inbox(&self, name: &str) -> Option<&Inbox> {
        self.inbox.iter().find(|i| i.name == name)
    }
}

/// A message on one line.
fn one_line(s: &str) -> String {
    s.split('\n').map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join(" ")
}

/// Every syntax and key error of a config text, not only the first: each error that points
/// into a single line is recorded, that line is set aside (commented out) and the text is
/// read again, up to 100 times. Errors that span more than a line (a missing key in a table)
/// end the search after being recorded.
pub fn toml_problems(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut out = Vec::new();
    for _ in 0..100 {
        let joined = lines.join("\n");
        let Err(e) = toml::from_str::<Config>(&joined) else { break };
        let span = e.span();
        let line_of = |at: usize| joined.get(..at).map_or(0, |s| s.matches('\n').count());
        let msg = e.message().replace('\n', " ");
        match span {
            Some(r) if line_of(r.start) == line_of(r.end.saturating_sub(1).max(r.start)) => {
                let n = line_of(r.start);
                out.push(format!("line {}: {msg}", n + 1));
                match lines.get_mut(n) {
                    Some(l) if !l.trim_start().starts_with('#') => *l = format!("# {l}"),
                    _ => break,
                }
            }
            Some(r) => {
                out.push(format!("line {}: {msg}", line_of(r.start) + 1));
                break;
            }
            None => {
                out.push(msg);
                break;
            }
        }
    }
    out
}

/// `[affected]`: the impact rules (which events name which linked entries, and which of
/// those are still worth naming) and the kinds of link they name. Plain data, read by
/// `crate::links` (which re-exports them): the configuration names no module above it.
pub mod affected {
    use serde::{Deserialize, Serialize};

    /// The kinds of link between entries.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum LinkKind {
        /// Bill of lading (or air waybill) number.
        Bill,
        /// Container (equipment) number.
        Container,
        /// Purchase order number.
        Po,
        /// Purchase order line (`PO#line`).
        PoLine,
        /// The importer's HTS number (`importer|hts`).
        Hts,
        /// The importer's manufacturer ID (`importer|MID`).
        Manufacturer,
    }

    impl LinkKind {
        pub const ALL: [LinkKind; 6] = [
            LinkKind::Bill,
            LinkKind::Container,
            LinkKind::Po,
            LinkKind::PoLine,
            LinkKind::Hts,
            LinkKind::Manufacturer,
        ];

        pub fn as_str(self) -> &'static str {
            match self {
                LinkKind::Bill => "bill",
                LinkKind::Container => "container",
                LinkKind::Po => "po",
                LinkKind::PoLine => "po-line",
                LinkKind::Hts => "hts",
                LinkKind::Manufacturer => "manufacturer",
            }
        }

        /// Words for listings (`same bill of lading`).
        pub fn title(self) -> &'static str {
            match self {
                LinkKind::Bill => "bill of lading",
                LinkKind::Container => "container",
                LinkKind::Po => "purchase order",
                LinkKind::PoLine => "PO line",
                LinkKind::Hts => "HTS number",
                LinkKind::Manufacturer => "manufacturer",
            }
        }
    }

    impl std::str::FromStr for LinkKind {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, Self::Err> {
            LinkKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown link kind {s:?}"))
        }
    }

    /// An event on an entry that can touch others.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum Trigger {
        /// A disposition whose code list effect is a hold (SO50/SO60/SO70, X12 350).
        HoldPlaced,
        Exam,
        Seizure,
        DocumentsRequired,
        /// A release or entry cancelled (release suspension).
        Cancelled,
        /// AX rejection, UC disposition 4, or a rejecting disposition code.
        Rejected,
        /// A UC entry summary status notification other than a rejection (CBP's review of the
        /// summary: requests for information or documents, detention, PSC by another filer).
        UcNotice,
        /// An AX acceptance that carries a condition code.
        AxCondition,
        /// A liquidation (ER status 1 or 3) whose duty differs from the filed duty.
        LiquidationDutyChange,
    }

    impl Trigger {
        pub const ALL: [Trigger; 9] = [
            Trigger::HoldPlaced,
            Trigger::Exam,
            Trigger::Seizure,
            Trigger::DocumentsRequired,
            Trigger::Cancelled,
            Trigger::Rejected,
            Trigger::UcNotice,
            Trigger::AxCondition,
            Trigger::LiquidationDutyChange,
        ];

        pub fn as_str(self) -> &'static str {
            match self {
                Trigger::HoldPlaced => "hold-placed",
                Trigger::Exam => "exam",
                Trigger::Seizure => "seizure",
                Trigger::DocumentsRequired => "documents-required",
                Trigger::Cancelled => "cancelled",
                Trigger::Rejected => "rejected",
                Trigger::UcNotice => "uc-notice",
                Trigger::AxCondition => "ax-condition",
                Trigger::LiquidationDutyChange => "liquidation-duty-change",
            }
        }
    }

    /// Which linked entries a rule names.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
    #[serde(rename_all = "kebab-case")]
    pub enum Scope {
        /// Every linked entry.
        Any,
        /// Entries not liquidated and whose summary is not deleted.
        #[default]
        Open,
        /// Entries with a PSC or protest deadline not yet passed (each listed with it).
        Window,
    }

    /// One impact rule: when any of `on` happens, name the entries sharing any of `links`.
    /// `links = ["hts", "manufacturer"]` means the same product: same importer and HTS number,
    /// and the same manufacturer ID when the entry names one.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct ImpactRule {
        pub on: Vec<Trigger>,
        pub links: Vec<LinkKind>,
        #[serde(default)]
        pub scope: Scope,
    }

    /// `[affected]`: the rules and the bounds of each list.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    pub struct AffectedConfig {
        /// Entries listed per alert (the rest are counted).
        #[serde(default = "default_max_listed")]
        pub max_listed: usize,
        /// Linked entries loaded per event to check their scope.
        #[serde(default = "default_max_checked")]
        pub max_checked: usize,
        /// The rules; replacing them replaces all the defaults.
        #[serde(default = "default_rules", rename = "rule")]
        pub rules: Vec<ImpactRule>,
    }

    fn default_max_listed() -> usize {
        20
    }

    fn default_max_checked() -> usize {
        2000
    }

    /// The defaults (issue 19): a hold, exam, seizure, documents request, cancellation or
    /// rejection names the other open entries on the same bill, container or purchase order; a
    /// CBP change to the classification or value (UC notice, AX condition, liquidation with a duty
    /// change) names the importer's other entries of the same HTS and manufacturer still inside a
    /// PSC or protest window.
    pub fn default_rules() -> Vec<ImpactRule> {
        vec![
            ImpactRule {
                on: vec![
                    Trigger::HoldPlaced,
                    Trigger::Exam,
                    Trigger::Seizure,
                    Trigger::DocumentsRequired,
                    Trigger::Cancelled,
                    Trigger::Rejected,
                ],
                links: vec![LinkKind::Bill, LinkKind::Container, LinkKind::Po],
                scope: Scope::Open,
            },
            ImpactRule {
                on: vec![Trigger::UcNotice, Trigger::AxCondition, Trigger::LiquidationDutyChange],
                links: vec![LinkKind::Hts, LinkKind::Manufacturer],
                scope: Scope::Window,
            },
        ]
    }

    impl Default for AffectedConfig {
        fn default() -> Self {
            AffectedConfig {
                max_listed: default_max_listed(),
                max_checked: default_max_checked(),
                rules: default_rules(),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn config_reads_with_defaults_and_refuses_unknown_keys() {
            let c: AffectedConfig = toml::from_str("max-listed = 5").unwrap();
            assert_eq!(c.max_listed, 5);
            assert_eq!(c.rules, default_rules());
            let c: AffectedConfig =
                toml::from_str("[[rule]]\non = [\"exam\"]\nlinks = [\"container\"]\nscope = \"any\"\n").unwrap();
            assert_eq!(
                c.rules,
                vec![ImpactRule { on: vec![Trigger::Exam], links: vec![LinkKind::Container], scope: Scope::Any }]
            );
            assert!(toml::from_str::<AffectedConfig>("max-listd = 5").is_err());
            assert!(toml::from_str::<AffectedConfig>("[[rule]]\non = [\"exams\"]\nlinks = []\n").is_err());
            for t in Trigger::ALL {
                assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{}\"", t.as_str()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_key_errors_are_all_listed() {
        let text = "data-dir = \"/tmp/x\"\nbogus = 1\n[daemon]\nrescan-secs = \"often\"\nconcurency = 3\n";
        let p = toml_problems(text);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].starts_with("line 2:") && p[0].contains("bogus"), "{p:?}");
        assert!(p.iter().any(|x| x.starts_with("line 4:")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("concurency")), "{p:?}");
        match Config::from_toml(text, "t") {
            Err(ConfigError::Invalid { problems, .. }) => assert_eq!(problems.len(), 3),
            other => panic!("expected three problems, got {other:?}"),
        }
    }

    #[test]
    fn an_inbox_inside_the_data_dir_or_another_inbox_is_refused() {
        let text = "data-dir = \"/srv/ew\"\n[[inbox]]\nname=\"a\"\npath=\"/srv/ew/quarantine/a\"\nrole=\"broker\"\n\
                    [[inbox]]\nname=\"b\"\npath=\"/srv/in/b\"\nrole=\"broker\"\n\
                    [[inbox]]\nname=\"c\"\npath=\"/srv/in/x/../b\"\nrole=\"broker\"\n\
                    [[inbox]]\nname=\"d\"\npath=\"/srv\"\nrole=\"broker\"\n\
                    [[inbox]]\nname=\"e\"\npath=\"/srv/ew/inbox/e\"\nrole=\"broker\"\n";
        let c: Config = toml::from_str(text).expect("parses");
        let p = c.validate();
        assert!(p.iter().any(|x| x.contains("inbox a") && x.contains("data-dir")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("inbox b") && x.contains("inbox c")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("inbox d") && x.contains("data-dir")), "{p:?}");
        // An inbox folder beside the managed ones (the embedded default's layout) is fine.
        assert!(!p.iter().any(|x| x.contains("inbox e")), "{p:?}");
        assert_eq!(p.len(), 3, "{p:?}");
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::embedded();
        assert!(c.validate().is_empty(), "{:?}", c.validate());
        assert_eq!(c.inbox.len(), 2);
        assert!(c.smtp.is_none());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = Config::from_toml("data-dir = \"x\"\nbogus = 1\n", "t").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }

    #[test]
    fn problems_are_listed() {
        // Absolute paths apart from each other: a relative data-dir resolves against the
        // working directory, which a checkout under the inbox's folder would overlap.
        let text = "data-dir = \"/srv/entrywatch-test/data\"\n[[inbox]]\nname=\"a b\"\npath=\"/srv/entrywatch-test/in\"\nrole=\"broker\"\n[deadlines]\ntimezone=\"Mars/Base\"\n";
        match Config::from_toml(text, "t") {
            Err(ConfigError::Invalid { problems, .. }) => assert_eq!(problems.len(), 2, "{problems:?}"),
            other => panic!("expected invalid, got {other:?}"),
        }
    }
}
