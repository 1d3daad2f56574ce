-- Verity coordinator schema, version 3.

-- Each seat's execution log, as its node reported it (signed by the operator's registered node
-- key; off-chain, never journaled). `log` is the log's exact bytes (UTF-8 JSON, bounded by the
-- intake), `log_digest` their sha2-256: the id of the blob the node stored them under. A later
-- report for the same seat replaces the earlier one.
CREATE TABLE task_logs (
    task_id      TEXT NOT NULL,
    operator     TEXT NOT NULL,
    log_digest   TEXT NOT NULL,
    log          TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (task_id, operator)
);
