//! How synergies are presented: in a reproducible order, and scaled the way the synergy
//! literature reads them.
//!
//! - **Order.** A factorisation returns its synergies in an arbitrary order. [`Order::PeakChannel`]
//!   sorts them by the channel of their largest (unit-norm) weight, ties by the larger peak;
//!   [`Order::Match`] follows a reference dictionary by the Hungarian assignment of cosines
//!   (the one the similarity score uses), so two runs line up side by side. The order is
//!   applied to the model itself (dictionary columns and encoder heads), so reports, plots,
//!   activation files and the device all agree.
//! - **Scale.** `W·Z` does not change when a synergy is multiplied by `c` and its activation
//!   divided by `c`. Reports and plots use the MATLAB `nnmf` / SynergyAnalyzer habit: each
//!   synergy vector has unit L2 norm and its activation carries the norm. The model blob
//!   keeps the raw `W`.

use anyhow::{bail, Result};
use vaenmf_core::ModelBlob;

use crate::eval::{match_columns, unit_columns, Synergies};

/// How to order synergies.
#[derive(Debug, Clone)]
pub enum Order {
    /// By the channel of the largest unit-norm weight, then by the larger peak.
    PeakChannel,
    /// Matched to a reference dictionary (Hungarian assignment of cosines); columns without
    /// a partner (a larger rank than the reference's) follow by peak channel.
    Match(Synergies),
}

/// The permutation `order` picks: new column `k` is old column `perm[k]`.
pub fn permutation(s: &Synergies, order: &Order) -> Result<Vec<usize>> {
    let unit = unit_columns(s);
    let peak = |k: usize| -> (usize, f64) {
        unit[k].iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |best, (c, &v)| if v > best.1 { (c, v) } else { best },
        )
    };
    let by_peak = |cols: &mut Vec<usize>| {
        cols.sort_by(|&a, &b| {
            let ((ca, va), (cb, vb)) = (peak(a), peak(b));
            ca.cmp(&cb).then(vb.total_cmp(&va)).then(a.cmp(&b))
        })
    };
    match order {
        Order::PeakChannel => {
            let mut cols: Vec<usize> = (0..s.rank).collect();
            by_peak(&mut cols);
            Ok(cols)
        }
        Order::Match(reference) => {
            let mut pairs = match_columns(s, reference)?;
            pairs.sort_by_key(|p| p.1);
            let mut cols: Vec<usize> = pairs.iter().map(|p| p.0).collect();
            let mut rest: Vec<usize> = (0..s.rank).filter(|k| !cols.contains(k)).collect();
            by_peak(&mut rest);
            cols.extend(rest);
            Ok(cols)
        }
    }
}

/// Columns of a row-major `rows × perm.len()` matrix reordered: new column `k` = old `perm[k]`.
pub fn permute_columns(values: &[f32], perm: &[usize]) -> Vec<f32> {
    values
        .chunks_exact(perm.len().max(1))
        .flat_map(|row| perm.iter().map(move |&k| row[k]))
        .collect()
}

/// The synergies reordered.
pub fn permute_synergies(s: &Synergies, perm: &[usize]) -> Synergies {
    Synergies {
        channels: s.channels,
        rank: s.rank,
        w: permute_columns(&s.w, perm),
    }
}

/// Reorders a model's synergies: dictionary columns and, for an encoder, the outputs of both
/// heads, so the model computes the same activations in the new order.
pub fn permute_blob(blob: &mut ModelBlob, perm: &[usize]) -> Result<()> {
    let r = blob.dims.rank as usize;
    let mut sorted = perm.to_vec();
    sorted.sort_unstable();
    if sorted != (0..r).collect::<Vec<_>>() {
        bail!("{perm:?} is not a permutation of the model's {r} synergies");
    }
    blob.dictionary = permute_columns(&blob.dictionary, perm);
    if let Some(enc) = &mut blob.encoder {
        enc.alpha_head_weights = permute_columns(&enc.alpha_head_weights, perm);
        enc.alpha_head_bias = permute_columns(&enc.alpha_head_bias, perm);
        enc.beta_head_weights = permute_columns(&enc.beta_head_weights, perm);
        enc.beta_head_bias = permute_columns(&enc.beta_head_bias, perm);
    }
    Ok(())
}

/// Synergies with unit-L2-norm columns, activations rescaled so `W·Z` is unchanged.
#[derive(Debug, Clone)]
pub struct Normalized {
    /// Unit-norm synergies (a silent synergy stays zero).
    pub synergies: Synergies,
    /// Activations times each synergy's norm, frames × r.
    pub activations: Vec<f32>,
    /// The norm of each raw synergy.
    pub norms: Vec<f64>,
}

/// Unit-norm synergies and the matching activations.
pub fn normalize(s: &Synergies, z: &[f32]) -> Normalized {
    let norms: Vec<f64> = (0..s.rank)
        .map(|k| {
            s.column(k)
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .collect();
    let w =
        s.w.chunks_exact(s.rank)
            .flat_map(|row| {
                row.iter()
                    .zip(&norms)
                    .map(|(&v, &n)| if n > 0.0 { (f64::from(v) / n) as f32 } else { 0.0 })
                    .collect::<Vec<_>>()
            })
            .collect();
    let activations = z
        .chunks_exact(s.rank)
        .flat_map(|frame| {
            frame
                .iter()
                .zip(&norms)
                .map(|(&a, &n)| (f64::from(a) * n) as f32)
                .collect::<Vec<_>>()
        })
        .collect();
    Normalized {
        synergies: Synergies {
            channels: s.channels,
            rank: s.rank,
            w,
        },
        activations,
        norms,
    }
}
