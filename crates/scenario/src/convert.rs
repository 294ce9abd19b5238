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
    ImpactLaw, Lender, LenderIx, LtvBucket, MarginTerms, Network, NetworkBuilder, Problem,
    SaleOrder, Subject,
};

use crate::Source;
use crate::book::{self, AssetLookup, BookFiles};
use crate::expect::{
    AssetExpectations, Bound, DEFAULT_REL_TOL, Expectation, Expectations, HolderExpectations,
};
use crate::index::{join_index, join_key};
use crate::montecarlo::{self, MonteCarlo, ShockDistribution};
use crate::spec::{
    AssetSpec, BoundSpec, CashUseName, CorrelationSpec, DistName, EngineSpec, ExpectSpec,
    HolderSpec, ImpactSpec, KindName, LawName, LenderSpec, ModeName, MonteCarloSpec, OweSpec,
    RuleName, RuleSpec, SaleOrderName, ScenarioSpec, ShockName, ShockSpec, StatusName,
    TerminationName, VariantSpec,
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
    accounts_name: String,
    book: Arc<AccountBook>,
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
    accounts_file: Option<String>,
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
    let default_law = match spec.defaults.as_ref().and_then(|d| d.impact.as_ref()) {
        Some(imp) => impact(&mut cx, imp, "defaults.impact"),
        None => ImpactLaw::SquareRoot { y: 0.7 },
    };
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
        let asset = asset(&mut cx, a, i, default_law);
        if !cx.skipped.contains(&(IdKind::Asset, i)) {
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
            let ix = b.add_holder(holder);
            cx.holders.insert(&h.id, ix);
            cx.holder_meta.insert(
                &h.id,
                HolderMeta {
                    index: i,
                    accounts_file,
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
                let pend = map_problem(&cx, p);
                cx.problems.push(pend);
            }
            None
        }
    };

    let shocks = shocks(&mut cx, &spec.shocks, "shocks");
    let engine = match &spec.engine {
        Some(e) => engine(&mut cx, e, "engine", EngineConfig::default()),
        None => EngineConfig::default(),
    };
    let expect = spec
        .expect
        .as_ref()
        .map(|e| expectations(&mut cx, e, "expect"));
    let variants = variants(&mut cx, &shocks, &engine);
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

fn asset(cx: &mut Cx<'_>, a: &AssetSpec, i: usize, default_law: ImpactLaw) -> Asset {
    let base = join_index("assets", i);
    cx.check_source(join_key(&base, "source"), a.source.as_ref());
    let law = match &a.impact {
        Some(imp) => impact(cx, imp, &join_key(&base, "impact")),
        None => default_law,
    };
    asset_with(a, law)
}

/// The asset a spec describes, with impact law `law`.
fn asset_with(a: &AssetSpec, law: ImpactLaw) -> Asset {
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
        decay: delever_graph::ImpactDecay::default(),
    }
}

