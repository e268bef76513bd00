//! Synthetic ABI files for one entry's life (AE, AX, SO, PF, ER), for tests, benchmarks and demos.
//!
//! Positions follow reference/abi.md; values are illustrative (not real entries).

use crate::entry_number::check_digit;

/// An 80-column record with `fields` placed at 1-based positions.
pub fn record(fields: &[(usize, &str)]) -> String {
    let mut r = vec![b' '; 80];
    for (pos, text) in fields {
        for (k, b) in text.bytes().enumerate() {
            if let Some(slot) = r.get_mut(pos - 1 + k) {
                *slot = b;
            }
        }
    }
    String::from_utf8_lossy(&r).trim_end().to_string()
}

/// The 8-character entry number field (7 digits + check digit) for a transaction number.
pub fn entry_field(filer: &str, tx: u32) -> String {
    let n = format!("{:07}", tx % 10_000_000);
    format!("{n}{}", check_digit(filer, &n).unwrap_or(0))
}

/// `EEE-1234567-3` for a filer and transaction number.
pub fn entry_display(filer: &str, tx: u32) -> String {
    let f = entry_field(filer, tx);
    format!("{filer}-{}-{}", &f[..7], &f[7..])
}

/// One CBP 350 interchange (numbered `n` from 1: ISA13, GS06 and the bill) with one X4: a
/// 1H hold at the port of discharge for entry `tx` of filer EEE, on a bill of its own
/// (samples/x12/350-holds-exam-release.x12 for the layout; secondary, reference/x12.md §1.3:
/// no CBP 350 guide is among the primary texts).
pub fn x12_350_hold(n: u64, tx: u32) -> String {
    let isa13 = format!("{:09}", n % 1_000_000_000);
    let gs06 = (n.saturating_sub(1) % 999_999_999) + 1;
    format!(
        "ISA*00*          *00*          *ZZ*CBPTEST        *ZZ*ENTRYWATCHTEST *260203*1012*^*00501*{isa13}*0*T*:~\n\
         GS*AU*CBPTEST*ENTRYWATCHTEST*20260203*1012*{gs06}*X*005010~\nST*350*0001~\n\
         M10*MAEU*11*DK*9321483*MAERSK ESSEX*612W~\nP4*2704*20260201*100*2704~\n\
         X4*MAEU{:09}*100*01*EEE{}*20260203*1012*1H**MAEU~\nK1*CBP HOLD AT PORT OF DISCHARGE~\n\
         SE*6*0001~\nGE*1*{gs06}~\nIEA*1*{isa13}~\n",
        n % 1_000_000_000,
        entry_field("EEE", tx)
    )
}

/// A whole ABI batch: A, B (with `b_extra` fields), the body records, Y with its count, Z.
pub fn batch(app: &str, date: &str, b_extra: &[(usize, &str)], body: &[String], filer: &str) -> Vec<u8> {
    let mut recs = vec![record(&[(1, "A"), (2, "2704"), (6, filer), (15, date), (26, app)])];
    let mut b = vec![(1, "B"), (4, "2704"), (8, filer), (11, app)];
    b.extend_from_slice(b_extra);
    recs.push(record(&b));
    recs.extend(body.iter().cloned());
    let count = format!("{:05}", body.len());
    recs.push(record(&[(1, "Y"), (4, "2704"), (8, filer), (11, app), (13, &count)]));
    recs.push(record(&[(1, "Z"), (2, "2704"), (6, filer), (15, date)]));
    let mut s = recs.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// AE entry summary (one line, one tariff, MPF + HMF), payment type 2 on the 02/10/26 statement.
pub fn ae(filer: &str, tx: u32, action: &str) -> Vec<u8> {
    AeSpec { filer, tx, action, ..AeSpec::default() }.build()
}

/// The AE entry summaries tests and benchmarks need, field by field: one line of HTS
/// 6110.20.2079 (duty 1,650.00), with MPF and HMF or with an IEEPA chapter 99 line instead.
#[derive(Debug, Clone)]
pub struct AeSpec<'a> {
    pub filer: &'a str,
    pub tx: u32,
    /// Record 10 action code (`A` add, `R` replace, ...).
    pub action: &'a str,
    pub entry_type: &'a str,
    /// Record 10 reconciliation issue code (blank: none).
    pub recon_issue: &'a str,
    /// The transmission date (MMDDYY): the batch's date.
    pub day: &'a str,
    /// Record 10 column 52, the statement (payment) date (MMDDYY).
    pub statement_date: &'a str,
    /// Record 11 entry and import dates (MMDDYY).
    pub entry_date: &'a str,
    pub import_date: &'a str,
    /// Record 11 column 61.
    pub r11_61: &'a str,
    /// Record 40 origin and export countries.
    pub origin: &'a str,
    /// MPF and HMF lines (62, 89) with the totals; without them the 90 record carries no fees.
    pub fees: bool,
    /// An IEEPA line (9903.01.25) with this duty, in cents.
    pub ieepa_cents: Option<u64>,
}

