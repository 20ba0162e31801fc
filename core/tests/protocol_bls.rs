//! BLS12-381 min-pk: known-answer vectors produced by the official
//! implementation (`tests/data/bls-min-pk.json`, from `@mysten/walrus-wasm`,
//! i.e. fastcrypto), key handling, parsing errors, and cross-checks of our
//! signatures with `blst` called directly.

use blst::min_pk::{PublicKey, Signature};
use floe_core::bls::{
    BlsError, BlsPublicKey, BlsSecretKey, BlsSignature, DST, aggregate_public_keys,
    aggregate_signatures, verify_aggregate,
};

struct Vectors {
    msg: Vec<u8>,
    pks: Vec<BlsPublicKey>,
    sigs: Vec<BlsSignature>,
    agg: BlsSignature,
}

fn vectors() -> Vectors {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/bls-min-pk.json"
    ))
    .expect("vector file");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let bytes = |v: &serde_json::Value| hex::decode(v.as_str().expect("hex string")).expect("hex");
    Vectors {
        msg: bytes(&json["msg"]),
        pks: json["pks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| BlsPublicKey::from_bytes(&bytes(v)).expect("official pk parses"))
            .collect(),
        sigs: json["sigs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| BlsSignature::from_bytes(&bytes(v)).unwrap())
            .collect(),
        agg: BlsSignature::from_bytes(&bytes(&json["agg"])).unwrap(),
    }
}

#[test]
fn official_signatures_verify() {
    let v = vectors();
    assert_eq!(v.pks.len(), v.sigs.len());
    assert!(!v.pks.is_empty());
    for (pk, sig) in v.pks.iter().zip(&v.sigs) {
        pk.verify(&v.msg, sig).expect("official signature verifies");
        let mut other = v.msg.clone();
        other.push(0);
        assert_eq!(pk.verify(&other, sig), Err(BlsError::VerificationFailed));
    }
    // Signatures are not interchangeable between keys.
    assert!(v.pks[0].verify(&v.msg, &v.sigs[1]).is_err());
}

#[test]
fn our_aggregate_equals_official() {
    let v = vectors();
    assert_eq!(aggregate_signatures(&v.sigs).unwrap(), v.agg);
    verify_aggregate(&v.pks, &v.msg, &v.agg).unwrap();
    assert!(verify_aggregate(&v.pks[..2], &v.msg, &v.agg).is_err());
    let agg_pk = aggregate_public_keys(&v.pks).unwrap();
    agg_pk.verify(&v.msg, &v.agg).unwrap();
}

#[test]
fn our_signatures_verify_with_blst_directly() {
    let msg = vectors().msg;
    for seed in [[0u8; 32], [1; 32], [0xff; 32]] {
        let secret = BlsSecretKey::from_seed(&seed);
        let public = secret.public_key();
        let signature = secret.sign(&msg);
        // Independent check through blst's own API and the Walrus DST.
        let pk = PublicKey::key_validate(public.as_bytes()).unwrap();
        let sig = Signature::sig_validate(&signature.0, true).unwrap();
        assert_eq!(
            sig.verify(true, &msg, DST, &[], &pk, true),
            blst::BLST_ERROR::BLST_SUCCESS
        );
        assert_eq!(
            sig.verify(true, b"other", DST, &[], &pk, true),
            blst::BLST_ERROR::BLST_VERIFY_FAIL
        );
        // A different DST must not verify: the DST is really used.
        assert_ne!(
            sig.verify(
                true,
                &msg,
                b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_",
                &[],
                &pk,
                true
            ),
            blst::BLST_ERROR::BLST_SUCCESS
        );
        public.verify(&msg, &signature).unwrap();
    }
}

#[test]
fn seeds_are_deterministic_and_distinct() {
    let a = BlsSecretKey::from_seed(&[3; 32]);
    let b = BlsSecretKey::from_seed(&[3; 32]);
    let c = BlsSecretKey::from_seed(&[4; 32]);
    assert_eq!(a.public_key(), b.public_key());
    assert_ne!(a.public_key(), c.public_key());
    assert_eq!(a.sign(b"x"), b.sign(b"x"));
    let r1 = BlsSecretKey::generate().unwrap();
    let r2 = BlsSecretKey::generate().unwrap();
    assert_ne!(r1.public_key(), r2.public_key());
    assert!(!format!("{r1:?}").contains(&hex::encode(r1.to_bytes().as_ref())));
}

#[test]
fn key_files() {
    let secret = BlsSecretKey::from_seed(&[9; 32]);
    let text = secret.to_key_file_string();
    assert_eq!(text.len(), 44);
    let back = BlsSecretKey::from_key_file_string(&format!("{}\n", text.as_str())).unwrap();
    assert_eq!(back.public_key(), secret.public_key());

    // Walrus ProtocolKeyPair format: base64(0x04 || 32-byte secret).
    let walrus =
        BlsSecretKey::from_key_file_string("BBlm7tRefoPuaKoVoxVtnUBBDCfy+BGPREM8B6oSkOEj").unwrap();
    assert_eq!(
        hex::encode(walrus.to_bytes().as_ref()),
        "1966eed45e7e83ee68aa15a3156d9d40410c27f2f8118f44433c07aa1290e123"
    );

    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut raw = b64.decode(text.as_str()).unwrap();
    raw[0] = 0x02;
    assert!(matches!(
        BlsSecretKey::from_key_file_string(&b64.encode(&raw)),
        Err(BlsError::KeyFile(_))
    ));
    assert!(matches!(
        BlsSecretKey::from_key_file_string(&b64.encode(&raw[..20])),
        Err(BlsError::KeyFile(_))
    ));
    assert!(matches!(
        BlsSecretKey::from_key_file_string("not base64!"),
        Err(BlsError::KeyFile(_))
    ));
    // Zero and >= r scalars are rejected.
    let mut zero = vec![0x04];
    zero.extend_from_slice(&[0; 32]);
    assert!(BlsSecretKey::from_key_file_string(&b64.encode(&zero)).is_err());
    let mut big = vec![0x04];
    big.extend_from_slice(&[0xff; 32]);
    assert!(BlsSecretKey::from_key_file_string(&b64.encode(&big)).is_err());
}

/// A compressed G1 encoding of a curve point outside the prime-order
/// subgroup (almost every curve point is outside it).
fn g1_point_outside_subgroup() -> [u8; 48] {
    for counter in 0u32.. {
        let mut bytes = [0u8; 48];
        bytes[0] = 0x80; // compressed flag
        bytes[44..].copy_from_slice(&counter.to_be_bytes());
        if PublicKey::from_bytes(&bytes).is_ok() {
            return bytes;
        }
    }
    unreachable!()
}

#[test]
fn public_key_parsing_rejects_bad_points() {
    let good = BlsSecretKey::from_seed(&[1; 32]).public_key();
    assert_eq!(BlsPublicKey::from_bytes(good.as_bytes()), Ok(good));
    assert_eq!(
        BlsPublicKey::from_uncompressed(&good.to_uncompressed()),
        Ok(good)
    );
    assert!(matches!(
        BlsPublicKey::from_bytes(&good.as_bytes()[..47]),
        Err(BlsError::InvalidPublicKey(_))
    ));
    assert!(BlsPublicKey::from_bytes(&good.to_uncompressed()).is_err());

    let mut infinity = [0u8; 48];
    infinity[0] = 0xc0;
    let err = BlsPublicKey::from_bytes(&infinity).unwrap_err();
    assert!(err.to_string().contains("infinity"), "{err}");

    let outside = g1_point_outside_subgroup();
    let err = BlsPublicKey::from_bytes(&outside).unwrap_err();
    assert!(err.to_string().contains("subgroup"), "{err}");

    let mut not_on_curve = *good.as_bytes();
    not_on_curve[47] ^= 1;
    // Either off the curve or (rarely) another valid point; never `good`.
    assert_ne!(BlsPublicKey::from_bytes(&not_on_curve), Ok(good));

    assert!(aggregate_public_keys(&[]).is_err());
}

#[test]
fn signature_parsing_rejects_bad_points() {
    let secret = BlsSecretKey::from_seed(&[1; 32]);
    let public = secret.public_key();
    let mut infinity = [0u8; 96];
    infinity[0] = 0xc0;
    let sig = BlsSignature(infinity);
    assert!(matches!(sig.validate(), Err(BlsError::InvalidSignature(_))));
    assert!(matches!(
        public.verify(b"m", &sig),
        Err(BlsError::InvalidSignature(_))
    ));
    assert!(BlsSignature::from_bytes(&[0; 95]).is_err());
    assert!(aggregate_signatures(&[]).is_err());
    assert!(aggregate_signatures(&[secret.sign(b"a"), sig]).is_err());
    let mut uncompressed = secret.sign(b"m");
    uncompressed.0[0] &= 0x7f;
    assert!(uncompressed.validate().is_err());
}

#[test]
fn serde_forms() {
    let secret = BlsSecretKey::from_seed(&[1; 32]);
    let pk = secret.public_key();
    let sig = secret.sign(b"m");
    assert_eq!(bcs::to_bytes(&pk).unwrap(), pk.as_bytes().to_vec());
    assert_eq!(bcs::to_bytes(&sig).unwrap(), sig.0.to_vec());
    assert_eq!(bcs::from_bytes::<BlsPublicKey>(pk.as_bytes()).unwrap(), pk);
    let json = serde_json::to_string(&pk).unwrap();
    assert_eq!(serde_json::from_str::<BlsPublicKey>(&json).unwrap(), pk);
    let json = serde_json::to_string(&sig).unwrap();
    assert_eq!(serde_json::from_str::<BlsSignature>(&json).unwrap(), sig);
    let mut infinity = vec![0xc0];
    infinity.extend_from_slice(&[0; 47]);
    assert!(bcs::from_bytes::<BlsPublicKey>(&infinity).is_err());
}
