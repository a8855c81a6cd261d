//! Output files, always written atomically: a temporary file in the target folder, synced,
//! then renamed over the target. A failed run never leaves a half-written file.
//!
//! A command that writes several files (model, report, plots) stages them all in an
//! [`OutputSet`] and moves them into place only when every one was written: a run that fails
//! half-way leaves none of its outputs behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

fn parent_dir(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    Ok(dir)
}

/// Temporary files are created private (0600); finished outputs get ordinary permissions.
fn publish(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("{}: cannot set permissions", path.display()))?;
    }
    tmp.persist(path)
        .with_context(|| format!("{}: cannot move the finished file into place", path.display()))?;
    Ok(())
}

/// Files written to temporary names beside their targets, moved into place together by
/// [`OutputSet::commit`]. Dropped without a commit, it deletes them all.
#[derive(Default)]
pub struct OutputSet {
    staged: Vec<(tempfile::NamedTempFile, PathBuf)>,
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
        let dir = parent_dir(path)?;
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

    /// Moves every staged file into place.
    pub fn commit(self) -> Result<()> {
        for (tmp, path) in self.staged {
            publish(tmp, &path)?;
        }
        Ok(())
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
