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
    for (r, w) in rows.windows(2).enumerate() {
        let (a, b) = (w[0] as usize, w[1] as usize);
        let assets = &book.assets[a..b];
        let shares = &book.shares[a..b];
        let mut v = 0.0;
        for (x, s) in assets.iter().zip(shares) {
            v += s * p[x.0 as usize];
        }
        let loan = loans[r];
        let e = v + cash[r] - loan;
        st.surplus += e.max(0.0);
        st.shortfall += (-e).max(0.0);
        // The common case first: equity positive and above maintenance.
        if e > 0.0 && e >= m * v {
            continue;
        }
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
