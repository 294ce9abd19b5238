//! `delever explain`: why one holder sold — its balance sheet each round, the rule that
//! fired and the numbers in it — as a table with a narrative, or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use delever_engine::explain::{Explanation, MarginTest, MarginVerdict, Sheet, Test};
use delever_engine::{Outcome, Status};
use delever_graph::{BalanceSheetRule, CashUse, HolderKind, KindTag, Network};
use serde::Serialize;

use crate::run::RunMeta;
use crate::text::{Table, usd};

/// Rounds the balance-sheet table shows in full; longer runs show the first
/// `HEAD_ROUNDS` and the last `TAIL_ROUNDS`.
const MAX_TABLE_ROUNDS: usize = 16;
const HEAD_ROUNDS: usize = 8;
const TAIL_ROUNDS: usize = 4;
/// Rounds whose tests the narrative spells out (besides the last).
const MAX_WHY: usize = 4;

/// A fraction as the rules write it: `0.30`, `0.355`.
fn frac(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}00")
    } else if s.len() - s.find('.').unwrap_or(0) == 2 {
        format!("{s}0")
    } else {
        s.to_owned()
    }
}

/// A percentage with one decimal.
fn pc(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A multiple with two decimals.
fn times(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "inf".to_owned()
    }
}

/// One test, explained (JSON `rounds[].tests[]`).
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    /// Which test: `margin`, `account_book`, `etf_rebalance`, `insolvent`, `leverage_target`,
    /// `threshold`, `capital_ratio`, `fail_liquidate`, `passive`, `redemption`, `cash`.
    pub test: &'static str,
    /// Whether it asked for a trade (or a default).
    pub fired: bool,
    /// The test with its numbers, in words and formulas.
    pub text: String,
    /// The numbers, by name.
    pub numbers: BTreeMap<&'static str, f64>,
}

/// The balance sheet of one round (JSON `rounds[].sheet`).
// Every field is in USD and says so, as every key of the JSON reports does.
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Serialize)]
pub struct SheetReport {
    /// Holdings value `V`, USD (ETFs: exposure).
    pub holdings_usd: f64,
    /// Cash, USD.
    pub cash_usd: f64,
    /// Other assets, USD.
    pub other_assets_usd: f64,
    /// Interbank payments received, USD.
    pub interbank_received_usd: f64,
    /// Total assets `A`, USD.
    pub assets_usd: f64,
    /// Margin loan, USD.
    pub margin_loan_usd: f64,
    /// Other liabilities, USD.
    pub other_liabilities_usd: f64,
    /// Interbank owed, USD.
    pub interbank_owed_usd: f64,
    /// Equity `E`, USD (ETFs: NAV).
    pub equity_usd: f64,
}

impl From<&Sheet> for SheetReport {
    fn from(s: &Sheet) -> Self {
        SheetReport {
            holdings_usd: s.value,
            cash_usd: s.cash,
            other_assets_usd: s.other_assets,
            interbank_received_usd: s.interbank_received,
            assets_usd: s.assets,
            margin_loan_usd: s.margin_loan,
            other_liabilities_usd: s.other_liabilities,
            interbank_owed_usd: s.interbank_owed,
            equity_usd: s.equity,
        }
    }
}

/// One round (JSON `rounds[]`).
#[derive(Debug, Clone, Serialize)]
pub struct ExplainRoundReport {
    /// Round number, from 1.
    pub round: u32,
    /// The price index at the prices this round decided at (1 = pre-shock).
    pub price_index: f64,
    /// Balance sheet at those prices.
    pub sheet: SheetReport,
    /// The tests its rule made.
    pub tests: Vec<TestReport>,
    /// The sale decided (cumulative), USD at the decision prices.
    pub sale_usd: f64,
    /// Cash deposited to meet calls, USD.
    pub deposit_usd: f64,
    /// Status after the decision.
    pub status: &'static str,
    /// Accounts called.
    pub calls: u64,
    /// Accounts defaulted.
    pub defaults: u64,
    /// Whether its margin lender had tightened margin.
    pub lender_tightened: bool,
    /// Its leveraged ETF share positions; absent without.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub etf_positions: Vec<EtfPositionReport>,
}

/// A position in a leveraged ETF's shares in one round (JSON `rounds[].etf_positions[]`).
#[derive(Debug, Clone, Serialize)]
pub struct EtfPositionReport {
    /// The fund's id.
    pub fund: String,
    /// Shares held before the cascade.
    pub shares: f64,
    /// Cumulative shares sold (redeemed by the fund).
    pub sold_shares: f64,
    /// NAV per share at the round's prices, USD.
    pub nav_per_share: f64,
    /// Maintenance requirement on the position, `min(1, m·|L|)` (FINRA Rule 4210,
    /// Regulatory Notice 09-53).
    pub maintenance: f64,
}

