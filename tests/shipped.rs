//! Every shipped scenario is well-formed: it validates, runs, is documented and sourced,
//! carries an `expect:` block, and its name is its file stem.

use delever_scenario::Scenario;

fn shipped() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(crate::util::root().join("scenarios"))
        .expect("scenarios/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_scenario_is_complete_and_runs() {
    let files = shipped();
    assert!(!files.is_empty());
    for path in files {
        let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let stem = path.file_stem().map(|x| x.to_string_lossy().into_owned());
        assert_eq!(Some(s.name.clone()), stem, "{}", path.display());
        assert!(
            !s.description.trim().is_empty(),
            "{}: no description",
            s.name
        );
        assert!(!s.sources.is_empty(), "{}: no sources", s.name);
        assert!(s.expect.is_some(), "{}: no expect: block", s.name);
        let out = delever_engine::run(&s.network, &s.shocks, &s.engine)
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let results = s
            .expect
            .as_ref()
            .map(|e| e.evaluate(&out))
            .unwrap_or_default();
        assert!(!results.is_empty(), "{}: empty expect: block", s.name);
        let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
        assert!(failed.is_empty(), "{}: {failed:#?}", s.name);
    }
}

#[test]
fn the_default_scenario_is_shipped_and_embedded() {
    let path = crate::util::root().join("scenarios/semis-sentiment-reversal.yaml");
    assert!(path.exists());
    let r = crate::util::delever(["list"]);
    for p in shipped() {
        let name = p
            .file_stem()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(r.stdout.contains(&name), "`delever list` lacks {name}");
    }
}
