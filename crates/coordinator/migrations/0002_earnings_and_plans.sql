-- Verity coordinator schema, version 2.

-- What the market credited each operator as payouts (its share of finalized bounties), decimal
-- token wei, kept by the indexer from `TaskFinalized`.
ALTER TABLE nodes ADD COLUMN earnings TEXT NOT NULL DEFAULT '0';

-- The assigner's plan for a task: the primary it asked the chain to seat and the backup that
-- takes the seat over if the primary fails. Off-chain knowledge (never journaled): the indexer
-- copies the backup into `assignments.backup` when the chain confirms the assignment.
CREATE TABLE assignment_plans (
    task_id   TEXT NOT NULL,
    slot      BIGINT NOT NULL,
    operator  TEXT NOT NULL,
    backup    TEXT,
    PRIMARY KEY (task_id, slot)
);

-- Why the assigner asked the chain to move a seat (off-chain; the indexer reads it when the
-- `Reassigned` event lands, so the recorded reassignment carries the reason).
CREATE TABLE failover_intents (
    task_id      TEXT NOT NULL,
    slot         BIGINT NOT NULL,
    to_operator  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (task_id, slot, to_operator)
);
