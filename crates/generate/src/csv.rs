//! Streaming CSV writers for account books: one reused line buffer, integers by `itoa`
//! and floats by `ryu` (shortest representation that parses back to the same `f64`).

use std::io::{self, Write};

use delever_graph::AccountBook;

use crate::rows::BookRows;

/// Account ids are `a1`, `a2`, …: short, so 10 million rows stay small.
fn account_id(line: &mut Vec<u8>, i: usize, ints: &mut itoa::Buffer) {
    line.push(b'a');
    line.extend_from_slice(ints.format(i + 1).as_bytes());
}

fn float(line: &mut Vec<u8>, x: f64, floats: &mut ryu::Buffer) {
    // `format_finite`: books come from a validated network, so every amount is finite.
    line.extend_from_slice(floats.format_finite(x).as_bytes());
}

/// Write `book`'s `accounts_csv` (`account,cash,loan`) to `w`.
pub fn write_accounts_csv(book: &AccountBook, w: &mut dyn Write) -> io::Result<()> {
    accounts_csv(BookRows::Memory(book), w)
}

/// The `accounts_csv` of `rows`.
pub(crate) fn accounts_csv(rows: BookRows<'_>, w: &mut dyn Write) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 20, w);
    out.write_all(b"account,cash,loan\n")?;
    let (mut ints, mut floats) = (itoa::Buffer::new(), ryu::Buffer::new());
    let mut line = Vec::with_capacity(64);
    rows.each(|r| {
        line.clear();
        account_id(&mut line, r.index, &mut ints);
        line.push(b',');
        float(&mut line, r.cash, &mut floats);
        line.push(b',');
        float(&mut line, r.loan, &mut floats);
        line.push(b'\n');
        out.write_all(&line)
    })?;
    out.flush()
}

/// Write `book`'s `holdings_csv` (`account,asset,shares`, grouped by account in account
/// order) to `w`; `asset_ids[k]` names asset `k`.
pub fn write_holdings_csv(
    book: &AccountBook,
    asset_ids: &[&str],
    w: &mut dyn Write,
) -> io::Result<()> {
    holdings_csv(BookRows::Memory(book), asset_ids, w)
}

/// The `holdings_csv` of `rows`.
pub(crate) fn holdings_csv(
    rows: BookRows<'_>,
    asset_ids: &[&str],
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 20, w);
    out.write_all(b"account,asset,shares\n")?;
    let (mut ints, mut floats) = (itoa::Buffer::new(), ryu::Buffer::new());
    let mut line = Vec::with_capacity(64);
    rows.each(|r| {
        for (&a, &shares) in r.assets.iter().zip(r.shares) {
            line.clear();
            account_id(&mut line, r.index, &mut ints);
            line.push(b',');
            line.extend_from_slice(asset_ids.get(a as usize).copied().unwrap_or("?").as_bytes());
            line.push(b',');
            float(&mut line, shares, &mut floats);
            line.push(b'\n');
            out.write_all(&line)?;
        }
        Ok(())
    })?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use delever_graph::AssetIx;

    #[test]
    fn books_write_as_documented() {
        let book = AccountBook {
            cash: vec![1000.0, 0.0],
            loan: vec![5000.0, 0.1 + 0.2],
            row_ptr: vec![0, 1, 3],
            assets: vec![AssetIx(0), AssetIx(0), AssetIx(1)],
            shares: vec![50.0, 100.0, 2.5e-7],
        };
        let mut a = Vec::new();
        write_accounts_csv(&book, &mut a).expect("in memory");
        assert_eq!(
            String::from_utf8_lossy(&a),
            "account,cash,loan\na1,1000.0,5000.0\na2,0.0,0.30000000000000004\n"
        );
        let mut h = Vec::new();
        write_holdings_csv(&book, &["NVDA", "MU"], &mut h).expect("in memory");
        assert_eq!(
            String::from_utf8_lossy(&h),
            "account,asset,shares\na1,NVDA,50.0\na2,NVDA,100.0\na2,MU,2.5e-7\n"
        );
    }
}
