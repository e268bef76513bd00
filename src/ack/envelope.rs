//! The reply interchange: ISA (sender and receiver swapped, partner's delimiters and version
//! unless configured), an optional TA1, one FA group per acknowledged group holding its 997/999,
//! GE and IEA with the counts and our control numbers.

use super::build::{is_old_version, AckPlan, GroupAck, SetAck, Ta1};
use super::control::Reserved;
use crate::config::AckKind;
use crate::parse::x12::delimiters::check_delimiters;
use crate::parse::x12::{Delimiters, InterchangeHeader};
use chrono::NaiveDateTime;

/// The 999's implementation convention reference (ST03, GS08).
pub const IMPL_999: &str = "005010X231A1";

/// How to write the reply.
#[derive(Debug, Clone)]
pub struct AckOptions {
    /// 997 or 999 (the inbox's `ack-kind`).
    pub kind: AckKind,
    /// Delimiters to use instead of the partner's.
    pub delimiters: Option<Delimiters>,
    /// ISA12 to use instead of the partner's (`00401`, `00501`).
    pub version: Option<String>,
    /// A line break after each segment terminator (not when the terminator is CR or LF).
    pub newline: bool,
}

impl AckOptions {
    pub fn new(kind: AckKind) -> AckOptions {
        AckOptions { kind, delimiters: None, version: None, newline: true }
    }
}

/// Writes segments with one interchange's delimiters; copied values are cleaned of delimiters.
struct Writer {
    d: Delimiters,
    newline: bool,
    out: Vec<u8>,
    segments: usize,
}

impl Writer {
    fn clean(&self, v: &str) -> String {
        let t = self.d.terminator.as_bytes();
        v.chars()
            .filter(|c| {
                let b = *c as u32;
                !(c.is_control()
                    || b == self.d.element as u32
                    || b == self.d.component as u32
                    || self.d.repetition.is_some_and(|r| r as u32 == b)
                    || (t.len() == 1 && t.first().is_some_and(|x| *x as u32 == b))
                    || (t.len() > 1 && c.to_string().as_bytes() == t))
            })
            .collect()
    }

    /// Write one segment; trailing empty elements are dropped. Values must already be clean.
    fn seg(&mut self, id: &str, elements: &[String]) {
        let last = elements.iter().rposition(|e| !e.is_empty()).map(|i| i + 1).unwrap_or(0);
        self.out.extend_from_slice(id.as_bytes());
        for e in elements.iter().take(last) {
            self.out.push(self.d.element);
            self.out.extend_from_slice(e.as_bytes());
        }
        self.out.extend_from_slice(self.d.terminator.as_bytes());
        let t = self.d.terminator.as_bytes();
        if self.newline && !t.contains(&b'\n') && !t.contains(&b'\r') {
            self.out.push(b'\n');
        }
        self.segments += 1;
    }
}

fn fixed(v: &str, width: usize) -> String {
    let mut s: String = v.chars().take(width).collect();
    while s.chars().count() < width {
        s.push(' ');
    }
    s
}

/// The GS08 of the FA group that acknowledges `g`.
fn reply_gs08(g: &GroupAck, h: &InterchangeHeader, kind: AckKind) -> String {
    match kind {
        AckKind::Ack999 => IMPL_999.to_string(),
        AckKind::Ack997 if !g.version.trim().is_empty() => g.version.trim().to_string(),
        AckKind::Ack997 => format!("0{}0", h.version.trim().get(..5).unwrap_or("00401")),
    }
}

/// Render the reply interchange for `h` with the content of `plan`. `numbers` are the reserved
/// ISA13 and the first GS06 (one per group, increasing); `now` is ISA09/10 and GS04/05.
pub fn render(
    h: &InterchangeHeader,
    plan: &AckPlan,
    opts: &AckOptions,
    numbers: &Reserved,
    now: NaiveDateTime,
) -> Vec<u8> {
    let version = opts.version.clone().filter(|v| is_isa12(v)).unwrap_or_else(|| {
        if is_isa12(&h.version) {
            h.version.clone()
        } else {
            "00401".to_string()
        }
    });
    // Unusable partner delimiters (TA105 024/026/027): answer with the common ones.
    let d = opts.delimiters.unwrap_or(if check_delimiters(&h.delimiters).is_some() {
        Delimiters { repetition: (version.as_str() >= "00402").then_some(b'^'), ..Delimiters::default() }
    } else {
        h.delimiters
    });
    let mut w = Writer { d, newline: opts.newline, out: Vec::new(), segments: 0 };
    let isa11 = match d.repetition {
        Some(r) => (r as char).to_string(),
        None => "U".to_string(),
    };
    let usage = match h.usage.trim() {
        u @ ("P" | "T" | "I") => u.to_string(),
        _ => "P".to_string(),
    };
    let isa13 = format!("{:09}", numbers.interchange);
    let isa = vec![
        "00".to_string(),
        fixed("", 10),
        "00".to_string(),
        fixed("", 10),
        fixed(&w.clean(&h.receiver_qualifier), 2),
        fixed(&w.clean(&h.receiver_id), 15),
        fixed(&w.clean(&h.sender_qualifier), 2),
        fixed(&w.clean(&h.sender_id), 15),
        now.format("%y%m%d").to_string(),
        now.format("%H%M").to_string(),
        isa11,
        fixed(&w.clean(&version), 5),
        isa13.clone(),
        "0".to_string(),
        usage,
        (d.component as char).to_string(),
    ];
    // The ISA keeps its fixed width even for blank trailing fields: write it by hand.
    w.out.extend_from_slice(b"ISA");
    for f in &isa {
        w.out.push(d.element);
        w.out.extend_from_slice(f.as_bytes());
    }
    w.out.extend_from_slice(d.terminator.as_bytes());
    if w.newline && !d.terminator.as_bytes().contains(&b'\n') && !d.terminator.as_bytes().contains(&b'\r') {
        w.out.push(b'\n');
    }
    if let Some(t) = &plan.ta1 {
        ta1(&mut w, t, now);
    }
    for (i, g) in plan.groups.iter().enumerate() {
        let gs06 = numbers.first_group.saturating_add(i as u64).to_string();
        group(&mut w, g, h, opts.kind, &gs06, now);
    }
    w.seg("IEA", &[plan.groups.len().to_string(), isa13]);
    w.out
}

