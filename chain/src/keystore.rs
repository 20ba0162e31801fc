//! Ed25519 keys in the Sui CLI keystore format.
//!
//! `sui.keystore` is a JSON array of base64 strings, each `flag || private key`
//! (flag `0x00` is ed25519, followed by the 32-byte secret). Next to it the Sui
//! CLI keeps `sui.aliases`, a JSON array of `{"alias", "public_key_base64"}`
//! where the public key is also `flag || key`. Reading and writing both files
//! lets floe share keys with the Sui CLI in either direction.
//!
//! Entries with another signature scheme (secp256k1, secp256r1, ...) are kept
//! verbatim so that saving a keystore never drops a user's keys, but they
//! cannot be selected for signing: floe signs with ed25519 only.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sui_crypto::SuiSigner as _;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{Address, Transaction, UserSignature};
use zeroize::Zeroizing;

/// Signature scheme flag of ed25519 keys in Sui's `flag || key` encodings.
pub const ED25519_FLAG: u8 = 0x00;

/// Largest keystore or alias file we read. A keystore holds a few keys of
/// ~50 bytes; anything larger is not a keystore and is refused rather than
/// read into memory.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Longest alias accepted, as a guard against garbage in `sui.aliases`.
const MAX_ALIAS_LEN: usize = 256;

/// Why a keystore could not be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("keystore {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("keystore {path} is {size} bytes, more than the {max} a keystore can plausibly hold")]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("keystore {path} is not a JSON array of base64 strings: {reason}")]
    NotJsonArray { path: PathBuf, reason: String },
    #[error("keystore {path}, entry {index}: {reason}")]
    BadEntry {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error("alias file {path}: {reason}")]
    BadAliases { path: PathBuf, reason: String },
    #[error("alias {0:?} is already used by another key")]
    DuplicateAlias(String),
    #[error("invalid alias {alias:?}: {reason}")]
    InvalidAlias { alias: String, reason: String },
    #[error("no key matches {0:?} (expected an alias or a 0x address of an ed25519 key)")]
    UnknownKey(String),
    #[error("the keystore has no ed25519 key")]
    Empty,
    #[error("signing failed: {0}")]
    Sign(String),
}

/// One usable ed25519 key with its derived address and optional alias.
#[derive(Clone)]
pub struct KeyPair {
    key: Ed25519PrivateKey,
    address: Address,
    alias: Option<String>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("KeyPair")
            .field("address", &self.address)
            .field("alias", &self.alias)
            .finish()
    }
}

impl KeyPair {
    /// Wraps a 32-byte ed25519 secret.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let secret = Zeroizing::new(secret);
        let key = Ed25519PrivateKey::new(*secret);
        let address = key.public_key().derive_address();
        Self {
            key,
            address,
            alias: None,
        }
    }

    /// A fresh key from the operating system's CSPRNG (via `rand`'s thread
    /// generator, which is seeded from it).
    pub fn generate() -> Self {
        let secret = Zeroizing::new(rand::random::<[u8; 32]>());
        Self::from_secret(*secret)
    }

    /// Parses one keystore entry: base64 of `0x00 || 32-byte secret`.
    pub fn from_keystore_entry(entry: &str) -> Result<Self, String> {
        match decode_entry(entry)? {
            Entry::Ed25519(key) => Ok(*key),
            Entry::Other { flag, .. } => Err(format!(
                "signature scheme flag {flag:#04x} is not ed25519 (0x00)"
            )),
        }
    }

    /// The keystore encoding of this key: base64 of `0x00 || secret`.
    pub fn to_keystore_entry(&self) -> String {
        self.key.to_base64()
    }

    /// The Sui address of this key (Blake2b-256 of `0x00 || public key`).
    pub fn address(&self) -> Address {
        self.address
    }

    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    pub fn public_key(&self) -> sui_sdk_types::Ed25519PublicKey {
        self.key.public_key()
    }

    /// `flag || public key` in base64, the form `sui.aliases` records.
    pub fn public_key_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(ED25519_FLAG);
        bytes.extend_from_slice(self.key.public_key().as_ref());
        B64.encode(bytes)
    }

    /// Signs the intent message of `tx` (intent scope TransactionData,
    /// version 0, app Sui) as Sui validators expect.
    pub fn sign_transaction(&self, tx: &Transaction) -> Result<UserSignature, KeystoreError> {
        self.key
            .sign_transaction(tx)
            .map_err(|e| KeystoreError::Sign(e.to_string()))
    }

    /// The underlying signer, for callers that need sui-crypto directly.
    pub fn private_key(&self) -> &Ed25519PrivateKey {
        &self.key
    }
}

/// A decoded keystore entry.
enum Entry {
    Ed25519(Box<KeyPair>),
    /// A key of another scheme, kept as the original text so it survives a
    /// save.
    Other {
        flag: u8,
        raw: String,
    },
}

