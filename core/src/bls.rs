//! BLS12-381 "min-pk" signatures as Walrus uses them (Walrus's `crates/walrus-core/src/messages.rs`
//! and `contracts/walrus/sources/system/bls_aggregate.move`).
//!
//! Public keys are compressed G1 points (48 bytes), signatures compressed G2
//! points (96 bytes), messages are hashed to G2 with the ciphersuite
//! [`DST`]. The arithmetic is `blst`'s; this module adds the Walrus framing:
//! validated key and signature types with clear errors, key generation from a
//! seed or the OS, Walrus-compatible key files, and aggregation.
//!
//! Every public key and signature read from outside is decompressed with a
//! subgroup check and rejected if it is the point at infinity, so a forged
//! "identity" key or signature can never verify.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use blst::BLST_ERROR;
use blst::min_pk::{AggregatePublicKey, AggregateSignature, PublicKey, SecretKey, Signature};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Hash-to-curve domain separation tag of the min-pk proof-of-possession
/// ciphersuite (the one fastcrypto and Sui's `bls12381_min_pk_verify` use).
pub const DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_";

/// Compressed public key length (G1).
pub const PUBLIC_KEY_LENGTH: usize = 48;
/// Uncompressed public key length (G1), as in Move's `Element<UncompressedG1>`.
pub const UNCOMPRESSED_PUBLIC_KEY_LENGTH: usize = 96;
/// Compressed signature length (G2).
pub const SIGNATURE_LENGTH: usize = 96;
/// Secret key length (big-endian scalar).
pub const SECRET_KEY_LENGTH: usize = 32;
/// Flag byte Walrus puts before a BLS12-381 secret key in key files.
pub const KEY_FILE_SCHEME_FLAG: u8 = 0x04;

/// Why a key, signature or verification was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlsError {
    /// Bytes do not encode a valid G1 public key.
    #[error("invalid BLS public key: {0}")]
    InvalidPublicKey(String),
    /// Bytes do not encode a valid G2 signature.
    #[error("invalid BLS signature: {0}")]
    InvalidSignature(String),
    /// Bytes do not encode a valid secret scalar.
    #[error("invalid BLS secret key: {0}")]
    InvalidSecretKey(String),
    /// The signature does not verify under the key for the message.
    #[error("BLS signature verification failed")]
    VerificationFailed,
    /// Nothing to aggregate.
    #[error("cannot aggregate an empty list")]
    EmptyAggregate,
    /// The operating system could not provide randomness.
    #[error("OS randomness unavailable: {0}")]
    Randomness(String),
    /// A key file's text is not in the documented format.
    #[error("invalid key file: {0}")]
    KeyFile(String),
}

fn blst_reason(err: BLST_ERROR) -> String {
    match err {
        BLST_ERROR::BLST_BAD_ENCODING => "bad encoding".to_owned(),
        BLST_ERROR::BLST_POINT_NOT_ON_CURVE => "point not on curve".to_owned(),
        BLST_ERROR::BLST_POINT_NOT_IN_GROUP => "point not in the prime-order subgroup".to_owned(),
        BLST_ERROR::BLST_PK_IS_INFINITY => "point at infinity".to_owned(),
        BLST_ERROR::BLST_BAD_SCALAR => "scalar out of range".to_owned(),
        other => format!("{other:?}"),
    }
}

/// A BLS12-381 secret key. Zeroed on drop (by `blst`); never printed.
#[derive(Clone)]
pub struct BlsSecretKey(SecretKey);

impl std::fmt::Debug for BlsSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlsSecretKey(<redacted>, public {})", self.public_key())
    }
}

