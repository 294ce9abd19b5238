//! A small YAML writer for the scenario format: block mappings at the top, one flow
//! mapping per line below, numbers printed so that they parse back to the same `f64`.
//!
//! Only the shapes the scenario format needs are written; the output is read back by
//! `delever_scenario` (the one place that parses YAML), and the tests check the round trip.

use std::fmt::Write as _;

use delever_engine::{EngineConfig, Mode, Settlement, Shock};
use delever_graph::{
    BalanceSheetRule, CashUse, HolderIx, HolderKind, ImpactDecay, ImpactLaw, Liquidation, Network,
    NodeRef, SaleOrder, Timing,
};

use crate::{BookFiles, Generated};

/// `x` as a YAML float that parses back to exactly `x`.
///
/// Rust's `{:?}` is the shortest representation that round-trips; YAML 1.1 readers
/// (`PyYAML`) read an exponent number as a string unless its mantissa has a dot and its
/// exponent a sign, so `1e20` becomes `1.0e+20`.
pub fn number(x: f64) -> String {
    let s = format!("{x:?}");
    let Some((mantissa, exp)) = s.split_once('e') else {
        return s;
    };
    let dot = if mantissa.contains('.') { "" } else { ".0" };
    let sign = if exp.starts_with('-') { "" } else { "+" };
    format!("{mantissa}{dot}e{sign}{exp}")
}

/// `s` as a YAML scalar: plain when that is unambiguous (an id like `bank-1`), otherwise
/// double-quoted with escapes.
pub fn scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain { s.to_string() } else { quoted(s) }
}

/// `s` double-quoted, with `\`, `"` and control characters escaped.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An asset's impact block: its law and, when some of it is transient, its decay.
fn impact_with(law: &ImpactLaw, decay: &ImpactDecay) -> String {
    let law = impact(law);
    if decay.is_permanent() {
        return law;
    }
    let parts: Vec<String> = decay
        .transient
        .iter()
        .map(|t| {
            format!(
                "{{ share: {}, half_life_days: {} }}",
                number(t.share),
                number(t.half_life_days)
            )
        })
        .collect();
    format!(
        "{}, decay: {{ permanent: {}, transient: [ {} ] }} }}",
        law.trim_end_matches(" }"),
        number(decay.permanent),
        parts.join(", ")
    )
}

fn impact(law: &ImpactLaw) -> String {
    match *law {
        ImpactLaw::Linear { per_usd } => format!("{{ law: linear, per_usd: {} }}", number(per_usd)),
        ImpactLaw::Exponential { alpha } => {
            format!("{{ law: exponential, alpha: {} }}", number(alpha))
        }
        ImpactLaw::SquareRoot { y } => format!("{{ law: square_root, y: {} }}", number(y)),
        ImpactLaw::ContSchaanning { c, tau_days, floor } => format!(
            "{{ law: cont_schaanning, c: {}, tau_days: {}, floor: {} }}",
            number(c),
            number(tau_days),
            number(floor)
        ),
    }
}

