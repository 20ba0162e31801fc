use super::*;

/// Known answers from the Sui CLI's own keytool tests
/// (`crates/sui/src/unit_tests/keytool_tests.rs`, `test_private_keys_import_export`):
/// a `sui.keystore` entry (base64 of flag || secret) and the address the Sui
/// CLI derives for it.
const SUI_VECTORS: &[(&str, &str)] = &[
    (
        "AJ3ZrjbuUbkSoDZMWMHyEzO82tLZGRGqEnImxRK+KFEC",
        "0x90f3e6d73b5730f16974f4df1d3441394ebae62186baf83608599f226455afa7",
    ),
    (
        "AO6oS+c4xZ9W7pTa6P1aaAgtRXntOFSNbsQBfabFYZvz",
        "0xfd233cd9a5dd7e577f16fa523427c75fbc382af1583c39fdf1c6747d2ed807a3",
    ),
];

#[test]
fn known_sui_entries_give_known_addresses() {
    for (entry, address) in SUI_VECTORS {
        let key = KeyPair::from_keystore_entry(entry).unwrap();
        assert_eq!(key.address().to_string(), *address);
        // The encoding round-trips byte for byte.
        assert_eq!(key.to_keystore_entry(), *entry);
    }
}

#[test]
fn reads_a_sui_cli_keystore_with_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sui.keystore");
    let entries: Vec<&str> = SUI_VECTORS.iter().map(|(e, _)| *e).collect();
    fs::write(&path, serde_json::to_string_pretty(&entries).unwrap()).unwrap();
    let second = KeyPair::from_keystore_entry(SUI_VECTORS[1].0).unwrap();
    let aliases = format!(
        r#"[{{"alias":"alice","public_key_base64":"{}"}}]"#,
        second.public_key_base64()
    );
    fs::write(dir.path().join("sui.aliases"), aliases).unwrap();

    let store = Keystore::open(&path).unwrap();
    assert_eq!(store.keys().len(), 2);
    assert_eq!(
        store.select(None).unwrap().address().to_string(),
        SUI_VECTORS[0].1
    );
    assert_eq!(
        store.select(Some("alice")).unwrap().address().to_string(),
        SUI_VECTORS[1].1
    );
    assert_eq!(
        store.select(Some(SUI_VECTORS[1].1)).unwrap().alias(),
        Some("alice")
    );
    assert!(matches!(
        store.select(Some("bob")),
        Err(KeystoreError::UnknownKey(_))
    ));
}

#[test]
fn round_trip_with_generated_keys_and_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("sui.keystore");
    let mut store = Keystore::open(&path).unwrap();
    assert!(matches!(store.select(None), Err(KeystoreError::Empty)));
    let a = store.generate(Some("first")).unwrap();
    let b = store.generate(None).unwrap();
    let c = store.generate(Some("third-key_3")).unwrap();
    assert_ne!(a, b);
    store.set_default("third-key_3").unwrap();
    assert_eq!(store.select(None).unwrap().address(), c);
    store.save().unwrap();

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for file in [path.clone(), Keystore::aliases_path(&path)] {
            let mode = fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }
    // No temp files left behind.
    let names: Vec<_> = fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let reread = Keystore::open(&path).unwrap();
    assert_eq!(reread.addresses(), vec![a, b, c]);
    assert_eq!(reread.select(Some("first")).unwrap().address(), a);
    assert_eq!(reread.select(Some("third-key_3")).unwrap().address(), c);
    assert_eq!(reread.keys()[1].alias(), None);
    // The file is the Sui CLI format: a JSON array of base64 strings.
    let raw: Vec<String> = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(raw.len(), 3);
    for entry in raw {
        let bytes = B64.decode(entry).unwrap();
        assert_eq!(bytes.len(), 33);
        assert_eq!(bytes[0], ED25519_FLAG);
    }
}

#[test]
fn malformed_files_say_which_entry_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sui.keystore");
    let check = |contents: &str, want_index: Option<usize>, want: &str| {
        fs::write(&path, contents).unwrap();
        let err = Keystore::open(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(want), "{text}");
        match (want_index, &err) {
            (Some(i), KeystoreError::BadEntry { index, .. }) => assert_eq!(*index, i),
            (None, KeystoreError::NotJsonArray { .. }) => {}
            _ => panic!("unexpected error {err:?}"),
        }
    };
    check("{}", None, "not a JSON array");
    check("not json", None, "not a JSON array");
    let good = SUI_VECTORS[0].0;
    check(
        &format!(r#"["{good}", 7]"#),
        Some(1),
        "expected a base64 string",
    );
    check(
        &format!(r#"["{good}", "!!!"]"#),
        Some(1),
        "not valid base64",
    );
    check(r#"[""]"#, Some(0), "empty entry");
    // 0x00 flag but only 31 key bytes.
    let short = B64.encode([0u8; 32]);
    check(&format!(r#"["{short}"]"#), Some(0), "31 key bytes");
    check(
        &format!(r#"["{good}", "{good}"]"#),
        Some(1),
        "duplicate key",
    );
}

#[test]
fn foreign_scheme_entries_are_preserved_but_not_selectable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sui.keystore");
    // A secp256k1 entry (flag 0x01) as the Sui CLI would write it.
    let mut secp = vec![0x01u8];
    secp.extend_from_slice(&[7u8; 32]);
    let secp = B64.encode(secp);
    let good = SUI_VECTORS[0].0;
    fs::write(&path, format!(r#"["{secp}", "{good}"]"#)).unwrap();
    let store = Keystore::open(&path).unwrap();
    assert_eq!(store.keys().len(), 1);
    store.save().unwrap();
    let raw: Vec<String> = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert!(raw.contains(&secp));
    assert!(raw.contains(&good.to_string()));
    assert!(KeyPair::from_keystore_entry(&secp).is_err());
}

#[test]
fn aliases_are_validated() {
    let mut store = Keystore::in_memory();
    store.generate(Some("ok")).unwrap();
    assert!(matches!(
        store.generate(Some("ok")),
        Err(KeystoreError::DuplicateAlias(_))
    ));
    for bad in ["", "1abc", "has space", "semi;colon"] {
        assert!(
            matches!(
                store.generate(Some(bad)),
                Err(KeystoreError::InvalidAlias { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(store.save().is_err());
}

#[test]
fn short_addresses_parse() {
    assert_eq!(parse_address("0x2"), Some(Address::TWO));
    assert_eq!(parse_address("2"), Some(Address::TWO));
    assert_eq!(parse_address("0x"), None);
    assert_eq!(parse_address("0xzz"), None);
    assert_eq!(parse_address(&format!("0x{}", "1".repeat(65))), None);
}
