//! `delever convert`: an account book's two CSV tables to Parquet or Arrow IPC files,
//! checked on the way as a scenario's book is (except the asset ids, which need the
//! scenario), written whole or not at all.

use std::path::{Path, PathBuf};

use delever_scenario::{BookFormat, write_table};

use crate::args::ConvertTo;
use crate::output::Outputs;
use crate::{Failure, exit};

/// Run `delever convert`; `quiet` (`-q`) prints nothing but errors.
pub fn convert(
    accounts: &Path,
    holdings: &Path,
    to: ConvertTo,
    out_dir: Option<&Path>,
    force: bool,
    quiet: bool,
) -> Result<i32, Failure> {
    let format = match to {
        ConvertTo::Parquet => BookFormat::Parquet,
        ConvertTo::Arrow => BookFormat::Arrow,
    };
    let ext = format.extension();
    let target = |src: &Path| -> PathBuf {
        let stem = src
            .file_stem()
            .map_or_else(|| "book".into(), |s| s.to_string_lossy().into_owned());
        let dir = out_dir.map_or_else(
            || src.parent().map(Path::to_path_buf).unwrap_or_default(),
            Path::to_path_buf,
        );
        dir.join(format!("{stem}.{ext}"))
    };
    let (acc_out, hold_out) = (target(accounts), target(holdings));
    if acc_out == hold_out {
        return Err(Failure::input(format!(
            "error: both tables would be written to `{}`\n  hint: give the CSV files different names",
            acc_out.display()
        )));
    }
    if !force {
        let existing: Vec<String> = [&acc_out, &hold_out]
            .iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(Failure::input(format!(
                "error: refusing to overwrite {}\n  hint: pass --force to replace them, or choose another --out-dir",
                existing.join(", ")
            )));
        }
    }
    let (acc, hold) = delever_scenario::csv_tables(accounts, holdings).map_err(|problems| {
        let text: Vec<String> = problems.iter().map(|p| format!("error: {p}")).collect();
        Failure::input(text.join("\n"))
    })?;
    let (n_acc, n_hold) = (acc.text0.len(), hold.text0.len());
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failure::input(format!(
                "error: cannot create `{}`: {e}\n  hint: check that the parent directory exists and is writable",
                dir.display()
            ))
        })?;
    }
    let encode = |t| -> Result<Vec<u8>, Failure> {
        let mut buf = Vec::new();
        write_table(&mut buf, format, t)
            .map_err(|e| Failure::input(format!("error: cannot encode the table: {e}")))?;
        Ok(buf)
    };
    let (acc_bytes, hold_bytes) = (encode(acc)?, encode(hold)?);
    let mut outputs = Outputs::silent();
    let a = outputs.plan("--out-dir", Some(&acc_out))?;
    let h = outputs.plan("--out-dir", Some(&hold_out))?;
    let sizes = (acc_bytes.len(), hold_bytes.len());
    outputs.put(a, acc_bytes);
    outputs.put(h, hold_bytes);
    outputs.commit()?;
    if !quiet {
        eprintln!(
            "wrote {} ({n_acc} accounts, {} bytes) and {} ({n_hold} holdings, {} bytes)",
            acc_out.display(),
            sizes.0,
            hold_out.display(),
            sizes.1
        );
        let (ak, hk) = format.keys();
        eprintln!(
            "use them in an account_book: {ak}: {}, {hk}: {}",
            acc_out
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
            hold_out
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        );
    }
    Ok(exit::OK)
}
