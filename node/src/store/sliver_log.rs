//! Sliver bytes in append-only segment files, indexed in the keyspace.
//!
//! Why not in fjall itself: with key-value separation fjall writes every
//! value twice (its journal, then its value log when the memtable flushes)
//! and copies it once more into the memtable in between. A profile of four
//! nodes taking a 100 MiB blob (4.4x that in slivers) spent most of their
//! time outside verification in those copies. Here a sliver is written
//! once: the writer thread appends every sliver of a group (larger than
//! [`INLINE_MAX_BYTES`]; smaller ones stay inline in their entry) to the active
//! segment with positioned writes, `fdatasync`s it, and only then commits
//! the group's fjall batch, in which each sliver is a small index entry
//! ([`Location`]: segment, offset, length, checksum). So:
//!
//! - **Visibility after durability** holds as before: an index entry is
//!   committed (journaled and fsynced) only after the bytes it points at
//!   are on disk, and a sliver is readable only through its entry.
//! - **Crash**: bytes appended by a group whose batch never committed are
//!   dead space nobody points at. On open a new segment is started, so
//!   nothing is ever appended after such a tail.
//! - **Corruption** of a segment is caught on read by the entry's xxh3
//!   checksum (fjall's value log checksummed its blobs the same way).
//! - **Space**: a segment is deleted once no entry points into it and it is
//!   no longer the one appended to. Live slivers are counted per segment
//!   (from the index on open, then kept up to date by the writer). Slivers
//!   removed from a segment that still holds live ones stay on disk until
//!   all of it is dead; there is no rewriting of half-dead segments yet
//!   (fjall's value log was never garbage-collected either).
//!
//! Stores written before this log keep their slivers in the `slivers`
//! partition (full values); the store reads, counts and removes those
//! there, so an existing data directory keeps working.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use fjall::PartitionHandle;

use super::read_buffers::ReadBuffers;

use crate::store::{StoreError, corrupt};

/// A segment stops taking appends once it is this large (one group may
/// take it somewhat past). Small enough that whole segments die and are
/// deleted as blobs expire, large enough to keep the file count low.
/// (1 MiB in unit tests, so they see segments rotate and die.)
const SEGMENT_TARGET_BYTES: u64 = if cfg!(test) { 1 << 20 } else { 256 << 20 };

/// Slivers up to this size are kept inline in their index entry (in fjall,
/// journaled once) rather than in the log: a small blob's store then waits
/// for one fsync per group, not two, and its slivers' double write costs
/// next to nothing.
pub(crate) const INLINE_MAX_BYTES: usize = 64 << 10;

/// Slivers at least this large are served from a map of their segment
/// ([`map_populated`]) rather than read into a buffer.
///
/// Why: a read of a 100 MiB blob makes the nodes serve its 34 rows of
/// 3 MiB; `pread` copied every byte out of the page cache before the
/// checksum and the socket went over it again. A map lets both work on the
/// page cache's own pages. Below this size the copy costs less than
/// setting up and tearing down a mapping.
const MAP_MIN_BYTES: usize = 256 << 10;

/// The `len` bytes at `offset` of `file` as a read-only map, every page
/// already in memory.
///
/// Why populated first (`MADV_POPULATE_READ`): touching a mapped page that
/// the disk cannot deliver kills the process with `SIGBUS`, where `pread`
/// returns an error for one read. Populating reads every page in up front
/// and reports such a failure as an error here (the caller then reads the
/// sliver with `pread`, which fails cleanly), so the later accesses (the
/// checksum, the socket) find the pages present.
fn map_populated(file: &File, offset: u64, len: usize) -> std::io::Result<Bytes> {
    // SAFETY: the mapped range is a committed sliver of a segment: bytes
    // that were written and fsynced before their index entry was committed,
    // and are never written again (appends go past the end; the only
    // truncation, after a failed append, cuts back to where that append
    // began, past every committed byte). A segment is deleted by unlinking
    // it, which leaves an existing map valid. So the mapped bytes do not
    // change or go away while the map lives.
    let map = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map(file)?
    };
    #[cfg(target_os = "linux")]
    {
        map.advise(memmap2::Advice::PopulateRead)?;
        Ok(Bytes::from_owner(map))
    }
    #[cfg(not(target_os = "linux"))]
    {
        drop(map);
        Err(std::io::Error::other("maps are populated on Linux only"))
    }
}

