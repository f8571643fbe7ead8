/*
 * fetch_maildir.c: a local Maildir as a source, for users whose MTA
 * delivers the reports on this machine; and filing mail into Maildirs
 * (fetch_maildir.h), which the POP3 source uses for its quarantine.
 *
 * The queue is the files in path/new and path/cur (never tmp, where
 * deliveries are still being written), sorted by name, which for
 * Maildir names means by delivery time. A message is filed by renaming
 * it into a sub-Maildir: "processed" (default ".processed") or
 * "invalid" (default ".invalid"), names relative to path unless they
 * start with '/'. rename() is atomic, so a message is in exactly one
 * place whatever happens; it is never rewritten. The reason a message
 * was rejected goes into a sidecar "<invalid>/<name>.reason" in the
 * folder's root, next to cur/new/tmp, where mail readers don't look.
 *
 * Distrusted: the file names (anyone who can deliver chooses them:
 * only plain, printable UTF-8 names up to MAILDIR_NAME_MAX that don't
 * start with a dot are listed), the files (symbolic links and anything
 * but regular files are refused; sizes are bounded) and the ids handed
 * back to get() and ack() ("new/NAME" or "cur/NAME", nothing else).
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bounds.h"
#include "buf.h"
#include "dm.h"
#include "fetch.h"
#include "fetch_maildir.h"
#include "log.h"
#include "util.h"

#define SUFFIX_MAX	1000	/* "-1" .. "-999" when a name is taken */
#define REASON_MAX	(8u << 10)	/* one .reason file */

static unsigned	 uniq;		/* the Q counter of our unique names */

/* snprintf into a PATH_MAX buffer, refusing to cut. 0 or -1. */
static int
mkpath(char *out, struct dm_err *err, const char *fmt, ...)
    DM_PRINTF(3, 4);

static int
mkpath(char *out, struct dm_err *err, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		return dm_err_set(err, DM_ESOURCE, "maildir: path too long");
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int	 fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int
is_dir(const char *path)
{
	struct stat	 sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
mkdir_one(const char *path, struct dm_err *err)
{
	if (mkdir(path, 0700) == 0 || (errno == EEXIST && is_dir(path)))
		return 0;
	return dm_err_set(err, DM_ESOURCE, "maildir: mkdir %s: %s", path,
	    strerror(errno));
}

int
maildir_make(const char *dir, int plusplus, struct dm_err *err)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char	 p[PATH_MAX];
	size_t	 i;
	int	 fd;

	if (mkdir_one(dir, err) == -1)
		return -1;
	for (i = 0; i < nitems(subs); i++) {
		if (mkpath(p, err, "%s/%s", dir, subs[i]) == -1 ||
		    mkdir_one(p, err) == -1)
			return -1;
	}
	if (plusplus) {
		/* Maildir++: tells Courier and Dovecot this is a folder */
		if (mkpath(p, err, "%s/maildirfolder", dir) == -1)
			return -1;
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1)
			return dm_err_set(err, DM_ESOURCE, "maildir: %s: %s",
			    p, strerror(errno));
		close(fd);
	}
	return 0;
}

