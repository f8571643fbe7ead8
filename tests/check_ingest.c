/*
 * check_ingest.c: the whole pipeline on every real sample, without a
 * database (the dry run) and with one: exact outcomes and counts,
 * duplicates, directories, Maildirs, mbox, truncated input, and a
 * database that goes away.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"
#include "bounds.h"
#include "buf.h"
#include "ingest.h"
#include "parse.h"
#include "store.h"
#include "util.h"

/* What ingest said, one short word per result: "S20", "D2", "R:why". */
struct collect {
	struct buf	 out;
};

static void
collect_result(void *arg, const struct ingest_result *res)
{
	struct collect	*c = arg;

	if (c->out.len > 0)
		buf_addc(&c->out, ' ');
	switch (res->outcome) {
	case INGEST_STORED:
	case INGEST_DUPLICATE:
		if (res->ruf != NULL) {		/* a failure report */
			buf_printf(&c->out, "%cF",
			    res->outcome == INGEST_STORED ? 'S' : 'D');
			break;
		}
		buf_printf(&c->out, "%c%llu",
		    res->outcome == INGEST_STORED ? 'S' : 'D',
		    (unsigned long long)res->sum->records);
		break;
	case INGEST_REJECTED:
		buf_printf(&c->out, "R:%s", res->reason);
		break;
	}
}

static void
ingest_setup(struct ingest *ig, struct collect *c, struct dm_limits *lim,
    struct store *st)
{
	static int	 inited;

	if (!inited) {
		ingest_init();
		inited = 1;
	}
	dm_limits_default(lim);
	memset(ig, 0, sizeof(*ig));
	buf_init(&c->out, 1 << 20);
	ig->lim = lim;
	ig->st = st;
	ig->source = "file";
	ig->result = collect_result;
	ig->arg = c;
}

/*
 * Every sample: what the dry run must say. "S<n>" stored with n records,
 * "R:<text>" rejected with text in the reason (a prefix is enough).
 */
