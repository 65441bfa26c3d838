-- How long each file is kept. A file of a run lives as long as its run (`run_id`); uploads and
-- the files of one-call predictions are kept until `expires_at` (Unix seconds) unless a run
-- takes them first. `uploader` (`user:NAME` or `addr:IP`) counts uploads against a quota.
-- Files stored before this migration have neither and are kept.
ALTER TABLE files ADD COLUMN run_id TEXT;
ALTER TABLE files ADD COLUMN uploader TEXT;
ALTER TABLE files ADD COLUMN expires_at INTEGER;
CREATE INDEX files_run ON files (run_id);
CREATE INDEX files_uploader ON files (uploader, expires_at);
CREATE INDEX files_expiry ON files (expires_at);
CREATE INDEX runs_updated ON runs (updated_at);
