//! One evaluation of the system at a price vector `p`: every holder's cumulative sales
//! `s_i(p)`, the clearing of claims, lender losses and margin tightening.
//!
//! Order within an evaluation (why: books are the only expensive part, and their sales
//! depend on lender tightening, which depends on every borrower's losses):
//!
//! 1. each book is streamed once under the tightening found so far, giving its sales and
//!    its accounts' shortfalls and surplus (neither of which depends on tightening);
//! 2. claims clear (Eisenberg–Noe) with every holder's marked assets at `p`; lender losses
//!    follow, and with them which lenders tighten;
//! 3. a book whose lender's tightening changed is streamed again (a lender flips at most
//!    once per run in the main iteration, so this is rare);
//! 4. every other holder applies its rule, in parallel, with the clearing's receipts;
//! 5. leveraged ETFs whose shares others hold come last: their holders' shares sold are
//!    redeemed, added to the fund's redemptions (holders see the shares at NAV per share,
//!    pseudo-assets `n_assets + k` of an extended price vector, from step 1 on).

use rayon::prelude::*;

use crate::clearing::{Cleared, HolderNode, clear};
use crate::compile::{Compiled, Rule};
use crate::rules::book::{self, BookStats, Terms};
use crate::rules::{self, Decision, Env, etf, margin};
use crate::shocks::Shocked;

/// Reusable buffers.
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    scratch: Vec<f64>,
}

/// The system at one price vector.
#[derive(Debug, Clone)]
pub(crate) struct Eval {
    /// Shares sold per unit, aligned with the unit's positions.
    pub sold: Vec<Vec<f64>>,
    pub decisions: Vec<Decision>,
    /// Each unit's equity at `p` (ETFs: NAV), with interbank receipts.
    pub equity: Vec<f64>,
    pub cleared: Cleared,
    pub tightened: Vec<bool>,
    /// Net forced shares sold per asset.
    pub total: Vec<f64>,
    /// Per leveraged ETF with shares outstanding ([`Compiled::classes`]): its NAV per
    /// share at `p`, and the shares its holders sold, which authorised participants
    /// redeem. Empty without such funds.
    pub nav_ps: Vec<f64>,
    pub redeemed: Vec<f64>,
}

impl Eval {
    /// Accounts called, summed over units.
    pub fn calls(&self) -> u64 {
        self.decisions.iter().map(|d| d.calls).sum()
    }
    /// Accounts and holders defaulted, summed over units.
    pub fn holder_defaults(&self) -> u64 {
        self.decisions.iter().map(|d| d.defaults).sum()
    }
}

fn book_terms<'r>(c: &'r Compiled<'_>, i: usize, extra: &[f64], cure: f64) -> Option<Terms<'r>> {
    let u = &c.units[i];
    let link = u.margin.as_ref()?;
    let (maintenance, reset) = Compiled::terms(link, extra);
    Some(Terms {
        maintenance,
        reset,
        cure,
        order: u.sale_order,
        rank: &c.rank,
        mult: u.etf_mult.as_deref(),
        today: u.day.today,
        cure_days: u.day.cure_days,
    })
}

fn extra_margin(c: &Compiled<'_>, s: &Shocked, tight: &[bool]) -> Vec<f64> {
    c.lenders
        .iter()
        .enumerate()
        .map(|(l, x)| s.tighten[l] + if tight[l] { x.tighten_by } else { 0.0 })
        .collect()
}

/// Stream the books whose lender's extra margin is in `only` (all books when `None`).
fn run_books(
    c: &Compiled<'_>,
    p: &[f64],
    extra: &[f64],
    only: Option<&[f64]>,
    sold: &mut [Vec<f64>],
    stats: &mut [Option<BookStats>],
    ws: &mut Workspace,
) {
    for (i, u) in c.units.iter().enumerate() {
        let Rule::Book { cure, book, .. } = &u.rule else {
            continue;
        };
        if let (Some(old), Some(m)) = (only, u.margin)
            && old.get(m.lender) == extra.get(m.lender)
        {
            continue;
        }
        if let Some(t) = book_terms(c, i, extra, *cure) {
            let (v, st) = book::pass(book, p, &t, &mut ws.scratch);
            sold[i] = v;
            stats[i] = Some(st);
        }
    }
}

