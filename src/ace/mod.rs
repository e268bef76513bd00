//! ACE's own record: the importer's ACE portal report ES-003 "Entry Summary Line Tariff Details"
//! (CSV or XLSX) read row by row into per-entry facts, the third side of the three-way match.
//!
//! Source status: CBP publishes no column list for ES-003 (secondary). The header names are the
//! ones public parsers agree on (issue 18); they are matched case-insensitively with the
//! alternative spellings seen in the wild, unknown columns are ignored, and a row is one tariff
//! ordinal (the commodity tariff and each Chapter 99 tariff are separate rows).

pub mod compare;

pub use crate::domain::ace::{flag, AceEntry, AceRow};

use crate::config::Role;
use crate::domain::{Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::interpret::{FileContext, Interpretation};
use crate::parse::error::{Diagnostic, Position};
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// One ES-003 column entrywatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Col {
    Entry,
    EntryType,
    Importer,
    ImporterName,
    Port,
    EntryDate,
    SummaryDate,
    CreateDate,
    Recon,
    ControlStatus,
    Psc,
    LiquidationDate,
    LiquidationStatus,
    FinalLiquidation,
    ProtestNumber,
    ProtestStatus,
    ReviewTeam,
    FilerName,
    ImportDate,
    Line,
    CountryOfOrigin,
    CountryOfExport,
    Manufacturer,
    Exporter,
    Spi,
    Ordinal,
    Hts,
    Quantity,
    Uom,
    Value,
    Duty,
    Rate,
    LinePsc,
}

/// Header spellings per column (compared after [`norm`]); the first is the name shown to users.
pub const HEADERS: &[(Col, &[&str])] = &[
    (Col::Entry, &["Entry Summary Number", "Entry Number", "Entry Summary Nbr"]),
    (Col::EntryType, &["Entry Type Code", "Entry Type"]),
    (Col::Importer, &["Importer Number", "Importer of Record Number", "IOR Number"]),
    (Col::ImporterName, &["Importer Name"]),
    (Col::Port, &["Port of Entry Code", "Port of Entry", "Entry Port Code"]),
    (Col::EntryDate, &["Entry Date"]),
    (Col::SummaryDate, &["Entry Summary Date"]),
    (Col::CreateDate, &["Initial Entry Summary Create Date"]),
    (Col::Recon, &["Reconciliation Indicator"]),
    (Col::ControlStatus, &["Control Status"]),
    (Col::Psc, &["Post Summary Correction Indicator", "PSC Indicator"]),
    (Col::LiquidationDate, &["Liquidation Date"]),
    (Col::LiquidationStatus, &["Liquidation Status", "Liquidation Status Code"]),
    (Col::FinalLiquidation, &["Final Liquidation", "Final Liquidation Indicator"]),
    (Col::ProtestNumber, &["Protest Number"]),
    (Col::ProtestStatus, &["Protest Status"]),
    (Col::ReviewTeam, &["Review Team Number"]),
    (Col::FilerName, &["Filer Name"]),
    (Col::ImportDate, &["Importation Date", "Import Date"]),
    (Col::Line, &["Entry Summary Line Number", "Line Number"]),
    (Col::CountryOfOrigin, &["Country of Origin Code", "Country of Origin"]),
    (Col::CountryOfExport, &["Country of Export Code", "Country of Export"]),
    (Col::Manufacturer, &["Manufacturer ID", "Manufacturer Identification Code", "MID"]),
    (Col::Exporter, &["Foreign Exporter ID"]),
    (Col::Spi, &["Line SPI Code", "SPI Code"]),
    (Col::Ordinal, &["Tariff Ordinal Number", "Line Tariff Ordinal Number"]),
    (Col::Hts, &["HTS Number - Full", "HTS Number Full", "HTS Number", "Line Tariff Number"]),
    (Col::Quantity, &["Line Tariff Quantity (1)", "Line Tariff Quantity 1", "Line Tariff Quantity"]),
    (Col::Uom, &["Line Tariff UOM (1) Code", "Line Tariff UOM 1 Code", "Line Tariff UOM Code"]),
    (Col::Value, &["Line Tariff Goods Value Amount", "Line Goods Value Amount", "Line Tariff Amount"]),
    (Col::Duty, &["Line Tariff Duty Amount", "Line Duty Amount"]),
    (Col::Rate, &["Column 1 Current Primary Duty Rate"]),
    (Col::LinePsc, &["Line Post Summary Correction Indicator"]),
];

