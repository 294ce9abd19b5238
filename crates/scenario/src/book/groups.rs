//! Parquet books read one row group at a time, straight into the book's vectors.
//!
//! The row counts of the groups are in the file's metadata, so the book's vectors are
//! allocated once at their final size and cut into one slice per group; the groups are
//! decoded on rayon's threads, each converted into its slice and its Arrow arrays
//! dropped at once. Only about one decoded group per thread is alive at a time, instead
//! of the whole table's arrays (the id strings above all) until the book is filled.
//!
//! A group converts here only when every row is clean (ids present and short, amounts
//! valid, assets known), and the holdings' runs of rows per account must follow the
//! accounts' order. At the first that is not, everything read here is dropped and the
//! table is read again by the whole-table reader of `columnar.rs`, which finds, words
//! and orders every problem: a bad file gives exactly the problems it gave before.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use arrow_array::cast::AsArray;
use std::sync::Arc;

use arrow_array::types::{Float64Type, Int32Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use delever_graph::AssetIx;
use rayon::prelude::*;

use super::columnar::{
    ACCOUNT_COLUMNS, BookFormat, HOLDING_COLUMNS, ParquetLayout, duplicate_problems, each_id,
    find_columns, numbers, parquet_batches, parquet_layout,
};
use super::{
    AssetLookup, Checked, CsvProblem, Grouping, Holdings, Ids, MAX_FIELD_BYTES, Packed, Problems,
    checked,
};
use crate::limits;

/// `v` cut into consecutive slices of `rows[g]` elements; `None` if they do not add up
/// to its length.
fn cut<'a, T>(mut v: &'a mut [T], rows: &[usize]) -> Option<Vec<&'a mut [T]>> {
    let mut out = Vec::with_capacity(rows.len());
    for &r in rows {
        let (a, b) = std::mem::take(&mut v).split_at_mut_checked(r)?;
        out.push(a);
        v = b;
    }
    v.is_empty().then_some(out)
}

/// Whether `x` passes the readers' amount check (finite, in `[0, max]`): the value
/// stored is then `x` itself.
fn amount_ok(x: f64, max: f64) -> bool {
    x.is_finite() && x >= 0.0 && x <= max
}

/// The amounts of `col` into `out` (same length); `None` if any is null or out of range.
fn fill_amounts(col: &ArrayRef, out: &mut [f64], max: f64) -> Option<()> {
    if col.len() != out.len() {
        return None;
    }
    if *col.data_type() == DataType::Float64 && col.null_count() == 0 {
        out.copy_from_slice(col.as_primitive::<Float64Type>().values());
    } else {
        for (o, v) in out.iter_mut().zip(numbers(col).ok()?) {
            *o = v?;
        }
    }
    out.iter().all(|&x| amount_ok(x, max)).then_some(())
}

/// A row group's batches as they are decoded (any problem ends the fast path).
type Batches<'a> = dyn Iterator<Item = Result<[ArrayRef; 3], CsvProblem>> + 'a;

/// One clean group of the accounts table: its ids (cash and loan are written in place).
/// Each batch is converted and dropped before the next is decoded: a group's Arrow
/// arrays held at once, freed and not reused, were kept by the allocator after the load.
fn accounts_group(batches: &mut Batches<'_>, cash: &mut [f64], loan: &mut [f64]) -> Option<Ids> {
    let mut ids = Ids::with_capacity(0, cash.len());
    let mut at = 0;
    for cols in batches {
        let cols = cols.ok()?;
        let len = cols[0].len();
        let mut clean = true;
        each_id(&cols[0], "", "", |_, id| match id {
            Some(id) if id.len() <= MAX_FIELD_BYTES && !id.iter().all(u8::is_ascii_whitespace) => {
                ids.buf.extend_from_slice(id);
                ids.close();
            }
            _ => clean = false,
        })
        .ok()?;
        if !clean || ids.len() != at + len {
            return None;
        }
        fill_amounts(&cols[1], cash.get_mut(at..at + len)?, limits::MAX_USD)?;
        fill_amounts(&cols[2], loan.get_mut(at..at + len)?, limits::MAX_USD)?;
        at += len;
    }
    (at == cash.len()).then_some(ids)
}

