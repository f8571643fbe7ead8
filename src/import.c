/*
 * import.c: "dmarcd import" over a few worker processes.
 *
 * One connection imports a directory of small reports at the pace of
 * its round trips: the parser waits for the server, the server for the
 * parser, and the other core idles. So the parent walks the paths and
 * hands each input to one of a few workers, each with its own
 * connection (never one per file), each importing whole inputs exactly
 * as a single importer does: a report per transaction, duplicates and
 * rejections alike. The parent prints the workers' lines in the order
 * of the walk, so the output is the same as from one process.
 *
 * Parent and worker talk over a socketpair in frames: a type byte, a
 * 4-byte big-endian length, the payload. To a worker: 'J' a path.
 * From it: 'L' a result line, 'D' the input done ("rc stored duplicate
 * rejected", a NUL, the error when rc is -1, a NUL).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "import.h"
#include "ingest.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define PER_WORKER	2		/* inputs handed to a worker at once */
/*
 * Lines held for an input not yet due: past HELD_MAX its worker is not
 * read (it waits), but the frames of the read that crossed the mark are
 * kept, so the buffer may grow by one read's worth (at most the input
 * buffer, 2 * FRAME_MAX + 64 KiB) beyond it. DMARCD_IMPORT_HOLD lowers
 * the mark for the tests.
 */
#define HELD_MAX	(1u << 20)
#define HELD_SLACK	(4u << 20)
#define FRAME_MAX	(1u << 20)
#define LINE_MAX_LEN	(1u << 16)

struct worker {
	pid_t		 pid;
	int		 fd;		/* -1 once it is gone */
	unsigned char	*in;		/* bytes read, not yet a whole frame */
	size_t		 inlen, incap;
	unsigned	 busy;		/* inputs handed to it, not done */
};

/* An input handed out, in walk order; printed and dropped at the head. */
struct job {
	char		*path;
	struct worker	*w;
	struct buf	 held;		/* its lines while not at the head */
	int		 done;
	int		 failed;	/* the store failed: err, stop */
	char		 err[512];
};

struct pool {
	struct import	*im;
	size_t		 hold;		/* HELD_MAX, or lower for tests */
	struct worker	*w;
	unsigned	 nw;
	struct job	*q;		/* ring */
	unsigned	 head, len, cap;
	int		 stop;
};

unsigned
import_default_jobs(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 4 ? 4 : (unsigned)n;
}

static void
print_line(void *arg, const struct ingest_result *res)
{
	puts(ingest_format(res, arg));
	fflush(stdout);
}

static int
import_one(struct ingest *ig, const char *path, struct dm_err *err)
{
	ig->source = strcmp(path, "-") == 0 ? "stdin" : "file";
	if (strcmp(path, "-") == 0)
		return ingest_stdin(ig, err);
	return ingest_path(ig, path, err);
}

static void
ingest_setup(struct ingest *ig, struct import *im, struct store *st)
{
	memset(ig, 0, sizeof(*ig));
	ig->lim = im->lim;
	ig->failure = im->failure;
	ig->st = st;
}

static void
log_stop(const char *input, const char *msg)
{
	log_errx("input=%s: %s; stopping, the rest is not imported", input,
	    msg);
}

/* Everything in this process, one input after the other. */
static int
run_here(struct import *im, char **paths, int npaths)
{
	struct ingest	 ig;
	struct dm_err	 err = { 0 };
	struct buf	 line;
	int		 i, rc = 0;

	buf_init(&line, LINE_MAX_LEN);
	ingest_setup(&ig, im, im->st);
	ig.result = print_line;
	ig.arg = &line;
	for (i = 0; i < npaths && rc == 0; i++)
		if ((rc = import_one(&ig, paths[i], &err)) == -1)
			log_stop(paths[i], err.msg);
	im->stats = ig.stats;
	buf_clear(&line);
	return rc;
}

