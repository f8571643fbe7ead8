/*
 * daemon.c: the ingest daemon. The mailbox is the queue: a message is
 * acked at its source (moved, flagged, deleted) only after the
 * transaction holding its reports committed, and the ledger is asked
 * before a message is imported, so a crash anywhere means the message is
 * seen again and recognised, never lost and never counted twice.
 * Servers and the database come and go: each source backs off on its
 * own, with jitter, and the daemon goes on.
 */
#include <sys/stat.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "fetch.h"
#include "ingest.h"
#include "log.h"
#include "parse.h"
#include "store.h"
#include "util.h"

#define LIST_MAX	100000u		/* messages listed in one drain */
#define BACKOFF_MIN	15u		/* seconds, first retry */
#define BACKOFF_MAX	1800u		/* seconds, at most */
#define PROGRESS_EVERY	100u		/* log a progress line */
#define HOUSEKEEP_EVERY	86400		/* seconds: retention, once a day */
#define HOUSEKEEP_RETRY	3600		/* seconds, after a failure */
/*
 * Runs that may start a message and die on it (crash, OOM kill) before
 * the next one quarantines it instead (sql/005_attempt.sql).
 */
#define ATTEMPTS_MAX	3

static volatile sig_atomic_t	 got_term, got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/* What one source did, for the log and the metrics. */
struct counters {
	unsigned long long	 stored, duplicate, rejected;	/* reports */
	unsigned long long	 done, invalid;			/* messages */
	unsigned long long	 errors;
};

struct source {
	struct fetch_conf	*conf;		/* in the daemon's config */
	struct fetch		*f;
	char			 label[96];	/* "imap:billing" */
	time_t			 next;		/* when to drain next */
	unsigned		 failures;	/* in a row, for the backoff */
	int			 up;		/* last drain worked */
	time_t			 last_success;
	struct counters		 n;
};

struct daemon {
	struct config		*cf;
	char			*conninfo;	/* a copy: a reload frees cf's */
	struct store		*st;
	struct source		 src[CONFIG_MAX_SOURCES];
	size_t			 nsrc;
	int			 once;
	int			 any_rejected;
	int			 any_unreachable;
	uint64_t		 watchdog_usec;
	time_t			 last_ping;
	time_t			 next_housekeep;
	unsigned		 seed;
	/* the message in hand, for the result callback */
	struct source		*cur;
	const char		*cur_uid;
	char			 last_reason[512];
	char			 owner[40];	/* this run, in dmarc.attempt */
	struct buf		 line;
};

static void
ping(struct daemon *d)
{
	time_t	 now;

	if (d->watchdog_usec == 0)
		return;
	now = time(NULL);
	if ((uint64_t)(now - d->last_ping) * 2000000 >= d->watchdog_usec) {
		sd_notify(0, "WATCHDOG=1");
		d->last_ping = now;
	}
}

/* Seconds to wait after the n-th failure in a row: doubling, jittered. */
static unsigned
backoff(struct daemon *d, unsigned n)
{
	unsigned	 s = BACKOFF_MIN;

	while (n-- > 1 && s < BACKOFF_MAX)
		s *= 2;
	if (s > BACKOFF_MAX)
		s = BACKOFF_MAX;
	/* +-20% so that many daemons don't retry in step */
	return s - s / 5 + (unsigned)(rand_r(&d->seed) % (2 * (s / 5) + 1));
}

/* ingest's result callback: one log line per report or rejection. */
static void
on_result(void *arg, const struct ingest_result *res)
{
	static const char *const words[] = { "stored", "duplicate",
	    "rejected" };
	struct daemon	*d = arg;
	struct source	*s = d->cur;
	struct buf	*b = &d->line;

	buf_reset(b);
	log_kv(b, "source", s->label);
	log_kv(b, "uid", d->cur_uid);
	log_kv(b, "message_id", res->message_id);
	buf_printf(b, " outcome=%s", words[res->outcome]);
	/* the import line without its verb and input */
	{
		struct buf	 tmp;
		const char	*p;

		buf_init(&tmp, 1 << 16);
		p = ingest_format(res, &tmp);
		p = strchr(p, ' ');
		p = p != NULL ? strchr(p + 1, ' ') : NULL;
		if (p != NULL)
			buf_adds(b, p);
		buf_clear(&tmp);
	}
	switch (res->outcome) {
	case INGEST_STORED:
		s->n.stored++;
		log_info("%s", buf_cstr(b) + 1);
		break;
	case INGEST_DUPLICATE:
		s->n.duplicate++;
		log_info("%s", buf_cstr(b) + 1);
		break;
	case INGEST_REJECTED:
		s->n.rejected++;
		d->any_rejected = 1;
		snprintf(d->last_reason, sizeof(d->last_reason), "%s",
		    res->reason ? res->reason : "rejected");
		log_warnx("%s", buf_cstr(b) + 1);
		break;
	}
}