/// Columns without which a row cannot be joined to a filed line.
pub const REQUIRED: &[Col] = &[Col::Entry, Col::Line, Col::Hts];

/// A header name compared case-insensitively, punctuation and spacing folded.
pub fn norm(h: &str) -> String {
    let mut out = String::new();
    for w in h.trim_start_matches('\u{feff}').split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.to_ascii_lowercase());
    }
    out
}

fn col_of(header: &str) -> Option<Col> {
    let n = norm(header);
    HEADERS.iter().find(|(_, names)| names.iter().any(|x| norm(x) == n)).map(|(c, _)| *c)
}

fn display(c: Col) -> &'static str {
    HEADERS.iter().find(|(x, _)| *x == c).map_or("", |(_, n)| n[0])
}

/// Column positions found in a header row.
#[derive(Debug, Clone, Default)]
pub struct HeaderMap {
    cols: BTreeMap<Col, usize>,
}

impl HeaderMap {
    /// Map a header row; `None` when the required columns are not all there.
    pub fn from_row(cells: &[String]) -> Option<HeaderMap> {
        let mut cols = BTreeMap::new();
        for (i, h) in cells.iter().enumerate() {
            if let Some(c) = col_of(h) {
                cols.entry(c).or_insert(i);
            }
        }
        REQUIRED.iter().all(|c| cols.contains_key(c)).then_some(HeaderMap { cols })
    }

    fn get<'a>(&self, cells: &'a [String], c: Col) -> &'a str {
        self.cols.get(&c).and_then(|i| cells.get(*i)).map_or("", |s| s.trim())
    }
}

/// The message for a file whose header matches no known report.
pub fn no_header_message() -> String {
    let need: Vec<&str> = REQUIRED.iter().map(|c| display(*c)).collect();
    format!(
        "no header row of ACE report ES-003 (Entry Summary Line Tariff Details) found in the first {HEADER_SCAN} rows; \
         the report needs the columns {} (and reads Tariff Ordinal Number, Line Tariff Goods Value Amount, \
         Line Tariff Duty Amount, Country of Origin Code, Manufacturer ID, Line SPI Code, Liquidation Date, \
         Liquidation Status when present)",
        need.join(", ")
    )
}

/// How many leading rows may precede the header (report titles, run parameters).
pub const HEADER_SCAN: usize = 20;

/// A row read from the file: the entry it belongs to and its values, or a warning.
#[derive(Debug, Clone)]
pub enum RowRead {
    /// A row, applied with what could be read; `warnings` say what could not (rule 2).
    Row {
        entry: EntryNumber,
        head: Box<AceEntry>,
        row: Box<AceRow>,
        warnings: Vec<String>,
    },
    Warning {
        row: usize,
        message: String,
    },
}

/// `MM/DD/YYYY` (also `M/D/YYYY`, `MM/DD/YY`, `YYYY-MM-DD`); blank → `Ok(None)`.
pub fn parse_date(s: &str) -> Result<Option<NaiveDate>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let t = t.split_whitespace().next().unwrap_or(t);
    for f in ["%m/%d/%Y", "%Y-%m-%d", "%m/%d/%y", "%m-%d-%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Ok(Some(d));
        }
    }
    Err(format!("{s:?} is not a date (MM/DD/YYYY)"))
}

