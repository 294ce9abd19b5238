//! Results of many runs: a parameter sweep's rows and a Monte Carlo study's draws and
//! summary. The types are plain data with stable serde keys; `delever sweep`, `delever mc`
//! and `delever merge` fill them, and this crate renders them (tables, CSV, JSON lines,
//! HTML).

use serde::{Deserialize, Serialize};

/// One swept parameter's value in one variant: a number, or a word
/// (`engine.mode=equilibrium,sequential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A numeric value.
    Number(f64),
    /// Any other scalar, as written.
    Text(String),
}

impl ParamValue {
    /// The value as a number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Number(x) => Some(*x),
            ParamValue::Text(_) => None,
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Number(x) => write!(f, "{x}"),
            ParamValue::Text(s) => f.write_str(s),
        }
    }
}

/// The headline figures of one run, shared by sweep rows and Monte Carlo draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// How the iteration stopped (`converged`, `max_rounds`, …).
    pub termination: String,
    /// Rounds of the main iteration.
    pub rounds: u32,
    /// Loss of all holders from the exogenous shock alone, USD.
    pub initial_loss_usd: f64,
    /// Loss at the fixed point, USD.
    pub total_loss_usd: f64,
    /// `total_loss_usd / initial_loss_usd` (1 by convention when the initial loss is 0).
    pub amplification: f64,
    /// Forced sales valued at sale prices, USD.
    pub forced_sales_usd: f64,
    /// Holders that defaulted.
    pub defaults: u64,
    /// Margin calls (accounts called).
    pub margin_calls: u64,
    /// Losses borne by the scenario's lenders, USD (the run report's `lender_losses_usd`).
    pub lender_losses_usd: f64,
    /// What margin borrowers could not repay their lenders, USD (the run report's
    /// `borrower_shortfalls_usd`).
    pub borrower_shortfalls_usd: f64,
    /// Interbank claims left unpaid, whoever holds them, USD (the run report's
    /// `interbank_losses_usd`).
    pub interbank_losses_usd: f64,
    /// Lenders whose losses exceeded their capital.
    pub lender_defaults: u64,
    /// Whether the least fixed point differs from the greatest (several equilibria).
    pub multiple_equilibria: bool,
    /// Loss per holder kind, USD, in the order of the document's `kinds`.
    pub loss_by_kind: Vec<f64>,
}

/// One variant of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Position in the full grid (0-based; the last parameter varies fastest).
    pub index: u64,
    /// The swept values, one per parameter, in the document's order.
    pub values: Vec<ParamValue>,
    /// What the run gave.
    #[serde(flatten)]
    pub figures: RunFigures,
}

/// A sweep: the grid and one row per variant, in grid order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepDoc {
    /// Scenario name.
    pub scenario: String,
    /// The swept field paths (`shocks[0].return`), in `--vary` order.
    pub parameters: Vec<String>,
    /// Holder kinds present in the scenario, the order of `loss_by_kind`.
    pub kinds: Vec<String>,
    /// Variants in the full grid (more than `rows.len()` in a shard).
    pub variants: u64,
    /// The rows, in grid order.
    pub rows: Vec<SweepRow>,
}

/// One Monte Carlo draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McDraw {
    /// Draw number (0-based); its random numbers depend only on the seed and this.
    pub index: u64,
    /// Value-weighted return of the shocked assets in this draw (a fraction).
    pub market_return: f64,
    /// What the run gave.
    #[serde(flatten)]
    pub figures: RunFigures,
    /// Each drawn asset's arithmetic return (a fraction), in the order of the study's
    /// assets ([`DrawColumns::assets`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_returns: Vec<f64>,
    /// Each lender's losses (borrowers' shortfalls and unpaid interbank claims), USD, in
    /// the order of the scenario's lenders ([`DrawColumns::lenders`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loss_by_lender: Vec<f64>,
}

/// The names of a study's per-draw columns: holder kinds (the order of `loss_by_kind`),
/// drawn assets (of `asset_returns`) and lenders (of `loss_by_lender`).
#[derive(Debug, Clone, Copy)]
pub struct DrawColumns<'a> {
    /// Holder kinds present in the scenario.
    pub kinds: &'a [String],
    /// The drawn assets' ids.
    pub assets: &'a [String],
    /// The lenders' ids.
    pub lenders: &'a [String],
}

