/*
 * query.c: dmarcq's engine: the command table, the executor and the
 * renderers (table, CSV, JSON).
 *
 * Distrusted: everything in the rows. Reports and the ledger carry text
 * from anyone who can send mail: it may hold terminal escapes, formula
 * prefixes for spreadsheets, quotes, invalid UTF-8 (not from PostgreSQL,
 * but a renderer does not count on that). Each renderer escapes for its
 * reader: visible escapes on a terminal, RFC 4180 plus formula
 * neutralising in CSV, RFC 8259 in JSON. User input (filters) reaches
 * the database only as parameters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "bounds.h"
#include "buf.h"
#include "query.h"
#include "store.h"
#include "util.h"

/* Type oids of the parameters (pg_type.h is a server header). */
#define OID_TEXT	25
#define OID_INT8	20
#define OID_TIMESTAMPTZ	1184

#define CELL_MAX	(1u << 20)	/* scratch for one rendered cell */
#define TEXT_TMIN	5		/* narrowest cut text: 4 chars, "…" */

/* --- the commands ------------------------------------------------------ */

static const struct query_col summary_cols[] = {
	{ "domain", NULL, QUERY_TEXT, 0,
	    "the policy domain (policy_published/domain)", 0, 0, 0 },
	{ "reports", NULL, QUERY_COUNT, 0,
	    "aggregate reports whose begin is in the range", 0, 0, 0 },
	{ "messages", NULL, QUERY_COUNT, 0,
	    "messages reported: the records' counts summed", 0, 0, 0 },
	{ "dmarc_pass", "pass", QUERY_COUNT, 0,
	    "messages where the DKIM or the SPF verdict is pass", 0, 0, 0 },
	{ "dmarc_fail", "fail", QUERY_COUNT, 0,
	    "messages - dmarc_pass", 0, 0, QUERY_ALERT },
	{ "dkim_aligned", "dkim", QUERY_COUNT, 0,
	    "messages whose policy_evaluated dkim is pass", 0, 0, 0 },
	{ "spf_aligned", "spf", QUERY_COUNT, 0,
	    "messages whose policy_evaluated spf is pass", 0, 0, 0 },
	{ "quarantined", "quar", QUERY_COUNT, 0,
	    "messages with disposition quarantine", 0, 0, 0 },
	{ "rejected", "reject", QUERY_COUNT, 0,
	    "messages with disposition reject", 0, 0, QUERY_ALERT },
};

/*
 * From the totals each report row carries (sql/004_report_totals.sql):
 * one row per report, found through report_domain (domain, begin_time),
 * so a month of one domain costs the same on ten million records as on
 * ten thousand.
 */
static const char summary_sql[] =
	"SELECT domain, count(*), sum(messages)::bigint,"
	" sum(dmarc_pass)::bigint, sum(messages - dmarc_pass)::bigint,"
	" sum(dkim_aligned)::bigint, sum(spf_aligned)::bigint,"
	" sum(quarantined)::bigint, sum(rejected)::bigint"
	" FROM dmarc.report"
	" WHERE ($1::text IS NULL OR domain = $1)"
	" AND ($2::timestamptz IS NULL OR begin_time >= $2)"
	" AND ($3::timestamptz IS NULL OR begin_time < $3)"
	" GROUP BY domain ORDER BY domain LIMIT $4::bigint";

static const struct query_col reports_cols[] = {
	{ "org_name", NULL, QUERY_TEXT, 0,
	    "the reporting organisation, as sent", 0, 0, 0 },
	{ "report_id", NULL, QUERY_TEXT, 0,
	    "the reporter's id of the report", 8, 0, 0 },
	{ "domain", NULL, QUERY_TEXT, 0, "the policy domain", 0, 0, 0 },
	{ "begin", NULL, QUERY_TIME, 0, "start of the reported range (UTC)",
	    0, 0, 0 },
	{ "end", NULL, QUERY_TIME, 0, "end of the reported range (UTC)", 0, 1,
	    QUERY_DAYEND },
	{ "records", NULL, QUERY_COUNT, 0, "records stored", 0, 0, 0 },
	{ "messages", NULL, QUERY_COUNT, 0, "the records' counts summed",
	    0, 0, 0 },
};

static const char reports_sql[] =
	"SELECT org_name, report_id, domain, begin_time, end_time,"
	" records, messages"
	" FROM dmarc.report"
	" WHERE ($1::text IS NULL OR domain = $1)"
	" AND ($2::timestamptz IS NULL OR begin_time >= $2)"
	" AND ($3::timestamptz IS NULL OR begin_time < $3)"
	" ORDER BY begin_time DESC, id DESC LIMIT $4::bigint";

static const struct query_col ingest_cols[] = {
	{ "time", NULL, QUERY_TIME, 0, "when it was processed (UTC)",
	    0, 0, 0 },
	{ "source", NULL, QUERY_TEXT, 0,
	    "where it came from: file, stdin, imap:NAME, ...", 0, 0, 0 },
	{ "input", NULL, QUERY_TEXT, 0, "path or mailbox location", 0, 0, 0 },
	{ "message_id", NULL, QUERY_TEXT, 0,
	    "the mail's Message-ID (empty for files)", 0, 2, 0 },
	{ "sha256", NULL, QUERY_TEXT, 0, "SHA-256 of the report payload",
	    0, 1, 0 },
	{ "outcome", NULL, QUERY_TEXT, 9, "stored, duplicate or rejected",
	    0, 0, 0 },
	{ "reason", NULL, QUERY_TEXT, 0, "why it was rejected", 0, 0, 0 },
	{ "org_name", NULL, QUERY_TEXT, 0, "the report's organisation",
	    0, 4, 0 },
	{ "report_id", NULL, QUERY_TEXT, 0, "the report's id", 0, 3, 0 },
};

/* --domain goes through the stored report: rejected inputs have none. */
static const char ingest_sql[] =
	"SELECT i.time, i.source, i.input, i.message_id, i.sha256,"
	" i.outcome, i.reason, i.org_name, i.report_id"
	" FROM dmarc.ingest i LEFT JOIN dmarc.report r ON r.id = i.rep_id"
	" WHERE ($1::text IS NULL OR r.domain = $1)"
	" AND ($2::timestamptz IS NULL OR i.time >= $2)"
	" AND ($3::timestamptz IS NULL OR i.time < $3)"
	" ORDER BY i.time DESC, i.id DESC LIMIT $4::bigint";

/*
 * Selects the records (r) of the reports of the domain ($1, NULL: all)
 * whose begin is in the range. A domain's: its reports' ids through
 * report_domain, their records through the one index on dmarc.record,
 * the btree on rep_id (sql/008_record_rep_index.sql). Not a join: the
 * planner multiplies the selectivities of rep_id and begin_time,
 * expects a few hundred rows where a domain's month has hundreds of
 * thousands, and hashes whole partitions (sources on
 * tests/bench/query.sh's store: 1.2 s instead of 0.4); a loop over the
 * reports (LATERAL) took 0.5. Without a domain every record of the
 * months is wanted, read straight: an array of every report's id is
 * an index probe per report, twice the time (sources on all 10 million
 * records: 10.3 s instead of 4.8), and each row's recheck against the
 * whole array once the bitmap outgrows work_mem. Records carry their
 * report's domain and begin, so the conditions on r.begin_time select
 * no other rows; they let the planner leave out the months outside
 * the range. Each statement is planned with its values ($1 IS NULL
 * folds away).
 */
#define RANGE_RECORDS \
	" ($1::text IS NULL OR r.rep_id = ANY (ARRAY(SELECT id" \
	"  FROM dmarc.report WHERE domain = $1" \
	"  AND ($2::timestamptz IS NULL OR begin_time >= $2)" \
	"  AND ($3::timestamptz IS NULL OR begin_time < $3))))" \
	" AND ($2::timestamptz IS NULL OR r.begin_time >= $2)" \
	" AND ($3::timestamptz IS NULL OR r.begin_time < $3)"

/*
 * The figures of sources and failures, per (policy domain, source
 * address), as the views define them, from the records of the range.
 */
#define SOURCE_RECORDS	" FROM dmarc.record r WHERE" RANGE_RECORDS
#define SOURCE_PASS	"coalesce(dkim = 'pass' OR spf = 'pass', false)"
#define SOURCE_FIGURES \
	"SELECT domain, source_ip, sum(count)::bigint AS messages," \
	" coalesce(sum(count) FILTER (WHERE " SOURCE_PASS "), 0)::bigint" \
	"  AS dmarc_pass," \
	" (sum(count) - coalesce(sum(count) FILTER (WHERE " SOURCE_PASS \
	"), 0))::bigint AS dmarc_fail," \
	" coalesce(sum(count) FILTER (WHERE dkim = 'pass'), 0)::bigint" \
	"  AS dkim_aligned," \
	" coalesce(sum(count) FILTER (WHERE spf = 'pass'), 0)::bigint" \
	"  AS spf_aligned"
#define SOURCE_GROUPS	SOURCE_RECORDS " GROUP BY domain, source_ip"

#define SOURCE_COLS \
	{ "domain", NULL, QUERY_TEXT, 0, "the policy domain", 0, 0, 0 }, \
	{ "source_ip", NULL, QUERY_INET, 0, \
	    "the sending address (the record's source_ip)", 0, 0, 0 }, \
	{ "messages", NULL, QUERY_COUNT, 0, \
	    "messages from it: the records' counts summed", 0, \
	    MESSAGES_DROP, 0 }, \
	{ "dmarc_pass", "pass", QUERY_COUNT, 0, \
	    "messages where the DKIM or the SPF verdict is pass", 0, \
	    PASS_DROP, 0 }, \
	{ "dmarc_fail", "fail", QUERY_COUNT, 0, "messages - dmarc_pass", \
	    0, 0, QUERY_ALERT }, \
	{ "dkim_aligned", "dkim", QUERY_COUNT, 0, \
	    "messages whose policy_evaluated dkim is pass", 0, \
	    ALIGNED_DROP, 0 }, \
	{ "spf_aligned", "spf", QUERY_COUNT, 0, \
	    "messages whose policy_evaluated spf is pass", 0, \
	    ALIGNED_DROP, 0 }, \
	{ "ptr", NULL, QUERY_TEXT, 0, \
	    "the address's DNS name (PTR): empty until enrichment", 0, \
	    ENRICH_DROP, 0 }, \
	{ "base_domain", "base", QUERY_TEXT, 0, \
	    "the PTR name's base domain: empty until enrichment", 0, \
	    ENRICH_DROP, 0 }

/* In sources' tables only the empty enrichment columns may go. */
#define PASS_DROP	0
#define ALIGNED_DROP	0
#define ENRICH_DROP	1
#define MESSAGES_DROP	0
static const struct query_col sources_cols[] = {
	SOURCE_COLS,
};
#undef PASS_DROP
#undef ALIGNED_DROP
#undef ENRICH_DROP
#undef MESSAGES_DROP

static const char sources_sql[] =
	SOURCE_FIGURES
	", NULL::text AS ptr, NULL::text AS base_domain"
	SOURCE_GROUPS
	" ORDER BY messages DESC, domain, source_ip LIMIT $4::bigint";

/*
 * A failures table keeps what says what failed: the enrichment, when
 * and who saw it, the figures that passed go first when it does not
 * fit.
 */
#define PASS_DROP	6
#define ALIGNED_DROP	5
#define MESSAGES_DROP	7
#define ENRICH_DROP	1
static const struct query_col failures_cols[] = {
	SOURCE_COLS,
	{ "header_from", NULL, QUERY_JSONV, 0,
	    "the failing records' header_from domains", 0, 0, 0 },
	{ "dkim", "dkim auth", QUERY_JSONV, 0,
	    "their DKIM results: domain/selector=result", 0, 0, 0 },
	{ "spf", "spf auth", QUERY_JSONV, 0,
	    "their SPF results: domain/scope=result", 0, 0, 0 },
	{ "reasons", NULL, QUERY_JSONV, 0,
	    "the receivers' override reasons: type=comment", 0, 4, 0 },
	{ "reporters", NULL, QUERY_JSONV, 0,
	    "the reporters that saw them (org_name, else email)",
	    0, 3, 0 },
	{ "first_seen", "first", QUERY_TIME, 0,
	    "begin of the first report with a failure from it", 0, 2, 0 },
	{ "last_seen", "last", QUERY_TIME, 0,
	    "begin of the last report with a failure from it", 0, 2, 0 },
};
#undef PASS_DROP
#undef ALIGNED_DROP
#undef ENRICH_DROP
#undef MESSAGES_DROP

/*
 * What the records of a CTE f carried, per (domain, source_ip), each
 * value once, as json arrays: h their header_from domains, k their
 * DKIM results, p their SPF results. A result or scope that was not
 * canonical as sent shows as sent.
 */
#define F_HEADER_FROM \
	" h AS (SELECT domain, source_ip, json_agg(hf ORDER BY hf) AS a" \
	"  FROM (SELECT DISTINCT domain, source_ip, header_from AS hf FROM f" \
	"   WHERE header_from IS NOT NULL) x GROUP BY domain, source_ip)"
/*
 * A kind's results as one array, from the columns of t, a row or CTE of
 * dmarc.record's (sql/009_record_auth_slots.sql): field is domain,
 * selector or result (DKIM), domain, scope or result (SPF); always
 * "true" for the domains, whose array has an element per result.
 */
#define DKIM_ARRAY(t, field, always) \
	"dmarc.results(" t ".dkim_n, " t ".dkim1_" field ", " t ".dkim2_" \
	field ", " t ".dkim_more_" field ", " always ")"
#define SPF_ARRAY(t, field, always) \
	"dmarc.results(" t ".spf_n, " t ".spf1_" field ", " t ".spf_more_" \
	field ", " always ")"
/* The columns those read. */
#define AUTH_COLS(t) \
	" " t ".dkim_n, " t ".dkim1_domain, " t ".dkim1_selector," \
	" " t ".dkim1_result, " t ".dkim2_domain, " t ".dkim2_selector," \
	" " t ".dkim2_result, " t ".dkim_more_domain," \
	" " t ".dkim_more_selector, " t ".dkim_more_result," \
	" " t ".dkim_result_raw, " t ".spf_n, " t ".spf1_domain," \
	" " t ".spf1_scope, " t ".spf1_result, " t ".spf_more_domain," \
	" " t ".spf_more_scope, " t ".spf_scope_raw, " t ".spf_more_result," \
	" " t ".spf_result_raw"
/*
 * Each distinct DKIM and SPF result of f's records per source: the
 * slots read as columns, the rest (third DKIM result on, second SPF)
 * by position, so that a result with nothing in it still counts.
 */
#define F_DKIM \
	" k AS (SELECT domain, source_ip, json_agg(json_build_object(" \
	"   'domain', d, 'selector', sel, 'result', res)" \
	"   ORDER BY d, sel, res) AS a" \
	"  FROM (SELECT DISTINCT domain, source_ip, d, sel, res FROM (" \
	"   SELECT f.domain, f.source_ip, f.dkim1_domain AS d," \
	"   f.dkim1_selector AS sel," \
	"   coalesce(f.dkim1_result::text, f.dkim_result_raw[1]) AS res" \
	"   FROM f WHERE f.dkim_n >= 1" \
	"   UNION ALL SELECT f.domain, f.source_ip, f.dkim2_domain," \
	"   f.dkim2_selector," \
	"   coalesce(f.dkim2_result::text, f.dkim_result_raw[2])" \
	"   FROM f WHERE f.dkim_n >= 2" \
	"   UNION ALL SELECT f.domain, f.source_ip, f.dkim_more_domain[i - 2]," \
	"   f.dkim_more_selector[i - 2]," \
	"   coalesce(f.dkim_more_result[i - 2]::text, f.dkim_result_raw[i])" \
	"   FROM f, generate_series(3, f.dkim_n) i WHERE f.dkim_n >= 3) y) x" \
	"  GROUP BY domain, source_ip)"
#define F_SPF \
	" p AS (SELECT domain, source_ip, json_agg(json_build_object(" \
	"   'domain', d, 'scope', sc, 'result', res)" \
	"   ORDER BY d, sc, res) AS a" \
	"  FROM (SELECT DISTINCT domain, source_ip, d, sc, res FROM (" \
	"   SELECT f.domain, f.source_ip, f.spf1_domain AS d," \
	"   coalesce(f.spf1_scope::text, f.spf_scope_raw[1]) AS sc," \
	"   coalesce(f.spf1_result::text, f.spf_result_raw[1]) AS res" \
	"   FROM f WHERE f.spf_n >= 1" \
	"   UNION ALL SELECT f.domain, f.source_ip, f.spf_more_domain[i - 1]," \
	"   coalesce(f.spf_more_scope[i - 1]::text, f.spf_scope_raw[i])," \
	"   coalesce(f.spf_more_result[i - 1]::text, f.spf_result_raw[i])" \
	"   FROM f, generate_series(2, f.spf_n) i WHERE f.spf_n >= 2) y) x" \
	"  GROUP BY domain, source_ip)"
