/*
 * fetch_imap.c: an IMAP mailbox as a queue, through libcurl.
 *
 * The server is distrusted: every reply is collected into a bounded
 * buffer and parsed line by line against maximums; a message is fetched
 * into the caller's bounded buffer and the transfer is aborted when it
 * outgrows it. TLS is mandatory: imaps:// is implicit TLS, imap:// is
 * STARTTLS that fails when the server does not offer it, and the
 * certificate is always verified. Secrets are wiped once libcurl has
 * its copy, and libcurl's verbose output (which shows AUTHENTICATE
 * lines) is never turned on.
 *
 * How a message leaves the queue (ack):
 *   move    UID MOVE to processed_folder (UID COPY + \Deleted + UID
 *           EXPUNGE without MOVE; plain EXPUNGE without UIDPLUS);
 *   seen    flags \Seen and the keyword $dmarcd-done, and the listing
 *           skips messages with that keyword. \Seen alone can't mark
 *           "processed": fetching BODY[] sets it, and a person reading
 *           the mailbox sets it too;
 *   delete  \Deleted + UID EXPUNGE.
 * A rejected message goes to invalid_folder whatever "after" says.
 * Folders are created when missing. Messages flagged \Deleted are never
 * listed: they are on their way out.
 *
 * libcurl facts this file leans on (7.88): only untagged lines of a
 * CUSTOMREQUEST reach the write callback; the custom request is
 * percent-decoded (so '%' is sent as %25); a reply line longer than
 * half of CURLOPT_BUFFERSIZE is silently clipped (so SEARCH is asked
 * in windows of sequence numbers, each answer short); any error closes
 * the connection and the next transfer logs in again.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "fetch.h"
#include "fetch_imap_parse.h"
#include "log.h"
#include "util.h"

#define IMAP_MAX_REPLY		(1u << 20)	/* untagged lines, one command */
#define IMAP_WINDOW		1000u		/* messages per UID SEARCH */
#define IMAP_BUFSIZE		(64L << 10)	/* libcurl's line buffer */
#define IMAP_DONE_KEYWORD	"$dmarcd-done"

struct imap {
	CURL			*curl;
	struct fetch_imap_url	 url;
	char			 hostport[300];	/* for error messages */
	struct buf		 base;		/* imaps://host:port */
	struct buf		 mbox;		/* URL-escaped, modified UTF-7 */
	struct buf		 qmbox;		/* quoted, modified UTF-7 */
	struct folder {
		const char	*name;		/* UTF-8, from the conf */
		struct buf	 enc;		/* modified UTF-7 */
		struct buf	 quoted;
		int		 exists;
	}			 processed, invalid;
	unsigned		 caps;
	unsigned		 window;
	struct buf		 reply;		/* untagged lines of a command */
	int			 reply_over;
	struct buf		*msg;		/* get(): the message */
	int			 msg_over;
	char			 errbuf[CURL_ERROR_SIZE];
	char			 said[200];	/* the last tagged NO/BAD */
	char			 bye[200];	/* an untagged BYE */
	int			 logout;	/* we sent LOGOUT */
};

static void	imap_close(struct fetch *);

/* --- parsing -------------------------------------------------------------- */

/* Case-insensitive: does line[0..len) start with the word w? */
static int
starts(const char *line, size_t len, const char *w)
{
	size_t	 n = strlen(w);

	return len >= n && strncasecmp(line, w, n) == 0;
}

/* A number of at most max; *pp moves past it. Returns 0 or -1. */
static int
number(const char **pp, const char *end, uint64_t max, uint64_t *v)
{
	const char	*p = *pp;
	unsigned	 d;

	*v = 0;
	if (p == end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		d = (unsigned)(*p - '0');
		if (*v > (max - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	*pp = p;
	return 0;
}

int
fetch_imap_parse_search(const char *line, size_t len, uint32_t *uids,
    size_t max, size_t *n)
{
	const char	*p = line + 9, *end = line + len;
	uint64_t	 v;

	if (!starts(line, len, "* SEARCH") || (len > 8 && line[8] != ' '))
		return 0;
	while (p < end) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '(')	/* CONDSTORE's (MODSEQ n): not ours */
			break;
		if (number(&p, end, UINT32_MAX, &v) == -1 || v == 0)
			return -1;
		if (p < end && *p != ' ')
			return -1;
		if (*n >= max)
			return -1;
		uids[(*n)++] = (uint32_t)v;
	}
	return 1;
}

/*
 * Skip an astring (atom or quoted string) at *pp; copy it unquoted to
 * out[outlen] when out is not NULL. A literal is refused. Returns 0 or
 * -1.
 */
static int
astring(const char **pp, const char *end, char *out, size_t outlen)
{
	const char	*p = *pp;
	size_t		 o = 0;

	if (p == end)
		return -1;
	if (*p == '{')
		return -1;
	if (*p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\') {
				if (++p == end || (*p != '\\' && *p != '"'))
					return -1;
			}
			if (*p == '\0' || *p == '\r' || *p == '\n')
				return -1;
			if (out != NULL) {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = *p;
			}
		}
		if (p == end)
			return -1;
		p++;
	} else {
		for (; p < end && *p != ' ' && *p != '(' && *p != ')'; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f ||
			    *p == '"' || *p == '{' || *p == '\\')
				return -1;
			if (out != NULL) {
				if (o + 1 >= outlen)
					return -1;
				out[o++] = *p;
			}
		}
		if (p == *pp)
			return -1;
	}
	if (out != NULL)
		out[o] = '\0';
	*pp = p;
	return 0;
}

