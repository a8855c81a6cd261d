//! `speech train`: the tables' training functions on one condition — the given noises,
//! pooled when there are several — with each requested method kept as its enhancer file.

use anyhow::{bail, Result};
use vaenmf_core::speech::EnhancerBlob;

use super::config::{Event, Sources, TableConfig, TableMethod};
use super::train::{enhancer, speech_models, train_condition, Condition};
use crate::speech::front_end::mix::{check_lengths, Named};
use crate::speech::front_end::stft::{Stft, StftConfig};

/// One trained method.
pub struct TrainedEnhancer {
    /// The method.
    pub method: TableMethod,
    /// Its file.
    pub blob: EnhancerBlob,
}

/// Trains `cfg.methods` on `sources`' training utterances and every noise's training
/// recording (test recordings are not read); returns the enhancers and a training report
/// (speech models, the condition's training details, seconds per method).
pub fn train_enhancers(
    sources: &Sources,
    cfg: &TableConfig,
    on: &(dyn Fn(Event) + Sync),
) -> Result<(Vec<TrainedEnhancer>, serde_json::Value)> {
    if sources.speech_train.is_empty() {
        bail!("no training utterances");
    }
    if sources.noises.is_empty() {
        bail!("no noise given");
    }
    if cfg.methods.is_empty() {
        bail!("no method to train");
    }
    let stft = Stft::new(&StftConfig::of_front_end(&cfg.front_end).check()?);
    for n in &sources.noises {
        let train = Named {
            name: format!("{} (train)", n.name),
            samples: n.train.clone(),
        };
        check_lengths(&sources.speech_train, &[train], cfg.loop_noise)?;
    }
    let (speech, speech_report) = speech_models(sources, cfg, &stft, on)?;
    let condition = Condition {
        name: if sources.noises.len() == 1 {
            sources.noises[0].name.clone()
        } else {
            "pooled".into()
        },
        noises: sources.noises.iter().collect(),
    };
    let mut seconds = std::collections::BTreeMap::new();
    let (models, frames, training) =
        train_condition(&condition, sources, &speech, cfg, &stft, &mut seconds, on)?;
    let trained = cfg
        .methods
        .iter()
        .map(|&method| {
            Ok(TrainedEnhancer {
                method,
                blob: enhancer(method, &models)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let report = serde_json::json!({
        "speech": speech_report,
        "condition": condition.name,
        "training_frames": frames,
        "training": training,
        "seconds": seconds,
    });
    Ok((trained, report))
}
