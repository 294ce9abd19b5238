//! Spec → model: check what serde cannot (ids, kind-specific keys, ranges, dates), build
//! the [`Network`] through its builder, resolve shocks and expectations to indices.
//!
//! Every problem is collected with the YAML path it is about; `lib.rs` turns paths into
//! line:column with the document index. Problems the graph builder finds (its
//! [`Problem`]s name a node and a field) are mapped back to the same paths.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use delever_engine::{EngineConfig, Mode, Shock, Status, Termination};
use delever_graph::{
    AccountBook, Asset, AssetIx, BalanceSheetRule, CashUse, Holder, HolderIx, HolderKind,
    ImpactDecay, ImpactLaw, Lender, LenderIx, Liquidation, LtvBucket, MarginTerms, Network,
    NetworkBuilder, Problem, SaleOrder, Subject, Timing, TransientImpact,
};

use crate::Source;
use crate::book::{self, AssetLookup, BookFiles};
use crate::error::clip;
use crate::expect::{
    AssetExpectations, Bound, DEFAULT_REL_TOL, DayExpectations, Expectation, Expectations,
    HolderExpectations,
};
use crate::index::{join_index, join_key};
use crate::limits::{self, Limit};
use crate::montecarlo::{self, MonteCarlo, ShockDistribution};
use crate::spec::{
    AssetSpec, BoundSpec, CashUseName, CorrelationSpec, DayExpectSpec, Days, DistName, EngineSpec,
    ExpectSpec, HolderSpec, HoldingSpec, ImpactSpec, KindName, LawName, LenderSpec, ModeName,
    MonteCarloSpec, OweSpec, RuleName, RuleSpec, SaleOrderName, ScenarioSpec, ShockName, ShockSpec,
    StatusName, Statuses, TerminationName, VariantSpec, Whole,
};
use crate::suggest;
use crate::variant::Variant;

/// α of the exponential law when a scenario gives none: selling 10% of the shares
/// outstanding cuts the price by 10% (Caccioli et al.).
const DEFAULT_ALPHA: f64 = 1.053_605_156_578_263;

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    /// The value at this YAML path.
    Value,
    /// The key of this YAML path (unknown or misplaced keys).
    Key,
    /// Another file (a CSV book), at this line and column.
    File {
        file: String,
        line: Option<usize>,
        column: Option<usize>,
    },
}

/// A problem with the YAML path it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    pub path: String,
    pub place: Place,
    pub message: String,
    pub hint: Option<String>,
}

/// What the caller knows about where the scenario came from.
pub(crate) struct Origin<'a> {
    /// Directory CSV books are resolved against; `None` forbids them.
    pub base_dir: Option<&'a Path>,
    /// File stem the `name` must equal, when loaded from a file.
    pub stem: Option<&'a str>,
    /// Books already loaded (by a sweep template): used instead of reading the files again.
    pub books: Option<&'a BookCache>,
    /// Where to keep the books this conversion loads, for later conversions.
    pub record: Option<&'a RefCell<BookCache>>,
}

impl<'a> Origin<'a> {
    /// A plain load: no cached books.
    pub fn new(base_dir: Option<&'a Path>, stem: Option<&'a str>) -> Self {
        Origin {
            base_dir,
            stem,
            books: None,
            record: None,
        }
    }
}

/// Account books loaded once and reused by the instances of a sweep template, keyed by
/// everything a book's content depends on: the two paths as written and the asset ids'
/// indices (the `asset` column is resolved through them).
#[derive(Debug, Clone, Default)]
pub(crate) struct BookCache {
    entries: Vec<CachedBook>,
}

#[derive(Debug, Clone)]
struct CachedBook {
    accounts_csv: String,
    holdings_csv: String,
    lookup: AssetLookup,
    accounts_file: AccountsFile,
    book: Arc<AccountBook>,
}

/// An account book's accounts file: its name in messages, and where to read it again for
/// the line numbers of bad rows.
#[derive(Debug, Clone)]
struct AccountsFile {
    name: String,
    path: PathBuf,
}

impl BookCache {
    fn get(&self, accounts: &str, holdings: &str, lookup: &AssetLookup) -> Option<&CachedBook> {
        self.entries.iter().find(|c| {
            c.accounts_csv == accounts && c.holdings_csv == holdings && &c.lookup == lookup
        })
    }

    /// Number of books held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A validated scenario's model parts.
pub(crate) struct Converted {
    pub sources: Vec<Source>,
    pub network: Network,
    pub shocks: Vec<Shock>,
    pub engine: EngineConfig,
    pub expect: Option<Expectations>,
    pub variants: Vec<Variant>,
    pub monte_carlo: Option<MonteCarlo>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum IdKind {
    Asset,
    Holder,
    Lender,
}

impl IdKind {
    fn a(self) -> &'static str {
        match self {
            IdKind::Asset => "an asset",
            IdKind::Holder => "a holder",
            IdKind::Lender => "a lender",
        }
    }
}

/// What a reference must name.
#[derive(Clone, Copy)]
enum Want {
    Asset,
    Holder,
    Lender,
    BalanceSheet,
}

impl Want {
    fn accepts(self, k: IdKind) -> bool {
        matches!(
            (self, k),
            (Want::Asset, IdKind::Asset)
                | (Want::Holder, IdKind::Holder)
                | (Want::Lender, IdKind::Lender)
                | (Want::BalanceSheet, IdKind::Holder | IdKind::Lender)
        )
    }
    fn what(self) -> &'static str {
        match self {
            Want::Asset => "asset",
            Want::Holder => "holder",
            Want::Lender => "lender",
            Want::BalanceSheet => "holder or lender",
        }
    }
    fn plural(self) -> &'static str {
        match self {
            Want::Asset => "assets",
            Want::Holder => "holders",
            Want::Lender => "lenders",
            Want::BalanceSheet => "holders and lenders",
        }
    }
}

/// Per-holder facts needed to map builder problems back to the YAML.
struct HolderMeta {
    index: usize,
    accounts_file: Option<AccountsFile>,
    /// An account book's accounts, as loaded.
    book: Option<Arc<AccountBook>>,
}

struct Cx<'s> {
    spec: &'s ScenarioSpec,
    problems: Vec<Pending>,
    /// Every id, with its kind and path (`assets[2]`), first occurrence only.
    ids: BTreeMap<&'s str, (IdKind, String)>,
    /// (section, index) of nodes left out of the network (duplicate or empty ids).
    skipped: BTreeSet<(IdKind, usize)>,
    assets: BTreeMap<&'s str, AssetIx>,
    holders: BTreeMap<&'s str, HolderIx>,
    lenders: BTreeMap<&'s str, LenderIx>,
    holder_meta: BTreeMap<&'s str, HolderMeta>,
    /// Pre-shock prices of the assets in the network, by index.
    prices: Vec<f64>,
    /// Builder problems (subject id, field) already reported in a better form here.
    suppress: BTreeSet<(String, String)>,
}

fn pending(
    path: impl Into<String>,
    place: Place,
    message: impl Into<String>,
    hint: Option<String>,
) -> Pending {
    Pending {
        path: path.into(),
        place,
        message: message.into(),
        hint,
    }
}

fn num(n: Option<crate::spec::Num>) -> Option<f64> {
    n.map(|n| n.0)
}

