//! Account books: every row is a margin account on the book's lender and terms. This is
//! the hot loop: one round streams the book's CSR arrays once.
//!
//! Rows are processed in fixed chunks of [`CHUNK_ROWS`] (independent of the thread count);
//! each chunk adds its shares sold into its own per-asset partial vector, and the partials
//! are summed in chunk order, so the result is bit-identical on any number of threads.

use rayon::prelude::*;

use delever_graph::SaleOrder;

use crate::compile::{BookView, NO_CALL};
use crate::outcome::Status;
use crate::rules::margin::meets;

thread_local! {
    /// Per-thread scratch for [`chunk`]: (row, value, equity) of the rows that act.
    static ACT: std::cell::RefCell<Vec<(u32, f64, f64)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Rows per chunk. Fixed, so the reduction order never depends on the thread count.
pub const CHUNK_ROWS: usize = 1 << 14;

/// What a pass over a book found, besides the shares sold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BookStats {
    pub calls: u64,
    pub defaults: u64,
    pub cure_usd: f64,
    /// Sum of `max(0, loan − V − cash)` over rows: the lender's loss.
    pub shortfall: f64,
    /// Sum of `max(0, V + cash − loan)` over rows: what the accounts own net of loans.
    pub surplus: f64,
    pub sale_usd: f64,
    pub repaid_usd: f64,
    pub worst: Status,
}

impl BookStats {
    pub(crate) const ZERO: BookStats = BookStats {
        calls: 0,
        defaults: 0,
        cure_usd: 0.0,
        shortfall: 0.0,
        surplus: 0.0,
        sale_usd: 0.0,
        repaid_usd: 0.0,
        worst: Status::Unaffected,
    };

    fn add(&mut self, o: &BookStats) {
        self.calls += o.calls;
        self.defaults += o.defaults;
        self.cure_usd += o.cure_usd;
        self.shortfall += o.shortfall;
        self.surplus += o.surplus;
        self.sale_usd += o.sale_usd;
        self.repaid_usd += o.repaid_usd;
        self.worst = self.worst.max(o.worst);
    }
}

/// The terms a pass runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Terms<'r> {
    pub maintenance: f64,
    pub reset: f64,
    pub cure: f64,
    pub order: SaleOrder,
    /// Asset ranks in most-liquid-first order.
    pub rank: &'r [u32],
    /// Books holding leveraged ETF shares: the maintenance multiple per price index (1
    /// for assets, the fund's `|L|`: FINRA 4210, RN 09-53). `None`: every position at the
    /// book's own maintenance (the plain loop).
    pub mult: Option<&'r [f64]>,
    /// Timeline: today, and the days a call waits before it acts (0: at once).
    pub today: u32,
    pub cure_days: u32,
}

impl Terms<'_> {
    /// Whether a row's call may act today, given the day its open call was issued
    /// ([`NO_CALL`]: none; a call found today is then issued today).
    #[inline]
    pub(crate) fn due(&self, since: u32) -> bool {
        self.cure_days == 0
            || (since != NO_CALL
                && u64::from(self.today) >= u64::from(since) + u64::from(self.cure_days))
    }
}

/// What a row does at one price vector (the equilibrium pass and the timeline's
/// settlement share it, so both see the same decisions bit for bit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Act {
    /// Equity at or above maintenance.
    Nothing,
    /// Called, deadline not yet come: nothing sold.
    Waits,
    /// Called and due: sell `sale` (may be 0), deposit `cure`.
    Sells { sale: f64, cure: f64 },
    /// Equity ≤ 0: sell everything.
    Defaults,
}

/// The row rule: holdings value `v`, equity `e`, the day its call was issued `since`.
#[inline]
pub(crate) fn act(v: f64, e: f64, since: u32, t: &Terms<'_>) -> Act {
    if e <= 0.0 && (v > 0.0 || e < 0.0) {
        return Act::Defaults;
    }
    if meets(e, v, t.maintenance) {
        return Act::Nothing;
    }
    if !t.due(since) {
        return Act::Waits;
    }
    // Called: sell (1 − φ)(V − E/m_r), deposit φ(m_r·V − E). m_r ≥ m > 0 (builder
    // invariant, kept by tightening).
    let inv_reset = 1.0 / t.reset;
    let keep = 1.0 - t.cure;
    Act::Sells {
        sale: (keep * (v - e * inv_reset)).clamp(0.0, v),
        cure: t.cure * (t.reset * v - e).max(0.0),
    }
}

