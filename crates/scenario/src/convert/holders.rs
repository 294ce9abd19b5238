//! Holders: the keys every holder has, checked and converted here; the keys of each kind
//! are its module's (`crate::kinds`), which this dispatches to.

use delever_graph::{CashUse, Holder, HolderKind, SaleOrder, Timing};

use super::Origin;
use super::books::AccountsFile;
use super::cx::{Cx, num};
use crate::book::AssetLookup;
use crate::index::{join_index, join_key};
use crate::kinds::{self, Make};
use crate::limits;
use crate::spec::{CashUseName, HolderSpec, KindName, SaleOrderName};

/// A holder as converted, with the accounts file it read.
type Converted = (Holder, Option<AccountsFile>);

/// A batch as converted: per chunk, its holders and the fork that converted them.
type Batch<'s> = Vec<(Vec<Converted>, Cx<'s>)>;

/// Holders converted per batch: a batch's holders are kept until they are added (two
/// batches at a time, one added while the next is converted), and batches of this size
/// reuse the same memory from one to the next.
const BATCH: usize = 1 << 14;

/// Holders per fork of the context within a batch.
const CHUNK: usize = 1 << 11;

/// Check and convert every holder of the scenario, in order, and give each to `add` with
/// its index and the accounts file it read.
///
/// Holders are independent until they are added to the network, so a large scenario's
/// are converted on every core, in batches, each chunk with its own fork of `cx`; the
/// forks are joined in holder order, so the problems come out as on one core. A batch is
/// added (on one core: the network is built in order) while the next is converted.
/// Account books are converted on one core: their conversion reads files (with its own
/// parallelism) and keeps the books it loaded for later conversions.
pub(crate) fn convert_holders<'s>(
    cx: &mut Cx<'s>,
    origin: &Origin<'_>,
    lookup: &AssetLookup,
    mut add: impl FnMut(&mut Cx<'s>, usize, Holder, Option<AccountsFile>) + Send,
) {
    use rayon::prelude::*;
    let holders = &cx.spec.holders;
    if holders.len() <= CHUNK || holders.iter().any(|h| h.kind == KindName::AccountBook) {
        for (i, h) in holders.iter().enumerate() {
            let (holder, file) = holder(cx, h, i, origin, lookup);
            add(cx, i, holder, file);
        }
        return;
    }
    // With no account book, the conversion reads nothing of `origin` but the scenario's
    // directory and stem (its book caches are not shared across threads).
    let (base_dir, stem) = (origin.base_dir, origin.stem);
    let batches: Vec<&'s [HolderSpec]> = holders.chunks(BATCH).collect();
    // The batch converted and not yet added, with the index of its first holder.
    let mut done: Option<(usize, Batch<'s>)> = None;
    for b in 0..=batches.len() {
        let next = batches.get(b).map(|batch| {
            // A fork depends only on what the conversion set before the holders, which
            // adding holders does not change: made here, they let `cx` be lent below.
            let forks: Vec<Cx<'s>> = batch.chunks(CHUNK).map(|_| cx.fork()).collect();
            (b * BATCH, batch, forks)
        });
        let previous = done.take();
        let ((), converted) = rayon::join(
            || {
                if let Some((mut i, parts)) = previous {
                    for (out, fork) in parts {
                        cx.join(fork);
                        for (holder, file) in out {
                            add(cx, i, holder, file);
                            i += 1;
                        }
                    }
                }
            },
            || {
                next.map(|(first, batch, forks)| {
                    let parts = batch
                        .par_chunks(CHUNK)
                        .zip(forks)
                        .enumerate()
                        .map(|(c, (chunk, mut fork))| {
                            let plain = Origin::new(base_dir, stem);
                            let first = first + c * CHUNK;
                            let out = chunk
                                .iter()
                                .enumerate()
                                .map(|(j, h)| holder(&mut fork, h, first + j, &plain, lookup))
                                .collect();
                            (out, fork)
                        })
                        .collect();
                    (first, parts)
                })
            },
        );
        done = converted;
    }
}

/// Check and convert holder `i`; returns it with the accounts file it read, if any.
pub(crate) fn holder(
    cx: &mut Cx<'_>,
    h: &HolderSpec,
    i: usize,
    origin: &Origin<'_>,
    lookup: &AssetLookup,
) -> (Holder, Option<AccountsFile>) {
    let base = join_index("holders", i);
    let kind = h.kind;
    let this = kinds::of(kind);
    if h.source.is_some() {
        cx.check_source(join_key(&base, "source"), h.source.as_ref());
    }
    let table = kinds::keys();
    // Almost every holder has only its kind's keys: the list of keys present is built
    // only for one that has another kind's.
    if kinds::foreign(kind).iter().any(|has| has(h)) {
        let present: Vec<(&str, bool)> = table.iter().map(|&(k, _)| (k, h.has(k))).collect();
        cx.misplaced(&base, kind, "holder kind", table, &present, KindName::name);
    }
    for &(key, hint) in this.required {
        if !h.has(key) {
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
    let mut make = Make {
        base: &base,
        kind,
        origin,
        lookup,
        accounts_file: None,
    };
    let hk = (this.convert)(cx, h, &mut make);
    let accounts_file = make.accounts_file;
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
    if kinds::owns(kind, "default_below_ratio") {
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
    let participation = if kinds::owns(h.kind, "participation") {
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
