/*
 * check_html.c: dmarcq html against a real PostgreSQL: the fixture of
 * check_query (tests/data/query/fixture.sql) and a hostile third domain
 * (tests/data/html/hostile.sql) in a database of its own. Every bar and
 * point of the page and its data-value, for a fixed period; the same
 * figures as dmarcq summary, sources and failures; the escaping of
 * hostile text; the period's bounds; the atomic write; the binary's
 * options and exit codes; and the page opened in headless Chromium:
 * what it renders, that it asks the network for nothing, a screenshot
 * that is not blank.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <zlib.h>

#include "test.h"
#include "test_dmarcq.h"
#include "buf.h"
#include "html.h"
#include "query.h"
#include "util.h"

#define USEC		INT64_C(1000000)
#define DAY		(INT64_C(86400) * USEC)
/* "now": 2024-03-05T00:00:00Z */
#define NOW		(INT64_C(1709596800) * USEC)
/* 2024-02-01, the first day of the fixture's period */
#define FEB1		INT64_C(19754)

/* The period of most tests: 2024-02-01 to 2024-03-05, 34 days. */
#define SINCE		"2024-02-01"
#define UNTIL		"2024-03-06"
#define NDAYS		34

#define HOSTILE		"x\"><svg onload=alert(1)>.example"
#define HOSTILE_HTML	"x&quot;&gt;&lt;svg onload=alert(1)&gt;.example"

#define CHROMIUM_SECS	20

static char	 fixture_db[1024], empty_db[1024];
static char	 fixture_name[64], empty_name[64];

static void
db_setup(void)
{
	snprintf(fixture_name, sizeof(fixture_name), "dmarcq_html_%ld",
	    (long)getpid());
	snprintf(empty_name, sizeof(empty_name), "dmarcq_html_%ld_empty",
	    (long)getpid());
	dmarcq_db_create(fixture_name, 1, fixture_db, sizeof(fixture_db));
	dmarcq_db_load(fixture_db, "query", "fixture.sql");
	dmarcq_db_load(fixture_db, "html", "hostile.sql");
	dmarcq_db_create(empty_name, 0, empty_db, sizeof(empty_db));
}

static void
db_teardown(void)
{
	dmarcq_db_drop(fixture_name);
	dmarcq_db_drop(empty_name);
}

/* --- helpers ----------------------------------------------------------- */

static void
opts(struct query_opts *o, const char *domain, const char *since,
    const char *until)
{
	struct dm_err	 err = { 0 };

	query_opts_init(o);
	o->domain = domain;
	if (since != NULL) {
		ck_assert_msg(query_parse_time(since, NOW, &o->since,
		    &err) == 0, "%s", err.msg);
		o->has_since = 1;
	}
	if (until != NULL) {
		ck_assert_msg(query_parse_time(until, NOW, &o->until,
		    &err) == 0, "%s", err.msg);
		o->has_until = 1;
	}
}

/* The page of the fixture database for these filters (free it). */
static char *
page(const char *domain, const char *since, const char *until)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGconn			*conn;
	FILE			*f;
	char			*out = NULL;
	size_t			 len = 0;
	int			 rc;

	opts(&o, domain, since, until);
	conn = query_connect(fixture_db, &err);
	ck_assert_msg(conn != NULL, "connect: %s", err.msg);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	rc = html_write(conn, &o, NOW, f, &err);
	fclose(f);
	PQfinish(conn);
	ck_assert_msg(rc == 0, "html: %s", err.msg);
	ck_assert_msg(is_utf8(out, len), "the page is not UTF-8");
	return out;
}

/* What dmarcq cmd writes in CSV for the fixture's period (free it). */
/* Columns of dmarcq failures (query.c's failures_cols). */
#define FAILURES_COLS	16

static char *
query_csv(const char *name)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGconn			*conn;
	FILE			*f;
	char			*out = NULL;
	size_t			 len = 0;
	int			 rc;

	opts(&o, NULL, SINCE, UNTIL);
	o.format = QUERY_CSV;
	conn = query_connect(fixture_db, &err);
	ck_assert_msg(conn != NULL, "connect: %s", err.msg);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	rc = query_run(conn, query_find(name), &o, f, &err);
	fclose(f);
	PQfinish(conn);
	ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
	return out;
}

static int
count(const char *hay, const char *needle)
{
	size_t	 n = strlen(needle);
	int	 k = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		k++;
		hay += n;
	}
	return k;
}

/* s escaped as the page escapes it (static). */
static const char *
esc(const char *s)
{
	static struct buf	 b;

	buf_clear(&b);
	buf_init(&b, 4096);
	ck_assert_int_eq(html_escape(&b, s, 0), 0);
	buf_add(&b, "", 0);
	return buf_cstr(&b);
}

/* The section of the domain whose escaped name is dom (free it). */
static char *
section(const char *pg, const char *dom)
{
	char		 head[512];
	const char	*s, *e;

	snprintf(head, sizeof(head), "\" data-domain=\"%s\">\n<h2>", dom);
	ck_assert_msg((s = strstr(pg, head)) != NULL, "no section %s", dom);
	ck_assert_ptr_nonnull(e = strstr(s, "</section>"));
	return strndup(s, (size_t)(e - s));
}

struct item {
	const char	*key, *value;
};

/*
 * Check the elements that start with prefix (up to the key's value),
 * in order: their key and data-value are want's, n of them.
 */
static void
check_items(const char *sec, const char *prefix, const struct item *want,
    int n)
{
	const char	*p = sec, *q;
	char		 key[512], val[64];
	int		 k = 0;

	while ((p = strstr(p, prefix)) != NULL) {
		p += strlen(prefix);
		ck_assert_ptr_nonnull(q = strchr(p, '"'));
		snprintf(key, sizeof(key), "%.*s", (int)(q - p), p);
		ck_assert_msg(strncmp(q, "\" data-value=\"", 14) == 0,
		    "%s%s: no data-value", prefix, key);
		q += 14;
		snprintf(val, sizeof(val), "%.*s", (int)strcspn(q, "\""), q);
		ck_assert_msg(k < n, "%s: more than %d, %s=%s", prefix, n,
		    key, val);
		ck_assert_msg(strcmp(key, want[k].key) == 0 &&
		    strcmp(val, want[k].value) == 0, "%s #%d: %s=%s, want "
		    "%s=%s", prefix, k, key, val, want[k].key, want[k].value);
		k++;
	}
	ck_assert_msg(k == n, "%s: %d, want %d", prefix, k, n);
}

/*
 * The day bars of a section: every day of the period in order, each
 * with a bar; the days of want with their values, all others 0.
 */
static void
check_days(const char *sec, const struct item *want, int n)
{
	struct item	 all[NDAYS];
	char		 days[NDAYS][32];
	struct tm	 tm;
	time_t		 t;
	int		 i, j;

	for (i = 0; i < NDAYS; i++) {
		t = (time_t)((FEB1 + i) * 86400);
		gmtime_r(&t, &tm);
		strftime(days[i], sizeof(days[i]), "%Y-%m-%d", &tm);
		all[i].key = days[i];
		all[i].value = "0";
		for (j = 0; j < n; j++)
			if (strcmp(want[j].key, days[i]) == 0)
				all[i].value = want[j].value;
	}
	check_items(sec, "<rect class=\"day-bar\" data-day=\"", all, NDAYS);
}

