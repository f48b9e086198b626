//! Read-only memory map of a capture file: the one place in the workspace
//! with `unsafe` code (`mmap`/`munmap` through libc; the workspace otherwise
//! forbids it, this crate denies it and allows it in this module only).
//!
//! Mapping saves the copy from the page cache into a read buffer that large
//! `read` calls cost (about a tenth of `ward analyze`'s time on a cached
//! capture). The file is mapped `PROT_READ`/`MAP_PRIVATE`, so Ward can never
//! write through the mapping, and advised `MADV_SEQUENTIAL` so the kernel reads
//! ahead and drops pages behind. The reader treats the mapped bytes exactly as
//! it treats a buffer that holds the whole file: every record is still checked
//! against the file length.
//!
//! **Hazard (documented, accepted):** if another process truncates the file
//! while it is mapped, touching the pages past the new end raises `SIGBUS`
//! (the same trade-off as ripgrep's or git's mmap use). Capture files are
//! written before they are analysed; `WARD_NO_MMAP=1` turns mapping off
//! (plain reads) for files that may shrink underneath a run.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::unix::io::AsRawFd;

/// A read-only mapping of a whole file, unmapped on drop.
pub(crate) struct Mmap {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; nothing
// writes through it, so sharing or sending the pointer across threads is as
// safe as sharing a `&[u8]`.
unsafe impl Send for Mmap {}
// SAFETY: as above: only shared, read-only access is ever handed out.
unsafe impl Sync for Mmap {}

impl Mmap {
    /// Maps the first `len` bytes of `file` (its size at open). None if the
    /// file is empty, too large for the address space, or cannot be mapped
    /// (a pipe, a special file): the caller then falls back to `read`.
    pub(crate) fn map(file: &File, len: u64) -> Option<Mmap> {
        if std::env::var_os("WARD_NO_MMAP").is_some_and(|v| v != "0") {
            return None;
        }
        let len = usize::try_from(len).ok().filter(|&l| l > 0)?;
        // SAFETY: a fresh private read-only mapping of an open file descriptor;
        // the kernel picks the address. No Rust reference exists to the mapped
        // memory until `as_slice`, and the result is checked for MAP_FAILED.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED || ptr.is_null() {
            return None;
        }
        // SAFETY: `ptr`/`len` are exactly the mapping just created; madvise only
        // changes the kernel's read-ahead policy (failure is harmless).
        unsafe { libc::madvise(ptr, len, libc::MADV_SEQUENTIAL) };
        Some(Mmap { ptr: ptr as *const u8, len })
    }

    /// The mapped bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` readable bytes mapped for as long as
        // `self` lives (unmapped only in `drop`); the mapping is private and
        // read-only, so no one mutates it through Rust. The borrow is tied to
        // `&self`. (A concurrent truncation by another process is the SIGBUS
        // hazard described in the module docs, not undefined behaviour in Rust terms
        // we could guard against here.)
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region `map` created; no borrow of it can
        // outlive `self` (`as_slice` borrows `self`).
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}
