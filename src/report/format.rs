//! Report output formats: an aligned text table, CSV (csv crate), JSON (an array of objects);
//! all three write row by row as the report streams them.

use super::{Cell, Report};
use std::io::{self, Write};
use std::str::FromStr;

/// `--format text|csv|json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "text" => Ok(Format::Text),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            o => Err(format!("unknown format {o:?} (text, csv or json)")),
        }
    }
}

/// Write the report; returns the number of rows written.
pub fn write_report(report: Report<'_>, format: Format, out: &mut dyn Write) -> io::Result<u64> {
    match format {
        Format::Text => write_text(report, out),
        Format::Csv => write_csv(report, out),
        Format::Json => write_json(report, out),
    }
}

/// Text cells lose control characters so a hostile value cannot move the cursor.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn write_text(report: Report<'_>, out: &mut dyn Write) -> io::Result<u64> {
    let cols = report.columns;
    let mut line = String::new();
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(&format!("{:<w$}", c.name, w = c.width));
    }
    writeln!(out, "{}", line.trim_end())?;
    writeln!(out, "{}", line.trim_end().chars().map(|_| '-').collect::<String>())?;
    let mut n = 0;
    for row in report.rows {
        let mut line = String::new();
        for (i, (c, cell)) in cols.iter().zip(row.iter()).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let v = clean(&cell.render());
            if cell.is_numeric() {
                line.push_str(&format!("{v:>w$}", w = c.width));
            } else {
                line.push_str(&format!("{v:<w$}", w = c.width));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
        n += 1;
    }
    if n == 0 {
        writeln!(out, "(no rows)")?;
    }
    Ok(n)
}

fn write_csv(report: Report<'_>, out: &mut dyn Write) -> io::Result<u64> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(report.columns.iter().map(|c| c.name))?;
    let mut n = 0;
    for row in report.rows {
        w.write_record(row.iter().map(Cell::render))?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

fn json_value(cell: &Cell) -> String {
    match cell {
        Cell::Empty => "null".into(),
        Cell::Bool(b) => b.to_string(),
        c if c.is_numeric() => c.render(),
        c => serde_json::to_string(&c.render()).unwrap_or_else(|_| "null".into()),
    }
}

fn write_json(report: Report<'_>, out: &mut dyn Write) -> io::Result<u64> {
    let keys: Vec<String> =
        report.columns.iter().map(|c| serde_json::to_string(c.name).unwrap_or_else(|_| "\"?\"".into())).collect();
    out.write_all(b"[")?;
    let mut n = 0;
    for row in report.rows {
        out.write_all(if n == 0 { b"\n  {" } else { b",\n  {" })?;
        for (i, (k, cell)) in keys.iter().zip(row.iter()).enumerate() {
            if i > 0 {
                out.write_all(b", ")?;
            }
            write!(out, "{k}: {}", json_value(cell))?;
        }
        out.write_all(b"}")?;
        n += 1;
    }
    out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" })?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::super::{col, Cell, Report};
    use super::*;

    fn sample() -> Report<'static> {
        Report {
            name: "t",
            columns: vec![col("name", 6), col("amount", 8)],
            rows: Box::new(
                vec![vec![Cell::text("a\"b"), Cell::Money(1050)], vec![Cell::text("x\ny"), Cell::Empty]].into_iter(),
            ),
        }
    }

    #[test]
    fn three_formats() {
        let mut t = Vec::new();
        write_report(sample(), Format::Text, &mut t).unwrap();
        let t = String::from_utf8(t).unwrap();
        assert!(t.contains("a\"b        10.50"), "{t}");
        assert!(t.contains("x y"));
        let mut c = Vec::new();
        write_report(sample(), Format::Csv, &mut c).unwrap();
        assert_eq!(String::from_utf8(c).unwrap(), "name,amount\n\"a\"\"b\",10.50\n\"x\ny\",\n");
        let mut j = Vec::new();
        write_report(sample(), Format::Json, &mut j).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
        assert_eq!(v[0]["amount"], serde_json::json!(10.5));
        assert_eq!(v[1]["amount"], serde_json::Value::Null);
        assert_eq!(v[0]["name"], "a\"b");
    }
}
