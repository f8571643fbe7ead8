/*
 * store.c: PostgreSQL through libpq. One transaction per report, its
 * records through one COPY (binary format, built here in a bounded
 * buffer) that runs from the first record to the end of the report, so
 * that the server stores while the parser parses; the ingest ledger, the
 * migrations.
 *
 * Report strings come from outside: they only ever travel as statement
 * parameters or as length-prefixed COPY fields, never as SQL text, and are
 * checked to be UTF-8 on the way (parse should already have done so).
 * A server error caused by the data (SQLSTATE classes 22, 23, 54: bad
 * value, check violation, too long for an index) is the report's fault
 * (DM_EMSG); anything else is the database's (DM_ESTORE).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "bounds.h"
#include "buf.h"
#include "log.h"
#include "ruf.h"
#include "store.h"
#include "util.h"

/* Held around the whole migration loop (session level). */
#define STORE_MIGRATE_LOCK	INT64_C(0x646d617263640001)	/* "dmarcd" 1 */

#define REC_CHUNK	(64u << 10)	/* rows handed to libpq at once */
#define REC_MAX		(4u << 20)	/* longest row, arrays and all */
#define COPY_AHEAD	(1u << 20)	/* COPY bytes queued before waiting */

/* Timestamps as PostgreSQL reads them: year 1970 to 9999. */
#define STORE_TIME_MAX	INT64_C(253402300799)

/* A COPY buffer: bounded, grown on demand. */
struct cbuf {
	char		*p;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
};

/*
 * The record COPY goes straight into the month's partition (named by
 * dmarc.ensure_record_partition()): routing each row through
 * dmarc.record cost the server 4.5% of the COPY. The partition still
 * checks its bounds and the parent's CHECKs, and the enumeration
 * columns' types their values (sql/007_enums.sql).
 */
static const char record_copy[] =
	"(rep_id, begin_time, domain, rec_no, source_ip, "
	"count, disposition, disposition_raw, dkim, dkim_raw, spf, spf_raw, "
	"envelope_to, envelope_from, header_from, "
	"reason_type, reason_type_raw, reason_comment, "
	"dkim_n, dkim1_domain, dkim1_selector, dkim1_result, "
	"dkim2_domain, dkim2_selector, dkim2_result, "
	"dkim_more_domain, dkim_more_selector, dkim_more_result, "
	"dkim_result_raw, dkim_human_result, "
	"spf_n, spf1_domain, spf1_scope, spf1_result, "
	"spf_more_domain, spf_more_scope, spf_scope_raw, spf_more_result, "
	"spf_result_raw, spf_human_result) FROM STDIN (FORMAT binary)";

/*
 * Most records fill only these: no raw value, no human_result, no
 * override reason, at most the DKIM and SPF results that have slots. A
 * report's COPY names only them until a record needs more (then that
 * COPY ends and a full one goes on in the same transaction): a column
 * left out costs the server nothing, sent NULL about 100 instructions a
 * row, and 17 of the full list are usually NULL.
 */
static const char record_copy_lean[] =
	"(rep_id, begin_time, domain, rec_no, source_ip, "
	"count, disposition, dkim, spf, "
	"envelope_to, envelope_from, header_from, "
	"dkim_n, dkim1_domain, dkim1_selector, dkim1_result, "
	"dkim2_domain, dkim2_selector, dkim2_result, "
	"spf_n, spf1_domain, spf1_scope, spf1_result) "
	"FROM STDIN (FORMAT binary)";

/*
 * The element types of the enumeration arrays, which a binary array
 * names (the server refuses another): their OIDs are the database's,
 * asked once per session.
 */
enum etype {
	ET_REASON,	/* reason_type */
	ET_DKIM,	/* dkim_result */
	ET_SCOPE,	/* spf_scope */
	ET_SPF,		/* spf_result */
	ET_N
};
static const char *const etype_names[ET_N] = { "dmarc.reason_type",
    "dmarc.dkim_result", "dmarc.spf_scope", "dmarc.spf_result" };

enum sstate {
	ST_IDLE,	/* no report open */
	ST_TXN,		/* BEGIN done, report row inserted */
	ST_DUP,		/* report already stored; no transaction open */
};

struct store {
	PGconn			*conn;
	int			 migrating;	/* notices worth an info line */
	unsigned		 prepared;	/* 1 << PS_*: on this session */
	uint32_t		 etype[ET_N];	/* 0: not asked yet */

	/* the report being stored */
	const struct store_input *in;
	enum sstate		 state;
	int			 copying;	/* the record COPY is open */
	size_t			 queued;	/* COPY bytes maybe not sent yet */
	long long		 rep_id;	/* 0: unknown (duplicate) */
	uint64_t		 nrec;
	uint64_t		 messages;
	/*
	 * The records' verdicts summed as they stream by, for the report
	 * row (sql/004_report_totals.sql): summaries read those, not the
	 * records. Each is at most messages.
	 */
	uint64_t		 dmarc_pass, dkim_aligned, spf_aligned;
	uint64_t		 quarantined, rejected;
	char			 id[24];	/* rep_id as text */
	struct cbuf		 prefix;	/* each row's first fields */
	struct cbuf		 rec;
	char			 copy_sql[1024];	/* the record COPY */
	char			 copy_lean_sql[1024];	/* the same, lean */
	int			 lean;		/* the report's COPY is lean */
	/*
	 * The month copy_sql's partition is for (YYYYMM), known to exist:
	 * the next report of that month skips dmarc.ensure_record_partition()
	 * and its round trip. Forgotten after any failure, so that a
	 * partition dropped meanwhile is made again on the next try (and
	 * so are the etype OIDs, should the types have been made again).
	 */
	int			 part_month;	/* 0: none */
};

/* --- errors ----------------------------------------------------------- */

