//! Training checkpoints: everything a run needs to continue as if it had not stopped.
//!
//! A checkpoint is a folder `epoch-NNNNN/` holding
//! - `model.bpk`: the weights (burnpack; parameter ids included, which the optimiser's state
//!   is keyed by),
//! - `optimizer.bpk`: Adam's moments and step counts,
//! - `best.bpk`: the best model so far by validation loss (when there is a validation split),
//! - `state.json`: the epoch, the random generator's state, the training frames' current
//!   order (each epoch shuffles the previous order), the early-stopping counters, the epoch
//!   history and the settings.
//!
//! The folder is written under a temporary name and renamed into place, so a crash never
//! leaves a half-written checkpoint. Resuming checks that every setting that changes the
//! result (all but `epochs`, `patience` and the checkpoint options) is the one the
//! checkpoint was written with.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use serde::{Deserialize, Serialize};
use vaenmf_core::gamma::Prng;

use super::model::VaeNmf;
use super::training::{EpochLog, VaeTrainConfig};

/// Version of `state.json`.
const STATE_VERSION: u32 = 1;

/// The loop state that is not weights: saved in `state.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainingState {
    /// Epochs completed.
    pub epoch: usize,
    /// The random generator's state after `epoch` epochs.
    pub rng: [u64; 4],
    /// Training frame indices in their current (shuffled) order.
    pub order: Vec<usize>,
    /// Epochs since the validation loss last improved.
    pub since_best: usize,
    /// Per-epoch figures so far.
    pub history: Vec<EpochLog>,
}

impl TrainingState {
    /// Before the first epoch.
    pub fn start(seed: u64, order: Vec<usize>) -> Self {
        Self {
            epoch: 0,
            rng: Prng::new(seed).state(),
            order,
            since_best: 0,
            history: Vec::new(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    settings: VaeTrainConfig,
    best_validation: Option<f64>,
    state: TrainingState,
}

/// What [`Checkpoint::load`] restores.
pub struct Checkpoint {
    /// The weights at the checkpoint.
    pub model: VaeNmf,
    /// The optimiser's state, for an optimiser built for [`Checkpoint::model`] (its
    /// parameter groups name the restored parameter ids).
    pub optimizer: OptimizerRecord,
    /// Loop state.
    pub state: TrainingState,
    /// Best validation loss and its model.
    pub best: Option<(f64, VaeNmf)>,
}

/// Settings that must match for a resumed run to continue the same training.
fn result_settings(cfg: &VaeTrainConfig) -> VaeTrainConfig {
    VaeTrainConfig {
        epochs: 0,
        patience: 0,
        checkpoint_every: 0,
        checkpoint_dir: None,
        resume: None,
        ..cfg.clone()
    }
}

fn burn_error(path: &Path, what: &str, e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("{}: cannot {what} ({e:?})", path.display())
}

impl Checkpoint {
    /// Writes `dir/epoch-NNNNN/` for the state's epoch; returns the folder.
    pub fn save(
        dir: &Path,
        cfg: &VaeTrainConfig,
        state: &TrainingState,
        model: &VaeNmf,
        optimizer: &ModuleOptimizer,
        best: Option<&(f64, VaeNmf)>,
    ) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
        let target = dir.join(format!("epoch-{:05}", state.epoch));
        let staging = tempfile::Builder::new()
            .prefix(".epoch-")
            .tempdir_in(dir)
            .with_context(|| format!("{}: cannot create a temporary folder", dir.display()))?;
        let path = |name: &str| staging.path().join(name);
        model
            .clone()
            .save_file(path("model.bpk"))
            .map_err(|e| burn_error(&target, "write the model", e))?;
        optimizer
            .to_record()
            .save(path("optimizer.bpk"))
            .map_err(|e| burn_error(&target, "write the optimiser state", e))?;
        if let Some((_, best_model)) = best {
            best_model
                .clone()
                .save_file(path("best.bpk"))
                .map_err(|e| burn_error(&target, "write the best model", e))?;
        }
        let file = StateFile {
            version: STATE_VERSION,
            settings: cfg.clone(),
            best_validation: best.map(|(v, _)| *v),
            state: state.clone(),
        };
        let text = serde_json::to_string(&file).context("checkpoint state: cannot serialise")?;
        std::fs::write(path("state.json"), text)
            .with_context(|| format!("{}: write failed", target.display()))?;
        if target.exists() {
            std::fs::remove_dir_all(&target)
                .with_context(|| format!("{}: cannot replace the old checkpoint", target.display()))?;
        }
        let staged = staging.keep();
        std::fs::rename(&staged, &target)
            .with_context(|| format!("{}: cannot move the checkpoint into place", target.display()))?;
        Ok(target)
    }

    /// Restores a checkpoint folder into `model` (a freshly initialised model of the same
    /// architecture), after checking the settings.
    pub fn load(path: &Path, cfg: &VaeTrainConfig, model: VaeNmf) -> Result<Self> {
        let name = path.display();
        let state_path = path.join("state.json");
        if !state_path.exists() {
            bail!("{name}: not a checkpoint folder (no state.json; --resume takes an epoch-NNNNN folder written with --checkpoint-dir)");
        }
        let text = std::fs::read_to_string(&state_path)
            .with_context(|| format!("{name}: cannot read state.json"))?;
        let file: StateFile = serde_json::from_str(&text)
            .with_context(|| format!("{name}: state.json is not a vaenmf checkpoint"))?;
        if file.version != STATE_VERSION {
            bail!(
                "{name}: checkpoint version {} (this build reads {STATE_VERSION})",
                file.version
            );
        }
        let (saved, asked) = (
            serde_json::to_value(result_settings(&file.settings))?,
            serde_json::to_value(result_settings(cfg))?,
        );
        if saved != asked {
            let differing: Vec<String> = match (&saved, &asked) {
                (serde_json::Value::Object(a), serde_json::Value::Object(b)) => a
                    .iter()
                    .filter(|(k, v)| b.get(*k) != Some(v))
                    .map(|(k, v)| {
                        format!(
                            "{k} (checkpoint {v}, now {})",
                            b.get(k).unwrap_or(&serde_json::Value::Null)
                        )
                    })
                    .collect(),
                _ => vec!["(unreadable)".into()],
            };
            bail!(
                "{name}: the checkpoint was trained with other settings: {}",
                differing.join(", ")
            );
        }
        let model = model
            .clone()
            .try_load_file(path.join("model.bpk"))
            .map_err(|e| burn_error(path, "read the model", e))?;
        let optimizer = OptimizerRecord::load(path.join("optimizer.bpk"))
            .map_err(|e| burn_error(path, "read the optimiser state", e))?;
        let best = match file.best_validation {
            Some(v) => Some((
                v,
                model
                    .clone()
                    .try_load_file(path.join("best.bpk"))
                    .map_err(|e| burn_error(path, "read the best model", e))?,
            )),
            None => None,
        };
        Ok(Self {
            model,
            optimizer,
            state: file.state,
            best,
        })
    }
}
