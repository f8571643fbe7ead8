/*
 * fetch.c: what every source shares: a source from its configuration,
 * and the secret it logs in with.
 *
 * Distrusted here: the URL (checked before anything connects) and the
 * output of password_command / token_command (read bounded, first line
 * only). Secrets are read into buffers that are wiped before they are
 * freed, and never written into an error message.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fetch.h"
#include "fetch_imap_parse.h"
#include "util.h"

#define SECRET_MAX	8192	/* the first line of a secret */
#define SECRET_DRAIN	(1u << 20)	/* what a command may print in all */

/*
 * where for a POP3 URL: the URL without its user. Returns 0, or -1 with
 * err set.
 */
static int
pop3_where(const char *url, char *where, size_t wlen, struct dm_err *err)
{
	const char	*auth, *aend, *at = NULL, *q;
	size_t		 slen;

	if (strncasecmp(url, "pop3s://", 8) == 0)
		slen = 8;
	else if (strncasecmp(url, "pop3://", 7) == 0)
		slen = 7;
	else
		return dm_err_set(err, DM_ECONFIG, "pop3: url must be "
		    "pop3s://HOST or pop3://HOST (STLS)");
	auth = url + slen;
	aend = auth + strcspn(auth, "/?#");
	for (q = auth; q < aend; q++)
		if (*q == '@')
			at = q;
	if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL)
		return dm_err_set(err, DM_ECONFIG, "pop3: url must not hold "
		    "a password: use password_file");
	if ((at != NULL ? at + 1 : auth) == aend)
		return dm_err_set(err, DM_ECONFIG, "pop3: url has no host");
	if ((size_t)snprintf(where, wlen, "%.*s%s", (int)slen, url,
	    at != NULL ? at + 1 : auth) >= wlen)
		return dm_err_set(err, DM_ECONFIG, "pop3: url too long");
	return 0;
}

/* IMAP: the URL and the folder names, checked; where without the user. */
static int
imap_where(const struct fetch_conf *conf, char *where, size_t wlen,
    struct dm_err *err)
{
	struct fetch_imap_url	 u;
	struct buf		 b;
	const char		*folders[2], *keys[2] = { "processed_folder",
				    "invalid_folder" };
	size_t			 i;
	int			 bad, n;

	if (fetch_imap_url(conf->url, &u, err) == -1)
		return -1;
	if (conf->user == NULL && u.user[0] == '\0')
		return dm_err_set(err, DM_ECONFIG, "imap: no user");
	folders[0] = conf->processed_folder;
	folders[1] = conf->invalid_folder;
	for (i = 0; i < nitems(folders); i++) {
		if (folders[i] == NULL)
			continue;
		buf_init(&b, 4096);
		bad = folders[i][0] == '\0' ||
		    fetch_imap_mutf7(folders[i], &b) == -1;
		buf_clear(&b);
		if (bad)
			return dm_err_set(err, DM_ECONFIG, "imap: %s must be "
			    "UTF-8 without control characters", keys[i]);
	}
	if (u.port_given)
		n = snprintf(where, wlen, "%s://%s:%u/%s", u.implicit_tls ?
		    "imaps" : "imap", u.host, u.port, u.path);
	else
		n = snprintf(where, wlen, "%s://%s/%s", u.implicit_tls ?
		    "imaps" : "imap", u.host, u.path);
	if (n < 0 || (size_t)n >= wlen)
		return dm_err_set(err, DM_ECONFIG, "imap: url too long");
	return 0;
}

struct fetch *
fetch_new(const struct fetch_conf *conf, struct dm_err *err)
{
	struct fetch	*f;

	f = xcalloc(1, sizeof(*f));
	f->conf = conf;
	switch (conf->kind) {
	case FETCH_IMAP:
		f->ops = &fetch_imap_ops;
		if (conf->url == NULL) {
			dm_err_set(err, DM_ECONFIG, "imap: url is required");
			goto fail;
		}
		if (imap_where(conf, f->where, sizeof(f->where), err) == -1)
			goto fail;
		break;
	case FETCH_POP3:
		f->ops = &fetch_pop3_ops;
		if (conf->url == NULL) {
			dm_err_set(err, DM_ECONFIG, "pop3: url is required");
			goto fail;
		}
		if (pop3_where(conf->url, f->where, sizeof(f->where), err) ==
		    -1)
			goto fail;
		break;
	case FETCH_MAILDIR:
		f->ops = &fetch_maildir_ops;
		if (conf->path == NULL || conf->path[0] == '\0') {
			dm_err_set(err, DM_ECONFIG, "maildir: path is "
			    "required");
			goto fail;
		}
		if ((size_t)snprintf(f->where, sizeof(f->where), "%s",
		    conf->path) >= sizeof(f->where)) {
			dm_err_set(err, DM_ECONFIG, "maildir: path too long");
			goto fail;
		}
		break;
	default:
		dm_err_set(err, DM_ECONFIG, "unknown kind of source");
		goto fail;
	}
	return f;
 fail:
	free(f);
	return NULL;
}

void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	/* close() frees the source's state; it is a no-op when closed */
	if (f->ops != NULL && f->ops->close != NULL)
		f->ops->close(f);
	free(f);
}

/*
 * A secret on its way in: a fixed buffer, so no realloc leaves copies
 * behind; what does not fit is dropped.
 */
struct secret_buf {
	char	 data[SECRET_MAX];
	size_t	 len;
};

static void
sb_add(struct secret_buf *sb, const char *p, size_t n)
{
	if (n > sizeof(sb->data) - sb->len)
		n = sizeof(sb->data) - sb->len;
	memcpy(sb->data + sb->len, p, n);
	sb->len += n;
}

