/*
 * html.c: dmarcq html: one self-contained HTML page with charts drawn
 * as inline SVG by hand. The page holds no script and fetches nothing
 * (its Content-Security-Policy forbids both, should a text ever slip
 * through); it prints in black and white: every bar and point carries
 * its value as text or in a legend, a <title> tooltip, and data-*
 * attributes that tests and scripts can read.
 *
 * Distrusted: every text from the database. Domains and org names come
 * from anyone who can mail a report: each goes through html_escape().
 * The filters reach the database only as parameters. Numbers are
 * written with integer arithmetic, so no locale changes a decimal point.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bounds.h"
#include "buf.h"
#include "html.h"
#include "query.h"
#include "util.h"

/* Type oids of the parameters (pg_type.h is a server header). */
#define OID_TEXT	25
#define OID_INT8	20
#define OID_TIMESTAMPTZ	1184

#define USEC		INT64_C(1000000)
#define DAY_USEC	(INT64_C(86400) * USEC)
#define TEXT_MAX	(64u << 10)	/* one escaped text */

/* --- the period -------------------------------------------------------- */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t	 q = a / b;

	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

int
html_period(const struct query_opts *o, int64_t now, struct html_period *p,
    struct dm_err *err)
{
	int64_t	 until, first, last;

	until = o->has_until ? o->until : now;
	if (o->has_since && o->since >= until)
		return dm_err_set(err, DM_ECONFIG, "--since is not before %s",
		    o->has_until ? "--until" : "now");
	/* the day of until's last microsecond is the last one shown */
	last = floor_div(until - 1, DAY_USEC);
	first = o->has_since ? floor_div(o->since, DAY_USEC) :
	    last - (HTML_DEFAULT_DAYS - 1);
	if (last - first + 1 > HTML_MAX_DAYS)
		return dm_err_set(err, DM_ECONFIG, "a period of %lld days is "
		    "over %d: narrow it with --since and --until",
		    (long long)(last - first + 1), HTML_MAX_DAYS);
	p->day0 = first;
	p->ndays = (int)(last - first + 1);
	p->since = first * DAY_USEC;
	p->until = (last + 1) * DAY_USEC;
	p->dflt = !o->has_since;
	return 0;
}

/* --- text -------------------------------------------------------------- */

int
html_escape(struct buf *b, const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i, n, cps = 0, keep;
	uint32_t		 c;
	int			 rc = 0;

	for (i = 0; i < len; i += n, cps++)
		if ((n = dm_utf8_dec(p + i, len - i, NULL)) == 0)
			n = 1;
	keep = max > 0 && cps > max ? max - 1 : cps;
	for (i = 0; i < len && keep > 0 && rc == 0; i += n, keep--) {
		if ((n = dm_utf8_dec(p + i, len - i, &c)) == 0) {
			rc = buf_printf(b, "\\x%02x", p[i]);
			n = 1;
			continue;
		}
		switch (c) {
		case '&':
			rc = buf_adds(b, "&amp;");
			break;
		case '<':
			rc = buf_adds(b, "&lt;");
			break;
		case '>':
			rc = buf_adds(b, "&gt;");
			break;
		case '"':
			rc = buf_adds(b, "&quot;");
			break;
		case '\'':
			rc = buf_adds(b, "&#39;");
			break;
		case '\\':
			rc = buf_adds(b, "\\\\");
			break;
		case '\n':
			rc = buf_adds(b, "\\n");
			break;
		case '\r':
			rc = buf_adds(b, "\\r");
			break;
		case '\t':
			rc = buf_adds(b, "\\t");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				rc = buf_printf(b, "\\x%02x", (unsigned)c);
			else if (is_format_char(c))
				rc = buf_printf(b, "\\u%04x", (unsigned)c);
			else
				rc = buf_add(b, p + i, n);
			break;
		}
	}
	if (rc == 0 && max > 0 && cps > max)
		rc = buf_adds(b, "\xe2\x80\xa6");
	return rc;
}

/* --- numbers: integers only, whatever the locale ------------------------ */

/* 1234567 as 1,234,567. */
static const char *
fmt_count(int64_t v, char out[32])
{
	char	 d[24];
	size_t	 n, i, o = 0;

	if (v < 0) {
		out[o++] = '-';
		v = -v;	/* counts are sums of bigint >= 0: no INT64_MIN */
	}
	n = (size_t)snprintf(d, sizeof(d), "%lld", (long long)v);
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = d[i];
	}
	out[o] = '\0';
	return out;
}

/* An axis label: 950, 1,500, 15k, 1.5M, 2.25G. */
static const char *
fmt_compact(int64_t v, char out[32])
{
	static const struct {
		int64_t	 unit;
		char	 sym;
	} units[] = {
		{ INT64_C(1000000000000), 'T' }, { INT64_C(1000000000), 'G' },
		{ INT64_C(1000000), 'M' }, { INT64_C(1000), 'k' },
	};
	char	 frac[8];
	size_t	 i;
	int64_t	 f;
	int	 n;

	if (v < 10000)
		return fmt_count(v, out);
	for (i = 0; i < nitems(units) - 1 && v < units[i].unit; i++)
		;
	/* three decimals, trailing zeros dropped */
	f = v % units[i].unit / (units[i].unit / 1000);
	n = snprintf(frac, sizeof(frac), ".%03lld", (long long)f);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = '\0';
	snprintf(out, 32, "%lld%s%c", (long long)(v / units[i].unit),
	    n > 1 ? frac : "", units[i].sym);
	return out;
}

/* num / den in per mille, rounded half up, 0 to 1000. */
static int
per_mille(int64_t num, int64_t den)
{
	if (den <= 0 || num <= 0)
		return 0;
	if (num >= den)
		return 1000;
	if (num <= INT64_MAX / 2000)
		return (int)(((uint64_t)num * 2000 + (uint64_t)den) /
		    (2 * (uint64_t)den));
	return (int)((long double)num * 1000 / den + 0.5L);
}

/* Per mille as a percentage: 81.0 */
static const char *
fmt_pm(int pm, char out[16])
{
	snprintf(out, 16, "%d.%d", pm / 10, pm % 10);
	return out;
}

