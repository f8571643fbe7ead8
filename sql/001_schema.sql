-- 001_schema.sql: the dmarc schema: aggregate reports and their records,
-- failure reports, the ingest ledger, per-day views, and two group roles.
--
-- Applied by store_migrate() (dmarcd migrate) in one transaction under an
-- advisory lock, together with its dmarc.schema_version row. Written to be
-- harmless when run again by hand (IF NOT EXISTS, OR REPLACE).
--
-- Times are timestamptz from the reports' epoch seconds; days are UTC days.
-- Enumerations are stored canonical (lower case, checked) in the column of
-- their name; a value that was not exactly canonical as sent ("hardfail",
-- "bogus") is kept in <column>_raw, the canonical column then holding the
-- mapped value or NULL.
--
-- Roles (cluster-wide, NOLOGIN groups, created here when missing and when
-- the migrating user may create roles):
--   dmarc_writer  what dmarcd needs: read and write the tables, create
--                 monthly partitions through dmarc.ensure_record_partition()
--   dmarc_reader  what dmarcq and dashboards need: SELECT only
-- Login users are members, e.g.
--   CREATE ROLE dmarcd LOGIN PASSWORD '...' IN ROLE dmarc_writer;
--   CREATE ROLE dmarcq LOGIN PASSWORD '...' IN ROLE dmarc_reader;
-- Run the migrations as the user who should own the schema (not dmarcd's
-- login): the partition function runs with the owner's rights.

CREATE SCHEMA IF NOT EXISTS dmarc;

CREATE TABLE IF NOT EXISTS dmarc.schema_version (
	version		int PRIMARY KEY,
	name		text NOT NULL,
	applied_at	timestamptz NOT NULL DEFAULT now()
);

-- One aggregate report (RFC 7489 appendix C, RFC 9990 appendix A).
CREATE TABLE IF NOT EXISTS dmarc.report (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- report_metadata
	org_name		text,		-- as sent, may be ''
	email			text,
	extra_contact_info	text,
	report_id		text NOT NULL,
	begin_time		timestamptz NOT NULL,
	end_time		timestamptz NOT NULL,
	generator		text,
	errors			text[],
	version			text,
	namespace		text,
	-- policy_published
	domain			text NOT NULL,	-- lower-cased
	discovery_method	text CHECK (discovery_method IN ('psl', 'treewalk')),
	discovery_method_raw	text,
	adkim			text CHECK (adkim IN ('r', 's')),
	adkim_raw		text,
	aspf			text CHECK (aspf IN ('r', 's')),
	aspf_raw		text,
	p			text CHECK (p IN ('none', 'quarantine', 'reject')),
	p_raw			text,
	sp			text CHECK (sp IN ('none', 'quarantine', 'reject')),
	sp_raw			text,
	np			text CHECK (np IN ('none', 'quarantine', 'reject')),
	np_raw			text,
	pct			smallint CHECK (pct BETWEEN 0 AND 100),
	fo			text,
	testing			text CHECK (testing IN ('n', 'y')),
	testing_raw		text,
	-- totals, written when the report is complete
	records			bigint NOT NULL DEFAULT 0,	-- records stored
	messages		bigint NOT NULL DEFAULT 0,	-- sum of their counts
	skipped			bigint NOT NULL DEFAULT 0,	-- rows without a source
	ingested_at		timestamptz NOT NULL DEFAULT now()
);

-- A report's identity: a second copy is a duplicate. Reporters that send
-- no org_name are told apart by their email.
CREATE UNIQUE INDEX IF NOT EXISTS report_identity ON dmarc.report
	((coalesce(nullif(org_name, ''), email, '')), report_id, domain,
	 begin_time, end_time);
CREATE INDEX IF NOT EXISTS report_begin ON dmarc.report (begin_time);
CREATE INDEX IF NOT EXISTS report_domain ON dmarc.report (domain, begin_time);

