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
//! # epoch_duration_ms = 3_600_000           # default: one hour
//! # first_epoch_start_ms = 1_760_000_000_000 # default: genesis clock + epoch_duration_ms
//!
//! [[floe.nodes]]
//! public_key = "a1b2…"              # 48-byte compressed BLS12-381 G1, hex
//! shards = 4
//! # name = "node-0"                 # default: "node-<index in this list>"
//! # network_address = "127.0.0.1:9100"   # host:port, no scheme; default: ""
//! # node_capacity = 1_000_000_000_000    # capacity vote; default: total_capacity_size
//! # commission_rate_bps = 0         # default 0 (at most 10_000)
//! # operator = "0x…"                # gets the StorageNodeCap; default: the
//! #                                 # floe package's init sender
//! ```
//!
//! Genesis creates one active pool per node (no stake) whose fresh object
//! id is the node's id (as on Walrus, so node ids are known only once
//! genesis ran: read them from the committee or the operator's
//! `StorageNodeCap`), shares `System` and `Staking` with the epoch-0
//! committee in node-id order (sequential shard ranges in that order), and
//! sends one `StorageNodeCap` per node to its operator.
//!
//! `network_address` is stored as Walrus stores it: `host:port`, without
//! a URL scheme (readers choose the scheme); it is checked here
//! ([`check_network_address`]).
//!
//! In Rust the per-node staking keys live in [`FloeGenesis::node_staking`]
//! (parallel to `nodes`), so `GenesisNodeSpec` keeps its two fields; the
//! file format has them inline in each `[[floe.nodes]]` entry.

use floe_core::bls::BlsPublicKey;
use floe_core::move_types::ObjectId;
use serde::{Deserialize, Serialize};

/// Share of the WAL supply a devnet's faucet reserve receives: 1%, 50M
/// WAL, five million requests of the default 10 WAL.
pub const FAUCET_WAL_SHARE_BPS: u64 = 100;

/// The WAL a devnet's faucet reserve receives: [`FAUCET_WAL_SHARE_BPS`] of
/// the supply. The ledger genesis entry (`[[faucet_reserves]]`, built by the
/// CLI, which wires contracts and ledger together) moves it from the WAL
/// package's init sender (which `wal::init` gives the whole supply) to the
/// ledger's faucet account. The faucet then hands out existing WAL instead
/// of minting, so the supply stays the one minted at init.
pub fn wal_faucet_reserve_amount() -> u64 {
    crate::wal::wal::initial_supply() / 10_000 * FAUCET_WAL_SHARE_BPS
}

/// The WAL coin type as a genesis file's `[[faucet_reserves]]` names it
/// (`wal::wal::WAL` at [`crate::WAL_PACKAGE_ID`]).
pub fn wal_coin_type() -> String {
    crate::util::wal_type().to_string()
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
    #[error("at most {MAX_GENESIS_NODES} genesis storage nodes")]
    TooManyNodes,
    #[error("storage nodes {first} and {second} share a public key")]
    DuplicateNode { first: usize, second: usize },
    #[error("storage node {index}: staking settings: {reason}")]
    Staking { index: usize, reason: String },
}

/// One genesis storage node: key and shards (its node id is its pool's
/// id, created at genesis). Its staking settings are the matching entry of
/// [`FloeGenesis::node_staking`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisNodeSpec {
    /// Compressed BLS public key, hex (with or without `0x`).
    pub public_key: String,
    /// Shards it holds (its weight).
    pub shards: u16,
}

/// The staking settings of one genesis node (each has a default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisNodeStaking {
    /// Node name; default `node-<index>`.
    pub name: Option<String>,
    /// Network address, `host:port` (no scheme); default empty.
    pub network_address: String,
    /// Capacity vote (encoded bytes); default the genesis total capacity.
    pub node_capacity: Option<u64>,
    /// Commission in basis points of the rewards (at most 10_000).
    pub commission_rate_bps: u16,
    /// Receives the `StorageNodeCap`; default the floe package's init
    /// sender. Hex address.
    pub operator: Option<String>,
}

/// A parsed genesis storage node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisNode {
    pub public_key: BlsPublicKey,
    pub shards: u16,
}

/// A parsed genesis storage node with its staking settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisStakingNode {
    pub node: GenesisNode,
    pub name: String,
    pub network_address: String,
    pub node_capacity: u64,
    pub commission_rate_bps: u16,
    /// `None`: the floe package's init sender.
    pub operator: Option<ObjectId>,
}

