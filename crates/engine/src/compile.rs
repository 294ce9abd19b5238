//! Compile a [`Network`] once into flat columns the rounds stream over.
//!
//! Explicit holdings are copied into one small CSR per holder (they are few). An
//! [`AccountBook`]'s arrays are *borrowed*: ten million accounts are never copied.

use delever_graph::{
    AccountBook, BalanceSheetRule, CashUse, HolderKind, KindTag, Network, NodeRef, SaleOrder,
};
use rayon::prelude::*;

use crate::impact::Law;

/// A book's rows, borrowed from the network (or, on the later days of a timeline, from
/// the rows the timeline carries).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BookView<'a> {
    pub cash: &'a [f64],
    pub loan: &'a [f64],
    pub row_ptr: &'a [u64],
    pub assets: &'a [delever_graph::AssetIx],
    pub shares: &'a [f64],
    /// Accounts each row stands for (a cohort's buckets carried as rows); `None`: one.
    pub weights: Option<&'a [u64]>,
    /// Timeline: the day each row's open margin call was issued ([`NO_CALL`]: none);
    /// `None`: no row has an open call.
    pub calls: Option<&'a [u32]>,
}

/// A row (or holder) without an open margin call.
pub(crate) const NO_CALL: u32 = u32::MAX;

impl<'a> BookView<'a> {
    fn new(b: &'a AccountBook) -> Self {
        BookView {
            cash: &b.cash,
            loan: &b.loan,
            row_ptr: &b.row_ptr,
            assets: &b.assets,
            shares: &b.shares,
            weights: None,
            calls: None,
        }
    }
    pub fn len(&self) -> usize {
        self.cash.len()
    }
}

/// A compiled holder's rule can buy (damping applies to the run).
const CAN_BUY: u8 = 1;
/// A compiled holder is an options dealer long gamma at some prices.
const LONG_GAMMA: u8 = 2;

/// One loan-to-value bucket of a cohort, as a representative account.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bucket {
    /// Share of the cohort's holdings, cash and accounts.
    pub share: f64,
    /// Its loan: `ltv · share · V0`.
    pub loan: f64,
    /// Accounts it stands for (largest-remainder rounding of `share · accounts`).
    pub accounts: u64,
}

/// The per-kind part of a compiled holder.
#[derive(Debug, Clone)]
pub(crate) enum Rule<'a> {
    Account {
        cure: f64,
    },
    Cohort {
        cure: f64,
        buckets: Vec<Bucket>,
    },
    Book {
        cure: f64,
        book: Box<BookView<'a>>,
        cash_total: f64,
        loan_total: f64,
    },
    Etf {
        multiple: f64,
        /// NAV at the reference prices ([`Compiled::p_ref`]).
        nav0: f64,
        /// Basket weights, aligned with the unit's positions.
        weights: Vec<f64>,
        /// The exposure is carried from an earlier day of a timeline (and may be off its
        /// target weights), rather than `L·NAV0·w/p_ref` by construction.
        carried: bool,
    },
    BalanceSheet {
        rule: BalanceSheetRule,
    },
    Fund {
        beta: f64,
    },
    /// An options dealer's delta hedge: `u.shares` is the hedge held (signed).
    Dealer {
        /// Option lines with the position (index into the unit's assets) they hedge on.
        options: Vec<(u32, crate::rules::dealer::OptionLine)>,
        /// Linear lines: position and gamma in shares per dollar of spot (signed).
        gamma: Vec<(u32, f64)>,
    },
    /// A volatility-targeting fund (boxed, as the trend follower's and a book's view:
    /// a unit is kept per holder, and most holders are of the small kinds).
    VolTarget(Box<VolTargetC>),
    /// A trend follower's synthetic positions: `u.shares` is the position held (signed).
    Trend(Box<TrendC>),
}

/// A volatility-targeting fund, compiled.
#[derive(Debug, Clone)]
pub(crate) struct VolTargetC {
    pub rule: delever_graph::VolTargetRule,
    /// EWMA decay per day, `2^(−1/half-life)`.
    pub lambda: f64,
    /// Annual variance estimate at the reference close.
    pub var_ref: f64,
    /// Exposure / NAV at the start, `min(L_max, σ*/σ̂₀)`.
    pub w0: f64,
    /// Shares held at the start of the run (the fund's target at `w0`).
    pub h0: Vec<f64>,
    /// Timeline with a lag: the target ratio decided at an earlier close.
    pub fixed: Option<f64>,
}