/// Every holder as the clearing step sees it, and each ETF's NAV at `p`.
fn clearing_nodes(
    c: &Compiled<'_>,
    p: &[f64],
    value: &[f64],
    stats: &[Option<BookStats>],
) -> (Vec<HolderNode>, Vec<f64>) {
    let mut etf_nav = vec![0.0; c.units.len()];
    let nodes = c
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let lender = u.margin.map(|m| m.lender);
            let population = |short: f64, surplus: f64| HolderNode {
                base: surplus + u.other_assets,
                secured: 0.0,
                fixed_shortfall: short,
                lender,
                other_liabilities: u.other_liabilities,
            };
            match &u.rule {
                Rule::Book { .. } => {
                    let st = stats[i].unwrap_or(BookStats::ZERO);
                    population(st.shortfall, st.surplus)
                }
                Rule::Cohort { buckets, .. } => {
                    let (short, surplus) = margin::cohort_shortfall(u, value[i], buckets);
                    population(short, surplus)
                }
                Rule::Etf {
                    multiple,
                    nav0,
                    weights,
                    carried,
                } => {
                    let mut scratch = vec![0.0; u.assets.len()];
                    let (_, nav) = etf::rebalance(
                        u,
                        c,
                        p,
                        *multiple,
                        *nav0,
                        weights,
                        *carried,
                        0.0,
                        &mut scratch,
                    );
                    etf_nav[i] = nav;
                    HolderNode {
                        base: nav,
                        secured: 0.0,
                        fixed_shortfall: 0.0,
                        lender: None,
                        other_liabilities: 0.0,
                    }
                }
                _ => HolderNode {
                    base: value[i] + u.cash + u.other_assets,
                    secured: u.margin.map_or(0.0, |m| m.loan),
                    fixed_shortfall: 0.0,
                    lender,
                    other_liabilities: u.other_liabilities,
                },
            }
        })
        .collect();
    (nodes, etf_nav)
}

/// Each unit's equity at `p`: every balance-sheet item, with what clearing says it
/// receives (ETFs: NAV).
fn equities(
    c: &Compiled<'_>,
    p: &[f64],
    value: &[f64],
    etf_nav: &[f64],
    cleared: &Cleared,
) -> Vec<f64> {
    c.units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let common = u.other_assets + cleared.recv[i] - u.other_liabilities - u.owed;
            match &u.rule {
                Rule::Etf { .. } => etf_nav[i],
                Rule::Dealer { options, gamma } => {
                    value[i]
                        + u.cash
                        + crate::rules::dealer::book_pnl(u, c, p, options, gamma)
                        + common
                }
                Rule::Book {
                    cash_total,
                    loan_total,
                    ..
                } => value[i] + cash_total - loan_total + common,
                _ => value[i] + u.cash - u.margin.map_or(0.0, |m| m.loan) + common,
            }
        })
        .collect()
}

/// The price vector holders see: the assets' prices, then each leveraged ETF's NAV per
/// share at them (pseudo-assets `n_assets + k`). Borrowed unchanged without such funds.
pub(crate) fn extended<'p>(
    c: &Compiled<'_>,
    p: &'p [f64],
) -> (std::borrow::Cow<'p, [f64]>, Vec<f64>) {
    if c.classes.is_empty() {
        return (std::borrow::Cow::Borrowed(p), Vec::new());
    }
    let nav_ps: Vec<f64> = c
        .classes
        .iter()
        .map(|k| {
            let u = &c.units[k.unit];
            match &u.rule {
                Rule::Etf {
                    multiple,
                    nav0,
                    weights,
                    carried,
                } => etf::nav_at(u, c, p, *multiple, *nav0, weights, *carried) / k.outstanding,
                _ => 0.0,
            }
        })
        .collect();
    let mut px = p.to_vec();
    px.extend_from_slice(&nav_ps);
    (std::borrow::Cow::Owned(px), nav_ps)
}

