/*
 * unpack.c: from a payload (a file or bytes in memory) to the XML
 * documents inside, as pull streams (struct dm_rd) for the parser.
 *
 * Everything about the payload is distrusted: the kind is decided by
 * magic bytes only; gzip ISIZE and zip sizes are never believed (every
 * byte that comes out is counted here); zip entry names are labels,
 * never paths, and nothing is ever written to disk.
 *
 * Memory does not grow with the payload: a file is read with pread()
 * in 64 KiB chunks, each inflater has one 64 KiB input buffer, and the
 * only other buffer is a 512-byte peek per level used to sniff what an
 * inflated stream holds (its bytes are replayed to the next reader).
 *
 * A stream is a chain of readers, each pulling from the one below:
 *
 *	raw (fd / memory) -> gz -> replay -> [gz -> replay] -> doc
 *	zip source -> libzip -> zent -> replay -> [gz -> replay] -> doc
 *
 * Limits: every layer that produces bytes counts them against
 * lim->max_xml, and against lim->max_ratio times the outermost
 * compressed bytes consumed so far (for gzip what the outermost
 * inflater consumed; for a zip entry what libzip read from the archive
 * through our own counting source since the entry was opened). Middle
 * layers are judged too, so a gzip of empty deflate blocks inside a
 * gzip can't spin forever.
 *
 * Member names: the name handed to fn is a printable label, not the
 * stored name: the raw bytes (no CP437 guessing), at most NAME_SHOWN
 * of them, through dm_escape() with quotes: valid UTF-8 is kept,
 * control bytes, invalid UTF-8, '"' and '\' are escaped (\n, \x1b,
 * \", \\), "..." marks a cut, and an empty name becomes "(unnamed
 * entry N)". Names that look like paths ("../../etc/passwd", "/x",
 * "a\b") are read like any other: they are only labels. libzip
 * itself turns a NUL inside a name into a space.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zip.h>
#include <zlib.h>

#include "ahead.h"
#include "bounds.h"
#include "buf.h"
#include "dm.h"
#include "unpack.h"
#include "util.h"

#define CHUNK		(64u << 10)	/* one read from the payload */
#define NEST_CHUNK	(8u << 10)	/* one read by a nested inflater */
#define PEEK		512		/* sniffed from inflated data */
#define MAXREAD		(1u << 30)	/* one read() of a layer */
#define NAME_SHOWN	128		/* stored name bytes in a label */
#define HEAD_SHOWN	24		/* payload bytes in "starts with" */
#define LABEL_MAX	(NAME_SHOWN * 4 + 16)

/* What limits are judged against, shared by the layers of one stream. */
struct meter {
	const struct dm_limits	*lim;
	uint64_t		 packed;	/* outermost compressed bytes */
};

/* The payload itself: a file read with pread, or memory. */
struct raw {
	struct dm_rd		 rd;
	int			 fd;
	const unsigned char	*mem;
	size_t			 len;
	uint64_t		 off;
};

/* A gzip inflater (several members, trailing junk ignored). */
struct gz {
	struct dm_rd	 rd;
	struct dm_rd	*src;
	struct meter	*m;
	int		 outer;		/* its input is the payload */
	uInt		 inlen;		/* size of in */
	z_stream	 zs;
	int		 inited;
	int		 member;	/* inside a member, before its end */
	int		 in_eof;
	int		 done;
	int		 failed;
	uint64_t	 out;
	unsigned char	*in;		/* inlen bytes */
};

/* The first bytes of a stream, kept for sniffing, then replayed. */
struct replay {
	struct dm_rd	 rd;
	struct dm_rd	*src;
	unsigned char	 buf[PEEK];
	size_t		 len;
	size_t		 off;
	int		 eof;		/* src ended while peeking */
	int		 failed;	/* src failed: rd.err says why */
};

/* libzip's view of the payload, counting what libzip reads. */
struct zsrc {
	int			 fd;
	const unsigned char	*mem;
	uint64_t		 size;
	uint64_t		 off;
	uint64_t		 nread;
	zip_error_t		 error;
};

