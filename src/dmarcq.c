/*
 * dmarcq.c: the query CLI. Parses the options, finds the database
 * (--db, DMARCD_DB, the configuration file, libpq's defaults) and hands
 * the command to the query engine (query.c).
 *
 * Distrusted: the arguments (checked before connecting; they reach the
 * database only as parameters) and the configuration file (only
 * [database] conninfo is read from it, nothing is echoed).
 */
#include <sys/ioctl.h>
#include <sys/time.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "bounds.h"
#include "buf.h"
#include "html.h"
#include "log.h"
#include "query.h"
#include "util.h"

#define CONF_DEFAULT	SYSCONFDIR "/dmarcd/dmarcd.conf"

/* Exit statuses (DESIGN.md, "Commands"). */
#define EX_OK		0
#define EX_OUTPUT	1	/* stdout could not be written */
#define EX_NOMATCH	1	/* report ID: no such report */
#define EX_USAGE	2
#define EX_DB		3

#define MAX_OPERANDS	4

enum {
	OPT_DB = 256,
	OPT_FORMAT,
	OPT_DOMAIN,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_COLOR,
};

static const struct option longopts[] = {
	{ "config",	required_argument,	NULL,	'c' },
	{ "db",		required_argument,	NULL,	OPT_DB },
	{ "format",	required_argument,	NULL,	OPT_FORMAT },
	{ "domain",	required_argument,	NULL,	OPT_DOMAIN },
	{ "since",	required_argument,	NULL,	OPT_SINCE },
	{ "until",	required_argument,	NULL,	OPT_UNTIL },
	{ "limit",	required_argument,	NULL,	OPT_LIMIT },
	{ "output",	required_argument,	NULL,	'o' },
	{ "color",	required_argument,	NULL,	OPT_COLOR },
	{ "help",	no_argument,		NULL,	'h' },
	{ NULL,		0,			NULL,	0 },
};

/*
 * Column names, from column col on (0: a new line), wrapped at 76;
 * returns the column.
 */
static size_t
usage_cols(const struct query_cmd *cmd, size_t col, FILE *out)
{
	int	 f;

	for (f = 0; f < cmd->ncols; f++) {
		if (cmd->cols[f].flags & QUERY_HIDDEN)
			continue;
		if (col == 0 || col + 1 + strlen(cmd->cols[f].name) > 76) {
			fprintf(out, "%s            ", col > 0 ? "\n" : "");
			col = 12;
		} else {
			fputc(' ', out);
			col++;
		}
		fputs(cmd->cols[f].name, out);
		col += strlen(cmd->cols[f].name);
	}
	return col;
}

/*
 * A command, what it shows and its columns, wrapped at 76; a detail's
 * columns after its name and a colon.
 */
static void
usage_cmd(const struct query_cmd *cmd, FILE *out)
{
	char	 name[32];
	size_t	 col;

	snprintf(name, sizeof(name), "%s%s%s", cmd->name,
	    cmd->arg != NULL ? " " : "", cmd->arg != NULL ? cmd->arg : "");
	if (strlen(name) > 9)
		fprintf(out, "  %s\n  %-9s %s\n", name, "", cmd->brief);
	else
		fprintf(out, "  %-9s %s\n", name, cmd->brief);
	col = usage_cols(cmd, 0, out);
	if (cmd->detail != NULL) {
		if (col + 2 + strlen(cmd->detail->name) > 76) {
			fputs("\n           ", out);
			col = 11;
		}
		col += fprintf(out, " %s:", cmd->detail->name);
		usage_cols(cmd->detail, col, out);
	}
	fputc('\n', out);
}