/// `parts` joined into one [`Ids`], in order: the first part grown to the whole (a
/// large buffer grows in place, its pages remapped rather than copied) and each other
/// part freed once appended, so the ids are not held twice.
fn concat(parts: Vec<Ids>) -> Ids {
    let (bytes, count) = (
        parts.iter().map(|p| p.buf.len()).sum::<usize>(),
        parts.iter().map(Ids::len).sum::<usize>(),
    );
    let mut parts = parts.into_iter();
    let mut ids = parts.next().unwrap_or_default();
    ids.buf.reserve_exact(bytes - ids.buf.len());
    ids.ends.reserve_exact(count - ids.len());
    for p in parts {
        ids.append(&p);
    }
    ids
}

/// The accounts table of a Parquet book: group by group when every row is clean (then
/// only the duplicate-id check is left), else the whole-table reader.
pub(super) fn read_accounts(path: &Path, out: &mut Vec<CsvProblem>) -> Option<Checked> {
    let key = BookFormat::Parquet.keys().0;
    if let Some((ids, cash, loan)) = fast_accounts(path, key) {
        let mut problems = Problems::new(key);
        tracing::trace!(
            accounts = ids.len(),
            "accounts decoded; checking for duplicate ids"
        );
        duplicate_problems(&ids, &mut problems);
        let ok = problems.is_empty();
        problems.finish(out);
        return ok.then(|| checked(ids, cash, loan));
    }
    super::columnar::read_accounts(path, BookFormat::Parquet, out)
}

fn fast_accounts(path: &Path, key: &'static str) -> Option<(Ids, Vec<f64>, Vec<f64>)> {
    let layout = parquet_layout(path, ACCOUNT_COLUMNS, key).ok()?;
    let n = layout.rows.iter().sum();
    let (mut cash, mut loan) = (vec![0.0; n], vec![0.0; n]);
    let parts: Option<Vec<Ids>> = cut(&mut cash, &layout.rows)?
        .into_par_iter()
        .zip(cut(&mut loan, &layout.rows)?)
        .enumerate()
        .map(|(g, (c, l))| {
            let mut batches = parquet_batches(path, &layout, g, ACCOUNT_COLUMNS, key).ok()?;
            accounts_group(&mut batches, c, l)
        })
        .collect();
    Some((concat(parts?), cash, loan))
}

/// One clean group of the holdings table: its runs of rows per account, in order (the
/// assets and shares are written in place).
struct Runs {
    ids: Ids,
    /// Rows of each run: at most a group's rows, which [`decode_holdings`] keeps under
    /// `u32::MAX` (4 bytes an account held while the book fills, not 8).
    rows: Vec<u32>,
}

fn holdings_group(
    batches: &mut Batches<'_>,
    assets: &AssetLookup,
    held: &mut [AssetIx],
    shares: &mut [f64],
) -> Option<Runs> {
    let mut runs = Runs {
        ids: Ids::default(),
        rows: Vec::new(),
    };
    let mut at = 0;
    for cols in batches {
        let cols = cols.ok()?;
        let len = cols[0].len();
        let h = held.get_mut(at..at + len)?;
        if cols[1].len() != len {
            return None;
        }
        let mut clean = if let Some(d) = cols[1].as_dictionary_opt::<Int32Type>() {
            dictionary_assets(d, assets, h)
        } else {
            let mut clean = true;
            each_id(&cols[1], "", "", |i, id| {
                match (id.and_then(|id| assets.get(id)), h.get_mut(i)) {
                    (Some(a), Some(slot)) => *slot = a,
                    _ => clean = false,
                }
            })
            .ok()?;
            clean
        };
        fill_amounts(&cols[2], shares.get_mut(at..at + len)?, limits::MAX_SHARES)?;
        // The last run's account, to extend it while rows repeat it.
        let mut last: Option<usize> = runs.ids.len().checked_sub(1);
        // A view equal to the row before's is the same id (same bytes inline or at the
        // same place): the run goes on without reading the id.
        let views = cols[0]
            .as_string_view_opt()
            .filter(|a| a.null_count() == 0)
            .map(arrow_array::GenericByteViewArray::views);
        each_id(&cols[0], "", "", |i, id| {
            if let Some(v) = views
                && i > 0
                && v.get(i) == v.get(i - 1)
                && let Some(n) = runs.rows.last_mut()
            {
                *n += 1;
                return;
            }
            let Some(id) = id.filter(|id| !id.is_empty()) else {
                clean = false;
                return;
            };
            match (last, runs.rows.last_mut()) {
                (Some(k), Some(n)) if runs.ids.get(k) == id => *n += 1,
                _ => {
                    runs.ids.buf.extend_from_slice(id);
                    runs.ids.close();
                    runs.rows.push(1);
                    last = Some(runs.ids.len() - 1);
                }
            }
        })
        .ok()?;
        if !clean {
            return None;
        }
        at += len;
    }
    (at == held.len() && runs.rows.iter().map(|&r| u64::from(r)).sum::<u64>() == at as u64)
        .then_some(runs)
}