/// A sliver's index entry: its bytes, or where they are in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IndexEntry<'a> {
    Inline(&'a [u8]),
    Logged(Location),
}

const TAG_INLINE: u8 = 0;
const TAG_LOGGED: u8 = 1;

impl<'a> IndexEntry<'a> {
    /// The entry's stored form: a tag byte, then the bytes or the location.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Inline(bytes) => {
                let mut out = Vec::with_capacity(1 + bytes.len());
                out.push(TAG_INLINE);
                out.extend_from_slice(bytes);
                out
            }
            Self::Logged(location) => {
                let mut out = Vec::with_capacity(1 + Location::ENCODED_LEN);
                out.push(TAG_LOGGED);
                out.extend_from_slice(&location.encode());
                out
            }
        }
    }

    pub fn decode(bytes: &'a [u8]) -> Result<Self, StoreError> {
        match bytes.split_first() {
            Some((&TAG_INLINE, rest)) => Ok(Self::Inline(rest)),
            Some((&TAG_LOGGED, rest)) => Ok(Self::Logged(Location::decode(rest)?)),
            _ => Err(corrupt(
                "sliver index entry",
                format!("unknown tag in {} bytes", bytes.len()),
            )),
        }
    }

    /// The log segment the entry points into, if any.
    pub fn segment(&self) -> Option<u32> {
        match self {
            Self::Inline(_) => None,
            Self::Logged(location) => Some(location.segment),
        }
    }
}

/// Where a sliver's bytes are in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub segment: u32,
    pub offset: u64,
    pub len: u64,
    /// xxh3-64 of the bytes.
    pub checksum: u64,
}

impl Location {
    const ENCODED_LEN: usize = 28;

    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0; Self::ENCODED_LEN];
        out[..4].copy_from_slice(&self.segment.to_be_bytes());
        out[4..12].copy_from_slice(&self.offset.to_be_bytes());
        out[12..20].copy_from_slice(&self.len.to_be_bytes());
        out[20..].copy_from_slice(&self.checksum.to_be_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, StoreError> {
        let bytes: &[u8; Self::ENCODED_LEN] = bytes.try_into().map_err(|_| {
            corrupt(
                "sliver index entry",
                format!("{} bytes, expected {}", bytes.len(), Self::ENCODED_LEN),
            )
        })?;
        let u64_at = |at: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_be_bytes(b)
        };
        let mut segment = [0; 4];
        segment.copy_from_slice(&bytes[..4]);
        Ok(Self {
            segment: u32::from_be_bytes(segment),
            offset: u64_at(4),
            len: u64_at(12),
            checksum: u64_at(20),
        })
    }
}

/// The segment being appended to (only the writer thread appends).
struct Active {
    id: u32,
    file: Arc<File>,
    len: u64,
}

/// The segment files of one store.
pub(crate) struct SliverLog {
    dir: PathBuf,
    /// Every segment with live slivers, and the active one.
    segments: RwLock<BTreeMap<u32, Arc<File>>>,
    /// Live slivers per segment.
    live: Mutex<HashMap<u32, u64>>,
    active: Mutex<Active>,
    /// What reads copy into, reused (see `read_buffers`).
    buffers: Arc<ReadBuffers>,
}

impl std::fmt::Debug for SliverLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SliverLog")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn segment_name(id: u32) -> String {
    format!("{id:08}.seg")
}

fn parse_segment_name(name: &str) -> Option<u32> {
    name.strip_suffix(".seg")?.parse().ok()
}

