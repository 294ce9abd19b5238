use std::path::{Path, PathBuf};

use super::*;
use crate::{Scenario, ScenarioError};

/// A fresh directory for one test, removed at the end.
struct Dir(PathBuf);
impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("delever-tables-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        Dir(d)
    }
    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).expect("write");
    }
}
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const HEAD: &str = "name: t\ndescription: tables\nas_of: 2026-01-02\n\
    assets:\n  - { id: X, price: 10, shares_outstanding: 1.0e+9, adv_usd: 1.0e+8, daily_vol: 0.02 }\n\
    lenders:\n  - { id: pb, capital: 1.0e+9 }\n\
    shocks:\n  - { type: asset, asset: X, return: -0.3 }\n";

fn load(dir: &Path, rest: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_yaml(&format!("{HEAD}{rest}"), "t.yaml", Some(dir))
}

fn messages(e: &ScenarioError) -> Vec<String> {
    e.diagnostics.iter().map(ToString::to_string).collect()
}

#[test]
fn a_table_holder_builds_the_yaml_holder_s_network() {
    let d = Dir::new("same");
    d.write(
        "h.csv",
        "id,kind,cash,other_liabilities,rule,rule_max,rule_target,lender,loan,maintenance,reset\n\
         hf,leveraged_fund,100,,threshold,5,4,pb,600,0.3,0.4\n\
         f,fund,50,,,,,,,,\n",
    );
    d.write(
        "p.csv",
        "holder,asset,shares,usd\nhf,X,,1000\nf,X,7,\nhf,X,10,\n",
    );
    let tables = load(
        &d.0,
        "holder_tables:\n  - { holders_csv: h.csv, holdings_csv: p.csv }\n",
    )
    .expect("tables load");
    let yaml = load(
        &d.0,
        "holders:\n  - { id: hf, kind: leveraged_fund, cash: 100, rule: { type: threshold, max: 5, target: 4 }, \
         margin: { lender: pb, loan: 600, maintenance: 0.3, reset: 0.4 }, \
         holdings: [ { asset: X, usd: 1000 }, { asset: X, shares: 10 } ] }\n  \
         - { id: f, kind: fund, cash: 50, holdings: [ { asset: X, shares: 7 } ] }\n",
    )
    .expect("yaml loads");
    assert_eq!(
        format!("{:?}", tables.network),
        format!("{:?}", yaml.network)
    );
}

#[test]
fn columns_of_paths() {
    assert_eq!(column_of(""), "id");
    assert_eq!(column_of(".margin"), "lender");
    assert_eq!(column_of(".margin.maintenance"), "maintenance");
    assert_eq!(column_of(".rule"), "rule");
    assert_eq!(column_of(".rule.type"), "rule");
    assert_eq!(column_of(".rule.min_ratio"), "rule_min_ratio");
    assert_eq!(column_of(".redemption_beta"), "redemption_beta");
    assert_eq!(column_of(".owes[0].amount"), "id");
    assert_eq!(holder_index("holders[12].cash"), Some((12, ".cash")));
    assert_eq!(holder_index("assets[1].price"), None);
}

#[test]
fn a_margin_loan_without_maintenance_and_a_rule_parameter_without_a_rule_are_told() {
    let d = Dir::new("partial");
    d.write(
        "h.csv",
        "id,kind,lender,loan,rule_max\nm,margin_account,pb,100,\nb,bank,,,33\n",
    );
    let e = load(&d.0, "holder_tables:\n  - { holders_csv: h.csv }\n").expect_err("refused");
    let file = d.0.join("h.csv").display().to_string();
    assert_eq!(
        messages(&e),
        [
            format!(
                "{file}:2:1: holder_tables[0].holders_csv: row 1 (holder `m`), column `maintenance`: a margin loan needs a maintenance margin: `lender` is given but `maintenance` is empty\n  hint: fill `lender` (a lender's id), `loan` (USD) and `maintenance` (a fraction in (0, 1], e.g. 0.30), or leave all four margin columns empty"
            ),
            format!(
                "{file}:3:10: holder_tables[0].holders_csv: row 2 (holder `b`), column `rule_max`: `rule_max` is given but `rule` is empty\n  hint: write the rule's type in `rule` (leverage_target, threshold, fail_liquidate, capital_ratio, passive)"
            ),
        ]
    );
}

