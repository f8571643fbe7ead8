/*
 * check_query.c: dmarcq and its engine against a real PostgreSQL: a
 * fresh database with the schema and a hand-made fixture
 * (tests/data/query/fixture.sql), every command in every format
 * compared byte for byte with tests/data/query/golden/, the escaping
 * rules, the time syntax, and the exit codes of the built binary.
 * report, new-sources and readiness run on a second database that
 * holds tests/data/query/scenario.sql too.
 *
 * DM_QUERY_GOLDEN_OUT=DIR writes what the golden tests got into DIR
 * (to review a change and copy it over the golden files).
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"
#include "test_db.h"
#include "test_dmarcq.h"
#include "bounds.h"
#include "buf.h"
#include "query.h"
#include "store.h"
#include "util.h"

#define USEC		INT64_C(1000000)
/* "now" for relative times: 2024-03-05T00:00:00Z */
#define NOW		(INT64_C(1709596800) * USEC)

static char	 fixture_db[1024];	/* conninfo of the fixture database */
static char	 empty_db[1024];	/* a database without the schema */
static char	 scenario_db[1024];	/* fixture.sql, then scenario.sql */
static char	 fixture_name[64], empty_name[64], scenario_name[64];

/* --- the database ------------------------------------------------------ */

/* Runs once, before the tests fork: one database for all of them. */
static void
db_setup(void)
{
	const char	*base = test_need_db();
	PGconn		*conn;

	snprintf(fixture_name, sizeof(fixture_name), "dmarcq_test_%ld",
	    (long)getpid());
	snprintf(empty_name, sizeof(empty_name), "dmarcq_test_%ld_empty",
	    (long)getpid());
	test_db_create(base, fixture_name);
	test_db_create(base, empty_name);
	snprintf(scenario_name, sizeof(scenario_name),
	    "dmarcq_test_%ld_scenario", (long)getpid());

	conn = test_db_open(base, fixture_name);
	test_db_conninfo(conn, fixture_db, sizeof(fixture_db));
	test_db_migrate(fixture_db);
	test_db_exec(conn, "SET client_min_messages TO warning");
	test_db_exec_file(conn, test_path("query", "fixture.sql"));
	PQfinish(conn);
	conn = test_db_open(base, empty_name);
	test_db_conninfo(conn, empty_db, sizeof(empty_db));
	PQfinish(conn);

	dmarcq_db_create(scenario_name, 1, scenario_db, sizeof(scenario_db));
	dmarcq_db_load(scenario_db, "query", "fixture.sql");
	dmarcq_db_load(scenario_db, "query", "scenario.sql");
}

static void
db_teardown(void)
{
	test_db_drop(test_need_db(), fixture_name);
	test_db_drop(test_need_db(), empty_name);
	dmarcq_db_drop(scenario_name);
}

/* --- running queries --------------------------------------------------- */

struct q {
	const char		*cmd;
	enum query_format	 format;
	const char		*domain, *since, *until;
	int64_t			 limit;		/* -1: the default */
	int			 width;		/* 0: the default */
};

/* What the newer commands need besides struct q. */
struct qx {
	const char	*arg;		/* report's ID */
	int		 scenario;	/* on scenario_db */
	int		 color;
};

/*
 * Run q (and x, NULL: none) through the engine: on the fixture, or on
 * the scenario. Returns the output (free); *rc and err: how it ended.
 */
static char *
run_engine(const struct q *q, const struct qx *x, int *rc, struct dm_err *err)
{
	struct query_opts	 o;
	const struct query_cmd	*cmd;
	PGconn			*conn;
	FILE			*f;
	char			*out = NULL;
	size_t			 len = 0;

	ck_assert_ptr_nonnull(cmd = query_find(q->cmd));
	query_opts_init(&o);
	o.format = q->format;
	o.domain = q->domain;
	o.limit = q->limit;
	o.now = NOW;
	if (q->width > 0)
		o.width = q->width;
	if (x != NULL) {
		o.arg = x->arg;
		o.color = x->color;
	}
	if (q->since != NULL) {
		ck_assert_msg(query_parse_time(q->since, NOW, &o.since,
		    err) == 0, "%s", err->msg);
		o.has_since = 1;
	}
	if (q->until != NULL) {
		ck_assert_msg(query_parse_time(q->until, NOW, &o.until,
		    err) == 0, "%s", err->msg);
		o.has_until = 1;
	}
	conn = query_connect(x != NULL && x->scenario ? scenario_db :
	    fixture_db, err);
	ck_assert_msg(conn != NULL, "connect: %s", err->msg);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	*rc = query_run(conn, cmd, &o, f, err);
	fclose(f);
	PQfinish(conn);
	return out;
}

/* Run q (and x) through the engine; returns the output (free). */
static char *
run_queryx(const struct q *q, const struct qx *x)
{
	struct dm_err	 err = { 0 };
	char		*out;
	int		 rc;

	out = run_engine(q, x, &rc, &err);
	ck_assert_msg(rc == 0, "%s: %s", q->cmd, err.msg);
	return out;
}

/* Run q on the fixture through the engine; returns the output (free). */
static char *
run_query(const struct q *q)
{
	return run_queryx(q, NULL);
}

/* s with control bytes visible, for failure messages. */
static const char *
visible(const char *s)
{
	static struct buf	 b;

	buf_clear(&b);
	buf_init(&b, 64 << 10);
	dm_escape(&b, s, 0);
	buf_add(&b, "", 0);	/* buf_cstr() of an empty buf: no NUL */
	return buf_cstr(&b);
}

/* --- golden files: every command in every format ----------------------- */

#define F_ALL	7

