//! Short-time objective intelligibility: STOI (Taal, Hendriks, Heusdens & Jensen 2011) and
//! extended STOI (Jensen & Taal 2016), with the processing of the reference implementations
//! (`pystoi`, itself a port of the authors' MATLAB code):
//!
//! 1. resample to 10 kHz with Octave's `resample` filter (Kaiser-windowed sinc, 60 dB);
//! 2. drop the frames (256 samples, hop 128, Hann) of both signals where the clean one is more
//!    than 40 dB below its loudest frame, and overlap-add the rest;
//! 3. 512-point STFT of 256-sample Hann frames, hop 128; 15 one-third-octave bands from 150 Hz;
//! 4. over every run of 30 frames, per band: STOI correlates the clean envelope with the
//!    degraded one scaled to the clean one's energy and clipped at −15 dB SDR; ESTOI
//!    normalises each segment's rows then columns and correlates whole spectrogram segments;
//! 5. the mean over segments (and bands).

use anyhow::{bail, Result};
use realfft::RealFftPlanner;

const FS: u32 = 10_000;
const FRAME: usize = 256;
const NFFT: usize = 512;
const BANDS: usize = 15;
const MIN_FREQ: f64 = 150.0;
const SEGMENT: usize = 30;
const BETA_DB: f64 = -15.0;
const DYN_RANGE_DB: f64 = 40.0;
const EPS: f64 = f64::EPSILON;

/// Both measures of one pair.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Intelligibility {
    /// STOI, about 0 … 1.
    pub stoi: f64,
    /// Extended STOI.
    pub estoi: f64,
}

/// STOI and ESTOI of `degraded` against `clean`, both at `rate` Hz and of the same length.
pub fn stoi(clean: &[f32], degraded: &[f32], rate: u32) -> Result<Intelligibility> {
    super::pair::check_pair("STOI", clean, degraded, rate)?;
    let to64 = |s: &[f32]| s.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    let (mut x, mut y) = (to64(clean), to64(degraded));
    if rate != FS {
        x = resample_octave(&x, FS, rate);
        y = resample_octave(&y, FS, rate);
    }
    let (x, y) = remove_silent_frames(&x, &y);
    let (xb, yb) = (third_octave_envelopes(&x), third_octave_envelopes(&y));
    let frames = xb.len();
    if frames < SEGMENT {
        bail!(
            "only {frames} STFT frames of speech remain after removing silence; STOI needs at least {SEGMENT} (about 0.4 s of speech)"
        );
    }
    let segments = frames - SEGMENT + 1;
    let clip = 1.0 + 10f64.powf(-BETA_DB / 20.0);
    let (mut d, mut e) = (0.0, 0.0);
    for m in 0..segments {
        // seg[band][t]
        let seg = |b: &[[f64; BANDS]]| -> Vec<Vec<f64>> {
            (0..BANDS)
                .map(|k| (0..SEGMENT).map(|t| b[m + t][k]).collect())
                .collect()
        };
        let (xs, ys) = (seg(&xb), seg(&yb));
        for k in 0..BANDS {
            let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
            let scale = norm(&xs[k]) / (norm(&ys[k]) + EPS);
            let yp: Vec<f64> = ys[k]
                .iter()
                .zip(&xs[k])
                .map(|(&y, &x)| (y * scale).min(x * clip))
                .collect();
            d += centred_correlation(&xs[k], &yp);
        }
        e += estoi_segment(&xs, &ys);
    }
    Ok(Intelligibility {
        stoi: d / (segments * BANDS) as f64,
        estoi: e / segments as f64,
    })
}

/// `⟨x − x̄, y − ȳ⟩ / (‖x − x̄‖ ‖y − ȳ‖)` with pystoi's ε in each norm.
fn centred_correlation(x: &[f64], y: &[f64]) -> f64 {
    let centre = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let c: Vec<f64> = v.iter().map(|a| a - mean).collect();
        let n = c.iter().map(|a| a * a).sum::<f64>().sqrt() + EPS;
        c.into_iter().map(|a| a / n).collect::<Vec<f64>>()
    };
    centre(x).iter().zip(centre(y)).map(|(a, b)| a * b).sum()
}

/// ESTOI of one segment: rows (bands, over time) then columns (time, over bands) mean- and
/// norm-normalised, then the mean over time of the column correlations.
fn estoi_segment(xs: &[Vec<f64>], ys: &[Vec<f64>]) -> f64 {
    let normalise = |s: &[Vec<f64>]| -> Vec<Vec<f64>> {
        let mut rows: Vec<Vec<f64>> = s
            .iter()
            .map(|r| {
                let mean = r.iter().sum::<f64>() / SEGMENT as f64;
                let c: Vec<f64> = r.iter().map(|a| a - mean).collect();
                let n = c.iter().map(|a| a * a).sum::<f64>().sqrt();
                c.into_iter().map(|a| if n > 0.0 { a / n } else { 0.0 }).collect()
            })
            .collect();
        for t in 0..SEGMENT {
            let mean = rows.iter().map(|r| r[t]).sum::<f64>() / BANDS as f64;
            rows.iter_mut().for_each(|r| r[t] -= mean);
            let n = rows.iter().map(|r| r[t] * r[t]).sum::<f64>().sqrt();
            rows.iter_mut()
                .for_each(|r| r[t] = if n > 0.0 { r[t] / n } else { 0.0 });
        }
        rows
    };
    let (xn, yn) = (normalise(xs), normalise(ys));
    xn.iter()
        .zip(&yn)
        .map(|(a, b)| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>())
        .sum::<f64>()
        / SEGMENT as f64
}

