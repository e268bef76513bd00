//! X12 segments: the tokenizer (terminator scanning, noise after segments, BIN by length) and
//! borrowed access to elements, components and repetitions.

use super::delimiters::Delimiters;
use super::structure::{zero_bytes, LO};
use nom::bytes::complete::take_while_m_n;
use nom::IResult;
use nom::Parser;
use std::borrow::Cow;

/// One segment, borrowed from the input where possible.
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    data: Cow<'a, [u8]>,
    id_len: usize,
    /// The interchange's delimiters.
    pub delimiters: Delimiters,
    /// 1-based line of the segment's first byte.
    pub line: usize,
    /// 0-based byte offset of the segment in the decoded input (after a UTF-8 BOM is stripped;
    /// diagnostics add the BOM back).
    pub byte: usize,
    /// 1-based position in its transaction set (ST = 1); 0 for envelope segments outside a set.
    pub index: usize,
}

/// nom rule: a segment id (2 or 3 upper-case letters or digits).
pub fn segment_id(input: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while_m_n(2, 3, |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit()).parse(input)
}

/// nom rule: one element: everything up to the element separator (or the end of the segment).
pub fn element(sep: u8) -> impl Fn(&[u8]) -> IResult<&[u8], &[u8]> {
    move |input: &[u8]| {
        let n = memchr::memchr(sep, input).unwrap_or(input.len());
        Ok((input.get(n..).unwrap_or(&[]), input.get(..n).unwrap_or(&[])))
    }
}

impl<'a> Segment<'a> {
    pub fn new(data: Cow<'a, [u8]>, delimiters: Delimiters, line: usize, byte: usize) -> Self {
        let id_len = data.iter().position(|&b| b == delimiters.element).unwrap_or(data.len());
        Segment { data, id_len, delimiters, line, byte, index: 0 }
    }

    /// [`Segment::new`] for a borrowed segment whose id length is known.
    #[inline]
    fn borrowed(data: &'a [u8], id_len: usize, delimiters: Delimiters, line: usize, byte: usize) -> Self {
        Segment { data: Cow::Borrowed(data), id_len, delimiters, line, byte, index: 0 }
    }
    /// The whole segment without its terminator.
    pub fn raw(&self) -> &[u8] {
        &self.data
    }
    /// The segment id as written (may be empty or malformed).
    pub fn id(&self) -> &[u8] {
        self.data.get(..self.id_len).unwrap_or(&[])
    }
    /// The segment id as text.
    pub fn id_str(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.id())
    }
    fn is_bin(&self) -> bool {
        self.id() == b"BIN"
    }
    /// The elements after the id (element 1 first). BIN02 is kept whole.
    pub fn elements(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let limit = if self.is_bin() { 3 } else { usize::MAX };
        self.data.splitn(limit, move |&b| b == self.delimiters.element).skip(1)
    }
    /// Element `n` (1-based); `None` when absent.
    pub fn element(&self, n: usize) -> Option<&[u8]> {
        if n == 0 {
            return None;
        }
        self.elements().nth(n - 1)
    }
    /// Element `n` as text (lossy), empty when absent.
    pub fn element_str(&self, n: usize) -> Cow<'_, str> {
        String::from_utf8_lossy(self.element(n).unwrap_or(&[]))
    }
    /// Number of elements after the id.
    pub fn element_count(&self) -> usize {
        self.elements().count()
    }
    /// The repetitions of element `n` (one item when there is no repetition separator).
    pub fn repetitions(&self, n: usize) -> Vec<&[u8]> {
        let Some(e) = self.element(n) else { return Vec::new() };
        match self.delimiters.repetition {
            Some(r) => e.split(|&b| b == r).collect(),
            None => vec![e],
        }
    }
    /// The components of element `n` (first repetition).
    pub fn components(&self, n: usize) -> Vec<&[u8]> {
        let Some(e) = self.repetitions(n).into_iter().next() else { return Vec::new() };
        e.split(|&b| b == self.delimiters.component).collect()
    }
}

/// Splits an interchange's bytes into segments.
#[derive(Debug, Clone)]
pub struct Tokenizer<'a> {
    input: &'a [u8],
    pub pos: usize,
    pub line: usize,
    pub d: Delimiters,
    /// Drop CR/LF inside segments (hard-wrapped interchange).
    pub strip_crlf: bool,
    /// The last segment returned had no terminator (the input ended).
    pub unterminated: bool,
    /// Copies of the element separator and the first terminator byte: the simple path reads
    /// these, never `d`'s fields, so `d` is copied whole into each segment (no split copy that
    /// makes the next move of the segment stall on store forwarding).
    element: u8,
    term0: u8,
}

