//! Edges: holdings (in shares or USD), margin links and interbank obligations.

use delever_graph::{MarginTerms, NetworkBuilder};

use super::cx::{Cx, IdKind, Want, num};
use crate::error::clip;
use crate::index::{join_index, join_key};
use crate::kinds;
use crate::limits;
use std::collections::BTreeMap;

use crate::spec::{HolderSpec, HoldingSpec, KindName, OweSpec, ScenarioSpec};

pub(crate) fn holder_edges(cx: &mut Cx<'_>, b: &mut NetworkBuilder, h: &HolderSpec, i: usize) {
    // Paths are built only where needed (mostly for a problem): a few per holder and
    // holding were a good part of loading 100,000 banks (issue 15).
    let base = || join_index("holders", i);
    let allows = |key: &str| kinds::owns(h.kind, key);
    let node = cx.holder_nodes.get(i).and_then(|n| n.as_ref().map(|n| n.0));
    if let (Some(holdings), true) = (&h.holdings, allows("holdings")) {
        for (j, hd) in holdings.iter().enumerate() {
            let p = || join_index(&join_key(&base(), "holdings"), j);
            if let Some(fund) = etf_named(cx, &hd.asset) {
                etf_holding(cx, b, h, hd, fund, &p());
                continue;
            }
            let asset = cx.resolve_at(|| join_key(&p(), "asset"), &hd.asset, Want::Asset);
            let shares = holding_shares(cx, hd, &p);
            if let (Some(IdKind::Asset), Some(s)) = (asset, shares) {
                // Both ends are known by index (the builder's look-ups by id are for ids
                // not known here).
                match (node, cx.assets.get(hd.asset.as_str())) {
                    (Some(holder), Some(&a)) => b.holds_ix(holder, a, s),
                    _ => b.holds(&h.id, &hd.asset, s),
                }
            }
        }
    }
    if let (Some(m), true) = (&h.margin, allows("margin")) {
        let p = join_key(&base(), "margin");
        let loan = match (num(m.loan), kinds::of(h.kind).derived_loan) {
            (Some(_), Some(how)) => {
                cx.err_key(
                    join_key(&p, "loan"),
                    format!("a {} derives its loan; `loan` must be left out", h.kind),
                    Some(how.into()),
                );
                0.0
            }
            (None, Some(_)) => 0.0,
            (Some(l), None) => {
                cx.limit(join_key(&p, "loan"), l, &limits::USD);
                l
            }
            (None, None) => {
                cx.missing(
                    join_key(&p, "loan"),
                    &format!("a {}'s margin", h.kind),
                    "the amount lent (debit balance) in USD, e.g. `loan: 5.0e8`",
                );
                0.0
            }
        };
        let resolved = cx.resolve(join_key(&p, "lender"), &m.lender, Want::Lender);
        if resolved.is_some() {
            b.lends(
                &m.lender,
                &h.id,
                MarginTerms {
                    loan,
                    maintenance: m.maintenance.0,
                    reset: num(m.reset).unwrap_or(m.maintenance.0),
                },
            );
        } else {
            cx.suppress.insert((h.id.clone(), "margin".into()));
        }
    }
    if h.kind == KindName::LeveragedEtf
        && let Some(so) = num(h.rare().shares_outstanding)
        && so.is_finite()
        && so > 0.0
    {
        b.shares_outstanding(&h.id, so);
    }
    if h.owes.is_some() {
        owes(cx, b, &h.id, h.owes.as_deref(), &base());
    }
}

/// The leveraged ETF holder a holding's `asset` names, with its index, if it names one.
pub(crate) fn etf_named<'s>(cx: &Cx<'s>, id: &str) -> Option<(usize, &'s HolderSpec)> {
    let i = *cx.etf_at.get(id)?;
    cx.spec.holders.get(i).map(|h| (i, h))
}

/// Why an inverse fund's shares cannot be held (docs/scenario-format.md).
pub(crate) const INVERSE_HINT: &str = "a margin holder of an inverse fund gains as prices fall, so its forced sales would rise with prices and break the monotone fixed point the engine relies on; hold a bull fund (multiple > 0)";

/// NAV per share of `fund` at the reference close, if it gives its `shares_outstanding`.
pub(crate) fn nav_per_share(fund: &HolderSpec) -> Option<f64> {
    let (nav, so) = (num(fund.rare().nav)?, num(fund.rare().shares_outstanding)?);
    (nav > 0.0 && so > 0.0).then_some(nav / so)
}

