//! `delever schema` against the real inputs: every shipped scenario and every YAML example
//! in the docs validates; every malformed scenario of `tests/errors/` that a schema can
//! describe is flagged, and the ones it cannot are listed below with the reason (the test
//! fails if a listed one is flagged, so the list stays honest). Numbers in the shipped
//! scenarios, the docs' YAML and `delever generate`'s output are written so that YAML 1.1
//! readers (`PyYAML`) read them as numbers too.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{delever, root, scratch};

/// The schema `delever schema` prints.
fn schema() -> Value {
    let r = delever(["schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("schema is JSON")
}

/// A validator for `schema`, asserting `format` (`as_of: 2026-02-30`) as editors do.
fn validator_of(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema is a valid JSON Schema")
}

/// The schema's complaints about `doc`, one line each.
fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at `{}`", e.instance_path()))
        .collect()
}

/// A YAML text as the JSON value a schema validator sees, or why there is none.
fn as_json(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// Malformed inputs a JSON Schema cannot flag, each with the reason. Every other file of
/// `tests/errors/` must be flagged by the schema; every file here must not be.
#[rustfmt::skip]
const INEXPRESSIBLE: &[(&str, &str)] = &[
    // Not one YAML document with a JSON value: a schema validates a value, never the text.
    ("yaml_syntax.yaml", "a YAML syntax error: there is no value to validate"),
    ("tab_indentation.yaml", "a YAML syntax error (tab indentation): there is no value to validate"),
    ("binary_garbage.yaml", "not a text file: there is no value to validate"),
    ("not_utf8.yaml", "not UTF-8: there is no value to validate"),
    ("multiple_documents.yaml", "several YAML documents: a schema validates one value"),
    ("duplicate_key.yaml", "a duplicate key is a property of the text; the value has one key"),
    ("alias_bomb.yaml", "the size of the expansion is a property of the text"),
    ("deep_nesting.yaml", "nesting past the YAML reader's depth limit: there is no value to validate"),
    ("line_separator.yaml", "a U+2028 in the YAML text: once read it is one character of a string, which any text may hold"),
    // References: a schema cannot say that an id names something defined elsewhere.
    ("unknown_asset.yaml", "an asset id must name an asset of `assets`"),
    ("unknown_lender.yaml", "a lender id must name a lender of `lenders`"),
    ("unknown_creditor.yaml", "a creditor id must name a holder or a lender"),
    ("unknown_source.yaml", "a source id must name an entry of `sources`"),
    ("unknown_tag.yaml", "a shock's tag must be a tag of some asset"),
    ("unknown_shock_holder.yaml", "a redemption's holder must name a holder"),
    ("wrong_kind_reference.yaml", "the id exists, but names a holder where a lender is expected"),
    ("expect_unknown_holder.yaml", "`expect.holders` keys must name holders"),
    ("duplicate_id.yaml", "ids must be unique across assets, holders and lenders (uniqueItems compares whole items)"),
    // Across fields: comparisons and sums of several values.
    ("reset_below_maintenance.yaml", "`reset` must be ≥ the same margin's `maintenance`"),
    ("expect_bad_bound.yaml", "a bound's `min` must not exceed its `max`"),
    ("weights_not_summing.yaml", "basket weights must sum to 1"),
    ("ltv_shares_not_summing.yaml", "bucket shares must sum to 1"),
    ("starting_equity_negative.yaml", "equity is holdings × prices + cash − loan, across the holder's and the assets' fields"),
    // Outside the document: the file's name and the CSV books it includes.
    ("name_mismatch.yaml", "`name` must equal the file's stem, which the document does not contain"),
    ("missing_include.yaml", "whether the CSV file exists"),
    ("include_escapes.yaml", "whether the path leaves the scenario's directory depends on the file system (`..`, links)"),
    ("csv_bad_row.yaml", "the contents of a CSV book"),
    ("csv_bad_header.yaml", "the contents of a CSV book"),
    ("csv_unknown_asset.yaml", "the contents of a CSV book"),
    ("csv_out_of_order.yaml", "the contents of a CSV book"),
    ("csv_duplicate_account.yaml", "the contents of a CSV book"),
    ("csv_insolvent_accounts.yaml", "the contents of a CSV book, priced at the assets' prices"),
    ("csv_huge_amount.yaml", "the contents of a CSV book"),
    ("csv_ragged_row.yaml", "the contents of a CSV book"),
    ("table_bad_cell.yaml", "the contents of a holder table"),
    ("table_unknown_column.yaml", "the contents of a holder table"),
];

fn corpus() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("tests/errors"))
        .expect("tests/errors exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn the_schema_flags_every_malformed_input_it_can_express() {
    let v = validator_of(&schema());
    let files = corpus();
    assert!(files.len() >= 60, "{} files", files.len());
    let mut wrong = Vec::new();
    for f in &files {
        let name = file_name(f);
        let reason = INEXPRESSIBLE
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r);
        let doc = as_json(&std::fs::read(f).expect("read"));
        let flagged = doc.as_ref().is_ok_and(|d| !v.is_valid(d));
        match (reason, flagged) {
            (None, false) => wrong.push(format!(
                "{name}: the loader refuses it but the schema passes it ({}); flag it in the schema, or list it in INEXPRESSIBLE with the reason",
                doc.err().unwrap_or_else(|| "it is a JSON value".into())
            )),
            (Some(r), true) => wrong.push(format!(
                "{name}: listed as inexpressible ({r}), but the schema flags it: {:?}; take it off the list",
                doc.map(|d| errors(&v, &d)).unwrap_or_default()
            )),
            _ => {}
        }
    }
    for (n, _) in INEXPRESSIBLE {
        if !files.iter().any(|f| file_name(f) == *n) {
            wrong.push(format!("{n}: listed but not in tests/errors/"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The first holder of `kind` in `doc`.
fn holder(doc: &Value, kind: &str) -> Value {
    let hs = doc["holders"].as_array().expect("holders");
    hs.iter()
        .find(|h| h["kind"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("the fixture has a {kind}"))
}

/// A change to a valid scenario's value.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn the_schema_flags_what_the_issue_named() {
    let v = validator_of(&schema());
    let base = std::fs::read_to_string(root().join("tests/fixtures/full-example.yaml"))
        .expect("read the fixture");
    let doc = as_json(base.as_bytes()).expect("YAML");
    assert!(v.is_valid(&doc), "{:#?}", errors(&v, &doc));
    // Each edit makes the fixture malformed in one way; the schema must say so.
    let edits: Vec<(&str, Edit)> = vec![
        (
            "maintenance: 1.3",
            Box::new(|d: &mut Value| {
                let mut h = holder(d, "margin_account");
                h["margin"]["maintenance"] = json!(1.3);
                d["holders"] = json!([h]);
            }),
        ),
        (
            "return: -8",
            Box::new(|d: &mut Value| {
                d["shocks"] = json!([{ "type": "market", "return": -8 }]);
            }),
        ),
        (
            "a bank without its rule",
            Box::new(|d: &mut Value| {
                d["holders"] = json!([{ "id": "b", "kind": "bank" }]);
            }),
        ),
        (
            "a bank with `rule: null`",
            Box::new(|d: &mut Value| {
                d["holders"] = json!([{ "id": "b", "kind": "bank", "rule": null }]);
            }),
        ),
        (
            "a loan on a cohort",
            Box::new(|d: &mut Value| {
                let mut h = holder(d, "margin_cohort");
                h["margin"]["loan"] = json!(1000);
                d["holders"] = json!([h]);
            }),
        ),
        (
            "a required key as null",
            Box::new(|d: &mut Value| {
                d["assets"][0]["price"] = Value::Null;
            }),
        ),
        (
            "a rule key of another rule type",
            Box::new(|d: &mut Value| {
                d["holders"] =
                    json!([{ "id": "b", "kind": "bank", "rule": { "type": "passive", "max": 3 } }]);
            }),
        ),
        (
            "a bound of two forms",
            Box::new(|d: &mut Value| {
                d["expect"] = json!({ "totals": { "defaults": { "min": 0, "equals": 1 } } });
            }),
        ),
        (
            "a student_t without dof",
            Box::new(|d: &mut Value| {
                d["monte_carlo"] = json!({ "distribution": { "type": "student_t" } });
            }),
        ),
    ];
    for (what, edit) in edits {
        let mut d = doc.clone();
        edit(&mut d);
        assert!(!v.is_valid(&d), "{what}: the schema passes it");
    }
    // An optional key written with no value is read as absent by the loader: allowed.
    let mut d = doc.clone();
    d["assets"][0]["beta"] = Value::Null;
    assert!(v.is_valid(&d), "{:#?}", errors(&v, &d));
}

/// The YAML blocks of a Markdown file: (first line number, text).
fn yaml_blocks(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, String)> = None;
    for (i, line) in md.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match (&mut cur, fence) {
            (None, true) if line.trim() == "```yaml" => cur = Some((i + 2, String::new())),
            (Some(_), true) => out.extend(cur.take()),
            (Some((_, text)), false) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    out
}

/// The Markdown files whose YAML examples are scenario YAML.
fn doc_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    v.push(root().join("README.md"));
    v.sort();
    v
}

/// A docs example as the values to validate, each with the schema to validate it against:
/// a whole scenario, or a fragment (some top-level keys; a list of holders; one key of an
/// asset or a holder per line, as the format's reference shows the forms of `impact:`).
fn fragments(text: &str, schema: &Value) -> Vec<(Value, Value)> {
    let defs = &schema["$defs"];
    // The root's keys, and the keys of assets and holders a docs line may show alone.
    let mut props = schema["properties"].clone();
    for (def, key) in [
        ("AssetSpec", "impact"),
        ("HolderSpec", "rule"),
        ("HolderSpec", "margin"),
        ("HolderSpec", "holdings"),
    ] {
        props[key] = defs[def]["properties"][key].clone();
    }
    let top = json!({ "$defs": defs, "type": "object", "properties": props, "additionalProperties": false });
    let holders =
        json!({ "$defs": defs, "type": "array", "items": { "$ref": "#/$defs/HolderSpec" } });
    let whole = |v: Value| -> (Value, Value) {
        if v.is_array() {
            (v, holders.clone())
        } else if v.get("name").is_some() && v.get("as_of").is_some() {
            (v, schema.clone())
        } else {
            (v, top.clone())
        }
    };
    match serde_yaml::from_str::<Value>(text) {
        Ok(v) => vec![whole(v)],
        // Several forms of one key, one per line: each line is a fragment of its own.
        Err(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| whole(serde_yaml::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))))
            .collect(),
    }
}

#[test]
fn every_scenario_example_in_the_docs_validates() {
    let schema = schema();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for f in doc_files() {
        let md = std::fs::read_to_string(&f).expect("read");
        for (line, text) in yaml_blocks(&md) {
            // A Kubernetes manifest (docs/scaling.md) is YAML, but not a scenario.
            if text.starts_with("apiVersion:") {
                continue;
            }
            for (value, against) in fragments(&text, &schema) {
                let v = validator_of(&against);
                let errs = errors(&v, &value);
                if !errs.is_empty() {
                    wrong.push(format!("{}:{line}: {errs:#?}", f.display()));
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 25, "only {checked} examples found");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn shipped_scenarios_validate_with_formats_asserted() {
    let v = validator_of(&schema());
    for f in crate::util::shipped_files() {
        let doc = as_json(&std::fs::read(&f).expect("read")).expect("YAML");
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{}: {errs:#?}", f.display());
    }
}

/// Plain scalars in `line` (its comment cut off) that read as a number with an exponent
/// in YAML 1.2 but as a string in YAML 1.1: a YAML 1.1 float needs a dot in the mantissa
/// and a sign on the exponent (`4.0e+10`, not `4.0e10` or `4e+10`). Only whole values are
/// looked at (after `:`, `-`, `[`, `{` or `,`, up to `,`, `]`, `}` or the end), not words
/// of prose.
fn yaml11_strings(line: &str) -> Vec<String> {
    let body = match line.find(" #") {
        Some(i) => &line[..i],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let b = body.as_bytes();
    for (i, c) in body.char_indices().chain([(body.len(), ',')]) {
        if matches!(c, ',' | '[' | ']' | '{' | '}')
            || (c == ':' && b.get(i + 1).is_none_or(|x| *x == b' '))
        {
            let piece = body[start..i].trim();
            let piece = piece.strip_prefix("- ").unwrap_or(piece).trim();
            if yaml12_exponent(piece) && !yaml11_float(piece) {
                out.push(piece.to_owned());
            }
            start = i + c.len_utf8();
        }
    }
    out
}

/// A YAML 1.2 float with an exponent: `[-+]?(digits[.digits]|.digits)[eE][-+]?digits`.
fn yaml12_exponent(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let Some((m, e)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let e = e.strip_prefix(['-', '+']).unwrap_or(e);
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    !e.is_empty()
        && digits(e)
        && digits(int)
        && digits(frac)
        && !(int.is_empty() && frac.is_empty())
}

/// A YAML 1.1 float as `PyYAML` resolves it: a dot, and a signed exponent if any.
fn yaml11_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    match s.split_once(['e', 'E']) {
        Some((m, e)) => m.contains('.') && e.starts_with(['-', '+']),
        None => true,
    }
}

/// `file:line: value` for every YAML 1.1 string-number in `text` (all of it YAML).
fn unsafe_numbers(name: &str, text: &str, first_line: usize) -> Vec<String> {
    text.lines()
        .enumerate()
        .flat_map(|(i, l)| {
            yaml11_strings(l)
                .into_iter()
                .map(move |n| format!("{name}:{}: `{n}`", first_line + i))
        })
        .collect()
}

#[test]
fn the_yaml_1_1_scan_tells_numbers_from_strings() {
    let found = yaml11_strings(
        "  - { id: A, price: 1e9, adv_usd: 4.0e10, x: 4.0e+10, y: -2.5E-3, z: 7e+08 }  # 1e5",
    );
    assert_eq!(found, ["1e9", "4.0e10", "7e+08"]);
    assert!(yaml11_strings("description: cash 1.2e10, shares").is_empty());
    assert_eq!(yaml11_strings("tolerance: 1e-10"), ["1e-10"]);
    assert!(yaml11_strings("name: e5").is_empty());
}

#[test]
fn shipped_scenarios_and_docs_write_numbers_yaml_1_1_reads() {
    let mut found = Vec::new();
    for f in crate::util::shipped_files() {
        let text = std::fs::read_to_string(&f).expect("read");
        found.extend(unsafe_numbers(&f.display().to_string(), &text, 1));
    }
    for f in doc_files() {
        let md = std::fs::read_to_string(&f).expect("read");
        for (line, text) in yaml_blocks(&md) {
            found.extend(unsafe_numbers(&f.display().to_string(), &text, line));
        }
    }
    assert!(
        found.is_empty(),
        "write these as `4.0e+10` (a dot and a signed exponent) or in full:\n{}",
        found.join("\n")
    );
}

#[test]
fn generated_scenarios_write_numbers_yaml_1_1_reads() {
    for (label, args) in [
        (
            "caccioli",
            &["caccioli", "--banks", "20", "--assets", "10"][..],
        ),
        ("glt", &["glt", "--banks", "5", "--assets", "3"][..]),
        (
            "retail",
            &["retail-book", "--accounts", "3000", "--assets", "60"][..],
        ),
    ] {
        let dir = scratch(&format!("schema-yaml11-{label}"));
        let mut all = vec!["generate"];
        all.extend_from_slice(args);
        let d = dir.display().to_string();
        all.extend_from_slice(&["--name", "g", "--seed", "3", "--out-dir", &d]);
        let r = delever(all);
        assert_eq!(r.code, 0, "{label}: {}", r.stderr);
        let text = std::fs::read_to_string(dir.join("g.yaml")).expect("generated");
        let found = unsafe_numbers(label, &text, 1);
        assert!(found.is_empty(), "{found:#?}");
        let v = validator_of(&schema());
        let doc = as_json(text.as_bytes()).expect("YAML");
        assert!(v.is_valid(&doc), "{label}: {:#?}", errors(&v, &doc));
    }
}

/// Byte ranges of the plain scalars in `line` that are numbers (YAML 1.2), in value
/// position as [`yaml11_strings`] reads them.
fn number_spans(line: &str) -> Vec<std::ops::Range<usize>> {
    let body = line.find(" #").map_or(line, |i| &line[..i]);
    if body.trim_start().starts_with('#') {
        return Vec::new();
    }
    let b = body.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in body.char_indices().chain([(body.len(), ',')]) {
        if matches!(c, ',' | '[' | ']' | '{' | '}')
            || (c == ':' && b.get(i + 1).is_none_or(|x| *x == b' '))
        {
            let raw = &body[start..i];
            let lead = raw.len() - raw.trim_start().len();
            let mut piece = raw.trim();
            let mut from = start + lead;
            if let Some(p) = piece.strip_prefix("- ") {
                from += piece.len() - p.trim_start().len();
                piece = p.trim_start();
            }
            if !piece.is_empty() && piece.parse::<f64>().is_ok() {
                out.push(from..from + piece.len());
            }
            start = i + c.len_utf8();
        }
    }
    out
}

/// Values at and around every bound the schema and the loader set.
const PROBES: &[&str] = &[
    "~",
    "-1.0e+16",
    "-100",
    "-10",
    "-1.000001",
    "-1",
    "0",
    "1.0e-7",
    "1.0e-6",
    "0.5",
    "1",
    "1.000001",
    "2",
    "10",
    "10.5",
    "1000",
    "2520",
    "2521",
    "10000",
    "1000001",
    "1.0e+9",
    "1.0e+15",
    "1.1e+15",
    "2.0e+18",
];

#[test]
fn whatever_the_loader_accepts_the_schema_accepts() {
    // Every number of these files, set to every probe in turn: when the loader accepts the
    // result, the schema must too (the schema is never stricter than the loader).
    use rayon::prelude::*;
    let v = validator_of(&schema());
    let mut loaded = 0;
    let mut wrong = Vec::new();
    for rel in [
        "tests/fixtures/full-example.yaml",
        "tests/fixtures/convexity.yaml",
        "tests/fixtures/timeline/week.yaml",
        "tests/fixtures/etf_shares/retail-soxl.yaml",
        "tests/fixtures/holder-tables/cont-schaanning-tables.yaml",
    ] {
        let path = root().join(rel);
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        let edits: Vec<(usize, String)> = lines
            .iter()
            .enumerate()
            .flat_map(|(n, line)| {
                number_spans(line).into_iter().flat_map(move |span| {
                    PROBES.iter().map(move |probe| {
                        (
                            n,
                            format!("{}{probe}{}", &line[..span.start], &line[span.end..]),
                        )
                    })
                })
            })
            .collect();
        let results: Vec<(bool, Option<String>)> = edits
            .par_iter()
            .map(|(n, new)| {
                let mut edited = lines.clone();
                edited[*n] = new;
                let doc = edited.join("\n");
                if delever_scenario::Scenario::from_yaml(&doc, rel, path.parent()).is_err() {
                    return (false, None);
                }
                let value = as_json(doc.as_bytes()).expect("YAML");
                let errs = errors(&v, &value);
                let bad = (!errs.is_empty())
                    .then(|| format!("{rel}:{}: `{new}` loads, but {errs:?}", n + 1));
                (true, bad)
            })
            .collect();
        loaded += results.iter().filter(|r| r.0).count();
        wrong.extend(results.into_iter().filter_map(|r| r.1));
    }
    assert!(loaded > 1000, "only {loaded} variants loaded");
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
