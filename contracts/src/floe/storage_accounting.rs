//! Twin of `floe::storage_accounting`: the ring buffer of future epochs
//! (used capacity and prepaid rewards per epoch) and the 3% burn.

use floe_core::move_types::{
    Balance, FutureAccounting, FutureAccountingRingBuffer, MoveType, MoveTypeInfo,
};
use floe_runtime::NativeError;

use crate::registry::{FnSig, ModuleDecl, NativeBody, Package, Vis, abort_codes};
use crate::util::{add_u64, arithmetic, ensure};

/// Share of an epoch's rewards burnt at its end, in percent.
pub const BURN_PERCENTAGE: u64 = 3;

abort_codes! {
    module: "storage_accounting",
    ETooFarInFuture = 0,
}

/// Every `public` and `entry` function of the Move module, in source order.
pub const FUNCTIONS: &[FnSig] = &[
    FnSig::new(
        "epoch",
        Vis::Public,
        &[],
        &[("accounting", "&FutureAccounting")],
        &["u32"],
    ),
    FnSig::new(
        "used_capacity",
        Vis::Public,
        &[],
        &[("accounting", "&FutureAccounting")],
        &["u64"],
    ),
    FnSig::new(
        "rewards",
        Vis::Public,
        &[],
        &[("accounting", "&FutureAccounting")],
        &["u64"],
    ),
    FnSig::new(
        "ring_lookup",
        Vis::Public,
        &[],
        &[
            ("self", "&FutureAccountingRingBuffer"),
            ("epochs_in_future", "u32"),
        ],
        &["&FutureAccounting"],
    ),
    FnSig::new(
        "max_epochs_ahead",
        Vis::Public,
        &[],
        &[("self", "&FutureAccountingRingBuffer")],
        &["u32"],
    ),
];

const STRUCTS: &[MoveTypeInfo] = &[FutureAccounting::INFO, FutureAccountingRingBuffer::INFO];

/// The module declaration.
pub const MODULE: ModuleDecl = ModuleDecl {
    package: Package::Floe,
    name: "storage_accounting",
    functions: FUNCTIONS,
    abort_codes: ABORT_CODES,
    structs: STRUCTS,
    native,
};

/// Both accounting values are only reachable by reference through
/// `System`, so no function is callable from a transaction.
fn native(_name: &str) -> Option<NativeBody> {
    None
}

/// `ring_new`: `length` empty entries from `first_epoch`.
pub fn ring_new(first_epoch: u32, length: u32) -> Result<FutureAccountingRingBuffer, NativeError> {
    let mut ring_buffer = Vec::with_capacity(length as usize);
    for i in 0..length {
        ring_buffer.push(FutureAccounting {
            epoch: first_epoch.checked_add(i).ok_or_else(arithmetic)?,
            used_capacity: 0,
            rewards_to_distribute: Balance { value: 0 },
        });
    }
    Ok(FutureAccountingRingBuffer {
        current_index: 0,
        length,
        ring_buffer,
    })
}

fn ring_index(
    ring: &FutureAccountingRingBuffer,
    epochs_in_future: u32,
) -> Result<usize, NativeError> {
    if ring.length == 0 {
        return Err(arithmetic());
    }
    let index =
        (u64::from(epochs_in_future) + u64::from(ring.current_index)) % u64::from(ring.length);
    usize::try_from(index).map_err(|_| arithmetic())
}

/// `ring_lookup`.
pub fn ring_lookup(
    ring: &FutureAccountingRingBuffer,
    epochs_in_future: u32,
) -> Result<&FutureAccounting, NativeError> {
    ensure(epochs_in_future < ring.length, ETooFarInFuture)?;
    let index = ring_index(ring, epochs_in_future)?;
    ring.ring_buffer
        .get(index)
        .ok_or_else(|| NativeError::Invariant("ring buffer shorter than its length".into()))
}