/* One zip entry as libzip inflates it. */
struct zent {
	struct dm_rd	 rd;
	zip_file_t	*zf;
	struct zsrc	*zs;
	uint64_t	 base;		/* zs->nread at zip_fopen */
	struct meter	*m;
	uint64_t	 out;
	int		 failed;
};

/* What fn reads: the top of a chain, with the entry label on errors. */
struct doc {
	struct dm_rd	 rd;
	struct dm_rd	*src;
	struct meter	*m;
	int		 plain;		/* no container: count here */
	const char	*label;		/* zip entry, for messages */
	uint64_t	 out;
	int		 failed;
};

/* All the layers of one document; lives on the heap, not reused. */
struct chain {
	struct meter	 m;
	struct gz	 gz[DM_MAX_NEST];
	int		 ngz;
	struct replay	 rp[DM_MAX_NEST];
	int		 nrp;
	struct doc	 doc;
};

static int
is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A header field name character: printable ASCII but ':' (RFC 5322). */
static int
is_ftext(int c)
{
	return c >= '!' && c <= '~' && c != ':';
}

/* UTF-16 code units, big or little endian: white space, then '<'. */
static enum unpack_kind
sniff_utf16(const unsigned char *p, size_t len, int big)
{
	size_t	 i;
	int	 hi, lo;

	for (i = 0; i + 1 < len; i += 2) {
		hi = big ? p[i] : p[i + 1];
		lo = big ? p[i + 1] : p[i];
		if (hi == 0 && is_ws(lo))
			continue;
		return hi == 0 && lo == '<' ? UNPACK_XML : UNPACK_UNKNOWN;
	}
	return UNPACK_EMPTY;
}

enum unpack_kind
unpack_sniff(const unsigned char *h, size_t len)
{
	size_t	 i = 0, k;

	if (len == 0)
		return UNPACK_EMPTY;
	if (len >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return UNPACK_GZIP;
	if (len >= 4 && h[0] == 'P' && h[1] == 'K' &&
	    ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6)))
		return UNPACK_ZIP;
	if (len >= 2 && h[0] == 0xfe && h[1] == 0xff)
		return sniff_utf16(h + 2, len - 2, 1);
	if (len >= 2 && h[0] == 0xff && h[1] == 0xfe)
		return sniff_utf16(h + 2, len - 2, 0);
	/* UTF-16 without a BOM: the first unit is white space or '<'. */
	if (len >= 2 && h[1] == 0 && (h[0] == '<' || is_ws(h[0])))
		return sniff_utf16(h, len, 0);
	if (len >= 2 && h[0] == 0 && (h[1] == '<' || is_ws(h[1])))
		return sniff_utf16(h, len, 1);

	if (len >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf)
		i = 3;
	while (i < len && is_ws(h[i]))
		i++;
	if (i == len)
		return UNPACK_EMPTY;
	if (h[i] == '<')
		return UNPACK_XML;
	if (h[i] == '{' || h[i] == '[')
		return UNPACK_JSON;
	if (i > 0)
		return UNPACK_UNKNOWN;
	if (len >= 5 && memcmp(h, "From ", 5) == 0)
		return UNPACK_MBOX;
	for (k = 0; k < len && is_ftext(h[k]); k++)
		;
	if (k > 0 && k < len && h[k] == ':')
		return UNPACK_MAIL;
	return UNPACK_UNKNOWN;
}

const char *
unpack_kind_name(enum unpack_kind kind)
{
	switch (kind) {
	case UNPACK_EMPTY:
		return "empty";
	case UNPACK_XML:
		return "XML";
	case UNPACK_GZIP:
		return "gzip";
	case UNPACK_ZIP:
		return "zip";
	case UNPACK_JSON:
		return "JSON";
	case UNPACK_MBOX:
		return "mbox";
	case UNPACK_MAIL:
		return "mail message";
	case UNPACK_UNKNOWN:
		break;
	}
	return "unknown data";
}

/*
 * Write p[0..n) printably into out (outsz > 4): printable ASCII as is
 * but '"' and '\', the rest as \xNN; "..." when cut (by n > shown or
 * by outsz).
 */