/// The end of the run for this holder (JSON `result`).
#[derive(Debug, Clone, Serialize)]
pub struct ExplainResult {
    /// Final status.
    pub status: &'static str,
    /// Net sales at final prices, USD.
    pub sales_usd: f64,
    /// Equity before the shock, USD.
    pub equity_before_usd: f64,
    /// Equity at the fixed point, USD.
    pub equity_after_usd: f64,
    /// Loss passed to its lender and creditors, USD:
    /// `borrower_shortfall_usd + interbank_unpaid_usd`.
    pub lender_loss_usd: f64,
    /// What it could not repay its margin lender, USD.
    pub borrower_shortfall_usd: f64,
    /// What it left unpaid of its interbank debts, USD.
    pub interbank_unpaid_usd: f64,
}

impl ExplainResult {
    /// The losses it passed on, in words, named as the run report names them.
    pub(crate) fn losses_text(&self) -> String {
        format!(
            "borrower shortfall {}, interbank unpaid {}",
            usd(self.borrower_shortfall_usd),
            usd(self.interbank_unpaid_usd)
        )
    }
}

/// Why one holder sold (`delever explain`). Field order is the JSON key order.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainReport {
    /// Scenario name.
    pub scenario: String,
    /// Holder id.
    pub holder: String,
    /// Holder kind.
    pub kind: &'static str,
    /// Its margin lender's id, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lender: Option<String>,
    /// The rule it follows, in words.
    pub rule: String,
    /// How the run ended for it.
    pub result: ExplainResult,
    /// Round by round.
    pub rounds: Vec<ExplainRoundReport>,
    /// How the whole run ended.
    pub termination: &'static str,
}

/// The rule a holder follows, in words.
pub(crate) fn rule_text(kind: &HolderKind, has_margin: bool) -> String {
    let margin = "margin call (Reg T / FINRA 4210): nothing while equity E \u{2265} m\u{00b7}V; a call when \
                  0 < E < m\u{00b7}V, met by selling y = V \u{2212} E/m_r (the proceeds repay the loan), a share \
                  \u{03c6} of it met with cash instead; E \u{2264} 0 liquidates everything";
    let overlay = if has_margin {
        "; it also obeys its prime broker's margin call and sells the larger of the two"
    } else {
        ""
    };
    match kind {
        HolderKind::MarginAccount { .. } => margin.to_owned(),
        HolderKind::MarginCohort { .. } => format!(
            "{margin} \u{2014} applied to each loan-to-value bucket as a representative account"
        ),
        HolderKind::AccountBook { .. } => {
            format!("{margin} \u{2014} applied to every account of the book")
        }
        HolderKind::LeveragedEtf { multiple, .. } => format!(
            "leveraged ETF daily rebalance (Cheng & Madhavan 2009), L = {multiple}: keeping exposure at \
             L\u{00d7}NAV after a basket return r needs a trade of L\u{00b7}((L\u{2212}1)\u{00b7}r \u{2212} f)\u{00b7}NAV0 \
             (f: redemptions), with the move for bull and bear funds alike"
        ),
        HolderKind::OptionsDealer { .. } => "options dealer's delta hedge: holds \u{2212}\u{03a3} q\u{00b7}\u{0394}(S) \
             shares (Black\u{2013}Scholes) less \u{0393}\u{00b7}(S \u{2212} S\u{2080}) for lines given by dollar gamma, \
             and trades to it at every price: short gamma sells into a fall, long gamma buys"
            .to_owned(),
        HolderKind::VolTarget { rule } => format!(
            "volatility targeting: exposure w = min(L_max, \u{03c3}*/\u{03c3}\u{0302}) with \u{03c3}* = {}, L_max = {}, \
             \u{03c3}\u{0302} an EWMA of squared daily returns (half-life {} days); the target is the starting \
             position times (w/w\u{2080})\u{00b7}(NAV/NAV\u{2080}), traded when it moves by more than {} (lag {} days \
             on a timeline)",
            pc(rule.target_vol),
            times(rule.max_leverage),
            rule.half_life_days,
            pc(rule.band),
            rule.lag_days
        ),
        HolderKind::TrendFollower {
            lookbacks, lag_days, ..
        } => format!(
            "trend following (time-series momentum, Moskowitz, Ooi & Pedersen 2012): each market's \
             position is its full size times the weighted mean of sign(return over the lookback), \
             lookbacks {} trading days (lag {lag_days} days on a timeline)",
            lookbacks
                .iter()
                .map(|l| l.days.to_string())
                .collect::<Vec<_>>()
                .join("/")
        ),
        HolderKind::LeveragedFund { rule } | HolderKind::Bank { rule } => {
            let r = match rule {
                BalanceSheetRule::Passive => "passive: sells only when insolvent".to_owned(),
                BalanceSheetRule::LeverageTarget { target, symmetric } => format!(
                    "leverage targeting (Greenwood, Landier & Thesmar 2015): keeps A/E at \u{03bb}* = {}, \
                     selling R = A \u{2212} \u{03bb}*\u{00b7}E{}",
                    times(*target),
                    if *symmetric { " and buying back after gains" } else { "" }
                ),
                BalanceSheetRule::Threshold { max, target } => format!(
                    "leverage threshold (Cont & Schaanning 2017): nothing until A/E > \u{03bb}_max = {}, \
                     then back to \u{03bb}_b = {}: R = A \u{2212} \u{03bb}_b\u{00b7}E",
                    times(*max),
                    times(*target)
                ),
                BalanceSheetRule::FailLiquidate => {
                    "fail and liquidate (Caccioli et al. 2014): passive until E \u{2264} 0, then sells everything"
                        .to_owned()
                }
                BalanceSheetRule::CapitalRatio { min_ratio } => format!(
                    "capital ratio (Cifuentes, Shin & Ferrucci 2005): keeps E/A \u{2265} r* = {}, selling \
                     R = A \u{2212} E/r*; closed if even a full sale cannot restore it",
                    pc(*min_ratio)
                ),
            };
            format!("{r}; the cut R is turned into sales by its cash policy{overlay}")
        }
        HolderKind::Fund { redemption_beta } => format!(
            "redemptions (INET Oxford stress tests): outflow = \u{03b2}\u{00b7}max(0, \u{2212}R)\u{00b7}NAV0 + \
             f\u{00b7}NAV0 with \u{03b2} = {redemption_beta} and R the NAV return, met from cash first (or as its cash \
             policy says), then by selling{overlay}"
        ),
    }
}

