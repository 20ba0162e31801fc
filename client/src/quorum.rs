//! Collecting storage confirmations to a quorum and aggregating them into
//! the certificate `certify_blob` takes.
//!
//! Each answer is checked before it counts: the message must be the exact
//! confirmation expected (epoch, blob id, permanent or this deletable
//! object) and the BLS signature must verify under the member's key from
//! the on-chain committee. A node that lies (wrong blob, wrong epoch,
//! someone else's signature) is recorded as failed and contributes no
//! weight, so f lying nodes cannot forge or block a certificate while a
//! quorum is honest.

use floe_chain::floe::calls::CertificateArgs;
use floe_core::committee::{Committee, signers_to_bitmap};
use floe_core::messages::storage_confirmation::{Confirmation, StorageConfirmationBody};
use floe_core::messages::{ConfirmationCertificate, SignedMessage};

/// Accumulates verified confirmations by committee member.
#[derive(Debug)]
pub struct ConfirmationCollector<'a> {
    committee: &'a Committee,
    expected: Confirmation,
    signed: Vec<(u16, SignedMessage<StorageConfirmationBody>)>,
    weight: u32,
    failures: Vec<(usize, String)>,
}

impl<'a> ConfirmationCollector<'a> {
    /// Expects `body` signed for the committee's epoch.
    pub fn new(committee: &'a Committee, body: StorageConfirmationBody) -> Self {
        Self {
            committee,
            expected: Confirmation::new(committee.epoch(), body),
            signed: Vec::new(),
            weight: 0,
            failures: Vec::new(),
        }
    }

    /// Records member `index`'s answer; a confirmation counts only if it
    /// verifies. Returns whether the collected weight is now a quorum.
    pub fn add(
        &mut self,
        index: usize,
        answer: Result<SignedMessage<StorageConfirmationBody>, String>,
    ) -> bool {
        let Some(member) = self.committee.members().get(index) else {
            self.failures
                .push((index, "not a committee member".to_owned()));
            return self.is_quorum();
        };
        let Ok(index16) = u16::try_from(index) else {
            self.failures.push((index, "member index above u16".into()));
            return self.is_quorum();
        };
        if self.signed.iter().any(|(i, _)| *i == index16) {
            // A second answer from the same member must not count twice.
            return self.is_quorum();
        }
        let signed = match answer {
            Ok(signed) => signed,
            Err(reason) => {
                self.failures.push((index, reason));
                return self.is_quorum();
            }
        };
        match signed.verify_contents(&member.public_key, self.expected.epoch, &self.expected.body) {
            Ok(_) => {
                self.weight += u32::from(member.weight);
                self.signed.push((index16, signed));
            }
            Err(e) => self
                .failures
                .push((index, format!("invalid confirmation: {e}"))),
        }
        self.is_quorum()
    }

    /// Whether the verified weight is a quorum (`3w >= 2n + 1`).
    pub fn is_quorum(&self) -> bool {
        self.committee.is_quorum(self.weight)
    }

    /// Shards of the members whose confirmations verified.
    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// Members that failed, with why.
    pub fn failures(&self) -> &[(usize, String)] {
        &self.failures
    }

    /// Aggregates the verified confirmations (signers in committee order).
    pub fn certificate(&self) -> Result<ConfirmationCertificate, String> {
        if !self.is_quorum() {
            return Err(format!(
                "confirmations from {} of {} shards are not a quorum",
                self.weight,
                self.committee.n_shards()
            ));
        }
        let mut signed = self.signed.clone();
        signed.sort_by_key(|(i, _)| *i);
        let (indices, messages): (Vec<u16>, Vec<_>) = signed.into_iter().unzip();
        ConfirmationCertificate::from_signed_messages(&messages, indices)
            .map_err(|e| format!("aggregating confirmations: {e}"))
    }
}

