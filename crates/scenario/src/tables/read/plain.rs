//! Plain CSV text cut on every core: what programs write (no quoted field, no carriage
//! return, no empty line, valid UTF-8) is cut into pieces at line ends and each piece's
//! rows are read on its own core. The result is exactly the one-record-at-a-time reader's
//! (`parse_csv`), record positions included; any text that is not plain, or has a row with
//! a problem, is left to that reader, which reports the problems in order.

use rayon::prelude::*;

use super::{Cell, MAX_FIELD_BYTES, MAX_TABLE_ROWS, Part, Rows, Starts, text_cell};
use crate::book::Seps;

/// A piece is cut at the first line end after this many bytes: large enough that a piece's
/// setup is nothing beside its rows, small enough that both cores stay busy to the end.
const PIECE: usize = 256 << 10;

/// The rows of one piece, and where its records start.
struct Piece {
    part: Part,
    /// Per record: its first byte in the file and its line within the piece (from 0).
    starts: Vec<(u64, u64)>,
    /// Line ends in the piece.
    lines: u64,
}

/// Header, rows and record starts (byte, line; the header is record 0) of plain CSV text,
/// as `parse_csv` gives them; `None` when the text is not plain or a row has a problem.
pub(super) fn parse(raw: &[u8]) -> Option<(Vec<String>, Rows, Starts)> {
    parse_in(raw, PIECE)
}

/// [`parse`] with pieces of at least `size` bytes.
fn parse_in(raw: &[u8], size: usize) -> Option<(Vec<String>, Rows, Starts)> {
    if raw.is_empty()
        || raw.first() == Some(&b'\n')
        || memchr::memchr2(b'"', b'\r', raw).is_some()
        || memchr::memmem::find(raw, b"\n\n").is_some()
    {
        return None;
    }
    let header_end = memchr::memchr(b'\n', raw).map_or(raw.len(), |i| i + 1);
    let header = std::str::from_utf8(raw.get(..header_end)?).ok()?;
    let columns = header
        .strip_suffix('\n')
        .unwrap_or(header)
        .split(',')
        .map(|f| {
            (f.len() <= MAX_FIELD_BYTES).then(|| match text_cell(f) {
                Cell::Text(t) => t.to_string(),
                _ => String::new(),
            })
        })
        .collect::<Option<Vec<String>>>()?;
    let mut cuts = vec![header_end];
    while let Some(&at) = cuts.last().filter(|&&at| at < raw.len()) {
        let next = raw
            .get(at + size..)
            .and_then(|rest| memchr::memchr(b'\n', rest))
            .map_or(raw.len(), |i| at + size + i + 1);
        cuts.push(next);
    }
    let width = columns.len();
    let pieces = cuts
        .par_windows(2)
        .map(|w| piece(raw.get(w[0]..w[1])?, w[0], width))
        .collect::<Option<Vec<Piece>>>()?;
    let rows: usize = pieces.iter().map(|p| p.part.ends.len()).sum();
    if rows > MAX_TABLE_ROWS {
        return None;
    }
    // Lines counted from 1; the header is line 1 and ends with the first line end.
    let mut starts = Vec::with_capacity(rows + 1);
    starts.push((0, 1));
    let (mut first, mut line) = (0, 2);
    let mut parts = Vec::with_capacity(pieces.len());
    for Piece {
        mut part,
        starts: mine,
        lines,
    } in pieces
    {
        starts.extend(mine.into_iter().map(|(b, l)| (b, line + l)));
        part.first = first;
        first += part.ends.len();
        line += lines;
        parts.push(part);
    }
    Some((columns, Rows { parts }, starts))
}

/// The rows of `bytes`, whole lines of a file from byte `offset`, each with `width` fields
/// (or blank); `None` when the text is not UTF-8, a field is too long or a row has another
/// number of fields.
fn piece(bytes: &[u8], offset: usize, width: usize) -> Option<Piece> {
    let text = std::str::from_utf8(bytes).ok()?;
    let lines = memchr::memchr_iter(b'\n', bytes).count();
    // Every line is a row (no line is empty): one more when the last has no line end.
    let rows = lines + usize::from(bytes.last().is_some_and(|&b| b != b'\n'));
    let mut part = Part {
        first: 0,
        // A cell per separator at most (a wide header over short lines must not reserve
        // more than the piece can fill).
        cells: Vec::with_capacity(rows.saturating_mul(width).min(bytes.len() + 1)),
        ends: Vec::with_capacity(rows),
    };
    let mut starts = Vec::with_capacity(rows);
    let (mut line_start, mut field_start, mut line) = (0, 0, 0u64);
    for at in Seps::new(bytes) {
        part.cells.push(field(text.get(field_start..at)?)?);
        field_start = at + 1;
        if bytes.get(at) == Some(&b'\n') {
            end_row(&mut part, width)?;
            starts.push(((offset + line_start) as u64, line));
            line_start = at + 1;
            line += 1;
        }
    }
    if line_start < bytes.len() {
        // The file's last line, with no line end.
        part.cells.push(field(text.get(field_start..)?)?);
        end_row(&mut part, width)?;
        starts.push(((offset + line_start) as u64, line));
    }
    Some(Piece {
        part,
        starts,
        lines: lines as u64,
    })
}

