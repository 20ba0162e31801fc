//! Reads: objects, owned listings, balances, dynamic fields, transactions
//! and checkpoints, each decoded into the types of [`crate::types`].

use sui_rpc::field::{FieldMask, FieldMaskUtil as _};
use sui_rpc::proto::sui::rpc::v2 as proto;
use sui_sdk_types::{Address, Digest};

use crate::connection::ChainClient;
use crate::error::ChainError;
use crate::types::{
    Balance, Checkpoint, DynamicFieldInfo, ExecutedTx, ObjectInfo, Page, PageToken, ServiceInfo,
};

/// Every object field we decode; `bcs` lets us rebuild the exact
/// `sui_sdk_types::Object` and check its digest.
pub const OBJECT_MASK: &str = "object_id,version,digest,owner,object_type,has_public_transfer,contents,previous_transaction,storage_rebate,bcs,balance";
/// An executed transaction with data, effects and events.
pub const TRANSACTION_MASK: &str = "digest,transaction,effects,events,checkpoint,timestamp";
/// A full checkpoint: summary, every transaction with effects and events,
/// and the objects its transactions read and wrote (the indexer reads object
/// contents and types from them; effects carry neither).
pub const CHECKPOINT_MASK: &str = "sequence_number,digest,summary,signature,contents,transactions.digest,transactions.transaction,transactions.effects,transactions.events,transactions.checkpoint,transactions.timestamp,objects";

/// Most objects fetched in one BatchGetObjects call; larger requests are
/// split, so a caller's list length never becomes one unbounded message.
pub const MAX_BATCH: usize = 50;
/// The most the API returns in one page.
pub const MAX_PAGE_SIZE: u32 = 1000;

pub(crate) fn mask(paths: &str) -> FieldMask {
    FieldMask::from_str(paths)
}

/// A Move type name in the canonical long form the API expects, e.g.
/// `0x2::coin::Coin<0x2::sui::SUI>` becomes the 64-hex-digit form. Names
/// that do not parse as a struct tag (e.g. `0x2::coin::Coin` without type
/// arguments, which the API accepts as a wildcard) are passed through.
pub fn normalize_type(type_name: &str) -> String {
    match type_name.parse::<sui_sdk_types::StructTag>() {
        Ok(tag) => tag.to_string(),
        Err(_) => type_name.to_owned(),
    }
}

impl ChainClient {
    /// Chain id, epoch and height of the current endpoint.
    pub async fn service_info(&self) -> Result<ServiceInfo, ChainError> {
        let info = self
            .call("GetServiceInfo", |mut c| async move {
                c.ledger_client()
                    .get_service_info(proto::GetServiceInfoRequest::default())
                    .await
                    .map(|r| r.into_inner())
            })
            .await?;
        Ok(ServiceInfo {
            chain_id: info.chain_id,
            chain: info.chain,
            epoch: info.epoch,
            checkpoint_height: info.checkpoint_height,
            lowest_available_checkpoint: info.lowest_available_checkpoint,
        })
    }

    /// The current epoch's reference gas price, from GetEpoch.
    pub async fn reference_gas_price(&self) -> Result<u64, ChainError> {
        let epoch = self
            .call("GetEpoch", |mut c| async move {
                c.ledger_client()
                    .get_epoch(
                        proto::GetEpochRequest::latest()
                            .with_read_mask(mask("reference_gas_price")),
                    )
                    .await
                    .map(|r| r.into_inner())
            })
            .await?;
        epoch
            .epoch
            .and_then(|e| e.reference_gas_price)
            .ok_or_else(|| self.malformed("GetEpoch", "no reference_gas_price"))
    }

    /// The validator committee of the current epoch, from GetEpoch.
    pub async fn validator_committee(
        &self,
    ) -> Result<sui_sdk_types::ValidatorCommittee, ChainError> {
        let epoch = self
            .call("GetEpoch", |mut c| async move {
                c.ledger_client()
                    .get_epoch(proto::GetEpochRequest::latest().with_read_mask(mask("committee")))
                    .await
                    .map(|r| r.into_inner())
            })
            .await?;
        let committee = epoch
            .epoch
            .and_then(|e| e.committee)
            .ok_or_else(|| self.malformed("GetEpoch", "no validator committee"))?;
        sui_sdk_types::ValidatorCommittee::try_from(&committee)
            .map_err(|e| self.malformed("GetEpoch", format!("validator committee: {e}")))
    }

