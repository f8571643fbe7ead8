/*
 * fetch_pop3.c: a POP3 maildrop as a source, through libcurl.
 *
 * pop3s://host[:995] is implicit TLS; pop3://host[:110] must upgrade
 * with STLS (CURLUSESSL_ALL: never a silent plaintext fall-back). The
 * certificate is always verified, against ca_file when set. One session
 * (one connection, one login) serves open, list, get and ack:
 *
 *	open	log in (a NOOP)
 *	list	UIDL, then LIST for the sizes; item.uid is the message
 *		number, item.id the UIDL
 *	get	RETR N into the caller's buffer, bounded by its max (a LIST
 *		size over it is refused before a byte is fetched)
 *	ack	done: DELE N (after = delete) or nothing (after = keep);
 *		invalid: RETR N again, straight into a file of the
 *		quarantine_dir Maildir (reason in a sidecar, see
 *		fetch_maildir.h), then DELE N unless keep
 *	close	QUIT. POP3 deletes nothing before QUIT (RFC 1939, the
 *		UPDATE state): DELEs are only marks until the handle is
 *		cleaned up, so the daemon calls close() after acking a batch,
 *		and a session that dies takes its marks with it (the messages
 *		come back and the ledger recognises them).
 *
 * Message numbers only hold within a session. libcurl reconnects
 * silently after any failed command (and drops the session without
 * QUIT), so every command counts the connections it needed; when a new
 * session began, the listing is taken again and the message found by
 * its UIDL before RETR or DELE, and a DELE that ran in a session it was
 * not meant for is undone with RSET.
 *
 * The server is distrusted: its listings are parsed line by line with
 * every line checked (RFC 1939: UIDL is 1-70 bytes of 0x21-0x7E),
 * bounded in line length and count; messages are bounded by the
 * caller's max; nothing is allocated by what the server announces.
 * Errors name the server, never the password.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bounds.h"
#include "buf.h"
#include "dm.h"
#include "fetch.h"
#include "fetch_maildir.h"
#include "fetch_pop3_parse.h"
#include "log.h"
#include "util.h"

#define SECRET_MAX	4096		/* a password file's first line */
#define KEEP_MAX	DM_MAX_MBOX_MESSAGES	/* listing entries kept */
#define QUARANTINE_MAX	((uint64_t)DM_MAX_MESSAGE * 4)	/* one saved mail */
#define SIZE_UNKNOWN	UINT64_MAX

/* --- the listing parser (fetch_pop3_parse.h) --------------------------- */