impl BlsSecretKey {
    /// Derives a key deterministically from 32 bytes of seed material with
    /// the IETF `KeyGen` (HKDF-SHA256) procedure, empty key info. The same
    /// seed always gives the same key (tests, reproducible test networks).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        // `key_gen` only fails for input shorter than 32 bytes, which the
        // array type rules out; fall back to hashing the seed with a suffix
        // would change keys, so treat the impossible error as unreachable.
        match SecretKey::key_gen(seed, &[]) {
            Ok(sk) => BlsSecretKey(sk),
            Err(_) => unreachable!("blst key_gen accepts 32-byte input"),
        }
    }

    /// A fresh key from 32 bytes of operating-system randomness.
    pub fn generate() -> Result<Self, BlsError> {
        use rand::TryRngCore;
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng
            .try_fill_bytes(seed.as_mut())
            .map_err(|e| BlsError::Randomness(e.to_string()))?;
        Ok(Self::from_seed(&seed))
    }

    /// The 32-byte big-endian scalar (what fastcrypto and Walrus store).
    pub fn to_bytes(&self) -> Zeroizing<[u8; SECRET_KEY_LENGTH]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// From the 32-byte big-endian scalar; rejects zero and values >= r.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != SECRET_KEY_LENGTH {
            return Err(BlsError::InvalidSecretKey(format!(
                "{} bytes, expected {SECRET_KEY_LENGTH}",
                bytes.len()
            )));
        }
        if bytes.iter().all(|&b| b == 0) {
            return Err(BlsError::InvalidSecretKey("zero scalar".to_owned()));
        }
        SecretKey::from_bytes(bytes)
            .map(BlsSecretKey)
            .map_err(|e| BlsError::InvalidSecretKey(blst_reason(e)))
    }

    /// Key file text: standard base64 (with padding) of
    /// `0x04 || secret (32 bytes, big-endian)`, 44 characters. This is the
    /// format of Walrus's `ProtocolKeyPair` files, so keys move between the
    /// two. The caller writes it with mode 0600.
    pub fn to_key_file_string(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new([0u8; 1 + SECRET_KEY_LENGTH]);
        raw[0] = KEY_FILE_SCHEME_FLAG;
        raw[1..].copy_from_slice(self.to_bytes().as_ref());
        Zeroizing::new(STANDARD.encode(raw.as_ref()))
    }

    /// Parses [`to_key_file_string`](Self::to_key_file_string) output;
    /// surrounding whitespace (a trailing newline) is ignored.
    pub fn from_key_file_string(text: &str) -> Result<Self, BlsError> {
        let raw = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|e| BlsError::KeyFile(format!("not base64: {e}")))?,
        );
        match raw.split_first() {
            Some((&KEY_FILE_SCHEME_FLAG, secret)) if secret.len() == SECRET_KEY_LENGTH => {
                Self::from_bytes(secret)
            }
            Some((&flag, secret)) if secret.len() == SECRET_KEY_LENGTH => {
                Err(BlsError::KeyFile(format!(
                    "scheme flag {flag:#04x}, expected {KEY_FILE_SCHEME_FLAG:#04x} (BLS12-381)"
                )))
            }
            _ => Err(BlsError::KeyFile(format!(
                "{} bytes after base64 decoding, expected {}",
                raw.len(),
                1 + SECRET_KEY_LENGTH
            ))),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> BlsPublicKey {
        let point = self.0.sk_to_pk();
        BlsPublicKey {
            bytes: point.compress(),
            point,
        }
    }

    /// Signs `message` (hash-to-G2 with [`DST`]).
    pub fn sign(&self, message: &[u8]) -> BlsSignature {
        BlsSignature(self.0.sign(message, DST, &[]).compress())
    }
}

/// A validated BLS12-381 public key (in the subgroup, not infinity).
#[derive(Clone, Copy)]
pub struct BlsPublicKey {
    bytes: [u8; PUBLIC_KEY_LENGTH],
    point: PublicKey,
}

impl PartialEq for BlsPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for BlsPublicKey {}

impl std::hash::Hash for BlsPublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl std::fmt::Display for BlsPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.bytes))
    }
}

impl std::fmt::Debug for BlsPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlsPublicKey({self})")
    }
}

impl BlsPublicKey {
    /// Parses a 48-byte compressed key with subgroup and infinity checks.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != PUBLIC_KEY_LENGTH {
            return Err(BlsError::InvalidPublicKey(format!(
                "{} bytes, expected {PUBLIC_KEY_LENGTH} (compressed G1)",
                bytes.len()
            )));
        }
        Self::validated(bytes)
    }

    /// Parses a 96-byte uncompressed key (Move `Element<UncompressedG1>`
    /// bytes) with subgroup and infinity checks.
    pub fn from_uncompressed(bytes: &[u8]) -> Result<Self, BlsError> {
        if bytes.len() != UNCOMPRESSED_PUBLIC_KEY_LENGTH {
            return Err(BlsError::InvalidPublicKey(format!(
                "{} bytes, expected {UNCOMPRESSED_PUBLIC_KEY_LENGTH} (uncompressed G1)",
                bytes.len()
            )));
        }
        Self::validated(bytes)
    }

    fn validated(bytes: &[u8]) -> Result<Self, BlsError> {
        let point = PublicKey::key_validate(bytes)
            .map_err(|e| BlsError::InvalidPublicKey(blst_reason(e)))?;
        Ok(BlsPublicKey {
            bytes: point.compress(),
            point,
        })
    }

    /// Compressed bytes.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LENGTH] {
        self.bytes
    }

    /// Compressed bytes by reference.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LENGTH] {
        &self.bytes
    }

    /// Uncompressed 96-byte form (Move `Element<UncompressedG1>`).
    pub fn to_uncompressed(&self) -> [u8; UNCOMPRESSED_PUBLIC_KEY_LENGTH] {
        self.point.serialize()
    }

    pub(crate) fn point(&self) -> &PublicKey {
        &self.point
    }

    /// Wraps a point computed by aggregation; rejects infinity, which would
    /// make the identity signature verify for every message.
    pub(crate) fn from_aggregate(agg: &AggregatePublicKey) -> Result<Self, BlsError> {
        let point = agg.to_public_key();
        let bytes = point.compress();
        if is_compressed_infinity(&bytes) {
            return Err(BlsError::InvalidPublicKey(
                "aggregate is the point at infinity".to_owned(),
            ));
        }
        Ok(BlsPublicKey { bytes, point })
    }

    /// Verifies `signature` on `message`.
    pub fn verify(&self, message: &[u8], signature: &BlsSignature) -> Result<(), BlsError> {
        let sig = signature.decompress()?;
        // The key was validated on construction; the signature just above.
        match sig.verify(false, message, DST, &[], &self.point, false) {
            BLST_ERROR::BLST_SUCCESS => Ok(()),
            _ => Err(BlsError::VerificationFailed),
        }
    }
}

