//! Typed ABI field values: text, integers, exact implied-decimal amounts, MMDDYY dates.
//!
//! Century rule for MMDDYY: `YY` 00-69 is 2000-2069, 70-99 is 1970-1999 (ABI traffic is
//! recent or scheduled a few years ahead; the pivot keeps 1970s-90s history readable).

use super::super::super::grammar::abi::{FieldClass, FieldDef};
use chrono::NaiveDate;
use nom::bytes::complete::{take_while, take_while1};
use nom::combinator::{all_consuming, opt};
use nom::sequence::preceded;
use nom::{IResult, Parser};
use serde::Serialize;
use std::fmt;

/// An exact decimal: `units` / 10^`scale` (e.g. 165000 with scale 2 is 1650.00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Decimal {
    pub units: i128,
    pub scale: u8,
}

impl Decimal {
    /// The amount in integer hundredths (cents), exact when `scale` ≤ 2, truncated otherwise.
    pub fn cents(&self) -> i128 {
        match self.scale {
            0 => self.units * 100,
            1 => self.units * 10,
            2 => self.units,
            s => self.units / 10i128.pow(u32::from(s) - 2),
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let p = 10i128.pow(u32::from(self.scale));
        let sign = if self.units < 0 { "-" } else { "" };
        let a = self.units.abs();
        write!(f, "{sign}{}.{:0width$}", a / p, a % p, width = usize::from(self.scale))
    }
}

/// A field's typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Value<'a> {
    /// AN / A / X: the text with surrounding spaces trimmed.
    Text(&'a str),
    /// N / (S)N without decimals.
    Int(i128),
    /// N / (S)N with implied decimals.
    Decimal(Decimal),
    /// D (MMDDYY).
    Date(NaiveDate),
    /// All spaces.
    Blank,
    /// Bytes that do not fit the class (reported as a diagnostic when the record was read).
    Invalid(&'a [u8]),
}

/// Why a field's bytes do not fit its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFault {
    /// Characters outside the class (e.g. letters in N).
    Class,
    /// Lowercase letters where uppercase is required.
    Lowercase,
    /// Not a real MMDDYY date.
    Date,
    /// Non-blank filler.
    Filler,
}

fn digits(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(|c: u8| c.is_ascii_digit())(i)
}

/// `(S)N`: leading spaces, optional `-`, digits, nothing after.
fn signed_number(i: &[u8]) -> IResult<&[u8], (bool, &[u8])> {
    all_consuming(preceded(take_while(|c| c == b' '), (opt(nom::bytes::complete::tag(&b"-"[..])), digits)))
        .map(|(neg, d)| (neg.is_some(), d))
        .parse(i)
}

fn to_int(d: &[u8]) -> Option<i128> {
    let mut v: i128 = 0;
    for &c in d {
        v = v.checked_mul(10)?.checked_add(i128::from(c - b'0'))?;
    }
    Some(v)
}

/// MMDDYY to a date (century rule in the module docs).
pub fn mmddyy(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digit = |i: usize| b.get(i).map_or(0, |c| u32::from(c - b'0'));
    let n = |i: usize| digit(i) * 10 + digit(i + 1);
    let (m, d, y) = (n(0), n(2), n(4) as i32);
    let year = if y < 70 { 2000 + y } else { 1900 + y };
    NaiveDate::from_ymd_opt(year, m, d)
}

fn numeric(raw: &[u8], class: FieldClass, decimals: u8) -> Result<Value<'_>, FieldFault> {
    let parsed = match class {
        FieldClass::N => all_consuming(digits).parse(raw).ok().map(|(_, d)| (false, d)),
        _ => signed_number(raw).ok().map(|(_, v)| v),
    };
    let (neg, d) = parsed.ok_or(FieldFault::Class)?;
    let v = to_int(d).ok_or(FieldFault::Class)?;
    let v = if neg { -v } else { v };
    Ok(if decimals == 0 { Value::Int(v) } else { Value::Decimal(Decimal { units: v, scale: decimals }) })
}