/* The first line of s, without its newline, into out. */
static const char *
first_line(const char *s, char *out, size_t outlen)
{
	size_t	n;

	if (s == NULL || *s == '\0')
		s = "unknown error";
	n = strcspn(s, "\r\n");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/*
 * Set err from a failed result (res may be NULL: then from the
 * connection). Returns -1.
 */
static int
pq_err(struct store *st, const PGresult *res, const char *what,
    struct dm_err *err)
{
	const char	*msg = NULL, *state = NULL;
	char		 line[400];
	enum dm_scope	 scope = DM_ESTORE;

	if (res != NULL) {
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (msg == NULL)
			msg = PQresultErrorMessage(res);
	}
	if (msg == NULL || *msg == '\0')
		msg = PQerrorMessage(st->conn);
	/*
	 * A backend that was terminated says why before it hangs up (57P01
	 * admin shutdown, ...): the connection is gone all the same.
	 */
	if (PQstatus(st->conn) != CONNECTION_OK || (state != NULL &&
	    (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0))) {
		if (state == NULL)
			return dm_err_set(err, DM_ESTORE,
			    "database: connection lost");
		return dm_err_set(err, DM_ESTORE, "database: connection lost: "
		    "%s", first_line(msg, line, sizeof(line)));
	}
	if (state != NULL && (strncmp(state, "22", 2) == 0 ||
	    strncmp(state, "23", 2) == 0 || strncmp(state, "54", 2) == 0))
		scope = DM_EMSG;
	first_line(msg, line, sizeof(line));
	if (what != NULL)
		return dm_err_set(err, scope, "database: %s: %s", what, line);
	return dm_err_set(err, scope, "database: %s", line);
}

static void
notice(void *arg, const char *msg)
{
	struct store	*st = arg;
	char		 line[400];

	first_line(msg, line, sizeof(line));
	if (st->migrating)
		log_info("database: %s", line);
	else
		log_debug("database: %s", line);
}

/* --- statements ------------------------------------------------------- */

/* Run a statement without parameters that returns no rows. */
static int
exec_cmd(struct store *st, const char *sql, struct dm_err *err)
{
	PGresult	*res;
	int		 rc = 0;

	res = PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = pq_err(st, res, NULL, err);
	PQclear(res);
	return rc;
}

/* Run a parameterised statement; returns its result or NULL (err set). */
static PGresult *
exec_params(struct store *st, const char *sql, int n,
    const char *const *vals, struct dm_err *err)
{
	PGresult	*res;

	res = PQexecParams(st->conn, sql, n, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		pq_err(st, res, NULL, err);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * Statements that go out together and come back together (libpq's
 * pipeline mode): one round trip for what would be several. A report
 * costs four round trips this way instead of eight, which is what a
 * mailbox of small reports spends its time on. sync ends a group: the
 * server runs each group in its own implicit transaction (or in the
 * explicit one it BEGINs), and skips the rest of a group after an error.
 */
/*
 * The statements every report runs, prepared once per session: parsing
 * and planning them each time cost the server 0.4 ms a report, a third
 * of what a 20-record report costs it besides its COPY.
 */
enum prepared {
	PS_NONE,
	PS_PARTITION,
	PS_REPORT,
	PS_TOTALS,
	PS_LEDGER,
};

struct stmt {
	enum prepared		 ps;		/* or PS_NONE: sql as it is */
	const char		*sql;
	int			 n;
	const char *const	*vals;
	int			 sync;		/* a group ends here */
	PGresult		*res;		/* kept when keep is set */
	int			 keep;
};

static int	session_setup(struct store *, struct dm_err *);

static void
ps_name(enum prepared ps, char out[16])
{
	snprintf(out, 16, "dmarcd_%d", (int)ps);
}

/* Prepare s on this session unless it is already. */
static int
prepare(struct store *st, const struct stmt *s, struct dm_err *err)
{
	PGresult	*res;
	char		 name[16];
	int		 rc = 0;

	if (s->ps == PS_NONE || (st->prepared & (1u << s->ps)))
		return 0;
	ps_name(s->ps, name);
	res = PQprepare(st->conn, name, s->sql, s->n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = pq_err(st, res, NULL, err);
	else
		st->prepared |= 1u << s->ps;
	PQclear(res);
	return rc;
}

/*
 * Run the statements; the last one must end a group. Returns 0, or -1
 * with err set from the first statement that failed (its index in
 * *failed when failed is not NULL). The results kept belong to the
 * caller (PQclear) whether or not it failed.
 */
static int
exec_pipeline(struct store *st, struct stmt *s, int n, int *failed,
    struct dm_err *err)
{
	PGresult	*res;
	struct dm_err	 serr;
	char		 name[16];
	int		 i, rc = 0, sent = 0, extra = 0, ok;

	if (failed != NULL)
		*failed = -1;
	for (i = 0; i < n; i++)
		s[i].res = NULL;
	for (i = 0; i < n; i++)
		if (prepare(st, &s[i], err) == -1)
			return -1;
	if (PQenterPipelineMode(st->conn) != 1)
		return pq_err(st, NULL, NULL, err);
	for (i = 0; i < n; i++) {
		ps_name(s[i].ps, name);
		if ((s[i].ps == PS_NONE ? PQsendQueryParams(st->conn,
		    s[i].sql, s[i].n, NULL, s[i].vals, NULL, NULL, 0) :
		    PQsendQueryPrepared(st->conn, name, s[i].n, s[i].vals,
		    NULL, NULL, 0)) != 1 ||
		    (s[i].sync && PQpipelineSync(st->conn) != 1))
			break;
		sent = i + 1;
	}
	if (sent < n) {
		/* could not send: the connection is most likely gone */
		rc = pq_err(st, NULL, NULL, err);
		if (failed != NULL)
			*failed = sent;
		if (sent > 0 && !s[sent - 1].sync &&
		    PQpipelineSync(st->conn) == 1)
			extra = 1;	/* end the group that was sent */
	}
	/* each statement's result, then a NULL; each group's SYNC */
	for (i = 0; i < sent; i++) {
		if ((res = PQgetResult(st->conn)) == NULL) {
			if (rc == 0) {
				rc = pq_err(st, NULL, NULL, err);
				if (failed != NULL)
					*failed = i;
			}
			break;
		}
		ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK;
		if (!ok && rc == 0) {
			rc = pq_err(st, res, NULL, err);
			if (failed != NULL)
				*failed = i;
		}
		if (ok && s[i].keep)
			s[i].res = res;
		else
			PQclear(res);
		while ((res = PQgetResult(st->conn)) != NULL)
			PQclear(res);
		if (s[i].sync)
			PQclear(PQgetResult(st->conn));
		if (extra && i == sent - 1)
			PQclear(PQgetResult(st->conn));
		if (PQstatus(st->conn) != CONNECTION_OK)
			break;
	}
	if (PQexitPipelineMode(st->conn) != 1) {
		if (rc == 0)
			rc = pq_err(st, NULL, NULL, err);
		/*
		 * Results left uncollected on a live connection: the session
		 * is out of step. Start a new one (the server rolls the old
		 * one's transaction back); a lost one alive() reconnects.
		 */
		if (PQstatus(st->conn) == CONNECTION_OK) {
			log_warnx("database: pipeline out of step, "
			    "reconnecting");
			PQreset(st->conn);
			if (PQstatus(st->conn) == CONNECTION_OK)
				(void)session_setup(st, &serr);
		}
	}
	return rc;
}

/* After a connect or reset: settings that conninfo can't force. */
static int
session_setup(struct store *st, struct dm_err *err)
{
	st->prepared = 0;	/* a new session has none */
	/* and may be with another server, whose OIDs are its own */
	memset(st->etype, 0, sizeof(st->etype));
	return exec_cmd(st, "SET TimeZone TO 'UTC'", err);
}

/* What the session knows of the schema may be stale: forget it. */
static void
forget_schema(struct store *st)
{
	st->part_month = 0;
	memset(st->etype, 0, sizeof(st->etype));
}

/* Ask for the etype OIDs unless known; all in one statement. */
static int
etype_oids(struct store *st, struct dm_err *err)
{
	PGresult	*res;
	size_t		 i;
	int		 rc = 0;

	if (st->etype[0] != 0)
		return 0;
	res = exec_params(st, "SELECT to_regtype($1)::oid, "
	    "to_regtype($2)::oid, to_regtype($3)::oid, to_regtype($4)::oid",
	    ET_N, etype_names, err);
	if (res == NULL)
		return -1;
	for (i = 0; i < ET_N; i++) {
		if (PQntuples(res) != 1 || PQgetisnull(res, 0, i)) {
			rc = dm_err_set(err, DM_ESTORE, "database: no type %s: "
			    "run 'dmarcd migrate'", etype_names[i]);
			break;
		}
		st->etype[i] = (uint32_t)strtoul(PQgetvalue(res, 0, i), NULL,
		    10);
	}
	PQclear(res);
	if (rc == -1)
		memset(st->etype, 0, sizeof(st->etype));
	return rc;
}

/* Reconnect a connection that was lost, once. */
static int
alive(struct store *st, struct dm_err *err)
{
	if (PQstatus(st->conn) == CONNECTION_OK)
		return 0;
	PQreset(st->conn);
	if (PQstatus(st->conn) != CONNECTION_OK)
		return dm_err_set(err, DM_ESTORE, "database: connection lost");
	log_info("database: reconnected");
	return session_setup(st, err);
}

/* --- open ------------------------------------------------------------- */

int
store_conn_failed(PGconn *conn, struct dm_err *err)
{
	const char	*host = PQhost(conn), *port = PQport(conn);
	char		 msg[400];

	return dm_err_set(err, DM_ESTORE, "database unreachable (host %s, "
	    "port %s): %s", host != NULL && *host != '\0' ? host : "default",
	    port != NULL && *port != '\0' ? port : "default",
	    dm_one_line(PQerrorMessage(conn), msg, sizeof(msg)));
}

struct store *
store_open(const char *conninfo, struct dm_err *err)
{
	const char	*keys[5], *vals[5];
	struct store	*st;
	PQconninfoOption *opts;
	char		*perr = NULL, line[400];
	int		 n = 0;

	if (conninfo != NULL && *conninfo != '\0') {
		if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
			if (perr == NULL) {
				dm_err_set(err, DM_EINTERNAL,
				    "database: out of memory");
				return NULL;
			}
			dm_err_set(err, DM_ECONFIG, "database: bad conninfo: %s",
			    first_line(perr, line, sizeof(line)));
			PQfreemem(perr);
			return NULL;
		}
		PQconninfoFree(opts);
	}

	/*
	 * Defaults before dbname, which the conninfo expands into and may
	 * override them: without a timeout an unreachable host hangs for
	 * minutes (as in dmarcq). client_encoding after: we send UTF-8.
	 */
	keys[n] = "application_name";
	vals[n++] = "dmarcd";
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[n] = "connect_timeout";
		vals[n++] = "10";
	}
	keys[n] = "dbname";
	vals[n++] = conninfo;
	keys[n] = "client_encoding";
	vals[n++] = "UTF8";
	keys[n] = vals[n] = NULL;

	st = xcalloc(1, sizeof(*st));
	st->rec.max = REC_CHUNK + REC_MAX;
	st->prefix.max = 4096;
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (st->conn == NULL) {
		free(st);
		dm_err_set(err, DM_EINTERNAL, "database: out of memory");
		return NULL;
	}
	PQsetNoticeProcessor(st->conn, notice, st);
	if (PQstatus(st->conn) != CONNECTION_OK) {
		store_conn_failed(st->conn, err);
		store_free(st);
		return NULL;
	}
	if (session_setup(st, err) == -1) {
		store_free(st);
		return NULL;
	}
	return st;
}

static void
cbuf_free(struct cbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	PQfinish(st->conn);
	cbuf_free(&st->prefix);
	cbuf_free(&st->rec);
	free(st);
}

/* --- migrations ------------------------------------------------------- */

int
store_newest_migration(void)
{
	const struct store_migration	*m;
	int				 v = 0;

	for (m = store_migrations; m->name != NULL; m++)
		if (m->version > v)
			v = m->version;
	return v;
}

/*
 * Which migrations are recorded: sets have[v] for v <= maxv. A missing
 * dmarc.schema_version means none.
 */
/*
 * A store migrated by a newer dmarcd: this one would write rows its
 * schema no longer has (009 renamed columns), so it stops and says why
 * instead of failing at every report.
 */
static int
newer_schema(int top, int maxv, struct dm_err *err)
{
	return dm_err_set(err, DM_ESTORE, "database: schema version %d is "
	    "newer than this dmarcd knows (%d): upgrade dmarcd", top, maxv);
}

static int
applied_versions(struct store *st, char *have, int maxv, int *top,
    struct dm_err *err)
{
	PGresult	*res;
	int		 i, v;

	*top = 0;
	memset(have, 0, maxv + 1);
	res = exec_params(st, "SELECT to_regclass('dmarc.schema_version') "
	    "IS NOT NULL", 0, NULL, err);
	if (res == NULL)
		return -1;
	v = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!v)
		return 0;
	if ((res = exec_params(st, "SELECT version FROM dmarc.schema_version",
	    0, NULL, err)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(res); i++) {
		v = atoi(PQgetvalue(res, i, 0));
		if (v > *top)
			*top = v;
		if (v >= 0 && v <= maxv)
			have[v] = 1;
	}
	PQclear(res);
	return 0;
}

static int
apply_migration(struct store *st, const struct store_migration *m,
    struct dm_err *err)
{
	PGresult	*res;
	char		 ver[16], what[80];
	const char	*vals[2];

	snprintf(what, sizeof(what), "migration %s", m->name);
	if (exec_cmd(st, "BEGIN", err) == -1)
		return -1;
	res = PQexec(st->conn, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		pq_err(st, res, what, err);
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	snprintf(ver, sizeof(ver), "%d", m->version);
	vals[0] = ver;
	vals[1] = m->name;
	if ((res = exec_params(st, "INSERT INTO dmarc.schema_version "
	    "(version, name) VALUES ($1, $2)", 2, vals, err)) == NULL)
		goto fail;
	PQclear(res);
	if (exec_cmd(st, "COMMIT", err) == -1)
		goto fail;
	log_info("database: applied migration %s", m->name);
	return 0;
 fail:
	if (PQstatus(st->conn) == CONNECTION_OK)
		PQclear(PQexec(st->conn, "ROLLBACK"));
	/* Any error in a migration is the database's, not a message's. */
	err->scope = DM_ESTORE;
	return -1;
}

int
store_migrate(struct store *st, int *applied, struct dm_err *err)
{
	const struct store_migration	*m;
	PGresult			*res;
	char				*have = NULL, key[32];
	const char			*vals[1];
	int				 maxv, top, n = 0, rc = -1;

	if (applied != NULL)
		*applied = 0;
	if (st->state != ST_IDLE)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: migrate while a report is open");
	if (alive(st, err) == -1)
		return -1;
	maxv = store_newest_migration();
	have = xcalloc(maxv + 1, 1);
	snprintf(key, sizeof(key), "%" PRId64, STORE_MIGRATE_LOCK);
	vals[0] = key;
	if ((res = exec_params(st, "SELECT pg_advisory_lock($1::bigint)", 1,
	    vals, err)) == NULL)
		goto out;
	PQclear(res);
	st->migrating = 1;
	if (applied_versions(st, have, maxv, &top, err) == -1)
		goto unlock;
	if (top > maxv) {
		newer_schema(top, maxv, err);
		goto unlock;
	}
	for (m = store_migrations; m->name != NULL; m++) {
		if (have[m->version])
			continue;
		if (apply_migration(st, m, err) == -1)
			goto unlock;
		n++;
	}
	rc = 0;
	if (applied != NULL)
		*applied = n;
 unlock:
	st->migrating = 0;
	if (PQstatus(st->conn) == CONNECTION_OK)
		PQclear(PQexecParams(st->conn,
		    "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, vals,
		    NULL, NULL, 0));
 out:
	free(have);
	return rc;
}

int
store_check_schema(struct store *st, struct dm_err *err)
{
	char	*have;
	int	 maxv, top, rc;

	if (alive(st, err) == -1)
		return -1;
	maxv = store_newest_migration();
	have = xcalloc(maxv + 1, 1);
	rc = applied_versions(st, have, maxv, &top, err);
	free(have);
	if (rc == -1)
		return -1;
	if (top > maxv)
		return newer_schema(top, maxv, err);
	if (top < maxv)
		return dm_err_set(err, DM_ESTORE, "database: schema version "
		    "%d, this dmarcd needs %d: run 'dmarcd migrate'", top,
		    maxv);
	return 0;
}

/* --- COPY binary ------------------------------------------------------ */

/*
 * The record COPY is in binary format: nothing to escape here, and no
 * text for the server to parse (array literals, addresses and times
 * cost it more than storing the rows). A row is its field count (int16)
 * and each field as its length (int32, -1 for NULL) and the type's send
 * format, big-endian:
 *   bigint, int	8 or 4 bytes
 *   timestamptz	int64 microseconds since 2000-01-01 00:00:00 UTC
 *   inet		family (PGSQL_AF_INET 2, PGSQL_AF_INET6 3), mask
 *			bits, is_cidr (ignored), address length, address
 *   text		the bytes; the server checks their encoding, we
 *			check first to name the record
 *   text[]		ndim (1), has-NULLs flag, element type (text, or
 *			the enum's: see etype), length and lower bound (1),
 *			then each element as a text field (an enum's send
 *			format is its label's text, as a scalar's is)
 * The stream opens with a header and ends with a field count of -1.
 */
#define PG_TEXTOID	25
#define PGSQL_AF_INET	2		/* the server's AF_INET: 2 anywhere */
#define PGSQL_AF_INET6	3		/* AF_INET + 1, not AF_INET6 */
#define PG_EPOCH	INT64_C(946684800)	/* 2000-01-01, Unix time */
#define REC_FIELDS	40		/* the columns of record_copy */
#define REC_FIELDS_LEAN	23		/* of record_copy_lean */
#define DKIM_SLOTS	2		/* DKIM results with columns of their own */

static const char copy_header[] =
    "PGCOPY\n\377\r\n\0"	/* signature */
    "\0\0\0\0"			/* flags: no OIDs */
    "\0\0\0\0";			/* no header extension */

static int
cbuf_grow(struct cbuf *b, size_t n)
{
	size_t	want, cap;

	if (n > b->max - b->len)
		return -1;
	want = b->len + n;
	cap = b->cap == 0 ? 4096 : b->cap;
	while (cap < want)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	b->p = xreallocarray(b->p, cap, 1);
	b->cap = cap;
	return 0;
}

/*
 * Make room for n more bytes; -1 when that would pass b->max. Called for
 * every field: the room is almost always there.
 */
static inline int
cbuf_reserve(struct cbuf *b, size_t n)
{
	if (n <= b->cap - b->len)
		return 0;
	return cbuf_grow(b, n);
}

static int
put_raw(struct cbuf *b, const char *s, size_t n)
{
	if (cbuf_reserve(b, n) == -1)
		return -1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

static void
be16(char *d, uint16_t v)
{
	d[0] = (char)(v >> 8);
	d[1] = (char)v;
}

static void
be32(char *d, uint32_t v)
{
	d[0] = (char)(v >> 24);
	d[1] = (char)(v >> 16);
	d[2] = (char)(v >> 8);
	d[3] = (char)v;
}

static void
be64(char *d, uint64_t v)
{
	be32(d, (uint32_t)(v >> 32));
	be32(d + 4, (uint32_t)v);
}

static int
put_int4(struct cbuf *b, int32_t v)
{
	if (cbuf_reserve(b, 8) == -1)
		return -1;
	be32(b->p + b->len, 4);
	be32(b->p + b->len + 4, (uint32_t)v);
	b->len += 8;
	return 0;
}

static int
put_int8(struct cbuf *b, int64_t v)
{
	if (cbuf_reserve(b, 12) == -1)
		return -1;
	be32(b->p + b->len, 8);
	be64(b->p + b->len + 4, (uint64_t)v);
	b->len += 12;
	return 0;
}

/* Epoch seconds (0 to STORE_TIME_MAX, checked by the caller). */
static int
put_time(struct cbuf *b, int64_t t)
{
	return put_int8(b, (t - PG_EPOCH) * 1000000);
}

/*
 * A text field (NULL when s is). Returns 0, -1 when b is full, -2 when
 * s is not UTF-8.
 */
static int
put_text(struct cbuf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, i;

	if (s == NULL) {
		if (cbuf_reserve(b, 4) == -1)
			return -1;
		be32(b->p + b->len, UINT32_MAX);	/* -1 */
		b->len += 4;
		return 0;
	}
	/* Mostly ASCII: the decoder only from the first byte that isn't. */
	for (i = 0; p[i] != '\0' && p[i] < 0x80; i++)
		;
	n = i + strlen(s + i);
	if (i < n && !is_utf8(s + i, n - i))
		return -2;
	if (n > INT32_MAX || cbuf_reserve(b, 4 + n) == -1)
		return -1;
	be32(b->p + b->len, (uint32_t)n);
	memcpy(b->p + b->len + 4, s, n);
	b->len += 4 + n;
	return 0;
}

/* How many results of a kind a record has, as smallint: NULL for none. */
static int
put_count(struct cbuf *b, size_t n)
{
	if (n == 0)
		return put_text(b, NULL);
	if (cbuf_reserve(b, 6) == -1)
		return -1;
	be32(b->p + b->len, 2);
	be16(b->p + b->len + 4, (uint16_t)n);	/* n <= DM_MAX_AUTH_DKIM */
	b->len += 6;
	return 0;
}

/*
 * An inet field from the nb bytes of an address at a (as dm_ip_parse()
 * reads it: 4 is IPv4, 16 IPv6, an IPv4-mapped one included, as
 * PostgreSQL reads it). Returns 0, -1 when b is full, -3 when nb is
 * neither.
 */
static int
put_inet(struct cbuf *b, const unsigned char *a, int nb)
{
	char		*d;
	int		 fam;

	if (nb == 4)
		fam = PGSQL_AF_INET;
	else if (nb == 16)
		fam = PGSQL_AF_INET6;
	else
		return -3;
	if (cbuf_reserve(b, 8 + nb) == -1)
		return -1;
	d = b->p + b->len;
	be32(d, 4 + nb);
	d[4] = (char)fam;
	d[5] = (char)(nb * 8);		/* a host: all bits */
	d[6] = 0;			/* inet, not cidr */
	d[7] = (char)nb;
	memcpy(d + 8, a, nb);
	b->len += 8 + nb;
	return 0;
}

/*
 * The array field (of element type elemtype: text or an enum) of one
 * member of an array of n structs (size bytes each, the member's const
 * char * at off). NULL when n is 0, or when every element would be NULL
 * unless always: the views unnest a kind's arrays in parallel, padding
 * with NULLs, and count its entries by the one array written always.
 */
static int
put_array(struct cbuf *b, const void *base, size_t n, size_t size,
    size_t off, uint32_t elemtype, int always)
{
	const char	*s;
	size_t		 i, start;
	int		 r, any = 0, nulls = 0;

	for (i = 0; i < n; i++) {
		if (*(const char *const *)((const char *)base + i * size +
		    off) != NULL)
			any = 1;
		else
			nulls = 1;
	}
	if (n == 0 || !(any || always))
		return put_text(b, NULL);
	if (n > INT32_MAX || cbuf_reserve(b, 24) == -1)
		return -1;
	start = b->len;
	/* its length, patched below; ndim, flags, type, dim, lower bound */
	be32(b->p + start + 4, 1);
	be32(b->p + start + 8, nulls);
	be32(b->p + start + 12, elemtype);
	be32(b->p + start + 16, (uint32_t)n);
	be32(b->p + start + 20, 1);
	b->len += 24;
	for (i = 0; i < n; i++) {
		s = *(const char *const *)((const char *)base + i * size + off);
		if ((r = put_text(b, s)) != 0)
			return r;
	}
	/* b->max keeps a field far below 2 GB */
	be32(b->p + start, (uint32_t)(b->len - start - 4));
	return 0;
}

/*
 * What every row of the report starts with: the field count, rep_id,
 * begin_time, domain.
 */
static int
put_prefix(struct cbuf *b, long long rep_id, int64_t begin,
    const char *domain)
{
	if (cbuf_reserve(b, 2) == -1)
		return -1;
	be16(b->p + b->len, REC_FIELDS);
	b->len += 2;
	if (put_int8(b, rep_id) == -1 || put_time(b, begin) == -1)
		return -1;
	return put_text(b, domain);
}

/* --- the sink --------------------------------------------------------- */

/*
 * Wait until libpq has handed everything queued to the socket (the COPY
 * runs non-blocking). Returns 0, or -1 when the connection failed.
 */
static int
copy_drain(struct store *st)
{
	struct pollfd	 pfd;
	int		 rc;

	while ((rc = PQflush(st->conn)) == 1) {
		pfd.fd = PQsocket(st->conn);
		pfd.events = POLLOUT;
		if (pfd.fd < 0 || (poll(&pfd, 1, -1) == -1 && errno != EINTR))
			return -1;
	}
	st->queued = 0;
	return rc == 0 ? 0 : -1;
}

/* Back to blocking mode, everything queued sent (or the connection lost). */
static void
blocking(struct store *st)
{
	if (PQisnonblocking(st->conn)) {
		if (PQstatus(st->conn) == CONNECTION_OK)
			(void)copy_drain(st);
		PQsetnonblocking(st->conn, 0);
	}
}

/* Drain results after a COPY ends; 0 if it succeeded. */
static int
copy_finish(struct store *st, struct dm_err *err)
{
	PGresult	*res;
	int		 rc = 0, failed = 0;

	blocking(st);
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_COPY_IN) {
			/* Still in COPY: we can't have ended it. */
			PQclear(res);
			if (PQputCopyEnd(st->conn, "dmarcd: abort") != 1)
				break;
			continue;
		}
		if (!failed && PQresultStatus(res) != PGRES_COMMAND_OK) {
			rc = pq_err(st, res, NULL, err);
			failed = 1;
		}
		PQclear(res);
		if (PQstatus(st->conn) != CONNECTION_OK)
			break;
	}
	if (rc == 0 && PQstatus(st->conn) != CONNECTION_OK)
		rc = dm_err_set(err, DM_ESTORE, "database: connection lost");
	return rc;
}

static int
copy_start(struct store *st, const char *sql, struct dm_err *err)
{
	PGresult	*res;
	int		 rc = 0;

	res = PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		rc = pq_err(st, res, NULL, err);
	else if (PQsetnonblocking(st->conn, 1) == -1)
		rc = dm_err_set(err, DM_ESTORE, "database: %s",
		    PQerrorMessage(st->conn));
	st->queued = 0;
	PQclear(res);
	return rc;
}

/* The record COPY into partition part (named as the server named it). */
static int
copy_sql_for(struct store *st, const char *part, struct dm_err *err)
{
	char	*id;
	int	 n;

	if ((id = PQescapeIdentifier(st->conn, part, strlen(part))) == NULL)
		return dm_err_set(err, DM_ESTORE, "database: partition: %s",
		    PQerrorMessage(st->conn));
	n = snprintf(st->copy_sql, sizeof(st->copy_sql), "COPY dmarc.%s %s",
	    id, record_copy);
	if (n >= 0 && (size_t)n < sizeof(st->copy_sql))
		n = snprintf(st->copy_lean_sql, sizeof(st->copy_lean_sql),
		    "COPY dmarc.%s %s", id, record_copy_lean);
	PQfreemem(id);
	if (n < 0 || (size_t)n >= sizeof(st->copy_lean_sql))
		return dm_err_set(err, DM_ESTORE, "database: partition name "
		    "too long");
	return 0;
}

/*
 * Hand data to an open COPY; on failure, collect the server's error.
 * Rows are queued without waiting for the socket to take them, up to
 * COPY_AHEAD bytes: a Unix socket holds only about 200 KB, and a writer
 * that blocks each time it is full makes the server and the parser take
 * turns on one core (the big report imported 30% slower through it
 * than through TCP's larger buffers).
 */
static int
copy_put(struct store *st, const char *p, size_t len, struct dm_err *err)
{
	size_t	n;
	int	rc;

	while (len > 0) {
		n = len > (256u << 10) ? (256u << 10) : len;
		while ((rc = PQputCopyData(st->conn, p, (int)n)) == 0)
			if (copy_drain(st) == -1)	/* no room: wait */
				break;
		if (rc != 1 || (rc = PQflush(st->conn)) == -1)
			goto fail;
		st->queued = rc == 0 ? 0 : st->queued + n;
		if (st->queued > COPY_AHEAD && copy_drain(st) == -1)
			goto fail;
		p += n;
		len -= n;
	}
	return 0;
 fail:
	if (copy_finish(st, err) == 0)
		dm_err_set(err, DM_ESTORE, "database: COPY: %s",
		    PQerrorMessage(st->conn));
	return -1;
}

static int
copy_end(struct store *st, struct dm_err *err)
{
	int	 rc;

	while ((rc = PQputCopyEnd(st->conn, NULL)) == 0)
		if (copy_drain(st) == -1)
			break;
	if (rc != 1 || copy_drain(st) == -1) {
		if (copy_finish(st, err) == 0)
			dm_err_set(err, DM_ESTORE, "database: connection lost");
		return -1;
	}
	return copy_finish(st, err);
}

/* Send the buffered rows, ending the record COPY if asked. */
static int
flush_records(struct store *st, int end, struct dm_err *err)
{
	if (!st->copying)
		return 0;
	if (st->rec.len > 0) {
		if (copy_put(st, st->rec.p, st->rec.len, err) == -1) {
			st->copying = 0;
			return -1;
		}
		st->rec.len = 0;
	}
	if (end) {
		st->copying = 0;
		/* the trailer: a field count of -1 */
		if (copy_put(st, "\377\377", 2, err) == -1)
			return -1;
		return copy_end(st, err);
	}
	return 0;
}

/* Leave COPY mode and roll back whatever is open; forget the report. */
static void
reset(struct store *st)
{
	blocking(st);
	if (st->copying && PQstatus(st->conn) == CONNECTION_OK) {
		if (PQputCopyEnd(st->conn, "dmarcd: report aborted") == 1)
			while (1) {
				PGresult *res = PQgetResult(st->conn);

				if (res == NULL)
					break;
				PQclear(res);
				if (PQstatus(st->conn) != CONNECTION_OK)
					break;
			}
	}
	if (st->state == ST_TXN && PQstatus(st->conn) == CONNECTION_OK &&
	    PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		PQclear(PQexec(st->conn, "ROLLBACK"));
	st->copying = 0;
	st->state = ST_IDLE;
	st->rep_id = 0;
	st->id[0] = '\0';
	st->rec.len = 0;
	st->prefix.len = 0;
	/* A record with long texts grows the buffer: give the memory back. */
	if (st->rec.cap > REC_CHUNK * 2)
		cbuf_free(&st->rec);
}

static const char *
fmt_time(int64_t t, char out[80])
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		return NULL;
	snprintf(out, 80, "%04d-%02d-%02d %02d:%02d:%02d+00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return out;
}

static int
valid_text(const char *s)
{
	return s == NULL || is_utf8(s, strlen(s));
}

/*
 * A text[] literal of the report's errors into b ("{"a","b\"c"}"), or
 * NULL when there are none.
 */
static const char *
errors_array(const struct report *rep, struct buf *b)
{
	size_t		 i;
	const char	*s;

	if (rep->nerrors == 0)
		return NULL;
	buf_addc(b, '{');
	for (i = 0; i < rep->nerrors; i++) {
		if (i > 0)
			buf_addc(b, ',');
		buf_addc(b, '"');
		for (s = rep->errors[i]; s != NULL && *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *s);
		}
		buf_addc(b, '"');
	}
	if (buf_addc(b, '}') == -1)
		return NULL;
	return buf_cstr(b);
}

/* Text that the ledger can take: invalid UTF-8 escaped into b. */
static const char *
ledger_text(const char *s, struct buf *b)
{
	if (s == NULL || is_utf8(s, strlen(s)))
		return s;
	buf_reset(b);
	dm_escape(b, s, 0);
	return buf_cstr(b);
}

static const char ledger_sql[] =
    "INSERT INTO dmarc.ingest (source, input, mailbox, uidvalidity, "
    "uid, message_id, sha256, outcome, reason, org_name, report_id, "
    "rep_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

/* One ledger row's parameters, and the memory they point into. */
struct ledger_row {
	const char	*vals[12];
	struct buf	 tb[9];
	char		 uv[16], uid[16], rid[24];
};

static void
ledger_row_init(struct ledger_row *l, const struct store_input *in,
    const char *outcome, const char *reason, const char *org,
    const char *report_id, long long rep_id)
{
	const char	**vals = l->vals;
	size_t		 i;

	for (i = 0; i < nitems(l->tb); i++)
		buf_init(&l->tb[i], 4u << 20);
	vals[0] = ledger_text(in != NULL && in->source != NULL ? in->source :
	    "unknown", &l->tb[0]);
	vals[1] = ledger_text(in != NULL && in->input != NULL ? in->input : "",
	    &l->tb[1]);
	vals[2] = ledger_text(in != NULL ? in->mailbox : NULL, &l->tb[2]);
	vals[3] = vals[4] = NULL;
	if (in != NULL && (in->uidvalidity != 0 || in->uid != 0)) {
		snprintf(l->uv, sizeof(l->uv), "%" PRIu32, in->uidvalidity);
		snprintf(l->uid, sizeof(l->uid), "%" PRIu32, in->uid);
		vals[3] = l->uv;
		vals[4] = l->uid;
	}
	vals[5] = ledger_text(in != NULL ? in->message_id : NULL, &l->tb[3]);
	vals[6] = ledger_text(in != NULL ? in->sha256 : NULL, &l->tb[4]);
	vals[7] = outcome;
	vals[8] = ledger_text(reason, &l->tb[5]);
	vals[9] = ledger_text(org, &l->tb[6]);
	vals[10] = ledger_text(report_id, &l->tb[7]);
	vals[11] = NULL;
	if (rep_id > 0) {
		snprintf(l->rid, sizeof(l->rid), "%lld", rep_id);
		vals[11] = l->rid;
	}
}

static void
ledger_row_clear(struct ledger_row *l)
{
	size_t	 i;

	for (i = 0; i < nitems(l->tb); i++)
		buf_clear(&l->tb[i]);
}

/* Insert one ledger row (in the open transaction, or on its own). */
static int
ledger(struct store *st, const struct store_input *in, const char *outcome,
    const char *reason, const char *org, const char *report_id,
    long long rep_id, struct dm_err *err)
{
	struct ledger_row	 l;
	PGresult		*res;
	int			 rc = 0;

	ledger_row_init(&l, in, outcome, reason, org, report_id, rep_id);
	if ((res = exec_params(st, ledger_sql, 12, l.vals, err)) == NULL)
		rc = -1;
	PQclear(res);
	ledger_row_clear(&l);
	if (rc == -1)
		err->scope = DM_ESTORE;	/* the ledger takes anything */
	return rc;
}

/* The UTC month of t as YYYYMM, or 0. */
static int
month_of(int64_t t)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL)
		return 0;
	return (tm.tm_year + 1900) * 100 + tm.tm_mon + 1;
}

