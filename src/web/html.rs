//! HTML building blocks of the dashboard: escaping (every string from a file goes through
//! [`esc`]), the page shell with its stylesheet, status badges, small formatting helpers.

use chrono::{DateTime, FixedOffset, NaiveDate};
use std::fmt::Write;

/// Escape text for HTML element content and quoted attribute values (the same escaping the
/// alert mails use).
pub fn esc(s: &str) -> String {
    crate::alert::render::html_escape(s)
}

/// Percent-encode a path segment or query value.
pub fn url_enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const CSS: &str = r#"
:root{--bg:#f5f6f8;--card:#fff;--ink:#1d2330;--muted:#667085;--line:#e4e7ec;--brand:#1f4e8c;
--ok:#067647;--okbg:#dcfae6;--warn:#b54708;--warnbg:#fef0c7;--bad:#b42318;--badbg:#fee4e2;--info:#175cd3;--infobg:#d1e9ff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
header{background:var(--brand);color:#fff}
header nav{max-width:1240px;margin:0 auto;padding:0 20px;display:flex;gap:4px;align-items:center;height:52px}
header .brand{font-weight:700;font-size:17px;margin-right:20px;color:#fff;text-decoration:none;letter-spacing:.2px}
header nav a{color:#dbe7f7;text-decoration:none;padding:6px 10px;border-radius:6px}
header nav a:hover,header nav a.on{background:rgba(255,255,255,.16);color:#fff}
main{max-width:1240px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:4px 0 16px}
h2{font-size:16px;margin:0 0 10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin-bottom:16px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
.grid>.card{margin-bottom:0}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:16px;margin-bottom:16px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.kpi .v{font-size:26px;font-weight:700}
.kpi .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.5px}
.kpi.bad .v{color:var(--bad)} .kpi.warn .v{color:var(--warn)}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
th{white-space:normal}
td.wrap{white-space:normal;min-width:200px}
.tw{overflow-x:auto}
th{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.4px;background:#fafbfc}
tbody tr:hover{background:#f9fafb}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
a{color:var(--brand)}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;background:#eef0f3;color:#475467;white-space:nowrap}
.badge.ok{background:var(--okbg);color:var(--ok)} .badge.warn{background:var(--warnbg);color:var(--warn)}
.badge.bad{background:var(--badbg);color:var(--bad)} .badge.info{background:var(--infobg);color:var(--info)}
.muted{color:var(--muted)}
.chart svg{width:100%;height:auto;display:block}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;margin:0}
dl.facts dt{color:var(--muted)} dl.facts dd{margin:0}
form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
form.filters input,form.filters select{padding:6px 8px;border:1px solid #d0d5dd;border-radius:6px;font:inherit;min-width:120px}
button{padding:7px 14px;border:0;border-radius:6px;background:var(--brand);color:#fff;font:inherit;cursor:pointer}
.pager{display:flex;gap:12px;margin-top:12px}
.empty{color:var(--muted);font-style:italic;padding:8px 0}
footer{max-width:1240px;margin:0 auto;padding:0 20px 24px;color:var(--muted);font-size:12px}
"#;

/// The page shell. `title` and `body` must already be escaped HTML.
pub fn page(title: &str, active: &str, now: DateTime<FixedOffset>, body: &str) -> String {
    let mut nav = String::new();
    for (href, label) in [
        ("/", "Overview"),
        ("/entries", "Entries"),
        ("/brokers", "Brokers"),
        ("/deadlines", "Deadlines"),
        ("/recovery", "Recovery"),
    ] {
        let on = if href == active { " class=\"on\"" } else { "" };
        let _ = write!(nav, "<a href=\"{href}\"{on}>{label}</a>");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · entrywatch</title><style>{CSS}</style></head>\
<body><header><nav><a class=\"brand\" href=\"/\">entrywatch</a>{nav}</nav></header>\
<main>{body}</main><footer>entrywatch · read-only · as of {now} · <a href=\"/deadlines.ics\">calendar</a> · \
<a href=\"/api/overview\">JSON</a> · <a href=\"/metrics\">metrics</a></footer></body></html>\n",
        now = now.format("%Y-%m-%d %H:%M %:z"),
    )
}

/// The colour class for a status word.
pub fn tone(status: &str) -> &'static str {
    match status {
        "accepted" | "released" | "liquidated" | "none" | "final" | "paid" | "as-filed" | "done" => "ok",
        "filed" | "pending" | "preliminary" | "minor" | "scheduled" | "extended" | "estimated" | "warning" => "warn",
        "rejected" | "held" | "major" | "suspended" | "cancelled" | "deleted" | "overdue" | "critical" => "bad",
        "unliquidated" | "no-pre-entry" | "info" => "info",
        _ => "",
    }
}

/// A status badge (the status is escaped).
pub fn badge(status: &str) -> String {
    format!("<span class=\"badge {}\">{}</span>", tone(status), esc(status))
}

/// Link to an entry page (escaped).
pub fn entry_link(entry: &str) -> String {
    format!("<a class=\"mono\" href=\"/entries/{}\">{}</a>", url_enc(entry), esc(entry))
}

pub fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub fn time(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M %:z").to_string()
}

/// `<td class="n">` with dollars from cents.
pub fn money_td(cents: i64) -> String {
    format!("<td class=\"n\">{}</td>", crate::report::money(cents))
}

/// An empty-state paragraph.
pub fn empty(text: &str) -> String {
    format!("<p class=\"empty\">{}</p>", esc(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(url_enc("EEE-1234567-3"), "EEE-1234567-3");
        assert_eq!(url_enc("a b/<"), "a%20b%2F%3C");
    }
}