/* A length in tenths of a unit: 12.3 */
static const char *
fmt_tenths(int64_t v, char out[32])
{
	if (v < 0)
		snprintf(out, 32, "-%lld.%lld", (long long)(-v / 10),
		    (long long)(-v % 10));
	else
		snprintf(out, 32, "%lld.%lld", (long long)(v / 10),
		    (long long)(v % 10));
	return out;
}

/*
 * v of max as a share of span (in tenths), rounded; at least one unit
 * (10) when v > 0, so that a small value still shows.
 */
static int64_t
scale(int64_t v, int64_t max, int64_t span)
{
	int64_t	 r;

	if (max <= 0 || v <= 0)
		return 0;
	r = (int64_t)((long double)v * span / max + 0.5L);
	return r < 10 ? 10 : r > span ? span : r;
}

/* A day (days since the epoch) as YYYY-MM-DD; with md only MM-DD. */
static const char *
fmt_day(int64_t day, int md, char out[32])
{
	struct tm	 tm;
	time_t		 t = (time_t)(day * 86400);

	if (gmtime_r(&t, &tm) == NULL)
		snprintf(out, 32, "?");
	else if (md)
		snprintf(out, 32, "%02d-%02d", tm.tm_mon + 1, tm.tm_mday);
	else
		snprintf(out, 32, "%04d-%02d-%02d", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday);
	return out;
}

/* A timestamptz parameter: ISO 8601 in UTC with microseconds. */
static void
param_time(int64_t t, char out[64])
{
	char	 s[32];

	dm_time_fmt(floor_div(t, USEC), s);
	snprintf(out, 64, "%.19s.%06dZ", s,
	    (int)(t - floor_div(t, USEC) * USEC));
}

/* --- the queries ------------------------------------------------------- */

/*
 * All take $1 the policy domain (NULL: all), $2 since and $3 until
 * (whole days), $4 the last domain shown: the summary lists domains in
 * the order of this collation, the page the first HTML_MAX_DOMAINS.
 */

/* Per day from the view dashboards read; $2's day is day 0. */
static const char daily_sql[] =
	"SELECT domain,"
	" day - ($2::timestamptz AT TIME ZONE 'UTC')::date,"
	" messages, dmarc_pass"
	" FROM dmarc.daily_domain"
	" WHERE ($1::text IS NULL OR domain = $1)"
	" AND day >= ($2::timestamptz AT TIME ZONE 'UTC')::date"
	" AND day < ($3::timestamptz AT TIME ZONE 'UTC')"
	" AND domain <= $4::text"
	" ORDER BY domain, day";

/*
 * Selects the records (c) of the reports that begin in the range, as
 * dmarcq's are found (query.c, RANGE_RECORDS): a domain's through its
 * reports' ids (report_domain, then the btree on rep_id), all of them
 * straight; the conditions on c.begin_time (the report's) leave out the
 * months outside the range.
 */
#define RECORDS_IN_RANGE \
	" ($1::text IS NULL OR c.rep_id = ANY (ARRAY(SELECT id" \
	"  FROM dmarc.report WHERE domain = $1" \
	"  AND begin_time >= $2::timestamptz" \
	"  AND begin_time < $3::timestamptz)))" \
	" AND c.domain <= $4::text" \
	" AND c.begin_time >= $2::timestamptz" \
	" AND c.begin_time < $3::timestamptz"

/*
 * The figures of dmarcq failures, the HTML_TOP worst of each domain, in
 * its order, with the number of failing sources.
 */
#define STR(x)	#x
#define XSTR(x)	STR(x)

static const char failing_sql[] =
	"WITH s AS (SELECT c.domain, c.source_ip,"
	"  sum(c.count)::bigint AS messages,"
	"  (sum(c.count) - coalesce(sum(c.count) FILTER (WHERE"
	"   coalesce(c.dkim = 'pass' OR c.spf = 'pass', false)), 0))::bigint"
	"   AS fail"
	"  FROM dmarc.record c WHERE" RECORDS_IN_RANGE
	"  GROUP BY c.domain, c.source_ip),"
	" r AS (SELECT *, row_number() OVER (PARTITION BY domain"
	"   ORDER BY fail DESC, messages DESC, source_ip) AS n,"
	"  count(*) OVER (PARTITION BY domain) AS total"
	"  FROM s WHERE fail > 0)"
	" SELECT domain, source_ip, messages, fail, total FROM r"
	" WHERE n <= " XSTR(HTML_TOP) " ORDER BY domain, n";

/*
 * Messages per reporter (org_name; the address when there is none,
 * as a report's identity does), the HTML_TOP biggest of each domain,
 * with the number of reporters.
 */
static const char reporters_sql[] =
	"WITH s AS (SELECT c.domain,"
	"  coalesce(nullif(p.org_name, ''), p.email, '') AS org,"
	"  count(DISTINCT c.rep_id) AS reports,"
	"  sum(c.count)::bigint AS messages"
	"  FROM dmarc.record c JOIN dmarc.report p ON p.id = c.rep_id"
	"  WHERE" RECORDS_IN_RANGE
	"  GROUP BY 1, 2),"
	" r AS (SELECT *, row_number() OVER (PARTITION BY domain"
	"   ORDER BY messages DESC, org) AS n,"
	"  count(*) OVER (PARTITION BY domain) AS total FROM s)"
	" SELECT domain, org, reports, messages, total FROM r"
	" WHERE n <= " XSTR(HTML_TOP) " ORDER BY domain, n";

/*
 * The statements above that read dmarc.record, for the tests of their
 * plans: $1 domain (NULL: all), $2 and $3 the period, $4 the last
 * domain shown.
 */
const char *const html_record_sql[] = { failing_sql, reporters_sql, NULL };

/* The summary's columns that the page shows, by name. */
enum {
	S_DOMAIN, S_REPORTS, S_MESSAGES, S_PASS, S_FAIL, S_DKIM, S_SPF,
	S_QUAR, S_REJ, S_NCOLS
};
static const char *const sum_names[S_NCOLS] = {
	"domain", "reports", "messages", "dmarc_pass", "dmarc_fail",
	"dkim_aligned", "spf_aligned", "quarantined", "rejected",
};
/* Table headers; the column's help is the header's tooltip. */
static const char *const sum_heads[S_NCOLS] = {
	"Domain", "Reports", "Messages", "DMARC pass", "DMARC fail",
	"DKIM aligned", "SPF aligned", "Quarantined", "Rejected",
};

