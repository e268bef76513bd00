//! The `statements` table, declared once: which entries are on which daily statement, and the
//! monthly statements that list a daily one (so an entry that arrives later gets them too).
//!
//! - `e|<daily statement>|<entry key>` → 1, for each entry on a daily statement;
//! - `m|<daily statement>` → `Vec<interpret::MonthlyLink>`, the monthly statements listing it.

use super::{Store, StoreError, StoreTx, Table, TxError};
use crate::interpret::MonthlyLink;

fn entry_key(statement: &str, entry: &str) -> String {
    format!("e|{statement}|{entry}")
}

fn monthly_key(statement: &str) -> String {
    format!("m|{statement}")
}

/// The entry keys on a daily statement, in order.
pub fn entries_on(store: &Store, statement: &str) -> Result<Vec<String>, StoreError> {
    let prefix = format!("e|{statement}|");
    let mut out = Vec::new();
    for k in store.keys_with_prefix(Table::Statements, prefix.as_bytes()) {
        let k = k?;
        if let Some(e) = k.get(prefix.len()..) {
            out.push(String::from_utf8_lossy(e).into_owned());
        }
    }
    Ok(out)
}

/// Put an entry on a daily statement (once).
pub fn add_entry_tx(tx: &mut StoreTx<'_>, statement: &str, entry: &str) -> Result<(), TxError> {
    let k = entry_key(statement, entry);
    if tx.get::<u8>(Table::Statements, k.as_bytes())?.is_none() {
        tx.put(Table::Statements, k.as_bytes(), &1u8)?;
    }
    Ok(())
}

/// The monthly statements that list a daily statement (empty when none).
pub fn monthly_tx(tx: &StoreTx<'_>, statement: &str) -> Result<Vec<MonthlyLink>, TxError> {
    Ok(tx.get(Table::Statements, monthly_key(statement).as_bytes())?.unwrap_or_default())
}

/// Remember that a monthly statement lists a daily statement (once).
pub fn add_monthly_tx(tx: &mut StoreTx<'_>, link: &MonthlyLink) -> Result<(), TxError> {
    let k = monthly_key(&link.daily_number);
    let mut links: Vec<MonthlyLink> = tx.get(Table::Statements, k.as_bytes())?.unwrap_or_default();
    if !links.contains(link) {
        links.push(link.clone());
        tx.put(Table::Statements, k.as_bytes(), &links)?;
    }
    Ok(())
}
