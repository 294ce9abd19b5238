//! The accounts' ids once read and checked, front-coded for the holdings' grouping check.
//!
//! The grouping check walks the accounts in order, one step an account, from the first
//! holdings row to the last: at 10M accounts the ids are held through the whole holdings
//! read, at the load's peak. Account ids usually share most of their bytes with the id
//! before them (`a1234567`, `a1234568`; `ACC-000123456`), so each is kept as the number of
//! leading bytes it shares with the one before and the bytes that differ. Every
//! [`RESTART`]-th id is written whole, so any id can be decoded from at most
//! `RESTART − 1` before it; a [`Cursor`] walking in order decodes each id once. The
//! generator's ten million ids (`a1` to `a10000000`) take about 40 MB this way against about
//! 120 MB as [`Ids`] (bytes and 4-byte ends); ids that share nothing cost two bytes of
//! lengths each, less than an end offset.

use rayon::prelude::*;

use super::Ids;

/// Every `RESTART`-th id is written whole.
const RESTART: usize = 16;
/// Ids a block holds: blocks are packed on every core and decoded independently.
const BLOCK: usize = 1 << 16;

/// One block of [`BLOCK`] ids (the last may hold fewer).
#[derive(Debug, Default, Clone, PartialEq)]
struct Block {
    /// Per id: the bytes shared with the id before (LEB128; 0 at a restart), the number of
    /// bytes after them (LEB128), and those bytes.
    data: Vec<u8>,
    /// Where every `RESTART`-th id of the block starts in `data`.
    restarts: Vec<usize>,
}

/// Account ids in file order, front-coded (see the module's documentation).
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Packed {
    blocks: Vec<Block>,
    len: usize,
}

/// `x` as LEB128 at the start of `out` (room for 10 bytes); returns the bytes written.
fn put(out: &mut [u8], mut x: usize) -> usize {
    let mut n = 0;
    for slot in out.iter_mut() {
        n += 1;
        if x < 0x80 {
            *slot = x as u8;
            break;
        }
        *slot = (x & 0x7f) as u8 | 0x80;
        x >>= 7;
    }
    n
}

/// The LEB128 number at `*at`, moving past it. The data is this module's own: a byte
/// past the end reads as 0 rather than panicking.
#[inline]
fn take(data: &[u8], at: &mut usize) -> usize {
    let b = data.get(*at).copied().unwrap_or(0);
    *at += 1;
    if b < 0x80 {
        // Lengths under 128: every one in practice.
        return usize::from(b);
    }
    let mut x = usize::from(b & 0x7f);
    let mut shift = 7u32;
    loop {
        let b = data.get(*at).copied().unwrap_or(0);
        *at += 1;
        x |= usize::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
        if b < 0x80 {
            return x;
        }
        shift += 7;
    }
}

