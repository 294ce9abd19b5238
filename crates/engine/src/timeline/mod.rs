//! The timeline mode ([`crate::Mode::Timeline`]): a cascade over trading days.
//!
//! Day `d`:
//!
//! 1. the day's scheduled returns move the fundamental prices; impact of earlier days that
//!    has decayed overnight comes back (`market`);
//! 2. every holder's rule is compiled on its balance sheet as of the last close, with the
//!    day's terms — margin calls that wait for their deadline, lenders closing out
//!    defaulted borrowers after their delay, participation caps, lagged redemptions
//!    (`state`);
//! 3. the day's sales and prices are solved together by the equilibrium's own fixed point
//!    (`p ← E·g(Q + S(p)) + E·R`), greatest and optionally least;
//! 4. the sales settle at the close: positions, cash, loans, NAVs, call and default states
//!    carry to the next day (`state`); today's impact joins the transient parts, which
//!    decay overnight (`market`).
//!
//! With one day, no deadlines, no caps and no transient impact, the first day's system,
//! shocks and map are the equilibrium's, so the outcome is the equilibrium's bit for bit
//! (a test). The maths, with sources for every timing rule, is in `docs/model.md`.

mod market;
mod state;

use delever_graph::{HolderIx, KindTag, Network};

use crate::EngineError;
use crate::assemble::{Money, ledger, lender_outcomes, loss_at};
use crate::compile::{Closing, Compiled, NO_CALL, Rule};
use crate::fixpoint::{Direction, Iterator, Run, lender_defaults, round_sellers};
use crate::ledger::Ledger;
use crate::observer::Observer;
use crate::outcome::{
    AssetDay, AssetOutcome, DayOutcome, HolderDay, HolderOutcome, LeastFixedPoint, LenderOutcome,
    Outcome, RoundTrace, Termination, Totals, push_bounded,
};
use crate::round::{Eval, Workspace, evaluate};
use crate::shocks::{self, DayShocks, PRICE_FLOOR, Shocked};
use crate::spec::{EngineConfig, Mode, Shock};

use market::Market;
use state::{Carried, DaySolution, UnitTiming, build_day, settle};

