/*
 * config.c: dmarcd.conf. The file may hold a password in a conninfo:
 * one that others can read is refused. Sources are sections that may
 * repeat with a name: [imap "billing"].
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

#define DEFAULT_POLL	300

enum cfg_type { CFG_STR, CFG_SIZE, CFG_UINT, CFG_AUTH, CFG_AFTER, CFG_FSTORE,
    CFG_BOOL };
enum cfg_where { IN_CONFIG, IN_SOURCE };

static const struct cfg_key {
	const char	*section;	/* "source": imap, pop3, maildir */
	const char	*key;
	enum cfg_type	 type;
	uint64_t	 min, max;
	enum cfg_where	 where;
	size_t		 off;
	unsigned	 kinds;		/* for sources: which kinds take it */
} cfg_keys[] = {
#define K(s, k, t, lo, hi, f) { s, k, t, lo, hi, IN_CONFIG, \
	    offsetof(struct config, f), 0 }
#define S(k, t, lo, hi, f, kinds) { "source", k, t, lo, hi, IN_SOURCE, \
	    offsetof(struct fetch_conf, f), kinds }
#define IMAP	(1u << FETCH_IMAP)
#define POP3	(1u << FETCH_POP3)
#define MDIR	(1u << FETCH_MAILDIR)
	K("database", "conninfo", CFG_STR, 0, 0, conninfo),
	K("limits", "max_message", CFG_SIZE, 1u << 16, 1u << 30,
	    lim.max_message),
	K("limits", "max_xml", CFG_SIZE, 1u << 20, 1ull << 36, lim.max_xml),
	K("limits", "max_ratio", CFG_UINT, 2, 100000, lim.max_ratio),
	K("limits", "max_records", CFG_UINT, 1, 1000000000,
	    lim.max_records),
	K("daemon", "metrics_file", CFG_STR, 0, 0, metrics_file),
	K("daemon", "poll_interval", CFG_UINT, 5, 86400, poll_interval),
	K("failure", "store", CFG_FSTORE, 0, 0, failure.store),
	K("failure", "hash_local_parts", CFG_BOOL, 0, 0,
	    failure.hash_local_parts),
	K("failure", "retention_days", CFG_UINT, 0, 36500,
	    failure_retention_days),
	S("url", CFG_STR, 0, 0, url, IMAP | POP3),
	S("user", CFG_STR, 0, 0, user, IMAP | POP3),
	S("password_file", CFG_STR, 0, 0, password_file, IMAP | POP3),
	S("password_command", CFG_STR, 0, 0, password_command, IMAP | POP3),
	S("auth", CFG_AUTH, 0, 0, auth, IMAP | POP3),
	S("token_command", CFG_STR, 0, 0, token_command, IMAP | POP3),
	S("ca_file", CFG_STR, 0, 0, ca_file, IMAP | POP3),
	S("after", CFG_AFTER, 0, 0, after, IMAP | POP3),
	S("processed_folder", CFG_STR, 0, 0, processed_folder, IMAP),
	S("invalid_folder", CFG_STR, 0, 0, invalid_folder, IMAP),
	S("quarantine_dir", CFG_STR, 0, 0, quarantine_dir, POP3),
	S("path", CFG_STR, 0, 0, path, MDIR),
	S("processed", CFG_STR, 0, 0, processed, MDIR),
	S("invalid", CFG_STR, 0, 0, invalid, MDIR),
	S("poll_interval", CFG_UINT, 5, 86400, poll_interval,
	    IMAP | POP3 | MDIR),
	S("timeout", CFG_UINT, 5, 3600, timeout, IMAP | POP3),
#undef K
#undef S
};

/* Sections whose keys are accepted but not used by this version. */
static const char *const later_sections[] = { "enrich" };

