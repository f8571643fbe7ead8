/*
 * check_daemon.c: the daemon as a user runs it: the built dmarcd against
 * the test Dovecot (IMAP, POP3) and PostgreSQL that test-all.sh starts,
 * and a Maildir. Reports must be stored exactly once and every message
 * filed, whatever is killed or restarted underneath.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"
#include "buf.h"
#include "util.h"

static char	 db[1024];		/* this run's database */
static char	 workdir[256];		/* configs, metrics, quarantine */

/*
 * Folder names of this run: the test Dovecot outlives a run (both builds
 * use it in turn), so each run has its own folders.
 */
static const char *
folder_sfx(const char *name, const char *suffix)
{
	static char	 out[4][96];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(out[i], sizeof(out[i]), "%s%ld%s", name, (long)getpid(),
	    suffix);
	return out[i];
}

static const char *
folder(const char *name)
{
	return folder_sfx(name, "");
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static void
sql_exec(const char *conninfo, const char *sql)
{
	PGconn		*c = PQconnectdb(conninfo);
	PGresult	*r;

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQsetNoticeProcessor(c, quiet, NULL);
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* One number from SQL, or -1 when the database can't be reached. */
static long long
sql_num(const char *sql)
{
	PGconn		*c = PQconnectdb(db);
	PGresult	*r;
	long long	 v = -1;

	if (PQstatus(c) == CONNECTION_OK) {
		r = PQexec(c, sql);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
			v = PQgetisnull(r, 0, 0) ? 0 :
			    atoll(PQgetvalue(r, 0, 0));
		PQclear(r);
	}
	PQfinish(c);
	return v;
}

/* Lines of path that contain needle. */
static int
lines_with(const char *path, const char *needle)
{
	char	 line[4096];
	FILE	*fp = fopen(path, "r");
	int	 n = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(fp);
	return n;
}

/* A fresh database per test program run. */
static void
setup_db(void)
{
	const char	*base = test_need_db();
	char		 sql[256];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS t_daemon_%ld "
	    "WITH (FORCE)", (long)getpid());
	sql_exec(base, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE t_daemon_%ld",
	    (long)getpid());
	sql_exec(base, sql);
	snprintf(db, sizeof(db), "%s dbname=t_daemon_%ld", base,
	    (long)getpid());
}

static void
setup(void)
{
	test_need_dovecot();
	if (db[0] == '\0')
		setup_db();
	if (workdir[0] == '\0') {
		snprintf(workdir, sizeof(workdir), "/tmp/dmarcd-daemon.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(workdir));
	}
}

/*
 * After a test that passed: its directory and database go (a failed
 * test's stay, for a look; each test runs in a child of its own).
 */
static void
teardown(void)
{
	char	 cmd[512];

	if (workdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
		if (system(cmd) != 0)
			fprintf(stderr, "check_daemon: cannot remove %s\n",
			    workdir);
		workdir[0] = '\0';
	}
	if (db[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "DROP DATABASE IF EXISTS "
		    "t_daemon_%ld WITH (FORCE)", (long)getpid());
		sql_exec(test_need_db(), cmd);
		db[0] = '\0';
	}
}

static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	ck_assert_msg(v != NULL, "%s is not set", name);
	return v;
}

static int
dovecot_port(int offset)
{
	return atoi(env("DOVECOT_PORT")) + offset;
}

/* A report mail, its XML as the body; report_id makes it unique. */
static void
report_mail(struct buf *b, const char *report_id, int records)
{
	int	 i;

	buf_printf(b,
	    "From: DMARC Reporter <dmarc@reporter.example>\r\n"
	    "To: dmarc@example.com\r\n"
	    "Subject: Report Domain: example.com Submitter: reporter.example "
	    "Report-ID: <%s>\r\n"
	    "Message-ID: <%s@reporter.example>\r\n"
	    "Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/xml; charset=utf-8\r\n\r\n"
	    "<?xml version=\"1.0\"?>\r\n<feedback><report_metadata>"
	    "<org_name>reporter.example</org_name>"
	    "<email>dmarc@reporter.example</email>"
	    "<report_id>%s</report_id><date_range><begin>1764288000</begin>"
	    "<end>1764374399</end></date_range></report_metadata>"
	    "<policy_published><domain>example.com</domain><p>none</p>"
	    "</policy_published>\r\n", report_id, report_id, report_id);
	for (i = 0; i < records; i++)
		buf_printf(b, "<record><row><source_ip>192.0.2.%d</source_ip>"
		    "<count>%d</count><policy_evaluated><disposition>none"
		    "</disposition><dkim>pass</dkim><spf>fail</spf>"
		    "</policy_evaluated></row><identifiers><header_from>"
		    "example.com</header_from></identifiers><auth_results>"
		    "<spf><domain>example.com</domain><result>fail</result>"
		    "</spf></auth_results></record>\r\n", i % 250 + 1, i + 1);
	buf_adds(b, "</feedback>\r\n");
}

static const char *
not_a_report(void)
{
	return "From: someone@example.net\r\nTo: dmarc@example.com\r\n"
	    "Subject: hello\r\nMessage-ID: <human@example.net>\r\n\r\n"
	    "Just a human's mail in the report mailbox.\r\n";
}

/*
 * Deliver messages straight into a Dovecot Maildir folder (fast, for
 * thousands): write into tmp/, rename into new/, owned by the mail user.
 */
static void
deliver(const char *user, const char *folder, const char *name,
    const char *msg, size_t len)
{
	char		 dir[1024], tmp[1200], new[1200];
	const char	*sub[] = { "cur", "new", "tmp" };
	struct passwd	*pw = getpwnam("nobody");
	size_t		 i;
	int		 fd;

	ck_assert_ptr_nonnull(pw);
	snprintf(dir, sizeof(dir), "%s/mail/%s/Maildir", env("DOVECOT_DIR"),
	    user);
	if (folder != NULL && strcmp(folder, "INBOX") != 0)
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir),
		    "/.%s", folder);
	for (i = 0; i < 3; i++) {
		char d[1100];

		snprintf(d, sizeof(d), "%s/%s", dir, sub[i]);
		if (access(d, F_OK) == -1) {
			char cmd[1300];

			struct stat sb;

			/*
			 * chown -R races with Dovecot's lock files coming
			 * and going: what matters is that the new
			 * directories end up the mail user's.
			 */
			snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && { chown -R "
			    "nobody:nogroup '%s/mail' 2>/dev/null; true; }", d,
			    env("DOVECOT_DIR"));
			ck_assert_int_eq(system(cmd), 0);
			ck_assert_int_eq(stat(d, &sb), 0);
			ck_assert_int_eq(sb.st_uid, pw->pw_uid);
		}
	}
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
	snprintf(new, sizeof(new), "%s/new/%s", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(fd != -1, "%s: %s", tmp, strerror(errno));
	ck_assert_int_eq(write(fd, msg, len), (ssize_t)len);
	ck_assert_int_eq(fchown(fd, pw->pw_uid, pw->pw_gid), 0);
	close(fd);
	ck_assert_int_eq(rename(tmp, new), 0);
}

