/*
 * ingest.h: the pipeline for one input, wired: detect what it is by its
 * bytes, take mail apart (mime), unpack containers (unpack), parse each
 * report (parse) into the store or, for a dry run, nowhere. Shared by
 * "dmarcd import" and the daemon's sources.
 */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "dm.h"

struct parse_summary;
struct ruf_report;
struct store;

enum ingest_outcome {
	INGEST_STORED = 0,
	INGEST_DUPLICATE,
	INGEST_REJECTED,
};

/* One line's worth: a report stored or a duplicate, or a rejection. */
struct ingest_result {
	enum ingest_outcome		 outcome;
	const char			*input;	/* path, "-", mailbox/UID */
	unsigned			 part;	/* MIME leaf, 0 if none */
	const char			*member;/* zip entry, escaped, or NULL */
	const char			*reason;/* rejected only */
	const char			*message_id; /* of a mail, or NULL */
	const struct parse_summary	*sum;	/* NULL when nothing parsed */
	const struct ruf_report		*ruf;	/* a failure report, or NULL */
};

struct ingest_stats {
	unsigned long	 stored, duplicate, rejected;
};

/* What of a failure report's original message is kept ([failure]). */
enum ingest_failure_store {
	INGEST_FAILURE_HEADERS = 0,	/* its headers, never its body */
	INGEST_FAILURE_FULL,		/* headers and body */
	INGEST_FAILURE_NONE,		/* only the feedback fields */
};

struct ingest_failure {
	int	 store;			/* enum ingest_failure_store */
	int	 hash_local_parts;	/* sha256:<hex>@domain */
};

struct ingest {
	const struct dm_limits	*lim;
	struct store		*st;		/* NULL: dry run */
	const char		*source;	/* ledger: "file", "stdin", ... */
	/* called once per report or rejected input; may be NULL */
	void			(*result)(void *arg,
				    const struct ingest_result *res);
	void			*arg;
	struct ingest_failure	 failure;	/* zero: the defaults */
	struct ingest_stats	 stats;
};

/* Once per process: libxml2 and GMime set-up. */
void	ingest_init(void);

/*
 * Ingest a path: a report file (XML, gzip, zip), a mail message, an mbox
 * file, a Maildir or any directory (recursively, in name order). Bad
 * input is counted and reported through ig->result, never an error here.
 * Returns 0, or -1 with err set when the store failed (DM_ESTORE: stop,
 * the input is left as it was) or path can't be read at all.
 */
int	ingest_path(struct ingest *ig, const char *path, struct dm_err *err);
/*
 * Walk path in the order ingest_path takes it (directories in name order,
 * recursively, dot files and a Maildir's tmp/ skipped): fn gets each path
 * that is not a directory, with why NULL, and each directory that can't
 * be listed, with why saying so. fn returns 0 to go on or -1 to stop the
 * walk, which then returns -1.
 */
typedef int	(*ingest_walk_fn)(void *arg, const char *path, const char *why);
int	ingest_walk(const char *path, ingest_walk_fn fn, void *arg);
/* The same for standard input (read whole, up to max_message). */
int	ingest_stdin(struct ingest *ig, struct dm_err *err);

/* Where a message came from, for the ledger; all borrowed. */
struct ingest_origin {
	const char	*input;		/* display name */
	const char	*mailbox;	/* NULL for files */
	uint32_t	 uidvalidity;
	uint32_t	 uid;
};

/*
 * Ingest one mail message held in memory (borrowed). Returns 0 (its
 * reports stored, duplicate or rejected: see ig->stats) or -1 with err
 * set when the store failed (DM_ESTORE): the message must not be acked.
 */
int	ingest_message(struct ingest *ig, const struct ingest_origin *org,
	    const unsigned char *msg, size_t len, struct dm_err *err);

/* Format res as an import line (DESIGN.md) into out; returns out. */
struct buf;
const char *ingest_format(const struct ingest_result *res, struct buf *out);

#endif /* INGEST_H */
