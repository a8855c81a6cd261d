//! A speech enhancer of any method held as its file ([`EnhancerBlob`], blob format 7): what
//! `speech train` writes, `speech enhance --model` reads and the tables score — one object, so
//! a saved model enhances exactly as the one that was trained.
//!
//! Offline (the whole utterance's STFT in f64): the multiplicative-update methods fit every
//! frame's activations at once ([`super::separate`]'s fit and gain); the network methods run
//! the core's per-frame network ([`vaenmf_core::speech::network`]) on every frame, edge frames
//! repeated for the context — the code a streaming device runs.

use std::path::Path;

use anyhow::{bail, Context, Result};
use nalgebra::DMatrix;
use rayon::prelude::*;
use vaenmf_core::speech::{
    ActivationFit, ActivationLoss, EnhancerBlob, EnhancerMethod, FeatureView, GainFloor, OwnedGainScratch,
};

use super::separate::{
    activations, apply_gain, dictionary_gain, magnitude_matrix, SeparationConfig, Separator,
};
use super::streaming::DEFAULT_UPDATES_PER_FRAME;
use crate::nmf::NmfLoss;
use crate::speech::front_end::stft::{describe, Stft, StftConfig};

/// A checked enhancer with its STFT.
pub struct Enhancer {
    blob: EnhancerBlob,
    stft: Stft,
}

/// The lowest gain floor one can set, dB: below it a floor changes nothing a 16-bit
/// recording can hold.
pub const MIN_GAIN_FLOOR_DB: f64 = -120.0;

/// The gain floor of `db` dB (from [`MIN_GAIN_FLOOR_DB`] to 0: a gain of at least
/// `10^(db/20)`).
pub fn gain_floor_db(db: f64) -> Result<GainFloor> {
    if !(MIN_GAIN_FLOOR_DB..=0.0).contains(&db) {
        bail!("a gain floor of {db} dB is outside {MIN_GAIN_FLOOR_DB} ..= 0 dB");
    }
    Ok(GainFloor::new_checked(10f64.powf(db / 20.0) as f32)?)
}

/// A gain floor in dB for reports (`None` for no floor).
pub fn floor_db(floor: GainFloor) -> Option<f64> {
    (floor.value() > 0.0).then(|| 20.0 * f64::from(floor.value()).log10())
}

/// The trainer's name of the core's activation loss.
pub fn nmf_loss(loss: ActivationLoss) -> NmfLoss {
    match loss {
        ActivationLoss::Frobenius => NmfLoss::Frobenius,
        ActivationLoss::KullbackLeibler => NmfLoss::KullbackLeibler,
    }
}

/// The core's name of the trainer's activation loss.
pub fn activation_loss(loss: NmfLoss) -> ActivationLoss {
    match loss {
        NmfLoss::Frobenius => ActivationLoss::Frobenius,
        NmfLoss::KullbackLeibler => ActivationLoss::KullbackLeibler,
    }
}

impl Enhancer {
    /// Validates `blob` and builds its STFT.
    pub fn new(blob: EnhancerBlob) -> Result<Self> {
        blob.validate()?;
        let stft = Stft::new(&StftConfig::of_front_end(&blob.front_end).check()?);
        Ok(Self { blob, stft })
    }

    /// Supervised NMF with a separator's dictionaries and settings (what `--speech S --noise N`
    /// names): enhances exactly as [`Separator::enhance`].
    pub fn from_separator(sep: &Separator) -> Result<Self> {
        let w = sep.dictionary();
        let c = sep.config();
        Self::new(EnhancerBlob {
            method: EnhancerMethod::Nmf,
            front_end: *sep.front_end(),
            gain_exponent: c.gain_exponent,
            speech_rank: u32::try_from(sep.speech_rank())?,
            noise_rank: u32::try_from(w.ncols() - sep.speech_rank())?,
            analysis: w.as_slice().to_vec(),
            reconstruction: Vec::new(),
            fit: Some(ActivationFit {
                loss: activation_loss(c.loss),
                iterations: u32::try_from(c.iterations)?,
                sparsity: c.sparsity,
            }),
            network: None,
            gain_floor: 0.0,
            quantized: None,
        })
    }

    /// The same enhancer with another gain floor.
    pub fn with_gain_floor(mut self, floor: GainFloor) -> Self {
        self.blob.gain_floor = floor.value();
        self
    }