/// Distribution summary of one figure across draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// The figure (`total_loss_usd`, `loss_by_kind.leveraged_etf`, …).
    pub metric: String,
    /// Mean across draws.
    pub mean: f64,
    /// Standard deviation across draws (n − 1 in the denominator).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// `(p, q)`: the p-quantile q (type 7, linear between order statistics).
    pub quantiles: Vec<(f64, f64)>,
    /// `(α, VaR)`: value at risk at level α, the α-quantile of the loss.
    pub var: Vec<(f64, f64)>,
    /// `(α, ES)`: expected shortfall at level α, the mean of the worst ⌈(1 − α)·n⌉ draws.
    pub es: Vec<(f64, f64)>,
}

/// A Monte Carlo study's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McSummary {
    /// Scenario name.
    pub scenario: String,
    /// Draws in the study.
    pub draws: u64,
    /// The seed.
    pub seed: u64,
    /// The shock distribution, in words (`student_t(4) on 9 assets, 5-day horizon`).
    pub distribution: String,
    /// Holder kinds present in the scenario, the order of `loss_by_kind`.
    pub kinds: Vec<String>,
    /// Share of draws in which at least one lender defaulted.
    pub p_lender_default: f64,
    /// Share of draws in which at least one holder defaulted.
    pub p_holder_default: f64,
    /// Share of draws with at least one margin call.
    pub p_margin_call: f64,
    /// Draws whose iteration did not converge (their figures are still counted).
    pub not_converged: u64,
    /// Draws with several equilibria.
    pub multiple_equilibria: u64,
    /// One entry per figure: total loss, initial loss, cascade loss (total − initial),
    /// forced sales, amplification (draws with an initial loss), lender losses, then the
    /// loss of each kind (`loss_by_kind.<kind>`), then the losses of each named lender
    /// (`loss_by_lender.<id>`).
    pub metrics: Vec<Distribution>,
}

// ---------------------------------------------------------------------------------------
// Rendering. Each format is a pure function of the data, so a merged set of shards renders
// byte for byte like the run that computed every row at once.

use std::fmt::Write as _;

use serde::ser::{SerializeMap as _, Serializer};

use crate::text::{Table, csv_field as field, usd};

/// Every holder kind's name, in report order: the fixed `loss_by_kind` columns and keys of
/// the CSV and JSON outputs of `sweep` and `mc`, whichever kinds a scenario has (a kind it
/// does not have reads 0), so that two scenarios' outputs share one header.
pub fn all_kinds() -> Vec<String> {
    delever_graph::KindTag::ALL
        .iter()
        .map(|k| k.name().to_owned())
        .collect()
}

/// The loss of kind `kind` in `values` (ordered as `kinds`, the scenario's own), 0 when the
/// scenario has none of that kind.
fn kind_loss(kinds: &[String], values: &[f64], kind: &str) -> f64 {
    kinds
        .iter()
        .position(|k| k == kind)
        .and_then(|i| values.get(i).copied())
        .unwrap_or(0.0)
}

/// Per-kind losses over every kind ([`all_kinds`]), as one JSON object.
struct Widened<'a> {
    kinds: &'a [String],
    values: &'a [f64],
}

impl Serialize for Widened<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(delever_graph::KindTag::ALL.len()))?;
        for k in delever_graph::KindTag::ALL {
            m.serialize_entry(k.name(), &kind_loss(self.kinds, self.values, k.name()))?;
        }
        m.end()
    }
}

/// A JSON document with the version keys first (`delever_version`, `format_version`).
#[derive(Serialize)]
struct Versioned<'a, T: Serialize> {
    delever_version: &'static str,
    format_version: u32,
    #[serde(flatten)]
    doc: &'a T,
}

/// `doc` as pretty JSON, the version keys first, ending in a newline.
pub(crate) fn versioned_json<T: Serialize>(doc: &T) -> String {
    let mut s = serde_json::to_string_pretty(&Versioned {
        delever_version: crate::DELEVER_VERSION,
        format_version: crate::JSON_FORMAT_VERSION,
        doc,
    })
    .unwrap_or_default();
    s.push('\n');
    s
}