/* --- the page's charts, element by element ----------------------------- */

static const struct item com_days[] = {
	{ "2024-02-27", "1234567" }, { "2024-03-02", "15" },
};
static const struct item com_rate[] = {
	{ "2024-02-27", "81.0" }, { "2024-03-02", "66.7" },
};
static const struct item com_fail[] = {
	{ "198.51.100.7", "234567" }, { "192.0.2.9", "5" },
};
static const struct item com_rep[] = {
	{ "google.com", "1234567" }, { "Yahoo! Inc.", "15" },
};
static const struct item com_disp[] = {
	{ "none", "1000010" }, { "quarantine", "5" }, { "reject", "234567" },
};
static const struct item org_days[] = { { "2024-03-03", "7" } };
static const struct item org_rate[] = { { "2024-03-03", "100.0" } };
static const struct item org_rep[] = {
	{ "Ev\\x1b[31mil, &quot;Corp&quot;", "7" },
};
static const struct item org_disp[] = {
	{ "none", "7" }, { "quarantine", "0" }, { "reject", "0" },
};
static const struct item x_days[] = {
	{ "2024-03-01", "57" }, { "2024-03-05", "21" },
};
static const struct item x_rate[] = {
	{ "2024-03-01", "0.0" }, { "2024-03-05", "4.8" },
};
/* the top 10 of 11: 203.0.113.11 (2 messages) is left out */
static const struct item x_fail[] = {
	{ "203.0.113.1", "12" }, { "203.0.113.2", "11" },
	{ "203.0.113.3", "10" }, { "203.0.113.4", "9" },
	{ "203.0.113.5", "8" }, { "203.0.113.6", "7" },
	{ "203.0.113.7", "6" }, { "203.0.113.8", "5" },
	{ "203.0.113.9", "4" }, { "203.0.113.10", "3" },
};
static const struct item x_rep[] = {
	{ "&lt;script&gt;alert(1)&lt;/script&gt;", "12" },
	{ "&quot;&gt;&lt;svg onload=alert(2)&gt;\\u202e\\x1b[31m", "11" },
	{ "A reporter whose name is longer than a label", "10" },
	{ "org4", "9" }, { "org5", "8" }, { "org6", "7" }, { "org7", "6" },
	{ "org8", "5" }, { "org9", "4" }, { "org10", "3" },
};
static const struct item x_disp[] = {
	{ "none", "25" }, { "quarantine", "11" }, { "reject", "42" },
};

static const struct {
	const char		*dom;	/* escaped */
	const struct item	*days, *rate, *fail, *rep, *disp;
	int			 ndays, nrate, nfail, nrep;
} charts[] = {
	{ "example.com", com_days, com_rate, com_fail, com_rep, com_disp,
	    nitems(com_days), nitems(com_rate), nitems(com_fail),
	    nitems(com_rep) },
	{ "example.org", org_days, org_rate, NULL, org_rep, org_disp,
	    nitems(org_days), nitems(org_rate), 0, nitems(org_rep) },
	{ HOSTILE_HTML, x_days, x_rate, x_fail, x_rep, x_disp,
	    nitems(x_days), nitems(x_rate), nitems(x_fail), nitems(x_rep) },
};

START_TEST(test_html_charts_show_every_figure)
{
	char	*pg = page(NULL, SINCE, UNTIL), *sec;

	sec = section(pg, charts[_i].dom);
	check_days(sec, charts[_i].days, charts[_i].ndays);
	check_items(sec, "<circle class=\"rate\" data-day=\"",
	    charts[_i].rate, charts[_i].nrate);
	check_items(sec, "<rect class=\"fail-bar\" data-source=\"",
	    charts[_i].fail, charts[_i].nfail);
	check_items(sec, "<rect class=\"reporter-bar\" data-org=\"",
	    charts[_i].rep, charts[_i].nrep);
	check_items(sec, "<rect class=\"disposition-bar\" "
	    "data-disposition=\"", charts[_i].disp, 3);
	/* every data point has a tooltip */
	ck_assert_int_eq(count(sec, "<title>"), NDAYS + charts[_i].nrate +
	    charts[_i].nfail + charts[_i].nrep + 3);
	if (charts[_i].nfail == 0)
		ck_assert_ptr_nonnull(strstr(sec, "No source failed DMARC in "
		    "this period."));
	free(sec);
	free(pg);
}
END_TEST

START_TEST(test_html_header_and_summary_table)
{
	char	*pg = page(NULL, SINCE, UNTIL);

	ck_assert_ptr_nonnull(strstr(pg, "<dd id=\"period\" "
	    "data-first-day=\"2024-02-01\" data-last-day=\"2024-03-05\" "
	    "data-days=\"34\">2024-02-01 to 2024-03-05, UTC: 34 days</dd>"));
	ck_assert_ptr_nonnull(strstr(pg, "<dd id=\"generated\" "
	    "data-time=\"2024-03-05T00:00:00Z\">2024-03-05 00:00 UTC by "
	    "dmarcq html</dd>"));
	ck_assert_ptr_nonnull(strstr(pg, "<dd id=\"domains\">example.com, "
	    "example.org, " HOSTILE_HTML "</dd>"));
	ck_assert_ptr_null(strstr(pg, "the default"));
	/* the fixtures' known figures (in their headers) */
	ck_assert_ptr_nonnull(strstr(pg, "<tr data-domain=\"example.com\">"
	    "<td class=\"name\"><a href=\"#d1\">example.com</a></td>"));
	ck_assert_ptr_nonnull(strstr(pg, "<td class=\"num\" "
	    "data-col=\"messages\" data-value=\"1234582\">1,234,582</td>"
	    "<td class=\"num\" data-col=\"dmarc_pass\" data-value=\"1000010\">"
	    "1,000,010</td><td class=\"num\" data-col=\"dmarc_fail\" "
	    "data-value=\"234572\">234,572</td><td class=\"num\" "
	    "data-col=\"pass_rate\" data-value=\"81.0\">81.0%</td>"));
	ck_assert_ptr_nonnull(strstr(pg, "data-col=\"quarantined\" "
	    "data-value=\"5\">5</td><td class=\"num\" data-col=\"rejected\" "
	    "data-value=\"234567\">234,567</td></tr>"));
	ck_assert_ptr_nonnull(strstr(pg, "<tr data-domain=\"" HOSTILE_HTML
	    "\"><td class=\"name\"><a href=\"#d3\">" HOSTILE_HTML "</a></td>"
	    "<td class=\"num\" data-col=\"reports\" data-value=\"12\">12</td>"
	    "<td class=\"num\" data-col=\"messages\" data-value=\"78\">"
	    "78</td><td class=\"num\" data-col=\"dmarc_pass\" "
	    "data-value=\"1\">1</td>"));
	ck_assert_ptr_nonnull(strstr(pg, "<p class=\"totals\">1,234,582 "
	    "messages in 2 reports: DMARC pass 1,000,010 (81.0%), fail "
	    "234,572.</p>"));
	ck_assert_int_eq(count(pg, "<section class=\"domain\""), 3);
	/* the command that gives the same figures */
	ck_assert_ptr_nonnull(strstr(pg, "<code>--since 2024-02-01 --until "
	    "2024-03-06</code>"));
	ck_assert_int_eq(strncmp(pg, "<!DOCTYPE html>\n", 16), 0);
	ck_assert_str_eq(pg + strlen(pg) - 8, "</html>\n");
	free(pg);
}
END_TEST