/* Messages in a Dovecot folder, through doveadm. */
static int
count(const char *user, const char *folder)
{
	char	 cmd[1024], out[64] = "";
	FILE	*p;
	int	 n = -1;

	snprintf(cmd, sizeof(cmd), "doveadm -c '%s/dovecot.conf' mailbox "
	    "status -u '%s' messages '%s' 2>/dev/null", env("DOVECOT_DIR"),
	    user, folder);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fgets(out, sizeof(out), p) != NULL) {
		const char *m = strstr(out, "messages=");

		n = m ? atoi(m + 9) : -1;
	} else
		n = 0;	/* no such mailbox */
	pclose(p);
	return n;
}

/* Write a configuration file (0600) for one IMAP folder; its path. */
static const char *
imap_conf(const char *name, const char *folder, const char *extra)
{
	static char	 path[512];
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/%s.conf", workdir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fchmod(fileno(fp), 0600);
	fprintf(fp, "[database]\nconninfo = %s\n\n"
	    "[imap \"%s\"]\nurl = imaps://127.0.0.1:%d/%s\nuser = %s\n"
	    "password_file = %s\nca_file = %s\n"
	    "processed_folder = %s_done\ninvalid_folder = %s_bad\n"
	    "poll_interval = 5\n%s\n"
	    "[daemon]\nmetrics_file = %s/%s.prom\n",
	    db, name, dovecot_port(1), folder, env("DOVECOT_USER"),
	    env("DOVECOT_PASSWORD_FILE"), env("DOVECOT_CA"), folder, folder,
	    extra ? extra : "", workdir, name);
	fclose(fp);
	return path;
}

