//! Writing results: every output of a command is checked before any work is done, written
//! to a temporary file beside its destination and committed with the others at the end —
//! all of them or none.
//!
//! What a destination path points at decides how it is written ([`classify`]):
//!
//! - a regular file, or a path that does not exist yet: atomic replace (a temporary file in
//!   the same directory, fsync, rename), keeping the old file's permissions;
//! - a symbolic link: followed to its final target, which is replaced atomically (the link
//!   stays a link);
//! - a character device (`/dev/null`, a terminal) or a FIFO: written through — opened for
//!   writing, never created, truncated or replaced;
//! - `/dev/stdout`, `/dev/stderr` (and `/dev/fd/1`, `/proc/self/fd/2`, …): the process's
//!   own stream, as if no file had been given;
//! - a directory, a block device, a socket, or anything else under `/proc`: refused
//!   (exit 2) before any work is done.
//!
//! The commit stages every file first (a full disk fails here, before anything is
//! renamed), then renames them one after the other, keeping a hard link to each file it
//! replaces so that a failed rename puts the earlier ones back. Streams (stdout and
//! written-through devices) come last: they cannot be taken back.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::Failure;

/// Most symbolic links followed from an output path (Linux's own limit, `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Where an output path leads, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// The process's standard output.
    Stdout,
    /// The process's standard error.
    Stderr,
    /// A regular file or a new path (the final one, symbolic links followed): replaced
    /// atomically.
    Replace(PathBuf),
    /// A character device or a FIFO: opened for writing and written through.
    WriteThrough(PathBuf),
}

/// Why an output path is refused.
#[derive(Debug)]
pub enum Refusal {
    /// The path is empty or ends in `/`: it names a directory, not a file.
    NotAFileName,
    /// The path is a directory.
    Directory,
    /// The path is a block device: writing a report over a disk destroys it.
    BlockDevice,
    /// The path is a socket, which cannot be opened for writing.
    Socket,
    /// The path is under `/proc` (or `/dev/fd`) and is not a stream.
    Proc,
    /// The directory the file would go in does not exist.
    MissingDir(PathBuf),
    /// What should be the file's directory is not a directory.
    NotADir(PathBuf),
    /// More than [`MAX_LINKS`] symbolic links, or a loop.
    Loop,
    /// The file system refused a look-up.
    Io(io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotAFileName => write!(f, "this names a directory, not a file"),
            Refusal::Directory => write!(f, "it is a directory"),
            Refusal::BlockDevice => write!(f, "it is a block device"),
            Refusal::Socket => write!(f, "it is a socket"),
            Refusal::Proc => write!(f, "it is a kernel file (under /proc), not an output"),
            Refusal::MissingDir(d) => write!(f, "the directory `{}` does not exist", d.display()),
            Refusal::NotADir(d) => write!(f, "`{}` is not a directory", d.display()),
            Refusal::Loop => write!(
                f,
                "more than {MAX_LINKS} symbolic links to follow (a loop?)"
            ),
            Refusal::Io(e) => write!(f, "{e}"),
        }
    }
}

impl Refusal {
    fn hint(&self) -> &'static str {
        match self {
            Refusal::NotAFileName | Refusal::Directory => "give a file name, e.g. DIR/report.json",
            Refusal::BlockDevice | Refusal::Socket | Refusal::Proc => {
                "outputs go to regular files, character devices such as /dev/null, FIFOs or stdout"
            }
            Refusal::MissingDir(_) | Refusal::NotADir(_) => {
                "create the directory first, or choose another path"
            }
            Refusal::Loop => "point the link at a file",
            Refusal::Io(_) => "check that the directory exists and is writable",
        }
    }
}

/// `/dev/stdout` and its aliases are the process's own stream: writing to it through a
/// new descriptor would replace or truncate whatever stdout was redirected to.
fn std_stream(p: &Path) -> Option<Dest> {
    let s = p.to_str()?;
    match s {
        "/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1" | "/proc/thread-self/fd/1" => {
            Some(Dest::Stdout)
        }
        "/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2" | "/proc/thread-self/fd/2" => {
            Some(Dest::Stderr)
        }
        _ => None,
    }
}