/// One pass over the book at prices `p`: shares sold per asset (dense, `p.len()` long) and
/// the pass's statistics. `scratch` holds the per-chunk partials between rounds.
pub(crate) fn pass(
    book: &BookView<'_>,
    p: &[f64],
    t: &Terms<'_>,
    scratch: &mut Vec<f64>,
) -> (Vec<f64>, BookStats) {
    let n = book.len();
    let width = p.len().max(1);
    let chunks = n.div_ceil(CHUNK_ROWS);
    scratch.clear();
    scratch.resize(chunks * width, 0.0);
    let stats: Vec<BookStats> = scratch
        .par_chunks_mut(width)
        .enumerate()
        .map(|(c, part)| {
            let lo = c * CHUNK_ROWS;
            let hi = (lo + CHUNK_ROWS).min(n);
            chunk(book, p, t, lo, hi, part)
        })
        .collect();
    let mut sold = vec![0.0; p.len()];
    let mut total = BookStats::ZERO;
    for (part, s) in scratch.chunks(width).zip(&stats) {
        for (x, y) in sold.iter_mut().zip(part) {
            *x += y;
        }
        total.add(s);
    }
    (sold, total)
}

fn chunk(
    book: &BookView<'_>,
    p: &[f64],
    t: &Terms<'_>,
    lo: usize,
    hi: usize,
    part: &mut [f64],
) -> BookStats {
    let mut st = BookStats::ZERO;
    let mut order: Vec<(u32, usize)> = Vec::new();
    let m = t.maintenance;
    let most_liquid = t.order == SaleOrder::MostLiquidFirst;
    let rows = &book.row_ptr[lo..=hi];
    let cash = &book.cash[lo..hi];
    let loans = &book.loan[lo..hi];
    // Pass 1, branch-free: value and equity of every row; rows that need action (called or
    // insolvent) are appended to `act` without a branch, because with calls at random
    // among millions of rows a branch would mispredict often.
    let n = hi - lo;
    // The list of acting rows is reused per thread: zeroing a fresh one for every chunk
    // would cost as much memory traffic as the cash and loan columns.
    ACT.with_borrow_mut(|act| {
        if act.len() < n {
            act.resize(n, (0, 0.0, 0.0));
        }
        let mut k = 0usize;
        for (r, w) in rows.windows(2).enumerate() {
            let (a, b) = (w[0] as usize, w[1] as usize);
            let mut v = 0.0;
            for (x, s) in book.assets[a..b].iter().zip(&book.shares[a..b]) {
                v += s * p[x.0 as usize];
            }
            let e = v + cash[r] - loans[r];
            st.surplus += e.max(0.0);
            st.shortfall += (-e).max(0.0);
            act[k] = (r as u32, v, e);
            // With ETF shares the requirement is per position, found for the acting
            // candidates in pass 2 (a row within `m·V` may still need more: see below).
            let req = if t.mult.is_some() { v } else { m * v };
            k += usize::from(!(e > 0.0 && e >= req));
        }
        // Pass 2: only the rows that act, in row order (so sums keep their order).
        for &(r, v, e) in &act[..k] {
            let r = r as usize;
            let (a, b) = (rows[r] as usize, rows[r + 1] as usize);
            let assets = &book.assets[a..b];
            let shares = &book.shares[a..b];
            let loan = loans[r];
            let w = book.weights.map_or(1, |w| w[lo + r]);
            let since = book.calls.map_or(NO_CALL, |c| c[lo + r]);
            let t_row = &row_terms(t, assets, shares, p, v);
            let (sale, cure) = match self::act(v, e, since, t_row) {
                Act::Nothing => continue,
                Act::Defaults => {
                    st.calls += w;
                    st.defaults += w;
                    st.sale_usd += v;
                    st.repaid_usd += v.min(loan);
                    st.worst = Status::Defaulted;
                    for (x, s) in assets.iter().zip(shares) {
                        part[x.0 as usize] += s;
                    }
                    continue;
                }
                Act::Waits => {
                    st.calls += w;
                    st.worst = st.worst.max(Status::MarginCall);
                    continue;
                }
                Act::Sells { sale, cure } => (sale, cure),
            };
            st.calls += w;
            st.cure_usd += cure;
            st.worst = st.worst.max(Status::MarginCall);
            if sale <= 0.0 {
                continue;
            }
            st.sale_usd += sale;
            st.repaid_usd += sale;
            if most_liquid && sale < v {
                order.clear();
                order.extend(
                    assets
                        .iter()
                        .enumerate()
                        .map(|(k, x)| (t.rank.get(x.0 as usize).copied().unwrap_or(u32::MAX), k)),
                );
                order.sort_unstable();
                let mut left = sale;
                for &(_, k) in &order {
                    let ax = assets[k].0 as usize;
                    let worth = shares[k] * p[ax];
                    if worth <= left {
                        part[ax] += shares[k];
                        left -= worth;
                    } else {
                        part[ax] += left / p[ax];
                        break;
                    }
                }
            } else {
                let frac = if sale >= v { 1.0 } else { sale / v };
                for (x, s) in assets.iter().zip(shares) {
                    part[x.0 as usize] += s * frac;
                }
            }
        }
    });
    st
}

