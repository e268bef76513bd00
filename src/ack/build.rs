//! What an acknowledgment says: the reader's interchange/group/transaction results collected per
//! interchange and turned into a TA1 and one 997/999 per functional group (never for FA groups).

use crate::config::AckKind;
use crate::grammar::Grammars;
use crate::parse::error::Diagnostic;
use crate::parse::x12::{
    read, AckStatus, GroupHeader, GroupResult, InterchangeHeader, InterchangeResult, SegmentError, TransactionResult,
    X12Event,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// One transaction set as received: its identity and its result.
#[derive(Debug, Clone)]
pub struct ReceivedTransaction {
    /// ST01
    pub set: String,
    /// ST02
    pub control_number: String,
    /// ST03 when present.
    pub implementation: Option<String>,
    pub result: TransactionResult,
}

/// One functional group as received.
#[derive(Debug, Clone)]
pub struct ReceivedGroup {
    pub header: GroupHeader,
    pub transactions: Vec<ReceivedTransaction>,
    /// `None` only when the reader stopped before reporting the group's end.
    pub result: Option<GroupResult>,
}

/// One interchange as received.
#[derive(Debug, Clone)]
pub struct ReceivedInterchange {
    pub header: InterchangeHeader,
    pub groups: Vec<ReceivedGroup>,
    pub result: Option<InterchangeResult>,
    /// ISA13 already seen from this sender earlier in the same file (TA105 025).
    pub duplicate: bool,
    /// TA105 codes of envelope errors the reader reports only as diagnostics (a segment outside
    /// any set, GE without GS: 024) inside this interchange.
    pub extra_codes: Vec<String>,
}

impl ReceivedInterchange {
    /// The partner's identity: `ISA05:ISA06` (trimmed), the key of its control numbers.
    pub fn partner(&self) -> String {
        format!("{}:{}", self.header.sender_qualifier.trim(), self.header.sender_id.trim())
    }
}

/// Read X12 bytes and collect, per interchange, what an acknowledgment needs.
/// Interchanges whose ISA cannot be read at all are absent: nobody to answer.
pub fn collect(bytes: &[u8], grammars: &Grammars) -> Vec<ReceivedInterchange> {
    let mut c = Collector::default();
    let outcome = read(bytes, grammars, &mut |ev| c.on(&ev));
    c.finish(&outcome.diagnostics)
}

/// [`collect`] fed the reader's events as they come (a streamed read shows them to it), then
/// the read's diagnostics.
#[derive(Debug, Default)]
pub struct Collector {
    out: Vec<ReceivedInterchange>,
    seen: HashSet<(String, String, String)>,
}

impl Collector {
    /// One reader event.
    pub fn on(&mut self, ev: &X12Event<'_>) {
        let out = &mut self.out;
        match ev {
            X12Event::InterchangeStart(h) => {
                let key = (h.sender_qualifier.clone(), h.sender_id.clone(), h.control_number.clone());
                let duplicate = !self.seen.insert(key);
                out.push(ReceivedInterchange {
                    header: (*h).clone(),
                    groups: Vec::new(),
                    result: None,
                    duplicate,
                    extra_codes: Vec::new(),
                });
            }
            X12Event::GroupStart(g) => {
                if let Some(i) = out.last_mut() {
                    i.groups.push(ReceivedGroup { header: (*g).clone(), transactions: Vec::new(), result: None });
                }
            }
            X12Event::Transaction(t) => {
                if let Some(g) = out.last_mut().and_then(|i| i.groups.last_mut()) {
                    g.transactions.push(ReceivedTransaction {
                        set: t.set.clone(),
                        control_number: t.control_number.clone(),
                        implementation: t.implementation.clone(),
                        result: t.result.clone(),
                    });
                }
            }
            X12Event::GroupEnd(_, r) => {
                if let Some(g) = out.last_mut().and_then(|i| i.groups.last_mut()) {
                    g.result = Some((*r).clone());
                }
            }
            X12Event::InterchangeEnd(_, r) => {
                if let Some(i) = out.last_mut() {
                    i.result = Some((*r).clone());
                }
            }
            X12Event::InterchangeSegment(_) => {}
        }
    }

    /// The interchanges, with the TA105 codes of envelope errors the reader reports only as
    /// diagnostics (`diagnostics`: those of the read, in file order).
    pub fn finish(self, diagnostics: &[Diagnostic]) -> Vec<ReceivedInterchange> {
        let mut out = self.out;
        for d in diagnostics.iter().filter(|d| d.is_error() && (d.code == "X12E045" || d.code == "X12E037")) {
            let Some(code) = d.ack.as_deref().and_then(|a| a.strip_prefix("TA105:")) else { continue };
            if let Some(ic) = out.iter_mut().rev().find(|ic| ic.header.byte <= d.byte) {
                if !ic.extra_codes.iter().any(|c| c == code) {
                    ic.extra_codes.push(code.to_string());
                }
            }
        }
        out
    }
}

/// The TA1 content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ta1 {
    /// TA101: the acknowledged ISA13.
    pub control_number: String,
    /// TA102: its ISA09.
    pub date: String,
    /// TA103: its ISA10.
    pub time: String,
    /// TA104
    pub status: String,
    /// TA105
    pub note_code: String,
}