static int
sink_begin(void *arg, const struct report *rep, struct dm_err *err)
{
	static const char insert[] =
	    "INSERT INTO dmarc.report (org_name, email, extra_contact_info, "
	    "report_id, begin_time, end_time, generator, errors, version, "
	    "namespace, domain, discovery_method, discovery_method_raw, "
	    "adkim, adkim_raw, aspf, aspf_raw, p, p_raw, sp, sp_raw, np, "
	    "np_raw, pct, fo, testing, testing_raw) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
	    "$19, $20, $21, $22, $23, $24, $25, $26, $27) "
	    "ON CONFLICT ((coalesce(nullif(org_name, ''), email, '')), "
	    "report_id, domain, begin_time, end_time) DO NOTHING RETURNING id";
	static const char find[] =
	    "SELECT id FROM dmarc.report WHERE "
	    "coalesce(nullif(org_name, ''), email, '') = "
	    "coalesce(nullif($1, ''), $2, '') AND report_id = $3 AND "
	    "domain = $4 AND begin_time = $5 AND end_time = $6";
	struct store	*st = arg;
	const char	*texts[] = { rep->org_name, rep->email,
	    rep->extra_contact_info, rep->report_id, rep->generator,
	    rep->version, rep->ns, rep->domain, rep->fo,
	    rep->discovery_method.raw, rep->adkim.raw, rep->aspf.raw,
	    rep->p.raw, rep->sp.raw, rep->np.raw, rep->testing.raw };
	struct stmt	 s[3] = { { 0 } };
	struct buf	 errs, dom;
	const char	*vals[27], *fvals[6];
	char		 tbeg[80], tend[80], pct[8];
	PGresult	*res = NULL;
	size_t		 i, first;
	int		 rc = -1, month, known;

	if (st->state != ST_IDLE)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: a report is already open");
	if (rep->report_id == NULL || rep->domain == NULL)
		return dm_err_set(err, DM_EMSG, "report: no %s",
		    rep->report_id == NULL ? "report_id" : "policy domain");
	if (rep->begin < 0 || rep->begin > STORE_TIME_MAX || rep->end < 0 ||
	    rep->end > STORE_TIME_MAX)
		return dm_err_set(err, DM_EMSG, "report: date range out of "
		    "range");
	for (i = 0; i < nitems(texts); i++)
		if (!valid_text(texts[i]))
			return dm_err_set(err, DM_EMSG,
			    "report: text is not valid UTF-8");
	for (i = 0; i < rep->nerrors; i++)
		if (!valid_text(rep->errors[i]))
			return dm_err_set(err, DM_EMSG,
			    "report: error text is not valid UTF-8");
	if (alive(st, err) == -1 || etype_oids(st, err) == -1)
		return -1;

	buf_init(&errs, 1u << 20);
	buf_init(&dom, DM_MAX_DOMAIN * 4 + 1);
	if (buf_adds(&dom, rep->domain) == -1) {
		rc = dm_err_set(err, DM_EMSG, "report: policy domain too long");
		goto out;
	}
	dm_lower((char *)buf_cstr(&dom));
	fmt_time(rep->begin, tbeg);
	fmt_time(rep->end, tend);

	vals[0] = rep->org_name;
	vals[1] = rep->email;
	vals[2] = rep->extra_contact_info;
	vals[3] = rep->report_id;
	vals[4] = tbeg;
	vals[5] = tend;
	vals[6] = rep->generator;
	vals[7] = errors_array(rep, &errs);
	if (rep->nerrors > 0 && vals[7] == NULL) {
		rc = dm_err_set(err, DM_EMSG, "report: errors too long");
		goto out;
	}
	vals[8] = rep->version;
	vals[9] = rep->ns;
	vals[10] = buf_cstr(&dom);
	vals[11] = rep->discovery_method.val;
	vals[12] = rep->discovery_method.raw;
	vals[13] = rep->adkim.val;
	vals[14] = rep->adkim.raw;
	vals[15] = rep->aspf.val;
	vals[16] = rep->aspf.raw;
	vals[17] = rep->p.val;
	vals[18] = rep->p.raw;
	vals[19] = rep->sp.val;
	vals[20] = rep->sp.raw;
	vals[21] = rep->np.val;
	vals[22] = rep->np.raw;
	vals[23] = NULL;
	if (rep->pct >= 0) {
		snprintf(pct, sizeof(pct), "%d", rep->pct > 999 ? 999 :
		    rep->pct);
		vals[23] = pct;
	}
	vals[24] = rep->fo;
	vals[25] = rep->testing.val;
	vals[26] = rep->testing.raw;

	/*
	 * The month's partition in a group of its own (creating it locks
	 * dmarc.record exclusively, which must not last a whole report),
	 * then the report's transaction and row, in one round trip. A
	 * failure may leave the transaction open: reset() rolls it back.
	 */
	month = month_of(rep->begin);
	known = month != 0 && month == st->part_month;
	fvals[0] = tbeg;
	s[0].ps = PS_PARTITION;
	s[0].sql = "SELECT dmarc.ensure_record_partition($1::timestamptz)";
	s[0].n = 1;
	s[0].vals = fvals;
	s[1].sql = "BEGIN";
	s[2].ps = PS_REPORT;
	s[2].sql = insert;
	s[2].n = 27;
	s[2].vals = vals;
	s[0].sync = s[0].keep = s[2].sync = s[2].keep = 1;
	st->state = ST_TXN;
	first = known ? 1 : 0;
	if (exec_pipeline(st, s + first, nitems(s) - first, NULL, err) == -1)
		goto out;
	if (!known) {
		if (PQntuples(s[0].res) != 1 || PQgetisnull(s[0].res, 0, 0)) {
			dm_err_set(err, DM_ESTORE, "database: no partition "
			    "for %s", tbeg);
			goto out;
		}
		if (copy_sql_for(st, PQgetvalue(s[0].res, 0, 0), err) == -1)
			goto out;
		st->part_month = month;
	}
	res = s[2].res;
	s[2].res = NULL;

	if (PQntuples(res) == 0) {
		/* Stored already (maybe just now, by a concurrent importer). */
		PQclear(res);
		fvals[0] = rep->org_name;
		fvals[1] = rep->email;
		fvals[2] = rep->report_id;
		fvals[3] = buf_cstr(&dom);
		fvals[4] = tbeg;
		fvals[5] = tend;
		if ((res = exec_params(st, find, 6, fvals, err)) == NULL)
			goto out;
		st->rep_id = PQntuples(res) > 0 ?
		    strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
		PQclear(res);
		res = NULL;
		if (exec_cmd(st, "ROLLBACK", err) == -1)
			goto out;
		st->state = ST_DUP;
		rc = 1;
		goto out;
	}
	st->rep_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(st->id, sizeof(st->id), "%lld", st->rep_id);
	st->nrec = 0;
	st->lean = 1;
	st->messages = 0;
	st->dmarc_pass = st->dkim_aligned = st->spf_aligned = 0;
	st->quarantined = st->rejected = 0;
	st->prefix.len = 0;
	if (put_prefix(&st->prefix, st->rep_id, rep->begin,
	    buf_cstr(&dom)) != 0) {
		rc = dm_err_set(err, DM_EMSG, "report: policy domain too long");
		goto out;
	}
	rc = 0;
 out:
	PQclear(res);
	for (i = 0; i < nitems(s); i++)
		PQclear(s[i].res);
	buf_clear(&errs);
	buf_clear(&dom);
	if (rc == -1) {
		forget_schema(st);
		reset(st);
	}
	return rc;
}