static const struct {
	const char	*file;
	const char	*want;
} samples[] = {
	{ "DmarcAnalyzerApp/sample-yahoo-aggregate.xml", "S1" },
	{ "avvertix-dmarc-report-parser/dmarc.xml", "S2" },
	{ "avvertix-dmarc-report-parser/dmarc.xml.gz", "S2" },
	{ "avvertix-dmarc-report-parser/dmarc.zip", "S2" },
	{ "dmarc-report-converter/test.xml", "S2" },
	{ "dmarc-report-converter/test.xml.gz", "S2" },
	{ "dmarc-report-converter/test.xml.zip", "S2" },
	{ "dmarc-report-converter/test2.xml", "S2" },
	{ "dmarc-report-converter/test_empty.xml", "S0" },
	{ "dmarc-report-viewer/acme.xml", "S1" },
	{ "dmarc-report-viewer/aol.xml", "S1" },
	{ "dmarc-report-viewer/gmxnet.xml", "S1" },
	{ "dmarc-report-viewer/google.xml", "S1" },
	{ "dmarc-report-viewer/hardfail.xml", "S1" },
	{ "dmarc-report-viewer/mailru.xml", "S1" },
	{ "dmarc-report-viewer/outlook.xml", "S2" },
	{ "dmarc-report-viewer/solamora.xml", "S1" },
	{ "dmarc-report-viewer/webde.xml", "S1" },
	{ "dmarc-report-viewer/yahoo.xml", "S1" },
	{ "dmarc_aggregate_parser/dmarc.xml", "S1" },
	{ "mail-auth/arf/001.eml", "R:an ARF abuse report, not a DMARC failure report" },
	{ "mail-auth/arf/002.eml", "R:an ARF abuse report, not a DMARC failure report" },
	{ "mail-auth/arf/003.eml", "SF" },
	{ "mail-auth/arf/004.eml", "SF" },
	{ "mail-auth/dmarc-feedback/001.xml", "R:xml: date_range begin 161212415 (1975-02-09T21:13:35Z) is before 2000" },
	{ "mail-auth/dmarc-feedback/002.xml", "S1" },
	{ "mail-auth/dmarc-feedback/003.xml", "S4" },
	{ "mail-auth/dmarc-feedback/005.xml", "R:xml: date_range begin 100" },
	{ "mail-auth/dmarc-feedback/100.eml", "S1" },
	{ "mail-auth/dmarc-feedback/101.eml", "S1" },
	{ "mail-auth/dmarc-feedback/103.eml", "S1" },
	{ "parsedmarc/aggregate/!example.com!1538204542!1538463818.xml", "S1" },
	{ "parsedmarc/aggregate/!large-example.com!1711897200!1711983600.xml", "S2286" },
	{ "parsedmarc/aggregate/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml", "S1" },
	{ "parsedmarc/aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml", "S1" },
	{ "parsedmarc/aggregate/empty_reason.xml", "S1" },
	{ "parsedmarc/aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip", "S1" },
	{ "parsedmarc/aggregate/example.net!example.com!1529366400!1529452799.xml", "S1" },
	{ "parsedmarc/aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz", "S1" },
	{ "parsedmarc/aggregate/invalid_xml.xml", "R:xml: line 5: error parsing attribute name" },
	{ "parsedmarc/aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml", "S1" },
	{ "parsedmarc/aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml", "S2" },
	{ "parsedmarc/aggregate/rfc9990-sample.xml", "R:xml: date_range begin 302832000" },
	{ "parsedmarc/aggregate/usssa.com!example.com!1538784000!1538870399.xml", "S2" },
	{ "parsedmarc/aggregate/veeam.com!example.com!1530133200!1530219600.xml", "S1" },
	{ "parsedmarc/aggregate_invalid/report_with_upper_cased_pass.xml", "S1" },
	{ "parsedmarc/empty.xml", "R:not a report: empty" },
	{ "parsedmarc/extract_report/nice-input.xml", "S20" },
	{ "parsedmarc/extract_report/nice-input.xml.gz", "S20" },
	{ "parsedmarc/extract_report/nice-input.xml.zip", "S20" },
	{ "parsedmarc/failure/DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml", "SF" },
	{ "parsedmarc/failure/dmarc_ruf_report_linkedin.eml", "SF" },
	{ "parsedmarc/failure/exim_plain_text_only_no_arf_part.eml", "R:a plain-text DMARC failure notice without an ARF part (Exim/cPanel style): not stored, its fields can't be read reliably" },
	{ "trollByte-dmarc/malformed_report.xml", "R:xml: root element is <invalid_root>" },
	{ "trollByte-dmarc/missing_fields.xml", "S1" },
};

START_TEST(test_ingest_dry_run_every_sample)
{
	struct ingest		 ig;
	struct collect		 c;
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	const char		*want = samples[_i].want, *got;

	ingest_setup(&ig, &c, &lim, NULL);
	ck_assert_int_eq(ingest_path(&ig, test_path("samples",
	    samples[_i].file), &err), 0);
	got = buf_cstr(&c.out);
	if (want[0] == 'R')
		ck_assert_msg(strncmp(got, want, strlen(want)) == 0,
		    "%s: want '%s...', got '%s'", samples[_i].file, want, got);
	else
		ck_assert_msg(strcmp(got, want) == 0, "%s: want '%s', got '%s'",
		    samples[_i].file, want, got);
	buf_clear(&c.out);
}
END_TEST

/* The import line of a failure report (DESIGN.md's format). */
struct lines {
	struct buf	 all;
};

static void
line_result(void *arg, const struct ingest_result *res)
{
	struct lines	*l = arg;
	struct buf	 b;

	buf_init(&b, 1 << 16);
	buf_printf(&l->all, "%s\n", ingest_format(res, &b));
	buf_clear(&b);
}

