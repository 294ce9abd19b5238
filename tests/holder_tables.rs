//! Holder tables (`holder_tables:`): banks, funds, leveraged funds and margin accounts read
//! from CSV or Parquet tables give the report the same holders written in YAML give, and
//! every problem with a table holder is told by file, line and column (CSV) or row and
//! column name (Parquet), with the field, what was expected and a hint; exit code 2.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;

use crate::util::{Run, delever, root, scratch};

const FIXTURE: &str = "tests/fixtures/holder-tables";

fn run_json(yaml: &Path) -> Run {
    let y = yaml.display().to_string();
    delever(["-q", "run", y.as_str(), "--format", "json"])
}

/// The table version of cont-schaanning-threshold, in `dir`, under the YAML version's
/// name (so that the two reports can be compared byte for byte).
fn table_version(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("tables")).expect("mkdir");
    for f in ["banks.csv", "holdings.csv"] {
        std::fs::copy(
            root().join(FIXTURE).join("tables").join(f),
            dir.join("tables").join(f),
        )
        .expect("copy table");
    }
    let text = std::fs::read_to_string(root().join(FIXTURE).join("cont-schaanning-tables.yaml"))
        .expect("read fixture")
        .replacen(
            "name: cont-schaanning-tables",
            "name: cont-schaanning-threshold",
            1,
        );
    let yaml = dir.join("cont-schaanning-threshold.yaml");
    std::fs::write(&yaml, text).expect("write");
    yaml
}

#[test]
fn csv_holders_give_the_yaml_holders_report_byte_for_byte() {
    let want = run_json(&root().join("scenarios/cont-schaanning-threshold.yaml"));
    assert_eq!(want.code, 0, "{}", want.stderr);
    let yaml = table_version(&scratch("holder-tables-csv"));
    let got = run_json(&yaml);
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert_eq!(
        got.stdout, want.stdout,
        "the report differs from the YAML holders'"
    );
    // The shipped example itself passes its expectations.
    let check = delever([
        "-q",
        "check",
        &format!("{FIXTURE}/cont-schaanning-tables.yaml"),
    ]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

/// A Parquet file of these columns.
fn parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).expect("batch");
    let file = std::fs::File::create(path).expect("create");
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    w.write(&batch).expect("write");
    w.close().expect("close");
}

