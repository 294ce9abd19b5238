//! `delever schema` describes the format truly: every shipped scenario and fixture
//! validates against it, and a scenario with an unknown key does not.

use std::path::PathBuf;

fn validator() -> jsonschema::Validator {
    let r = crate::util::delever(["schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema")
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(crate::util::root().join(dir))
        .expect("directory exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

fn as_json(text: &str) -> serde_json::Value {
    serde_yaml::from_str(text).expect("YAML")
}

#[test]
fn shipped_scenarios_and_fixtures_validate_against_the_schema() {
    let v = validator();
    let files: Vec<_> = yaml_files("scenarios")
        .into_iter()
        .chain(yaml_files("tests/fixtures"))
        .collect();
    assert!(files.len() >= 2);
    for f in files {
        let doc = as_json(&std::fs::read_to_string(&f).expect("read"));
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
}

#[test]
fn the_schema_rejects_what_validate_rejects() {
    let v = validator();
    let path = crate::util::root().join("scenarios/semis-sentiment-reversal.yaml");
    let text = std::fs::read_to_string(path).expect("read");
    assert!(v.is_valid(&as_json(&text)));
    let misspelt = text.replacen("as_of:", "as_off:", 1);
    assert!(
        !v.is_valid(&as_json(&misspelt)),
        "an unknown top-level key must fail"
    );
    let bad_kind = text.replacen("kind: leveraged_etf", "kind: leveraged_eft", 1);
    assert!(
        !v.is_valid(&as_json(&bad_kind)),
        "an unknown holder kind must fail"
    );
}
