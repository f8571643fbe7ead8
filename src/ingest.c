/*
 * ingest.c: one input through the whole pipeline. Distrusts everything
 * it reads: what a file or part is gets decided by its bytes, every
 * rejection names the input and says why, and a rejected report leaves
 * nothing in the store but its ledger row.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ingest.h"
#include "log.h"
#include "mime.h"
#include "parse.h"
#include "ruf.h"
#include "store.h"
#include "unpack.h"
#include "util.h"

#define SNIFF_LEN	512
#define MAX_WALK_DEPTH	32

/* One payload (a file, a MIME part) on its way to the store. */
struct payload_ctx {
	struct ingest		*ig;
	const char		*input;
	const char		*mailbox;
	uint32_t		 uidvalidity, uid;
	const char		*message_id;
	unsigned		 part;
	char			 sha256[65];
	unsigned		 docs;		/* documents unpack handed us */
};

/* One message being taken apart. */
struct message_ctx {
	struct ingest			*ig;
	const struct ingest_origin	*org;
	const struct mime_info		*info;
	unsigned			 docs;
	int				 ruf_text;	/* Exim-style notice */
	struct buf			 skipped;	/* parts not reports */
};

void
ingest_init(void)
{
	parse_init();
	mime_init();
}

static void
store_input_of(const struct payload_ctx *pc, struct store_input *in)
{
	memset(in, 0, sizeof(*in));
	in->source = pc->ig->source;
	in->input = pc->input;
	in->mailbox = pc->mailbox;
	in->uidvalidity = pc->uidvalidity;
	in->uid = pc->uid;
	in->message_id = pc->message_id;
	in->sha256 = pc->sha256[0] != '\0' ? pc->sha256 : NULL;
}

static void
emit(struct ingest *ig, const struct ingest_result *res)
{
	switch (res->outcome) {
	case INGEST_STORED:
		ig->stats.stored++;
		break;
	case INGEST_DUPLICATE:
		ig->stats.duplicate++;
		break;
	case INGEST_REJECTED:
		ig->stats.rejected++;
		break;
	}
	if (ig->result != NULL)
		ig->result(ig->arg, res);
}

/*
 * Report a rejection: the line, and the ledger row when storing.
 * Returns 0, or -1 with err set when the store failed.
 */
static int
reject(struct payload_ctx *pc, const char *member,
    const struct parse_summary *sum, const char *reason, struct dm_err *err)
{
	struct ingest_result	 res = { 0 };
	struct store_input	 in;
	const char		*org = NULL, *rid = NULL;

	res.outcome = INGEST_REJECTED;
	res.input = pc->input;
	res.part = pc->part;
	res.member = member;
	res.reason = reason;
	res.message_id = pc->message_id;
	res.sum = sum;
	if (sum != NULL) {
		org = sum->org_name[0] ? sum->org_name : NULL;
		rid = sum->report_id[0] ? sum->report_id : NULL;
	}
	if (pc->ig->st != NULL) {
		store_input_of(pc, &in);
		if (store_rejected(pc->ig->st, &in, org, rid, reason,
		    err) == -1)
			return -1;
	}
	emit(pc->ig, &res);
	return 0;
}

/* The dry run's sink: parse counts, nothing is kept. */
static int
dry_begin(void *arg, const struct report *rep, struct dm_err *err)
{
	(void)arg; (void)rep; (void)err;
	return 0;
}

static int
dry_record(void *arg, const struct report *rep, const struct record *rec,
    struct dm_err *err)
{
	(void)arg; (void)rep; (void)rec; (void)err;
	return 0;
}

static int
dry_end(void *arg, const struct report *rep, struct dm_err *err)
{
	(void)arg; (void)rep; (void)err;
	return 0;
}

static void
dry_abort(void *arg, const struct report *rep)
{
	(void)arg; (void)rep;
}