fn margin_report(m: &MarginTest) -> TestReport {
    let mut numbers = BTreeMap::new();
    numbers.insert("holdings_usd", m.value);
    numbers.insert("equity_usd", m.equity);
    numbers.insert("loan_usd", m.loan);
    numbers.insert("maintenance", m.maintenance);
    numbers.insert("reset", m.reset);
    numbers.insert("cure_rate", m.cure_rate);
    numbers.insert("accounts", m.accounts as f64);
    let who = match m.bucket {
        Some(b) => format!(
            "bucket {} ({} account{}, loan {}): ",
            b + 1,
            m.accounts,
            if m.accounts == 1 { "" } else { "s" },
            usd(m.loan)
        ),
        None => String::new(),
    };
    let mv = m.maintenance * m.value;
    let (fired, text) = match m.verdict {
        MarginVerdict::Clear => (
            false,
            format!(
                "{who}E = {} \u{2265} m\u{00b7}V = {} \u{00d7} {} = {} \u{2192} no margin call",
                usd(m.equity),
                frac(m.maintenance),
                usd(m.value),
                usd(mv)
            ),
        ),
        MarginVerdict::Called {
            required,
            deposit,
            sale,
        } => {
            numbers.insert("required_usd", required);
            numbers.insert("deposit_usd", deposit);
            numbers.insert("sale_usd", sale);
            let mut t = format!(
                "{who}E = {} < m\u{00b7}V = {} \u{00d7} {} = {} \u{2192} margin call: sell y = V \u{2212} E/m_r = {} \u{2212} {}/{} = {}",
                usd(m.equity),
                frac(m.maintenance),
                usd(m.value),
                usd(mv),
                usd(m.value),
                usd(m.equity),
                frac(m.reset),
                usd(required)
            );
            if m.cure_rate > 0.0 {
                let _ = write!(
                    t,
                    "; \u{03c6} = {} of the call is met with cash ({} deposited) \u{2192} sells (1 \u{2212} \u{03c6})\u{00b7}y = {}",
                    pc(m.cure_rate),
                    usd(deposit),
                    usd(sale)
                );
            }
            (true, t)
        }
        MarginVerdict::Default { shortfall } => {
            numbers.insert("shortfall_usd", shortfall);
            (
                true,
                format!(
                    "{who}E = {} \u{2264} 0 \u{2192} default: liquidate all {} of holdings; the lender bears max(0, loan \u{2212} V \u{2212} cash) = {}",
                    usd(m.equity),
                    usd(m.value),
                    usd(shortfall)
                ),
            )
        }
    };
    TestReport {
        test: "margin",
        fired,
        text,
        numbers,
    }
}

