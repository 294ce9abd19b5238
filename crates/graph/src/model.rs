//! Node and edge types of the network.
//!
//! All money is in US dollars, all rates and returns are fractions (`-0.10` is a 10% fall),
//! share counts are plain numbers of shares. Nothing here does IO.

/// Index of an asset in [`crate::Network::assets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetIx(pub u32);

/// Index of a holder in [`crate::Network::holders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HolderIx(pub u32);

/// Index of a lender in [`crate::Network::lenders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LenderIx(pub u32);

impl AssetIx {
    /// The index as a `usize`, for indexing vectors.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}
impl HolderIx {
    /// The index as a `usize`, for indexing vectors.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}
impl LenderIx {
    /// The index as a `usize`, for indexing vectors.
    pub fn get(self) -> usize {
        self.0 as usize
    }
}

/// Any node of the network: the weight of a petgraph node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRef {
    /// A tradable asset.
    Asset(AssetIx),
    /// A holder of assets (account, cohort, book, ETF, fund, bank).
    Holder(HolderIx),
    /// A lender (broker, prime broker).
    Lender(LenderIx),
}

/// An edge of the network: the weight of a petgraph edge.
#[derive(Debug, Clone, PartialEq)]
pub enum Edge {
    /// holder -> asset: the holder owns `shares` shares.
    Holds {
        /// Number of shares held (≥ 0).
        shares: f64,
    },
    /// leveraged ETF -> asset: the fund's basket gives the asset `weight` of its exposure.
    Tracks {
        /// Basket weight (the weights of one fund sum to 1).
        weight: f64,
    },
    /// options dealer or trend follower -> asset: the holder trades the asset
    /// synthetically (a dealer's delta hedge, a trend follower's futures position).
    Trades,
    /// lender -> borrower: a margin loan.
    Lends(MarginTerms),
    /// debtor -> creditor: an interbank claim of `amount` dollars.
    Owes {
        /// Face value of the obligation, USD.
        amount: f64,
    },
}

/// Terms of a margin loan (the margin link, lender -> borrower).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginTerms {
    /// Amount lent (the debit balance), USD. For cohorts this is the sum over LTV buckets.
    pub loan: f64,
    /// Maintenance margin m: the account is called when equity < m × holdings value.
    pub maintenance: f64,
    /// Reset margin: the equity fraction a called account is brought back to
    /// (usually the initial margin, or the maintenance itself). `maintenance ≤ reset ≤ 1`.
    pub reset: f64,
}

/// How an asset's price responds to net forced sales.
///
/// `Q` is the dollar value of the shares sold, valued at the pre-shock price, so that the
/// price map stays monotone in the quantity sold (see `docs/model.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ImpactLaw {
    /// Greenwood–Landier–Thesmar: `Δp/p = −ℓ·Q`, `ℓ` per dollar.
    Linear {
        /// Price impact per dollar sold (GLT's ℓ; 1e-13 per euro in their calibration).
        per_usd: f64,
    },
    /// Cifuentes–Shin–Ferrucci, Caccioli et al.: `p = p·exp(−α·x)`, `x` the fraction of
    /// shares outstanding sold.
    Exponential {
        /// α; −ln(0.9)/0.1 ≈ 1.0536 makes liquidating 10% of the shares cut the price 10%.
        alpha: f64,
    },
    /// Square-root law (Almgren et al.; Bouchaud): `Δp/p = −Y·σ·√(Q/ADV)`.
    SquareRoot {
        /// The prefactor Y, of order 0.5–1 (0.7 by default).
        y: f64,
    },
    /// Cont–Schaanning bounded impact with a floor: depth `D = c·ADV/σ·√τ`,
    /// `Ψ(Q) = (1 − f)(1 − exp(−Q/((1 − f)·D)))`, price `p·(1 − Ψ)` never below `f·p`.
    ContSchaanning {
        /// Depth constant c (0.4 in public code).
        c: f64,
        /// Liquidation horizon τ in days (20 in public code).
        tau_days: f64,
        /// Floor as a fraction of the pre-impact price (B/S; 0.5 in public code).
        floor: f64,
    },
}

