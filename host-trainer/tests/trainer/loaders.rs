//! Loaders: CSV, NPY (both memory orders), MATLAB v5 (variable selection, concatenation),
//! Ninapro DB1 layout with the repetition split.

use crate::support;

use std::path::Path;

use support::{write_mat_v5, write_mat_v5_declared, MatVar};
use vaenmf_trainer::data::load::{load, LoadOptions};
use vaenmf_trainer::data::ninapro::load_ninapro;

/// A 2-D float64 .npy written by hand from the format spec (magic, version 1.0, header
/// dict padded to 64 bytes, data).
fn write_npy(path: &Path, rows: usize, cols: usize, fortran: bool, values: &[f64]) {
    let dict = format!(
        "{{'descr': '<f8', 'fortran_order': {}, 'shape': ({rows}, {cols}), }}",
        if fortran { "True" } else { "False" }
    );
    let mut header = dict.into_bytes();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(b' ');
    }
    header.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(&header);
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn csv_with_and_without_header_and_transposed() {
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("h.csv");
    std::fs::write(&with, "ch1,ch2,ch3\n1,2,3\n4,5,6\n").unwrap();
    let without = dir.path().join("n.csv");
    std::fs::write(&without, "1;2;3\n4;5;6\n\n").unwrap();
    for p in [&with, &without] {
        let m = load(p, &LoadOptions::default()).unwrap();
        assert_eq!((m.frames, m.channels), (2, 3));
        assert_eq!(m.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }
    let t = load(
        &with,
        &LoadOptions {
            channels_in_rows: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((t.frames, t.channels), (3, 2));
    assert_eq!(t.frame(0), &[1.0, 4.0]);
}

#[test]
fn npy_honours_memory_order() {
    let dir = tempfile::tempdir().unwrap();
    // Logical 2 × 3 matrix [[1, 2, 3], [4, 5, 6]] (channels in rows).
    let c = dir.path().join("c.npy");
    write_npy(&c, 2, 3, false, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let f = dir.path().join("f.npy");
    write_npy(&f, 2, 3, true, &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    let opts = LoadOptions {
        channels_in_rows: true,
        ..Default::default()
    };
    let a = load(&c, &opts).unwrap();
    let b = load(&f, &opts).unwrap();
    assert_eq!(a, b);
    assert_eq!((a.frames, a.channels), (3, 2));
    assert_eq!(a.frame(1), &[2.0, 5.0]);
}

#[test]
fn real_gait_matrix_loads_as_9900_frames_of_12_channels() {
    let m = load(
        &support::gait_matrix(),
        &LoadOptions {
            channels_in_rows: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((m.frames, m.channels), (9900, 12));
    assert!(m.data.iter().all(|&v| (0.0..=0.974).contains(&v)));
    assert!((m.max() - 0.973).abs() < 0.001, "max {}", m.max());
}

#[test]
fn mat_variables_are_selected_and_concatenated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.mat");
    // a: 3 frames × 2 channels, column-major; b: 2 frames × 2 channels.
    write_mat_v5(
        &path,
        &[
            MatVar {
                name: "a",
                rows: 3,
                cols: 2,
                values: &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0],
            },
            MatVar {
                name: "b",
                rows: 2,
                cols: 2,
                values: &[4.0, 5.0, 40.0, 50.0],
            },
        ],
    );
    let m = load(
        &path,
        &LoadOptions {
            vars: vec!["a".into(), "b".into()],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((m.frames, m.channels), (5, 2));
    assert_eq!(m.frame(0), &[1.0, 10.0]);
    assert_eq!(m.frame(4), &[5.0, 50.0]);
    // Without --var and two candidates: the error lists them.
    let err = load(&path, &LoadOptions::default()).unwrap_err().to_string();
    assert!(
        err.contains("choose the variable with --var NAME; the file has: a [3, 2], b [2, 2]"),
        "{err}"
    );
}

#[test]
fn ninapro_layout_splits_by_repetition_and_movement() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("S1_A1_E1.mat");
    // 2 movements × 10 repetitions × 3 samples, rest (0) between, 10 channels.
    let mut stim = Vec::new();
    let mut rep = Vec::new();
    for movement in 1..=2 {
        for r in 1..=10 {
            for _ in 0..3 {
                stim.push(movement as f64);
                rep.push(r as f64);
            }
            stim.push(0.0);
            rep.push(0.0);
        }
    }
    let n = stim.len();
    // Channel c of sample t holds 100·c + t, so frames can be traced.
    let emg: Vec<f64> = (0..10)
        .flat_map(|c| (0..n + 5).map(move |t| (100 * c + t) as f64))
        .collect();
    write_mat_v5(
        &path,
        &[
            MatVar {
                name: "emg",
                rows: n + 5,
                cols: 10,
                values: &emg,
            },
            MatVar {
                name: "restimulus",
                rows: n,
                cols: 1,
                values: &stim,
            },
            MatVar {
                name: "rerepetition",
                rows: n - 1,
                cols: 1,
                values: &rep[..n - 1],
            },
        ],
    );
    let split = load_ninapro(&path, Some(2)).unwrap();
    assert_eq!(split.truncated, 6);
    assert_eq!(split.train.channels, 10);
    assert_eq!(split.train.frames, 7 * 3);
    assert_eq!(split.test.frames, 3 * 3);
    // First test frame: movement 2, repetition 2 starts at sample 40 + 4.
    assert_eq!(split.test.frame(0)[0], 44.0);
    assert_eq!(split.test.frame(0)[3], 344.0);
    let all = load_ninapro(&path, None).unwrap();
    // The dropped last sample is the final rest sample, so every active frame remains.
    assert_eq!(all.train.frames + all.test.frames, 2 * 10 * 3);
    let err = load_ninapro(&path, Some(7)).unwrap_err().to_string();
    assert!(err.contains("no frames of movement 7"), "{err}");
}

/// A Ninapro file whose `emg` declares more samples than it holds, or holds a NaN or a value
/// past f32's range: an error
/// naming the file (and the variable, frame and channel), never a panic or a silent NaN.
#[test]
fn ninapro_rejects_a_short_emg_array_and_non_finite_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.mat");
    let ones = vec![1.0; 40];
    let labels = |values: &'static [f64]| MatVar {
        name: "",
        rows: values.len(),
        cols: 1,
        values,
    };
    static STIM: [f64; 4] = [1.0, 1.0, 1.0, 1.0];
    static REP: [f64; 4] = [1.0, 2.0, 1.0, 2.0];
    let write = |emg: &[f64], rows: usize| {
        write_mat_v5_declared(
            &path,
            &[
                MatVar {
                    name: "emg",
                    rows,
                    cols: 10,
                    values: emg,
                },
                MatVar {
                    name: "restimulus",
                    ..labels(&STIM)
                },
                MatVar {
                    name: "rerepetition",
                    ..labels(&REP)
                },
            ],
        )
    };
    // matfile refuses this one itself; the loader's own size check stands behind it for any
    // array the parser lets through. Either way: an error naming the file, never a panic.
    write(&ones[..30], 4);
    let err = format!("{:#}", load_ninapro(&path, None).unwrap_err());
    assert!(err.contains("bad.mat"), "{err}");
    let mut nan = ones.clone();
    nan[2 * 4 + 3] = f64::NAN; // channel 3, frame 4
    write(&nan, 4);
    let err = format!("{:#}", load_ninapro(&path, None).unwrap_err());
    assert!(err.contains("NaN at frame 4, channel 3"), "{err}");
    // Finite as an f64, infinite as the f32 the matrix stores (found by the MAT fuzz target).
    let mut huge = ones.clone();
    huge[4 + 1] = 1e300; // channel 2, frame 2
    write(&huge, 4);
    let err = format!("{:#}", load_ninapro(&path, None).unwrap_err());
    assert!(
        err.contains("value 1e300 at frame 2, channel 2 is not a finite f32"),
        "{err}"
    );
}

/// A `.npy` header may declare any shape: one that declares more values than the file holds
/// is an error before anything is allocated for them.
#[test]
fn npy_declaring_more_values_than_its_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.npy");
    let mut header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 12), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 48]);
    std::fs::write(&path, &bytes).unwrap();
    let err = format!("{:#}", load(&path, &LoadOptions::default()).unwrap_err());
    assert!(
        err.contains("huge.npy") && err.contains("declares shape [1000000000000, 12]"),
        "{err}"
    );
}

/// Inputs the fuzzers found (`cargo xtask fuzz`), kept as regression tests: a `.npy` header of
/// nested brackets that hung npyz's parser for over 10 s, a MATLAB file whose dimensions
/// overflow matfile's product (it panicked), and a float WAV whose samples overflow rubato's
/// FFT (rubato panicked). Each is an error naming the file now.
#[test]
fn fuzzer_findings_are_errors() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let npy = fixtures.join("fuzz-npy-nested-header.npy");
    let err = format!("{:#}", load(&npy, &LoadOptions::default()).unwrap_err());
    assert!(err.contains("fuzz-npy-nested-header.npy"), "{err}");
    let mat = fixtures.join("fuzz-mat-dims-overflow.mat");
    let err = format!("{:#}", load(&mat, &LoadOptions::default()).unwrap_err());
    assert!(err.contains("fuzz-mat-dims-overflow.mat"), "{err}");
    let wav = fixtures.join("fuzz-wav-rubato-panic.wav");
    let err = vaenmf_trainer::speech::front_end::audio::read_at_rate(&wav, 16_000, true).unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("fuzz-wav-rubato-panic.wav"), "{err}");
}