/// Whether `s` is a valid ISO calendar date `YYYY-MM-DD`.
pub(crate) fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Keys that belong to some holder kinds only.
const KIND_KEYS: &[(&str, &[KindName])] = &[
    (
        "cure_rate",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::AccountBook,
        ],
    ),
    ("accounts", &[KindName::MarginCohort]),
    ("ltv_buckets", &[KindName::MarginCohort]),
    ("accounts_csv", &[KindName::AccountBook]),
    ("holdings_csv", &[KindName::AccountBook]),
    ("multiple", &[KindName::LeveragedEtf]),
    ("nav", &[KindName::LeveragedEtf]),
    ("basket", &[KindName::LeveragedEtf]),
    ("rule", &[KindName::Bank, KindName::LeveragedFund]),
    (
        "default_below_ratio",
        &[KindName::Bank, KindName::LeveragedFund],
    ),
    ("redemption_beta", &[KindName::Fund]),
    ("redemption_lag_days", &[KindName::Fund]),
    (
        "cure_days",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::AccountBook,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
    (
        "participation",
        &[
            KindName::MarginAccount,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
    (
        "holdings",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
    (
        "margin",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::AccountBook,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
];

fn kind_required(kind: KindName) -> &'static [(&'static str, &'static str)] {
    match kind {
        KindName::MarginAccount => &[(
            "margin",
            "add `margin: { lender: <id>, loan: <USD>, maintenance: 0.30 }`",
        )],
        KindName::MarginCohort => &[
            (
                "accounts",
                "the number of accounts the cohort stands for, e.g. `accounts: 1200000`",
            ),
            (
                "ltv_buckets",
                "e.g. `ltv_buckets: [{ ltv: 0.3, share: 0.5 }, { ltv: 0.5, share: 0.5 }]`",
            ),
            (
                "margin",
                "add `margin: { lender: <id>, maintenance: 0.30 }` (the loan is derived)",
            ),
        ],
        KindName::AccountBook => &[
            (
                "accounts_csv",
                "a CSV with header `account,cash,loan`, relative to the scenario",
            ),
            (
                "holdings_csv",
                "a CSV with header `account,asset,shares`, relative to the scenario",
            ),
            (
                "margin",
                "add `margin: { lender: <id>, maintenance: 0.30 }` (the loan is derived)",
            ),
        ],
        KindName::LeveragedEtf => &[
            (
                "multiple",
                "the leverage multiple, e.g. `multiple: 3` (SOXL) or `-3` (SOXS)",
            ),
            ("nav", "net asset value in USD, e.g. `nav: 1.2e10`"),
            (
                "basket",
                "asset weights summing to 1, e.g. `basket: { NVDA: 0.6, AMD: 0.4 }`",
            ),
        ],
        KindName::LeveragedFund | KindName::Bank => &[(
            "rule",
            "e.g. `rule: { type: leverage_target, target: 3.0 }` or `{ type: threshold, max: 33 }`",
        )],
        KindName::Fund => &[],
    }
}

const LAW_KEYS: &[(&str, &[LawName])] = &[
    ("per_usd", &[LawName::Linear]),
    ("alpha", &[LawName::Exponential]),
    ("y", &[LawName::SquareRoot]),
    ("c", &[LawName::ContSchaanning]),
    ("tau_days", &[LawName::ContSchaanning]),
    ("floor", &[LawName::ContSchaanning]),
];

const RULE_KEYS: &[(&str, &[RuleName])] = &[
    ("target", &[RuleName::LeverageTarget, RuleName::Threshold]),
    ("symmetric", &[RuleName::LeverageTarget]),
    ("max", &[RuleName::Threshold]),
    ("min_ratio", &[RuleName::CapitalRatio]),
];

const SHOCK_KEYS: &[(&str, &[ShockName])] = &[
    ("asset", &[ShockName::Asset, ShockName::ExogenousSale]),
    (
        "tag",
        &[ShockName::Tag, ShockName::Market, ShockName::DiscountRate],
    ),
    (
        "return",
        &[ShockName::Asset, ShockName::Tag, ShockName::Market],
    ),
    ("delta", &[ShockName::DiscountRate]),
    ("usd", &[ShockName::ExogenousSale]),
    ("lender", &[ShockName::MarginTightening]),
    ("by", &[ShockName::MarginTightening]),
    ("holder", &[ShockName::Redemption]),
    ("fraction", &[ShockName::Redemption]),
];

/// Whether `key` belongs to `this` (kind, law, rule or shock type) in `table`; keys not in
/// the table belong to all.
fn owns<T: PartialEq>(table: &[(&str, &[T])], key: &str, this: &T) -> bool {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .is_none_or(|(_, owners)| owners.contains(this))
}

fn names<T: Copy>(list: &[T], name: fn(T) -> &'static str) -> String {
    list.iter().map(|&k| name(k)).collect::<Vec<_>>().join(", ")
}

impl<'s> Cx<'s> {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>, hint: Option<String>) {
        self.problems
            .push(pending(path, Place::Value, message, hint));
    }

    fn err_key(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.problems.push(pending(path, Place::Key, message, hint));
    }

    /// Report keys present for a variant they do not belong to.
    fn misplaced<T: Copy + PartialEq>(
        &mut self,
        base: &str,
        this: T,
        this_what: &str,
        table: &[(&str, &[T])],
        present: &[(&str, bool)],
        name: fn(T) -> &'static str,
    ) {
        for &(key, is_present) in present {
            if !is_present {
                continue;
            }
            if let Some((_, owners)) = table.iter().find(|(k, _)| *k == key)
                && !owners.contains(&this)
            {
                self.err_key(
                    join_key(base, key),
                    format!(
                        "`{key}` does not apply to {this_what} `{}`; it belongs to {}",
                        name(this),
                        names(owners, name)
                    ),
                    Some(format!(
                        "remove `{key}`, or change the {}",
                        this_what.trim_start_matches("a ").trim_start_matches("an ")
                    )),
                );
            }
        }
    }

    /// Report `v` at `path` unless it is within `lim`; true when it is.
    fn limit(&mut self, path: impl Into<String>, v: f64, lim: &Limit) -> bool {
        match limits::violation(v, lim) {
            None => true,
            Some(msg) => {
                self.err(path, msg, Some(lim.why.to_owned()));
                false
            }
        }
    }

    /// [`Cx::limit`] for an optional value at `base.key`.
    fn limit_key(&mut self, base: &str, key: &str, v: Option<crate::spec::Num>, lim: &Limit) {
        if let Some(v) = num(v) {
            self.limit(join_key(base, key), v, lim);
        }
    }

    /// A whole number in `[1, max]` (`unit` names what it counts); out of range, it is
    /// reported and clamped so that nothing downstream reports it again.
    fn whole(&mut self, path: String, w: Whole, max: u64, unit: &str, hint: &str) -> u64 {
        let max_i = i128::from(max);
        if w.value < 1 {
            self.err(
                path,
                format!("expected a whole number of {unit} ≥ 1, got {w}"),
                Some(hint.to_owned()),
            );
        } else if w.value > max_i {
            self.err(
                path,
                format!("must be at most {max} {unit}, got {w}"),
                Some(hint.to_owned()),
            );
        }
        u64::try_from(w.value.clamp(1, max_i)).unwrap_or(1)
    }

    /// A count of trading days in `[0, max]`; out of range, it is reported and clamped.
    fn days(&mut self, path: String, d: Days, max: u32, hint: &str) -> u32 {
        if d.0 < 0 {
            self.err(
                path,
                format!("expected a whole number of days ≥ 0, got {}", d.0),
                Some(hint.to_owned()),
            );
        } else if d.0 > i128::from(max) {
            self.err(
                path,
                format!("must be at most {max} trading days, got {}", d.0),
                Some(hint.to_owned()),
            );
        }
        u32::try_from(d.0.clamp(0, i128::from(max))).unwrap_or(0)
    }

    /// A participation rate in (0, 1]; reported when outside.
    fn participation(&mut self, path: String, p: f64) -> f64 {
        if !(p > 0.0 && p <= 1.0) {
            self.err(
                path,
                format!("must be in (0, 1], got {p}"),
                Some("a fraction of the asset's average daily volume sold per day: 0.1-0.25 is a large but executable participation".into()),
            );
        }
        p
    }

    fn missing(&mut self, path: String, what: &str, hint: &str) {
        let key = path.rsplit('.').next().unwrap_or_default().to_owned();
        self.err(
            path,
            format!("missing required key `{key}` for {what}"),
            Some(hint.to_owned()),
        );
    }

    fn check_source(&mut self, path: String, source: Option<&String>) {
        if let Some(id) = source
            && !self.spec.sources.iter().any(|s| &s.id == id)
        {
            let hint = suggest::hint_for(
                id,
                self.spec.sources.iter().map(|s| s.id.as_str()),
                "sources",
            );
            self.err(path, format!("unknown source `{id}`"), Some(hint));
        }
    }

    /// Resolve a reference; report it when it names nothing or the wrong kind of node.
    fn resolve(&mut self, path: String, id: &str, want: Want) -> Option<IdKind> {
        let candidates: Vec<&str> = self
            .ids
            .iter()
            .filter(|(_, (k, _))| want.accepts(*k))
            .map(|(id, _)| *id)
            .collect();
        match self.ids.get(id) {
            Some((k, _)) if want.accepts(*k) => Some(*k),
            Some((k, p)) => {
                let msg = format!(
                    "`{id}` is {} ({p}), expected {} {}",
                    k.a(),
                    article(want.what()),
                    want.what()
                );
                let all = suggest::list(candidates.iter().copied(), 12);
                let hint = if all.is_empty() {
                    format!("no {} are defined", want.plural())
                } else {
                    format!("known {}: {all}", want.plural())
                };
                self.err(path, msg, Some(hint));
                None
            }
            None => {
                let hint = suggest::hint_for(id, candidates.iter().copied(), want.plural());
                self.err(path, format!("unknown {} `{id}`", want.what()), Some(hint));
                None
            }
        }
    }

    fn register(&mut self, kind: IdKind, index: usize, id: &'s str, base: String) {
        let path = join_key(&base, "id");
        if id.trim().is_empty() {
            self.err(path, "ids must not be empty", None);
            self.skipped.insert((kind, index));
            return;
        }
        if let Some((k, first)) = self.ids.get(id) {
            let msg = format!("duplicate id `{id}`: already used by {} ({first})", k.a());
            self.err(
                path,
                msg,
                Some("every asset, holder and lender needs its own id".into()),
            );
            self.skipped.insert((kind, index));
            return;
        }
        self.ids.insert(id, (kind, base));
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Resolve a CSV include against the scenario's directory, refusing paths that leave it.
fn resolve_include(base: Option<&Path>, rel: &str) -> Result<(PathBuf, String), (String, String)> {
    let Some(base) = base else {
        return Err((
            "CSV books need a scenario file to be relative to; this scenario was given as text"
                .into(),
            "load the scenario from a file (`delever run FILE.yaml`)".into(),
        ));
    };
    let p = Path::new(rel);
    if rel.trim().is_empty() {
        return Err((
            "the path is empty".into(),
            "give the CSV's path relative to the scenario file".into(),
        ));
    }
    if p.is_absolute() || p.has_root() {
        return Err((
            format!("absolute path `{rel}` refused"),
            "give the CSV's path relative to the scenario file's directory".into(),
        ));
    }
    let mut depth: i64 = 0;
    for c in p.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => depth = -1,
        }
        if depth < 0 {
            return Err((
                format!("`{rel}` leaves the scenario's directory"),
                "keep CSV books in the scenario's directory or below it".into(),
            ));
        }
    }
    let joined = base.join(p);
    let display = if base == Path::new(".") {
        p.display().to_string()
    } else {
        joined.display().to_string()
    };
    let canon_base = base.canonicalize().map_err(|e| {
        (
            format!(
                "cannot resolve the scenario's directory `{}`: {e}",
                base.display()
            ),
            "check that the scenario's directory exists".to_owned(),
        )
    })?;
    let canon = joined.canonicalize().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            (
                format!("file not found: `{display}`"),
                format!(
                    "the path is relative to the scenario's directory `{}`",
                    base.display()
                ),
            )
        } else {
            (
                format!("cannot open `{display}`: {e}"),
                "check the path".into(),
            )
        }
    })?;
    if !canon.starts_with(&canon_base) {
        return Err((
            format!("`{rel}` leads outside the scenario's directory (through a link)"),
            "keep CSV books in the scenario's directory or below it".into(),
        ));
    }
    if !canon.is_file() {
        return Err((
            format!("`{display}` is not a file"),
            "give the path of a CSV file".into(),
        ));
    }
    Ok((canon, display))
}

/// Validate `spec` and build the model, or list every problem found.
#[allow(clippy::too_many_lines)] // the steps in order, each a few lines: reads best in one place
pub(crate) fn convert(spec: &ScenarioSpec, origin: &Origin<'_>) -> Result<Converted, Vec<Pending>> {
    let mut cx = Cx {
        spec,
        problems: Vec::new(),
        ids: BTreeMap::new(),
        skipped: BTreeSet::new(),
        assets: BTreeMap::new(),
        holders: BTreeMap::new(),
        lenders: BTreeMap::new(),
        holder_meta: BTreeMap::new(),
        prices: Vec::new(),
        suppress: BTreeSet::new(),
    };
    header(&mut cx, origin);
    let sources = sources(&mut cx);
    for (i, a) in spec.assets.iter().enumerate() {
        cx.register(IdKind::Asset, i, &a.id, join_index("assets", i));
    }
    for (i, h) in spec.holders.iter().enumerate() {
        cx.register(IdKind::Holder, i, &h.id, join_index("holders", i));
    }
    for (i, l) in spec.lenders.iter().enumerate() {
        cx.register(IdKind::Lender, i, &l.id, join_index("lenders", i));
    }
    if spec.assets.is_empty() {
        cx.err(
            "assets",
            "a scenario needs at least one asset",
            Some("add `assets: [{ id: NVDA, price: 180.0, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }]`".into()),
        );
    }

    let mut b = NetworkBuilder::new();
    let (default_law, default_decay) = match spec.defaults.as_ref().and_then(|d| d.impact.as_ref())
    {
        Some(imp) => (
            impact(&mut cx, imp, "defaults.impact"),
            decay(&mut cx, imp, "defaults.impact"),
        ),
        None => (ImpactLaw::SquareRoot { y: 0.7 }, ImpactDecay::default()),
    };
    for (key, d) in [
        (
            "cure_days",
            spec.defaults.as_ref().and_then(|d| d.cure_days),
        ),
        (
            "redemption_lag_days",
            spec.defaults.as_ref().and_then(|d| d.redemption_lag_days),
        ),
    ] {
        if let Some(d) = d {
            cx.days(
                join_key("defaults", key),
                d,
                limits::MAX_DAYS as u32,
                "trading days, e.g. 2",
            );
        }
    }
    if let Some(c) = spec.defaults.as_ref().and_then(|d| num(d.cure_rate))
        && !(0.0..=1.0).contains(&c)
    {
        cx.err(
            "defaults.cure_rate",
            format!("expected a fraction in [0, 1], got {c}"),
            Some("the share of margin calls met with fresh cash".into()),
        );
    }
    for (i, a) in spec.assets.iter().enumerate() {
        let asset = asset(&mut cx, a, i, default_law, &default_decay);
        if !cx.skipped.contains(&(IdKind::Asset, i)) {
            cx.prices.push(asset.price);
            let ix = b.add_asset(asset);
            cx.assets.insert(&a.id, ix);
        }
    }
    for (i, l) in spec.lenders.iter().enumerate() {
        let lender = lender(&mut cx, l, i);
        if !cx.skipped.contains(&(IdKind::Lender, i)) {
            let ix = b.add_lender(lender);
            cx.lenders.insert(&l.id, ix);
        }
    }
    let lookup = AssetLookup::new(cx.assets.iter().map(|(k, v)| (*k, *v)));
    for (i, h) in spec.holders.iter().enumerate() {
        let (holder, accounts_file) = holder(&mut cx, h, i, origin, &lookup);
        if !cx.skipped.contains(&(IdKind::Holder, i)) {
            let book = match &holder.kind {
                HolderKind::AccountBook { book, .. } => Some(Arc::clone(book)),
                _ => None,
            };
            let ix = b.add_holder(holder);
            cx.holders.insert(&h.id, ix);
            cx.holder_meta.insert(
                &h.id,
                HolderMeta {
                    index: i,
                    accounts_file,
                    book,
                },
            );
        }
    }
    for (i, h) in spec.holders.iter().enumerate() {
        if !cx.skipped.contains(&(IdKind::Holder, i)) {
            holder_edges(&mut cx, &mut b, h, i);
        }
    }
    for (i, l) in spec.lenders.iter().enumerate() {
        if !cx.skipped.contains(&(IdKind::Lender, i)) {
            owes(
                &mut cx,
                &mut b,
                &l.id,
                l.owes.as_deref(),
                &join_index("lenders", i),
            );
        }
    }

    let network = match b.build() {
        Ok(net) => Some(net),
        Err(e) => {
            let mine = !cx.problems.is_empty();
            for p in e.problems {
                if mine && is_solvency(&p) {
                    continue; // likely a consequence of a problem already reported
                }
                let id = subject_id(&p.subject);
                if cx.suppress.contains(&(id.to_owned(), p.field.clone())) {
                    continue;
                }
                if let Some(pend) = book_solvency(&cx, &p) {
                    cx.problems.push(pend);
                    continue;
                }
                let pend = map_problem(&cx, p);
                cx.problems.push(pend);
            }
            None
        }
    };

    let shocks = shocks(&mut cx, &spec.shocks, "shocks");
    let raw_engine = match &spec.engine {
        Some(e) => engine(&mut cx, e, "engine", engine_base()),
        None => engine_base(),
    };
    let engine = engine_done(&mut cx, raw_engine.clone(), "engine");
    shock_days(&mut cx, &spec.shocks, "shocks", &engine, "engine");
    let expect = spec
        .expect
        .as_ref()
        .map(|e| expectations(&mut cx, e, "expect", &engine));
    let variants = variants(&mut cx, &shocks, &raw_engine);
    let monte_carlo = spec
        .monte_carlo
        .as_ref()
        .and_then(|m| monte_carlo(&mut cx, m, "monte_carlo"));

    match network {
        Some(network) if cx.problems.is_empty() => Ok(Converted {
            sources,
            network,
            shocks,
            engine,
            expect,
            variants,
            monte_carlo,
        }),
        _ => Err(cx.problems),
    }
}

