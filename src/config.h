/*
 * config.h: the INI configuration (libinih), one table of keys, every
 * mistake reported in one run.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "bounds.h"
#include "fetch.h"
#include "ingest.h"

#define CONFIG_MAX_SOURCES	32

struct config {
	char		*path;		/* the file read, or NULL */
	char		*conninfo;	/* [database] conninfo, or NULL */
	struct dm_limits lim;		/* [limits] */
	char		*metrics_file;	/* [daemon] Prometheus textfile */
	unsigned	 poll_interval;	/* [daemon] default for sources */
	struct ingest_failure failure;	/* [failure] store, hash_local_parts */
	unsigned	 failure_retention_days; /* [failure]; 0: for ever */
	struct fetch_conf sources[CONFIG_MAX_SOURCES];
	size_t		 nsources;
	int		 nerrors;	/* mistakes logged while reading */
};

/* Defaults, no file. */
void	config_init(struct config *cf);
void	config_clear(struct config *cf);

/*
 * Read path into cf (initialised by config_init()). A missing file is
 * fine when !must_exist. Every mistake is logged as "path: [section]
 * key: reason" and counted in cf->nerrors; then the sources are checked
 * as a whole (a URL, a user, a secret for each). Returns 0 when there
 * were no mistakes, -1 otherwise.
 */
int	config_load(struct config *cf, const char *path, int must_exist);

/* The default file: $(sysconfdir)/dmarcd/dmarcd.conf. */
const char *config_default_path(void);

/* Parse "64M", "1G", "512k", "1048576". Returns 0 or -1. */
int	config_parse_size(const char *s, uint64_t *v);

#endif /* CONFIG_H */
