//! File loaders. Every error names the file and, where it applies, the variable and the
//! row and column (1-based, as a spreadsheet or MATLAB would show them).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

use super::EmgMatrix;

/// How to read a data file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The file stores channels in rows and time in columns (transpose on load).
    pub channels_in_rows: bool,
    /// MATLAB variables to read, concatenated in time (default: the only numeric 2-D one).
    pub vars: Vec<String>,
}

/// File beside a data file that names its channels, one per line (how `.npy` and `.mat` data
/// carry names; the bundled Gait120 matrix has one).
pub const CHANNEL_NAMES_FILE: &str = "channel_names.txt";

/// Channel names a data file carries, if any: a CSV's header row (time in rows), or a
/// [`CHANNEL_NAMES_FILE`] in the same folder. `channels` is how many the data has; names
/// whose count differs are an error naming both counts.
pub fn channel_names(path: &Path, opts: &LoadOptions, channels: usize) -> Result<Option<Vec<String>>> {
    let name = path.display();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let from_header = if matches!(ext.as_str(), "csv" | "txt" | "tsv") && !opts.channels_in_rows {
        let text = std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read"))?;
        text.lines().find(|l| !l.trim().is_empty()).and_then(|first| {
            let cells: Vec<String> = first
                .split([',', ';', '\t'])
                .map(|c| c.trim().to_string())
                .collect();
            cells.iter().any(|c| c.parse::<f32>().is_err()).then_some(cells)
        })
    } else {
        None
    };
    let (names, source) = match from_header {
        Some(cells) => (cells, format!("{name}: header row")),
        None => {
            let file = path.with_file_name(CHANNEL_NAMES_FILE);
            if !file.exists() {
                return Ok(None);
            }
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("{}: cannot read", file.display()))?;
            let names = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect();
            (names, file.display().to_string())
        }
    };
    if names.len() != channels {
        bail!("{source}: {} channel names for {channels} channels", names.len());
    }
    Ok(Some(names))
}

/// Loads a CSV (`.csv`, `.txt`), NumPy (`.npy`) or MATLAB v5 (`.mat`) file, checks every value
/// is finite, and returns frames × channels.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<EmgMatrix> {
    let name = path.display().to_string();
    if !path.exists() {
        bail!("{name}: no such file");
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if !opts.vars.is_empty() && ext != "mat" {
        bail!("{name}: --var selects MATLAB variables, but this is not a .mat file");
    }
    let matrix = match ext.as_str() {
        "csv" | "txt" | "tsv" => load_csv(path, opts.channels_in_rows)?,
        "npy" => load_npy(path, opts.channels_in_rows)?,
        "mat" => {
            let mat = read_mat(path)?;
            let names: Vec<String> = if opts.vars.is_empty() {
                vec![only_matrix_variable(&mat, &name)?]
            } else {
                opts.vars.clone()
            };
            let mut out: Option<EmgMatrix> = None;
            for var in &names {
                let m = mat_variable(&mat, &name, var, opts.channels_in_rows)?;
                match &mut out {
                    None => out = Some(m),
                    Some(acc) => acc
                        .append(&m)
                        .with_context(|| format!("{name}: variable '{var}'"))?,
                }
            }
            out.ok_or_else(|| anyhow!("{name}: no variable selected"))?
        }
        other => bail!("{name}: unknown file type '.{other}' (expected .csv, .npy or .mat)"),
    };
    if matrix.frames == 0 || matrix.channels == 0 {
        bail!(
            "{name}: no data ({} frames × {} channels)",
            matrix.frames,
            matrix.channels
        );
    }
    if let Some((f, c)) = matrix.first_non_finite() {
        let v = matrix.data[f * matrix.channels + c];
        bail!(
            "{name}: non-finite value {v} at frame {}, channel {}",
            f + 1,
            c + 1
        );
    }
    Ok(matrix)
}

