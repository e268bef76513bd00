//! X12 delimiters: the encoding pre-pass (BOM, UTF-16) and sniffing the delimiters from each ISA.

use nom::bytes::complete::tag;
use nom::IResult;
use nom::Parser;
use serde::Serialize;
use std::borrow::Cow;

/// A segment terminator: one character, 1 to 4 bytes in UTF-8 (`~`, 0x1D, LF, `…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminator {
    bytes: [u8; 4],
    len: u8,
}

impl Terminator {
    pub fn new(b: &[u8]) -> Terminator {
        let mut bytes = [0u8; 4];
        let len = b.len().clamp(1, 4);
        for (i, x) in b.iter().take(len).enumerate() {
            if let Some(slot) = bytes.get_mut(i) {
                *slot = *x;
            }
        }
        Terminator { bytes, len: len as u8 }
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len as usize).unwrap_or(&[])
    }
    pub fn first(&self) -> u8 {
        self.bytes[0]
    }
    pub fn len(&self) -> usize {
        self.len as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Serialize for Terminator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

/// The delimiters of one interchange, read from its ISA.
///
/// Aligned to 8 bytes so that copying it into each [`super::Segment`] is two whole-word moves
/// (a packed 9-byte copy made every segment move stall on store forwarding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[repr(C, align(8))]
pub struct Delimiters {
    #[serde(serialize_with = "ser_byte")]
    pub element: u8,
    #[serde(serialize_with = "ser_byte")]
    pub component: u8,
    /// ISA11, only from ISA12 00402 on and only when not a letter or digit (nor `-`, `.`, `+`,
    /// which appear inside numbers and references).
    #[serde(serialize_with = "ser_opt_byte")]
    pub repetition: Option<u8>,
    pub terminator: Terminator,
}

fn ser_byte<S: serde::Serializer>(b: &u8, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&(*b as char).to_string())
}
fn ser_opt_byte<S: serde::Serializer>(b: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&(*b as char).to_string()),
        None => s.serialize_none(),
    }
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters { element: b'*', component: b':', repetition: Some(b'^'), terminator: Terminator::new(b"~") }
    }
}

/// What the encoding pre-pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

/// Strip a UTF-8 BOM or decode UTF-16 (LE/BE, with or without BOM) into UTF-8.
/// `Err` carries a message when UTF-16 was detected but cannot be decoded.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, [u8]>, Encoding), String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok((Cow::Borrowed(rest), Encoding::Utf8Bom));
    }
    let (le, body) = if let Some(r) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (Some(true), r)
    } else if let Some(r) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        (Some(false), r)
    } else if bytes.len() >= 4 && bytes[1] == 0 && bytes[3] == 0 && bytes[0] != 0 {
        (Some(true), bytes)
    } else if bytes.len() >= 4 && bytes[0] == 0 && bytes[2] == 0 && bytes[1] != 0 {
        (Some(false), bytes)
    } else {
        (None, bytes)
    };
    let Some(le) = le else { return Ok((Cow::Borrowed(bytes), Encoding::Plain)) };
    if body.len() % 2 != 0 {
        return Err("UTF-16 input with an odd number of bytes".into());
    }
    let units =
        body.chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
    let mut out = String::with_capacity(body.len() / 2);
    for (i, ch) in char::decode_utf16(units).enumerate() {
        match ch {
            Ok(c) => out.push(c),
            Err(_) => return Err(format!("invalid UTF-16 (unpaired surrogate at code unit {i})")),
        }
    }
    Ok((Cow::Owned(out.into_bytes()), if le { Encoding::Utf16Le } else { Encoding::Utf16Be }))
}

/// The separator offsets in a 106-character ISA.
pub const ISA_SEPARATOR_OFFSETS: [usize; 16] = [3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103];

/// An ISA read from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsaRead {
    /// ISA01..ISA16 as text (not trimmed).
    pub fields: Vec<String>,
    pub delimiters: Delimiters,
    /// Byte offset just past the terminator.
    pub end: usize,
    /// CR/LF appeared inside the ISA (a hard-wrapped interchange).
    pub wrapped: bool,
    /// Not 106 characters: recovered by counting separators.
    pub recovered_length: Option<usize>,
    /// LFs inside the ISA (to keep line numbers right).
    pub newlines: usize,
}