/// A decimal amount scaled to `10^decimals` (half up): `"$10,000.00"` → 1000000 at 2 decimals;
/// `(12.50)` and `-12.50` are negative; blank → `Ok(None)`.
pub fn parse_decimal(s: &str, decimals: u32) -> Result<Option<i64>, String> {
    let t: String = s.trim().chars().filter(|c| !matches!(c, '$' | ',' | ' ')).collect();
    if t.is_empty() {
        return Ok(None);
    }
    let (neg, body) = if let Some(b) = t.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
        (true, b)
    } else if let Some(b) = t.strip_prefix('-') {
        (true, b)
    } else {
        (false, t.as_str())
    };
    let bad = || format!("{s:?} is not an amount");
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || int.len() > 15
    {
        return Err(bad());
    }
    let scale = 10i64.pow(decimals);
    let mut v = if int.is_empty() { 0 } else { int.parse::<i64>().map_err(|_| bad())? };
    v = v.checked_mul(scale).ok_or_else(bad)?;
    let fb = frac.as_bytes();
    let mut f: i64 = 0;
    for i in 0..decimals as usize {
        f = f * 10 + fb.get(i).map_or(0, |b| i64::from(b - b'0'));
    }
    if fb.get(decimals as usize).is_some_and(|b| *b >= b'5') {
        f += 1;
    }
    v = v.checked_add(f).ok_or_else(bad)?;
    Ok(Some(if neg { -v } else { v }))
}

/// HTS digits only (`6110.20.2079` → `6110202079`).
pub fn hts_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Turn one data row into a [`RowRead`] (`None` for a blank row).
pub fn read_row(map: &HeaderMap, cells: &[String], row: usize) -> Option<RowRead> {
    if cells.iter().all(|c| c.trim().is_empty()) {
        return None;
    }
    let g = |c| map.get(cells, c);
    let warn = |m: String| Some(RowRead::Warning { row, message: m });
    let entry: EntryNumber = match g(Col::Entry).parse() {
        Ok(e) => e,
        Err(e) => return warn(format!("Entry Summary Number {:?}: {e}; row not applied", g(Col::Entry))),
    };
    let mut problems = Vec::new();
    let mut date = |c: Col| match parse_date(g(c)) {
        Ok(d) => d,
        Err(m) => {
            problems.push(format!("{}: {m}", display(c)));
            None
        }
    };
    let head = AceEntry {
        entry_type: g(Col::EntryType).to_string(),
        importer: g(Col::Importer).to_string(),
        importer_name: g(Col::ImporterName).to_string(),
        port: g(Col::Port).to_string(),
        filer_name: g(Col::FilerName).to_string(),
        entry_date: date(Col::EntryDate),
        summary_date: date(Col::SummaryDate),
        import_date: date(Col::ImportDate),
        reconciliation: g(Col::Recon).to_string(),
        control_status: g(Col::ControlStatus).to_string(),
        psc: flag(g(Col::Psc)),
        liquidation_date: date(Col::LiquidationDate),
        liquidation_status: g(Col::LiquidationStatus).to_string(),
        final_liquidation: g(Col::FinalLiquidation).to_string(),
        protest_number: g(Col::ProtestNumber).to_string(),
        protest_status: g(Col::ProtestStatus).to_string(),
        review_team: g(Col::ReviewTeam).to_string(),
        rows: Vec::new(),
    };
    let mut num = |c: Col, decimals: u32| match parse_decimal(g(c), decimals) {
        Ok(v) => v,
        Err(m) => {
            problems.push(format!("{}: {m}", display(c)));
            None
        }
    };
    let line = num(Col::Line, 0);
    let ordinal = num(Col::Ordinal, 0);
    let r = AceRow {
        row,
        line: line.and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
        ordinal: ordinal.and_then(|v| u32::try_from(v).ok()).unwrap_or(1),
        hts: hts_digits(g(Col::Hts)),
        country_of_origin: g(Col::CountryOfOrigin).to_ascii_uppercase(),
        country_of_export: g(Col::CountryOfExport).to_ascii_uppercase(),
        manufacturer: g(Col::Manufacturer).to_ascii_uppercase(),
        spi: g(Col::Spi).to_ascii_uppercase(),
        quantity_hundredths: num(Col::Quantity, 2),
        uom: g(Col::Uom).to_ascii_uppercase(),
        value_cents: num(Col::Value, 2),
        duty_cents: num(Col::Duty, 2),
        rate: g(Col::Rate).to_string(),
        line_psc: flag(g(Col::LinePsc)),
    };
    if r.line == 0 {
        return warn(format!(
            "entry {entry}: Entry Summary Line Number {:?} is not a line number; row not applied",
            g(Col::Line)
        ));
    }
    Some(RowRead::Row { entry, head: Box::new(head), row: Box::new(r), warnings: problems })
}

