//! `--shard K/N`: a deterministic slice of a sweep's variants or a study's draws, and the
//! shard file that `delever merge` combines.
//!
//! Shard `K` of `N` (numbered from 0, as Slurm's `SLURM_ARRAY_TASK_ID` with `--array=0-N-1`
//! and Kubernetes' `JOB_COMPLETION_INDEX`) takes the contiguous block of indices
//! `[K·T/N, (K+1)·T/N)` of the `T` in the full run. Blocks are contiguous so that
//! concatenating shard outputs in `K` order gives the rows in full-run order.
//!
//! A shard file is JSON lines: a [`ShardHeader`] line, one row per variant or draw, then
//! an end line `{"end":true,"rows":N,…}`. The header carries a fingerprint of everything
//! the rows depend on (delever's version, the scenario's text, the grid or the seed and
//! draw count), so shards of different studies are never merged by mistake.
//!
//! Every line ends with a `"check"` key: a running 64-bit FNV-1a hash of the file up to
//! and including that line (each line hashed without its own `check` key, followed by a
//! newline). An edited row, a row added or removed, a line cut short or lost at the end
//! (the end line is missing), fails the check at the first line it touches, and `merge`
//! names that line. FNV is not cryptographic: the check catches accidents (edits,
//! truncation, files mixed up), not a forger who recomputes it. Rows are also read back
//! strictly: a key delever does not write is refused even when the check holds.

use std::fmt::Write as _;
use std::ops::Range;

use delever_report::SourceNote;
use serde::{Deserialize, Serialize};

use crate::BatchError;

/// The shard file format's version (the header's `delever_shard` key). Format 1 (delever
/// before the per-line checks) is refused: rerun its shards.
pub const FORMAT: u32 = 2;

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

/// The first line of a shard file. Unknown keys are refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// The scenario's assumptions (for `merge --html`).
    #[serde(default)]
    pub assumptions: Vec<String>,
    /// The scenario's sources (for `merge --html`).
    #[serde(default)]
    pub sources: Vec<SourceNote>,
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
    /// The drawn assets, the order of a draw's `asset_returns` (Monte Carlo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
    /// The lenders, the order of a draw's `loss_by_lender` (Monte Carlo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lenders: Vec<String>,
}

/// The last line of a shard file: it says the file is whole.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    /// Always `true`.
    end: bool,
    /// Rows in the file.
    rows: u64,
}

/// The running 64-bit FNV-1a state.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    const START: Fnv = Fnv(0xcbf2_9ce4_8422_2325);

    fn eat(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn hex(self) -> String {
        let mut s = String::with_capacity(16);
        let _ = write!(s, "{:016x}", self.0);
        s
    }
}

/// A 64-bit FNV-1a hash of `parts` (each length-prefixed, so `["ab","c"]` and
/// `["a","bc"]` differ), as 16 hex digits. Not cryptographic: it catches mistakes, not
/// forgeries.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h = Fnv::START;
    for p in parts {
        h.eat(&(p.len() as u64).to_le_bytes());
        h.eat(p);
    }
    h.hex()
}

/// The key every line ends with, before its 16 hex digits and `"}`.
const CHECK: &str = ",\"check\":\"";
/// `,"check":"` + 16 hex digits + `"}`.
const CHECK_LEN: usize = CHECK.len() + 16 + 2;

/// Append `object` (compact JSON of a non-empty object) to `out` as one line, its `check`
/// key added: the running hash after `object` and a newline.
fn seal(out: &mut String, fnv: &mut Fnv, object: &str) {
    fnv.eat(object.as_bytes());
    fnv.eat(b"\n");
    out.push_str(object.strip_suffix('}').unwrap_or(object));
    out.push_str(CHECK);
    out.push_str(&fnv.hex());
    out.push_str("\"}\n");
}

/// A line without its `check` key (as it was hashed), and the check it carries.
fn unseal(line: &str) -> Option<(String, &str)> {
    let cut = line.len().checked_sub(CHECK_LEN)?;
    let (object, tail) = (line.get(..cut)?, line.get(cut..)?);
    let hex = tail.strip_prefix(CHECK)?.strip_suffix("\"}")?;
    let hex_ok = hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex_ok.then(|| (format!("{object}}}"), hex))
}

