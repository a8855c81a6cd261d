//! A file on the host, written through semihosting (QEMU's `-semihosting-config
//! target=native`; relative paths are relative to QEMU's working directory).

use cortex_m_semihosting::{nr, syscall};

/// The host stopped taking the bytes (disk full, file closed by QEMU).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRefused;

/// A host file open for writing; closed when dropped.
pub struct HostFile {
    fd: usize,
}

impl HostFile {
    /// Creates (or truncates) `path` for binary writing. `path` must end with a NUL byte
    /// (semihosting's convention); `None` when it does not or the host refuses.
    pub fn create(path: &str) -> Option<Self> {
        let name = path.as_bytes();
        if name.last() != Some(&0) || name.len() < 2 {
            return None;
        }
        // SAFETY: SYS_OPEN reads the `len − 1` bytes of the name and its NUL, all inside
        // `name`; it writes no memory of ours.
        let fd = unsafe { syscall!(OPEN, name.as_ptr(), nr::open::W_TRUNC_BINARY, name.len() - 1) };
        (fd as isize >= 0).then_some(Self { fd })
    }

    /// Writes all of `bytes`; `Err` when the host stops taking them.
    pub fn write_all(&mut self, mut bytes: &[u8]) -> Result<(), WriteRefused> {
        while !bytes.is_empty() {
            // SAFETY: SYS_WRITE reads `bytes.len()` bytes from `bytes`; it returns how many it
            // did not write.
            let left = unsafe { syscall!(WRITE, self.fd, bytes.as_ptr(), bytes.len()) };
            if left >= bytes.len() {
                return Err(WriteRefused);
            }
            bytes = &bytes[bytes.len() - left..];
        }
        Ok(())
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        // SAFETY: SYS_CLOSE of the descriptor SYS_OPEN gave us, closed only here.
        unsafe { syscall!(CLOSE, self.fd) };
    }
}
