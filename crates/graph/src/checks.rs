//! The checks of single nodes: an asset, a lender, a holder of each kind, a margin link's
//! terms. The builder runs them on every node; [`crate::Network::with_impacts`] runs the
//! asset check on replaced impact laws.

use crate::convexity;
use crate::error::{Problem, Subject, hinted, problem};
use crate::model::{
    Asset, AssetIx, BalanceSheetRule, Holder, HolderKind, IdMap, ImpactLaw, Lender, MarginTerms,
    NodeRef,
};
use rayon::prelude::*;

/// Tolerance on "weights sum to 1" and similar identities.
pub const WEIGHT_TOLERANCE: f64 = 1e-6;

/// A computed figure for a message: six significant digits, no float noise
/// (`0.9`, not `0.8999999999999999`; `-100000`, not `-1.000000e5`).
pub(crate) fn sig(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor();
    if !(-4.0..15.0).contains(&magnitude) {
        return format!("{x:.5e}");
    }
    let decimals = (5.0 - magnitude).max(0.0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn finite_pos(x: f64) -> bool {
    x.is_finite() && x > 0.0
}
fn finite_nonneg(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

pub(crate) fn check_asset(a: &Asset, out: &mut Vec<Problem>) {
    check_decay(a, out);
    let s = || Subject::Asset(a.id.clone());
    for (field, v) in [
        ("price", a.price),
        ("shares_outstanding", a.shares_outstanding),
    ] {
        if !finite_pos(v) {
            out.push(problem(
                s(),
                field,
                format!("must be a finite number > 0, got {v}"),
            ));
        }
    }
    for (field, v) in [("adv_usd", a.adv_usd), ("daily_vol", a.daily_vol)] {
        if !finite_nonneg(v) {
            out.push(problem(
                s(),
                field,
                format!("must be a finite number ≥ 0, got {v}"),
            ));
        }
    }
    for (field, v) in [("beta", a.beta), ("duration", a.duration)] {
        if !v.is_finite() {
            out.push(problem(
                s(),
                field,
                format!("must be a finite number, got {v}"),
            ));
        }
    }
    match a.impact {
        ImpactLaw::Linear { per_usd } if !finite_nonneg(per_usd) => out.push(problem(
            s(),
            "impact.per_usd",
            format!("must be a finite number ≥ 0, got {per_usd}"),
        )),
        ImpactLaw::Exponential { alpha } if !finite_nonneg(alpha) => out.push(problem(
            s(),
            "impact.alpha",
            format!("must be a finite number ≥ 0, got {alpha}"),
        )),
        ImpactLaw::SquareRoot { y } => {
            if !finite_nonneg(y) {
                out.push(problem(
                    s(),
                    "impact.y",
                    format!("must be a finite number ≥ 0, got {y}"),
                ));
            }
            if y > 0.0 && !(finite_pos(a.adv_usd) && finite_pos(a.daily_vol)) {
                out.push(hinted(
                    s(),
                    "adv_usd",
                    "the square-root impact law needs adv_usd > 0 and daily_vol > 0".into(),
                    "give the asset's average daily volume (USD) and daily volatility",
                ));
            }
        }
        ImpactLaw::ContSchaanning { c, tau_days, floor } => {
            if !finite_pos(c) {
                out.push(problem(
                    s(),
                    "impact.c",
                    format!("must be a finite number > 0, got {c}"),
                ));
            }
            if !finite_pos(tau_days) {
                out.push(problem(
                    s(),
                    "impact.tau_days",
                    format!("must be a finite number > 0, got {tau_days}"),
                ));
            }
            if !(floor.is_finite() && (0.0..1.0).contains(&floor)) {
                out.push(problem(
                    s(),
                    "impact.floor",
                    format!("must be in [0, 1), got {floor}"),
                ));
            }
            if !(finite_pos(a.adv_usd) && finite_pos(a.daily_vol)) {
                out.push(hinted(
                    s(),
                    "adv_usd",
                    "the Cont–Schaanning impact law needs adv_usd > 0 and daily_vol > 0".into(),
                    "give the asset's average daily volume (USD) and daily volatility",
                ));
            }
        }
        _ => {}
    }
}

/// Longest half-life or delay the timeline accepts, in trading days: about forty years;
/// anything longer is a typo for "permanent" or "never".
pub const MAX_DAYS: f64 = 10_000.0;

fn check_decay(a: &Asset, out: &mut Vec<Problem>) {
    let s = || Subject::Asset(a.id.clone());
    let d = &a.decay;
    if !(d.permanent.is_finite() && (0.0..=1.0).contains(&d.permanent)) {
        out.push(hinted(
            s(),
            "impact.decay.permanent",
            format!("must be in [0, 1], got {}", d.permanent),
            "the share of impact that never reverts: about 1/3 to 1/2 of the peak in the metaorder studies",
        ));
        return;
    }
    let mut total = d.permanent;
    for (i, t) in d.transient.iter().enumerate() {
        if !(t.share.is_finite() && t.share > 0.0 && t.share <= 1.0) {
            out.push(problem(
                s(),
                "impact.decay.transient.share",
                format!("part {i}: must be in (0, 1], got {}", t.share),
            ));
        }
        if !(t.half_life_days.is_finite() && t.half_life_days > 0.0 && t.half_life_days <= MAX_DAYS)
        {
            out.push(hinted(
                s(),
                "impact.decay.half_life_days",
                format!(
                    "part {i}: must be in (0, {MAX_DAYS}] trading days, got {}",
                    t.half_life_days
                ),
                "a half-life in trading days: 0.5 reverts mostly overnight; make impact permanent instead of using a huge half-life",
            ));
        }
        total += t.share;
    }
    if d.transient.is_empty() && d.permanent < 1.0 {
        out.push(hinted(
            s(),
            "impact.decay",
            format!(
                "a permanent share of {} needs transient parts for the rest",
                sig(d.permanent)
            ),
            "give `half_life_days` (one part with the rest of the impact) or a `transient:` list",
        ));
    } else if (total - 1.0).abs() > WEIGHT_TOLERANCE {
        out.push(problem(
            s(),
            "impact.decay",
            format!(
                "the permanent share and the transient shares must sum to 1, got {}",
                sig(total)
            ),
        ));
    }
}

fn check_participation(p: Option<f64>, field: &'static str, s: &Subject, out: &mut Vec<Problem>) {
    if let Some(p) = p
        && !(p.is_finite() && p > 0.0 && p <= 1.0)
    {
        out.push(hinted(
            s.clone(),
            field,
            format!("must be in (0, 1], got {p}"),
            "a fraction of the asset's average daily volume: 0.1–0.25 is a large but executable participation",
        ));
    }
}

fn check_days(days: u32, field: &'static str, s: &Subject, out: &mut Vec<Problem>) {
    if f64::from(days) > MAX_DAYS {
        out.push(problem(
            s.clone(),
            field,
            format!("must be at most {MAX_DAYS} trading days, got {days}"),
        ));
    }
}

pub(crate) fn check_lender(l: &Lender, out: &mut Vec<Problem>) {
    let s = || Subject::Lender(l.id.clone());
    if !finite_pos(l.capital) {
        out.push(problem(
            s(),
            "capital",
            format!("must be a finite number > 0, got {}", l.capital),
        ));
    }
    if !finite_nonneg(l.other_liabilities) {
        out.push(problem(
            s(),
            "other_liabilities",
            format!("must be a finite number ≥ 0, got {}", l.other_liabilities),
        ));
    }
    if let Some(t) = l.tighten_trigger
        && !finite_nonneg(t)
    {
        out.push(problem(
            s(),
            "tighten.trigger",
            format!("must be a finite fraction of capital ≥ 0, got {t}"),
        ));
    }
    if !(l.tighten_by.is_finite() && (0.0..=1.0).contains(&l.tighten_by)) {
        out.push(problem(
            s(),
            "tighten.by",
            format!("must be in [0, 1], got {}", l.tighten_by),
        ));
    }
    check_participation(
        l.liquidation.participation,
        "liquidation.participation",
        &s(),
        out,
    );
    check_days(
        l.liquidation.delay_days,
        "liquidation.delay_days",
        &s(),
        out,
    );
}

pub(crate) fn check_terms(t: &MarginTerms, subject: &Subject, out: &mut Vec<Problem>) {
    if !finite_nonneg(t.loan) {
        out.push(problem(
            subject.clone(),
            "margin.loan",
            format!("must be a finite number ≥ 0, got {}", t.loan),
        ));
    }
    if !(t.maintenance.is_finite() && t.maintenance > 0.0 && t.maintenance <= 1.0) {
        out.push(hinted(
            subject.clone(),
            "margin.maintenance",
            format!("must be in (0, 1], got {}", t.maintenance),
            "maintenance is a fraction: FINRA's minimum is 0.25, brokers' house levels 0.30–0.50",
        ));
    } else if !(t.reset.is_finite() && t.reset >= t.maintenance && t.reset <= 1.0) {
        out.push(hinted(
            subject.clone(),
            "margin.reset",
            format!(
                "must be in [maintenance, 1] = [{}, 1], got {}",
                t.maintenance, t.reset
            ),
            "reset is the equity fraction a called account is restored to; use the maintenance itself or the initial margin (Reg T: 0.5)",
        ));
    }
}

fn check_rule(rule: &BalanceSheetRule, s: &Subject, out: &mut Vec<Problem>) {
    match *rule {
        BalanceSheetRule::LeverageTarget { target, .. }
            if !(target.is_finite() && target >= 1.0) =>
        {
            out.push(problem(
                s.clone(),
                "rule.target",
                format!("target leverage (assets/equity) must be ≥ 1, got {target}"),
            ));
        }
        BalanceSheetRule::Threshold { max, target } => {
            if !(target.is_finite() && target >= 1.0) {
                out.push(problem(
                    s.clone(),
                    "rule.target",
                    format!("target leverage (assets/equity) must be ≥ 1, got {target}"),
                ));
            }
            if !(max.is_finite() && max > target) {
                out.push(hinted(
                    s.clone(),
                    "rule.max",
                    format!("must be greater than target ({target}), got {max}"),
                    "Cont–Schaanning: act above λ_max, return to λ_b = 0.95·λ_max",
                ));
            }
        }
        BalanceSheetRule::CapitalRatio { min_ratio }
            if !(min_ratio.is_finite() && min_ratio > 0.0 && min_ratio < 1.0) =>
        {
            out.push(problem(
                s.clone(),
                "rule.min_ratio",
                format!("must be in (0, 1), got {min_ratio}"),
            ));
        }
        _ => {}
    }
}

fn check_cure(cure: f64, s: &Subject, out: &mut Vec<Problem>) {
    if !(cure.is_finite() && (0.0..=1.0).contains(&cure)) {
        out.push(problem(
            s.clone(),
            "cure_rate",
            format!("must be in [0, 1], got {cure}"),
        ));
    }
}

/// What the builder keeps of a holder's own references to assets.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// An ETF's basket, `(asset, weight)`.
    pub basket: Vec<(AssetIx, f64)>,
    /// The asset of each line of a dealer's book (options, then gamma) or of each of a
    /// trend follower's markets.
    pub lines: Vec<AssetIx>,
}

/// Check one holder; returns what it resolved (empty for kinds without a basket or lines).
pub(crate) fn check_holder(
    h: &Holder,
    ids: &IdMap<String, NodeRef>,
    n_assets: usize,
    out: &mut Vec<Problem>,
) -> Resolved {
    let s = Subject::Holder(h.id.clone());
    for (field, v) in [
        ("cash", h.cash),
        ("other_assets", h.other_assets),
        ("other_liabilities", h.other_liabilities),
    ] {
        if !finite_nonneg(v) {
            out.push(problem(
                s.clone(),
                field,
                format!("must be a finite number ≥ 0, got {v}"),
            ));
        }
    }
    let mut r = Resolved::default();
    match &h.kind {
        HolderKind::MarginAccount { cure_rate } => check_cure(*cure_rate, &s, out),
        HolderKind::MarginCohort {
            accounts,
            buckets,
            cure_rate,
        } => {
            check_cure(*cure_rate, &s, out);
            check_cohort(*accounts, buckets, &s, out);
        }
        HolderKind::AccountBook { book, cure_rate } => {
            check_cure(*cure_rate, &s, out);
            check_book(book, &s, n_assets, out);
        }
        HolderKind::LeveragedEtf {
            multiple,
            nav,
            basket: entries,
        } => {
            r.basket = check_etf(*multiple, *nav, entries, ids, &s, out);
        }
        HolderKind::OptionsDealer { options, gamma } => {
            r.lines = convexity::check_dealer(options, gamma, ids, &s, out);
        }
        HolderKind::VolTarget { rule } => convexity::check_vol_target(rule, &s, out),
        HolderKind::TrendFollower {
            lookbacks,
            markets,
            lag_days,
        } => {
            r.lines = convexity::check_trend(lookbacks, markets, *lag_days, ids, &s, out);
        }
        HolderKind::LeveragedFund { rule } | HolderKind::Bank { rule } => {
            check_rule(rule, &s, out);
        }
        HolderKind::Fund { redemption_beta } => {
            if !finite_nonneg(*redemption_beta) {
                out.push(problem(
                    s.clone(),
                    "redemption_beta",
                    format!("must be a finite number ≥ 0, got {redemption_beta}"),
                ));
            }
        }
    }
    if let Some(d) = h.default_below_ratio {
        check_default_ratio(d, &h.kind, &s, out);
    }
    check_participation(h.timing.participation, "participation", &s, out);
    check_days(h.timing.cure_days, "cure_days", &s, out);
    check_days(h.timing.redemption_lag_days, "redemption_lag_days", &s, out);
    r
}

/// The ratio (equity/assets) below which a holder's rule starts selling, if it has one.
fn acting_ratio(rule: &BalanceSheetRule) -> Option<(f64, &'static str)> {
    match *rule {
        BalanceSheetRule::Threshold { max, .. } => Some((1.0 / max, "rule.max")),
        BalanceSheetRule::LeverageTarget { target, .. } => Some((1.0 / target, "rule.target")),
        BalanceSheetRule::CapitalRatio { min_ratio } => Some((min_ratio, "rule.min_ratio")),
        BalanceSheetRule::Passive | BalanceSheetRule::FailLiquidate => None,
    }
}

/// An insolvency ratio: banks and leveraged funds only, in (0, 1), below the ratio at
/// which the holder's rule starts selling (else the rule's buffer could never work).
fn check_default_ratio(d: f64, kind: &HolderKind, s: &Subject, out: &mut Vec<Problem>) {
    let field = "default_below_ratio";
    let (HolderKind::Bank { rule } | HolderKind::LeveragedFund { rule }) = kind else {
        out.push(hinted(
            s.clone(),
            field,
            format!(
                "applies to banks and leveraged funds only, not to a {}",
                kind.tag().name()
            ),
            "margin holders default when their equity reaches 0; remove the key",
        ));
        return;
    };
    if !(d.is_finite() && d > 0.0 && d < 1.0) {
        out.push(hinted(
            s.clone(),
            field,
            format!("must be in (0, 1), got {d}"),
            "an equity/assets ratio as a fraction: 0.03 is insolvent below a 3% leverage ratio",
        ));
        return;
    }
    if let Some((acting, key)) = acting_ratio(rule)
        && acting.is_finite()
        && d >= acting
    {
        out.push(hinted(
            s.clone(),
            field,
            format!(
                "must be below the ratio at which the rule starts selling ({} from `{key}`), got {d}",
                sig(acting)
            ),
            "e.g. leverage-ratio banks: insolvent below 0.03, act below 0.04 (`threshold` with `max: 25`), back to 0.05 (`target: 20`)",
        ));
    }
}

fn check_cohort(accounts: u64, buckets: &[crate::LtvBucket], s: &Subject, out: &mut Vec<Problem>) {
    let s = s.clone();
    if accounts == 0 {
        out.push(problem(
            s.clone(),
            "accounts",
            "a cohort must stand for at least one account".into(),
        ));
    }
    if buckets.is_empty() {
        out.push(problem(
            s.clone(),
            "ltv_buckets",
            "a cohort needs at least one loan-to-value bucket".into(),
        ));
    }
    let mut total = 0.0;
    for (i, b) in buckets.iter().enumerate() {
        if !(b.ltv.is_finite() && (0.0..1.0).contains(&b.ltv)) {
            out.push(hinted(
                s.clone(),
                &format!("ltv_buckets[{i}].ltv"),
                format!("loan-to-value must be in [0, 1), got {}", b.ltv),
                "LTV is loan / holdings value; Reg T's initial margin caps it at 0.5 when opened",
            ));
        }
        if !finite_nonneg(b.share) {
            out.push(problem(
                s.clone(),
                &format!("ltv_buckets[{i}].share"),
                format!("must be a finite number ≥ 0, got {}", b.share),
            ));
        }
        total += b.share;
    }
    if !buckets.is_empty() && total.is_finite() && (total - 1.0).abs() > WEIGHT_TOLERANCE {
        out.push(hinted(
            s.clone(),
            "ltv_buckets",
            format!("bucket shares must sum to 1, got {}", sig(total)),
            "each share is the fraction of the cohort's accounts (and holdings) in that bucket",
        ));
    }
}

/// Check a leveraged ETF's parameters; returns its basket resolved to asset indices.
fn check_etf(
    multiple: f64,
    nav: f64,
    entries: &[(String, f64)],
    ids: &IdMap<String, NodeRef>,
    s: &Subject,
    out: &mut Vec<Problem>,
) -> Vec<(AssetIx, f64)> {
    let s = s.clone();
    let mut basket = Vec::new();
    if !(multiple.is_finite() && multiple != 0.0) {
        out.push(hinted(
            s.clone(),
            "multiple",
            format!("must be a finite non-zero number, got {multiple}"),
            "e.g. 3 for SOXL, -3 for SOXS, 2 for NVDL",
        ));
    }
    if !finite_pos(nav) {
        out.push(problem(
            s.clone(),
            "nav",
            format!("must be a finite number > 0, got {nav}"),
        ));
    }
    if entries.is_empty() {
        out.push(problem(
            s.clone(),
            "basket",
            "a leveraged ETF needs a basket of at least one asset".into(),
        ));
    }
    let mut total = 0.0;
    for (id, w) in entries {
        let field = format!("basket.{id}");
        if !finite_pos(*w) {
            out.push(problem(
                s.clone(),
                &field,
                format!("weight must be a finite number > 0, got {w}"),
            ));
        }
        total += w;
        match ids.get(id.as_str()) {
            Some(NodeRef::Asset(a)) => basket.push((*a, *w)),
            Some(_) => out.push(problem(
                s.clone(),
                &field,
                format!("`{id}` is not an asset"),
            )),
            None => out.push(problem(s.clone(), &field, format!("unknown asset `{id}`"))),
        }
    }
    if !entries.is_empty() && total.is_finite() && (total - 1.0).abs() > WEIGHT_TOLERANCE {
        out.push(hinted(
            s.clone(),
            "basket",
            format!("basket weights must sum to 1, got {}", sig(total)),
            "weights are fractions of the fund's exposure",
        ));
    }
    basket.sort_by_key(|&(a, _)| a);
    for w in basket.windows(2) {
        if w[0].0 == w[1].0 {
            out.push(problem(
                s.clone(),
                "basket",
                "an asset appears twice in the basket".into(),
            ));
        }
    }
    basket
}

/// Whether every amount of a book is finite and ≥ 0 and every asset index in range, on
/// every core: the common case, which then skips the row-by-row walk that words problems.
fn book_clean(book: &crate::AccountBook, n_assets: usize) -> bool {
    use crate::model::BOOK_CHUNK;
    let amounts = |v: &[f64]| {
        v.par_chunks(BOOK_CHUNK)
            .all(|c| c.iter().all(|&x| finite_nonneg(x)))
    };
    amounts(&book.cash)
        && amounts(&book.loan)
        && amounts(&book.shares)
        && !book.has_rows_past(n_assets)
}

fn check_book(book: &crate::AccountBook, s: &Subject, n_assets: usize, out: &mut Vec<Problem>) {
    let n = book.cash.len();
    if book.loan.len() != n || book.row_ptr.len() != n + 1 {
        out.push(problem(
            s.clone(),
            "accounts",
            format!(
                "inconsistent book: {n} cash entries, {} loans, {} row pointers",
                book.loan.len(),
                book.row_ptr.len()
            ),
        ));
        return;
    }
    if book.assets.len() != book.shares.len()
        || book.row_ptr.first() != Some(&0)
        || book.row_ptr.last().copied() != Some(book.shares.len() as u64)
        || book
            .row_ptr
            .par_windows(2)
            .with_min_len(crate::model::BOOK_CHUNK)
            .any(|w| w[0] > w[1])
    {
        out.push(problem(
            s.clone(),
            "holdings",
            "inconsistent book: holdings rows do not match the row pointers".into(),
        ));
        return;
    }
    if book_clean(book, n_assets) {
        return;
    }
    // Report the first few bad rows by number and count the rest, so a bad file of ten
    // million rows gives a readable message.
    let mut bad = 0usize;
    let mut report = |field: &str, row: usize, msg: String, out: &mut Vec<Problem>| {
        bad += 1;
        if bad <= 5 {
            out.push(problem(s.clone(), &format!("accounts[{row}].{field}"), msg));
        }
    };
    for i in 0..n {
        if !finite_nonneg(book.cash[i]) {
            report(
                "cash",
                i,
                format!("must be a finite number ≥ 0, got {}", book.cash[i]),
                out,
            );
        }
        if !finite_nonneg(book.loan[i]) {
            report(
                "loan",
                i,
                format!("must be a finite number ≥ 0, got {}", book.loan[i]),
                out,
            );
        }
        for k in book.row_ptr[i] as usize..book.row_ptr[i + 1] as usize {
            if book.assets[k].get() >= n_assets {
                report(
                    "asset",
                    i,
                    format!("asset index {} out of range", book.assets[k].0),
                    out,
                );
            }
            if !finite_nonneg(book.shares[k]) {
                report(
                    "shares",
                    i,
                    format!("must be a finite number ≥ 0, got {}", book.shares[k]),
                    out,
                );
            }
        }
    }
    if bad > 5 {
        out.push(problem(
            s.clone(),
            "accounts",
            format!("… and {} more bad rows", bad - 5),
        ));
    }
}