/// Streams ES-003 rows out of a CSV reader: finds the header in the first [`HEADER_SCAN`]
/// records, then yields one [`RowRead`] per data row without holding the file.
pub struct CsvRows<R: std::io::Read> {
    rdr: csv::Reader<R>,
    map: Option<HeaderMap>,
    rec: csv::ByteRecord,
    cells: Vec<String>,
    seen: usize,
}

/// Read ES-003 rows from CSV.
pub fn csv_rows<R: std::io::Read>(r: R) -> CsvRows<R> {
    let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(r);
    CsvRows { rdr, map: None, rec: csv::ByteRecord::new(), cells: Vec::new(), seen: 0 }
}

/// The error when the header is not found (the file is not an ES-003 export).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotEs003(pub String);

impl<R: std::io::Read> Iterator for CsvRows<R> {
    type Item = Result<RowRead, NotEs003>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.rdr.read_byte_record(&mut self.rec) {
                Ok(true) => {}
                Ok(false) => {
                    if self.map.is_none() {
                        self.map = Some(HeaderMap::default());
                        return Some(Err(NotEs003(no_header_message())));
                    }
                    return None;
                }
                Err(e) => {
                    let row = e.position().map_or(self.seen + 1, |p| p.line() as usize);
                    self.seen += 1;
                    if self.map.is_none() && self.seen > HEADER_SCAN {
                        return None;
                    }
                    return Some(Ok(RowRead::Warning { row, message: format!("unreadable CSV row: {e}") }));
                }
            }
            self.seen += 1;
            let row = self.rec.position().map_or(self.seen, |p| p.line() as usize);
            self.cells.clear();
            self.cells.extend(self.rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()));
            match &self.map {
                None => {
                    if let Some(m) = HeaderMap::from_row(&self.cells) {
                        self.map = Some(m);
                    } else if self.seen >= HEADER_SCAN {
                        self.map = Some(HeaderMap::default());
                        return Some(Err(NotEs003(no_header_message())));
                    }
                }
                Some(m) if m.cols.is_empty() => return None,
                Some(m) => {
                    if let Some(r) = read_row(m, &self.cells, row) {
                        return Some(Ok(r));
                    }
                }
            }
        }
    }
}

/// Whether the bytes are an XLSX (zip) workbook.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Read ES-003 rows from the first worksheet of an XLSX workbook.
pub fn xlsx_rows(bytes: &[u8]) -> Result<Vec<RowRead>, NotEs003> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| NotEs003(format!("not a readable XLSX workbook: {e}")))?;
    let range = match wb.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(NotEs003(format!("the first worksheet cannot be read: {e}"))),
        None => return Err(NotEs003("the workbook has no worksheet".into())),
    };
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let mut map: Option<HeaderMap> = None;
    let mut out = Vec::new();
    for (i, r) in range.rows().enumerate() {
        let row = first_row + i + 1;
        let cells: Vec<String> = r.iter().map(cell_text).collect();
        match &map {
            None => {
                map = HeaderMap::from_row(&cells);
                if map.is_none() && i + 1 >= HEADER_SCAN {
                    break;
                }
            }
            Some(m) => out.extend(read_row(m, &cells, row)),
        }
    }
    if map.is_none() {
        return Err(NotEs003(no_header_message()));
    }
    Ok(out)
}

/// A cell as the text the CSV export would carry (dates `MM/DD/YYYY`, numbers as written).
fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format!("{f}"),
        Data::Bool(b) => if *b { "Y" } else { "N" }.to_string(),
        Data::DateTime(dt) => dt.as_datetime().map(|t| t.format("%m/%d/%Y").to_string()).unwrap_or_default(),
    }
}

