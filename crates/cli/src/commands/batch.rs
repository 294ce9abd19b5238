//! `delever sweep`, `delever mc` and `delever merge`: many runs, their shards and the merge.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use delever_batch::BatchError;
use delever_batch::grid::{Grid, Vary};
use delever_batch::mc::{self, Study, SummaryMeta};
use delever_batch::shard::{self, Shard, ShardHeader};
use delever_batch::sweep::Sweep;
use delever_report::batch::{
    DrawColumns, McDraw, RunFigures, SweepDoc, SweepRow, draws_csv, draws_jsonl,
};
use delever_report::{RunMeta, ScenarioNotes};
use delever_scenario::Scenario;

use crate::args::{BatchFormat, BatchOutputArgs, Cli};
use crate::output::{Outputs, Slot};
use crate::{Failure, exit};

use super::{Resolved, resolve};

/// Largest Monte Carlo study in one process (a typo guard: 10⁹ draws of even the
/// smallest scenario would run for days).
const MAX_DRAWS: u64 = 1_000_000_000;

fn batch_failure(e: &BatchError) -> Failure {
    let mut msg = format!("error: {e}");
    if let Some(h) = e.hint() {
        msg.push_str("\n  hint: ");
        msg.push_str(h);
    }
    Failure::input(msg)
}

