/*
 * buf.h: a growable byte buffer with a hard cap. Every buffer that
 * holds outside data has a maximum: buf_add() refuses to grow past it.
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
	char		*data;	/* owned; NUL-terminated after buf_cstr() */
	size_t		 len;
	size_t		 cap;
	size_t		 max;	/* len never exceeds this */
};

/* Initialise caller-owned storage; no allocation yet. */
void	 buf_init(struct buf *b, size_t max);
/* Free the data; the buf may be reused after buf_init(). */
void	 buf_clear(struct buf *b);
void	 buf_reset(struct buf *b);
/* Append; 0, or -1 when max would be exceeded (buf unchanged). */
int	 buf_add(struct buf *b, const void *p, size_t len);
int	 buf_addc(struct buf *b, int c);
int	 buf_adds(struct buf *b, const char *s);
int	 buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The contents as a C string (a NUL is kept after len). */
const char *buf_cstr(struct buf *b);
/*
 * Read fd to its end into b. Returns 0, -1 with errno set on a read
 * error, or -2 when the data exceeds b->max.
 */
int	 buf_read_fd(struct buf *b, int fd);

#endif /* BUF_H */
