//! `[chain]` parsing, checks and the merge of configured and discovered
//! object ids.

use super::*;

const BASE: &str =
    "endpoints = [\"http://127.0.0.1:9000\"]\nwal_package = \"0x3a1\"\nfloe_package = \"0xf10e\"\n";

fn key(seed: u8) -> Bls12381PublicKey {
    sui_crypto::bls12381::Bls12381PrivateKey::new([seed; 32])
        .unwrap()
        .public_key()
}

fn parse(extra: &str) -> Result<ChainConfig, String> {
    let config: ChainConfig =
        toml::from_str(&format!("{BASE}{extra}")).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

#[test]
fn the_minimal_section_parses_and_trusts_on_first_use() {
    let config = parse("").unwrap();
    assert_eq!(config.wal_package, "0x3a1".parse().unwrap());
    assert_eq!(config.configured_ids(), None);
    assert!(matches!(config.trust().unwrap(), Trust::FirstUse));
    // The same section in the client's YAML.
    let yaml: ChainConfig = serde_yaml_ng::from_str(
        "endpoints: [\"http://127.0.0.1:9000\"]\nwal_package: \"0x3a1\"\nfloe_package: \"0xf10e\"\n",
    )
    .unwrap();
    assert_eq!(yaml, config);
}

#[test]
fn a_misspelled_or_unknown_key_is_an_error() {
    let typo = parse("sytem = \"0x1\"\n").unwrap_err();
    assert!(typo.contains("unknown field `sytem`"), "{typo}");
    let old = parse("committee_refresh_ms = 5\n").unwrap_err();
    assert!(old.contains("unknown field"), "{old}");
    let yaml = serde_yaml_ng::from_str::<ChainConfig>(
        "endpoint: [\"http://a:1\"]\nwal_package: \"0x3a1\"\nfloe_package: \"0xf10e\"\n",
    )
    .unwrap_err();
    assert!(yaml.to_string().contains("unknown field"), "{yaml}");
}

#[test]
fn bad_values_are_named() {
    let bad = toml::from_str::<ChainConfig>(&BASE.replace("0xf10e", "floe")).unwrap_err();
    assert!(bad.to_string().contains("floe_package"), "{bad}");
    let empty: ChainConfig =
        toml::from_str(&BASE.replace("[\"http://127.0.0.1:9000\"]", "[]")).unwrap();
    assert_eq!(empty.validate(), Err(ChainConfigError::NoEndpoints));
    for url in ["127.0.0.1:9000", "ftp://a:1", "http://"] {
        let config: ChainConfig =
            toml::from_str(&BASE.replace("http://127.0.0.1:9000", url)).unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("[chain] endpoints"), "{url}: {err}");
    }
    let not_a_key = parse("validator_keys = [\"abc\"]\n").unwrap_err();
    assert!(not_a_key.contains("validator_keys"), "{not_a_key}");
    let k = key(1);
    let twice = parse(&format!("validator_keys = [\"{k}\", \"{k}\"]\n")).unwrap_err();
    assert!(twice.contains("listed twice"), "{twice}");
    // 96 bytes that are not a point on the curve.
    let junk = Bls12381PublicKey::new([0xff; 96]);
    let off_curve = parse(&format!("validator_keys = [\"{junk}\"]\n")).unwrap_err();
    assert!(off_curve.contains("[chain] validator_keys"), "{off_curve}");
}

#[test]
fn pinned_keys_form_the_genesis_committee() {
    let (a, b) = (key(1), key(2));
    let config = parse(&format!("validator_keys = [\"{a}\", \"{b}\"]\n")).unwrap();
    let committee = config.pinned_committee().unwrap().unwrap();
    assert_eq!(committee.epoch, 0);
    assert_eq!(
        committee
            .members
            .iter()
            .map(|m| m.public_key)
            .collect::<Vec<_>>(),
        vec![a, b]
    );
    assert_eq!(
        committee.members.iter().map(|m| m.stake).sum::<u64>(),
        TOTAL_STAKE
    );
    match config.client_config().unwrap().trust {
        Trust::Committee(c) => assert_eq!(c, committee),
        other => panic!("expected the pinned committee, got {other:?}"),
    }
}

#[test]
fn partial_object_ids_override_the_discovered_ones() {
    let discovered = FloeIds {
        wal_package: "0x3a1".parse().unwrap(),
        floe_package: "0xf10e".parse().unwrap(),
        system: "0x51".parse().unwrap(),
        treasury: "0x7e".parse().unwrap(),
        staking: "0x5a".parse().unwrap(),
    };
    // Only `treasury` given: it wins, the other two are discovered.
    let config = parse("treasury = \"0x99\"\n").unwrap();
    assert_eq!(
        config.configured_ids(),
        None,
        "one id still needs discovery"
    );
    let merged = config.merge_ids(discovered);
    assert_eq!(merged.treasury, "0x99".parse().unwrap());
    assert_eq!(
        (merged.system, merged.staking),
        (discovered.system, discovered.staking)
    );
    // All three: nothing to discover.
    let all = parse("system = \"0x1\"\ntreasury = \"0x2\"\nstaking = \"0x3\"\n").unwrap();
    let ids = all.configured_ids().unwrap();
    assert_eq!(ids.staking, "0x3".parse().unwrap());
    assert_eq!(all.merge_ids(discovered), ids);
}

#[test]
fn round_trips_through_toml_and_yaml() {
    let mut config = parse("system = \"0x1\"\n").unwrap();
    config.validator_keys = vec![key(3)];
    let text = toml::to_string(&config).unwrap();
    assert!(
        !text.contains("treasury"),
        "absent ids are not written: {text}"
    );
    assert_eq!(toml::from_str::<ChainConfig>(&text).unwrap(), config);
    let yaml = serde_yaml_ng::to_string(&config).unwrap();
    assert_eq!(
        serde_yaml_ng::from_str::<ChainConfig>(&yaml).unwrap(),
        config
    );
}
