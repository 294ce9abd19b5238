//! The malformed-input corpus: one scenario per file under `tests/errors/` (CSV books
//! beside them in `tests/errors/books/`), each with the diagnostic it must produce.
//!
//! Every case is checked twice: through the library (`Scenario::load`, the diagnostics'
//! text) and through the real binary (`delever validate FILE`: exit code 2, nothing on
//! stdout, the same text on stderr). A 100 MB file of junk is generated at test time.
//! The corpus' valid counterpart, `tests/fixtures/full-example.yaml`, is checked here too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use delever_engine::{Shock, Status};
use delever_graph::{AssetIx, HolderIx, HolderKind, LenderIx};
use delever_scenario::{Bound, Scenario};

/// One malformed input: the file (under `tests/errors/`), where the diagnostic must point
/// (`FILE:LINE:COL: PATH: ` as printed, FILE relative to the repository root) and other
/// parts its message and hint must contain.
struct Case {
    file: &'static str,
    at: &'static str,
    parts: &'static [&'static str],
}

const fn case(file: &'static str, at: &'static str, parts: &'static [&'static str]) -> Case {
    Case { file, at, parts }
}

const E: &str = "tests/errors/";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Not YAML, or not a scenario at all.
    case("yaml_syntax.yaml", "yaml_syntax.yaml:5:108: ", &["YAML syntax error: did not find expected ',' or ']'", "hint: check the indentation"]),
    case("tab_indentation.yaml", "tab_indentation.yaml:11:1: ", &["YAML syntax error", "tab", "hint: check the indentation (spaces, not tabs)"]),
    case("empty.yaml", "empty.yaml:1:1: ", &["the file is empty", "hint: see docs/scenario-format.md"]),
    case("comments_only.yaml", "comments_only.yaml:1:1: ", &["the file is empty"]),
    case("binary_garbage.yaml", "binary_garbage.yaml:1:4: ", &["binary file (it contains a NUL byte)", "hint: a scenario is a UTF-8 YAML text file"]),
    case("not_utf8.yaml", "not_utf8.yaml:2:17: ", &["not UTF-8 text (invalid byte 0xe9)", "hint: save the scenario as UTF-8"]),
    case("top_level_scalar.yaml", "top_level_scalar.yaml:1:1: ", &["expected a mapping of scenario keys", "found the string", "hint: a scenario is a mapping"]),
    case("top_level_list.yaml", "top_level_list.yaml:1:1: ", &["expected a mapping of scenario keys", "found a list"]),
    case("multiple_documents.yaml", "multiple_documents.yaml:16:1: ", &["more than one YAML document", "hint: a scenario is one document"]),
    case("alias_bomb.yaml", "alias_bomb.yaml:8:45: a4: ", &["aliases expand this document", "alias bomb", "hint: write the values out"]),
    case("deep_nesting.yaml", "deep_nesting.yaml:4:72: assets[0]", &["nests deeper than 64 levels", "hint: a scenario needs only a few levels"]),
    // Wrong types.
    case("wrong_type_number.yaml", "wrong_type_number.yaml:6:23: assets[1].price: ", &["expected a number, found the string \"cheap\"", "hint: `price`: the price in USD per share"]),
    case("wrong_type_list.yaml", "wrong_type_list.yaml:10:3: holders: ", &["expected a list, found a mapping", "hint: `holders`: a list of mappings"]),
    case("wrong_type_bool.yaml", "wrong_type_bool.yaml:12:23: holders[0].starts_insolvent: ", &["expected true or false, found the string \"maybe\"", "hint:"]),
    case("wrong_type_count.yaml", "wrong_type_count.yaml:16:15: holders[1].accounts: ", &["expected a whole number ≥ 1, found the number 1.5", "hint: `accounts`"]),
    case("yaml_tag.yaml", "yaml_tag.yaml:6:23: assets[1].price: ", &["YAML tags are not accepted, found `!!str`", "hint: remove the tag"]),
    case("line_separator.yaml", "line_separator.yaml:3:33: ", &["a Unicode line separator (U+2028); YAML readers disagree on whether it ends a line", "hint: replace it with a newline"]),
    // Unknown and misplaced keys.
    case("unknown_key.yaml", "unknown_key.yaml:13:45: holders[0].margin.maintenence: ", &["unknown key `maintenence`; expected one of `lender`, `loan`, `maintenance`, `reset`", "hint: did you mean `maintenance`?"]),
    case("unknown_top_key.yaml", "unknown_top_key.yaml:14:1: shock: ", &["unknown key `shock`", "hint: did you mean `shocks`?"]),
    case("unknown_kind.yaml", "unknown_kind.yaml:11:11: holders[0].kind: ", &["unknown value `margin_acount` for `kind`", "`leveraged_etf`", "hint: did you mean `margin_account`?"]),
    case("unknown_law.yaml", "unknown_law.yaml:5:125: assets[0].impact.law: ", &["unknown value `sqrt` for `law`", "`square_root`", "hint: `law`: one of"]),
    case("misplaced_kind_key.yaml", "misplaced_kind_key.yaml:12:5: holders[0].nav: ", &["`nav` does not apply to holder kind `margin_account`; it belongs to leveraged_etf", "hint: remove `nav`, or change the holder kind"]),
    case("misplaced_shock_key.yaml", "misplaced_shock_key.yaml:15:48: shocks[0].usd: ", &["`usd` does not apply to shock type `asset`; it belongs to exogenous_sale", "hint: remove `usd`"]),
    case("missing_required.yaml", "missing_required.yaml:6:5: assets[1].price: ", &["missing required key `price`", "hint: `price`: the price in USD per share"]),
    case("missing_kind_key.yaml", "missing_kind_key.yaml:14:5: holders[1].ltv_buckets: ", &["missing required key `ltv_buckets` for a margin_cohort", "hint: e.g. `ltv_buckets:"]),
    case("duplicate_key.yaml", "duplicate_key.yaml:10:5: lenders[0].capital: ", &["duplicate key `capital` (first at line 9)", "hint: each key may appear once"]),
    case("shares_and_usd.yaml", "shares_and_usd.yaml:12:17: holders[0].holdings[0]: ", &["give `shares` or `usd`, not both", "hint: `usd` is converted to shares"]),
    case("cohort_with_loan.yaml", "cohort_with_loan.yaml:19:31: holders[1].margin.loan: ", &["a margin_cohort derives its loan", "hint: the loan is Σ ltv × share × holdings value"]),
    // Unknown ids.
    case("unknown_asset.yaml", "unknown_asset.yaml:12:26: holders[0].holdings[0].asset: ", &["unknown asset `NVDX`", "hint: did you mean `NVDA`?"]),
    case("unknown_lender.yaml", "unknown_lender.yaml:13:23: holders[0].margin.lender: ", &["unknown lender `brokr`", "hint: did you mean `broker`?"]),
    case("unknown_creditor.yaml", "unknown_creditor.yaml:14:25: holders[0].owes[0].creditor: ", &["unknown holder or lender `brocker`", "hint: did you mean `broker`?"]),
    case("unknown_source.yaml", "unknown_source.yaml:7:118: assets[0].source: ", &["unknown source `finra`", "hint: did you mean `finra-2025`?"]),
    case("unknown_tag.yaml", "unknown_tag.yaml:15:23: shocks[0].tag: ", &["no asset has the tag `semi`", "hint: did you mean `semis`?"]),
    case("unknown_shock_holder.yaml", "unknown_shock_holder.yaml:19:33: shocks[1].holder: ", &["unknown holder `fnd`", "hint: did you mean `fund`?"]),
    case("wrong_kind_reference.yaml", "wrong_kind_reference.yaml:13:23: holders[0].margin.lender: ", &["`acct` is a holder (holders[0]), expected a lender", "hint: known lenders: `broker`"]),
    case("duplicate_id.yaml", "duplicate_id.yaml:6:11: assets[1].id: ", &["duplicate id `NVDA`: already used by an asset (assets[0])", "hint: every asset, holder and lender needs its own id"]),
    case("expect_unknown_holder.yaml", "expect_unknown_holder.yaml:18:5: expect.holders.acc: ", &["unknown holder `acc`", "hint: did you mean `acct`?"]),
    case("expect_unknown_total.yaml", "expect_unknown_total.yaml:18:5: expect.totals.amplificaton: ", &["unknown key `amplificaton`", "hint: did you mean `amplification`?"]),
    // Numbers: non-finite, negative, out of range, sums.
    case("nan.yaml", "nan.yaml:6:23: assets[1].price: ", &["expected a finite number, found .nan", "hint: numbers must be finite"]),
    case("infinity.yaml", "infinity.yaml:13:37: holders[0].margin.loan: ", &["expected a finite number, found .inf"]),
    case("negative_infinity.yaml", "negative_infinity.yaml:8:28: lenders[0].capital: ", &["expected a finite number, found -.inf"]),
    case("negative_value.yaml", "negative_value.yaml:12:11: holders[0].cash: ", &["must be a finite number ≥ 0, got -5000", "hint: it cannot be negative"]),
    case("negative_shares.yaml", "negative_shares.yaml:12:40: holders[0].holdings[0].shares: ", &["expected a number ≥ 0, got -1000", "hint: holdings are long positions"]),
    case("maintenance_above_one.yaml", "maintenance_above_one.yaml:13:58: holders[0].margin.maintenance: ", &["must be in (0, 1], got 1.3", "hint: maintenance is a fraction"]),
    case("reset_below_maintenance.yaml", "reset_below_maintenance.yaml:13:71: holders[0].margin.reset: ", &["must be in [maintenance, 1] = [0.3, 1], got 0.2", "hint: reset is the equity fraction"]),
    case("weights_not_summing.yaml", "weights_not_summing.yaml:18:13: holders[1].basket: ", &["basket weights must sum to 1, got 0.9", "hint: weights are fractions"]),
    case("ltv_shares_not_summing.yaml", "ltv_shares_not_summing.yaml:18:18: holders[1].ltv_buckets: ", &["bucket shares must sum to 1, got 0.8", "hint:"]),
    case("return_below_minus_one.yaml", "return_below_minus_one.yaml:15:41: shocks[0].return: ", &["a return cannot be below -1", "hint: returns are fractions"]),
    case("huge_return.yaml", "huge_return.yaml:15:41: shocks[0].return: ", &["must be at most 10, got 1e306", "hint: returns are fractions"]),
    case("huge_price.yaml", "huge_price.yaml:6:23: assets[1].price: ", &["must be in [1e-6, 1e9] USD per share, got 1e308", "hint: prices are limited"]),
    case("tiny_price_usd_holding.yaml", "tiny_price_usd_holding.yaml:6:23: assets[1].price: ", &[
        "must be in [1e-6, 1e9] USD per share, got 1e-300",
        "tiny_price_usd_holding.yaml:12:67: holders[0].holdings[1].usd: 50000 USD at the price of `AMD` (`assets[1].price`: 1e-300 USD per share) is 5e304 shares",
    ]),
    case("max_rounds_huge.yaml", "max_rounds_huge.yaml:16:23: engine.max_rounds: ", &["must be at most 1000000 rounds, got 18446744073709551615", "hint: a cascade that has not converged"]),
    case("mc_huge_vol.yaml", "mc_huge_vol.yaml:18:39: monte_carlo.assets[0].daily_vol: ", &["must be at most 1, got 1e300", "hint: a daily volatility is a fraction"]),
    case("engine_bad_damping.yaml", "engine_bad_damping.yaml:16:20: engine.damping: ", &["expected a number in (0, 1], got 2", "hint: 1 means no damping"]),
    case("expect_bad_bound.yaml", "expect_bad_bound.yaml:18:27: expect.totals.amplification.min: ", &["min (3) is above max (1.5)", "hint: swap them"]),
    case("starting_equity_negative.yaml", "starting_equity_negative.yaml:10:5: holders[0]: ", &["starting equity must be positive", "hint: check loans and liabilities"]),
    case("no_assets.yaml", "no_assets.yaml:1:1: assets: ", &["a scenario needs at least one asset", "hint: add `assets:"]),
    // Header fields.
    case("bad_date.yaml", "bad_date.yaml:3:8: as_of: ", &["expected an ISO date YYYY-MM-DD, got `2026-02-30`", "hint: e.g. `as_of: 2026-05-29`"]),
    case("name_mismatch.yaml", "name_mismatch.yaml:1:7: name: ", &["differs from the file's stem `name_mismatch`", "hint: set `name: name_mismatch`"]),
    case("empty_description.yaml", "empty_description.yaml:2:14: description: ", &["the description must not be empty", "hint:"]),
    // CSV books.
    case("missing_include.yaml", "missing_include.yaml:16:19: holders[1].accounts_csv: ", &["file not found: `tests/errors/books/missing.csv`", "hint: the path is relative to the scenario's directory"]),
    case("include_escapes.yaml", "include_escapes.yaml:16:19: holders[1].accounts_csv: ", &["`../fixtures/books/accounts.csv` leaves the scenario's directory", "hint: keep CSV books in the scenario's directory"]),
    case("include_absolute.yaml", "include_absolute.yaml:16:19: holders[1].accounts_csv: ", &["absolute path `/etc/passwd` refused", "hint: give the CSV's path relative"]),
    case("csv_bad_row.yaml", "books/bad_row_accounts.csv:3:4: holders[1].accounts_csv: ", &["row 2 (account `a2`), column `cash`: expected a number, found `lots`", "hint: `cash` is a USD amount"]),
    case("csv_bad_header.yaml", "books/bad_header_holdings.csv:1:1: holders[1].holdings_csv: ", &["unexpected header `acct,ticker,qty`; expected `account,asset,shares`", "hint: the first line must be"]),
    case("csv_unknown_asset.yaml", "books/unknown_asset_holdings.csv:3:4: holders[1].holdings_csv: ", &["row 2 (account `a2`), column `asset`: unknown asset `NVDX`", "hint: did you mean `NVDA`?"]),
    case("csv_out_of_order.yaml", "books/out_of_order_holdings.csv:3:1: holders[1].holdings_csv: ", &["row 2: the rows of account `a1` are out of order", "hint: holdings rows must be grouped by account"]),
    case("csv_duplicate_account.yaml", "books/duplicate_accounts.csv:5:1: holders[1].accounts_csv: ", &["account `a1` appears twice: rows 1 and 4 (lines 2 and 5)", "hint: each account id must be unique"]),
    case("csv_insolvent_accounts.yaml", "books/insolvent_accounts.csv:3:1: holders[1].accounts_csv: ", &["2 accounts start with equity ≤ 0 (holdings + cash − loan at pre-shock prices); rows 2 and 4 (lines 3 and 5)", "hint: set `starts_insolvent: true`"]),
    case("csv_huge_amount.yaml", "books/huge_amount_accounts.csv:3:4: holders[1].accounts_csv: ", &["row 2 (account `a2`), column `cash`: expected a number ≤ 1e15, found `1e300`", "hint: `cash` is a USD amount from 0 to 1e15"]),
    case("csv_ragged_row.yaml", "books/ragged_accounts.csv:3: holders[1].accounts_csv: ", &["this row has 2 fields, expected 3", "hint:"]),
    // Holder tables.
    case("table_bad_cell.yaml", "tables/bad_cell_holders.csv:3:38: holder_tables[0].holders_csv: ", &["row 2 (holder `hf-1`), column `rule_target`: expected a number, found `twenty`", "hint: `rule_target`: a leverage"]),
    case("table_unknown_column.yaml", "tables/unknown_column_holders.csv:1:19: holder_tables[0].holders_csv: ", &["unknown column `rule_targt` in a holders table", "hint: did you mean `rule_target`?"]),
    // Several semantic problems: all of them, sorted by line.
    case("many_problems.yaml", "many_problems.yaml:6:23: assets[1].price: ", &[
        "must be a finite number > 0, got -100",
        "many_problems.yaml:13:58: holders[0].margin.maintenance: must be in (0, 1], got 1.3",
        "many_problems.yaml:15:41: shocks[0].return: a return cannot be below -1",
    ]),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The library's rendering of a case (`Err`'s Display), loaded by its repository path.
