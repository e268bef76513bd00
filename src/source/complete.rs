//! The cheap envelope completeness check: does a file end the way a whole X12, ABI or CSV file ends?
//!
//! Reads only the head (to sniff the format and the X12 delimiters) and the tail of the file.
//! X12 is complete when its last segment is `IEA`; ABI when its last record is a `Z` batch
//! trailer; CSV when it ends with a newline. An empty file is incomplete (a writer may have
//! created it and not written yet); anything else is not ours to judge and counts as complete.

use crate::parse::{sniff, Format};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How much of the head and the tail is read.
const HEAD: usize = 512;
const TAIL: u64 = 4096;

/// The verdict on a file's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// The envelope does not end: the file may still be written, or was cut off.
    Incomplete,
}

/// Check a file on disk (reads at most 512 bytes of head and 4 KiB of tail).
pub fn check_file(path: &Path) -> std::io::Result<Completeness> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut head = Vec::with_capacity(HEAD);
    (&mut f).take(HEAD as u64).read_to_end(&mut head)?;
    let tail = if len <= HEAD as u64 {
        head.clone()
    } else {
        let start = len.saturating_sub(TAIL);
        f.seek(SeekFrom::Start(start))?;
        let mut t = Vec::with_capacity(TAIL as usize);
        f.take(TAIL).read_to_end(&mut t)?;
        t
    };
    Ok(check(&head, &tail))
}

/// Check from the first bytes of a file and its last bytes (the same slice for a small file).
pub fn check(head: &[u8], tail: &[u8]) -> Completeness {
    if head.is_empty() {
        return Completeness::Incomplete;
    }
    let ok = match sniff(head) {
        Format::X12 => x12_complete(head, tail),
        Format::Abi => abi_complete(tail),
        Format::Csv => tail.last() == Some(&b'\n'),
        Format::Unknown => true,
    };
    if ok {
        Completeness::Complete
    } else {
        Completeness::Incomplete
    }
}

fn x12_complete(head: &[u8], tail: &[u8]) -> bool {
    let h = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = h.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(h.len());
    let h = h.get(start..).unwrap_or_default();
    if !h.starts_with(b"ISA") {
        // UTF-16 or other encodings: not judged here.
        return true;
    }
    if h.get(3).is_none() {
        return false;
    }
    // The last "IEA<sep>" in the tail, followed only by the IEA elements, the terminator
    // (one or more bytes, possibly multi-byte UTF-8) and white space. The separator is read
    // from the tail itself: a file may hold several interchanges with different delimiters.
    let is_sep = |c: u8| !c.is_ascii_alphanumeric() && !c.is_ascii_whitespace();
    let Some(at) = tail.windows(4).rposition(|w| w.starts_with(b"IEA") && is_sep(w[3])) else { return false };
    let sep = tail[at + 3];
    let rest = tail.get(at + 4..).unwrap_or_default();
    if rest.len() > 48 {
        return false;
    }
    // IEA01 (count) sep IEA02 (9-digit control number), then the terminator.
    let mut parts = rest.splitn(2, |&c| c == sep);
    let count = parts.next().unwrap_or_default();
    let Some(after) = parts.next() else { return false };
    let digits = after.iter().take_while(|c| c.is_ascii_digit()).count();
    // The terminator must follow the control number.
    !count.is_empty() && count.iter().all(|c| c.is_ascii_digit() || *c == b' ') && digits >= 9 && after.len() > digits
}

