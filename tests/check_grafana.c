/*
 * check_grafana.c: the Grafana dashboards in contrib/grafana/ against a
 * real PostgreSQL, so that none of their queries can rot unseen.
 *
 * Each .json file in contrib/grafana/ goes to PostgreSQL as a parameter:
 * its ::jsonb cast says whether it is JSON, and jsonpath takes out
 * every query (the targets of panels at any depth, rows included, and
 * the template variables), so no JSON library is needed here. Each
 * query's variables and macros are expanded as Grafana 10 and 11 do
 * (expand() below), and it runs as a login in role dmarc_reader on the
 * fixture of check_query (tests/data/query/fixture.sql), in a session
 * whose time zone is not UTC. It must run, return the columns its panel
 * needs, and give the figures of wants[] below and of dmarcq summary.
 *
 * A new panel fails test_grafana_query_results until its figures are
 * added to wants[]: the failure message shows what it got.
 */
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"
#include "test_db.h"
#include "buf.h"
#include "query.h"
#include "util.h"

/* The fixture's two months, as Grafana writes a time range. */
#define FROM		"2024-02-01T00:00:00Z"
#define TO		"2024-03-31T23:59:59.999Z"
/* Far from UTC, with a 45-minute offset: no query may depend on it. */
#define READER_TZ	"Pacific/Chatham"
/* The data source every panel and variable must use. */
#define DS_JSON		"{\"type\": \"grafana-postgresql-datasource\"," \
			" \"uid\": \"${DS_POSTGRESQL}\"}"

static char	 db_name[64], reader[64];
static char	 owner_db[1024];	/* conninfo: the schema's owner */
static char	 reader_db[1280];	/* conninfo: a dmarc_reader login */

/* One query of a dashboard. */
struct gq {
	char	*where;		/* file: panel 5 "Messages per day" A */
	char	*title;		/* the panel's title, the variable's name */
	char	*ptype;		/* the panel's type, or "variable" ("": none) */
	char	*format;	/* table or time_series (NULL: none given) */
	char	*sql;		/* as written (NULL: none given) */
};

static char	**files;	/* the dashboards, full paths */
static size_t	  nfiles;
static struct gq *gqs;		/* every query of every dashboard */
static size_t	  ngq;

/* s with control bytes visible, for failure messages. */
static const char *
visible(const char *s)
{
	static struct buf	 b;

	buf_clear(&b);
	buf_init(&b, 256 << 10);
	dm_escape(&b, s, 0);
	buf_add(&b, "", 0);	/* buf_cstr() of an empty buf: no NUL */
	return buf_cstr(&b);
}

/* --- the expander ------------------------------------------------------ */

/* What the dashboard's variables and time range are set to. */
struct gvars {
	const char	*from, *to;	/* RFC 3339 in UTC, as Grafana sends */
	const char	*const *domain;	/* the values of $domain */
	size_t		 ndomain;
};

