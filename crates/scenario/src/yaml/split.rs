//! A large scenario's `holders` list deserialised in slices, on every core.
//!
//! Reading a 100,000-bank scenario was two long serial passes over its text, libyaml and
//! serde's and the index's (saphyr); the holders are nearly all of it. A scan of the
//! text's lines finds the root mapping's `holders:` block list and cuts it at its items
//! into slices of about [`SLICE_BYTES`]. Each slice is a YAML document of its own, a block
//! sequence, and deserialises to its holders on one of rayon's threads; the rest of the
//! text, with `holders: []` in place of the list, deserialises to everything else and is
//! indexed (checked) beside them.
//!
//! Why the slices need no second parser: block sequences at one indentation, each
//! complete up to the end of its last line, concatenate to the sequence of all their
//! items. Every line of the list, and every line before it, must be plain
//! ([`plain_items`]): complete in itself, no quoted string or flow collection going on to
//! the next line, no plain string continued on a line of its own (block scalars aside).
//! Then a line at the items' indentation that starts with a dash starts an item, and
//! `holders:` at the start of a line is the root's key; each slice must also deserialise
//! to exactly as many holders as it has such lines. The index's checks are covered for
//! the list by libyaml and serde: syntax, a second document and unknown aliases are
//! libyaml's errors; duplicate keys are serde's for structs and the `basket` map's own
//! (see `spec::holder`); nesting past the index's limit cannot fit the holder schema.
//! What the index refuses that libyaml would read is tags and anchors, and a text with a
//! `!` in the list or any possible anchor is not split. The plain lines also rule out
//! where libyaml is laxer than the index's parser (strings continued at too small an
//! indentation).
//!
//! Whenever anything does not fit (no block list at the root, one slice only, a slice or
//! the rest that fails), the caller reads the whole text as before, so every refusal keeps
//! its wording and place.

use rayon::prelude::*;

use crate::spec::{HolderSpec, ScenarioSpec};

/// Slices of the holders list are cut at the first item past this many bytes.
pub(crate) const SLICE_BYTES: usize = 512 * 1024;

/// Where the `holders` list is and where it is cut, from a scan of the lines.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Byte where the `holders:` line starts.
    key: usize,
    /// Byte where the line after the list starts (the text's length at its end).
    end: usize,
    /// The items' indentation, in spaces.
    indent: usize,
    /// Byte at which each slice starts; the first is the first item.
    cuts: Vec<usize>,
    /// The text without the list, `holders: []` in its place (made once, by [`plan`]:
    /// both serde and the index read it).
    rest: String,
}

/// A line's indentation in spaces, and whether it holds nothing but white space or a
/// comment; `None` if its indentation has a tab (the scan gives up).
fn indentation(line: &str) -> Option<(usize, bool)> {
    let body = line.trim_start_matches(' ');
    if body.starts_with('\t') {
        return None;
    }
    let blank = body.trim().is_empty() || body.starts_with('#');
    Some((line.len() - body.len(), blank))
}

/// What follows `holders:` when `line` is the root key `holders`.
fn after_holders_key(line: &str) -> Option<&str> {
    line.strip_prefix("holders")?
        .trim_start_matches(' ')
        .strip_prefix(':')
}

/// Whether `rest` (a line after its indentation) starts a block sequence item.
fn is_item(rest: &str) -> bool {
    let rest = rest.trim_end_matches(['\r', '\n']);
    rest == "-" || rest.starts_with("- ")
}

/// Find the root `holders:` block list and plan its slices; `None` when there is none
/// (or the scan is unsure), it would make a single slice, or it holds a `!` (a YAML tag,
/// perhaps, which the index would refuse).
pub(crate) fn plan(text: &str, slice_bytes: usize) -> Option<Plan> {
    let plan = scan(text, slice_bytes)?;
    let list = text.get(*plan.cuts.first()?..plan.end)?;
    // The text before the key must be plain too: were `holders:` a line of a quoted
    // string or a flow collection at the root, what looks like the list is text.
    let before = text.get(..plan.key)?;
    plain_items(before, usize::MAX)?;
    if plan.cuts.len() < 2 || list.contains('!') {
        return None;
    }
    Some(Plan {
        rest: format!("{before}holders: []\n{}", text.get(plan.end..)?),
        ..plan
    })
}

