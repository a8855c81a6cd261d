//! What every quality measure checks of its inputs.

/// A clean and a degraded signal a quality measure can compare: the same length, a rate.
pub(super) fn check_pair(measure: &str, clean: &[f32], degraded: &[f32], rate: u32) -> anyhow::Result<()> {
    if clean.len() != degraded.len() {
        anyhow::bail!(
            "{measure} needs signals of the same length: clean {} samples, degraded {}",
            clean.len(),
            degraded.len()
        );
    }
    if rate == 0 {
        anyhow::bail!("{measure}: sample rate 0");
    }
    Ok(())
}