impl ImpactLaw {
    /// Short lower-case name, as written in scenarios and reports.
    pub fn name(&self) -> &'static str {
        match self {
            ImpactLaw::Linear { .. } => "linear",
            ImpactLaw::Exponential { .. } => "exponential",
            ImpactLaw::SquareRoot { .. } => "square_root",
            ImpactLaw::ContSchaanning { .. } => "cont_schaanning",
        }
    }
}

/// A tradable asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// Unique id (ticker), e.g. `NVDA`.
    pub id: String,
    /// Pre-shock price, USD per share (> 0).
    pub price: f64,
    /// Shares outstanding (> 0); used by the exponential impact law.
    pub shares_outstanding: f64,
    /// Average daily volume, USD (> 0 when the law needs it).
    pub adv_usd: f64,
    /// Daily return volatility, a fraction (e.g. 0.025).
    pub daily_vol: f64,
    /// Market beta, used by beta-scaled shocks (default 1).
    pub beta: f64,
    /// Cash-flow duration in years, used by discount-rate shocks (default 0).
    pub duration: f64,
    /// Free-form tags (sector, theme) that shocks can select by.
    pub tags: Vec<String>,
    /// How forced sales move this asset's price.
    pub impact: ImpactLaw,
    /// How that impact splits, over days, between a permanent part and transient parts
    /// that decay (timeline mode only; by default all of it is permanent).
    pub decay: ImpactDecay,
}

/// One transient part of an asset's price impact: a share of the impact that decays
/// exponentially, overnight, with the given half-life (timeline mode).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransientImpact {
    /// Share of the impact, in (0, 1].
    pub share: f64,
    /// Half-life of this part, in trading days (> 0).
    pub half_life_days: f64,
}

/// How an asset's price impact splits over the days of a timeline run: a `permanent`
/// share that never decays, and transient parts that decay with their own half-lives (an
/// exponential kernel, or a sum of them for a slower, power-law-like decay). The shares
/// sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactDecay {
    /// Share of impact that never decays, in `[0, 1]`.
    pub permanent: f64,
    /// The transient parts.
    pub transient: Vec<TransientImpact>,
}

impl Default for ImpactDecay {
    /// All impact permanent (no rebound): the one-instant model's assumption.
    fn default() -> Self {
        ImpactDecay {
            permanent: 1.0,
            transient: Vec::new(),
        }
    }
}

impl ImpactDecay {
    /// Whether every part of the impact is permanent.
    pub fn is_permanent(&self) -> bool {
        self.transient.is_empty()
    }
}

/// When a holder acts, in timeline mode (ignored by the one-instant modes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timing {
    /// Trading days between a margin call and its deadline: a call issued at the close of
    /// day `d` and not met in cash is acted on (sales to restore margin) on day
    /// `d + cure_days`; 0 acts the same day. An account whose equity reaches zero is
    /// liquidated at once whatever the deadline (brokers may sell without notice).
    pub cure_days: u32,
    /// Most this holder sells of one asset in a day, as a fraction of the asset's ADV
    /// (`None`: no cap). The rest waits for the next day.
    pub participation: Option<f64>,
    /// Funds: trading days between a return and the redemptions it draws (0: the same
    /// day, as in the one-instant modes).
    pub redemption_lag_days: u32,
}

impl Timing {
    /// Trading days a retail margin call waits (accounts, cohorts, books): brokers' house
    /// calls run from "due immediately" to about five business days, and Regulation T's
    /// payment period is now T+3 (docs/model.md, section 9.2).
    pub const RETAIL_CURE_DAYS: u32 = 2;
    /// Trading days a prime broker's call waits (funds and banks on margin): calls are at
    /// least daily, variation margin is exchanged from the next business day.
    pub const PRIME_CURE_DAYS: u32 = 1;
    /// Trading days between a fund's return and the redemptions it draws: under forward
    /// pricing an investor who sees a day's loss redeems at the next day's NAV.
    pub const REDEMPTION_LAG_DAYS: u32 = 1;

