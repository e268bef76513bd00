//! Money as entrywatch prints it, from integer cents: the one formatter every output uses
//! (`entry --json`, reports, mail, the dashboard, exports).

/// Cents → `1650.00`, `-0.05` (JSON and CSV values: no symbol, no grouping).
pub fn plain(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Digits grouped by thousands: `1234567` → `1,234,567`.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Cents → `$1,650.00` (text for people: mail, the dashboard, `entry`).
pub fn words(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}${}.{:02}", group(a / 100), a % 100)
}

/// Whole dollars → `$10,000` (text).
pub fn dollars_words(usd: i64) -> String {
    let sign = if usd < 0 { "-" } else { "" };
    format!("{sign}${}", group(usd.unsigned_abs()))
}

/// An amount in cents that prints (and serialises) as [`plain`]: `"1650.00"`. Reads back
/// from that string or from a JSON number of dollars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cents(pub i64);

impl std::fmt::Display for Cents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&plain(self.0))
    }
}

impl serde::Serialize for Cents {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&plain(self.0))
    }
}

/// `"1650.00"`, `"-0.05"`, `"12"` → cents; anything else is `None`.
fn parse_plain(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let v = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

impl<'de> serde::Deserialize<'de> for Cents {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cents, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => {
                parse_plain(&s).map(Cents).ok_or_else(|| serde::de::Error::custom(format!("not an amount: {s:?}")))
            }
            serde_json::Value::Number(n) => n
                .as_f64()
                .map(|f| Cents((f * 100.0).round() as i64))
                .ok_or_else(|| serde::de::Error::custom("not an amount")),
            other => Err(serde::de::Error::custom(format!("not an amount: {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_from_integers() {
        assert_eq!(plain(165000), "1650.00");
        assert_eq!(plain(-5), "-0.05");
        assert_eq!(plain(0), "0.00");
        assert_eq!(plain(i64::MIN), "-92233720368547758.08");
        assert_eq!(words(123456789), "$1,234,567.89");
        assert_eq!(words(-100), "-$1.00");
        assert_eq!(words(99), "$0.99");
        assert_eq!(dollars_words(10000), "$10,000");
        assert_eq!(dollars_words(999), "$999");
    }

    #[test]
    fn cents_round_trip_through_json() {
        for c in [0i64, 5, -5, 165000, -123456789] {
            let j = serde_json::to_string(&Cents(c)).unwrap();
            assert_eq!(serde_json::from_str::<Cents>(&j).unwrap(), Cents(c), "{j}");
        }
        assert_eq!(serde_json::from_str::<Cents>("\"12\"").unwrap(), Cents(1200));
        assert_eq!(serde_json::from_str::<Cents>("12.5").unwrap(), Cents(1250));
        assert!(serde_json::from_str::<Cents>("\"1.234\"").is_err());
        assert!(serde_json::from_str::<Cents>("\"abc\"").is_err());
    }
}