/* Length of the \w+ (Grafana's and Go's [_a-zA-Z0-9]+) at s. */
static size_t
ident_len(const char *s)
{
	size_t	 n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	    (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
		n++;
	return n;
}

/*
 * A multi-value variable, as the data source quotes it by default and
 * as ${var:sqlstring} does: each value in '', a ' doubled, joined by ','.
 */
static void
add_values(struct buf *out, const struct gvars *v)
{
	const char	*s;
	size_t		 i;

	for (i = 0; i < v->ndomain; i++) {
		if (i > 0)
			buf_addc(out, ',');
		buf_addc(out, '\'');
		for (s = v->domain[i]; *s != '\0'; s++) {
			if (*s == '\'')
				buf_addc(out, '\'');
			buf_addc(out, *s);
		}
		buf_addc(out, '\'');
	}
}

/*
 * Pass 1, what the browser does: $domain, ${domain}, ${domain:sqlstring}
 * become the values. $__name is left to pass 2; any other variable, the
 * old [[var]] syntax and other formats are refused.
 */
static int
expand_vars(const char *s, const struct gvars *v, struct buf *out,
    char *err, size_t errlen)
{
	const char	*p, *e;
	char		 name[64];
	size_t		 n;

	for (p = s; *p != '\0'; p++) {
		if (p[0] == '[' && p[1] == '[') {
			snprintf(err, errlen, "[[...]]: deprecated syntax");
			return -1;
		}
		if (*p != '$') {
			buf_addc(out, *p);
			continue;
		}
		if (p[1] == '{') {
			if ((e = strchr(p + 2, '}')) == NULL ||
			    (size_t)(e - p - 2) >= sizeof(name)) {
				snprintf(err, errlen, "bad ${: %.30s", p);
				return -1;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(e - p - 2),
			    p + 2);
			if (strcmp(name, "domain") != 0 &&
			    strcmp(name, "domain:sqlstring") != 0) {
				snprintf(err, errlen, "unknown variable or "
				    "format ${%s}", name);
				return -1;
			}
			add_values(out, v);
			p = e;
			continue;
		}
		n = ident_len(p + 1);
		if (n >= 2 && p[1] == '_' && p[2] == '_') {
			buf_add(out, p, n + 1);	/* a macro: pass 2 */
			p += n;
		} else if (n == 6 && strncmp(p + 1, "domain", 6) == 0) {
			add_values(out, v);
			p += n;
		} else if (n > 0) {
			snprintf(err, errlen, "unknown variable $%.*s", (int)n,
			    p + 1);
			return -1;
		} else
			buf_addc(out, '$');	/* pass 2 refuses it */
	}
	return 0;
}

/*
 * gtime.ParseInterval for what dashboards here use: N followed by s, m,
 * h, d or w, in quotes or not. Returns seconds, or -1.
 */
static long long
interval_secs(const char *s)
{
	long long	 n = 0;
	size_t		 len = strlen(s);

	if (len >= 2 && s[0] == '\'' && s[len - 1] == '\'') {
		s++;
		len -= 2;
	}
	if (len < 2)
		return -1;
	for (; len > 1 && *s >= '0' && *s <= '9'; s++, len--)
		n = n * 10 + (*s - '0');
	if (len != 1 || n <= 0 || n > 100000)
		return -1;
	switch (*s) {
	case 's':	return n;
	case 'm':	return n * 60;
	case 'h':	return n * 3600;
	case 'd':	return n * 86400;
	case 'w':	return n * 7 * 86400;
	}
	return -1;
}

/* Grafana's fill modes: NULL, previous or a number. */
static int
valid_fill(const char *s)
{
	char	*end;

	if (strcmp(s, "NULL") == 0 || strcmp(s, "previous") == 0)
		return 1;
	errno = 0;
	(void)strtod(s, &end);
	return *s != '\0' && *end == '\0' && errno == 0;
}

#define MAX_ARGS	4

/*
 * One macro of the PostgreSQL data source (pkg/tsdb/grafana-postgresql-
 * datasource/macros.go): name without its $, its arguments split at
 * every comma and trimmed of spaces.
 */
static int
expand_macro(const char *name, char args[][128], int nargs,
    const struct gvars *v, struct buf *out, char *err, size_t errlen)
{
	long long	 secs;

	if (strcmp(name, "__timeFrom") == 0 || strcmp(name, "__timeTo") == 0) {
		buf_printf(out, "'%s'", name[6] == 'F' ? v->from : v->to);
		return 0;
	}
	if (nargs < 1 || args[0][0] == '\0') {
		snprintf(err, errlen, "$%s: no column", name);
		return -1;
	}
	if (strcmp(name, "__time") == 0)
		buf_printf(out, "%s AS \"time\"", args[0]);
	else if (strcmp(name, "__timeEpoch") == 0)
		buf_printf(out, "extract(epoch from %s) as \"time\"", args[0]);
	else if (strcmp(name, "__timeFilter") == 0)
		buf_printf(out, "%s BETWEEN '%s' AND '%s'", args[0], v->from,
		    v->to);
	else if (strcmp(name, "__timeGroup") == 0 ||
	    strcmp(name, "__timeGroupAlias") == 0) {
		if (nargs < 2 || nargs > 3 ||
		    (secs = interval_secs(args[1])) == -1 ||
		    (nargs == 3 && !valid_fill(args[2]))) {
			snprintf(err, errlen, "$%s: needs a column, an "
			    "interval (Ns, Nm, Nh, Nd, Nw) and maybe a fill",
			    name);
			return -1;
		}
		/* the fill is Grafana's work on the result, not SQL */
		buf_printf(out, "floor(extract(epoch from %s)/%lld)*%lld",
		    args[0], secs, secs);
		if (name[11] == 'A')
			buf_adds(out, " AS \"time\"");
	} else {
		snprintf(err, errlen, "unknown macro $%s", name);
		return -1;
	}
	return 0;
}

/*
 * Pass 2, what Grafana's server does: $name(args) up to the first ")"
 * is a macro (so a macro's argument can't hold parentheses), any other
 * "$" is refused.
 */
static int
expand_macros(const char *s, const struct gvars *v, struct buf *out,
    char *err, size_t errlen)
{
	char		 name[64], args[MAX_ARGS][128];
	const char	*p, *a, *close, *comma;
	size_t		 n, len;
	int		 nargs;

	for (p = s; *p != '\0'; p++) {
		if (*p != '$') {
			buf_addc(out, *p);
			continue;
		}
		n = ident_len(p + 1);
		if (n == 0 || n >= sizeof(name) || p[n + 1] != '(' ||
		    (close = strchr(p + n + 2, ')')) == NULL) {
			snprintf(err, errlen, "left over: %.30s", p);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)n, p + 1);
		/* before 5.3 $__timeGroup(...), said what AS "time" says */
		if (strcmp(name, "__timeGroup") == 0 && close[1] == ',')
			snprintf(name, sizeof(name), "__timeGroupAlias");
		nargs = 0;
		for (a = p + n + 2; a <= close; a = comma + 1) {
			if ((comma = memchr(a, ',', close - a)) == NULL)
				comma = close;
			while (*a == ' ' && a < comma)
				a++;
			for (len = comma - a; len > 0 && a[len - 1] == ' ';)
				len--;
			if (nargs == MAX_ARGS || len >= sizeof(args[0])) {
				snprintf(err, errlen, "$%s: arguments", name);
				return -1;
			}
			snprintf(args[nargs++], sizeof(args[0]), "%.*s",
			    (int)len, a);
		}
		if (expand_macro(name, args, nargs, v, out, err, errlen) == -1)
			return -1;
		p = close;
	}
	return 0;
}

/*
 * Expand the rawSql sql as Grafana does before it reaches PostgreSQL:
 * first the dashboard variables (the browser), then the macros (the
 * server, on what the browser sent). out is the caller's, buf_init'ed.
 * Returns 0, or -1 with the reason in err: a variable, format or macro
 * unknown here, or a "$" left over.
 */
static int
expand(const char *sql, const struct gvars *v, struct buf *out, char *err,
    size_t errlen)
{
	struct buf	 mid;
	int		 rc;

	buf_init(&mid, 1 << 20);
	rc = expand_vars(sql, v, &mid, err, errlen);
	buf_add(&mid, "", 0);
	if (rc == 0)
		rc = expand_macros(buf_cstr(&mid), v, out, err, errlen);
	buf_add(out, "", 0);
	buf_clear(&mid);
	return rc;
}

static const char *const two[] = { "example.com", "o'neil.example" };

