//! The HTML report (`delever run --html FILE`): one self-contained file — inline SVG, CSS
//! and script, no network requests, no external fonts — with the headline figures, the
//! price path per asset, forced sales by holder kind and round, the loss waterfall, the
//! network coloured by status, a round-by-round player, and the scenario's description,
//! assumptions and sources.
//!
//! Build a [`Player`] from the network and the run's ledger, feed it every round of a
//! [`delever_engine::explain::Replay`], then call [`render`]. The output is deterministic:
//! the same inputs give the same bytes. Every string that comes from the scenario is
//! escaped. Without script the page shows the final round; the player (script) steps
//! through the rounds, and the charts and the network follow.
//!
//! A timeline run's page plays days instead: price paths over days (each day's open and
//! close, the close line and the fundamental dashed, so a rebound shows), forced sales by
//! kind per day, a days table, and a player that steps through every round of every day
//! (with buttons to jump from one day's close to the next). Its network shows each
//! holder's status on the day on show, from the run's days (a timeline is not replayed).
//!
//! [`sweep_page`] and [`mc_page`] render a sweep's threshold curves and a Monte Carlo
//! study's distributions as pages in the same shell (styles, palette, no requests), without
//! script.

#[cfg(test)]
mod batch_tests;
mod charts;
mod day_charts;
mod days;
mod mc;
mod network;
mod player;
mod svg;
mod sweep;
mod tables;
#[cfg(test)]
mod tests;
mod xy;

use std::fmt::Write as _;

use delever_engine::{Ledger, Mode, Outcome, Status, Termination};
use delever_graph::{KindTag, Network};
use serde_json::{Value, json};

pub use mc::mc_page;
pub use player::Player;
pub use sweep::sweep_page;

use crate::run::RunMeta;
use svg::{esc, f1, money, script_json, signed_pct};
use tables::{assets_table, holders_table, kinds_table, lenders_table, trace_table};

const CSS: &str = include_str!("../../assets/report.css");

const JS: &str = include_str!("../../assets/player.js");

/// Most rows in the assets and holders tables.
const MAX_ROWS: usize = 50;

/// Milliseconds between rounds when the player plays.
const PLAY_INTERVAL_MS: u32 = 900;

/// A cited source, as the report lists it (and as a shard header carries it for
/// `delever merge --html`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceNote {
    /// Id that the scenario's `source:` fields refer to.
    pub id: String,
    /// Title of the publication.
    pub title: String,
    /// Where to find it (printed as text, never fetched or linked).
    pub url: Option<String>,
    /// Publication date.
    pub date: Option<String>,
}

/// What a scenario says about itself beyond [`RunMeta`]: its assumptions and sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioNotes {
    /// Assumptions, in plain words.
    pub assumptions: Vec<String>,
    /// Cited sources.
    pub sources: Vec<SourceNote>,
}

/// Everything the HTML report draws.
#[derive(Debug, Clone, Copy)]
pub struct HtmlInput<'a> {
    /// The scenario's name, description and date.
    pub meta: &'a RunMeta,
    /// The scenario's assumptions and sources.
    pub notes: &'a ScenarioNotes,
    /// The network the run was made on.
    pub net: &'a Network,
    /// The run.
    pub outcome: &'a Outcome,
    /// The run's ledger (starting positions, for losses and exposures).
    pub ledger: &'a Ledger,
    /// Every round's holder and lender states, from a replay of the run.
    pub player: &'a Player,
    /// Who makes the cascade bad (the run report's `systemic` block), when computed.
    pub systemic: Option<&'a crate::SystemicReport>,
}

/// What the charts share.
pub(crate) struct Ctx<'a> {
    pub net: &'a Network,
    pub outcome: &'a Outcome,
    pub ledger: &'a Ledger,
    pub player: &'a Player,
    /// Holder kinds present, in report order.
    pub kinds: Vec<KindTag>,
    /// Steps of the player after the first (rounds of the main iteration; a timeline:
    /// every round of every day).
    pub n: usize,
    /// A timeline's player steps (empty otherwise).
    pub steps: Vec<days::Step>,
}

/// Plural, readable names of the holder kinds.
pub(crate) fn kind_label(k: KindTag) -> &'static str {
    match k {
        KindTag::MarginAccount => "margin accounts",
        KindTag::MarginCohort => "margin cohorts",
        KindTag::AccountBook => "account books",
        KindTag::LeveragedEtf => "leveraged ETFs",
        KindTag::LeveragedFund => "leveraged funds",
        KindTag::Bank => "banks",
        KindTag::Fund => "funds",
        KindTag::OptionsDealer => "options dealers",
        KindTag::VolTarget => "vol-target funds",
        KindTag::TrendFollower => "trend followers",
    }
}

