//! The project's docs stand on their own: every relative link and picture in the
//! markdown resolves to a file in the repository, and nothing points outside it.

use crate::util::root;
use std::path::{Path, PathBuf};

fn markdown_files() -> Vec<PathBuf> {
    let r = root();
    let mut files = vec![
        r.join("README.md"),
        r.join("ARCHITECTURE.md"),
        r.join("scenarios/README.md"),
    ];
    for dir in ["docs", "fuzz"] {
        if let Ok(entries) = std::fs::read_dir(r.join(dir)) {
            let mut md: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "md"))
                .collect();
            md.sort();
            files.extend(md);
        }
    }
    files.retain(|f| f.exists());
    files
}

/// The targets of `[text](target)` and `![alt](target)` on one line.
fn targets(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        out.push(after[..end].trim());
        rest = &after[end..];
    }
    out
}

fn is_external(t: &str) -> bool {
    t.starts_with("http://")
        || t.starts_with("https://")
        || t.starts_with("mailto:")
        || t.starts_with('#')
}

#[test]
fn every_relative_link_in_the_docs_resolves_inside_the_repository() {
    let r = root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("readable markdown");
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut in_code = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if in_code {
                continue;
            }
            for t in targets(line) {
                if is_external(t) || t.is_empty() || t.contains(' ') {
                    continue;
                }
                let path = t.split('#').next().unwrap_or(t);
                let resolved = dir.join(path);
                checked += 1;
                let inside = resolved
                    .canonicalize()
                    .is_ok_and(|p| p.starts_with(r.canonicalize().unwrap_or_else(|_| r.clone())));
                if !inside {
                    broken.push(format!(
                        "{}:{}: `{t}` does not resolve to a file in the repository",
                        file.strip_prefix(&r).unwrap_or(&file).display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn no_doc_or_scenario_cites_material_outside_the_repository() {
    let mut files = markdown_files();
    files.extend(crate::util::shipped_files());
    // The design notes the project was started from live beside the repository, in a
    // sibling directory; built here so that this file does not name them either.
    let sibling = ["..", "shared"].join("/");
    let outside = [sibling.clone(), [&sibling[3..], "docs"].join("/")];
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            assert!(
                !outside.iter().any(|o| line.contains(o.as_str())),
                "{}:{}: cites a file outside the repository: {line}",
                file.display(),
                n + 1
            );
        }
    }
}

#[test]
fn the_link_parser_finds_links_and_pictures() {
    assert_eq!(
        targets("see [a](docs/a.md#x) and ![p](img/p.svg), [web](https://x.org)"),
        ["docs/a.md#x", "img/p.svg", "https://x.org"]
    );
    assert!(targets("no links here (really)").is_empty());
}
