-- Claims on blobs. A write that stores the bytes of `digest`, or finds them stored and relies
-- on them, counts itself in `writers` (`claimed_at`: its claim's time, RFC 3339) until what
-- names them is recorded. A collector removes a blob only holding its row, and only when no
-- write counts itself, so no write relies on bytes being removed. A write that died is not
-- counted once its claim is older than a write may take.
CREATE TABLE blob_claims (
    digest     TEXT PRIMARY KEY,
    writers    BIGINT NOT NULL,
    claimed_at TEXT NOT NULL
);
