//! One re-solve of `delever serve`: a scenario (shipped, given on the command line, or
//! uploaded) with `--set`-style overrides, run exactly as `delever run --set … --format
//! json` runs it, with the HTML report of each equilibrium and a "what changed" line.

use std::fmt::Write as _;
use std::sync::Arc;

use delever_engine::explain::Replay;
use delever_engine::{EngineConfig, Ledger, Mode, Outcome, Silent};
use delever_report::html::{HtmlInput, Player, render};
use delever_report::{RunReport, usd};
use delever_scenario::{FieldPath, Scenario, Template};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::commands;

/// Largest uploaded scenario, in bytes: the largest shipped scenario is about 20 KiB, so a
/// class never needs more; the limit keeps one upload from holding much memory.
pub const MAX_UPLOAD_BYTES: usize = 1 << 20;

/// Most overrides one request may carry: a page has at most 12 sliders.
pub const MAX_OVERRIDES: usize = 64;

/// A scenario the server offers, loaded once at start-up.
#[derive(Debug)]
pub struct Entry {
    /// Its name (the shipped name, or the file's `name:`).
    pub name: String,
    /// The first paragraph of its description.
    pub title: String,
    /// Loaded once, instantiated per request (`Template` is `Send + Sync`).
    pub template: Arc<Template>,
    /// Its sliders, each starting at the scenario's own value.
    pub sliders: Vec<SliderView>,
}

/// A slider as the page draws it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SliderView {
    /// Field path (the `--set` grammar).
    pub path: String,
    /// What it moves.
    pub label: String,
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// Step.
    pub step: f64,
    /// Where it starts: the scenario's own value (clamped into the range).
    pub value: f64,
}

/// The sliders of `template`: its `teach:` block, or, without one, the first shock's size
/// and the first asset's impact strength when the scenario writes them.
pub fn sliders(template: &Template) -> Result<Vec<SliderView>, String> {
    let base = template.base();
    let mut out = Vec::new();
    if base.teach.is_empty() {
        if let Some(v) = number(template, "shocks[0].return") {
            let min = if v < 0.0 { (3.0 * v).max(-1.0) } else { -0.5 };
            out.push(view(
                "shocks[0].return",
                "shock: return of shocks[0]",
                min,
                0.0,
                0.001,
                v,
            ));
        }
        // The first asset's own law, else the scenario's default law.
        let strength = ["assets[0].impact", "defaults.impact"]
            .iter()
            .find_map(|at| {
                ["alpha", "per_usd", "y", "c"].iter().find_map(|key| {
                    let path = format!("{at}.{key}");
                    number(template, &path)
                        .filter(|v| *v > 0.0)
                        .map(|v| (path, v))
                })
            });
        if let Some((path, v)) = strength {
            let label = if path.starts_with("assets") {
                "price impact of the first asset"
            } else {
                "price impact (the default law)"
            };
            out.push(view(&path, label, 0.0, 3.0 * v, v / 100.0, v));
        }
        return Ok(out);
    }
    for s in &base.teach {
        let path =
            FieldPath::parse(&s.path).map_err(|e| format!("teach path `{}`: {e}", s.path))?;
        template
            .check_path(&path)
            .map_err(|e| format!("teach path `{}` is not in the scenario:\n{e}", s.path))?;
        let v = template.number_at(&path).unwrap_or(s.min);
        out.push(view(&s.path, &s.label, s.min, s.max, s.step, v));
    }
    Ok(out)
}

fn number(template: &Template, path: &str) -> Option<f64> {
    FieldPath::parse(path)
        .ok()
        .and_then(|p| template.number_at(&p))
}

fn view(path: &str, label: &str, min: f64, max: f64, step: f64, value: f64) -> SliderView {
    SliderView {
        path: path.to_owned(),
        label: label.to_owned(),
        min,
        max,
        step,
        value: value.clamp(min, max),
    }
}

