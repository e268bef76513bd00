//! Control numbers of the acknowledgments we send: ISA13 and GS06 per partner, kept in the store's
//! `acks` table, increasing, reserved inside a store transaction so a restart never reuses one.
//!
//! Keys: `ctl|isa|<partner>` and `ctl|gs|<partner>` → the last number used (u64 JSON; `store::acks`). ISA13 and
//! GS06 are nine digits: after 999999999 the counter starts again at 1 (documented in docs/acks.md).

use crate::store::acks;
use crate::store::{Store, StoreError, StoreTx, Table, TxError};
use serde::{Deserialize, Serialize};

/// The largest nine-digit control number.
pub const MAX_CONTROL: u64 = 999_999_999;

/// Numbers reserved for one reply interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserved {
    /// ISA13 / IEA02
    pub interchange: u64,
    /// GS06 of the first FA group; the others follow (+1 each).
    pub first_group: u64,
}

/// Take `count` consecutive numbers from the counter `kind` of `partner` inside `tx`; returns the first.
pub fn take(tx: &mut StoreTx<'_>, kind: &str, partner: &str, count: u64) -> Result<u64, TxError> {
    let last = acks::control_tx(tx, kind, partner)?.unwrap_or(0);
    let count = count.max(1);
    let first = if last.saturating_add(count) > MAX_CONTROL { 1 } else { last + 1 };
    acks::set_control_tx(tx, kind, partner, first + count - 1)?;
    Ok(first)
}

/// The next interchange control number (ISA13) for `partner`, committed (not yet flushed).
pub fn next_control_number(store: &Store, partner: &str) -> Result<u64, StoreError> {
    store.transaction(|tx| take(tx, "isa", partner, 1))
}

/// Reserve one ISA13 and `groups` GS06 numbers for `partner` in one transaction, and flush, so
/// the numbers are durable before any file carrying them is written.
pub fn reserve(store: &Store, partner: &str, groups: usize) -> Result<Reserved, StoreError> {
    let r = store.transaction(|tx| {
        let interchange = take(tx, "isa", partner, 1)?;
        let first_group = take(tx, "gs", partner, groups as u64)?;
        Ok(Reserved { interchange, first_group })
    })?;
    store.flush()?;
    Ok(r)
}

/// The last number used by counter `kind` (`isa` or `gs`) of `partner` (0 when none yet).
pub fn last_used(store: &Store, kind: &str, partner: &str) -> Result<u64, StoreError> {
    Ok(acks::control(store, kind, partner)?.unwrap_or(0))
}

/// Copy the whole `acks` table (control numbers, sent-ack records, inbound acks) from the store
/// at `from` into `to`: `entrywatch rebuild` replays the archive into a fresh store, and the
/// control numbers must not start again at 1. Returns how many keys were copied.
pub fn carry_over(from: &std::path::Path, to: &Store) -> Result<usize, StoreError> {
    carry_tables(from, to, &[Table::Acks])
}

/// Copy whole tables of the store at `from` into `to` (used by `rebuild` for what the archive
/// cannot replay). Returns the number of keys copied.
pub fn carry_tables(from: &std::path::Path, to: &Store, tables: &[Table]) -> Result<usize, StoreError> {
    let old = Store::open(from)?;
    let mut n = 0;
    for &table in tables {
        for kv in old.scan::<serde_json::Value>(table) {
            let (k, v) = kv?;
            to.transaction(|tx| tx.put(table, &k, &v))?;
            n += 1;
        }
    }
    to.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_increase_per_partner_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("store");
        {
            let s = Store::open(&p).unwrap();
            assert_eq!(next_control_number(&s, "ZZ:A").unwrap(), 1);
            assert_eq!(next_control_number(&s, "ZZ:A").unwrap(), 2);
            assert_eq!(next_control_number(&s, "ZZ:B").unwrap(), 1);
            let r = reserve(&s, "ZZ:A", 3).unwrap();
            assert_eq!(r, Reserved { interchange: 3, first_group: 1 });
        }
        let s = Store::open(&p).unwrap();
        let r = reserve(&s, "ZZ:A", 1).unwrap();
        assert_eq!(r, Reserved { interchange: 4, first_group: 4 });
        assert_eq!(last_used(&s, "gs", "ZZ:A").unwrap(), 4);
    }

    #[test]
    fn wraps_after_nine_digits() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("store")).unwrap();
        s.transaction(|tx| acks::set_control_tx(tx, "isa", "P", MAX_CONTROL - 1)).unwrap();
        assert_eq!(next_control_number(&s, "P").unwrap(), MAX_CONTROL);
        assert_eq!(next_control_number(&s, "P").unwrap(), 1);
    }
}
