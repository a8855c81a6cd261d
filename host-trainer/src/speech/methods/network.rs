//! The feed-forward networks of the learned enhancement methods (the mask network of
//! [`super::dnn`] and the activation network of [`super::activation_net`]): their input
//! features, a ReLU MLP in burn, and one training loop (Adam, minibatches, seeded order).
//!
//! Features: `ln(1 + |X| / reference)` per bin with `context` frames before and `look_ahead`
//! frames after stacked (edge frames repeated; no look-ahead: a causal network), standardised per dimension with the training set's mean and
//! standard deviation. Both are stored with the network so inference sees what training saw.

use anyhow::{bail, Result};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::TensorData;
use nalgebra::DMatrix;
use serde::Serialize;
use vaenmf_core::gamma::Prng;
use vaenmf_core::speech::{Network, NetworkLayer};

use crate::params::{self, Checked, ParamError};
use crate::vae::sampler::to_vec;
use crate::vae::subnormal::flush;
use crate::vae::training::{adam, Backend};

/// Network and training settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetConfig {
    /// Hidden layer widths (ReLU).
    pub hidden: Vec<usize>,
    /// Frames before the current one stacked into the input.
    pub context: usize,
    /// Frames after it: each adds a hop to the streaming latency (0: causal).
    pub look_ahead: usize,
    /// Epochs over the training frames.
    pub epochs: usize,
    /// Minibatch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam weight decay.
    pub weight_decay: f64,
    /// Epochs of the end-to-end fine-tuning (`vae-nmf-e2e`).
    pub e2e_epochs: usize,
    /// Adam learning rate of the fine-tuning.
    pub e2e_lr: f64,
    /// Seed (initialisation, data order).
    pub seed: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            hidden: vec![500, 500, 500],
            context: 1,
            look_ahead: 1,
            epochs: 10,
            batch_size: 256,
            lr: 1e-3,
            weight_decay: 0.0,
            e2e_epochs: 10,
            e2e_lr: 1e-4,
            seed: 1,
        }
    }
}

/// Settings that passed [`NetConfig::check`].
pub type NetParams = Checked<NetConfig>;

impl NetConfig {
    /// At least one hidden layer, every width, the epochs and the batch ≥ 1, positive finite
    /// learning rates, a finite weight decay ≥ 0.
    pub fn check(self) -> Result<NetParams, ParamError> {
        let widths = 1..=params::limits::WIDTH;
        if !(1..=params::limits::LAYERS).contains(&self.hidden.len())
            || self.hidden.iter().any(|w| !widths.contains(w))
        {
            return Err(ParamError::new(
                "net-hidden",
                format!("{:?}", self.hidden),
                format!(
                    "1 to {} widths, each between 1 and {}",
                    params::limits::LAYERS,
                    params::limits::WIDTH
                ),
            ));
        }
        params::within("net-context", self.context, 0, params::limits::CONTEXT)?;
        params::within("look-ahead", self.look_ahead, 0, params::limits::CONTEXT)?;
        params::within("net-epochs", self.epochs, 1, params::limits::EPOCHS)?;
        params::within("net-batch-size", self.batch_size, 1, params::limits::BATCH_SIZE)?;
        params::positive("net-lr", self.lr)?;
        params::nonnegative("net-weight-decay", self.weight_decay)?;
        params::within("e2e-epochs", self.e2e_epochs, 1, params::limits::EPOCHS)?;
        params::positive("e2e-lr", self.e2e_lr)?;
        Ok(Checked::new_unchecked(self))
    }
}

/// The input transform: log compression, context stacking, standardisation.
#[derive(Debug, Clone, Serialize)]
pub struct Features {
    /// Bins per frame.
    pub bins: usize,
    /// Frames of context before the current one.
    pub before: usize,
    /// Frames after it (the look-ahead).
    pub after: usize,
    /// Magnitude reference of the log compression (the training mixtures' mean magnitude).
    pub reference: f32,
    /// Per-dimension mean of the compressed, stacked training features.
    pub mean: Vec<f32>,
    /// Per-dimension standard deviation (floored at 1e-6).
    pub std: Vec<f32>,
}