/* Write the Prometheus textfile: to a temporary file, then rename. */
static void
write_metrics(struct daemon *d)
{
	const char	*path = d->cf->metrics_file;
	struct buf	 b, tmp;
	size_t		 i;
	time_t		 now = time(NULL);
	FILE		*fp;

	if (path == NULL)
		return;
	buf_init(&b, 1 << 20);
	buf_init(&tmp, 4096);
	buf_adds(&b,
	    "# HELP dmarcd_reports_total Reports by outcome.\n"
	    "# TYPE dmarcd_reports_total counter\n");
	for (i = 0; i < d->nsrc; i++) {
		struct source *s = &d->src[i];

		buf_printf(&b, "dmarcd_reports_total{source=\"%s\","
		    "outcome=\"stored\"} %llu\n", s->label, s->n.stored);
		buf_printf(&b, "dmarcd_reports_total{source=\"%s\","
		    "outcome=\"duplicate\"} %llu\n", s->label, s->n.duplicate);
		buf_printf(&b, "dmarcd_reports_total{source=\"%s\","
		    "outcome=\"rejected\"} %llu\n", s->label, s->n.rejected);
	}
	buf_adds(&b,
	    "# HELP dmarcd_messages_total Messages filed, by fate.\n"
	    "# TYPE dmarcd_messages_total counter\n");
	for (i = 0; i < d->nsrc; i++) {
		struct source *s = &d->src[i];

		buf_printf(&b, "dmarcd_messages_total{source=\"%s\","
		    "fate=\"processed\"} %llu\n", s->label, s->n.done);
		buf_printf(&b, "dmarcd_messages_total{source=\"%s\","
		    "fate=\"invalid\"} %llu\n", s->label, s->n.invalid);
	}
	buf_adds(&b,
	    "# HELP dmarcd_source_errors_total Failed drains.\n"
	    "# TYPE dmarcd_source_errors_total counter\n");
	for (i = 0; i < d->nsrc; i++)
		buf_printf(&b, "dmarcd_source_errors_total{source=\"%s\"} "
		    "%llu\n", d->src[i].label, d->src[i].n.errors);
	buf_adds(&b,
	    "# HELP dmarcd_source_up Whether the last drain worked.\n"
	    "# TYPE dmarcd_source_up gauge\n");
	for (i = 0; i < d->nsrc; i++)
		buf_printf(&b, "dmarcd_source_up{source=\"%s\"} %d\n",
		    d->src[i].label, d->src[i].up);
	buf_adds(&b,
	    "# HELP dmarcd_last_success_timestamp_seconds End of the last "
	    "drain that worked.\n"
	    "# TYPE dmarcd_last_success_timestamp_seconds gauge\n");
	for (i = 0; i < d->nsrc; i++)
		buf_printf(&b, "dmarcd_last_success_timestamp_seconds"
		    "{source=\"%s\"} %lld\n", d->src[i].label,
		    (long long)d->src[i].last_success);
	buf_adds(&b,
	    "# HELP dmarcd_lag_seconds Seconds since the last drain that "
	    "worked (since start when none has).\n"
	    "# TYPE dmarcd_lag_seconds gauge\n");
	for (i = 0; i < d->nsrc; i++)
		buf_printf(&b, "dmarcd_lag_seconds{source=\"%s\"} %lld\n",
		    d->src[i].label, (long long)(d->src[i].last_success ?
		    now - d->src[i].last_success : 0));
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if ((fp = fopen(buf_cstr(&tmp), "w")) == NULL ||
	    fwrite(b.data, 1, b.len, fp) != b.len || fclose(fp) != 0 ||
	    rename(buf_cstr(&tmp), path) == -1) {
		log_warn("metrics_file %s", path);
		unlink(buf_cstr(&tmp));
	}
	buf_clear(&b);
	buf_clear(&tmp);
}

