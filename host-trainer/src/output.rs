//! Output files, always written atomically: a temporary file in the target folder, synced,
//! then renamed over the target. A failed run never leaves a half-written file.
//!
//! A command that writes several files (model, report, plots) stages them all in an
//! [`OutputSet`] and moves them into place only when every one was written: a run that fails
//! half-way leaves none of its outputs behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The folder `path` goes in, created if missing; the folders this call created are pushed
/// to `created`, outermost first.
fn parent_dir(path: &Path, created: &mut Vec<PathBuf>) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    created.extend(missing.into_iter().rev());
    Ok(dir)
}

/// A file moved into place by a commit, with what it replaced (kept until the commit ends).
struct Placed {
    target: PathBuf,
    replaced: Option<tempfile::TempPath>,
}

/// Moves `tmp` to `path`; a file already at `path` is first moved aside in the same folder so
/// that a rollback can put it back.
fn place(tmp: tempfile::NamedTempFile, path: &Path) -> Result<Placed> {
    #[cfg(unix)]
    {
        // Temporary files are created private (0600); finished outputs get ordinary ones.
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    let replaced = match std::fs::symlink_metadata(path) {
        Ok(_) => {
            let dir = tmp.path().parent().unwrap_or(Path::new("."));
            let aside = tempfile::Builder::new()
                .prefix(".vaenmf-old-")
                .tempfile_in(dir)
                .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?
                .into_temp_path();
            std::fs::rename(path, &aside)
                .with_context(|| format!("{}: cannot move the existing file aside", path.display()))?;
            Some(aside)
        }
        Err(_) => None,
    };
    if let Err(e) = tmp.persist(path) {
        if let Some(aside) = &replaced {
            let _ = std::fs::rename(aside, path);
        }
        return Err(anyhow::Error::new(e.error))
            .with_context(|| format!("{}: cannot move the finished file into place", path.display()));
    }
    Ok(Placed {
        target: path.to_path_buf(),
        replaced,
    })
}

/// Undoes [`place`]: the new file goes, the one it replaced comes back.
fn unplace(placed: Placed) {
    match placed.replaced {
        Some(aside) => {
            let _ = std::fs::rename(&aside, &placed.target);
        }
        None => {
            let _ = std::fs::remove_file(&placed.target);
        }
    }
}

/// Files written to temporary names beside their targets, moved into place together by
/// [`OutputSet::commit`]: all of them, or — when one cannot be moved — none, with the files
/// they would have replaced restored. Dropped without a successful commit, it deletes its
/// temporary files and the folders it created.
#[derive(Default)]
pub struct OutputSet {
    staged: Vec<(tempfile::NamedTempFile, PathBuf)>,
    /// Folders created for the outputs, outermost first.
    created: Vec<PathBuf>,
}

impl OutputSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stages `bytes` for `path`.
    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.add_with(path, |tmp| {
            let mut file =
                std::fs::File::create(tmp).with_context(|| format!("{}: cannot write", path.display()))?;
            file.write_all(bytes)
                .and_then(|()| file.sync_all())
                .with_context(|| format!("{}: write failed", path.display()))
        })
    }

    /// Lets `draw` write the file for `path` at a temporary path with the same extension (for
    /// writers that pick the format from the name), and stages it.
    pub fn add_with(&mut self, path: &Path, draw: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        if self.staged.iter().any(|(_, p)| p == path) {
            anyhow::bail!("{}: named twice among this run's outputs", path.display());
        }
        let dir = parent_dir(path, &mut self.created)?;
        let suffix = path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(".vaenmf-")
            .suffix(&suffix)
            .tempfile_in(&dir)
            .with_context(|| format!("{}: cannot create a temporary file", dir.display()))?;
        draw(tmp.path())?;
        self.staged.push((tmp, path.to_path_buf()));
        Ok(())
    }

    /// Moves every staged file into place; when one fails, the ones already moved are taken
    /// back (files they replaced restored) and the error is returned.
    pub fn commit(mut self) -> Result<()> {
        let mut placed: Vec<Placed> = Vec::with_capacity(self.staged.len());
        for (tmp, path) in std::mem::take(&mut self.staged) {
            match place(tmp, &path) {
                Ok(p) => placed.push(p),
                Err(e) => {
                    placed.into_iter().rev().for_each(unplace);
                    return Err(e);
                }
            }
        }
        // Done: the replaced files (temporary paths) are deleted as `placed` drops.
        self.created.clear();
        Ok(())
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        self.staged.clear();
        // Innermost first; a folder that holds anything else stays.
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut set = OutputSet::new();
    set.add(path, bytes)?;
    set.commit()
}

/// CSV text with a header row; `values` row-major with `header.len()` columns.
pub fn csv_text(header: &[String], values: &[f32]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for row in values.chunks(header.len().max(1)) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v}")).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// `prefix1, prefix2, …, prefixN`.
pub fn numbered(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}