#[test]
fn the_keys_of_an_entry_are_checked() {
    let d = Dir::new("entry");
    d.write("h.csv", "id,kind\n");
    let e = load(
        &d.0,
        "holder_tables:\n  - { holders_csv: h.csv, holdings_parquet: p.parquet }\n  - { holdings_csv: h.csv }\n",
    )
    .expect_err("refused");
    let m = messages(&e);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(
        m[0].starts_with("t.yaml:11:27: holder_tables[0].holdings_parquet: `holdings_parquet` is Parquet but `holders_csv` is CSV"),
        "{m:?}"
    );
    assert!(
        m[1].starts_with("t.yaml:12:5: holder_tables[1]: a holder table needs a holders file"),
        "{m:?}"
    );
    // Text with no file has no directory for tables to be relative to.
    let e = Scenario::from_yaml(
        &format!("{HEAD}holder_tables:\n  - {{ holders_csv: h.csv }}\n"),
        "t.yaml",
        None,
    )
    .expect_err("refused");
    assert!(messages(&e)[0].contains("need a scenario file"), "{e}");
}

#[test]
fn a_directory_is_not_a_table() {
    let d = Dir::new("dir");
    std::fs::create_dir_all(d.0.join("sub")).expect("mkdir");
    let e = load(&d.0, "holder_tables:\n  - { holders_csv: sub }\n").expect_err("refused");
    assert!(messages(&e)[0].contains("is not a file"), "{e}");
}

#[test]
fn holdings_of_a_holder_not_in_the_table_are_refused() {
    let d = Dir::new("holdings");
    d.write("h.csv", "id,kind,cash\nf1,fund,10\n");
    d.write("p.csv", "holder,asset,shares\ny,X,1\nf2,X,1\n,X,\n");
    let e = load(
        &d.0,
        "holders:\n  - { id: y, kind: fund, cash: 1 }\nholder_tables:\n  - { holders_csv: h.csv, holdings_csv: p.csv }\n",
    )
    .expect_err("refused");
    let m: Vec<String> = messages(&e)
        .iter()
        .map(|s| s.replace(&d.0.display().to_string(), "D"))
        .collect();
    assert_eq!(
        m,
        [
            "D/p.csv:2:1: holder_tables[0].holdings_csv: row 1 (holder `y`), column `holder`: holder `y` is in the scenario's `holders:` list, not in `D/h.csv`\n  hint: a holdings table holds the positions of its own table's holders; write this holder's in its `holdings:`",
            "D/p.csv:3:1: holder_tables[0].holdings_csv: row 2 (holder `f2`), column `holder`: no row of `D/h.csv` has the id `f2`\n  hint: known holders in this table: `f1`",
            "D/p.csv:4:1: holder_tables[0].holdings_csv: row 3, column `holder`: expected a holder id, found an empty field\n  hint: `holder`: a holder's id",
            "D/p.csv:4:4: holder_tables[0].holdings_csv: row 3, column `shares`: the row gives neither `shares` nor `usd`\n  hint: write the position in `shares` (a number of shares) or in `usd` (its value at the asset's price)",
        ]
    );
}

/// An Arrow IPC file of these columns.
fn arrow_file(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>) {
    let batch = arrow_array::RecordBatch::try_from_iter(columns).expect("batch");
    let file = std::fs::File::create(path).expect("create");
    let mut w = arrow_ipc::writer::FileWriter::try_new(file, &batch.schema()).expect("writer");
    w.write(&batch).expect("write");
    w.finish().expect("finish");
}

