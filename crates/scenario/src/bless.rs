//! `delever check --bless`: an `expect:` block written from a run, and the scenario text
//! with that block put in place of the old one (or appended), everything else untouched.
//!
//! The old block is found with the same span-preserving parser as the index (saphyr): the
//! top-level `expect` key's line up to the next top-level key. Comments at column 0 and
//! blank lines just before that next key are left to it (they usually introduce it);
//! comments inside the block are part of the block and are replaced with it.

use std::fmt::Write as _;

use delever_engine::Outcome;
use saphyr_parser::{Event, Parser};

use crate::Scenario;

/// Most asset rows, and most holder rows, a blessed block lists: past this the block
/// would dwarf the scenario it checks (generated systems have thousands of holders); the
/// totals still cover every holder.
pub const MAX_BLESSED_ROWS: usize = 200;

/// Why a scenario's text cannot take a blessed block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlessError {
    /// The text is not YAML the index could read (the loader says more).
    #[error("line {line}: YAML syntax error: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// The top level is not a block mapping with `expect` at column 1.
    #[error(
        "line {line}: the `expect:` key is not a top-level key at column 1 (a flow-style \
         document); write the scenario in block style to bless it"
    )]
    NotBlockStyle {
        /// 1-based line of the `expect` key.
        line: usize,
    },
}

