/*
 * parse.c: one DMARC aggregate report, streamed through libxml2's SAX2
 * parser (pulling the bytes as it needs them), records handed to a sink
 * one at a time. (Not xmlTextReader: it builds and frees a node per
 * element, and measured on a 200,000-record report it took 2.5 s where
 * the SAX2 push parser took 1.2 s; the pull parser does 11% less work.)
 *
 * Everything in the document is hostile: no DTD (a DOCTYPE aborts the
 * parse, entities are never substituted, the external entity loader refuses
 * everything), element depth, text lengths, repetitions and records
 * are bounded, and memory does not grow with the number of records:
 * report strings live in one arena, a record's strings in another that
 * is reset for each record.
 *
 * Elements are matched by local name whatever their namespace (none,
 * RFC 9990's urn:ietf:params:xml:ns:dmarc-2.0, dmarc.org's 0.1/0.2),
 * children in any order; unknown elements and their text are skipped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/SAX2.h>

#include "bounds.h"
#include "parse.h"
#include "report.h"
#include "util.h"

#define MIN_TIME	946684800	/* 2000-01-01T00:00:00Z */
#define MAX_TIME	4102444800	/* 2100-01-01T00:00:00Z */

/*
 * Element ids, by position in the report. Report-level ids come
 * before E_RECORD, record-level ones after it: the "seen" bits of a
 * record are cleared as one range when the next record opens.
 */
enum eid {
	E_SKIP,			/* unknown: skipped with its subtree */
	E_DOC,			/* above the root */
	E_FEEDBACK,
	E_VERSION,
	E_METADATA,
	E_ORG_NAME,
	E_EMAIL,
	E_EXTRA,
	E_REPORT_ID,
	E_DATE_RANGE,
	E_BEGIN,
	E_END,
	E_ERROR,
	E_GENERATOR,
	E_POLICY,
	E_DOMAIN,
	E_DISCOVERY,
	E_ADKIM,
	E_ASPF,
	E_P,
	E_SP,
	E_NP,
	E_PCT,
	E_FO,
	E_TESTING,
	E_RECORD,
	E_ROW,
	E_SOURCE_IP,
	E_COUNT,
	E_POLEVAL,
	E_DISPOSITION,
	E_PE_DKIM,
	E_PE_SPF,
	E_REASON,
	E_R_TYPE,
	E_R_COMMENT,
	E_IDENTIFIERS,
	E_ENV_TO,
	E_ENV_FROM,
	E_HEADER_FROM,
	E_AUTH,
	E_DKIM,
	E_DKIM_DOMAIN,
	E_DKIM_SELECTOR,
	E_DKIM_RESULT,
	E_DKIM_HUMAN,
	E_SPF,
	E_SPF_DOMAIN,
	E_SPF_SCOPE,
	E_SPF_RESULT,
	E_SPF_HUMAN,
	E_MAX
};

#define BIT(id)		((uint64_t)1 << (id))
/* Bits [lo, hi] */
#define RANGE(lo, hi)	((BIT(hi) - BIT(lo)) | BIT(hi))

/* May appear many times in their parent; any other known one once. */
#define REPEATABLE	(BIT(E_ERROR) | BIT(E_RECORD) | BIT(E_REASON) | \
			 BIT(E_DKIM) | BIT(E_SPF))

_Static_assert(E_MAX <= 64, "element ids must fit the seen bits");

enum ekind {
	K_NODE,			/* a container */
	K_STR,			/* text, kept as sent (trimmed) */
	K_ENUM,			/* text, lower-cased and mapped */
	K_NUM,			/* text, a number */
};

struct elem {
	enum eid	 parent;
	const char	*name;
	enum eid	 id;
	enum ekind	 kind;
	size_t		 cap;	/* text bytes, for leaves */
	int		 set;	/* enum report_enum_kind for K_ENUM */
};

#define NODE(par, name, id)	{ par, name, id, K_NODE, 0, 0 }
#define STR(par, name, id, cap)	{ par, name, id, K_STR, cap, 0 }
#define NUM(par, name, id)	{ par, name, id, K_NUM, DM_MAX_FIELD, 0 }
#define ENUM(par, name, id, set) \
				{ par, name, id, K_ENUM, DM_MAX_FIELD, set }

