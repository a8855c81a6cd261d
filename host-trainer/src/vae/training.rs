//! Training: Adam on the negative ELBO plus the nonnegativity penalty, minibatches, a
//! validation split with early stopping, a NaN guard, checkpoints and resume.

use std::path::PathBuf;

use anyhow::{bail, Result};
use burn::module::{Module, Param, ParamGroup};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::TensorData;
use serde::Serialize;
use vaenmf_core::gamma::Prng;

use super::checkpoint::{Checkpoint, TrainingState};
use super::fused_adam::FusedAdam;
use super::model::{VaeNmf, VaeNmfConfig};
use super::sampler::{sample_gamma, to_vec};
use crate::data::EmgMatrix;
use crate::nmf::{self, NmfConfig, NmfInit, NmfLoss, MAX_DICTIONARY_RANK};
use crate::params::{self, Checked, ParamError};

/// Execution backend (both CPU; selected at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// burn-ndarray (the project's chosen backend).
    Ndarray,
    /// burn-flex (pure-Rust CPU; burn-ndarray's successor).
    Flex,
}

impl Backend {
    /// The device, with autodiff when `train`.
    pub fn device(self, train: bool) -> Device {
        let d = match self {
            // Deprecated upstream in favour of flex, but it is the project's chosen backend.
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
            Backend::Flex => Device::flex(),
        };
        if train {
            d.autodiff()
        } else {
            d
        }
    }
}

/// How the decoder is kept nonnegative during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nonneg {
    /// The paper's quadratic penalty (γ/2) Σ min(w, 0)² (eq. 5).
    Penalty,
    /// Clamp W ≥ 0 after every optimiser step (projected gradient).
    Project,
}

/// How each step updates the dictionary W. The encoder always uses Adam.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecoderSteps {
    /// Adam, like the encoder (the paper's training).
    Adam,
    /// Sign steps of size lr: Adam with β₁ = β₂ = 0, i.e. `lr · g/(|g| + ε)` per entry.
    Sign,
}

/// Training settings.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct VaeTrainConfig {
    /// Hidden widths.
    pub hidden: (usize, usize),
    /// Synergies.
    pub rank: usize,
    /// Prior shape α₀.
    pub alpha0: f64,
    /// Gaussian likelihood standard deviation; `None` estimates it as the residual RMS of a
    /// quick NMF of the same rank.
    pub sigma: Option<f64>,
    /// Poisson / generalised-KL likelihood instead of Gaussian.
    pub poisson: bool,
    /// Shape augmentation B ≥ 1.
    pub boost: u32,
    /// Penalty weight γ.
    pub gamma: f64,
    /// Nonnegativity handling.
    pub nonneg: Nonneg,
    /// How W is updated.
    pub decoder_steps: DecoderSteps,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam weight decay.
    pub weight_decay: f64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Maximum epochs.
    pub epochs: usize,
    /// Fraction of training frames held out for early stopping (0 disables it).
    pub validation: f64,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// Head floor.
    pub floor: f64,
    /// Seed (data order, sampling, initialisation).
    pub seed: u64,
    /// Backend.
    pub backend: Backend,
    /// Write a checkpoint every N epochs into `checkpoint_dir` (0 = never).
    pub checkpoint_every: usize,
    /// Folder for checkpoints.
    pub checkpoint_dir: Option<PathBuf>,
    /// Resume from this checkpoint (an `epoch-NNNNN` folder written by a previous run): the
    /// weights, the optimiser's state, the epoch, the random generator, the data order and
    /// the early-stopping state, so the result equals an uninterrupted run's.
    pub resume: Option<PathBuf>,
}

/// Settings that passed [`VaeTrainConfig::check`].
pub type VaeParams = Checked<VaeTrainConfig>;