fn library_text(file: &str) -> String {
    let rel = format!("{E}{file}");
    // Diagnostics name files as given; give paths relative to the root as the binary
    // test does, by loading from the root.
    let path = root().join(&rel);
    match Scenario::load(&path) {
        Ok(_) => panic!("{rel} loaded, but it is malformed"),
        Err(e) => e.to_string().replace(&format!("{}/", root().display()), ""),
    }
}

fn assert_case(c: &Case, text: &str, how: &str) {
    let at = format!("{E}{}", c.at);
    assert!(
        text.starts_with(&at),
        "{how} {}: expected the first diagnostic at `{at}`, got:\n{text}",
        c.file
    );
    for part in c.parts {
        assert!(
            text.contains(part),
            "{how} {}: missing `{part}` in:\n{text}",
            c.file
        );
    }
}

#[test]
fn corpus_is_complete() {
    let mut on_disk: Vec<String> = std::fs::read_dir(root().join(E))
        .expect("tests/errors exists")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "yaml"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.file.to_owned()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every file under tests/errors has a case, and vice versa"
    );
    assert!(CASES.len() >= 40, "{} cases", CASES.len());
}

#[test]
fn library_reports_each_case() {
    for c in CASES {
        let text = library_text(c.file);
        assert_case(c, &text, "library");
    }
}