static int
put_frame(int fd, int type, const void *p, size_t len)
{
	unsigned char	 h[5];
	struct iovec	 iov[2];
	struct msghdr	 m;
	ssize_t		 n;
	size_t		 off = 0, total = sizeof(h) + len;

	h[0] = (unsigned char)type;
	h[1] = (unsigned char)(len >> 24);
	h[2] = (unsigned char)(len >> 16);
	h[3] = (unsigned char)(len >> 8);
	h[4] = (unsigned char)len;
	while (off < total) {
		memset(&m, 0, sizeof(m));
		if (off < sizeof(h)) {
			iov[0].iov_base = h + off;
			iov[0].iov_len = sizeof(h) - off;
			iov[1].iov_base = (void *)(uintptr_t)p;
			iov[1].iov_len = len;
			m.msg_iovlen = 2;
		} else {
			iov[0].iov_base = (char *)(uintptr_t)p +
			    (off - sizeof(h));
			iov[0].iov_len = total - off;
			m.msg_iovlen = 1;
		}
		m.msg_iov = iov;
		/* a peer gone is an error here, not a SIGPIPE */
		if ((n = sendmsg(fd, &m, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int
read_full(int fd, void *p, size_t len)
{
	ssize_t	 n;
	size_t	 off = 0;

	while (off < len) {
		if ((n = read(fd, (char *)p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return off == 0 ? 0 : -1;
		off += (size_t)n;
	}
	return 1;
}

struct worker_ctx {
	int		 fd;
	struct buf	 line;
};

/* A worker's lines go to the parent, not to standard output. */
static void
worker_result(void *arg, const struct ingest_result *res)
{
	struct worker_ctx	*wc = arg;
	const char		*s = ingest_format(res, &wc->line);

	(void)put_frame(wc->fd, 'L', s, strlen(s));
}

/*
 * A worker: its own connection, then inputs until the parent closes
 * the socket. Never returns.
 */
static void __attribute__((noreturn))
worker_main(struct import *im, int fd)
{
	struct worker_ctx	 wc;
	struct ingest		 ig;
	struct ingest_stats	 before;
	struct dm_err		 cerr = { 0 }, err = { 0 };
	struct store		*st = NULL;
	struct buf		 done;
	unsigned char		 h[5];
	char			*path = NULL;
	size_t			 len;
	int			 rc, connected = 1;

	if (im->connect != NULL && (st = im->connect(im->arg, &cerr)) == NULL)
		connected = 0;
	wc.fd = fd;
	buf_init(&wc.line, LINE_MAX_LEN);
	buf_init(&done, 1024);
	ingest_setup(&ig, im, st);
	ig.result = worker_result;
	ig.arg = &wc;
	while ((rc = read_full(fd, h, sizeof(h))) == 1) {
		len = (size_t)h[1] << 24 | (size_t)h[2] << 16 |
		    (size_t)h[3] << 8 | h[4];
		if (h[0] != 'J' || len == 0 || len > FRAME_MAX)
			break;
		path = xmalloc(len + 1);
		if (read_full(fd, path, len) != 1)
			break;
		path[len] = '\0';
		before = ig.stats;
		dm_err_clear(&err);
		if (!connected)
			rc = dm_err_set(&err, DM_ESTORE, "%s", cerr.msg);
		else
			rc = import_one(&ig, path, &err);
		buf_reset(&done);
		buf_printf(&done, "%d %lu %lu %lu", rc,
		    ig.stats.stored - before.stored,
		    ig.stats.duplicate - before.duplicate,
		    ig.stats.rejected - before.rejected);
		buf_addc(&done, '\0');
		if (rc == -1)
			buf_adds(&done, err.msg);
		buf_addc(&done, '\0');
		free(path);
		path = NULL;
		if (put_frame(fd, 'D', done.data, done.len) == -1)
			break;
	}
	free(path);
	store_free(st);
	buf_clear(&wc.line);
	buf_clear(&done);
	_exit(0);
}

static struct job *
job_at(struct pool *p, unsigned i)
{
	return &p->q[(p->head + i) % p->cap];
}

/* The oldest input of w not done: the one its next frames are about. */
static struct job *
job_of(struct pool *p, const struct worker *w)
{
	unsigned	 i;

	for (i = 0; i < p->len; i++)
		if (job_at(p, i)->w == w && !job_at(p, i)->done)
			return job_at(p, i);
	return NULL;
}

static void
job_failed(struct pool *p, struct job *j, const char *msg)
{
	j->done = j->failed = 1;
	snprintf(j->err, sizeof(j->err), "%s", msg);
	p->stop = 1;
}

/* Print what is due: the head's held lines, and every done head. */
static void
advance(struct pool *p)
{
	struct job	*j;

	while (p->len > 0) {
		j = job_at(p, 0);
		if (j->held.len > 0) {
			fwrite(j->held.data, 1, j->held.len, stdout);
			buf_reset(&j->held);
		}
		if (!j->done)
			break;
		if (j->failed)
			log_stop(j->path, j->err);
		free(j->path);
		buf_clear(&j->held);
		p->head = (p->head + 1) % p->cap;
		p->len--;
	}
	fflush(stdout);
}

static void
on_frame(struct pool *p, struct worker *w, int type, const char *pl,
    size_t len)
{
	struct job	*j = job_of(p, w);
	unsigned long	 n[3];
	int		 rc;

	if (j == NULL)
		return;
	if (type == 'L') {
		if (j == job_at(p, 0)) {
			fwrite(pl, 1, len, stdout);
			putchar('\n');
		} else if (buf_add(&j->held, pl, len) == -1 ||
		    buf_addc(&j->held, '\n') == -1)
			fatalx("import: output held for %s over %zu bytes",
			    j->path, p->hold + HELD_SLACK);
		return;
	}
	/* 'D': "rc stored duplicate rejected", NUL, the error, NUL */
	if (type != 'D' || len < 2 || pl[len - 1] != '\0' ||
	    memchr(pl, '\0', len) == pl + len - 1 ||
	    sscanf(pl, "%d %lu %lu %lu", &rc, &n[0], &n[1], &n[2]) != 4) {
		job_failed(p, j, "import worker: bad frame");
		return;
	}
	w->busy--;
	j->done = 1;
	p->im->stats.stored += n[0];
	p->im->stats.duplicate += n[1];
	p->im->stats.rejected += n[2];
	if (rc == -1)
		job_failed(p, j, pl + strlen(pl) + 1);
}

/* A worker gone: its inputs in hand fail, the run stops. */
static void
worker_gone(struct pool *p, struct worker *w, const char *why)
{
	struct job	*j;

	close(w->fd);
	w->fd = -1;
	while ((j = job_of(p, w)) != NULL)
		job_failed(p, j, why);
	w->busy = 0;
	p->stop = 1;
}

static void
worker_input(struct pool *p, struct worker *w)
{
	ssize_t	 n;
	size_t	 off = 0, len;

	if (w->incap - w->inlen < 65536) {
		w->incap = w->incap == 0 ? 131072 : w->incap * 2;
		if (w->incap > FRAME_MAX * 2 + 65536)
			fatalx("import: worker frame too long");
		w->in = xreallocarray(w->in, 1, w->incap);
	}
	if ((n = read(w->fd, w->in + w->inlen, w->incap - w->inlen)) == -1) {
		if (errno != EINTR && errno != EAGAIN)
			worker_gone(p, w, "import worker: read failed");
		return;
	}
	if (n == 0) {
		worker_gone(p, w, "import worker exited unexpectedly");
		return;
	}
	w->inlen += (size_t)n;
	while (w->inlen - off >= 5) {
		len = (size_t)w->in[off + 1] << 24 |
		    (size_t)w->in[off + 2] << 16 |
		    (size_t)w->in[off + 3] << 8 | w->in[off + 4];
		if (len > FRAME_MAX) {
			worker_gone(p, w, "import worker: frame too long");
			return;
		}
		if (w->inlen - off - 5 < len)
			break;
		on_frame(p, w, w->in[off], (const char *)w->in + off + 5,
		    len);
		off += 5 + len;
	}
	memmove(w->in, w->in + off, w->inlen - off);
	w->inlen -= off;
}

/*
 * Wait for the workers and handle what they say. A worker whose input
 * is not at the head and holds too much is not read: it waits.
 */
static unsigned
pump(struct pool *p)
{
	struct pollfd	 pfd[IMPORT_JOBS_MAX];
	struct worker	*map[IMPORT_JOBS_MAX];
	struct job	*j;
	unsigned	 i, n = 0;

	advance(p);
	for (i = 0; i < p->nw; i++) {
		if (p->w[i].fd == -1 || p->w[i].busy == 0)
			continue;
		j = job_of(p, &p->w[i]);
		if (j != NULL && j != job_at(p, 0) && j->held.len >= p->hold)
			continue;
		pfd[n].fd = p->w[i].fd;
		pfd[n].events = POLLIN;
		map[n++] = &p->w[i];
	}
	if (n == 0)
		return 0;	/* every input in hand is done */
	if (poll(pfd, n, -1) == -1) {
		if (errno == EINTR)
			return n;
		fatal("poll");
	}
	for (i = 0; i < n; i++)
		if (pfd[i].revents != 0)
			worker_input(p, map[i]);
	advance(p);
	return n;
}

static struct worker *
idle_worker(struct pool *p)
{
	struct worker	*best = NULL;
	unsigned	 i;

	for (i = 0; i < p->nw; i++)
		if (p->w[i].fd != -1 && p->w[i].busy < PER_WORKER &&
		    (best == NULL || p->w[i].busy < best->busy))
			best = &p->w[i];
	return best;
}

/* The walk's leaf: hand the path to a worker, waiting for room. */
static int
hand_out(void *arg, const char *path, const char *why)
{
	struct pool	*p = arg;
	struct worker	*w;
	struct job	*j;

	(void)why;	/* the worker walks it again and says why */
	for (;;) {
		if (p->stop)
			return -1;
		if (p->len < p->cap && (w = idle_worker(p)) != NULL)
			break;
		if (pump(p) == 0 && !p->stop)
			fatalx("import: no worker to wait for");
	}
	j = job_at(p, p->len);
	memset(j, 0, sizeof(*j));
	j->path = xstrdup(path);
	j->w = w;
	buf_init(&j->held, p->hold + HELD_SLACK);
	p->len++;
	if (put_frame(w->fd, 'J', path, strlen(path)) == -1)
		worker_gone(p, w, "import worker exited unexpectedly");
	else
		w->busy++;
	return 0;
}

static int
start_workers(struct pool *p)
{
	unsigned	 i, k;
	int		 sv[2];
	pid_t		 pid;

	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < p->nw; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1) {
			log_err("import: socketpair");
			return -1;
		}
		if ((pid = fork()) == -1) {
			log_err("import: fork");
			close(sv[0]);
			close(sv[1]);
			return -1;
		}
		if (pid == 0) {
			close(sv[0]);
			for (k = 0; k < i; k++)	/* the others' ends */
				close(p->w[k].fd);
			worker_main(p->im, sv[1]);
		}
		close(sv[1]);
		p->w[i].pid = pid;
		p->w[i].fd = sv[0];
	}
	return 0;
}

static void
stop_workers(struct pool *p)
{
	unsigned	 i;
	int		 status;

	for (i = 0; i < p->nw; i++) {
		if (p->w[i].pid <= 0)
			continue;
		if (p->w[i].fd != -1)
			close(p->w[i].fd);	/* EOF: the worker exits */
		while (waitpid(p->w[i].pid, &status, 0) == -1 &&
		    errno == EINTR)
			continue;
		if (WIFSIGNALED(status))
			log_errx("import worker %ld: killed by signal %d",
			    (long)p->w[i].pid, WTERMSIG(status));
		free(p->w[i].in);
	}
}

static int
run_workers(struct import *im, char **paths, int npaths)
{
	struct pool	 p;
	const char	*env;
	uint64_t	 v;
	unsigned	 i;
	int		 k, rc = 0;

	memset(&p, 0, sizeof(p));
	p.im = im;
	p.hold = HELD_MAX;
	if ((env = getenv("DMARCD_IMPORT_HOLD")) != NULL &&
	    dm_parse_u64(env, HELD_MAX, &v) == 0)
		p.hold = (size_t)v;
	p.nw = im->jobs;
	p.w = xcalloc(p.nw, sizeof(*p.w));
	for (i = 0; i < p.nw; i++)
		p.w[i].fd = -1;
	p.cap = p.nw * PER_WORKER * 4;
	p.q = xcalloc(p.cap, sizeof(*p.q));
	/* each worker opens its own connection */
	store_free(im->st);
	im->st = NULL;
	if (start_workers(&p) == -1)
		p.stop = 1;
	for (k = 0; k < npaths && !p.stop; k++) {
		if (strcmp(paths[k], "-") == 0)
			(void)hand_out(&p, "-", NULL);
		else
			(void)ingest_walk(paths[k], hand_out, &p);
	}
	/* the head's worker is always read: each round gets nearer */
	for (;;) {
		advance(&p);
		if (p.len == 0)
			break;
		if (pump(&p) == 0)
			fatalx("import: no worker to wait for");
	}
	if (p.stop)
		rc = -1;
	stop_workers(&p);
	free(p.w);
	free(p.q);
	return rc;
}

/* A directory or several inputs are worth workers; one file is not. */
static int
wants_workers(const struct import *im, char **paths, int npaths)
{
	struct stat	 sb;

	if (im->jobs <= 1)
		return 0;
	if (npaths > 1)
		return 1;
	return strcmp(paths[0], "-") != 0 && stat(paths[0], &sb) == 0 &&
	    S_ISDIR(sb.st_mode);
}

int
import_run(struct import *im, char **paths, int npaths)
{
	int	 rc;

	memset(&im->stats, 0, sizeof(im->stats));
	if (npaths <= 0)
		return 0;
	if (im->jobs > IMPORT_JOBS_MAX)
		im->jobs = IMPORT_JOBS_MAX;
	if (!wants_workers(im, paths, npaths))
		return run_here(im, paths, npaths);
	rc = run_workers(im, paths, npaths);
	return rc;
}