/* Is column name in the commands before cmd, or in cmd before col? */
static int
usage_seen(const struct query_cmd *cmd, const struct query_col *col)
{
	const struct query_cmd	*c;
	size_t			 i;
	int			 f, part;

	for (i = 0; i < query_ncmds; i++)
		for (part = 0; part < 2; part++) {
			c = part == 0 ? &query_cmds[i] : query_cmds[i].detail;
			if (c == NULL)
				continue;
			for (f = 0; f < c->ncols; f++) {
				if (&c->cols[f] == col)
					return 0;
				if (!(c->cols[f].flags & QUERY_HIDDEN) &&
				    strcmp(c->cols[f].name, col->name) == 0)
					return 1;
			}
			if (c == cmd)
				return 0;
		}
	return 0;
}

/* Each column name once, with what it means where it first appears. */
static void
usage_glossary(FILE *out)
{
	const struct query_cmd	*c;
	const struct query_col	*col;
	size_t			 i;
	int			 f, part;

	for (i = 0; i < query_ncmds; i++)
		for (part = 0; part < 2; part++) {
			c = part == 0 ? &query_cmds[i] : query_cmds[i].detail;
			for (f = 0; c != NULL && f < c->ncols; f++) {
				col = &c->cols[f];
				if ((col->flags & QUERY_HIDDEN) ||
				    usage_seen(c, col))
					continue;
				if (strlen(col->name) > 13)
					fprintf(out, "  %s\n  %-13s %s\n",
					    col->name, "", col->help);
				else
					fprintf(out, "  %-13s %s\n",
					    col->name, col->help);
			}
		}
}

static void
usage_help(FILE *out)
{
	size_t	 i;

	fprintf(out,
"usage: dmarcq [-c FILE] [--db CONNINFO] [--format table|csv|json] COMMAND\n"
"              [--domain D] [--since T] [--until T] [--limit N]\n"
"              [--color auto|always|never]\n"
"       dmarcq report ID [options]\n"
"       dmarcq readiness --domain D [options]\n"
"       dmarcq COMMAND --help\n"
"\n"
"Query the DMARC aggregate reports and the ingest ledger that dmarcd\n"
"stored in PostgreSQL. dmarcq only reads.\n"
"\n"
"Commands and their columns (dmarcq COMMAND --help tells more):\n");
	for (i = 0; i < query_ncmds; i++)
		usage_cmd(&query_cmds[i], out);
	fprintf(out, "  %-9s %s\n", "html", "one HTML page with charts of "
	    "the above: dmarcq html -o FILE");
	fprintf(out,
"\n"
"What the columns mean (the CSV header and JSON key; a table may show a\n"
"shorter header, see COMMAND --help):\n");
	usage_glossary(out);
	fprintf(out,
"\n"
"Options, before or after COMMAND:\n"
"  -c, --config FILE  the configuration file; without -c,\n"
"                     " CONF_DEFAULT " is read when it exists.\n"
"                     Only [database] conninfo is used.\n"
"  --db CONNINFO      the database: a libpq conninfo (\"host=db dbname=dmarc\n"
"                     user=dmarcq\") or URI (postgresql://dmarcq@db/dmarc)\n"
"  --format FORMAT    table (the default): aligned columns with a header,\n"
"                       fitted to 80 columns (or to a wider terminal) by\n"
"                       cutting long text with \"…\", and when that is not\n"
"                       enough by leaving out the columns COMMAND --help\n"
"                       names (a last line says which); counts with\n"
"                       thousands separators; times as YYYY-MM-DD HH:MM\n"
"                       (UTC), or YYYY-MM-DD when all in the column are\n"
"                       whole days; lists as a, b and objects as\n"
"                       domain/selector=result; control characters shown\n"
"                       escaped (\\n, \\x1b)\n"
"                     csv: RFC 4180, a header row, CRLF line ends; a cell\n"
"                       starting with = + - @, tab or CR gets a leading '\n"
"                       so that spreadsheets keep it as text; lists as in\n"
"                       tables\n"
"                     json: an array of objects, keys as the columns; times\n"
"                       YYYY-MM-DDTHH:MM:SSZ, counts as numbers, lists as\n"
"                       arrays, null when empty\n"
"  --domain D         only the policy domain D (exact, case-insensitive)\n"
"  --since T          only from T on (inclusive)\n"
"  --until T          only before T (exclusive)\n"
"  --limit N          at most N rows, 0 for all; the default is %d rows for\n"
"                     table (it says when there are more), all for csv and\n"
"                     json; for report and readiness, N rows of each table\n"
"                     under a report or the summary\n"
"  --color WHEN       colour in tables (bold headers, red failure counts,\n"
"                     the verdict of readiness green or red): auto (the\n"
"                     default) when stdout is a terminal, TERM is set and\n"
"                     not \"dumb\", and NO_COLOR is unset or empty; always\n"
"                     (even with NO_COLOR); never. CSV and JSON never\n"
"  -o, --output FILE  html only: where to write the page, - for stdout\n"
"  -h, --help         this help; with COMMAND, the command's help\n"
"\n"
"Times T:\n"
"  YYYY-MM-DD                    midnight UTC starting that day\n"
"  YYYY-MM-DDTHH:MM[:SS[.f]]Z    ISO 8601 in UTC; instead of Z an offset:\n"
"                                +02:00, -0500 or +01 (a zone is required)\n"
"  Nd, Nh                        N days or N hours before now\n"
"A report is in the range when its begin is in [since, until); the\n"
"ledger (ingest) is filtered by the time of each entry. new-sources and\n"
"readiness have a default period: 7 and 30 days before --until, which is\n"
"now by default.\n"
"\n"
"Database, the first of these that is set:\n"
"  1. --db CONNINFO\n"
"  2. the environment variable DMARCD_DB\n"
"  3. conninfo in the [database] section of the configuration file\n"
"  4. libpq's defaults: PGHOST, PGPORT, PGDATABASE, PGUSER, ~/.pgpass, ...\n"
"A login in the role dmarc_reader is enough. The session runs in UTC and\n"
"read-only; connecting gives up after 10 s (PGCONNECT_TIMEOUT, or\n"
"connect_timeout in CONNINFO, changes that).\n"
"\n"
"Exit status:\n"
"  0  success, also when no rows match\n"
"  1  report: no report has the ID (within --domain, --since, --until);\n"
"     or the output could not be written\n"
"  2  usage: unknown command or option, bad T, N, format, domain or\n"
"     CONNINFO, --since not before --until, an unreadable configuration\n"
"     file, report without ID, readiness without --domain\n"
"  3  the database is unreachable, refused the query, or has no dmarc\n"
"     schema (run 'dmarcd migrate')\n",
	    QUERY_TABLE_LIMIT);
}

