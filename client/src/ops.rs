//! Chain-side blob management (delete, extend, share, fund, attributes,
//! listing), system information and the wallet.

use std::collections::BTreeMap;

use floe_chain::sui_sdk_types::{Address, TypeTag};
use floe_core::move_types::{DynamicField, EpochState, Metadata};
use floe_core::{BlobId, EncodingConfig, price};
use serde::Serialize;

use crate::client::{Client, ensure_success};
use crate::error::{ClientError, Result};
use crate::types::{BlobObject, Cost};

/// The dynamic-field key under which a blob's attributes live.
const ATTRIBUTES_KEY: &[u8] = b"metadata";
/// Largest faucet answer read.
const MAX_FAUCET_ANSWER: usize = 64 << 10;

/// System information (`floe info`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemInfo {
    pub epoch: u32,
    /// Where the epoch change stands: `EpochChangeDone`,
    /// `NextParamsSelected` (next committee chosen) or `EpochChangeSync`
    /// (nodes are syncing shards for `epoch`).
    pub epoch_state: String,
    /// When the current epoch started (ms since the Unix epoch), once its
    /// change is done.
    pub epoch_start_ms: Option<u64>,
    /// When the next epoch change may start (ms), if known.
    pub next_epoch_change_ms: Option<u64>,
    /// Nominal epoch length (ms).
    pub epoch_duration_ms: u64,
    pub n_shards: u16,
    /// Largest blob the committee can encode.
    pub max_blob_size: u64,
    /// How far ahead storage can be bought.
    pub max_epochs_ahead: u32,
    /// FROST per MiB of encoded size per epoch.
    pub storage_price_per_unit_size: u64,
    /// FROST per MiB of encoded size, once.
    pub write_price_per_unit_size: u64,
    pub total_capacity_size: u64,
    pub used_capacity_size: u64,
    pub committee: Vec<MemberInfo>,
}

/// One committee member.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub node_id: String,
    /// The node's name from its staking pool (`None` if unreadable).
    pub name: Option<String>,
    /// WAL (FROST) in its pool: active stake with rewards, plus stake
    /// waiting to activate (withdrawals not yet processed included).
    pub stake: Option<u64>,
    /// Commission on rewards, basis points.
    pub commission_rate_bps: Option<u16>,
    pub public_key: String,
    pub shards: Vec<u16>,
    /// The node's on-chain address from its pool, `host:port` as Walrus
    /// stores it (no scheme); `None` if the pool is unreadable.
    pub network_address: Option<String>,
    /// Where the client sends the node's requests: the scheme of the
    /// `discovery` settings in front of `network_address`, or a
    /// `node_overrides` entry; `None` if neither gives a usable URL.
    pub url: Option<String>,
    /// Whether `url` comes from `node_overrides` instead of the chain.
    pub url_overridden: bool,
    /// Why the on-chain address gives no URL (malformed, empty), if so.
    pub endpoint_error: Option<String>,
}

/// Encoded size and price of storing `size` bytes for `epochs`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostEstimate {
    pub unencoded_size: u64,
    pub encoded_size: u64,
    pub epochs: u32,
    pub cost: Cost,
}

/// The wallet's balances.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletBalance {
    pub address: Address,
    /// MIST.
    pub sui: u64,
    /// FROST.
    pub wal: u64,
}

impl Client {
    /// Epoch, prices, committee, limits.
    pub async fn system_info(&self) -> Result<SystemInfo> {
        let state = self.floe.system_state().await?;
        let epoch = self.floe.epoch_status().await?;
        let nodes = self.node_set().await?;
        // Cached by `node_set` a moment ago.
        let endpoints = self
            .endpoints
            .current(Some(nodes.committee.epoch()))
            .await?;
        let mut committee = Vec::with_capacity(nodes.committee.n_members());
        for (i, m) in nodes.committee.members().iter().enumerate() {
            // The pool adds what operators and stakers look for; a node
            // whose pool cannot be read is still listed.
            let pool = self.floe.pool(m.node_id).await.ok();
            let endpoint = endpoints.by_node(&m.node_id);
            committee.push(MemberInfo {
                node_id: m.node_id.to_string(),
                name: pool.as_ref().map(|p| p.node_info.name.clone()),
                stake: pool.as_ref().map(|p| {
                    let pending: u64 = p.pending_stake.pos0.contents.iter().map(|e| e.value).sum();
                    p.wal_balance.saturating_add(pending)
                }),
                commission_rate_bps: pool.as_ref().map(|p| p.commission_rate),
                public_key: m.public_key.to_string(),
                shards: nodes.shards_of(i).to_vec(),
                network_address: pool
                    .as_ref()
                    .map(|p| p.node_info.network_address.clone())
                    .filter(|a| !a.is_empty()),
                url: nodes.nodes[i]
                    .as_ref()
                    .map(|n| n.url().trim_end_matches('/').to_owned()),
                url_overridden: endpoint.is_some_and(|e| e.overridden),
                endpoint_error: match endpoint {
                    Some(e) => e.url.as_ref().err().map(ToString::to_string),
                    None => Some("no readable staking pool".to_owned()),
                },
            });
        }
        Ok(SystemInfo {
            epoch: state.committee.epoch,
            epoch_state: match epoch.state {
                EpochState::EpochChangeDone(_) => "EpochChangeDone",
                EpochState::NextParamsSelected(_) => "NextParamsSelected",
                EpochState::EpochChangeSync(_) => "EpochChangeSync",
            }
            .to_owned(),
            epoch_start_ms: epoch.state.epoch_start_ms().filter(|_| epoch.epoch > 0),
            next_epoch_change_ms: epoch.expected_end_ms(),
            epoch_duration_ms: epoch.epoch_duration_ms,
            n_shards: nodes.encoding.n_shards(),
            max_blob_size: nodes.encoding.max_blob_size(),
            max_epochs_ahead: state.future_accounting.length,
            storage_price_per_unit_size: state.storage_price_per_unit_size,
            write_price_per_unit_size: state.write_price_per_unit_size,
            total_capacity_size: state.total_capacity_size,
            used_capacity_size: state.used_capacity_size,
            committee,
        })
    }

