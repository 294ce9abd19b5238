//! Spec → model: check what serde cannot (ids, kind-specific keys, ranges, dates), build
//! the [`Network`] through its builder, resolve shocks and expectations to indices.
//!
//! Every problem is collected with the YAML path it is about; `lib.rs` turns paths into
//! line:column with the document index. Problems the graph builder finds (its
//! [`delever_graph::Problem`]s name a node and a field) are mapped back to the same paths.

mod assets;
mod books;
mod cx;
mod edges;
mod engine;
mod expect;
mod holders;
mod lenders;
mod monte_carlo;
mod problems;
mod shocks;
mod variants;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use delever_engine::{EngineConfig, Shock};
use delever_graph::{AssetIx, HolderKind, ImpactDecay, ImpactLaw, Network, NetworkBuilder};

use crate::Source;
use crate::book::AssetLookup;
use crate::expect::Expectations;
use crate::index::{join_index, join_key};
use crate::limits;
use crate::montecarlo::MonteCarlo;
use crate::spec::ScenarioSpec;
use crate::variant::Variant;

pub(crate) use assets::LAW_KEYS;
use assets::{asset, decay, impact};
pub(crate) use books::{AccountsFile, BookCache, load_book, load_memory_book, resolve_include};
pub(crate) use cx::{Cx, num, owns, pending};
use cx::{HolderMeta, IdKind};
use edges::{holder_edges, owes};
use engine::{engine, engine_base, engine_done};
use expect::expectations;

use lenders::lender;
use monte_carlo::monte_carlo;
pub(crate) use problems::is_solvency;
use problems::{map_problem, subject_id};
pub(crate) use shocks::SHOCK_KEYS;
use shocks::{shock_days, shocks};
use variants::variants;

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
    /// Account books given in memory, by holder id (`Template::from_yaml_with_books`).
    pub memory: Option<&'a crate::book::MemoryBooks>,
}

impl<'a> Origin<'a> {
    /// A plain load: no cached books.
    pub fn new(base_dir: Option<&'a Path>, stem: Option<&'a str>) -> Self {
        Origin {
            base_dir,
            stem,
            books: None,
            record: None,
            memory: None,
        }
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
    pub teach: Vec<crate::teach::Slider>,
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

/// Validate `spec` and build the model, or list every problem found.
#[allow(clippy::too_many_lines)] // the steps in order, each a few lines: reads best in one place
pub(crate) fn convert(spec: &ScenarioSpec, origin: &Origin<'_>) -> Result<Converted, Vec<Pending>> {
    let mut cx = Cx::new(spec);
    header(&mut cx, origin);
    let sources = sources(&mut cx);
    for (i, a) in spec.assets.iter().enumerate() {
        cx.register(IdKind::Asset, i, &a.id);
    }
    for (i, h) in spec.holders.iter().enumerate() {
        cx.register(IdKind::Holder, i, &h.id);
    }
    for (i, l) in spec.lenders.iter().enumerate() {
        cx.register(IdKind::Lender, i, &l.id);
    }
    books::memory_books_used(&mut cx, spec, origin);
    if spec.assets.is_empty() {
        cx.err(
            "assets",
            "a scenario needs at least one asset",
            Some("add `assets: [{ id: NVDA, price: 180.0, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }]`".into()),
        );
    }

    let mut b = NetworkBuilder::new();
    b.reserve(
        spec.assets.len() + spec.holders.len() + spec.lenders.len(),
        spec.holders.len(),
    );
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
    // A book's `asset` column may name a leveraged ETF with shares outstanding: its
    // shares are the index `n_assets + k` (the k-th such fund in holder order, as the
    // graph numbers them), priced at NAV per share.
    let funds = edges::share_classes(spec);
    let n_assets = cx.assets.len() as u32;
    for (_, f) in &funds {
        cx.prices.push(edges::nav_per_share(f).unwrap_or(0.0));
    }
    let lookup = AssetLookup::new(
        cx.assets.iter().map(|(k, v)| (*k, *v)).chain(
            funds
                .iter()
                .enumerate()
                .map(|(k, (_, f))| (f.id.as_str(), AssetIx(n_assets + k as u32))),
        ),
    );
    holders::convert_holders(&mut cx, origin, &lookup, |cx, i, holder, accounts_file| {
        if !cx.skipped.contains(&(IdKind::Holder, i)) {
            let book = match &holder.kind {
                HolderKind::AccountBook { book, .. } => Some(Arc::clone(book)),
                _ => None,
            };
            let ix = b.add_holder(holder);
            let meta = HolderMeta {
                index: i,
                accounts_file,
                book,
            };
            if let Some(slot) = cx.holder_nodes.get_mut(i) {
                *slot = Some((ix, meta));
            }
        }
    });
    for (i, h) in spec.holders.iter().enumerate() {
        if !cx.skipped.contains(&(IdKind::Holder, i)) {
            holder_edges(&mut cx, &mut b, h, i);
        }
    }
    let book_held = edges::book_etf_shares(&mut cx, &funds, n_assets as usize);
    edges::etf_totals(&mut cx, &book_held);
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
    let raw_engine = match &spec.engine {
        Some(e) => engine(&mut cx, e, "engine", engine_base(spec)),
        None => engine_base(spec),
    };
    let engine = engine_done(&mut cx, raw_engine.clone(), "engine");
    if engine.glt_exact
        && let Some(net) = network.as_ref()
    {
        for why in delever_engine::glt::exact_refusals(net) {
            cx.err(
                "engine.glt",
                format!("exact GLT accounting needs a GLT system: {why}"),
                Some("GLT's model is leverage-targeting banks with linear impact; drop `glt: exact` to run this scenario with the engine's own accounting".into()),
            );
        }
    }
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
    let teach = crate::teach::teach(&mut cx, spec.teach.as_ref());

    match network {
        Some(network) if cx.problems.is_empty() => Ok(Converted {
            sources,
            network,
            shocks,
            engine,
            expect,
            variants,
            monte_carlo,
            teach,
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
}