START_TEST(test_ingest_failure_report_line)
{
	struct ingest		 ig;
	struct collect		 c;
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct lines		 l;
	const char		*path, *got;
	char			 want[8192];

	ingest_setup(&ig, &c, &lim, NULL);
	buf_init(&l.all, 1 << 16);
	ig.result = line_result;
	ig.arg = &l;
	path = test_path("samples", "mail-auth/arf/004.eml");
	ck_assert_int_eq(ingest_path(&ig, path, &err), 0);
	snprintf(want, sizeof(want), "stored %s kind=failure "
	    "reporter=opendmarc@box.mydomain.name source_ip=148.163.85.135 "
	    "domain=interpublication.org\n", path);
	got = buf_cstr(&l.all);
	ck_assert_msg(strcmp(got, want) == 0, "got '%s', want '%s'", got,
	    want);
	buf_reset(&l.all);
	path = test_path("samples", "mail-auth/arf/001.eml");
	ck_assert_int_eq(ingest_path(&ig, path, &err), 0);
	snprintf(want, sizeof(want), "rejected %s reason=\"an ARF abuse "
	    "report, not a DMARC failure report\"\n", path);
	got = buf_cstr(&l.all);
	ck_assert_msg(strcmp(got, want) == 0, "got '%s', want '%s'", got,
	    want);
	ck_assert_int_eq(ig.stats.stored, 1);
	ck_assert_int_eq(ig.stats.rejected, 1);
	buf_clear(&l.all);
	buf_clear(&c.out);
}
END_TEST

/* --- with a database ------------------------------------------------ */

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* A fresh database for one test: its conninfo (static). */
static const char *
fresh_db(const char *name)
{
	static char	 conninfo[1024];
	const char	*base = test_need_db();
	char		 sql[256];
	PGconn		*c;
	PGresult	*r;

	c = PQconnectdb(base);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s_%ld WITH (FORCE)",
	    name, (long)getpid());
	PQclear(PQexec(c, sql));
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s_%ld", name,
	    (long)getpid());
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
	    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	snprintf(conninfo, sizeof(conninfo), "%s dbname=%s_%ld", base, name,
	    (long)getpid());
	return conninfo;
}

static struct store *
migrated_store(const char *conninfo)
{
	struct store	*st;
	struct dm_err	 err = { 0 };

	st = store_open(conninfo, &err);
	ck_assert_msg(st != NULL, "%s", err.msg);
	ck_assert_msg(store_migrate(st, NULL, &err) == 0, "%s", err.msg);
	return st;
}

