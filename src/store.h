/*
 * store.h: PostgreSQL (libpq). One transaction per report, records
 * through COPY, the ingest ledger, migrations. Knows the report model,
 * not where reports come from.
 */
#ifndef STORE_H
#define STORE_H

#include <stdint.h>

#include "dm.h"
#include "report.h"

struct store;

/*
 * Connect with a libpq conninfo or URI (NULL or "": libpq's defaults,
 * PGHOST etc.). Returns a new store (store_free()), or NULL with err
 * set (DM_ESTORE: unreachable; the message says host and why).
 */
struct store	*store_open(const char *conninfo, struct dm_err *err);
void		 store_free(struct store *st);

/*
 * The migrations, sql/NNN_name.sql compiled into the binary by
 * sql/embed.sh (so an installed binary and one in the build tree find
 * the same ones), in order; the table ends with a NULL name.
 */
struct store_migration {
	int		 version;	/* NNN */
	const char	*name;		/* "001_schema.sql" */
	const char	*sql;
};
extern const struct store_migration store_migrations[];

/* The newest migration's version: the schema this build writes and reads. */
int	store_newest_migration(void);

/*
 * A connection libpq could not make (PGconn): err says "database
 * unreachable (host H, port P): " and libpq's whole message on one line,
 * its hint included; dmarcd and dmarcq say the same. Returns -1.
 */
struct pg_conn;
int	store_conn_failed(struct pg_conn *conn, struct dm_err *err);

/*
 * Apply the migrations that dmarc.schema_version does not list yet, in
 * order, each in its own transaction, under an advisory lock so that two
 * processes starting at once are safe. applied (may be NULL) gets how
 * many were applied. Returns 0 or -1 with err set.
 */
int	store_migrate(struct store *st, int *applied, struct dm_err *err);

/*
 * Fail unless the schema has been migrated to exactly the newest
 * migration this build knows (so import can say "run dmarcd migrate",
 * or that a newer dmarcd migrated it).
 */
int	store_check_schema(struct store *st, struct dm_err *err);

/* One input, as the ledger records it; all borrowed. */
struct store_input {
	const char	*source;	/* "file", "stdin", "imap:NAME", ... */
	const char	*input;		/* path, or mailbox location */
	const char	*mailbox;	/* NULL for files */
	uint32_t	 uidvalidity;	/* 0 when not from IMAP */
	uint32_t	 uid;
	const char	*message_id;	/* NULL when not a message */
	const char	*sha256;	/* hex SHA-256 of the report payload */
};

/*
 * Fill sink so that reports parsed next are stored for input in
 * (borrowed, must outlive the reports). begin() opens the transaction
 * and claims the report's identity (org_name, report_id, domain, begin,
 * end); a report already stored, or being stored by a concurrent
 * importer who then commits, makes begin() return 1. end() writes the
 * ledger row (stored or duplicate) and commits; abort() rolls back.
 */
void	store_sink(struct store *st, const struct store_input *in,
	    struct report_sink *sink);

/*
 * Record a rejected input (or one rejected report of it) in the ledger,
 * in its own transaction. org_name and report_id may be NULL.
 */
int	store_rejected(struct store *st, const struct store_input *in,
	    const char *org_name, const char *report_id, const char *reason,
	    struct dm_err *err);

/*
 * Store one failure report (one dmarc.failure_report row) and its ledger
 * row (org_name = the reporter) in one transaction. A report already
 * stored (same reporter, source IP, Arrival-Date and original
 * Message-ID) is a duplicate: only the ledger row is written. Privacy
 * settings are the caller's: what r holds is stored. Returns 0 stored,
 * 1 duplicate, -1 with err set (DM_EMSG: the database refused a value).
 */
struct ruf_report;
int	store_failure(struct store *st, const struct store_input *in,
	    const struct ruf_report *r, struct dm_err *err);

/*
 * Retention: delete the failure reports that arrived (Arrival-Date, or
 * when stored if it has none) more than days days ago; days 0 deletes
 * nothing. deleted (may be NULL) gets how many. Returns 0 or -1 (err).
 */
int	store_failure_expire(struct store *st, unsigned days,
	    long long *deleted, struct dm_err *err);

/*
 * Has the ledger seen this input (source and input as in store_input)?
 * The daemon asks before fetching a message again, so that a crash
 * between COMMIT and the ack at the server doesn't import it twice.
 * Returns 1 (and *rejected: whether any of its reports was rejected),
 * 0 when not seen, -1 with err set.
 */
int	store_ledger_find(struct store *st, const char *source,
	    const char *input, int *rejected, struct dm_err *err);

/*
 * A message the daemon is about to process, by the run owner (a token
 * unique to the process): noted and committed at once
 * (sql/005_attempt.sql), so that a message which kills the process is
 * recognised after the restart. *attempts gets how many runs started it
 * without finishing, this one included. Returns 0 or -1 (err).
 */
int	store_attempt_begin(struct store *st, const char *source,
	    const char *input, const char *owner, int *attempts,
	    struct dm_err *err);
/* The message is filed: forget its attempts. Returns 0 or -1 (err). */
int	store_attempt_end(struct store *st, const char *source,
	    const char *input, struct dm_err *err);

#endif /* STORE_H */