fn text(v: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

/// The fixture's two CSV tables as Parquet (numbers as floats and integers, text as
/// strings, the empty `shares` column as nulls).
fn parquet_tables(dir: &Path, rule_max: ArrayRef) {
    let banks = ["bank-a", "bank-b", "bank-c", "bank-d", "bank-e", "bank-f"];
    parquet(
        &dir.join("tables/banks.parquet"),
        vec![
            ("id", text(&banks)),
            ("kind", text(&["bank"; 6])),
            ("rule", text(&["threshold"; 6])),
            ("rule_max", rule_max),
            ("rule_target", Arc::new(Float64Array::from(vec![31.35; 6]))),
            ("cash_use", text(&["never"; 6])),
            (
                "other_assets",
                Arc::new(Float64Array::from(vec![
                    1.08e12, 7.95e11, 6.48e11, 4.0e11, 2.6e11, 1.59e11,
                ])),
            ),
            (
                "other_liabilities",
                Arc::new(Float64Array::from(vec![
                    1.92e12, 1.435e12, 1.155e12, 7.6e11, 4.83e11, 2.85e11,
                ])),
            ),
        ],
    );
    let csv = std::fs::read_to_string(dir.join("tables/holdings.csv")).expect("read");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let col = |i: usize| -> Vec<&str> { rows.iter().map(|r| r[i]).collect() };
    let usd: Vec<f64> = col(3)
        .iter()
        .map(|v| v.parse().expect("a number"))
        .collect();
    parquet(
        &dir.join("tables/holdings.parquet"),
        vec![
            ("holder", text(&col(0))),
            ("asset", text(&col(1))),
            (
                "shares",
                Arc::new(Float64Array::from(vec![None; usd.len()])),
            ),
            ("usd", Arc::new(Float64Array::from(usd))),
        ],
    );
}

fn to_parquet(yaml: &Path) {
    let text = std::fs::read_to_string(yaml).expect("read").replace(
        "{ holders_csv: tables/banks.csv, holdings_csv: tables/holdings.csv }",
        "{ holders_parquet: tables/banks.parquet, holdings_parquet: tables/holdings.parquet }",
    );
    std::fs::write(yaml, text).expect("write");
}

#[test]
fn parquet_holders_give_the_yaml_holders_report_byte_for_byte() {
    let want = run_json(&root().join("scenarios/cont-schaanning-threshold.yaml"));
    assert_eq!(want.code, 0, "{}", want.stderr);
    let dir = scratch("holder-tables-parquet");
    let yaml = table_version(&dir);
    parquet_tables(&dir, Arc::new(Int64Array::from(vec![33; 6])));
    to_parquet(&yaml);
    // The CSVs go, so the run can only have read the Parquet tables.
    std::fs::remove_file(dir.join("tables/banks.csv")).expect("rm");
    std::fs::remove_file(dir.join("tables/holdings.csv")).expect("rm");
    let got = run_json(&yaml);
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert_eq!(
        got.stdout, want.stdout,
        "the report differs from the YAML holders'"
    );
}

#[test]
fn a_bad_parquet_cell_is_told_by_row_and_column_name() {
    let dir = scratch("holder-tables-parquet-bad");
    let yaml = table_version(&dir);
    let mut max = vec![Some(33.0); 6];
    max[2] = Some(-4.0);
    max[4] = None;
    parquet_tables(&dir, Arc::new(Float64Array::from(max)));
    to_parquet(&yaml);
    let run = validate(&yaml);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let d = dir.display().to_string();
    assert_eq!(
        run.stderr.replace(&d, "DIR"),
        "DIR/tables/banks.parquet: holder_tables[0].holders_parquet: row 5 (holder `bank-e`), column `rule_max`: a threshold rule needs `rule_max`, and the cell is empty\n  \
         hint: the leverage that triggers selling, e.g. `max: 33` (a 3% leverage ratio)\n\
         DIR/tables/banks.parquet: holder_tables[0].holders_parquet: row 3 (holder `bank-c`), column `rule_max`: must be greater than target (31.35), got -4\n  \
         hint: Cont–Schaanning: act above λ_max, return to λ_b = 0.95·λ_max\n\
         DIR/tables/banks.parquet: holder_tables[0].holders_parquet: row 5 (holder `bank-e`), column `rule_max`: must be greater than target (31.35), got 2\n  \
         hint: Cont–Schaanning: act above λ_max, return to λ_b = 0.95·λ_max\n"
    );
}

fn validate(yaml: &Path) -> Run {
    let y = yaml.display().to_string();
    delever(["validate", y.as_str()])
}

/// A small scenario whose holders come from `holders` and `holdings` (CSV text); returns
/// `delever validate`'s run, with the scratch directory written `DIR` in its stderr.
fn small(name: &str, holders: &str, holdings: &str) -> Run {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("t")).expect("mkdir");
    std::fs::write(dir.join("t/holders.csv"), holders).expect("write");
    std::fs::write(dir.join("t/holdings.csv"), holdings).expect("write");
    let yaml = dir.join("small.yaml");
    std::fs::write(
        &yaml,
        "name: small\n\
         description: holder tables\n\
         as_of: 2026-01-02\n\
         assets:\n  \
           - { id: NVDA, price: 100, shares_outstanding: 1.0e+9, adv_usd: 1.0e+9, daily_vol: 0.02 }\n  \
           - { id: AMD, price: 50, shares_outstanding: 1.0e+9, adv_usd: 1.0e+9, daily_vol: 0.02 }\n\
         lenders:\n  \
           - { id: pb, capital: 1.0e+10 }\n\
         holders:\n  \
           - { id: yaml-fund, kind: fund, cash: 1.0e+6, holdings: [ { asset: NVDA, shares: 1000 } ] }\n\
         holder_tables:\n  \
           - { holders_csv: t/holders.csv, holdings_csv: t/holdings.csv }\n\
         shocks:\n  \
           - { type: asset, asset: NVDA, return: -0.2 }\n",
    )
    .expect("write");
    let mut run = validate(&yaml);
    run.stderr = run.stderr.replace(&dir.display().to_string(), "DIR");
    run
}

const HOLDERS: &str = "id,kind,cash,other_liabilities,rule,rule_target,lender,loan,maintenance\n\
                       b1,bank,1.0e+6,2.0e+6,leverage_target,3,,,\n\
                       hf,leveraged_fund,5.0e+5,,leverage_target,2,pb,1.0e+6,0.3\n\
                       f1,fund,1.0e+5,,,,,,\n\
                       m1,margin_account,1000,,,,pb,5000,0.25\n";

const HOLDINGS: &str = "holder,asset,shares,usd\n\
                        b1,NVDA,,3.0e+6\n\
                        hf,AMD,,2.0e+6\n\
                        hf,NVDA,1000,\n\
                        f1,AMD,100,\n\
                        m1,NVDA,100,\n";