struct dom {
	const char	*name;		/* borrowed from the summary result */
	int64_t		 v[S_NCOLS];	/* the summary's counts */
	int64_t		*msgs, *pass;	/* per day, ndays each */
	int		*has;		/* a row for the day */
	int		 fail0, nfail;	/* rows of the failing result */
	int64_t		 fail_total;
	int		 rep0, nrep;	/* rows of the reporters result */
	int64_t		 rep_total;
};

struct page {
	FILE				*out;
	const struct html_period	*per;
	const char			*domain;	/* NULL: all */
	char				 dbuf[DM_MAX_DOMAIN + 1];
	int64_t				 now;
	struct buf			 t;	/* one escaped text */
	const struct query_col		*cols[S_NCOLS];
	PGresult			*sum, *daily, *failing, *reporters;
	struct dom			*doms;
	int				 ndoms;	/* shown */
	int				 more;	/* domains not shown */
};

/* A failed query as err: libpq's message on one line. */
static int
db_error(PGconn *conn, const PGresult *res, const char *what,
    struct dm_err *err)
{
	const char	*msg;
	char		 tmp[400];

	msg = res != NULL ? PQresultErrorMessage(res) : "";
	if (*msg == '\0')
		msg = PQerrorMessage(conn);
	return dm_err_set(err, DM_ESTORE, "html: %s: %s", what,
	    dm_one_line(msg, tmp, sizeof(tmp)));
}