/* name with "-k" put before the ":2,..." info part, or at the end. */
static int
suffixed(char *out, size_t outlen, const char *name, unsigned k)
{
	const char	*colon = strchr(name, ':');
	int		 base = colon ? (int)(colon - name) : (int)strlen(name);
	int		 n;

	if (k == 0)
		n = snprintf(out, outlen, "%s", name);
	else
		n = snprintf(out, outlen, "%.*s-%u%s", base, name, k,
		    colon ? colon : "");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/*
 * Rename src to dstdir/name without replacing anything there: on a
 * clash, name-1, name-2, ... final gets the name used. Returns 0, -1
 * with err set, or -2 when src and dstdir are on different file
 * systems (errno EXDEV: the caller copies).
 */
static int
place(const char *src, const char *dstdir, const char *name, char *final,
    size_t finallen, struct dm_err *err)
{
	char		 dst[PATH_MAX], cand[NAME_MAX + 1];
	unsigned	 k;
	int		 linkonly = 0;

	for (k = 0; k < SUFFIX_MAX; k++) {
		if (suffixed(cand, sizeof(cand), name, k) == -1)
			return dm_err_set(err, DM_ESOURCE,
			    "maildir: name too long");
		if (mkpath(dst, err, "%s/%s", dstdir, cand) == -1)
			return -1;
		if (!linkonly) {
			if (renameat2(AT_FDCWD, src, AT_FDCWD, dst,
			    RENAME_NOREPLACE) == 0)
				goto done;
			if (errno == EINVAL || errno == ENOSYS)
				linkonly = 1;	/* fs without NOREPLACE */
		}
		if (linkonly) {
			/* the classic Maildir way: link fails if taken */
			if (link(src, dst) == 0) {
				if (unlink(src) == -1)
					log_warn("maildir: unlink %s", src);
				goto done;
			}
		}
		if (errno == EXDEV)
			return -2;
		if (errno != EEXIST)
			return dm_err_set(err, DM_ESOURCE,
			    "maildir: rename to %s: %s", dst, strerror(errno));
	}
	return dm_err_set(err, DM_ESOURCE, "maildir: %s: %u names taken",
	    dstdir, SUFFIX_MAX);
 done:
	snprintf(final, finallen, "%s", cand);
	if (fsync_dir(dstdir) == -1)
		log_warn("maildir: fsync %s", dstdir);
	return 0;
}

int
maildir_tmp_open(struct maildir_tmp *t, const char *dir, struct dm_err *err)
{
	struct timeval	 tv;
	int		 tries;

	t->fd = -1;
	t->len = 0;
	t->path[0] = '\0';
	if (snprintf(t->dir, sizeof(t->dir), "%s", dir) >= (int)sizeof(t->dir))
		return dm_err_set(err, DM_ESOURCE, "maildir: path too long");
	for (tries = 0; tries < 100; tries++) {
		/* time, pid and a counter: never anything from the mail */
		gettimeofday(&tv, NULL);
		snprintf(t->name, sizeof(t->name), "%lld.M%06ldP%ldQ%u.dmarcd",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
		    ++uniq);
		if (mkpath(t->path, err, "%s/tmp/%s", dir, t->name) == -1)
			return -1;
		t->fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (t->fd != -1)
			return 0;
		if (errno != EEXIST)
			break;
	}
	dm_err_set(err, DM_ESOURCE, "maildir: create %s: %s", t->path,
	    strerror(errno));
	t->path[0] = '\0';
	return -1;
}

int
maildir_tmp_write(struct maildir_tmp *t, const void *p, size_t len,
    struct dm_err *err)
{
	const char	*c = p;
	ssize_t		 n;

	while (len > 0) {
		n = write(t->fd, c, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return dm_err_set(err, DM_ESOURCE, "maildir: write %s: "
			    "%s", t->path, strerror(errno));
		c += n;
		len -= (size_t)n;
		t->len += (uint64_t)n;
	}
	return 0;
}

void
maildir_tmp_abort(struct maildir_tmp *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
	if (t->path[0] != '\0')
		unlink(t->path);
	t->path[0] = '\0';
}

int
maildir_tmp_commit(struct maildir_tmp *t, const char *sub, const char *want,
    char *final, size_t finallen, struct dm_err *err)
{
	char	 dstdir[PATH_MAX];
	int	 rc, fd = t->fd;

	t->fd = -1;
	if (fsync(fd) == -1) {
		dm_err_set(err, DM_ESOURCE, "maildir: fsync %s: %s", t->path,
		    strerror(errno));
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		dm_err_set(err, DM_ESOURCE, "maildir: close %s: %s", t->path,
		    strerror(errno));
		goto fail;
	}
	if (mkpath(dstdir, err, "%s/%s", t->dir, sub) == -1)
		goto fail;
	rc = place(t->path, dstdir, want ? want : t->name, final, finallen,
	    err);
	if (rc == -2)
		dm_err_set(err, DM_ESOURCE, "maildir: %s/tmp and %s on "
		    "different file systems", t->dir, dstdir);
	if (rc != 0)
		goto fail;
	t->path[0] = '\0';
	return 0;
 fail:
	maildir_tmp_abort(t);
	return -1;
}

int
maildir_reason(const char *dir, const char *name, const char *where,
    const char *id, const char *reason, struct dm_err *err)
{
	struct maildir_tmp	 t;
	struct buf		 b;
	char			 dst[PATH_MAX], when[32];
	int			 rc = -1;

	buf_init(&b, REASON_MAX);
	/* escaped: the reason may quote the mail; one line per key */
	if (buf_printf(&b, "time: %s\nsource: ",
	    dm_time_fmt((int64_t)time(NULL), when)) == -1 ||
	    dm_escape(&b, where ? where : "", 0) == -1 ||
	    buf_adds(&b, "\nid: ") == -1 ||
	    dm_escape(&b, id ? id : "", 0) == -1 ||
	    buf_adds(&b, "\nreason: ") == -1 ||
	    dm_escape(&b, reason ? reason : "(none given)", 0) == -1 ||
	    buf_adds(&b, "\n") == -1) {
		dm_err_set(err, DM_ESOURCE, "maildir: reason too long");
		goto out;
	}
	if (mkpath(dst, err, "%s/%s.reason", dir, name) == -1 ||
	    maildir_tmp_open(&t, dir, err) == -1)
		goto out;
	if (maildir_tmp_write(&t, b.data, b.len, err) == -1) {
		maildir_tmp_abort(&t);
		goto out;
	}
	if (fsync(t.fd) == -1) {
		dm_err_set(err, DM_ESOURCE, "maildir: fsync %s: %s", t.path,
		    strerror(errno));
		maildir_tmp_abort(&t);
		goto out;
	}
	close(t.fd);
	t.fd = -1;
	/* the name is ours and unique: replacing is fine here */
	if (rename(t.path, dst) == -1) {
		dm_err_set(err, DM_ESOURCE, "maildir: rename to %s: %s", dst,
		    strerror(errno));
		maildir_tmp_abort(&t);
		goto out;
	}
	if (fsync_dir(dir) == -1)
		log_warn("maildir: fsync %s", dir);
	rc = 0;
 out:
	buf_clear(&b);
	return rc;
}

/* --- the Maildir source ------------------------------------------------ */

/* A name we list: printable UTF-8, no slash, no leading dot, bounded. */
static int
valid_name(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len > MAILDIR_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f ||
		    name[i] == '/')
			return 0;
	return is_utf8(name, len);
}

/* An id handed back to us: "new/NAME" or "cur/NAME". 1 or 0. */
static int
valid_id(const char *id)
{
	if (strncmp(id, "new/", 4) != 0 && strncmp(id, "cur/", 4) != 0)
		return 0;
	return valid_name(id + 4);
}

static int
mdir_open(struct fetch *f, struct dm_err *err)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	const char	*path = f->conf->path;
	char		 p[PATH_MAX];
	size_t		 i;

	if (path == NULL || *path == '\0')
		return dm_err_set(err, DM_ECONFIG, "maildir: no path");
	snprintf(f->where, sizeof(f->where), "%s", path);
	for (i = 0; i < nitems(subs); i++) {
		if (mkpath(p, err, "%s/%s", path, subs[i]) == -1)
			return -1;
		if (!is_dir(p))
			return dm_err_set(err, DM_ESOURCE,
			    "maildir: %s is not a Maildir (no %s/)", path,
			    subs[i]);
	}
	return 0;
}

