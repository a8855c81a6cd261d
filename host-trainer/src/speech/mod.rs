//! Speech enhancement with learned speech and noise dictionaries (the paper's second
//! experiment). The front end shared by every method: [`audio`] (WAV in and out,
//! resampling), [`stft`] (analysis and exact weighted-overlap-add synthesis), [`mix`]
//! (noisy sets at given SNRs, noise segments drawn by seed) and their [`manifest`]. On it:
//! [`dictionary`] (NMF dictionaries of magnitude frames that record their front end),
//! [`separate`] (supervised separation and the oracle mask) and [`bss_eval`] (SDR/SIR/SAR).
//! The learned methods of the paper's comparison — [`dnmf`], the mask network [`dnn`],
//! VAE-NMF dictionaries ([`vae_dictionary`]) with the [`activation_net`], all on
//! [`network`] and [`training_set`] — and the paper's Tables 1 and 2 ([`table`],
//! [`table_report`]).

pub mod activation_net;
pub mod audio;
pub mod bss_eval;
pub mod dictionary;
pub mod dnmf;
pub mod dnn;
pub mod evaluate;
pub mod levinson;
pub mod manifest;
pub mod metrics;
pub mod mix;
pub mod network;
pub mod pesq;
pub mod separate;
pub mod stft;
pub mod stoi;
pub mod table;
pub mod table_report;
mod table_train;
pub mod training_set;
pub mod vae_dictionary;

/// A clean and a degraded signal a quality measure can compare: the same length, a rate.
fn check_pair(measure: &str, clean: &[f32], degraded: &[f32], rate: u32) -> anyhow::Result<()> {
    if clean.len() != degraded.len() {
        anyhow::bail!(
            "{measure} needs signals of the same length: clean {} samples, degraded {}",
            clean.len(),
            degraded.len()
        );
    }
    if rate == 0 {
        anyhow::bail!("{measure}: sample rate 0");
    }
    Ok(())
}