int
fetch_imap_parse_status(const char *line, size_t len,
    struct fetch_imap_status *st)
{
	const char	*p = line + 9, *end = line + len, *key;
	size_t		 klen;
	uint64_t	 v;

	if (!starts(line, len, "* STATUS "))
		return 0;
	memset(st, 0, sizeof(*st));
	if (astring(&p, end, NULL, 0) == -1)
		return -1;
	if (end - p < 2 || p[0] != ' ' || p[1] != '(')
		return -1;
	p += 2;
	while (p < end && *p != ')') {
		key = p;
		while (p < end && isalpha((unsigned char)*p))
			p++;
		klen = (size_t)(p - key);
		if (klen == 0 || p == end || *p != ' ')
			return -1;
		p++;
		/* HIGHESTMODSEQ is 63 bits; the rest 32 */
		if (number(&p, end, UINT64_MAX >> 1, &v) == -1)
			return -1;
		if (klen == 8 && strncasecmp(key, "MESSAGES", 8) == 0) {
			if (v > UINT32_MAX)
				return -1;
			st->messages = (uint32_t)v;
			st->have |= IMAP_ST_MESSAGES;
		} else if (klen == 11 &&
		    strncasecmp(key, "UIDVALIDITY", 11) == 0) {
			if (v == 0 || v > UINT32_MAX)
				return -1;
			st->uidvalidity = (uint32_t)v;
			st->have |= IMAP_ST_UIDVALIDITY;
		} else if (klen == 7 && strncasecmp(key, "UIDNEXT", 7) == 0) {
			if (v == 0 || v > UINT32_MAX)
				return -1;
			st->uidnext = (uint32_t)v;
			st->have |= IMAP_ST_UIDNEXT;
		}
		if (p < end && *p == ' ')
			p++;
	}
	if (p == end || p + 1 != end)	/* the ')' ends the line */
		return -1;
	return 1;
}

int
fetch_imap_parse_caps(const char *line, size_t len, unsigned *caps)
{
	const char	*p = line + 12, *end = line + len, *w;
	size_t		 wlen;

	if (!starts(line, len, "* CAPABILITY") ||
	    (len > 12 && line[12] != ' '))
		return 0;
	while (p < end) {
		if (*p == ' ') {
			p++;
			continue;
		}
		w = p;
		while (p < end && *p != ' ') {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return -1;
			p++;
		}
		wlen = (size_t)(p - w);
		if (wlen == 4 && strncasecmp(w, "MOVE", 4) == 0)
			*caps |= IMAP_CAP_MOVE;
		else if (wlen == 7 && strncasecmp(w, "UIDPLUS", 7) == 0)
			*caps |= IMAP_CAP_UIDPLUS;
	}
	return 1;
}

int
fetch_imap_parse_list(const char *line, size_t len, char *name,
    size_t namelen, int *selectable)
{
	const char	*p = line + 8, *end = line + len, *w;
	size_t		 wlen;

	if (!starts(line, len, "* LIST ("))
		return 0;
	*selectable = 1;
	while (p < end && *p != ')') {
		if (*p == ' ') {
			p++;
			continue;
		}
		w = p;
		while (p < end && *p != ' ' && *p != ')') {
			if ((unsigned char)*p < 0x20 || *p == 0x7f ||
			    *p == '(' || *p == '"')
				return -1;
			p++;
		}
		wlen = (size_t)(p - w);
		if ((wlen == 9 && strncasecmp(w, "\\Noselect", 9) == 0) ||
		    (wlen == 12 && strncasecmp(w, "\\NonExistent", 12) == 0))
			*selectable = 0;
	}
	if (p == end || ++p == end || *p++ != ' ')
		return -1;
	/* the hierarchy delimiter: NIL or a quoted character */
	if (end - p >= 3 && strncasecmp(p, "NIL", 3) == 0)
		p += 3;
	else if (astring(&p, end, NULL, 0) == -1)
		return -1;
	if (p == end || *p++ != ' ')
		return -1;
	if (astring(&p, end, name, namelen) == -1)
		return -1;
	/* LIST-EXTENDED data may follow; we asked for none */
	if (p != end && *p != ' ')
		return -1;
	return 1;
}

/* --- names and URLs ------------------------------------------------------- */

/*
 * Decode one UTF-8 character at s[0..len): its code point into *cp and
 * its length as the return value, or -1 when it is not well formed
 * (overlong, surrogate, past U+10FFFF, truncated).
 */
static int
utf8_char(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t	 c, min;
	int		 n, i;

	if (len == 0)
		return -1;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else
		return -1;
	if ((size_t)n > len)
		return -1;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

static const char mutf7_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int
fetch_imap_mutf7(const char *s, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s);
	uint32_t		 cp, bits = 0;
	unsigned		 nbits = 0, u[2], nu, i;
	int			 n, in_b64 = 0;

	while (len > 0) {
		if ((n = utf8_char(p, len, &cp)) == -1)
			return -1;
		p += n;
		len -= (size_t)n;
		if (cp < 0x20 || cp == 0x7f)
			return -1;
		if (cp < 0x80) {
			if (in_b64) {
				/* flush, zero-padded to a base64 digit */
				if (nbits > 0 && buf_addc(out,
				    mutf7_b64[(bits << (6 - nbits)) & 0x3f]) ==
				    -1)
					return -1;
				if (buf_addc(out, '-') == -1)
					return -1;
				in_b64 = 0;
				nbits = 0;
				bits = 0;
			}
			if (buf_addc(out, (int)cp) == -1)
				return -1;
			if (cp == '&' && buf_addc(out, '-') == -1)
				return -1;
			continue;
		}
		if (!in_b64) {
			if (buf_addc(out, '&') == -1)
				return -1;
			in_b64 = 1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			u[0] = 0xd800 | (cp >> 10);
			u[1] = 0xdc00 | (cp & 0x3ff);
			nu = 2;
		} else {
			u[0] = cp;
			nu = 1;
		}
		for (i = 0; i < nu; i++) {
			bits = (bits << 16) | u[i];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				if (buf_addc(out,
				    mutf7_b64[(bits >> nbits) & 0x3f]) == -1)
					return -1;
			}
			bits &= (1u << nbits) - 1;
		}
	}
	if (in_b64) {
		if (nbits > 0 && buf_addc(out,
		    mutf7_b64[(bits << (6 - nbits)) & 0x3f]) == -1)
			return -1;
		if (buf_addc(out, '-') == -1)
			return -1;
	}
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decode s[0..len) into out[outlen]; %00 is refused. Returns 0
 * or -1.
 */
