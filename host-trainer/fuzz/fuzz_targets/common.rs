//! Shared by the loader targets: the input goes to a file (the loaders take paths, as the CLI
//! calls them) in this process's own spot in the temporary folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use vaenmf_trainer::data::load::{load, LoadOptions};
use vaenmf_trainer::data::EmgMatrix;

/// libfuzzer-sys installs a panic hook that aborts on every panic, even one the loader catches
/// and turns into an error (matfile's overflow panics are caught that way). Back to the
/// default hook, once: a caught panic is then only printed, and one that escapes the loader is
/// still a crash (libfuzzer-sys aborts when the target unwinds).
pub fn caught_panics_are_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = std::panic::take_hook();
    });
}

/// Writes `bytes` to this process's temporary file with extension `ext` and returns its path.
pub fn as_file(bytes: &[u8], ext: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("vaenmf-fuzz-{}.{ext}", std::process::id()));
    std::fs::write(&path, bytes).expect("the temporary folder is writable");
    path
}

/// A loaded matrix is valid: `frames × channels` values, all finite.
pub fn assert_valid(m: &EmgMatrix) {
    assert_eq!(m.data.len(), m.frames * m.channels);
    assert!(m.data.iter().all(|v| v.is_finite()));
}

/// Loads `path` with time in rows and with channels in rows; each success must be valid.
pub fn load_both_orientations(path: &Path) -> Vec<(LoadOptions, EmgMatrix)> {
    [false, true]
        .into_iter()
        .filter_map(|channels_in_rows| {
            let opts = LoadOptions {
                channels_in_rows,
                vars: Vec::new(),
            };
            let m = load(path, &opts).ok()?;
            assert_valid(&m);
            Some((opts, m))
        })
        .collect()
}
