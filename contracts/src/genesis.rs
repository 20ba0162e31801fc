//! The floe part of the devnet genesis: the storage nodes of the first
//! committee, capacity, prices and ring length.
//!
//! It lives in the ledger's genesis file as a `[floe]` table (the ledger
//! knows nothing about floe and rejects unknown keys, so the CLI takes the
//! table out with [`split_genesis`] before handing the rest to the ledger):
//!
//! ```toml
//! [[accounts]]
//! address = "0x…"                  # pays gas; also the WAL init sender below
//! balance = 100_000_000_000
//!
//! [[packages]]                      # WAL first: floe's init does not need it,
//! address = "0x3a1"                 # but users need WAL to pay for storage
//! init_sender = "0x…"               # receives the whole WAL supply
//!
//! [[packages]]
//! address = "0xf10e"
//!
//! [[faucet_reserves]]               # optional: the faucet pays WAL from here
//! coin_type = "0x3a1::wal::WAL"     # (see `wal_faucet_reserve`); without it
//! from = "0x…"                      # WAL requests fail, as WAL is never minted
//! amount = 50_000_000_000_000_000
//!
//! [floe]
//! epoch = 0
//! max_epochs_ahead = 53
//! total_capacity_size = 1_000_000_000_000    # encoded bytes
//! storage_price_per_unit_size = 100_000      # FROST per MiB per epoch
//! write_price_per_unit_size = 20_000         # FROST per MiB, once
//!
//! [[floe.nodes]]
//! public_key = "a1b2…"              # 48-byte compressed BLS12-381 G1, hex
//! shards = 4
//! # node_id = "0x…"                 # default: blake2b256("floe-node" || key)
//! ```

use floe_core::bls::BlsPublicKey;
use floe_core::merkle::blake2b256;
use floe_core::move_types::ObjectId;
use serde::{Deserialize, Serialize};

/// Share of the WAL supply a devnet's faucet reserve receives: 1%, 50M
/// WAL, five million requests of the default 10 WAL.
pub const FAUCET_WAL_SHARE_BPS: u64 = 100;

/// The ledger genesis entry that moves [`FAUCET_WAL_SHARE_BPS`] of the WAL
/// supply from `holder` (the WAL package's init sender, which `wal::init`
/// gives the whole supply) to the ledger's faucet account. The faucet then
/// hands out existing WAL instead of minting, so the supply stays the one
/// minted at init.
pub fn wal_faucet_reserve(holder: sui_sdk_types::Address) -> floe_ledger::genesis::FaucetReserve {
    floe_ledger::genesis::FaucetReserve {
        coin_type: crate::util::wal_type().to_string(),
        from: holder,
        amount: crate::wal::wal::initial_supply() / 10_000 * FAUCET_WAL_SHARE_BPS,
    }
}

/// Bound on genesis committee size (u16 signer indices, sane genesis).
pub const MAX_GENESIS_NODES: usize = 1000;

/// Why the floe genesis section is unusable.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    #[error("genesis file: {0}")]
    Parse(String),
    #[error("storage node {index}: public key: {reason}")]
    Key { index: usize, reason: String },
    #[error("storage node {index}: node_id: {reason}")]
    NodeId { index: usize, reason: String },
    #[error("at most {MAX_GENESIS_NODES} genesis storage nodes")]
    TooManyNodes,
    #[error("two genesis storage nodes share node id {0}")]
    DuplicateNode(ObjectId),
}

/// One genesis storage node as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisNodeSpec {
    /// Compressed BLS public key, hex (with or without `0x`).
    pub public_key: String,
    /// Shards it holds (its weight).
    pub shards: u16,
    /// Node id; derived from the key when absent.
    #[serde(default)]
    pub node_id: Option<String>,
}

/// A parsed genesis storage node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisNode {
    pub node_id: ObjectId,
    pub public_key: BlsPublicKey,
    pub shards: u16,
}

/// The `[floe]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloeGenesis {
    #[serde(default)]
    pub epoch: u32,
    #[serde(default = "default_max_epochs_ahead")]
    pub max_epochs_ahead: u32,
    #[serde(default = "default_capacity")]
    pub total_capacity_size: u64,
    #[serde(default = "default_storage_price")]
    pub storage_price_per_unit_size: u64,
    #[serde(default = "default_write_price")]
    pub write_price_per_unit_size: u64,
    #[serde(default)]
    pub nodes: Vec<GenesisNodeSpec>,
}

fn default_max_epochs_ahead() -> u32 {
    53
}
fn default_capacity() -> u64 {
    1 << 40
}
fn default_storage_price() -> u64 {
    100_000
}
fn default_write_price() -> u64 {
    20_000
}

