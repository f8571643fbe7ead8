/*
 * test_dmarcq.h: what the tests of dmarcq share (check_query,
 * check_html): a fresh database on the test PostgreSQL with the schema
 * and the fixtures of tests/data/ (on test_db.h), and running the built
 * src/dmarcq.
 */
#ifndef TEST_DMARCQ_H
#define TEST_DMARCQ_H

#include <stddef.h>

/*
 * Create the database name on the server of DMARCD_TEST_DB (dropping a
 * left-over one), UTF-8; with schema, every migration as dmarcd
 * migrate applies them. Writes a key=value conninfo of it to out.
 * Setup runs before the tests fork: a failure exits 1.
 */
void	dmarcq_db_create(const char *name, int schema, char *out,
	    size_t outlen);
/* Run the SQL of tests/data/<dir>/<file> in the database conninfo. */
void	dmarcq_db_load(const char *conninfo, const char *dir,
	    const char *file);
void	dmarcq_db_drop(const char *name);

struct bin {
	int	 status;	/* exit status */
	char	*out, *err;	/* what it wrote (free) */
};

/*
 * Run src/dmarcq (under DM_BUILDDIR) with the arguments that follow
 * env_db, NULL-terminated (at most 14), with DMARCD_DB set to env_db
 * (NULL: unset). Fails the test when it does not exit.
 */
void	run_bin(struct bin *r, const char *env_db, ...);
void	bin_free(struct bin *r);

#endif /* TEST_DMARCQ_H */