/// Holders' ETF shares sold (per fund), and each fund's rule with them added to its
/// redemptions: a fraction `x / shares outstanding` (the fund then sheds `L·f·NAV0` of
/// exposure). `extra` is the round's extra margin; `(equity0, value, recv)` are per
/// unit.
fn redeem(
    c: &Compiled<'_>,
    s: &Shocked,
    extra: &[f64],
    (equity0, value, recv): (&[f64], &[f64], &[f64]),
    p_ext: &[f64],
    sold: &mut [Vec<f64>],
    decisions: &mut [Decision],
) -> Vec<f64> {
    let mut redeemed = vec![0.0; c.classes.len()];
    for (u, row) in c.units.iter().zip(sold.iter()) {
        for (&a, x) in u.assets.iter().zip(row) {
            if c.is_etf_share(a) {
                redeemed[a as usize - c.n_assets] += x;
            }
        }
    }
    for (k, class) in c.classes.iter().enumerate() {
        let i = class.unit;
        let env = Env {
            value: value[i],
            recv: recv[i],
            redemption: s.redemption[i] + redeemed[k] / class.outstanding,
            equity0: equity0[i],
            extra,
            held: 0.0,
        };
        let u = &c.units[i];
        let mut d = rules::evaluate(c, u, p_ext, &env, &mut sold[i]);
        rules::cap(u, p_ext, &mut sold[i], &mut d);
        decisions[i] = d;
    }
    redeemed
}

/// Holders whose forced selling is switched off ([`Compiled::muted`]) keep their
/// positions: their sales (and what the sales would have paid) are dropped, their calls
/// and defaults stand.
pub(crate) fn mute(c: &Compiled<'_>, sold: &mut [Vec<f64>], decisions: &mut [Decision]) {
    for ((&m, row), d) in c
        .muted
        .iter()
        .zip(sold.iter_mut())
        .zip(decisions.iter_mut())
    {
        if m {
            row.fill(0.0);
            d.sale_usd = 0.0;
            d.repaid_usd = 0.0;
            d.paid_out_usd = 0.0;
        }
    }
}

/// What steps 1 to 3 of an evaluation give.
struct Marked<'p> {
    extra: Vec<f64>,
    /// The prices holders see (`p`, then each held ETF's NAV per share).
    px: std::borrow::Cow<'p, [f64]>,
    nav_ps: Vec<f64>,
    sold: Vec<Vec<f64>>,
    stats: Vec<Option<BookStats>>,
    value: Vec<f64>,
    etf_nav: Vec<f64>,
    cleared: Cleared,
    tightened: Vec<bool>,
}

/// Steps 1 to 3 of an evaluation at `p`: the books' passes, the holders' values, clearing
/// and the lenders' tightening. `sold` holds a row per unit (the books' are replaced).
fn mark<'p>(
    c: &Compiled<'_>,
    s: &Shocked,
    (p, prev, ratchet): (&'p [f64], &[bool], bool),
    mut sold: Vec<Vec<f64>>,
    ws: &mut Workspace,
) -> Marked<'p> {
    let nu = c.units.len();
    let mut extra = extra_margin(c, s, prev);
    // Holders of ETF shares see them at NAV per share; they are evaluated before the funds,
    // whose redemptions their sales are.
    let (px, nav_ps) = extended(c, p);
    let p_ext: &[f64] = &px;

    // 1. Books under the tightening carried in.
    let mut stats: Vec<Option<BookStats>> = vec![None; nu];
    run_books(c, p_ext, &extra, None, &mut sold, &mut stats, ws);

    // 2. Values and clearing.
    let value: Vec<f64> = c.units.iter().map(|u| rules::value(u, p_ext)).collect();
    let (nodes, etf_nav) = clearing_nodes(c, p_ext, &value, &stats);
    let owed: Vec<f64> = c
        .units
        .iter()
        .map(|u| u.owed)
        .chain(c.lenders.iter().map(|l| l.owed))
        .collect();
    let cleared = clear(&nodes, &c.lenders, &c.claims, &owed);

    // Tightening from the losses at p.
    let tightened: Vec<bool> = c
        .lenders
        .iter()
        .enumerate()
        .map(|(l, x)| {
            let loss = cleared.borrower_losses[l] + cleared.interbank_losses[nu + l];
            let now = x.trigger.is_some_and(|t| loss > t * x.capital);
            now || (ratchet && prev[l])
        })
        .collect();

    // 3. Books whose lender changed its terms run again.
    if tightened != prev {
        let new_extra = extra_margin(c, s, &tightened);
        run_books(
            c,
            p_ext,
            &new_extra,
            Some(&extra),
            &mut sold,
            &mut stats,
            ws,
        );
        extra = new_extra;
    }
    Marked {
        extra,
        px,
        nav_ps,
        sold,
        stats,
        value,
        etf_nav,
        cleared,
        tightened,
    }
}

