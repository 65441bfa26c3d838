-- The registry: who may publish, what was published, and the names that point at it.
-- Plain SQL shared by SQLite and (later) Postgres: no engine-specific types.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Only a token's SHA-256 is kept; the token itself is shown once.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Title, description and tags mirror the newest version's manifest, for listing and search.
CREATE TABLE models (
    id           INTEGER PRIMARY KEY,
    owner        TEXT NOT NULL,
    name         TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    next_version INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (owner, name)
);

CREATE TABLE model_tags (
    model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (model_id, tag)
);

-- Versions are immutable; numbers are never reused, even after a deletion.
CREATE TABLE versions (
    model_id     INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    manifest     TEXT NOT NULL,
    digest       TEXT NOT NULL,
    bundle_size  INTEGER NOT NULL,
    bundle_files INTEGER NOT NULL,
    published_by TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (model_id, number)
);
CREATE INDEX versions_digest ON versions (digest);

CREATE TABLE aliases (
    model_id INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (model_id, name)
);