/* unpack_fn: one XML document, parsed into the store. */
static int
on_document(void *arg, struct dm_rd *xml, const char *member,
    struct dm_err *err)
{
	struct payload_ctx	*pc = arg;
	struct ingest		*ig = pc->ig;
	struct report_sink	 sink = { dry_begin, dry_record, dry_end,
				    dry_abort, NULL };
	struct store_input	 in;
	struct parse_summary	 sum;
	struct ingest_result	 res = { 0 };
	struct dm_err		 perr = { 0 };
	int			 rc;

	pc->docs++;
	memset(&sum, 0, sizeof(sum));
	if (ig->st != NULL) {
		store_input_of(pc, &in);
		store_sink(ig->st, &in, &sink);
	}
	rc = parse_report(xml, ig->lim, &sink, &sum, &perr);
	if (rc == -1 && perr.scope == DM_ESTORE) {
		*err = perr;		/* the store went away: stop */
		return -1;
	}
	if (rc == -1)
		return reject(pc, member, &sum, perr.msg, err);
	res.outcome = rc == 1 ? INGEST_DUPLICATE : INGEST_STORED;
	res.input = pc->input;
	res.part = pc->part;
	res.member = member;
	res.message_id = pc->message_id;
	res.sum = &sum;
	emit(ig, &res);
	return 0;
}

/*
 * Unpack and parse one payload. Returns 0, or -1 with err set when the
 * store failed.
 */
static int
run_payload(struct payload_ctx *pc, const struct unpack_in *uin,
    struct dm_err *err)
{
	struct dm_err	 uerr = { 0 };

	if (unpack_payload(uin, pc->ig->lim, on_document, pc, &uerr) == 0)
		return 0;
	if (uerr.scope == DM_ESTORE) {
		*err = uerr;
		return -1;
	}
	return reject(pc, NULL, NULL, uerr.msg, err);
}

/* A part that holds no report, noted for the "no report" reason. */
static void
note_skipped(struct message_ctx *mc, const struct mime_part *part,
    const char *why)
{
	if (mc->skipped.len > 300)
		return;
	buf_printf(&mc->skipped, "%s%u %s %zu bytes%s%s",
	    mc->skipped.len ? ", " : "", part->index, part->content_type,
	    part->len, why ? " " : "", why ? why : "");
}

/* Does an XML part look like an aggregate report, not HTML or else? */
static int
is_feedback_xml(const unsigned char *p, size_t len)
{
	size_t	 n = len < 4096 ? len : 4096;

	return memmem(p, n, "feedback", 8) != NULL;
}

/* mime_fn: one leaf part of a message. */
static int
on_part(void *arg, const struct mime_part *part, struct dm_err *err)
{
	struct message_ctx	*mc = arg;
	struct payload_ctx	 pc;
	struct unpack_in	 uin;
	enum unpack_kind	 kind;

	if (mc->info->kind != MIME_PLAIN)
		return 0;	/* judged as a whole by the caller */
	kind = unpack_sniff(part->data, part->len < SNIFF_LEN ? part->len :
	    SNIFF_LEN);
	if (kind == UNPACK_XML && (strcmp(part->content_type,
	    "text/html") == 0 || !is_feedback_xml(part->data, part->len))) {
		note_skipped(mc, part, "(XML, not a report)");
		return 0;
	}
	if (kind != UNPACK_XML && kind != UNPACK_GZIP && kind != UNPACK_ZIP) {
		if (strcmp(part->content_type, "text/plain") == 0 &&
		    memmem(part->data, part->len, "failed the published "
		    "DMARC policy", 33) != NULL)
			mc->ruf_text = 1;
		note_skipped(mc, part, NULL);
		return 0;
	}
	memset(&pc, 0, sizeof(pc));
	pc.ig = mc->ig;
	pc.input = mc->org->input;
	pc.mailbox = mc->org->mailbox;
	pc.uidvalidity = mc->org->uidvalidity;
	pc.uid = mc->org->uid;
	pc.message_id = mc->info->message_id;
	pc.part = part->index;
	dm_sha256_hex(part->data, part->len, pc.sha256);
	uin.name = mc->org->input;
	uin.fd = -1;
	uin.mem = part->data;
	uin.len = part->len;
	mc->docs++;
	return run_payload(&pc, &uin, err);
}

