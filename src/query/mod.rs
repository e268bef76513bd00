//! The query side: one entry's typed view ([`entry`]) and the indexes ([`index`]) that the
//! dashboard, `/api`, reports and the reminder scheduler read without passing over every
//! entry, kept in each file's transaction (no start-up pass; `rebuild` recreates them).

pub mod entry;
pub mod index;
pub mod recovery;

pub use index::{IndexCtx, IndexedDeadline};

/// Every status an entry list can be filtered by (`entries --status`, `/entries?status=`):
/// the summary, release, liquidation and variance statuses as their enums spell them, and
/// `open-holds` (index facets `status`, [`index`]). One list for the CLI and the dashboard.
pub const STATUSES: [&str; 18] = [
    "none",
    "filed",
    "accepted",
    "rejected",
    "deleted",
    "pending",
    "held",
    "released",
    "cancelled",
    "unliquidated",
    "scheduled",
    "liquidated",
    "extended",
    "suspended",
    "minor",
    "major",
    "no-pre-entry",
    "open-holds",
];