static const struct golden {
	const char	*file;	/* tests/data/query/golden/<file>.<ext> */
	struct q	 q;
	unsigned	 formats;	/* 1 << enum query_format */
} golden[] = {
	{ "summary", { "summary", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	{ "summary-domain",
	    { "summary", 0, "EXAMPLE.Org", NULL, NULL, -1, 0 }, F_ALL },
	{ "summary-range",
	    { "summary", 0, NULL, "2024-03-01", "2024-03-03", -1, 0 }, F_ALL },
	{ "summary-relative",
	    { "summary", 0, NULL, "3d", NULL, -1, 0 }, F_ALL },
	{ "summary-limit", { "summary", 0, NULL, NULL, NULL, 1, 0 }, F_ALL },
	/*
	 * a report counts when its begin is in the range (DESIGN.md):
	 * r2 (example.com) begins 2024-03-02T00:00, before since
	 */
	{ "summary-midday",
	    { "summary", 0, NULL, "2024-03-02T12:00:00Z", NULL, -1, 0 },
	    F_ALL },
	{ "summary-wide", { "summary", 0, NULL, NULL, NULL, -1, 120 }, 1 },

	{ "reports", { "reports", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	{ "reports-domain",
	    { "reports", 0, "Example.COM", NULL, NULL, -1, 0 }, F_ALL },
	/* since inclusive (given with an offset), until exclusive */
	{ "reports-range",
	    { "reports", 0, NULL, "2024-03-02T01:00:00+01:00",
	    "2024-03-03T00:00:00Z", -1, 0 }, F_ALL },
	{ "reports-relative",
	    { "reports", 0, NULL, "72h", "1d", -1, 0 }, F_ALL },
	{ "reports-limit", { "reports", 0, NULL, NULL, NULL, 2, 0 }, F_ALL },
	{ "reports-wide", { "reports", 0, NULL, NULL, NULL, -1, 200 }, 1 },

	{ "ingest", { "ingest", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	{ "ingest-domain",
	    { "ingest", 0, "example.com", NULL, NULL, -1, 0 }, F_ALL },
	/* microseconds count: the 10:00:00.123456 entry is in */
	{ "ingest-range",
	    { "ingest", 0, NULL, "2024-03-02T10:00:00.123456Z",
	    "2024-03-04T08:15:00Z", -1, 0 }, F_ALL },
	{ "ingest-relative",
	    { "ingest", 0, NULL, "2d", NULL, -1, 0 }, F_ALL },
	{ "ingest-limit", { "ingest", 0, NULL, NULL, NULL, 2, 0 }, F_ALL },
	{ "ingest-wide", { "ingest", 0, NULL, NULL, NULL, -1, 250 }, 1 },
	/* the reports' begin in range: times are days at midnight */
	{ "reports-days",
	    { "reports", 0, "example.com", NULL, NULL, -1, 0 }, 1 },

	{ "sources", { "sources", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	{ "sources-domain",
	    { "sources", 0, "example.ORG", NULL, NULL, -1, 0 }, F_ALL },
	{ "sources-range",
	    { "sources", 0, NULL, "2024-03-01", "2024-03-03", -1, 0 }, F_ALL },
	{ "sources-limit", { "sources", 0, NULL, NULL, NULL, 2, 0 }, F_ALL },
	{ "sources-empty",
	    { "sources", 0, "example.net", NULL, NULL, -1, 0 }, F_ALL },
	{ "sources-wide", { "sources", 0, NULL, NULL, NULL, -1, 120 }, 1 },

	{ "failures", { "failures", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	{ "failures-domain",
	    { "failures", 0, "example.com", NULL, NULL, -1, 0 }, F_ALL },
	{ "failures-range",
	    { "failures", 0, NULL, "2024-02-01", "2024-03-01", -1, 0 },
	    F_ALL },
	{ "failures-limit", { "failures", 0, NULL, NULL, NULL, 1, 0 }, F_ALL },
	/* example.org's only source passes */
	{ "failures-empty",
	    { "failures", 0, "example.org", NULL, NULL, -1, 0 }, F_ALL },
	{ "failures-wide", { "failures", 0, NULL, NULL, NULL, -1, 250 }, 1 },
	/* rejected inputs have no report, hence no domain */
	{ "ingest-empty",
	    { "ingest", 0, "example.org", NULL, NULL, -1, 0 }, F_ALL },

	{ "forensic", { "forensic", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	/* any Reported-Domain; the one without an arrival date is in */
	{ "forensic-domain",
	    { "forensic", 0, "EXAMPLE.com", NULL, NULL, -1, 0 }, F_ALL },
	{ "forensic-second-domain",
	    { "forensic", 0, "sub.example.org", NULL, NULL, -1, 0 }, F_ALL },
	/* arrival in [since, until): 2024-03-03T08:00 is out */
	{ "forensic-range",
	    { "forensic", 0, NULL, "2024-03-01", "2024-03-03T08:00:00Z", -1,
	    0 }, F_ALL },
	{ "forensic-limit", { "forensic", 0, NULL, NULL, NULL, 1, 0 }, F_ALL },
	{ "forensic-empty",
	    { "forensic", 0, "example.net", NULL, NULL, -1, 0 }, F_ALL },
	{ "forensic-wide", { "forensic", 0, NULL, NULL, NULL, -1, 250 }, 1 },
};

/*
 * The newer commands, mostly on the scenario (see scenario.sql; "now"
 * is 2024-03-05, so new-sources looks at [02-27, 03-05) and readiness
 * at [02-04, 03-05) by default).
 */
static const struct goldenx {
	struct golden	 g;
	struct qx	 x;
} goldenx[] = {
	/* two reports share the ID: newest first, each whole */
	{ { "report", { "report", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	    { "shared-id", 1, 0 } },
	{ { "report-domain",
	    { "report", 0, "SHOP.example", NULL, NULL, -1, 0 }, F_ALL },
	    { "shared-id", 1, 0 } },
	/* by begin: the example.org one */
	{ { "report-range",
	    { "report", 0, NULL, "2024-03-02", "2024-03-03", -1, 0 }, F_ALL },
	    { "shared-id", 1, 0 } },
	/* 7 records, 2 shown: the table says 5 more */
	{ { "report-limit", { "report", 0, NULL, NULL, NULL, 2, 0 }, F_ALL },
	    { "g-1", 1, 0 } },
	/* metadata: ESC, quotes, a comma, a formula prefix in the ID */
	{ { "report-hostile-meta", { "report", 0, NULL, NULL, NULL, -1, 0 },
	    F_ALL }, { "=HYPERLINK(\"http://evil/\")", 1, 0 } },
	/* records: hostile header_from and selector */
	{ { "report-hostile-records",
	    { "report", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	    { "r2", 1, 0 } },
	/* results not canonical as sent; a record that passes */
	{ { "report-raw", { "report", 0, NULL, NULL, NULL, -1, 0 }, F_ALL },
	    { "1111", 1, 0 } },
	{ { "report-wide", { "report", 0, NULL, NULL, NULL, -1, 250 }, 1 },
	    { "shared-id", 1, 0 } },
	/* the dispositions quarantine and reject in red */
	{ { "report-color", { "report", 0, NULL, NULL, NULL, -1, 0 }, 1 },
	    { "r2", 1, 1 } },

	/*
	 * on the scenario: override reasons (with and without a hostile
	 * comment), reporters, first and last seen
	 */
	{ { "failures-scenario",
	    { "failures", 0, "shop.example", NULL, NULL, -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "failures-scenario-wide",
	    { "failures", 0, "shop.example", NULL, NULL, -1, 250 }, 1 },
	    { NULL, 1, 0 } },

	{ { "new-sources", { "new-sources", 0, NULL, NULL, NULL, -1, 0 },
	    F_ALL }, { NULL, 1, 0 } },
	/* 192.0.2.10 is old here (January), new for example.org */
	{ { "new-sources-domain",
	    { "new-sources", 0, "Shop.Example", NULL, NULL, -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "new-sources-range",
	    { "new-sources", 0, NULL, "2024-02-01", "2024-03-01", -1, 0 },
	    F_ALL }, { NULL, 1, 0 } },
	/* since: 7 days before until */
	{ { "new-sources-until",
	    { "new-sources", 0, NULL, NULL, "2024-03-02", -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "new-sources-limit",
	    { "new-sources", 0, NULL, NULL, NULL, 2, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "new-sources-empty",
	    { "new-sources", 0, "shop.example", "2024-03-02", NULL, -1, 0 },
	    F_ALL }, { NULL, 1, 0 } },
	{ { "new-sources-wide",
	    { "new-sources", 0, NULL, NULL, NULL, -1, 250 }, 1 },
	    { NULL, 1, 0 } },

	/* every rule of fix; not ready */
	{ { "readiness",
	    { "readiness", 0, "shop.example", NULL, NULL, -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	/* only a forwarder fails, 2 of 250,002 messages: <0.01% */
	{ { "readiness-since",
	    { "readiness", 0, "shop.example", "2024-03-01", NULL, -1, 0 },
	    F_ALL }, { NULL, 1, 0 } },
	/* the policy of the newest report before until: g-1's */
	{ { "readiness-range",
	    { "readiness", 0, "shop.example", "2024-02-01", "2024-02-25", -1,
	    0 }, F_ALL }, { NULL, 1, 0 } },
	/*
	 * the hostile selector; 192.0.2.9 signs for another domain (a
	 * sender set up wrong, though it never passes): not ready
	 */
	{ { "readiness-hostile",
	    { "readiness", 0, "example.com", NULL, NULL, -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "readiness-reject",
	    { "readiness", 0, "example.org", NULL, NULL, -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "readiness-empty",
	    { "readiness", 0, "example.net", NULL, NULL, -1, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "readiness-limit",
	    { "readiness", 0, "shop.example", NULL, NULL, 2, 0 }, F_ALL },
	    { NULL, 1, 0 } },
	{ { "readiness-wide",
	    { "readiness", 0, "example.com", NULL, NULL, -1, 250 }, 1 },
	    { NULL, 1, 0 } },
	{ { "readiness-color",
	    { "readiness", 0, "shop.example", NULL, NULL, -1, 0 }, 1 },
	    { NULL, 1, 1 } },
	{ { "readiness-color-ready",
	    { "readiness", 0, "shop.example", "2024-03-01", NULL, -1, 0 },
	    1 }, { NULL, 1, 1 } },
	{ { "failures-color", { "failures", 0, NULL, NULL, NULL, -1, 0 }, 1 },
	    { NULL, 0, 1 } },
};

static const char *const fmt_ext[] = { "txt", "csv", "json" };

/*
 * The n-th (case, format) pair that golden[] and goldenx[] ask for,
 * or the count of them when n is past the end. *xp: NULL for golden[].
 */
static int
golden_pair(int n, const struct golden **gp, const struct qx **xp,
    enum query_format *fp)
{
	const struct golden	*g;
	size_t			 i;
	int			 f, k = 0;

	for (i = 0; i < nitems(golden) + nitems(goldenx); i++) {
		g = i < nitems(golden) ? &golden[i] :
		    &goldenx[i - nitems(golden)].g;
		for (f = QUERY_TABLE; f <= QUERY_JSON; f++) {
			if ((g->formats & (1u << f)) == 0)
				continue;
			if (k++ == n) {
				*gp = g;
				*xp = i < nitems(golden) ? NULL :
				    &goldenx[i - nitems(golden)].x;
				*fp = (enum query_format)f;
			}
		}
	}
	return k;
}

/* One test per golden case and format. */
START_TEST(test_query_golden_output)
{
	const struct golden	*g = NULL;
	const struct qx		*x = NULL;
	struct q		 q;
	struct buf		 want;
	char			 file[128], path[PATH_MAX];
	const char		*dir;
	char			*got;
	FILE			*f;

	golden_pair(_i, &g, &x, &q.format);
	ck_assert_ptr_nonnull(g);
	q.cmd = g->q.cmd;
	q.domain = g->q.domain;
	q.since = g->q.since;
	q.until = g->q.until;
	q.limit = g->q.limit;
	q.width = g->q.width;
	snprintf(file, sizeof(file), "%s.%s", g->file, fmt_ext[q.format]);
	got = run_queryx(&q, x);
	if ((dir = getenv("DM_QUERY_GOLDEN_OUT")) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fputs(got, f);
		fclose(f);
	}
	buf_init(&want, 1 << 20);
	snprintf(path, sizeof(path), "golden/%s", file);
	test_load(&want, "query", path);
	ck_assert_msg(strcmp(got, buf_cstr(&want)) == 0,
	    "%s: got\n%s", file, visible(got));
	buf_clear(&want);
	free(got);
}
END_TEST

/* --- what the golden files hold, stated where it can be read ----------- */

START_TEST(test_query_summary_figures)
{
	struct q	 q = { "summary", QUERY_CSV, NULL, NULL, NULL, -1, 0 };
	char		*got = run_query(&q);

	/* 1,000,000 + 234,567 + 10 + 5; pass where dkim or spf is pass */
	ck_assert_str_eq(got,
	    "domain,reports,messages,dmarc_pass,dmarc_fail,dkim_aligned,"
	    "spf_aligned,quarantined,rejected\r\n"
	    "example.com,2,1234582,1000010,234572,1000000,1000010,5,234567\r\n"
	    "example.org,2,7,7,0,7,0,0,0\r\n");
	free(got);
}
END_TEST

START_TEST(test_query_table_thousands_separators)
{
	struct q	 q = { "summary", QUERY_TABLE, NULL, NULL, NULL, -1,
			    0 };
	char		*got = run_query(&q);

	/* and exactly 80 columns wide */
	ck_assert_str_eq(got,
	    "domain      reports  messages      pass    fail      dkim"
	    "       spf quar  reject\n"
	    "----------- ------- --------- --------- ------- ---------"
	    " --------- ---- -------\n"
	    "example.com       2 1,234,582 1,000,010 234,572 1,000,000"
	    " 1,000,010    5 234,567\n"
	    "example.org       2         7         7       0         7"
	    "         0    0       0\n");
	free(got);
}
END_TEST

START_TEST(test_query_csv_neutralises_formulas)
{
	struct q	 q = { "reports", QUERY_CSV, NULL, NULL, NULL, -1, 0 };
	char		*got = run_query(&q);

	/* quoted for the quotes, ' in front of = and - */
	ck_assert_ptr_nonnull(strstr(got,
	    "\"Ev\x1b[31mil, \"\"Corp\"\"\",\"'=HYPERLINK(\"\"http://evil/"
	    "\"\")\",example.org,"));
	ck_assert_ptr_nonnull(strstr(got, ",'-tab\there\x01,"));
	free(got);

	q.cmd = "ingest";
	got = run_query(&q);
	/* the reason: = , " and a newline */
	ck_assert_ptr_nonnull(strstr(got,
	    ",rejected,\"'=cmd|' /C calc'!A0, xml: line 3: \"\"count\"\" is "
	    "not a number\nsecond line\",,\r\n"));
	free(got);
}
END_TEST

START_TEST(test_query_json_escapes_controls_and_keeps_unicode)
{
	struct q	 q = { "reports", QUERY_JSON, NULL, NULL, NULL, -1, 0 };
	char		*got = run_query(&q);
	const char	*p;

	ck_assert_ptr_nonnull(strstr(got,
	    "\"org_name\": \"\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 "
	    "\xe6\x97\xa5\xe6\x9c\xac\\u2028\", "
	    "\"report_id\": \"-tab\\u0009here\\u0001\""));
	ck_assert_ptr_nonnull(strstr(got,
	    "\"org_name\": \"Ev\\u001b[31mil, \\\"Corp\\\"\""));
	for (p = got; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n',
		    "raw control byte 0x%02x", (unsigned char)*p);
	free(got);
}
END_TEST

START_TEST(test_query_table_shows_escapes_not_controls)
{
	struct q	 q = { "reports", QUERY_TABLE, NULL, NULL, NULL, -1,
			    200 };
	char		*got = run_query(&q);
	const char	*p;

	ck_assert_ptr_nonnull(strstr(got, "Ev\\x1b[31mil, \"Corp\""));
	ck_assert_ptr_nonnull(strstr(got, "\xe6\x9c\xac\\u2028"));
	ck_assert_ptr_nonnull(strstr(got, "-tab\\there\\x01"));
	for (p = got; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n',
		    "raw control byte 0x%02x", (unsigned char)*p);
	free(got);

	q.cmd = "ingest";
	q.width = 400;
	got = run_query(&q);
	ck_assert_ptr_nonnull(strstr(got,
	    "=cmd|' /C calc'!A0, xml: line 3: \"count\" is not a number"
	    "\\nsecond line"));
	free(got);
}
END_TEST

START_TEST(test_query_empty_result)
{
	struct q	 q = { "ingest", QUERY_TABLE, "example.org", NULL, NULL,
			    -1, 0 };
	char		*got;

	got = run_query(&q);
	ck_assert_str_eq(got,
	    "time  source  input  message_id  sha256  outcome  reason  "
	    "org_name  report_id\n"
	    "----  ------  -----  ----------  ------  -------  ------  "
	    "--------  ---------\n"
	    "(no rows)\n");
	free(got);
	q.format = QUERY_CSV;
	got = run_query(&q);
	ck_assert_str_eq(got, "time,source,input,message_id,sha256,outcome,"
	    "reason,org_name,report_id\r\n");
	free(got);
	q.format = QUERY_JSON;
	got = run_query(&q);
	ck_assert_str_eq(got, "[]\n");
	free(got);
	/* too wide for 80 columns, but no row lost anything */
	q.cmd = "failures";
	q.format = QUERY_TABLE;
	q.width = 80;
	got = run_query(&q);
	ck_assert_msg(strstr(got, "left out") == NULL && strlen(got) > 10 &&
	    strcmp(got + strlen(got) - 10, "(no rows)\n") == 0, "%s", got);
	free(got);
}
END_TEST

START_TEST(test_query_domain_is_a_parameter)
{
	struct q	 q = { "reports", QUERY_CSV, "x' OR '1'='1", NULL, NULL,
			    -1, 0 };
	char		*got = run_query(&q);

	ck_assert_str_eq(got,
	    "org_name,report_id,domain,begin,end,records,messages\r\n");
	free(got);
}
END_TEST

START_TEST(test_query_table_says_when_rows_are_left_out)
{
	struct q	 q = { "reports", QUERY_TABLE, NULL, NULL, NULL, 3, 0 };
	char		*got = run_query(&q);

	ck_assert_ptr_nonnull(strstr(got, "\n(more rows not shown: --limit N "
	    "for more, --limit 0 for all)\n"));
	free(got);
	q.limit = 4;		/* exactly all: nothing left out */
	got = run_query(&q);
	ck_assert_ptr_null(strstr(got, "(more rows"));
	free(got);
}
END_TEST

START_TEST(test_query_session_needs_the_schema)
{
	struct dm_err	 err = { 0 };
	PGconn		*conn;

	conn = query_connect(empty_db, &err);
	ck_assert_ptr_null(conn);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_str_eq(err.msg,
	    "database has no dmarc schema: run 'dmarcd migrate'");
}
END_TEST

START_TEST(test_query_connect_says_host_and_reason)
{
	struct dm_err	 err = { 0 };

	ck_assert_ptr_null(query_connect("host=127.0.0.1 port=1", &err));
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_msg(strstr(err.msg, "database unreachable (host 127.0.0.1,"
	    " port 1): ") == err.msg, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "Connection refused") != NULL, "%s",
	    err.msg);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
}
END_TEST

START_TEST(test_query_connect_refuses_bad_conninfo)
{
	struct dm_err	 err = { 0 };

	ck_assert_ptr_null(query_connect("host=127.0.0.1 prot=1", &err));
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_msg(strstr(err.msg, "bad conninfo: ") == err.msg &&
	    strstr(err.msg, "\"prot\"") != NULL, "%s", err.msg);
	ck_assert_ptr_null(query_connect("postgresql://[::1", &err));
	ck_assert_int_eq(err.scope, DM_ECONFIG);
}
END_TEST

/*
 * A store migrated less, or further, than dmarcq's SQL is written for:
 * refused at connection with what to do, not at the first query with
 * "column does not exist".
 */
START_TEST(test_query_session_checks_the_schema_version)
{
	struct dm_err	 err = { 0 };
	PGconn		*conn;
	PGresult	*res;
	char		 sql[256], want[256];
	int		 v, top = store_newest_migration();

	conn = PQconnectdb(empty_db);
	ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
	for (v = top - 1; v <= top + 1; v++) {
		/* rolled back: empty_db stays empty */
		snprintf(sql, sizeof(sql), "BEGIN; CREATE SCHEMA dmarc; "
		    "CREATE TABLE dmarc.schema_version (version int); "
		    "INSERT INTO dmarc.schema_version SELECT "
		    "generate_series(1, %d)", v);
		res = PQexec(conn, sql);
		ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
		PQclear(res);
		if (v < top)
			snprintf(want, sizeof(want), "the store's schema is "
			    "version %d, this dmarcq needs %d: run 'dmarcd "
			    "migrate'", v, top);
		else if (v > top)
			snprintf(want, sizeof(want), "the store's schema is "
			    "version %d, newer than this dmarcq knows (%d): "
			    "upgrade dmarcq", v, top);
		if (v == top)
			ck_assert_msg(query_session(conn, &err) == 0, "%s",
			    err.msg);
		else {
			ck_assert_int_eq(query_session(conn, &err), -1);
			ck_assert_int_eq(err.scope, DM_ESTORE);
			ck_assert_str_eq(err.msg, want);
		}
		PQclear(PQexec(conn, "ROLLBACK"));
	}
	PQfinish(conn);
}
END_TEST

/* A schema_version without the tables: a broken migration. */
START_TEST(test_query_run_says_migrate_when_tables_are_missing)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGconn			*conn;
	PGresult		*res;
	FILE			*f;
	char			*out = NULL, sql[256];
	size_t			 len = 0;
	int			 fmt;

	conn = PQconnectdb(empty_db);
	ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
	/* in a transaction that is rolled back: empty_db stays empty */
	snprintf(sql, sizeof(sql), "BEGIN; CREATE SCHEMA dmarc;"
	    " CREATE TABLE dmarc.schema_version (version int);"
	    " INSERT INTO dmarc.schema_version VALUES (%d)",
	    store_newest_migration());
	res = PQexec(conn, sql);
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	ck_assert_msg(query_session(conn, &err) == 0, "%s", err.msg);
	for (fmt = QUERY_TABLE; fmt <= QUERY_JSON; fmt++) {
		query_opts_init(&o);
		o.format = (enum query_format)fmt;
		ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
		ck_assert_int_eq(query_run(conn, query_find("summary"), &o, f,
		    &err), -1);
		fclose(f);
		ck_assert_int_eq(err.scope, DM_ESTORE);
		ck_assert_str_eq(err.msg, "database has no dmarc schema: run "
		    "'dmarcd migrate'");
		ck_assert_str_eq(out, "");	/* not even a header */
		free(out);
		out = NULL;
		/* the failed statement aborted the transaction: redo it */
		res = PQexec(conn, "ROLLBACK");
		PQclear(res);
		res = PQexec(conn, sql);
		PQclear(res);
	}
	PQfinish(conn);
}
END_TEST

/* --- times, limits, formats, domains ----------------------------------- */

static const struct {
	const char	*in;
	int64_t		 want;	/* seconds */
	int64_t		 frac;	/* plus microseconds */
} time_good[] = {
	{ "2024-03-05", 1709596800, 0 },
	{ "2024-02-29", 1709164800, 0 },			/* leap day */
	{ "1970-01-01", 0, 0 },
	{ "0001-01-01", INT64_C(-62135596800), 0 },
	{ "9999-12-31T23:59:59Z", INT64_C(253402300799), 0 },
	{ "2024-03-01T12:00:00Z", 1709294400, 0 },
	{ "2024-03-01t12:00:00z", 1709294400, 0 },
	{ "2024-03-01 12:00:00Z", 1709294400, 0 },
	{ "2024-03-01T12:00Z", 1709294400, 0 },
	{ "2024-03-01T14:00:00+02:00", 1709294400, 0 },
	{ "2024-03-01T14:00:00+0200", 1709294400, 0 },
	{ "2024-03-01T14:00+02", 1709294400, 0 },
	{ "2024-03-01T07:00:00-05:00", 1709294400, 0 },
	{ "2024-03-01T12:00:00.5Z", 1709294400, 500000 },
	{ "2024-03-01T12:00:00,123456789Z", 1709294400, 123456 },
	{ "2024-03-01T00:30:00+01:00", 1709249400, 0 },	/* the day before */
	{ "0d", 1709596800, 0 },
	{ "3d", 1709337600, 0 },
	{ "72h", 1709337600, 0 },
	{ "1h", 1709593200, 0 },
	{ "007d", 1708992000, 0 },
	{ "100000d", 1709596800 - INT64_C(100000) * 86400, 0 },
};

START_TEST(test_query_parse_time_good)
{
	struct dm_err	 err = { 0 };
	int64_t		 t = -1;

	ck_assert_msg(query_parse_time(time_good[_i].in, NOW, &t, &err) == 0,
	    "%s: %s", time_good[_i].in, err.msg);
	ck_assert_msg(t == time_good[_i].want * USEC + time_good[_i].frac,
	    "%s: %lld", time_good[_i].in, (long long)t);
}
END_TEST

static const struct {
	const char	*in;
	const char	*why;	/* in err.msg */
} time_bad[] = {
	{ "", "empty time" },
	{ "yesterday", "use YYYY-MM-DD" },
	{ "2024-3-1", "use YYYY-MM-DD" },
	{ "2024/03/01", "use YYYY-MM-DD" },
	{ "24-03-01", "use YYYY-MM-DD" },
	{ "2024-03-01T12:00:00", "no zone: add Z for UTC" },
	{ "2024-03-01T12:00", "no zone" },
	{ "2024-03-01T12Z", "use YYYY-MM-DD" },
	{ "2024-03-01T12:00:00ZZ", "use YYYY-MM-DD" },
	{ "2024-03-01T12:00:00+2", "use YYYY-MM-DD" },
	{ "2024-03-01T12:00:00+02:", "use YYYY-MM-DD" },
	{ "2024-03-01T12:00:00+02:000", "use YYYY-MM-DD" },
	{ "2024-03-01T12:00:00.Z", "use YYYY-MM-DD" },
	{ "2024-03-01x", "use YYYY-MM-DD" },
	{ " 2024-03-01", "use YYYY-MM-DD" },
	{ "2023-02-29", "no such date" },
	{ "2024-13-01", "no such date" },
	{ "2024-00-10", "no such date" },
	{ "2024-04-31", "no such date" },
	{ "0000-01-01", "no such date" },
	{ "2024-03-01T24:00:00Z", "out of range" },
	{ "2024-03-01T12:60:00Z", "out of range" },
	{ "2024-03-01T12:00:60Z", "out of range" },
	{ "2024-03-01T12:00:00+24:00", "out of range" },
	{ "d", "use YYYY-MM-DD" },
	{ "-3d", "use YYYY-MM-DD" },
	{ "3 d", "use YYYY-MM-DD" },
	{ "3w", "use YYYY-MM-DD" },
	{ "3D", "use YYYY-MM-DD" },
	{ "100001d", "over 100000 days back" },
	{ "2400001h", "over 100000 days back" },
	{ "99999999999999999999999999999999999999d", "over 100000 days" },
	{ "2024-03-01\x1b[2J", "\\x1b[2J" },	/* shown escaped */
};

START_TEST(test_query_parse_time_bad)
{
	struct dm_err	 err = { 0 };
	int64_t		 t = 42;

	ck_assert_msg(query_parse_time(time_bad[_i].in, NOW, &t, &err) == -1,
	    "'%s' accepted", visible(time_bad[_i].in));
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_msg(strstr(err.msg, time_bad[_i].why) != NULL,
	    "'%s': %s", visible(time_bad[_i].in), err.msg);
	ck_assert_int_eq(t, 42);
}
END_TEST

START_TEST(test_query_parse_limit_and_format)
{
	struct dm_err		 err = { 0 };
	enum query_format	 f;
	int64_t			 l = -1;

	ck_assert_int_eq(query_parse_limit("0", &l, &err), 0);
	ck_assert_int_eq(l, 0);
	ck_assert_int_eq(query_parse_limit("9223372036854775806", &l, &err),
	    0);
	ck_assert_int_eq(l, INT64_MAX - 1);
	ck_assert_int_eq(query_parse_limit("25", &l, &err), 0);
	ck_assert_int_eq(l, 25);
	ck_assert_int_eq(query_parse_limit("9223372036854775807", &l, &err),
	    -1);
	ck_assert_int_eq(query_parse_limit("-1", &l, &err), -1);
	ck_assert_int_eq(query_parse_limit(" 5", &l, &err), -1);
	ck_assert_int_eq(query_parse_limit("5x", &l, &err), -1);
	ck_assert_int_eq(query_parse_limit("", &l, &err), -1);
	ck_assert_str_eq(err.msg, "bad limit \"\": a number of rows, 0 for "
	    "no limit");
	ck_assert_int_eq(l, 25);

	ck_assert_int_eq(query_parse_format("json", &f, &err), 0);
	ck_assert_int_eq(f, QUERY_JSON);
	ck_assert_int_eq(query_parse_format("csv", &f, &err), 0);
	ck_assert_int_eq(f, QUERY_CSV);
	ck_assert_int_eq(query_parse_format("table", &f, &err), 0);
	ck_assert_int_eq(f, QUERY_TABLE);
	ck_assert_int_eq(query_parse_format("JSON", &f, &err), -1);
	ck_assert_str_eq(err.msg, "bad format \"JSON\": table, csv or json");
}
END_TEST

START_TEST(test_query_default_limit_by_format)
{
	struct query_opts	 o;

	query_opts_init(&o);
	ck_assert_int_eq(query_limit(&o), QUERY_TABLE_LIMIT);
	ck_assert_int_eq(QUERY_TABLE_LIMIT, 50);
	o.format = QUERY_CSV;
	ck_assert_int_eq(query_limit(&o), 0);
	o.format = QUERY_JSON;
	ck_assert_int_eq(query_limit(&o), 0);
	o.limit = 7;
	ck_assert_int_eq(query_limit(&o), 7);
	o.format = QUERY_TABLE;
	o.limit = 0;
	ck_assert_int_eq(query_limit(&o), 0);
}
END_TEST

START_TEST(test_query_parse_domain)
{
	struct dm_err	 err = { 0 };
	char		 d[256], longd[300];

	ck_assert_int_eq(query_parse_domain("Example.COM", d, sizeof(d),
	    &err), 0);
	ck_assert_str_eq(d, "example.com");
	ck_assert_int_eq(query_parse_domain("B\xc3\xbc" "cher.DE", d,
	    sizeof(d), &err), 0);
	ck_assert_str_eq(d, "b\xc3\xbc" "cher.de");
	ck_assert_int_eq(query_parse_domain("", d, sizeof(d), &err), -1);
	ck_assert_int_eq(query_parse_domain("a\nb", d, sizeof(d), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "control characters"));
	ck_assert_int_eq(query_parse_domain("\xff", d, sizeof(d), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid UTF-8"));
	memset(longd, 'a', 256);
	longd[256] = '\0';
	ck_assert_int_eq(query_parse_domain(longd, d, sizeof(d), &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "over 255 bytes"));
}
END_TEST

/* --- rendering without a database: synthetic results ------------------- */

static const struct query_col synth_cols[] = {
	{ "name", NULL, QUERY_TEXT, 0, "text", 0, 0, 0 },
	{ "n", NULL, QUERY_COUNT, 0, "a count", 0, 0, 0 },
	{ "at", NULL, QUERY_TIME, 0, "a time", 0, 0, 0 },
};
static const struct query_cmd synth = { "synth", "test", "test", "",
	synth_cols, nitems(synth_cols), NULL, NULL, NULL, 0, 0 };

/* A result with synth's columns and the given rows (NULL: SQL NULL). */
static PGresult *
synth_result(const char *const cells[][3], int nrows)
{
	PGresAttDesc	 att[3];
	PGresult	*res;
	int		 r, f;

	memset(att, 0, sizeof(att));
	for (f = 0; f < 3; f++)
		att[f].name = (char *)synth_cols[f].name;
	ck_assert_ptr_nonnull(res = PQmakeEmptyPGresult(NULL,
	    PGRES_TUPLES_OK));
	ck_assert_int_eq(PQsetResultAttrs(res, 3, att), 1);
	for (r = 0; r < nrows; r++)
		for (f = 0; f < 3; f++)
			ck_assert_int_eq(PQsetvalue(res, r, f,
			    (char *)cells[r][f], cells[r][f] == NULL ? -1 :
			    (int)strlen(cells[r][f])), 1);
	return res;
}

static char *
render(const char *const cells[][3], int nrows, enum query_format fmt,
    int width)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGresult		*res = synth_result(cells, nrows);
	FILE			*f;
	char			*out = NULL;
	size_t			 len = 0;

	query_opts_init(&o);
	o.format = fmt;
	if (width > 0)
		o.width = width;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_msg(query_render(&synth, res, nrows, 0, &o, f, &err) == 0,
	    "%s", err.msg);
	fclose(f);
	PQclear(res);
	return out;
}

START_TEST(test_query_table_cuts_to_width)
{
	static const char *const cells[][3] = {
		{ "abcdefghijklmnopqrstuvwxyz", "1234",
		    "2024-03-01 12:34:56+00" },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"	/* 3 CJK ... */
		    "\xe3\x81\xa7\xe3\x81\x99",	/* ... and 2 kana */
		    "-5", "2024-03-01 12:34:56.5+00" },
		{ NULL, NULL, NULL },
	};
	char	*got = render(cells, 3, QUERY_TABLE, 29);

	/* 29 = 5 + 1 + 5 + 2 + 16: name is cut to its narrowest, 5 */
	ck_assert_str_eq(got,
	    "name      n  at\n"
	    "----- -----  ----------------\n"
	    "abcd\xe2\x80\xa6 1,234  2024-03-01 12:34\n"
	    "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6    -5  2024-03-01 12:34\n"
	    "\n");
	free(got);
	/* wide characters take two columns */
	got = render(cells, 3, QUERY_TABLE, 80);
	ck_assert_str_eq(got,
	    "name                           n  at\n"
	    "-------------------------- -----  ----------------\n"
	    "abcdefghijklmnopqrstuvwxyz 1,234  2024-03-01 12:34\n"
	    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xa7\xe3\x81\x99"
	    "                    -5  2024-03-01 12:34\n"
	    "\n");
	free(got);
}
END_TEST

START_TEST(test_query_render_hostile_text)
{
	static const char *const cells[][3] = {
		/* invalid UTF-8, C1 CSI, bidi override, DEL, backslash */
		{ "a\xff" "b\xc2\x9b" "31m\xe2\x80\xae" "c\x7f\\", "007",
		    "infinity" },
		{ "@SUM(A1)", "12x", "2024-03-01 12:00:00+01" },
	};
	char	*got;

	got = render(cells, 2, QUERY_TABLE, 200);
	ck_assert_str_eq(got,
	    "name                           n  at\n"
	    "---------------------------- ---  ----------------------\n"
	    "a\\xffb\\u009b31m\\u202ec\\x7f\\\\ 007  infinity\n"
	    "@SUM(A1)                     12x  2024-03-01 12:00:00+01\n");
	free(got);
	got = render(cells, 2, QUERY_CSV, 0);
	ck_assert_str_eq(got, "name,n,at\r\n"
	    "a\xef\xbf\xbd" "b\xc2\x9b" "31m\xe2\x80\xae" "c\x7f\\,"
	    "007,infinity\r\n"
	    "'@SUM(A1),12x,2024-03-01 12:00:00+01\r\n");
	free(got);
	got = render(cells, 2, QUERY_JSON, 0);
	/* "007" and "12x" are no JSON numbers: they stay strings */
	ck_assert_str_eq(got, "[\n"
	    "  {\"name\": \"a\\ufffdb\xc2\x9b" "31m\xe2\x80\xae"
	    "c\\u007f\\\\\", "
	    "\"n\": \"007\", \"at\": \"infinity\"},\n"
	    "  {\"name\": \"@SUM(A1)\", \"n\": \"12x\", "
	    "\"at\": \"2024-03-01 12:00:00+01\"}\n"
	    "]\n");
	free(got);
}
END_TEST

START_TEST(test_query_render_refuses_wrong_shape)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGresult		*res;

	query_opts_init(&o);
	res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	ck_assert_int_eq(query_render(&synth, res, 0, 0, &o, stdout, &err),
	    -1);
	ck_assert_int_eq(err.scope, DM_EINTERNAL);
	ck_assert_str_eq(err.msg, "synth: 0 columns, expected 3");
	PQclear(res);
}
END_TEST

START_TEST(test_query_render_reports_write_errors)
{
	static const char *const cells[][3] = { { "x", "1", NULL } };
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGresult		*res = synth_result(cells, 1);
	FILE			*f;
	int			 fmt;

	for (fmt = QUERY_TABLE; fmt <= QUERY_JSON; fmt++) {
		query_opts_init(&o);
		o.format = (enum query_format)fmt;
		ck_assert_ptr_nonnull(f = fopen("/dev/full", "w"));
		ck_assert_int_eq(query_render(&synth, res, 1, 0, &o, f, &err),
		    -1);
		ck_assert_int_eq(err.scope, DM_EINTERNAL);
		ck_assert_msg(strstr(err.msg, "output: ") == err.msg, "%s",
		    err.msg);
		fclose(f);
	}
	PQclear(res);
}
END_TEST

/* --- json cells, days, left-out columns: synthetic results ------------ */

/* Render cmd over nrows rows of cells (row-major; NULL: SQL NULL). */
static char *
render_cmd(const struct query_cmd *cmd, const char *const *cells, int nrows,
    enum query_format fmt, int width)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGresAttDesc		 att[16];
	PGresult		*res;
	FILE			*f;
	const char		*v;
	char			*out = NULL;
	size_t			 len = 0;
	int			 r, c;

	ck_assert_int_le(cmd->ncols, 16);
	memset(att, 0, sizeof(att));
	for (c = 0; c < cmd->ncols; c++)
		att[c].name = (char *)cmd->cols[c].name;
	ck_assert_ptr_nonnull(res = PQmakeEmptyPGresult(NULL,
	    PGRES_TUPLES_OK));
	ck_assert_int_eq(PQsetResultAttrs(res, cmd->ncols, att), 1);
	for (r = 0; r < nrows; r++)
		for (c = 0; c < cmd->ncols; c++) {
			v = cells[r * cmd->ncols + c];
			ck_assert_int_eq(PQsetvalue(res, r, c, (char *)v,
			    v == NULL ? -1 : (int)strlen(v)), 1);
		}
	query_opts_init(&o);
	o.format = fmt;
	if (width > 0)
		o.width = width;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_msg(query_render(cmd, res, nrows, 0, &o, f, &err) == 0,
	    "%s", err.msg);
	fclose(f);
	PQclear(res);
	return out;
}

static const struct query_col jcols[] = {
	{ "j", NULL, QUERY_JSONV, 0, "json", 0, 0, 0 },
};
static const struct query_cmd jcmd = { "j", "test", "test", "", jcols, 1,
	NULL, NULL, NULL, 0, 0 };

static const struct {
	const char	*in;		/* as PostgreSQL might send it */
	const char	*json;		/* the JSON cell */
	const char	*text;		/* the table cell */
} jcells[] = {
	{ "[\"a.example\", \"b.example\"]", "[\"a.example\", \"b.example\"]",
	    "a.example, b.example" },
	{ "[]", "[]", "" },
	{ "[{\"domain\" : \"example.com\", \"selector\" : \"s1\", "
	    "\"result\" : \"pass\"}, {\"domain\" : \"esp.example.net\", "
	    "\"selector\" : \"k1\", \"result\" : \"fail\"}]",
	    "[{\"domain\": \"example.com\", \"selector\": \"s1\", "
	    "\"result\": \"pass\"}, {\"domain\": \"esp.example.net\", "
	    "\"selector\": \"k1\", \"result\": \"fail\"}]",
	    "example.com/s1=pass, esp.example.net/k1=fail" },
	/* a missing selector is left out; a missing result too, with = */
	{ "[{\"domain\":\"example.com\",\"scope\":null,\"result\":\"fail\"},"
	    "{\"domain\":\"x.example\",\"scope\":\"helo\",\"result\":null}]",
	    "[{\"domain\": \"example.com\", \"scope\": null, "
	    "\"result\": \"fail\"}, {\"domain\": \"x.example\", "
	    "\"scope\": \"helo\", \"result\": null}]",
	    "example.com=fail, x.example/helo" },
	/* what PostgreSQL leaves raw, JSON output escapes like any cell */
	{ "[\"a\xe2\x80\xa8" "b\x7f\"]", "[\"a\\u2028b\\u007f\"]",
	    "a\\u2028b\\x7f" },
	/* escapes decoded, then escaped for the reader */
	{ "[\"\\u001b[2J\\n\\t\\\"\\\\\\/\"]",
	    "[\"\\u001b[2J\\u000a\\u0009\\\"\\\\/\"]",
	    "\\x1b[2J\\n\\t\"\\\\/" },
	{ "[\"\\ud83d\\ude00 \\u00e9\"]", "[\"\xf0\x9f\x98\x80 \xc3\xa9\"]",
	    "\xf0\x9f\x98\x80 \xc3\xa9" },
	/* no NUL, no lone surrogate gets through */
	{ "[\"a\\u0000b\\ud800c\"]", "[\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\"]",
	    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c" },
	{ "[1, -2.5e3, true, false, null]", "[1, -2.5e3, true, false, null]",
	    "1, -2.5e3, true, false, " },
	{ "[[\"x\", \"y\"], {}]", "[[\"x\", \"y\"], {}]", "[x, y], " },
	/* not JSON after all: a JSON string, or the text as it is */
	{ "not json", "\"not json\"", "not json" },
	{ "[\"a\"] x", "\"[\\\"a\\\"] x\"", "[\"a\"] x" },
	{ "[\"a\x01\"]", "\"[\\\"a\\u0001\\\"]\"", "[\"a\\x01\"]" },
	{ "[01]", "\"[01]\"", "[01]" },
	{ "[\"\\x\"]", "\"[\\\"\\\\x\\\"]\"", "[\"\\\\x\"]" },
	{ "{\"a\" 1}", "\"{\\\"a\\\" 1}\"", "{\"a\" 1}" },
	/* deeper than any list built here */
	{ "[[[[[[[[[[1]]]]]]]]]]", "\"[[[[[[[[[[1]]]]]]]]]]\"",
	    "[[[[[[[[[[1]]]]]]]]]]" },
};

START_TEST(test_query_json_cells_in_every_format)
{
	const char	*cells[1] = { jcells[_i].in };
	const char	*p;
	char		 want[1024];
	char		*got;

	got = render_cmd(&jcmd, cells, 1, QUERY_JSON, 0);
	snprintf(want, sizeof(want), "[\n  {\"j\": %s}\n]\n", jcells[_i].json);
	ck_assert_msg(strcmp(got, want) == 0, "%s: got %s",
	    visible(jcells[_i].in), visible(got));
	free(got);
	/* the cell under the head and the rule, without trailing blanks */
	got = render_cmd(&jcmd, cells, 1, QUERY_TABLE, 400);
	snprintf(want, sizeof(want), "%s", jcells[_i].text);
	while (*want != '\0' && want[strlen(want) - 1] == ' ')
		want[strlen(want) - 1] = '\0';
	strcat(want, "\n");
	ck_assert_ptr_nonnull(p = strchr(got, '\n'));
	ck_assert_ptr_nonnull(p = strchr(p + 1, '\n'));
	ck_assert_msg(strcmp(p + 1, want) == 0, "%s: got %s",
	    visible(jcells[_i].in), visible(got));
	free(got);
}
END_TEST

START_TEST(test_query_json_cells_in_csv_are_neutralised)
{
	const char	*cells[] = {
		"[\"=HYPERLINK(\\\"x\\\")\", \"b\"]",
		"[{\"domain\": \"-x\", \"selector\": \"@y\", \"result\": "
		    "\"pass\"}]",
	};
	char		*got;

	got = render_cmd(&jcmd, cells, 2, QUERY_CSV, 0);
	ck_assert_str_eq(got, "j\r\n"
	    "\"'=HYPERLINK(\"\"x\"\"), b\"\r\n"
	    "'-x/@y=pass\r\n");
	free(got);
}
END_TEST

static const struct query_col tcols[] = {
	{ "from", NULL, QUERY_TIME, 0, "", 0, 0, 0 },
	{ "to", NULL, QUERY_TIME, 0, "", 0, 0, QUERY_DAYEND },
	{ "at", NULL, QUERY_TIME, 0, "", 0, 0, 0 },
};
static const struct query_cmd tcmd = { "t", "test", "test", "", tcols, 3,
	NULL, NULL, NULL, 0, 0 };

START_TEST(test_query_table_shows_whole_days_as_dates)
{
	const char	*cells[] = {
		"2024-03-01 00:00:00+00", "2024-03-01 23:59:59+00",
		    "2024-03-01 23:59:59+00",
		NULL, "2024-03-02 23:59:59+00", "2024-03-02 00:00:00+00",
		"infinity", NULL, "2024-03-02 00:00:00+00",
	};
	const char	*mixed[] = {
		"2024-03-01 00:00:00.5+00", "2024-03-01 23:59:59+00",
		    "2024-03-01 12:34:56+00",
		"2024-03-02 00:00:00+00", "2024-03-03 00:00:00+00",
		    "2024-03-02 00:00:00+00",
	};
	char		*got;

	/* days start in from, end in to (an end); at is neither */
	got = render_cmd(&tcmd, cells, 3, QUERY_TABLE, 0);
	ck_assert_str_eq(got,
	    "from        to          at\n"
	    "----------  ----------  ----------------\n"
	    "2024-03-01  2024-03-01  2024-03-01 23:59\n"
	    "            2024-03-02  2024-03-02 00:00\n"
	    "infinity                2024-03-02 00:00\n");
	free(got);
	/* a fraction is no day's start; an end at midnight is no day's end */
	got = render_cmd(&tcmd, mixed, 2, QUERY_TABLE, 0);
	ck_assert_str_eq(got,
	    "from              to                at\n"
	    "----------------  ----------------  ----------------\n"
	    "2024-03-01 00:00  2024-03-01 23:59  2024-03-01 12:34\n"
	    "2024-03-02 00:00  2024-03-03 00:00  2024-03-02 00:00\n");
	free(got);
	/* CSV and JSON keep the full time */
	got = render_cmd(&tcmd, cells, 1, QUERY_CSV, 0);
	ck_assert_str_eq(got, "from,to,at\r\n2024-03-01T00:00:00Z,"
	    "2024-03-01T23:59:59Z,2024-03-01T23:59:59Z\r\n");
	free(got);
}
END_TEST

static const struct query_col dcols[] = {
	{ "org", NULL, QUERY_TEXT, 0, "", 0, 0, 0 },
	{ "id", NULL, QUERY_TEXT, 0, "", 4, 0, 0 },
	{ "extra", NULL, QUERY_TEXT, 0, "", 0, 2, 0 },
	{ "more", NULL, QUERY_COUNT, 0, "", 0, 1, 0 },
	{ "domain", NULL, QUERY_TEXT, 0, "", 0, 0, 0 },
};
static const struct query_cmd dcmd = { "d", "test", "test", "", dcols, 5,
	NULL, NULL, NULL, 0, 0 };

START_TEST(test_query_table_fair_widths_then_left_out_columns)
{
	const char	*cells[] = {
		"Some Reporting Organisation", "0123456789abcdef",
		    "something extra", "12345", "mail.example.com",
	};
	char		*got;

	/* wide enough: all of it */
	got = render_cmd(&dcmd, cells, 1, QUERY_TABLE, 100);
	ck_assert_str_eq(got,
	    "org                          id                extra"
	    "             more  domain\n"
	    "---------------------------  ----------------  ---------------"
	    " ------  ----------------\n"
	    "Some Reporting Organisation  0123456789abcdef  something extra"
	    " 12,345  mail.example.com\n");
	free(got);
	/* the widest is cut first: all down to 14 or 15 */
	got = render_cmd(&dcmd, cells, 1, QUERY_TABLE, 70);
	ck_assert_str_eq(got,
	    "org             id              extra            more  domain\n"
	    "--------------  --------------  -------------- ------  "
	    "---------------\n"
	    "Some Reportin\xe2\x80\xa6  0123456789abc\xe2\x80\xa6  "
	    "something ext\xe2\x80\xa6 12,345  mail.example.c\xe2\x80\xa6\n");
	free(got);
	/*
	 * then more goes (tdrop 1) rather than any text below 12, but for
	 * id, whose fair width is 4; then extra (tdrop 2)
	 */
	got = render_cmd(&dcmd, cells, 1, QUERY_TABLE, 50);
	ck_assert_str_eq(got,
	    "org           id        extra         domain\n"
	    "------------  --------  ------------  ------------\n"
	    "Some Report…  0123456…  something e…  mail.exampl…\n"
	    "(left out to fit the width: more)\n");
	free(got);
	got = render_cmd(&dcmd, cells, 1, QUERY_TABLE, 30);
	ck_assert_str_eq(got,
	    "org         id     domain\n"
	    "----------  -----  -----------\n"
	    "Some Repo…  0123…  mail.examp…\n"
	    "(left out to fit the width:\n"
	    "  extra, more)\n");
	free(got);
}
END_TEST

/* --- sources and failures: what the golden files hold ----------------- */

START_TEST(test_query_failures_only_from_failing_records)
{
	struct q	 q = { "failures", QUERY_JSON, "example.com", NULL,
			    NULL, -1, 0 };
	char		*got = run_query(&q);
	const char	*p;

	/* 198.51.100.7's passing record (count 0) carries passing.example */
	ck_assert_ptr_null(strstr(got, "passing.example"));
	ck_assert_ptr_null(strstr(got, "\"p1\""));
	/* k1 is in two failing records of it, listed once */
	ck_assert_ptr_nonnull(p = strstr(got, "\"selector\": \"k1\""));
	ck_assert_ptr_null(strstr(p + 1, "\"selector\": \"k1\""));
	/* worst first; sources that pass (2001:db8::1) are not listed */
	ck_assert_ptr_nonnull(p = strstr(got, "\"198.51.100.7\""));
	ck_assert_ptr_nonnull(strstr(p, "\"192.0.2.9\""));
	ck_assert_ptr_null(strstr(got, "2001:db8::1"));
	/* a non-canonical value shows as sent, a missing one as null */
	ck_assert_ptr_nonnull(strstr(got, "{\"domain\": \"example.com\", "
	    "\"scope\": null, \"result\": \"Bogus\"}"));
	ck_assert_ptr_nonnull(strstr(got, "\"scope\": \"HELO\""));
	free(got);
}
END_TEST

START_TEST(test_query_failures_hostile_text_in_every_format)
{
	struct q	 q = { "failures", QUERY_CSV, NULL, "2024-03-02", NULL,
			    -1, 0 };
	char		*got;
	const char	*p;

	got = run_query(&q);
	ck_assert_str_eq(got, "domain,source_ip,messages,dmarc_pass,"
	    "dmarc_fail,dkim_aligned,spf_aligned,ptr,base_domain,"
	    "header_from,dkim,spf,reasons,reporters,first_seen,last_seen\r\n"
	    "example.com,192.0.2.9,5,0,5,0,0,,,"
	    "\"'=HYPERLINK(\"\"x\"\")\x1b[2J,\tz.example\","
	    "\"example.com/=s\"\"1\x01\nx=temperror\","
	    "\"example.com/HELO=none, example.com/mfrom=fail\",,"
	    "Yahoo! Inc.,2024-03-02T00:00:00Z,2024-03-02T00:00:00Z\r\n");
	free(got);

	q.format = QUERY_JSON;
	got = run_query(&q);
	ck_assert_ptr_nonnull(strstr(got, "\"header_from\": "
	    "[\"=HYPERLINK(\\\"x\\\")\\u001b[2J,\\u0009z.example\"]"));
	ck_assert_ptr_nonnull(strstr(got, "\"selector\": "
	    "\"=s\\\"1\\u0001\\u000ax\""));
	for (p = got; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n',
		    "raw control byte 0x%02x", (unsigned char)*p);
	free(got);

	q.format = QUERY_TABLE;
	q.width = 300;
	got = run_query(&q);
	ck_assert_ptr_nonnull(strstr(got,
	    "=HYPERLINK(\"x\")\\x1b[2J,\\tz.example  "
	    "example.com/=s\"1\\x01\\nx=temperror  "
	    "example.com/HELO=none, example.com/mfrom=fail  "));
	for (p = got; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n',
		    "raw control byte 0x%02x", (unsigned char)*p);
	free(got);
}
END_TEST

START_TEST(test_query_sources_add_up_to_summary)
{
	struct q	 q = { "sources", QUERY_CSV, "example.com", NULL, NULL,
			    -1, 0 };
	char		*got = run_query(&q);

	/*
	 * summary: example.com 1,234,582 messages, 1,000,010 pass,
	 * 234,572 fail, dkim 1,000,000, spf 1,000,010
	 */
	ck_assert_str_eq(got, "domain,source_ip,messages,dmarc_pass,"
	    "dmarc_fail,dkim_aligned,spf_aligned,ptr,base_domain\r\n"
	    "example.com,192.0.2.1,1000000,1000000,0,1000000,1000000,,\r\n"
	    "example.com,198.51.100.7,234567,0,234567,0,0,,\r\n"
	    "example.com,2001:db8::1,10,10,0,0,10,,\r\n"
	    "example.com,192.0.2.9,5,0,5,0,0,,\r\n");
	free(got);
}
END_TEST

/*
 * Every command that reads dmarc.record finds its rows through an
 * index (sql/008_record_rep_index.sql left one, on rep_id): no
 * partition is read whole. Sequential scans are priced out (on a
 * fixture this small they are the cheapest); a query that filters
 * records by a column without an index gets one all the same, or a
 * scan of a whole index, which has no Index Cond: either fails.
 */
#define EXPLAIN	"EXPLAIN (COSTS OFF) "

/*
 * Each dmarcq statement that reads dmarc.record, planned as dmarcq has
 * it planned (with its values: text, timestamptz, timestamptz, int8,
 * text, text; dom NULL is no --domain), its plan handed to check line
 * by line (and the next one). Returns how many statements.
 */
static int
explain_record_reads(const char *dom, int seqscan,
    void (*check)(const char *, const char *, const char *))
{
	const struct query_cmd	*cmds[2 * 32];
	const char		*vals[6] = { dom, "2024-02-01T00:00:00Z",
				    "2024-04-01T00:00:00Z", "50", "1111", NULL };
	static const Oid	 types[6] = { 25, 1184, 1184, 20, 25, 25 };
	PGconn			*conn;
	PGresult		*res;
	char			 id[32], *sql;
	size_t			 i, len, n = 0;
	int			 row, nread = 0;

	for (i = 0; i < query_ncmds; i++) {
		ck_assert_uint_lt(n + 2, nitems(cmds));
		cmds[n++] = &query_cmds[i];
		if (query_cmds[i].detail != NULL)
			cmds[n++] = query_cmds[i].detail;
	}
	conn = PQconnectdb(fixture_db);
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s",
	    PQerrorMessage(conn));
	res = PQexec(conn, seqscan ? "SET enable_seqscan = on" :
	    "SET enable_seqscan = off");
	ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	res = PQexec(conn, "SELECT id FROM dmarc.report WHERE report_id ="
	    " '1111'");
	ck_assert_int_eq(PQntuples(res), 1);
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	vals[5] = id;
	PQclear(res);

	for (i = 0; i < n; i++) {
		if (strstr(cmds[i]->sql, "dmarc.record") == NULL)
			continue;
		nread++;
		len = strlen(cmds[i]->sql) + sizeof(EXPLAIN);
		sql = xmalloc(len);
		snprintf(sql, len, EXPLAIN "%s", cmds[i]->sql);
		res = PQexecParams(conn, sql, 6, types, vals, NULL, NULL, 0);
		ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s",
		    cmds[i]->name, PQerrorMessage(conn));
		for (row = 0; row < PQntuples(res); row++)
			check(cmds[i]->name, PQgetvalue(res, row, 0),
			    row + 1 < PQntuples(res) ?
			    PQgetvalue(res, row + 1, 0) : "");
		PQclear(res);
		free(sql);
	}
	PQfinish(conn);
	return nread;
}

/* A domain's records: through an index, never a whole partition. */
static void
check_indexed(const char *name, const char *line, const char *next)
{
	ck_assert_msg(strstr(line, "Seq Scan on record_") == NULL, "%s: %s",
	    name, line);
	if (strstr(line, "Index Scan") != NULL &&
	    strstr(line, " on record_") != NULL)
		ck_assert_msg(strstr(next, "Index Cond:") != NULL,
		    "%s: %s, then %s", name, line, next);
}

START_TEST(test_query_records_found_through_an_index)
{
	/* sources, failures, report's records, new-sources, readiness's two */
	ck_assert_int_eq(explain_record_reads("example.com", 0,
	    check_indexed), 6);
}
END_TEST

/*
 * All domains' records: read straight, not through an array of every
 * report's id (an index probe per report; a recheck of each row
 * against the whole array once the bitmap outgrows work_mem).
 */
static void
check_no_id_array(const char *name, const char *line,
    const char *next DM_UNUSED)
{
	ck_assert_msg(strstr(line, "rep_id = ANY") == NULL, "%s: %s", name,
	    line);
}

START_TEST(test_query_all_domains_read_without_report_ids)
{
	ck_assert_int_eq(explain_record_reads(NULL, 1, check_no_id_array), 6);
}
END_TEST
#undef EXPLAIN

/* --- report, new-sources, readiness: what the goldens hold ----------- */

START_TEST(test_query_report_not_found_writes_nothing)
{
	struct q	 q = { "report", QUERY_TABLE, NULL, NULL, NULL, -1, 0 };
	struct qx	 x = { "no-such-id", 1, 0 };
	struct dm_err	 err = { 0 };
	char		*got;
	int		 fmt, rc;

	for (fmt = QUERY_TABLE; fmt <= QUERY_JSON; fmt++) {
		q.format = (enum query_format)fmt;
		got = run_engine(&q, &x, &rc, &err);
		ck_assert_int_eq(rc, -1);
		ck_assert_int_eq(err.scope, DM_EMSG);
		ck_assert_str_eq(err.msg, "no report \"no-such-id\"");
		ck_assert_str_eq(got, "");
		free(got);
	}
	/* it exists, but not for that domain and range */
	x.arg = "shared-id";
	q.domain = "example.com";
	q.since = "2024-01-01";
	got = run_engine(&q, &x, &rc, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.msg, "no report \"shared-id\" of domain "
	    "example.com with its begin in [--since, --until)");
	free(got);
	/* an ID with control characters is named escaped */
	x.arg = "a\x1b[2Jb";
	q.domain = NULL;
	q.since = NULL;
	got = run_engine(&q, &x, &rc, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.msg, "no report \"a\\x1b[2Jb\"");
	free(got);
}
END_TEST

START_TEST(test_query_report_is_found_by_id_with_controls)
{
	struct q	 q = { "report", QUERY_CSV, NULL, NULL, NULL, -1, 0 };
	struct qx	 x = { "=HYPERLINK(\"http://evil/\")", 1, 0 };
	char		*got = run_queryx(&q, &x);

	/* the ID is a parameter, compared as sent; CSV neutralises it */
	ck_assert_ptr_nonnull(strstr(got, "\r\n\"Ev\x1b[31mil, \"\"Corp\"\"\","
	    "\"'=HYPERLINK(\"\"http://evil/\"\")\",example.org,"));
	free(got);
}
END_TEST

START_TEST(test_query_report_records_are_streamed_in_order)
{
	struct q	 q = { "report", QUERY_CSV, NULL, NULL, NULL, -1, 0 };
	struct qx	 x = { "g-1", 1, 0 };
	char		*got = run_queryx(&q, &x);
	const char	*p = got;
	const char	*ips[] = { ",192.0.2.10,1000,", ",192.0.2.10,20,",
			    ",192.0.2.20,50,", ",192.0.2.30,30,",
			    ",192.0.2.30,5,", ",198.51.100.40,7,",
			    ",198.51.100.50,3," };
	size_t		 i;

	/* CSV and JSON have no default limit: all 7, in rec_no order */
	for (i = 0; i < nitems(ips); i++) {
		ck_assert_msg((p = strstr(p, ips[i])) != NULL, "%s", ips[i]);
		p++;
	}
	ck_assert_ptr_null(strstr(p, "\r\ngoogle.com,g-1"));
	free(got);
}
END_TEST

START_TEST(test_query_new_sources_is_first_appearance)
{
	struct q	 q = { "new-sources", QUERY_CSV, NULL, "2024-03-01",
			    "2024-03-05", -1, 0 };
	struct qx	 x = { NULL, 1, 0 };
	char		*got = run_queryx(&q, &x);

	/*
	 * In range: 192.0.2.10 for shop.example (2024-03-01, but seen in
	 * January: not new) and for example.org (2024-03-02: new), the
	 * sources of r2, of the example.org report and 198.51.100.60.
	 */
	ck_assert_str_eq(got, "domain,source_ip,first_seen,last_seen,"
	    "reports,messages,dmarc_pass,dmarc_fail,dkim_aligned,spf_aligned,"
	    "header_from,reporters\r\n"
	    "example.com,2001:db8::1,2024-03-02T00:00:00Z,"
	    "2024-03-02T00:00:00Z,1,10,10,0,0,10,example.com,Yahoo! Inc.\r\n"
	    "example.org,203.0.113.5,2024-03-03T00:00:00Z,"
	    "2024-03-03T00:00:00Z,1,7,7,0,7,0,example.org,"
	    "\"Ev\x1b[31mil, \"\"Corp\"\"\"\r\n"
	    "example.com,192.0.2.9,2024-03-02T00:00:00Z,2024-03-02T00:00:00Z,"
	    "1,5,0,5,0,0,\"'=HYPERLINK(\"\"x\"\")\x1b[2J,\tz.example\","
	    "Yahoo! Inc.\r\n"
	    "example.org,192.0.2.10,2024-03-02T00:00:00Z,2024-03-02T00:00:00Z,"
	    "1,4,4,0,4,4,example.org,dmarcrep@microsoft.com\r\n"
	    "shop.example,198.51.100.60,2024-03-01T00:00:00Z,"
	    "2024-03-01T00:00:00Z,1,2,0,2,0,0,shop.example,Mail.Ru\r\n");
	free(got);
	/* nothing new: an empty array, for a cron job */
	q.format = QUERY_JSON;
	q.domain = "shop.example";
	q.since = "2024-03-02";
	got = run_queryx(&q, &x);
	ck_assert_str_eq(got, "[]\n");
	free(got);
}
END_TEST

START_TEST(test_query_readiness_figures_add_up)
{
	struct q	 q = { "readiness", QUERY_JSON, "shop.example", NULL,
			    NULL, -1, 0 };
	struct qx	 x = { NULL, 1, 0 };
	char		*got = run_queryx(&q, &x);

	/*
	 * [2024-02-04, 2024-03-05): g-1 (1,115 messages) and shared-id
	 * (250,002); failing: 20 + 50 + 5 + 7 + 3 + 2 = 87, of which 20
	 * (192.0.2.10) and 5 (192.0.2.30) from sources that also pass.
	 */
	ck_assert_ptr_nonnull(strstr(got, "\"policy\": {\"p\": \"quarantine\", "
	    "\"sp\": \"none\", \"pct\": 50}, \"reports\": 2, \"messages\": "
	    "251117, \"dmarc_fail\": 87, \"dmarc_fail_pct\": 0.03, "
	    "\"sources_total\": 6, \"sources_failing\": 6, \"fail_also_pass\": "
	    "25, \"fail_also_pass_pct\": 28.74, \"fail_never_pass\": 62, "
	    "\"fail_never_pass_pct\": 71.26, \"verdict\": \"not ready: 0.03% "
	    "of mail (87 messages from 6 sources) would be affected, 75 of "
	    "them from 3 senders set up wrong (fix: dkim, spf or both): fix "
	    "those first\""));
	free(got);
	/* one rule each, worst first */
	q.format = QUERY_CSV;
	got = run_queryx(&q, &x);
	ck_assert_str_eq(got, "domain,source_ip,messages,dmarc_pass,"
	    "dmarc_fail,fail_share_pct,fix,dkim,spf\r\n"
	    "shop.example,192.0.2.20,50,0,50,57.47,spf,,"
	    "mailer.crm.example/mfrom=pass\r\n"
	    "shop.example,192.0.2.10,251020,251000,20,22.99,dkim,"
	    "esp.example/esp1=pass,bounce.esp.example/mfrom=pass\r\n"
	    "shop.example,198.51.100.40,7,0,7,8.05,forwarder,"
	    "shop.example/s2024=fail,forwarder.example/mfrom=softfail\r\n"
	    "shop.example,192.0.2.30,35,30,5,5.75,both,,\r\n"
	    "shop.example,198.51.100.50,3,0,3,3.45,unknown sender,,"
	    "forged.example/mfrom=fail\r\n"
	    "shop.example,198.51.100.60,2,0,2,2.3,forwarder,"
	    "shop.example/s2024=fail,\"lists.example/helo=pass, "
	    "lists.example/mfrom=pass\"\r\n");
	free(got);
}
END_TEST

/* Every escape sequence of SGR (ESC [ digits m) taken out of s. */
static char *
strip_sgr(const char *s)
{
	char	*out = xstrdup(s), *o = out;
	size_t	 n;

	while (*s != '\0') {
		if (s[0] == '\x1b' && s[1] == '[' &&
		    s[2 + (n = strspn(s + 2, "0123456789"))] == 'm' && n > 0) {
			s += n + 3;
			continue;
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static const struct {
	struct q	 q;
	struct qx	 x;
} colored[] = {
	{ { "summary", QUERY_TABLE, NULL, NULL, NULL, -1, 0 },
	    { NULL, 0, 1 } },
	{ { "failures", QUERY_TABLE, NULL, NULL, NULL, -1, 60 },
	    { NULL, 0, 1 } },
	{ { "report", QUERY_TABLE, NULL, NULL, NULL, -1, 0 },
	    { "r2", 1, 1 } },
	{ { "new-sources", QUERY_TABLE, NULL, NULL, NULL, -1, 100 },
	    { NULL, 1, 1 } },
	{ { "readiness", QUERY_TABLE, "shop.example", NULL, NULL, -1, 50 },
	    { NULL, 1, 1 } },
	{ { "readiness", QUERY_TABLE, "example.com", NULL, NULL, -1, 0 },
	    { NULL, 1, 1 } },
};

/* Colour adds escapes and changes nothing else: not a width. */
START_TEST(test_query_color_is_only_escapes)
{
	struct q	 q = colored[_i].q;
	struct qx	 x = colored[_i].x;
	char		*with, *without, *stripped;
	const char	*p;

	with = run_queryx(&q, &x);
	x.color = 0;
	without = run_queryx(&q, &x);
	ck_assert_msg(strncmp(with, "\x1b[1m", 4) == 0 ||
	    strstr(with, "\n\x1b[1m") != NULL, "%s", visible(with));
	stripped = strip_sgr(with);
	ck_assert_str_eq(stripped, without);
	/* the data's own escapes stay visible, never raw */
	for (p = stripped; *p != '\0'; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 || *p == '\n',
		    "raw control byte 0x%02x", (unsigned char)*p);
	free(with);
	free(without);
	free(stripped);
	/* CSV and JSON: never */
	x.color = 1;
	q.format = QUERY_JSON;
	with = run_queryx(&q, &x);
	ck_assert_ptr_null(strstr(with, "\x1b["));
	free(with);
}
END_TEST

static const struct {
	enum query_color when;
	int		 tty;
	const char	*term, *no_color;
	int		 want;
} color_cases[] = {
	{ QUERY_COLOR_AUTO, 1, "xterm-256color", NULL, 1 },
	{ QUERY_COLOR_AUTO, 1, "xterm", "", 1 },	/* empty: unset */
	{ QUERY_COLOR_AUTO, 1, "xterm", "1", 0 },
	{ QUERY_COLOR_AUTO, 1, "xterm", "0", 0 },	/* any value */
	{ QUERY_COLOR_AUTO, 0, "xterm", NULL, 0 },	/* a pipe, a file */
	{ QUERY_COLOR_AUTO, 1, "dumb", NULL, 0 },
	{ QUERY_COLOR_AUTO, 1, NULL, NULL, 0 },
	{ QUERY_COLOR_AUTO, 1, "", NULL, 0 },
	{ QUERY_COLOR_ALWAYS, 0, NULL, "1", 1 },	/* explicit wins */
	{ QUERY_COLOR_ALWAYS, 1, "dumb", NULL, 1 },
	{ QUERY_COLOR_NEVER, 1, "xterm", NULL, 0 },
};

START_TEST(test_query_use_color)
{
	ck_assert_int_eq(query_use_color(color_cases[_i].when,
	    color_cases[_i].tty, color_cases[_i].term,
	    color_cases[_i].no_color), color_cases[_i].want);
}
END_TEST

START_TEST(test_query_parse_color_and_arg)
{
	struct dm_err		 err = { 0 };
	enum query_color	 c = QUERY_COLOR_NEVER;
	char			 big[DM_MAX_FIELD + 2];

	ck_assert_int_eq(query_parse_color("auto", &c, &err), 0);
	ck_assert_int_eq(c, QUERY_COLOR_AUTO);
	ck_assert_int_eq(query_parse_color("always", &c, &err), 0);
	ck_assert_int_eq(c, QUERY_COLOR_ALWAYS);
	ck_assert_int_eq(query_parse_color("never", &c, &err), 0);
	ck_assert_int_eq(c, QUERY_COLOR_NEVER);
	ck_assert_int_eq(query_parse_color("yes", &c, &err), -1);
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_str_eq(err.msg, "bad colour \"yes\": auto, always or never");

	ck_assert_int_eq(query_parse_arg("shared-id", &err), 0);
	ck_assert_int_eq(query_parse_arg("-tab\there\x01", &err), 0);
	ck_assert_int_eq(query_parse_arg("", &err), -1);
	ck_assert_int_eq(query_parse_arg("a\xff", &err), -1);
	ck_assert_str_eq(err.msg, "bad ID \"a\\xff\": invalid UTF-8");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(query_parse_arg(big, &err), -1);
	big[sizeof(big) - 2] = '\0';
	ck_assert_int_eq(query_parse_arg(big, &err), 0);
}
END_TEST

START_TEST(test_query_check_operand_and_domain)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };

	query_opts_init(&o);
	ck_assert_int_eq(query_check(query_find("report"), &o, &err), -1);
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_str_eq(err.msg, "report needs ID");
	ck_assert_int_eq(query_check(query_find("readiness"), &o, &err), -1);
	ck_assert_str_eq(err.msg, "readiness needs --domain D");
	ck_assert_int_eq(query_check(query_find("new-sources"), &o, &err), 0);
	o.domain = "example.com";
	ck_assert_int_eq(query_check(query_find("readiness"), &o, &err), 0);
	o.arg = "x";
	ck_assert_int_eq(query_check(query_find("summary"), &o, &err), -1);
	ck_assert_str_eq(err.msg, "summary takes no argument");
	ck_assert_int_eq(query_check(query_find("report"), &o, &err), 0);
	/* query_run checks before it asks the database anything */
	o.arg = NULL;
	ck_assert_int_eq(query_run(NULL, query_find("report"), &o, stdout,
	    &err), -1);
	ck_assert_int_eq(err.scope, DM_ECONFIG);
}
END_TEST

/* A head and its details, synthetic: the block's rules one by one. */
static const struct query_col bcols[] = {
	{ "key", NULL, QUERY_COUNT, 0, "", 0, 0, QUERY_HIDDEN },
	{ "name", NULL, QUERY_TEXT, 0, "", 0, 0, QUERY_CSVKEY },
	{ "a", NULL, QUERY_TEXT, 0, "", 0, 0, QUERY_NEST },
	{ "bee", NULL, QUERY_TEXT, 0, "", 0, 0, QUERY_NEST },
	{ "empty", NULL, QUERY_TEXT, 0, "", 0, 0, 0 },
	{ "n", NULL, QUERY_COUNT, 0, "", 0, 0, QUERY_ALERT },
	{ "n_pct", NULL, QUERY_PCT, 0, "", 0, 0, 0 },
	{ "until", NULL, QUERY_TIME, 0, "", 0, 0, QUERY_DAYEND },
	{ "say", NULL, QUERY_TEXT, 0, "", 0, 0, QUERY_VERDICT },
};
static const struct query_col bdcols[] = {
	{ "x", NULL, QUERY_TEXT, 0, "", 0, 0, 0 },
};
static const struct query_cmd bdetail = { "items", "", "", "", bdcols, 1,
	NULL, NULL, NULL, 0, 0 };
static const struct query_cmd bcmd = { "b", "", "", "", bcols,
	nitems(bcols), &bdetail, "both", NULL, 0, 0 };

static char *
render_b(const char *const *head, const char *const *items, int n,
    enum query_format fmt, int width, int color)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGresAttDesc		 att[nitems(bcols)];
	PGresult		*h, *d;
	FILE			*f;
	char			*out = NULL;
	size_t			 len = 0;
	int			 c;

	memset(att, 0, sizeof(att));
	for (c = 0; c < (int)nitems(bcols); c++)
		att[c].name = (char *)bcols[c].name;
	h = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	ck_assert_int_eq(PQsetResultAttrs(h, nitems(bcols), att), 1);
	for (c = 0; c < (int)nitems(bcols); c++)
		ck_assert_int_eq(PQsetvalue(h, 0, c, (char *)head[c],
		    head[c] == NULL ? -1 : (int)strlen(head[c])), 1);
	d = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	att[0].name = "x";
	ck_assert_int_eq(PQsetResultAttrs(d, 1, att), 1);
	for (c = 0; c < n; c++)
		ck_assert_int_eq(PQsetvalue(d, c, 0, (char *)items[c],
		    (int)strlen(items[c])), 1);
	query_opts_init(&o);
	o.format = fmt;
	o.width = width;
	o.color = color;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_msg(query_render_part(&bcmd, h, 0, d, n, n > 1, 7, &o, f,
	    &err) == 0, "%s", err.msg);
	fclose(f);
	PQclear(h);
	PQclear(d);
	return out;
}

START_TEST(test_query_render_part_block)
{
	const char	*head[] = { "42", "N\x1b[1m", "1", "two words",
			    NULL, "5", "0", "2024-03-03 00:00:00+00",
			    "ready for this: a sentence that wraps here" };
	const char	*items[] = { "i1", "=i2" };
	char		*got;

	got = render_b(head, items, 2, QUERY_TABLE, 30, 0);
	ck_assert_str_eq(got,
	    "name:  N\\x1b[1m\n"
	    "both:  a=1 bee=two words\n"	/* nested, on one line */
	    "n:     5 (<0.01%)\n"		/* 0%, but not nothing */
	    "until: 2024-03-03 00:00\n"	/* a midnight end: no day */
	    "ready for this: a sentence\n"	/* wrapped at 30 */
	    "that wraps here\n"
	    "\n"
	    "x\n"
	    "---\n"
	    "i1\n"
	    "=i2\n"
	    "(7 more rows not shown: --limit N for more, --limit 0 for "
	    "all)\n");
	free(got);
	/* the nest line wraps under its value, a long word is cut */
	head[3] = "two words-and-a-very-long-one";
	got = render_b(head, items, 0, QUERY_TABLE, 22, 1);
	ck_assert_str_eq(got,
	    "name:  N\\x1b[1m\n"
	    "both:  a=1 bee=two\n"
	    "       words-and-a-ve\xe2\x80\xa6\n"
	    "n:     \x1b[31m5 (<0.01%)\x1b[0m\n"
	    "until: 2024-03-03 00:\xe2\x80\xa6\n"	/* cut, not wrapped */
	    "\x1b[32mready for this: a\x1b[0m\n"
	    "\x1b[32msentence that wraps\x1b[0m\n"
	    "\x1b[32mhere\x1b[0m\n"
	    "\n"
	    "\x1b[1mx\x1b[0m\n"
	    "-\n"
	    "(no rows)\n");
	free(got);
	head[3] = "two words";
	got = render_b(head, items, 2, QUERY_JSON, 0, 1);
	ck_assert_str_eq(got, "[\n"
	    "  {\"name\": \"N\\u001b[1m\", \"both\": {\"a\": \"1\", "
	    "\"bee\": \"two words\"}, \"empty\": null, \"n\": 5, "
	    "\"n_pct\": 0, \"until\": \"2024-03-03T00:00:00Z\", \"say\": "
	    "\"ready for this: a sentence that wraps here\", \"items\": [\n"
	    "    {\"x\": \"i1\"},\n"
	    "    {\"x\": \"=i2\"}\n"
	    "  ]}\n"
	    "]\n");
	free(got);
	got = render_b(head, items, 0, QUERY_JSON, 0, 0);
	ck_assert_ptr_nonnull(strstr(got, "\"items\": []}\n]\n"));
	free(got);
	got = render_b(head, items, 2, QUERY_CSV, 0, 1);
	ck_assert_str_eq(got, "name,x\r\nN\x1b[1m,i1\r\nN\x1b[1m,'=i2\r\n");
	free(got);
}
END_TEST

/* --- the binary -------------------------------------------------------- */

START_TEST(test_dmarcq_exit_2_on_usage_errors)
{
	struct bin	 r;

	run_bin(&r, NULL, "--bogus", "summary", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "dmarcq: unknown option --bogus\n"
	    "Try 'dmarcq --help'.\n");
	ck_assert_str_eq(r.out, "");
	bin_free(&r);

	run_bin(&r, NULL, "summary", "--since", "last week", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "dmarcq: --since: bad time \"last week\""
	    ": use YYYY-MM-DD") == r.err, "%s", r.err);
	bin_free(&r);

	run_bin(&r, NULL, "reports", "--limit", "-3", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--limit: bad limit \"-3\""));
	bin_free(&r);

	run_bin(&r, NULL, "sumary", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "unknown command \"sumary\""));
	bin_free(&r);

	run_bin(&r, NULL, "ingest", "--since", "2024-03-02", "--until",
	    "2024-03-01", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "is not before --until"));
	bin_free(&r);

	run_bin(&r, NULL, "summary", "--format", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "option --format needs a value"));
	bin_free(&r);

	run_bin(&r, NULL, "-c", "/nonexistent/dmarcd.conf", "summary", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "/nonexistent/dmarcd.conf: "
	    "cannot read"));
	bin_free(&r);

	run_bin(&r, "port=5432 bogus=1", "ingest", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_msg(strstr(r.err, "dmarcq: DMARCD_DB: bad conninfo: ") ==
	    r.err, "%s", r.err);
	bin_free(&r);

	run_bin(&r, NULL, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "usage: dmarcq"));
	bin_free(&r);
}
END_TEST

START_TEST(test_dmarcq_exit_3_when_unreachable_or_unmigrated)
{
	struct bin	 r;

	run_bin(&r, NULL, "--db", "host=127.0.0.1 port=1", "summary", NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_msg(strstr(r.err, "dmarcq: database unreachable (host "
	    "127.0.0.1, port 1): ") == r.err, "%s", r.err);
	ck_assert_str_eq(r.out, "");
	bin_free(&r);

	run_bin(&r, NULL, "summary", "--db", empty_db, NULL);
	ck_assert_int_eq(r.status, 3);
	ck_assert_str_eq(r.err, "dmarcq: database has no dmarc schema: run "
	    "'dmarcd migrate'\n");
	bin_free(&r);
}
END_TEST

START_TEST(test_dmarcq_database_resolution_order)
{
	char		 conf[] = "/tmp/check_query.XXXXXX";
	struct bin	 r;
	struct q	 q = { "summary", QUERY_JSON, NULL, NULL, NULL, -1, 0 };
	char		*want = run_query(&q);
	FILE		*f;
	int		 fd;

	ck_assert_int_ne(fd = mkstemp(conf), -1);
	ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
	fprintf(f, "; dmarcq reads [database] only\n"
	    "[imap \"billing\"]\nurl = imaps://mail.example.com/INBOX\n"
	    "[database]\nconninfo = %s\n", fixture_db);
	fclose(f);

	/* the configuration when nothing else is set */
	run_bin(&r, NULL, "-c", conf, "summary", "--format", "json", NULL);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	ck_assert_str_eq(r.out, want);
	bin_free(&r);
	/* DMARCD_DB over the configuration */
	run_bin(&r, "host=127.0.0.1 port=1", "-c", conf, "summary", NULL);
	ck_assert_int_eq(r.status, 3);
	bin_free(&r);
	/* --db over DMARCD_DB; options after the command */
	run_bin(&r, "host=127.0.0.1 port=1", "summary", "--format=json",
	    "--db", fixture_db, NULL);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	ck_assert_str_eq(r.out, want);
	bin_free(&r);
	unlink(conf);
	free(want);
}
END_TEST

START_TEST(test_dmarcq_report_and_readiness_exit_codes)
{
	struct bin	 r;

	run_bin(&r, scenario_db, "report", "no-such-id", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "dmarcq: no report \"no-such-id\"\n");
	ck_assert_str_eq(r.out, "");
	bin_free(&r);

	run_bin(&r, scenario_db, "report", "shared-id", "--domain",
	    "example.com", "--format", "json", NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.err, "dmarcq: no report \"shared-id\" of domain "
	    "example.com\n");
	ck_assert_str_eq(r.out, "");
	bin_free(&r);

	run_bin(&r, scenario_db, "report", "shared-id", "--format", "csv",
	    "--domain", "example.org", NULL);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "\r\n,shared-id,example.org,"));
	bin_free(&r);

	/* usage: before any database is asked */
	run_bin(&r, NULL, "report", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "dmarcq: report needs ID\n"
	    "Try 'dmarcq --help'.\n");
	bin_free(&r);

	run_bin(&r, NULL, "report", "a", "b", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "report takes one ID"));
	bin_free(&r);

	run_bin(&r, NULL, "report", "a\xff", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "bad ID \"a\\xff\""));
	bin_free(&r);

	run_bin(&r, NULL, "readiness", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "dmarcq: readiness needs --domain D\n"
	    "Try 'dmarcq --help'.\n");
	bin_free(&r);

	run_bin(&r, NULL, "new-sources", "x", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "new-sources takes no argument"));
	bin_free(&r);

	run_bin(&r, NULL, "summary", "--color", "sometimes", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--color: bad colour "
	    "\"sometimes\""));
	bin_free(&r);

	run_bin(&r, scenario_db, "readiness", "--domain", "example.org",
	    "--format", "json", NULL);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	/* the default period ends now: no reports of 2024 in it */
	ck_assert_ptr_nonnull(strstr(r.out, "\"verdict\": \"no data: no "
	    "report of example.org in the period\", \"sources\": []}\n]\n"));
	bin_free(&r);
}
END_TEST

START_TEST(test_dmarcq_color_decision)
{
	struct bin	 r;

	/* stdout is a file: auto is off */
	run_bin(&r, NULL, "summary", "--db", fixture_db, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_null(strchr(r.out, '\x1b'));
	bin_free(&r);
	/* always: even with NO_COLOR, since it is asked for */
	setenv("NO_COLOR", "1", 1);
	run_bin(&r, NULL, "summary", "--db", fixture_db, "--color=always",
	    NULL);
	unsetenv("NO_COLOR");
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strncmp(r.out, "\x1b[1mdomain ", 11) == 0, "%s",
	    visible(r.out));
	ck_assert_ptr_nonnull(strstr(r.out, " \x1b[31m234,572\x1b[0m "));
	bin_free(&r);
	run_bin(&r, NULL, "summary", "--db", fixture_db, "--color", "always",
	    "--format", "csv", NULL);
	ck_assert_ptr_null(strchr(r.out, '\x1b'));
	bin_free(&r);
}
END_TEST

START_TEST(test_dmarcq_help)
{
	struct bin	 r;

	run_bin(&r, NULL, "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "Exit status:"));
	ck_assert_ptr_nonnull(strstr(r.out, "  2. the environment variable "
	    "DMARCD_DB\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "Nd, Nh"));
	/* every command, and what each of its columns means */
	ck_assert_ptr_nonnull(strstr(r.out, "\n  sources   one row per "));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  failures  sources with "
	    "DMARC failures"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n            domain source_ip "
	    "messages dmarc_pass dmarc_fail dkim_aligned\n"
	    "            spf_aligned ptr base_domain header_from dkim spf reasons\n"
	    "            reporters first_seen last_seen\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  header_from   the failing "
	    "records' header_from domains\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  ptr           "));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  dkim          their DKIM "
	    "results: domain/selector=result\n"));
	bin_free(&r);
	run_bin(&r, NULL, "failures", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\n  spf           list    "));
	bin_free(&r);
	run_bin(&r, NULL, "summary", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\n  dmarc_fail "));
	bin_free(&r);
	run_bin(&r, NULL, "help", "ingest", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\n  outcome "));
	bin_free(&r);
	/* the newer commands, their operand, their details' columns */
	run_bin(&r, NULL, "--help", NULL);
	ck_assert_ptr_nonnull(strstr(r.out, "\n  report ID one aggregate "
	    "report in full"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  new-sources\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  readiness would a stricter "
	    "policy hurt?"));
	ck_assert_ptr_nonnull(strstr(r.out, "records:\n            "
	    "source_ip count disposition"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  --color WHEN "));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  1  report: no report has "
	    "the ID"));
	bin_free(&r);
	run_bin(&r, NULL, "readiness", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "readiness\n       --domain D "
	    "[--since T]"));
	ck_assert_ptr_nonnull(strstr(r.out, "\nColumns of sources (JSON: "
	    "the array \"sources\"):\n  source_ip "));
	ck_assert_ptr_nonnull(strstr(r.out, "  unknown sender\n"));
	bin_free(&r);
	run_bin(&r, NULL, "new-sources", "--help", NULL);
	ck_assert_ptr_nonnull(strstr(r.out, "the 7 days before --until"));
	bin_free(&r);
}

/* Every line of every help fits 80 columns. */
START_TEST(test_dmarcq_help_fits_80_columns)
{
	struct bin	 r;
	const char	*p, *nl, *c;
	ptrdiff_t	 n;
	size_t		 i;

	for (i = 0; i <= query_ncmds; i++) {
		if (i < query_ncmds)
			run_bin(&r, NULL, query_cmds[i].name, "--help", NULL);
		else
			run_bin(&r, NULL, "--help", NULL);
		ck_assert_int_eq(r.status, 0);
		/*
		 * The configuration's path is the build's ($(sysconfdir)):
		 * make distcheck's is long. Counted as the default's.
		 */
		for (p = r.out; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			n = nl - p;
			if ((c = memmem(p, n, SYSCONFDIR, strlen(SYSCONFDIR))) !=
			    NULL)
				n -= strlen(SYSCONFDIR) - strlen("/usr/local/etc");
			ck_assert_msg(n <= 80, "%s: %.*s", i < query_ncmds ?
			    query_cmds[i].name : "--help", (int)(nl - p), p);
		}
		bin_free(&r);
	}
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc = tcase_create("query");

	/* the whole program is skipped without a database */
	(void)test_need_db();
	tcase_add_unchecked_fixture(tc, db_setup, db_teardown);
	tcase_add_loop_test(tc, test_query_golden_output, 0,
	    golden_pair(INT_MAX, NULL, NULL, NULL));
	tcase_add_test(tc, test_query_summary_figures);
	tcase_add_test(tc, test_query_table_thousands_separators);
	tcase_add_test(tc, test_query_csv_neutralises_formulas);
	tcase_add_test(tc, test_query_json_escapes_controls_and_keeps_unicode);
	tcase_add_test(tc, test_query_table_shows_escapes_not_controls);
	tcase_add_test(tc, test_query_empty_result);
	tcase_add_test(tc, test_query_domain_is_a_parameter);
	tcase_add_test(tc, test_query_table_says_when_rows_are_left_out);
	tcase_add_test(tc, test_query_session_needs_the_schema);
	tcase_add_test(tc, test_query_connect_says_host_and_reason);
	tcase_add_test(tc, test_query_connect_refuses_bad_conninfo);
	tcase_add_test(tc, test_query_run_says_migrate_when_tables_are_missing);
	tcase_add_test(tc, test_query_session_checks_the_schema_version);
	tcase_add_loop_test(tc, test_query_parse_time_good, 0,
	    nitems(time_good));
	tcase_add_loop_test(tc, test_query_parse_time_bad, 0,
	    nitems(time_bad));
	tcase_add_test(tc, test_query_parse_limit_and_format);
	tcase_add_test(tc, test_query_default_limit_by_format);
	tcase_add_test(tc, test_query_parse_domain);
	tcase_add_test(tc, test_query_table_cuts_to_width);
	tcase_add_test(tc, test_query_render_hostile_text);
	tcase_add_test(tc, test_query_render_refuses_wrong_shape);
	tcase_add_test(tc, test_query_render_reports_write_errors);
	tcase_add_loop_test(tc, test_query_json_cells_in_every_format, 0,
	    nitems(jcells));
	tcase_add_test(tc, test_query_json_cells_in_csv_are_neutralised);
	tcase_add_test(tc, test_query_table_shows_whole_days_as_dates);
	tcase_add_test(tc, test_query_table_fair_widths_then_left_out_columns);
	tcase_add_test(tc, test_query_failures_only_from_failing_records);
	tcase_add_test(tc, test_query_failures_hostile_text_in_every_format);
	tcase_add_test(tc, test_query_sources_add_up_to_summary);
	tcase_add_test(tc, test_query_records_found_through_an_index);
	tcase_add_test(tc, test_query_all_domains_read_without_report_ids);
	tcase_add_test(tc, test_query_report_not_found_writes_nothing);
	tcase_add_test(tc, test_query_report_is_found_by_id_with_controls);
	tcase_add_test(tc, test_query_report_records_are_streamed_in_order);
	tcase_add_test(tc, test_query_new_sources_is_first_appearance);
	tcase_add_test(tc, test_query_readiness_figures_add_up);
	tcase_add_loop_test(tc, test_query_color_is_only_escapes, 0,
	    nitems(colored));
	tcase_add_loop_test(tc, test_query_use_color, 0, nitems(color_cases));
	tcase_add_test(tc, test_query_parse_color_and_arg);
	tcase_add_test(tc, test_query_check_operand_and_domain);
	tcase_add_test(tc, test_query_render_part_block);
	tcase_add_test(tc, test_dmarcq_exit_2_on_usage_errors);
	tcase_add_test(tc, test_dmarcq_exit_3_when_unreachable_or_unmigrated);
	tcase_add_test(tc, test_dmarcq_database_resolution_order);
	tcase_add_test(tc, test_dmarcq_help);
	tcase_add_test(tc, test_dmarcq_help_fits_80_columns);
	tcase_add_test(tc, test_dmarcq_report_and_readiness_exit_codes);
	tcase_add_test(tc, test_dmarcq_color_decision);
	suite_add_tcase(s, tc);
	return s;
}
