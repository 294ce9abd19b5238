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

/// `generate retail-book` of `accounts` accounts over 40 assets, seed 9, in `format`.
fn seeded_retail_book(dir: &Path, accounts: &str, format: &str, name: &str) -> crate::util::Run {
    gen_in(
        dir,
        &[
            "retail-book",
            "--accounts",
            accounts,
            "--assets",
            "40",
            "--seed",
            "9",
            "--format",
            format,
            "--name",
            name,
        ],
    )
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

/// `generate caccioli-window`: the CSV is the library's estimate at every point, the SVG
/// draws one curve per leverage, the files are the same at 1 and 2 threads, and a second
/// run refuses to overwrite them (before the long work).
#[test]
fn caccioli_window_writes_the_library_s_grid_as_svg_and_csv() {
    use delever_generate::caccioli::{self, Params};
    let args = [
        "caccioli-window",
        "--banks",
        "60",
        "--leverage",
        "4,20",
        "--mu",
        "1,3,30",
        "--trials",
        "12",
        "--seed",
        "5",
    ];
    let one = scratch("window-1");
    let run = gen_in(&one, &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("caccioli-window.svg"), "{}", run.stderr);
    let csv = String::from_utf8(read(&one, "caccioli-window.csv")).expect("UTF-8");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6, "{csv}");
    let p = Params {
        banks: 60,
        assets: 60,
        mu: 3.0,
        leverage: 20.0,
        seed: 5,
        ..Params::default()
    };
    let c = caccioli::contagion_probability(&p, 12).expect("valid parameters");
    assert_eq!(
        rows[4],
        format!("20,3,12,{},{},{}", c.contagions, c.probability, c.extent)
    );
    let svg = String::from_utf8(read(&one, "caccioli-window.svg")).expect("UTF-8");
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80]
    );
    assert!(svg.contains("λ = 4") && svg.contains("λ = 20"));

    let two = scratch("window-2");
    let mut threaded = vec!["--threads", "2", "generate"];
    threaded.extend_from_slice(&args);
    let d = two.display().to_string();
    threaded.extend_from_slice(&["--out-dir", &d]);
    let run = delever(threaded);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        read(&one, "caccioli-window.csv"),
        read(&two, "caccioli-window.csv")
    );
    assert_eq!(
        read(&one, "caccioli-window.svg"),
        read(&two, "caccioli-window.svg")
    );

    let again = gen_in(&one, &args);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("refusing to overwrite"),
        "{}",
        again.stderr
    );
    let bad = gen_in(&scratch("window-3"), &["caccioli-window", "--trials", "0"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--trials"), "{}", bad.stderr);
}

/// The same seed written as CSV, Parquet and Arrow IPC: each scenario names its tables
/// with its format's keys, and the three runs report the same cascade (the report's
/// name and file paths aside, the JSON is identical).
#[test]
fn retail_books_in_every_format_run_the_same() {
    let dir = scratch("generate-formats");
    let mut reports = Vec::new();
    for format in ["csv", "parquet", "arrow"] {
        let name = format!("rb-{format}");
        let r = seeded_retail_book(&dir, "2500", format, &name);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        let accounts = format!("{name}-retail-accounts.{format}");
        assert!(dir.join(&accounts).exists(), "{format}: {}", r.stderr);
        let yaml = String::from_utf8(read(&dir, &format!("{name}.yaml"))).expect("UTF-8");
        assert!(
            yaml.contains(&format!("accounts_{format}: {accounts}")),
            "{format}: {yaml}"
        );
        assert!(yaml.contains(&format!("--format {format}")), "{yaml}");
        let path = dir.join(format!("{name}.yaml")).display().to_string();
        let run = delever(["run", &path, "--format", "json"]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        reports.push(run.stdout.replace(&name, "NAME"));
    }
    assert!(reports[0].contains("\"scenario\": \"NAME\""));
    assert_eq!(reports[0], reports[1], "CSV and Parquet books differ");
    assert_eq!(reports[0], reports[2], "CSV and Arrow books differ");
    // The Parquet tables are smaller than the CSV ones.
    let size = |f: &str| {
        std::fs::metadata(dir.join(f))
            .map(|m| m.len())
            .expect("written")
    };
    assert!(
        size("rb-parquet-retail-holdings.parquet") < size("rb-csv-retail-holdings.csv"),
        "Parquet is not smaller"
    );
}

/// FNV-1a, 64 bits: a stable digest for pinning files.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The retail book is drawn as it is written (never held in memory, for 100 million
/// accounts): the files are byte for byte those the generator wrote when it built the
/// book in memory first (digests from that version). A new `parquet` crate may change the
/// Parquet footer's `created_by`; re-pin that digest only then.
#[test]
fn streamed_retail_books_are_the_in_memory_books_bytes() {
    let dir = scratch("generate-pinned");
    let want = [
        ("csv", "accounts", 0xb339_17d5_3354_5478_u64),
        ("csv", "holdings", 0xd2fb_f1a6_5839_41e9),
        ("parquet", "accounts", 0x245c_bfdb_2056_4e00),
        ("parquet", "holdings", 0x90e8_92a9_5ba6_e044),
        ("arrow", "accounts", 0xb878_cf81_8e20_a5a4),
        ("arrow", "holdings", 0xe5ec_c198_c645_d066),
    ];
    for format in ["csv", "parquet", "arrow"] {
        let name = format!("pin-{format}");
        let r = seeded_retail_book(&dir, "3000", format, &name);
        assert_eq!(r.code, 0, "{format}: {}", r.stderr);
        assert!(r.stderr.contains("3000 accounts"), "{}", r.stderr);
        assert!(r.stderr.contains("15000 holdings"), "{}", r.stderr);
    }
    for (format, table, digest) in want {
        let f = format!("pin-{format}-retail-{table}.{format}");
        assert_eq!(fnv1a(&read(&dir, &f)), digest, "{f}");
    }
}

#[test]
fn retail_books_beyond_10_million_accounts_need_a_columnar_format() {
    let dir = scratch("generate-big");
    let r = gen_in(&dir, &["retail-book", "--accounts", "10000001"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--format parquet"), "{}", r.stderr);
    let r = gen_in(
        &dir,
        &[
            "retail-book",
            "--accounts",
            "100000001",
            "--format",
            "parquet",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("100000000"), "{}", r.stderr);
    assert_eq!(std::fs::read_dir(&dir).expect("dir").count(), 0);
}