/* --- the same figures as dmarcq summary, sources, failures -------------- */

/*
 * RFC 4180 as dmarcq writes it: the cells of the rows after the header,
 * ncols each, into cells (free each and the array); returns the rows.
 */
static int
csv_rows(const char *s, int ncols, char ***cellsp)
{
	struct buf	 cell;
	char		**cells = NULL;
	int		 n = 0, quoted = 0, header = 1, start = 1;

	buf_init(&cell, 1 << 20);
	for (;; s++) {
		if (*s == '\0' && start)
			break;
		start = 0;
		if (quoted) {
			if (*s == '"' && s[1] == '"')
				buf_addc(&cell, *s++);
			else if (*s == '"')
				quoted = 0;
			else {
				ck_assert_int_ne(*s, '\0');
				buf_addc(&cell, *s);
			}
			continue;
		}
		if (*s == '"') {
			quoted = 1;
			continue;
		}
		if (*s == ',' || *s == '\r' || *s == '\0') {
			buf_add(&cell, "", 0);
			if (!header) {
				cells = xreallocarray(cells, (size_t)n + 1,
				    sizeof(*cells));
				cells[n++] = xstrdup(buf_cstr(&cell));
			}
			buf_reset(&cell);
			if (*s == '\r') {
				ck_assert_int_eq(*++s, '\n');
				header = 0;
				start = 1;
			}
			if (*s == '\0')
				break;
			continue;
		}
		buf_addc(&cell, *s);
	}
	buf_clear(&cell);
	ck_assert_int_eq(n % ncols, 0);
	*cellsp = cells;
	return n / ncols;
}

static void
cells_free(char **cells, int n)
{
	int	 i;

	for (i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

/* Sum of the data-values of the elements that start with prefix. */
static int64_t
sum_values(const char *sec, const char *prefix)
{
	const char	*p = sec;
	int64_t		 sum = 0;

	while ((p = strstr(p, prefix)) != NULL) {
		p = strstr(p, " data-value=\"");
		ck_assert_ptr_nonnull(p);
		p += 13;
		sum += strtoll(p, NULL, 10);
	}
	return sum;
}

START_TEST(test_html_same_figures_as_dmarcq)
{
	static const char *const cols[] = { "reports", "messages",
		"dmarc_pass", "dmarc_fail", "dkim_aligned", "spf_aligned",
		"quarantined", "rejected" };
	char		*pg = page(NULL, SINCE, UNTIL), *csv, **c, *sec, *row;
	char		 want[512];
	const char	*e, *doms[4];
	int64_t		 msgs;
	int		 n, r, f, d, shown[4], ndoms = 0;

	/* summary: every figure in the table, row by row */
	csv = query_csv("summary");
	n = csv_rows(csv, 9, &c);
	ck_assert_int_eq(n, 3);
	for (r = 0; r < n; r++) {
		snprintf(want, sizeof(want), "<tr data-domain=\"%s\">",
		    esc(c[r * 9]));
		ck_assert_msg((row = strstr(pg, want)) != NULL, "%s", want);
		row = strndup(row, strcspn(row, "\n"));
		for (f = 0; f < 8; f++) {
			snprintf(want, sizeof(want), " data-col=\"%s\" "
			    "data-value=\"%s\">", cols[f], c[r * 9 + 1 + f]);
			ck_assert_msg(strstr(row, want) != NULL, "%s: %s",
			    c[r * 9], want);
		}
		/* the day bars, the dispositions add up to the messages */
		sec = section(pg, esc(c[r * 9]));
		msgs = strtoll(c[r * 9 + 2], NULL, 10);
		ck_assert_int_eq(sum_values(sec, "<rect class=\"day-bar\""),
		    msgs);
		ck_assert_int_eq(sum_values(sec,
		    "<rect class=\"disposition-bar\""), msgs);
		free(sec);
		free(row);
	}
	cells_free(c, n * 9);
	free(csv);

	/* sources: per domain, their messages add up to the reporters' */
	csv = query_csv("sources");
	n = csv_rows(csv, 9, &c);
	ck_assert_int_eq(n, 17);
	for (e = "example.com"; e != NULL;
	    e = strcmp(e, "example.com") == 0 ? "example.org" : NULL) {
		msgs = 0;
		for (r = 0; r < n; r++)
			if (strcmp(c[r * 9], e) == 0)
				msgs += strtoll(c[r * 9 + 2], NULL, 10);
		sec = section(pg, e);
		ck_assert_int_eq(sum_values(sec,
		    "<rect class=\"reporter-bar\""), msgs);
		free(sec);
	}
	cells_free(c, n * 9);
	free(csv);

	/*
	 * failures (worst first, the domains mixed): the first HTML_TOP
	 * of each domain are its bars, the others not
	 */
	csv = query_csv("failures");
	n = csv_rows(csv, FAILURES_COLS, &c);
	ck_assert_int_eq(n, 13);
	for (r = 0; r < n; r++) {
		for (d = 0; d < ndoms; d++)
			if (strcmp(doms[d], c[r * FAILURES_COLS]) == 0)
				break;
		if (d == ndoms) {
			ck_assert_int_lt(ndoms, 4);
			doms[ndoms] = c[r * FAILURES_COLS];
			shown[ndoms++] = 0;
		}
		sec = section(pg, esc(c[r * FAILURES_COLS]));
		snprintf(want, sizeof(want), "<rect class=\"fail-bar\" "
		    "data-source=\"%s\" data-value=\"%s\"", c[r * FAILURES_COLS + 1],
		    c[r * FAILURES_COLS + 4]);
		ck_assert_msg((strstr(sec, want) != NULL) == (shown[d]++ <
		    HTML_TOP), "%s: %s", c[r * FAILURES_COLS], want);
		free(sec);
	}
	ck_assert_int_eq(ndoms, 2);
	ck_assert_int_eq(shown[1], 11);
	cells_free(c, n * FAILURES_COLS);
	free(csv);
	free(pg);
}
END_TEST

/* --- escaping ---------------------------------------------------------- */

static const struct {
	const char	*in;
	size_t		 max;
	const char	*out;
} esc_cases[] = {
	{ "plain.example", 0, "plain.example" },
	{ "", 0, "" },
	{ "<script>alert(1)</script>", 0,
	    "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "\"><svg onload=alert(1)>", 0,
	    "&quot;&gt;&lt;svg onload=alert(1)&gt;" },
	{ "a'b&c&amp;", 0, "a&#39;b&amp;c&amp;amp;" },
	{ "Ev\x1b[31mil\n\t\r\\", 0, "Ev\\x1b[31mil\\n\\t\\r\\\\" },
	{ "\x7f\x01\x1f", 0, "\\x7f\\x01\\x1f" },
	/* C1, bidi override, zero width space, BOM: shown, not obeyed */
	{ "\xc2\x85 \xe2\x80\xae rtl \xe2\x80\x8b\xef\xbb\xbf", 0,
	    "\\u0085 \\u202e rtl \\u200b\\ufeff" },
	/* invalid UTF-8: a lone byte, a cut sequence, an overlong '<' */
	{ "bad \xff \xe6\x97 \xc0\xbc", 0, "bad \\xff \\xe6\\x97 \\xc0\\xbc" },
	{ "\xe6\x97\xa5\xe6\x9c\xac \xc3\x9cn\xc3\xaf", 0,
	    "\xe6\x97\xa5\xe6\x9c\xac \xc3\x9cn\xc3\xaf" },
	/* cut: max - 1 characters and "…", counted before escaping */
	{ "abcdef", 4, "abc\xe2\x80\xa6" },
	{ "abcd", 4, "abcd" },
	{ "<<<<<", 3, "&lt;&lt;\xe2\x80\xa6" },
	{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5", 3,
	    "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6" },
	{ "\x1b\x1b\x1b", 2, "\\x1b\xe2\x80\xa6" },
};

/*
 * The page's statements that read records, planned as html_write() has
 * them planned: a domain's records through an index (seq scans off),
 * every domain's read straight, not through an array of every report's
 * id (an index probe per report, and a recheck of each row against the
 * whole array once the bitmap outgrows work_mem).
 */
START_TEST(test_html_record_reads_planned)
{
	static const Oid	 types[4] = { 25, 1184, 1184, 25 };
	const char		*vals[4] = { NULL, SINCE, UNTIL, "~" };
	PGconn			*conn;
	PGresult		*res;
	char			 sql[8192];
	const char		*line;
	int			 i, row, dom;

	conn = PQconnectdb(fixture_db);
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s",
	    PQerrorMessage(conn));
	for (dom = 0; dom <= 1; dom++) {
		vals[0] = dom ? "example.com" : NULL;
		PQclear(PQexec(conn, dom ? "SET enable_seqscan = off" :
		    "SET enable_seqscan = on"));
		for (i = 0; html_record_sql[i] != NULL; i++) {
			snprintf(sql, sizeof(sql), "EXPLAIN (COSTS OFF) %s",
			    html_record_sql[i]);
			res = PQexecParams(conn, sql, 4, types, vals, NULL,
			    NULL, 0);
			ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK,
			    "%s", PQerrorMessage(conn));
			for (row = 0; row < PQntuples(res); row++) {
				line = PQgetvalue(res, row, 0);
				if (dom)
					ck_assert_msg(strstr(line,
					    "Seq Scan on record_") == NULL,
					    "statement %d: %s", i, line);
				else
					ck_assert_msg(strstr(line,
					    "rep_id = ANY") == NULL,
					    "statement %d: %s", i, line);
			}
			PQclear(res);
		}
	}
	ck_assert_int_eq(i, 2);
	PQfinish(conn);
}
END_TEST

