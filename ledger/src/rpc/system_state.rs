//! The `system_state` of GetEpoch: what Sui's `0x3::sui_system` state would
//! say about this ledger, for clients that read it (the TypeScript SDK's
//! `getCurrentSystemState`, wallets showing the epoch and gas price).
//!
//! The ledger is one validator with no Sui staking, so the answer is what
//! is true of it rather than a validator set: epoch 0 forever (the Sui
//! epoch never changes; Walrus epochs are floe's own, in `System`), the
//! fixed reference gas price, the genesis checkpoint's time as the epoch
//! start, no safe mode, no stake subsidy, no validators or candidates, and
//! a storage fund holding every storage fee charged (rebates are always 0,
//! so all of it is non-refundable). README "Use floe from TypeScript" lists
//! these answers.

use sui_rpc::field::FieldMaskTree;
use sui_rpc::proto::sui::rpc::v2 as pb;

use crate::exec::gas::REFERENCE_GAS_PRICE;
use crate::state::State;

/// The only protocol version this ledger speaks (also in `protocol_config`).
pub(crate) const PROTOCOL_VERSION: u64 = 1;
/// Version of the system state layout reported (`SuiSystemStateInnerV1`'s
/// field set, which is what is filled).
const SYSTEM_STATE_VERSION: u64 = 1;
/// The Sui epoch never ends on this ledger.
const EPOCH_DURATION_MS: u64 = u64::MAX;
/// One validator: the ledger itself.
const VALIDATORS: u64 = 1;

/// The system state, with the fields `mask` (the `system_state` subtree of
/// the request's read mask) asks for.
pub(crate) fn system_state(state: &State, mask: &FieldMaskTree) -> pb::SystemState {
    let mut s = pb::SystemState::default();
    let want = |f: &str| mask.contains(f);
    if want("version") {
        s.version = Some(SYSTEM_STATE_VERSION);
    }
    if want("epoch") {
        s.epoch = Some(state.epoch());
    }
    if want("protocol_version") {
        s.protocol_version = Some(PROTOCOL_VERSION);
    }
    if want("reference_gas_price") {
        s.reference_gas_price = Some(REFERENCE_GAS_PRICE);
    }
    if want("epoch_start_timestamp_ms") {
        s.epoch_start_timestamp_ms = Some(state.epoch_start_ms());
    }
    if want("safe_mode") {
        s.safe_mode = Some(false);
    }
    if want("safe_mode_storage_rewards") {
        s.safe_mode_storage_rewards = Some(0);
    }
    if want("safe_mode_computation_rewards") {
        s.safe_mode_computation_rewards = Some(0);
    }
    if want("safe_mode_storage_rebates") {
        s.safe_mode_storage_rebates = Some(0);
    }
    if want("safe_mode_non_refundable_storage_fee") {
        s.safe_mode_non_refundable_storage_fee = Some(0);
    }
    if want("parameters") {
        let mut p = pb::SystemParameters::default();
        p.epoch_duration_ms = Some(EPOCH_DURATION_MS);
        p.stake_subsidy_start_epoch = Some(0);
        p.min_validator_count = Some(VALIDATORS);
        p.max_validator_count = Some(VALIDATORS);
        p.min_validator_joining_stake = Some(0);
        p.validator_low_stake_threshold = Some(0);
        p.validator_very_low_stake_threshold = Some(0);
        p.validator_low_stake_grace_period = Some(0);
        s.parameters = Some(p);
    }
    if want("storage_fund") {
        // Every storage fee ever charged (the epoch never changes, so the
        // latest checkpoint's rolling summary covers the whole chain).
        let collected = state
            .latest_checkpoint()
            .map(|c| {
                let g = &c.summary.epoch_rolling_gas_cost_summary;
                g.storage_cost.saturating_sub(g.storage_rebate)
            })
            .unwrap_or(0);
        let mut f = pb::StorageFund::default();
        f.total_object_storage_rebates = Some(0);
        f.non_refundable_balance = Some(collected);
        s.storage_fund = Some(f);
    }
    if want("stake_subsidy") {
        let mut sub = pb::StakeSubsidy::default();
        sub.balance = Some(0);
        sub.distribution_counter = Some(0);
        sub.current_distribution_amount = Some(0);
        sub.stake_subsidy_period_length = Some(0);
        sub.stake_subsidy_decrease_rate = Some(0);
        s.stake_subsidy = Some(sub);
    }
    if want("validators") {
        let mut v = pb::ValidatorSet::default();
        v.total_stake = Some(0);
        s.validators = Some(v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> FieldMaskTree {
        FieldMaskTree::from_field_mask(&prost_types::FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        })
    }

    #[test]
    fn honours_the_mask_and_fills_what_the_sdk_reads() {
        let state = State::default();
        let only = system_state(&state, &mask(&["epoch", "reference_gas_price"]));
        assert_eq!(only.epoch, Some(0));
        assert_eq!(only.reference_gas_price, Some(REFERENCE_GAS_PRICE));
        assert_eq!(only.version, None);
        assert_eq!(only.parameters, None);

        // The paths `getCurrentSystemState` of @mysten/sui 2.33.1 asks for.
        let all = system_state(
            &state,
            &mask(&[
                "version",
                "epoch",
                "protocol_version",
                "reference_gas_price",
                "epoch_start_timestamp_ms",
                "safe_mode",
                "safe_mode_storage_rewards",
                "safe_mode_computation_rewards",
                "safe_mode_storage_rebates",
                "safe_mode_non_refundable_storage_fee",
                "parameters",
                "storage_fund",
                "stake_subsidy",
            ]),
        );
        assert_eq!(all.version, Some(SYSTEM_STATE_VERSION));
        assert_eq!(all.protocol_version, Some(PROTOCOL_VERSION));
        assert_eq!(all.safe_mode, Some(false));
        assert_eq!(all.safe_mode_non_refundable_storage_fee, Some(0));
        let p = all.parameters.expect("parameters");
        assert_eq!(p.epoch_duration_ms, Some(u64::MAX));
        assert_eq!(p.max_validator_count, Some(1));
        assert_eq!(p.validator_low_stake_grace_period, Some(0));
        let f = all.storage_fund.expect("storage fund");
        assert_eq!(f.total_object_storage_rebates, Some(0));
        assert_eq!(f.non_refundable_balance, Some(0));
        let sub = all.stake_subsidy.expect("stake subsidy");
        assert_eq!(sub.stake_subsidy_decrease_rate, Some(0));
        assert_eq!(all.validators, None);
    }
}
