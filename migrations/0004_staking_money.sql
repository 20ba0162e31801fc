-- floe indexer schema, version 4: staking and the money of epochs, read
-- from the object contents checkpoints carry (the contracts emit no
-- staking events, as on Walrus): staking pools, `StakedWal` objects, the
-- system's rewards ring, the WAL treasury and shared blobs.
--
-- Amounts are FROST (1 WAL = 10^9 FROST); node ids are `0x` + 64 hex
-- digits, as the chain prints them. Every row carries the position of the
-- chain fact behind it; fact rows are keyed so that a replay inserts
-- nothing, state rows move only forward (see 0001).

-- The pool's state as its pool object last showed it.
ALTER TABLE storage_nodes
    ADD COLUMN pending_stake BIGINT,
    ADD COLUMN num_shares BIGINT,
    ADD COLUMN rewards_pool BIGINT,
    ADD COLUMN commission_balance BIGINT,
    ADD COLUMN latest_epoch INT,
    ADD COLUMN activation_epoch INT,
    ADD COLUMN pool_state TEXT;

-- A pool at the start of `epoch`: written when the pool is created (its
-- first epoch, no stake) and each time it is advanced to a new epoch at an
-- epoch change. stake = the pool's `wal_balance` after the advance (active
-- stake plus the stakers' rewards, pending stake joined, due withdrawals
-- gone); the exchange rate is the one the pool recorded for the epoch
-- (WAL per share, rate_wal / rate_shares; a flat rate is 1 / 1);
-- commission_rate in basis points; shards the node holds in the epoch's
-- committee (empty when outside it, NULL when the transaction did not
-- carry the staking state).
CREATE TABLE pool_epochs (
    node_id TEXT NOT NULL,
    epoch INT NOT NULL,
    stake BIGINT NOT NULL,
    num_shares BIGINT NOT NULL,
    rate_wal NUMERIC NOT NULL,
    rate_shares NUMERIC NOT NULL,
    commission_rate INT NOT NULL,
    shards INT[],
    pos BIGINT NOT NULL,
    PRIMARY KEY (node_id, epoch)
);
CREATE INDEX pool_epochs_epoch ON pool_epochs (epoch, node_id);

-- What the end of `epoch` paid (the `initiate_epoch_change` that left it):
-- bucket = the WAL prepaid for the epoch (its rewards-ring entry before
-- the change), burnt = the fall of the WAL supply in that transaction,
-- distributed = the sum of what the old committee's pools received,
-- carried_over = what the next epoch's ring entry gained (the rounding
-- left over). The chain keeps bucket = burnt + distributed + carried_over;
-- the index stores the four as read, so a test or a reader can check it.
CREATE TABLE epoch_rewards (
    epoch INT PRIMARY KEY,
    bucket BIGINT NOT NULL,
    burnt BIGINT NOT NULL,
    distributed BIGINT NOT NULL,
    carried_over BIGINT NOT NULL,
    used_capacity BIGINT NOT NULL,
    nodes INT NOT NULL,
    pos BIGINT NOT NULL,
    tx_digest TEXT NOT NULL,
    timestamp_ms BIGINT
);

-- Per node of the ended epoch's committee: weight = its shards in that
-- epoch, reward = all its pool received (commission + stakers), commission
-- = the part added to the pool's commission balance, stakers = the part
-- added to its rewards pool.
CREATE TABLE node_rewards (
    epoch INT NOT NULL,
    node_id TEXT NOT NULL,
    weight INT NOT NULL,
    reward BIGINT NOT NULL,
    commission BIGINT NOT NULL,
    stakers BIGINT NOT NULL,
    pos BIGINT NOT NULL,
    PRIMARY KEY (epoch, node_id)
);
CREATE INDEX node_rewards_node ON node_rewards (node_id, epoch);

-- The StakedWal life cycle: created (state 'staked'; active once the
-- current epoch reaches activation_epoch, derived at read time),
-- 'withdrawing' (withdraw_epoch set), then 'withdrawn' (the object deleted
-- by withdraw_stake: withdrawn_amount = principal + rewards), 'merged'
-- (joined into another stake) or 'wrapped'. `owner` stays the last owner
-- after deletion. rewards is NULL when one transaction withdrew several
-- stakes of one pool (the pool's balances do not tell them apart).
ALTER TABLE staked_wal
    ADD COLUMN created_pos BIGINT,
    ADD COLUMN withdraw_requested_pos BIGINT,
    ADD COLUMN withdrawn_pos BIGINT,
    ADD COLUMN withdrawn_amount BIGINT,
    ADD COLUMN rewards BIGINT;
CREATE INDEX staked_node ON staked_wal (node_id, object_id);

-- Commission collected from a pool (its commission balance fell).
CREATE TABLE commission_collections (
    pos BIGINT NOT NULL,
    node_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    collector TEXT NOT NULL,
    tx_digest TEXT NOT NULL,
    PRIMARY KEY (pos, node_id)
);
CREATE INDEX commission_collections_node ON commission_collections (node_id, pos);

-- Shared blobs (`shared_blob::SharedBlob`) and their funds.
CREATE TABLE shared_blobs (
    object_id TEXT PRIMARY KEY,
    blob_object_id TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    storage_size BIGINT NOT NULL,
    end_epoch INT NOT NULL,
    funds BIGINT NOT NULL,
    created_pos BIGINT NOT NULL,
    updated_pos BIGINT NOT NULL
);

-- A shared blob's end epoch moved: an extension paid from its funds.
-- cost = storage price x units of its storage size x added epochs (what
-- `extend_blob` charges), at the price of that transaction.
CREATE TABLE shared_blob_renewals (
    pos BIGINT NOT NULL,
    shared_blob_id TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    from_end_epoch INT NOT NULL,
    to_end_epoch INT NOT NULL,
    cost BIGINT NOT NULL,
    funds_after BIGINT NOT NULL,
    payer TEXT NOT NULL,
    tx_digest TEXT NOT NULL,
    PRIMARY KEY (pos, shared_blob_id)
);
CREATE INDEX shared_blob_renewals_blob ON shared_blob_renewals (shared_blob_id, pos);

-- The epoch a checkpoint belongs to: the last epoch whose
-- EpochChangeStart came at or before it (0 before any).
CREATE FUNCTION epoch_at(checkpoint BIGINT) RETURNS INT LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(epoch), 0) FROM epochs WHERE start_checkpoint <= checkpoint
$$;

-- What a stake of `principal` FROST with `node`, active from `activation`,
-- is worth at the start of epoch `at_epoch`, as `withdraw_stake` would
-- compute it: rate(at).to_wal(rate(activation).to_shares(principal)),
-- where rate(e) is the last rate the pool recorded at or before e (flat
-- before any) and conversions are floor divisions. Before activation it is
-- the principal.
CREATE FUNCTION stake_value(node TEXT, principal BIGINT, activation INT, at_epoch INT)
RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN at_epoch < activation THEN principal ELSE
        div(div(principal::numeric * coalesce(a.rate_shares, 1), coalesce(a.rate_wal, 1))
            * coalesce(r.rate_wal, 1), coalesce(r.rate_shares, 1))::int8 END
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (SELECT rate_wal, rate_shares FROM pool_epochs
                       WHERE node_id = node AND epoch <= activation
                       ORDER BY epoch DESC LIMIT 1) a ON true
    LEFT JOIN LATERAL (SELECT rate_wal, rate_shares FROM pool_epochs
                       WHERE node_id = node AND epoch <= at_epoch
                       ORDER BY epoch DESC LIMIT 1) r ON true
$$;