fn compressed_stack(
    mag: &DMatrix<f32>,
    (before, after): (usize, usize),
    reference: f32,
) -> (usize, Vec<f32>) {
    let (bins, frames) = mag.shape();
    let width = bins * (before + 1 + after);
    let log: Vec<f32> = mag.iter().map(|&v| (v.max(0.0) / reference).ln_1p()).collect();
    let mut out = Vec::with_capacity(frames * width);
    for t in 0..frames {
        for offset in 0..=before + after {
            let s = (t + offset).saturating_sub(before).min(frames.saturating_sub(1));
            out.extend_from_slice(&log[s * bins..(s + 1) * bins]);
        }
    }
    (width, out)
}

impl Features {
    /// Fits the reference and the standardisation on the training mixtures (bins × frames),
    /// and returns them with the training features (what [`Self::apply`] would give).
    /// `context` is (frames before, frames after).
    pub fn fit(mag: &DMatrix<f32>, context: (usize, usize)) -> Result<(Self, Vec<f32>)> {
        if mag.ncols() == 0 {
            bail!("no training frames for the network's features");
        }
        let reference = (mag.mean()).max(1e-12);
        let (width, mut stacked) = compressed_stack(mag, context, reference);
        let n = mag.ncols() as f64;
        let mut sum = vec![0.0f64; width];
        let mut sq = vec![0.0f64; width];
        for row in stacked.chunks_exact(width) {
            for (j, &v) in row.iter().enumerate() {
                sum[j] += f64::from(v);
                sq[j] += f64::from(v) * f64::from(v);
            }
        }
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sq
            .iter()
            .zip(&sum)
            .map(|(q, s)| ((q / n - (s / n).powi(2)).max(0.0).sqrt() as f32).max(1e-6))
            .collect();
        let features = Self {
            bins: mag.nrows(),
            before: context.0,
            after: context.1,
            reference,
            mean,
            std,
        };
        features.standardise(&mut stacked);
        Ok((features, stacked))
    }

    fn standardise(&self, stacked: &mut [f32]) {
        for row in stacked.chunks_exact_mut(self.width()) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
    }

    /// Input width.
    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// The features of a magnitude spectrogram (bins × frames), frame-major rows.
    pub fn apply(&self, mag: &DMatrix<f32>) -> Result<Vec<f32>> {
        if mag.nrows() != self.bins {
            bail!(
                "the network was trained on {} bins, this spectrogram has {}",
                self.bins,
                mag.nrows()
            );
        }
        let (_, mut x) = compressed_stack(mag, (self.before, self.after), self.reference);
        self.standardise(&mut x);
        Ok(x)
    }
}

/// A ReLU MLP with a linear output layer.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layers.
    pub hidden: Vec<Linear>,
    /// Output layer.
    pub output: Linear,
}

impl Mlp {
    fn new(inputs: usize, hidden: &[usize], outputs: usize, device: &Device) -> Self {
        let mut width = inputs;
        let layers = hidden
            .iter()
            .map(|&h| {
                let l = LinearConfig::new(width, h).init(device);
                width = h;
                l
            })
            .collect();
        Self {
            hidden: layers,
            output: LinearConfig::new(width, outputs).init(device),
        }
    }

    /// Raw outputs for inputs `x` (`[batch, inputs]`).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.hidden.iter().fold(x, |h, l| relu(l.forward(h)));
        self.output.forward(h)
    }

    /// Raw outputs for frame-major `inputs` (`frames × width`), without autodiff.
    pub fn predict(&self, inputs: &[f32], width: usize, backend: Backend) -> Result<Vec<f32>> {
        let device = backend.device(false);
        let mut out = Vec::new();
        for chunk in inputs.chunks(4096 * width) {
            let x = Tensor::from_data(
                TensorData::new(chunk.to_vec(), [chunk.len() / width, width]),
                &device,
            );
            out.extend(to_vec(self.forward(x))?);
        }
        Ok(out)
    }
}