/* Join h, k or p (x) to the row of s for the same source. */
#define F_JOIN(x) \
	" LEFT JOIN " x " ON " x ".domain = s.domain" \
	"  AND " x ".source_ip = s.source_ip"

/*
 * The figures first, limited, then the auth details of the failing
 * records (neither aligned verdict pass) of just those sources.
 */
static const char failures_sql[] =
	"WITH s AS (" SOURCE_FIGURES SOURCE_GROUPS
	"  HAVING sum(count) - coalesce(sum(count)"
	"   FILTER (WHERE " SOURCE_PASS "), 0) > 0"
	"  ORDER BY dmarc_fail DESC, messages DESC, domain, source_ip"
	"  LIMIT $4::bigint),"
	/*
	 * The failing records of the range first, then those of the
	 * sources kept: joined to s in one scan, the planner (which can't
	 * know how few rows s has) looped over the range once per source.
	 */
	" fr AS MATERIALIZED (SELECT r.domain, r.source_ip, r.header_from,"
	AUTH_COLS("r") ", r.reason_type, r.reason_type_raw,"
	"  r.reason_comment, r.rep_id, r.begin_time FROM dmarc.record r"
	"  WHERE" RANGE_RECORDS
	"  AND NOT coalesce(r.dkim = 'pass' OR r.spf = 'pass', false)),"
	" f AS (SELECT fr.* FROM fr"
	"  JOIN s ON s.domain = fr.domain AND s.source_ip = fr.source_ip),"
	F_HEADER_FROM "," F_DKIM "," F_SPF ","
	" rs AS (SELECT domain, source_ip, json_agg(json_build_object("
	"   'type', t, 'comment', c) ORDER BY t, c) AS a"
	"  FROM (SELECT DISTINCT f.domain, f.source_ip,"
	"   coalesce(u.t::text, u.raw) AS t, u.c FROM f CROSS JOIN LATERAL"
	"   unnest(f.reason_type, f.reason_type_raw, f.reason_comment)"
	"   AS u(t, raw, c) WHERE f.reason_type IS NOT NULL) x"
	"  GROUP BY domain, source_ip),"
	" o AS (SELECT domain, source_ip, json_agg(org ORDER BY org) AS a"
	"  FROM (SELECT DISTINCT f.domain, f.source_ip,"
	"   coalesce(nullif(rp.org_name, ''), rp.email) AS org"
	"   FROM f JOIN dmarc.report rp ON rp.id = f.rep_id) x"
	"  WHERE org IS NOT NULL GROUP BY domain, source_ip),"
	" t AS (SELECT domain, source_ip, min(begin_time) AS first_seen,"
	"  max(begin_time) AS last_seen FROM f GROUP BY domain, source_ip)"
	" SELECT s.domain, s.source_ip, s.messages, s.dmarc_pass,"
	" s.dmarc_fail, s.dkim_aligned, s.spf_aligned, NULL::text,"
	" NULL::text, coalesce(h.a, '[]'), coalesce(k.a, '[]'),"
	" coalesce(p.a, '[]'), coalesce(rs.a, '[]'), coalesce(o.a, '[]'),"
	" t.first_seen, t.last_seen"
	" FROM s" F_JOIN("h") F_JOIN("k") F_JOIN("p") F_JOIN("rs") F_JOIN("o")
	F_JOIN("t")
	" ORDER BY s.dmarc_fail DESC, s.messages DESC, s.domain, s.source_ip";

static const struct query_col forensic_cols[] = {
	{ "arrival_date", "arrival", QUERY_TIME, 0,
	    "when the reporter received it (UTC; empty if unread)",
	    0, 0, 0 },
	{ "source_ip", NULL, QUERY_INET, 0, "the address it came from",
	    0, 0, 0 },
	{ "reported_domain", "domain", QUERY_JSONV, 0,
	    "the Reported-Domain fields (JSON: an array)", 0, 0, 0 },
	{ "original_mail_from", "mail_from", QUERY_TEXT, 0,
	    "its envelope sender (empty: <>)", 0, 4, 0 },
	{ "original_rcpt_to", "rcpt_to", QUERY_JSONV, 0,
	    "its envelope recipients (JSON: an array)", 0, 3, 0 },
	{ "feedback_type", "type", QUERY_TEXT, 0,
	    "auth-failure, or another ARF type that had Auth-Failure",
	    0, 1, 0 },
	{ "auth_failure", "failure", QUERY_TEXT, 0,
	    "what failed: dmarc, spf, signature, bodyhash, ...", 0, 0, 0 },
	{ "delivery_result", "delivery", QUERY_TEXT, 0,
	    "delivered, spam, policy, reject or other", 0, 0, 0 },
	{ "dkim_domain", NULL, QUERY_TEXT, 0, "DKIM-Domain", 0, 2, 0 },
	{ "dkim_selector", NULL, QUERY_TEXT, 0, "DKIM-Selector", 0, 2, 0 },
	{ "spf_dns", NULL, QUERY_TEXT, 0, "SPF-DNS: the SPF record used",
	    0, 2, 0 },
	{ "subject", NULL, QUERY_TEXT, 0,
	    "the reported message's Subject (empty when not kept)", 0, 0, 0 },
};

/* --domain: any of the Reported-Domain fields (kept lower case). */
static const char forensic_sql[] =
	"SELECT arrival_date, source_ip,"
	" coalesce(to_json(reported_domain), '[]'::json), original_mail_from,"
	" coalesce(to_json(original_rcpt_to), '[]'::json), feedback_type,"
	" auth_failure, delivery_result, dkim_domain, dkim_selector, spf_dns,"
	" orig_subject"
	" FROM dmarc.failure_report"
	" WHERE ($1::text IS NULL OR $1 = ANY (reported_domain))"
	" AND ($2::timestamptz IS NULL OR arrival_date >= $2)"
	" AND ($3::timestamptz IS NULL OR arrival_date < $3)"
	" ORDER BY arrival_date DESC NULLS LAST, id DESC LIMIT $4::bigint";

/*
 * report: the reports with the ID ($5), newest first, then for each
 * its records ($6: dmarc.report.id), in their order in the report.
 * Enumerations that were not canonical as sent show as sent.
 */
static const struct query_col report_cols[] = {
	{ "id", NULL, QUERY_COUNT, 0, "", 0, 0, QUERY_HIDDEN },
	{ "org_name", NULL, QUERY_TEXT, 0,
	    "the reporting organisation, as sent", 0, 0, QUERY_CSVKEY },
	{ "email", NULL, QUERY_TEXT, 0, "the reporter's address", 0, 0, 0 },
	{ "extra_contact_info", NULL, QUERY_TEXT, 0,
	    "more contact information from the reporter", 0, 0, 0 },
	{ "report_id", NULL, QUERY_TEXT, 0,
	    "the reporter's id of the report", 0, 0, QUERY_CSVKEY },
	{ "domain", NULL, QUERY_TEXT, 0, "the policy domain", 0, 0,
	    QUERY_CSVKEY },
	{ "begin", NULL, QUERY_TIME, 0, "start of the reported range (UTC)",
	    0, 0, QUERY_CSVKEY },
	{ "end", NULL, QUERY_TIME, 0, "end of the reported range (UTC)",
	    0, 0, QUERY_DAYEND | QUERY_CSVKEY },
	{ "generator", NULL, QUERY_TEXT, 0,
	    "the software that wrote the report (RFC 9990)", 0, 0, 0 },
	{ "errors", NULL, QUERY_JSONV, 0,
	    "the reporter's error messages (JSON: an array)", 0, 0, 0 },
	{ "version", NULL, QUERY_TEXT, 0,
	    "the report format's version, as sent (RFC 9990: 2.0)", 0, 0,
	    0 },
	{ "namespace", NULL, QUERY_TEXT, 0,
	    "the XML namespace of the report", 0, 0, 0 },
	{ "adkim", NULL, QUERY_TEXT, 0, "DKIM alignment: r relaxed, s strict",
	    0, 0, QUERY_NEST },
	{ "aspf", NULL, QUERY_TEXT, 0, "SPF alignment: r relaxed, s strict",
	    0, 0, QUERY_NEST },
	{ "p", NULL, QUERY_TEXT, 0, "the policy: none, quarantine or reject",
	    0, 0, QUERY_NEST },
	{ "sp", NULL, QUERY_TEXT, 0, "the policy for subdomains", 0, 0,
	    QUERY_NEST },
	{ "np", NULL, QUERY_TEXT, 0,
	    "the policy for non-existent subdomains (RFC 9990)", 0, 0,
	    QUERY_NEST },
	{ "pct", NULL, QUERY_COUNT, 0,
	    "the percentage of failing mail the policy applies to", 0, 0,
	    QUERY_NEST },
	{ "fo", NULL, QUERY_TEXT, 0, "failure reporting options", 0, 0,
	    QUERY_NEST },
	{ "testing", NULL, QUERY_TEXT, 0, "t=: y in test mode (RFC 9990)",
	    0, 0, QUERY_NEST },
	{ "discovery_method", NULL, QUERY_TEXT, 0,
	    "how the policy was found: psl or treewalk (RFC 9990)", 0, 0,
	    QUERY_NEST },
	{ "record_count", NULL, QUERY_COUNT, 0, "records stored", 0, 0, 0 },
	{ "messages", NULL, QUERY_COUNT, 0, "the records' counts summed",
	    0, 0, 0 },
};

/* By report_id alone (sql/006_report_id.sql indexes it). */
static const char report_sql[] =
	"SELECT id, org_name, email, extra_contact_info, report_id, domain,"
	" begin_time, end_time, generator,"
	" coalesce(to_json(errors), '[]'::json), version, namespace,"
	" coalesce(adkim::text, adkim_raw), coalesce(aspf::text, aspf_raw),"
	" coalesce(p::text, p_raw), coalesce(sp::text, sp_raw),"
	" coalesce(np::text, np_raw), pct, fo,"
	" coalesce(testing::text, testing_raw),"
	" coalesce(discovery_method::text, discovery_method_raw), records,"
	" messages"
	" FROM dmarc.report"
	" WHERE report_id = $5::text"
	" AND ($1::text IS NULL OR domain = $1)"
	" AND ($2::timestamptz IS NULL OR begin_time >= $2)"
	" AND ($3::timestamptz IS NULL OR begin_time < $3)"
	" ORDER BY begin_time DESC, id DESC";

static const struct query_col record_cols[] = {
	{ "source_ip", NULL, QUERY_INET, 0, "the sending address", 0, 0, 0 },
	{ "count", NULL, QUERY_COUNT, 0, "messages the record stands for",
	    0, 0, 0 },
	{ "disposition", "disp", QUERY_TEXT, 0,
	    "what the receiver did: none, quarantine or reject", 0, 0,
	    QUERY_ALERT },
	{ "dkim_verdict", "dkim", QUERY_TEXT, 0,
	    "policy_evaluated dkim: pass or fail", 0, 0, 0 },
	{ "spf_verdict", "spf", QUERY_TEXT, 0,
	    "policy_evaluated spf: pass or fail", 0, 0, 0 },
	{ "header_from", NULL, QUERY_TEXT, 0, "the From: header's domain",
	    0, 0, 0 },
	{ "envelope_from", NULL, QUERY_TEXT, 0,
	    "the envelope sender's domain (RFC 5321.MailFrom)", 0, 2, 0 },
	{ "envelope_to", NULL, QUERY_TEXT, 0,
	    "the envelope recipient's domain", 0, 1, 0 },
	{ "dkim", "dkim auth", QUERY_JSONV, 0,
	    "DKIM results: domain/selector=result (human_result)", 0, 0, 0 },
	{ "spf", "spf auth", QUERY_JSONV, 0,
	    "SPF results: domain/scope=result (human_result)", 0, 0, 0 },
	{ "reasons", NULL, QUERY_JSONV, 0,
	    "the receiver's override reasons: type (comment)", 0, 0, 0 },
};

/*
 * The report's begin picks the partition; the btree on rep_id the rows
 * in it. The auth results and reasons in their order.
 */
static const char record_sql[] =
	"SELECT r.source_ip, r.count, coalesce(r.disposition::text,"
	" r.disposition_raw), coalesce(r.dkim::text, r.dkim_raw),"
	" coalesce(r.spf::text, r.spf_raw), r.header_from, r.envelope_from,"
	" r.envelope_to,"
	" CASE WHEN coalesce(r.dkim_n, 0) = 0 THEN '[]'::json ELSE"
	" (SELECT json_agg(json_build_object('domain', u.d,"
	"  'selector', u.sel, 'result', coalesce(u.res::text, u.raw),"
	"  'human_result', u.hr) ORDER BY u.i)"
	"  FROM unnest(" DKIM_ARRAY("r", "domain", "true") ","
	"  " DKIM_ARRAY("r", "selector", "false") ","
	"  " DKIM_ARRAY("r", "result", "false") ","
	"  r.dkim_result_raw, r.dkim_human_result)"
	"  WITH ORDINALITY AS u(d, sel, res, raw, hr, i)) END,"
	" CASE WHEN coalesce(r.spf_n, 0) = 0 THEN '[]'::json ELSE"
	" (SELECT json_agg(json_build_object('domain', u.d,"
	"  'scope', coalesce(u.sc::text, u.scraw),"
	"  'result', coalesce(u.res::text, u.raw),"
	"  'human_result', u.hr) ORDER BY u.i)"
	"  FROM unnest(" SPF_ARRAY("r", "domain", "true") ","
	"  " SPF_ARRAY("r", "scope", "false") ", r.spf_scope_raw,"
	"  " SPF_ARRAY("r", "result", "false") ", r.spf_result_raw,"
	"  r.spf_human_result)"
	"  WITH ORDINALITY AS u(d, sc, scraw, res, raw, hr, i)) END,"
	" CASE WHEN r.reason_type IS NULL THEN '[]'::json ELSE"
	" (SELECT json_agg(json_build_object('type',"
	"  coalesce(u.t::text, u.traw), 'comment', u.c) ORDER BY u.i)"
	"  FROM unnest(r.reason_type, r.reason_type_raw, r.reason_comment)"
	"  WITH ORDINALITY AS u(t, traw, c, i)) END"
	" FROM dmarc.record r"
	" WHERE r.rep_id = $6::bigint AND r.begin_time ="
	"  (SELECT begin_time FROM dmarc.report WHERE id = $6::bigint)"
	" ORDER BY r.rec_no LIMIT $4::bigint";

static const struct query_cmd report_records = {
	"records", "the report's records", "", record_sql, record_cols,
	nitems(record_cols), NULL, NULL, NULL, 0, 0,
};

/*
 * new-sources: the (domain, source) pairs whose earliest record is in
 * [since, until) ($2 and $3 are always set: see days), and their
 * figures from then until until.
 */
#define PASS_DROP	2
#define ALIGNED_DROP	1
static const struct query_col new_sources_cols[] = {
	{ "domain", NULL, QUERY_TEXT, 0, "the policy domain", 0, 0, 0 },
	{ "source_ip", NULL, QUERY_INET, 0,
	    "the sending address (the record's source_ip)", 0, 0, 0 },
	{ "first_seen", "first", QUERY_TIME, 0,
	    "the begin of the first report that lists it (UTC)", 0, 0, 0 },
	{ "last_seen", "last", QUERY_TIME, 0,
	    "the begin of the last report that lists it (UTC)", 0, 3, 0 },
	{ "reports", NULL, QUERY_COUNT, 0, "reports that list it", 0, 4, 0 },
	{ "messages", NULL, QUERY_COUNT, 0,
	    "messages from it: the records' counts summed", 0, 0, 0 },
	{ "dmarc_pass", "pass", QUERY_COUNT, 0,
	    "messages where the DKIM or the SPF verdict is pass", 0,
	    PASS_DROP, 0 },
	{ "dmarc_fail", "fail", QUERY_COUNT, 0, "messages - dmarc_pass",
	    0, 0, QUERY_ALERT },
	{ "dkim_aligned", "dkim", QUERY_COUNT, 0,
	    "messages whose policy_evaluated dkim is pass", 0, ALIGNED_DROP,
	    0 },
	{ "spf_aligned", "spf", QUERY_COUNT, 0,
	    "messages whose policy_evaluated spf is pass", 0, ALIGNED_DROP,
	    0 },
	{ "header_from", NULL, QUERY_JSONV, 0,
	    "its records' header_from domains", 0, 0, 0 },
	{ "reporters", NULL, QUERY_JSONV, 0,
	    "the org_name (or email) of the reports that list it", 0, 5, 0 },
};
#undef PASS_DROP
#undef ALIGNED_DROP

