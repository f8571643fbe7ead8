/*
 * query.h: the engine behind dmarcq. A command is one row of a table:
 * its name, help, SQL and column descriptions. One executor binds the
 * filters as parameters and runs the SQL; one renderer per format
 * writes the rows to a FILE * (table, CSV, JSON). A command in two
 * parts (report, readiness) has head rows, each followed by its
 * detail rows: a block of "key: value" lines and a table, a JSON
 * object holding an array, CSV rows of the details.
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
	/* a percentage (numeric text): a JSON number, 12.5% in tables */
	QUERY_PCT,
};

/* struct query_col flags */
#define QUERY_DAYEND	0x01	/* a range's inclusive end (23:59:59) */
#define QUERY_ALERT	0x02	/* red in a coloured table: a count not 0, */
				/* the text quarantine or reject */
/* of a head (struct query_cmd, detail) */
#define QUERY_HIDDEN	0x04	/* the key for the details: not shown */
#define QUERY_NEST	0x08	/* JSON: in the object named nest; table: */
				/* one line of name=value pairs */
#define QUERY_CSVKEY	0x10	/* CSV: repeated in each detail row */
#define QUERY_VERDICT	0x20	/* table: a line of its own, no key; green */
				/* when it starts with "ready", else red */

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
	int		 flags;	/* QUERY_DAYEND, QUERY_ALERT, ... */
};

/* struct query_cmd flags */
#define QUERY_NEED_DOMAIN	0x01	/* --domain is required */

/*
 * The SQL of every command gets the same six parameters, NULL when
 * not given: $1 the policy domain (text, lower-cased), $2 since and
 * $3 until (timestamptz), $4 the row limit (bigint; LIMIT NULL is no
 * limit), $5 the operand (text: report's ID), $6 the key of a head row
 * (text, for the SQL of a detail). It returns the columns of cols, in
 * that order.
 *
 * With a detail, sql gives the head rows (not limited) and, for each,
 * detail->sql (with $6 the head's first column) gives its rows,
 * limited by $4; detail->name is their JSON key. A table shows each
 * head as "key: value" lines above a table of its details; JSON an
 * object per head with the details in an array; CSV one row per
 * detail, after the head's QUERY_CSVKEY columns.
 */
struct query_cmd {
	const char		*name;
	const char		*brief;	/* one line for the command list */
	const char		*help;	/* the rows, how the filters apply */
	const char		*sql;
	const struct query_col	*cols;
	int			 ncols;
	const struct query_cmd	*detail;	/* NULL: one part */
	const char		*nest;	/* JSON key of QUERY_NEST columns */
	const char		*arg;	/* the operand's name; NULL: none */
	int			 flags;	/* QUERY_NEED_DOMAIN */
	/*
	 * The default period, in days before now (0: none): without
	 * --since it starts that long before until, without --until it
	 * ends now.
	 */
	int			 days;
};

extern const struct query_cmd	query_cmds[];
extern const size_t		query_ncmds;

#define QUERY_TABLE_LIMIT	50	/* rows a table shows by default */
#define QUERY_TABLE_WIDTH	80
#define QUERY_TABLE_FAIR	12	/* see struct query_col, tfair */

struct query_opts {
	const char		*domain;	/* NULL: all; borrowed */
	const char		*arg;	/* the operand; borrowed */
	int			 has_since, has_until;
	int64_t			 since, until;	/* microseconds, epoch */
	int64_t			 now;	/* for a command's default period */
	int64_t			 limit;		/* -1: default, 0: none */
	enum query_format	 format;
	int			 width;		/* of a table, columns */
	int			 color;	/* a table gets SGR escapes */
};

/*
 * Defaults: table, QUERY_TABLE_WIDTH, no filters, the default limit,
 * no colour, now the time of the call.
 */
void	query_opts_init(struct query_opts *o);

enum query_color {
	QUERY_COLOR_AUTO = 0,
	QUERY_COLOR_ALWAYS,
	QUERY_COLOR_NEVER,
};

/* --color WHEN: auto, always or never. Returns 0 or -1 (err). */
int	query_parse_color(const char *s, enum query_color *c,
	    struct dm_err *err);
/*
 * Whether tables get colour: always, never, or for auto when stdout is
 * a terminal (tty), TERM is set and not "dumb", and NO_COLOR is unset
 * or empty (term and no_color: the variables, NULL when unset).
 * Returns 1 or 0.
 */
int	query_use_color(enum query_color when, int tty, const char *term,
	    const char *no_color);

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
 * Check the operand of a command (report's ID): not empty, valid UTF-8,
 * at most DM_MAX_FIELD bytes. Returns 0 or -1 (err).
 */
int	query_parse_arg(const char *s, struct dm_err *err);
/*
 * What cmd needs of o beyond each option's own syntax: its operand,
 * --domain. Returns 0, or -1 with err set (DM_ECONFIG).
 */
int	query_check(const struct query_cmd *cmd, const struct query_opts *o,
	    struct dm_err *err);

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
 * format. Returns 0, or -1 with err set: DM_ECONFIG when query_check()
 * fails, DM_EMSG when a command with an operand finds no head row
 * (nothing is written), DM_ESTORE for the database (the schema missing
 * included), DM_EINTERNAL when out can't be written.
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

/*
 * Write one head row (row hrow of head, which has cmd's columns) and
 * the first nrows rows of detail (cmd->detail's columns) to out in o's
 * format, as a whole output of its own; more says detail rows were
 * left out, nmore how many (-1: unknown). Returns 0, or -1 with err set
 * (DM_EINTERNAL: cmd has no detail, a result does not match, or out
 * can't be written).
 */
int	query_render_part(const struct query_cmd *cmd, const PGresult *head,
	    int hrow, const PGresult *detail, int nrows, int more,
	    int64_t nmore, const struct query_opts *o, FILE *out,
	    struct dm_err *err);

/* The help of one command: what it shows, its columns, its filters. */
void	query_help(const struct query_cmd *cmd, FILE *out);

#endif /* QUERY_H */
