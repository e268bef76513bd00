//! Entry numbers (CATAIR Appendix E): parsing the accepted spellings, printing `EEE-1234567-3`, the check digit.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An entry number: 3-character filer code, 7-digit transaction number, check digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntryNumber {
    pub filer: String,
    pub number: String,
    pub check: u8,
}

/// Why a string is not an entry number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an entry number (expected EEE-1234567-3, EEE12345673 or EEE 1234567 3)")]
pub struct BadEntryNumber(pub String);

fn letter_digit(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'I' => Some(u32::from(c - b'A') + 1),
        b'J'..=b'R' => Some(u32::from(c - b'J') + 1),
        b'S'..=b'Z' => Some(u32::from(c - b'S') + 2),
        _ => None,
    }
}

/// The check digit for a filer code and 7-digit transaction number (Luhn mod 10 over the
/// 10-digit string, letters of the filer code converted per Appendix E). `None` when the
/// inputs are not 3 letters/digits and 7 digits.
pub fn check_digit(filer: &str, number: &str) -> Option<u8> {
    let f = filer.as_bytes();
    let n = number.as_bytes();
    if f.len() != 3 || n.len() != 7 || !n.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut digits = Vec::with_capacity(10);
    for &c in f {
        digits.push(letter_digit(c.to_ascii_uppercase())?);
    }
    digits.extend(n.iter().map(|&c| u32::from(c - b'0')));
    // Positions 1..=10; double the even positions (2, 4, ..., 10 = every other from the right).
    let sum: u32 =
        digits.iter().enumerate().map(|(i, &d)| if i % 2 == 1 { (d * 2) / 10 + (d * 2) % 10 } else { d }).sum();
    Some(((10 - sum % 10) % 10) as u8)
}

impl EntryNumber {
    /// Build from parts as they appear in ABI (filer code field + 8-character entry number field).
    pub fn from_parts(filer: &str, number_and_check: &str) -> Result<EntryNumber, BadEntryNumber> {
        format!("{}{}", filer.trim(), number_and_check.trim()).parse()
    }

    /// Whether the check digit is the computed one (a mismatch is a warning, not an error:
    /// CBP may authorise +1..+9 for filers that exhausted their numbers).
    pub fn check_ok(&self) -> bool {
        check_digit(&self.filer, &self.number) == Some(self.check)
    }

    /// The store key: `EEE12345673`.
    pub fn compact(&self) -> String {
        format!("{}{}{}", self.filer, self.number, self.check)
    }
}

impl FromStr for EntryNumber {
    type Err = BadEntryNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let cleaned: String =
            s.trim().chars().filter(|c| *c != '-' && *c != ' ').collect::<String>().to_ascii_uppercase();
        let b = cleaned.as_bytes();
        let bad = || BadEntryNumber(s.to_string());
        if b.len() != 11 {
            return Err(bad());
        }
        let (filer, rest) = cleaned.split_at(3);
        if !filer.bytes().all(|c| c.is_ascii_alphanumeric()) || !rest.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(EntryNumber { filer: filer.to_string(), number: rest[..7].to_string(), check: rest.as_bytes()[7] - b'0' })
    }
}

impl fmt::Display for EntryNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.filer, self.number, self.check)
    }
}

impl TryFrom<String> for EntryNumber {
    type Error = BadEntryNumber;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<EntryNumber> for String {
    fn from(e: EntryNumber) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbp_worked_examples() {
        assert_eq!(check_digit("B76", "0324527"), Some(8));
        assert_eq!(check_digit("ABC", "1234567"), Some(6));
        assert_eq!(check_digit("999", "9999999"), Some(0));
        assert_eq!(check_digit("EEE", "1234567"), Some(3));
    }

    #[test]
    fn accepted_spellings_print_the_same() {
        for s in ["EEE-1234567-3", "EEE12345673", "EEE 1234567 3", "eee-1234567-3"] {
            let e: EntryNumber = s.parse().unwrap();
            assert_eq!(e.to_string(), "EEE-1234567-3");
            assert!(e.check_ok());
        }
        let e: EntryNumber = "EEE-1234567-4".parse().unwrap();
        assert!(!e.check_ok());
        assert!("EE-1234567-3".parse::<EntryNumber>().is_err());
        assert!("EEE-12345X7-3".parse::<EntryNumber>().is_err());
    }

    #[test]
    fn letters_map_per_appendix_e() {
        // S→2 ... Z→9, J→1: "SJZ" is "219".
        assert_eq!(check_digit("SJZ", "0000000"), check_digit("219", "0000000"));
    }
}