/* One number from SQL. */
static long long
sql_num(const char *conninfo, const char *sql)
{
	PGconn		*c = PQconnectdb(conninfo);
	PGresult	*r;
	long long	 v;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	v = PQgetisnull(r, 0, 0) ? 0 : atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

/* Sums over what ingest said it stored. */
struct tally {
	long long	 stored, duplicate, rejected, records, messages;
	long long	 failures;	/* of stored: failure reports */
};

static void
tally_result(void *arg, const struct ingest_result *res)
{
	struct tally	*t = arg;

	switch (res->outcome) {
	case INGEST_STORED:
		t->stored++;
		if (res->ruf != NULL) {
			t->failures++;
			break;
		}
		t->records += (long long)res->sum->records;
		t->messages += (long long)res->sum->messages;
		break;
	case INGEST_DUPLICATE:
		t->duplicate++;
		break;
	case INGEST_REJECTED:
		t->rejected++;
		break;
	}
}

/* Import every sample folder (what the quick start does). */
static int
import_samples(struct store *st, struct tally *t, struct dm_err *err)
{
	static const char *const dirs[] = { "DmarcAnalyzerApp",
	    "avvertix-dmarc-report-parser", "dmarc-report-converter",
	    "dmarc-report-viewer", "dmarc_aggregate_parser", "mail-auth",
	    "parsedmarc", "trollByte-dmarc" };
	struct ingest		 ig;
	struct dm_limits	 lim;
	char			 path[4096];
	size_t			 i;

	ingest_init();
	dm_limits_default(&lim);
	memset(&ig, 0, sizeof(ig));
	memset(t, 0, sizeof(*t));
	ig.lim = &lim;
	ig.st = st;
	ig.source = "file";
	ig.result = tally_result;
	ig.arg = t;
	for (i = 0; i < nitems(dirs); i++) {
		snprintf(path, sizeof(path), "%s", test_path("samples",
		    dirs[i]));
		if (ingest_path(&ig, path, err) == -1)
			return -1;
	}
	return 0;
}

START_TEST(test_ingest_stores_every_sample_exactly_once)
{
	const char	*db = fresh_db("t_ingest_samples");
	struct store	*st = migrated_store(db);
	struct tally	 t;
	struct dm_err	 err = { 0 };

	ck_assert_msg(import_samples(st, &t, &err) == 0, "%s", err.msg);
	/*
	 * 34 distinct aggregate reports (8 more are the same report in
	 * another container) and 4 failure reports (mail-auth/arf/003, 004,
	 * the two ARF ones of parsedmarc/failure); rejected: the 2 ARF abuse
	 * reports, the Exim plain-text one and 6 that are not reports.
	 */
	ck_assert_int_eq(t.stored, 38);
	ck_assert_int_eq(t.failures, 4);
	ck_assert_int_eq(t.duplicate, 8);
	ck_assert_int_eq(t.rejected, 9);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
	    "dmarc.failure_report"), 4);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.report"), 34);
	ck_assert_int_eq(sql_num(db, "SELECT sum(records) FROM dmarc.report"),
	    t.records);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.record"),
	    t.records);
	ck_assert_int_eq(sql_num(db, "SELECT sum(count) FROM dmarc.record"),
	    t.messages);
	ck_assert_int_eq(t.records, 2347);
	ck_assert_int_eq(t.messages, 5404);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.ingest "
	    "WHERE outcome = 'rejected'"), 9);

	/* a second run stores nothing */
	ck_assert_msg(import_samples(st, &t, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(t.stored, 0);
	ck_assert_int_eq(t.duplicate, 46);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
	    "dmarc.failure_report"), 4);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.record"),
	    2347);
	store_free(st);
}
END_TEST

START_TEST(test_ingest_two_importers_race)
{
	const char	*db = fresh_db("t_ingest_race");
	struct store	*st = migrated_store(db);
	pid_t		 pid[2];
	int		 i, status;

	store_free(st);
	for (i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0) {
			struct tally	 t;
			struct dm_err	 err = { 0 };

			st = migrated_store(db);
			_exit(import_samples(st, &t, &err) == 0 ? 0 : 1);
		}
		ck_assert_int_ne(pid[i], -1);
	}
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "importer %d failed", i);
	}
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.report"), 34);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.record"),
	    2347);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.ingest "
	    "WHERE outcome = 'stored'"), 38);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
	    "dmarc.failure_report"), 4);
}
END_TEST