#[test]
fn every_diagnostic_has_a_location_and_a_hint() {
    for c in CASES {
        let err = Scenario::load(&root().join(E).join(c.file)).expect_err(c.file);
        for d in &err.diagnostics {
            assert!(d.line.is_some(), "{}: no line in {d}", c.file);
            assert!(d.hint.is_some(), "{}: no hint in {d}", c.file);
        }
    }
}

fn validate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_delever"))
        .arg("validate")
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .output()
        .expect("the delever binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn binary_exits_2_with_the_diagnostic_on_stderr() {
    for c in CASES {
        let (code, stdout, stderr) = validate(&[&format!("{E}{}", c.file)]);
        assert_eq!(code, 2, "{}: exit code (stderr: {stderr})", c.file);
        assert!(
            stdout.is_empty(),
            "{}: stdout must be empty, got {stdout:?}",
            c.file
        );
        let from = stderr.find(E).unwrap_or(0);
        assert_case(c, stderr.get(from..).unwrap_or_default(), "binary");
    }
}

/// A 100 MB file of junk, generated at test time (not committed).
fn junk_file() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-errors");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("junk.yaml");
    let want = 100 * 1024 * 1024;
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(want) {
        let line = b"junk: [this is not, a scenario] # 0123456789abcdefghijklmnopqrstuvwxyz\n";
        let mut chunk = Vec::with_capacity(1 << 20);
        while chunk.len() + line.len() <= 1 << 20 {
            chunk.extend_from_slice(line);
        }
        chunk.resize(1 << 20, b'#');
        let mut data = Vec::with_capacity(usize::try_from(want).expect("fits"));
        for _ in 0..100 {
            data.extend_from_slice(&chunk);
        }
        std::fs::write(&path, data).expect("write junk");
    }
    path
}

