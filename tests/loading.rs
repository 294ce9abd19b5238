//! Loading at scale (issue 15): YAML loads in time linear in the holders, CSV books as
//! Excel writes them (CRLF, a byte order mark, quoted fields) with exact locations, and
//! the least fixed point is opt-in for account books.

use std::fmt::Write as _;
use std::time::Instant;

use delever_scenario::Scenario;

use crate::util::{delever, root, scratch};

/// `n` leverage-targeting banks over 20 assets, five holdings each, in the generator's
/// style: every holding names an asset, so a load resolves `5n` references.
fn banks(n: usize) -> String {
    let mut text = String::from(
        "name: many-banks\ndescription: Many banks, for the load tests.\nas_of: 2026-05-29\nassets:\n",
    );
    for k in 0..20 {
        writeln!(
            text,
            "  - {{ id: G{k}, price: 1.0, shares_outstanding: 1.0e15, adv_usd: 1.0e12, daily_vol: 0.02 }}"
        )
        .expect("write to a string");
    }
    text.push_str("holders:\n");
    for i in 0..n {
        writeln!(
            text,
            "  - id: bank{i}\n    kind: bank\n    other_liabilities: 9.0e9\n    rule: {{ type: leverage_target, target: 10.0 }}\n    holdings:"
        )
        .expect("write to a string");
        for j in 0..5 {
            writeln!(
                text,
                "      - {{ asset: G{}, shares: 2.0e9 }}",
                (i + 3 * j) % 20
            )
            .expect("write to a string");
        }
    }
    text.push_str("shocks:\n  - { type: asset, asset: G0, return: -0.05 }\n");
    text
}

#[test]
fn twenty_thousand_banks_load_in_linear_time() {
    let text = banks(20_000);
    let t = Instant::now();
    let s = Scenario::from_yaml(&text, "many-banks.yaml", None).expect("valid");
    let took = t.elapsed();
    assert_eq!(s.network.holders().len(), 20_000);
    // Linear, this is well under a second; before, every one of the 100,000 references
    // listed every id for "did you mean" (and looked for a leveraged ETF among all the
    // holders), which took over a minute. The bound leaves room for a loaded machine.
    assert!(took.as_secs_f64() < 15.0, "took {took:?}");
}

#[test]
fn a_wrong_reference_in_a_large_scenario_still_suggests() {
    let text = banks(2_000).replace("asset: G7, shares", "asset: G77, shares");
    let e = Scenario::from_yaml(&text, "many-banks.yaml", None).expect_err("unknown asset");
    let d = &e.diagnostics[0];
    assert_eq!(d.message, "unknown asset `G77`");
    assert_eq!(d.path, "holders[1].holdings[2].asset", "{d:?}");
    assert!(d.line.is_some() && d.column.is_some(), "{d:?}");
    assert!(
        d.hint.as_deref().unwrap_or("").contains("did you mean"),
        "{d:?}"
    );
}

/// A scenario with one account book (`a.csv`, `h.csv` beside it); `engine` is extra YAML.
fn book_scenario(engine: &str) -> String {
    format!(
        "name: book\n\
         description: A small book for the loading tests.\n\
         as_of: 2026-05-29\n\
         assets:\n  - {{ id: NVDA, price: 200.0, shares_outstanding: 2.43e10, adv_usd: 4.0e8, daily_vol: 0.025 }}\n\
         lenders:\n  - {{ id: broker, capital: 1.0e10 }}\n\
         holders:\n  - id: book\n    kind: account_book\n    accounts_csv: a.csv\n    holdings_csv: h.csv\n    margin: {{ lender: broker, maintenance: 0.30 }}\n\
         shocks:\n  - {{ type: asset, asset: NVDA, return: -0.20 }}\n{engine}"
    )
}