/// The `[floe]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FloeGenesisFile", into = "FloeGenesisFile")]
pub struct FloeGenesis {
    pub epoch: u32,
    pub max_epochs_ahead: u32,
    pub total_capacity_size: u64,
    pub storage_price_per_unit_size: u64,
    pub write_price_per_unit_size: u64,
    /// Epoch length (ms).
    pub epoch_duration_ms: u64,
    /// When epoch 0 may end (ms); default: the genesis clock plus
    /// `epoch_duration_ms`.
    pub first_epoch_start_ms: Option<u64>,
    pub nodes: Vec<GenesisNodeSpec>,
    /// Staking settings of `nodes[i]`; missing entries take the defaults.
    pub node_staking: Vec<GenesisNodeStaking>,
}

/// The `[floe]` table as written in the file (staking keys inline in each
/// node entry).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FloeGenesisFile {
    #[serde(default)]
    epoch: u32,
    #[serde(default = "default_max_epochs_ahead")]
    max_epochs_ahead: u32,
    #[serde(default = "default_capacity")]
    total_capacity_size: u64,
    #[serde(default = "default_storage_price")]
    storage_price_per_unit_size: u64,
    #[serde(default = "default_write_price")]
    write_price_per_unit_size: u64,
    #[serde(default = "default_epoch_duration")]
    epoch_duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_epoch_start_ms: Option<u64>,
    #[serde(default)]
    nodes: Vec<GenesisNodeFile>,
}

/// One `[[floe.nodes]]` entry as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenesisNodeFile {
    public_key: String,
    shards: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    network_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node_capacity: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    commission_rate_bps: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operator: Option<String>,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

impl TryFrom<FloeGenesisFile> for FloeGenesis {
    type Error = GenesisError;

    fn try_from(f: FloeGenesisFile) -> Result<Self, Self::Error> {
        let (nodes, node_staking) = f
            .nodes
            .into_iter()
            .map(|n| {
                (
                    GenesisNodeSpec {
                        public_key: n.public_key,
                        shards: n.shards,
                    },
                    GenesisNodeStaking {
                        name: n.name,
                        network_address: n.network_address,
                        node_capacity: n.node_capacity,
                        commission_rate_bps: n.commission_rate_bps,
                        operator: n.operator,
                    },
                )
            })
            .unzip();
        Ok(FloeGenesis {
            epoch: f.epoch,
            max_epochs_ahead: f.max_epochs_ahead,
            total_capacity_size: f.total_capacity_size,
            storage_price_per_unit_size: f.storage_price_per_unit_size,
            write_price_per_unit_size: f.write_price_per_unit_size,
            epoch_duration_ms: f.epoch_duration_ms,
            first_epoch_start_ms: f.first_epoch_start_ms,
            nodes,
            node_staking,
        })
    }
}

impl From<FloeGenesis> for FloeGenesisFile {
    fn from(g: FloeGenesis) -> Self {
        let mut staking = g.node_staking.into_iter();
        let nodes = g
            .nodes
            .into_iter()
            .map(|n| {
                let s = staking.next().unwrap_or_default();
                GenesisNodeFile {
                    public_key: n.public_key,
                    shards: n.shards,
                    name: s.name,
                    network_address: s.network_address,
                    node_capacity: s.node_capacity,
                    commission_rate_bps: s.commission_rate_bps,
                    operator: s.operator,
                }
            })
            .collect();
        FloeGenesisFile {
            epoch: g.epoch,
            max_epochs_ahead: g.max_epochs_ahead,
            total_capacity_size: g.total_capacity_size,
            storage_price_per_unit_size: g.storage_price_per_unit_size,
            write_price_per_unit_size: g.write_price_per_unit_size,
            epoch_duration_ms: g.epoch_duration_ms,
            first_epoch_start_ms: g.first_epoch_start_ms,
            nodes,
        }
    }
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
/// One hour.
pub const DEFAULT_EPOCH_DURATION_MS: u64 = 3_600_000;
fn default_epoch_duration() -> u64 {
    DEFAULT_EPOCH_DURATION_MS
}

impl Default for FloeGenesis {
    fn default() -> Self {
        Self {
            epoch: 0,
            max_epochs_ahead: default_max_epochs_ahead(),
            total_capacity_size: default_capacity(),
            storage_price_per_unit_size: default_storage_price(),
            write_price_per_unit_size: default_write_price(),
            epoch_duration_ms: default_epoch_duration(),
            first_epoch_start_ms: None,
            nodes: Vec::new(),
            node_staking: Vec::new(),
        }
    }
}

/// Longest `network_address` (a 253-character DNS name, `:` and a
/// five-digit port), as Walrus bounds it on chain.
pub const MAX_NETWORK_ADDRESS_LENGTH: usize = 259;

/// Checks a node's on-chain network address: `host:port` as Walrus stores
/// it (a DNS name or IPv4 address, or a bracketed IPv6 address, then a
/// port), no URL scheme or path, at most [`MAX_NETWORK_ADDRESS_LENGTH`]
/// bytes.
pub fn check_network_address(address: &str) -> Result<(), String> {
    if address.len() > MAX_NETWORK_ADDRESS_LENGTH {
        return Err(format!(
            "{} bytes, more than {MAX_NETWORK_ADDRESS_LENGTH}",
            address.len()
        ));
    }
    if address.contains("://") {
        return Err(format!(
            "{address:?} has a URL scheme; write host:port (readers choose http or https)"
        ));
    }
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("{address:?} is not host:port"))?;
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err()
    {
        return Err(format!(
            "{address:?}: port {port:?} is not a number up to 65535"
        ));
    }
    let valid_host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                })
        }
    };
    if !valid_host {
        return Err(format!(
            "{address:?}: {host:?} is not a host name or IP address"
        ));
    }
    Ok(())
}