/* [failure] store and hash_local_parts, through the pipeline. */
START_TEST(test_ingest_failure_privacy)
{
	static const struct {
		int		 store, hash;
		const char	*want;
	} cases[] = {
		{ INGEST_FAILURE_HEADERS, 0, "randomuser@example.net|"
		  "randomuser@example.net|This is a test|t|f" },
		{ INGEST_FAILURE_FULL, 0, "randomuser@example.net|"
		  "randomuser@example.net|This is a test|t|t" },
		{ INGEST_FAILURE_NONE, 0, "randomuser@example.net|||f|f" },
		{ INGEST_FAILURE_HEADERS, 1, NULL },	/* hashed */
	};
	const char	*db = fresh_db("t_ingest_privacy");
	struct store	*st = migrated_store(db);
	struct ingest	 ig;
	struct collect	 c;
	struct dm_limits lim;
	struct dm_err	 err = { 0 };
	char		 want[512], h[65];
	PGconn		*pc;
	PGresult	*r;
	size_t		 i;

	dm_sha256_hex("randomuser", 10, h);
	for (i = 0; i < nitems(cases); i++) {
		ingest_setup(&ig, &c, &lim, st);
		ig.failure.store = cases[i].store;
		ig.failure.hash_local_parts = cases[i].hash;
		ck_assert_int_eq(ingest_path(&ig, test_path("samples",
		    "mail-auth/arf/003.eml"), &err), 0);
		ck_assert_str_eq(buf_cstr(&c.out), "SF");
		buf_clear(&c.out);
		pc = PQconnectdb(db);
		r = PQexec(pc, "SELECT format('%s|%s|%s|%s|%s', "
		    "original_mail_from, orig_from, orig_subject, "
		    "orig_headers IS NOT NULL, orig_body IS NOT NULL) "
		    "FROM dmarc.failure_report");
		ck_assert_int_eq(PQntuples(r), 1);
		if (cases[i].want != NULL)
			snprintf(want, sizeof(want), "%s", cases[i].want);
		else
			snprintf(want, sizeof(want), "sha256:%s@example.net|"
			    "sha256:%s@example.net|This is a test|f|f", h, h);
		ck_assert_str_eq(PQgetvalue(r, 0, 0), want);
		PQclear(r);
		PQclear(PQexec(pc, "DELETE FROM dmarc.failure_report"));
		PQfinish(pc);
	}
	store_free(st);
}
END_TEST

/* Write len bytes of buf to a new file under dir; returns its path. */
static const char *
write_file(const char *dir, const char *name, const void *p, size_t len)
{
	static char	 path[4096];
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_ingest_truncated_gzip_leaves_nothing)
{
	const char	*db = fresh_db("t_ingest_trunc");
	struct store	*st = migrated_store(db);
	struct ingest	 ig;
	struct collect	 c;
	struct dm_limits lim;
	struct dm_err	 err = { 0 };
	struct buf	 gz;
	char		 dir[] = "/tmp/dmarcd-trunc.XXXXXX";
	const char	*path;

	buf_init(&gz, 1 << 20);
	test_load(&gz, "samples", "parsedmarc/extract_report/nice-input.xml.gz");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = write_file(dir, "cut.xml.gz", gz.data, gz.len * 3 / 4);
	ingest_setup(&ig, &c, &lim, st);
	ck_assert_int_eq(ingest_path(&ig, path, &err), 0);
	ck_assert_msg(strstr(buf_cstr(&c.out), "R:gzip: truncated") != NULL,
	    "%s", buf_cstr(&c.out));
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.report"), 0);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.record"), 0);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.ingest "
	    "WHERE outcome = 'rejected' AND reason LIKE 'gzip: truncated%'"),
	    1);
	unlink(path);
	rmdir(dir);
	buf_clear(&gz);
	buf_clear(&c.out);
	store_free(st);
}
END_TEST

START_TEST(test_ingest_maildir_skips_tmp)
{
	struct ingest	 ig;
	struct collect	 c;
	struct dm_limits lim;
	struct dm_err	 err = { 0 };
	struct buf	 m1, m2;
	char		 dir[] = "/tmp/dmarcd-maildir.XXXXXX", sub[4200];
	static const char *const subs[] = { "cur", "new", "tmp" };
	size_t		 i;

	buf_init(&m1, 1 << 20);
	buf_init(&m2, 1 << 20);
	test_load(&m1, "samples", "mail-auth/dmarc-feedback/100.eml");
	test_load(&m2, "samples", "mail-auth/dmarc-feedback/101.eml");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < nitems(subs); i++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, subs[i]);
		ck_assert_int_eq(mkdir(sub, 0700), 0);
	}
	snprintf(sub, sizeof(sub), "%s/new", dir);
	write_file(sub, "1.host", m1.data, m1.len);
	snprintf(sub, sizeof(sub), "%s/cur", dir);
	write_file(sub, "2.host:2,S", m2.data, m2.len);
	snprintf(sub, sizeof(sub), "%s/tmp", dir);
	write_file(sub, "3.host", "garbage", 7);	/* being delivered */
	ingest_setup(&ig, &c, &lim, NULL);
	ck_assert_int_eq(ingest_path(&ig, dir, &err), 0);
	ck_assert_str_eq(buf_cstr(&c.out), "S1 S1");
	buf_clear(&m1);
	buf_clear(&m2);
	buf_clear(&c.out);
	ck_assert_int_eq(system(NULL) != 0, 1);
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(sub), 0);
}
END_TEST

