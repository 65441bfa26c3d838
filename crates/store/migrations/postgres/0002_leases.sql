-- Leases: work that one replica at a time does (collecting unused files and blobs), held by
-- `holder` until `until` (RFC 3339, as every time), renewed by its holder, taken over once it
-- lapses.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  TEXT NOT NULL
);