/// A trend follower, compiled.
#[derive(Debug, Clone)]
pub(crate) struct TrendC {
    /// Weight of each lookback in the signal.
    pub weights: Vec<f64>,
    /// Length of each lookback, trading days.
    pub days: Vec<u32>,
    /// Per position: shares at full signal (`max_usd / p0`) and each lookback's
    /// anchor price (the price the window's return is measured from today).
    pub markets: Vec<(f64, Vec<f64>)>,
    /// Timeline with a lag: the signals decided at an earlier close.
    pub fixed: Option<Vec<f64>>,
}

/// A margin link, compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Margin {
    pub lender: usize,
    pub loan: f64,
    pub maintenance: f64,
    pub reset: f64,
}

/// The assets of a holder's positions, inline up to four: most holders (a bank's two
/// bond books) then need no allocation, and a pass over the holders reads them in place.
pub(crate) type Assets = smallvec::SmallVec<[u32; 4]>;

/// Shares per position (held, sold, ordered), inline up to two, as [`Assets`].
pub(crate) type Shares = smallvec::SmallVec<[f64; 2]>;

/// One holder, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Unit<'a> {
    pub kind: KindTag,
    pub rule: Rule<'a>,
    /// Assets of the positions (for a book: every asset, dense).
    pub assets: Assets,
    /// Starting shares per position (books: the book's total per asset; ETFs: the
    /// synthetic exposure `L·NAV0·w / p0`, negative for inverse funds).
    pub shares: Shares,
    /// Positions in most-liquid-first order, when the holder sells that way.
    pub liquidity: Option<Vec<u32>>,
    pub cash: f64,
    pub other_assets: f64,
    pub other_liabilities: f64,
    pub margin: Option<Margin>,
    pub sale_order: SaleOrder,
    pub cash_use: CashUse,
    /// Interbank obligations at face value.
    pub owed: f64,
    /// Holders of leveraged ETF shares: each position's maintenance multiple (the fund's
    /// `|L|` for ETF shares, 1 for assets; FINRA Rule 4210, Regulatory Notice 09-53).
    /// `None`: no ETF shares, every position at the account's own requirement.
    pub etf_mult: Option<Vec<f64>>,
    /// Balance-sheet holders: insolvent (default, sell everything) when equity/assets
    /// falls below this ratio.
    pub default_below: Option<f64>,
    /// What the day of a timeline adds to the holder's rule (neutral on day 0 of a run
    /// without deadlines or caps, and in the one-instant modes).
    pub day: DayTerms,
}

/// A single holder's state of close-out by its lender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Closing {
    /// Not in default.
    #[default]
    No,
    /// In default, its lender not yet selling (its `delay_days` have not passed).
    Waiting,
    /// In default, its lender selling everything that is left.
    Selling,
}

/// The timeline's additions to a holder's rule for one day.
#[derive(Debug, Clone, Default)]
pub(crate) struct DayTerms {
    /// The day, from 0.
    pub today: u32,
    /// Days between a margin call and its deadline.
    pub cure_days: u32,
    /// Day the holder's open margin call was issued ([`NO_CALL`] when none). Cohorts and
    /// books keep theirs per row.
    pub call_since: u32,
    /// Close-out by the lender.
    pub closing: Closing,
    /// The lender closes out a borrower that misses a due call.
    pub close_out: bool,
    /// The lender waits this many days after a default before selling.
    pub delay_days: u32,
    /// What only some holders have on some days (boxed: the terms are kept per holder,
    /// and most holders have none of it).
    pub more: Option<Box<DayMore>>,
}

/// The day terms that only capped holders and funds have.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DayMore {
    /// Most shares it may sell today, per position (`None`: no cap).
    pub cap: Option<Vec<f64>>,
    /// Funds: redemptions paid out on earlier days, USD.
    pub paid_out: f64,
    /// Funds: the return its investors react to today when they react with a lag.
    pub lagged_return: Option<f64>,
}

impl DayMore {
    /// These terms, boxed, unless they are all neutral (no cap, nothing paid out, no
    /// lagged return).
    pub(crate) fn of(
        cap: Option<Vec<f64>>,
        paid_out: f64,
        lagged_return: Option<f64>,
    ) -> Option<Box<DayMore>> {
        let more = DayMore {
            cap,
            paid_out,
            lagged_return,
        };
        (more != DayMore::default()).then(|| Box::new(more))
    }
}