#define ARR(b, a, n, type, member, elemtype, always)			\
	put_array((b), (a), (n), sizeof(type), offsetof(type, member),	\
	    (elemtype), (always))
#define TXT	PG_TEXTOID

/*
 * A record's reasons and auth results: the array fields that end its
 * row, in the order of record_copy; et the etype OIDs.
 */
static int
put_arrays(struct cbuf *b, const struct record *rec, const uint32_t *et,
    int lean)
{
	const struct report_reason	*o = rec->reasons;
	const struct report_dkim	*d = rec->auth_dkim;
	const struct report_spf		*s = rec->auth_spf;
	size_t				 no = rec->nreasons;
	size_t				 nd = rec->nauth_dkim;
	size_t				 ns = rec->nauth_spf;
	size_t				 i;
	int				 r;

	if (!lean &&
	    ((r = ARR(b, o, no, struct report_reason, type.val,
	    et[ET_REASON], 1)) ||
	    (r = ARR(b, o, no, struct report_reason, type.raw, TXT, 0)) ||
	    (r = ARR(b, o, no, struct report_reason, comment, TXT, 0))))
		return r;
	/* DKIM: the count, two slots, the rest */
	if ((r = put_count(b, nd)) != 0)
		return r;
	for (i = 0; i < DKIM_SLOTS; i++)
		if ((r = put_text(b, i < nd ? d[i].domain : NULL)) ||
		    (r = put_text(b, i < nd ? d[i].selector : NULL)) ||
		    (r = put_text(b, i < nd ? d[i].result.val : NULL)))
			return r;
	i = nd > DKIM_SLOTS ? DKIM_SLOTS : nd;
	if (!lean &&
	    ((r = ARR(b, d + i, nd - i, struct report_dkim, domain, TXT, 0)) ||
	    (r = ARR(b, d + i, nd - i, struct report_dkim, selector, TXT,
	    0)) ||
	    (r = ARR(b, d + i, nd - i, struct report_dkim, result.val,
	    et[ET_DKIM], 0)) ||
	    (r = ARR(b, d, nd, struct report_dkim, result.raw, TXT, 0)) ||
	    (r = ARR(b, d, nd, struct report_dkim, human_result, TXT, 0))))
		return r;
	/* SPF: the count, one slot, the rest */
	if ((r = put_count(b, ns)) ||
	    (r = put_text(b, ns > 0 ? s[0].domain : NULL)) ||
	    (r = put_text(b, ns > 0 ? s[0].scope.val : NULL)) ||
	    (r = put_text(b, ns > 0 ? s[0].result.val : NULL)))
		return r;
	i = ns > 0 ? 1 : 0;
	if (!lean &&
	    ((r = ARR(b, s + i, ns - i, struct report_spf, domain, TXT, 0)) ||
	    (r = ARR(b, s + i, ns - i, struct report_spf, scope.val,
	    et[ET_SCOPE], 0)) ||
	    (r = ARR(b, s, ns, struct report_spf, scope.raw, TXT, 0)) ||
	    (r = ARR(b, s + i, ns - i, struct report_spf, result.val,
	    et[ET_SPF], 0)) ||
	    (r = ARR(b, s, ns, struct report_spf, result.raw, TXT, 0)) ||
	    (r = ARR(b, s, ns, struct report_spf, human_result, TXT, 0))))
		return r;
	return 0;
}

