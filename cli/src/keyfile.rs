//! Writing secret key files (BLS protocol keys): the one way every command
//! writes one.
//!
//! The key is written to a temporary file created exclusively with mode
//! 0600 (never readable by others, whatever the umask), fsynced, then
//! hard-linked to its name, which fails if the name exists: so a key is
//! never overwritten, never seen half-written (a crash leaves either no
//! file or the whole key), and two writers cannot race past an
//! exists-check. The directory is fsynced so the new name survives a
//! crash too.

use std::path::{Path, PathBuf};

use floe_chain::keystore::{Existing, write_private_file};

/// Why a key file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{0} exists; not overwriting a key")]
    Exists(PathBuf),
    #[error("writing the key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes `contents` to a new file at `path` (see the module docs).
pub fn write_new_key_file(path: &Path, contents: &[u8]) -> Result<(), KeyFileError> {
    match write_private_file(path, contents, Existing::Refuse) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(KeyFileError::Exists(path.to_owned()))
        }
        Err(source) => Err(KeyFileError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn key_files_are_private_whole_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.bls");
        write_new_key_file(&path, b"secret").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "whatever the umask");
        }
        let err = write_new_key_file(&path, b"other").unwrap_err();
        assert!(matches!(err, KeyFileError::Exists(_)), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"secret", "not overwritten");
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("node.bls")]);
    }

    #[test]
    fn concurrent_writers_leave_exactly_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.bls");
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8u8)
                .map(|i| {
                    let path = path.clone();
                    s.spawn(move || write_new_key_file(&path, &[i; 64]).is_ok())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(winners, 1);
        let contents = fs::read(&path).unwrap();
        assert_eq!(contents.len(), 64, "a whole key, never a mix");
        assert!(contents.iter().all(|b| *b == contents[0]));
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_new_key_file(&dir.path().join("no/such/key"), b"x").unwrap_err();
        assert!(matches!(err, KeyFileError::Io { .. }), "{err}");
    }
}
