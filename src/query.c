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
	    "aggregate reports with records in the range", 0, 0, 0 },
	{ "messages", NULL, QUERY_COUNT, 0,
	    "messages reported: the records' counts summed", 0, 0, 0 },
	{ "dmarc_pass", "pass", QUERY_COUNT, 0,
	    "messages where the DKIM or the SPF verdict is pass", 0, 0, 0 },
	{ "dmarc_fail", "fail", QUERY_COUNT, 0,
	    "messages - dmarc_pass", 0, 0, 0 },
	{ "dkim_aligned", "dkim", QUERY_COUNT, 0,
	    "messages whose policy_evaluated dkim is pass", 0, 0, 0 },
	{ "spf_aligned", "spf", QUERY_COUNT, 0,
	    "messages whose policy_evaluated spf is pass", 0, 0, 0 },
	{ "quarantined", "quar", QUERY_COUNT, 0,
	    "messages with disposition quarantine", 0, 0, 0 },
	{ "rejected", "reject", QUERY_COUNT, 0,
	    "messages with disposition reject", 0, 0, 0 },
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
 * The figures of sources and failures, per (policy domain, source
 * address), as the views define them, from the rows of dmarc.record
 * whose report's begin is in the range (records carry their report's).
 */
#define SOURCE_RECORDS \
	" FROM dmarc.record" \
	" WHERE ($1::text IS NULL OR domain = $1)" \
	" AND ($2::timestamptz IS NULL OR begin_time >= $2)" \
	" AND ($3::timestamptz IS NULL OR begin_time < $3)"
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
	    0, 0, 0 }, \
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
 * A failures table keeps what says what failed: the figures that
 * passed and the enrichment go first when it does not fit.
 */
#define PASS_DROP	3
#define ALIGNED_DROP	2
#define MESSAGES_DROP	4
#define ENRICH_DROP	1
static const struct query_col failures_cols[] = {
	SOURCE_COLS,
	{ "header_from", NULL, QUERY_JSONV, 0,
	    "the failing records' header_from domains", 0, 0, 0 },
	{ "dkim", "dkim auth", QUERY_JSONV, 0,
	    "their DKIM results: domain/selector=result", 0, 0, 0 },
	{ "spf", "spf auth", QUERY_JSONV, 0,
	    "their SPF results: domain/scope=result", 0, 0, 0 },
};
#undef PASS_DROP
#undef ALIGNED_DROP
#undef ENRICH_DROP
#undef MESSAGES_DROP

