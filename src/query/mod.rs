//! The query side's indexes: what the dashboard, `/api`, reports and the reminder scheduler
//! read without passing over every entry. Kept in each file's transaction ([`index`]), so the
//! daemon needs no start-up pass and `rebuild` recreates them.

pub mod index;

pub use index::{IndexCtx, IndexedDeadline};
