use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};

use super::*;

/// A table of `columns`, cut into batches of `rows` rows.
fn table(name: &str, columns: Vec<(&str, ArrayRef)>, rows: usize) -> MemoryTable {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let whole = RecordBatch::try_new(
        Arc::clone(&schema),
        columns.into_iter().map(|(_, c)| c).collect(),
    )
    .expect("batch");
    let batches = (0..whole.num_rows())
        .step_by(rows.max(1))
        .map(|s| whole.slice(s, rows.min(whole.num_rows() - s)))
        .collect();
    MemoryTable::new(name, schema, batches)
}

fn accounts(cash: Vec<Option<f64>>) -> MemoryTable {
    let n = cash.len();
    let ids: Vec<String> = (1..=n).map(|i| format!("a{i}")).collect();
    table(
        "accounts (test)",
        vec![
            ("account", Arc::new(StringArray::from(ids))),
            ("cash", Arc::new(Float64Array::from(cash))),
            (
                "loan",
                Arc::new(Int64Array::from_iter_values(
                    (1..=i64::try_from(n).expect("small")).map(|i| 10 * i),
                )),
            ),
        ],
        2,
    )
}

fn holdings(accounts: &[&str], assets: &[&str], shares: Vec<f64>) -> MemoryTable {
    table(
        "holdings (test)",
        vec![
            ("shares", Arc::new(Float64Array::from(shares))),
            ("account", Arc::new(StringArray::from(accounts.to_vec()))),
            ("asset", Arc::new(StringArray::from(assets.to_vec()))),
        ],
        2,
    )
}

#[test]
fn batches_in_any_column_order_build_the_book_row_by_row() {
    let book = MemoryBook::new(
        accounts(vec![Some(1.0), Some(2.0), Some(3.0)]),
        holdings(&["a1", "a1", "a3"], &["Y", "X", "X"], vec![5.0, 6.0, 7.5]),
    );
    let b = book.account_book(&["X", "Y"]).expect("valid");
    assert_eq!(b.cash, [1.0, 2.0, 3.0]);
    // Integer loans are converted: 10, 20, 30.
    assert_eq!(b.loan, [10.0, 20.0, 30.0]);
    // a1 holds two, a2 none, a3 one.
    assert_eq!(b.row_ptr, [0, 2, 2, 3]);
    assert_eq!(b.assets, [AssetIx(1), AssetIx(0), AssetIx(0)]);
    assert_eq!(b.shares, [5.0, 6.0, 7.5]);
}

#[test]
fn a_book_is_built_once_per_lookup() {
    let book = MemoryBook::new(
        accounts(vec![Some(1.0)]),
        holdings(&["a1"], &["X"], vec![1.0]),
    );
    let xy = AssetLookup::new([("X", AssetIx(0)), ("Y", AssetIx(1))]);
    let first = book.load(&xy).expect("valid");
    let again = book.load(&xy).expect("valid");
    assert!(Arc::ptr_eq(&first, &again));
    let yx = AssetLookup::new([("X", AssetIx(1)), ("Y", AssetIx(0))]);
    let other = book.load(&yx).expect("valid");
    assert_eq!(other.assets, [AssetIx(1)]);
    assert!(!Arc::ptr_eq(&first, &other));
}

fn problems(book: &MemoryBook) -> Vec<BookProblem> {
    book.account_book(&["X", "Y"]).expect_err("refused")
}

#[test]
fn bad_amounts_are_told_by_row_and_column() {
    // Row 3 is in the second batch: rows count across batches.
    let book = MemoryBook::new(
        accounts(vec![Some(1.0), Some(f64::NAN), Some(-2.0)]),
        holdings(&["a1"], &["X"], vec![1.0]),
    );
    let ps = problems(&book);
    let text: Vec<&str> = ps.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        text,
        [
            "row 2 (account `a2`), column `cash`: expected a finite number, found NaN",
            "row 3 (account `a3`), column `cash`: expected a number ≥ 0, found -2",
        ]
    );
    assert!(
        ps.iter()
            .all(|p| p.file == "accounts (test)" && p.line.is_none())
    );
}

#[test]
fn unknown_assets_and_ungrouped_holdings_are_told_by_row() {
    let book = MemoryBook::new(
        accounts(vec![Some(1.0), Some(1.0)]),
        holdings(&["a1", "a2"], &["X", "Z"], vec![1.0, 1.0]),
    );
    let ps = problems(&book);
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(
        ps[0].message,
        "row 2 (account `a2`), column `asset`: unknown asset `Z`"
    );
    assert_eq!(ps[0].file, "holdings (test)");
    // a1, a2, then a1 again: not grouped.
    let book = MemoryBook::new(
        accounts(vec![Some(1.0), Some(1.0)]),
        holdings(&["a1", "a2", "a1"], &["X", "X", "Y"], vec![1.0, 1.0, 1.0]),
    );
    let ps = problems(&book);
    assert_eq!(
        ps[0].message,
        "row 3: the rows of account `a1` are out of order"
    );
    assert_eq!(ps[0].file, "holdings (test)");
}