/*
 * A failure report (multipart/report; report-type=feedback-report):
 * parsed, the privacy settings applied, stored. Other ARF reports
 * (abuse, fraud, ...) are not ours. Returns 0, or -1 with err set when
 * the store failed.
 */
static int
run_failure(struct payload_ctx *pc, const unsigned char *msg, size_t len,
    struct dm_err *err)
{
	struct ingest		*ig = pc->ig;
	struct ruf_report	 r;
	struct ingest_result	 res = { 0 };
	struct store_input	 in;
	struct dm_err		 rerr = { 0 };
	char			 reason[256];
	int			 rc = -1, flags = 0;

	ruf_report_init(&r);
	if (ig->failure.store == INGEST_FAILURE_FULL)
		flags |= RUF_KEEP_BODY;
	if (ruf_parse_message(msg, len, ig->lim, flags, &r, &rerr) == -1) {
		rc = reject(pc, NULL, NULL, rerr.msg, err);
		goto out;
	}
	if (strcmp(r.feedback_type, "auth-failure") != 0 &&
	    r.auth_failure == NULL) {
		snprintf(reason, sizeof(reason), "an ARF %s report, not a "
		    "DMARC failure report", r.feedback_type);
		rc = reject(pc, NULL, NULL, reason, err);
		goto out;
	}
	if (ig->failure.store == INGEST_FAILURE_NONE)
		ruf_drop_original(&r);
	if (ig->failure.hash_local_parts)
		ruf_hash_local_parts(&r);
	res.outcome = INGEST_STORED;
	if (ig->st != NULL) {
		store_input_of(pc, &in);
		rc = store_failure(ig->st, &in, &r, &rerr);
		if (rc == -1 && rerr.scope == DM_ESTORE) {
			*err = rerr;
			goto out;
		}
		if (rc == -1) {
			rc = reject(pc, NULL, NULL, rerr.msg, err);
			goto out;
		}
		if (rc == 1)
			res.outcome = INGEST_DUPLICATE;
	}
	res.input = pc->input;
	res.message_id = pc->message_id;
	res.ruf = &r;
	emit(ig, &res);
	rc = 0;
 out:
	ruf_report_clear(&r);
	return rc;
}

int
ingest_message(struct ingest *ig, const struct ingest_origin *org,
    const unsigned char *msg, size_t len, struct dm_err *err)
{
	struct mime_info	 info;
	struct message_ctx	 mc;
	struct payload_ctx	 pc;
	struct dm_err		 merr = { 0 };
	char			 reason[512];
	int			 rc = -1;

	memset(&info, 0, sizeof(info));
	memset(&mc, 0, sizeof(mc));
	memset(&pc, 0, sizeof(pc));
	mc.ig = ig;
	mc.org = org;
	mc.info = &info;
	buf_init(&mc.skipped, 1024);
	pc.ig = ig;
	pc.input = org->input;
	pc.mailbox = org->mailbox;
	pc.uidvalidity = org->uidvalidity;
	pc.uid = org->uid;
	dm_sha256_hex(msg, len, pc.sha256);

	if (mime_parse(msg, len, ig->lim, &info, on_part, &mc, &merr) == -1) {
		pc.message_id = info.message_id;
		if (merr.scope == DM_ESTORE) {
			*err = merr;
			goto out;
		}
		rc = reject(&pc, NULL, NULL, merr.msg, err);
		goto out;
	}
	pc.message_id = info.message_id;
	if (info.kind == MIME_FEEDBACK)
		rc = run_failure(&pc, msg, len, err);
	else if (info.kind == MIME_TLSRPT) {
		rc = reject(&pc, NULL, NULL, "an SMTP TLS report (RFC 8460), "
		    "not a DMARC report", err);
	} else if (mc.docs == 0 && mc.ruf_text) {
		/* free text whose wording varies: not read as fields */
		rc = reject(&pc, NULL, NULL, "a plain-text DMARC failure "
		    "notice without an ARF part (Exim/cPanel style): not "
		    "stored, its fields can't be read reliably", err);
	} else if (mc.docs == 0) {
		snprintf(reason, sizeof(reason), "mail: no report in the "
		    "message (%u part%s: %s)", info.nleaves,
		    info.nleaves == 1 ? "" : "s",
		    mc.skipped.len ? buf_cstr(&mc.skipped) : "none");
		rc = reject(&pc, NULL, NULL, reason, err);
	} else
		rc = 0;
 out:
	buf_clear(&mc.skipped);
	mime_info_clear(&info);
	return rc;
}