/* Digits only, no sign, 1-20 of them, at most max. 0 or -1. */
static int
parse_num(const char *s, size_t len, uint64_t max, uint64_t *v)
{
	uint64_t	 d;
	size_t		 i;

	*v = 0;
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		d = (uint64_t)(unsigned char)s[i] - '0';	/* wraps: > 9 */
		if (d > 9 || *v > (max - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return 0;
}

/* One line; NULL, or what is wrong with it. */
static const char *
parse_line(enum pop3_listing kind, const char *s, size_t len,
    struct pop3_ent *e)
{
	const char	*rest;
	uint64_t	 v;
	size_t		 i, rlen;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < len && s[i] != ' '; i++)
		;
	if (parse_num(s, i, UINT32_MAX, &v) == -1 || v == 0)
		return "bad message number";
	e->num = (uint32_t)v;
	if (i == len)
		return kind == POP3_UIDL ? "no UIDL" : "no size";
	rest = s + i + 1;
	rlen = len - i - 1;
	if (kind == POP3_UIDL) {
		if (rlen == 0)
			return "empty UIDL";
		if (rlen > POP3_UIDL_MAX)
			return "UIDL over 70 bytes";
		for (i = 0; i < rlen; i++)
			if ((unsigned char)rest[i] < 0x21 ||
			    (unsigned char)rest[i] > 0x7e)
				return "UIDL byte outside 0x21-0x7E";
		memcpy(e->uidl, rest, rlen);
		e->uidl[rlen] = '\0';
		return NULL;
	}
	for (i = 0; i < rlen && rest[i] != ' '; i++)
		;
	if (parse_num(rest, i, POP3_SIZE_MAX, &v) == -1)
		return "bad size";
	e->size = v;
	/* RFC 1939 lets more information follow the size: text only */
	for (; i < rlen; i++)
		if ((unsigned char)rest[i] < 0x20 || rest[i] == 0x7f)
			return "control byte after the size";
	return NULL;
}

static const char *
listing_word(enum pop3_listing kind)
{
	return kind == POP3_UIDL ? "UIDL" : "LIST";
}

int
pop3_parse_line(enum pop3_listing kind, const char *s, size_t len,
    struct pop3_ent *e, struct dm_err *err)
{
	const char	*why;

	if ((why = parse_line(kind, s, len, e)) != NULL)
		return dm_err_set(err, DM_ESOURCE, "pop3: %s: %s",
		    listing_word(kind), why);
	return 0;
}

void
pop3_lines_init(struct pop3_lines *pl, enum pop3_listing kind,
    pop3_ent_fn fn, void *arg)
{
	memset(pl, 0, sizeof(*pl));
	pl->kind = kind;
	pl->fn = fn;
	pl->arg = arg;
}

static int
lines_fail(struct pop3_lines *pl, const char *why)
{
	pl->failed = 1;
	return dm_err_set(&pl->err, DM_ESOURCE, "pop3: %s line %zu: %s",
	    listing_word(pl->kind), pl->lineno, why);
}

static int
line_done(struct pop3_lines *pl)
{
	struct pop3_ent	 e;
	const char	*why;
	size_t		 len = pl->len;

	pl->len = 0;
	pl->lineno++;
	if (len > 0 && pl->line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;	/* libcurl may hand over the CRLF before "." */
	if (pl->lineno > POP3_MAX_LINES)
		return lines_fail(pl, "too many lines");
	if ((why = parse_line(pl->kind, pl->line, len, &e)) != NULL)
		return lines_fail(pl, why);
	if (e.num <= pl->last)
		return lines_fail(pl, "message numbers out of order");
	pl->last = e.num;
	if (pl->fn != NULL && pl->fn(pl->arg, &e, &pl->err) == -1) {
		pl->failed = 1;
		return -1;
	}
	return 0;
}

int
pop3_lines_feed(struct pop3_lines *pl, const void *p, size_t len)
{
	const char	*c = p;
	size_t		 i;

	if (pl->failed)
		return -1;
	for (i = 0; i < len; i++) {
		if (c[i] == '\n') {
			if (line_done(pl) == -1)
				return -1;
			continue;
		}
		if (pl->len == sizeof(pl->line)) {
			pl->lineno++;
			return lines_fail(pl, "line over 512 bytes");
		}
		pl->line[pl->len++] = c[i];
	}
	return 0;
}

int
pop3_lines_end(struct pop3_lines *pl)
{
	if (pl->failed)
		return -1;
	if (pl->len > 0)
		return line_done(pl);
	return 0;
}

/* --- the source --------------------------------------------------------- */

struct pop3 {
	CURL		*curl;
	char		 base[300];	/* "pop3s://host:port", for URLs */
	char		 server[300];	/* "host:port", for messages */
	char		 errbuf[CURL_ERROR_SIZE];
	unsigned	 session;	/* connections made so far */
	unsigned	 listed;	/* the session ents is from; 0: none */
	unsigned	 pending;	/* DELEs waiting for QUIT */
	struct pop3_ent	*ents;		/* the listing, by message number */
	size_t		 nents;
	size_t		 cap;
};

/* Where libcurl's write callback puts what it receives. */
struct sink {
	enum { SINK_NONE, SINK_BUF, SINK_LINES, SINK_FILE } kind;
	struct buf		*buf;
	int			 over;		/* buf full */
	struct pop3_lines	*pl;
	struct maildir_tmp	*tmp;
	int			 cut;		/* file at QUARANTINE_MAX */
	int			 failed;	/* werr is set */
	struct dm_err		 werr;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink	*sk = arg;
	size_t		 n = size * nmemb;	/* size is 1 */
	uint64_t	 room;

	switch (sk->kind) {
	case SINK_BUF:
		if (buf_add(sk->buf, ptr, n) == -1) {
			sk->over = 1;
			return 0;	/* abort the transfer */
		}
		return n;
	case SINK_LINES:
		return pop3_lines_feed(sk->pl, ptr, n) == -1 ? 0 : n;
	case SINK_FILE:
		room = QUARANTINE_MAX - sk->tmp->len;
		if (n > room) {
			sk->cut = 1;
			n = (size_t)room;
		}
		if (maildir_tmp_write(sk->tmp, ptr, n, &sk->werr) == -1) {
			sk->failed = 1;
			return 0;
		}
		return sk->cut ? 0 : n;
	case SINK_NONE:
		break;
	}
	return n;
}

/* Printable copy of libcurl's error text (it may quote the server). */
static void
printable(char *dst, size_t len, const char *src)
{
	size_t	 i;

	for (i = 0; i + 1 < len && src[i] != '\0'; i++)
		dst[i] = (unsigned char)src[i] < 0x20 ||
		    (unsigned char)src[i] > 0x7e ? '?' : src[i];
	while (i > 0 && dst[i - 1] == '?')	/* the trailing newline */
		i--;
	dst[i] = '\0';
}

static int
curl_fail(struct pop3 *p, CURLcode rc, const char *what, struct dm_err *err)
{
	char		 detail[CURL_ERROR_SIZE];
	const char	*why;

	switch (rc) {
	case CURLE_LOGIN_DENIED:
		why = "login refused";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		why = "server certificate not trusted";
		break;
	case CURLE_SSL_CACERT_BADFILE:
		why = "cannot use ca_file";
		break;
	case CURLE_USE_SSL_FAILED:
		why = "the server offers no STLS";
		break;
	case CURLE_SSL_CONNECT_ERROR:
		why = "TLS handshake failed";
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		why = "cannot resolve the host";
		break;
	case CURLE_COULDNT_CONNECT:
		why = "cannot connect";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		why = "timed out";
		break;
	default:
		why = curl_easy_strerror(rc);
		break;
	}
	printable(detail, sizeof(detail), p->errbuf);
	return dm_err_set(err, DM_ESOURCE, "pop3: %s: %s: %s%s%s%s",
	    p->server, what, why, detail[0] ? " (" : "", detail,
	    detail[0] ? ")" : "");
}

/*
 * One command: URL /num (num 0: none), cmd (NULL: RETR), nobody for
 * one-line answers. Counts new connections: each one is a new session.
 * Returns 0, or -1 with err set from libcurl (the caller looks at sk
 * first: an abort by the sink is the sink's error).
 */
static int
run(struct pop3 *p, uint32_t num, const char *cmd, int nobody,
    struct sink *sk, const char *what, struct dm_err *err)
{
	char		 url[sizeof(p->base) + 16];
	long		 nconn = 0;
	CURLcode	 rc;

	if (num > 0)
		snprintf(url, sizeof(url), "%s/%u", p->base, num);
	else
		snprintf(url, sizeof(url), "%s/", p->base);
	if (curl_easy_setopt(p->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_CUSTOMREQUEST, cmd) !=
	    CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_NOBODY, nobody ? 1L : 0L) !=
	    CURLE_OK ||
	    curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, sk) != CURLE_OK)
		return dm_err_set(err, DM_EINTERNAL, "pop3: curl_easy_setopt");
	p->errbuf[0] = '\0';
	rc = curl_easy_perform(p->curl);
	if (curl_easy_getinfo(p->curl, CURLINFO_NUM_CONNECTS, &nconn) ==
	    CURLE_OK && nconn > 0) {
		if (p->pending > 0)
			log_warnx("pop3: %s: the connection was lost before "
			    "QUIT: %u deletion%s undone by the server; those "
			    "messages come back", p->server, p->pending,
			    p->pending == 1 ? "" : "s");
		p->pending = 0;
		p->session++;
	}
	if (rc == CURLE_OK)
		return 0;
	return curl_fail(p, rc, what, err);
}

