//! The YAML scenario loader: any bytes give a scenario that runs, or a typed error.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use delever_fuzz::{check_error, check_template, exercise, scratch};
use delever_scenario::Scenario;
use libfuzzer_sys::fuzz_target;

/// The scratch directory, holding `books/accounts.csv` and `books/holdings.csv` (the
/// tests' fixture book) so that seeds naming them (tests/fixtures/full-example.yaml)
/// load whole.
fn base() -> &'static Path {
    static BASE: OnceLock<()> = OnceLock::new();
    let dir = scratch();
    BASE.get_or_init(|| {
        let books = dir.join("books");
        std::fs::create_dir_all(&books).expect("create books/");
        for (name, text) in [
            (
                "accounts.csv",
                include_str!("../../tests/fixtures/books/accounts.csv"),
            ),
            (
                "holdings.csv",
                include_str!("../../tests/fixtures/books/holdings.csv"),
            ),
        ] {
            std::fs::write(books.join(name), text).expect("write a fixture book");
        }
    });
    dir
}

fuzz_target!(|data: &[u8]| {
    // Not UTF-8: only a file can hold it; the loader must say so, located.
    let Ok(text) = std::str::from_utf8(data) else {
        let path = scratch().join("fuzz.yaml");
        std::fs::write(&path, data).expect("write the scratch file");
        if let Ok(s) = Scenario::load(&path).map_err(|e| check_error(&e)) {
            panic!("bytes that are not UTF-8 loaded as `{}`", s.name);
        }
        return;
    };
    match Scenario::from_yaml(text, "fuzz.yaml", Some(base())) {
        Ok(s) => {
            exercise(&s);
            check_template(text, &s, Some(base()));
        }
        Err(e) => check_error(&e),
    }
});
