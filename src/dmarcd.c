/*
 * dmarcd.c: the main() of dmarcd: options, configuration, and the wiring
 * of the pipeline for "import" and "migrate". Exit codes are part of the
 * contract (DESIGN.md): 0 ok, 1 an input rejected, 2 usage or
 * configuration, 3 database or mailbox unreachable.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "autoconf.h"
#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "import.h"
#include "ingest.h"
#include "log.h"
#include "parse.h"
#include "store.h"
#include "util.h"

#define EX_OK		0
#define EX_REJECTED	1
#define EX_USAGE	2
#define EX_UNREACHABLE	3

static const char usage_main[] =
"usage: dmarcd [-c FILE] [--once] [-n] [-v | -q]\n"
"       dmarcd import [--db CONNINFO] [--dry-run] [-j N] PATH...\n"
"       dmarcd migrate [--db CONNINFO]\n"
"       dmarcd housekeep [--db CONNINFO]\n"
"\n"
"dmarcd ingests DMARC aggregate reports (RFC 7489, RFC 9990) into\n"
"PostgreSQL: plain XML, gzip or zip, bare or attached to mail.\n"
"\n"
"Commands:\n"
"  import PATH...   ingest report files, mail messages (.eml), mbox files,\n"
"                   Maildirs and directories (recursively), or - for\n"
"                   standard input (an MTA pipe); then exit.\n"
"  migrate          create or upgrade the database schema, then exit.\n"
"  housekeep        delete failure reports older than [failure]\n"
"                   retention_days (the daemon does it once a day).\n"
"  (none)           run the daemon over the configured mailboxes.\n"
"\n"
"Options:\n"
"  -c, --config FILE  configuration file (default %s,\n"
"                     used when it exists)\n"
"  -n, --check        check the configuration, list every error, exit\n"
"      --once         drain every source once, then exit\n"
"  -v, --verbose      more log output (repeat for debug)\n"
"  -q, --quiet        warnings and errors only\n"
"  -h, --help         this text; 'dmarcd COMMAND --help' for a command\n"
"  -V, --version      print the version\n"
"\n"
"Configuration (INI; every mistake is listed by -n):\n"
"  [database]  conninfo          libpq conninfo or URI (--db and $DMARCD_DB\n"
"                                win over it); connect_timeout default 10\n"
"  [imap] or [imap \"NAME\"]   one section per mailbox:\n"
"              url               imaps://HOST[:993]/MAILBOX, or\n"
"                                imap://HOST:143/MAILBOX (STARTTLS required)\n"
"              user, password_file | password_command\n"
"              auth              plain | login | xoauth2 (with token_command)\n"
"              ca_file           CA certificates (default: the system's)\n"
"              after             move (default) | seen | delete\n"
"              processed_folder  default \"processed\"\n"
"              invalid_folder    default \"invalid\": mail without a report\n"
"              poll_interval     seconds, default 300; timeout, default 60\n"
"  [pop3 ...]  url = pop3s://HOST or pop3://HOST:110 (STLS required), user,\n"
"              password_file | password_command | token_command, auth,\n"
"              ca_file, after = delete | keep, quarantine_dir (required:\n"
"              rejected mail is saved there before it is deleted)\n"
"  [maildir ...]  path, processed (default .processed), invalid (.invalid)\n"
"  [daemon]    metrics_file      Prometheus textfile, rewritten each cycle\n"
"              poll_interval     default for every source\n"
"  [limits]    max_message (64M), max_xml (256M), max_ratio (200),\n"
"              max_records (5000000)\n"
"Files holding secrets must not be readable by others.\n"
"\n"
"Signals: SIGTERM stops after the message in hand; SIGHUP re-reads the\n"
"configuration (a broken one is reported and the running one kept).\n"
"\n"
"Exit status: 0 success (duplicates included), 1 at least one input was\n"
"rejected, 2 usage or configuration error, 3 database or mailbox\n"
"unreachable (--once; the daemon itself retries with backoff).\n";

static const char usage_import[] =
"usage: dmarcd import [-c FILE] [--db CONNINFO] [--dry-run] [-j N] [-v | -q]\n"
"                     PATH...\n"
"\n"
"Ingest every report found in PATH: a report file (XML, gzip, zip; the\n"
"kind is read from the content, never from the name), a mail message,\n"
"an mbox file, a Maildir (cur/ and new/), a directory (recursively, in\n"
"name order, dot files skipped), or - for a message or report on\n"
"standard input. Each report is stored in its own transaction; a report\n"
"seen before is counted as a duplicate and not stored again.\n"
"\n"
"Several inputs (a directory, a Maildir, more than one PATH) are\n"
"imported by worker processes, each with its own connection; the lines\n"
"still come in the order of the inputs.\n"
"\n"
"One line per report or rejected input on standard output:\n"
"  stored|duplicate|rejected INPUT [part=N] [member=NAME]\n"
"      [org=.. report_id=.. domain=.. records=N messages=N] [reason=..]\n"
"\n"
"Options:\n"
"      --db CONNINFO  PostgreSQL conninfo or URI; default: $DMARCD_DB,\n"
"                     then [database] conninfo, then libpq's PG* variables;\n"
"                     connecting gives up after 10 s (connect_timeout in\n"
"                     CONNINFO, or PGCONNECT_TIMEOUT, changes that)\n"
"      --dry-run      parse and report only; no database is used, and\n"
"                     'stored' lines show what would be stored\n"
"  -j, --jobs N       worker processes (and connections) for several\n"
"                     inputs, 1 to 64; default: the CPUs, at most 4\n"
"  -c, --config FILE  configuration file ([database], [limits])\n"
"  -v, --verbose      more log output\n"
"  -q, --quiet        no log output but errors\n"
"\n"
"Exit status: 0 all stored or duplicate, 1 at least one input rejected,\n"
"2 usage or configuration error, 3 database unreachable (nothing is\n"
"half-written: the report in hand is rolled back).\n";

static const char usage_migrate[] =
"usage: dmarcd migrate [-c FILE] [--db CONNINFO] [-v | -q]\n"
"\n"
"Create the schema 'dmarc' or upgrade it to this version, applying the\n"
"migrations that are not yet recorded in dmarc.schema_version, each in\n"
"its own transaction. Safe to run twice and from two hosts at once.\n"
"The roles dmarc_writer and dmarc_reader are created when missing and\n"
"the connecting role may create roles.\n"
"\n"
"Exit status: 0 done, 2 usage, 3 database unreachable or a migration\n"
"failed (the failing migration is rolled back).\n";

static const char usage_housekeep[] =
"usage: dmarcd housekeep [-c FILE] [--db CONNINFO] [-v | -q]\n"
"\n"
"Delete the failure (ruf) reports that arrived more than [failure]\n"
"retention_days days ago (by Arrival-Date, or when stored if the report\n"
"had none). With retention_days = 0 (the default) nothing is deleted.\n"
"The daemon does the same once a day.\n"
"\n"
"Exit status: 0 done, 2 usage or configuration error, 3 database\n"
"unreachable.\n";

struct opts {
	const char	*config;
	const char	*db;
	int		 verbosity;
	int		 dry_run;
	int		 jobs;		/* import workers; 0: the default */
	int		 once;
	int		 check;
};

