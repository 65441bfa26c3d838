-- Accounts: roles, scoped tokens with expiry, private models shared by grants, and the audit log.

ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'developer';

-- Space-separated scopes. Tokens made before scopes existed could publish and run.
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'publish run';
-- Unix seconds; none: the token does not expire.
ALTER TABLE tokens ADD COLUMN expires_at INTEGER;
-- A label its owner chose, such as the machine it lives on.
ALTER TABLE tokens ADD COLUMN label TEXT;
CREATE INDEX tokens_user ON tokens (user_id);

-- 1: only the owner, the users granted it and admins see and run it.
ALTER TABLE models ADD COLUMN private INTEGER NOT NULL DEFAULT 0;

CREATE TABLE grants (
    model_id   INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model_id, user_id)
);
CREATE INDEX grants_user ON grants (user_id);

-- Who did what to which thing. `owner` is whose thing it was (a model's owner, a token's user),
-- so that people can read what concerns them. Rows are only ever added.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    owner   TEXT,
    target  TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_owner ON audit (owner, id);
