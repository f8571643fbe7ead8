-- fixture.sql: hand-made aggregate reports, records and ingest ledger
-- rows for check_query, loaded into a fresh database after the schema.
-- Known figures: example.com has 2 reports and 1,234,582 messages
-- (1,000,010 pass DMARC, 234,567 rejected, 5 quarantined); example.org
-- has 2 reports, one of them without records, and 7 messages. Records
-- span two months, so two partitions of dmarc.record exist. Text cells
-- carry what report senders can put there: a terminal escape, quotes,
-- commas, formula prefixes, control characters, non-ASCII text.

SELECT dmarc.ensure_record_partition('2024-02-01T00:00:00Z');
SELECT dmarc.ensure_record_partition('2024-03-01T00:00:00Z');

INSERT INTO dmarc.report (org_name, email, report_id, begin_time,
    end_time, domain, p, records, messages) VALUES
('google.com', 'noreply-dmarc-support@google.com', '1111',
    '2024-02-27T00:00:00Z', '2024-02-27T23:59:59Z', 'example.com', 'none',
    2, 1234567),
('Yahoo! Inc.', 'dmarc@yahoo.com', 'r2',
    '2024-03-02T00:00:00Z', '2024-03-02T23:59:59Z', 'example.com', 'reject',
    2, 15),
(E'Ev\x1b[31mil, "Corp"', 'x@evil.example', '=HYPERLINK("http://evil/")',
    '2024-03-03T00:00:00Z', '2024-03-04T00:00:00Z', 'example.org', 'none',
    1, 7),
(E'\u00dcn\u00efc\u00f8d\u00e9 \u65e5\u672c\u2028', 'u@example.net',
    E'-tab\there\x01', '2024-03-04T06:00:00Z', '2024-03-05T06:00:00Z',
    'example.org', 'none', 0, 0);

INSERT INTO dmarc.record (rep_id, rec_no, begin_time, domain, source_ip,
    count, disposition, dkim, spf, header_from)
SELECT id, 1, begin_time, domain, '192.0.2.1'::inet, 1000000,
    'none'::dmarc.disposition, 'pass'::dmarc.dmarc_result,
    'pass'::dmarc.dmarc_result, domain FROM dmarc.report
    WHERE report_id = '1111'
UNION ALL
SELECT id, 2, begin_time, domain, '198.51.100.7'::inet, 234567, 'reject', 'fail',
    'fail', domain FROM dmarc.report WHERE report_id = '1111'
UNION ALL
SELECT id, 1, begin_time, domain, '2001:db8::1'::inet, 10, 'none', 'fail',
    'pass', domain FROM dmarc.report WHERE report_id = 'r2'
UNION ALL
SELECT id, 2, begin_time, domain, '192.0.2.9'::inet, 5, 'quarantine', 'fail',
    'fail', domain FROM dmarc.report WHERE report_id = 'r2'
UNION ALL
SELECT id, 1, begin_time, domain, '203.0.113.5'::inet, 7, 'none', 'pass',
    'fail', domain FROM dmarc.report WHERE domain = 'example.org'
    AND records = 1;

-- The verdict totals of each report (dmarcd adds them up as it stores),
-- from the records above.
SELECT dmarc.report_totals_refresh(NULL);

INSERT INTO dmarc.ingest (time, source, input, mailbox, uidvalidity, uid,
    message_id, sha256, outcome, reason, org_name, report_id, rep_id)
VALUES
('2024-02-28T01:00:00Z', 'file', '/var/spool/dmarc/google.xml.gz',
    NULL, NULL, NULL, NULL,
    '6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b',
    'stored', NULL, 'google.com', '1111',
    (SELECT id FROM dmarc.report WHERE report_id = '1111')),
('2024-03-02T10:00:00.123456Z', 'imap:billing', 'INBOX;UIDVALIDITY=7;UID=42',
    'INBOX', 7, 42, '<r2@yahoo.com>',
    'd4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35',
    'stored', NULL, 'Yahoo! Inc.', 'r2',
    (SELECT id FROM dmarc.report WHERE report_id = 'r2')),
('2024-03-03T12:30:00Z', 'imap:billing', 'INBOX;UIDVALIDITY=7;UID=43',
    'INBOX', 7, 43, '<copy@google.com>',
    '6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b',
    'duplicate', NULL, 'google.com', '1111',
    (SELECT id FROM dmarc.report WHERE report_id = '1111')),
('2024-03-04T08:15:00Z', 'file', '/tmp/in/bad.xml', NULL, NULL, NULL, NULL,
    '4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce',
    'rejected',
    E'=cmd|'' /C calc''!A0, xml: line 3: "count" is not a number\nsecond line',
    NULL, NULL, NULL);