static int
pct_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t		 i, o = 0;
	int		 c, hi, lo;

	for (i = 0; i < len; i++) {
		if (o + 1 >= outlen)
			return -1;
		c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3 || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				return -1;
			c = hi << 4 | lo;
			if (c == 0)
				return -1;
			i += 2;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* 1 if s[0..len) is a usable mailbox name: UTF-8, no control bytes. */
static int
valid_name(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || !is_utf8(s, len))
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
fetch_imap_url(const char *url, struct fetch_imap_url *u, struct dm_err *err)
{
	const char	*p, *auth, *aend, *at, *host, *hend, *colon, *q;
	size_t		 n;
	uint64_t	 port;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, "imaps://", 8) == 0) {
		u->implicit_tls = 1;
		u->port = 993;
		auth = url + 8;
	} else if (strncasecmp(url, "imap://", 7) == 0) {
		u->port = 143;
		auth = url + 7;
	} else
		return dm_err_set(err, DM_ECONFIG, "imap: url must be "
		    "imaps://HOST/MAILBOX or imap://HOST/MAILBOX (STARTTLS)");
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' ||
		    *p == '#' || *p == ';')
			return dm_err_set(err, DM_ECONFIG, "imap: url: "
			    "blanks, control bytes, '?', '#' and ';' must "
			    "be written %%XX");
	aend = auth + strcspn(auth, "/");
	/* userinfo: up to the last '@' of the authority */
	at = NULL;
	for (q = auth; q < aend; q++)
		if (*q == '@')
			at = q;
	host = auth;
	if (at != NULL) {
		if (memchr(auth, ':', (size_t)(at - auth)) != NULL)
			return dm_err_set(err, DM_ECONFIG, "imap: url must "
			    "not hold a password: use password_file");
		if (pct_decode(auth, (size_t)(at - auth), u->user,
		    sizeof(u->user)) == -1 || !valid_name(u->user,
		    strlen(u->user)))
			return dm_err_set(err, DM_ECONFIG, "imap: url: bad "
			    "user name");
		host = at + 1;
	}
	if (*host == '[') {
		if ((hend = memchr(host, ']', (size_t)(aend - host))) == NULL)
			return dm_err_set(err, DM_ECONFIG, "imap: url: "
			    "unclosed [");
		hend++;
		colon = hend < aend && *hend == ':' ? hend : NULL;
		if (hend < aend && colon == NULL)
			return dm_err_set(err, DM_ECONFIG, "imap: url: bad "
			    "host");
	} else {
		colon = memchr(host, ':', (size_t)(aend - host));
		hend = colon != NULL ? colon : aend;
	}
	n = (size_t)(hend - host);
	if (n == 0 || n >= sizeof(u->host))
		return dm_err_set(err, DM_ECONFIG, "imap: url has no host");
	for (q = host; q < hend; q++) {
		if (isalnum((unsigned char)*q) || *q == '-' || *q == '.' ||
		    *q == '_')
			continue;
		/* [v6] only in brackets */
		if (*host == '[' && (*q == ':' || (*q == '[' && q == host) ||
		    (*q == ']' && q == hend - 1)))
			continue;
		return dm_err_set(err, DM_ECONFIG, "imap: url: bad host");
	}
	memcpy(u->host, host, n);
	if (colon != NULL) {
		q = colon + 1;
		if (number(&q, aend, 65535, &port) == -1 || q != aend ||
		    port == 0)
			return dm_err_set(err, DM_ECONFIG, "imap: url: bad "
			    "port");
		u->port = (unsigned)port;
		u->port_given = 1;
	}
	p = aend;
	if (*p == '/')
		p++;
	n = strlen(p);
	if (n >= sizeof(u->path))
		return dm_err_set(err, DM_ECONFIG, "imap: url: mailbox name "
		    "too long");
	memcpy(u->path, p, n + 1);
	if (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0) {
		snprintf(u->mailbox, sizeof(u->mailbox), "INBOX");
		return 0;
	}
	if (pct_decode(p, n, u->mailbox, sizeof(u->mailbox)) == -1)
		return dm_err_set(err, DM_ECONFIG, "imap: url: bad %%XX in "
		    "the mailbox");
	if (!valid_name(u->mailbox, strlen(u->mailbox)))
		return dm_err_set(err, DM_ECONFIG, "imap: url: the mailbox "
		    "must be UTF-8 without control characters");
	return 0;
}

/* --- the connection ------------------------------------------------------- */