/// Interpret an ES-003 export (CSV or XLSX) arriving on an `ace` inbox: one fact per entry
/// holding every row of that entry in this file, each row with its row number.
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>) -> Interpretation {
    let mut out = Interpretation::default();
    if ctx.role != Role::Ace {
        out.diagnostics.push(Diagnostic::error(
            "ACE001",
            format!("an ACE report arrived on inbox {:?}, whose role is not `ace`", ctx.inbox),
            Position::at_byte(bytes, 0),
        ));
        return out;
    }
    let reads: Vec<Result<RowRead, NotEs003>> = if is_xlsx(bytes) {
        xlsx_rows(bytes).map_or_else(|e| vec![Err(e)], |v| v.into_iter().map(Ok).collect())
    } else {
        csv_rows(bytes).collect()
    };
    let mut by_entry: BTreeMap<String, (EntryNumber, AceEntry, usize)> = BTreeMap::new();
    for r in reads {
        match r {
            Err(e) => {
                out.diagnostics.push(Diagnostic::error("ACE002", e.0, Position::at_byte(bytes, 0)));
                return out;
            }
            Ok(RowRead::Warning { row, message }) => {
                out.diagnostics.push(Diagnostic::warning("ACE003", message, at_row(row)))
            }
            Ok(RowRead::Row { entry, head, row, warnings }) => {
                for w in warnings {
                    let m = format!("entry {entry} line {}: {w}", row.line);
                    out.diagnostics.push(Diagnostic::warning("ACE003", m, at_row(row.row)));
                }
                let slot = by_entry
                    .entry(entry.compact())
                    .or_insert_with(|| (entry.clone(), AceEntry { rows: Vec::new(), ..(*head).clone() }, row.row));
                merge_head(&mut slot.1, &head);
                if let Some(old) = slot.1.rows.iter().find(|x| x.line == row.line && x.ordinal == row.ordinal) {
                    out.diagnostics.push(Diagnostic::warning(
                        "ACE004",
                        format!(
                            "entry {entry} line {} tariff {} appears again (row {} and row {}); the later row is kept",
                            row.line, row.ordinal, old.row, row.row
                        ),
                        at_row(row.row),
                    ));
                    slot.1.rows.retain(|x| !(x.line == row.line && x.ordinal == row.ordinal));
                }
                slot.1.rows.push(*row);
            }
        }
    }
    if by_entry.is_empty() && !out.has_errors() {
        // Rows were there but none names an entry this reader can read (e.g. a truncated or
        // edited Entry Summary Number): the file cannot be tied to an entry, so it is
        // quarantined rather than "applied" with nothing in it.
        if out.diagnostics.iter().any(|d| d.code == "ACE003") {
            out.diagnostics.push(Diagnostic::error(
                "ACE006",
                "no row of the ES-003 export names an entry number that can be read (filer code, 7 digits, check digit)",
                Position::at_byte(bytes, 0),
            ));
        } else {
            out.diagnostics.push(Diagnostic::warning(
                "ACE005",
                "the ES-003 export holds no entry rows",
                Position::at_byte(bytes, 0),
            ));
        }
    }
    for (_, (entry, mut ace, first_row)) in by_entry {
        ace.rows.sort_by_key(|r| (r.line, r.ordinal));
        let fact =
            Fact { at: ctx.received, kind: FactKind::AceReported { ace }, source: ctx.source(first_row, first_row) };
        out.facts.push((entry, fact));
    }
    out
}

fn at_row(row: usize) -> Position {
    Position { line: row, byte: 0, segment: None, record: None }
}