fn lender(cx: &mut Cx<'_>, l: &LenderSpec, i: usize) -> Lender {
    let base = join_index("lenders", i);
    cx.check_source(join_key(&base, "source"), l.source.as_ref());
    Lender {
        id: l.id.clone(),
        capital: l.capital.0,
        tighten_trigger: l.tighten.as_ref().map(|t| t.trigger.0),
        tighten_by: l.tighten.as_ref().map_or(0.0, |t| t.by.0),
        other_liabilities: num(l.other_liabilities).unwrap_or(0.0),
        liquidation: delever_graph::Liquidation::default(),
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
) -> (Holder, Option<String>) {
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
    let cure_rate = num(h.cure_rate)
        .or_else(|| cx.spec.defaults.as_ref().and_then(|d| num(d.cure_rate)))
        .unwrap_or(0.0);
    let mut accounts_file = None;
    let hk = match kind {
        KindName::MarginAccount => HolderKind::MarginAccount { cure_rate },
        KindName::MarginCohort => HolderKind::MarginCohort {
            accounts: h.accounts.unwrap_or(1),
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
    (holder, accounts_file)
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
) -> (Option<Arc<AccountBook>>, Option<String>) {
    if let Some(hit) = origin.books.and_then(|c| c.get(accounts, holdings, lookup)) {
        // Books are shared: an instance points at the book loaded once, no copy.
        return (Some(Arc::clone(&hit.book)), Some(hit.accounts_name.clone()));
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
                    accounts_name: acc_name.clone(),
                    book: Arc::clone(&book),
                });
            }
            (Some(book), Some(acc_name))
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
            (None, Some(acc_name))
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
            let shares = match (num(hd.shares), num(hd.usd)) {
                (Some(_), Some(_)) => {
                    cx.err(
                        &p,
                        "give `shares` or `usd`, not both",
                        Some("`usd` is converted to shares at the asset's price".into()),
                    );
                    None
                }
                (None, None) => {
                    cx.err(join_key(&p, "shares"), "missing `shares` (or `usd`)", Some("e.g. `{ asset: NVDA, shares: 1.0e6 }` or `{ asset: NVDA, usd: 5.0e8 }`".into()));
                    None
                }
                (Some(s), None) if s < 0.0 => {
                    cx.err(
                        join_key(&p, "shares"),
                        format!("expected a number ≥ 0, got {s}"),
                        Some("holdings are long positions: a number of shares ≥ 0".into()),
                    );
                    None
                }
                (Some(s), None) => Some(s),
                (None, Some(u)) if u < 0.0 => {
                    cx.err(
                        join_key(&p, "usd"),
                        format!("expected a number ≥ 0, got {u}"),
                        None,
                    );
                    None
                }
                (None, Some(u)) => {
                    let price = cx
                        .spec
                        .assets
                        .iter()
                        .find(|a| a.id == hd.asset)
                        .map_or(0.0, |a| a.price.0);
                    (price > 0.0).then(|| u / price)
                }
            };
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
            (Some(l), false) => l,
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
        } else if ok {
            b.owes(debtor, &o.creditor, o.amount.0);
        }
    }
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
                        file,
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
        if let Some(shock) = shock(cx, s, &base, &tags) {
            out.push(shock);
        }
    }
    out
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
        Some(r)
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
            Some(Shock::DiscountRate {
                delta: num(s.delta)?,
                tag: t,
            })
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
        };
    }
    if let Some(r) = e.max_rounds {
        if r == 0 {
            cx.err(
                join_key(base, "max_rounds"),
                "expected at least 1 round, got 0",
                Some("1 gives the one-round (GLT) answer; the default is 1000".into()),
            );
        }
        cfg.max_rounds = r;
    }
    if let Some(t) = num(e.tolerance) {
        if t <= 0.0 {
            cx.err(
                join_key(base, "tolerance"),
                format!("expected a number > 0, got {t}"),
                Some("a relative price change, e.g. `tolerance: 1e-10`".into()),
            );
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
/// variant inherits).
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
        let engine = match &v.engine {
            Some(e) => engine(cx, e, &join_key(&base, "engine"), base_engine.clone()),
            None => base_engine.clone(),
        };
        let impact = variant_impact(cx, v, &base);
        let expect = v
            .expect
            .as_ref()
            .map(|e| expectations(cx, e, &join_key(&base, "expect")));
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

/// A variant's impact laws, each checked against its asset as the builder checks laws.
fn variant_impact(cx: &mut Cx<'_>, v: &VariantSpec, base: &str) -> Vec<(AssetIx, ImpactLaw)> {
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
        b.add_asset(asset_with(a, law));
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
        out.push((ix, law));
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

fn expectations(cx: &mut Cx<'_>, e: &ExpectSpec, at: &str) -> Expectations {
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
    let mut assets = Vec::new();
    for (id, a) in e.assets.iter().flatten() {
        let base = join_key(&join_key(at, "assets"), id);
        let Some(ix) =
            expect_ref(cx, &base, id, Want::Asset).and(cx.assets.get(id.as_str()).copied())
        else {
            continue;
        };
        let checks = checks(
            cx,
            &base,
            &[
                ("price_shocked", a.price_shocked.as_ref()),
                ("price_after", a.price_after.as_ref()),
                ("drawdown", a.drawdown.as_ref()),
                ("forced_sales_shares", a.forced_sales_shares.as_ref()),
                ("forced_sales_usd", a.forced_sales_usd.as_ref()),
            ],
        );
        assets.push(AssetExpectations {
            id: id.clone(),
            asset: ix,
            checks,
        });
    }
    let mut holders = Vec::new();
    for (id, h) in e.holders.iter().flatten() {
        let base = join_key(&join_key(at, "holders"), id);
        let Some(ix) =
            expect_ref(cx, &base, id, Want::Holder).and(cx.holders.get(id.as_str()).copied())
        else {
            continue;
        };
        let status: Vec<Status> = h
            .status
            .as_ref()
            .map(|s| s.0.iter().map(|&s| status(s)).collect())
            .unwrap_or_default();
        if h.status.as_ref().is_some_and(|s| s.0.is_empty()) {
            cx.err(
                join_key(&base, "status"),
                "an empty list of statuses accepts nothing",
                Some("list at least one status, e.g. `status: [sold, margin_call]`".into()),
            );
        }
        let checks = checks(
            cx,
            &base,
            &[
                ("equity_before", h.equity_before.as_ref()),
                ("equity_after", h.equity_after.as_ref()),
                ("sales_usd", h.sales_usd.as_ref()),
                ("lender_loss_usd", h.lender_loss_usd.as_ref()),
            ],
        );
        holders.push(HolderExpectations {
            id: id.clone(),
            holder: ix,
            status,
            checks,
        });
    }
    Expectations {
        termination,
        totals,
        assets,
        holders,
    }
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
                }
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
