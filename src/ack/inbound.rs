//! Partners' acknowledgments (997, 999, TA1 in any X12 file we receive): parsed into one
//! [`InboundAck`] per referenced interchange / group / transaction set, recorded in the store's
//! `acks` table, and every rejection (R, M, W, X; P for a group) reported as an [`AckEvent`],
//! the alert-worthy fact the alert rules pick up.
//!
//! Keys: `infile|<sha256>` → `Vec<InboundAck>` (the file's audit trail);
//! `in|<partner>|isa|<ISA13>`, `in|<partner>|gs|<GS06>`, `in|<partner>|st|<GS06>|<ST02>` → the
//! latest [`InboundAck`] for that control number; `event|<id, 20 digits>` → [`AckEvent`].

use crate::grammar::Grammars;
use crate::parse::x12::{read, Segment, X12Event};
use crate::store::{Store, StoreError};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// What a partner's acknowledgment says about one thing we (or CBP through them) sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundAck {
    /// `TA1`, `997` or `999`.
    pub kind: String,
    /// `ISA05:ISA06` of the partner that sent the ack.
    pub partner: String,
    /// `interchange`, `group` or `transaction`.
    pub level: String,
    /// TA101 (interchange), AK102 (group, and the group of a transaction).
    pub control_number: String,
    /// AK101 for groups and transactions.
    pub functional_id: Option<String>,
    /// AK201 / AK202 for transactions.
    pub set: Option<String>,
    pub set_control_number: Option<String>,
    /// TA104 / AK901 / AK501 / IK501.
    pub status: String,
    /// TA105 / AK905.. / AK502.. codes.
    pub codes: Vec<String>,
    /// AK3/AK4 (IK3/IK4) errors as text: `N1 at 5 (loop N1): 3; element 2: 7`.
    pub errors: Vec<String>,
    /// For group acks: AK902, AK903, AK904.
    pub counts: Option<(String, String, String)>,
    /// The file it came in and where.
    pub file: String,
    pub sha256: String,
    pub line: usize,
    pub received: NaiveDateTime,
}

impl InboundAck {
    /// A rejection: R, M, W or X anywhere; P (partially accepted) for a group.
    pub fn is_rejection(&self) -> bool {
        matches!(self.status.as_str(), "R" | "M" | "W" | "X" | "P")
    }
}

/// The alert-worthy fact: a partner rejected (part of) something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum AckEvent {
    /// A TA1/997/999 from `ack.partner` says R (or P, M, W, X) for `ack.control_number`.
    AckRejected { ack: InboundAck },
}

/// Parse the acknowledgments in `bytes` (nothing when there are none).
pub fn parse_inbound(
    bytes: &[u8],
    grammars: &Grammars,
    file: &str,
    sha256: &str,
    received: NaiveDateTime,
) -> Vec<InboundAck> {
    let mut c = InboundCollector::new(file, sha256, received);
    read(bytes, grammars, &mut |ev| c.on(&ev));
    c.acks
}

/// [`parse_inbound`] fed the reader's events as they come (a streamed read shows them to it).
#[derive(Debug)]
pub struct InboundCollector {
    partner: String,
    file: String,
    sha256: String,
    received: NaiveDateTime,
    /// The acknowledgments read so far.
    pub acks: Vec<InboundAck>,
}

impl InboundCollector {
    pub fn new(file: &str, sha256: &str, received: NaiveDateTime) -> InboundCollector {
        InboundCollector {
            partner: String::new(),
            file: file.to_string(),
            sha256: sha256.to_string(),
            received,
            acks: Vec::new(),
        }
    }