/// CSV with an optional header row: a first row whose cells are not all numbers is a header.
fn load_csv(path: &Path, channels_in_rows: bool) -> Result<EmgMatrix> {
    let name = path.display();
    let mut text = String::new();
    File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .with_context(|| format!("{name}: cannot read"))?;
    let mut rows: Vec<Vec<f32>> = Vec::new();
    let mut width = None;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split([',', ';', '\t']).map(str::trim).collect();
        let parsed: Vec<Option<f32>> = cells.iter().map(|c| c.parse::<f32>().ok()).collect();
        if rows.is_empty() && width.is_none() && parsed.iter().any(Option::is_none) {
            // Header row.
            width = Some(cells.len());
            continue;
        }
        let expected = *width.get_or_insert(cells.len());
        if cells.len() != expected {
            bail!(
                "{name}: row {line_no} has {} columns, expected {expected}",
                cells.len()
            );
        }
        let mut row = Vec::with_capacity(expected);
        for (col, (cell, value)) in cells.iter().zip(parsed).enumerate() {
            match value {
                Some(v) => row.push(v),
                None => bail!(
                    "{name}: row {line_no}, column {}: '{cell}' is not a number",
                    col + 1
                ),
            }
        }
        rows.push(row);
    }
    let n_rows = rows.len();
    let n_cols = width.unwrap_or(0);
    let flat: Vec<f32> = rows.into_iter().flatten().collect();
    if channels_in_rows {
        EmgMatrix::from_channel_major(n_rows, n_cols, &flat)
    } else {
        EmgMatrix::new(n_rows, n_cols, flat)
    }
}