/// One Okabe–Ito colour per holder kind (its eight used up, the last two kinds take
/// colours from Paul Tol's muted scheme).
pub(crate) fn kind_colour(k: KindTag) -> &'static str {
    match k {
        KindTag::MarginAccount => "#cc79a7",
        KindTag::MarginCohort => "#e69f00",
        KindTag::AccountBook => "#f0e442",
        KindTag::LeveragedEtf => "#0072b2",
        KindTag::LeveragedFund => "#d55e00",
        KindTag::Bank => "#009e73",
        KindTag::Fund => "#56b4e9",
        KindTag::OptionsDealer => "#000000",
        KindTag::VolTarget => "#882255",
        KindTag::TrendFollower => "#999933",
    }
}

/// Statuses in the order the player's codes use.
const STATUSES: [Status; 6] = [
    Status::Unaffected,
    Status::Sold,
    Status::Bought,
    Status::MarginCall,
    Status::Liquidated,
    Status::Defaulted,
];

fn status_code(s: Status) -> usize {
    STATUSES.iter().position(|&t| t == s).unwrap_or(0)
}

/// The CSS class of a status (its fill colour).
pub(crate) fn status_class(s: Status) -> String {
    format!("st-{}", s.name())
}

/// A status in words.
pub(crate) fn status_label(s: Status) -> &'static str {
    match s {
        Status::Unaffected => "unaffected",
        Status::Sold => "sold",
        Status::Bought => "bought",
        Status::MarginCall => "margin call",
        Status::Liquidated => "liquidated",
        Status::Defaulted => "defaulted",
    }
}

/// Open a report page: the head with its Content-Security-Policy, the stylesheet, and
/// `<body><main>`. `title` is plain text (escaped here). `script` marks the page as one
/// whose script removes the `no-js` class (the run report's player).
pub(crate) fn page_open(out: &mut String, title: &str, script: bool) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"{}>\n<head>\n<meta charset=\"utf-8\">\n",
        if script { " class=\"no-js\"" } else { "" }
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"delever\">\n");
    // No network requests: nothing may load from anywhere (a CSP makes that explicit).
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n",
    );
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>\n{CSS}</style>\n</head>\n<body>\n<main>");
}

/// Render the report: one complete HTML document.
pub fn render(input: &HtmlInput<'_>) -> String {
    let o = input.outcome;
    let mut kinds: Vec<KindTag> = Vec::new();
    for k in KindTag::ALL {
        if input.net.holders().iter().any(|h| h.kind.tag() == k) {
            kinds.push(k);
        }
    }
    let timeline = o.mode == Mode::Timeline && !o.days.is_empty();
    let steps = if timeline { days::steps(o) } else { Vec::new() };
    let ctx = Ctx {
        net: input.net,
        outcome: o,
        ledger: input.ledger,
        player: input.player,
        kinds,
        n: if timeline { steps.len() } else { o.trace.len() },
        steps,
    };
    let table_assets = asset_rows(&ctx);
    let (prices, data) = if timeline {
        let chart = day_charts::price_chart(&ctx, &ctx.steps);
        let data = day_charts::player_data(&ctx, &ctx.steps, &chart, &table_assets);
        (chart.chart, data)
    } else {
        let prices = charts::price_chart(&ctx);
        let data = player_data(&ctx, &prices, &table_assets);
        (prices, data)
    };
    let network = network::draw(&ctx);

    let meta = input.meta;
    let mut out = String::with_capacity(64 * 1024);
    page_open(
        &mut out,
        &format!("{} \u{2014} delever cascade report", meta.name),
        true,
    );
    header(&mut out, meta, o);
    cards(&mut out, o);
    if timeline {
        day_player_controls(&mut out, ctx.n, &days::last_label(o, &ctx.steps));
    } else {
        player_controls(&mut out, ctx.n);
    }

    figures(&mut out, &ctx, &prices.svg, &network.svg);

    out.push_str("<h2>Tables</h2>\n<div class=\"tables\">\n");
    if timeline {
        days::days_table(&mut out, &ctx);
    }
    assets_table(&mut out, &ctx, &table_assets);
    kinds_table(&mut out, &ctx);
    lenders_table(&mut out, &ctx);
    holders_table(&mut out, &ctx);
    if let Some(s) = input.systemic {
        tables::systemic_table(&mut out, s);
    }
    trace_table(&mut out, &ctx);
    out.push_str("</div>\n");
    scenario_section(&mut out, meta, input.notes);
    let _ = write!(
        out,
        "<footer><p>Made by delever {} from the scenario <code>{}</code>. This file is self-contained: \
         it loads nothing from the network. Why did a holder sell? <code>delever explain {} --holder ID</code> \
         shows {}.</p></footer>\n</main>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&meta.name),
        esc(&meta.name),
        if timeline {
            "its balance sheet at each close, its calls and their deadlines, day by day"
        } else {
            "its balance sheet and the rule that fired, round by round"
        }
    );
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"delever-data\">{}</script>\n<script>\n{JS}</script>\n</body>\n</html>\n",
        script_json(&data)
    );
    out
}