fn is_isa12(v: &str) -> bool {
    v.len() == 5 && v.bytes().all(|b| b.is_ascii_digit())
}

fn two(v: &str, at: usize) -> Option<u32> {
    v.get(at..at + 2).and_then(|s| s.parse().ok())
}

/// TA101..TA103 echo the partner's ISA13/09/10. Values that could not be valid there (the
/// partner's own field errors) are normalised: ISA13 to its last nine digits, zero-padded;
/// a bad ISA09/ISA10 is replaced by the date/time we received it (docs/acks.md).
fn ta1(w: &mut Writer, t: &Ta1, now: NaiveDateTime) {
    let digits: String = t.control_number.chars().filter(char::is_ascii_digit).collect();
    let tail = digits.get(digits.len().saturating_sub(9)..).unwrap_or("");
    let control = format!("{tail:0>9}");
    let date_ok = t.date.len() == 6
        && t.date.bytes().all(|b| b.is_ascii_digit())
        && chrono::NaiveDate::parse_from_str(&format!("20{}", t.date), "%Y%m%d").is_ok();
    let time_ok = t.time.len() == 4
        && t.time.bytes().all(|b| b.is_ascii_digit())
        && two(&t.time, 0).is_some_and(|h| h < 24)
        && two(&t.time, 2).is_some_and(|m| m < 60);
    let date = if date_ok { t.date.clone() } else { now.format("%y%m%d").to_string() };
    let time = if time_ok { t.time.clone() } else { now.format("%H%M").to_string() };
    w.seg("TA1", &[control, date, time, t.status.clone(), t.note_code.clone()]);
}

fn group(w: &mut Writer, g: &GroupAck, h: &InterchangeHeader, kind: AckKind, gs06: &str, now: NaiveDateTime) {
    let gs08 = reply_gs08(g, h, kind);
    let old = kind == AckKind::Ack997 && is_old_version(&gs08);
    let gs = [
        "FA".to_string(),
        w.clean(&g.application_receiver),
        w.clean(&g.application_sender),
        now.format("%Y%m%d").to_string(),
        now.format("%H%M").to_string(),
        gs06.to_string(),
        "X".to_string(),
        w.clean(&gs08),
    ];
    w.seg("GS", &gs);
    let start = w.segments;
    let st02 = "0001".to_string();
    match kind {
        AckKind::Ack997 => w.seg("ST", &["997".into(), st02.clone()]),
        AckKind::Ack999 => w.seg("ST", &["999".into(), st02.clone(), IMPL_999.into()]),
    }
    let mut ak1 = vec![w.clean(&g.functional_id), w.clean(&g.control_number)];
    if !old {
        ak1.push(w.clean(&g.version));
    }
    w.seg("AK1", &ak1);
    for s in &g.sets {
        set(w, s, kind, old);
    }
    let mut ak9 = vec![g.status.clone(), g.included.to_string(), g.received.to_string(), g.accepted.to_string()];
    ak9.extend(g.codes.iter().cloned());
    w.seg("AK9", &ak9);
    let count = w.segments - start + 1;
    w.seg("SE", &[count.to_string(), st02]);
    w.seg("GE", &["1".to_string(), gs06.to_string()]);
}

