//! No input makes the scenario loader panic: random bytes, and random mutations of a valid
//! scenario (deleted, duplicated and swapped lines, injected keys, odd values, truncation).
//! Whatever it returns, an error has at least one diagnostic and renders.

use std::path::PathBuf;

use delever_scenario::Scenario;
use proptest::prelude::*;

const VALID: &str = include_str!("fixtures/full-example.yaml");

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Load `text`; on error the diagnostics must be non-empty and render.
fn load(text: &str) {
    match Scenario::from_yaml(text, "prop.yaml", Some(&fixtures())) {
        Ok(s) => assert!(!s.network.assets().is_empty()),
        Err(e) => {
            assert!(!e.diagnostics.is_empty());
            assert!(!e.to_string().is_empty());
        }
    }
}

/// Values that stress the parser and the checks.
const ODD: &[&str] = &[
    ".nan",
    ".inf",
    "-.inf",
    "-1",
    "0",
    "1e400",
    "-1e-400",
    "abc",
    "[]",
    "{}",
    "~",
    "null",
    "*a",
    "&a x",
    "\"",
    "'",
    "[",
    "{",
    "- x",
    ": :",
    "!!binary AAAA",
    "? x",
    "2026-02-30",
    "18446744073709551616",
    "-9223372036854775809",
    "0x1F",
    "1_000",
    "true",
    "|",
    ">",
    "{ law: linear }",
    "[{ ltv: 2, share: -1 }]",
    "../../etc/passwd",
    "/dev/zero",
];

/// Keys worth injecting: real ones in wrong places, typos, kind-specific ones.
const KEYS: &[&str] = &[
    "id",
    "kind",
    "price",
    "maintenence",
    "nav",
    "rule",
    "basket",
    "accounts_csv",
    "type",
    "return",
    "usd",
    "expect",
    "totals",
    "status",
    "min",
    "approx",
    "source",
    "tags",
];

#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapValues(usize, usize),
    SetValue(usize, usize),
    InjectKey(usize, usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapValues(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SetValue(a, b)),
        (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(a, b, c)| Mutation::InjectKey(a, b, c)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Split a line into its key part (up to and including `: `) and its value.
fn split_value(line: &str) -> Option<(&str, &str)> {
    let i = line.find(": ")?;
    Some((&line[..i + 2], &line[i + 2..]))
}

fn apply(text: &str, muts: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for m in muts {
        let n = lines.len().max(1);
        match *m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::SwapValues(a, b) if !lines.is_empty() => {
                let (a, b) = (a % n, b % n);
                if let (Some((ka, va)), Some((kb, vb))) =
                    (split_value(&lines[a]), split_value(&lines[b]))
                {
                    let (na, nb) = (format!("{ka}{vb}"), format!("{kb}{va}"));
                    lines[a] = na;
                    lines[b] = nb;
                }
            }
            Mutation::SetValue(i, v) if !lines.is_empty() => {
                let i = i % n;
                if let Some((k, _)) = split_value(&lines[i]) {
                    lines[i] = format!("{k}{}", ODD[v % ODD.len()]);
                }
            }
            Mutation::InjectKey(i, k, v) if !lines.is_empty() => {
                let i = i % n;
                let indent: String = lines[i].chars().take_while(|c| *c == ' ').collect();
                let indent = indent.replacen("- ", "  ", 1);
                lines.insert(
                    i,
                    format!("{indent}{}: {}", KEYS[k % KEYS.len()], ODD[v % ODD.len()]),
                );
            }
            Mutation::Truncate(at) => {
                let joined = lines.join("\n");
                let mut cut = at % (joined.len() + 1);
                while !joined.is_char_boundary(cut) {
                    cut -= 1;
                }
                lines = joined[..cut].lines().map(str::to_owned).collect();
            }
            _ => {}
        }
    }
    lines.join("\n")
}

#[test]
fn the_unmutated_fixture_loads() {
    let s = Scenario::from_yaml(VALID, "full-example.yaml", Some(&fixtures()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.network.holders().len(), 11);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_yamlish_text_never_panics(text in "[a-z_:\\- \\[\\]{},.&*!|>'\"#0-9\n]{0,400}") {
        load(&text);
    }

    #[test]
    fn mutated_scenarios_never_panic(muts in proptest::collection::vec(mutation(), 1..6)) {
        load(&apply(VALID, &muts));
    }
}
