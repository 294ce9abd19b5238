//! The JSON Schema of the format (`delever schema`): schemars' schema of the spec types,
//! refined with what the loader checks that a schema can say — the ranges of numbers
//! (`crate::limits` and the graph builder's checks), which keys each holder kind, impact
//! law, rule, shock and distribution type takes or needs (the tables the loader itself
//! reads), the forms of a bound, and non-empty text.
//!
//! The schema is never stricter than the loader: every scenario that loads validates.
//! Two consequences shape it. A key written with no value (`cash:` or `cash: ~`) is read
//! as absent, so optional keys stay nullable, and a key that does not apply to a kind may
//! be null (the loader reports it only when it has a value); a required key must have a
//! value. What a schema cannot say (ids that must exist, sums, CSV books, the YAML text
//! itself) stays with the loader: docs/scenario-format.md lists it, and the malformed-input
//! corpus test (`tests/schema_corpus.rs`) holds the list to the truth.

use serde_json::{Map, Value, json};

use crate::convert::{LAW_KEYS, SHOCK_KEYS};
use crate::kinds::{self, RULE_KEYS, RuleName};
use crate::limits;
use crate::spec::{KindName, LawName, ScenarioSpec, ShockName};

/// The refined schema.
pub(crate) fn json_schema() -> Value {
    let mut root = schemars::schema_for!(ScenarioSpec).to_value();
    let missing = refine(&mut root);
    // Every target is a field of the spec types, so this only fires when a field is
    // renamed without its refinement (the unit test below fails first).
    debug_assert!(missing.is_empty(), "schema refinements missed {missing:?}");
    root
}

/// Most trading days a half-life, an expiry or an EWMA may span: the graph's limit.
const MAX_HALF_LIFE: f64 = delever_graph::MAX_DAYS;

/// Last trading day a shock or a day's expectation may name (days are counted from 0).
const LAST_DAY: u32 = delever_engine::MAX_DAYS - 1;

/// `[lo, hi]`.
fn closed(lo: f64, hi: f64) -> Value {
    json!({ "minimum": lo, "maximum": hi })
}

/// `(lo, hi]`.
fn open_closed(lo: f64, hi: f64) -> Value {
    json!({ "exclusiveMinimum": lo, "maximum": hi })
}

/// `[lo, hi)`.
fn closed_open(lo: f64, hi: f64) -> Value {
    json!({ "minimum": lo, "exclusiveMaximum": hi })
}

/// `(lo, hi)`.
fn open(lo: f64, hi: f64) -> Value {
    json!({ "exclusiveMinimum": lo, "exclusiveMaximum": hi })
}

/// `≥ lo`.
fn at_least(lo: f64) -> Value {
    json!({ "minimum": lo })
}

/// `> lo`.
fn above(lo: f64) -> Value {
    json!({ "exclusiveMinimum": lo })
}

/// A limit of `crate::limits` with the lower bound the builder adds (`lo`, inclusive or not).
fn limit(lim: &limits::Limit) -> Value {
    let mut m = Map::new();
    if let Some(lo) = lim.min {
        m.insert("minimum".into(), json!(lo));
    }
    if let Some(hi) = lim.max {
        m.insert("maximum".into(), json!(hi));
    }
    Value::Object(m)
}

/// Non-empty text: the loader trims before it checks.
fn text() -> Value {
    json!({ "pattern": "\\S" })
}

/// `key` is written with a value (the loader's `is_some()`).
fn present(key: &str) -> Value {
    json!({ "required": [key], "properties": { key: { "not": { "type": "null" } } } })
}

/// `key` has no value: absent or null.
fn absent() -> Value {
    json!({ "type": "null" })
}

/// The schema of an object whose `tag` key equals `value`.
fn tagged(tag: &str, value: &str) -> Value {
    json!({ "required": [tag], "properties": { tag: { "const": value } } })
}

/// A `then` branch: property schemas, and schemas all of which must hold.
fn then(props: Map<String, Value>, all: Vec<Value>) -> Value {
    let mut m = Map::new();
    m.insert("properties".into(), Value::Object(props));
    if !all.is_empty() {
        m.insert("allOf".into(), Value::Array(all));
    }
    Value::Object(m)
}

/// Merges `extra`'s keys into `target`; arrays (`allOf`, `required`) are appended.
fn merge(target: &mut Map<String, Value>, extra: Value) {
    let Value::Object(extra) = extra else { return };
    for (k, v) in extra {
        match (target.get_mut(&k), v) {
            (Some(Value::Array(a)), Value::Array(b)) => a.extend(b),
            (_, v) => {
                target.insert(k, v);
            }
        }
    }
}