/// Why an ISA could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsaError {
    /// Input ends inside the ISA.
    Truncated,
    /// No `ISA` at this place.
    NotIsa,
    /// Separators cannot be found, even by counting; the message says what.
    Separators(String),
}

/// nom rule: `ISA` then the element separator (any byte that is not a letter, digit or space).
pub fn isa_start(input: &[u8]) -> IResult<&[u8], u8> {
    let (rest, _) = tag(&b"ISA"[..]).parse(input)?;
    match rest.first() {
        Some(&b) if !b.is_ascii_alphanumeric() && b != b' ' && b.is_ascii() => Ok((&rest[1..], b)),
        _ => Err(nom::Err::Error(nom::error::Error::new(rest, nom::error::ErrorKind::Char))),
    }
}

/// Length of the UTF-8 character starting with `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Read an ISA at `start` in `input`: collect 105 header characters ignoring CR/LF, check the
/// separators at their fixed offsets, else recover by counting 16 separators.
pub fn read_isa(input: &[u8], start: usize) -> Result<IsaRead, IsaError> {
    let Some(here) = input.get(start..) else { return Err(IsaError::Truncated) };
    let elem = match isa_start(here) {
        Ok((_, e)) => e,
        Err(_) => {
            return Err(if here.len() < 4 && b"ISA".starts_with(here) {
                IsaError::Truncated
            } else {
                IsaError::NotIsa
            });
        }
    };
    // Collect header bytes (ASCII, one per character) with their offsets, skipping CR/LF.
    let mut chars: Vec<u8> = Vec::with_capacity(106);
    let mut i = start;
    let mut wrapped = false;
    let mut newlines = 0;
    while chars.len() < 105 {
        let Some(&b) = input.get(i) else { break };
        if b == b'\r' || b == b'\n' {
            if b == b'\n' {
                newlines += 1;
            }
            wrapped = true;
            i += 1;
            continue;
        }
        chars.push(b);
        i += 1;
    }
    let fixed_ok = chars.len() == 105
        && ISA_SEPARATOR_OFFSETS.iter().all(|&o| chars.get(o) == Some(&elem))
        && chars.iter().take(104).filter(|&&c| c == elem).count() == 16;
    let (fields, component, term_start, recovered) = if fixed_ok {
        let mut fields = Vec::with_capacity(16);
        for w in ISA_SEPARATOR_OFFSETS.windows(2) {
            fields.push(String::from_utf8_lossy(chars.get(w[0] + 1..w[1]).unwrap_or(&[])).into_owned());
        }
        let comp = chars.get(104).copied().unwrap_or(b':');
        fields.push((comp as char).to_string());
        (fields, comp, i, None)
    } else {
        // Count separators over the raw bytes (CR/LF skipped).
        let mut fields: Vec<String> = Vec::with_capacity(16);
        let mut cur: Vec<u8> = Vec::new();
        let mut j = start + 4;
        let mut count = 1;
        let mut nl = 0;
        let mut chars_seen = 4;
        let mut comp = None;
        while let Some(&b) = input.get(j) {
            j += 1;
            if b == b'\r' || b == b'\n' {
                nl += (b == b'\n') as usize;
                continue;
            }
            chars_seen += 1;
            if count == 16 {
                comp = Some(b);
                break;
            }
            if b == elem {
                fields.push(String::from_utf8_lossy(&cur).into_owned());
                cur.clear();
                count += 1;
            } else {
                cur.push(b);
                if cur.len() > 40 || chars_seen > 140 {
                    break;
                }
            }
        }
        let Some(comp) = comp else {
            if j >= input.len() {
                return Err(IsaError::Truncated);
            }
            return Err(IsaError::Separators(format!(
                "the ISA does not have 16 element separators {:?} at their places",
                elem as char
            )));
        };
        fields.push((comp as char).to_string());
        newlines = nl;
        wrapped = nl > 0;
        (fields, comp, j, Some(chars_seen))
    };
    // The terminator: the next character (skipping CR/LF only if what follows is not CR/LF itself
    // being the terminator; a CR or LF right after ISA16 is the terminator).
    let Some(&t0) = input.get(term_start) else { return Err(IsaError::Truncated) };
    let tlen = utf8_len(t0);
    let Some(tb) = input.get(term_start..term_start + tlen) else { return Err(IsaError::Truncated) };
    let mut term = Terminator::new(tb);
    // CR LF as a pair: treat as "LF terminator after CR noise" by taking CR as terminator and
    // letting the noise skipper eat the LF.
    if t0 == b'\r' && input.get(term_start + 1) == Some(&b'\n') {
        term = Terminator::new(b"\r");
    }
    let end = term_start + tlen;
    if term.first() == b'\n' {
        newlines += 1;
    }
    let version = fields.get(11).map(String::as_str).unwrap_or("");
    let rep_char = fields.get(10).and_then(|f| f.as_bytes().first().copied());
    let repetition = match rep_char {
        Some(r)
            if version >= "00402"
                && !r.is_ascii_alphanumeric()
                && !matches!(r, b'-' | b'.' | b'+')
                && r != elem
                && r != component
                && r != term.first()
                && r != b' ' =>
        {
            Some(r)
        }
        _ => None,
    };
    Ok(IsaRead {
        fields,
        delimiters: Delimiters { element: elem, component, repetition, terminator: term },
        end,
        wrapped,
        recovered_length: recovered.map(|n| n + 1),
        newlines,
    })
}