struct entry {
	char	*name;
	int	 sub;		/* 0: cur, 1: new */
};

static int
entry_cmp(const void *a, const void *b)
{
	const struct entry	*x = a, *y = b;
	int			 c = strcmp(x->name, y->name);

	return c != 0 ? c : x->sub - y->sub;
}

/* Append the listable files of dir to *ents. Returns 0 or -1. */
static int
scan(const char *dir, int sub, struct entry **ents, size_t *n, size_t *cap,
    struct dm_err *err)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	int		 type;

	if ((d = opendir(dir)) == NULL)
		return dm_err_set(err, DM_ESOURCE, "maildir: %s: %s", dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		type = de->d_type;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) == -1)
				continue;	/* gone meanwhile */
			type = S_ISREG(sb.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type != DT_REG)
			continue;	/* links, fifos, directories */
		if (!valid_name(de->d_name)) {
			log_warnx("maildir: %s: skipping a file whose name is "
			    "not a plain Maildir name", dir);
			continue;
		}
		if (*n >= DM_MAX_MBOX_MESSAGES)
			break;	/* the rest comes next time */
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*ents = xreallocarray(*ents, *cap, sizeof(**ents));
		}
		(*ents)[*n].name = xstrdup(de->d_name);
		(*ents)[*n].sub = sub;
		(*n)++;
	}
	closedir(d);
	return 0;
}

