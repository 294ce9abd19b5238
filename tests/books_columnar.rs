//! Account books as Parquet and Arrow IPC tables: `delever convert` writes them, a
//! scenario reads them (`accounts_parquet`/`holdings_parquet`, `accounts_arrow`/
//! `holdings_arrow`) with the same result as the CSV book, and bad tables are told by file,
//! row and column name, exit code 2.

use std::path::{Path, PathBuf};

use crate::util::{delever, root, scratch};
use delever_scenario::{BookFormat, Column, TableColumns, write_table};

/// The full example with its CSV book, copied into `dir`.
fn copy_example(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("books")).expect("mkdir");
    for f in ["accounts.csv", "holdings.csv"] {
        std::fs::copy(
            root().join("tests/fixtures/books").join(f),
            dir.join("books").join(f),
        )
        .expect("copy book");
    }
    let yaml = dir.join("full-example.yaml");
    std::fs::copy(root().join("tests/fixtures/full-example.yaml"), &yaml).expect("copy yaml");
    yaml
}

/// Point the example's book at other keys and files.
fn repoint(yaml: &Path, accounts: &str, holdings: &str) {
    let text = std::fs::read_to_string(yaml).expect("read");
    let text = text
        .replace("accounts_csv: books/accounts.csv", accounts)
        .replace("holdings_csv: books/holdings.csv", holdings);
    std::fs::write(yaml, text).expect("write");
}

fn run_json(yaml: &Path) -> crate::util::Run {
    let y = yaml.display().to_string();
    delever(["-q", "run", y.as_str(), "--format", "json"])
}

#[test]
fn parquet_and_arrow_books_give_the_csv_book_s_report_byte_for_byte() {
    let base = scratch("columnar-same");
    let csv_yaml = copy_example(&base.join("csv"));
    let want = run_json(&csv_yaml);
    assert_eq!(want.code, 0, "{}", want.stderr);
    for (to, ext, keys) in [
        (
            "parquet",
            "parquet",
            ("accounts_parquet", "holdings_parquet"),
        ),
        ("arrow", "arrow", ("accounts_arrow", "holdings_arrow")),
    ] {
        let dir = base.join(to);
        let yaml = copy_example(&dir);
        let (a, h) = (
            dir.join("books/accounts.csv"),
            dir.join("books/holdings.csv"),
        );
        let conv = delever([
            "convert",
            a.to_str().unwrap_or_default(),
            h.to_str().unwrap_or_default(),
            "--to",
            to,
        ]);
        assert_eq!(conv.code, 0, "{}", conv.stderr);
        assert!(
            conv.stderr.contains(&format!("accounts.{ext}")),
            "{}",
            conv.stderr
        );
        assert!(dir.join(format!("books/accounts.{ext}")).is_file());
        // The CSVs go, so the run can only have read the converted tables.
        std::fs::remove_file(&a).expect("rm");
        std::fs::remove_file(&h).expect("rm");
        repoint(
            &yaml,
            &format!("{}: books/accounts.{ext}", keys.0),
            &format!("{}: books/holdings.{ext}", keys.1),
        );
        let got = run_json(&yaml);
        assert_eq!(got.code, 0, "{to}: {}", got.stderr);
        assert_eq!(
            got.stdout, want.stdout,
            "{to}: the report differs from the CSV book's"
        );
    }
}

fn write(path: &Path, format: BookFormat, t: TableColumns<'_>) {
    let f = std::fs::File::create(path).expect("create");
    write_table(f, format, t).expect("encode");
}