/* Whether the lean COPY holds all of rec (record_copy_lean). */
static int
fits_lean(const struct record *rec)
{
	size_t	i;

	if (rec->disposition.raw != NULL || rec->dkim.raw != NULL ||
	    rec->spf.raw != NULL || rec->nreasons > 0 ||
	    rec->nauth_dkim > DKIM_SLOTS || rec->nauth_spf > 1)
		return 0;
	for (i = 0; i < rec->nauth_dkim; i++)
		if (rec->auth_dkim[i].result.raw != NULL ||
		    rec->auth_dkim[i].human_result != NULL)
			return 0;
	for (i = 0; i < rec->nauth_spf; i++)
		if (rec->auth_spf[i].scope.raw != NULL ||
		    rec->auth_spf[i].result.raw != NULL ||
		    rec->auth_spf[i].human_result != NULL)
			return 0;
	return 1;
}

/* s is the canonical value v (NULL is no value). */
static int
is(const char *s, const char *v)
{
	return s != NULL && strcmp(s, v) == 0;
}

static int
sink_record(void *arg, const struct report *rep DM_UNUSED,
    const struct record *rec, struct dm_err *err)
{
	struct store	*st = arg;
	const char	*f[9];
	size_t		 start, i, n;
	int		 r, dkim, spf, lean;

	if (st->state == ST_DUP)
		return 0;
	if (st->state != ST_TXN)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: record without a report");
	if (rec->ip_len == 0)
		return dm_err_set(err, DM_EMSG, "record: no source address");
	if (rec->count > (uint64_t)INT64_MAX ||
	    st->messages + rec->count > (uint64_t)INT64_MAX)
		return dm_err_set(err, DM_EMSG, "record: count too large");
	if (st->nrec >= INT32_MAX)
		return dm_err_set(err, DM_EMSG, "report: too many records");
	st->nrec++;
	st->messages += rec->count;
	/* the canonical values, as the enumeration columns get them */
	dkim = is(rec->dkim.val, "pass");
	spf = is(rec->spf.val, "pass");
	if (dkim || spf)
		st->dmarc_pass += rec->count;
	if (dkim)
		st->dkim_aligned += rec->count;
	if (spf)
		st->spf_aligned += rec->count;
	if (is(rec->disposition.val, "quarantine"))
		st->quarantined += rec->count;
	else if (is(rec->disposition.val, "reject"))
		st->rejected += rec->count;

	lean = st->lean && fits_lean(rec);
	if (st->copying && st->lean && !lean &&
	    flush_records(st, 1, err) == -1)	/* the rest go in full */
		return -1;
	st->lean = lean;
	if (!st->copying) {
		if (copy_start(st, lean ? st->copy_lean_sql : st->copy_sql,
		    err) == -1)
			return -1;
		st->copying = 1;
		if (put_raw(&st->rec, copy_header, sizeof(copy_header) - 1) ==
		    -1)
			return dm_err_set(err, DM_EINTERNAL,
			    "database: COPY buffer too small");
	}
	start = st->rec.len;
	r = put_raw(&st->rec, st->prefix.p, st->prefix.len);
	if (r == 0) {
		be16(st->rec.p + start, lean ? REC_FIELDS_LEAN : REC_FIELDS);
		r = put_int4(&st->rec, (int32_t)st->nrec);
	}
	if (r == 0)
		r = put_inet(&st->rec, rec->ip, rec->ip_len);
	if (r == 0)
		r = put_int8(&st->rec, (int64_t)rec->count);
	n = 0;
	f[n++] = rec->disposition.val;
	if (!lean)
		f[n++] = rec->disposition.raw;
	f[n++] = rec->dkim.val;
	if (!lean)
		f[n++] = rec->dkim.raw;
	f[n++] = rec->spf.val;
	if (!lean)
		f[n++] = rec->spf.raw;
	f[n++] = rec->envelope_to;
	f[n++] = rec->envelope_from;
	f[n++] = rec->header_from;
	for (i = 0; r == 0 && i < n; i++)
		r = put_text(&st->rec, f[i]);
	if (r == 0)
		r = put_arrays(&st->rec, rec, st->etype, lean);
	if (r != 0) {
		st->rec.len = start;
		return dm_err_set(err, DM_EMSG, "record %" PRIu64 ": %s",
		    st->nrec, r == -2 ? "text is not valid UTF-8" : r == -3 ?
		    "source address is not an IP address" : "too long");
	}
	if (st->rec.len >= REC_CHUNK && flush_records(st, 0, err) == -1)
		return -1;
	return 0;
}

