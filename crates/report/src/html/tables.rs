//! The report's tables: assets, holder kinds, lenders, holders and the round-by-round trace.

use std::fmt::Write as _;

use super::svg::{esc, money, signed_pct};
use super::{Ctx, MAX_ROWS, kind_colour, kind_label, price_now, status_class, status_label};

pub(super) fn assets_table(out: &mut String, ctx: &Ctx<'_>, rows: &[usize]) {
    let o = ctx.outcome;
    let n = ctx.n;
    let (shocked, now) = if ctx.steps.is_empty() {
        ("after the shock", format!("after round {n}"))
    } else {
        ("after all the news", "at the last close".to_owned())
    };
    let more = o.assets.len().saturating_sub(rows.len());
    let _ = write!(
        out,
        "<div class=\"wide\"><table class=\"num\" id=\"assets-table\"><caption>Assets, largest forced sales first{}</caption>\
         <thead><tr><th scope=\"col\">asset</th><th scope=\"col\">before</th><th scope=\"col\">{shocked}</th>\
         <th scope=\"col\" id=\"now-head\">{now}</th><th scope=\"col\">final</th><th scope=\"col\">drawdown</th>\
         <th scope=\"col\">forced sales, at the prices sold</th></tr></thead><tbody>",
        if more > 0 {
            format!(" ({more} smaller not listed)")
        } else {
            String::new()
        }
    );
    for &i in rows {
        let a = &o.assets[i];
        // The last step's prices (a timeline's trace ends on its last day).
        let now = o.trace.last().map_or(a.price_after, |t| t.prices[i]);
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"now\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&ctx.net.asset(delever_graph::AssetIx(i as u32)).id),
            crate::text::price(a.price_before),
            esc(&price_now(a.price_shocked, a.price_before)),
            esc(&price_now(now, a.price_before)),
            crate::text::price(a.price_after),
            esc(&signed_pct(a.drawdown)),
            esc(&money(a.forced_sales_at_sale_prices_usd))
        );
    }
    out.push_str("</tbody></table></div>\n");
}

pub(super) fn kinds_table(out: &mut String, ctx: &Ctx<'_>) {
    out.push_str(
        "<div class=\"kinds\"><table class=\"num\" id=\"kinds-table\"><caption>Holders by kind</caption><thead><tr><th scope=\"col\">holder kind</th>\
         <th scope=\"col\">holders</th><th scope=\"col\">equity before</th><th scope=\"col\">equity after</th>\
         <th scope=\"col\">sales</th><th scope=\"col\">share of sales</th><th scope=\"col\">calls</th><th scope=\"col\">defaults</th></tr></thead><tbody>",
    );
    let total_sales: f64 = ctx.outcome.holders.iter().map(|h| h.sales_usd).sum();
    for k in &ctx.kinds {
        let rows: Vec<_> = ctx
            .outcome
            .holders
            .iter()
            .filter(|h| h.kind == *k)
            .collect();
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><span class=\"swatch\" style=\"background:{}\"></span>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            kind_colour(*k),
            esc(kind_label(*k)),
            rows.len(),
            esc(&money(rows.iter().map(|h| h.equity_before).sum())),
            esc(&money(rows.iter().map(|h| h.equity_after).sum())),
            esc(&money(rows.iter().map(|h| h.sales_usd).sum())),
            esc(&crate::text::share(
                rows.iter().map(|h| h.sales_usd).sum(),
                total_sales
            )),
            rows.iter().map(|h| h.margin_calls).sum::<u64>(),
            rows.iter().map(|h| h.defaults).sum::<u64>()
        );
    }
    out.push_str("</tbody></table></div>\n");
}

pub(super) fn lenders_table(out: &mut String, ctx: &Ctx<'_>) {
    if ctx.outcome.lenders.is_empty() {
        out.push_str("<div><p class=\"muted\">No lenders in this scenario.</p></div>\n");
        return;
    }
    out.push_str(
        "<div class=\"lenders\"><table class=\"num\" id=\"lenders-table\"><caption>Lenders</caption><thead><tr><th scope=\"col\">lender</th>\
         <th scope=\"col\">capital</th><th scope=\"col\">borrower losses</th><th scope=\"col\">interbank losses</th>\
         <th scope=\"col\">status</th></tr></thead><tbody>",
    );
    for l in &ctx.outcome.lenders {
        let status = match (l.defaulted, l.tightened) {
            (true, _) => "defaulted",
            (false, true) => "tightened margin",
            (false, false) => "normal",
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            esc(&ctx.net.lender(l.lender).id),
            esc(&money(l.capital)),
            esc(&money(l.borrower_losses_usd)),
            esc(&money(l.interbank_losses_usd)),
            status
        );
    }
    out.push_str("</tbody></table></div>\n");
}

