//! Regression tests for what the fuzz targets (fuzz/, docs/reliability.md "Fuzzing")
//! found, each written so that it failed before its fix.

use delever_batch::shard::{self, ShardHeader};
use delever_report::batch::SweepRow;
use delever_scenario::{Scenario, Template};

use crate::util::{delever, scratch};

/// A scenario whose margin loan is written as `LOAN` and its round limit as `ROUNDS`
/// (plain scalars).
const WITH_LOAN: &str = "name: loan
description: A margin account whose loan is spelt in some way.
as_of: 2026-05-29
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }
lenders:
  - { id: broker, capital: 1.0e10 }
holders:
  - id: acct
    kind: margin_account
    holdings: [ { asset: NVDA, shares: 1000 } ]
    margin: { lender: broker, loan: LOAN, maintenance: 0.30 }
shocks:
  - { type: asset, asset: NVDA, return: -0.10 }
engine: { max_rounds: ROUNDS }
";

/// What a run of `s` gives, printed (`Debug` prints every f64 exactly).
fn outcome(s: &Scenario) -> String {
    format!(
        "{:?}",
        delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs")
    )
}

/// Found by `scenario_yaml` (70 s into its first long run): `loan: 099999` loaded (read as 99,999) for `run` and
/// `validate`, but a sweep's template read the same plain scalar as the string
/// "099999" and refused every instance ("the base scenario is valid; this instance …").
/// Whatever a number's spelling, the file and a sweep instance must read it alike:
/// both refuse it, or both read the same number; for a decimal field (`loan`) and a
/// whole-number one (`max_rounds`).
#[test]
fn a_number_reads_the_same_in_a_file_and_in_a_sweep_instance() {
    let spellings = [
        "099999",
        "0123",
        "-007",
        "00",
        "+0",
        "0x1F",
        "0o17",
        "+1",
        "1e5",
        "1E5",
        ".5",
        "5.",
        "1_000",
        "007.5",
        "100000000000000000000000",
        "-100000000000000000000000",
        "340282366920938463463374607431768211456",
        "100000",
        "010",
        "0x10",
    ];
    let texts = spellings.iter().flat_map(|s| {
        [
            (
                format!("loan: {s}"),
                WITH_LOAN.replace("LOAN", s).replace("ROUNDS", "100"),
            ),
            (
                format!("max_rounds: {s}"),
                WITH_LOAN.replace("LOAN", "100000").replace("ROUNDS", s),
            ),
        ]
    });
    for (spelling, text) in texts {
        let file = Scenario::from_yaml(&text, "loan.yaml", None);
        // What docs/scenario-format.md promises for a decimal field.
        let refused = ["099999", "0123", "1_000", "100000000000000000000000"];
        let read = ["0x1F", "0o17", "+1", ".5", "5."];
        if let Some(s) = spelling.strip_prefix("loan: ") {
            if refused.contains(&s) {
                assert!(file.is_err(), "`{spelling}` was read as a number");
            }
            if read.contains(&s) {
                assert!(file.is_ok(), "`{spelling}` was refused");
            }
        }
        let instance = Template::from_yaml(&text, "loan.yaml", None)
            .and_then(|t| t.instantiate(&[]))
            .map_err(|e| e.to_string());
        match (&file, &instance) {
            (Ok(a), Ok(b)) => assert_eq!(outcome(a), outcome(b), "`{spelling}`"),
            (Err(_), Err(_)) => {}
            _ => panic!(
                "`{spelling}`: the file gives {:?}, a sweep instance {:?}",
                file.as_ref()
                    .map(|_| "a scenario")
                    .map_err(ToString::to_string),
                instance.as_ref().map(|_| "a scenario")
            ),
        }
    }
}

