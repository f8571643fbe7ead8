/*
 * fuzz_imap.c: libFuzzer target for the IMAP source's parsers: every
 * line of the input goes through the SEARCH, STATUS, CAPABILITY and
 * LIST parsers (what a hostile server can send), and the whole input,
 * up to its first NUL, through the URL parser and the modified UTF-7
 * encoder (what a configuration can hold). Nothing connects, nothing
 * is written anywhere.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dm.h"
#include "fetch_imap_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one_line(const char *line, size_t len)
{
	struct fetch_imap_status	 st;
	uint32_t			 uids[16];
	unsigned			 caps = 0;
	size_t				 n = 0, i;
	char				 name[32];
	int				 r, sel = -1;

	r = fetch_imap_parse_search(line, len, uids, nitems(uids), &n);
	if (r < -1 || r > 1 || n > nitems(uids) || (r == 0 && n != 0))
		__builtin_trap();
	for (i = 0; r == 1 && i < n; i++)
		if (uids[i] == 0)
			__builtin_trap();	/* UIDs are nz-numbers */
	r = fetch_imap_parse_status(line, len, &st);
	if (r < -1 || r > 1)
		__builtin_trap();
	if (r == 1 && (st.have & ~(unsigned)(IMAP_ST_MESSAGES |
	    IMAP_ST_UIDVALIDITY | IMAP_ST_UIDNEXT)))
		__builtin_trap();
	if (r == 1 && (st.have & IMAP_ST_UIDVALIDITY) && st.uidvalidity == 0)
		__builtin_trap();
	r = fetch_imap_parse_caps(line, len, &caps);
	if (r < -1 || r > 1 ||
	    (caps & ~(unsigned)(IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS)))
		__builtin_trap();
	r = fetch_imap_parse_list(line, len, name, sizeof(name), &sel);
	if (r < -1 || r > 1)
		__builtin_trap();
	if (r == 1 && (memchr(name, '\0', sizeof(name)) == NULL ||
	    (sel != 0 && sel != 1)))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data, *nl;
	struct fetch_imap_url	 u;
	struct dm_err		 err;
	struct buf		 b;
	size_t			 left = size, len, i;
	char			*s;

	while (left > 0) {
		nl = memchr(p, '\n', left);
		len = nl != NULL ? (size_t)(nl - p) : left;
		one_line(p, len > 0 && p[len - 1] == '\r' ? len - 1 : len);
		len += nl != NULL;
		p += len;
		left -= len;
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&err, 0, sizeof(err));
	if (fetch_imap_url(s, &u, &err) == 0) {
		if (u.port == 0 || u.host[0] == '\0' || u.mailbox[0] == '\0')
			__builtin_trap();
	} else if (err.msg[0] == '\0')
		__builtin_trap();
	buf_init(&b, 4096);
	if (fetch_imap_mutf7(s, &b) == 0)
		for (i = 0; i < b.len; i++)
			if (b.data[i] < 0x20 || b.data[i] > 0x7e)
				__builtin_trap();
	buf_clear(&b);
	free(s);
	return 0;
}