/* SHA-256 of a whole file, streamed. */
static int
hash_fd(int fd, char out[65])
{
	struct dm_sha256	 h;
	char			 tmp[65536];
	off_t			 off = 0;
	ssize_t			 n;

	dm_sha256_init(&h);
	while ((n = pread(fd, tmp, sizeof(tmp), off)) > 0) {
		dm_sha256_update(&h, tmp, (size_t)n);
		off += n;
	}
	dm_sha256_final(&h, out);
	return n == -1 ? -1 : 0;
}

/*
 * Split an mbox (mboxrd: ">From " lines lose one '>') into messages.
 * A new message starts at a "From " line at the start or after an empty
 * line.
 */
static int
ingest_mbox(struct ingest *ig, FILE *fp, const char *name, struct dm_err *err)
{
	struct ingest_origin	 org = { 0 };
	struct buf		 msg, input;
	char			*line = NULL;
	size_t			 cap = 0;
	ssize_t			 n;
	unsigned		 count = 0;
	int			 blank = 1, over = 0, rc = 0, in_msg = 0;
	const char		*p;

	buf_init(&msg, ig->lim->max_message);
	buf_init(&input, 4096);
	for (;;) {
		n = getline(&line, &cap, fp);
		if (n == -1 || (blank && strncmp(line, "From ", 5) == 0)) {
			if (in_msg) {
				buf_reset(&input);
				buf_printf(&input, "%s#%u", name, count);
				org.input = buf_cstr(&input);
				if (over) {
					struct payload_ctx pc = { 0 };
					char r[128];

					pc.ig = ig;
					pc.input = org.input;
					snprintf(r, sizeof(r), "mail: message "
					    "over %zu bytes", ig->lim->max_message);
					rc = reject(&pc, NULL, NULL, r, err);
				} else
					rc = ingest_message(ig, &org,
					    (const unsigned char *)msg.data,
					    msg.len, err);
				if (rc == -1)
					break;
			}
			if (n == -1)
				break;
			if (++count > DM_MAX_MBOX_MESSAGES) {
				log_warnx("input=%s: more than %u messages, "
				    "the rest is ignored", name,
				    DM_MAX_MBOX_MESSAGES);
				break;
			}
			buf_reset(&msg);
			over = 0;
			in_msg = 1;
			blank = 0;
			continue;
		}
		blank = (n == 1 && line[0] == '\n') ||
		    (n == 2 && line[0] == '\r' && line[1] == '\n');
		p = line;
		if (line[0] == '>') {
			for (p = line; *p == '>'; p++)
				;
			p = strncmp(p, "From ", 5) == 0 ? line + 1 : line;
		}
		if (!over && buf_add(&msg, p, (size_t)(n - (p - line))) == -1)
			over = 1;
	}
	if (ferror(fp) && rc == 0)
		log_warn("input=%s: read", name);
	free(line);
	buf_clear(&msg);
	buf_clear(&input);
	return rc;
}