fn decode_entry(entry: &str) -> Result<Entry, String> {
    let bytes = Zeroizing::new(
        B64.decode(entry.trim())
            .map_err(|e| format!("not valid base64: {e}"))?,
    );
    let Some((&flag, secret)) = bytes.split_first() else {
        return Err("empty entry (expected flag byte and private key)".into());
    };
    if flag != ED25519_FLAG {
        return Ok(Entry::Other {
            flag,
            raw: entry.to_owned(),
        });
    }
    let secret: [u8; 32] = secret.try_into().map_err(|_| {
        format!(
            "ed25519 entry has {} key bytes after the flag, expected 32",
            secret.len()
        )
    })?;
    Ok(Entry::Ed25519(Box::new(KeyPair::from_secret(secret))))
}

#[derive(Serialize, Deserialize)]
struct AliasRecord {
    alias: String,
    public_key_base64: String,
}

/// A set of keys, optionally backed by a `sui.keystore` file.
#[derive(Debug, Default)]
pub struct Keystore {
    path: Option<PathBuf>,
    keys: Vec<KeyPair>,
    /// Non-ed25519 entries, preserved verbatim in their original order after
    /// the ed25519 ones.
    foreign: Vec<String>,
    /// Explicitly chosen default; otherwise the first key is the default.
    default: Option<Address>,
}

impl Keystore {
    /// An empty keystore that lives only in memory.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Reads `path` (and its `.aliases` sibling if present). A missing file
    /// yields an empty keystore bound to `path`, so `save` creates it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, KeystoreError> {
        let path = path.as_ref().to_path_buf();
        let mut store = Self {
            path: Some(path.clone()),
            ..Self::default()
        };
        let Some(text) = read_bounded(&path)? else {
            return Ok(store);
        };
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| KeystoreError::NotJsonArray {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        for (index, value) in entries.iter().enumerate() {
            let bad = |reason: String| KeystoreError::BadEntry {
                path: path.clone(),
                index,
                reason,
            };
            let text = value
                .as_str()
                .ok_or_else(|| bad(format!("expected a base64 string, found {value}")))?;
            match decode_entry(text).map_err(bad)? {
                Entry::Ed25519(key) => {
                    if store.keys.iter().any(|k| k.address == key.address) {
                        return Err(bad(format!("duplicate key for address {}", key.address)));
                    }
                    store.keys.push(*key);
                }
                Entry::Other { flag, raw } => {
                    tracing::debug!(index, flag, "keeping non-ed25519 keystore entry as is");
                    store.foreign.push(raw);
                }
            }
        }
        store.read_aliases()?;
        Ok(store)
    }

    /// Where the aliases of a keystore at `path` live (`sui.aliases` next to
    /// `sui.keystore`), as in the Sui CLI.
    pub fn aliases_path(path: &Path) -> PathBuf {
        path.with_extension("aliases")
    }