impl DayTerms {
    /// Neutral terms: the one-instant modes' rules.
    pub(crate) fn instant() -> Self {
        DayTerms {
            call_since: NO_CALL,
            ..DayTerms::default()
        }
    }

    /// Most shares the holder may sell today, per position (`None`: no cap).
    pub(crate) fn cap(&self) -> Option<&[f64]> {
        self.more.as_ref()?.cap.as_deref()
    }

    /// Funds: redemptions paid out on earlier days, USD.
    pub(crate) fn paid_out(&self) -> f64 {
        self.more.as_ref().map_or(0.0, |m| m.paid_out)
    }

    /// Funds: the return its investors react to today when they react with a lag.
    pub(crate) fn lagged_return(&self) -> Option<f64> {
        self.more.as_ref()?.lagged_return
    }

    /// Whether a margin call found today may be acted on today: no deadline, or the open
    /// call was issued at least `cure_days` ago.
    #[inline]
    pub(crate) fn due(&self) -> bool {
        self.cure_days == 0
            || (self.call_since != NO_CALL
                && u64::from(self.today) >= u64::from(self.call_since) + u64::from(self.cure_days))
    }
}

/// A leveraged ETF whose shares margin holders may hold. Its shares are the pseudo-asset
/// `n_assets + k` (`k`: its place in [`Compiled::classes`]), priced at NAV per share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EtfClass {
    /// The fund's unit.
    pub unit: usize,
    /// Shares outstanding at the reference close.
    pub outstanding: f64,
}

/// A lender, compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LenderC {
    pub capital: f64,
    pub trigger: Option<f64>,
    pub tighten_by: f64,
    pub other_liabilities: f64,
    pub owed: f64,
}

/// An interbank claim between clearing nodes (holders `0..H`, then lenders `H..H+L`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimC {
    pub debtor: usize,
    pub creditor: usize,
    pub amount: f64,
}

/// The whole network, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Compiled<'a> {
    pub n_assets: usize,
    pub p0: Vec<f64>,
    /// The prices leveraged ETFs measure returns from: `p0`, or on a timeline's later
    /// days the previous close (they rebalance at every close).
    pub p_ref: Vec<f64>,
    pub laws: Vec<Law>,
    /// Rank of each asset in most-liquid-first order (0 = largest ADV; ties by index).
    pub rank: Vec<u32>,
    pub units: Vec<Unit<'a>>,
    /// Each unit's kind (what the traces' sums by kind read, without a pass over the
    /// units).
    pub kinds: Vec<KindTag>,
    pub lenders: Vec<LenderC>,
    pub claims: Vec<ClaimC>,
    /// Whether some rule can buy (symmetric leverage targeting, ETFs): damping applies.
    pub can_buy: bool,
    /// Units of dealers with positive net gamma somewhere below twice the reference
    /// price: they buy into a fall, so the price map is not monotone.
    pub long_gamma: Vec<usize>,
    /// Leveraged ETFs with shares outstanding, in holder order (pseudo-assets).
    pub classes: Vec<EtfClass>,
    /// GLT's exact accounting ([`crate::EngineConfig::glt_exact`]): leverage targets sell
    /// by starting weights and never default.
    pub glt_exact: bool,
    /// Holders whose forced selling is switched off (a marginal contribution's
    /// counterfactual): they keep their positions whatever their rule says.
    pub muted: Vec<bool>,
}

fn node(net: &Network, n: NodeRef) -> usize {
    match n {
        NodeRef::Holder(h) => h.get(),
        NodeRef::Lender(l) => net.holders().len() + l.get(),
        // The builder only accepts holders and lenders as claim parties.
        NodeRef::Asset(_) => usize::MAX,
    }
}

