-- scenario.sql: more aggregate reports for check_query's report,
-- new-sources and readiness, loaded after fixture.sql into a second
-- database (the first keeps fixture.sql alone, so that the goldens of
-- the other commands stay as they are).
--
-- shop.example, whose records are made so that each of readiness's
-- rules has a source (the "now" of the tests is 2024-03-05):
--   old-1      google.com  2024-01-10  192.0.2.10 passes (100): seen
--                                      long before, so never new
--   g-1        google.com  2024-02-20  7 records:
--     192.0.2.10     1,000 pass; 20 fail, signed d=esp.example and SPF
--                    pass for bounce.esp.example         -> dkim
--     192.0.2.20     50 fail, no signature, SPF pass for
--                    mailer.crm.example                  -> spf
--     192.0.2.30     30 pass; 5 fail without any auth    -> both
--     198.51.100.40  7 fail, its d=shop.example signature failed
--                                                        -> forwarder
--     198.51.100.50  3 fail, SPF fail for forged.example -> unknown
--   shared-id  Mail.Ru     2024-03-01  every metadata and policy field
--                                      (RFC 9990), hostile text in
--                                      extra_contact_info, errors, a
--                                      reason comment, a human_result:
--     192.0.2.10     250,000 pass, two signatures
--     198.51.100.60  2 fail, reason mailing_list     -> forwarder
-- and for example.org another report with the ID shared-id:
--   shared-id  (org_name empty: its email)  2024-03-02
--     192.0.2.10     4 pass, disposition not canonical as sent
--                    ("Deliver"): new for example.org, old for
--                    shop.example
-- Over the default 30 days shop.example has 251,117 messages, 87 of
-- them failing (0.03%): 25 from the 2 sources that also pass.

SELECT dmarc.ensure_record_partition('2024-01-01T00:00:00Z');

INSERT INTO dmarc.report (org_name, email, extra_contact_info, report_id,
    begin_time, end_time, generator, errors, version, namespace, domain,
    discovery_method, adkim, aspf, p, p_raw, sp, np, pct, fo, testing,
    records, messages) VALUES
('google.com', 'noreply-dmarc-support@google.com', NULL, 'old-1',
    '2024-01-10T00:00:00Z', '2024-01-10T23:59:59Z', NULL, NULL, NULL, NULL,
    'shop.example', NULL, 'r', 'r', 'none', NULL, NULL, NULL, 100, NULL,
    NULL, 1, 100),
('google.com', 'noreply-dmarc-support@google.com',
    'https://support.google.com/a/answer/2466580', 'g-1',
    '2024-02-20T00:00:00Z', '2024-02-20T23:59:59Z', NULL, NULL, '1.0', NULL,
    'shop.example', NULL, 'r', 'r', 'none', NULL, NULL, NULL, 100, NULL,
    NULL, 7, 1115),
('Mail.Ru', 'dmarc_support@corp.mail.ru',
    E'http://help.mail.ru/\x1b[5m', 'shared-id',
    '2024-03-01T00:00:00Z', '2024-03-01T23:59:59Z', 'Mail.Ru DMARC 2.0',
    ARRAY['=SUM(A1)', E'line\nbreak'], '2.0',
    'urn:ietf:params:xml:ns:dmarc-2.0', 'shop.example', 'psl', 'r', 's',
    'quarantine', NULL, 'none', 'reject', 50, '1:d', 'n', 2, 250002),
('', 'dmarcrep@microsoft.com', NULL, 'shared-id',
    '2024-03-02T00:00:00Z', '2024-03-03T00:00:00Z', NULL, NULL, NULL, NULL,
    'example.org', NULL, NULL, NULL, NULL, 'Quarantine ', NULL, NULL, NULL,
    NULL, NULL, 1, 4);

INSERT INTO dmarc.record (rep_id, rec_no, begin_time, domain, source_ip,
    count, disposition, disposition_raw, dkim, spf, envelope_to,
    envelope_from, header_from, reason_type, reason_comment, dkim_n,
    dkim1_domain, dkim1_selector, dkim1_result, dkim2_domain,
    dkim2_selector, dkim2_result, dkim_more_domain, dkim_more_selector,
    dkim_more_result, dkim_human_result, spf_n, spf1_domain, spf1_scope,
    spf1_result, spf_more_domain, spf_more_scope, spf_more_result)