    /// One object at its latest version.
    pub async fn get_object(&self, id: Address) -> Result<ObjectInfo, ChainError> {
        self.get_objects(&[id])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| ChainError::ObjectNotFound(id.to_string()))
    }

    /// Objects in request order; `None` where the object does not exist.
    /// Uses BatchGetObjects, in batches of [`MAX_BATCH`].
    pub async fn get_objects(
        &self,
        ids: &[Address],
    ) -> Result<Vec<Option<ObjectInfo>>, ChainError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BATCH) {
            let request = proto::BatchGetObjectsRequest::default()
                .with_requests(chunk.iter().map(proto::GetObjectRequest::new).collect())
                .with_read_mask(mask(OBJECT_MASK));
            let response = self
                .call("BatchGetObjects", |mut c| {
                    let request = request.clone();
                    async move {
                        c.ledger_client()
                            .batch_get_objects(request)
                            .await
                            .map(|r| r.into_inner())
                    }
                })
                .await?;
            if response.objects.len() != chunk.len() {
                return Err(self.malformed(
                    "BatchGetObjects",
                    format!(
                        "asked for {} objects, got {} results",
                        chunk.len(),
                        response.objects.len()
                    ),
                ));
            }
            for (id, result) in chunk.iter().zip(response.objects) {
                match result.to_result() {
                    Ok(object) => {
                        let info = ObjectInfo::from_proto(&object)
                            .map_err(|e| self.malformed("BatchGetObjects", e))?;
                        if info.id() != *id {
                            return Err(self.malformed(
                                "BatchGetObjects",
                                format!("asked for {id}, got {}", info.id()),
                            ));
                        }
                        out.push(Some(info));
                    }
                    Err(status) if status.code == tonic::Code::NotFound as i32 => out.push(None),
                    Err(status) => {
                        return Err(ChainError::Rpc {
                            endpoint: self.current_endpoint().to_owned(),
                            op: "BatchGetObjects",
                            code: tonic::Code::from_i32(status.code),
                            message: format!("object {id}: {}", status.message),
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// An object's Move contents decoded into `T`.
    pub async fn get_object_as<T: serde::de::DeserializeOwned>(
        &self,
        id: Address,
    ) -> Result<(ObjectInfo, T), ChainError> {
        let info = self.get_object(id).await?;
        let value = info.contents_as()?;
        Ok((info, value))
    }

    /// One page of the objects `owner` owns, optionally only those of
    /// `object_type` (`0x2::coin::Coin` matches every coin type,
    /// `0x2::coin::Coin<0x2::sui::SUI>` only SUI coins).
    pub async fn list_owned_objects(
        &self,
        owner: Address,
        object_type: Option<&str>,
        page: Option<PageToken>,
        page_size: u32,
    ) -> Result<Page<ObjectInfo>, ChainError> {
        let mut request = proto::ListOwnedObjectsRequest::default()
            .with_owner(owner.to_string())
            .with_page_size(page_size.clamp(1, MAX_PAGE_SIZE))
            .with_read_mask(mask(OBJECT_MASK));
        if let Some(t) = object_type {
            request.set_object_type(normalize_type(t));
        }
        if let Some(PageToken(token)) = page {
            request.set_page_token(token);
        }
        let response = self
            .call("ListOwnedObjects", |mut c| {
                let request = request.clone();
                async move {
                    c.state_client()
                        .list_owned_objects(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await?;
        let items = response
            .objects
            .iter()
            .map(ObjectInfo::from_proto)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.malformed("ListOwnedObjects", e))?;
        Ok(Page {
            items,
            next: next_token(response.next_page_token),
        })
    }

    /// Every owned object (of `object_type`), following pages, up to
    /// `limit` objects; more than `limit` is an error rather than a silent
    /// truncation, so callers pick a bound that fits their use.
    pub async fn list_all_owned_objects(
        &self,
        owner: Address,
        object_type: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ObjectInfo>, ChainError> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .list_owned_objects(owner, object_type, token, MAX_PAGE_SIZE)
                .await?;
            all.extend(page.items);
            if all.len() > limit {
                return Err(ChainError::TooMany {
                    what: format!(
                        "objects of type {} owned by {owner}",
                        object_type.unwrap_or("*")
                    ),
                    limit,
                });
            }
            match page.next {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Total balance of `coin_type` (e.g. `0x2::sui::SUI`) owned by `owner`.
    pub async fn get_balance(
        &self,
        owner: Address,
        coin_type: &str,
    ) -> Result<Balance, ChainError> {
        let request = proto::GetBalanceRequest::default()
            .with_owner(owner.to_string())
            .with_coin_type(normalize_type(coin_type));
        let response = self
            .call("GetBalance", |mut c| {
                let request = request.clone();
                async move {
                    c.state_client()
                        .get_balance(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await?;
        let balance = response
            .balance
            .ok_or_else(|| self.malformed("GetBalance", "no balance in response"))?;
        Ok(Balance {
            coin_type: balance.coin_type.unwrap_or_else(|| coin_type.to_owned()),
            total: balance.balance.unwrap_or(0),
        })
    }

    /// Balances of every coin type `owner` holds (up to `limit` types).
    pub async fn list_balances(
        &self,
        owner: Address,
        limit: usize,
    ) -> Result<Vec<Balance>, ChainError> {
        let mut out = Vec::new();
        let mut token: Option<prost::bytes::Bytes> = None;
        loop {
            let mut request = proto::ListBalancesRequest::default()
                .with_owner(owner.to_string())
                .with_page_size(MAX_PAGE_SIZE);
            if let Some(t) = token.take() {
                request.set_page_token(t);
            }
            let response = self
                .call("ListBalances", |mut c| {
                    let request = request.clone();
                    async move {
                        c.state_client()
                            .list_balances(request)
                            .await
                            .map(|r| r.into_inner())
                    }
                })
                .await?;
            for b in response.balances {
                let coin_type = b
                    .coin_type
                    .ok_or_else(|| self.malformed("ListBalances", "balance without coin_type"))?;
                out.push(Balance {
                    coin_type,
                    total: b.balance.unwrap_or(0),
                });
            }
            if out.len() > limit {
                return Err(ChainError::TooMany {
                    what: format!("coin types held by {owner}"),
                    limit,
                });
            }
            match next_token(response.next_page_token) {
                Some(PageToken(t)) => token = Some(t),
                None => return Ok(out),
            }
        }
    }

    /// One page of the dynamic fields of `parent`.
    pub async fn list_dynamic_fields(
        &self,
        parent: Address,
        page: Option<PageToken>,
        page_size: u32,
    ) -> Result<Page<DynamicFieldInfo>, ChainError> {
        let mut request = proto::ListDynamicFieldsRequest::default()
            .with_parent(parent.to_string())
            .with_page_size(page_size.clamp(1, MAX_PAGE_SIZE))
            .with_read_mask(mask("kind,parent,field_id,name,value,value_type,child_id"));
        if let Some(PageToken(token)) = page {
            request.set_page_token(token);
        }
        let response = self
            .call("ListDynamicFields", |mut c| {
                let request = request.clone();
                async move {
                    c.state_client()
                        .list_dynamic_fields(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await?;
        let items = response
            .dynamic_fields
            .iter()
            .map(DynamicFieldInfo::from_proto)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.malformed("ListDynamicFields", e))?;
        Ok(Page {
            items,
            next: next_token(response.next_page_token),
        })
    }

    /// An executed transaction with its effects and events.
    pub async fn get_transaction(&self, digest: &Digest) -> Result<ExecutedTx, ChainError> {
        let request =
            proto::GetTransactionRequest::new(digest).with_read_mask(mask(TRANSACTION_MASK));
        let result = self
            .call("GetTransaction", |mut c| {
                let request = request.clone();
                async move {
                    c.ledger_client()
                        .get_transaction(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await;
        let response = match result {
            Err(ChainError::Rpc {
                code: tonic::Code::NotFound,
                ..
            }) => return Err(ChainError::TransactionNotFound(digest.to_string())),
            other => other?,
        };
        let tx = response
            .transaction
            .ok_or_else(|| self.malformed("GetTransaction", "no transaction in response"))?;
        ExecutedTx::from_proto(&tx).map_err(|e| self.malformed("GetTransaction", e))
    }

    /// A full checkpoint by sequence number.
    pub async fn get_checkpoint(&self, sequence_number: u64) -> Result<Checkpoint, ChainError> {
        self.fetch_checkpoint(
            proto::GetCheckpointRequest::by_sequence_number(sequence_number),
            Some(sequence_number),
        )
        .await
    }

    /// The latest checkpoint (full).
    pub async fn latest_checkpoint(&self) -> Result<Checkpoint, ChainError> {
        self.fetch_checkpoint(proto::GetCheckpointRequest::latest(), None)
            .await
    }

    /// The sequence number of the latest checkpoint (a cheap read).
    pub async fn latest_checkpoint_number(&self) -> Result<u64, ChainError> {
        let request = proto::GetCheckpointRequest::latest().with_read_mask(mask("sequence_number"));
        let response = self
            .call("GetCheckpoint", |mut c| {
                let request = request.clone();
                async move {
                    c.ledger_client()
                        .get_checkpoint(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await?;
        response
            .checkpoint
            .and_then(|c| c.sequence_number)
            .ok_or_else(|| {
                self.malformed("GetCheckpoint", "latest checkpoint has no sequence number")
            })
    }

    async fn fetch_checkpoint(
        &self,
        request: proto::GetCheckpointRequest,
        expect: Option<u64>,
    ) -> Result<Checkpoint, ChainError> {
        let request = request.with_read_mask(mask(CHECKPOINT_MASK));
        let response = self
            .call("GetCheckpoint", |mut c| {
                let request = request.clone();
                async move {
                    c.ledger_client()
                        .get_checkpoint(request)
                        .await
                        .map(|r| r.into_inner())
                }
            })
            .await?;
        let checkpoint = response
            .checkpoint
            .ok_or_else(|| self.malformed("GetCheckpoint", "no checkpoint in response"))?;
        let checkpoint =
            Checkpoint::from_proto(&checkpoint).map_err(|e| self.malformed("GetCheckpoint", e))?;
        if let Some(expect) = expect
            && checkpoint.sequence_number != expect
        {
            return Err(self.malformed(
                "GetCheckpoint",
                format!(
                    "asked for checkpoint {expect}, got {}",
                    checkpoint.sequence_number
                ),
            ));
        }
        Ok(checkpoint)
    }
}

/// Page tokens are server-chosen; an empty one means the end, as does none.
fn next_token(token: Option<prost::bytes::Bytes>) -> Option<PageToken> {
    token.filter(|t| !t.is_empty()).map(PageToken)
}
