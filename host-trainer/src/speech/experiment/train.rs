//! Training for [`super::table`] and `speech train`: the shared speech models, and per
//! condition (a noise type or the pooled noises) the noise dictionaries, DNMF's
//! reconstruction bases, the mask DNN and the activation networks, each timed; and each
//! trained method as its enhancer file.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use nalgebra::DMatrix;

use super::config::{needs_vae, Event, NoiseSource, Sources, TableConfig};
use super::results::MethodSeconds;
use crate::data::EmgMatrix;
use crate::nmf::{self, NmfParams};
use crate::speech::front_end::mix::{check_lengths, Named};
use crate::speech::front_end::stft::{Stft, StftConfig};
use crate::speech::methods::activation_net::{self, ActivationNet};
use crate::speech::methods::dnmf::{self, Problem};
use crate::speech::methods::dnn::{self, MaskNet};
use crate::speech::methods::enhancer::activation_loss;
use crate::speech::methods::separate::{activations, Separator};
use crate::speech::methods::training_set::{
    magnitude_matrix as magnitudes_of, magnitudes, snr_coverage, training_mixtures, Magnitudes,
};
use crate::speech::methods::vae_dictionary::{self, VaeDictionary};
use vaenmf_core::speech::{ActivationFit, EnhancerBlob, EnhancerMethod, GainFloor};

/// Models shared by every condition.
pub(super) struct SpeechModels {
    nmf: DMatrix<f32>,
    vae: Option<VaeDictionary>,
}

/// One condition's trained models.
pub(super) struct Models {
    separator: Separator,
    wbar: Option<DMatrix<f32>>,
    dnn: Option<MaskNet>,
    vae_separator: Option<Separator>,
    vae_net: Option<ActivationNet>,
    vae_e2e: Option<ActivationNet>,
    nmf_net: Option<ActivationNet>,
}

fn nmf_dictionary(
    mag: &DMatrix<f32>,
    params: &NmfParams,
    what: &str,
    on: &dyn Fn(Event),
) -> Result<DMatrix<f32>> {
    if params.rank >= mag.ncols() {
        bail!(
            "{what}: rank {} needs more than {} spectrogram frames; give more audio or a lower --rank",
            params.rank,
            mag.ncols()
        );
    }
    on(Event::Stage {
        name: &format!("{what}: NMF dictionary"),
        total: params.iterations,
    });
    let x = EmgMatrix::new(mag.ncols(), mag.nrows(), mag.as_slice().to_vec())?;
    let fit = nmf::fit(&x, params, |_, it| on(Event::Step(it)))?;
    Ok(DMatrix::from_row_slice(mag.nrows(), params.rank, &fit.w))
}

fn vae_dictionary_of(
    mag: &DMatrix<f32>,
    cfg: &TableConfig,
    what: &str,
    on: &(dyn Fn(Event) + Sync),
) -> Result<VaeDictionary> {
    on(Event::Stage {
        name: &format!("{what}: VAE-NMF dictionary"),
        total: cfg.vae.epochs,
    });
    vae_dictionary::learn(mag, &cfg.vae, |log, _| on(Event::Step(log.epoch)))
        .with_context(|| format!("{what}: VAE-NMF dictionary"))
}

fn timed<T>(seconds: &mut f64, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let t = Instant::now();
    let out = f();
    *seconds += t.elapsed().as_secs_f64();
    out
}

/// Checks what training needs before any of it starts — training utterances, a noise, a
/// method, every training noise long enough for every training utterance (or looped) — and
/// returns the front end's STFT.
pub(super) fn check_training_sources(sources: &Sources, cfg: &TableConfig) -> Result<Stft> {
    if sources.speech_train.is_empty() {
        bail!("no training utterances");
    }
    if sources.noises.is_empty() {
        bail!("no noise given");
    }
    if cfg.methods.is_empty() {
        bail!("no method to run");
    }
    for n in &sources.noises {
        let train = Named {
            name: format!("{} (train)", n.name),
            samples: n.train.clone(),
        };
        check_lengths(&sources.speech_train, &[train], cfg.loop_noise)?;
    }
    Ok(Stft::new(&StftConfig::of_front_end(&cfg.front_end).check()?))
}