/// The AK2 loop of one transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAck {
    /// AK201
    pub set: String,
    /// AK202
    pub control_number: String,
    /// AK203 (999 only)
    pub implementation: Option<String>,
    /// AK501 / IK501
    pub status: String,
    /// AK502..AK506
    pub codes: Vec<String>,
    /// AK3/AK4 (IK3/IK4) content.
    #[serde(skip)]
    pub segment_errors: Vec<SegmentError>,
}

/// One 997/999: the acknowledgment of one functional group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAck {
    /// AK101: GS01 acknowledged.
    pub functional_id: String,
    /// AK102: GS06 acknowledged.
    pub control_number: String,
    /// GS08 acknowledged (AK103 in a 999).
    pub version: String,
    /// GS02 / GS03 of the acknowledged group (swapped in the reply).
    pub application_sender: String,
    pub application_receiver: String,
    /// AK901
    pub status: String,
    /// AK902, AK903, AK904
    pub included: usize,
    pub received: usize,
    pub accepted: usize,
    /// AK905..AK909
    pub codes: Vec<String>,
    pub sets: Vec<SetAck>,
}

/// Everything one reply interchange says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AckPlan {
    pub ta1: Option<Ta1>,
    pub groups: Vec<GroupAck>,
}

impl AckPlan {
    /// Nothing to send (no TA1 asked for, only FA groups).
    pub fn is_empty(&self) -> bool {
        self.ta1.is_none() && self.groups.is_empty()
    }
}

/// Whether a version is older than 005010: its 997 is written with the 004010 element lists
/// (no AK103, AK403 up to 10, AK905 without 19), the dictionary our reader checks it with.
pub fn is_old_version(version: &str) -> bool {
    let digits: String = version.chars().take_while(|c| c.is_ascii_digit()).collect();
    match digits.len() {
        n if n >= 6 => digits.get(..6).is_none_or(|d| d < "005010"),
        5 => digits.as_str() < "00501",
        // Not a version the reader recognises: it checks the 997 with the 004010 dictionary.
        _ => true,
    }
}

/// AK403/IK403 code for the acknowledgment's version: 12 (too many repetitions) and 13 (too many
/// components) are not in the 4010 list; an older 997 says 3 (too many data elements) instead.
fn element_code(code: u8, old: bool) -> u8 {
    if old && (code == 12 || code == 13) {
        3
    } else {
        code
    }
}

/// AK905 code for the acknowledgment's version: 19 (group control number not unique) is not in
/// the 4010 list (19 means something else there); an older 997 says 6 (control number violates syntax).
fn group_code(code: u8, old: bool) -> u8 {
    if old && code == 19 {
        6
    } else {
        code
    }
}