#[allow(clippy::too_many_lines)]
fn test_report(t: &Test, asset_id: &dyn Fn(delever_graph::AssetIx) -> String) -> TestReport {
    let mut numbers = BTreeMap::new();
    let (test, fired, text) = match *t {
        Test::Margin(ref m) => return margin_report(m),
        Test::Book {
            accounts,
            maintenance,
            reset,
            cure_rate,
            calls,
            defaults,
            sale,
            deposit,
        } => {
            numbers.insert("accounts", accounts as f64);
            numbers.insert("maintenance", maintenance);
            numbers.insert("reset", reset);
            numbers.insert("cure_rate", cure_rate);
            numbers.insert("calls", calls as f64);
            numbers.insert("defaults", defaults as f64);
            numbers.insert("sale_usd", sale);
            numbers.insert("deposit_usd", deposit);
            (
                "account_book",
                calls > 0,
                format!(
                    "{accounts} accounts tested at m = {}, m_r = {}: {calls} called (E < m\u{00b7}V), {defaults} \
                     defaulted (E \u{2264} 0) \u{2192} they sell {} and deposit {}",
                    frac(maintenance),
                    frac(reset),
                    usd(sale),
                    usd(deposit)
                ),
            )
        }
        Test::EtfRebalance {
            multiple,
            nav0,
            basket_return,
            bounded_return,
            redemption,
            nav,
            trade,
            wiped,
        } => {
            numbers.insert("multiple", multiple);
            numbers.insert("nav0_usd", nav0);
            numbers.insert("basket_return", basket_return);
            numbers.insert("bounded_return", bounded_return);
            numbers.insert("redemption", redemption);
            numbers.insert("nav_usd", nav);
            numbers.insert("trade_usd", trade);
            let wiped_note = if wiped {
                format!(" (NAV wiped out: r is held at {})", pc(bounded_return))
            } else {
                String::new()
            };
            let mut s = if redemption == 0.0 {
                format!(
                    "basket return r = {}{wiped_note} \u{2192} trade = L\u{00b7}(L\u{2212}1)\u{00b7}r\u{00b7}NAV0 = {} \u{00d7} {} \u{00d7} ({}) \u{00d7} {} = {}",
                    pc(basket_return),
                    multiple,
                    multiple - 1.0,
                    pc(bounded_return),
                    usd(nav0),
                    usd(trade)
                )
            } else {
                format!(
                    "basket return r = {}{wiped_note}, redemptions f = {} \u{2192} trade = L\u{00b7}((L\u{2212}1)\u{00b7}r \u{2212} f)\u{00b7}NAV0 = {} \u{00d7} ({} \u{00d7} ({}) \u{2212} {}) \u{00d7} {} = {}",
                    pc(basket_return),
                    pc(redemption),
                    multiple,
                    multiple - 1.0,
                    pc(bounded_return),
                    pc(redemption),
                    usd(nav0),
                    usd(trade)
                )
            };
            if trade < 0.0 {
                let _ = write!(s, " \u{2192} sells {}", usd(-trade));
            } else if trade > 0.0 {
                let _ = write!(s, " \u{2192} buys {}", usd(trade));
            }
            let _ = write!(s, "; NAV = {}", usd(nav));
            ("etf_rebalance", trade != 0.0, s)
        }
        Test::DealerHedge {
            asset,
            spot,
            gamma,
            held,
            target,
        } => {
            numbers.insert("spot_usd", spot);
            numbers.insert("gamma_shares_per_usd", gamma);
            numbers.insert("held_shares", held);
            numbers.insert("target_shares", target);
            let sell = held - target;
            (
                "dealer_hedge",
                sell != 0.0,
                format!(
                    "{}: at S = {} the book's gamma is {:.6e} shares per $1 ({}); hedge held {:.6e} \
                     shares, wanted {:.6e} \u{2192} {} {:.6e} shares",
                    asset_id(asset),
                    usd(spot),
                    gamma,
                    if gamma < 0.0 {
                        "short gamma"
                    } else {
                        "long gamma"
                    },
                    held,
                    target,
                    if sell >= 0.0 { "sells" } else { "buys" },
                    sell.abs()
                ),
            )
        }
        Test::VolTarget {
            vol_before,
            vol,
            day_return,
            exposure0,
            exposure,
            ratio,
            band,
            sale,
        } => {
            numbers.insert("vol_before", vol_before);
            numbers.insert("vol", vol);
            numbers.insert("day_return", day_return);
            numbers.insert("exposure0", exposure0);
            numbers.insert("exposure", exposure);
            numbers.insert("ratio", ratio);
            numbers.insert("band", band);
            numbers.insert("sale_usd", sale);
            (
                "vol_target",
                sale != 0.0,
                format!(
                    "day return {} \u{2192} realised vol {} (from {}) \u{2192} exposure {} of NAV (from {}); \
                     target = start \u{00d7} (w/w\u{2080})\u{00b7}(NAV/NAV\u{2080}) = {} of the starting position (band {}) \u{2192} trades {}",
                    pc(day_return),
                    pc(vol),
                    pc(vol_before),
                    times(exposure),
                    times(exposure0),
                    times(ratio),
                    pc(band),
                    usd(sale)
                ),
            )
        }
        Test::TrendSignal {
            asset,
            spot,
            signal,
            held,
            target,
        } => {
            numbers.insert("spot_usd", spot);
            numbers.insert("signal", signal);
            numbers.insert("held_shares", held);
            numbers.insert("target_shares", target);
            (
                "trend_signal",
                held != target,
                format!(
                    "{}: at S = {} the signal is {signal:.4} \u{2192} position {target:.6e} shares (held {held:.6e})",
                    asset_id(asset),
                    usd(spot),
                ),
            )
        }
        Test::Insolvent {
            equity,
            value,
            below_ratio,
        } => {
            numbers.insert("equity_usd", equity);
            numbers.insert("holdings_usd", value);
            let why = match below_ratio {
                Some(d) => {
                    numbers.insert("default_below_ratio", d);
                    format!("E = {} < {:.2}% of assets", usd(equity), d * 100.0)
                }
                None => format!("E = {} \u{2264} 0", usd(equity)),
            };
            (
                "insolvent",
                true,
                format!("{why} \u{2192} default: sells everything ({})", usd(value)),
            )
        }
        Test::BalanceSheet {
            rule,
            assets,
            equity,
            cut,
            fired,
            closed,
        } => {
            numbers.insert("assets_usd", assets);
            numbers.insert("equity_usd", equity);
            numbers.insert("cut_usd", cut);
            let lev = assets / equity;
            numbers.insert("leverage", lev);
            match rule {
                BalanceSheetRule::LeverageTarget { target, .. } => {
                    numbers.insert("target", target);
                    let text = if fired {
                        format!(
                            "A/E = {} / {} = {} {} \u{03bb}* = {} \u{2192} R = A \u{2212} \u{03bb}*\u{00b7}E = {} \u{2212} {} \u{00d7} {} = {}{}",
                            usd(assets),
                            usd(equity),
                            times(lev),
                            if cut > 0.0 { ">" } else { "<" },
                            times(target),
                            usd(assets),
                            times(target),
                            usd(equity),
                            usd(cut),
                            if cut < 0.0 { " (buys back)" } else { "" }
                        )
                    } else {
                        format!(
                            "A/E = {} \u{2264} \u{03bb}* = {} \u{2192} nothing to sell",
                            times(lev),
                            times(target)
                        )
                    };
                    ("leverage_target", fired, text)
                }
                BalanceSheetRule::Threshold { max, target } => {
                    numbers.insert("max", max);
                    numbers.insert("target", target);
                    let text = if fired {
                        format!(
                            "A/E = {} / {} = {} > \u{03bb}_max = {} \u{2192} back to \u{03bb}_b = {}: R = A \u{2212} \u{03bb}_b\u{00b7}E = {}",
                            usd(assets),
                            usd(equity),
                            times(lev),
                            times(max),
                            times(target),
                            usd(cut)
                        )
                    } else {
                        format!(
                            "A/E = {} \u{2264} \u{03bb}_max = {} \u{2192} nothing to sell",
                            times(lev),
                            times(max)
                        )
                    };
                    ("threshold", fired, text)
                }
                BalanceSheetRule::CapitalRatio { min_ratio } => {
                    numbers.insert("min_ratio", min_ratio);
                    let ratio = equity / assets;
                    let text = if closed {
                        format!(
                            "E/A = {} < r* = {}, and R = A \u{2212} E/r* = {} is more than it can sell \u{2192} closed: defaults and liquidates",
                            pc(ratio),
                            pc(min_ratio),
                            usd(cut)
                        )
                    } else if fired {
                        format!(
                            "E/A = {} / {} = {} < r* = {} \u{2192} R = A \u{2212} E/r* = {} \u{2212} {}/{} = {}",
                            usd(equity),
                            usd(assets),
                            pc(ratio),
                            pc(min_ratio),
                            usd(assets),
                            usd(equity),
                            frac(min_ratio),
                            usd(cut)
                        )
                    } else {
                        format!(
                            "E/A = {} \u{2265} r* = {} \u{2192} nothing to sell",
                            pc(ratio),
                            pc(min_ratio)
                        )
                    };
                    ("capital_ratio", fired || closed, text)
                }
                BalanceSheetRule::FailLiquidate => (
                    "fail_liquidate",
                    false,
                    format!(
                        "E = {} > 0 \u{2192} nothing (it fails only at E \u{2264} 0)",
                        usd(equity)
                    ),
                ),
                BalanceSheetRule::Passive => (
                    "passive",
                    false,
                    format!("E = {} > 0 \u{2192} nothing (passive)", usd(equity)),
                ),
            }
        }
        Test::Redemption {
            nav0,
            nav,
            nav_return,
            beta,
            shock_fraction,
            outflow,
        } => {
            numbers.insert("nav0_usd", nav0);
            numbers.insert("nav_usd", nav);
            numbers.insert("nav_return", nav_return);
            numbers.insert("beta", beta);
            numbers.insert("shock_fraction", shock_fraction);
            numbers.insert("outflow_usd", outflow);
            (
                "redemption",
                outflow > 0.0,
                format!(
                    "NAV return R = {} / {} \u{2212} 1 = {} \u{2192} outflow = \u{03b2}\u{00b7}max(0, \u{2212}R)\u{00b7}NAV0 + f\u{00b7}NAV0 = {} \u{00d7} {} \u{00d7} {} + {} \u{00d7} {} = {}",
                    usd(nav),
                    usd(nav0),
                    pc(nav_return),
                    beta,
                    pc((-nav_return).max(0.0)),
                    usd(nav0),
                    pc(shock_fraction),
                    usd(nav0),
                    usd(outflow)
                ),
            )
        }
        Test::Cash {
            cut,
            cash,
            value,
            cash_use,
            sale,
        } => {
            numbers.insert("cut_usd", cut);
            numbers.insert("cash_usd", cash);
            numbers.insert("holdings_usd", value);
            numbers.insert("sale_usd", sale);
            let text = match cash_use {
                CashUse::First if cut > 0.0 => format!(
                    "cash first: y = max(0, R \u{2212} cash) = max(0, {} \u{2212} {}) = {}",
                    usd(cut),
                    usd(cash),
                    usd(sale)
                ),
                CashUse::ProRata => format!(
                    "cash pro rata: y = R\u{00b7}V/(V + cash) = {} \u{00d7} {}/({} + {}) = {}",
                    usd(cut),
                    usd(value),
                    usd(value),
                    usd(cash),
                    usd(sale)
                ),
                CashUse::First | CashUse::Never => {
                    format!("cash kept: y = R = {}", usd(sale))
                }
            };
            ("cash", sale != 0.0, text)
        }
    };
    TestReport {
        test,
        fired,
        text,
        numbers,
    }
}

