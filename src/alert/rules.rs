//! Alert rules: the severity and category of a fact (code lists, then `[[alerts.override]]`) and who receives it (`[[route]]`).

use super::{Alert, AlertKind, CodeInfo, EntryFacts};
use crate::config::{Alerts, Category, Route, SeverityOverride};
use crate::grammar::codes::{AlertSeverity, CodeLists};
use chrono::{DateTime, FixedOffset};

/// A coded fact as the interpreter sees it (a disposition, a rejection ...).
#[derive(Debug, Clone)]
pub struct CodedFact {
    /// Code list name (`so60`, `so50`, `x350`).
    pub list: String,
    pub code: String,
    /// When the fact happened (from the file).
    pub at: DateTime<FixedOffset>,
    pub inbox: Option<String>,
    pub narrative: Option<String>,
    pub facts: EntryFacts,
    /// The category, when the caller knows better than the code's effect (statement, liquidation lists).
    pub category: Option<Category>,
}

/// Normalise an importer number for comparison (`12-345678900` = `12345678900`).
fn importer_key(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

fn override_matches(o: &SeverityOverride, list: &str, code: &str, importer: Option<&str>, inbox: Option<&str>) -> bool {
    o.code.trim().eq_ignore_ascii_case(code.trim())
        && o.list.as_deref().is_none_or(|l| l.is_empty() || l.eq_ignore_ascii_case(list))
        && o.importer.as_deref().is_none_or(|i| importer.is_some_and(|x| importer_key(x) == importer_key(i)))
        && o.inbox.as_deref().is_none_or(|i| inbox == Some(i))
}

fn specificity(o: &SeverityOverride) -> usize {
    usize::from(o.list.as_deref().is_some_and(|l| !l.is_empty()))
        + usize::from(o.importer.is_some())
        + usize::from(o.inbox.is_some())
}

/// The severity of a code after the config's overrides: among the overrides that match
/// (same code; list, importer and inbox when they say one), the most specific wins (the
/// one naming the most of list, importer, inbox), the later one on a tie; none: `default`.
pub fn severity_for(
    cfg: &Alerts,
    list: &str,
    code: &str,
    importer: Option<&str>,
    inbox: Option<&str>,
    default: AlertSeverity,
) -> AlertSeverity {
    let mut best: Option<(usize, AlertSeverity)> = None;
    for o in cfg.overrides.iter().filter(|o| override_matches(o, list, code, importer, inbox)) {
        let s = specificity(o);
        if best.is_none_or(|(b, _)| s >= b) {
            best = Some((s, o.severity));
        }
    }
    best.map(|(_, s)| s).unwrap_or(default)
}

/// The alert for a coded fact, or `None` when the code is a plain data code (effect none).
/// A code missing from its list still alerts (severity warning, advisory) so that nothing
/// CBP says goes unseen; the config can override it like any other code.
pub fn alert_for_code(
    codes: &CodeLists,
    cfg: &Alerts,
    fact: CodedFact,
    created: DateTime<FixedOffset>,
) -> Option<Alert> {
    let list = codes.list(&fact.list);
    let found = list.and_then(|l| l.get(fact.code.trim()));
    let (kind, default_severity, info) = match found {
        Some(c) => {
            let kind = AlertKind::from_effect(c.effect)?;
            let info = CodeInfo {
                list: fact.list.clone(),
                list_title: list.map(|l| l.title.clone()).unwrap_or_default(),
                code: c.code.clone(),
                meaning: c.meaning.clone(),
                action: c.action.clone(),
            };
            (kind, c.severity(), info)
        }
        None => {
            let info = CodeInfo {
                list: fact.list.clone(),
                list_title: list.map(|l| l.title.clone()).unwrap_or_default(),
                code: fact.code.trim().to_string(),
                meaning: format!("code not in the {} code list", fact.list),
                action: Some("Look the code up with the broker or in CATAIR; add it to the code list.".into()),
            };
            (AlertKind::Advisory, AlertSeverity::Warning, info)
        }
    };
    let severity = severity_for(
        cfg,
        &fact.list,
        &info.code,
        fact.facts.importer.as_deref(),
        fact.inbox.as_deref(),
        default_severity,
    );
    Some(Alert {
        id: Alert::identity(fact.facts.entry.as_ref(), kind, Some(&info.code), fact.at),
        severity,
        category: fact.category.unwrap_or(kind.default_category()),
        kind,
        code: Some(info),
        facts: fact.facts,
        inbox: fact.inbox,
        narrative: fact.narrative,
        fact_time: fact.at,
        created,
    })
}

/// An alert with no code behind it (variance, deadline, no-release, release confirmation);
/// `what` (a field name, a deadline kind) takes the code's place in the identity. Set
/// `inbox` and `narrative` on the result when there are some.
pub fn alert_for_event(
    kind: AlertKind,
    severity: AlertSeverity,
    what: Option<&str>,
    at: DateTime<FixedOffset>,
    facts: EntryFacts,
    created: DateTime<FixedOffset>,
) -> Alert {
    Alert {
        id: Alert::identity(facts.entry.as_ref(), kind, what, at),
        severity,
        category: kind.default_category(),
        kind,
        code: None,
        facts,
        inbox: None,
        narrative: None,
        fact_time: at,
        created,
    }
}

/// Whether an alert waits for the daily digest (`alerts.digest` on, not critical, not a
/// deadline reminder or miss, which go out on their own) instead of being mailed at once.
pub fn goes_to_digest(alert: &Alert, cfg: &Alerts) -> bool {
    cfg.digest
        && alert.severity < AlertSeverity::Critical
        && !matches!(alert.kind, AlertKind::DeadlineReminder | AlertKind::DeadlineMissed)
}

/// Demurrage risk: a warning when an entry arrived `alerts.no-release-days` (calendar days)
/// ago or more and has no release. One per arrival (the identity carries the arrival time).
pub fn no_release_alert(
    cfg: &Alerts,
    facts: &EntryFacts,
    arrived: DateTime<FixedOffset>,
    released: bool,
    now: DateTime<FixedOffset>,
) -> Option<Alert> {
    if released || now - arrived < chrono::Duration::days(i64::from(cfg.no_release_days)) {
        return None;
    }
    let mut a = alert_for_event(AlertKind::NoRelease, AlertSeverity::Warning, None, arrived, facts.clone(), now);
    a.narrative =
        Some(format!("Arrived {}; no release after {} days.", arrived.format("%Y-%m-%d"), (now - arrived).num_days()));
    Some(a)
}

/// Release confirmation (`alerts.release-confirmation`, off by default): an info alert when
/// the entry is released, has no open hold, and its statement is final.
pub fn release_confirmation_alert(
    cfg: &Alerts,
    facts: &EntryFacts,
    released_at: Option<DateTime<FixedOffset>>,
    statement_final: bool,
    now: DateTime<FixedOffset>,
) -> Option<Alert> {
    let at = released_at?;
    if !cfg.release_confirmation || !facts.open_holds.is_empty() || !statement_final {
        return None;
    }
    Some(alert_for_event(AlertKind::ReleaseConfirmed, AlertSeverity::Info, None, at, facts.clone(), now))
}

/// Whether a route takes an alert: its category listed, severity at least the route's
/// minimum, importer in `importers` (when not empty), inbox in `inboxes` (when not empty).
pub fn route_matches(alert: &Alert, route: &Route) -> bool {
    route.categories.contains(&alert.category)
        && alert.severity >= route.min_severity
        && (route.importers.is_empty()
            || alert
                .facts
                .importer
                .as_deref()
                .is_some_and(|i| route.importers.iter().any(|r| importer_key(r) == importer_key(i))))
        && (route.inboxes.is_empty() || alert.inbox.as_deref().is_some_and(|i| route.inboxes.iter().any(|r| r == i)))
}

/// The recipients of an alert: every matching route's `to`, in config order, each address once.
pub fn routes_for(alert: &Alert, routes: &[Route]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in routes.iter().filter(|r| route_matches(alert, r)) {
        for to in &r.to {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(to)) {
                out.push(to.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::GrammarFile;

    const SO60: &str = r#"
name = "so60"
title = "ABI SO60 disposition codes"
[[code]]
code = "03"
meaning = "Intensive exam"
effect = "exam"
action = "Arrange the exam with the CES."
[[code]]
code = "01"
meaning = "Released"
effect = "released"
[[code]]
code = "ZZ"
meaning = "Entry type"
"#;

    fn lists() -> CodeLists {
        let f = GrammarFile { path: "codes/so60.toml".into(), text: SO60.into() };
        CodeLists::load(&[f]).expect("test list loads")
    }

    fn at() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-02-03T10:12:44-05:00").expect("time")
    }

    fn fact(code: &str, importer: &str, inbox: &str) -> CodedFact {
        CodedFact {
            list: "so60".into(),
            code: code.into(),
            at: at(),
            inbox: Some(inbox.into()),
            narrative: None,
            facts: EntryFacts {
                entry: "EEE-1234567-3".parse().ok(),
                importer: Some(importer.into()),
                ..Default::default()
            },
            category: None,
        }
    }

    fn ov(
        code: &str,
        sev: AlertSeverity,
        list: Option<&str>,
        importer: Option<&str>,
        inbox: Option<&str>,
    ) -> SeverityOverride {
        SeverityOverride {
            list: list.map(Into::into),
            code: code.into(),
            severity: sev,
            importer: importer.map(Into::into),
            inbox: inbox.map(Into::into),
        }
    }

    #[test]
    fn defaults_come_from_the_code_list() {
        let a =
            alert_for_code(&lists(), &Alerts::default(), fact("03", "12-345678900", "broker"), at()).expect("alert");
        assert_eq!(a.severity, AlertSeverity::Critical);
        assert_eq!(a.kind, AlertKind::Exam);
        assert_eq!(a.category, Category::Disposition);
        assert_eq!(a.id, "EEE-1234567-3/exam/03/2026-02-03T10:12");
        let info = a.code.expect("code info");
        assert_eq!(info.meaning, "Intensive exam");
        assert_eq!(info.action.as_deref(), Some("Arrange the exam with the CES."));
        let r = alert_for_code(&lists(), &Alerts::default(), fact("01", "1", "broker"), at()).expect("alert");
        assert_eq!(r.severity, AlertSeverity::Info);
        assert!(alert_for_code(&lists(), &Alerts::default(), fact("ZZ", "1", "broker"), at()).is_none());
        let unknown = alert_for_code(&lists(), &Alerts::default(), fact("Q9", "1", "broker"), at()).expect("alert");
        assert_eq!(unknown.severity, AlertSeverity::Warning);
        assert_eq!(unknown.kind, AlertKind::Advisory);
    }

    #[test]
    fn overrides_by_code_importer_and_inbox_most_specific_wins() {
        let cfg = Alerts {
            overrides: vec![
                ov("03", AlertSeverity::Warning, None, None, None),
                ov("03", AlertSeverity::Info, Some("so60"), Some("12345678900"), None),
                ov("03", AlertSeverity::Critical, Some("so50"), None, None),
                ov("01", AlertSeverity::Warning, None, None, Some("broker-eee")),
            ],
            ..Alerts::default()
        };
        let l = lists();
        let sev = |code: &str, imp: &str, inbox: &str| {
            alert_for_code(&l, &cfg, fact(code, imp, inbox), at()).map(|a| a.severity)
        };
        assert_eq!(sev("03", "99-999999999", "broker"), Some(AlertSeverity::Warning));
        assert_eq!(sev("03", "12-345678900", "broker"), Some(AlertSeverity::Info));
        assert_eq!(sev("01", "1", "broker-eee"), Some(AlertSeverity::Warning));
        assert_eq!(sev("01", "1", "broker"), Some(AlertSeverity::Info));
    }

    fn route(to: &str, cats: Vec<Category>, min: AlertSeverity, importers: Vec<&str>, inboxes: Vec<&str>) -> Route {
        Route {
            to: vec![to.into()],
            categories: cats,
            min_severity: min,
            importers: importers.into_iter().map(Into::into).collect(),
            inboxes: inboxes.into_iter().map(Into::into).collect(),
        }
    }

    #[test]
    fn routes_filter_by_category_severity_importer_inbox() {
        let a =
            alert_for_code(&lists(), &Alerts::default(), fact("03", "12-345678900", "broker"), at()).expect("alert");
        let routes = vec![
            route("all@example.com", vec![Category::Disposition], AlertSeverity::Warning, vec![], vec![]),
            route("rej@example.com", vec![Category::Rejection], AlertSeverity::Info, vec![], vec![]),
            route("imp@example.com", vec![Category::Disposition], AlertSeverity::Critical, vec!["12345678900"], vec![]),
            route("other@example.com", vec![Category::Disposition], AlertSeverity::Info, vec!["99-1"], vec![]),
            route("inbox@example.com", vec![Category::Disposition], AlertSeverity::Info, vec![], vec!["approved"]),
            route("ALL@example.com", vec![Category::Disposition], AlertSeverity::Info, vec![], vec!["broker"]),
        ];
        assert_eq!(routes_for(&a, &routes), vec!["all@example.com".to_string(), "imp@example.com".to_string()]);
        let info = alert_for_code(&lists(), &Alerts::default(), fact("01", "1", "broker"), at()).expect("alert");
        assert_eq!(routes_for(&info, &routes), vec!["ALL@example.com".to_string()]);
    }

    #[test]
    fn no_release_and_release_confirmation() {
        let cfg = Alerts::default();
        let f = EntryFacts { entry: "EEE-1234567-3".parse().ok(), ..Default::default() };
        let arrived = at();
        let day = chrono::Duration::days(1);
        assert!(no_release_alert(&cfg, &f, arrived, false, arrived + day * 4).is_none());
        let a = no_release_alert(&cfg, &f, arrived, false, arrived + day * 5).expect("demurrage warning");
        assert_eq!(
            (a.kind, a.severity, a.category),
            (AlertKind::NoRelease, AlertSeverity::Warning, Category::Disposition)
        );
        assert_eq!(a.id, "EEE-1234567-3/no-release/-/2026-02-03T10:12");
        // Same identity on the next day's check: the outbox dedups it.
        assert_eq!(no_release_alert(&cfg, &f, arrived, false, arrived + day * 6).map(|a| a.id), Some(a.id.clone()));
        assert!(no_release_alert(&cfg, &f, arrived, true, arrived + day * 9).is_none());

        assert!(release_confirmation_alert(&cfg, &f, Some(arrived), true, arrived).is_none(), "off by default");
        let on = Alerts { release_confirmation: true, ..Alerts::default() };
        let c = release_confirmation_alert(&on, &f, Some(arrived), true, arrived).expect("confirmation");
        assert_eq!((c.kind, c.severity), (AlertKind::ReleaseConfirmed, AlertSeverity::Info));
        assert!(release_confirmation_alert(&on, &f, Some(arrived), false, arrived).is_none());
        assert!(release_confirmation_alert(&on, &f, None, true, arrived).is_none());
        let held = EntryFacts { open_holds: vec!["SO50 A1".into()], ..f.clone() };
        assert!(release_confirmation_alert(&on, &held, Some(arrived), true, arrived).is_none());

        let digest = Alerts { digest: true, ..Alerts::default() };
        assert!(goes_to_digest(&c, &digest));
        assert!(!goes_to_digest(&c, &cfg));
        let exam = alert_for_code(&lists(), &digest, fact("03", "1", "broker"), at()).expect("alert");
        assert!(!goes_to_digest(&exam, &digest));
    }
}