START_TEST(test_ingest_mbox_splits_messages)
{
	struct ingest	 ig;
	struct collect	 c;
	struct dm_limits lim;
	struct dm_err	 err = { 0 };
	struct buf	 m1, m2, mbox;
	char		 dir[] = "/tmp/dmarcd-mbox.XXXXXX";
	const char	*path;

	buf_init(&m1, 1 << 20);
	buf_init(&m2, 1 << 20);
	buf_init(&mbox, 1 << 22);
	test_load(&m1, "samples", "mail-auth/dmarc-feedback/100.eml");
	test_load(&m2, "samples", "parsedmarc/aggregate/Report domain- "
	    "borschow.com Submitter- google.com Report-ID- "
	    "949348866075514174.eml");
	buf_adds(&mbox, "From reports@example.com Sat Nov 28 10:00:00 2026\n");
	buf_add(&mbox, m1.data, m1.len);
	/* mbox writers end each message with an empty line */
	if (m1.len > 0 && m1.data[m1.len - 1] != '\n')
		buf_addc(&mbox, '\n');
	buf_adds(&mbox, "\nFrom reports@example.com Sat Nov 28 10:01:00 2026\n");
	buf_add(&mbox, m2.data, m2.len);
	buf_adds(&mbox, "\n>From the mboxrd escape, not a new message\n");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = write_file(dir, "reports.mbox", mbox.data, mbox.len);
	ingest_setup(&ig, &c, &lim, NULL);
	ck_assert_int_eq(ingest_path(&ig, path, &err), 0);
	ck_assert_str_eq(buf_cstr(&c.out), "S1 S1");
	unlink(path);
	rmdir(dir);
	buf_clear(&m1);
	buf_clear(&m2);
	buf_clear(&mbox);
	buf_clear(&c.out);
}
END_TEST

/*
 * Run the built dmarcd with args through sh; its exit status, and its
 * standard output (and error, when merged) in out.
 */