/// Run a timeline: `cfg.days` days, each solved to its fixed point on the balance sheets
/// the day before left.
// The day loop is one sequence of steps whose data flow reads best in one place.
#[allow(clippy::too_many_lines)]
pub(crate) fn run(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    observer: &mut dyn Observer,
    muted: &[bool],
) -> Result<(Outcome, Ledger), EngineError> {
    shocks::check_days(shocks, cfg.days, Mode::Timeline)?;
    let days: Vec<DayShocks> = (0..cfg.days)
        .map(|d| shocks::resolve(net, shocks, d))
        .collect::<Result<_, _>>()?;
    let mut base = Compiled::new(net);
    base.muted = muted.to_vec();
    let timing = UnitTiming::all(net);
    let n = base.n_assets;
    let nh = base.units.len();
    let adv: Vec<f64> = net.assets().iter().map(|a| a.adv_usd).collect();
    let mut ws = Workspace::default();

    // The starting balance sheets at pre-shock prices, and at the prices every scheduled
    // return leads to without any sale (the "shocked" figures).
    let first = days[0].clone().with_prices(net, base.p0.clone());
    let no_tight = vec![false; base.lenders.len()];
    let zeros = vec![0.0; nh];
    let before = evaluate(&base, &first, &zeros, &base.p0, &no_tight, false, &mut ws);
    let equity0 = before.equity.clone();
    let mut fundamentals = Market::new(net);
    for d in &days {
        fundamentals.open(&d.ret);
    }
    let e_final = fundamentals.fundamental.clone();
    let shocked_eval = evaluate(&base, &first, &equity0, &e_final, &no_tight, true, &mut ws);
    let mut gross = vec![0.0; n];
    for u in &base.units {
        for (&a, s) in u.assets.iter().zip(&u.shares) {
            // ETF shares (pseudo-assets) are not traded in the market.
            if let Some(g) = gross.get_mut(a as usize) {
                *g += s.abs();
            }
        }
    }
    let value0: f64 = gross.iter().zip(&base.p0).map(|(g, p)| g * p).sum();

    let mut market = Market::new(net);
    let mut states: Vec<Carried<'_>> = base.units.iter().map(Carried::new).collect();
    for k in &base.classes {
        states[k.unit].shares_out = k.outstanding;
    }
    let mult = base.mult_by_index();
    let mut redeemed_by_holders = vec![-0.0; base.classes.len()];
    let mut tight = no_tight.clone();
    let mut close = base.p0.clone();
    let mut tighten_cum = vec![0.0; base.lenders.len()];
    let mut redeemed_cum = vec![0.0; nh];
    let mut trace: Vec<RoundTrace> = Vec::new();
    let mut day_outs: Vec<DayOutcome> = Vec::with_capacity(days.len());
    // Sums over days start at −0.0, the exact identity of `+` (see `Carried::new`).
    let mut sold_shares = vec![-0.0; n];
    let mut sold_usd = vec![-0.0; n];
    // Each day's rounds' sales at the prices those rounds reached.
    let mut sold_at_sale_prices = vec![-0.0; n];
    // Per day and asset: shares sold and the close, for the realised part of the loss.
    let mut path: Vec<(Vec<f64>, Vec<f64>)> = Vec::with_capacity(days.len());
    let mut exo_usd = -0.0;
    let (mut rounds, mut residual) = (0u32, 0.0f64);
    let mut termination = Termination::Converged;
    let mut lender_defaults_before = 0u64;
    let mut last: Option<LastDay> = None;
    let mut non_monotone: Vec<String> = Vec::new();
    let mut cure_before_last = vec![0.0; nh];
    let mut paid_before_last = vec![0.0; nh];

    for (d, today) in days.into_iter().enumerate() {
        let day = d as u32;
        let _span = tracing::info_span!("day", day).entered();
        market.open(&today.ret);
        for (t, x) in tighten_cum.iter_mut().zip(&today.tighten) {
            *t += x;
        }
        // Funds' redemptions are cumulative targets; an ETF's is paid on its day, as a
        // fraction of the NAV the day starts from.
        let redemption: Vec<f64> = states
            .iter()
            .enumerate()
            .map(|(i, st)| match base.units[i].rule {
                Rule::Etf { .. } if day == 0 => today.redemption[i],
                Rule::Etf { nav0, .. } => {
                    if st.nav > 0.0 {
                        today.redemption[i] * nav0 / st.nav
                    } else {
                        0.0
                    }
                }
                _ => {
                    redeemed_cum[i] = (redeemed_cum[i] + today.redemption[i]).min(1.0);
                    redeemed_cum[i]
                }
            })
            .collect();
        let mut s: Shocked = today.with_prices(net, market.fundamental.clone());
        s.tighten.clone_from(&tighten_cum);
        s.redemption = redemption;
        s.carry = market.carry(&base.laws);
        if day + 1 == cfg.days {
            for (i, st) in states.iter().enumerate() {
                cure_before_last[i] = st.cure;
                paid_before_last[i] = st.paid_out;
            }
        }

        // Calls and defaults standing at the open, so the trace counts only new ones.
        let counted = states
            .iter()
            .fold((0u64, lender_defaults_before), |(c, d), st| {
                let open = match &st.rows {
                    Some(rows) => rows.counts().2,
                    None => u64::from(st.call_since != NO_CALL),
                };
                (c + open + st.ever_defaulted, d + st.ever_defaulted)
            });
        // Solve the day on the carried balance sheets.
        let solved = {
            let closes: Vec<&[f64]> = path.iter().map(|(_, c)| c.as_slice()).collect();
            let c = build_day(&base, &states, &timing, day, &close, &adv, &closes);
            let it = Iterator {
                c: &c,
                s: &s,
                equity0: &equity0,
                cfg,
                gross: &gross,
                tight0: &tight,
                day,
                counted,
            };
            let open: Vec<f64> = if day == 0 {
                s.price.clone()
            } else {
                (0..n)
                    .map(|k| {
                        let floor = base.p0[k] * PRICE_FLOOR;
                        let p = s.price_at(base.laws[k], k, 0.0);
                        if p.is_finite() { p.max(floor) } else { floor }
                    })
                    .collect()
            };
            for why in c.non_monotone(net, &open) {
                if !non_monotone.contains(&why) {
                    non_monotone.push(why);
                }
            }
            let main = it.run(open.clone(), Direction::Greatest, &mut ws, observer);
            let end = evaluate(
                &c,
                &s,
                &equity0,
                &main.prices,
                &main.last.tightened,
                true,
                &mut ws,
            );
            let least = cfg.least_fixed_point.then(|| {
                let run = it.run(it.floor(), Direction::Least, &mut ws, observer);
                let gap = main
                    .prices
                    .iter()
                    .zip(&run.prices)
                    .map(|(a, b)| (a - b).abs() / a.max(*b))
                    .fold(0.0, f64::max);
                (run, gap > crate::equilibrium_tolerance(cfg))
            });
            let extra: Vec<f64> = c
                .lenders
                .iter()
                .enumerate()
                .map(|(l, x)| {
                    s.tighten[l]
                        + if main.last.tightened[l] {
                            x.tighten_by
                        } else {
                            0.0
                        }
                })
                .collect();
            let (_, by_kind) = round_sellers(&c, &main.last.sold, &main.prices);
            let due: Vec<bool> = c.units.iter().map(|u| u.day.due()).collect();
            let closing: Vec<Closing> = c.units.iter().map(|u| u.day.closing).collect();
            let now_lender_defaults = lender_defaults(&c, &end);
            // Holders' ETF shares settle at NAV per share, with the day's system.
            let decided_at = crate::round::extended(&c, &main.decided_at).0.into_owned();
            let close_ext = crate::round::extended(&c, &main.prices).0.into_owned();
            Solved {
                main,
                end,
                least,
                open,
                extra,
                by_kind,
                due,
                closing,
                p_ref: c.p_ref.clone(),
                lender_defaults: now_lender_defaults,
                decided_at,
                close_ext,
            }
        };
        let dense: Vec<bool> = states.iter().map(|st| st.rows.is_some()).collect();
        let Solved {
            main,
            end,
            least,
            open,
            extra,
            by_kind,
            due,
            closing,
            p_ref,
            lender_defaults: now_lender_defaults,
            decided_at,
            close_ext,
        } = solved;

        // Settle at the close.
        let p = main.prices.clone();
        let sol = DaySolution {
            run: &main,
            extra: &extra,
            s: &s,
            p_ref: &p_ref,
            equity0: &equity0,
            due: &due,
            dense: &dense,
            recv: &end.cleared.recv,
            decided_at: &decided_at,
            redeemed: &main.last.redeemed,
            mult: &mult,
        };
        let settled = settle(&base, &mut states, &timing, day, &sol, &close_ext);
        for (r, x) in redeemed_by_holders.iter_mut().zip(&main.last.redeemed) {
            *r += x;
        }

        // The day's figures.
        let q: Vec<f64> = (0..n)
            .map(|k| (main.last.total[k] + s.exo_shares[k]) * base.p0[k])
            .collect();
        let assets: Vec<AssetDay> = (0..n)
            .map(|k| {
                let (permanent_impact, transient_impact) =
                    market.impact_at_close(&base.laws, k, q[k]);
                AssetDay {
                    open: open[k],
                    close: p[k],
                    fundamental: s.price[k],
                    permanent_impact,
                    transient_impact,
                    sales_shares: main.last.total[k],
                    sales_usd: main.last.total[k] * p[k],
                }
            })
            .collect();
        market.close(&base.laws, &q);
        for k in 0..n {
            sold_shares[k] += main.last.total[k];
            sold_usd[k] += main.last.total[k] * p[k];
            sold_at_sale_prices[k] += main.sold_at_round_prices[k];
        }
        let day_exo: f64 = s.exo_shares.iter().zip(&p).map(|(x, p)| x * p).sum();
        exo_usd += day_exo;
        path.push((main.last.total.clone(), p.clone()));
        let holders: Vec<HolderDay> = (0..nh)
            .map(|i| {
                holder_day(
                    &base,
                    &states[i],
                    &settled[i],
                    &main,
                    &end,
                    i,
                    timing[i].wait(),
                    closing[i],
                    &close_ext,
                )
            })
            .collect();
        let new_lender_defaults = now_lender_defaults.saturating_sub(lender_defaults_before);
        lender_defaults_before = lender_defaults_before.max(now_lender_defaults);
        day_outs.push(DayOutcome {
            day,
            termination: main.termination,
            rounds: main.rounds,
            residual: main.residual,
            sales_usd: assets.iter().map(|a| a.sales_usd).sum(),
            assets,
            lender_losses_usd: (0..base.lenders.len())
                .map(|l| end.cleared.borrower_losses[l] + end.cleared.interbank_losses[nh + l])
                .collect(),
            sales_by_kind: by_kind,
            exogenous_sales_usd: day_exo,
            new_calls: holders.iter().map(|h| h.new_calls).sum(),
            open_calls: holders.iter().map(|h| h.open_calls).sum(),
            liquidations: holders
                .iter()
                .zip(&settled)
                .map(|(h, x)| match x.book {
                    Some(_) => h.new_defaults,
                    None => u64::from(
                        h.sales_usd > 0.0
                            && matches!(
                                h.status,
                                crate::Status::Defaulted | crate::Status::Liquidated
                            ),
                    ),
                })
                .sum(),
            new_defaults: holders.iter().map(|h| h.new_defaults).sum::<u64>() + new_lender_defaults,
            holders,
            price_index: if value0 > 0.0 {
                gross.iter().zip(&p).map(|(g, p)| g * p).sum::<f64>() / value0
            } else {
                1.0
            },
            multiple_equilibria: least.as_ref().is_some_and(|(_, differs)| *differs),
        });

        rounds = rounds.saturating_add(main.rounds);
        residual = if d == 0 {
            main.residual
        } else {
            residual.max(main.residual)
        };
        if main.termination == Termination::MaxRounds {
            termination = Termination::MaxRounds;
        }
        for t in &main.trace {
            push_bounded(&mut trace, t.clone());
        }
        tight.clone_from(&end.tightened);
        close = p;
        last = Some((main, end, least));
    }

    let Some((main, end, least)) = last else {
        return Err(EngineError::InvalidConfig {
            field: "days",
            message: "must be at least 1".into(),
        });
    };
    let f = Finish {
        base: &base,
        before: &before,
        shocked: &shocked_eval,
        states: &states,
        main: &main,
        end: &end,
        least,
        e_final: &e_final,
        sold_shares: &sold_shares,
        sold_usd: &sold_usd,
        sold_at_sale_prices: &sold_at_sale_prices,
        path: &path,
        exo_usd,
        cure_before_last: &cure_before_last,
        paid_before_last: &paid_before_last,
    };
    let etf_shares = base
        .classes
        .iter()
        .enumerate()
        .map(|(k, class)| crate::outcome::EtfShares {
            holder: HolderIx(class.unit as u32),
            outstanding_before: class.outstanding,
            redeemed_by_holders: redeemed_by_holders[k],
            outstanding_after: states[class.unit].shares_out,
            nav_per_share_before: before.nav_ps.get(k).copied().unwrap_or(0.0),
            nav_per_share_after: f.end.nav_ps.get(k).copied().unwrap_or(0.0),
        })
        .collect();
    let (totals, assets, holders, lenders, least, ledger) = f.assemble();
    Ok((
        Outcome {
            mode: Mode::Timeline,
            termination,
            rounds,
            residual,
            totals,
            assets,
            holders,
            lenders,
            trace,
            least,
            days: day_outs,
            non_monotone,
            etf_shares,
        },
        ledger,
    ))
}