/// Run `work` with a progress bar of `len` items on a terminal (none when quiet or
/// redirected); `work` calls the tick it is given once per finished item.
fn with_progress<T>(
    cli: &Cli,
    len: u64,
    what: &str,
    work: impl FnOnce(&(dyn Fn() + Sync)) -> T,
) -> T {
    let bar = (!cli.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(len);
        pb.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {what} [{{elapsed}} < {{eta}}, {{per_sec}}]"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    });
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let out = work(&tick);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    out
}

/// The scenario's text (for the fingerprint) and where it came from.
fn source_text(r: &Resolved) -> Result<String, Failure> {
    match r {
        // The scenario crate's reader: bounded, and it refuses FIFOs and devices rather
        // than blocking on them.
        Resolved::File(p) => {
            delever_scenario::read_text(p).map_err(|e| Failure::input(format!("{e}")))
        }
        Resolved::Embedded(_, text) => Ok((*text).to_owned()),
    }
}

fn shard_of(out: &BatchOutputArgs) -> Result<Option<Shard>, Failure> {
    let Some(s) = out.shard.as_deref() else {
        return Ok(None);
    };
    if out.format.is_some() {
        return Err(Failure::input(
            "error: --format does not apply with --shard: a shard writes a shard file\n  hint: give the format to `delever merge`",
        ));
    }
    Shard::parse(s).map(Some).map_err(|e| batch_failure(&e))
}

fn not_converged(figs: impl Iterator<Item = bool>) -> u64 {
    figs.filter(|c| !*c).count() as u64
}

fn converged(f: &RunFigures) -> bool {
    f.termination == "converged"
}

fn finish(failed: u64, what: &str) -> i32 {
    if failed > 0 {
        crate::notice(&format!(
            "note: {failed} {what} did not converge within the round limit; their rows say so (try --max-rounds)"
        ));
        exit::NOT_CONVERGED
    } else {
        exit::OK
    }
}

/// `delever sweep`.
pub fn sweep(
    cli: &Cli,
    scenario: Option<&str>,
    vary: &[String],
    out: &BatchOutputArgs,
    html: Option<&Path>,
    max_rounds: Option<u32>,
) -> Result<i32, Failure> {
    let params = vary
        .iter()
        .map(|v| Vary::parse(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| batch_failure(&e))?;
    let grid = Grid::new(params).map_err(|e| batch_failure(&e))?;
    let shard = shard_of(out)?;
    if shard.is_some() && html.is_some() {
        return Err(Failure::input(
            "error: --html does not apply with --shard\n  hint: give --html to `delever merge`",
        ));
    }
    let mut outputs = Outputs::new();
    let slots = BatchSlots::plan(&mut outputs, out.output.as_deref(), None, html)?;
    let resolved = resolve(scenario)?;
    let text = source_text(&resolved)?;
    // The name-must-equal-the-file-stem rule is a warning here, as in `run`.
    let template = super::load_template(&resolved)?;
    let sweep = Sweep::new(&template, &grid, max_rounds).map_err(|e| batch_failure(&e))?;
    let range = shard.unwrap_or(Shard::WHOLE).range(grid.len());
    tracing::info!(
        variants = grid.len(),
        from = range.start,
        to = range.end,
        "sweep"
    );
    let len = range.end - range.start;
    let rows = with_progress(cli, len, "variants", |tick| sweep.run(range, tick));
    let rows = rows.map_err(|e| batch_failure(&e))?;
    let failed = not_converged(rows.iter().map(|r| converged(&r.figures)));
    let base = template.base();
    if let Some(shard) = shard {
        let mut parts: Vec<Vec<u8>> = vec![b"sweep".to_vec(), text.into_bytes()];
        parts.extend(grid.params.iter().map(|p| {
            let vals: Vec<String> = p.values.iter().map(ToString::to_string).collect();
            format!("{}={}", p.path, vals.join(",")).into_bytes()
        }));
        parts.push(format!("{max_rounds:?}").into_bytes());
        let mut header = header("sweep", &parts, shard, grid.len(), base, sweep.kind_names());
        header.parameters = grid.paths();
        let text = shard::write(&header, &rows)
            .map_err(|e| Failure::input(format!("error: writing the shard: {e}")))?;
        outputs.put(slots.output, text);
        outputs.commit()?;
        return Ok(finish(failed, "variant(s)"));
    }
    let doc = SweepDoc {
        scenario: base.name.clone(),
        parameters: grid.paths(),
        kinds: sweep.kind_names(),
        variants: grid.len(),
        rows,
    };
    write_sweep(
        &doc,
        &super::meta(base),
        &super::html::notes(base),
        out.format.unwrap_or_default(),
        outputs,
        slots,
    )?;
    Ok(finish(failed, "variant(s)"))
}

fn header(
    command: &str,
    parts: &[Vec<u8>],
    shard: Shard,
    total: u64,
    base: &Scenario,
    kinds: Vec<String>,
) -> ShardHeader {
    let version = env!("CARGO_PKG_VERSION");
    // Carried so that `merge --html` shows them as the unsharded page does.
    let notes = super::html::notes(base);
    let mut all: Vec<&[u8]> = vec![version.as_bytes()];
    all.extend(parts.iter().map(Vec::as_slice));
    ShardHeader {
        delever_shard: shard::FORMAT,
        command: command.to_owned(),
        delever_version: version.to_owned(),
        fingerprint: shard::fingerprint(&all),
        shard: shard.k,
        shards: shard.n,
        total,
        scenario: base.name.clone(),
        description: base.description.clone(),
        as_of: base.as_of.clone(),
        assumptions: notes.assumptions,
        sources: notes.sources,
        parameters: Vec::new(),
        kinds,
        seed: None,
        distribution: None,
        assets: Vec::new(),
        lenders: Vec::new(),
    }
}

/// The planned destinations of a batch command's outputs.
#[derive(Clone, Copy)]
struct BatchSlots {
    output: Slot,
    /// `--draws-out`, and whether it is JSON lines.
    draws_out: Option<(Slot, bool)>,
    html: Option<Slot>,
}

impl BatchSlots {
    /// Check every destination before any work.
    fn plan(
        outputs: &mut Outputs,
        output: Option<&Path>,
        draws_out: Option<&Path>,
        html: Option<&Path>,
    ) -> Result<BatchSlots, Failure> {
        let output = outputs.plan("-o", output)?;
        let draws_out = draws_out
            .map(|p| {
                let jsonl = p.extension().is_some_and(|e| {
                    e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("json")
                });
                outputs.plan("--draws-out", Some(p)).map(|s| (s, jsonl))
            })
            .transpose()?;
        let html = html.map(|p| outputs.plan("--html", Some(p))).transpose()?;
        Ok(BatchSlots {
            output,
            draws_out,
            html,
        })
    }
}

fn write_sweep(
    doc: &SweepDoc,
    meta: &RunMeta,
    notes: &ScenarioNotes,
    format: BatchFormat,
    mut outputs: Outputs,
    slots: BatchSlots,
) -> Result<(), Failure> {
    let text = match format {
        BatchFormat::Table => doc.to_table(),
        BatchFormat::Json => doc.to_json(),
        BatchFormat::Jsonl => doc.to_jsonl(),
        BatchFormat::Csv => doc.to_csv(),
        BatchFormat::Markdown => {
            super::markdown(&format!("delever sweep {}", doc.scenario), || {
                doc.to_table()
            })
        }
    };
    if let Some(h) = slots.html {
        outputs.put(h, delever_report::html::sweep_page(doc, meta, notes));
    }
    outputs.put(slots.output, text);
    outputs.commit()
}

/// `delever mc`.
#[allow(clippy::too_many_arguments)]
pub fn mc(
    cli: &Cli,
    scenario: Option<&str>,
    draws: u64,
    seed: u64,
    out: &BatchOutputArgs,
    draws_out: Option<&Path>,
    html: Option<&Path>,
    max_rounds: Option<u32>,
) -> Result<i32, Failure> {
    if draws == 0 || draws > MAX_DRAWS {
        return Err(Failure::input(format!(
            "error: --draws {draws}: give between 1 and {MAX_DRAWS}\n  hint: split very large studies with --shard K/N"
        )));
    }
    let shard = shard_of(out)?;
    if shard.is_some() && (html.is_some() || draws_out.is_some()) {
        return Err(Failure::input(
            "error: --html and --draws-out do not apply with --shard\n  hint: give them to `delever merge`",
        ));
    }
    let mut outputs = Outputs::new();
    let slots = BatchSlots::plan(&mut outputs, out.output.as_deref(), draws_out, html)?;
    let resolved = resolve(scenario)?;
    let text = source_text(&resolved)?;
    let scenario = super::load_resolved(&resolved)?;
    let study = Study::new(&scenario, max_rounds).map_err(|e| batch_failure(&e))?;
    let range = shard.unwrap_or(Shard::WHOLE).range(draws);
    tracing::info!(
        draws,
        seed,
        from = range.start,
        to = range.end,
        "monte carlo"
    );
    let len = range.end - range.start;
    let rows = with_progress(cli, len, "draws", |tick| study.run(seed, range, tick));
    let rows = rows.map_err(|e| batch_failure(&e))?;
    let failed = not_converged(rows.iter().map(|r| converged(&r.figures)));
    let kinds = study.kind_names();
    let (assets, lenders) = (study.asset_names(), study.lender_names());
    if let Some(shard) = shard {
        let parts = vec![
            b"mc".to_vec(),
            text.into_bytes(),
            format!("draws={draws} seed={seed} max_rounds={max_rounds:?}").into_bytes(),
        ];
        let mut header = header("mc", &parts, shard, draws, &scenario, kinds);
        header.seed = Some(seed);
        header.distribution = Some(study.describe().to_owned());
        header.assets = assets;
        header.lenders = lenders;
        let text = shard::write(&header, &rows)
            .map_err(|e| Failure::input(format!("error: writing the shard: {e}")))?;
        outputs.put(slots.output, text);
        outputs.commit()?;
        return Ok(finish(failed, "draw(s)"));
    }
    let meta = SummaryMeta {
        scenario: &scenario.name,
        seed,
        distribution: study.describe(),
        kinds: &kinds,
        lenders: &lenders,
    };
    write_mc(
        &super::meta(&scenario),
        &super::html::notes(&scenario),
        &meta,
        &assets,
        &rows,
        out.format.unwrap_or_default(),
        outputs,
        slots,
    )?;
    Ok(finish(failed, "draw(s)"))
}

// One call site per way in (a run, a merge): a struct for the arguments would only
// rename them.
#[allow(clippy::too_many_arguments)]
fn write_mc(
    run: &RunMeta,
    notes: &ScenarioNotes,
    meta: &SummaryMeta<'_>,
    assets: &[String],
    draws: &[McDraw],
    format: BatchFormat,
    mut outputs: Outputs,
    slots: BatchSlots,
) -> Result<(), Failure> {
    let summary = mc::summary(meta, draws);
    let text = match format {
        BatchFormat::Table => summary.to_table(),
        BatchFormat::Json => summary.to_json(),
        BatchFormat::Jsonl => summary.to_json_line(),
        BatchFormat::Csv => summary.to_csv(),
        BatchFormat::Markdown => {
            super::markdown(&format!("delever mc {}", summary.scenario), || {
                summary.to_table()
            })
        }
    };
    if let Some((slot, jsonl)) = slots.draws_out {
        let cols = DrawColumns {
            kinds: meta.kinds,
            assets,
            lenders: meta.lenders,
        };
        let rows = if jsonl {
            draws_jsonl(&cols, draws)
        } else {
            draws_csv(&cols, draws)
        };
        outputs.put(slot, rows);
    }
    if let Some(h) = slots.html {
        outputs.put(
            h,
            delever_report::html::mc_page(&summary, draws, run, notes),
        );
    }
    outputs.put(slots.output, text);
    outputs.commit()
}

/// The files given, with each directory replaced by its `*.jsonl` files (sorted).
fn expand_dirs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|e| {
            Failure::input(format!(
                "error: {}: cannot list the directory: {e}",
                p.display()
            ))
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|f| f.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        if found.is_empty() {
            return Err(Failure::input(format!(
                "error: {}: no *.jsonl shard files in this directory\n  hint: give the files `--shard K/N -o FILE` wrote",
                p.display()
            )));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// The scenario as a merged header describes it.
fn header_meta(h: &ShardHeader) -> RunMeta {
    RunMeta {
        name: h.scenario.clone(),
        description: h.description.clone(),
        as_of: h.as_of.clone(),
    }
}

/// The scenario's assumptions and sources, as a merged header carries them.
fn header_notes(h: &ShardHeader) -> ScenarioNotes {
    ScenarioNotes {
        assumptions: h.assumptions.clone(),
        sources: h.sources.clone(),
    }
}

/// `delever merge`.
pub fn merge(
    files: &[PathBuf],
    format: BatchFormat,
    output: Option<&Path>,
    draws_out: Option<&Path>,
    html: Option<&Path>,
) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slots = BatchSlots::plan(&mut outputs, output, draws_out, html)?;
    let files = expand_dirs(files)?;
    let mut texts = Vec::with_capacity(files.len());
    for f in &files {
        // A shard is a regular file: a FIFO or a device would block or never end.
        if std::fs::metadata(f).is_ok_and(|m| !m.is_file()) {
            return Err(Failure::input(format!(
                "error: {}: not a regular file\n  hint: give the files `--shard K/N -o FILE` wrote",
                f.display()
            )));
        }
        let text = std::fs::read_to_string(f).map_err(|e| {
            Failure::input(format!(
                "error: {}: cannot read the file: {e}\n  hint: give the files `--shard K/N -o FILE` wrote",
                f.display()
            ))
        })?;
        texts.push((f.display().to_string(), text));
    }
    let command = texts.first().and_then(|(_, t)| shard::command(t));
    match command.as_deref() {
        Some("mc") => {
            let m = shard::merge::<McDraw>(&texts, |d| d.index).map_err(|e| batch_failure(&e))?;
            let failed = not_converged(m.rows.iter().map(|r| converged(&r.figures)));
            let distribution = m.header.distribution.clone().unwrap_or_default();
            let meta = SummaryMeta {
                scenario: &m.header.scenario,
                seed: m.header.seed.unwrap_or_default(),
                distribution: &distribution,
                kinds: &m.header.kinds,
                lenders: &m.header.lenders,
            };
            write_mc(
                &header_meta(&m.header),
                &header_notes(&m.header),
                &meta,
                &m.header.assets,
                &m.rows,
                format,
                outputs,
                slots,
            )?;
            Ok(finish(failed, "draw(s)"))
        }
        Some("sweep") => {
            if draws_out.is_some() {
                return Err(Failure::input(
                    "error: --draws-out applies to Monte Carlo shards; these are sweep shards",
                ));
            }
            let m = shard::merge::<SweepRow>(&texts, |r| r.index).map_err(|e| batch_failure(&e))?;
            let failed = not_converged(m.rows.iter().map(|r| converged(&r.figures)));
            let run = header_meta(&m.header);
            let notes = header_notes(&m.header);
            let doc = SweepDoc {
                scenario: m.header.scenario,
                parameters: m.header.parameters,
                kinds: m.header.kinds,
                variants: m.header.total,
                rows: m.rows,
            };
            write_sweep(&doc, &run, &notes, format, outputs, slots)?;
            Ok(finish(failed, "variant(s)"))
        }
        _ => {
            // Let the merge report what is wrong with the first file, with its name.
            let e = shard::merge::<SweepRow>(&texts, |r| r.index)
                .err()
                .unwrap_or(BatchError::Merge {
                    file: texts.first().map(|t| t.0.clone()).unwrap_or_default(),
                    message: "not a sweep or mc shard".into(),
                    hint: "merge reads the files written with --shard K/N".into(),
                });
            Err(batch_failure(&e))
        }
    }
}
