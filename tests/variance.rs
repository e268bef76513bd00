//! Variance through the real pipeline and sled store: a matrix of single changes (each field
//! alone → exactly that difference, both values, the right severity), combinations, tolerances,
//! computed checks, pre-entry before and after the filing, a replacement that closes a
//! variance, a liquidation increase naming its reason codes, and the `variance` command.

mod common;

use common::Env;
use entrywatch::clock::Clock;
use entrywatch::config::{Config, Inbox, Role};
use entrywatch::domain::EntryRow;
use entrywatch::entry_number::EntryNumber;
use entrywatch::grammar::Grammars;
use entrywatch::ingest::sample::{entry_field, record};
use entrywatch::ingest::{Outcome, Pipeline};
use entrywatch::store::entries::{self, EntryState};
use entrywatch::variance::{new_differences, resolved_differences, Basis, Severity, Status, VarianceReport};
use std::collections::BTreeSet;

const FILER: &str = "EEE";
const TX: u32 = 1234567;
const E: &str = "EEE-1234567-3";

// ---------- a consistent AE builder ----------

#[derive(Clone, Debug)]
struct T {
    hts: &'static str,
    duty: i64,
    value: i64,
    qty: i64,
    uom: &'static str,
}

#[derive(Clone, Debug)]
struct L {
    coo: &'static str,
    coe: &'static str,
    spi: &'static str,
    tariffs: Vec<T>,
}

/// An entry summary whose fees and totals follow from its lines unless overridden.
#[derive(Clone, Debug)]
struct Ae {
    action: &'static str,
    importer: &'static str,
    entry_type: &'static str,
    port: &'static str,
    mot: &'static str,
    payment: &'static str,
    recon_fta: bool,
    recon_issue: &'static str,
    entry_date: &'static str,
    lines: Vec<L>,
    mpf_total: Option<i64>,
    duty_total: Option<i64>,
    hmf_on_non_vessel: bool,
    psc: bool,
    /// Transmission date (A record, MMDDYY): the facts' time.
    batch_date: &'static str,
}

fn fee(value: i64, ppm: i64) -> i64 {
    // Half-up to the cent, the same rule the project documents.
    (value * 100 * ppm + 500_000) / 1_000_000
}

impl Ae {
    fn base() -> Ae {
        Ae {
            action: "A",
            importer: "12-345678900",
            entry_type: "01",
            port: "2704",
            mot: "11",
            payment: "2",
            recon_fta: false,
            recon_issue: "",
            entry_date: "020226",
            lines: vec![
                L {
                    coo: "CN",
                    coe: "CN",
                    spi: "",
                    tariffs: vec![
                        T { hts: "9903880300", duty: 250_000, value: 0, qty: 0, uom: "" },
                        T { hts: "6110202079", duty: 165_000, value: 10_000, qty: 10_000, uom: "DOZ" },
                    ],
                },
                L {
                    coo: "JO",
                    coe: "JO",
                    spi: "JO",
                    tariffs: vec![T { hts: "8471500150", duty: 0, value: 5_000, qty: 5_000, uom: "NO" }],
                },
            ],
            mpf_total: None,
            duty_total: None,
            hmf_on_non_vessel: false,
            psc: false,
            batch_date: "020226",
        }
    }

    fn vessel(&self) -> bool {
        matches!(self.mot, "10" | "11" | "12") || self.hmf_on_non_vessel
    }

    fn line_value(l: &L) -> i64 {
        l.tariffs.iter().map(|t| t.value).sum()
    }

    fn mpf(&self) -> i64 {
        let sum: i64 = self.lines.iter().map(|l| fee(Self::line_value(l), 3464)).sum();
        let (min, max) = if self.entry_date == "093025" { (3271, 63462) } else { (3358, 65150) };
        self.mpf_total.unwrap_or(sum.clamp(min, max))
    }