static int
mdir_list(struct fetch *f, struct fetch_item **items, size_t *n, size_t max,
    struct dm_err *err)
{
	struct entry	*ents = NULL;
	size_t		 nents = 0, cap = 0, i, out;
	char		 p[PATH_MAX];
	int		 rc = -1;

	*items = NULL;
	*n = 0;
	if (mkpath(p, err, "%s/cur", f->conf->path) == -1 ||
	    scan(p, 0, &ents, &nents, &cap, err) == -1 ||
	    mkpath(p, err, "%s/new", f->conf->path) == -1 ||
	    scan(p, 1, &ents, &nents, &cap, err) == -1)
		goto out;
	if (nents > 0)
		qsort(ents, nents, sizeof(*ents), entry_cmp);
	out = nents < max ? nents : max;
	*items = xcalloc(out ? out : 1, sizeof(**items));
	for (i = 0; i < out; i++)
		snprintf((*items)[i].id, sizeof((*items)[i].id), "%s/%s",
		    ents[i].sub ? "new" : "cur", ents[i].name);
	*n = out;
	rc = 0;
 out:
	for (i = 0; i < nents; i++)
		free(ents[i].name);
	free(ents);
	return rc;
}

static int
mdir_get(struct fetch *f, const struct fetch_item *it, struct buf *msg,
    struct dm_err *err)
{
	struct stat	 sb;
	char		 p[PATH_MAX];
	int		 fd, rc;

	if (!valid_id(it->id))
		return dm_err_set(err, DM_EINTERNAL, "maildir: bad id");
	if (mkpath(p, err, "%s/%s", f->conf->path, it->id) == -1)
		return -1;
	/* O_NONBLOCK: a fifo put there must not hang us */
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		/* moved meanwhile: not this mail's fault */
		if (errno == ENOENT)
			return dm_err_set(err, DM_ESOURCE, "maildir: %s is "
			    "gone", it->id);
		return dm_err_set(err, errno == EIO || errno == EMFILE ||
		    errno == ENFILE || errno == ENOMEM ? DM_ESOURCE : DM_EMSG,
		    "maildir: open: %s", strerror(errno));
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return dm_err_set(err, DM_EMSG, "maildir: not a regular file");
	}
	if ((uint64_t)sb.st_size > msg->max) {
		close(fd);
		return dm_err_set(err, DM_EMSG, "maildir: message over %zu "
		    "bytes", msg->max);
	}
	buf_reset(msg);
	rc = buf_read_fd(msg, fd);
	close(fd);
	if (rc == -2)	/* grew since fstat */
		return dm_err_set(err, DM_EMSG, "maildir: message over %zu "
		    "bytes", msg->max);
	if (rc == -1)
		return dm_err_set(err, DM_ESOURCE, "maildir: read: %s",
		    strerror(errno));
	return 0;
}