/*
 * The figures first, limited, then the auth details of the failing
 * records (neither aligned verdict pass) of just those sources. A
 * result or scope that was not canonical as sent shows as sent.
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
	"  r.dkim_domain, r.dkim_selector, r.dkim_result, r.dkim_result_raw,"
	"  r.spf_domain, r.spf_scope, r.spf_scope_raw, r.spf_result,"
	"  r.spf_result_raw FROM dmarc.record r"
	"  WHERE ($1::text IS NULL OR r.domain = $1)"
	"  AND ($2::timestamptz IS NULL OR r.begin_time >= $2)"
	"  AND ($3::timestamptz IS NULL OR r.begin_time < $3)"
	"  AND NOT coalesce(r.dkim = 'pass' OR r.spf = 'pass', false)),"
	" f AS (SELECT fr.* FROM fr"
	"  JOIN s ON s.domain = fr.domain AND s.source_ip = fr.source_ip),"
	" h AS (SELECT domain, source_ip, json_agg(hf ORDER BY hf) AS a"
	"  FROM (SELECT DISTINCT domain, source_ip, header_from AS hf FROM f"
	"   WHERE header_from IS NOT NULL) x GROUP BY domain, source_ip),"
	" k AS (SELECT domain, source_ip, json_agg(json_build_object("
	"   'domain', d, 'selector', sel, 'result', res)"
	"   ORDER BY d, sel, res) AS a"
	"  FROM (SELECT DISTINCT f.domain, f.source_ip, u.d, u.sel,"
	"   coalesce(u.res, u.raw) AS res FROM f CROSS JOIN LATERAL"
	"   unnest(f.dkim_domain, f.dkim_selector, f.dkim_result,"
	"   f.dkim_result_raw) AS u(d, sel, res, raw)"
	"   WHERE f.dkim_domain IS NOT NULL) x"
	"  GROUP BY domain, source_ip),"
	" p AS (SELECT domain, source_ip, json_agg(json_build_object("
	"   'domain', d, 'scope', sc, 'result', res)"
	"   ORDER BY d, sc, res) AS a"
	"  FROM (SELECT DISTINCT f.domain, f.source_ip, u.d,"
	"   coalesce(u.sc, u.scraw) AS sc, coalesce(u.res, u.raw) AS res"
	"   FROM f CROSS JOIN LATERAL"
	"   unnest(f.spf_domain, f.spf_scope, f.spf_scope_raw, f.spf_result,"
	"   f.spf_result_raw) AS u(d, sc, scraw, res, raw)"
	"   WHERE f.spf_domain IS NOT NULL) x"
	"  GROUP BY domain, source_ip)"
	" SELECT s.domain, s.source_ip, s.messages, s.dmarc_pass,"
	" s.dmarc_fail, s.dkim_aligned, s.spf_aligned, NULL::text,"
	" NULL::text, coalesce(h.a, '[]'), coalesce(k.a, '[]'),"
	" coalesce(p.a, '[]')"
	" FROM s LEFT JOIN h ON h.domain = s.domain"
	"  AND h.source_ip = s.source_ip"
	" LEFT JOIN k ON k.domain = s.domain AND k.source_ip = s.source_ip"
	" LEFT JOIN p ON p.domain = s.domain AND p.source_ip = s.source_ip"
	" ORDER BY s.dmarc_fail DESC, s.messages DESC, s.domain, s.source_ip";

static const struct query_col forensic_cols[] = {
	{ "arrival_date", "arrival", QUERY_TIME, 0,
	    "when the reporter received the message (UTC; empty if unread)",
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

const struct query_cmd query_cmds[] = {
	{ "summary", "one row per policy domain",
	    "One row per policy domain with the totals of its reports'\n"
	    "records, sorted by domain. The figures come from the view\n"
	    "dmarc.daily_domain, the same that dashboards read: they add up\n"
	    "whole UTC days of the reports' begin. With --since/--until a day\n"
	    "counts when it overlaps [since, until); for bounds at midnight\n"
	    "UTC (YYYY-MM-DD) that is exactly the reports whose begin is in\n"
	    "the range. Domains without records in the range are not\n"
	    "listed.\n",
	    summary_sql, summary_cols, nitems(summary_cols) },
	{ "reports", "ingested aggregate reports, newest first",
	    "The aggregate reports stored, newest first (by begin). A report\n"
	    "is in the range when its begin is in [since, until); --domain\n"
	    "selects its policy domain. A table narrower than it needs\n"
	    "leaves out end.\n",
	    reports_sql, reports_cols, nitems(reports_cols) },
	{ "sources", "one row per (policy domain, source address)",
	    "One row per policy domain and sending address, the most\n"
	    "messages first, from the records of the reports whose begin is\n"
	    "in [since, until); --domain selects the policy domain. ptr and\n"
	    "base_domain stay empty (null in JSON) until enrichment exists;\n"
	    "a table narrower than it needs leaves them out.\n",
	    sources_sql, sources_cols, nitems(sources_cols) },
	{ "failures", "sources with DMARC failures, worst first",
	    "The sources (see sources) with DMARC failures, the most failed\n"
	    "messages first, with what the failing records (those where\n"
	    "neither the aligned DKIM nor the aligned SPF verdict is pass)\n"
	    "carried: their header_from domains and their DKIM and SPF\n"
	    "results, each listed once. In JSON these are arrays: of strings,\n"
	    "of {domain, selector, result} and of {domain, scope, result}\n"
	    "(empty when there were none; a selector or scope the report\n"
	    "did not give is null); in tables and CSV one line each,\n"
	    "\"a.example, b.example\", \"example.com/s1=pass\",\n"
	    "\"example.com/mfrom=softfail\". A result or scope that was not\n"
	    "one of the RFC's words is shown as sent. A table narrower than\n"
	    "it needs leaves out ptr and base_domain, then dkim_aligned and\n"
	    "spf_aligned, then dmarc_pass, then messages.\n",
	    failures_sql, failures_cols, nitems(failures_cols) },
	{ "ingest", "the ledger of processed inputs, newest first",
	    "The ingest ledger: one row per input (or per report of an\n"
	    "input) and what became of it, newest first. --since/--until\n"
	    "filter on the time it was processed. --domain keeps the rows\n"
	    "whose stored report has that policy domain: rejected inputs\n"
	    "have no report and are then left out. A table narrower than it\n"
	    "needs leaves out sha256, then message_id, report_id and\n"
	    "org_name.\n",
	    ingest_sql, ingest_cols, nitems(ingest_cols) },
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
	    forensic_sql, forensic_cols, nitems(forensic_cols) },
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
	memset(o, 0, sizeof(*o));
	o->limit = -1;
	o->format = QUERY_TABLE;
	o->width = QUERY_TABLE_WIDTH;
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

/* --- the database ------------------------------------------------------ */