static int
sources_open(struct daemon *d)
{
	struct dm_err	 err = { 0 };
	size_t		 i;

	d->nsrc = 0;
	for (i = 0; i < d->cf->nsources; i++) {
		struct source *s = &d->src[d->nsrc];

		memset(s, 0, sizeof(*s));
		s->conf = &d->cf->sources[i];
		snprintf(s->label, sizeof(s->label), "%s:%s",
		    s->conf->kind == FETCH_IMAP ? "imap" :
		    s->conf->kind == FETCH_POP3 ? "pop3" : "maildir",
		    s->conf->name);
		if ((s->f = fetch_new(s->conf, &err)) == NULL) {
			log_errx("source=%s: %s", s->label, err.msg);
			return -1;
		}
		d->nsrc++;
	}
	return 0;
}

static void
sources_close(struct daemon *d)
{
	size_t	 i;

	for (i = 0; i < d->nsrc; i++)
		fetch_free(d->src[i].f);
	d->nsrc = 0;
}

/* The ledger's name for a message: where, and which one. */
static void
message_input(const struct source *s, const struct fetch_item *it,
    char *out, size_t outlen)
{
	switch (s->conf->kind) {
	case FETCH_IMAP:
		snprintf(out, outlen, "%s;UIDVALIDITY=%u;UID=%u", s->f->where,
		    s->f->uidvalidity, it->uid);
		break;
	case FETCH_POP3:
		snprintf(out, outlen, "%s;UIDL=%s", s->f->where, it->id);
		break;
	case FETCH_MAILDIR:
		snprintf(out, outlen, "%s/%s", s->f->where, it->id);
		break;
	}
}

/*
 * One message: ledger, fetch, ingest, ack. Returns 0, or -1 with err
 * set: DM_ESTORE (the database: stop, the message stays) or DM_ESOURCE
 * (the server: stop, reconnect later).
 */
/*
 * Quarantine a message that can't be processed (too big, unreadable,
 * killed dmarcd before): rejected in the ledger with reason, filed in
 * the invalid folder, never fetched again. Returns 0 or -1 (err).
 */
static int
quarantine(struct daemon *d, struct source *s, const struct fetch_item *it,
    const char *input, const char *uid, const char *reason,
    struct dm_err *err)
{
	struct store_input	 in;

	memset(&in, 0, sizeof(in));
	in.source = s->label;
	in.input = input;
	in.mailbox = s->conf->url;
	in.uidvalidity = s->f->uidvalidity;
	in.uid = it->uid;
	/* from the ledger's commit on, the ledger knows the message */
	if (store_rejected(d->st, &in, NULL, NULL, reason, err) == -1 ||
	    store_attempt_end(d->st, s->label, input, err) == -1)
		return -1;
	log_warnx("source=%s uid=%s outcome=rejected reason=\"%s\"",
	    s->label, uid, reason);
	s->n.rejected++;
	d->any_rejected = 1;
	if (s->f->ops->ack(s->f, it, 1, reason, err) == -1)
		return -1;
	s->n.invalid++;
	return 0;
}

/*
 * One message: ledger, fetch, ingest, ack. Returns 0, or -1 with err
 * set: DM_ESTORE (the database: stop, the message stays) or DM_ESOURCE
 * (the server: stop, reconnect later).
 */
