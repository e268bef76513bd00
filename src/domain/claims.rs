//! A refund program claim as plain data: what one result file says of one entry (`ClaimRow`,
//! carried by the `refund-claim` fact) and the per-program claim state folded from those facts.
//! Reading the result files is `crate::recovery::result` (source status: secondary, see there).

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// What the program says of one entry's claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimStatus {
    /// Received, not yet decided (submitted, pending, in process).
    Submitted,
    /// Accepted (also "accepted with error(s)" at entry level: its errors are kept).
    Accepted,
    /// Rejected or failed validation.
    Rejected,
    /// The refund was paid (ACH).
    Refunded,
    /// A status entrywatch does not know: kept as CBP wrote it, with a warning.
    #[default]
    Unknown,
}

impl ClaimStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::Submitted => "submitted",
            ClaimStatus::Accepted => "accepted",
            ClaimStatus::Rejected => "rejected",
            ClaimStatus::Refunded => "refunded",
            ClaimStatus::Unknown => "unknown",
        }
    }

    /// Whether the program holds the entry (a PSC on it is then refused).
    pub fn holds_entry(self) -> bool {
        matches!(self, ClaimStatus::Accepted | ClaimStatus::Refunded)
    }
}

/// One error the program reported on an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClaimError {
    pub code: String,
    pub text: String,
}

impl ClaimError {
    fn words(&self) -> String {
        match (self.code.is_empty(), self.text.is_empty()) {
            (false, false) => format!("{} {}", self.code, self.text),
            (false, true) => self.code.clone(),
            _ => self.text.clone(),
        }
    }
}

/// What one result file says of one entry (all its rows merged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClaimRow {
    /// The refund program (grammars/remedies/), e.g. `cape`.
    pub program: String,
    pub status: ClaimStatus,
    /// The status as the file wrote it.
    pub status_text: String,
    pub claim_number: String,
    pub errors: Vec<ClaimError>,
    /// Amount claimed / refunded for the entry, in cents, when the file gives it.
    pub claimed_cents: Option<i64>,
    pub refunded_cents: Option<i64>,
    pub refund_date: Option<NaiveDate>,
    /// 1-based rows of the file this entry's data came from.
    pub rows: Vec<usize>,
}

impl ClaimRow {
    /// The event-log detail: `CAPE accepted, claim C123; claimed 1.00; refunded 1.00`.
    pub fn detail(&self) -> String {
        let mut d = format!("{} {}", self.program.to_uppercase(), self.status.as_str());
        if self.status == ClaimStatus::Unknown && !self.status_text.is_empty() {
            d.push_str(&format!(" ({:?})", self.status_text));
        }
        if !self.claim_number.is_empty() {
            d.push_str(&format!(", claim {}", self.claim_number));
        }
        if let Some(c) = self.claimed_cents {
            d.push_str(&format!("; claimed {}", crate::money::plain(c)));
        }
        if let Some(c) = self.refunded_cents {
            d.push_str(&format!("; refunded {}", crate::money::plain(c)));
        }
        if let Some(r) = self.refund_date {
            d.push_str(&format!(" on {r}"));
        }
        if !self.errors.is_empty() {
            let e: Vec<String> = self.errors.iter().map(ClaimError::words).collect();
            d.push_str(&format!("; errors: {}", e.join("; ")));
        }
        d
    }
}

/// An entry's claim with one program, as the latest result file says (amounts and claim
/// number kept from earlier files when a later one leaves them blank).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ClaimState {
    pub program: String,
    pub status: ClaimStatus,
    pub status_text: String,
    pub claim_number: String,
    pub errors: Vec<ClaimError>,
    pub claimed_cents: Option<i64>,
    pub refunded_cents: Option<i64>,
    pub refund_date: Option<NaiveDate>,
    /// When the latest result file about it was processed.
    pub at: Option<NaiveDateTime>,
}

impl ClaimState {
    /// `accepted (claim C123)` / `rejected (claim C9): 864 PSC not allowed`.
    pub fn summary(&self) -> String {
        let mut s = self.status.as_str().to_string();
        if !self.claim_number.is_empty() {
            s.push_str(&format!(" (claim {})", self.claim_number));
        }
        if !self.errors.is_empty() {
            let e: Vec<String> = self.errors.iter().map(ClaimError::words).collect();
            s.push_str(&format!(": {}", e.join("; ")));
        }
        s
    }
}

/// Fold one result into the entry's claims (facts come in canonical order).
pub fn fold(claims: &mut Vec<ClaimState>, row: &ClaimRow, at: NaiveDateTime) {
    let i = match claims.iter().position(|c| c.program == row.program) {
        Some(i) => i,
        None => {
            claims.push(ClaimState { program: row.program.clone(), ..ClaimState::default() });
            claims.len() - 1
        }
    };
    let c = &mut claims[i];
    // A refund once paid stays paid whatever a later validation file says of the entry.
    if !(c.status == ClaimStatus::Refunded && row.status != ClaimStatus::Refunded) {
        c.status = row.status;
        c.status_text.clone_from(&row.status_text);
        c.errors.clone_from(&row.errors);
    }
    if !row.claim_number.is_empty() {
        c.claim_number.clone_from(&row.claim_number);
    }
    c.claimed_cents = row.claimed_cents.or(c.claimed_cents);
    c.refunded_cents = row.refunded_cents.or(c.refunded_cents);
    c.refund_date = row.refund_date.or(c.refund_date);
    c.at = Some(at);
}

/// The claim with `program` on an entry, if any result file named it.
pub fn claim<'a>(claims: &'a [ClaimState], program: &str) -> Option<&'a ClaimState> {
    claims.iter().find(|c| c.program.eq_ignore_ascii_case(program))
}