static const struct {
	const char	*in;
	const char	*want;	/* NULL: refused */
} expand_cases[] = {
	{ "WHERE $__timeFilter(day) AND domain IN ($domain)",
	    "WHERE day BETWEEN '" FROM "' AND '" TO "' AND domain IN "
	    "('example.com','o''neil.example')" },
	{ "x = ANY (ARRAY[${domain}]) OR y IN (${domain:sqlstring})",
	    "x = ANY (ARRAY['example.com','o''neil.example']) OR y IN "
	    "('example.com','o''neil.example')" },
	{ "SELECT $__timeGroupAlias(day, 1d, 0), $__timeGroup(t,'5m')",
	    "SELECT floor(extract(epoch from day)/86400)*86400 AS \"time\", "
	    "floor(extract(epoch from t)/300)*300" },
	/* followed by a comma: the pre-5.3 form, AS "time" added */
	{ "SELECT $__timeGroup( t , 1h , NULL ), 1",
	    "SELECT floor(extract(epoch from t)/3600)*3600 AS \"time\", 1" },
	{ "t >= $__timeFrom() AND t <= $__timeTo() AND $__time(t) AND "
	    "$__timeEpoch(u)",
	    "t >= '" FROM "' AND t <= '" TO "' AND t AS \"time\" AND "
	    "extract(epoch from u) as \"time\"" },
	/* the first ) ends the macro and commas split it, as Grafana does */
	{ "$__timeFilter(coalesce(a, b))",
	    "coalesce(a BETWEEN '" FROM "' AND '" TO "')" },
	{ "$__timeGroupAlias(day, 1d, previous)",
	    "floor(extract(epoch from day)/86400)*86400 AS \"time\"" },
	{ "SELECT 1", "SELECT 1" },
	{ "$host", NULL },
	{ "$domains", NULL },
	{ "${domain:csv}", NULL },
	{ "${domain.text}", NULL },
	{ "[[domain]]", NULL },
	{ "$__timeFrom", NULL },
	{ "$__timeFrom ()", NULL },
	{ "$__timeFilter()", NULL },
	{ "$__timeFilter(day", NULL },
	{ "$__unixEpochFilter(t)", NULL },
	{ "$__interval", NULL },
	{ "$__timeGroup(day)", NULL },
	{ "$__timeGroup(day, 1x)", NULL },
	{ "$__timeGroup(day, 1d, zero)", NULL },
	{ "$__timeGroupAlias(day, 1d, 0, 1)", NULL },
	{ "$1", NULL },
	{ "$$", NULL },
	{ "cost $", NULL },
};

START_TEST(test_grafana_expander)
{
	struct gvars	 v = { FROM, TO, two, nitems(two) };
	struct buf	 out;
	char		 err[256] = "";
	int		 rc;

	buf_init(&out, 1 << 20);
	rc = expand(expand_cases[_i].in, &v, &out, err, sizeof(err));
	if (expand_cases[_i].want == NULL)
		ck_assert_msg(rc == -1, "%s: expanded to %s",
		    expand_cases[_i].in, buf_cstr(&out));
	else {
		ck_assert_msg(rc == 0, "%s: %s", expand_cases[_i].in, err);
		ck_assert_str_eq(buf_cstr(&out), expand_cases[_i].want);
	}
	buf_clear(&out);
}
END_TEST

/* --- the database and the dashboards ----------------------------------- */

static void
die(const char *what, const char *why)
{
	fprintf(stderr, "check_grafana: setup: %s: %s\n", what, why);
	exit(1);
}

static void
load_file(struct buf *b, const char *path)
{
	int	 fd;

	buf_init(b, 8 << 20);
	if ((fd = open(path, O_RDONLY)) == -1 || buf_read_fd(b, fd) != 0)
		die(path, strerror(errno));
	close(fd);
	buf_add(b, "", 0);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .json files in contrib/grafana/ of the source tree, sorted. */
static void
find_files(void)
{
	const char	*top = getenv("DM_SRCDIR");
	char		 dir[PATH_MAX], path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;
	size_t		 len;

	snprintf(dir, sizeof(dir), "%s/contrib/grafana",
	    top != NULL ? top : ".");
	if ((d = opendir(dir)) == NULL)
		die(dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			die(dir, "path too long");
		files = xreallocarray(files, nfiles + 1, sizeof(*files));
		files[nfiles++] = xstrdup(path);
	}
	closedir(d);
	if (nfiles == 0)
		die(dir, "no *.json");
	qsort(files, nfiles, sizeof(*files), cmp_str);
}

/* Run sql with the text of file as $1; fails the test on an error. */
static PGresult *
on_file(PGconn *c, const char *sql, const char *file)
{
	struct buf	 b;
	const char	*param;
	PGresult	*res;

	load_file(&b, file);
	param = buf_cstr(&b);
	res = PQexecParams(c, sql, 1, NULL, &param, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", file,
	    PQerrorMessage(c));
	buf_clear(&b);
	return res;
}

/* Every panel of the dashboard at any depth: collapsed rows hold theirs. */
#define PANELS	"p AS (SELECT x.p, x.n FROM d, jsonb_path_query(d.j," \
		" 'strict $.**.panels[*]') WITH ORDINALITY AS x(p, n))"

/*
 * Each target of each panel, and each query variable: where it is, the
 * panel's title and type, the target's format, the SQL.
 */
static const char extract_sql[] =
	"WITH d AS (SELECT $1::jsonb AS j), " PANELS
	" SELECT w, title, ptype, fmt, q FROM ("
	"  SELECT 1 AS k, p.n, y.m,"
	"   format('panel %s \"%s\" %s', p.p->>'id', p.p->>'title',"
	"    y.t->>'refId') AS w, coalesce(p.p->>'title', '') AS title,"
	"   coalesce(p.p->>'type', '') AS ptype, y.t->>'format' AS fmt,"
	"   y.t->>'rawSql' AS q"
	"  FROM p, jsonb_array_elements(p.p->'targets')"
	"   WITH ORDINALITY AS y(t, m)"
	"  UNION ALL"
	"  SELECT 2, v.n, 0, format('variable %s', v.v->>'name'),"
	"   coalesce(v.v->>'name', ''), 'variable', 'table',"
	"   coalesce(v.v->'query'->>'rawSql', v.v->>'query')"
	"  FROM d, jsonb_array_elements(d.j->'templating'->'list')"
	"   WITH ORDINALITY AS v(v, n)"
	"  WHERE v.v->>'type' = 'query'"
	" ) AS a ORDER BY k, n, m";

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL :
	    xstrdup(PQgetvalue(res, row, col));
}

