//! BLS conformance helper for `scripts/conformance/bls.cjs`.
//!
//! `emit [--seed HEX32] [--keys N] [--epoch E]` prints JSON with floe's
//! public keys, signatures on a message, their aggregate, a proof of
//! possession and a certificate over a storage confirmation, for the
//! official implementation (`@mysten/walrus-wasm`) to check.
//!
//! `verify` reads JSON produced on the official side from stdin
//! (`{"sets": [{"name", "msg", "pks", "sigs", "agg"}]}`, hex strings, `agg`
//! aggregated by the official code) and checks that floe verifies every
//! signature, computes the same aggregate and verifies it; it exits 1 on
//! any mismatch.
//!
//! Key `i` is `BlsSecretKey::from_seed(seed with its first 4 bytes, read
//! little-endian, plus i)`.

use std::io::Read;
use std::process::ExitCode;

use floe_core::BlobId;
use floe_core::bls::{BlsPublicKey, BlsSecretKey, BlsSignature, aggregate_signatures};
use floe_core::committee::{Committee, CommitteeMember, RequiredWeight};
use floe_core::messages::{
    BlobPersistenceType, ConfirmationCertificate, ProtocolMessage, SignedMessage,
    StorageConfirmationBody, proof_of_possession,
};
use floe_core::move_types::ObjectId;
use serde_json::{Value, json};

fn key_seed(seed: &[u8; 32], i: u32) -> [u8; 32] {
    let mut out = *seed;
    let base = u32::from_le_bytes([seed[0], seed[1], seed[2], seed[3]]);
    out[..4].copy_from_slice(&base.wrapping_add(i).to_le_bytes());
    out
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn emit(args: &[String]) -> Result<Value, String> {
    let seed_hex = arg(args, "--seed")
        .unwrap_or("00000000000000000000000000000000000000000000000000000000000000f1");
    let seed: [u8; 32] = hex::decode(seed_hex)
        .map_err(|e| format!("--seed: {e}"))?
        .try_into()
        .map_err(|_| "--seed must be 32 bytes of hex".to_owned())?;
    let n: u32 = arg(args, "--keys")
        .unwrap_or("4")
        .parse()
        .map_err(|e| format!("--keys: {e}"))?;
    let epoch: u32 = arg(args, "--epoch")
        .unwrap_or("7")
        .parse()
        .map_err(|e| format!("--epoch: {e}"))?;
    if n < 2 {
        return Err("--keys must be at least 2".to_owned());
    }
    let keys: Vec<BlsSecretKey> = (0..n)
        .map(|i| BlsSecretKey::from_seed(&key_seed(&seed, i)))
        .collect();
    let msg = b"floe bls conformance".to_vec();
    let sigs: Vec<BlsSignature> = keys.iter().map(|k| k.sign(&msg)).collect();
    let agg = aggregate_signatures(&sigs).map_err(|e| e.to_string())?;

    let address = ObjectId([0x5a; 32]);
    let (pop_message, pop_signature) = proof_of_possession(&keys[0], epoch, address);

    // Certificate: a committee of all keys, signed by all but the last.
    let members = keys
        .iter()
        .enumerate()
        .map(|(i, k)| CommitteeMember {
            node_id: ObjectId(key_seed(&[0; 32], i as u32)),
            public_key: k.public_key(),
            weight: 1,
        })
        .collect();
    let committee = Committee::new(epoch, members).map_err(|e| e.to_string())?;
    let confirmation = ProtocolMessage::new(
        epoch,
        StorageConfirmationBody {
            blob_id: BlobId([0x42; 32]),
            blob_type: BlobPersistenceType::Deletable {
                object_id: ObjectId([0x24; 32]),
            },
        },
    );
    let signer_count = keys.len() - 1;
    let mut signed = Vec::new();
    let mut indices = Vec::new();
    for (index, member) in committee.members().iter().enumerate().take(signer_count) {
        let key = keys
            .iter()
            .find(|k| k.public_key() == member.public_key)
            .ok_or("member key not found")?;
        signed.push(SignedMessage::sign(key, &confirmation));
        indices.push(index as u16);
    }
    let certificate = ConfirmationCertificate::from_signed_messages(&signed, indices.clone())
        .map_err(|e| e.to_string())?;
    let weight = if committee.is_quorum(signer_count as u32) {
        RequiredWeight::Quorum
    } else {
        RequiredWeight::Validity
    };
    committee
        .verify_certificate(&certificate, weight)
        .map_err(|e| format!("floe rejects its own certificate: {e}"))?;
    let signer_pks: Vec<String> = indices
        .iter()
        .map(|&i| hex::encode(committee.members()[usize::from(i)].public_key.as_bytes()))
        .collect();

    Ok(json!({
        "seed": seed_hex,
        "msg": hex::encode(&msg),
        "pks": keys.iter().map(|k| hex::encode(k.public_key().as_bytes())).collect::<Vec<_>>(),
        "sigs": sigs.iter().map(|s| hex::encode(s.0)).collect::<Vec<_>>(),
        "agg": hex::encode(agg.0),
        "pop": {
            "epoch": epoch,
            "sui_address": hex::encode(address.0),
            "pk": hex::encode(keys[0].public_key().as_bytes()),
            "message": hex::encode(&pop_message),
            "signature": hex::encode(pop_signature.0),
        },
        "certificate": {
            "epoch": epoch,
            "blob_id": hex::encode([0x42; 32]),
            "object_id": hex::encode([0x24; 32]),
            "message": hex::encode(&certificate.serialized_message),
            "signers": indices,
            "signer_pks": signer_pks,
            "signature": hex::encode(certificate.signature.0),
        },
    }))
}

fn hex_field(value: &Value, field: &str) -> Result<Vec<u8>, String> {
    let text = value[field]
        .as_str()
        .ok_or_else(|| format!("missing string field {field}"))?;
    hex::decode(text).map_err(|e| format!("{field}: {e}"))
}

fn hex_list(value: &Value, field: &str) -> Result<Vec<Vec<u8>>, String> {
    value[field]
        .as_array()
        .ok_or_else(|| format!("missing array field {field}"))?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| format!("{field}: not a string"))
                .and_then(|s| hex::decode(s).map_err(|e| format!("{field}: {e}")))
        })
        .collect()
}