#[test]
fn a_100_mb_file_is_refused_before_reading() {
    let path = junk_file();
    let t = Instant::now();
    let err = Scenario::load(&path).expect_err("too large");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.contains("the file is 100.0 MiB; scenario files are limited to 64 MiB"),
        "{text}"
    );
    assert!(
        text.contains("hint: put large account books in CSV files"),
        "{text}"
    );

    let (code, stdout, stderr) = validate(&[&path.display().to_string()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("limited to 64 MiB"), "{stderr}");
}

#[test]
fn the_alias_bomb_fails_fast() {
    let t = Instant::now();
    let err = Scenario::load(&root().join(E).join("alias_bomb.yaml")).expect_err("bomb");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert!(err.to_string().contains("alias bomb"));
}

#[test]
#[allow(clippy::too_many_lines)] // checks the fixture field by field
fn valid_fixture_builds_the_network() {
    let path = root().join("tests/fixtures/full-example.yaml");
    let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "full-example");
    assert_eq!(s.path.as_deref(), Some(path.as_path()));
    assert_eq!(s.sources.len(), 2);
    assert_eq!(s.assumptions.len(), 1);
    let net = &s.network;
    assert_eq!(
        (net.assets().len(), net.holders().len(), net.lenders().len()),
        (4, 11, 2)
    );
    let kinds: Vec<&str> = net.holders().iter().map(|h| h.kind.tag().name()).collect();
    assert_eq!(
        kinds,
        [
            "margin_account",
            "margin_cohort",
            "account_book",
            "leveraged_etf",
            "leveraged_fund",
            "bank",
            "bank",
            "fund",
            "options_dealer",
            "vol_target",
            "trend_follower"
        ]
    );

    // The cohort's loan is derived: Σ ltv·share = 0.05 + 0.12 + 0.10 = 0.27 of $10B.
    let cohort = net.find_holder("retail-cohort").expect("cohort");
    let loan = net.margin(cohort).expect("margin").terms.loan;
    assert!((loan - 2.7e9).abs() < 1.0, "{loan}");
    assert_eq!(net.margin(cohort).expect("margin").lender, LenderIx(0));

    // The account book: 5 accounts, 6 holdings rows, loan = Σ loan column.
    let book_ix = net.find_holder("retail-book").expect("book");
    let HolderKind::AccountBook { book, cure_rate } = &net.holder(book_ix).kind else {
        panic!("not a book");
    };
    assert_eq!(*cure_rate, 0.1, "defaults.cure_rate applies");
    assert_eq!((book.len(), book.holdings()), (5, 6));
    assert_eq!(book.row_ptr, vec![0, 1, 3, 3, 4, 6]);
    assert_eq!(
        book.row(4).collect::<Vec<_>>(),
        vec![(AssetIx(0), 200.0), (AssetIx(2), 10.0)]
    );
    assert_eq!(net.margin(book_ix).expect("margin").terms.loan, 56_000.0);

    // Every shock type, resolved to indices.
    assert_eq!(
        s.shocks,
        vec![
            Shock::AssetReturn {
                asset: AssetIx(0),
                ret: -0.05
            },
            Shock::TagReturn {
                tag: "memory".into(),
                ret: -0.03
            },
            Shock::Market {
                ret: -0.02,
                tag: Some("semis".into())
            },
            Shock::DiscountRate {
                delta: 0.002,
                tag: Some("ai".into())
            },
            Shock::ExogenousSale {
                asset: AssetIx(2),
                usd: 1.0e9
            },
            Shock::MarginTightening {
                lender: Some(LenderIx(0)),
                by: 0.02
            },
            Shock::MarginTightening {
                lender: None,
                by: 0.01
            },
            Shock::Redemption {
                holder: HolderIx(7),
                fraction: 0.05
            },
            Shock::Redemption {
                holder: HolderIx(3),
                fraction: 0.02
            },
        ]
    );
    assert_eq!(
        (s.engine.max_rounds, s.engine.least_fixed_point),
        (500, false)
    );

    let e = s.expect.expect("expect block");
    assert_eq!(
        e.totals.iter().map(|x| x.key).collect::<Vec<_>>(),
        ["total_loss_usd", "amplification", "defaults"]
    );
    assert_eq!(e.assets[0].asset, AssetIx(0));
    assert_eq!(e.assets[0].checks[0].key, "price_after");
    assert_eq!(
        e.assets[0].checks[0].bound,
        Bound::Range {
            min: None,
            max: Some(200.0)
        }
    );
    let acct = e.holders.iter().find(|h| h.id == "acct-1").expect("acct-1");
    assert_eq!(
        acct.status,
        vec![Status::Unaffected, Status::Sold, Status::MarginCall]
    );

    let (code, stdout, stderr) = validate(&["tests/fixtures/full-example.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("full-example"), "{stdout}");
}