-- One <record> row, with its reasons and auth results in arrays: one
-- row per record is one COPY stream per report that never has to stop
-- for another table, and a quarter of the rows and index entries of a
-- table per kind. Partitioned by month of the report's begin (UTC):
-- retention is DROP TABLE dmarc.record_yYYYYmMM (after deleting the
-- reports, whose cascade takes the records).
--
-- The arrays of a kind run in parallel, element i of each being the i-th
-- <dkim>, <spf> or <reason> of the record. The first array of a kind
-- (dkim_domain, spf_domain, reason_type) has one element per entry when
-- the record has any (NULL otherwise); the others are NULL when all
-- their elements would be (unnest pads them back). The views
-- dmarc.record_dkim, record_spf and record_override below give one row
-- per entry, as tables of their own used to.
CREATE TABLE IF NOT EXISTS dmarc.record (
	rep_id			bigint NOT NULL,	-- dmarc.report.id
	rec_no			int NOT NULL,		-- 1..N in the report
	begin_time		timestamptz NOT NULL,	-- the report's
	domain			text NOT NULL,		-- the report's
	source_ip		inet NOT NULL,
	count			bigint NOT NULL CHECK (count >= 0),
	-- policy_evaluated
	disposition		text CHECK (disposition IN
				    ('none', 'pass', 'quarantine', 'reject')),
	disposition_raw		text,
	dkim			text CHECK (dkim IN ('pass', 'fail')),
	dkim_raw		text,
	spf			text CHECK (spf IN ('pass', 'fail')),
	spf_raw			text,
	-- identifiers
	envelope_to		text,
	envelope_from		text,
	header_from		text,
	-- policy_evaluated/reason
	reason_type		text[] CHECK (array_remove(reason_type, NULL)
				    <@ '{forwarded,sampled_out,'
				    'trusted_forwarder,mailing_list,'
				    'local_policy,other,policy_test_mode}'
				    ::text[]),
	reason_type_raw		text[],
	reason_comment		text[],
	-- auth_results/dkim
	dkim_domain		text[],
	dkim_selector		text[],
	dkim_result		text[] CHECK (array_remove(dkim_result, NULL)
				    <@ '{none,pass,fail,policy,neutral,'
				    'temperror,permerror}'::text[]),
	dkim_result_raw		text[],
	dkim_human_result	text[],
	-- auth_results/spf
	spf_domain		text[],
	spf_scope		text[] CHECK (array_remove(spf_scope, NULL)
				    <@ '{helo,mfrom}'::text[]),
	spf_scope_raw		text[],
	spf_result		text[] CHECK (array_remove(spf_result, NULL)
				    <@ '{none,neutral,pass,fail,softfail,'
				    'temperror,permerror,policy}'::text[]),
	spf_result_raw		text[],
	spf_human_result	text[]
) PARTITION BY RANGE (begin_time);
-- No DEFAULT partition: it would block creating the months later.
--
-- Every index is paid for by each record stored. There is no primary
-- key: (rep_id, rec_no) is unique by construction (one transaction
-- writes a report's records 1..N, once), no query looks a single record
-- up, and measured on 200,000 records its index cost 0.6 s of the 2.5 s
-- PostgreSQL spends storing them. (domain, begin_time) serves the
-- per-domain queries; a BRIN index on rep_id (ids only grow, a report's
-- rows are adjacent) finds a report's records for the views below and
-- for the delete cascade for almost nothing. An index on source_ip is not made:
-- its inserts land all over the tree and cost as much as the other
-- three together, and no reader here looks records up by address.
-- Those that do can add it:
--   CREATE INDEX record_source ON dmarc.record (source_ip);
CREATE INDEX IF NOT EXISTS record_domain ON dmarc.record (domain, begin_time);
CREATE INDEX IF NOT EXISTS record_rep ON dmarc.record USING brin (rep_id);

-- policy_evaluated/reason, one row per reason (idx 1..N in the record)
CREATE OR REPLACE VIEW dmarc.record_override AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.type, u.type_raw,
	u.comment
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(r.reason_type, r.reason_type_raw,
	    r.reason_comment) WITH ORDINALITY AS u(type, type_raw, comment, idx)
WHERE	r.reason_type IS NOT NULL;

-- auth_results/dkim, one row per result
CREATE OR REPLACE VIEW dmarc.record_dkim AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.domain, u.selector,
	u.result, u.result_raw, u.human_result
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(r.dkim_domain, r.dkim_selector,
	    r.dkim_result, r.dkim_result_raw, r.dkim_human_result)
	    WITH ORDINALITY AS u(domain, selector, result, result_raw,
	    human_result, idx)
WHERE	r.dkim_domain IS NOT NULL;

-- auth_results/spf, one row per result
CREATE OR REPLACE VIEW dmarc.record_spf AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.domain, u.scope,
	u.scope_raw, u.result, u.result_raw, u.human_result
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(r.spf_domain, r.spf_scope, r.spf_scope_raw,
	    r.spf_result, r.spf_result_raw, r.spf_human_result)
	    WITH ORDINALITY AS u(domain, scope, scope_raw, result, result_raw,
	    human_result, idx)
WHERE	r.spf_domain IS NOT NULL;

-- Deleting reports deletes their records (no foreign key: its per-row
-- check would slow storing a big report; records are only ever written
-- in the transaction that writes their report).
CREATE OR REPLACE FUNCTION dmarc.report_delete_cascade()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
	DELETE FROM dmarc.record r USING old_reports o
	    WHERE r.begin_time = o.begin_time AND r.rep_id = o.id;
	RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER report_delete_cascade AFTER DELETE ON dmarc.report
	REFERENCING OLD TABLE AS old_reports
	FOR EACH STATEMENT EXECUTE FUNCTION dmarc.report_delete_cascade();

-- Failure (forensic, ruf) reports: RFC 5965 ARF with RFC 6591 fields.
CREATE TABLE IF NOT EXISTS dmarc.failure_report (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	feedback_type		text,
	user_agent		text,
	version			text,
	original_mail_from	text,
	original_rcpt_to	text[],
	original_envelope_id	text,
	arrival_date		timestamptz,
	reporting_mta		text,
	source_ip		inet,
	incidents		int,
	authentication_results	text[],
	auth_failure		text,
	delivery_result		text,
	identity_alignment	text,
	dkim_domain		text,
	dkim_identity		text,
	dkim_selector		text,
	spf_dns			text,
	reported_domain		text[],
	reported_uri		text[],
	-- the reported message (headers, and the body when included)
	orig_from		text,
	orig_to			text,
	orig_subject		text,
	orig_date		text,
	orig_message_id		text,
	orig_headers		text,
	orig_body		bytea,
	ingested_at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS failure_report_arrival
	ON dmarc.failure_report (arrival_date);

-- The ingest ledger: every input (or report of an input) and what became
-- of it.
CREATE TABLE IF NOT EXISTS dmarc.ingest (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time		timestamptz NOT NULL DEFAULT now(),
	source		text NOT NULL,		-- file, stdin, imap:NAME, ...
	input		text NOT NULL,		-- path or mailbox location
	mailbox		text,
	uidvalidity	bigint,
	uid		bigint,
	message_id	text,
	sha256		text,			-- hex, of the report payload
	outcome		text NOT NULL
			    CHECK (outcome IN ('stored', 'duplicate', 'rejected')),
	reason		text,
	org_name	text,
	report_id	text,
	rep_id		bigint REFERENCES dmarc.report (id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS ingest_time ON dmarc.ingest (time);
CREATE INDEX IF NOT EXISTS ingest_sha256 ON dmarc.ingest (sha256);
CREATE INDEX IF NOT EXISTS ingest_rep ON dmarc.ingest (rep_id);

-- Create the month's partition of dmarc.record holding ts (UTC month) if
-- it is missing; returns its name. Safe when several importers call it
-- at once (advisory lock, IF NOT EXISTS). Runs with the owner's rights so
-- that dmarc_writer needs no ownership of dmarc.record.
CREATE OR REPLACE FUNCTION dmarc.ensure_record_partition(ts timestamptz)
RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
	m	timestamp := date_trunc('month', ts AT TIME ZONE 'UTC');
	part	text := 'record_' || to_char(m, '"y"YYYY"m"MM');
BEGIN
	IF ts IS NULL THEN
		RAISE EXCEPTION 'ensure_record_partition: NULL time';
	END IF;
	-- The common case: it exists, and no lock is taken.
	IF to_regclass('dmarc.' || quote_ident(part)) IS NOT NULL THEN
		RETURN part;
	END IF;
	PERFORM pg_advisory_xact_lock(hashtext('dmarc.record partitions'));
	IF to_regclass('dmarc.' || quote_ident(part)) IS NOT NULL THEN
		RETURN part;
	END IF;
	EXECUTE format('CREATE TABLE IF NOT EXISTS dmarc.%I PARTITION OF '
	    'dmarc.record FOR VALUES FROM (%L) TO (%L)', part,
	    to_char(m, 'YYYY-MM-DD HH24:MI:SS"+00"'),
	    to_char(m + interval '1 month', 'YYYY-MM-DD HH24:MI:SS"+00"'));
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		EXECUTE format('GRANT SELECT ON dmarc.%I TO dmarc_reader', part);
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc.%I '
		    'TO dmarc_writer', part);
	END IF;
	RETURN part;
END
$fn$;
REVOKE ALL ON FUNCTION dmarc.ensure_record_partition(timestamptz) FROM PUBLIC;

-- Per UTC day of the reports' begin, per policy domain. Figures are the
-- records' counts summed: dkim_aligned / spf_aligned where the aligned
-- verdict (policy_evaluated) is pass, dmarc_pass where either is,
-- dmarc_fail = messages - dmarc_pass, quarantined / rejected by the
-- disposition applied. reports counts the reports with records that day.
CREATE OR REPLACE VIEW dmarc.daily_domain AS
SELECT	(begin_time AT TIME ZONE 'UTC')::date AS day,
	domain,
	count(DISTINCT rep_id) AS reports,
	sum(count)::bigint AS messages,
	coalesce(sum(count) FILTER (WHERE dkim = 'pass' OR spf = 'pass'),
	    0)::bigint AS dmarc_pass,
	(sum(count) - coalesce(sum(count)
	    FILTER (WHERE dkim = 'pass' OR spf = 'pass'), 0))::bigint
	    AS dmarc_fail,
	coalesce(sum(count) FILTER (WHERE dkim = 'pass'), 0)::bigint
	    AS dkim_aligned,
	coalesce(sum(count) FILTER (WHERE spf = 'pass'), 0)::bigint
	    AS spf_aligned,
	coalesce(sum(count) FILTER (WHERE disposition = 'quarantine'),
	    0)::bigint AS quarantined,
	coalesce(sum(count) FILTER (WHERE disposition = 'reject'),
	    0)::bigint AS rejected
FROM	dmarc.record
GROUP BY 1, 2;

-- The same per UTC day, policy domain and source address.
CREATE OR REPLACE VIEW dmarc.daily_source AS
SELECT	(begin_time AT TIME ZONE 'UTC')::date AS day,
	domain,
	source_ip,
	sum(count)::bigint AS messages,
	coalesce(sum(count) FILTER (WHERE dkim = 'pass' OR spf = 'pass'),
	    0)::bigint AS dmarc_pass,
	(sum(count) - coalesce(sum(count)
	    FILTER (WHERE dkim = 'pass' OR spf = 'pass'), 0))::bigint
	    AS dmarc_fail,
	coalesce(sum(count) FILTER (WHERE dkim = 'pass'), 0)::bigint
	    AS dkim_aligned,
	coalesce(sum(count) FILTER (WHERE spf = 'pass'), 0)::bigint
	    AS spf_aligned,
	coalesce(sum(count) FILTER (WHERE disposition = 'quarantine'),
	    0)::bigint AS quarantined,
	coalesce(sum(count) FILTER (WHERE disposition = 'reject'),
	    0)::bigint AS rejected
FROM	dmarc.record
GROUP BY 1, 2, 3;

-- The group roles and their rights. Roles are cluster-wide: create them
-- once; a migrating user without CREATEROLE gets a NOTICE and the grants
-- to roles that do not exist are skipped.
DO $roles$
DECLARE
	r	text;
BEGIN
	FOREACH r IN ARRAY ARRAY['dmarc_writer', 'dmarc_reader'] LOOP
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
			BEGIN
				EXECUTE format('CREATE ROLE %I NOLOGIN', r);
			EXCEPTION
			WHEN insufficient_privilege THEN
				RAISE NOTICE 'dmarc: cannot create role % (%): '
				    'create it as a superuser and run the '
				    'grants of 001_schema.sql again', r, SQLERRM;
			WHEN duplicate_object OR unique_violation THEN
				NULL;	-- created meanwhile by another database
			END;
		END IF;
	END LOOP;

	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		GRANT USAGE ON SCHEMA dmarc TO dmarc_writer;
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dmarc
		    TO dmarc_writer;
		GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA dmarc
		    TO dmarc_writer;
		GRANT EXECUTE ON FUNCTION dmarc.ensure_record_partition(timestamptz)
		    TO dmarc_writer;
		ALTER DEFAULT PRIVILEGES IN SCHEMA dmarc
		    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO dmarc_writer;
		ALTER DEFAULT PRIVILEGES IN SCHEMA dmarc
		    GRANT USAGE, SELECT ON SEQUENCES TO dmarc_writer;
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		GRANT USAGE ON SCHEMA dmarc TO dmarc_reader;
		GRANT SELECT ON ALL TABLES IN SCHEMA dmarc TO dmarc_reader;
		ALTER DEFAULT PRIVILEGES IN SCHEMA dmarc
		    GRANT SELECT ON TABLES TO dmarc_reader;
	END IF;
END
$roles$;
