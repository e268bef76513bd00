//! The approved pre-entry CSV reader (interface.md "Approved pre-entry"): header row, one row per tariff line.
//!
//! Knows nothing of entries: it yields typed rows (money in cents, quantities in hundredths,
//! rates in millionths) and diagnostics with line and byte. Codes: `CSV001` no header /
//! missing required column, `CSV002` unreadable row, `CSV003` bad number, `CSV004` neither
//! entry number nor importer + broker reference, `CSV005` no rows.

// Untrusted input never panics: index with get(), not [] (exceptions are allowed in place,
// each with its reason).
#![deny(clippy::indexing_slicing)]

use super::error::{Diagnostic, Position};
use serde::Serialize;

/// The `csv` key of `parse --json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CsvSummary {
    pub rows: usize,
    /// Distinct pre-entries (by entry number, else importer + broker reference).
    pub pre_entries: usize,
}

/// One row, typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PreEntryRow {
    /// 1-based line of the row in the file.
    pub line: usize,
    pub byte: usize,
    pub entry_number: String,
    pub importer_number: String,
    pub broker_reference: String,
    pub invoice_number: String,
    pub po_number: String,
    pub po_line: String,
    pub line_number: u32,
    pub hts: String,
    pub country_of_origin: String,
    pub spi: String,
    pub quantity_hundredths: i64,
    pub uom: String,
    pub value_cents: i64,
    pub duty_rate_millionths: Option<i64>,
    pub duty_cents: i64,
    /// Optional columns `bill_of_lading`, `container`, `manufacturer_id` (docs/affected.md).
    pub bill_of_lading: String,
    pub container: String,
    pub manufacturer_id: String,
}

const REQUIRED: [&str; 5] = ["entry_number", "importer_number", "broker_reference", "line_number", "hts"];

/// Parse a decimal string into an integer scaled by 10^`scale` (no floats). `None` when not a number.
pub fn scaled(s: &str, scale: u32) -> Option<i64> {
    let s = s.trim().replace(',', "");
    if s.is_empty() {
        return Some(0);
    }
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, s.strip_prefix('+').unwrap_or(&s).to_string()),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (s.clone(), String::new()),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > scale as usize
        || int.len() > 15
    {
        return None;
    }
    let mut v: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    v = v.checked_mul(10i64.checked_pow(scale)?)?;
    if !frac.is_empty() {
        let f: i64 = frac.parse().ok()?;
        v = v.checked_add(f.checked_mul(10i64.checked_pow(scale - frac.len() as u32)?)?)?;
    }
    Some(if neg { -v } else { v })
}

/// A duty rate as a fraction (`0.165`) or a percentage (`16.5%`), in millionths.
pub fn rate(s: &str) -> Option<Option<i64>> {
    let t = s.trim();
    if t.is_empty() {
        return Some(None);
    }
    match t.strip_suffix('%') {
        Some(p) => scaled(p, 4).map(Some),
        None => scaled(t, 6).map(Some),
    }
}