/* Append s to b percent-escaped: all but letters, digits and "-_~". */
static int
url_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || *s == '-' || *s == '_' ||
		    *s == '~') {
			if (buf_addc(b, *s) == -1)
				return -1;
		} else if (buf_printf(b, "%%%02X", (unsigned char)*s) == -1)
			return -1;
	}
	return 0;
}

/* Append s as an IMAP quoted string (s is printable ASCII). */
static int
quote(struct buf *b, const char *s)
{
	if (buf_addc(b, '"') == -1)
		return -1;
	for (; *s != '\0'; s++) {
		if ((*s == '"' || *s == '\\') && buf_addc(b, '\\') == -1)
			return -1;
		if (buf_addc(b, *s) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

static int
folder_init(struct folder *fo, const char *name, const char *key,
    struct dm_err *err)
{
	fo->name = name;
	buf_init(&fo->enc, 4096);
	buf_init(&fo->quoted, 8192);
	fo->exists = 0;
	if (!valid_name(name, strlen(name)) ||
	    fetch_imap_mutf7(name, &fo->enc) == -1 ||
	    quote(&fo->quoted, buf_cstr(&fo->enc)) == -1)
		return dm_err_set(err, DM_ECONFIG, "imap: %s must be UTF-8 "
		    "without control characters, under 1024 bytes", key);
	return 0;
}

static void
folder_clear(struct folder *fo)
{
	buf_clear(&fo->enc);
	buf_clear(&fo->quoted);
}

static size_t
reply_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct imap	*im = arg;
	size_t		 n = size * nmemb;

	if (buf_add(&im->reply, p, n) == -1) {
		im->reply_over = 1;
		return 0;
	}
	return n;
}

static size_t
msg_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct imap	*im = arg;
	size_t		 n = size * nmemb;

	if (im->msg == NULL || buf_add(im->msg, p, n) == -1) {
		im->msg_over = 1;
		return 0;
	}
	return n;
}

/* The next line of b from *off, without its CRLF. Returns 1 or 0. */
static int
next_line(const struct buf *b, size_t *off, const char **line, size_t *len)
{
	const char	*p, *nl;
	size_t		 left;

	if (*off >= b->len)
		return 0;
	p = b->data + *off;
	left = b->len - *off;
	nl = memchr(p, '\n', left);
	*len = nl != NULL ? (size_t)(nl - p) : left;
	*off += *len + (nl != NULL);
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	*line = p;
	return 1;
}

/* Server text for a message: printable ASCII, at most outlen - 1. */
static void
clean(char *out, size_t outlen, const char *s, size_t len)
{
	size_t	 i, o = 0;

	for (i = 0; i < len && s[i] != '\0' && o + 1 < outlen; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			continue;
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	out[o] = '\0';
}

/*
 * libcurl's protocol trace: only the server's lines are read, to keep
 * the text of its last NO or BAD and of a BYE for the error message.
 * What we send (AUTHENTICATE with its secret) and the data are dropped
 * unseen, and nothing is ever printed.
 */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct imap	*im = arg;
	const char	*sp;

	(void)h;
	if (type == CURLINFO_HEADER_OUT) {
		/* only whether it is "TAG LOGOUT": its BYE is no news */
		if ((sp = memchr(data, ' ', size)) != NULL &&
		    size - (size_t)(sp - data) >= 7 &&
		    strncasecmp(sp + 1, "LOGOUT", 6) == 0)
			im->logout = 1;
		return 0;
	}
	if (type != CURLINFO_HEADER_IN || size < 2)
		return 0;
	if (size > 6 && strncasecmp(data, "* BYE ", 6) == 0) {
		if (im->logout)
			return 0;
		clean(im->bye, sizeof(im->bye), data + 6, size - 6);
		return 0;
	}
	if (data[0] == '*' || data[0] == '+')
		return 0;
	/* a tagged reply: "A004 NO [CANNOT] why" */
	if ((sp = memchr(data, ' ', size)) == NULL)
		return 0;
	sp++;
	size -= (size_t)(sp - data);
	if ((size >= 3 && strncasecmp(sp, "NO ", 3) == 0) ||
	    (size >= 4 && strncasecmp(sp, "BAD ", 4) == 0))
		clean(im->said, sizeof(im->said), sp, size);
	return 0;
}

/* Forget what the server said before the next transfer. */
static void
transfer_reset(struct imap *im)
{
	im->errbuf[0] = '\0';
	im->said[0] = '\0';
	im->bye[0] = '\0';
	im->logout = 0;
}

/* Turn a failed transfer into err (DM_ESOURCE), naming the server. */
static int
fail(struct fetch *f, CURLcode rc, const char *what, struct dm_err *err)
{
	struct imap	*im = f->priv;
	char		 detail[CURL_ERROR_SIZE], reason[400];
	const char	*d, *mech;
	long		 oserr = 0;

	d = im->errbuf[0] != '\0' ? im->errbuf : curl_easy_strerror(rc);
	if (strncmp(d, "SSL certificate problem: ", 25) == 0)
		d += 25;
	else if (strncmp(d, "SSL: ", 5) == 0)
		d += 5;
	clean(detail, sizeof(detail), d, strlen(d));
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(reason, sizeof(reason), "cannot resolve the host (%s)",
		    detail);
		break;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(im->curl, CURLINFO_OS_ERRNO, &oserr);
		snprintf(reason, sizeof(reason), "cannot connect (%s)",
		    oserr != 0 ? strerror((int)oserr) : detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(reason, sizeof(reason), "timed out (%s)", detail);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		snprintf(reason, sizeof(reason), "certificate verify failed "
		    "(%s)", detail);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(reason, sizeof(reason), "cannot use the CA file "
		    "(%s)", detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		snprintf(reason, sizeof(reason), "TLS failed (%s)", detail);
		break;
	case CURLE_USE_SSL_FAILED:
		snprintf(reason, sizeof(reason), "the server does not offer "
		    "STARTTLS: refusing to log in without TLS");
		break;
	case CURLE_LOGIN_DENIED:
		mech = f->conf->auth == FETCH_AUTH_XOAUTH2 ? "XOAUTH2" :
		    f->conf->auth == FETCH_AUTH_LOGIN ? "LOGIN" : "PLAIN";
		snprintf(reason, sizeof(reason), "login failed for user %s "
		    "(%s)", f->conf->user != NULL ? f->conf->user :
		    im->url.user, mech);
		break;
	case CURLE_QUOTE_ERROR:
		snprintf(reason, sizeof(reason), "the server refused %s",
		    what);
		break;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		snprintf(reason, sizeof(reason), "%s: mailbox \"%.200s\" not "
		    "found, or its UIDVALIDITY changed", what,
		    im->url.mailbox);
		break;
	default:
		snprintf(reason, sizeof(reason), "%s: %s", what, detail);
		break;
	}
	if (im->said[0] != '\0' && (rc == CURLE_QUOTE_ERROR ||
	    rc == CURLE_LOGIN_DENIED || rc == CURLE_REMOTE_FILE_NOT_FOUND))
		return dm_err_set(err, DM_ESOURCE, "imap: %s: %s (the server "
		    "said %s)", im->hostport, reason, im->said);
	if (im->bye[0] != '\0')
		return dm_err_set(err, DM_ESOURCE, "imap: %s: %s (the server "
		    "said BYE %s)", im->hostport, reason, im->bye);
	return dm_err_set(err, DM_ESOURCE, "imap: %s: %s", im->hostport,
	    reason);
}

/* base + "/" [+ mailbox;UIDVALIDITY=n] into u. Returns 0 or -1. */
static int
make_url(struct fetch *f, int in_mailbox, struct buf *u)
{
	struct imap	*im = f->priv;

	if (buf_add(u, im->base.data, im->base.len) == -1 ||
	    buf_addc(u, '/') == -1)
		return -1;
	if (!in_mailbox)
		return 0;
	if (buf_add(u, im->mbox.data, im->mbox.len) == -1 ||
	    buf_printf(u, ";UIDVALIDITY=%u", f->uidvalidity) == -1)
		return -1;
	return 0;
}

/*
 * Run one command, in the source's mailbox (libcurl SELECTs it, and
 * fails when its UIDVALIDITY is no longer f->uidvalidity) or outside
 * any. Its untagged lines land in im->reply. what names it in errors.
 * Returns 0, or -1 with err set.
 */
static int
command(struct fetch *f, int in_mailbox, const char *cmd, const char *what,
    struct dm_err *err)
{
	struct imap	*im = f->priv;
	struct buf	 u, c;
	CURLcode	 rc;
	const char	*p;
	int		 ret = -1;

	buf_init(&u, 16384);
	buf_init(&c, 16384);
	for (p = cmd; *p != '\0'; p++) {
		/* libcurl percent-decodes the request */
		if ((*p == '%' ? buf_adds(&c, "%25") : buf_addc(&c, *p)) == -1)
			goto toolong;
	}
	if (make_url(f, in_mailbox, &u) == -1)
		goto toolong;
	buf_reset(&im->reply);
	im->reply_over = 0;
	transfer_reset(im);
	curl_easy_setopt(im->curl, CURLOPT_URL, buf_cstr(&u));
	curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, buf_cstr(&c));
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, reply_cb);
	curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, im);
	rc = curl_easy_perform(im->curl);
	if (rc == CURLE_WRITE_ERROR && im->reply_over)
		dm_err_set(err, DM_ESOURCE, "imap: %s: the reply to %s is "
		    "over %u bytes", im->hostport, what, IMAP_MAX_REPLY);
	else if (rc != CURLE_OK)
		fail(f, rc, what, err);
	else
		ret = 0;
	goto out;
 toolong:
	dm_err_set(err, DM_EINTERNAL, "imap: %s: command too long", what);
 out:
	buf_clear(&u);
	buf_clear(&c);
	return ret;
}