static const struct word {
	const char	*word;
	int		 val;
} auths[] = {
	{ "plain", FETCH_AUTH_PLAIN }, { "login", FETCH_AUTH_LOGIN },
	{ "xoauth2", FETCH_AUTH_XOAUTH2 },
}, afters[] = {
	{ "move", FETCH_AFTER_MOVE }, { "seen", FETCH_AFTER_SEEN },
	{ "delete", FETCH_AFTER_DELETE }, { "keep", FETCH_AFTER_KEEP },
}, fstores[] = {
	{ "headers", INGEST_FAILURE_HEADERS }, { "full", INGEST_FAILURE_FULL },
	{ "none", INGEST_FAILURE_NONE },
}, bools[] = {
	{ "yes", 1 }, { "no", 0 },
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
	cf->poll_interval = DEFAULT_POLL;
}

static void
source_clear(struct fetch_conf *fc)
{
	free(fc->name);
	free(fc->url);
	free(fc->user);
	free(fc->password_file);
	free(fc->password_command);
	free(fc->token_command);
	free(fc->ca_file);
	free(fc->processed_folder);
	free(fc->invalid_folder);
	free(fc->quarantine_dir);
	free(fc->path);
	free(fc->processed);
	free(fc->invalid);
}

void
config_clear(struct config *cf)
{
	size_t	 i;

	for (i = 0; i < cf->nsources; i++)
		source_clear(&cf->sources[i]);
	free(cf->path);
	free(cf->conninfo);
	free(cf->metrics_file);
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

/*
 * "imap", "imap \"billing\"" -> kind and name. Returns the kind, or 0
 * when section is not a source; -1 for a malformed name.
 */
static int
source_section(const char *section, char *name, size_t namelen)
{
	static const struct { const char *w; int k; } kinds[] = {
		{ "imap", FETCH_IMAP }, { "pop3", FETCH_POP3 },
		{ "maildir", FETCH_MAILDIR },
	};
	const char	*p, *q;
	size_t		 i, j, n;

	for (i = 0; i < nitems(kinds); i++) {
		n = strlen(kinds[i].w);
		if (strncmp(section, kinds[i].w, n) != 0)
			continue;
		p = section + n;
		if (*p == '\0') {
			snprintf(name, namelen, "%s", kinds[i].w);
			return kinds[i].k;
		}
		if (*p != ' ')
			continue;
		while (*p == ' ')
			p++;
		if (*p++ != '"' || (q = strchr(p, '"')) == NULL || q == p ||
		    q[1] != '\0' || (size_t)(q - p) >= namelen)
			return -1;
		memcpy(name, p, (size_t)(q - p));
		name[q - p] = '\0';
		/* the name shows up in logs, metrics and the ledger */
		for (j = 0; name[j] != '\0'; j++)
			if (!((name[j] >= 'a' && name[j] <= 'z') ||
			    (name[j] >= 'A' && name[j] <= 'Z') ||
			    (name[j] >= '0' && name[j] <= '9') ||
			    name[j] == '-' || name[j] == '_' || name[j] == '.'))
				return -1;
		return kinds[i].k;
	}
	return 0;
}

/* The source for [section], found or added. NULL when full. */
static struct fetch_conf *
source_for(struct config *cf, int kind, const char *name)
{
	struct fetch_conf	*fc;
	size_t			 i;

	for (i = 0; i < cf->nsources; i++)
		if ((int)cf->sources[i].kind == kind &&
		    strcmp(cf->sources[i].name, name) == 0)
			return &cf->sources[i];
	if (cf->nsources == CONFIG_MAX_SOURCES)
		return NULL;
	fc = &cf->sources[cf->nsources++];
	memset(fc, 0, sizeof(*fc));
	fc->kind = kind;
	fc->name = xstrdup(name);
	return fc;
}

static int
word_value(const char *value, int type, int *out)
{
	const struct word	*w;
	size_t			 i, n;

	switch (type) {
	case CFG_AUTH:
		w = auths;
		n = nitems(auths);
		break;
	case CFG_AFTER:
		w = afters;
		n = nitems(afters);
		break;
	case CFG_FSTORE:
		w = fstores;
		n = nitems(fstores);
		break;
	default:
		w = bools;
		n = nitems(bools);
		break;
	}
	for (i = 0; i < n; i++)
		if (strcmp(w[i].word, value) == 0) {
			*out = w[i].val;
			return 0;
		}
	return -1;
}

static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct config		*cf = user;
	const struct cfg_key	*k = NULL;
	struct fetch_conf	*fc = NULL;
	char			 name[64], *base = (char *)cf;
	uint64_t		 v;
	size_t			 i;
	int			 kind, w;

	/* Debian's libinih passes no line number: name the key instead. */
	for (i = 0; i < nitems(later_sections); i++)
		if (strcmp(section, later_sections[i]) == 0)
			return 1;
	kind = source_section(section, name, sizeof(name));
	if (kind == -1) {
		log_errx("%s: [%s]: a source's name is quoted and made of "
		    "letters, digits, '-', '_' and '.'", cf->path, section);
		cf->nerrors++;
		return 1;
	}
	for (i = 0; i < nitems(cfg_keys); i++) {
		if (strcmp(cfg_keys[i].key, key) != 0)
			continue;
		if (kind > 0 ? cfg_keys[i].where == IN_SOURCE &&
		    (cfg_keys[i].kinds & (1u << kind)) :
		    strcmp(cfg_keys[i].section, section) == 0)
			k = &cfg_keys[i];
	}
	if (k == NULL) {
		log_errx("%s: [%s] %s: unknown key", cf->path, section, key);
		cf->nerrors++;
		return 1;
	}
	if (kind > 0) {
		if ((fc = source_for(cf, kind, name)) == NULL) {
			log_errx("%s: [%s]: more than %d sources", cf->path,
			    section, CONFIG_MAX_SOURCES);
			cf->nerrors++;
			return 1;
		}
		base = (char *)fc;
	}
	switch (k->type) {
	case CFG_STR:
		free(*(char **)(base + k->off));
		*(char **)(base + k->off) = xstrdup(value);
		break;
	case CFG_AUTH:
	case CFG_AFTER:
	case CFG_FSTORE:
	case CFG_BOOL:
		if (word_value(value, k->type, &w) == -1) {
			log_errx("%s: [%s] %s: \"%s\" is not one of %s",
			    cf->path, section, key, value,
			    k->type == CFG_AUTH ? "plain, login, xoauth2" :
			    k->type == CFG_AFTER ? "move, seen, delete, keep" :
			    k->type == CFG_FSTORE ? "headers, full, none" :
			    "yes, no");
			cf->nerrors++;
			break;
		}
		*(int *)(base + k->off) = w;
		break;
	case CFG_SIZE:
	case CFG_UINT:
		if ((k->type == CFG_SIZE ? config_parse_size(value, &v) :
		    dm_parse_u64(value, UINT64_MAX, &v)) == -1 ||
		    v < k->min || v > k->max) {
			log_errx("%s: [%s] %s: \"%s\" is not a %s from "
			    "%llu to %llu", cf->path, section, key,
			    value, k->type == CFG_SIZE ? "size" : "number",
			    (unsigned long long)k->min,
			    (unsigned long long)k->max);
			cf->nerrors++;
			break;
		}
		if (strcmp(key, "max_records") == 0)
			*(uint64_t *)(base + k->off) = v;
		else if (k->type == CFG_SIZE)
			*(size_t *)(base + k->off) = (size_t)v;
		else
			*(unsigned *)(base + k->off) = (unsigned)v;
		break;
	}
	return 1;	/* keep going: one run shows every mistake */
}

