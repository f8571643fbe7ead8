/*
 * fetch_pop3.c: not yet written.
 */
#include "fetch.h"

static int
stub_open(struct fetch *f, struct dm_err *err)
{
	(void)f;
	return dm_err_set(err, DM_ECONFIG, "pop3: not implemented yet");
}

const struct fetch_ops fetch_pop3_ops = { stub_open, NULL, NULL, NULL, NULL };