/* STATUS of the source's mailbox into st. Returns 0 or -1. */
static int
status(struct fetch *f, struct fetch_imap_status *st, struct dm_err *err)
{
	struct imap			*im = f->priv;
	struct fetch_imap_status	 one;
	struct buf			 cmd;
	const char			*line;
	size_t				 off = 0, len;
	char				 what[1200];
	int				 r, rc = -1;

	memset(st, 0, sizeof(*st));
	buf_init(&cmd, 16384);
	snprintf(what, sizeof(what), "STATUS \"%.200s\"", im->url.mailbox);
	if (buf_adds(&cmd, "STATUS ") == -1 ||
	    buf_add(&cmd, im->qmbox.data, im->qmbox.len) == -1 ||
	    buf_adds(&cmd, " (MESSAGES UIDVALIDITY)") == -1) {
		dm_err_set(err, DM_EINTERNAL, "imap: STATUS too long");
		goto out;
	}
	if (command(f, 0, buf_cstr(&cmd), what, err) == -1)
		goto out;
	while (next_line(&im->reply, &off, &line, &len)) {
		if ((r = fetch_imap_parse_status(line, len, &one)) == -1) {
			dm_err_set(err, DM_ESOURCE, "imap: %s: malformed "
			    "STATUS reply", im->hostport);
			goto out;
		}
		if (r == 1) {
			*st = one;
			break;
		}
	}
	if ((st->have & (IMAP_ST_MESSAGES | IMAP_ST_UIDVALIDITY)) !=
	    (IMAP_ST_MESSAGES | IMAP_ST_UIDVALIDITY)) {
		dm_err_set(err, DM_ESOURCE, "imap: %s: STATUS gave no "
		    "MESSAGES and UIDVALIDITY", im->hostport);
		goto out;
	}
	rc = 0;
 out:
	buf_clear(&cmd);
	return rc;
}

