/*
 * test_db.c: databases of their own for the tests that need PostgreSQL;
 * see test_db.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test_db.h"
#include "buf.h"
#include "dm.h"
#include "store.h"

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: setup: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

PGconn *
test_db_open(const char *base, const char *name)
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

void
test_db_exec(PGconn *conn, const char *sql)
{
	PGresult	*res;

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%.60s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
}

void
test_db_exec_file(PGconn *conn, const char *path)
{
	struct buf	 b;
	int		 fd;

	buf_init(&b, 1 << 20);
	if ((fd = open(path, O_RDONLY)) == -1 || buf_read_fd(&b, fd) != 0)
		die("%s: %s", path, strerror(errno));
	close(fd);
	test_db_exec(conn, buf_cstr(&b));
	buf_clear(&b);
}

void
test_db_migrate(const char *conninfo)
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

void
test_db_conninfo(PGconn *conn, char *out, size_t outlen)
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
test_db_create(const char *base, const char *name)
{
	char	 sql[256];
	PGconn	*conn;

	conn = test_db_open(base, NULL);
	test_db_exec(conn, "SET client_min_messages TO warning");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	test_db_exec(conn, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0 "
	    "ENCODING 'UTF8'", name);
	test_db_exec(conn, sql);
	PQfinish(conn);
}

void
test_db_drop(const char *base, const char *name)
{
	char	 sql[256];
	PGconn	*conn;

	conn = test_db_open(base, NULL);
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	test_db_exec(conn, sql);
	PQfinish(conn);
}
