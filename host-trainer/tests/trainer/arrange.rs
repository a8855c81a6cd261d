//! Synergy presentation: unit-norm scaling keeps W·Z, orders are reproducible, and reordering
//! a model keeps what it computes.

use vaenmf_core::gamma::Prng;
use vaenmf_core::{Dims, ModelBlob};
use vaenmf_trainer::arrange::{
    normalize, permutation, permute_blob, permute_columns, permute_synergies, Order,
};
use vaenmf_trainer::eval::Synergies;

fn uniform(rng: &mut Prng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| lo + (hi - lo) * rng.uniform() as f32).collect()
}

#[test]
fn unit_norm_synergies_keep_the_reconstruction() {
    let mut rng = Prng::new(1);
    let (m, r, frames) = (7, 3, 50);
    let mut w = uniform(&mut rng, m * r, 0.0, 3.0);
    // Synergy 2 tiny, synergy 3 silent: the gait demo's invisible-bar case and the edge.
    for row in w.chunks_exact_mut(r) {
        row[1] *= 1e-3;
        row[2] = 0.0;
    }
    let s = Synergies {
        channels: m,
        rank: r,
        w,
    };
    let z = uniform(&mut rng, frames * r, 0.0, 2.0);
    let n = normalize(&s, &z);
    for k in 0..2 {
        let norm: f64 = n
            .synergies
            .column(k)
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-6, "synergy {k}: norm {norm}");
    }
    assert!(n.synergies.column(2).iter().all(|&v| v == 0.0));
    assert_eq!(n.norms[2], 0.0);
    let (a, b) = (s.reconstruct(&z), n.synergies.reconstruct(&n.activations));
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-5 * x.abs().max(1e-3), "{x} vs {y}");
    }
}

#[test]
fn peak_channel_order_sorts_by_the_largest_weight() {
    // Columns peak at channels 3, 0, 2, 0 (the two peaking at 0: 0.9 and 0.6 of unit norm).
    let w = vec![
        0.1, 0.9, 0.0, 0.6, //
        0.1, 0.1, 0.0, 0.5, //
        0.2, 0.1, 1.0, 0.4, //
        0.9, 0.1, 0.1, 0.1, //
    ];
    let s = Synergies {
        channels: 4,
        rank: 4,
        w,
    };
    assert_eq!(permutation(&s, &Order::PeakChannel).unwrap(), vec![1, 3, 2, 0]);
}

#[test]
fn matching_recovers_a_reference_order() {
    let mut rng = Prng::new(2);
    let reference = Synergies {
        channels: 8,
        rank: 4,
        w: uniform(&mut rng, 32, 0.0, 1.0),
    };
    // The same synergies shuffled, rescaled and slightly perturbed.
    let shuffle = [2, 0, 3, 1];
    let mut shuffled = permute_synergies(&reference, &shuffle);
    for (i, v) in shuffled.w.iter_mut().enumerate() {
        *v = *v * (1.0 + (i % 4) as f32) + 0.01 * rng.uniform() as f32;
    }
    let perm = permutation(&shuffled, &Order::Match(reference.clone())).unwrap();
    // New column k must be the shuffled column that came from reference column k.
    for (k, &p) in perm.iter().enumerate() {
        assert_eq!(shuffle[p], k, "{perm:?}");
    }
    // A larger rank than the reference's: the unmatched column follows.
    let two = Synergies {
        channels: 8,
        rank: 2,
        w: reference.w.chunks(4).flat_map(|row| [row[3], row[1]]).collect(),
    };
    let perm = permutation(&reference, &Order::Match(two)).unwrap();
    assert_eq!(&perm[..2], &[3, 1]);
    assert_eq!(perm.len(), 4);
}

#[test]
fn a_reordered_model_computes_the_same_activations_reordered() {
    let mut rng = Prng::new(3);
    let (m, r) = (5, 3);
    let dims = Dims {
        channels: m as u32,
        hidden1: 9,
        hidden2: 10,
        rank: r as u32,
    };
    let mut blob = ModelBlob::random(dims, 3);
    let original = blob.clone();
    let perm = [2, 0, 1];
    permute_blob(&mut blob, &perm).unwrap();
    blob.validate().unwrap();
    for _ in 0..20 {
        let x = uniform(&mut rng, m, 0.0, 1.0);
        let before = original.posterior_mean(&x).unwrap().unwrap();
        let after = blob.posterior_mean(&x).unwrap().unwrap();
        assert_eq!(after, perm.map(|k| before[k]).to_vec());
    }
    assert_eq!(blob.dictionary, permute_columns(&original.dictionary, &perm));
    assert!(permute_blob(&mut blob, &[0, 0, 1]).is_err());
}