START_TEST(test_html_escape_table)
{
	struct buf	 b;

	buf_init(&b, 4096);
	ck_assert_int_eq(html_escape(&b, esc_cases[_i].in, esc_cases[_i].max),
	    0);
	buf_add(&b, "", 0);
	ck_assert_msg(strcmp(buf_cstr(&b), esc_cases[_i].out) == 0,
	    "case %d: got \"%s\"", _i, buf_cstr(&b));
	buf_clear(&b);
}
END_TEST

START_TEST(test_html_escape_says_when_full)
{
	struct buf	 b;

	buf_init(&b, 8);
	ck_assert_int_eq(html_escape(&b, "<<<", 0), -1);
	/* what fitted is whole: two references, not half a third */
	ck_assert_uint_eq(b.len, 8);
	ck_assert_int_eq(memcmp(b.data, "&lt;&lt;", 8), 0);
	buf_clear(&b);
}
END_TEST

/*
 * No text from the fixture comes out as markup: the only tags are the
 * page's own, and every hostile string shows as text.
 */
START_TEST(test_html_hostile_text_is_inert)
{
	char		*pg = page(NULL, SINCE, UNTIL), *sec;
	const char	*p;
	size_t		 i;

	ck_assert_int_eq(count(pg, "<script"), 0);
	ck_assert_int_eq(count(pg, "<svg"), 11);
	ck_assert_int_eq(count(pg, "<svg class=\""), 11);
	ck_assert_int_eq(count(pg, "onload="), count(pg,
	    "&lt;svg onload=alert("));
	ck_assert_int_eq(count(pg, "<b>"), 0);
	/* no raw control byte but newlines: ESC, U+0001 are escapes */
	for (i = 0; pg[i] != '\0'; i++)
		ck_assert_msg((unsigned char)pg[i] >= 0x20 || pg[i] == '\n',
		    "byte %#x at %zu", (unsigned char)pg[i], i);
	ck_assert_ptr_null(strstr(pg, "\xe2\x80\xae"));	/* U+202E */
	/* in text, in attributes, in tooltips */
	sec = section(pg, HOSTILE_HTML);
	ck_assert_ptr_nonnull(strstr(sec, "<text x=\"228\" y=\"16\" "
	    "text-anchor=\"end\">&lt;script&gt;alert(1)&lt;/script&gt;"
	    "</text><rect class=\"reporter-bar\" data-org=\"&lt;script&gt;"
	    "alert(1)&lt;/script&gt;\" data-value=\"12\""));
	ck_assert_ptr_nonnull(strstr(sec, "<title>&lt;script&gt;alert(1)"
	    "&lt;/script&gt;: 12 messages in 1 report</title>"));
	/* a label is cut to HTML_LABEL_MAX characters, its tooltip not */
	ck_assert_ptr_nonnull(strstr(sec, "text-anchor=\"end\">A reporter "
	    "whose name is longer\xe2\x80\xa6</text>"));
	ck_assert_ptr_nonnull(strstr(sec, "<title>A reporter whose name is "
	    "longer than a label: 10 messages"));
	ck_assert_ptr_nonnull(strstr(pg, "<h2>" HOSTILE_HTML "</h2>"));
	free(sec);
	sec = section(pg, "example.org");
	ck_assert_ptr_nonnull(strstr(sec, "text-anchor=\"end\">Ev\\x1b[31mil, "
	    "&quot;Corp&quot;</text>"));
	free(sec);
	/* nothing to fetch: no URL, no source, no link but to itself */
	ck_assert_int_eq(count(pg, "http:"), 0);
	ck_assert_int_eq(count(pg, "https:"), 0);
	ck_assert_int_eq(count(pg, "//"), 0);
	ck_assert_int_eq(count(pg, "src="), 0);
	ck_assert_int_eq(count(pg, "url("), 0);
	ck_assert_int_eq(count(pg, "@import"), 0);
	for (p = pg; (p = strstr(p, "href=")) != NULL; p++)
		ck_assert_msg(strncmp(p, "href=\"#d", 8) == 0, "%.40s", p);
	ck_assert_int_eq(count(pg, "href="), 3);
	ck_assert_ptr_nonnull(strstr(pg, "<meta http-equiv=\"Content-Security"
	    "-Policy\" content=\"default-src 'none'; style-src "
	    "'unsafe-inline'\">"));
	free(pg);
}
END_TEST

