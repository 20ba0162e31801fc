//! One module per command.

pub mod blob_id;
pub mod client;
pub mod coordinator;
pub mod devnet;
pub mod explorer;
pub mod governance;
pub mod governance_votes;
pub mod indexer;
pub mod ledger;
pub mod node;
pub mod node_operator;
pub mod payments;
pub mod subsidies;
