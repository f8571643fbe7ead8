-- 005_attempt.sql: a message that kills dmarcd (a crash, the OOM killer:
-- not a report that fails to parse, which is rejected and filed) would
-- be fetched again after every restart and stop its mailbox for good.
-- The daemon notes here, committed before it starts on a message, which
-- run of it (owner: a random token per process) is on it, and clears the
-- row when the message is filed. attempts counts the runs that started
-- the message and never finished it: a run that stops on an error (the
-- server or the database went away) and comes back to the message is
-- the same owner and doesn't count again. A message found with too many
-- is quarantined instead of tried again.
CREATE TABLE IF NOT EXISTS dmarc.attempt (
	source		text NOT NULL,		-- as in dmarc.ingest
	input		text NOT NULL,		-- as in dmarc.ingest
	owner		text NOT NULL,
	attempts	int NOT NULL DEFAULT 1 CHECK (attempts > 0),
	first_at	timestamptz NOT NULL DEFAULT now(),
	last_at		timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (source, input)
);

DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc.attempt
		    TO dmarc_writer;
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		GRANT SELECT ON dmarc.attempt TO dmarc_reader;
	END IF;
END
$$;
