//! A store's scratch file for the repair primary slivers.
//!
//! The metadata pass of a large store expands every source column to hash
//! it, which computes every repair primary sliver (rows `k_p..n`, about
//! 1.9x the blob at n = 100) anyway. Written here as they are computed,
//! they are read back when each node's turn comes instead of being
//! computed again by a Reed-Solomon pass over the whole blob per group of
//! pairs (`PairEncoder::encode_pairs_with`). The file is scratch: unlinked
//! from the start (nothing to clean up whatever happens to the process),
//! never fsynced, and its writes are positioned (`pwrite`), so the
//! encoder's threads write their column runs concurrently.
//!
//! Its pages live in the kernel's page cache, not in the process's
//! resident memory; under memory pressure the kernel writes them to disk
//! and reads them back.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The repair primary slivers `first..first + rows` of one blob, each of
/// `row_bytes`, at `(index - first) * row_bytes`.
#[derive(Debug)]
pub(crate) struct SpillFile {
    file: File,
    first: u16,
    rows: usize,
    row_bytes: usize,
    /// Bytes written so far (every row must be whole before reading).
    written: AtomicU64,
    /// The first write that failed; later writes are skipped.
    failure: Mutex<Option<io::Error>>,
}

impl SpillFile {
    /// An empty, already unlinked file in `dir`.
    pub fn create(dir: &Path, first: u16, rows: usize, row_bytes: usize) -> io::Result<Self> {
        let file = tempfile::tempfile_in(dir)?;
        Ok(Self {
            file,
            first,
            rows,
            row_bytes,
            written: AtomicU64::new(0),
            failure: Mutex::new(None),
        })
    }

    /// Bytes the file holds once complete.
    pub fn total_bytes(&self) -> u64 {
        (self.rows * self.row_bytes) as u64
    }

    /// Where byte `offset` of sliver `row` lies, if within the file.
    fn position(&self, row: u16, offset: usize, len: usize) -> Option<u64> {
        let index = usize::from(row.checked_sub(self.first)?);
        let end = offset.checked_add(len)?;
        (index < self.rows && end <= self.row_bytes)
            .then(|| (index * self.row_bytes + offset) as u64)
    }

    /// Writes a piece of sliver `row` (the encoder's sink). Never fails:
    /// the first error is kept for [`finish`](Self::finish) and the
    /// following writes are skipped, so the metadata pass, whose result is
    /// needed either way, runs to its end.
    pub fn write(&self, row: u16, offset: usize, bytes: &[u8]) {
        if self.failed() {
            return;
        }
        let result = match self.position(row, offset, bytes.len()) {
            Some(at) => self.file.write_all_at(bytes, at),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "sliver {row} bytes {offset}+{} lie outside the file",
                    bytes.len()
                ),
            )),
        };
        match result {
            Ok(()) => {
                self.written
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
                failure.get_or_insert(e);
            }
        }
    }

    fn failed(&self) -> bool {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// After the metadata pass: the first write error, or an error if the
    /// file is not complete.
    pub fn finish(&self) -> io::Result<()> {
        if let Some(e) = self
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            return Err(e);
        }
        let written = self.written.load(Ordering::Relaxed);
        if written != self.total_bytes() {
            return Err(io::Error::other(format!(
                "{written} of {} bytes written",
                self.total_bytes()
            )));
        }
        Ok(())
    }

    /// Repair primary sliver `row`, read back.
    pub fn read_row(&self, row: u16) -> io::Result<Vec<u8>> {
        let at = self.position(row, 0, self.row_bytes).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("sliver {row} is not in the spill file"),
            )
        })?;
        let mut out = vec![0u8; self.row_bytes];
        self.file.read_exact_at(&mut out, at)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_written_in_any_order_read_back_as_rows() {
        let dir = tempfile::tempdir().unwrap();
        let spill = SpillFile::create(dir.path(), 3, 2, 10).unwrap();
        assert!(spill.finish().is_err(), "nothing written yet");
        spill.write(4, 5, &[4; 5]);
        spill.write(3, 0, &[3; 5]);
        spill.write(4, 0, &[40; 5]);
        spill.write(3, 5, &[30; 5]);
        spill.finish().unwrap();
        assert_eq!(spill.read_row(3).unwrap(), [[3; 5], [30; 5]].concat());
        assert_eq!(spill.read_row(4).unwrap(), [[40; 5], [4; 5]].concat());
        assert!(spill.read_row(2).is_err());
        assert!(spill.read_row(5).is_err());
        // The file is unlinked from the start: the directory stays empty.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_piece_out_of_place_fails_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let spill = SpillFile::create(dir.path(), 3, 2, 10).unwrap();
        spill.write(3, 0, &[1; 10]);
        spill.write(4, 6, &[1; 5]);
        spill.write(4, 0, &[1; 10]);
        assert!(spill.finish().is_err());
    }

    #[test]
    fn a_missing_directory_cannot_take_a_spill() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SpillFile::create(&dir.path().join("absent"), 0, 1, 1).is_err());
    }
}
