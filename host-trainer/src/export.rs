//! Model blobs: build from a fit, read back, describe. (Runs write them with their other
//! outputs: [`crate::pipeline::RunResult::write`].)

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use vaenmf_core::{Dims, EncoderArrays, ModelBlob};

use crate::eval::Synergies;

/// Floor added to the heads' softplus; stored in the blob (unused by NMF-only models).
pub const DEFAULT_FLOOR: f32 = 1e-3;

/// An NMF-only blob: dictionary plus the input scaling the device must apply.
pub fn nmf_blob(synergies: &Synergies, input_scale: &[f32]) -> ModelBlob {
    ModelBlob {
        dims: Dims {
            channels: synergies.channels as u32,
            hidden1: 0,
            hidden2: 0,
            rank: synergies.rank as u32,
        },
        alpha0: 1.0,
        floor: DEFAULT_FLOOR,
        input_offset: vec![0.0; synergies.channels],
        input_scale: input_scale.to_vec(),
        encoder: None,
        quantized: None,
        dictionary: synergies.w.clone(),
        channel_names: Vec::new(),
        front_end: None,
    }
}

/// Reads and validates a blob.
pub fn read_blob(path: &Path) -> Result<ModelBlob> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    ModelBlob::from_bytes(&bytes).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// The blob's dictionary as synergies.
pub fn blob_synergies(blob: &ModelBlob) -> Synergies {
    Synergies {
        channels: blob.dims.channels as usize,
        rank: blob.dims.rank as usize,
        w: blob.dictionary.clone(),
    }
}

fn stats(v: &[f32]) -> String {
    let min = v.iter().copied().fold(f32::INFINITY, f32::min);
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    format!("{} values in [{min:.4}, {max:.4}]", v.len())
}

/// Human-readable description of a blob (`vaenmf inspect`); `bytes` are the file's.
pub fn describe(blob: &ModelBlob, bytes: &[u8]) -> String {
    let d = blob.dims;
    let mut s = String::new();
    let kind = if blob.encoder.is_some() {
        "VAE-NMF (encoder + dictionary)"
    } else if let Some(q) = &blob.quantized {
        if q.is_hybrid() {
            "VAE-NMF, quantised encoder (hybrid: int8 second layer, f32 first layer and heads) + dictionary"
        } else {
            "VAE-NMF, quantised encoder (int8 weights, int16 activations) + dictionary"
        }
    } else if blob.front_end.is_some() {
        "spectrogram dictionary (`vaenmf speech`; activations by multiplicative updates)"
    } else {
        "NMF (dictionary only; activations by NNLS)"
    };
    s += &format!("model: {kind}\n");
    let version = bytes.get(4..6).map_or(0, |v| u16::from_le_bytes([v[0], v[1]]));
    s += &format!("format version {version}, {} bytes\n", bytes.len());
    s += &format!(
        "channels {}, rank {}, hidden {}×{}\n",
        d.channels, d.rank, d.hidden1, d.hidden2
    );
    s += &format!("prior shape alpha0 {}, head floor {}\n", blob.alpha0, blob.floor);
    s += &format!("input offset: {}\n", stats(&blob.input_offset));
    s += &format!("input scale:  {}\n", stats(&blob.input_scale));
    if let Some(EncoderArrays {
        layer1_weights,
        layer2_weights,
        alpha_head_weights,
        beta_head_weights,
        ..
    }) = &blob.encoder
    {
        s += &format!(
            "encoder: {} parameters, {} MACs per frame\n",
            layer1_weights.len()
                + layer2_weights.len()
                + alpha_head_weights.len()
                + beta_head_weights.len()
                + (d.hidden1 + d.hidden2 + 2 * d.rank) as usize,
            d.encoder_macs()
        );
    }
    if let Some(q) = &blob.quantized {
        s += &format!(
            "encoder: {} bytes of parameters, {} MACs per frame\n",
            q.parameter_bytes(),
            d.encoder_macs()
        );
    }
    if let Some(front_end) = &blob.front_end {
        // A spectrogram dictionary: bins × atoms is too large to print usefully.
        s += &format!(
            "front end: {}
spectrogram dictionary: {} bins × {} atoms, {}
",
            crate::speech::front_end::stft::describe(front_end),
            d.channels,
            d.rank,
            stats(&blob.dictionary)
        );
        return s;
    }
    let names = if blob.channel_names.is_empty() {
        crate::output::numbered("ch", d.channels as usize)
    } else {
        blob.channel_names.clone()
    };
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    s += "dictionary W as stored (rows = channels, columns = synergies):\n";
    for (name, row) in names.iter().zip(blob.dictionary.chunks_exact(d.rank as usize)) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:7.4}")).collect();
        s += &format!("  {name:>width$} {}\n", cells.join(" "));
    }
    let unit = crate::arrange::normalize(&blob_synergies(blob), &[]).synergies;
    s += "synergies with unit L2 norm (columns):\n";
    for (name, row) in names.iter().zip(unit.w.chunks_exact(d.rank as usize)) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:7.4}")).collect();
        s += &format!("  {name:>width$} {}\n", cells.join(" "));
    }
    s
}
