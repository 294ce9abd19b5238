//! `--shard K/N`: a deterministic slice of a sweep's variants or a study's draws, and the
//! shard file that `delever merge` combines.
//!
//! Shard `K` of `N` (numbered from 0, as Slurm's `SLURM_ARRAY_TASK_ID` with `--array=0-N-1`
//! and Kubernetes' `JOB_COMPLETION_INDEX`) takes the contiguous block of indices
//! `[K·T/N, (K+1)·T/N)` of the `T` in the full run. Blocks are contiguous so that
//! concatenating shard outputs in `K` order gives the rows in full-run order.
//!
//! A shard file is JSON lines: a [`ShardHeader`] line, then one row per variant or draw.
//! The header carries a fingerprint of everything the rows depend on (delever's version,
//! the scenario's text, the grid or the seed and draw count), so shards of different
//! studies are never merged by mistake.

use std::fmt::Write as _;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::BatchError;

/// The shard file format's version (the header's `delever_shard` key).
pub const FORMAT: u32 = 1;

/// Which slice of the work to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..n`.
    pub k: u64,
    /// Number of shards, at least 1.
    pub n: u64,
}

impl Shard {
    /// The whole run as one shard.
    pub const WHOLE: Shard = Shard { k: 0, n: 1 };

    /// Parse `K/N` (`0 ≤ K < N`).
    pub fn parse(s: &str) -> Result<Shard, BatchError> {
        let bad = |message: String| {
            BatchError::Usage {
            message: format!("--shard {s}: {message}"),
            hint: "shards are K/N with K numbered from 0: --shard 0/4, 1/4, 2/4, 3/4 (Slurm: $SLURM_ARRAY_TASK_ID/N with --array=0-(N-1); Kubernetes: $JOB_COMPLETION_INDEX/N)".into(),
        }
        };
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| bad("expected K/N".into()))?;
        let k: u64 = k
            .trim()
            .parse()
            .map_err(|_| bad(format!("K `{}` is not a whole number", k.trim())))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| bad(format!("N `{}` is not a whole number", n.trim())))?;
        if n == 0 {
            return Err(bad("N must be at least 1".into()));
        }
        if k >= n {
            return Err(bad(format!("K must be below N (0 to {})", n - 1)));
        }
        Ok(Shard { k, n })
    }

    /// This shard's indices out of `total`.
    pub fn range(self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.n)) as u64;
        at(self.k)..at(self.k + 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

/// The first line of a shard file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardHeader {
    /// Format version, [`FORMAT`].
    pub delever_shard: u32,
    /// `sweep` or `mc`.
    pub command: String,
    /// The delever version that wrote it.
    pub delever_version: String,
    /// Hash of everything the rows depend on ([`fingerprint`]).
    pub fingerprint: String,
    /// This shard.
    pub shard: u64,
    /// Number of shards.
    pub shards: u64,
    /// Variants or draws in the full run.
    pub total: u64,
    /// Scenario name.
    pub scenario: String,
    /// Scenario description (for `merge --html`).
    #[serde(default)]
    pub description: String,
    /// The date the scenario's figures refer to.
    #[serde(default)]
    pub as_of: String,
    /// Swept field paths (sweeps).
    #[serde(default)]
    pub parameters: Vec<String>,
    /// Holder kinds, the order of `loss_by_kind`.
    pub kinds: Vec<String>,
    /// The seed (Monte Carlo).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The shock distribution in words (Monte Carlo).
    #[serde(default)]
    pub distribution: Option<String>,
}

/// A 64-bit FNV-1a hash of `parts` (each length-prefixed, so `["ab","c"]` and
/// `["a","bc"]` differ), as 16 hex digits. Not cryptographic: it catches mistakes, not
/// forgeries.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for p in parts {
        eat(&(p.len() as u64).to_le_bytes());
        eat(p);
    }
    let mut s = String::with_capacity(16);
    let _ = write!(s, "{h:016x}");
    s
}

/// Render a shard file: the header line, then one JSON line per row.
pub fn write<R: Serialize>(header: &ShardHeader, rows: &[R]) -> Result<String, serde_json::Error> {
    let mut out = serde_json::to_string(header)?;
    out.push('\n');
    for r in rows {
        out.push_str(&serde_json::to_string(r)?);
        out.push('\n');
    }
    Ok(out)
}