#[test]
fn a_good_table_validates() {
    let run = small("holder-tables-good", HOLDERS, HOLDINGS);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// `delever validate`'s stderr for the small scenario with one line of a table replaced.
fn bad(name: &str, holders: &str, holdings: &str) -> String {
    let run = small(name, holders, holdings);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout on bad input");
    run.stderr
}

#[test]
fn a_bad_number_is_told_by_line_and_column() {
    let h = HOLDERS.replace("f1,fund,1.0e+5", "f1,fund,lots");
    assert_eq!(
        bad("holder-tables-bad-number", &h, HOLDINGS),
        "DIR/t/holders.csv:4:9: holder_tables[0].holders_csv: row 3 (holder `f1`), column `cash`: expected a number, found `lots`\n  \
         hint: `cash`: an amount in USD, a plain number such as `5.0e8` (no `$`, no `B`)\n"
    );
}

#[test]
fn an_unknown_kind_and_a_kind_tables_do_not_hold_are_refused() {
    let h = HOLDERS
        .replace("f1,fund,", "f1,fnud,")
        .replace("b1,bank,", "b1,margin_cohort,");
    assert_eq!(
        bad("holder-tables-kind", &h, HOLDINGS),
        "DIR/t/holders.csv:2:4: holder_tables[0].holders_csv: row 1 (holder `b1`), column `kind`: a `margin_cohort` cannot come from a holder table; tables hold banks, funds, leveraged funds and margin accounts\n  \
         hint: write the `margin_cohort` in the scenario's `holders:` list\n\
         DIR/t/holders.csv:4:4: holder_tables[0].holders_csv: row 3 (holder `f1`), column `kind`: unknown value `fnud` for `kind`; expected one of `margin_account`, `margin_cohort`, `account_book`, `leveraged_etf`, `leveraged_fund`, `bank`, `fund`, `options_dealer`, `vol_target`, `trend_follower`\n  \
         hint: did you mean `fund`?\n"
    );
}

#[test]
fn an_unknown_column_gets_a_did_you_mean() {
    let h = HOLDERS.replace("id,kind,cash,", "id,kind,cahs,");
    assert_eq!(
        bad("holder-tables-column", &h, HOLDINGS),
        "DIR/t/holders.csv:1:9: holder_tables[0].holders_csv: unknown column `cahs` in a holders table\n  \
         hint: did you mean `cash`?\n"
    );
}

#[test]
fn a_duplicate_id_names_the_first_row() {
    let h = HOLDERS.replace("f1,fund,", "hf,fund,");
    let h = h.replace("m1,margin_account", "yaml-fund,margin_account");
    assert_eq!(
        bad("holder-tables-duplicate", &h, "holder,asset,shares,usd\n"),
        "DIR/t/holders.csv:4:1: holder_tables[0].holders_csv: row 3 (holder `hf`), column `id`: duplicate id `hf`: already used by a holder (`DIR/t/holders.csv` row 2)\n  \
         hint: every asset, holder and lender needs its own id\n\
         DIR/t/holders.csv:5:1: holder_tables[0].holders_csv: row 4 (holder `yaml-fund`), column `id`: duplicate id `yaml-fund`: already used by a holder (holders[0])\n  \
         hint: every asset, holder and lender needs its own id\n"
    );
}

#[test]
fn an_unknown_asset_is_told_in_the_holdings_table() {
    let hd = HOLDINGS.replace("f1,AMD,", "f1,AMDD,");
    assert_eq!(
        bad("holder-tables-asset", HOLDERS, &hd),
        "DIR/t/holdings.csv:5:4: holder_tables[0].holdings_csv: row 4 (holder `f1`), column `asset`: unknown asset `AMDD`\n  \
         hint: did you mean `AMD`?\n"
    );
}

#[test]
fn crlf_files_and_quoted_fields_keep_editor_lines_and_columns() {
    let h = "\u{feff}id,kind,cash,rule,rule_target\r\n\
             \"b1\",bank,\"1,5\",leverage_target,3\r\n\
             \"b\"\"2\",\"bank\",\"2 million\",leverage_target,\"3\"\r\n";
    assert_eq!(
        bad("holder-tables-crlf", h, "holder,asset,shares,usd\r\n"),
        "DIR/t/holders.csv:2:11: holder_tables[0].holders_csv: row 1 (holder `b1`), column `cash`: expected a number, found `1,5`\n  \
         hint: `cash`: an amount in USD, a plain number such as `5.0e8` (no `$`, no `B`)\n\
         DIR/t/holders.csv:3:15: holder_tables[0].holders_csv: row 2 (holder `b\"2`), column `cash`: expected a number, found `2 million`\n  \
         hint: `cash`: an amount in USD, a plain number such as `5.0e8` (no `$`, no `B`)\n"
    );
}

#[test]
fn a_bank_without_a_rule_is_told_at_its_rule_cell() {
    let h = HOLDERS.replace(
        "b1,bank,1.0e+6,2.0e+6,leverage_target,3",
        "b1,bank,1.0e+6,2.0e+6,,",
    );
    assert_eq!(
        bad("holder-tables-rule", &h, HOLDINGS),
        "DIR/t/holders.csv:2:23: holder_tables[0].holders_csv: row 1 (holder `b1`), column `rule`: a bank needs a deleveraging rule, and `rule` is empty\n  \
         hint: write the rule's type in `rule` (leverage_target, threshold, fail_liquidate, capital_ratio, passive) and its parameters in `rule_target`, `rule_max`, `rule_min_ratio` or `rule_symmetric`\n"
    );
}

#[test]
fn a_value_out_of_range_is_told_at_its_cell() {
    let h = HOLDERS.replace("pb,5000,0.25", "pb,5000,1.5");
    assert_eq!(
        bad("holder-tables-range", &h, HOLDINGS),
        "DIR/t/holders.csv:5:35: holder_tables[0].holders_csv: row 4 (holder `m1`), column `maintenance`: must be in (0, 1], got 1.5\n  \
         hint: maintenance is a fraction: FINRA's minimum is 0.25, brokers' house levels 0.30–0.50\n"
    );
}
