/*
 * test_dmarcq.c: the database and the binary for the tests of dmarcq.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"
#include "test_dmarcq.h"
#include "buf.h"
#include "store.h"
#include "util.h"

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fputs("test setup: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

/* Connect to base, or to database name on base's server. */
static PGconn *
db_open(const char *base, const char *name)
{
	const char	*keys[] = { "dbname", "dbname", NULL };
	const char	*vals[] = { base, name, NULL };
	PGconn		*conn;

	if (name == NULL)
		keys[1] = vals[1] = NULL;
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK)
		die("connect: %s", PQerrorMessage(conn));
	return conn;
}

static void
db_exec(PGconn *conn, const char *sql)
{
	PGresult	*res;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%.60s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

static void
db_exec_file(PGconn *conn, const char *path)
{
	struct buf	 b;
	int		 fd;

	buf_init(&b, 1 << 20);
	if ((fd = open(path, O_RDONLY)) == -1 || buf_read_fd(&b, fd) != 0)
		die("%s: %s", path, strerror(errno));
	close(fd);
	db_exec(conn, buf_cstr(&b));
	buf_clear(&b);
}

/* The schema, as dmarcd migrate makes it: every migration. */
static void
db_apply_schema(const char *conninfo)
{
	struct dm_err	 err = { 0 };
	struct store	*st;
	int		 applied = 0;

	if ((st = store_open(conninfo, &err)) == NULL ||
	    store_migrate(st, &applied, &err) == -1)
		die("migrate: %s", err.msg);
	if (applied < 2)
		die("migrate: %d migrations applied", applied);
	store_free(st);
}

/* A key=value conninfo for what conn is connected to. */
static void
conninfo_of(PGconn *conn, char *out, size_t outlen)
{
	static const char	*keep[] = { "host", "hostaddr", "port",
				    "dbname", "user", "password", "passfile",
				    "sslmode", "sslrootcert", "sslcert",
				    "sslkey" };
	PQconninfoOption	*opts, *op;
	struct buf		 b;
	const char		*v;
	size_t			 i;

	buf_init(&b, outlen - 1);
	if ((opts = PQconninfo(conn)) == NULL)
		die("PQconninfo");
	for (op = opts; op->keyword != NULL; op++) {
		if (op->val == NULL || *op->val == '\0')
			continue;
		for (i = 0; i < nitems(keep); i++)
			if (strcmp(op->keyword, keep[i]) == 0)
				break;
		if (i == nitems(keep))
			continue;
		buf_printf(&b, "%s%s='", b.len > 0 ? " " : "", op->keyword);
		for (v = op->val; *v != '\0'; v++) {
			if (*v == '\'' || *v == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, *v);
		}
		if (buf_addc(&b, '\'') == -1)
			die("conninfo too long");
	}
	PQconninfoFree(opts);
	snprintf(out, outlen, "%s", buf_cstr(&b));
	buf_clear(&b);
}

void
test_db_create(const char *name, int schema, char *out, size_t outlen)
{
	char	 sql[256];
	PGconn	*conn;

	conn = db_open(test_need_db(), NULL);
	db_exec(conn, "SET client_min_messages TO warning");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	db_exec(conn, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0 "
	    "ENCODING 'UTF8'", name);
	db_exec(conn, sql);
	PQfinish(conn);
	conn = db_open(test_need_db(), name);
	conninfo_of(conn, out, outlen);
	PQfinish(conn);
	if (schema)
		db_apply_schema(out);
}

void
test_db_load(const char *conninfo, const char *dir, const char *file)
{
	PGconn	*conn;

	conn = db_open(conninfo, NULL);
	db_exec(conn, "SET client_min_messages TO warning");
	db_exec_file(conn, test_path(dir, file));
	PQfinish(conn);
}

void
test_db_drop(const char *name)
{
	char	 sql[256];
	PGconn	*conn;

	conn = db_open(test_need_db(), NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	db_exec(conn, sql);
	PQfinish(conn);
}

static char *
slurp(int fd)
{
	struct buf	 b;
	char		*s;

	buf_init(&b, 1 << 20);
	lseek(fd, 0, SEEK_SET);
	ck_assert_int_eq(buf_read_fd(&b, fd), 0);
	buf_add(&b, "", 0);	/* buf_cstr() of an empty buf: no NUL */
	s = xstrdup(buf_cstr(&b));
	buf_clear(&b);
	close(fd);
	return s;
}

/*
 * Run src/dmarcq with args (NULL-terminated) and DMARCD_DB set to env_db
 * (NULL: unset).
 */
void
run_bin(struct bin *r, const char *env_db, ...)
{
	char		 path[PATH_MAX], ofile[] = "/tmp/test_dmarcq.XXXXXX";
	char		 efile[] = "/tmp/test_dmarcq.XXXXXX";
	char		*argv[16];
	const char	*dir = getenv("DM_BUILDDIR");
	va_list		 ap;
	pid_t		 pid;
	int		 argc = 0, ofd, efd, st;

	snprintf(path, sizeof(path), "%s/src/dmarcq",
	    dir != NULL ? dir : ".");
	argv[argc++] = path;
	va_start(ap, env_db);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_int_ne(ofd = mkstemp(ofile), -1);
	ck_assert_int_ne(efd = mkstemp(efile), -1);
	unlink(ofile);
	unlink(efile);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		dup2(ofd, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		if (env_db != NULL)
			setenv("DMARCD_DB", env_db, 1);
		else
			unsetenv("DMARCD_DB");
		execv(path, argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st), "%s did not exit", path);
	r->status = WEXITSTATUS(st);
	r->out = slurp(ofd);
	r->err = slurp(efd);
}

void
bin_free(struct bin *r)
{
	free(r->out);
	free(r->err);
}
