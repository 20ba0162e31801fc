//! The write-ahead log: the ledger's only durable state.
//!
//! # Format
//!
//! The file `ledger.wal` in the data directory starts with the 8-byte magic
//! `FLOEWAL1` and is followed by frames:
//!
//! ```text
//! frame = len: u32 LE | crc32(payload): u32 LE | payload: len bytes (BCS of `Record`)
//! ```
//!
//! A frame is acknowledged only after `fdatasync` returns, so after a crash
//! the file is a sequence of complete frames possibly followed by one torn
//! frame (short, or failing its checksum). Opening the log replays the
//! complete frames and truncates the torn tail: that tail was never
//! acknowledged to anyone, so dropping it loses nothing a client was told.
//! A bad frame followed by more data is reported as corruption rather than
//! silently truncated, because that cannot be the result of a crash.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::Record;
use crate::error::StoreError;

const MAGIC: &[u8; 8] = b"FLOEWAL1";
/// Upper bound on one frame, so a corrupt length cannot make replay allocate
/// gigabytes. A transaction record is bounded far below this by the
/// transaction size and object count limits.
pub const MAX_FRAME: usize = 64 << 20;

/// An append-only, fsync-on-append log of [`Record`]s.
pub struct WriteAheadLog {
    file: File,
    path: PathBuf,
    len: u64,
    sync: Arc<Syncer>,
}

/// Makes written frames durable; shared so that fsync runs outside the
/// writer's lock and one fsync serves every frame written before it.
pub struct Syncer {
    file: File,
    path: PathBuf,
    written: AtomicU64,
    synced: Mutex<u64>,
}

impl Syncer {
    fn new(file: &File, path: &Path, len: u64) -> Result<Arc<Self>, StoreError> {
        Ok(Arc::new(Self {
            file: file.try_clone().map_err(|e| StoreError::io(path, e))?,
            path: path.to_owned(),
            written: AtomicU64::new(len),
            synced: Mutex::new(len),
        }))
    }

    /// Returns once the log is durable up to `end` bytes.
    pub fn sync_to(&self, end: u64) -> Result<(), StoreError> {
        let mut synced = self
            .synced
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *synced >= end {
            return Ok(());
        }
        let target = self.written.load(Ordering::SeqCst);
        self.file
            .sync_data()
            .map_err(|e| StoreError::io(&self.path, e))?;
        *synced = target.max(end);
        Ok(())
    }
}

impl WriteAheadLog {
    /// Opens (or creates) the log in `dir` and returns it with every complete
    /// record it holds, in append order.
    pub fn open(dir: &Path) -> Result<(Self, Vec<Record>), StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let path = dir.join("ledger.wal");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| StoreError::io(&path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&path, e))?;
        if bytes.is_empty() {
            file.write_all(MAGIC)
                .and_then(|_| file.sync_all())
                .map_err(|e| StoreError::io(&path, e))?;
            sync_dir(dir)?;
            let len = MAGIC.len() as u64;
            let sync = Syncer::new(&file, &path, len)?;
            return Ok((
                Self {
                    file,
                    path,
                    len,
                    sync,
                },
                Vec::new(),
            ));
        }
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(StoreError::Corrupt {
                path,
                offset: 0,
                reason: "missing FLOEWAL1 header".into(),
            });
        }
        let (records, valid_len) = parse_frames(&bytes, &path)?;
        if (valid_len as usize) < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                dropped = bytes.len() - valid_len as usize,
                "truncating a torn, unacknowledged tail of the ledger log"
            );
            file.set_len(valid_len)
                .and_then(|_| file.sync_all())
                .map_err(|e| StoreError::io(&path, e))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| StoreError::io(&path, e))?;
        let sync = Syncer::new(&file, &path, valid_len)?;
        Ok((
            Self {
                file,
                path,
                len: valid_len,
                sync,
            },
            records,
        ))
    }

    /// Appends records as one durable write: they are on disk when this
    /// returns `Ok`, so the caller may acknowledge them.
    pub fn append(&mut self, records: &[&Record]) -> Result<(), StoreError> {
        let end = self.write(records)?;
        self.syncer().sync_to(end)
    }

    /// Writes records without waiting for the disk; returns the log length
    /// to pass to [`Syncer::sync_to`] before acknowledging them. Frames are
    /// written whole and in order, so one fsync makes every earlier frame
    /// durable too: concurrent writers share fsyncs (group commit).
    pub fn write(&mut self, records: &[&Record]) -> Result<u64, StoreError> {
        let mut buf = Vec::new();
        for record in records {
            let payload = bcs::to_bytes(record).map_err(StoreError::Encode)?;
            if payload.len() > MAX_FRAME {
                return Err(StoreError::TooLarge(payload.len()));
            }
            buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            buf.extend_from_slice(&crc32(&payload).to_le_bytes());
            buf.extend_from_slice(&payload);
        }
        if let Err(e) = self.file.write_all(&buf) {
            // Leave no partial frame behind for the next append to follow:
            // a torn frame in the middle would read as corruption.
            let _ = self.file.set_len(self.len);
            return Err(StoreError::io(&self.path, e));
        }
        self.len += buf.len() as u64;
        self.sync.written.store(self.len, Ordering::SeqCst);
        Ok(self.len)
    }

    /// The handle that makes written frames durable.
    pub fn syncer(&self) -> Arc<Syncer> {
        self.sync.clone()
    }

    /// Bytes in the log, header included.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the log holds no records.
    pub fn is_empty(&self) -> bool {
        self.len <= MAGIC.len() as u64
    }
}