/// A solve request (`POST /api/solve`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolveRequest {
    /// A scenario the server offers, by name.
    pub scenario: Option<String>,
    /// Or an uploaded scenario's YAML text.
    pub text: Option<String>,
    /// The uploaded file's name, for diagnostics.
    pub filename: Option<String>,
    /// Overrides, each `PATH=VALUE` as `run --set` takes them, applied in order.
    #[serde(default)]
    pub set: Vec<String>,
    /// The previous solve's summary, for the "what changed" line.
    pub previous: Option<Summary>,
}

/// Why a request was refused: an HTTP status and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 400 malformed, 404 unknown scenario, 413 too large, 422 invalid scenario or value.
    pub status: u16,
    /// What went wrong, with file, line, column, field path and hint when the scenario is
    /// at fault.
    pub message: String,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

/// The headline numbers of one solve, kept by the page and sent back as `previous`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// `converged` or `max_rounds`.
    pub termination: String,
    /// Rounds run.
    pub rounds: u32,
    /// Total loss, USD.
    pub total_loss_usd: f64,
    /// Forced sales, USD.
    pub forced_sales_usd: f64,
    /// Holders that defaulted (accounts).
    pub defaults: u64,
    /// Margin calls (accounts).
    pub margin_calls: u64,
    /// Lender losses, USD.
    pub lender_losses_usd: f64,
    /// Drawdown per asset: (id, fraction).
    pub drawdowns: Vec<(String, f64)>,
    /// Loss at the least fixed point when it differs from the greatest one.
    pub least_loss_usd: Option<f64>,
}

/// One solve's answer.
#[derive(Debug, Serialize)]
pub struct Solved {
    /// The scenario's name.
    pub scenario: String,
    /// `delever run`'s exit code: 0, or 3 when the iteration hit its round limit.
    pub exit_code: i32,
    /// Exit 3's message (what `delever run` prints on stderr), when it applies.
    pub warning: Option<String>,
    /// The headline numbers.
    pub summary: Summary,
    /// What changed since `previous`, in words (empty without one).
    pub what_changed: String,
    /// The JSON report, exactly as `delever run --set … --format json` prints it.
    pub report: Value,
    /// The HTML report of the greatest fixed point (the run).
    pub html: String,
    /// The HTML report of the least fixed point, played from the all-liquidated prices,
    /// when it differs from the greatest.
    pub least_html: Option<String>,
    /// The JSON report of that least-fixed-point run (same shape as `report`).
    pub least_report: Option<Value>,
    /// The sliders, at the values of this solve.
    pub sliders: Vec<SliderView>,
}

/// Solve `req` against the server's scenarios.
pub fn solve(entries: &[Entry], req: &SolveRequest) -> Result<Solved, Refusal> {
    if req.set.len() > MAX_OVERRIDES {
        return Err(Refusal::new(
            400,
            format!("{} overrides; at most {MAX_OVERRIDES}", req.set.len()),
        ));
    }
    let (template, mut sliders) = match (&req.scenario, &req.text) {
        (Some(_), Some(_)) => {
            return Err(Refusal::new(
                400,
                "give either `scenario` (a name) or `text` (an upload), not both",
            ));
        }
        (None, None) => {
            return Err(Refusal::new(
                400,
                "no scenario: give `scenario` (a name from GET /api/scenarios) or `text` (YAML)",
            ));
        }
        (Some(name), None) => {
            let Some(e) = entries.iter().find(|e| &e.name == name) else {
                return Err(Refusal::new(
                    404,
                    format!(
                        "no scenario named `{name}` on this server; GET /api/scenarios lists them"
                    ),
                ));
            };
            (Arc::clone(&e.template), e.sliders.clone())
        }
        (None, Some(text)) => {
            let t = upload(text, req.filename.as_deref())?;
            let s = sliders(&t).map_err(|m| Refusal::new(422, format!("error: {m}")))?;
            (Arc::new(t), s)
        }
    };
    let scenario = if req.set.is_empty() {
        template.base().clone()
    } else {
        let fail = |e: delever_batch::BatchError| {
            let mut msg = format!("error: {e}");
            if let Some(h) = e.hint() {
                msg.push_str("\n  hint: ");
                msg.push_str(h);
            }
            Refusal::new(422, msg)
        };
        let overrides = delever_batch::set::overrides(&template, &req.set).map_err(fail)?;
        delever_batch::set::apply(&template, &overrides, &req.set).map_err(fail)?
    };
    for s in &mut sliders {
        if let Some(v) = req
            .set
            .iter()
            .rev()
            .find_map(|x| x.strip_prefix(s.path.as_str())?.strip_prefix('='))
            .and_then(|v| v.trim().parse::<f64>().ok())
        {
            s.value = v;
        }
    }
    run(&scenario, req.previous.as_ref(), sliders)
}