/// A number for CSV: finite numbers as every CSV writes them ([`crate::text::num`]: 12
/// significant digits, no binary noise); others as words (`NaN`, `inf`).
fn num(x: f64) -> String {
    if x.is_finite() {
        crate::text::num(x)
    } else {
        format!("{x}")
    }
}

fn param_cell(v: &ParamValue) -> String {
    match v {
        ParamValue::Number(x) => num(*x),
        ParamValue::Text(s) => field(s),
    }
}

/// Keys and values serialised as one JSON object, in the given order.
struct Pairs<'a, V: Serialize>(&'a [String], &'a [V]);

impl<V: Serialize> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// A row as JSON: parameters and per-kind losses as objects keyed by path and kind.
#[derive(Serialize)]
struct RowJson<'a> {
    index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<Pairs<'a, ParamValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    market_return: Option<f64>,
    termination: &'a str,
    rounds: u32,
    initial_loss_usd: f64,
    total_loss_usd: f64,
    amplification: f64,
    forced_sales_usd: f64,
    defaults: u64,
    margin_calls: u64,
    lender_losses_usd: f64,
    borrower_shortfalls_usd: f64,
    interbank_losses_usd: f64,
    lender_defaults: u64,
    multiple_equilibria: bool,
    loss_by_kind: Widened<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset_returns: Option<Pairs<'a, f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loss_by_lender: Option<Pairs<'a, f64>>,
}

impl<'a> RowJson<'a> {
    fn new(
        index: u64,
        params: Option<Pairs<'a, ParamValue>>,
        market_return: Option<f64>,
        f: &'a RunFigures,
        kinds: &'a [String],
    ) -> Self {
        RowJson {
            index,
            params,
            market_return,
            termination: &f.termination,
            rounds: f.rounds,
            initial_loss_usd: f.initial_loss_usd,
            total_loss_usd: f.total_loss_usd,
            amplification: f.amplification,
            forced_sales_usd: f.forced_sales_usd,
            defaults: f.defaults,
            margin_calls: f.margin_calls,
            lender_losses_usd: f.lender_losses_usd,
            borrower_shortfalls_usd: f.borrower_shortfalls_usd,
            interbank_losses_usd: f.interbank_losses_usd,
            lender_defaults: f.lender_defaults,
            multiple_equilibria: f.multiple_equilibria,
            loss_by_kind: Widened {
                kinds,
                values: &f.loss_by_kind,
            },
            asset_returns: None,
            loss_by_lender: None,
        }
    }
}

/// CSV columns of the figures, after the leading ones.
fn figures_header(out: &mut String) {
    out.push_str("termination,rounds,initial_loss_usd,total_loss_usd,amplification,forced_sales_usd,defaults,margin_calls,lender_losses_usd,borrower_shortfalls_usd,interbank_losses_usd,lender_defaults,multiple_equilibria");
    for k in delever_graph::KindTag::ALL {
        let _ = write!(out, ",{}", field(&format!("loss_{}_usd", k.name())));
    }
    out.push('\n');
}

fn figures_cells(out: &mut String, f: &RunFigures, kinds: &[String]) {
    let _ = write!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{}",
        field(&f.termination),
        f.rounds,
        num(f.initial_loss_usd),
        num(f.total_loss_usd),
        num(f.amplification),
        num(f.forced_sales_usd),
        f.defaults,
        f.margin_calls,
        num(f.lender_losses_usd),
        num(f.borrower_shortfalls_usd),
        num(f.interbank_losses_usd),
        f.lender_defaults,
        f.multiple_equilibria
    );
    for k in delever_graph::KindTag::ALL {
        let _ = write!(out, ",{}", num(kind_loss(kinds, &f.loss_by_kind, k.name())));
    }
    out.push('\n');
}

fn json_line<T: Serialize>(out: &mut String, v: &T) {
    // Serialising plain data with string keys cannot fail.
    if let Ok(s) = serde_json::to_string(v) {
        out.push_str(&s);
    }
    out.push('\n');
}