/// The directory a path's file lives in (`.` for a bare name).
fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Decide how `path` is written, following symbolic links to their final target, without
/// writing anything. See the module documentation for the rules.
pub fn classify(path: &Path) -> Result<Dest, Refusal> {
    let text = path.as_os_str().as_encoded_bytes();
    if text.is_empty() || text.ends_with(b"/") {
        return Err(Refusal::NotAFileName);
    }
    let mut p = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        if let Some(s) = std_stream(&p) {
            return Ok(s);
        }
        if p.starts_with("/proc") || p.starts_with("/dev/fd") {
            // Magic links (`/proc/self/fd/N` → `pipe:[…]`) cannot be followed by reading
            // them; the kernel follows them when opening.
            return match fs::metadata(&p) {
                Ok(m) if m.file_type().is_fifo() || m.file_type().is_char_device() => {
                    Ok(Dest::WriteThrough(p))
                }
                Ok(_) => Err(Refusal::Proc),
                Err(e) => Err(Refusal::Io(e)),
            };
        }
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p).map_err(Refusal::Io)?;
                p = if target.is_absolute() {
                    target
                } else {
                    parent_of(&p).join(target)
                };
            }
            Ok(m) => return existing(p, m.file_type()),
            Err(e) => return new_path(p, e),
        }
    }
    Err(Refusal::Loop)
}

fn existing(p: PathBuf, t: fs::FileType) -> Result<Dest, Refusal> {
    if t.is_file() {
        Ok(Dest::Replace(p))
    } else if t.is_dir() {
        Err(Refusal::Directory)
    } else if t.is_char_device() || t.is_fifo() {
        Ok(Dest::WriteThrough(p))
    } else if t.is_block_device() {
        Err(Refusal::BlockDevice)
    } else {
        Err(Refusal::Socket)
    }
}

/// A path that could not be looked up: a new file if its directory exists.
fn new_path(p: PathBuf, lookup: io::Error) -> Result<Dest, Refusal> {
    if p.file_name().is_none() {
        return Err(Refusal::NotAFileName);
    }
    let dir = parent_of(&p);
    match fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {
            if lookup.kind() == io::ErrorKind::NotFound {
                Ok(Dest::Replace(p))
            } else {
                Err(Refusal::Io(lookup))
            }
        }
        Ok(_) => Err(Refusal::NotADir(dir)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Refusal::MissingDir(dir)),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Err(Refusal::NotADir(dir)),
        Err(e) => Err(Refusal::Io(e)),
    }
}

/// A fresh name beside `path` (`.NAME.PID.N.SUFFIX`); the counter keeps two outputs of
/// one process apart.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    parent_of(path).join(format!(".{name}.{}.{n}.{suffix}", std::process::id()))
}

/// Create a new temporary file beside `path` (never following or reusing an existing
/// name).
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let tmp = sibling(path, "tmp");
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// A destination in an [`Outputs`] transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

enum Content {
    /// Nothing given: the slot writes nothing (a command that returns early).
    Empty,
    /// Bytes to write at commit.
    Bytes(Vec<u8>),
    /// Already written to this temporary file (atomic replace only).
    Staged(PathBuf),
}

struct Entry {
    /// The option that named it (`-o`, `--html`), for messages.
    flag: String,
    /// The path as the user gave it.
    shown: Option<PathBuf>,
    dest: Dest,
    content: Content,
    /// Bytes written to a file (for the "wrote" line).
    size: u64,
    /// The file was renamed into place.
    written: bool,
}

impl Entry {
    fn what(&self) -> String {
        match &self.shown {
            Some(p) => format!("`{}` ({})", p.display(), self.flag),
            None => "stdout".to_owned(),
        }
    }
}

