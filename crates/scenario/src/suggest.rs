//! "Did you mean …?" for mistyped keys and ids.

use std::fmt::Write as _;

use crate::error::clip;

/// Longest word (or candidate) compared, in bytes: a typo is short, and the edit distance
/// of two texts costs time and memory proportional to the product of their lengths.
const MAX_WORD: usize = 256;

/// The candidate closest to `word`, if one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    if word.len() > MAX_WORD {
        return None;
    }
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        if c == word || c.len() > MAX_WORD {
            continue;
        }
        let d = if c.to_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &c.to_lowercase())
        };
        let longest = word.chars().count().max(c.chars().count());
        let limit = if word.chars().count() <= 2 {
            0
        } else {
            (longest / 3).max(1)
        };
        // A word that is a prefix of the candidate (or the other way round) is a likely
        // abbreviation: `maint` for `maintenance`.
        let c_lower = c.to_lowercase();
        let prefix = lower.len() >= 3
            && c_lower.len() >= 3
            && (lower.starts_with(&c_lower) || c_lower.starts_with(&lower));
        let d = if prefix { d.min(limit) } else { d };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `` `a`, `b`, `c` `` — at most `max` names, then "and N more".
pub(crate) fn list<'a, I>(names: I, max: usize) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let names: Vec<&str> = names.into_iter().collect();
    let mut out = names
        .iter()
        .take(max)
        .map(|n| format!("`{}`", clip(n)))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > max {
        let _ = write!(out, " and {} more", names.len() - max);
    }
    out
}

/// A hint for an unknown `word` among `candidates` (`what` in the plural, e.g. "assets").
pub(crate) fn hint_for<'a, I>(word: &str, candidates: I, what: &str) -> String
where
    I: IntoIterator<Item = &'a str> + Clone,
{
    if let Some(c) = did_you_mean(word, candidates.clone()) {
        format!("did you mean `{}`?", clip(c))
    } else {
        let all = list(candidates, 12);
        if all.is_empty() {
            format!("no {what} are defined")
        } else {
            format!("known {what}: {all}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_found() {
        let keys = ["lender", "loan", "maintenance", "reset"];
        assert_eq!(did_you_mean("maintenence", keys), Some("maintenance"));
        assert_eq!(did_you_mean("lendr", keys), Some("lender"));
        assert_eq!(did_you_mean("nvda", ["NVDA", "AMD"]), Some("NVDA"));
        assert_eq!(did_you_mean("NVDX", ["NVDA", "AMD"]), Some("NVDA"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
    }

    #[test]
    fn hints_list_known_names() {
        assert_eq!(
            hint_for("abd", ["abc", "b"], "assets"),
            "did you mean `abc`?"
        );
        assert_eq!(
            hint_for("x", ["a", "b"], "assets"),
            "known assets: `a`, `b`"
        );
        assert_eq!(
            did_you_mean("maint", ["maintenance", "max"]),
            Some("maintenance")
        );
        assert_eq!(
            hint_for("qqqq", ["abc", "def"], "assets"),
            "known assets: `abc`, `def`"
        );
        assert_eq!(hint_for("qqqq", [], "lenders"), "no lenders are defined");
        assert_eq!(list(["a", "b", "c"], 2), "`a`, `b` and 1 more");
    }

    #[test]
    fn long_words_are_not_compared() {
        // Damerau–Levenshtein on two 10 MB texts would need 10^14 steps.
        let long = "NVDA".repeat(2_500_000);
        let t = std::time::Instant::now();
        assert_eq!(did_you_mean(&long, ["NVDA", long.as_str()]), None);
        assert_eq!(did_you_mean("NVDX", ["NVDA", long.as_str()]), Some("NVDA"));
        assert!(list([long.as_str()], 3).len() < 100);
        assert!(t.elapsed().as_secs() < 2, "{:?}", t.elapsed());
    }
}