pub(super) fn holders_table(out: &mut String, ctx: &Ctx<'_>) {
    let hs = &ctx.outcome.holders;
    let mut idx: Vec<usize> = (0..hs.len()).collect();
    idx.sort_by(|&a, &b| {
        hs[b]
            .sales_usd
            .abs()
            .total_cmp(&hs[a].sales_usd.abs())
            .then(a.cmp(&b))
    });
    idx.truncate(MAX_ROWS);
    let more = hs.len().saturating_sub(idx.len());
    let _ = write!(
        out,
        "<div class=\"wide\"><table class=\"num\" id=\"holders-table\"><caption>Holders, largest sales first{}</caption><thead><tr>\
         <th scope=\"col\">holder</th><th scope=\"col\">kind</th><th scope=\"col\">status</th>\
         <th scope=\"col\">equity before</th><th scope=\"col\">after the shock</th><th scope=\"col\">final</th>\
         <th scope=\"col\">sales</th><th scope=\"col\">calls</th><th scope=\"col\">defaults</th>\
         <th scope=\"col\">loss to lenders</th></tr></thead><tbody>",
        if more > 0 {
            format!(" ({more} more not listed)")
        } else {
            String::new()
        }
    );
    for i in idx {
        let h = &hs[i];
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"text\">{}</td><td class=\"text\"><span class=\"sw round {}\"></span>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&ctx.net.holder(h.holder).id),
            esc(kind_label(h.kind)),
            status_class(h.status),
            status_label(h.status),
            esc(&money(h.equity_before)),
            esc(&money(h.equity_shocked)),
            esc(&money(h.equity_after)),
            esc(&money(h.sales_usd)),
            h.margin_calls,
            h.defaults,
            esc(&money(h.lender_loss_usd))
        );
    }
    out.push_str("</tbody></table></div>\n");
}

pub(super) fn trace_table(out: &mut String, ctx: &Ctx<'_>) {
    let timeline = !ctx.steps.is_empty();
    let _ = write!(
        out,
        "<div class=\"wide trace\"><table class=\"num\" id=\"trace-table\"><caption>{}</caption><thead><tr>{}\
         <th scope=\"col\">round</th><th scope=\"col\">sales so far</th><th scope=\"col\">this round</th>\
         <th scope=\"col\">price index</th><th scope=\"col\">new calls</th><th scope=\"col\">new defaults</th>\
         <th scope=\"col\">residual</th><th scope=\"col\">largest sellers</th></tr></thead><tbody>",
        if timeline {
            "Round by round, within each day (sales: the day's so far)"
        } else {
            "Round by round"
        },
        if timeline {
            "<th scope=\"col\">day</th>"
        } else {
            ""
        }
    );
    let mut prev = 0.0;
    let mut day = None;
    for t in &ctx.outcome.trace {
        // A timeline's rounds restart every day, and so do its sales.
        if timeline && day != Some(t.day) {
            day = Some(t.day);
            prev = 0.0;
        }
        let sellers = t
            .largest_sellers
            .iter()
            .take(3)
            .map(|(h, v)| format!("{} {}", ctx.net.holder(*h).id, money(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            "<tr>{}<th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{}</td><td>{:.1e}</td><td class=\"text\">{}</td></tr>",
            if timeline {
                format!("<td>{}</td>", t.day)
            } else {
                String::new()
            },
            t.round,
            esc(&money(t.sales_usd)),
            esc(&money(t.sales_usd - prev)),
            t.price_index,
            t.new_calls,
            t.new_defaults,
            t.residual,
            esc(&sellers)
        );
        prev = t.sales_usd;
    }
    out.push_str("</tbody></table></div>\n");
}

/// Who makes it bad: the ranking's top rows (marginal contribution, GLT systemicness and
/// vulnerability, DebtRank) and the aggregate figures under it.
pub(super) fn systemic_table(out: &mut String, s: &crate::SystemicReport) {
    let rows: Vec<crate::RankRow> = s
        .ranking()
        .into_iter()
        .filter(|r| {
            r.contribution_usd.is_some_and(|c| c != 0.0)
                || r.systemicness.is_some_and(|x| x != 0.0)
                || r.debtrank.is_some_and(|d| d > 0.0)
        })
        .take(super::MAX_ROWS)
        .collect();
    if rows.is_empty() && s.vulnerability.is_none() && s.debtrank.is_none() {
        return;
    }
    out.push_str(
        "<div class=\"wide\"><table class=\"num\" id=\"systemic-table\"><caption>Who makes it bad: \
         the cascade loss each holder's forced selling adds (against the run with it switched off), \
         GLT systemicness S and indirect vulnerability IV, DebtRank if it alone defaulted</caption>\
         <thead><tr><th scope=\"col\">holder</th><th scope=\"col\">kind</th><th scope=\"col\">contribution</th>\
         <th scope=\"col\">share of cascade</th><th scope=\"col\">S</th><th scope=\"col\">IV</th>\
         <th scope=\"col\">DebtRank</th></tr></thead><tbody>",
    );
    let pct =
        |x: Option<f64>| x.map_or_else(|| "\u{2013}".to_owned(), |v| format!("{:.2}%", 100.0 * v));
    for r in &rows {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.id),
            esc(r.kind),
            esc(&r
                .contribution_usd
                .map_or_else(|| "\u{2013}".to_owned(), money)),
            esc(&pct(r.share_of_cascade)),
            esc(&pct(r.systemicness)),
            esc(&pct(r.indirect_vulnerability)),
            esc(&r
                .debtrank
                .map_or_else(|| "\u{2013}".to_owned(), |d| format!("{d:.4}"))),
        );
    }
    out.push_str("</tbody></table>");
    let mut notes = Vec::new();
    if let Some(v) = &s.vulnerability {
        notes.push(format!(
            "Aggregate vulnerability (GLT): the fire sale costs the leverage-targeting holders {:.2}% of their equity ({}).",
            100.0 * v.aggregate_vulnerability,
            money(v.equity_usd)
        ));
    }
    if let Some(n) = &s.contributions_note {
        notes.push(format!("Contributions: {n}."));
    }
    if let Some(d) = &s.debtrank {
        notes.push(format!(
            "DebtRank ({}): the shock spreads a further {:.2}% of equity through the claims.",
            d.layers.join(", "),
            100.0 * d.shock
        ));
    }
    for n in notes {
        let _ = write!(out, "<p class=\"muted\">{}</p>", esc(&n));
    }
    out.push_str("</div>\n");
}