fn header(cx: &mut Cx<'_>, origin: &Origin<'_>) {
    let spec = cx.spec;
    if spec.name.trim().is_empty() {
        cx.err(
            "name",
            "the name must not be empty",
            Some("use the file's stem, e.g. `name: semis-sentiment-reversal`".into()),
        );
    } else if let Some(stem) = origin.stem
        && spec.name != stem
    {
        cx.err(
            "name",
            format!(
                "the name `{}` differs from the file's stem `{stem}`",
                spec.name
            ),
            Some(format!(
                "set `name: {stem}`, or rename the file to `{}.yaml`",
                spec.name
            )),
        );
    }
    if spec.description.trim().is_empty() {
        cx.err(
            "description",
            "the description must not be empty",
            Some("say in a sentence or two what the scenario is about".into()),
        );
    }
    if !is_iso_date(&spec.as_of) {
        cx.err(
            "as_of",
            format!("expected an ISO date YYYY-MM-DD, got `{}`", spec.as_of),
            Some("e.g. `as_of: 2026-05-29`".into()),
        );
    }
}

fn sources(cx: &mut Cx<'_>) -> Vec<Source> {
    let spec = cx.spec;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(spec.sources.len());
    for (i, s) in spec.sources.iter().enumerate() {
        let base = join_index("sources", i);
        if s.id.trim().is_empty() {
            cx.err(join_key(&base, "id"), "source ids must not be empty", None);
        } else if let Some(first) = seen.get(s.id.as_str()) {
            cx.err(
                join_key(&base, "id"),
                format!("duplicate source id `{}` (first at sources[{first}])", s.id),
                Some("every source needs its own id".into()),
            );
        } else {
            seen.insert(&s.id, i);
        }
        if s.title.trim().is_empty() {
            cx.err(
                join_key(&base, "title"),
                "the title must not be empty",
                None,
            );
        }
        if let Some(d) = &s.date
            && !is_iso_date(d)
        {
            cx.err(
                join_key(&base, "date"),
                format!("expected an ISO date YYYY-MM-DD, got `{d}`"),
                Some("e.g. `date: 2026-01-20`".into()),
            );
        }
        out.push(Source {
            id: s.id.clone(),
            title: s.title.clone(),
            url: s.url.clone(),
            date: s.date.clone(),
        });
    }
    out
}

fn impact(cx: &mut Cx<'_>, imp: &ImpactSpec, base: &str) -> ImpactLaw {
    cx.misplaced(
        base,
        imp.law,
        "impact law",
        LAW_KEYS,
        &[
            ("per_usd", imp.per_usd.is_some()),
            ("alpha", imp.alpha.is_some()),
            ("y", imp.y.is_some()),
            ("c", imp.c.is_some()),
            ("tau_days", imp.tau_days.is_some()),
            ("floor", imp.floor.is_some()),
        ],
        LawName::name,
    );
    for (key, v, lim) in [
        ("per_usd", imp.per_usd, &limits::PER_USD),
        ("alpha", imp.alpha, &limits::ALPHA),
        ("y", imp.y, &limits::Y),
        ("c", imp.c, &limits::C),
        ("tau_days", imp.tau_days, &limits::TAU_DAYS),
    ] {
        if owns(LAW_KEYS, key, &imp.law) {
            cx.limit_key(base, key, v, lim);
        }
    }
    match imp.law {
        LawName::Linear => {
            let per_usd = num(imp.per_usd).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "per_usd"),
                    "the linear law",
                    "price impact per dollar sold, e.g. `per_usd: 1e-13` (GLT's calibration)",
                );
                0.0
            });
            ImpactLaw::Linear { per_usd }
        }
        LawName::Exponential => ImpactLaw::Exponential {
            alpha: num(imp.alpha).unwrap_or(DEFAULT_ALPHA),
        },
        LawName::SquareRoot => ImpactLaw::SquareRoot {
            y: num(imp.y).unwrap_or(0.7),
        },
        LawName::ContSchaanning => ImpactLaw::ContSchaanning {
            c: num(imp.c).unwrap_or(0.4),
            tau_days: num(imp.tau_days).unwrap_or(20.0),
            floor: num(imp.floor).unwrap_or(0.5),
        },
    }
}

/// How an impact block's impact decays over days (all permanent when it says nothing).
fn decay(cx: &mut Cx<'_>, imp: &ImpactSpec, base: &str) -> ImpactDecay {
    let Some(d) = &imp.decay else {
        return ImpactDecay::default();
    };
    let at = join_key(base, "decay");
    let permanent = d.permanent.0;
    let mut ok = true;
    if !(0.0..=1.0).contains(&permanent) {
        cx.err(
            join_key(&at, "permanent"),
            format!("must be in [0, 1], got {permanent}"),
            Some("the share of impact that never reverts: the metaorder studies find about 1/2 of the day-end impact".into()),
        );
        ok = false;
    }
    let half_life = |cx: &mut Cx<'_>, path: String, h: f64| -> bool {
        if h > 0.0 && h <= limits::MAX_DAYS {
            true
        } else {
            cx.err(
                path,
                format!("must be in (0, {}] trading days, got {h}", limits::MAX_DAYS),
                Some("a half-life in trading days: 0.5 reverts mostly overnight, 10 over two weeks; for impact that never reverts raise `permanent` instead".into()),
            );
            false
        }
    };
    let transient = match (num(d.half_life_days), &d.transient) {
        (Some(_), Some(_)) => {
            cx.err_key(
                join_key(&at, "transient"),
                "give `half_life_days` (one transient part) or `transient` (several), not both",
                None,
            );
            return ImpactDecay::default();
        }
        (Some(h), None) => {
            ok &= half_life(cx, join_key(&at, "half_life_days"), h);
            if permanent < 1.0 {
                vec![TransientImpact {
                    share: 1.0 - permanent,
                    half_life_days: h,
                }]
            } else {
                Vec::new()
            }
        }
        (None, Some(parts)) => {
            let base_t = join_key(&at, "transient");
            let mut out = Vec::with_capacity(parts.len());
            for (j, t) in parts.iter().enumerate() {
                let pj = join_index(&base_t, j);
                if !(t.share.0 > 0.0 && t.share.0 <= 1.0) {
                    cx.err(
                        join_key(&pj, "share"),
                        format!("must be in (0, 1], got {}", t.share.0),
                        None,
                    );
                    ok = false;
                }
                ok &= half_life(cx, join_key(&pj, "half_life_days"), t.half_life_days.0);
                out.push(TransientImpact {
                    share: t.share.0,
                    half_life_days: t.half_life_days.0,
                });
            }
            let total = permanent + out.iter().map(|t| t.share).sum::<f64>();
            if ok && (total - 1.0).abs() > delever_graph::WEIGHT_TOLERANCE {
                cx.err(
                    base_t,
                    format!("`permanent` and the transient shares must sum to 1, got {total}"),
                    Some("e.g. `{ permanent: 0.4, transient: [{ share: 0.3, half_life_days: 1 }, { share: 0.3, half_life_days: 10 }] }`".into()),
                );
                ok = false;
            }
            out
        }
        (None, None) => {
            if permanent < 1.0 {
                cx.missing(
                    join_key(&at, "half_life_days"),
                    "impact that is partly transient",
                    "how fast the rest reverts, e.g. `half_life_days: 2`, or a `transient:` list",
                );
                ok = false;
            }
            Vec::new()
        }
    };
    if ok {
        ImpactDecay {
            permanent,
            transient,
        }
    } else {
        // Reported here with its path; the builder must not report it again.
        ImpactDecay::default()
    }
}

fn asset(
    cx: &mut Cx<'_>,
    a: &AssetSpec,
    i: usize,
    default_law: ImpactLaw,
    default_decay: &ImpactDecay,
) -> Asset {
    let base = join_index("assets", i);
    cx.check_source(join_key(&base, "source"), a.source.as_ref());
    // The builder reports values ≤ 0 (its own messages); the ranges add the rest.
    for (key, v, lim) in [
        ("price", a.price.0, &limits::PRICE),
        (
            "shares_outstanding",
            a.shares_outstanding.0,
            &limits::SHARES_OUTSTANDING,
        ),
    ] {
        if v > 0.0 {
            cx.limit(join_key(&base, key), v, lim);
        }
    }
    cx.limit_key(&base, "adv_usd", a.adv_usd, &limits::USD);
    cx.limit_key(&base, "daily_vol", a.daily_vol, &limits::DAILY_VOL);
    cx.limit_key(&base, "beta", a.beta, &limits::BETA);
    cx.limit_key(&base, "duration", a.duration, &limits::DURATION);
    let (law, decay) = match &a.impact {
        Some(imp) => {
            let at = join_key(&base, "impact");
            (impact(cx, imp, &at), decay(cx, imp, &at))
        }
        None => (default_law, default_decay.clone()),
    };
    asset_with(a, law, decay)
}

/// The asset a spec describes, with impact law `law` decaying as `decay`.
fn asset_with(a: &AssetSpec, law: ImpactLaw, decay: ImpactDecay) -> Asset {
    Asset {
        id: a.id.clone(),
        price: a.price.0,
        shares_outstanding: a.shares_outstanding.0,
        adv_usd: num(a.adv_usd).unwrap_or(0.0),
        daily_vol: num(a.daily_vol).unwrap_or(0.0),
        beta: num(a.beta).unwrap_or(1.0),
        duration: num(a.duration).unwrap_or(0.0),
        tags: a.tags.clone(),
        impact: law,
        decay,
    }
}

fn lender(cx: &mut Cx<'_>, l: &LenderSpec, i: usize) -> Lender {
    let base = join_index("lenders", i);
    cx.check_source(join_key(&base, "source"), l.source.as_ref());
    cx.limit(join_key(&base, "capital"), l.capital.0, &limits::USD);
    cx.limit_key(
        &base,
        "other_liabilities",
        l.other_liabilities,
        &limits::USD,
    );
    if let Some(t) = &l.tighten {
        cx.limit(
            join_key(&join_key(&base, "tighten"), "trigger"),
            t.trigger.0,
            &limits::TRIGGER,
        );
    }
    let liquidation = l.liquidation.as_ref().map_or_else(Liquidation::default, |q| {
        let at = join_key(&base, "liquidation");
        Liquidation {
            delay_days: q.delay_days.map_or(0, |d| {
                cx.days(
                    join_key(&at, "delay_days"),
                    d,
                    limits::MAX_DAYS as u32,
                    "trading days before the lender starts selling a defaulted borrower's collateral",
                )
            }),
            participation: num(q.participation)
                .map(|p| cx.participation(join_key(&at, "participation"), p)),
            close_out: q.close_out.unwrap_or(false),
        }
    });
    Lender {
        id: l.id.clone(),
        capital: l.capital.0,
        tighten_trigger: l.tighten.as_ref().map(|t| t.trigger.0),
        tighten_by: l.tighten.as_ref().map_or(0.0, |t| t.by.0),
        other_liabilities: num(l.other_liabilities).unwrap_or(0.0),
        liquidation,
    }
}

fn rule(cx: &mut Cx<'_>, r: &RuleSpec, base: &str) -> BalanceSheetRule {
    cx.misplaced(
        base,
        r.kind,
        "rule type",
        RULE_KEYS,
        &[
            ("target", r.target.is_some()),
            ("symmetric", r.symmetric.is_some()),
            ("max", r.max.is_some()),
            ("min_ratio", r.min_ratio.is_some()),
        ],
        RuleName::name,
    );
    for (key, v) in [("target", r.target), ("max", r.max)] {
        if owns(RULE_KEYS, key, &r.kind) {
            cx.limit_key(base, key, v, &limits::LEVERAGE);
        }
    }
    match r.kind {
        RuleName::LeverageTarget => {
            let target = num(r.target).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "target"),
                    "a leverage_target rule",
                    "target leverage (assets/equity), e.g. `target: 3.0`",
                );
                1.0
            });
            BalanceSheetRule::LeverageTarget {
                target,
                symmetric: r.symmetric.unwrap_or(false),
            }
        }
        RuleName::Threshold => {
            let max = num(r.max).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "max"),
                    "a threshold rule",
                    "the leverage that triggers selling, e.g. `max: 33` (a 3% leverage ratio)",
                );
                2.0
            });
            let target = num(r.target).unwrap_or(0.95 * max);
            BalanceSheetRule::Threshold { max, target }
        }
        RuleName::FailLiquidate => BalanceSheetRule::FailLiquidate,
        RuleName::CapitalRatio => {
            let min_ratio = num(r.min_ratio).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "min_ratio"),
                    "a capital_ratio rule",
                    "the minimum equity/assets, e.g. `min_ratio: 0.04`",
                );
                0.5
            });
            BalanceSheetRule::CapitalRatio { min_ratio }
        }
        RuleName::Passive => BalanceSheetRule::Passive,
    }
}