fn rule(r: &BalanceSheetRule) -> String {
    match *r {
        BalanceSheetRule::Passive => "{ type: passive }".into(),
        BalanceSheetRule::FailLiquidate => "{ type: fail_liquidate }".into(),
        BalanceSheetRule::LeverageTarget { target, symmetric } => format!(
            "{{ type: leverage_target, target: {}, symmetric: {symmetric} }}",
            number(target)
        ),
        BalanceSheetRule::Threshold { max, target } => format!(
            "{{ type: threshold, max: {}, target: {} }}",
            number(max),
            number(target)
        ),
        BalanceSheetRule::CapitalRatio { min_ratio } => {
            format!(
                "{{ type: capital_ratio, min_ratio: {} }}",
                number(min_ratio)
            )
        }
    }
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|t| scalar(t))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn shock(net: &Network, s: &Shock) -> String {
    let tag = |t: &Option<String>| {
        t.as_ref()
            .map_or_else(String::new, |t| format!(", tag: {}", scalar(t)))
    };
    match s {
        Shock::OnDay { day, shock: inner } => {
            // `{ type: …, … }` with the day added before the closing brace.
            let body = shock(net, inner);
            let open = body.trim_end_matches(" }");
            format!("{open}, day: {day} }}")
        }
        Shock::AssetReturn { asset, ret } => format!(
            "{{ type: asset, asset: {}, return: {} }}",
            scalar(&net.asset(*asset).id),
            number(*ret)
        ),
        Shock::TagReturn { tag, ret } => format!(
            "{{ type: tag, tag: {}, return: {} }}",
            scalar(tag),
            number(*ret)
        ),
        Shock::Market { ret, tag: t } => {
            format!("{{ type: market, return: {}{} }}", number(*ret), tag(t))
        }
        Shock::DiscountRate { delta, tag: t } => {
            format!(
                "{{ type: discount_rate, delta: {}{} }}",
                number(*delta),
                tag(t)
            )
        }
        Shock::ExogenousSale { asset, usd } => format!(
            "{{ type: exogenous_sale, asset: {}, usd: {} }}",
            scalar(&net.asset(*asset).id),
            number(*usd)
        ),
        Shock::MarginTightening { lender, by } => format!(
            "{{ type: margin_tightening, by: {}{} }}",
            number(*by),
            lender.map_or_else(String::new, |l| format!(
                ", lender: {}",
                scalar(&net.lender(l).id)
            ))
        ),
        Shock::Redemption { holder, fraction } => format!(
            "{{ type: redemption, holder: {}, fraction: {} }}",
            scalar(&net.holder(*holder).id),
            number(*fraction)
        ),
    }
}

fn engine(cfg: &EngineConfig) -> String {
    let mode = match cfg.mode {
        Mode::Timeline => format!("timeline, days: {}", cfg.days),
        m => m.name().to_owned(),
    };
    // The default timing is left out, so files written before the key read the same.
    let settlement = match cfg.settlement {
        Settlement::AtSettlement => String::new(),
        s @ Settlement::AtNextDecision => format!(", settlement: {}", s.name()),
    };
    format!(
        "{{ mode: {mode}, max_rounds: {}, tolerance: {}, damping: {}, least_fixed_point: {}{settlement} }}",
        cfg.max_rounds,
        number(cfg.tolerance),
        number(cfg.damping),
        cfg.least_fixed_point
    )
}

/// The `owes:` entries of node `n`, if it owes anything.
fn owes(net: &Network, n: NodeRef, indent: &str, out: &mut String) {
    let claims: Vec<_> = net.claims().iter().filter(|c| c.debtor == n).collect();
    if claims.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}owes:");
    for c in claims {
        let _ = writeln!(
            out,
            "{indent}  - {{ creditor: {}, amount: {} }}",
            scalar(net.node_id(c.creditor)),
            number(c.amount)
        );
    }
}

