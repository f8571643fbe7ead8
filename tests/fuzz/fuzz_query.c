/*
 * fuzz_query.c: libFuzzer target for dmarcq's renderers and argument
 * parsers. The input picks a command, colour and a table width (first
 * two bytes) and then gives the cells of its rows, NUL-separated (an
 * empty cell is SQL NULL): the hostile text a report can put in the
 * database. A two-part command (report, readiness) gets one head row,
 * the rest are its details. Each row set is rendered as table, CSV and
 * JSON into memory, and the promises are checked: a table holds no
 * control byte but newlines and the colour escapes the renderer adds,
 * JSON no raw control byte, all three only valid UTF-8. The whole input
 * is also tried as --since, --limit, --domain, --color and an ID.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "query.h"
#include "util.h"

#define MAX_CELLS	256

/* The length of the SGR escape at s (ESC [ digits m), or 0. */
static size_t
sgr_len(const char *s, size_t len)
{
	size_t	 n = 2;

	if (len < 4 || s[0] != '\x1b' || s[1] != '[')
		return 0;
	while (n < len && s[n] >= '0' && s[n] <= '9')
		n++;
	return n > 2 && n < len && s[n] == 'm' ? n + 1 : 0;
}

static void
check_output(const char *out, size_t len, enum query_format fmt, int color)
{
	size_t	 i, n;

	if (!is_utf8(out, len))
		abort();
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)out[i];

		if (fmt == QUERY_CSV)
			continue;	/* CSV keeps the data's bytes */
		if (fmt == QUERY_TABLE && color &&
		    (n = sgr_len(out + i, len - i)) > 0) {
			i += n - 1;
			continue;
		}
		if ((c < 0x20 && c != '\n') ||
		    (fmt == QUERY_TABLE && c == 0x7f))
			abort();
	}
}

/* A result with cmd's columns, no rows yet. */
static PGresult *
make_result(const struct query_cmd *cmd)
{
	PGresAttDesc	 att[32];
	PGresult	*res;
	int		 f;

	if (cmd->ncols > (int)(sizeof(att) / sizeof(att[0])))
		abort();
	memset(att, 0, sizeof(att));
	for (f = 0; f < cmd->ncols; f++)
		att[f].name = (char *)cmd->cols[f].name;
	if ((res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK)) == NULL ||
	    !PQsetResultAttrs(res, cmd->ncols, att))
		abort();
	return res;
}

static void
render_all(const struct query_cmd *cmd, const PGresult *head,
    const PGresult *res, int nrows, int width, int color)
{
	struct query_opts	 o;
	struct dm_err		 err;
	FILE			*f;
	char			*out = NULL;
	size_t			 len = 0;
	int			 fmt;

	for (fmt = QUERY_TABLE; fmt <= QUERY_JSON; fmt++) {
		query_opts_init(&o);
		o.format = (enum query_format)fmt;
		o.width = width;
		o.color = color;
		if ((f = open_memstream(&out, &len)) == NULL)
			abort();
		if (head != NULL ? query_render_part(cmd, head, 0, res, nrows,
		    nrows > 1, nrows, &o, f, &err) == -1 :
		    query_render(cmd, res, nrows, nrows > 1, &o, f,
		    &err) == -1)
			abort();
		fclose(f);
		check_output(out, len, (enum query_format)fmt, color);
		free(out);
		out = NULL;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct query_cmd	*cmd, *rows;
	struct dm_err		 err;
	enum query_color	 c;
	PGresult		*head = NULL, *res;
	char			*s, *p, *end, dom[256];
	int64_t			 t, l;
	int			 f, row, ncols, width, color;

	if (size < 2)
		return 0;
	cmd = &query_cmds[data[0] % query_ncmds];
	color = (data[0] / query_ncmds) & 1;
	width = 1 + data[1];

	s = malloc(size - 1);
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';

	/* the input as arguments: parse errors are fine, crashes are not */
	query_parse_time(s, INT64_C(1709596800000000), &t, &err);
	query_parse_limit(s, &l, &err);
	query_parse_domain(s, dom, sizeof(dom), &err);
	query_parse_arg(s, &err);
	/* NO_COLOR set (to the word): only always gives colour */
	if (query_parse_color(s, &c, &err) == 0 &&
	    query_use_color(c, 1, s, s) != (c == QUERY_COLOR_ALWAYS))
		abort();

	p = s;
	end = s + (size - 2);
	/* a head row first: its cells, then its details' */
	if (cmd->detail != NULL) {
		head = make_result(cmd);
		for (f = 0; p <= end && f < cmd->ncols; f++) {
			size_t	 n = strlen(p);

			if (!PQsetvalue(head, 0, f, p, n == 0 ? -1 : (int)n))
				abort();
			p += n + 1;
		}
		if (PQntuples(head) == 0 &&
		    !PQsetvalue(head, 0, 0, NULL, -1))
			abort();
	}
	rows = head != NULL ? cmd->detail : cmd;
	ncols = rows->ncols;
	res = make_result(rows);
	for (row = f = 0; p <= end && row * ncols + f < MAX_CELLS; ) {
		size_t	 n = strlen(p);

		if (!PQsetvalue(res, row, f, p, n == 0 ? -1 : (int)n))
			abort();
		p += n + 1;
		if (++f == ncols) {
			f = 0;
			row++;
		}
	}
	/* a partly filled last row is complete: libpq fills NULLs */
	render_all(cmd, head, res, PQntuples(res), width, color);
	PQclear(res);
	PQclear(head);
	free(s);
	return 0;
}