/* Both schemas (RFC 7489 appendix C, RFC 9990 appendix A), whole. */
static const struct elem elems[] = {
	NODE(E_DOC, "feedback", E_FEEDBACK),
	STR(E_FEEDBACK, "version", E_VERSION, DM_MAX_FIELD),
	NODE(E_FEEDBACK, "report_metadata", E_METADATA),
	NODE(E_FEEDBACK, "policy_published", E_POLICY),
	NODE(E_FEEDBACK, "record", E_RECORD),

	STR(E_METADATA, "org_name", E_ORG_NAME, DM_MAX_FIELD),
	STR(E_METADATA, "email", E_EMAIL, DM_MAX_FIELD),
	STR(E_METADATA, "extra_contact_info", E_EXTRA, DM_MAX_FIELD),
	STR(E_METADATA, "report_id", E_REPORT_ID, DM_MAX_FIELD),
	NODE(E_METADATA, "date_range", E_DATE_RANGE),
	STR(E_METADATA, "error", E_ERROR, DM_MAX_FIELD),
	STR(E_METADATA, "generator", E_GENERATOR, DM_MAX_FIELD),
	NUM(E_DATE_RANGE, "begin", E_BEGIN),
	NUM(E_DATE_RANGE, "end", E_END),

	STR(E_POLICY, "domain", E_DOMAIN, DM_MAX_DOMAIN),
	ENUM(E_POLICY, "discovery_method", E_DISCOVERY, REP_DISCOVERY),
	ENUM(E_POLICY, "adkim", E_ADKIM, REP_ALIGNMENT),
	ENUM(E_POLICY, "aspf", E_ASPF, REP_ALIGNMENT),
	ENUM(E_POLICY, "p", E_P, REP_DISPOSITION),
	ENUM(E_POLICY, "sp", E_SP, REP_DISPOSITION),
	ENUM(E_POLICY, "np", E_NP, REP_DISPOSITION),
	NUM(E_POLICY, "pct", E_PCT),
	STR(E_POLICY, "fo", E_FO, DM_MAX_FIELD),
	ENUM(E_POLICY, "testing", E_TESTING, REP_TESTING),

	NODE(E_RECORD, "row", E_ROW),
	NODE(E_RECORD, "identifiers", E_IDENTIFIERS),
	NODE(E_RECORD, "auth_results", E_AUTH),

	STR(E_ROW, "source_ip", E_SOURCE_IP, DM_MAX_DOMAIN),
	NUM(E_ROW, "count", E_COUNT),
	NODE(E_ROW, "policy_evaluated", E_POLEVAL),
	ENUM(E_POLEVAL, "disposition", E_DISPOSITION, REP_ACTION),
	ENUM(E_POLEVAL, "dkim", E_PE_DKIM, REP_PASSFAIL),
	ENUM(E_POLEVAL, "spf", E_PE_SPF, REP_PASSFAIL),
	NODE(E_POLEVAL, "reason", E_REASON),
	ENUM(E_REASON, "type", E_R_TYPE, REP_REASON),
	STR(E_REASON, "comment", E_R_COMMENT, DM_MAX_COMMENT),

	STR(E_IDENTIFIERS, "envelope_to", E_ENV_TO, DM_MAX_DOMAIN),
	STR(E_IDENTIFIERS, "envelope_from", E_ENV_FROM, DM_MAX_DOMAIN),
	STR(E_IDENTIFIERS, "header_from", E_HEADER_FROM, DM_MAX_DOMAIN),

	NODE(E_AUTH, "dkim", E_DKIM),
	NODE(E_AUTH, "spf", E_SPF),
	STR(E_DKIM, "domain", E_DKIM_DOMAIN, DM_MAX_DOMAIN),
	STR(E_DKIM, "selector", E_DKIM_SELECTOR, DM_MAX_DOMAIN),
	ENUM(E_DKIM, "result", E_DKIM_RESULT, REP_DKIM_RESULT),
	STR(E_DKIM, "human_result", E_DKIM_HUMAN, DM_MAX_COMMENT),
	STR(E_SPF, "domain", E_SPF_DOMAIN, DM_MAX_DOMAIN),
	ENUM(E_SPF, "scope", E_SPF_SCOPE, REP_SPF_SCOPE),
	ENUM(E_SPF, "result", E_SPF_RESULT, REP_SPF_RESULT),
	STR(E_SPF, "human_result", E_SPF_HUMAN, DM_MAX_COMMENT),
};

/* elems[] index of each id, and each parent's children, built once. */
static const struct elem	*by_id[E_MAX];
static unsigned char		 is_leaf[E_MAX];	/* keeps its text */
static unsigned char		 kids_first[E_MAX], kids_n[E_MAX];
static const struct elem	*kids[nitems(elems)];