/// Checks one set; returns the failures.
fn verify_set(set: &Value) -> Result<Vec<String>, String> {
    let name = set["name"].as_str().unwrap_or("?").to_owned();
    let msg = hex_field(set, "msg")?;
    let pks = hex_list(set, "pks")?
        .iter()
        .map(|b| BlsPublicKey::from_bytes(b).map_err(|e| format!("{name}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let sigs = hex_list(set, "sigs")?
        .iter()
        .map(|b| BlsSignature::from_bytes(b).map_err(|e| format!("{name}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let agg = BlsSignature::from_bytes(&hex_field(set, "agg")?).map_err(|e| e.to_string())?;
    let mut failures = Vec::new();
    if pks.len() != sigs.len() || pks.is_empty() {
        failures.push(format!(
            "{name}: {} keys for {} signatures",
            pks.len(),
            sigs.len()
        ));
        return Ok(failures);
    }
    for (i, (pk, sig)) in pks.iter().zip(&sigs).enumerate() {
        if let Err(e) = pk.verify(&msg, sig) {
            failures.push(format!("{name}: signature {i} does not verify: {e}"));
        }
    }
    match aggregate_signatures(&sigs) {
        Ok(ours) if ours == agg => {}
        Ok(ours) => failures.push(format!(
            "{name}: aggregate differs: floe {} official {}",
            hex::encode(ours.0),
            hex::encode(agg.0)
        )),
        Err(e) => failures.push(format!("{name}: floe cannot aggregate: {e}")),
    }
    if let Err(e) = floe_core::bls::verify_aggregate(&pks, &msg, &agg) {
        failures.push(format!("{name}: official aggregate does not verify: {e}"));
    }
    let mut tampered = msg.clone();
    tampered.push(0xff);
    if floe_core::bls::verify_aggregate(&pks, &tampered, &agg).is_ok() {
        failures.push(format!("{name}: aggregate verifies on a tampered message"));
    }
    Ok(failures)
}

fn verify() -> Result<Vec<String>, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("stdin: {e}"))?;
    let json: Value = serde_json::from_str(&input).map_err(|e| format!("stdin JSON: {e}"))?;
    let sets = json["sets"].as_array().ok_or("missing \"sets\" array")?;
    if sets.is_empty() {
        return Err("no sets to verify".to_owned());
    }
    let mut failures = Vec::new();
    for set in sets {
        failures.extend(verify_set(set)?);
    }
    eprintln!(
        "floe verified {} official set(s): {} failure(s)",
        sets.len(),
        failures.len()
    );
    Ok(failures)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("emit") => match emit(&args[1..]) {
            Ok(value) => {
                println!("{value:#}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("emit: {e}");
                ExitCode::from(2)
            }
        },
        Some("verify") => match verify() {
            Ok(failures) if failures.is_empty() => ExitCode::SUCCESS,
            Ok(failures) => {
                for f in failures {
                    eprintln!("MISMATCH {f}");
                }
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("verify: {e}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!(
                "usage: bls_conformance emit [--seed HEX32] [--keys N] [--epoch E] | verify < official.json"
            );
            ExitCode::from(2)
        }
    }
}
