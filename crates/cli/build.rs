//! Embed every scenario shipped in `scenarios/` so the binary can run them by name, and
//! give `--version` the commit and its date when built from a git checkout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    git_version();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    // Sorted so the generated file, and `delever list`, never depend on directory order.
    names.sort();
    let mut out = String::from(
        "/// Scenarios shipped in `scenarios/`: (name, YAML text), sorted by name.\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for n in &names {
        let path = dir.join(format!("{n}.yaml"));
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({n:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(dest, out).expect("write embedded.rs");
}

/// Set `DELEVER_GIT_SUFFIX` to ` (COMMIT DATE)` when the workspace is a git checkout and
/// `git` runs, and to the empty string otherwise (a tarball, a crates.io download, no
/// `git`): the build never fails for want of git.
fn git_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let suffix = git_info(&root).map_or_else(String::new, |(commit, date, watch)| {
        // Rebuild this crate only when HEAD moves: HEAD itself (a checkout) and the ref it
        // points at (a commit), loose or packed. Only paths that exist are named, since
        // cargo reruns a script every time when a named path is missing.
        for p in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", p.display());
        }
        format!(" ({commit} {date})")
    });
    println!("cargo:rustc-env=DELEVER_GIT_SUFFIX={suffix}");
}

/// The short commit, its date, and the files whose change means a new HEAD; `None` when
/// `root` is not the top of a git work tree (a tarball unpacked inside some other
/// repository must not take that repository's commit).
fn git_info(root: &Path) -> Option<(String, String, Vec<PathBuf>)> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(root).ok()? {
        return None;
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])?;
    let date = git(&["log", "-1", "--format=%cs"])?;
    let abs = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { root.join(p) }
    };
    let git_dir = abs(git(&["rev-parse", "--git-dir"])?);
    let common = abs(git(&["rev-parse", "--git-common-dir"])?);
    let mut watch = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(common.join(r));
    }
    Some((commit, date, watch))
}
