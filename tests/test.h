/*
 * test.h: what every check_<module>.c shares. Each test program defines
 * test_suite(); test_main.c runs it.
 */
#ifndef TEST_H
#define TEST_H

#include <check.h>

#include "buf.h"

Suite	*test_suite(void);

/*
 * Load tests/data/<dir>/<file> into b (buf_init'ed by the caller with a
 * max); fails the test when it can't. Returns the full path (static).
 */
const char *test_load(struct buf *b, const char *dir, const char *file);
/* Full path of tests/data/<dir>/<file> (static buffer). */
const char *test_path(const char *dir, const char *file);
/*
 * The conninfo of the test PostgreSQL (DMARCD_TEST_DB), or NULL: tests
 * that need it call test_need_db() which fails under CI=true and skips
 * (exit 77) otherwise.
 */
const char *test_need_db(void);

/*
 * The test Dovecot that tests/dovecot.sh started (DOVECOT_DIR, DOVECOT_PORT,
 * DOVECOT_CA, DOVECOT_OTHER_CA, DOVECOT_USER, DOVECOT_PASSWORD_FILE in the
 * environment): like test_need_db(), fails under CI=true when missing and
 * skips otherwise. Returns DOVECOT_DIR.
 */
const char *test_need_dovecot(void);

#endif /* TEST_H */
