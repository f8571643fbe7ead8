-- 002_ledger_input.sql: the daemon asks the ledger whether it has seen a
-- message (source, input) before fetching it again; make that a lookup.
CREATE INDEX IF NOT EXISTS ingest_source_input ON dmarc.ingest (source, input);