static PGresult *
run(PGconn *conn, const char *what, const char *sql, const Oid *types,
    const char *const *params, int ncols, struct dm_err *err)
{
	PGresult	*res;

	res = PQexecParams(conn, sql, 4, types, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		db_error(conn, res, what, err);
		PQclear(res);
		return NULL;
	}
	if (PQnfields(res) != ncols) {
		dm_err_set(err, DM_EINTERNAL, "html: %s: %d columns, "
		    "expected %d", what, PQnfields(res), ncols);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* A count PostgreSQL wrote: digits (bigint sums of counts >= 0). */
static int64_t
cell_count(const PGresult *res, int r, int f)
{
	uint64_t	 v;

	if (PQgetisnull(res, r, f) ||
	    dm_parse_u64(PQgetvalue(res, r, f), INT64_MAX, &v) == -1)
		return 0;
	return (int64_t)v;
}

/* The shown domain called name, or NULL. */
static struct dom *
dom_find(struct page *pg, const char *name)
{
	int	 i;

	for (i = 0; i < pg->ndoms; i++)
		if (strcmp(pg->doms[i].name, name) == 0)
			return &pg->doms[i];
	return NULL;
}

static int
fetch(PGconn *conn, struct page *pg, struct dm_err *err)
{
	static const Oid	 sum_types[4] = { OID_TEXT, OID_TIMESTAMPTZ,
				    OID_TIMESTAMPTZ, OID_INT8 };
	static const Oid	 types[4] = { OID_TEXT, OID_TIMESTAMPTZ,
				    OID_TIMESTAMPTZ, OID_TEXT };
	const struct query_cmd	*cmd;
	const char		*params[4] = { NULL, NULL, NULL, NULL };
	char			 since[64], until[64];
	struct dom		*d;
	int64_t			 i;
	int			 c, f, r, n;

	params[0] = pg->domain;
	param_time(pg->per->since, since);
	param_time(pg->per->until, until);
	params[1] = since;
	params[2] = until;

	/* the summary's own SQL: its figures, by construction */
	if ((cmd = query_find("summary")) == NULL)
		return dm_err_set(err, DM_EINTERNAL, "html: no summary");
	for (c = 0; c < S_NCOLS; c++) {
		for (f = 0; f < cmd->ncols; f++)
			if (strcmp(cmd->cols[f].name, sum_names[c]) == 0)
				break;
		if (f != c)
			return dm_err_set(err, DM_EINTERNAL, "html: summary's "
			    "column %d is not %s", c + 1, sum_names[c]);
		pg->cols[c] = &cmd->cols[f];
	}
	if ((pg->sum = run(conn, "summary", cmd->sql, sum_types, params,
	    cmd->ncols, err)) == NULL)
		return -1;
	n = PQntuples(pg->sum);
	pg->ndoms = n > HTML_MAX_DOMAINS ? HTML_MAX_DOMAINS : n;
	pg->more = n - pg->ndoms;
	if (pg->ndoms == 0)
		return 0;
	pg->doms = xcalloc((size_t)pg->ndoms, sizeof(*pg->doms));
	for (r = 0; r < pg->ndoms; r++) {
		d = &pg->doms[r];
		d->name = PQgetvalue(pg->sum, r, S_DOMAIN);
		for (c = S_REPORTS; c < S_NCOLS; c++)
			d->v[c] = cell_count(pg->sum, r, c);
		d->msgs = xcalloc((size_t)pg->per->ndays, sizeof(*d->msgs));
		d->pass = xcalloc((size_t)pg->per->ndays, sizeof(*d->pass));
		d->has = xcalloc((size_t)pg->per->ndays, sizeof(*d->has));
	}
	params[3] = pg->doms[pg->ndoms - 1].name;

	if ((pg->daily = run(conn, "daily", daily_sql, types, params, 4,
	    err)) == NULL)
		return -1;
	for (r = 0; r < PQntuples(pg->daily); r++) {
		d = dom_find(pg, PQgetvalue(pg->daily, r, 0));
		i = strtoll(PQgetvalue(pg->daily, r, 1), NULL, 10);
		if (d == NULL || i < 0 || i >= pg->per->ndays)
			continue;
		d->msgs[i] = cell_count(pg->daily, r, 2);
		d->pass[i] = cell_count(pg->daily, r, 3);
		d->has[i] = 1;
	}
	/* the rows of a domain follow each other: its first and count */
	if ((pg->failing = run(conn, "failing sources", failing_sql, types,
	    params, 5, err)) == NULL)
		return -1;
	for (r = 0; r < PQntuples(pg->failing); r++) {
		if ((d = dom_find(pg, PQgetvalue(pg->failing, r, 0))) == NULL)
			continue;
		if (d->nfail++ == 0)
			d->fail0 = r;
		d->fail_total = cell_count(pg->failing, r, 4);
	}
	if ((pg->reporters = run(conn, "reporters", reporters_sql, types,
	    params, 5, err)) == NULL)
		return -1;
	for (r = 0; r < PQntuples(pg->reporters); r++) {
		if ((d = dom_find(pg, PQgetvalue(pg->reporters, r, 0))) == NULL)
			continue;
		if (d->nrep++ == 0)
			d->rep0 = r;
		d->rep_total = cell_count(pg->reporters, r, 4);
	}
	return 0;
}

/* --- writing ----------------------------------------------------------- */

/* Write errors show in ferror(), checked once at the end. */
static void
put(struct page *pg, const char *fmt, ...) DM_PRINTF(2, 3);

static void
put(struct page *pg, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfprintf(pg->out, fmt, ap);
	va_end(ap);
}

/* Untrusted text s, escaped; max as html_escape(). */
static void
put_text(struct page *pg, const char *s, size_t max)
{
	buf_reset(&pg->t);
	/* over TEXT_MAX: what fitted is written, cut */
	html_escape(&pg->t, s, max);
	if (pg->t.len > 0)
		fwrite(pg->t.data, 1, pg->t.len, pg->out);
}

static const char style[] =
	":root{color-scheme:light}\n"
	"body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
	"\"Helvetica Neue\",Arial,sans-serif;color:#111;background:#fff;"
	"margin:1.5em auto;max-width:62em;padding:0 1em}\n"
	"h1{font-size:1.5em;margin:0 0 .5em}\n"
	"h2{font-size:1.25em;border-bottom:1px solid #888;"
	"padding-bottom:.2em;margin:2em 0 .6em}\n"
	"dl.meta{display:grid;grid-template-columns:max-content auto;"
	"gap:.15em 1em;margin:0}\n"
	"dl.meta dt{font-weight:bold}dl.meta dd{margin:0}\n"
	"table{border-collapse:collapse;width:100%;font-size:.9em;"
	"font-variant-numeric:tabular-nums}\n"
	"th,td{border:1px solid #999;padding:.25em .4em;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#eee;font-weight:bold}.num{text-align:right}\n"
	"td.num{white-space:nowrap}td.name{overflow-wrap:anywhere}\n"
	"figure{margin:1.2em 0;break-inside:avoid;page-break-inside:avoid}\n"
	"figcaption{font-weight:bold;margin-bottom:.3em}\n"
	"figcaption small{font-weight:normal}\n"
	"svg{display:block;width:100%;max-width:800px;height:auto}\n"
	"svg text{font-size:11px;fill:#111}\n"
	"svg .tick{fill:#333}\n"
	".day-bar,.swatch-bar{fill:#9db4d6;stroke:#234;stroke-width:.5}\n"
	".fail-bar{fill:#e3a0a0;stroke:#400;stroke-width:.5}\n"
	".reporter-bar{fill:#b5d3a8;stroke:#130;stroke-width:.5}\n"
	".disposition-bar{fill:#d9c38c;stroke:#320;stroke-width:.5}\n"
	".rate{fill:#fff;stroke:#000;stroke-width:1.5}\n"
	".rate-line{fill:none;stroke:#000;stroke-width:1;"
	"stroke-dasharray:4 2}\n"
	".grid{stroke:#ccc;stroke-width:.5}.axis{stroke:#333;stroke-width:1}\n"
	".empty{font-style:italic}\n"
	"footer{margin-top:2.5em;border-top:1px solid #888;font-size:.9em}\n"
	"@page{size:A4;margin:12mm}\n"
	"@media print{body{margin:0;max-width:none;font-size:10pt}"
	"section.domain{break-before:page}h2{break-after:avoid}"
	"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void
put_head(struct page *pg)
{
	char	 a[32], b[32];

	put(pg, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    /* nothing to fetch, nothing to run */
	    "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	    "<meta name=\"referrer\" content=\"no-referrer\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<meta name=\"generator\" content=\"dmarcq html\">\n"
	    "<title>DMARC reports %s to %s</title>\n<style>\n%s</style>\n"
	    "</head>\n<body>\n",
	    fmt_day(pg->per->day0, 0, a),
	    fmt_day(pg->per->day0 + pg->per->ndays - 1, 0, b), style);
}

static void
put_header(struct page *pg)
{
	char		 a[32], b[32], ts[32];
	int64_t		 secs = floor_div(pg->now, USEC);
	int		 i;

	put(pg, "<header>\n<h1>DMARC aggregate reports</h1>\n"
	    "<dl class=\"meta\">\n<dt>Period</dt><dd id=\"period\" "
	    "data-first-day=\"%s\" data-last-day=\"%s\" data-days=\"%d\">"
	    "%s to %s, UTC: %d day%s",
	    fmt_day(pg->per->day0, 0, a),
	    fmt_day(pg->per->day0 + pg->per->ndays - 1, 0, b),
	    pg->per->ndays, a, b, pg->per->ndays,
	    pg->per->ndays == 1 ? "" : "s");
	if (pg->per->dflt)
		put(pg, " (the default: the last %d days)",
		    HTML_DEFAULT_DAYS);
	dm_time_fmt(secs, ts);
	put(pg, "</dd>\n<dt>Generated</dt><dd id=\"generated\" "
	    "data-time=\"%s\">%.10s %.5s UTC by dmarcq html</dd>\n"
	    "<dt>Domains</dt><dd id=\"domains\">", ts, ts, ts + 11);
	if (pg->domain != NULL && pg->ndoms == 0)
		put_text(pg, pg->domain, 0);
	else if (pg->ndoms == 0)
		put(pg, "none");
	for (i = 0; i < pg->ndoms; i++) {
		put(pg, "%s", i > 0 ? ", " : "");
		put_text(pg, pg->doms[i].name, 0);
	}
	if (pg->more > 0)
		put(pg, " and %d more (not shown)", pg->more);
	put(pg, "</dd>\n</dl>\n</header>\n");
}

static void
put_summary(struct page *pg)
{
	const struct dom	*d;
	char			 n[32], p[16];
	int			 i, c;

	put(pg, "<section id=\"summary\">\n<h2>Summary</h2>\n"
	    "<table class=\"summary\">\n<thead><tr>");
	for (c = 0; c < S_NCOLS; c++) {
		put(pg, "<th%s title=\"%s: ", c > 0 ? " class=\"num\"" : "",
		    sum_names[c]);
		put_text(pg, pg->cols[c]->help, 0);
		put(pg, "\">%s</th>", sum_heads[c]);
		if (c == S_FAIL)
			put(pg, "<th class=\"num\" title=\"dmarc_pass / "
			    "messages\">Pass rate</th>");
	}
	put(pg, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < pg->ndoms; i++) {
		d = &pg->doms[i];
		put(pg, "<tr data-domain=\"");
		put_text(pg, d->name, 0);
		put(pg, "\"><td class=\"name\"><a href=\"#d%d\">", i + 1);
		put_text(pg, d->name, 0);
		put(pg, "</a></td>");
		for (c = S_REPORTS; c < S_NCOLS; c++) {
			put(pg, "<td class=\"num\" data-col=\"%s\" "
			    "data-value=\"%lld\">%s</td>", sum_names[c],
			    (long long)d->v[c], fmt_count(d->v[c], n));
			if (c != S_FAIL)
				continue;
			if (d->v[S_MESSAGES] > 0)
				put(pg, "<td class=\"num\" "
				    "data-col=\"pass_rate\" "
				    "data-value=\"%s\">%s%%</td>",
				    fmt_pm(per_mille(d->v[S_PASS],
				    d->v[S_MESSAGES]), p), p);
			else
				put(pg, "<td class=\"num\"></td>");
		}
		put(pg, "</tr>\n");
	}
	put(pg, "</tbody>\n</table>\n");
	if (pg->more > 0)
		put(pg, "<p class=\"more\">%d more domain%s not shown: the "
		    "page shows the first %d by name; dmarcq html --domain D "
		    "shows another.</p>\n", pg->more, pg->more == 1 ? "" : "s",
		    HTML_MAX_DOMAINS);
	put(pg, "</section>\n");
}

/* --- charts ------------------------------------------------------------ */

/* The daily chart's frame, in SVG user units. */
#define DW	800
#define DH	262
#define PL	64	/* plot left */
#define PR	744	/* plot right */
#define PT	18	/* plot top */
#define PB	192	/* plot bottom: the base line */

/* The smallest 1, 2, 5 x 10^k step with at most 5 steps up to max. */
static int64_t
nice_step(int64_t max)
{
	static const int	 m[] = { 1, 2, 5 };
	int64_t			 base = 1, need;
	int			 i;

	need = max / 5 + (max % 5 != 0);
	for (;;) {
		for (i = 0; i < 3; i++)
			if (base * m[i] >= need)
				return base * m[i];
		if (base > INT64_MAX / 100)
			return need;
		base *= 10;
	}
}

static void
put_daily(struct page *pg, const struct dom *d)
{
	const struct html_period	*per = pg->per;
	char				 x[32], y[32], w[32], h[32], v[32];
	char				 day[32], pm[16], pa[32];
	int64_t				 max = 0, step, top, t, x0, x1, h10;
	int64_t				 cy;
	int				 i, k, pmv, run;

	for (i = 0; i < per->ndays; i++)
		if (d->msgs[i] > max)
			max = d->msgs[i];
	step = nice_step(max > 0 ? max : 1);
	top = (max > 0 ? max / step + (max % step != 0) : 1) * step;

	put(pg, "<figure class=\"daily\">\n<figcaption>Messages per day and "
	    "DMARC pass rate <small>(UTC days; a day without reports is a "
	    "gap)</small></figcaption>\n"
	    "<svg class=\"daily\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"Messages per day (bars) and DMARC pass rate "
	    "(points)\">\n", DW, DH);
	/* the left axis: messages */
	put(pg, "<text class=\"tick\" x=\"%d\" y=\"%d\">messages</text>\n",
	    4, PT - 6);
	for (t = 0; t <= top; t += step) {
		fmt_tenths(PB * 10 - scale(t, top, (PB - PT) * 10), y);
		put(pg, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%s\" "
		    "y2=\"%s\"/><text class=\"tick\" x=\"%d\" y=\"%s\" "
		    "dy=\"4\" text-anchor=\"end\">%s</text>\n", PL, PR, y, y,
		    PL - 6, y, fmt_compact(t, v));
		if (t > INT64_MAX - step)
			break;
	}
	/* the right axis: the pass rate */
	put(pg, "<text class=\"tick\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"end\">DMARC pass</text>\n", DW - 2, PT - 6);
	for (i = 0; i <= 100; i += 25) {
		fmt_tenths(PB * 10 - (PB - PT) * 10 * i / 100, y);
		put(pg, "<text class=\"tick\" x=\"%d\" y=\"%s\" dy=\"4\">"
		    "%d%%</text>\n", PR + 6, y, i);
	}
	put(pg, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" "
	    "y2=\"%d\"/>\n", PL, PR, PB, PB);

	/* bars: one per day, zero high on a day without reports */
	for (i = 0; i < per->ndays; i++) {
		x0 = PL * 10 + (int64_t)i * (PR - PL) * 10 / per->ndays;
		x1 = PL * 10 + (int64_t)(i + 1) * (PR - PL) * 10 / per->ndays;
		/* a tenth of the slot free on each side */
		k = (int)((x1 - x0) / 10);
		h10 = scale(d->msgs[i], top, (PB - PT) * 10);
		fmt_day(per->day0 + i, 0, day);
		put(pg, "<rect class=\"day-bar\" data-day=\"%s\" "
		    "data-value=\"%lld\" x=\"%s\" y=\"%s\" width=\"%s\" "
		    "height=\"%s\"><title>%s: ", day, (long long)d->msgs[i],
		    fmt_tenths(x0 + k, x), fmt_tenths(PB * 10 - h10, y),
		    fmt_tenths(x1 - x0 - 2 * k, w), fmt_tenths(h10, h), day);
		if (!d->has[i])
			put(pg, "no reports");
		else
			put(pg, "%s message%s", fmt_count(d->msgs[i], v),
			    d->msgs[i] == 1 ? "" : "s");
		put(pg, "</title></rect>\n");
	}
	/* the pass rate: a dashed line through runs of reported days */
	for (i = 0, run = 0; i <= per->ndays; i++) {
		if (i < per->ndays && d->msgs[i] > 0) {
			x0 = PL * 10 + ((int64_t)i * 2 + 1) * (PR - PL) * 10 /
			    (2 * per->ndays);
			cy = PB * 10 - (int64_t)(PB - PT) * 10 *
			    per_mille(d->pass[i], d->msgs[i]) / 1000;
			put(pg, "%s%s,%s", run++ == 0 ?
			    "<polyline class=\"rate-line\" points=\"" : " ",
			    fmt_tenths(x0, x), fmt_tenths(cy, y));
			continue;
		}
		if (run > 0)
			put(pg, "\"/>\n");
		run = 0;
	}
	/* and a point for each of those days */
	for (i = 0; i < per->ndays; i++) {
		if (d->msgs[i] == 0)
			continue;
		pmv = per_mille(d->pass[i], d->msgs[i]);
		x0 = PL * 10 + ((int64_t)i * 2 + 1) * (PR - PL) * 10 /
		    (2 * per->ndays);
		cy = PB * 10 - (int64_t)(PB - PT) * 10 * pmv / 1000;
		fmt_day(per->day0 + i, 0, day);
		put(pg, "<circle class=\"rate\" data-day=\"%s\" "
		    "data-value=\"%s\" cx=\"%s\" cy=\"%s\" r=\"3.5\">"
		    "<title>%s: DMARC pass %s%% (%s of %s)</title></circle>\n",
		    day, fmt_pm(pmv, pm), fmt_tenths(x0, x),
		    fmt_tenths(cy, y), day, pm, fmt_count(d->pass[i], pa),
		    fmt_count(d->msgs[i], v));
	}
	/* day labels, at most about 10 */
	k = (per->ndays + 9) / 10;
	for (i = 0; i < per->ndays; i += k) {
		x0 = PL * 10 + ((int64_t)i * 2 + 1) * (PR - PL) * 10 /
		    (2 * per->ndays);
		put(pg, "<text class=\"tick\" x=\"%s\" y=\"%d\" "
		    "text-anchor=\"middle\">%s</text>\n", fmt_tenths(x0, x),
		    PB + 15, fmt_day(per->day0 + i, 1, day));
	}
	put(pg, "<text class=\"tick\" x=\"%d\" y=\"%d\" "
	    "text-anchor=\"middle\">UTC days %s to ", (PL + PR) / 2, PB + 32,
	    fmt_day(per->day0, 0, day));
	put(pg, "%s</text>\n", fmt_day(per->day0 + per->ndays - 1, 0, day));
	/* the legend says what is what: no colour needed */
	put(pg, "<rect class=\"swatch-bar\" x=\"%d\" y=\"%d\" width=\"12\" "
	    "height=\"10\"/><text x=\"%d\" y=\"%d\">bars: messages per day "
	    "(left axis)</text>\n"
	    "<line class=\"rate-line\" x1=\"%d\" x2=\"%d\" y1=\"%d\" "
	    "y2=\"%d\"/><circle class=\"rate\" cx=\"%d\" cy=\"%d\" "
	    "r=\"3.5\"/><text x=\"%d\" y=\"%d\">points: DMARC pass rate, "
	    "%% of the day's messages (right axis)</text>\n</svg>\n"
	    "</figure>\n",
	    PL, DH - 18, PL + 18, DH - 9,
	    PL + 300, PL + 324, DH - 13, DH - 13, PL + 312, DH - 13,
	    PL + 330, DH - 9);
}

/* Horizontal bars: label column, bar, value. */
#define HW	800
#define HL	236	/* bars start */
#define HB	420	/* longest bar */
#define HROW	22

static void
hbar_open(struct page *pg, const char *cls, int n, const char *label)
{
	put(pg, "<svg class=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" "
	    "aria-label=\"%s\">\n", cls,
	    HW, n * HROW + 6, label);
}

/*
 * One bar: label (untrusted) cut in the chart, whole in its tooltip and
 * in data-<key>; value of max; shown after the bar; note (trusted)
 * after the label in the tooltip.
 */
static void
hbar_row(struct page *pg, int row, const char *cls, const char *key,
    const char *label, int64_t value, int64_t max, const char *shown,
    const char *note)
{
	char	 w[32];
	int64_t	 len = scale(value, max, HB * 10);
	int	 y = row * HROW + 4;

	put(pg, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", HL - 8,
	    y + 12);
	if (*label == '\0')
		put(pg, "(no name)");
	put_text(pg, label, HTML_LABEL_MAX);
	put(pg, "</text><rect class=\"%s\" data-%s=\"", cls, key);
	put_text(pg, label, 0);
	put(pg, "\" data-value=\"%lld\" x=\"%d\" y=\"%d\" width=\"%s\" "
	    "height=\"15\"><title>", (long long)value, HL, y,
	    fmt_tenths(len, w));
	put_text(pg, label, 0);
	put(pg, ": %s</title></rect><text x=\"%s\" y=\"%d\" dx=\"6\">%s"
	    "</text>\n", note, fmt_tenths(HL * 10 + len, w), y + 12, shown);
}

static void
put_failing(struct page *pg, const struct dom *d)
{
	char	 a[32], b[32], shown[80], note[160];
	int64_t	 msgs, fail, max = 0;
	int	 r;

	put(pg, "<figure class=\"failing\">\n<figcaption>Top failing "
	    "sources <small>(messages failing DMARC per source address, "
	    "most first, as dmarcq failures");
	if (d->fail_total > d->nfail)
		put(pg, "; the first %d of %s", d->nfail,
		    fmt_count(d->fail_total, a));
	put(pg, ")</small></figcaption>\n");
	if (d->nfail == 0) {
		put(pg, "<p class=\"empty\">No source failed DMARC in this "
		    "period.</p>\n</figure>\n");
		return;
	}
	hbar_open(pg, "failing", d->nfail, "Top failing sources");
	for (r = d->fail0; r < d->fail0 + d->nfail; r++)
		if ((fail = cell_count(pg->failing, r, 3)) > max)
			max = fail;
	for (r = d->fail0; r < d->fail0 + d->nfail; r++) {
		msgs = cell_count(pg->failing, r, 2);
		fail = cell_count(pg->failing, r, 3);
		snprintf(shown, sizeof(shown), "%s of %s", fmt_count(fail, a),
		    fmt_count(msgs, b));
		snprintf(note, sizeof(note), "%s of %s message%s failed DMARC",
		    a, b, msgs == 1 ? "" : "s");
		hbar_row(pg, r - d->fail0, "fail-bar", "source",
		    PQgetvalue(pg->failing, r, 1), fail, max, shown, note);
	}
	put(pg, "</svg>\n</figure>\n");
}

static void
put_reporters(struct page *pg, const struct dom *d)
{
	char	 a[32], p[16], shown[80], note[160];
	int64_t	 msgs, reps, max = 0;
	int	 r;

	put(pg, "<figure class=\"reporters\">\n<figcaption>Reporters "
	    "<small>(messages per reporting organisation, most first");
	if (d->rep_total > d->nrep)
		put(pg, "; the first %d of %s", d->nrep,
		    fmt_count(d->rep_total, a));
	put(pg, ")</small></figcaption>\n");
	if (d->nrep == 0) {
		put(pg, "<p class=\"empty\">No reporter sent records in this "
		    "period.</p>\n</figure>\n");
		return;
	}
	hbar_open(pg, "reporters", d->nrep, "Reporters");
	for (r = d->rep0; r < d->rep0 + d->nrep; r++)
		if ((msgs = cell_count(pg->reporters, r, 3)) > max)
			max = msgs;
	for (r = d->rep0; r < d->rep0 + d->nrep; r++) {
		reps = cell_count(pg->reporters, r, 2);
		msgs = cell_count(pg->reporters, r, 3);
		if (d->v[S_MESSAGES] > 0)
			snprintf(shown, sizeof(shown), "%s (%s%%)",
			    fmt_count(msgs, a), fmt_pm(per_mille(msgs,
			    d->v[S_MESSAGES]), p));
		else
			fmt_count(msgs, shown);
		snprintf(note, sizeof(note), "%s message%s in %lld report%s",
		    fmt_count(msgs, a), msgs == 1 ? "" : "s", (long long)reps,
		    reps == 1 ? "" : "s");
		hbar_row(pg, r - d->rep0, "reporter-bar", "org",
		    PQgetvalue(pg->reporters, r, 1), msgs, max, shown, note);
	}
	put(pg, "</svg>\n</figure>\n");
}

static void
put_dispositions(struct page *pg, const struct dom *d)
{
	static const char *const names[] = { "none", "quarantine", "reject" };
	char	 a[32], b[32], p[16], shown[80], note[160];
	int64_t	 v[3], max = 0;
	int	 i;

	put(pg, "<figure class=\"dispositions\">\n<figcaption>Dispositions "
	    "<small>(what receivers did with the messages; none: neither "
	    "quarantine nor reject)</small></figcaption>\n");
	if (d->v[S_MESSAGES] == 0) {
		put(pg, "<p class=\"empty\">No messages in this period.</p>\n"
		    "</figure>\n");
		return;
	}
	v[1] = d->v[S_QUAR];
	v[2] = d->v[S_REJ];
	v[0] = d->v[S_MESSAGES] - v[1] - v[2];
	for (i = 0; i < 3; i++)
		if (v[i] > max)
			max = v[i];
	hbar_open(pg, "dispositions", 3, "Dispositions");
	for (i = 0; i < 3; i++) {
		snprintf(shown, sizeof(shown), "%s (%s%%)", fmt_count(v[i], a),
		    fmt_pm(per_mille(v[i] < 0 ? 0 : v[i], d->v[S_MESSAGES]),
		    p));
		snprintf(note, sizeof(note), "%s of %s messages (%s%%)", a,
		    fmt_count(d->v[S_MESSAGES], b), p);
		hbar_row(pg, i, "disposition-bar", "disposition", names[i],
		    v[i], max, shown, note);
	}
	put(pg, "</svg>\n</figure>\n");
}

static void
put_domain(struct page *pg, int i)
{
	const struct dom	*d = &pg->doms[i];
	char			 a[32], b[32], c[32], p[16];

	put(pg, "<section class=\"domain\" id=\"d%d\" data-domain=\"",
	    i + 1);
	put_text(pg, d->name, 0);
	put(pg, "\">\n<h2>");
	put_text(pg, d->name, 0);
	put(pg, "</h2>\n<p class=\"totals\">%s message%s in %s report%s",
	    fmt_count(d->v[S_MESSAGES], a), d->v[S_MESSAGES] == 1 ? "" : "s",
	    fmt_count(d->v[S_REPORTS], b), d->v[S_REPORTS] == 1 ? "" : "s");
	if (d->v[S_MESSAGES] > 0)
		put(pg, ": DMARC pass %s (%s%%), fail %s",
		    fmt_count(d->v[S_PASS], a),
		    fmt_pm(per_mille(d->v[S_PASS], d->v[S_MESSAGES]), p),
		    fmt_count(d->v[S_FAIL], c));
	put(pg, ".</p>\n");
	put_daily(pg, d);
	put_failing(pg, d);
	put_reporters(pg, d);
	put_dispositions(pg, d);
	put(pg, "</section>\n");
}

static void
put_footer(struct page *pg)
{
	char	 a[32], b[32];

	put(pg, "<footer>\n<p>DMARC pass: messages whose DKIM or SPF "
	    "verdict (policy_evaluated, aligned) is pass; fail: the others. "
	    "A report counts in the UTC day its range begins. The figures "
	    "are those of <code>dmarcq summary</code>, "
	    "<code>sources</code> and <code>failures</code> with "
	    "<code>--since %s --until %s",
	    fmt_day(pg->per->day0, 0, a),
	    fmt_day(pg->per->day0 + pg->per->ndays, 0, b));
	if (pg->domain != NULL) {
		put(pg, " --domain ");
		put_text(pg, pg->domain, 0);
	}
	put(pg, "</code>.</p>\n</footer>\n</body>\n</html>\n");
}

static void
page_clear(struct page *pg)
{
	int	 i;

	for (i = 0; i < pg->ndoms && pg->doms != NULL; i++) {
		free(pg->doms[i].msgs);
		free(pg->doms[i].pass);
		free(pg->doms[i].has);
	}
	free(pg->doms);
	PQclear(pg->sum);
	PQclear(pg->daily);
	PQclear(pg->failing);
	PQclear(pg->reporters);
	buf_clear(&pg->t);
}

/* End the snapshot; a read-only one has nothing to keep. */
static void
end_snapshot(PGconn *conn)
{
	PQclear(PQexec(conn, "ROLLBACK"));
}

int
html_write(PGconn *conn, const struct query_opts *o, int64_t now,
    FILE *out, struct dm_err *err)
{
	struct html_period	 per;
	struct page		 pg;
	PGresult		*res;
	int			 i, rc = -1;

	if (html_period(o, now, &per, err) == -1)
		return -1;
	memset(&pg, 0, sizeof(pg));
	pg.out = out;
	pg.per = &per;
	pg.now = now;
	buf_init(&pg.t, TEXT_MAX);
	/* lower-cased as stored, as dmarcq's own check makes it */
	if (o->domain != NULL) {
		if (query_parse_domain(o->domain, pg.dbuf, sizeof(pg.dbuf),
		    err) == -1)
			goto out;
		pg.domain = pg.dbuf;
	}

	/* one snapshot: the tables agree even while dmarcd stores */
	res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db_error(conn, res, "begin", err);
		PQclear(res);
		goto out;
	}
	PQclear(res);
	i = fetch(conn, &pg, err);
	end_snapshot(conn);
	if (i == -1)
		goto out;

	/* all is fetched: from here on only out can fail */
	put_head(&pg);
	put_header(&pg);
	put(&pg, "<main>\n");
	if (pg.ndoms == 0)
		put(&pg, "<p class=\"empty\" id=\"no-reports\">No reports in "
		    "this period.</p>\n");
	else {
		put_summary(&pg);
		for (i = 0; i < pg.ndoms; i++)
			put_domain(&pg, i);
	}
	put(&pg, "</main>\n");
	put_footer(&pg);
	if (fflush(out) == EOF || ferror(out)) {
		dm_err_set(err, DM_EINTERNAL, "output: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	page_clear(&pg);
	return rc;
}

int
html_write_file(PGconn *conn, const struct query_opts *o, int64_t now,
    const char *path, struct dm_err *err)
{
	const char	*base;
	char		*tmp = NULL;
	FILE		*f = NULL;
	mode_t		 mask;
	size_t		 dirlen;
	int		 fd, rc = -1;

	if (strcmp(path, "-") == 0)
		return html_write(conn, o, now, stdout, err);
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (*base == '\0' || strcmp(base, ".") == 0 ||
	    strcmp(base, "..") == 0)
		return dm_err_set(err, DM_EINTERNAL, "output %s: not a file "
		    "name", path);
	/* next to path: rename() is atomic only within a file system */
	dirlen = (size_t)(base - path);
	tmp = xmalloc(dirlen + strlen(base) + 16);
	snprintf(tmp, dirlen + strlen(base) + 16, "%.*s.%s.XXXXXX",
	    (int)dirlen, path, base);
	if ((fd = mkstemp(tmp)) == -1) {
		dm_err_set(err, DM_EINTERNAL, "output %s: can't create a "
		    "temporary file next to it: %s", path, strerror(errno));
		free(tmp);
		return -1;
	}
	/* mkstemp() makes it 0600; a page is as readable as any new file */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) == -1 ||
	    (f = fdopen(fd, "w")) == NULL) {
		dm_err_set(err, DM_EINTERNAL, "output %s: %s", path,
		    strerror(errno));
		close(fd);
		goto out;
	}
	if (html_write(conn, o, now, f, err) == -1) {
		if (err->scope == DM_EINTERNAL)
			dm_err_prefix(err, "%s", path);
		goto out;
	}
	/* the data on disk before the name: a crash leaves old or new */
	if (fsync(fileno(f)) == -1) {
		dm_err_set(err, DM_EINTERNAL, "output %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = fclose(f);
	f = NULL;
	if (rc == EOF) {
		rc = dm_err_set(err, DM_EINTERNAL, "output %s: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((rc = rename(tmp, path)) == -1)
		dm_err_set(err, DM_EINTERNAL, "output %s: %s", path,
		    strerror(errno));
out:
	if (f != NULL)
		fclose(f);
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	return rc;
}

void
html_help(FILE *out)
{
	fprintf(out,
"usage: dmarcq [-c FILE] [--db CONNINFO] html -o FILE [--domain D]\n"
"              [--since T] [--until T]\n"
"\n"
"html: one self-contained HTML page with charts.\n"
"\n"
"Writes FILE, or standard output for -o -. The page has a header (the\n"
"period, when it was generated, the domains), a table of the summary\n"
"figures per policy domain (those of dmarcq summary), and per domain:\n"
"  - messages per UTC day (bars) and the DMARC pass rate (points, 0 to\n"
"    100 %%), every day of the period on the axis; a day without\n"
"    reports is a gap (no point, a bar of 0);\n"
"  - the top %d failing sources: messages failing DMARC per source\n"
"    address (dmarcq failures);\n"
"  - the top %d reporters: messages per org_name;\n"
"  - the dispositions: the shares of none, quarantine and reject.\n"
"At most %d domains, the first by name (--domain D for another).\n"
"\n"
"The page needs nothing else: no script, no external style, font or\n"
"image; the charts are inline SVG and print in black and white (every\n"
"bar and point is labelled with its value, a tooltip and data-value).\n"
"Text from reports is escaped: markup in an org_name stays text.\n"
"\n"
"The period is whole UTC days: --since counts from midnight of its\n"
"day, --until up to the end of the day of its last moment (T at\n"
"midnight: the day before). Without --since: the last %d days up to\n"
"--until, or up to today (today included). At most %d days.\n"
"\n"
"FILE is written whole or not at all: the page goes into a temporary\n"
"file next to it that is renamed over FILE at the end; a failed run\n"
"leaves FILE as it was.\n"
"\n"
"Options:\n"
"  -o, --output FILE  where to write the page; - for standard output\n"
"  --domain D         only the policy domain D\n"
"  --since T          the first day: the day of T (UTC)\n"
"  --until T          the end: the period stops before T, rounded up to\n"
"                     the next midnight UTC\n"
"See dmarcq --help for T, the database and the exit codes (1: FILE\n"
"could not be written).\n",
	    HTML_TOP, HTML_TOP, HTML_MAX_DOMAINS, HTML_DEFAULT_DAYS,
	    HTML_MAX_DAYS);
}
