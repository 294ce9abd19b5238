//! The delever propagation engine.
//!
//! Given a validated [`delever_graph::Network`], a list of [`Shock`]s and an
//! [`EngineConfig`], [`run`] applies the shocks, then iterates forced sales and price impact
//! to a fixed point and returns an [`Outcome`]: final prices, who sold what, who was called
//! or defaulted, lender losses, the round-by-round trace and how the iteration stopped.
//! [`run_with_observer`] does the same and hands every finished round to an [`Observer`]
//! (any `FnMut(&RoundTrace)` closure is one) for progress bars and tracing;
//! [`run_detailed`] also returns the [`Ledger`] of shares and proceeds per holder.
//!
//! How it works, one concept per module:
//!
//! - `compile`: the network, once, into flat columns (explicit holdings in a small CSR per
//!   holder; account books *borrowed*, never copied);
//! - `shocks`: shocked prices, exogenous sales, margin tightening, redemptions;
//! - `impact`: the price impact laws `g` ([`impact::Law`]);
//! - `rules`: one module per holder rule — cumulative shares sold as a function of prices;
//! - `clearing`: Eisenberg–Noe clearing of interbank claims, lender losses;
//! - `round`: one evaluation of the whole system at a price vector;
//! - `fixpoint`: the loop `p ← p_s ⊙ g(S(p) + X)` to the greatest (and optionally least)
//!   fixed point, with its termination reason;
//! - `seq`: the sequential mode ([`Mode::Sequential`]): rounds in which every holder acts
//!   on the previous round's prices on its carried-over balance sheet, orders clear
//!   together and settle at the midpoint of the old and the new price;
//! - [`glt`]: the Greenwood–Landier–Thesmar closed form, for checks and teaching;
//! - [`explain`]: a run re-evaluated round by round — every holder's state (the HTML
//!   report's player) and one holder's balance sheet and rule with its numbers
//!   (`delever explain`);
//! - [`synth`]: deterministic synthetic books for benches and tests.
//!
//! A run is deterministic: parallel work is split in fixed chunks and reduced in chunk
//! order, so the outcome is bit-identical on any number of threads. The library never
//! panics on a network its builder accepted; bad shocks and settings are an
//! [`EngineError`]. The maths, rule by rule with sources, is in `docs/model.md`.

mod assemble;
mod carry;
mod clearing;
mod compile;
mod error;
pub mod explain;
mod finite;
mod fixpoint;
pub mod glt;
pub mod impact;
mod ledger;
mod observer;
mod outcome;
mod round;
mod rules;
mod seq;
mod shocks;
mod spec;
pub mod synth;
pub mod systemic;
mod timeline;

pub use error::EngineError;
pub use ledger::{HolderLedger, Ledger, PositionLedger};
pub use observer::{Observer, Silent};
pub use outcome::{
    AssetDay, AssetOutcome, DayOutcome, DebtorLoss, EtfShares, HolderDay, HolderOutcome,
    LeastFixedPoint, LenderOutcome, Outcome, RoundTrace, Status, TRACE_ROUNDS, Termination, Totals,
};
pub use rules::book::{CHUNK_ROWS, plain_value};
pub use rules::dealer::{DealerHedge, dealer_hedges};
pub use shocks::{MAX_DAYS, PRICE_FLOOR};
pub use spec::{EngineConfig, Mode, Settlement, Shock};

use delever_graph::Network;

use crate::compile::Compiled;
use crate::fixpoint::{Direction, Iterator};
use crate::round::{Workspace, evaluate};

/// Run the cascade: to its fixed point ([`Mode::Equilibrium`], the default) or round by
/// round ([`Mode::Sequential`]), as `cfg.mode` says.
///
/// ```
/// use delever_engine::{EngineConfig, Shock, run};
/// use delever_graph::AssetIx;
/// let net = delever_engine::synth::textbook_margin(0.25).expect("valid network");
/// let shock = [Shock::AssetReturn { asset: AssetIx(0), ret: -0.40 }];
/// let out = run(&net, &shock, &EngineConfig::default()).expect("valid shocks");
/// assert!(out.totals.margin_calls > 0);
/// ```
pub fn run(net: &Network, shocks: &[Shock], cfg: &EngineConfig) -> Result<Outcome, EngineError> {
    run_with_observer(net, shocks, cfg, &mut Silent)
}

/// [`run`], calling `observer` after every round.
pub fn run_with_observer(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    observer: &mut dyn Observer,
) -> Result<Outcome, EngineError> {
    run_detailed(net, shocks, cfg, observer).map(|(o, _)| o)
}