/// fsyncs a directory, so a file created or removed in it stays so.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl SliverLog {
    /// Opens the log in `dir`, counting live slivers from `index`; deletes
    /// segments nothing points into and starts a new active segment.
    pub fn open(dir: &Path, index: &PartitionHandle) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        let mut live: HashMap<u32, u64> = HashMap::new();
        for row in index.iter() {
            let (_, value) = row?;
            if let Some(segment) = IndexEntry::decode(&value)?.segment() {
                *live.entry(segment).or_default() += 1;
            }
        }
        let mut segments = BTreeMap::new();
        let mut newest = 0;
        let mut removed = false;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let Some(id) = entry.file_name().to_str().and_then(parse_segment_name) else {
                continue;
            };
            newest = newest.max(id);
            if live.contains_key(&id) {
                segments.insert(id, Arc::new(File::open(entry.path())?));
            } else {
                std::fs::remove_file(entry.path())?;
                removed = true;
            }
        }
        if let Some(missing) = live.keys().find(|id| !segments.contains_key(id)) {
            return Err(corrupt(
                "sliver log",
                format!(
                    "{} is missing from {} but the index points into it",
                    segment_name(*missing),
                    dir.display()
                ),
            ));
        }
        let id = newest
            .checked_add(1)
            .ok_or_else(|| corrupt("sliver log", "segment ids exhausted"))?;
        let file = Arc::new(create_segment(dir, id)?);
        if removed {
            sync_dir(dir)?;
        }
        segments.insert(id, file.clone());
        Ok(Self {
            dir: dir.to_path_buf(),
            segments: RwLock::new(segments),
            live: Mutex::new(live),
            active: Mutex::new(Active { id, file, len: 0 }),
            buffers: Arc::default(),
        })
    }

    /// Appends `values` to the active segment and makes them durable;
    /// returns where each went. On failure nothing appended is pointed at
    /// (the segment is cut back, best effort: leftovers are dead space).
    /// Writer thread only.
    pub fn append(&self, values: &[&[u8]]) -> Result<Vec<Location>, std::io::Error> {
        let mut active = self.active.lock().unwrap_or_else(|p| p.into_inner());
        if active.len >= SEGMENT_TARGET_BYTES {
            let id = active.id + 1;
            let file = Arc::new(create_segment(&self.dir, id)?);
            self.segments
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id, file.clone());
            let sealed = std::mem::replace(&mut *active, Active { id, file, len: 0 });
            // The sealed segment may be dead already (every sliver in it
            // removed while it was active).
            self.delete_if_dead(sealed.id, id);
        }
        let start = active.len;
        let mut offset = start;
        let mut out = Vec::with_capacity(values.len());
        let written = values.iter().try_for_each(|value| {
            active.file.write_all_at(value, offset)?;
            out.push(Location {
                segment: active.id,
                offset,
                len: value.len() as u64,
                checksum: xxhash_rust::xxh3::xxh3_64(value),
            });
            offset += value.len() as u64;
            Ok(())
        });
        match written.and_then(|()| active.file.sync_data()) {
            Ok(()) => {
                active.len = offset;
                Ok(out)
            }
            Err(e) => {
                let _ = active.file.set_len(start);
                Err(e)
            }
        }
    }

    /// The bytes at `location`, checked against its checksum; `None` if
    /// the segment is gone (every sliver in it was removed, so the caller's
    /// index entry was removed after it was read).
    pub fn read(&self, location: &Location) -> Result<Option<Bytes>, StoreError> {
        let Some(file) = self
            .segments
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&location.segment)
            .cloned()
        else {
            return Ok(None);
        };
        let len = usize::try_from(location.len).map_err(|_| {
            corrupt(
                "sliver index entry",
                format!("length {} does not fit in memory", location.len),
            )
        })?;
        if len >= MAP_MIN_BYTES {
            match map_populated(&file, location.offset, len) {
                Ok(mapped) => {
                    self.check(location, &mapped)?;
                    return Ok(Some(mapped));
                }
                // pread says what is wrong, if anything still is.
                Err(e) => tracing::debug!(
                    segment = %segment_name(location.segment),
                    offset = location.offset,
                    len,
                    error = %e,
                    "sliver not mapped, reading it instead"
                ),
            }
        }
        let mut buffer = self.buffers.take(len);
        file.read_exact_at(buffer.as_mut_slice(), location.offset)
            .map_err(|e| {
                corrupt(
                    "sliver",
                    format!(
                        "reading {} bytes at {} of {}: {e}",
                        location.len,
                        location.offset,
                        segment_name(location.segment)
                    ),
                )
            })?;
        self.check(location, buffer.as_ref())?;
        Ok(Some(buffer.into_bytes()))
    }

    /// `bytes` (read from `location`) against the entry's checksum.
    fn check(&self, location: &Location, bytes: &[u8]) -> Result<(), StoreError> {
        if xxhash_rust::xxh3::xxh3_64(bytes) != location.checksum {
            return Err(corrupt(
                "sliver",
                format!(
                    "checksum mismatch for {} bytes at {} of {}",
                    location.len,
                    location.offset,
                    segment_name(location.segment)
                ),
            ));
        }
        Ok(())
    }

    /// Records committed index changes: entries now pointing into
    /// `added`, entries that pointed into `removed` and no longer do.
    /// Deletes segments left without live slivers. Writer thread only.
    pub fn committed(&self, added: &[u32], removed: &[u32]) {
        {
            let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
            for id in added {
                *live.entry(*id).or_default() += 1;
            }
            for id in removed {
                if let Some(count) = live.get_mut(id) {
                    *count = count.saturating_sub(1);
                }
            }
        }
        let active = self.active.lock().unwrap_or_else(|p| p.into_inner()).id;
        for id in removed {
            self.delete_if_dead(*id, active);
        }
    }

    /// Deletes segment `id` if nothing points into it and it is not the
    /// active one. A failed delete is logged: the file is only wasted
    /// space, and the next open deletes it.
    fn delete_if_dead(&self, id: u32, active: u32) {
        if id == active {
            return;
        }
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if live.get(&id).is_some_and(|count| *count > 0) {
            return;
        }
        live.remove(&id);
        drop(live);
        self.segments
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        if let Err(e) = std::fs::remove_file(self.dir.join(segment_name(id))) {
            tracing::warn!(segment = id, error = %e, "could not delete a dead sliver segment");
        }
    }

    /// Segments on disk (for tests and metrics).
    pub fn segment_count(&self) -> usize {
        self.segments
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }
}