    /// One reader event.
    pub fn on(&mut self, ev: &X12Event<'_>) {
        let (file, sha256, received) = (self.file.as_str(), self.sha256.as_str(), self.received);
        let base = |kind: &str, partner: &str, level: &str, line: usize| InboundAck {
            kind: kind.to_string(),
            partner: partner.to_string(),
            level: level.to_string(),
            control_number: String::new(),
            functional_id: None,
            set: None,
            set_control_number: None,
            status: String::new(),
            codes: Vec::new(),
            errors: Vec::new(),
            counts: None,
            file: file.to_string(),
            sha256: sha256.to_string(),
            line,
            received,
        };
        match ev {
            X12Event::InterchangeStart(h) => {
                self.partner = format!("{}:{}", h.sender_qualifier.trim(), h.sender_id.trim());
            }
            X12Event::InterchangeSegment(s) if s.id() == b"TA1" => {
                let mut a = base("TA1", &self.partner, "interchange", s.line);
                a.control_number = s.element_str(1).trim().to_string();
                a.status = s.element_str(4).trim().to_string();
                let note = s.element_str(5).trim().to_string();
                if !note.is_empty() {
                    a.codes.push(note);
                }
                self.acks.push(a);
            }
            X12Event::Transaction(t) if t.set == "997" || t.set == "999" => {
                read_ack_set(&t.set, t.segments, &self.partner, &base, &mut self.acks);
            }
            _ => {}
        }
    }
}

fn elements_from(s: &Segment<'_>, first: usize) -> Vec<String> {
    (first..=s.element_count()).map(|i| s.element_str(i).trim().to_string()).filter(|v| !v.is_empty()).collect()
}