/// 2-D `.npy` of float32 or float64, C or Fortran order.
/// The `.npy` header a plain float array has: a flat dict, `(`…`)` for the shape and no list.
/// npyz's header parser backtracks exponentially on nested brackets (a 209-byte header took
/// over 10 s: found by `cargo xtask fuzz npy`), so anything else is refused before it parses.
fn check_npy_header(path: &Path) -> Result<()> {
    let name = path.display();
    let mut head = [0u8; 12];
    let mut file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    let read = file
        .read(&mut head)
        .with_context(|| format!("{name}: cannot read"))?;
    if read < 10 || &head[..6] != b"\x93NUMPY" {
        bail!("{name}: not a valid .npy file (no NumPy magic)");
    }
    let (len, start) = match head[6] {
        1 => (usize::from(u16::from_le_bytes([head[8], head[9]])), 10),
        2 | 3 if read == 12 => (
            u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize,
            12,
        ),
        v => bail!("{name}: not a valid .npy file (format version {v})"),
    };
    if len > 65_536 {
        bail!("{name}: not a valid .npy file (a {len}-byte header)");
    }
    let mut header = vec![0u8; len];
    let mut file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    let mut skip = [0u8; 12];
    file.read_exact(&mut skip[..start])
        .and_then(|()| file.read_exact(&mut header))
        .with_context(|| format!("{name}: not a valid .npy file (header cut short)"))?;
    let mut depth = 0usize;
    for &b in &header {
        match b {
            b'[' => bail!("{name}: unsupported dtype (a structured array; expected float32 or float64)"),
            b'{' | b'(' => {
                depth += 1;
                if depth > 2 {
                    bail!("{name}: not a valid .npy file (nested brackets in the header)");
                }
            }
            b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn load_npy(path: &Path, channels_in_rows: bool) -> Result<EmgMatrix> {
    let name = path.display();
    check_npy_header(path)?;
    let file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let npy =
        npyz::NpyFile::new(BufReader::new(file)).with_context(|| format!("{name}: not a valid .npy file"))?;
    let shape = npy.shape().to_vec();
    if shape.len() != 2 {
        bail!("{name}: expected a 2-D array, found shape {shape:?}");
    }
    // A header may declare any shape: no allocation for more values than the file can hold.
    let declared = shape[0].checked_mul(shape[1]).and_then(|n| n.checked_mul(4));
    if declared.is_none_or(|bytes| bytes > file_len) {
        bail!(
            "{name}: the header declares shape {shape:?}, more values than the file's {file_len} bytes hold"
        );
    }
    let (rows, cols) = (shape[0] as usize, shape[1] as usize);
    let fortran = npy.order() == npyz::Order::Fortran;
    let descr = match npy.dtype() {
        npyz::DType::Plain(type_str) => type_str.to_string(),
        other => bail!(
            "{name}: unsupported dtype {} (expected float32 or float64)",
            other.descr()
        ),
    };
    let values: Vec<f32> = match descr.as_str() {
        "<f8" | ">f8" => npy
            .into_vec::<f64>()
            .with_context(|| format!("{name}: cannot read float64 data"))?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        "<f4" | ">f4" => npy
            .into_vec::<f32>()
            .with_context(|| format!("{name}: cannot read float32 data"))?,
        other => bail!("{name}: unsupported dtype {other} (expected float32 or float64)"),
    };
    // Row-major (rows × cols) from whichever order the file used.
    let row_major = if fortran {
        let mut out = vec![0.0; values.len()];
        for c in 0..cols {
            for r in 0..rows {
                out[r * cols + c] = values[c * rows + r];
            }
        }
        out
    } else {
        values
    };
    if channels_in_rows {
        EmgMatrix::from_channel_major(rows, cols, &row_major)
    } else {
        EmgMatrix::new(rows, cols, row_major)
    }
}

/// Parses a MATLAB v5 file.
pub(crate) fn read_mat(path: &Path) -> Result<matfile::MatFile> {
    let name = path.display();
    let file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    // matfile multiplies declared dimensions unchecked (an overflow panic, found by `cargo
    // xtask fuzz mat`): a panic in the parser is this file's error, not an abort.
    std::panic::catch_unwind(|| matfile::MatFile::parse(BufReader::new(file)))
        .map_err(|_| anyhow!("{name}: not a readable MATLAB v5 file (its sizes overflow)"))?
        .map_err(|e| anyhow!("{name}: not a readable MATLAB v5 file ({e:?})"))
}

fn variable_list(mat: &matfile::MatFile) -> String {
    let names: Vec<String> = mat
        .arrays()
        .iter()
        .map(|a| format!("{} {:?}", a.name(), a.size()))
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn only_matrix_variable(mat: &matfile::MatFile, name: &str) -> Result<String> {
    let candidates: Vec<&matfile::Array> = mat.arrays().iter().filter(|a| a.ndims() == 2).collect();
    match candidates.as_slice() {
        [one] => Ok(one.name().to_string()),
        _ => bail!(
            "{name}: choose the variable with --var NAME; the file has: {}",
            variable_list(mat)
        ),
    }
}

/// A real numeric variable as f64, column-major, with its dimensions.
pub(crate) fn mat_numeric(mat: &matfile::MatFile, file: &str, var: &str) -> Result<(Vec<usize>, Vec<f64>)> {
    use matfile::NumericData as N;
    let array = mat.find_by_name(var).ok_or_else(|| {
        anyhow!(
            "{file}: no variable '{var}'; the file has: {}",
            variable_list(mat)
        )
    })?;
    let values: Vec<f64> = match array.data() {
        N::Double { real, imag: None } => real.clone(),
        N::Single { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::Int8 { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::UInt8 { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::Int16 { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::UInt16 { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::Int32 { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::UInt32 { real, imag: None } => real.iter().map(|&v| f64::from(v)).collect(),
        N::Int64 { real, imag: None } => real.iter().map(|&v| v as f64).collect(),
        N::UInt64 { real, imag: None } => real.iter().map(|&v| v as f64).collect(),
        _ => bail!("{file}: variable '{var}' is complex; EMG must be real"),
    };
    // The declared size and the data must agree: a malformed file is an error, not an index
    // past the end.
    let size = array.size().clone();
    let declared = size.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if declared != Some(values.len()) {
        bail!(
            "{file}: variable '{var}' declares size {size:?} but holds {} values",
            values.len()
        );
    }
    Ok((size, values))
}

/// A 2-D variable as frames × channels (MATLAB stores column-major).
fn mat_variable(mat: &matfile::MatFile, file: &str, var: &str, channels_in_rows: bool) -> Result<EmgMatrix> {
    let (size, values) = mat_numeric(mat, file, var)?;
    if size.len() != 2 {
        bail!(
            "{file}: variable '{var}' has {} dimensions {size:?}, expected 2",
            size.len()
        );
    }
    let (rows, cols) = (size[0], size[1]);
    let values: Vec<f32> = values.into_iter().map(|v| v as f32).collect();
    // Column-major rows × cols is channel-major when time runs down the rows.
    if channels_in_rows {
        // rows = channels, cols = frames: column-major storage is already frame-major.
        EmgMatrix::new(cols, rows, values)
    } else {
        EmgMatrix::from_channel_major(cols, rows, &values)
    }
}
