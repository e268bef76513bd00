//! Refund program result files in: the CAPE validation result file and claim details (CSV or XLSX)
//! arriving on a `refund-results` inbox, read into one `refund-claim` fact per entry per file
//! (the claim types and the per-program claim state folded from those facts are plain data in
//! `domain::claims`, re-exported here).
//!
//! Source status: CBP publishes no column list for these files (secondary). What is known from
//! CBP's "ACE Portal CAPE Declarations Quick Reference Guide" (April 2026) as reported by trade
//! press (capeportalguide.com, es-003.com): the File Uploads work area gives a validation result
//! file with file- and row-level errors; the Claim Status work area shows a declaration
//! Rejected, Accepted with Error(s) or Accepted, and its claim details list the entries with an
//! error description on the rejected ones; error 864 is a PSC refused on an accepted entry.
//! So the file is read tolerantly, like ACE's ES-003 (src/ace): headers matched
//! case-insensitively with alternatives, unknown columns ignored; at least an entry number
//! column and a status or error column; claim number, error code and text, amounts when there.

pub use crate::domain::claims::{claim, fold, ClaimError, ClaimRow, ClaimState, ClaimStatus};

use crate::ace::{norm, parse_date, parse_decimal};
use crate::config::Role;
use crate::domain::{Fact, FactKind};
use crate::entry_number::EntryNumber;
use crate::grammar::Grammars;
use crate::interpret::{FileContext, Interpretation};
use crate::parse::error::{Diagnostic, Position};
use std::collections::BTreeMap;

/// The status of a cell's text (compared after [`norm`]); `None` when blank or unknown.
pub fn status_of(text: &str) -> Option<ClaimStatus> {
    let n = norm(text);
    if n.is_empty() {
        return None;
    }
    let has = |w: &str| n.split(' ').any(|x| x == w);
    Some(if has("refunded") || has("paid") || n.contains("refund issued") {
        ClaimStatus::Refunded
    } else if has("rejected") || has("reject") || has("failed") || has("invalid") || n == "error" || n == "errors" {
        ClaimStatus::Rejected
    } else if has("accepted") || has("valid") || has("passed") || has("success") || has("approved") {
        ClaimStatus::Accepted
    } else if has("submitted") || has("pending") || has("processing") || n.contains("in process") || has("received") {
        ClaimStatus::Submitted
    } else {
        return None;
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Col {
    Entry,
    Status,
    ErrorCode,
    ErrorText,
    Claim,
    Claimed,
    Refunded,
    RefundDate,
    Program,
}

/// Header spellings per column (compared after [`norm`]); the first is the name shown to
/// users. Secondary: no CBP column list is published (module doc).
const HEADERS: &[(Col, &[&str])] = &[
    (Col::Entry, &["Entry Number", "Entry Summary Number", "Entry No", "Entry Nbr", "Entry"]),
    (
        Col::Status,
        &[
            "Status",
            "Entry Status",
            "Claim Status",
            "Validation Status",
            "Validation Result",
            "Result",
            "Entry Result",
            "Processing Status",
        ],
    ),
    (Col::ErrorCode, &["Error Code", "Error Number", "Reject Code", "Rejection Code"]),
    (
        Col::ErrorText,
        &[
            "Error Description",
            "Error Message",
            "Error",
            "Errors",
            "Rejection Reason",
            "Reject Reason",
            "Reason",
            "Message",
        ],
    ),
    (Col::Claim, &["Claim Number", "Claim No", "Claim ID", "CAPE Claim Number", "Declaration Number"]),
    (
        Col::Claimed,
        &["Claimed Amount", "Claim Amount", "Amount Claimed", "Refund Amount Claimed", "Estimated Refund Amount"],
    ),
    (Col::Refunded, &["Refund Amount", "Refunded Amount", "Amount Refunded", "Refund Paid Amount", "Paid Amount"]),
    (Col::RefundDate, &["Refund Date", "Payment Date", "Paid Date", "ACH Date"]),
    (Col::Program, &["Program", "Refund Program"]),
];

/// How many leading rows may precede the header (titles, run parameters).
const HEADER_SCAN: usize = 20;

fn col_of(h: &str) -> Option<Col> {
    let n = norm(h);
    HEADERS.iter().find(|(_, names)| names.iter().any(|x| norm(x) == n)).map(|(c, _)| *c)
}

fn header(cells: &[String]) -> Option<BTreeMap<Col, usize>> {
    let mut cols = BTreeMap::new();
    for (i, h) in cells.iter().enumerate() {
        if let Some(c) = col_of(h) {
            cols.entry(c).or_insert(i);
        }
    }
    let ok = cols.contains_key(&Col::Entry)
        && (cols.contains_key(&Col::Status)
            || cols.contains_key(&Col::ErrorText)
            || cols.contains_key(&Col::ErrorCode));
    ok.then_some(cols)
}

/// The message for a file whose header is not found.
pub fn no_header_message() -> String {
    format!(
        "no header row of a refund program result file found in the first {HEADER_SCAN} rows; it needs an \
         \"Entry Number\" column and a \"Status\" (or \"Result\", \"Claim Status\") or \"Error Description\" \
         column (and reads Claim Number, Error Code, Claimed Amount, Refund Amount, Refund Date when present)"
    )
}

/// The 1-based line a record starting at `byte` is on. (A CRLF file's record starts at the
/// `\n` of the previous line's end: line ends are skipped first.)
fn line_at(bytes: &[u8], byte: u64) -> usize {
    let mut i = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    while bytes.get(i).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        i += 1;
    }
    bytes[..i].iter().filter(|b| **b == b'\n').count() + 1
}

fn at_row(row: usize) -> Position {
    Position { line: row, byte: 0, segment: None, record: None }
}

/// Which program the file is about: a `Program` cell, else the inbox named after a program,
/// else the only program in grammars/remedies/.
fn default_program(ctx: &FileContext<'_>, grammars: &Grammars) -> Option<String> {
    let r = &grammars.remedies;
    if let Some(p) = r.program(ctx.inbox) {
        return Some(p.id.clone());
    }
    (r.programs.len() == 1).then(|| r.programs[0].id.clone())
}

/// The rows of a CSV file: (1-based line, trimmed cells); unreadable rows are warnings.
fn csv_table(bytes: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Vec<(usize, Vec<String>)> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                let row = rec.position().map_or(out.len() + 1, |p| line_at(bytes, p.byte()));
                out.push((row, rec.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect()));
            }
            Ok(false) => return out,
            Err(e) => {
                let row = e.position().map_or(out.len() + 1, |p| line_at(bytes, p.byte()));
                diagnostics.push(Diagnostic::warning("RCL003", format!("unreadable CSV row: {e}"), at_row(row)));
                if e.position().is_none() {
                    // An I/O-level error (not a row): nothing more can be read.
                    return out;
                }
            }
        }
    }
}