/// [`run_with_observer`], also returning the [`Ledger`] of shares and proceeds.
pub fn run_detailed(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    observer: &mut dyn Observer,
) -> Result<(Outcome, Ledger), EngineError> {
    run_inner(net, shocks, cfg, observer, &[], false)
}

/// The least fixed point played as a run of its own: the iteration from the floor prices
/// (everybody at their worst, the all-liquidated state) up to the least fixed point, with
/// its per-round trace, totals and statuses, so that it can be shown round by round as the
/// greatest one is (`delever serve`'s second equilibrium). Equilibrium mode only, and not
/// with exact GLT accounting (one round has no second fixed point).
/// [`explain::Replay::rounds_from_floor`] replays its rounds.
pub fn run_least_detailed(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    observer: &mut dyn Observer,
) -> Result<(Outcome, Ledger), EngineError> {
    if cfg.mode != Mode::Equilibrium || cfg.glt_exact {
        return Err(EngineError::InvalidConfig {
            field: "mode",
            message: "the least fixed point is iterated in the equilibrium mode, without exact GLT accounting".into(),
        });
    }
    run_inner(net, shocks, cfg, observer, &[], true)
}

/// [`run`] with the forced selling of the holders marked in `muted` (by holder index)
/// switched off: they keep their positions whatever their rules say (their calls and
/// defaults stand). The counterfactual of a holder's marginal contribution
/// ([`systemic::contributions`]).
pub fn run_muted(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    muted: &[bool],
) -> Result<Outcome, EngineError> {
    run_inner(net, shocks, cfg, &mut Silent, muted, false).map(|(o, _)| o)
}

fn run_inner(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    observer: &mut dyn Observer,
    muted: &[bool],
    from_floor: bool,
) -> Result<(Outcome, Ledger), EngineError> {
    shocks::check_config(cfg)?;
    check_glt(net, cfg)?;
    if cfg.mode == Mode::Timeline {
        let (o, l) = timeline::run(net, shocks, cfg, observer, muted)?;
        finite::check(net, &o)?;
        return Ok((o, l));
    }
    shocks::check_days(shocks, 1, cfg.mode)?;
    let mut shocked = shocks::apply(net, shocks)?;
    if cfg.glt_exact {
        shocked.additive = Some(net.prices());
    }
    let span = tracing::info_span!(
        "engine",
        holders = net.holders().len(),
        assets = net.assets().len()
    );
    let _enter = span.enter();
    let mut c = Compiled::new(net);
    c.glt_exact = cfg.glt_exact;
    c.muted = muted.to_vec();
    let mut ws = Workspace::default();
    let mut gross = vec![0.0; c.n_assets];
    for u in &c.units {
        for (&a, s) in u.assets.iter().zip(&u.shares) {
            // ETF shares (pseudo-assets) are not traded in the market.
            if let Some(g) = gross.get_mut(a as usize) {
                *g += s.abs();
            }
        }
    }
    if cfg.mode == Mode::Sequential {
        // Starting equity (a fund's NAV0): the balance sheets at pre-shock prices (what
        // the holders would decide there is not needed).
        let (equity0, nav_ps0) = round::sheets(&c, &shocked, &c.p0, &mut ws);
        let seq = seq::Seq {
            c: &c,
            s: &shocked,
            equity0: &equity0,
            cfg,
            gross: &gross,
        };
        let (mut o, l) = seq.run(&nav_ps0, observer);
        o.non_monotone = c.non_monotone(net, &shocked.price);
        finite::check(net, &o)?;
        return Ok((o, l));
    }
    let no_tightening = vec![false; c.lenders.len()];
    let zeros = vec![0.0; c.units.len()];
    // Starting equity (a fund's NAV0): the balance sheets at pre-shock prices.
    let before = evaluate(&c, &shocked, &zeros, &c.p0, &no_tightening, false, &mut ws);
    let equity0 = before.equity.clone();
    let it = Iterator {
        c: &c,
        s: &shocked,
        equity0: &equity0,
        cfg,
        gross: &gross,
        tight0: &[],
        day: 0,
        counted: (0, 0),
    };
    let main = if from_floor {
        from_the_floor(&it, &mut ws, observer)
    } else {
        it.run(
            shocked.price.clone(),
            Direction::Greatest,
            &mut ws,
            observer,
        )
    };
    let end = evaluate(
        &c,
        &shocked,
        &equity0,
        &main.prices,
        &main.last.tightened,
        !from_floor,
        &mut ws,
    );
    // GLT's one round has no second fixed point to look for.
    let least = (cfg.least_fixed_point && !cfg.glt_exact && !from_floor).then(|| {
        let run = it.run(it.floor(), Direction::Least, &mut ws, observer);
        let gap = main
            .prices
            .iter()
            .zip(&run.prices)
            .map(|(a, b)| (a - b).abs() / a.max(*b))
            .fold(0.0, f64::max);
        let differs = gap > equilibrium_tolerance(cfg);
        (run, differs)
    });
    let (mut o, l) = assemble::assemble(assemble::Parts {
        c: &c,
        s: &shocked,
        before: &before,
        main,
        end: &end,
        least,
    });
    o.non_monotone = c.non_monotone(net, &shocked.price);
    finite::check(net, &o)?;
    Ok((o, l))
}