/// MATLAB's `hanning(n)`: the symmetric Hann window without its zero end points.
fn hanning(n: usize) -> Vec<f64> {
    (1..=n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (n + 1) as f64).cos())
        .collect()
}

/// Drops the frames whose clean energy is more than 40 dB below the loudest, from both
/// signals, and overlap-adds what remains.
fn remove_silent_frames(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let hop = FRAME / 2;
    let w = hanning(FRAME);
    let starts: Vec<usize> = (0..x.len().saturating_sub(FRAME)).step_by(hop).collect();
    let energy_db = |s: usize| {
        let e: f64 = (0..FRAME).map(|i| (w[i] * x[s + i]).powi(2)).sum();
        20.0 * (e.sqrt() + EPS).log10()
    };
    let energies: Vec<f64> = starts.iter().map(|&s| energy_db(s)).collect();
    let max = energies.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let kept: Vec<usize> = starts
        .iter()
        .zip(&energies)
        .filter(|(_, &e)| max - DYN_RANGE_DB - e < 0.0)
        .map(|(&s, _)| s)
        .collect();
    let len = if kept.is_empty() {
        0
    } else {
        (kept.len() - 1) * hop + FRAME
    };
    let add = |src: &[f64]| {
        let mut out = vec![0.0; len];
        for (j, &s) in kept.iter().enumerate() {
            for i in 0..FRAME {
                out[j * hop + i] += w[i] * src[s + i];
            }
        }
        out
    };
    (add(x), add(y))
}

/// One-third-octave band magnitudes per STFT frame (frames of 256, hop 128, Hann, 512-point
/// FFT): `sqrt(Σ_{bins in band} |X|²)`.
fn third_octave_envelopes(x: &[f64]) -> Vec<[f64; BANDS]> {
    let bins = NFFT / 2 + 1;
    let f: Vec<f64> = (0..bins)
        .map(|i| i as f64 * f64::from(FS) / NFFT as f64)
        .collect();
    let nearest = |target: f64| {
        (0..bins)
            .min_by(|&a, &b| (f[a] - target).powi(2).total_cmp(&(f[b] - target).powi(2)))
            .unwrap_or(0)
    };
    let edges: Vec<(usize, usize)> = (0..BANDS)
        .map(|k| {
            let k = k as f64;
            (
                nearest(MIN_FREQ * 2f64.powf((2.0 * k - 1.0) / 6.0)),
                nearest(MIN_FREQ * 2f64.powf((2.0 * k + 1.0) / 6.0)),
            )
        })
        .collect();
    let w = hanning(FRAME);
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(NFFT);
    let mut buf = vec![0.0; NFFT];
    let mut spectrum = fft.make_output_vec();
    (0..x.len().saturating_sub(FRAME))
        .step_by(FRAME / 2)
        .map(|s| {
            buf.fill(0.0);
            for i in 0..FRAME {
                buf[i] = w[i] * x[s + i];
            }
            let _ = fft.process(&mut buf, &mut spectrum);
            let power: Vec<f64> = spectrum.iter().map(|c| c.norm_sqr()).collect();
            core::array::from_fn(|k| {
                let (lo, hi) = edges[k];
                power[lo..hi].iter().sum::<f64>().sqrt()
            })
        })
        .collect()
}

/// Modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, q) = (1.0, 1.0, x * x / 4.0);
    for k in 1..200 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    sum
}

/// Octave's `resample(x, p, q)` (as pystoi's `resample_oct`): a Kaiser-windowed sinc with
/// 60 dB rejection, applied polyphase as SciPy's `resample_poly` does.
fn resample_octave(x: &[f64], p: u32, q: u32) -> Vec<f64> {
    let g = gcd(p, q);
    let (p, q) = ((p / g) as usize, (q / g) as usize);
    let cutoff = 1.0 / (2 * p.max(q)) as f64;
    let roll_off = cutoff / 10.0;
    let rejection_db = 60.0;
    let half = ((rejection_db - 8.0) / (28.714 * roll_off)).ceil() as usize;
    let beta = 0.1102 * (rejection_db - 8.7);
    let taps = 2 * half + 1;
    let i0_beta = bessel_i0(beta);
    let mut h: Vec<f64> = (0..taps)
        .map(|n| {
            let t = n as f64 - half as f64;
            let arg = 2.0 * cutoff * t;
            let sinc = if arg == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * arg).sin() / (std::f64::consts::PI * arg)
            };
            let r = 2.0 * n as f64 / (taps - 1) as f64 - 1.0;
            let kaiser = bessel_i0(beta * (1.0 - r * r).max(0.0).sqrt()) / i0_beta;
            kaiser * 2.0 * p as f64 * cutoff * sinc
        })
        .collect();
    let sum: f64 = h.iter().sum();
    h.iter_mut().for_each(|v| *v *= p as f64 / sum);
    // y[k] = Σ_i x[i] h[(k + pre_remove)·q − i·p − pre_pad], SciPy's alignment.
    let pre_pad = q - half % q;
    let pre_remove = (half + pre_pad) / q;
    let n_out = (x.len() * p).div_ceil(q);
    (0..n_out)
        .map(|k| {
            let centre = (k + pre_remove) * q - pre_pad;
            // h index = centre − i·p ∈ [0, taps).
            let i_min = centre.saturating_sub(taps - 1).div_ceil(p);
            let i_max = (centre / p).min(x.len().saturating_sub(1));
            (i_min..=i_max).map(|i| x[i] * h[centre - i * p]).sum()
        })
        .collect()
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
