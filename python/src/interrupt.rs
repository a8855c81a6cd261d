//! Long jobs without the GIL: progress printed through Python, Ctrl-C honoured.
//!
//! [`run`] starts the job on a worker thread and, on the calling thread, waits for it in
//! slices of 50 ms with the GIL released. Between slices it prints the job's queued progress
//! lines with Python's `print` (so notebooks show them) and runs Python's signal handlers.
//! When a handler raises (Ctrl-C: `KeyboardInterrupt`), the job is told to stop; it stops at
//! its next [`Reporter::checkpoint`] — the trainer calls back once per NMF iteration and per
//! VAE-NMF epoch — by unwinding, which drops whatever the fit held, and the exception
//! propagates to the caller.
//!
//! The trainer's progress callbacks cannot return "stop", so the checkpoint unwinds with
//! [`std::panic::resume_unwind`] (no panic hook, no message) carrying [`Interrupted`], which
//! [`run`] tells apart from a real panic.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;

use crate::errors::to_py;

/// The payload a stopped job unwinds with.
struct Interrupted;

/// What a job uses to report progress and to learn that it must stop.
pub struct Reporter {
    verbose: bool,
    lines: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Reporter {
    /// Queues a progress line (printed by the calling thread at its next slice).
    pub fn say(&self, line: String) {
        if self.verbose {
            if let Ok(mut lines) = self.lines.lock() {
                lines.push(line);
            }
        }
    }

    /// Unwinds out of the job if the caller was interrupted. Call it where the job may stop.
    pub fn checkpoint(&self) {
        if self.stop.load(Ordering::Relaxed) {
            panic::resume_unwind(Box::new(Interrupted));
        }
    }

    fn print_queued(&self, py: Python<'_>) -> PyResult<()> {
        let lines = match self.lines.lock() {
            Ok(mut lines) => std::mem::take(&mut *lines),
            Err(_) => return Ok(()),
        };
        if lines.is_empty() {
            return Ok(());
        }
        let print = py.import("builtins")?.getattr("print")?;
        for line in lines {
            print.call1((line,))?;
        }
        Ok(())
    }
}

/// Runs `job` on a worker thread with the GIL released; see the module docs.
pub fn run<T: Send>(
    py: Python<'_>,
    verbose: bool,
    job: impl FnOnce(&Reporter) -> anyhow::Result<T> + Send,
) -> PyResult<T> {
    let reporter = Reporter {
        verbose,
        lines: Mutex::new(Vec::new()),
        stop: AtomicBool::new(false),
    };
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel();
        // Waited on without the GIL, which needs a `Sync` receiver.
        let done_rx = Mutex::new(done_rx);
        let reporter = &reporter;
        let worker = std::thread::Builder::new()
            .name("vaenmf-fit".into())
            // The stack the `vaenmf` command trains on (its main thread's 8 MiB), not a spawned
            // thread's 2 MiB.
            .stack_size(8 << 20)
            .spawn_scoped(scope, move || {
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| job(reporter)));
                let _ = done_tx.send(());
                outcome
            })
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(format!("cannot start a thread: {e}")))?;
        let mut interrupted = None;
        loop {
            let finished = py.detach(|| {
                done_rx
                    .lock()
                    .map(|rx| rx.recv_timeout(Duration::from_millis(50)).is_ok())
                    .unwrap_or(true)
            });
            // A handler that raises (Ctrl-C), or a `print` that fails, stops the job.
            if interrupted.is_none() {
                if let Err(e) = reporter.print_queued(py).and_then(|()| py.check_signals()) {
                    reporter.stop.store(true, Ordering::Relaxed);
                    interrupted = Some(e);
                }
            }
            // The worker signals when it is done, panicked or not.
            if finished {
                break;
            }
        }
        let outcome = py.detach(|| worker.join());
        if interrupted.is_none() {
            reporter.print_queued(py)?;
        }
        match outcome {
            Ok(Ok(result)) => match interrupted {
                // The job finished before it reached a checkpoint: the interrupt still stands.
                Some(e) => Err(e),
                None => result.map_err(to_py),
            },
            Ok(Err(payload)) | Err(payload) => match (payload.downcast::<Interrupted>(), interrupted) {
                (Ok(_), Some(e)) => Err(e),
                (Ok(_), None) => Err(pyo3::exceptions::PyKeyboardInterrupt::new_err("interrupted")),
                (Err(payload), _) => panic::resume_unwind(payload),
            },
        }
    })
}
