//! The command-line conventions people expect from ripgrep, cargo and uv: completions and
//! a man page, `--color`, `-` for stdin, `--version` with the commit, `run --set`, quiet
//! notes, "wrote FILE" confirmations, and one binary.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{Run, delever, root, scratch};

const DEFAULT: &str = "scenarios/semis-sentiment-reversal.yaml";

/// Run `delever ARGS…` from the repository root with `input` piped to its stdin.
fn delever_stdin(args: &[&str], input: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_delever"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the delever binary runs");
    // A command that fails early may close stdin before reading it all.
    let _ = child.stdin.take().expect("stdin is piped").write_all(input);
    child.wait_with_output().expect("delever finishes").into()
}

/// The subcommands `delever --help` lists (its "Commands:" section), `help` left out.
fn subcommands() -> Vec<String> {
    let r = delever(["--help"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<String> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .filter(|n| n != "help")
        .collect();
    assert!(names.len() >= 10, "too few commands found: {names:?}");
    names
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = delever(["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        for sub in &subs {
            assert!(
                r.stdout.contains(sub.as_str()),
                "{shell} completions lack `{sub}`"
            );
        }
        // Flags of subcommands are completed too (fish writes `-l vary`).
        assert!(r.stdout.contains("vary"), "{shell} completions lack --vary");
        assert!(
            r.stdout.contains("holder"),
            "{shell} completions lack --holder"
        );
    }
    let r = delever(["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("possible values"), "{}", r.stderr);
}

#[test]
fn completions_written_to_a_file_are_confirmed() {
    let dir = scratch("conventions-completions");
    let file = dir.join("delever.bash");
    let r = delever(["completions", "bash", "-o", &file.display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let len = std::fs::metadata(&file).expect("written").len();
    assert_eq!(
        r.stderr.trim_end(),
        format!("wrote {} ({len} bytes)", file.display())
    );
}

#[test]
fn the_man_page_names_every_subcommand_and_writes_one_page_each() {
    let subs = subcommands();
    let r = delever(["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH"),
        "not roff"
    );
    assert!(r.stdout.contains(".TH delever 1"), "{}", &r.stdout[..200]);
    for sub in &subs {
        assert!(
            r.stdout.contains(&format!("delever\\-{sub}(1)")),
            "the man page lacks `{sub}`"
        );
    }
    let dir = scratch("conventions-man");
    let r = delever(["-q", "man", "-o", &dir.display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(dir.join("delever.1").is_file());
    for sub in &subs {
        let page = dir.join(format!("delever-{sub}.1"));
        let text = std::fs::read_to_string(&page).unwrap_or_default();
        assert!(
            text.contains(&format!(".TH delever-{sub} 1")),
            "{} missing or without its title",
            page.display()
        );
    }
    // Nested subcommands get their own page too.
    assert!(dir.join("delever-export-dot.1").is_file());
    // A directory that does not exist: exit 2, nothing written.
    let r = delever(["man", "-o", &dir.join("missing").display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a directory"), "{}", r.stderr);
}

/// `delever ARGS…` with stderr redirected to a file (not a pipe), as `2>err.txt` does;
/// returns what the file holds.
fn stderr_to_file(name: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = scratch(name);
    let path = dir.join("err.txt");
    let file = std::fs::File::create(&path).expect("create err.txt");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_delever"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(file);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let status = cmd.status().expect("delever runs");
    assert!(status.code().is_some(), "killed");
    std::fs::read_to_string(&path).expect("read err.txt")
}

#[test]
fn logs_into_a_file_carry_no_colour_escapes_unless_asked() {
    let auto = stderr_to_file("conventions-color-auto", &["-v", "run", DEFAULT], &[]);
    assert!(auto.contains("INFO"), "no log lines: {auto}");
    assert!(!auto.contains('\u{1b}'), "ANSI escapes in a file: {auto:?}");
    let never = stderr_to_file(
        "conventions-color-never",
        &["--color", "never", "-v", "run", DEFAULT],
        &[],
    );
    assert!(!never.contains('\u{1b}'), "{never:?}");
    // `always` is obeyed even into a file (and wins over NO_COLOR)...
    let always = stderr_to_file(
        "conventions-color-always",
        &["-v", "run", DEFAULT, "--color=always"],
        &[("NO_COLOR", "1")],
    );
    assert!(
        always.contains('\u{1b}'),
        "--color always gave none: {always:?}"
    );
    // clap's own help and errors follow --color too.
    assert!(
        delever(["--color", "always", "--help"])
            .stdout
            .contains('\u{1b}')
    );
    assert!(!delever(["--help"]).stdout.contains('\u{1b}'));
    let r = delever(["--color=always", "run", "--bogus"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains('\u{1b}'), "{}", r.stderr);
    let r = delever(["--color", "sometimes"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--color"), "{}", r.stderr);
}

#[test]
fn colour_is_decided_by_the_choice_the_terminal_and_no_color() {
    use delever_cli::{ColorChoice, use_color};
    use std::ffi::OsStr;
    let set = Some(OsStr::new("1"));
    let empty = Some(OsStr::new(""));
    assert!(use_color(ColorChoice::Auto, true, None));
    assert!(!use_color(ColorChoice::Auto, false, None));
    assert!(!use_color(ColorChoice::Auto, true, set));
    // no-color.org: an empty NO_COLOR does not count.
    assert!(use_color(ColorChoice::Auto, true, empty));
    assert!(use_color(ColorChoice::Always, false, set));
    assert!(!use_color(ColorChoice::Never, true, None));
}

#[test]
fn a_scenario_piped_to_run_dash_gives_the_same_report_as_the_file() {
    let text = std::fs::read(root().join(DEFAULT)).expect("read the scenario");
    for format in ["table", "json"] {
        let from_file = delever(["run", DEFAULT, "--format", format]);
        let piped = delever_stdin(&["run", "-", "--format", format], &text);
        assert_eq!(piped.code, from_file.code, "{}", piped.stderr);
        assert!(!from_file.stdout.is_empty());
        assert_eq!(piped.stdout, from_file.stdout, "{format}");
        assert!(piped.stderr.is_empty(), "{}", piped.stderr);
    }
}

#[test]
fn every_command_taking_a_scenario_reads_dash_from_stdin() {
    let text = std::fs::read(root().join(DEFAULT)).expect("read the scenario");
    let cases: [&[&str]; 6] = [
        &["describe", "-"],
        &["explain", "-", "--holder", "SOXL"],
        &["export", "dot", "-"],
        &[
            "sweep",
            "-",
            "--vary",
            "shocks[0].return=-0.05,-0.1",
            "--format",
            "csv",
        ],
        &["mc", "-", "--draws", "20", "--format", "json"],
        &["validate", "-"],
    ];
    for args in cases {
        let file_args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "-" { DEFAULT } else { a })
            .collect();
        let from_file = delever(&file_args);
        let piped = delever_stdin(args, &text);
        assert_eq!(piped.code, 0, "{args:?}: {}", piped.stderr);
        if args[0] == "validate" {
            assert!(piped.stdout.contains("ok  -"), "{}", piped.stdout);
            continue;
        }
        assert_eq!(piped.stdout, from_file.stdout, "{args:?}");
    }
}

#[test]
fn errors_in_piped_scenarios_name_stdin_with_line_and_column() {
    let r = delever_stdin(
        &["run", "-"],
        b"name: x\ndescription: d\nas_of: 2024-01-01\nassets: [\n",
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.starts_with("<stdin>:"), "{}", r.stderr);
    let text = std::fs::read_to_string(root().join(DEFAULT)).expect("read");
    let bad = text.replacen("return: -0.06", "return: -6", 1);
    assert_ne!(bad, text);
    let r = delever_stdin(&["describe", "-"], bad.as_bytes());
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("<stdin>:368:"), "{}", r.stderr);
    let r = delever_stdin(&["run", "-"], b"");
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("<stdin>:"), "{}", r.stderr);
    assert!(r.stderr.contains("the file is empty"), "{}", r.stderr);
}

/// A copy of the default scenario under another file name, in a fresh directory.
fn renamed_copy(dir_name: &str) -> std::path::PathBuf {
    let dir = scratch(dir_name);
    let file = dir.join("my-copy.yaml");
    std::fs::copy(root().join(DEFAULT), &file).expect("copy");
    file
}

#[test]
fn a_name_that_differs_from_the_file_stem_warns_except_under_check() {
    let file = renamed_copy("conventions-stem");
    let f = file.display().to_string();
    let r = delever(["run", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("semis-sentiment-reversal"));
    assert!(r.stderr.starts_with("warning: "), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{f}:1:7: name: the name `semis-sentiment-reversal` differs from the file's stem `my-copy`"
        )),
        "{}",
        r.stderr
    );
    let r = delever(["-q", "describe", &f]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // `sweep` takes the copy too, with the same warning; and `-q` silences its notes.
    let r = delever([
        "sweep",
        &f,
        "--vary",
        "shocks[0].return=-0.05,-0.10",
        "--max-rounds",
        "1",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("differs from the file's stem"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did not converge"), "{}", r.stderr);
    let r = delever([
        "-q",
        "sweep",
        &f,
        "--vary",
        "shocks[0].return=-0.05,-0.10",
        "--max-rounds",
        "1",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // `check` keeps the rule: a regression suite's files are named for their scenarios.
    let r = delever(["check", &f]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("differs from the file's stem"),
        "{}",
        r.stderr
    );
}

#[test]
fn version_carries_the_commit_and_its_date_from_a_git_checkout() {
    let r = delever(["--version"]);
    assert_eq!(r.code, 0);
    let line = r.stdout.trim_end();
    let plain = format!("delever {}", env!("CARGO_PKG_VERSION"));
    let rest = line
        .strip_prefix(&plain)
        .unwrap_or_else(|| panic!("{line}"));
    let git = Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let in_git = git
        .is_some_and(|top| std::fs::canonicalize(top).ok() == std::fs::canonicalize(root()).ok());
    if !in_git {
        assert_eq!(rest, "", "{line}");
        return;
    }
    // " (0123456789ab 2026-12-02)"
    let inner = rest
        .strip_prefix(" (")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no commit in `{line}`"));
    let (commit, date) = inner.split_once(' ').unwrap_or_else(|| panic!("{line}"));
    assert_eq!(commit.len(), 12, "{line}");
    assert!(commit.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
    let known = Command::new("git")
        .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
        .current_dir(root())
        .status()
        .is_ok_and(|s| s.success());
    assert!(known, "{commit} is not a commit of this repository");
    let d: Vec<&str> = date.split('-').collect();
    assert!(
        d.len() == 3 && d[0].len() == 4 && d.iter().all(|p| p.parse::<u32>().is_ok()),
        "{line}"
    );
}

#[test]
fn run_set_overrides_a_field_like_editing_the_file() {
    let by_flag = delever([
        "run",
        DEFAULT,
        "--set",
        "shocks[0].return=-0.1",
        "--format",
        "json",
    ]);
    assert_eq!(by_flag.code, 0, "{}", by_flag.stderr);
    let dir = scratch("conventions-set");
    let file = dir.join("semis-sentiment-reversal.yaml");
    let text = std::fs::read_to_string(root().join(DEFAULT)).expect("read");
    let edited = text.replacen("return: -0.06", "return: -0.1", 1);
    assert_ne!(edited, text);
    std::fs::write(&file, edited).expect("write");
    let by_edit = delever(["run", &file.display().to_string(), "--format", "json"]);
    assert_eq!(by_edit.code, 0, "{}", by_edit.stderr);
    assert_eq!(by_flag.stdout, by_edit.stdout);
    let plain = delever(["run", DEFAULT, "--format", "json"]);
    assert_ne!(plain.stdout, by_flag.stdout, "--set changed nothing");
    // Repeatable, applied in order (the last wins), words as well as numbers.
    let r = delever([
        "run",
        "--set",
        "engine.mode=sequential",
        "--set",
        "shocks[0].return=-0.3",
        "--set",
        "shocks[0].return=-0.1",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"sequential\""), "mode not set");
}

#[test]
fn run_set_refuses_bad_paths_and_values_with_located_errors() {
    // A path that names nothing: where it stops resolving, and a suggestion.
    let r = delever(["run", DEFAULT, "--set", "engine.dampin=0.5"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.starts_with("error: --set engine.dampin=0.5:"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{DEFAULT}:")), "{}", r.stderr);
    assert!(r.stderr.contains("damping"), "{}", r.stderr);
    // A value the format refuses: located at the field, the override named.
    let r = delever(["run", DEFAULT, "--set", "shocks[0].return=-6"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("{DEFAULT}:368:")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("shocks[0].return = -6"), "{}", r.stderr);
    // Grammar: one value, PATH=VALUE.
    for (arg, needle) in [
        ("shocks[0].return=-0.1,-0.2", "--set takes one"),
        ("shocks[0].return", "expected PATH=VALUE"),
        ("shocks[0.return=1", "--set shocks[0.return=1"),
        ("=1", "empty"),
    ] {
        let r = delever(["run", DEFAULT, "--set", arg]);
        assert_eq!(r.code, 2, "{arg}: {}", r.stdout);
        assert!(r.stderr.contains(needle), "{arg}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{arg}: {}", r.stderr);
    }
    let r = delever([
        "run",
        DEFAULT,
        "--set",
        "engine.damping=0.5",
        "--variant",
        "x",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}

#[test]
fn quiet_silences_notes_and_confirmations_not_errors() {
    let r = delever(["run", DEFAULT, "--max-rounds", "1"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("note:"), "{}", r.stderr);
    let r = delever(["-q", "run", DEFAULT, "--max-rounds", "1"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let r = delever(["-q", "run", "no-such-scenario"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error:"), "{}", r.stderr);
}

#[test]
fn output_files_are_confirmed_with_their_size_unless_quiet() {
    let dir = scratch("conventions-wrote");
    let (json, html) = (dir.join("r.json"), dir.join("r.html"));
    let (j, h) = (json.display().to_string(), html.display().to_string());
    let r = delever(["run", DEFAULT, "--format", "json", "-o", &j, "--html", &h]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let size = |p: &Path| std::fs::metadata(p).expect("written").len();
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!("wrote {h} ({} bytes)", size(&html)),
            format!("wrote {j} ({} bytes)", size(&json)),
        ]
    );
    let r = delever(["-q", "run", DEFAULT, "-o", &j]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    // Streams are not files: nothing to confirm.
    let r = delever(["describe", DEFAULT, "-o", "/dev/null"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn list_cuts_long_descriptions_at_a_word_boundary_with_an_ellipsis() {
    let table = delever(["list"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    let json = delever(["list", "--format", "json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json.stdout).expect("JSON");
    let header = table.stdout.lines().next().expect("header");
    let col = header.find("description").expect("description column");
    let mut cut = 0;
    for (line, row) in table.stdout.lines().skip(2).zip(&rows) {
        let shown: String = line.chars().skip(col).collect();
        let full = row["description"].as_str().expect("description");
        assert!(
            !full.contains('\n'),
            "JSON keeps the description on one line"
        );
        assert!(shown.chars().count() <= 80, "{shown}");
        if let Some(head) = shown.strip_suffix('…') {
            cut += 1;
            assert!(full.starts_with(head), "{head} / {full}");
            let next = full[head.len()..].chars().next().expect("more text");
            assert!(!next.is_alphanumeric(), "cut inside a word: {shown}");
        } else {
            assert_eq!(shown, full);
        }
    }
    assert!(cut > 0, "no description was long enough to cut");
}

#[test]
fn the_workspace_builds_one_binary() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut bins = Vec::new();
    for p in meta["packages"].as_array().expect("packages") {
        for t in p["targets"].as_array().expect("targets") {
            if t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
            {
                bins.push(format!("{}:{}", p["name"], t["name"]));
            }
        }
    }
    assert_eq!(bins, ["\"delever\":\"delever\""], "{bins:?}");
}