/// The outputs of one command, written all or nothing: [`Outputs::plan`] each destination
/// before any work, [`Outputs::put`] the contents, then [`Outputs::commit`]. Dropped
/// without a commit, it writes nothing and removes its temporary files.
#[derive(Default)]
pub struct Outputs {
    entries: Vec<Entry>,
    /// Do not say "wrote FILE (N bytes)" (the command says what it wrote itself).
    silent: bool,
}

impl Outputs {
    /// No outputs yet. Once committed, each file written is confirmed on stderr
    /// ("wrote FILE (N bytes)") unless `-q`.
    pub fn new() -> Self {
        Outputs::default()
    }

    /// [`Outputs::new`] for a command that reports its files itself.
    pub fn silent() -> Self {
        Outputs {
            entries: Vec::new(),
            silent: true,
        }
    }

    /// Check the destination `path` (stdout when `None`) of the output named by `flag`:
    /// what it points at, that its directory exists and is writable, and that no other
    /// output of this command names the same file.
    pub fn plan(&mut self, flag: &str, path: Option<&Path>) -> Result<Slot, Failure> {
        let dest = match path {
            None => Dest::Stdout,
            Some(p) => classify(p).map_err(|r| {
                Failure::input(format!(
                    "error: cannot write `{}` ({flag}): {r}\n  hint: {}",
                    p.display(),
                    r.hint()
                ))
            })?,
        };
        let shown = path.map(Path::to_path_buf);
        if let Dest::Replace(target) = &dest {
            let key = same_file_key(target);
            if let Some(other) = self.entries.iter().find(|e| match &e.dest {
                Dest::Replace(t) => same_file_key(t) == key,
                _ => false,
            }) {
                return Err(Failure::input(format!(
                    "error: {} and `{}` ({flag}) name the same file\n  hint: give each output its own path",
                    other.what(),
                    shown.as_deref().unwrap_or(target).display()
                )));
            }
            // Fail now, before hours of work, if the directory is not writable.
            let probe = create_temp(target).and_then(|(tmp, f)| {
                drop(f);
                fs::remove_file(tmp)
            });
            if let Err(e) = probe {
                return Err(Failure::input(format!(
                    "error: cannot write `{}` ({flag}): {e}\n  hint: check that the directory `{}` is writable",
                    shown.as_deref().unwrap_or(target).display(),
                    parent_of(target).display()
                )));
            }
        }
        self.entries.push(Entry {
            flag: flag.to_owned(),
            shown,
            dest,
            content: Content::Empty,
            size: 0,
            written: false,
        });
        Ok(Slot(self.entries.len() - 1))
    }

    /// The whole content of `slot`, written at commit.
    pub fn put(&mut self, slot: Slot, content: impl Into<Vec<u8>>) {
        if let Some(e) = self.entries.get_mut(slot.0) {
            e.content = Content::Bytes(content.into());
        }
    }

    /// Stream the content of `slot` now, into its temporary file (large files: a
    /// generated account book); a stream destination keeps it in memory until the commit.
    /// Returns the size written.
    pub fn stage(
        &mut self,
        slot: Slot,
        fill: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
    ) -> Result<u64, Failure> {
        let Some(e) = self.entries.get_mut(slot.0) else {
            return Ok(0);
        };
        let Dest::Replace(target) = &e.dest else {
            let mut buf = Vec::new();
            fill(&mut buf).map_err(|err| write_failure(e, &err))?;
            let len = buf.len() as u64;
            e.content = Content::Bytes(buf);
            e.size = len;
            return Ok(len);
        };
        let (tmp, file) = create_temp(target).map_err(|err| write_failure(e, &err))?;
        // Recorded before writing so that a failure (or a drop) removes the file.
        e.content = Content::Staged(tmp);
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        let written = fill(&mut w)
            .and_then(|()| w.flush())
            .and_then(|()| w.into_inner().map_err(io::IntoInnerError::into_error))
            .and_then(|f| f.sync_all().and_then(|()| f.metadata()))
            .map(|m| m.len());
        let len = written.map_err(|err| write_failure(e, &err))?;
        e.size = len;
        Ok(len)
    }

