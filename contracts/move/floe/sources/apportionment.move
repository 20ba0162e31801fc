// Copyright (c) floe authors
// SPDX-License-Identifier: Apache-2.0

/// Shards for stake: D'Hondt (Jefferson) apportionment of `n_shards` seats
/// over the nodes' stakes, with a per-node cap.
///
/// The cap is `n_shards / 10` with at least 20 nodes and
/// `ceil(2 * n_shards / n)` below that, raised to `ceil(n_shards / n)` so
/// every shard finds a node. Each node first gets its Hagenbach-Bischoff
/// lower bound `stake / (total / (n_shards + 1) + 1)` (capped); those
/// seats are exactly the quotients D'Hondt would hand out first, so the
/// bound only saves work. The remaining shards go one by one to the
/// uncapped node with the highest quotient `stake / (seats + 1)`, compared
/// exactly in u128; equal quotients go to the earlier node.
///
/// (The scan is O(n_shards * n) per call, bounded by the active set's 150
/// nodes; a heap would make it O(n_shards log n).)
module floe::apportionment;

/// With at least this many nodes the cap is `n_shards / SHARDS_LIMIT_DENOMINATOR`.
const MIN_NODES_FOR_SHARDS_LIMIT: u64 = 20;
/// See `MIN_NODES_FOR_SHARDS_LIMIT`.
const SHARDS_LIMIT_DENOMINATOR: u64 = 10;

/// Shards per node for `stakes` (in the active set's order); the result
/// sums to `n_shards` unless `stakes` is empty.
public fun apportion(stakes: vector<u64>, n_shards: u16): vector<u16> {
    let n = stakes.length();
    if (n == 0) return vector[];
    let seats_total = (n_shards as u64);
    let cap = max_shards_per_node(n, seats_total);
    let mut total: u128 = 0;
    stakes.do_ref!(|s| total = total + (*s as u128));
    let quota = total / ((seats_total as u128) + 1) + 1;
    let mut seats = vector[];
    let mut assigned = 0;
    let mut i = 0;
    while (i < n) {
        let lower = (((stakes[i] as u128) / quota) as u64);
        let lower = if (lower > cap) { cap } else { lower };
        seats.push_back(lower);
        assigned = assigned + lower;
        i = i + 1;
    };
    while (assigned < seats_total) {
        let mut best = n;
        let mut i = 0;
        while (i < n) {
            if (seats[i] < cap) {
                if (best == n || higher_quotient(stakes[i], seats[i], stakes[best], seats[best])) {
                    best = i;
                };
            };
            i = i + 1;
        };
        if (best == n) break;
        let current = seats[best];
        *&mut seats[best] = current + 1;
        assigned = assigned + 1;
    };
    seats.map!(|s| (s as u16))
}

/// The per-node cap for `n` nodes and `n_shards` shards.
public fun max_shards_per_node(n: u64, n_shards: u64): u64 {
    if (n == 0) return 0;
    let cap = if (n >= MIN_NODES_FOR_SHARDS_LIMIT) {
        n_shards / SHARDS_LIMIT_DENOMINATOR
    } else {
        (n_shards * 20 + n * 10 - 1) / (n * 10)
    };
    let fair = (n_shards + n - 1) / n;
    if (cap < fair) { fair } else { cap }
}

/// Whether `a / (a_seats + 1)` is strictly above `b / (b_seats + 1)`.
fun higher_quotient(a: u64, a_seats: u64, b: u64, b_seats: u64): bool {
    (a as u128) * ((b_seats as u128) + 1) > (b as u128) * ((a_seats as u128) + 1)
}