/// A number as YAML reads it back exactly: the shortest text that round-trips, written
/// the way YAML 1.1 readers (`PyYAML`) also see a float: a `.` in the mantissa and a sign on
/// the exponent (`40000000000.0`, `1.0e-300`, `1.5e+20`).
fn yaml_num(x: f64) -> String {
    // `Debug` gives the shortest round-trip text, in exponent form for very small or large
    // magnitudes.
    let s = format!("{x:?}");
    let Some((mantissa, exp)) = s.split_once('e') else {
        return s;
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    let exp = if exp.starts_with('-') {
        exp.to_owned()
    } else {
        format!("+{exp}")
    };
    format!("{mantissa}e{exp}")
}

/// An id as a YAML mapping key: plain when that reads back as the same string, else a
/// double-quoted (JSON) string.
fn yaml_key(id: &str) -> String {
    let plain = id
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !matches!(
            id.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain {
        id.to_owned()
    } else {
        serde_json::Value::String(id.to_owned()).to_string()
    }
}

/// One bound: `equals` for whole numbers and zero (exact), else `approx` at `rel_tol`.
fn bound(x: f64, rel_tol: f64, whole: bool) -> String {
    if whole {
        format!("{{ equals: {x:.0} }}")
    } else if x == 0.0 {
        "{ equals: 0 }".to_owned()
    } else {
        format!(
            "{{ approx: {}, rel_tol: {} }}",
            yaml_num(x),
            yaml_num(rel_tol)
        )
    }
}

/// The `expect:` block (ending in a newline) that the run `outcome` of `scenario`
/// passes: its termination, every total, each asset's price and drawdown, each holder's
/// status and final equity (at most [`MAX_BLESSED_ROWS`] of each), numbers bounded by
/// `approx` at `rel_tol` (exact `equals` for counts and zeros). Non-finite figures are
/// left out: no bound can hold them.
pub fn expect_block(scenario: &Scenario, outcome: &Outcome, rel_tol: f64) -> String {
    let mut out = String::from("expect:\n");
    let _ = writeln!(
        out,
        "  # Written by `delever check --bless` (rel_tol {}); review the diff before committing.",
        yaml_num(rel_tol)
    );
    let _ = writeln!(out, "  termination: {}", outcome.termination.name());
    let t = &outcome.totals;
    out.push_str("  totals:\n");
    #[allow(clippy::cast_precision_loss)] // counts of accounts, far below 2^53
    let totals = [
        ("initial_loss_usd", t.initial_loss_usd, false),
        ("total_loss_usd", t.total_loss_usd, false),
        ("amplification", t.amplification, false),
        ("forced_sales_usd", t.forced_sales_usd, false),
        ("exogenous_sales_usd", t.exogenous_sales_usd, false),
        ("defaults", t.defaults as f64, true),
        ("margin_calls", t.margin_calls as f64, true),
        ("lender_losses_usd", t.lender_losses_usd, false),
        ("cash_cures_usd", t.cash_cures_usd, false),
    ];
    for (key, x, whole) in totals {
        if x.is_finite() {
            let _ = writeln!(out, "    {key}: {}", bound(x, rel_tol, whole));
        }
    }
    let net = &scenario.network;
    let assets: Vec<String> = outcome
        .assets
        .iter()
        .take(MAX_BLESSED_ROWS)
        .filter_map(|a| {
            let fields: Vec<String> = [("price_after", a.price_after), ("drawdown", a.drawdown)]
                .into_iter()
                .filter(|(_, x)| x.is_finite())
                .map(|(k, x)| format!("{k}: {}", bound(x, rel_tol, false)))
                .collect();
            (!fields.is_empty()).then(|| {
                format!(
                    "    {}: {{ {} }}\n",
                    yaml_key(&net.asset(a.asset).id),
                    fields.join(", ")
                )
            })
        })
        .collect();
    if !assets.is_empty() {
        out.push_str("  assets:\n");
        out.extend(assets);
    }
    if !outcome.holders.is_empty() {
        out.push_str("  holders:\n");
        for h in outcome.holders.iter().take(MAX_BLESSED_ROWS) {
            let mut fields = vec![format!("status: {}", h.status.name())];
            if h.equity_after.is_finite() {
                fields.push(format!(
                    "equity_after: {}",
                    bound(h.equity_after, rel_tol, false)
                ));
            }
            let _ = writeln!(
                out,
                "    {}: {{ {} }}",
                yaml_key(&net.holder(h.holder).id),
                fields.join(", ")
            );
        }
    }
    out
}

/// The 0-based line range `[start, end)` of the top-level `expect:` block of `text`, if
/// it has one.
fn block_lines(text: &str) -> Result<Option<(usize, usize)>, BlessError> {
    // One frame per open collection: whether it is a mapping, and whether its next node is
    // a key.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut start: Option<usize> = None;
    let mut end: Option<usize> = None;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| BlessError::Syntax {
            line: e.marker().line(),
            message: e.info().to_owned(),
        })?;
        let node = matches!(
            event,
            Event::Scalar(..)
                | Event::Alias(_)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
        );
        let top_key = node && stack.len() == 1 && stack[0] == (true, true);
        if top_key {
            let line = span.start.line().saturating_sub(1);
            if start.is_some() && end.is_none() {
                end = Some(line);
            }
            if let Event::Scalar(ref key, ..) = event
                && key == "expect"
            {
                if span.start.col() != 0 {
                    return Err(BlessError::NotBlockStyle {
                        line: span.start.line(),
                    });
                }
                start = Some(line);
                end = None;
            }
        }
        if node && let Some(top) = stack.last_mut() {
            // A node in a mapping alternates key and value; in a sequence it is an item.
            if top.0 {
                top.1 = !top.1;
            }
        }
        match event {
            Event::MappingStart(..) => stack.push((true, true)),
            Event::SequenceStart(..) => stack.push((false, false)),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    let Some(start) = start else {
        return Ok(None);
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // The last key: the block runs to the next line at column 0 that is not a comment (a
    // document marker), or to the end.
    let mut end = end.unwrap_or_else(|| {
        (start + 1..lines.len())
            .find(|&i| {
                lines[i]
                    .chars()
                    .next()
                    .is_some_and(|c| !matches!(c, ' ' | '\t' | '#' | '\n' | '\r'))
            })
            .unwrap_or(lines.len())
    });
    while end > start + 1 {
        let l = lines[end - 1];
        if l.trim().is_empty() || l.starts_with('#') {
            end -= 1;
        } else {
            break;
        }
    }
    Ok(Some((start, end)))
}

/// `text` with its top-level `expect:` block replaced by `block` (a whole number of
/// lines, ending in a newline), or with `block` appended when it has none. Every other
/// line is kept byte for byte.
///
/// # Errors
///
/// [`BlessError`] when the text is not YAML or its `expect` key is not a block-style
/// top-level key.
pub fn replace_expect_block(text: &str, block: &str) -> Result<String, BlessError> {
    // A file written with CRLF line endings keeps them in the new block too.
    let crlf;
    let block = if text.contains("\r\n") {
        crlf = block.replace("\r\n", "\n").replace('\n', "\r\n");
        crlf.as_str()
    } else {
        block
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if let Some((start, end)) = block_lines(text)? {
        let mut out: String = lines[..start].concat();
        out.push_str(block);
        // The block's last line ends in a newline; the old one might not have (the end of
        // the file), in which case nothing follows.
        out.push_str(&lines[end..].concat());
        return Ok(out);
    }
    let mut out = text.to_owned();
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(eol);
    }
    if !out.is_empty() {
        out.push_str(eol);
    }
    out.push_str(block);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEW: &str = "expect:\n  termination: converged\n";

    #[test]
    fn replaces_only_the_block() {
        let text = "# top\nname: x\nexpect:\n  # old\n  totals: { defaults: { equals: 1 } }\n\n# the shocks\nshocks: []  # none\n";
        let got = replace_expect_block(text, NEW).expect("blessable");
        assert_eq!(
            got,
            "# top\nname: x\nexpect:\n  termination: converged\n\n# the shocks\nshocks: []  # none\n"
        );
    }

    #[test]
    fn last_key_and_flow_value() {
        let text = "name: x\nexpect: { termination: max_rounds }\n# trailing\n";
        assert_eq!(
            replace_expect_block(text, NEW).expect("blessable"),
            "name: x\nexpect:\n  termination: converged\n# trailing\n"
        );
        let no_newline = "name: x\nexpect:\n  termination: max_rounds";
        assert_eq!(
            replace_expect_block(no_newline, NEW).expect("blessable"),
            "name: x\nexpect:\n  termination: converged\n"
        );
    }

    #[test]
    fn appends_when_absent_and_ignores_nested_expect_keys() {
        let text = "name: x\nvariants:\n  - name: v\n    expect: { termination: converged }";
        assert_eq!(
            replace_expect_block(text, NEW).expect("blessable"),
            format!("{text}\n\n{NEW}")
        );
    }

    #[test]
    fn keeps_crlf_line_endings() {
        let text = "name: x\r\nexpect:\r\n  termination: max_rounds\r\nshocks: []\r\n";
        assert_eq!(
            replace_expect_block(text, NEW).expect("blessable"),
            "name: x\r\nexpect:\r\n  termination: converged\r\nshocks: []\r\n"
        );
        assert_eq!(
            replace_expect_block("name: x\r\n", NEW).expect("blessable"),
            "name: x\r\n\r\nexpect:\r\n  termination: converged\r\n"
        );
    }

    #[test]
    fn refuses_flow_documents() {
        let text = "{name: x, expect: {termination: converged}}\n";
        assert!(matches!(
            replace_expect_block(text, NEW),
            Err(BlessError::NotBlockStyle { line: 1 })
        ));
    }

    #[test]
    fn numbers_and_keys_read_back() {
        assert_eq!(yaml_num(4.0e10), "40000000000.0");
        assert_eq!(yaml_num(-0.25), "-0.25");
        assert_eq!(yaml_num(1e-300), "1.0e-300");
        assert_eq!(yaml_num(1.5e20), "1.5e+20");
        assert_eq!(yaml_num(1e-6), "1.0e-6");
        assert_eq!(yaml_key("hf-1"), "hf-1");
        assert_eq!(yaml_key("no"), "\"no\"");
        assert_eq!(yaml_key("a b: c"), "\"a b: c\"");
        assert_eq!(yaml_key("1x"), "\"1x\"");
    }
}