static const char *
dmarcd_path(void)
{
	static char	 path[1024];
	const char	*b = getenv("DM_BUILDDIR");

	snprintf(path, sizeof(path), "%s/src/dmarcd", b ? b : ".");
	return path;
}

/* Run dmarcd -c conf ARGS to the end; its exit status. */
static int
run_once(const char *conf, const char *args)
{
	char	 cmd[2048];
	int	 status;

	snprintf(cmd, sizeof(cmd), "'%s' -q -c '%s' %s >>'%s/log' 2>&1",
	    dmarcd_path(), conf, args, workdir);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Start the daemon in the background; its pid. */
static pid_t
start_daemon(const char *conf)
{
	char	 log[512];
	pid_t	 pid;
	int	 fd;

	snprintf(log, sizeof(log), "%s/log", workdir);
	if ((pid = fork()) == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(dmarcd_path(), "dmarcd", "-c", conf, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* Wait up to secs for sql to reach want; returns the last value. */
static long long
wait_for(const char *sql, long long want, int secs)
{
	long long	 v = -1;
	int		 i;

	for (i = 0; i < secs * 10; i++) {
		if ((v = sql_num(sql)) >= want)
			break;
		usleep(100000);
	}
	return v;
}

START_TEST(test_daemon_imap_files_every_message)
{
	struct buf	 m;
	const char	*conf;
	char		 id[64];
	int		 i;

	setup();
	buf_init(&m, 1 << 20);
	for (i = 0; i < 3; i++) {
		buf_reset(&m);
		snprintf(id, sizeof(id), "files-%d", i);
		report_mail(&m, id, 3);
		deliver(env("DOVECOT_USER"), folder("files"), id, m.data, m.len);
	}
	/* the same report again, and a human's mail */
	buf_reset(&m);
	report_mail(&m, "files-0", 3);
	deliver(env("DOVECOT_USER"), folder("files"), "again", m.data, m.len);
	deliver(env("DOVECOT_USER"), folder("files"), "human", not_a_report(),
	    strlen(not_a_report()));
	conf = imap_conf("files", folder("files"), NULL);
	ck_assert_int_eq(run_once(conf, "migrate"), 0);
	/* exit 1: one message was rejected; the others are fine */
	ck_assert_int_eq(run_once(conf, "--once"), 1);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("files")), 0);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder_sfx("files", "_done")), 4);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder_sfx("files", "_bad")), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.report WHERE "
	    "report_id LIKE 'files-%'"), 3);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.ingest WHERE "
	    "source = 'imap:files' AND outcome = 'duplicate'"), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.ingest WHERE "
	    "source = 'imap:files' AND outcome = 'rejected' AND uid > 0 AND "
	    "uidvalidity > 0"), 1);
	/* the Prometheus textfile says the same */
	{
		char prom[600], want[200];

		snprintf(prom, sizeof(prom), "%s/files.prom", workdir);
		snprintf(want, sizeof(want), "dmarcd_reports_total{source="
		    "\"imap:files\",outcome=\"stored\"} 3");
		ck_assert_int_eq(lines_with(prom, want), 1);
		snprintf(want, sizeof(want), "dmarcd_messages_total{source="
		    "\"imap:files\",fate=\"invalid\"} 1");
		ck_assert_int_eq(lines_with(prom, want), 1);
		ck_assert_int_eq(lines_with(prom, "dmarcd_source_up{source="
		    "\"imap:files\"} 1"), 1);
	}
	/* nothing left: a second run is quiet and fine */
	ck_assert_int_eq(run_once(conf, "--once"), 0);
	buf_clear(&m);
}
END_TEST

/*
 * A failure report from the mailbox is stored (with [failure]'s privacy
 * setting), an ARF abuse report is filed as invalid, and the daemon's
 * housekeeping deletes failure reports past retention_days; so does
 * "dmarcd housekeep".
 */