impl FloeGenesis {
    /// The nodes in file order (the committee's order is the node ids',
    /// known once genesis ran).
    pub fn parsed_nodes(&self) -> Result<Vec<GenesisNode>, GenesisError> {
        Ok(self.staking_nodes()?.into_iter().map(|n| n.node).collect())
    }

    /// The nodes with their staking settings (defaults filled in), parsed,
    /// in file order. Public keys must differ; network addresses, when
    /// set, must be `host:port`.
    pub fn staking_nodes(&self) -> Result<Vec<GenesisStakingNode>, GenesisError> {
        if self.nodes.len() > MAX_GENESIS_NODES {
            return Err(GenesisError::TooManyNodes);
        }
        if self.node_staking.len() > self.nodes.len() {
            return Err(GenesisError::Parse(
                "more node_staking entries than nodes".into(),
            ));
        }
        let mut nodes: Vec<GenesisStakingNode> = Vec::with_capacity(self.nodes.len());
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
            if let Some(first) = nodes.iter().position(|n| n.node.public_key == public_key) {
                return Err(GenesisError::DuplicateNode {
                    first,
                    second: index,
                });
            }
            let staking = self.node_staking.get(index).cloned().unwrap_or_default();
            if u64::from(staking.commission_rate_bps) > 10_000 {
                return Err(GenesisError::Staking {
                    index,
                    reason: "commission_rate_bps above 10_000".into(),
                });
            }
            if !staking.network_address.is_empty() {
                check_network_address(&staking.network_address).map_err(|reason| {
                    GenesisError::Staking {
                        index,
                        reason: format!("network_address: {reason}"),
                    }
                })?;
            }
            let name = staking.name.unwrap_or_else(|| format!("node-{index}"));
            if name.len() > crate::floe::staking_pool::MAX_NODE_NAME_LENGTH {
                return Err(GenesisError::Staking {
                    index,
                    reason: format!(
                        "name longer than {} bytes",
                        crate::floe::staking_pool::MAX_NODE_NAME_LENGTH
                    ),
                });
            }
            let operator = staking
                .operator
                .as_deref()
                .map(|text| {
                    text.parse::<ObjectId>()
                        .map_err(|e: floe_core::move_types::ObjectIdParseError| e.to_string())
                })
                .transpose()
                .map_err(|reason| GenesisError::Staking { index, reason })?;
            nodes.push(GenesisStakingNode {
                node: GenesisNode {
                    public_key,
                    shards: spec.shards,
                },
                name,
                network_address: staking.network_address,
                node_capacity: staking.node_capacity.unwrap_or(self.total_capacity_size),
                commission_rate_bps: staking.commission_rate_bps,
                operator,
            });
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
            f.staking_nodes()?;
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
            f.staking_nodes()?;
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
        let nodes = floe.parsed_nodes().unwrap();
        assert_eq!(nodes.len(), 4);
        assert_eq!(
            nodes.iter().map(|n| n.shards).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert_eq!(nodes.iter().map(|n| u32::from(n.shards)).sum::<u32>(), 10);
        // That the rest is a valid ledger genesis with this crate's WAL
        // faucet reserve is checked where both meet, in the CLI
        // (`commands::ledger`'s tests).
        assert!(rest.contains("[[faucet_reserves]]"));
    }

    #[test]
    fn staking_keys_have_defaults_and_round_trip() {
        let (_, floe) = split_genesis(EXAMPLE, false).unwrap();
        let floe = floe.expect("[floe] table");
        assert_eq!(floe.epoch_duration_ms, DEFAULT_EPOCH_DURATION_MS);
        assert_eq!(floe.first_epoch_start_ms, None);
        let nodes = floe.staking_nodes().unwrap();
        assert!(
            nodes
                .iter()
                .all(|n| n.node_capacity == floe.total_capacity_size
                    && n.commission_rate_bps == 0
                    && n.operator.is_none()
                    && n.network_address.starts_with("127.0.0.1:")
                    && n.name.starts_with("node-"))
        );

        let text = "[floe]\nepoch_duration_ms = 2000\nfirst_epoch_start_ms = 5\n\
            [[floe.nodes]]\npublic_key = \"95a254501b7733239ed3cec4d56737977bd09ede881d8a234560e83e5525017add3b1dcc3eabfb85e12a4131b19c253b\"\n\
            shards = 3\nname = \"alpha\"\nnetwork_address = \"127.0.0.1:1\"\nnode_capacity = 7\n\
            commission_rate_bps = 250\noperator = \"0xab\"\n";
        let (_, floe) = split_genesis(text, false).unwrap();
        let floe = floe.unwrap();
        assert_eq!(
            (floe.epoch_duration_ms, floe.first_epoch_start_ms),
            (2000, Some(5))
        );
        let node = &floe.staking_nodes().unwrap()[0];
        assert_eq!(node.name, "alpha");
        assert_eq!(node.network_address, "127.0.0.1:1");
        assert_eq!((node.node_capacity, node.commission_rate_bps), (7, 250));
        assert_eq!(node.operator, Some("0xab".parse().unwrap()));
        // JSON round trip keeps everything (the CLI writes genesis as JSON).
        let json = serde_json::to_string(&floe).unwrap();
        assert_eq!(serde_json::from_str::<FloeGenesis>(&json).unwrap(), floe);

        let bad = text.replace("bps = 250", "bps = 10001");
        assert!(matches!(
            split_genesis(&bad, false),
            Err(GenesisError::Staking { .. })
        ));
        let unknown = text.replace("node_capacity", "bogus");
        assert!(matches!(
            split_genesis(&unknown, false),
            Err(GenesisError::Parse(_))
        ));
    }

    #[test]
    fn network_addresses_are_host_and_port() {
        for ok in [
            "127.0.0.1:9100",
            "node-1.example.com:443",
            "[::1]:8080",
            "localhost:1",
        ] {
            assert_eq!(check_network_address(ok), Ok(()), "{ok}");
        }
        let longest = format!("{}:65535", "a.".repeat(126) + "a");
        assert_eq!(longest.len(), MAX_NETWORK_ADDRESS_LENGTH);
        assert_eq!(check_network_address(&longest), Ok(()));
        for bad in [
            "http://127.0.0.1:9100",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            ":80",
            "host name:80",
            "host/path:80",
            "[::1:80",
            "-bad.example:80",
        ] {
            assert!(check_network_address(bad).is_err(), "{bad}");
        }
        let too_long = format!("a{longest}");
        assert!(
            check_network_address(&too_long)
                .unwrap_err()
                .contains("259")
        );

        let node = |address: &str| {
            format!(
                "[floe]\n[[floe.nodes]]\npublic_key = \"95a254501b7733239ed3cec4d56737977bd09ede881d8a234560e83e5525017add3b1dcc3eabfb85e12a4131b19c253b\"\nshards = 1\nnetwork_address = \"{address}\"\n"
            )
        };
        assert!(split_genesis(&node("127.0.0.1:9100"), false).is_ok());
        let err = split_genesis(&node("http://127.0.0.1:9100"), false).unwrap_err();
        assert!(
            matches!(&err, GenesisError::Staking { index: 0, reason } if reason.contains("scheme")),
            "{err}"
        );
    }

    #[test]
    fn node_ids_are_not_configurable_and_keys_are_unique() {
        let key = "95a254501b7733239ed3cec4d56737977bd09ede881d8a234560e83e5525017add3b1dcc3eabfb85e12a4131b19c253b";
        let with_id = format!(
            "[floe]\n[[floe.nodes]]\npublic_key = \"{key}\"\nshards = 1\nnode_id = \"0x1\"\n"
        );
        assert!(matches!(
            split_genesis(&with_id, false),
            Err(GenesisError::Parse(_))
        ));
        let twice = format!(
            "[floe]\n[[floe.nodes]]\npublic_key = \"{key}\"\nshards = 1\n\
             [[floe.nodes]]\npublic_key = \"{key}\"\nshards = 2\n"
        );
        assert!(matches!(
            split_genesis(&twice, false),
            Err(GenesisError::DuplicateNode {
                first: 0,
                second: 1
            })
        ));
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
