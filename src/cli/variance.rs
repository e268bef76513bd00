//! `entrywatch variance ENTRY [--config PATH] [--json | --csv]`: the filing against the approved
//! pre-entry, computed checks and liquidation, re-evaluated with the current `[variance]` config.

use super::dispatch::{Ctx, Io};
use super::{EXIT_OK, EXIT_USAGE};
use crate::variance::{evaluate, render_csv, render_text};

/// Output format of `variance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Text,
    Json,
    Csv,
}

/// `variance ENTRY` against an open store; returns the exit code (0 shown, 1 no such entry,
/// 2 usage/config).
pub fn variance_on(ctx: &Ctx, entry: &str, format: Format, io: &mut Io) -> i32 {
    let (_, e, _) = match super::dispatch::load_named(ctx, entry, io) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let config = &ctx.config;
    let problems = crate::config::validate_variance(&config.variance);
    if !problems.is_empty() {
        for p in problems {
            let _ = writeln!(io.err, "error: {p}");
        }
        return EXIT_USAGE;
    }
    let Ok(grammars) = super::parse::load_grammars_to(config.grammar_dir.as_deref(), io.err) else {
        return EXIT_USAGE;
    };
    let report = evaluate(&e, e.pre_entry.as_ref(), &config.variance, &grammars);
    let _ = match format {
        Format::Json => writeln!(io.out, "{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Format::Csv => write!(io.out, "{}", render_csv(&report)),
        Format::Text => write!(io.out, "{}", render_text(&report)),
    };
    EXIT_OK
}
