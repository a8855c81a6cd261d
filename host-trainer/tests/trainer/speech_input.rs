//! What careless or hostile input does to the speech commands: sizes past their bounds, SNRs
//! whose gain is not finite, paths with `:` and `,`, folder entries that cannot be read. Each
//! is a clear error naming the flag, file or entry, exit status 1 and nothing written — or,
//! for names a user may legitimately choose, it works.

use crate::support;

use std::path::Path;

use support::vaenmf;
use vaenmf_trainer::cli::speech::{parse_noise_pair, wav_entries};
use vaenmf_trainer::speech::front_end::manifest::{manifest_text, parse_manifest, ManifestEntry};

fn mini(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/speech-mini")
        .join(rel)
        .display()
        .to_string()
}

/// `vaenmf args` fails with exit 1 and an `error:` line holding every fragment.
fn refused(args: &[&str], fragments: &[&str]) {
    let out = vaenmf().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "vaenmf {args:?}: {err}");
    assert!(err.starts_with("error:"), "{err}");
    for f in fragments {
        assert!(err.contains(f), "expected {f:?} in: {err}");
    }
}

#[test]
fn sizes_past_their_bounds_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d.vnmf");
    let out = out.to_str().unwrap();
    let train = mini("noise/running_tap/train.wav");
    // Ran over a minute before (an FFT plan of 2³² points); now refused at once.
    refused(
        &["speech", "dict", "--n-fft", "4294967296", "-o", out, &train],
        &["--n-fft 4294967296", "from 16 to 16384"],
    );
    refused(
        &["speech", "dict", "--rate", "1000000", "-o", out, &train],
        &["--rate 1000000", "between 1 and 384000"],
    );
    refused(
        &["speech", "dict", "--iterations", "2000000", "-o", out, &train],
        &["--iterations 2000000", "between 1 and 1000000"],
    );
    assert!(!Path::new(out).exists());
    let table = |flag: &str, value: &str| {
        let noise = format!("tap={train}:{}", mini("noise/running_tap/test.wav"));
        let out = dir.path().join("table");
        let args = [
            "speech",
            "table",
            "--speech-train",
            &mini("clean/train"),
            "--speech-test",
            &mini("clean/test"),
            "--noise",
            &noise,
            "--out",
            out.to_str().unwrap(),
            flag,
            value,
        ]
        .map(str::to_string);
        (args, out)
    };
    for (flag, value, fragments) in [
        (
            "--net-context",
            "33",
            &["--net-context 33", "between 0 and 32"][..],
        ),
        (
            "--net-hidden",
            "500,100000",
            &["--net-hidden", "between 1 and 8192"][..],
        ),
        (
            "--net-hidden",
            "8,8,8,8,8,8,8,8,8",
            &["--net-hidden", "1 to 8 widths"][..],
        ),
        (
            "--net-batch-size",
            "100000",
            &["--net-batch-size 100000", "65536"][..],
        ),
        ("--vae-hidden", "400,9000", &["400,9000", "8192"][..]),
        ("--dnmf-iterations", "2000000", &["--dnmf-iterations 2000000"][..]),
        ("--snr", "-4000", &["--snr -4000", "from −100 to 100"][..]),
    ] {
        let (args, out) = table(flag, value);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&args, fragments);
        assert!(!out.exists());
    }
}

