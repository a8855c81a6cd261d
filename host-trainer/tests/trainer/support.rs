//! Test support: a minimal MATLAB v5 writer, fixtures, and the path of the bundled real data.

use std::path::{Path, PathBuf};

/// One variable for [`write_mat_v5`]: name, rows, columns, column-major values.
pub struct MatVar<'a> {
    pub name: &'a str,
    pub rows: usize,
    pub cols: usize,
    pub values: &'a [f64],
}

fn pad8(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(8) {
        buf.push(0);
    }
}

fn element(buf: &mut Vec<u8>, data_type: u32, payload: &[u8]) {
    buf.extend_from_slice(&data_type.to_le_bytes());
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(payload);
    pad8(buf);
}

/// Writes an uncompressed MATLAB v5 (Level 5 MAT-file) with real double matrices, following
/// MathWorks' "MAT-File Format" document: 128-byte header, then one miMATRIX element per
/// variable (array flags, dimensions, name, real part).
pub fn write_mat_v5(path: &Path, vars: &[MatVar<'_>]) {
    for v in vars {
        assert_eq!(v.values.len(), v.rows * v.cols);
    }
    write_mat_v5_declared(path, vars);
}

/// [`write_mat_v5`] that writes each variable's `rows × cols` as its declared size whatever
/// its values' count: malformed files for the loaders' tests.
pub fn write_mat_v5_declared(path: &Path, vars: &[MatVar<'_>]) {
    const MI_INT8: u32 = 1;
    const MI_INT32: u32 = 5;
    const MI_UINT32: u32 = 6;
    const MI_DOUBLE: u32 = 9;
    const MI_MATRIX: u32 = 14;
    const MX_DOUBLE_CLASS: u32 = 6;
    let mut out = Vec::new();
    let mut text = b"MATLAB 5.0 MAT-file, written by vaenmf tests".to_vec();
    text.resize(116, b' ');
    out.extend_from_slice(&text);
    out.extend_from_slice(&[0u8; 8]); // subsystem data offset
    out.extend_from_slice(&0x0100u16.to_le_bytes());
    out.extend_from_slice(b"IM");
    for v in vars {
        let mut body = Vec::new();
        let mut flags = Vec::new();
        flags.extend_from_slice(&MX_DOUBLE_CLASS.to_le_bytes());
        flags.extend_from_slice(&0u32.to_le_bytes());
        element(&mut body, MI_UINT32, &flags);
        let mut dims = Vec::new();
        dims.extend_from_slice(&(v.rows as i32).to_le_bytes());
        dims.extend_from_slice(&(v.cols as i32).to_le_bytes());
        element(&mut body, MI_INT32, &dims);
        element(&mut body, MI_INT8, v.name.as_bytes());
        let real: Vec<u8> = v.values.iter().flat_map(|x| x.to_le_bytes()).collect();
        element(&mut body, MI_DOUBLE, &real);
        element(&mut out, MI_MATRIX, &body);
    }
    std::fs::write(path, out).unwrap();
}

/// The project's own copy of the Gait120 sit-to-stand matrix, `data/gait120-sts/V_matrix.npy`
/// (bundled so the tests need nothing outside the repository).
pub fn gait_matrix() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/gait120-sts/V_matrix.npy");
    assert!(
        path.exists(),
        "bundled EMG missing at {} — the repository is incomplete",
        path.display()
    );
    path
}

/// The `vaenmf` binary built for these tests.
pub fn vaenmf() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("vaenmf").unwrap()
}
