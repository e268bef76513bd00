//! UC (grammars/abi/uc.toml): entry summary status notifications.

use super::cx::{Cx, Place};
use crate::domain::FactKind;
use crate::entry_number::EntryNumber;
use crate::interpret::codes::lookup;
use crate::parse::abi::Record;
use chrono::{NaiveDateTime, NaiveTime};
/// UC: entry summary status notifications (notice with its remarks).
#[derive(Default)]
pub(super) struct Uc {
    cur: Option<(EntryNumber, NaiveDateTime, FactKind, Place)>,
}

impl Uc {
    pub(super) fn record(&mut self, cx: &mut Cx<'_, '_>, r: &Record<'_>) {
        match r.name {
            "E1" => {
                self.finish_one(cx);
                let Some(e) = cx.entry(r, "filer_code", "entry_number") else { return };
                let at = cx.date(r, "action_date", "date of action").map_or(cx.day(), |d| d.and_time(NaiveTime::MIN));
                let narrative = cx.string(r, "narrative");
                let disposition = cx.string(r, "disposition_code");
                let kind = FactKind::Notice {
                    disposition: disposition.clone(),
                    reason: cx.string(r, "reason_code"),
                    line: cx.string(r, "line_number"),
                    remarks: Some(narrative).filter(|n| !n.is_empty()).into_iter().collect(),
                    effect: lookup(cx.grammars, "uc", &disposition).effect,
                };
                self.cur = Some((e, at, kind, Place::of(r)));
            }
            "E3" => {
                let text = cx.string(r, "remarks");
                if let Some((_, _, FactKind::Notice { remarks, .. }, _)) = self.cur.as_mut() {
                    remarks.push(text);
                }
            }
            "E2" | "E4" | "SO70" | "SO71" | "SO72" => {}
            other => cx.warn("I211", format!("record {other:?} in a UC block"), Place::of(r)),
        }
    }

    fn finish_one(&mut self, cx: &mut Cx<'_, '_>) {
        if let Some((e, at, k, place)) = self.cur.take() {
            cx.push(e, at, k, place);
        }
    }

    pub(super) fn finish(mut self, cx: &mut Cx<'_, '_>) {
        self.finish_one(cx);
    }
}