static int
imap_open(struct fetch *f, struct dm_err *err)
{
	const struct fetch_conf		*c = f->conf;
	struct fetch_imap_status	 st;
	struct imap			*im;
	struct buf			 enc;
	const char			*user, *line;
	char				*secret = NULL;
	size_t				 off = 0, len;

	if (f->priv != NULL)
		imap_close(f);
	im = xcalloc(1, sizeof(*im));
	f->priv = im;
	buf_init(&im->base, 512);
	buf_init(&im->mbox, 16384);
	buf_init(&im->qmbox, 8192);
	buf_init(&im->reply, IMAP_MAX_REPLY);
	buf_init(&enc, 4096);
	buf_init(&im->processed.enc, 0);
	buf_init(&im->processed.quoted, 0);
	buf_init(&im->invalid.enc, 0);
	buf_init(&im->invalid.quoted, 0);
	im->window = IMAP_WINDOW;
	if (fetch_imap_url(c->url, &im->url, err) == -1)
		goto fail;
	snprintf(im->hostport, sizeof(im->hostport), "%s:%u", im->url.host,
	    im->url.port);
	if (buf_printf(&im->base, "%s://%s:%u", im->url.implicit_tls ?
	    "imaps" : "imap", im->url.host, im->url.port) == -1 ||
	    fetch_imap_mutf7(im->url.mailbox, &enc) == -1 ||
	    url_escape(&im->mbox, buf_cstr(&enc)) == -1 ||
	    quote(&im->qmbox, buf_cstr(&enc)) == -1) {
		dm_err_set(err, DM_ECONFIG, "imap: url: bad mailbox name");
		goto fail;
	}
	if (folder_init(&im->processed, c->processed_folder != NULL ?
	    c->processed_folder : "processed", "processed_folder", err) ==
	    -1 || folder_init(&im->invalid, c->invalid_folder != NULL ?
	    c->invalid_folder : "invalid", "invalid_folder", err) == -1)
		goto fail;
	user = c->user != NULL ? c->user : im->url.user;
	if (user[0] == '\0') {
		dm_err_set(err, DM_ECONFIG, "imap: no user");
		goto fail;
	}
	if ((secret = fetch_secret(c, err)) == NULL) {
		dm_err_prefix(err, "imap");
		goto fail;
	}
	if ((im->curl = curl_easy_init()) == NULL) {
		dm_err_set(err, DM_EINTERNAL, "imap: curl_easy_init failed");
		goto fail;
	}
	curl_easy_setopt(im->curl, CURLOPT_ERRORBUFFER, im->errbuf);
	/* with signals allowed, libcurl ignores SIGPIPE while it runs */
	curl_easy_setopt(im->curl, CURLOPT_NOSIGNAL, 0L);
	/* the trace goes to debug_cb only, which reads what the server says */
	curl_easy_setopt(im->curl, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(im->curl, CURLOPT_DEBUGDATA, im);
	curl_easy_setopt(im->curl, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(im->curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(im->curl, CURLOPT_BUFFERSIZE, IMAP_BUFSIZE);
	curl_easy_setopt(im->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(im->curl, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(im->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(im->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL)
		curl_easy_setopt(im->curl, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(im->curl, CURLOPT_CONNECTTIMEOUT,
	    (long)(c->timeout ? c->timeout : 60));
	curl_easy_setopt(im->curl, CURLOPT_SERVER_RESPONSE_TIMEOUT,
	    (long)(c->timeout ? c->timeout : 60));
	curl_easy_setopt(im->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(im->curl, CURLOPT_LOW_SPEED_TIME,
	    (long)(c->timeout ? c->timeout : 60));
	curl_easy_setopt(im->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(im->curl, CURLOPT_SASL_IR, 1L);
	curl_easy_setopt(im->curl, CURLOPT_USERNAME, user);
	switch (c->auth) {
	case FETCH_AUTH_XOAUTH2:
		curl_easy_setopt(im->curl, CURLOPT_LOGIN_OPTIONS,
		    "AUTH=XOAUTH2");
		curl_easy_setopt(im->curl, CURLOPT_XOAUTH2_BEARER, secret);
		break;
	case FETCH_AUTH_LOGIN:
		curl_easy_setopt(im->curl, CURLOPT_LOGIN_OPTIONS, "AUTH=LOGIN");
		curl_easy_setopt(im->curl, CURLOPT_PASSWORD, secret);
		break;
	default:
		curl_easy_setopt(im->curl, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
		curl_easy_setopt(im->curl, CURLOPT_PASSWORD, secret);
		break;
	}
	/* libcurl keeps its own copy, for the logins after a lost link */
	fetch_secret_free(secret);
	secret = NULL;
	if (command(f, 0, "CAPABILITY", "CAPABILITY", err) == -1)
		goto fail;
	while (next_line(&im->reply, &off, &line, &len))
		if (fetch_imap_parse_caps(line, len, &im->caps) == -1) {
			dm_err_set(err, DM_ESOURCE, "imap: %s: malformed "
			    "CAPABILITY reply", im->hostport);
			goto fail;
		}
	if (status(f, &st, err) == -1)
		goto fail;
	f->uidvalidity = st.uidvalidity;
	buf_clear(&enc);
	return 0;
 fail:
	fetch_secret_free(secret);
	buf_clear(&enc);
	imap_close(f);
	return -1;
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
imap_list(struct fetch *f, struct fetch_item **items, size_t *n, size_t max,
    struct dm_err *err)
{
	struct imap			*im = f->priv;
	struct fetch_imap_status	 st;
	uint32_t			*uids = NULL;
	uint64_t			 lo, hi;
	size_t				 cnt = 0, wn, off, len, i, j;
	const char			*line;
	char				 cmd[160];
	int				 r, rc = -1;

	*items = NULL;
	*n = 0;
	if (im == NULL || im->curl == NULL)
		return dm_err_set(err, DM_EINTERNAL, "imap: list before open");
	if (status(f, &st, err) == -1)
		return -1;
	if (st.uidvalidity != f->uidvalidity)
		return dm_err_set(err, DM_ESOURCE, "imap: %s: the UIDVALIDITY "
		    "of \"%.200s\" changed from %u to %u", im->hostport,
		    im->url.mailbox, f->uidvalidity, st.uidvalidity);
	/*
	 * Oldest first, a window of sequence numbers at a time: each
	 * answer stays short, and we stop once we have max.
	 */
	for (lo = 1; lo <= st.messages && cnt < max; lo += im->window) {
		hi = lo + im->window - 1;
		if (hi > st.messages)
			hi = st.messages;
		snprintf(cmd, sizeof(cmd), "UID SEARCH %llu:%llu UNDELETED%s",
		    (unsigned long long)lo, (unsigned long long)hi,
		    f->conf->after == FETCH_AFTER_SEEN ?
		    " UNKEYWORD " IMAP_DONE_KEYWORD : "");
		if (command(f, 1, cmd, "UID SEARCH", err) == -1)
			goto out;
		uids = xreallocarray(uids, cnt + im->window, sizeof(*uids));
		wn = 0;
		off = 0;
		while (next_line(&im->reply, &off, &line, &len)) {
			r = fetch_imap_parse_search(line, len, uids + cnt,
			    im->window, &wn);
			if (r == -1) {
				dm_err_set(err, DM_ESOURCE, "imap: %s: "
				    "malformed SEARCH reply, or over %u UIDs",
				    im->hostport, im->window);
				goto out;
			}
		}
		cnt += wn;
	}
	if (cnt > 0) {
		qsort(uids, cnt, sizeof(*uids), cmp_uid);
		for (i = j = 0; i < cnt; i++)
			if (j == 0 || uids[i] != uids[j - 1])
				uids[j++] = uids[i];
		cnt = j < max ? j : max;
	}
	*items = xcalloc(cnt > 0 ? cnt : 1, sizeof(**items));
	for (i = 0; i < cnt; i++)
		(*items)[i].uid = uids[i];
	*n = cnt;
	rc = 0;
 out:
	free(uids);
	return rc;
}

static int
imap_get(struct fetch *f, const struct fetch_item *it, struct buf *msg,
    struct dm_err *err)
{
	struct imap	*im = f->priv;
	struct buf	 u;
	CURLcode	 rc;
	char		 what[64];

	if (im == NULL || im->curl == NULL)
		return dm_err_set(err, DM_EINTERNAL, "imap: get before open");
	buf_init(&u, 16384);
	if (make_url(f, 1, &u) == -1 || buf_printf(&u, "/;UID=%u",
	    it->uid) == -1) {
		buf_clear(&u);
		return dm_err_set(err, DM_EINTERNAL, "imap: URL too long");
	}
	im->msg = msg;
	im->msg_over = 0;
	transfer_reset(im);
	buf_reset(&im->reply);
	curl_easy_setopt(im->curl, CURLOPT_URL, buf_cstr(&u));
	curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION, msg_cb);
	curl_easy_setopt(im->curl, CURLOPT_WRITEDATA, im);
	rc = curl_easy_perform(im->curl);
	im->msg = NULL;
	buf_clear(&u);
	if (rc == CURLE_WRITE_ERROR && im->msg_over)
		return dm_err_set(err, DM_EMSG, "imap: message over %zu bytes",
		    msg->max);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_REMOTE_FILE_NOT_FOUND)
		return dm_err_set(err, DM_ESOURCE, "imap: %s: message UID %u "
		    "is not in \"%.200s\" (gone, or the UIDVALIDITY changed)",
		    im->hostport, it->uid, im->url.mailbox);
	snprintf(what, sizeof(what), "UID FETCH %u", it->uid);
	return fail(f, rc, what, err);
}

/* Look for folder fo on the server; sets fo->exists. Returns 0 or -1. */
static int
folder_look(struct fetch *f, struct folder *fo, struct dm_err *err)
{
	struct imap	*im = f->priv;
	struct buf	 cmd;
	const char	*line, *want = buf_cstr(&fo->enc);
	char		 name[4096];
	size_t		 off = 0, len;
	int		 r, sel, rc = -1;

	buf_init(&cmd, 16384);
	if (buf_adds(&cmd, "LIST \"\" ") == -1 ||
	    buf_add(&cmd, fo->quoted.data, fo->quoted.len) == -1) {
		dm_err_set(err, DM_EINTERNAL, "imap: LIST too long");
		goto out;
	}
	if (command(f, 0, buf_cstr(&cmd), "LIST", err) == -1)
		goto out;
	while (next_line(&im->reply, &off, &line, &len)) {
		r = fetch_imap_parse_list(line, len, name, sizeof(name), &sel);
		if (r == -1) {
			dm_err_set(err, DM_ESOURCE, "imap: %s: malformed "
			    "LIST reply", im->hostport);
			goto out;
		}
		if (r == 1 && sel && (strcmp(name, want) == 0 ||
		    (strcasecmp(want, "INBOX") == 0 &&
		    strcasecmp(name, "INBOX") == 0)))
			fo->exists = 1;
	}
	rc = 0;
 out:
	buf_clear(&cmd);
	return rc;
}

/* Create folder fo unless it exists. Returns 0 or -1. */
static int
folder_ensure(struct fetch *f, struct folder *fo, struct dm_err *err)
{
	struct buf	 cmd;
	struct dm_err	 again = { 0 };
	char		 what[300];
	int		 rc = -1;

	if (fo->exists)
		return 0;
	if (folder_look(f, fo, err) == -1)
		return -1;
	if (fo->exists)
		return 0;
	buf_init(&cmd, 16384);
	if (buf_adds(&cmd, "CREATE ") == -1 ||
	    buf_add(&cmd, fo->quoted.data, fo->quoted.len) == -1) {
		dm_err_set(err, DM_EINTERNAL, "imap: CREATE too long");
		goto out;
	}
	snprintf(what, sizeof(what), "CREATE \"%.200s\"", fo->name);
	if (command(f, 0, buf_cstr(&cmd), what, err) == 0) {
		fo->exists = 1;
		rc = 0;
		goto out;
	}
	/* "already exists": someone else made it meanwhile */
	if (folder_look(f, fo, &again) == 0 && fo->exists)
		rc = 0;
 out:
	buf_clear(&cmd);
	return rc;
}

/* Flag uid \Deleted and expunge it. Returns 0 or -1. */
static int
expunge(struct fetch *f, uint32_t uid, struct dm_err *err)
{
	struct imap	*im = f->priv;
	char		 cmd[96];

	snprintf(cmd, sizeof(cmd), "UID STORE %u +FLAGS.SILENT (\\Deleted)",
	    uid);
	if (command(f, 1, cmd, "UID STORE", err) == -1)
		return -1;
	if (im->caps & IMAP_CAP_UIDPLUS) {
		snprintf(cmd, sizeof(cmd), "UID EXPUNGE %u", uid);
		return command(f, 1, cmd, "UID EXPUNGE", err);
	}
	/* the last resort: it also expunges what others flagged */
	return command(f, 1, "EXPUNGE", "EXPUNGE", err);
}

static int
move_to(struct fetch *f, uint32_t uid, struct folder *fo, struct dm_err *err)
{
	struct imap	*im = f->priv;
	struct buf	 cmd;
	int		 rc = -1;

	if (folder_ensure(f, fo, err) == -1)
		return -1;
	buf_init(&cmd, 16384);
	if (buf_printf(&cmd, "UID %s %u ", im->caps & IMAP_CAP_MOVE ?
	    "MOVE" : "COPY", uid) == -1 ||
	    buf_add(&cmd, fo->quoted.data, fo->quoted.len) == -1) {
		dm_err_set(err, DM_EINTERNAL, "imap: UID MOVE too long");
		goto out;
	}
	if (command(f, 1, buf_cstr(&cmd), im->caps & IMAP_CAP_MOVE ?
	    "UID MOVE" : "UID COPY", err) == -1)
		goto out;
	if (im->caps & IMAP_CAP_MOVE)
		rc = 0;
	else
		rc = expunge(f, uid, err);
 out:
	buf_clear(&cmd);
	return rc;
}

static int
imap_ack(struct fetch *f, const struct fetch_item *it, int invalid,
    const char *reason, struct dm_err *err)
{
	struct imap	*im = f->priv;
	char		 cmd[96];

	(void)reason;	/* the daemon's ledger keeps it */
	if (im == NULL || im->curl == NULL)
		return dm_err_set(err, DM_EINTERNAL, "imap: ack before open");
	if (invalid)
		return move_to(f, it->uid, &im->invalid, err);
	switch (f->conf->after) {
	case FETCH_AFTER_MOVE:
		return move_to(f, it->uid, &im->processed, err);
	case FETCH_AFTER_SEEN:
		snprintf(cmd, sizeof(cmd), "UID STORE %u +FLAGS.SILENT "
		    "(\\Seen " IMAP_DONE_KEYWORD ")", it->uid);
		return command(f, 1, cmd, "UID STORE", err);
	default:
		return expunge(f, it->uid, err);
	}
}

static void
imap_close(struct fetch *f)
{
	struct imap	*im = f->priv;

	if (im == NULL)
		return;
	if (im->curl != NULL)
		curl_easy_cleanup(im->curl);	/* LOGOUT */
	buf_clear(&im->base);
	buf_clear(&im->mbox);
	buf_clear(&im->qmbox);
	buf_clear(&im->reply);
	folder_clear(&im->processed);
	folder_clear(&im->invalid);
	free(im);
	f->priv = NULL;
}

void
fetch_imap_test_caps(struct fetch *f, unsigned caps)
{
	struct imap	*im = f->priv;

	if (im != NULL)
		im->caps = caps;
}

void
fetch_imap_test_window(struct fetch *f, unsigned window)
{
	struct imap	*im = f->priv;

	if (im != NULL)
		im->window = window > 0 ? window : IMAP_WINDOW;
}

const struct fetch_ops fetch_imap_ops = {
	imap_open, imap_list, imap_get, imap_ack, imap_close
};