/// Where the run ends, as the waterfall's last column names it.
pub(crate) fn end_label(o: &Outcome) -> &'static str {
    if o.mode == Mode::Timeline {
        "total at the last close"
    } else {
        "total at the fixed point"
    }
}

/// The waterfall's headline: how much the cascade amplified the shock.
fn amplification_note(ctx: &Ctx<'_>) -> String {
    let o = ctx.outcome;
    let t = &o.totals;
    if !crate::run::amplification_meaningful(t.initial_loss_usd, t.total_loss_usd) {
        return format!(
            "<p>The shock alone: {}; the cascade added {}. The shock alone cost too little for \
             a ratio to it to mean anything: read the cascade loss.</p>",
            esc(&money(t.initial_loss_usd)),
            esc(&money(t.total_loss_usd - t.initial_loss_usd))
        );
    }
    let mut s = format!(
        "<p>The shock alone: {}; with the cascade: {}. Amplification <strong>{:.3}\u{00d7}</strong> \
         (total \u{f7} shock){}.",
        esc(&money(t.initial_loss_usd)),
        esc(&money(t.total_loss_usd)),
        t.amplification,
        if t.initial_loss_usd < 0.0 {
            "; negative losses are gains"
        } else {
            ""
        }
    );
    if o.mode == Mode::Timeline {
        // The waterfall marks the starting positions to the last close; the headline also
        // counts what selling at earlier, different closes saved or cost.
        let mtm: f64 = charts::kind_losses(ctx).iter().map(|l| l.1).sum();
        let _ = write!(
            s,
            " The waterfall marks every starting position to the last close ({}); selling at \
             earlier closes instead changed the loss by {}.",
            esc(&money(mtm)),
            esc(&money(t.total_loss_usd - mtm))
        );
    }
    s.push_str("</p>");
    s
}

/// The four figures: prices, sales by kind, the network, the loss waterfall.
fn figures(out: &mut String, ctx: &Ctx<'_>, prices: &str, network: &str) {
    out.push_str("<div class=\"grid\">\n");
    if ctx.steps.is_empty() {
        round_figures(out, ctx, prices);
    } else {
        day_figures(out, ctx, prices);
    }
    let _ = writeln!(
        out,
        "<figure id=\"fig-network\" class=\"wide\"><h3>The network</h3>{}{}<figcaption>Lenders lend on \
         margin (blue) to holders, who hold assets (grey; dashed: short). Sizes are exposures at \
         pre-shock prices. Holders and lenders take the colour and the label of their status in the \
         {} on show. Hover a node or an edge for its figures.{}{}</figcaption></figure>",
        network,
        status_legend(),
        if ctx.steps.is_empty() { "round" } else { "day" },
        if ctx.player.aggregated {
            format!(
                " With {} holders, each node stands for the holders of one kind that borrow from \
                 one lender (or from none), labelled with their count, sized by their exposure and \
                 coloured by the most severe status among them.",
                ctx.net.holders().len()
            )
        } else {
            String::new()
        },
        if !ctx.steps.is_empty() {
            " A timeline carries balance sheets from day to day and is not replayed round by \
             round: every round of a day shows each holder's status on that day (what its rule \
             did, at the close), and a lender is marked defaulted when its losses standing at \
             the close exceed its capital (tightening is known at the last close only)."
        } else if ctx.player.len() == ctx.n {
            ""
        } else {
            " This run's rounds are not replayed (sequential rounds carry balance sheets from \
             one to the next), so the network shows the final statuses in every round."
        }
    );
    let _ = writeln!(
        out,
        "<figure id=\"fig-waterfall\" class=\"wide\"><h3>Where the losses come from</h3>{}\
         <div class=\"tables\"><div>{}</div><div>{}</div></div><figcaption>Mark-to-market loss of every \
         holder's starting positions: at the shocked prices (the exogenous shock), and at {}; \
         the difference is what the cascade of forced sales added.</figcaption></figure>",
        amplification_note(ctx),
        charts::waterfall(ctx),
        charts::waterfall_table(ctx),
        if ctx.steps.is_empty() {
            "the fixed point"
        } else {
            "the last close (shocked: the fundamental prices all the news leads to)"
        }
    );
    out.push_str("</div>\n");
}