    fn hmf(&self) -> i64 {
        if self.vessel() {
            self.lines.iter().map(|l| fee(Self::line_value(l), 1250)).sum()
        } else {
            0
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let en = entry_field(FILER, TX);
        let mut body = vec![
            record(&[
                (1, "10"),
                (3, self.action),
                (4, FILER),
                (9, &en),
                (18, self.port),
                (22, "BR1234567"),
                (34, self.entry_type),
                (36, self.mot),
                (39, "X"),
                (46, if self.recon_fta { "Y" } else { "" }),
                (47, self.recon_issue),
                (51, self.payment),
                (52, "021026"),
                (65, if self.psc { "Y" } else { "" }),
            ]),
            record(&[(1, "11"), (3, self.importer), (42, self.entry_date), (48, self.entry_date), (61, "CA")]),
        ];
        for (i, l) in self.lines.iter().enumerate() {
            let n = format!("{:03}", i + 1);
            body.push(record(&[(1, "40"), (5, &n), (9, l.coo), (11, l.coe), (13, "010526"), (25, l.spi)]));
            for t in &l.tariffs {
                body.push(record(&[
                    (1, "50"),
                    (3, t.hts),
                    (14, &format!("{:010}", t.duty)),
                    (25, &format!("{:010}", t.value)),
                    (36, &format!("{:012}", t.qty)),
                    (48, t.uom),
                ]));
            }
            body.push(record(&[(1, "62"), (3, "499"), (6, &format!("{:08}", fee(Self::line_value(l), 3464)))]));
            if self.vessel() {
                body.push(record(&[(1, "62"), (3, "501"), (6, &format!("{:08}", fee(Self::line_value(l), 1250)))]));
            }
        }
        let (mpf, hmf) = (self.mpf(), self.hmf());
        let mut r89 = vec![(1, "89".to_string()), (3, "499".to_string()), (6, format!("{mpf:011}"))];
        if self.vessel() {
            r89.push((17, "501".into()));
            r89.push((20, format!("{hmf:011}")));
        }
        body.push(record(&r89.iter().map(|(p, s)| (*p, s.as_str())).collect::<Vec<_>>()));
        let duty: i64 =
            self.duty_total.unwrap_or(self.lines.iter().flat_map(|l| l.tariffs.iter()).map(|t| t.duty).sum());
        body.push(record(&[(1, "90"), (3, &format!("{duty:011}")), (15, &format!("{:011}", mpf + hmf))]));
        batch("AE", self.batch_date, &body)
    }

    /// The importer's copy: the same summary under another batch reference (other bytes).
    fn approved_bytes(&self) -> Vec<u8> {
        let b = self.bytes();
        let text = String::from_utf8(b).unwrap();
        let (first, rest) = text.split_once('\n').unwrap();
        let first = record(&[(1, first), (60, "PRE-ENTRY-APPROVED")]);
        format!("{first}\n{rest}").into_bytes()
    }

    fn total_duty(&self) -> i64 {
        self.lines.iter().flat_map(|l| l.tariffs.iter()).map(|t| t.duty).sum()
    }

    fn total_fees(&self) -> i64 {
        self.mpf() + self.hmf()
    }
}

fn batch(app: &str, date: &str, body: &[String]) -> Vec<u8> {
    let mut recs = vec![record(&[(1, "A"), (2, "2704"), (6, FILER), (15, date), (26, app)])];
    recs.push(record(&[(1, "B"), (4, "2704"), (8, FILER), (11, app)]));
    recs.extend(body.iter().cloned());
    recs.push(record(&[(1, "Y"), (4, "2704"), (8, FILER), (11, app), (13, &format!("{:05}", body.len()))]));
    recs.push(record(&[(1, "Z"), (2, "2704"), (6, FILER), (15, date)]));
    (recs.join("\n") + "\n").into_bytes()
}

/// ER: liquidated on 12/11/26 with these amounts and reason codes.
fn er_liquidated(date: &str, duty: i64, fees: i64, reasons: &str) -> Vec<u8> {
    let en = entry_field(FILER, TX);
    let body = vec![
        record(&[(1, "JB"), (3, FILER), (8, &en), (16, "00100"), (21, "020226101500AM"), (43, "1"), (44, "121126")]),
        record(&[(1, "JC"), (3, "2"), (4, "1"), (5, "020226"), (42, "NO")]),
        record(&[
            (1, "JD"),
            (4, "020226"),
            (10, &format!("{duty:012}")),
            (22, "000000000000"),
            (34, &format!("{fees:012}")),
            (46, "000000000000"),
            (58, "000000000000"),
            (70, reasons),
        ]),
    ];
    batch("ER", date, &body)
}

/// CSV pre-entry rows for the base filing (entry number optional).
fn csv_base(entry: &str) -> String {
    let mut s = String::from("entry_number,importer_number,broker_reference,invoice_number,po_number,po_line,line_number,hts,country_of_origin,spi,quantity,uom,value_usd,duty_rate,duty_usd\n");
    s.push_str(&format!("{entry},12-345678900,BR1234567,INV-1,PO-1,10,1,9903880300,CN,,0,,0,25%,2500.00\n"));
    s.push_str(&format!(
        "{entry},12-345678900,BR1234567,INV-1,PO-1,10,1,6110202079,CN,,100.00,DOZ,10000,0.165,1650.00\n"
    ));
    s.push_str(&format!("{entry},12-345678900,BR1234567,INV-1,PO-1,20,2,8471500150,JO,JO,50,NO,5000,0,0.00\n"));
    s
}

// ---------- running the real pipeline in-process ----------

struct Run {
    _dir: tempfile::TempDir,
    pipeline: Pipeline,
    config: Config,
    grammars: Grammars,
    n: usize,
}

impl Run {
    fn new(extra: &str) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let text = format!(
            "data-dir = {:?}\n[[inbox]]\nname = \"broker\"\npath = {:?}\nrole = \"broker\"\n[[inbox]]\nname = \"approved\"\npath = {:?}\nrole = \"approved\"\n{extra}",
            root.join("data"),
            root.join("broker"),
            root.join("approved")
        );
        let config = Config::from_toml(&text, "test").unwrap();
        let grammars = Grammars::embedded().unwrap();
        let clock = Clock::Fixed(chrono::DateTime::parse_from_rfc3339(common::NOW).unwrap());
        let pipeline = Pipeline::open(&config, &grammars, clock).unwrap();
        Run { _dir: dir, pipeline, config, grammars, n: 0 }
    }