    /// delever's defaults for a holder of `kind` (with a margin link when `on_margin`):
    /// what the scenario format applies when a holder states no timing. `Timing::default()`
    /// is the neutral timing of the one-instant model (everything at once, no cap).
    pub fn for_kind(kind: &HolderKind, on_margin: bool) -> Timing {
        let cure_days = match kind {
            HolderKind::MarginAccount { .. }
            | HolderKind::MarginCohort { .. }
            | HolderKind::AccountBook { .. } => Timing::RETAIL_CURE_DAYS,
            _ if on_margin => Timing::PRIME_CURE_DAYS,
            _ => 0,
        };
        Timing {
            cure_days,
            participation: None,
            redemption_lag_days: if matches!(kind, HolderKind::Fund { .. }) {
                Timing::REDEMPTION_LAG_DAYS
            } else {
                0
            },
        }
    }
}

/// How a lender closes out a borrower in default, in timeline mode (ignored by the
/// one-instant modes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Liquidation {
    /// Trading days this lender takes to act on a borrower: a borrower found in deficit
    /// (or in default on a due call, with `close_out`) is closed out from that many days
    /// later, and the calls it issues fall due after the longer of the borrower's
    /// `cure_days` and this delay (0: at once). Lenders that act earlier sell at better
    /// prices. Retail books and cohorts are liquidated by their broker at once whatever
    /// the delay.
    pub delay_days: u32,
    /// Most it sells of one asset in a day while closing out a borrower, as a fraction of
    /// the asset's ADV (`None`: no cap): blocks sold over several days.
    pub participation: Option<f64>,
    /// A borrower that does not meet a due call in cash is in default and the lender sells
    /// all of its collateral (prime brokers' close-out), rather than just enough to
    /// restore margin (a retail broker's practice).
    pub close_out: bool,
}

/// How a holder spreads a sale over its positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaleOrder {
    /// The same fraction of every position.
    #[default]
    ProRata,
    /// Most liquid first: positions in order of the asset's ADV, largest first.
    MostLiquidFirst,
}

/// How a deleveraging holder uses its cash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CashUse {
    /// Pay down liabilities with cash before selling anything.
    #[default]
    First,
    /// Treat cash as one more position, reduced pro rata with the rest (GLT's convention).
    ProRata,
    /// Keep cash; meet every need by selling.
    Never,
}

/// A bucket of a margin cohort's loan-to-value distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LtvBucket {
    /// Loan-to-value of the accounts in the bucket at pre-shock prices, in `[0, 1)`.
    pub ltv: f64,
    /// Share of the cohort's accounts (and holdings) in the bucket; a cohort's shares sum to 1.
    pub share: f64,
}

/// The rule a balance-sheet holder (bank, leveraged fund) follows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BalanceSheetRule {
    /// Never sells unless insolvent (then liquidates everything).
    Passive,
    /// Greenwood–Landier–Thesmar: keep assets/equity at `target` (sells `A − target·E`;
    /// buys back after gains when `symmetric`).
    LeverageTarget {
        /// Target leverage λ* = assets / equity.
        target: f64,
        /// Whether the holder also buys when leverage falls below target (GLT is symmetric).
        symmetric: bool,
    },
    /// Cont–Schaanning: nothing until assets/equity exceeds `max`, then back to `target`.
    Threshold {
        /// Leverage that triggers deleveraging, `λ_max`.
        max: f64,
        /// Leverage restored, `λ_b < λ_max`.
        target: f64,
    },
    /// Caccioli et al.: passive until equity ≤ 0, then sell everything.
    FailLiquidate,
    /// Cifuentes–Shin–Ferrucci: keep equity/assets ≥ `min_ratio`; if a full sale cannot
    /// restore it the holder defaults.
    CapitalRatio {
        /// Minimum capital ratio r*.
        min_ratio: f64,
    },
}