/*
 * Every record of the domain before until is read to find the first
 * appearance; the figures are then those of the new sources' records.
 * Records are found through their reports' ids (see RANGE_RECORDS).
 */
static const char new_sources_sql[] =
	"WITH n AS (SELECT r.domain, r.source_ip FROM dmarc.record r"
	"  WHERE ($1::text IS NULL OR r.rep_id = ANY (ARRAY(SELECT id"
	"   FROM dmarc.report WHERE domain = $1"
	"   AND begin_time < $3::timestamptz)))"
	"  AND r.begin_time < $3::timestamptz"
	"  GROUP BY r.domain, r.source_ip"
	"  HAVING min(r.begin_time) >= $2::timestamptz),"
	" f AS (SELECT r.* FROM dmarc.record r"
	"  JOIN n ON n.domain = r.domain AND n.source_ip = r.source_ip"
	"  WHERE" RANGE_RECORDS "),"
	" s AS (" SOURCE_FIGURES ", min(begin_time) AS first_seen,"
	"  max(begin_time) AS last_seen, count(DISTINCT rep_id) AS reports"
	"  FROM f GROUP BY domain, source_ip"
	"  ORDER BY messages DESC, domain, source_ip LIMIT $4::bigint),"
	F_HEADER_FROM ","
	" o AS (SELECT domain, source_ip, json_agg(org ORDER BY org) AS a"
	"  FROM (SELECT DISTINCT f.domain, f.source_ip,"
	"   coalesce(nullif(rp.org_name, ''), rp.email) AS org"
	"   FROM f JOIN dmarc.report rp ON rp.id = f.rep_id) x"
	"  WHERE org IS NOT NULL GROUP BY domain, source_ip)"
	" SELECT s.domain, s.source_ip, s.first_seen, s.last_seen, s.reports,"
	" s.messages, s.dmarc_pass, s.dmarc_fail, s.dkim_aligned,"
	" s.spf_aligned, coalesce(h.a, '[]'), coalesce(o.a, '[]')"
	" FROM s" F_JOIN("h") F_JOIN("o")
	" ORDER BY s.messages DESC, s.domain, s.source_ip";

/*
 * readiness: the records of the domain in the period ($1, $2, $3 are
 * always set), each with whether it passed (ok); each source's
 * figures; and for the sources with failing messages what their
 * failing records carried, hence what to fix (the rules are in the
 * command's help, first match wins).
 */
#define READY_WITH \
	"WITH rec AS (SELECT r.*," \
	"  coalesce(r.dkim = 'pass' OR r.spf = 'pass', false) AS ok" \
	"  FROM dmarc.record r WHERE" RANGE_RECORDS ")," \
	" src AS (SELECT source_ip, sum(count)::bigint AS messages," \
	"  coalesce(sum(count) FILTER (WHERE ok), 0)::bigint AS dmarc_pass" \
	"  FROM rec GROUP BY source_ip)," \
	" bad AS (SELECT source_ip," \
	"  bool_or(dkim_n > 0) AS signed," \
	"  bool_or(coalesce(spf1_result = 'pass', false) OR" \
	"   coalesce('pass' = ANY (spf_more_result), false)) AS spf_pass," \
	"  bool_or(reason_type &&" \
	"   '{forwarded,trusted_forwarder,mailing_list}'" \
	"   ::dmarc.reason_type[]) AS fwd," \
	"  bool_or(EXISTS (SELECT FROM (SELECT dkim1_domain, dkim1_result" \
	"   UNION ALL SELECT dkim2_domain, dkim2_result UNION ALL" \
	"   SELECT * FROM unnest(dkim_more_domain, dkim_more_result))" \
	"   AS u(d, res) WHERE (lower(u.d) = domain" \
	"   OR right(lower(u.d), length(domain) + 1) = '.' || domain)" \
	"   AND u.res = 'fail')) AS own_fail" \
	"  FROM rec WHERE NOT ok GROUP BY source_ip)," \
	" fs AS (SELECT s.source_ip, s.messages, s.dmarc_pass," \
	"  s.messages - s.dmarc_pass AS dmarc_fail," \
	"  CASE WHEN s.dmarc_pass = 0 AND (b.fwd OR b.own_fail)" \
	"   THEN 'forwarder'" \
	"  WHEN b.signed THEN 'dkim' WHEN b.spf_pass THEN 'spf'" \
	"  WHEN s.dmarc_pass > 0 THEN 'both' ELSE 'unknown sender' END" \
	"  AS fix" \
	"  FROM src s JOIN bad b ON b.source_ip = s.source_ip" \
	"  WHERE s.messages > s.dmarc_pass)"
/* a share of b in percent, two decimals, no trailing zeros */
#define PCT(a, b) \
	"trim_scale(round(100.0 * (" a ") / nullif(" b ", 0), 2))::text"
/* n with thousands separators, and a noun for it */
#define NUM(n)		"to_char(" n ", 'FM999,999,999,999,999,990')"
#define NOUN(n, one)	"CASE WHEN " n " = 1 THEN ' " one "'" \
			" ELSE ' " one "s' END"

static const struct query_col ready_cols[] = {
	{ "domain", NULL, QUERY_TEXT, 0, "the policy domain (--domain)",
	    0, 0, QUERY_CSVKEY },
	{ "since", NULL, QUERY_TIME, 0, "the period's start (UTC)", 0, 0, 0 },
	{ "until", NULL, QUERY_TIME, 0, "the period's end (UTC, exclusive)",
	    0, 0, 0 },
	{ "p", NULL, QUERY_TEXT, 0,
	    "the policy of the newest report before until", 0, 0, QUERY_NEST },
	{ "sp", NULL, QUERY_TEXT, 0, "its sp (subdomains)", 0, 0, QUERY_NEST },
	{ "pct", NULL, QUERY_COUNT, 0, "its pct", 0, 0, QUERY_NEST },
	{ "reports", NULL, QUERY_COUNT, 0,
	    "aggregate reports with records in the period", 0, 0, 0 },
	{ "messages", NULL, QUERY_COUNT, 0,
	    "messages reported: the records' counts summed", 0, 0, 0 },
	{ "dmarc_fail", NULL, QUERY_COUNT, 0,
	    "messages failing DMARC: hit by a policy at pct=100", 0, 0,
	    QUERY_ALERT },
	{ "dmarc_fail_pct", NULL, QUERY_PCT, 0,
	    "dmarc_fail in percent of messages", 0, 0, 0 },
	{ "sources_total", NULL, QUERY_COUNT, 0, "sending addresses",
	    0, 0, 0 },
	{ "sources_failing", NULL, QUERY_COUNT, 0,
	    "sending addresses with failing messages", 0, 0, 0 },
	{ "fail_also_pass", NULL, QUERY_COUNT, 0,
	    "dmarc_fail from sources that also pass: to fix", 0, 0, 0 },
	{ "fail_also_pass_pct", NULL, QUERY_PCT, 0,
	    "fail_also_pass in percent of dmarc_fail", 0, 0, 0 },
	{ "fail_never_pass", NULL, QUERY_COUNT, 0,
	    "dmarc_fail from sources that never pass: forged?", 0, 0, 0 },
	{ "fail_never_pass_pct", NULL, QUERY_PCT, 0,
	    "fail_never_pass in percent of dmarc_fail", 0, 0, 0 },
	{ "verdict", NULL, QUERY_TEXT, 0,
	    "ready for p=reject or p=quarantine, not ready, no data", 0, 0,
	    QUERY_VERDICT },
};

static const char ready_sql[] =
	READY_WITH ","
	" t AS (SELECT coalesce(sum(messages), 0)::bigint AS messages,"
	"  coalesce(sum(messages - dmarc_pass), 0)::bigint AS dmarc_fail,"
	"  count(*) AS n FROM src),"
	" f AS (SELECT count(*) AS n,"
	"  count(*) FILTER (WHERE dmarc_pass > 0) AS nalso,"
	"  coalesce(sum(dmarc_fail) FILTER (WHERE dmarc_pass > 0), 0)::bigint"
	"  AS also,"
	"  coalesce(sum(dmarc_fail) FILTER (WHERE dmarc_pass = 0), 0)::bigint"
	"  AS never,"
	/* senders that exist but are set up wrong, passing or not */
	"  count(*) FILTER (WHERE fix IN ('dkim', 'spf', 'both')) AS nfix,"
	"  coalesce(sum(dmarc_fail) FILTER (WHERE fix IN ('dkim', 'spf',"
	"  'both')), 0)::bigint AS fixm FROM fs),"
	" v AS (SELECT CASE WHEN t.dmarc_fail > 0"
	"  AND round(100.0 * t.dmarc_fail / t.messages, 2) = 0"
	"  THEN '<0.01' ELSE " PCT("t.dmarc_fail", "t.messages") " END"
	"  || '% of mail (' || " NUM("t.dmarc_fail") " || "
	NOUN("t.dmarc_fail", "message") " || ' from ' || " NUM("f.n") " || "
	NOUN("f.n", "source") " || ') would be affected' AS hit"
	"  FROM t, f)"
	" SELECT $1::text, $2::timestamptz, $3::timestamptz, pol.p, pol.sp,"
	" pol.pct, (SELECT count(DISTINCT rep_id) FROM rec)::bigint,"
	" t.messages, t.dmarc_fail, " PCT("t.dmarc_fail", "t.messages") ","
	" t.n, f.n, f.also, " PCT("f.also", "t.dmarc_fail") ","
	" f.never, " PCT("f.never", "t.dmarc_fail") ","
	" CASE WHEN t.messages = 0"
	"  THEN 'no data: no report of ' || $1 || ' in the period'"
	" WHEN t.dmarc_fail = 0"
	"  THEN 'ready for p=reject: no message failed DMARC'"
	" WHEN f.fixm = 0 THEN 'ready for p=quarantine: ' || v.hit"
	"  || ', all from sources that never authenticate (forged, or"
	" not set up at all: check that none is yours) or forwarders'"
	" ELSE 'not ready: ' || v.hit || ', ' || " NUM("f.fixm")
	"  || ' of them from ' || " NUM("f.nfix") " || "
	" CASE WHEN f.nfix = 1 THEN ' sender'"
	"  ELSE ' senders' END || ' set up wrong (fix: dkim, spf or both):"
	" fix ' || CASE WHEN f.nfix = 1 THEN 'it' ELSE 'those' END"
	"  || ' first'"
	" END"
	" FROM t, f, v LEFT JOIN LATERAL (SELECT coalesce(p::text, p_raw) AS p,"
	"  coalesce(sp::text, sp_raw) AS sp, pct FROM dmarc.report"
	"  WHERE domain = $1 AND begin_time < $3"
	"  ORDER BY begin_time DESC, id DESC LIMIT 1) pol ON true";

static const struct query_col ready_source_cols[] = {
	{ "source_ip", NULL, QUERY_INET, 0, "the sending address", 0, 0, 0 },
	{ "messages", NULL, QUERY_COUNT, 0, "messages from it", 0, 0, 0 },
	{ "dmarc_pass", "pass", QUERY_COUNT, 0,
	    "messages where the DKIM or the SPF verdict is pass", 0, 1, 0 },
	{ "dmarc_fail", "fail", QUERY_COUNT, 0, "messages - dmarc_pass", 0, 0,
	    QUERY_ALERT },
	{ "fail_share_pct", "share", QUERY_PCT, 0,
	    "its dmarc_fail in percent of the domain's", 0, 2, 0 },
	{ "fix", NULL, QUERY_TEXT, 14,
	    "dkim, spf, both, forwarder or unknown sender", 14, 0, 0 },
	{ "dkim", "dkim auth", QUERY_JSONV, 0,
	    "the failing records' DKIM results", 0, 0, 0 },
	{ "spf", "spf auth", QUERY_JSONV, 0,
	    "the failing records' SPF results", 0, 0, 0 },
};

static const char ready_source_sql[] =
	READY_WITH ","
	" s AS (SELECT $1::text AS domain, * FROM fs"
	"  ORDER BY dmarc_fail DESC, messages DESC, source_ip"
	"  LIMIT $4::bigint),"
	" f AS (SELECT rec.* FROM rec JOIN s ON s.source_ip = rec.source_ip"
	"  WHERE NOT rec.ok),"
	F_DKIM "," F_SPF
	" SELECT s.source_ip, s.messages, s.dmarc_pass, s.dmarc_fail,"
	" " PCT("s.dmarc_fail", "(SELECT sum(dmarc_fail) FROM fs)") ", s.fix,"
	" coalesce(k.a, '[]'), coalesce(p.a, '[]')"
	" FROM s" F_JOIN("k") F_JOIN("p")
	" ORDER BY s.dmarc_fail DESC, s.messages DESC, s.source_ip";

static const struct query_cmd ready_sources = {
	"sources", "the failing sources", "", ready_source_sql,
	ready_source_cols, nitems(ready_source_cols), NULL, NULL, NULL, 0, 0,
};

