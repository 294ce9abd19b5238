//! The Caccioli window of contagion: probability of contagion against mean
//! diversification, one curve per leverage, written to `docs/img/caccioli-window.svg` and
//! `docs/img/caccioli-window.csv` (the documented figure; `delever generate
//! caccioli-window` computes the same from the command line).
//!
//! ```text
//! cargo run --release -p delever-generate --example caccioli_window
//! cargo run --release -p delever-generate --example caccioli_window -- --trials 100 --out /tmp
//! ```

use std::path::PathBuf;
use std::time::Instant;

use delever_generate::caccioli::Params;
use delever_generate::window::{self, LEVERAGES, MUS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut trials = 200usize;
    let mut banks = 1000usize;
    let mut out = PathBuf::from("docs/img");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().ok_or_else(|| format!("{a} needs a value"))?;
        match a.as_str() {
            "--trials" => trials = v.parse()?,
            "--banks" => banks = v.parse()?,
            "--out" => out = PathBuf::from(v),
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    let start = Instant::now();
    let base = Params {
        banks,
        assets: banks,
        seed: 2014,
        ..Params::default()
    };
    let w = window::compute(&base, &LEVERAGES, &MUS, trials, &|| {
        eprint!(".");
    })?;
    eprintln!();
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("caccioli-window.svg"), w.to_svg())?;
    std::fs::write(out.join("caccioli-window.csv"), w.to_csv())?;
    eprintln!(
        "wrote {} and {} in {:.1?}",
        out.join("caccioli-window.svg").display(),
        out.join("caccioli-window.csv").display(),
        start.elapsed()
    );
    Ok(())
}