    fn inbox(&self, name: &str) -> Inbox {
        self.config.inbox.iter().find(|i| i.name == name).unwrap().clone()
    }

    fn feed(&mut self, inbox: &str, bytes: &[u8]) {
        self.n += 1;
        let ib = self.inbox(inbox);
        assert_eq!(ib.role, if inbox == "approved" { Role::Approved } else { Role::Broker });
        std::fs::create_dir_all(&ib.path).unwrap();
        let p = ib.path.join(format!("f{:03}.txt", self.n));
        std::fs::write(&p, bytes).unwrap();
        match self.pipeline.process(&ib, &p).unwrap() {
            Outcome::Applied { .. } => {}
            other => panic!("file {} not applied: {other:?}\n{}", self.n, String::from_utf8_lossy(bytes)),
        }
    }

    /// The entry as readers see it: derived from its facts, variance evaluated.
    fn entry(&self) -> EntryState {
        let en: EntryNumber = E.parse().unwrap();
        let store = self.pipeline.store();
        entries::load(store, &en, &self.config.variance, &self.grammars).unwrap().expect("entry in store").0
    }

    /// The report; also checks the status the pipeline stored in the entry row at ingest.
    fn report(&self) -> VarianceReport {
        let r = self.entry().variance.expect("variance evaluated");
        let row: EntryRow =
            entries::row(self.pipeline.store(), "EEE12345673").unwrap().expect("entry row in the store");
        assert_eq!((row.variance, row.variance_differences), (r.status, r.differences.len()));
        r
    }
}

/// Approved AE `approved`, filed AE `filed`: the stored report.
fn compare(approved: &Ae, filed: &Ae) -> VarianceReport {
    let mut r = Run::new("");
    r.feed("approved", &approved.approved_bytes());
    r.feed("broker", &filed.bytes());
    r.report()
}

type Place = (Option<u32>, Option<u32>, &'static str);

fn places(r: &VarianceReport) -> BTreeSet<(Option<u32>, Option<u32>, String)> {
    r.differences.iter().map(|d| (d.line, d.tariff, d.field.clone())).collect()
}

fn expect(r: &VarianceReport, want: &[Place]) {
    let want: BTreeSet<_> = want.iter().map(|(l, t, f)| (*l, *t, f.to_string())).collect();
    assert_eq!(places(r), want, "{r:#?}");
}

fn diff<'a>(
    r: &'a VarianceReport,
    line: Option<u32>,
    tariff: Option<u32>,
    field: &str,
) -> &'a entrywatch::variance::Difference {
    r.differences
        .iter()
        .find(|d| d.line == line && d.tariff == tariff && d.field == field)
        .unwrap_or_else(|| panic!("no {field} difference at {line:?}/{tariff:?}: {r:#?}"))
}

// ---------- the matrix ----------

#[test]
fn identical_filing_has_no_variance() {
    let r = compare(&Ae::base(), &Ae::base());
    assert_eq!(r.status, Status::None, "{r:#?}");
    assert!(r.differences.is_empty());
    assert_eq!(r.matched_by.as_deref(), Some("entry-number"));
}

