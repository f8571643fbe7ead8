/*
 * import.h: "dmarcd import": paths through the ingest pipeline, in this
 * process or spread over worker processes with a connection each.
 */
#ifndef IMPORT_H
#define IMPORT_H
#include "ingest.h"

struct dm_err;
struct store;

#define IMPORT_JOBS_MAX	64

struct import {
	const struct dm_limits	*lim;
	struct ingest_failure	 failure;
	unsigned		 jobs;		/* worker processes; 1: none */
	/*
	 * The parent's connection, schema checked, or NULL for a dry run.
	 * import_run owns it: with workers it is closed before they start
	 * and each opens its own through connect.
	 */
	struct store		*st;
	struct store		*(*connect)(void *arg, struct dm_err *err);
	void			*arg;
	struct ingest_stats	 stats;		/* out: the lines printed */
};

/* The default number of workers: the online CPUs, at most 4. */
unsigned	import_default_jobs(void);
/*
 * Import every path ("-": standard input), printing one line per report
 * or rejected input on standard output, in the order of the paths and
 * of their walk whatever the number of workers. Returns 0, or -1 when
 * the store failed (logged with the input): the run stopped there, and
 * the input in hand was rolled back.
 */
int	import_run(struct import *im, char **paths, int npaths);
#endif /* IMPORT_H */