/// The last day's main run, its close, and its least fixed point (if asked for).
type LastDay = (Run, Eval, Option<(Run, bool)>);

/// What solving a day leaves once its compiled system is dropped.
struct Solved {
    main: Run,
    end: Eval,
    least: Option<(Run, bool)>,
    open: Vec<f64>,
    extra: Vec<f64>,
    by_kind: Vec<(KindTag, f64)>,
    due: Vec<bool>,
    closing: Vec<Closing>,
    p_ref: Vec<f64>,
    lender_defaults: u64,
    /// The last round's decision prices and the close, each extended by the held funds'
    /// NAV per share.
    decided_at: Vec<f64>,
    close_ext: Vec<f64>,
}

/// One holder's day, after its settlement.
#[allow(clippy::too_many_arguments)]
fn holder_day(
    base: &Compiled<'_>,
    st: &Carried<'_>,
    x: &state::Settled,
    main: &Run,
    end: &Eval,
    i: usize,
    cure_days: u32,
    closing: Closing,
    close: &[f64],
) -> HolderDay {
    let d = &main.last.decisions[i];
    let u = &st.unit;
    let unpaid = (base.units[i].owed - end.cleared.paid[i]).max(0.0);
    let (value, cash, debt, open_calls) = if let (Some(b), Some(rows)) = (&x.book, &st.rows) {
        (b.value, b.cash, b.loan, rows.counts().2)
    } else {
        let debt = match u.rule {
            Rule::Etf { .. } => 0.0,
            _ => u.margin.map_or(0.0, |m| m.loan) + u.other_liabilities,
        };
        (
            crate::rules::value(u, close),
            u.cash,
            debt,
            u64::from(st.call_since != NO_CALL),
        )
    };
    let equity = match u.rule {
        Rule::Etf { .. } => st.nav,
        _ => end.equity[i] + x.cure - x.paid_out,
    };
    HolderDay {
        status: d.status,
        sales_usd: x.proceeds,
        value,
        cash,
        debt,
        equity,
        calls: d.calls,
        new_calls: x.new_calls,
        open_calls,
        new_defaults: x.new_defaults,
        due_day: (x.book.is_none() && st.call_since != NO_CALL)
            .then(|| st.call_since.saturating_add(cure_days)),
        closing_out: match closing {
            Closing::No => None,
            Closing::Waiting => Some(false),
            Closing::Selling => Some(true),
        },
        cure_usd: x.cure,
        paid_out_usd: x.paid_out,
        lender_loss_usd: end.cleared.shortfall[i] + unpaid,
    }
}

