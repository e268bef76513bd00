//! `entrywatch report recovery` and `entrywatch recovery export --program P`: duty recovery
//! over the store (rules from grammars/remedies/, entries evaluated on the clock's day).

use super::dispatch::{Ctx, Io};
use super::report::ReportArgs;
use super::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::deadline::local_today;
use crate::recovery::{export_chunks, EntryRecovery, Program, Remedies};
use crate::report::recovery::{report, totals, write_json, write_totals_text};
use crate::report::{write_report, Format};
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// `entrywatch recovery ...`.
#[derive(Debug, Subcommand)]
pub enum RecoveryCommand {
    /// Write a refund program's upload CSVs (header, at most max-rows entries per file, no
    /// duplicates, 11-character entry numbers), listing only entries open for it today.
    Export {
        #[arg(long)]
        config: Option<PathBuf>,
        /// The refund program (grammars/remedies/), e.g. cape.
        #[arg(long)]
        program: String,
        /// Folder the files are written to (created when missing); `--out` as interface.md
        /// names it.
        #[arg(long, visible_alias = "out", default_value = ".")]
        out_dir: PathBuf,
    },
}

/// The rules and the evaluated entries, or the exit code after printing the problem.
fn load(
    ctx: &Ctx,
    program: Option<&str>,
    io: &mut Io,
) -> Result<(Remedies, Vec<EntryRecovery>, chrono::NaiveDate), i32> {
    let grammars = super::parse::load_grammars_to(ctx.config.grammar_dir.as_deref(), io.err).map_err(|_| EXIT_USAGE)?;
    let rules = grammars.remedies;
    let known = || rules.programs.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ");
    match program {
        Some(p) if rules.program(p).is_none() => {
            let _ = writeln!(io.err, "error: no refund program {p:?}; programs: {}", known());
            return Err(EXIT_USAGE);
        }
        None if rules.programs.is_empty() => {
            let _ = writeln!(io.err, "error: grammars/remedies/ declares no refund program");
            return Err(EXIT_USAGE);
        }
        _ => {}
    }
    let today = local_today(ctx.clock.now(), ctx.config.timezone());
    // Only the entries the program concerns are read (the recovery index's postings).
    let cal = crate::calendar::Calendar::from_config(&ctx.config.deadlines);
    let id = pick(&rules, program).id.clone();
    let recs: Result<Vec<EntryRecovery>, _> =
        crate::query::recovery::evaluated(&ctx.store, &rules, &cal, &id, today).collect();
    match recs {
        Ok(recs) => Ok((rules, recs, today)),
        Err(e) => {
            let _ = writeln!(io.err, "error: {e}");
            Err(EXIT_INVALID)
        }
    }
}

fn pick<'a>(rules: &'a Remedies, program: Option<&str>) -> &'a Program {
    // `load` checked that the program exists, or that there is at least one.
    program.and_then(|p| rules.program(p)).unwrap_or(&rules.programs[0])
}

/// `report recovery [--program P] [--format text|csv|json] [--importer] [--from] [--to]`.
pub fn report_on(ctx: &Ctx, args: &ReportArgs, io: &mut Io) -> i32 {
    let (rules, mut recs, today) = match load(ctx, args.program.as_deref(), io) {
        Ok(x) => x,
        Err(code) => return code,
    };
    recs.retain(|r| {
        args.importer.as_deref().is_none_or(|i| i.trim().is_empty() || r.importer == i.trim())
            && args.from.is_none_or(|f| r.entry_date.is_some_and(|d| d >= f))
            && args.to.is_none_or(|t| r.entry_date.is_some_and(|d| d <= t))
    });
    let program = pick(&rules, args.program.as_deref());
    let format = args.format();
    let written = match format {
        Format::Json => write_json(&recs, program, today, io.out),
        Format::Csv => write_report(report(&recs, program, today), Format::Csv, io.out).map(|_| ()),
        Format::Text => write_report(report(&recs, program, today), Format::Text, io.out)
            .and_then(|_| write_totals_text(&totals(&recs, program), io.out)),
    }
    .and_then(|()| io.out.flush());
    match written {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = writeln!(io.err, "error: writing the report: {e}");
            EXIT_USAGE
        }
    }
}

/// The file name of upload file `i` (1-based) of `n`.
pub fn file_name(program: &str, today: chrono::NaiveDate, i: usize) -> String {
    format!("{program}-{}-{i:03}.csv", today.format("%Y%m%d"))
}

/// `recovery export --program P --out-dir DIR`.
pub fn export_on(ctx: &Ctx, program: &str, out_dir: &Path, io: &mut Io) -> i32 {
    let (rules, recs, today) = match load(ctx, Some(program), io) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let p = pick(&rules, Some(program));
    let plan = export_chunks(p, &recs);
    if let Err(e) = std::fs::create_dir_all(out_dir) {
        let _ = writeln!(io.err, "error: cannot create {}: {e}", out_dir.display());
        return EXIT_USAGE;
    }
    for (i, text) in plan.files.iter().enumerate() {
        let path = out_dir.join(file_name(&p.id, today, i + 1));
        let tmp = path.with_extension("csv.tmp");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = writeln!(io.err, "error: cannot write {}: {e}", path.display());
            return EXIT_INVALID;
        }
        let _ = writeln!(io.out, "wrote {}", path.display());
    }
    let _ = writeln!(
        io.out,
        "{}: {} entries in {} file(s), {} claimed",
        p.id,
        plan.listed.len(),
        plan.files.len(),
        crate::report::money(plan.claimed_cents)
    );
    for (state, n) in &plan.left_out {
        let _ = writeln!(io.out, "left out: {n} {state}");
    }
    for bad in &plan.invalid {
        let _ = writeln!(io.err, "warning: {bad:?} is not an 11-character entry number; not listed");
    }
    EXIT_OK
}
