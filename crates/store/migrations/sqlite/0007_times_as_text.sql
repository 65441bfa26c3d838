-- One time representation: expiries become RFC 3339 text in UTC with six decimals, as every
-- other time the registry keeps, so that times compare as text on every engine. (They were
-- Unix seconds.) SQLite cannot change a column's type: each goes through a new column.
DROP INDEX files_uploader;
DROP INDEX files_expiry;

ALTER TABLE tokens ADD COLUMN expires TEXT;
UPDATE tokens SET expires = strftime('%Y-%m-%dT%H:%M:%S.000000Z', expires_at, 'unixepoch')
    WHERE expires_at IS NOT NULL;
ALTER TABLE tokens DROP COLUMN expires_at;
ALTER TABLE tokens RENAME COLUMN expires TO expires_at;

ALTER TABLE runs ADD COLUMN claim_until TEXT;
UPDATE runs SET claim_until = strftime('%Y-%m-%dT%H:%M:%S.000000Z', claim_expires, 'unixepoch')
    WHERE claim_expires IS NOT NULL;
ALTER TABLE runs DROP COLUMN claim_expires;
ALTER TABLE runs RENAME COLUMN claim_until TO claim_expires;

ALTER TABLE files ADD COLUMN expires TEXT;
UPDATE files SET expires = strftime('%Y-%m-%dT%H:%M:%S.000000Z', expires_at, 'unixepoch')
    WHERE expires_at IS NOT NULL;
ALTER TABLE files DROP COLUMN expires_at;
ALTER TABLE files RENAME COLUMN expires TO expires_at;

CREATE INDEX files_uploader ON files (uploader, expires_at);
CREATE INDEX files_expiry ON files (expires_at);
