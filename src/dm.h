/*
 * dm.h: what every module shares: the error type, a few macros.
 */
#ifndef DM_H
#define DM_H

#include <stddef.h>
#include <stdint.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define DM_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define DM_UNUSED	__attribute__((unused))
#else
#define DM_PRINTF(f, a)
#define DM_UNUSED
#endif

/* Who has to act on an error: decides quarantine, retry or rollback. */
enum dm_scope {
	DM_EMSG = 1,	/* this mail or file: quarantine it, go on */
	DM_ESOURCE,	/* mailbox or server: retry next cycle */
	DM_ESTORE,	/* database: roll back, leave the mail unflagged */
	DM_ECONFIG,	/* configuration or usage */
	DM_EINTERNAL,	/* out of memory, a bug */
};

struct dm_err {
	enum dm_scope	 scope;
	char		 msg[512];	/* what, not where */
};

/* Fill err (may be NULL) and return -1. */
int	dm_err_set(struct dm_err *err, enum dm_scope scope,
	    const char *fmt, ...) DM_PRINTF(3, 4);
/* Put "context: " in front of err->msg; returns -1. */
int	dm_err_prefix(struct dm_err *err, const char *fmt, ...)
	    DM_PRINTF(2, 3);
void	dm_err_clear(struct dm_err *err);

/*
 * A pull-style byte stream, the one interface between the stages that
 * move bytes: a file, an inflater, a zip member. read() returns bytes
 * read (> 0), 0 at the end of the stream, or -1 with rd->err set.
 * A reader wrapping another one passes its error up unchanged.
 */
struct dm_rd {
	long		(*read)(struct dm_rd *rd, void *dst, size_t len);
	void		*ctx;
	struct dm_err	 err;
};

static inline long
dm_rd_read(struct dm_rd *rd, void *dst, size_t len)
{
	return rd->read(rd, dst, len);
}

#endif /* DM_H */