    /// Write everything: stage the files still in memory, rename every staged file into
    /// place (putting back the files already replaced if one rename fails), then write
    /// the streams.
    pub fn commit(mut self) -> Result<(), Failure> {
        for e in &mut self.entries {
            let Dest::Replace(target) = &e.dest else {
                continue;
            };
            if !matches!(e.content, Content::Bytes(_)) {
                continue;
            }
            let Content::Bytes(bytes) = std::mem::replace(&mut e.content, Content::Empty) else {
                continue;
            };
            e.size = bytes.len() as u64;
            let (tmp, mut file) = create_temp(target).map_err(|err| write_failure(e, &err))?;
            // Recorded before writing so that a failure removes the file (drop).
            e.content = Content::Staged(tmp);
            file.write_all(&bytes)
                .and_then(|()| file.sync_all())
                .map_err(|err| write_failure(e, &err))?;
        }
        self.rename_all()?;
        for e in &self.entries {
            let Content::Bytes(bytes) = &e.content else {
                continue;
            };
            let result = match &e.dest {
                Dest::Stdout => {
                    let mut out = io::stdout().lock();
                    out.write_all(bytes).and_then(|()| out.flush())
                }
                Dest::Stderr => io::stderr().lock().write_all(bytes),
                Dest::WriteThrough(p) => OpenOptions::new()
                    .write(true)
                    .open(p)
                    .and_then(|mut f| f.write_all(bytes).and_then(|()| f.flush())),
                Dest::Replace(_) => Ok(()),
            };
            match result {
                // A closed pipe (`delever run | head`) is not an error worth a message.
                Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {}
                Err(err) => {
                    return Err(Failure::input(format!(
                        "error: cannot write {}: {err}",
                        e.what()
                    )));
                }
                Ok(()) => {}
            }
        }
        if !self.silent && !crate::quiet() {
            // Said only once everything is in place: nothing reported here is taken back.
            // Streams and devices (stdout, /dev/null, a FIFO) are not files: not reported.
            for e in &self.entries {
                if let (true, Some(shown)) = (e.written, &e.shown) {
                    eprintln!("wrote {} ({} bytes)", shown.display(), e.size);
                }
            }
        }
        Ok(())
    }

