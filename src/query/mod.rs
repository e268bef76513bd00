//! The query side: one entry's typed view ([`entry`]) and the indexes ([`index`]) that the
//! dashboard, `/api`, reports and the reminder scheduler read without passing over every
//! entry, kept in each file's transaction (no start-up pass; `rebuild` recreates them).

pub mod entry;
pub mod index;
pub mod recovery;

pub use index::{IndexCtx, IndexedDeadline};