/// The run's outcome from its days.
struct Finish<'x, 'a> {
    base: &'x Compiled<'a>,
    before: &'x Eval,
    shocked: &'x Eval,
    states: &'x [Carried<'a>],
    main: &'x Run,
    end: &'x Eval,
    least: Option<(Run, bool)>,
    e_final: &'x [f64],
    sold_shares: &'x [f64],
    sold_usd: &'x [f64],
    sold_at_sale_prices: &'x [f64],
    path: &'x [(Vec<f64>, Vec<f64>)],
    exo_usd: f64,
    cure_before_last: &'x [f64],
    paid_before_last: &'x [f64],
}

type Assembled = (
    Totals,
    Vec<AssetOutcome>,
    Vec<HolderOutcome>,
    Vec<LenderOutcome>,
    Option<LeastFixedPoint>,
    Ledger,
);

impl Finish<'_, '_> {
    /// Loss of all holders when the last prices are `p`: the starting positions' loss at
    /// `p`, less what selling earlier, at each day's close, saved against holding to `p`.
    /// With one day the correction is exactly zero (sales were made at `p`).
    fn loss(&self, p: &[f64]) -> f64 {
        self.loss_over(p, self.path.len())
    }

    /// [`Finish::loss`] counting only the first `days` days' sales as made at their own
    /// closes (the last day's least fixed point makes its own sales at its own prices).
    fn loss_over(&self, p: &[f64], days: usize) -> f64 {
        let mut realised = 0.0;
        for (sold, at) in &self.path[..days] {
            for k in 0..p.len() {
                realised += sold[k] * (at[k] - p[k]);
            }
        }
        loss_at(self.base, p) - realised
    }

