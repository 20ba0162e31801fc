//! Signed messages and certificates.
//!
//! A [`SignedMessage`] is one node's signature over serialized message bytes
//! (what a storage node returns for a confirmation). A
//! [`ProtocolMessageCertificate`] aggregates the signatures of several nodes
//! over byte-identical messages and lists the signers as indices into the
//! committee's member list; [`crate::committee::Committee`] verifies it the
//! way the contract does.
//!
//! JSON form (as Walrus nodes send it): `{"serializedMessage": base64,
//! "signature": base64}`; binary form: BCS with the message as a
//! length-prefixed byte vector and the signature as 96 fixed bytes.

use std::marker::PhantomData;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::storage_confirmation::StorageConfirmationBody;
use super::{InvalidBlobIdBody, MessageBody, MessageError, ProtocolMessage};
use crate::bls::{BlsError, BlsPublicKey, BlsSecretKey, BlsSignature, aggregate_signatures};

/// Serde for message bytes: base64 in JSON, byte vector in BCS.
mod message_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&STANDARD.encode(bytes))
        } else {
            serializer.serialize_bytes(bytes)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            STANDARD.decode(text).map_err(serde::de::Error::custom)
        } else {
            Vec::<u8>::deserialize(deserializer)
        }
    }
}

/// One node's signature over a serialized protocol message.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound = "")]
pub struct SignedMessage<T> {
    /// The signed bytes (a BCS [`ProtocolMessage<T>`]).
    #[serde(with = "message_bytes")]
    pub serialized_message: Vec<u8>,
    /// BLS signature over `serialized_message`.
    pub signature: BlsSignature,
    #[serde(skip)]
    body: PhantomData<fn() -> T>,
}

impl<T> Clone for SignedMessage<T> {
    fn clone(&self) -> Self {
        Self::new(self.serialized_message.clone(), self.signature)
    }
}

impl<T> PartialEq for SignedMessage<T> {
    fn eq(&self, other: &Self) -> bool {
        self.serialized_message == other.serialized_message && self.signature == other.signature
    }
}

impl<T> Eq for SignedMessage<T> {}

impl<T> std::fmt::Debug for SignedMessage<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedMessage")
            .field("serialized_message", &hex::encode(&self.serialized_message))
            .field("signature", &self.signature)
            .finish()
    }
}

impl<T> SignedMessage<T> {
    /// Wraps bytes and a signature without checking them.
    pub fn new(serialized_message: Vec<u8>, signature: BlsSignature) -> Self {
        SignedMessage {
            serialized_message,
            signature,
            body: PhantomData,
        }
    }
}

impl<T: MessageBody> SignedMessage<T> {
    /// Serializes and signs `message`.
    pub fn sign(secret: &BlsSecretKey, message: &ProtocolMessage<T>) -> Self {
        let bytes = message.to_bytes();
        let signature = secret.sign(&bytes);
        Self::new(bytes, signature)
    }

    /// Decodes the message (any epoch) and checks the signature.
    pub fn verify(&self, public_key: &BlsPublicKey) -> Result<ProtocolMessage<T>, MessageError> {
        let message = ProtocolMessage::<T>::from_bytes(&self.serialized_message)?;
        public_key.verify(&self.serialized_message, &self.signature)?;
        Ok(message)
    }

    /// Decodes, checks epoch and contents, then (the costly part, last) the
    /// signature.
    pub fn verify_contents(
        &self,
        public_key: &BlsPublicKey,
        epoch: u32,
        expected: &T,
    ) -> Result<ProtocolMessage<T>, MessageError>
    where
        T: PartialEq,
    {
        let message = ProtocolMessage::<T>::from_bytes_in_epoch(&self.serialized_message, epoch)?;
        if &message.body != expected {
            return Err(MessageError::ContentMismatch);
        }
        public_key.verify(&self.serialized_message, &self.signature)?;
        Ok(message)
    }
}

/// Why a certificate could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateAssemblyError {
    /// No signed messages.
    #[error("no signed messages to aggregate")]
    Empty,
    /// The signers did not sign byte-identical messages.
    #[error("signed messages differ; only identical messages can be aggregated")]
    MessageMismatch,
    /// Signer index and message counts differ.
    #[error("{indices} signer indices for {messages} signed messages")]
    CountMismatch {
        /// Number of indices.
        indices: usize,
        /// Number of messages.
        messages: usize,
    },
    /// A signature was invalid.
    #[error(transparent)]
    Signature(#[from] BlsError),
}

/// An aggregate signature by several committee members over one message.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound = "")]
pub struct ProtocolMessageCertificate<T> {
    /// Indices of the signers in the committee's member list.
    pub signers: Vec<u16>,
    /// The certified bytes.
    #[serde(with = "message_bytes")]
    pub serialized_message: Vec<u8>,
    /// Aggregate signature.
    pub signature: BlsSignature,
    #[serde(skip)]
    body: PhantomData<fn() -> T>,
}

impl<T> Clone for ProtocolMessageCertificate<T> {
    fn clone(&self) -> Self {
        Self::new(
            self.signers.clone(),
            self.serialized_message.clone(),
            self.signature,
        )
    }
}

impl<T> PartialEq for ProtocolMessageCertificate<T> {
    fn eq(&self, other: &Self) -> bool {
        self.signers == other.signers
            && self.serialized_message == other.serialized_message
            && self.signature == other.signature
    }
}

impl<T> Eq for ProtocolMessageCertificate<T> {}

impl<T> std::fmt::Debug for ProtocolMessageCertificate<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtocolMessageCertificate")
            .field("signers", &self.signers)
            .field("serialized_message", &hex::encode(&self.serialized_message))
            .field("signature", &self.signature)
            .finish()
    }
}

impl<T> ProtocolMessageCertificate<T> {
    /// Wraps parts without checking them.
    pub fn new(signers: Vec<u16>, serialized_message: Vec<u8>, signature: BlsSignature) -> Self {
        ProtocolMessageCertificate {
            signers,
            serialized_message,
            signature,
            body: PhantomData,
        }
    }

    /// Aggregates signed messages from the members at `signer_indices`
    /// (same order). All messages must be byte-identical.
    pub fn from_signed_messages(
        messages: &[SignedMessage<T>],
        signer_indices: Vec<u16>,
    ) -> Result<Self, CertificateAssemblyError> {
        let first = messages.first().ok_or(CertificateAssemblyError::Empty)?;
        if signer_indices.len() != messages.len() {
            return Err(CertificateAssemblyError::CountMismatch {
                indices: signer_indices.len(),
                messages: messages.len(),
            });
        }
        if messages
            .iter()
            .any(|m| m.serialized_message != first.serialized_message)
        {
            return Err(CertificateAssemblyError::MessageMismatch);
        }
        let signatures: Vec<BlsSignature> = messages.iter().map(|m| m.signature).collect();
        let signature = aggregate_signatures(&signatures)?;
        Ok(Self::new(
            signer_indices,
            first.serialized_message.clone(),
            signature,
        ))
    }
}

/// A certificate over a storage confirmation (certifies a blob).
pub type ConfirmationCertificate = ProtocolMessageCertificate<StorageConfirmationBody>;
/// A certificate over an invalid-blob-id attestation.
pub type InvalidBlobCertificate = ProtocolMessageCertificate<InvalidBlobIdBody>;