#[test]
fn each_field_changed_alone_gives_exactly_that_difference() {
    // (what changes, where, field, approved, filed, severity)
    type Case = (fn(&mut Ae), Option<u32>, Option<u32>, &'static str, &'static str, &'static str, Severity);
    let cases: Vec<Case> = vec![
        (|a| a.importer = "98-765432100", None, None, "importer", "12-345678900", "98-765432100", Severity::Major),
        (|a| a.entry_type = "03", None, None, "entry_type", "01", "03", Severity::Major),
        (|a| a.port = "2709", None, None, "port", "2704", "2709", Severity::Minor),
        (|a| a.mot = "10", None, None, "mode_of_transport", "11", "10", Severity::Minor),
        (|a| a.payment = "6", None, None, "payment_type", "2", "6", Severity::Minor),
        (|a| a.recon_issue = "002", None, None, "reconciliation", "", "002", Severity::Major),
        (|a| a.lines[0].coo = "VN", Some(1), None, "country_of_origin", "CN", "VN", Severity::Major),
        (|a| a.lines[0].coe = "HK", Some(1), None, "country_of_export", "CN", "HK", Severity::Minor),
        (|a| a.lines[1].spi = "", Some(2), None, "spi", "JO", "", Severity::Major),
        (
            |a| a.lines[0].tariffs[1].hts = "6110202080",
            Some(1),
            Some(2),
            "hts",
            "6110202079",
            "6110202080",
            Severity::Major,
        ),
        (
            |a| a.lines[0].tariffs[0].hts = "9903880301",
            Some(1),
            Some(1),
            "hts",
            "9903880300",
            "9903880301",
            Severity::Major,
        ),
        (|a| a.lines[0].tariffs[1].qty = 12_000, Some(1), Some(2), "quantity", "100", "120", Severity::Minor),
        (|a| a.lines[0].tariffs[1].uom = "PCS", Some(1), Some(2), "uom", "DOZ", "PCS", Severity::Minor),
    ];
    for (k, (change, line, tariff, field, approved, filed, severity)) in cases.into_iter().enumerate() {
        let mut f = Ae::base();
        change(&mut f);
        let r = compare(&Ae::base(), &f);
        expect(&r, &[(line, tariff, field)]);
        let d = &r.differences[0];
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        assert_eq!((d.approved.clone(), d.filed.clone()), (opt(approved), opt(filed)), "case {k}: {d:#?}");
        assert_eq!(d.severity, severity, "case {k}");
        assert_eq!(d.basis, Basis::PreEntry);
        let want_status = if severity == Severity::Major { Status::Major } else { Status::Minor };
        assert_eq!(r.status, want_status, "case {k}");
    }
}

#[test]
fn classification_difference_is_explained_in_an_analysts_words() {
    let mut f = Ae::base();
    f.lines[0].tariffs[1].hts = "6110202080";
    let r = compare(&Ae::base(), &f);
    assert_eq!(
        diff(&r, Some(1), Some(2), "hts").explanation,
        "Line 1 tariff 2: HTS filed 6110.20.2080, approved 6110.20.2079 — classification differs (major)"
    );
}

#[test]
fn value_within_tolerance_is_no_variance_and_beyond_it_is() {
    // 1 % of $10,000 is $100: $10,100 is within; fees move by cents only (within $1.00).
    let mut f = Ae::base();
    f.lines[0].tariffs[1].value = 10_100;
    let r = compare(&Ae::base(), &f);
    assert_eq!(r.status, Status::None, "{r:#?}");
    // $10,101 is beyond.
    f.lines[0].tariffs[1].value = 10_101;
    let r = compare(&Ae::base(), &f);
    expect(&r, &[(Some(1), Some(2), "value")]);
    let d = diff(&r, Some(1), Some(2), "value");
    assert_eq!(
        (d.approved.as_deref(), d.filed.as_deref(), d.severity),
        (Some("10000"), Some("10101"), Severity::Major)
    );
    // $10,500 (+5 %) also moves MPF by $1.73 and the fee total by $2.36 — beyond the $1.00 tolerance.
    f.lines[0].tariffs[1].value = 10_500;
    let r = compare(&Ae::base(), &f);
    expect(&r, &[(Some(1), Some(2), "value"), (None, None, "mpf"), (None, None, "total_fees")]);
    let mpf = diff(&r, None, None, "mpf");
    assert_eq!((mpf.approved.as_deref(), mpf.filed.as_deref()), (Some("51.96"), Some("53.69")));
    assert!(diff(&r, Some(1), Some(2), "value").explanation.contains("+5%"), "{r:#?}");
}

#[test]
fn duty_within_tolerance_is_no_variance_and_beyond_it_is() {
    let mut f = Ae::base();
    f.lines[0].tariffs[1].duty = 165_100; // +$1.00: the tolerance itself
    assert_eq!(compare(&Ae::base(), &f).status, Status::None);
    f.lines[0].tariffs[1].duty = 180_000;
    let r = compare(&Ae::base(), &f);
    expect(&r, &[(Some(1), Some(2), "duty"), (None, None, "total_duty")]);
    let d = diff(&r, Some(1), Some(2), "duty");
    assert_eq!(
        (d.approved.as_deref(), d.filed.as_deref(), d.severity),
        (Some("1650.00"), Some("1800.00"), Severity::Major)
    );
    let t = diff(&r, None, None, "total_duty");
    assert_eq!((t.approved.as_deref(), t.filed.as_deref()), (Some("4150.00"), Some("4300.00")));
}

#[test]
fn tolerances_and_severities_come_from_the_config() {
    let mut f = Ae::base();
    f.lines[0].tariffs[1].duty = 180_000;
    f.lines[0].tariffs[1].hts = "6110202080";
    let mut r = Run::new("[variance]\nduty-tolerance-usd = 200.0\nseverity = { hts = \"minor\", port = \"ignore\" }\n");
    f.port = "2709";
    r.feed("approved", &Ae::base().approved_bytes());
    r.feed("broker", &f.bytes());
    let rep = r.report();
    expect(&rep, &[(Some(1), Some(2), "hts")]);
    assert_eq!(rep.differences[0].severity, Severity::Minor);
    assert_eq!(rep.status, Status::Minor);
}

#[test]
fn combinations_report_every_difference() {
    let mut f = Ae::base();
    f.lines[0].coo = "VN";
    f.lines[1].tariffs[0].hts = "8471300100";
    f.entry_type = "03";
    // Air instead of vessel: no HMF filed, so HMF and the fee total differ from the approval.
    f.mot = "40";
    let r = compare(&Ae::base(), &f);
    expect(
        &r,
        &[
            (None, None, "entry_type"),
            (None, None, "mode_of_transport"),
            (None, None, "hmf"),
            (None, None, "total_fees"),
            (Some(1), None, "country_of_origin"),
            (Some(2), Some(1), "hts"),
        ],
    );
    assert_eq!(r.status, Status::Major);
    let hmf = diff(&r, None, None, "hmf");
    assert_eq!((hmf.approved.as_deref(), hmf.filed.as_deref()), (Some("18.75"), Some("0.00")));
}

#[test]
fn chapter_99_provision_missing_from_the_filing() {
    let mut f = Ae::base();
    f.lines[0].tariffs.remove(0);
    let r = compare(&Ae::base(), &f);
    expect(&r, &[(Some(1), Some(1), "hts"), (None, None, "total_duty")]);
    let d = diff(&r, Some(1), Some(1), "hts");
    assert_eq!((d.approved.as_deref(), d.filed.as_deref()), (Some("9903880300"), None));
    assert!(d.explanation.contains("Chapter 99"), "{}", d.explanation);
    // Filed in the other order (base first, then Chapter 99): still matched as a pair.
    let mut f = Ae::base();
    f.lines[0].tariffs.reverse();
    assert_eq!(compare(&Ae::base(), &f).status, Status::None);
}

#[test]
fn a_line_left_off_the_filing() {
    let mut f = Ae::base();
    f.lines.pop();
    let r = compare(&Ae::base(), &f);
    let fields: BTreeSet<_> = places(&r).into_iter().map(|p| p.2).collect();
    assert!(fields.contains("line") && fields.contains("mpf"), "{r:#?}");
    let d = diff(&r, Some(2), None, "line");
    assert_eq!((d.approved.as_deref(), d.filed.as_deref(), d.severity), (Some("8471500150"), None, Severity::Major));
}

// ---------- computed checks (no pre-entry) ----------

fn filed_only(f: &Ae) -> VarianceReport {
    filed_only_with(f, "")
}

fn filed_only_with(f: &Ae, config: &str) -> VarianceReport {
    let mut r = Run::new(config);
    r.feed("broker", &f.bytes());
    r.report()
}

#[test]
fn consistent_filing_without_pre_entry_is_no_pre_entry() {
    let r = filed_only(&Ae::base());
    assert_eq!(r.status, Status::NoPreEntry, "{r:#?}");
    assert!(r.differences.is_empty());
    assert_eq!(r.matched_by, None);
}

#[test]
fn mpf_is_recomputed_with_the_fiscal_year_minimum() {
    // $1,000 + $500: 3.46 + 1.73 = 5.19, below the FY26 minimum 33.58.
    let mut f = Ae::base();
    f.lines[0].tariffs[1].value = 1_000;
    f.lines[1].tariffs[0].value = 500;
    assert_eq!(filed_only(&f).status, Status::NoPreEntry, "clamped to the minimum: consistent");
    // The filer forgot the minimum.
    f.mpf_total = Some(519);
    let r = filed_only(&f);
    expect(&r, &[(None, None, "mpf")]);
    let d = diff(&r, None, None, "mpf");
    assert_eq!((d.approved.as_deref(), d.filed.as_deref(), d.basis), (Some("33.58"), Some("5.19"), Basis::Computed));
    assert!(d.explanation.contains("minimum"), "{}", d.explanation);
    // Entered 2025-09-30 (FY25): the minimum is 32.71; 33.58 is then wrong (by $0.87: checked
    // with no tolerance).
    let exact = "[variance]\nduty-tolerance-usd = 0.0\n";
    let mut f25 = f.clone();
    f25.entry_date = "093025";
    f25.mpf_total = Some(3358);
    let r = filed_only_with(&f25, exact);
    let d = diff(&r, None, None, "mpf");
    assert_eq!((d.approved.as_deref(), d.filed.as_deref()), (Some("32.71"), Some("33.58")));
    f25.mpf_total = None;
    assert_eq!(filed_only_with(&f25, exact).status, Status::NoPreEntry);
}

#[test]
fn mpf_maximum_applies_to_large_entries() {
    let mut f = Ae::base();
    f.lines[0].tariffs[1].value = 400_000; // 1,385.60 on this line alone
    f.lines[0].tariffs[1].duty = 6_600_000;
    assert_eq!(filed_only(&f).status, Status::NoPreEntry);
    f.mpf_total = Some(138_733);
    let d = filed_only(&f).differences.into_iter().find(|d| d.field == "mpf").unwrap();
    assert_eq!(d.approved.as_deref(), Some("651.50"));
}

#[test]
fn hmf_on_a_non_vessel_mode_is_flagged() {
    let mut f = Ae::base();
    f.mot = "40";
    assert_eq!(filed_only(&f).status, Status::NoPreEntry, "air, no HMF: fine");
    f.hmf_on_non_vessel = true;
    let r = filed_only(&f);
    expect(&r, &[(None, None, "hmf")]);
    let d = &r.differences[0];
    assert_eq!((d.approved.as_deref(), d.filed.as_deref()), (Some("0.00"), Some("18.75")));
}

#[test]
fn spi_claimed_but_duty_charged() {
    let mut f = Ae::base();
    f.lines[1].tariffs[0].duty = 12_345;
    let r = filed_only(&f);
    expect(&r, &[(Some(2), Some(1), "spi")]);
    assert_eq!(r.differences[0].severity, Severity::Major);
    assert_eq!(r.status, Status::Major);
    // Chapter 99 duty under a program claim is not flagged (Section 301/232 still apply).
    let mut f = Ae::base();
    f.lines[0].spi = "A";
    f.lines[0].tariffs[1].duty = 0;
    assert_eq!(filed_only(&f).status, Status::NoPreEntry);
}

#[test]
fn totals_must_equal_the_sum_of_lines() {
    let mut f = Ae::base();
    f.duty_total = Some(400_000);
    let r = filed_only(&f);
    expect(&r, &[(None, None, "total_duty")]);
    let d = &r.differences[0];
    assert_eq!((d.approved.as_deref(), d.filed.as_deref()), (Some("4150.00"), Some("4000.00")));
}

// ---------- matching, re-evaluation, liquidation ----------

#[test]
fn csv_pre_entry_before_and_after_the_filing_by_reference_and_by_entry_number() {
    let mut f = Ae::base();
    f.lines[0].tariffs[1].duty = 160_000; // 16.0 % instead of the approved 16.5 %
                                          // Before: by importer + broker reference; it waits, then matches.
    let mut r = Run::new("");
    r.feed("approved", csv_base("").as_bytes());
    r.feed("broker", &f.bytes());
    let a = r.report();
    assert_eq!(a.matched_by.as_deref(), Some("importer-reference"));
    expect(&a, &[(Some(1), Some(2), "duty"), (Some(1), Some(2), "duty_rate")]);
    let d = diff(&a, Some(1), Some(2), "duty_rate");
    assert_eq!((d.approved.as_deref(), d.filed.as_deref()), (Some("16.5%"), Some("16%")));
    // After: by entry number, the filing first (no-pre-entry), re-evaluated when it arrives.
    let mut r = Run::new("");
    r.feed("broker", &f.bytes());
    assert_eq!(r.report().status, Status::NoPreEntry);
    r.feed("approved", csv_base(E).as_bytes());
    let b = r.report();
    assert_eq!(b.matched_by.as_deref(), Some("entry-number"));
    assert_eq!(places(&a), places(&b));
    assert_eq!(b.status, Status::Major);
}

#[test]
fn csv_spellings_do_not_make_differences() {
    // Dotted HTS, lower-case codes, importer number without the dash: the same data.
    let csv = csv_base(E)
        .replace("6110202079", "6110.20.2079")
        .replace(",CN,", ",cn,")
        .replace(",DOZ,", ",doz,")
        .replace("12-345678900", "12345678900");
    let mut r = Run::new("");
    r.feed("broker", &Ae::base().bytes());
    r.feed("approved", csv.as_bytes());
    let rep = r.report();
    assert_eq!(rep.status, Status::None, "{rep:#?}");
}

#[test]
fn approved_pre_entry_alone_waits_for_the_filing() {
    let mut r = Run::new("");
    r.feed("approved", &Ae::base().approved_bytes());
    let rep = r.report();
    assert!(rep.awaiting_filing);
    assert_eq!(rep.status, Status::None);
    assert!(rep.differences.is_empty());
}

#[test]
fn a_replacement_that_fixes_the_variance_closes_it() {
    let mut r = Run::new("");
    r.feed("approved", &Ae::base().approved_bytes());
    let mut wrong = Ae::base();
    wrong.lines[0].tariffs[1].hts = "6110202080";
    r.feed("broker", &wrong.bytes());
    let before = r.report();
    assert_eq!(before.status, Status::Major);
    let mut fixed = Ae::base();
    fixed.action = "R";
    // A later day: facts fold by message time (same-day files fold by content hash).
    fixed.batch_date = "020526";
    r.feed("broker", &fixed.bytes());
    let after = r.report();
    assert_eq!(after.status, Status::None, "{after:#?}");
    let closed = resolved_differences(Some(&before), &after);
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].field, "hts");
    assert!(new_differences(Some(&before), &after).is_empty());
    assert_eq!(r.entry().entry.filings.len(), 2);
}

