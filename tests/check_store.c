/*
 * check_store.c: store against a real PostgreSQL (DMARCD_TEST_DB, e.g.
 * from tests/pg.sh). Each test works in a database of its own,
 * t_store_<name>, created afresh, so tests are independent and can be
 * inspected after a failure.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bounds.h"
#include "mime.h"
#include "ruf.h"
#include "store.h"
#include "test.h"
#include "util.h"

/* --- helpers ---------------------------------------------------------- */

static char	 conninfo[2048];	/* the test's own database */
static char	 dbname[64];

/* conninfo of the test server with dbname (and user, if not NULL). */
static void
conninfo_for(char *out, size_t outlen, const char *db, const char *user)
{
	PQconninfoOption	*opts, *o;
	char			*perr = NULL;
	size_t			 len = 0;
	const char		*v, *s;

	opts = PQconninfoParse(test_need_db(), &perr);
	ck_assert_msg(opts != NULL, "DMARCD_TEST_DB: %s", perr);
	out[0] = '\0';
	for (o = opts; o->keyword != NULL; o++) {
		v = o->val;
		if (strcmp(o->keyword, "dbname") == 0)
			v = db;
		else if (strcmp(o->keyword, "user") == 0 && user != NULL)
			v = user;
		if (v == NULL)
			continue;
		len += snprintf(out + len, outlen - len, "%s='", o->keyword);
		for (s = v; *s != '\0' && len + 4 < outlen; s++) {
			if (*s == '\'' || *s == '\\')
				out[len++] = '\\';
			out[len++] = *s;
		}
		len += snprintf(out + len, outlen - len, "' ");
		ck_assert(len < outlen);
	}
	if (user != NULL && strstr(out, "user=") == NULL)
		len += snprintf(out + len, outlen - len, "user='%s'", user);
	PQconninfoFree(opts);
}

static void
quiet(void *arg DM_UNUSED, const char *msg DM_UNUSED)
{
}

static PGconn *
connect_to(const char *ci)
{
	PGconn	*c = PQconnectdb(ci);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s",
	    PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

static void
exec_on(const char *ci, const char *sql)
{
	PGconn		*c = connect_to(ci);
	PGresult	*r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* A fresh database t_store_<name>; sets conninfo to it. */
static void
fresh_db(const char *name)
{
	char	admin[2048], sql[256];

	snprintf(dbname, sizeof(dbname), "t_store_%s", name);
	conninfo_for(admin, sizeof(admin), "postgres", NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    dbname);
	exec_on(admin, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	exec_on(admin, sql);
	conninfo_for(conninfo, sizeof(conninfo), dbname, NULL);
}

/* The first column of the first row of sql, as a number (-1: no row). */
static long long
q1(const char *sql)
{
	PGconn		*c = connect_to(conninfo);
	PGresult	*r = PQexec(c, sql);
	long long	 v = -1;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* The first column of the first row of sql, as text (static). */
static const char *
qs(const char *sql)
{
	static char	 out[4096];
	PGconn		*c = connect_to(conninfo);
	PGresult	*r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	snprintf(out, sizeof(out), "%s", PQntuples(r) > 0 &&
	    !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "(null)");
	PQclear(r);
	PQfinish(c);
	return out;
}

static struct store *
open_store(void)
{
	struct dm_err	 err = { 0 };
	struct store	*st = store_open(conninfo, &err);

	ck_assert_msg(st != NULL, "store_open: %s", err.msg);
	return st;
}

static struct store *
migrated_store(const char *name)
{
	struct dm_err	 err = { 0 };
	struct store	*st;

	fresh_db(name);
	st = open_store();
	ck_assert_msg(store_migrate(st, NULL, &err) == 0, "migrate: %s",
	    err.msg);
	return st;
}

/* A login in group (made once: roles are the cluster's). */
static void
make_login(const char *user, const char *group)
{
	char	sql[512];

	snprintf(sql, sizeof(sql), "DO $$ BEGIN IF NOT EXISTS (SELECT FROM "
	    "pg_roles WHERE rolname = '%s') THEN CREATE ROLE %s LOGIN IN ROLE "
	    "%s; END IF; EXCEPTION WHEN unique_violation OR duplicate_object "
	    "THEN NULL; END $$", user, user, group);
	exec_on(conninfo, sql);
}

static int
nmigrations(void)
{
	int	n = 0;

	while (store_migrations[n].name != NULL)
		n++;
	return n;
}

/* Rows in all the tables a report writes to. */
static long long
rows_everywhere(void)
{
	return q1("SELECT (SELECT count(*) FROM dmarc.report) + "
	    "(SELECT count(*) FROM dmarc.record) + "
	    "(SELECT count(*) FROM dmarc.record_dkim) + "
	    "(SELECT count(*) FROM dmarc.record_spf) + "
	    "(SELECT count(*) FROM dmarc.record_override) + "
	    "(SELECT count(*) FROM dmarc.ingest)");
}

/* --- a synthetic report ----------------------------------------------- */

/*
 * Three records: 10 messages from 192.0.2.1 passing DKIM (aligned) and
 * failing SPF, 5 from 2001:db8::1 failing both and quarantined, 7 from
 * 198.51.100.7 passing SPF only and rejected, with odd text in places.
 */
static struct report_dkim	 dk0[] = {
	{ "example.com", "s1", { "pass", NULL }, NULL },
	{ "esp.example.net", "k\\2", { "fail", "hardfail" }, "bad\tsig\n" },
};
static struct report_spf	 sp0[] = {
	{ "bounce.example.com", { "mfrom", NULL }, { "softfail", NULL },
	    NULL },
};
static struct report_reason	 rs1[] = {
	{ { "forwarded", NULL }, "via list\\x \xc3\xa9" },
	{ { NULL, "bogus" }, NULL },
};
static struct report_spf	 sp2[] = {
	{ "example.com", { "helo", "ehlo" }, { "pass", NULL }, "ok" },
	{ "example.org", { NULL, NULL }, { "temperror", "unknown" }, NULL },
};

static struct record	 recs[3];
static struct report	 rep;
static const char	*rep_errors[] = { "first \"error\"", "second, {x}" };

/* r's source address from text, as parse reads <source_ip>. */
static void
set_ip(struct record *r, const char *s)
{
	int	 len;

	len = dm_ip_parse(s, r->ip);
	ck_assert_msg(len == 4 || len == 16, "'%s' is not an address", s);
	r->ip_len = (unsigned char)len;
}

static void
make_report(const char *report_id, int64_t begin)
{
	memset(&rep, 0, sizeof(rep));
	memset(recs, 0, sizeof(recs));
	rep.ns = "urn:ietf:params:xml:ns:dmarc-2.0";
	rep.version = "1.0";
	rep.org_name = "Example Reporter";
	rep.email = "dmarc@reporter.example";
	rep.report_id = report_id;
	rep.begin = begin;
	rep.end = begin + 86399;
	rep.generator = "test";
	rep.errors = rep_errors;
	rep.nerrors = 2;
	rep.domain = "Example.COM";
	rep.adkim.val = "r";
	rep.aspf.val = "s";
	rep.aspf.raw = "strict";
	rep.p.val = "quarantine";
	rep.sp.val = NULL;
	rep.sp.raw = "bogus";
	rep.np.val = "reject";
	rep.pct = 100;
	rep.fo = "1";
	rep.testing.val = "n";
	rep.discovery_method.val = "treewalk";

	set_ip(&recs[0], "192.0.2.1");
	recs[0].count = 10;
	recs[0].disposition.val = "none";
	recs[0].dkim.val = "pass";
	recs[0].spf.val = "fail";
	recs[0].header_from = "example.com";
	recs[0].auth_dkim = dk0;
	recs[0].nauth_dkim = nitems(dk0);
	recs[0].auth_spf = sp0;
	recs[0].nauth_spf = nitems(sp0);

	set_ip(&recs[1], "2001:db8::1");
	recs[1].count = 5;
	recs[1].disposition.val = "quarantine";
	recs[1].dkim.val = "fail";
	recs[1].spf.val = "fail";
	recs[1].spf.raw = "hardfail";
	recs[1].reasons = rs1;
	recs[1].nreasons = nitems(rs1);
	recs[1].envelope_to = "rcpt\\@example.com";
	recs[1].envelope_from = "";

	set_ip(&recs[2], "198.51.100.7");
	recs[2].count = 7;
	recs[2].disposition.val = "reject";
	recs[2].dkim.val = NULL;
	recs[2].dkim.raw = "softfail";
	recs[2].spf.val = "pass";
	recs[2].header_from = "example.com";
	recs[2].auth_spf = sp2;
	recs[2].nauth_spf = nitems(sp2);
}

static struct store_input	 input = {
	"file", "/var/spool/reports/a.xml", NULL, 0, 0, "<m1@example>",
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
};

/*
 * Run the report through the sink as parse would; returns what begin()
 * returned, or -1 (err set) when anything failed (abort() was called).
 */
static int
feed(struct store *st, const struct store_input *in, struct dm_err *err)
{
	struct report_sink	 sink;
	size_t			 i;
	int			 b;

	store_sink(st, in, &sink);
	rep.nrecords = rep.messages = 0;
	if ((b = sink.begin(sink.arg, &rep, err)) == -1)
		return -1;
	for (i = 0; i < nitems(recs); i++) {
		rep.nrecords++;
		rep.messages += recs[i].count;
		if (b == 0 && sink.record(sink.arg, &rep, &recs[i], err) == -1) {
			sink.abort(sink.arg, &rep);
			return -1;
		}
	}
	rep.skipped = 1;
	if (sink.end(sink.arg, &rep, err) == -1)
		return -1;
	return b;
}

#define JAN2024	INT64_C(1704067200)	/* 2024-01-01 00:00:00Z */
#define FEB2024	INT64_C(1706745600)	/* 2024-02-01 00:00:00Z */

/* --- connection and migrations ---------------------------------------- */

START_TEST(test_store_unreachable_is_estore)
{
	const char	*want = "database unreachable (host 127.0.0.1, port "
	    "1): connection to server at \"127.0.0.1\", port 1 failed: "
	    "Connection refused Is the server running";
	struct dm_err	 err = { 0 };
	struct store	*st;

	test_need_db();
	st = store_open("host=127.0.0.1 port=1 dbname=x connect_timeout=3",
	    &err);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	/* where, and libpq's message with its hint, on one line */
	ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0 &&
	    strchr(err.msg, '\n') == NULL && strchr(err.msg, '\t') == NULL,
	    "%s", err.msg);
}
END_TEST

/*
 * A server that takes the TCP connection and never answers: without a
 * timeout of its own, libpq waits for ever, and so would the daemon.
 */
START_TEST(test_store_connect_gives_up)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct dm_err		 err = { 0 };
	struct store		*st;
	char			 ci[128];
	time_t			 t0;
	int			 ls;

	test_need_db();
	unsetenv("PGCONNECT_TIMEOUT");
	ck_assert_int_ne(ls = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(ls, 4), 0);	/* the kernel accepts */
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sin, &slen), 0);
	snprintf(ci, sizeof(ci), "host=127.0.0.1 port=%d "
	    "dbname=x sslmode=disable", ntohs(sin.sin_port));
	t0 = time(NULL);
	st = store_open(ci, &err);
	ck_assert_ptr_null(st);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_msg(time(NULL) - t0 >= 9 && time(NULL) - t0 <= 20,
	    "gave up after %lld s", (long long)(time(NULL) - t0));
	ck_assert_msg(strstr(err.msg, "database unreachable (host 127.0.0.1")
	    != NULL && strstr(err.msg, "timeout") != NULL, "%s", err.msg);
	close(ls);
}
END_TEST

START_TEST(test_store_bad_conninfo_is_econfig)
{
	struct dm_err	 err = { 0 };

	test_need_db();
	ck_assert_ptr_null(store_open("host=x nonsense", &err));
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_msg(strstr(err.msg, "conninfo") != NULL, "%s", err.msg);
}
END_TEST

/* NULL conninfo: libpq's defaults, from PGHOST etc. */
START_TEST(test_store_open_uses_libpq_defaults)
{
	PQconninfoOption	*opts, *o;
	struct dm_err		 err = { 0 };
	struct store		*st;

	opts = PQconninfoParse(test_need_db(), NULL);
	ck_assert_ptr_nonnull(opts);
	for (o = opts; o->keyword != NULL; o++)
		if (o->val != NULL && o->envvar != NULL)
			setenv(o->envvar, o->val, 1);
	PQconninfoFree(opts);
	st = store_open(NULL, &err);
	ck_assert_msg(st != NULL, "%s", err.msg);
	store_free(st);
	setenv("PGPORT", "1", 1);
	setenv("PGHOST", "127.0.0.1", 1);
	ck_assert_ptr_null(store_open("", &err));
	ck_assert_int_eq(err.scope, DM_ESTORE);
}
END_TEST