START_TEST(test_daemon_files_failure_reports)
{
	struct buf	 m;
	const char	*conf;
	char		 h[65], sql[512];

	setup();
	buf_init(&m, 1 << 20);
	test_load(&m, "samples", "mail-auth/arf/003.eml");
	deliver(env("DOVECOT_USER"), folder("ruf"), "ruf", m.data, m.len);
	buf_reset(&m);
	test_load(&m, "samples", "mail-auth/arf/001.eml");
	deliver(env("DOVECOT_USER"), folder("ruf"), "abuse", m.data, m.len);
	conf = imap_conf("ruf", folder("ruf"), "\n[failure]\n"
	    "hash_local_parts = yes\nretention_days = 36500\n");
	ck_assert_int_eq(run_once(conf, "migrate"), 0);
	sql_exec(db, "INSERT INTO dmarc.failure_report (reporter, "
	    "arrival_date, orig_message_id) VALUES ('old@example', "
	    "'1900-01-01T00:00:00Z', 'daemon-old')");
	/* exit 1: the abuse report was rejected */
	ck_assert_int_eq(run_once(conf, "--once"), 1);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder_sfx("ruf",
	    "_done")), 1);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder_sfx("ruf",
	    "_bad")), 1);
	dm_sha256_hex("randomuser", 10, h);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.failure_report "
	    "WHERE original_mail_from = 'sha256:%s@example.net' AND "
	    "host(source_ip) = '192.0.2.1' AND orig_headers IS NULL", h);
	ck_assert_int_eq(sql_num(sql), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.ingest WHERE "
	    "source = 'imap:ruf' AND outcome = 'rejected' AND reason = "
	    "'an ARF abuse report, not a DMARC failure report'"), 1);
	/* housekeeping ran: the old report is gone (003's, of 2010, stays) */
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.failure_report "
	    "WHERE orig_message_id = 'daemon-old'"), 0);
	sql_exec(db, "INSERT INTO dmarc.failure_report (reporter, "
	    "arrival_date, orig_message_id) VALUES ('old@example', "
	    "now() - interval '36501 days', 'daemon-old2'), ('new@example', "
	    "now() - interval '36499 days', 'daemon-new')");
	ck_assert_int_eq(run_once(conf, "housekeep"), 0);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.failure_report "
	    "WHERE orig_message_id LIKE 'daemon-%'"), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.failure_report "
	    "WHERE orig_message_id = 'daemon-new'"), 1);
	buf_clear(&m);
}
END_TEST

START_TEST(test_daemon_wrong_password_leaves_mail)
{
	struct buf	 m;
	const char	*conf;
	char		 pw[600];
	FILE		*fp;

	setup();
	buf_init(&m, 1 << 20);
	report_mail(&m, "wrongpw-1", 1);
	deliver(env("DOVECOT_USER"), folder("wrongpw"), "m1", m.data, m.len);
	snprintf(pw, sizeof(pw), "%s/wrong.password", workdir);
	fp = fopen(pw, "w");
	fchmod(fileno(fp), 0600);
	fputs("not-the-password\n", fp);
	fclose(fp);
	conf = imap_conf("wrongpw", folder("wrongpw"), NULL);
	/* point the source at the wrong password */
	{
		char cmd[2048];

		snprintf(cmd, sizeof(cmd), "sed -i 's|^password_file = .*|"
		    "password_file = %s|' '%s'", pw, conf);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_eq(run_once(conf, "--once"), 3);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("wrongpw")), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.report WHERE "
	    "report_id LIKE 'wrongpw-%'"), 0);
	buf_clear(&m);
}
END_TEST

START_TEST(test_daemon_sigkill_mid_drain_stores_each_report_once)
{
	struct buf	 m;
	const char	*conf;
	char		 id[64];
	pid_t		 pid;
	int		 i, status;
	const int	 n = 300;

	setup();
	buf_init(&m, 1 << 20);
	for (i = 0; i < n; i++) {
		buf_reset(&m);
		snprintf(id, sizeof(id), "kill-%03d", i);
		report_mail(&m, id, 40);
		deliver(env("DOVECOT_USER"), folder("kill"), id, m.data, m.len);
	}
	conf = imap_conf("kill", folder("kill"), NULL);
	ck_assert_int_eq(run_once(conf, "migrate"), 0);
	pid = start_daemon(conf);
	/* let it get going, then pull the plug */
	ck_assert_int_ge(wait_for("SELECT count(*) FROM dmarc.report WHERE "
	    "report_id LIKE 'kill-%'", 20, 60), 20);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ck_assert_int_lt(sql_num("SELECT count(*) FROM dmarc.report WHERE "
	    "report_id LIKE 'kill-%'"), n);
	/* a new daemon finishes the job; nothing stored twice */
	ck_assert_int_eq(run_once(conf, "--once"), 0);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.report WHERE "
	    "report_id LIKE 'kill-%'"), n);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.record r JOIN "
	    "dmarc.report p ON p.id = r.rep_id WHERE p.report_id LIKE "
	    "'kill-%'"), n * 40);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("kill")), 0);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder_sfx("kill", "_done")), n);
	buf_clear(&m);
}
END_TEST