/// What is wrong with holding shares of leveraged ETF `fund` (`fk`: its index) for a
/// holder of kind `kind`, as a message and hint, if anything.
pub(crate) fn etf_share_problem(
    kind: KindName,
    fund: &HolderSpec,
    fk: usize,
) -> Option<(String, String)> {
    if !matches!(
        kind,
        KindName::MarginAccount | KindName::MarginCohort | KindName::AccountBook
    ) {
        return Some((
            format!("a {kind} cannot hold shares of leveraged ETF `{}`", clip(&fund.id)),
            "leveraged ETF shares are held by margin accounts, margin cohorts and account books; give this holder the fund's basket assets instead".into(),
        ));
    }
    if num(fund.rare().multiple).is_some_and(|m| m < 0.0) {
        return Some((
            format!(
                "`{}` is an inverse fund (`holders[{fk}].multiple` < 0): its shares cannot be held",
                clip(&fund.id)
            ),
            INVERSE_HINT.into(),
        ));
    }
    if fund.rare().shares_outstanding.is_none() {
        return Some((
            format!(
                "leveraged ETF `{}` (`holders[{fk}]`) has no `shares_outstanding`",
                clip(&fund.id)
            ),
            format!(
                "add `shares_outstanding` to `holders[{fk}]`: its shares are priced at NAV per share, `nav / shares_outstanding`"
            ),
        ));
    }
    None
}

/// A holding of leveraged ETF shares: checked, converted (a `usd` amount at NAV per
/// share) and added.
fn etf_holding(
    cx: &mut Cx<'_>,
    b: &mut NetworkBuilder,
    h: &HolderSpec,
    hd: &HoldingSpec,
    (fk, fund): (usize, &HolderSpec),
    p: &str,
) {
    if let Some((msg, hint)) = etf_share_problem(h.kind, fund, fk) {
        cx.err(join_key(p, "asset"), msg, Some(hint));
        return;
    }
    let shares = match (num(hd.shares), num(hd.usd)) {
        (None, Some(u)) if u >= 0.0 => {
            if !cx.limit(join_key(p, "usd"), u, &limits::USD) {
                return;
            }
            let Some(nps) = nav_per_share(fund) else {
                // The fund's own keys are reported where they are.
                return;
            };
            Some(u / nps)
        }
        _ => holding_shares(cx, hd, &|| p.to_owned()),
    };
    if let Some(s) = shares {
        b.holds_etf(&h.id, &fund.id, s);
    }
}

/// Leveraged ETFs with a valid `shares_outstanding`, in holder order, with their index:
/// the funds whose shares account books' rows may hold (the graph's classes).
pub(crate) fn share_classes(spec: &ScenarioSpec) -> Vec<(usize, &HolderSpec)> {
    spec.holders
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.kind == KindName::LeveragedEtf
                && num(h.rare().shares_outstanding).is_some_and(|s| s.is_finite() && s > 0.0)
        })
        .collect()
}

/// Shares of each fund held in account books (by fund id); a book holding an inverse
/// fund's shares is reported at its holdings table's key.
pub(crate) fn book_etf_shares(
    cx: &mut Cx<'_>,
    funds: &[(usize, &HolderSpec)],
    n_assets: usize,
) -> BTreeMap<String, f64> {
    let mut held = BTreeMap::new();
    let mut inverse = Vec::new();
    // The books by holder id, as the ordered map this was gave them: sums and reports in
    // the same order. Only the books are sorted (there are a few among 100,000 holders).
    let mut books: Vec<_> = cx
        .holder_metas()
        .filter_map(|(id, meta)| Some((id, meta, meta.book.as_ref()?)))
        .collect();
    books.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (id, meta, book) in books {
        if funds.is_empty() || !book.has_rows_past(n_assets) {
            continue;
        }
        for (a, s) in book.assets.iter().zip(&book.shares) {
            let Some(&(fk, f)) = a.get().checked_sub(n_assets).and_then(|k| funds.get(k)) else {
                continue;
            };
            *held.entry(f.id.clone()).or_insert(0.0) += s;
            if num(f.rare().multiple).is_some_and(|m| m < 0.0) {
                let key = meta
                    .accounts_file
                    .as_ref()
                    .map_or("holdings_csv", |file| file.format.keys().1);
                inverse.push((id.to_owned(), meta.index, fk, f.id.clone(), key));
            }
        }
    }
    inverse.dedup();
    for (id, i, fk, fund, key) in inverse {
        cx.suppress.insert((id, key.into()));
        cx.err(
            join_key(&join_index("holders", i), key),
            format!(
                "its rows hold shares of `{}`, an inverse fund (`holders[{fk}].multiple` < 0)",
                clip(&fund)
            ),
            Some(INVERSE_HINT.into()),
        );
    }
    held
}

