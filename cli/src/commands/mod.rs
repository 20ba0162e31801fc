//! One module per command.

pub mod blob_id;
pub mod ledger;
pub mod node;