/* Copy src into folder/cur/name through folder/tmp (another fs). */
static int
copy_in(const char *src, const char *folder, const char *name, char *final,
    size_t finallen, struct dm_err *err)
{
	struct maildir_tmp	 t;
	char			 chunk[65536];
	ssize_t			 n;
	int			 fd;

	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return dm_err_set(err, DM_ESOURCE, "maildir: open %s: %s",
		    src, strerror(errno));
	if (maildir_tmp_open(&t, folder, err) == -1) {
		close(fd);
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			dm_err_set(err, DM_ESOURCE, "maildir: read %s: %s",
			    src, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (maildir_tmp_write(&t, chunk, (size_t)n, err) == -1)
			goto fail;
	}
	close(fd);
	if (maildir_tmp_commit(&t, "cur", name, final, finallen, err) == -1)
		return -1;
	if (unlink(src) == -1)
		log_warn("maildir: unlink %s", src);
	return 0;
 fail:
	close(fd);
	maildir_tmp_abort(&t);
	return -1;
}

/*
 * File the message by renaming it into folder/cur: one atomic step, so
 * after a crash it is in the queue or filed, never both or neither
 * (only across file systems is it copied, then removed). The reason of
 * an invalid message is written after the move; failing to write it
 * is logged but does not undo the filing.
 */
static int
mdir_ack(struct fetch *f, const struct fetch_item *it, int invalid,
    const char *reason, struct dm_err *err)
{
	const struct fetch_conf	*c = f->conf;
	const char		*fold, *name = it->id + 4;
	char			 folder[PATH_MAX], cur[PATH_MAX], src[PATH_MAX];
	char			 srcdir[PATH_MAX], final[NAME_MAX + 1];
	struct dm_err		 rerr = { 0 };
	int			 rc;

	if (!valid_id(it->id))
		return dm_err_set(err, DM_EINTERNAL, "maildir: bad id");
	fold = invalid ? c->invalid : c->processed;
	if (fold == NULL || *fold == '\0')
		fold = invalid ? ".invalid" : ".processed";
	if (fold[0] == '/')
		rc = mkpath(folder, err, "%s", fold);
	else
		rc = mkpath(folder, err, "%s/%s", c->path, fold);
	if (rc == -1 || mkpath(cur, err, "%s/cur", folder) == -1 ||
	    mkpath(src, err, "%s/%s", c->path, it->id) == -1 ||
	    mkpath(srcdir, err, "%s/%.3s", c->path, it->id) == -1)
		return -1;
	/* ".name" under path is a Maildir++ sub-folder */
	if (maildir_make(folder, fold[0] == '.' && strchr(fold, '/') == NULL,
	    err) == -1)
		return -1;
	rc = place(src, cur, name, final, sizeof(final), err);
	if (rc == -2)
		rc = copy_in(src, folder, name, final, sizeof(final), err);
	if (rc == -1) {
		if (access(src, F_OK) == -1 && errno == ENOENT) {
			/* filed already (a crash before the ledger knew) */
			log_info("maildir: %s: already gone", it->id);
			dm_err_clear(err);
			return 0;
		}
		return -1;
	}
	if (fsync_dir(srcdir) == -1)
		log_warn("maildir: fsync %s", srcdir);
	if (invalid && maildir_reason(folder, final, f->where, it->id, reason,
	    &rerr) == -1)
		log_warnx("maildir: %s: the reason was not saved: %s", final,
		    rerr.msg);
	return 0;
}

static void
mdir_close(struct fetch *f)
{
	(void)f;	/* nothing is held between calls */
}

const struct fetch_ops fetch_maildir_ops = {
	mdir_open, mdir_list, mdir_get, mdir_ack, mdir_close
};
