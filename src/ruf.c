/*
 * ruf.c: failure (ruf) reports, RFC 5965 / 6591. The feedback part is
 * read by a small header parser of our own (so the fuzzer can drive it
 * without GMime); GMime only finds the parts of the whole message.
 * Everything read is bounded and made valid UTF-8 before it is kept:
 * these values go to the database and to terminals.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "ruf.h"
#include "util.h"

/* One header field, unfolded; borrowed for the callback. */
typedef int	(*field_fn)(void *arg, const char *name, const char *value,
		    struct dm_err *err);

/*
 * A copy of s[0..n) that is valid UTF-8 without control bytes (TAB is
 * kept, and with lines CR and LF): anything else becomes '?'.
 */
static char *
clean_text(const char *s, size_t n, int lines)
{
	char	*out = xmalloc(n + 1);
	size_t	 i = 0, k;

	while (i < n) {
		k = dm_utf8_dec((const unsigned char *)s + i, n - i, NULL);
		if (k == 0 || (k == 1 && (((unsigned char)s[i] < 0x20 &&
		    s[i] != '\t' && !(lines && (s[i] == '\n' ||
		    s[i] == '\r'))) || s[i] == 0x7f))) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, k);
		i += k;
	}
	out[n] = '\0';
	return out;
}

static char *
clean_dup(const char *s, size_t n)
{
	return clean_text(s, n, 0);
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * Walk the header block p[0..len): call fn per field with its value
 * unfolded (each fold is one space) and trimmed. Lines without a colon
 * are skipped. With strict, a field over DM_MAX_RUF_VALUE, more than
 * DM_MAX_RUF_FIELDS fields or a NUL are errors (the feedback part);
 * otherwise long values are cut and the walk stops at the field limit
 * (the original's headers, which we only sample). Blank lines end the
 * block unless strict (some reporters put one before the fields).
 * *end (may be NULL) gets the offset just past the block.
 */
static int
walk_fields(const unsigned char *p, size_t len, int strict, field_fn fn,
    void *arg, size_t *end, struct dm_err *err)
{
	char		*val, name[80];
	size_t		 i = 0, ll, vl = 0, nl, nfields = 0, k;
	const char	*line, *c;
	int		 have = 0, rc = -1;

	if (len == 0)
		p = (const unsigned char *)"";	/* an empty part: NULL */
	if (strict && memchr(p, '\0', len) != NULL)
		return dm_err_set(err, DM_EMSG, "ruf: NUL byte in the "
		    "feedback report");
	val = xmalloc(DM_MAX_RUF_VALUE + 1);
	name[0] = '\0';
	for (;;) {
		line = (const char *)p + i;
		if (i < len) {
			c = memchr(line, '\n', len - i);
			ll = c != NULL ? (size_t)(c - line) : len - i;
			i += ll + (c != NULL);
			if (ll > 0 && line[ll - 1] == '\r')
				ll--;
		} else
			ll = 0;
		/* a continuation line */
		if (i <= len && ll > 0 && is_wsp(line[0]) && have) {
			while (ll > 0 && is_wsp(*line)) {
				line++;
				ll--;
			}
			if (ll == 0)
				continue;
			if (vl + 1 + ll > DM_MAX_RUF_VALUE) {
				if (strict) {
					dm_err_set(err, DM_EMSG, "ruf: field "
					    "%s longer than %u bytes", name,
					    DM_MAX_RUF_VALUE);
					goto out;
				}
				continue;
			}
			if (vl > 0)
				val[vl++] = ' ';
			memcpy(val + vl, line, ll);
			vl += ll;
			continue;
		}
		if (have) {
			while (vl > 0 && is_wsp(val[vl - 1]))
				vl--;
			val[vl] = '\0';
			if (fn(arg, name, val, err) == -1)
				goto out;
			have = 0;
		}
		if (ll == 0) {
			if (i >= len || !strict)
				break;
			continue;
		}
		c = memchr(line, ':', ll);
		nl = c != NULL ? (size_t)(c - line) : 0;
		while (nl > 0 && is_wsp(line[nl - 1]))
			nl--;
		if (c == NULL || nl == 0 || nl >= sizeof(name))
			continue;	/* not a field: skip it */
		for (k = 0; k < nl; k++)
			if ((unsigned char)line[k] <= 32 ||
			    (unsigned char)line[k] >= 127)
				break;
		if (k < nl)
			continue;
		if (++nfields > DM_MAX_RUF_FIELDS) {
			if (strict) {
				dm_err_set(err, DM_EMSG, "ruf: more than %u "
				    "fields", DM_MAX_RUF_FIELDS);
				goto out;
			}
			break;
		}
		memcpy(name, line, nl);
		name[nl] = '\0';
		c++;
		ll -= (size_t)(c - line);
		while (ll > 0 && is_wsp(*c)) {
			c++;
			ll--;
		}
		if (ll > DM_MAX_RUF_VALUE) {
			if (strict) {
				dm_err_set(err, DM_EMSG, "ruf: field %s "
				    "longer than %u bytes", name,
				    DM_MAX_RUF_VALUE);
				goto out;
			}
			ll = DM_MAX_RUF_VALUE;
		}
		memcpy(val, c, ll);
		vl = ll;
		have = 1;
	}
	if (end != NULL)
		*end = i;
	rc = 0;
 out:
	free(val);
	return rc;
}

static void
list_clear(struct ruf_list *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
ruf_report_init(struct ruf_report *r)
{
	memset(r, 0, sizeof(*r));
	r->incidents = -1;
}

void
ruf_report_clear(struct ruf_report *r)
{
	char	**s[] = { &r->reporter, &r->feedback_type, &r->user_agent, &r->version,
		    &r->original_mail_from, &r->original_envelope_id,
		    &r->arrival_date_raw, &r->reporting_mta, &r->source_ip,
		    &r->source_ip_raw, &r->auth_failure, &r->delivery_result,
		    &r->identity_alignment, &r->dkim_domain,
		    &r->dkim_identity, &r->dkim_selector, &r->spf_dns,
		    &r->orig_from, &r->orig_to, &r->orig_subject,
		    &r->orig_date, &r->orig_message_id, &r->orig_headers };
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		free(*s[i]);
	list_clear(&r->original_rcpt_to);
	list_clear(&r->authentication_results);
	list_clear(&r->reported_domain);
	list_clear(&r->reported_uri);
	free(r->orig_body);
	ruf_report_init(r);
}

/* An address without its <> and white space, cleaned. */
static char *
addr_dup(const char *v)
{
	size_t	 n = strlen(v);

	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	while (n > 0 && is_wsp(*v)) {
		v++;
		n--;
	}
	while (n > 0 && is_wsp(v[n - 1]))
		n--;
	return clean_dup(v, n);
}

/* Keep the first value of a single field; later ones are ignored. */
static void
set_once(char **dst, char *v)
{
	if (*dst == NULL)
		*dst = v;
	else
		free(v);
}

static int
list_add(struct ruf_list *l, char *v, const char *name, struct dm_err *err)
{
	if (l->n == DM_MAX_RUF_MULTI) {
		free(v);
		return dm_err_set(err, DM_EMSG, "ruf: more than %u %s "
		    "fields", DM_MAX_RUF_MULTI, name);
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = v;
	return 0;
}

/* RFC 6591's Delivery-Result values; vendors' others map to "other". */
static char *
delivery_result(const char *v)
{
	static const char *const known[] = { "delivered", "spam",
		"policy", "reject", "other" };
	size_t	 i, n = strcspn(v, " \t;(");

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && strncasecmp(v, known[i], n) == 0)
			return xstrdup(known[i]);
	if ((n == 8 && strncasecmp(v, "rejected", 8) == 0))
		return xstrdup("reject");
	if ((n == 10 && strncasecmp(v, "quarantine", 10) == 0) ||
	    (n == 4 && strncasecmp(v, "junk", 4) == 0))
		return xstrdup("spam");
	return xstrdup("other");
}

/* "192.0.2.1", "[192.0.2.1]", "192.0.2.1 (host.example)". */
static char *
source_ip(const char *v)
{
	char	 tmp[64], out[64];
	size_t	 n;

	if (*v == '[')
		v++;
	n = strcspn(v, " \t]()");
	if (n == 0 || n >= sizeof(tmp))
		return NULL;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (dm_canon_ip(tmp, out, sizeof(out)) == -1)
		return NULL;
	return xstrdup(out);
}

static int
on_feedback(void *arg, const char *name, const char *v, struct dm_err *err)
{
	struct ruf_report	*r = arg;
	uint64_t		 u;
	char			*s;

#define IS(x)	(strcasecmp(name, (x)) == 0)
	if (IS("Feedback-Type"))
		set_once(&r->feedback_type, dm_lower(clean_dup(v,
		    strlen(v))));
	else if (IS("User-Agent"))
		set_once(&r->user_agent, clean_dup(v, strlen(v)));
	else if (IS("Version"))
		set_once(&r->version, clean_dup(v, strlen(v)));
	else if (IS("Original-Mail-From"))
		set_once(&r->original_mail_from, addr_dup(v));
	else if (IS("Original-Rcpt-To"))
		return list_add(&r->original_rcpt_to, addr_dup(v), name, err);
	else if (IS("Original-Envelope-Id"))
		set_once(&r->original_envelope_id, clean_dup(v, strlen(v)));
	else if (IS("Arrival-Date") || IS("Received-Date")) {
		if (r->arrival_date_raw != NULL)
			return 0;
		r->arrival_date_raw = clean_dup(v, strlen(v));
		r->has_arrival_date = ruf_parse_date(v, &r->arrival_date) == 0;
	} else if (IS("Reporting-MTA"))
		set_once(&r->reporting_mta, clean_dup(v, strlen(v)));
	else if (IS("Source-IP")) {
		if (r->source_ip_raw != NULL)
			return 0;
		r->source_ip_raw = clean_dup(v, strlen(v));
		r->source_ip = source_ip(v);
	} else if (IS("Incidents")) {
		if (r->incidents == -1 && dm_parse_u64(v, INT32_MAX, &u) == 0)
			r->incidents = (int64_t)u;
	} else if (IS("Authentication-Results"))
		return list_add(&r->authentication_results,
		    clean_dup(v, strlen(v)), name, err);
	else if (IS("Auth-Failure"))
		set_once(&r->auth_failure, dm_lower(clean_dup(v, strlen(v))));
	else if (IS("Delivery-Result"))
		set_once(&r->delivery_result, delivery_result(v));
	else if (IS("Identity-Alignment"))
		set_once(&r->identity_alignment, dm_lower(clean_dup(v,
		    strlen(v))));
	else if (IS("DKIM-Domain"))
		set_once(&r->dkim_domain, dm_lower(clean_dup(v, strlen(v))));
	else if (IS("DKIM-Identity"))
		set_once(&r->dkim_identity, clean_dup(v, strlen(v)));
	else if (IS("DKIM-Selector"))
		set_once(&r->dkim_selector, clean_dup(v, strlen(v)));
	else if (IS("SPF-DNS"))
		set_once(&r->spf_dns, clean_dup(v, strlen(v)));
	else if (IS("Reported-Domain")) {
		s = dm_lower(clean_dup(v, strlen(v)));
		return list_add(&r->reported_domain, s, name, err);
	} else if (IS("Reported-URI"))
		return list_add(&r->reported_uri, clean_dup(v, strlen(v)),
		    name, err);
#undef IS
	return 0;
}

int
ruf_parse_feedback(const unsigned char *p, size_t len, struct ruf_report *r,
    struct dm_err *err)
{
	if (len > DM_MAX_RUF_PART)
		return dm_err_set(err, DM_EMSG, "ruf: feedback report over "
		    "%u bytes", DM_MAX_RUF_PART);
	if (walk_fields(p, len, 1, on_feedback, r, NULL, err) == -1)
		return -1;
	if (r->feedback_type == NULL || r->feedback_type[0] == '\0')
		return dm_err_set(err, DM_EMSG, "ruf: no Feedback-Type in "
		    "the feedback report");
	return 0;
}

static char *
decoded_text(const char *v)
{
	char	*d, *s;

	d = g_mime_utils_header_decode_text(NULL, v);
	if (d == NULL)
		return clean_dup(v, strlen(v));
	s = clean_dup(d, strlen(d));
	g_free(d);
	return s;
}

static int
on_original(void *arg, const char *name, const char *v, struct dm_err *err)
{
	struct ruf_report	*r = arg;
	char			*s;

	(void)err;
	if (strcasecmp(name, "From") == 0)
		set_once(&r->orig_from, decoded_text(v));
	else if (strcasecmp(name, "To") == 0)
		set_once(&r->orig_to, decoded_text(v));
	else if (strcasecmp(name, "Subject") == 0)
		set_once(&r->orig_subject, decoded_text(v));
	else if (strcasecmp(name, "Date") == 0)
		set_once(&r->orig_date, clean_dup(v, strlen(v)));
	else if (strcasecmp(name, "Message-ID") == 0) {
		s = addr_dup(v);
		set_once(&r->orig_message_id, s);
	}
	return 0;
}

int
ruf_parse_original(const unsigned char *p, size_t len, int flags,
    struct ruf_report *r, struct dm_err *err)
{
	size_t	 end = 0, hl, bl;

	if (r->has_original)
		return 0;
	if (walk_fields(p, len, 0, on_original, r, &end, err) == -1)
		return -1;
	r->has_original = 1;
	r->orig_headers_only = (flags & RUF_HEADERS_ONLY) != 0;
	hl = end;
	if (hl > DM_MAX_RUF_HEADERS) {
		hl = DM_MAX_RUF_HEADERS;
		while (hl > 0 && p[hl - 1] != '\n')
			hl--;
	}
	/* the header block without the blank line that ends it */
	while (hl > 0 && (p[hl - 1] == '\n' || p[hl - 1] == '\r'))
		hl--;
	r->orig_headers = clean_text((const char *)p, hl, 1);
	if ((flags & RUF_KEEP_BODY) && !(flags & RUF_HEADERS_ONLY) &&
	    end < len) {
		bl = len - end;
		if (bl > DM_MAX_RUF_BODY)
			bl = DM_MAX_RUF_BODY;
		r->orig_body = xmalloc(bl);
		memcpy(r->orig_body, p + end, bl);
		r->orig_body_len = bl;
	}
	return 0;
}

/* Epoch seconds of a GDateTime, then unref it. */
static int
take_time(GDateTime *dt, int64_t *t)
{
	int	 y;

	if (dt == NULL)
		return -1;
	y = g_date_time_get_year(dt);
	*t = g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	return y < 1980 || y > 2200 ? -1 : 0;
}

int
ruf_parse_date(const char *s, int64_t *t)
{
	GTimeZone	*utc;
	GDateTime	*dt;
	char		 tmp[128];
	size_t		 n;

	while (is_wsp(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_wsp(s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* ISO 8601: "2019-04-30T02:09:00Z", "2019-04-30 02:09:00 +0000" */
	if (n >= 10 && isdigit((unsigned char)tmp[0]) && tmp[4] == '-') {
		char	 iso[128];
		size_t	 i, k = 0;

		for (i = 0; i < n && k + 1 < sizeof(iso); i++) {
			if (tmp[i] == ' ' && i == 10)
				iso[k++] = 'T';
			else if (tmp[i] != ' ')
				iso[k++] = tmp[i];
		}
		iso[k] = '\0';
		utc = g_time_zone_new_utc();
		dt = g_date_time_new_from_iso8601(iso, utc);
		g_time_zone_unref(utc);
		if (dt != NULL)
			return take_time(dt, t);
	}
	/* GMime's RFC 5322 reader also takes obsolete and broken forms */
	if (strpbrk(tmp, "0123456789") == NULL)
		return -1;
	dt = g_mime_utils_header_decode_date(tmp);
	return take_time(dt, t);
}

/* The decoded content of a leaf part into out (bounded). */
static int
decode_part(GMimePart *part, size_t max, struct buf *out)
{
	GMimeDataWrapper	*dw;
	GMimeStream		*s;
	GByteArray		*ba;
	int			 rc = 0;

	buf_reset(out);
	dw = g_mime_part_get_content(part);
	if (dw == NULL)
		return 0;
	s = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(dw, s) == -1)
		rc = -1;
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	if (rc == 0 && (ba->len > max || buf_add(out, ba->data,
	    ba->len) == -1))
		rc = -1;
	g_object_unref(s);
	return rc;
}

struct find {
	struct ruf_report	*r;
	int			 flags;
	int			 feedback;	/* parts seen */
	struct buf		 tmp;
	struct dm_err		*err;
};

static int
is_ct(GMimeObject *obj, const char *type, const char *sub)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, sub);
}

static int
find_parts(struct find *f, GMimeObject *obj, unsigned depth)
{
	GMimeMultipart	*mp;
	GMimeMessage	*inner;
	char		*s;
	int		 i, n, rc;

	if (depth > DM_MAX_MIME_DEPTH)
		return dm_err_set(f->err, DM_EMSG, "ruf: MIME nesting "
		    "deeper than %d", DM_MAX_MIME_DEPTH);
	if (GMIME_IS_MULTIPART(obj)) {
		mp = GMIME_MULTIPART(obj);
		n = g_mime_multipart_get_count(mp);
		if (n > DM_MAX_MIME_PARTS)
			n = DM_MAX_MIME_PARTS;
		for (i = 0; i < n; i++)
			if (find_parts(f, g_mime_multipart_get_part(mp, i),
			    depth + 1) == -1)
				return -1;
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		/* the original; never entered: it may be anything */
		inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		if (inner == NULL || f->r->has_original)
			return 0;
		s = g_mime_object_to_string(GMIME_OBJECT(inner), NULL);
		if (s == NULL)
			return 0;
		rc = ruf_parse_original((unsigned char *)s, strlen(s),
		    f->flags & ~RUF_HEADERS_ONLY, f->r, f->err);
		g_free(s);
		return rc;
	}
	if (!GMIME_IS_PART(obj))
		return 0;
	if (is_ct(obj, "message", "feedback-report")) {
		if (f->feedback++ > 0)
			return 0;
		if (decode_part(GMIME_PART(obj), DM_MAX_RUF_PART,
		    &f->tmp) == -1)
			return dm_err_set(f->err, DM_EMSG, "ruf: feedback "
			    "report over %u bytes", DM_MAX_RUF_PART);
		return ruf_parse_feedback((unsigned char *)f->tmp.data,
		    f->tmp.len, f->r, f->err);
	}
	if (f->r->has_original)
		return 0;
	if (is_ct(obj, "text", "rfc822-headers") ||
	    is_ct(obj, "message", "rfc822")) {
		if (decode_part(GMIME_PART(obj), (size_t)-1 / 2,
		    &f->tmp) == -1)
			return 0;
		return ruf_parse_original((unsigned char *)f->tmp.data,
		    f->tmp.len, is_ct(obj, "text", "rfc822-headers") ?
		    (f->flags | RUF_HEADERS_ONLY) : f->flags, f->r, f->err);
	}
	return 0;
}

/* The first address of the report's From:, lower case, or NULL. */
static char *
reporter_of(GMimeMessage *m)
{
	InternetAddressList	*from = g_mime_message_get_from(m);
	InternetAddress		*ia;
	const char		*addr;

	if (from == NULL || internet_address_list_length(from) == 0)
		return NULL;
	ia = internet_address_list_get_address(from, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
		return NULL;
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (addr == NULL || *addr == '\0' || strlen(addr) > DM_MAX_FIELD)
		return NULL;
	return dm_lower(clean_dup(addr, strlen(addr)));
}

/* "local@domain" to "sha256:<hex of local>@domain" (new string). */
static char *
hash_addr(const char *a)
{
	const char	*at = strrchr(a, '@');
	char		 hex[65], *out;
	size_t		 n;

	if (*a == '\0')
		return xstrdup(a);	/* the null sender stays "" */
	n = at != NULL ? (size_t)(at - a) : strlen(a);
	dm_sha256_hex(a, n, hex);
	n = strlen(hex) + 8 + (at != NULL ? strlen(at) : 0) + 1;
	out = xmalloc(n);
	snprintf(out, n, "sha256:%s%s", hex, at != NULL ? at : "");
	return out;
}

static void
hash_in_place(char **s)
{
	char	*h;

	if (*s == NULL)
		return;
	h = hash_addr(*s);
	free(*s);
	*s = h;
}

/* An address header ("A <a@b>, c@d") to its hashed addr-specs. */
static void
hash_header(char **s)
{
	InternetAddressList	*l;
	InternetAddress		*ia;
	struct buf		 b;
	char			*h;
	int			 i, n;

	if (*s == NULL)
		return;
	buf_init(&b, DM_MAX_RUF_VALUE * 8);
	l = internet_address_list_parse(NULL, *s);
	n = l != NULL ? internet_address_list_length(l) : 0;
	for (i = 0; i < n; i++) {
		ia = internet_address_list_get_address(l, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		h = hash_addr(internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia)));
		buf_printf(&b, "%s%s", b.len > 0 ? ", " : "", h);
		free(h);
	}
	if (l != NULL)
		g_object_unref(l);
	free(*s);
	*s = clean_dup(b.len > 0 ? b.data : "", b.len);
	buf_clear(&b);
}

void
ruf_hash_local_parts(struct ruf_report *r)
{
	size_t	 i;

	hash_in_place(&r->original_mail_from);
	for (i = 0; i < r->original_rcpt_to.n; i++)
		hash_in_place(&r->original_rcpt_to.v[i]);
	hash_header(&r->orig_from);
	hash_header(&r->orig_to);
	free(r->orig_headers);
	r->orig_headers = NULL;
}

void
ruf_drop_original(struct ruf_report *r)
{
	char	**s[] = { &r->orig_from, &r->orig_to, &r->orig_subject,
		    &r->orig_date, &r->orig_message_id, &r->orig_headers };
	size_t	 i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	free(r->orig_body);
	r->orig_body = NULL;
	r->orig_body_len = 0;
	r->has_original = 0;
	r->orig_headers_only = 0;
}

int
ruf_parse_message(const unsigned char *msg, size_t len,
    const struct dm_limits *lim, int flags, struct ruf_report *r,
    struct dm_err *err)
{
	GMimeStream	*stream;
	GMimeParser	*parser;
	GMimeMessage	*m;
	GMimeObject	*top;
	struct find	 f;
	int		 rc = -1;

	if (len > lim->max_message)
		return dm_err_set(err, DM_EMSG, "ruf: message over %zu bytes",
		    lim->max_message);
	memset(&f, 0, sizeof(f));
	f.r = r;
	f.flags = flags;
	f.err = err;
	buf_init(&f.tmp, lim->max_message);
	stream = g_mime_stream_mem_new_with_buffer((const char *)msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	m = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (m == NULL) {
		dm_err_set(err, DM_EMSG, "ruf: not a mail message");
		goto out;
	}
	r->reporter = reporter_of(m);
	top = g_mime_message_get_mime_part(m);
	if (top != NULL && find_parts(&f, top, 0) == -1)
		goto out;
	if (f.feedback == 0) {
		dm_err_set(err, DM_EMSG, "ruf: no message/feedback-report "
		    "part");
		goto out;
	}
	rc = 0;
 out:
	if (m != NULL)
		g_object_unref(m);
	buf_clear(&f.tmp);
	return rc;
}