#[test]
fn a_post_summary_correction_is_re_evaluated_and_alerts_only_what_is_new() {
    let mut r = Run::new("");
    r.feed("approved", &Ae::base().approved_bytes());
    let mut wrong = Ae::base();
    wrong.lines[0].coo = "VN";
    r.feed("broker", &wrong.bytes());
    let first = r.entry();
    assert_eq!(entrywatch::variance::alert_differences(None, first.variance.as_ref()).len(), 1);
    // A PSC that fixes origin but changes the quantity: origin closes, quantity is new.
    let mut psc = Ae::base();
    psc.action = "R";
    psc.psc = true;
    psc.batch_date = "030226";
    psc.lines[0].tariffs[1].qty = 12_000;
    r.feed("broker", &psc.bytes());
    let second = r.entry();
    assert!(second.entry.filings.last().unwrap().summary.psc);
    let rep = second.variance.clone().unwrap();
    expect(&rep, &[(Some(1), Some(2), "quantity")]);
    assert_eq!(rep.status, Status::Minor);
    let new = entrywatch::variance::alert_differences(first.variance.as_ref(), second.variance.as_ref());
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].field, "quantity");
    assert_eq!(new[0].severity.alert_severity(), entrywatch::grammar::codes::AlertSeverity::Warning);
    let closed = resolved_differences(first.variance.as_ref(), &rep);
    assert_eq!(closed.iter().map(|d| d.field.as_str()).collect::<Vec<_>>(), vec!["country_of_origin"]);
}