impl VaeTrainConfig {
    /// Checks every setting once: hidden widths positive, rank 1 ..= [`MAX_DICTIONARY_RANK`]
    /// (EMG callers keep the core's 16 themselves), α₀, σ (when given), lr and the floor
    /// finite and > 0, γ and weight decay finite and ≥ 0, boost, batch size and epochs ≥ 1,
    /// validation 0 or in (0, 0.5], and checkpoints only with a folder for them.
    pub fn check(self) -> Result<VaeParams, ParamError> {
        let (h1, h2) = self.hidden;
        let widths = 1..=params::limits::WIDTH;
        if !widths.contains(&h1) || !widths.contains(&h2) {
            return Err(ParamError::new(
                "hidden",
                format!("{h1},{h2}"),
                format!("two widths between 1 and {}", params::limits::WIDTH),
            ));
        }
        if !(1..=MAX_DICTIONARY_RANK).contains(&self.rank) {
            return Err(ParamError::new(
                "rank",
                self.rank,
                format!("between 1 and {MAX_DICTIONARY_RANK}"),
            ));
        }
        params::positive("alpha0", self.alpha0)?;
        if let Some(sigma) = self.sigma {
            params::positive("sigma", sigma)?;
        }
        if self.boost == 0 {
            return Err(ParamError::new("boost", self.boost, "at least 1"));
        }
        params::nonnegative("gamma", self.gamma)?;
        params::positive("lr", self.lr)?;
        params::nonnegative("weight-decay", self.weight_decay)?;
        params::within("batch-size", self.batch_size, 1, params::limits::BATCH_SIZE)?;
        params::within("epochs", self.epochs, 1, params::limits::EPOCHS)?;
        if !(self.validation == 0.0 || (self.validation > 0.0 && self.validation <= 0.5)) {
            return Err(ParamError::new(
                "validation",
                self.validation,
                "0 (no validation split) or a fraction in (0, 0.5]",
            ));
        }
        params::positive("floor", self.floor)?;
        if self.checkpoint_every > 0 && self.checkpoint_dir.is_none() {
            return Err(ParamError::new(
                "checkpoint-every",
                self.checkpoint_every,
                "0 unless --checkpoint-dir names a folder for the checkpoints",
            ));
        }
        Ok(Checked::new_unchecked(self))
    }

