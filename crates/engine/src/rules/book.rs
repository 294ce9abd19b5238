//! Account books: every row is a margin account on the book's lender and terms. This is
//! the hot loop: one round streams the book's CSR arrays once.
//!
//! Rows are processed in fixed chunks of [`CHUNK_ROWS`] (independent of the thread count);
//! each chunk adds its shares sold into its own per-asset partial vector, and the partials
//! are summed in chunk order, so the result is bit-identical on any number of threads.

use rayon::prelude::*;

use delever_graph::SaleOrder;

use crate::compile::BookView;
use crate::outcome::Status;

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
    let (m, cure) = (t.maintenance, t.cure);
    // m_r ≥ m > 0 (builder invariant, kept by tightening).
    let inv_reset = 1.0 / t.reset;
    let keep = 1.0 - cure;
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
            k += usize::from(!(e > 0.0 && e >= m * v));
        }
        // Pass 2: only the rows that act, in row order (so sums keep their order).
        for &(r, v, e) in &act[..k] {
            let r = r as usize;
            let (a, b) = (rows[r] as usize, rows[r + 1] as usize);
            let assets = &book.assets[a..b];
            let shares = &book.shares[a..b];
            let loan = loans[r];
            if e <= 0.0 && (v > 0.0 || e < 0.0) {
                st.calls += 1;
                st.defaults += 1;
                st.sale_usd += v;
                st.repaid_usd += v.min(loan);
                st.worst = Status::Defaulted;
                for (x, s) in assets.iter().zip(shares) {
                    part[x.0 as usize] += s;
                }
                continue;
            }
            if e >= m * v {
                continue;
            }
            // Called: sell (1 − φ)(V − E/m_r), deposit φ(m_r·V − E).
            st.calls += 1;
            st.cure_usd += cure * (t.reset * v - e).max(0.0);
            st.worst = st.worst.max(Status::MarginCall);
            let sale = (keep * (v - e * inv_reset)).clamp(0.0, v);
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
                        .map(|(k, x)| (t.rank[x.0 as usize], k)),
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
    if e > 0.0 && e >= t.maintenance * v {
        return RowAction::None;
    }
    if e <= 0.0 && (v > 0.0 || e < 0.0) {
        return RowAction::Default;
    }
    if e >= t.maintenance * v {
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