#[allow(clippy::too_many_lines)] // one holder field after another, in the format's order
fn holder(g: &Generated, h: HolderIx, books: &[BookFiles], out: &mut String) {
    let net = &g.network;
    let x = net.holder(h);
    let _ = writeln!(out, "  - id: {}", scalar(&x.id));
    let _ = writeln!(out, "    kind: {}", x.kind.tag().name());
    let field = |out: &mut String, key: &str, v: f64| {
        if v != 0.0 {
            let _ = writeln!(out, "    {key}: {}", number(v));
        }
    };
    field(out, "cash", x.cash);
    field(out, "other_assets", x.other_assets);
    field(out, "other_liabilities", x.other_liabilities);
    if x.sale_order != SaleOrder::ProRata {
        out.push_str("    sale_order: most_liquid_first\n");
    }
    match x.cash_use {
        CashUse::First => {}
        CashUse::ProRata => out.push_str("    cash_use: pro_rata\n"),
        CashUse::Never => out.push_str("    cash_use: never\n"),
    }
    if x.starts_insolvent {
        out.push_str("    starts_insolvent: true\n");
    }
    if let Some(r) = x.default_below_ratio {
        let _ = writeln!(out, "    default_below_ratio: {}", number(r));
    }
    if !x.tags.is_empty() {
        let _ = writeln!(out, "    tags: {}", list(&x.tags));
    }
    // Timing the format would not infer from the kind (docs/model.md, section 9).
    let inferred = Timing::for_kind(&x.kind, net.margin(h).is_some());
    if x.timing.cure_days != inferred.cure_days {
        let _ = writeln!(out, "    cure_days: {}", x.timing.cure_days);
    }
    if let Some(p) = x.timing.participation {
        let _ = writeln!(out, "    participation: {}", number(p));
    }
    if x.timing.redemption_lag_days != inferred.redemption_lag_days {
        let _ = writeln!(
            out,
            "    redemption_lag_days: {}",
            x.timing.redemption_lag_days
        );
    }
    let derived_loan = match &x.kind {
        HolderKind::MarginAccount { cure_rate } => {
            let _ = writeln!(out, "    cure_rate: {}", number(*cure_rate));
            false
        }
        HolderKind::MarginCohort {
            accounts,
            buckets,
            cure_rate,
        } => {
            let _ = writeln!(out, "    accounts: {accounts}");
            let b: Vec<String> = buckets
                .iter()
                .map(|b| format!("{{ ltv: {}, share: {} }}", number(b.ltv), number(b.share)))
                .collect();
            let _ = writeln!(out, "    ltv_buckets: [ {} ]", b.join(", "));
            let _ = writeln!(out, "    cure_rate: {}", number(*cure_rate));
            true
        }
        HolderKind::AccountBook { cure_rate, .. } => {
            if let Some(f) = books.iter().find(|f| f.holder == h) {
                let (accounts, holdings) = g.book_format.keys();
                let _ = writeln!(out, "    {accounts}: {}", scalar(&f.accounts));
                let _ = writeln!(out, "    {holdings}: {}", scalar(&f.holdings));
            }
            let _ = writeln!(out, "    cure_rate: {}", number(*cure_rate));
            true
        }
        HolderKind::LeveragedEtf {
            multiple,
            nav,
            basket,
        } => {
            let _ = writeln!(out, "    multiple: {}", number(*multiple));
            let _ = writeln!(out, "    nav: {}", number(*nav));
            let b: Vec<String> = basket
                .iter()
                .map(|(id, w)| format!("{}: {}", scalar(id), number(*w)))
                .collect();
            let _ = writeln!(out, "    basket: {{ {} }}", b.join(", "));
            false
        }
        HolderKind::LeveragedFund { rule: r } | HolderKind::Bank { rule: r } => {
            let _ = writeln!(out, "    rule: {}", rule(r));
            false
        }
        HolderKind::Fund { redemption_beta } => {
            let _ = writeln!(out, "    redemption_beta: {}", number(*redemption_beta));
            false
        }
        HolderKind::OptionsDealer { options, gamma } => {
            convexity::dealer(out, options, gamma);
            false
        }
        HolderKind::VolTarget { rule } => {
            convexity::vol_target(out, rule);
            false
        }
        HolderKind::TrendFollower {
            lookbacks,
            markets,
            lag_days,
        } => {
            convexity::trend(out, lookbacks, markets, *lag_days);
            false
        }
    };
    let holdings = net.holdings(h);
    if holdings.len() > 0 {
        out.push_str("    holdings:\n");
        for (a, shares) in holdings {
            let _ = writeln!(
                out,
                "      - {{ asset: {}, shares: {} }}",
                scalar(&net.asset(a).id),
                number(shares)
            );
        }
    }
    if let Some(m) = net.margin(h) {
        let loan = if derived_loan {
            String::new()
        } else {
            format!(", loan: {}", number(m.terms.loan))
        };
        let _ = writeln!(
            out,
            "    margin: {{ lender: {}{loan}, maintenance: {}, reset: {} }}",
            scalar(&net.lender(m.lender).id),
            number(m.terms.maintenance),
            number(m.terms.reset)
        );
    }
    owes(net, NodeRef::Holder(h), "    ", out);
}

