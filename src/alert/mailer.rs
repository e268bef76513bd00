//! The mailer (delivery): builds the lettre message of an outbox item and sends it over SMTP (none, STARTTLS, TLS, auth) or into `.eml` files;
//! [`deliver_due`] is one delivery pass over the queue's due items.

use super::outbox::{OutboxItem, OutboxState, OutboxStore, RetryPolicy};
use super::render::{self, header_safe, RenderContext};
use crate::config::{Config, Security, Smtp};
use chrono::{DateTime, FixedOffset};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The `From` used by the file transport when there is no `[smtp]`.
pub const DEFAULT_FROM: &str = "entrywatch <entrywatch@localhost>";

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: connection refused or reset, timeout, TLS handshake, 4xx reply.
    #[error("transient: {0}")]
    Transient(String),
    /// Retrying will not help: 5xx reply, an address or message that cannot be built.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// A mailer that cannot be set up (a configuration problem).
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("smtp.password-file {path}: {err}")]
    PasswordFile { path: PathBuf, err: std::io::Error },
    #[error("smtp.ca-file {path}: {msg}")]
    CaFile { path: PathBuf, msg: String },
    #[error("smtp.from {0:?} is not a mailbox")]
    From(String),
    #[error("smtp TLS setup for {host}: {msg}")]
    Tls { host: String, msg: String },
    #[error("mail folder {path}: {err}")]
    MailDir { path: PathBuf, err: std::io::Error },
}

/// The `X-Entrywatch-Alert-Id` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertIdHeader(pub String);

impl Header for AlertIdHeader {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Entrywatch-Alert-Id")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AlertIdHeader(s.trim().to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), header_safe(&self.0, 300))
    }
}

/// The Message-ID of an alert: `<sha256-hex-of-identity@entrywatch>` (the same identity
/// always gives the same Message-ID, so a resend after a crash is the same message).
pub fn message_id(alert_id: &str) -> String {
    format!("<{}@entrywatch>", hex::encode(Sha256::digest(alert_id.as_bytes())))
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// Sends outbox items.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    ctx: RenderContext,
    policy: RetryPolicy,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = match &self.transport {
            Transport::Smtp(_) => "smtp".to_string(),
            Transport::File(_, p) => format!("file:{}", p.display()),
        };
        f.debug_struct("Mailer").field("transport", &t).field("from", &self.from.to_string()).finish()
    }
}

/// Read a password file: its text without the trailing newline(s).
pub fn read_password_file(path: &Path) -> Result<String, MailerError> {
    let text = std::fs::read_to_string(path).map_err(|err| MailerError::PasswordFile { path: path.into(), err })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

impl Mailer {
    /// SMTP when `[smtp]` is set, else `.eml` files under `<data-dir>/mail/`.
    pub fn from_config(cfg: &Config) -> Result<Mailer, MailerError> {
        let ctx = RenderContext::from_config(cfg);
        let policy = RetryPolicy::new(cfg.alerts.give_up_hours);
        match &cfg.smtp {
            Some(s) => Mailer::smtp(s, ctx, policy),
            None => {
                let from: Mailbox = DEFAULT_FROM.parse().map_err(|_| MailerError::From(DEFAULT_FROM.into()))?;
                Mailer::file(&cfg.data_dir.join("mail"), from, ctx, policy)
            }
        }
    }

    /// An SMTP mailer per `[smtp]`.
    pub fn smtp(s: &Smtp, ctx: RenderContext, policy: RetryPolicy) -> Result<Mailer, MailerError> {
        let from: Mailbox = s.from.parse().map_err(|_| MailerError::From(s.from.clone()))?;
        let tls_params = || -> Result<TlsParameters, MailerError> {
            let mut b = TlsParameters::builder(s.host.clone());
            if let Some(ca) = &s.ca_file {
                let pem =
                    std::fs::read(ca).map_err(|e| MailerError::CaFile { path: ca.clone(), msg: e.to_string() })?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| MailerError::CaFile { path: ca.clone(), msg: e.to_string() })?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| MailerError::Tls { host: s.host.clone(), msg: e.to_string() })
        };
        let tls = match s.security {
            Security::None => Tls::None,
            Security::Starttls => Tls::Required(tls_params()?),
            Security::Tls => Tls::Wrapper(tls_params()?),
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(s.timeout_secs.max(1))));
        if let (Some(user), Some(pw)) = (&s.username, &s.password_file) {
            b = b.credentials(Credentials::new(user.clone(), read_password_file(pw)?));
        }
        Ok(Mailer { transport: Transport::Smtp(b.build()), from, ctx, policy })
    }

    /// A mailer writing each message as an `.eml` file into `dir` (created if missing).
    pub fn file(dir: &Path, from: Mailbox, ctx: RenderContext, policy: RetryPolicy) -> Result<Mailer, MailerError> {
        std::fs::create_dir_all(dir).map_err(|err| MailerError::MailDir { path: dir.into(), err })?;
        Ok(Mailer { transport: Transport::File(AsyncFileTransport::new(dir), dir.into()), from, ctx, policy })
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    pub fn render_context(&self) -> &RenderContext {
        &self.ctx
    }

    /// The message for an item: From, To (its recipients), Subject, Date (`now`, from the
    /// injected clock), Message-ID from the identity, `X-Entrywatch-Alert-Id`,
    /// multipart/alternative text + HTML.
    pub fn message(&self, item: &OutboxItem, now: DateTime<FixedOffset>) -> Result<Message, SendError> {
        let mail = render::render(&item.payload, &self.ctx);
        let mut b = Message::builder()
            .from(self.from.clone())
            .date(SystemTime::from(now))
            .subject(mail.subject)
            .message_id(Some(message_id(&item.id)))
            .header(AlertIdHeader(item.id.clone()));
        for to in &item.to {
            let mb: Mailbox = to
                .parse()
                .map_err(|_| SendError::Permanent(format!("{:?} is not an email address", header_safe(to, 100))))?;
            b = b.to(mb);
        }
        b.multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
        )
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }

    /// Send one item; `Ok` only once the server accepted it (or the file is written).
    pub async fn send(&self, item: &OutboxItem, now: DateTime<FixedOffset>) -> Result<(), SendError> {
        let msg = self.message(item, now)?;
        match &self.transport {
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(classify_smtp),
            Transport::File(t, _) => t.send(msg).await.map(|_| ()).map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}

/// 5xx replies are permanent; everything else (4xx, connection, TLS, timeout) is transient.
fn classify_smtp(e: lettre::transport::smtp::Error) -> SendError {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_permanent() {
        SendError::Permanent(msg)
    } else {
        SendError::Transient(msg)
    }
}
/// What one pass of [`deliver_due`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: Vec<String>,
    pub retried: Vec<String>,
    pub failed: Vec<String>,
    /// Store errors (the item stays as it was and is tried on a later pass).
    pub store_errors: Vec<String>,
}

