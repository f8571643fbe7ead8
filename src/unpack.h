/*
 * unpack.h: from a payload (a file, an attachment) to the XML documents
 * in it, as streams: plain XML, gzip (several members, gzip in gzip),
 * zip (every entry, .xml.gz inside a zip). Decided by content, never by
 * name. Every byte that comes out is counted against the limits.
 */
#ifndef UNPACK_H
#define UNPACK_H

#include <stddef.h>

#include "bounds.h"
#include "dm.h"

/* What the first bytes of something say it is. */
enum unpack_kind {
	UNPACK_EMPTY = 0,	/* nothing, or only white space */
	UNPACK_XML,		/* '<' after optional BOM / white space */
	UNPACK_GZIP,		/* 1f 8b */
	UNPACK_ZIP,		/* PK 03 04 (or an empty PK 05 06) */
	UNPACK_JSON,		/* '{' or '[': e.g. an SMTP TLS report */
	UNPACK_MBOX,		/* "From " line */
	UNPACK_MAIL,		/* starts with an RFC 5322 header field */
	UNPACK_UNKNOWN,
};

/*
 * Classify by magic bytes; head is the first len bytes (512 are plenty).
 */
enum unpack_kind unpack_sniff(const unsigned char *head, size_t len);
const char	*unpack_kind_name(enum unpack_kind kind);

/* One payload: an open file or bytes in memory; all borrowed. */
struct unpack_in {
	const char		*name;	/* for error messages */
	int			 fd;	/* open, seekable file, or -1 */
	const unsigned char	*mem;	/* when fd == -1 */
	size_t			 len;
};

/*
 * Called once per XML document in the payload with a stream of its
 * bytes (counted against lim->max_xml and lim->max_ratio). member is
 * NULL, or a printable label for the zip entry: its stored name escaped
 * (dm_escape) and cut to 128 bytes, "(unnamed entry N)" when empty;
 * never a path, nothing is extracted.
 * A document that can't be read (an encrypted zip entry, gzip whose
 * content isn't XML, a truncated stream, a bomb) still gets its call:
 * its stream fails with the reason in xml->err. Return 0 to go on, or
 * -1 to stop (fn's own failure, e.g. the database went away).
 */
typedef int	(*unpack_fn)(void *arg, struct dm_rd *xml,
		    const char *member, struct dm_err *err);

/*
 * Hand every XML document in the payload to fn, in order. Returns 0,
 * or -1 with err set: the payload as a whole is not a report container
 * (with what it looks like instead), a zip that can't be opened, or fn
 * returned -1 (err is then fn's).
 */
int	unpack_payload(const struct unpack_in *in,
	    const struct dm_limits *lim, unpack_fn fn, void *arg,
	    struct dm_err *err);

#endif /* UNPACK_H */