static void
escape(char *out, size_t outsz, const unsigned char *p, size_t n,
    size_t shown)
{
	size_t	 i, o = 0;
	int	 cut = n > shown;

	if (cut)
		n = shown;
	for (i = 0; i < n; i++) {
		if (o + 4 + 4 > outsz) {
			cut = 1;
			break;
		}
		if (p[i] == '"' || p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)p[i];
		} else if (p[i] >= 0x20 && p[i] < 0x7f)
			out[o++] = (char)p[i];
		else
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x",
			    p[i]);
	}
	if (cut && o + 4 <= outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/*
 * Judge out bytes produced by one layer; what prefixes the message
 * (NULL: the doc layer adds the zip entry instead). Returns 0 or -1
 * with err set.
 */
static int
meter_check(const struct meter *m, const char *what, int ratio,
    uint64_t out, struct dm_err *err)
{
	const char	*sep = what != NULL ? ": " : "";

	if (what == NULL)
		what = "";
	if (out > m->lim->max_xml)
		return dm_err_set(err, DM_EMSG,
		    "%s%sunpacked size over %zu bytes", what, sep,
		    m->lim->max_xml);
	if (ratio && m->lim->max_ratio > 0 && out > DM_RATIO_FLOOR &&
	    out / m->lim->max_ratio > m->packed)
		return dm_err_set(err, DM_EMSG,
		    "%s%scompression ratio over %u:1", what, sep,
		    m->lim->max_ratio);
	return 0;
}

static long
raw_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct raw	*r = rd->ctx;
	ssize_t		 n;

	if (len > MAXREAD)
		len = MAXREAD;
	if (r->fd == -1) {
		if (r->off >= r->len)
			return 0;
		if (len > r->len - r->off)
			len = r->len - r->off;
		memcpy(dst, r->mem + r->off, len);
		r->off += len;
		return (long)len;
	}
	do
		n = pread(r->fd, dst, len, (off_t)r->off);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return dm_err_set(&rd->err, DM_ESOURCE, "read: %s",
		    strerror(errno));
	r->off += (uint64_t)n;
	return (long)n;
}

static void
raw_init(struct raw *r, const struct unpack_in *in)
{
	memset(r, 0, sizeof(*r));
	r->rd.read = raw_read;
	r->rd.ctx = r;
	r->fd = in->fd;
	r->mem = in->mem;
	r->len = in->len;
}

static long
gz_fail(struct gz *g, enum dm_scope scope, const char *msg, const char *why)
{
	g->failed = 1;
	if (why != NULL)
		return dm_err_set(&g->rd.err, scope, "gzip: %s (%s)", msg,
		    why);
	return dm_err_set(&g->rd.err, scope, "gzip: %s", msg);
}

/*
 * Top up the input buffer, keeping what inflate has not consumed.
 * Returns 0 (possibly at the end of the input) or -1, error set.
 */
static int
gz_fill(struct gz *g)
{
	long	 n;

	if (g->in_eof)
		return 0;
	if (g->zs.avail_in > 0 && g->zs.next_in != g->in)
		memmove(g->in, g->zs.next_in, g->zs.avail_in);
	g->zs.next_in = g->in;
	n = dm_rd_read(g->src, g->in + g->zs.avail_in,
	    g->inlen - g->zs.avail_in);
	if (n < 0) {
		g->rd.err = g->src->err;	/* passed up unchanged */
		g->failed = 1;
		return -1;
	}
	if (n == 0)
		g->in_eof = 1;
	g->zs.avail_in += (uInt)n;
	return 0;
}

/*
 * Inflate into dst. Between members, a further 1f 8b starts the next
 * one; anything else after a member (CR/LF, NULs, junk) ends the
 * stream. The input ending inside a member is "truncated".
 */
