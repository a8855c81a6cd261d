//! Sets `cfg(vaenmf_dsp)` on targets whose every core has the Armv7E-M DSP extension
//! (`thumbv7em-*`: Cortex-M4 and M7), where the quantised encoder uses its `SMLAD` kernel.
//! Stable Rust does not expose `target_feature = "dsp"` to `cfg`, hence the target name.
//! `cfg(vaenmf_fpu)` on those with the single-precision FPU in the hard-float ABI
//! (`thumbv7em-none-eabihf`: Cortex-M4F/M7F), where `sqrt` is one `VSQRT.F32`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(vaenmf_dsp)");
    println!("cargo::rustc-check-cfg=cfg(vaenmf_fpu)");
    println!("cargo::rerun-if-env-changed=TARGET");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=vaenmf_dsp");
        if target.ends_with("eabihf") {
            println!("cargo::rustc-cfg=vaenmf_fpu");
        }
    }
}