/// A timeline's prices and sales: over days.
fn day_figures(out: &mut String, ctx: &Ctx<'_>, prices: &str) {
    let _ = writeln!(
        out,
        "<figure id=\"fig-prices\"><h3>Prices, day by day</h3>{prices}<figcaption>Change since before the \
         shock, per asset (thick black: all starting holdings, at each close). Each day runs from its \
         open (\u{25cb}: the day before's close moved by the day's news and by the impact that decayed \
         overnight) to its close (\u{25cf}); an open above the day before's close is the rebound. The \
         dashed line is the fundamental price, without impact. The player moves the dots through \
         each day's rounds. The vertical axis does not start at zero.</figcaption></figure>"
    );
    let _ = writeln!(
        out,
        "<figure id=\"fig-sales\"><h3>Forced sales by holder kind, per day</h3>{}{}<figcaption>Each \
         day's net forced sales, valued at its close (below zero: net buying); the legend gives \
         the sums over the days. The player fades the days still to come.</figcaption></figure>",
        day_charts::sales_chart(ctx),
        charts::kind_legend(&ctx.kinds, &days::total_sales(ctx))
    );
}

/// An equilibrium's (or sequential run's) prices and sales: over rounds.
fn round_figures(out: &mut String, ctx: &Ctx<'_>, prices: &str) {
    let _ = writeln!(
        out,
        "<figure id=\"fig-prices\"><h3>Prices, round by round</h3>{prices}<figcaption>Change since before the \
         shock, per asset (thick black: all starting holdings). Round 0 is just after the exogenous \
         shock; each round's forced sales then move prices further. The vertical axis does not start \
         at zero.</figcaption></figure>"
    );
    let _ = writeln!(
        out,
        "<figure id=\"fig-sales\"><h3>Forced sales by holder kind</h3>{}{}<figcaption>Cumulative net \
         forced sales after each round, valued at that round's prices (below zero: net buying). \
         The player fades the rounds still to come.</figcaption></figure>",
        charts::sales_chart(ctx),
        charts::kind_legend(&ctx.kinds, &charts::final_sales(ctx))
    );
}

fn header(out: &mut String, meta: &RunMeta, o: &Outcome) {
    out.push_str("<header class=\"top\">\n<p class=\"kicker\">delever \u{00b7} deleveraging cascade report</p>\n");
    let _ = write!(out, "<h1>{}</h1>\n<p class=\"muted\">", esc(&meta.name));
    if !meta.as_of.is_empty() {
        let _ = write!(out, "Figures as of {} \u{00b7} ", esc(&meta.as_of));
    }
    if o.mode == Mode::Sequential {
        out.push_str("sequential rounds (Cont\u{2013}Schaanning) \u{00b7} ");
    }
    if o.mode == Mode::Timeline {
        let _ = write!(
            out,
            "a timeline over {} day{} \u{00b7} ",
            o.days.len(),
            if o.days.len() == 1 { "" } else { "s" }
        );
    }
    let plural = if o.rounds == 1 { "" } else { "s" };
    match o.termination {
        Termination::Converged => {
            let _ = write!(
                out,
                "<span class=\"badge ok\">converged</span> after {} round{plural} (residual {:.1e})",
                o.rounds, o.residual
            );
        }
        Termination::MaxRounds => {
            let _ = write!(
                out,
                "<span class=\"badge warn\">did not converge</span> within {} round{plural} (residual {:.1e})",
                o.rounds, o.residual
            );
        }
    }
    out.push_str("</p>\n");
    lede(out, meta);
    if o.termination == Termination::MaxRounds {
        out.push_str(
            "<p class=\"banner\" role=\"alert\">The iteration stopped at its round limit before prices \
             settled: the figures below are the last round's, not a fixed point.</p>\n",
        );
    }
    if let Some(l) = &o.least
        && l.differs
    {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"note\">Several equilibria: starting from fully liquidated prices the \
             cascade settles at a worse fixed point, with a total loss of {} (this report shows the \
             greatest, least severe one: {}).</p>",
            esc(&money(l.total_loss_usd)),
            esc(&money(o.totals.total_loss_usd))
        );
    }
    out.push_str("</header>\n");
}

