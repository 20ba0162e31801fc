#[test_only]
module wal::wal_tests;

use sui::coin::{Self, Coin, CoinMetadata};
use sui::test_scenario;
use wal::wal::{Self, WAL, ProtectedTreasury};

const PUBLISHER: address = @0xa11ce;
const OTHER: address = @0xb0b;

#[test]
fun init_mints_whole_supply_to_publisher() {
    let mut scenario = test_scenario::begin(PUBLISHER);
    wal::init_for_testing(scenario.ctx());
    scenario.next_tx(PUBLISHER);

    let coin = scenario.take_from_sender<Coin<WAL>>();
    assert!(coin.value() == 5_000_000_000_000_000_000);
    assert!(coin.value() == wal::initial_supply());
    scenario.return_to_sender(coin);

    let treasury = scenario.take_shared<ProtectedTreasury>();
    assert!(treasury.total_supply() == 5_000_000_000_000_000_000);
    test_scenario::return_shared(treasury);

    let metadata = scenario.take_immutable<CoinMetadata<WAL>>();
    assert!(metadata.get_decimals() == 9);
    assert!(metadata.get_symbol() == std::ascii::string(b"WAL"));
    test_scenario::return_immutable(metadata);
    scenario.end();
}

#[test]
fun burn_reduces_total_supply() {
    let mut scenario = test_scenario::begin(PUBLISHER);
    wal::init_for_testing(scenario.ctx());
    scenario.next_tx(PUBLISHER);

    let mut supply = scenario.take_from_sender<Coin<WAL>>();
    let part = supply.split(1_000, scenario.ctx());
    transfer::public_transfer(part, OTHER);
    scenario.return_to_sender(supply);
    scenario.next_tx(OTHER);

    let part = scenario.take_from_sender<Coin<WAL>>();
    let mut treasury = scenario.take_shared<ProtectedTreasury>();
    treasury.burn(part);
    assert!(treasury.total_supply() == wal::initial_supply() - 1_000);
    // Burning a zero coin is allowed and changes nothing.
    treasury.burn(coin::zero<WAL>(scenario.ctx()));
    assert!(treasury.total_supply() == wal::initial_supply() - 1_000);
    test_scenario::return_shared(treasury);
    scenario.end();
}

#[test]
fun burn_balance_reduces_total_supply() {
    let mut scenario = test_scenario::begin(PUBLISHER);
    wal::init_for_testing(scenario.ctx());
    scenario.next_tx(PUBLISHER);

    let mut supply = scenario.take_from_sender<Coin<WAL>>();
    let part = supply.split(700, scenario.ctx());
    scenario.return_to_sender(supply);
    let mut treasury = scenario.take_shared<ProtectedTreasury>();
    treasury.burn_balance(part.into_balance());
    assert!(treasury.total_supply() == wal::initial_supply() - 700);
    test_scenario::return_shared(treasury);
    scenario.end();
}
