-- 009_record_auth_slots.sql: a record's first two DKIM results and its
-- first SPF result get columns of their own; arrays keep only the rest.
--
-- Nearly every record carries one or two <dkim> and exactly one <spf>.
-- As arrays, each of the six (domain, selector, result of each kind)
-- cost a row 24 bytes of header before its first element, and the
-- server a receive of the array around the receive of each element:
-- 144 of a typical row's 353 bytes, and a sixth of the backend's work
-- storing it. With the slots the same rows take 208 bytes (-41%, on disk
-- and in every scan of dmarc.record), and a binary COPY of 20,000 of
-- them costs the backend 605 M instructions instead of 679 M (-11%,
-- callgrind).
--
--   dkim_n              how many <dkim> results (NULL: none)
--   dkim1_*, dkim2_*    domain, selector, result of the first two
--   dkim_more_*         of the third on (NULL when there is none, or
--                       when all of them would be NULL)
--   spf_n, spf1_*, spf_more_*   the same for <spf>, one slot
--
-- The rarer fields (result_raw, human_result, scope_raw) stay arrays
-- over all the results, as 001 made them. Functions named as the old
-- columns give the whole arrays back, dmarc.dkim_domain(r) for what
-- r.dkim_domain held (r a row of dmarc.record), and so dkim_selector,
-- dkim_result, spf_domain, spf_scope, spf_result: SQL expressions the
-- planner inlines into the query that calls them.
--
-- Converting rewrites every row that has results, once, under the
-- table's lock: importers wait for it (about as long as 007 took). A
-- hand-written array whose elements are all NULL comes back NULL, as
-- dmarcd writes them. Applied once (store_migrate); run again, ADD
-- COLUMN fails and nothing changes.

-- The views over the old columns are made again below, as 007 made them.
DROP VIEW dmarc.record_dkim;
DROP VIEW dmarc.record_spf;

ALTER TABLE dmarc.record
	ADD COLUMN dkim_n smallint,
	ADD COLUMN dkim1_domain text,
	ADD COLUMN dkim1_selector text,
	ADD COLUMN dkim1_result dmarc.dkim_result,
	ADD COLUMN dkim2_domain text,
	ADD COLUMN dkim2_selector text,
	ADD COLUMN dkim2_result dmarc.dkim_result,
	ADD COLUMN spf_n smallint,
	ADD COLUMN spf1_domain text,
	ADD COLUMN spf1_scope dmarc.spf_scope,
	ADD COLUMN spf1_result dmarc.spf_result;

-- What follows the slots of array a, from element k on; NULL when that
-- is nothing or only NULLs (dropped at the end).
CREATE FUNCTION dmarc.m009_rest(a anyarray, k int) RETURNS anyarray
LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN cardinality(array_remove(a[k:], NULL)) > 0
	THEN a[k:] END $$;

UPDATE	dmarc.record SET
	dkim_n = cardinality(dkim_domain),
	dkim1_domain = dkim_domain[1],
	dkim1_selector = dkim_selector[1],
	dkim1_result = dkim_result[1],
	dkim2_domain = dkim_domain[2],
	dkim2_selector = dkim_selector[2],
	dkim2_result = dkim_result[2],
	dkim_domain = dmarc.m009_rest(dkim_domain, 3),
	dkim_selector = dmarc.m009_rest(dkim_selector, 3),
	dkim_result = dmarc.m009_rest(dkim_result, 3),
	spf_n = cardinality(spf_domain),
	spf1_domain = spf_domain[1],
	spf1_scope = spf_scope[1],
	spf1_result = spf_result[1],
	spf_domain = dmarc.m009_rest(spf_domain, 2),
	spf_scope = dmarc.m009_rest(spf_scope, 2),
	spf_result = dmarc.m009_rest(spf_result, 2)
WHERE	dkim_domain IS NOT NULL OR spf_domain IS NOT NULL;

DROP FUNCTION dmarc.m009_rest(anyarray, int);

ALTER TABLE dmarc.record RENAME COLUMN dkim_domain TO dkim_more_domain;
ALTER TABLE dmarc.record RENAME COLUMN dkim_selector TO dkim_more_selector;
ALTER TABLE dmarc.record RENAME COLUMN dkim_result TO dkim_more_result;
ALTER TABLE dmarc.record RENAME COLUMN spf_domain TO spf_more_domain;
ALTER TABLE dmarc.record RENAME COLUMN spf_scope TO spf_more_scope;
ALTER TABLE dmarc.record RENAME COLUMN spf_result TO spf_more_result;