fn cards(out: &mut String, o: &Outcome) {
    let t = &o.totals;
    let final_sales: f64 = o
        .assets
        .iter()
        .map(|a| a.forced_sales_shares * a.price_after)
        .sum();
    let end = if o.mode == Mode::Timeline {
        "at the last close"
    } else {
        "at the fixed point"
    };
    let end_gain = if o.mode == Mode::Timeline {
        "at the last close (negative: a gain)"
    } else {
        "at the fixed point (negative: a gain)"
    };
    let items: [(&str, String, &str, bool); 9] = [
        (
            "Initial loss",
            money(t.initial_loss_usd),
            if t.initial_loss_usd < 0.0 {
                "the shock alone (negative: a gain)"
            } else {
                "the shock alone"
            },
            false,
        ),
        (
            "Total loss",
            money(t.total_loss_usd),
            if t.total_loss_usd < 0.0 {
                end_gain
            } else {
                end
            },
            true,
        ),
        if crate::run::amplification_meaningful(t.initial_loss_usd, t.total_loss_usd) {
            (
                "Amplification",
                format!("{:.3}\u{00d7}", t.amplification),
                "total / initial",
                true,
            )
        } else {
            (
                "Cascade loss",
                money(t.total_loss_usd - t.initial_loss_usd),
                "total \u{2212} initial (the shock alone cost too little for a ratio to mean anything)",
                true,
            )
        },
        (
            "Forced sales, at the prices sold",
            money(t.forced_sales_at_sale_prices_usd),
            sale_price_note(o.mode, t.forced_sales_at_sale_prices_usd < 0.0),
            false,
        ),
        (
            "Forced sales, at final prices",
            money(final_sales),
            if final_sales < 0.0 {
                "net shares sold \u{00d7} final price (negative: bought)"
            } else {
                "net shares sold \u{00d7} final price"
            },
            false,
        ),
        (
            "Margin calls",
            t.margin_calls.to_string(),
            "accounts",
            false,
        ),
        (
            "Defaults",
            t.defaults.to_string(),
            "accounts, holders, lenders",
            false,
        ),
        (
            "Borrower shortfalls",
            money(t.borrower_shortfalls_usd),
            "what margin borrowers could not repay their lenders",
            false,
        ),
        (
            "Interbank losses",
            money(t.interbank_losses_usd),
            "interbank claims left unpaid",
            false,
        ),
    ];
    card_list(out, &items);
}

/// What the at-the-prices-sold card's figure is, in each mode.
fn sale_price_note(mode: Mode, bought: bool) -> &'static str {
    match (mode == Mode::Sequential, bought) {
        (false, false) => "net, each round's sales at the price they moved it to",
        (false, true) => "net, each round's sales at the price they moved it to (negative: bought)",
        (true, false) => "net, each round's sales at its mid price",
        (true, true) => "net, each round's sales at its mid price (negative: bought)",
    }
}

/// Headline figures as cards: (label, value, note, key figure?), all plain text.
pub(crate) fn card_list<N: AsRef<str>>(out: &mut String, items: &[(&str, String, N, bool)]) {
    out.push_str("<ul class=\"cards\" aria-label=\"Headline figures\">\n");
    for (label, value, note, key) in items {
        let _ = writeln!(
            out,
            "<li class=\"card{}\"><span class=\"label\">{}</span><span class=\"value\">{}</span><span class=\"note\">{}</span></li>",
            if *key { " key" } else { "" },
            esc(label),
            esc(value),
            esc(note.as_ref())
        );
    }
    out.push_str("</ul>\n");
}

/// Player button icons as inline SVG (icon-font glyphs such as ⏮ are missing from many
/// systems' fonts).
const ICON_FIRST: &str = "<svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><rect x=\"2\" y=\"3\" width=\"2\" height=\"10\"/><path d=\"M14 3v10L5 8z\"/></svg>";

const ICON_PREV: &str =
    "<svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path d=\"M12 3v10L4 8z\"/></svg>";