#[test]
fn a_missing_column_is_named_with_the_table() {
    let acc = table(
        "accounts (test)",
        vec![
            ("account", Arc::new(StringArray::from(vec!["a1"]))),
            ("cash", Arc::new(Float64Array::from(vec![1.0]))),
            ("loans", Arc::new(Float64Array::from(vec![1.0]))),
        ],
        10,
    );
    let book = MemoryBook::new(acc, holdings(&["a1"], &["X"], vec![1.0]));
    let ps = problems(&book);
    assert_eq!(
        ps[0].message,
        "the table `accounts (test)` has no column `loan`; its columns are `account`, `cash`, `loans`"
    );
    assert!(
        ps[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("did you mean `loans`?")),
        "{ps:?}"
    );
}

#[test]
fn an_empty_table_is_an_empty_book() {
    let book = MemoryBook::new(accounts(vec![]), holdings(&[], &[], vec![]));
    let b = book.account_book(&["X"]).expect("valid");
    assert_eq!(b.len(), 0);
    assert_eq!(b.row_ptr, [0]);
}

const SCENARIO: &str = "name: mem
description: a book given in memory
as_of: 2026-01-02
assets:
  - { id: X, price: 100.0, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02 }
  - { id: Y, price: 50.0, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02 }
lenders:
  - { id: broker, capital: 1.0e10 }
holders:
  - id: book
    kind: account_book
    margin: { lender: broker, maintenance: 0.25 }
shocks:
  - { type: asset, asset: X, return: -0.1 }
";

fn books(book: MemoryBook) -> MemoryBooks {
    MemoryBooks::from([("book".to_string(), Arc::new(book))])
}

#[test]
fn a_template_takes_its_book_from_memory_and_shares_it() {
    let book = MemoryBook::new(
        accounts(vec![Some(1.0), Some(2.0)]),
        holdings(&["a1", "a2"], &["X", "Y"], vec![3.0, 4.0]),
    );
    let t = crate::Template::from_yaml_with_books(SCENARIO, "mem.yaml", None, books(book))
        .expect("valid");
    let held = |s: &crate::Scenario| -> Arc<AccountBook> {
        s.network
            .holders()
            .iter()
            .find_map(|h| match &h.kind {
                delever_graph::HolderKind::AccountBook { book, .. } => Some(Arc::clone(book)),
                _ => None,
            })
            .expect("an account book")
    };
    let base = held(t.base());
    assert_eq!(base.loan, [10.0, 20.0]);
    assert_eq!(base.shares, [3.0, 4.0]);
    let path = crate::FieldPath::parse("shocks[0].return").expect("path");
    let inst = t
        .instantiate(&[(path, crate::OverrideValue::from_text("-0.2"))])
        .expect("instance");
    assert!(
        Arc::ptr_eq(&base, &held(&inst)),
        "the instance shares the book"
    );
    assert_eq!(t.memory_books().len(), 1);
}

#[test]
fn memory_book_problems_are_located_under_the_holder() {
    let book = MemoryBook::new(
        accounts(vec![Some(1.0), Some(-1.0)]),
        holdings(&["a1"], &["X"], vec![1.0]),
    );
    let e = crate::Template::from_yaml_with_books(SCENARIO, "mem.yaml", None, books(book))
        .expect_err("refused");
    let d = &e.diagnostics[0];
    assert_eq!(d.path, "holders[0].accounts");
    assert_eq!(d.file, "accounts (test)");
    assert_eq!(d.line, None);
    assert_eq!(
        d.message,
        "row 2 (account `a2`), column `cash`: expected a number ≥ 0, found -1"
    );
}

#[test]
fn a_memory_book_must_be_for_an_account_book_without_files() {
    let book = || {
        MemoryBook::new(
            accounts(vec![Some(1.0)]),
            holdings(&["a1"], &["X"], vec![1.0]),
        )
    };
    let other = MemoryBooks::from([("nobody".to_string(), Arc::new(book()))]);
    let e = crate::Template::from_yaml_with_books(SCENARIO, "mem.yaml", None, other)
        .expect_err("refused");
    assert!(
        e.diagnostics[0]
            .message
            .contains("given in memory for holder `nobody`, which the scenario does not have"),
        "{e}"
    );
    assert_eq!(
        e.diagnostics[0].hint.as_deref(),
        Some("its account_book holders are `book`")
    );
    let with_files = SCENARIO.replace(
        "    kind: account_book\n",
        "    kind: account_book\n    accounts_csv: a.csv\n    holdings_csv: h.csv\n",
    );
    let e = crate::Template::from_yaml_with_books(&with_files, "mem.yaml", None, books(book()))
        .expect_err("refused");
    assert_eq!(e.diagnostics[0].path, "holders[0].accounts_csv");
    assert!(
        e.diagnostics[0]
            .message
            .contains("given its tables in memory and also names `accounts_csv`"),
        "{e}"
    );
}