    /// Rename every staged file over its target, in order; on a failure, put back what
    /// the earlier renames replaced and remove what they created.
    fn rename_all(&mut self) -> Result<(), Failure> {
        // (target, backup of the file it replaced)
        let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        let mut failure = None;
        for e in &mut self.entries {
            let (Dest::Replace(target), Content::Staged(tmp)) = (&e.dest, &e.content) else {
                continue;
            };
            let (target, tmp) = (target.clone(), tmp.clone());
            keep_permissions(&target, &tmp);
            let backup = fs::symlink_metadata(&target)
                .ok()
                .filter(fs::Metadata::is_file)
                .and_then(|_| {
                    let b = sibling(&target, "old");
                    fs::hard_link(&target, &b).ok().map(|()| b)
                });
            match fs::rename(&tmp, &target) {
                Ok(()) => {
                    e.content = Content::Empty;
                    e.written = true;
                    done.push((target, backup));
                }
                Err(err) => {
                    if let Some(b) = backup {
                        let _ = fs::remove_file(b);
                    }
                    failure = Some(write_failure(e, &err));
                    break;
                }
            }
        }
        if let Some(f) = failure {
            for (target, backup) in done.iter().rev() {
                let _ = match backup {
                    Some(b) => fs::rename(b, target),
                    None => fs::remove_file(target),
                };
            }
            return Err(f);
        }
        for (target, backup) in &done {
            if let Some(b) = backup {
                let _ = fs::remove_file(b);
            }
            // The rename is durable once the directory is synced; a file system that
            // cannot sync a directory still has the whole file.
            if let Ok(d) = File::open(parent_of(target)) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for e in &self.entries {
            if let Content::Staged(tmp) = &e.content {
                let _ = fs::remove_file(tmp);
            }
        }
    }
}

/// The replacement keeps the mode of the file it replaces (a private report stays
/// private); owner and group stay the writer's.
fn keep_permissions(target: &Path, tmp: &Path) {
    if let Ok(m) = fs::metadata(target) {
        let _ = fs::set_permissions(tmp, m.permissions());
    }
}

/// Two paths name the same file when their directories are the same directory and the
/// names match.
fn same_file_key(p: &Path) -> PathBuf {
    let dir = parent_of(p);
    let dir = fs::canonicalize(&dir).unwrap_or(dir);
    match p.file_name() {
        Some(n) => dir.join(n),
        None => dir,
    }
}

fn write_failure(e: &Entry, err: &io::Error) -> Failure {
    Failure::input(format!(
        "error: cannot write {}: {err}\n  hint: check free space and that the directory is writable; nothing was written",
        e.what()
    ))
}

/// Write one output (`text` to `path`, or stdout) whole or not at all.
pub fn emit(text: &str, path: Option<&Path>) -> Result<(), Failure> {
    let mut out = Outputs::new();
    let slot = out.plan("-o", path)?;
    out.put(slot, text);
    out.commit()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A fresh directory of this test's own under the system's temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("delever-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn regular_files_and_new_paths_are_replaced() {
        let dir = scratch("regular");
        let file = dir.join("a.json");
        fs::write(&file, "old").expect("write");
        assert_eq!(classify(&file).ok(), Some(Dest::Replace(file.clone())));
        let new = dir.join("b.json");
        assert_eq!(classify(&new).ok(), Some(Dest::Replace(new.clone())));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn links_are_followed_to_their_final_target() {
        let dir = scratch("links");
        let target = dir.join("target.json");
        fs::write(&target, "old").expect("write");
        // A relative link to a relative link: each is resolved against its own directory.
        fs::create_dir(dir.join("sub")).expect("mkdir");
        symlink("../target.json", dir.join("sub/one")).expect("link");
        symlink("sub/one", dir.join("two")).expect("link");
        assert_eq!(
            classify(&dir.join("two")).ok(),
            Some(Dest::Replace(dir.join("sub/../target.json")))
        );
        // A dangling link: its target is a new file.
        symlink("later.json", dir.join("dangling")).expect("link");
        assert_eq!(
            classify(&dir.join("dangling")).ok(),
            Some(Dest::Replace(dir.join("later.json")))
        );
        symlink("loop-b", dir.join("loop-a")).expect("link");
        symlink("loop-a", dir.join("loop-b")).expect("link");
        assert!(matches!(classify(&dir.join("loop-a")), Err(Refusal::Loop)));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn devices_and_fifos_are_written_through_streams_are_the_process_own() {
        // Classifying only looks; nothing here opens /dev/null.
        assert_eq!(
            classify(Path::new("/dev/null")).ok(),
            Some(Dest::WriteThrough(PathBuf::from("/dev/null")))
        );
        assert_eq!(classify(Path::new("/dev/stdout")).ok(), Some(Dest::Stdout));
        assert_eq!(classify(Path::new("/dev/stderr")).ok(), Some(Dest::Stderr));
        let dir = scratch("devices");
        symlink("/dev/null", dir.join("null")).expect("link");
        assert_eq!(
            classify(&dir.join("null")).ok(),
            Some(Dest::WriteThrough(PathBuf::from("/dev/null")))
        );
        symlink("/dev/stdout", dir.join("out")).expect("link");
        assert_eq!(classify(&dir.join("out")).ok(), Some(Dest::Stdout));
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        assert_eq!(classify(&fifo).ok(), Some(Dest::WriteThrough(fifo.clone())));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn directories_sockets_proc_and_missing_directories_are_refused() {
        let dir = scratch("refused");
        assert!(matches!(classify(&dir), Err(Refusal::Directory)));
        assert!(matches!(
            classify(Path::new("out/")),
            Err(Refusal::NotAFileName)
        ));
        assert!(matches!(
            classify(Path::new("")),
            Err(Refusal::NotAFileName)
        ));
        let sock = dir.join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        assert!(matches!(classify(&sock), Err(Refusal::Socket)));
        assert!(matches!(
            classify(Path::new("/proc/self/status")),
            Err(Refusal::Proc)
        ));
        assert!(matches!(
            classify(&dir.join("missing/x.json")),
            Err(Refusal::MissingDir(_))
        ));
        fs::write(dir.join("file"), "").expect("write");
        assert!(matches!(
            classify(&dir.join("file/x.json")),
            Err(Refusal::NotADir(_))
        ));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn the_same_file_twice_is_refused() {
        let dir = scratch("twice");
        let mut out = Outputs::new();
        out.plan("-o", Some(&dir.join("r.html"))).expect("first");
        fs::create_dir(dir.join("sub")).expect("mkdir");
        let again = dir.join("sub/../r.html");
        let f = out.plan("--html", Some(&again)).expect_err("refused");
        assert!(f.message.contains("name the same file"), "{}", f.message);
        // Streams may be named twice: /dev/null discards both.
        let mut out = Outputs::new();
        out.plan("-o", Some(Path::new("/dev/null"))).expect("first");
        out.plan("--html", Some(Path::new("/dev/null")))
            .expect("second");
        drop(out);
        assert_eq!(names(&dir), ["sub"]);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_failed_rename_puts_back_the_files_already_replaced() {
        let dir = scratch("rollback");
        let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
        fs::write(&a, "old a").expect("write");
        let mut out = Outputs::new();
        let sa = out.plan("-o", Some(&a)).expect("a");
        let sc = out.plan("--draws-out", Some(&c)).expect("c");
        let sb = out.plan("--html", Some(&b)).expect("b");
        out.put(sa, "new a");
        out.put(sc, "new c");
        out.put(sb, "new b");
        // Something takes b's place between the check and the commit: its rename fails.
        fs::create_dir(&b).expect("mkdir");
        fs::write(b.join("keep"), "").expect("write");
        assert!(out.commit().is_err());
        assert_eq!(fs::read_to_string(&a).expect("a"), "old a");
        assert!(!c.exists(), "a new file of the failed set was left");
        assert_eq!(names(&dir), ["a", "b"], "temporary or backup files left");
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_dropped_transaction_writes_nothing_and_leaves_no_temporary_file() {
        let dir = scratch("dropped");
        let mut out = Outputs::new();
        let s = out.plan("-o", Some(&dir.join("big.csv"))).expect("plan");
        let n = out.stage(s, |w| w.write_all(b"a,b\n1,2\n")).expect("stage");
        assert_eq!(n, 8);
        assert_eq!(
            names(&dir).len(),
            1,
            "the staged file exists until the commit"
        );
        drop(out);
        assert!(names(&dir).is_empty());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn staged_and_put_files_are_all_in_place_after_the_commit() {
        let dir = scratch("staged");
        let (a, b) = (dir.join("a.csv"), dir.join("b.yaml"));
        fs::write(&a, "old").expect("write");
        let mut out = Outputs::new();
        let sa = out.plan("--out-dir", Some(&a)).expect("a");
        let sb = out.plan("--out-dir", Some(&b)).expect("b");
        out.stage(sa, |w| w.write_all(b"new a")).expect("stage");
        out.put(sb, "new b");
        out.commit().expect("commit");
        assert_eq!(fs::read_to_string(&a).expect("a"), "new a");
        assert_eq!(fs::read_to_string(&b).expect("b"), "new b");
        assert_eq!(names(&dir), ["a.csv", "b.yaml"]);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = scratch("perms");
        let f = dir.join("private.json");
        fs::write(&f, "old").expect("write");
        fs::set_permissions(&f, fs::Permissions::from_mode(0o600)).expect("chmod");
        emit("new", Some(&f)).expect("emit");
        let m = fs::metadata(&f).expect("meta");
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_to_string(&f).expect("read"), "new");
        let _ = fs::remove_dir_all(dir);
    }
}
