/*
 * fetch_pop3_parse.h: internal to fetch_pop3.c, exposed for its tests
 * and its fuzz target. The parser of the server's multi-line UIDL and
 * LIST listings (RFC 1939), fed in chunks as libcurl hands them over:
 * one line is held at a time, every line is checked, nothing is
 * allocated by what the server announces.
 */
#ifndef FETCH_POP3_PARSE_H
#define FETCH_POP3_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

#define POP3_UIDL_MAX	70		/* RFC 1939 section 7 */
#define POP3_LINE_MAX	512		/* one listing line, CRLF excluded */
#define POP3_MAX_LINES	1000000u	/* one listing: bounds the time */
#define POP3_SIZE_MAX	(UINT64_C(1) << 50)	/* a LIST size */

enum pop3_listing { POP3_UIDL = 1, POP3_LIST };

/* One listing line: "N UIDL" or "N SIZE". */
struct pop3_ent {
	uint32_t	 num;		/* message number, 1 and up */
	uint64_t	 size;		/* LIST: octets; UIDL: 0 */
	char		 uidl[POP3_UIDL_MAX + 1];	/* UIDL, or "" */
};

/* Called for every good line, in order; 0, or -1 with err set to stop. */
typedef int	(*pop3_ent_fn)(void *arg, const struct pop3_ent *e,
		    struct dm_err *err);

struct pop3_lines {
	enum pop3_listing	 kind;
	pop3_ent_fn		 fn;
	void			*arg;
	char			 line[POP3_LINE_MAX + 1];
	size_t			 len;
	size_t			 lineno;
	uint32_t		 last;		/* previous message number */
	int			 failed;	/* err set; the rest ignored */
	struct dm_err		 err;
};

void	pop3_lines_init(struct pop3_lines *pl, enum pop3_listing kind,
	    pop3_ent_fn fn, void *arg);
/*
 * Feed len bytes of the listing. Lines end in CRLF (a bare LF is taken
 * too); empty lines are skipped; message numbers must go up. Returns 0,
 * or -1 with pl->err set (DM_ESOURCE: the server sent junk), and -1 for
 * every call after that.
 */
int	pop3_lines_feed(struct pop3_lines *pl, const void *p, size_t len);
/* The end of the listing: a last line without CRLF is judged. 0 or -1. */
int	pop3_lines_end(struct pop3_lines *pl);
/*
 * One line, CRLF removed, into *e. UIDL: "N UIDL", UIDL 1-70 bytes of
 * 0x21-0x7E and nothing after it. LIST: "N SIZE", optionally followed
 * by a space and printable text (RFC 1939 allows more information).
 * N is 1 to 4294967295 without sign. Returns 0, or -1 with err set
 * (DM_ESOURCE) saying what is wrong, never echoing the line.
 */
int	pop3_parse_line(enum pop3_listing kind, const char *s, size_t len,
	    struct pop3_ent *e, struct dm_err *err);

#endif /* FETCH_POP3_PARSE_H */
