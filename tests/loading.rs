
#[test]
fn a_large_scenario_is_checked_before_it_is_read() {
    // Over 1 MiB, the index and serde run on two threads: the index's refusals still come
    // first and serde's problems are still located.
    let text = banks(4_000);
    assert!(text.len() > 1 << 20);
    let tagged = text.replacen("target: 10.0", "target: !!str 10.0", 1);
    let e = Scenario::from_yaml(&tagged, "many-banks.yaml", None).expect_err("tag");
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert!(
        e.diagnostics[0].message.contains("YAML tags are not accepted"),
        "{e}"
    );
    assert_eq!(e.diagnostics[0].path, "holders[0].rule.target");
    let unknown = text.replacen("other_liabilities: 9.0e9", "other_liabilities: 9.0e9\n    colour: red", 1);
    let e = Scenario::from_yaml(&unknown, "many-banks.yaml", None).expect_err("unknown key");
    let d = &e.diagnostics[0];
    assert!(d.message.contains("colour"), "{e}");
    assert!(d.line.is_some(), "{e}");
    // An alias bomb with `&` in a large file: refused by the index, quickly.
    let mut bomb = text.clone();
    bomb.push_str("assumptions: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        writeln!(bomb, "x{i}: &a{i} [{refs}]").expect("write to a string");
    }
    let t = Instant::now();
    let e = Scenario::from_yaml(&bomb, "many-banks.yaml", None).expect_err("bomb");
    assert!(e.to_string().contains("alias bomb"), "{e}");
    assert!(t.elapsed().as_secs_f64() < 15.0, "{:?}", t.elapsed());
}