/// Validate an upload exactly as a file is validated (no CSV books: there is no directory).
fn upload(text: &str, filename: Option<&str>) -> Result<Template, Refusal> {
    if text.len() > MAX_UPLOAD_BYTES {
        return Err(Refusal::new(
            413,
            format!(
                "the scenario is {:.1} MiB; uploads are limited to {} MiB\n  hint: a classroom scenario is a few KiB; run large files with `delever run`",
                text.len() as f64 / f64::from(1u32 << 20),
                MAX_UPLOAD_BYTES >> 20
            ),
        ));
    }
    // The name shown in diagnostics: the file's base name, printable characters only.
    let origin: String = filename
        .and_then(|f| f.rsplit(['/', '\\']).next())
        .unwrap_or("upload.yaml")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let origin = if origin.is_empty() {
        "upload.yaml".to_owned()
    } else {
        origin
    };
    Template::from_yaml(text, &origin, None).map_err(|e| Refusal::new(422, e.to_string()))
}

/// Run `scenario` as `delever run` does and render both equilibria.
fn run(
    scenario: &Scenario,
    previous: Option<&Summary>,
    sliders: Vec<SliderView>,
) -> Result<Solved, Refusal> {
    let config = scenario.engine.clone();
    let engine_err = |e: delever_engine::EngineError| {
        Refusal::new(
            422,
            format!(
                "error: {}: {e}\n  hint: check the scenario's `shocks:` block",
                scenario.name
            ),
        )
    };
    let (outcome, ledger) =
        delever_engine::run_detailed(&scenario.network, &scenario.shocks, &config, &mut Silent)
            .map_err(engine_err)?;
    let systemic = commands::systemic(scenario, &config, &outcome, &ledger, false, true)
        .map_err(|f| Refusal::new(422, f.message))?;
    let html = commands::html::report(scenario, &outcome, &ledger, Some(&systemic));
    let (least_html, least_report) = match &outcome.least {
        Some(l) if l.differs => {
            let (html, report) = least_page(scenario, &config).map_err(engine_err)?;
            (Some(html), serde_json::from_str(&report.to_json()).ok())
        }
        _ => (None, None),
    };
    let report = RunReport::new(&commands::meta(scenario), &scenario.network, &outcome)
        .with_systemic(systemic);
    let summary = summarize(&report, &outcome);
    let report: Value = serde_json::from_str(&report.to_json())
        .map_err(|e| Refusal::new(500, format!("error: rendering the report: {e}")))?;
    let exit_code = outcome.exit_code();
    let warning = (exit_code == crate::exit::NOT_CONVERGED)
        .then(|| commands::not_converged_message(&scenario.name, &outcome));
    let what_changed = previous.map_or_else(String::new, |p| what_changed(p, &summary));
    Ok(Solved {
        scenario: scenario.name.clone(),
        exit_code,
        warning,
        summary,
        what_changed,
        report,
        html,
        least_html,
        least_report,
        sliders,
    })
}

/// The least fixed point's HTML and JSON reports: its own run from the floor prices,
/// replayed round by round for the player.
fn least_page(
    scenario: &Scenario,
    config: &EngineConfig,
) -> Result<(String, RunReport), delever_engine::EngineError> {
    let net = &scenario.network;
    let (outcome, ledger): (Outcome, Ledger) =
        delever_engine::run_least_detailed(net, &scenario.shocks, config, &mut Silent)?;
    let mut player = Player::new(net, &ledger);
    if outcome.mode == Mode::Equilibrium {
        Replay::new(net, &scenario.shocks)
            .and_then(|mut r| r.rounds_from_floor(&outcome, &mut |round| player.round(round)))?;
    }
    let mut meta = commands::meta(scenario);
    meta.name = format!("{} (least fixed point)", meta.name);
    let html = render(&HtmlInput {
        meta: &meta,
        notes: &commands::html::notes(scenario),
        net,
        outcome: &outcome,
        ledger: &ledger,
        player: &player,
        systemic: None,
    });
    Ok((html, RunReport::new(&meta, net, &outcome)))
}