impl SweepDoc {
    /// Tidy CSV: a header, then one row per variant (`index`, one column per parameter,
    /// the figures, then `loss_<kind>_usd` for every kind of [`all_kinds`]).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("index");
        for p in &self.parameters {
            let _ = write!(out, ",{}", field(p));
        }
        out.push(',');
        figures_header(&mut out);
        for r in &self.rows {
            let _ = write!(out, "{}", r.index);
            for v in &r.values {
                let _ = write!(out, ",{}", param_cell(v));
            }
            out.push(',');
            figures_cells(&mut out, &r.figures, &self.kinds);
        }
        out
    }

    /// JSON lines: one object per variant, `params` keyed by field path and
    /// `loss_by_kind` by kind (every kind of [`all_kinds`]).
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for r in &self.rows {
            json_line(&mut out, &self.row_json(r));
        }
        out
    }

    /// One JSON document: the version keys, `scenario`, `parameters`, `kinds` (every
    /// kind, [`all_kinds`]), `kinds_present` (the scenario's), `variants`, `rows` (the
    /// objects of [`SweepDoc::to_jsonl`]) and `regimes` (each curve's regime changes,
    /// [`crate::regime::sweep_regimes`]).
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Doc<'a> {
            scenario: &'a str,
            parameters: &'a [String],
            kinds: Vec<String>,
            kinds_present: &'a [String],
            variants: u64,
            rows: Vec<RowJson<'a>>,
            regimes: Vec<crate::regime::CurveRegimes>,
        }
        let doc = Doc {
            scenario: &self.scenario,
            parameters: &self.parameters,
            kinds: all_kinds(),
            kinds_present: &self.kinds,
            variants: self.variants,
            rows: self.rows.iter().map(|r| self.row_json(r)).collect(),
            regimes: crate::regime::sweep_regimes(self),
        };
        versioned_json(&doc)
    }

    fn row_json<'a>(&'a self, r: &'a SweepRow) -> RowJson<'a> {
        RowJson::new(
            r.index,
            Some(Pairs(&self.parameters, &r.values)),
            None,
            &r.figures,
            &self.kinds,
        )
    }

    /// An aligned table: the parameters, then the headline figures; runs that did not
    /// converge are marked.
    pub fn to_table(&self) -> String {
        let mut header: Vec<String> = self.parameters.clone();
        header.extend(
            [
                "amplification",
                "total loss",
                "initial loss",
                "forced sales",
                "calls",
                "defaults",
                "borne by lenders",
                "shortfalls",
                "interbank",
                "",
            ]
            .map(String::from),
        );
        let mut t = Table::new(header).titled(format!(
            "sweep  {}  ({} variants)",
            self.scenario, self.variants
        ));
        let mut flagged = 0;
        for r in &self.rows {
            let f = &r.figures;
            let mut cells: Vec<String> = r.values.iter().map(ToString::to_string).collect();
            let mut note = String::new();
            if f.termination != "converged" {
                note.push_str(&f.termination);
                flagged += 1;
            }
            if f.multiple_equilibria {
                if !note.is_empty() {
                    note.push(' ');
                }
                note.push_str("several equilibria");
            }
            cells.extend([
                format!("{:.3}x", f.amplification),
                usd(f.total_loss_usd),
                usd(f.initial_loss_usd),
                usd(f.forced_sales_usd),
                f.margin_calls.to_string(),
                f.defaults.to_string(),
                usd(f.lender_losses_usd),
                usd(f.borrower_shortfalls_usd),
                usd(f.interbank_losses_usd),
                note,
            ]);
            t.row(cells);
        }
        let mut out = t.render();
        crate::regime::regimes_text(&mut out, self);
        if flagged > 0 {
            let _ = writeln!(
                out,
                "\n{flagged} variant(s) did not converge within their round limit: their figures are where the iteration stopped."
            );
        }
        out
    }
}

/// Per-draw rows as CSV: `index`, `market_return`, the figures, `loss_<kind>_usd` for
/// every kind of [`all_kinds`], then `return_<asset>` for each drawn asset (its
/// arithmetic return, a fraction) and `loss_lender_<id>_usd` for each lender.
pub fn draws_csv(cols: &DrawColumns<'_>, draws: &[McDraw]) -> String {
    let mut out = String::from("index,market_return,");
    figures_header(&mut out);
    out.pop();
    for a in cols.assets {
        let _ = write!(out, ",{}", field(&format!("return_{a}")));
    }
    for l in cols.lenders {
        let _ = write!(out, ",{}", field(&format!("loss_lender_{l}_usd")));
    }
    out.push('\n');
    // A value the draw does not have (a shard from before it was recorded) is blank.
    let cell = |v: &[f64], i: usize| v.get(i).map_or_else(String::new, |x| num(*x));
    for d in draws {
        let _ = write!(out, "{},{},", d.index, num(d.market_return));
        figures_cells(&mut out, &d.figures, cols.kinds);
        out.pop();
        for i in 0..cols.assets.len() {
            let _ = write!(out, ",{}", cell(&d.asset_returns, i));
        }
        for i in 0..cols.lenders.len() {
            let _ = write!(out, ",{}", cell(&d.loss_by_lender, i));
        }
        out.push('\n');
    }
    out
}