fn set(w: &mut Writer, s: &SetAck, kind: AckKind, old: bool) {
    // AK201 is 3 characters, AK202 4 to 9: a set whose ST01/ST02 cannot be echoed there (the
    // partner's own ST element error) gets no AK2 loop; AK9 still counts it as not accepted.
    let (st01, st02) = (w.clean(&s.set), w.clean(&s.control_number));
    if st01.chars().count() != 3 || !(4..=9).contains(&st02.chars().count()) {
        return;
    }
    let mut ak2 = vec![st01, st02];
    if kind == AckKind::Ack999 {
        if let Some(i) = &s.implementation {
            ak2.push(w.clean(i));
        }
    }
    w.seg("AK2", &ak2);
    let (s3, s4, s5) = match kind {
        AckKind::Ack997 => ("AK3", "AK4", "AK5"),
        AckKind::Ack999 => ("IK3", "IK4", "IK5"),
    };
    for e in &s.segment_errors {
        // AK301 must be 2-3 letters/digits: an id that cannot be written (empty, too long,
        // other characters) leaves its AK3 out; AK5 still says R with code 5.
        let id = w.clean(&e.segment_id);
        if !(2..=3).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        let loop_id = e.loop_id.as_deref().map(|l| w.clean(l)).filter(|l| l.chars().count() <= 4).unwrap_or_default();
        w.seg(s3, &[id, e.position.to_string(), loop_id, e.code.to_string()]);
        for el in e.elements.iter().take(99) {
            let c = (w.d.component as char).to_string();
            let mut pos = el.position.to_string();
            match (el.component, el.repetition) {
                (Some(cp), Some(r)) if !old => pos = format!("{pos}{c}{cp}{c}{r}"),
                (None, Some(r)) if !old => pos = format!("{pos}{c}{c}{r}"),
                (Some(cp), _) => pos = format!("{pos}{c}{cp}"),
                _ => {}
            }
            let reference: String = el
                .reference
                .as_deref()
                .map(|r| w.clean(r))
                .filter(|r| (1..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_digit()))
                .unwrap_or_default();
            let bad: String = el.bad_data.as_deref().map(|b| w.clean(b)).unwrap_or_default().chars().take(99).collect();
            w.seg(s4, &[pos, reference, el.code.to_string(), bad.trim_end().to_string()]);
        }
    }
    let mut ak5 = vec![s.status.clone()];
    ak5.extend(s.codes.iter().cloned());
    w.seg(s5, &ak5);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ack::build::{collect, plan};
    use crate::grammar::Grammars;
    use crate::parse::x12::Terminator;

    const INPUT: &[u8] =
        b"ISA*00*          *00*          *ZZ*BROKER         *ZZ*IMPORTER       *260203*1012*^*00501*000000042*1*P*:~\
GS*AU*BROKER*IMPORTER*20260203*1012*7*X*005010~ST*350*0001~M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\
P4*2704*20260201*100*2704~X4*MAEU123456789*100*01*EEE12345673*20260203*1012*1H**MAEU~SE*5*0001~GE*1*7~IEA*1*000000042~";

    fn now() -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 2).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap()
    }

    #[test]
    fn ta1_requested_and_overrides_applied() {
        let g = Grammars::embedded().unwrap();
        let ics = collect(INPUT, &g);
        let p = plan(&ics[0], AckKind::Ack997, false);
        assert_eq!(p.ta1.as_ref().map(|t| (t.status.as_str(), t.note_code.as_str())), Some(("A", "000")));
        let mut opts = AckOptions::new(AckKind::Ack997);
        opts.delimiters =
            Some(Delimiters { element: b'|', component: b'>', repetition: None, terminator: Terminator::new(b"\n") });
        opts.version = Some("00401".into());
        let out = render(&ics[0].header, &p, &opts, &Reserved { interchange: 7, first_group: 9 }, now());
        let text = String::from_utf8(out).unwrap();
        let want = "ISA|00|          |00|          |ZZ|IMPORTER       |ZZ|BROKER         |260302|0930|U|00401|000000007|0|P|>\n\
TA1|000000042|260203|1012|A|000\n\
GS|FA|IMPORTER|BROKER|20260302|0930|9|X|005010\n\
ST|997|0001\nAK1|AU|7|005010\nAK2|350|0001\nAK5|A\nAK9|A|1|1|1\nSE|6|0001\nGE|1|9\nIEA|1|000000007\n";
        assert_eq!(text, want);
    }

    #[test]
    fn copied_values_lose_reply_delimiters() {
        let w = Writer { d: Delimiters::default(), newline: false, out: Vec::new(), segments: 0 };
        assert_eq!(w.clean("A*B:C^D~E\u{1}F"), "ABCDEF");
        let mut t = Writer { d: Delimiters::default(), newline: true, out: Vec::new(), segments: 0 };
        t.d.terminator = Terminator::new("…".as_bytes());
        assert_eq!(t.clean("x…y"), "xy");
        t.seg("AK5", &["A".into(), String::new(), String::new()]);
        assert_eq!(String::from_utf8(t.out).unwrap(), "AK5*A…\n");
    }

    #[test]
    fn ta1_echo_is_normalised_when_the_partner_field_is_invalid() {
        let mut w = Writer { d: Delimiters::default(), newline: false, out: Vec::new(), segments: 0 };
        let t = Ta1 {
            control_number: "12345".into(),
            date: "261341".into(),
            time: "2599".into(),
            status: "R".into(),
            note_code: "014".into(),
        };
        ta1(&mut w, &t, now());
        assert_eq!(String::from_utf8(w.out).unwrap(), "TA1*000012345*260302*0930*R*014~");
    }
}