/// A large population of margin accounts held as a table rather than a node each.
///
/// Row `i` has cash `cash[i]`, loan `loan[i]` and the holdings
/// `assets[row_ptr[i]..row_ptr[i+1]]` / `shares[...]` (CSR form). All accounts in a book
/// borrow from the book's single lender on the book's margin terms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountBook {
    /// Cash per account, USD.
    pub cash: Vec<f64>,
    /// Loan (debit balance) per account, USD.
    pub loan: Vec<f64>,
    /// CSR row pointers, `len = accounts + 1`, starting at 0.
    pub row_ptr: Vec<u64>,
    /// Asset of each holding.
    pub assets: Vec<AssetIx>,
    /// Shares of each holding.
    pub shares: Vec<f64>,
}

impl AccountBook {
    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.cash.len()
    }
    /// Whether the book has no accounts.
    pub fn is_empty(&self) -> bool {
        self.cash.is_empty()
    }
    /// Total number of holdings rows.
    pub fn holdings(&self) -> usize {
        self.shares.len()
    }
    /// The holdings of account `i` as (asset, shares) pairs.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (AssetIx, f64)> + '_ {
        let (a, b) = (self.row_ptr[i] as usize, self.row_ptr[i + 1] as usize);
        self.assets[a..b]
            .iter()
            .copied()
            .zip(self.shares[a..b].iter().copied())
    }
    /// Whether any row holds an asset index `≥ n_assets` (a leveraged ETF's shares, or an
    /// index out of range). Checked on every core: a book of millions of rows is walked
    /// by several checks that have nothing to do when this is false.
    pub fn has_rows_past(&self, n_assets: usize) -> bool {
        use rayon::prelude::*;
        self.assets
            .par_chunks(BOOK_CHUNK)
            .any(|c| c.iter().any(|a| a.get() >= n_assets))
    }
}

/// Rows per task when a book's columns are checked on every core: large enough that a
/// task's overhead does not show, small enough to balance two to many cores.
pub(crate) const BOOK_CHUNK: usize = 1 << 16;

/// What kind of holder a node is, with the kind's own parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum HolderKind {
    /// One retail margin account.
    MarginAccount {
        /// Share of each call met with fresh cash rather than sales, in `[0, 1]`.
        cure_rate: f64,
    },
    /// Many accounts with the same portfolio mix and a distribution of loan-to-value.
    MarginCohort {
        /// Number of accounts the cohort stands for.
        accounts: u64,
        /// Loan-to-value buckets; shares sum to 1.
        buckets: Vec<LtvBucket>,
        /// Share of each call met with fresh cash rather than sales, in `[0, 1]`.
        cure_rate: f64,
    },
    /// A table of explicit accounts (millions, from a CSV book).
    AccountBook {
        /// The accounts. Shared, not copied: a sweep's variants of one scenario all point
        /// at the book loaded once (a 10-million-account book is about 1 GB).
        book: std::sync::Arc<AccountBook>,
        /// Share of each call met with fresh cash rather than sales, in `[0, 1]`.
        cure_rate: f64,
    },
    /// A daily-rebalanced leveraged or inverse ETF.
    LeveragedEtf {
        /// Leverage multiple L (2, 3, −1, −2, −3, …), non-zero.
        multiple: f64,
        /// Net asset value at the reference close, USD.
        nav: f64,
        /// Basket: (asset id, weight); weights sum to 1. Resolved to `Tracks` edges.
        basket: Vec<(String, f64)>,
    },
    /// A hedge fund on prime-broker margin.
    LeveragedFund {
        /// Its deleveraging rule (a margin link's maintenance applies on top).
        rule: BalanceSheetRule,
    },
    /// A bank in the textbook models.
    Bank {
        /// Its deleveraging rule.
        rule: BalanceSheetRule,
    },
    /// An unlevered fund facing redemptions.
    Fund {
        /// Outflow per unit of relative NAV loss (2.5 in INET Oxford's stress-test models).
        redemption_beta: f64,
    },
    /// An options dealer that keeps its option book delta-neutral: its hedge trades are
    /// the flow (short gamma sells into a fall, long gamma buys). Resolved to `Trades`
    /// edges, one per asset.
    OptionsDealer {
        /// Option lines priced by Black–Scholes.
        options: Vec<OptionLine>,
        /// Lines given only by their dollar gamma (the linear form).
        gamma: Vec<GammaLine>,
    },
    /// A volatility-targeting (or risk-parity) fund: exposure = target vol / realised vol.
    VolTarget {
        /// Its target, estimator and trading terms.
        rule: VolTargetRule,
    },
    /// A trend follower (CTA): synthetic positions following the sign of past returns
    /// over its lookbacks. Resolved to `Trades` edges, one per market.
    TrendFollower {
        /// Its lookbacks (trading days and weights in the signal).
        lookbacks: Vec<Lookback>,
        /// The markets it trades, each with its returns over the lookbacks.
        markets: Vec<TrendMarket>,
        /// Trading days between a close and the trade on its signal (timeline).
        lag_days: u32,
    },
}

