//! The `acks` table, declared once: the X12 acknowledgments we send, the partner
//! acknowledgments we receive, and our control numbers.
//!
//! - `ctl|isa|<partner>`, `ctl|gs|<partner>` → `u64`: the last ISA13 / GS06 used (`ack::control`);
//! - `file|<sha256>` → `ack::send::AckFileRecord`: the acks of one received file;
//! - `entry|<entry>|<sha256>` → `Vec<String>` (the ack file names): the entry's ack trail;
//! - `seen|<partner>|<ISA13>` → the name of the file that first carried that interchange;
//! - `infile|<sha256>` → `Vec<ack::inbound::InboundAck>`: the partner acks read from one file;
//! - `in|<partner>|isa|<ISA13>`, `in|<partner>|gs|<GS06>`, `in|<partner>|st|<GS06>|<ST02>` →
//!   `InboundAck`: the latest status a partner gave for one of our control numbers;
//! - `event|<id, 20 digits>` → `ack::inbound::AckEvent`: rejection events, oldest first.

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::ack::inbound::{AckEvent, InboundAck};
use crate::ack::send::AckFileRecord;

fn control_key(kind: &str, partner: &str) -> Vec<u8> {
    format!("ctl|{kind}|{partner}").into_bytes()
}

/// The last number counter `kind` (`isa` or `gs`) of `partner` used, inside a transaction.
pub fn control_tx(tx: &StoreTx<'_>, kind: &str, partner: &str) -> Result<Option<u64>, TxError> {
    tx.get(Table::Acks, &control_key(kind, partner))
}

/// Set counter `kind` of `partner` to the last number used.
pub fn set_control_tx(tx: &mut StoreTx<'_>, kind: &str, partner: &str, last: u64) -> Result<(), TxError> {
    tx.put(Table::Acks, &control_key(kind, partner), &last)
}

/// The last number counter `kind` of `partner` used.
pub fn control(store: &Store, kind: &str, partner: &str) -> Result<Option<u64>, StoreError> {
    store.get(Table::Acks, &control_key(kind, partner))
}

fn file_key(sha: &str) -> Vec<u8> {
    format!("file|{sha}").into_bytes()
}

fn entry_key(entry: &str, sha: &str) -> Vec<u8> {
    format!("entry|{entry}|{sha}").into_bytes()
}

/// The acks sent for a received file.
pub fn sent(store: &Store, sha256: &str) -> Result<Option<AckFileRecord>, StoreError> {
    store.get(Table::Acks, &file_key(sha256))
}

/// Record the acks of a received file and index them under each entry the file touched.
pub fn put_sent_tx(tx: &mut StoreTx<'_>, rec: &AckFileRecord) -> Result<(), TxError> {
    tx.put(Table::Acks, &file_key(&rec.sha256), rec)?;
    // The index is its keys (`sent_for_entry` reads no value): each holds 1. A list of the
    // file's replies under each of its entries made a file of N interchanges, one entry each,
    // write N x N names (a 10 MB 350 file: 28 GB).
    for e in &rec.entries {
        tx.put(Table::Acks, &entry_key(e, &rec.sha256), &1u8)?;
    }
    Ok(())
}

/// Rewrite a file's ack record (which replies are written); the entry index is unchanged.
pub fn update_sent_tx(tx: &mut StoreTx<'_>, rec: &AckFileRecord) -> Result<(), TxError> {
    tx.put(Table::Acks, &file_key(&rec.sha256), rec)
}

/// Every file's ack record, in key order.
pub fn all_sent(store: &Store) -> impl Iterator<Item = Result<AckFileRecord, StoreError>> + '_ {
    store.scan_prefix::<AckFileRecord>(Table::Acks, b"file|").map(|r| r.map(|(_, v)| v))
}

/// The SHA-256 of every file with acks that touched `entry` (compact number), in key order.
pub fn sent_for_entry<'a>(store: &'a Store, entry: &str) -> impl Iterator<Item = Result<String, StoreError>> + 'a {
    store
        .keys_with_prefix(Table::Acks, format!("entry|{entry}|").as_bytes())
        .map(|k| k.map(|k| String::from_utf8_lossy(&k).rsplit('|').next().unwrap_or_default().to_string()))
}

/// Key under which an interchange (partner, ISA13) is remembered as seen.
pub fn seen_key(partner: &str, isa13: &str) -> Vec<u8> {
    format!("seen|{partner}|{isa13}").into_bytes()
}

/// Whether an interchange was seen before (its key from [`seen_key`]).
pub fn was_seen(store: &Store, key: &[u8]) -> Result<bool, StoreError> {
    Ok(store.get::<String>(Table::Acks, key)?.is_some())
}

/// Remember an interchange as seen, in `file`.
pub fn mark_seen_tx(tx: &mut StoreTx<'_>, key: &[u8], file: &str) -> Result<(), TxError> {
    tx.put(Table::Acks, key, &file)
}

fn infile_key(sha256: &str) -> Vec<u8> {
    format!("infile|{sha256}").into_bytes()
}

fn inbound_key(a: &InboundAck) -> Vec<u8> {
    match a.level.as_str() {
        "interchange" => format!("in|{}|isa|{}", a.partner, a.control_number),
        "group" => format!("in|{}|gs|{}", a.partner, a.control_number),
        _ => format!("in|{}|st|{}|{}", a.partner, a.control_number, a.set_control_number.as_deref().unwrap_or("")),
    }
    .into_bytes()
}

/// Whether the partner acks of a file are recorded.
pub fn inbound_recorded(store: &Store, sha256: &str) -> Result<bool, StoreError> {
    Ok(store.get::<Vec<InboundAck>>(Table::Acks, &infile_key(sha256))?.is_some())
}

/// Record the partner acks read from one file (each also as the latest status of the control
/// number it answers) and the rejection events they raise.
pub fn put_inbound_tx(
    tx: &mut StoreTx<'_>,
    sha256: &str,
    acks: &[InboundAck],
    events: &[AckEvent],
) -> Result<(), TxError> {
    tx.put(Table::Acks, &infile_key(sha256), &acks)?;
    for a in acks {
        tx.put(Table::Acks, &inbound_key(a), a)?;
    }
    for e in events {
        let id = tx.generate_id()?;
        tx.put(Table::Acks, format!("event|{id:020}").as_bytes(), e)?;
    }
    Ok(())
}

/// The latest status a partner gave for one of our control numbers (`isa|<ISA13>`,
/// `gs|<GS06>` or `st|<GS06>|<ST02>`).
pub fn latest_inbound(store: &Store, partner: &str, reference: &str) -> Result<Option<InboundAck>, StoreError> {
    store.get(Table::Acks, format!("in|{partner}|{reference}").as_bytes())
}

/// Every recorded rejection event, oldest first.
pub fn events(store: &Store) -> impl Iterator<Item = Result<AckEvent, StoreError>> + '_ {
    store.scan_prefix::<AckEvent>(Table::Acks, b"event|").map(|kv| kv.map(|(_, v)| v))
}
