-- Counting a model's runs for its summary.
CREATE INDEX runs_model ON runs (owner, name);
