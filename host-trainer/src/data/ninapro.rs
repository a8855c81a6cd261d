//! Ninapro DB1 layout: `emg` (N × 10, 100 Hz envelopes), `restimulus` and `rerepetition`
//! (N × 1; 0 = rest). Train/test split by repetition, Ninapro's convention by default.

use std::path::Path;

use anyhow::{bail, Result};

use super::load::{mat_numeric, read_mat};
use super::EmgMatrix;

/// Ninapro's usual split: train on repetitions 1, 3, 4, 6, 8, 9, 10; test on 2, 5, 7.
pub const TRAIN_REPETITIONS: [u32; 7] = [1, 3, 4, 6, 8, 9, 10];
/// See [`TRAIN_REPETITIONS`].
pub const TEST_REPETITIONS: [u32; 3] = [2, 5, 7];

/// A Ninapro recording split into training and test frames.
#[derive(Debug, Clone)]
pub struct NinaproSplit {
    /// Frames of the training repetitions.
    pub train: EmgMatrix,
    /// Frames of the test repetitions.
    pub test: EmgMatrix,
    /// Samples dropped because the three variables had different lengths.
    pub truncated: usize,
}

fn column(file: &str, var: &str, size: &[usize], values: Vec<f64>) -> Result<Vec<f64>> {
    if size.len() != 2 || size.iter().filter(|&&d| d != 1).count() > 1 {
        bail!("{file}: variable '{var}' must be N × 1, found {size:?}");
    }
    Ok(values)
}

/// Loads `path` in the DB1 layout. `movement` selects one movement (restimulus value);
/// otherwise every non-rest frame is used.
pub fn load_ninapro(path: &Path, movement: Option<u32>) -> Result<NinaproSplit> {
    let file = path.display().to_string();
    if !path.exists() {
        bail!("{file}: no such file");
    }
    let mat = read_mat(path)?;
    let (emg_size, emg) = mat_numeric(&mat, &file, "emg")?;
    if emg_size.len() != 2 {
        bail!("{file}: variable 'emg' must be N × channels, found {emg_size:?}");
    }
    let (size, values) = mat_numeric(&mat, &file, "restimulus")?;
    let stimulus = column(&file, "restimulus", &size, values)?;
    let (size, values) = mat_numeric(&mat, &file, "rerepetition")?;
    let repetition = column(&file, "rerepetition", &size, values)?;

    let (n_emg, channels) = (emg_size[0], emg_size[1]);
    // MATLAB is column-major: sample t of channel c is at c * n_emg + t.
    // Finite as the f32 the matrix holds: 1e300 is a finite f64 and an infinite f32.
    if let Some(i) = emg.iter().position(|&v| !(v as f32).is_finite()) {
        bail!(
            "{file}: variable 'emg': value {:?} at frame {}, channel {} is not a finite f32",
            emg[i],
            i % n_emg + 1,
            i / n_emg + 1
        );
    }
    for (var, values) in [("restimulus", &stimulus), ("rerepetition", &repetition)] {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            bail!(
                "{file}: variable '{var}': non-finite value {} at row {}",
                values[i],
                i + 1
            );
        }
    }
    let n = n_emg.min(stimulus.len()).min(repetition.len());
    let truncated = n_emg.max(stimulus.len()).max(repetition.len()) - n;
    let mut train = Vec::new();
    let mut test = Vec::new();
    for t in 0..n {
        let (s, r) = (stimulus[t], repetition[t]);
        let selected = match movement {
            Some(k) => s == f64::from(k),
            None => s != 0.0,
        };
        if !selected || r < 1.0 {
            continue;
        }
        let r = r as u32;
        let target = if TRAIN_REPETITIONS.contains(&r) {
            &mut train
        } else if TEST_REPETITIONS.contains(&r) {
            &mut test
        } else {
            continue;
        };
        target.extend((0..channels).map(|c| emg[c * n_emg + t] as f32));
    }
    let what = match movement {
        Some(k) => format!("movement {k}"),
        None => "any movement".into(),
    };
    if train.is_empty() {
        bail!("{file}: no frames of {what} in training repetitions {TRAIN_REPETITIONS:?}");
    }
    if test.is_empty() {
        bail!("{file}: no frames of {what} in test repetitions {TEST_REPETITIONS:?}");
    }
    Ok(NinaproSplit {
        train: EmgMatrix::new(train.len() / channels, channels, train)?,
        test: EmgMatrix::new(test.len() / channels, channels, test)?,
        truncated,
    })
}