struct parse_ctx {
	struct dm_rd		*xml;
	const struct dm_limits	*lim;
	const struct report_sink *sink;
	struct dm_err		*err;
	xmlParserCtxtPtr	 pctx;
	int			 failed;	/* err is set: stop */

	uint64_t		 nread;		/* bytes from xml */
	int			 nonblank;	/* not only white space */
	int			 rd_failed;	/* xml->err says why */
	int			 stop;		/* </feedback> seen */
	int			 xml_failed;	/* xerr holds libxml2's first */
	struct dm_err		 xerr;

	const char		*kidname[nitems(elems)]; /* see child() */
	enum eid		 stack[DM_MAX_XML_DEPTH + 1];
	int			 depth;		/* stack[depth] is current */
	uint64_t		 seen;		/* BIT(id) of unique elements */

	char			*text;		/* current leaf's text */
	size_t			 tlen;

	struct dm_arena		 rep_arena;
	struct dm_arena		 rec_arena;
	struct report		 rep;
	struct record		 rec;
	const char		*errors[DM_MAX_ERRORS];
	struct report_reason	 reasons[DM_MAX_REASONS];
	struct report_dkim	 dkim[DM_MAX_AUTH_DKIM];
	struct report_spf	 spf[DM_MAX_AUTH_SPF];
	const char		*count;		/* text of the record's count */
	int			 ip_bad;	/* source_ip not an address */

	int			 begun;		/* sink's begin() called */
	int			 dup;		/* ... and it said duplicate */
	uint64_t		 nrecords;	/* <record>s opened */
	uint64_t		 handed;	/* complete, not skipped */
	uint64_t		 messages;
};

static int	 fail(struct parse_ctx *, const char *, ...) DM_PRINTF(2, 3);

/* Never load anything from outside: no DTD, no external entity. */
static xmlParserInputPtr
refuse_loader(const char *url DM_UNUSED, const char *id DM_UNUSED,
    xmlParserCtxtPtr ctxt DM_UNUSED)
{
	return NULL;
}

/* libxml2 must never write to stderr; errors come per reader. */
static void
quiet(void *ctx DM_UNUSED, const char *msg DM_UNUSED, ...)
{
}

void
parse_init(void)
{
	size_t		 i, n = 0;
	int		 p;

	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_loader);
	xmlSetGenericErrorFunc(NULL, quiet);

	for (i = 0; i < nitems(elems); i++) {
		by_id[elems[i].id] = &elems[i];
		is_leaf[elems[i].id] = elems[i].kind != K_NODE;
	}
	for (p = 0; p < E_MAX; p++) {
		kids_first[p] = (unsigned char)n;
		for (i = 0; i < nitems(elems); i++)
			if ((int)elems[i].parent == p)
				kids[n++] = &elems[i];
		kids_n[p] = (unsigned char)(n - kids_first[p]);
	}
}

/* A DM_EMSG error, prefixed with the record number inside a record. */
static int
fail(struct parse_ctx *c, const char *fmt, ...)
{
	char		 msg[sizeof(c->err->msg)];
	va_list		 ap;
	int		 i, in_record = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i <= c->depth; i++)
		if (c->stack[i] == E_RECORD)
			in_record = 1;
	if (in_record)
		return dm_err_set(c->err, DM_EMSG, "xml: record %llu: %s",
		    (unsigned long long)c->nrecords, msg);
	return dm_err_set(c->err, DM_EMSG, "xml: %s", msg);
}

/*
 * Pull the next chunk of the document from the stream. What follows
 * </feedback> in the last chunk is never parsed: sax_end() stops the
 * parser there. Returns bytes, 0 at the end, -1 when the stream failed
 * (xml->err says why).
 */
static long
pull(struct parse_ctx *c, char *dst, size_t len)
{
	long	 n, i;

	if ((n = dm_rd_read(c->xml, dst, len)) < 0) {
		c->rd_failed = 1;
		return -1;
	}
	if ((size_t)n > len)
		n = (long)len;
	c->nread += (uint64_t)n;
	for (i = 0; !c->nonblank && i < n; i++)
		if (dst[i] != ' ' && dst[i] != '\t' && dst[i] != '\r' &&
		    dst[i] != '\n')
			c->nonblank = 1;
	return n;
}