static long
gz_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct gz	*g = rd->ctx;
	uInt		 before;
	uint64_t	 got;
	int		 zrc;

	if (g->failed)
		return -1;
	if (g->done || len == 0)
		return 0;
	if (len > MAXREAD)
		len = MAXREAD;
	g->zs.next_out = dst;
	g->zs.avail_out = (uInt)len;
	while (g->zs.avail_out == len) {
		if (g->zs.avail_in == 0 && gz_fill(g) == -1)
			return -1;
		/* a member's magic may straddle two reads */
		while (!g->member && g->zs.avail_in < 2 && !g->in_eof)
			if (gz_fill(g) == -1)
				return -1;
		if (!g->member) {
			if (g->zs.avail_in < 2 || g->zs.next_in[0] != 0x1f ||
			    g->zs.next_in[1] != 0x8b) {
				g->done = 1;	/* end, or junk: ignored */
				return 0;
			}
			if (inflateReset(&g->zs) != Z_OK)
				return gz_fail(g, DM_EINTERNAL, "reset failed",
				    NULL);
			g->member = 1;
		}
		if (g->zs.avail_in == 0)
			return gz_fail(g, DM_EMSG, "truncated", NULL);
		before = g->zs.avail_in;
		zrc = inflate(&g->zs, Z_NO_FLUSH);
		if (g->outer)
			g->m->packed += before - g->zs.avail_in;
		switch (zrc) {
		case Z_STREAM_END:
			g->member = 0;
			break;
		case Z_OK:
		case Z_BUF_ERROR:	/* wants more input: the loop reads */
			break;
		case Z_MEM_ERROR:
			return gz_fail(g, DM_EINTERNAL, "out of memory", NULL);
		default:
			return gz_fail(g, DM_EMSG, "corrupt data",
			    g->zs.msg != NULL ? g->zs.msg : "bad stream");
		}
	}
	got = len - g->zs.avail_out;
	g->out += got;
	if (meter_check(g->m, "gzip", 1, g->out, &g->rd.err) == -1) {
		g->failed = 1;
		return -1;
	}
	return (long)got;
}

static int
gz_init(struct gz *g, struct dm_rd *src, struct meter *m, int outer,
    struct dm_err *err)
{
	memset(g, 0, sizeof(*g));
	g->rd.read = gz_read;
	g->rd.ctx = g;
	g->src = src;
	g->m = m;
	g->outer = outer;
	g->member = 1;
	/*
	 * A nested inflater reads little at a time: what it has read is
	 * what the ratio is judged against when the layer below is a zip
	 * entry, so reading ahead would let a bomb run further.
	 */
	g->inlen = outer ? CHUNK : NEST_CHUNK;
	g->in = xmalloc(g->inlen);
	g->zs.next_in = g->in;
	if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
		free(g->in);
		g->in = NULL;
		return dm_err_set(err, DM_EINTERNAL, "gzip: cannot start "
		    "the inflater");
	}
	g->inited = 1;
	return 0;
}

static void
gz_clear(struct gz *g)
{
	if (g->inited)
		inflateEnd(&g->zs);
	free(g->in);
	g->in = NULL;
	g->inited = 0;
}

static long
replay_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct replay	*r = rd->ctx;
	long		 n;

	if (r->off < r->len) {
		if (len > r->len - r->off)
			len = r->len - r->off;
		memcpy(dst, r->buf + r->off, len);
		r->off += len;
		return (long)len;
	}
	if (r->failed)
		return -1;
	if (r->eof)
		return 0;
	if ((n = dm_rd_read(r->src, dst, len)) < 0) {
		rd->err = r->src->err;
		r->failed = 1;
	}
	return n;
}

/* Read up to PEEK bytes of src; a failure is kept for after them. */
static void
replay_init(struct replay *r, struct dm_rd *src)
{
	long	 n;

	memset(r, 0, sizeof(*r));
	r->rd.read = replay_read;
	r->rd.ctx = r;
	r->src = src;
	while (r->len < PEEK) {
		n = dm_rd_read(src, r->buf + r->len, PEEK - r->len);
		if (n < 0) {
			r->rd.err = src->err;
			r->failed = 1;
			break;
		}
		if (n == 0) {
			r->eof = 1;
			break;
		}
		r->len += (size_t)n;
	}
}