/// The assets of a dictionary-encoded column into `held`: each distinct id looked up
/// once; false if a row is null or names an unknown asset.
fn dictionary_assets(
    d: &arrow_array::DictionaryArray<Int32Type>,
    assets: &AssetLookup,
    held: &mut [AssetIx],
) -> bool {
    let mut known: Vec<Option<AssetIx>> = vec![None; d.values().len()];
    if each_id(d.values(), "", "", |i, id| {
        if let Some(slot) = known.get_mut(i) {
            *slot = id.and_then(|id| assets.get(id));
        }
    })
    .is_err()
        || d.null_count() > 0
        || d.len() != held.len()
    {
        return false;
    }
    d.keys().values().iter().zip(held).all(|(&k, slot)| {
        match usize::try_from(k)
            .ok()
            .and_then(|k| known.get(k).copied().flatten())
        {
            Some(a) => {
                *slot = a;
                true
            }
            None => false,
        }
    })
}

/// Decode the holdings' account ids as string views (short ids inline, none copied) and
/// text assets as dictionaries (each distinct asset looked up once, not once a row).
/// `None` when the columns are not plain text.
fn holdings_hint(layout: &ParquetLayout) -> Option<SchemaRef> {
    let [account, asset, _] = find_columns(&layout.schema, HOLDING_COLUMNS, "", "").ok()?;
    let fields: Vec<Field> = layout
        .schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let t = match (f.data_type(), i) {
                (DataType::Utf8 | DataType::LargeUtf8, i) if i == account => DataType::Utf8View,
                (DataType::Utf8 | DataType::LargeUtf8, i) if i == asset => {
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
                }
                (t, _) => t.clone(),
            };
            f.as_ref().clone().with_data_type(t)
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        layout.schema.metadata().clone(),
    )))
}

/// The grouping check of the CSV reader's merge (runs in the accounts' order, an account
/// skipped only if it holds nothing), made group by group in file order as the groups
/// are decoded, once the accounts' ids are known: a group's runs (an id and a row count
/// for each account it holds) are dropped as soon as they are checked, instead of every
/// group's being held until the whole table is decoded (about 190 MB at 10M accounts,
/// at the load's peak).
struct Drain {
    /// The next group to check.
    next: usize,
    /// Groups decoded but not yet checked: decoded before the accounts were, or ahead
    /// of a group still being decoded.
    pending: BTreeMap<usize, Runs>,
    /// Made once the accounts are known.
    grouping: Option<Grouping>,
    /// Rows checked so far.
    rows: usize,
    /// No check has failed.
    ok: bool,
}

impl Drain {
    fn new() -> Self {
        Drain {
            next: 0,
            pending: BTreeMap::new(),
            grouping: None,
            rows: 0,
            ok: true,
        }
    }

    /// Check every pending group that is next in file order against `ids`.
    fn drain(&mut self, ids: &Packed) {
        let grouping = self.grouping.get_or_insert_with(|| Grouping::new(ids));
        while self.ok
            && let Some(r) = self.pending.remove(&self.next)
        {
            self.ok = Self::check(grouping, &mut self.rows, &r, ids).is_some();
            self.next += 1;
        }
    }

    /// One group's runs, account after account (a group's first run may go on with the
    /// account open: the first account, or the last of the group before).
    fn check(grouping: &mut Grouping, rows: &mut usize, r: &Runs, ids: &Packed) -> Option<()> {
        for (k, &m) in r.rows.iter().enumerate() {
            grouping.seek(ids, r.ids.get(k), *rows).ok()?;
            *rows += usize::try_from(m).ok()?;
        }
        Some(())
    }
}