/// `--snr=-4000` made noise and noisy files full of ∞ and exited 0.
#[test]
fn an_snr_whose_gain_is_not_finite_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mix");
    let noise = format!("tap={}", mini("noise/running_tap/test.wav"));
    refused(
        &[
            "speech",
            "mix",
            "--speech",
            &mini("clean/test"),
            "--noise",
            &noise,
            "--snr=-4000",
            "--out",
            out.to_str().unwrap(),
        ],
        &["--snr -4000", "from −100 to 100"],
    );
    assert!(!out.exists());
    // Within the range the files are finite.
    let ok = vaenmf()
        .args([
            "speech",
            "mix",
            "--speech",
            &mini("clean/test"),
            "--noise",
            &noise,
        ])
        .args(["--snr=-100,100", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let rows = vaenmf_trainer::speech::front_end::manifest::read_manifest(&out.join("manifest.csv")).unwrap();
    for row in &rows {
        for f in &row.files {
            let (audio, _) = vaenmf_trainer::speech::front_end::audio::read_wav(f).unwrap();
            assert!(audio.samples.iter().all(|v| v.is_finite()), "{}", f.display());
        }
    }
}

/// A training/test pair whose paths hold `:` splits where both files exist.
#[test]
fn noise_pairs_take_paths_with_colons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("take:2");
    std::fs::create_dir_all(&d).unwrap();
    let (train, test) = (d.join("a:train.wav"), d.join("b.wav"));
    std::fs::write(&train, b"x").unwrap();
    std::fs::write(&test, b"x").unwrap();
    let arg = format!("tap={}:{}", train.display(), test.display());
    let (name, a, b) = parse_noise_pair(&arg).unwrap();
    assert_eq!((name.as_str(), a, b), ("tap", train, test));
    // Files that do not exist: the last `:` (their reading then names them).
    let (_, a, b) = parse_noise_pair("n=x.wav:y.wav").unwrap();
    assert_eq!((a.to_str().unwrap(), b.to_str().unwrap()), ("x.wav", "y.wav"));
    assert!(parse_noise_pair("n=x.wav").is_err());
    assert!(parse_noise_pair("n=:y.wav").is_err());
}

/// The manifest is CSV with quoting: names and paths with commas and quotes come back as
/// written (they broke `speech eval` when the manifest was split on every comma).
#[test]
fn manifests_round_trip_names_with_commas_and_quotes() {
    let files = [
        Path::new("tap/0dB/a,b \"x\".clean.wav"),
        Path::new("tap/0dB/a,b \"x\".noise.wav"),
        Path::new("tap/0dB/a,b \"x\".noisy.wav"),
    ];
    let entries = [ManifestEntry {
        utterance: "a,b \"x\"",
        noise: "tap, running",
        segment_start: 17,
        snr_db: -5.0,
        files,
    }];
    let text = manifest_text(&entries).unwrap();
    let rows = parse_manifest(&text, Path::new("m.csv"), Path::new("set")).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].utterance, "a,b \"x\"");
    assert_eq!(rows[0].noise, "tap, running");
    assert_eq!(rows[0].snr_db, -5.0);
    assert_eq!(rows[0].files[2], Path::new("set").join(files[2]));
    // Wrong header, a non-finite SNR, a short row: errors naming the file and row.
    let err = parse_manifest(b"a,b\n1,2\n", Path::new("m.csv"), Path::new(".")).unwrap_err();
    assert!(
        err.to_string()
            .contains("m.csv: not a `vaenmf speech mix` manifest"),
        "{err}"
    );
    let bad = String::from_utf8(text).unwrap().replace("-5", "inf");
    let err = parse_manifest(bad.as_bytes(), Path::new("m.csv"), Path::new(".")).unwrap_err();
    assert!(err.to_string().contains("row 2: snr_db \"inf\""), "{err}");
}

/// A folder entry that cannot be read is an error naming the folder, not a file silently
/// dropped from a training or test set.
#[test]
fn an_unreadable_folder_entry_is_an_error() {
    let entries = vec![
        Ok(Path::new("d/a.wav").to_path_buf()),
        Err(std::io::Error::other("I/O error")),
        Ok(Path::new("d/c.WAV").to_path_buf()),
    ];
    let err = wav_entries(Path::new("d"), entries).unwrap_err();
    assert!(
        format!("{err:#}").contains("d: cannot read folder entry 2"),
        "{err:#}"
    );
    let fine = vec![
        Ok(Path::new("d/a.wav").to_path_buf()),
        Ok(Path::new("d/notes.txt").to_path_buf()),
        Ok(Path::new("d/c.WAV").to_path_buf()),
    ];
    assert_eq!(wav_entries(Path::new("d"), fine).unwrap().len(), 2);
}