static int
drain_one(struct daemon *d, struct source *s, struct ingest *ig,
    const struct fetch_item *it, struct buf *msg, struct dm_err *err)
{
	struct ingest_origin	 org;
	struct dm_err		 gerr = { 0 };
	char			 input[1024], uid[300], reason[160];
	unsigned long		 rejected_before;
	int			 found, was_rejected = 0, invalid, attempts;

	message_input(s, it, input, sizeof(input));
	if (it->id[0] != '\0')
		snprintf(uid, sizeof(uid), "%s", it->id);
	else
		snprintf(uid, sizeof(uid), "%u", it->uid);
	d->cur_uid = uid;
	found = store_ledger_find(d->st, s->label, input, &was_rejected, err);
	if (found == -1)
		return -1;
	if (found && s->conf->kind == FETCH_POP3 &&
	    s->conf->after == FETCH_AFTER_KEEP)
		return 0;	/* kept on the server on purpose: seen, skip */
	if (found) {
		/* committed before, not acked: a crash or a lost connection */
		log_info("source=%s uid=%s: already in the ledger, filing it "
		    "as %s", s->label, uid, was_rejected ? "invalid" :
		    "processed");
		if (s->f->ops->ack(s->f, it, was_rejected, was_rejected ?
		    "rejected earlier (see the ledger)" : NULL, err) == -1)
			return -1;
		if (was_rejected)
			s->n.invalid++;
		else
			s->n.done++;
		/* a run that died between the ledger and the end of attempt */
		return store_attempt_end(d->st, s->label, input, err);
	}
	if (store_attempt_begin(d->st, s->label, input, d->owner, &attempts,
	    err) == -1)
		return -1;
	if (attempts > ATTEMPTS_MAX) {
		snprintf(reason, sizeof(reason), "dmarcd stopped %d times "
		    "while processing this message (crashed or was killed): "
		    "quarantined, not tried again", attempts - 1);
		return quarantine(d, s, it, input, uid, reason, err);
	}
	buf_reset(msg);
	if (s->f->ops->get(s->f, it, msg, &gerr) == -1) {
		if (gerr.scope != DM_EMSG) {
			*err = gerr;
			return -1;
		}
		/* too big, unreadable: quarantine it once, never retry */
		return quarantine(d, s, it, input, uid, gerr.msg, err);
	}
	memset(&org, 0, sizeof(org));
	org.input = input;
	org.mailbox = s->conf->url;
	org.uidvalidity = s->f->uidvalidity;
	org.uid = it->uid;
	ig->source = s->label;
	rejected_before = ig->stats.rejected;
	d->last_reason[0] = '\0';
	if (ingest_message(ig, &org, (const unsigned char *)msg->data,
	    msg->len, err) == -1 ||
	    store_attempt_end(d->st, s->label, input, err) == -1)
		return -1;
	invalid = ig->stats.rejected > rejected_before;
	if (s->f->ops->ack(s->f, it, invalid, invalid ? d->last_reason : NULL,
	    err) == -1)
		return -1;
	if (invalid)
		s->n.invalid++;
	else
		s->n.done++;
	return 0;
}

/* Connect to the database if we are not. Returns 0 or -1. */
static int
db_ready(struct daemon *d)
{
	struct dm_err	 err = { 0 };
	int		 applied = 0;

	if (d->st != NULL)
		return 0;
	if ((d->st = store_open(d->conninfo, &err)) == NULL) {
		log_warnx("%s", err.msg);
		return -1;
	}
	if (store_migrate(d->st, &applied, &err) == -1) {
		log_warnx("migrate: %s", err.msg);
		store_free(d->st);
		d->st = NULL;
		return -1;
	}
	if (applied > 0)
		log_info("migrate: %d migration%s applied", applied,
		    applied == 1 ? "" : "s");
	return 0;
}

/* Retention of failure reports, when due and configured. */
static void
housekeep(struct daemon *d, time_t now)
{
	struct dm_err	 err = { 0 };
	long long	 n = 0;

	if (d->cf->failure_retention_days == 0 || now < d->next_housekeep)
		return;
	if (db_ready(d) == -1 || store_failure_expire(d->st,
	    d->cf->failure_retention_days, &n, &err) == -1) {
		if (err.msg[0] != '\0')
			log_warnx("housekeep: %s", err.msg);
		d->next_housekeep = now + HOUSEKEEP_RETRY;
		return;
	}
	if (n > 0)
		log_info("housekeep: %lld failure report%s deleted "
		    "(retention_days=%u)", n, n == 1 ? "" : "s",
		    d->cf->failure_retention_days);
	d->next_housekeep = now + HOUSEKEEP_EVERY;
}

/* Drain one source once. Returns 0, or -1 (logged, backoff due). */
static int
drain(struct daemon *d, struct source *s)
{
	struct fetch_item	*items = NULL;
	struct ingest		 ig;
	struct buf		 msg;
	struct dm_err		 err = { 0 };
	size_t			 n = 0, i;
	int			 rc = -1;

	memset(&ig, 0, sizeof(ig));
	ig.lim = &d->cf->lim;
	ig.failure = d->cf->failure;
	ig.st = d->st;
	ig.result = on_result;
	ig.arg = d;
	d->cur = s;
	buf_init(&msg, d->cf->lim.max_message);
	if (s->f->ops->open(s->f, &err) == -1) {
		log_warnx("source=%s: %s", s->label, err.msg);
		d->any_unreachable = 1;
		goto out;
	}
	if (s->f->ops->list(s->f, &items, &n, LIST_MAX, &err) == -1) {
		log_warnx("source=%s: %s", s->label, err.msg);
		d->any_unreachable = 1;
		goto close;
	}
	if (n > 0)
		log_info("source=%s where=%s waiting=%zu", s->label,
		    s->f->where, n);
	for (i = 0; i < n && !got_term; i++) {
		ping(d);
		if (drain_one(d, s, &ig, &items[i], &msg, &err) == -1) {
			log_warnx("source=%s: %s; the message stays where "
			    "it is", s->label, err.msg);
			d->any_unreachable = 1;
			if (err.scope == DM_ESTORE) {
				/* reconnect from scratch next time */
				store_free(d->st);
				d->st = NULL;
			}
			goto close;
		}
		if ((i + 1) % PROGRESS_EVERY == 0)
			log_info("source=%s progress=%zu/%zu", s->label, i + 1,
			    n);
	}
	rc = 0;
 close:
	s->f->ops->close(s->f);
 out:
	free(items);
	buf_clear(&msg);
	d->cur = NULL;
	return rc;
}

