/*
 * ahead.c: read a stream ahead on a thread of its own.
 *
 * The worker fills AHEAD_SLOTS buffers in turn; the reader empties them
 * in the same order. A slot belongs to the worker while it is empty and
 * to the reader while it is filled; the mutex only guards the hand-over
 * (head, count, stop). The last slot the worker fills holds the end or
 * the error, and the reader never moves past it, so both stay sticky.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ahead.h"
#include "util.h"

static void *
worker(void *arg)
{
	struct ahead		*a = arg;
	struct ahead_slot	*s;
	long			 n;

	for (;;) {
		pthread_mutex_lock(&a->mu);
		while (a->count == AHEAD_SLOTS && !a->stop)
			pthread_cond_wait(&a->freed, &a->mu);
		if (a->stop) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		s = &a->slot[(a->head + a->count) % AHEAD_SLOTS];
		pthread_mutex_unlock(&a->mu);

		n = dm_rd_read(a->src, s->buf, AHEAD_SLOT);
		if (n > (long)AHEAD_SLOT)
			n = (long)AHEAD_SLOT;

		pthread_mutex_lock(&a->mu);
		s->n = n;
		if (n < 0)
			a->err = a->src->err;
		a->count++;
		pthread_cond_signal(&a->filled);
		pthread_mutex_unlock(&a->mu);
		if (n <= 0)
			break;
	}
	return NULL;
}

/*
 * Start the worker. Signals stay with the caller's thread: the daemon's
 * handlers expect to interrupt it. Returns 0, or -1 when no thread could
 * be made (the stream then goes on on the caller's thread).
 */
static int
start(struct ahead *a)
{
	sigset_t	 all, old;
	unsigned	 i;
	int		 rc;

	for (i = 0; i < AHEAD_SLOTS; i++)
		a->slot[i].buf = xmalloc(AHEAD_SLOT);
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->filled, NULL);
	pthread_cond_init(&a->freed, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&a->tid, NULL, worker, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&a->freed);
		pthread_cond_destroy(&a->filled);
		pthread_mutex_destroy(&a->mu);
		for (i = 0; i < AHEAD_SLOTS; i++) {
			free(a->slot[i].buf);
			a->slot[i].buf = NULL;
		}
		a->after = SIZE_MAX;	/* don't try again */
		return -1;
	}
	a->started = 1;
	return 0;
}

/* Until the worker runs: straight from src, counting. */
static long
read_direct(struct ahead *a, void *dst, size_t len)
{
	long	 n;

	if ((n = dm_rd_read(a->src, dst, len)) < 0) {
		a->rd.err = a->src->err;
		a->ended = 1;
	} else if (n == 0)
		a->ended = 1;
	else
		a->nread += (uint64_t)n;
	return n;
}

static long
ahead_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct ahead		*a = rd->ctx;
	struct ahead_slot	*s;
	size_t			 k;

	if (len == 0)
		return 0;
	if (!a->started) {
		/* once the end or an error was seen, src says it again */
		if (a->ended || a->nread < a->after || start(a) == -1)
			return read_direct(a, dst, len);
	}
	pthread_mutex_lock(&a->mu);
	while (a->count == 0)
		pthread_cond_wait(&a->filled, &a->mu);
	pthread_mutex_unlock(&a->mu);
	s = &a->slot[a->head];
	if (s->n < 0) {
		rd->err = a->err;	/* written before count went up */
		return -1;
	}
	if (s->n == 0)
		return 0;
	k = (size_t)s->n - a->off;
	if (k > len)
		k = len;
	memcpy(dst, s->buf + a->off, k);
	a->off += k;
	if (a->off == (size_t)s->n) {
		a->off = 0;
		pthread_mutex_lock(&a->mu);
		a->head = (a->head + 1) % AHEAD_SLOTS;
		a->count--;
		pthread_cond_signal(&a->freed);
		pthread_mutex_unlock(&a->mu);
	}
	return (long)k;
}

void
ahead_init(struct ahead *a, struct dm_rd *src, size_t after)
{
	memset(a, 0, sizeof(*a));
	a->rd.read = ahead_read;
	a->rd.ctx = a;
	a->src = src;
	a->after = after;
}

void
ahead_clear(struct ahead *a)
{
	unsigned	 i;

	if (!a->started)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_signal(&a->freed);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->tid, NULL);
	pthread_cond_destroy(&a->freed);
	pthread_cond_destroy(&a->filled);
	pthread_mutex_destroy(&a->mu);
	for (i = 0; i < AHEAD_SLOTS; i++)
		free(a->slot[i].buf);
	a->started = 0;
}