/// The `assets:` section, one flow mapping per asset; defaults are left out.
fn assets(net: &Network, out: &mut String) {
    out.push_str("\nassets:\n");
    for a in net.assets() {
        let _ = write!(
            out,
            "  - {{ id: {}, price: {}, shares_outstanding: {}",
            scalar(&a.id),
            number(a.price),
            number(a.shares_outstanding)
        );
        for (key, v, default) in [
            ("adv_usd", a.adv_usd, 0.0),
            ("daily_vol", a.daily_vol, 0.0),
            ("beta", a.beta, 1.0),
            ("duration", a.duration, 0.0),
        ] {
            if v != default {
                let _ = write!(out, ", {key}: {}", number(v));
            }
        }
        if !a.tags.is_empty() {
            let _ = write!(out, ", tags: {}", list(&a.tags));
        }
        let _ = writeln!(out, ", impact: {} }}", impact_with(&a.impact, &a.decay));
    }
}

/// The `lenders:` section, one flow mapping per lender.
fn lenders(net: &Network, out: &mut String) {
    if !net.lenders().is_empty() {
        out.push_str("\nlenders:\n");
        for (i, l) in net.lenders().iter().enumerate() {
            let _ = write!(
                out,
                "  - {{ id: {}, capital: {}",
                scalar(&l.id),
                number(l.capital)
            );
            if l.other_liabilities != 0.0 {
                let _ = write!(out, ", other_liabilities: {}", number(l.other_liabilities));
            }
            if let Some(t) = l.tighten_trigger {
                let _ = write!(
                    out,
                    ", tighten: {{ trigger: {}, by: {} }}",
                    number(t),
                    number(l.tighten_by)
                );
            }
            let n = NodeRef::Lender(delever_graph::LenderIx(i as u32));
            let claims: Vec<String> = net
                .claims()
                .iter()
                .filter(|c| c.debtor == n)
                .map(|c| {
                    format!(
                        "{{ creditor: {}, amount: {} }}",
                        scalar(net.node_id(c.creditor)),
                        number(c.amount)
                    )
                })
                .collect();
            if !claims.is_empty() {
                let _ = write!(out, ", owes: [ {} ]", claims.join(", "));
            }
            let q = l.liquidation;
            if q != Liquidation::default() {
                let _ = write!(
                    out,
                    ", liquidation: {{ delay_days: {}, close_out: {}{} }}",
                    q.delay_days,
                    q.close_out,
                    q.participation
                        .map_or_else(String::new, |p| format!(", participation: {}", number(p)))
                );
            }
            out.push_str(" }\n");
        }
    }
}

