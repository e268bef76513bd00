//! Sending acknowledgments for one received X12 file: plan; in ONE store transaction take the
//! control numbers and record the rendered acks in the file's audit trail (table `acks`, key
//! `file|<sha256>`); flush; write each reply atomically into the inbox's ack dir (temporary name,
//! fsync, rename, fsync dir); mark it written.
//!
//! Idempotent: a file already acknowledged is not acknowledged again (a retry after a crash only
//! writes the replies recorded but not yet written, with the same bytes and control numbers).

use super::build::{collect, plan, AckPlan, Collector, ReceivedInterchange};
use super::control::{take, Reserved};
use super::envelope::{render, AckOptions};
use super::inbound::InboundCollector;
use crate::config::{AckKind, Inbox};
use crate::grammar::Grammars;
use crate::parse::x12::X12Event;
use crate::parse::{self, Format};
use crate::store::acks;
use crate::store::{Store, StoreError};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One reply interchange written (or to be written) into an ack dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentAck {
    /// File name in the ack dir.
    pub file: String,
    /// `ISA05:ISA06` of the partner we answer.
    pub partner: String,
    /// Our ISA13.
    pub interchange_control: u64,
    /// Our first GS06 (one per acknowledged group, increasing).
    pub first_group_control: u64,
    /// The partner's ISA13 we acknowledge.
    pub acknowledged_interchange: String,
    /// What the reply says (TA1, per-group AK9 and per-set AK5 statuses).
    pub plan: AckPlan,
    /// The reply's bytes.
    pub bytes: Vec<u8>,
    /// Renamed into place.
    pub written: bool,
}

/// The audit record of the acks sent for one received file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckFileRecord {
    pub sha256: String,
    pub name: String,
    pub inbox: String,
    pub received: NaiveDateTime,
    /// The ack dir the replies go to.
    pub dir: PathBuf,
    /// Entries the file touched (their audit trail reaches the acks through this record).
    pub entries: Vec<String>,
    pub acks: Vec<SentAck>,
}

/// The received file, as the pipeline knows it.
#[derive(Debug, Clone)]
pub struct ReceivedFile<'a> {
    pub name: &'a str,
    pub sha256: &'a str,
    /// When it was received (local time): ISA09/10 and GS04/05 of the replies.
    pub received: NaiveDateTime,
    /// Entry numbers the file's facts touched.
    pub entries: Vec<String>,
}

fn safe(s: &str) -> String {
    let v: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).take(15).collect();
    if v.is_empty() {
        "partner".into()
    } else {
        v
    }
}

/// The acks of a received file, from the store (its audit trail).
pub fn acks_of(store: &Store, sha256: &str) -> Result<Option<AckFileRecord>, StoreError> {
    acks::sent(store, sha256)
}

/// The ack records of every file that touched `entry` (compact entry number, `EEE12345673`), in
/// store order: the entry's audit trail of acknowledgments (index `entry|<entry>|<sha256>`).
pub fn acks_for_entry(store: &Store, entry: &str) -> Result<Vec<AckFileRecord>, StoreError> {
    let mut out = Vec::new();
    for sha in acks::sent_for_entry(store, entry) {
        if let Some(rec) = acks_of(store, &sha?)? {
            out.push(rec);
        }
    }
    Ok(out)
}

/// Build, record and write the acknowledgments of one X12 file received on `inbox`. Nothing
/// happens when the inbox has no `ack-dir` or the file is not X12. Returns the acks of the file
/// (also when it was acknowledged before). Store errors are returned; a failed write into the
/// ack dir is logged and left pending for [`retry_pending`].
pub fn acknowledge_file(
    store: &Store,
    inbox: &Inbox,
    grammars: &Grammars,
    bytes: &[u8],
    file: &ReceivedFile<'_>,
) -> Result<Vec<SentAck>, StoreError> {
    if inbox.ack_dir.is_none() || parse::sniff(bytes) != Format::X12 {
        return Ok(Vec::new());
    }
    acknowledge_with(store, inbox, || collect(bytes, grammars), file)
}

/// [`acknowledge_file`] of an X12 file whose interchanges `received` gives (read from its
/// bytes, or collected during a streamed read); called only when the file was not
/// acknowledged before.
fn acknowledge_with(
    store: &Store,
    inbox: &Inbox,
    received: impl FnOnce() -> Vec<ReceivedInterchange>,
    file: &ReceivedFile<'_>,
) -> Result<Vec<SentAck>, StoreError> {
    let Some(dir) = inbox.ack_dir.clone() else { return Ok(Vec::new()) };
    if let Some(rec) = acks_of(store, file.sha256)? {
        return write_pending(store, rec);
    }
    let opts = AckOptions::new(inbox.ack_kind);
    let mut plans = Vec::new();
    let mut seen = Vec::new();
    for ic in received() {
        let skey = acks::seen_key(&ic.partner(), &ic.header.control_number);
        let seen_before = acks::was_seen(store, &skey)?;
        seen.push(skey);
        let p = plan(&ic, inbox.ack_kind, seen_before);
        if !p.is_empty() {
            plans.push((ic, p));
        }
    }
    // One transaction: the control numbers, the rendered replies and the file's record; flushed
    // before any reply is written, so a number on disk is never handed out again.
    let rec = store.transaction(|tx| {
        let mut acks = Vec::new();
        for (ic, p) in &plans {
            let partner = ic.partner();
            let numbers = Reserved {
                interchange: take(tx, "isa", &partner, 1)?,
                first_group: take(tx, "gs", &partner, p.groups.len() as u64)?,
            };
            let out = render(&ic.header, p, &opts, &numbers, file.received);
            let kind = match (p.groups.is_empty(), inbox.ack_kind) {
                (true, _) => "TA1",
                (false, AckKind::Ack997) => "997",
                (false, AckKind::Ack999) => "999",
            };
            acks.push(SentAck {
                file: format!("{kind}-{}-{:09}.x12", safe(&ic.header.sender_id), numbers.interchange),
                partner,
                interchange_control: numbers.interchange,
                first_group_control: numbers.first_group,
                acknowledged_interchange: ic.header.control_number.clone(),
                plan: p.clone(),
                bytes: out,
                written: false,
            });
        }
        let rec = AckFileRecord {
            sha256: file.sha256.to_string(),
            name: file.name.to_string(),
            inbox: inbox.name.clone(),
            received: file.received,
            dir: dir.clone(),
            entries: file.entries.clone(),
            acks,
        };
        acks::put_sent_tx(tx, &rec)?;
        for k in &seen {
            acks::mark_seen_tx(tx, k, file.name)?;
        }
        Ok(rec)
    })?;
    store.flush()?;
    write_pending(store, rec)
}

