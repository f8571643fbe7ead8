/*
 * html.h: dmarcq html: one self-contained HTML page of a period's
 * reports: the summary figures per policy domain and, per domain,
 * charts drawn as inline SVG (messages and DMARC pass rate per day, the
 * top failing sources, the reporters, the dispositions). The page
 * fetches nothing and runs no script.
 */
#ifndef HTML_H
#define HTML_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "dm.h"

struct buf;
struct query_opts;

#define HTML_DEFAULT_DAYS	30	/* the period without --since */
#define HTML_MAX_DAYS		400	/* days on a chart's axis */
#define HTML_MAX_DOMAINS	50	/* domains on one page */
#define HTML_TOP		10	/* rows of a top-N chart */
#define HTML_LABEL_MAX		32	/* characters of a chart's label */

/*
 * The period of a page: whole UTC days. since is midnight of --since's
 * day, until the midnight after --until's last microsecond (now without
 * --until); without --since the HTML_DEFAULT_DAYS days up to until.
 */
struct html_period {
	int64_t		 since, until;	/* [since, until), microseconds */
	int64_t		 day0;		/* since in days since the epoch */
	int		 ndays;		/* days on the axis */
	int		 dflt;		/* no --since: the default period */
};

/*
 * The period of o at time now (microseconds). Returns 0, or -1 with
 * err set (DM_ECONFIG: since not before until, over HTML_MAX_DAYS).
 */
int	html_period(const struct query_opts *o, int64_t now,
	    struct html_period *p, struct dm_err *err);

/*
 * Append s to b as HTML text, safe in an element and in a quoted
 * attribute: & < > " ' as character references; control characters,
 * backslash, invalid UTF-8 and invisible or reordering characters
 * (is_format_char()) as visible escapes, as dmarcq's tables show them
 * (\n, \x1b, \\, \u202e). With max > 0, a text of more than max code
 * points is cut to max - 1 and "…". Returns 0, or -1 when b is full
 * (what fitted is in b).
 */
int	html_escape(struct buf *b, const char *s, size_t max);
/*
 * The page's statements that read dmarc.record (NULL-terminated), for
 * the tests of their plans.
 */
extern const char *const html_record_sql[];

/*
 * Write the page of o's domain and period (html_period()) at time now
 * to out. One read-only snapshot; the filters are parameters. A period
 * without reports makes a page that says so. Returns 0, or -1 with err
 * set: DM_ECONFIG (bad o), DM_ESTORE (the database), DM_EINTERNAL (out
 * can't be written).
 */
int	html_write(PGconn *conn, const struct query_opts *o, int64_t now,
	    FILE *out, struct dm_err *err);

/*
 * html_write() to the file path, whole or not at all: into a new
 * temporary file in path's directory, synced, then renamed over path.
 * On failure path is untouched and the temporary file removed. "-" is
 * standard output. Returns 0 or -1 with err set (as html_write(); a
 * file that can't be created or renamed is DM_EINTERNAL).
 */
int	html_write_file(PGconn *conn, const struct query_opts *o,
	    int64_t now, const char *path, struct dm_err *err);

/* dmarcq html --help. */
void	html_help(FILE *out);

#endif /* HTML_H */
