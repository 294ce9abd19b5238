//! `options_dealer`: a dealer that keeps its option book delta-neutral, described by its
//! option lines (priced by Black–Scholes) and its dollar-gamma lines; its hedge trades are
//! its flow. It has no holdings of its own and no margin.

use delever_graph::{GammaLine, HolderKind, OptionLine, OptionRight, Problem};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Kind, Make, no_capital, unknown_asset};
use crate::convert::{Cx, Pending};
use crate::index::{join_index, join_key};
use crate::limits;
use crate::spec::{HolderSpec, KindName, Num};

/// A call or a put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RightName {
    /// The right to buy.
    Call,
    /// The right to sell.
    Put,
}

/// The dealer's side of an option line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SideName {
    /// The dealer owns the options (long gamma: it buys into a fall).
    Long,
    /// The dealer wrote the options (short gamma: it sells into a fall).
    Short,
}

/// One line of a dealer's option book.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OptionSpec {
    /// The underlying asset's id.
    pub asset: String,
    /// `call` or `put`.
    #[serde(rename = "type")]
    pub right: RightName,
    /// Strike, USD per share, in [1e-6, 1e9].
    pub strike: Num,
    /// Trading days to expiry at the reference close, > 0.
    pub expiry_days: Num,
    /// Implied volatility, annual, in (0, 5]; held fixed.
    pub implied_vol: Num,
    /// Underlying shares the line stands for (contracts × 100), a count > 0; `side` gives
    /// the sign.
    pub shares: Num,
    /// The dealer's side: `long` or `short`.
    pub side: SideName,
}

/// A dealer's gamma on one asset, in dollars per 1% move.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GammaSpec {
    /// The asset's id.
    pub asset: String,
    /// Dollar gamma per 1% move at the reference price, signed as the dealer's gamma
    /// (negative: short gamma, the GEX convention).
    pub usd_per_pct: Num,
}

const THIS: &[KindName] = &[KindName::OptionsDealer];

/// The hint of a negative `shares`: the "sign convention" for option lines.
pub(crate) const SIDE_HINT: &str = "shares are a count; give the dealer's side with `side: short`";

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[("options", THIS), ("gamma", THIS)],
    // At least one of `options` and `gamma`: the builder checks that, at the holder.
    required: &[],
    derived_loan: None,
    redeemable: false,
    convert,
    problem: Some(problem),
};

fn problem(cx: &Cx<'_>, p: &Problem, base: &str) -> Option<Pending> {
    unknown_asset(cx, p, base).or_else(|| no_capital(cx, p, base, "an options dealer"))
}

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let options = h
        .rare()
        .options
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, o)| option(cx, h, o, &join_index(&join_key(make.base, "options"), i), i))
        .collect();
    let gamma = h
        .rare()
        .gamma
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, g)| {
            let p = join_index(&join_key(make.base, "gamma"), i);
            cx.limit(
                join_key(&p, "usd_per_pct"),
                g.usd_per_pct.0,
                &limits::DOLLAR_GAMMA,
            );
            GammaLine {
                asset: g.asset.clone(),
                usd_per_pct: g.usd_per_pct.0,
            }
        })
        .collect();
    HolderKind::OptionsDealer { options, gamma }
}

/// Check option line `i` (at path `p`) and convert it: `shares` signed by `side`.
fn option(cx: &mut Cx<'_>, h: &HolderSpec, o: &OptionSpec, p: &str, i: usize) -> OptionLine {
    if !cx.limit(join_key(p, "strike"), o.strike.0, &limits::STRIKE) {
        // The builder would report a strike ≤ 0 again, in its own words.
        cx.suppress
            .insert((h.id.clone(), format!("options[{i}].strike")));
    }
    let shares = o.shares.0;
    if shares < 0.0 {
        cx.err(
            join_key(p, "shares"),
            format!(
                "must be a count of shares > 0, got {}",
                limits::show(shares)
            ),
            Some(SIDE_HINT.into()),
        );
    } else if shares == 0.0 {
        cx.err(
            join_key(p, "shares"),
            "must be a count of shares > 0, got 0",
            Some("contracts × 100 (one listed equity option is on 100 shares); remove a line the dealer does not hold".into()),
        );
    } else {
        cx.limit(join_key(p, "shares"), shares, &limits::SHARES);
    }
    OptionLine {
        asset: o.asset.clone(),
        right: match o.right {
            RightName::Call => OptionRight::Call,
            RightName::Put => OptionRight::Put,
        },
        strike: o.strike.0,
        expiry_days: o.expiry_days.0,
        implied_vol: o.implied_vol.0,
        shares: match o.side {
            SideName::Long => shares.abs(),
            SideName::Short => -shares.abs(),
        },
    }
}