/// Decide what to acknowledge for one interchange.
///
/// * TA1 when ISA14 = 1, or the envelope has an error (TA104 R with the first TA105 code), or
///   the ISA13 repeats one already seen from this sender (TA104 E, TA105 025) — `seen_before` is
///   what the caller knows from earlier files.
/// * When the interchange is rejected (TA104 R) only the TA1 is sent: its groups were not taken.
/// * Otherwise one 997/999 per functional group, except FA groups (never acknowledge an ack).
pub fn plan(ic: &ReceivedInterchange, kind: AckKind, seen_before: bool) -> AckPlan {
    let h = &ic.header;
    let (mut status, mut note) = match &ic.result {
        Some(r) => (r.status, r.note_code.clone()),
        None => (AckStatus::Rejected, "023".to_string()),
    };
    if status == AckStatus::Accepted {
        if let Some(c) = ic.extra_codes.first() {
            status = AckStatus::AcceptedWithErrors;
            note = c.clone();
        }
    }
    if status == AckStatus::Accepted && (ic.duplicate || seen_before) {
        status = AckStatus::AcceptedWithErrors;
        note = "025".into();
    }
    let ta1 = (h.ack_requested.trim() == "1" || status != AckStatus::Accepted).then(|| Ta1 {
        control_number: h.control_number.clone(),
        date: h.date.clone(),
        time: h.time.clone(),
        status: status.code().to_string(),
        note_code: note.clone(),
    });
    if status == AckStatus::Rejected {
        return AckPlan { ta1, groups: Vec::new() };
    }
    let mut groups = Vec::new();
    for g in &ic.groups {
        if g.header.functional_id.trim() == "FA" {
            continue;
        }
        let old = kind == AckKind::Ack997 && is_old_version(&g.header.version);
        let sets: Vec<SetAck> = g
            .transactions
            .iter()
            .map(|t| SetAck {
                set: t.set.clone(),
                control_number: t.control_number.clone(),
                implementation: t.implementation.clone(),
                status: t.result.status.code().to_string(),
                codes: t.result.codes.iter().take(5).map(|c| c.to_string()).collect(),
                segment_errors: t
                    .result
                    .segment_errors
                    .iter()
                    .map(|s| {
                        let mut s = s.clone();
                        for e in &mut s.elements {
                            e.code = element_code(e.code, old);
                        }
                        s
                    })
                    .collect(),
            })
            .collect();
        let received = g.transactions.len();
        let accepted = g.transactions.iter().filter(|t| t.result.status != AckStatus::Rejected).count();
        let (gstatus, included, codes) = match &g.result {
            Some(r) => (
                r.status,
                r.declared.unwrap_or(r.received),
                r.codes.iter().take(5).map(|c| group_code(*c, old).to_string()).collect(),
            ),
            None => (AckStatus::Rejected, received, vec!["3".to_string()]),
        };
        // The reader says A/P/R; a group whose sets were all accepted but some with errors is E.
        let gstatus = if gstatus == AckStatus::Accepted
            && g.transactions.iter().any(|t| t.result.status == AckStatus::AcceptedWithErrors)
        {
            AckStatus::AcceptedWithErrors
        } else {
            gstatus
        };
        groups.push(GroupAck {
            functional_id: g.header.functional_id.clone(),
            control_number: g.header.control_number.clone(),
            version: g.header.version.clone(),
            application_sender: g.header.application_sender.clone(),
            application_receiver: g.header.application_receiver.clone(),
            status: gstatus.code().to_string(),
            included,
            received,
            accepted,
            codes,
            sets,
        });
    }
    AckPlan { ta1, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_versions() {
        assert!(is_old_version("004010"));
        assert!(is_old_version("004010VICS"));
        assert!(is_old_version("00401"));
        assert!(!is_old_version("005010X231A1"));
        assert!(!is_old_version("00501"));
        assert!(is_old_version(""));
        assert!(is_old_version("A04010"));
        assert_eq!(element_code(12, true), 3);
        assert_eq!(element_code(12, false), 12);
        assert_eq!(group_code(19, true), 6);
        assert_eq!(group_code(19, false), 19);
    }
}
