/*
 * query.h: the engine behind dmarcq. A command is one row of a table:
 * its name, help, SQL and column descriptions. One executor binds the
 * filters as parameters and runs the SQL; one renderer per format
 * writes the rows to a FILE * (table, CSV, JSON).
 */
#ifndef QUERY_H
#define QUERY_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "dm.h"

enum query_format {
	QUERY_TABLE = 0,
	QUERY_CSV,
	QUERY_JSON,
};

/* What a column holds decides how each format writes it. */
enum query_type {
	QUERY_TEXT,	/* text from reports or the ledger: untrusted */
	QUERY_COUNT,	/* an integer: a JSON number, 1,234 in tables */
	QUERY_TIME,	/* a timestamptz, as PostgreSQL prints it in UTC */
	QUERY_INET,	/* an address in inet's text form */
	/*
	 * json that PostgreSQL built (json_agg ...) of strings, nulls and
	 * flat objects: JSON gets it re-encoded compactly (the escaping of
	 * every other cell), tables and CSV a line of text: array elements
	 * joined by ", ", an object as its values a/b=c.
	 */
	QUERY_JSONV,
};

/* struct query_col flags */
#define QUERY_DAYEND	0x01	/* a range's inclusive end (23:59:59) */

struct query_col {
	const char	*name;	/* CSV header and JSON key */
	const char	*head;	/* table header; NULL: the name */
	enum query_type	 type;
	int		 tmin;	/* narrowest table width; 0: the default */
	const char	*help;	/* one line for --help */
	/*
	 * Table width the column keeps while others can shrink (0: the
	 * default, QUERY_TABLE_FAIR): the widest columns are cut first,
	 * down to this, before any goes below it.
	 */
	int		 tfair;
	/*
	 * Left out of a table that does not fit in its width otherwise:
	 * 0 never, else in increasing order (1 first).
	 */
	int		 tdrop;
	int		 flags;	/* QUERY_DAYEND */
};

/*
 * The SQL of every command gets the same four parameters, NULL when
 * not given: $1 the policy domain (text, lower-cased), $2 since and
 * $3 until (timestamptz), $4 the row limit (bigint; LIMIT NULL is no
 * limit). It returns the columns of cols, in that order.
 */
struct query_cmd {
	const char		*name;
	const char		*brief;	/* one line for the command list */
	const char		*help;	/* the rows, how the filters apply */
	const char		*sql;
	const struct query_col	*cols;
	int			 ncols;
};

extern const struct query_cmd	query_cmds[];
extern const size_t		query_ncmds;

#define QUERY_TABLE_LIMIT	50	/* rows a table shows by default */
#define QUERY_TABLE_WIDTH	80
#define QUERY_TABLE_FAIR	12	/* see struct query_col, tfair */

struct query_opts {
	const char		*domain;	/* NULL: all; borrowed */
	int			 has_since, has_until;
	int64_t			 since, until;	/* microseconds, epoch */
	int64_t			 limit;		/* -1: default, 0: none */
	enum query_format	 format;
	int			 width;		/* of a table, columns */
};

/* Defaults: table, QUERY_TABLE_WIDTH, no filters, the default limit. */
void	query_opts_init(struct query_opts *o);

/* The command called name, or NULL. */
const struct query_cmd *query_find(const char *name);

/*
 * Parse a time argument T: YYYY-MM-DD (midnight UTC), ISO 8601 with a
 * zone (YYYY-MM-DDTHH:MM[:SS[.frac]] then Z or +HH:MM, +HHMM, +HH), or
 * Nd / Nh before now. Times are microseconds since the epoch.
 * Returns 0, or -1 with err set (DM_ECONFIG, saying what is wrong).
 */
int	query_parse_time(const char *s, int64_t now, int64_t *t,
	    struct dm_err *err);
/* --limit N: digits only; 0 means no limit. Returns 0 or -1 (err). */
int	query_parse_limit(const char *s, int64_t *limit, struct dm_err *err);
/* --format NAME. Returns 0 or -1 (err). */
int	query_parse_format(const char *s, enum query_format *f,
	    struct dm_err *err);
/*
 * Check --domain D and write it lower-cased into out (size outlen):
 * valid UTF-8, no control characters, at most a DNS name long.
 * Returns 0 or -1 (err).
 */
int	query_parse_domain(const char *s, char *out, size_t outlen,
	    struct dm_err *err);
/* The row limit o stands for: 0 none, else a count. */
int64_t	query_limit(const struct query_opts *o);

/*
 * Connect with a libpq conninfo or URI ("" for libpq's defaults) and
 * prepare the session (query_session()). Returns a new connection
 * (PQfinish() it), or NULL with err set: DM_ECONFIG when libpq can't
 * parse conninfo, DM_ESTORE when the server is unreachable (the
 * message names host and port and says why) or has no dmarc schema.
 */
PGconn	*query_connect(const char *conninfo, struct dm_err *err);
/*
 * Prepare a connection for queries: UTF-8, UTC, ISO dates, read-only
 * transactions; and check that the dmarc schema is there. Returns 0 or
 * -1 with err set (DM_ESTORE).
 */
int	query_session(PGconn *conn, struct dm_err *err);

/*
 * Run cmd with the filters of o and write its rows to out in o's
 * format. Returns 0, or -1 with err set: DM_ESTORE for the database
 * (the schema missing included), DM_EINTERNAL when out can't be
 * written.
 */
int	query_run(PGconn *conn, const struct query_cmd *cmd,
	    const struct query_opts *o, FILE *out, struct dm_err *err);

/*
 * Write the first nrows rows of res (which has cmd's columns) to out in
 * o's format; more says rows were left out by the limit (a table says
 * so under its last row). Returns 0, or -1 with err set (DM_EINTERNAL:
 * res does not match cmd, or out can't be written).
 */
int	query_render(const struct query_cmd *cmd, const PGresult *res,
	    int nrows, int more, const struct query_opts *o, FILE *out,
	    struct dm_err *err);

/* The help of one command: what it shows, its columns, its filters. */
void	query_help(const struct query_cmd *cmd, FILE *out);

#endif /* QUERY_H */