START_TEST(test_store_migrate_from_empty)
{
	static const char *const objs[] = { "dmarc.schema_version",
	    "dmarc.report", "dmarc.record", "dmarc.record_dkim",
	    "dmarc.record_spf", "dmarc.record_override",
	    "dmarc.failure_report", "dmarc.ingest", "dmarc.daily_domain",
	    "dmarc.daily_source", "dmarc.report_identity",
	    "dmarc.daily_failure", "dmarc.attempt", "dmarc.report_report_id" };
	struct dm_err	 err = { 0 };
	struct store	*st;
	char		 sql[256];
	size_t		 i;
	int		 n = -1;

	fresh_db("migrate");
	st = open_store();
	/* An empty database is refused until migrated. */
	ck_assert_int_eq(store_check_schema(st, &err), -1);
	ck_assert_msg(strstr(err.msg, "schema version 0") != NULL &&
	    strstr(err.msg, "run 'dmarcd migrate'") != NULL, "%s", err.msg);

	ck_assert_msg(store_migrate(st, &n, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(n, nmigrations());
	for (i = 0; i < nitems(objs); i++) {
		snprintf(sql, sizeof(sql), "SELECT to_regclass('%s') IS NOT "
		    "NULL", objs[i]);
		ck_assert_msg(strcmp(qs(sql), "t") == 0, "%s missing",
		    objs[i]);
	}
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.schema_version"),
	    nmigrations());
	ck_assert_int_eq(q1("SELECT min(version) FROM dmarc.schema_version"),
	    1);
	ck_assert_int_eq(q1("SELECT count(*) FROM pg_roles WHERE rolname IN "
	    "('dmarc_writer', 'dmarc_reader')"), 2);
	ck_assert_int_eq(store_check_schema(st, &err), 0);

	/* Again: nothing to do. */
	ck_assert_msg(store_migrate(st, &n, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.schema_version"),
	    nmigrations());

	/* Migrated by a newer dmarcd: refused, by both, saying why. */
	snprintf(sql, sizeof(sql), "INSERT INTO dmarc.schema_version "
	    "(version, name) VALUES (%d, 'from_the_future.sql')",
	    nmigrations() + 1);
	exec_on(conninfo, sql);
	ck_assert_int_eq(store_check_schema(st, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_msg(strstr(err.msg, "is newer than this dmarcd knows") !=
	    NULL && strstr(err.msg, "upgrade dmarcd") != NULL, "%s", err.msg);
	ck_assert_int_eq(store_migrate(st, &n, &err), -1);
	ck_assert_msg(strstr(err.msg, "is newer than this dmarcd knows") !=
	    NULL, "%s", err.msg);
	store_free(st);
}
END_TEST

/*
 * A store written under migration 006, enumerations as CHECKed text:
 * every value of every enumeration, NULLs inside arrays and whole,
 * values kept only raw, two partitions, the ledger's outcomes.
 */
static const char store_006[] =
    "SELECT dmarc.ensure_record_partition('2024-01-01 00:00:00+00'), "
    "dmarc.ensure_record_partition('2024-02-01 00:00:00+00');"
    "INSERT INTO dmarc.report (report_id, begin_time, end_time, domain, "
    "discovery_method, adkim, aspf, p, sp, np, testing, p_raw) VALUES "
    "('m-1', '2024-01-05 00:00:00+00', '2024-01-06 00:00:00+00', "
    "'example.com', 'psl', 'r', 's', 'none', 'quarantine', 'reject', 'n', "
    "NULL), "
    "('m-2', '2024-02-05 00:00:00+00', '2024-02-06 00:00:00+00', "
    "'example.com', 'treewalk', 's', 'r', 'reject', 'none', 'quarantine', "
    "'y', NULL), "
    "('m-3', '2024-02-07 00:00:00+00', '2024-02-08 00:00:00+00', "
    "'example.org', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'Bogus');"
    "INSERT INTO dmarc.record (rep_id, rec_no, begin_time, domain, "
    "source_ip, count, disposition, disposition_raw, dkim, dkim_raw, spf, "
    "reason_type, reason_type_raw, dkim_domain, dkim_result, spf_domain, "
    "spf_scope, spf_scope_raw, spf_result) "
    "SELECT p.id, v.rec_no, p.begin_time, p.domain, v.ip, v.count, "
    "v.disp, v.disp_raw, v.dkim, v.dkim_raw, v.spf, v.rt::text[], "
    "v.rtraw::text[], v.dd::text[], v.dr::text[], v.sd::text[], "
    "v.ss::text[], v.ssraw::text[], v.sr::text[] "
    "FROM dmarc.report p JOIN (VALUES "
    "('m-1', 1, '192.0.2.1'::inet, 3, 'none', NULL, 'pass', NULL, 'fail', "
    "'{forwarded,sampled_out,trusted_forwarder,mailing_list,local_policy,"
    "other,policy_test_mode,NULL}', '{NULL,NULL,NULL,NULL,NULL,NULL,NULL,"
    "Spam}', '{a,b,c,d,e,f,g,h}', '{none,pass,fail,policy,neutral,"
    "temperror,permerror,NULL}', '{a,b,c,d,e,f,g,h,i}', "
    "'{helo,mfrom,NULL,helo,mfrom,helo,mfrom,helo,NULL}', "
    "'{NULL,NULL,HELO,NULL,NULL,NULL,NULL,NULL,NULL}', "
    "'{none,neutral,pass,fail,softfail,temperror,permerror,policy,NULL}'), "
    "('m-1', 2, '2001:db8::1', 5, 'pass', NULL, 'fail', NULL, 'pass', NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "('m-2', 1, '192.0.2.2', 7, 'quarantine', NULL, NULL, 'softfail', "
    "'pass', NULL, NULL, '{x}', '{NULL}', '{x}', '{NULL}', '{HELO}', "
    "'{pass}'), "
    "('m-2', 2, '192.0.2.3', 11, 'reject', NULL, 'fail', NULL, 'fail', "
    "'{other}', NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "('m-3', 1, '192.0.2.4', 13, NULL, 'Deliver', NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL)) "
    "AS v(rid, rec_no, ip, count, disp, disp_raw, dkim, dkim_raw, spf, rt, "
    "rtraw, dd, dr, sd, ss, ssraw, sr) ON v.rid = p.report_id;"
    "SELECT dmarc.report_totals_refresh(NULL);"
    "INSERT INTO dmarc.ingest (source, input, outcome, rep_id) "
    "SELECT 'file', 'a', 'stored', id FROM dmarc.report "
    "WHERE report_id = 'm-1' UNION ALL "
    "SELECT 'file', 'b', 'duplicate', id FROM dmarc.report "
    "WHERE report_id = 'm-1' UNION ALL "
    "SELECT 'file', 'c', 'rejected', NULL;";

/* Every row of rel as text, sorted (a new string). */
static char *
rows_text(const char *rel)
{
	PGconn		*c = connect_to(conninfo);
	PGresult	*r;
	char		 sql[256], *out;

	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(t::text, "
	    "E'\\n' ORDER BY t::text), '') FROM %s t", rel);
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	out = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return out;
}

/* Each of the n relations has the rows before[i] listed; frees them. */
static void
same_rows(const char *const *rels, char **before, size_t n)
{
	char	*after;
	size_t	 i;

	for (i = 0; i < n; i++) {
		after = rows_text(rels[i]);
		ck_assert_msg(strcmp(before[i], after) == 0, "%s:\n%s\nnow\n%s",
		    rels[i], before[i], after);
		free(before[i]);
		free(after);
	}
}

/*
 * Apply the migrations from m on, below version below, as
 * store_migrate() would (to stop a store at an older schema); the next
 * one.
 */
static const struct store_migration *
migrate_below(const struct store_migration *m, int below)
{
	char	sql[256];

	for (; m->name != NULL && m->version < below; m++) {
		exec_on(conninfo, m->sql);
		snprintf(sql, sizeof(sql), "INSERT INTO dmarc.schema_version "
		    "(version, name) VALUES (%d, '%s')", m->version, m->name);
		exec_on(conninfo, sql);
	}
	return m;
}

/*
 * Migrating a store written under 006 to the enum types (007) keeps
 * every value, in the tables and in what the views show (still text),
 * grants the views it makes again to the roles even when the user
 * migrating has no default privileges for them, and leaves a store
 * that takes reports.
 */
START_TEST(test_store_migrate_enums_keeps_values)
{
	static const char *const rels[] = { "dmarc.report", "dmarc.record",
	    "dmarc.ingest", "dmarc.record_dkim", "dmarc.record_spf",
	    "dmarc.record_override", "dmarc.daily_source",
	    "dmarc.daily_domain" };
	static const char *const views[] = { "record_dkim", "record_spf",
	    "record_override", "daily_source" };
	const struct store_migration	*m;
	struct dm_err			 err = { 0 };
	struct store			*st;
	char				*before[nitems(rels)];
	char				 sql[256], ci[2048];
	PGconn				*c;
	PGresult			*r;
	size_t				 i;
	int				 n = -1;

	fresh_db("migrate_enums");
	m = migrate_below(store_migrations, 7);
	ck_assert_int_eq(m->version, 7);
	exec_on(conninfo, store_006);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 5);
	/* as if the user who ran 001 were not the one running 007 */
	exec_on(conninfo, "ALTER DEFAULT PRIVILEGES IN SCHEMA dmarc "
	    "REVOKE ALL ON TABLES FROM dmarc_reader, dmarc_writer");
	for (i = 0; i < nitems(rels); i++)
		before[i] = rows_text(rels[i]);
	ck_assert(strstr(before[1], "policy_test_mode") != NULL);
	ck_assert(strstr(before[3], "permerror") != NULL);

	m = migrate_below(m, 8);
	same_rows(rels, before, nitems(rels));
	/* converted, and no CHECK is left but those on numbers */
	ck_assert_str_eq(qs("SELECT format_type(atttypid, atttypmod) FROM "
	    "pg_attribute WHERE attrelid = 'dmarc.record_y2024m02'::regclass "
	    "AND attname = 'spf_result'"), "dmarc.spf_result[]");
	ck_assert_str_eq(qs("SELECT string_agg(conname, ',' ORDER BY conname) "
	    "FROM pg_constraint WHERE contype = 'c' AND conrelid IN "
	    "('dmarc.record'::regclass, 'dmarc.report'::regclass, "
	    "'dmarc.ingest'::regclass, 'dmarc.record_y2024m01'::regclass)"),
	    "record_count_check,record_count_check,report_pct_check");
	ck_assert_int_eq(q1("SELECT count(*) FROM pg_attribute a JOIN pg_type "
	    "t ON t.oid = a.atttypid WHERE a.attrelid IN (SELECT oid FROM "
	    "pg_class WHERE relnamespace = 'dmarc'::regnamespace AND relkind = "
	    "'v') AND t.typnamespace = 'dmarc'::regnamespace"), 0);

	/* the later migrations, then the views as the reader */
	st = open_store();
	ck_assert_msg(store_migrate(st, &n, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(n, nmigrations() - 7);
	make_login("t_store_reader", "dmarc_reader");
	conninfo_for(ci, sizeof(ci), dbname, "t_store_reader");
	c = connect_to(ci);
	for (i = 0; i < nitems(views); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.%s",
		    views[i]);
		r = PQexec(c, sql);
		ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s",
		    sql, PQerrorMessage(c));
		ck_assert_int_gt(atoi(PQgetvalue(r, 0, 0)), 0);
		PQclear(r);
	}
	PQfinish(c);

	/* a month with its partition, and a new one */
	make_report("after-1", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report("after-2", FEB2024 + 86400 * 31);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m01"), 5);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m03"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim WHERE "
	    "result = 'fail' AND result_raw = 'hardfail'"), 2);
	store_free(st);
}
END_TEST

/*
 * The indexes of dmarc.record and of each of its partitions, one line
 * each, "relation: access method (columns)", sorted (static).
 */
static const char *
record_indexes(void)
{
	return qs("SELECT string_agg(l, E'\\n' ORDER BY l COLLATE \"C\")"
	    " FROM (SELECT format('%s: %s %s', x.indrelid::regclass,"
	    " am.amname, regexp_replace(pg_get_indexdef(x.indexrelid),"
	    " '^.* USING [a-z]+ ', '')) AS l"
	    " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
	    " JOIN pg_am am ON am.oid = i.relam"
	    " WHERE x.indrelid IN (SELECT relid FROM"
	    " pg_partition_tree('dmarc.record'))) t");
}

/*
 * Migrating a store written under 007 to 008 leaves dmarc.record and
 * each partition one index, a btree on rep_id, and every row and view
 * row as it was; a month made afterwards gets the same index.
 */
START_TEST(test_store_migrate_record_index_keeps_rows)
{
	static const char *const rels[] = { "dmarc.report", "dmarc.record",
	    "dmarc.record_dkim", "dmarc.record_spf", "dmarc.record_override",
	    "dmarc.daily_source", "dmarc.daily_domain" };
	const struct store_migration	*m;
	struct dm_err			 err = { 0 };
	struct store			*st;
	char				*before[nitems(rels)];
	size_t				 i;
	int				 n = -1;

	fresh_db("migrate_recidx");
	m = migrate_below(store_migrations, 7);
	exec_on(conninfo, store_006);
	m = migrate_below(m, 8);
	ck_assert_int_eq(m->version, 8);
	ck_assert_str_eq(record_indexes(),
	    "dmarc.record: brin (rep_id)\n"
	    "dmarc.record: btree (domain, begin_time)\n"
	    "dmarc.record_y2024m01: brin (rep_id)\n"
	    "dmarc.record_y2024m01: btree (domain, begin_time)\n"
	    "dmarc.record_y2024m02: brin (rep_id)\n"
	    "dmarc.record_y2024m02: btree (domain, begin_time)");
	for (i = 0; i < nitems(rels); i++)
		before[i] = rows_text(rels[i]);
	ck_assert(strstr(before[5], "192.0.2.1") != NULL);

	m = migrate_below(m, 9);
	same_rows(rels, before, nitems(rels));
	ck_assert_str_eq(qs("SELECT string_agg(indexname, ',') FROM pg_indexes"
	    " WHERE schemaname = 'dmarc' AND tablename = 'record'"),
	    "record_rep_id");
	st = open_store();
	ck_assert_msg(store_migrate(st, &n, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(n, nmigrations() - 8);

	/* a new month: its partition is made with the index */
	make_report("ri-3", FEB2024 + 86400 * 31);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(record_indexes(),
	    "dmarc.record: btree (rep_id)\n"
	    "dmarc.record_y2024m01: btree (rep_id)\n"
	    "dmarc.record_y2024m02: btree (rep_id)\n"
	    "dmarc.record_y2024m03: btree (rep_id)");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.daily_source"), 8);
	store_free(st);
}
END_TEST

/*
 * dmarc.record's DKIM and SPF results as they read, whole (NULL for
 * none), with the columns around them, one line per record, sorted: d,
 * ds, dr, sd, ss, sr are how the query names each kind's domains,
 * selectors, results, SPF domains, scopes, results. A static string.
 */
static const char *
record_results(const char *d, const char *ds, const char *dr,
    const char *sd, const char *ss, const char *sr)
{
	char	sql[2048];

	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(t::text, "
	    "E'\\n' ORDER BY t::text), '') FROM (SELECT r.rep_id, r.rec_no, "
	    "r.begin_time, r.domain, r.source_ip, r.count, r.disposition, "
	    "r.disposition_raw, r.dkim, r.dkim_raw, r.spf, r.spf_raw, "
	    "r.envelope_to, r.envelope_from, r.header_from, r.reason_type, "
	    "r.reason_type_raw, r.reason_comment, %s, %s, %s, "
	    "r.dkim_result_raw, r.dkim_human_result, %s, %s, r.spf_scope_raw, "
	    "%s, r.spf_result_raw, r.spf_human_result FROM dmarc.record r) t",
	    d, ds, dr, sd, ss, sr);
	return qs(sql);
}

/* an array as dmarcd writes it: NULL when all its elements are */
#define WRITTEN(x) "CASE WHEN cardinality(array_remove(" x ", NULL)) > 0 " \
	"THEN " x " END"

/*
 * Migrating a store written under 008 to the slots of 009 keeps every
 * DKIM and SPF result where it was, as the functions named after the
 * old columns read them and as the views show them; a record with more
 * results than slots keeps the rest in the arrays of the rest. A store
 * that then takes reports shows them the same way.
 */
START_TEST(test_store_migrate_auth_slots_keep_results)
{
	static const char *const rels[] = { "dmarc.record_dkim",
	    "dmarc.record_spf", "dmarc.record_override", "dmarc.daily_source",
	    "dmarc.daily_domain", "dmarc.report" };
	const struct store_migration	*m;
	struct dm_err			 err = { 0 };
	struct store			*st;
	char				*before[nitems(rels)], *was;
	size_t				 i;
	int				 n = -1;

	fresh_db("migrate_slots");
	m = migrate_below(store_migrations, 7);
	exec_on(conninfo, store_006);
	m = migrate_below(m, 9);
	ck_assert_int_eq(m->version, 9);
	/* selectors and human results on the record with most results */
	exec_on(conninfo, "UPDATE dmarc.record SET dkim_selector = "
	    "'{s1,NULL,s3,NULL,NULL,NULL,NULL,s8}', dkim_human_result = "
	    "'{NULL,h2,NULL,h4,NULL,NULL,NULL,NULL}', spf_human_result = "
	    "'{NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,h9}' WHERE rec_no = 1 "
	    "AND cardinality(dkim_domain) = 8");
	for (i = 0; i < nitems(rels); i++)
		before[i] = rows_text(rels[i]);
	was = xstrdup(record_results("r.dkim_domain",
	    WRITTEN("r.dkim_selector"), WRITTEN("r.dkim_result"),
	    "r.spf_domain", WRITTEN("r.spf_scope"), WRITTEN("r.spf_result")));
	ck_assert(strstr(was, "{a,b,c,d,e,f,g,h}") != NULL);

	st = open_store();
	ck_assert_msg(store_migrate(st, &n, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(n, nmigrations() - 8);
	ck_assert_str_eq(record_results("dmarc.dkim_domain(r)",
	    "dmarc.dkim_selector(r)", "dmarc.dkim_result(r)",
	    "dmarc.spf_domain(r)", "dmarc.spf_scope(r)",
	    "dmarc.spf_result(r)"), was);
	free(was);
	same_rows(rels, before, nitems(rels));
	/* 8 DKIM and 9 SPF results: two and one in slots, the rest after */
	ck_assert_str_eq(qs("SELECT concat_ws('|', dkim_n, dkim1_domain, "
	    "dkim1_selector, dkim1_result, dkim2_domain, dkim2_selector, "
	    "dkim2_result, dkim_more_domain, dkim_more_selector, "
	    "dkim_more_result, spf_n, spf1_domain, spf1_scope, spf1_result, "
	    "spf_more_domain, spf_more_scope, spf_more_result) FROM "
	    "dmarc.record r JOIN dmarc.report p ON p.id = r.rep_id WHERE "
	    "p.report_id = 'm-1' AND r.rec_no = 1"),
	    "8|a|s1|none|b|pass|{c,d,e,f,g,h}|{s3,NULL,NULL,NULL,NULL,s8}|"
	    "{fail,policy,neutral,temperror,"
	    "permerror,NULL}|9|a|helo|none|{b,c,d,e,f,g,h,i}|{mfrom,NULL,helo,"
	    "mfrom,helo,mfrom,helo,NULL}|{neutral,pass,fail,softfail,"
	    "temperror,permerror,policy,NULL}");
	/* one of each: the slots alone */
	ck_assert_str_eq(qs("SELECT concat_ws('|', dkim_n, dkim1_domain, "
	    "dkim_more_domain IS NULL, spf_n, spf1_domain, spf1_result, "
	    "spf_more_domain IS NULL) FROM dmarc.record r JOIN dmarc.report p "
	    "ON p.id = r.rep_id WHERE p.report_id = 'm-2' AND r.rec_no = 1"),
	    "1|x|t|1|x|pass|t");

	make_report("slots-1", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim d JOIN "
	    "dmarc.report p ON p.id = d.rep_id WHERE p.report_id = 'slots-1'"),
	    q1("SELECT sum(coalesce(dkim_n, 0)) FROM dmarc.record r JOIN "
	    "dmarc.report p ON p.id = r.rep_id WHERE p.report_id = 'slots-1'"));
	store_free(st);
}
END_TEST

START_TEST(test_store_migrate_concurrently)
{
	pid_t	 pid[3];
	int	 i, status, total = 0;

	fresh_db("migrate2");
	for (i = 0; i < 3; i++) {
		if ((pid[i] = fork()) == 0) {
			struct dm_err	 err = { 0 };
			struct store	*st = store_open(conninfo, &err);
			int		 n = -1;

			if (st == NULL || store_migrate(st, &n, &err) == -1) {
				fprintf(stderr, "child: %s\n", err.msg);
				_exit(100);
			}
			store_free(st);
			_exit(n);
		}
		ck_assert_int_ne(pid[i], -1);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_ne(WEXITSTATUS(status), 100);
		total += WEXITSTATUS(status);
	}
	ck_assert_int_eq(total, nmigrations());
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.schema_version"),
	    nmigrations());
}
END_TEST

/* --- storing ---------------------------------------------------------- */

START_TEST(test_store_report_stored_exactly)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("stored");

	make_report("r-1", JAN2024 + 3600);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);

	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 1);
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s',"
	    "domain, records, messages, skipped, begin_time AT TIME ZONE 'UTC', "
	    "aspf, aspf_raw, "
	    "sp, sp_raw, errors, pct) FROM dmarc.report"),
	    "example.com|3|22|1|2024-01-01 01:00:00|s|strict||bogus|"
	    "{\"first \\\"error\\\"\",\"second, {x}\"}|100");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim"), 2);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_spf"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_override"), 2);
	ck_assert_int_eq(q1("SELECT sum(count) FROM dmarc.record"), 22);
	/* Every row belongs to the report, numbered from 1. */
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record r JOIN "
	    "dmarc.report p ON p.id = r.rep_id AND p.begin_time = r.begin_time "
	    "AND p.domain = r.domain"), 3);
	ck_assert_str_eq(qs("SELECT string_agg(rec_no || ':' || host(source_ip) || "
	    "':' || count || ':' || coalesce(dkim::text, '-') || ':' || "
	    "coalesce(dkim_raw, '-'), ',' ORDER BY rec_no) FROM dmarc.record"),
	    "1:192.0.2.1:10:pass:-,2:2001:db8::1:5:fail:-,"
	    "3:198.51.100.7:7:-:softfail");
	/* Text that needs escaping comes back byte for byte. */
	ck_assert_str_eq(qs("SELECT selector || '|' || result || '|' || "
	    "result_raw || '|' || human_result FROM dmarc.record_dkim "
	    "WHERE rec_no = 1 AND idx = 2"), "k\\2|fail|hardfail|bad\tsig\n");
	ck_assert_str_eq(qs("SELECT comment FROM dmarc.record_override WHERE "
	    "rec_no = 2 AND idx = 1"), "via list\\x \xc3\xa9");
	ck_assert_str_eq(qs("SELECT coalesce(type, '-') || type_raw || "
	    "coalesce(comment, '-') FROM dmarc.record_override WHERE "
	    "rec_no = 2 AND idx = 2"), "-bogus-");
	ck_assert_str_eq(qs("SELECT envelope_to || '|' || envelope_from || '|'"
	    " || (header_from IS NULL) FROM dmarc.record WHERE rec_no = 2"),
	    "rcpt\\@example.com||true");
	ck_assert_str_eq(qs("SELECT string_agg(format('%s:%s:%s:%s', idx, "
	    "scope, scope_raw, result_raw), ',' ORDER BY idx) FROM "
	    "dmarc.record_spf WHERE rec_no = 3"), "1:helo:ehlo:,2:::unknown");
	/* The ledger. */
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s|%s|%s|%s', "
	    "outcome, source, input, message_id, org_name, report_id, "
	    "rep_id = (SELECT id FROM dmarc.report), uid IS NULL) "
	    "FROM dmarc.ingest"), "stored|file|/var/spool/reports/a.xml|"
	    "<m1@example>|Example Reporter|r-1|t|t");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest"), 1);
	ck_assert_int_eq(q1("SELECT count(*) FROM pg_tables WHERE schemaname = "
	    "'dmarc' AND tablename = 'record_y2024m01'"), 1);
	store_free(st);
}
END_TEST

