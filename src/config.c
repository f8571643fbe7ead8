/*
 * config.c: dmarcd.conf. The file may hold a password in a conninfo:
 * one that others can read is refused.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "log.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum cfg_type { CFG_STR, CFG_SIZE, CFG_UINT };

static const struct cfg_key {
	const char	*section;
	const char	*key;
	enum cfg_type	 type;
	uint64_t	 min, max;
	size_t		 off;
} cfg_keys[] = {
	{ "database", "conninfo", CFG_STR, 0, 0,
	    offsetof(struct config, conninfo) },
	{ "limits", "max_message", CFG_SIZE, 1u << 16, 1u << 30,
	    offsetof(struct config, lim.max_message) },
	{ "limits", "max_xml", CFG_SIZE, 1u << 20, 1ull << 36,
	    offsetof(struct config, lim.max_xml) },
	{ "limits", "max_ratio", CFG_UINT, 2, 100000,
	    offsetof(struct config, lim.max_ratio) },
	{ "limits", "max_records", CFG_UINT, 1, 1000000000,
	    offsetof(struct config, lim.max_records) },
};

const char *
config_default_path(void)
{
	return SYSCONFDIR "/dmarcd/dmarcd.conf";
}

void
config_init(struct config *cf)
{
	memset(cf, 0, sizeof(*cf));
	dm_limits_default(&cf->lim);
}

void
config_clear(struct config *cf)
{
	free(cf->path);
	free(cf->conninfo);
	memset(cf, 0, sizeof(*cf));
}

int
config_parse_size(const char *s, uint64_t *v)
{
	char		 num[32];
	size_t		 n = strlen(s);
	unsigned	 shift = 0;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift != 0)
		num[n - 1] = '\0';
	if (dm_parse_u64(num, UINT64_MAX >> shift, v) == -1)
		return -1;
	*v <<= shift;
	return 0;
}

/* Debian's libinih passes no line number: name the key instead. */
static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct config		*cf = user;
	const struct cfg_key	*k = NULL;
	uint64_t		 v;
	size_t			 i;
	char			*base = (char *)cf;

	for (i = 0; i < nitems(cfg_keys); i++)
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].key, key) == 0)
			k = &cfg_keys[i];
	if (k == NULL) {
		log_warnx("%s: [%s] %s: unknown key", cf->path, section, key);
		cf->nerrors++;
		return 1;
	}
	switch (k->type) {
	case CFG_STR:
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(value);
		break;
	case CFG_SIZE:
	case CFG_UINT:
		if ((k->type == CFG_SIZE ? config_parse_size(value, &v) :
		    dm_parse_u64(value, UINT64_MAX, &v)) == -1 ||
		    v < k->min || v > k->max) {
			log_warnx("%s: [%s] %s: \"%s\" is not a %s from "
			    "%llu to %llu", cf->path, section, key,
			    value, k->type == CFG_SIZE ? "size" : "number",
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
			cf->nerrors++;
			break;
		}
		if (strcmp(key, "max_ratio") == 0)
			*(unsigned *)(base + k->off) = (unsigned)v;
		else if (strcmp(key, "max_records") == 0)
			*(uint64_t *)(base + k->off) = v;
		else
			*(size_t *)(base + k->off) = (size_t)v;
		break;
	}
	return 1;	/* keep going: one run shows every mistake */
}

int
config_load(struct config *cf, const char *path, int must_exist)
{
	struct stat	 sb;
	FILE		*fp;
	int		 rc;

	free(cf->path);
	cf->path = xstrdup(path);
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		log_warn("%s", path);
		cf->nerrors++;
		return -1;
	}
	rc = ini_parse_file(fp, handler, cf);
	if (rc > 0) {
		log_warnx("%s:%d: syntax error", path, rc);
		cf->nerrors++;
	}
	if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & S_IROTH) &&
	    cf->conninfo != NULL && strstr(cf->conninfo, "password") != NULL) {
		log_warnx("%s: holds a password and is readable by others: "
		    "chmod o-r %s", path, path);
		cf->nerrors++;
	}
	fclose(fp);
	return cf->nerrors == 0 ? 0 : -1;
}