static void
xml_error(void *arg, xmlErrorPtr e)
{
	struct parse_ctx	*c = arg;
	char			 msg[sizeof(c->xerr.msg)];
	size_t			 n;

	if (c->xml_failed || c->failed || c->stop || e == NULL ||
	    e->level < XML_ERR_ERROR || e->code == XML_ERR_USER_STOP)
		return;
	c->xml_failed = 1;
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "error");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	if (e->line > 0 && e->int2 > 0)
		dm_err_set(&c->xerr, DM_EMSG, "xml: line %d: %s (column %d)",
		    e->line, msg, e->int2);
	else if (e->line > 0)
		dm_err_set(&c->xerr, DM_EMSG, "xml: line %d: %s", e->line,
		    msg);
	else
		dm_err_set(&c->xerr, DM_EMSG, "xml: %s", msg);
}

/*
 * The known child of parent called name, or NULL. Names come from the
 * reader's dictionary, so the same name is the same pointer for the
 * whole document: compare pointers first, strings once per name.
 */
static const struct elem *
child(struct parse_ctx *c, enum eid parent, const char *name)
{
	unsigned	 i, first = kids_first[parent], n = kids_n[parent];

	for (i = first; i < first + n; i++)
		if (c->kidname[i] == name)
			return kids[i];
	for (i = first; i < first + n; i++)
		if (kids[i]->name[0] == name[0] &&
		    strcmp(kids[i]->name, name) == 0) {
			c->kidname[i] = name;
			return kids[i];
		}
	return NULL;
}

static int
check_time(struct parse_ctx *c, const char *what, int64_t t)
{
	char	 buf[32];

	if (t < MIN_TIME)
		return fail(c, "date_range %s %lld (%s) is before 2000", what,
		    (long long)t, dm_time_fmt(t, buf));
	if (t > MAX_TIME)
		return fail(c, "date_range %s %lld (%s) is after 2100", what,
		    (long long)t, dm_time_fmt(t, buf));
	return 0;
}

static int
end_metadata(struct parse_ctx *c)
{
	const struct report	*r = &c->rep;

	if (r->report_id == NULL || *r->report_id == '\0')
		return fail(c, "<report_id> missing or empty");
	if ((r->org_name == NULL || *r->org_name == '\0') &&
	    (r->email == NULL || *r->email == '\0'))
		return fail(c, "neither <org_name> nor <email>: reporter "
		    "unknown");
	if (!(c->seen & BIT(E_BEGIN)))
		return fail(c, "<date_range> lacks <begin>");
	if (!(c->seen & BIT(E_END)))
		return fail(c, "<date_range> lacks <end>");
	if (check_time(c, "begin", r->begin) == -1 ||
	    check_time(c, "end", r->end) == -1)
		return -1;
	if (r->begin > r->end)
		return fail(c, "date_range begin %lld is after end %lld",
		    (long long)r->begin, (long long)r->end);
	return 0;
}

static int
end_policy(struct parse_ctx *c)
{
	if (c->rep.domain == NULL || *c->rep.domain == '\0')
		return fail(c, "<policy_published> lacks <domain>");
	if (c->rep.p.val == NULL && c->rep.p.raw == NULL)
		return fail(c, "<policy_published> lacks <p>");
	return 0;
}

/* The first <record> opens: the report's head must be complete. */
static int
begin_report(struct parse_ctx *c)
{
	int	 rc;

	if (!(c->seen & BIT(E_METADATA)))
		return fail(c, "<record> before <report_metadata>");
	if (!(c->seen & BIT(E_POLICY)))
		return fail(c, "<record> before <policy_published>");
	rc = c->sink->begin(c->sink->arg, &c->rep, c->err);
	if (rc == -1)
		return -1;
	c->begun = 1;
	c->dup = rc == 1;
	return 0;
}

static int
start_record(struct parse_ctx *c)
{
	if (!c->begun && begin_report(c) == -1)
		return -1;
	if (c->nrecords >= c->lim->max_records)
		return fail(c, "more than %llu records",
		    (unsigned long long)c->lim->max_records);
	c->nrecords++;
	c->seen &= ~RANGE(E_RECORD, E_MAX - 1);
	dm_arena_reset(&c->rec_arena);
	memset(&c->rec, 0, sizeof(c->rec));
	c->rec.reasons = c->reasons;
	c->rec.auth_dkim = c->dkim;
	c->rec.auth_spf = c->spf;
	c->count = NULL;
	c->ip_bad = 0;
	return 0;
}

