/*
 * fetch_imap_parse.h: the IMAP source's parsers and encoders, apart from
 * the connection so the tests and the fuzzer can drive them. Everything
 * here reads text from the configuration or from a distrusted server:
 * lengths are given, nothing is assumed NUL-free or well formed.
 * Internal to fetch.c, fetch_imap.c and the tests.
 */
#ifndef FETCH_IMAP_PARSE_H
#define FETCH_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

struct buf;
struct fetch;

/* An IMAP URL from the configuration, taken apart. */
struct fetch_imap_url {
	int		 implicit_tls;	/* imaps://; else imap:// + STARTTLS */
	char		 host[256];	/* as written; IPv6 with its [] */
	unsigned	 port;		/* 993 or 143 when not written */
	int		 port_given;
	char		 user[256];	/* from user@host, decoded, or "" */
	char		 mailbox[1024];	/* decoded UTF-8; "INBOX" if none */
	char		 path[1024];	/* the path as written, for logs */
};

/*
 * Take url apart: imaps://[user@]host[:port][/MAILBOX] or imap://...
 * MAILBOX is percent-decoded and must be UTF-8 without control bytes.
 * A password in the URL, a query, a fragment or ";" parameters are
 * refused. Returns 0, or -1 with err set (DM_ECONFIG).
 */
int	fetch_imap_url(const char *url, struct fetch_imap_url *u,
	    struct dm_err *err);

/*
 * Append the modified UTF-7 form (RFC 3501 5.1.3) of the UTF-8 mailbox
 * name s to out. Returns 0, or -1 when s is not UTF-8, holds a control
 * byte, or out is full.
 */
int	fetch_imap_mutf7(const char *s, struct buf *out);

/*
 * The parsers of untagged response lines. line[0..len) is one line
 * without its CRLF. Each returns 1 when the line is of its kind and
 * well formed, 0 when it is another kind of line, -1 when it is of its
 * kind but malformed or over a bound.
 */

/* "* SEARCH 4 7 9": appends to uids[*n], never past uids[max - 1]. */
int	fetch_imap_parse_search(const char *line, size_t len, uint32_t *uids,
	    size_t max, size_t *n);

#define IMAP_ST_MESSAGES	0x01
#define IMAP_ST_UIDVALIDITY	0x02
#define IMAP_ST_UIDNEXT		0x04
struct fetch_imap_status {
	unsigned	 have;		/* IMAP_ST_* seen */
	uint32_t	 messages;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
};
/* "* STATUS name (MESSAGES 3 UIDVALIDITY 17)"; unknown items skipped. */
int	fetch_imap_parse_status(const char *line, size_t len,
	    struct fetch_imap_status *st);

#define IMAP_CAP_MOVE		0x01
#define IMAP_CAP_UIDPLUS	0x02
/* "* CAPABILITY IMAP4rev1 MOVE ...": ORs IMAP_CAP_* into *caps. */
int	fetch_imap_parse_caps(const char *line, size_t len, unsigned *caps);

/*
 * "* LIST (\HasNoChildren) "/" name": the name (still modified UTF-7,
 * unquoted) into name[namelen]; *selectable is 0 for \Noselect or
 * \NonExistent. A name sent as a literal is refused (-1): libcurl drops
 * literals in these responses.
 */
int	fetch_imap_parse_list(const char *line, size_t len, char *name,
	    size_t namelen, int *selectable);

/*
 * For the tests: pretend the server announced only caps (IMAP_CAP_*),
 * to drive the COPY and EXPUNGE fall-backs against a server that has
 * MOVE; and search in windows of window messages (0: the default).
 * Only between open() and close().
 */
void	fetch_imap_test_caps(struct fetch *f, unsigned caps);
void	fetch_imap_test_window(struct fetch *f, unsigned window);

#endif /* FETCH_IMAP_PARSE_H */