static int
reload(struct daemon *d)
{
	struct config	 cf;

	log_info("SIGHUP: reloading %s", d->cf->path);
	sd_notify(0, "RELOADING=1");
	config_init(&cf);
	if (config_load(&cf, d->cf->path, 1) == -1) {
		log_warnx("%s: %d error%s, keeping the running configuration",
		    d->cf->path, cf.nerrors, cf.nerrors == 1 ? "" : "s");
		config_clear(&cf);
		sd_notify(0, "READY=1");
		return -1;
	}
	sources_close(d);
	config_clear(d->cf);
	*d->cf = cf;
	if (sources_open(d) == -1)
		return -1;
	log_info("SIGHUP: configuration reloaded, sources=%zu", d->nsrc);
	sd_notify(0, "READY=1");
	return 0;
}

int
daemon_run(struct config *cf, const char *conninfo, int once)
{
	struct daemon		 d;
	struct sigaction	 sa;
	struct timespec		 ts;
	time_t			 now, wake;
	size_t			 i;
	int			 ex = 0, worked;

	memset(&d, 0, sizeof(d));
	d.cf = cf;
	d.conninfo = xstrdup(conninfo);
	d.once = once;
	d.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(d.owner, sizeof(d.owner), "%ld.%lld.%09ld", (long)getpid(),
	    (long long)ts.tv_sec, ts.tv_nsec);
	buf_init(&d.line, 1 << 16);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sd_watchdog_enabled(0, &d.watchdog_usec) <= 0)
		d.watchdog_usec = 0;
	ingest_init();
	if (sources_open(&d) == -1) {
		ex = 2;
		goto out;
	}
	if (d.nsrc == 0) {
		log_errx("%s: no source configured: add an [imap], [pop3] "
		    "or [maildir] section", cf->path ? cf->path : "config");
		ex = 2;
		goto out;
	}
	log_info("started sources=%zu%s", d.nsrc, once ? " once" : "");
	sd_notify(0, "READY=1\nSTATUS=draining");

	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(&d);
		}
		now = time(NULL);
		for (i = 0; i < d.nsrc && !got_term; i++) {
			struct source *s = &d.src[i];

			if (!once && s->next > now)
				continue;
			worked = db_ready(&d) == 0 && drain(&d, s) == 0;
			if (!worked)
				d.any_unreachable = 1;
			s->up = worked;
			now = time(NULL);
			if (worked) {
				s->failures = 0;
				s->last_success = now;
				s->next = now + s->conf->poll_interval;
			} else {
				s->n.errors++;
				s->failures++;
				s->next = now + backoff(&d, s->failures);
				log_info("source=%s retry_in=%lds", s->label,
				    (long)(s->next - now));
			}
		}
		housekeep(&d, time(NULL));
		write_metrics(&d);
		if (once)
			break;
		wake = 0;
		for (i = 0; i < d.nsrc; i++)
			if (wake == 0 || d.src[i].next < wake)
				wake = d.src[i].next;
		sd_notify(0, "STATUS=waiting");
		while (!got_term && !got_hup && time(NULL) < wake) {
			ping(&d);
			sleep(1);
		}
	}
	if (got_term)
		log_info("SIGTERM: stopping");
	sd_notify(0, "STOPPING=1");
	if (once)
		ex = d.any_unreachable ? 3 : d.any_rejected ? 1 : 0;
 out:
	sources_close(&d);
	store_free(d.st);
	buf_clear(&d.line);
	free(d.conninfo);
	return ex;
}