-- Auth results and header_from for sources and failures. No figure above
-- changes: the added records have count 0. 198.51.100.7 (example.com,
-- failing) has two more records: a failing one whose results partly
-- repeat its first (each is listed once) and whose SPF result was not
-- canonical as sent, and a passing one whose results must not show among
-- the failures. 192.0.2.9 carries hostile text: a header_from with a
-- formula prefix, quotes, a comma, a terminal escape and a tab, a DKIM
-- selector with quotes, a control character and a newline, an SPF scope
-- kept only raw.
UPDATE dmarc.record SET dkim_n = 1, dkim1_domain = 'example.com',
    dkim1_selector = 's1', dkim1_result = 'pass', spf_n = 1,
    spf1_domain = 'example.com', spf1_scope = 'mfrom', spf1_result = 'pass'
    WHERE source_ip = '192.0.2.1';
UPDATE dmarc.record SET dkim_n = 2, dkim1_domain = 'example.com',
    dkim1_selector = 's1', dkim1_result = 'fail',
    dkim2_domain = 'esp.example.net', dkim2_selector = 'k1',
    dkim2_result = 'fail', spf_n = 1,
    spf1_domain = 'bounce.esp.example.net', spf1_scope = 'mfrom',
    spf1_result = 'softfail'
    WHERE source_ip = '198.51.100.7';
UPDATE dmarc.record SET header_from = E'=HYPERLINK("x")\x1b[2J,\tz.example',
    dkim_n = 1, dkim1_domain = 'example.com',
    dkim1_selector = E'=s"1\x01\nx', dkim1_result = 'temperror',
    spf_n = 2, spf1_domain = 'example.com', spf1_result = 'none',
    spf_more_domain = '{example.com}', spf_more_scope = '{mfrom}',
    spf_scope_raw = '{HELO,NULL}', spf_more_result = '{fail}'
    WHERE source_ip = '192.0.2.9';
UPDATE dmarc.record SET dkim_n = 1, dkim1_domain = 'example.com',
    dkim1_result = 'fail', spf_n = 1, spf1_domain = 'example.com',
    spf1_scope = 'mfrom', spf1_result = 'pass'
    WHERE source_ip = '2001:db8::1';

INSERT INTO dmarc.record (rep_id, rec_no, begin_time, domain, source_ip,
    count, disposition, dkim, spf, header_from, dkim_n, dkim1_domain,
    dkim1_selector, dkim1_result, spf_n, spf1_domain, spf1_scope,
    spf1_result, spf_result_raw)
SELECT id, 3, begin_time, domain, '198.51.100.7'::inet, 0,
    'none'::dmarc.disposition, 'fail'::dmarc.dmarc_result,
    'fail'::dmarc.dmarc_result, 'a.example.com', 1, 'esp.example.net',
    'k1', 'fail'::dmarc.dkim_result, 1, 'example.com',
    NULL::dmarc.spf_scope, NULL::dmarc.spf_result, '{Bogus}'::text[]
    FROM dmarc.report WHERE report_id = '1111'
UNION ALL
SELECT id, 4, begin_time, domain, '198.51.100.7'::inet, 0, 'none', 'pass',
    'fail', 'passing.example', 1, 'passing.example', 'p1', 'pass', 1,
    'passing.example', 'mfrom', 'pass', NULL
    FROM dmarc.report WHERE report_id = '1111';

-- Failure reports for forensic: newest first by arrival_date, the one
-- without an arrival date last; two reported domains on one; hostile
-- text in the subject and in the SPF record; an empty envelope sender.
INSERT INTO dmarc.failure_report (reporter, feedback_type, auth_failure,
    delivery_result, arrival_date, source_ip, reported_domain,
    original_mail_from, original_rcpt_to, dkim_domain, dkim_selector,
    spf_dns, orig_subject) VALUES
('r@a.example', 'auth-failure', 'dmarc', 'delivered', '2024-03-02T10:00:00Z',
    '192.0.2.1', '{example.com}', 'bounce@example.com',
    '{a@example.net,b@example.net}', 'example.com', 's1', NULL, 'Invoice'),
('r@b.example', 'auth-failure', 'spf', 'reject', '2024-03-03T08:00:00Z',
    '2001:db8::1', '{example.org,sub.example.org}', '', NULL, NULL, NULL,
    'txt : example.org : "v=spf1 -all"',
    E'=cmd|\x1b[31m "red",\ttab\u65e5'),
('r@c.example', 'abuse', 'dkim', 'other', NULL, '198.51.100.7',
    '{example.com}', 'x@evil.example', '{c@example.net}', NULL, NULL, NULL,
    NULL),
('r@a.example', 'auth-failure', 'signature', 'spam', '2024-02-20T00:00:00Z',
    '192.0.2.9', NULL, 'y@example.com', NULL, 'example.com', E'k"1\n',
    NULL, 'Old');