fn read_ack_set(
    kind: &str,
    segments: &[Segment<'_>],
    partner: &str,
    base: &dyn Fn(&str, &str, &str, usize) -> InboundAck,
    out: &mut Vec<InboundAck>,
) {
    let mut group: Option<(String, String)> = None;
    let mut current: Option<InboundAck> = None;
    for s in segments {
        match s.id() {
            b"AK1" => group = Some((s.element_str(1).trim().to_string(), s.element_str(2).trim().to_string())),
            b"AK2" => {
                if let Some(c) = current.take() {
                    out.push(c);
                }
                let mut a = base(kind, partner, "transaction", s.line);
                if let Some((f, c)) = &group {
                    a.functional_id = Some(f.clone());
                    a.control_number = c.clone();
                }
                a.set = Some(s.element_str(1).trim().to_string());
                a.set_control_number = Some(s.element_str(2).trim().to_string());
                current = Some(a);
            }
            b"AK3" | b"IK3" => {
                if let Some(c) = current.as_mut() {
                    let lp = s.element_str(3).trim().to_string();
                    let lp = if lp.is_empty() { String::new() } else { format!(" (loop {lp})") };
                    c.errors.push(format!(
                        "{} at {}{lp}: {}",
                        s.element_str(1).trim(),
                        s.element_str(2).trim(),
                        s.element_str(4).trim()
                    ));
                }
            }
            b"AK4" | b"IK4" => {
                if let Some(c) = current.as_mut() {
                    let pos =
                        s.components(1).first().map(|p| String::from_utf8_lossy(p).to_string()).unwrap_or_default();
                    c.errors.push(format!("element {}: {}", pos.trim(), s.element_str(3).trim()));
                }
            }
            b"AK5" | b"IK5" => {
                if let Some(c) = current.as_mut() {
                    c.status = s.element_str(1).trim().to_string();
                    c.codes = elements_from(s, 2);
                }
                if let Some(c) = current.take() {
                    out.push(c);
                }
            }
            b"AK9" => {
                let mut a = base(kind, partner, "group", s.line);
                if let Some((f, c)) = &group {
                    a.functional_id = Some(f.clone());
                    a.control_number = c.clone();
                }
                a.status = s.element_str(1).trim().to_string();
                a.counts = Some((
                    s.element_str(2).trim().to_string(),
                    s.element_str(3).trim().to_string(),
                    s.element_str(4).trim().to_string(),
                ));
                a.codes = elements_from(s, 5);
                out.push(a);
            }
            _ => {}
        }
    }
    if let Some(c) = current.take() {
        out.push(c);
    }
}

/// Parse and record the partner acknowledgments in one received file; returns the rejection
/// events (also stored under `event|…` and logged as `AckRejected`). A file already recorded
/// is not recorded twice.
pub fn record_inbound(
    store: &Store,
    grammars: &Grammars,
    bytes: &[u8],
    file: &str,
    sha256: &str,
    received: NaiveDateTime,
) -> Result<Vec<AckEvent>, StoreError> {
    if crate::store::acks::inbound_recorded(store, sha256)? {
        return Ok(Vec::new());
    }
    record_parsed(store, parse_inbound(bytes, grammars, file, sha256, received), file, sha256)
}

/// [`record_inbound`] of acknowledgments already read (by an [`InboundCollector`] during the
/// file's streamed read).
pub fn record_parsed(
    store: &Store,
    acks: Vec<InboundAck>,
    file: &str,
    sha256: &str,
) -> Result<Vec<AckEvent>, StoreError> {
    if acks.is_empty() || crate::store::acks::inbound_recorded(store, sha256)? {
        return Ok(Vec::new());
    }
    let events: Vec<AckEvent> =
        acks.iter().filter(|a| a.is_rejection()).map(|a| AckEvent::AckRejected { ack: a.clone() }).collect();
    store.transaction(|tx| crate::store::acks::put_inbound_tx(tx, sha256, &acks, &events))?;
    store.flush()?;
    for AckEvent::AckRejected { ack } in &events {
        tracing::warn!(target: "entrywatch", event = "AckRejected", kind = %ack.kind, partner = %ack.partner,
            level = %ack.level, control_number = %ack.control_number, set_control_number = ?ack.set_control_number,
            status = %ack.status, codes = ?ack.codes, file = %file);
    }
    Ok(events)
}

/// The latest status a partner gave for one of our control numbers (`isa|<ISA13>`,
/// `gs|<GS06>` or `st|<GS06>|<ST02>`).
pub fn latest(store: &Store, partner: &str, reference: &str) -> Result<Option<InboundAck>, StoreError> {
    crate::store::acks::latest_inbound(store, partner, reference)
}

/// Every recorded rejection event, oldest first.
pub fn events(store: &Store) -> Result<Vec<AckEvent>, StoreError> {
    crate::store::acks::events(store).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ta1_rejection_is_an_event() {
        let g = Grammars::embedded().unwrap();
        let bytes = b"ISA*00*          *00*          *ZZ*CBP            *ZZ*IMPORTER       *260203*1012*^*00501*000000501*0*P*:~\
TA1*000000007*260202*1200*R*001~IEA*0*000000501~";
        let at = chrono::NaiveDate::from_ymd_opt(2026, 2, 3).and_then(|d| d.and_hms_opt(10, 12, 0)).unwrap();
        let acks = parse_inbound(bytes, &g, "ta1.x12", "s", at);
        assert_eq!(acks.len(), 1);
        let a = &acks[0];
        assert_eq!((a.kind.as_str(), a.level.as_str(), a.control_number.as_str()), ("TA1", "interchange", "000000007"));
        assert_eq!((a.status.as_str(), a.codes.as_slice()), ("R", ["001".to_string()].as_slice()));
        assert_eq!(a.partner, "ZZ:CBP");
        assert!(a.is_rejection());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let ev = record_inbound(&store, &g, bytes, "ta1.x12", "s", at).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(events(&store).unwrap(), ev);
        assert_eq!(latest(&store, "ZZ:CBP", "isa|000000007").unwrap().map(|a| a.status), Some("R".into()));
        // Recording the same file again adds nothing.
        assert!(record_inbound(&store, &g, bytes, "ta1.x12", "s", at).unwrap().is_empty());
        assert_eq!(events(&store).unwrap().len(), 1);
    }
}
