//! Quantising a network enhancer (`vaenmf quantize ENHANCER.vnmf`): the activation ranges are
//! calibrated on the network inputs of noisy training recordings, as the enhancer computes
//! them, and the core's post-training quantisation
//! ([`vaenmf_core::speech::quantized_network`]) replaces the f32 layers by int8 ones. The
//! dictionaries, the features and the gain stay f32.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use vaenmf_core::speech::quantized_network::{calibrate, quantize};
use vaenmf_core::speech::{EnhancerBlob, NetworkRanges};

use super::enhancer::Enhancer;
use crate::speech::front_end::audio::read_at_rate;
use crate::speech::front_end::manifest::read_manifest;

/// Most calibration recordings read.
pub const MAX_CALIBRATION_FILES: usize = 10_000;

/// The noisy recordings of `path`: a `speech mix` manifest (its noisy files), a folder (its
/// `.wav` files, by name) or one WAV file.
pub fn noisy_files(path: &Path) -> Result<Vec<PathBuf>> {
    let files = if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("{}: cannot list", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
            .collect();
        files.sort();
        files
    } else if path.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")) {
        read_manifest(path)?
            .into_iter()
            .map(|r| r.files[2].clone())
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    if files.is_empty() {
        bail!(
            "{}: no WAV files (give a WAV file, a folder of them or a `speech mix` manifest.csv)",
            path.display()
        );
    }
    if files.len() > MAX_CALIBRATION_FILES {
        bail!(
            "{}: {} recordings, at most {MAX_CALIBRATION_FILES} are read for calibration",
            path.display(),
            files.len()
        );
    }
    Ok(files)
}

/// The enhancer's network inputs, frame after frame, of one recording.
fn inputs_of(enhancer: &Enhancer, path: &Path) -> Result<Vec<f32>> {
    let rate = enhancer.blob().front_end.sample_rate;
    let (noisy, _) = read_at_rate(path, rate, false)?;
    Ok(enhancer.network_inputs(&enhancer.magnitudes(&noisy)))
}

/// The calibrated ranges over every recording of `files`.
pub fn calibrate_on(enhancer: &Enhancer, files: &[PathBuf]) -> Result<NetworkRanges> {
    let mut all: Option<NetworkRanges> = None;
    for path in files {
        let inputs = inputs_of(enhancer, path)?;
        let r =
            calibrate(enhancer.blob(), &inputs).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        all = Some(match all {
            None => r,
            Some(a) => NetworkRanges {
                input: a.input.max(r.input),
                hidden: a.hidden.iter().zip(&r.hidden).map(|(x, y)| x.max(*y)).collect(),
                frames: a.frames + r.frames,
            },
        });
    }
    all.context("no calibration recordings")
}

/// The enhancer with its network quantised for `ranges`.
pub fn quantize_enhancer(enhancer: &Enhancer, ranges: &NetworkRanges) -> Result<EnhancerBlob> {
    Ok(quantize(enhancer.blob(), ranges)?)
}

/// How far the int8 enhancer's gains are from the f32 one's.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GainError {
    /// Frames compared.
    pub frames: usize,
    /// Mean |g_int8 − g_f32| over every bin of every frame.
    pub mean_abs: f64,
    /// 99th percentile of |g_int8 − g_f32|.
    pub p99_abs: f64,
    /// Largest |g_int8 − g_f32|.
    pub max_abs: f64,
}

/// The gain error of `int8` against `f32` over the recordings of `files` (offline gains).
pub fn gain_error(f32_enhancer: &Enhancer, int8: &Enhancer, files: &[PathBuf]) -> Result<GainError> {
    let rate = f32_enhancer.blob().front_end.sample_rate;
    let mut diffs: Vec<f32> = Vec::new();
    let mut frames = 0;
    for path in files {
        let (noisy, _) = read_at_rate(path, rate, false)?;
        let mag = f32_enhancer.magnitudes(&noisy);
        let (a, b) = (f32_enhancer.gain(&mag)?, int8.gain(&mag)?);
        frames += mag.ncols();
        diffs.extend(a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()));
    }
    if diffs.is_empty() {
        bail!("no frames to compare");
    }
    let mean_abs = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    diffs.sort_by(f32::total_cmp);
    let p99 = diffs[(diffs.len() - 1) * 99 / 100];
    Ok(GainError {
        frames,
        mean_abs,
        p99_abs: f64::from(p99),
        max_abs: f64::from(diffs[diffs.len() - 1]),
    })
}