/// How many leading bytes `a` and `b` share.
fn shared(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    // Eight bytes at a time while they agree: ids often share most of their bytes.
    while i + 8 <= n {
        let (x, y) = (&a[i..i + 8], &b[i..i + 8]);
        if x != y {
            break;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

impl Block {
    fn pack(ids: &Ids, from: usize, to: usize) -> Block {
        let bytes = ids.start(to) - ids.start(from);
        // Room for the common case (a short suffix), grown if the ids share little.
        let mut b = Block {
            data: Vec::with_capacity((bytes / 3).max(16)),
            restarts: Vec::with_capacity((to - from).div_ceil(RESTART)),
        };
        let mut prev: &[u8] = &[];
        let mut head = [0u8; 20];
        let mut start = ids.start(from);
        for k in 0..to - from {
            let end = ids.end(from + k);
            let id = ids.buf.get(start..end).unwrap_or(&[]);
            start = end;
            let same = if k.is_multiple_of(RESTART) {
                b.restarts.push(b.data.len());
                0
            } else {
                shared(prev, id)
            };
            let n = put(&mut head, same);
            let n = n + put(&mut head[n..], id.len() - same);
            b.data.extend_from_slice(&head[..n]);
            b.data.extend_from_slice(&id[same..]);
            prev = id;
        }
        b.data.shrink_to_fit();
        b
    }

    /// Decode the id at `*at` over `id` (which holds the id before it, or anything at a
    /// restart), moving `*at` past it.
    fn next(&self, at: &mut usize, id: &mut Vec<u8>) {
        let same = take(&self.data, at);
        let n = take(&self.data, at);
        id.truncate(same);
        let end = (*at + n).min(self.data.len());
        id.extend_from_slice(self.data.get(*at..end).unwrap_or(&[]));
        *at = end;
    }
}

impl Packed {
    /// The ids of `ids`, packed on every core.
    pub(super) fn pack(ids: &Ids) -> Packed {
        let len = ids.len();
        let blocks = (0..len.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| Block::pack(ids, b * BLOCK, ((b + 1) * BLOCK).min(len)))
            .collect();
        Packed { blocks, len }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// A cursor at id `k` (at the first id when `k` is past the last; an empty id when
    /// there are none).
    pub(super) fn cursor(&self, k: usize) -> Cursor {
        let mut c = Cursor {
            k: 0,
            at: 0,
            id: Vec::new(),
        };
        c.seek(self, k);
        c
    }

    /// Id `k`, copied (empty past the last).
    #[cfg(test)]
    pub(super) fn get(&self, k: usize) -> Vec<u8> {
        if k >= self.len {
            return Vec::new();
        }
        self.cursor(k).id
    }

    /// Whether one of the first `m` ids is `id`.
    pub(super) fn any_before(&self, m: usize, id: &[u8]) -> bool {
        let m = m.min(self.len);
        if m == 0 {
            return false;
        }
        let mut c = self.cursor(0);
        loop {
            if c.id == id {
                return true;
            }
            if c.k + 1 >= m || !c.advance(self) {
                return false;
            }
        }
    }
}

/// A place in [`Packed`] ids with its id decoded: moving to the next id decodes only the
/// bytes it does not share with this one.
#[derive(Debug, Clone)]
pub(super) struct Cursor {
    /// The id's index.
    k: usize,
    /// Where the next id starts in the block of id `k + 1`.
    at: usize,
    id: Vec<u8>,
}

impl Cursor {
    pub(super) fn index(&self) -> usize {
        self.k
    }
    pub(super) fn id(&self) -> &[u8] {
        &self.id
    }

    /// Move to the next id; false (and unmoved) at the last.
    pub(super) fn advance(&mut self, ids: &Packed) -> bool {
        let next = self.k + 1;
        if next >= ids.len {
            return false;
        }
        if next.is_multiple_of(BLOCK) {
            self.at = 0;
        }
        if let Some(b) = ids.blocks.get(next / BLOCK) {
            b.next(&mut self.at, &mut self.id);
        }
        self.k = next;
        true
    }

    /// Move to id `k` (the first when `k` is past the last), decoding from its restart.
    pub(super) fn seek(&mut self, ids: &Packed, k: usize) {
        self.id.clear();
        self.at = 0;
        self.k = 0;
        if k >= ids.len {
            if ids.len > 0 {
                self.seek(ids, 0);
            }
            return;
        }
        let Some(b) = ids.blocks.get(k / BLOCK) else {
            return;
        };
        let r = (k % BLOCK) / RESTART;
        self.at = b.restarts.get(r).copied().unwrap_or(0);
        for _ in 0..=(k % RESTART) {
            b.next(&mut self.at, &mut self.id);
        }
        self.k = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&[u8]]) -> Ids {
        let mut ids = Ids::default();
        for id in v {
            ids.buf.extend_from_slice(id);
            ids.close();
        }
        ids
    }

    /// Every id read back, by cursor and by index, across restarts and blocks.
    fn round_trip(v: &[Vec<u8>]) {
        let refs: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
        let p = Packed::pack(&ids(&refs));
        assert_eq!(p.len(), v.len());
        if v.is_empty() {
            assert!(p.get(0).is_empty());
            assert!(!p.any_before(1, b""));
            return;
        }
        let mut c = p.cursor(0);
        for (k, want) in v.iter().enumerate() {
            assert_eq!(c.index(), k);
            assert_eq!(c.id(), want.as_slice(), "id {k} by cursor");
            assert_eq!(c.advance(&p), k + 1 < v.len());
        }
        for k in (0..v.len()).step_by(7).chain([v.len() - 1]) {
            assert_eq!(p.get(k), v[k], "id {k} by index");
            assert_eq!(p.cursor(k).id(), v[k].as_slice());
        }
        assert!(p.get(v.len()).is_empty());
        assert_eq!(p.cursor(v.len() + 3).index(), 0);
    }

    #[test]
    fn ids_read_back_as_written() {
        round_trip(&[]);
        round_trip(&[b"".to_vec()]);
        // Sequential ids (long shared prefixes), past one block.
        let seq: Vec<Vec<u8>> = (0..BLOCK as u64 * 2 + 37)
            .map(|i| format!("a{i}").into_bytes())
            .collect();
        round_trip(&seq);
        // Ids sharing nothing, empty ids, a prefix of the one before, one of 200 bytes
        // (lengths past one LEB128 byte), non-UTF-8 bytes.
        let mixed: Vec<Vec<u8>> = (0..100u32)
            .map(|i| match i % 6 {
                0 => Vec::new(),
                1 => format!("{:x}", i.wrapping_mul(2_654_435_761)).into_bytes(),
                2 => b"abcdef".to_vec(),
                3 => b"abc".to_vec(),
                4 => vec![b'z'; 200 + i as usize],
                _ => vec![0xff, 0x00, i as u8],
            })
            .collect();
        round_trip(&mixed);
    }

    #[test]
    fn earlier_ids_are_found_and_later_ones_are_not() {
        let v: Vec<Vec<u8>> = (0..40).map(|i| format!("id-{i}").into_bytes()).collect();
        let refs: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
        let p = Packed::pack(&ids(&refs));
        assert!(p.any_before(20, b"id-0"));
        assert!(p.any_before(20, b"id-19"));
        assert!(!p.any_before(20, b"id-20"));
        assert!(!p.any_before(0, b"id-0"));
        assert!(p.any_before(99, b"id-39"));
        assert!(!p.any_before(99, b"id-40"));
    }

    #[test]
    fn sequential_ids_take_two_fifths_of_their_bytes_and_ends() {
        let v: Vec<Vec<u8>> = (1..=200_000u32)
            .map(|i| format!("a{i}").into_bytes())
            .collect();
        let refs: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
        let plain = ids(&refs);
        let p = Packed::pack(&plain);
        let packed: usize = p
            .blocks
            .iter()
            .map(|b| b.data.len() + 8 * b.restarts.len())
            .sum();
        let before = plain.buf.len() + 4 * plain.len();
        assert!(
            5 * packed < 2 * before,
            "{packed} bytes packed against {before}"
        );
    }
}