static const char report_totals[] =
    "SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s', report_id, records, "
    "messages, dmarc_pass, dkim_aligned, spf_aligned, quarantined, "
    "rejected), ',' ORDER BY report_id) FROM dmarc.report";

START_TEST(test_store_views_sum_right)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("views");

	make_report("r-1", JAN2024 + 3600);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report("r-2", JAN2024 + 7200);
	recs[0].count = 100;
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);

	/* messages 22 + 112; pass: rec 0 (dkim) and rec 2 (spf). */
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s', day, "
	    "domain, reports, messages, dmarc_pass, dmarc_fail, dkim_aligned, "
	    "spf_aligned, quarantined || '|' || rejected) "
	    "FROM dmarc.daily_domain"),
	    "2024-01-01|example.com|2|134|124|10|110|14|10|14");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.daily_source"), 3);
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s|%s|%s', messages, "
	    "dmarc_pass, dmarc_fail, dkim_aligned, spf_aligned, quarantined, "
	    "rejected) FROM dmarc.daily_source WHERE source_ip = "
	    "'192.0.2.1'"), "110|110|0|110|0|0|0");
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s', messages, "
	    "dmarc_fail, quarantined, rejected) FROM dmarc.daily_source "
	    "WHERE source_ip = '2001:db8::1'"), "10|10|10|0");
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s', messages, spf_aligned, "
	    "rejected) FROM dmarc.daily_source WHERE source_ip = "
	    "'198.51.100.7'"), "14|14|14");
	/*
	 * The totals each report row carries (what summary reads), summed
	 * while storing, are what its records give.
	 */
	ck_assert_str_eq(qs(report_totals), "r-1|3|22|17|10|7|5|7,"
	    "r-2|3|112|107|100|7|5|7");
	ck_assert_int_eq(q1("SELECT count(*) FROM (SELECT "
	    "dmarc.report_totals_refresh(NULL)) x"), 1);
	ck_assert_str_eq(qs(report_totals), "r-1|3|22|17|10|7|5|7,"
	    "r-2|3|112|107|100|7|5|7");
	store_free(st);
}
END_TEST