/// Read one field's bytes as its class says. Blank (all spaces) is `Blank` for every class.
pub fn typed<'a>(raw: &'a [u8], def: &FieldDef) -> Result<Value<'a>, FieldFault> {
    if raw.iter().all(|&c| c == b' ') {
        return Ok(Value::Blank);
    }
    match def.class {
        FieldClass::S => Err(FieldFault::Filler),
        FieldClass::N | FieldClass::SN => numeric(raw, def.class, def.decimals),
        FieldClass::D => mmddyy(raw).map(Value::Date).ok_or(FieldFault::Date),
        FieldClass::A | FieldClass::AN | FieldClass::X => {
            let ok = |c: u8| match def.class {
                FieldClass::A => c.is_ascii_uppercase() || c == b' ',
                FieldClass::AN => c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' ',
                _ => (0x20..0x7f).contains(&c),
            };
            if raw.iter().all(|&c| ok(c)) {
                let s = std::str::from_utf8(raw).map_err(|_| FieldFault::Class)?;
                Ok(Value::Text(s.trim()))
            } else if raw.iter().all(|&c| ok(c.to_ascii_uppercase())) {
                Err(FieldFault::Lowercase)
            } else {
                Err(FieldFault::Class)
            }
        }
    }
}

/// Validate one field's bytes against its class without building a value (the reader's
/// fast path). `Ok(true)` when blank. Assumes the record was already checked for
/// non-printable bytes and folded to uppercase, so `X` always passes.
pub fn check(raw: &[u8], class: FieldClass) -> Result<bool, FieldFault> {
    let lead = raw.iter().take_while(|&&c| c == b' ').count();
    if lead == raw.len() {
        return Ok(true);
    }
    let ok = match class {
        FieldClass::S => return Err(FieldFault::Filler),
        FieldClass::X => true,
        FieldClass::A => raw.iter().all(|&c| c.is_ascii_uppercase() || c == b' '),
        FieldClass::AN => raw.iter().all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b' '),
        FieldClass::N => raw.iter().all(u8::is_ascii_digit),
        FieldClass::SN => {
            let rest = raw.get(lead..).unwrap_or_default();
            let rest = rest.strip_prefix(b"-").unwrap_or(rest);
            !rest.is_empty() && rest.iter().all(u8::is_ascii_digit)
        }
        FieldClass::D => return if mmddyy(raw).is_some() { Ok(false) } else { Err(FieldFault::Date) },
    };
    if ok {
        Ok(false)
    } else if matches!(class, FieldClass::A | FieldClass::AN) && raw.iter().any(u8::is_ascii_lowercase) {
        Err(FieldFault::Lowercase)
    } else {
        Err(FieldFault::Class)
    }
}

/// Like [`typed`] but never fails: faults become `Invalid` (or trimmed text for lowercase).
pub fn lenient<'a>(raw: &'a [u8], def: &FieldDef) -> Value<'a> {
    match typed(raw, def) {
        Ok(v) => v,
        Err(FieldFault::Lowercase) => {
            std::str::from_utf8(raw).map(|s| Value::Text(s.trim())).unwrap_or(Value::Invalid(raw))
        }
        Err(_) => Value::Invalid(raw),
    }
}