    /// Every `k`-th training frame goes to validation (`None`: no validation split). The
    /// fraction used is 1/k, the nearest to `validation`.
    pub fn validation_every(&self) -> Option<usize> {
        (self.validation > 0.0).then(|| (1.0 / self.validation).round().max(2.0) as usize)
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct EpochLog {
    /// Epoch number (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub loss: f64,
    /// Mean reconstruction term.
    pub reconstruction: f64,
    /// Mean KL term.
    pub kl: f64,
    /// Mean penalty term.
    pub penalty: f64,
    /// Validation loss (posterior means), if a validation split is used.
    pub validation: Option<f64>,
}

/// A trained model and what happened.
pub struct VaeFit {
    /// The model (no autodiff), W not yet clamped.
    pub model: VaeNmf,
    /// Architecture.
    pub arch: VaeNmfConfig,
    /// σ used.
    pub sigma: f64,
    /// Epoch logs.
    pub history: Vec<EpochLog>,
    /// Why training stopped.
    pub stopped: String,
}

fn batch_tensor(x: &EmgMatrix, rows: &[usize], device: &Device) -> Tensor<2> {
    let mut data = Vec::with_capacity(rows.len() * x.channels);
    for &r in rows {
        data.extend_from_slice(x.frame(r));
    }
    Tensor::from_data(TensorData::new(data, [rows.len(), x.channels]), device)
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

/// The nonnegative starting dictionary and the residual RMS of a quick NMF of the same rank.
fn nmf_start(x: &EmgMatrix, rank: usize, seed: u64) -> Result<(Vec<f32>, f64)> {
    let cfg = NmfConfig {
        rank,
        loss: NmfLoss::Frobenius,
        sparsity: 0.0,
        init: NmfInit::Nndsvda,
        iterations: 300,
        tol: 1e-5,
        restarts: 1,
        seed,
    }
    .check()?;
    let fit = nmf::fit(x, &cfg, |_, _| {})?;
    let (m, r) = (x.channels, rank);
    let mut sq = 0.0f64;
    for (xf, zf) in x.frames_iter().zip(fit.z.chunks_exact(r)) {
        for (i, &xi) in xf.iter().enumerate() {
            let xh: f32 = (0..r).map(|k| fit.w[i * r + k] * zf[k]).sum();
            sq += f64::from(xi - xh).powi(2);
        }
    }
    let rms = (sq / (x.frames * m) as f64).sqrt();
    Ok((fit.w, rms))
}

/// `--nonneg project`: W clamped to ≥ 0. `map` keeps the parameter's id, and with it Adam's
/// moments for W; a new `Param` would restart them every step (sign-SGD at the full rate:
/// measured on gait EMG at 32 × 32, held-out VAF 0.807 instead of 0.880).
pub fn project_nonneg(decoder: Param<Tensor<2>>) -> Param<Tensor<2>> {
    decoder.map(|w| w.clamp_min(0.0).detach().require_grad())
}

/// Adam as training uses it ([`FusedAdam`]: burn's Adam in one pass): coupled weight decay
/// on every parameter, as the paper trains, and ε = 1e-8 as in PyTorch (burn's default is
/// 1e-5).
pub fn adam(weight_decay: f64) -> ModuleOptimizer {
    ModuleOptimizer::from(fused_adam(0.9, 0.999, weight_decay))
}

fn fused_adam(beta_1: f32, beta_2: f32, weight_decay: f64) -> FusedAdam {
    FusedAdam {
        beta_1,
        beta_2,
        epsilon: 1e-8,
        weight_decay: weight_decay as f32,
    }
}

/// The optimiser for `model`: [`adam`] for every parameter, and with
/// [`DecoderSteps::Sign`] Adam with β₁ = β₂ = 0 (sign steps) for the decoder W.
pub fn optimizer(cfg: &VaeTrainConfig, model: &VaeNmf) -> ModuleOptimizer {
    let optim = adam(cfg.weight_decay);
    match cfg.decoder_steps {
        DecoderSteps::Adam => optim,
        DecoderSteps::Sign => optim.with_group(
            ParamGroup::from_ids(vec![model.decoder.id]),
            fused_adam(0.0, 0.0, cfg.weight_decay),
            None,
        ),
    }
}

/// Trains VAE-NMF on scaled, nonnegative frames (with subnormals flushed to zero: see
/// [`super::subnormal`]).
pub fn train(
    x: &EmgMatrix,
    cfg: &VaeParams,
    on_epoch: impl FnMut(&EpochLog, usize) + Send,
) -> Result<VaeFit> {
    super::subnormal::without_subnormals(|| train_on_this_thread(x, cfg, on_epoch))
}

fn train_on_this_thread(
    x: &EmgMatrix,
    cfg: &VaeTrainConfig,
    mut on_epoch: impl FnMut(&EpochLog, usize),
) -> Result<VaeFit> {
    let (m, r) = (x.channels, cfg.rank);
    let device = cfg.backend.device(true);
    device.seed(cfg.seed);

    // Split: every k-th frame to validation keeps both splits spread over the recording.
    let (train_rows, val_rows): (Vec<usize>, Vec<usize>) = match cfg.validation_every() {
        Some(every) => (0..x.frames).partition(|f| f % every != every - 1),
        None => ((0..x.frames).collect(), Vec::new()),
    };

    let (w0, rms) = nmf_start(x, r, cfg.seed)?;
    let sigma = cfg.sigma.unwrap_or(rms.max(1e-4));
    let arch = VaeNmfConfig::new(m, r)
        .with_hidden1(cfg.hidden.0)
        .with_hidden2(cfg.hidden.1)
        .with_floor(cfg.floor);
    // Decoder [r, m] = Wᵀ.
    let wt: Vec<f32> = (0..r)
        .flat_map(|k| (0..m).map(move |i| (i, k)))
        .map(|(i, k)| w0[i * r + k])
        .collect();
    let decoder = Tensor::<2>::from_data(TensorData::new(wt, [r, m]), &device);
    let mut model = arch.init(decoder, &device);
    let mut state = TrainingState::start(cfg.seed, train_rows);
    let mut best: Option<(f64, VaeNmf)> = None;
    let mut optimizer_state = None;
    if let Some(path) = &cfg.resume {
        let resumed = Checkpoint::load(path, cfg, model)?;
        (model, state, best) = (resumed.model, resumed.state, resumed.best);
        optimizer_state = Some(resumed.optimizer);
        if state.epoch >= cfg.epochs {
            bail!(
                "{}: the checkpoint is at epoch {}; ask for more --epochs than that to continue",
                path.display(),
                state.epoch
            );
        }
    }
    // Built after loading: the sign-steps group names the decoder by its (restored) id.
    let mut optim = optimizer(cfg, &model);
    if let Some(record) = optimizer_state {
        optim = optim.load_record(record);
    }
    let mut rng = Prng::from_state(state.rng)
        .ok_or_else(|| anyhow::anyhow!("the checkpoint's random generator state is all zeros"))?;

    let mut stopped = format!("completed {} epochs", cfg.epochs);
    let mut last_good: Option<VaeNmf> = (state.epoch > 0).then(|| model.clone());
    let first_epoch = state.epoch + 1;
    'epochs: for epoch in first_epoch..=cfg.epochs {
        let order = &mut state.order;
        // Fisher–Yates with the run's PRNG: the same seed gives the same batches.
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let (mut sum_loss, mut sum_rec, mut sum_kl, mut sum_pen, mut batches) = (0.0, 0.0, 0.0, 0.0, 0usize);
        for rows in order.chunks(cfg.batch_size) {
            let xb = batch_tensor(x, rows, &device);
            let (alpha, beta) = model.encode(xb.clone(), cfg.floor);
            let z = sample_gamma(alpha.clone(), beta.clone(), cfg.boost, &mut rng)?;
            let terms = model.loss(xb, z, alpha, beta, sigma, cfg.poisson, cfg.alpha0, cfg.gamma)?;
            let loss = scalar(terms.total.clone());
            if !loss.is_finite() {
                let Some(good) = best.as_ref().map(|(_, b)| b.clone()).or(last_good.take()) else {
                    bail!(
                        "training diverged in the first epoch: loss is {loss} (try a smaller --lr or a larger --sigma)"
                    );
                };
                model = good;
                stopped = format!(
                    "diverged: loss {loss} at epoch {epoch}; kept the last good model (try a smaller --lr or a larger --sigma)"
                );
                break 'epochs;
            }
            sum_loss += loss;
            sum_rec += scalar(terms.reconstruction.clone());
            sum_kl += scalar(terms.kl.clone());
            sum_pen += scalar(terms.penalty.clone());
            batches += 1;
            let grads = GradientsParams::from_grads(terms.objective.backward(), &model);
            model = optim.step(cfg.lr, model, grads);
            if cfg.nonneg == Nonneg::Project {
                model.decoder = project_nonneg(model.decoder);
            }
        }
        let n = batches.max(1) as f64;
        let validation = if val_rows.is_empty() {
            None
        } else {
            Some(validation_loss(&model.valid(), x, &val_rows, cfg, sigma)?)
        };
        let log = EpochLog {
            epoch,
            loss: sum_loss / n,
            reconstruction: sum_rec / n,
            kl: sum_kl / n,
            penalty: sum_pen / n,
            validation,
        };
        on_epoch(&log, cfg.epochs);
        state.history.push(log);
        state.epoch = epoch;
        last_good = Some(model.clone());
        let mut early_stop = false;
        if let Some(v) = validation {
            if best.as_ref().is_none_or(|(b, _)| v < *b) {
                best = Some((v, model.clone()));
                state.since_best = 0;
            } else {
                state.since_best += 1;
                early_stop = cfg.patience > 0 && state.since_best >= cfg.patience;
            }
        }
        if cfg.checkpoint_every > 0 && epoch % cfg.checkpoint_every == 0 {
            if let Some(dir) = &cfg.checkpoint_dir {
                state.rng = rng.state();
                Checkpoint::save(dir, cfg, &state, &model, &optim, best.as_ref())?;
            }
        }
        if early_stop {
            stopped = format!(
                "early stop at epoch {epoch}: no validation improvement for {} epochs",
                cfg.patience
            );
            break;
        }
    }
    if !stopped.starts_with("diverged") {
        if let Some((_, b)) = best {
            model = b;
        }
    }
    Ok(VaeFit {
        model: model.valid(),
        arch,
        sigma,
        history: state.history,
        stopped,
    })
}

/// Loss on validation frames with the posterior mean as the activation (deterministic).
fn validation_loss(
    model: &VaeNmf,
    x: &EmgMatrix,
    rows: &[usize],
    cfg: &VaeTrainConfig,
    sigma: f64,
) -> Result<f64> {
    let device = cfg.backend.device(false);
    let mut total = 0.0;
    for chunk in rows.chunks(4096) {
        let xb = batch_tensor(x, chunk, &device);
        let (alpha, beta) = model.encode(xb.clone(), cfg.floor);
        let z = alpha.clone() / beta.clone();
        let terms = model.loss(xb, z, alpha, beta, sigma, cfg.poisson, cfg.alpha0, 0.0)?;
        total += scalar(terms.total) * chunk.len() as f64;
    }
    Ok(total / rows.len().max(1) as f64)
}

/// Posterior (α, β) for every frame, frame-major `[frames × r]` each.
pub fn posterior(
    model: &VaeNmf,
    x: &EmgMatrix,
    floor: f64,
    backend: Backend,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let device = backend.device(false);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let rows: Vec<usize> = (0..x.frames).collect();
    for chunk in rows.chunks(4096) {
        let (alpha, beta) = model.encode(batch_tensor(x, chunk, &device), floor);
        a.extend(to_vec(alpha)?);
        b.extend(to_vec(beta)?);
    }
    Ok((a, b))
}

impl crate::choice::Choice for Backend {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "flex",
            "burn-flex, pure-Rust CPU (the faster here)",
            Backend::Flex,
        ),
        ("ndarray", "burn-ndarray", Backend::Ndarray),
    ];
}

impl crate::choice::Choice for Nonneg {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "penalty",
            "the paper's quadratic penalty on negative weights",
            Nonneg::Penalty,
        ),
        ("project", "clamp W ≥ 0 after every step", Nonneg::Project),
    ];
}

impl crate::choice::Choice for DecoderSteps {
    const CHOICES: &'static [(&'static str, &'static str, Self)] = &[
        (
            "adam",
            "Adam, like the encoder (the paper's training)",
            DecoderSteps::Adam,
        ),
        ("sign", "sign steps of size lr", DecoderSteps::Sign),
    ];
}
