/*
 * fetch_maildir.c: not yet written.
 */
#include "fetch.h"

static int
stub_open(struct fetch *f, struct dm_err *err)
{
	(void)f;
	return dm_err_set(err, DM_ECONFIG, "maildir: not implemented yet");
}

const struct fetch_ops fetch_maildir_ops = { stub_open, NULL, NULL, NULL, NULL };