/// Split `total` accounts over `shares` so the counts add up exactly (largest remainder;
/// ties go to the earlier bucket).
pub(crate) fn apportion(total: u64, shares: &[f64]) -> Vec<u64> {
    let sum: f64 = shares.iter().sum();
    if shares.is_empty() || sum <= 0.0 {
        return vec![0; shares.len()];
    }
    let exact: Vec<f64> = shares.iter().map(|s| s / sum * total as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let assigned: u64 = counts.iter().sum();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order
        .iter()
        .cycle()
        .take(total.saturating_sub(assigned) as usize)
    {
        counts[i] += 1;
    }
    counts
}

impl<'a> Compiled<'a> {
    // One arm per holder kind; splitting it would scatter the kinds' compilation.
    #[allow(clippy::too_many_lines)]
    pub fn new(net: &'a Network) -> Self {
        let assets = net.assets();
        let n_assets = assets.len();
        let p0: Vec<f64> = assets.iter().map(|a| a.price).collect();
        let laws = assets.iter().map(Law::compile).collect();
        let mut by_liquidity: Vec<usize> = (0..n_assets).collect();
        by_liquidity.sort_by(|&a, &b| {
            assets[b]
                .adv_usd
                .total_cmp(&assets[a].adv_usd)
                .then(a.cmp(&b))
        });
        let mut rank = vec![0u32; n_assets];
        for (r, &a) in by_liquidity.iter().enumerate() {
            rank[a] = r as u32;
        }
        let n_holders = net.holders().len();
        let mut owed = vec![0.0; n_holders + net.lenders().len()];
        let claims: Vec<ClaimC> = net
            .claims()
            .iter()
            .map(|c| ClaimC {
                debtor: node(net, c.debtor),
                creditor: node(net, c.creditor),
                amount: c.amount,
            })
            .filter(|c| c.debtor < owed.len() && c.creditor < owed.len())
            .collect();
        for c in &claims {
            owed[c.debtor] += c.amount;
        }
        // Funds with shares outstanding are pseudo-assets `n_assets + k`.
        let mut class_of = vec![u32::MAX; n_holders];
        let mut classes = Vec::new();
        let mut price0 = p0.clone();
        // Only when some holder holds ETF shares: otherwise evaluation is as before.
        let held = net.has_etf_holdings();
        // The network's classes, in its order: book rows name them as `n_assets + k`.
        for &hx in net.etf_classes().iter().filter(|_| held) {
            if let (Some(so), Some(nps)) = (net.shares_outstanding(hx), net.nav_per_share(hx)) {
                class_of[hx.get()] = classes.len() as u32;
                classes.push(EtfClass {
                    unit: hx.get(),
                    outstanding: so,
                });
                price0.push(nps);
            }
        }
        let width = price0.len();
        // Each holder compiled on every core (a unit is large, and there is one per
        // holder); what the network as a whole needs to know is collected after.
        let (units, flags): (Vec<Unit<'a>>, Vec<u8>) = net
            .holders()
            .par_iter()
            .enumerate()
            .map(|(i, h)| {
                let mut flags = 0u8;
                let hx = delever_graph::HolderIx(i as u32);
                let margin = net.margin(hx).map(|m| Margin {
                    lender: m.lender.get(),
                    loan: m.terms.loan,
                    maintenance: m.terms.maintenance,
                    reset: m.terms.reset,
                });
                let (mut pos_assets, mut pos_shares): (Assets, Shares) =
                    net.holdings(hx).map(|(a, s)| (a.0, s)).unzip();
                // Synthetic positions (a dealer's hedge, a trend follower's futures) are
                // carried as if bought with borrowed cash, so that equity is the holder's
                // capital at the start and moves with the positions' P&L.
                let mut cash_adjust = 0.0;
                let mut etf_mult = etf_positions(
                    net,
                    net.etf_holdings(hx),
                    &class_of,
                    n_assets,
                    &mut pos_assets,
                    &mut pos_shares,
                );
                let rule = match &h.kind {
                    HolderKind::MarginAccount { cure_rate } => Rule::Account { cure: *cure_rate },
                    HolderKind::MarginCohort {
                        accounts,
                        buckets,
                        cure_rate,
                    } => {
                        let v0: f64 = pos_assets
                            .iter()
                            .zip(&pos_shares)
                            .map(|(&a, s)| s * price0[a as usize])
                            .sum();
                        let shares: Vec<f64> = buckets.iter().map(|b| b.share).collect();
                        let counts = apportion(*accounts, &shares);
                        Rule::Cohort {
                            cure: *cure_rate,
                            buckets: buckets
                                .iter()
                                .zip(counts)
                                .map(|(b, n)| Bucket {
                                    share: b.share,
                                    loan: b.ltv * b.share * v0,
                                    accounts: n,
                                })
                                .collect(),
                        }
                    }
                    HolderKind::AccountBook { book, cure_rate } => {
                        // Per-asset totals of the book, for valuation and loss accounting.
                        // (and per fund whose shares its rows hold: `width` covers them).
                        let mut totals = vec![0.0; width];
                        for (a, s) in book.assets.iter().zip(&book.shares) {
                            if let Some(t) = totals.get_mut(a.get()) {
                                *t += s;
                            }
                        }
                        if totals[n_assets..].iter().any(|&s| s > 0.0) {
                            etf_mult = Some(book_mult(net, &classes, n_assets));
                        }
                        pos_assets = (0..width as u32).collect();
                        pos_shares = totals.into();
                        Rule::Book {
                            cure: *cure_rate,
                            book: Box::new(BookView::new(book)),
                            cash_total: book.cash.iter().sum(),
                            loan_total: book.loan.iter().sum(),
                        }
                    }
                    HolderKind::LeveragedEtf { multiple, nav, .. } => {
                        let basket = net.basket(hx);
                        pos_assets = basket.iter().map(|(a, _)| a.0).collect();
                        pos_shares = basket
                            .iter()
                            .map(|(a, w)| multiple * nav * w / p0[a.get()])
                            .collect();
                        flags |= CAN_BUY;
                        Rule::Etf {
                            multiple: *multiple,
                            nav0: *nav,
                            weights: basket.iter().map(|(_, w)| *w).collect(),
                            carried: false,
                        }
                    }
                    HolderKind::LeveragedFund { rule } | HolderKind::Bank { rule } => {
                        if matches!(
                            rule,
                            BalanceSheetRule::LeverageTarget {
                                symmetric: true,
                                ..
                            }
                        ) {
                            flags |= CAN_BUY;
                        }
                        Rule::BalanceSheet { rule: *rule }
                    }
                    HolderKind::Fund { redemption_beta } => Rule::Fund {
                        beta: *redemption_beta,
                    },
                    HolderKind::OptionsDealer { options, gamma } => {
                        let c = crate::rules::dealer::compile(net.lines(hx), options, gamma, &p0);
                        pos_assets = c.assets.into();
                        pos_shares = c.hedge.into();
                        cash_adjust = c.financing;
                        // Every dealer buys into a rise (and a long-gamma one into a fall).
                        flags |= CAN_BUY;
                        if c.long_gamma {
                            flags |= LONG_GAMMA;
                        }
                        c.rule
                    }
                    HolderKind::VolTarget { rule } => {
                        flags |= CAN_BUY;
                        crate::rules::vol_target::compile(rule, &pos_shares)
                    }
                    HolderKind::TrendFollower {
                        lookbacks, markets, ..
                    } => {
                        // A trend follower buys when a rise turns a signal.
                        flags |= CAN_BUY;
                        let c =
                            crate::rules::trend::compile(net.lines(hx), lookbacks, markets, &p0);
                        pos_assets = c.assets.into();
                        pos_shares = c.position.into();
                        cash_adjust = c.financing;
                        c.rule
                    }
                };
                let liquidity = (h.sale_order == SaleOrder::MostLiquidFirst).then(|| {
                    let mut ord: Vec<u32> = (0..pos_assets.len() as u32).collect();
                    // ETF shares (pseudo-assets) are sold last.
                    ord.sort_by_key(|&k| {
                        rank.get(pos_assets[k as usize] as usize)
                            .copied()
                            .unwrap_or(u32::MAX)
                    });
                    ord
                });
                let unit = Unit {
                    kind: h.kind.tag(),
                    rule,
                    assets: pos_assets,
                    shares: pos_shares,
                    liquidity,
                    cash: h.cash - cash_adjust,
                    other_assets: h.other_assets,
                    other_liabilities: h.other_liabilities,
                    margin,
                    sale_order: h.sale_order,
                    cash_use: h.cash_use,
                    owed: owed[i],
                    etf_mult,
                    default_below: h.default_below_ratio,
                    day: DayTerms::instant(),
                };
                (unit, flags)
            })
            .unzip();
        let can_buy = flags.iter().any(|f| f & CAN_BUY != 0);
        let long_gamma: Vec<usize> = (flags.iter().enumerate())
            .filter(|(_, f)| *f & LONG_GAMMA != 0)
            .map(|(i, _)| i)
            .collect();
        let lenders = net
            .lenders()
            .iter()
            .enumerate()
            .map(|(l, x)| LenderC {
                capital: x.capital,
                trigger: x.tighten_trigger,
                tighten_by: x.tighten_by,
                other_liabilities: x.other_liabilities,
                owed: owed[n_holders + l],
            })
            .collect();
        Compiled {
            n_assets,
            p_ref: p0.clone(),
            p0,
            laws,
            rank,
            kinds: units.iter().map(|u| u.kind).collect(),
            units,
            lenders,
            claims,
            can_buy,
            long_gamma,
            classes,
            glt_exact: false,
            muted: Vec::new(),
        }
    }

    /// Why the price map is not monotone on a run (or day) that starts from `start`:
    /// long-gamma dealers, and vol-target funds some of whose assets start above the
    /// reference prices (a rise raises their volatility estimate, so they sell into it).
    pub fn non_monotone(&self, net: &Network, start: &[f64]) -> Vec<String> {
        let name = |i: usize| &net.holders()[i].id;
        let mut why: Vec<String> = self
            .long_gamma
            .iter()
            .map(|&i| {
                format!(
                    "options dealer `{}` is long gamma at some prices: it buys into a fall",
                    name(i)
                )
            })
            .collect();
        for (i, u) in self.units.iter().enumerate() {
            if matches!(u.rule, Rule::VolTarget { .. })
                && u.assets
                    .iter()
                    .any(|&a| start[a as usize] > self.p_ref[a as usize])
            {
                why.push(format!(
                    "vol-target fund `{}` holds an asset that rises: a rise raises its volatility estimate, so it sells into it",
                    name(i)
                ));
            }
        }
        why
    }

    /// The maintenance multiple per price index: 1 for each asset, then `|L|` per fund
    /// whose shares are held (FINRA's multiple-times-maintenance rule, for book rows).
    pub(crate) fn mult_by_index(&self) -> Vec<f64> {
        let mut m = vec![1.0; self.n_assets];
        m.extend(self.classes.iter().map(|k| match self.units[k.unit].rule {
            Rule::Etf { multiple, .. } => multiple.abs(),
            _ => 1.0,
        }));
        m
    }

    /// The width of the extended price vector: the assets, then one pseudo-asset per fund
    /// whose shares are held.
    pub(crate) fn width(&self) -> usize {
        self.n_assets + self.classes.len()
    }

    /// Whether asset index `a` is a leveraged ETF's shares (a pseudo-asset).
    #[inline]
    pub fn is_etf_share(&self, a: u32) -> bool {
        a as usize >= self.n_assets
    }

    /// Margin terms of a unit's link given the extra tightening on its lender (capped at 1;
    /// reset never below maintenance).
    pub fn terms(m: &Margin, extra: &[f64]) -> (f64, f64) {
        let d = extra.get(m.lender).copied().unwrap_or(0.0);
        let maint = (m.maintenance + d).min(1.0);
        let reset = (m.reset + d).min(1.0).max(maint);
        (maint, reset)
    }
}

/// A book's maintenance multiple per price index: 1 for assets, `|L|` per fund.
fn book_mult(net: &Network, classes: &[EtfClass], n_assets: usize) -> Vec<f64> {
    let mut m = vec![1.0; n_assets];
    m.extend(classes.iter().map(|k| match net.holders()[k.unit].kind {
        HolderKind::LeveragedEtf { multiple, .. } => multiple.abs(),
        _ => 1.0,
    }));
    m
}

/// Append a holder's ETF share holdings to its positions as pseudo-assets; their
/// maintenance multiples (`|L|`, 1 for the assets), or `None` when it holds none.
fn etf_positions(
    net: &Network,
    held: &[(delever_graph::HolderIx, f64)],
    class_of: &[u32],
    n_assets: usize,
    assets: &mut Assets,
    shares: &mut Shares,
) -> Option<Vec<f64>> {
    if held.is_empty() {
        return None;
    }
    let mut mult = vec![1.0; assets.len()];
    for &(f, s) in held {
        let k = class_of.get(f.get()).copied().unwrap_or(u32::MAX);
        let HolderKind::LeveragedEtf { multiple, .. } = net.holder(f).kind else {
            continue;
        };
        if k == u32::MAX {
            continue;
        }
        assets.push(n_assets as u32 + k);
        shares.push(s);
        mult.push(multiple.abs());
    }
    Some(mult)
}

#[cfg(test)]
mod tests {
    use super::apportion;

    #[test]
    fn apportion_adds_up() {
        assert_eq!(apportion(10, &[0.25, 0.25, 0.5]), vec![3, 2, 5]);
        assert_eq!(apportion(3, &[1.0 / 3.0; 3]), vec![1, 1, 1]);
        assert_eq!(apportion(1000, &[0.1234, 0.8766]).iter().sum::<u64>(), 1000);
        assert_eq!(apportion(0, &[0.5, 0.5]), vec![0, 0]);
    }
}