fn abi_complete(tail: &[u8]) -> bool {
    let mut t = tail;
    while let Some((&last, rest)) = t.split_last() {
        if last == b'\n' || last == b'\r' || last == 0x1A {
            t = rest;
        } else {
            break;
        }
    }
    if t.is_empty() {
        return false;
    }
    let last_record = match t.iter().rposition(|&c| c == b'\n') {
        Some(i) => t.get(i + 1..).unwrap_or_default(),
        // No line breaks: fixed 80-byte records back to back.
        None if t.len() >= 80 => t.get(t.len() - 80..).unwrap_or_default(),
        None => t,
    };
    last_record.first() == Some(&b'Z')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isa(sep: u8, term: &str) -> String {
        let s = sep as char;
        format!(
            "ISA{s}00{s}          {s}00{s}          {s}ZZ{s}SENDER         {s}ZZ{s}RECEIVER       {s}260201{s}1200{s}^{s}00501{s}000000001{s}0{s}P{s}:{term}"
        )
    }

    fn whole(sep: u8, term: &str) -> String {
        let s = sep as char;
        format!(
            "{}GS{s}SH{s}X{s}Y{s}20260201{s}1200{s}1{s}X{s}005010{term}GE{s}0{s}1{term}IEA{s}1{s}000000001{term}",
            isa(sep, term)
        )
    }

    fn c(bytes: &[u8]) -> Completeness {
        check(bytes.get(..HEAD.min(bytes.len())).unwrap_or_default(), bytes)
    }

    #[test]
    fn x12_last_interchange_has_its_own_delimiters() {
        let file = b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *260201*1200*U*00401*000000001*0*P*>~IEA*0*000000001~\nISA|00|          |00|          |ZZ|A              |ZZ|B              |260201|1200|U|00401|000000002|0|P|>^IEA|0|000000002^\n";
        assert_eq!(check(&file[..], &file[..]), Completeness::Complete);
        let cut = &file[..file.len() - 4];
        assert_ne!(check(&file[..], cut), Completeness::Complete);
    }

    #[test]
    fn x12_whole_and_cut() {
        for (sep, term) in [(b'*', "~"), (b'*', "~\r\n"), (b'|', "\n"), (b'*', "\u{2026}"), (0x1D, "\u{1c}")] {
            let w = whole(sep, term);
            assert_eq!(c(w.as_bytes()), Completeness::Complete, "{w:?}");
            let w2 = format!("{w}\n\n");
            assert_eq!(c(w2.as_bytes()), Completeness::Complete, "{w2:?}");
            // Cut anywhere before the end of IEA02: incomplete.
            let iea = w.rfind("IEA").unwrap();
            for cut in [w.len() / 2, iea, iea + 3, iea + 6, iea + 10] {
                let part = &w.as_bytes()[..cut];
                assert_eq!(c(part), Completeness::Incomplete, "cut at {cut} of {w:?}");
            }
        }
    }

    #[test]
    fn abi_trailer() {
        let rec = |c: char| format!("{c}{}", " ".repeat(79));
        let lines = [rec('A'), rec('B'), rec('1'), rec('Y'), rec('Z')];
        let with_nl = lines.join("\n") + "\n";
        assert_eq!(c(with_nl.as_bytes()), Completeness::Complete);
        let crlf = lines.join("\r\n") + "\r\n";
        assert_eq!(c(crlf.as_bytes()), Completeness::Complete);
        let packed = lines.concat();
        assert_eq!(c(packed.as_bytes()), Completeness::Complete);
        let cut = lines[..4].join("\n") + "\n";
        assert_eq!(c(cut.as_bytes()), Completeness::Incomplete);
        let cut_mid = &with_nl[..with_nl.len() - 100];
        assert_eq!(c(cut_mid.as_bytes()), Completeness::Incomplete);
    }

    #[test]
    fn csv_and_others() {
        assert_eq!(c(b"entry_number,hts\nEEE-1,1\n"), Completeness::Complete);
        assert_eq!(c(b"entry_number,hts\nEEE-1,1"), Completeness::Incomplete);
        assert_eq!(c(b""), Completeness::Incomplete);
        assert_eq!(c(b"hello"), Completeness::Complete);
        // An ACE ES-003 export (samples/ace/es003-later.csv): its long header line once made it
        // an 80-column ABI extract waiting for a Z record that never comes.
        let es003 = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/samples/ace/es003-later.csv")).unwrap();
        assert_eq!(c(&es003), Completeness::Complete);
        assert_eq!(c(&es003[..es003.len() - 1]), Completeness::Incomplete);
    }

    #[test]
    fn reads_head_and_tail_of_a_large_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.x12");
        let w = whole(b'*', "~");
        let (head, rest) = w.split_at(w.find("GE*").unwrap());
        let body = "REF*ZZ*PADDING~".repeat(2000);
        std::fs::write(&p, format!("{head}{body}{rest}")).unwrap();
        assert_eq!(check_file(&p).unwrap(), Completeness::Complete);
        std::fs::write(&p, format!("{head}{body}")).unwrap();
        assert_eq!(check_file(&p).unwrap(), Completeness::Incomplete);
    }
}
