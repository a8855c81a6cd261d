//! Synthetic synergy data in the style of Tresch et al. (2006): known nonnegative synergies,
//! exponential activations, noise at a chosen SNR, clipped at zero.

use vaenmf_core::gamma::Prng;

use super::EmgMatrix;

/// Noise model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// Additive Gaussian noise with one standard deviation for all values.
    Gaussian,
    /// Multiplicative (signal-dependent) Gaussian noise: standard deviation ∝ the value.
    SignalDependent,
}

/// Settings of `vaenmf synth`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SynthConfig {
    /// Channels `m`.
    pub channels: usize,
    /// Synergies `r`.
    pub rank: usize,
    /// Training frames.
    pub frames: usize,
    /// Test frames (drawn from the same model, independent noise).
    pub test_frames: usize,
    /// Signal-to-noise ratio, dB (signal power over noise power, over the whole matrix).
    pub snr_db: f64,
    /// Noise model.
    pub noise: NoiseKind,
    /// Correlation between activations, 0 ≤ ρ < 1 (a shared exponential drive).
    pub correlation: f64,
    /// Seed.
    pub seed: u64,
}

/// Synthetic training and test data with the synergies that generated them.
#[derive(Debug, Clone)]
pub struct SynthData {
    /// Training frames.
    pub train: EmgMatrix,
    /// Test frames.
    pub test: EmgMatrix,
    /// True synergies, `m × r` row-major, unit-norm columns.
    pub synergies: Vec<f32>,
}

/// Draws a data set.
pub fn synthesize(cfg: &SynthConfig) -> SynthData {
    let mut rng = Prng::new(cfg.seed);
    let (m, r) = (cfg.channels, cfg.rank);
    // Synergies: exponential entries, unit-norm columns.
    let mut w = vec![0.0f64; m * r];
    for j in 0..r {
        let col: Vec<f64> = (0..m).map(|_| rng.gamma(1.0, 1.0, 1)).collect();
        let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        for i in 0..m {
            w[i * r + j] = col[i] / norm;
        }
    }
    let mut draw = |frames: usize| -> EmgMatrix {
        let rho = cfg.correlation;
        let mut clean = vec![0.0f64; frames * m];
        for f in 0..frames {
            let shared = rng.gamma(1.0, 1.0, 1);
            let z: Vec<f64> = (0..r)
                .map(|_| (1.0 - rho) * rng.gamma(1.0, 1.0, 1) + rho * shared)
                .collect();
            for i in 0..m {
                clean[f * m + i] = (0..r).map(|j| w[i * r + j] * z[j]).sum();
            }
        }
        let power = clean.iter().map(|v| v * v).sum::<f64>() / clean.len().max(1) as f64;
        let noise_power = power / 10f64.powf(cfg.snr_db / 10.0);
        let data = clean
            .iter()
            .map(|&x| {
                let noisy = match cfg.noise {
                    NoiseKind::Gaussian => x + noise_power.sqrt() * rng.normal(),
                    // Var(x·k·ε) summed over the matrix equals k²·power: k² = noise/power.
                    NoiseKind::SignalDependent => x * (1.0 + (noise_power / power).sqrt() * rng.normal()),
                };
                noisy.max(0.0) as f32
            })
            .collect();
        EmgMatrix {
            frames,
            channels: m,
            data,
        }
    };
    let train = draw(cfg.frames);
    let test = draw(cfg.test_frames);
    SynthData {
        train,
        test,
        synergies: w.iter().map(|&v| v as f32).collect(),
    }
}

impl crate::choice::Choice for NoiseKind {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        ("gaussian", "additive Gaussian noise", NoiseKind::Gaussian),
        (
            "signal-dependent",
            "multiplicative noise, standard deviation ∝ the value",
            NoiseKind::SignalDependent,
        ),
    ];
}