/* --db > DMARCD_DB > [database] conninfo > libpq's own defaults. */
static const char *
conninfo(const struct opts *o, const struct config *cf)
{
	const char	*env = getenv("DMARCD_DB");

	if (o->db != NULL)
		return o->db;
	if (env != NULL && *env != '\0')
		return env;
	if (cf->conninfo != NULL)
		return cf->conninfo;
	return "";
}

static int
load_config(const struct opts *o, struct config *cf)
{
	config_init(cf);
	if (o->config != NULL)
		return config_load(cf, o->config, 1);
	return config_load(cf, config_default_path(), 0);
}

static struct store *
connect_db(const struct opts *o, const struct config *cf)
{
	struct store	*st;
	struct dm_err	 err = { 0 };

	if ((st = store_open(conninfo(o, cf), &err)) == NULL)
		log_errx("%s", err.msg);
	return st;
}

static struct store *
worker_connect(void *arg, struct dm_err *err)
{
	return store_open(arg, err);
}

static int
cmd_import(const struct opts *o, int argc, char **argv)
{
	struct config	 cf;
	struct import	 im;
	struct dm_err	 err = { 0 };
	int		 ex = EX_OK;

	if (load_config(o, &cf) == -1) {
		config_clear(&cf);
		return EX_USAGE;
	}
	memset(&im, 0, sizeof(im));
	im.lim = &cf.lim;
	im.failure = cf.failure;
	im.jobs = o->jobs > 0 ? (unsigned)o->jobs : import_default_jobs();
	if (!o->dry_run) {
		if ((im.st = connect_db(o, &cf)) == NULL) {
			ex = EX_UNREACHABLE;
			goto out;
		}
		if (store_check_schema(im.st, &err) == -1) {
			log_errx("%s", err.msg);
			ex = EX_UNREACHABLE;
			goto out;
		}
		im.connect = worker_connect;
		im.arg = (void *)(uintptr_t)conninfo(o, &cf);
	}
	ingest_init();
	if (import_run(&im, argv, argc) == -1)
		ex = EX_UNREACHABLE;
	log_info("stored=%lu duplicate=%lu rejected=%lu%s",
	    im.stats.stored, im.stats.duplicate, im.stats.rejected,
	    o->dry_run ? " (dry run: nothing was written)" : "");
	if (ex == EX_OK && im.stats.rejected > 0)
		ex = EX_REJECTED;
 out:
	store_free(im.st);
	config_clear(&cf);
	return ex;
}