/// A row's terms: the pass's, or with ETF shares (`t.mult`) the row's own
/// ([`with_mult`]).
fn row_terms<'r>(
    t: &Terms<'r>,
    assets: &[delever_graph::AssetIx],
    shares: &[f64],
    p: &[f64],
    v: f64,
) -> Terms<'r> {
    match t.mult {
        Some(mult) if v > 0.0 => with_mult(t, mult, assets, shares, p, v),
        _ => *t,
    }
}

/// A row's terms with ETF shares: maintenance `R/V` and reset `R_r/V`, where
/// `R = Σ min(1, m·k_j)·V_j` (as `margin::rates`).
fn with_mult<'r>(
    t: &Terms<'r>,
    mult: &[f64],
    assets: &[delever_graph::AssetIx],
    shares: &[f64],
    p: &[f64],
    v: f64,
) -> Terms<'r> {
    let (mut req, mut req_r) = (0.0, 0.0);
    for (x, s) in assets.iter().zip(shares) {
        let a = x.0 as usize;
        let k = mult.get(a).copied().unwrap_or(1.0);
        let val = s * p[a];
        req += (t.maintenance * k).min(1.0) * val;
        req_r += (t.reset * k).min(1.0) * val;
    }
    Terms {
        maintenance: req / v,
        reset: (req_r / v).max(req / v),
        ..*t
    }
}

/// A plain pass over the same arrays: the value of every row at `p`, summed. The bound a
/// round is measured against (benches); chunked like a round so it is deterministic too.
pub fn plain_value(book: &delever_graph::AccountBook, p: &[f64]) -> f64 {
    let n = book.len();
    let chunks = n.div_ceil(CHUNK_ROWS);
    let parts: Vec<f64> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let lo = c * CHUNK_ROWS;
            let hi = (lo + CHUNK_ROWS).min(n);
            let mut total = 0.0;
            for i in lo..hi {
                let (a, b) = (book.row_ptr[i] as usize, book.row_ptr[i + 1] as usize);
                let mut v = 0.0;
                for (x, s) in book.assets[a..b].iter().zip(&book.shares[a..b]) {
                    v += s * p[x.0 as usize];
                }
                total += v;
            }
            total
        })
        .collect();
    parts.iter().sum()
}

// ---------------------------------------------------------------- sequential mode

/// A row has been called at least once (sequential mode).
pub(crate) const CALLED: u8 = 1;
/// A row has defaulted (sequential mode; sticky: it sold everything and stays defaulted).
pub(crate) const DEFAULTED: u8 = 2;
/// A row placed an order in the last decide pass, not yet settled: settlement reads only
/// this byte for the other rows, never their holdings.
const PENDING: u8 = 4;

/// A book's accounts as the sequential mode carries them from round to round: one copy of
/// the book's cash, loans and shares, made once per run (the row pointers and assets stay
/// borrowed from the network: sales never change which assets a row holds).
#[derive(Debug, Clone)]
pub(crate) struct BookRows {
    pub cash: Vec<f64>,
    pub loan: Vec<f64>,
    pub shares: Vec<f64>,
    /// [`CALLED`] and [`DEFAULTED`] per row.
    pub flags: Vec<u8>,
}

impl BookRows {
    /// The copy of `book`'s cash, loans and shares.
    pub(crate) fn new(book: &BookView<'_>) -> Self {
        BookRows {
            cash: book.cash.to_vec(),
            loan: book.loan.to_vec(),
            shares: book.shares.to_vec(),
            flags: vec![0; book.len()],
        }
    }
}

/// What a sequential decide pass found, besides the shares ordered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SeqStats {
    /// Rows that act this round on a call (defaults included).
    pub calls: u64,
    /// Rows called this round for the first time.
    pub new_calls: u64,
    /// Rows that default this round (they were not defaulted before).
    pub new_defaults: u64,
    /// Fresh cash the called rows deposit, USD.
    pub cure_usd: f64,
    /// Lender shortfall `Σ max(0, loan − V − cash)` at the decision prices.
    pub shortfall: f64,
    /// `Σ max(0, V + cash − loan)` at the decision prices.
    pub surplus: f64,
    /// Sales ordered, USD at the decision prices.
    pub sale_usd: f64,
    /// Worst status of a row acting this round.
    pub worst: Status,
}