/* --- the period -------------------------------------------------------- */

static const struct {
	const char	*since, *until;
	int64_t		 day0;		/* days since the epoch */
	int		 ndays, dflt;
} period_cases[] = {
	{ SINCE, UNTIL, FEB1, NDAYS, 0 },
	/* whole days: since back to midnight, until up to the next */
	{ "2024-03-05T13:00:00Z", "2024-03-05T14:00:00Z", FEB1 + 33, 1, 0 },
	{ "2024-02-01T23:59:59Z", "2024-02-02T00:00:00.000001Z", FEB1, 2, 0 },
	/* the default: 30 days up to until's last day (2024-03-05) */
	{ NULL, UNTIL, FEB1 + 4, 30, 1 },
	/* ... or up to now (NOW is midnight: 2024-03-04 is the last day) */
	{ NULL, NULL, FEB1 + 3, 30, 1 },
	{ "2d", NULL, FEB1 + 31, 2, 0 },
	/* before the epoch, days round down */
	{ "1969-12-31T12:00:00Z", "1970-01-02", -1, 2, 0 },
	/* 400 days is the most */
	{ "2023-02-01", "2024-03-07", FEB1 - 365, 400, 0 },
};

START_TEST(test_html_period_is_whole_days)
{
	struct query_opts	 o;
	struct html_period	 p;
	struct dm_err		 err = { 0 };

	opts(&o, NULL, period_cases[_i].since, period_cases[_i].until);
	ck_assert_msg(html_period(&o, NOW, &p, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(p.day0, period_cases[_i].day0);
	ck_assert_int_eq(p.ndays, period_cases[_i].ndays);
	ck_assert_int_eq(p.dflt, period_cases[_i].dflt);
	ck_assert_int_eq(p.since, p.day0 * DAY);
	ck_assert_int_eq(p.until, (p.day0 + p.ndays) * DAY);
}
END_TEST

START_TEST(test_html_period_bounds)
{
	struct query_opts	 o;
	struct html_period	 p;
	struct dm_err		 err = { 0 };

	opts(&o, NULL, "2023-02-01", "2024-03-08");
	ck_assert_int_eq(html_period(&o, NOW, &p, &err), -1);
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_str_eq(err.msg, "a period of 401 days is over 400: narrow "
	    "it with --since and --until");
	/* since after now, without --until */
	opts(&o, NULL, "2024-03-06", NULL);
	ck_assert_int_eq(html_period(&o, NOW, &p, &err), -1);
	ck_assert_str_eq(err.msg, "--since is not before now");
	opts(&o, NULL, "2024-03-06", "2024-03-06");
	ck_assert_int_eq(html_period(&o, NOW, &p, &err), -1);
	ck_assert_str_eq(err.msg, "--since is not before --until");
}
END_TEST

START_TEST(test_html_empty_period_says_so)
{
	char	*pg = page(NULL, "2023-01-01", "2023-02-01");

	ck_assert_ptr_nonnull(strstr(pg, "<p class=\"empty\" "
	    "id=\"no-reports\">No reports in this period.</p>"));
	ck_assert_ptr_nonnull(strstr(pg, "<dd id=\"domains\">none</dd>"));
	ck_assert_int_eq(count(pg, "<section class=\"domain\""), 0);
	ck_assert_int_eq(count(pg, "<svg"), 0);
	ck_assert_int_eq(count(pg, "<table"), 0);
	free(pg);
	/* a domain without reports: named, and empty */
	pg = page("Example.NET", SINCE, UNTIL);
	ck_assert_ptr_nonnull(strstr(pg, "No reports in this period."));
	ck_assert_ptr_nonnull(strstr(pg, "<dd id=\"domains\">example.net"
	    "</dd>"));
	ck_assert_ptr_nonnull(strstr(pg, "<code>--since 2024-02-01 --until "
	    "2024-03-06 --domain example.net</code>"));
	free(pg);
}
END_TEST

START_TEST(test_html_domain_filter)
{
	char	*pg = page("EXAMPLE.org", SINCE, UNTIL), *sec;

	ck_assert_int_eq(count(pg, "<section class=\"domain\""), 1);
	ck_assert_int_eq(count(pg, "<tr data-domain="), 1);
	sec = section(pg, "example.org");
	check_days(sec, org_days, nitems(org_days));
	free(sec);
	free(pg);
	/* a domain that is markup goes to the database as a parameter */
	pg = page(HOSTILE, SINCE, UNTIL);
	ck_assert_int_eq(count(pg, "<section class=\"domain\""), 1);
	sec = section(pg, HOSTILE_HTML);
	check_items(sec, "<rect class=\"disposition-bar\" data-disposition=\"",
	    x_disp, 3);
	free(sec);
	free(pg);
}
END_TEST

/* The default period: the 30 days up to now, and the page says so. */
START_TEST(test_html_default_period)
{
	char	*pg = page(NULL, NULL, NULL), *sec;

	ck_assert_ptr_nonnull(strstr(pg, "data-first-day=\"2024-02-04\" "
	    "data-last-day=\"2024-03-04\" data-days=\"30\">2024-02-04 to "
	    "2024-03-04, UTC: 30 days (the default: the last 30 days)</dd>"));
	sec = section(pg, "example.com");
	ck_assert_int_eq(count(sec, "<rect class=\"day-bar\""), 30);
	free(sec);
	free(pg);
}
END_TEST

/* --- writing the file -------------------------------------------------- */

/* Entries of dir but . and .. */
static int
dir_entries(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static char *
read_file(const char *path)
{
	struct buf	 b;
	char		*s;
	int		 fd;

	buf_init(&b, 16 << 20);
	ck_assert_int_ne(fd = open(path, O_RDONLY), -1);
	ck_assert_int_eq(buf_read_fd(&b, fd), 0);
	close(fd);
	buf_add(&b, "", 0);
	s = xstrdup(buf_cstr(&b));
	buf_clear(&b);
	return s;
}

static void
write_file(const char *path, const char *s)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(s, f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_html_write_file_is_atomic)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	struct stat		 st;
	char			 dir[] = "/tmp/check_html.XXXXXX";
	char			 path[PATH_MAX], *s;
	PGconn			*conn, *bare;
	mode_t			 mask;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	opts(&o, NULL, SINCE, UNTIL);
	conn = query_connect(fixture_db, &err);
	ck_assert_msg(conn != NULL, "%s", err.msg);

	/* a good run replaces the file, as readable as a new file is */
	snprintf(path, sizeof(path), "%s/report.html", dir);
	write_file(path, "old page\n");
	mask = umask(022);
	ck_assert_msg(html_write_file(conn, &o, NOW, path, &err) == 0, "%s",
	    err.msg);
	umask(mask);
	s = read_file(path);
	ck_assert_int_eq(count(s, "<rect class=\"day-bar\""), 3 * NDAYS);
	ck_assert_str_eq(s + strlen(s) - 8, "</html>\n");
	free(s);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(dir_entries(dir), 1);

	/* a run that fails in the database leaves it as it was */
	write_file(path, "old page\n");
	bare = PQconnectdb(empty_db);	/* no schema: the queries fail */
	ck_assert_int_eq(PQstatus(bare), CONNECTION_OK);
	ck_assert_int_eq(html_write_file(bare, &o, NOW, path, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_msg(strncmp(err.msg, "html: summary: ", 15) == 0, "%s",
	    err.msg);
	PQfinish(bare);
	s = read_file(path);
	ck_assert_str_eq(s, "old page\n");
	free(s);
	ck_assert_int_eq(dir_entries(dir), 1);

	/* a directory that is not there, or is a file: nothing is made */
	snprintf(path, sizeof(path), "%s/missing/report.html", dir);
	ck_assert_int_eq(html_write_file(conn, &o, NOW, path, &err), -1);
	ck_assert_int_eq(err.scope, DM_EINTERNAL);
	ck_assert_msg(strstr(err.msg, "can't create a temporary file next "
	    "to it: No such file or directory") != NULL, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/report.html/x.html", dir);
	ck_assert_int_eq(html_write_file(conn, &o, NOW, path, &err), -1);
	ck_assert_msg(strstr(err.msg, "Not a directory") != NULL, "%s",
	    err.msg);
	/* a directory as the file: it stays a directory */
	ck_assert_int_eq(html_write_file(conn, &o, NOW, dir, &err), -1);
	ck_assert_int_eq(dir_entries(dir), 1);
	ck_assert_int_eq(html_write_file(conn, &o, NOW, "", &err), -1);
	ck_assert_str_eq(err.msg, "output : not a file name");
	/* root writes anywhere: only others can test a read-only dir */
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(dir, 0555), 0);
		snprintf(path, sizeof(path), "%s/new.html", dir);
		ck_assert_int_eq(html_write_file(conn, &o, NOW, path, &err),
		    -1);
		ck_assert_int_eq(chmod(dir, 0700), 0);
		ck_assert_int_eq(dir_entries(dir), 1);
	}
	PQfinish(conn);
	snprintf(path, sizeof(path), "%s/report.html", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_html_write_errors_are_reported)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGconn			*conn;
	FILE			*f;

	opts(&o, NULL, SINCE, UNTIL);
	conn = query_connect(fixture_db, &err);
	ck_assert_msg(conn != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(f = fopen("/dev/full", "w"));
	ck_assert_int_eq(html_write(conn, &o, NOW, f, &err), -1);
	ck_assert_int_eq(err.scope, DM_EINTERNAL);
	ck_assert_str_eq(err.msg, "output: No space left on device");
	fclose(f);
	PQfinish(conn);
}
END_TEST

/* --- the binary -------------------------------------------------------- */

START_TEST(test_dmarcq_html_usage)
{
	char		 dir[] = "/tmp/check_html.XXXXXX", path[PATH_MAX];
	struct bin	 r;

	run_bin(&r, NULL, "html", "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "usage: dmarcq [-c FILE] [--db "
	    "CONNINFO] html -o FILE [--domain D]\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "Without --since: the last 30 "
	    "days up to\n--until, or up to today (today included)."));
	ck_assert_ptr_nonnull(strstr(r.out, "  -o, --output FILE  where to "
	    "write the page; - for standard output\n"));
	bin_free(&r);
	run_bin(&r, NULL, "--help", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\n  html      one HTML page with "
	    "charts of the above: dmarcq html -o FILE\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "\n  -o, --output FILE  html "
	    "only"));
	bin_free(&r);

	run_bin(&r, NULL, "html", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "dmarcq: html needs -o FILE (- for standard "
	    "output)\nTry 'dmarcq --help'.\n");
	bin_free(&r);
	run_bin(&r, NULL, "summary", "-o", "x.html", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "dmarcq: -o is for html only\n"));
	bin_free(&r);
	run_bin(&r, NULL, "html", "-o", "-", "--limit", "5", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "html takes no --format or "
	    "--limit"));
	bin_free(&r);
	run_bin(&r, NULL, "html", "-o", "-", "extra", NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "html takes no argument (got "
	    "\"extra\")"));
	bin_free(&r);

	/* over 400 days: refused before anything is written */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.html", dir);
	run_bin(&r, NULL, "html", "-o", path, "--since", "2020-01-01",
	    "--until", "2022-01-01", "--db", fixture_db, NULL);
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.err, "dmarcq: a period of 731 days is over 400: "
	    "narrow it with --since and --until\nTry 'dmarcq --help'.\n");
	ck_assert_int_eq(dir_entries(dir), 0);
	bin_free(&r);
	rmdir(dir);
}
END_TEST

