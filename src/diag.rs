//! The registry of every diagnostic code entrywatch emits: its severity, the acknowledgment
//! code or CBP condition it maps to, and a one-line meaning. docs/codes.md is generated from it
//! ([`markdown`]); tests/diag_codes.rs checks that the registry, docs/codes.md and the codes the
//! sources emit are the same set.

/// How a code is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    /// Either, by the case (the meaning says when).
    Either,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Either => "error or warning",
        }
    }
}

/// One diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiagCode {
    pub code: &'static str,
    pub level: Level,
    /// The X12 acknowledgment code (`TA105:021`, `AK304:2` ...) or the CBP condition (`X40`)
    /// it maps to; empty when none.
    pub ack: &'static str,
    pub meaning: &'static str,
}

/// A family of codes: its prefix, a title and what it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub prefix: &'static str,
    pub title: &'static str,
    pub about: &'static str,
}

/// The families, in the order docs/codes.md lists them. A code belongs to the first family
/// whose prefix it starts with and is followed by three digits.
pub const FAMILIES: &[Family] = &[
    Family {
        prefix: "P",
        title: "Files (`Pnnn`)",
        about: "Whether a file can be read at all: its format, size and kind.",
    },
    Family {
        prefix: "X12E",
        title: "X12 (`X12Ennn`, `X12Wnnn`)",
        about: "The X12 reader: envelope and structure. Each maps to the acknowledgment code it \
                produces in a TA1, 997 or 999 (IK304/IK403 use the AK304/AK403 numbers; AK403 \
                12 and 13 exist from 5010 on). An element error makes its segment an AK3 with \
                AK304 8 and the set AK5 R with AK502 5.",
    },
    Family { prefix: "X12W", title: "", about: "" },
    Family {
        prefix: "ABIE",
        title: "ABI (`ABIEnnn`)",
        about: "The ABI reader: records, fields and the A/B/Y/Z envelope, with the CBP condition \
                (CATAIR Appendix) each corresponds to. On ingest, a record-level error in a \
                transaction that names its entry is applied as a warning and shown on the entry \
                as a finding; envelope and framing errors make the file unreadable.",
    },
    Family {
        prefix: "I",
        title: "Interpretation (`Innn`)",
        about: "A file the readers accept but whose content cannot (all) become facts.",
    },
    Family { prefix: "CSV", title: "Pre-entry CSV (`CSVnnn`)", about: "The approved pre-entry CSV reader." },
    Family { prefix: "ACE", title: "ACE reports (`ACEnnn`)", about: "ACE ES-003 entry summary exports." },
    Family { prefix: "RCL", title: "Refund results (`RCLnnn`)", about: "Refund (recovery) result files." },
    Family {
        prefix: "G",
        title: "Grammars (`Gnnn`)",
        about: "Problems in grammar and code list files (`grammars check`, start-up). `G0xx` any \
                file, `G1xx` X12, `G2xx` ABI, `G3xx` code lists, `G4xx` remedies. Each names the \
                file and, where the problem sits on one line, the line.",
    },
];

const fn c(code: &'static str, level: Level, ack: &'static str, meaning: &'static str) -> DiagCode {
    DiagCode { code, level, ack, meaning }
}

use Level::{Error as E, Warning as W};