static int
ingest_file(struct ingest *ig, const char *path, int fd, struct dm_err *err)
{
	struct payload_ctx	 pc;
	struct unpack_in	 uin;
	struct ingest_origin	 org = { 0 };
	unsigned char		 head[SNIFF_LEN];
	struct buf		 msg;
	ssize_t			 n;
	FILE			*fp;
	char			 r[300];
	int			 rc;

	memset(&pc, 0, sizeof(pc));
	pc.ig = ig;
	pc.input = path;
	if ((n = pread(fd, head, sizeof(head), 0)) == -1) {
		snprintf(r, sizeof(r), "read: %s", strerror(errno));
		return reject(&pc, NULL, NULL, r, err);
	}
	switch (unpack_sniff(head, (size_t)n)) {
	case UNPACK_MAIL:
		buf_init(&msg, ig->lim->max_message);
		rc = buf_read_fd(&msg, fd);
		if (rc == 0) {
			org.input = path;
			rc = ingest_message(ig, &org,
			    (const unsigned char *)msg.data, msg.len, err);
		} else {
			if (rc == -2)
				snprintf(r, sizeof(r), "mail: message over "
				    "%zu bytes", ig->lim->max_message);
			else
				snprintf(r, sizeof(r), "read: %s",
				    strerror(errno));
			rc = reject(&pc, NULL, NULL, r, err);
		}
		buf_clear(&msg);
		return rc;
	case UNPACK_MBOX:
		if ((fp = fdopen(dup(fd), "r")) == NULL)
			fatal("fdopen");
		rc = ingest_mbox(ig, fp, path, err);
		fclose(fp);
		return rc;
	default:
		break;
	}
	if (hash_fd(fd, pc.sha256) == -1) {
		snprintf(r, sizeof(r), "read: %s", strerror(errno));
		return reject(&pc, NULL, NULL, r, err);
	}
	uin.name = path;
	uin.fd = fd;
	uin.mem = NULL;
	uin.len = 0;
	return run_payload(&pc, &uin, err);
}

/* ingest_path's leaf: one input that is not a directory, or one that is
 * and could not be listed (why says what went wrong). */
struct leaf_ctx {
	struct ingest	*ig;
	struct dm_err	*err;
};

static int
ingest_leaf(void *arg, const char *path, const char *why)
{
	struct leaf_ctx		*lc = arg;
	struct payload_ctx	 pc;
	struct stat		 sb;
	char			 r[300];
	int			 fd, rc;

	memset(&pc, 0, sizeof(pc));
	pc.ig = lc->ig;
	pc.input = path;
	if (why != NULL)
		return reject(&pc, NULL, NULL, why, lc->err);
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		snprintf(r, sizeof(r), "open: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return reject(&pc, NULL, NULL, r, lc->err);
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return reject(&pc, NULL, NULL, "not a regular file", lc->err);
	}
	rc = ingest_file(lc->ig, path, fd, lc->err);
	close(fd);
	return rc;
}

static int
is_dir(const char *dir, const char *name)
{
	struct stat	 sb;
	char		 path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int
skip_name(const char *name)
{
	return name[0] == '.';
}

/*
 * A directory in name order, so runs are repeatable. A Maildir (cur,
 * new and tmp inside) is read from cur and new only: tmp holds mail
 * still being delivered.
 */
static int
walk(const char *path, int depth, ingest_walk_fn fn, void *arg)
{
	struct dirent	**names = NULL;
	struct stat	 sb;
	struct buf	 sub;
	char		 r[300];
	int		 n, i, rc = 0, maildir;

	if (stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode))
		return fn(arg, path, NULL);	/* the leaf says what's wrong */
	if (depth > MAX_WALK_DEPTH) {
		log_warnx("input=%s: directories nested deeper than %d, "
		    "skipped", path, MAX_WALK_DEPTH);
		return 0;
	}
	if ((n = scandir(path, &names, NULL, alphasort)) == -1) {
		snprintf(r, sizeof(r), "scandir: %s", strerror(errno));
		return fn(arg, path, r);
	}
	maildir = is_dir(path, "cur") && is_dir(path, "new") &&
	    is_dir(path, "tmp");
	buf_init(&sub, 8192);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (rc == -1 || skip_name(name) ||
		    (maildir && strcmp(name, "tmp") == 0))
			continue;
		buf_reset(&sub);
		if (buf_printf(&sub, "%s%s%s", path,
		    path[strlen(path) - 1] == '/' ? "" : "/", name) == -1)
			continue;
		rc = walk(buf_cstr(&sub), depth + 1, fn, arg);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_clear(&sub);
	return rc;
}