fn field(f: &str) -> Option<Cell> {
    (f.len() <= MAX_FIELD_BYTES).then(|| text_cell(f))
}

/// Close the row whose cells follow the last row's end, as `parse_csv` does: a line of
/// empty fields is a blank row (no cells); a row of another width is refused.
fn end_row(part: &mut Part, width: usize) -> Option<()> {
    let start = part.ends.last().copied().unwrap_or(0);
    let cells = part.cells.get(start..)?;
    if cells.len() != width && !(cells.len() == 1 && cells[0] == Cell::Empty) {
        return None;
    }
    if cells.iter().all(|c| *c == Cell::Empty) {
        part.cells.truncate(start);
    }
    part.ends.push(part.cells.len());
    Some(())
}

#[cfg(test)]
mod tests {
    use super::super::parse_csv;
    use super::*;
    use proptest::prelude::*;

    type Parsed = (Vec<String>, Vec<Vec<Cell>>, Vec<(u64, u64)>);

    fn plain(raw: &[u8], size: usize) -> Option<Parsed> {
        let (columns, rows, starts) = parse_in(raw, size)?;
        Some((columns, rows.iter().map(<[Cell]>::to_vec).collect(), starts))
    }

    fn one_by_one(raw: &[u8]) -> Option<Parsed> {
        let mut starts = Vec::new();
        let (columns, rows) = parse_csv(raw, &mut starts).ok()?;
        Some((columns, rows.iter().map(<[Cell]>::to_vec).collect(), starts))
    }

    #[test]
    fn plain_text_is_read_in_pieces_as_one_record_at_a_time() {
        let raw = b"id,kind,cash\nb1,bank,1.5\n , ,\nb2 , fund,\n,,\nb3,bank,2";
        let want = one_by_one(raw);
        assert!(want.is_some());
        for size in [0, 1, 5, 12, 1 << 20] {
            assert_eq!(plain(raw, size), want, "pieces of {size} bytes");
        }
        let rows = want.map(|w| w.1).unwrap_or_default();
        assert_eq!(rows.len(), 5);
        assert!(
            rows[1].is_empty() && rows[3].is_empty(),
            "blank lines are rows without cells"
        );
    }

    #[test]
    fn text_that_is_not_plain_or_has_a_bad_row_is_left_to_the_record_reader() {
        for raw in [
            &b""[..],
            b"\nid,kind\nb1,bank\n",
            b"id,kind\n\"b1\",bank\n",
            b"id,kind\r\nb1,bank\r\n",
            b"id,kind\nb1,bank\n\nb2,bank\n",
            b"id,kind\nb1,bank,1\n",
            b"id,kind\nb1\xff,bank\n",
        ] {
            assert_eq!(plain(raw, 4), None, "{:?}", String::from_utf8_lossy(raw));
        }
        let long = format!("id,kind\nb1,{}\n", "x".repeat(MAX_FIELD_BYTES + 1));
        assert_eq!(plain(long.as_bytes(), 4), None);
        // A header of a million columns over many short lines: refused, having reserved
        // no more than the pieces' bytes (a cell per column per line was a terabyte).
        let wide = format!("{}\n{}", ",".repeat(1 << 20), "a\n".repeat(1 << 16));
        assert_eq!(plain(wide.as_bytes(), 1 << 16), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Any text built of plain lines, some blank, some of another width, with or
        /// without a last line end: read in pieces of any size exactly as one record at a
        /// time, or (only with a bad row) left to that reader.
        #[test]
        fn pieces_read_as_records(
            width in 1usize..5,
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![Just(""), Just(" "), Just("a"), Just("1.5"), Just(" é x "), Just("b-2")],
                    1..6,
                ),
                0..40,
            ),
            end in any::<bool>(),
            size in 0usize..64,
        ) {
            let mut text = (0..width).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",");
            for l in &lines {
                text.push('\n');
                text.push_str(&l.join(","));
            }
            if end {
                text.push('\n');
            }
            let want = one_by_one(text.as_bytes());
            let got = plain(text.as_bytes(), size);
            if text.contains("\n\n") {
                prop_assert_eq!(got, None);
            } else {
                // Also `None` for both when a row has another width.
                prop_assert_eq!(got, want);
            }
        }
    }
}