/// Applies refinements to the generated schema, recording targets it cannot find.
struct Refiner<'a> {
    root: &'a mut Value,
    missing: Vec<String>,
}

impl Refiner<'_> {
    /// The object at `$defs/def` (or the root for `""`).
    fn def(&mut self, def: &str) -> Option<&mut Map<String, Value>> {
        let v = if def.is_empty() {
            Some(&mut *self.root)
        } else {
            self.root.get_mut("$defs").and_then(|d| d.get_mut(def))
        };
        let found = v.and_then(Value::as_object_mut);
        if found.is_none() {
            self.missing.push(def.to_owned());
        }
        found
    }

    /// Merges `extra` into property `key` of `def`.
    fn prop(&mut self, def: &str, key: &str, extra: Value) {
        let found = self
            .def(def)
            .and_then(|m| m.get_mut("properties"))
            .and_then(|p| p.get_mut(key))
            .and_then(Value::as_object_mut);
        match found {
            Some(m) => merge(m, extra),
            None => self.missing.push(format!("{def}.{key}")),
        }
    }

    /// Merges `extra` into the items of array property `key` of `def`.
    fn items(&mut self, def: &str, key: &str, extra: Value) {
        let found = self
            .def(def)
            .and_then(|m| m.get_mut("properties"))
            .and_then(|p| p.get_mut(key))
            .and_then(|p| p.get_mut("items"))
            .and_then(Value::as_object_mut);
        match found {
            Some(m) => merge(m, extra),
            None => self.missing.push(format!("{def}.{key}[]")),
        }
    }

    /// Appends `rules` to `def`'s `allOf`.
    fn all_of(&mut self, def: &str, rules: Vec<Value>) {
        let rules = Value::Array(rules);
        if let Some(m) = self.def(def) {
            merge(m, json!({ "allOf": rules }));
        }
    }

    /// The string values of the enum at `$defs/def`, as schemars wrote them.
    fn enum_values(&mut self, def: &str) -> Vec<String> {
        let Some(m) = self.def(def) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(Value::Array(vs)) = m.get("enum") {
            out.extend(vs.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(Value::Array(alts)) = m.get("oneOf") {
            out.extend(
                alts.iter()
                    .filter_map(|a| a.get("const").and_then(Value::as_str))
                    .map(str::to_owned),
            );
        }
        out
    }
}

/// One `if`/`then` per value of `tag`: the keys of `table` that value does not own must
/// have no value; `needs` says which keys it requires.
fn per_type<T: Copy + PartialEq>(
    tag: &str,
    values: &[(&str, T)],
    table: &[(&str, impl AsRef<[T]>)],
    needs: impl Fn(T) -> Vec<&'static str>,
) -> Vec<Value> {
    values
        .iter()
        .map(|&(name, t)| {
            let mut props = Map::new();
            for (key, owners) in table {
                if !owners.as_ref().contains(&t) {
                    props.insert((*key).to_owned(), absent());
                }
            }
            let all = needs(t).into_iter().map(present).collect();
            json!({ "if": tagged(tag, name), "then": then(props, all) })
        })
        .collect()
}

/// Refines `root` in place; returns the targets it did not find (none, when the spec
/// types and this module agree).
fn refine(root: &mut Value) -> Vec<String> {
    let mut r = Refiner {
        root,
        missing: Vec::new(),
    };
    header(&mut r);
    assets(&mut r);
    holders(&mut r);
    lenders(&mut r);
    shocks(&mut r);
    engine_and_expect(&mut r);
    monte_carlo(&mut r);
    r.missing
}

fn header(r: &mut Refiner<'_>) {
    // A scenario needs an asset: `assets` defaults to empty, which the loader refuses.
    if let Some(m) = r.def("") {
        merge(m, json!({ "required": ["assets"] }));
    }
    r.prop("", "assets", json!({ "minItems": 1 }));
    r.prop("", "name", text());
    r.prop("", "description", text());
    let date = json!({ "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "format": "date" });
    r.prop("", "as_of", date.clone());
    r.prop("SourceSpec", "id", text());
    r.prop("SourceSpec", "title", text());
    r.prop("SourceSpec", "date", date);
    r.prop(
        "VariantSpec",
        "name",
        json!({ "pattern": "^[A-Za-z0-9._-]+$" }),
    );
    r.prop("DefaultsSpec", "cure_rate", closed(0.0, 1.0));
    for key in ["cure_days", "redemption_lag_days"] {
        r.prop("DefaultsSpec", key, closed(0.0, limits::MAX_DAYS));
    }
}

fn assets(r: &mut Refiner<'_>) {
    let a = "AssetSpec";
    r.prop(a, "price", limit(&limits::PRICE));
    r.prop(a, "shares_outstanding", limit(&limits::SHARES_OUTSTANDING));
    r.prop(a, "adv_usd", closed(0.0, limits::MAX_USD));
    r.prop(a, "daily_vol", closed(0.0, 1.0));
    r.prop(a, "beta", limit(&limits::BETA));
    r.prop(a, "duration", limit(&limits::DURATION));
    let i = "ImpactSpec";
    r.prop(i, "per_usd", closed(0.0, 1.0));
    r.prop(i, "alpha", closed(0.0, 1000.0));
    r.prop(i, "y", closed(0.0, 100.0));
    r.prop(i, "c", open_closed(0.0, 1000.0));
    r.prop(i, "tau_days", open_closed(0.0, limits::MAX_DAYS));
    r.prop(i, "floor", closed_open(0.0, 1.0));
    let laws: Vec<(String, LawName)> = r
        .enum_values("LawName")
        .into_iter()
        .filter_map(|n| law(&n).map(|l| (n, l)))
        .collect();
    let laws: Vec<(&str, LawName)> = laws.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    let rules = per_type("law", &laws, LAW_KEYS, |l| match l {
        LawName::Linear => vec!["per_usd"],
        _ => vec![],
    });
    r.all_of(i, rules);
    let d = "DecaySpec";
    r.prop(d, "permanent", closed(0.0, 1.0));
    r.prop(d, "half_life_days", open_closed(0.0, limits::MAX_DAYS));
    r.all_of(
        d,
        vec![
            json!({ "not": { "allOf": [present("half_life_days"), present("transient")] } }),
            json!({
                "if": { "required": ["permanent"], "properties": { "permanent": { "exclusiveMaximum": 1 } } },
                "then": { "anyOf": [present("half_life_days"), present("transient")] }
            }),
        ],
    );
    r.prop("TransientSpec", "share", open_closed(0.0, 1.0));
    r.prop(
        "TransientSpec",
        "half_life_days",
        open_closed(0.0, limits::MAX_DAYS),
    );
}

fn law(name: &str) -> Option<LawName> {
    [
        LawName::Linear,
        LawName::Exponential,
        LawName::SquareRoot,
        LawName::ContSchaanning,
    ]
    .into_iter()
    .find(|l| l.name() == name)
}

fn holders(r: &mut Refiner<'_>) {
    let h = "HolderSpec";
    for key in ["cash", "other_assets", "other_liabilities"] {
        r.prop(h, key, closed(0.0, limits::MAX_USD));
    }
    r.prop(h, "default_below_ratio", open(0.0, 1.0));
    r.prop(h, "cure_rate", closed(0.0, 1.0));
    r.prop(h, "accounts", closed(1.0, limits::MAX_ACCOUNTS as f64));
    r.prop(
        h,
        "multiple",
        json!({ "minimum": -10.0, "maximum": 10.0, "not": { "const": 0 } }),
    );
    r.prop(h, "nav", open_closed(0.0, limits::MAX_USD));
    r.prop(h, "basket", json!({ "additionalProperties": above(0.0) }));
    r.prop(h, "shares_outstanding", limit(&limits::SHARES_OUTSTANDING));
    r.prop(h, "redemption_beta", closed(0.0, 100.0));
    r.prop(h, "target_vol", open_closed(0.0, delever_graph::MAX_VOL));
    r.prop(h, "realised_vol", open_closed(0.0, delever_graph::MAX_VOL));
    r.prop(h, "half_life_days", open_closed(0.0, MAX_HALF_LIFE));
    r.prop(
        h,
        "max_leverage",
        open_closed(0.0, delever_graph::MAX_LEVERAGE),
    );
    r.prop(h, "band", closed_open(0.0, 1.0));
    for key in ["lag_days", "cure_days", "redemption_lag_days"] {
        r.prop(h, key, closed(0.0, limits::MAX_DAYS));
    }
    r.prop(h, "participation", open_closed(0.0, 1.0));
    r.prop(h, "lookbacks", json!({ "minItems": 1 }));
    // A path from the root is refused on every platform (`Path::has_root`).
    for key in ["accounts_csv", "holdings_csv"] {
        r.prop(
            h,
            key,
            json!({ "not": { "type": "string", "pattern": "^/" } }),
        );
    }
    r.all_of(h, kind_rules());

    let s = "HoldingSpec";
    r.prop(s, "shares", closed(0.0, limits::MAX_SHARES));
    r.prop(s, "usd", closed(0.0, limits::MAX_USD));
    r.all_of(
        s,
        vec![json!({ "oneOf": [present("shares"), present("usd")] })],
    );
    r.prop("MarginSpec", "loan", closed(0.0, limits::MAX_USD));
    r.prop("MarginSpec", "maintenance", open_closed(0.0, 1.0));
    r.prop("MarginSpec", "reset", open_closed(0.0, 1.0));
    r.prop("OweSpec", "amount", closed(0.0, limits::MAX_USD));
    r.prop("BucketSpec", "ltv", closed_open(0.0, 1.0));
    r.prop("BucketSpec", "share", at_least(0.0));

    let rs = "RuleSpec";
    r.prop(rs, "target", closed(1.0, 1000.0));
    r.prop(rs, "max", open_closed(1.0, 1000.0));
    r.prop(rs, "min_ratio", open(0.0, 1.0));
    let rules: Vec<(&str, RuleName)> = [
        RuleName::LeverageTarget,
        RuleName::Threshold,
        RuleName::FailLiquidate,
        RuleName::CapitalRatio,
        RuleName::Passive,
    ]
    .iter()
    .map(|&n| (n.name(), n))
    .collect();
    let rule_types = per_type("type", &rules, RULE_KEYS, |t| match t {
        RuleName::LeverageTarget => vec!["target"],
        RuleName::Threshold => vec!["max"],
        RuleName::CapitalRatio => vec!["min_ratio"],
        RuleName::FailLiquidate | RuleName::Passive => vec![],
    });
    r.all_of(rs, rule_types);

    let o = "OptionSpec";
    r.prop(o, "strike", limit(&limits::STRIKE));
    r.prop(o, "expiry_days", open_closed(0.0, MAX_HALF_LIFE));
    r.prop(o, "implied_vol", open_closed(0.0, delever_graph::MAX_VOL));
    r.prop(o, "shares", open_closed(0.0, limits::MAX_SHARES));
    r.prop("GammaSpec", "usd_per_pct", limit(&limits::DOLLAR_GAMMA));
    r.prop(
        "LookbackSpec",
        "days",
        closed(1.0, f64::from(delever_graph::MAX_LOOKBACK_DAYS)),
    );
    r.prop("LookbackSpec", "weight", above(0.0));
    r.prop("MarketSpec", "max_usd", open_closed(0.0, limits::MAX_USD));
    r.items("MarketSpec", "past_returns", open_closed(-1.0, 10.0));
}

/// Per holder kind: the keys it needs have a value, the keys of other kinds have none, and
/// its margin loan is given or left out as the kind's `derived_loan` says.
fn kind_rules() -> Vec<Value> {
    kinds::all()
        .map(|k: KindName| {
            let this = kinds::of(k);
            let mut props = Map::new();
            for (key, owners) in kinds::keys() {
                if !owners.contains(&k) {
                    props.insert((*key).to_owned(), absent());
                }
            }
            if kinds::owns(k, "margin") {
                let loan = if this.derived_loan.is_some() {
                    json!({ "properties": { "loan": absent() } })
                } else {
                    json!({ "anyOf": [{ "type": "null" }, present("loan")] })
                };
                props.insert("margin".into(), loan);
            }
            let mut all: Vec<Value> = this.required.iter().map(|(key, _)| present(key)).collect();
            if k == KindName::OptionsDealer {
                // At least one line, of either sort (the builder's check).
                all.push(json!({ "anyOf": [
                    { "required": ["options"], "properties": { "options": { "minItems": 1 } } },
                    { "required": ["gamma"], "properties": { "gamma": { "minItems": 1 } } }
                ] }));
            }
            json!({ "if": tagged("kind", k.name()), "then": then(props, all) })
        })
        .collect()
}

fn lenders(r: &mut Refiner<'_>) {
    r.prop("LenderSpec", "capital", open_closed(0.0, limits::MAX_USD));
    r.prop(
        "LenderSpec",
        "other_liabilities",
        closed(0.0, limits::MAX_USD),
    );
    r.prop("TightenSpec", "trigger", closed(0.0, 1000.0));
    r.prop("TightenSpec", "by", closed(0.0, 1.0));
    r.prop(
        "LiquidationSpec",
        "delay_days",
        closed(0.0, limits::MAX_DAYS),
    );
    r.prop("LiquidationSpec", "participation", open_closed(0.0, 1.0));
}

fn shocks(r: &mut Refiner<'_>) {
    let s = "ShockSpec";
    r.prop(s, "return", closed(-1.0, 10.0));
    r.prop(s, "delta", limit(&limits::DELTA));
    r.prop(s, "usd", closed(0.0, limits::MAX_USD));
    r.prop(s, "by", closed(0.0, 1.0));
    r.prop(s, "fraction", closed(0.0, 1.0));
    r.prop(s, "day", closed(0.0, f64::from(LAST_DAY)));
    let all = [
        ShockName::Asset,
        ShockName::Tag,
        ShockName::Market,
        ShockName::DiscountRate,
        ShockName::ExogenousSale,
        ShockName::MarginTightening,
        ShockName::Redemption,
    ];
    let types: Vec<(&str, ShockName)> = all.iter().map(|&t| (t.name(), t)).collect();
    let rules = per_type("type", &types, SHOCK_KEYS, |t| match t {
        ShockName::Asset => vec!["asset", "return"],
        ShockName::Tag => vec!["tag", "return"],
        ShockName::Market => vec!["return"],
        ShockName::DiscountRate => vec!["delta"],
        ShockName::ExogenousSale => vec!["asset", "usd"],
        ShockName::MarginTightening => vec!["by"],
        ShockName::Redemption => vec!["holder", "fraction"],
    });
    r.all_of(s, rules);
}

fn engine_and_expect(r: &mut Refiner<'_>) {
    let e = "EngineSpec";
    r.prop(e, "days", closed(1.0, f64::from(delever_engine::MAX_DAYS)));
    r.prop(e, "max_rounds", closed(1.0, f64::from(limits::MAX_ROUNDS)));
    r.prop(e, "tolerance", open_closed(0.0, 1.0));
    r.prop(e, "damping", open_closed(0.0, 1.0));
    let b = "BoundSpec";
    r.prop(b, "rel_tol", at_least(0.0));
    r.prop(b, "abs_tol", at_least(0.0));
    let range = json!({ "anyOf": [present("min"), present("max")] });
    r.all_of(
        b,
        vec![
            // Exactly one form: `min`/`max`, `approx` or `equals`.
            json!({ "oneOf": [range, present("approx"), present("equals")] }),
            // Tolerances go with `approx` only.
            json!({
                "if": { "anyOf": [present("rel_tol"), present("abs_tol")] },
                "then": present("approx")
            }),
        ],
    );
    r.prop("DayExpectSpec", "day", closed(0.0, f64::from(LAST_DAY)));
}

fn monte_carlo(r: &mut Refiner<'_>) {
    r.prop(
        "MonteCarloSpec",
        "horizon_days",
        open_closed(0.0, limits::MAX_DAYS),
    );
    r.prop("McAssetSpec", "daily_vol", closed(0.0, 1.0));
    r.prop("McAssetSpec", "daily_mean", limit(&limits::DAILY_MEAN));
    r.prop("DistributionSpec", "dof", open_closed(2.0, 1e6));
    r.all_of(
        "DistributionSpec",
        vec![
            json!({ "if": tagged("type", "student_t"), "then": present("dof") }),
            json!({ "if": tagged("type", "normal"), "then": { "properties": { "dof": absent() } } }),
        ],
    );
    // The matrix form's entries are correlations too.
    let found = r
        .def("Correlation")
        .and_then(|m| m.get_mut("anyOf"))
        .and_then(|a| a.get_mut(1))
        .and_then(|o| o.pointer_mut("/properties/matrix/items/items"))
        .and_then(Value::as_object_mut);
    match found {
        Some(m) => merge(m, closed(-1.0, 1.0)),
        None => r.missing.push("Correlation.matrix".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refinement_finds_its_target() {
        let mut root = schemars::schema_for!(ScenarioSpec).to_value();
        assert_eq!(refine(&mut root), Vec::<String>::new());
    }

    #[test]
    fn optional_keys_stay_omittable_and_required_ones_are_not_nullable() {
        let s = json_schema();
        let holder = &s["$defs"]["HolderSpec"];
        assert_eq!(holder["required"], json!(["id", "kind"]));
        assert_eq!(
            s["$defs"]["MarginSpec"]["properties"]["maintenance"]["type"],
            "number"
        );
        let rules = holder["allOf"].as_array().map_or(0, Vec::len);
        assert_eq!(rules, kinds::all().count());
    }
}