/// Every code, by family.
pub const CODES: &[DiagCode] = &[
    // Files
    c("P001", E, "", "unknown format: not X12 (no ISA), not ABI (no A batch header), not a pre-entry CSV"),
    c("P002", E, "", "the file is larger than the inbox's `max-file-bytes`: not read"),
    c("P003", E, "", "a symbolic link in an inbox: links are not followed"),
    c("P099", W, "", "further diagnostics were not kept (the first 1,000 are listed)"),
    // X12
    c("X12E001", E, "TA105:024", "the file does not start with ISA, or data after the last IEA is not an interchange"),
    c("X12E002", W, "", "UTF-16 input decoded"),
    c("X12E003", E, "", "UTF-16 input that cannot be decoded"),
    c("X12E004", E, "TA105:023", "the file ends inside the ISA"),
    c("X12E005", W, "", "ISA not 106 characters; delimiters recovered by counting separators"),
    c("X12E006", E, "TA105:026", "ISA separators not found even by counting"),
    c("X12E007", E, "TA105:026/027/024", "unusable delimiter (element 026, component 027, terminator 024)"),
    c("X12E008", W, "", "CR/LF inside the ISA dropped (hard-wrapped interchange)"),
    c("X12E009", W, "", "ISA11 `-`/`.`/`+` not used as repetition separator"),
    c(
        "X12E010",
        E,
        "TA105:nnn",
        "ISA field invalid: ISA13 (018), ISA09 date (014), ISA10 time (015), ISA12 (017), ISA14 (019), ISA15 (020)",
    ),
    c("X12E011", W, "", "the version has no grammar; the nearest defined one is used"),
    c("X12E020", E, "TA105:001", "IEA02 differs from ISA13"),
    c("X12E021", E, "TA105:021", "IEA01 differs from the number of groups"),
    c("X12E022", E, "TA105:023", "interchange ends without IEA (end of file, or a new ISA)"),
    c("X12E023", W, "TA105:025", "ISA13 repeated for the same sender within the file"),
    c("X12E024", W, "", "the last segment has no terminator"),
    c(
        "X12E025",
        E,
        "",
        "an interchange larger than the streamed reader holds (64 MiB or 2,000,000 segments): not read, the file is not applied",
    ),
    c("X12E030", E, "AK905:4", "GE02 differs from GS06"),
    c("X12E031", E, "AK905:5", "GE01 differs from the number of sets"),
    c("X12E032", E, "AK905:3", "group without GE"),
    c("X12E033", E, "AK905:19", "GS06 repeated within the interchange"),
    c("X12E034", W, "", "GS01 not among the set's functional ids"),
    c("X12E036", E, "TA105:024", "element error in GS/GE/IEA/TA1/ISB/ISE"),
    c("X12E037", E, "TA105:024", "GE without GS"),
    c("X12E040", E, "AK502:2", "set without SE"),
    c("X12E041", E, "AK502:3", "SE02 differs from ST02"),
    c("X12E042", E, "AK502:4", "SE01 differs from the number of segments"),
    c("X12E043", E, "AK502:23", "ST02 repeated within the group"),
    c("X12E044", W, "AK502:1", "transaction set has no grammar (envelope checked only; AK502 1 if rejected)"),
    c("X12E045", E, "TA105:024", "segment outside a transaction set, or ST outside a group"),
    c("X12E050", E, "AK304:1", "unrecognized segment id"),
    c("X12E051", E, "AK304:2", "unexpected segment"),
    c("X12E052", E, "AK304:3", "mandatory segment missing"),
    c("X12E053", E, "AK304:4", "loop occurs over maximum times"),
    c("X12E054", E, "AK304:5", "segment exceeds maximum use"),
    c("X12E055", E, "AK304:6", "segment not in the defined transaction set"),
    c("X12E056", E, "AK304:7", "segment not in proper sequence"),
    c("X12E057", E, "AK304:n", "other segment error (reserved)"),
    c("X12E060", E, "AK403:1", "mandatory element missing"),
    c("X12E061", E, "AK403:2", "conditional required element missing (reserved: relational rules are not checked)"),
    c("X12E062", E, "AK403:3", "too many elements"),
    c("X12E063", E, "AK403:4", "element too short"),
    c("X12E064", E, "AK403:5", "element too long"),
    c("X12E065", E, "AK403:6", "invalid character (including non-numeric N/R)"),
    c("X12E066", E, "AK403:7", "invalid code value"),
    c("X12E067", E, "AK403:8", "invalid date"),
    c("X12E068", E, "AK403:9", "invalid time"),
    c("X12E069", E, "AK403:12", "too many repetitions"),
    c("X12E070", E, "AK403:13", "too many components"),
    c("X12E071", E, "AK403:n", "other element error (reserved)"),
    c("X12E098", E, "", "errors past the first 1,000 diagnostics were not kept: the file is not applied"),
    c("X12E099", W, "", "further diagnostics were not kept (the first 1,000 are listed)"),
    c("X12W066", W, "", "a code CBP sent is not in our list: CBP's set is applied, not rejected"),
    // ABI
    c("ABIE001", E, "", "no records in the file"),
    c("ABIE002", W, "X42", "record shorter than 80 characters, padded"),
    c("ABIE003", E, "", "record longer than 80 characters, truncated"),
    c("ABIE004", E, "X40", "non-printable byte"),
    c("ABIE005", W, "X40", "lowercase letters (read as uppercase)"),
    c("ABIE006", W, "", "empty line between records"),
    c("ABIE010", W, "X34", "unknown record identifier for the block's application (kept verbatim)"),
    c("ABIE011", E, "X35", "record before its parent (e.g. a 50 with no 40)"),
    c("ABIE012", E, "", "record repeated more often than allowed"),
    c("ABIE013", E, "X35", "transaction does not begin with its start record"),
    c("ABIE020", E, "", "mandatory field blank"),
    c("ABIE021", E, "X40", "N/(S)N/X field does not fit its class"),
    c("ABIE022", E, "", "D field is not a real MMDDYY date"),
    c("ABIE023", W, "X39", "data found in filler"),
    c("ABIE024", W, "X40", "A/AN field holds other characters"),
    c("ABIE025", W, "", "code not in the field's code list: applied, meaning unknown"),
    c("ABIE030", W, "", "entry number check digit differs from Appendix E"),
    c("ABIE031", E, "", "entry number malformed"),
    c("ABIE040", W, "", "block without a batch header (A)"),
    c("ABIE041", E, "X06", "batch trailer (Z) missing"),
    c("ABIE042", E, "X14", "Z does not match A (site, sender, office), or Z without A"),
    c("ABIE043", W, "", "Z transmission date differs from A"),
    c("ABIE044", E, "X05", "block trailer (Y) missing"),
    c("ABIE045", E, "X32", "Y does not match B (port, filer, application), or Y without B"),
    c("ABIE046", E, "", "Y image count differs from the records in the block"),
    c("ABIE047", E, "X19", "block application id conflicts with the batch's"),
    c("ABIE048", E, "X12", "application id with no grammar"),
    c("ABIE049", E, "X03", "record outside a block"),
    c("ABIE098", E, "", "errors past the first 1,000 diagnostics were not kept: the file is not applied"),
    c("ABIE099", W, "", "further diagnostics were not kept (the first 1,000 are listed)"),
    // Interpretation
    c("I001", E, "", "a pre-entry CSV arrived on an inbox whose role is not `approved`"),
    c("I101", W, "", "X12 X4 whose X404 is not an entry number: the disposition is not tied to an entry"),
    c("I102", E, "", "the 350 grammar does not name the X4/K1 elements the interpreter reads"),
    c("I202", E, "", "a block before any A batch header"),
    c("I204", W, "", "bad entry number (filer code + entry number fields): the transaction is not applied"),
    c("I205", W, "", "a numeric field that is not a number (the message names the field)"),
    c("I206", W, "", "a date field that is not MMDDYY (the message names the field)"),
    c("I207", E, "", "application not interpreted"),
    c("I208", W, "", "record before its header record (50 before 40, JC before JB ...)"),
    c("I209", E, "", "no Z trailer (truncated file?)"),
    c("I210", E, "", "B/Y application mismatch, or a block with no Y"),
    c("I211", W, "", "a record the application's interpretation does not use"),
    c("I212", W, "", "ACE SYSTEM FAILURE in an AX: not processed, retransmit"),
    c("I213", E, "", "the grammar (e.g. a `grammar-dir` folder) has no field the interpreter reads"),
    c("I214", W, "", "transactions that could not be tied to an entry were not applied"),
    c("I215", W, "", "AX condition code not in ax_conditions: applied, meaning unknown"),
    c("I240", W, "", "an ER summary group lacks a record the Output Record Structure Map makes mandatory"),
    c("I241", W, "", "ER returned a condition (the message gives CBP's text)"),
    // Pre-entry CSV
    c("CSV001", E, "", "no readable header row, or a required column is missing"),
    c("CSV002", E, "", "unreadable row"),
    c("CSV003", E, "", "a number field that is not a number"),
    c("CSV004", E, "", "a row with no entry_number and not both importer_number and broker_reference"),
    c("CSV005", E, "", "a header but no rows"),
    c("CSV006", E, "", "bad entry number"),
    // ACE
    c("ACE001", E, "", "an ACE report arrived on an inbox whose role is not `ace`"),
    c("ACE002", E, "", "the ES-003 export cannot be read (header or format)"),
    c("ACE003", W, "", "a row or a value of the export cannot be read; the row or value is left out"),
    c("ACE004", W, "", "a line and tariff appear twice; the later row is kept"),
    c("ACE005", W, "", "the export holds no entry rows"),
    c("ACE006", E, "", "no row names an entry number that can be read: not tied to an entry"),
    // Refund results
    c("RCL001", E, "", "a refund result file arrived on an inbox whose role is not `refund-results`"),
    c("RCL002", E, "", "the result file has no header entrywatch can map"),
    c("RCL003", W, "", "an unreadable row or value: the row or value is not applied"),
    c("RCL004", W, "", "a status entrywatch does not know: applied as written, a person should look"),
    c("RCL006", E, "", "no row can be tied to an entry"),
    // Grammars
    c("G001", E, "", "a grammar folder or file cannot be read"),
    c("G002", E, "", "TOML syntax or shape error (unknown key, wrong type)"),
    c("G003", E, "", "a grammar file outside x12/, abi/, codes/ or remedies/"),
    c("G101", E, "", "X12 file of unknown kind"),
    c("G102", E, "", "X12 element or segment spec malformed"),
    c("G103", E, "", "X12 element of unknown type"),
    c("G104", E, "", "X12 element min/max or repeat invalid, or a structure count invalid"),
    c("G105", E, "", "X12 element names a code list that does not exist"),
    c("G106", E, "", "X12 envelope, dictionary or set defined twice"),
    c("G107", E, "", "X12 structure (loops, segments) malformed"),
    c("G108", E, "", "X12 structure uses a segment no dictionary defines"),
    c("G109", E, "", "X12 dictionary's base dictionary not found"),
    c("G110", E, "", "X12 file lacks a required key, or no segment dictionary at all"),
    c("G111", E, "", "the X12 envelope grammar does not define a segment the reader needs"),
    c("G112", E, "", "X12 structure does not start with ST and end with SE"),
    c("G201", E, "", "ABI record fields do not tile columns 1-80 exactly"),
    c("G202", E, "", "ABI record defined twice in a file"),
    c("G203", E, "", "ABI field names a code list that does not exist"),
    c("G204", E, "", "ABI parent, start or entry record (or field) unknown"),
    c("G205", E, "", "ABI application (or the envelope) defined twice"),
    c("G206", E, "", "ABI decimals on a non-numeric field"),
    c("G207", E, "", "ABI record's first field is not `record_id`, or its select is outside columns 1-80"),
    c("G208", E, "", "no ABI envelope grammar (application = \"envelope\")"),
    c("G209", E, "", "ABI record neither starts a transaction nor has a parent"),
    c("G210", E, "", "ABI filler not named `filler` with class S"),
    c("G301", E, "", "code list defined twice"),
    c("G302", E, "", "code appears twice in a list"),
    c("G303", E, "", "code without a meaning"),
    c("G304", E, "", "`removes` on a code whose effect is neither hold-removed nor released"),
    c("G305", E, "", "`removes` names a code (or `removes-from` a list) that is not defined"),
    c("G401", E, "", "the remedies file is missing"),
    c("G402", E, "", "remedy or program declared twice"),
    c("G403", E, "", "remedy or program window invalid"),
    c("G404", E, "", "duty program headings or dates invalid"),
    c("G405", E, "", "refund program names an unknown duty program, remedy or hold"),
    c("G406", E, "", "remedy, program, fact or exclusion without a source"),
    c("G407", E, "", "refund program upload format invalid"),
    c("G408", E, "", "refund program exclusion invalid"),
];