static int
sink_end(void *arg, const struct report *rep, struct dm_err *err)
{
	static const char totals[] =
	    "UPDATE dmarc.report SET records = $2, messages = $3, "
	    "skipped = $4, dmarc_pass = $5, dkim_aligned = $6, "
	    "spf_aligned = $7, quarantined = $8, rejected = $9 "
	    "WHERE id = $1";
	struct store		*st = arg;
	struct stmt		 s[3] = { { 0 } };
	struct ledger_row	 l;
	const char		*vals[9];
	char			 n[8][24];
	uint64_t		 v[8];
	size_t			 i;
	int			 rc, failed;

	if (st->state == ST_DUP) {
		st->state = ST_IDLE;
		if (alive(st, err) == -1 ||
		    ledger(st, st->in, "duplicate", NULL, rep->org_name,
		    rep->report_id, st->rep_id, err) == -1) {
			reset(st);
			return -1;
		}
		reset(st);
		return 0;
	}
	if (st->state != ST_TXN)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: end without a report");
	if (flush_records(st, 1, err) == -1)
		goto fail;
	v[0] = st->nrec;
	v[1] = st->messages;
	v[2] = rep->skipped > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX :
	    rep->skipped;
	v[3] = st->dmarc_pass;
	v[4] = st->dkim_aligned;
	v[5] = st->spf_aligned;
	v[6] = st->quarantined;
	v[7] = st->rejected;
	vals[0] = st->id;
	for (i = 0; i < nitems(v); i++) {
		snprintf(n[i], sizeof(n[i]), "%" PRIu64, v[i]);
		vals[i + 1] = n[i];
	}
	/* the totals, the ledger row and COMMIT: one round trip */
	ledger_row_init(&l, st->in, "stored", NULL, rep->org_name,
	    rep->report_id, st->rep_id);
	s[0].ps = PS_TOTALS;
	s[0].sql = totals;
	s[0].n = 9;
	s[0].vals = vals;
	s[1].ps = PS_LEDGER;
	s[1].sql = ledger_sql;
	s[1].n = 12;
	s[1].vals = l.vals;
	s[2].sql = "COMMIT";
	s[2].sync = 1;
	rc = exec_pipeline(st, s, nitems(s), &failed, err);
	ledger_row_clear(&l);
	if (rc == -1) {
		if (failed == 1)
			err->scope = DM_ESTORE;	/* the ledger takes anything */
		goto fail;
	}
	st->state = ST_IDLE;
	reset(st);
	return 0;
 fail:
	forget_schema(st);
	reset(st);
	return -1;
}

