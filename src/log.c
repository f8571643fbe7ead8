/*
 * log.c: stderr logging. Lines are prefixed with the level so journald
 * and a human both can read them; the text itself is key=value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "util.h"

static const char	*progname = "dmarcd";
static int		 level = LOG_LINFO;

void
log_init(const char *name, int lvl)
{
	progname = name;
	level = lvl;
}

int
log_level(void)
{
	return level;
}

static void
vlog(int lvl, const char *tag, const char *fmt, va_list ap, int errnum)
{
	if (lvl > level)
		return;
	fprintf(stderr, "%s: %s", progname, tag);
	vfprintf(stderr, fmt, ap);
	if (errnum != 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LWARN, "warning: ", fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LWARN, "warning: ", fmt, ap, 0);
	va_end(ap);
}

void
log_err(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LWARN, "error: ", fmt, ap, saved);
	va_end(ap);
	errno = saved;
}

void
log_errx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LWARN, "error: ", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LINFO, "", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LDEBUG, "debug: ", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_LQUIET, "fatal: ", fmt, ap, saved);
	va_end(ap);
	exit(70);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_LQUIET, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(70);
}

int
log_kv(struct buf *b, const char *key, const char *val)
{
	const char	*p;
	int		 quote = 0;

	if (val == NULL)
		return 0;
	if (*val == '\0')
		quote = 1;
	for (p = val; *p != '\0'; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\t')
			quote = 1;
	if (buf_printf(b, " %s=", key) == -1)
		return -1;
	if (quote && buf_addc(b, '"') == -1)
		return -1;
	if (dm_escape(b, val, quote) == -1)
		return -1;
	if (quote && buf_addc(b, '"') == -1)
		return -1;
	return 0;
}

int
log_kvu(struct buf *b, const char *key, unsigned long long val)
{
	return buf_printf(b, " %s=%llu", key, val);
}
