/*
 * util.h: small helpers shared by all stages: errors, strings, numbers,
 * addresses, hashing, an arena for strings.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

struct buf;

/* Allocation that can't fail: fatal() on out-of-memory. */
void	*xmalloc(size_t n);
void	*xcalloc(size_t n, size_t size);
void	*xreallocarray(void *p, size_t n, size_t size);
char	*xstrdup(const char *s);

/*
 * Trim XML white space (SP, TAB, CR, LF) from both ends of s in place;
 * returns the first kept character.
 */
char	*dm_trim(char *s);
/* Lower-case ASCII letters in place; returns s. */
char	*dm_lower(char *s);
/*
 * Parse a decimal number with optional surrounding XML white space:
 * digits only, no sign, at most max. Returns 0, or -1 (empty, junk,
 * sign, over max).
 */
int	 dm_parse_u64(const char *s, uint64_t max, uint64_t *v);
/*
 * The valid UTF-8 sequence at s (at most n bytes, n > 0): its length,
 * with its code point in *cp (may be NULL); 0 when it is not valid
 * (overlong, surrogate, cut, beyond U+10FFFF).
 */
size_t	 dm_utf8_dec(const unsigned char *s, size_t n, uint32_t *cp);
/* 1 if s[0..len) is valid UTF-8 without NUL, else 0. */
int	 is_utf8(const char *s, size_t len);
/*
 * 1 if code point c is invisible or reorders text, which a terminal or
 * a browser would obey: C1 controls, bidi overrides and isolates,
 * zero-width characters; else 0.
 */
int	 is_format_char(uint32_t c);
/*
 * Append s to b with control bytes, DEL, invalid UTF-8 and backslash
 * written as escapes (\n, \t, \xNN, \\); with quoted, also '"' as \".
 */
int	 dm_escape(struct buf *b, const char *s, int quoted);
/* in as one line: white space runs as one space, controls as '?' */
char	*dm_one_line(const char *in, char *out, size_t outlen);
/*
 * Parse an IPv4 or IPv6 address, with optional surrounding XML white
 * space, into out in network byte order. An IPv4-mapped IPv6 address
 * stays IPv6, as PostgreSQL's inet reads it. Returns the address's
 * length, 4 or 16, or -1 if s is not an address (out then undefined).
 */
int	 dm_ip_parse(const char *s, unsigned char out[16]);
/*
 * Text of the len (4 or 16) bytes of an address at ip, as PostgreSQL's
 * inet prints it (IPv6 compressed, lower case); out holds DM_IP_TEXT.
 * Returns 0, or -1 if len is neither or outlen too small.
 */
#define DM_IP_TEXT	48	/* INET6_ADDRSTRLEN and then some */
int	 dm_ip_fmt(const unsigned char *ip, int len, char *out,
	    size_t outlen);
/*
 * Canonical text of an IPv4 or IPv6 address: dm_ip_parse(), then
 * dm_ip_fmt(). Returns 0, or -1 if s is not an address.
 */
int	 dm_canon_ip(const char *s, char *out, size_t outlen);
/* Epoch seconds as YYYY-MM-DDTHH:MM:SSZ; out holds 32 bytes. */
const char *dm_time_fmt(int64_t t, char out[32]);

/* SHA-256, incremental (OpenSSL's, which uses the CPU's SHA extensions). */
struct dm_sha256 {
	void	*ctx;		/* EVP_MD_CTX */
};
void	 dm_sha256_init(struct dm_sha256 *h);
void	 dm_sha256_update(struct dm_sha256 *h, const void *p, size_t n);
/* Writes 64 hex digits and a NUL to out, and clears h. */
void	 dm_sha256_final(struct dm_sha256 *h, char out[65]);
void	 dm_sha256_hex(const void *p, size_t n, char out[65]);

/*
 * An arena for the strings of one report or one record: pointers stay
 * valid until dm_arena_reset() or dm_arena_clear().
 */
struct dm_arena_chunk;
struct dm_arena {
	struct dm_arena_chunk	*head;
	size_t			 used;	/* bytes handed out, for bounds */
};
void	 dm_arena_init(struct dm_arena *a);
char	*dm_arena_strndup(struct dm_arena *a, const char *s, size_t len);
char	*dm_arena_strdup(struct dm_arena *a, const char *s);
void	*dm_arena_alloc(struct dm_arena *a, size_t len);
/* Forget everything but keep the first chunk for reuse. */
void	 dm_arena_reset(struct dm_arena *a);
void	 dm_arena_clear(struct dm_arena *a);

#endif /* UTIL_H */