/// A tokenizer result.
#[derive(Debug)]
pub enum Token<'a> {
    Segment(Segment<'a>),
    /// The last segment has no terminator (the input ended).
    Unterminated(Segment<'a>),
}

/// The offset of the first `t` in `hay`: the first few words eight bytes at a time (segments are
/// short, and a library search call costs more than the scan), the rest by `memchr`.
#[inline(always)]
fn find_byte(t: u8, hay: &[u8]) -> Option<usize> {
    let tt = t as u64 * LO;
    let mut at = 0usize;
    for _ in 0..4 {
        let Some(chunk) = hay.get(at..at + 8) else { break };
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let m = zero_bytes(u64::from_le_bytes(word) ^ tt);
        if m != 0 {
            return Some(at + (m.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr(t, hay.get(at..)?).map(|k| at + k)
}

/// The ids the envelope reader handles itself inside an interchange (every other id inside a
/// set is a body segment).
#[inline]
pub(super) fn is_envelope_id(id: &[u8]) -> bool {
    matches!(id, b"ISA" | b"IEA" | b"GS" | b"GE" | b"ST" | b"SE")
}

#[inline]
fn is_noise(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | b' ' | b'\t')
}

impl<'a> Tokenizer<'a> {
    pub fn new(input: &'a [u8], pos: usize, line: usize, d: Delimiters) -> Self {
        Tokenizer {
            input,
            pos,
            line,
            d,
            strip_crlf: false,
            unterminated: false,
            element: d.element,
            term0: d.terminator.first(),
        }
    }

    /// Skip CR/LF/space/tab after a segment (unless one of them is the terminator).
    #[inline]
    pub fn skip_noise(&mut self) {
        let t = self.d.terminator.first();
        while let Some(&b) = self.input.get(self.pos) {
            if !is_noise(b) || (b == t && self.d.terminator.len() == 1) {
                break;
            }
            if b == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
    }

    /// At the end of the input (after noise)?
    pub fn at_end(&mut self) -> bool {
        self.skip_noise();
        self.pos >= self.input.len()
    }

    /// The rest of the input from the current position.
    pub fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or(&[])
    }

    /// Find the end of the segment starting at `from`: the offset of its terminator, if any.
    #[inline]
    fn find_terminator(&self, from: usize) -> Option<usize> {
        let t = self.d.terminator.as_bytes();
        let t0 = self.d.terminator.first();
        let mut at = from;
        loop {
            let hay = self.input.get(at..)?;
            let k = memchr::memchr(t0, hay)?;
            let p = at + k;
            if t.len() == 1 || self.input.get(p..p + t.len()) == Some(t) {
                return Some(p);
            }
            at = p + 1;
        }
    }

    /// BIN segment: `BIN*<len>*<len bytes>`; returns the terminator offset when the length is numeric.
    #[inline]
    fn bin_end(&self, start: usize) -> Option<usize> {
        if self.input.get(start) != Some(&b'B') {
            return None;
        }
        let e = self.d.element;
        let rest = self.input.get(start..)?;
        if rest.get(..4)? != [b'B', b'I', b'N', e] {
            return None;
        }
        let digits = rest.get(4..)?;
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 12 || digits.get(n) != Some(&e) {
            return None;
        }
        let len: usize = std::str::from_utf8(digits.get(..n)?).ok()?.parse().ok()?;
        let end = start + 4 + n + 1 + len;
        let t = self.d.terminator.as_bytes();
        if self.input.get(end..end + t.len()) == Some(t) {
            Some(end)
        } else {
            None
        }
    }

    /// Next segment (after skipping noise); `None` at the end of the input.
    pub fn next_token(&mut self) -> Option<Token<'a>> {
        let seg = self.next_segment()?;
        Some(if self.unterminated { Token::Unterminated(seg) } else { Token::Segment(seg) })
    }

    /// Next segment (after skipping noise); sets [`Tokenizer::unterminated`] when the input
    /// ended before a terminator. `None` at the end of the input.
    #[inline]
    pub fn next_segment(&mut self) -> Option<Segment<'a>> {
        if !self.strip_crlf
            && self.d.terminator.len() == 1
            && self.term0 == self.d.terminator.first()
            && self.element == self.d.element
        {
            return self.next_segment_simple();
        }
        self.next_segment_general()
    }

    /// [`Tokenizer::next_segment`] for the usual case: a one-byte terminator, no hard wrapping.
    #[inline]
    fn next_segment_simple(&mut self) -> Option<Segment<'a>> {
        let input = self.input;
        let t = self.term0;
        let mut start = self.pos;
        while let Some(&b) = input.get(start) {
            if b == t || !is_noise(b) {
                break;
            }
            self.line += (b == b'\n') as usize;
            start += 1;
        }
        self.pos = start;
        let rest = input.get(start..)?;
        if rest.starts_with(b"BIN") {
            return self.next_segment_general();
        }
        let line = self.line;
        let (raw, terminated) = match find_byte(t, rest) {
            Some(k) => (rest.get(..k).unwrap_or(&[]), true),
            None if rest.is_empty() => return None,
            None => (rest, false),
        };
        self.pos = start + raw.len() + terminated as usize;
        if terminated && t == b'\n' {
            self.line += 1;
        }
        self.unterminated = !terminated;
        let e = self.element;
        let id_len = raw
            .iter()
            .take(4)
            .position(|&b| b == e)
            .unwrap_or_else(|| raw.get(4..).and_then(|r| memchr::memchr(e, r)).map(|k| k + 4).unwrap_or(raw.len()));
        Some(Segment::borrowed(raw, id_len, self.d, line, start))
    }

    /// When the next segment is an ordinary body segment (one-byte terminator found, no hard
    /// wrapping, not BIN, id not one of the envelope ids ISA, IEA, GS, GE, ST, SE), push it onto
    /// `into` with `index` = its new length and return true; else leave the tokenizer as it was
    /// and return false.
    ///
    /// The segment is built in place in the vector: building it on the stack and moving it in
    /// stalls on store forwarding.
    #[inline]
    pub fn push_body(&mut self, into: &mut Vec<Segment<'a>>) -> bool {
        if self.strip_crlf
            || self.d.terminator.len() != 1
            || self.term0 != self.d.terminator.first()
            || self.element != self.d.element
        {
            return false;
        }
        let input = self.input;
        let t = self.term0;
        let mut start = self.pos;
        let mut line = self.line;
        while let Some(&b) = input.get(start) {
            if b == t || !is_noise(b) {
                break;
            }
            line += (b == b'\n') as usize;
            start += 1;
        }
        let Some(rest) = input.get(start..) else { return false };
        if rest.is_empty() || rest.starts_with(b"BIN") {
            return false;
        }
        let Some(k) = find_byte(t, rest) else { return false };
        // `raw` by a branch, not a select: its address then does not wait for the terminator
        // search, nor does the id scan (read from `rest`, bounded by `k` after the fact).
        let Some(raw) = rest.get(..k) else { return false };
        let e = self.element;
        let id_len =
            match rest.iter().take(4).position(|&b| b == e) {
                Some(p) if p < k => p,
                _ => raw.iter().take(4).position(|&b| b == e).unwrap_or_else(|| {
                    raw.get(4..).and_then(|r| memchr::memchr(e, r)).map(|k| k + 4).unwrap_or(raw.len())
                }),
            };
        if matches!(raw.first(), Some(b'I' | b'G' | b'S')) && is_envelope_id(raw.get(..id_len).unwrap_or(&[])) {
            return false;
        }
        self.pos = start + k + 1;
        self.line = line + (t == b'\n') as usize;
        self.unterminated = false;
        let index = into.len() + 1;
        into.push(Segment { data: Cow::Borrowed(raw), id_len, delimiters: self.d, line, byte: start, index });
        true
    }

    fn next_segment_general(&mut self) -> Option<Segment<'a>> {
        self.skip_noise();
        let start = self.pos;
        if start >= self.input.len() {
            return None;
        }
        let line = self.line;
        let (end, terminated) = match self.bin_end(start).or_else(|| self.find_terminator(start)) {
            Some(e) => (e, true),
            None => (self.input.len(), false),
        };
        let raw = self.input.get(start..end).unwrap_or(&[]);
        let nl_inside =
            if self.strip_crlf || raw.starts_with(b"BIN") { memchr::memchr_iter(b'\n', raw).count() } else { 0 };
        let data: Cow<'a, [u8]> = if self.strip_crlf && memchr::memchr2(b'\r', b'\n', raw).is_some() {
            Cow::Owned(raw.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect())
        } else {
            Cow::Borrowed(raw)
        };
        self.line += nl_inside;
        self.pos = if terminated { end + self.d.terminator.len() } else { end };
        if terminated && self.d.terminator.first() == b'\n' {
            self.line += 1;
        }
        self.unterminated = !terminated;
        Some(Segment::new(data, self.d, line, start))
    }
}