START_TEST(test_daemon_sigterm_exits_promptly)
{
	const char	*conf;
	pid_t		 pid;
	int		 status, i;
	time_t		 t0;

	setup();
	conf = imap_conf("term", folder("term"), NULL);
	pid = start_daemon(conf);
	sleep(1);
	t0 = time(NULL);
	kill(pid, SIGTERM);
	for (i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	ck_assert_msg(i < 100, "dmarcd still running 10 s after SIGTERM");
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_le(time(NULL) - t0, 5);
}
END_TEST

START_TEST(test_daemon_check_lists_every_error)
{
	char	 path[512], cmd[2048], out[4096];
	FILE	*fp, *p;
	size_t	 n;
	int	 status, lines = 0;
	char	*s;

	setup();
	snprintf(path, sizeof(path), "%s/bad.conf", workdir);
	fp = fopen(path, "w");
	fputs("[imap]\nurl = http://example.com/\nafter = sideways\n"
	    "bogus = 1\n[limits]\nmax_ratio = lots\n", fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "'%s' -n -c '%s' 2>&1", dmarcd_path(),
	    path);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	status = pclose(p);
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	for (s = out; (s = strstr(s, "bad.conf: [")) != NULL; s++)
		lines++;
	/* after, bogus, max_ratio, url, user, secret */
	ck_assert_msg(lines >= 6, "%d errors listed:\n%s", lines, out);
	ck_assert_msg(strstr(out, "sideways") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "unknown key") != NULL, "%s", out);
}
END_TEST

/* Files in dir (not recursive), or -1. */
static int
files_in(const char *dir, const char *suffix)
{
	char	 cmd[1200], out[64] = "";
	FILE	*p;

	snprintf(cmd, sizeof(cmd), "ls -1 '%s' 2>/dev/null | grep -c '%s$'",
	    dir, suffix);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (fgets(out, sizeof(out), p) == NULL)
		out[0] = '\0';
	pclose(p);
	return atoi(out);
}

START_TEST(test_daemon_pop3_drain)
{
	struct buf	 m;
	char		 path[600], qdir[512], id[64];
	FILE		*fp;
	int		 i;

	setup();
	buf_init(&m, 1 << 20);
	for (i = 0; i < 3; i++) {
		buf_reset(&m);
		snprintf(id, sizeof(id), "pop-%ld-%d", (long)getpid(), i);
		report_mail(&m, id, 2);
		deliver(env("DOVECOT_POP_USER"), "INBOX", id, m.data, m.len);
	}
	deliver(env("DOVECOT_POP_USER"), "INBOX", "human", not_a_report(),
	    strlen(not_a_report()));
	snprintf(qdir, sizeof(qdir), "%s/pop-quarantine", workdir);
	snprintf(path, sizeof(path), "%s/pop.conf", workdir);
	fp = fopen(path, "w");
	fchmod(fileno(fp), 0600);
	fprintf(fp, "[database]\nconninfo = %s\n[pop3 \"p\"]\n"
	    "url = pop3s://127.0.0.1:%d\nuser = %s\npassword_file = %s\n"
	    "ca_file = %s\nquarantine_dir = %s\n", db, dovecot_port(3),
	    env("DOVECOT_POP_USER"), env("DOVECOT_PASSWORD_FILE"),
	    env("DOVECOT_CA"), qdir);
	fclose(fp);
	ck_assert_int_eq(run_once(path, "migrate"), 0);
	ck_assert_int_eq(run_once(path, "--once"), 1);	/* one rejected */
	{
		char sql[256];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.report "
		    "WHERE report_id LIKE 'pop-%ld-%%'", (long)getpid());
		ck_assert_int_eq(sql_num(sql), 3);
	}
	ck_assert_int_eq(count(env("DOVECOT_POP_USER"), "INBOX"), 0);
	/* the rejected mail was saved, with its reason, before DELE */
	{
		char cmd[1200];

		/* the mailbox may hold others' leftovers: look for ours */
		snprintf(cmd, sizeof(cmd), "test \"$(grep -l 'Just a human' "
		    "'%s'/new/* | wc -l)\" = 1", qdir);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_ge(files_in(qdir, ".reason"), 1);
	buf_clear(&m);
}
END_TEST