/// A call or a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionRight {
    /// The right to buy.
    Call,
    /// The right to sell.
    Put,
}

/// One line of an options dealer's book.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionLine {
    /// The underlying asset's id.
    pub asset: String,
    /// Call or put.
    pub right: OptionRight,
    /// Strike, USD (> 0).
    pub strike: f64,
    /// Trading days to expiry at the reference close (> 0).
    pub expiry_days: f64,
    /// Implied volatility, annual (> 0), held fixed.
    pub implied_vol: f64,
    /// Underlying shares the line stands for (contracts × multiplier), signed by the
    /// dealer's side: positive long, negative short.
    pub shares: f64,
}

/// A dealer's gamma on one asset in the linear form: dollar gamma per 1% move.
#[derive(Debug, Clone, PartialEq)]
pub struct GammaLine {
    /// The asset's id.
    pub asset: String,
    /// Dollar gamma per 1% move at the reference price, signed as the dealer's gamma
    /// (negative: short gamma). The hedge trade for a return `r` is `−usd_per_pct·r/1%`.
    pub usd_per_pct: f64,
}

/// A volatility-targeting fund's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolTargetRule {
    /// Target volatility, annual (> 0).
    pub target_vol: f64,
    /// Its realised-volatility estimate at the reference close, annual (> 0).
    pub realised_vol: f64,
    /// Half-life of the EWMA of squared daily returns, trading days (> 0).
    pub half_life_days: f64,
    /// Cap on exposure / NAV (> 0).
    pub max_leverage: f64,
    /// No trade while the target exposure is within this fraction of the current one.
    pub band: f64,
    /// Trading days between a close and the trade on it (timeline; 0: the same day).
    pub lag_days: u32,
}

/// One lookback of a trend follower's signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lookback {
    /// Length, trading days (≥ 1).
    pub days: u32,
    /// Weight in the signal (> 0).
    pub weight: f64,
}

/// One market a trend follower trades.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendMarket {
    /// The asset's id.
    pub asset: String,
    /// Position at full signal, USD (> 0) at the reference price.
    pub max_usd: f64,
    /// The asset's return over each lookback up to the reference close (> −1), in the
    /// order of the lookbacks.
    pub past_returns: Vec<f64>,
}

/// The category of a holder, for summaries and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KindTag {
    /// [`HolderKind::MarginAccount`].
    MarginAccount,
    /// [`HolderKind::MarginCohort`].
    MarginCohort,
    /// [`HolderKind::AccountBook`].
    AccountBook,
    /// [`HolderKind::LeveragedEtf`].
    LeveragedEtf,
    /// [`HolderKind::LeveragedFund`].
    LeveragedFund,
    /// [`HolderKind::Bank`].
    Bank,
    /// [`HolderKind::Fund`].
    Fund,
    /// [`HolderKind::OptionsDealer`].
    OptionsDealer,
    /// [`HolderKind::VolTarget`].
    VolTarget,
    /// [`HolderKind::TrendFollower`].
    TrendFollower,
}

