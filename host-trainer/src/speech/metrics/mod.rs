//! How good a speech estimate is: BSS-eval SDR / SIR / SAR ([`bss_eval`] on the block
//! [`levinson`] solver), PESQ ([`pesq`]) and STOI / ESTOI ([`stoi`]), each checked against its
//! reference implementation, and all of them for one estimate ([`measures`]) and its report ([`report`]).

pub mod bss_eval;
pub mod levinson;
pub mod measures;
mod pair;
pub mod pesq;
pub mod report;
pub mod stoi;

pub use measures::{mean, speech_metrics, SpeechMetrics};