/// The same through the binary: `validate` and `sweep` agree on `loan: 099999` (the
/// fuzzer's minimised input), and the refusal names the line, the field and the value.
#[test]
fn validate_and_sweep_agree_on_a_number_with_leading_zeros() {
    let dir = scratch("fuzz-leading-zeros");
    let path = dir.join("loan.yaml");
    std::fs::write(
        &path,
        WITH_LOAN.replace("LOAN", "099999").replace("ROUNDS", "100"),
    )
    .expect("write");
    let validate = delever([std::ffi::OsStr::new("validate"), path.as_os_str()]);
    let sweep = delever([
        std::ffi::OsStr::new("sweep"),
        path.as_os_str(),
        std::ffi::OsStr::new("--vary"),
        std::ffi::OsStr::new("shocks[0].return=-0.1,-0.2"),
    ]);
    assert_eq!(validate.code, 2, "{}", validate.stderr);
    assert_eq!(sweep.code, 2, "{}", sweep.stderr);
    for r in [&validate, &sweep] {
        assert!(
            r.stderr.contains("loan.yaml:12:37:")
                && r.stderr.contains("holders[0].margin.loan")
                && r.stderr.contains("\"099999\""),
            "{}",
            r.stderr
        );
    }
}

/// A sweep shard file with no rows whose header says `shard`/`shards` of `total`, its
/// checks right (they are FNV, which anyone can recompute: the reader must not trust
/// what they cover).
fn shard_file(shard: u64, shards: u64, total: u64) -> String {
    let header = ShardHeader {
        delever_shard: shard::FORMAT,
        command: "sweep".into(),
        delever_version: env!("CARGO_PKG_VERSION").into(),
        fingerprint: "0000000000000000".into(),
        shard,
        shards,
        total,
        scenario: "s".into(),
        description: String::new(),
        as_of: String::new(),
        assumptions: Vec::new(),
        sources: Vec::new(),
        parameters: Vec::new(),
        kinds: Vec::new(),
        seed: None,
        distribution: None,
        assets: Vec::new(),
        lenders: Vec::new(),
    };
    shard::write::<SweepRow>(&header, &[]).expect("a shard file")
}

/// `merge` of these files, in a thread given ten seconds: an error's text, or a panic's.
fn merge_in_time(files: Vec<(String, String)>) -> Result<String, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| {
            shard::merge::<SweepRow>(&files, |r| r.index).map(|m| m.rows.len())
        });
        let _ = tx.send(r);
    });
    match rx.recv_timeout(std::time::Duration::from_secs(10)) {
        Ok(Ok(Err(e))) => Ok(e.to_string()),
        Ok(Ok(Ok(rows))) => Err(format!("merged {rows} rows")),
        Ok(Err(_)) => Err("merge panicked".into()),
        Err(_) => Err("merge did not return within 10 s".into()),
    }
}

/// Found while writing the `shard_merge` target, and by it with its dictionary: a shard
/// header with `shards: 0` divided by zero, one with a huge `total` asked for a vector
/// that large (a capacity-overflow panic, or an allocation abort), one with a huge
/// `shards` listed the missing shards one by one for ever, and `shard` at `u64::MAX`
/// overflowed `K + 1`. Each is now an error naming the file and what is wrong.
#[test]
fn merge_refuses_impossible_shard_headers_without_panicking_or_hanging() {
    let one = |name: &str, text: String| vec![(name.to_owned(), text)];
    for (files, needle) in [
        (one("zero.jsonl", shard_file(0, 0, 0)), "zero.jsonl: line 1"),
        (one("k.jsonl", shard_file(3, 2, 4)), "k.jsonl: line 1"),
        (
            one("max.jsonl", shard_file(u64::MAX, 1, 4)),
            "max.jsonl: line 1",
        ),
        (
            one("total.jsonl", shard_file(0, 1, 999_999_999_999_999_999)),
            "should hold rows 0..999999999999999999",
        ),
        (
            one("shards.jsonl", shard_file(0, u64::MAX, 0)),
            "and 18446744073709551604 more missing",
        ),
    ] {
        match merge_in_time(files) {
            Ok(e) => assert!(e.contains(needle), "{needle}: {e}"),
            Err(e) => panic!("{needle}: {e}"),
        }
    }
}