#[allow(clippy::too_many_lines)] // one arm per holder kind
fn holder(
    cx: &mut Cx<'_>,
    h: &HolderSpec,
    i: usize,
    origin: &Origin<'_>,
    lookup: &AssetLookup,
) -> (Holder, Option<AccountsFile>) {
    let base = join_index("holders", i);
    let kind = h.kind;
    cx.check_source(join_key(&base, "source"), h.source.as_ref());
    cx.misplaced(
        &base,
        kind,
        "holder kind",
        KIND_KEYS,
        &[
            ("cure_rate", h.cure_rate.is_some()),
            ("accounts", h.accounts.is_some()),
            ("ltv_buckets", h.ltv_buckets.is_some()),
            ("accounts_csv", h.accounts_csv.is_some()),
            ("holdings_csv", h.holdings_csv.is_some()),
            ("multiple", h.multiple.is_some()),
            ("nav", h.nav.is_some()),
            ("basket", h.basket.is_some()),
            ("rule", h.rule.is_some()),
            ("default_below_ratio", h.default_below_ratio.is_some()),
            ("redemption_beta", h.redemption_beta.is_some()),
            ("redemption_lag_days", h.redemption_lag_days.is_some()),
            ("cure_days", h.cure_days.is_some()),
            ("participation", h.participation.is_some()),
            ("holdings", h.holdings.is_some()),
            ("margin", h.margin.is_some()),
        ],
        KindName::name,
    );
    let present = |key: &str| match key {
        "margin" => h.margin.is_some(),
        "accounts" => h.accounts.is_some(),
        "ltv_buckets" => h.ltv_buckets.is_some(),
        "accounts_csv" => h.accounts_csv.is_some(),
        "holdings_csv" => h.holdings_csv.is_some(),
        "multiple" => h.multiple.is_some(),
        "nav" => h.nav.is_some(),
        "basket" => h.basket.is_some(),
        "rule" => h.rule.is_some(),
        _ => true,
    };
    for &(key, hint) in kind_required(kind) {
        if !present(key) {
            cx.missing(join_key(&base, key), &format!("a {kind}"), hint);
            cx.suppress.insert((h.id.clone(), key.to_owned()));
        }
    }
    for (key, v) in [
        ("cash", h.cash),
        ("other_assets", h.other_assets),
        ("other_liabilities", h.other_liabilities),
    ] {
        cx.limit_key(&base, key, v, &limits::USD);
    }
    for (key, v, lim) in [
        ("multiple", h.multiple, &limits::MULTIPLE),
        ("nav", h.nav, &limits::USD),
        (
            "redemption_beta",
            h.redemption_beta,
            &limits::REDEMPTION_BETA,
        ),
    ] {
        if owns(KIND_KEYS, key, &kind) {
            cx.limit_key(&base, key, v, lim);
        }
    }
    let cure_rate = num(h.cure_rate)
        .or_else(|| cx.spec.defaults.as_ref().and_then(|d| num(d.cure_rate)))
        .unwrap_or(0.0);
    let mut accounts_file = None;
    let hk = match kind {
        KindName::MarginAccount => HolderKind::MarginAccount { cure_rate },
        KindName::MarginCohort => HolderKind::MarginCohort {
            accounts: h.accounts.map_or(1, |w| {
                cx.whole(
                    join_key(&base, "accounts"),
                    w,
                    limits::MAX_ACCOUNTS,
                    "accounts",
                    "the number of accounts the cohort stands for, from 1 to 1,000,000,000, e.g. `accounts: 1200000`",
                )
            }),
            buckets: h.ltv_buckets.as_ref().map_or_else(
                || {
                    vec![LtvBucket {
                        ltv: 0.0,
                        share: 1.0,
                    }]
                },
                |bs| {
                    bs.iter()
                        .map(|b| LtvBucket {
                            ltv: b.ltv.0,
                            share: b.share.0,
                        })
                        .collect()
                },
            ),
            cure_rate,
        },
        KindName::AccountBook => {
            let book = match (&h.accounts_csv, &h.holdings_csv) {
                (Some(a), Some(hc)) => {
                    let (book, file) = load_book(cx, &base, origin, a, hc, lookup);
                    accounts_file = file;
                    book
                }
                _ => None,
            };
            HolderKind::AccountBook {
                book: book.unwrap_or_else(|| {
                    Arc::new(AccountBook {
                        row_ptr: vec![0],
                        ..AccountBook::default()
                    })
                }),
                cure_rate,
            }
        }
        KindName::LeveragedEtf => HolderKind::LeveragedEtf {
            multiple: num(h.multiple).unwrap_or(1.0),
            nav: num(h.nav).unwrap_or(1.0),
            basket: h.basket.as_ref().map_or_else(
                || {
                    cx.assets
                        .keys()
                        .next()
                        .map(|a| vec![((*a).to_owned(), 1.0)])
                        .unwrap_or_default()
                },
                |m| m.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
            ),
        },
        KindName::LeveragedFund | KindName::Bank => {
            let r = match &h.rule {
                Some(r) => rule(cx, r, &join_key(&base, "rule")),
                None => BalanceSheetRule::Passive,
            };
            if kind == KindName::Bank {
                HolderKind::Bank { rule: r }
            } else {
                HolderKind::LeveragedFund { rule: r }
            }
        }
        KindName::Fund => HolderKind::Fund {
            redemption_beta: num(h.redemption_beta).unwrap_or(0.0),
        },
    };
    let mut holder = Holder::new(h.id.clone(), hk);
    holder.cash = num(h.cash).unwrap_or(0.0);
    holder.other_assets = num(h.other_assets).unwrap_or(0.0);
    holder.other_liabilities = num(h.other_liabilities).unwrap_or(0.0);
    holder.sale_order = match h.sale_order {
        None | Some(SaleOrderName::ProRata) => SaleOrder::ProRata,
        Some(SaleOrderName::MostLiquidFirst) => SaleOrder::MostLiquidFirst,
    };
    holder.cash_use = match h.cash_use {
        None | Some(CashUseName::First) => CashUse::First,
        Some(CashUseName::ProRata) => CashUse::ProRata,
        Some(CashUseName::Never) => CashUse::Never,
    };
    holder.starts_insolvent = h.starts_insolvent.unwrap_or(false);
    if KIND_KEYS
        .iter()
        .any(|(k, kinds)| *k == "default_below_ratio" && kinds.contains(&kind))
    {
        holder.default_below_ratio = num(h.default_below_ratio);
    }
    holder.tags = h.tags.clone().unwrap_or_default();
    holder.timing = timing(cx, h, &base, &holder.kind);
    (holder, accounts_file)
}

/// A holder's timing in timeline mode: its own keys, else the scenario's `defaults:`, else
/// the built-in defaults (docs/model.md, section 9).
fn timing(cx: &mut Cx<'_>, h: &HolderSpec, base: &str, kind: &HolderKind) -> Timing {
    let defaults = cx.spec.defaults.as_ref();
    let max = limits::MAX_DAYS as u32;
    let built_in = Timing::for_kind(kind, h.margin.is_some());
    let cure_days = match h.cure_days {
        Some(d) => cx.days(
            join_key(base, "cure_days"),
            d,
            max,
            "trading days to meet a margin call: brokers give 0 (due at once) to about 5",
        ),
        None => defaults
            .and_then(|d| d.cure_days)
            .map_or(built_in.cure_days, |d| {
                u32::try_from(d.0.clamp(0, i128::from(max))).unwrap_or(0)
            }),
    };
    let redemption_lag_days = match h.redemption_lag_days {
        Some(d) => cx.days(
            join_key(base, "redemption_lag_days"),
            d,
            max,
            "trading days between a fund's return and the redemptions it draws, e.g. 1",
        ),
        None => defaults
            .and_then(|d| d.redemption_lag_days)
            .map_or(built_in.redemption_lag_days, |d| {
                u32::try_from(d.0.clamp(0, i128::from(max))).unwrap_or(0)
            }),
    };
    let participation = if owns(KIND_KEYS, "participation", &h.kind) {
        num(h.participation).map(|p| cx.participation(join_key(base, "participation"), p))
    } else {
        None
    };
    Timing {
        cure_days,
        participation,
        redemption_lag_days,
    }
}

/// Load an account book's CSVs; problems go to `cx`. Returns the book and the accounts
/// file's display name.
fn load_book(
    cx: &mut Cx<'_>,
    base: &str,
    origin: &Origin<'_>,
    accounts: &str,
    holdings: &str,
    lookup: &AssetLookup,
) -> (Option<Arc<AccountBook>>, Option<AccountsFile>) {
    if let Some(hit) = origin.books.and_then(|c| c.get(accounts, holdings, lookup)) {
        // Books are shared: an instance points at the book loaded once, no copy.
        return (Some(Arc::clone(&hit.book)), Some(hit.accounts_file.clone()));
    }
    let mut resolved = Vec::new();
    for (key, rel) in [("accounts_csv", accounts), ("holdings_csv", holdings)] {
        match resolve_include(origin.base_dir, rel) {
            Ok(r) => resolved.push(r),
            Err((msg, hint)) => cx.err(join_key(base, key), msg, Some(hint)),
        }
    }
    let Ok([(acc_path, acc_name), (hold_path, hold_name)]) = <[_; 2]>::try_from(resolved) else {
        return (None, None);
    };
    let _span =
        tracing::debug_span!("load_book", accounts = %acc_name, holdings = %hold_name).entered();
    let accounts_file = AccountsFile {
        name: acc_name.clone(),
        path: acc_path.clone(),
    };
    match book::load(
        &BookFiles {
            accounts: &acc_path,
            holdings: &hold_path,
        },
        lookup,
    ) {
        Ok(book) => {
            tracing::debug!(
                accounts = book.len(),
                holdings = book.holdings(),
                "account book loaded"
            );
            let book = Arc::new(book);
            if let Some(record) = origin.record {
                record.borrow_mut().entries.push(CachedBook {
                    accounts_csv: accounts.to_owned(),
                    holdings_csv: holdings.to_owned(),
                    lookup: lookup.clone(),
                    accounts_file: accounts_file.clone(),
                    book: Arc::clone(&book),
                });
            }
            (Some(book), Some(accounts_file))
        }
        Err(problems) => {
            for p in problems {
                let file = if p.key == "accounts_csv" {
                    acc_name.clone()
                } else {
                    hold_name.clone()
                };
                cx.problems.push(pending(
                    join_key(base, p.key),
                    Place::File {
                        file,
                        line: p.line,
                        column: p.column,
                    },
                    p.message,
                    p.hint,
                ));
            }
            (None, Some(accounts_file))
        }
    }
}

fn holder_edges(cx: &mut Cx<'_>, b: &mut NetworkBuilder, h: &HolderSpec, i: usize) {
    let base = join_index("holders", i);
    let allows = |key: &str| {
        KIND_KEYS
            .iter()
            .find(|(k, _)| *k == key)
            .is_none_or(|(_, kinds)| kinds.contains(&h.kind))
    };
    if let (Some(holdings), true) = (&h.holdings, allows("holdings")) {
        for (j, hd) in holdings.iter().enumerate() {
            let p = join_index(&join_key(&base, "holdings"), j);
            let asset = cx.resolve(join_key(&p, "asset"), &hd.asset, Want::Asset);
            let shares = holding_shares(cx, hd, &p);
            if let (Some(IdKind::Asset), Some(s)) = (asset, shares) {
                b.holds(&h.id, &hd.asset, s);
            }
        }
    }
    if let (Some(m), true) = (&h.margin, allows("margin")) {
        let p = join_key(&base, "margin");
        let derived = matches!(h.kind, KindName::MarginCohort | KindName::AccountBook);
        let loan = match (num(m.loan), derived) {
            (Some(_), true) => {
                cx.err_key(
                    join_key(&p, "loan"),
                    format!("a {} derives its loan; `loan` must be left out", h.kind),
                    Some(if h.kind == KindName::MarginCohort {
                        "the loan is Σ ltv × share × holdings value over `ltv_buckets`".into()
                    } else {
                        "the loan is the sum of the `loan` column of `accounts_csv`".into()
                    }),
                );
                0.0
            }
            (None, true) => 0.0,
            (Some(l), false) => {
                cx.limit(join_key(&p, "loan"), l, &limits::USD);
                l
            }
            (None, false) => {
                cx.missing(
                    join_key(&p, "loan"),
                    &format!("a {}'s margin", h.kind),
                    "the amount lent (debit balance) in USD, e.g. `loan: 5.0e8`",
                );
                0.0
            }
        };
        let resolved = cx.resolve(join_key(&p, "lender"), &m.lender, Want::Lender);
        if resolved.is_some() {
            b.lends(
                &m.lender,
                &h.id,
                MarginTerms {
                    loan,
                    maintenance: m.maintenance.0,
                    reset: num(m.reset).unwrap_or(m.maintenance.0),
                },
            );
        } else {
            cx.suppress.insert((h.id.clone(), "margin".into()));
        }
    }
    owes(cx, b, &h.id, h.owes.as_deref(), &base);
}

