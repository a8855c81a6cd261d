//! STM32F411E-DISCO (STM32F411VE: Cortex-M4F, 100 MHz, 512 KiB flash, 128 KiB RAM), and its
//! ADC frame source.
//!
//! [`AdcFrames`] samples `M` channels at a fixed rate: TIM2's update interrupt starts one
//! conversion per channel on ADC1 (software-started; 84 cycles of sampling + 12 of conversion
//! at 25 MHz — PCLK2 / 4, under the part's 36 MHz limit — about 3.8 µs a channel) and queues
//! the raw counts; [`FrameSource::next_frame`] takes them in the
//! main loop, converts counts to volts and runs the envelope stage, which hands out one frame
//! every `decimate` samples. The queue holds [`QUEUE_SAMPLES`] samples, so the tracker may
//! take that long per frame before samples are lost; lost samples are counted and reported as
//! an error, never hidden. Channel `c` of the model is ADC1_IN`c`: PA0–PA7, PB0, PB1, PC0–PC5.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use critical_section::Mutex;
use heapless::Deque;
use stm32f4xx_hal::adc::config::{AdcConfig, Clock, SampleTime};
use stm32f4xx_hal::adc::Adc;
use stm32f4xx_hal::gpio::{Analog, Pin};
use stm32f4xx_hal::pac::{self, interrupt, Interrupt, ADC1, TIM2};
use stm32f4xx_hal::prelude::*;
use stm32f4xx_hal::rcc::{Config, Rcc};
use stm32f4xx_hal::timer::{CounterHz, Event};
use vaenmf_core::envelope::{EnvelopeError, EnvelopeStage};

use crate::frames::FrameSource;

/// The board, as the `summary` line names it.
pub const NAME: &str = "stm32f411e-disco";
/// Core clock once [`init`] ran.
pub const CLOCK_HZ: u32 = 100_000_000;
/// ADC inputs wired to pins: ADC1_IN0 … ADC1_IN15.
pub const MAX_CHANNELS: usize = 16;
/// Raw samples the interrupt can queue ahead of the main loop.
pub const QUEUE_SAMPLES: usize = 64;
/// Volts per count: 12-bit conversion of 0 … 3.0 V (the DISCO's VDDA).
pub const VOLTS_PER_COUNT: f32 = 3.0 / 4095.0;
const SAMPLE_TIME: SampleTime = SampleTime::Cycles_84;

/// What [`init`] leaves for a frame source: the clocks and the peripherals it needs.
pub struct Parts {
    /// The frozen clock tree.
    pub rcc: Rcc,
    /// The ADC.
    pub adc1: ADC1,
    /// The sampling timer.
    pub tim2: TIM2,
    /// Ports holding the analog inputs.
    pub gpioa: pac::GPIOA,
    /// Ports holding the analog inputs.
    pub gpiob: pac::GPIOB,
    /// Ports holding the analog inputs.
    pub gpioc: pac::GPIOC,
}

/// Runs the core at 100 MHz from the DISCO's 8 MHz HSE (the ST-LINK's clock output).
pub fn init() -> Parts {
    let dp = pac::Peripherals::take().unwrap_or_else(|| panic!("STM32F411 peripherals taken"));
    let rcc = dp.RCC.freeze(Config::hse(8.MHz()).sysclk(CLOCK_HZ.Hz()));
    Parts {
        rcc,
        adc1: dp.ADC1,
        tim2: dp.TIM2,
        gpioa: dp.GPIOA,
        gpiob: dp.GPIOB,
        gpioc: dp.GPIOC,
    }
}

type AnalogPin<const P: char, const N: u8> = Pin<P, N, Analog>;

/// The sixteen ADC1 inputs in analog mode.
struct AnalogPins {
    a: (
        AnalogPin<'A', 0>,
        AnalogPin<'A', 1>,
        AnalogPin<'A', 2>,
        AnalogPin<'A', 3>,
        AnalogPin<'A', 4>,
        AnalogPin<'A', 5>,
        AnalogPin<'A', 6>,
        AnalogPin<'A', 7>,
    ),
    b: (AnalogPin<'B', 0>, AnalogPin<'B', 1>),
    c: (
        AnalogPin<'C', 0>,
        AnalogPin<'C', 1>,
        AnalogPin<'C', 2>,
        AnalogPin<'C', 3>,
        AnalogPin<'C', 4>,
        AnalogPin<'C', 5>,
    ),
}

impl AnalogPins {
    /// One conversion of ADC1_IN`channel` (0–15).
    fn convert(&self, adc: &mut Adc<ADC1>, channel: usize) -> u16 {
        let (a, b, c) = (&self.a, &self.b, &self.c);
        match channel {
            0 => adc.convert(&a.0, SAMPLE_TIME),
            1 => adc.convert(&a.1, SAMPLE_TIME),
            2 => adc.convert(&a.2, SAMPLE_TIME),
            3 => adc.convert(&a.3, SAMPLE_TIME),
            4 => adc.convert(&a.4, SAMPLE_TIME),
            5 => adc.convert(&a.5, SAMPLE_TIME),
            6 => adc.convert(&a.6, SAMPLE_TIME),
            7 => adc.convert(&a.7, SAMPLE_TIME),
            8 => adc.convert(&b.0, SAMPLE_TIME),
            9 => adc.convert(&b.1, SAMPLE_TIME),
            10 => adc.convert(&c.0, SAMPLE_TIME),
            11 => adc.convert(&c.1, SAMPLE_TIME),
            12 => adc.convert(&c.2, SAMPLE_TIME),
            13 => adc.convert(&c.3, SAMPLE_TIME),
            14 => adc.convert(&c.4, SAMPLE_TIME),
            _ => adc.convert(&c.5, SAMPLE_TIME),
        }
    }
}

