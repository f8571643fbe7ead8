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
#include "test_db.h"
#include "test_dmarcq.h"
#include "buf.h"
#include "util.h"

void
dmarcq_db_create(const char *name, int schema, char *out, size_t outlen)
{
	const char	*base = test_need_db();
	PGconn		*conn;

	test_db_create(base, name);
	conn = test_db_open(base, name);
	test_db_conninfo(conn, out, outlen);
	PQfinish(conn);
	if (schema)
		test_db_migrate(out);
}

void
dmarcq_db_load(const char *conninfo, const char *dir, const char *file)
{
	PGconn	*conn;

	conn = test_db_open(conninfo, NULL);
	test_db_exec(conn, "SET client_min_messages TO warning");
	test_db_exec_file(conn, test_path(dir, file));
	PQfinish(conn);
}

void
dmarcq_db_drop(const char *name)
{
	test_db_drop(test_need_db(), name);
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
