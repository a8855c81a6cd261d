//! The run-time-sized path on an owned blob against the const-generic path: bit for bit.

mod common;

use common::{random_blob, uniform_vec};
use vaenmf_core::dynamic::PosteriorVec;
use vaenmf_core::gamma::Prng;
use vaenmf_core::{InputError, ModelStorage};

/// Same activations, to the bit, as `Model::encode` for the same blob and frames; checked on
/// a shape where the host runs four panels at once (H1 = 40: five panels), narrow tail panels
/// (H2 = 11, R = 3) and a nonzero input offset.
fn same_bits<const M: usize, const H1: usize, const H2: usize, const R: usize>(seed: u64) {
    let mut blob = random_blob(seed, M, (H1, H2), R);
    let mut rng = Prng::new(seed + 1);
    blob.input_offset = uniform_vec(&mut rng, M, -0.2, 0.2);
    let mut storage = ModelStorage::<M, H1, H2, R>::new();
    let model = storage.decode(&blob.to_bytes().unwrap()).unwrap();
    let mut scaled = vec![0.0f32; M];
    for _ in 0..300 {
        let raw: [f32; M] = uniform_vec(&mut rng, M, 0.0, 1.5).try_into().unwrap();
        blob.scale_input(&raw, &mut scaled).unwrap();
        let expected = model.scale_input(&raw);
        assert_eq!(
            scaled.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            expected.map(f32::to_bits)
        );
        let PosteriorVec { alpha, beta } = blob.encode_scaled(&scaled).unwrap().unwrap();
        let posterior = model.encode(&raw).unwrap();
        assert_eq!(
            alpha.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            posterior.alpha.map(f32::to_bits)
        );
        assert_eq!(
            beta.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            posterior.beta.map(f32::to_bits)
        );
        let mean = blob.posterior_mean(&scaled).unwrap().unwrap();
        assert_eq!(
            mean.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            posterior.mean().map(f32::to_bits)
        );
    }
}

#[test]
fn run_time_sized_encoder_is_bit_identical_to_the_const_generic_one() {
    same_bits::<6, 40, 11, 3>(5);
    same_bits::<12, 32, 32, 4>(6);
    same_bits::<10, 8, 17, 9>(7);
}

#[test]
fn run_time_sized_encoder_rejects_bad_frames() {
    let blob = random_blob(9, 5, (8, 8), 2);
    assert_eq!(
        blob.encode_scaled(&[0.1; 4]),
        Err(InputError::LengthMismatch {
            expected: 5,
            found: 4
        })
    );
    assert_eq!(
        blob.encode_scaled(&[0.1, 0.2, f32::NAN, 0.0, 0.0]),
        Err(InputError::NonFinite { channel: 2 })
    );
    let mut out = [0.0; 5];
    assert_eq!(
        blob.scale_input(&[0.0; 6], &mut out),
        Err(InputError::LengthMismatch {
            expected: 5,
            found: 6
        })
    );
    let nmf = random_blob(9, 5, (0, 0), 2);
    assert_eq!(nmf.encode_scaled(&[0.1; 5]), Ok(None));
}