/// Read every row; rows with problems give diagnostics (all of them, in one pass).
pub fn read(bytes: &[u8]) -> (Vec<PreEntryRow>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let offset = bytes.len() - text.len();
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text);
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(e) => {
            diags.push(Diagnostic::error(
                "CSV001",
                format!("no readable header row: {e}"),
                Position::at_byte(bytes, 0),
            ));
            return (Vec::new(), diags);
        }
    };
    for r in REQUIRED {
        if !headers.iter().any(|h| h == r) {
            diags.push(Diagnostic::error("CSV001", format!("header has no `{r}` column"), Position::at_byte(bytes, 0)));
        }
    }
    if !diags.is_empty() {
        return (Vec::new(), diags);
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let byte = e.position().map_or(0, |p| p.byte() as usize + offset);
                diags.push(Diagnostic::error("CSV002", format!("unreadable row: {e}"), Position::at_byte(bytes, byte)));
                continue;
            }
        };
        let byte = rec.position().map_or(0, |p| p.byte() as usize + offset);
        let pos = Position::at_byte(bytes, byte);
        if rec.iter().all(|f| f.is_empty()) {
            continue;
        }
        let get = |name: &str| col(name).and_then(|i| rec.get(i)).unwrap_or("").to_string();
        let mut bad = |field: &str, v: &str| {
            diags.push(Diagnostic::error("CSV003", format!("`{field}` {v:?} is not a number"), pos));
        };
        let mut row = PreEntryRow {
            line: pos.line,
            byte,
            entry_number: get("entry_number"),
            importer_number: get("importer_number"),
            broker_reference: get("broker_reference"),
            invoice_number: get("invoice_number"),
            po_number: get("po_number"),
            po_line: get("po_line"),
            hts: get("hts").replace('.', ""),
            country_of_origin: get("country_of_origin"),
            spi: get("spi"),
            uom: get("uom"),
            bill_of_lading: get("bill_of_lading").to_ascii_uppercase(),
            container: get("container").to_ascii_uppercase(),
            manufacturer_id: get("manufacturer_id").to_ascii_uppercase(),
            ..PreEntryRow::default()
        };
        match get("line_number").parse::<u32>() {
            Ok(n) => row.line_number = n,
            Err(_) => bad("line_number", &get("line_number")),
        }
        match scaled(&get("quantity"), 2) {
            Some(v) => row.quantity_hundredths = v,
            None => bad("quantity", &get("quantity")),
        }
        match scaled(&get("value_usd"), 2) {
            Some(v) => row.value_cents = v,
            None => bad("value_usd", &get("value_usd")),
        }
        match scaled(&get("duty_usd"), 2) {
            Some(v) => row.duty_cents = v,
            None => bad("duty_usd", &get("duty_usd")),
        }
        match rate(&get("duty_rate")) {
            Some(v) => row.duty_rate_millionths = v,
            None => bad("duty_rate", &get("duty_rate")),
        }
        if row.entry_number.is_empty() && (row.importer_number.is_empty() || row.broker_reference.is_empty()) {
            diags.push(Diagnostic::error(
                "CSV004",
                "row has no entry_number and not both importer_number and broker_reference",
                pos,
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::error("CSV005", "the file has a header but no rows", Position::at_byte(bytes, 0)));
    }
    (rows, diags)
}

/// Read a pre-entry CSV and summarise it for `parse`.
pub fn summarize(bytes: &[u8]) -> (CsvSummary, Vec<Diagnostic>) {
    let (rows, diags) = read(bytes);
    let mut keys: Vec<String> = rows
        .iter()
        .map(|r| {
            if r.entry_number.is_empty() {
                format!("{}|{}", r.importer_number, r.broker_reference)
            } else {
                r.entry_number.clone()
            }
        })
        .collect();
    keys.sort();
    keys.dedup();
    (CsvSummary { rows: rows.len(), pre_entries: keys.len() }, diags)
}

#[cfg(test)]
// Tests index fixtures they built themselves: a panic there is a failing test, not untrusted
// input.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    const SAMPLE: &str = "entry_number,importer_number,broker_reference,invoice_number,po_number,po_line,line_number,hts,country_of_origin,spi,quantity,uom,value_usd,duty_rate,duty_usd\n\
EEE-1234567-3,12-345678900,BR0001,INV-77,PO-4500012,10,1,6110202079,CN,,100.00,DOZ,10000,0.165,1650.00\n\
,12-345678900,BR0002,INV-78,PO-4500013,20,1,6110202079,CN,,5,DOZ,500,16.5%,82.50\n";

    #[test]
    fn reads_rows_with_exact_money() {
        let (rows, d) = read(SAMPLE.as_bytes());
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].value_cents, 1_000_000);
        assert_eq!(rows[0].duty_cents, 165_000);
        assert_eq!(rows[0].duty_rate_millionths, Some(165_000));
        assert_eq!(rows[1].duty_rate_millionths, Some(165_000));
        assert_eq!(rows[0].quantity_hundredths, 10_000);
        assert_eq!(rows[1].line, 3);
        assert_eq!(summarize(SAMPLE.as_bytes()).0.pre_entries, 2);
    }

    #[test]
    fn problems_have_places() {
        let bad = "entry_number,importer_number,broker_reference,line_number,hts,value_usd\n,,,1,123,12x\n";
        let (_, d) = read(bad.as_bytes());
        let codes: Vec<_> = d.iter().map(|x| x.code.as_str()).collect();
        assert_eq!(codes, vec!["CSV003", "CSV004"]);
        assert!(d.iter().all(|x| x.line == 2));
        let (_, d) = read(b"a,b\n1,2\n");
        assert_eq!(d[0].code, "CSV001");
    }

    #[test]
    fn scaled_is_exact() {
        assert_eq!(scaled("1650.5", 2), Some(165_050));
        assert_eq!(scaled("-0.01", 2), Some(-1));
        assert_eq!(scaled("1.234", 2), None);
        assert_eq!(scaled("abc", 2), None);
    }
}