START_TEST(test_store_second_copy_is_duplicate)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("dup");
	struct store_input	 in2 = input;
	long long		 before;

	make_report("r-1", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	before = rows_everywhere();
	in2.input = "INBOX";
	in2.source = "imap:main";
	in2.mailbox = "INBOX";
	in2.uidvalidity = 42;
	in2.uid = 7;
	ck_assert_int_eq(feed(st, &in2, &err), 1);
	ck_assert_int_eq(rows_everywhere(), before + 1);
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s', outcome, source, "
	    "uidvalidity, uid, rep_id = (SELECT id FROM dmarc.report)) FROM "
	    "dmarc.ingest ORDER BY id DESC LIMIT 1"),
	    "duplicate|imap:main|42|7|t");

	/* Without org_name the email tells reporters apart. */
	make_report("r-1", JAN2024);
	rep.org_name = "";
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(feed(st, &input, &err), 1);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 2);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest WHERE outcome "
	    "= 'duplicate'"), 2);
	store_free(st);
}
END_TEST

/*
 * Two importers with their own connections race on one report: the
 * second blocks in begin() until the first commits (-> duplicate) or
 * rolls back (-> it stores).
 */
static void
race(int first_commits)
{
	int	 go[2], status;
	pid_t	 a, b;
	char	 c;

	fresh_db(first_commits ? "race_commit" : "race_abort");
	{
		struct dm_err	 err = { 0 };
		struct store	*st = open_store();

		ck_assert_msg(store_migrate(st, NULL, &err) == 0, "%s",
		    err.msg);
		store_free(st);
	}
	ck_assert_int_eq(pipe(go), 0);
	make_report("race", JAN2024);
	if ((a = fork()) == 0) {
		struct dm_err		 err = { 0 };
		struct store		*st = store_open(conninfo, &err);
		struct report_sink	 sink;
		size_t			 i;

		if (st == NULL)
			_exit(10);
		store_sink(st, &input, &sink);
		if (sink.begin(sink.arg, &rep, &err) != 0)
			_exit(11);
		for (i = 0; i < nitems(recs); i++)
			if (sink.record(sink.arg, &rep, &recs[i], &err) != 0)
				_exit(12);
		if (write(go[1], "g", 1) != 1)
			_exit(13);
		usleep(400000);		/* b is now waiting in begin() */
		if (first_commits) {
			if (sink.end(sink.arg, &rep, &err) != 0)
				_exit(14);
		} else
			sink.abort(sink.arg, &rep);
		store_free(st);
		_exit(0);
	}
	ck_assert_int_ne(a, -1);
	if ((b = fork()) == 0) {
		struct dm_err	 err = { 0 };
		struct store	*st;
		int		 r;

		if (read(go[0], &c, 1) != 1)
			_exit(20);
		if ((st = store_open(conninfo, &err)) == NULL)
			_exit(21);
		r = feed(st, &input, &err);
		if (r == -1)
			fprintf(stderr, "b: %s\n", err.msg);
		store_free(st);
		_exit(r == 1 ? 1 : r == 0 ? 0 : 22);
	}
	ck_assert_int_ne(b, -1);
	ck_assert_int_eq(waitpid(a, &status, 0), a);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "a: %d", status);
	ck_assert_int_eq(waitpid(b, &status, 0), b);
	ck_assert(WIFEXITED(status));
	/* b: 1 = duplicate after a's commit, 0 = stored after a's rollback */
	ck_assert_int_eq(WEXITSTATUS(status), first_commits ? 1 : 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 1);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_spf"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest WHERE outcome "
	    "= 'stored'"), 1);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest WHERE outcome "
	    "= 'duplicate'"), first_commits ? 1 : 0);
	close(go[0]);
	close(go[1]);
}

START_TEST(test_store_race_first_commits)
{
	race(1);
}
END_TEST

START_TEST(test_store_race_first_aborts)
{
	race(0);
}
END_TEST

/*
 * A record whose dkim results hold long human_result texts: a few of
 * them fill the 64 kB COPY chunk many times over.
 */
static char			*long_text;
static struct report_dkim	 big_dk[2];

static void
make_big_record(void)
{
	size_t	n = 100000;

	long_text = xmalloc(n + 1);
	memset(long_text, 'h', n);
	long_text[n] = '\0';
	long_text[10] = '\t';
	long_text[n - 1] = '\\';
	big_dk[0] = dk0[0];
	big_dk[1] = dk0[1];
	big_dk[0].human_result = long_text;
	big_dk[1].human_result = long_text;
}

/* Store (or abort after) n copies of recs[0] with big dkim results. */
static int
feed_big(struct store *st, int n, int commit, struct dm_err *err)
{
	struct report_sink	 sink;
	struct record		 r = recs[0];
	int			 i;

	r.auth_dkim = big_dk;
	r.nauth_dkim = 2;
	store_sink(st, &input, &sink);
	if (sink.begin(sink.arg, &rep, err) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (sink.record(sink.arg, &rep, &r, err) == -1) {
			sink.abort(sink.arg, &rep);
			return -1;
		}
	if (!commit) {
		sink.abort(sink.arg, &rep);
		return 0;
	}
	return sink.end(sink.arg, &rep, err);
}

START_TEST(test_store_abort_leaves_nothing)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("abort");

	make_big_record();
	make_report("big", JAN2024);
	/* 30 records x 2 x 100 kB: sent to the server before the abort. */
	ck_assert_msg(feed_big(st, 30, 0, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(rows_everywhere(), 0);

	/* The same store goes on: stored whole. */
	ck_assert_msg(feed_big(st, 30, 1, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 30);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim"), 60);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_spf"), 30);
	ck_assert_int_eq(q1("SELECT count(DISTINCT human_result) FROM "
	    "dmarc.record_dkim"), 1);
	ck_assert_int_eq(q1("SELECT length(human_result) FROM "
	    "dmarc.record_dkim LIMIT 1"), 100000);
	ck_assert_int_eq(q1("SELECT max(rec_no) FROM dmarc.record_dkim"), 30);
	free(long_text);
	store_free(st);
}
END_TEST

START_TEST(test_store_invalid_utf8_is_emsg)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("utf8");

	make_report("bad", JAN2024);
	recs[2].header_from = "ex\xc3(ample.com";
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_msg(strstr(err.msg, "UTF-8") != NULL, "%s", err.msg);
	ck_assert_int_eq(rows_everywhere(), 0);

	make_report("bad", JAN2024);
	rep.org_name = "Org\xff";
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_int_eq(rows_everywhere(), 0);

	/*
	 * So is an address of no family's length (inet is sent in
	 * binary), or none at all: parse never hands either over.
	 */
	make_report("bad", JAN2024);
	recs[1].ip_len = 5;
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg,
	    "record 2: source address is not an IP address");
	ck_assert_int_eq(rows_everywhere(), 0);

	make_report("bad", JAN2024);
	recs[1].ip_len = 0;
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "record: no source address");
	ck_assert_int_eq(rows_everywhere(), 0);

	/* And the store is still usable. */
	make_report("good", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 1);
	store_free(st);
}
END_TEST

START_TEST(test_store_months_get_partitions)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("months");

	make_report("jan", JAN2024 + 86400 * 30);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report("feb", FEB2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs("SELECT string_agg(c.relname, ',' ORDER BY "
	    "c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = "
	    "i.inhrelid WHERE i.inhparent = 'dmarc.record'::regclass"),
	    "record_y2024m01,record_y2024m02");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m02"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m01"), 3);
	/* Deleting a report takes its rows along. */
	exec_on(conninfo, "DELETE FROM dmarc.report WHERE report_id = 'feb'");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_spf"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim"), 2);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest WHERE rep_id "
	    "IS NULL"), 1);
	store_free(st);
}
END_TEST

/*
 * A report's month, once its partition is made, is not asked for again
 * on that connection; a partition dropped by hand meanwhile costs the
 * next report of that month one failed try (DM_ESTORE: left for the
 * next run), after which it is made again.
 */
START_TEST(test_store_partition_dropped_is_made_again)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("partdrop");

	make_report("a", JAN2024 + 86400);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report("b", JAN2024 + 2 * 86400);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	exec_on(conninfo, "DELETE FROM dmarc.report");
	exec_on(conninfo, "DROP TABLE dmarc.record_y2024m01");

	make_report("c", JAN2024 + 3 * 86400);
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest WHERE "
	    "report_id = 'c'"), 0);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m01"), 3);
	ck_assert_int_eq(q1("SELECT records FROM dmarc.report WHERE "
	    "report_id = 'c'"), 3);
	store_free(st);
}
END_TEST

/*
 * The records go straight into their month's partition, not through
 * dmarc.record (whose routing cost the server per row and per COPY):
 * a statement trigger on dmarc.record would refuse them. A month whose
 * partition is made for the report, and one already made, both.
 */
START_TEST(test_store_copies_into_partition)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("intopart");
	PGconn		*c;
	PGresult	*r;

	exec_on(conninfo, "CREATE FUNCTION public.no_routing() RETURNS "
	    "trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'routed "
	    "through dmarc.record'; END $$");
	exec_on(conninfo, "CREATE TRIGGER no_routing BEFORE INSERT ON "
	    "dmarc.record FOR EACH STATEMENT EXECUTE FUNCTION "
	    "public.no_routing()");
	make_report("p-1", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report("p-2", JAN2024 + 86400);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report("p-3", FEB2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m01"), 6);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m02"), 3);
	/* what the trigger does to a row through the parent */
	c = connect_to(conninfo);
	r = PQexec(c, "INSERT INTO dmarc.record (rep_id, rec_no, begin_time, "
	    "domain, source_ip, count) VALUES (1, 9, '2024-01-01 00:00:00+00', "
	    "'example.com', '192.0.2.1', 1)");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_msg(strstr(PQerrorMessage(c), "routed through") != NULL,
	    "%s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	store_free(st);
}
END_TEST

/*
 * The statements before and after the records go out together: a
 * failure in any of them leaves nothing of the report, and the
 * connection goes on with the next one.
 */
static const struct {
	const char	*trigger;	/* what fails, and when */
	const char	*report_id;
} fail_cases[] = {
	{ "BEFORE INSERT ON dmarc.report", "boom" },
	{ "BEFORE UPDATE ON dmarc.report", "boom" },
	{ "BEFORE INSERT ON dmarc.ingest", "boom" },
};

START_TEST(test_store_failed_statement_leaves_nothing)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("stmtfail");
	char		 sql[512];

	exec_on(conninfo, "CREATE FUNCTION public.boom() RETURNS trigger "
	    "LANGUAGE plpgsql AS $$ BEGIN IF NEW.report_id = 'boom' THEN "
	    "RAISE EXCEPTION 'boom goes the statement'; END IF; "
	    "RETURN NEW; END $$");
	snprintf(sql, sizeof(sql), "CREATE TRIGGER boom %s FOR EACH ROW "
	    "EXECUTE FUNCTION public.boom()", fail_cases[_i].trigger);
	exec_on(conninfo, sql);

	make_report("before", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_report(fail_cases[_i].report_id, JAN2024 + 86400);
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_msg(strstr(err.msg, "boom goes the statement") != NULL,
	    "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report WHERE "
	    "report_id = 'boom'"), 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest"), 1);
	/* the same connection stores the next report */
	make_report("after", JAN2024 + 2 * 86400);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), 6);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest"), 2);
	ck_assert_str_eq(qs("SELECT string_agg(report_id || ':' || records, "
	    "',' ORDER BY id) FROM dmarc.report"), "before:3,after:3");
	store_free(st);
}
END_TEST

START_TEST(test_store_killed_connection_is_estore)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("killed");
	struct report_sink	 sink;
	char			 sql[256];
	int			 i, rc = 0;

	make_big_record();
	make_report("killed", JAN2024);
	store_sink(st, &input, &sink);
	ck_assert_int_eq(sink.begin(sink.arg, &rep, &err), 0);
	ck_assert_int_eq(sink.record(sink.arg, &rep, &recs[0], &err), 0);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid) FROM "
	    "pg_stat_activity WHERE application_name = 'dmarcd' AND datname "
	    "= '%s'", dbname);
	exec_on(conninfo, sql);
	/* Enough data to notice, then the end. */
	recs[1].auth_dkim = big_dk;
	recs[1].nauth_dkim = 2;
	for (i = 0; i < 20 && rc == 0; i++)
		rc = sink.record(sink.arg, &rep, &recs[1], &err);
	if (rc == 0)
		rc = sink.end(sink.arg, &rep, &err);
	else
		sink.abort(sink.arg, &rep);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_msg(strncmp(err.msg, "database: connection lost", 25) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(rows_everywhere(), 0);

	/* The next report reconnects. */
	make_report("after", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 1);
	free(long_text);
	store_free(st);
}
END_TEST