#[test]
fn arrow_tables_with_integer_ids_booleans_and_nulls_build_the_yaml_network() {
    use std::sync::Arc;

    use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};
    let d = Dir::new("arrow");
    arrow_file(
        &d.0.join("h.arrow"),
        vec![
            ("id", Arc::new(Int64Array::from(vec![1001, 1002]))),
            ("kind", Arc::new(StringArray::from(vec!["fund", "bank"]))),
            ("cash", Arc::new(Float64Array::from(vec![Some(50.0), None]))),
            (
                "starts_insolvent",
                Arc::new(BooleanArray::from(vec![Some(false), None])),
            ),
            (
                "rule",
                Arc::new(StringArray::from(vec![None, Some("passive")])),
            ),
        ],
    );
    arrow_file(
        &d.0.join("p.arrow"),
        vec![
            ("holder", Arc::new(Int64Array::from(vec![1001, 1002]))),
            ("asset", Arc::new(StringArray::from(vec!["X", "X"]))),
            (
                "shares",
                Arc::new(Float64Array::from(vec![Some(7.0), None])),
            ),
            ("usd", Arc::new(Float64Array::from(vec![None, Some(90.0)]))),
        ],
    );
    let tables = load(
        &d.0,
        "holder_tables:\n  - { holders_arrow: h.arrow, holdings_arrow: p.arrow }\n",
    )
    .expect("tables load");
    let yaml = load(
        &d.0,
        "holders:\n  - { id: \"1001\", kind: fund, cash: 50, starts_insolvent: false, holdings: [ { asset: X, shares: 7 } ] }\n  \
         - { id: \"1002\", kind: bank, rule: { type: passive }, holdings: [ { asset: X, usd: 90 } ] }\n",
    )
    .expect("yaml loads");
    assert_eq!(
        format!("{:?}", tables.network),
        format!("{:?}", yaml.network)
    );
}

/// Rows read on every core in chunks give the holders in row order, and a table with bad
/// rows in different chunks reports them as one reading from the first row does.
#[test]
fn rows_in_many_chunks_keep_their_order_and_their_problems_order() {
    use std::fmt::Write as _;
    let d = Dir::new("chunks");
    let n = 5_000;
    let mut rows = String::from("id,kind,cash,other_liabilities\n");
    for i in 0..n {
        let _ = writeln!(rows, "b{i},fund,{},0", i + 1);
    }
    d.write("h.csv", &rows);
    let s = load(&d.0, "holder_tables:\n  - { holders_csv: h.csv }\n").expect("clean table");
    let ids: Vec<&str> = s.network.holders().iter().map(|h| h.id.as_str()).collect();
    let want: Vec<String> = (0..n).map(|i| format!("b{i}")).collect();
    assert_eq!(ids, want);
    // Bad cells in the first chunk, in a late chunk and in between, and more bad rows
    // than are listed: the first ten in row order, then a count.
    let mut bad = String::from("id,kind,cash,other_liabilities\n");
    for i in 0..n {
        let cash = if i == 4_500 || i == 7 || (3_000..3_012).contains(&i) {
            "lots".to_owned()
        } else {
            (i + 1).to_string()
        };
        let _ = writeln!(bad, "b{i},fund,{cash},0");
    }
    d.write("h.csv", &bad);
    let e = load(&d.0, "holder_tables:\n  - { holders_csv: h.csv }\n").expect_err("bad cells");
    listed_then_counted(
        &e,
        &[
            "8", "3001", "3002", "3003", "3004", "3005", "3006", "3007", "3008", "3009",
        ],
        4,
    );
}