static long
doc_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct doc	*d = rd->ctx;
	long		 n;

	if (d->failed)
		return -1;
	if ((n = dm_rd_read(d->src, dst, len)) < 0) {
		rd->err = d->src->err;
		goto fail;
	}
	if (d->plain) {
		d->out += (uint64_t)n;
		if (meter_check(d->m, "xml", 0, d->out, &rd->err) == -1)
			goto fail;
	}
	return n;
fail:
	if (d->label != NULL)
		dm_err_prefix(&rd->err, "zip: entry \"%s\"", d->label);
	d->failed = 1;
	return -1;
}

static void
doc_init(struct doc *d, struct dm_rd *src, struct meter *m,
    const char *label)
{
	memset(d, 0, sizeof(*d));
	d->rd.read = doc_read;
	d->rd.ctx = d;
	d->src = src;
	d->m = m;
	d->label = label;
}

/* The document can't be read: its first read fails with err. */
static void
doc_fail(struct doc *d, const struct dm_err *err)
{
	d->rd.err = *err;
	if (d->label != NULL)
		dm_err_prefix(&d->rd.err, "zip: entry \"%s\"", d->label);
	d->failed = 1;
}

/*
 * Sniff what top produces (level containers deep, what names the
 * innermost container for messages, NULL for a zip entry) and build
 * the rest of the chain: a gzip inside gets an inflater, XML is handed
 * over, anything else makes the document fail.
 */
static void
chain_open(struct chain *c, struct dm_rd *top, int level, const char *what,
    const char *label)
{
	struct dm_err		 e = { 0 };
	struct replay		*r;
	enum unpack_kind	 kind;
	char			 head[HEAD_SHOWN * 4 + 8];
	const char		*w = what != NULL ? what : "";
	const char		*sep = what != NULL ? ": " : "";

	doc_init(&c->doc, NULL, &c->m, label);
	for (;;) {
		if (c->nrp == DM_MAX_NEST) {	/* level check stops it */
			dm_err_set(&e, DM_EINTERNAL, "unpack: chain full");
			goto fail;
		}
		r = &c->rp[c->nrp++];
		replay_init(r, top);
		kind = unpack_sniff(r->buf, r->len);
		if (r->failed && (r->len == 0 || kind != UNPACK_XML)) {
			e = r->rd.err;	/* the read error says more */
			goto fail;
		}
		if (kind == UNPACK_XML) {
			c->doc.src = &r->rd;
			return;
		}
		if (kind == UNPACK_GZIP) {
			if (level >= DM_MAX_NEST) {
				dm_err_set(&e, DM_EMSG, "%s%snested more than "
				    "%d containers deep", w, sep, DM_MAX_NEST);
				goto fail;
			}
			if (gz_init(&c->gz[c->ngz], &r->rd, &c->m, 0, &e) == -1)
				goto fail;
			top = &c->gz[c->ngz++].rd;
			level++;
			what = w = "gzip";
			sep = ": ";
			continue;
		}
		if (kind == UNPACK_ZIP && what == NULL) {
			dm_err_set(&e, DM_EMSG, "nested zip not supported");
			goto fail;
		}
		if (kind == UNPACK_EMPTY && r->len == 0)
			dm_err_set(&e, DM_EMSG, "%s%scontent is not XML "
			    "(empty)", w, sep);
		else {
			escape(head, sizeof(head), r->buf, r->len, HEAD_SHOWN);
			dm_err_set(&e, DM_EMSG, "%s%scontent is not XML (looks "
			    "like %s, starts with \"%s\")", w, sep,
			    unpack_kind_name(kind), head);
		}
		goto fail;
	}
fail:
	doc_fail(&c->doc, &e);
}

static struct chain *
chain_new(const struct dm_limits *lim)
{
	struct chain	*c = xcalloc(1, sizeof(*c));

	c->m.lim = lim;
	return c;
}

static void
chain_free(struct chain *c)
{
	int	 i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ngz; i++)
		gz_clear(&c->gz[i]);
	free(c);
}

