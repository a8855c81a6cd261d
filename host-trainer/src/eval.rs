//! Evaluation as the synergy literature does it: VAF (global, per channel), centred R²,
//! VAF with activations refit by NNLS for a fixed W, synergy similarity to a known truth
//! (Hungarian-matched cosine), and rank selection.

use anyhow::{bail, Result};
use pathfinding::prelude::{kuhn_munkres, Matrix};
use serde::Serialize;
use vaenmf_core::NnlsSolver;

use crate::data::EmgMatrix;

/// A dictionary: `channels × rank`, row-major (one row of synergy weights per channel).
#[derive(Debug, Clone, PartialEq)]
pub struct Synergies {
    /// Channels `m`.
    pub channels: usize,
    /// Synergies `r`.
    pub rank: usize,
    /// Row-major weights.
    pub w: Vec<f32>,
}

impl Synergies {
    /// `X̂ = Z Wᵀ` for frame-major activations `z` (frames × r).
    pub fn reconstruct(&self, z: &[f32]) -> Vec<f32> {
        let (m, r) = (self.channels, self.rank);
        let mut out = Vec::with_capacity(z.len() / r * m);
        for zf in z.chunks_exact(r) {
            for row in self.w.chunks_exact(r) {
                out.push(row.iter().zip(zf).map(|(a, b)| a * b).sum());
            }
        }
        out
    }

    /// Activations refit frame by frame with the core's NNLS (W fixed).
    pub fn nnls_activations(&self, x: &EmgMatrix) -> Result<Vec<f32>> {
        if x.channels != self.channels {
            bail!(
                "data has {} channels but the synergies have {}",
                x.channels,
                self.channels
            );
        }
        macro_rules! dispatch {
            ($($r:literal)*) => {
                match self.rank {
                    $($r => nnls_all::<$r>(&self.w, x),)*
                    r => bail!("rank {r} is outside 1..=16"),
                }
            };
        }
        dispatch!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    }

    /// Column `k` as a vector.
    pub fn column(&self, k: usize) -> Vec<f32> {
        self.w.chunks_exact(self.rank).map(|row| row[k]).collect()
    }
}

fn nnls_all<const R: usize>(w: &[f32], x: &EmgMatrix) -> Result<Vec<f32>> {
    let rows: &[[f32; R]] = w.as_chunks::<R>().0;
    let solver = NnlsSolver::new(rows);
    let mut z = Vec::with_capacity(x.frames * R);
    for (f, frame) in x.frames_iter().enumerate() {
        let sol = solver
            .solve(frame)
            .map_err(|e| anyhow::anyhow!("frame {}: {e}", f + 1))?;
        z.extend_from_slice(&sol.z);
    }
    Ok(z)
}

/// VAF figures of one reconstruction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fit {
    /// Global uncentred VAF.
    pub vaf: f64,
    /// Per-channel uncentred VAF.
    pub vaf_per_channel: Vec<f64>,
    /// Centred R² (grand mean).
    pub r2: f64,
}

/// VAF, per-channel VAF and R² of `xhat` against `x` (same layout).
pub fn fit_metrics(x: &EmgMatrix, xhat: &[f32]) -> Result<Fit> {
    let vaf = vaenmf_core::vaf(&x.data, xhat).map_err(|e| anyhow::anyhow!("VAF: {e}"))?;
    let mut per = vec![0.0f32; x.channels];
    vaenmf_core::vaf_per_channel(&x.data, xhat, &mut per).map_err(|e| anyhow::anyhow!("VAF: {e}"))?;
    let r2 = vaenmf_core::r2_centred(&x.data, xhat).map_err(|e| anyhow::anyhow!("R²: {e}"))?;
    Ok(Fit {
        vaf: f64::from(vaf),
        vaf_per_channel: per.into_iter().map(f64::from).collect(),
        r2: f64::from(r2),
    })
}

/// Columns scaled to unit L2 norm (a silent column stays zero), one vector per synergy.
pub fn unit_columns(s: &Synergies) -> Vec<Vec<f64>> {
    (0..s.rank)
        .map(|k| {
            let col: Vec<f64> = s.column(k).into_iter().map(f64::from).collect();
            let norm = col.iter().map(|v| v * v).sum::<f64>().sqrt();
            col.into_iter()
                .map(|v| if norm > 0.0 { v / norm } else { 0.0 })
                .collect()
        })
        .collect()
}

/// Hungarian assignment of `estimate`'s columns to `reference`'s maximising the summed
/// cosine: `(estimate column, reference column, cosine)` for `min(r₁, r₂)` pairs, in
/// estimate-column order.
pub fn match_columns(estimate: &Synergies, reference: &Synergies) -> Result<Vec<(usize, usize, f64)>> {
    if estimate.channels != reference.channels {
        bail!(
            "cannot compare synergies over {} channels with synergies over {} channels",
            estimate.channels,
            reference.channels
        );
    }
    let (a, b) = (unit_columns(estimate), unit_columns(reference));
    let cos = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(x, y)| x * y).sum::<f64>();
    // kuhn_munkres needs rows ≤ columns and integer weights: cosines scaled to 1e9.
    let swapped = a.len() > b.len();
    let (small, large) = if swapped { (&b, &a) } else { (&a, &b) };
    let weights = Matrix::from_fn(small.len(), large.len(), |(i, j)| {
        (cos(&small[i], &large[j]) * 1e9).round() as i64
    });
    let (_, assignment) = kuhn_munkres(&weights);
    let mut pairs: Vec<(usize, usize, f64)> = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| {
            let (e, r) = if swapped { (j, i) } else { (i, j) };
            (e, r, cos(&a[e], &b[r]))
        })
        .collect();
    pairs.sort_by_key(|p| p.0);
    Ok(pairs)
}

/// Mean cosine between Hungarian-matched columns of two dictionaries with the same channels
/// (columns normalised; `min(r₁, r₂)` pairs).
pub fn similarity(estimate: &Synergies, truth: &Synergies) -> Result<f64> {
    let pairs = match_columns(estimate, truth)?;
    Ok(pairs.iter().map(|p| p.2).sum::<f64>() / pairs.len() as f64)
}

/// One point of a VAF-versus-rank curve.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankPoint {
    /// Number of synergies.
    pub rank: usize,
    /// Global VAF.
    pub vaf: f64,
    /// Lowest per-channel VAF.
    pub min_channel_vaf: f64,
}

/// Global VAF threshold of the rank rule.
pub const RANK_GLOBAL_VAF: f64 = 0.90;
/// Per-channel VAF threshold of the rank rule.
pub const RANK_CHANNEL_VAF: f64 = 0.75;

/// Smallest rank with global VAF ≥ 0.90 and every channel ≥ 0.75.
pub fn choose_rank(curve: &[RankPoint]) -> Option<usize> {
    curve
        .iter()
        .filter(|p| p.vaf >= RANK_GLOBAL_VAF && p.min_channel_vaf >= RANK_CHANNEL_VAF)
        .map(|p| p.rank)
        .min()
}

/// Reads a synergy matrix CSV (`m` rows × `r` columns, optional header), as `vaenmf synth`
/// writes it.
pub fn load_synergies(path: &std::path::Path) -> Result<Synergies> {
    let m = crate::data::load::load(path, &Default::default())?;
    Ok(Synergies {
        channels: m.frames,
        rank: m.channels,
        w: m.data,
    })
}