impl SeqStats {
    pub(crate) const ZERO: SeqStats = SeqStats {
        calls: 0,
        new_calls: 0,
        new_defaults: 0,
        cure_usd: 0.0,
        shortfall: 0.0,
        surplus: 0.0,
        sale_usd: 0.0,
        worst: Status::Unaffected,
    };

    fn add(&mut self, o: &SeqStats) {
        self.calls += o.calls;
        self.new_calls += o.new_calls;
        self.new_defaults += o.new_defaults;
        self.cure_usd += o.cure_usd;
        self.shortfall += o.shortfall;
        self.surplus += o.surplus;
        self.sale_usd += o.sale_usd;
        self.worst = self.worst.max(o.worst);
    }
}

/// What a sequential settlement paid, summed over the rows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Settled {
    /// Proceeds at the midpoint prices, USD.
    pub proceeds: f64,
    /// Part of the proceeds and cash that repaid loans, USD.
    pub repaid: f64,
    /// Fresh cash deposited against calls, USD.
    pub cure: f64,
}

impl Settled {
    fn add(&mut self, o: &Settled) {
        self.proceeds += o.proceeds;
        self.repaid += o.repaid;
        self.cure += o.cure;
    }
}

/// A row's action in a sequential round.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RowAction {
    None,
    /// Called: sell `sale` dollars (at the decision prices), deposit `cure`.
    Call {
        sale: f64,
        cure: f64,
    },
    /// Insolvent (or defaulted before with something left): sell everything.
    Default,
}

/// The action of a row with holdings value `v` and equity `e` (cash netted) under terms
/// `t`: the margin rule of the equilibrium mode's pass, on the row's current state. An
/// order smaller than `min_order × v` is not placed.
#[inline]
fn row_action(v: f64, e: f64, flags: u8, t: &Terms<'_>, min_order: f64) -> RowAction {
    if flags & DEFAULTED != 0 {
        return if v > 0.0 {
            RowAction::Default
        } else {
            RowAction::None
        };
    }
    if e > 0.0 && meets(e, v, t.maintenance) {
        return RowAction::None;
    }
    if e <= 0.0 && (v > 0.0 || e < 0.0) {
        return RowAction::Default;
    }
    if meets(e, v, t.maintenance) {
        return RowAction::None;
    }
    // m_r ≥ m > 0 (builder invariant, kept by tightening).
    // `min` then `max`, not `clamp`: a row's value can be a rounding error below 0.
    let sale = ((1.0 - t.cure) * (v - e / t.reset)).min(v).max(0.0);
    let cure = t.cure * (t.reset * v - e).max(0.0);
    if sale + cure <= min_order * v {
        return RowAction::None;
    }
    RowAction::Call { sale, cure }
}

/// Shares sold of each of a row's holdings when it sells `sale` dollars at `p` (all of
/// them when `sale ≥ v`), into `sold` (one per holding): pro rata, or most liquid first.
#[allow(clippy::too_many_arguments)]
#[inline]
fn row_sales(
    assets: &[delever_graph::AssetIx],
    shares: &[f64],
    p: &[f64],
    sale: f64,
    v: f64,
    t: &Terms<'_>,
    order: &mut Vec<(u32, usize)>,
    sold: &mut Vec<f64>,
) {
    sold.clear();
    sold.resize(shares.len(), 0.0);
    if sale >= v {
        sold.copy_from_slice(shares);
        return;
    }
    if t.order == SaleOrder::MostLiquidFirst {
        order.clear();
        order.extend(
            assets
                .iter()
                .enumerate()
                .map(|(k, x)| (t.rank[x.0 as usize], k)),
        );
        order.sort_unstable();
        let mut left = sale;
        for &(_, k) in order.iter() {
            let price = p[assets[k].0 as usize];
            let worth = shares[k] * price;
            if worth <= left {
                sold[k] = shares[k];
                left -= worth;
            } else {
                sold[k] = (left / price).min(shares[k]);
                break;
            }
        }
    } else {
        let frac = sale / v;
        for (x, s) in sold.iter_mut().zip(shares) {
            *x = s * frac;
        }
    }
}