/// The shares of holding `hd` at path `p`: as written, or converted from `usd`; `None`
/// (with the problem reported) when it has neither, both, or a value out of range.
fn holding_shares(cx: &mut Cx<'_>, hd: &HoldingSpec, p: &str) -> Option<f64> {
    match (num(hd.shares), num(hd.usd)) {
        (Some(_), Some(_)) => {
            cx.err(
                p,
                "give `shares` or `usd`, not both",
                Some("`usd` is converted to shares at the asset's price".into()),
            );
            None
        }
        (None, None) => {
            cx.err(
                join_key(p, "shares"),
                "missing `shares` (or `usd`)",
                Some(
                    "e.g. `{ asset: NVDA, shares: 1.0e6 }` or `{ asset: NVDA, usd: 5.0e8 }`".into(),
                ),
            );
            None
        }
        (Some(s), None) if s < 0.0 => {
            cx.err(
                join_key(p, "shares"),
                format!("expected a number ≥ 0, got {s}"),
                Some("holdings are long positions: a number of shares ≥ 0".into()),
            );
            None
        }
        (Some(s), None) => cx
            .limit(join_key(p, "shares"), s, &limits::SHARES)
            .then_some(s),
        (None, Some(u)) if u < 0.0 => {
            cx.err(
                join_key(p, "usd"),
                format!("expected a number ≥ 0, got {u}"),
                None,
            );
            None
        }
        (None, Some(u)) => {
            if cx.limit(join_key(p, "usd"), u, &limits::USD) {
                usd_to_shares(cx, &join_key(p, "usd"), &hd.asset, u)
            } else {
                None
            }
        }
    }
}

/// The shares a holding written in USD stands for, at its asset's price. A price the
/// builder refuses gives none (it is reported at the price); a result that is not a
/// sane share count is reported here, naming the price it came from.
fn usd_to_shares(cx: &mut Cx<'_>, path: &str, asset: &str, usd: f64) -> Option<f64> {
    let (k, a) = cx
        .spec
        .assets
        .iter()
        .enumerate()
        .find(|(_, a)| a.id == asset)?;
    let price = a.price.0;
    if price <= 0.0 {
        return None;
    }
    let shares = usd / price;
    if shares.is_finite() && shares <= limits::MAX_SHARES {
        return Some(shares);
    }
    cx.err(
        path,
        format!(
            "{} USD at the price of `{}` (`assets[{k}].price`: {} USD per share) is {} shares, more than the {} a position may hold",
            limits::show(usd),
            clip(asset),
            limits::show(price),
            limits::show(shares),
            limits::show(limits::MAX_SHARES),
        ),
        Some(format!(
            "check `assets[{k}].price` (USD per share) and this amount (USD); a usd holding is converted to shares at the price"
        )),
    );
    None
}

fn owes(
    cx: &mut Cx<'_>,
    b: &mut NetworkBuilder,
    debtor: &str,
    owes: Option<&[OweSpec]>,
    base: &str,
) {
    for (j, o) in owes.unwrap_or_default().iter().enumerate() {
        let p = join_index(&join_key(base, "owes"), j);
        let ok = cx
            .resolve(join_key(&p, "creditor"), &o.creditor, Want::BalanceSheet)
            .is_some();
        if o.amount.0 < 0.0 {
            cx.err(
                join_key(&p, "amount"),
                format!("expected a number ≥ 0, got {}", o.amount.0),
                None,
            );
        } else if cx.limit(join_key(&p, "amount"), o.amount.0, &limits::USD) && ok {
            b.owes(debtor, &o.creditor, o.amount.0);
        }
    }
}

/// The builder's "accounts start with equity ≤ 0" for an account book, told again in
/// the CSV's terms: how many accounts, and the first ten by row and line.
fn book_solvency(cx: &Cx<'_>, p: &Problem) -> Option<Pending> {
    const LISTED: usize = 10;
    let Subject::Holder(id) = &p.subject else {
        return None;
    };
    if !(is_solvency(p) && p.field.starts_with("accounts[")) {
        return None;
    }
    let meta = cx.holder_meta.get(id.as_str())?;
    let (book, file) = (meta.book.as_ref()?, meta.accounts_file.as_ref()?);
    let price = |a: AssetIx| cx.prices.get(a.get()).copied().unwrap_or(0.0);
    let mut rows = Vec::new();
    let mut count = 0usize;
    for r in 0..book.len() {
        let value: f64 = book.row(r).map(|(a, s)| s * price(a)).sum();
        if value + book.cash[r] - book.loan[r] <= 0.0 {
            count += 1;
            if rows.len() < LISTED {
                rows.push(r + 1);
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    let lines = book::row_lines(&file.path, &rows);
    let which = if count > LISTED {
        format!("the first {LISTED}: ")
    } else {
        String::new()
    };
    let message = format!(
        "{count} account{} start{} with equity ≤ 0 (holdings + cash − loan at pre-shock prices); {which}{}",
        if count == 1 { "" } else { "s" },
        if count == 1 { "s" } else { "" },
        book::rows_and_lines(&rows, &lines)
    );
    let base = cx
        .ids
        .get(id.as_str())
        .map(|(_, path)| path.clone())
        .unwrap_or_default();
    Some(pending(
        join_key(&base, "accounts_csv"),
        Place::File {
            file: file.name.clone(),
            line: lines.first().copied().flatten(),
            column: Some(1),
        },
        message,
        p.hint.clone(),
    ))
}

fn is_solvency(p: &Problem) -> bool {
    p.hint
        .as_deref()
        .is_some_and(|h| h.contains("starts_insolvent"))
}

fn subject_id(s: &Subject) -> &str {
    match s {
        Subject::Asset(id) | Subject::Holder(id) | Subject::Lender(id) => id,
        Subject::Holding { holder, .. } => holder,
        Subject::Loan { borrower, .. } => borrower,
        Subject::Claim { debtor, .. } => debtor,
    }
}

/// The YAML path of a builder problem.
#[allow(clippy::too_many_lines)] // one arm per kind of builder subject
fn map_problem(cx: &Cx<'_>, p: Problem) -> Pending {
    let spec = cx.spec;
    let node_path = |id: &str| cx.ids.get(id).map(|(_, path)| path.clone());
    let mut place = Place::Value;
    let mut message = p.message;
    let mut hint = p.hint;
    let path = match &p.subject {
        Subject::Asset(id) => {
            let base = node_path(id).unwrap_or_default();
            let own_impact = spec
                .assets
                .iter()
                .find(|a| &a.id == id)
                .is_some_and(|a| a.impact.is_some());
            match p.field.strip_prefix("impact.") {
                Some(rest)
                    if !own_impact
                        && spec.defaults.as_ref().is_some_and(|d| d.impact.is_some()) =>
                {
                    join_key("defaults.impact", rest)
                }
                _ => join_key(&base, &p.field),
            }
        }
        Subject::Lender(id) => join_key(&node_path(id).unwrap_or_default(), &p.field),
        Subject::Holder(id) => {
            let base = node_path(id).unwrap_or_default();
            let h = cx
                .holder_meta
                .get(id.as_str())
                .and_then(|m| spec.holders.get(m.index));
            let is_book = h.is_some_and(|h| h.kind == KindName::AccountBook);
            if p.field.is_empty() {
                base
            } else if is_book && p.field.starts_with("accounts") {
                // A row of the accounts CSV (`accounts[r].cash`) or the book as a whole.
                let row = p
                    .field
                    .strip_prefix("accounts[")
                    .and_then(|r| r.split(']').next())
                    .and_then(|r| r.parse::<usize>().ok());
                if let (Some(r), Some(file)) = (
                    row,
                    cx.holder_meta
                        .get(id.as_str())
                        .and_then(|m| m.accounts_file.clone()),
                ) {
                    place = Place::File {
                        file: file.name,
                        line: Some(r + 2),
                        column: None,
                    };
                    message = format!("row {}: {message}", r + 1);
                }
                join_key(&base, "accounts_csv")
            } else if p.field == "cure_rate" && h.is_some_and(|h| h.cure_rate.is_none()) {
                if spec
                    .defaults
                    .as_ref()
                    .is_some_and(|d| d.cure_rate.is_some())
                {
                    "defaults.cure_rate".into()
                } else {
                    base
                }
            } else {
                if p.field.starts_with("basket.") && message.starts_with("unknown asset") {
                    place = Place::Key;
                    let name = p.field.trim_start_matches("basket.");
                    hint = Some(suggest::hint_for(name, cx.assets.keys().copied(), "assets"));
                }
                join_key(&base, &p.field)
            }
        }
        Subject::Holding { holder, asset } => {
            let base = node_path(holder).unwrap_or_default();
            let j = spec
                .holders
                .iter()
                .find(|h| &h.id == holder)
                .and_then(|h| h.holdings.as_ref())
                .and_then(|hs| hs.iter().position(|x| &x.asset == asset));
            match j {
                Some(j) => join_key(&join_index(&join_key(&base, "holdings"), j), &p.field),
                None => join_key(&base, "holdings"),
            }
        }
        Subject::Loan { borrower, .. } => {
            let base = join_key(&node_path(borrower).unwrap_or_default(), "margin");
            match p.field.as_str() {
                "lender" => join_key(&base, "lender"),
                "borrower" | "margin" => base,
                f => join_key(&base, f.strip_prefix("margin.").unwrap_or(f)),
            }
        }
        Subject::Claim { debtor, creditor } => {
            let base = node_path(debtor).unwrap_or_default();
            let list = spec
                .holders
                .iter()
                .find(|h| &h.id == debtor)
                .and_then(|h| h.owes.as_ref())
                .or_else(|| {
                    spec.lenders
                        .iter()
                        .find(|l| &l.id == debtor)
                        .and_then(|l| l.owes.as_ref())
                });
            let j = list.and_then(|l| l.iter().position(|o| &o.creditor == creditor));
            match (j, p.field.as_str()) {
                (Some(j), "creditor" | "amount") => {
                    join_key(&join_index(&join_key(&base, "owes"), j), &p.field)
                }
                _ => join_key(&base, "owes"),
            }
        }
    };
    pending(path, place, message, hint)
}

fn shocks(cx: &mut Cx<'_>, list: &[ShockSpec], path: &str) -> Vec<Shock> {
    let spec = cx.spec;
    let tags: BTreeSet<&str> = spec
        .assets
        .iter()
        .flat_map(|a| a.tags.iter().map(String::as_str))
        .collect();
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let base = join_index(path, i);
        let day = s.day.map_or(0, |d| {
            cx.days(
                join_key(&base, "day"),
                d,
                delever_engine::MAX_DAYS - 1,
                "the trading day the shock happens on, from 0 (the first day of the run)",
            )
        });
        if let Some(shock) = shock(cx, s, &base, &tags) {
            out.push(if day == 0 {
                shock
            } else {
                Shock::OnDay {
                    day,
                    shock: Box::new(shock),
                }
            });
        }
    }
    out
}

/// Engine settings before the file's keys: the engine's defaults, with `days` unset (0)
/// so that `mode: timeline` without `days` is caught after every override.
fn engine_base() -> EngineConfig {
    EngineConfig {
        days: 0,
        ..EngineConfig::default()
    }
}

/// Settle the engine settings read at `base` (over [`engine_base`]): a timeline needs
/// `days`; the one-instant modes run one day.
fn engine_done(cx: &mut Cx<'_>, mut cfg: EngineConfig, base: &str) -> EngineConfig {
    if cfg.days == 0 {
        if cfg.mode == Mode::Timeline {
            cx.err(
                join_key(base, "mode"),
                "the timeline mode needs a horizon: `days` is missing",
                Some("e.g. `engine: { mode: timeline, days: 5 }` for a trading week".into()),
            );
        }
        cfg.days = 1;
    }
    cfg
}

/// Every shock's day within the run: `days` of a timeline, day 0 otherwise.
fn shock_days(
    cx: &mut Cx<'_>,
    list: &[ShockSpec],
    path: &str,
    cfg: &EngineConfig,
    engine_at: &str,
) {
    for (i, s) in list.iter().enumerate() {
        let Some(d) = s.day else {
            continue;
        };
        let at = join_key(&join_index(path, i), "day");
        if cfg.mode != Mode::Timeline && d.0 > 0 {
            cx.err(
                at,
                format!(
                    "day {} needs the timeline mode; the {} mode is one instant (day 0)",
                    d.0,
                    cfg.mode.name()
                ),
                Some(format!(
                    "set `{engine_at}: {{ mode: timeline, days: {} }}` (or more days), or drop `day`",
                    d.0 + 1
                )),
            );
        } else if cfg.mode == Mode::Timeline && d.0 >= i128::from(cfg.days) {
            cx.err(
                at,
                format!(
                    "day {} is past the run's last day: `{engine_at}.days` is {}, so days run from 0 to {}",
                    d.0,
                    cfg.days,
                    cfg.days - 1
                ),
                Some(format!("raise `{engine_at}.days` to {} or more", d.0 + 1)),
            );
        }
    }
}

#[allow(clippy::too_many_lines)] // one arm per shock type
fn shock(cx: &mut Cx<'_>, s: &ShockSpec, base: &str, tags: &BTreeSet<&str>) -> Option<Shock> {
    cx.check_source(join_key(base, "source"), s.source.as_ref());
    cx.misplaced(
        base,
        s.kind,
        "shock type",
        SHOCK_KEYS,
        &[
            ("asset", s.asset.is_some()),
            ("tag", s.tag.is_some()),
            ("return", s.ret.is_some()),
            ("delta", s.delta.is_some()),
            ("usd", s.usd.is_some()),
            ("lender", s.lender.is_some()),
            ("by", s.by.is_some()),
            ("holder", s.holder.is_some()),
            ("fraction", s.fraction.is_some()),
        ],
        ShockName::name,
    );
    let what = format!("a `{}` shock", s.kind.name());
    let need = |cx: &mut Cx<'_>, key: &str, present: bool, hint: &str| {
        if !present {
            cx.missing(join_key(base, key), &what, hint);
        }
        present
    };
    let ret_hint = "a return as a fraction: `return: -0.10` is a 10% fall";
    let ret = |cx: &mut Cx<'_>| -> Option<f64> {
        let r = num(s.ret)?;
        if r < -1.0 {
            cx.err(
                join_key(base, "return"),
                format!("a return cannot be below -1 (a 100% fall), got {r}"),
                Some("returns are fractions: -0.10 is a 10% fall, not -10".into()),
            );
            return None;
        }
        cx.limit(join_key(base, "return"), r, &limits::RETURN)
            .then_some(r)
    };
    let tag = |cx: &mut Cx<'_>, t: &Option<String>| -> Result<Option<String>, ()> {
        match t {
            None => Ok(None),
            Some(t) if tags.contains(t.as_str()) => Ok(Some(t.clone())),
            Some(t) => {
                let hint = suggest::hint_for(t, tags.iter().copied(), "tags");
                cx.err(
                    join_key(base, "tag"),
                    format!("no asset has the tag `{t}`"),
                    Some(hint),
                );
                Err(())
            }
        }
    };
    let fraction_in = |cx: &mut Cx<'_>, key: &str, v: f64, what: &str| -> Option<f64> {
        if (0.0..=1.0).contains(&v) {
            Some(v)
        } else {
            cx.err(
                join_key(base, key),
                format!("expected {what} in [0, 1], got {v}"),
                Some("fractions: 0.05 is five percentage points, 0.10 is 10%".into()),
            );
            None
        }
    };
    match s.kind {
        ShockName::Asset => {
            let has_asset = need(
                cx,
                "asset",
                s.asset.is_some(),
                "the asset's id, e.g. `asset: NVDA`",
            );
            let has_ret = need(cx, "return", s.ret.is_some(), ret_hint);
            if !(has_asset && has_ret) {
                return None;
            }
            let id = s.asset.as_deref().unwrap_or_default();
            let a = cx
                .resolve(join_key(base, "asset"), id, Want::Asset)
                .and(cx.assets.get(id).copied());
            let r = ret(cx)?;
            Some(Shock::AssetReturn { asset: a?, ret: r })
        }
        ShockName::Tag => {
            let has_tag = need(
                cx,
                "tag",
                s.tag.is_some(),
                "an asset tag, e.g. `tag: semis`",
            );
            let has_ret = need(cx, "return", s.ret.is_some(), ret_hint);
            if !(has_tag && has_ret) {
                return None;
            }
            let t = tag(cx, &s.tag).ok().flatten();
            let r = ret(cx)?;
            Some(Shock::TagReturn { tag: t?, ret: r })
        }
        ShockName::Market => {
            if !need(cx, "return", s.ret.is_some(), ret_hint) {
                return None;
            }
            let t = tag(cx, &s.tag);
            let r = ret(cx)?;
            Some(Shock::Market {
                ret: r,
                tag: t.ok()?,
            })
        }
        ShockName::DiscountRate => {
            if !need(
                cx,
                "delta",
                s.delta.is_some(),
                "the change in the discount rate, e.g. `delta: 0.01` (+100 bp)",
            ) {
                return None;
            }
            let t = tag(cx, &s.tag).ok()?;
            let delta = num(s.delta)?;
            if !cx.limit(join_key(base, "delta"), delta, &limits::DELTA) {
                return None;
            }
            Some(Shock::DiscountRate { delta, tag: t })
        }
        ShockName::ExogenousSale => {
            let has_asset = need(
                cx,
                "asset",
                s.asset.is_some(),
                "the asset's id, e.g. `asset: NVDA`",
            );
            let has_usd = need(
                cx,
                "usd",
                s.usd.is_some(),
                "USD sold at the pre-shock price, e.g. `usd: 5.0e9`",
            );
            if !(has_asset && has_usd) {
                return None;
            }
            let id = s.asset.as_deref().unwrap_or_default();
            let a = cx
                .resolve(join_key(base, "asset"), id, Want::Asset)
                .and(cx.assets.get(id).copied());
            let usd = num(s.usd)?;
            if usd < 0.0 {
                cx.err(
                    join_key(base, "usd"),
                    format!("expected a number ≥ 0, got {usd}"),
                    Some("an exogenous sale is an amount sold; it cannot be negative".into()),
                );
                return None;
            }
            if !cx.limit(join_key(base, "usd"), usd, &limits::USD) {
                return None;
            }
            Some(Shock::ExogenousSale { asset: a?, usd })
        }
        ShockName::MarginTightening => {
            if !need(
                cx,
                "by",
                s.by.is_some(),
                "the rise in maintenance margin, e.g. `by: 0.05`",
            ) {
                return None;
            }
            let lender = match &s.lender {
                None => None,
                Some(id) => {
                    cx.resolve(join_key(base, "lender"), id, Want::Lender)?;
                    Some(*cx.lenders.get(id.as_str())?)
                }
            };
            let by = fraction_in(cx, "by", num(s.by)?, "a rise in margin")?;
            Some(Shock::MarginTightening { lender, by })
        }
        ShockName::Redemption => {
            let has_holder = need(cx, "holder", s.holder.is_some(), "the fund's id");
            let has_fraction = need(
                cx,
                "fraction",
                s.fraction.is_some(),
                "the fraction of NAV withdrawn, e.g. `fraction: 0.10`",
            );
            if !(has_holder && has_fraction) {
                return None;
            }
            let id = s.holder.as_deref().unwrap_or_default();
            let h = cx
                .resolve(join_key(base, "holder"), id, Want::Holder)
                .and(cx.holders.get(id).copied());
            let kind = cx.spec.holders.iter().find(|x| x.id == id).map(|x| x.kind);
            if let Some(k) = kind
                && !matches!(k, KindName::Fund | KindName::LeveragedEtf)
            {
                cx.err(
                    join_key(base, "holder"),
                    format!("`{id}` is a {k}; redemptions apply to a fund or a leveraged_etf"),
                    None,
                );
                return None;
            }
            let fraction = fraction_in(cx, "fraction", num(s.fraction)?, "a fraction of NAV")?;
            Some(Shock::Redemption {
                holder: h?,
                fraction,
            })
        }
    }
}

