-- 004_report_totals.sql: each report carries its records' verdicts
-- summed, so that a summary over a period reads one row per report
-- instead of every record: on 10 million records, one domain's month is
-- a few hundred report rows (tests/bench/query.sh). dmarcd adds them up
-- while it streams the records and writes them with records and
-- messages, in the report's transaction. Definitions as in daily_domain:
-- counts of messages (record count summed) where policy_evaluated dkim
-- or spf is pass (dmarc_pass), dkim is pass, spf is pass, the
-- disposition is quarantine, reject.
ALTER TABLE dmarc.report
	ADD COLUMN IF NOT EXISTS dmarc_pass bigint NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS dkim_aligned bigint NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS spf_aligned bigint NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS quarantined bigint NOT NULL DEFAULT 0,
	ADD COLUMN IF NOT EXISTS rejected bigint NOT NULL DEFAULT 0;

-- Recompute the totals from the records: for reports stored before this
-- migration, and for rows written by hand (test fixtures, repairs).
-- NULL: every report.
CREATE OR REPLACE FUNCTION dmarc.report_totals_refresh(only_id bigint)
RETURNS void LANGUAGE sql AS $$
	UPDATE dmarc.report r
	SET	records = t.records, messages = t.messages,
		dmarc_pass = t.dmarc_pass, dkim_aligned = t.dkim_aligned,
		spf_aligned = t.spf_aligned, quarantined = t.quarantined,
		rejected = t.rejected
	FROM (
		SELECT	p.id,
			count(c.rep_id) AS records,
			coalesce(sum(c.count), 0) AS messages,
			coalesce(sum(c.count) FILTER (WHERE c.dkim = 'pass'
			    OR c.spf = 'pass'), 0) AS dmarc_pass,
			coalesce(sum(c.count) FILTER (WHERE c.dkim = 'pass'),
			    0) AS dkim_aligned,
			coalesce(sum(c.count) FILTER (WHERE c.spf = 'pass'),
			    0) AS spf_aligned,
			coalesce(sum(c.count) FILTER (WHERE
			    c.disposition = 'quarantine'), 0) AS quarantined,
			coalesce(sum(c.count) FILTER (WHERE
			    c.disposition = 'reject'), 0) AS rejected
		FROM	dmarc.report p
		LEFT JOIN dmarc.record c
		    ON c.rep_id = p.id AND c.begin_time = p.begin_time
		WHERE	only_id IS NULL OR p.id = only_id
		GROUP BY p.id) t
	WHERE	r.id = t.id;
$$;

SELECT dmarc.report_totals_refresh(NULL);

-- Per UTC day (of the report's begin) and policy domain, from the
-- totals: same columns as before, but a report without records now
-- counts as a report (it did not when this view read dmarc.record).
CREATE OR REPLACE VIEW dmarc.daily_domain AS
SELECT	(begin_time AT TIME ZONE 'UTC')::date AS day,
	domain,
	count(*) AS reports,
	sum(messages)::bigint AS messages,
	sum(dmarc_pass)::bigint AS dmarc_pass,
	sum(messages - dmarc_pass)::bigint AS dmarc_fail,
	sum(dkim_aligned)::bigint AS dkim_aligned,
	sum(spf_aligned)::bigint AS spf_aligned,
	sum(quarantined)::bigint AS quarantined,
	sum(rejected)::bigint AS rejected
FROM	dmarc.report
GROUP BY 1, 2;
