//! What a run is asked to do: the shocks and the engine settings.

use delever_graph::{AssetIx, HolderIx, LenderIx};

/// An exogenous event applied before the cascade.
///
/// Price shocks are returns (fractions, `-0.10` is a 10% fall). Several price shocks on one
/// asset add up (returns are summed, then the total is floored at −100%).
#[derive(Debug, Clone, PartialEq)]
pub enum Shock {
    /// One asset moves by `ret`.
    AssetReturn {
        /// The asset.
        asset: AssetIx,
        /// Return, a fraction.
        ret: f64,
    },
    /// Every asset carrying `tag` moves by `ret`.
    TagReturn {
        /// The tag assets are selected by.
        tag: String,
        /// Return, a fraction.
        ret: f64,
    },
    /// A market move scaled by each asset's beta: asset return = β × `ret`
    /// (a sentiment reversal). Restricted to assets with `tag` when given.
    Market {
        /// Market return, a fraction.
        ret: f64,
        /// Only assets with this tag, if given.
        tag: Option<String>,
    },
    /// A rise in the discount rate: asset return = −duration × `delta`
    /// (long-duration names fall most). Restricted to assets with `tag` when given.
    DiscountRate {
        /// Change in the discount rate, a fraction (0.01 = +100 bp).
        delta: f64,
        /// Only assets with this tag, if given.
        tag: Option<String>,
    },
    /// Shares the market must absorb on top of forced sales (a stock offering, an investor
    /// meeting a capital call), given in USD at the pre-shock price.
    ExogenousSale {
        /// The asset sold.
        asset: AssetIx,
        /// Amount sold, USD at the pre-shock price.
        usd: f64,
    },
    /// A lender (or every lender when `None`) raises maintenance and reset margin by `by`
    /// on all its borrowers (capped at 1).
    MarginTightening {
        /// The lender, or all.
        lender: Option<LenderIx>,
        /// Increase in maintenance margin, a fraction.
        by: f64,
    },
    /// Investors withdraw `fraction` of a fund's (or ETF's) starting NAV.
    Redemption {
        /// The fund.
        holder: HolderIx,
        /// Fraction of starting NAV redeemed, in `[0, 1]`.
        fraction: f64,
    },
    /// `shock` happens on trading day `day` of a timeline run (day 0 is the first; a
    /// shock given plainly happens on day 0). Returns on a later day move the asset from
    /// its level before that day. The one-instant modes accept only day 0.
    OnDay {
        /// The day, from 0.
        day: u32,
        /// The shock (not itself an `OnDay`).
        shock: Box<Shock>,
    },
}

impl Shock {
    /// The day the shock happens on and the shock itself (`OnDay` unwrapped).
    pub fn dated(&self) -> (u32, &Shock) {
        match self {
            Shock::OnDay { day, shock } => (*day, shock),
            other => (0, other),
        }
    }
}

/// How the cascade is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The fixed point of the memoryless price map `p ↦ p_s ⊙ g(S(p) + X)`: where the
    /// cascade ends when every sale settles at the final prices (the default).
    #[default]
    Equilibrium,
    /// Rounds of Cont & Schaanning (2017) and Farmer et al. (2020): every holder acts on
    /// the previous round's prices, the round's orders clear together, sales settle at the
    /// midpoint of the old and the new price, and balance sheets carry over to the next
    /// round. Path-dependent: who sells early loses less.
    Sequential,
    /// Day by day over [`EngineConfig::days`] trading days: each day's sales and prices are
    /// the equilibrium's fixed point on the balance sheets carried from the day before;
    /// shocks arrive on their days, part of the impact decays overnight, margin calls
    /// fall due after their deadlines, lenders close out defaulted borrowers at their
    /// pace, leveraged ETFs rebalance at every close and funds meet lagged redemptions.
    Timeline,
}

impl Mode {
    /// The name used in scenarios and reports (`equilibrium`, `sequential`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Equilibrium => "equilibrium",
            Mode::Sequential => "sequential",
            Mode::Timeline => "timeline",
        }
    }
}

/// When the sequential mode's sellers use their sale proceeds (docs/model.md section 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Settlement {
    /// Proceeds repay debt as the sale settles, in the round it was ordered: the margin
    /// loan, then other liabilities; the rest is cash (the default).
    #[default]
    AtSettlement,
    /// INET Oxford's `firesale_stresstest` timing (Farmer et al. 2020): a bank's or
    /// leveraged fund's proceeds are held as cash, counting in its total assets, until its
    /// next decision, where they repay debt first only if its rule then asks for a cut
    /// (it is below its buffer or target). A margin loan is still repaid at settlement.
    AtNextDecision,
}

impl Settlement {
    /// The name used in scenarios (`at_settlement`, `at_next_decision`).
    pub fn name(self) -> &'static str {
        match self {
            Settlement::AtSettlement => "at_settlement",
            Settlement::AtNextDecision => "at_next_decision",
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Most rounds of the price iteration before giving up with
    /// [`crate::Termination::MaxRounds`]. `1` gives the one-round (GLT) answer.
    pub max_rounds: u32,
    /// Converged when no price moves by more than `tolerance` (relative) in a round.
    pub tolerance: f64,
    /// Weight on the new iterate, in `(0, 1]`; `1` means no damping. Used only when a rule
    /// can buy (the map is then not monotone); monotone runs never need it.
    pub damping: f64,
    /// Also iterate from the all-liquidated prices to the least fixed point, and report
    /// whether the two differ (several equilibria).
    pub least_fixed_point: bool,
    /// Equilibrium (the fixed point) or sequential rounds. In sequential mode
    /// `max_rounds` bounds the rounds, `tolerance` is the smallest order a holder places
    /// (relative to its tradable holdings) and `damping` and `least_fixed_point` are
    /// ignored.
    pub mode: Mode,
    /// Trading days of a [`Mode::Timeline`] run (≥ 1; the other modes are one instant and
    /// ignore it). `max_rounds`, `tolerance`, `damping` and `least_fixed_point` apply to
    /// each day's fixed point.
    pub days: u32,
    /// Greenwood–Landier–Thesmar's linear accounting for a one-round run of a GLT system
    /// ([`crate::glt::exact_refusals`] lists what else is refused): returns add
    /// (`p = p0·(1 + F − ℓ·Q)`), each bank's sale is spread by its starting portfolio
    /// weights, and a bank the shock makes insolvent keeps trading as the linear algebra
    /// says. Needs `max_rounds = 1` in the equilibrium mode; the least fixed point is not
    /// sought.
    pub glt_exact: bool,
    /// Sequential mode: when sale proceeds repay debt ([`Settlement`]). The other modes
    /// settle every sale at once and accept only the default.
    pub settlement: Settlement,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_rounds: 1000,
            tolerance: 1e-10,
            damping: 1.0,
            least_fixed_point: true,
            mode: Mode::Equilibrium,
            days: 1,
            glt_exact: false,
            settlement: Settlement::AtSettlement,
        }
    }
}
