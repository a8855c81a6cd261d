//! Subnormal floats flushed to zero while training.
//!
//! The weights of ReLU units that never fire get no gradient but weight decay, and Adam then
//! shrinks them geometrically: after ~10 epochs at paper size a quarter of layer 2 was
//! subnormal, and x86 computes with subnormal operands through a microcode assist, so every
//! matrix product ran ~10× slower (20 paper-sized epochs: 50.9 s, with the flush 7.8 s). Training therefore runs
//! on a thread pool whose threads set the SSE control register's flush-to-zero and
//! denormals-are-zero bits, and exported weights are flushed too (see [`flush`]).

use std::sync::OnceLock;

/// Sets FTZ and DAZ for the calling thread (x86-64; elsewhere a no-op).
fn flush_subnormals_on_this_thread() {
    #[cfg(target_arch = "x86_64")]
    {
        const FTZ: u32 = 1 << 15;
        const DAZ: u32 = 1 << 6;
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr`/`ldmxcsr` read and write this thread's SSE control/status
        // register through a valid pointer to a local; the only bits changed make subnormal
        // inputs and results zero, which no Rust code relies on for memory safety.
        unsafe {
            core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
            csr |= FTZ | DAZ;
            core::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags));
        }
    }
}

/// Runs `f` on a rayon pool (burn's CPU backends parallelise on the current pool) whose
/// threads flush subnormals to zero.
pub fn without_subnormals<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("vaenmf-train-{i}"))
            .start_handler(|_| flush_subnormals_on_this_thread())
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// `v` with subnormal values replaced by zero (same sign), for export: a model's outputs do
/// not change, and inference never meets a subnormal weight (slow on x86 hosts).
pub fn flush(mut v: Vec<f32>) -> Vec<f32> {
    for x in &mut v {
        if x.is_subnormal() {
            *x = 0.0f32.copysign(*x);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_threads_flush_subnormal_results() {
        let tiny = std::hint::black_box(f32::MIN_POSITIVE);
        let halved = without_subnormals(|| std::hint::black_box(tiny) / 2.0);
        let plain = std::hint::black_box(tiny) / 2.0;
        assert!(plain.is_subnormal());
        if cfg!(target_arch = "x86_64") {
            assert_eq!(halved, 0.0);
        }
        assert_eq!(flush(vec![1e-40, -1e-41, 1.0, 0.0]), vec![0.0, -0.0, 1.0, 0.0]);
    }
}