static const char *
kind_word(enum fetch_kind kind)
{
	return kind == FETCH_IMAP ? "imap" : kind == FETCH_POP3 ? "pop3" :
	    "maildir";
}

/* A source as a whole: what one key alone can't tell. */
static void
check_source(struct config *cf, struct fetch_conf *fc)
{
	const char	*w = kind_word(fc->kind);
	int		 nsecret;

#define BAD(...) do {							\
	log_errx("%s: [%s \"%s\"]: " __VA_ARGS__);			\
	cf->nerrors++;							\
} while (0)
	if (fc->poll_interval == 0)
		fc->poll_interval = cf->poll_interval;
	if (fc->timeout == 0)
		fc->timeout = 60;
	if (fc->kind == FETCH_MAILDIR) {
		if (fc->path == NULL)
			BAD("path is required", cf->path, w, fc->name);
		if (fc->processed == NULL)
			fc->processed = xstrdup(".processed");
		if (fc->invalid == NULL)
			fc->invalid = xstrdup(".invalid");
		return;
	}
	if (fc->url == NULL)
		BAD("url is required", cf->path, w, fc->name);
	else if (fc->kind == FETCH_IMAP && strncmp(fc->url, "imaps://", 8) &&
	    strncmp(fc->url, "imap://", 7))
		BAD("url must be imaps://HOST/MAILBOX or imap://HOST/MAILBOX "
		    "(STARTTLS)", cf->path, w, fc->name);
	else if (fc->kind == FETCH_POP3 && strncmp(fc->url, "pop3s://", 8) &&
	    strncmp(fc->url, "pop3://", 7))
		BAD("url must be pop3s://HOST or pop3://HOST (STLS)",
		    cf->path, w, fc->name);
	if (fc->user == NULL)
		BAD("user is required", cf->path, w, fc->name);
	nsecret = (fc->password_file != NULL) +
	    (fc->password_command != NULL) + (fc->token_command != NULL);
	if (fc->auth == FETCH_AUTH_XOAUTH2 && fc->token_command == NULL)
		BAD("auth = xoauth2 needs token_command", cf->path, w,
		    fc->name);
	else if (fc->auth != FETCH_AUTH_XOAUTH2 && fc->token_command != NULL)
		BAD("token_command needs auth = xoauth2", cf->path, w,
		    fc->name);
	else if (nsecret != 1)
		BAD("exactly one of password_file, password_command and "
		    "token_command", cf->path, w, fc->name);
	if (fc->password_file != NULL) {
		struct stat	 sb;

		if (stat(fc->password_file, &sb) == -1)
			BAD("password_file %s: %s", cf->path, w, fc->name,
			    fc->password_file, strerror(errno));
		else if (sb.st_mode & (S_IRWXG | S_IRWXO))
			BAD("password_file %s is readable by others: chmod 600 "
			    "%s", cf->path, w, fc->name, fc->password_file,
			    fc->password_file);
	}
	if (fc->kind == FETCH_IMAP && fc->after == FETCH_AFTER_KEEP)
		BAD("after = keep is for POP3; IMAP takes move, seen or "
		    "delete", cf->path, w, fc->name);
	if (fc->kind == FETCH_POP3 && (fc->after == FETCH_AFTER_MOVE ||
	    fc->after == FETCH_AFTER_SEEN)) {
		/* POP3 has no folders or flags: delete unless told keep */
		fc->after = FETCH_AFTER_DELETE;
	}
	if (fc->kind == FETCH_IMAP) {
		if (fc->processed_folder == NULL)
			fc->processed_folder = xstrdup("processed");
		if (fc->invalid_folder == NULL)
			fc->invalid_folder = xstrdup("invalid");
	}
	if (fc->kind == FETCH_POP3 && fc->quarantine_dir == NULL)
		BAD("quarantine_dir is required: rejected mail is saved "
		    "there before it is deleted", cf->path, w, fc->name);
#undef BAD
}

int
config_load(struct config *cf, const char *path, int must_exist)
{
	struct stat	 sb;
	FILE		*fp;
	size_t		 i;
	int		 rc;

	free(cf->path);
	cf->path = xstrdup(path);
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		log_err("%s", path);
		cf->nerrors++;
		return -1;
	}
	rc = ini_parse_file(fp, handler, cf);
	if (rc > 0) {
		log_errx("%s:%d: syntax error", path, rc);
		cf->nerrors++;
	}
	if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & S_IROTH) &&
	    cf->conninfo != NULL && strstr(cf->conninfo, "password") != NULL) {
		log_errx("%s: holds a password and is readable by others: "
		    "chmod o-r %s", path, path);
		cf->nerrors++;
	}
	fclose(fp);
	for (i = 0; i < cf->nsources; i++)
		check_source(cf, &cf->sources[i]);
	return cf->nerrors == 0 ? 0 : -1;
}
