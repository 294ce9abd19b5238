//! Engine settings: the mode, the horizon of a timeline and the iteration's limits.

use delever_engine::{EngineConfig, Mode, Settlement};

use super::cx::{Cx, num};
use crate::index::join_key;
use crate::limits;
use crate::spec::{EngineSpec, GltName, KindName, ModeName, ScenarioSpec, SettlementName};

/// Engine settings before the file's keys: the engine's defaults, with `days` unset (0)
/// so that `mode: timeline` without `days` is caught after every override.
///
/// The least fixed point is sought by default except in a scenario with an account book:
/// its first round from the floor calls every account, and the iteration up costs as
/// much as the main one (it doubled the engine time on a million-account book). A book
/// asks for it with `least_fixed_point: true`; docs/model.md gives the trade-off.
pub(crate) fn engine_base(spec: &ScenarioSpec) -> EngineConfig {
    EngineConfig {
        days: 0,
        least_fixed_point: !spec.holders.iter().any(|h| h.kind == KindName::AccountBook),
        ..EngineConfig::default()
    }
}

/// Settle the engine settings read at `base` (over [`engine_base`]): a timeline needs
/// `days`; the one-instant modes run one day.
pub(crate) fn engine_done(cx: &mut Cx<'_>, mut cfg: EngineConfig, base: &str) -> EngineConfig {
    if cfg.days == 0 {
        if cfg.mode == Mode::Timeline {
            cx.err(
                join_key(base, "mode"),
                "the timeline mode needs a horizon: `days` is missing",
                Some("e.g. `engine: { mode: timeline, days: 5 }` for a trading week".into()),
            );
        }
        cfg.days = 1;
    }
    if cfg.glt_exact && (cfg.mode != Mode::Equilibrium || cfg.max_rounds != 1) {
        cx.err(
            join_key(base, "glt"),
            format!(
                "exact GLT accounting is one round of the equilibrium mode, not {} with `max_rounds: {}`",
                cfg.mode.name(),
                cfg.max_rounds
            ),
            Some("add `max_rounds: 1` (and no `mode`, or `mode: equilibrium`), or drop `glt: exact`".into()),
        );
    }
    if cfg.settlement != Settlement::AtSettlement && cfg.mode != Mode::Sequential {
        cx.err(
            join_key(base, "settlement"),
            format!(
                "`settlement: {}` needs `mode: sequential`, but the mode is `{}`",
                cfg.settlement.name(),
                cfg.mode.name()
            ),
            Some(
                "only the sequential rounds settle a sale apart from the next decision; add `mode: sequential` or drop `settlement`"
                    .into(),
            ),
        );
    }
    cfg
}

/// Engine settings at `base` (`engine`, `variants[2].engine`), over `cfg`: keys given
/// replace its values, the others stay.
pub(crate) fn engine(
    cx: &mut Cx<'_>,
    e: &EngineSpec,
    base: &str,
    mut cfg: EngineConfig,
) -> EngineConfig {
    if let Some(m) = e.mode {
        cfg.mode = match m {
            ModeName::Equilibrium => Mode::Equilibrium,
            ModeName::Sequential => Mode::Sequential,
            ModeName::Timeline => Mode::Timeline,
        };
    }
    if let Some(d) = e.days {
        let path = join_key(base, "days");
        let hint = "trading days to run the timeline over, e.g. `days: 5` for a week";
        if d.0 < 1 {
            cx.err(
                path,
                format!("expected at least 1 day, got {}", d.0),
                Some(hint.into()),
            );
        } else if d.0 > i128::from(delever_engine::MAX_DAYS) {
            cx.err(
                path,
                format!(
                    "must be at most {} trading days (ten years), got {}",
                    delever_engine::MAX_DAYS,
                    d.0
                ),
                Some(hint.into()),
            );
        }
        cfg.days = u32::try_from(d.0.clamp(1, i128::from(delever_engine::MAX_DAYS))).unwrap_or(1);
    }
    if let Some(r) = e.max_rounds {
        let path = join_key(base, "max_rounds");
        let hint = "1 gives the one-round (GLT) answer; the default is 1000";
        if r.value < 1 {
            cx.err(
                path,
                format!("expected at least 1 round, got {r}"),
                Some(hint.into()),
            );
        } else if r.value > i128::from(limits::MAX_ROUNDS) {
            cx.err(
                path,
                format!("must be at most {} rounds, got {r}", limits::MAX_ROUNDS),
                Some(
                    "a cascade that has not converged in a million rounds will not, and a run keeps a trace of every round; check `tolerance` and `damping`"
                        .into(),
                ),
            );
        }
        cfg.max_rounds = u32::try_from(r.value.clamp(1, i128::from(limits::MAX_ROUNDS)))
            .unwrap_or(limits::MAX_ROUNDS);
    }
    if let Some(t) = num(e.tolerance) {
        if t <= 0.0 {
            cx.err(
                join_key(base, "tolerance"),
                format!("expected a number > 0, got {t}"),
                Some("a relative price change, e.g. `tolerance: 1e-10`".into()),
            );
        } else {
            cx.limit(join_key(base, "tolerance"), t, &limits::TOLERANCE);
        }
        cfg.tolerance = t;
    }
    if let Some(d) = num(e.damping) {
        if !(d > 0.0 && d <= 1.0) {
            cx.err(
                join_key(base, "damping"),
                format!("expected a number in (0, 1], got {d}"),
                Some("1 means no damping; 0.5 averages old and new prices".into()),
            );
        }
        cfg.damping = d;
    }
    if let Some(l) = e.least_fixed_point {
        cfg.least_fixed_point = l;
    }
    if let Some(g) = e.glt {
        cfg.glt_exact = g == GltName::Exact;
    }
    if let Some(s) = e.settlement {
        cfg.settlement = match s {
            SettlementName::AtSettlement => Settlement::AtSettlement,
            SettlementName::AtNextDecision => Settlement::AtNextDecision,
        };
    }
    cfg
}