START_TEST(test_store_rejected_in_ledger)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("rejected");
	struct store_input	 in = input;

	ck_assert_msg(store_rejected(st, &input, NULL, NULL,
	    "xml: line 3: not a DMARC report", &err) == 0, "%s", err.msg);
	in.input = "/spool/caf\xe9.xml";	/* Latin-1 file name */
	ck_assert_msg(store_rejected(st, &in, "Org", "id-1", "gzip: corrupt",
	    &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs("SELECT string_agg(format('%s|%s|%s|%s|%s', "
	    "outcome, input, reason, org_name, report_id), ',' ORDER BY id) "
	    "FROM dmarc.ingest"), "rejected|/var/spool/reports/a.xml|xml: "
	    "line 3: not a DMARC report||,rejected|/spool/caf\\xe9.xml|gzip: "
	    "corrupt|Org|id-1");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 0);
	store_free(st);
}
END_TEST

/* --- failure reports ------------------------------------------------- */

static const char ruf_fb[] =
    "Feedback-Type: auth-failure\n"
    "User-Agent: T/1\n"
    "Version: 1\n"
    "Original-Mail-From: <jo.doe@example.org>\n"
    "Original-Rcpt-To: a@example.com\n"
    "Original-Rcpt-To: \"b,{c}\"@example.com\n"
    "Arrival-Date: Tue, 30 Apr 2019 02:09:00 +0000\n"
    "Source-IP: 192.0.2.7 (h.example)\n"
    "Incidents: 2\n"
    "Authentication-Results: mx; dmarc=fail header.from=example.org\n"
    "Auth-Failure: dmarc\n"
    "Delivery-Result: smg-policy-action\n"
    "Reported-Domain: example.org\n";
static const char ruf_orig[] =
    "From: Jo Doe <jo.doe@example.org>\n"
    "To: a@example.com\n"
    "Subject: hello\n"
    "Message-ID: <m1@example.org>\n"
    "\n"
    "secret body\n";

static void
make_ruf(struct ruf_report *r, int flags)
{
	struct dm_err	 err = { 0 };

	ruf_report_init(r);
	ck_assert_int_eq(ruf_parse_feedback((const unsigned char *)ruf_fb,
	    strlen(ruf_fb), r, &err), 0);
	ck_assert_int_eq(ruf_parse_original((const unsigned char *)ruf_orig,
	    strlen(ruf_orig), flags, r, &err), 0);
	r->reporter = xstrdup("dmarc@reporter.example");
}

START_TEST(test_store_failure_stored_once)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("failure");
	struct ruf_report	 r;

	make_ruf(&r, 0);
	ck_assert_msg(store_failure(st, &input, &r, &err) == 0, "%s",
	    err.msg);
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|"
	    "%s|%s|%s|%s', reporter, feedback_type, original_mail_from, "
	    "original_rcpt_to, arrival_date, source_ip, source_ip_raw, "
	    "incidents, authentication_results, delivery_result, "
	    "reported_domain, orig_subject, orig_message_id, orig_body) "
	    "FROM dmarc.failure_report"), "dmarc@reporter.example|"
	    "auth-failure|jo.doe@example.org|{a@example.com,"
	    "\"\\\"b,{c}\\\"@example.com\"}|2019-04-30 02:09:00+00|"
	    "192.0.2.7|192.0.2.7 (h.example)|2|{\"mx; dmarc=fail "
	    "header.from=example.org\"}|other|{example.org}|hello|"
	    "m1@example.org|");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.failure_report "
	    "WHERE orig_body IS NULL AND orig_headers LIKE "
	    "'%Subject: hello\n%' AND orig_headers NOT LIKE '%secret%'"), 1);
	/* the same report again: a duplicate, nothing stored twice */
	ck_assert_msg(store_failure(st, &input, &r, &err) == 1, "%s",
	    err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.failure_report"), 1);
	ck_assert_str_eq(qs("SELECT string_agg(outcome || '|' || org_name, "
	    "',' ORDER BY id) FROM dmarc.ingest"), "stored|dmarc@reporter."
	    "example,duplicate|dmarc@reporter.example");
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s', day, "
	    "reported_domain, source_ip, reports) FROM dmarc.daily_failure"),
	    "2019-04-30|example.org|192.0.2.7|1");
	ruf_report_clear(&r);

	/* another message from the same IP at the same time is not one */
	make_ruf(&r, RUF_KEEP_BODY);
	free(r.orig_message_id);
	r.orig_message_id = xstrdup("m2@example.org");
	ck_assert_msg(store_failure(st, &input, &r, &err) == 0, "%s",
	    err.msg);
	ck_assert_str_eq(qs("SELECT encode(orig_body, 'escape') FROM "
	    "dmarc.failure_report WHERE orig_message_id = 'm2@example.org'"),
	    "secret body\n");
	ck_assert_int_eq(q1("SELECT reports FROM dmarc.daily_failure"), 2);
	ruf_report_clear(&r);
	store_free(st);
}
END_TEST

/* No Message-ID, no Arrival-Date: the mail's SHA-256 tells them apart. */
START_TEST(test_store_failure_without_keys)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("failure_nokeys");
	struct store_input	 in = input;
	struct ruf_report	 r;

	ruf_report_init(&r);
	r.feedback_type = xstrdup("auth-failure");
	in.sha256 = "aa";
	ck_assert_int_eq(store_failure(st, &in, &r, &err), 0);
	ck_assert_int_eq(store_failure(st, &in, &r, &err), 1);
	in.sha256 = "bb";
	ck_assert_int_eq(store_failure(st, &in, &r, &err), 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.failure_report"), 2);
	ruf_report_clear(&r);
	store_free(st);
}
END_TEST

START_TEST(test_store_failure_hashed_local_parts)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("failure_hash");
	struct ruf_report	 r;
	char			 want[512], h[65];

	make_ruf(&r, 0);
	ruf_hash_local_parts(&r);
	ck_assert_msg(store_failure(st, &input, &r, &err) == 0, "%s",
	    err.msg);
	dm_sha256_hex("jo.doe", 6, h);
	snprintf(want, sizeof(want), "sha256:%s@example.org|sha256:%s@"
	    "example.org|(null)", h, h);
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s', original_mail_from, "
	    "orig_from, coalesce(orig_headers, '(null)')) FROM "
	    "dmarc.failure_report"), want);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.failure_report WHERE "
	    "original_rcpt_to::text LIKE '%a@%' OR orig_to LIKE 'a@%' OR "
	    "original_mail_from LIKE '%jo%'"), 0);
	ruf_report_clear(&r);
	store_free(st);
}
END_TEST

START_TEST(test_store_failure_expire_by_age)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("failure_expire");
	long long	 n = -1;

	exec_on(conninfo, "INSERT INTO dmarc.failure_report (reporter, "
	    "arrival_date, ingested_at, orig_message_id, dedup_id) VALUES "
	    "('a', now() - interval '11 days', now(), 'old', '1'), "
	    "('a', now() - interval '9 days', now(), 'young', '2'), "
	    "('a', NULL, now() - interval '12 days', 'old, no arrival', '3'), "
	    "('a', NULL, now(), 'young, no arrival', '4')");
	ck_assert_int_eq(store_failure_expire(st, 0, &n, &err), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.failure_report"), 4);
	ck_assert_msg(store_failure_expire(st, 10, &n, &err) == 0, "%s",
	    err.msg);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(qs("SELECT string_agg(orig_message_id, '|' ORDER BY "
	    "orig_message_id) FROM dmarc.failure_report"),
	    "young|young, no arrival");
	store_free(st);
}
END_TEST

/* --- auth results and reasons in arrays -------------------------------- */

/*
 * Text that means something to COPY, to the array parser or to SQL,
 * and the difference between "" and NULL: each must come back through
 * the views byte for byte.
 */
static const char *const hostile[] = {
	"", "NULL", "null", "\"", "\\", "\\\"", "\"\\", "{a,b}", "a,b", "}{",
	"{", "}", " spaced ", "\t", "tab\there", "nl\nx", "cr\rx\r\n",
	"\\N", "\\.", "'q'", "{\"x\",NULL}",
	"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	"a\\\\b\\\"c\"\"d", "\\t\\n", ",", NULL,
};
#define NHOSTILE	nitems(hostile)

static struct report_dkim	 h_dk[NHOSTILE];
static struct report_spf	 h_sp[NHOSTILE];
static struct report_reason	 h_rs[NHOSTILE];

static const char *
hos(size_t i)
{
	return hostile[i % NHOSTILE];
}

/* One record with an entry of each kind per hostile string. */
static void
make_hostile(void)
{
	size_t	i;

	make_report("hostile", JAN2024);
	for (i = 0; i < NHOSTILE; i++) {
		h_dk[i].domain = hos(i);
		h_dk[i].selector = hos(i + 1);
		h_dk[i].result.val = i % 2 ? "pass" : NULL;
		h_dk[i].result.raw = hos(i + 2);
		h_dk[i].human_result = hos(i + 3);
		h_sp[i].domain = hos(i + 4);
		h_sp[i].scope.val = i % 3 ? "mfrom" : NULL;
		h_sp[i].scope.raw = hos(i + 5);
		h_sp[i].result.val = i % 2 ? NULL : "softfail";
		h_sp[i].result.raw = hos(i + 6);
		h_sp[i].human_result = hos(i + 7);
		h_rs[i].type.val = i % 2 ? "other" : NULL;
		h_rs[i].type.raw = hos(i + 8);
		h_rs[i].comment = hos(i + 9);
	}
	recs[0].auth_dkim = h_dk;
	recs[0].nauth_dkim = NHOSTILE;
	recs[0].auth_spf = h_sp;
	recs[0].nauth_spf = NHOSTILE;
	recs[0].reasons = h_rs;
	recs[0].nreasons = NHOSTILE;
	recs[0].envelope_to = hos(10);
	recs[0].envelope_from = hos(11);
	recs[0].header_from = hos(12);
}

/* Row i, column c of r is exactly want (NULL: SQL NULL). */
static void
assert_value(const PGresult *r, int i, int c, const char *want)
{
	const char	*got = PQgetvalue(r, i, c);

	if (want == NULL) {
		ck_assert_msg(PQgetisnull(r, i, c), "row %d col %s: want NULL, "
		    "got \"%s\"", i, PQfname(r, c), got);
		return;
	}
	ck_assert_msg(!PQgetisnull(r, i, c), "row %d col %s: want \"%s\", "
	    "got NULL", i, PQfname(r, c), want);
	ck_assert_msg((size_t)PQgetlength(r, i, c) == strlen(want) &&
	    memcmp(got, want, strlen(want)) == 0, "row %d col %s: want "
	    "\"%s\", got \"%s\"", i, PQfname(r, c), want, got);
}

/* The rows of sql (ordered by idx): idx 1..n, then cols per entry. */
static PGresult *
rows_of(PGconn *c, const char *sql, int n)
{
	PGresult	*r = PQexec(c, sql);
	int		 i;

	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	ck_assert_int_eq(PQntuples(r), n);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(atoi(PQgetvalue(r, i, 0)), i + 1);
	return r;
}

START_TEST(test_store_hostile_text_round_trips_through_views)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("hostile");
	PGconn		*c;
	PGresult	*r;
	size_t		 i;

	make_hostile();
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	c = connect_to(conninfo);

	r = rows_of(c, "SELECT idx, domain, selector, result, result_raw, "
	    "human_result FROM dmarc.record_dkim WHERE rec_no = 1 ORDER BY "
	    "idx", NHOSTILE);
	for (i = 0; i < NHOSTILE; i++) {
		assert_value(r, i, 1, h_dk[i].domain);
		assert_value(r, i, 2, h_dk[i].selector);
		assert_value(r, i, 3, h_dk[i].result.val);
		assert_value(r, i, 4, h_dk[i].result.raw);
		assert_value(r, i, 5, h_dk[i].human_result);
	}
	PQclear(r);

	r = rows_of(c, "SELECT idx, domain, scope, scope_raw, result, "
	    "result_raw, human_result FROM dmarc.record_spf WHERE rec_no = 1 "
	    "ORDER BY idx", NHOSTILE);
	for (i = 0; i < NHOSTILE; i++) {
		assert_value(r, i, 1, h_sp[i].domain);
		assert_value(r, i, 2, h_sp[i].scope.val);
		assert_value(r, i, 3, h_sp[i].scope.raw);
		assert_value(r, i, 4, h_sp[i].result.val);
		assert_value(r, i, 5, h_sp[i].result.raw);
		assert_value(r, i, 6, h_sp[i].human_result);
	}
	PQclear(r);

	r = rows_of(c, "SELECT idx, type, type_raw, comment FROM "
	    "dmarc.record_override WHERE rec_no = 1 ORDER BY idx", NHOSTILE);
	for (i = 0; i < NHOSTILE; i++) {
		assert_value(r, i, 1, h_rs[i].type.val);
		assert_value(r, i, 2, h_rs[i].type.raw);
		assert_value(r, i, 3, h_rs[i].comment);
	}
	PQclear(r);

	r = PQexec(c, "SELECT envelope_to, envelope_from, header_from FROM "
	    "dmarc.record WHERE rec_no = 1");
	ck_assert_int_eq(PQntuples(r), 1);
	assert_value(r, 0, 0, recs[0].envelope_to);
	assert_value(r, 0, 1, recs[0].envelope_from);
	assert_value(r, 0, 2, recs[0].header_from);
	PQclear(r);
	PQfinish(c);

	/* The other records are as before. */
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_spf WHERE "
	    "rec_no = 3"), 2);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_override WHERE "
	    "rec_no = 2"), 2);
	store_free(st);
}
END_TEST