static int
unpack_plain(const struct unpack_in *in, const struct dm_limits *lim,
    unpack_fn fn, void *arg, struct dm_err *err)
{
	struct raw	 raw;
	struct meter	 m = { lim, 0 };
	struct doc	 d;

	raw_init(&raw, in);
	doc_init(&d, &raw.rd, &m, NULL);
	d.plain = 1;
	return fn(arg, &d.rd, NULL, err);
}

static int
unpack_gzip(const struct unpack_in *in, const struct dm_limits *lim,
    unpack_fn fn, void *arg, struct dm_err *err)
{
	struct raw	 raw;
	struct chain	*c;
	struct ahead	 ah;
	int		 rc = -1;

	raw_init(&raw, in);
	c = chain_new(lim);
	if (gz_init(&c->gz[0], &raw.rd, &c->m, 1, err) == -1)
		goto out;
	c->ngz = 1;
	chain_open(c, &c->gz[0].rd, 1, "gzip", NULL);
	ahead_init(&ah, &c->doc.rd, AHEAD_AFTER);
	rc = fn(arg, &ah.rd, NULL, err);
	ahead_clear(&ah);
out:
	chain_free(c);
	return rc;
}

/* libzip reads the payload through this, so we can count. */
static zip_int64_t
zsrc_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct zsrc	*z = ud;
	zip_stat_t	*st;
	zip_int64_t	 off;
	ssize_t		 n;

	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		z->off = 0;
		return 0;
	case ZIP_SOURCE_READ:
		if (z->off >= z->size)
			return 0;
		if (len > z->size - z->off)
			len = z->size - z->off;
		if (len > MAXREAD)
			len = MAXREAD;
		if (z->fd == -1) {
			memcpy(data, z->mem + z->off, len);
			n = (ssize_t)len;
		} else {
			do
				n = pread(z->fd, data, len, (off_t)z->off);
			while (n == -1 && errno == EINTR);
			if (n == -1) {
				zip_error_set(&z->error, ZIP_ER_READ, errno);
				return -1;
			}
		}
		z->off += (uint64_t)n;
		z->nread += (uint64_t)n;
		return n;
	case ZIP_SOURCE_CLOSE:
		return 0;
	case ZIP_SOURCE_STAT:
		if (len < sizeof(*st)) {
			zip_error_set(&z->error, ZIP_ER_INVAL, 0);
			return -1;
		}
		st = data;
		zip_stat_init(st);
		st->size = z->size;
		st->valid |= ZIP_STAT_SIZE;
		return sizeof(*st);
	case ZIP_SOURCE_ERROR:
		return zip_error_to_data(&z->error, data, len);
	case ZIP_SOURCE_FREE:
		return 0;	/* z belongs to unpack_zip() */
	case ZIP_SOURCE_SEEK:
		off = zip_source_seek_compute_offset(z->off, z->size, data,
		    len, &z->error);
		if (off < 0)
			return -1;
		z->off = (uint64_t)off;
		return 0;
	case ZIP_SOURCE_TELL:
		return (zip_int64_t)z->off;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN,
		    ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
		    ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, ZIP_SOURCE_SEEK,
		    ZIP_SOURCE_TELL, ZIP_SOURCE_SUPPORTS, -1);
	default:
		zip_error_set(&z->error, ZIP_ER_OPNOTSUPP, 0);
		return -1;
	}
}

static long
zent_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct zent	*z = rd->ctx;
	zip_int64_t	 n;

	if (z->failed)
		return -1;
	if (len > MAXREAD)
		len = MAXREAD;
	n = zip_fread(z->zf, dst, len);
	if (n < 0) {
		z->failed = 1;
		return dm_err_set(&rd->err, DM_EMSG, "read error (%s)",
		    zip_file_strerror(z->zf));
	}
	z->m->packed = z->zs->nread - z->base;
	z->out += (uint64_t)n;
	if (meter_check(z->m, NULL, 1, z->out, &rd->err) == -1) {
		z->failed = 1;
		return -1;
	}
	return (long)n;
}

/*
 * The printable label of entry i: the stored name cut to NAME_SHOWN
 * bytes, escaped by dm_escape() (valid UTF-8 kept, control bytes,
 * invalid UTF-8, '"' and '\' escaped), "..." when cut.
 */