    /// Reads an enhancer file; errors name it.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        Self::from_bytes(&path.display().to_string(), &bytes)
    }

    /// An enhancer from the bytes of its file; errors name it `name`.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self> {
        let blob = EnhancerBlob::from_bytes(bytes)
            .with_context(|| format!("{name}: not a usable speech enhancer"))?;
        Self::new(blob).with_context(|| name.to_string())
    }

    /// The file's contents.
    pub fn blob(&self) -> &EnhancerBlob {
        &self.blob
    }

    /// The file's contents, owned.
    pub fn into_blob(self) -> EnhancerBlob {
        self.blob
    }

    /// The front end's STFT.
    pub fn stft(&self) -> &Stft {
        &self.stft
    }

    /// Bins × atoms matrix of a column-major dictionary.
    fn matrix(&self, w: &[f32]) -> DMatrix<f32> {
        DMatrix::from_column_slice(self.blob.bins() as usize, self.blob.rank() as usize, w)
    }

    /// The gain (bins × frames, in [0, 1], at least the gain floor) of a noisy magnitude
    /// spectrogram `|X|^q`.
    pub fn gain(&self, noisy: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let mut gain = self.model_gain(noisy)?;
        self.blob.floor()?.apply(gain.as_mut_slice());
        Ok(gain)
    }

    /// The gain the dictionaries or the network compute, before the floor.
    fn model_gain(&self, noisy: &DMatrix<f32>) -> Result<DMatrix<f32>> {
        let b = &self.blob;
        let bins = b.bins() as usize;
        if noisy.nrows() != bins {
            bail!(
                "a spectrogram of {} bins for an enhancer of {bins}",
                noisy.nrows()
            );
        }
        if let Some(fit) = &b.fit {
            let cfg = SeparationConfig {
                loss: nmf_loss(fit.loss),
                iterations: fit.iterations as usize,
                sparsity: fit.sparsity,
                gain_exponent: b.gain_exponent,
            };
            let analysis = self.matrix(&b.analysis);
            let (h, _) = activations(&analysis, noisy, &cfg);
            let w = if b.reconstruction.is_empty() {
                analysis
            } else {
                self.matrix(&b.reconstruction)
            };
            return Ok(dictionary_gain(&w, b.speech_rank as usize, &h, b.gain_exponent));
        }
        let layers = b.layer_views();
        let net = b
            .network_gain(&layers)
            .ok_or_else(|| anyhow::anyhow!("internal: an enhancer with neither a fit nor a network"))?;
        let features = net.features;
        let frames = noisy.ncols();
        let compressed = compressed(&features, noisy);
        let mut gain = DMatrix::zeros(bins, frames);
        gain.as_mut_slice()
            .par_chunks_mut(bins)
            .enumerate()
            .for_each_init(
                || {
                    (
                        vec![0.0f32; features.width()],
                        OwnedGainScratch::for_network(&net),
                    )
                },
                |(input, scratch), (t, out)| {
                    features.stack(&compressed, frames, t, input);
                    net.gain(input, &mut scratch.borrow(), out);
                },
            );
        Ok(gain)
    }

    /// Every frame's network input (stacked with its context, standardised: frames × width,
    /// frame after frame) for a noisy magnitude spectrogram `|X|^q`, as [`Self::gain`] feeds
    /// the network; empty for the multiplicative-update methods.
    pub fn network_inputs(&self, noisy: &DMatrix<f32>) -> Vec<f32> {
        let layers = self.blob.layer_views();
        let Some(net) = self.blob.network_gain(&layers) else {
            return Vec::new();
        };
        let features = net.features;
        let (frames, width) = (noisy.ncols(), features.width());
        let compressed = compressed(&features, noisy);
        let mut inputs = vec![0.0f32; frames * width];
        inputs
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(t, input)| features.stack(&compressed, frames, t, input));
        inputs
    }

    /// The magnitude spectrogram `|X|^q` of `noisy` (at the front end's rate).
    pub fn magnitudes(&self, noisy: &[f32]) -> DMatrix<f32> {
        magnitude_matrix(&self.stft.forward(noisy), self.blob.front_end.magnitude_exponent)
    }

    /// The speech estimate of `noisy` (at the front end's rate), as long as it.
    pub fn enhance(&self, noisy: &[f32]) -> Result<Vec<f32>> {
        let spec = self.stft.forward(noisy);
        let mag = magnitude_matrix(&spec, self.blob.front_end.magnitude_exponent);
        let gain = self.gain(&mag)?;
        self.stft
            .inverse(&apply_gain(&spec, gain.as_slice()), noisy.len())
    }
}

