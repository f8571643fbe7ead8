/*
 * fetch_maildir.h: internal to the sources. Filing mail into a Maildir
 * (the Maildir source's processed and invalid folders, the POP3
 * source's quarantine_dir) safely: written under tmp/, fsync'ed, then
 * renamed into place without ever replacing a file that is there; the
 * reason for rejected mail goes into a sidecar "<folder>/<name>.reason"
 * in the folder's root, where mail readers never look, so the message
 * keeps its exact bytes.
 */
#ifndef FETCH_MAILDIR_H
#define FETCH_MAILDIR_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "dm.h"

#define MAILDIR_NAME_MAX	200	/* a file name we list or make */

/*
 * Make dir a Maildir if it is not one: dir itself (its parent must
 * exist) and tmp, new, cur, mode 0700. With plusplus, also the empty
 * "maildirfolder" file of a Maildir++ sub-folder. Returns 0, or -1
 * with err set (DM_ESOURCE).
 */
int	maildir_make(const char *dir, int plusplus, struct dm_err *err);

/* A message being written into dir/tmp under a fresh unique name. */
struct maildir_tmp {
	int		 fd;		/* -1 when closed */
	uint64_t	 len;		/* bytes written */
	char		 dir[PATH_MAX];
	char		 name[64];	/* time.MusecPpidQn.dmarcd */
	char		 path[PATH_MAX];	/* dir/tmp/name */
};

/* Create dir/tmp/<unique>. Returns 0, or -1 with err set (DM_ESOURCE). */
int	maildir_tmp_open(struct maildir_tmp *t, const char *dir,
	    struct dm_err *err);
int	maildir_tmp_write(struct maildir_tmp *t, const void *p, size_t len,
	    struct dm_err *err);
/*
 * fsync and close t, then rename it to dir/sub/<want or t's own name>
 * (a suffix is added when that exists). final (finallen bytes) gets the
 * file name used. Returns 0, or -1 with err set; t is closed either way
 * and its tmp file gone on failure.
 */
int	maildir_tmp_commit(struct maildir_tmp *t, const char *sub,
	    const char *want, char *final, size_t finallen,
	    struct dm_err *err);
/* Close t and remove its tmp file; safe after commit or on fd -1. */
void	maildir_tmp_abort(struct maildir_tmp *t);

/*
 * Write "<dir>/<name>.reason": time, source, id and reason, one
 * "key: value" line each, outside text escaped. Returns 0 or -1.
 */
int	maildir_reason(const char *dir, const char *name, const char *where,
	    const char *id, const char *reason, struct dm_err *err);

#endif /* FETCH_MAILDIR_H */