static int
run_dmarcd_merge(const char *args, char *out, size_t outlen, int merge)
{
	char	 cmd[8192];
	FILE	*p;
	size_t	 n;
	int	 status;

	snprintf(cmd, sizeof(cmd), "%s/src/dmarcd %s%s",
	    getenv("DM_BUILDDIR") ? getenv("DM_BUILDDIR") : ".", args,
	    merge ? " 2>&1" : "");
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
run_dmarcd(const char *args, char *out, size_t outlen)
{
	return run_dmarcd_merge(args, out, outlen, 1);
}

static size_t
count_lines(const char *s, const char *prefix)
{
	size_t	 n = 0;

	for (; *s != '\0'; s = strchr(s, '\n') + 1) {
		if (strncmp(s, prefix, strlen(prefix)) == 0)
			n++;
		if (strchr(s, '\n') == NULL)
			break;
	}
	return n;
}

/* Every sample folder, quoted for sh, as import_samples walks them. */
static const char *
sample_args(void)
{
	static const char *const dirs[] = { "DmarcAnalyzerApp",
	    "avvertix-dmarc-report-parser", "dmarc-report-converter",
	    "dmarc-report-viewer", "dmarc_aggregate_parser", "mail-auth",
	    "parsedmarc", "trollByte-dmarc" };
	static char	 args[8192];
	size_t		 i, off = 0;

	for (i = 0; i < nitems(dirs); i++)
		off += (size_t)snprintf(args + off, sizeof(args) - off,
		    " '%s'", test_path("samples", dirs[i]));
	return args;
}

/*
 * Workers print what one process prints, line for line, in the order of
 * the walk, though inputs finish out of order (one sample holds 2,286
 * records, most hold one or two).
 */
START_TEST(test_import_workers_keep_the_order)
{
	static char	 one[65536], many[65536];
	char		 args[9000];
	int		 j;

	snprintf(args, sizeof(args), "import -q --dry-run -j 1%s",
	    sample_args());
	ck_assert_int_eq(run_dmarcd_merge(args, one, sizeof(one), 0), 1);
	ck_assert_uint_eq(count_lines(one, "stored "), 46);
	ck_assert_uint_eq(count_lines(one, "rejected "), 9);
	for (j = 2; j <= 8; j *= 2) {
		snprintf(args, sizeof(args), "import -q --dry-run --jobs %d%s",
		    j, sample_args());
		ck_assert_int_eq(run_dmarcd_merge(args, many, sizeof(many), 0),
		    1);
		ck_assert_msg(strcmp(many, one) == 0, "with %d workers the "
		    "lines differ from one process's:\n%.2000s", j, many);
	}
	/*
	 * Holding back at most a byte per input not yet due: every worker
	 * ahead waits, and a read that brings more than the mark is kept.
	 */
	snprintf(args, sizeof(args), "import -q --dry-run -j 4%s",
	    sample_args());
	setenv("DMARCD_IMPORT_HOLD", "1", 1);
	ck_assert_int_eq(run_dmarcd_merge(args, many, sizeof(many), 0), 1);
	unsetenv("DMARCD_IMPORT_HOLD");
	ck_assert_msg(strcmp(many, one) == 0, "holding 1 byte, the lines "
	    "differ from one process's:\n%.2000s", many);
	ck_assert_int_eq(run_dmarcd("import -j 0 x", many, sizeof(many)), 2);
	ck_assert_int_eq(run_dmarcd("import -j 65 x", many, sizeof(many)), 2);
	ck_assert_int_eq(run_dmarcd("migrate -j 2", many, sizeof(many)), 2);
}
END_TEST

START_TEST(test_ingest_exit_codes)
{
	char	 out[16384], args[4600];

	/* stdin: an MTA pipe */
	snprintf(args, sizeof(args), "import --dry-run - < '%s'",
	    test_path("samples", "mail-auth/dmarc-feedback/101.eml"));
	ck_assert_int_eq(run_dmarcd(args, out, sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "stored - part=2 org=", 20) == 0, "%s",
	    out);
	/* a rejected input: 1 */
	snprintf(args, sizeof(args), "import --dry-run '%s'",
	    test_path("samples", "parsedmarc/empty.xml"));
	ck_assert_int_eq(run_dmarcd(args, out, sizeof(out)), 1);
	ck_assert_msg(strstr(out, "reason=\"not a report: empty\"") != NULL,
	    "%s", out);
	/* usage: 2 */
	ck_assert_int_eq(run_dmarcd("import --bogus x", out, sizeof(out)), 2);
	ck_assert_int_eq(run_dmarcd("import", out, sizeof(out)), 2);
	ck_assert_int_eq(run_dmarcd("frobnicate", out, sizeof(out)), 2);
	/* the database unreachable: 3, and it says where */
	snprintf(args, sizeof(args), "import --db 'host=127.0.0.1 port=1 "
	    "connect_timeout=5' '%s'", test_path("samples",
	    "parsedmarc/extract_report/nice-input.xml"));
	ck_assert_int_eq(run_dmarcd(args, out, sizeof(out)), 3);
	ck_assert_msg(strstr(out, "dmarcd: error: database unreachable "
	    "(host 127.0.0.1, port 1): ") != NULL, "%s", out);
}
END_TEST

/* Every report once, with three workers racing on the duplicates. */
START_TEST(test_import_workers_store_every_sample_once)
{
	static char	 out[65536];
	const char	*db = fresh_db("t_import_workers");
	char		 args[10000];
	int		 round;

	store_free(migrated_store(db));
	for (round = 0; round < 2; round++) {
		snprintf(args, sizeof(args), "import -q --db '%s' -j 3%s", db,
		    sample_args());
		ck_assert_int_eq(run_dmarcd_merge(args, out, sizeof(out), 0),
		    1);
		ck_assert_uint_eq(count_lines(out, "stored "),
		    round == 0 ? 38 : 0);
		ck_assert_uint_eq(count_lines(out, "duplicate "),
		    round == 0 ? 8 : 46);
		ck_assert_uint_eq(count_lines(out, "rejected "), 9);
		ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
		    "dmarc.report"), 34);
		ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
		    "dmarc.record"), 2347);
		ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
		    "dmarc.failure_report"), 4);
		ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM "
		    "dmarc.ingest WHERE outcome = 'stored'"), 38);
	}
}
END_TEST