impl ExplainReport {
    /// Assemble the report from the run and the explanation of one of its holders.
    pub fn new(meta: &RunMeta, net: &Network, outcome: &Outcome, x: &Explanation) -> Self {
        let holder = net.holder(x.holder);
        let fin = outcome.holders.get(x.holder.get());
        ExplainReport {
            scenario: meta.name.clone(),
            holder: holder.id.clone(),
            kind: x.kind.name(),
            lender: x.lender.map(|l| net.lender(l).id.clone()),
            rule: rule_text(&holder.kind, net.margin(x.holder).is_some()),
            result: ExplainResult {
                status: fin.map_or(Status::Unaffected, |h| h.status).name(),
                sales_usd: fin.map_or(0.0, |h| h.sales_usd),
                equity_before_usd: x.equity_before,
                equity_after_usd: fin.map_or(0.0, |h| h.equity_after),
                lender_loss_usd: fin.map_or(0.0, |h| h.lender_loss_usd),
                borrower_shortfall_usd: fin.map_or(0.0, |h| h.borrower_shortfall_usd),
                interbank_unpaid_usd: fin.map_or(0.0, |h| h.interbank_unpaid_usd),
            },
            rounds: x
                .rounds
                .iter()
                .map(|r| ExplainRoundReport {
                    round: r.round,
                    price_index: r.price_index,
                    sheet: SheetReport::from(&r.sheet),
                    tests: r
                        .tests
                        .iter()
                        .map(|t| test_report(t, &|a| net.asset(a).id.clone()))
                        .collect(),
                    sale_usd: r.sale_usd,
                    deposit_usd: r.deposit_usd,
                    status: r.status.name(),
                    calls: r.calls,
                    defaults: r.defaults,
                    lender_tightened: r.lender_tightened,
                    etf_positions: r
                        .etf_positions
                        .iter()
                        .map(|e| EtfPositionReport {
                            fund: net.holder(e.fund).id.clone(),
                            shares: e.shares,
                            sold_shares: e.sold,
                            nav_per_share: e.nav_per_share,
                            maintenance: e.maintenance,
                        })
                        .collect(),
                })
                .collect(),
            termination: outcome.termination.name(),
        }
    }