impl KindTag {
    /// All kinds, in report order.
    pub const ALL: [KindTag; 10] = [
        KindTag::MarginAccount,
        KindTag::MarginCohort,
        KindTag::AccountBook,
        KindTag::LeveragedEtf,
        KindTag::LeveragedFund,
        KindTag::Bank,
        KindTag::Fund,
        KindTag::OptionsDealer,
        KindTag::VolTarget,
        KindTag::TrendFollower,
    ];

    /// The snake-case name used in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            KindTag::MarginAccount => "margin_account",
            KindTag::MarginCohort => "margin_cohort",
            KindTag::AccountBook => "account_book",
            KindTag::LeveragedEtf => "leveraged_etf",
            KindTag::LeveragedFund => "leveraged_fund",
            KindTag::Bank => "bank",
            KindTag::Fund => "fund",
            KindTag::OptionsDealer => "options_dealer",
            KindTag::VolTarget => "vol_target",
            KindTag::TrendFollower => "trend_follower",
        }
    }
}

impl HolderKind {
    /// The kind's category.
    pub fn tag(&self) -> KindTag {
        match self {
            HolderKind::MarginAccount { .. } => KindTag::MarginAccount,
            HolderKind::MarginCohort { .. } => KindTag::MarginCohort,
            HolderKind::AccountBook { .. } => KindTag::AccountBook,
            HolderKind::LeveragedEtf { .. } => KindTag::LeveragedEtf,
            HolderKind::LeveragedFund { .. } => KindTag::LeveragedFund,
            HolderKind::Bank { .. } => KindTag::Bank,
            HolderKind::Fund { .. } => KindTag::Fund,
            HolderKind::OptionsDealer { .. } => KindTag::OptionsDealer,
            HolderKind::VolTarget { .. } => KindTag::VolTarget,
            HolderKind::TrendFollower { .. } => KindTag::TrendFollower,
        }
    }
}

/// A holder of assets: one node of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    /// Unique id.
    pub id: String,
    /// Kind and kind-specific parameters.
    pub kind: HolderKind,
    /// Cash, USD (≥ 0).
    pub cash: f64,
    /// Illiquid assets carried at book value, USD (≥ 0). Never sold.
    pub other_assets: f64,
    /// Liabilities other than margin loans and interbank claims (deposits, bonds), USD.
    pub other_liabilities: f64,
    /// How sales are spread over positions.
    pub sale_order: SaleOrder,
    /// How cash is used when deleveraging.
    pub cash_use: CashUse,
    /// The scenario states that this holder starts with equity ≤ 0.
    pub starts_insolvent: bool,
    /// Banks and leveraged funds: the holder is insolvent — it defaults and sells every
    /// tradable position — when its equity/assets ratio falls below this, as well as when
    /// its equity reaches 0 (`None`: only then). The leverage-ratio banks of Cont &
    /// Schaanning (2017) and Farmer et al. (2020) are insolvent below 3%. Must lie in
    /// (0, 1) and below the ratio at which the holder's rule starts selling.
    pub default_below_ratio: Option<f64>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// When it acts over the days of a timeline run.
    pub timing: Timing,
}

impl Holder {
    /// A holder of `kind` with no cash, other assets or liabilities and default policies.
    pub fn new(id: impl Into<String>, kind: HolderKind) -> Self {
        Holder {
            id: id.into(),
            kind,
            cash: 0.0,
            other_assets: 0.0,
            other_liabilities: 0.0,
            sale_order: SaleOrder::ProRata,
            cash_use: CashUse::First,
            starts_insolvent: false,
            default_below_ratio: None,
            tags: Vec::new(),
            timing: Timing::default(),
        }
    }
}

