//! Inconsistency proofs.
