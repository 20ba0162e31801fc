#[test_only]
module floe::metadata_tests;

use floe::metadata;
use std::string::{Self, String};

fun s(bytes: vector<u8>): String { string::utf8(bytes) }

#[test]
fun insert_update_and_remove() {
    let mut m = metadata::new();
    m.insert_or_update(s(b"a"), s(b"1"));
    m.insert_or_update(s(b"b"), s(b"2"));
    m.insert_or_update(s(b"a"), s(b"3"));
    assert!(m.metadata().length() == 2);
    assert!(m.metadata().get(&s(b"a")) == &s(b"3"));
    let (key, value) = m.remove(&s(b"a"));
    assert!(key == s(b"a") && value == s(b"3"));
    let missing = m.remove_if_exists(&s(b"a"));
    assert!(missing.is_none());
    assert!(m.remove_if_exists(&s(b"b")) == option::some(s(b"2")));
    assert!(m.metadata().is_empty());
}