const struct query_cmd query_cmds[] = {
	{ "summary", "one row per policy domain",
	    "One row per policy domain with the totals of its reports'\n"
	    "records, sorted by domain, from the reports whose begin is in\n"
	    "[since, until); --domain selects the policy domain. The figures\n"
	    "are the totals each report carries (summed when it was stored),\n"
	    "which the view dmarc.daily_domain adds up per UTC day for\n"
	    "dashboards. Domains without reports in the range are not\n"
	    "listed; a report without records counts in reports.\n",
	    summary_sql, summary_cols, nitems(summary_cols),
	    NULL, NULL, NULL, 0, 0 },
	{ "reports", "ingested aggregate reports, newest first",
	    "The aggregate reports stored, newest first (by begin). A report\n"
	    "is in the range when its begin is in [since, until); --domain\n"
	    "selects its policy domain. A table narrower than it needs\n"
	    "leaves out end.\n",
	    reports_sql, reports_cols, nitems(reports_cols),
	    NULL, NULL, NULL, 0, 0 },
	{ "sources", "one row per (policy domain, source address)",
	    "One row per policy domain and sending address, the most\n"
	    "messages first, from the records of the reports whose begin is\n"
	    "in [since, until); --domain selects the policy domain. ptr and\n"
	    "base_domain stay empty (null in JSON) until enrichment exists;\n"
	    "a table narrower than it needs leaves them out.\n",
	    sources_sql, sources_cols, nitems(sources_cols),
	    NULL, NULL, NULL, 0, 0 },
	{ "failures", "sources with DMARC failures, worst first",
	    "The sources (see sources) with DMARC failures, the most failed\n"
	    "messages first, with what the failing records (those where\n"
	    "neither the aligned DKIM nor the aligned SPF verdict is pass)\n"
	    "carried: their header_from domains, their DKIM and SPF results\n"
	    "and the receivers' override reasons, each listed once, the\n"
	    "reporters that saw them, and the begin of the first and the\n"
	    "last report with one. In JSON these are arrays: of strings, of\n"
	    "{domain, selector, result}, of {domain, scope, result}, of\n"
	    "{type, comment} and of strings (empty when there were none; a\n"
	    "selector, scope or comment the report did not give is null);\n"
	    "in tables and CSV one line each, \"a.example, b.example\",\n"
	    "\"example.com/s1=pass\", \"example.com/mfrom=softfail\",\n"
	    "\"forwarded=via list\". A result, scope or type that was not\n"
	    "one of the RFC's words is shown as sent. A table narrower than\n"
	    "it needs leaves out ptr and base_domain, then first_seen and\n"
	    "last_seen, reporters, reasons, dkim_aligned and spf_aligned,\n"
	    "dmarc_pass, then messages.\n",
	    failures_sql, failures_cols, nitems(failures_cols),
	    NULL, NULL, NULL, 0, 0 },
	{ "ingest", "the ledger of processed inputs, newest first",
	    "The ingest ledger: one row per input (or per report of an\n"
	    "input) and what became of it, newest first. --since/--until\n"
	    "filter on the time it was processed. --domain keeps the rows\n"
	    "whose stored report has that policy domain: rejected inputs\n"
	    "have no report and are then left out. A table narrower than it\n"
	    "needs leaves out sha256, then message_id, report_id and\n"
	    "org_name.\n",
	    ingest_sql, ingest_cols, nitems(ingest_cols),
	    NULL, NULL, NULL, 0, 0 },
	{ "forensic", "failure (ruf) reports, newest first",
	    "The failure reports stored, newest first (by Arrival-Date;\n"
	    "those without one last). --domain selects the reports that name\n"
	    "it in a Reported-Domain field; --since/--until filter on the\n"
	    "Arrival-Date, so reports without one are then left out. In JSON\n"
	    "reported_domain and original_rcpt_to are arrays; in tables and\n"
	    "CSV one line, \"a.example, b.example\". subject is empty unless\n"
	    "[failure] store keeps the original's headers. A table narrower\n"
	    "than it needs leaves out feedback_type, then dkim_domain,\n"
	    "dkim_selector and spf_dns, then original_rcpt_to and\n"
	    "original_mail_from.\n",
	    forensic_sql, forensic_cols, nitems(forensic_cols),
	    NULL, NULL, NULL, 0, 0 },
	{ "report", "one aggregate report in full, with its records",
	    "The aggregate reports whose report_id is ID, newest first (by\n"
	    "begin), each in full: what the reporter said about itself and\n"
	    "the report, the policy published (policy_published) and every\n"
	    "record, in the report's order, with its verdicts, identifiers,\n"
	    "auth results and override reasons. Reporters choose IDs, so\n"
	    "several reports (of other reporters or domains) may share one:\n"
	    "--domain selects the policy domain and --since/--until the\n"
	    "begin, as for reports; all that still match are shown. When\n"
	    "none does, a message says so and the exit status is 1.\n"
	    "\n"
	    "A table shows each report as \"key: value\" lines (empty values\n"
	    "left out; the policy on one line of name=value pairs) above a\n"
	    "table of its records; --limit applies to the records of each\n"
	    "report (50 by default; a last line says how many more there\n"
	    "are). A table narrower than it needs leaves out envelope_to,\n"
	    "then envelope_from. JSON: an array of objects, one per report:\n"
	    "the keys below, the policy as an object \"policy\", the records\n"
	    "as an array \"records\", each record with arrays \"dkim\"\n"
	    "({domain, selector, result, human_result}), \"spf\" ({domain,\n"
	    "scope, result, human_result}) and \"reasons\" ({type, comment}).\n"
	    "CSV: one row per record, after its report's org_name,\n"
	    "report_id, domain, begin and end. In tables and CSV a\n"
	    "human_result or comment is in parentheses after the rest:\n"
	    "\"example.com/s1=fail (body hash did not verify)\". A value\n"
	    "that was not one of the RFC's words is shown as sent.\n",
	    report_sql, report_cols, nitems(report_cols),
	    &report_records, "policy", "ID", 0, 0 },
	{ "new-sources", "sources seen for the first time, most mail first",
	    "The sources (policy domain, sending address) whose first\n"
	    "appearance in any stored report of that domain (the begin of\n"
	    "the first report that lists it) is in [since, until), the most\n"
	    "messages first: what to alert on. Without --since the period is\n"
	    "the 7 days before --until; without --until it ends now. The\n"
	    "figures count the source's records from its first appearance\n"
	    "on, before until. --domain selects the policy domain. JSON is\n"
	    "an empty array when nothing is new, for a cron job:\n"
	    "  dmarcq new-sources --format json | jq -e 'length == 0'\n"
	    "A table narrower than it needs leaves out dkim_aligned and\n"
	    "spf_aligned, then dmarc_pass, last_seen, reports, reporters.\n",
	    new_sources_sql, new_sources_cols, nitems(new_sources_cols),
	    NULL, NULL, NULL, 0, 7 },
	{ "readiness", "would a stricter policy hurt? (--domain D)",
	    "Would p=quarantine or p=reject hurt the mail of --domain D\n"
	    "(required)? Over the period, by default the 30 days before\n"
	    "--until (without --until: before now): the policy published\n"
	    "now (in the newest report), the messages that fail DMARC and\n"
	    "so would be quarantined or rejected at pct=100, and how many of\n"
	    "them come from sources that also pass at other times (your\n"
	    "senders, with a problem to fix) or from sources that never pass\n"
	    "(likely forged, or a sender you don't know of). Then the\n"
	    "failing sources, the most failed messages first, each with what\n"
	    "to fix, read from what its failing records (neither aligned\n"
	    "verdict pass) carried; the first rule that matches:\n"
	    "  forwarder   the source never passes, and the receiver gave a\n"
	    "              reason forwarded, trusted_forwarder or\n"
	    "              mailing_list, or a DKIM signature of D (d=D or a\n"
	    "              subdomain) has the result fail: your mail, relayed\n"
	    "              and changed on the way (a list, a forwarder);\n"
	    "              nothing to fix at the sender, and a receiver that\n"
	    "              does not trust the relay applies the policy to it\n"
	    "  dkim        DKIM signatures present, but none aligned and\n"
	    "              passing: sign with d=D and a key that verifies\n"
	    "              (dkim lists the domains and selectors seen)\n"
	    "  spf         no signature, but SPF passed for another domain:\n"
	    "              use an envelope sender under D, or sign (spf\n"
	    "              lists the envelope domains)\n"
	    "  both        no signature, no SPF pass, but the source passes\n"
	    "              at other times: some of its mail goes out with\n"
	    "              neither; fix both\n"
	    "  unknown sender\n"
	    "              no signature, no SPF pass, never passes: likely\n"
	    "              forged, or a service not set up at all\n"
	    "The verdict: \"no data\" without records in the period; \"ready\n"
	    "for p=reject\" when no message failed; \"ready for\n"
	    "p=quarantine\" when every failing message comes from an\n"
	    "unknown sender or a forwarder; else \"not ready\", with how\n"
	    "many came from senders set up wrong (fix dkim, spf or both:\n"
	    "they sign or pass SPF for another domain, or pass at other\n"
	    "times): fix those first. It counts messages, not the current\n"
	    "pct: at pct=100 every failing one is hit.\n"
	    "\n"
	    "A table shows the summary as \"key: value\" lines (p, sp and pct\n"
	    "on one line, a percentage in parentheses after its count), the\n"
	    "verdict, and a table of the failing sources (--limit: 50 by\n"
	    "default). JSON: an array holding one object: the keys below, p,\n"
	    "sp and pct in an object \"policy\", the failing sources in an\n"
	    "array \"sources\". CSV: the failing sources only. Percentages\n"
	    "have up to two decimals (JSON numbers; null when there is\n"
	    "nothing to divide by).\n",
	    ready_sql, ready_cols, nitems(ready_cols),
	    &ready_sources, "policy", NULL, QUERY_NEED_DOMAIN, 30 },
};
const size_t query_ncmds = nitems(query_cmds);

const struct query_cmd *
query_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < query_ncmds; i++)
		if (strcmp(query_cmds[i].name, name) == 0)
			return &query_cmds[i];
	return NULL;
}

void
query_opts_init(struct query_opts *o)
{
	struct timespec	 ts;

	memset(o, 0, sizeof(*o));
	o->limit = -1;
	o->format = QUERY_TABLE;
	o->width = QUERY_TABLE_WIDTH;
	clock_gettime(CLOCK_REALTIME, &ts);
	o->now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
query_limit(const struct query_opts *o)
{
	if (o->limit >= 0)
		return o->limit;
	return o->format == QUERY_TABLE ? QUERY_TABLE_LIMIT : 0;
}

/* --- UTF-8 ------------------------------------------------------------- */

/*
 * Decode the code point at s (n bytes left, n > 0) into *cp. Returns
 * its length, or 0 for a byte that does not start a valid sequence
 * (overlong, surrogate, cut, above U+10FFFF).
 */

/* Columns a printable code point takes on a terminal: 0, 1 or 2. */
static int
cp_width(uint32_t c)
{
	static const struct {
		uint32_t	 lo, hi;
	} zero[] = {
		{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
		{ 0x0610, 0x061a }, { 0x064b, 0x065f }, { 0x1ab0, 0x1aff },
		{ 0x1dc0, 0x1dff }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f },
		{ 0xfe20, 0xfe2f },
	}, wide[] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe30, 0xfe4f },
		{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f },
		{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd },
		{ 0x30000, 0x3fffd },
	};
	size_t	 i;

	if (c < 0x300)
		return 1;
	for (i = 0; i < nitems(zero); i++)
		if (c >= zero[i].lo && c <= zero[i].hi)
			return 0;
	for (i = 0; i < nitems(wide); i++)
		if (c >= wide[i].lo && c <= wide[i].hi)
			return 2;
	return 1;
}

/*
 * Terminal columns of s, which holds only printable UTF-8 (what
 * term_escape() writes).
 */
static size_t
disp_width(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, w = 0;
	uint32_t		 c;

	while (i < len) {
		if ((n = dm_utf8_dec(p + i, len - i, &c)) == 0)
			n = 1;
		w += cp_width(c);
		i += n;
	}
	return w;
}

/* --- parsing options --------------------------------------------------- */

/* s for an error message: escaped, cut short. */
static const char *
shown(const char *s, char *out, size_t outlen)
{
	struct buf	 b;
	size_t		 n;

	buf_init(&b, 4096);
	dm_escape(&b, s, 1);	/* when full, what fitted is enough */
	n = b.len;
	if (n > outlen - 1) {
		n = outlen - 1;
		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, buf_cstr(&b), n);
	out[n] = '\0';
	buf_clear(&b);
	return out;
}

static int
is_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Read exactly n digits at *p. */
static int
get_num(const char **p, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		 era;
	int		 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
month_days(int y, int m)
{
	static const int	 days[] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

#define TIME_FORMS	"YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z (or +HH:MM), " \
			"Nd or Nh"
#define USEC		INT64_C(1000000)
#define MAX_REL_DAYS	100000u		/* some 270 years back */

/* Nd or Nh: digits and the unit, nothing else. */
static int
parse_relative(const char *s, size_t len, int64_t now, int64_t *t,
    struct dm_err *err)
{
	char		 num[32], tmp[64];
	uint64_t	 v, max;
	int64_t		 unit;

	unit = s[len - 1] == 'd' ? 86400 : 3600;
	max = s[len - 1] == 'd' ? MAX_REL_DAYS : MAX_REL_DAYS * 24;
	if (len - 1 >= sizeof(num) ||
	    (memcpy(num, s, len - 1), num[len - 1] = '\0',
	    dm_parse_u64(num, max, &v) == -1))
		return dm_err_set(err, DM_ECONFIG, "bad time \"%s\": over "
		    "%u days back", shown(s, tmp, sizeof(tmp)), MAX_REL_DAYS);
	*t = now - (int64_t)v * unit * USEC;
	return 0;
}

int
query_parse_time(const char *s, int64_t now, int64_t *t, struct dm_err *err)
{
	const char	*p = s;
	char		 tmp[64];
	int		 y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
	int		 sign = 0, nfrac = 0;
	int64_t		 usec = 0, v;
	size_t		 len = strlen(s);

	if (len == 0)
		return dm_err_set(err, DM_ECONFIG, "empty time: use "
		    TIME_FORMS);
	if (len >= 2 && (s[len - 1] == 'd' || s[len - 1] == 'h') &&
	    strspn(s, "0123456789") == len - 1)
		return parse_relative(s, len, now, t, err);
	if (get_num(&p, 4, &y) == -1 || *p++ != '-' ||
	    get_num(&p, 2, &mo) == -1 || *p++ != '-' ||
	    get_num(&p, 2, &d) == -1)
		goto bad;
	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ')
			goto bad;
		p++;
		if (get_num(&p, 2, &h) == -1 || *p++ != ':' ||
		    get_num(&p, 2, &mi) == -1)
			goto bad;
		if (*p == ':') {
			p++;
			if (get_num(&p, 2, &sec) == -1)
				goto bad;
			if (*p == '.' || *p == ',') {
				for (p++; *p >= '0' && *p <= '9'; p++) {
					/* microseconds; finer is cut */
					if (++nfrac <= 6)
						usec = usec * 10 + (*p - '0');
				}
				if (nfrac == 0)
					goto bad;
				for (; nfrac < 6; nfrac++)
					usec *= 10;
			}
		}
		if (*p == '\0')
			return dm_err_set(err, DM_ECONFIG, "bad time \"%s\": "
			    "no zone: add Z for UTC, or an offset like +02:00",
			    shown(s, tmp, sizeof(tmp)));
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			sign = *p++ == '-' ? -1 : 1;
			if (get_num(&p, 2, &oh) == -1)
				goto bad;
			if (*p == ':') {
				p++;
				if (get_num(&p, 2, &om) == -1)
					goto bad;
			} else if (*p != '\0' && get_num(&p, 2, &om) == -1)
				goto bad;
		} else
			goto bad;
		if (*p != '\0')
			goto bad;
	}
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
		return dm_err_set(err, DM_ECONFIG, "bad time \"%s\": no such "
		    "date", shown(s, tmp, sizeof(tmp)));
	if (h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59)
		return dm_err_set(err, DM_ECONFIG, "bad time \"%s\": hour, "
		    "minute, second or offset out of range",
		    shown(s, tmp, sizeof(tmp)));
	v = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	v -= sign * (oh * 3600 + om * 60);
	*t = v * USEC + usec;
	return 0;
bad:
	return dm_err_set(err, DM_ECONFIG, "bad time \"%s\": use "
	    TIME_FORMS, shown(s, tmp, sizeof(tmp)));
}

int
query_parse_limit(const char *s, int64_t *limit, struct dm_err *err)
{
	char		 tmp[64];
	uint64_t	 v;

	/* INT64_MAX - 1: the executor asks for one more row */
	if (!is_digits(s) || dm_parse_u64(s, INT64_MAX - 1, &v) == -1)
		return dm_err_set(err, DM_ECONFIG, "bad limit \"%s\": a "
		    "number of rows, 0 for no limit",
		    shown(s, tmp, sizeof(tmp)));
	*limit = (int64_t)v;
	return 0;
}

int
query_parse_format(const char *s, enum query_format *f, struct dm_err *err)
{
	char	 tmp[64];

	if (strcmp(s, "table") == 0)
		*f = QUERY_TABLE;
	else if (strcmp(s, "csv") == 0)
		*f = QUERY_CSV;
	else if (strcmp(s, "json") == 0)
		*f = QUERY_JSON;
	else
		return dm_err_set(err, DM_ECONFIG, "bad format \"%s\": "
		    "table, csv or json", shown(s, tmp, sizeof(tmp)));
	return 0;
}

int
query_parse_domain(const char *s, char *out, size_t outlen,
    struct dm_err *err)
{
	char		 tmp[64];
	size_t		 len = strlen(s), i;

	if (len == 0 || len > DM_MAX_DOMAIN || len >= outlen)
		return dm_err_set(err, DM_ECONFIG, "bad domain \"%s\": "
		    "empty or over %d bytes", shown(s, tmp, sizeof(tmp)),
		    DM_MAX_DOMAIN);
	/* PostgreSQL would refuse invalid UTF-8: say so before connecting */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (i < len || !is_utf8(s, len))
		return dm_err_set(err, DM_ECONFIG, "bad domain \"%s\": "
		    "control characters or invalid UTF-8",
		    shown(s, tmp, sizeof(tmp)));
	memcpy(out, s, len + 1);
	/* as parse stores it: ASCII letters lowered */
	dm_lower(out);
	return 0;
}

int
query_parse_color(const char *s, enum query_color *c, struct dm_err *err)
{
	char	 tmp[64];

	if (strcmp(s, "auto") == 0)
		*c = QUERY_COLOR_AUTO;
	else if (strcmp(s, "always") == 0)
		*c = QUERY_COLOR_ALWAYS;
	else if (strcmp(s, "never") == 0)
		*c = QUERY_COLOR_NEVER;
	else
		return dm_err_set(err, DM_ECONFIG, "bad colour \"%s\": "
		    "auto, always or never", shown(s, tmp, sizeof(tmp)));
	return 0;
}

/*
 * https://no-color.org: a NO_COLOR that is set and not empty turns
 * colour off, but an explicit --color=always is what the user asks for
 * now. No TERM (cron, a pipe through ssh) is taken as no terminal.
 */
int
query_use_color(enum query_color when, int tty, const char *term,
    const char *no_color)
{
	if (when != QUERY_COLOR_AUTO)
		return when == QUERY_COLOR_ALWAYS;
	if (!tty || term == NULL || *term == '\0' ||
	    strcmp(term, "dumb") == 0)
		return 0;
	return no_color == NULL || *no_color == '\0';
}

int
query_parse_arg(const char *s, struct dm_err *err)
{
	char	 tmp[64];
	size_t	 len = strlen(s);

	if (len == 0 || len > DM_MAX_FIELD)
		return dm_err_set(err, DM_ECONFIG, "bad ID \"%s\": empty or "
		    "over %d bytes", shown(s, tmp, sizeof(tmp)), DM_MAX_FIELD);
	/* control characters are fine: report_id is as sent */
	if (!is_utf8(s, len))
		return dm_err_set(err, DM_ECONFIG, "bad ID \"%s\": invalid "
		    "UTF-8", shown(s, tmp, sizeof(tmp)));
	return 0;
}