fn scan(text: &str, slice_bytes: usize) -> Option<Plan> {
    enum State {
        Seeking,
        First { key: usize },
        Items { key: usize, indent: usize },
    }
    let mut state = State::Seeking;
    let mut cuts: Vec<usize> = Vec::new();
    let mut at = 0usize;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        match state {
            State::Seeking => {
                if let Some(after) = after_holders_key(line) {
                    // Only `holders:` alone (or with a comment) opens a block list;
                    // `holders: []` or anything else on the line is left whole.
                    let after = after.trim_end_matches(['\r', '\n']);
                    let comment = after.trim_start_matches([' ', '\t']);
                    if !(after.is_empty()
                        || (comment.starts_with('#') && comment.len() < after.len()))
                    {
                        return None;
                    }
                    state = State::First { key: start };
                }
            }
            State::First { key } => {
                let (indent, blank) = indentation(line)?;
                if blank {
                    continue;
                }
                if !is_item(&line[indent..]) {
                    return None;
                }
                cuts.push(start);
                state = State::Items { key, indent };
            }
            State::Items { key, indent: k } => {
                let (indent, blank) = indentation(line)?;
                if blank || indent > k {
                    continue;
                }
                if indent == k && is_item(&line[indent..]) {
                    if start - cuts.last().copied().unwrap_or(0) >= slice_bytes {
                        cuts.push(start);
                    }
                    continue;
                }
                // The list ends; a second `holders` key later is left to the whole parse.
                if text[start..]
                    .lines()
                    .any(|l| after_holders_key(l).is_some())
                {
                    return None;
                }
                return Some(Plan {
                    key,
                    end: start,
                    indent: k,
                    cuts,
                    rest: String::new(),
                });
            }
        }
    }
    match state {
        State::Items { key, indent } => Some(Plan {
            key,
            end: text.len(),
            indent,
            cuts,
            rest: String::new(),
        }),
        _ => None,
    }
}

/// The number of items of a slice of the list (lines at the items' indentation `k` that
/// start with a dash), if every line of it is plain ([`plain_line`]) or inside a block
/// scalar (`|`, `>`). So no quoted string or flow collection spans lines and no plain
/// string goes on to a line of its own: the constructs where libyaml is laxer about
/// indentation than the index's parser, or could hide a line that looks like an item.
/// `None` otherwise.
fn plain_items(slice: &str, k: usize) -> Option<usize> {
    let mut items = 0usize;
    // The indentation of the line that opened a block scalar, while in it.
    let mut block: Option<usize> = None;
    for line in slice.lines() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let body = body.trim_end();
        if body.is_empty() {
            continue;
        }
        if let Some(opener) = block {
            if indent > opener {
                continue;
            }
            block = None;
        }
        if body.starts_with('#') {
            continue;
        }
        if indent == k && is_item(body) {
            items += 1;
        }
        let code = plain_line(body)?;
        let last = code.rsplit(' ').next().unwrap_or("");
        if last.len() <= 4
            && (last.starts_with('|') || last.starts_with('>'))
            && last[1..]
                .chars()
                .all(|c| matches!(c, '+' | '-' | '1'..='9'))
        {
            block = Some(indent);
        }
    }
    Some(items)
}

