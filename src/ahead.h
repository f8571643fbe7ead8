/*
 * ahead.h: read a stream ahead on a thread of its own.
 *
 * Inflating a gzip or zip report costs about a sixth of importing it;
 * on a second thread it overlaps with the parsing and storing that the
 * reader of the stream does. A stream stays on the caller's thread until
 * it has given AHEAD_AFTER bytes, so small reports never start a thread.
 */
#ifndef AHEAD_H
#define AHEAD_H

#include <pthread.h>
#include <stddef.h>

#include "dm.h"

#define AHEAD_AFTER	(256u << 10)	/* bytes read before a thread starts */
#define AHEAD_SLOTS	4		/* buffers between the two threads */
#define AHEAD_SLOT	(64u << 10)	/* bytes per buffer */

struct ahead_slot {
	char		*buf;
	long		 n;		/* bytes; 0 the end, -1 src failed */
};

struct ahead {
	struct dm_rd	 rd;		/* read this */
	struct dm_rd	*src;		/* borrowed; the worker's once started */
	size_t		 after;		/* bytes before a thread starts */
	uint64_t	 nread;		/* bytes given before it started */
	int		 started;
	int		 ended;		/* the caller's thread saw n <= 0 */
	pthread_t	 tid;
	pthread_mutex_t	 mu;		/* guards what follows */
	pthread_cond_t	 filled;	/* a slot was filled */
	pthread_cond_t	 freed;		/* a slot was emptied, or stop */
	struct ahead_slot slot[AHEAD_SLOTS];
	unsigned	 head;		/* the slot being read */
	unsigned	 count;		/* filled slots from head on */
	size_t		 off;		/* bytes of slot[head] read */
	int		 stop;		/* the reader is done: stop reading */
	struct dm_err	 err;		/* src's, when a slot says -1 */
};

/*
 * Read src through a. src is borrowed, and must not be read by anyone
 * else until ahead_clear(); a thread may read it meanwhile, so what
 * src's read calls touch must not be shared with the caller's thread.
 * after: bytes before a thread starts (AHEAD_AFTER; 0 starts at the
 * first read). Reads of a->rd give the same bytes, end and error as
 * src would, in the same order.
 */
void	ahead_init(struct ahead *a, struct dm_rd *src, size_t after);

/* Stop and join the thread, if any; src is the caller's again. */
void	ahead_clear(struct ahead *a);

#endif /* AHEAD_H */