int
query_check(const struct query_cmd *cmd, const struct query_opts *o,
    struct dm_err *err)
{
	if (cmd->arg != NULL && o->arg == NULL)
		return dm_err_set(err, DM_ECONFIG, "%s needs %s", cmd->name,
		    cmd->arg);
	if (cmd->arg == NULL && o->arg != NULL)
		return dm_err_set(err, DM_ECONFIG, "%s takes no argument",
		    cmd->name);
	if (o->arg != NULL && query_parse_arg(o->arg, err) == -1)
		return -1;
	if ((cmd->flags & QUERY_NEED_DOMAIN) && o->domain == NULL)
		return dm_err_set(err, DM_ECONFIG, "%s needs --domain D",
		    cmd->name);
	return 0;
}

/* --- the database ------------------------------------------------------ */

static const char no_schema[] =
	"database has no dmarc schema: run 'dmarcd migrate'";

/* Set err from a failed result; returns -1. */
static int
db_error(PGconn *conn, const PGresult *res, const char *what,
    struct dm_err *err)
{
	const char	*state = NULL, *msg;
	char		 tmp[400];

	if (res != NULL)
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	/* undefined table, schema or function: not migrated (far enough) */
	if (state != NULL && (strcmp(state, "42P01") == 0 ||
	    strcmp(state, "3F000") == 0 || strcmp(state, "42883") == 0))
		return dm_err_set(err, DM_ESTORE, "%s", no_schema);
	msg = res != NULL ? PQresultErrorMessage(res) : "";
	if (*msg == '\0')
		msg = PQerrorMessage(conn);
	return dm_err_set(err, DM_ESTORE, "%s: %s", what,
	    dm_one_line(msg, tmp, sizeof(tmp)));
}

int
query_session(PGconn *conn, struct dm_err *err)
{
	PGresult	*res;
	int		 rc = -1, have, need;

	if (PQsetClientEncoding(conn, "UTF8") != 0)
		return db_error(conn, NULL, "set client_encoding", err);
	/*
	 * UTC and ISO: the renderers read timestamptz text; read-only: a
	 * query tool has no business writing, whatever role it runs as.
	 * No JIT: compiling cost failures 4.7 of its 7.1 s on a month of
	 * 10 million records (tests/bench/run.sh query) and never paid
	 * back; work_mem: its per-source sort then stays in memory.
	 */
	res = PQexec(conn, "SET TIME ZONE 'UTC';"
	    " SET datestyle TO 'ISO, YMD';"
	    " SET default_transaction_read_only TO on;"
	    " SET jit TO off;"
	    " SET work_mem TO '64MB'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_error(conn, res, "session setup", err);
		goto out;
	}
	PQclear(res);
	res = PQexec(conn, "SELECT to_regclass('dmarc.schema_version')"
	    " IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_error(conn, res, "schema check", err);
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		dm_err_set(err, DM_ESTORE, "%s", no_schema);
		goto out;
	}
	/*
	 * dmarcq's SQL is written for one schema (009 renamed columns and
	 * added functions): a store migrated less or further would fail
	 * with "column does not exist"; say what to do instead.
	 */
	PQclear(res);
	res = PQexec(conn, "SELECT coalesce(max(version), 0)"
	    " FROM dmarc.schema_version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_error(conn, res, "schema check", err);
		goto out;
	}
	have = atoi(PQgetvalue(res, 0, 0));
	need = store_newest_migration();
	if (have < need)
		dm_err_set(err, DM_ESTORE, "the store's schema is version %d, "
		    "this dmarcq needs %d: run 'dmarcd migrate'", have, need);
	else if (have > need)
		dm_err_set(err, DM_ESTORE, "the store's schema is version %d, "
		    "newer than this dmarcq knows (%d): upgrade dmarcq", have,
		    need);
	else
		rc = 0;
out:
	PQclear(res);
	return rc;
}

/*
 * A conninfo that libpq can't parse is a usage error, not an outage.
 * A word without '=' is a database name (libpq's dbname expansion).
 */
static int
check_conninfo(const char *conninfo, struct dm_err *err)
{
	PQconninfoOption	*opts;
	char			*msg = NULL, tmp[400];

	if (strchr(conninfo, '=') == NULL &&
	    strncmp(conninfo, "postgresql://", 13) != 0 &&
	    strncmp(conninfo, "postgres://", 11) != 0)
		return 0;
	if ((opts = PQconninfoParse(conninfo, &msg)) != NULL) {
		PQconninfoFree(opts);
		return 0;
	}
	dm_err_set(err, DM_ECONFIG, "bad conninfo: %s", msg != NULL ?
	    dm_one_line(msg, tmp, sizeof(tmp)) : "out of memory");
	PQfreemem(msg);
	return -1;
}

PGconn *
query_connect(const char *conninfo, struct dm_err *err)
{
	const char	*keys[4], *vals[4];
	PGconn		*conn;
	int		 n = 0;

	if (conninfo == NULL)
		conninfo = "";
	if (check_conninfo(conninfo, err) == -1)
		return NULL;

	/*
	 * Defaults first: the conninfo (expanded from dbname) overrides
	 * them. Without a timeout an unreachable host hangs for minutes.
	 */
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[n] = "connect_timeout";
		vals[n++] = "10";
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "dmarcq";
	keys[n] = "dbname";
	vals[n++] = conninfo;
	keys[n] = vals[n] = NULL;
	if ((conn = PQconnectdbParams(keys, vals, 1)) == NULL) {
		dm_err_set(err, DM_EINTERNAL, "libpq: out of memory");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		store_conn_failed(conn, err);
		PQfinish(conn);
		return NULL;
	}
	if (query_session(conn, err) == -1) {
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* --- rendering: cells -------------------------------------------------- */

/*
 * Recognise timestamptz text as a UTC session prints it,
 * "YYYY-MM-DD HH:MM:SS[.ffffff]+00". Other shapes (infinity, BC, a
 * five-digit year, another zone) are shown as they are.
 */
static int
is_pg_utc_time(const char *v)
{
	static const char	 shape[] = "dddd-dd-dd dd:dd:dd";
	size_t			 i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? v[i] < '0' || v[i] > '9' :
		    v[i] != shape[i])
			return 0;
	}
	v += i;
	if (*v == '.')
		for (v++; *v >= '0' && *v <= '9'; v++)
			;
	return strcmp(v, "+00") == 0;
}

/*
 * A decimal as PostgreSQL prints a numeric, -?[0-9]+(.[0-9]+)?, and
 * with json, also one JSON takes as a number: no leading zero.
 */
static int
is_decimal(const char *v, int json)
{
	if (*v == '-')
		v++;
	if (*v < '0' || *v > '9' || (json && v[0] == '0' && v[1] >= '0' &&
	    v[1] <= '9'))
		return 0;
	while (*v >= '0' && *v <= '9')
		v++;
	if (*v == '.') {
		if (v[1] < '0' || v[1] > '9')
			return 0;
		for (v++; *v >= '0' && *v <= '9'; v++)
			;
	}
	return *v == '\0';
}

/* An integer as PostgreSQL prints one: -?[0-9]+. */
static int
is_int(const char *v)
{
	if (*v == '-')
		v++;
	return is_digits(v);
}

/*
 * Text for a terminal: printable UTF-8 stays, the rest becomes a
 * visible escape (\n \r \t \\ \xNN, \uNNNN for C1 and format
 * characters), so report data can't move the cursor or recolour.
 */
static int
term_escape(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, n;
	uint32_t		 c;
	int			 rc = 0;

	while (i < len && rc == 0) {
		if ((n = dm_utf8_dec(p + i, len - i, &c)) == 0) {
			rc = buf_printf(b, "\\x%02x", p[i]);
			i++;
			continue;
		}
		if (c == '\n')
			rc = buf_adds(b, "\\n");
		else if (c == '\r')
			rc = buf_adds(b, "\\r");
		else if (c == '\t')
			rc = buf_adds(b, "\\t");
		else if (c == '\\')
			rc = buf_adds(b, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			rc = buf_printf(b, "\\x%02x", (unsigned)c);
		else if (is_format_char(c))
			rc = buf_printf(b, "\\u%04x", (unsigned)c);
		else
			rc = buf_add(b, p + i, n);
		i += n;
	}
	return rc;
}

/* 1234567 as 1,234,567. */
static int
add_thousands(struct buf *b, const char *v)
{
	size_t	 n, i;

	if (*v == '-') {
		if (buf_addc(b, '-') == -1)
			return -1;
		v++;
	}
	n = strlen(v);
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0 && buf_addc(b, ',') == -1)
			return -1;
		if (buf_addc(b, v[i]) == -1)
			return -1;
	}
	return 0;
}

/*
 * json cells (QUERY_JSONV). PostgreSQL built them, so they are valid,
 * but they are read like anything else: strictly, bounded in depth, and
 * a cell that is not what is expected is shown as plain text instead.
 * Strings are decoded and written again with this file's escaping, so a
 * JSON cell obeys the rules of every other cell: in JSON re-encoded by
 * json_string(), in tables and CSV as one line of text that the cell's
 * escaping then handles.
 */
#define JV_DEPTH	8

struct jv {
	const char	*p, *end;
};

static int	json_string(struct buf *, const char *);
static int	jv_value(struct jv *, struct buf *, int, int);
static int	is_note(struct buf *);

static void
jv_space(struct jv *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
jv_hex4(struct jv *j, uint32_t *v)
{
	int	 i, c;

	if (j->end - j->p < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)*j->p++;
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return -1;
		*v = *v << 4 | (uint32_t)c;
	}
	return 0;
}

static int
add_utf8(struct buf *b, uint32_t c)
{
	char	 u[4];

	if (c == 0 || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		c = 0xfffd;	/* NUL and lone surrogates */
	if (c < 0x80)
		return buf_addc(b, (int)c);
	if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		return buf_add(b, u, 2);
	}
	if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		return buf_add(b, u, 3);
	}
	u[0] = (char)(0xf0 | c >> 18);
	u[1] = (char)(0x80 | (c >> 12 & 0x3f));
	u[2] = (char)(0x80 | (c >> 6 & 0x3f));
	u[3] = (char)(0x80 | (c & 0x3f));
	return buf_add(b, u, 4);
}