/* Take every query out of every dashboard, once before the tests fork. */
static void
extract_queries(PGconn *c)
{
	struct buf	 b;
	const char	*param, *base;
	PGresult	*res;
	size_t		 f;
	int		 i;

	for (f = 0; f < nfiles; f++) {
		base = strrchr(files[f], '/') + 1;
		load_file(&b, files[f]);
		param = buf_cstr(&b);
		res = PQexecParams(c, extract_sql, 1, NULL, &param, NULL, NULL,
		    0);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			die(files[f], PQerrorMessage(c));
		gqs = xreallocarray(gqs, ngq + PQntuples(res), sizeof(*gqs));
		for (i = 0; i < PQntuples(res); i++) {
			struct gq	*q = &gqs[ngq++];
			char		 where[512];

			snprintf(where, sizeof(where), "%s: %s", base,
			    PQgetvalue(res, i, 0));
			q->where = xstrdup(where);
			q->title = dup_or_null(res, i, 1);
			q->ptype = dup_or_null(res, i, 2);
			q->format = dup_or_null(res, i, 3);
			q->sql = dup_or_null(res, i, 4);
		}
		PQclear(res);
		buf_clear(&b);
	}
	if (ngq == 0)
		die("contrib/grafana", "no queries in the dashboards");
}

static void
db_setup(void)
{
	const char	*base = test_need_db();
	char		 sql[512];
	PGconn		*conn;

	snprintf(db_name, sizeof(db_name), "grafana_test_%ld",
	    (long)getpid());
	snprintf(reader, sizeof(reader), "grafana_reader_%ld",
	    (long)getpid());
	test_db_create(base, db_name);
	conn = test_db_open(base, db_name);
	test_db_conninfo(conn, owner_db, sizeof(owner_db));
	test_db_migrate(owner_db);
	test_db_exec(conn, "SET client_min_messages TO warning");
	test_db_exec_file(conn, test_path("query", "fixture.sql"));
	/* roles are the cluster's: one of this run's own */
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s; "
	    "CREATE ROLE %s LOGIN IN ROLE dmarc_reader", reader, reader);
	test_db_exec(conn, sql);
	/* later keywords win: the same server and database as reader */
	snprintf(reader_db, sizeof(reader_db), "%s user='%s' "
	    "options='-c TimeZone=" READER_TZ "'", owner_db, reader);
	PQfinish(conn);
}

static void
db_teardown(void)
{
	char	 sql[128];
	PGconn	*conn;

	test_db_drop(test_need_db(), db_name);
	conn = test_db_open(test_need_db(), NULL);
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", reader);
	test_db_exec(conn, sql);
	PQfinish(conn);
}

/* --- the dashboards' form ---------------------------------------------- */

/*
 * Checks of a dashboard's form, each a query that returns one row per
 * problem found ($1: the file's text).
 */
static const struct {
	const char	*what;
	const char	*sql;
} form_checks[] = {
	{ "valid JSON, a dashboard to import",
	    "SELECT 'not an importable dashboard' FROM (SELECT $1::jsonb AS j)"
	    " AS d WHERE jsonb_typeof(j) <> 'object'"
	    " OR jsonb_typeof(j->'title') IS DISTINCT FROM 'string'"
	    " OR jsonb_typeof(j->'uid') IS DISTINCT FROM 'string'"
	    " OR jsonb_typeof(j->'schemaVersion') IS DISTINCT FROM 'number'"
	    " OR j->'id' IS DISTINCT FROM 'null'"
	    " OR jsonb_typeof(j->'panels') IS DISTINCT FROM 'array'" },
	/* the importer asks which PostgreSQL data source to use */
	{ "an input DS_POSTGRESQL",
	    "SELECT 'no __inputs entry DS_POSTGRESQL' FROM"
	    " (SELECT $1::jsonb AS j) AS d WHERE NOT coalesce(j->'__inputs' @>"
	    " '[{\"name\": \"DS_POSTGRESQL\", \"type\": \"datasource\","
	    " \"pluginId\": \"grafana-postgresql-datasource\"}]', false)" },
	{ "no other data source",
	    "SELECT 'data source uid ' || u::text FROM"
	    " (SELECT $1::jsonb AS j) AS d,"
	    " jsonb_path_query(j, 'strict $.**.uid') AS u"
	    " WHERE u #>> '{}' LIKE '${%' AND u <> '\"${DS_POSTGRESQL}\"'"
	    " UNION ALL"
	    " SELECT 'input ' || (i->>'name') FROM (SELECT $1::jsonb AS j)"
	    " AS d, jsonb_array_elements(j->'__inputs') AS i"
	    " WHERE i->>'name' <> 'DS_POSTGRESQL'" },
	{ "panel ids unique",
	    "WITH d AS (SELECT $1::jsonb AS j), " PANELS
	    " SELECT format('panel id %s: %s panels', p->'id', count(*))"
	    " FROM p GROUP BY p->'id'"
	    " HAVING count(*) > 1 OR jsonb_typeof(p->'id') IS DISTINCT FROM"
	    " 'number'" },
	{ "panels use ${DS_POSTGRESQL}",
	    "WITH d AS (SELECT $1::jsonb AS j), " PANELS
	    " SELECT format('panel %s \"%s\": datasource %s', p->>'id',"
	    " p->>'title', coalesce(p->>'datasource', 'missing')) FROM p"
	    " WHERE (p->>'type' <> 'row' OR p ? 'datasource')"
	    " AND p->'datasource' IS DISTINCT FROM '" DS_JSON "'"
	    " UNION ALL"
	    " SELECT format('panel %s \"%s\" %s: datasource %s', p->>'id',"
	    " p->>'title', t->>'refId', coalesce(t->>'datasource', 'missing'))"
	    " FROM p, jsonb_array_elements(p->'targets') AS t"
	    " WHERE t->'datasource' IS DISTINCT FROM '" DS_JSON "'"
	    " UNION ALL"
	    " SELECT format('panel %s \"%s\": no query', p->>'id', p->>'title')"
	    " FROM p WHERE p->>'type' <> 'row'"
	    " AND coalesce(jsonb_array_length(p->'targets'), 0) = 0" },
	/* the query editor's code mode, rawSql run as written */
	{ "targets are raw SQL",
	    "WITH d AS (SELECT $1::jsonb AS j), " PANELS
	    " SELECT format('panel %s \"%s\" %s: %s', p->>'id', p->>'title',"
	    " t->>'refId', t - 'datasource') FROM p,"
	    " jsonb_array_elements(p->'targets') AS t"
	    " WHERE NOT t @> '{\"rawQuery\": true, \"editorMode\": \"code\"}'"
	    " OR t->>'format' IS DISTINCT FROM 'table'"
	    " AND t->>'format' IS DISTINCT FROM 'time_series'"
	    " OR jsonb_typeof(t->'rawSql') IS DISTINCT FROM 'string'"
	    " OR jsonb_typeof(t->'refId') IS DISTINCT FROM 'string'"
	    " UNION ALL"
	    " SELECT format('panel %s \"%s\": refId %s twice', p->>'id',"
	    " p->>'title', t->>'refId') FROM p,"
	    " jsonb_array_elements(p->'targets') AS t"
	    " GROUP BY p->>'id', p->>'title', t->>'refId'"
	    " HAVING count(*) > 1" },
	{ "variables use ${DS_POSTGRESQL}",
	    "SELECT format('variable %s: %s', v->>'name', v - 'options')"
	    " FROM (SELECT $1::jsonb AS j) AS d,"
	    " jsonb_array_elements(j->'templating'->'list') AS v"
	    " WHERE v->>'type' = 'query' AND (v->'datasource' IS DISTINCT FROM"
	    " '" DS_JSON "' OR v->'definition' IS DISTINCT FROM v->'query')" },
	/* a query anywhere else would not be run by these tests */
	{ "every query taken out",
	    "WITH d AS (SELECT $1::jsonb AS j), " PANELS ","
	    " all_sql AS (SELECT count(*) AS n FROM d,"
	    "  jsonb_path_query(j, 'strict $.**.rawSql')),"
	    " targets AS (SELECT count(*) AS n FROM p,"
	    "  jsonb_array_elements(p.p->'targets') AS t WHERE t ? 'rawSql'),"
	    " vars AS (SELECT count(*) AS n FROM d,"
	    "  jsonb_array_elements(j->'templating'->'list') AS v"
	    "  WHERE v->'query' ? 'rawSql')"
	    " SELECT format('%s rawSql, %s in targets, %s in variables',"
	    " all_sql.n, targets.n, vars.n) FROM all_sql, targets, vars"
	    " WHERE all_sql.n <> targets.n + vars.n" },
};