#[cfg(test)]
// Tests index fixtures they built themselves: a panic there is a failing test, not untrusted
// input.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn def(class: FieldClass, decimals: u8) -> FieldDef {
        FieldDef {
            name: "f".into(),
            start: 1,
            length: 0,
            class,
            decimals,
            mandatory: false,
            codes: None,
            code_set: None,
        }
    }

    #[test]
    fn an_and_a_and_x() {
        assert_eq!(typed(b"EEE ", &def(FieldClass::AN, 0)), Ok(Value::Text("EEE")));
        assert_eq!(typed(b"E1E", &def(FieldClass::A, 0)), Err(FieldFault::Class));
        assert_eq!(typed(b"eee", &def(FieldClass::AN, 0)), Err(FieldFault::Lowercase));
        assert_eq!(typed(b"12-34", &def(FieldClass::AN, 0)), Err(FieldFault::Class));
        assert_eq!(typed(b"12-3456789 ", &def(FieldClass::X, 0)), Ok(Value::Text("12-3456789")));
        assert_eq!(typed(b"a\x01", &def(FieldClass::X, 0)), Err(FieldFault::Class));
        assert_eq!(typed(b"   ", &def(FieldClass::AN, 0)), Ok(Value::Blank));
    }

    #[test]
    fn n_and_sn_with_implied_decimals() {
        assert_eq!(
            typed(b"0000165000", &def(FieldClass::SN, 2)),
            Ok(Value::Decimal(Decimal { units: 165000, scale: 2 }))
        );
        assert_eq!(
            typed(b"    165000", &def(FieldClass::SN, 2)),
            Ok(Value::Decimal(Decimal { units: 165000, scale: 2 }))
        );
        assert_eq!(typed(b"   -1250", &def(FieldClass::SN, 2)), Ok(Value::Decimal(Decimal { units: -1250, scale: 2 })));
        assert_eq!(typed(b"  10000", &def(FieldClass::N, 0)), Err(FieldFault::Class));
        assert_eq!(typed(b"0010000", &def(FieldClass::N, 0)), Ok(Value::Int(10000)));
        assert_eq!(typed(b"12 34", &def(FieldClass::SN, 0)), Err(FieldFault::Class));
        assert_eq!(typed(b"1234  ", &def(FieldClass::SN, 0)), Err(FieldFault::Class));
        assert_eq!(typed(b"12A4", &def(FieldClass::N, 0)), Err(FieldFault::Class));
        assert_eq!(Decimal { units: 165000, scale: 2 }.to_string(), "1650.00");
        assert_eq!(Decimal { units: -5, scale: 2 }.to_string(), "-0.05");
        assert_eq!(Decimal { units: 12345, scale: 4 }.cents(), 123);
        assert_eq!(Decimal { units: 7, scale: 0 }.cents(), 700);
    }

    #[test]
    fn dates_and_century_rule() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).expect("date");
        assert_eq!(typed(b"020226", &def(FieldClass::D, 0)), Ok(Value::Date(d(2026, 2, 2))));
        assert_eq!(typed(b"123199", &def(FieldClass::D, 0)), Ok(Value::Date(d(1999, 12, 31))));
        assert_eq!(typed(b"010170", &def(FieldClass::D, 0)), Ok(Value::Date(d(1970, 1, 1))));
        assert_eq!(typed(b"123169", &def(FieldClass::D, 0)), Ok(Value::Date(d(2069, 12, 31))));
        assert_eq!(typed(b"022926", &def(FieldClass::D, 0)), Err(FieldFault::Date));
        assert_eq!(typed(b"1302 6", &def(FieldClass::D, 0)), Err(FieldFault::Date));
        assert_eq!(typed(b"      ", &def(FieldClass::D, 0)), Ok(Value::Blank));
    }

    #[test]
    fn fast_check_agrees_with_typed() {
        let cases: &[(&[u8], FieldClass)] = &[
            (b"0000165000", FieldClass::SN),
            (b"   -1250", FieldClass::SN),
            (b"  -", FieldClass::SN),
            (b"12 34", FieldClass::SN),
            (b"0010000", FieldClass::N),
            (b" 10000", FieldClass::N),
            (b"020226", FieldClass::D),
            (b"022926", FieldClass::D),
            (b"EEE", FieldClass::AN),
            (b"E-E", FieldClass::AN),
            (b"E1", FieldClass::A),
            (b"   ", FieldClass::S),
            (b" x ", FieldClass::S),
            (b"  ", FieldClass::X),
        ];
        for (raw, class) in cases {
            let d = def(*class, 0);
            let slow = typed(raw, &d).map(|v| v == Value::Blank);
            assert_eq!(check(raw, *class), slow, "{:?} {class:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn filler() {
        assert_eq!(typed(b"   ", &def(FieldClass::S, 0)), Ok(Value::Blank));
        assert_eq!(typed(b" X ", &def(FieldClass::S, 0)), Err(FieldFault::Filler));
        assert_eq!(lenient(b" X ", &def(FieldClass::S, 0)), Value::Invalid(b" X "));
    }
}