/// Sequential decide pass: every row's order at prices `p` on its current state, shares
/// ordered per asset (dense, `p.len()` long) and the pass's statistics. Rows that order
/// are marked pending for [`seq_settle`]; nothing else is written. Chunked and reduced in
/// chunk order like [`pass`].
pub(crate) fn seq_decide(
    book: &BookView<'_>,
    rows: &mut BookRows,
    p: &[f64],
    t: &Terms<'_>,
    min_order: f64,
    scratch: &mut Vec<f64>,
) -> (Vec<f64>, SeqStats) {
    let n = rows.cash.len();
    let width = p.len().max(1);
    let chunks = n.div_ceil(CHUNK_ROWS);
    scratch.clear();
    scratch.resize(chunks * width, 0.0);
    let view = Rows {
        cash: &rows.cash,
        loan: &rows.loan,
        shares: &rows.shares,
    };
    let stats: Vec<SeqStats> = scratch
        .par_chunks_mut(width)
        .zip(rows.flags.par_chunks_mut(CHUNK_ROWS))
        .enumerate()
        .map(|(c, (part, flags))| {
            let lo = c * CHUNK_ROWS;
            decide_chunk(book, &view, flags, p, t, min_order, lo, part)
        })
        .collect();
    let mut sold = vec![0.0; p.len()];
    let mut total = SeqStats::ZERO;
    for (part, s) in scratch.chunks(width).zip(&stats) {
        for (x, y) in sold.iter_mut().zip(part) {
            *x += y;
        }
        total.add(s);
    }
    (sold, total)
}

/// The read-only columns of a book's rows during a decide pass.
struct Rows<'r> {
    cash: &'r [f64],
    loan: &'r [f64],
    shares: &'r [f64],
}

/// One chunk of a decide pass: rows `lo..lo + flags.len()`.
#[allow(clippy::too_many_arguments)]
fn decide_chunk(
    book: &BookView<'_>,
    rows: &Rows<'_>,
    chunk_flags: &mut [u8],
    p: &[f64],
    t: &Terms<'_>,
    min_order: f64,
    lo: usize,
    part: &mut [f64],
) -> SeqStats {
    let mut st = SeqStats::ZERO;
    let mut order = Vec::new();
    let mut sold = Vec::new();
    for (r, slot) in (lo..).zip(chunk_flags.iter_mut()) {
        let (a, b) = (book.row_ptr[r] as usize, book.row_ptr[r + 1] as usize);
        let assets = &book.assets[a..b];
        let shares = &rows.shares[a..b];
        let mut v = 0.0;
        for (x, s) in assets.iter().zip(shares) {
            v += s * p[x.0 as usize];
        }
        let e = v + rows.cash[r] - rows.loan[r];
        st.surplus += e.max(0.0);
        st.shortfall += (-e).max(0.0);
        *slot &= !PENDING;
        let flags = *slot;
        let t = &row_terms(t, assets, shares, p, v);
        let action = row_action(v, e, flags, t, min_order);
        if action != RowAction::None {
            *slot |= PENDING;
        }
        let sale = match action {
            RowAction::None => continue,
            RowAction::Default => {
                if flags & DEFAULTED == 0 {
                    st.new_defaults += 1;
                    st.calls += 1;
                    st.new_calls += u64::from(flags & CALLED == 0);
                }
                st.worst = Status::Defaulted;
                v
            }
            RowAction::Call { sale, cure } => {
                st.calls += 1;
                st.new_calls += u64::from(flags & CALLED == 0);
                st.cure_usd += cure;
                st.worst = st.worst.max(Status::MarginCall);
                sale
            }
        };
        if sale <= 0.0 {
            continue;
        }
        st.sale_usd += sale;
        row_sales(assets, shares, p, sale, v, t, &mut order, &mut sold);
        for (x, s) in assets.iter().zip(&sold) {
            part[x.0 as usize] += s;
        }
    }
    st
}