const ICON_NEXT: &str =
    "<svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path d=\"M4 3v10l8-5z\"/></svg>";

const ICON_LAST: &str = "<svg viewBox=\"0 0 16 16\" aria-hidden=\"true\"><path d=\"M2 3v10l9-5z\"/><rect x=\"12\" y=\"3\" width=\"2\" height=\"10\"/></svg>";

fn player_controls(out: &mut String, n: usize) {
    let _ = writeln!(
        out,
        "<section id=\"player\" class=\"player\" aria-label=\"Round-by-round player\">\
         <div class=\"controls\">\
         <button type=\"button\" id=\"btn-first\" title=\"Just after the shock (Home)\" aria-label=\"Go to just after the shock\">{ICON_FIRST}</button>\
         <button type=\"button\" id=\"btn-prev\" title=\"Previous round (\u{2190})\" aria-label=\"Previous round\">{ICON_PREV}</button>\
         <button type=\"button\" id=\"btn-play\" class=\"play\" aria-pressed=\"false\">{ICON_NEXT} Play</button>\
         <button type=\"button\" id=\"btn-next\" title=\"Next round (\u{2192})\" aria-label=\"Next round\">{ICON_NEXT}</button>\
         <button type=\"button\" id=\"btn-last\" title=\"Final round (End)\" aria-label=\"Go to the final round\">{ICON_LAST}</button>\
         </div>\
         <div class=\"slider\"><span id=\"round-label\" class=\"round-label\" aria-live=\"polite\">Round {n} of {n}</span>\
         <input id=\"round-slider\" type=\"range\" min=\"0\" max=\"{n}\" step=\"1\" value=\"{n}\" aria-label=\"Round\"></div>\
         <p id=\"round-summary\" class=\"summary\" aria-live=\"polite\"></p>\
         </section>"
    );
}

/// The timeline's player: the round player's controls with a step to the previous and
/// the next day's close on either side, over every round of every day.
fn day_player_controls(out: &mut String, n: usize, label: &str) {
    let _ = writeln!(
        out,
        "<section id=\"player\" class=\"player\" aria-label=\"Day-by-day player\">\
         <div class=\"controls\">\
         <button type=\"button\" id=\"btn-first\" title=\"Day 0 open, after the news (Home)\" aria-label=\"Go to the first day's open\">{ICON_FIRST}</button>\
         <button type=\"button\" id=\"btn-prev-day\" class=\"day\" title=\"The previous day's close (Page Up)\" aria-label=\"Previous day\">{ICON_PREV}{ICON_PREV}</button>\
         <button type=\"button\" id=\"btn-prev\" title=\"Previous round (\u{2190})\" aria-label=\"Previous round\">{ICON_PREV}</button>\
         <button type=\"button\" id=\"btn-play\" class=\"play\" aria-pressed=\"false\">{ICON_NEXT} Play</button>\
         <button type=\"button\" id=\"btn-next\" title=\"Next round (\u{2192})\" aria-label=\"Next round\">{ICON_NEXT}</button>\
         <button type=\"button\" id=\"btn-next-day\" class=\"day\" title=\"The next day's close (Page Down)\" aria-label=\"Next day\">{ICON_NEXT}{ICON_NEXT}</button>\
         <button type=\"button\" id=\"btn-last\" title=\"The last day's close (End)\" aria-label=\"Go to the last day's close\">{ICON_LAST}</button>\
         </div>\
         <div class=\"slider\"><span id=\"round-label\" class=\"round-label\" aria-live=\"polite\">{}</span>\
         <input id=\"round-slider\" type=\"range\" min=\"0\" max=\"{n}\" step=\"1\" value=\"{n}\" aria-label=\"Day and round\"></div>\
         <p id=\"round-summary\" class=\"summary\" aria-live=\"polite\"></p>\
         </section>",
        esc(label)
    );
}

fn status_legend() -> String {
    let mut out = String::from("<ul class=\"legend\" aria-label=\"Status colours\">");
    for s in STATUSES {
        let _ = write!(
            out,
            "<li><span class=\"sw round {}\"></span>{}</li>",
            status_class(s),
            status_label(s)
        );
    }
    out.push_str(
        "<li><span class=\"sw ls-tightened\"></span>lender tightened margin</li>\
         <li><span class=\"sw ls-defaulted\"></span>lender defaulted</li></ul>",
    );
    out
}