/// A broker or prime broker that lends against collateral.
#[derive(Debug, Clone, PartialEq)]
pub struct Lender {
    /// Unique id.
    pub id: String,
    /// Capital (equity) that absorbs borrower shortfalls, USD (> 0). Past it the lender
    /// defaults.
    pub capital: f64,
    /// Losses, as a fraction of capital, past which the lender tightens margin on all its
    /// borrowers (`None`: never).
    pub tighten_trigger: Option<f64>,
    /// How much maintenance (and reset) margin rises when the trigger is passed.
    pub tighten_by: f64,
    /// Liabilities other than interbank claims, USD (used only to size recoveries).
    pub other_liabilities: f64,
    /// How it closes out defaulted borrowers over the days of a timeline run.
    pub liquidation: Liquidation,
}

impl Lender {
    /// A lender with `capital` and no tightening.
    pub fn new(id: impl Into<String>, capital: f64) -> Self {
        Lender {
            id: id.into(),
            capital,
            tighten_trigger: None,
            tighten_by: 0.0,
            other_liabilities: 0.0,
            liquidation: Liquidation::default(),
        }
    }
}

/// Ids to values, kept in insertion order and found by hash.
///
/// A network of 100,000 holders has ids with long common prefixes (`bank-000123`): an
/// ordered map compares them byte by byte at every level of its tree, which made id
/// lookups a sizeable part of loading (issue 15). The hash is a fixed function of the
/// bytes (no per-process seed), and iteration is in insertion order, so nothing built
/// from an `IdMap` depends on the process: callers that show ids sorted sort them.
#[derive(Debug, Clone)]
pub struct IdMap<K, V> {
    entries: Vec<(K, V)>,
    /// Open addressing, linear probing: 0 for an empty slot, else the entry's index + 1
    /// in the low 32 bits and the upper 32 bits of its id's hash in the high 32. A probe
    /// compares the stored hash bits first and reads an entry (and its id's bytes, both
    /// cache misses in a large map) only when they match; growing needs no id read again.
    slots: Vec<u64>,
}

impl<K, V> Default for IdMap<K, V> {
    fn default() -> Self {
        IdMap {
            entries: Vec::new(),
            slots: Vec::new(),
        }
    }
}

