/*
 * test_db.h: databases of their own for the tests that need PostgreSQL
 * (DMARCD_TEST_DB names the server). These run in a suite's unchecked
 * fixture, before the tests fork, not inside a test: a failure prints
 * "<program>: setup: <what>" and exits 1.
 */
#ifndef TEST_DB_H
#define TEST_DB_H

#include <stddef.h>

#include <libpq-fe.h>

/* Connect to base, or to database name (not NULL) on base's server. */
PGconn	*test_db_open(const char *base, const char *name);
/* Run sql (one or more statements) on conn. */
void	 test_db_exec(PGconn *conn, const char *sql);
/* Run the SQL file at path on conn. */
void	 test_db_exec_file(PGconn *conn, const char *path);
/* Apply the schema as dmarcd migrate does: every migration. */
void	 test_db_migrate(const char *conninfo);
/*
 * A key='value' conninfo for what conn is connected to, in out (at most
 * outlen bytes with the NUL).
 */
void	 test_db_conninfo(PGconn *conn, char *out, size_t outlen);
/*
 * Drop database name on base's server if it exists, then create it
 * (UTF8, from template0). name is an SQL identifier the caller made.
 */
void	 test_db_create(const char *base, const char *name);
/* Drop database name on base's server if it exists. */
void	 test_db_drop(const char *base, const char *name);

#endif /* TEST_DB_H */