/* An argument in a message: escaped, it is shown as typed. */
static const char *
arg_shown(const char *s)
{
	static struct buf	 b;

	buf_clear(&b);
	buf_init(&b, 256);
	dm_escape(&b, s, 1);	/* when full, what fitted is enough */
	buf_add(&b, "", 0);	/* NUL-terminates even when s is "" */
	return buf_cstr(&b);
}

static int
usage_error(const char *fmt, ...) DM_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	fputs("dmarcq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'dmarcq --help'.\n", stderr);
	return EX_USAGE;
}

/*
 * The configuration, as far as dmarcq needs it. This is a stop-gap
 * reader of [database] conninfo only, until src/config.[ch] (the full
 * reader, with dmarcd's checks) is in this branch's base.
 */
struct conf {
	char	*conninfo;
};

static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf	*cf = user;

	/* everything else belongs to dmarcd: not ours to judge */
	if (strcmp(section, "database") == 0 &&
	    strcmp(name, "conninfo") == 0) {
		free(cf->conninfo);
		cf->conninfo = xstrdup(value);
	}
	return 1;
}

/* Read path into cf. Returns 0, or -1 with err set (DM_ECONFIG). */
static int
conf_read(const char *path, struct conf *cf, struct dm_err *err)
{
	int	 rc;

	errno = 0;
	rc = ini_parse(path, conf_handler, cf);
	if (rc == -1)
		return dm_err_set(err, DM_ECONFIG, "%s: cannot read: %s", path,
		    errno != 0 ? strerror(errno) : "open failed");
	if (rc == -2)
		return dm_err_set(err, DM_ECONFIG, "%s: out of memory", path);
	if (rc > 0)
		return dm_err_set(err, DM_ECONFIG, "%s: line %d: not INI "
		    "(section, key = value or comment)", path, rc);
	return 0;
}