static void
make_label(char *out, size_t outsz, const char *name, zip_uint64_t i)
{
	char		 raw[NAME_SHOWN + 1];
	struct buf	 b;
	size_t		 n = strlen(name);

	if (n == 0) {
		snprintf(out, outsz, "(unnamed entry %llu)",
		    (unsigned long long)i);
		return;
	}
	memcpy(raw, name, n < NAME_SHOWN ? n : NAME_SHOWN);
	raw[n < NAME_SHOWN ? n : NAME_SHOWN] = '\0';
	buf_init(&b, outsz - 4);
	if (dm_escape(&b, raw, 1) == -1)	/* can't: 4 bytes per byte */
		buf_reset(&b);
	snprintf(out, outsz, "%s%s", buf_cstr(&b), n > NAME_SHOWN ? "..." :
	    "");
	buf_clear(&b);
}

/* Is entry i a directory (skipped)? Names are already checked non-NULL. */
static int
is_dir_entry(const zip_stat_t *st)
{
	size_t	 n = strlen(st->name);

	return n > 0 && st->name[n - 1] == '/';
}

/*
 * One file entry: refuse what we can't read (encrypted, other methods)
 * by a failing stream, read the rest through a counting zent, and hand
 * it to fn under a printable label.
 */
static int
unpack_zip_entry(zip_t *za, zip_uint64_t i, const zip_stat_t *st,
    struct zsrc *zs, const struct dm_limits *lim, unpack_fn fn, void *arg,
    struct dm_err *err)
{
	struct chain	*c;
	struct zent	 ze;
	struct ahead	 ah;
	struct dm_err	 e = { 0 };
	char		 label[LABEL_MAX];
	int		 rc;

	make_label(label, sizeof(label), st->name, i);
	c = chain_new(lim);
	doc_init(&c->doc, NULL, &c->m, label);
	memset(&ze, 0, sizeof(ze));

	if ((st->valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	    st->encryption_method != ZIP_EM_NONE) {
		dm_err_set(&e, DM_EMSG, "encrypted");
		doc_fail(&c->doc, &e);
	} else if (!(st->valid & ZIP_STAT_COMP_METHOD) ||
	    (st->comp_method != ZIP_CM_STORE &&
	    st->comp_method != ZIP_CM_DEFLATE)) {
		dm_err_set(&e, DM_EMSG, "compression method %d not supported",
		    (int)st->comp_method);
		doc_fail(&c->doc, &e);
	} else {
		ze.base = zs->nread;
		if ((ze.zf = zip_fopen_index(za, i, 0)) == NULL) {
			dm_err_set(&e, DM_EMSG, "cannot open (%s)",
			    zip_strerror(za));
			doc_fail(&c->doc, &e);
		} else {
			ze.rd.read = zent_read;
			ze.rd.ctx = &ze;
			ze.zs = zs;
			ze.m = &c->m;
			chain_open(c, &ze.rd, 1, NULL, label);
		}
	}
	ahead_init(&ah, &c->doc.rd, AHEAD_AFTER);
	rc = fn(arg, &ah.rd, label, err);
	ahead_clear(&ah);
	chain_free(c);
	if (ze.zf != NULL)
		zip_fclose(ze.zf);
	return rc;
}

static int
unpack_zip(const struct unpack_in *in, const struct dm_limits *lim,
    unpack_fn fn, void *arg, struct dm_err *err)
{
	struct zsrc	 zs;
	struct stat	 sb;
	zip_error_t	 ze;
	zip_source_t	*src;
	zip_t		*za = NULL;
	zip_stat_t	 st;
	zip_int64_t	 n, i;
	unsigned	 files = 0;
	int		 rc = -1;

	memset(&zs, 0, sizeof(zs));
	zs.fd = in->fd;
	zs.mem = in->mem;
	zs.size = in->len;
	if (in->fd != -1) {
		if (fstat(in->fd, &sb) == -1)
			return dm_err_set(err, DM_ESOURCE, "stat: %s",
			    strerror(errno));
		zs.size = (uint64_t)sb.st_size;
	}
	zip_error_init(&zs.error);
	zip_error_init(&ze);
	if ((src = zip_source_function_create(zsrc_cb, &zs, &ze)) == NULL) {
		dm_err_set(err, DM_EINTERNAL, "zip: %s",
		    zip_error_strerror(&ze));
		goto out;
	}
	if ((za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS,
	    &ze)) == NULL) {
		zip_source_free(src);	/* still ours when open fails */
		dm_err_set(err, DM_EMSG, "zip: cannot open (%s)",
		    zip_error_strerror(&ze));
		goto out;
	}