/// Write the replies of `rec` not written yet, then mark them written.
fn write_pending(store: &Store, mut rec: AckFileRecord) -> Result<Vec<SentAck>, StoreError> {
    let mut changed = false;
    for a in rec.acks.iter_mut().filter(|a| !a.written) {
        match write_atomic(&rec.dir, &a.file, &a.bytes) {
            Ok(path) => {
                a.written = true;
                changed = true;
                tracing::info!(target: "entrywatch", event = "AckWritten", file = %path.display(),
                    partner = %a.partner, control_number = a.interchange_control, of = %rec.name);
            }
            Err(e) => {
                tracing::error!(target: "entrywatch", event = "AckWriteFailed", dir = %rec.dir.display(),
                    file = %a.file, error = %e, of = %rec.name);
            }
        }
    }
    if changed {
        store.transaction(|tx| acks::update_sent_tx(tx, &rec))?;
        store.flush()?;
    }
    Ok(rec.acks)
}

/// Write the acks recorded but not written (ack dir unavailable earlier, or a crash between the
/// record and the rename). Returns how many were written now.
pub fn retry_pending(store: &Store) -> Result<usize, StoreError> {
    let mut pending = Vec::new();
    for rec in acks::all_sent(store) {
        let rec = rec?;
        if rec.acks.iter().any(|a| !a.written) {
            pending.push(rec);
        }
    }
    let mut n = 0;
    for rec in pending {
        let before = rec.acks.iter().filter(|a| a.written).count();
        let after = write_pending(store, rec)?.iter().filter(|a| a.written).count();
        n += after - before.min(after);
    }
    Ok(n)
}

/// Write `bytes` as `dir/name`: a temporary `.name.tmp` first, fsync, rename, fsync the dir.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &target)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(target)
}

/// What the acknowledgment side needs of a received X12 file, gathered from the reader's
/// events while the file is read once (streamed): partners' acknowledgments in it, and, when
/// the inbox has an `ack-dir`, each interchange's results (what [`collect`] gives; its size
/// grows with the number of interchanges and sets, not with their bytes).
#[derive(Debug)]
pub struct AckCollector {
    inbound: InboundCollector,
    received: Option<Collector>,
}

impl AckCollector {
    /// For the file `name` (its SHA-256, when it was received) on `inbox`.
    pub fn new(inbox: &Inbox, name: &str, sha256: &str, received: NaiveDateTime) -> AckCollector {
        AckCollector {
            inbound: InboundCollector::new(name, sha256, received),
            received: inbox.ack_dir.as_ref().map(|_| Collector::default()),
        }
    }

    /// One reader event.
    pub fn on(&mut self, ev: &X12Event<'_>) {
        self.inbound.on(ev);
        if let Some(c) = self.received.as_mut() {
            c.on(ev);
        }
    }
}

/// [`on_received_file`] for an X12 file read streamed: `collected` saw every event of the read
/// whose diagnostics are `diagnostics` (the reader's, in file order).
pub fn on_received_collected(
    store: &Store,
    inbox: &Inbox,
    collected: AckCollector,
    diagnostics: &[crate::parse::error::Diagnostic],
    file: &ReceivedFile<'_>,
) -> Result<(), StoreError> {
    super::inbound::record_parsed(store, collected.inbound.acks, file.name, file.sha256)?;
    if let Some(c) = collected.received {
        acknowledge_with(store, inbox, || c.finish(diagnostics), file)?;
    }
    Ok(())
}

/// The pipeline's call for every received file: record partners' acknowledgments in it, and
/// acknowledge it when its inbox has an `ack-dir`. Non-X12 files are ignored.
pub fn on_received_file(
    store: &Store,
    inbox: &Inbox,
    grammars: &Grammars,
    bytes: &[u8],
    file: &ReceivedFile<'_>,
) -> Result<(), StoreError> {
    if parse::sniff(bytes) != Format::X12 {
        return Ok(());
    }
    super::inbound::record_inbound(store, grammars, bytes, file.name, file.sha256, file.received)?;
    acknowledge_file(store, inbox, grammars, bytes, file)?;
    Ok(())
}
