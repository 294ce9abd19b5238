//! `merge`'s shard reader. The input is a mode byte, then up to four shard files
//! separated by 0xFF bytes. Every line of a shard file ends with a running check, which
//! random bytes almost never match; so in "seal" mode (odd mode byte) the target writes
//! each line's check itself, as delever does, and the fuzzer reaches what lies behind
//! it: the header, the rows, the end line and the merge of several files. In "raw" mode
//! the bytes are the files as they are.
#![no_main]

use std::fmt::Write as _;

use delever_batch::shard::{self, Merged, Shard};
use delever_report::batch::{McDraw, SweepRow};
use libfuzzer_sys::fuzz_target;

/// 64-bit FNV-1a, the shard format's line check (docs/batch: `check`).
fn fnv(state: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *state ^= u64::from(b);
        *state = state.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// `text` with every line's check written, as `delever --shard` writes it: each line
/// (without the check) is hashed followed by a newline; the hash goes before its `}`.
fn seal(text: &str, final_newline: bool) -> String {
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::with_capacity(text.len() + 64);
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        fnv(&mut state, line.as_bytes());
        fnv(&mut state, b"\n");
        out.push_str(line.strip_suffix('}').unwrap_or(line));
        let _ = writeln!(out, ",\"check\":\"{state:016x}\"}}");
    }
    if !final_newline {
        out.pop();
    }
    out
}

/// What a successful merge must be: the whole run, in index order.
fn check<R>(m: &Merged<R>, index: impl Fn(&R) -> u64) {
    assert_eq!((m.header.shard, m.header.shards), (0, 1));
    assert_eq!(m.rows.len() as u64, m.header.total, "rows against total");
    for (i, r) in m.rows.iter().enumerate() {
        assert_eq!(index(r), i as u64, "rows out of order");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let files: Vec<(String, String)> = rest
        .split(|&b| b == 0xFF)
        .take(4)
        .enumerate()
        .map(|(k, bytes)| {
            let text = String::from_utf8_lossy(bytes);
            let text = if mode & 1 == 1 {
                seal(&text, mode & 2 == 0)
            } else {
                text.into_owned()
            };
            (format!("shard-{k}.jsonl"), text)
        })
        .collect();
    if let Some((_, first)) = files.first() {
        let _ = shard::command(first);
        if let Some(Ok(s)) = first.lines().next().map(Shard::parse) {
            assert!(s.k < s.n);
        }
    }
    match shard::merge::<SweepRow>(&files, |r| r.index) {
        Ok(m) => check(&m, |r| r.index),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    match shard::merge::<McDraw>(&files, |r| r.index) {
        Ok(m) => check(&m, |r| r.index),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
