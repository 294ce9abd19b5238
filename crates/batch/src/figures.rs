//! One run's headline figures ([`RunFigures`]), as sweep rows and draws carry them.

use delever_engine::Outcome;
use delever_graph::{KindTag, Network};
use delever_report::batch::RunFigures;

/// The holder kinds present in `net`, in report order: the columns of `loss_by_kind`.
pub fn kinds(net: &Network) -> Vec<KindTag> {
    KindTag::ALL
        .into_iter()
        .filter(|k| net.holders().iter().any(|h| h.kind.tag() == *k))
        .collect()
}

/// The figures of `out`, with the loss of each kind in `kinds`: the fall in equity of
/// its holders, `Σ (equity_before − equity_after)`. (The total loss is the
/// mark-to-market loss on starting holdings; per-kind equity losses also count sales at
/// depressed prices and losses passed to lenders, so they need not sum to it.)
pub fn figures(out: &Outcome, kinds: &[KindTag]) -> RunFigures {
    let mut loss_by_kind = vec![0.0; kinds.len()];
    for h in &out.holders {
        if let Some(i) = kinds.iter().position(|k| *k == h.kind) {
            loss_by_kind[i] += h.equity_before - h.equity_after;
        }
    }
    // `+ 0.0` turns a -0.0 (a float sum of nothing) into 0.0, so no output shows `-0`.
    for x in &mut loss_by_kind {
        *x += 0.0;
    }
    RunFigures {
        termination: out.termination.name().to_owned(),
        rounds: out.rounds,
        initial_loss_usd: out.totals.initial_loss_usd + 0.0,
        total_loss_usd: out.totals.total_loss_usd + 0.0,
        amplification: out.totals.amplification + 0.0,
        forced_sales_usd: out.totals.forced_sales_usd + 0.0,
        defaults: out.totals.defaults,
        margin_calls: out.totals.margin_calls,
        lender_losses_usd: out.totals.lender_losses_usd + 0.0,
        borrower_shortfalls_usd: out.totals.borrower_shortfalls_usd + 0.0,
        interbank_losses_usd: out.totals.interbank_losses_usd + 0.0,
        lender_defaults: out.lenders.iter().filter(|l| l.defaulted).count() as u64,
        multiple_equilibria: out.least.as_ref().is_some_and(|l| l.differs),
        loss_by_kind,
    }
}
