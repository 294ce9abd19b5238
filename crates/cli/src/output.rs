//! Writing results: stdout, or a file written whole or not at all.

use std::io::Write as _;
use std::path::Path;

use crate::Failure;

/// Write `text` to `path` atomically (a temporary file beside it, then a rename), or to
/// stdout when `path` is `None`.
pub fn emit(text: &str, path: Option<&Path>) -> Result<(), Failure> {
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`delever run | head`) is not an error worth a message.
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                Err(e) => Err(Failure::input(format!("error: writing to stdout: {e}"))),
            }
        }
        Some(p) => write_atomic(p, text.as_bytes()).map_err(|e| {
            Failure::input(format!(
                "error: cannot write `{}`: {e}\n  hint: check that the directory exists and is writable",
                p.display()
            ))
        }),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