/// Sequential settlement: every pending row's order of this round, decided at `p_prev`
/// under `t` (recomputed, bit for bit the decide pass's), is executed at the midpoint
/// prices `mid`:
/// shares leave the row, proceeds and any cure deposit repay its loan (the excess is cash);
/// a defaulting row also pays its cash towards the loan, and what is left of the loan is
/// the lender's loss. Rows are flagged called / defaulted. Rows are processed in the same
/// fixed chunks, in parallel; the sums are reduced in chunk order.
pub(crate) fn seq_settle(
    book: &BookView<'_>,
    rows: &mut BookRows,
    p_prev: &[f64],
    mid: &[f64],
    t: &Terms<'_>,
    min_order: f64,
) -> Settled {
    let n = rows.cash.len();
    let chunks = n.div_ceil(CHUNK_ROWS);
    let mut pieces = Vec::with_capacity(chunks);
    let mut cash: &mut [f64] = &mut rows.cash;
    let mut loan: &mut [f64] = &mut rows.loan;
    let mut flags: &mut [u8] = &mut rows.flags;
    let mut shares: &mut [f64] = &mut rows.shares;
    for c in 0..chunks {
        let lo = c * CHUNK_ROWS;
        let hi = (lo + CHUNK_ROWS).min(n);
        let held = (book.row_ptr[hi] - book.row_ptr[lo]) as usize;
        // The builder guarantees the book's arrays agree; a mismatch would only stop early.
        let (Some((c1, c2)), Some((l1, l2)), Some((f1, f2)), Some((s1, s2))) = (
            std::mem::take(&mut cash).split_at_mut_checked(hi - lo),
            std::mem::take(&mut loan).split_at_mut_checked(hi - lo),
            std::mem::take(&mut flags).split_at_mut_checked(hi - lo),
            std::mem::take(&mut shares).split_at_mut_checked(held),
        ) else {
            break;
        };
        (cash, loan, flags, shares) = (c2, l2, f2, s2);
        pieces.push((lo, c1, l1, f1, s1));
    }
    let parts: Vec<Settled> = pieces
        .into_par_iter()
        .map(|(lo, cash, loan, flags, shares)| {
            settle_chunk(
                book, lo, cash, loan, flags, shares, p_prev, mid, t, min_order,
            )
        })
        .collect();
    let mut total = Settled::default();
    for s in &parts {
        total.add(s);
    }
    total
}

#[allow(clippy::too_many_arguments)]
fn settle_chunk(
    book: &BookView<'_>,
    lo: usize,
    cash: &mut [f64],
    loan: &mut [f64],
    flags: &mut [u8],
    shares: &mut [f64],
    p: &[f64],
    mid: &[f64],
    t: &Terms<'_>,
    min_order: f64,
) -> Settled {
    let mut out = Settled::default();
    let mut order = Vec::new();
    let mut sold = Vec::new();
    let base = book.row_ptr[lo] as usize;
    for r in 0..cash.len() {
        if flags[r] & PENDING == 0 {
            continue;
        }
        flags[r] &= !PENDING;
        let (a, b) = (
            book.row_ptr[lo + r] as usize - base,
            book.row_ptr[lo + r + 1] as usize - base,
        );
        let assets = &book.assets[base + a..base + b];
        let held = &mut shares[a..b];
        let mut v = 0.0;
        for (x, s) in assets.iter().zip(held.iter()) {
            v += s * p[x.0 as usize];
        }
        let e = v + cash[r] - loan[r];
        // ETF shares: the row's own requirement, as the decide pass found it.
        let t = &row_terms(t, assets, held, p, v);
        let (sale, deposit, default) = match row_action(v, e, flags[r], t, min_order) {
            RowAction::None => continue,
            RowAction::Call { sale, cure } => (sale, cure, false),
            RowAction::Default => (v, 0.0, true),
        };
        flags[r] |= CALLED | if default { DEFAULTED } else { 0 };
        let mut proceeds = 0.0;
        if sale > 0.0 {
            row_sales(assets, held, p, sale, v, t, &mut order, &mut sold);
            for ((x, s), q) in assets.iter().zip(held.iter_mut()).zip(&sold) {
                proceeds += q * mid[x.0 as usize];
                *s = (*s - q).max(0.0);
            }
        }
        let mut pay = proceeds + deposit;
        if default {
            pay += cash[r];
            cash[r] = 0.0;
        }
        let repaid = pay.min(loan[r]);
        loan[r] -= repaid;
        cash[r] += pay - repaid;
        out.proceeds += proceeds;
        out.repaid += repaid;
        out.cure += deposit;
    }
    out
}

// ---------------------------------------------------------------- timeline

/// A row has had a margin call on some day (timeline).
pub(crate) const EVER_CALLED: u8 = 1;
/// A row has defaulted (timeline; it sold everything, what is left of its loan is the
/// lender's loss).
pub(crate) const EVER_DEFAULTED: u8 = 2;

/// The accounts of a book (or a cohort's buckets, one row each) as a timeline carries them
/// from one day to the next. Books keep borrowing their row pointers and assets from the
/// network (sales never change which assets a row holds); a cohort owns its own.
#[derive(Debug, Clone)]
pub(crate) struct DayRows {
    pub cash: Vec<f64>,
    pub loan: Vec<f64>,
    pub shares: Vec<f64>,
    /// Day each row's open call was issued ([`NO_CALL`]: none).
    pub calls: Vec<u32>,
    /// [`EVER_CALLED`], [`EVER_DEFAULTED`].
    pub flags: Vec<u8>,
    /// Cohorts: accounts per row, and the rows' own structure.
    pub weights: Option<Vec<u64>>,
    pub own: Option<(Vec<u64>, Vec<delever_graph::AssetIx>)>,
}