/* The string at j->p (at its '"'), decoded into b (UTF-8, no NUL). */
static int
jv_string(struct jv *j, struct buf *b)
{
	uint32_t	 c, lo;
	char		 e;

	if (j->p >= j->end || *j->p++ != '"')
		return -1;
	while (j->p < j->end && *j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return -1;
		if (*j->p != '\\') {
			if (buf_addc(b, *j->p++) == -1)
				return -1;
			continue;
		}
		if (++j->p >= j->end)
			return -1;
		switch ((e = *j->p++)) {
		case '"': case '\\': case '/':
			c = (uint32_t)e;
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u':
			if (jv_hex4(j, &c) == -1)
				return -1;
			/* a surrogate pair is one code point */
			if (c >= 0xd800 && c <= 0xdbff && j->end - j->p >= 6 &&
			    j->p[0] == '\\' && j->p[1] == 'u') {
				j->p += 2;
				if (jv_hex4(j, &lo) == -1)
					return -1;
				if (lo >= 0xdc00 && lo <= 0xdfff)
					c = 0x10000 + ((c - 0xd800) << 10) +
					    (lo - 0xdc00);
				else if (add_utf8(b, c) == -1)
					return -1;
				else
					c = lo;
			}
			break;
		default:
			return -1;
		}
		if (add_utf8(b, c) == -1)
			return -1;
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	return 0;
}

/* A number, true, false or null: copied as it is. */
static int
jv_atom(struct jv *j, struct buf *out, int json)
{
	const char	*s = j->p;
	static const char *const words[] = { "true", "false", "null" };
	size_t		 i, n;

	for (i = 0; i < nitems(words); i++) {
		n = strlen(words[i]);
		if ((size_t)(j->end - j->p) >= n &&
		    memcmp(j->p, words[i], n) == 0) {
			j->p += n;
			/* null is empty text */
			if (!json && i == 2)
				return 0;
			return buf_add(out, s, n);
		}
	}
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return -1;
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		if (++j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return buf_add(out, s, (size_t)(j->p - s));
}

/*
 * An array: in JSON [a, b]; as text its elements joined by ", ",
 * bracketed when inside another value.
 */
static int
jv_array(struct jv *j, struct buf *out, int json, int depth)
{
	int	 n = 0;

	j->p++;
	if ((json || depth > 0) && buf_addc(out, '[') == -1)
		return -1;
	jv_space(j);
	if (j->p < j->end && *j->p == ']')
		j->p++;
	else
		for (;;) {
			if (n++ > 0 && buf_adds(out, ", ") == -1)
				return -1;
			if (jv_value(j, out, json, depth + 1) == -1)
				return -1;
			jv_space(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == ']') {
				j->p++;
				break;
			}
			return -1;
		}
	return (json || depth > 0) ? buf_addc(out, ']') : 0;
}

/*
 * An object: in JSON {"k": v}; as text its values, the last one after
 * "=" and the others joined by "/", empty (null) ones left out: a
 * {domain, selector, result} reads example.com/s1=pass.
 */
static int
jv_object(struct jv *j, struct buf *out, int json, int depth)
{
	struct buf	 key, prev, cur, note;
	size_t		 start = out->len;
	int		 n = 0, rc = -1;

	buf_init(&key, CELL_MAX);
	buf_init(&prev, CELL_MAX);
	buf_init(&cur, CELL_MAX);
	buf_init(&note, CELL_MAX);
	j->p++;
	if (json && buf_addc(out, '{') == -1)
		goto out;
	jv_space(j);
	if (j->p < j->end && *j->p == '}')
		j->p++;
	else
		for (;;) {
			buf_reset(&key);
			buf_reset(&cur);
			jv_space(j);
			if (jv_string(j, &key) == -1)
				goto out;
			jv_space(j);
			if (j->p >= j->end || *j->p++ != ':')
				goto out;
			if (json) {
				if ((n++ > 0 && buf_adds(out, ", ") == -1) ||
				    json_string(out, key.len > 0 ?
				    buf_cstr(&key) : "") == -1 ||
				    buf_adds(out, ": ") == -1 ||
				    jv_value(j, out, json, depth + 1) == -1)
					goto out;
			} else {
				if (jv_value(j, &cur, json, depth + 1) == -1)
					goto out;
				if (is_note(&key)) {
					buf_reset(&note);
					if (buf_add(&note, cur.data, cur.len) ==
					    -1)
						goto out;
					goto next;
				}
				/* the value before this one is not the last */
				if (prev.len > 0 && ((out->len > start &&
				    buf_addc(out, '/') == -1) ||
				    buf_add(out, prev.data, prev.len) == -1))
					goto out;
				buf_reset(&prev);
				if (cur.len > 0 &&
				    buf_add(&prev, cur.data, cur.len) == -1)
					goto out;
			}
next:
			jv_space(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == '}') {
				j->p++;
				break;
			}
			goto out;
		}
	if (json) {
		rc = buf_addc(out, '}');
		goto out;
	}
	/* "=" only after something: {type} is "type", not "=type" */
	if (prev.len > 0 && ((out->len > start && buf_addc(out, '=') == -1) ||
	    buf_add(out, prev.data, prev.len) == -1))
		goto out;
	if (note.len > 0 && (buf_adds(out, out->len > start ? " (" : "(") ==
	    -1 || buf_add(out, note.data, note.len) == -1 ||
	    buf_addc(out, ')') == -1))
		goto out;
	rc = 0;
out:
	buf_clear(&key);
	buf_clear(&prev);
	buf_clear(&cur);
	buf_clear(&note);
	return rc;
}

/*
 * A free-text key (human_result, comment): as text it goes after the
 * other values, in parentheses: example.com/s1=fail (body changed).
 */
static int
is_note(struct buf *key)
{
	return key->len > 0 && (strcmp(buf_cstr(key), "human_result") == 0 ||
	    strcmp(buf_cstr(key), "comment") == 0);
}

static int
jv_value(struct jv *j, struct buf *out, int json, int depth)
{
	struct buf	 s;
	int		 rc;

	if (depth > JV_DEPTH)
		return -1;
	jv_space(j);
	if (j->p >= j->end)
		return -1;
	if (*j->p == '[')
		return jv_array(j, out, json, depth);
	if (*j->p == '{')
		return jv_object(j, out, json, depth);
	if (*j->p != '"')
		return jv_atom(j, out, json);
	buf_init(&s, CELL_MAX);
	rc = jv_string(j, &s);
	if (rc == 0 && json)
		rc = json_string(out, s.len > 0 ? buf_cstr(&s) : "");
	else if (rc == 0)
		rc = buf_add(out, s.data, s.len);
	buf_clear(&s);
	return rc;
}

/*
 * Append json cell v to b, as JSON (json) or as a line of text. When v
 * is not JSON after all, b gets it as a JSON string or as it is.
 */
static int
jv_render(struct buf *b, const char *v, int json)
{
	struct jv	 j = { v, v + strlen(v) };
	size_t		 len = b->len;

	if (jv_value(&j, b, json, 0) == 0) {
		jv_space(&j);
		if (j.p == j.end)
			return 0;
	}
	b->len = len;
	return json ? json_string(b, v) : buf_adds(b, v);
}

/* A cell as a table shows it, before fitting it to its column. */
static int
table_cell(struct buf *b, const struct query_col *col, const PGresult *res,
    int row, int f, int day)
{
	struct buf	 t;
	const char	*v;
	int		 rc;

	buf_reset(b);
	if (PQgetisnull(res, row, f))
		return 0;
	v = PQgetvalue(res, row, f);
	if (col->type == QUERY_COUNT && is_int(v))
		return add_thousands(b, v);
	if (col->type == QUERY_PCT && is_decimal(v, 0))
		return buf_printf(b, "%s%%", v);
	if (col->type == QUERY_TIME && is_pg_utc_time(v)) {
		/* YYYY-MM-DD HH:MM, or the day alone (time_days()) */
		return buf_add(b, v, day ? 10 : 16);
	}
	if (col->type == QUERY_JSONV) {
		buf_init(&t, CELL_MAX);
		rc = jv_render(&t, v, 0);
		if (rc == 0)
			rc = term_escape(b, t.len > 0 ? buf_cstr(&t) : "");
		buf_clear(&t);
		return rc;
	}
	return term_escape(b, v);
}

/*
 * Can time column f of rows [r0, r1) be shown as days? When each time
 * in it starts a day, or, for the inclusive end of a range
 * (QUERY_DAYEND), when each is a day's last second. NULL and odd
 * values (infinity) don't count against it.
 */
static int
time_days(const struct query_col *col, const PGresult *res, int r0, int r1,
    int f)
{
	const char	*v;
	int		 r, start = 1, end = 1;

	if (col->type != QUERY_TIME)
		return 0;
	for (r = r0; r < r1; r++) {
		if (PQgetisnull(res, r, f) ||
		    !is_pg_utc_time(v = PQgetvalue(res, r, f)))
			continue;
		/* "YYYY-MM-DD HH:MM:SS" then +00, or a fraction */
		if (strcmp(v + 11, "00:00:00+00") != 0)
			start = 0;
		if (strcmp(v + 11, "23:59:59+00") != 0)
			end = 0;
	}
	return start || (end && (col->flags & QUERY_DAYEND));
}

/* ISO 8601 in UTC, YYYY-MM-DDTHH:MM:SSZ, from a UTC timestamptz text. */
static int
iso_time(struct buf *b, const char *v)
{
	if (buf_add(b, v, 10) == -1 || buf_addc(b, 'T') == -1 ||
	    buf_add(b, v + 11, 8) == -1)
		return -1;
	return buf_addc(b, 'Z');
}

/* --- rendering: CSV ---------------------------------------------------- */

/*
 * One CSV field (RFC 4180). Text whose first character makes a
 * spreadsheet evaluate it (= + - @, tab, CR) gets a leading ' so that
 * it stays text; invalid UTF-8 becomes U+FFFD.
 */
static int
csv_field(struct buf *b, const char *v, int neutralise)
{
	const unsigned char	*p = (const unsigned char *)v;
	size_t			 len = strlen(v), i = 0, n;
	uint32_t		 c;
	int			 rc = 0;

	if (len > 0 && strcspn(v, ",\"\r\n") < len)
		rc = buf_addc(b, '"');
	if (rc == 0 && neutralise && strchr("=+-@\t\r", v[0]) != NULL &&
	    v[0] != '\0')
		rc = buf_addc(b, '\'');
	while (i < len && rc == 0) {
		if ((n = dm_utf8_dec(p + i, len - i, &c)) == 0) {
			rc = buf_adds(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		if (c == '"')
			rc = buf_adds(b, "\"\"");
		else
			rc = buf_add(b, p + i, n);
		i += n;
	}
	if (rc == 0 && len > 0 && strcspn(v, ",\"\r\n") < len)
		rc = buf_addc(b, '"');
	return rc;
}

/* A json cell as one line of text, then as any other CSV text. */
static int
csv_json(struct buf *b, const char *v)
{
	struct buf	 t;
	int		 rc;

	buf_init(&t, CELL_MAX);
	rc = jv_render(&t, v, 0);
	if (rc == 0)
		rc = csv_field(b, t.len > 0 ? buf_cstr(&t) : "", 1);
	buf_clear(&t);
	return rc;
}

/*
 * The CSV header: the QUERY_CSVKEY columns of head (NULL: none), then
 * those of cmd.
 */
static int
csv_head(const struct query_cmd *head, const struct query_cmd *cmd,
    struct buf *b)
{
	int	 f, n = 0;

	for (f = 0; head != NULL && f < head->ncols; f++) {
		if (!(head->cols[f].flags & QUERY_CSVKEY))
			continue;
		if ((n++ > 0 && buf_addc(b, ',') == -1) ||
		    csv_field(b, head->cols[f].name, 0) == -1)
			return -1;
	}
	for (f = 0; f < cmd->ncols; f++)
		if ((n++ > 0 && buf_addc(b, ',') == -1) ||
		    csv_field(b, cmd->cols[f].name, 0) == -1)
			return -1;
	return buf_adds(b, "\r\n");
}

static int
csv_cell(struct buf *b, const struct query_col *col, const PGresult *res,
    int row, int f)
{
	const char	*v;

	if (PQgetisnull(res, row, f))
		return 0;
	v = PQgetvalue(res, row, f);
	if ((col->type == QUERY_COUNT && is_int(v)) ||
	    (col->type == QUERY_PCT && is_decimal(v, 0)))
		return buf_adds(b, v);
	if (col->type == QUERY_TIME && is_pg_utc_time(v))
		return iso_time(b, v);
	if (col->type == QUERY_JSONV)
		return csv_json(b, v);
	return csv_field(b, v, 1);
}

/*
 * Row row of res (cmd's columns) as a CSV line, after the QUERY_CSVKEY
 * cells of row hrow of hres (head's columns; head NULL: none).
 */
static int
csv_row(const struct query_cmd *head, const PGresult *hres, int hrow,
    const struct query_cmd *cmd, const PGresult *res, int row,
    struct buf *b)
{
	int	 f, n = 0;

	for (f = 0; head != NULL && f < head->ncols; f++) {
		if (!(head->cols[f].flags & QUERY_CSVKEY))
			continue;
		if ((n++ > 0 && buf_addc(b, ',') == -1) ||
		    csv_cell(b, &head->cols[f], hres, hrow, f) == -1)
			return -1;
	}
	for (f = 0; f < cmd->ncols; f++)
		if ((n++ > 0 && buf_addc(b, ',') == -1) ||
		    csv_cell(b, &cmd->cols[f], res, row, f) == -1)
			return -1;
	return buf_adds(b, "\r\n");
}

/* --- rendering: JSON --------------------------------------------------- */

/*
 * A JSON string (RFC 8259): control characters as \u00XX, U+2028 and
 * U+2029 escaped too (JavaScript), invalid UTF-8 as \ufffd.
 */
static int
json_string(struct buf *b, const char *v)
{
	const unsigned char	*p = (const unsigned char *)v;
	size_t			 len = strlen(v), i = 0, n;
	uint32_t		 c;
	int			 rc;

	rc = buf_addc(b, '"');
	while (i < len && rc == 0) {
		if ((n = dm_utf8_dec(p + i, len - i, &c)) == 0) {
			rc = buf_adds(b, "\\ufffd");
			i++;
			continue;
		}
		if (c == '"')
			rc = buf_adds(b, "\\\"");
		else if (c == '\\')
			rc = buf_adds(b, "\\\\");
		else if (c < 0x20 || c == 0x7f || c == 0x2028 || c == 0x2029)
			rc = buf_printf(b, "\\u%04x", (unsigned)c);
		else
			rc = buf_add(b, p + i, n);
		i += n;
	}
	if (rc == 0)
		rc = buf_addc(b, '"');
	return rc;
}

/* An integer JSON allows as a number: no leading zeros. */
static int
is_json_int(const char *v)
{
	if (*v == '-')
		v++;
	return is_digits(v) && (v[0] != '0' || v[1] == '\0');
}

/* "name": value of cell f of row. */
static int
json_pair(struct buf *b, const struct query_col *col, const PGresult *res,
    int row, int f)
{
	const char	*v = PQgetvalue(res, row, f);

	if (json_string(b, col->name) == -1 || buf_adds(b, ": ") == -1)
		return -1;
	if (PQgetisnull(res, row, f))
		return buf_adds(b, "null");
	if ((col->type == QUERY_COUNT && is_json_int(v)) ||
	    (col->type == QUERY_PCT && is_decimal(v, 1)))
		return buf_adds(b, v);
	if (col->type == QUERY_TIME && is_pg_utc_time(v)) {
		if (buf_addc(b, '"') == -1 || iso_time(b, v) == -1)
			return -1;
		return buf_addc(b, '"');
	}
	if (col->type == QUERY_JSONV)
		return jv_render(b, v, 1);
	return json_string(b, v);
}

/*
 * The pairs of row (cmd's columns) inside an object, without braces:
 * QUERY_HIDDEN columns left out, the QUERY_NEST ones in an object
 * named cmd->nest where the first of them is.
 */
static int
json_fields(const struct query_cmd *cmd, const PGresult *res, int row,
    struct buf *b)
{
	int	 f, g, n = 0, k = 0, nest, nested = 0;

	for (f = 0; f < cmd->ncols; f++) {
		nest = cmd->nest != NULL && (cmd->cols[f].flags & QUERY_NEST);
		if ((cmd->cols[f].flags & QUERY_HIDDEN) || (nest && nested))
			continue;
		if (n++ > 0 && buf_adds(b, ", ") == -1)
			return -1;
		if (!nest) {
			if (json_pair(b, &cmd->cols[f], res, row, f) == -1)
				return -1;
			continue;
		}
		nested = 1;
		if (json_string(b, cmd->nest) == -1 ||
		    buf_adds(b, ": {") == -1)
			return -1;
		for (g = f; g < cmd->ncols; g++)
			if ((cmd->cols[g].flags & QUERY_NEST) &&
			    ((k++ > 0 && buf_adds(b, ", ") == -1) ||
			    json_pair(b, &cmd->cols[g], res, row, g) == -1))
				return -1;
		if (buf_addc(b, '}') == -1)
			return -1;
	}
	return 0;
}

static int
json_row(const struct query_cmd *cmd, const PGresult *res, int row,
    int first, struct buf *b)
{
	if (buf_adds(b, first ? "\n  {" : ",\n  {") == -1 ||
	    json_fields(cmd, res, row, b) == -1)
		return -1;
	return buf_addc(b, '}');
}

/* --- rendering: table -------------------------------------------------- */

/* SGR escapes (ECMA-48): they take no columns on a terminal. */
#define SGR_BOLD	"\033[1m"
#define SGR_RED		"\033[31m"
#define SGR_GREEN	"\033[32m"
#define SGR_RESET	"\033[0m"

/* Is cell f of row a count that is not 0? */
static int
is_nonzero(const PGresult *res, int row, int f)
{
	const char	*v;

	if (PQgetisnull(res, row, f))
		return 0;
	v = PQgetvalue(res, row, f);
	return is_int(v) && strspn(v, "-0") < strlen(v);
}

/*
 * A cell to show in red: of a QUERY_ALERT column, a count that is not
 * 0, or the text quarantine or reject (a disposition).
 */
static int
is_alert(const struct query_col *col, const PGresult *res, int row, int f)
{
	const char	*v;

	if (!(col->flags & QUERY_ALERT) || PQgetisnull(res, row, f))
		return 0;
	v = PQgetvalue(res, row, f);
	if (col->type == QUERY_TEXT)
		return strcmp(v, "quarantine") == 0 || strcmp(v, "reject") == 0;
	return is_nonzero(res, row, f);
}

struct tcol {
	size_t	 nat;	/* width it needs */
	size_t	 w;	/* width given */
	size_t	 fair;	/* narrowest it gets while others are wider */
	size_t	 min;	/* narrowest it may get */
	int	 right;	/* numbers align right */
	int	 cut;	/* may be cut to fit */
	int	 drop;	/* struct query_col tdrop */
	int	 hidden;	/* dropped */
	int	 day;	/* times shown as days */
};

/*
 * Spaces before column f: none before the first shown, one before a
 * number, which is right-aligned and so rarely touches its left
 * neighbour, two between text columns.
 */
static size_t
gap(const struct tcol *tc, int f)
{
	int	 i;

	for (i = 0; i < f; i++)
		if (!tc[i].hidden)
			break;
	if (i == f)
		return 0;
	return tc[f].right ? 1 : 2;
}

/* s between the escapes sgr and SGR_RESET; sgr NULL: s alone. */
static int
add_sgr(struct buf *line, const char *s, size_t len, const char *sgr)
{
	if (sgr != NULL && buf_adds(line, sgr) == -1)
		return -1;
	if (buf_add(line, s, len) == -1)
		return -1;
	return sgr != NULL ? buf_adds(line, SGR_RESET) : 0;
}

/*
 * Append cell s (display text) fitted to width w (> 0): cut with "…"
 * when wider, padded with spaces (left or right) when narrower. The
 * text, not the padding, goes between sgr and a reset (sgr NULL: no
 * colour).
 */
static int
add_fitted(struct buf *line, const char *s, size_t len, size_t w, int right,
    const char *sgr)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 sw, i = 0, n, used = 0;
	uint32_t		 c;
	int			 cw;

	sw = disp_width(s, len);
	if (sw <= w) {
		if (!right && add_sgr(line, s, len, sgr) == -1)
			return -1;
		for (; sw < w; sw++)
			if (buf_addc(line, ' ') == -1)
				return -1;
		return right ? add_sgr(line, s, len, sgr) : 0;
	}
	if (sgr != NULL && buf_adds(line, sgr) == -1)
		return -1;
	/* cut: keep what fits in w - 1 columns, then the ellipsis */
	while (i < len) {
		if ((n = dm_utf8_dec(p + i, len - i, &c)) == 0)
			n = 1;
		cw = cp_width(c);
		if (used + (size_t)cw > w - 1)
			break;
		if (buf_add(line, p + i, n) == -1)
			return -1;
		used += (size_t)cw;
		i += n;
	}
	/* a combining mark after the cut point belongs to the last kept */
	if (buf_adds(line, "\xe2\x80\xa6") == -1)
		return -1;
	if (sgr != NULL && buf_adds(line, SGR_RESET) == -1)
		return -1;
	for (used++; used < w; used++)
		if (buf_addc(line, ' ') == -1)
			return -1;
	return 0;
}

static void
trim_line(struct buf *line)
{
	while (line->len > 0 && line->data[line->len - 1] == ' ')
		line->len--;
}

/* Write line without trailing blanks, and a newline. */
static int
put_line(struct buf *line, FILE *out)
{
	trim_line(line);
	if (fwrite(line->data, 1, line->len, out) != line->len ||
	    fputc('\n', out) == EOF)
		return -1;
	buf_reset(line);
	return 0;
}

static size_t
table_total(const struct tcol *tc, int ncols)
{
	size_t	 total = 0;
	int	 f;

	for (f = 0; f < ncols; f++)
		if (!tc[f].hidden)
			total += tc[f].w + gap(tc, f);
	return total;
}

/*
 * Shrink the widest column that may be cut, one column at a time, until
 * the table fits or every column is down to its fair width (fair) or
 * to its narrowest.
 */
static size_t
table_shrink(struct tcol *tc, int ncols, size_t width, int fair)
{
	size_t	 total = table_total(tc, ncols), lo;
	int	 f, widest;

	while (total > width) {
		widest = -1;
		for (f = 0; f < ncols; f++) {
			lo = fair ? tc[f].fair : tc[f].min;
			if (!tc[f].hidden && tc[f].cut && tc[f].w > lo &&
			    (widest == -1 || tc[f].w > tc[widest].w))
				widest = f;
		}
		if (widest == -1)
			break;
		tc[widest].w--;
		total--;
	}
	return total;
}

/*
 * Fit the table in width: cut the widest text first, none below its
 * fair width; when that is not enough leave out the columns that may
 * go (lowest tdrop first, then the rightmost) and start over; then cut
 * down to the narrowest. A table that still does not fit is as narrow
 * as it gets.
 */
static void
table_fit(struct tcol *tc, int ncols, size_t width)
{
	int	 f, d;

	for (;;) {
		for (f = 0; f < ncols; f++)
			tc[f].w = tc[f].nat;
		if (table_shrink(tc, ncols, width, 1) <= width)
			return;
		d = -1;
		for (f = 0; f < ncols; f++)
			if (!tc[f].hidden && tc[f].drop > 0 &&
			    (d == -1 || tc[f].drop <= tc[d].drop))
				d = f;
		if (d == -1)
			break;
		tc[d].hidden = 1;
	}
	table_shrink(tc, ncols, width, 0);
}

/* Say which columns table_fit() left out, wrapped at width. */
static int
left_out(const struct query_cmd *cmd, const struct tcol *tc, size_t width,
    struct buf *line, FILE *out)
{
	const char	*name;
	int		 f, n = 0;

	for (f = 0; f < cmd->ncols; f++) {
		if (!tc[f].hidden)
			continue;
		name = cmd->cols[f].name;
		if (n++ == 0) {
			if (buf_adds(line, "(left out to fit the width:") == -1)
				return -1;
		} else if (buf_addc(line, ',') == -1)
			return -1;
		/* the names are ASCII: a byte is a column */
		if (line->len + 1 + strlen(name) + 2 > width &&
		    (put_line(line, out) == -1 || buf_addc(line, ' ') == -1))
			return -1;
		if (buf_addc(line, ' ') == -1 || buf_adds(line, name) == -1)
			return -1;
	}
	if (n > 0 && (buf_addc(line, ')') == -1 || put_line(line, out) == -1))
		return -1;
	return 0;
}

/*
 * A table of the first nrows rows of res (cmd's columns). more: rows
 * were left out, nmore of them (-1: unknown).
 */
static int
render_table(const struct query_cmd *cmd, const PGresult *res, int nrows,
    int more, int64_t nmore, const struct query_opts *o, FILE *out,
    struct dm_err *err)
{
	const struct query_col	*col;
	struct tcol		*tc;
	struct buf		 cell, line, num;
	const char		*head;
	size_t			 w, width;
	int			 f, r, rc = -1;

	tc = xcalloc((size_t)cmd->ncols, sizeof(*tc));
	buf_init(&cell, CELL_MAX);
	buf_init(&line, (size_t)-1);
	buf_init(&num, 64);
	width = o->width > 0 ? (size_t)o->width : QUERY_TABLE_WIDTH;
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		head = col->head != NULL ? col->head : col->name;
		tc[f].nat = disp_width(head, strlen(head));
		tc[f].right = col->type == QUERY_COUNT ||
		    col->type == QUERY_PCT;
		/* a cut address would be another address */
		tc[f].cut = col->type == QUERY_TEXT ||
		    col->type == QUERY_JSONV;
		tc[f].drop = col->tdrop;
		tc[f].day = time_days(col, res, 0, nrows, f);
		for (r = 0; r < nrows; r++) {
			/* a cell over CELL_MAX is shown cut anyway */
			table_cell(&cell, col, res, r, f, tc[f].day);
			w = disp_width(cell.data != NULL ? cell.data : "",
			    cell.len);
			if (w > tc[f].nat)
				tc[f].nat = w > width ? width : w;
		}
		tc[f].min = col->tmin > 0 ? (size_t)col->tmin : TEXT_TMIN;
		if (tc[f].min > tc[f].nat)
			tc[f].min = tc[f].nat;
		tc[f].fair = col->tfair > 0 ? (size_t)col->tfair :
		    QUERY_TABLE_FAIR;
		if (tc[f].fair < tc[f].min)
			tc[f].fair = tc[f].min;
		if (tc[f].fair > tc[f].nat)
			tc[f].fair = tc[f].nat;
	}
	table_fit(tc, cmd->ncols, width);

	if (o->color && buf_adds(&line, SGR_BOLD) == -1)
		goto nomem;
	for (f = 0; f < cmd->ncols; f++) {
		if (tc[f].hidden)
			continue;
		col = &cmd->cols[f];
		head = col->head != NULL ? col->head : col->name;
		if (buf_add(&line, "  ", gap(tc, f)) == -1 ||
		    add_fitted(&line, head, strlen(head), tc[f].w,
		    tc[f].right, NULL) == -1)
			goto nomem;
	}
	trim_line(&line);
	if (o->color && buf_adds(&line, SGR_RESET) == -1)
		goto nomem;
	if (put_line(&line, out) == -1)
		goto werr;
	for (f = 0; f < cmd->ncols; f++) {
		if (tc[f].hidden)
			continue;
		if (buf_add(&line, "  ", gap(tc, f)) == -1)
			goto nomem;
		for (w = 0; w < tc[f].w; w++)
			if (buf_addc(&line, '-') == -1)
				goto nomem;
	}
	if (put_line(&line, out) == -1)
		goto werr;
	for (r = 0; r < nrows; r++) {
		for (f = 0; f < cmd->ncols; f++) {
			if (tc[f].hidden)
				continue;
			col = &cmd->cols[f];
			table_cell(&cell, col, res, r, f, tc[f].day);
			if (buf_add(&line, "  ", gap(tc, f)) == -1 ||
			    add_fitted(&line, buf_cstr(&cell), cell.len,
			    tc[f].w, tc[f].right, o->color &&
			    is_alert(col, res, r, f) ? SGR_RED : NULL) == -1)
				goto nomem;
		}
		if (put_line(&line, out) == -1)
			goto werr;
	}
	if (nrows == 0 && fputs("(no rows)\n", out) == EOF)
		goto werr;
	/* no row, nothing left out but names */
	if (nrows > 0 && left_out(cmd, tc, width, &line, out) == -1)
		goto werr;
	if (more && nmore >= 0) {
		buf_printf(&num, "%lld", (long long)nmore);
		if (add_thousands(&line, buf_cstr(&num)) == -1)
			goto nomem;
		if (fprintf(out, "(%s more %s not shown: --limit N for more, "
		    "--limit 0 for all)\n", buf_cstr(&line), nmore == 1 ?
		    "row" : "rows") < 0)
			goto werr;
		buf_reset(&line);
	} else if (more && fputs("(more rows not shown: --limit N for more, "
	    "--limit 0 for all)\n", out) == EOF)
		goto werr;
	rc = 0;
	goto out;
nomem:
	dm_err_set(err, DM_EINTERNAL, "table: out of memory");
	goto out;
werr:
	dm_err_set(err, DM_EINTERNAL, "output: %s", strerror(errno));
out:
	buf_clear(&cell);
	buf_clear(&line);
	buf_clear(&num);
	free(tc);
	return rc;
}

/*
 * Write text (display text) out, wrapped at width: line holds what
 * goes before it on the first line (indent columns), the lines after
 * start with indent spaces; a line ends before a word that would not
 * fit; a word wider than the room is cut. Each line's text is between
 * sgr and a reset (sgr NULL: no colour).
 */
static int
put_wrapped(struct buf *line, const char *text, size_t indent,
    size_t width, const char *sgr, FILE *out)
{
	const char	*p = text, *sp;
	size_t		 used = 0, n, ww, room, i;

	room = width > indent + TEXT_TMIN ? width - indent : TEXT_TMIN;
	while (*p != '\0') {
		n = (sp = strchr(p, ' ')) != NULL ? (size_t)(sp - p) :
		    strlen(p);
		ww = disp_width(p, n);
		if (used > 0 && used + 1 + ww > room) {
			if ((sgr != NULL && buf_adds(line, SGR_RESET) == -1) ||
			    put_line(line, out) == -1)
				return -1;
			for (i = 0; i < indent; i++)
				if (buf_addc(line, ' ') == -1)
					return -1;
			used = 0;
		}
		if (used == 0 && sgr != NULL && buf_adds(line, sgr) == -1)
			return -1;
		if (used > 0 && buf_addc(line, ' ') == -1)
			return -1;
		if (used == 0 && ww > room) {
			if (add_fitted(line, p, n, room, 0, NULL) == -1)
				return -1;
			ww = room;
		} else if (buf_add(line, p, n) == -1)
			return -1;
		used += ww + (used > 0);
		p += n;
		while (*p == ' ')
			p++;
	}
	if (used > 0 && sgr != NULL && buf_adds(line, SGR_RESET) == -1)
		return -1;
	return put_line(line, out);
}

/*
 * Is time cell f of row a whole day: a day's start, or for the end of
 * a range (QUERY_DAYEND) a day's last second? A midnight end is shown
 * with its time: as a day it would read as the day it does not cover.
 */
static int
block_day(const struct query_col *col, const PGresult *res, int row, int f)
{
	const char	*v;

	if (col->type != QUERY_TIME || PQgetisnull(res, row, f) ||
	    !is_pg_utc_time(v = PQgetvalue(res, row, f)))
		return 0;
	return strcmp(v + 11, (col->flags & QUERY_DAYEND) ? "23:59:59+00" :
	    "00:00:00+00") == 0;
}

/*
 * Is column f a QUERY_PCT named as the one before it plus "_pct"? A
 * block shows it in parentheses after that one: "dmarc_fail: 87 (3%)".
 */
static int
is_pct_of_prev(const struct query_cmd *cmd, int f)
{
	size_t	 n;

	if (f == 0 || f >= cmd->ncols || cmd->cols[f].type != QUERY_PCT)
		return 0;
	n = strlen(cmd->cols[f - 1].name);
	return strncmp(cmd->cols[f].name, cmd->cols[f - 1].name, n) == 0 &&
	    strcmp(cmd->cols[f].name + n, "_pct") == 0;
}

/*
 * The head row of a two-part command as "key: value" lines: empty
 * values left out, QUERY_HIDDEN columns too, a percentage of the
 * column before it after that one (is_pct_of_prev()), the QUERY_NEST
 * ones on one line of name=value pairs under the key cmd->nest (wrapped
 * at spaces, where other values are cut), and the QUERY_VERDICT ones
 * last, on lines of their own, wrapped.
 */
static int
render_block(const struct query_cmd *cmd, const PGresult *res, int row,
    const struct query_opts *o, FILE *out, struct dm_err *err)
{
	const struct query_col	*col;
	struct buf		 cell, val, line;
	const char		*key, *sgr;
	size_t			 keyw = 0, width, vw;
	int			 f, g, nest, nested = 0, rc = -1;

	buf_init(&cell, CELL_MAX);
	buf_init(&val, (size_t)-1);
	buf_init(&line, (size_t)-1);
	width = o->width > 0 ? (size_t)o->width : QUERY_TABLE_WIDTH;
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		if ((col->flags & (QUERY_HIDDEN | QUERY_VERDICT)) ||
		    is_pct_of_prev(cmd, f))
			continue;
		key = cmd->nest != NULL && (col->flags & QUERY_NEST) ?
		    cmd->nest : col->name;
		if (strlen(key) + 2 > keyw)
			keyw = strlen(key) + 2;	/* "key: " */
	}
	vw = width > keyw + TEXT_TMIN ? width - keyw : TEXT_TMIN;
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		nest = cmd->nest != NULL && (col->flags & QUERY_NEST);
		if ((col->flags & (QUERY_HIDDEN | QUERY_VERDICT)) ||
		    is_pct_of_prev(cmd, f) || (nest && nested++))
			continue;
		buf_reset(&val);
		key = nest ? cmd->nest : col->name;
		for (g = f; nest && g < cmd->ncols; g++) {
			if (!(cmd->cols[g].flags & QUERY_NEST))
				continue;
			if (table_cell(&cell, &cmd->cols[g], res, row, g,
			    0) == -1)
				goto nomem;
			if (cell.len == 0)
				continue;
			if ((val.len > 0 && buf_addc(&val, ' ') == -1) ||
			    buf_adds(&val, cmd->cols[g].name) == -1 ||
			    buf_addc(&val, '=') == -1 ||
			    buf_add(&val, cell.data, cell.len) == -1)
				goto nomem;
		}
		if (!nest && table_cell(&val, col, res, row, f,
		    block_day(col, res, row, f)) == -1)
			goto nomem;
		if (val.len == 0)
			continue;
		if (is_pct_of_prev(cmd, f + 1)) {
			if (table_cell(&cell, &cmd->cols[f + 1], res, row,
			    f + 1, 0) == -1)
				goto nomem;
			/* rounded to 0, but not nothing */
			if (strcmp(buf_cstr(&cell), "0%") == 0 &&
			    is_nonzero(res, row, f)) {
				buf_reset(&cell);
				if (buf_adds(&cell, "<0.01%") == -1)
					goto nomem;
			}
			if (cell.len > 0 && (buf_adds(&val, " (") == -1 ||
			    buf_add(&val, cell.data, cell.len) == -1 ||
			    buf_addc(&val, ')') == -1))
				goto nomem;
		}
		sgr = o->color && is_alert(col, res, row, f) ? SGR_RED : NULL;
		if (buf_printf(&line, "%s:%*s", key,
		    (int)(keyw - strlen(key) - 1), "") == -1)
			goto nomem;
		if (nest) {
			if (put_wrapped(&line, buf_cstr(&val), keyw, width,
			    NULL, out) == -1)
				goto werr;
			continue;
		}
		if (add_fitted(&line, buf_cstr(&val), val.len, vw, 0,
		    sgr) == -1)
			goto nomem;
		if (put_line(&line, out) == -1)
			goto werr;
	}
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		if (!(col->flags & QUERY_VERDICT))
			continue;
		if (table_cell(&val, col, res, row, f, 0) == -1)
			goto nomem;
		if (val.len == 0)
			continue;
		sgr = NULL;
		if (o->color)
			sgr = strncmp(buf_cstr(&val), "ready", 5) == 0 ?
			    SGR_GREEN : SGR_RED;
		if (put_wrapped(&line, buf_cstr(&val), 0, width, sgr,
		    out) == -1)
			goto werr;
	}
	rc = 0;
	goto out;