/// Trains the shared speech models.
pub(super) fn speech_models(
    sources: &Sources,
    cfg: &TableConfig,
    stft: &Stft,
    on: &(dyn Fn(Event) + Sync),
) -> Result<(SpeechModels, serde_json::Value)> {
    let clean: Vec<&[f32]> = sources
        .speech_train
        .iter()
        .map(|u| u.samples.as_slice())
        .collect();
    let mag = magnitudes_of(&clean, stft, cfg.front_end.magnitude_exponent);
    let mut seconds = (0.0, 0.0);
    let nmf = timed(&mut seconds.0, || {
        nmf_dictionary(&mag, &cfg.dictionary, "speech", on)
    })?;
    let vae = if cfg.methods.iter().any(|m| needs_vae(*m)) {
        Some(timed(&mut seconds.1, || {
            vae_dictionary_of(&mag, cfg, "speech", on)
        })?)
    } else {
        None
    };
    let report = serde_json::json!({
        "frames": mag.ncols(),
        "nmf_seconds": seconds.0,
        "vae_seconds": seconds.1,
        "vae": vae.as_ref().map(|v| &v.report),
    });
    Ok((SpeechModels { nmf, vae }, report))
}

/// A noise type, or the pooled noises.
pub(super) struct Condition<'a> {
    /// Noise name, or `pooled`.
    pub name: String,
    /// Its noises.
    pub noises: Vec<&'a NoiseSource>,
}