    /// What storing `size` bytes for `epochs` costs now.
    pub async fn cost_of(&self, size: u64, epochs: u32) -> Result<CostEstimate> {
        let committee = self.floe.committee().await?;
        let config = EncodingConfig::new(committee.n_shards())?;
        let encoded_size = config.encoded_blob_length(size)?;
        let prices = self.floe.prices().await?;
        Ok(CostEstimate {
            unencoded_size: size,
            encoded_size,
            epochs,
            cost: Cost {
                storage: price::storage_cost(
                    encoded_size,
                    prices.storage_price_per_unit_size,
                    epochs,
                )?,
                write: price::write_cost(encoded_size, prices.write_price_per_unit_size)?,
            },
        })
    }

    /// `Blob` objects the wallet owns.
    pub async fn list_blobs(&self) -> Result<Vec<BlobObject>> {
        let owned = self.floe.owned_blobs(self.address()?).await?;
        let mut out: Vec<BlobObject> = owned
            .iter()
            .map(|(_, b)| BlobObject::from_move(b))
            .collect();
        out.sort_by_key(|b| (b.registered_epoch, b.id));
        Ok(out)
    }

    /// One blob object by id.
    pub async fn blob_object(&self, id: Address) -> Result<BlobObject> {
        Ok(BlobObject::from_move(&self.floe.blob(id).await?))
    }

    /// The wallet's objects for `blob_id`.
    pub async fn owned_objects_of(&self, blob_id: &BlobId) -> Result<Vec<BlobObject>> {
        Ok(self
            .list_blobs()
            .await?
            .into_iter()
            .filter(|b| b.blob_id == *blob_id)
            .collect())
    }

    /// Deletes a deletable blob object; its storage returns to the wallet.
    pub async fn delete_blob(&self, object: Address) -> Result<BlobObject> {
        let blob = self.blob_object(object).await?;
        if !blob.deletable {
            return Err(ClientError::Invalid(format!(
                "blob object {object} is permanent and cannot be deleted"
            )));
        }
        let _tx = self.tx_guard().await;
        let tx = self.floe.delete_blob(self.wallet()?, object).await?;
        ensure_success(&tx)?;
        Ok(blob)
    }

    /// Extends a blob object by `epochs`, paying storage from the wallet.
    /// Returns the updated object and what was paid.
    pub async fn extend_blob(&self, object: Address, epochs: u32) -> Result<(BlobObject, u64)> {
        let blob = self.blob_object(object).await?;
        let cost = self
            .storage_extension_cost(blob.storage.storage_size, epochs)
            .await?;
        let guard = self.tx_guard().await;
        let payment = self.wal_coin_for(cost).await?;
        let tx = self
            .floe
            .extend_blob(self.wallet()?, object, epochs, payment)
            .await?;
        drop(guard);
        ensure_success(&tx)?;
        Ok((self.blob_object(object).await?, cost))
    }

    /// The storage cost of extending `object` by `epochs`.
    pub async fn extend_cost(&self, object: Address, epochs: u32) -> Result<u64> {
        let blob = self.blob_object(object).await?;
        self.storage_extension_cost(blob.storage.storage_size, epochs)
            .await
    }

    /// FROST for `epochs` more epochs of `storage_size` bytes at the
    /// current price (what `extend_blob` charges).
    pub(crate) async fn storage_extension_cost(
        &self,
        storage_size: u64,
        epochs: u32,
    ) -> Result<u64> {
        let prices = self.floe.prices().await?;
        Ok(price::storage_cost(
            storage_size,
            prices.storage_price_per_unit_size,
            epochs,
        )?)
    }

