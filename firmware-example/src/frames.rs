//! Where envelope frames come from.

use core::convert::Infallible;

/// A stream of `M`-channel envelope frames for the tracker.
pub trait FrameSource<const M: usize> {
    /// What can go wrong while producing a frame (reported per frame; the stream goes on).
    type Error: core::fmt::Display;

    /// The next frame, waiting for it if need be; `None` once the source has ended (a live
    /// source never ends).
    fn next_frame(&mut self) -> Option<Result<[f32; M], Self::Error>>;
}

/// A recorded sequence in flash, frame by frame (the QEMU tests and the demo use it).
pub struct RecordedFrames<'a, const M: usize> {
    frames: &'a [[f32; M]],
    next: usize,
}

impl<'a, const M: usize> RecordedFrames<'a, M> {
    /// Plays `frames` once, in order.
    pub fn new(frames: &'a [[f32; M]]) -> Self {
        Self { frames, next: 0 }
    }
}

impl<const M: usize> FrameSource<M> for RecordedFrames<'_, M> {
    type Error = Infallible;

    fn next_frame(&mut self) -> Option<Result<[f32; M], Infallible>> {
        let frame = self.frames.get(self.next)?;
        self.next += 1;
        Some(Ok(*frame))
    }
}