/// Trains one condition's models.
pub(super) fn train_condition(
    condition: &Condition,
    sources: &Sources,
    speech: &SpeechModels,
    cfg: &TableConfig,
    stft: &Stft,
    seconds: &mut BTreeMap<String, MethodSeconds>,
    on: &(dyn Fn(Event) + Sync),
) -> Result<(Models, usize, serde_json::Value)> {
    let name = &condition.name;
    let exponent = cfg.front_end.magnitude_exponent;
    let train_noise: Vec<&[f32]> = condition.noises.iter().map(|n| n.train.as_slice()).collect();
    let noise_mag = magnitudes_of(&train_noise, stft, exponent);
    let mut nmf_seconds = 0.0;
    let wn = timed(&mut nmf_seconds, || {
        nmf_dictionary(&noise_mag, &cfg.dictionary, name, on)
    })?;
    let separator = Separator::from_matrices(&cfg.front_end, &speech.nmf, &wn, &cfg.separation)?;

    let named: Vec<Named> = condition
        .noises
        .iter()
        .map(|n| Named {
            name: format!("{} (train)", n.name),
            samples: n.train.clone(),
        })
        .collect();
    let set = training_mixtures(&sources.speech_train, &named, &cfg.snrs, cfg.seed, cfg.loop_noise)
        .with_context(|| format!("{name}: training mixtures"))?;
    let coverage = snr_coverage(&set, named.len(), &cfg.snrs);
    let set = magnitudes(&set, stft, exponent);
    let has = |m: EnhancerMethod| cfg.methods.contains(&m);
    let mut report = serde_json::Map::new();
    // Training mixtures per noise and SNR: a pooled model must see each noise at every SNR.
    let coverage: serde_json::Map<String, serde_json::Value> = named
        .iter()
        .zip(&coverage)
        .map(|(n, counts)| {
            let by_snr: serde_json::Map<String, serde_json::Value> = cfg
                .snrs
                .iter()
                .zip(counts)
                .map(|(snr, &c)| (format!("{snr} dB"), c.into()))
                .collect();
            (n.name.clone(), by_snr.into())
        })
        .collect();
    report.insert("training_mixtures_per_noise_and_snr".into(), coverage.into());
    report.insert("noise_frames".into(), noise_mag.ncols().into());

    // Analysis activations of the training mixtures: shared by DNMF's training.
    let mut wbar = None;
    let mut dnmf_seconds = nmf_seconds;
    if has(EnhancerMethod::Dnmf) {
        on(Event::Stage {
            name: &format!("{name}: DNMF"),
            total: cfg.dnmf.iterations,
        });
        let trained = timed(&mut dnmf_seconds, || {
            let (h, _) = separator.activations(&set.noisy);
            let problem = Problem {
                h: &h,
                speech_rank: separator.speech_rank(),
                mixture: &set.noisy,
                speech: &set.speech,
                loss: cfg.dnmf.loss,
                p: cfg.dnmf.gain_exponent,
            };
            Ok(dnmf::train(
                separator.dictionary(),
                &problem,
                cfg.dnmf.iterations,
                |it| on(Event::Step(it)),
            ))
        })?;
        report.insert("dnmf_objectives".into(), serde_json::json!(trained.objectives));
        wbar = Some(trained.wbar);
    }
    let mut dnn_seconds = 0.0;
    let dnn = if has(EnhancerMethod::Dnn) {
        on(Event::Stage {
            name: &format!("{name}: mask DNN"),
            total: cfg.net.epochs,
        });
        let net = timed(&mut dnn_seconds, || {
            dnn::train(&set, &cfg.net, cfg.dnn_gamma, cfg.backend, |e, _| {
                on(Event::Step(e))
            })
        })?;
        report.insert("dnn".into(), serde_json::to_value(&net.report)?);
        Some(net)
    } else {
        None
    };
    let mut vae_seconds = 0.0;
    let mut vae_net_seconds = 0.0;
    let mut e2e_seconds = 0.0;
    let (vae_separator, vae_net, vae_e2e) = match &speech.vae {
        Some(speech_vae) => {
            let noise_vae = timed(&mut vae_seconds, || vae_dictionary_of(&noise_mag, cfg, name, on))?;
            report.insert("noise_vae".into(), serde_json::to_value(&noise_vae.report)?);
            let sep = Separator::from_matrices(&cfg.front_end, &speech_vae.w, &noise_vae.w, &cfg.separation)?;
            // vae-nmf-e2e starts from the regression-trained network.
            let net = if has(EnhancerMethod::VaeNmf) || has(EnhancerMethod::VaeNmfE2e) {
                let net = activation_network(
                    &format!("{name}: activation network (VAE-NMF)"),
                    &set,
                    || {
                        Ok(stack(
                            &speech_vae.posterior_mean(&set.speech)?,
                            &noise_vae.posterior_mean(&set.noise)?,
                        ))
                    },
                    cfg,
                    &mut vae_net_seconds,
                    on,
                )?;
                report.insert("vae_activation_net".into(), serde_json::to_value(&net.report)?);
                Some(net)
            } else {
                None
            };
            let e2e = match (&net, has(EnhancerMethod::VaeNmfE2e)) {
                (Some(net), true) => {
                    on(Event::Stage {
                        name: &format!("{name}: activation network fine-tuned end to end (VAE-NMF)"),
                        total: cfg.net.e2e_epochs,
                    });
                    let (tuned, tuning) = timed(&mut e2e_seconds, || {
                        activation_net::fine_tune(
                            net,
                            sep.dictionary(),
                            sep.speech_rank(),
                            sep.config().gain_exponent,
                            &set,
                            &cfg.net,
                            cfg.dnn_gamma,
                            cfg.backend,
                            |e, _| on(Event::Step(e)),
                        )
                    })?;
                    report.insert("vae_e2e_fine_tuning".into(), serde_json::to_value(&tuning)?);
                    Some(tuned)
                }
                _ => None,
            };
            (Some(sep), net.filter(|_| has(EnhancerMethod::VaeNmf)), e2e)
        }
        None => (None, None, None),
    };
    let mut nmf_net_seconds = 0.0;
    let nmf_net = if has(EnhancerMethod::NmfDictNet) {
        let net = activation_network(
            &format!("{name}: activation network (NMF)"),
            &set,
            || {
                Ok(stack(
                    &activations(&speech.nmf, &set.speech, &cfg.separation).0,
                    &activations(&wn, &set.noise, &cfg.separation).0,
                ))
            },
            cfg,
            &mut nmf_net_seconds,
            on,
        )?;
        report.insert("nmf_activation_net".into(), serde_json::to_value(&net.report)?);
        Some(net)
    } else {
        None
    };
    // Noise dictionaries count towards every method that uses them.
    for (m, s) in [
        (EnhancerMethod::Nmf, nmf_seconds),
        (EnhancerMethod::Dnmf, dnmf_seconds),
        (EnhancerMethod::Dnn, dnn_seconds),
        (EnhancerMethod::VaeNmf, vae_seconds + vae_net_seconds),
        (EnhancerMethod::NmfDictNet, nmf_seconds + nmf_net_seconds),
        (EnhancerMethod::VaeDictMu, vae_seconds),
        (
            EnhancerMethod::VaeNmfE2e,
            vae_seconds + vae_net_seconds + e2e_seconds,
        ),
    ] {
        if has(m) {
            seconds.insert(
                m.name().to_string(),
                MethodSeconds {
                    train: s,
                    enhance: 0.0,
                },
            );
        }
    }
    Ok((
        Models {
            separator,
            wbar,
            dnn,
            vae_separator,
            vae_net,
            vae_e2e,
            nmf_net,
        },
        set.frames(),
        serde_json::Value::Object(report),
    ))
}