/*
 * libpq's message on one line, without control characters: the server
 * text may quote what the user typed.
 */
static const char *
pq_msg(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0;
	int	 space = 0;

	for (; *in != '\0' && o + 1 < outlen; in++) {
		if (*in == '\n' || *in == '\t' || *in == '\r' || *in == ' ') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < outlen)
			out[o++] = ' ';
		space = 0;
		out[o++] = (unsigned char)*in < 0x20 || *in == 0x7f ?
		    '?' : *in;
	}
	out[o] = '\0';
	return out;
}

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
	    pq_msg(msg, tmp, sizeof(tmp)));
}

int
query_session(PGconn *conn, struct dm_err *err)
{
	PGresult	*res;
	int		 rc = -1;

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
	    pq_msg(msg, tmp, sizeof(tmp)) : "out of memory");
	PQfreemem(msg);
	return -1;
}

PGconn *
query_connect(const char *conninfo, struct dm_err *err)
{
	const char	*keys[4], *vals[4], *host, *port;
	char		 tmp[400];
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
		host = PQhost(conn);
		port = PQport(conn);
		dm_err_set(err, DM_ESTORE, "database unreachable (host %s, "
		    "port %s): %s",
		    host != NULL && *host != '\0' ? host : "default",
		    port != NULL && *port != '\0' ? port : "default",
		    pq_msg(PQerrorMessage(conn), tmp, sizeof(tmp)));
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
	struct buf	 key, prev, cur;
	size_t		 start = out->len;
	int		 n = 0, rc = -1;

	buf_init(&key, CELL_MAX);
	buf_init(&prev, CELL_MAX);
	buf_init(&cur, CELL_MAX);
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
	if (json)
		rc = buf_addc(out, '}');
	else if (prev.len > 0)
		rc = buf_addc(out, '=') == -1 ? -1 :
		    buf_add(out, prev.data, prev.len);
	else
		rc = 0;
out:
	buf_clear(&key);
	buf_clear(&prev);
	buf_clear(&cur);
	return rc;
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
 * Can time column f of the first nrows rows be shown as days? When
 * each time in it starts a day, or, for the inclusive end of a range
 * (QUERY_DAYEND), when each is a day's last second. NULL and odd
 * values (infinity) don't count against it.
 */
static int
time_days(const struct query_col *col, const PGresult *res, int nrows,
    int f)
{
	const char	*v;
	int		 r, start = 1, end = 1;

	if (col->type != QUERY_TIME)
		return 0;
	for (r = 0; r < nrows; r++) {
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

static int
csv_head(const struct query_cmd *cmd, struct buf *b)
{
	int	 f;

	for (f = 0; f < cmd->ncols; f++) {
		if (f > 0 && buf_addc(b, ',') == -1)
			return -1;
		if (csv_field(b, cmd->cols[f].name, 0) == -1)
			return -1;
	}
	return buf_adds(b, "\r\n");
}

static int
csv_row(const struct query_cmd *cmd, const PGresult *res, int row,
    struct buf *b)
{
	const struct query_col	*col;
	const char		*v;
	int			 f, rc;

	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		if (f > 0 && buf_addc(b, ',') == -1)
			return -1;
		if (PQgetisnull(res, row, f))
			continue;
		v = PQgetvalue(res, row, f);
		if (col->type == QUERY_COUNT && is_int(v))
			rc = buf_adds(b, v);
		else if (col->type == QUERY_TIME && is_pg_utc_time(v))
			rc = iso_time(b, v);
		else if (col->type == QUERY_JSONV)
			rc = csv_json(b, v);
		else
			rc = csv_field(b, v, 1);
		if (rc == -1)
			return -1;
	}
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

static int
json_row(const struct query_cmd *cmd, const PGresult *res, int row,
    int first, struct buf *b)
{
	const struct query_col	*col;
	const char		*v;
	int			 f, rc;

	if (buf_adds(b, first ? "\n  {" : ",\n  {") == -1)
		return -1;
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		if (f > 0 && buf_adds(b, ", ") == -1)
			return -1;
		if (json_string(b, col->name) == -1 || buf_adds(b, ": ") == -1)
			return -1;
		v = PQgetvalue(res, row, f);
		if (PQgetisnull(res, row, f))
			rc = buf_adds(b, "null");
		else if (col->type == QUERY_COUNT && is_json_int(v))
			rc = buf_adds(b, v);
		else if (col->type == QUERY_TIME && is_pg_utc_time(v)) {
			rc = buf_addc(b, '"');
			if (rc == 0)
				rc = iso_time(b, v);
			if (rc == 0)
				rc = buf_addc(b, '"');
		} else if (col->type == QUERY_JSONV)
			rc = jv_render(b, v, 1);
		else
			rc = json_string(b, v);
		if (rc == -1)
			return -1;
	}
	return buf_addc(b, '}');
}

/* --- rendering: table -------------------------------------------------- */

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

/*
 * Append cell s (display text) fitted to width w: cut with "…" when
 * wider, padded with spaces (left or right) when narrower.
 */
static int
add_fitted(struct buf *line, const char *s, size_t len, size_t w, int right)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 sw, i = 0, n, used = 0;
	uint32_t		 c;
	int			 cw;

	sw = disp_width(s, len);
	if (sw <= w) {
		if (!right && buf_add(line, s, len) == -1)
			return -1;
		for (; sw < w; sw++)
			if (buf_addc(line, ' ') == -1)
				return -1;
		return right ? buf_add(line, s, len) : 0;
	}
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
	for (used++; used < w; used++)
		if (buf_addc(line, ' ') == -1)
			return -1;
	return 0;
}

/* Write line without trailing blanks, and a newline. */
static int
put_line(struct buf *line, FILE *out)
{
	while (line->len > 0 && line->data[line->len - 1] == ' ')
		line->len--;
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

static int
render_table(const struct query_cmd *cmd, const PGresult *res, int nrows,
    int more, const struct query_opts *o, FILE *out, struct dm_err *err)
{
	const struct query_col	*col;
	struct tcol		*tc;
	struct buf		 cell, line;
	const char		*head;
	size_t			 w, width;
	int			 f, r, rc = -1;

	tc = xcalloc((size_t)cmd->ncols, sizeof(*tc));
	buf_init(&cell, CELL_MAX);
	buf_init(&line, (size_t)-1);
	width = o->width > 0 ? (size_t)o->width : QUERY_TABLE_WIDTH;
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
		head = col->head != NULL ? col->head : col->name;
		tc[f].nat = disp_width(head, strlen(head));
		tc[f].right = col->type == QUERY_COUNT;
		/* a cut address would be another address */
		tc[f].cut = col->type == QUERY_TEXT ||
		    col->type == QUERY_JSONV;
		tc[f].drop = col->tdrop;
		tc[f].day = time_days(col, res, nrows, f);
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

	for (f = 0; f < cmd->ncols; f++) {
		if (tc[f].hidden)
			continue;
		col = &cmd->cols[f];
		head = col->head != NULL ? col->head : col->name;
		if (buf_add(&line, "  ", gap(tc, f)) == -1 ||
		    add_fitted(&line, head, strlen(head), tc[f].w,
		    tc[f].right) == -1)
			goto nomem;
	}
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
			table_cell(&cell, &cmd->cols[f], res, r, f,
			    tc[f].day);
			if (buf_add(&line, "  ", gap(tc, f)) == -1 ||
			    add_fitted(&line, buf_cstr(&cell), cell.len,
			    tc[f].w, tc[f].right) == -1)
				goto nomem;
		}
		if (put_line(&line, out) == -1)
			goto werr;
	}
	if (nrows == 0 && fputs("(no rows)\n", out) == EOF)
		goto werr;
	if (left_out(cmd, tc, width, &line, out) == -1)
		goto werr;
	if (more && fputs("(more rows not shown: --limit N for more, "
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
	free(tc);
	return rc;
}

/* --- rendering: streams ------------------------------------------------ */

/*
 * CSV and JSON go out row by row, so a big result never sits in
 * memory: head, each row, tail.
 */
struct stream {
	const struct query_cmd	*cmd;
	enum query_format	 format;
	FILE			*out;
	struct buf		 b;
	int64_t			 rows;
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

	rc = st->format == QUERY_CSV ? csv_head(st->cmd, &st->b) :
	    buf_addc(&st->b, '[');
	if (rc == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	return flush_buf(st, err);
}

static int
stream_row(struct stream *st, const PGresult *res, int row,
    struct dm_err *err)
{
	int	 rc;

	rc = st->format == QUERY_CSV ? csv_row(st->cmd, res, row, &st->b) :
	    json_row(st->cmd, res, row, st->rows == 0, &st->b);
	if (rc == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	st->rows++;
	return flush_buf(st, err);
}

static int
stream_tail(struct stream *st, struct dm_err *err)
{
	if (st->format == QUERY_JSON &&
	    buf_adds(&st->b, st->rows == 0 ? "]\n" : "\n]\n") == -1)
		return dm_err_set(err, DM_EINTERNAL, "out of memory");
	return flush_buf(st, err);
}

static void
stream_init(struct stream *st, const struct query_cmd *cmd,
    enum query_format format, FILE *out)
{
	st->cmd = cmd;
	st->format = format;
	st->out = out;
	/* one row; cells are bounded by what PostgreSQL hands out */
	buf_init(&st->b, (size_t)-1);
	st->rows = 0;
	st->started = 0;
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
		rc = render_table(cmd, res, nrows, more, o, out, err);
	else {
		stream_init(&st, cmd, o->format, out);
		if (stream_head(&st, err) == -1)
			goto out;
		for (r = 0; r < nrows; r++)
			if (stream_row(&st, res, r, err) == -1)
				goto out;
		rc = stream_tail(&st, err);
out:
		buf_clear(&st.b);
	}
	if (rc == 0 && fflush(out) == EOF)
		rc = dm_err_set(err, DM_EINTERNAL, "output: %s",
		    strerror(errno));
	return rc;
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
	if (!st->started) {
		if (stream_head(st, err) == -1)
			return -1;
		st->started = 1;
	}
	if (status == PGRES_TUPLES_OK)
		return stream_tail(st, err);
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

int
query_run(PGconn *conn, const struct query_cmd *cmd,
    const struct query_opts *o, FILE *out, struct dm_err *err)
{
	static const Oid	 types[4] = { OID_TEXT, OID_TIMESTAMPTZ,
				    OID_TIMESTAMPTZ, OID_INT8 };
	const char		*params[4] = { NULL, NULL, NULL, NULL };
	char			 domain[DM_MAX_DOMAIN + 1], since[96];
	char			 until[96], limit[24];
	struct stream		 st;
	PGresult		*res;
	int64_t			 lim = query_limit(o);
	int			 n, more = 0, rc = -1, failed = 0;

	if (o->domain != NULL) {
		if (query_parse_domain(o->domain, domain, sizeof(domain),
		    err) == -1)
			return -1;
		params[0] = domain;
	}
	if (o->has_since) {
		param_time(o->since, since);
		params[1] = since;
	}
	if (o->has_until) {
		param_time(o->until, until);
		params[2] = until;
	}
	if (lim > 0) {
		/* a table asks for one more: it says when there are more */
		snprintf(limit, sizeof(limit), "%lld", (long long)lim +
		    (o->format == QUERY_TABLE));
		params[3] = limit;
	}

	if (o->format == QUERY_TABLE) {
		res = PQexecParams(conn, cmd->sql, 4, types, params, NULL,
		    NULL, 0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			db_error(conn, res, cmd->name, err);
			PQclear(res);
			return -1;
		}
		n = PQntuples(res);
		if (lim > 0 && n > lim) {
			n = (int)lim;
			more = 1;
		}
		rc = query_render(cmd, res, n, more, o, out, err);
		PQclear(res);
		return rc;
	}

	if (!PQsendQueryParams(conn, cmd->sql, 4, types, params, NULL, NULL,
	    0))
		return db_error(conn, NULL, cmd->name, err);
	if (!PQsetSingleRowMode(conn)) {
		drain(conn);
		return dm_err_set(err, DM_EINTERNAL, "%s: no single-row mode",
		    cmd->name);
	}
	stream_init(&st, cmd, o->format, out);
	while ((res = PQgetResult(conn)) != NULL) {
		/* after an error, read on to the end of the result set */
		if (!failed && stream_result(&st, conn, res, err) == -1)
			failed = 1;
		PQclear(res);
	}
	buf_clear(&st.b);
	if (!failed && fflush(out) == EOF) {
		dm_err_set(err, DM_EINTERNAL, "output: %s", strerror(errno));
		failed = 1;
	}
	return failed ? -1 : 0;
}

/* --- help -------------------------------------------------------------- */

void
query_help(const struct query_cmd *cmd, FILE *out)
{
	const struct query_col	*col;
	const char		*type;
	int			 f;

	fprintf(out, "usage: dmarcq [-c FILE] [--db CONNINFO] "
	    "[--format table|csv|json] %s\n"
	    "       [--domain D] [--since T] [--until T] [--limit N]\n\n",
	    cmd->name);
	fprintf(out, "%s: %s.\n\n%s\n", cmd->name, cmd->brief, cmd->help);
	fprintf(out, "Columns (CSV header and JSON key; table header when "
	    "shorter):\n");
	for (f = 0; f < cmd->ncols; f++) {
		col = &cmd->cols[f];
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
		default:
			type = "text";
			break;
		}
		fprintf(out, "  %-13s %-7s %s\n", col->name, type, col->help);
		if (col->head != NULL)
			fprintf(out, "  %-13s %-7s (table header: %s)\n", "",
			    "", col->head);
	}
	fprintf(out, "\nTimes are UTC: YYYY-MM-DD HH:MM in tables (YYYY-MM-DD "
	    "when all in the\ncolumn start a day, or for end, all end one), "
	    "YYYY-MM-DDTHH:MM:SSZ in CSV\nand JSON. Counts are JSON numbers. "
	    "Empty values are null in JSON, empty in\ntables and CSV. "
	    "See dmarcq --help for T, the database, the formats and the\n"
	    "exit codes.\n");
}