/// `ring_lookup_mut`.
pub fn ring_lookup_mut(
    ring: &mut FutureAccountingRingBuffer,
    epochs_in_future: u32,
) -> Result<&mut FutureAccounting, NativeError> {
    ensure(epochs_in_future < ring.length, ETooFarInFuture)?;
    let index = ring_index(ring, epochs_in_future)?;
    ring.ring_buffer
        .get_mut(index)
        .ok_or_else(|| NativeError::Invariant("ring buffer shorter than its length".into()))
}

/// `ring_pop_expand`: removes the current epoch's entry (returned) and
/// appends an empty one for the epoch after the last.
pub fn ring_pop_expand(
    ring: &mut FutureAccountingRingBuffer,
) -> Result<FutureAccounting, NativeError> {
    let length = ring.length.checked_sub(1).ok_or_else(arithmetic)?;
    let last_epoch = ring_lookup(ring, length)?.epoch;
    let current = ring.current_index as usize;
    if current >= ring.ring_buffer.len() {
        return Err(NativeError::Invariant("ring index out of range".into()));
    }
    ring.ring_buffer.push(FutureAccounting {
        epoch: last_epoch.checked_add(1).ok_or_else(arithmetic)?,
        used_capacity: 0,
        rewards_to_distribute: Balance { value: 0 },
    });
    let popped = ring.ring_buffer.swap_remove(current);
    ring.current_index = ((u64::from(ring.current_index) + 1) % u64::from(ring.length)) as u32;
    Ok(popped)
}

/// `ring_extend` (governance): grows the ring to `new_length` epochs in
/// epoch order from the current one; never shrinks.
pub fn ring_extend(
    ring: &mut FutureAccountingRingBuffer,
    new_length: u32,
) -> Result<(), NativeError> {
    if new_length <= ring.length {
        return Ok(());
    }
    let current = ring.current_index as usize;
    if current >= ring.ring_buffer.len() {
        return Err(NativeError::Invariant("ring index out of range".into()));
    }
    ring.ring_buffer.rotate_left(current);
    ring.current_index = 0;
    let mut next_epoch = ring
        .ring_buffer
        .last()
        .ok_or_else(arithmetic)?
        .epoch
        .checked_add(1)
        .ok_or_else(arithmetic)?;
    while ring.length < new_length {
        ring.ring_buffer.push(FutureAccounting {
            epoch: next_epoch,
            used_capacity: 0,
            rewards_to_distribute: Balance { value: 0 },
        });
        next_epoch = next_epoch.checked_add(1).ok_or_else(arithmetic)?;
        ring.length += 1;
    }
    Ok(())
}

/// `increase_used_capacity`: returns the new total.
pub fn increase_used_capacity(a: &mut FutureAccounting, amount: u64) -> Result<u64, NativeError> {
    a.used_capacity = add_u64(a.used_capacity, amount)?;
    Ok(a.used_capacity)
}

/// Joins `amount` into the entry's rewards (`balance::join`).
pub fn join_rewards(a: &mut FutureAccounting, amount: u64) -> Result<(), NativeError> {
    a.rewards_to_distribute.value = add_u64(a.rewards_to_distribute.value, amount)?;
    Ok(())
}

/// `extract_burn_balance`: splits `BURN_PERCENTAGE` percent of the current
/// epoch's rewards and returns the amount.
pub fn extract_burn_balance(ring: &mut FutureAccountingRingBuffer) -> Result<u64, NativeError> {
    let entry = ring_lookup_mut(ring, 0)?;
    let value = entry.rewards_to_distribute.value;
    let burn = (u128::from(value) * u128::from(BURN_PERCENTAGE) / 100) as u64;
    entry.rewards_to_distribute.value = value - burn;
    Ok(burn)
}

/// Total prepaid rewards over the whole ring (for conservation checks).
pub fn total_rewards(ring: &FutureAccountingRingBuffer) -> u128 {
    ring.ring_buffer
        .iter()
        .map(|a| u128::from(a.rewards_to_distribute.value))
        .sum()
}
