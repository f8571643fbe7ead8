-- 003_failure.sql: failure (ruf) reports get stored. What 001 lacked:
-- who sent the report, the raw values we could not read, a key that
-- makes a report sent twice a duplicate, a per-day view, the grants.
ALTER TABLE dmarc.failure_report
	ADD COLUMN IF NOT EXISTS reporter text,		-- From: of the report
	ADD COLUMN IF NOT EXISTS arrival_date_raw text,
	ADD COLUMN IF NOT EXISTS source_ip_raw text,
	ADD COLUMN IF NOT EXISTS orig_headers_only boolean NOT NULL
	    DEFAULT false,				-- text/rfc822-headers
	-- the original's Message-ID, or when it has none and there is no
	-- Arrival-Date either, the SHA-256 of the report mail: without
	-- both, two reports of one IP would otherwise be one
	ADD COLUMN IF NOT EXISTS dedup_id text NOT NULL DEFAULT '';

CREATE UNIQUE INDEX IF NOT EXISTS failure_report_dedup
	ON dmarc.failure_report ((coalesce(reporter, '')),
	    (coalesce(source_ip, '0.0.0.0'::inet)),
	    (coalesce(arrival_date, 'epoch'::timestamptz)), dedup_id);
CREATE INDEX IF NOT EXISTS failure_report_ingested
	ON dmarc.failure_report (ingested_at);

-- One row per day (UTC; Arrival-Date, or when it was stored), reported
-- domain and source IP.
CREATE OR REPLACE VIEW dmarc.daily_failure AS
	SELECT (coalesce(f.arrival_date, f.ingested_at)
	    AT TIME ZONE 'UTC')::date AS day,
	    d.domain AS reported_domain, f.source_ip, count(*) AS reports
	FROM dmarc.failure_report f
	LEFT JOIN LATERAL unnest(f.reported_domain) AS d(domain) ON true
	GROUP BY 1, 2, 3;

DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc.failure_report
		    TO dmarc_writer;
		GRANT SELECT ON dmarc.daily_failure TO dmarc_writer;
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		GRANT SELECT ON dmarc.failure_report, dmarc.daily_failure
		    TO dmarc_reader;
	END IF;
END
$$;