	/* Count first: a payload with too many files is refused whole. */
	n = zip_get_num_entries(za, 0);
	for (i = 0; i < n; i++) {
		if (zip_stat_index(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW,
		    &st) == -1 || !(st.valid & ZIP_STAT_NAME) ||
		    st.name == NULL) {
			dm_err_set(err, DM_EMSG, "zip: entry %lld: %s",
			    (long long)i, zip_strerror(za));
			goto out;
		}
		if (!is_dir_entry(&st) && ++files > DM_MAX_ZIP_ENTRIES) {
			dm_err_set(err, DM_EMSG, "zip: more than %d entries",
			    DM_MAX_ZIP_ENTRIES);
			goto out;
		}
	}
	if (files == 0) {
		dm_err_set(err, DM_EMSG, "zip: no entries");
		goto out;
	}

	for (i = 0; i < n; i++) {
		if (zip_stat_index(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW,
		    &st) == -1) {
			dm_err_set(err, DM_EMSG, "zip: entry %lld: %s",
			    (long long)i, zip_strerror(za));
			goto out;
		}
		if (is_dir_entry(&st))
			continue;
		if (unpack_zip_entry(za, (zip_uint64_t)i, &st, &zs, lim, fn,
		    arg, err) == -1)
			goto out;	/* fn's err */
	}
	rc = 0;
out:
	if (za != NULL)
		zip_discard(za);
	zip_error_fini(&ze);
	zip_error_fini(&zs.error);
	return rc;
}

int
unpack_payload(const struct unpack_in *in, const struct dm_limits *lim,
    unpack_fn fn, void *arg, struct dm_err *err)
{
	unsigned char		 head[PEEK];
	char			 shown[HEAD_SHOWN * 4 + 8];
	size_t			 hlen = 0;
	ssize_t			 n;
	enum unpack_kind	 kind;

	if (in->fd != -1) {
		while (hlen < sizeof(head)) {
			n = pread(in->fd, head + hlen, sizeof(head) - hlen,
			    (off_t)hlen);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1)
				return dm_err_set(err, DM_ESOURCE, "read: %s",
				    strerror(errno));
			if (n == 0)
				break;
			hlen += (size_t)n;
		}
	} else {
		hlen = in->len < sizeof(head) ? in->len : sizeof(head);
		if (hlen > 0)
			memcpy(head, in->mem, hlen);
	}

	switch ((kind = unpack_sniff(head, hlen))) {
	case UNPACK_XML:
		return unpack_plain(in, lim, fn, arg, err);
	case UNPACK_GZIP:
		return unpack_gzip(in, lim, fn, arg, err);
	case UNPACK_ZIP:
		return unpack_zip(in, lim, fn, arg, err);
	case UNPACK_EMPTY:
		return dm_err_set(err, DM_EMSG, "not a report: empty");
	case UNPACK_JSON:
		return dm_err_set(err, DM_EMSG, "not a report: looks like "
		    "JSON (an SMTP TLS report?)");
	case UNPACK_MBOX:
	case UNPACK_MAIL:
		return dm_err_set(err, DM_EMSG, "not a report: looks like %s "
		    "%s", kind == UNPACK_MBOX ? "an" : "a",
		    unpack_kind_name(kind));
	case UNPACK_UNKNOWN:
		break;
	}
	escape(shown, sizeof(shown), head, hlen, HEAD_SHOWN);
	return dm_err_set(err, DM_EMSG, "not a report: unknown data (starts "
	    "with \"%s\")", shown);
}
