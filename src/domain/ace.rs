//! ACE's own record of an entry as plain data (ES-003 rows, the record folded from the latest
//! `ace-reported` fact). Reading the export is `crate::ace`; comparing it is `crate::ace::compare`.
//!
//! Source status: CBP publishes no column list for ES-003 (secondary); see `crate::ace`.

use super::Source;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// One ES-003 row: one tariff ordinal of one line. Money in cents, quantities in hundredths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AceRow {
    /// 1-based row in the file (CSV line of the record's start, XLSX sheet row).
    pub row: usize,
    pub line: u32,
    pub ordinal: u32,
    pub hts: String,
    pub country_of_origin: String,
    pub country_of_export: String,
    pub manufacturer: String,
    pub spi: String,
    pub quantity_hundredths: Option<i64>,
    pub uom: String,
    pub value_cents: Option<i64>,
    pub duty_cents: Option<i64>,
    pub rate: String,
    pub line_psc: bool,
}

/// What ACE holds about one entry in one export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AceEntry {
    pub entry_type: String,
    pub importer: String,
    pub importer_name: String,
    pub port: String,
    pub filer_name: String,
    pub entry_date: Option<NaiveDate>,
    pub summary_date: Option<NaiveDate>,
    pub import_date: Option<NaiveDate>,
    pub reconciliation: String,
    pub control_status: String,
    pub psc: bool,
    pub liquidation_date: Option<NaiveDate>,
    pub liquidation_status: String,
    pub final_liquidation: String,
    pub protest_number: String,
    pub protest_status: String,
    pub review_team: String,
    pub rows: Vec<AceRow>,
}

impl AceEntry {
    /// Whether ACE reports the entry liquidated (status text or final-liquidation flag).
    pub fn liquidated(&self) -> bool {
        let s = self.liquidation_status.to_ascii_lowercase();
        (s.contains("liquidated") && !s.contains("unliquidated") && !s.contains("not"))
            || s == "l"
            || flag(&self.final_liquidation)
    }
}

/// `Y`, `YES`, `TRUE`, `1` → true.
pub fn flag(s: &str) -> bool {
    matches!(s.trim().to_ascii_uppercase().as_str(), "Y" | "YES" | "TRUE" | "1" | "X")
}

/// ACE's record of an entry as last exported, with the file and time it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AceRecord {
    pub at: NaiveDateTime,
    pub source: Source,
    pub entry: AceEntry,
    /// How many ES-003 exports mentioned the entry (the timeline keeps each).
    pub exports: usize,
}