#[cfg(test)]
mod tests {
    use super::super::delimiters::Terminator;
    use super::*;

    fn d(term: &[u8]) -> Delimiters {
        Delimiters { element: b'*', component: b':', repetition: Some(b'^'), terminator: Terminator::new(term) }
    }

    fn ids(input: &[u8], term: &[u8]) -> Vec<String> {
        let mut t = Tokenizer::new(input, 0, 1, d(term));
        let mut out = Vec::new();
        while let Some(Token::Segment(s) | Token::Unterminated(s)) = t.next_token() {
            out.push(s.id_str().into_owned());
        }
        out
    }

    #[test]
    fn id_and_element_rules() {
        assert_eq!(segment_id(b"AK3*x").unwrap().1, b"AK3");
        assert!(segment_id(b"a").is_err());
        assert_eq!(element(b'*')(b"ab*c").unwrap(), (&b"*c"[..], &b"ab"[..]));
        assert_eq!(element(b'*')(b"abc").unwrap().1, b"abc");
    }

    #[test]
    fn terminators_and_noise() {
        assert_eq!(ids(b"ST*1~\r\n  BEG*2~SE*3~", b"~"), ["ST", "BEG", "SE"]);
        assert_eq!(ids("ST*1\u{2026}SE*2\u{2026}".as_bytes(), "\u{2026}".as_bytes()), ["ST", "SE"]);
        assert_eq!(ids(b"ST*1\x1dSE*2\x1d", b"\x1d"), ["ST", "SE"]);
        assert_eq!(ids(b"ST*1\nSE*2\n", b"\n"), ["ST", "SE"]);
    }