/// Send every due item once: sent → `mark_sent` (only after the server accepted);
/// transient error → `mark_retry` at `now + delay(attempts)`, or `mark_failed` when the item
/// was queued at least `give_up` ago; permanent error (5xx, bad address, no recipient) →
/// `mark_failed`. Failures are logged at ERROR (`AlertFailed`).
pub async fn deliver_due<S: OutboxStore>(store: &S, mailer: &Mailer, now: DateTime<FixedOffset>) -> DeliveryReport {
    let mut report = DeliveryReport::default();
    let mut due = match store.due(now) {
        Ok(d) => d,
        Err(e) => {
            report.store_errors.push(e.to_string());
            return report;
        }
    };
    due.sort_by(|a, b| a.next_attempt.cmp(&b.next_attempt).then(a.id.cmp(&b.id)));
    let policy = mailer.policy();
    for item in due.into_iter().filter(|i| i.state == OutboxState::Queued) {
        let result = if item.to.is_empty() {
            Err(SendError::Permanent("no recipients".into()))
        } else {
            mailer.send(&item, now).await
        };
        let attempts = item.attempts.saturating_add(1);
        let outcome = match result {
            Ok(()) => {
                tracing::info!(event = "AlertSent", alert_id = %item.id, to = ?item.to, attempts, "alert sent");
                report.sent.push(item.id.clone());
                store.mark_sent(&item.id, now)
            }
            Err(SendError::Transient(e)) => {
                let waited = (now - item.queued_at).to_std().unwrap_or(Duration::ZERO);
                if waited >= policy.give_up {
                    let msg = format!("gave up after {attempts} attempts: {e}");
                    tracing::error!(event = "AlertFailed", alert_id = %item.id, attempts, error = %e, "alert undeliverable, gave up");
                    report.failed.push(item.id.clone());
                    store.mark_failed(&item.id, attempts, &msg, now)
                } else {
                    let delay = policy.delay(attempts);
                    let next = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(1800));
                    tracing::warn!(event = "AlertRetry", alert_id = %item.id, attempts, next_attempt = %next, error = %e, "alert not sent, will retry");
                    report.retried.push(item.id.clone());
                    store.mark_retry(&item.id, attempts, next, &e)
                }
            }
            Err(SendError::Permanent(e)) => {
                tracing::error!(event = "AlertFailed", alert_id = %item.id, attempts, error = %e, "alert refused by the server");
                report.failed.push(item.id.clone());
                store.mark_failed(&item.id, attempts, &e, now)
            }
        };
        if let Err(e) = outcome {
            report.store_errors.push(format!("{}: {e}", item.id));
        }
    }
    report
}
