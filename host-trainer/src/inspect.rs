//! Any model file in words — an EMG model blob or a speech enhancer — as `vaenmf inspect`
//! prints it (and the Python package's `describe()`).

use anyhow::Result;

use crate::export::describe;
use crate::speech::methods::enhancer::{describe_enhancer, is_enhancer_blob, Enhancer};

/// The description of the model file `name` holding `bytes`; errors name it.
pub fn describe_model(name: &str, bytes: &[u8]) -> Result<String> {
    if is_enhancer_blob(bytes) {
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        let enhancer = Enhancer::from_bytes(name, bytes)?;
        let blob = enhancer.blob();
        return Ok(format!(
            "{name}: speech enhancer (format version {version}, {} bytes)\nmethod: {}\n{}\n",
            bytes.len(),
            crate::choice::Choice::name(blob.method),
            describe_enhancer(blob).replace("; ", "\n")
        ));
    }
    let blob = vaenmf_core::ModelBlob::from_bytes(bytes).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    Ok(describe(&blob, bytes))
}
