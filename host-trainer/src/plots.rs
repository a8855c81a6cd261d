//! Figures (SVG and PNG): synergy weights per muscle, activations over time, original versus
//! reconstructed envelopes with each channel's VAF (as the paper's Fig. 2), and VAF versus
//! rank. Every file is staged in an [`OutputSet`], moved into place with the run's other
//! outputs.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::EmgMatrix;
use crate::eval::{RankPoint, Synergies, RANK_GLOBAL_VAF};
use crate::output::OutputSet;

const FONT_PATHS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers a sans-serif font once (plotters needs one to lay out text). `VAENMF_FONT`
/// overrides the search.
fn ensure_font() -> Result<()> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let candidates: Vec<String> = std::env::var("VAENMF_FONT")
            .into_iter()
            .chain(FONT_PATHS.iter().map(|s| s.to_string()))
            .collect();
        for path in &candidates {
            if let Ok(bytes) = std::fs::read(path) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "no TrueType font found for plots (looked at {}); install fonts-dejavu-core or set VAENMF_FONT",
            candidates.join(", ")
        ))
    })
    .clone()
    .map_err(|e| anyhow!(e))
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

/// Renders with `$draw` (a function generic over the backend) to `<dir>/<stem>.svg` and
/// `<dir>/<stem>.png`, staged in `$set`; returns the two paths.
macro_rules! render {
    ($set:expr, $dir:expr, $stem:expr, $size:expr, $draw:expr) => {{
        ensure_font()?;
        let svg_path = $dir.join(format!("{}.svg", $stem));
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, $size).into_drawing_area();
            $draw(&root)?;
            root.present().map_err(err)?;
        }
        $set.add(&svg_path, svg.as_bytes())?;
        let png_path = $dir.join(format!("{}.png", $stem));
        $set.add_with(&png_path, |tmp| {
            let root = BitMapBackend::new(tmp, $size).into_drawing_area();
            $draw(&root)?;
            root.present().map_err(err)
        })?;
        Ok::<_, anyhow::Error>(vec![svg_path, png_path])
    }};
}

fn draw_synergies<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &Synergies,
    names: &[String],
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let panels = root.split_evenly((s.rank, 1));
    // One scale for every panel, so weights compare across synergies.
    let top = s.w.iter().copied().fold(0.0f32, f32::max).max(1e-6) * 1.1;
    for (k, panel) in panels.iter().enumerate() {
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("synergy {} (unit L2 norm)", k + 1), ("sans-serif", 16))
            .margin(6)
            .x_label_area_size(24)
            .y_label_area_size(40)
            .build_cartesian_2d((0..s.channels.max(2) - 1).into_segmented(), 0f32..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(s.channels)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(4)
            .draw()
            .map_err(err)?;
        let col = s.column(k);
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(Palette99::pick(k).filled())
                    .margin(4)
                    .data(col.iter().enumerate().map(|(i, &v)| (i, v))),
            )
            .map_err(err)?;
    }
    Ok(())
}

fn draw_reconstruction<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: &EmgMatrix,
    xhat: &[f32],
    vaf_per_channel: &[f64],
    names: &[String],
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let cols = if x.channels > 6 { 2 } else { 1 };
    let rows = x.channels.div_ceil(cols);
    let panels = root.split_evenly((rows, cols));
    let shown = x.frames.min(SHOWN_FRAMES);
    // Shared axes: every channel on the same time and amplitude scale.
    let top = x.data[..shown * x.channels]
        .iter()
        .chain(&xhat[..shown * x.channels])
        .copied()
        .fold(0.0f32, f32::max)
        .max(1e-6)
        * 1.05;
    for (c, panel) in panels.iter().enumerate().take(x.channels) {
        let orig: Vec<f32> = (0..shown).map(|f| x.data[f * x.channels + c]).collect();
        let rec: Vec<f32> = (0..shown).map(|f| xhat[f * x.channels + c]).collect();
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("{}  VAF = {:.3}", names[c], vaf_per_channel[c]),
                ("sans-serif", 14),
            )
            .margin(4)
            .margin_right(24)
            .x_label_area_size(18)
            .y_label_area_size(36)
            .build_cartesian_2d(0..shown, 0f32..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(3)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                orig.iter().enumerate().map(|(f, &v)| (f, v)),
                &BLACK,
            ))
            .map_err(err)?
            .label("original")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
        chart
            .draw_series(LineSeries::new(
                rec.iter().enumerate().map(|(f, &v)| (f, v)),
                &RED,
            ))
            .map_err(err)?
            .label("reconstructed")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        if c == 0 {
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .label_font(("sans-serif", 11))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }
    }
    Ok(())
}