/// Engine settings at `base` (`engine`, `variants[2].engine`), over `cfg`: keys given
/// replace its values, the others stay.
fn engine(cx: &mut Cx<'_>, e: &EngineSpec, base: &str, mut cfg: EngineConfig) -> EngineConfig {
    if let Some(m) = e.mode {
        cfg.mode = match m {
            ModeName::Equilibrium => Mode::Equilibrium,
            ModeName::Sequential => Mode::Sequential,
            ModeName::Timeline => Mode::Timeline,
        };
    }
    if let Some(d) = e.days {
        let path = join_key(base, "days");
        let hint = "trading days to run the timeline over, e.g. `days: 5` for a week";
        if d.0 < 1 {
            cx.err(
                path,
                format!("expected at least 1 day, got {}", d.0),
                Some(hint.into()),
            );
        } else if d.0 > i128::from(delever_engine::MAX_DAYS) {
            cx.err(
                path,
                format!(
                    "must be at most {} trading days (ten years), got {}",
                    delever_engine::MAX_DAYS,
                    d.0
                ),
                Some(hint.into()),
            );
        }
        cfg.days = u32::try_from(d.0.clamp(1, i128::from(delever_engine::MAX_DAYS))).unwrap_or(1);
    }
    if let Some(r) = e.max_rounds {
        let path = join_key(base, "max_rounds");
        let hint = "1 gives the one-round (GLT) answer; the default is 1000";
        if r.value < 1 {
            cx.err(
                path,
                format!("expected at least 1 round, got {r}"),
                Some(hint.into()),
            );
        } else if r.value > i128::from(limits::MAX_ROUNDS) {
            cx.err(
                path,
                format!("must be at most {} rounds, got {r}", limits::MAX_ROUNDS),
                Some(
                    "a cascade that has not converged in a million rounds will not, and a run keeps a trace of every round; check `tolerance` and `damping`"
                        .into(),
                ),
            );
        }
        cfg.max_rounds = u32::try_from(r.value.clamp(1, i128::from(limits::MAX_ROUNDS)))
            .unwrap_or(limits::MAX_ROUNDS);
    }
    if let Some(t) = num(e.tolerance) {
        if t <= 0.0 {
            cx.err(
                join_key(base, "tolerance"),
                format!("expected a number > 0, got {t}"),
                Some("a relative price change, e.g. `tolerance: 1e-10`".into()),
            );
        } else {
            cx.limit(join_key(base, "tolerance"), t, &limits::TOLERANCE);
        }
        cfg.tolerance = t;
    }
    if let Some(d) = num(e.damping) {
        if !(d > 0.0 && d <= 1.0) {
            cx.err(
                join_key(base, "damping"),
                format!("expected a number in (0, 1], got {d}"),
                Some("1 means no damping; 0.5 averages old and new prices".into()),
            );
        }
        cfg.damping = d;
    }
    if let Some(l) = e.least_fixed_point {
        cfg.least_fixed_point = l;
    }
    cfg
}

/// Validate the variants against the base (its shocks and engine settings are what a
/// variant inherits; `base_engine` is the base's before [`engine_done`]).
fn variants(cx: &mut Cx<'_>, base_shocks: &[Shock], base_engine: &EngineConfig) -> Vec<Variant> {
    let spec = cx.spec;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(spec.variants.len());
    for (i, v) in spec.variants.iter().enumerate() {
        let base = join_index("variants", i);
        variant_name(cx, v, &base, &mut seen, i);
        let shocks = match &v.shocks {
            Some(list) => shocks(cx, list, &join_key(&base, "shocks")),
            None => base_shocks.to_vec(),
        };
        let engine_at = join_key(&base, "engine");
        let engine = match &v.engine {
            Some(e) => engine(cx, e, &engine_at, base_engine.clone()),
            None => base_engine.clone(),
        };
        let at = if v.engine.is_some() {
            engine_at.as_str()
        } else {
            "engine"
        };
        let engine = engine_done(cx, engine, at);
        // The variant's own shocks, or the base's, on the variant's days.
        match &v.shocks {
            Some(list) => shock_days(cx, list, &join_key(&base, "shocks"), &engine, at),
            None if v.engine.is_some() => {
                shock_days(cx, &spec.shocks, "shocks", &engine, at);
            }
            None => {}
        }
        let impact = variant_impact(cx, v, &base);
        let expect = v
            .expect
            .as_ref()
            .map(|e| expectations(cx, e, &join_key(&base, "expect"), &engine));
        out.push(Variant {
            name: v.name.clone(),
            description: v.description.clone(),
            shocks,
            engine,
            impact,
            expect,
        });
    }
    out
}

fn variant_name<'s>(
    cx: &mut Cx<'s>,
    v: &'s VariantSpec,
    base: &str,
    seen: &mut BTreeMap<&'s str, usize>,
    i: usize,
) {
    let path = join_key(base, "name");
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if v.name.is_empty() || !v.name.chars().all(ok_char) {
        cx.err(
            path,
            format!(
                "a variant's name must be letters, digits, `-`, `_` or `.`, got `{}`",
                v.name
            ),
            Some(
                "e.g. `name: gov-10pct-impact5-seq`; it names the variant in reports and snapshots"
                    .into(),
            ),
        );
    } else if let Some(first) = seen.get(v.name.as_str()) {
        cx.err(
            path,
            format!(
                "duplicate variant name `{}` (first at variants[{first}])",
                v.name
            ),
            Some("every variant needs its own name".into()),
        );
    } else {
        seen.insert(&v.name, i);
    }
}