/// More shares of a leveraged ETF held (by margin accounts, cohorts and book rows) than it
/// has outstanding: reported at its `shares_outstanding`. `books` are the shares held in
/// account books, per fund id.
pub(crate) fn etf_totals(cx: &mut Cx<'_>, books: &BTreeMap<String, f64>) {
    let spec = cx.spec;
    for (fk, fund) in spec.holders.iter().enumerate() {
        if fund.kind != KindName::LeveragedEtf {
            continue;
        }
        let (Some(so), Some(nps)) = (num(fund.rare().shares_outstanding), nav_per_share(fund))
        else {
            continue;
        };
        let mut held = books.get(&fund.id).copied().unwrap_or(0.0);
        for h in &spec.holders {
            for hd in h.holdings.as_deref().unwrap_or_default() {
                if hd.asset == fund.id {
                    held += num(hd.shares).unwrap_or_else(|| num(hd.usd).map_or(0.0, |u| u / nps));
                }
            }
        }
        if held > so {
            cx.suppress
                .insert((fund.id.clone(), "shares_outstanding".into()));
            cx.err(
                join_key(&join_index("holders", fk), "shares_outstanding"),
                format!(
                    "holders hold {} shares of `{}` in all, more than its {} shares outstanding",
                    limits::show(held),
                    clip(&fund.id),
                    limits::show(so)
                ),
                Some("shares held by margin accounts, cohorts and account books cannot exceed the fund's shares outstanding: lower the holdings or raise `shares_outstanding`".into()),
            );
        }
    }
}

/// The shares of holding `hd` at path `p`: as written, or converted from `usd`; `None`
/// (with the problem reported) when it has neither, both, or a value out of range.
fn holding_shares(cx: &mut Cx<'_>, hd: &HoldingSpec, p: &dyn Fn() -> String) -> Option<f64> {
    match (num(hd.shares), num(hd.usd)) {
        (Some(_), Some(_)) => {
            cx.err(
                p(),
                "give `shares` or `usd`, not both",
                Some("`usd` is converted to shares at the asset's price".into()),
            );
            None
        }
        (None, None) => {
            cx.err(
                join_key(&p(), "shares"),
                "missing `shares` (or `usd`)",
                Some(
                    "e.g. `{ asset: NVDA, shares: 1.0e6 }` or `{ asset: NVDA, usd: 5.0e8 }`".into(),
                ),
            );
            None
        }
        (Some(s), None) if s < 0.0 => {
            cx.err(
                join_key(&p(), "shares"),
                format!("expected a number ≥ 0, got {s}"),
                Some("holdings are long positions: a number of shares ≥ 0".into()),
            );
            None
        }
        (Some(s), None) => cx
            .limit_at(|| join_key(&p(), "shares"), s, &limits::SHARES)
            .then_some(s),
        (None, Some(u)) if u < 0.0 => {
            cx.err(
                join_key(&p(), "usd"),
                format!("expected a number ≥ 0, got {u}"),
                None,
            );
            None
        }
        (None, Some(u)) => {
            let usd = || join_key(&p(), "usd");
            if cx.limit_at(usd, u, &limits::USD) {
                usd_to_shares(cx, usd, &hd.asset, u)
            } else {
                None
            }
        }
    }
}

/// The shares a holding written in USD stands for, at its asset's price. A price the
/// builder refuses gives none (it is reported at the price); a result that is not a
/// sane share count is reported here, naming the price it came from.
fn usd_to_shares(
    cx: &mut Cx<'_>,
    path: impl FnOnce() -> String,
    asset: &str,
    usd: f64,
) -> Option<f64> {
    let k = *cx.asset_at.get(asset)?;
    let a = cx.spec.assets.get(k)?;
    let price = a.price.0;
    if price <= 0.0 {
        return None;
    }
    let shares = usd / price;
    if shares.is_finite() && shares <= limits::MAX_SHARES {
        return Some(shares);
    }
    cx.err(
        path(),
        format!(
            "{} USD at the price of `{}` (`assets[{k}].price`: {} USD per share) is {} shares, more than the {} a position may hold",
            limits::show(usd),
            clip(asset),
            limits::show(price),
            limits::show(shares),
            limits::show(limits::MAX_SHARES),
        ),
        Some(format!(
            "check `assets[{k}].price` (USD per share) and this amount (USD); a usd holding is converted to shares at the price"
        )),
    );
    None
}

pub(crate) fn owes(
    cx: &mut Cx<'_>,
    b: &mut NetworkBuilder,
    debtor: &str,
    owes: Option<&[OweSpec]>,
    base: &str,
) {
    for (j, o) in owes.unwrap_or_default().iter().enumerate() {
        let p = join_index(&join_key(base, "owes"), j);
        let ok = cx
            .resolve(join_key(&p, "creditor"), &o.creditor, Want::BalanceSheet)
            .is_some();
        if o.amount.0 < 0.0 {
            cx.err(
                join_key(&p, "amount"),
                format!("expected a number ≥ 0, got {}", o.amount.0),
                None,
            );
        } else if cx.limit(join_key(&p, "amount"), o.amount.0, &limits::USD) && ok {
            b.owes(debtor, &o.creditor, o.amount.0);
        }
    }
}