START_TEST(test_dmarcq_html_writes_the_page)
{
	char		 dir[] = "/tmp/check_html.XXXXXX", path[PATH_MAX];
	char		*s;
	struct bin	 r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.html", dir);
	run_bin(&r, NULL, "html", "-o", path, "--since", SINCE, "--until",
	    UNTIL, "--db", fixture_db, NULL);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(r.out, "");
	bin_free(&r);
	s = read_file(path);
	ck_assert_int_eq(count(s, "<rect class=\"day-bar\""), 3 * NDAYS);
	ck_assert_int_eq(count(s, "<circle class=\"rate\" data-day="), 5);
	free(s);

	/* -o -: standard output; the options after the command */
	run_bin(&r, fixture_db, "html", "--since", SINCE, "--until", UNTIL,
	    "--domain", "example.com", "--output", "-", NULL);
	ck_assert_msg(r.status == 0, "%d: %s", r.status, r.err);
	ck_assert_int_eq(count(r.out, "<rect class=\"day-bar\""), NDAYS);
	ck_assert_str_eq(r.out + strlen(r.out) - 8, "</html>\n");
	bin_free(&r);

	/* nothing in the period: still a page, and success */
	run_bin(&r, fixture_db, "html", "-o", "-", "--until", "2023-01-01",
	    NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "No reports in this period."));
	ck_assert_ptr_nonnull(strstr(r.out, "data-days=\"30\""));
	bin_free(&r);

	/* the file can't be written: 1, and no file */
	snprintf(path, sizeof(path), "%s/missing/r.html", dir);
	run_bin(&r, fixture_db, "html", "-o", path, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "can't create a temporary file"));
	bin_free(&r);
	/* the database can't be reached: 3 */
	snprintf(path, sizeof(path), "%s/r.html", dir);
	unlink(path);
	run_bin(&r, "host=127.0.0.1 port=1", "html", "-o", path, NULL);
	ck_assert_int_eq(r.status, 3);
	bin_free(&r);
	ck_assert_int_eq(dir_entries(dir), 0);
	rmdir(dir);
}
END_TEST