impl Mlp {
    /// The layers as an enhancer file stores them (weights input-major, as burn's `Linear`;
    /// subnormals flushed to zero, as every exported model's).
    pub fn to_layers(&self) -> Result<Vec<NetworkLayer>> {
        self.hidden
            .iter()
            .chain(std::iter::once(&self.output))
            .map(|l| {
                let [inputs, outputs] = l.weight.val().dims();
                let bias = match &l.bias {
                    Some(b) => flush(to_vec(b.val())?),
                    None => vec![0.0; outputs],
                };
                Ok(NetworkLayer {
                    inputs: u32::try_from(inputs)?,
                    outputs: u32::try_from(outputs)?,
                    weights: flush(to_vec(l.weight.val())?),
                    bias,
                })
            })
            .collect()
    }
}

impl Features {
    /// The network of an enhancer file: these features, `mlp`'s layers, and `output_scale`
    /// (empty for a mask network).
    pub fn to_network(&self, mlp: &Mlp, output_scale: Vec<f32>) -> Result<Network> {
        Ok(Network {
            context_before: u32::try_from(self.before)?,
            context_after: u32::try_from(self.after)?,
            reference: self.reference,
            mean: self.mean.clone(),
            std: self.std.clone(),
            layers: mlp.to_layers()?,
            output_scale,
        })
    }
}

/// `ln(1 + eᵛ)`, as burn's softplus on the outputs during training (linear above 20, where
/// the two agree in f32).
pub fn softplus(v: f32) -> f32 {
    if v > 20.0 {
        v
    } else {
        v.exp().ln_1p()
    }
}

/// Rows `rows` of a frame-major matrix of `width` columns as a tensor.
pub fn rows_tensor(data: &[f32], width: usize, rows: &[usize], device: &Device) -> Tensor<2> {
    let mut v = Vec::with_capacity(rows.len() * width);
    for &r in rows {
        v.extend_from_slice(&data[r * width..(r + 1) * width]);
    }
    Tensor::from_data(TensorData::new(v, [rows.len(), width]), device)
}

/// What training did.
#[derive(Debug, Clone, Serialize)]
pub struct NetReport {
    /// Training frames.
    pub frames: usize,
    /// Mean loss per epoch.
    pub losses: Vec<f64>,
    /// Training throughput (forward, backward, step), frames per second.
    pub frames_per_second: f64,
}

/// A trained network and its training curve.
pub struct TrainedNet {
    /// The network (no autodiff).
    pub mlp: Mlp,
    /// What training did.
    pub report: NetReport,
}

/// Trains an MLP from `inputs` (frame-major, `width` columns) to `outputs` values per frame
/// under `loss(outputs, batch rows, device)`. `progress(epoch, loss)` after each epoch.
pub fn train(
    inputs: &[f32],
    width: usize,
    outputs: usize,
    cfg: &NetParams,
    backend: Backend,
    loss: impl Fn(Tensor<2>, &[usize], &Device) -> Tensor<1>,
    mut progress: impl FnMut(usize, f64),
) -> Result<TrainedNet> {
    let frames = inputs.len() / width.max(1);
    let device = backend.device(true);
    device.seed(cfg.seed);
    let mlp = Mlp::new(width, &cfg.hidden, outputs, &device);
    let run = Epochs {
        inputs,
        width,
        rows: (0..frames).collect(),
        epochs: cfg.epochs,
        lr: cfg.lr,
        cfg,
    };
    let mut losses = Vec::with_capacity(cfg.epochs);
    let started = std::time::Instant::now();
    let mlp = run.run(mlp, &device, &loss, |epoch, mean, _| {
        losses.push(mean);
        progress(epoch, mean);
        Ok(())
    })?;
    Ok(TrainedNet {
        mlp: mlp.valid(),
        report: NetReport {
            frames,
            losses,
            frames_per_second: (frames * cfg.epochs) as f64 / started.elapsed().as_secs_f64().max(1e-9),
        },
    })
}

/// What fine-tuning did.
#[derive(Debug, Clone, Serialize)]
pub struct FineTuneReport {
    /// Training frames (the first 90 % of the set).
    pub frames: usize,
    /// Validation frames (the last 10 %: the last training mixtures).
    pub validation_frames: usize,
    /// Validation loss of the starting network.
    pub initial_validation_loss: f64,
    /// Mean training loss per epoch.
    pub losses: Vec<f64>,
    /// Validation loss after each epoch.
    pub validation_losses: Vec<f64>,
    /// The epoch kept (lowest validation loss; 0: the starting network).
    pub best_epoch: usize,
}