/// Problems with a delimiter set: `Some((ta105, message))`.
pub fn check_delimiters(d: &Delimiters) -> Option<(&'static str, String)> {
    let t = d.terminator.first();
    if d.element.is_ascii_alphanumeric() || d.element == t {
        return Some(("026", format!("element separator {:?} is not usable", d.element as char)));
    }
    if d.component.is_ascii_alphanumeric() || d.component == d.element || d.component == t || d.component == b' ' {
        return Some(("027", format!("component separator {:?} is not usable", d.component as char)));
    }
    if t.is_ascii_alphanumeric() || t == b' ' {
        return Some(("024", format!("segment terminator {:?} is not usable", t as char)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] =
        b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *210101*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn isa_start_rule() {
        assert_eq!(isa_start(b"ISA*00").unwrap().1, b'*');
        assert!(isa_start(b"ISAA00").is_err());
        assert!(isa_start(b"GS*").is_err());
    }

    #[test]
    fn fixed_isa() {
        let r = read_isa(ISA, 0).unwrap();
        assert_eq!(r.fields.len(), 16);
        assert_eq!(r.fields[5].trim(), "SENDER");
        assert_eq!(r.fields[12], "000000001");
        assert_eq!(r.delimiters.repetition, Some(b'^'));
        assert_eq!(r.delimiters.terminator.as_bytes(), b"~");
        assert_eq!(r.end, 106);
        assert!(r.recovered_length.is_none() && !r.wrapped);
    }

    #[test]
    fn repetition_only_from_00402_and_not_alnum() {
        let s = String::from_utf8_lossy(ISA).replace("*^*00501", "*U*00501");
        assert_eq!(read_isa(s.as_bytes(), 0).unwrap().delimiters.repetition, None);
        let s = String::from_utf8_lossy(ISA).replace("*^*00501", "*^*00401");
        assert_eq!(read_isa(s.as_bytes(), 0).unwrap().delimiters.repetition, None);
    }

    #[test]
    fn wrapped_short_and_multibyte() {
        let mut w = ISA[..60].to_vec();
        w.extend_from_slice(b"\r\n");
        w.extend_from_slice(&ISA[60..]);
        let r = read_isa(&w, 0).unwrap();
        assert!(r.wrapped);
        assert_eq!(r.end, 108);
        let short = String::from_utf8_lossy(ISA).replace("*          *00", "*         *00");
        let r = read_isa(short.as_bytes(), 0).unwrap();
        assert_eq!(r.recovered_length, Some(105));
        let ell = String::from_utf8_lossy(ISA).replace(":~", ":\u{2026}");
        let r = read_isa(ell.as_bytes(), 0).unwrap();
        assert_eq!(r.delimiters.terminator.as_bytes(), "\u{2026}".as_bytes());
        assert_eq!(read_isa(&ISA[..50], 0), Err(IsaError::Truncated));
    }

    #[test]
    fn utf16_and_bom() {
        let mut le = vec![0xFF, 0xFE];
        for b in b"ISA*" {
            le.extend_from_slice(&[*b, 0]);
        }
        assert_eq!(decode(&le).unwrap().0.as_ref(), b"ISA*");
        assert_eq!(decode(b"\xEF\xBB\xBFISA").unwrap().1, Encoding::Utf8Bom);
        assert!(decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]).is_err());
    }
}
