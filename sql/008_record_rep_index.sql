-- 008_record_rep_index.sql: dmarc.record keeps one index, a btree on
-- rep_id, instead of the btree on (domain, begin_time) and the BRIN on
-- rep_id of 001. Every index is paid for by each record stored, and
-- these two were a third of what the server spends on a big import:
-- all the rows of a report have the same domain and begin_time, so each
-- row descended the btree comparing text, timestamp and heap TID (26% of
-- the backend's COPY instructions), the BRIN took another 7%. Binary
-- COPY of 200,000 rows into a table like dmarc.record cost the backend
-- 8.32 G instructions with both, 6.80 G (-18%) with a btree on rep_id
-- alone (callgrind). A report's rows are written together under ids
-- that only grow, so their entries land at the right edge of the tree.
--
-- Whoever wants the records of a domain or a period now goes through
-- dmarc.report, one row per report, found by report_domain (domain,
-- begin_time) or report_begin, and takes each report's records by rep_id
-- and begin_time (records carry their report's, which picks the
-- partition as the query runs), as dmarcq does, and daily_source below:
--   FROM dmarc.report p CROSS JOIN LATERAL (SELECT * FROM dmarc.record r
--       WHERE r.rep_id = p.id AND r.begin_time = p.begin_time OFFSET 0) r
--   WHERE p.domain = $1 AND p.begin_time >= $2 AND p.begin_time < $3
-- OFFSET 0 keeps it a loop over the reports: written as a join, the
-- planner multiplies the selectivities of the two conditions, expects a
-- few hundred rows where a domain's month has hundreds of thousands,
-- and hashes whole partitions instead. What is in a period was already
-- decided by the report's begin.
--
-- An index on the partitioned table is made on every partition, under a
-- lock that makes importers wait while it is built. 001 run again by
-- hand would make the old two again: drop them as below.

DROP INDEX IF EXISTS dmarc.record_domain;
DROP INDEX IF EXISTS dmarc.record_rep;
CREATE INDEX IF NOT EXISTS record_rep_id ON dmarc.record (rep_id);

-- Per UTC day of the reports' begin, policy domain and source address,
-- as in 007, now through the reports: a dashboard's filter on domain
-- (and on day) applies to the reports, found by report_domain, and
-- their records are found by rep_id. Same columns, same types: the view
-- is replaced in place.
CREATE OR REPLACE VIEW dmarc.daily_source AS
SELECT	(p.begin_time AT TIME ZONE 'UTC')::date AS day,
	p.domain,
	r.source_ip,
	sum(r.count)::bigint AS messages,
	coalesce(sum(r.count) FILTER (WHERE r.dkim = 'pass' OR r.spf = 'pass'),
	    0)::bigint AS dmarc_pass,
	(sum(r.count) - coalesce(sum(r.count)
	    FILTER (WHERE r.dkim = 'pass' OR r.spf = 'pass'), 0))::bigint
	    AS dmarc_fail,
	coalesce(sum(r.count) FILTER (WHERE r.dkim = 'pass'), 0)::bigint
	    AS dkim_aligned,
	coalesce(sum(r.count) FILTER (WHERE r.spf = 'pass'), 0)::bigint
	    AS spf_aligned,
	coalesce(sum(r.count) FILTER (WHERE r.disposition = 'quarantine'),
	    0)::bigint AS quarantined,
	coalesce(sum(r.count) FILTER (WHERE r.disposition = 'reject'),
	    0)::bigint AS rejected
FROM	dmarc.report p
	CROSS JOIN LATERAL (SELECT * FROM dmarc.record r
	    WHERE r.rep_id = p.id AND r.begin_time = p.begin_time OFFSET 0) r
GROUP BY 1, 2, 3;

-- Replacing keeps the view's rights; granted again as 007 did, for a
-- store whose grants were made by hand.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc.daily_source
		    TO dmarc_writer;
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		GRANT SELECT ON dmarc.daily_source TO dmarc_reader;
	END IF;
END
$$;