/// Continues training `start` under `loss` for `cfg.e2e_epochs` epochs at `cfg.e2e_lr` on the
/// first 90 % of the frames, and returns the network after the epoch with the lowest loss on
/// the last 10 % (or `start` when no epoch improved on it): the number of epochs is chosen on
/// training files only.
pub fn fine_tune(
    start: &Mlp,
    inputs: &[f32],
    width: usize,
    cfg: &NetParams,
    backend: Backend,
    loss: impl Fn(Tensor<2>, &[usize], &Device) -> Tensor<1>,
    mut progress: impl FnMut(usize, f64),
) -> Result<(Mlp, FineTuneReport)> {
    let frames = inputs.len() / width.max(1);
    let validation = frames / 10;
    if validation == 0 {
        bail!("{frames} training frames: too few to hold out a tenth for validation");
    }
    let split = frames - validation;
    let valid_rows: Vec<usize> = (split..frames).collect();
    let eval_device = backend.device(false);
    let validation_loss = |mlp: &Mlp| -> f64 {
        let mut sum = 0.0;
        for rows in valid_rows.chunks(cfg.batch_size) {
            let x = rows_tensor(inputs, width, rows, &eval_device);
            let l = loss(mlp.forward(x), rows, &eval_device).into_scalar::<f32>();
            sum += f64::from(l) * rows.len() as f64;
        }
        sum / validation as f64
    };
    let initial = validation_loss(start);
    let mut report = FineTuneReport {
        frames: split,
        validation_frames: validation,
        initial_validation_loss: initial,
        losses: Vec::new(),
        validation_losses: Vec::new(),
        best_epoch: 0,
    };
    let mut best = (initial, start.clone());
    let run = Epochs {
        inputs,
        width,
        rows: (0..split).collect(),
        epochs: cfg.e2e_epochs,
        lr: cfg.e2e_lr,
        cfg,
    };
    let device = backend.device(true);
    run.run(start.clone().train(), &device, &loss, |epoch, mean, mlp| {
        let valid = mlp.valid();
        let v = validation_loss(&valid);
        report.losses.push(mean);
        report.validation_losses.push(v);
        if v < best.0 {
            best = (v, valid);
            report.best_epoch = epoch;
        }
        progress(epoch, mean);
        Ok(())
    })?;
    Ok((best.1, report))
}

/// Minibatch epochs of Adam over `rows` (order shuffled each epoch by the seed).
struct Epochs<'a> {
    inputs: &'a [f32],
    width: usize,
    rows: Vec<usize>,
    epochs: usize,
    lr: f64,
    cfg: &'a NetParams,
}

impl Epochs<'_> {
    /// Trains `mlp` (on the autodiff `device`); `after(epoch, mean loss, network)` after
    /// each epoch.
    fn run(
        mut self,
        mut mlp: Mlp,
        device: &Device,
        loss: &impl Fn(Tensor<2>, &[usize], &Device) -> Tensor<1>,
        mut after: impl FnMut(usize, f64, &Mlp) -> Result<()>,
    ) -> Result<Mlp> {
        if self.rows.is_empty() {
            bail!("no training frames for the network");
        }
        let mut optim = adam(self.cfg.weight_decay);
        let mut rng = Prng::new(self.cfg.seed);
        for epoch in 1..=self.epochs {
            for i in (1..self.rows.len()).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                self.rows.swap(i, j);
            }
            let (mut sum, mut batches) = (0.0, 0usize);
            for rows in self.rows.chunks(self.cfg.batch_size) {
                let x = rows_tensor(self.inputs, self.width, rows, device);
                let l = loss(mlp.forward(x), rows, device);
                let value = f64::from(l.clone().into_scalar::<f32>());
                if !value.is_finite() {
                    bail!("network training diverged at epoch {epoch}: loss {value} (try a smaller learning rate)");
                }
                sum += value;
                batches += 1;
                let grads = GradientsParams::from_grads(l.backward(), &mlp);
                mlp = optim.step(self.lr, mlp, grads);
            }
            after(epoch, sum / batches.max(1) as f64, &mlp)?;
        }
        Ok(mlp)
    }
}