static void
sink_abort(void *arg, const struct report *rep DM_UNUSED)
{
	struct store	*st = arg;

	forget_schema(st);
	reset(st);
}

void
store_sink(struct store *st, const struct store_input *in,
    struct report_sink *sink)
{
	st->in = in;
	sink->begin = sink_begin;
	sink->record = sink_record;
	sink->end = sink_end;
	sink->abort = sink_abort;
	sink->arg = st;
}

int
store_rejected(struct store *st, const struct store_input *in,
    const char *org_name, const char *report_id, const char *reason,
    struct dm_err *err)
{
	if (st->state == ST_TXN)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: rejected while a report is open");
	if (alive(st, err) == -1)
		return -1;
	return ledger(st, in, "rejected", reason, org_name, report_id, 0, err);
}

/* A text[] literal of l into b, or NULL when l is empty. */
static const char *
list_array(const struct ruf_list *l, struct buf *b)
{
	size_t		 i;
	const char	*s;

	if (l->n == 0)
		return NULL;
	buf_addc(b, '{');
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			buf_addc(b, ',');
		buf_addc(b, '"');
		for (s = l->v[i]; *s != '\0'; s++) {
			if (*s == '"' || *s == '\\')
				buf_addc(b, '\\');
			buf_addc(b, *s);
		}
		buf_addc(b, '"');
	}
	if (buf_addc(b, '}') == -1)
		return NULL;
	return buf_cstr(b);
}