/// Look a code up.
pub fn get(code: &str) -> Option<&'static DiagCode> {
    CODES.iter().find(|c| c.code == code)
}

/// Whether `s` is a diagnostic code's shape: a family prefix and three digits.
pub fn is_code_shape(s: &str) -> bool {
    FAMILIES
        .iter()
        .any(|f| s.strip_prefix(f.prefix).is_some_and(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit())))
}

/// The family a code belongs to.
pub fn family_of(code: &str) -> Option<&'static Family> {
    FAMILIES
        .iter()
        .find(|f| code.strip_prefix(f.prefix).is_some_and(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit())))
}

/// docs/codes.md: every code, by family.
pub fn markdown() -> String {
    let mut s = String::from(
        "# Diagnostic codes\n\n\
         Every problem entrywatch reports carries a stable code. This page is generated from the \
         registry in `src/diag.rs` (`UPDATE_CODES_MD=1 cargo test --test diag_codes` rewrites \
         it); a test keeps the two and the codes the sources emit the same.\n\n\
         Severity: an `error` makes a file invalid (`ok: false`; quarantined unless the \
         interpreter can apply the rest), a `warning` does not.\n",
    );
    for f in FAMILIES.iter().filter(|f| !f.title.is_empty()) {
        s.push_str(&format!(
            "\n## {}\n\n{}\n\n| Code | Severity | Ack / CBP condition | Meaning |\n|---|---|---|---|\n",
            f.title, f.about
        ));
        let members = CODES.iter().filter(|c| {
            family_of(c.code).is_some_and(|g| g.prefix == f.prefix || (f.prefix == "X12E" && g.prefix == "X12W"))
        });
        for c in members {
            s.push_str(&format!("| {} | {} | {} | {} |\n", c.code, c.level.as_str(), c.ack, c.meaning));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_in_its_family_shape() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CODES {
            assert!(seen.insert(c.code), "{} twice", c.code);
            assert!(is_code_shape(c.code), "{} is not a code's shape", c.code);
            assert!(!c.meaning.is_empty(), "{} has no meaning", c.code);
        }
        assert_eq!(get("G305").map(|c| c.level), Some(Level::Error));
        assert!(get("Z999").is_none());
    }
}
