//! The live source's envelope stage: `VAENMF_ENVELOPE` read and checked, its Butterworth
//! sections designed with sci-rs as the trainer's `--envelope` designs them, emitted as
//! constants for `vaenmf_core::envelope::EnvelopeStage`.

use std::env;
use std::fmt::Write as _;

use sci_rs::signal::filter::design::{butter_dyn, DigitalFilter, FilterBandType, FilterOutputType, Sos};

use super::{fail, literal};

/// Second-order sections of a Butterworth design (sci-rs, as the trainer designs them).
fn butterworth(order: usize, wn: Vec<f64>, band: FilterBandType, fs: f64) -> Vec<Sos<f64>> {
    match butter_dyn(
        order,
        wn,
        Some(band),
        Some(false),
        Some(FilterOutputType::Sos),
        Some(fs),
    ) {
        DigitalFilter::Sos(sos) => sos.sos,
        _ => fail("the Butterworth design returned no second-order sections".into()),
    }
}

fn sections(name: &str, sos: &[Sos<f64>]) -> String {
    let mut s = format!(
        "pub const {name}: [vaenmf_core::envelope::Section; {}] = [",
        sos.len()
    );
    for x in sos {
        let f = |v: f64| literal(v as f32);
        let _ = write!(
            s,
            "vaenmf_core::envelope::Section {{ b: [{}, {}, {}], a: [{}, {}] }},",
            f(x.b[0]),
            f(x.b[1]),
            f(x.b[2]),
            f(x.a[1]),
            f(x.a[2])
        );
    }
    s + "];\n"
}

fn bad_setting(item: &str) -> ! {
    fail(format!(
        "VAENMF_ENVELOPE: cannot read `{item}` (fs=HZ,band=LO:HI,lowpass=HZ,order=N,decimate=K)"
    ))
}

/// The live source's envelope settings (`VAENMF_ENVELOPE`) as constants and sections.
pub fn code() -> String {
    let spec = env::var("VAENMF_ENVELOPE").unwrap_or_default();
    let (mut fs, mut band, mut lowpass, mut order, mut decimate) =
        (1000.0, (20.0, 450.0), 4.0, 4usize, 10u32);
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (key, value) = item.split_once('=').unwrap_or_else(|| bad_setting(item));
        let number = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .unwrap_or_else(|| bad_setting(item))
        };
        match key {
            "fs" => fs = number(value),
            "band" => {
                let (lo, hi) = value.split_once(':').unwrap_or_else(|| bad_setting(item));
                band = (number(lo), number(hi));
            }
            "lowpass" => lowpass = number(value),
            "order" => {
                order = value
                    .parse()
                    .ok()
                    .filter(|&o| (1..=8).contains(&o))
                    .unwrap_or_else(|| bad_setting(item))
            }
            "decimate" => {
                decimate = value
                    .parse()
                    .ok()
                    .filter(|&d| d >= 1)
                    .unwrap_or_else(|| bad_setting(item))
            }
            _ => bad_setting(item),
        }
    }
    if (fs.round() - fs).abs() > 0.0 {
        fail(format!(
            "VAENMF_ENVELOPE: fs={fs} must be a whole number of Hz (a timer rate)"
        ));
    }
    let nyquist = fs / 2.0;
    if !(band.0 < band.1 && band.1 < nyquist && lowpass < nyquist) {
        fail(format!(
            "VAENMF_ENVELOPE: band {}:{} Hz and low-pass {lowpass} Hz must lie below the Nyquist frequency {nyquist} Hz, low edge first",
            band.0, band.1
        ));
    }
    let bandpass = butterworth(order, vec![band.0, band.1], FilterBandType::Bandpass, fs);
    let low = butterworth(order, vec![lowpass], FilterBandType::Lowpass, fs);
    let mut code = format!(
        "/// Raw sampling rate of the live source, Hz.\npub const ENVELOPE_FS_HZ: u32 = {};\n/// Samples per envelope frame.\npub const ENVELOPE_DECIMATE: u32 = {decimate};\npub const ENVELOPE_BAND_SECTIONS: usize = {};\npub const ENVELOPE_LOWPASS_SECTIONS: usize = {};\n",
        fs.round() as u32,
        bandpass.len(),
        low.len()
    );
    code += &sections("ENVELOPE_BAND", &bandpass);
    code += &sections("ENVELOPE_LOWPASS", &low);
    code
}