int
ingest_walk(const char *path, ingest_walk_fn fn, void *arg)
{
	return walk(path, 0, fn, arg);
}

int
ingest_path(struct ingest *ig, const char *path, struct dm_err *err)
{
	struct leaf_ctx	 lc = { ig, err };

	return walk(path, 0, ingest_leaf, &lc);
}

int
ingest_stdin(struct ingest *ig, struct dm_err *err)
{
	struct payload_ctx	 pc;
	struct ingest_origin	 org = { 0 };
	struct unpack_in	 uin;
	struct buf		 in;
	FILE			*fp;
	char			 r[300];
	int			 rc;

	memset(&pc, 0, sizeof(pc));
	pc.ig = ig;
	pc.input = "-";
	buf_init(&in, ig->lim->max_message);
	if ((rc = buf_read_fd(&in, STDIN_FILENO)) != 0) {
		if (rc == -2)
			snprintf(r, sizeof(r), "input over %zu bytes "
			    "(limits max_message)", ig->lim->max_message);
		else
			snprintf(r, sizeof(r), "read: %s", strerror(errno));
		rc = reject(&pc, NULL, NULL, r, err);
		goto out;
	}
	switch (unpack_sniff((const unsigned char *)buf_cstr(&in),
	    in.len < SNIFF_LEN ? in.len : SNIFF_LEN)) {
	case UNPACK_MAIL:
		org.input = "-";
		rc = ingest_message(ig, &org, (const unsigned char *)in.data,
		    in.len, err);
		break;
	case UNPACK_MBOX:
		if ((fp = fmemopen(in.data, in.len, "r")) == NULL)
			fatal("fmemopen");
		rc = ingest_mbox(ig, fp, "-", err);
		fclose(fp);
		break;
	default:
		dm_sha256_hex(in.data, in.len, pc.sha256);
		uin.name = "-";
		uin.fd = -1;
		uin.mem = (const unsigned char *)buf_cstr(&in);
		uin.len = in.len;
		rc = run_payload(&pc, &uin, err);
		break;
	}
 out:
	buf_clear(&in);
	return rc;
}

/* The input as a word: quoted and escaped when it needs to be. */
static void
add_word(struct buf *out, const char *s)
{
	const char	*p;
	int		 quote = *s == '\0';

	for (p = s; *p != '\0'; p++)
		if (*p == ' ' || *p == '"' || *p == '\t')
			quote = 1;
	if (quote)
		buf_addc(out, '"');
	dm_escape(out, s, quote);
	if (quote)
		buf_addc(out, '"');
}

const char *
ingest_format(const struct ingest_result *res, struct buf *out)
{
	static const char *const words[] = { "stored", "duplicate",
	    "rejected" };
	const struct parse_summary *sum = res->sum;

	buf_reset(out);
	buf_adds(out, words[res->outcome]);
	buf_addc(out, ' ');
	add_word(out, res->input);
	if (res->part != 0)
		log_kvu(out, "part", res->part);
	log_kv(out, "member", res->member);
	if (res->ruf != NULL) {
		log_kv(out, "kind", "failure");
		log_kv(out, "reporter", res->ruf->reporter);
		log_kv(out, "source_ip", res->ruf->source_ip);
		log_kv(out, "domain", res->ruf->reported_domain.n > 0 ?
		    res->ruf->reported_domain.v[0] : NULL);
	}
	if (sum != NULL && (sum->org_name[0] || sum->email[0] ||
	    sum->report_id[0])) {
		log_kv(out, "org", sum->org_name[0] || !sum->email[0] ?
		    sum->org_name : sum->email);
		log_kv(out, "report_id", sum->report_id);
		log_kv(out, "domain", sum->domain[0] ? sum->domain : NULL);
	}
	if (sum != NULL && res->outcome != INGEST_REJECTED) {
		log_kvu(out, "records", sum->records);
		log_kvu(out, "messages", sum->messages);
		if (sum->skipped)
			log_kvu(out, "skipped", sum->skipped);
	}
	log_kv(out, "reason", res->reason);
	return buf_cstr(out);
}
