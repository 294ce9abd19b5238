//! The sweep's field-path grammar and `--vary` specs: `FieldPath::parse` (its canonical
//! text parses back to the same path), `OverrideValue::from_text`, `Vary::parse` and the
//! grid it makes, and the path resolved and written into a shipped scenario's template.
#![no_main]

use std::sync::OnceLock;

use delever_batch::grid::{Grid, Vary};
use delever_fuzz::{check_error, run_engine};
use delever_report::batch::ParamValue;
use delever_scenario::{FieldPath, OverrideValue, Segment, Template};
use libfuzzer_sys::fuzz_target;

/// The default scenario: every holder kind that has fields worth a path.
fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let text = include_str!("../../scenarios/semis-sentiment-reversal.yaml");
        Template::from_yaml(text, "semis-sentiment-reversal.yaml", None)
            .expect("the shipped scenario loads")
    })
}

fn path(text: &str) -> Option<FieldPath> {
    match FieldPath::parse(text) {
        Ok(p) => {
            assert!(
                matches!(p.segments().first(), Some(Segment::Key(_))),
                "{p:?}"
            );
            let shown = p.to_string();
            assert_eq!(
                FieldPath::parse(&shown).as_ref(),
                Ok(&p),
                "`{shown}` reparsed"
            );
            Some(p)
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if let Some(c) = e.column() {
                assert!(
                    c >= 1 && c <= text.chars().count() + 1,
                    "column {c} of `{text}`"
                );
            }
            None
        }
    }
}

/// Resolve `p` in the template and write `value` there: a count of places, an instance,
/// or typed errors.
fn apply(p: &FieldPath, value: OverrideValue) {
    let t = template();
    match t.check_path(p) {
        Ok(n) => {
            assert!(n >= 1, "`{p}` resolved to no place");
            match t.instantiate(&[(p.clone(), value)]) {
                Ok(s) => run_engine(&s),
                Err(e) => check_error(&e),
            }
        }
        Err(e) => check_error(&e),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let OverrideValue::Number(x) = OverrideValue::from_text(text) {
        assert!(x.is_finite());
    }
    match Vary::parse(text) {
        Ok(v) => {
            assert!(!v.path.is_empty() && !v.values.is_empty(), "{v:?}");
            for x in &v.values {
                if let ParamValue::Number(x) = x {
                    assert!(x.is_finite(), "{v:?}");
                }
            }
            let first = v.values[0].clone();
            let p = path(&v.path);
            match Grid::new(vec![v]) {
                Ok(g) => {
                    assert!(!g.is_empty());
                    assert_eq!(g.point(g.len() - 1).len(), 1);
                }
                Err(e) => assert!(e.hint().is_some_and(|h| !h.is_empty())),
            }
            if let Some(p) = p {
                let value = match first {
                    ParamValue::Number(x) => OverrideValue::Number(x),
                    ParamValue::Text(s) => OverrideValue::Text(s),
                };
                apply(&p, value);
            }
        }
        Err(e) => {
            assert!(e.hint().is_some_and(|h| !h.is_empty()), "{e}");
            if let Some(p) = path(text) {
                apply(&p, OverrideValue::Number(0.5));
            }
        }
    }
});