    /// The JSON document, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        crate::batch::versioned_json(self)
    }

    /// The holder, its rule and result; its balance sheet round by round; then the tests
    /// with their numbers for the rounds where something changed.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "holder    {} ({})",
            self.holder,
            self.kind.replace('_', " ")
        );
        if let Some(l) = &self.lender {
            let _ = write!(out, ", on margin from {l}");
        }
        let _ = writeln!(out, "\nscenario  {} ({})", self.scenario, self.termination);
        let _ = writeln!(out, "rule      {}", self.rule);
        let r = &self.result;
        let _ = writeln!(
            out,
            "result    final status {}; net sales {} at final prices; equity {} before the shock, {} at the end; {}",
            r.status,
            usd(r.sales_usd),
            usd(r.equity_before_usd),
            usd(r.equity_after_usd),
            r.losses_text()
        );
        out.push('\n');
        out.push_str(&self.sheet_table());
        out.push('\n');
        out.push_str("Why, round by round (the rounds where its decision changed)\n");
        let mut last: Option<(&str, f64)> = None;
        let n = self.rounds.len();
        let mut shown = 0;
        let mut skipped = false;
        for (k, round) in self.rounds.iter().enumerate() {
            let changed = last.is_none_or(|(s, y)| {
                s != round.status || (round.sale_usd - y).abs() > 0.005 * y.abs().max(1.0)
            });
            last = Some((round.status, round.sale_usd));
            let is_last = k + 1 == n;
            if !(changed || is_last) {
                continue;
            }
            // The first few changes and the final round; a long tail of small steps is
            // in the table above (and in --format json).
            if shown >= MAX_WHY && !is_last {
                skipped = true;
                continue;
            }
            if skipped && is_last {
                out.push_str("...\n");
            }
            shown += 1;
            let _ = writeln!(out, "round {}:", round.round);
            for e in &round.etf_positions {
                let _ = writeln!(
                    out,
                    "  ETF shares of {}: {} shares at NAV per share {} = {}; maintenance {} (the account's m \u{00d7} the fund's |L|, at most 100%: FINRA 4210, RN 09-53); {} shares sold so far, redeemed by the fund",
                    e.fund,
                    fmt_shares(e.shares),
                    usd(e.nav_per_share),
                    usd(e.shares * e.nav_per_share),
                    pc(e.maintenance),
                    fmt_shares(e.sold_shares),
                );
            }
            for t in &round.tests {
                let _ = writeln!(out, "  {}", t.text);
            }
            let overlay = round.tests.iter().any(|t| t.test == "cash")
                && round.tests.iter().any(|t| t.test == "margin" && t.fired);
            let _ = writeln!(
                out,
                "  => {}: sale decided {}{}{}",
                round.status,
                usd(round.sale_usd),
                if overlay {
                    " (the larger of its rule and its margin call, at most V)"
                } else {
                    ""
                },
                if round.deposit_usd > 0.0 {
                    format!(", cash deposited {}", usd(round.deposit_usd))
                } else {
                    String::new()
                }
            );
        }
        if n > 1 {
            out.push_str("Rounds not spelled out make the same tests at slightly moved prices.\n");
        }
        out
    }

    fn sheet_table(&self) -> String {
        let n = self.rounds.len();
        let etf = self.kind == KindTag::LeveragedEtf.name();
        let bs = self.kind == KindTag::LeveragedFund.name() || self.kind == KindTag::Bank.name();
        let fund = self.kind == KindTag::Fund.name();
        let (ratio_head, limit_head) = if etf {
            ("basket r", "")
        } else if bs {
            ("A/E", "limit")
        } else if fund {
            ("NAV return", "")
        } else {
            ("E/V", "m")
        };
        let cols = SheetColumns::of(self, etf);
        let mut head = vec!["round", "price index"];
        let identity = cols.head(&mut head);
        head.push(ratio_head);
        if !limit_head.is_empty() {
            head.push(limit_head);
        }
        head.extend(["status", "sale"]);
        let status_col = head.len() - 2;
        let mut t = Table::new(head.iter().copied())
            .titled(if n > MAX_TABLE_ROUNDS {
                format!(
                    "Balance sheet at the prices each round decided at ({identity}; rounds {}-{} \
                     left out; --format json has every round)",
                    HEAD_ROUNDS + 1,
                    n - TAIL_ROUNDS
                )
            } else {
                format!("Balance sheet at the prices each round decided at ({identity})")
            })
            .left(status_col);
        for (k, r) in self.rounds.iter().enumerate() {
            // Long runs: the first rounds, a marker, the last ones (JSON has them all).
            if n > MAX_TABLE_ROUNDS && k >= HEAD_ROUNDS && k + TAIL_ROUNDS < n {
                if k == HEAD_ROUNDS {
                    t.row(["..."]);
                }
                continue;
            }
            let s = &r.sheet;
            let (ratio, limit) = ratio_and_limit(r, etf, bs, fund);
            let mut row = vec![r.round.to_string(), format!("{:.4}", r.price_index)];
            cols.cells(s, &mut row);
            row.push(ratio);
            if !limit_head.is_empty() {
                row.push(limit);
            }
            row.push(r.status.to_owned());
            row.push(usd(r.sale_usd));
            t.row(row);
        }
        t.render()
    }
}