static int
end_record(struct parse_ctx *c)
{
	struct record	*r = &c->rec;
	uint64_t	 n;

	/* Rows without an address: null reports, GoDaddy's blanks. */
	if (r->ip_len == 0 || c->ip_bad) {
		c->rep.skipped++;
		return 0;
	}
	if (c->count == NULL || *c->count == '\0')
		return fail(c, "<count> missing or empty");
	if (dm_parse_u64(c->count, INT64_MAX, &n) == -1)
		return fail(c, "<count> '%s' is not a number up to %lld",
		    c->count, (long long)INT64_MAX);
	if (n > (uint64_t)INT64_MAX - c->messages)
		return fail(c, "message count over %lld",
		    (long long)INT64_MAX);
	r->count = n;
	c->handed++;
	c->messages += n;
	/* A duplicate's records are counted all the same, for the ledger. */
	if (!c->dup &&
	    c->sink->record(c->sink->arg, &c->rep, r, c->err) == -1)
		return -1;
	c->rep.nrecords = c->handed;
	c->rep.messages = c->messages;
	return 0;
}

/* An element opens: push its id, reserve what it fills. */
static int
start_elem(struct parse_ctx *c, const char *name)
{
	enum eid		 parent = c->stack[c->depth];
	const struct elem	*e = NULL;
	enum eid		 id = E_SKIP;

	if (c->depth >= DM_MAX_XML_DEPTH)
		return fail(c, "elements nested deeper than %d",
		    DM_MAX_XML_DEPTH);
	if (parent == E_DOC && strcmp(name, "feedback") != 0)
		return dm_err_set(c->err, DM_EMSG, "xml: root element is "
		    "<%.64s>, not <feedback>: not a DMARC aggregate report",
		    name);
	if (parent != E_SKIP && (e = child(c, parent, name)) != NULL)
		id = e->id;
	/* A text leaf holds no elements: whatever is inside is skipped. */
	if (is_leaf[parent])
		id = E_SKIP;
	if (id != E_SKIP && !(REPEATABLE & BIT(id))) {
		if (c->seen & BIT(id))
			return fail(c, "second <%s>", name);
		c->seen |= BIT(id);
	}
	switch (id) {
	case E_RECORD:
		if (start_record(c) == -1)
			return -1;
		break;
	case E_ERROR:
		if (c->rep.nerrors >= DM_MAX_ERRORS)
			return fail(c, "more than %d <error>", DM_MAX_ERRORS);
		break;
	case E_REASON:
		if (c->rec.nreasons >= DM_MAX_REASONS)
			return fail(c, "more than %d <reason>",
			    DM_MAX_REASONS);
		memset(&c->reasons[c->rec.nreasons++], 0,
		    sizeof(c->reasons[0]));
		c->seen &= ~RANGE(E_R_TYPE, E_R_COMMENT);
		break;
	case E_DKIM:
		if (c->rec.nauth_dkim >= DM_MAX_AUTH_DKIM)
			return fail(c, "more than %d <dkim> in <auth_results>",
			    DM_MAX_AUTH_DKIM);
		memset(&c->dkim[c->rec.nauth_dkim++], 0, sizeof(c->dkim[0]));
		c->seen &= ~RANGE(E_DKIM_DOMAIN, E_DKIM_HUMAN);
		break;
	case E_SPF:
		if (c->rec.nauth_spf >= DM_MAX_AUTH_SPF)
			return fail(c, "more than %d <spf> in <auth_results>",
			    DM_MAX_AUTH_SPF);
		memset(&c->spf[c->rec.nauth_spf++], 0, sizeof(c->spf[0]));
		c->seen &= ~RANGE(E_SPF_DOMAIN, E_SPF_HUMAN);
		break;
	default:
		break;
	}
	c->stack[++c->depth] = id;
	if (e != NULL && e->kind != K_NODE)
		c->tlen = 0;
	return 0;
}

/*
 * Text inside a leaf is kept (end_leaf() checks it); any other, mostly
 * the white space between elements, is dropped here.
 */
