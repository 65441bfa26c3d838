-- Runs, their steps, and files uploaded to or produced by them. File bytes and run state live
-- in the blob store under their SHA-256; these rows name them.

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    next_step   INTEGER NOT NULL,
    -- The input components the next step expects (JSON), from the previous step's outputs.
    awaiting    TEXT,
    created_by  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE run_steps (
    run_id       TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    step         TEXT NOT NULL,
    inputs       TEXT NOT NULL,
    outputs      TEXT,
    error        TEXT,
    state_digest TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, idx)
);
CREATE INDEX run_steps_state ON run_steps (state_digest);

CREATE TABLE files (
    id         TEXT PRIMARY KEY,
    digest     TEXT NOT NULL,
    name       TEXT,
    media_type TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX files_digest ON files (digest);