    /// Wraps a certified blob object in a `SharedBlob`, optionally funded
    /// with `funds` FROST; returns the shared object's id.
    pub async fn share_blob(&self, object: Address, funds: Option<u64>) -> Result<Address> {
        let key = self.wallet()?;
        let guard = self.tx_guard().await;
        let payment = match funds {
            Some(amount) if amount > 0 => Some(self.wal_coin_for(amount).await?),
            _ => None,
        };
        let tx = self
            .floe
            .share_blob(key, object, funds.unwrap_or(0), payment)
            .await?;
        drop(guard);
        ensure_success(&tx)?;
        let tag = self.floe.ids.floe_tag("shared_blob", "SharedBlob");
        for created in tx.created() {
            let id = *created.reference.object_id();
            let info = self.floe.client.get_object(id).await?;
            if info.struct_type() == Some(&tag) {
                return Ok(id);
            }
        }
        Err(ClientError::Invalid(format!(
            "transaction {} created no SharedBlob",
            tx.digest
        )))
    }

    /// Adds `amount` FROST to a shared blob's funds.
    pub async fn fund_shared_blob(&self, shared: Address, amount: u64) -> Result<()> {
        let _tx = self.tx_guard().await;
        let payment = self.wal_coin_for(amount).await?;
        let tx = self
            .floe
            .fund_shared_blob(self.wallet()?, shared, amount, payment)
            .await?;
        ensure_success(&tx)
    }

    /// A blob object's attributes (empty when it has none).
    pub async fn blob_attributes(&self, object: Address) -> Result<BTreeMap<String, String>> {
        let key = bcs::to_bytes(ATTRIBUTES_KEY)
            .map_err(|e| ClientError::Invalid(format!("attribute key: {e}")))?;
        let field_id =
            object.derive_dynamic_child_id(&TypeTag::Vector(Box::new(TypeTag::U8)), &key);
        match self
            .floe
            .client
            .get_object_as::<DynamicField<Vec<u8>, Metadata>>(field_id)
            .await
        {
            Ok((_, field)) => Ok(field
                .value
                .metadata
                .contents
                .into_iter()
                .map(|e| (e.key, e.value))
                .collect()),
            Err(floe_chain::ChainError::ObjectNotFound(_)) => Ok(BTreeMap::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets attributes on an owned blob object (one transaction each).
    pub async fn set_blob_attributes(
        &self,
        object: Address,
        pairs: &[(String, String)],
    ) -> Result<()> {
        let key = self.wallet()?;
        let _tx = self.tx_guard().await;
        for (name, value) in pairs {
            let tx = self.floe.set_attribute(key, object, name, value).await?;
            ensure_success(&tx)?;
        }
        Ok(())
    }

    /// Removes attributes (missing ones are ignored).
    pub async fn remove_blob_attributes(&self, object: Address, names: &[String]) -> Result<()> {
        let key = self.wallet()?;
        let _tx = self.tx_guard().await;
        for name in names {
            let tx = self.floe.remove_attribute(key, object, name).await?;
            ensure_success(&tx)?;
        }
        Ok(())
    }

    /// SUI and WAL of the wallet.
    pub async fn balance(&self) -> Result<WalletBalance> {
        let address = self.address()?;
        let sui = self
            .floe
            .client
            .get_balance(address, "0x2::sui::SUI")
            .await?
            .total;
        let wal = self.floe.wal_balance(address).await?;
        Ok(WalletBalance { address, sui, wal })
    }

    /// Asks the configured faucet for SUI and WAL for the wallet.
    pub async fn faucet(&self) -> Result<Vec<serde_json::Value>> {
        let url =
            self.config.faucet.clone().ok_or_else(|| {
                ClientError::Invalid("the client config has no `faucet:` URL".into())
            })?;
        let recipient = self.address()?.to_string();
        let mut answers = Vec::new();
        for coin_type in [None, Some(self.floe.ids.wal_type().to_string())] {
            let mut request =
                serde_json::json!({ "FixedAmountRequest": { "recipient": recipient } });
            if let Some(t) = coin_type {
                request["FixedAmountRequest"]["coin_type"] = serde_json::Value::String(t);
            }
            let response = self
                .http
                .client
                .post(&url)
                .json(&request)
                .send()
                .await
                .map_err(|e| ClientError::Http(format!("faucet {url}: {e}")))?;
            let status = response.status();
            let mut response = response;
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| ClientError::Http(format!("faucet {url}: {e}")))?
            {
                if body.len() + chunk.len() > MAX_FAUCET_ANSWER {
                    return Err(ClientError::Http(format!(
                        "faucet {url}: answer above {MAX_FAUCET_ANSWER} bytes"
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            let body = body.as_slice();
            if !status.is_success() {
                return Err(ClientError::Http(format!(
                    "faucet {url} answered {status}: {}",
                    String::from_utf8_lossy(body)
                )));
            }
            answers.push(serde_json::from_slice(body).unwrap_or(serde_json::Value::Null));
        }
        Ok(answers)
    }
}
