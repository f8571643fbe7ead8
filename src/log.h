/*
 * log.h: logging to stderr, one key=value line per event, for journald.
 * Text from outside goes through log_kv() so it can't forge lines.
 */
#ifndef LOG_H
#define LOG_H

#include "dm.h"

struct buf;

enum log_level { LOG_LQUIET = 0, LOG_LWARN, LOG_LINFO, LOG_LDEBUG };

void	log_init(const char *progname, int level);
int	log_level(void);
void	log_warn(const char *fmt, ...) DM_PRINTF(1, 2);	/* + strerror */
void	log_warnx(const char *fmt, ...) DM_PRINTF(1, 2);
/* what ends a command (it exits non-zero); shown when warnings are */
void	log_err(const char *fmt, ...) DM_PRINTF(1, 2);	/* + strerror */
void	log_errx(const char *fmt, ...) DM_PRINTF(1, 2);
void	log_info(const char *fmt, ...) DM_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) DM_PRINTF(1, 2);
/* For start-up and out-of-memory only: bad input never kills us. */
void	fatal(const char *fmt, ...) DM_PRINTF(1, 2)
	    __attribute__((noreturn));
void	fatalx(const char *fmt, ...) DM_PRINTF(1, 2)
	    __attribute__((noreturn));

/*
 * Append " key=value" to b. The value is quoted when it holds blanks,
 * quotes or '=' or is empty; control bytes and invalid UTF-8 are
 * written as \xNN. val NULL writes nothing. Returns 0 or -1 (b full).
 */
int	log_kv(struct buf *b, const char *key, const char *val);
/* The same with a number. */
int	log_kvu(struct buf *b, const char *key, unsigned long long val);

#endif /* LOG_H */