/// What the timer interrupt owns.
struct Sampler {
    adc: Adc<ADC1>,
    pins: AnalogPins,
    timer: CounterHz<TIM2>,
    channels: usize,
}

static SAMPLER: Mutex<RefCell<Option<Sampler>>> = Mutex::new(RefCell::new(None));
static SAMPLES: Mutex<RefCell<Deque<[u16; MAX_CHANNELS], QUEUE_SAMPLES>>> =
    Mutex::new(RefCell::new(Deque::new()));
static LOST: AtomicU32 = AtomicU32::new(0);

#[interrupt]
fn TIM2() {
    critical_section::with(|cs| {
        let mut sampler = SAMPLER.borrow_ref_mut(cs);
        let Some(s) = sampler.as_mut() else { return };
        let _ = s.timer.wait(); // clears the update flag
        let mut counts = [0u16; MAX_CHANNELS];
        for (channel, count) in counts.iter_mut().enumerate().take(s.channels) {
            *count = s.pins.convert(&mut s.adc, channel);
        }
        if SAMPLES.borrow_ref_mut(cs).push_back(counts).is_err() {
            LOST.fetch_add(1, Ordering::Relaxed);
        }
    });
}

/// Why the ADC source could not start or lost data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdcError {
    /// The model has more channels than the board has ADC inputs (the count).
    TooManyChannels(usize),
    /// The main loop fell behind and this many samples were dropped since the last report.
    Overrun(u32),
    /// The envelope stage refused a sample (cannot happen with ADC counts).
    Envelope(EnvelopeError),
}

impl core::fmt::Display for AdcError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooManyChannels(m) => write!(f, "{m} channels, the board has {MAX_CHANNELS} ADC inputs"),
            Self::Overrun(n) => write!(f, "overrun: {n} samples lost"),
            Self::Envelope(e) => write!(f, "envelope: {e}"),
        }
    }
}

/// Envelope frames from `M` ADC channels sampled at a fixed rate (see the module docs).
pub struct AdcFrames<const M: usize, const B: usize, const L: usize> {
    stage: EnvelopeStage<M, B, L>,
}

impl<const M: usize, const B: usize, const L: usize> AdcFrames<M, B, L> {
    /// Configures the pins, ADC1 and TIM2 at `sample_rate_hz`, and starts sampling.
    pub fn start(parts: Parts, sample_rate_hz: u32, stage: EnvelopeStage<M, B, L>) -> Result<Self, AdcError> {
        if M > MAX_CHANNELS {
            return Err(AdcError::TooManyChannels(M));
        }
        let Parts {
            mut rcc,
            adc1,
            tim2,
            gpioa,
            gpiob,
            gpioc,
        } = parts;
        let (pa, pb, pc) = (
            gpioa.split(&mut rcc),
            gpiob.split(&mut rcc),
            gpioc.split(&mut rcc),
        );
        let pins = AnalogPins {
            a: (
                pa.pa0.into_analog(),
                pa.pa1.into_analog(),
                pa.pa2.into_analog(),
                pa.pa3.into_analog(),
                pa.pa4.into_analog(),
                pa.pa5.into_analog(),
                pa.pa6.into_analog(),
                pa.pa7.into_analog(),
            ),
            b: (pb.pb0.into_analog(), pb.pb1.into_analog()),
            c: (
                pc.pc0.into_analog(),
                pc.pc1.into_analog(),
                pc.pc2.into_analog(),
                pc.pc3.into_analog(),
                pc.pc4.into_analog(),
                pc.pc5.into_analog(),
            ),
        };
        // PCLK2 runs at 100 MHz; the HAL's default PCLK2 / 2 would clock the ADC past 36 MHz.
        let config = AdcConfig::default().clock(Clock::Pclk2_div_4);
        let adc = Adc::new(adc1, true, config, &mut rcc);
        let mut timer = tim2.counter_hz(&mut rcc);
        timer
            .start(sample_rate_hz.Hz())
            .unwrap_or_else(|e| panic!("TIM2 cannot run at {sample_rate_hz} Hz: {e:?}"));
        timer.listen(Event::Update);
        critical_section::with(|cs| {
            SAMPLER.borrow_ref_mut(cs).replace(Sampler {
                adc,
                pins,
                timer,
                channels: M,
            })
        });
        // SAFETY: the handler only touches SAMPLER, SAMPLES and LOST, each behind a critical
        // section or atomic; unmasking cannot break a critical section in progress.
        unsafe { cortex_m::peripheral::NVIC::unmask(Interrupt::TIM2) };
        Ok(Self { stage })
    }
}

impl<const M: usize, const B: usize, const L: usize> FrameSource<M> for AdcFrames<M, B, L> {
    type Error = AdcError;

    fn next_frame(&mut self) -> Option<Result<[f32; M], AdcError>> {
        loop {
            let lost = LOST.swap(0, Ordering::Relaxed);
            if lost > 0 {
                return Some(Err(AdcError::Overrun(lost)));
            }
            match critical_section::with(|cs| SAMPLES.borrow_ref_mut(cs).pop_front()) {
                None => cortex_m::asm::wfi(),
                Some(counts) => {
                    let sample: [f32; M] = core::array::from_fn(|c| f32::from(counts[c]) * VOLTS_PER_COUNT);
                    match self.stage.push(&sample) {
                        Ok(Some(frame)) => return Some(Ok(frame)),
                        Ok(None) => {}
                        Err(e) => return Some(Err(AdcError::Envelope(e))),
                    }
                }
            }
        }
    }
}