/// The balance sheets at `p` without the holders' decisions: each unit's equity (ETFs:
/// NAV) and each held ETF's NAV per share, as [`evaluate`] gives them (a holder's equity
/// does not depend on what it decides). The sequential mode's starting point.
pub(crate) fn sheets(
    c: &Compiled<'_>,
    s: &Shocked,
    p: &[f64],
    ws: &mut Workspace,
) -> (Vec<f64>, Vec<f64>) {
    let none = vec![false; c.lenders.len()];
    // Only the books' rows are needed: they are replaced, so none is allocated.
    let m = mark(c, s, (p, &none, false), vec![Vec::new(); c.units.len()], ws);
    (equities(c, p, &m.value, &m.etf_nav, &m.cleared), m.nav_ps)
}

/// Evaluate at `p`. `prev` is the tightening carried in; with `ratchet`, a lender that
/// tightened stays tightened (the main, decreasing iteration), otherwise tightening is
/// recomputed from the losses at `p` alone (the least-fixed-point iteration).
pub(crate) fn evaluate(
    c: &Compiled<'_>,
    s: &Shocked,
    equity0: &[f64],
    p: &[f64],
    prev: &[bool],
    ratchet: bool,
    ws: &mut Workspace,
) -> Eval {
    let sold: Vec<Vec<f64>> = c.units.iter().map(|u| vec![0.0; u.assets.len()]).collect();
    let Marked {
        extra,
        px,
        nav_ps,
        mut sold,
        stats,
        value,
        etf_nav,
        cleared,
        tightened,
    } = mark(c, s, (p, prev, ratchet), sold, ws);
    let p_ext: &[f64] = &px;

    // 4. Everyone else, in parallel (each writes only its own row); funds whose shares
    // are held wait for their holders' sales (5).
    let held_fund = |i: usize| c.classes.iter().any(|k| k.unit == i);
    let mut decisions: Vec<Decision> = sold
        .par_iter_mut()
        .enumerate()
        .map(|(i, out)| {
            if let Some(st) = stats[i] {
                return Decision {
                    status: st.worst,
                    calls: st.calls,
                    defaults: st.defaults,
                    cure_usd: st.cure_usd,
                    sale_usd: st.sale_usd,
                    repaid_usd: st.repaid_usd,
                    paid_out_usd: 0.0,
                    cash_used: 0.0,
                    held_used: 0.0,
                    capped: false,
                };
            }
            if held_fund(i) {
                return Decision::NONE;
            }
            let env = Env {
                value: value[i],
                recv: cleared.recv[i],
                extra: &extra,
                redemption: s.redemption[i],
                equity0: equity0[i],
                held: 0.0,
            };
            let mut d = rules::evaluate(c, &c.units[i], p_ext, &env, out);
            rules::cap(&c.units[i], p_ext, out, &mut d);
            d
        })
        .collect();

    // 5. Holders' ETF shares sold are redeemed by the funds.
    mute(c, &mut sold, &mut decisions);
    let units = (equity0, value.as_slice(), cleared.recv.as_slice());
    let redeemed = redeem(c, s, &extra, units, p_ext, &mut sold, &mut decisions);
    mute(c, &mut sold, &mut decisions);

    let equity = equities(c, p, &value, &etf_nav, &cleared);
    let mut total = vec![0.0; c.n_assets];
    for (u, row) in c.units.iter().zip(&sold) {
        for (&a, x) in u.assets.iter().zip(row) {
            if let Some(t) = total.get_mut(a as usize) {
                *t += x;
            }
        }
    }
    Eval {
        sold,
        decisions,
        equity,
        cleared,
        tightened,
        total,
        nav_ps,
        redeemed,
    }
}
