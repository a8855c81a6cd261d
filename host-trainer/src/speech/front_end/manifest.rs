//! The manifest of a noisy set (`manifest.csv`, written by `vaenmf speech mix`): one row per
//! mixture, CSV with quoting (the `csv` crate), so names and paths may hold commas and quotes.
//! Paths are relative to the manifest's folder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The header, in order.
pub const HEADER: [&str; 7] = [
    "utterance",
    "noise",
    "segment_start",
    "snr_db",
    "clean",
    "noise_file",
    "noisy",
];

/// One row of a mixing manifest, as read.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    /// Utterance name.
    pub utterance: String,
    /// Noise name.
    pub noise: String,
    /// SNR, dB.
    pub snr_db: f64,
    /// Clean, noise and noisy files (joined to the manifest's folder).
    pub files: [PathBuf; 3],
}

/// One row to write: the names, the segment, the SNR and the three files relative to the
/// manifest's folder.
pub struct ManifestEntry<'a> {
    /// Utterance name.
    pub utterance: &'a str,
    /// Noise name.
    pub noise: &'a str,
    /// First sample of the noise segment.
    pub segment_start: usize,
    /// SNR, dB.
    pub snr_db: f64,
    /// Clean, noise and noisy files.
    pub files: [&'a Path; 3],
}

/// The manifest's text.
pub fn manifest_text(entries: &[ManifestEntry]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for e in entries {
        let files = e.files.map(|p| p.to_string_lossy().into_owned());
        w.write_record([
            e.utterance,
            e.noise,
            &e.segment_start.to_string(),
            &e.snr_db.to_string(),
            &files[0],
            &files[1],
            &files[2],
        ])?;
    }
    w.into_inner().context("manifest: cannot finish the CSV text")
}

/// Parses a manifest's `text` (`name` and `dir` for messages and paths).
pub fn parse_manifest(text: &[u8], name: &Path, dir: &Path) -> Result<Vec<ManifestRow>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text);
    let header = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header", name.display()))?
        .clone();
    if header.iter().ne(HEADER) {
        bail!(
            "{}: not a `vaenmf speech mix` manifest (header {:?}, expected {})",
            name.display(),
            header.iter().collect::<Vec<_>>(),
            HEADER.join(",")
        );
    }
    reader
        .records()
        .enumerate()
        .map(|(i, record)| {
            let row = i + 2;
            let f = record.with_context(|| format!("{}: row {row}", name.display()))?;
            if f.len() != HEADER.len() {
                bail!(
                    "{}: row {row}: {} fields, expected {}",
                    name.display(),
                    f.len(),
                    HEADER.len()
                );
            }
            let snr_db: f64 = f[3]
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .with_context(|| {
                    format!(
                        "{}: row {row}: snr_db {:?} is not a finite number",
                        name.display(),
                        &f[3]
                    )
                })?;
            Ok(ManifestRow {
                utterance: f[0].to_string(),
                noise: f[1].to_string(),
                snr_db,
                files: [dir.join(&f[4]), dir.join(&f[5]), dir.join(&f[6])],
            })
        })
        .collect()
}

/// Reads `manifest.csv`; paths are relative to its folder.
pub fn read_manifest(path: &Path) -> Result<Vec<ManifestRow>> {
    let text = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    parse_manifest(&text, path, path.parent().unwrap_or(Path::new(".")))
}