static int
add_text(struct parse_ctx *c, const char *s, size_t n)
{
	enum eid	 id = c->stack[c->depth];
	size_t		 cap;

	if (!is_leaf[id] || s == NULL)
		return 0;
	cap = by_id[id]->cap;
	if (n > cap - c->tlen)
		return fail(c, "<%s> longer than %zu bytes", by_id[id]->name,
		    cap);
	memcpy(c->text + c->tlen, s, n);
	c->tlen += n;
	return 0;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static int
parse_num(struct parse_ctx *c, const char *name, const char *s,
    uint64_t max, uint64_t *v)
{
	if (dm_parse_u64(s, max, v) == -1)
		return fail(c, "<%s> '%.64s' is not a number up to %llu", name,
		    s, (unsigned long long)max);
	return 0;
}

/* A text leaf closes: store its value where it belongs. */
static int
end_leaf(struct parse_ctx *c, const struct elem *e)
{
	struct dm_arena		*a;
	struct report		*rep = &c->rep;
	struct record		*rec = &c->rec;
	struct report_enum	 en = { NULL, NULL };
	char			*v;
	size_t			 vlen;
	uint64_t		 n;
	int			 len;

	if (!is_utf8(c->text, c->tlen)) {
		if (memchr(c->text, '\0', c->tlen) != NULL)
			return fail(c, "<%s> holds a NUL", e->name);
		return fail(c, "<%s> is not valid UTF-8", e->name);
	}
	a = e->id > E_RECORD ? &c->rec_arena : &c->rep_arena;
	/* trimmed, by its length: no strlen() */
	v = c->text;
	vlen = c->tlen;
	while (vlen > 0 && is_space(*v)) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_space(v[vlen - 1]))
		vlen--;
	v[vlen] = '\0';
	if (e->kind == K_ENUM) {
		/* a known value is a constant: only one sent otherwise is
		   copied, to keep as raw */
		en = report_enum_canon((enum report_enum_kind)e->set,
		    dm_lower(v));
		if (en.raw != NULL)
			en.raw = dm_arena_strndup(a, v, vlen);
	} else if (e->kind == K_STR && e->id != E_SOURCE_IP)
		v = dm_arena_strndup(a, v, vlen);

	switch (e->id) {
	case E_VERSION:		rep->version = v; break;
	case E_ORG_NAME:	rep->org_name = v; break;
	case E_EMAIL:		rep->email = v; break;
	case E_EXTRA:		rep->extra_contact_info = v; break;
	case E_REPORT_ID:	rep->report_id = v; break;
	case E_GENERATOR:	rep->generator = v; break;
	case E_ERROR:		c->errors[rep->nerrors++] = v; break;
	case E_BEGIN:
	case E_END:
		if (parse_num(c, e->name, v, INT64_MAX, &n) == -1)
			return -1;
		if (e->id == E_BEGIN)
			rep->begin = (int64_t)n;
		else
			rep->end = (int64_t)n;
		break;
	case E_DOMAIN:		rep->domain = v; break;
	case E_DISCOVERY:	rep->discovery_method = en; break;
	case E_ADKIM:		rep->adkim = en; break;
	case E_ASPF:		rep->aspf = en; break;
	case E_P:		rep->p = en; break;
	case E_SP:		rep->sp = en; break;
	case E_NP:		rep->np = en; break;
	case E_PCT:
		if (*v == '\0')
			break;	/* absent in all but name */
		if (parse_num(c, e->name, v, 100, &n) == -1)
			return -1;
		rep->pct = (int)n;
		break;
	case E_FO:		rep->fo = v; break;
	case E_TESTING:		rep->testing = en; break;

	case E_SOURCE_IP:
		if (*v == '\0')
			break;
		/* bytes, not text: store sends them as they are */
		if ((len = dm_ip_parse(v, rec->ip)) == -1)
			c->ip_bad = 1;
		else
			rec->ip_len = (unsigned char)len;
		break;
	case E_COUNT:
		c->count = dm_arena_strndup(a, v, vlen);
		break;
	case E_DISPOSITION:	rec->disposition = en; break;
	case E_PE_DKIM:		rec->dkim = en; break;
	case E_PE_SPF:		rec->spf = en; break;
	case E_R_TYPE:
		c->reasons[rec->nreasons - 1].type = en;
		break;
	case E_R_COMMENT:
		c->reasons[rec->nreasons - 1].comment = v;
		break;
	case E_ENV_TO:		rec->envelope_to = v; break;
	case E_ENV_FROM:	rec->envelope_from = v; break;
	case E_HEADER_FROM:	rec->header_from = v; break;
	case E_DKIM_DOMAIN:	c->dkim[rec->nauth_dkim - 1].domain = v; break;
	case E_DKIM_SELECTOR:
		c->dkim[rec->nauth_dkim - 1].selector = v;
		break;
	case E_DKIM_RESULT:	c->dkim[rec->nauth_dkim - 1].result = en; break;
	case E_DKIM_HUMAN:
		c->dkim[rec->nauth_dkim - 1].human_result = v;
		break;
	case E_SPF_DOMAIN:	c->spf[rec->nauth_spf - 1].domain = v; break;
	case E_SPF_SCOPE:	c->spf[rec->nauth_spf - 1].scope = en; break;
	case E_SPF_RESULT:	c->spf[rec->nauth_spf - 1].result = en; break;
	case E_SPF_HUMAN:
		c->spf[rec->nauth_spf - 1].human_result = v;
		break;
	default:
		break;
	}
	return 0;
}