#[test]
fn an_excel_book_with_crlf_bom_and_quotes_loads_and_errors_point_at_the_cell() {
    let dir = scratch("loading-excel");
    std::fs::write(dir.join("book.yaml"), book_scenario("")).expect("write");
    std::fs::write(
        dir.join("a.csv"),
        "\u{feff}\"account\",\"cash\",\"loan\"\r\n\"Smith, J.\",1000,\"5000\"\r\n\"O\"\"Brien\",0,2000\r\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("h.csv"),
        "\u{feff}account,asset,shares\r\n\"Smith, J.\",NVDA,50\r\n\"O\"\"Brien\",\"NVDA\",40\r\n",
    )
    .expect("write");
    let yaml = dir.join("book.yaml").display().to_string();
    let ok = delever(["validate", &yaml]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);

    // A bad loan on line 3, after a quoted id with a doubled quote: column 14.
    std::fs::write(
        dir.join("a.csv"),
        "\u{feff}\"account\",\"cash\",\"loan\"\r\n\"Smith, J.\",1000,\"5000\"\r\n\"O\"\"Brien\",0,-20\r\n",
    )
    .expect("write");
    let bad = delever(["validate", &yaml]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("a.csv:3:14"),
        "file, line and column: {}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains(
            "row 2 (account `O\"Brien`), column `loan`: expected a number ≥ 0, found `-20`"
        ),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_least_fixed_point_is_opt_in_for_account_books() {
    let dir = scratch("loading-least");
    std::fs::write(
        dir.join("a.csv"),
        "account,cash,loan\na1,0,14000\na2,0,12000\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("h.csv"),
        "account,asset,shares\na1,NVDA,100\na2,NVDA,100\n",
    )
    .expect("write");
    for (engine, checked) in [
        ("", false),
        ("engine: { least_fixed_point: true }\n", true),
        ("engine: { least_fixed_point: false }\n", false),
    ] {
        let path = dir.join("book.yaml");
        std::fs::write(&path, book_scenario(engine)).expect("write");
        let s = Scenario::load(&path).expect("valid");
        assert_eq!(s.engine.least_fixed_point, checked, "{engine:?}");
        let run = delever(["run", &path.display().to_string(), "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        // The report says whether uniqueness was checked: the key is there only then.
        assert_eq!(
            run.stdout.contains("\"least_fixed_point\""),
            checked,
            "{engine:?}: {}",
            run.stdout
        );
    }
    // Without a book the least fixed point is still sought by default.
    let s = Scenario::load(&root().join("scenarios/deepseek-2025-01-27.yaml")).expect("shipped");
    assert!(s.engine.least_fixed_point);
}

/// `text` with the `n`th (from 0) `pat` replaced by `with`.
fn replace_nth(text: &str, pat: &str, with: &str, n: usize) -> String {
    let (i, _) = text.match_indices(pat).nth(n).expect("occurrence");
    format!("{}{with}{}", &text[..i], &text[i + pat.len()..])
}

#[test]
fn a_large_scenario_reads_its_holders_in_slices_as_it_reads_them_whole() {
    // Over 1 MiB with no possible anchor, the holders list is read in slices on every
    // core (the scenario crate's `yaml::split`); a trailing `# R&D` (a possible anchor)
    // makes the same text be read whole. Both must give the same scenario, or the same
    // refusal with the same place.
    let text = banks(4_000);
    assert!(text.len() > 1 << 20, "{}", text.len());
    let liabilities = "    other_liabilities: 9.0e9\n";
    let cases = [
        ("clean", text.clone()),
        (
            "duplicate key late in the list",
            replace_nth(
                &text,
                liabilities,
                &format!("{liabilities}{liabilities}"),
                3_100,
            ),
        ),
        (
            "duplicate basket weight",
            replace_nth(
                &text,
                liabilities,
                &format!("{liabilities}    basket: {{ G1: 0.5, G1: 0.5 }}\n"),
                2_000,
            ),
        ),
        (
            "bad value",
            replace_nth(
                &text,
                "other_liabilities: 9.0e9",
                "other_liabilities: lots",
                3_999,
            ),
        ),
        (
            "syntax error",
            replace_nth(&text, "shares: 2.0e9 }", "shares: 2.0e9 ", 1_234),
        ),
        (
            "a quoted string over a line that looks like an item",
            replace_nth(
                &text,
                liabilities,
                &format!("{liabilities}    source: \"one\n  - two\"\n"),
                2_500,
            ),
        ),
        (
            "prose with quotes and apostrophes",
            replace_nth(
                &text,
                "  - id: bank17\n",
                "  - id: \"bank's 17\" # the \"odd\" one, it's [\n",
                0,
            )
            .replace(
                "many-banks\ndescription: Many banks,",
                "many-banks\ndescription: Many banks' \"books\",",
            ),
        ),
        (
            "a second document",
            replace_nth(&text, "holders:\n", "holders:\n---\n", 0),
        ),
    ];
    for (what, t) in &cases {
        let split = Scenario::from_yaml(t, "many-banks.yaml", None);
        let whole = Scenario::from_yaml(&format!("{t}# R&D\n"), "many-banks.yaml", None);
        match (split, whole) {
            (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{what}"),
            (a, b) => panic!("{what}: in slices {:?}, whole {:?}", a.err(), b.err()),
        }
    }
}

#[test]
fn a_large_scenario_is_checked_before_it_is_read() {
    // Over 1 MiB, the index and serde run on two threads: the index's refusals still come
    // first and serde's problems are still located.
    let text = banks(4_000);
    assert!(text.len() > 1 << 20, "{}", text.len());
    let tagged = text.replacen("target: 10.0", "target: !!str 10.0", 1);
    let e = Scenario::from_yaml(&tagged, "many-banks.yaml", None).expect_err("tag");
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert!(
        e.diagnostics[0]
            .message
            .contains("YAML tags are not accepted"),
        "{e}"
    );
    assert_eq!(e.diagnostics[0].path, "holders[0].rule.target");
    let unknown = text.replacen(
        "other_liabilities: 9.0e9",
        "other_liabilities: 9.0e9\n    colour: red",
        1,
    );
    let e = Scenario::from_yaml(&unknown, "many-banks.yaml", None).expect_err("unknown key");
    let d = &e.diagnostics[0];
    assert!(d.message.contains("colour"), "{e}");
    assert!(d.line.is_some(), "{e}");
    // An alias bomb in a large file (it has anchors, so the steps stay in order): refused
    // by the index, quickly.
    let mut bomb = text.clone();
    bomb.push_str("x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        writeln!(bomb, "x{i}: &a{i} [{refs}]").expect("write to a string");
    }
    let t = Instant::now();
    let e = Scenario::from_yaml(&bomb, "many-banks.yaml", None).expect_err("bomb");
    assert!(e.to_string().contains("alias bomb"), "{e}");
    assert!(t.elapsed().as_secs_f64() < 15.0, "{:?}", t.elapsed());
}