/// The holdings table of a Parquet book decoded group by group, and checked against the
/// accounts as far as they were known. `None` when a row is not clean (the whole-table
/// reader then finds the problems).
pub(super) struct Decoded {
    held: Vec<AssetIx>,
    shares: Vec<f64>,
    groups: usize,
    drain: Drain,
}

/// Decode the holdings table of a Parquet book (see [`Decoded`]). It needs only the
/// assets, so it can run while the accounts table is read; each group is checked against
/// the accounts' ids as soon as `accounts` holds them and the groups before it are.
pub(super) fn decode_holdings(
    path: &Path,
    assets: &AssetLookup,
    accounts: &OnceLock<Packed>,
) -> Option<Decoded> {
    let key = BookFormat::Parquet.keys().1;
    let mut layout: ParquetLayout = parquet_layout(path, HOLDING_COLUMNS, key).ok()?;
    layout.hint = holdings_hint(&layout);
    if layout.rows.iter().any(|&r| u32::try_from(r).is_err()) {
        return None;
    }
    let n = layout.rows.iter().sum();
    let mut held = vec![AssetIx(0); n];
    let mut shares = vec![0.0; n];
    let drain = Mutex::new(Drain::new());
    cut(&mut held, &layout.rows)?
        .into_par_iter()
        .zip(cut(&mut shares, &layout.rows)?)
        .enumerate()
        .map(|(g, (h, s))| {
            let mut batches = parquet_batches(path, &layout, g, HOLDING_COLUMNS, key).ok()?;
            let runs = holdings_group(&mut batches, assets, h, s)?;
            drop(batches);
            // A poisoned lock means a check panicked: the panic is rayon's to carry.
            let mut d = drain.lock().ok()?;
            d.pending.insert(g, runs);
            if let Some(ids) = accounts.get() {
                d.drain(ids);
            }
            d.ok.then_some(())
        })
        .collect::<Option<()>>()?;
    Some(Decoded {
        held,
        shares,
        groups: layout.rows.len(),
        drain: drain.into_inner().ok()?,
    })
}