static int
end_elem(struct parse_ctx *c)
{
	enum eid	 id = c->stack[c->depth];
	int		 rc = 0;

	if (id == E_SKIP) {
		c->depth--;
		return 0;
	}
	switch (id) {
	case E_METADATA:
		rc = end_metadata(c);
		break;
	case E_POLICY:
		rc = end_policy(c);
		break;
	case E_RECORD:
		rc = end_record(c);
		break;
	case E_FEEDBACK:
		if (!(c->seen & BIT(E_METADATA)))
			return fail(c, "no <report_metadata>");
		if (!(c->seen & BIT(E_POLICY)))
			return fail(c, "no <policy_published>");
		if (!c->begun)
			return fail(c, "no <record>");
		c->stop = 1;
		break;
	default:
		if (by_id[id]->kind != K_NODE)
			rc = end_leaf(c, by_id[id]);
		break;
	}
	c->depth--;
	return rc;
}

/* A callback failed: stop libxml2 where it is. */
static void
stop(struct parse_ctx *c)
{
	c->failed = 1;
	xmlStopParser(c->pctx);
}

static void
sax_start(void *arg, const xmlChar *local, const xmlChar *prefix DM_UNUSED,
    const xmlChar *uri, int nns DM_UNUSED, const xmlChar **ns DM_UNUSED,
    int nattr DM_UNUSED, int ndefaulted DM_UNUSED,
    const xmlChar **attrs DM_UNUSED)
{
	struct parse_ctx	*c = arg;

	if (c->failed || c->stop)
		return;
	if (start_elem(c, (const char *)local) == -1) {
		stop(c);
		return;
	}
	if (c->depth == 1 && uri != NULL)
		c->rep.ns = dm_arena_strdup(&c->rep_arena, (const char *)uri);
}

static void
sax_end(void *arg, const xmlChar *local DM_UNUSED,
    const xmlChar *prefix DM_UNUSED, const xmlChar *uri DM_UNUSED)
{
	struct parse_ctx	*c = arg;

	if (c->failed || c->stop)
		return;
	if (end_elem(c) == -1)
		stop(c);
	else if (c->stop)
		xmlStopParser(c->pctx);	/* </feedback>: the rest is not ours */
}

static void
sax_text(void *arg, const xmlChar *s, int len)
{
	struct parse_ctx	*c = arg;

	/* mostly the white space between elements: dropped first thing */
	if (!is_leaf[c->stack[c->depth]] || c->failed || c->stop || len <= 0)
		return;
	if (add_text(c, (const char *)s, (size_t)len) == -1)
		stop(c);
}

static void
sax_doctype(void *arg, const xmlChar *name DM_UNUSED,
    const xmlChar *eid DM_UNUSED, const xmlChar *sid DM_UNUSED)
{
	struct parse_ctx	*c = arg;

	if (c->failed)
		return;
	dm_err_set(c->err, DM_EMSG, "xml: DOCTYPE refused");
	stop(c);
}

/* Entities are never looked up, let alone substituted. */
static xmlEntityPtr
sax_entity(void *arg, const xmlChar *name DM_UNUSED)
{
	struct parse_ctx	*c = arg;

	if (!c->failed) {
		dm_err_set(c->err, DM_EMSG, "xml: entity reference refused");
		stop(c);
	}
	return NULL;
}

static void
sax_reference(void *arg, const xmlChar *name)
{
	sax_entity(arg, name);
}