impl Default for AeSpec<'_> {
    fn default() -> Self {
        AeSpec {
            filer: "EEE",
            tx: 1_234_567,
            action: "A",
            entry_type: "01",
            recon_issue: "",
            day: "020226",
            statement_date: "021026",
            entry_date: "020226",
            import_date: "013126",
            r11_61: "CA",
            origin: "CN",
            fees: true,
            ieepa_cents: None,
        }
    }
}

impl AeSpec<'_> {
    /// The whole batch.
    pub fn build(&self) -> Vec<u8> {
        let en = entry_field(self.filer, self.tx);
        let bref = format!("BR{:07}", self.tx % 10_000_000);
        let mut ten = vec![
            (1, "10"),
            (3, self.action),
            (4, self.filer),
            (9, en.as_str()),
            (18, "2704"),
            (22, bref.as_str()),
            (34, self.entry_type),
            (36, "11"),
            (39, "X"),
        ];
        if !self.recon_issue.is_empty() {
            ten.push((47, self.recon_issue));
        }
        ten.extend([(51, "2"), (52, self.statement_date)]);
        let mut body = vec![
            record(&ten),
            record(&[(1, "11"), (3, "12-345678900"), (42, self.entry_date), (48, self.import_date), (61, self.r11_61)]),
            record(&[(1, "40"), (5, "001"), (9, self.origin), (11, self.origin), (13, "010526")]),
            record(&[
                (1, "50"),
                (3, "6110202079"),
                (14, "0000165000"),
                (25, "0000010000"),
                (36, "000000010000"),
                (48, "DOZ"),
            ]),
        ];
        let mut duty = 165_000u64;
        if let Some(c) = self.ieepa_cents {
            body.push(record(&[(1, "50"), (3, "9903012500"), (14, &format!("{c:010}")), (25, "0000000000")]));
            duty += c;
        }
        if self.fees {
            body.push(record(&[(1, "62"), (3, "499"), (6, "00003464")]));
            body.push(record(&[(1, "62"), (3, "501"), (6, "00001250")]));
            body.push(record(&[(1, "89"), (3, "499"), (6, "00000003464"), (17, "501"), (20, "00000001250")]));
        }
        let fees = if self.fees { "00000004714" } else { "00000000000" };
        body.push(record(&[(1, "90"), (3, &format!("{duty:011}")), (15, fees)]));
        batch("AE", self.day, &[], &body, self.filer)
    }
}

/// AX: accepted (version 00100) or rejected (condition 408).
pub fn ax(filer: &str, tx: u32, accepted: bool, date: &str) -> Vec<u8> {
    let en = entry_field(filer, tx);
    let bref = format!("BR{:07}", tx % 10_000_000);
    let mut body =
        vec![record(&[(1, "E0"), (4, "SUMMRY"), (11, "000001"), (18, "REF ID:"), (26, filer), (30, &en), (39, &bref)])];
    if accepted {
        body.push(record(&[
            (1, "E1"),
            (3, "A"),
            (5, "995"),
            (11, "SUMMARY HAS BEEN ADDED"),
            (51, filer),
            (56, &en),
            (64, "00100"),
            (69, &bref),
        ]));
    } else {
        body.push(record(&[(1, "E1"), (4, "F"), (5, "408"), (11, "COUNTRY OF ORIGIN UNKNOWN")]));
        body.push(record(&[
            (1, "E1"),
            (3, "R"),
            (4, "F"),
            (5, "999"),
            (11, "TRANSACTION DATA REJECTED"),
            (51, filer),
            (56, &en),
            (69, &bref),
        ]));
    }
    batch("AX", date, &[], &body, filer)
}

