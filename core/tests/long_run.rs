//! A tracker that runs for days: a prosthesis at ~100 frames/s sees 8.6 M frames a day. After
//! millions of frames of envelopes with bursts, rests and a NaN now and then, the windowed
//! VAF must equal a fresh computation over the window's frames (within 1e-6 at any frame, and
//! bit for bit each time the tracker rebuilds its sums), and no counter may wrap.
//!
//! `VAENMF_LONG_RUN_FRAMES` sets the length (default 2·10⁶ frames, ~10 s here; the closing
//! note of issue #21 reports 10⁷).

mod common;

use common::random_blob;
use vaenmf_core::gamma::Prng;
use vaenmf_core::{vaf, vaf_per_channel, InputError, ModelStorage, SynergyTracker};

const M: usize = 12;
const R: usize = 4;
const WINDOW: usize = 100;

/// Muscle activity in bursts (a rectified sine of random height, up to 100× a rest level),
/// rests near zero, and now and then a deep rest three decades quieter: what a day of EMG
/// envelopes looks like to the window's running sums.
struct Envelopes {
    rng: Prng,
    t: u64,
    phase_left: u64,
    level: f32,
}

impl Envelopes {
    fn next(&mut self) -> [f32; R] {
        if self.phase_left == 0 {
            self.phase_left = 20 + self.rng.next_u64() % 400;
            self.level = match self.rng.next_u64() % 4 {
                0 => 1e-4,                                     // deep rest
                1 => 1e-2,                                     // rest
                _ => (0.05 + self.rng.uniform() as f32) * 2.0, // a burst
            };
        }
        self.phase_left -= 1;
        self.t += 1;
        let s = (self.t as f32 * 0.07).sin().abs();
        core::array::from_fn(|k| {
            self.level * (0.3 + s * (k as f32 + 1.0) / R as f32) * (1.0 + 0.1 * self.rng.uniform() as f32)
        })
    }
}

#[test]
fn windowed_vaf_does_not_drift_over_millions_of_frames() {
    let frames: u64 = std::env::var("VAENMF_LONG_RUN_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let blob = random_blob(31, M, (0, 0), R);
    let mut storage = ModelStorage::<M, 0, 0, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let w = blob.dictionary.clone();
    let mut tracker = SynergyTracker::<M, 0, 0, R, WINDOW>::new(model);
    let mut source = Envelopes {
        rng: Prng::new(5),
        t: 0,
        phase_left: 0,
        level: 0.0,
    };
    let mut noise = Prng::new(6);
    // The window's frames, kept here independently of the tracker.
    let mut ring: Vec<([f32; M], [f32; M])> = Vec::with_capacity(WINDOW);
    let (mut accepted, mut skipped, mut checks) = (0u64, 0u64, 0u64);
    let mut worst = 0.0f64;
    for n in 0..frames {
        let z = source.next();
        let mut raw: [f32; M] = core::array::from_fn(|c| {
            let clean: f32 = (0..R).map(|k| w[c * R + k] * z[k]).sum();
            let scale = blob.input_scale[c];
            (clean * (1.0 + 0.05 * noise.normal() as f32)).max(0.0) / scale
        });
        if n % 100_003 == 50_000 {
            raw[n as usize % M] = f32::NAN;
            let before = tracker.vaf();
            assert!(matches!(tracker.push(&raw), Err(InputError::NonFinite { .. })));
            assert_eq!(
                tracker.vaf(),
                before,
                "a rejected frame leaves the state untouched"
            );
            skipped += 1;
            continue;
        }
        let out = tracker.push(&raw).unwrap();
        accepted += 1;
        if ring.len() == WINDOW {
            ring.remove(0);
        }
        ring.push((out.input, out.reconstruction));
        // Each WINDOW accepted frames the tracker rebuilds its sums from the window: then its
        // per-channel VAF is the batch computation's, bit for bit (same terms, same order).
        if accepted.is_multiple_of(WINDOW as u64) {
            let xs: Vec<f32> = ring.iter().flat_map(|(x, _)| *x).collect();
            let xhats: Vec<f32> = ring.iter().flat_map(|(_, h)| *h).collect();
            let mut per = [0.0f32; M];
            vaf_per_channel(&xs, &xhats, &mut per).unwrap();
            let ours = tracker.vaf_per_channel();
            assert!(
                ours.iter().zip(per).all(|(a, b)| a.to_bits() == b.to_bits()),
                "frame {n}, after a rebuild: {ours:?} against {per:?}"
            );
        }
        // Check often, and always right after the window went quiet.
        let quiet = source.level < 1e-3 && source.phase_left == 0;
        if n % 9_973 == 0 || quiet || n + 1 == frames {
            let xs: Vec<f32> = ring.iter().flat_map(|(x, _)| *x).collect();
            let xhats: Vec<f32> = ring.iter().flat_map(|(_, h)| *h).collect();
            let fresh = vaf(&xs, &xhats).unwrap();
            let ours = tracker.vaf().unwrap();
            let diff = f64::from((ours - fresh).abs());
            worst = worst.max(diff);
            assert!(
                diff <= 1e-6,
                "frame {n}: windowed VAF {ours} against {fresh} recomputed ({diff:e})"
            );
            let mut per = [0.0f32; M];
            vaf_per_channel(&xs, &xhats, &mut per).unwrap();
            for (c, (a, b)) in tracker.vaf_per_channel().iter().zip(per).enumerate() {
                assert!((a - b).abs() <= 1e-6, "frame {n}, channel {c}: {a} against {b}");
            }
            checks += 1;
        }
    }
    assert_eq!(
        tracker.frames(),
        accepted,
        "the frame counter counts accepted frames"
    );
    assert!(skipped > 0 && checks > 100);
    println!(
        "{frames} frames ({accepted} tracked, {skipped} NaN frames rejected): {checks} checks, worst |ΔVAF| {worst:e}"
    );
}