/// A fixed 64-bit hash of an id's bytes, eight at a time (the multiply-rotate of rustc's
/// `FxHasher`, finished with a `SplitMix64` mix so that the bits index well).
fn id_hash(id: &str) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut h: u64 = id.len() as u64;
    let mut chunks = id.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(26) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The hash bits a slot keeps (and its home slot's, under the mask).
fn tag(id: &str) -> u64 {
    id_hash(id) >> 32
}

impl<K: AsRef<str>, V> IdMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` ids.
    pub fn with_capacity(n: usize) -> Self {
        let mut m = IdMap {
            entries: Vec::with_capacity(n),
            slots: Vec::new(),
        };
        m.grow_to(n);
        m
    }

    /// Room for `n` more ids.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        self.grow_to(self.entries.len() + n);
    }

    /// The number of ids.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map holds no id.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn grow_to(&mut self, n: usize) {
        let want = (n.max(4) * 2).next_power_of_two();
        if self.slots.len() >= want {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![0; want]);
        let mask = want as u64 - 1;
        // The old slots hold every entry with its hash bits: re-placed without reading an id.
        for x in old.into_iter().filter(|&x| x != 0) {
            let mut s = ((x >> 32) & mask) as usize;
            while self.slots[s] != 0 {
                s = (s + 1) & mask as usize;
            }
            self.slots[s] = x;
        }
    }

    /// The entry of `id` (`Ok`), or the empty slot where it would go (`Err`). The slots
    /// must not be empty.
    fn find(&self, id: &str) -> Result<usize, usize> {
        self.find_tagged(id, tag(id))
    }

    /// [`Self::find`] with the id's [`tag`] known.
    fn find_tagged(&self, id: &str, t: u64) -> Result<usize, usize> {
        let mask = self.slots.len() - 1;
        let mut s = t as usize & mask;
        loop {
            match self.slots[s] {
                0 => return Err(s),
                x if x >> 32 == t => {
                    let e = (x & u64::from(u32::MAX)) as usize - 1;
                    if self.entries[e].0.as_ref() == id {
                        return Ok(e);
                    }
                }
                _ => {}
            }
            s = (s + 1) & mask;
        }
    }

    /// The value of `id`.
    pub fn get(&self, id: &str) -> Option<&V> {
        if self.slots.is_empty() {
            return None;
        }
        self.find(id).ok().map(|e| &self.entries[e].1)
    }

    /// The value of `id`, to change.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        if self.slots.is_empty() {
            return None;
        }
        self.find(id).ok().map(|e| &mut self.entries[e].1)
    }

    /// Whether `id` is in the map.
    pub fn contains_key(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Add `id` with `value` unless it is there; `Err` with its value when it is (the
    /// first value is kept, as with `BTreeMap::entry(..).or_insert`).
    pub fn insert_new(&mut self, id: K, value: V) -> Result<(), &V> {
        self.grow_to(self.entries.len() + 1);
        let t = tag(id.as_ref());
        match self.find_tagged(id.as_ref(), t) {
            Ok(e) => Err(&self.entries[e].1),
            Err(s) => {
                // Entries never reach u32::MAX: the slots would not fit in memory first.
                self.slots[s] = (t << 32) | (self.entries.len() as u64 + 1);
                self.entries.push((id, value));
                Ok(())
            }
        }
    }

    /// Ids and values, in insertion order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Ids and values, sorted by id (as an ordered map would give them).
    pub fn sorted(&self) -> Vec<(&K, &V)> {
        let mut v: Vec<(&K, &V)> = self.entries().collect();
        v.sort_unstable_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        v
    }
}

#[cfg(test)]
mod id_map_tests {
    use super::IdMap;

    #[test]
    fn finds_every_id_across_growth_and_keeps_insertion_order() {
        let mut m: IdMap<String, usize> = IdMap::new();
        // Ids with a long common prefix, as a bank register's are; growth rehashes often.
        let ids: Vec<String> = (0..5_000).map(|i| format!("EBA-BANK-{i:06}")).collect();
        for (i, id) in ids.iter().enumerate() {
            assert!(m.insert_new(id.clone(), i).is_ok());
        }
        assert_eq!(m.len(), ids.len());
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(m.get(id), Some(&i));
        }
        assert_eq!(m.get("EBA-BANK-005000"), None);
        assert_eq!(m.get(""), None);
        let order: Vec<usize> = m.entries().map(|(_, v)| *v).collect();
        assert_eq!(order, (0..ids.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_duplicate_keeps_the_first_value() {
        let mut m: IdMap<&str, u32> = IdMap::with_capacity(2);
        assert!(m.insert_new("b", 1).is_ok());
        assert_eq!(m.insert_new("b", 2), Err(&1));
        assert!(m.insert_new("a", 3).is_ok());
        assert_eq!(m.get("b"), Some(&1));
        assert_eq!(m.len(), 2);
        if let Some(v) = m.get_mut("a") {
            *v = 4;
        }
        assert!(m.contains_key("a"));
        let sorted: Vec<(&str, u32)> = m.sorted().into_iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(sorted, vec![("a", 4), ("b", 1)]);
    }

    #[test]
    fn many_ids_in_a_small_start_grow_without_losing_any() {
        // Grown from empty, 2^17 ids: every growth re-places the slots by their kept hash
        // bits alone; a look-up must still find each id and refuse near misses.
        let mut m: IdMap<String, u32> = IdMap::new();
        let n = 1u32 << 17;
        for i in 0..n {
            assert!(m.insert_new(format!("SE43-{i}"), i).is_ok());
        }
        for i in (0..n).step_by(97) {
            assert_eq!(m.get(&format!("SE43-{i}")), Some(&i));
            assert_eq!(m.get(&format!("SE43-{i}x")), None);
        }
        assert_eq!(m.insert_new("SE43-5".into(), 0), Err(&5));
        assert_eq!(m.len(), n as usize);
    }

    #[test]
    fn an_empty_map_finds_nothing() {
        let m: IdMap<String, ()> = IdMap::default();
        assert!(m.is_empty());
        assert_eq!(m.get("x"), None);
        assert!(m.sorted().is_empty());
    }
}