START_TEST(test_daemon_maildir_drain)
{
	struct buf	 m;
	char		 md[512], path[600], sub[700], id[64];
	FILE		*fp;
	int		 i;
	static const char *const subs[] = { "cur", "new", "tmp" };

	setup();
	snprintf(md, sizeof(md), "%s/Maildir", workdir);
	mkdir(md, 0700);
	for (i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", md, subs[i]);
		mkdir(sub, 0700);
	}
	buf_init(&m, 1 << 20);
	for (i = 0; i < 2; i++) {
		buf_reset(&m);
		snprintf(id, sizeof(id), "md-%ld-%d", (long)getpid(), i);
		report_mail(&m, id, 2);
		snprintf(sub, sizeof(sub), "%s/new/%s", md, id);
		fp = fopen(sub, "w");
		fwrite(m.data, 1, m.len, fp);
		fclose(fp);
	}
	snprintf(sub, sizeof(sub), "%s/new/human", md);
	fp = fopen(sub, "w");
	fputs(not_a_report(), fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/md.conf", workdir);
	fp = fopen(path, "w");
	fchmod(fileno(fp), 0600);
	fprintf(fp, "[database]\nconninfo = %s\n[maildir \"local\"]\n"
	    "path = %s\n", db, md);
	fclose(fp);
	ck_assert_int_eq(run_once(path, "migrate"), 0);
	ck_assert_int_eq(run_once(path, "--once"), 1);
	snprintf(sub, sizeof(sub), "%s/new", md);
	ck_assert_int_eq(files_in(sub, ""), 0);
	snprintf(sub, sizeof(sub), "%s/.processed/cur", md);
	ck_assert_int_eq(files_in(sub, ""), 2);
	snprintf(sub, sizeof(sub), "%s/.invalid/cur", md);
	ck_assert_int_eq(files_in(sub, ""), 1);
	buf_clear(&m);
}
END_TEST

/* The port of the test PostgreSQL, from its conninfo. */
static const char *
pg_port(void)
{
	static char	 port[16];
	const char	*p = strstr(test_need_db(), "port=");

	ck_assert_ptr_nonnull(p);
	snprintf(port, sizeof(port), "%.*s", (int)strspn(p + 5,
	    "0123456789"), p + 5);
	return port;
}

static void
pg_ctl(const char *what)
{
	const char	*dir = getenv("DMARCD_TEST_PGDIR");
	char		 cmd[1200];

	snprintf(cmd, sizeof(cmd), "'%s/../pg.sh' %s '%s' %s >/dev/null "
	    "2>&1", env("DM_TESTDATA"), what, dir, strcmp(what, "start") ?
	    "" : pg_port());
	ck_assert_int_eq(system(cmd), 0);
}

/*
 * A message that killed dmarcd (crash, OOM kill) in three runs is
 * quarantined by the fourth instead of stopping the mailbox for good;
 * one that two runs died on is still tried. The dead runs are seeded in
 * dmarc.attempt as they would have left it.
 */
START_TEST(test_daemon_quarantines_a_message_that_killed_it)
{
	struct buf	 m;
	char		 md[512], path[600], sub[700], id[2][64], sql[2048];
	FILE		*fp;
	int		 i;
	static const char *const subs[] = { "cur", "new", "tmp" };

	setup();
	snprintf(md, sizeof(md), "%s/Maildir-crash", workdir);
	mkdir(md, 0700);
	for (i = 0; i < 3; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", md, subs[i]);
		mkdir(sub, 0700);
	}
	buf_init(&m, 1 << 16);
	for (i = 0; i < 2; i++) {
		buf_reset(&m);
		snprintf(id[i], sizeof(id[i]), "crash-%ld-%d", (long)getpid(),
		    i);
		report_mail(&m, id[i], 2);
		snprintf(sub, sizeof(sub), "%s/new/%s", md, id[i]);
		fp = fopen(sub, "w");
		fwrite(m.data, 1, m.len, fp);
		fclose(fp);
	}
	snprintf(path, sizeof(path), "%s/crash.conf", workdir);
	fp = fopen(path, "w");
	fchmod(fileno(fp), 0600);
	fprintf(fp, "[database]\nconninfo = %s\n[maildir \"crash\"]\n"
	    "path = %s\n", db, md);
	fclose(fp);
	ck_assert_int_eq(run_once(path, "migrate"), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO dmarc.attempt (source, input, "
	    "owner, attempts) VALUES ('maildir:crash', '%s/new/%s', 'dead 1', "
	    "3), ('maildir:crash', '%s/new/%s', 'dead 2', 2)", md, id[0], md,
	    id[1]);
	sql_exec(db, sql);

	ck_assert_int_eq(run_once(path, "--once"), 1);
	snprintf(sub, sizeof(sub), "%s/.invalid/cur", md);
	ck_assert_int_eq(files_in(sub, ""), 1);
	snprintf(sub, sizeof(sub), "%s/.processed/cur", md);
	ck_assert_int_eq(files_in(sub, ""), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.ingest WHERE "
	    "source = 'maildir:crash' AND outcome = 'rejected' AND input = "
	    "'%s/new/%s' AND reason LIKE 'dmarcd stopped 3 times while "
	    "processing this message%%'", md, id[0]);
	ck_assert_int_eq(sql_num(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.report WHERE "
	    "report_id IN ('%s', '%s')", id[0], id[1]);
	ck_assert_int_eq(sql_num(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.report WHERE "
	    "report_id = '%s'", id[1]);
	ck_assert_int_eq(sql_num(sql), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.attempt WHERE "
	    "source = 'maildir:crash'"), 0);
	buf_clear(&m);
}
END_TEST

START_TEST(test_daemon_rides_out_postgresql_restart)
{
	struct buf	 m;
	const char	*conf;
	char		 id[64], sql[256];
	pid_t		 pid;
	int		 i, status;

	setup();
	if (getenv("DMARCD_TEST_PGDIR") == NULL) {
		ck_assert_msg(getenv("CI") == NULL ||
		    strcmp(getenv("CI"), "true") != 0,
		    "DMARCD_TEST_PGDIR is not set under CI");
		return;		/* can't restart a server we don't own */
	}
	buf_init(&m, 1 << 20);
	conf = imap_conf("pgr", folder("pgr"), NULL);
	ck_assert_int_eq(run_once(conf, "migrate"), 0);
	pid = start_daemon(conf);
	for (i = 0; i < 3; i++) {
		buf_reset(&m);
		snprintf(id, sizeof(id), "pgr-%ld-a%d", (long)getpid(), i);
		report_mail(&m, id, 2);
		deliver(env("DOVECOT_USER"), folder("pgr"), id, m.data, m.len);
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM dmarc.report WHERE "
	    "report_id LIKE 'pgr-%ld-%%'", (long)getpid());
	ck_assert_int_eq(wait_for(sql, 3, 30), 3);
	/* the database goes away while mail keeps arriving */
	pg_ctl("stop");
	for (i = 0; i < 3; i++) {
		buf_reset(&m);
		snprintf(id, sizeof(id), "pgr-%ld-b%d", (long)getpid(), i);
		report_mail(&m, id, 2);
		deliver(env("DOVECOT_USER"), folder("pgr"), id, m.data, m.len);
	}
	sleep(7);	/* a poll or two fails meanwhile */
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);	/* alive */
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("pgr")), 3);
	pg_ctl("start");
	ck_assert_int_eq(wait_for(sql, 6, 90), 6);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("pgr")), 0);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder_sfx("pgr",
	    "_done")), 6);
	buf_clear(&m);
}
END_TEST

