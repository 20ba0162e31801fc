-- floe indexer schema, version 5: governance proposals of every kind, every
-- vote and every outcome, and the subsidy pool's payments.
--
-- Proposal ids (the events spec shared with the contracts):
--   parameter-<id>                    floe's parameter proposals
--   upgrade-<epoch>-<digest hex>      package upgrade votes (Walrus's)
--   slashing-<epoch>-<candidate 0x..> slashing votes (Walrus's)
-- Statuses: parameter open|passed|applied|expired; upgrade
-- open|quorum|authorized|upgraded|expired; slashing open|quorum|executed|
-- expired. Upgrade and slashing votes are bound to their epoch, so the
-- start of a later epoch expires those still open or at quorum (written by
-- the committer with the position of that EpochChangeStart).
--
-- As everywhere, a proposal row remembers the position of its last fact
-- and moves only forward; votes and subsidy payments are facts keyed by
-- what they are about (inserted once). So a replay changes no row.
--
-- Version 1 keyed upgrade proposals by digest alone and no version applied
-- the parameter proposals' events: the governance rows are rebuilt by
-- indexing again from the first checkpoint (every write is idempotent, so
-- the other tables are left exactly as they are).

DELETE FROM governance_votes;
DELETE FROM governance_proposals;
DELETE FROM watermarks;

ALTER TABLE governance_proposals
    ADD COLUMN proposer TEXT,
    ADD COLUMN votes_for INT NOT NULL DEFAULT 0,
    ADD COLUMN votes_against INT NOT NULL DEFAULT 0,
    ADD COLUMN outcome JSONB,
    ADD COLUMN outcome_ms BIGINT,
    ADD COLUMN created_pos BIGINT NOT NULL,
    ADD COLUMN created_ms BIGINT;
ALTER TABLE governance_proposals
    ADD CONSTRAINT governance_proposals_kind
        CHECK (kind IN ('parameter', 'upgrade', 'slashing'));
CREATE UNIQUE INDEX governance_proposals_created ON governance_proposals (created_pos);
CREATE INDEX governance_proposals_status ON governance_proposals (status, created_pos);
CREATE INDEX governance_proposals_kind_status ON governance_proposals (kind, status, created_pos);

ALTER TABLE governance_votes
    ADD COLUMN in_favor BOOLEAN NOT NULL,
    ADD COLUMN tx_digest TEXT NOT NULL,
    ADD COLUMN timestamp_ms BIGINT;

-- The subsidy pool: funding (kind 'funded': amount, pool balance after),
-- one row per committee node paid (kind 'node': epoch, node, amount) and
-- one per process_subsidies call that paid anything (kind 'paid': amount =
-- total to nodes, future_subsidies = total added to future epochs'
-- rewards, pool balance after).
CREATE TABLE subsidy_payments (
    pos BIGINT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('funded', 'node', 'paid')),
    epoch INT,
    node_id TEXT,
    amount BIGINT NOT NULL,
    future_subsidies BIGINT,
    pool_balance BIGINT,
    tx_digest TEXT NOT NULL,
    timestamp_ms BIGINT
);
CREATE INDEX subsidy_payments_kind ON subsidy_payments (kind, pos);
CREATE INDEX subsidy_payments_node ON subsidy_payments (node_id, pos) WHERE node_id IS NOT NULL;