SELECT r.id, v.rec_no, r.begin_time, r.domain, v.ip::inet, v.count,
    v.disp::dmarc.disposition, v.disp_raw, v.dkim::dmarc.dmarc_result,
    v.spf::dmarc.dmarc_result, v.et, v.ef, v.hf, v.rt::dmarc.reason_type[],
    v.rc::text[], cardinality(a.dd), a.dd[1], a.ds[1], a.dr[1], a.dd[2],
    a.ds[2], a.dr[2], nullif(a.dd[3:], '{}'), nullif(a.ds[3:], '{}'),
    nullif(a.dr[3:], '{}'), v.dh::text[], cardinality(a.sd), a.sd[1],
    a.ss[1], a.sr[1], nullif(a.sd[2:], '{}'), nullif(a.ss[2:], '{}'),
    nullif(a.sr[2:], '{}')
FROM dmarc.report r JOIN (VALUES
('old-1', 'shop.example', 1, '192.0.2.10', 100, 'none', NULL, 'pass', 'pass',
    NULL, 'shop.example', 'shop.example', NULL, NULL, '{shop.example}',
    '{s2023}', '{pass}', NULL, '{shop.example}', '{mfrom}', '{pass}'),
('g-1', 'shop.example', 1, '192.0.2.10', 1000, 'none', NULL, 'pass', 'pass',
    NULL, 'shop.example', 'shop.example', NULL, NULL, '{shop.example}',
    '{s2024}', '{pass}', NULL, '{shop.example}', '{mfrom}', '{pass}'),
('g-1', 'shop.example', 2, '192.0.2.10', 20, 'none', NULL, 'fail', 'fail',
    NULL, 'bounce.esp.example', 'shop.example', NULL, NULL, '{esp.example}',
    '{esp1}', '{pass}', NULL, '{bounce.esp.example}', '{mfrom}', '{pass}'),
('g-1', 'shop.example', 3, '192.0.2.20', 50, 'none', NULL, 'fail', 'fail',
    NULL, 'mailer.crm.example', 'shop.example', NULL, NULL, NULL, NULL, NULL,
    NULL, '{mailer.crm.example}', '{mfrom}', '{pass}'),
('g-1', 'shop.example', 4, '192.0.2.30', 30, 'none', NULL, 'pass', 'fail',
    NULL, 'other.example', 'shop.example', NULL, NULL, '{shop.example}',
    '{s2024}', '{pass}', NULL, '{other.example}', '{mfrom}', '{softfail}'),
('g-1', 'shop.example', 5, '192.0.2.30', 5, 'none', NULL, 'fail', 'fail',
    NULL, NULL, 'shop.example', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL),
('g-1', 'shop.example', 6, '198.51.100.40', 7, 'none', NULL, 'fail', 'fail',
    NULL, 'forwarder.example', 'shop.example', NULL, NULL, '{shop.example}',
    '{s2024}', '{fail}', '{body hash did not verify}', '{forwarder.example}',
    '{mfrom}', '{softfail}'),
('g-1', 'shop.example', 7, '198.51.100.50', 3, 'none', NULL, 'fail', 'fail',
    NULL, 'forged.example', 'shop.example', NULL, NULL, NULL, NULL, NULL,
    NULL, '{forged.example}', '{mfrom}', '{fail}'),
('shared-id', 'shop.example', 1, '192.0.2.10', 250000, 'none', NULL, 'pass',
    'pass', 'mail.ru', 'shop.example', 'shop.example', NULL, NULL,
    '{shop.example,esp.example}', '{s2024,esp1}', '{pass,pass}', NULL,
    '{shop.example}', '{mfrom}', '{pass}'),
('shared-id', 'shop.example', 2, '198.51.100.60', 2, 'none', NULL, 'fail',
    'fail', 'mail.ru', 'lists.example', 'shop.example',
    '{mailing_list,local_policy}',
    ARRAY[E'=list "x"\x1b[1m', NULL], '{shop.example}', '{s2024}', '{fail}',
    ARRAY[E'body changed\nby list'], '{lists.example,lists.example}',
    '{mfrom,helo}', '{pass,pass}'),
('shared-id', 'example.org', 1, '192.0.2.10', 4, NULL, 'Deliver', 'pass',
    'pass', NULL, 'example.org', 'example.org', NULL, NULL, '{example.org}',
    '{sel}', '{pass}', NULL, '{example.org}', '{mfrom}', '{pass}'))
    AS v(id, dom, rec_no, ip, count, disp, disp_raw, dkim, spf, et, ef, hf,
    rt, rc, dd, ds, dr, dh, sd, ss, sr)
    ON r.report_id = v.id AND r.domain = v.dom
    CROSS JOIN LATERAL (SELECT v.dd::text[] AS dd, v.ds::text[] AS ds,
    v.dr::dmarc.dkim_result[] AS dr, v.sd::text[] AS sd,
    v.ss::dmarc.spf_scope[] AS ss, v.sr::dmarc.spf_result[] AS sr) a;