/// Compressed G1 infinity is `0xc0` followed by zeros.
fn is_compressed_infinity(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0xc0) && bytes[1..].iter().all(|&b| b == 0)
}

/// A compressed BLS12-381 signature (96 bytes), not yet validated: it is
/// checked (subgroup, not infinity) whenever it is verified or aggregated,
/// so bytes from the network can be carried around before that.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlsSignature(pub [u8; SIGNATURE_LENGTH]);

impl std::fmt::Debug for BlsSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlsSignature({})", hex::encode(self.0))
    }
}

impl BlsSignature {
    /// From a byte slice of exactly 96 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BlsError> {
        let arr: [u8; SIGNATURE_LENGTH] = bytes.try_into().map_err(|_| {
            BlsError::InvalidSignature(format!(
                "{} bytes, expected {SIGNATURE_LENGTH}",
                bytes.len()
            ))
        })?;
        Ok(BlsSignature(arr))
    }

    /// Decompresses with subgroup and infinity checks.
    pub fn validate(&self) -> Result<(), BlsError> {
        self.decompress().map(|_| ())
    }

    fn decompress(&self) -> Result<Signature, BlsError> {
        if self.0[0] & 0x80 == 0 {
            return Err(BlsError::InvalidSignature(
                "not in compressed form".to_owned(),
            ));
        }
        Signature::sig_validate(&self.0, true)
            .map_err(|e| BlsError::InvalidSignature(blst_reason(e)))
    }
}

/// Aggregates signatures (on the same or different messages) into one.
/// Every input is validated first.
pub fn aggregate_signatures(signatures: &[BlsSignature]) -> Result<BlsSignature, BlsError> {
    if signatures.is_empty() {
        return Err(BlsError::EmptyAggregate);
    }
    let points = signatures
        .iter()
        .map(BlsSignature::decompress)
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&Signature> = points.iter().collect();
    let agg = AggregateSignature::aggregate(&refs, false)
        .map_err(|e| BlsError::InvalidSignature(blst_reason(e)))?;
    Ok(BlsSignature(agg.to_signature().compress()))
}

/// Sums public keys; errors on an empty list or an infinity result.
pub fn aggregate_public_keys(keys: &[BlsPublicKey]) -> Result<BlsPublicKey, BlsError> {
    if keys.is_empty() {
        return Err(BlsError::EmptyAggregate);
    }
    let refs: Vec<&PublicKey> = keys.iter().map(BlsPublicKey::point).collect();
    let agg = AggregatePublicKey::aggregate(&refs, false)
        .map_err(|e| BlsError::InvalidPublicKey(blst_reason(e)))?;
    BlsPublicKey::from_aggregate(&agg)
}

/// Verifies an aggregate signature by `keys` on one shared `message`.
pub fn verify_aggregate(
    keys: &[BlsPublicKey],
    message: &[u8],
    signature: &BlsSignature,
) -> Result<(), BlsError> {
    aggregate_public_keys(keys)?.verify(message, signature)
}

// Serde: human-readable formats (JSON) use standard base64 like fastcrypto;
// binary formats (BCS) write the fixed-size bytes without a length prefix.

fn serialize_fixed<S: Serializer, const N: usize>(
    bytes: &[u8; N],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    if serializer.is_human_readable() {
        serializer.serialize_str(&STANDARD.encode(bytes))
    } else {
        let mut tuple = serializer.serialize_tuple(N)?;
        for byte in bytes {
            tuple.serialize_element(byte)?;
        }
        tuple.end()
    }
}

struct FixedBytesVisitor<const N: usize>;

impl<'de, const N: usize> serde::de::Visitor<'de> for FixedBytesVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = [0u8; N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
        }
        Ok(out)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let raw = STANDARD.decode(s).map_err(E::custom)?;
        let len = raw.len();
        raw.try_into().map_err(|_| E::invalid_length(len, &self))
    }
}

fn deserialize_fixed<'de, D: Deserializer<'de>, const N: usize>(
    deserializer: D,
) -> Result<[u8; N], D::Error> {
    if deserializer.is_human_readable() {
        deserializer.deserialize_str(FixedBytesVisitor::<N>)
    } else {
        deserializer.deserialize_tuple(N, FixedBytesVisitor::<N>)
    }
}

impl Serialize for BlsPublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_fixed(&self.bytes, serializer)
    }
}

impl<'de> Deserialize<'de> for BlsPublicKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes: [u8; PUBLIC_KEY_LENGTH] = deserialize_fixed(deserializer)?;
        BlsPublicKey::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

impl Serialize for BlsSignature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_fixed(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for BlsSignature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize_fixed(deserializer).map(BlsSignature)
    }
}