/* --- in a browser ------------------------------------------------------ */

/* The chromium on PATH, or NULL. */
static const char *
find_chromium(void)
{
	static char	 path[PATH_MAX];
	const char	*p = getenv("PATH"), *e;

	for (; p != NULL && *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/chromium", (int)(e - p), p);
		if (access(path, X_OK) == 0)
			return path;
	}
	return NULL;
}

/*
 * Run chromium headless on the file url with extra arguments (NULL-
 * terminated), standard output to out (NULL: /dev/null); kill it past
 * CHROMIUM_SECS. Fails the test unless it exits 0.
 */
static void
chromium(const char *bin, const char *profile, const char *out,
    const char *url, ...)
{
	char		 prof[PATH_MAX + 32];
	const char	*argv[24];
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	va_list		 ap;
	pid_t		 pid;
	int		 argc = 0, fd, st, waited = 0;

	snprintf(prof, sizeof(prof), "--user-data-dir=%s", profile);
	argv[argc++] = bin;
	argv[argc++] = "--headless";
	argv[argc++] = "--no-sandbox";		/* root needs it */
	argv[argc++] = "--disable-gpu";
	argv[argc++] = prof;
	argv[argc++] = "--no-first-run";
	/* any name the page would look up fails */
	argv[argc++] = "--host-resolver-rules=MAP * ~NOTFOUND";
	va_start(ap, url);
	while (argc < 22 && (argv[argc] = va_arg(ap, const char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc++] = url;
	argv[argc] = NULL;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		setpgid(0, 0);	/* its helpers go with it on a timeout */
		fd = open(out != NULL ? out : "/dev/null",
		    O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, STDOUT_FILENO);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDERR_FILENO);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (waited++ > CHROMIUM_SECS * 20) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("chromium: over %d s", CHROMIUM_SECS);
		}
		nanosleep(&ts, NULL);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "chromium: status %#x", st);
}

/*
 * Elements of a serialised DOM: each tag outside attribute values, so
 * that markup inside an attribute (data-org="<script>...") is not
 * taken for an element. Returns the tags that start with prefix; with
 * on set, also counts attributes whose name starts with "on".
 */
static int
dom_tags(const char *dom, const char *prefix, int *on)
{
	const char	*p, *t;
	int		 n = 0, quoted;

	for (p = dom; (p = strchr(p, '<')) != NULL; ) {
		t = p;
		if (strncmp(p, "<!--", 4) == 0) {
			ck_assert_ptr_nonnull(p = strstr(p, "-->"));
			continue;
		}
		if (strncmp(t, prefix, strlen(prefix)) == 0)
			n++;
		for (quoted = 0, p++; *p != '\0'; p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (!quoted && *p == '>')
				break;
			else if (!quoted && on != NULL && (p[-1] == ' ' ||
			    p[-1] == '\n') && strncasecmp(p, "on", 2) == 0)
				(*on)++;
		}
	}
	return n;
}

