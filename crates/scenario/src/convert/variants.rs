//! Variants: each one's shocks, engine settings, impact laws and expectations, validated
//! against the base.

use std::collections::BTreeMap;

use delever_engine::{EngineConfig, Shock};
use delever_graph::{AssetIx, ImpactDecay, ImpactLaw, NetworkBuilder};

use super::Place;
use super::assets::{asset_with, decay, impact};
use super::cx::{Cx, IdKind, Want};
use super::engine::{engine, engine_done};
use super::expect::expectations;
use super::shocks::{shock_days, shocks};
use crate::index::{join_index, join_key};
use crate::spec::VariantSpec;
use crate::variant::Variant;

/// Validate the variants against the base (its shocks and engine settings are what a
/// variant inherits; `base_engine` is the base's before [`engine_done`]).
pub(crate) fn variants(
    cx: &mut Cx<'_>,
    base_shocks: &[Shock],
    base_engine: &EngineConfig,
) -> Vec<Variant> {
    let spec = cx.spec;
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(spec.variants.len());
    for (i, v) in spec.variants.iter().enumerate() {
        let base = join_index("variants", i);
        variant_name(cx, v, &base, &mut seen, i);
        let shocks = match &v.shocks {
            Some(list) => shocks(cx, list, &join_key(&base, "shocks")),
            None => base_shocks.to_vec(),
        };
        let engine_at = join_key(&base, "engine");
        let engine = match &v.engine {
            Some(e) => engine(cx, e, &engine_at, base_engine.clone()),
            None => base_engine.clone(),
        };
        let at = if v.engine.is_some() {
            engine_at.as_str()
        } else {
            "engine"
        };
        let engine = engine_done(cx, engine, at);
        // The variant's own shocks, or the base's, on the variant's days.
        match &v.shocks {
            Some(list) => shock_days(cx, list, &join_key(&base, "shocks"), &engine, at),
            None if v.engine.is_some() => {
                shock_days(cx, &spec.shocks, "shocks", &engine, at);
            }
            None => {}
        }
        let impact = variant_impact(cx, v, &base);
        let expect = v
            .expect
            .as_ref()
            .map(|e| expectations(cx, e, &join_key(&base, "expect"), &engine));
        out.push(Variant {
            name: v.name.clone(),
            description: v.description.clone(),
            shocks,
            engine,
            impact,
            expect,
        });
    }
    out
}

fn variant_name<'s>(
    cx: &mut Cx<'s>,
    v: &'s VariantSpec,
    base: &str,
    seen: &mut BTreeMap<&'s str, usize>,
    i: usize,
) {
    let path = join_key(base, "name");
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if v.name.is_empty() || !v.name.chars().all(ok_char) {
        cx.err(
            path,
            format!(
                "a variant's name must be letters, digits, `-`, `_` or `.`, got `{}`",
                v.name
            ),
            Some(
                "e.g. `name: gov-10pct-impact5-seq`; it names the variant in reports and snapshots"
                    .into(),
            ),
        );
    } else if let Some(first) = seen.get(v.name.as_str()) {
        cx.err(
            path,
            format!(
                "duplicate variant name `{}` (first at variants[{first}])",
                v.name
            ),
            Some("every variant needs its own name".into()),
        );
    } else {
        seen.insert(&v.name, i);
    }
}

/// A variant's impact laws (and their decay over days), each checked against its asset as
/// the builder checks laws.
fn variant_impact(
    cx: &mut Cx<'_>,
    v: &VariantSpec,
    base: &str,
) -> Vec<(AssetIx, ImpactLaw, ImpactDecay)> {
    let spec = cx.spec;
    let mut out = Vec::new();
    let Some(map) = &v.impact else {
        return out;
    };
    let impact_base = join_key(base, "impact");
    for (id, imp) in map {
        let path = join_key(&impact_base, id);
        let before = cx.problems.len();
        let found = cx.resolve(path.clone(), id, Want::Asset);
        for p in cx.problems.iter_mut().skip(before) {
            p.place = Place::Key;
        }
        let law = impact(cx, imp, &path);
        let decay = decay(cx, imp, &path);
        let (Some(IdKind::Asset), Some(&ix), Some(a)) = (
            found,
            cx.assets.get(id.as_str()),
            spec.assets.iter().find(|a| &a.id == id),
        ) else {
            continue;
        };
        // The law must suit the asset (e.g. square-root needs ADV and volatility): check
        // it the builder's way, on the asset alone.
        let mut b = NetworkBuilder::new();
        b.add_asset(asset_with(a, law, decay.clone()));
        if let Err(e) = b.build() {
            // Only the law's own problems: the asset's others are reported at the asset.
            let law_problems = e
                .problems
                .into_iter()
                .filter(|p| p.field.starts_with("impact") || p.message.contains("impact law"));
            for p in law_problems {
                let at = match p.field.strip_prefix("impact.") {
                    Some(rest) => join_key(&path, rest),
                    None => path.clone(),
                };
                cx.err(at, p.message, p.hint);
            }
        }
        out.push((ix, law, decay));
    }
    out
}