/// A variant's impact laws (and their decay over days), each checked against its asset as
/// the builder checks laws.
fn variant_impact(
    cx: &mut Cx<'_>,
    v: &VariantSpec,
    base: &str,
) -> Vec<(AssetIx, ImpactLaw, ImpactDecay)> {
    let spec = cx.spec;
    let mut out = Vec::new();
    let Some(map) = &v.impact else {
        return out;
    };
    let impact_base = join_key(base, "impact");
    for (id, imp) in map {
        let path = join_key(&impact_base, id);
        let before = cx.problems.len();
        let found = cx.resolve(path.clone(), id, Want::Asset);
        for p in cx.problems.iter_mut().skip(before) {
            p.place = Place::Key;
        }
        let law = impact(cx, imp, &path);
        let decay = decay(cx, imp, &path);
        let (Some(IdKind::Asset), Some(&ix), Some(a)) = (
            found,
            cx.assets.get(id.as_str()),
            spec.assets.iter().find(|a| &a.id == id),
        ) else {
            continue;
        };
        // The law must suit the asset (e.g. square-root needs ADV and volatility): check
        // it the builder's way, on the asset alone.
        let mut b = NetworkBuilder::new();
        b.add_asset(asset_with(a, law, decay.clone()));
        if let Err(e) = b.build() {
            // Only the law's own problems: the asset's others are reported at the asset.
            let law_problems = e
                .problems
                .into_iter()
                .filter(|p| p.field.starts_with("impact") || p.message.contains("impact law"));
            for p in law_problems {
                let at = match p.field.strip_prefix("impact.") {
                    Some(rest) => join_key(&path, rest),
                    None => path.clone(),
                };
                cx.err(at, p.message, p.hint);
            }
        }
        out.push((ix, law, decay));
    }
    out
}

fn bound(cx: &mut Cx<'_>, b: &BoundSpec, path: &str) -> Option<Bound> {
    let range = b.min.is_some() || b.max.is_some();
    let approx = b.approx.is_some();
    let equals = b.equals.is_some();
    let forms = usize::from(range) + usize::from(approx) + usize::from(equals);
    let form_hint =
        "write `{ min: 1.5, max: 3.0 }`, `{ approx: 1.2e11, rel_tol: 0.01 }` or `{ equals: 0 }`";
    if forms != 1 {
        let msg = if forms == 0 {
            "an empty bound".to_owned()
        } else {
            "a bound mixes forms".to_owned()
        };
        cx.err(
            path,
            format!("{msg}: expected one of `min`/`max`, `approx` or `equals`"),
            Some(form_hint.into()),
        );
        return None;
    }
    if !approx && (b.rel_tol.is_some() || b.abs_tol.is_some()) {
        let key = if b.rel_tol.is_some() {
            "rel_tol"
        } else {
            "abs_tol"
        };
        cx.err_key(
            join_key(path, key),
            format!("`{key}` goes with `approx` only"),
            Some(form_hint.into()),
        );
        return None;
    }
    if range {
        if let (Some(lo), Some(hi)) = (b.min, b.max)
            && lo.0 > hi.0
        {
            cx.err(
                join_key(path, "min"),
                format!("min ({}) is above max ({})", lo.0, hi.0),
                Some("swap them".into()),
            );
            return None;
        }
        return Some(Bound::Range {
            min: num(b.min),
            max: num(b.max),
        });
    }
    if let Some(v) = num(b.equals) {
        return Some(Bound::Equals(v));
    }
    let value = num(b.approx)?;
    let mut ok = true;
    for (key, t) in [("rel_tol", b.rel_tol), ("abs_tol", b.abs_tol)] {
        if let Some(t) = num(t)
            && t < 0.0
        {
            cx.err(
                join_key(path, key),
                format!("expected a tolerance ≥ 0, got {t}"),
                None,
            );
            ok = false;
        }
    }
    let (rel, abs) = match (num(b.rel_tol), num(b.abs_tol)) {
        (None, None) => (DEFAULT_REL_TOL, 0.0),
        (r, a) => (r.unwrap_or(0.0), a.unwrap_or(0.0)),
    };
    ok.then_some(Bound::Approx {
        value,
        rel_tol: rel,
        abs_tol: abs,
    })
}

fn checks(
    cx: &mut Cx<'_>,
    base: &str,
    list: &[(&'static str, Option<&BoundSpec>)],
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for &(key, b) in list {
        if let Some(b) = b
            && let Some(bound) = bound(cx, b, &join_key(base, key))
        {
            out.push(Expectation { key, bound });
        }
    }
    out
}

/// The bounds of one report row: `(key, bound)` in the format's order.
type Keys<'a> = Vec<(&'static str, Option<&'a BoundSpec>)>;

/// Per-asset bounds under `at` (`expect.assets`, `expect.days[1].assets`).
fn asset_rows<T>(
    cx: &mut Cx<'_>,
    map: Option<&BTreeMap<String, T>>,
    at: &str,
    keys: impl Fn(&T) -> Keys<'_>,
) -> Vec<AssetExpectations> {
    let mut out = Vec::new();
    for (id, a) in map.into_iter().flatten() {
        let base = join_key(at, id);
        let Some(ix) =
            expect_ref(cx, &base, id, Want::Asset).and(cx.assets.get(id.as_str()).copied())
        else {
            continue;
        };
        let checks = checks(cx, &base, &keys(a));
        out.push(AssetExpectations {
            id: id.clone(),
            asset: ix,
            checks,
        });
    }
    out
}

/// Per-holder statuses and bounds under `at` (`expect.holders`, `expect.days[1].holders`).
fn holder_rows<T>(
    cx: &mut Cx<'_>,
    map: Option<&BTreeMap<String, T>>,
    at: &str,
    statuses: impl Fn(&T) -> Option<&Statuses>,
    keys: impl Fn(&T) -> Keys<'_>,
) -> Vec<HolderExpectations> {
    let mut out = Vec::new();
    for (id, h) in map.into_iter().flatten() {
        let base = join_key(at, id);
        let Some(ix) =
            expect_ref(cx, &base, id, Want::Holder).and(cx.holders.get(id.as_str()).copied())
        else {
            continue;
        };
        let given = statuses(h);
        let status: Vec<Status> = given
            .map(|s| s.0.iter().map(|&s| status(s)).collect())
            .unwrap_or_default();
        if given.is_some_and(|s| s.0.is_empty()) {
            cx.err(
                join_key(&base, "status"),
                "an empty list of statuses accepts nothing",
                Some("list at least one status, e.g. `status: [sold, margin_call]`".into()),
            );
        }
        let checks = checks(cx, &base, &keys(h));
        out.push(HolderExpectations {
            id: id.clone(),
            holder: ix,
            status,
            checks,
        });
    }
    out
}

fn expectations(cx: &mut Cx<'_>, e: &ExpectSpec, at: &str, cfg: &EngineConfig) -> Expectations {
    let termination = e.termination.map(|t| match t {
        TerminationName::Converged => Termination::Converged,
        TerminationName::MaxRounds => Termination::MaxRounds,
    });
    let totals = e.totals.as_ref().map_or_else(Vec::new, |t| {
        checks(
            cx,
            &join_key(at, "totals"),
            &[
                ("initial_loss_usd", t.initial_loss_usd.as_ref()),
                ("total_loss_usd", t.total_loss_usd.as_ref()),
                ("amplification", t.amplification.as_ref()),
                ("forced_sales_usd", t.forced_sales_usd.as_ref()),
                ("exogenous_sales_usd", t.exogenous_sales_usd.as_ref()),
                ("defaults", t.defaults.as_ref()),
                ("margin_calls", t.margin_calls.as_ref()),
                ("lender_losses_usd", t.lender_losses_usd.as_ref()),
                ("cash_cures_usd", t.cash_cures_usd.as_ref()),
            ],
        )
    });
    let assets = asset_rows(cx, e.assets.as_ref(), &join_key(at, "assets"), |a| {
        vec![
            ("price_shocked", a.price_shocked.as_ref()),
            ("price_after", a.price_after.as_ref()),
            ("drawdown", a.drawdown.as_ref()),
            ("forced_sales_shares", a.forced_sales_shares.as_ref()),
            ("forced_sales_usd", a.forced_sales_usd.as_ref()),
        ]
    });
    let holders = holder_rows(
        cx,
        e.holders.as_ref(),
        &join_key(at, "holders"),
        |h| h.status.as_ref(),
        |h| {
            vec![
                ("equity_before", h.equity_before.as_ref()),
                ("equity_after", h.equity_after.as_ref()),
                ("sales_usd", h.sales_usd.as_ref()),
                ("lender_loss_usd", h.lender_loss_usd.as_ref()),
            ]
        },
    );
    let days = e
        .days
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, d)| day_expectations(cx, d, &join_index(&join_key(at, "days"), i), cfg))
        .collect();
    Expectations {
        termination,
        totals,
        assets,
        holders,
        days,
    }
}

/// One `expect.days[]` entry: a day of the run, with bounds on its totals, assets and
/// holders.
fn day_expectations(
    cx: &mut Cx<'_>,
    d: &DayExpectSpec,
    at: &str,
    cfg: &EngineConfig,
) -> Option<DayExpectations> {
    let day_at = join_key(at, "day");
    let day = cx.days(
        day_at.clone(),
        d.day,
        delever_engine::MAX_DAYS - 1,
        "the day of the run, from 0",
    );
    if cfg.mode != Mode::Timeline {
        cx.err(
            day_at,
            format!("expectations on days need the timeline mode; this run is {}", cfg.mode.name()),
            Some("set `engine: { mode: timeline, days: N }`, or bound the end of the run in `totals`/`assets`/`holders`".into()),
        );
        return None;
    }
    if day >= cfg.days {
        cx.err(
            day_at,
            format!("day {day} is past the run's last day ({})", cfg.days - 1),
            Some(format!("the run has {} day(s), from 0", cfg.days)),
        );
        return None;
    }
    let totals = d.totals.as_ref().map_or_else(Vec::new, |t| {
        checks(
            cx,
            &join_key(at, "totals"),
            &[
                ("sales_usd", t.sales_usd.as_ref()),
                ("exogenous_sales_usd", t.exogenous_sales_usd.as_ref()),
                ("price_index", t.price_index.as_ref()),
                ("new_calls", t.new_calls.as_ref()),
                ("open_calls", t.open_calls.as_ref()),
                ("liquidations", t.liquidations.as_ref()),
                ("new_defaults", t.new_defaults.as_ref()),
                ("lender_losses_usd", t.lender_losses_usd.as_ref()),
            ],
        )
    });
    let assets = asset_rows(cx, d.assets.as_ref(), &join_key(at, "assets"), |a| {
        vec![
            ("open", a.open.as_ref()),
            ("close", a.close.as_ref()),
            ("fundamental", a.fundamental.as_ref()),
            ("return", a.ret.as_ref()),
            ("drawdown", a.drawdown.as_ref()),
            ("permanent_impact", a.permanent_impact.as_ref()),
            ("transient_impact", a.transient_impact.as_ref()),
            ("sales_shares", a.sales_shares.as_ref()),
            ("sales_usd", a.sales_usd.as_ref()),
        ]
    });
    let holders = holder_rows(
        cx,
        d.holders.as_ref(),
        &join_key(at, "holders"),
        |h| h.status.as_ref(),
        |h| {
            vec![
                ("sales_usd", h.sales_usd.as_ref()),
                ("equity", h.equity.as_ref()),
                ("lender_loss_usd", h.lender_loss_usd.as_ref()),
                ("open_calls", h.open_calls.as_ref()),
            ]
        },
    );
    Some(DayExpectations {
        day,
        totals,
        assets,
        holders,
    })
}

/// An id used as a key of `expect.assets`/`expect.holders`: reported at the key.
fn expect_ref(cx: &mut Cx<'_>, path: &str, id: &str, want: Want) -> Option<IdKind> {
    let before = cx.problems.len();
    let r = cx.resolve(path.to_owned(), id, want);
    for p in cx.problems.iter_mut().skip(before) {
        p.place = Place::Key;
    }
    r
}

fn status(s: StatusName) -> Status {
    match s {
        StatusName::Unaffected => Status::Unaffected,
        StatusName::Sold => Status::Sold,
        StatusName::Bought => Status::Bought,
        StatusName::MarginCall => Status::MarginCall,
        StatusName::Liquidated => Status::Liquidated,
        StatusName::Defaulted => Status::Defaulted,
    }
}

