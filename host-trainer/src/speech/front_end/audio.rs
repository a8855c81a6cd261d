//! WAV in and out (`hound`), mono mixing and resampling (`rubato`).
//!
//! Reading accepts PCM 8/16/24/32-bit integer and 32-bit float WAV, any channel count (mixed
//! to mono by averaging, and said so), and returns samples in [−1, 1) for integer files. Every
//! error names the file. Writing is 32-bit float by default (never clips), or 16-bit PCM with
//! an explicit scale that must keep every sample in range.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// A mono signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// Samples (full scale ±1 for integer files).
    pub samples: Vec<f32>,
    /// Sample rate in Hz.
    pub rate: u32,
}

/// What reading a file did besides decoding it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadLog {
    /// Channels the file had (> 1: averaged to mono).
    pub channels: u16,
    /// The file's sample format, e.g. `PCM 16-bit`.
    pub format: String,
}

/// Reads a WAV file as mono.
pub fn read_wav(path: &Path) -> Result<(Audio, ReadLog)> {
    let name = path.display();
    let reader =
        hound::WavReader::open(path).map_err(|e| anyhow::anyhow!("{name}: not a readable WAV file ({e})"))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 || spec.sample_rate == 0 {
        bail!(
            "{name}: WAV header declares {channels} channels at {} Hz",
            spec.sample_rate
        );
    }
    let (interleaved, format): (Vec<f32>, String) = match spec.sample_format {
        hound::SampleFormat::Float if spec.bits_per_sample == 32 => (
            reader
                .into_samples::<f32>()
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("{name}: truncated or corrupt float samples ({e})"))?,
            "float 32-bit".into(),
        ),
        hound::SampleFormat::Int if (8..=32).contains(&spec.bits_per_sample) => {
            let full_scale = 2f64.powi(i32::from(spec.bits_per_sample) - 1);
            (
                reader
                    .into_samples::<i32>()
                    .map(|s| s.map(|v| (f64::from(v) / full_scale) as f32))
                    .collect::<Result<_, _>>()
                    .map_err(|e| anyhow::anyhow!("{name}: truncated or corrupt PCM samples ({e})"))?,
                format!("PCM {}-bit", spec.bits_per_sample),
            )
        }
        _ => bail!(
            "{name}: unsupported sample format ({:?}, {} bits); expected PCM 8/16/24/32-bit or 32-bit float",
            spec.sample_format,
            spec.bits_per_sample
        ),
    };
    if interleaved.is_empty() {
        bail!("{name}: no samples");
    }
    if let Some(i) = interleaved.iter().position(|v| !v.is_finite()) {
        bail!(
            "{name}: non-finite sample {} at sample {} (channel {})",
            interleaved[i],
            i / channels + 1,
            i % channels + 1
        );
    }
    let samples = if channels == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() / channels as f32)
            .collect()
    };
    Ok((
        Audio {
            samples,
            rate: spec.sample_rate,
        },
        ReadLog {
            channels: spec.channels,
            format,
        },
    ))
}

/// How to write samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WavFormat {
    /// 32-bit float: any value, nothing clipped.
    Float32,
    /// 16-bit PCM of `sample × scale`; every scaled sample must lie in [−1, 1).
    Pcm16 {
        /// Gain applied before quantising (1 = no change).
        scale: f32,
    },
}

/// The WAV file's bytes for `samples` at `rate` (mono).
pub fn wav_bytes(samples: &[f32], rate: u32, format: WavFormat) -> Result<Vec<u8>> {
    let spec = |bits, sample_format| hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    match format {
        WavFormat::Float32 => {
            let mut w = hound::WavWriter::new(&mut cursor, spec(32, hound::SampleFormat::Float))?;
            for &s in samples {
                w.write_sample(s)?;
            }
            w.finalize()?;
        }
        WavFormat::Pcm16 { scale } => {
            if let Some(i) = samples.iter().position(|&s| !(-1.0..1.0).contains(&(s * scale))) {
                bail!(
                    "sample {} is {} × scale {scale} = {}, outside 16-bit range [−1, 1): write float WAV or lower the scale",
                    i + 1,
                    samples[i],
                    samples[i] * scale
                );
            }
            let mut w = hound::WavWriter::new(&mut cursor, spec(16, hound::SampleFormat::Int))?;
            for &s in samples {
                w.write_sample((f64::from(s * scale) * 32768.0).round().clamp(-32768.0, 32767.0) as i16)?;
            }
            w.finalize()?;
        }
    }
    Ok(cursor.into_inner())
}

/// Resamples `samples` from `from` Hz to `to` Hz with rubato's FFT resampler (windowed-sinc
/// anti-aliasing); the output has `ceil(len · to / from)` samples, aligned with the input (the
/// resampler's delay removed).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    use audioadapter_buffers::direct::InterleavedSlice;
    use rubato::{Fft, FixedSync, Resampler};
    if from == to {
        return Ok(samples.to_vec());
    }
    // Far beyond any audio level, far below what overflows the resampler's f32 FFTs (whose
    // NaNs made rubato panic: found by `cargo xtask fuzz wav`).
    if let Some(i) = samples
        .iter()
        .position(|v| v.is_nan() || v.abs() > MAX_RESAMPLED_LEVEL)
    {
        bail!(
            "sample {} is {}: too large to resample (|x| ≤ {MAX_RESAMPLED_LEVEL:e})",
            i + 1,
            samples[i]
        );
    }
    // rubato unwraps its FFTs' results: a panic there is an error here, not an abort.
    std::panic::catch_unwind(|| -> Result<Vec<f32>> {
        let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
            .with_context(|| format!("cannot resample {from} Hz to {to} Hz"))?;
        let needed = resampler.process_all_needed_output_len(samples.len());
        let mut out = vec![0.0f32; needed];
        let input = InterleavedSlice::new(samples, 1, samples.len()).context("resampler input")?;
        let mut output = InterleavedSlice::new_mut(&mut out, 1, needed).context("resampler output")?;
        let (_, written) = resampler
            .process_all_into_buffer(&input, &mut output, samples.len(), None)
            .context("resampling failed")?;
        out.truncate(written);
        Ok(out)
    })
    .unwrap_or_else(|_| bail!("resampling {from} Hz to {to} Hz failed inside rubato (it panicked)"))
}

/// Largest sample magnitude [`resample`] takes.
pub const MAX_RESAMPLED_LEVEL: f32 = 1e20;

/// Reads a WAV file as mono at `rate`: resampled when the file's rate differs and
/// `allow_resampling`, an error naming both rates otherwise. Returns notes for the user
/// (channels mixed, rate converted).
pub fn read_at_rate(path: &Path, rate: u32, allow_resampling: bool) -> Result<(Vec<f32>, Vec<String>)> {
    let (audio, log) = read_wav(path)?;
    let mut notes = Vec::new();
    if log.channels > 1 {
        notes.push(format!(
            "{}: {} channels averaged to mono",
            path.display(),
            log.channels
        ));
    }
    if audio.rate == rate {
        return Ok((audio.samples, notes));
    }
    if !allow_resampling {
        bail!(
            "{}: sample rate {} Hz, but {rate} Hz is needed (allow resampling, or convert the file)",
            path.display(),
            audio.rate
        );
    }
    notes.push(format!(
        "{}: resampled from {} Hz to {rate} Hz",
        path.display(),
        audio.rate
    ));
    let samples =
        resample(&audio.samples, audio.rate, rate).with_context(|| format!("{}", path.display()))?;
    Ok((samples, notes))
}