#[test]
fn liquidation_above_filed_is_major_and_names_the_reasons() {
    let mut r = Run::new("");
    r.feed("broker", &Ae::base().bytes());
    let filed = Ae::base();
    // Same as filed: nothing.
    r.feed("broker", &er_liquidated("121826", filed.total_duty(), filed.total_fees(), "42"));
    assert_eq!(r.report().status, Status::NoPreEntry);
    let before = r.report();
    // CBP reliquidates higher: classification and valuation.
    r.feed("broker", &er_liquidated("122226", filed.total_duty() + 35_000, filed.total_fees(), "0201"));
    let rep = r.report();
    expect(&rep, &[(None, None, "liquidated_duty")]);
    let d = &rep.differences[0];
    assert_eq!(d.severity, Severity::Major);
    assert_eq!(d.basis, Basis::Liquidation);
    assert_eq!((d.filed.as_deref(), d.liquidated.as_deref()), (Some("4150.00"), Some("4500.00")));
    let codes: Vec<_> = d.reasons.iter().map(|r| (r.code.as_str(), r.meaning.as_str())).collect();
    assert_eq!(codes, vec![("02", "Classification"), ("01", "Valuation")]);
    assert!(d.explanation.contains("02 classification") && d.explanation.contains("protest"), "{}", d.explanation);
    assert_eq!(new_differences(Some(&before), &rep).len(), 1, "the alert code gets one new difference");
    assert_eq!(rep.status, Status::Major);
}