/* Table width: 80, or the terminal's when stdout is a wider one. */
static int
table_width(void)
{
	struct winsize	 ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > QUERY_TABLE_WIDTH)
		return ws.ws_col;
	return QUERY_TABLE_WIDTH;
}

static int64_t
now_usec(void)
{
	struct timeval	 tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int
exit_code(const struct dm_err *err)
{
	switch (err->scope) {
	case DM_ECONFIG:
		return EX_USAGE;
	case DM_EMSG:
		return EX_NOMATCH;
	case DM_ESTORE:
	case DM_ESOURCE:
		return EX_DB;
	default:
		return EX_OUTPUT;
	}
}

int
main(int argc, char *argv[])
{
	const struct query_cmd	*cmd = NULL;
	struct query_opts	 o;
	struct dm_err		 err = { 0 };
	struct conf		 cf = { NULL };
	struct html_period	 hp;
	const char		*ops[MAX_OPERANDS];
	const char		*cfgpath = NULL, *db = NULL, *env;
	const char		*since = NULL, *until = NULL, *conninfo;
	const char		*origin, *output = NULL;
	char			 domain[DM_MAX_DOMAIN + 1];
	enum query_color	 color = QUERY_COLOR_AUTO;
	PGconn			*conn = NULL;
	int64_t			 now;
	int			 ch, nops = 0, help = 0, rc = EX_USAGE;
	int			 html = 0, formatted = 0;

	log_init("dmarcq", LOG_LWARN);
	query_opts_init(&o);
	opterr = 0;
	/*
	 * "-": operands come back in order as 1, so options may follow
	 * the command even under POSIXLY_CORRECT; ":": a missing value
	 * is told apart from an unknown option.
	 */
	while ((ch = getopt_long(argc, argv, "-:c:ho:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 1:
			if (nops == MAX_OPERANDS)
				return usage_error("too many arguments");
			ops[nops++] = optarg;
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case OPT_DB:
			db = optarg;
			break;
		case OPT_FORMAT:
			if (query_parse_format(optarg, &o.format, &err) == -1)
				return usage_error("--format: %s", err.msg);
			formatted = 1;
			break;
		case OPT_DOMAIN:
			if (query_parse_domain(optarg, domain, sizeof(domain),
			    &err) == -1)
				return usage_error("--domain: %s", err.msg);
			o.domain = domain;
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_UNTIL:
			until = optarg;
			break;
		case OPT_LIMIT:
			if (query_parse_limit(optarg, &o.limit, &err) == -1)
				return usage_error("--limit: %s", err.msg);
			break;
		case OPT_COLOR:
			if (query_parse_color(optarg, &color, &err) == -1)
				return usage_error("--color: %s", err.msg);
			break;
		case 'h':
			help = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case ':':
			return usage_error("option %s needs a value",
			    arg_shown(argv[optind - 1]));
		default:
			return usage_error("unknown option %s",
			    arg_shown(argv[optind - 1]));
		}
	}
	for (; optind < argc; optind++) {	/* after "--" */
		if (nops == MAX_OPERANDS)
			return usage_error("too many arguments");
		ops[nops++] = argv[optind];
	}

	if (nops > 0 && strcmp(ops[0], "help") == 0) {
		help = 1;
		memmove(ops, ops + 1, (size_t)--nops * sizeof(ops[0]));
	}
	/* html is no query: src/html.c writes a page of its own */
	if (nops > 0 && strcmp(ops[0], "html") == 0)
		html = 1;
	else if (nops > 0 && (cmd = query_find(ops[0])) == NULL) {
		if (help)
			return usage_error("no help on \"%s\": no such command",
			    arg_shown(ops[0]));
		return usage_error("unknown command \"%s\"",
		    arg_shown(ops[0]));
	}
	if (help) {
		if (html)
			html_help(stdout);
		else if (cmd != NULL)
			query_help(cmd, stdout);
		else
			usage_help(stdout);
		return fflush(stdout) == EOF ? EX_OUTPUT : EX_OK;
	}
	if (cmd == NULL && !html) {
		usage_help(stderr);
		return EX_USAGE;
	}
	if (html) {
		if (nops > 1)
			return usage_error("html takes no argument (got "
			    "\"%s\")", arg_shown(ops[1]));
		if (output == NULL)
			return usage_error("html needs -o FILE (- for "
			    "standard output)");
		if (formatted || o.limit != -1)
			return usage_error("html takes no --format or "
			    "--limit");
	} else {
		if (cmd->arg != NULL && nops != 2)
			return usage_error(nops < 2 ? "%s needs %s" :
			    "%s takes one %s", cmd->name, cmd->arg);
		if (cmd->arg == NULL && nops > 1)
			return usage_error("%s takes no argument (got "
			    "\"%s\")", cmd->name, arg_shown(ops[1]));
		if (output != NULL)
			return usage_error("-o is for html only");
		if (cmd->arg != NULL)
			o.arg = ops[1];
		if (query_check(cmd, &o, &err) == -1)
			return usage_error("%s", err.msg);
	}

	now = now_usec();
	if (since != NULL) {
		if (query_parse_time(since, now, &o.since, &err) == -1)
			return usage_error("--since: %s", err.msg);
		o.has_since = 1;
	}
	if (until != NULL) {
		if (query_parse_time(until, now, &o.until, &err) == -1)
			return usage_error("--until: %s", err.msg);
		o.has_until = 1;
	}
	if (o.has_since && o.has_until && o.since >= o.until)
		return usage_error("--since %s is not before --until %s",
		    since, until);
	o.width = table_width();
	o.now = now;
	o.color = query_use_color(color, isatty(STDOUT_FILENO),
	    getenv("TERM"), getenv("NO_COLOR"));
	if (html && html_period(&o, now, &hp, &err) == -1)
		return usage_error("%s", err.msg);

	/* an explicit -c is read even when not needed: a typo shows */
	if (cfgpath != NULL && conf_read(cfgpath, &cf, &err) == -1) {
		fprintf(stderr, "dmarcq: %s\n", err.msg);
		goto out;
	}
	if (db != NULL) {
		conninfo = db;
		origin = "--db";
	} else if ((env = getenv("DMARCD_DB")) != NULL && *env != '\0') {
		conninfo = env;
		origin = "DMARCD_DB";
	} else {
		origin = cfgpath != NULL ? cfgpath : CONF_DEFAULT;
		if (cfgpath == NULL && access(CONF_DEFAULT, F_OK) == 0 &&
		    conf_read(CONF_DEFAULT, &cf, &err) == -1) {
			fprintf(stderr, "dmarcq: %s\n", err.msg);
			goto out;
		}
		conninfo = cf.conninfo != NULL ? cf.conninfo : "";
	}

	if ((conn = query_connect(conninfo, &err)) == NULL || (html ?
	    html_write_file(conn, &o, now, output, &err) :
	    query_run(conn, cmd, &o, stdout, &err)) == -1) {
		if (err.scope == DM_ECONFIG)
			dm_err_prefix(&err, "%s", origin);
		fprintf(stderr, "dmarcq: %s\n", err.msg);
		rc = exit_code(&err);
		goto out;
	}
	rc = EX_OK;
out:
	PQfinish(conn);
	free(cf.conninfo);
	return rc;
}