/// The balance-sheet columns of `explain`'s table: every item of the sheet has one, so that
/// each row adds up by hand; items zero in every round are left out (the identity in the
/// title names the columns shown).
#[allow(clippy::struct_excessive_bools)]
struct SheetColumns {
    etf: bool,
    other_assets: bool,
    received: bool,
    owed: bool,
}

impl SheetColumns {
    fn of(r: &ExplainReport, etf: bool) -> Self {
        let any = |f: fn(&SheetReport) -> f64| r.rounds.iter().any(|x| f(&x.sheet) != 0.0);
        SheetColumns {
            etf,
            other_assets: !etf && any(|s| s.other_assets_usd),
            received: !etf && any(|s| s.interbank_received_usd),
            owed: !etf && any(|s| s.interbank_owed_usd),
        }
    }

    /// Push the headers; the identity the columns satisfy, in words.
    fn head(&self, head: &mut Vec<&'static str>) -> String {
        if self.etf {
            head.extend(["exposure", "financing", "NAV"]);
            return "NAV = exposure \u{2212} financing".to_owned();
        }
        let mut plus = vec!["V", "cash"];
        let mut minus = vec!["loan", "other liab."];
        head.extend(["holdings V", "cash"]);
        if self.other_assets {
            head.push("other assets");
            plus.push("other assets");
        }
        if self.received {
            head.push("interbank recv.");
            plus.push("interbank recv.");
        }
        head.extend(["loan", "other liab."]);
        if self.owed {
            head.push("interbank owed");
            minus.push("interbank owed");
        }
        head.push("equity E");
        format!(
            "E = {} \u{2212} {}",
            plus.join(" + "),
            minus.join(" \u{2212} ")
        )
    }

