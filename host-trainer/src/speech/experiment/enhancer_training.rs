//! `speech train`: the tables' training functions on one condition — the given noises,
//! pooled when there are several — with each requested method kept as its enhancer file.

use anyhow::Result;
use vaenmf_core::speech::{EnhancerBlob, EnhancerMethod};

use super::config::{Event, Sources, TableConfig};
use super::train::{check_training_sources, enhancer, speech_models, train_condition, Condition};

/// One trained method.
pub struct TrainedEnhancer {
    /// The method.
    pub method: EnhancerMethod,
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
    let stft = check_training_sources(sources, cfg)?;
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
                blob: enhancer(method, &models, cfg.gain_floor)?,
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
