//! Streaming Parquet and Arrow IPC writers for account books: the tables of
//! `delever_scenario`'s columnar books (`account` text, `cash`/`loan` or `asset` text and
//! `shares` numbers), written a batch of [`BATCH_ROWS`] rows at a time so a book of any
//! size costs one batch of memory beside the book itself.

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use delever_graph::AccountBook;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::BookFormat;
use crate::rows::BookRows;

/// Rows per batch and per Parquet row group: a million rows is a few tens of MB encoded,
/// and a 50-million-row table still has 48 groups to decode in parallel.
pub const BATCH_ROWS: usize = 1 << 20;

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

/// A sink for batches of one table.
enum Sink<'a> {
    /// The Parquet writer encodes into a buffer that is emptied into `w` after each row
    /// group (the writer counts the bytes itself, so moving them out is safe); its own
    /// writer must be `Send`, which the caller's `w` need not be.
    Parquet(Box<ArrowWriter<Vec<u8>>>, &'a mut dyn Write),
    Arrow(Box<arrow_ipc::writer::FileWriter<&'a mut dyn Write>>),
}

impl<'a> Sink<'a> {
    fn new(format: BookFormat, schema: &SchemaRef, w: &'a mut dyn Write) -> io::Result<Self> {
        Ok(match format {
            BookFormat::Arrow => Sink::Arrow(Box::new(
                arrow_ipc::writer::FileWriter::try_new(w, schema).map_err(err)?,
            )),
            BookFormat::Parquet | BookFormat::Csv => {
                // Snappy, not zstd: these books are written to be loaded fast, and snappy
                // decodes several times faster for a little more disk.
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(BATCH_ROWS))
                    .build();
                let writer = ArrowWriter::try_new(Vec::new(), Arc::clone(schema), Some(props))
                    .map_err(err)?;
                Sink::Parquet(Box::new(writer), w)
            }
        })
    }
    fn write(&mut self, batch: &RecordBatch) -> io::Result<()> {
        match self {
            Sink::Arrow(writer) => writer.write(batch).map_err(err),
            Sink::Parquet(writer, w) => {
                writer.write(batch).map_err(err)?;
                writer.flush().map_err(err)?;
                let buf = writer.inner_mut();
                w.write_all(buf)?;
                buf.clear();
                Ok(())
            }
        }
    }
    fn finish(self) -> io::Result<()> {
        match self {
            Sink::Arrow(mut writer) => writer.finish().map_err(err),
            Sink::Parquet(writer, w) => {
                let buf = writer.into_inner().map_err(err)?;
                w.write_all(&buf)?;
                w.flush()
            }
        }
    }
}

fn schema(names: [&str; 3], second: DataType) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(names[0], DataType::Utf8, false),
        Field::new(names[1], second, false),
        Field::new(names[2], DataType::Float64, false),
    ]))
}

/// Account `i`'s id, `a1`, `a2`, … as in the CSV books.
fn account_id(ids: &mut StringBuilder, i: usize, ints: &mut itoa::Buffer) {
    let digits = ints.format(i + 1);
    let mut id = [0u8; 24];
    id[0] = b'a';
    let end = 1 + digits.len();
    id[1..end].copy_from_slice(digits.as_bytes());
    // `a` and ASCII digits: always UTF-8.
    ids.append_value(std::str::from_utf8(&id[..end]).unwrap_or("a?"));
}

/// Write `book`'s accounts table (`account`, `cash`, `loan`) to `w` as `format`.
pub fn write_accounts_table(
    book: &AccountBook,
    format: BookFormat,
    w: &mut dyn Write,
) -> io::Result<()> {
    accounts_table(BookRows::Memory(book), format, w)
}

/// The accounts table of `rows`.
pub(crate) fn accounts_table(
    rows: BookRows<'_>,
    format: BookFormat,
    w: &mut dyn Write,
) -> io::Result<()> {
    let schema = schema(["account", "cash", "loan"], DataType::Float64);
    let mut sink = Sink::new(format, &schema, w)?;
    let mut ints = itoa::Buffer::new();
    let mut ids = StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 9);
    let mut cash = Float64Builder::with_capacity(BATCH_ROWS);
    let mut loan = Float64Builder::with_capacity(BATCH_ROWS);
    let mut n = 0;
    let flush = |ids: &mut StringBuilder,
                 cash: &mut Float64Builder,
                 loan: &mut Float64Builder,
                 sink: &mut Sink<'_>|
     -> io::Result<()> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(ids.finish()),
            Arc::new(cash.finish()),
            Arc::new(loan.finish()),
        ];
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns).map_err(err)?;
        sink.write(&batch)
    };
    rows.each(|r| {
        account_id(&mut ids, r.index, &mut ints);
        cash.append_value(r.cash);
        loan.append_value(r.loan);
        n += 1;
        if n == BATCH_ROWS {
            n = 0;
            flush(&mut ids, &mut cash, &mut loan, &mut sink)?;
        }
        Ok(())
    })?;
    if n > 0 {
        flush(&mut ids, &mut cash, &mut loan, &mut sink)?;
    }
    sink.finish()
}

/// Write `book`'s holdings table (`account`, `asset`, `shares`, grouped by account in
/// account order) to `w` as `format`; `asset_ids[k]` names asset `k`.
pub fn write_holdings_table(
    book: &AccountBook,
    asset_ids: &[&str],
    format: BookFormat,
    w: &mut dyn Write,
) -> io::Result<()> {
    holdings_table(BookRows::Memory(book), asset_ids, format, w)
}

/// The holdings table of `rows`.
pub(crate) fn holdings_table(
    rows: BookRows<'_>,
    asset_ids: &[&str],
    format: BookFormat,
    w: &mut dyn Write,
) -> io::Result<()> {
    let schema = schema(["account", "asset", "shares"], DataType::Utf8);
    let mut sink = Sink::new(format, &schema, w)?;
    let mut ints = itoa::Buffer::new();
    let mut batch = Batch::new();
    rows.each(|r| {
        for (&a, &shares) in r.assets.iter().zip(r.shares) {
            account_id(&mut batch.accounts, r.index, &mut ints);
            batch
                .assets
                .append_value(asset_ids.get(a as usize).copied().unwrap_or("?"));
            batch.shares.append_value(shares);
            batch.rows += 1;
            if batch.rows == BATCH_ROWS {
                sink.write(&batch.take(&schema)?)?;
            }
        }
        Ok(())
    })?;
    if batch.rows > 0 {
        sink.write(&batch.take(&schema)?)?;
    }
    sink.finish()
}

/// Holdings rows being gathered into a batch.
struct Batch {
    accounts: StringBuilder,
    assets: StringBuilder,
    shares: Float64Builder,
    rows: usize,
}

impl Batch {
    fn new() -> Self {
        Batch {
            accounts: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 9),
            assets: StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 6),
            shares: Float64Builder::with_capacity(BATCH_ROWS),
            rows: 0,
        }
    }
    /// The rows so far as a batch; the builders start again empty.
    fn take(&mut self, schema: &SchemaRef) -> io::Result<RecordBatch> {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.accounts.finish()),
            Arc::new(self.assets.finish()),
            Arc::new(self.shares.finish()),
        ];
        RecordBatch::try_new(Arc::clone(schema), columns).map_err(err)
    }
}