nomem:
	dm_err_set(err, DM_EINTERNAL, "table: out of memory");
	goto out;
werr:
	dm_err_set(err, DM_EINTERNAL, "output: %s", strerror(errno));
out:
	buf_clear(&cell);
	buf_clear(&val);
	buf_clear(&line);
	return rc;
}

/*
 * One head of a two-part command in a table: its block, a blank line
 * and the table of its details (cmd->detail's columns).
 */
static int
render_part_table(const struct query_cmd *cmd, const PGresult *head,
    int hrow, const PGresult *detail, int nrows, int more, int64_t nmore,
    const struct query_opts *o, FILE *out, struct dm_err *err)
{
	if (render_block(cmd, head, hrow, o, out, err) == -1)
		return -1;
	if (fputc('\n', out) == EOF)
		return dm_err_set(err, DM_EINTERNAL, "output: %s",
		    strerror(errno));
	return render_table(cmd->detail, detail, nrows, more, nmore, o, out,
	    err);
}

/* --- rendering: streams ------------------------------------------------ */

/*
 * CSV and JSON go out row by row, so a big result never sits in
 * memory: head, each row, tail. A two-part command's stream has a
 * head (its command, result and row) and cmd is its detail's: each
 * head opens a part (a JSON object with an array) that its detail
 * rows go in.
 */
struct stream {
	const struct query_cmd	*cmd;
	const struct query_cmd	*head;	/* NULL: one part */
	const PGresult		*hres;	/* the head's result ... */
	int			 hrow;	/* ... and row */
	enum query_format	 format;
	FILE			*out;
	struct buf		 b;
	int64_t			 items;	/* rows, or parts, written */
	int64_t			 rows;	/* detail rows in this part */
	int			 started;	/* the head is out */
};

static int
flush_buf(struct stream *st, struct dm_err *err)
{
	if (st->b.len > 0 &&
	    fwrite(st->b.data, 1, st->b.len, st->out) != st->b.len)
		return dm_err_set(err, DM_EINTERNAL, "output: %s",
		    strerror(errno));
	buf_reset(&st->b);
	return 0;
}