/// Render a shard file: the header line, one JSON line per row, then the end line, each
/// with its check.
pub fn write<R: Serialize>(header: &ShardHeader, rows: &[R]) -> Result<String, serde_json::Error> {
    let mut fnv = Fnv::START;
    let mut out = String::new();
    seal(&mut out, &mut fnv, &serde_json::to_string(header)?);
    for r in rows {
        seal(&mut out, &mut fnv, &serde_json::to_string(r)?);
    }
    let end = End {
        end: true,
        rows: rows.len() as u64,
    };
    seal(&mut out, &mut fnv, &serde_json::to_string(&end)?);
    Ok(out)
}

/// The `command` a shard file's header names (`sweep` or `mc`), read leniently so that
/// [`merge`] can report what is wrong with a file of any format.
pub fn command(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    let v: serde_json::Value = serde_json::from_str(first).ok()?;
    v.get("command")?.as_str().map(str::to_owned)
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

fn merge_err(file: &str, message: String, hint: &str) -> BatchError {
    BatchError::Merge {
        file: file.to_owned(),
        message,
        hint: hint.to_owned(),
    }
}

/// Refuse a first line that is not a header of this format, before its check is read:
/// a format-1 file has no checks, and deserves a better message than "no check".
fn check_format(name: &str, first: &str) -> Result<(), BatchError> {
    let not_header = |why: String| {
        merge_err(
            name,
            format!("line 1 is not a delever shard header: {why}"),
            "merge reads the files written with --shard K/N; is this one of them?",
        )
    };
    let v: serde_json::Value =
        serde_json::from_str(first).map_err(|e| not_header(e.to_string()))?;
    let Some(format) = v.get("delever_shard").and_then(serde_json::Value::as_u64) else {
        return Err(not_header("no `delever_shard` format number".into()));
    };
    if format == u64::from(FORMAT) {
        return Ok(());
    }
    let (who, hint) = if format < u64::from(FORMAT) {
        (
            "an older delever",
            "rerun the shards with this delever (its shard files carry checks that merge verifies)",
        )
    } else {
        (
            "a newer delever",
            "merge with the delever version that wrote the shards",
        )
    };
    Err(merge_err(
        name,
        format!("shard format {format}, written by {who}: this delever reads format {FORMAT} only"),
        hint,
    ))
}

/// The keys of `written` (an object) that `canonical` (the same row as delever writes it)
/// lacks, with their paths.
fn unknown_keys(
    written: &serde_json::Value,
    canonical: &serde_json::Value,
    at: &str,
) -> Vec<String> {
    use serde_json::Value;
    match (written, canonical) {
        (Value::Object(w), Value::Object(c)) => w
            .iter()
            .flat_map(|(k, v)| {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                match c.get(k) {
                    Some(cv) => unknown_keys(v, cv, &path),
                    None => vec![path],
                }
            })
            .collect(),
        (Value::Array(w), Value::Array(c)) => w
            .iter()
            .zip(c)
            .enumerate()
            .flat_map(|(i, (v, cv))| unknown_keys(v, cv, &format!("{at}[{i}]")))
            .collect(),
        _ => Vec::new(),
    }
}

/// One row, strictly: it must read back as an `R` and write back to the same text, so a
/// key delever does not write is refused (the row types flatten their figures, which
/// serde's `deny_unknown_fields` cannot check).
fn row<R: Serialize + for<'de> Deserialize<'de>>(
    name: &str,
    line: usize,
    command: &str,
    object: &str,
) -> Result<R, BatchError> {
    let hint = "the file was edited; rerun this shard";
    let r: R = serde_json::from_str(object)
        .map_err(|e| merge_err(name, format!("line {line}: not a {command} row: {e}"), hint))?;
    let canonical = serde_json::to_string(&r)
        .map_err(|e| merge_err(name, format!("line {line}: not a {command} row: {e}"), hint))?;
    if canonical == object {
        return Ok(r);
    }
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap_or_default();
    let unknown = unknown_keys(&parse(object), &parse(&canonical), "");
    let message = if unknown.is_empty() {
        format!("line {line}: the {command} row is not as delever writes it")
    } else {
        format!(
            "line {line}: unknown key(s) in a {command} row: {}",
            unknown
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(merge_err(name, message, hint))
}

/// Refuse a header whose `shard`/`shards` is not a slice, before any use: `shards`
/// divides and `shard + 1` is computed, and a header with valid checks can still say
/// anything (found by fuzzing).
fn check_slice(name: &str, h: &ShardHeader) -> Result<(), BatchError> {
    if h.shards == 0 || h.shard >= h.shards {
        return Err(merge_err(
            name,
            format!(
                "line 1: the header says shard {}/{}, but a shard K/N has 0 ≤ K < N",
                h.shard, h.shards
            ),
            "the file was edited; rerun this shard",
        ));
    }
    Ok(())
}

/// One shard file: its header and rows, every line's check verified.
fn read<R: Serialize + for<'de> Deserialize<'de>>(
    name: &str,
    text: &str,
) -> Result<(ShardHeader, Vec<R>), BatchError> {
    let rerun = "rerun this shard";
    let truncated =
        "the file was truncated (a job killed while writing? a full disk?); rerun this shard";
    let Some(first) = text.lines().next() else {
        return Err(merge_err(
            name,
            "the file is empty".into(),
            "give the files `--shard K/N -o FILE` wrote",
        ));
    };
    check_format(name, first)?;
    let Some(body) = text.strip_suffix('\n') else {
        let n = text.split('\n').count();
        return Err(merge_err(
            name,
            format!("the file ends in the middle of line {n}"),
            truncated,
        ));
    };
    let lines: Vec<&str> = body.split('\n').collect();
    let last = lines.len();
    let mut fnv = Fnv::START;
    let mut header: Option<ShardHeader> = None;
    let mut rows = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let Some((object, check)) = unseal(raw) else {
            let why = if raw.ends_with('\r') {
                "it ends in a carriage return (were the line endings converted?)"
            } else if raw.trim().is_empty() {
                "it is empty"
            } else {
                "it has no `check` at its end"
            };
            return Err(merge_err(
                name,
                format!("line {n} is not as delever writes it: {why}"),
                "the file was edited; rerun this shard",
            ));
        };
        fnv.eat(object.as_bytes());
        fnv.eat(b"\n");
        if fnv.hex() != check {
            return Err(merge_err(
                name,
                format!(
                    "line {n}: the check does not match: this line was edited, or a line before it was added or removed"
                ),
                "the file was edited or damaged; rerun this shard",
            ));
        }
        if n == 1 {
            let h: ShardHeader = serde_json::from_str(&object).map_err(|e| {
                merge_err(
                    name,
                    format!("line 1 is not a delever shard header: {e}"),
                    "merge reads the files written with --shard K/N; is this one of them?",
                )
            })?;
            check_slice(name, &h)?;
            header = Some(h);
        } else if n == last {
            let end: End = serde_json::from_str(&object)
                .ok()
                .filter(|e: &End| e.end)
                .ok_or_else(|| {
                    merge_err(
                        name,
                        format!("the file ends at line {n} without its end line"),
                        truncated,
                    )
                })?;
            if end.rows != rows.len() as u64 {
                return Err(merge_err(
                    name,
                    format!(
                        "line {n}: the end line counts {} rows, the file holds {}",
                        end.rows,
                        rows.len()
                    ),
                    rerun,
                ));
            }
        } else {
            let command = header.as_ref().map_or("", |h| h.command.as_str());
            rows.push(row(name, n, command, &object)?);
        }
    }
    match header {
        Some(h) if last > 1 => Ok((h, rows)),
        _ => Err(merge_err(
            name,
            "the file ends at line 1 without its end line".into(),
            truncated,
        )),
    }
}

/// Parse and merge shard files given as `(name, text)`: each file's checks must hold,
/// and they must share a command, version, fingerprint, shard count and total, cover
/// every shard exactly once, and hold exactly their slice of indices. `index` reads a
/// row's index.
pub fn merge<R: Serialize + for<'de> Deserialize<'de>>(
    files: &[(String, String)],
    index: impl Fn(&R) -> u64,
) -> Result<Merged<R>, BatchError> {
    let err = merge_err;
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
    // Every shard is below `n` (read checks it) and given once, so this many are missing;
    // the first ten are named, looking at no more than `have.len() + 10` numbers however
    // large `n` is.
    let count = n - have.len() as u64;
    let missing: Vec<String> = (0..n)
        .filter(|k| !have.contains(k))
        .take(10)
        .map(|k| format!("{k}/{n}"))
        .collect();
    if count > 0 {
        let more = if count > 10 {
            format!(" and {} more", count - 10)
        } else {
            String::new()
        };
        return Err(BatchError::Usage {
            message: format!("shard(s) {}{more} missing", missing.join(", ")),
            hint: "rerun the missing shards, or give all of their files".into(),
        });
    }
    // Sized by the rows read, not by the header's `total`, which can say anything.
    let mut rows = Vec::with_capacity(parsed.iter().map(|(_, _, part)| part.len()).sum());
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
            assumptions: vec!["a".into()],
            sources: vec![],
            parameters: vec!["a".into()],
            kinds: vec![],
            seed: None,
            distribution: None,
            assets: vec![],
            lenders: vec![],
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
        let mut stranger = header(1, 3, 10);
        stranger.fingerprint = "g".into();
        let rows: Vec<Row> = Shard { k: 1, n: 3 }
            .range(10)
            .map(|i| Row { index: i, x: 0.0 })
            .collect();
        g[1].1 = write(&stranger, &rows).unwrap();
        let e = merge::<Row>(&g, |r| r.index).unwrap_err();
        assert!(e.to_string().contains("fingerprint"), "{e}");
        // Whole lines lost at the end (the end line among them), or a line cut short.
        for keep in [1, 2] {
            let mut t = f.clone();
            let lines: Vec<&str> = t[2].1.lines().collect();
            t[2].1 = lines[..lines.len() - keep].join("\n") + "\n";
            let e = merge::<Row>(&t, |r| r.index).unwrap_err();
            assert!(e.to_string().contains("without its end line"), "{e}");
            assert!(e.hint().unwrap().contains("truncated"), "{e}");
        }
        let mut t = f.clone();
        let cut = t[2].1.len() - 5;
        t[2].1.truncate(cut);
        let e = merge::<Row>(&t, |r| r.index).unwrap_err();
        assert!(
            e.to_string().contains("ends in the middle of line 6"),
            "{e}"
        );
        let e = merge::<Row>(&[("x".into(), "hello\n".into())], |r| r.index).unwrap_err();
        assert!(e.to_string().contains("shard header"), "{e}");
    }

    /// `f`'s file `k` with line `n` (1-based) replaced by what `edit` makes of it.
    fn edit_line(
        f: &[(String, String)],
        k: usize,
        n: usize,
        edit: impl Fn(&str) -> String,
    ) -> Vec<(String, String)> {
        let mut g = f.to_vec();
        let lines: Vec<String> = g[k]
            .1
            .lines()
            .enumerate()
            .map(|(i, l)| if i + 1 == n { edit(l) } else { l.to_owned() })
            .collect();
        g[k].1 = lines.join("\n") + "\n";
        g
    }

    fn merge_error(f: &[(String, String)]) -> String {
        merge::<Row>(f, |r| r.index).unwrap_err().to_string()
    }

    #[test]
    fn every_line_carries_a_running_check() {
        let f = files(2, 4);
        let lines: Vec<&str> = f[0].1.lines().collect();
        assert_eq!(lines.len(), 4, "header, two rows, end");
        assert!(lines.iter().all(|l| unseal(l).is_some()), "{lines:?}");
        assert!(lines[3].starts_with("{\"end\":true,\"rows\":2,\"check\":\""));
        // The same rows give the same file, and the check depends on what came before.
        assert_eq!(files(2, 4)[0].1, f[0].1);
        let check = |l: &str| unseal(l).unwrap().1.to_owned();
        assert_ne!(check(lines[3]), check(f[1].1.lines().nth(3).unwrap()));
    }

    #[test]
    fn merge_names_the_line_of_an_edit_an_addition_or_a_removal() {
        let f = files(2, 6);
        // A figure changed: the check of that line fails.
        let g = edit_line(&f, 1, 3, |l| l.replacen("\"x\":", "\"x\":9", 1));
        assert_ne!(g, f);
        let e = merge_error(&g);
        assert!(e.starts_with("s1: line 3: the check does not match"), "{e}");
        // A row removed: the next line no longer follows.
        let g = edit_line(&f, 0, 2, |_| String::new());
        let mut h = g.clone();
        h[0].1 = h[0].1.replacen("\n\n", "\n", 1);
        assert!(merge_error(&h).starts_with("s0: line 2: the check does not match"));
        assert!(merge_error(&g).starts_with("s0: line 2 is not as delever writes it: it is empty"));
        // A row added (a copy of line 2 after it).
        let g = edit_line(&f, 0, 2, |l| format!("{l}\n{l}"));
        assert!(merge_error(&g).starts_with("s0: line 3: the check does not match"));
        // The header edited.
        let g = edit_line(&f, 0, 1, |l| {
            l.replacen("\"scenario\":\"s\"", "\"scenario\":\"t\"", 1)
        });
        assert!(merge_error(&g).starts_with("s0: line 1: the check does not match"));
        // Line endings converted.
        let mut g = f.clone();
        g[0].1 = g[0].1.replace('\n', "\r\n");
        let e = merge_error(&g);
        assert!(e.contains("line 1") && e.contains("carriage return"), "{e}");
    }

    #[test]
    fn merge_refuses_unknown_keys_even_with_a_valid_check() {
        #[derive(Serialize)]
        struct Extra {
            index: u64,
            x: f64,
            injected: f64,
        }
        let mut f = files(2, 4);
        let rows: Vec<Extra> = (2..4)
            .map(|i| Extra {
                index: i,
                x: 0.0,
                injected: 1e12,
            })
            .collect();
        f[1].1 = write(&header(1, 2, 4), &rows).unwrap();
        let e = merge_error(&f);
        assert!(
            e.starts_with("s1: line 2: unknown key(s) in a sweep row: `injected`"),
            "{e}"
        );
        // In the header: sealed by hand, so only the strict reading can refuse it.
        let mut text = String::new();
        let mut fnv = Fnv::START;
        let h = serde_json::to_string(&header(0, 1, 0)).unwrap();
        seal(&mut text, &mut fnv, &h.replacen('{', "{\"extra\":1,", 1));
        seal(&mut text, &mut fnv, "{\"end\":true,\"rows\":0}");
        let e = merge_error(&[("h".into(), text)]);
        assert!(
            e.contains("line 1") && e.contains("unknown field `extra`"),
            "{e}"
        );
        // A row written in a way delever never writes it (the same number, spelt longer).
        let mut text = String::new();
        let mut fnv = Fnv::START;
        seal(
            &mut text,
            &mut fnv,
            &serde_json::to_string(&header(0, 1, 1)).unwrap(),
        );
        seal(&mut text, &mut fnv, "{\"index\":0,\"x\":1.50}");
        seal(&mut text, &mut fnv, "{\"end\":true,\"rows\":1}");
        let e = merge_error(&[("r".into(), text)]);
        assert!(
            e.contains("line 2: the sweep row is not as delever writes it"),
            "{e}"
        );
    }

    #[test]
    fn merge_refuses_format_1_with_a_clear_message() {
        let old = "{\"delever_shard\":1,\"command\":\"mc\",\"delever_version\":\"0.1.0\",\"fingerprint\":\"f\",\"shard\":0,\"shards\":1,\"total\":0,\"scenario\":\"s\",\"kinds\":[]}\n";
        let e = merge::<Row>(&[("old.jsonl".into(), old.into())], |r| r.index).unwrap_err();
        assert!(
            e.to_string()
                .contains("old.jsonl: shard format 1, written by an older delever: this delever reads format 2 only"),
            "{e}"
        );
        assert!(e.hint().unwrap().contains("rerun the shards"));
        let newer = old.replace("\"delever_shard\":1", "\"delever_shard\":3");
        let e = merge::<Row>(&[("new".into(), newer)], |r| r.index).unwrap_err();
        assert!(e.to_string().contains("a newer delever"), "{e}");
    }
}