/// The same through the binary: exit 2 with the file's name, not a panic (101).
#[test]
fn merge_of_a_shard_header_with_zero_shards_is_exit_2() {
    let dir = scratch("fuzz-zero-shards");
    let path = dir.join("zero.jsonl");
    std::fs::write(&path, shard_file(0, 0, 0)).expect("write");
    let r = delever([std::ffi::OsStr::new("merge"), path.as_os_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("zero.jsonl: line 1") && !r.stderr.contains("panicked"),
        "{}",
        r.stderr
    );
}

/// Before the fix this sweep started 33 million runs (its points alone took seconds).
#[test]
fn a_range_of_33_million_steps_is_refused_at_once() {
    let dir = scratch("fuzz-range-steps");
    let path = dir.join("loan.yaml");
    std::fs::write(
        &path,
        WITH_LOAN.replace("LOAN", "1000").replace("ROUNDS", "100"),
    )
    .expect("write");
    let sweep = delever([
        std::ffi::OsStr::new("sweep"),
        path.as_os_str(),
        std::ffi::OsStr::new("--vary"),
        std::ffi::OsStr::new("shocks[0].return=-0.05:-0.40:33333333"),
    ]);
    assert_eq!(sweep.code, 2, "{}", sweep.stderr);
    assert!(
        sweep.stderr.contains("33333333") && sweep.stderr.contains("1000000"),
        "{}",
        sweep.stderr
    );
}

/// The fuzzer's `scenario_yaml` finding
/// (`fuzz/regressions/scenario_yaml/number-as-a-string-field`): a source titled with a plain number, `title: 9`, loaded as
/// a scenario but its sweep instance refused it ("expected a string, found the number 9"),
/// because an instance was deserialised from a YAML value tree rather than from text. A
/// number where a string is expected now reads the same in both, as the string "9".
#[test]
fn a_plain_number_where_a_string_is_expected_reads_the_same_in_a_sweep() {
    let text = WITH_LOAN
        .replace("LOAN", "1000")
        .replace("ROUNDS", "100")
        .replace(
            "as_of: 2026-05-29\n",
            "as_of: 2026-05-29\nsources: [ { id: s, title: 9 } ]\n",
        );
    let s = Scenario::from_yaml(&text, "loan.yaml", None).expect("a scenario");
    assert_eq!(s.sources[0].title, "9");
    let t = Template::from_yaml(&text, "loan.yaml", None).expect("a template");
    let i = t.instantiate(&[]).expect("its plain instance");
    assert_eq!(i.sources[0].title, "9");
    assert_eq!(outcome(&i), outcome(&s));
}

/// The fuzzer's `scenario_yaml` finding (`fuzz/regressions/scenario_yaml/holders-left-empty`,
/// 4 Dec 2026): `holders:` with nothing after it loaded as a scenario with no holders, but
/// its sweep instance refused it ("holders: expected a list, found an empty value
/// (null)"): the template's value tree wrote the empty value back as `null`. A list left
/// empty now reads as an empty list in both.
#[test]
fn a_list_left_empty_reads_the_same_in_a_sweep() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/scenario_yaml/holders-left-empty"
    );
    let text = std::fs::read_to_string(path).expect("the regression input");
    let s = Scenario::from_yaml(&text, "empty-holders.yaml", None).expect("a scenario");
    assert_eq!(s.network.holders().len(), 0);
    let t = Template::from_yaml(&text, "empty-holders.yaml", None).expect("a template");
    let i = t.instantiate(&[]).expect("its plain instance");
    assert_eq!(i.network.holders().len(), 0);
    assert_eq!(i.network.lenders().len(), s.network.lenders().len());
}
