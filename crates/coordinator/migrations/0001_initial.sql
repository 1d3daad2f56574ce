-- Verity coordinator schema, version 1. Runs unchanged on SQLite and PostgreSQL: only types
-- both understand (BIGINT, TEXT), no auto-increment, no booleans. Addresses and hashes are
-- lower-case 0x-hex TEXT; token amounts are decimal TEXT (they exceed 64 bits); times are unix
-- seconds; u64 counters and bit sets are stored as their two's-complement BIGINT.

-- Registered operators: the on-chain record joined by the indexer.
CREATE TABLE nodes (
    operator         TEXT PRIMARY KEY,
    signer           TEXT NOT NULL,
    hardware_hash    TEXT NOT NULL,
    metadata_cid     TEXT NOT NULL,
    region           BIGINT NOT NULL,
    capabilities     BIGINT NOT NULL,
    stake            TEXT NOT NULL,
    locked           TEXT NOT NULL,
    jailed_until     BIGINT NOT NULL,
    tasks_completed  BIGINT NOT NULL,
    tasks_failed     BIGINT NOT NULL,
    times_slashed    BIGINT NOT NULL,
    registered       BIGINT NOT NULL
);
CREATE INDEX nodes_signer ON nodes (signer);

-- The latest accepted heartbeat per operator (off-chain; never journaled).
CREATE TABLE heartbeats (
    operator     TEXT PRIMARY KEY,
    seq          BIGINT NOT NULL,
    sent_at      BIGINT NOT NULL,
    received_at  BIGINT NOT NULL,
    telemetry    TEXT NOT NULL
);

-- Tasks as the chain describes them.
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    client          TEXT NOT NULL,
    mode            TEXT NOT NULL,
    status          TEXT NOT NULL,
    program_digest  TEXT NOT NULL,
    input_digest    TEXT NOT NULL,
    replication     BIGINT NOT NULL,
    bounty          TEXT NOT NULL,
    request         TEXT NOT NULL,
    result_digest   TEXT,
    created_at      BIGINT NOT NULL,
    settled_at      BIGINT
);
CREATE INDEX tasks_status ON tasks (status);

-- Who holds each seat of a task now.
CREATE TABLE assignments (
    task_id      TEXT NOT NULL,
    slot         BIGINT NOT NULL,
    operator     TEXT NOT NULL,
    backup       TEXT,
    status       TEXT NOT NULL,
    assigned_at  BIGINT NOT NULL,
    PRIMARY KEY (task_id, slot)
);
CREATE INDEX assignments_operator ON assignments (operator);

-- Every change of a seat's holder, with its reason.
CREATE TABLE reassignments (
    task_id        TEXT NOT NULL,
    slot           BIGINT NOT NULL,
    round          BIGINT NOT NULL,
    from_operator  TEXT NOT NULL,
    to_operator    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    at             BIGINT NOT NULL,
    PRIMARY KEY (task_id, slot, round)
);

-- Reputation inputs: one outcome per (task, operator).
CREATE TABLE outcomes (
    task_id     TEXT NOT NULL,
    operator    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          BIGINT NOT NULL,
    latency_ms  BIGINT,
    PRIMARY KEY (task_id, operator)
);
CREATE INDEX outcomes_operator ON outcomes (operator, at);

-- Blocks the indexer has processed, newest kept for reorg detection.
CREATE TABLE indexer_blocks (
    number  BIGINT PRIMARY KEY,
    hash    TEXT NOT NULL
);

-- Every chain log applied to the projection, keyed as the chain keys it. `seq` is the order of
-- application (reverts go strictly newest first).
CREATE TABLE journal (
    block_hash    TEXT NOT NULL,
    log_index     BIGINT NOT NULL,
    block_number  BIGINT NOT NULL,
    tx_hash       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    seq           BIGINT NOT NULL UNIQUE,
    PRIMARY KEY (block_hash, log_index)
);
CREATE INDEX journal_block_number ON journal (block_number);

-- The before-image of every projection row a journaled log changed, in order (`step`), so
-- removing the log restores exactly what was there (`before` NULL: the row did not exist).
CREATE TABLE journal_undo (
    block_hash  TEXT NOT NULL,
    log_index   BIGINT NOT NULL,
    step        BIGINT NOT NULL,
    entity      TEXT NOT NULL,
    after       TEXT NOT NULL,
    before      TEXT,
    PRIMARY KEY (block_hash, log_index, step)
);
