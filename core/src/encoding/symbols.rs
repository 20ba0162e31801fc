//! Recovery and decoding symbols (filled in below).
