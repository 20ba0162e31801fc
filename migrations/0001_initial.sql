-- floe indexer schema, version 1.
--
-- Positions: every chain fact has a position `pos` = checkpoint << 32 |
-- transaction index << 16 | event index (effects of a transaction use event
-- index 65535, after its events). State rows remember the position of the
-- last fact applied to them and only move forward, so replaying a batch
-- changes nothing.
--
-- Tables for staking, governance and payments exist now and fill as the
-- contracts that emit their events land (see indexer/README section in the
-- top-level README).

-- One row per pipeline: the last checkpoint fully written, and the chain it
-- came from (an index is never pointed at another chain).
CREATE TABLE watermarks (
    pipeline TEXT PRIMARY KEY,
    chain_id TEXT NOT NULL,
    checkpoint BIGINT NOT NULL,
    timestamp_ms BIGINT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Checkpoints seen (cheap: one row each), for timestamps and lag.
CREATE TABLE checkpoints (
    sequence_number BIGINT PRIMARY KEY,
    digest TEXT,
    timestamp_ms BIGINT,
    transactions INT NOT NULL,
    floe_events INT NOT NULL
);

-- Every event of the floe and WAL packages, with its position and its
-- fields decoded through floe_core::move_types (NULL when the layout is not
-- known yet; the raw BCS is kept).
CREATE TABLE events (
    pos BIGINT PRIMARY KEY,
    checkpoint BIGINT NOT NULL,
    tx_digest TEXT NOT NULL,
    event_index INT NOT NULL,
    sender TEXT NOT NULL,
    module TEXT NOT NULL,
    name TEXT NOT NULL,
    type_tag TEXT NOT NULL,
    fields JSONB,
    bcs BYTEA NOT NULL,
    timestamp_ms BIGINT,
    -- The floe object the event is about (blob, node, pool), when it names one.
    object_id TEXT
);
CREATE INDEX events_object ON events (object_id, pos) WHERE object_id IS NOT NULL;
CREATE INDEX events_name ON events (name, pos);
CREATE INDEX events_tx ON events (tx_digest);

-- Current state of every Blob object. status: registered, certified,
-- deleted, invalid (expired is derived at read time from end_epoch and the
-- current epoch, since expiry happens without a transaction).
CREATE TABLE blobs (
    object_id TEXT PRIMARY KEY,
    blob_id TEXT NOT NULL,
    owner TEXT,
    size BIGINT,
    encoded_size BIGINT,
    encoding_type SMALLINT,
    deletable BOOLEAN,
    registered_epoch INT,
    certified_epoch INT,
    end_epoch INT,
    status TEXT NOT NULL,
    attributes JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_pos BIGINT NOT NULL,
    -- Position of the last event applied; owner_pos of the last object change.
    updated_pos BIGINT NOT NULL,
    owner_pos BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX blobs_blob_id ON blobs (blob_id);
CREATE INDEX blobs_owner ON blobs (owner, object_id);
CREATE INDEX blobs_end_epoch ON blobs (end_epoch, object_id);
CREATE INDEX blobs_status ON blobs (status, object_id);

-- Blob ids certified invalid (an InvalidBlobID event): a blob registered
-- later under the same id is invalid too.
CREATE TABLE invalid_blob_ids (
    blob_id TEXT PRIMARY KEY,
    epoch INT NOT NULL,
    pos BIGINT NOT NULL
);

-- The aggregate per blob id, always consistent with `blobs`.
CREATE VIEW blob_ids AS
SELECT b.blob_id,
       count(*) AS objects,
       count(*) FILTER (WHERE b.status = 'certified') AS certified_objects,
       count(*) FILTER (WHERE b.status = 'certified' AND NOT coalesce(b.deletable, false)) AS permanent_certified,
       max(b.end_epoch) FILTER (WHERE b.status = 'certified') AS certified_until,
       min(b.certified_epoch) AS first_certified_epoch,
       max(b.size) AS size,
       (i.blob_id IS NOT NULL) AS invalid
FROM blobs b LEFT JOIN invalid_blob_ids i ON i.blob_id = b.blob_id
GROUP BY b.blob_id, i.blob_id;

-- Storage resources (Storage objects). Filled once Storage objects can be
-- recognised from checkpoint data (object types are not in effects).
CREATE TABLE storage_resources (
    object_id TEXT PRIMARY KEY,
    owner TEXT,
    start_epoch INT NOT NULL,
    end_epoch INT NOT NULL,
    storage_size BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT false,
    updated_pos BIGINT NOT NULL
);
CREATE INDEX storage_owner ON storage_resources (owner, object_id);

-- Epochs: start and done positions/times (events), parameters and prices.
CREATE TABLE epochs (
    epoch INT PRIMARY KEY,
    start_checkpoint BIGINT,
    start_ms BIGINT,
    done_checkpoint BIGINT,
    done_ms BIGINT,
    params_selected_ms BIGINT,
    storage_price BIGINT,
    write_price BIGINT,
    total_capacity BIGINT,
    n_shards INT,
    updated_pos BIGINT NOT NULL
);

-- Committee per epoch and the shards each member holds.
CREATE TABLE committee_members (
    epoch INT NOT NULL,
    node_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    weight INT NOT NULL,
    shards INT[] NOT NULL,
    PRIMARY KEY (epoch, node_id)
);
CREATE INDEX committee_node ON committee_members (node_id, epoch);

-- Storage nodes: metadata, stake, commission, votes.
CREATE TABLE storage_nodes (
    node_id TEXT PRIMARY KEY,
    name TEXT,
    public_key TEXT,
    network_address TEXT,
    stake BIGINT,
    commission_rate INT,
    votes JSONB,
    metadata JSONB,
    updated_pos BIGINT NOT NULL
);

-- Stake history per node and epoch.
CREATE TABLE node_stake_history (
    node_id TEXT NOT NULL,
    epoch INT NOT NULL,
    stake BIGINT NOT NULL,
    PRIMARY KEY (node_id, epoch)
);

-- StakedWal objects.
CREATE TABLE staked_wal (
    object_id TEXT PRIMARY KEY,
    owner TEXT,
    node_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    activation_epoch INT,
    withdraw_epoch INT,
    state TEXT NOT NULL,
    updated_pos BIGINT NOT NULL
);
CREATE INDEX staked_owner ON staked_wal (owner, object_id);

-- Payments: storage and write fees per transaction, rewards and commission
-- per node per epoch, burns, subsidies. kind is one of storage_fee,
-- write_fee, reward, commission, burn, subsidy.
CREATE TABLE payments (
    pos BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payer TEXT,
    node_id TEXT,
    epoch INT,
    amount BIGINT NOT NULL,
    tx_digest TEXT NOT NULL,
    PRIMARY KEY (pos, kind)
);
CREATE INDEX payments_payer ON payments (payer, pos);
CREATE INDEX payments_node ON payments (node_id, epoch);

-- Governance proposals and votes.
CREATE TABLE governance_proposals (
    proposal_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    epoch INT NOT NULL,
    payload JSONB NOT NULL,
    status TEXT NOT NULL,
    updated_pos BIGINT NOT NULL
);
CREATE TABLE governance_votes (
    proposal_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    weight INT NOT NULL,
    pos BIGINT NOT NULL,
    PRIMARY KEY (proposal_id, node_id)
);

-- The chain's current system state (epoch, capacity, prices), read from
-- the System object; one row.
CREATE TABLE system_state (
    id INT PRIMARY KEY CHECK (id = 1),
    epoch INT NOT NULL,
    total_capacity BIGINT NOT NULL,
    used_capacity BIGINT NOT NULL,
    storage_price BIGINT NOT NULL,
    write_price BIGINT NOT NULL,
    n_shards INT NOT NULL
);