fn accounts(names: [&'static str; 3], cash: Vec<f64>) -> TableColumns<'static> {
    let n = cash.len();
    TableColumns {
        names,
        text0: (1..=n).map(|i| format!("a{i}")).collect(),
        second: Column::Numbers(cash),
        third: vec![100.0; n],
    }
}

fn holdings(accounts: &[&str]) -> TableColumns<'static> {
    TableColumns {
        names: ["account", "asset", "shares"],
        text0: accounts.iter().map(|s| (*s).to_string()).collect(),
        second: Column::Text(vec!["NVDA".to_string(); accounts.len()]),
        third: vec![10.0; accounts.len()],
    }
}

/// A Parquet book whose tables are given; returns the run.
fn run_with(name: &str, acc: TableColumns<'_>, hold: TableColumns<'_>) -> crate::util::Run {
    let dir = scratch(name);
    let yaml = copy_example(&dir);
    write(&dir.join("books/a.parquet"), BookFormat::Parquet, acc);
    write(&dir.join("books/h.parquet"), BookFormat::Parquet, hold);
    repoint(
        &yaml,
        "accounts_parquet: books/a.parquet",
        "holdings_parquet: books/h.parquet",
    );
    let y = yaml.display().to_string();
    delever(["run", y.as_str()])
}

#[test]
fn a_bad_amount_is_told_by_file_row_and_column() {
    let run = run_with(
        "columnar-bad-amount",
        accounts(["account", "cash", "loan"], vec![1000.0, -5.0, f64::NAN]),
        holdings(&["a1", "a2", "a3"]),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let e = &run.stderr;
    assert!(e.contains("a.parquet"), "{e}");
    assert!(e.contains("accounts_parquet"), "{e}");
    assert!(
        e.contains("row 2 (account `a2`), column `cash`: expected a number ≥ 0"),
        "{e}"
    );
    assert!(
        e.contains("row 3 (account `a3`), column `cash`: expected a finite number"),
        "{e}"
    );
    assert!(run.stdout.is_empty(), "nothing written on bad input");
}

#[test]
fn a_missing_column_names_the_columns_there_are() {
    let run = run_with(
        "columnar-missing-column",
        accounts(["acount", "cash", "loan"], vec![1000.0]),
        holdings(&["a1"]),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let e = &run.stderr;
    assert!(
        e.contains("has no column `account`; its columns are `acount`, `cash`, `loan`"),
        "{e}"
    );
    assert!(e.contains("did you mean `acount`"), "{e}");
}

#[test]
fn holdings_out_of_order_or_of_unknown_accounts_are_refused() {
    let run = run_with(
        "columnar-order",
        accounts(["account", "cash", "loan"], vec![1000.0, 1000.0]),
        holdings(&["a2", "a1"]),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("row 2: the rows of account `a1` are out of order"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("accounts_parquet"), "{}", run.stderr);
    let run = run_with(
        "columnar-unknown",
        accounts(["account", "cash", "loan"], vec![1000.0]),
        holdings(&["a1", "zz"]),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("account `zz` is not in accounts_parquet"),
        "{}",
        run.stderr
    );
}

#[test]
fn not_a_parquet_file_says_so() {
    let dir = scratch("columnar-not-parquet");
    let yaml = copy_example(&dir);
    repoint(
        &yaml,
        "accounts_parquet: books/accounts.csv",
        "holdings_parquet: books/holdings.csv",
    );
    let y = yaml.display().to_string();
    let run = delever(["run", y.as_str()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read the file as Parquet"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("is this a Parquet file?"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_two_tables_must_come_once_each_and_in_one_format() {
    let dir = scratch("columnar-mixed");
    let yaml = copy_example(&dir);
    repoint(
        &yaml,
        "accounts_csv: books/accounts.csv",
        "holdings_parquet: books/holdings.parquet",
    );
    let y = yaml.display().to_string();
    let run = delever(["validate", y.as_str()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("holdings_parquet")
            && run
                .stderr
                .contains("the holdings table is Parquet but the accounts table is CSV"),
        "{}",
        run.stderr
    );
    let yaml = copy_example(&scratch("columnar-twice"));
    repoint(
        &yaml,
        "accounts_csv: books/accounts.csv\n    accounts_arrow: books/a.arrow",
        "holdings_csv: books/holdings.csv",
    );
    let y = yaml.display().to_string();
    let run = delever(["validate", y.as_str()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("the accounts table is given twice"),
        "{}",
        run.stderr
    );
    let yaml = copy_example(&scratch("columnar-none"));
    repoint(&yaml, "", "");
    let y = yaml.display().to_string();
    let run = delever(["validate", y.as_str()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("missing required key `accounts_csv`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("accounts_parquet"), "{}", run.stderr);
}

#[test]
fn convert_refuses_a_bad_csv_by_line_and_writes_nothing() {
    let dir = scratch("columnar-convert-bad");
    std::fs::write(dir.join("a.csv"), "account,cash,loan\na1,10,5\na2,ten,5\n").expect("w");
    std::fs::write(dir.join("h.csv"), "account,asset,shares\na1,X,1\n").expect("w");
    let (a, h) = (dir.join("a.csv"), dir.join("h.csv"));
    let run = delever([
        "convert",
        a.to_str().unwrap_or_default(),
        h.to_str().unwrap_or_default(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("a.csv:3:"), "{}", run.stderr);
    assert!(run.stderr.contains("column `cash`"), "{}", run.stderr);
    assert!(!dir.join("a.parquet").exists() && !dir.join("h.parquet").exists());
    // And a good pair is refused the second time, unless --force.
    std::fs::write(dir.join("a.csv"), "account,cash,loan\na1,10,5\n").expect("w");
    let ok = delever([
        "convert",
        a.to_str().unwrap_or_default(),
        h.to_str().unwrap_or_default(),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let again = delever([
        "convert",
        a.to_str().unwrap_or_default(),
        h.to_str().unwrap_or_default(),
    ]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("refusing to overwrite"),
        "{}",
        again.stderr
    );
}
