//! The conversion's context ([`Cx`]): the problems found so far, the ids seen and the
//! indices given, and the helpers every section uses to report a problem at its path —
//! ranges, limits, whole numbers, days, misplaced keys, missing keys, id references.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use delever_graph::{AccountBook, AssetIx, HolderIx, IdMap, LenderIx};

use super::books::AccountsFile;
use super::{Pending, Place};
use crate::index::{join_index, join_key};
use crate::limits::{self, Limit};
use crate::spec::{Days, KindName, ScenarioSpec, Whole};
use crate::suggest;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IdKind {
    Asset,
    Holder,
    Lender,
}

impl IdKind {
    /// The scenario section of nodes of this kind.
    pub(crate) fn section(self) -> &'static str {
        match self {
            IdKind::Asset => "assets",
            IdKind::Holder => "holders",
            IdKind::Lender => "lenders",
        }
    }

    /// The path of the node at `index` of this kind's section (`holders[7]`).
    pub(crate) fn path(self, index: usize) -> String {
        join_index(self.section(), index)
    }

    pub(crate) fn a(self) -> &'static str {
        match self {
            IdKind::Asset => "an asset",
            IdKind::Holder => "a holder",
            IdKind::Lender => "a lender",
        }
    }
}

/// What a reference must name.
#[derive(Clone, Copy)]
pub(crate) enum Want {
    Asset,
    Holder,
    Lender,
    BalanceSheet,
}

impl Want {
    pub(crate) fn accepts(self, k: IdKind) -> bool {
        matches!(
            (self, k),
            (Want::Asset, IdKind::Asset)
                | (Want::Holder, IdKind::Holder)
                | (Want::Lender, IdKind::Lender)
                | (Want::BalanceSheet, IdKind::Holder | IdKind::Lender)
        )
    }
    pub(crate) fn what(self) -> &'static str {
        match self {
            Want::Asset => "asset",
            Want::Holder => "holder",
            Want::Lender => "lender",
            Want::BalanceSheet => "holder or lender",
        }
    }
    pub(crate) fn plural(self) -> &'static str {
        match self {
            Want::Asset => "assets",
            Want::Holder => "holders",
            Want::Lender => "lenders",
            Want::BalanceSheet => "holders and lenders",
        }
    }
}

/// Per-holder facts needed to map builder problems back to the YAML.
pub(crate) struct HolderMeta {
    pub(crate) index: usize,
    pub(crate) accounts_file: Option<AccountsFile>,
    /// An account book's accounts, as loaded.
    pub(crate) book: Option<Arc<AccountBook>>,
}

pub(crate) struct Cx<'s> {
    pub(crate) spec: &'s ScenarioSpec,
    pub(crate) problems: Vec<Pending>,
    /// Every id, with its kind and index in its section (`assets[2]`), first occurrence
    /// only. Hashed: a lookup per reference in 100,000 holders (issue 15). Shared with the
    /// [`Cx::fork`]s that convert holders on other cores.
    pub(crate) ids: Arc<IdMap<&'s str, (IdKind, usize)>>,
    /// (section, index) of nodes left out of the network (duplicate or empty ids).
    pub(crate) skipped: BTreeSet<(IdKind, usize)>,
    pub(crate) assets: BTreeMap<&'s str, AssetIx>,
    pub(crate) lenders: BTreeMap<&'s str, LenderIx>,
    /// Per holder of `holders:` (by index), once it is in the network: its node and what
    /// the conversion keeps of it. Found by id through `ids` (no map of its own to fill).
    pub(crate) holder_nodes: Vec<Option<(HolderIx, HolderMeta)>>,
    /// Pre-shock prices of the assets in the network, by index.
    pub(crate) prices: Vec<f64>,
    /// Builder problems (subject id, field) already reported in a better form here.
    pub(crate) suppress: BTreeSet<(String, String)>,
    /// Section index of the first asset with each id, so a holding finds its asset's
    /// price without a scan of `assets` (a scan per holding made loading quadratic).
    pub(crate) asset_at: BTreeMap<&'s str, usize>,
    /// Holder index of the first leveraged ETF with each id (holdings may name its shares).
    pub(crate) etf_at: BTreeMap<&'s str, usize>,
}