/*
 * The first line of sb as a new string, or NULL with err set; sb is
 * wiped either way. what names the secret's origin.
 */
static char *
first_line(struct secret_buf *sb, const char *what, struct dm_err *err)
{
	char	*s = NULL, *nl;
	size_t	 n = sb->len;

	if ((nl = memchr(sb->data, '\n', sb->len)) != NULL)
		n = (size_t)(nl - sb->data);
	else if (sb->len == sizeof(sb->data))
		n = sizeof(sb->data);
	if (n > 0 && sb->data[n - 1] == '\r')
		n--;
	if (n >= sizeof(sb->data))
		dm_err_set(err, DM_ECONFIG, "%s: the first line is over %zu "
		    "bytes", what, sizeof(sb->data) - 1);
	else if (n == 0)
		dm_err_set(err, DM_ECONFIG, "%s: the first line is empty",
		    what);
	else if (memchr(sb->data, '\0', n) != NULL)
		dm_err_set(err, DM_ECONFIG, "%s: the first line holds a NUL",
		    what);
	else {
		s = xmalloc(n + 1);
		memcpy(s, sb->data, n);
		s[n] = '\0';
	}
	explicit_bzero(sb, sizeof(*sb));
	return s;
}

static char *
secret_file(const char *path, struct dm_err *err)
{
	struct stat		 st;
	struct secret_buf	*sb;
	char			 what[600], *s;
	ssize_t			 r;
	int			 fd;

	snprintf(what, sizeof(what), "password_file %s", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		dm_err_set(err, DM_ECONFIG, "%s: %s", what, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		dm_err_set(err, DM_ECONFIG, "%s: not a regular file", what);
		return NULL;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH)) {
		close(fd);
		dm_err_set(err, DM_ECONFIG, "%s is readable by others: "
		    "chmod 600 %s", what, path);
		return NULL;
	}
	sb = xcalloc(1, sizeof(*sb));
	while (sb->len < sizeof(sb->data)) {
		r = read(fd, sb->data + sb->len, sizeof(sb->data) - sb->len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			dm_err_set(err, DM_ECONFIG, "%s: %s", what,
			    strerror(errno));
			close(fd);
			explicit_bzero(sb, sizeof(*sb));
			free(sb);
			return NULL;
		}
		if (r == 0)
			break;
		sb->len += (size_t)r;
	}
	close(fd);
	s = first_line(sb, what, err);
	free(sb);
	return s;
}

/*
 * Run cmd with /bin/sh -c, stdin from /dev/null, and return the first
 * line of its stdout. Its output never reaches err, only its exit
 * status. The command gets timeout seconds.
 */
static char *
secret_command(const char *key, const char *cmd, unsigned timeout,
    struct dm_err *err)
{
	struct secret_buf *sb;
	struct pollfd	 pfd;
	struct timespec	 start, now;
	char		 chunk[1024], *s;
	size_t		 total = 0;
	pid_t		 pid;
	ssize_t		 r;
	long		 left_ms;
	int		 p[2], devnull, status, timed_out = 0, rc;

	if (pipe2(p, O_CLOEXEC) == -1) {
		dm_err_set(err, DM_ESOURCE, "%s: pipe: %s", key,
		    strerror(errno));
		return NULL;
	}
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		dm_err_set(err, DM_ESOURCE, "%s: fork: %s", key,
		    strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDONLY)) != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	sb = xcalloc(1, sizeof(*sb));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (long)timeout * 1000 -
		    ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0) {
			timed_out = 1;
			break;
		}
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if ((rc = poll(&pfd, 1, (int)left_ms)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (rc == 0)
			continue;
		if ((r = read(p[0], chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (r == 0)
			break;
		/* past the first SECRET_MAX bytes: drain, up to a bound */
		sb_add(sb, chunk, (size_t)r);
		if ((total += (size_t)r) > SECRET_DRAIN)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(p[0]);
	if (timed_out || total > SECRET_DRAIN)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(sb, sizeof(*sb));
		free(sb);
		if (timed_out)
			dm_err_set(err, DM_ESOURCE, "%s timed out after %u s",
			    key, timeout);
		else if (total > SECRET_DRAIN)
			dm_err_set(err, DM_ESOURCE, "%s printed over %u bytes",
			    key, SECRET_DRAIN);
		else if (WIFSIGNALED(status))
			dm_err_set(err, DM_ESOURCE, "%s killed by signal %d",
			    key, WTERMSIG(status));
		else
			dm_err_set(err, DM_ESOURCE, "%s exited with status %d",
			    key, WEXITSTATUS(status));
		return NULL;
	}
	s = first_line(sb, key, err);
	free(sb);
	return s;
}

char *
fetch_secret(const struct fetch_conf *conf, struct dm_err *err)
{
	unsigned	 timeout = conf->timeout ? conf->timeout : 60;

	if (conf->auth == FETCH_AUTH_XOAUTH2) {
		if (conf->token_command == NULL) {
			dm_err_set(err, DM_ECONFIG, "auth = xoauth2 needs "
			    "token_command");
			return NULL;
		}
		return secret_command("token_command", conf->token_command,
		    timeout, err);
	}
	if (conf->password_command != NULL)
		return secret_command("password_command",
		    conf->password_command, timeout, err);
	if (conf->password_file != NULL)
		return secret_file(conf->password_file, err);
	dm_err_set(err, DM_ECONFIG, "no password_file or password_command");
	return NULL;
}

void
fetch_secret_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