/// The rows the messages of `e` name are `rows`, in order, and the others are counted
/// (`… and {more} more bad rows`).
fn listed_then_counted(e: &ScenarioError, rows: &[&str], more: usize) {
    let m = messages(e);
    let named: Vec<&str> = m
        .iter()
        .filter_map(|x| x.split("row ").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(named, rows, "{m:#?}");
    let count = format!("and {more} more bad rows");
    assert!(m.iter().any(|x| x.contains(&count)), "{m:#?}");
}

/// Blank lines are no holders, anywhere in a table (first, between the parallel reader's
/// chunks, last) and in a second table: the holders keep their order, and a problem the
/// conversion finds is placed at its row of the right file.
#[test]
fn blank_rows_are_no_holders_and_rows_keep_their_numbers() {
    use std::fmt::Write as _;
    let d = Dir::new("blank");
    let (n, blank) = (3_000, [0, 1_023, 1_024, 2_500]);
    let table = |name: &str, negative: Option<usize>| {
        let mut t = String::from("id,kind,cash,other_liabilities\n");
        for i in 0..n {
            if blank.contains(&i) {
                t.push_str(",,,\n");
            }
            let cash = if Some(i) == negative { -5 } else { 1 };
            let _ = writeln!(t, "{name}{i},fund,{cash},0");
        }
        t.push_str(",,,\n");
        t
    };
    d.write("a.csv", &table("a", None));
    d.write("b.csv", &table("b", None));
    let yaml = "holder_tables:\n  - { holders_csv: a.csv }\n  - { holders_csv: b.csv }\n";
    let s = load(&d.0, yaml).expect("tables with blank lines");
    let ids: Vec<&str> = s.network.holders().iter().map(|h| h.id.as_str()).collect();
    let want: Vec<String> = ["a", "b"]
        .iter()
        .flat_map(|t| (0..n).map(move |i| format!("{t}{i}")))
        .collect();
    assert_eq!(ids, want);
    // Holder b2600 is on data row 2600 + 1 + the 4 blank lines before it.
    d.write("b.csv", &table("b", Some(2_600)));
    let e = load(&d.0, yaml).expect_err("negative cash");
    let m = messages(&e);
    assert!(
        m.len() == 1 && m[0].contains("b.csv") && m[0].contains("row 2605 (holder `b2600`)"),
        "{m:#?}"
    );
}

/// A holdings table read on every core in chunks: each holder's holdings in row order
/// (its rows far apart, blank lines between chunks), as the YAML holders with the same
/// holdings build; bad rows in several chunks reported as one reading from the first row.
#[test]
fn holdings_in_many_chunks_keep_row_order_and_their_problems_order() {
    use std::fmt::Write as _;
    let d = Dir::new("holdings-chunks");
    let n = 3_000;
    let mut holders = String::from("id,kind,cash\n");
    let mut yaml = String::from("holders:\n");
    for i in 0..n {
        let _ = writeln!(holders, "f{i},fund,1");
    }
    // Holder i's first row near the top (in reverse holder order), its second near the
    // bottom: a holder's rows are in different chunks of the parallel read.
    let first = |i: usize| n - 1 - i;
    let mut rows: Vec<String> = vec![String::new(); 2 * n];
    for i in 0..n {
        rows[first(i)] = format!("f{i},X,{},", i + 1);
        rows[n + i] = format!("f{i},X,,{}", 10 * (i + 7));
        let _ = writeln!(
            yaml,
            "  - {{ id: f{i}, kind: fund, cash: 1, holdings: [ {{ asset: X, shares: {} }}, {{ asset: X, usd: {} }} ] }}",
            i + 1,
            10 * (i + 7)
        );
    }
    let table = |bad: &[usize]| {
        let mut t = String::from("holder,asset,shares,usd\n");
        for (r, row) in rows.iter().enumerate() {
            if r == 1_024 || r == 4_000 {
                t.push_str(",,,\n");
            }
            if bad.contains(&r) {
                let _ = writeln!(t, "{},X,many,", row.split(',').next().unwrap_or(""));
            } else {
                let _ = writeln!(t, "{row}");
            }
        }
        t
    };
    d.write("h.csv", &holders);
    d.write("p.csv", &table(&[]));
    let entry = "holder_tables:\n  - { holders_csv: h.csv, holdings_csv: p.csv }\n";
    let from_tables = load(&d.0, entry).expect("clean tables");
    let from_yaml = load(&d.0, &yaml).expect("yaml");
    assert_eq!(
        format!("{:?}", from_tables.network),
        format!("{:?}", from_yaml.network)
    );
    // The network keeps one position per asset; the holders' holdings, as read, are in
    // row order, with the rows they came from.
    let spec = crate::yaml::parse(&format!("{HEAD}{entry}")).expect("spec");
    let (specs, placed) =
        super::load(&spec, &Origin::new(Some(d.0.as_path()), None)).expect("tables");
    for i in [0, 1, n / 2, n - 1] {
        let got: Vec<(Option<f64>, Option<f64>)> = specs[i]
            .holdings
            .iter()
            .flatten()
            .map(|h| (h.shares.map(|x| x.0), h.usd.map(|x| x.0)))
            .collect();
        let want = vec![
            (Some((i + 1) as f64), None),
            (None, Some((10 * (i + 7)) as f64)),
        ];
        assert_eq!(got, want, "holder {i}");
        // Data rows, counting the blank lines after rows 1,024 and 4,000.
        let row = |r: usize| r + 1 + usize::from(r >= 1_024) + usize::from(r >= 4_000);
        let rows: Vec<usize> = placed.holders[i].holdings.iter().map(|&(_, r)| r).collect();
        assert_eq!(rows, [row(first(i)), row(n + i)], "holder {i}");
    }
    // Bad rows in the first chunk, in a late chunk and in between, more than are listed.
    let bad: Vec<usize> = [5, 5_500].into_iter().chain(2_000..2_012).collect();
    d.write("p.csv", &table(&bad));
    let e = load(&d.0, entry).expect_err("bad rows");
    // Data rows count the blank line after the 1,024th row.
    listed_then_counted(
        &e,
        &[
            "6", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2009", "2010",
        ],
        4,
    );
}

/// Holders converted on every core, in chunks: a problem in each of several chunks is
/// reported once, at its row, and the builder's own complaint about the same key is left
/// out for each (the chunks' findings are joined).
#[test]
fn conversion_problems_in_many_chunks_are_each_told_once() {
    use std::fmt::Write as _;
    let d = Dir::new("convert-chunks");
    let n = 10_000;
    // A margin account needs a margin loan: the conversion says so, and the builder's
    // "needs a margin link" is left out for it.
    let no_margin = [3, 2_100, 2_101, 7_000, 9_999];
    let mut t = String::from("id,kind,cash,lender,loan,maintenance\n");
    for i in 0..n {
        if no_margin.contains(&i) {
            let _ = writeln!(t, "a{i},margin_account,100,,,");
        } else {
            let _ = writeln!(t, "a{i},margin_account,100,pb,10,0.3");
        }
    }
    d.write("h.csv", &t);
    let e = load(&d.0, "holder_tables:\n  - { holders_csv: h.csv }\n").expect_err("no margin");
    let m = messages(&e);
    let want: Vec<String> = no_margin
        .iter()
        .map(|i| format!("row {} (holder `a{i}`), column `lender`", i + 1))
        .collect();
    assert_eq!(m.len(), want.len(), "{m:#?}");
    for (got, want) in m.iter().zip(&want) {
        assert!(got.contains(want.as_str()), "{got} does not name {want}");
    }
}

/// Short texts are kept in the cell, long ones on the heap; both read back as written,
/// and a cell is no larger than one holding a `String`.
#[test]
fn cell_texts_read_back_short_and_long() {
    use read::{Cell, Text};
    for s in [
        "",
        "b7",
        "threshold",
        "2.3255813953488374e+9",
        "exactly-twenty-two-by",
        "twenty-three-bytes-long",
        "ééééééééééé",
        "éééééééééééé",
        "a much longer holder id than any cell keeps inline",
    ] {
        let t = Text::new(s);
        assert_eq!(&*t, s);
        assert_eq!(t, Text::new(s));
        assert_eq!(matches!(t, Text::Short { .. }), s.len() <= 22, "{s}");
    }
    assert_ne!(Text::new("a"), Text::new("b"));
    assert!(std::mem::size_of::<Cell>() <= 32);
}

#[test]
fn a_column_is_found_by_name_as_a_scan_finds_it() {
    let names = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    let file = |columns: Vec<String>| {
        TableFile::new("t.csv".into(), "holder_tables[0]".into(), columns, None)
    };
    let t = file(names(&["id", "kind", "cash", "rule", "kind", ""]));
    for (name, want) in [
        ("id", Some(0)),
        ("kind", Some(1)),
        ("cash", Some(2)),
        ("rule", Some(3)),
        ("", Some(5)),
        ("loan", None),
        ("other_liabilities", None),
        ("a_name_longer_than_thirty_two_bytes", None),
    ] {
        assert_eq!(t.column(name), want, "{name}");
    }
    // Past 64 columns, and names of 32 bytes or more, are found by a scan.
    let mut many: Vec<String> = (0..70).map(|i| format!("c{i}")).collect();
    many.push("a_name_longer_than_thirty_two_bytes".into());
    let t = file(many);
    assert_eq!(t.column("c3"), Some(3));
    assert_eq!(t.column("c69"), Some(69));
    assert_eq!(t.column("a_name_longer_than_thirty_two_bytes"), Some(70));
    assert_eq!(t.column("c70"), None);
}