/// Creates segment `id` (it must not exist) and makes its name durable.
fn create_segment(dir: &Path, id: u32) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(dir.join(segment_name(id)))?;
    sync_dir(dir)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip_and_refuse_other_lengths() {
        let loc = Location {
            segment: 7,
            offset: 1 << 40,
            len: 3 << 20,
            checksum: 0xdead_beef_0123_4567,
        };
        assert_eq!(Location::decode(&loc.encode()).unwrap(), loc);
        assert!(Location::decode(&loc.encode()[..27]).is_err());
        assert!(Location::decode(&[0; 29]).is_err());
    }

    #[test]
    fn index_entries_round_trip_and_refuse_unknown_tags() {
        let loc = Location {
            segment: 1,
            offset: 2,
            len: 3,
            checksum: 4,
        };
        for entry in [
            IndexEntry::Inline(b"abc"),
            IndexEntry::Inline(b""),
            IndexEntry::Logged(loc),
        ] {
            assert_eq!(IndexEntry::decode(&entry.encode()).unwrap(), entry);
        }
        assert!(IndexEntry::decode(&[]).is_err());
        assert!(IndexEntry::decode(&[2, 0]).is_err());
        assert!(IndexEntry::decode(&[TAG_LOGGED, 0]).is_err());
    }

    #[test]
    fn segment_names_parse_back() {
        assert_eq!(parse_segment_name(&segment_name(42)), Some(42));
        assert_eq!(parse_segment_name("00000042.tmp"), None);
        assert_eq!(parse_segment_name("x.seg"), None);
    }
}