fn draw_activations<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, z: &[f32], rank: usize) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let frames = z.len() / rank.max(1);
    let shown = frames.min(SHOWN_FRAMES);
    let top = z[..shown * rank].iter().copied().fold(0.0f32, f32::max).max(1e-6) * 1.05;
    let panels = root.split_evenly((rank, 1));
    for (k, panel) in panels.iter().enumerate() {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("activation {} (units of the unit-norm synergy)", k + 1),
                ("sans-serif", 14),
            )
            .margin(4)
            .margin_right(24)
            .x_label_area_size(18)
            .y_label_area_size(40)
            .build_cartesian_2d(0..shown, 0f32..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(5)
            .y_labels(3)
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                (0..shown).map(|f| (f, z[f * rank + k])),
                Palette99::pick(k).stroke_width(2),
            ))
            .map_err(err)?;
    }
    Ok(())
}

fn draw_rank_curve<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, curve: &[RankPoint]) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let max_rank = curve.iter().map(|p| p.rank).max().unwrap_or(1);
    let low = curve
        .iter()
        .map(|p| p.min_channel_vaf.min(p.vaf))
        .fold(1.0f64, f64::min)
        .clamp(-1.0, 0.9)
        - 0.05;
    let mut chart = ChartBuilder::on(root)
        .caption("VAF versus number of synergies", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(50)
        // An integer axis: ticks only at whole ranks.
        .build_cartesian_2d(0..max_rank + 1, low..1.0f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("rank")
        .y_desc("VAF")
        .x_labels(max_rank + 2)
        .x_label_formatter(&|r| {
            if (1..=max_rank).contains(r) {
                r.to_string()
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            curve.iter().map(|p| (p.rank, p.vaf)),
            BLUE.stroke_width(2),
        ))
        .map_err(err)?
        .label("global VAF")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_series(LineSeries::new(
            curve.iter().map(|p| (p.rank, p.min_channel_vaf)),
            GREEN.stroke_width(2),
        ))
        .map_err(err)?
        .label("lowest channel VAF")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    chart
        .draw_series(LineSeries::new(
            [(0, RANK_GLOBAL_VAF), (max_rank + 1, RANK_GLOBAL_VAF)],
            BLACK.mix(0.4),
        ))
        .map_err(err)?;
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Frames shown in the time plots.
pub const SHOWN_FRAMES: usize = 1000;

/// Synergy weights per muscle, one bar chart per synergy, on one scale.
pub fn synergies(
    set: &mut OutputSet,
    dir: &Path,
    s: &Synergies,
    names: &[String],
) -> Result<Vec<std::path::PathBuf>> {
    if names.len() != s.channels {
        bail!("{} channel names for {} channels", names.len(), s.channels);
    }
    let height = 160 * s.rank as u32 + 40;
    render!(set, dir, "synergies", (900, height), |root| draw_synergies(
        root, s, names
    ))
}

/// Activations over time (first [`SHOWN_FRAMES`] frames), one panel per synergy on one scale:
/// the left half of the paper's Fig. 2, next to [`reconstruction`].
pub fn activations(
    set: &mut OutputSet,
    dir: &Path,
    z: &[f32],
    rank: usize,
) -> Result<Vec<std::path::PathBuf>> {
    render!(set, dir, "activations", (900, 120 * rank as u32 + 40), |root| {
        draw_activations(root, z, rank)
    })
}

/// Original versus reconstructed envelope per channel (first [`SHOWN_FRAMES`] frames, every
/// channel on the same axes), with each channel's VAF.
pub fn reconstruction(
    set: &mut OutputSet,
    dir: &Path,
    stem: &str,
    x: &EmgMatrix,
    xhat: &[f32],
    vaf_per_channel: &[f64],
    names: &[String],
) -> Result<Vec<std::path::PathBuf>> {
    let rows = x.channels.div_ceil(if x.channels > 6 { 2 } else { 1 }) as u32;
    render!(set, dir, stem, (1200, 140 * rows + 40), |root| {
        draw_reconstruction(root, x, xhat, vaf_per_channel, names)
    })
}

/// VAF and lowest channel VAF versus rank, with the 0.90 threshold.
pub fn rank_curve(set: &mut OutputSet, dir: &Path, curve: &[RankPoint]) -> Result<Vec<std::path::PathBuf>> {
    render!(set, dir, "rank", (800, 500), |root| draw_rank_curve(root, curve))
}

/// Viridis, by linear interpolation between five of its stops (`t` in [0, 1]).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let x = t.clamp(0.0, 1.0) * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// One spectrogram panel: a title and `|X|` frame-major (`frames × bins`).
pub struct SpectrogramPanel<'a> {
    /// Title drawn above the panel.
    pub title: String,
    /// Magnitudes, frame-major.
    pub magnitude: &'a [f32],
    /// Bins per frame.
    pub bins: usize,
}

/// Time and frequency scale of spectrogram panels.
#[derive(Debug, Clone, Copy)]
pub struct SpectrogramScale {
    /// Seconds between frames (hop / sample rate).
    pub frame_seconds: f64,
    /// Top of the frequency axis (sample rate / 2), Hz.
    pub nyquist_hz: f64,
}

/// Dynamic range of the spectrogram colours below the loudest bin, dB.
const SPECTROGRAM_RANGE_DB: f64 = 80.0;

/// Log-magnitude spectrograms stacked top to bottom on one dB scale (the loudest bin of all
/// panels to 80 dB below it): time in s, frequency in kHz, a colour bar in dB re the loudest
/// bin beside each; one PNG staged in `set`.
pub fn spectrograms(
    set: &mut OutputSet,
    path: &Path,
    panels: &[SpectrogramPanel<'_>],
    scale: SpectrogramScale,
) -> Result<()> {
    ensure_font()?;
    let Some(first) = panels.first() else {
        bail!("no spectrogram to draw");
    };
    let (bins, frames) = (first.bins, first.magnitude.len() / first.bins.max(1));
    if frames == 0
        || bins == 0
        || panels
            .iter()
            .any(|p| p.bins != bins || p.magnitude.len() != frames * bins)
    {
        bail!("spectrogram panels must share one non-empty shape");
    }
    let to_db = |v: f32| 20.0 * f64::from(v).max(1e-10).log10();
    let top = panels
        .iter()
        .flat_map(|p| p.magnitude.iter())
        .fold(f64::NEG_INFINITY, |m, &v| m.max(to_db(v)));
    let duration = frames as f64 * scale.frame_seconds;
    let khz = scale.nyquist_hz / 1000.0;
    let (width, panel_height) = (1100u32, 300u32);
    set.add_with(path, |tmp| {
        let root = BitMapBackend::new(tmp, (width, panel_height * panels.len() as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        for (panel, area) in panels.iter().zip(root.split_evenly((panels.len(), 1))) {
            let (image_area, bar_area) = area.split_horizontally(width - 125);
            let mut chart = ChartBuilder::on(&image_area)
                .caption(&panel.title, ("sans-serif", 16))
                .margin(6)
                .x_label_area_size(34)
                .y_label_area_size(54)
                .build_cartesian_2d(0.0..duration, 0.0..khz)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("time (s)")
                .y_desc("frequency (kHz)")
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .draw()
                .map_err(err)?;
            let plot = chart.plotting_area().strip_coord_spec();
            let (w, h) = plot.dim_in_pixel();
            for col in 0..w as usize {
                let (f0, f1) = (
                    col * frames / w as usize,
                    ((col + 1) * frames / w as usize)
                        .max(col * frames / w as usize + 1)
                        .min(frames),
                );
                for row in 0..h as usize {
                    // Row 0 is the top: the highest frequencies.
                    let k = ((h as usize - 1 - row) * bins / h as usize).min(bins - 1);
                    let mean =
                        (f0..f1).map(|f| panel.magnitude[f * bins + k]).sum::<f32>() / (f1 - f0) as f32;
                    let t = (to_db(mean) - top + SPECTROGRAM_RANGE_DB) / SPECTROGRAM_RANGE_DB;
                    plot.draw_pixel((col as i32, row as i32), &viridis(t))
                        .map_err(err)?;
                }
            }
            let mut bar = ChartBuilder::on(&bar_area)
                .margin_top(30)
                .margin_bottom(40)
                .margin_right(8)
                .y_label_area_size(58)
                .build_cartesian_2d(0.0..1.0, -SPECTROGRAM_RANGE_DB..0.0)
                .map_err(err)?;
            bar.configure_mesh()
                .disable_mesh()
                .disable_x_axis()
                .y_desc("dB re max")
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 14))
                .draw()
                .map_err(err)?;
            let steps = 80;
            bar.draw_series((0..steps).map(|i| {
                let lo = -SPECTROGRAM_RANGE_DB + SPECTROGRAM_RANGE_DB * i as f64 / steps as f64;
                let hi = lo + SPECTROGRAM_RANGE_DB / steps as f64;
                Rectangle::new(
                    [(0.0, lo), (1.0, hi)],
                    viridis((lo + SPECTROGRAM_RANGE_DB) / SPECTROGRAM_RANGE_DB).filled(),
                )
            }))
            .map_err(err)?;
        }
        root.present().map_err(err)?;
        Ok(())
    })
}
