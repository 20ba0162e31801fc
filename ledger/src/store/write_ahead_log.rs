//! The write-ahead log: the ledger's only durable state.
//!
//! # Format
//!
//! The file `ledger.wal` in the data directory starts with a header and is
//! followed by frames. The header is the 8-byte magic `FLOEWAL2` and the
//! log's generation (u64 LE): the number of the snapshot it continues
//! (`store::snapshot`). A log written before snapshots existed starts with
//! `FLOEWAL1` and no generation; it is generation 0 and holds the whole
//! history. Frames:
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

const MAGIC_V1: &[u8; 8] = b"FLOEWAL1";
const MAGIC: &[u8; 8] = b"FLOEWAL2";
const HEADER: usize = 16;

fn header(generation: u64) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&generation.to_le_bytes());
    h
}
/// Upper bound on one frame, so a corrupt length cannot make replay allocate
/// gigabytes. A transaction record is bounded far below this by the
/// transaction size and object count limits.
pub const MAX_FRAME: usize = 64 << 20;

/// An append-only, fsync-on-append log of [`Record`]s.
pub struct WriteAheadLog {
    file: File,
    path: PathBuf,
    len: u64,
    /// Bytes of the header (frames start there).
    start: u64,
    /// Frames written since the log was opened or reset.
    frames: u64,
    generation: u64,
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
    /// Opens (or creates, at generation 0) the log in `dir` and returns it
    /// with every complete record it holds, in append order.
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
            file.write_all(&header(0))
                .and_then(|_| file.sync_all())
                .map_err(|e| StoreError::io(&path, e))?;
            sync_dir(dir)?;
            let len = HEADER as u64;
            let sync = Syncer::new(&file, &path, len)?;
            return Ok((
                Self {
                    file,
                    path,
                    len,
                    start: len,
                    frames: 0,
                    generation: 0,
                    sync,
                },
                Vec::new(),
            ));
        }
        let (start, generation) = if bytes.len() >= HEADER && &bytes[..8] == MAGIC {
            let mut g = [0u8; 8];
            g.copy_from_slice(&bytes[8..HEADER]);
            (HEADER, u64::from_le_bytes(g))
        } else if bytes.len() >= MAGIC_V1.len() && &bytes[..MAGIC_V1.len()] == MAGIC_V1 {
            (MAGIC_V1.len(), 0)
        } else {
            return Err(StoreError::Corrupt {
                path,
                offset: 0,
                reason: "missing FLOEWAL2 (or FLOEWAL1) header".into(),
            });
        };
        let (records, valid_len) = parse_frames(&bytes, start, &path)?;
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
                start: start as u64,
                frames: records.len() as u64,
                generation,
                sync,
            },
            records,
        ))
    }

    /// Replaces the log with an empty one of `generation`, atomically: the
    /// new header is written to a temporary file, fsynced, renamed over the
    /// log and the directory fsynced. A crash leaves either the old log or
    /// the new empty one, never a mix. Call only once everything the old log
    /// holds is durable elsewhere (the snapshot of that generation).
    pub fn reset(&mut self, generation: u64) -> Result<(), StoreError> {
        let dir = self
            .path
            .parent()
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from("."));
        let tmp = dir.join("ledger.wal.tmp");
        {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(|e| StoreError::io(&tmp, e))?;
            f.write_all(&header(generation))
                .and_then(|_| f.sync_all())
                .map_err(|e| StoreError::io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| StoreError::io(&self.path, e))?;
        sync_dir(&dir)?;
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| StoreError::io(&self.path, e))?;
        let len = HEADER as u64;
        self.sync = Syncer::new(&file, &self.path, len)?;
        self.file = file;
        self.len = len;
        self.start = len;
        self.frames = 0;
        self.generation = generation;
        Ok(())
    }

    /// The snapshot generation this log continues.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Frames in the log since it was opened or reset (a replay of the
    /// whole log after a restart counts them all again).
    pub fn frames(&self) -> u64 {
        self.frames
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
        self.frames += records.len() as u64;
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
        self.len <= self.start
    }
}

fn parse_frames(bytes: &[u8], start: usize, path: &Path) -> Result<(Vec<Record>, u64), StoreError> {
    let mut records = Vec::new();
    let mut at = start;
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
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
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
    fn reset_starts_an_empty_log_of_a_generation_and_v1_logs_are_generation_0() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut wal, _) = WriteAheadLog::open(dir.path()).unwrap();
            assert_eq!(wal.generation(), 0);
            wal.append(&[&marker(1), &marker(2)]).unwrap();
            wal.reset(7).unwrap();
            assert!(wal.is_empty());
            wal.append(&[&marker(3)]).unwrap();
        }
        let (wal, recs) = WriteAheadLog::open(dir.path()).unwrap();
        assert_eq!(wal.generation(), 7);
        assert!(matches!(recs.as_slice(), [Record::Marker(3)]));
        assert!(!dir.path().join("ledger.wal.tmp").exists());
        drop(wal);
        // A log written before snapshots existed: FLOEWAL1, no generation.
        let v1 = tempfile::tempdir().unwrap();
        let payload = bcs::to_bytes(&marker(5)).unwrap();
        let mut bytes = MAGIC_V1.to_vec();
        bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&crc32(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        std::fs::write(v1.path().join("ledger.wal"), bytes).unwrap();
        let (mut wal, recs) = WriteAheadLog::open(v1.path()).unwrap();
        assert_eq!(wal.generation(), 0);
        assert!(matches!(recs.as_slice(), [Record::Marker(5)]));
        wal.append(&[&marker(6)]).unwrap();
        drop(wal);
        let (_, recs) = WriteAheadLog::open(v1.path()).unwrap();
        assert_eq!(recs.len(), 2);
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
        bytes[HEADER + 8] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(
            WriteAheadLog::open(dir.path()),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
