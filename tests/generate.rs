//! `delever generate`: generated files validate and run, are byte-identical for a seed and
//! differ across seeds; bad parameters and overwrites are refused with exit code 2.

use std::path::Path;

use crate::util::{delever, scratch};

fn gen_in(dir: &Path, args: &[&str]) -> crate::util::Run {
    let mut all = vec!["generate"];
    all.extend_from_slice(args);
    let d = dir.display().to_string();
    all.extend_from_slice(&["--out-dir", &d]);
    delever(all)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const CASES: [(&str, &[&str], &[&str]); 3] = [
    (
        "caccioli",
        &[
            "caccioli",
            "--banks",
            "120",
            "--assets",
            "100",
            "--mu",
            "3",
            "--leverage",
            "20",
        ],
        &["cac.yaml"],
    ),
    (
        "glt",
        &["glt", "--banks", "12", "--assets", "5"],
        &["cac.yaml"],
    ),
    (
        "retail",
        &["retail-book", "--accounts", "3000", "--assets", "60"],
        &[
            "cac.yaml",
            "cac-retail-accounts.csv",
            "cac-retail-holdings.csv",
        ],
    ),
];

#[test]
fn generated_scenarios_validate_and_run() {
    for (label, args, files) in CASES {
        let dir = scratch(&format!("generate-run-{label}"));
        let mut a = args.to_vec();
        a.extend_from_slice(&["--name", "cac", "--seed", "5"]);
        let r = gen_in(&dir, &a);
        assert_eq!(r.code, 0, "{label}: {}", r.stderr);
        for f in files {
            assert!(r.stderr.contains(f), "{label}: {} lacks {f}", r.stderr);
            assert!(dir.join(f).exists(), "{label}: {f}");
        }
        let yaml = dir.join("cac.yaml");
        let v = delever(["validate", &yaml.display().to_string()]);
        assert_eq!(v.code, 0, "{label}: {}", v.stderr);
        let run = delever(["run", &yaml.display().to_string(), "--format", "json"]);
        // GLT stops after its one round on purpose (exit 3).
        let want = if label == "glt" { 3 } else { 0 };
        assert_eq!(run.code, want, "{label}: {}", run.stderr);
        assert!(run.stdout.contains("\"scenario\": \"cac\""), "{label}");
        // No temporary files are left behind.
        let names: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), files.len(), "{label}: {names:?}");
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for (label, args, files) in CASES {
        let [a, b, c] = ["a", "b", "c"].map(|s| scratch(&format!("generate-seed-{label}-{s}")));
        for (dir, seed) in [(&a, "11"), (&b, "11"), (&c, "12")] {
            let mut x = args.to_vec();
            x.extend_from_slice(&["--name", "cac", "--seed", seed]);
            let r = gen_in(dir, &x);
            assert_eq!(r.code, 0, "{label}: {}", r.stderr);
        }
        for f in files {
            assert_eq!(
                read(&a, f),
                read(&b, f),
                "{label}: {f} differs for one seed"
            );
        }
        assert_ne!(
            read(&a, files[0]),
            read(&c, files[0]),
            "{label}: seeds 11 and 12 wrote the same scenario"
        );
    }
}

#[test]
fn overwrites_are_refused_unless_forced() {
    let dir = scratch("generate-force");
    let args = ["glt", "--banks", "3", "--assets", "2", "--name", "g"];
    assert_eq!(gen_in(&dir, &args).code, 0);
    let before = read(&dir, "g.yaml");
    let r = gen_in(
        &dir,
        &["glt", "--banks", "4", "--assets", "2", "--name", "g"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(read(&dir, "g.yaml"), before);
    let r = gen_in(
        &dir,
        &[
            "glt", "--banks", "4", "--assets", "2", "--name", "g", "--force",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(read(&dir, "g.yaml"), before);
}

#[test]
fn bad_parameters_exit_2_with_a_hint() {
    let dir = scratch("generate-bad");
    for (args, needle) in [
        (&["caccioli", "--assets", "10", "--mu", "11"][..], "--mu"),
        (&["caccioli", "--leverage", "1"][..], "--leverage"),
        (&["caccioli", "--banks", "0"][..], "--banks"),
        (&["glt", "--banks", "0"][..], "--banks"),
        (&["retail-book", "--accounts", "0"][..], "--accounts"),
        (&["retail-book", "--accounts", "10000001"][..], "--accounts"),
        (&["glt", "--name", "../up"][..], "--name"),
    ] {
        let r = gen_in(&dir, args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
}

#[test]
fn help_teaches_the_generators() {
    let r = delever(["generate", "--help"]);
    assert_eq!(r.code, 0);
    for needle in ["caccioli", "glt", "retail-book", "Examples:", "--force"] {
        assert!(r.stdout.contains(needle), "{needle}: {}", r.stdout);
    }
}