/*
 * A worker that can't connect (the role may hold one connection, the
 * workers are two) stops the run: exit 3, the input named, and what
 * was stored is whole.
 */
START_TEST(test_import_workers_stop_when_one_fails)
{
	static char	 out[65536];
	const char	*db = fresh_db("t_import_fail");
	char		 args[10000], sql[256], role[64];
	PGconn		*c;

	store_free(migrated_store(db));
	snprintf(role, sizeof(role), "t_import_one_%ld", (long)getpid());
	c = PQconnectdb(db);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s; CREATE ROLE %s "
	    "LOGIN CONNECTION LIMIT 1 IN ROLE dmarc_writer", role, role);
	PQclear(PQexec(c, sql));
	snprintf(args, sizeof(args), "import -q --db '%s user=%s' -j 2%s",
	    db, role, sample_args());
	ck_assert_int_eq(run_dmarcd_merge(args, out, sizeof(out), 1), 3);
	ck_assert_msg(strstr(out, "too many connections") != NULL &&
	    strstr(out, "stopping, the rest is not imported") != NULL,
	    "%s", out);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.report r "
	    "WHERE records <> (SELECT count(*) FROM dmarc.record x "
	    "WHERE x.rep_id = r.id)"), 0);
	ck_assert_int_eq(sql_num(db, "SELECT count(*) FROM dmarc.report r "
	    "WHERE NOT EXISTS (SELECT FROM dmarc.ingest i "
	    "WHERE i.rep_id = r.id)"), 0);
	snprintf(sql, sizeof(sql), "DROP ROLE %s", role);
	PQclear(PQexec(c, sql));
	PQfinish(c);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("ingest");
	TCase	*tc = tcase_create("dry-run");
	TCase	*db = tcase_create("store");

	tcase_add_loop_test(tc, test_ingest_dry_run_every_sample, 0,
	    nitems(samples));
	tcase_add_test(tc, test_ingest_maildir_skips_tmp);
	tcase_add_test(tc, test_ingest_mbox_splits_messages);
	tcase_add_test(tc, test_ingest_exit_codes);
	tcase_add_test(tc, test_ingest_failure_report_line);
	tcase_add_test(tc, test_import_workers_keep_the_order);
	suite_add_tcase(s, tc);
	/* without a database (and not under CI): the dry-run half only */
	if (getenv("DMARCD_TEST_DB") == NULL && (getenv("CI") == NULL ||
	    strcmp(getenv("CI"), "true") != 0)) {
		fprintf(stderr, "DMARCD_TEST_DB not set: store tests skipped\n");
		return s;
	}
	tcase_set_timeout(db, 60);
	tcase_add_test(db, test_ingest_stores_every_sample_exactly_once);
	tcase_add_test(db, test_ingest_two_importers_race);
	tcase_add_test(db, test_ingest_failure_privacy);
	tcase_add_test(db, test_ingest_truncated_gzip_leaves_nothing);
	tcase_add_test(db, test_import_workers_store_every_sample_once);
	tcase_add_test(db, test_import_workers_stop_when_one_fails);
	suite_add_tcase(s, db);
	return s;
}