/* A bytea in hex text form ("\\x0a1b...") into b. */
static const char *
hex_bytea(const unsigned char *p, size_t len, struct buf *b)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;

	buf_adds(b, "\\x");
	for (i = 0; i < len; i++) {
		buf_addc(b, hex[p[i] >> 4]);
		buf_addc(b, hex[p[i] & 15]);
	}
	return buf_cstr(b);
}

int
store_failure(struct store *st, const struct store_input *in,
    const struct ruf_report *r, struct dm_err *err)
{
	static const char sql[] =
	    "INSERT INTO dmarc.failure_report (reporter, feedback_type, "
	    "user_agent, version, original_mail_from, original_rcpt_to, "
	    "original_envelope_id, arrival_date, arrival_date_raw, "
	    "reporting_mta, source_ip, source_ip_raw, incidents, "
	    "authentication_results, auth_failure, delivery_result, "
	    "identity_alignment, dkim_domain, dkim_identity, dkim_selector, "
	    "spf_dns, reported_domain, reported_uri, orig_from, orig_to, "
	    "orig_subject, orig_date, orig_message_id, orig_headers, "
	    "orig_body, orig_headers_only, dedup_id) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
	    "$19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, "
	    "$32) ON CONFLICT DO NOTHING RETURNING id";
	struct buf	 tb[6];
	const char	*vals[32];
	char		 at[80], inc[24];
	PGresult	*res = NULL;
	size_t		 i;
	int		 rc = -1, dup;

	if (st->state == ST_TXN)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: failure report while a report is open");
	for (i = 0; i < nitems(tb); i++)
		buf_init(&tb[i], 8u << 20);
	vals[0] = r->reporter;
	vals[1] = r->feedback_type;
	vals[2] = r->user_agent;
	vals[3] = r->version;
	vals[4] = r->original_mail_from;
	vals[5] = list_array(&r->original_rcpt_to, &tb[0]);
	vals[6] = r->original_envelope_id;
	vals[7] = r->has_arrival_date && r->arrival_date >= 0 &&
	    r->arrival_date <= STORE_TIME_MAX ?
	    fmt_time(r->arrival_date, at) : NULL;
	vals[8] = r->arrival_date_raw;
	vals[9] = r->reporting_mta;
	vals[10] = r->source_ip;
	vals[11] = r->source_ip_raw;
	vals[12] = NULL;
	if (r->incidents >= 0) {
		snprintf(inc, sizeof(inc), "%lld", (long long)r->incidents);
		vals[12] = inc;
	}
	vals[13] = list_array(&r->authentication_results, &tb[1]);
	vals[14] = r->auth_failure;
	vals[15] = r->delivery_result;
	vals[16] = r->identity_alignment;
	vals[17] = r->dkim_domain;
	vals[18] = r->dkim_identity;
	vals[19] = r->dkim_selector;
	vals[20] = r->spf_dns;
	vals[21] = list_array(&r->reported_domain, &tb[2]);
	vals[22] = list_array(&r->reported_uri, &tb[3]);
	vals[23] = r->orig_from;
	vals[24] = r->orig_to;
	vals[25] = r->orig_subject;
	vals[26] = r->orig_date;
	vals[27] = r->orig_message_id;
	vals[28] = r->orig_headers;
	vals[29] = r->orig_body != NULL ? hex_bytea(r->orig_body,
	    r->orig_body_len, &tb[4]) : NULL;
	vals[30] = r->orig_headers_only ? "true" : "false";
	if (r->orig_message_id != NULL)
		vals[31] = r->orig_message_id;
	else if (!r->has_arrival_date && in != NULL && in->sha256 != NULL)
		vals[31] = in->sha256;
	else
		vals[31] = "";
	for (i = 0; i < nitems(vals); i++)
		if (i != 29 && !valid_text(vals[i]))
			return dm_err_set(err, DM_EINTERNAL, "database: "
			    "failure report field %zu is not UTF-8", i);

	if (alive(st, err) == -1 || exec_cmd(st, "BEGIN", err) == -1)
		goto out;
	if ((res = exec_params(st, sql, 32, vals, err)) == NULL)
		goto fail;
	dup = PQntuples(res) == 0;
	if (ledger(st, in, dup ? "duplicate" : "stored", NULL, r->reporter,
	    NULL, 0, err) == -1)
		goto fail;
	if (exec_cmd(st, "COMMIT", err) == -1)
		goto fail;
	rc = dup;
	goto out;
 fail:
	if (PQstatus(st->conn) == CONNECTION_OK) {
		struct dm_err	 rerr;

		exec_cmd(st, "ROLLBACK", &rerr);
	}
 out:
	PQclear(res);
	for (i = 0; i < nitems(tb); i++)
		buf_clear(&tb[i]);
	return rc;
}

int
store_failure_expire(struct store *st, unsigned days, long long *deleted,
    struct dm_err *err)
{
	static const char sql[] =
	    "DELETE FROM dmarc.failure_report WHERE"
	    " coalesce(arrival_date, ingested_at)"
	    " < now() - make_interval(days => $1::int)";
	const char	*vals[1];
	char		 d[16];
	PGresult	*res;

	if (deleted != NULL)
		*deleted = 0;
	if (days == 0)
		return 0;
	if (st->state == ST_TXN)
		return dm_err_set(err, DM_EINTERNAL,
		    "database: housekeeping while a report is open");
	if (alive(st, err) == -1)
		return -1;
	snprintf(d, sizeof(d), "%u", days);
	vals[0] = d;
	if ((res = exec_params(st, sql, 1, vals, err)) == NULL) {
		err->scope = DM_ESTORE;
		return -1;
	}
	if (deleted != NULL)
		*deleted = strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

int
store_ledger_find(struct store *st, const char *source, const char *input,
    int *rejected, struct dm_err *err)
{
	const char	*vals[2] = { source, input };
	PGresult	*res;
	int		 found;

	if (alive(st, err) == -1)
		return -1;
	/* a message is done once any of its reports reached the ledger */
	res = exec_params(st, "SELECT bool_or(outcome = 'rejected') "
	    "FROM dmarc.ingest WHERE source = $1 AND input = $2 "
	    "HAVING count(*) > 0", 2, vals, err);
	if (res == NULL)
		return -1;
	found = PQntuples(res) > 0;
	if (found && rejected != NULL)
		*rejected = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return found;
}

int
store_attempt_begin(struct store *st, const char *source, const char *input,
    const char *owner, int *attempts, struct dm_err *err)
{
	const char	*vals[3] = { source, input, owner };
	PGresult	*res;

	if (alive(st, err) == -1)
		return -1;
	/* another owner left it unfinished: that run died on it */
	res = exec_params(st, "INSERT INTO dmarc.attempt (source, input, "
	    "owner) VALUES ($1, $2, $3) ON CONFLICT (source, input) DO UPDATE "
	    "SET attempts = dmarc.attempt.attempts + "
	    "(dmarc.attempt.owner <> EXCLUDED.owner)::int, "
	    "owner = EXCLUDED.owner, last_at = now() "
	    "RETURNING attempts", 3, vals, err);
	if (res == NULL)
		return -1;
	*attempts = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int
store_attempt_end(struct store *st, const char *source, const char *input,
    struct dm_err *err)
{
	const char	*vals[2] = { source, input };
	PGresult	*res;

	if (alive(st, err) == -1)
		return -1;
	res = exec_params(st, "DELETE FROM dmarc.attempt "
	    "WHERE source = $1 AND input = $2", 2, vals, err);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}