/// The scenario file of `g`, naming `books` for its account-book holders.
pub(crate) fn scenario(g: &Generated, books: &[BookFiles]) -> String {
    let net = &g.network;
    let mut out = String::new();
    let _ = writeln!(out, "name: {}", scalar(&g.name));
    out.push_str("description: |\n");
    for line in g.description.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "  {line}");
        }
    }
    let _ = writeln!(out, "as_of: {}", g.as_of);
    if !g.sources.is_empty() {
        out.push_str("\nsources:\n");
        for s in &g.sources {
            let _ = write!(
                out,
                "  - {{ id: {}, title: {}",
                scalar(&s.id),
                quoted(&s.title)
            );
            if let Some(u) = &s.url {
                let _ = write!(out, ", url: {}", quoted(u));
            }
            if let Some(d) = &s.date {
                let _ = write!(out, ", date: {d}");
            }
            out.push_str(" }\n");
        }
    }
    if !g.assumptions.is_empty() {
        out.push_str("\nassumptions:\n");
        for a in &g.assumptions {
            let _ = writeln!(out, "  - {}", quoted(a));
        }
    }
    assets(net, &mut out);
    lenders(net, &mut out);
    if !net.holders().is_empty() {
        out.push_str("\nholders:\n");
        for i in 0..net.holders().len() {
            holder(g, HolderIx(i as u32), books, &mut out);
        }
    }
    if !g.shocks.is_empty() {
        out.push_str("\nshocks:\n");
        for s in &g.shocks {
            let _ = writeln!(out, "  - {}", shock(net, s));
        }
    }
    let _ = writeln!(out, "\nengine: {}", engine(&g.engine));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_carry_a_dot() {
        for (x, s) in [
            (1.0, "1.0"),
            (1e20, "1.0e+20"),
            (2.5e20, "2.5e+20"),
            (1.5e-7, "1.5e-7"),
            (-0.25, "-0.25"),
            (1.0536, "1.0536"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(number(x), s);
            assert_eq!(number(x).parse::<f64>().ok(), Some(x));
        }
    }

    #[test]
    fn scalars_are_plain_only_when_unambiguous() {
        assert_eq!(scalar("bank-1"), "bank-1");
        assert_eq!(scalar("A000"), "A000");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("1x"), "\"1x\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(quoted("say \"hi\"\\"), r#""say \"hi\"\\""#);
    }
}

/// The convexity kinds' keys, as the scenario format spells them.
mod convexity {
    use std::fmt::Write as _;

    use delever_graph::{GammaLine, Lookback, OptionLine, OptionRight, TrendMarket, VolTargetRule};

    use super::{number, scalar};

    pub(super) fn dealer(out: &mut String, options: &[OptionLine], gamma: &[GammaLine]) {
        if !options.is_empty() {
            out.push_str("    options:\n");
            for o in options {
                let _ = writeln!(
                    out,
                    "      - {{ asset: {}, type: {}, strike: {}, expiry_days: {}, implied_vol: {}, shares: {}, side: {} }}",
                    scalar(&o.asset),
                    if o.right == OptionRight::Call {
                        "call"
                    } else {
                        "put"
                    },
                    number(o.strike),
                    number(o.expiry_days),
                    number(o.implied_vol),
                    number(o.shares.abs()),
                    if o.shares < 0.0 { "short" } else { "long" }
                );
            }
        }
        if !gamma.is_empty() {
            out.push_str("    gamma:\n");
            for g in gamma {
                let _ = writeln!(
                    out,
                    "      - {{ asset: {}, usd_per_pct: {} }}",
                    scalar(&g.asset),
                    number(g.usd_per_pct)
                );
            }
        }
    }

    pub(super) fn vol_target(out: &mut String, r: &VolTargetRule) {
        let _ = writeln!(out, "    target_vol: {}", number(r.target_vol));
        let _ = writeln!(out, "    realised_vol: {}", number(r.realised_vol));
        let _ = writeln!(out, "    half_life_days: {}", number(r.half_life_days));
        let _ = writeln!(out, "    max_leverage: {}", number(r.max_leverage));
        let _ = writeln!(out, "    band: {}", number(r.band));
        let _ = writeln!(out, "    lag_days: {}", r.lag_days);
    }

    pub(super) fn trend(
        out: &mut String,
        lookbacks: &[Lookback],
        markets: &[TrendMarket],
        lag_days: u32,
    ) {
        let l: Vec<String> = lookbacks
            .iter()
            .map(|l| format!("{{ days: {}, weight: {} }}", l.days, number(l.weight)))
            .collect();
        let _ = writeln!(out, "    lookbacks: [ {} ]", l.join(", "));
        out.push_str("    markets:\n");
        for m in markets {
            let r: Vec<String> = m.past_returns.iter().map(|x| number(*x)).collect();
            let _ = writeln!(
                out,
                "      - {{ asset: {}, max_usd: {}, past_returns: [ {} ] }}",
                scalar(&m.asset),
                number(m.max_usd),
                r.join(", ")
            );
        }
        let _ = writeln!(out, "    lag_days: {lag_days}");
    }
}