/// Per-draw rows as JSON lines (`loss_by_kind` keyed by kind, `asset_returns` by asset,
/// `loss_by_lender` by lender).
pub fn draws_jsonl(cols: &DrawColumns<'_>, draws: &[McDraw]) -> String {
    let mut out = String::new();
    for d in draws {
        let mut row = RowJson::new(d.index, None, Some(d.market_return), &d.figures, cols.kinds);
        row.asset_returns = Some(Pairs(cols.assets, &d.asset_returns));
        row.loss_by_lender = Some(Pairs(cols.lenders, &d.loss_by_lender));
        json_line(&mut out, &row);
    }
    out
}

/// A fraction as a percentage with two decimals.
fn pct2(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A level as text: `0.99` → `99%`, `0.999` → `99.9%`.
fn level(p: f64) -> String {
    let s = format!("{:.1}", p * 100.0);
    format!("{}%", s.trim_end_matches(".0"))
}

impl McSummary {
    /// The summary over every holder kind ([`all_kinds`]): `kinds` lists them all and a
    /// kind the scenario does not have gets a `loss_by_kind.<kind>` metric of zeros, so
    /// that every scenario's CSV and JSON have the same rows and keys.
    #[must_use]
    pub fn widened(&self) -> McSummary {
        let prefix = "loss_by_kind.";
        let zero = |metric: String| {
            let like = self.metrics.first();
            let zeros = |v: Option<&Vec<(f64, f64)>>| {
                v.map(|v| v.iter().map(|(p, _)| (*p, 0.0)).collect())
                    .unwrap_or_default()
            };
            Distribution {
                metric,
                mean: 0.0,
                std: 0.0,
                min: 0.0,
                max: 0.0,
                quantiles: zeros(like.map(|d| &d.quantiles)),
                var: zeros(like.map(|d| &d.var)),
                es: zeros(like.map(|d| &d.es)),
            }
        };
        // Per-lender metrics come after the kinds, as `summary` puts them.
        let lender = |d: &&Distribution| d.metric.starts_with("loss_by_lender.");
        let mut metrics: Vec<Distribution> = self
            .metrics
            .iter()
            .filter(|d| !d.metric.starts_with(prefix) && !lender(d))
            .cloned()
            .collect();
        for k in all_kinds() {
            let name = format!("{prefix}{k}");
            metrics.push(
                self.metrics
                    .iter()
                    .find(|d| d.metric == name)
                    .cloned()
                    .unwrap_or_else(|| zero(name)),
            );
        }
        metrics.extend(self.metrics.iter().filter(lender).cloned());
        McSummary {
            kinds: all_kinds(),
            metrics,
            ..self.clone()
        }
    }

    /// One JSON document with stable keys: the version keys, then the fields of
    /// [`McSummary::widened`] (quantiles, VaR and ES as `[level, value]` pairs).
    pub fn to_json(&self) -> String {
        versioned_json(&self.widened())
    }

    /// [`McSummary::to_json`] on one line (the `jsonl` format).
    pub fn to_json_line(&self) -> String {
        let mut s = serde_json::to_string(&Versioned {
            delever_version: crate::DELEVER_VERSION,
            format_version: crate::JSON_FORMAT_VERSION,
            doc: &self.widened(),
        })
        .unwrap_or_default();
        s.push('\n');
        s
    }

    /// Tidy CSV: `metric,statistic,level,value`, one fact per row (the probabilities as
    /// metric `probability`).
    pub fn to_csv(&self) -> String {
        let this = self.widened();
        let mut out = String::from("metric,statistic,level,value\n");
        for (name, p) in [
            ("lender_default", self.p_lender_default),
            ("holder_default", self.p_holder_default),
            ("margin_call", self.p_margin_call),
        ] {
            let _ = writeln!(out, "probability,{name},,{}", num(p));
        }
        for d in &this.metrics {
            let m = field(&d.metric);
            for (stat, x) in [
                ("mean", d.mean),
                ("std", d.std),
                ("min", d.min),
                ("max", d.max),
            ] {
                let _ = writeln!(out, "{m},{stat},,{}", num(x));
            }
            for (stat, pairs) in [("quantile", &d.quantiles), ("var", &d.var), ("es", &d.es)] {
                for (p, x) in pairs {
                    let _ = writeln!(out, "{m},{stat},{},{}", num(*p), num(*x));
                }
            }
        }
        out
    }

    /// Headline probabilities, then per figure its mean, quantiles, VaR and ES.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "monte carlo  {}  {} draws, seed {}\nshocks       {}",
            self.scenario, self.draws, self.seed, self.distribution
        );
        let _ = writeln!(
            out,
            "P(lender default) {}   P(holder default) {}   P(margin call) {}",
            pct2(self.p_lender_default),
            pct2(self.p_holder_default),
            pct2(self.p_margin_call)
        );
        if self.not_converged > 0 {
            let _ = writeln!(
                out,
                "{} draw(s) did not converge within the round limit (counted where they stopped)",
                self.not_converged
            );
        }
        if self.multiple_equilibria > 0 {
            let _ = writeln!(
                out,
                "{} draw(s) have several equilibria (figures are the greatest fixed point)",
                self.multiple_equilibria
            );
        }
        out.push('\n');
        let mut header = vec!["figure".to_owned(), "mean".to_owned()];
        let (q, v, e) = self
            .metrics
            .first()
            .map(|d| (d.quantiles.clone(), d.var.clone(), d.es.clone()))
            .unwrap_or_default();
        header.extend(q.iter().map(|(p, _)| format!("q{}", level(*p))));
        header.extend(v.iter().map(|(p, _)| format!("VaR {}", level(*p))));
        header.extend(e.iter().map(|(p, _)| format!("ES {}", level(*p))));
        let mut t = Table::new(header).titled("Loss distribution across draws");
        for d in &self.metrics {
            let fmt = |x: f64| {
                if d.metric == "amplification" {
                    format!("{x:.3}x")
                } else {
                    usd(x)
                }
            };
            let mut cells = vec![d.metric.clone(), fmt(d.mean)];
            cells.extend(d.quantiles.iter().map(|(_, x)| fmt(*x)));
            cells.extend(d.var.iter().map(|(_, x)| fmt(*x)));
            cells.extend(d.es.iter().map(|(_, x)| fmt(*x)));
            t.row(cells);
        }
        out.push_str(&t.render());
        out
    }
}