/// The holdings table of a Parquet book, grouped by account in the accounts' order:
/// from `decoded` (see [`decode_holdings`]) when its runs follow the accounts, else the
/// whole-table reader.
pub(super) fn read_holdings(
    path: &Path,
    decoded: Option<Decoded>,
    ids: &Packed,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<Holdings> {
    if let Some(h) = decoded.and_then(|d| group(d, ids)) {
        return Some(h);
    }
    super::columnar::read_holdings(path, BookFormat::Parquet, ids, assets, out)
}

/// Finish the grouping check (the groups decoded before the accounts were known, or
/// all of them) and build the CSR arrays.
fn group(decoded: Decoded, ids: &Packed) -> Option<Holdings> {
    let key = BookFormat::Parquet.keys().1;
    let Decoded {
        held,
        shares,
        groups,
        mut drain,
    } = decoded;
    drain.drain(ids);
    if !drain.ok || drain.next != groups || !drain.pending.is_empty() {
        return None;
    }
    let mut none = Vec::new();
    super::finish_holdings(
        Problems::new(key),
        &mut none,
        drain.grouping?,
        ids.len(),
        held,
        shares,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use arrow_array::{Float64Array, StringArray};

    /// Write string, string-or-number, number columns as Parquet in groups of `group` rows.
    fn parquet(path: &Path, names: [&str; 3], columns: &[ArrayRef; 3], group: usize) {
        let named = names.into_iter().zip(columns.iter().cloned()).collect();
        super::super::columnar::tests::parquet(path, named, group);
    }

    /// The accounts' ids, as known before the holdings are decoded.
    fn known(ids: &Packed) -> OnceLock<Packed> {
        let known = OnceLock::new();
        let _ = known.set(ids.clone());
        known
    }

    fn text(v: &[String]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn nums(v: &[f64]) -> ArrayRef {
        Arc::new(Float64Array::from(v.to_vec()))
    }

    /// Accounts, then holdings, read group by group and by the whole-table reader: the
    /// same book, or the same problems.
    fn both_readers_agree(name: &str, acc: &[ArrayRef; 3], hold: &[ArrayRef; 3]) -> bool {
        let dir =
            std::env::temp_dir().join(format!("delever-groups-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let (a, h) = (dir.join("a.parquet"), dir.join("h.parquet"));
        parquet(&a, ACCOUNT_COLUMNS, acc, 7);
        parquet(&h, HOLDING_COLUMNS, hold, 11);
        let lookup = AssetLookup::new([("X", AssetIx(0)), ("Y", AssetIx(1))]);
        let (mut o1, mut o2) = (Vec::new(), Vec::new());
        let g = read_accounts(&a, &mut o1);
        let w = super::super::columnar::read_accounts(&a, BookFormat::Parquet, &mut o2);
        assert_eq!(o1, o2, "{name}: accounts problems");
        let clean = match (g, w) {
            (Some((gi, gc, gl)), Some((wi, wc, wl))) => {
                assert_eq!(gi, wi, "{name}");
                assert_eq!((&gc, &gl), (&wc, &wl), "{name}");
                let g = read_holdings(
                    &h,
                    decode_holdings(&h, &lookup, &known(&gi)),
                    &gi,
                    &lookup,
                    &mut o1,
                );
                let w = super::super::columnar::read_holdings(
                    &h,
                    BookFormat::Parquet,
                    &wi,
                    &lookup,
                    &mut o2,
                );
                assert_eq!(o1, o2, "{name}: holdings problems");
                match (g, w) {
                    (Some(g), Some(w)) => {
                        // A clean book is read group by group (string views, dictionary
                        // assets), not by the fallback.
                        // Checked as the groups are decoded (the accounts known first)
                        // or all at the end (known after): the same arrays.
                        for accounts in [known(&gi), OnceLock::new()] {
                            let d = decode_holdings(&h, &lookup, &accounts)
                                .and_then(|d| group(d, &gi))
                                .expect(name);
                            assert_eq!(
                                (&d.row_ptr, &d.assets, &d.shares),
                                (&g.row_ptr, &g.assets, &g.shares),
                                "{name}"
                            );
                        }
                        assert!(
                            holdings_hint(
                                &parquet_layout(&h, HOLDING_COLUMNS, "k").expect("layout")
                            )
                            .is_some()
                        );
                        assert_eq!(g.row_ptr, w.row_ptr, "{name}");
                        assert_eq!(g.assets, w.assets, "{name}");
                        assert_eq!(g.shares, w.shares, "{name}");
                        true
                    }
                    (None, None) => false,
                    _ => panic!("{name}: one reader failed alone"),
                }
            }
            (None, None) => false,
            _ => panic!("{name}: one reader failed alone"),
        };
        let _ = std::fs::remove_dir_all(&dir);
        clean
    }

    #[test]
    fn row_groups_read_as_the_whole_table_reader_does() {
        let n = 60usize;
        let ids: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
        let cash: Vec<f64> = (0..n).map(|i| i as f64 * 1.25).collect();
        let loan: Vec<f64> = (0..n).map(|i| (i % 7) as f64 + 0.1).collect();
        // Account i holds i % 3 rows (some none), alternating X and Y.
        let mut hold_ids = Vec::new();
        let mut assets = Vec::new();
        let mut shares = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            for k in 0..i % 3 {
                hold_ids.push(id.clone());
                assets.push(if k % 2 == 0 { "X" } else { "Y" }.to_string());
                shares.push((i * 10 + k) as f64 + 0.5);
            }
        }
        let acc = || [text(&ids), nums(&cash), nums(&loan)];
        let hold = || [text(&hold_ids), text(&assets), nums(&shares)];
        assert!(both_readers_agree("clean", &acc(), &hold()));
        // Problems in later groups: each must come out as the whole-table reader says.
        let mut dup = ids.clone();
        dup[40] = "a3".into();
        assert!(!both_readers_agree(
            "dup",
            &[text(&dup), nums(&cash), nums(&loan)],
            &hold()
        ));
        let mut neg = loan.clone();
        neg[33] = -1.0;
        assert!(!both_readers_agree(
            "neg",
            &[text(&ids), nums(&cash), nums(&neg)],
            &hold()
        ));
        let mut unknown = assets.clone();
        unknown[25] = "Z".into();
        assert!(!both_readers_agree(
            "asset",
            &acc(),
            &[text(&hold_ids), text(&unknown), nums(&shares)]
        ));
        let mut order = hold_ids.clone();
        order.swap(3, 30);
        assert!(!both_readers_agree(
            "order",
            &acc(),
            &[text(&order), text(&assets), nums(&shares)]
        ));
        let mut nan = shares.clone();
        nan[50] = f64::NAN;
        assert!(!both_readers_agree(
            "nan",
            &acc(),
            &[text(&hold_ids), text(&assets), nums(&nan)]
        ));
        // Every account with rows (1 to 3), so a group's runs are checked against the
        // accounts all at once; groups of 11 rows cut accounts' runs in two.
        let (mut every_ids, mut every_assets, mut every_shares) = (vec![], vec![], vec![]);
        for (i, id) in ids.iter().enumerate() {
            for k in 0..=i % 3 {
                every_ids.push(id.clone());
                every_assets.push(if k % 2 == 0 { "X" } else { "Y" }.to_string());
                every_shares.push((i * 10 + k) as f64 + 0.5);
            }
        }
        let every = |ids: &[String]| [text(ids), text(&every_assets), nums(&every_shares)];
        assert!(both_readers_agree("every", &acc(), &every(&every_ids)));
        // The same with an account skipped late in a group, a run moved, an unknown one.
        let skipped: Vec<String> = every_ids
            .iter()
            .map(|id| {
                if id == "a44" {
                    "a45".into()
                } else {
                    id.clone()
                }
            })
            .collect();
        assert!(both_readers_agree("skipped", &acc(), &every(&skipped)));
        let mut moved = every_ids.clone();
        moved.swap(20, 70);
        assert!(!both_readers_agree("moved", &acc(), &every(&moved)));
        let mut stranger = every_ids.clone();
        stranger[90] = "zz".into();
        assert!(!both_readers_agree("stranger", &acc(), &every(&stranger)));
    }

    /// Ids past 4 GiB of bytes keep their ends, look-ups and comparisons. The first id
    /// is 4 GiB of zeros that are never touched (memory mapped, not resident).
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn ids_past_four_gib_keep_their_ends() {
        let four = 1usize << 32;
        let mut ids = Ids {
            buf: vec![0u8; four - 2],
            ..Ids::default()
        };
        ids.close();
        for id in ["ab", "cd"] {
            ids.buf.extend_from_slice(id.as_bytes());
            ids.close();
        }
        assert_eq!(ids.wraps, vec![1]);
        assert_eq!(
            (ids.len(), ids.end(0), ids.end(1), ids.end(2)),
            (3, four - 2, four, four + 2)
        );
        assert_eq!(
            (ids.get(1), ids.get(2), ids.get(3)),
            (&b"ab"[..], &b"cd"[..], &b""[..])
        );
        let mut small = Ids::default();
        for id in ["ab", "cd", "e"] {
            small.buf.extend_from_slice(id.as_bytes());
            small.close();
        }
        small.ends.pop();
        small.buf.pop();
        // Appended after the wrap: ends carried past it.
        ids.append(&small);
        assert_eq!((ids.len(), ids.end(4)), (5, four + 6));
        assert_eq!((ids.get(3), ids.get(4)), (&b"ab"[..], &b"cd"[..]));
        // And a small book's append stays exact.
        let mut two = small.clone();
        two.append(&small);
        assert_eq!((two.len(), two.get(3), two.end(3)), (4, &b"cd"[..], 8));
    }

    #[test]
    fn cut_splits_in_order_and_refuses_wrong_totals() {
        let mut v = [1, 2, 3, 4, 5];
        let parts = cut(&mut v, &[2, 0, 3]).expect("adds up");
        assert_eq!(parts.len(), 3);
        assert_eq!(&*parts[0], &[1, 2]);
        assert!(parts[1].is_empty());
        assert_eq!(&*parts[2], &[3, 4, 5]);
        assert!(cut(&mut v, &[2, 2]).is_none());
        assert!(cut(&mut v, &[4, 2]).is_none());
    }

    #[test]
    fn amount_check_matches_the_readers() {
        for x in [
            0.0,
            -0.0,
            1.0,
            1e15,
            1e15 + 1.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            let ok = super::super::columnar::check_amount(Some(x), limits::MAX_USD)
                .is_ok_and(|v| v.to_bits() == x.to_bits());
            assert_eq!(amount_ok(x, limits::MAX_USD), ok, "{x}");
        }
    }
}