static int
cmd_migrate(const struct opts *o)
{
	struct config	 cf;
	struct store	*st;
	struct dm_err	 err = { 0 };
	int		 applied = 0, ex = EX_OK;

	if (load_config(o, &cf) == -1) {
		config_clear(&cf);
		return EX_USAGE;
	}
	if ((st = connect_db(o, &cf)) == NULL)
		ex = EX_UNREACHABLE;
	else if (store_migrate(st, &applied, &err) == -1) {
		log_errx("migrate: %s", err.msg);
		ex = EX_UNREACHABLE;
	} else
		log_info("migrate: %d migration%s applied, schema is current",
		    applied, applied == 1 ? "" : "s");
	store_free(st);
	config_clear(&cf);
	return ex;
}

static int
cmd_housekeep(const struct opts *o)
{
	struct config	 cf;
	struct store	*st;
	struct dm_err	 err = { 0 };
	long long	 n = 0;
	int		 ex = EX_OK;

	if (load_config(o, &cf) == -1) {
		config_clear(&cf);
		return EX_USAGE;
	}
	if ((st = connect_db(o, &cf)) == NULL)
		ex = EX_UNREACHABLE;
	else if (store_check_schema(st, &err) == -1 ||
	    store_failure_expire(st, cf.failure_retention_days, &n,
	    &err) == -1) {
		log_errx("housekeep: %s", err.msg);
		ex = EX_UNREACHABLE;
	} else
		log_info("housekeep: %lld failure report%s deleted "
		    "(retention_days=%u)", n, n == 1 ? "" : "s",
		    cf.failure_retention_days);
	store_free(st);
	config_clear(&cf);
	return ex;
}