/// Computes the targets, then trains an activation network on them (both timed).
fn activation_network(
    what: &str,
    set: &Magnitudes,
    targets: impl FnOnce() -> Result<DMatrix<f32>>,
    cfg: &TableConfig,
    seconds: &mut f64,
    on: &(dyn Fn(Event) + Sync),
) -> Result<ActivationNet> {
    timed(seconds, || {
        let targets = targets()?;
        on(Event::Stage {
            name: what,
            total: cfg.net.epochs,
        });
        activation_net::train(set, &targets, &cfg.net, cfg.backend, |e, _| on(Event::Step(e)))
    })
}

fn stack(top: &DMatrix<f32>, bottom: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = DMatrix::zeros(top.nrows() + bottom.nrows(), top.ncols());
    out.rows_mut(0, top.nrows()).copy_from(top);
    out.rows_mut(top.nrows(), bottom.nrows()).copy_from(bottom);
    out
}

/// The enhancer file of one trained `method` of a condition.
pub(super) fn enhancer(
    method: EnhancerMethod,
    models: &Models,
    gain_floor: GainFloor,
) -> Result<EnhancerBlob> {
    let missing = || anyhow::anyhow!("internal: {method:?} was not trained");
    let dictionaries = |sep: &Separator| -> Result<(u32, u32, Vec<f32>)> {
        let rs = sep.speech_rank();
        let w = sep.dictionary();
        Ok((
            u32::try_from(rs)?,
            u32::try_from(w.ncols() - rs)?,
            w.as_slice().to_vec(),
        ))
    };
    let fit = |sep: &Separator| {
        let c = sep.config();
        Some(ActivationFit {
            loss: activation_loss(c.loss),
            iterations: u32::try_from(c.iterations).unwrap_or(u32::MAX),
            sparsity: c.sparsity,
        })
    };
    let activation_network = |net: &ActivationNet| net.features.to_network(&net.mlp, net.scale.clone());
    let sep = &models.separator;
    let (sep, reconstruction, fit, network) = match method {
        EnhancerMethod::Nmf => (sep, Vec::new(), fit(sep), None),
        EnhancerMethod::Dnmf => (
            sep,
            models.wbar.as_ref().ok_or_else(missing)?.as_slice().to_vec(),
            fit(sep),
            None,
        ),
        EnhancerMethod::Dnn => {
            let net = models.dnn.as_ref().ok_or_else(missing)?;
            (
                sep,
                Vec::new(),
                None,
                Some(net.features.to_network(&net.mlp, Vec::new())?),
            )
        }
        EnhancerMethod::VaeNmf => (
            models.vae_separator.as_ref().ok_or_else(missing)?,
            Vec::new(),
            None,
            Some(activation_network(models.vae_net.as_ref().ok_or_else(missing)?)?),
        ),
        EnhancerMethod::VaeNmfE2e => (
            models.vae_separator.as_ref().ok_or_else(missing)?,
            Vec::new(),
            None,
            Some(activation_network(models.vae_e2e.as_ref().ok_or_else(missing)?)?),
        ),
        EnhancerMethod::NmfDictNet => (
            sep,
            Vec::new(),
            None,
            Some(activation_network(models.nmf_net.as_ref().ok_or_else(missing)?)?),
        ),
        EnhancerMethod::VaeDictMu => {
            let vs = models.vae_separator.as_ref().ok_or_else(missing)?;
            (vs, Vec::new(), fit(vs), None)
        }
    };
    let (speech_rank, noise_rank, analysis) = if method == EnhancerMethod::Dnn {
        (0, 0, Vec::new())
    } else {
        dictionaries(sep)?
    };
    let blob = EnhancerBlob {
        method,
        front_end: *sep.front_end(),
        gain_exponent: sep.config().gain_exponent,
        speech_rank,
        noise_rank,
        analysis,
        reconstruction,
        fit,
        network,
        gain_floor: gain_floor.value(),
        quantized: None,
    };
    blob.validate()
        .with_context(|| format!("internal: the trained {} enhancer", method.name()))?;
    Ok(blob)
}
