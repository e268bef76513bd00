//! Reports over the read model (`entrywatch report NAME`): typed cells and columns, the
//! report registry, parameters and filters; one file per report, output formats in `format`.
//!
//! A report is a header plus a stream of rows: reports that can (entry-summary, liquidation,
//! rejected) iterate the model without collecting it; grouped reports (statements, brokers,
//! anomalies) keep one small accumulator per group.

pub mod anomalies;
pub mod brokers;
pub mod entry_summary;
pub mod format;
pub mod liquidation;
pub mod recovery;
pub mod rejected;
pub mod statements;
pub mod three_way;

use crate::view::{EntryFilter, ReadModel};
use chrono::{DateTime, FixedOffset, NaiveDate};

pub use format::{write_report, Format};

/// The report names `entrywatch report NAME` accepts.
pub const NAMES: &[&str] = &["entry-summary", "liquidation", "rejected", "anomalies", "statements", "brokers"];

/// One value of a row. Money is integer cents; rates are exact ratios; no floats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Cents, printed as dollars with two decimals.
    Money(i64),
    /// A percentage num/den, printed with one decimal (`12.5`).
    Pct {
        num: i64,
        den: i64,
    },
    /// A ratio num/den, printed with two decimals (`1.25`).
    Ratio {
        num: i64,
        den: i64,
    },
    /// A duration in minutes, printed as hours with one decimal.
    Hours(i64),
    /// A whole number of days.
    Days(i64),
    Date(NaiveDate),
    Bool(bool),
    /// No value (empty in text and CSV, `null` in JSON).
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn opt_money(v: Option<i64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Money)
    }
    pub fn opt_hours(v: Option<i64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Hours)
    }
    pub fn opt_days(v: Option<i64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Days)
    }
    pub fn opt_date(v: Option<NaiveDate>) -> Cell {
        v.map_or(Cell::Empty, Cell::Date)
    }
    pub fn pct(num: i64, den: i64) -> Cell {
        if den == 0 {
            Cell::Empty
        } else {
            Cell::Pct { num, den }
        }
    }
    pub fn ratio(num: i64, den: i64) -> Cell {
        if den == 0 {
            Cell::Empty
        } else {
            Cell::Ratio { num, den }
        }
    }

    /// Whether the value is a number (right-aligned in text, unquoted in JSON).
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Cell::Text(_) | Cell::Date(_) | Cell::Bool(_) | Cell::Empty)
    }

    /// The plain rendering used by text and CSV (and JSON for numbers).
    pub fn render(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) | Cell::Days(i) => i.to_string(),
            Cell::Money(c) => money(*c),
            Cell::Pct { num, den } => fixed(num.saturating_mul(1000), *den, 1),
            Cell::Ratio { num, den } => fixed(num.saturating_mul(100), *den, 2),
            Cell::Hours(m) => fixed(m.saturating_mul(10), 60, 1),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// Cents as dollars: `-1234.05` (`crate::money`).
pub use crate::money::plain as money;

/// `scaled / den` rounded half away from zero, printed with `decimals` decimals
/// (`scaled` is the value already multiplied by 10^decimals).
fn fixed(scaled: i64, den: i64, decimals: u32) -> String {
    if den == 0 {
        return String::new();
    }
    let (n, d) = (i128::from(scaled), i128::from(den));
    let q = (2 * n.abs() + d.abs()) / (2 * d.abs());
    let neg = (n < 0) != (d < 0) && q != 0;
    let p = 10i128.pow(decimals);
    let sign = if neg { "-" } else { "" };
    format!("{sign}{}.{:0width$}", q / p, q % p, width = decimals as usize)
}

/// A column: its name (CSV header, JSON key), text width, alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub width: usize,
}

pub const fn col(name: &'static str, width: usize) -> Column {
    Column { name, width }
}

/// A report: its name, columns and a stream of rows.
pub struct Report<'a> {
    pub name: &'static str,
    pub columns: Vec<Column>,
    pub rows: Box<dyn Iterator<Item = Vec<Cell>> + 'a>,
}

/// Parameters common to every report.
#[derive(Debug, Clone)]
pub struct Params {
    pub filter: EntryFilter,
    /// "Now", from the injected clock (hold age, open deadlines).
    pub now: DateTime<FixedOffset>,
    /// `anomalies`: holds open longer than this many days.
    pub hold_days: i64,
    /// `anomalies`: an effective duty rate this many basis points away from the HTS's median.
    pub rate_tolerance_bp: i64,
}

impl Params {
    pub fn new(filter: EntryFilter, now: DateTime<FixedOffset>) -> Params {
        Params { filter, now, hold_days: 5, rate_tolerance_bp: 50 }
    }
}

/// An unknown report name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report {0:?}; reports: entry-summary, liquidation, rejected, anomalies, statements, brokers")]
pub struct UnknownReport(pub String);

/// Build the named report over the model.
pub fn build<'a>(name: &str, model: &'a dyn ReadModel, p: &Params) -> Result<Report<'a>, UnknownReport> {
    Ok(match name {
        "entry-summary" => entry_summary::report(model, p),
        "liquidation" => liquidation::report(model, p),
        "rejected" => rejected::report(model, p),
        "anomalies" => anomalies::report(model, p),
        "statements" => statements::report(model, p),
        "brokers" => brokers::report(model, p),
        other => return Err(UnknownReport(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_without_floats() {
        assert_eq!(money(123456), "1234.56");
        assert_eq!(money(-5), "-0.05");
        assert_eq!(Cell::pct(1, 8).render(), "12.5");
        assert_eq!(Cell::pct(2, 3).render(), "66.7");
        assert_eq!(Cell::ratio(5, 4).render(), "1.25");
        assert_eq!(Cell::Hours(90).render(), "1.5");
        assert_eq!(Cell::Hours(-90).render(), "-1.5");
        assert_eq!(Cell::pct(1, 0), Cell::Empty);
    }
}