    /// Push one round's cells, in [`SheetColumns::head`]'s order.
    fn cells(&self, s: &SheetReport, row: &mut Vec<String>) {
        row.push(usd(s.holdings_usd));
        if self.etf {
            // The swaps' financing: what makes exposure and NAV differ.
            row.push(usd(s.holdings_usd - s.equity_usd));
        } else {
            row.push(usd(s.cash_usd));
            if self.other_assets {
                row.push(usd(s.other_assets_usd));
            }
            if self.received {
                row.push(usd(s.interbank_received_usd));
            }
            row.push(usd(s.margin_loan_usd));
            row.push(usd(s.other_liabilities_usd));
            if self.owed {
                row.push(usd(s.interbank_owed_usd));
            }
        }
        row.push(usd(s.equity_usd));
    }
}

/// A share count: whole shares, or four decimals below 100.
fn fmt_shares(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}

/// The ratio column and its limit for one round.
fn ratio_and_limit(r: &ExplainRoundReport, etf: bool, bs: bool, fund: bool) -> (String, String) {
    let s = &r.sheet;
    let num = |t: &TestReport, k: &str| t.numbers.get(k).copied();
    if etf {
        let ret = r
            .tests
            .iter()
            .find_map(|t| num(t, "basket_return"))
            .unwrap_or(0.0);
        return (pc(ret), String::new());
    }
    if fund {
        let ret = r
            .tests
            .iter()
            .find_map(|t| num(t, "nav_return"))
            .unwrap_or(0.0);
        return (pc(ret), String::new());
    }
    if bs {
        let lev = if s.equity_usd > 0.0 {
            times(s.assets_usd / s.equity_usd)
        } else {
            "n/a".to_owned()
        };
        let limit = r
            .tests
            .iter()
            .find_map(|t| match t.test {
                "leverage_target" => num(t, "target").map(|x| format!("\u{03bb}* {}", times(x))),
                "threshold" => num(t, "max").map(|x| format!("\u{03bb}max {}", times(x))),
                "capital_ratio" => num(t, "min_ratio").map(|x| format!("E/A \u{2265} {}", pc(x))),
                _ => None,
            })
            .unwrap_or_default();
        return (lev, limit);
    }
    let ratio = if s.holdings_usd > 0.0 {
        pc(s.equity_usd / s.holdings_usd)
    } else {
        "n/a".to_owned()
    };
    let m = r
        .tests
        .iter()
        .find_map(|t| num(t, "maintenance"))
        .map(pc)
        .unwrap_or_default();
    (ratio, m)
}

#[cfg(test)]
mod tests {
    use delever_engine::{EngineConfig, Shock, explain::explain};
    use delever_graph::{AssetIx, HolderIx};

    use super::*;

    // The textbook account: 100 shares at 100, loan 5,000, maintenance 25%; a 40% fall
    // gives V = 6,000, E = 1,000 < m·V = 1,500, so it sells y = V − E/m_r = 2,000.
    #[test]
    fn a_margin_call_shows_the_rule_and_its_numbers() {
        let net = delever_engine::synth::textbook_margin(0.25).expect("valid network");
        let shocks = [Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.40,
        }];
        let (out, x) =
            explain(&net, &shocks, &EngineConfig::default(), HolderIx(0)).expect("explains");
        let meta = RunMeta {
            name: "textbook".into(),
            ..RunMeta::default()
        };
        let r = ExplainReport::new(&meta, &net, &out, &x);
        let table = r.to_table();
        for needle in [
            "holder    acct (margin account), on margin from broker",
            "margin call (Reg T / FINRA 4210)",
            "E = $1.00K < m·V = 0.25 × $6.00K = $1.50K → margin call: sell y = V − E/m_r = $6.00K − $1.00K/0.25 = $2.00K",
            "=> margin_call: sale decided $2.00K",
            "E/V",
        ] {
            assert!(table.contains(needle), "missing {needle:?} in\n{table}");
        }
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("JSON");
        let t = &v["rounds"][0]["tests"][0];
        assert_eq!(t["test"], "margin");
        assert_eq!(t["fired"], true);
        assert_eq!(t["numbers"]["maintenance"], 0.25);
        assert_eq!(t["numbers"]["required_usd"], 2000.0);
        assert_eq!(v["result"]["status"], "margin_call");
        assert_eq!(v["holder"], "acct");
        assert_eq!(v["lender"], "broker");
    }

    #[test]
    fn fractions_read_like_the_rules() {
        assert_eq!(frac(0.3), "0.30");
        assert_eq!(frac(0.25), "0.25");
        assert_eq!(frac(0.355), "0.355");
        assert_eq!(frac(1.0), "1.00");
    }
}