    fn read_aliases(&mut self) -> Result<(), KeystoreError> {
        let Some(path) = self.path.as_deref().map(Self::aliases_path) else {
            return Ok(());
        };
        let Some(text) = read_bounded(&path)? else {
            return Ok(());
        };
        let records: Vec<AliasRecord> =
            serde_json::from_str(&text).map_err(|e| KeystoreError::BadAliases {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        for record in records {
            validate_alias(&record.alias).map_err(|e| KeystoreError::BadAliases {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            // Aliases of keys we do not hold (or of foreign keys) are ignored;
            // the Sui CLI tolerates the same.
            if let Some(key) = self
                .keys
                .iter_mut()
                .find(|k| k.public_key_base64() == record.public_key_base64)
            {
                key.alias = Some(record.alias);
            }
        }
        Ok(())
    }

    /// The file this keystore is bound to, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// All ed25519 keys, in file order.
    pub fn keys(&self) -> &[KeyPair] {
        &self.keys
    }

    pub fn addresses(&self) -> Vec<Address> {
        self.keys.iter().map(|k| k.address).collect()
    }

    /// Adds `key` (with an optional alias) and returns its address. Adding a
    /// key that is already present only updates its alias.
    pub fn add(&mut self, mut key: KeyPair, alias: Option<&str>) -> Result<Address, KeystoreError> {
        if let Some(alias) = alias {
            validate_alias(alias)?;
            if self
                .keys
                .iter()
                .any(|k| k.alias.as_deref() == Some(alias) && k.address != key.address)
            {
                return Err(KeystoreError::DuplicateAlias(alias.to_owned()));
            }
        }
        let address = key.address;
        if let Some(existing) = self.keys.iter_mut().find(|k| k.address == address) {
            if alias.is_some() {
                existing.alias = alias.map(str::to_owned);
            }
        } else {
            key.alias = alias.map(str::to_owned);
            self.keys.push(key);
        }
        Ok(address)
    }

    /// Generates a new key, adds it and returns its address.
    pub fn generate(&mut self, alias: Option<&str>) -> Result<Address, KeystoreError> {
        self.add(KeyPair::generate(), alias)
    }

    /// Makes the key matching `selector` (alias or address) the default.
    pub fn set_default(&mut self, selector: &str) -> Result<Address, KeystoreError> {
        let address = self.select(Some(selector))?.address;
        self.default = Some(address);
        Ok(address)
    }

    /// The key for `selector`: an alias, or an address (`0x` + hex, short
    /// forms allowed). `None` picks the default: the one set with
    /// [`set_default`](Self::set_default), else the first key.
    pub fn select(&self, selector: Option<&str>) -> Result<&KeyPair, KeystoreError> {
        match selector {
            None => {
                let default = match self.default {
                    Some(address) => self.keys.iter().find(|k| k.address == address),
                    None => self.keys.first(),
                };
                default.ok_or(KeystoreError::Empty)
            }
            Some(sel) => {
                if let Some(key) = self.keys.iter().find(|k| k.alias.as_deref() == Some(sel)) {
                    return Ok(key);
                }
                let address =
                    parse_address(sel).ok_or_else(|| KeystoreError::UnknownKey(sel.to_owned()))?;
                self.keys
                    .iter()
                    .find(|k| k.address == address)
                    .ok_or_else(|| KeystoreError::UnknownKey(sel.to_owned()))
            }
        }
    }

    /// Writes the keystore (and aliases) back to the file it was opened
    /// from.
    pub fn save(&self) -> Result<(), KeystoreError> {
        let Some(path) = self.path.clone() else {
            return Err(KeystoreError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other("in-memory keystore has no file to save to"),
            });
        };
        self.save_as(&path)
    }

    /// Writes `sui.keystore` and `sui.aliases` at `path`, each atomically
    /// (temp file, fsync, rename) and with mode 0600, so a crash never leaves
    /// a truncated keystore and other users can never read the secrets.
    pub fn save_as(&self, path: &Path) -> Result<(), KeystoreError> {
        let mut entries: Vec<String> = self.keys.iter().map(KeyPair::to_keystore_entry).collect();
        entries.extend(self.foreign.iter().cloned());
        let text = Zeroizing::new(serde_json::to_string_pretty(&entries).map_err(|e| {
            KeystoreError::Io {
                path: path.to_owned(),
                source: std::io::Error::other(e),
            }
        })?);
        // The entries vector holds secrets too.
        for entry in &mut entries {
            zeroize::Zeroize::zeroize(entry);
        }
        write_atomic(path, text.as_bytes())?;

        let aliases: Vec<AliasRecord> = self
            .keys
            .iter()
            .filter_map(|k| {
                k.alias.as_ref().map(|alias| AliasRecord {
                    alias: alias.clone(),
                    public_key_base64: k.public_key_base64(),
                })
            })
            .collect();
        let aliases_path = Self::aliases_path(path);
        let text = serde_json::to_string_pretty(&aliases).map_err(|e| KeystoreError::Io {
            path: aliases_path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_atomic(&aliases_path, text.as_bytes())
    }
}

/// Parses a `0x`-prefixed (or bare) hex address, accepting short forms.
pub fn parse_address(text: &str) -> Option<Address> {
    let hex = text.strip_prefix("0x").unwrap_or(text);
    if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let padded = format!("{hex:0>64}");
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&padded, &mut bytes).ok()?;
    Some(Address::new(bytes))
}

fn validate_alias(alias: &str) -> Result<(), KeystoreError> {
    let reason = if alias.is_empty() {
        Some("empty")
    } else if alias.len() > MAX_ALIAS_LEN {
        Some("longer than 256 bytes")
    } else if !alias.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("must start with a letter")
    } else if !alias
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Some("only letters, digits, '-' and '_' are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(KeystoreError::InvalidAlias {
            alias: alias.chars().take(64).collect(),
            reason: reason.into(),
        }),
        None => Ok(()),
    }
}

/// Reads a small file; `None` if it does not exist.
fn read_bounded(path: &Path) -> Result<Option<String>, KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(KeystoreError::TooLarge {
            path: path.to_owned(),
            size: meta.len(),
            max: MAX_FILE_BYTES,
        });
    }
    fs::read_to_string(path).map(Some).map_err(io)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(io)?;
    }
    write_private_file(path, bytes, Existing::Replace).map_err(io)
}

/// What [`write_private_file`] does when `path` already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it atomically (keystores, which are rewritten whole).
    Replace,
    /// Leave it and fail with `ErrorKind::AlreadyExists` (key files, which
    /// are never overwritten).
    Refuse,
}

/// Writes a secret file the one safe way: a temporary file in the same
/// directory, created exclusively with mode 0600 (whatever the umask),
/// written and fsynced, then renamed over `path` ([`Existing::Replace`]) or
/// hard-linked to it, which fails if the name exists ([`Existing::Refuse`]);
/// then the directory is fsynced so the name survives a crash. Readers see
/// the whole file or none of it, and no temporary file is left behind.
pub fn write_private_file(path: &Path, bytes: &[u8], existing: Existing) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:016x}",
        file_name.to_string_lossy(),
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
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        match existing {
            Existing::Replace => fs::rename(&tmp, path),
            Existing::Refuse => fs::hard_link(&tmp, path),
        }
    })();
    // After a rename the temporary name is gone; after a link or an error
    // it is removed here.
    let _ = fs::remove_file(&tmp);
    result?;
    #[cfg(unix)]
    fs::File::open(&dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests;