/// Entry-level columns repeat on every row; keep the first non-blank value of each.
fn merge_head(dst: &mut AceEntry, src: &AceEntry) {
    for (d, s) in [
        (&mut dst.entry_type, &src.entry_type),
        (&mut dst.importer, &src.importer),
        (&mut dst.importer_name, &src.importer_name),
        (&mut dst.port, &src.port),
        (&mut dst.filer_name, &src.filer_name),
        (&mut dst.reconciliation, &src.reconciliation),
        (&mut dst.control_status, &src.control_status),
        (&mut dst.liquidation_status, &src.liquidation_status),
        (&mut dst.final_liquidation, &src.final_liquidation),
        (&mut dst.protest_number, &src.protest_number),
        (&mut dst.protest_status, &src.protest_status),
        (&mut dst.review_team, &src.review_team),
    ] {
        if d.is_empty() {
            d.clone_from(s);
        }
    }
    dst.psc |= src.psc;
    for (d, s) in [
        (&mut dst.entry_date, src.entry_date),
        (&mut dst.summary_date, src.summary_date),
        (&mut dst.import_date, src.import_date),
        (&mut dst.liquidation_date, src.liquidation_date),
    ] {
        if d.is_none() {
            *d = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_the_portal_writes_them() {
        assert_eq!(parse_decimal("$10,000.00", 2), Ok(Some(1_000_000)));
        assert_eq!(parse_decimal("1650", 2), Ok(Some(165_000)));
        assert_eq!(parse_decimal("(12.505)", 2), Ok(Some(-1251)));
        assert_eq!(parse_decimal(" ", 2), Ok(None));
        assert!(parse_decimal("12a", 2).is_err());
        assert!(parse_decimal(".", 2).is_err());
        assert_eq!(parse_date("02/02/2026"), Ok(NaiveDate::from_ymd_opt(2026, 2, 2)));
        assert_eq!(parse_date("2/2/2026 12:00:00 AM"), Ok(NaiveDate::from_ymd_opt(2026, 2, 2)));
        assert!(parse_date("31/31/2026").is_err());
        assert_eq!(hts_digits("6110.20.2079"), "6110202079");
    }

    #[test]
    fn headers_match_case_and_spelling_variants() {
        let cells: Vec<String> = [
            "entry summary number",
            "ENTRY SUMMARY LINE NUMBER",
            "hts number - full",
            "Line Goods Value Amount",
            "Whatever",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let m = HeaderMap::from_row(&cells).expect("header");
        assert_eq!(m.cols.get(&Col::Value), Some(&3));
        assert!(HeaderMap::from_row(&cells[..2]).is_none());
    }

    #[test]
    fn a_file_of_other_columns_names_what_it_needs() {
        let rows: Vec<_> = csv_rows(&b"PO,Line,Amount\n1,2,3\n"[..]).collect();
        let Some(Err(NotEs003(m))) = rows.first() else { panic!("expected an error, got {rows:?}") };
        assert!(m.contains("Entry Summary Number") && m.contains("HTS Number - Full"), "{m}");
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn entry_numbers_with_or_without_dashes_and_bad_rows_warn() {
        let csv = "Report ES-003\nEntry Summary Number,Entry Summary Line Number,HTS Number - Full,Line Tariff Duty Amount\n\
                   EEE-1234567-3,1,6110.20.2079,\"$1,650.00\"\nEEE12345673,2,8471300100,0\nNOT-AN-ENTRY,1,1,1\nEEE-1234567-3,3,1,abc\n";
        let rows: Vec<_> = csv_rows(csv.as_bytes()).map(|r| r.expect("es-003")).collect();
        assert_eq!(rows.len(), 4);
        let RowRead::Row { entry, row, .. } = &rows[0] else { panic!("{rows:?}") };
        assert_eq!(entry.compact(), "EEE12345673");
        assert_eq!((row.row, row.duty_cents), (3, Some(165_000)));
        assert!(matches!(&rows[1], RowRead::Row { entry, .. } if entry.compact() == "EEE12345673"));
        assert!(matches!(&rows[2], RowRead::Warning { row: 5, .. }));
        assert!(matches!(&rows[3], RowRead::Row { row, .. } if row.duty_cents.is_none() && row.line == 3));
    }

    /// Found on another project's ES-003 test rows, whose entry numbers are short ("BII0001"):
    /// such a file names no entry and is quarantined (ACE006), not applied with nothing in it.
    #[test]
    fn an_export_whose_rows_name_no_readable_entry_is_refused() {
        let csv = "Entry Summary Number,Entry Summary Line Number,Tariff Ordinal Number,HTS Number - Full,Line Tariff Duty Amount\n\
                   BII0001,1,1,99030128,$850.00\nBII0001,1,2,3923900080,$300.00\n";
        let received = NaiveDate::from_ymd_opt(2026, 12, 2).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("date");
        let ctx = FileContext { name: "es003.csv", inbox: "ace", role: Role::Ace, sha256: "", received };
        let out = interpret(csv.as_bytes(), &ctx);
        assert!(out.facts.is_empty());
        assert!(out.diagnostics.iter().any(|d| d.code == "ACE006" && d.is_error()), "{:?}", out.diagnostics);
    }
}