impl Default for FloeGenesis {
    fn default() -> Self {
        Self {
            epoch: 0,
            max_epochs_ahead: default_max_epochs_ahead(),
            total_capacity_size: default_capacity(),
            storage_price_per_unit_size: default_storage_price(),
            write_price_per_unit_size: default_write_price(),
            nodes: Vec::new(),
        }
    }
}

/// The default node id of a key: `blake2b256("floe-node" || key)`.
pub fn default_node_id(key: &BlsPublicKey) -> ObjectId {
    let mut input = b"floe-node".to_vec();
    input.extend_from_slice(key.as_bytes());
    ObjectId(blake2b256(&input))
}

impl FloeGenesis {
    /// The nodes, parsed and sorted by node id (the committee order).
    pub fn sorted_nodes(&self) -> Result<Vec<GenesisNode>, GenesisError> {
        if self.nodes.len() > MAX_GENESIS_NODES {
            return Err(GenesisError::TooManyNodes);
        }
        let mut nodes = Vec::with_capacity(self.nodes.len());
        for (index, spec) in self.nodes.iter().enumerate() {
            let hex_key = spec.public_key.trim_start_matches("0x");
            let bytes = hex::decode(hex_key).map_err(|e| GenesisError::Key {
                index,
                reason: e.to_string(),
            })?;
            let public_key = BlsPublicKey::from_bytes(&bytes).map_err(|e| GenesisError::Key {
                index,
                reason: e.to_string(),
            })?;
            let node_id = match &spec.node_id {
                Some(text) => {
                    text.parse()
                        .map_err(|e: floe_core::move_types::ObjectIdParseError| {
                            GenesisError::NodeId {
                                index,
                                reason: e.to_string(),
                            }
                        })?
                }
                None => default_node_id(&public_key),
            };
            nodes.push(GenesisNode {
                node_id,
                public_key,
                shards: spec.shards,
            });
        }
        nodes.sort_by_key(|n| n.node_id);
        if let Some(w) = nodes.windows(2).find(|w| w[0].node_id == w[1].node_id) {
            return Err(GenesisError::DuplicateNode(w[0].node_id));
        }
        Ok(nodes)
    }
}

/// Splits a genesis file into the ledger's part (text in the same format)
/// and the `[floe]` table, if any.
pub fn split_genesis(
    text: &str,
    json: bool,
) -> Result<(String, Option<FloeGenesis>), GenesisError> {
    let parse = |e: &dyn std::fmt::Display| GenesisError::Parse(e.to_string());
    if json {
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| parse(&e))?;
        let floe = value
            .as_object_mut()
            .and_then(|o| o.remove("floe"))
            .map(serde_json::from_value::<FloeGenesis>)
            .transpose()
            .map_err(|e| parse(&e))?;
        let rest = serde_json::to_string(&value).map_err(|e| parse(&e))?;
        if let Some(f) = &floe {
            f.sorted_nodes()?;
        }
        Ok((rest, floe))
    } else {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| parse(&e))?;
        let floe = table
            .remove("floe")
            .map(|v| v.try_into::<FloeGenesis>())
            .transpose()
            .map_err(|e| parse(&e))?;
        let rest = toml::to_string(&table).map_err(|e| parse(&e))?;
        if let Some(f) = &floe {
            f.sorted_nodes()?;
        }
        Ok((rest, floe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../devnet-genesis.example.toml");

    #[test]
    fn example_splits_and_parses() {
        let (rest, floe) = split_genesis(EXAMPLE, false).unwrap();
        let floe = floe.expect("[floe] table");
        assert!(!rest.contains("[floe]"));
        assert!(rest.contains("0xf10e"));
        let nodes = floe.sorted_nodes().unwrap();
        assert_eq!(nodes.len(), 4);
        assert!(nodes.windows(2).all(|w| w[0].node_id < w[1].node_id));
        assert_eq!(nodes.iter().map(|n| u32::from(n.shards)).sum::<u32>(), 10);
        // The ledger part, with its WAL faucet reserve, is a valid genesis.
        let ledger = floe_ledger::Genesis::parse(&rest, false).unwrap();
        let holder = ledger.accounts[0].address;
        assert_eq!(
            ledger.faucet_reserves,
            vec![wal_faucet_reserve(holder)]
                .into_iter()
                .map(|mut r| {
                    r.coin_type = "0x3a1::wal::WAL".into();
                    r
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn rejects_bad_nodes() {
        let bad_key = "[floe]\n[[floe.nodes]]\npublic_key = \"00\"\nshards = 1\n";
        assert!(matches!(
            split_genesis(bad_key, false),
            Err(GenesisError::Key { .. })
        ));
        let unknown = "[floe]\nbogus = 1\n";
        assert!(matches!(
            split_genesis(unknown, false),
            Err(GenesisError::Parse(_))
        ));
        let (rest, floe) = split_genesis("{\"chain_name\": \"x\"}", true).unwrap();
        assert!(floe.is_none());
        assert!(rest.contains("chain_name"));
    }
}
