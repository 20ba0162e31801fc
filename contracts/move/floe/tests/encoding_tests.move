#[test_only]
module floe::encoding_tests;

use floe::encoding;
use floe::redstuff;
use floe::test_vectors;

#[test]
fun encoded_length_matches_rust() {
    assert!(encoding::encoded_blob_length(1000, 1, 10) == test_vectors::encoded_length_1000_n10());
    assert!(
        encoding::encoded_blob_length(1 << 30, 1, 1000) == test_vectors::encoded_length_1gib_n1000(),
    );
    assert!(redstuff::max_blob_size(10) == test_vectors::max_blob_size_n10());
}

#[test]
fun symbol_sizes_are_even_and_cover_the_blob() {
    // n = 10: f = 3, 4 primary and 7 secondary source symbols.
    let (primary, secondary) = redstuff::source_symbols(10);
    assert!(primary == 4 && secondary == 7);
    assert!(redstuff::max_byzantine(10) == 3);
    assert!(redstuff::symbol_size(0, 10) == 2);
    assert!(redstuff::symbol_size(28, 10) == 2);
    assert!(redstuff::symbol_size(29, 10) == 2);
    assert!(redstuff::symbol_size(57, 10) == 4);
    assert!(redstuff::symbol_size(redstuff::max_blob_size(10), 10) == 65_534);
    assert!(redstuff::metadata_size(10) == 672);
    // An empty blob still takes one (even) symbol per source symbol.
    assert!(encoding::encoded_blob_length(0, encoding::rs2(), 10) == 6940);
}

#[test, expected_failure(abort_code = encoding::EInvalidEncodingType)]
fun unknown_encoding_type_aborts() {
    encoding::encoded_blob_length(1000, 0, 10);
}

#[test, expected_failure(abort_code = redstuff::EBlobTooLarge)]
fun symbol_size_above_maximum_aborts() {
    redstuff::symbol_size(redstuff::max_blob_size(10) + 1, 10);
}

#[test, expected_failure(abort_code = redstuff::EBlobTooLarge)]
fun encoded_length_of_too_large_blob_aborts() {
    encoding::encoded_blob_length(redstuff::max_blob_size(1000) + 1, 1, 1000);
}