static int
cmd_daemon(const struct opts *o)
{
	struct config	 cf;
	int		 ex;

	if (load_config(o, &cf) == -1) {
		log_errx("%s: %d error%s", cf.path, cf.nerrors,
		    cf.nerrors == 1 ? "" : "s");
		config_clear(&cf);
		return EX_USAGE;
	}
	if (o->check) {
		log_info("%s: configuration ok, %zu source%s", cf.path,
		    cf.nsources, cf.nsources == 1 ? "" : "s");
		config_clear(&cf);
		return EX_OK;
	}
	ex = daemon_run(&cf, conninfo(o, &cf), o->once);
	config_clear(&cf);
	return ex;
}

static int
parse_jobs(const char *s)
{
	uint64_t	 v;

	if (dm_parse_u64(s, IMPORT_JOBS_MAX, &v) == -1 || v == 0)
		return -1;
	return (int)v;
}

int
main(int argc, char **argv)
{
	static const struct option main_opts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "check",	no_argument,	   NULL, 'n' },
		{ "once",	no_argument,	   NULL, 'o' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option cmd_opts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "db",		required_argument, NULL, 'd' },
		{ "dry-run",	no_argument,	   NULL, 'D' },
		{ "jobs",	required_argument, NULL, 'j' },
		{ "verbose",	no_argument,	   NULL, 'v' },
		{ "quiet",	no_argument,	   NULL, 'q' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts	 o;
	const char	*cmd, *help;
	int		 ch;

	memset(&o, 0, sizeof(o));
	o.verbosity = LOG_LINFO;
	while ((ch = getopt_long(argc, argv, "+c:noqvhV", main_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': o.config = optarg; break;
		case 'n': o.check = 1; break;
		case 'o': o.once = 1; break;
		case 'v': o.verbosity++; break;
		case 'q': o.verbosity = LOG_LWARN; break;
		case 'h':
			printf(usage_main, config_default_path());
			return EX_OK;
		case 'V':
			puts(PACKAGE_STRING);
			return EX_OK;
		default:
			fprintf(stderr, "Try 'dmarcd --help'.\n");
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	log_init("dmarcd", o.verbosity);
	/* before any thread exists: libcurl's TLS set-up is not reentrant */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
	if (argc == 0)
		return cmd_daemon(&o);

	cmd = argv[0];
	if (strcmp(cmd, "import") == 0)
		help = usage_import;
	else if (strcmp(cmd, "migrate") == 0)
		help = usage_migrate;
	else if (strcmp(cmd, "housekeep") == 0)
		help = usage_housekeep;
	else {
		fprintf(stderr, "dmarcd: unknown command '%s'. Try 'dmarcd "
		    "--help'.\n", cmd);
		return EX_USAGE;
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:j:qvh", cmd_opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c': o.config = optarg; break;
		case 'd': o.db = optarg; break;
		case 'D':
			if (help != usage_import)
				goto bad;
			o.dry_run = 1;
			break;
		case 'j':
			if (help != usage_import)
				goto bad;
			if ((o.jobs = parse_jobs(optarg)) == -1) {
				fprintf(stderr, "dmarcd import: --jobs: not a "
				    "number from 1 to %d: '%s'\n",
				    IMPORT_JOBS_MAX, optarg);
				goto bad;
			}
			break;
		case 'v': o.verbosity++; break;
		case 'q': o.verbosity = LOG_LWARN; break;
		case 'h':
			fputs(help, stdout);
			return EX_OK;
		default:
			goto bad;
		}
	}
	argc -= optind;
	argv += optind;
	log_init("dmarcd", o.verbosity);
	if (help == usage_migrate || help == usage_housekeep) {
		if (argc != 0)
			goto bad;
		return help == usage_migrate ? cmd_migrate(&o) :
		    cmd_housekeep(&o);
	}
	if (argc == 0) {
		fprintf(stderr, "dmarcd import: no PATH given\n");
		goto bad;
	}
	return cmd_import(&o, argc, argv);
 bad:
	fprintf(stderr, "Try 'dmarcd %s --help'.\n", cmd);
	return EX_USAGE;
}