START_TEST(test_grafana_dashboard_form)
{
	PGresult	*res;
	PGconn		*c;
	size_t		 f;

	c = test_db_open(owner_db, NULL);
	for (f = 0; f < nfiles; f++) {
		res = on_file(c, form_checks[_i].sql, files[f]);
		ck_assert_msg(PQntuples(res) == 0, "%s: %s: %s", files[f],
		    form_checks[_i].what, PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	PQfinish(c);
}
END_TEST

/* --- running the queries ----------------------------------------------- */

#define INT2OID		21
#define INT4OID		23
#define INT8OID		20
#define FLOAT4OID	700
#define FLOAT8OID	701
#define NUMERICOID	1700
#define BOOLOID		16
#define TEXTOID		25
#define VARCHAROID	1043
#define DATEOID		1082
#define TIMESTAMPOID	1114
#define TIMESTAMPTZOID	1184

static int
is_number(Oid t)
{
	return t == INT2OID || t == INT4OID || t == INT8OID ||
	    t == FLOAT4OID || t == FLOAT8OID || t == NUMERICOID;
}

/* Types Grafana's PostgreSQL data source turns into fields. */
static int
is_shown(Oid t)
{
	return is_number(t) || t == BOOLOID || t == TEXTOID ||
	    t == VARCHAROID || t == DATEOID || t == TIMESTAMPOID ||
	    t == TIMESTAMPTZOID;
}

static PGconn *
reader_open(void)
{
	PGconn	*c = PQconnectdb(reader_db);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s: %s", reader_db,
	    PQerrorMessage(c));
	return c;
}

/* Expand q with v and run it on c; fails the test on any error. */
static PGresult *
run(PGconn *c, const struct gq *q, const struct gvars *v)
{
	struct buf	 sql;
	char		 err[256];
	PGresult	*res;

	ck_assert_msg(q->sql != NULL && *q->sql != '\0', "%s: no rawSql",
	    q->where);
	buf_init(&sql, 1 << 20);
	ck_assert_msg(expand(q->sql, v, &sql, err, sizeof(err)) == 0,
	    "%s: %s", q->where, err);
	res = PQexec(c, buf_cstr(&sql));
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s\n%s",
	    q->where, PQerrorMessage(c), buf_cstr(&sql));
	buf_clear(&sql);
	return res;
}

/* The column names, then each row; cells joined by |, NULL as NULL. */
static char *
res_text(const PGresult *res)
{
	struct buf	 b;
	char		*s;
	int		 r, f;

	buf_init(&b, 1 << 20);
	for (f = 0; f < PQnfields(res); f++)
		buf_printf(&b, "%s%s", f > 0 ? "|" : "", PQfname(res, f));
	buf_addc(&b, '\n');
	for (r = 0; r < PQntuples(res); r++) {
		for (f = 0; f < PQnfields(res); f++)
			buf_printf(&b, "%s%s", f > 0 ? "|" : "",
			    PQgetisnull(res, r, f) ? "NULL" :
			    PQgetvalue(res, r, f));
		buf_addc(&b, '\n');
	}
	s = xstrdup(buf_cstr(&b));
	buf_clear(&b);
	return s;
}

/*
 * What a panel needs of its query's result: a time series a "time"
 * column first, in order, and numbers (text columns are labels); a
 * stat or pie chart one row of numbers; everything types Grafana reads.
 */
