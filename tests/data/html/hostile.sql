-- hostile.sql: loaded after tests/data/query/fixture.sql for check_html
-- (never for check_query: its golden files stay as they are). A third
-- policy domain whose name is markup, 'x"><svg onload=alert(1)>.example',
-- with twelve reports of one record each, all begun 2024-03-01 (i <= 6)
-- or 2024-03-05 (i > 6): report i comes from org i, its record from
-- 203.0.113.i with count 13 - i, dispositions reject for odd i,
-- quarantine for i = 2, none for the others; every record fails DMARC
-- but the last (i = 12, count 1, DKIM pass). Org names 1 to 3 are
-- hostile: a script element, an attribute break-out with a bidi
-- override and a terminal escape, and a name longer than a chart label.
--
-- Known figures: 78 messages in 12 reports; DMARC pass 1 (fail 77);
-- per day 57 messages (2024-03-01, none pass) and 21 (2024-03-05, 1
-- pass: 4.8 %); dispositions none 25, quarantine 11, reject 42; eleven
-- failing sources (12, 11, ..., 2 messages), twelve reporters.

INSERT INTO dmarc.report (org_name, email, report_id, begin_time,
    end_time, domain, p, records, messages)
SELECT CASE i
	WHEN 1 THEN '<script>alert(1)</script>'
	WHEN 2 THEN E'"><svg onload=alert(2)>\u202e\x1b[31m'
	WHEN 3 THEN 'A reporter whose name is longer than a label'
	ELSE 'org' || i END,
    'r' || i || '@reporter.example', 'h' || i,
    CASE WHEN i <= 6 THEN '2024-03-01T00:00:00Z'::timestamptz
	ELSE '2024-03-05T00:00:00Z' END,
    CASE WHEN i <= 6 THEN '2024-03-01T23:59:59Z'::timestamptz
	ELSE '2024-03-05T23:59:59Z' END,
    'x"><svg onload=alert(1)>.example', 'reject', 1, 13 - i
FROM generate_series(1, 12) AS i;

INSERT INTO dmarc.record (rep_id, rec_no, begin_time, domain, source_ip,
    count, disposition, dkim, spf, header_from)
SELECT id, 1, begin_time, domain,
    ('203.0.113.' || substr(report_id, 2))::inet, messages,
    (CASE WHEN substr(report_id, 2)::int % 2 = 1 THEN 'reject'
	WHEN substr(report_id, 2)::int = 2 THEN 'quarantine'
	ELSE 'none' END)::dmarc.disposition,
    (CASE WHEN report_id = 'h12' THEN 'pass' ELSE 'fail'
	END)::dmarc.dmarc_result, 'fail',
    '<b>bold</b>.example'
FROM dmarc.report WHERE report_id LIKE 'h%';

-- A schema that keeps per-report verdict totals wants them refreshed
-- after rows written by hand; one without has nothing to do.
DO $$
BEGIN
	IF to_regproc('dmarc.report_totals_refresh') IS NOT NULL THEN
		PERFORM dmarc.report_totals_refresh(NULL);
	END IF;
END $$;