fn parse_frames(bytes: &[u8], path: &Path) -> Result<(Vec<Record>, u64), StoreError> {
    let mut records = Vec::new();
    let mut at = MAGIC.len();
    while at < bytes.len() {
        let rest = &bytes[at..];
        let torn = |reason: &str| -> Result<(), StoreError> {
            // Only the last frame may be torn; anything after it means the
            // file was damaged, not merely cut short by a crash.
            Err(StoreError::Corrupt {
                path: path.to_owned(),
                offset: at as u64,
                reason: reason.into(),
            })
        };
        if rest.len() < 8 {
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let sum = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_FRAME {
            if at + 8 + len.min(rest.len()) >= bytes.len() {
                break;
            }
            torn("frame length over the limit")?;
        }
        if rest.len() < 8 + len {
            break;
        }
        let payload = &rest[8..8 + len];
        if crc32(payload) != sum {
            if at + 8 + len == bytes.len() {
                break;
            }
            torn("checksum mismatch")?;
        }
        let record: Record = bcs::from_bytes(payload).map_err(|e| StoreError::Corrupt {
            path: path.to_owned(),
            offset: at as u64,
            reason: format!("undecodable record: {e}"),
        })?;
        records.push(record);
        at += 8 + len;
    }
    Ok((records, at as u64))
}

/// Makes a newly created file's directory entry durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io(dir, e))
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320). A checksum, not a
/// MAC: it only has to tell a torn write from a complete one.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (i, slot) in table.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        table
    });
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Record;

    fn marker(n: u64) -> Record {
        Record::Marker(n)
    }

    #[test]
    fn crc_known_answer() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn append_reopen_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, recs) = WriteAheadLog::open(dir.path()).unwrap();
            assert!(recs.is_empty());
            wal.append(&[&marker(1), &marker(2)]).unwrap();
            wal.append(&[&marker(3)]).unwrap();
        }
        // A torn frame: a length promising more bytes than exist.
        let path = dir.path().join("ledger.wal");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[100, 0, 0, 0, 1, 2, 3, 4, 9]).unwrap();
        drop(f);
        let (mut wal, recs) = WriteAheadLog::open(dir.path()).unwrap();
        assert_eq!(recs.len(), 3);
        wal.append(&[&marker(4)]).unwrap();
        drop(wal);
        let (_, recs) = WriteAheadLog::open(dir.path()).unwrap();
        assert!(matches!(recs.last(), Some(Record::Marker(4))));
        assert_eq!(recs.len(), 4);
    }

    #[test]
    fn corruption_in_the_middle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, _) = WriteAheadLog::open(dir.path()).unwrap();
            wal.append(&[&marker(1)]).unwrap();
            wal.append(&[&marker(2)]).unwrap();
        }
        let path = dir.path().join("ledger.wal");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[MAGIC.len() + 8] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(
            WriteAheadLog::open(dir.path()),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
