/*
 * test_main.c: the main() of every check_<module> program.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "log.h"

const char *
test_path(const char *dir, const char *file)
{
	static char	 path[PATH_MAX];
	const char	*top = getenv("DM_TESTDATA");

	if (top == NULL)
		top = "tests/data";
	snprintf(path, sizeof(path), "%s/%s/%s", top, dir, file);
	return path;
}

const char *
test_load(struct buf *b, const char *dir, const char *file)
{
	const char	*path = test_path(dir, file);
	int		 fd, rc;

	fd = open(path, O_RDONLY);
	ck_assert_msg(fd != -1, "cannot open %s", path);
	rc = buf_read_fd(b, fd);
	close(fd);
	ck_assert_msg(rc == 0, "cannot read %s (%d)", path, rc);
	return path;
}

const char *
test_need_db(void)
{
	const char	*db = getenv("DMARCD_TEST_DB");
	const char	*ci = getenv("CI");

	if (db != NULL && *db != '\0')
		return db;
	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "DMARCD_TEST_DB is not set under CI\n");
		exit(1);
	}
	fprintf(stderr, "DMARCD_TEST_DB not set: skipping\n");
	exit(77);
}

const char *
test_need_dovecot(void)
{
	const char	*dir = getenv("DOVECOT_DIR");
	const char	*ci = getenv("CI");

	if (dir != NULL && *dir != '\0' && getenv("DOVECOT_PORT") != NULL)
		return dir;
	if (ci != NULL && strcmp(ci, "true") == 0) {
		fprintf(stderr, "DOVECOT_DIR is not set under CI\n");
		exit(1);
	}
	fprintf(stderr, "DOVECOT_DIR not set: skipping\n");
	exit(77);
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	log_init("test", getenv("DM_TEST_VERBOSE") ? LOG_LDEBUG : LOG_LQUIET);
	sr = srunner_create(test_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
