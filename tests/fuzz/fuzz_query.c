/*
 * fuzz_query.c: libFuzzer target for dmarcq's renderers and argument
 * parsers. The input picks a command and a table width (first two
 * bytes) and then gives the cells of its rows, NUL-separated (an empty
 * cell is SQL NULL): the hostile text a report can put in the database.
 * Each row set is rendered as table, CSV and JSON into memory, and the
 * promises are checked: a table holds no control byte but newlines, JSON
 * no raw control byte, all three only valid UTF-8. The whole input is
 * also tried as --since, --limit and --domain.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "query.h"
#include "util.h"

#define MAX_CELLS	256

static void
check_output(const char *out, size_t len, enum query_format fmt)
{
	size_t	 i;

	if (!is_utf8(out, len))
		abort();
	for (i = 0; i < len; i++) {
		unsigned char	 c = (unsigned char)out[i];

		if (fmt == QUERY_CSV)
			continue;	/* CSV keeps the data's bytes */
		if ((c < 0x20 && c != '\n') ||
		    (fmt == QUERY_TABLE && c == 0x7f))
			abort();
	}
}

static void
render_all(const struct query_cmd *cmd, const PGresult *res, int nrows,
    int width)
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
		if ((f = open_memstream(&out, &len)) == NULL)
			abort();
		if (query_render(cmd, res, nrows, nrows > 1, &o, f, &err) == -1)
			abort();
		fclose(f);
		check_output(out, len, (enum query_format)fmt);
		free(out);
		out = NULL;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct query_cmd	*cmd;
	PGresAttDesc		 att[32];
	struct dm_err		 err;
	PGresult		*res;
	char			*s, *p, *end, dom[256];
	int64_t			 t, l;
	int			 f, row, ncols, width;

	if (size < 2)
		return 0;
	cmd = &query_cmds[data[0] % query_ncmds];
	width = 1 + data[1];
	ncols = cmd->ncols;
	if (ncols > (int)(sizeof(att) / sizeof(att[0])))
		abort();

	s = malloc(size - 1);
	memcpy(s, data + 2, size - 2);
	s[size - 2] = '\0';

	/* the input as arguments: parse errors are fine, crashes are not */
	query_parse_time(s, INT64_C(1709596800000000), &t, &err);
	query_parse_limit(s, &l, &err);
	query_parse_domain(s, dom, sizeof(dom), &err);

	memset(att, 0, sizeof(att));
	for (f = 0; f < ncols; f++)
		att[f].name = (char *)cmd->cols[f].name;
	if ((res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK)) == NULL ||
	    !PQsetResultAttrs(res, ncols, att))
		abort();
	p = s;
	end = s + (size - 2);
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
	render_all(cmd, res, PQntuples(res), width);
	PQclear(res);
	free(s);
	return 0;
}
