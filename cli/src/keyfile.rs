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

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io(std::io::Error::other("the path has no file name")))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:016x}",
        name.to_string_lossy(),
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::hard_link(&tmp, path)
    })();
    // The temporary name goes whether or not the link was made.
    let _ = fs::remove_file(&tmp);
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyFileError::Exists(path.to_owned()));
        }
        Err(e) => return Err(io(e)),
        Ok(()) => {}
    }
    #[cfg(unix)]
    fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