/* The PNG at path, decoded: pixels not white, and those near black. */
static void
png_ink(const char *path, long *ink, long *dark)
{
	struct buf	 f;
	unsigned char	*p, *end, *raw, *prev, *cur, a, b, c;
	unsigned char	*idat = NULL;
	size_t		 nidat = 0, stride;
	uLongf		 rawlen;
	uint32_t	 len, w = 0, h = 0;
	int		 bpp = 0, fd, pa, pb, pc, x, y, i;

	buf_init(&f, 64 << 20);
	ck_assert_int_ne(fd = open(path, O_RDONLY), -1);
	ck_assert_int_eq(buf_read_fd(&f, fd), 0);
	close(fd);
	ck_assert_uint_gt(f.len, 8);
	ck_assert_int_eq(memcmp(f.data, "\x89PNG\r\n\x1a\n", 8), 0);
	for (p = (unsigned char *)f.data + 8,
	    end = (unsigned char *)f.data + f.len; p + 12 <= end;
	    p += 12 + len) {
		len = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
		ck_assert_uint_le(len, (size_t)(end - p) - 12);
		if (memcmp(p + 4, "IHDR", 4) == 0) {
			w = (uint32_t)p[8] << 24 | p[9] << 16 | p[10] << 8 |
			    p[11];
			h = (uint32_t)p[12] << 24 | p[13] << 16 | p[14] << 8 |
			    p[15];
			ck_assert_int_eq(p[16], 8);	/* bit depth */
			ck_assert_msg(p[17] == 2 || p[17] == 6, "colour type "
			    "%d", p[17]);
			ck_assert_int_eq(p[20], 0);	/* not interlaced */
			bpp = p[17] == 6 ? 4 : 3;
		} else if (memcmp(p + 4, "IDAT", 4) == 0) {
			idat = xreallocarray(idat, nidat + len, 1);
			memcpy(idat + nidat, p + 8, len);
			nidat += len;
		}
	}
	ck_assert_msg(w == 1024 && h == 2000, "%ux%u", w, h);
	stride = (size_t)w * bpp;
	rawlen = (uLongf)(h * (stride + 1));
	raw = xmalloc(rawlen);
	ck_assert_int_eq(uncompress(raw, &rawlen, idat, nidat), Z_OK);
	ck_assert_uint_eq(rawlen, h * (stride + 1));
	*ink = *dark = 0;
	for (y = 0; y < (int)h; y++) {
		cur = raw + (size_t)y * (stride + 1) + 1;
		prev = y > 0 ? cur - (stride + 1) : NULL;
		for (i = 0; i < (int)stride; i++) {
			a = i >= bpp ? cur[i - bpp] : 0;
			b = prev != NULL ? prev[i] : 0;
			c = i >= bpp && prev != NULL ? prev[i - bpp] : 0;
			switch (cur[-1]) {
			case 0:
				break;
			case 1:
				cur[i] += a;
				break;
			case 2:
				cur[i] += b;
				break;
			case 3:
				cur[i] += (a + b) / 2;
				break;
			case 4:
				pa = abs(b - c);
				pb = abs(a - c);
				pc = abs(a + b - 2 * c);
				cur[i] += pa <= pb && pa <= pc ? a :
				    pb <= pc ? b : c;
				break;
			default:
				ck_abort_msg("PNG filter %d", cur[-1]);
			}
		}
		for (x = 0; x < (int)w; x++) {
			p = cur + (size_t)x * bpp;
			if (p[0] < 250 || p[1] < 250 || p[2] < 250)
				(*ink)++;
			if (p[0] < 100 && p[1] < 100 && p[2] < 100)
				(*dark)++;
		}
	}
	free(raw);
	free(idat);
	buf_clear(&f);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

START_TEST(test_html_renders_in_chromium)
{
	const char	*bin = find_chromium(), *ci = getenv("CI");
	char		 dir[] = "/tmp/check_html.XXXXXX";
	char		 html[PATH_MAX], url[PATH_MAX + 16], dom[PATH_MAX];
	char		 netlog[PATH_MAX + 32], profile[PATH_MAX];
	char		 shot[PATH_MAX + 32], control[PATH_MAX];
	char		*s, *log;
	struct query_opts o;
	struct dm_err	 err = { 0 };
	PGconn		*conn;
	long		 ink, dark;
	int		 on = 0;

	if (bin == NULL) {
		ck_assert_msg(ci == NULL || strcmp(ci, "true") != 0,
		    "chromium is not installed under CI");
		fprintf(stderr, "chromium not found: browser test "
		    "skipped\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(html, sizeof(html), "%s/page.html", dir);
	snprintf(control, sizeof(control), "%s/control.html", dir);
	snprintf(dom, sizeof(dom), "%s/dom.html", dir);
	snprintf(profile, sizeof(profile), "%s/profile", dir);
	opts(&o, NULL, SINCE, UNTIL);
	ck_assert_ptr_nonnull(conn = query_connect(fixture_db, &err));
	ck_assert_msg(html_write_file(conn, &o, NOW, html, &err) == 0, "%s",
	    err.msg);
	PQfinish(conn);

	/* what the browser built from the page */
	snprintf(url, sizeof(url), "file://%s", html);
	snprintf(netlog, sizeof(netlog), "--log-net-log=%s/page.netlog", dir);
	chromium(bin, profile, dom, url, "--dump-dom", netlog, NULL);
	s = read_file(dom);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"day-bar\" data-day=\"",
	    NULL), 3 * NDAYS);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"day-bar\" data-day=\""
	    "2024-02-27\" data-value=\"1234567\"", NULL), 1);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"day-bar\" data-day=\""
	    "2024-03-05\" data-value=\"21\"", NULL), 1);
	ck_assert_int_eq(dom_tags(s, "<circle class=\"rate\" data-day=\"",
	    NULL), 5);
	ck_assert_int_eq(dom_tags(s, "<circle class=\"rate\" data-day=\""
	    "2024-02-27\" data-value=\"81.0\"", NULL), 1);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"fail-bar\" data-source=\"",
	    NULL), 12);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"fail-bar\" data-source=\""
	    "198.51.100.7\" data-value=\"234567\"", NULL), 1);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"reporter-bar\" data-org=",
	    NULL), 13);
	ck_assert_int_eq(dom_tags(s, "<rect class=\"disposition-bar\" ", NULL),
	    9);
	ck_assert_int_eq(dom_tags(s, "<section class=\"domain\"", NULL), 3);
	/* the hostile text became no element and no handler */
	ck_assert_int_eq(dom_tags(s, "<svg", &on), 11);
	ck_assert_int_eq(on, 0);
	ck_assert_int_eq(dom_tags(s, "<script", NULL), 0);
	ck_assert_int_eq(dom_tags(s, "<b>", NULL), 0);
	ck_assert_int_eq(dom_tags(s, "<img", NULL), 0);
	ck_assert_ptr_nonnull(strstr(s, "<title>&lt;script&gt;alert(1)"
	    "&lt;/script&gt;: 12 messages in 1 report</title>"));
	free(s);

	/*
	 * It asked the network for nothing: a request of the page's has
	 * the file:// origin in the net log (Chromium's own background
	 * requests have none). The control page shows that it would.
	 */
	s = read_file(netlog + strlen("--log-net-log="));
	ck_assert_int_eq(count(s, "\"network_isolation_key\":\"file://"), 0);
	free(s);
	write_file(control, "<!DOCTYPE html><title>control</title>"
	    "<img src=\"http://example.invalid/x.png\">\n");
	snprintf(url, sizeof(url), "file://%s", control);
	snprintf(netlog, sizeof(netlog), "--log-net-log=%s/control.netlog",
	    dir);
	chromium(bin, profile, NULL, url, "--dump-dom", netlog, NULL);
	log = read_file(netlog + strlen("--log-net-log="));
	ck_assert_int_gt(count(log, "\"network_isolation_key\":\"file://"), 0);
	free(log);

	/* and drew it: a screenshot with text and bars in it */
	snprintf(url, sizeof(url), "file://%s", html);
	snprintf(shot, sizeof(shot), "--screenshot=%s/shot.png", dir);
	chromium(bin, profile, NULL, url, shot, "--window-size=1024,2000",
	    "--hide-scrollbars", NULL);
	png_ink(shot + strlen("--screenshot="), &ink, &dark);
	ck_assert_msg(ink > 40000 && dark > 10000, "ink %ld, dark %ld", ink,
	    dark);

	/* the page as a blank one gives none: the measure can fail */
	write_file(control, "<!DOCTYPE html><title>blank</title>\n");
	snprintf(url, sizeof(url), "file://%s", control);
	chromium(bin, profile, NULL, url, shot, "--window-size=1024,2000",
	    "--hide-scrollbars", NULL);
	png_ink(shot + strlen("--screenshot="), &ink, &dark);
	ck_assert_msg(ink == 0 && dark == 0, "blank: ink %ld, dark %ld", ink,
	    dark);

	/* the profile, the logs, the pages: all in dir */
	ck_assert_int_eq(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("html");
	TCase	*tc = tcase_create("html");

	/* the whole program is skipped without a database */
	(void)test_need_db();
	tcase_add_unchecked_fixture(tc, db_setup, db_teardown);
	tcase_add_loop_test(tc, test_html_charts_show_every_figure, 0,
	    nitems(charts));
	tcase_add_test(tc, test_html_header_and_summary_table);
	tcase_add_test(tc, test_html_same_figures_as_dmarcq);
	tcase_add_test(tc, test_html_record_reads_planned);
	tcase_add_loop_test(tc, test_html_escape_table, 0, nitems(esc_cases));
	tcase_add_test(tc, test_html_escape_says_when_full);
	tcase_add_test(tc, test_html_hostile_text_is_inert);
	tcase_add_loop_test(tc, test_html_period_is_whole_days, 0,
	    nitems(period_cases));
	tcase_add_test(tc, test_html_period_bounds);
	tcase_add_test(tc, test_html_empty_period_says_so);
	tcase_add_test(tc, test_html_domain_filter);
	tcase_add_test(tc, test_html_default_period);
	tcase_add_test(tc, test_html_write_file_is_atomic);
	tcase_add_test(tc, test_html_write_errors_are_reported);
	tcase_add_test(tc, test_dmarcq_html_usage);
	tcase_add_test(tc, test_dmarcq_html_writes_the_page);
	/* Chromium starts four times: some 4 s, each killed past 20 */
	tcase_add_test(tc, test_html_renders_in_chromium);
	tcase_set_timeout(tc, 5 * CHROMIUM_SECS);
	suite_add_tcase(s, tc);
	return s;
}