fn summarize(r: &RunReport, o: &Outcome) -> Summary {
    Summary {
        scenario: r.scenario.clone(),
        termination: r.termination.to_owned(),
        rounds: r.rounds,
        total_loss_usd: r.totals.total_loss_usd,
        forced_sales_usd: r.totals.forced_sales_usd,
        defaults: r.totals.defaults,
        margin_calls: r.totals.margin_calls,
        lender_losses_usd: r.totals.lender_losses_usd,
        drawdowns: r
            .assets
            .iter()
            .map(|a| (a.id.clone(), a.drawdown))
            .collect(),
        least_loss_usd: o
            .least
            .as_ref()
            .filter(|l| l.differs)
            .map(|l| l.total_loss_usd),
    }
}

/// Relative change below which a figure "did not change" in words.
const SAME: f64 = 1e-9;

fn moved(a: f64, b: f64) -> bool {
    (b - a).abs() > SAME * a.abs().max(b.abs()).max(1.0)
}

/// What changed from `prev` to `now`, in one or two sentences.
pub fn what_changed(prev: &Summary, now: &Summary) -> String {
    if prev.scenario != now.scenario {
        return format!("A new scenario: {}.", now.scenario);
    }
    let mut parts: Vec<String> = Vec::new();
    let money = |label: &str, a: f64, b: f64| {
        if moved(a, b) {
            let verb = if b > a { "rose" } else { "fell" };
            Some(format!("{label} {verb} from {} to {}", usd(a), usd(b)))
        } else {
            None
        }
    };
    parts.extend(money(
        "the total loss",
        prev.total_loss_usd,
        now.total_loss_usd,
    ));
    parts.extend(money(
        "forced sales",
        prev.forced_sales_usd,
        now.forced_sales_usd,
    ));
    parts.extend(money(
        "lender losses",
        prev.lender_losses_usd,
        now.lender_losses_usd,
    ));
    let count =
        |label: &str, a: u64, b: u64| (a != b).then(|| format!("{label} went from {a} to {b}"));
    parts.extend(count("defaults", prev.defaults, now.defaults));
    parts.extend(count("margin calls", prev.margin_calls, now.margin_calls));
    // The asset whose drawdown moved most.
    if let Some((id, a, b)) = prev
        .drawdowns
        .iter()
        .zip(&now.drawdowns)
        .filter(|(x, y)| x.0 == y.0)
        .map(|(x, y)| (&x.0, x.1, y.1))
        .max_by(|x, y| (x.2 - x.1).abs().total_cmp(&(y.2 - y.1).abs()))
        && moved(a, b)
    {
        parts.push(format!(
            "{id}'s fall went from {:.2}% to {:.2}%",
            a * 100.0,
            b * 100.0
        ));
    }
    let mut s = if parts.is_empty() {
        "Nothing changed in the headline figures.".to_owned()
    } else {
        let mut first = parts.join("; ");
        if let Some(c) = first.get(..1) {
            first = c.to_uppercase() + first.get(1..).unwrap_or_default();
        }
        first + "."
    };
    match (prev.least_loss_usd, now.least_loss_usd) {
        (None, Some(l)) => {
            let _ = write!(
                s,
                " A second equilibrium appeared: the least fixed point loses {}.",
                usd(l)
            );
        }
        (Some(_), None) => s.push_str(" The second equilibrium is gone: one fixed point only."),
        _ => {}
    }
    if prev.termination != now.termination {
        let _ = write!(
            s,
            " The run now ends {} (after {} rounds).",
            if now.termination == "converged" {
                "converged"
            } else {
                "at its round limit, not converged"
            },
            now.rounds
        );
    }
    s
}