/*
 * imap:// means STARTTLS, required: against a real server without TLS
 * (that would even take a plaintext login) dmarcd must not log in.
 */
START_TEST(test_daemon_starttls_required)
{
	struct buf	 m;
	char		 path[512], logp[512];
	FILE		*fp;
	int		 before;

	setup();
	buf_init(&m, 1 << 20);
	report_mail(&m, "notls-1", 1);
	deliver(env("DOVECOT_USER"), folder("notls"), "m1", m.data, m.len);
	snprintf(logp, sizeof(logp), "%s/notls/dovecot.log",
	    env("DOVECOT_DIR"));
	before = lines_with(logp, "Login: user=<");
	snprintf(path, sizeof(path), "%s/notls.conf", workdir);
	fp = fopen(path, "w");
	fchmod(fileno(fp), 0600);
	fprintf(fp, "[database]\nconninfo = %s\n[imap \"notls\"]\n"
	    "url = imap://127.0.0.1:%s/%s\nuser = %s\npassword_file = %s\n",
	    db, env("DOVECOT_NOTLS_PORT"), folder("notls"),
	    env("DOVECOT_USER"), env("DOVECOT_PASSWORD_FILE"));
	fclose(fp);
	ck_assert_int_eq(run_once(path, "--once"), 3);
	ck_assert_int_eq(lines_with(logp, "Login: user=<"), before);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("notls")), 1);
	buf_clear(&m);
}
END_TEST

