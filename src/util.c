/*
 * util.c: helpers shared by all stages.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "bounds.h"
#include "buf.h"
#include "log.h"
#include "util.h"

int
dm_err_set(struct dm_err *err, enum dm_scope scope, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL)
		return -1;
	err->scope = scope;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void
strlcpy_dm(char *dst, const char *src, size_t size)
{
	size_t	 n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
strlcat_dm(char *dst, const char *src, size_t size)
{
	size_t	 len = strlen(dst);

	if (len < size)
		strlcpy_dm(dst + len, src, size - len);
}

int
dm_err_prefix(struct dm_err *err, const char *fmt, ...)
{
	char	 pre[sizeof(err->msg)], old[sizeof(err->msg)];
	va_list	 ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* truncation is fine: the context is the more useful half */
	strlcpy_dm(err->msg, pre, sizeof(err->msg));
	strlcat_dm(err->msg, ": ", sizeof(err->msg));
	strlcat_dm(err->msg, old, sizeof(err->msg));
	return -1;
}

void
dm_err_clear(struct dm_err *err)
{
	err->scope = 0;
	err->msg[0] = '\0';
}

void
dm_limits_default(struct dm_limits *lim)
{
	lim->max_message = DM_MAX_MESSAGE;
	lim->max_xml = DM_MAX_XML;
	lim->max_ratio = DM_MAX_RATIO;
	lim->max_records = DM_MAX_RECORDS;
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		fatal("calloc %zu", n);
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("reallocarray: overflow");
	if ((p = realloc(p, n * size != 0 ? n * size : 1)) == NULL)
		fatal("realloc %zu", n * size);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

static int
is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *
dm_trim(char *s)
{
	size_t	 n;

	while (is_xml_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_xml_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

char *
dm_lower(char *s)
{
	char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

int
dm_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	const char	*end;
	uint64_t	 n = 0;
	unsigned	 d;

	while (is_xml_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_xml_space(end[-1]))
		end--;
	if (s == end)
		return -1;
	for (; s < end; s++) {
		d = (unsigned)*s - '0';	/* below '0' wraps: caught by d > 9 */
		if (d > 9 || d > max || n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

size_t
dm_utf8_dec(const unsigned char *s, size_t n, uint32_t *cpp)
{
	size_t		 len, i;
	uint32_t	 cp;

	if (s[0] < 0x80) {
		if (cpp != NULL)
			*cpp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cpp != NULL)
		*cpp = cp;
	return len;
}

#define ONES	UINT64_C(0x0101010101010101)
#define HIGHS	UINT64_C(0x8080808080808080)

int
is_utf8(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;
	uint64_t		 w;

	/* Most text is ASCII: eight bytes at a time while no byte is
	   above 0x7f or NUL (w - ONES borrows into the high bit of a
	   zero byte), then byte by byte. */
	for (; len - i >= 8; i += 8) {
		memcpy(&w, p + i, 8);
		if ((w & HIGHS) != 0 || ((w - ONES) & ~w & HIGHS) != 0)
			break;
	}
	while (i < len) {
		if (p[i] > 0 && p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] == '\0' || (n = dm_utf8_dec(p + i, len - i, NULL)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

int
is_format_char(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xad || c == 0x61c ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb);
}

int
dm_escape(struct buf *b, const char *s, int quoted)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, n;
	int			 rc = 0;

	while (i < len && rc == 0) {
		n = dm_utf8_dec(p + i, len - i, NULL);
		if (n > 1 && !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			rc = buf_add(b, p + i, n);	/* C1 controls escaped */
			i += n;
			continue;
		}
		if (p[i] == '\n')
			rc = buf_adds(b, "\\n");
		else if (p[i] == '\t')
			rc = buf_adds(b, "\\t");
		else if (p[i] == '\\')
			rc = buf_adds(b, "\\\\");
		else if (p[i] == '"' && quoted)
			rc = buf_adds(b, "\\\"");
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			rc = buf_printf(b, "\\x%02x", p[i]);
		else
			rc = buf_addc(b, p[i]);
		i++;
	}
	return rc;
}

/*
 * A message from a library (libpq's span lines, with a tab-indented
 * hint) as one log line; text from a server may quote what a user
 * typed, so no control character gets through.
 */
char *
dm_one_line(const char *in, char *out, size_t outlen)
{
	size_t	 o = 0;
	int	 space = 0;

	if (outlen == 0)
		return out;
	for (; *in != '\0' && o + 1 < outlen; in++) {
		if (*in == '\n' || *in == '\t' || *in == '\r' || *in == ' ') {
			space = o > 0;
			continue;
		}
		if (space) {
			if (o + 2 >= outlen)
				break;	/* no room for the next word */
			out[o++] = ' ';
		}
		space = 0;
		out[o++] = (unsigned char)*in < 0x20 || *in == 0x7f ?
		    '?' : *in;
	}
	out[o] = '\0';
	return out;
}

int
dm_ip_parse(const char *s, unsigned char out[16])
{
	char	 tmp[INET6_ADDRSTRLEN + 16];
	size_t	 n;

	while (is_xml_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_xml_space(s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* Only IPv6 text has a ':': one inet_pton per address, not two. */
	if (memchr(tmp, ':', n) != NULL)
		return inet_pton(AF_INET6, tmp, out) == 1 ? 16 : -1;
	return inet_pton(AF_INET, tmp, out) == 1 ? 4 : -1;
}

int
dm_ip_fmt(const unsigned char *ip, int len, char *out, size_t outlen)
{
	if (len != 4 && len != 16)
		return -1;
	return inet_ntop(len == 4 ? AF_INET : AF_INET6, ip, out, outlen) !=
	    NULL ? 0 : -1;
}

int
dm_canon_ip(const char *s, char *out, size_t outlen)
{
	unsigned char	 a[16];
	int		 len;

	if ((len = dm_ip_parse(s, a)) == -1)
		return -1;
	return dm_ip_fmt(a, len, out, outlen);
}

const char *
dm_time_fmt(int64_t t, char out[32])
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
	return out;
}

void
dm_sha256_init(struct dm_sha256 *h)
{
	if ((h->ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		fatalx("sha256: cannot set up OpenSSL's SHA-256");
}

void
dm_sha256_update(struct dm_sha256 *h, const void *p, size_t n)
{
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		fatalx("sha256: EVP_DigestUpdate failed");
}

void
dm_sha256_final(struct dm_sha256 *h, char out[65])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 i, n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
		fatalx("sha256: EVP_DigestFinal_ex failed");
	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void
dm_sha256_hex(const void *p, size_t n, char out[65])
{
	struct dm_sha256	 h;

	dm_sha256_init(&h);
	dm_sha256_update(&h, p, n);
	dm_sha256_final(&h, out);
}

/* Strings of one report live in a few chunks: cheap to reset. */
struct dm_arena_chunk {
	struct dm_arena_chunk	*next;
	size_t			 size, off;
	char			 data[];
};

#define ARENA_CHUNK	(16u << 10)

void
dm_arena_init(struct dm_arena *a)
{
	a->head = NULL;
	a->used = 0;
}

void *
dm_arena_alloc(struct dm_arena *a, size_t len)
{
	struct dm_arena_chunk	*c = a->head;
	size_t			 need = (len + 15) & ~(size_t)15, size;
	void			*p;

	if (c == NULL || c->size - c->off < need) {
		size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

char *
dm_arena_strndup(struct dm_arena *a, const char *s, size_t len)
{
	char	*p = dm_arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
dm_arena_strdup(struct dm_arena *a, const char *s)
{
	return dm_arena_strndup(a, s, strlen(s));
}

void
dm_arena_reset(struct dm_arena *a)
{
	struct dm_arena_chunk	*c, *next;

	if (a->head == NULL)
		return;
	/* keep the oldest chunk only if it is a standard one */
	for (c = a->head; c->next != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = c;
	if (c->size != ARENA_CHUNK) {
		free(c);
		a->head = NULL;
	} else
		c->off = 0;
	a->used = 0;
}

void
dm_arena_clear(struct dm_arena *a)
{
	struct dm_arena_chunk	*c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}
