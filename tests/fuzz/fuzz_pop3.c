/*
 * fuzz_pop3.c: libFuzzer target for the POP3 listing parser: the input
 * is what a server might send after "+OK" to UIDL or LIST. The first
 * byte picks the listing and the chunk size libcurl would hand over;
 * every entry the parser accepts is checked against its contract
 * (numbers going up, UIDL 1-70 bytes of 0x21-0x7E). Nothing is written
 * anywhere; nothing is kept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "fetch_pop3_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint32_t	 last;
	size_t		 n;
};

static int
check(void *arg, const struct pop3_ent *e, struct dm_err *err)
{
	struct seen	*s = arg;
	size_t		 i, len = strlen(e->uidl);

	(void)err;
	if (e->num == 0 || e->num <= s->last)
		abort();
	if (len > POP3_UIDL_MAX || e->size > POP3_SIZE_MAX)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)e->uidl[i] < 0x21 ||
		    (unsigned char)e->uidl[i] > 0x7e)
			abort();
	s->last = e->num;
	s->n++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pop3_lines	 pl;
	struct pop3_ent		 e;
	struct dm_err		 err;
	struct seen		 s = { 0, 0 };
	size_t			 chunk, off, n;

	if (size < 1)
		return 0;
	pop3_lines_init(&pl, data[0] & 1 ? POP3_LIST : POP3_UIDL, check, &s);
	chunk = (data[0] >> 1) + 1;	/* 1 to 128 bytes a call */
	data++;
	size--;
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		if (pop3_lines_feed(&pl, data + off, n) == -1)
			break;
	}
	if (pop3_lines_end(&pl) == -1 && pl.err.msg[0] == '\0')
		abort();	/* an error must say what */
	/* the single-line entry point on the whole input */
	(void)pop3_parse_line(POP3_UIDL, (const char *)data, size, &e, &err);
	(void)pop3_parse_line(POP3_LIST, (const char *)data, size, &e, &err);
	return 0;
}