/// The log-compressed frames of `noisy` (bins × frames), frame after frame.
fn compressed(features: &FeatureView, noisy: &DMatrix<f32>) -> Vec<f32> {
    let bins = noisy.nrows();
    let mut out = vec![0.0f32; noisy.len()];
    for (frame, o) in noisy
        .as_slice()
        .chunks_exact(bins)
        .zip(out.chunks_exact_mut(bins))
    {
        features.compress(frame, o);
    }
    out
}

/// Whether `bytes` hold a speech enhancer (a blob version after the model formats), not a
/// model.
pub fn is_enhancer_blob(bytes: &[u8]) -> bool {
    bytes
        .get(4..6)
        .is_some_and(|v| u16::from_le_bytes([v[0], v[1]]) > vaenmf_core::blob::FORMAT_VERSION)
}

/// The enhancer in one line: method-specific sizes, multiply-adds per frame (streamed, the
/// multiplicative-update methods at [`DEFAULT_UPDATES_PER_FRAME`]) and latency.
pub fn describe_enhancer(blob: &EnhancerBlob) -> String {
    let mut parts = vec![describe(&blob.front_end)];
    if blob.method.has_dictionaries() {
        parts.push(format!(
            "{} speech + {} noise atoms",
            blob.speech_rank, blob.noise_rank
        ));
    }
    if let Some(fit) = &blob.fit {
        parts.push(format!(
            "{:?} activations, {} updates offline",
            fit.loss, fit.iterations
        ));
    }
    if let Some(net) = &blob.network {
        let sizes = blob.layer_sizes();
        let widths: Vec<String> = std::iter::once(sizes.first().map_or(0, |l| l.0))
            .chain(sizes.iter().map(|l| l.1))
            .map(|w| w.to_string())
            .collect();
        parts.push(format!(
            "network {}{} (context {} before, {} after)",
            widths.join("→"),
            if blob.quantized.is_some() { " int8" } else { "" },
            net.context_before,
            net.context_after
        ));
    }
    parts.push(match blob.floor().ok().and_then(floor_db) {
        Some(db) => format!("gain floor {db:.1} dB"),
        None => "no gain floor".to_string(),
    });
    parts.push(format!(
        "{:.3} M multiply-adds per frame",
        blob.macs_per_frame(DEFAULT_UPDATES_PER_FRAME) as f64 / 1e6
    ));
    parts.push(format!("latency {:.1} ms", blob.latency_seconds() * 1e3));
    parts.join("; ")
}

/// The enhancer's description as JSON, for reports and `inspect --json`.
pub fn enhancer_summary(blob: &EnhancerBlob) -> serde_json::Value {
    serde_json::json!({
        "method": blob.method.name(),
        "front_end": blob.front_end,
        "gain_exponent": blob.gain_exponent,
        "gain_floor_db": blob.floor().ok().and_then(floor_db),
        "speech_rank": blob.speech_rank,
        "noise_rank": blob.noise_rank,
        "fit": blob.fit.map(|f| serde_json::json!({
            "loss": format!("{:?}", f.loss),
            "iterations": f.iterations,
            "sparsity": f.sparsity,
        })),
        "network": blob.network.as_ref().map(|n| serde_json::json!({
            "context_before": n.context_before,
            "context_after": n.context_after,
            "layers": blob.layer_sizes().iter().map(|l| [l.0, l.1]).collect::<Vec<_>>(),
        })),
        "quantized": blob.quantized.as_ref().map(|q| serde_json::json!({
            "input_step": q.input_step,
            "input_max": q.input_max,
            "parameter_bytes": q.parameter_bytes(),
        })),
        "macs_per_frame": blob.macs_per_frame(DEFAULT_UPDATES_PER_FRAME),
        "streamed_updates_per_frame": blob.fit.map(|_| DEFAULT_UPDATES_PER_FRAME),
        "latency_ms": blob.latency_seconds() * 1e3,
    })
}