/// The rows of the first worksheet of an XLSX workbook: (sheet row, cells as the CSV export
/// would carry them: dates `MM/DD/YYYY`, numbers as written).
fn xlsx_table(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    use calamine::{Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable XLSX workbook: {e}"))?;
    let range = match wb.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(format!("the first worksheet cannot be read: {e}")),
        None => return Err("the workbook has no worksheet".into()),
    };
    let first = range.start().map_or(0, |(r, _)| r as usize);
    let text = |d: &Data| match d {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format!("{f}"),
        Data::Bool(b) => if *b { "Y" } else { "N" }.to_string(),
        Data::DateTime(dt) => dt.as_datetime().map(|t| t.format("%m/%d/%Y").to_string()).unwrap_or_default(),
    };
    Ok(range.rows().enumerate().map(|(i, r)| (first + i + 1, r.iter().map(text).collect())).collect())
}

/// Interpret a result file arriving on a `refund-results` inbox: one `refund-claim` fact per
/// entry (its rows merged, errors in row order). A file with no known header or no row naming
/// a readable entry is an error (quarantined, nothing applied); rows that cannot be read and
/// statuses entrywatch does not know are warnings (the rest is applied).
pub fn interpret(bytes: &[u8], ctx: &FileContext<'_>, grammars: &Grammars) -> Interpretation {
    let mut out = Interpretation::default();
    let err = |code: &'static str, m: String| Diagnostic::error(code, m, Position::at_byte(bytes, 0));
    if ctx.role != Role::RefundResults {
        out.diagnostics.push(err(
            "RCL001",
            format!("a refund result file arrived on inbox {:?}, whose role is not `refund-results`", ctx.inbox),
        ));
        return out;
    }
    let table = if crate::ace::is_xlsx(bytes) {
        match xlsx_table(bytes) {
            Ok(t) => t,
            Err(m) => {
                out.diagnostics.push(err("RCL002", m));
                return out;
            }
        }
    } else {
        csv_table(bytes, &mut out.diagnostics)
    };
    let mut map: Option<BTreeMap<Col, usize>> = None;
    let mut seen = 0usize;
    let fallback = default_program(ctx, grammars);
    let mut by_entry: BTreeMap<String, (EntryNumber, ClaimRow)> = BTreeMap::new();
    let mut rows_seen = 0usize;
    let mut findings: BTreeMap<String, (EntryNumber, usize, Vec<String>)> = BTreeMap::new();
    for (row, cells) in table {
        seen += 1;
        let Some(m) = &map else {
            map = header(&cells);
            if map.is_none() && seen >= HEADER_SCAN {
                break;
            }
            continue;
        };
        if cells.iter().all(String::is_empty) {
            continue;
        }
        rows_seen += 1;
        let g = |c: Col| m.get(&c).and_then(|i| cells.get(*i)).map_or("", String::as_str);
        let warn = |m: String| Diagnostic::warning("RCL003", m, at_row(row));
        let entry: EntryNumber = match g(Col::Entry).parse() {
            Ok(e) => e,
            Err(e) => {
                out.diagnostics.push(warn(format!("Entry Number {:?}: {e}; row not applied", g(Col::Entry))));
                continue;
            }
        };
        let program = match g(Col::Program) {
            "" => fallback.clone(),
            p => grammars.remedies.program(p).map(|x| x.id.clone()),
        };
        // What could not be read of a row tied to an entry: a warning, and a finding on the
        // entry (so a person is told, rule 2).
        let mut noted: Vec<(&'static str, String)> = Vec::new();
        let Some(program) = program else {
            let known: Vec<&str> = grammars.remedies.programs.iter().map(|p| p.id.as_str()).collect();
            let m = format!(
                "row {row}: which refund program is not known (Program {:?}; programs: {}); row not applied",
                g(Col::Program),
                known.join(", ")
            );
            out.diagnostics.push(warn(format!("entry {entry}: {m}")));
            findings.entry(entry.compact()).or_insert_with(|| (entry.clone(), row, Vec::new())).2.push(m);
            continue;
        };
        let mut amount = |c: Col, name: &str| match parse_decimal(g(c), 2) {
            Ok(v) => v,
            Err(m) => {
                noted.push(("RCL003", format!("row {row}: {name}: {m}")));
                None
            }
        };
        let claimed = amount(Col::Claimed, "Claimed Amount");
        let refunded = amount(Col::Refunded, "Refund Amount");
        let refund_date = match parse_date(g(Col::RefundDate)) {
            Ok(d) => d,
            Err(m) => {
                noted.push(("RCL003", format!("row {row}: Refund Date: {m}")));
                None
            }
        };
        let error = ClaimError { code: g(Col::ErrorCode).to_string(), text: g(Col::ErrorText).to_string() };
        let status_text = g(Col::Status).to_string();
        let status = match status_of(&status_text) {
            Some(s) => s,
            None if status_text.is_empty() && (!error.code.is_empty() || !error.text.is_empty()) => {
                ClaimStatus::Rejected
            }
            None if status_text.is_empty() && refunded.is_some() => ClaimStatus::Refunded,
            None => {
                noted.push((
                    "RCL004",
                    format!(
                        "row {row}: status {status_text:?} is not one entrywatch knows (accepted, rejected, \
                         submitted, refunded); applied as written, a person should look"
                    ),
                ));
                ClaimStatus::Unknown
            }
        };
        for (code, m) in noted {
            out.diagnostics.push(Diagnostic::warning(code, format!("entry {entry}: {m}"), at_row(row)));
            findings.entry(entry.compact()).or_insert_with(|| (entry.clone(), row, Vec::new())).2.push(m);
        }
        let slot = by_entry
            .entry(format!("{program}|{}", entry.compact()))
            .or_insert_with(|| (entry.clone(), ClaimRow { program: program.clone(), status, ..ClaimRow::default() }));
        let c = &mut slot.1;
        // Rows of one entry merge: a rejection on any row wins over an acceptance on another.
        if c.rows.is_empty() || status == ClaimStatus::Rejected || c.status == ClaimStatus::Unknown {
            c.status = status;
            c.status_text.clone_from(&status_text);
        }
        if !error.code.is_empty() || !error.text.is_empty() {
            c.errors.push(error);
        }
        if c.claim_number.is_empty() {
            c.claim_number = g(Col::Claim).to_string();
        }
        c.claimed_cents = claimed.or(c.claimed_cents);
        c.refunded_cents = refunded.or(c.refunded_cents);
        c.refund_date = refund_date.or(c.refund_date);
        c.rows.push(row);
    }
    if map.is_none() {
        out.diagnostics.push(err("RCL002", no_header_message()));
        return out;
    }
    if by_entry.is_empty() {
        let why = if rows_seen == 0 {
            "holds no entry rows"
        } else {
            "has no row naming an entry number that can be read (filer code, 7 digits, check digit)"
        };
        out.diagnostics.push(err("RCL006", format!("the result file {why}: it cannot be tied to an entry")));
        return out;
    }
    let application = match &fallback {
        Some(p) => format!("{} result", p.to_uppercase()),
        None => "refund result".to_string(),
    };
    for (_, (entry, claim)) in by_entry {
        let first = claim.rows.first().copied().unwrap_or(1);
        let fact = Fact { at: ctx.received, kind: FactKind::RefundClaim { claim }, source: ctx.source(first, first) };
        out.facts.push((entry, fact));
    }
    for (_, (entry, row, notes)) in findings {
        let kind = FactKind::Finding { application: application.clone(), notes };
        out.facts.push((entry, Fact { at: ctx.received, kind, source: ctx.source(row, row) }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn ctx(role: Role) -> FileContext<'static> {
        let received = NaiveDate::from_ymd_opt(2026, 6, 1).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("date");
        FileContext { name: "cape-result.csv", inbox: "results", role, sha256: "ab", received }
    }

    fn grammars() -> Grammars {
        Grammars::embedded().expect("embedded grammars")
    }

    #[test]
    fn statuses_as_the_portal_words_them() {
        assert_eq!(status_of("Accepted"), Some(ClaimStatus::Accepted));
        assert_eq!(status_of("ACCEPTED WITH ERROR(S)"), Some(ClaimStatus::Accepted));
        assert_eq!(status_of("Rejected by batch validation"), Some(ClaimStatus::Rejected));
        assert_eq!(status_of("Failed initial validation"), Some(ClaimStatus::Rejected));
        assert_eq!(status_of("Refund Issued"), Some(ClaimStatus::Refunded));
        assert_eq!(status_of("In Process"), Some(ClaimStatus::Submitted));
        assert_eq!(status_of("Frobbed"), None);
        assert_eq!(status_of(" "), None);
    }

    #[test]
    fn rows_merge_per_entry_and_bad_rows_warn() {
        let csv = "CAPE Claim Details\n\
                   entry number,claim status,ERROR CODE,Error Description,Claim Number,Refund Amount,Other\n\
                   EEE-1234567-3,Accepted,,,C100,\"$1,234.50\",x\n\
                   EEE12345681,Rejected,864,PSC not allowed,C100,,\n\
                   EEE12345681,,E2,Statement processing not complete,C100,,\n\
                   NOT-AN-ENTRY,Accepted,,,C100,,\n\
                   EEE12345699,Frobbed,,,C100,,\n";
        let out = interpret(csv.as_bytes(), &ctx(Role::RefundResults), &grammars());
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["RCL003", "RCL004"]);
        // Three claims, and the unknown status told as a finding on its entry.
        assert_eq!(out.facts.len(), 4);
        let finding = out.facts.iter().find_map(|(e, f)| match &f.kind {
            FactKind::Finding { application, notes } => Some((e.compact(), application.clone(), notes.clone())),
            _ => None,
        });
        let (e, app, notes) = finding.expect("a finding");
        assert_eq!((e.as_str(), app.as_str()), ("EEE12345699", "CAPE result"));
        assert!(notes[0].contains("\"Frobbed\" is not one entrywatch knows"), "{notes:?}");
        let get = |n: &str| {
            out.facts.iter().find(|(e, _)| e.compact() == n).map(|(_, f)| match &f.kind {
                FactKind::RefundClaim { claim } => claim.clone(),
                k => panic!("{k:?}"),
            })
        };
        let a = get("EEE12345673").expect("accepted");
        assert_eq!((a.program.as_str(), a.status, a.refunded_cents), ("cape", ClaimStatus::Accepted, Some(123_450)));
        let r = get("EEE12345681").expect("rejected");
        assert_eq!(r.status, ClaimStatus::Rejected);
        assert_eq!(r.errors.len(), 2);
        assert_eq!(r.errors[0], ClaimError { code: "864".into(), text: "PSC not allowed".into() });
        assert_eq!(r.rows, [4, 5]);
        assert_eq!(get("EEE12345699").expect("unknown").status_text, "Frobbed");
    }

    #[test]
    fn rows_are_numbered_as_lines_with_crlf_too() {
        let csv = "CAPE Claim Details\r\nEntry Number,Status\r\n\r\nEEE-1234567-3,Accepted\r\n";
        let out = interpret(csv.as_bytes(), &ctx(Role::RefundResults), &grammars());
        assert_eq!(out.facts.len(), 1, "{:?}", out.diagnostics);
        assert_eq!(out.facts[0].1.source.line, 4);
        assert_eq!(line_at(b"a\nb", 2), 2);
        assert_eq!(line_at(b"a", 99), 1);
    }

    #[test]
    fn an_xlsx_claim_details_reads_like_the_csv() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("mm/dd/yyyy");
        for (c, h) in
            ["Claim Number", "Entry Number", "Entry Status", "Refund Amount", "Refund Date"].iter().enumerate()
        {
            ws.write_string(0, c as u16, *h).expect("cell");
        }
        ws.write_string(1, 0, "C1").expect("cell");
        ws.write_string(1, 1, "EEE12345673").expect("cell");
        ws.write_string(1, 2, "Accepted").expect("cell");
        ws.write_number(1, 3, 1234.5).expect("cell");
        let d = rust_xlsxwriter::ExcelDateTime::parse_from_str("2026-07-15").expect("date");
        ws.write_datetime_with_format(1, 4, &d, &fmt).expect("cell");
        let bytes = wb.save_to_buffer().expect("xlsx");
        let out = interpret(&bytes, &ctx(Role::RefundResults), &grammars());
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
        let FactKind::RefundClaim { claim } = &out.facts[0].1.kind else { panic!("{:?}", out.facts) };
        assert_eq!((claim.status, claim.refunded_cents), (ClaimStatus::Accepted, Some(123_450)));
        assert_eq!((claim.claim_number.as_str(), claim.refund_date), ("C1", NaiveDate::from_ymd_opt(2026, 7, 15)));
        assert_eq!(claim.rows, [2]);
        let broken = interpret(b"PK\x03\x04not a zip", &ctx(Role::RefundResults), &grammars());
        assert!(broken.diagnostics.iter().any(|d| d.code == "RCL002" && d.is_error()));
    }

    #[test]
    fn hostile_bytes_never_panic_and_apply_nothing_unreadable() {
        let g = grammars();
        let long = format!("Entry Number,Status\n{},Accepted\n", "9".repeat(100_000));
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\n\n\r\n".to_vec(),
            b"Entry Number,Status\n".to_vec(),
            b"\xff\xfe\x00E\x00n\x00t".to_vec(),
            b"Entry Number,Status\n\"EEE12345673\nsplit\",Accepted\n\"unterminated".to_vec(),
            b"\xef\xbb\xbfEntry Number,Status,Refund Amount,Refund Date\nEEE12345673,Paid,99999999999999999999,13/45/2026\n"
                .to_vec(),
            long.into_bytes(),
        ];
        for (i, c) in cases.iter().enumerate() {
            let out = interpret(c, &ctx(Role::RefundResults), &g);
            if out.facts.is_empty() {
                assert!(out.has_errors(), "case {i}: nothing applied must be an error: {:?}", out.diagnostics);
            }
        }
        // The BOM case applies the entry with its unreadable amount and date as warnings.
        let out = interpret(&cases[5], &ctx(Role::RefundResults), &g);
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        assert_eq!(out.diagnostics.iter().filter(|d| d.code == "RCL003").count(), 2);
    }

    #[test]
    fn unreadable_files_are_errors() {
        let g = grammars();
        let no_header = interpret(b"PO,Line\n1,2\n", &ctx(Role::RefundResults), &g);
        assert!(no_header.facts.is_empty());
        assert!(no_header.diagnostics.iter().any(|d| d.code == "RCL002" && d.is_error()));
        let no_entries = interpret(b"Entry Number,Status\nBII0001,Accepted\n", &ctx(Role::RefundResults), &g);
        assert!(no_entries.facts.is_empty());
        assert!(no_entries.diagnostics.iter().any(|d| d.code == "RCL006" && d.is_error()));
        let wrong_role = interpret(b"Entry Number,Status\nEEE12345673,Accepted\n", &ctx(Role::Broker), &g);
        assert!(wrong_role.diagnostics.iter().any(|d| d.code == "RCL001" && d.is_error()));
    }

    #[test]
    fn a_paid_refund_stays_paid_and_blanks_keep_earlier_values() {
        let t = NaiveDate::from_ymd_opt(2026, 6, 1).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("date");
        let mut claims = Vec::new();
        let paid = ClaimRow {
            program: "cape".into(),
            status: ClaimStatus::Refunded,
            claim_number: "C1".into(),
            refunded_cents: Some(500),
            ..ClaimRow::default()
        };
        fold(&mut claims, &paid, t);
        let later = ClaimRow { program: "cape".into(), status: ClaimStatus::Accepted, ..ClaimRow::default() };
        fold(&mut claims, &later, t);
        assert_eq!(claims.len(), 1);
        assert_eq!((claims[0].status, claims[0].refunded_cents), (ClaimStatus::Refunded, Some(500)));
        assert_eq!(claims[0].claim_number, "C1");
    }
}