static int
stream_head(struct stream *st, struct dm_err *err)
{
	int	 rc;

	rc = st->format == QUERY_CSV ? csv_head(st->head, st->cmd, &st->b) :
	    buf_addc(&st->b, '[');
	if (rc == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	st->started = 1;
	return flush_buf(st, err);
}

static int
stream_row(struct stream *st, const PGresult *res, int row,
    struct dm_err *err)
{
	int	 rc;

	if (st->format == QUERY_CSV)
		rc = csv_row(st->head, st->hres, st->hrow, st->cmd, res, row,
		    &st->b);
	else if (st->head == NULL)
		rc = json_row(st->cmd, res, row, st->items == 0, &st->b);
	else if ((rc = buf_adds(&st->b, st->rows == 0 ? "\n    {" :
	    ",\n    {")) == 0 && (rc = json_fields(st->cmd, res, row,
	    &st->b)) == 0)
		rc = buf_addc(&st->b, '}');
	if (rc == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	if (st->head == NULL)
		st->items++;
	st->rows++;
	return flush_buf(st, err);
}

/* Open the part of row hrow of hres (the head's columns). */
static int
stream_part(struct stream *st, const PGresult *hres, int hrow,
    struct dm_err *err)
{
	st->hres = hres;
	st->hrow = hrow;
	st->rows = 0;
	if (st->format == QUERY_JSON && (buf_adds(&st->b, st->items == 0 ?
	    "\n  {" : ",\n  {") == -1 ||
	    json_fields(st->head, hres, hrow, &st->b) == -1 ||
	    buf_adds(&st->b, ", ") == -1 ||
	    json_string(&st->b, st->cmd->name) == -1 ||
	    buf_adds(&st->b, ": [") == -1))
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	st->items++;
	return flush_buf(st, err);
}

static int
stream_part_end(struct stream *st, struct dm_err *err)
{
	if (st->format == QUERY_JSON &&
	    buf_adds(&st->b, st->rows == 0 ? "]}" : "\n  ]}") == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	return flush_buf(st, err);
}

static int
stream_tail(struct stream *st, struct dm_err *err)
{
	if (st->format == QUERY_JSON &&
	    buf_adds(&st->b, st->items == 0 ? "]\n" : "\n]\n") == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	return flush_buf(st, err);
}

/* cmd: the command, or for two parts (head not NULL) its detail. */
static void
stream_init(struct stream *st, const struct query_cmd *head,
    const struct query_cmd *cmd, enum query_format format, FILE *out)
{
	memset(st, 0, sizeof(*st));
	st->head = head;
	st->cmd = cmd;
	st->format = format;
	st->out = out;
	/* one row; cells are bounded by what PostgreSQL hands out */
	buf_init(&st->b, (size_t)-1);
}

static int
check_shape(const struct query_cmd *cmd, const PGresult *res,
    struct dm_err *err)
{
	if (PQnfields(res) != cmd->ncols)
		return dm_err_set(err, DM_EINTERNAL, "%s: %d columns, "
		    "expected %d", cmd->name, PQnfields(res), cmd->ncols);
	return 0;
}

static int
flush_out(FILE *out, struct dm_err *err)
{
	if (fflush(out) == EOF)
		return dm_err_set(err, DM_EINTERNAL, "output: %s",
		    strerror(errno));
	return 0;
}

int
query_render(const struct query_cmd *cmd, const PGresult *res, int nrows,
    int more, const struct query_opts *o, FILE *out, struct dm_err *err)
{
	struct stream	 st;
	int		 r, rc = -1;

	if (check_shape(cmd, res, err) == -1)
		return -1;
	if (nrows > PQntuples(res))
		nrows = PQntuples(res);
	if (o->format == QUERY_TABLE)
		rc = render_table(cmd, res, nrows, more, -1, o, out, err);
	else {
		stream_init(&st, NULL, cmd, o->format, out);
		if (stream_head(&st, err) == -1)
			goto out;
		for (r = 0; r < nrows; r++)
			if (stream_row(&st, res, r, err) == -1)
				goto out;
		rc = stream_tail(&st, err);
out:
		buf_clear(&st.b);
	}
	return rc == 0 ? flush_out(out, err) : rc;
}

int
query_render_part(const struct query_cmd *cmd, const PGresult *head,
    int hrow, const PGresult *detail, int nrows, int more, int64_t nmore,
    const struct query_opts *o, FILE *out, struct dm_err *err)
{
	struct stream	 st;
	int		 r, rc = -1;

	if (cmd->detail == NULL)
		return dm_err_set(err, DM_EINTERNAL, "%s: one part",
		    cmd->name);
	if (check_shape(cmd, head, err) == -1 ||
	    check_shape(cmd->detail, detail, err) == -1)
		return -1;
	if (hrow < 0 || hrow >= PQntuples(head))
		return dm_err_set(err, DM_EINTERNAL, "%s: no row %d",
		    cmd->name, hrow);
	if (nrows > PQntuples(detail))
		nrows = PQntuples(detail);
	if (o->format == QUERY_TABLE)
		rc = render_part_table(cmd, head, hrow, detail, nrows, more,
		    nmore, o, out, err);
	else {
		stream_init(&st, cmd, cmd->detail, o->format, out);
		if (stream_head(&st, err) == -1 ||
		    stream_part(&st, head, hrow, err) == -1)
			goto out;
		for (r = 0; r < nrows; r++)
			if (stream_row(&st, detail, r, err) == -1)
				goto out;
		if (stream_part_end(&st, err) == 0)
			rc = stream_tail(&st, err);
out:
		buf_clear(&st.b);
	}
	return rc == 0 ? flush_out(out, err) : rc;
}

/* --- the executor ------------------------------------------------------ */

/* A timestamptz parameter: ISO 8601 in UTC with microseconds. */
static void
param_time(int64_t t, char out[96])
{
	struct tm	 tm;
	time_t		 secs;
	int64_t		 us;

	secs = (time_t)(t / USEC);
	us = t % USEC;
	if (us < 0) {
		us += USEC;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		/* out of gmtime's range: PostgreSQL's range ends sooner */
		snprintf(out, 96, "infinity");
		return;
	}
	snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)us);
}

/* The parameters of every SQL (struct query_cmd): their text. */
#define NPARAMS		6
#define P_LIMIT		3
#define P_KEY		5

static const Oid	 param_types[NPARAMS] = { OID_TEXT, OID_TIMESTAMPTZ,
			    OID_TIMESTAMPTZ, OID_INT8, OID_TEXT, OID_TEXT };

struct params {
	const char	*v[NPARAMS];
	char		 domain[DM_MAX_DOMAIN + 1];
	char		 since[96], until[96], limit[24];
};

/*
 * The parameters from o, with cmd's default period; limit: the rows
 * to ask for, 0 for all. Returns 0 or -1 (err: a bad domain).
 */
static int
params_init(struct params *p, const struct query_cmd *cmd,
    const struct query_opts *o, int64_t limit, struct dm_err *err)
{
	int64_t		 until;

	memset(p, 0, sizeof(*p));
	if (o->domain != NULL) {
		if (query_parse_domain(o->domain, p->domain,
		    sizeof(p->domain), err) == -1)
			return -1;
		p->v[0] = p->domain;
	}
	until = o->has_until ? o->until : o->now;
	if (o->has_since || cmd->days > 0) {
		param_time(o->has_since ? o->since :
		    until - (int64_t)cmd->days * 86400 * USEC, p->since);
		p->v[1] = p->since;
	}
	if (o->has_until || cmd->days > 0) {
		param_time(until, p->until);
		p->v[2] = p->until;
	}
	if (limit > 0) {
		snprintf(p->limit, sizeof(p->limit), "%lld",
		    (long long)limit);
		p->v[P_LIMIT] = p->limit;
	}
	p->v[4] = o->arg;
	return 0;
}

/*
 * One result of a single-row result set: a row, or the empty one that
 * ends it. The head waits for the first: an error writes nothing.
 */
static int
stream_result(struct stream *st, PGconn *conn, const PGresult *res,
    struct dm_err *err)
{
	ExecStatusType	 status = PQresultStatus(res);

	if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK)
		return db_error(conn, res, st->cmd->name, err);
	if (check_shape(st->cmd, res, err) == -1)
		return -1;
	if (!st->started && stream_head(st, err) == -1)
		return -1;
	if (status == PGRES_TUPLES_OK)
		return 0;
	return stream_row(st, res, 0, err);
}

/* Drain what is left of a single-row result set. */
static void
drain(PGconn *conn)
{
	PGresult	*res;

	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
}

/* Run sql row by row into st. Returns 0 or -1 (err). */
static int
stream_query(PGconn *conn, const char *sql, const struct params *p,
    struct stream *st, struct dm_err *err)
{
	PGresult	*res;
	int		 failed = 0;

	if (!PQsendQueryParams(conn, sql, NPARAMS, param_types, p->v, NULL,
	    NULL, 0))
		return db_error(conn, NULL, st->cmd->name, err);
	if (!PQsetSingleRowMode(conn)) {
		drain(conn);
		return dm_err_set(err, DM_EINTERNAL, "%s: no single-row mode",
		    st->cmd->name);
	}
	while ((res = PQgetResult(conn)) != NULL) {
		/* after an error, read on to the end of the result set */
		if (!failed && stream_result(st, conn, res, err) == -1)
			failed = 1;
		PQclear(res);
	}
	return failed ? -1 : 0;
}

/* Run sql whole. Returns its result (PQclear() it), or NULL (err). */
static PGresult *
exec_query(PGconn *conn, const char *sql, const struct params *p,
    const char *what, struct dm_err *err)
{
	PGresult	*res;

	res = PQexecParams(conn, sql, NPARAMS, param_types, p->v, NULL, NULL,
	    0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(conn, res, what, err);
		PQclear(res);
		return NULL;
	}
	return res;
}

static int
exec_command(PGconn *conn, const char *sql, struct dm_err *err)
{
	PGresult	*res;
	int		 rc = 0;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = db_error(conn, res, sql, err);
	PQclear(res);
	return rc;
}

/*
 * The detail rows of one head in a table: at most lim (0: all), and
 * when there are more, how many (the detail's SQL again, counted).
 */
static int
table_part(PGconn *conn, const struct query_cmd *cmd, const PGresult *head,
    int hrow, struct params *p, int64_t lim, const struct query_opts *o,
    FILE *out, struct dm_err *err)
{
	const struct query_cmd	*d = cmd->detail;
	struct buf		 sql;
	PGresult		*res, *cnt = NULL;
	int64_t			 nmore = -1;
	int			 n, more = 0, rc = -1;

	if ((res = exec_query(conn, d->sql, p, cmd->name, err)) == NULL)
		return -1;
	n = PQntuples(res);
	if (lim > 0 && n > lim) {
		n = (int)lim;
		more = 1;
		buf_init(&sql, (size_t)-1);
		buf_printf(&sql, "SELECT count(*) FROM (%s) x", d->sql);
		p->v[P_LIMIT] = NULL;
		cnt = exec_query(conn, buf_cstr(&sql), p, cmd->name, err);
		p->v[P_LIMIT] = p->limit;
		buf_clear(&sql);
		if (cnt == NULL)
			goto out;
		if (PQntuples(cnt) == 1 && is_int(PQgetvalue(cnt, 0, 0)))
			nmore = strtoll(PQgetvalue(cnt, 0, 0), NULL, 10) - n;
	}
	rc = render_part_table(cmd, head, hrow, res, n, more, nmore, o, out,
	    err);
out:
	PQclear(cnt);
	PQclear(res);
	return rc;
}

/*
 * A two-part command: the heads whole (they are few), then for each
 * its details, in one snapshot. No head: for a command with an operand
 * an error (DM_EMSG) and nothing written.
 */
static int
run_parts(PGconn *conn, const struct query_cmd *cmd,
    const struct query_opts *o, struct params *p, int64_t lim, FILE *out,
    struct dm_err *err)
{
	struct stream	 st;
	PGresult	*head = NULL;
	char		 tmp[64];
	int		 h, rc = -1, txn;

	stream_init(&st, cmd, cmd->detail, o->format, out);
	/* a caller's transaction is the caller's to end */
	txn = PQtransactionStatus(conn) == PQTRANS_IDLE;
	if (txn && exec_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ",
	    err) == -1)
		goto out;
	if ((head = exec_query(conn, cmd->sql, p, cmd->name, err)) == NULL ||
	    check_shape(cmd, head, err) == -1)
		goto out;
	if (PQntuples(head) == 0 && cmd->arg != NULL) {
		dm_err_set(err, DM_EMSG, "no %s \"%s\"%s%s%s", cmd->name,
		    shown(o->arg, tmp, sizeof(tmp)),
		    p->v[0] != NULL ? " of domain " : "",
		    p->v[0] != NULL ? p->v[0] : "",
		    o->has_since || o->has_until ?
		    " with its begin in [--since, --until)" : "");
		goto out;
	}
	for (h = 0; h < PQntuples(head); h++) {
		p->v[P_KEY] = PQgetisnull(head, h, 0) ? NULL :
		    PQgetvalue(head, h, 0);
		if (o->format == QUERY_TABLE) {
			if (h > 0 && fputc('\n', out) == EOF) {
				dm_err_set(err, DM_EINTERNAL, "output: %s",
				    strerror(errno));
				goto out;
			}
			if (table_part(conn, cmd, head, h, p, lim, o, out,
			    err) == -1)
				goto out;
			continue;
		}
		if ((!st.started && stream_head(&st, err) == -1) ||
		    stream_part(&st, head, h, err) == -1 ||
		    stream_query(conn, cmd->detail->sql, p, &st, err) == -1 ||
		    stream_part_end(&st, err) == -1)
			goto out;
	}
	if (o->format != QUERY_TABLE && ((!st.started &&
	    stream_head(&st, err) == -1) || stream_tail(&st, err) == -1))
		goto out;
	rc = 0;
out:
	PQclear(head);
	buf_clear(&st.b);
	/* read-only: how it ends changes nothing but the connection's state */
	if (txn && PQtransactionStatus(conn) != PQTRANS_IDLE) {
		drain(conn);
		PQclear(PQexec(conn, rc == 0 ? "COMMIT" : "ROLLBACK"));
	}
	return rc == 0 ? flush_out(out, err) : rc;
}

int
query_run(PGconn *conn, const struct query_cmd *cmd,
    const struct query_opts *o, FILE *out, struct dm_err *err)
{
	struct params	 p;
	struct stream	 st;
	PGresult	*res;
	int64_t		 lim = query_limit(o);
	int		 n, more = 0, rc;

	if (query_check(cmd, o, err) == -1)
		return -1;
	/* a table asks for one more: it says when there are more */
	if (params_init(&p, cmd, o, lim > 0 ? lim + (o->format ==
	    QUERY_TABLE) : 0, err) == -1)
		return -1;
	if (cmd->detail != NULL)
		return run_parts(conn, cmd, o, &p, lim, out, err);

	if (o->format == QUERY_TABLE) {
		if ((res = exec_query(conn, cmd->sql, &p, cmd->name,
		    err)) == NULL)
			return -1;
		n = PQntuples(res);
		if (lim > 0 && n > lim) {
			n = (int)lim;
			more = 1;
		}
		rc = query_render(cmd, res, n, more, o, out, err);
		PQclear(res);
		return rc;
	}

	stream_init(&st, NULL, cmd, o->format, out);
	rc = stream_query(conn, cmd->sql, &p, &st, err);
	if (rc == 0)
		rc = stream_tail(&st, err);
	buf_clear(&st.b);
	return rc == 0 ? flush_out(out, err) : rc;
}

/* --- help -------------------------------------------------------------- */

static void
help_cols(const struct query_cmd *cmd, FILE *out)
{
	const struct query_col	*col;
	const char		*type;
	int			 f;

	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		if (col->flags & QUERY_HIDDEN)
			continue;
		switch (col->type) {
		case QUERY_COUNT:
			type = "count";
			break;
		case QUERY_TIME:
			type = "time";
			break;
		case QUERY_INET:
			type = "address";
			break;
		case QUERY_JSONV:
			type = "list";
			break;
		case QUERY_PCT:
			type = "percent";
			break;
		default:
			type = "text";
			break;
		}
		if (strlen(col->name) > 13)
			fprintf(out, "  %s\n  %-13s %-7s %s\n", col->name, "",
			    type, col->help);
		else
			fprintf(out, "  %-13s %-7s %s\n", col->name, type,
			    col->help);
		if (col->head != NULL)
			fprintf(out, "  %-13s %-7s (table header: %s)\n", "",
			    "", col->head);
	}
}

void
query_help(const struct query_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: dmarcq [-c FILE] [--db CONNINFO] "
	    "[--format table|csv|json] %s%s%s\n"
	    "       %s[--since T] [--until T] [--limit N] "
	    "[--color WHEN]\n\n", cmd->name, cmd->arg != NULL ? " " : "",
	    cmd->arg != NULL ? cmd->arg : "",
	    (cmd->flags & QUERY_NEED_DOMAIN) ? "--domain D " : "[--domain D] ");
	fprintf(out, "%s: %s.\n\n%s\n", cmd->name, cmd->brief, cmd->help);
	fprintf(out, "Columns (CSV header and JSON key; table header when "
	    "shorter):\n");
	help_cols(cmd, out);
	if (cmd->detail != NULL) {
		fprintf(out, "\nColumns of %s (JSON: the array \"%s\"):\n",
		    cmd->detail->name, cmd->detail->name);
		help_cols(cmd->detail, out);
	}
	fprintf(out, "\nTimes are UTC: YYYY-MM-DD HH:MM in tables (YYYY-MM-DD "
	    "when all in the\ncolumn start a day, or for end, all end one), "
	    "YYYY-MM-DDTHH:MM:SSZ in CSV\nand JSON. Counts are JSON numbers. "
	    "Empty values are null in JSON, empty in\ntables and CSV. "
	    "See dmarcq --help for T, the database, the formats and the\n"
	    "exit codes.\n");
}