    #[test]
    fn bin_by_length_and_lines() {
        let input = b"BIN*5*a~\nb~~SE*2~";
        let mut t = Tokenizer::new(input, 0, 1, d(b"~"));
        let Some(Token::Segment(s)) = t.next_token() else { panic!("no segment") };
        assert_eq!(s.element(2), Some(&b"a~\nb~"[..]));
        let Some(Token::Segment(s)) = t.next_token() else { panic!("no segment") };
        assert_eq!((s.id(), s.line), (&b"SE"[..], 2));
    }

    /// (raw, line, byte, unterminated) of each segment, by `next_segment` alone or by
    /// `push_body` first with `next_segment` as the fallback.
    fn walk(input: &[u8], term: &[u8], push: bool) -> Vec<(Vec<u8>, usize, usize, bool)> {
        let mut t = Tokenizer::new(input, 0, 1, d(term));
        let mut out = Vec::new();
        loop {
            let mut v = Vec::new();
            if push && t.push_body(&mut v) {
                let s = v.first().expect("pushed");
                assert_eq!(s.index, 1);
                out.push((s.raw().to_vec(), s.line, s.byte, t.unterminated));
                continue;
            }
            let Some(s) = t.next_segment() else { break };
            out.push((s.raw().to_vec(), s.line, s.byte, t.unterminated));
        }
        out
    }

    #[test]
    fn push_body_matches_next_segment() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b"ST*850*1~\r\nBEG*00~ \tPO1*1**DZ~~BIN*3*a~b~REF*IA~\nSE*5*1", b"~"),
            (b"ST*1~SAC*A~TD5*B~SN1**2~ISB*1~GSX*2~IE~S~T~G~SE*9*1~GE*1~IEA*1*1~ISA~", b"~"),
            (b"ST*1\nN1*x\n\nDTM*2\nSE*3", b"\n"),
            (b"ISA~GS*1~ST*1~PID*F~GE*1~IEA*1~*X~ABCDE*1~", b"~"),
            ("ST*1\u{2026}N1*2\u{2026}".as_bytes(), "\u{2026}".as_bytes()),
            (b"N1*a\r\n*b~N2~", b"~"),
            (b"", b"~"),
        ];
        for (input, term) in cases {
            assert_eq!(walk(input, term, true), walk(input, term, false), "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn find_byte_matches_memchr() {
        let hay: Vec<u8> = (0..80u8).map(|i| b'a' + i % 26).collect();
        for t in [b'a', b'e', b'z', b'~'] {
            for from in 0..hay.len() {
                for to in from..hay.len() {
                    let h = &hay[from..to];
                    assert_eq!(find_byte(t, h), memchr::memchr(t, h), "{t} {from}..{to}");
                }
            }
        }
    }

    #[test]
    fn elements_components_repetitions() {
        let s = Segment::new(Cow::Borrowed(b"AK4*1:2*66*a^b"), d(b"~"), 1, 0);
        assert_eq!(s.element_count(), 3);
        assert_eq!(s.components(1), vec![&b"1"[..], &b"2"[..]]);
        assert_eq!(s.repetitions(3), vec![&b"a"[..], &b"b"[..]]);
        assert_eq!(s.element(9), None);
        let mut t = Tokenizer::new(b"ST*1", 0, 1, d(b"~"));
        assert!(matches!(t.next_token(), Some(Token::Unterminated(_))));
    }
}
