//! The 512-point real FFT and its inverse, on `microfft` (radix-2, tables in flash, no heap).
//!
//! `microfft` has a forward real FFT but no inverse one; the inverse here is the standard
//! half-length trick: the 257 bins of a real signal's spectrum fold into a 256-point complex
//! spectrum whose inverse holds the even samples in its real parts and the odd ones in its
//! imaginary parts. Only `+ − × ÷` in a fixed order (no fused multiply-add), so every target
//! gives the same bits.
//!
//! Cost per call (Cortex-M4F, counted under QEMU): see `docs/BENCHMARKS.md`.

use microfft::Complex32;

/// FFT size = window length of the streaming front end.
pub const FFT_SIZE: usize = 512;
/// Frequency bins, `FFT_SIZE / 2 + 1`.
pub const BINS: usize = FFT_SIZE / 2 + 1;
const HALF: usize = FFT_SIZE / 2;

/// One frame's spectrum: bins `0 ..= N/2` (the first and last have zero imaginary part).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spectrum {
    /// Real parts.
    pub re: [f32; BINS],
    /// Imaginary parts.
    pub im: [f32; BINS],
}

impl Spectrum {
    /// All bins zero (a constant: `&Spectrum::ZERO` takes no stack).
    pub const ZERO: Self = Self {
        re: [0.0; BINS],
        im: [0.0; BINS],
    };
}

impl Default for Spectrum {
    fn default() -> Self {
        Self::ZERO
    }
}

/// The real FFT pair with its twiddle factors `e^{+2πik/N}`, `k < N/2`, computed once.
#[derive(Debug, Clone)]
pub struct RealFft {
    twiddle_re: [f32; HALF],
    twiddle_im: [f32; HALF],
    /// Scratch of the inverse.
    folded: [Complex32; HALF],
}

impl Default for RealFft {
    fn default() -> Self {
        Self::new()
    }
}

impl RealFft {
    /// Computes the twiddle factors (in f64 with `libm`, the same bits on every target).
    pub fn new() -> Self {
        let mut fft = Self::ZEROED;
        fft.compute_twiddles();
        fft
    }

    /// All zeros, twiddles included — a `static`'s initial value (no copy on the stack);
    /// [`Self::compute_twiddles`] makes it usable.
    pub const ZEROED: Self = Self {
        twiddle_re: [0.0; HALF],
        twiddle_im: [0.0; HALF],
        folded: [Complex32::new(0.0, 0.0); HALF],
    };

    /// Fills the twiddle factors in place (`e^{+2πik/N}` in f64 with `libm`, rounded to f32:
    /// [`super::tables`], computed at build time).
    pub fn compute_twiddles(&mut self) {
        self.twiddle_re = super::tables::TWIDDLE_RE;
        self.twiddle_im = super::tables::TWIDDLE_IM;
    }
    /// `X[k] = Σₙ x[n] e^{−2πikn/N}` of `x` (overwritten as scratch) into `out`.
    pub fn forward(&self, x: &mut [f32; FFT_SIZE], out: &mut Spectrum) {
        let packed = microfft::real::rfft_512(x);
        // microfft packs the (real) Nyquist bin into the imaginary part of bin 0.
        out.re[0] = packed[0].re;
        out.im[0] = 0.0;
        out.re[HALF] = packed[0].im;
        out.im[HALF] = 0.0;
        for ((re, im), c) in out.re[1..HALF]
            .iter_mut()
            .zip(&mut out.im[1..HALF])
            .zip(&packed[1..])
        {
            *re = c.re;
            *im = c.im;
        }
    }

    /// `x[n] = (1/N) Σₖ X[k] e^{+2πikn/N}` over the Hermitian-extended `spectrum` (the
    /// imaginary parts of bins 0 and N/2 are ignored, as for any real signal).
    pub fn inverse(&mut self, spectrum: &Spectrum, x: &mut [f32; FFT_SIZE]) {
        // Even samples e and odd samples o have half-length spectra
        //   E[k] = (X[k] + X*[M−k]) / 2,   O[k] = (X[k] − X*[M−k]) e^{+2πik/N} / 2,
        // and IFFT_M(E + iO) = e + i·o.
        for k in 0..HALF {
            let (ar, ai) = (spectrum.re[k], if k == 0 { 0.0 } else { spectrum.im[k] });
            let mirror = HALF - k;
            let (br, bi) = (
                spectrum.re[mirror],
                if mirror == HALF { 0.0 } else { -spectrum.im[mirror] },
            );
            let (er, ei) = (0.5 * (ar + br), 0.5 * (ai + bi));
            let (dr, di) = (0.5 * (ar - br), 0.5 * (ai - bi));
            let (tr, ti) = (self.twiddle_re[k], self.twiddle_im[k]);
            let (or, oi) = (dr * tr - di * ti, dr * ti + di * tr);
            // E + i·O
            self.folded[k] = Complex32::new(er - oi, ei + or);
        }
        let z = microfft::inverse::ifft_256(&mut self.folded);
        for (n, c) in z.iter().enumerate() {
            x[2 * n] = c.re;
            x[2 * n + 1] = c.im;
        }
    }
}