/// A line (without its indentation) that is complete in itself: an item or has a key,
/// every quoted string that it opens it closes, and its brackets balance. A quote opens
/// a string only where a scalar may start (at the line's start, after `:`, `-`, `?`, `,`,
/// `[` or `{`); elsewhere it is a plain string's letter (`bank's`). Returns the line
/// without its comment; `None` if it is not plain.
fn plain_line(body: &str) -> Option<&str> {
    let b = body.as_bytes();
    let (mut i, mut depth) = (0usize, 0isize);
    // The last character that was not a space, `None` at the line's start.
    let mut prev: Option<u8> = None;
    let mut end = b.len();
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' if prev.is_none_or(|p| b":-?,[{".contains(&p)) => {
                i = closing_quote(b, i)?;
                prev = Some(c);
            }
            b'#' if i == 0 || b[i - 1] == b' ' => {
                end = i;
                break;
            }
            b'[' | b'{' => {
                depth += 1;
                prev = Some(c);
            }
            b']' | b'}' => {
                depth -= 1;
                prev = Some(c);
            }
            b' ' => {}
            _ => prev = Some(c),
        }
        i += 1;
    }
    let code = body[..end].trim_end();
    (depth == 0 && (code.starts_with('-') || code.contains(':'))).then_some(code)
}

