//! The paper's Tables 1 and 2, reproduced: every method trained on training utterances and
//! training noise, evaluated on test utterances mixed with test noise.
//!
//! - **Table 1**: a noise model per noise type; each noise's test mixtures are enhanced with
//!   the models of that noise, and the table averages over all noises' mixtures.
//! - **Table 2**: one noise model on the pooled training noises, evaluated on the same test
//!   mixtures.
//!
//! Methods ([`vaenmf_core::speech::EnhancerMethod`]): supervised NMF, DNMF
//! ([`crate::speech::methods::dnmf`]), the mask DNN ([`crate::speech::methods::dnn`]),
//! VAE-NMF dictionaries with the activation network ([`crate::speech::methods::vae_dictionary`],
//! [`crate::speech::methods::activation_net`]), and the two ablations (NMF dictionaries + the
//! same activation network; VAE-NMF dictionaries + multiplicative-update activations). The
//! speech models (NMF and VAE-NMF speech dictionaries) are learned once and shared by every
//! noise condition. Settings: [`super::config`]; training: `train`; results:
//! [`super::results`]; summaries and output formats: [`super::report`].

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Result};
use rayon::prelude::*;

use super::config::{Event, Sources, TableConfig};
use super::results::{ConditionResult, MethodSeconds, Scored, TableRun};
use super::train::{check_training_sources, enhancer, speech_models, train_condition, Condition};
use crate::speech::front_end::mix::{mix, Mixture, Named};
use crate::speech::front_end::stft::Stft;
use crate::speech::methods::enhancer::Enhancer;
use crate::speech::methods::separate::{apply_gain, magnitude_matrix, oracle};
use crate::speech::metrics::speech_metrics;
use vaenmf_core::speech::EnhancerMethod;

/// The test mixtures of each noise: every test utterance at every SNR, noise segments drawn
/// by `seed` from the noise's test recording.
pub fn test_mixtures(sources: &Sources, cfg: &TableConfig) -> Result<Vec<Vec<Mixture>>> {
    sources
        .noises
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let noise = Named {
                name: format!("{} (test)", n.name),
                samples: n.test.clone(),
            };
            mix(
                &sources.speech_test,
                &[noise],
                &cfg.snrs,
                cfg.seed.wrapping_add(1000 + k as u64),
                cfg.loop_noise,
            )
        })
        .collect()
}

/// Enhances and scores the test mixtures with one condition's enhancers.
fn evaluate(
    mixtures: &[(&str, &Mixture)],
    utterances: &[Named],
    enhancers: &[(EnhancerMethod, Enhancer)],
    cfg: &TableConfig,
    stft: &Stft,
    seconds: &mut BTreeMap<String, MethodSeconds>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<Vec<Scored>> {
    let rate = cfg.front_end.sample_rate;
    let exponent = cfg.front_end.magnitude_exponent;
    let p = cfg.separation.gain_exponent;
    // Enhancement runs one mixture at a time (the updates and the networks use both cores);
    // scoring runs the mixtures in parallel.
    let mut estimates = Vec::with_capacity(mixtures.len());
    for (noise, m) in mixtures {
        let spec = stft.forward(&m.noisy);
        let mag = magnitude_matrix(&spec, exponent);
        let mut signals = vec![("input".to_string(), m.noisy.clone())];
        for (method, enhancer) in enhancers {
            let t = Instant::now();
            let g = enhancer.gain(&mag)?;
            let s = stft.inverse(&apply_gain(&spec, g.as_slice()), m.noisy.len())?;
            seconds.entry(method.name().to_string()).or_default().enhance += t.elapsed().as_secs_f64();
            signals.push((method.name().to_string(), s));
        }
        signals.push(("oracle".to_string(), oracle(stft, &m.clean, &m.noise_part, p)?));
        estimates.push((*noise, *m, signals));
    }
    on(Event::Stage {
        name: "scoring",
        total: estimates.len(),
    });
    let done = std::sync::atomic::AtomicUsize::new(0);
    estimates
        .par_iter()
        .map(|(noise, m, signals)| {
            let refs: Vec<&[f32]> = signals.iter().map(|(_, s)| s.as_slice()).collect();
            let metrics = speech_metrics(&m.clean, &m.noise_part, &refs, rate, cfg.assignment)?;
            on(Event::Step(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            ));
            Ok(Scored {
                utterance: utterances[m.utterance].name.clone(),
                noise: noise.to_string(),
                snr_db: m.snr_db,
                scores: signals.iter().map(|(n, _)| n.clone()).zip(metrics).collect(),
            })
        })
        .collect()
}

/// Checks the sources, then trains and evaluates every condition.
pub fn run(sources: &Sources, cfg: &TableConfig, on: &(dyn Fn(Event) + Sync)) -> Result<TableRun> {
    let started = Instant::now();
    if sources.speech_test.is_empty() {
        bail!("no test utterances");
    }
    let stft = check_training_sources(sources, cfg)?;
    // The test mixtures too before any training (mixed here).
    let tests = test_mixtures(sources, cfg)?;
    let (speech, speech_report) = speech_models(sources, cfg, &stft, on)?;
    let mut conditions: Vec<(bool, Condition)> = sources
        .noises
        .iter()
        .map(|n| {
            (
                false,
                Condition {
                    name: n.name.clone(),
                    noises: vec![n],
                },
            )
        })
        .collect();
    if cfg.pooled && sources.noises.len() > 1 {
        conditions.push((
            true,
            Condition {
                name: "pooled".into(),
                noises: sources.noises.iter().collect(),
            },
        ));
    }
    let (mut table1, mut table2) = (Vec::new(), Vec::new());
    for (pooled, condition) in &conditions {
        let mut seconds = BTreeMap::new();
        let (models, training_frames, training) =
            train_condition(condition, sources, &speech, cfg, &stft, &mut seconds, on)?;
        let enhancers = cfg
            .methods
            .iter()
            .map(|&m| Ok((m, Enhancer::new(enhancer(m, &models, cfg.gain_floor)?)?)))
            .collect::<Result<Vec<_>>>()?;
        let mixtures: Vec<(&str, &Mixture)> = sources
            .noises
            .iter()
            .zip(&tests)
            .filter(|(n, _)| *pooled || n.name == condition.name)
            .flat_map(|(n, ms)| ms.iter().map(move |m| (n.name.as_str(), m)))
            .collect();
        let mixtures_scored = evaluate(
            &mixtures,
            &sources.speech_test,
            &enhancers,
            cfg,
            &stft,
            &mut seconds,
            on,
        )?;
        let result = ConditionResult {
            condition: condition.name.clone(),
            training_frames,
            seconds,
            training,
            mixtures: mixtures_scored,
            enhancers: enhancers.into_iter().map(|(m, e)| (m, e.into_blob())).collect(),
        };
        if *pooled {
            table2.push(result);
        } else {
            table1.push(result);
        }
    }
    Ok(TableRun {
        table1,
        table2,
        speech: speech_report,
        seconds: started.elapsed().as_secs_f64(),
        assignment: cfg.assignment,
    })
}