static void
check_shape(const struct gq *q, const PGresult *res)
{
	int	 f, r, numbers = 0;

	ck_assert_msg(PQnfields(res) > 0, "%s: no columns", q->where);
	for (f = 0; f < PQnfields(res); f++) {
		ck_assert_msg(is_shown(PQftype(res, f)), "%s: column %s: type "
		    "%u", q->where, PQfname(res, f), PQftype(res, f));
		numbers += f > 0 && is_number(PQftype(res, f));
	}
	if (q->format != NULL && strcmp(q->format, "time_series") == 0) {
		ck_assert_msg(strcmp(PQfname(res, 0), "time") == 0 &&
		    is_number(PQftype(res, 0)), "%s: first column %s, not a "
		    "numeric time", q->where, PQfname(res, 0));
		ck_assert_msg(numbers > 0, "%s: no values", q->where);
		for (r = 1; r < PQntuples(res); r++)
			ck_assert_msg(strtod(PQgetvalue(res, r - 1, 0), NULL) <=
			    strtod(PQgetvalue(res, r, 0), NULL),
			    "%s: not ordered by time", q->where);
	}
	if (strcmp(q->ptype, "stat") == 0 ||
	    strcmp(q->ptype, "piechart") == 0) {
		ck_assert_msg(PQntuples(res) == 1, "%s: %d rows", q->where,
		    PQntuples(res));
		for (f = 0; f < PQnfields(res); f++)
			ck_assert_msg(is_number(PQftype(res, f)), "%s: column "
			    "%s is no number", q->where, PQfname(res, f));
	}
	if (strcmp(q->ptype, "variable") == 0)
		ck_assert_msg(PQnfields(res) == 1, "%s: %d columns", q->where,
		    PQnfields(res));
}

/* The values of the domain variable: all there are, as "All" sends. */
static char **
all_domains(PGconn *c, size_t *n)
{
	static const struct gvars	 none = { FROM, TO, NULL, 0 };
	const struct gq			*q = NULL;
	PGresult			*res;
	char				**v;
	size_t				 i;
	int				 r;

	for (i = 0; i < ngq; i++)
		if (strcmp(gqs[i].ptype, "variable") == 0 &&
		    strcmp(gqs[i].title, "domain") == 0)
			q = &gqs[i];
	ck_assert_msg(q != NULL, "no variable domain");
	res = run(c, q, &none);
	v = xcalloc(PQntuples(res) + 1, sizeof(*v));
	for (r = 0; r < PQntuples(res); r++)
		v[r] = xstrdup(PQgetvalue(res, r, 0));
	*n = PQntuples(res);
	PQclear(res);
	return v;
}