/*
 * Entries with nothing in them still count, and are numbered in place;
 * a column that would hold only NULLs is stored as NULL.
 */
START_TEST(test_store_empty_entries_keep_their_place)
{
	static struct report_dkim	 dk[3];
	static struct report_reason	 rs[2];
	struct dm_err			 err = { 0 };
	struct store			*st = migrated_store("empty");

	make_report("empty", JAN2024);
	memset(dk, 0, sizeof(dk));
	memset(rs, 0, sizeof(rs));
	dk[2].selector = "";
	recs[0].auth_dkim = dk;
	recs[0].nauth_dkim = 3;
	recs[2].reasons = rs;
	recs[2].nreasons = 2;
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs("SELECT string_agg(format('%s:%s:%s', idx, "
	    "domain IS NULL, coalesce(selector, '-')), ',' ORDER BY idx) "
	    "FROM dmarc.record_dkim WHERE rec_no = 1"),
	    "1:t:-,2:t:-,3:t:");
	ck_assert_str_eq(qs("SELECT string_agg(format('%s:%s:%s', idx, "
	    "type IS NULL, comment IS NULL), ',' ORDER BY idx) FROM "
	    "dmarc.record_override WHERE rec_no = 3"), "1:t:t,2:t:t");
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s', "
	    "dmarc.dkim_domain(r), dmarc.dkim_selector(r), "
	    "dmarc.dkim_result(r) IS NULL, reason_type) FROM "
	    "dmarc.record r WHERE rec_no = 1"), "{NULL,NULL,NULL}|"
	    "{NULL,NULL,\"\"}|t|");
	/* as stored: the count, two empty slots, the third's selector */
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s', dkim_n, "
	    "num_nulls(dkim1_domain, dkim1_selector, dkim1_result, "
	    "dkim2_domain, dkim2_selector, dkim2_result), dkim_more_domain "
	    "IS NULL, dkim_more_selector, dkim_more_result IS NULL) FROM "
	    "dmarc.record WHERE rec_no = 1"), "3|6|t|{\"\"}|t");
	/* No entries: no rows, NULL arrays. */
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim WHERE "
	    "rec_no = 2"), 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record r WHERE "
	    "rec_no = 2 AND dkim_n IS NULL AND spf_n IS NULL AND "
	    "dmarc.dkim_domain(r) IS NULL AND dmarc.spf_domain(r) IS NULL"),
	    1);
	store_free(st);
}
END_TEST

/*
 * Records that fill only the common columns go in a lean COPY; the first
 * record that needs more ends it and the rest of the report goes in a
 * full one, in the same transaction: every value lands either way, and a
 * failure after the switch leaves nothing of the report.
 */
START_TEST(test_store_lean_copy_then_full)
{
	static struct report_dkim	 dk[] = {
		{ "example.com", "s1", { "pass", NULL }, NULL },
		{ "esp.example.net", "k1", { "fail", NULL }, NULL },
	};
	static struct report_spf	 sp[] = {
		{ "bounce.example.com", { "mfrom", NULL }, { "softfail", NULL },
		    NULL },
	};
	static const char want[] =
	    "1|none|pass|fail|t|{example.com,esp.example.net}|{s1,k1}|"
	    "{pass,fail}|{mfrom}|{softfail}|t|t|t\n"
	    "2|quarantine|fail|fail|f|<NULL>|<NULL>|<NULL>|<NULL>|<NULL>|f|f|t\n"
	    "3|reject|<NULL>|pass|t|{example.com,esp.example.net}|{s1,k1}|"
	    "{pass,fail}|{mfrom}|{softfail}|t|t|f";
	static const char rows[] =
	    "SELECT string_agg(concat_ws('|', rec_no, disposition, "
	    "coalesce(dkim::text, '<NULL>'), spf, envelope_to IS NULL, "
	    "coalesce(dmarc.dkim_domain(r)::text, '<NULL>'), "
	    "coalesce(dmarc.dkim_selector(r)::text, '<NULL>'), "
	    "coalesce(dmarc.dkim_result(r)::text, '<NULL>'), "
	    "coalesce(dmarc.spf_scope(r)::text, '<NULL>'), "
	    "coalesce(dmarc.spf_result(r)::text, '<NULL>'), "
	    "reason_type IS NULL, spf_raw IS NULL, dkim_raw IS NULL), "
	    "E'\\n' ORDER BY rec_no) FROM dmarc.record r";
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("lean");
	size_t		 i;

	/* 1 and 3 fit the lean COPY, 2 (reasons, a raw SPF verdict) not */
	make_report("lean-1", JAN2024);
	for (i = 0; i < 3; i += 2) {
		recs[i].dkim.raw = NULL;
		recs[i].auth_dkim = dk;
		recs[i].nauth_dkim = nitems(dk);
		recs[i].auth_spf = sp;
		recs[i].nauth_spf = nitems(sp);
	}
	recs[2].dkim.raw = "softfail";	/* 3 after the switch: in full */
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs(rows), want);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_override"), 2);
	ck_assert_str_eq(qs("SELECT dkim_raw FROM dmarc.record WHERE "
	    "rec_no = 3"), "softfail");

	/* a lean report throughout */
	exec_on(conninfo, "DELETE FROM dmarc.report");
	make_report("lean-2", JAN2024);
	for (i = 0; i < 3; i++) {
		recs[i].dkim.raw = recs[i].spf.raw = NULL;
		recs[i].nreasons = 0;
		recs[i].auth_dkim = dk;
		recs[i].nauth_dkim = nitems(dk);
		recs[i].auth_spf = sp;
		recs[i].nauth_spf = nitems(sp);
	}
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim"), 6);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record WHERE "
	    "spf1_scope = 'mfrom' AND dkim2_selector = 'k1' AND "
	    "spf_more_domain IS NULL"), 3);
	ck_assert_str_eq(qs("SELECT envelope_to || '|' || envelope_from || '|' "
	    "FROM dmarc.record WHERE rec_no = 2"), "rcpt\\@example.com||");

	/* a bad value after the switch: nothing of the report is left */
	exec_on(conninfo, "DELETE FROM dmarc.report");
	exec_on(conninfo, "DELETE FROM dmarc.ingest");
	make_report("lean-3", JAN2024);
	recs[0].dkim.raw = NULL;
	recs[0].auth_dkim = dk;
	recs[0].nauth_dkim = nitems(dk);
	recs[2].dkim.val = "bogus";
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_int_eq(rows_everywhere(), 0);
	store_free(st);
}
END_TEST

/*
 * A value outside its enumeration is refused by the column's type
 * (sql/007_enums.sql) wherever the report carries it: in the report's
 * INSERT, in the record COPY as a field or inside an array. The
 * report's fault (DM_EMSG), and nothing of it is left.
 */
static struct report_dkim	 bad_dk[2];
static struct report_spf	 bad_sp[1];
static struct report_reason	 bad_rs[1];
static const struct {
	const char	**field;	/* set to bad after make_report() */
	const char	*bad;
	const char	*type;		/* the type that refuses it */
} enum_bad[] = {
	{ &rep.discovery_method.val, "dns", "dmarc.discovery_method" },
	{ &rep.adkim.val, "strict", "dmarc.alignment" },
	{ &rep.aspf.val, "R", "dmarc.alignment" },
	{ &rep.p.val, "pass", "dmarc.policy" },
	{ &rep.sp.val, "", "dmarc.policy" },
	{ &rep.np.val, "bogus", "dmarc.policy" },
	{ &rep.testing.val, "yes", "dmarc.testing" },
	/* in the last record, after good rows of the same COPY */
	{ &recs[2].disposition.val, "deliver", "dmarc.disposition" },
	{ &recs[2].dkim.val, "softfail", "dmarc.dmarc_result" },
	{ &recs[2].spf.val, "none", "dmarc.dmarc_result" },
	{ &bad_rs[0].type.val, "spam", "dmarc.reason_type" },
	{ &bad_dk[1].result.val, "hardfail", "dmarc.dkim_result" },
	{ &bad_sp[0].scope.val, "MFROM", "dmarc.spf_scope" },
	{ &bad_sp[0].result.val, "hardfail", "dmarc.spf_result" },
};

START_TEST(test_store_enums_checked)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("enumcheck");
	char		 want[128];
	size_t		 k;

	for (k = 0; k < nitems(enum_bad); k++) {
		make_report("enum", JAN2024);
		bad_dk[0] = dk0[0];
		bad_dk[1] = dk0[1];
		bad_sp[0] = sp0[0];
		bad_rs[0] = rs1[0];
		recs[0].auth_dkim = bad_dk;
		recs[0].auth_spf = bad_sp;
		recs[1].reasons = bad_rs;
		recs[1].nreasons = 1;
		*enum_bad[k].field = enum_bad[k].bad;
		ck_assert_int_eq(feed(st, &input, &err), -1);
		ck_assert_int_eq(err.scope, DM_EMSG);
		snprintf(want, sizeof(want), "invalid input value for enum %s: "
		    "\"%s\"", enum_bad[k].type, enum_bad[k].bad);
		ck_assert_msg(strstr(err.msg, want) != NULL, "%zu: %s", k,
		    err.msg);
		ck_assert_int_eq(rows_everywhere(), 0);
	}
	/* Every canonical value goes in, on the same connection. */
	make_report("enum", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs("SELECT string_agg(concat_ws('/', disposition, "
	    "dkim, spf, reason_type, dmarc.dkim_result(r), dmarc.spf_scope(r), "
	    "dmarc.spf_result(r)), ' ' ORDER BY rec_no) FROM dmarc.record r"),
	    "none/pass/fail/"
	    "{pass,fail}/{mfrom}/{softfail} quarantine/fail/fail/"
	    "{forwarded,NULL} reject/pass/{helo,NULL}/{pass,temperror}");
	store_free(st);
}
END_TEST

/*
 * The enumeration columns of every table refuse other values whoever
 * writes them: here dmarc_writer, by hand, in an INSERT and an UPDATE
 * (SQLSTATE 22P02, invalid_text_representation). The same statements
 * with a value of the enumeration pass.
 */
static const struct {
	const char	*table;
	const char	*column;
	const char	*good;		/* SQL literals */
	const char	*bad;
} enum_cols[] = {
	{ "record", "disposition", "'quarantine'", "'deliver'" },
	{ "record", "dkim", "'pass'", "'softfail'" },
	{ "record", "spf", "'fail'", "'none'" },
	{ "record", "reason_type", "'{forwarded,NULL}'", "'{forwarded,spam}'" },
	{ "record", "dkim1_result", "'pass'", "'hardfail'" },
	{ "record", "dkim2_result", "'permerror'", "'PASS'" },
	{ "record", "dkim_more_result", "'{pass,permerror}'",
	    "'{pass,hardfail}'" },
	{ "record", "spf1_scope", "'helo'", "'MFROM'" },
	{ "record", "spf_more_scope", "'{helo,mfrom}'", "'{MFROM}'" },
	{ "record", "spf1_result", "'softfail'", "'hardfail'" },
	{ "record", "spf_more_result", "'{softfail}'", "'{NULL,hardfail}'" },
	{ "report", "discovery_method", "'psl'", "'dns'" },
	{ "report", "adkim", "'s'", "'strict'" },
	{ "report", "aspf", "'r'", "'R'" },
	{ "report", "p", "'reject'", "'pass'" },
	{ "report", "sp", "'none'", "''" },
	{ "report", "np", "'quarantine'", "'bogus'" },
	{ "report", "testing", "'y'", "'yes'" },
	{ "ingest", "outcome", "'duplicate'", "'lost'" },
};

/* Run sql on c; its SQLSTATE into out ("" when it succeeded). */
static const char *
sqlstate(PGconn *c, const char *sql, char out[6])
{
	PGresult	*r = PQexec(c, sql);
	const char	*s;

	out[0] = '\0';
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(out, 6, "%s", s != NULL ? s : "?????");
	}
	PQclear(r);
	return out;
}