impl DayRows {
    /// A copy of a book's rows before its first day.
    pub(crate) fn of_book(book: &BookView<'_>) -> Self {
        DayRows {
            cash: book.cash.to_vec(),
            loan: book.loan.to_vec(),
            shares: book.shares.to_vec(),
            calls: vec![NO_CALL; book.len()],
            flags: vec![0; book.len()],
            weights: None,
            own: None,
        }
    }

    /// A view of the rows for a day's pass; `base` lends a book's row pointers and assets.
    pub(crate) fn view<'v>(&'v self, base: &BookView<'v>) -> BookView<'v> {
        let (row_ptr, assets) = match &self.own {
            Some((r, a)) => (r.as_slice(), a.as_slice()),
            None => (base.row_ptr, base.assets),
        };
        BookView {
            cash: &self.cash,
            loan: &self.loan,
            row_ptr,
            assets,
            shares: &self.shares,
            weights: self.weights.as_deref(),
            calls: Some(&self.calls),
        }
    }

    /// Accounts a row stands for.
    #[inline]
    fn weight(&self, r: usize) -> u64 {
        self.weights.as_ref().map_or(1, |w| w[r])
    }

    /// Accounts ever called and ever defaulted, and accounts with an open call.
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        let (mut called, mut defaulted, mut open) = (0, 0, 0);
        for (r, (&f, &c)) in self.flags.iter().zip(&self.calls).enumerate() {
            let w = self.weight(r);
            called += if f & EVER_CALLED != 0 { w } else { 0 };
            defaulted += if f & EVER_DEFAULTED != 0 { w } else { 0 };
            open += if c == NO_CALL { 0 } else { w };
        }
        (called, defaulted, open)
    }
}

/// What a day's settlement of a book did, summed over its rows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct DaySettled {
    /// Proceeds at the close, USD.
    pub proceeds: f64,
    /// Loans repaid, USD.
    pub repaid: f64,
    /// Fresh cash deposited against calls, USD.
    pub cure: f64,
    /// Accounts called today for the first time (their call opened today).
    pub new_calls: u64,
    /// Accounts that defaulted today.
    pub new_defaults: u64,
    /// Holdings value at the close after the day's sales, USD.
    pub value: f64,
    /// Cash and loans after the day, USD.
    pub cash: f64,
    pub loan: f64,
}

impl DaySettled {
    fn add(&mut self, o: &DaySettled) {
        self.proceeds += o.proceeds;
        self.repaid += o.repaid;
        self.cure += o.cure;
        self.new_calls += o.new_calls;
        self.new_defaults += o.new_defaults;
        self.value += o.value;
        self.cash += o.cash;
        self.loan += o.loan;
    }
}

/// Settle a day of a timeline: every row's decision at `p_dec` (the prices the day's
/// sales were decided at, recomputed with [`act`], bit for bit the pass's) is executed at
/// the close `p_close`: shares leave, proceeds and deposits repay the loan (the rest is
/// cash), a defaulting row pays its cash towards the loan. A call that waits keeps the day
/// it was issued (today's new calls get today); a call acted on, or gone because equity
/// recovered, is closed. `view` is the day's view of the rows (its arrays are those of
/// `rows`, or of the network on the first day), `rows` the carried copy to update.
pub(crate) fn day_settle(
    row_ptr: &[u64],
    assets: &[delever_graph::AssetIx],
    rows: &mut DayRows,
    p_dec: &[f64],
    p_close: &[f64],
    t: &Terms<'_>,
) -> DaySettled {
    let n = rows.cash.len();
    let chunks = n.div_ceil(CHUNK_ROWS);
    let weights = rows.weights.take();
    let mut pieces = Vec::with_capacity(chunks);
    let mut cash: &mut [f64] = &mut rows.cash;
    let mut loan: &mut [f64] = &mut rows.loan;
    let mut flags: &mut [u8] = &mut rows.flags;
    let mut calls: &mut [u32] = &mut rows.calls;
    let mut shares: &mut [f64] = &mut rows.shares;
    for c in 0..chunks {
        let lo = c * CHUNK_ROWS;
        let hi = (lo + CHUNK_ROWS).min(n);
        let held = (row_ptr[hi] - row_ptr[lo]) as usize;
        // The arrays agree by construction; a mismatch would only stop early.
        let (Some((c1, c2)), Some((l1, l2)), Some((f1, f2)), Some((k1, k2)), Some((s1, s2))) = (
            std::mem::take(&mut cash).split_at_mut_checked(hi - lo),
            std::mem::take(&mut loan).split_at_mut_checked(hi - lo),
            std::mem::take(&mut flags).split_at_mut_checked(hi - lo),
            std::mem::take(&mut calls).split_at_mut_checked(hi - lo),
            std::mem::take(&mut shares).split_at_mut_checked(held),
        ) else {
            break;
        };
        (cash, loan, flags, calls, shares) = (c2, l2, f2, k2, s2);
        pieces.push((lo, c1, l1, f1, k1, s1));
    }
    let w = weights.as_deref();
    let parts: Vec<DaySettled> = pieces
        .into_par_iter()
        .map(|(lo, cash, loan, flags, calls, shares)| {
            let rows = RowsMut {
                cash,
                loan,
                flags,
                calls,
                shares,
            };
            day_settle_chunk(row_ptr, assets, w, lo, rows, p_dec, p_close, t)
        })
        .collect();
    rows.weights = weights;
    let mut total = DaySettled::default();
    for s in &parts {
        total.add(s);
    }
    total
}