/* A certificate from a CA we don't trust: an error, mail left alone. */
START_TEST(test_daemon_untrusted_certificate)
{
	struct buf	 m;
	const char	*conf;
	char		 cmd[1200];

	setup();
	buf_init(&m, 1 << 20);
	report_mail(&m, "untrusted-1", 1);
	deliver(env("DOVECOT_USER"), folder("untrusted"), "m1", m.data,
	    m.len);
	conf = imap_conf("untrusted", folder("untrusted"), NULL);
	snprintf(cmd, sizeof(cmd), "sed -i 's|^ca_file = .*|ca_file = %s|' "
	    "'%s'", env("DOVECOT_OTHER_CA"), conf);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(run_once(conf, "--once"), 3);
	ck_assert_int_eq(count(env("DOVECOT_USER"), folder("untrusted")), 1);
	ck_assert_int_eq(sql_num("SELECT count(*) FROM dmarc.ingest WHERE "
	    "source = 'imap:untrusted'"), 0);
	buf_clear(&m);
}
END_TEST

/* SIGHUP: a broken configuration is refused, a good one taken. */
START_TEST(test_daemon_sighup_reloads)
{
	const char	*conf;
	char		 log[600], cmd[1200];
	pid_t		 pid;
	int		 status, before, i;

	setup();
	snprintf(log, sizeof(log), "%s/log", workdir);
	conf = imap_conf("hup", folder("hup"), NULL);
	pid = start_daemon(conf);
	sleep(1);
	/* break it: the running configuration must stay */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s.good' && echo 'bogus = 1' "
	    ">> '%s'", conf, conf, conf);
	ck_assert_int_eq(system(cmd), 0);
	before = lines_with(log, "keeping the running configuration");
	kill(pid, SIGHUP);
	for (i = 0; i < 50 && lines_with(log, "keeping the running "
	    "configuration") == before; i++)
		usleep(100000);
	ck_assert_int_eq(lines_with(log, "keeping the running configuration"),
	    before + 1);
	ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);	/* alive */
	/* mend it: reloaded */
	snprintf(cmd, sizeof(cmd), "cp '%s.good' '%s'", conf, conf);
	ck_assert_int_eq(system(cmd), 0);
	before = lines_with(log, "configuration reloaded");
	kill(pid, SIGHUP);
	for (i = 0; i < 50 && lines_with(log, "configuration reloaded") ==
	    before; i++)
		usleep(100000);
	ck_assert_int_eq(lines_with(log, "configuration reloaded"),
	    before + 1);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("daemon");
	TCase	*tc = tcase_create("daemon");

	/* the whole program needs both servers: skip (77) or fail (CI) */
	test_need_db();
	test_need_dovecot();

	tcase_set_timeout(tc, 180);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_daemon_check_lists_every_error);
	tcase_add_test(tc, test_daemon_imap_files_every_message);
	tcase_add_test(tc, test_daemon_files_failure_reports);
	tcase_add_test(tc, test_daemon_wrong_password_leaves_mail);
	tcase_add_test(tc, test_daemon_sigkill_mid_drain_stores_each_report_once);
	tcase_add_test(tc, test_daemon_sigterm_exits_promptly);
	tcase_add_test(tc, test_daemon_sighup_reloads);
	tcase_add_test(tc, test_daemon_starttls_required);
	tcase_add_test(tc, test_daemon_untrusted_certificate);
	tcase_add_test(tc, test_daemon_pop3_drain);
	tcase_add_test(tc, test_daemon_maildir_drain);
	tcase_add_test(tc, test_daemon_quarantines_a_message_that_killed_it);
	tcase_add_test(tc, test_daemon_rides_out_postgresql_restart);
	suite_add_tcase(s, tc);
	return s;
}