/// Shards read back and checked: the common header (with `shard: 0, shards: 1`) and
/// every row in full-run order.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged<R> {
    /// The header the shards share.
    pub header: ShardHeader,
    /// All rows, in index order.
    pub rows: Vec<R>,
}

/// One shard file: its header and rows.
fn read<R: for<'de> Deserialize<'de>>(
    name: &str,
    text: &str,
) -> Result<(ShardHeader, Vec<R>), BatchError> {
    let err = |file: &str, message: String, hint: &str| BatchError::Merge {
        file: file.to_owned(),
        message,
        hint: hint.to_owned(),
    };
    let mut lines = text.lines().enumerate();
    let Some((_, first)) = lines.next() else {
        return Err(err(
            name,
            "the file is empty".into(),
            "give the files `--shard K/N -o FILE` wrote",
        ));
    };
    let header: ShardHeader = serde_json::from_str(first).map_err(|e| {
        err(
            name,
            format!("line 1 is not a delever shard header: {e}"),
            "merge reads the files written with --shard K/N; is this one of them?",
        )
    })?;
    if header.delever_shard != FORMAT {
        return Err(err(
            name,
            format!(
                "shard format {} (this delever reads format {FORMAT})",
                header.delever_shard
            ),
            "merge with the delever version that wrote the shards",
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        rows.push(serde_json::from_str(line).map_err(|e| {
            err(
                name,
                format!("line {}: not a {} row: {e}", i + 1, header.command),
                "the file may be truncated or edited; rerun this shard",
            )
        })?);
    }
    Ok((header, rows))
}

/// Parse and merge shard files given as `(name, text)`: they must share a command,
/// version, fingerprint, shard count and total, cover every shard exactly once, and
/// hold exactly their slice of indices. `index` reads a row's index.
pub fn merge<R: for<'de> Deserialize<'de>>(
    files: &[(String, String)],
    index: impl Fn(&R) -> u64,
) -> Result<Merged<R>, BatchError> {
    let err = |file: &str, message: String, hint: &str| BatchError::Merge {
        file: file.to_owned(),
        message,
        hint: hint.to_owned(),
    };
    let mut parsed: Vec<(&str, ShardHeader, Vec<R>)> = Vec::with_capacity(files.len());
    for (name, text) in files {
        let (header, rows) = read::<R>(name, text)?;
        parsed.push((name, header, rows));
    }
    let Some((first_name, first, _)) = parsed.first() else {
        return Err(BatchError::Usage {
            message: "merge needs at least one shard file".into(),
            hint: "e.g. delever merge shard-*.jsonl --format csv".into(),
        });
    };
    let (first_name, first) = (first_name.to_string(), first.clone());
    for (name, h, _) in &parsed {
        let same = |what: &str, a: &str, b: &str| -> Result<(), BatchError> {
            if a == b {
                Ok(())
            } else {
                Err(err(
                    name,
                    format!("its {what} is {a}, but {first_name}'s is {b}"),
                    "merge only the shards of one run (same scenario, grid or seed and draws, same delever)",
                ))
            }
        };
        same("command", &h.command, &first.command)?;
        same(
            "delever version",
            &h.delever_version,
            &first.delever_version,
        )?;
        same("fingerprint", &h.fingerprint, &first.fingerprint)?;
        same(
            "shard count",
            &h.shards.to_string(),
            &first.shards.to_string(),
        )?;
        same("total", &h.total.to_string(), &first.total.to_string())?;
    }
    parsed.sort_by_key(|(_, h, _)| h.shard);
    let n = first.shards;
    for (i, (name, h, _)) in parsed.iter().enumerate() {
        if i > 0 && parsed[i - 1].1.shard == h.shard {
            return Err(err(
                name,
                format!(
                    "shard {}/{n} is given twice (also {})",
                    h.shard,
                    parsed[i - 1].0
                ),
                "give each shard once",
            ));
        }
    }
    let have: Vec<u64> = parsed.iter().map(|(_, h, _)| h.shard).collect();
    let missing: Vec<String> = (0..n)
        .filter(|k| !have.contains(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(BatchError::Usage {
            message: format!("shard(s) {} missing", missing.join(", ")),
            hint: "rerun the missing shards, or give all of their files".into(),
        });
    }
    let mut rows = Vec::with_capacity(usize::try_from(first.total).unwrap_or(0));
    for (name, h, part) in parsed {
        let want = Shard { k: h.shard, n }.range(h.total);
        let got: Vec<u64> = part.iter().map(&index).collect();
        if got.len() as u64 != want.end - want.start
            || got.iter().zip(want.clone()).any(|(a, b)| *a != b)
        {
            return Err(err(
                name,
                format!(
                    "shard {}/{n} should hold rows {}..{} in order, it holds {} rows",
                    h.shard,
                    want.start,
                    want.end,
                    got.len()
                ),
                "the file may be truncated (a job killed while writing?); rerun this shard",
            ));
        }
        rows.extend(part);
    }
    let header = ShardHeader {
        shard: 0,
        shards: 1,
        ..first
    };
    Ok(Merged { header, rows })
}

#[cfg(test)]
// A test that unwraps fails with the line that broke, which is all a message would say.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_range() {
        for total in [0_u64, 1, 7, 10, 1001] {
            for n in 1..=12 {
                let mut next = 0;
                for k in 0..n {
                    let r = Shard { k, n }.range(total);
                    assert_eq!(r.start, next);
                    assert!(r.end - r.start <= total / n + 1);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn shard_specs() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { k: 2, n: 4 });
        for (s, needle) in [
            ("4/4", "below N"),
            ("1", "K/N"),
            ("a/2", "whole number"),
            ("0/0", "at least 1"),
        ] {
            let e = Shard::parse(s).unwrap_err();
            assert!(e.to_string().contains(needle), "{s}: {e}");
            assert!(e.hint().unwrap().contains("from 0"));
        }
    }

    #[test]
    fn fingerprints_separate_parts() {
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(fingerprint(&[b"x"]), fingerprint(&[b"x"]));
        // FNV-1a of the empty input is its offset basis.
        assert_eq!(fingerprint(&[]), "cbf29ce484222325");
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Row {
        index: u64,
        x: f64,
    }

    fn header(k: u64, n: u64, total: u64) -> ShardHeader {
        ShardHeader {
            delever_shard: FORMAT,
            command: "sweep".into(),
            delever_version: "0".into(),
            fingerprint: "f".into(),
            shard: k,
            shards: n,
            total,
            scenario: "s".into(),
            description: String::new(),
            as_of: String::new(),
            parameters: vec!["a".into()],
            kinds: vec![],
            seed: None,
            distribution: None,
        }
    }

    fn files(n: u64, total: u64) -> Vec<(String, String)> {
        (0..n)
            .map(|k| {
                let rows: Vec<Row> = Shard { k, n }
                    .range(total)
                    .map(|i| Row {
                        index: i,
                        x: i as f64 / 3.0,
                    })
                    .collect();
                (format!("s{k}"), write(&header(k, n, total), &rows).unwrap())
            })
            .collect()
    }

    #[test]
    fn merge_restores_order_from_any_file_order() {
        let mut f = files(4, 10);
        f.reverse();
        let m: Merged<Row> = merge(&f, |r: &Row| r.index).unwrap();
        assert_eq!(m.rows.len(), 10);
        assert!(m.rows.iter().enumerate().all(|(i, r)| r.index == i as u64));
        assert_eq!(m.rows[7].x, 7.0 / 3.0);
        assert_eq!((m.header.shard, m.header.shards), (0, 1));
    }

    #[test]
    fn merge_refuses_gaps_repeats_strangers_and_truncation() {
        let f = files(3, 10);
        let e = merge::<Row>(&f[..2], |r| r.index).unwrap_err();
        assert!(e.to_string().contains("2/3 missing"), "{e}");
        let e = merge::<Row>(&[f[0].clone(), f[0].clone(), f[1].clone()], |r| r.index).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let mut g = f.clone();
        g[1].1 = g[1]
            .1
            .replace("\"fingerprint\":\"f\"", "\"fingerprint\":\"g\"");
        let e = merge::<Row>(&g, |r| r.index).unwrap_err();
        assert!(e.to_string().contains("fingerprint"), "{e}");
        let mut t = f.clone();
        let cut = t[2].1.trim_end().rfind('\n').unwrap();
        t[2].1.truncate(cut + 1);
        let e = merge::<Row>(&t, |r| r.index).unwrap_err();
        assert!(
            e.to_string().contains("truncated") || e.hint().unwrap().contains("truncated"),
            "{e}"
        );
        let e = merge::<Row>(&[("x".into(), "hello\n".into())], |r| r.index).unwrap_err();
        assert!(e.to_string().contains("shard header"), "{e}");
    }
}