/// Where the quoted string opened at `open` closes on the line: the next unescaped `"`,
/// or the next `'` not doubled. `None` if the line ends first.
fn closing_quote(b: &[u8], open: usize) -> Option<usize> {
    let q = b[open];
    let mut i = open + 1;
    while let Some(&c) = b.get(i) {
        if q == b'"' && c == b'\\' {
            i += 2;
            continue;
        }
        if c == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

impl Plan {
    /// The text without the list: `holders: []` in its place.
    pub(crate) fn rest(&self) -> &str {
        &self.rest
    }

    /// How many slices the list is cut into.
    pub(crate) fn slices(&self) -> usize {
        self.cuts.len()
    }

    /// Deserialise the slices on rayon's threads and the rest of the text beside them;
    /// `None` if any part fails (the whole parse then finds and words the problem).
    pub(crate) fn parse(&self, text: &str) -> Option<ScenarioSpec> {
        let bounds: Vec<(usize, usize)> = self
            .cuts
            .iter()
            .enumerate()
            .map(|(i, &start)| (start, self.cuts.get(i + 1).copied().unwrap_or(self.end)))
            .collect();
        let (rest, parts) = rayon::join(
            || serde_yaml::from_str::<ScenarioSpec>(&self.rest).ok(),
            || {
                bounds
                    .par_iter()
                    .map(|&(start, end)| {
                        let slice = text.get(start..end)?;
                        let items = plain_items(slice, self.indent)?;
                        let part: Vec<HolderSpec> = serde_yaml::from_str(slice).ok()?;
                        (part.len() == items).then_some(part)
                    })
                    .collect::<Option<Vec<_>>>()
            },
        );
        let (mut spec, parts) = (rest?, parts?);
        if !spec.holders.is_empty() {
            return None;
        }
        spec.holders = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            spec.holders.extend(part);
        }
        Some(spec)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;
    use crate::index;

    fn whole(text: &str) -> ScenarioSpec {
        serde_yaml::from_str(text).expect("whole parse")
    }

    fn scenario(holders: &str, after: &str) -> String {
        format!(
            "name: s\ndescription: d\nas_of: 2026-01-01\nassets:\n  - {{ id: A, price: 1.0, shares_outstanding: 1e9 }}\nholders:{holders}{after}"
        )
    }

    fn banks(n: usize, indent: &str) -> String {
        let mut out = String::new();
        for i in 0..n {
            write!(out, "\n{indent}- {{ id: b{i}, kind: bank, cash: {i}.5 }}").expect("write");
        }
        out + "\n"
    }

    #[test]
    fn slices_give_the_whole_parse() {
        let mut block = String::new();
        for i in 0..30 {
            write!(
                block,
                    "\n  # bank {i}\n\n  - id: b{i}\n    kind: bank\n    # cash\n    cash: {i}\n    source: >\n      folded\n      - not an item\n    holdings:\n      - {{ asset: A, usd: 1.0 }}"
            )
            .expect("write");
        }
        block.push_str("\n# the end\n");
        for (holders, after, n) in [
            (banks(40, "  "), "shocks: []\n", 40),
            (banks(40, ""), "", 40),
            (
                banks(40, "    ").replace('\n', "\r\n"),
                "lenders: []\r\n",
                40,
            ),
            // Block items, comments, blank lines and folded text; the list not last.
            (block, "lenders: []\n", 30),
        ] {
            let text = scenario(&holders, after);
            let plan = plan(&text, 64).expect("plan");
            assert!(plan.slices() > 3);
            let got = plan.parse(&text).unwrap_or_else(|| {
                panic!(
                    "slices parse: {:?}",
                    serde_yaml::from_str::<ScenarioSpec>(&text).err()
                )
            });
            assert_eq!(format!("{got:?}"), format!("{:?}", whole(&text)));
            assert_eq!(got.holders.len(), n);
        }
    }

    #[test]
    fn a_cut_inside_a_quoted_string_does_not_parse() {
        // A quoted string whose second line looks like an item at the items' indent:
        // the scan cuts there, and the slice before ends inside the string.
        for (open, close) in [("\"", "\""), ("'", "'")] {
            let mut holders = banks(20, "  ");
            write!(
                holders,
                "  - {{ id: q, kind: bank, source: {open}one\n  - two{close} }}\n"
            )
            .expect("write");
            holders.push_str(&banks(20, "  "));
            let text = scenario(&holders, "");
            let plan = plan(&text, 1).expect("plan");
            assert!(plan.parse(&text).is_none(), "{open}");
        }
        // A flow list across lines, the same.
        let mut holders = banks(5, "  ");
        holders.push_str("  - { id: q, kind: bank, holdings: [\n  - x ] }\n");
        holders.push_str(&banks(5, "  "));
        let text = scenario(&holders, "");
        assert!(plan(&text, 1).expect("plan").parse(&text).is_none());
    }

    #[test]
    fn only_plain_lines_count_as_items() {
        let plain = "  - { id: a, tags: [x, y] }\n  - id: b\n    source: >-\n      folded\n     - text\n    tags: ['it''s', \"q \\\" q\"]\n  # note\n\n  -\n    id: c\n";
        assert_eq!(plain_items(plain, 2), Some(3));
        // Apostrophes and quotes inside plain strings, and in comments, are letters.
        let prose = "  - id: O'Brien\n    source: the bank's \"book\" # it's [\n  - { id: b, tags: ['a, b', \"c]\"] }\n";
        assert_eq!(plain_items(prose, 2), Some(2));
        for odd in [
            "  - { id: a, source: \"one\n  - two\" }\n",
            "  - { id: a, source: 'one\n  - two' }\n",
            "  - { id: a, tags: [x,\n  - y] }\n",
            "  - id: a\n    source: one\n     two\n",
            "  - id: a\n    source: 'one\n      two'\n",
            "  - id: a # \"\n    source: [x\n",
        ] {
            assert_eq!(plain_items(odd, 2), None, "{odd}");
        }
    }

    #[test]
    fn lists_the_scan_leaves_whole() {
        let flow = "name: s\nholders: [{ id: a }, { id: b }]\n";
        assert_eq!(plan(flow, 1), None);
        let nested = "name: s\nx:\n  holders:\n    - a\n    - b\n";
        assert_eq!(plan(nested, 1), None);
        let tab = "holders:\n  - a\n\t- b\n";
        assert_eq!(plan(tab, 1), None);
        let twice = "holders:\n  - a\n  - b\nholders:\n  - c\n";
        assert_eq!(plan(twice, 1), None);
        let tagged = "holders:\n  - a\n  - !!str b\n";
        assert_eq!(plan(tagged, 1), None);
        // The item's node starts on the line after its dash: no cut there.
        let dash = "holders:\n  - a\n  -\n    b\n";
        assert!(plan(dash, 1).is_some_and(|p| p.slices() == 2));
        // One slice is no split.
        let small = scenario(&banks(5, "  "), "");
        assert_eq!(plan(&small, 1 << 20), None);
        assert!(plan(&small, 1).is_some());
        // A comment after the key is fine; a value after it is not a block list.
        assert!(plan("holders: # banks\n  - a\n  - b\n", 1).is_some());
        assert_eq!(plan("holders: x\n  - a\n  - b\n", 1), None);
        assert_eq!(plan("holders:#x\n  - a\n  - b\n", 1), None);
        assert_eq!(plan("holders:\n  a: 1\n", 1), None);
    }

    #[test]
    fn a_holders_line_inside_a_root_string_is_not_a_list() {
        // Read whole, `description` holds the lines and there are no holders; a split
        // would make holders of them.
        for (open, close) in [("\"", "\""), ("[", "]")] {
            let text = format!(
                "name: s\ndescription: {open}a\nholders:\n  - {{ id: a, kind: bank }}\n  - {{ id: b, kind: bank }}\nz{close}\nas_of: 2026-01-01\n"
            );
            assert_eq!(plan(&text, 1), None, "{open}");
        }
    }

    #[test]
    fn a_bad_slice_or_rest_is_not_a_split() {
        let mut holders = banks(20, "  ");
        holders.push_str("  - { id: z, kind: bank, cash: lots }\n");
        let text = scenario(&holders, "");
        assert!(plan(&text, 1).expect("plan").parse(&text).is_none());
        // Duplicate keys in an item, in a basket, and an alias with no anchor.
        for bad in [
            "  - { id: z, kind: bank, cash: 1, cash: 2 }\n",
            "  - { id: z, kind: bank, basket: { A: 1, A: 2 } }\n",
            "  - { id: z, kind: bank, cash: *one }\n",
        ] {
            let text = scenario(&(banks(5, "  ") + bad), "");
            assert!(
                plan(&text, 1).expect("plan").parse(&text).is_none(),
                "{bad}"
            );
        }
        let text = scenario(&banks(5, "  "), "name: again\n");
        assert!(plan(&text, 1).expect("plan").parse(&text).is_none());
    }

    /// Lines that could fool a scan of indentation: strings and brackets over lines,
    /// comments with quotes, continued plain strings, block scalars, keys at the root.
    const TRICKS: [&str; 18] = [
        "    source: \"one",
        "  - two\"",
        "    source: 'it''s",
        "  - two'",
        "    tags: [a,",
        "  - b]",
        "  - { id: x, kind: bank }",
        "    cash: 5",
        "# a \"comment",
        "    source: plain",
        "     continued",
        "  -",
        "",
        "    source: |",
        "      - block text",
        "holders:",
        "description: \"a",
        "    source: the bank's \"x\"",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Whatever lines are put wherever: when the slices read, the whole text reads
        /// too, the index accepts it, and the scenario is the same.
        #[test]
        fn a_split_that_reads_reads_as_the_whole(
            n in 2usize..12,
            edits in proptest::collection::vec((0usize..TRICKS.len(), 0usize..1000), 0..4),
        ) {
            let mut lines: Vec<String> = scenario(&banks(n, "  "), "shocks: []\n")
                .lines()
                .map(str::to_owned)
                .collect();
            for (trick, at) in edits {
                let at = 1 + at % lines.len();
                lines.insert(at, TRICKS[trick].to_owned());
            }
            let text = lines.join("\n") + "\n";
            if let Some(split) = plan(&text, 1).and_then(|p| p.parse(&text)) {
                proptest::prop_assert!(index::build(&text).is_ok(), "{}", text);
                let whole = serde_yaml::from_str::<ScenarioSpec>(&text);
                proptest::prop_assert!(whole.is_ok(), "{}", text);
                proptest::prop_assert_eq!(
                    format!("{split:?}"),
                    format!("{:?}", whole.expect("checked")),
                    "{}",
                    text
                );
            }
        }
    }
}