/// Check the `monte_carlo:` block and resolve it; `None` when something is wrong (the
/// problems are in `cx`).
#[allow(clippy::too_many_lines)] // one check after another, in the block's key order
fn monte_carlo(cx: &mut Cx<'_>, m: &MonteCarloSpec, base: &str) -> Option<MonteCarlo> {
    let before = cx.problems.len();
    cx.check_source(join_key(base, "source"), m.source.as_ref());
    let dpath = join_key(base, "distribution");
    let distribution = match (m.distribution.kind, num(m.distribution.dof)) {
        (DistName::Normal, None) => ShockDistribution::Normal,
        (DistName::Normal, Some(_)) => {
            cx.err_key(
                join_key(&dpath, "dof"),
                "`dof` does not apply to distribution `normal`; it belongs to student_t",
                Some("remove `dof`, or use `{ type: student_t, dof: 4 }`".into()),
            );
            ShockDistribution::Normal
        }
        (DistName::StudentT, None) => {
            cx.missing(
                join_key(&dpath, "dof"),
                "a student_t distribution",
                "degrees of freedom > 2, e.g. `dof: 4` (the fat tails of daily equity returns)",
            );
            ShockDistribution::Normal
        }
        (DistName::StudentT, Some(dof)) => {
            if dof <= 2.0 {
                cx.err(
                    join_key(&dpath, "dof"),
                    format!("must be > 2, got {dof}"),
                    Some("a Student-t has a finite variance only above 2 degrees of freedom; 3 to 5 suits daily equity returns".into()),
                );
            } else {
                cx.limit(join_key(&dpath, "dof"), dof, &limits::DOF);
            }
            ShockDistribution::StudentT { dof }
        }
    };
    let horizon_days = num(m.horizon_days).unwrap_or(1.0);
    if horizon_days <= 0.0 {
        cx.err(
            join_key(base, "horizon_days"),
            format!("must be a number of days > 0, got {horizon_days}"),
            Some("the horizon of the drawn returns in trading days, e.g. `horizon_days: 5` for a week".into()),
        );
    } else {
        cx.limit(
            join_key(base, "horizon_days"),
            horizon_days,
            &limits::HORIZON_DAYS,
        );
    }

    // (asset, daily vol, daily mean), in block order.
    let mut drawn: Vec<(AssetIx, f64, f64)> = Vec::new();
    let own_vol = |id: &str| {
        cx.spec
            .assets
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| num(a.daily_vol))
    };
    match &m.assets {
        Some(list) => {
            let apath = join_key(base, "assets");
            if list.is_empty() {
                cx.err(
                    apath.clone(),
                    "the list of assets to draw is empty",
                    Some(
                        "list at least one asset, or leave `assets` out to draw every asset".into(),
                    ),
                );
            }
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for (i, a) in list.iter().enumerate() {
                let p = join_index(&apath, i);
                if let Some(&j) = seen.get(a.asset.as_str()) {
                    cx.err(
                        join_key(&p, "asset"),
                        format!(
                            "duplicate asset `{}`: already drawn at {}",
                            a.asset,
                            join_index(&apath, j)
                        ),
                        Some("list each asset once".into()),
                    );
                    continue;
                }
                seen.insert(&a.asset, i);
                if cx
                    .resolve(join_key(&p, "asset"), &a.asset, Want::Asset)
                    .is_none()
                {
                    continue;
                }
                let Some(&ix) = cx.assets.get(a.asset.as_str()) else {
                    continue;
                };
                let Some(vol) = num(a.daily_vol).or_else(|| own_vol(&a.asset)) else {
                    cx.err(
                            p.clone(),
                            format!(
                                "no daily volatility for `{}`: the entry gives no `daily_vol` and neither does the asset",
                                a.asset
                            ),
                            Some(format!(
                                "add `daily_vol: 0.025` (a fraction per day) to this entry or to asset `{}`",
                                a.asset
                            )),
                        );
                    continue;
                };
                if vol < 0.0 {
                    cx.err(
                        join_key(&p, "daily_vol"),
                        format!("must be ≥ 0, got {vol}"),
                        Some("a daily volatility as a fraction, e.g. `daily_vol: 0.025`".into()),
                    );
                } else {
                    // An inherited vol is checked at the asset.
                    cx.limit_key(&p, "daily_vol", a.daily_vol, &limits::DAILY_VOL);
                }
                cx.limit_key(&p, "daily_mean", a.daily_mean, &limits::DAILY_MEAN);
                drawn.push((ix, vol, num(a.daily_mean).unwrap_or(0.0)));
            }
        }
        None => {
            for (i, a) in cx.spec.assets.iter().enumerate() {
                let Some(&ix) = cx.assets.get(a.id.as_str()) else {
                    continue;
                };
                match num(a.daily_vol) {
                    Some(v) => drawn.push((ix, v, 0.0)),
                    None => cx.err(
                        join_key(&join_index("assets", i), "daily_vol"),
                        format!(
                            "`monte_carlo` draws every asset, but `{}` has no `daily_vol`",
                            a.id
                        ),
                        Some("give the asset a `daily_vol`, or list the assets to draw in `monte_carlo.assets` with theirs".into()),
                    ),
                }
            }
        }
    }

    if cx.problems.len() == before {
        horizon_scale(cx, &drawn, horizon_days, &join_key(base, "horizon_days"));
    }

    let n = drawn.len();
    let cpath = join_key(base, "correlation");
    let correlation = match &m.correlation {
        None => Some(ndarray::Array2::eye(n)),
        Some(CorrelationSpec::Uniform(rho)) => {
            let rho = rho.0;
            let floor = if n >= 2 {
                -1.0 / (n as f64 - 1.0)
            } else {
                -1.0
            };
            if !(-1.0..=1.0).contains(&rho) {
                cx.err(
                    cpath.clone(),
                    format!("a correlation must be in [-1, 1], got {rho}"),
                    Some("e.g. `correlation: 0.7` for assets that move together".into()),
                );
                None
            } else if rho < floor - 1e-12 {
                cx.err(
                    cpath.clone(),
                    format!(
                        "a uniform correlation of {rho} among {n} assets is impossible: it must be at least -1/(n-1) = {floor:.4}, or the matrix is not positive semidefinite"
                    ),
                    Some("n assets cannot all move against each other; use a correlation ≥ -1/(n-1), or a matrix".into()),
                );
                None
            } else {
                Some(ndarray::Array2::from_shape_fn((n, n), |(i, j)| {
                    if i == j { 1.0 } else { rho }
                }))
            }
        }
        Some(CorrelationSpec::Matrix(rows)) => {
            correlation_matrix(cx, rows, n, &join_key(&cpath, "matrix"))
        }
    };
    let cholesky = correlation.as_ref().and_then(|c| match montecarlo::cholesky(c) {
        Ok(l) => Some(l),
        Err(row) => {
            let at = match &m.correlation {
                Some(CorrelationSpec::Matrix(_)) => join_key(&cpath, "matrix"),
                _ => cpath.clone(),
            };
            cx.err(
                at,
                format!("the correlation matrix is not positive semidefinite (it fails at row {row})"),
                Some("a correlation matrix must be positive semidefinite; estimate it from one window of data or use a uniform correlation".into()),
            );
            None
        }
    });
    if cx.problems.len() > before {
        return None;
    }
    let (correlation, cholesky) = (correlation?, cholesky?);
    let sqrt_h = horizon_days.sqrt();
    Some(MonteCarlo {
        distribution,
        horizon_days,
        assets: drawn.iter().map(|d| d.0).collect(),
        mean: drawn.iter().map(|d| d.2 * horizon_days).collect(),
        vol: drawn.iter().map(|d| d.1 * sqrt_h).collect(),
        correlation,
        cholesky,
        scenario_shocks: m.scenario_shocks.unwrap_or(false),
        source: m.source.clone(),
    })
}

/// The draws' log-returns over the horizon must stay sane: a standard deviation
/// (`daily_vol` × √`horizon_days`) and an absolute mean (`|daily_mean|` × `horizon_days`) of
/// at most 10, so that every normal draw moves a price by a finite factor. Each daily
/// figure is within its own limit already, so only a long horizon can pass these; the
/// problem is reported at `horizon_days`.
fn horizon_scale(cx: &mut Cx<'_>, drawn: &[(AssetIx, f64, f64)], horizon_days: f64, at: &str) {
    let max = limits::MAX_HORIZON_LOG_RETURN;
    let name = |ix: AssetIx| {
        cx.assets
            .iter()
            .find(|(_, v)| **v == ix)
            .map_or_else(String::new, |(k, _)| clip(k).into_owned())
    };
    let sqrt_h = horizon_days.sqrt();
    let hint = "at 10, one standard deviation already moves a price by a factor of e^10 ≈ 22,000 over the horizon; shorten the horizon or lower the daily figure";
    if let Some(&(ix, vol, _)) = drawn.iter().find(|d| d.1 * sqrt_h > max) {
        let msg = format!(
            "over {} days, `{}`'s daily_vol of {} gives a horizon volatility (daily_vol × √horizon_days) of {}, more than {max}",
            limits::show(horizon_days),
            name(ix),
            limits::show(vol),
            limits::show(vol * sqrt_h),
        );
        cx.err(at, msg, Some(hint.into()));
    } else if let Some(&(ix, _, mean)) = drawn.iter().find(|d| d.2.abs() * horizon_days > max) {
        let msg = format!(
            "over {} days, `{}`'s daily_mean of {} gives a horizon mean log-return (daily_mean × horizon_days) of {}, beyond ±{max}",
            limits::show(horizon_days),
            name(ix),
            limits::show(mean),
            limits::show(mean * horizon_days),
        );
        cx.err(at, msg, Some(hint.into()));
    }
}

/// Check a written correlation matrix: n×n, entries in [-1, 1], unit diagonal,
/// symmetric. Positive semidefiniteness is checked by the Cholesky factorisation.
fn correlation_matrix(
    cx: &mut Cx<'_>,
    rows: &[Vec<crate::spec::Num>],
    n: usize,
    path: &str,
) -> Option<ndarray::Array2<f64>> {
    let before = cx.problems.len();
    let order = "one row and one column per drawn asset, in the order of `monte_carlo.assets` (every asset in file order when it is left out)";
    if rows.len() != n {
        cx.err(
            path,
            format!("the matrix has {} rows; expected {n}", rows.len()),
            Some(order.into()),
        );
        return None;
    }
    for (i, r) in rows.iter().enumerate() {
        if r.len() != n {
            cx.err(
                join_index(path, i),
                format!(
                    "row {i} has {} entries; expected {n} (the matrix must be square)",
                    r.len()
                ),
                Some(order.into()),
            );
        }
    }
    if cx.problems.len() > before {
        return None;
    }
    let a = ndarray::Array2::from_shape_fn((n, n), |(i, j)| rows[i][j].0);
    for i in 0..n {
        for j in 0..n {
            let p = join_index(&join_index(path, i), j);
            let x = a[[i, j]];
            if i == j && x != 1.0 {
                cx.err(
                    p,
                    format!("the diagonal of a correlation matrix is 1, got {x}"),
                    Some("every asset is perfectly correlated with itself".into()),
                );
            } else if !(-1.0..=1.0).contains(&x) {
                cx.err(
                    p,
                    format!("a correlation must be in [-1, 1], got {x}"),
                    None,
                );
            } else if j < i && (x - a[[j, i]]).abs() > 1e-12 {
                cx.err(
                    p,
                    format!(
                        "the matrix is not symmetric: [{i}][{j}] is {x} but [{j}][{i}] is {}",
                        a[[j, i]]
                    ),
                    Some("the correlation of a with b is that of b with a; write the same number in both places".into()),
                );
            }
        }
    }
    (cx.problems.len() == before).then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert!(is_iso_date("2026-05-29"));
        assert!(is_iso_date("2024-02-29"));
        assert!(!is_iso_date("2026-02-29"));
        assert!(!is_iso_date("2100-02-29"));
        assert!(is_iso_date("2000-02-29"));
        assert!(!is_iso_date("2026-13-01"));
        assert!(!is_iso_date("2026-04-31"));
        assert!(!is_iso_date("2026-4-30"));
        assert!(!is_iso_date("26-04-30xx"));
        assert!(!is_iso_date("２０２６-01-01"));
    }

    #[test]
    fn includes_stay_inside() {
        let base = std::env::temp_dir();
        assert!(resolve_include(None, "a.csv").is_err());
        let e = resolve_include(Some(&base), "../etc/passwd").expect_err("escape");
        assert!(e.0.contains("leaves"), "{e:?}");
        let e = resolve_include(Some(&base), "/etc/passwd").expect_err("absolute");
        assert!(e.0.contains("absolute"), "{e:?}");
        let e = resolve_include(Some(&base), "a/../../x.csv").expect_err("escape");
        assert!(e.0.contains("leaves"), "{e:?}");
        let e = resolve_include(Some(&base), "no-such-file-here.csv").expect_err("missing");
        assert!(e.0.contains("not found"), "{e:?}");
    }
}