static void
free_strv(char **v)
{
	size_t	 i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * What each query gives on the fixture over its two months with every
 * domain selected. Checked by hand against fixture.sql: example.com
 * 1,234,567 messages on 2024-02-27 (1,000,000 pass, 234,567 rejected)
 * and 15 on 03-02 (10 pass by SPF, 5 quarantined); example.org 7 on
 * 03-03 (pass by DKIM) and a report without records on 03-04. Failure
 * reports: 03-02 (example.com), 03-03 (example.org and sub.example.org),
 * 02-20 without a domain, one without a date (stored now: out of range).
 * Times are seconds: 1708992000 is 2024-02-27, 1709337600 03-02,
 * 1709424000 03-03.
 */
static const struct {
	const char	*where;
	const char	*text;
} wants[] = {
	{ "dmarcd.json: variable domain",
	    "d\nexample.com\nexample.org\nsub.example.org\n" },
	{ "dmarcd.json: panel 1 \"Messages\" A",
	    "Messages\n1234589\n" },
	/* 1,000,017 / 1,234,589 */
	{ "dmarcd.json: panel 2 \"DMARC pass\" A",
	    "DMARC pass\n0.8099999271012458\n" },
	{ "dmarcd.json: panel 3 \"Sources\" A",
	    "Sources\n5\n" },
	/* one per reported domain: 03-03's counts twice */
	{ "dmarcd.json: panel 4 \"Failure reports\" A",
	    "Failure reports\n3\n" },
	{ "dmarcd.json: panel 5 \"Messages per day\" A",
	    "time|DMARC pass|DMARC fail\n"
	    "1708992000|1000000|234567\n"
	    "1709337600|10|5\n"
	    "1709424000|7|0\n"
	    /* a report without records: a day with no messages */
	    "1709510400|0|0\n" },
	{ "dmarcd.json: panel 6 \"Aligned rates per day\" A",
	    "time|DKIM aligned|SPF aligned|DMARC pass\n"
	    "1708992000|0.8100005913004317|0.8100005913004317|"
	    "0.8100005913004317\n"
	    "1709337600|0|0.6666666666666666|0.6666666666666666\n"
	    "1709424000|1|0|1\n"
	    "1709510400|NULL|NULL|NULL\n" },
	{ "dmarcd.json: panel 7 \"Top failing sources\" A",
	    "Source|Domain|Messages|DMARC fail|Fail rate|DKIM aligned|"
	    "SPF aligned\n"
	    "198.51.100.7|example.com|234567|234567|1|0|0\n"
	    "192.0.2.9|example.com|5|5|1|0|0\n" },
	{ "dmarcd.json: panel 8 \"Dispositions\" A",
	    "none|quarantine|reject\n1000017|5|234567\n" },
	/* the report without records counts, with 0 messages */
	{ "dmarcd.json: panel 9 \"Reporters\" A",
	    "Organisation|Reports|Messages\n"
	    "google.com|1|1234567\n"
	    "Yahoo! Inc.|1|15\n"
	    "Ev\x1b[31mil, \"Corp\"|1|7\n"
	    "\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"
	    "\xe2\x80\xa8|1|0\n" },
	{ "dmarcd.json: panel 11 \"Failure reports per day\" A",
	    "time|metric|Failure reports\n"
	    "1709337600|example.com|1\n"
	    "1709424000|example.org|1\n"
	    "1709424000|sub.example.org|1\n" },
	{ "dmarcd.json: panel 12 \"Failure reports by source\" A",
	    "Source|Reported domain|Failure reports|First day|Last day\n"
	    "192.0.2.1|example.com|1|2024-03-02|2024-03-02\n"
	    "2001:db8::1|example.org|1|2024-03-03|2024-03-03\n"
	    "2001:db8::1|sub.example.org|1|2024-03-03|2024-03-03\n" },
};

/* One test per query: it runs, has its panel's shape and its figures. */
START_TEST(test_grafana_query_results)
{
	const struct gq	*q = &gqs[_i];
	struct gvars	 v = { FROM, TO, NULL, 0 };
	PGresult	*res;
	PGconn		*c;
	char		**domains, *got;
	size_t		 i;

	c = reader_open();
	domains = all_domains(c, &v.ndomain);
	v.domain = (const char *const *)domains;
	res = run(c, q, &v);
	check_shape(q, res);
	got = res_text(res);
	for (i = 0; i < nitems(wants); i++)
		if (strcmp(wants[i].where, q->where) == 0)
			break;
	ck_assert_msg(i < nitems(wants), "%s: no figures in wants[]; got\n%s",
	    q->where, visible(got));
	ck_assert_msg(strcmp(got, wants[i].text) == 0, "%s: got\n%s",
	    q->where, visible(got));
	free(got);
	PQclear(res);
	free_strv(domains);
	PQfinish(c);
}
END_TEST

START_TEST(test_grafana_every_figure_has_its_query)
{
	size_t	 i, j;

	for (i = 0; i < nitems(wants); i++) {
		for (j = 0; j < ngq; j++)
			if (strcmp(wants[i].where, gqs[j].where) == 0)
				break;
		ck_assert_msg(j < ngq, "wants[]: no query %s", wants[i].where);
	}
}
END_TEST

/* A value that would change the query if it were not quoted. */
START_TEST(test_grafana_domain_value_is_quoted)
{
	static const char *const evil[] = { "x' OR '1'='1", "y\\'" };
	struct gvars	 v = { FROM, TO, evil, nitems(evil) };
	PGresult	*res;
	PGconn		*c;
	size_t		 i;
	int		 f;

	c = reader_open();
	for (i = 0; i < ngq; i++) {
		if (strcmp(gqs[i].ptype, "variable") == 0)
			continue;
		res = run(c, &gqs[i], &v);
		check_shape(&gqs[i], res);
		if (strcmp(gqs[i].ptype, "stat") == 0 ||
		    strcmp(gqs[i].ptype, "piechart") == 0) {
			for (f = 0; f < PQnfields(res); f++)
				ck_assert_msg(PQgetisnull(res, 0, f) ||
				    strcmp(PQgetvalue(res, 0, f), "0") == 0,
				    "%s: %s", gqs[i].where,
				    PQgetvalue(res, 0, f));
		} else
			ck_assert_msg(PQntuples(res) == 0, "%s: %d rows",
			    gqs[i].where, PQntuples(res));
		PQclear(res);
	}
	PQfinish(c);
}
END_TEST

/* --- the totals are dmarcq's ------------------------------------------- */

struct totals {
	long long	 messages, pass, fail, dkim, spf, quar, rej;
	long long	 sources;	/* distinct source addresses */
};

/* dmarcq summary and sources with these filters, added up. */
static void
dmarcq_totals(const char *domain, const char *since, const char *until,
    struct totals *t)
{
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	PGconn			*conn;
	FILE			*f;
	char			*out = NULL, *line, *save, ip[64];
	char			 seen[16][64];
	size_t			 len = 0, nseen = 0, i;
	long long		 r, m, p, fl, dk, sp, q, rj;

	memset(t, 0, sizeof(*t));
	query_opts_init(&o);
	o.format = QUERY_CSV;
	o.limit = 0;
	o.domain = domain;
	ck_assert_int_eq(query_parse_time(since, 0, &o.since, &err), 0);
	ck_assert_int_eq(query_parse_time(until, 0, &o.until, &err), 0);
	o.has_since = o.has_until = 1;
	conn = query_connect(reader_db, &err);
	ck_assert_msg(conn != NULL, "%s", err.msg);

	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_msg(query_run(conn, query_find("summary"), &o, f, &err) == 0,
	    "%s", err.msg);
	fclose(f);
	line = strtok_r(out, "\r\n", &save);	/* the header */
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		ck_assert_msg(sscanf(line, "%*[^,],%lld,%lld,%lld,%lld,%lld,"
		    "%lld,%lld,%lld", &r, &m, &p, &fl, &dk, &sp, &q, &rj) == 8,
		    "%s", line);
		t->messages += m;
		t->pass += p;
		t->fail += fl;
		t->dkim += dk;
		t->spf += sp;
		t->quar += q;
		t->rej += rj;
	}
	free(out);

	out = NULL;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_msg(query_run(conn, query_find("sources"), &o, f, &err) == 0,
	    "%s", err.msg);
	fclose(f);
	line = strtok_r(out, "\r\n", &save);
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		ck_assert_int_eq(sscanf(line, "%*[^,],%63[^,]", ip), 1);
		for (i = 0; i < nseen; i++)
			if (strcmp(seen[i], ip) == 0)
				break;
		if (i == nseen) {
			ck_assert_uint_lt(nseen, nitems(seen));
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", ip);
		}
	}
	t->sources = nseen;
	free(out);
	PQfinish(conn);
}

/* The first query of the panel titled title. */
static const struct gq *
panel(const char *title)
{
	size_t	 i;

	for (i = 0; i < ngq; i++)
		if (strcmp(gqs[i].ptype, "variable") != 0 &&
		    strcmp(gqs[i].title, title) == 0)
			return &gqs[i];
	ck_abort_msg("no panel \"%s\"", title);
	return NULL;
}

/* The column called name, exactly (PQfnumber() folds unquoted names). */
static int
column(const PGresult *res, const char *name)
{
	int	 f;

	for (f = 0; f < PQnfields(res); f++)
		if (strcmp(PQfname(res, f), name) == 0)
			return f;
	ck_abort_msg("no column \"%s\"", name);
	return -1;
}