START_TEST(test_store_enums_refused_as_writer)
{
	/* a table's row but for the column tried: columns, values */
	static const char *const row[][2] = {
	    { "record (rep_id, rec_no, begin_time, domain, source_ip, count",
	      "1, 1, '2024-01-01 00:00:00+00', 'example.com', '192.0.2.1', 1" },
	    { "report (report_id, begin_time, end_time, domain",
	      "'e', '2024-01-01 00:00:00+00', '2024-01-02 00:00:00+00', "
	      "'example.com'" },
	    { "ingest (source, input", "'file', 'x'" } };
	struct store	*st = migrated_store("enumwriter");
	char		 ci[2048], sql[512], state[6];
	const char *const *ins;
	PGconn		*c;
	size_t		 k;

	store_free(st);
	make_login("t_store_writer", "dmarc_writer");
	conninfo_for(ci, sizeof(ci), dbname, "t_store_writer");
	c = connect_to(ci);
	ck_assert_str_eq(sqlstate(c, "SELECT dmarc.ensure_record_partition("
	    "'2024-01-01 00:00:00+00')", state), "");
	for (k = 0; k < nitems(enum_cols); k++) {
		ins = row[strcmp(enum_cols[k].table, "record") == 0 ? 0 :
		    strcmp(enum_cols[k].table, "report") == 0 ? 1 : 2];
		ck_assert_str_eq(sqlstate(c, "BEGIN", state), "");
		snprintf(sql, sizeof(sql), "INSERT INTO dmarc.%s, %s) VALUES "
		    "(%s, %s)", ins[0], enum_cols[k].column, ins[1],
		    enum_cols[k].good);
		ck_assert_msg(strcmp(sqlstate(c, sql, state), "") == 0,
		    "%s: %s", sql, state);
		snprintf(sql, sizeof(sql), "UPDATE dmarc.%s SET %s = %s",
		    enum_cols[k].table, enum_cols[k].column, enum_cols[k].bad);
		ck_assert_msg(strcmp(sqlstate(c, sql, state), "22P02") == 0,
		    "%s: %s", sql, state);
		ck_assert_str_eq(sqlstate(c, "ROLLBACK", state), "");
		snprintf(sql, sizeof(sql), "INSERT INTO dmarc.%s, %s) VALUES "
		    "(%s, %s)", ins[0], enum_cols[k].column, ins[1],
		    enum_cols[k].bad);
		ck_assert_msg(strcmp(sqlstate(c, sql, state), "22P02") == 0,
		    "%s: %s", sql, state);
	}
	PQfinish(c);
	ck_assert_int_eq(rows_everywhere(), 0);
}
END_TEST

/* A record line past its bound is the report's fault, and costs nothing. */
START_TEST(test_store_record_too_long_is_emsg)
{
	struct dm_err			 err = { 0 };
	struct store			*st = migrated_store("toolong");
	static struct report_dkim	 dk[2];
	size_t				 n = (4u << 20) + (64u << 10);
	char				*bs;

	/* Past the 4 MB bound on a row (COPY binary: bytes as they are). */
	bs = xmalloc(n + 1);
	memset(bs, '\\', n);
	bs[n] = '\0';
	make_report("long", JAN2024);
	dk[0] = dk0[0];
	dk[1] = dk0[1];
	dk[1].human_result = bs;
	recs[1].auth_dkim = dk;
	recs[1].nauth_dkim = 2;
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_msg(strstr(err.msg, "record 2: too long") != NULL, "%s",
	    err.msg);
	ck_assert_int_eq(rows_everywhere(), 0);

	/* A quarter of it fits, and comes back whole. */
	bs[n / 4] = '\0';
	make_report("long", JAN2024);
	recs[1].auth_dkim = dk;
	recs[1].nauth_dkim = 2;
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q1("SELECT length(human_result) FROM "
	    "dmarc.record_dkim WHERE rec_no = 2 AND idx = 2"), n / 4);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim WHERE "
	    "rec_no = 2 AND human_result = repeat('\\', length(human_result))"),
	    1);
	free(bs);
	store_free(st);
}
END_TEST

/* --- COPY binary: values the server no longer parses from text -------- */

/*
 * Store n records (copies of recs[0] with their own source addresses
 * from ips, when not NULL) as one report; returns 0, or -1 (err set)
 * when anything failed.
 */
static int
feed_n(struct store *st, const struct record *r, const char *const *ips,
    size_t n, struct dm_err *err)
{
	struct report_sink	 sink;
	struct record		 one;
	size_t			 i;

	store_sink(st, &input, &sink);
	if (sink.begin(sink.arg, &rep, err) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		one = *r;
		if (ips != NULL)
			set_ip(&one, ips[i]);
		if (sink.record(sink.arg, &rep, &one, err) == -1) {
			sink.abort(sink.arg, &rep);
			return -1;
		}
	}
	return sink.end(sink.arg, &rep, err);
}

/*
 * Addresses go as inet's binary form: each comes back equal to what
 * PostgreSQL makes of its text, a host (all mask bits), of its family;
 * an IPv4-mapped IPv6 address stays IPv6.
 */
static const struct {
	const char	*ip;
	const char	*want;	/* host(), family(), masklen() */
} addrs[] = {
	{ "192.0.2.1", "192.0.2.1|4|32" },
	{ "0.0.0.0", "0.0.0.0|4|32" },
	{ "255.255.255.255", "255.255.255.255|4|32" },
	{ "2001:db8::1", "2001:db8::1|6|128" },
	{ "::", "::|6|128" },
	{ "::1", "::1|6|128" },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1|6|128" },
	{ "::ffff:0.0.0.0", "::ffff:0.0.0.0|6|128" },
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1|6|128" },
	{ "fe80::1:2", "fe80::1:2|6|128" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|6|128" },
};

START_TEST(test_store_addresses_round_trip)
{
	const char	*ips[nitems(addrs)];
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("inet");
	char		 sql[512];
	size_t		 i;

	make_report("inet", JAN2024);
	for (i = 0; i < nitems(addrs); i++)
		ips[i] = addrs[i].ip;
	ck_assert_msg(feed_n(st, &recs[0], ips, nitems(addrs), &err) == 0,
	    "%s", err.msg);
	for (i = 0; i < nitems(addrs); i++) {
		snprintf(sql, sizeof(sql), "SELECT format('%%s|%%s|%%s', "
		    "host(source_ip), family(source_ip), masklen(source_ip)) "
		    "FROM dmarc.record WHERE rec_no = %zu AND "
		    "source_ip = '%s'::inet AND "
		    "source_ip::text = '%s'::inet::text", i + 1, addrs[i].ip,
		    addrs[i].ip);
		ck_assert_str_eq(qs(sql), addrs[i].want);
	}
	store_free(st);
}
END_TEST

/*
 * A length dm_ip_parse() never returns is refused all the same, the
 * report's fault: inet's binary form is written from the bytes and
 * their length alone. (Text that is no address: check_util.)
 */
static const unsigned char bad_ip_lens[] = {
	1, 2, 3, 5, 6, 8, 12, 15, 17, 32, 255,
};

START_TEST(test_store_bad_address_is_emsg)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("badinet");

	make_report("badinet", JAN2024);
	recs[1].ip_len = bad_ip_lens[_i];
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg,
	    "record 2: source address is not an IP address");
	ck_assert_int_eq(rows_everywhere(), 0);
	store_free(st);
}
END_TEST

/*
 * begin_time goes as microseconds since 2000-01-01: negative before,
 * and every row's equals its report's (sent as text) to the second,
 * from 1970 to the end of 9999.
 */
static const struct {
	int64_t		 t;
	const char	*want;
} edge_times[] = {
	{ 0, "1970-01-01 00:00:00" },
	{ 946684799, "1999-12-31 23:59:59" },
	{ 946684800, "2000-01-01 00:00:00" },
	{ 946684801, "2000-01-01 00:00:01" },
	{ 951782400, "2000-02-29 00:00:00" },
	{ 4102444799, "2099-12-31 23:59:59" },
	{ INT64_C(253402300799), "9999-12-31 23:59:59" },
};

START_TEST(test_store_times_at_the_edges)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("times");
	char		 id[32], want[64], sql[512];
	size_t		 i;

	for (i = 0; i < nitems(edge_times); i++) {
		snprintf(id, sizeof(id), "t-%zu", i);
		make_report(id, edge_times[i].t);
		rep.end = rep.begin;
		ck_assert_msg(feed(st, &input, &err) == 0, "%s: %s", id,
		    err.msg);
		snprintf(sql, sizeof(sql), "SELECT format('%%s|%%s|%%s', "
		    "min(r.begin_time AT TIME ZONE 'UTC'), count(*), "
		    "min(extract(epoch FROM r.begin_time))::bigint) FROM dmarc.record r "
		    "JOIN dmarc.report p ON p.id = r.rep_id AND "
		    "p.begin_time = r.begin_time WHERE p.report_id = '%s'", id);
		snprintf(want, sizeof(want), "%s|3|%lld", edge_times[i].want,
		    (long long)edge_times[i].t);
		ck_assert_str_eq(qs(sql), want);
	}
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"),
	    3 * nitems(edge_times));
	store_free(st);
}
END_TEST

/* Counts go as int8: up to the sum of a report's reaching INT64_MAX. */
START_TEST(test_store_counts_near_int64_max)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("int64");

	make_report("max", JAN2024);
	recs[0].count = (uint64_t)INT64_MAX - 12;	/* + 5 + 7 */
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs("SELECT string_agg(count::text, ',' ORDER BY "
	    "rec_no) FROM dmarc.record"), "9223372036854775795,5,7");
	ck_assert_str_eq(qs("SELECT messages FROM dmarc.report"),
	    "9223372036854775807");

	make_report("over", JAN2024);
	recs[0].count = (uint64_t)INT64_MAX - 11;
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "record: count too large");
	make_report("over2", JAN2024);
	recs[1].count = (uint64_t)INT64_MAX + 1;
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_str_eq(err.msg, "record: count too large");
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.report"), 1);
	store_free(st);
}
END_TEST

/*
 * Arrays go as one dimension from 1 with a has-NULLs flag: NULL
 * elements where they were, never '{}' for no entries, and each at the
 * index the views number it by.
 */
START_TEST(test_store_arrays_shape)
{
	static struct report_dkim	 dk[3];
	struct dm_err			 err = { 0 };
	struct store			*st = migrated_store("arrays");

	make_report("arrays", JAN2024);
	memset(dk, 0, sizeof(dk));
	dk[0].domain = "a.example";
	dk[0].result.raw = "bogus";
	dk[1].domain = "b.example";
	dk[1].result.val = "pass";
	dk[2].domain = "c.example";
	dk[2].result.val = "fail";
	recs[0].auth_dkim = dk;
	recs[0].nauth_dkim = 3;
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s|%s', "
	    "dmarc.dkim_domain(r), dmarc.dkim_result(r), dkim_result_raw, "
	    "array_lower(dmarc.dkim_result(r), 1), "
	    "array_ndims(dmarc.dkim_result(r)), dmarc.dkim_selector(r) IS NULL) "
	    "FROM dmarc.record r WHERE rec_no = 1"),
	    "{a.example,b.example,c.example}|{NULL,pass,fail}|"
	    "{bogus,NULL,NULL}|1|1|t");
	/* the third in the arrays of the rest, as a one-element array */
	ck_assert_str_eq(qs("SELECT format('%s|%s|%s|%s|%s', dkim_n, "
	    "dkim1_domain, dkim2_result, dkim_more_domain, dkim_more_result) "
	    "FROM dmarc.record WHERE rec_no = 1"),
	    "3|a.example|pass|{c.example}|{fail}");
	ck_assert_str_eq(qs("SELECT string_agg(format('%s:%s:%s', idx, domain, "
	    "coalesce(result, '-')), ',' ORDER BY idx) FROM dmarc.record_dkim "
	    "WHERE rec_no = 1"), "1:a.example:-,2:b.example:pass,"
	    "3:c.example:fail");
	/* Every array of every row: NULL, or 1-based and not empty. */
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record r, LATERAL "
	    "(VALUES (r.reason_type::text[]), (r.reason_type_raw), "
	    "(r.reason_comment), (r.dkim_more_domain), "
	    "(r.dkim_more_selector), (r.dkim_more_result::text[]), "
	    "(r.dkim_result_raw), (r.dkim_human_result), "
	    "(dmarc.dkim_domain(r)), (dmarc.dkim_selector(r)), "
	    "(dmarc.dkim_result(r)::text[]), (r.spf_more_domain), "
	    "(r.spf_more_scope::text[]), (r.spf_more_result::text[]), "
	    "(dmarc.spf_domain(r)), (dmarc.spf_scope(r)::text[]), "
	    "(r.spf_scope_raw), (dmarc.spf_result(r)::text[]), "
	    "(r.spf_result_raw), (r.spf_human_result)) AS a(v) WHERE "
	    "v IS NOT NULL AND (array_lower(v, 1) <> 1 OR array_ndims(v) <> 1 "
	    "OR cardinality(v) = 0)"), 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record WHERE "
	    "reason_type IS NOT NULL"), 1);
	store_free(st);
}
END_TEST

/*
 * Text at the parser's bounds (bytes, multi-byte characters at the very
 * end) comes back whole: 32 reason comments and 16 SPF human results of
 * 64 kB, 100 DKIM results with 1024-byte selectors, 255-byte domains.
 */
static char *
repeat_str(const char *unit, size_t bytes)
{
	size_t	 u = strlen(unit), i;
	char	*s = xmalloc(bytes + 1);

	for (i = 0; i + u <= bytes; i += u)
		memcpy(s + i, unit, u);
	memset(s + i, 'x', bytes - i);
	s[bytes] = '\0';
	return s;
}