#[cfg(test)]
// A test that unwraps fails with the line that broke, which is all a message would say.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn figs(term: &str, amp: f64) -> RunFigures {
        RunFigures {
            termination: term.into(),
            rounds: 3,
            initial_loss_usd: 1e9,
            total_loss_usd: amp * 1e9,
            amplification: amp,
            forced_sales_usd: 2.5e8,
            defaults: 0,
            margin_calls: 7,
            lender_losses_usd: -0.0,
            borrower_shortfalls_usd: 0.0,
            interbank_losses_usd: 0.0,
            lender_defaults: 0,
            multiple_equilibria: false,
            loss_by_kind: vec![0.1, 0.2],
        }
    }

    fn doc() -> SweepDoc {
        SweepDoc {
            scenario: "s".into(),
            parameters: vec!["shocks[0].return".into(), "engine.mode".into()],
            kinds: vec!["fund".into(), "bank".into()],
            variants: 2,
            rows: vec![
                SweepRow {
                    index: 0,
                    values: vec![ParamValue::Number(-0.1), ParamValue::Text("a,b".into())],
                    figures: figs("converged", 1.5),
                },
                SweepRow {
                    index: 1,
                    values: vec![ParamValue::Number(-0.2), ParamValue::Text("x".into())],
                    figures: figs("max_rounds", 2.0),
                },
            ],
        }
    }

    #[test]
    fn sweep_csv_quotes_and_never_prints_negative_zero() {
        let csv = doc().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "index,shocks[0].return,engine.mode,termination,rounds,initial_loss_usd,total_loss_usd,amplification,forced_sales_usd,defaults,margin_calls,lender_losses_usd,borrower_shortfalls_usd,interbank_losses_usd,lender_defaults,multiple_equilibria,loss_margin_account_usd,loss_margin_cohort_usd,loss_account_book_usd,loss_leveraged_etf_usd,loss_leveraged_fund_usd,loss_bank_usd,loss_fund_usd,loss_options_dealer_usd,loss_vol_target_usd,loss_trend_follower_usd"
        );
        // Every kind, in the fixed order; the scenario's own (fund, bank) in their places.
        assert_eq!(
            lines[1],
            "0,-0.1,\"a,b\",converged,3,1000000000,1500000000,1.5,250000000,0,7,0,0,0,0,false,0,0,0,0,0,0.2,0.1,0,0,0"
        );
        assert!(!csv.contains("-0,"));
    }

    #[test]
    fn sweep_csv_neutralises_formula_text_but_not_negative_numbers() {
        let mut d = doc();
        d.rows[1].values[1] = ParamValue::Text("=HYPERLINK(\"x\")".into());
        d.rows[1].figures.lender_losses_usd = -2.5;
        let csv = d.to_csv();
        let row = csv.lines().nth(2).unwrap();
        assert!(
            row.starts_with("1,-0.2,\"'=HYPERLINK(\"\"x\"\")\",max_rounds,"),
            "{row}"
        );
        assert!(row.contains(",-2.5,"), "{row}");
        let draws = draws_csv(
            &DrawColumns {
                kinds: &["fund".into(), "bank".into()],
                assets: &["NVDA".into(), "=X".into()],
                lenders: &["ib".into()],
            },
            &[McDraw {
                index: 0,
                market_return: -0.25,
                figures: figs("converged", 1.5),
                asset_returns: vec![-0.25, 0.125],
                loss_by_lender: vec![-0.0],
            }],
        );
        assert!(
            draws
                .lines()
                .next()
                .unwrap()
                .ends_with(",loss_trend_follower_usd,return_NVDA,return_=X,loss_lender_ib_usd"),
            "{draws}"
        );
        assert!(
            draws.lines().nth(1).unwrap().ends_with(",0,-0.25,0.125,0"),
            "{draws}"
        );
        assert!(
            draws
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("0,-0.25,converged,")
        );
    }

    #[test]
    fn sweep_jsonl_keys_parameters_and_kinds() {
        let text = doc().to_jsonl();
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["params"]["engine.mode"], "a,b");
        assert_eq!(v["params"]["shocks[0].return"], -0.1);
        assert_eq!(v["loss_by_kind"]["bank"], 0.2);
        assert_eq!(v["termination"], "converged");
    }

    #[test]
    fn sweep_table_flags_non_converged_rows() {
        let t = doc().to_table();
        assert!(t.contains("max_rounds"));
        assert!(t.contains("1 variant(s) did not converge"));
        assert!(t.contains("2.000x"));
    }

    #[test]
    fn mc_csv_is_tidy_and_levels_print_plainly() {
        let s = McSummary {
            scenario: "s".into(),
            draws: 2,
            seed: 1,
            distribution: "normal".into(),
            kinds: vec![],
            p_lender_default: 0.5,
            p_holder_default: 0.0,
            p_margin_call: 1.0,
            not_converged: 0,
            multiple_equilibria: 0,
            metrics: vec![Distribution {
                metric: "total_loss_usd".into(),
                mean: 1.0,
                std: 0.5,
                min: 0.5,
                max: 1.5,
                quantiles: vec![(0.5, 1.0)],
                var: vec![(0.999, 1.5)],
                es: vec![(0.999, 1.5)],
            }],
        };
        let csv = s.to_csv();
        assert!(csv.starts_with("metric,statistic,level,value\nprobability,lender_default,,0.5\n"));
        assert!(csv.contains("total_loss_usd,var,0.999,1.5\n"));
        let t = s.to_table();
        assert!(t.contains("VaR 99.9%") && t.contains("q50%"), "{t}");
        assert!(t.contains("P(lender default) 50.00%"));
    }
}
