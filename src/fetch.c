/*
 * fetch.c: not yet written (fetch_new, fetch_free, fetch_secret): a stub
 * so that dmarcd links until the IMAP source lands.
 */
#include <stdlib.h>

#include "fetch.h"

struct fetch *
fetch_new(const struct fetch_conf *conf, struct dm_err *err)
{
	(void)conf;
	dm_err_set(err, DM_ECONFIG, "mail sources are not implemented yet");
	return NULL;
}

void
fetch_free(struct fetch *f)
{
	free(f);
}
