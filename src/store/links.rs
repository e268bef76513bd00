//! Key formats of the `links` table (the affected-entries index), declared once.
//!
//! - `p|<kind>|<value>` → `Vec<String>`: the entry keys (`EEE12345673`) sharing the link,
//!   sorted and without repeats (a posting list: one `get` finds every entry, no scan).
//! - `e|<entry>` → `Vec<(kind, value)>`: the links last indexed for the entry, so a change
//!   removes the links it no longer has.

/// Key of the posting list for one link.
pub fn posting_key(kind: &str, value: &str) -> Vec<u8> {
    format!("p|{kind}|{value}").into_bytes()
}

/// Key of an entry's own link list.
pub fn entry_key(entry: &str) -> Vec<u8> {
    format!("e|{entry}").into_bytes()
}