static int
collect(void *arg, const struct pop3_ent *e, struct dm_err *err)
{
	struct pop3	*p = arg;

	(void)err;
	if (p->nents >= KEEP_MAX)
		return 0;	/* the rest comes next time */
	if (p->nents == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->ents = xreallocarray(p->ents, p->cap, sizeof(*p->ents));
	}
	p->ents[p->nents] = *e;
	p->ents[p->nents].size = SIZE_UNKNOWN;
	p->nents++;
	return 0;
}

static struct pop3_ent *
by_num(struct pop3 *p, uint32_t num)
{
	size_t	 lo = 0, hi = p->nents, mid;

	/* the parser made the numbers go up */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (p->ents[mid].num == num)
			return &p->ents[mid];
		if (p->ents[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
sizes(void *arg, const struct pop3_ent *e, struct dm_err *err)
{
	struct pop3_ent	*have;

	(void)err;
	if ((have = by_num(arg, e->num)) != NULL)
		have->size = e->size;
	return 0;
}

/* Run a listing command through the parser. Returns 0 or -1. */
static int
listing(struct pop3 *p, enum pop3_listing kind, pop3_ent_fn fn,
    struct dm_err *err)
{
	struct pop3_lines	 pl;
	struct sink		 sk = { .kind = SINK_LINES, .pl = &pl };
	const char		*word = listing_word(kind);
	int			 rc;

	pop3_lines_init(&pl, kind, fn, p);
	rc = run(p, 0, word, 0, &sk, word, err);
	if (pl.failed || (rc == 0 && pop3_lines_end(&pl) == -1)) {
		*err = pl.err;
		return -1;
	}
	return rc;
}

/* Take the listing (UIDL, then LIST's sizes) in the current session. */
static int
relist(struct pop3 *p, struct dm_err *err)
{
	unsigned	 s;

	p->nents = 0;
	p->listed = 0;
	if (listing(p, POP3_UIDL, collect, err) == -1)
		return -1;
	s = p->session;
	if (listing(p, POP3_LIST, sizes, err) == -1)
		return -1;
	if (p->session != s)
		return dm_err_set(err, DM_ESOURCE, "pop3: %s: the connection "
		    "was lost while listing", p->server);
	p->listed = s;
	return 0;
}

/*
 * The listing entry of it in the current session, taking the listing
 * again when the session changed. Returns 1 with *ep set, 0 when the
 * message is no longer there, -1 with err set.
 */
static int
lookup(struct pop3 *p, const struct fetch_item *it, struct pop3_ent **ep,
    struct dm_err *err)
{
	struct pop3_ent	*e;
	size_t		 i;

	if (p->listed == 0 || p->listed != p->session) {
		if (relist(p, err) == -1)
			return -1;
	}
	e = by_num(p, it->uid);
	if (e != NULL && (it->id[0] == '\0' || strcmp(e->uidl, it->id) == 0)) {
		*ep = e;
		return 1;
	}
	if (it->id[0] == '\0')
		return 0;
	for (i = 0; i < p->nents; i++) {
		if (strcmp(p->ents[i].uidl, it->id) == 0) {
			*ep = &p->ents[i];
			return 1;
		}
	}
	return 0;
}

/* host:port and the base URL from conf->url; f->where. */
static int
parse_url(struct fetch *f, struct pop3 *p, struct dm_err *err)
{
	const struct fetch_conf	*c = f->conf;
	CURLU			*u;
	char			*scheme = NULL, *host = NULL, *port = NULL;
	char			*path = NULL, *part = NULL;
	int			 rc = -1, n;

	if (c->url == NULL)
		return dm_err_set(err, DM_ECONFIG, "pop3: no url");
	if (c->user == NULL || *c->user == '\0')
		return dm_err_set(err, DM_ECONFIG, "pop3: no user");
	if ((u = curl_url()) == NULL)
		return dm_err_set(err, DM_EINTERNAL, "pop3: curl_url");
	/* the url is never echoed: someone may have put a password in it */
	if (curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		dm_err_set(err, DM_ECONFIG, "pop3: the url does not parse");
		goto out;
	}
	if (strcmp(scheme, "pop3s") != 0 && strcmp(scheme, "pop3") != 0) {
		dm_err_set(err, DM_ECONFIG, "pop3: the url must be pop3s:// "
		    "or pop3:// (STLS)");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_OPTIONS, &part, 0) == CURLUE_OK) {
		dm_err_set(err, DM_ECONFIG, "pop3: the url must not hold a "
		    "user, password or ;options: use user and password_file");
		goto out;
	}
	if ((curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    path[0] != '\0' && strcmp(path, "/") != 0) ||
	    curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		dm_err_set(err, DM_ECONFIG, "pop3: the url must be just "
		    "pop3s://HOST[:PORT]: POP3 has no folders");
		goto out;
	}
	n = snprintf(p->base, sizeof(p->base), "%s://%s:%s", scheme, host,
	    port);
	if (n < 0 || (size_t)n >= sizeof(p->base)) {
		dm_err_set(err, DM_ECONFIG, "pop3: host name too long");
		goto out;
	}
	snprintf(p->server, sizeof(p->server), "%s:%s", host, port);
	snprintf(f->where, sizeof(f->where), "%s/%.200s", p->base, c->user);
	rc = 0;
 out:
	curl_free(part);
	curl_free(path);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static void
pop3_close(struct fetch *f)
{
	struct pop3	*p = f->priv;

	if (p == NULL)
		return;
	/*
	 * curl_easy_cleanup() sends QUIT and waits for its answer: only
	 * then does the server carry out this session's DELEs.
	 */
	if (p->curl != NULL)
		curl_easy_cleanup(p->curl);
	free(p->ents);
	free(p);
	f->priv = NULL;
}

#define SET(opt, val) do {						\
	if (curl_easy_setopt(p->curl, opt, val) != CURLE_OK) {		\
		dm_err_set(err, DM_EINTERNAL, "pop3: libcurl refused "	\
		    "option %s", #opt);					\
		goto fail;						\
	}								\
} while (0)

static int
pop3_open(struct fetch *f, struct dm_err *err)
{
	const struct fetch_conf	*c = f->conf;
	struct pop3		*p;
	struct sink		 sk = { .kind = SINK_NONE };
	char			*secret = NULL;
	long			 tmo = c->timeout > 0 ? (long)c->timeout : 60;

	pop3_close(f);		/* a new session from scratch */
	p = xcalloc(1, sizeof(*p));
	f->priv = p;
	if (parse_url(f, p, err) == -1)
		goto fail;
	if ((secret = fetch_secret(c, err)) == NULL)
		goto fail;
	if ((p->curl = curl_easy_init()) == NULL) {
		dm_err_set(err, DM_EINTERNAL, "pop3: curl_easy_init failed");
		goto fail;
	}
	SET(CURLOPT_PROTOCOLS_STR, "pop3,pop3s");
	SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL)
		SET(CURLOPT_CAINFO, c->ca_file);
	SET(CURLOPT_USERNAME, c->user);
	if (c->auth == FETCH_AUTH_XOAUTH2) {
		SET(CURLOPT_XOAUTH2_BEARER, secret);
		/* only OAuth: never send the token as a password */
		SET(CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
	} else {
		SET(CURLOPT_PASSWORD, secret);
		if (c->auth == FETCH_AUTH_LOGIN)
			SET(CURLOPT_LOGIN_OPTIONS, "AUTH=LOGIN");
	}
	/* libcurl keeps its own copy */
	fetch_secret_free(secret);
	secret = NULL;
	SET(CURLOPT_CONNECTTIMEOUT, tmo);
	SET(CURLOPT_SERVER_RESPONSE_TIMEOUT, tmo);
	/* a server that stalls mid-message: under 1 byte/s for tmo s */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, tmo);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_MAXCONNECTS, 1L);
	SET(CURLOPT_ERRORBUFFER, p->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	if (run(p, 0, "NOOP", 1, &sk, "login", err) == -1)
		goto fail;
	return 0;
 fail:
	fetch_secret_free(secret);
	pop3_close(f);
	return -1;
}

#undef SET

static struct pop3 *
opened(struct fetch *f, struct dm_err *err)
{
	struct pop3	*p = f->priv;

	if (p == NULL || p->curl == NULL)
		dm_err_set(err, DM_EINTERNAL, "pop3: not open");
	return p && p->curl ? p : NULL;
}

static int
pop3_list(struct fetch *f, struct fetch_item **items, size_t *n, size_t max,
    struct dm_err *err)
{
	struct pop3	*p;
	size_t		 i, out;

	*items = NULL;
	*n = 0;
	if ((p = opened(f, err)) == NULL || relist(p, err) == -1)
		return -1;
	out = p->nents < max ? p->nents : max;
	*items = xcalloc(out ? out : 1, sizeof(**items));
	for (i = 0; i < out; i++) {
		(*items)[i].uid = p->ents[i].num;
		/* uidl is at most 70 bytes: it fits */
		snprintf((*items)[i].id, sizeof((*items)[i].id), "%s",
		    p->ents[i].uidl);
	}
	*n = out;
	return 0;
}

static int
pop3_get(struct fetch *f, const struct fetch_item *it, struct buf *msg,
    struct dm_err *err)
{
	struct pop3	*p;
	struct pop3_ent	*e;
	struct sink	 sk;
	char		 what[32];
	unsigned	 s;
	int		 tries, rc;

	if ((p = opened(f, err)) == NULL)
		return -1;
	for (tries = 0; tries < 2; tries++) {
		if ((rc = lookup(p, it, &e, err)) <= 0)
			return rc == 0 ? dm_err_set(err, DM_ESOURCE, "pop3: "
			    "%s: message %u is gone", p->server, it->uid) : -1;
		/* a LIST size over max: refused without fetching a byte */
		if (e->size != SIZE_UNKNOWN && e->size > msg->max)
			return dm_err_set(err, DM_EMSG, "pop3: message over "
			    "%zu bytes", msg->max);
		buf_reset(msg);
		memset(&sk, 0, sizeof(sk));
		sk.kind = SINK_BUF;
		sk.buf = msg;
		s = p->session;
		snprintf(what, sizeof(what), "RETR %u", e->num);
		if (run(p, e->num, NULL, 0, &sk, what, err) == -1) {
			/* the server lied in LIST: the session is gone too */
			if (sk.over)
				return dm_err_set(err, DM_EMSG, "pop3: message "
				    "over %zu bytes", msg->max);
			return -1;
		}
		if (p->session == s)
			return 0;
		/* RETR ran in a new session: the number may be another's */
	}
	buf_reset(msg);
	return dm_err_set(err, DM_ESOURCE, "pop3: %s: the connection keeps "
	    "being lost", p->server);
}

/* Mark message e deleted (done at QUIT). Returns 0 or -1. */
static int
dele(struct pop3 *p, const struct pop3_ent *e, struct dm_err *err)
{
	struct sink	 sk = { .kind = SINK_NONE };
	struct dm_err	 rerr;
	char		 what[32];
	unsigned	 s = p->session;

	snprintf(what, sizeof(what), "DELE %u", e->num);
	if (run(p, e->num, "DELE", 1, &sk, what, err) == -1)
		return -1;
	if (p->session != s) {
		/* a new session, where that number may be another message */
		if (run(p, 0, "RSET", 1, &sk, "RSET", &rerr) == -1)
			log_warnx("%s", rerr.msg);	/* dropped: void too */
		p->pending = 0;
		return dm_err_set(err, DM_ESOURCE, "pop3: %s: the connection "
		    "was lost: DELE undone, tried again next time", p->server);
	}
	p->pending++;
	return 0;
}

/*
 * RETR the message again, straight into a file of the quarantine_dir
 * Maildir (never all in memory: it may be the one that was too big);
 * over QUARANTINE_MAX it is kept cut, and the reason says so.
 */
static int
quarantine(struct fetch *f, struct pop3 *p, const struct fetch_item *it,
    const char *reason, struct dm_err *err)
{
	const char		*dir = f->conf->quarantine_dir;
	struct maildir_tmp	 t;
	struct pop3_ent		*e;
	struct sink		 sk;
	struct dm_err		 rerr = { 0 };
	char			 final[NAME_MAX + 1], what[32], why[600];
	unsigned		 s;
	int			 tries, rc;

	if (dir == NULL || *dir == '\0')
		return dm_err_set(err, DM_ECONFIG, "pop3: no quarantine_dir: "
		    "rejected mail is saved there before it is deleted");
	if (maildir_make(dir, 0, err) == -1)
		return -1;
	for (tries = 0; tries < 2; tries++) {
		if ((rc = lookup(p, it, &e, err)) <= 0)
			return rc;	/* gone: nothing to save */
		if (maildir_tmp_open(&t, dir, err) == -1)
			return -1;
		memset(&sk, 0, sizeof(sk));
		sk.kind = SINK_FILE;
		sk.tmp = &t;
		s = p->session;
		snprintf(what, sizeof(what), "RETR %u", e->num);
		if (run(p, e->num, NULL, 0, &sk, what, err) == -1 &&
		    !sk.cut) {
			if (sk.failed)
				*err = sk.werr;
			maildir_tmp_abort(&t);
			return -1;
		}
		if (p->session == s || sk.cut)
			break;
		maildir_tmp_abort(&t);
	}
	if (tries == 2)
		return dm_err_set(err, DM_ESOURCE, "pop3: %s: the connection "
		    "keeps being lost", p->server);
	if (maildir_tmp_commit(&t, "new", NULL, final, sizeof(final), err) ==
	    -1)
		return -1;
	if (sk.cut)
		snprintf(why, sizeof(why), "%s (saved cut at %llu bytes)",
		    reason ? reason : "", (unsigned long long)QUARANTINE_MAX);
	else
		snprintf(why, sizeof(why), "%s", reason ? reason : "");
	if (maildir_reason(dir, final, f->where, it->id, why, &rerr) == -1)
		log_warnx("pop3: %s/new/%s: the reason was not saved: %s", dir,
		    final, rerr.msg);
	return 1;
}

static int
pop3_ack(struct fetch *f, const struct fetch_item *it, int invalid,
    const char *reason, struct dm_err *err)
{
	struct pop3	*p;
	struct pop3_ent	*e;
	int		 keep = f->conf->after == FETCH_AFTER_KEEP, rc;

	if ((p = opened(f, err)) == NULL)
		return -1;
	if (invalid) {
		if ((rc = quarantine(f, p, it, reason, err)) == -1)
			return -1;
		if (rc == 0) {
			log_warnx("pop3: %s: message %s is gone: nothing to "
			    "quarantine", p->server, it->id);
			return 0;
		}
	}
	if (keep)
		return 0;	/* the ledger remembers the UIDL */
	if ((rc = lookup(p, it, &e, err)) <= 0)
		return rc;	/* gone already: deleted before */
	return dele(p, e, err);
}

const struct fetch_ops fetch_pop3_ops = {
	pop3_open, pop3_list, pop3_get, pop3_ack, pop3_close
};