// ---------- the command line ----------

#[test]
fn variance_command_text_json_csv_and_entry_json() {
    let env = Env::new();
    let p = env.drop_file("approved", "approved.abi", &Ae::base().approved_bytes());
    assert!(env.ingest("approved", &[p]).status.success());
    let mut f = Ae::base();
    f.lines[0].tariffs[1].hts = "6110202080";
    let p = env.drop_file("broker", "ae.abi", &f.bytes());
    assert!(env.ingest("broker", &[p]).status.success());

    let run = |args: &[&str]| {
        let o =
            env.cmd().arg("variance").arg("EEE12345673").args(args).arg("--config").arg(env.config()).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let text = run(&[]);
    assert!(text.contains("Entry EEE-1234567-3: major variance (1 difference)"), "{text}");
    assert!(
        text.contains(
            "Line 1 tariff 2: HTS filed 6110.20.2080, approved 6110.20.2079 — classification differs (major)"
        ),
        "{text}"
    );
    let j: serde_json::Value = serde_json::from_str(&run(&["--json"])).unwrap();
    assert_eq!(j["entry"], E);
    assert_eq!(j["status"], "major");
    let d = &j["differences"][0];
    assert_eq!((d["line"].as_u64(), d["tariff"].as_u64()), (Some(1), Some(2)));
    assert_eq!(
        (d["field"].as_str(), d["approved"].as_str(), d["filed"].as_str()),
        (Some("hts"), Some("6110202079"), Some("6110202080"))
    );
    assert_eq!(d["severity"], "major");
    let csv = run(&["--csv"]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let recs: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(&recs[0][4], "hts");
    assert_eq!(&recs[0][5], "6110202079");
    let o = env.cmd().args(["entry", E, "--config"]).arg(env.config()).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("Variance: major (1 difference(s)"));
    let e = env.entry_json(E);
    assert_eq!(e["variance"]["status"], "major");
    assert_eq!(e["variance"]["differences"], 1);
    let o = env.cmd().args(["entries", "--json", "--status", "major", "--config"]).arg(env.config()).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["entry"], E);
    assert_eq!((rows[0]["variance"].as_str(), rows[0]["variance_differences"].as_u64()), (Some("major"), Some(1)));
    // --json and --csv together are a usage error.
    let o = env.cmd().args(["variance", E, "--json", "--csv", "--config"]).arg(env.config()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    // Unknown entry: exit 1.
    let o = env.cmd().args(["variance", "EEE-7654321-0", "--config"]).arg(env.config()).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn shipped_life_samples_show_the_classification_variance() {
    let dir = common::samples();
    let approved = dir.join("life-00-approved-pre-entry.abi");
    let filed = dir.join("life-01-ae-filed.abi");
    let mut r = Run::new("");
    r.feed("approved", &std::fs::read(approved).unwrap());
    r.feed("broker", &std::fs::read(filed).unwrap());
    let rep = r.report();
    expect(&rep, &[(Some(2), Some(1), "hts")]);
    let d = &rep.differences[0];
    assert_eq!((d.approved.as_deref(), d.filed.as_deref()), (Some("8471500150"), Some("8471300100")));
}