/// The assets the table lists: largest forced sales first (ties by index), at most
/// `MAX_ROWS`.
fn asset_rows(ctx: &Ctx<'_>) -> Vec<usize> {
    let a = &ctx.outcome.assets;
    let mut idx: Vec<usize> = (0..a.len()).collect();
    idx.sort_by(|&x, &y| {
        a[y].forced_sales_usd
            .total_cmp(&a[x].forced_sales_usd)
            .then(x.cmp(&y))
    });
    idx.truncate(MAX_ROWS);
    idx
}

/// A price and its change since before the shock, for the table's "now" column.
fn price_now(p: f64, p0: f64) -> String {
    format!("{} ({})", crate::text::price(p), signed_pct(p / p0 - 1.0))
}

/// The player's data: one entry per step (0 = after the shock, k = after round k).
fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What the player says about step `k` (0 = after the shock); `calls` and `defaults` are
/// the totals so far.
fn step_summary(ctx: &Ctx<'_>, k: usize, calls: u64, defaults: u64) -> String {
    let o = ctx.outcome;
    if k == 0 {
        return format!(
            "Just after the exogenous shock, before any forced sale. Holders have lost {} on their \
             starting positions; round 1 decides sales at these prices.",
            money(o.totals.initial_loss_usd)
        );
    }
    let t = &o.trace[k - 1];
    let prev = if k >= 2 {
        o.trace[k - 2].sales_usd
    } else {
        0.0
    };
    let added = t.sales_usd - prev;
    let round = t.round;
    let mut s = format!(
        "Round {round}: forced sales so far {} ({}{} this round); price index {:.4} ({} since before \
         the shock); {} new margin call{}, {} new default{} ({} call{} and {} default{} so far).",
        money(t.sales_usd),
        if added >= 0.0 { "+" } else { "" },
        money(added),
        t.price_index,
        signed_pct(t.price_index - 1.0),
        t.new_calls,
        plural(t.new_calls),
        t.new_defaults,
        plural(t.new_defaults),
        calls,
        plural(calls),
        defaults,
        plural(defaults)
    );
    let sellers = t
        .largest_sellers
        .iter()
        .take(3)
        .map(|(h, v)| format!("{} {}", ctx.net.holder(*h).id, money(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    if !sellers.is_empty() {
        let _ = write!(s, " Largest sellers: {sellers}.");
    }
    if k == ctx.n {
        s.push_str(match o.termination {
            Termination::Converged => " No price moves any more: this is the fixed point.",
            Termination::MaxRounds => " The round limit is reached before prices settle.",
        });
    }
    s
}

/// Status codes of the drawn holders and lenders at step `k`: nothing has happened at
/// step 0; the final step (or every step, without a complete replay) shows the outcome.
fn step_states(ctx: &Ctx<'_>, k: usize) -> (Vec<usize>, Vec<u8>) {
    let o = ctx.outcome;
    let pl = ctx.player;
    let replayed = (k > 0 && k < ctx.n && pl.rounds.len() == ctx.n).then(|| &pl.rounds[k - 1]);
    let holders = match (k, replayed) {
        (0, _) => vec![0; pl.holders.len()],
        (_, Some(r)) => r.holders.iter().map(|s| status_code(*s)).collect(),
        (_, None) => pl
            .members
            .iter()
            .map(|g| {
                status_code(player::worst(
                    g.iter()
                        .filter_map(|h| o.holders.get(h.get()).map(|x| x.status)),
                ))
            })
            .collect(),
    };
    let lenders = pl
        .lenders
        .iter()
        .map(|&i| match (k, replayed) {
            (0, _) => 0,
            (_, Some(r)) => r
                .lenders
                .get(i)
                .map_or(0, |x| network::lender_code(x.tightened, x.defaulted)),
            (_, None) => o
                .lenders
                .get(i)
                .map_or(0, |x| network::lender_code(x.tightened, x.defaulted)),
        })
        .collect();
    (holders, lenders)
}

/// A coordinate as the data block holds it (one decimal, as in the SVG).
fn coord(x: f64) -> Value {
    Value::from(f1(x).parse::<f64>().unwrap_or(0.0))
}

/// The player's data: one entry per step (0 = after the shock, k = after round k).
fn player_data(ctx: &Ctx<'_>, prices: &charts::PriceChart, rows: &[usize]) -> Value {
    let o = ctx.outcome;
    let n = ctx.n;
    let mut steps = Vec::with_capacity(n + 1);
    let (mut calls, mut defaults) = (0u64, 0u64);
    for k in 0..=n {
        let p: Vec<f64> = if k == 0 {
            o.assets.iter().map(|a| a.price_shocked).collect()
        } else {
            calls += o.trace[k - 1].new_calls;
            defaults += o.trace[k - 1].new_defaults;
            o.trace[k - 1].prices.clone()
        };
        // Labels use the rounds' own numbers: a very long run's trace skips rounds.
        let label = if k == 0 {
            format!("After the shock (0 of {})", o.rounds)
        } else {
            format!("Round {} of {}", o.trace[k - 1].round, o.rounds)
        };
        let (h, l) = step_states(ctx, k);
        let a: Vec<String> = ctx
            .player
            .assets
            .iter()
            .map(|a| signed_pct(p[a.get()] / o.assets[a.get()].price_before - 1.0))
            .collect();
        let now: Vec<String> = rows
            .iter()
            .map(|&i| price_now(p[i], o.assets[i].price_before))
            .collect();
        let dots: Vec<Value> = prices.dots_y.iter().map(|ys| coord(ys[k])).collect();
        steps.push(json!({
            "label": label,
            "summary": step_summary(ctx, k, calls, defaults),
            "x": coord(prices.cursor_x[k]),
            "dots": dots,
            "h": h,
            "l": l,
            "a": a,
            "p": now,
        }));
    }
    json!({
        "n": n,
        "interval": PLAY_INTERVAL_MS,
        "statusClass": STATUSES.iter().map(|s| status_class(*s)).collect::<Vec<_>>(),
        "statusLabel": STATUSES.iter().map(|s| status_label(*s)).collect::<Vec<_>>(),
        "lenderClass": (0..3u8).map(network::lender_class).collect::<Vec<_>>(),
        "lenderLabel": (0..3u8).map(network::lender_label).collect::<Vec<_>>(),
        "steps": steps,
    })
}

pub(crate) fn scenario_section(out: &mut String, meta: &RunMeta, notes: &ScenarioNotes) {
    out.push_str("<section class=\"scenario\" aria-labelledby=\"scenario-h\"><h2 id=\"scenario-h\">The scenario</h2>\n");
    if !meta.as_of.is_empty() {
        let _ = writeln!(out, "<p class=\"muted\">As of {}.</p>", esc(&meta.as_of));
    }
    for para in meta
        .description
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
    {
        let _ = writeln!(out, "<p class=\"lede\">{}</p>", esc(para.trim()));
    }
    // On paper the lists give way to a line, so that a run's report fits four A4 pages.
    let _ = writeln!(
        out,
        "<p class=\"print-only muted\">The scenario's full description, its {} assumption{} and {} \
         source{} are in the on-screen report and in the scenario file.</p>",
        notes.assumptions.len(),
        if notes.assumptions.len() == 1 {
            ""
        } else {
            "s"
        },
        notes.sources.len(),
        if notes.sources.len() == 1 { "" } else { "s" }
    );
    out.push_str("<div class=\"notes\"><h3>Assumptions</h3>\n");
    if notes.assumptions.is_empty() {
        out.push_str("<p class=\"muted\">The scenario states none.</p>\n");
    } else {
        out.push_str("<ul>");
        for a in &notes.assumptions {
            let _ = write!(out, "<li>{}</li>", esc(a));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h3>Sources</h3>\n");
    if notes.sources.is_empty() {
        out.push_str("<p class=\"muted\">The scenario cites none.</p>\n");
    } else {
        out.push_str("<ol>");
        for s in &notes.sources {
            let _ = write!(out, "<li><code>{}</code> {}", esc(&s.id), esc(&s.title));
            if let Some(d) = &s.date {
                let _ = write!(out, " <span class=\"muted\">({})</span>", esc(d));
            }
            // Printed, not linked: the report makes no requests and prints the address.
            if let Some(u) = &s.url {
                let _ = write!(out, "<br><span class=\"url\">{}</span>", esc(u));
            }
            out.push_str("</li>");
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</div></section>\n");
}

/// The description's first paragraph under a page's title, with a link to the scenario
/// section at the end of the page (every page has one).
pub(crate) fn lede(out: &mut String, meta: &RunMeta) {
    if let Some(first) = meta.description.split("\n\n").next()
        && !first.trim().is_empty()
    {
        let _ = writeln!(
            out,
            "<p class=\"lede\">{}</p><p class=\"more\"><a href=\"#scenario-h\">The scenario in full, its assumptions and sources</a></p>",
            esc(first.trim())
        );
    }
}