/// The iteration from the floor prices up to the least fixed point, as a main run
/// ([`run_least_detailed`]).
fn from_the_floor(
    it: &Iterator<'_, '_>,
    ws: &mut Workspace,
    observer: &mut dyn Observer,
) -> fixpoint::Run {
    let mut run = it.run(it.floor(), Direction::Least, ws, observer);
    // "Equity after the shock" is at the shocked prices, wherever the iteration began.
    let none = vec![false; it.c.lenders.len()];
    run.first = evaluate(it.c, it.s, it.equity0, &it.s.price, &none, false, ws);
    run
}

/// Exact GLT accounting needs a GLT system ([`glt::exact_refusals`]).
fn check_glt(net: &Network, cfg: &EngineConfig) -> Result<(), EngineError> {
    // The refusals name every holder that breaks GLT's system: only looked for when asked.
    if !cfg.glt_exact {
        return Ok(());
    }
    match glt::exact_refusals(net).into_iter().next() {
        Some(why) => Err(EngineError::InvalidConfig {
            field: "glt",
            message: format!("exact GLT accounting needs a GLT system: {why}"),
        }),
        _ => Ok(()),
    }
}

/// The map `p ↦ S(p)`: net forced shares sold per asset by every holder at a price
/// vector, with the network compiled once. [`run`] iterates this map; the map itself is
/// useful for one-round answers at chosen prices and for timing a round (benches).
pub struct SalesMap<'a> {
    c: Compiled<'a>,
    shocked: shocks::Shocked,
    equity0: Vec<f64>,
    ws: Workspace,
    /// Tightening found at the last prices asked for: only a guess that saves a second
    /// pass over the books when it is right (results never depend on it).
    guess: Vec<bool>,
}

impl std::fmt::Debug for SalesMap<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesMap")
            .field("assets", &self.c.n_assets)
            .field("holders", &self.c.units.len())
            .finish_non_exhaustive()
    }
}

impl<'a> SalesMap<'a> {
    /// Compile `net` and apply `shocks` (one evaluation at pre-shock prices finds starting
    /// equity).
    pub fn new(net: &'a Network, shocks: &[Shock]) -> Result<Self, EngineError> {
        let shocked = shocks::apply(net, shocks)?;
        let c = Compiled::new(net);
        let mut ws = Workspace::default();
        let none = vec![false; c.lenders.len()];
        let zeros = vec![0.0; c.units.len()];
        let before = evaluate(&c, &shocked, &zeros, &c.p0, &none, false, &mut ws);
        Ok(SalesMap {
            guess: none,
            c,
            shocked,
            equity0: before.equity,
            ws,
        })
    }

    /// Prices after the shocks, before any forced sale.
    pub fn shocked_prices(&self) -> &[f64] {
        &self.shocked.price
    }

    /// Net forced shares sold per asset at prices `p` (one per asset). Lenders tighten
    /// according to their losses at `p` alone (nothing carried over from earlier calls).
    /// Prices that are not finite are taken as pre-shock; prices are floored.
    pub fn sales(&mut self, p: &[f64]) -> Vec<f64> {
        let prices: Vec<f64> = self
            .c
            .p0
            .iter()
            .enumerate()
            .map(|(k, p0)| {
                let x = p.get(k).copied().unwrap_or(*p0);
                if x.is_finite() {
                    x.max(p0 * PRICE_FLOOR)
                } else {
                    *p0
                }
            })
            .collect();
        let ev = evaluate(
            &self.c,
            &self.shocked,
            &self.equity0,
            &prices,
            &self.guess,
            false,
            &mut self.ws,
        );
        self.guess = ev.tightened;
        ev.total
    }
}

/// Two fixed points count as different when some price differs by more than this
/// (relative): far above the iterations' own stopping error, which is of the order of the
/// tolerance.
pub(crate) fn equilibrium_tolerance(cfg: &EngineConfig) -> f64 {
    (cfg.tolerance * 1e4).max(1e-9)
}