/// SO: exam ordered, FDA hold, CBP release (origin 05: intensive exam completed).
pub fn so_exam_fda_release(filer: &str, tx: u32) -> Vec<u8> {
    let en = entry_field(filer, tx);
    let body = vec![
        record(&[(1, "SO10"), (5, "2704"), (9, filer), (14, &en), (23, "01"), (25, "12-345678900"), (37, "MAEU")]),
        record(&[(1, "SO50"), (5, "020526"), (11, "0815"), (15, "95"), (17, "BILL ARRIVED")]),
        record(&[(1, "SO60"), (5, "020526"), (11, "0930"), (15, "03"), (17, "PENDING INTENSIVE EXAM")]),
        record(&[(1, "SO70"), (5, "FDA"), (8, "FOO"), (11, "020526"), (17, "1012"), (21, "02"), (23, "HOLD INTACT")]),
        record(&[(1, "SO60"), (5, "020926"), (11, "1405"), (15, "98"), (17, "RELEASED"), (57, "020926"), (63, "05")]),
    ];
    batch("SO", "020926", &[], &body, filer)
}

/// SO: CBP hold, release, hold removed (ends released).
pub fn so_hold_release_removed(filer: &str, tx: u32) -> Vec<u8> {
    let en = entry_field(filer, tx);
    let body = vec![
        record(&[(1, "SO10"), (5, "2704"), (9, filer), (14, &en), (23, "01"), (25, "12-345678900")]),
        record(&[(1, "SO50"), (5, "020326"), (11, "1012"), (15, "53"), (17, "CBP HOLD")]),
        record(&[(1, "SO60"), (5, "020426"), (11, "0900"), (15, "98"), (17, "RELEASED"), (57, "020426"), (63, "01")]),
        record(&[(1, "SO50"), (5, "020526"), (11, "1100"), (15, "56"), (17, "CBP HOLD REMOVED")]),
    ];
    batch("SO", "020526", &[], &body, filer)
}

/// PF: preliminary (or final) daily statement 2726041A01 printed 02/10/26.
pub fn pf(filer: &str, txs: &[u32], final_statement: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for &tx in txs {
        let en = entry_field(filer, tx);
        let bref = format!("BR{:07}", tx % 10_000_000);
        body.push(record(&[
            (1, "Q1"),
            (3, "2704"),
            (7, filer),
            (12, &en),
            (22, "12-345678900"),
            (34, "021026"),
            (40, "00000165000"),
            (51, "00000000000"),
            (63, &bref),
            (78, "01"),
        ]));
        body.push(record(&[(1, "QA"), (3, "01"), (5, "499"), (8, "00000003464"), (19, "501"), (22, "00000001250")]));
    }
    let status = if final_statement { "F" } else { "P" };
    batch("PF", "021026", &[(13, status), (14, "2726041A01"), (24, "021026"), (30, "2")], &body, filer)
}

/// ER: liquidation scheduled for 2026-12-11 (status 2), or liquidated (status 1) with reason 02.
pub fn er(filer: &str, tx: u32, liquidated: bool) -> Vec<u8> {
    let en = entry_field(filer, tx);
    let body = vec![
        record(&[
            (1, "JB"),
            (3, filer),
            (8, &en),
            (16, "00100"),
            (21, "020226101500AM"),
            (43, if liquidated { "1" } else { "2" }),
            (44, "121126"),
            (51, "CEE001"),
        ]),
        record(&[
            (1, "JC"),
            (3, "1"),
            (4, "1"),
            (5, "020226"),
            (12, "1"),
            (13, "020926"),
            (20, "2"),
            (21, "021726"),
            (42, "NO"),
        ]),
        record(&[
            (1, "JD"),
            (4, "020226"),
            (10, "000000165000"),
            (22, "000000000000"),
            (34, "000000004714"),
            (46, "000000000000"),
            (58, "000000000000"),
            (70, if liquidated { "02" } else { "" }),
        ]),
    ];
    batch("ER", "022026", &[], &body, filer)
}

/// The five files of one entry's life: (file name, bytes) for AE, AX, SO, PF, ER.
pub fn life_files(filer: &str, tx: u32) -> Vec<(String, Vec<u8>)> {
    vec![
        (format!("ae-{tx}.txt"), ae(filer, tx, "A")),
        (format!("ax-{tx}.txt"), ax(filer, tx, true, "020226")),
        (format!("so-{tx}.txt"), so_hold_release_removed(filer, tx)),
        (format!("pf-{tx}.txt"), pf(filer, &[tx], false)),
        (format!("er-{tx}.txt"), er(filer, tx, false)),
    ]
}
