-- A run whose next step is being run is `running`, claimed by `claim_token` until
-- `claim_expires` (Unix seconds): one caller runs each step, whichever replica it reached, and
-- only the holder may record its outcome or give it back. A claim whose holder died lapses at
-- that time and the step can be answered again.
ALTER TABLE runs ADD COLUMN claim_expires INTEGER;
ALTER TABLE runs ADD COLUMN claim_token TEXT;
