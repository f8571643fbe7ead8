-- 007_enums.sql: the enumeration columns become ENUM types instead of
-- text under a CHECK. The database still refuses a value outside an
-- enumeration (the type's input and binary receive functions do: SQLSTATE
-- 22P02, invalid_text_representation), for less:
--
-- - per row: the four array CHECKs of dmarc.record (array_remove(x, NULL)
--   <@ '{...}'::text[]) were a tenth of what the server spends on a big
--   COPY. 20,000 rows in binary cost its backend 916 M instructions with
--   the CHECKs, 825 M with enum arrays (callgrind);
-- - per statement: the server reads every CHECK's stored expression back
--   (stringToNode) at the start of each statement that writes the table,
--   the array constants character by character. For a report of 20
--   records that was 0.7 M of the backend's 2.5 M instructions, in the
--   record COPY and in the report's INSERT and UPDATE.
--
-- A type is named after its column, but dkim and spf share dmarc_result,
-- adkim and aspf alignment, p, sp and np policy. Labels are in the order
-- of the CHECKs they replace; an enum sorts in that order, so whatever
-- shows them sorted casts them to text first, as the views below do.
-- Converting rewrites dmarc.record (every partition), dmarc.report and
-- dmarc.ingest once each, under an exclusive lock: importers wait for it.
-- Applied once (store_migrate); run again, CREATE TYPE fails and nothing
-- changes.

CREATE TYPE dmarc.disposition AS ENUM ('none', 'pass', 'quarantine', 'reject');
-- policy_evaluated dkim and spf: the aligned verdicts
CREATE TYPE dmarc.dmarc_result AS ENUM ('pass', 'fail');
CREATE TYPE dmarc.reason_type AS ENUM ('forwarded', 'sampled_out',
	'trusted_forwarder', 'mailing_list', 'local_policy', 'other',
	'policy_test_mode');
CREATE TYPE dmarc.dkim_result AS ENUM ('none', 'pass', 'fail', 'policy',
	'neutral', 'temperror', 'permerror');
CREATE TYPE dmarc.spf_scope AS ENUM ('helo', 'mfrom');
CREATE TYPE dmarc.spf_result AS ENUM ('none', 'neutral', 'pass', 'fail',
	'softfail', 'temperror', 'permerror', 'policy');
CREATE TYPE dmarc.discovery_method AS ENUM ('psl', 'treewalk');
-- adkim, aspf
CREATE TYPE dmarc.alignment AS ENUM ('r', 's');
-- p, sp, np
CREATE TYPE dmarc.policy AS ENUM ('none', 'quarantine', 'reject');
CREATE TYPE dmarc.testing AS ENUM ('n', 'y');
CREATE TYPE dmarc.outcome AS ENUM ('stored', 'duplicate', 'rejected');

-- The views over the converted columns can't stay while their types
-- change; made again below, each as it was.
DROP VIEW dmarc.record_override;
DROP VIEW dmarc.record_dkim;
DROP VIEW dmarc.record_spf;
DROP VIEW dmarc.daily_source;

-- One ALTER TABLE per table: one rewrite. The CHECKs go first (the
-- array ones would not accept an enum array), on the partitions too.
ALTER TABLE dmarc.record
	DROP CONSTRAINT record_disposition_check,
	DROP CONSTRAINT record_dkim_check,
	DROP CONSTRAINT record_spf_check,
	DROP CONSTRAINT record_reason_type_check,
	DROP CONSTRAINT record_dkim_result_check,
	DROP CONSTRAINT record_spf_scope_check,
	DROP CONSTRAINT record_spf_result_check,
	ALTER COLUMN disposition TYPE dmarc.disposition
	    USING disposition::dmarc.disposition,
	ALTER COLUMN dkim TYPE dmarc.dmarc_result
	    USING dkim::dmarc.dmarc_result,
	ALTER COLUMN spf TYPE dmarc.dmarc_result
	    USING spf::dmarc.dmarc_result,
	ALTER COLUMN reason_type TYPE dmarc.reason_type[]
	    USING reason_type::dmarc.reason_type[],
	ALTER COLUMN dkim_result TYPE dmarc.dkim_result[]
	    USING dkim_result::dmarc.dkim_result[],
	ALTER COLUMN spf_scope TYPE dmarc.spf_scope[]
	    USING spf_scope::dmarc.spf_scope[],
	ALTER COLUMN spf_result TYPE dmarc.spf_result[]
	    USING spf_result::dmarc.spf_result[];

ALTER TABLE dmarc.report
	DROP CONSTRAINT report_discovery_method_check,
	DROP CONSTRAINT report_adkim_check,
	DROP CONSTRAINT report_aspf_check,
	DROP CONSTRAINT report_p_check,
	DROP CONSTRAINT report_sp_check,
	DROP CONSTRAINT report_np_check,
	DROP CONSTRAINT report_testing_check,
	ALTER COLUMN discovery_method TYPE dmarc.discovery_method
	    USING discovery_method::dmarc.discovery_method,
	ALTER COLUMN adkim TYPE dmarc.alignment USING adkim::dmarc.alignment,
	ALTER COLUMN aspf TYPE dmarc.alignment USING aspf::dmarc.alignment,
	ALTER COLUMN p TYPE dmarc.policy USING p::dmarc.policy,
	ALTER COLUMN sp TYPE dmarc.policy USING sp::dmarc.policy,
	ALTER COLUMN np TYPE dmarc.policy USING np::dmarc.policy,
	ALTER COLUMN testing TYPE dmarc.testing USING testing::dmarc.testing;

ALTER TABLE dmarc.ingest
	DROP CONSTRAINT ingest_outcome_check,
	ALTER COLUMN outcome TYPE dmarc.outcome USING outcome::dmarc.outcome;

-- The views of 001, their enumerations cast back to text: readers and
-- dashboards see the columns they saw (and sort them as they did).
CREATE VIEW dmarc.record_override AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.type::text AS type,
	u.type_raw, u.comment
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(r.reason_type, r.reason_type_raw,
	    r.reason_comment) WITH ORDINALITY AS u(type, type_raw, comment, idx)
WHERE	r.reason_type IS NOT NULL;

CREATE VIEW dmarc.record_dkim AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.domain, u.selector,
	u.result::text AS result, u.result_raw, u.human_result
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(r.dkim_domain, r.dkim_selector,
	    r.dkim_result, r.dkim_result_raw, r.dkim_human_result)
	    WITH ORDINALITY AS u(domain, selector, result, result_raw,
	    human_result, idx)
WHERE	r.dkim_domain IS NOT NULL;

CREATE VIEW dmarc.record_spf AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.domain,
	u.scope::text AS scope, u.scope_raw, u.result::text AS result,
	u.result_raw, u.human_result
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(r.spf_domain, r.spf_scope, r.spf_scope_raw,
	    r.spf_result, r.spf_result_raw, r.spf_human_result)
	    WITH ORDINALITY AS u(domain, scope, scope_raw, result, result_raw,
	    human_result, idx)
WHERE	r.spf_domain IS NOT NULL;

CREATE VIEW dmarc.daily_source AS
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

-- New views get the rights 001 granted on all tables: the default
-- privileges would give them only when the user who ran 001 runs this.
DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc.record_override,
		    dmarc.record_dkim, dmarc.record_spf, dmarc.daily_source
		    TO dmarc_writer;
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		GRANT SELECT ON dmarc.record_override, dmarc.record_dkim,
		    dmarc.record_spf, dmarc.daily_source TO dmarc_reader;
	END IF;
END
$$;
