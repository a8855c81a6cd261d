//! A noisy recording in flash for the `speech` binary: 16-bit PCM (half the flash) or f32,
//! read as the trainer reads WAV files, so the device's input samples are the host's bit for
//! bit.

/// The samples of a mono recording.
#[derive(Debug, Clone, Copy)]
pub enum Recording {
    /// 16-bit PCM: sample `v` is `v / 32768` (exact in f32).
    Pcm16(&'static [i16]),
    /// f32 samples as stored.
    Float(&'static [f32]),
}

impl Recording {
    /// Samples in the recording.
    pub fn len(&self) -> usize {
        match self {
            Recording::Pcm16(s) => s.len(),
            Recording::Float(s) => s.len(),
        }
    }

    /// Whether it has no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i`, 0 past the end.
    pub fn sample(&self, i: usize) -> f32 {
        match self {
            Recording::Pcm16(s) => s.get(i).map_or(0.0, |&v| f32::from(v) / 32768.0),
            Recording::Float(s) => s.get(i).copied().unwrap_or(0.0),
        }
    }
}
