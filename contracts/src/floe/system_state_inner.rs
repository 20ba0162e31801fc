//! Twin of `floe::system_state_inner`: the state behind `System` and every
//! storage operation on it. Payments go into the reward buckets of the
//! epochs they pay for, so the ring buffer always holds what users paid.

use alloy_primitives::U256;
use floe_core::move_types::{
    Blob, BlsCommittee, ExtendedField, FutureAccountingRingBuffer, InvalidBlobID, MoveType,
    MoveTypeInfo, ObjectId, Storage, SystemStateInnerV1, U256Le, VecMap,
};
use floe_runtime::framework::CoinData;
use floe_runtime::{NativeError, Runtime, Value};

use crate::floe::storage_accounting::{self as accounting, increase_used_capacity, join_rewards};
use crate::floe::{blob, bls_aggregate, encoding, event_blob, events, messages, storage_resource};
use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{ensure, mul_u64, split_coin, sub_u32};

/// Upper bound of `max_epochs_ahead`.
pub const MAX_MAX_EPOCHS_AHEAD: u32 = 1000;
/// Bytes of one storage unit (prices are per unit).
pub const BYTES_PER_UNIT_SIZE: u64 = floe_core::price::BYTES_PER_UNIT_SIZE;

abort_codes! {
    module: "system_state_inner",
    EInvalidMaxEpochsAhead = 0,
    EStorageExceeded = 1,
    EInvalidEpochsAhead = 2,
    EInvalidIdEpoch = 3,
    EIncorrectCommittee = 4,
    EInvalidAccountingEpoch = 5,
    EInvalidResourceSize = 11,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "epoch",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u32"],
    ),
    FnSig::new(
        "committee",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["&BlsCommittee"],
    ),
    FnSig::new(
        "n_shards",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u16"],
    ),
    FnSig::new(
        "total_capacity_size",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u64"],
    ),
    FnSig::new(
        "used_capacity_size",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u64"],
    ),
    FnSig::new(
        "storage_price_per_unit_size",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u64"],
    ),
    FnSig::new(
        "write_price_per_unit_size",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u64"],
    ),
    FnSig::new(
        "future_accounting",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["&FutureAccountingRingBuffer"],
    ),
    FnSig::new(
        "event_blob_certification_state",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["&EventBlobCertificationState"],
    ),
    FnSig::new(
        "deny_list_sizes",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["&VecMap<ID, u64>"],
    ),
    FnSig::new(
        "max_epochs_ahead",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1")],
        &["u32"],
    ),
    FnSig::new(
        "storage_units_from_size",
        Vis::Public,
        &[],
        &[("size", "u64")],
        &["u64"],
    ),
    FnSig::new(
        "storage_price_for_size",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1"), ("encoded_size", "u64")],
        &["u64"],
    ),
    FnSig::new(
        "write_price_for_size",
        Vis::Public,
        &[],
        &[("self", "&SystemStateInnerV1"), ("encoded_size", "u64")],
        &["u64"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[SystemStateInnerV1::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "system_state_inner",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

fn native(name: &str) -> Option<NativeBody> {
    let f: NativeBody = match name {
        "storage_units_from_size" => |c| Ok(vec![Value::u64(storage_units_from_size(c.arg(0)?))]),
        _ => return None,
    };
    Some(f)
}

/// `create`: the state of a new system whose first epoch is the
/// committee's. `deny_list_sizes` gets a fresh object id and its (empty)
/// map in a dynamic field, as `extended_field::new` does.
pub fn create(
    rt: &mut Runtime<'_>,
    committee: BlsCommittee,
    max_epochs_ahead: u32,
    total_capacity_size: u64,
    storage_price_per_unit_size: u64,
    write_price_per_unit_size: u64,
) -> Result<SystemStateInnerV1, NativeError> {
    ensure(
        max_epochs_ahead > 0 && max_epochs_ahead <= MAX_MAX_EPOCHS_AHEAD,
        EInvalidMaxEpochsAhead,
    )?;
    let epoch = committee.epoch;
    let deny_list_sizes = crate::util::new_id(rt)?;
    let empty: VecMap<floe_core::move_types::ObjectId, u64> = VecMap::default();
    let map_ty = Value::new(
        "0x2::vec_map::VecMap<0x2::object::ID, u64>"
            .parse()
            .map_err(|_| NativeError::Invariant("VecMap tag".into()))?,
        &empty,
    );
    let key = Value::new(
        crate::util::floe_tag("extended_field", "Key", vec![]).into(),
        &false,
    );
    rt.df_add(crate::util::to_address(deny_list_sizes), key, map_ty)?;
    Ok(SystemStateInnerV1 {
        committee,
        total_capacity_size,
        used_capacity_size: 0,
        storage_price_per_unit_size,
        write_price_per_unit_size,
        future_accounting: accounting::ring_new(epoch, max_epochs_ahead)?,
        event_blob_certification_state: event_blob::create_with_empty_state(),
        deny_list_sizes: ExtendedField {
            id: deny_list_sizes,
        },
    })
}

/// `epoch`: the committee's epoch.
pub fn epoch(s: &SystemStateInnerV1) -> u32 {
    s.committee.epoch
}

/// `max_epochs_ahead`: the ring length.
pub fn max_epochs_ahead(s: &SystemStateInnerV1) -> u32 {
    s.future_accounting.length
}

/// `storage_units_from_size`: 1 MiB units, rounded up.
pub fn storage_units_from_size(size: u64) -> u64 {
    floe_core::price::storage_units(size)
}

/// `storage_price_for_size`.
pub fn storage_price_for_size(
    s: &SystemStateInnerV1,
    encoded_size: u64,
) -> Result<u64, NativeError> {
    mul_u64(
        s.storage_price_per_unit_size,
        storage_units_from_size(encoded_size),
    )
}

/// `write_price_for_size`.
pub fn write_price_for_size(s: &SystemStateInnerV1, encoded_size: u64) -> Result<u64, NativeError> {
    mul_u64(
        s.write_price_per_unit_size,
        storage_units_from_size(encoded_size),
    )
}

/// `reserve_space`.
pub fn reserve_space(
    rt: &mut Runtime<'_>,
    s: &mut SystemStateInnerV1,
    storage_amount: u64,
    epochs_ahead: u32,
    payment: &mut CoinData,
) -> Result<Storage, NativeError> {
    ensure(epochs_ahead > 0, EInvalidEpochsAhead)?;
    ensure(epochs_ahead <= max_epochs_ahead(s), EInvalidEpochsAhead)?;
    process_storage_payments(s, storage_amount, 0, epochs_ahead, payment)?;
    reserve_space_without_payment(rt, s, storage_amount, 0, epochs_ahead, true)
}

/// `reserve_space_for_epochs`: a past start moves to the current epoch.
pub fn reserve_space_for_epochs(
    rt: &mut Runtime<'_>,
    s: &mut SystemStateInnerV1,
    storage_amount: u64,
    start_epoch: u32,
    end_epoch: u32,
    payment: &mut CoinData,
) -> Result<Storage, NativeError> {
    let current = epoch(s);
    let start_epoch = start_epoch.max(current);
    ensure(end_epoch > start_epoch, EInvalidEpochsAhead)?;
    ensure(
        end_epoch - current <= max_epochs_ahead(s),
        EInvalidEpochsAhead,
    )?;
    let start_offset = start_epoch - current;
    let end_offset = end_epoch - current;
    process_storage_payments(s, storage_amount, start_offset, end_offset, payment)?;
    reserve_space_without_payment(rt, s, storage_amount, start_offset, end_offset, true)
}

/// `reserve_space_without_payment`.
pub fn reserve_space_without_payment(
    rt: &mut Runtime<'_>,
    s: &mut SystemStateInnerV1,
    storage_amount: u64,
    start_offset: u32,
    end_offset: u32,
    check_capacity: bool,
) -> Result<Storage, NativeError> {
    ensure(storage_amount > 0, EInvalidResourceSize)?;
    add_used_capacity(s, storage_amount, start_offset, end_offset, check_capacity)?;
    let current = epoch(s);
    storage_resource::create_storage(
        rt,
        crate::util::add_u32(current, start_offset)?,
        crate::util::add_u32(current, end_offset)?,
        storage_amount,
    )
}

/// `register_blob`: the blob, then the write price into the current epoch.
#[allow(clippy::too_many_arguments)]
pub fn register_blob(
    rt: &mut Runtime<'_>,
    s: &mut SystemStateInnerV1,
    storage: Storage,
    blob_id: U256Le,
    root_hash: U256Le,
    size: u64,
    encoding_type: u8,
    deletable: bool,
    write_payment: &mut CoinData,
) -> Result<Blob, NativeError> {
    let n_shards = s.committee.n_shards;
    let new = blob::new(
        rt,
        storage,
        blob_id,
        root_hash,
        size,
        encoding_type,
        deletable,
        epoch(s),
        n_shards,
    )?;
    let encoded_size = encoding::encoded_blob_length(size, encoding_type, n_shards)?;
    let price = write_price_for_size(s, encoded_size)?;
    let paid = split_coin(write_payment, price)?;
    join_rewards(
        accounting::ring_lookup_mut(&mut s.future_accounting, 0)?,
        paid,
    )?;
    Ok(new)
}

/// `certify_blob`.
pub fn certify_blob(
    rt: &mut Runtime<'_>,
    s: &SystemStateInnerV1,
    b: &mut Blob,
    signature: &[u8],
    signers_bitmap: &[u8],
    message: &[u8],
) -> Result<(), NativeError> {
    let certified =
        bls_aggregate::verify_quorum_in_epoch(&s.committee, signature, signers_bitmap, message)?;
    ensure(certified.cert_epoch == epoch(s), EInvalidIdEpoch)?;
    let blob_message = messages::certify_blob_message(certified)?;
    blob::certify_with_certified_msg(rt, b, epoch(s), blob_message)
}

/// `extend_blob`: pays `storage_price * units(storage size)` per added
/// epoch into the buckets of the added epochs.
pub fn extend_blob(
    rt: &mut Runtime<'_>,
    s: &mut SystemStateInnerV1,
    b: &mut Blob,
    extended_epochs: u32,
    payment: &mut CoinData,
) -> Result<(), NativeError> {
    let current = epoch(s);
    blob::assert_certified_not_expired(b, current)?;
    ensure(extended_epochs > 0, EInvalidEpochsAhead)?;
    let start_offset = sub_u32(b.storage.end_epoch, current)?;
    let end_offset = crate::util::add_u32(start_offset, extended_epochs)?;
    ensure(end_offset <= max_epochs_ahead(s), EInvalidEpochsAhead)?;
    let storage_size = b.storage.storage_size;
    process_storage_payments(s, storage_size, start_offset, end_offset, payment)?;
    add_used_capacity(s, storage_size, start_offset, end_offset, true)?;
    blob::extend_storage_end_epoch(rt, b, extended_epochs, current)
}

/// `invalidate_blob_id`: f + 1 certificate; emits `InvalidBlobID`.
pub fn invalidate_blob_id(
    rt: &mut Runtime<'_>,
    s: &SystemStateInnerV1,
    signature: &[u8],
    members_bitmap: &[u8],
    message: &[u8],
) -> Result<U256Le, NativeError> {
    let certified = bls_aggregate::verify_one_correct_node_in_epoch(
        &s.committee,
        signature,
        members_bitmap,
        message,
    )?;
    let cert_epoch = certified.cert_epoch;
    let blob_id = messages::invalid_blob_id_message(certified)?;
    ensure(cert_epoch == epoch(s), EInvalidIdEpoch)?;
    events::emit(
        rt,
        &InvalidBlobID {
            epoch: cert_epoch,
            blob_id,
        },
    )?;
    Ok(blob_id)
}

/// `add_subsidy`: split equally over `epochs_ahead` epochs, the remainder
/// to the current one.
pub fn add_subsidy(
    s: &mut SystemStateInnerV1,
    amount: u64,
    epochs_ahead: u32,
) -> Result<(), NativeError> {
    ensure(epochs_ahead > 0, EInvalidEpochsAhead)?;
    ensure(epochs_ahead <= max_epochs_ahead(s), EInvalidEpochsAhead)?;
    let per_epoch = amount / u64::from(epochs_ahead);
    for i in 0..epochs_ahead {
        join_rewards(
            accounting::ring_lookup_mut(&mut s.future_accounting, i)?,
            per_epoch,
        )?;
    }
    let remainder = amount - per_epoch * u64::from(epochs_ahead);
    join_rewards(
        accounting::ring_lookup_mut(&mut s.future_accounting, 0)?,
        remainder,
    )
}

/// `add_per_epoch_subsidies`: element `i` to epoch `current + i`.
pub fn add_per_epoch_subsidies(
    s: &mut SystemStateInnerV1,
    subsidies: &[u64],
) -> Result<(), NativeError> {
    ensure(
        subsidies.len() as u64 <= u64::from(max_epochs_ahead(s)),
        EInvalidEpochsAhead,
    )?;
    for (i, amount) in subsidies.iter().enumerate() {
        join_rewards(
            accounting::ring_lookup_mut(&mut s.future_accounting, i as u32)?,
            *amount,
        )?;
    }
    Ok(())
}

/// `extract_burn_balance`: the share of the current epoch's rewards to
/// burn, taken out of its bucket.
pub fn extract_burn_balance(s: &mut SystemStateInnerV1) -> Result<u64, NativeError> {
    accounting::extract_burn_balance(&mut s.future_accounting)
}

/// `advance_epoch`: moves to `new_committee` (the next epoch's) with
/// capacity `max(new_total_capacity, used capacity of the new epoch)` and
/// returns the ended epoch's rewards per member of the old committee, in
/// its order: `weight * (used - deny_list_size)` shares of the bucket,
/// floored; the remainder goes to the new epoch.
pub fn advance_epoch(
    rt: &mut Runtime<'_>,
    s: &mut SystemStateInnerV1,
    new_committee: BlsCommittee,
    new_total_capacity: u64,
) -> Result<Vec<(ObjectId, u64)>, NativeError> {
    let old_epoch = epoch(s);
    ensure(
        u64::from(new_committee.epoch) == u64::from(old_epoch) + 1,
        EIncorrectCommittee,
    )?;
    let old_committee = std::mem::replace(&mut s.committee, new_committee);
    let ended = accounting::ring_pop_expand(&mut s.future_accounting)?;
    ensure(ended.epoch == old_epoch, EInvalidAccountingEpoch)?;
    let old_used_capacity = ended.used_capacity;
    let mut rewards = ended.rewards_to_distribute.value;
    s.event_blob_certification_state.aggregate_weight_per_blob = VecMap::default();
    s.used_capacity_size = accounting::ring_lookup(&s.future_accounting, 0)?.used_capacity;
    s.total_capacity_size = new_total_capacity.max(s.used_capacity_size);

    let deny_list_sizes: VecMap<ObjectId, u64> = rt.df_get(
        crate::util::to_address(s.deny_list_sizes.id),
        &crate::floe::extended_field::key(),
        &deny_list_sizes_type()?,
    )?;
    let weighted: Vec<u128> = old_committee
        .members
        .iter()
        .map(|m| {
            let deny = deny_list_sizes.get(&m.node_id).copied().unwrap_or(0);
            u128::from(m.weight) * u128::from(old_used_capacity.saturating_sub(deny))
        })
        .collect();
    let total_weighted: u128 = weighted.iter().sum();
    let total_rewards = rewards;
    let mut node_rewards = Vec::with_capacity(weighted.len());
    for (member, w) in old_committee.members.iter().zip(&weighted) {
        let share = if total_weighted == 0 {
            0
        } else {
            // `(w as u256) * (total as u256) / (total_weighted as u256)`:
            // at most `total`, so the product fits in 192 bits.
            let share = U256::from(*w) * U256::from(total_rewards) / U256::from(total_weighted);
            u64::try_from(share).map_err(|_| crate::util::arithmetic())?
        };
        rewards = rewards
            .checked_sub(share)
            .ok_or_else(crate::util::arithmetic)?;
        node_rewards.push((member.node_id, share));
    }
    join_rewards(
        accounting::ring_lookup_mut(&mut s.future_accounting, 0)?,
        rewards,
    )?;
    Ok(node_rewards)
}

fn deny_list_sizes_type() -> Result<sui_sdk_types::TypeTag, NativeError> {
    "0x2::vec_map::VecMap<0x2::object::ID, u64>"
        .parse()
        .map_err(|_| NativeError::Invariant("VecMap tag".into()))
}

/// `process_storage_payments`: `storage_price * units(size)` into each
/// epoch at offsets `[start_offset, end_offset)`.
fn process_storage_payments(
    s: &mut SystemStateInnerV1,
    storage_size: u64,
    start_offset: u32,
    end_offset: u32,
    payment: &mut CoinData,
) -> Result<(), NativeError> {
    let per_epoch = storage_price_for_size(s, storage_size)?;
    for i in start_offset..end_offset {
        let part = split_coin(payment, per_epoch)?;
        join_rewards(
            accounting::ring_lookup_mut(&mut s.future_accounting, i)?,
            part,
        )?;
    }
    Ok(())
}

/// `add_used_capacity`.
fn add_used_capacity(
    s: &mut SystemStateInnerV1,
    amount: u64,
    start_offset: u32,
    end_offset: u32,
    check_capacity: bool,
) -> Result<(), NativeError> {
    for i in start_offset..end_offset {
        let entry = accounting::ring_lookup_mut(&mut s.future_accounting, i)?;
        let used = increase_used_capacity(entry, amount)?;
        ensure(
            !check_capacity || used <= s.total_capacity_size,
            EStorageExceeded,
        )?;
    }
    if start_offset == 0 && end_offset > 0 {
        s.used_capacity_size = accounting::ring_lookup(&s.future_accounting, 0)?.used_capacity;
    }
    Ok(())
}

/// The ring buffer (for reads and conservation checks).
/// `extend_max_epochs_ahead` (governance; only grows).
pub fn extend_max_epochs_ahead(
    s: &mut SystemStateInnerV1,
    max_epochs_ahead: u32,
) -> Result<(), NativeError> {
    ensure(
        max_epochs_ahead <= MAX_MAX_EPOCHS_AHEAD,
        EInvalidMaxEpochsAhead,
    )?;
    accounting::ring_extend(&mut s.future_accounting, max_epochs_ahead)
}

pub fn future_accounting(s: &SystemStateInnerV1) -> &FutureAccountingRingBuffer {
    &s.future_accounting
}