static void
copy(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

static void
summarise(const struct parse_ctx *c, struct parse_summary *sum)
{
	if (sum == NULL)
		return;
	memset(sum, 0, sizeof(*sum));
	copy(sum->org_name, sizeof(sum->org_name), c->rep.org_name);
	copy(sum->email, sizeof(sum->email), c->rep.email);
	copy(sum->report_id, sizeof(sum->report_id), c->rep.report_id);
	copy(sum->domain, sizeof(sum->domain), c->rep.domain);
	sum->begin = c->rep.begin;
	sum->end = c->rep.end;
	sum->records = c->handed;
	sum->messages = c->messages;
	sum->skipped = c->rep.skipped;
}

/* The parse stopped before </feedback>: say why, as precisely as we can. */
static int
reader_failed(struct parse_ctx *c, int rc)
{
	if (c->failed)
		return -1;	/* a callback set err */
	if (c->rd_failed) {
		*c->err = c->xml->err;
		if (c->err->scope == 0)
			c->err->scope = DM_EMSG;
		return -1;
	}
	if (!c->nonblank)
		return dm_err_set(c->err, DM_EMSG, "xml: empty document");
	if (c->xml_failed) {
		*c->err = c->xerr;
		return -1;
	}
	if (rc == -1)
		return dm_err_set(c->err, DM_EMSG, "xml: not well-formed");
	if (c->depth == 0)
		return dm_err_set(c->err, DM_EMSG, "xml: no root element");
	return dm_err_set(c->err, DM_EMSG,
	    "xml: document ends before </feedback>");
}

/* libxml2 pulls the document through this as it needs it. */
static int
io_read(void *arg, char *dst, int len)
{
	struct parse_ctx	*c = arg;

	if (c->stop || c->failed || len <= 0)
		return 0;
	return (int)pull(c, dst, (size_t)len);
}

/*
 * Let libxml2 pull the document from the stream: its pull parser does
 * less work per token than the push parser (no look-ahead for complete
 * tags over each chunk). Returns 0 when </feedback> closed, -1 with
 * c->err set.
 */
static int
parse_document(struct parse_ctx *c)
{
	static xmlSAXHandler	 sax;
	int			 rc;

	if (sax.initialized != XML_SAX2_MAGIC) {
		memset(&sax, 0, sizeof(sax));
		sax.initialized = XML_SAX2_MAGIC;
		sax.startElementNs = sax_start;
		sax.endElementNs = sax_end;
		sax.characters = sax_text;
		sax.cdataBlock = sax_text;
		sax.internalSubset = sax_doctype;
		sax.externalSubset = sax_doctype;
		sax.getEntity = sax_entity;
		sax.getParameterEntity = sax_entity;
		sax.reference = sax_reference;
		sax.serror = xml_error;
		/* White space between elements is text like any other (a
		   SAX parser builds no tree to tell it apart): the same
		   callback spares libxml2 its areBlanks() checks, per run. */
		sax.ignorableWhitespace = sax_text;
	}
	c->pctx = xmlCreateIOParserCtxt(&sax, c, io_read, NULL, c,
	    XML_CHAR_ENCODING_NONE);
	if (c->pctx == NULL) {
		if (c->rd_failed)
			return reader_failed(c, -1);
		return dm_err_set(c->err, DM_EINTERNAL,
		    "xml: cannot create a parser");
	}
	xmlCtxtUseOptions(c->pctx, XML_PARSE_NONET);
	c->pctx->replaceEntities = 0;
	rc = xmlParseDocument(c->pctx);
	if (c->stop && !c->failed)
		return 0;
	if (rc != 0 && !c->xml_failed && !c->failed && !c->rd_failed)
		xml_error(c, xmlCtxtGetLastError(c->pctx));
	return reader_failed(c, -1);
}

int
parse_report(struct dm_rd *xml, const struct dm_limits *lim,
    const struct report_sink *sink, struct parse_summary *sum,
    struct dm_err *err)
{
	struct parse_ctx	*c;
	struct dm_err		 scratch;
	int			 ret = -1;

	if (err == NULL)
		err = &scratch;
	dm_err_clear(err);
	c = xcalloc(1, sizeof(*c));
	c->xml = xml;
	c->lim = lim;
	c->sink = sink;
	c->err = err;
	c->stack[0] = E_DOC;
	c->rep.pct = -1;
	c->rep.errors = c->errors;
	c->text = xmalloc(DM_MAX_COMMENT + 1);
	dm_arena_init(&c->rep_arena);
	dm_arena_init(&c->rec_arena);

	if (parse_document(c) == -1)
		goto fail;
	if (sink->end(sink->arg, &c->rep, err) == -1) {
		c->begun = 0;	/* end() cleans up after itself */
		goto fail;
	}
	ret = c->dup ? 1 : 0;
	goto out;

 fail:
	if (c->begun)
		sink->abort(sink->arg, &c->rep);
 out:
	summarise(c, sum);
	if (c->pctx != NULL) {
		xmlFreeDoc(c->pctx->myDoc);	/* none: no tree is built */
		xmlFreeParserCtxt(c->pctx);
	}
	dm_arena_clear(&c->rep_arena);
	dm_arena_clear(&c->rec_arena);
	free(c->text);
	free(c);
	return ret;
}
