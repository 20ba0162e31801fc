//! The `wal` package: `contracts/move/wal/sources/wal.move`.

#[allow(clippy::module_inception)]
pub mod wal;