/* Column name of a panel's one-row result, as a number; NULL is -1. */
static double
cell(PGconn *c, const char *title, const char *name, const struct gvars *v)
{
	PGresult	*res = run(c, panel(title), v);
	double		 d;
	int		 f;

	ck_assert_int_eq(PQntuples(res), 1);
	f = column(res, name);
	d = PQgetisnull(res, 0, f) ? -1 : strtod(PQgetvalue(res, 0, f), NULL);
	PQclear(res);
	return d;
}

/* Column name of a panel's result, summed over the rows. */
static long long
column_sum(PGconn *c, const char *title, const char *name,
    const struct gvars *v)
{
	PGresult	*res = run(c, panel(title), v);
	long long	 sum = 0;
	int		 f, r;

	f = column(res, name);
	for (r = 0; r < PQntuples(res); r++)
		sum += strtoll(PQgetvalue(res, r, f), NULL, 10);
	PQclear(res);
	return sum;
}

/*
 * A rate per day of "Aligned rates per day" times the day's messages of
 * "Messages per day", summed: the messages the rate stands for.
 */
static long long
rate_sum(PGconn *c, const char *name, const struct gvars *v)
{
	PGresult	*rates = run(c, panel("Aligned rates per day"), v);
	PGresult	*days = run(c, panel("Messages per day"), v);
	long long	 sum = 0, n;
	int		 f, r;

	ck_assert_int_eq(PQntuples(rates), PQntuples(days));
	f = column(rates, name);
	for (r = 0; r < PQntuples(rates); r++) {
		ck_assert_str_eq(PQgetvalue(rates, r, 0),
		    PQgetvalue(days, r, 0));
		n = strtoll(PQgetvalue(days, r, column(days, "DMARC pass")),
		    NULL, 10) + strtoll(PQgetvalue(days, r, column(days,
		    "DMARC fail")), NULL, 10);
		if (!PQgetisnull(rates, r, f))
			sum += (long long)(strtod(PQgetvalue(rates, r, f),
			    NULL) * n + 0.5);
	}
	PQclear(rates);
	PQclear(days);
	return sum;
}

/* Grafana's time range and domains, and the same for dmarcq. */
static const struct {
	const char	*from, *to;		/* Grafana */
	const char	*domain;		/* NULL: all */
	const char	*since, *until;		/* dmarcq */
	long long	 messages;		/* what both must say */
} ranges[] = {
	{ FROM, TO, NULL, "2024-02-01", "2024-04-01", 1234589 },
	/* whole days that overlap the range: 03-03 is in */
	{ "2024-03-01T00:00:00Z", "2024-03-03T12:00:00Z", NULL,
	    "2024-03-01", "2024-03-03T12:00:00Z", 22 },
	{ FROM, TO, "example.org", "2024-02-01", "2024-04-01", 7 },
	{ "2024-02-27T12:00:00Z", "2024-02-27T13:00:00Z", "example.com",
	    "2024-02-27", "2024-02-28", 1234567 },
	{ "2024-01-01T00:00:00Z", "2024-01-31T23:59:59Z", NULL,
	    "2024-01-01", "2024-02-01", 0 },
};

START_TEST(test_grafana_totals_are_dmarcq_summary)
{
	struct gvars	 v = { ranges[_i].from, ranges[_i].to, NULL, 0 };
	struct totals	 t;
	PGconn		*c;
	char		**domains;
	const char	*one[1];

	dmarcq_totals(ranges[_i].domain, ranges[_i].since, ranges[_i].until,
	    &t);
	ck_assert_int_eq(t.messages, ranges[_i].messages);
	c = reader_open();
	domains = all_domains(c, &v.ndomain);
	v.domain = (const char *const *)domains;
	if (ranges[_i].domain != NULL) {
		one[0] = ranges[_i].domain;
		v.domain = one;
		v.ndomain = 1;
	}
	ck_assert_int_eq(cell(c, "Messages", "Messages", &v), t.messages);
	if (t.messages > 0)
		ck_assert(cell(c, "DMARC pass", "DMARC pass", &v) ==
		    (double)t.pass / t.messages);
	else
		ck_assert(cell(c, "DMARC pass", "DMARC pass", &v) == -1);
	ck_assert_int_eq(cell(c, "Sources", "Sources", &v), t.sources);
	ck_assert_int_eq(cell(c, "Dispositions", "none", &v),
	    t.messages - t.quar - t.rej);
	ck_assert_int_eq(cell(c, "Dispositions", "quarantine", &v), t.quar);
	ck_assert_int_eq(cell(c, "Dispositions", "reject", &v), t.rej);
	ck_assert_int_eq(column_sum(c, "Messages per day", "DMARC pass", &v),
	    t.pass);
	ck_assert_int_eq(column_sum(c, "Messages per day", "DMARC fail", &v),
	    t.fail);
	ck_assert_int_eq(column_sum(c, "Reporters", "Messages", &v),
	    t.messages);
	ck_assert_int_eq(rate_sum(c, "DKIM aligned", &v), t.dkim);
	ck_assert_int_eq(rate_sum(c, "SPF aligned", &v), t.spf);
	ck_assert_int_eq(rate_sum(c, "DMARC pass", &v), t.pass);
	free_strv(domains);
	PQfinish(c);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("grafana");
	TCase	*tc = tcase_create("grafana");
	PGconn	*conn;

	/* the whole program is skipped without a database */
	conn = test_db_open(test_need_db(), NULL);
	/* before the tests are counted: one test per query */
	find_files();
	extract_queries(conn);
	PQfinish(conn);

	tcase_add_loop_test(tc, test_grafana_expander, 0,
	    nitems(expand_cases));
	tcase_add_unchecked_fixture(tc, db_setup, db_teardown);
	tcase_add_loop_test(tc, test_grafana_dashboard_form, 0,
	    nitems(form_checks));
	tcase_add_loop_test(tc, test_grafana_query_results, 0, ngq);
	tcase_add_test(tc, test_grafana_every_figure_has_its_query);
	tcase_add_test(tc, test_grafana_domain_value_is_quoted);
	tcase_add_loop_test(tc, test_grafana_totals_are_dmarcq_summary, 0,
	    nitems(ranges));
	suite_add_tcase(s, tc);
	return s;
}