/// One chunk's rows, mutably.
struct RowsMut<'r> {
    cash: &'r mut [f64],
    loan: &'r mut [f64],
    flags: &'r mut [u8],
    calls: &'r mut [u32],
    shares: &'r mut [f64],
}

#[allow(clippy::too_many_arguments)]
fn day_settle_chunk(
    row_ptr: &[u64],
    assets: &[delever_graph::AssetIx],
    weights: Option<&[u64]>,
    lo: usize,
    rows: RowsMut<'_>,
    p: &[f64],
    close: &[f64],
    t: &Terms<'_>,
) -> DaySettled {
    let RowsMut {
        cash,
        loan,
        flags,
        calls,
        shares,
    } = rows;
    let mut out = DaySettled::default();
    let mut order = Vec::new();
    let mut sold = Vec::new();
    let base = row_ptr[lo] as usize;
    for r in 0..cash.len() {
        let wgt = weights.map_or(1, |w| w[lo + r]);
        let (a, b) = (
            row_ptr[lo + r] as usize - base,
            row_ptr[lo + r + 1] as usize - base,
        );
        let held_assets = &assets[base + a..base + b];
        let held = &mut shares[a..b];
        let mut v = 0.0;
        for (x, s) in held_assets.iter().zip(held.iter()) {
            v += s * p[x.0 as usize];
        }
        let e = v + cash[r] - loan[r];
        let since = calls[r];
        let was_called = flags[r] & EVER_CALLED != 0;
        // A row holding ETF shares: its own requirement, as the day's pass found it.
        let t = &row_terms(t, held_assets, held, p, v);
        let (sale, deposit, default) = match act(v, e, since, t) {
            Act::Nothing => {
                calls[r] = NO_CALL;
                (0.0, 0.0, false)
            }
            Act::Waits => {
                if since == NO_CALL {
                    calls[r] = t.today;
                    out.new_calls += wgt;
                }
                flags[r] |= EVER_CALLED;
                (0.0, 0.0, false)
            }
            Act::Sells { sale, cure } => {
                if since == NO_CALL {
                    out.new_calls += wgt;
                }
                calls[r] = NO_CALL;
                flags[r] |= EVER_CALLED;
                (sale, cure, false)
            }
            Act::Defaults => {
                if flags[r] & EVER_DEFAULTED == 0 {
                    out.new_defaults += wgt;
                    out.new_calls += if was_called || since != NO_CALL {
                        0
                    } else {
                        wgt
                    };
                }
                calls[r] = NO_CALL;
                flags[r] |= EVER_CALLED | EVER_DEFAULTED;
                (v, 0.0, true)
            }
        };
        let mut proceeds = 0.0;
        if sale > 0.0 {
            row_sales(held_assets, held, p, sale, v, t, &mut order, &mut sold);
            for ((x, s), q) in held_assets.iter().zip(held.iter_mut()).zip(&sold) {
                proceeds += q * close[x.0 as usize];
                *s = (*s - q).max(0.0);
            }
        }
        let mut pay = proceeds + deposit;
        if default {
            pay += cash[r];
            cash[r] = 0.0;
        }
        let repaid = pay.min(loan[r]).max(0.0);
        loan[r] -= repaid;
        cash[r] += pay - repaid;
        out.proceeds += proceeds;
        out.repaid += repaid;
        out.cure += deposit;
        for (x, s) in held_assets.iter().zip(held.iter()) {
            out.value += s * close[x.0 as usize];
        }
        out.cash += cash[r];
        out.loan += loan[r];
    }
    out
}