pub(crate) fn pending(
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

pub(crate) fn num(n: Option<crate::spec::Num>) -> Option<f64> {
    n.map(|n| n.0)
}

/// Whether `key` belongs to `this` (kind, law, rule or shock type) in `table`; keys not in
/// the table belong to all.
pub(crate) fn owns<T: PartialEq>(table: &[(&str, impl AsRef<[T]>)], key: &str, this: &T) -> bool {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .is_none_or(|(_, owners)| owners.as_ref().contains(this))
}

pub(crate) fn names<T: Copy>(list: &[T], name: fn(T) -> &'static str) -> String {
    list.iter().map(|&k| name(k)).collect::<Vec<_>>().join(", ")
}

impl<'s> Cx<'s> {
    /// An empty context for `spec`, with its id indexes built.
    pub(crate) fn new(spec: &'s ScenarioSpec) -> Self {
        let mut asset_at = BTreeMap::new();
        for (i, a) in spec.assets.iter().enumerate() {
            asset_at.entry(a.id.as_str()).or_insert(i);
        }
        let mut etf_at = BTreeMap::new();
        for (i, h) in spec.holders.iter().enumerate() {
            if h.kind == KindName::LeveragedEtf {
                etf_at.entry(h.id.as_str()).or_insert(i);
            }
        }
        Cx {
            spec,
            problems: Vec::new(),
            ids: Arc::new(IdMap::with_capacity(
                spec.assets.len() + spec.holders.len() + spec.lenders.len(),
            )),
            skipped: BTreeSet::new(),
            assets: BTreeMap::new(),
            lenders: BTreeMap::new(),
            holder_nodes: std::iter::repeat_with(|| None)
                .take(spec.holders.len())
                .collect(),
            prices: Vec::new(),
            suppress: BTreeSet::new(),
            asset_at,
            etf_at,
        }
    }

    /// A context to convert holders in on another core: this one's ids, sections and
    /// indexes, with no problems yet. It has no holder nodes: converting a holder reads
    /// none (they are read when the builder's problems are mapped back, and by the edges).
    pub(crate) fn fork(&self) -> Cx<'s> {
        Cx {
            spec: self.spec,
            problems: Vec::new(),
            ids: Arc::clone(&self.ids),
            skipped: self.skipped.clone(),
            assets: self.assets.clone(),
            lenders: self.lenders.clone(),
            holder_nodes: Vec::new(),
            prices: self.prices.clone(),
            suppress: BTreeSet::new(),
            asset_at: self.asset_at.clone(),
            etf_at: self.etf_at.clone(),
        }
    }

    /// Take back what a [`Cx::fork`] found, after what this one found so far (forks are
    /// joined in holder order, so problems keep the order of a conversion on one core).
    pub(crate) fn join(&mut self, fork: Cx<'s>) {
        self.problems.extend(fork.problems);
        self.suppress.extend(fork.suppress);
    }

    /// The network node and kept facts of the holder with id `id`, if it is in the
    /// network.
    fn holder_node(&self, id: &str) -> Option<&(HolderIx, HolderMeta)> {
        match self.ids.get(id) {
            Some(&(IdKind::Holder, i)) => self.holder_nodes.get(i)?.as_ref(),
            _ => None,
        }
    }

    /// The network node of the holder with id `id`, if it is in the network.
    pub(crate) fn holder(&self, id: &str) -> Option<HolderIx> {
        self.holder_node(id).map(|n| n.0)
    }

    /// What the conversion keeps of the holder with id `id`, if it is in the network.
    pub(crate) fn holder_meta(&self, id: &str) -> Option<&HolderMeta> {
        self.holder_node(id).map(|n| &n.1)
    }

    /// The holders in the network with what the conversion keeps of them, in holder
    /// order.
    pub(crate) fn holder_metas(&self) -> impl Iterator<Item = (&'s str, &HolderMeta)> {
        let spec = self.spec;
        self.holder_nodes
            .iter()
            .enumerate()
            .filter_map(move |(i, n)| Some((spec.holders.get(i)?.id.as_str(), &n.as_ref()?.1)))
    }

    pub(crate) fn err(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.problems
            .push(pending(path, Place::Value, message, hint));
    }

    pub(crate) fn err_key(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.problems.push(pending(path, Place::Key, message, hint));
    }

    /// Report keys present for a variant they do not belong to.
    pub(crate) fn misplaced<T: Copy + PartialEq>(
        &mut self,
        base: &str,
        this: T,
        this_what: &str,
        table: &[(&str, impl AsRef<[T]>)],
        present: &[(&str, bool)],
        name: fn(T) -> &'static str,
    ) {
        for &(key, is_present) in present {
            if !is_present {
                continue;
            }
            if let Some((_, owners)) = table.iter().find(|(k, _)| *k == key)
                && !owners.as_ref().contains(&this)
            {
                self.err_key(
                    join_key(base, key),
                    format!(
                        "`{key}` does not apply to {this_what} `{}`; it belongs to {}",
                        name(this),
                        names(owners.as_ref(), name)
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
    pub(crate) fn limit(&mut self, path: impl Into<String>, v: f64, lim: &Limit) -> bool {
        self.limit_at(move || path.into(), v, lim)
    }

    /// [`Cx::limit`] with the path built only when `v` is reported.
    pub(crate) fn limit_at(&mut self, path: impl FnOnce() -> String, v: f64, lim: &Limit) -> bool {
        match limits::violation(v, lim) {
            None => true,
            Some(msg) => {
                self.err(path(), msg, Some(lim.why.to_owned()));
                false
            }
        }
    }

    /// [`Cx::limit`] for an optional value at `base.key`.
    pub(crate) fn limit_key(
        &mut self,
        base: &str,
        key: &str,
        v: Option<crate::spec::Num>,
        lim: &Limit,
    ) {
        if let Some(v) = num(v) {
            self.limit_at(|| join_key(base, key), v, lim);
        }
    }

    /// A whole number in `[1, max]` (`unit` names what it counts); out of range, it is
    /// reported and clamped so that nothing downstream reports it again.
    pub(crate) fn whole(
        &mut self,
        path: String,
        w: Whole,
        max: u64,
        unit: &str,
        hint: &str,
    ) -> u64 {
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
    pub(crate) fn days(&mut self, path: String, d: Days, max: u32, hint: &str) -> u32 {
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
    pub(crate) fn participation(&mut self, path: String, p: f64) -> f64 {
        if !(p > 0.0 && p <= 1.0) {
            self.err(
                path,
                format!("must be in (0, 1], got {p}"),
                Some("a fraction of the asset's average daily volume sold per day: 0.1-0.25 is a large but executable participation".into()),
            );
        }
        p
    }

    pub(crate) fn missing(&mut self, path: String, what: &str, hint: &str) {
        let key = path.rsplit('.').next().unwrap_or_default().to_owned();
        self.err(
            path,
            format!("missing required key `{key}` for {what}"),
            Some(hint.to_owned()),
        );
    }

    pub(crate) fn check_source(&mut self, path: String, source: Option<&String>) {
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
    ///
    /// The candidate list for "did you mean" is built only when the lookup fails: built on
    /// every reference it made loading quadratic in the number of ids (issue 15).
    pub(crate) fn resolve(&mut self, path: String, id: &str, want: Want) -> Option<IdKind> {
        self.resolve_at(move || path, id, want)
    }

    /// [`Cx::resolve`] with the path built only when the reference is reported.
    pub(crate) fn resolve_at(
        &mut self,
        path: impl FnOnce() -> String,
        id: &str,
        want: Want,
    ) -> Option<IdKind> {
        let found = match self.ids.get(id) {
            Some((k, _)) if want.accepts(*k) => return Some(*k),
            Some((k, i)) => Some((*k, k.path(*i))),
            None => None,
        };
        // Sorted by id, as the lists and suggestions show them.
        let candidates: Vec<&str> = self
            .ids
            .sorted()
            .into_iter()
            .filter(|(_, (k, _))| want.accepts(*k))
            .map(|(id, _)| *id)
            .collect();
        if let Some((k, p)) = found {
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
            self.err(path(), msg, Some(hint));
        } else {
            let hint = suggest::hint_for(id, candidates.iter().copied(), want.plural());
            self.err(
                path(),
                format!("unknown {} `{id}`", want.what()),
                Some(hint),
            );
        }
        None
    }

    /// Register node `index` of `kind`'s section with its id; an empty or duplicate id is
    /// reported at `<section>[index].id` and the node skipped.
    pub(crate) fn register(&mut self, kind: IdKind, index: usize, id: &'s str) {
        // The path is built only for a problem: built for every node it was a good part
        // of loading 100,000 holders (issue 15).
        let path = || join_key(&kind.path(index), "id");
        if id.trim().is_empty() {
            self.err(path(), "ids must not be empty", None);
            self.skipped.insert((kind, index));
            return;
        }
        // Ids are registered before any fork is made: the map is not shared yet.
        if let Err(&(k, i)) = Arc::make_mut(&mut self.ids).insert_new(id, (kind, index)) {
            let msg = format!(
                "duplicate id `{id}`: already used by {} ({})",
                k.a(),
                k.path(i)
            );
            self.err(
                path(),
                msg,
                Some("every asset, holder and lender needs its own id".into()),
            );
            self.skipped.insert((kind, index));
        }
    }
}

pub(crate) fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