/// The certificate in the form `certify_blob` takes.
pub fn certificate_args(
    certificate: &ConfirmationCertificate,
    n_members: usize,
) -> Result<CertificateArgs, String> {
    Ok(CertificateArgs {
        signature: certificate.signature.0.to_vec(),
        signers_bitmap: signers_to_bitmap(&certificate.signers, n_members)
            .map_err(|e| format!("signer bitmap: {e}"))?,
        message: certificate.serialized_message.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use floe_core::BlobId;
    use floe_core::bls::BlsSecretKey;
    use floe_core::committee::{CommitteeMember, RequiredWeight};
    use floe_core::messages::BlobPersistenceType;
    use floe_core::move_types::ObjectId;

    /// Four members weighing 1, 2, 3, 4 shards (n = 10, quorum 7).
    fn committee() -> (Committee, Vec<BlsSecretKey>) {
        let keys: Vec<BlsSecretKey> = (1..=4u8)
            .map(|i| BlsSecretKey::from_seed(&[i; 32]))
            .collect();
        let members = keys
            .iter()
            .enumerate()
            .map(|(i, k)| CommitteeMember {
                node_id: ObjectId([i as u8 + 1; 32]),
                public_key: k.public_key(),
                weight: i as u16 + 1,
            })
            .collect();
        (Committee::new(5, members).unwrap(), keys)
    }

    fn body(blob: u8) -> StorageConfirmationBody {
        StorageConfirmationBody {
            blob_id: BlobId([blob; 32]),
            blob_type: BlobPersistenceType::Deletable {
                object_id: ObjectId([9; 32]),
            },
        }
    }

    fn sign(
        key: &BlsSecretKey,
        epoch: u32,
        body: StorageConfirmationBody,
    ) -> SignedMessage<StorageConfirmationBody> {
        SignedMessage::sign(key, &Confirmation::new(epoch, body))
    }

    #[test]
    fn lying_and_faulty_nodes_do_not_count_and_honest_quorum_certifies() {
        let (committee, keys) = committee();
        let mut c = ConfirmationCollector::new(&committee, body(1));
        // Member 3 (4 shards) signs another blob; member 2 (3 shards) signs
        // the right message in the wrong epoch; member 0 signs with
        // member 1's key.
        assert!(!c.add(3, Ok(sign(&keys[3], 5, body(2)))));
        assert!(!c.add(2, Ok(sign(&keys[2], 4, body(1)))));
        assert!(!c.add(0, Ok(sign(&keys[1], 5, body(1)))));
        assert!(!c.add(1, Err("unreachable".into())));
        assert_eq!(c.weight(), 0);
        assert_eq!(c.failures().len(), 4);
        assert!(c.certificate().is_err(), "no quorum, no certificate");

        // The honest answers: 1 + 3 + 4 = 8 >= 7.
        assert!(!c.add(0, Ok(sign(&keys[0], 5, body(1)))));
        assert!(
            !c.add(0, Ok(sign(&keys[0], 5, body(1)))),
            "a repeat counts once"
        );
        assert_eq!(c.weight(), 1);
        assert!(!c.add(2, Ok(sign(&keys[2], 5, body(1)))));
        assert!(c.add(3, Ok(sign(&keys[3], 5, body(1)))));
        let cert = c.certificate().unwrap();
        assert_eq!(cert.signers, vec![0, 2, 3]);
        let certified = committee
            .verify_certificate(&cert, RequiredWeight::Quorum)
            .unwrap();
        assert_eq!(certified.message.body, body(1));

        let args = certificate_args(&cert, committee.n_members()).unwrap();
        assert_eq!(args.signers_bitmap, vec![0b1101]);
        assert_eq!(args.message, cert.serialized_message);
        assert_eq!(args.signature.len(), 96);
    }

    #[test]
    fn unknown_members_are_failures() {
        let (committee, keys) = committee();
        let mut c = ConfirmationCollector::new(&committee, body(1));
        assert!(!c.add(7, Ok(sign(&keys[0], 5, body(1)))));
        assert_eq!(c.failures()[0].0, 7);
    }
}
