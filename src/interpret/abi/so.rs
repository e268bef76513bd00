//! SO (grammars/abi/so.toml): cargo release status, CBP dispositions and PGA statuses.

use super::cx::{bill_ref, hhmm, Cx, Place};
use crate::domain::FactKind;
use crate::entry_number::EntryNumber;
use crate::interpret::codes::lookup;
use crate::parse::abi::Record;
use chrono::NaiveTime;
/// SO: cargo release status (header, SO50/SO60 CBP dispositions, SO70 PGA statuses).
#[derive(Default)]
pub(super) struct So {
    current: Option<EntryNumber>,
}

/// The fields of one disposition layout.
pub(super) struct DispositionFields {
    list: &'static str,
    date: &'static str,
    time: &'static str,
    code: &'static str,
    agency: Option<&'static str>,
}

pub(super) const SO50: DispositionFields = DispositionFields {
    list: "so50",
    date: "disposition_date",
    time: "disposition_time",
    code: "disposition_code",
    agency: None,
};
pub(super) const SO60: DispositionFields = DispositionFields { list: "so60", ..SO50 };
pub(super) const SO70: DispositionFields = DispositionFields {
    list: "so70",
    date: "status_date",
    time: "status_time",
    code: "pga_status",
    agency: Some("agency_code"),
};

impl So {
    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        let name = r.name;
        if name == "SO10" {
            self.current = cx.entry(r, "filer_code", "entry_number");
            if let Some(e) = self.current.clone() {
                let at = cx.day();
                let kind = FactKind::CargoHeader {
                    port: cx.string(r, "port_of_entry"),
                    entry_type: cx.string(r, "entry_type"),
                    importer: cx.string(r, "importer_number"),
                };
                cx.push(e, at, kind, Place::of(r));
            }
            return;
        }
        if name == "SO40" {
            // SO40 (04b, page 51, WO40 mirror): the bill the notification is about; kept as a
            // link to the other entries on the same bill (docs/affected.md).
            let bill = bill_ref(cx.text(r, "bill_issuer"), cx.text(r, "bill_number"));
            match self.current.clone() {
                Some(e) if !bill.is_empty() => {
                    let at = cx.day();
                    cx.push(e, at, FactKind::CargoRefs { bills: vec![bill], containers: Vec::new() }, Place::of(r));
                }
                Some(_) => {}
                None => cx.warn("I208", "SO40 before any SO10 record", Place::of(r)),
            }
            return;
        }
        let f = match name {
            "SO50" => &SO50,
            "SO60" => &SO60,
            "SO70" => &SO70,
            _ => {
                if !name.starts_with("SO") {
                    cx.warn("I211", format!("record {name:?} in an SO block"), Place::of(r));
                }
                return;
            }
        };
        let Some(e) = self.current.clone() else {
            cx.warn("I208", format!("{name} before any SO10 record"), Place::of(r));
            return;
        };
        let agency = f.agency.map(|a| cx.string(r, a)).unwrap_or_default();
        let day = cx.date(r, f.date, "date");
        let at = match (day, hhmm(cx.text(r, f.time))) {
            (Some(d), Some(t)) => d.and_time(t),
            (Some(d), None) => d.and_time(NaiveTime::MIN),
            _ => cx.day(),
        };
        let code = cx.string(r, f.code);
        let m = lookup(cx.grammars, f.list, &code);
        let agency = if agency.is_empty() { m.agency.clone().unwrap_or_else(|| "CBP".into()) } else { agency };
        let mut removes = m.removes.clone();
        let (mut release_date, mut release_origin) = (None, String::new());
        if f.list == "so60" && m.effect == crate::grammar::codes::Effect::Released {
            release_date = cx.date(r, "release_date", "release date");
            release_origin = cx.string(r, "release_origin");
            // What the release lifts: CBP's own SO60 holds the code list names (98: 99, 96, 90;
            // 04b, page 56, WO60 Note 1), plus what its release origin's code names
            // (release_origins.toml: 05 "intensive exam completed" lifts the 03 exam).
            let by_origin = cx.grammars.codes.get("release_origins", &release_origin).map(|o| o.removes.clone());
            for c in by_origin.unwrap_or_default() {
                if !removes.contains(&c) {
                    removes.push(c);
                }
            }
        }
        let narrative = match cx.text(r, "narrative") {
            "" => m.meaning.clone(),
            n => n.to_string(),
        };
        let kind = FactKind::Disposition {
            list: f.list.to_string(),
            code,
            agency,
            effect: m.effect,
            removes,
            narrative,
            release_date,
            release_origin,
        };
        cx.push(e, at, kind, Place::of(r));
    }
}