-- A kind's whole array from its count n, its slots and the array of the
-- rest, as the columns held it before: NULL when n is; one element per
-- result; NULL when all elements are, unless always (a kind's domains,
-- by which the views count its results). For two slots and for one.
CREATE FUNCTION dmarc.results(n smallint, s1 anyelement, s2 anyelement,
    more anyarray, always boolean) RETURNS anyarray
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN n > 0 AND (always OR s1 IS NOT NULL OR s2 IS NOT NULL
	OR more IS NOT NULL) THEN (ARRAY[s1, s2] || coalesce(more,
	array_fill(CASE WHEN false THEN s1 END,
	ARRAY[greatest(n - 2, 0)])))[1:n] END $$;

CREATE FUNCTION dmarc.results(n smallint, s1 anyelement, more anyarray,
    always boolean) RETURNS anyarray
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN n > 0 AND (always OR s1 IS NOT NULL OR
	more IS NOT NULL) THEN (ARRAY[s1] || coalesce(more,
	array_fill(CASE WHEN false THEN s1 END,
	ARRAY[greatest(n - 1, 0)])))[1:n] END $$;

-- Of a row of dmarc.record, what the old columns held.
CREATE FUNCTION dmarc.dkim_domain(r dmarc.record) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT dmarc.results(r.dkim_n, r.dkim1_domain, r.dkim2_domain,
	r.dkim_more_domain, true) $$;

CREATE FUNCTION dmarc.dkim_selector(r dmarc.record) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT dmarc.results(r.dkim_n, r.dkim1_selector, r.dkim2_selector,
	r.dkim_more_selector, false) $$;

CREATE FUNCTION dmarc.dkim_result(r dmarc.record)
RETURNS dmarc.dkim_result[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT dmarc.results(r.dkim_n, r.dkim1_result, r.dkim2_result,
	r.dkim_more_result, false) $$;

CREATE FUNCTION dmarc.spf_domain(r dmarc.record) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT dmarc.results(r.spf_n, r.spf1_domain, r.spf_more_domain, true) $$;

CREATE FUNCTION dmarc.spf_scope(r dmarc.record) RETURNS dmarc.spf_scope[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT dmarc.results(r.spf_n, r.spf1_scope, r.spf_more_scope, false) $$;

CREATE FUNCTION dmarc.spf_result(r dmarc.record) RETURNS dmarc.spf_result[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT dmarc.results(r.spf_n, r.spf1_result, r.spf_more_result,
	false) $$;

CREATE VIEW dmarc.record_dkim AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.domain, u.selector,
	u.result::text AS result, u.result_raw, u.human_result
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(dmarc.dkim_domain(r),
	    dmarc.dkim_selector(r), dmarc.dkim_result(r), r.dkim_result_raw,
	    r.dkim_human_result)
	    WITH ORDINALITY AS u(domain, selector, result, result_raw,
	    human_result, idx)
WHERE	r.dkim_n > 0;

CREATE VIEW dmarc.record_spf AS
SELECT	r.rep_id, r.rec_no, u.idx::int AS idx, u.domain,
	u.scope::text AS scope, u.scope_raw, u.result::text AS result,
	u.result_raw, u.human_result
FROM	dmarc.record r
	CROSS JOIN LATERAL unnest(dmarc.spf_domain(r), dmarc.spf_scope(r),
	    r.spf_scope_raw, dmarc.spf_result(r), r.spf_result_raw,
	    r.spf_human_result)
	    WITH ORDINALITY AS u(domain, scope, scope_raw, result, result_raw,
	    human_result, idx)
WHERE	r.spf_n > 0;

DO $$
BEGIN
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_writer') THEN
		GRANT SELECT, INSERT, UPDATE, DELETE ON dmarc.record_dkim,
		    dmarc.record_spf TO dmarc_writer;
	END IF;
	IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'dmarc_reader') THEN
		GRANT SELECT ON dmarc.record_dkim, dmarc.record_spf
		    TO dmarc_reader;
	END IF;
END
$$;