START_TEST(test_store_longest_fields_round_trip)
{
	static struct report_dkim	 dk[DM_MAX_AUTH_DKIM];
	static struct report_spf	 sp[DM_MAX_AUTH_SPF];
	static struct report_reason	 rs[DM_MAX_REASONS];
	struct dm_err			 err = { 0 };
	struct store			*st = migrated_store("longest");
	char				*comment, *field, *domain, sql[512];
	size_t				 i;

	/* 4-byte characters to the end of 64 kB; 2-byte to 1024 */
	comment = repeat_str("\xf0\x9f\x98\x80", DM_MAX_COMMENT);
	field = repeat_str("\xc3\xa9", DM_MAX_FIELD);
	domain = repeat_str("a", DM_MAX_DOMAIN);
	make_report("longest", JAN2024);
	for (i = 0; i < nitems(dk); i++) {
		memset(&dk[i], 0, sizeof(dk[i]));
		dk[i].domain = domain;
		dk[i].selector = field;
		dk[i].result.val = "pass";
		dk[i].human_result = field;
	}
	for (i = 0; i < nitems(sp); i++) {
		memset(&sp[i], 0, sizeof(sp[i]));
		sp[i].domain = domain;
		sp[i].human_result = comment;
	}
	for (i = 0; i < nitems(rs); i++) {
		memset(&rs[i], 0, sizeof(rs[i]));
		rs[i].type.raw = field;
		rs[i].comment = comment;
	}
	recs[1].auth_dkim = dk;
	recs[1].nauth_dkim = nitems(dk);
	recs[1].auth_spf = sp;
	recs[1].nauth_spf = nitems(sp);
	recs[1].reasons = rs;
	recs[1].nreasons = nitems(rs);
	recs[1].envelope_to = field;
	recs[1].envelope_from = field;
	recs[1].header_from = domain;
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.record_dkim "
	    "WHERE rec_no = 2 AND domain = repeat('a', %d) AND selector = "
	    "repeat('\xc3\xa9', %d) AND human_result = selector",
	    DM_MAX_DOMAIN, DM_MAX_FIELD / 2);
	ck_assert_int_eq(q1(sql), DM_MAX_AUTH_DKIM);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.record_spf "
	    "WHERE rec_no = 2 AND human_result = repeat('\xf0\x9f\x98\x80', "
	    "%u) AND domain = repeat('a', %d)", DM_MAX_COMMENT / 4,
	    DM_MAX_DOMAIN);
	ck_assert_int_eq(q1(sql), DM_MAX_AUTH_SPF);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM "
	    "dmarc.record_override WHERE rec_no = 2 AND comment = "
	    "repeat('\xf0\x9f\x98\x80', %u) AND octet_length(type_raw) = %d "
	    "AND type IS NULL", DM_MAX_COMMENT / 4, DM_MAX_FIELD);
	ck_assert_int_eq(q1(sql), DM_MAX_REASONS);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.record WHERE "
	    "rec_no = 2 AND envelope_to = repeat('\xc3\xa9', %d) AND "
	    "envelope_from = envelope_to AND header_from = repeat('a', %d)",
	    DM_MAX_FIELD / 2, DM_MAX_DOMAIN);
	ck_assert_int_eq(q1(sql), 1);
	free(comment);
	free(field);
	free(domain);
	store_free(st);
}
END_TEST

/* Not UTF-8 anywhere in a row, arrays too: the record is named. */
static const char *const bad_utf8[] = {
	"\x80", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "ok\xff", "\xc3\xa9\xc3",
};

START_TEST(test_store_invalid_utf8_in_arrays_is_emsg)
{
	static struct report_dkim	 dk[2];
	struct dm_err			 err = { 0 };
	struct store			*st = migrated_store("utf8arr");

	make_report("utf8", JAN2024);
	dk[0] = dk0[0];
	dk[1] = dk0[1];
	dk[1].human_result = bad_utf8[_i];
	recs[2].auth_dkim = dk;
	recs[2].nauth_dkim = 2;
	ck_assert_int_eq(feed(st, &input, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "record 3: text is not valid UTF-8");
	ck_assert_int_eq(rows_everywhere(), 0);
	store_free(st);
}
END_TEST

/* The per-kind relations readers know are views over dmarc.record. */
START_TEST(test_store_child_relations_are_views)
{
	struct store	*st = migrated_store("views2");

	ck_assert_str_eq(qs("SELECT string_agg(relname || ':' || "
	    "relkind::text, ',' ORDER BY relname) FROM pg_class WHERE "
	    "relnamespace = 'dmarc'::regnamespace AND relname IN "
	    "('record_dkim', 'record_spf', 'record_override')"),
	    "record_dkim:v,record_override:v,record_spf:v");
	ck_assert_str_eq(qs("SELECT string_agg(attname || ' ' || "
	    "format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM "
	    "pg_attribute WHERE attrelid = 'dmarc.record_spf'::regclass AND "
	    "attnum > 0"), "rep_id bigint, rec_no integer, idx integer, "
	    "domain text, scope text, scope_raw text, result text, "
	    "result_raw text, human_result text");
	store_free(st);
}
END_TEST

/* --- roles ------------------------------------------------------------ */

START_TEST(test_store_reader_reads_only)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("reader");
	char		 ci[2048];
	PGconn		*c;
	PGresult	*r;

	make_report("r-1", JAN2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	make_login("t_store_reader", "dmarc_reader");
	conninfo_for(ci, sizeof(ci), dbname, "t_store_reader");
	c = connect_to(ci);
	r = PQexec(c, "SELECT messages FROM dmarc.daily_domain");
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(c));
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "22");
	PQclear(r);
	r = PQexec(c, "SELECT count(*) FROM dmarc.record_y2024m01");
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s",
	    PQerrorMessage(c));
	PQclear(r);
	r = PQexec(c, "INSERT INTO dmarc.ingest (source, input, outcome) "
	    "VALUES ('x', 'y', 'rejected')");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42501");
	PQclear(r);
	r = PQexec(c, "DELETE FROM dmarc.report");
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	PQclear(r);
	PQfinish(c);
	store_free(st);
}
END_TEST

START_TEST(test_store_writer_stores_new_month)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("writer");
	char		 ci[2048];

	store_free(st);
	make_login("t_store_writer", "dmarc_writer");
	conninfo_for(ci, sizeof(ci), dbname, "t_store_writer");
	st = store_open(ci, &err);
	ck_assert_msg(st != NULL, "%s", err.msg);
	ck_assert_int_eq(store_check_schema(st, &err), 0);
	make_report("w-1", FEB2024);
	ck_assert_msg(feed(st, &input, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(feed(st, &input, &err), 1);
	ck_assert_msg(store_rejected(st, &input, NULL, NULL, "bad", &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_y2024m02"), 3);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.ingest"), 3);
	store_free(st);
}
END_TEST

/* --- volume ----------------------------------------------------------- */

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Many records with 2 dkim and 1 spf result each: all stored, in one
 * transaction. DM_STORE_BENCH=N runs N records and prints the rate.
 */
/*
 * dmarc.attempt counts the runs that started a message and didn't finish
 * it: the same run coming back (after a lost connection) doesn't count.
 */
START_TEST(test_store_attempts_count_dead_runs)
{
	struct dm_err	 err = { 0 };
	struct store	*st = migrated_store("attempt");
	int		 n = 0;

	ck_assert_int_eq(store_attempt_begin(st, "imap:a", "m1", "run1", &n,
	    &err), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_attempt_begin(st, "imap:a", "m1", "run1", &n,
	    &err), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_attempt_begin(st, "imap:a", "m1", "run2", &n,
	    &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(store_attempt_begin(st, "imap:b", "m1", "run2", &n,
	    &err), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(store_attempt_end(st, "imap:a", "m1", &err), 0);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.attempt"), 1);
	ck_assert_int_eq(store_attempt_begin(st, "imap:a", "m1", "run3", &n,
	    &err), 0);
	ck_assert_int_eq(n, 1);
	store_free(st);
}
END_TEST

START_TEST(test_store_many_records)
{
	struct dm_err		 err = { 0 };
	struct store		*st = migrated_store("many");
	struct report_sink	 sink;
	struct record		 r;
	const char		*env = getenv("DM_STORE_BENCH");
	long			 i, n = env != NULL ? atol(env) : 20000;
	double			 t0;

	make_report("many", JAN2024);
	r = recs[0];
	r.ip_len = 4;
	r.ip[0] = 10;
	store_sink(st, &input, &sink);
	t0 = now();
	ck_assert_int_eq(sink.begin(sink.arg, &rep, &err), 0);
	for (i = 0; i < n; i++) {
		r.ip[1] = (unsigned char)(i >> 16);	/* 10.x.y.z */
		r.ip[2] = (unsigned char)(i >> 8);
		r.ip[3] = (unsigned char)i;
		r.count = 1 + i % 3;
		ck_assert_msg(sink.record(sink.arg, &rep, &r, &err) == 0, "%s",
		    err.msg);
	}
	ck_assert_msg(sink.end(sink.arg, &rep, &err) == 0, "%s", err.msg);
	if (env != NULL)
		fprintf(stderr, "store: %ld records in %.2f s: %.0f records/s\n",
		    n, now() - t0, n / (now() - t0));
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record"), n);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_dkim"), 2 * n);
	ck_assert_int_eq(q1("SELECT count(*) FROM dmarc.record_spf"), n);
	ck_assert_int_eq(q1("SELECT records FROM dmarc.report"), n);
	ck_assert_int_eq(q1("SELECT messages FROM dmarc.report"),
	    q1("SELECT sum(count) FROM dmarc.record"));
	ck_assert_int_eq(q1("SELECT count(DISTINCT source_ip) FROM "
	    "dmarc.record"), n);
	store_free(st);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	test_need_db();		/* exits 77 (skip) without a database */

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_unreachable_is_estore);
	tcase_add_test(tc, test_store_connect_gives_up);
	tcase_add_test(tc, test_store_bad_conninfo_is_econfig);
	tcase_add_test(tc, test_store_open_uses_libpq_defaults);
	tcase_add_test(tc, test_store_migrate_from_empty);
	tcase_add_test(tc, test_store_migrate_concurrently);
	tcase_add_test(tc, test_store_migrate_enums_keeps_values);
	tcase_add_test(tc, test_store_migrate_record_index_keeps_rows);
	tcase_add_test(tc, test_store_migrate_auth_slots_keep_results);
	tcase_add_test(tc, test_store_report_stored_exactly);
	tcase_add_test(tc, test_store_views_sum_right);
	tcase_add_test(tc, test_store_second_copy_is_duplicate);
	tcase_add_test(tc, test_store_race_first_commits);
	tcase_add_test(tc, test_store_race_first_aborts);
	tcase_add_test(tc, test_store_abort_leaves_nothing);
	tcase_add_test(tc, test_store_invalid_utf8_is_emsg);
	tcase_add_test(tc, test_store_months_get_partitions);
	tcase_add_test(tc, test_store_partition_dropped_is_made_again);
	tcase_add_test(tc, test_store_copies_into_partition);
	tcase_add_loop_test(tc, test_store_failed_statement_leaves_nothing, 0,
	    nitems(fail_cases));
	tcase_add_test(tc, test_store_killed_connection_is_estore);
	tcase_add_test(tc, test_store_rejected_in_ledger);
	mime_init();		/* ruf.c decodes with GMime */
	tcase_add_test(tc, test_store_failure_stored_once);
	tcase_add_test(tc, test_store_failure_without_keys);
	tcase_add_test(tc, test_store_failure_hashed_local_parts);
	tcase_add_test(tc, test_store_failure_expire_by_age);
	tcase_add_test(tc, test_store_reader_reads_only);
	tcase_add_test(tc, test_store_writer_stores_new_month);
	tcase_add_test(tc, test_store_many_records);
	tcase_add_test(tc, test_store_hostile_text_round_trips_through_views);
	tcase_add_test(tc, test_store_empty_entries_keep_their_place);
	tcase_add_test(tc, test_store_lean_copy_then_full);
	tcase_add_test(tc, test_store_enums_checked);
	tcase_add_test(tc, test_store_enums_refused_as_writer);
	tcase_add_test(tc, test_store_record_too_long_is_emsg);
	tcase_add_test(tc, test_store_child_relations_are_views);
	tcase_add_test(tc, test_store_attempts_count_dead_runs);
	tcase_add_test(tc, test_store_addresses_round_trip);
	tcase_add_loop_test(tc, test_store_bad_address_is_emsg, 0,
	    nitems(bad_ip_lens));
	tcase_add_test(tc, test_store_times_at_the_edges);
	tcase_add_test(tc, test_store_counts_near_int64_max);
	tcase_add_test(tc, test_store_arrays_shape);
	tcase_add_test(tc, test_store_longest_fields_round_trip);
	tcase_add_loop_test(tc, test_store_invalid_utf8_in_arrays_is_emsg, 0,
	    nitems(bad_utf8));
	suite_add_tcase(s, tc);
	return s;
}
