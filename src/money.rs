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
}