    fn assemble(self) -> Assembled {
        let c = self.base;
        let p = &self.main.prices;
        let nh = c.units.len();
        let assets: Vec<AssetOutcome> = (0..c.n_assets)
            .map(|k| AssetOutcome {
                asset: delever_graph::AssetIx(k as u32),
                price_before: c.p0[k],
                price_shocked: self.e_final[k],
                price_after: p[k],
                drawdown: p[k] / c.p0[k] - 1.0,
                forced_sales_shares: self.sold_shares[k],
                forced_sales_usd: self.sold_usd[k],
                forced_sales_at_sale_prices_usd: self.sold_at_sale_prices[k],
            })
            .collect();
        let mut holders = Vec::with_capacity(nh);
        let mut ledgers = Vec::with_capacity(nh);
        for (i, (u, st)) in c.units.iter().zip(self.states).enumerate() {
            let unpaid = (u.owed - self.end.cleared.paid[i]).max(0.0);
            // Equity at the last close as the one-instant modes define it: without fresh
            // cash deposited and with redemptions paid added back (both earlier days'; the
            // last day's are not in its balance sheet yet).
            let mut equity_after = self.end.equity[i];
            if self.cure_before_last[i] != 0.0 {
                equity_after -= self.cure_before_last[i];
            }
            if self.paid_before_last[i] != 0.0 {
                equity_after += self.paid_before_last[i];
            }
            holders.push(HolderOutcome {
                holder: HolderIx(i as u32),
                kind: u.kind,
                equity_before: self.before.equity[i],
                equity_shocked: self.shocked.equity[i],
                equity_after,
                sales_usd: st.proceeds,
                status: st.status,
                lender_loss_usd: self.end.cleared.shortfall[i] + unpaid,
                borrower_shortfall_usd: self.end.cleared.shortfall[i],
                interbank_unpaid_usd: unpaid,
                margin_calls: st.ever_called,
                defaults: st.ever_defaulted,
                cash_cure_usd: st.cure,
            });
            ledgers.push(ledger(
                c.n_assets,
                u,
                HolderIx(i as u32),
                &st.sold,
                &Money::carried(st.proceeds, st.planned, st.repaid, st.paid_out),
            ));
        }
        let lenders = lender_outcomes(c, &self.end.cleared, &self.end.tightened);
        let initial = loss_at(c, self.e_final);
        let total_loss = self.loss(p);
        let (borrower_shortfalls_usd, interbank_losses_usd) =
            crate::assemble::creditor_losses(&self.end.cleared);
        let totals = Totals {
            initial_loss_usd: initial,
            total_loss_usd: total_loss,
            amplification: if initial == 0.0 {
                1.0
            } else {
                total_loss / initial
            },
            forced_sales_usd: assets.iter().map(|a| a.forced_sales_usd).sum(),
            forced_sales_at_sale_prices_usd: assets
                .iter()
                .map(|a| a.forced_sales_at_sale_prices_usd)
                .sum(),
            exogenous_sales_usd: self.exo_usd,
            defaults: holders.iter().map(|h| h.defaults).sum::<u64>()
                + lender_defaults(c, self.end),
            margin_calls: holders.iter().map(|h| h.margin_calls).sum(),
            lender_losses_usd: lenders
                .iter()
                .map(|l| l.borrower_losses_usd + l.interbank_losses_usd)
                .sum(),
            borrower_shortfalls_usd,
            interbank_losses_usd,
            cash_cures_usd: holders.iter().map(|h| h.cash_cure_usd).sum(),
        };
        let least = self.least.as_ref().map(|(run, differs)| LeastFixedPoint {
            rounds: run.rounds,
            termination: run.termination,
            total_loss_usd: self.loss_over(&run.prices, self.path.len().saturating_sub(1)),
            prices: run.prices.clone(),
            differs: *differs,
        });
        (
            totals,
            assets,
            holders,
            lenders,
            least,
            Ledger { holders: ledgers },
        )
    }
}
