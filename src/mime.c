/*
 * mime.c: a mail message to its leaf parts, through GMime 3.2.
 *
 * GMime parses the whole message into a tree (its own nesting limit is
 * 1024); this file walks that tree itself, in two passes:
 *
 *  1. the survey: enforce DM_MAX_MIME_DEPTH and DM_MAX_MIME_PARTS, say
 *     what kind of message it is (info->kind, info->feedback_type) and
 *     collect the leaves in walk order;
 *  2. the delivery: decode each leaf into a capped buffer and hand it
 *     to the caller's fn.
 *
 * So a message over a bound is refused before fn sees any of it, and
 * info (kind, feedback_type, nleaves) is complete while fn runs.
 *
 * The message is parsed in place: a GMimeStreamMem over a GByteArray
 * that borrows the caller's bytes (GMime only reads them; the array
 * wrapper is freed without its data). GMime keeps part contents as
 * substreams of it, so nothing is copied until a part is decoded.
 *
 * A message/rfc822 part that GMime could not enter because it is
 * base64-, quoted-printable- or uu-encoded (GMime then gives a plain
 * GMimePart) is decoded and parsed as a message of its own, one level
 * deeper; if that fails, it is an ordinary leaf.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "mime.h"

/*
 * GMime's own costs on hostile mail, which the MIME tree bounds come too
 * late for (GMime has built the tree by then). Without these a 60 MB
 * message makes GMime take gigabytes (millions of parts, header fields
 * or addresses: some 60 times the input) or minutes (a line starting
 * with "--" is checked against every open boundary, up to 1024).
 */
#define MAX_DASH_LINES		10000		/* lines starting with "--" */
#define MAX_HEADERS		10000		/* fields, all parts together */
#define MAX_HEADER_BYTES	(1u << 20)	/* their raw values together */

/* Longest string kept in struct mime_info (bytes, UTF-8). */
#define INFO_MAX		DM_MAX_FIELD
/* Longest Feedback-Type value kept. */
#define FEEDBACK_TYPE_MAX	64

/*
 * Not in mime.h: for tests/check_mime.c, which cannot make a part that
 * decodes to more than the message it is in (every transfer encoding
 * shrinks), and so tests the cap here. Decode part's content
 * (base64, quoted-printable, uuencode undone) into out (reset first).
 * Returns 0, -1 when the decoded bytes would exceed max, -2 when the
 * content cannot be read.
 */
int	mime_decode_part(GMimePart *part, size_t max, struct buf *out);

struct walk {
	const struct dm_limits	*lim;
	struct mime_info	*info;
	GMimeParserOptions	*opts;
	GMimeObject		*leaves[DM_MAX_MIME_PARTS];
	unsigned		 nleaves;
	GPtrArray		*owned;		/* messages parsed from encoded parts */
	struct buf		 tmp;		/* decoding scratch */
	struct dm_err		*err;
	/* GMime's costs, over the message and the messages inside it */
	unsigned		 ndash;
	unsigned		 nheaders;
	size_t			 header_bytes;
	GMimeStream		*parsing;	/* the stream being parsed */
	enum { OVER_NONE, OVER_HEADERS, OVER_HEADER_BYTES } over;
};

static int	walk_object(struct walk *, GMimeObject *, unsigned);

void
mime_init(void)
{
	static gsize	 once;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

void
mime_info_clear(struct mime_info *info)
{
	if (info == NULL)
		return;
	g_free(info->message_id);
	g_free(info->subject);
	g_free(info->from);
	g_free(info->date);
	g_free(info->feedback_type);
	memset(info, 0, sizeof(*info));
}

/*
 * A copy of an untrusted header value fit to log and store: valid
 * UTF-8, controls made spaces, trimmed, at most INFO_MAX bytes (cut on
 * a character boundary); NULL when s is NULL or blank.
 */
static char *
info_str(const char *s)
{
	char	*v, *p, *end;

	if (s == NULL)
		return NULL;
	v = g_utf8_make_valid(s, -1);
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (strlen(v) > INFO_MAX) {
		/* the first byte that does not fit starts a character? */
		end = v + INFO_MAX;
		while (end > v && ((unsigned char)*end & 0xc0) == 0x80)
			end--;
		*end = '\0';
	}
	g_strstrip(v);
	if (*v == '\0') {
		g_free(v);
		return NULL;
	}
	return v;
}

/* "type/subtype" in lower case (g_free it); text/plain when missing. */
static char *
content_type_str(GMimeObject *obj)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(obj);
	const char		*type = NULL, *subtype = NULL;
	char			*s, *low;

	if (ct != NULL) {
		type = g_mime_content_type_get_media_type(ct);
		subtype = g_mime_content_type_get_media_subtype(ct);
	}
	if (type == NULL || *type == '\0' || subtype == NULL ||
	    *subtype == '\0')
		return g_strdup("text/plain");
	s = g_strdup_printf("%s/%s", type, subtype);
	low = g_ascii_strdown(s, -1);
	g_free(s);
	return low;
}

static int
is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType	*ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* The report-type parameter of a multipart/report, or NULL. */
static const char *
report_type(GMimeObject *obj)
{
	if (!is_type(obj, "multipart", "report"))
		return NULL;
	return g_mime_content_type_get_parameter(
	    g_mime_object_get_content_type(obj), "report-type");
}

/*
 * Before GMime sees p[0..len): lines that start with "--" (candidate
 * boundaries) cost GMime a part or a check against every open boundary.
 */
static int
count_dash_lines(struct walk *w, const char *p, size_t len)
{
	const char	*end, *nl;

	if (len == 0)
		return 0;	/* p may be NULL: no arithmetic on it */
	end = p + len;
	if (len >= 2 && p[0] == '-' && p[1] == '-')
		w->ndash++;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p = nl + 1;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-' &&
		    ++w->ndash > MAX_DASH_LINES)
			break;
	}
	if (w->ndash > MAX_DASH_LINES)
		return dm_err_set(w->err, DM_EMSG,
		    "mail: more than %d lines starting with --",
		    MAX_DASH_LINES);
	return 0;
}

/*
 * Called by GMime for every header field it parses, before it makes
 * anything of it. Past a bound, end the input where the parser is (it
 * finishes what it has read ahead, at most a few KiB) and empty this
 * field's value, so that GMime does not go on to parse a huge address
 * list or parameter list out of it: the value is GMime's own copy
 * (g_strdup'ed in gmime-parser.c), and the message is refused anyway.
 */
static void
header_seen(GMimeParser *parser, const char *name, const char *value,
    gint64 offset, gpointer arg)
{
	struct walk	*w = arg;

	(void)parser;
	(void)name;
	(void)offset;
	if (value == NULL)
		return;
	if (++w->nheaders > MAX_HEADERS && w->over == OVER_NONE)
		w->over = OVER_HEADERS;
	else if ((w->header_bytes += strlen(value)) > MAX_HEADER_BYTES &&
	    w->over == OVER_NONE)
		w->over = OVER_HEADER_BYTES;
	if (w->over == OVER_NONE)
		return;
	g_mime_stream_set_bounds(w->parsing, 0, g_mime_stream_tell(w->parsing));
	((char *)(uintptr_t)value)[0] = '\0';
}

/* Header fields of msg: its Content-* fields are its MIME part's. */
static int
header_count(GMimeMessage *msg)
{
	GMimeObject	*top = g_mime_message_get_mime_part(msg);
	int		 n;

	n = g_mime_header_list_get_count(
	    g_mime_object_get_header_list(GMIME_OBJECT(msg)));
	if (top != NULL)
		n += g_mime_header_list_get_count(
		    g_mime_object_get_header_list(top));
	return n;
}

/*
 * Parse a message from stream, within the bounds above. NULL when it is
 * not a message, or over a bound (w->over set, w->err too).
 */
static GMimeMessage *
parse_message(struct walk *w, GMimeStream *stream)
{
	GMimeParser	*parser;
	GMimeMessage	*msg;

	w->parsing = stream;
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_header_regex(parser, "^", header_seen, w);
	msg = g_mime_parser_construct_message(parser, w->opts);
	g_object_unref(parser);
	w->parsing = NULL;
	if (w->over == OVER_NONE) {
		/* no header at all: GMime takes any text after a blank line */
		if (msg != NULL && header_count(msg) == 0) {
			g_object_unref(msg);
			msg = NULL;
		}
		return msg;
	}
	if (msg != NULL)
		g_object_unref(msg);
	if (w->over == OVER_HEADERS)
		dm_err_set(w->err, DM_EMSG, "mail: more than %d header fields",
		    MAX_HEADERS);
	else
		dm_err_set(w->err, DM_EMSG, "mail: header fields over %u bytes",
		    MAX_HEADER_BYTES);
	return NULL;
}

int
mime_decode_part(GMimePart *part, size_t max, struct buf *out)
{
	GMimeDataWrapper	*wrapper;
	GMimeStream		*src, *in;
	GMimeFilter		*filter;
	GMimeContentEncoding	 enc;
	char			 chunk[16384];
	ssize_t			 n;
	int			 rc = 0, idle = 0;

	buf_reset(out);
	out->max = max;
	if ((wrapper = g_mime_part_get_content(part)) == NULL ||
	    (src = g_mime_data_wrapper_get_stream(wrapper)) == NULL)
		return 0;		/* no content at all */
	enc = g_mime_data_wrapper_get_encoding(wrapper);
	g_mime_stream_reset(src);
	switch (enc) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
	case GMIME_CONTENT_ENCODING_UUENCODE:
		in = g_mime_stream_filter_new(src);
		filter = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(in), filter);
		g_object_unref(filter);
		break;
	default:
		in = g_object_ref(src);
		break;
	}
	/* As g_mime_stream_write_to_stream(), but into a capped buffer. */
	while (!g_mime_stream_eos(in)) {
		if ((n = g_mime_stream_read(in, chunk, sizeof(chunk))) < 0) {
			rc = -2;
			break;
		}
		if (n == 0 && ++idle > 2)
			break;		/* no progress and no end: not ours */
		if (n > 0 && buf_add(out, chunk, (size_t)n) == -1) {
			rc = -1;
			break;
		}
	}
	g_object_unref(in);
	g_mime_stream_reset(src);
	return rc;
}

/* Decode the part whose leaf number is idx into w->tmp, or set w->err. */
static int
decode(struct walk *w, GMimePart *part, unsigned idx)
{
	switch (mime_decode_part(part, w->lim->max_message, &w->tmp)) {
	case 0:
		return 0;
	case -1:
		return dm_err_set(w->err, DM_EMSG, "mail: part %u over %zu bytes",
		    idx, w->lim->max_message);
	default:
		return dm_err_set(w->err, DM_EMSG,
		    "mail: part %u cannot be decoded", idx);
	}
}

/*
 * The Feedback-Type field of a message/feedback-report body (RFC 5965
 * section 3.1), lower case, or NULL when missing or not a token.
 */
static char *
feedback_type(const char *p, size_t len)
{
	static const char	 name[] = "Feedback-Type";
	const char		*end = p + len, *eol, *q, *v;
	size_t			 n;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) <= sizeof(name) - 1 ||
		    g_ascii_strncasecmp(p, name, sizeof(name) - 1) != 0)
			continue;
		q = p + sizeof(name) - 1;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q == eol || *q++ != ':')
			continue;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		for (v = q; q < eol && (g_ascii_isalnum(*q) || *q == '-' ||
		    *q == '_' || *q == '.'); q++)
			;
		n = (size_t)(q - v);
		if (n == 0 || n > FEEDBACK_TYPE_MAX)
			return NULL;
		return g_ascii_strdown(v, (gssize)n);
	}
	return NULL;
}

/* First evidence in walk order decides the kind. */
static void
set_kind(struct walk *w, enum mime_kind kind)
{
	if (w->info->kind == MIME_PLAIN)
		w->info->kind = kind;
}

/* What a message's own Content-Type says it is. */
static void
message_kind(struct walk *w, GMimeObject *top)
{
	const char	*rt = report_type(top);

	if (rt == NULL)
		return;
	if (g_ascii_strcasecmp(rt, "feedback-report") == 0)
		set_kind(w, MIME_FEEDBACK);
	else if (g_ascii_strcasecmp(rt, "tlsrpt") == 0)
		set_kind(w, MIME_TLSRPT);
}

static int
walk_message(struct walk *w, GMimeMessage *msg, unsigned depth)
{
	GMimeObject	*top = g_mime_message_get_mime_part(msg);

	if (top == NULL)
		return 0;
	message_kind(w, top);
	return walk_object(w, top, depth);
}

static int
is_message_type(GMimeObject *obj)
{
	return is_type(obj, "message", "rfc822") ||
	    is_type(obj, "message", "global") ||
	    is_type(obj, "message", "rfc2822") ||
	    is_type(obj, "message", "news");
}

/*
 * An encoded message/rfc822 leaf: parse its decoded content as a
 * message. Returns the message (kept in w->owned), NULL when it is not
 * one; -1 through *rc on error.
 */
static GMimeMessage *
parse_encoded_message(struct walk *w, GMimePart *part, int *rc)
{
	GMimeStream	*stream;
	GMimeMessage	*msg;

	*rc = 0;
	if (decode(w, part, w->nleaves + 1) == -1 ||
	    count_dash_lines(w, w->tmp.data, w->tmp.len) == -1) {
		*rc = -1;
		return NULL;
	}
	if (w->tmp.len == 0)
		return NULL;
	stream = g_mime_stream_mem_new_with_buffer(w->tmp.data, w->tmp.len);
	msg = parse_message(w, stream);
	g_object_unref(stream);
	if (w->over != OVER_NONE) {
		*rc = -1;
		return NULL;
	}
	if (msg == NULL)
		return NULL;
	g_ptr_array_add(w->owned, msg);
	return msg;
}

static int
walk_leaf(struct walk *w, GMimePart *part, unsigned depth)
{
	GMimeObject	*obj = GMIME_OBJECT(part);
	GMimeMessage	*inner;
	int		 rc;

	if (is_message_type(obj)) {
		if (depth + 1 > DM_MAX_MIME_DEPTH)
			return dm_err_set(w->err, DM_EMSG,
			    "mail: MIME nesting deeper than %d",
			    DM_MAX_MIME_DEPTH);
		inner = parse_encoded_message(w, part, &rc);
		if (rc == -1)
			return -1;
		if (inner != NULL)
			return walk_message(w, inner, depth + 1);
	}

	if (w->nleaves == DM_MAX_MIME_PARTS)
		return dm_err_set(w->err, DM_EMSG, "mail: more than %d parts",
		    DM_MAX_MIME_PARTS);
	w->leaves[w->nleaves++] = obj;

	if (is_type(obj, "message", "feedback-report")) {
		set_kind(w, MIME_FEEDBACK);
		if (w->info->feedback_type == NULL) {
			if (decode(w, part, w->nleaves) == -1)
				return -1;
			w->info->feedback_type = feedback_type(w->tmp.data,
			    w->tmp.len);
		}
	} else if (is_type(obj, "application", "tlsrpt+gzip") ||
	    is_type(obj, "application", "tlsrpt+json"))
		set_kind(w, MIME_TLSRPT);
	return 0;
}

/* obj sits inside depth containers (multiparts, message parts). */
static int
walk_object(struct walk *w, GMimeObject *obj, unsigned depth)
{
	GMimeMultipart	*mp;
	GMimeMessage	*inner;
	int		 i, n;

	if (GMIME_IS_MULTIPART(obj) || GMIME_IS_MESSAGE_PART(obj)) {
		if (depth + 1 > DM_MAX_MIME_DEPTH)
			return dm_err_set(w->err, DM_EMSG,
			    "mail: MIME nesting deeper than %d",
			    DM_MAX_MIME_DEPTH);
	}
	if (GMIME_IS_MULTIPART(obj)) {
		mp = GMIME_MULTIPART(obj);
		n = g_mime_multipart_get_count(mp);
		for (i = 0; i < n; i++)
			if (walk_object(w, g_mime_multipart_get_part(mp, i),
			    depth + 1) == -1)
				return -1;
		return 0;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		inner = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		return inner == NULL ? 0 : walk_message(w, inner, depth + 1);
	}
	if (GMIME_IS_PART(obj))
		return walk_leaf(w, GMIME_PART(obj), depth);
	return 0;			/* no other kind in GMime 3.2 */
}

static void
fill_info(struct mime_info *info, GMimeMessage *msg)
{
	InternetAddressList	*from;
	char			*s;

	info->message_id = info_str(g_mime_message_get_message_id(msg));
	info->subject = info_str(g_mime_message_get_subject(msg));
	info->date = info_str(g_mime_object_get_header(GMIME_OBJECT(msg),
	    "Date"));
	from = g_mime_message_get_from(msg);
	if (from != NULL && internet_address_list_length(from) > 0) {
		s = internet_address_list_to_string(from, NULL, FALSE);
		info->from = info_str(s);
		g_free(s);
	}
	if (info->from == NULL)
		info->from = info_str(g_mime_object_get_header(
		    GMIME_OBJECT(msg), "From"));
}

static int
deliver(struct walk *w, mime_fn fn, void *arg)
{
	struct mime_part	 part;
	GMimePart		*leaf;
	char			*ct;
	unsigned		 i;
	int			 rc;

	for (i = 0; i < w->nleaves; i++) {
		leaf = GMIME_PART(w->leaves[i]);
		if (decode(w, leaf, i + 1) == -1)
			return -1;
		ct = content_type_str(w->leaves[i]);
		part.index = i + 1;
		part.content_type = ct;
		part.filename = g_mime_part_get_filename(leaf);
		part.data = w->tmp.len > 0 ?
		    (const unsigned char *)w->tmp.data :
		    (const unsigned char *)"";
		part.len = w->tmp.len;
		rc = fn(arg, &part, w->err);
		g_free(ct);
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
mime_parse(const unsigned char *msg, size_t len, const struct dm_limits *lim,
    struct mime_info *info, mime_fn fn, void *arg, struct dm_err *err)
{
	struct walk		 w;
	GByteArray		*bytes = NULL;
	GMimeStream		*stream = NULL;
	GMimeMessage		*message = NULL;
	int			 rc = -1;

	memset(info, 0, sizeof(*info));
	memset(&w, 0, sizeof(w));
	w.lim = lim;
	w.info = info;
	w.err = err;
	buf_init(&w.tmp, lim->max_message);

	if (len > lim->max_message)
		return dm_err_set(err, DM_EMSG, "mail: message over %zu bytes",
		    lim->max_message);
	if (len > G_MAXUINT)		/* a GByteArray's length is a guint */
		return dm_err_set(err, DM_EMSG, "mail: message over %u bytes",
		    G_MAXUINT);
	if (msg == NULL || len == 0)
		return dm_err_set(err, DM_EMSG, "mail: not a mail message");
	if (count_dash_lines(&w, (const char *)msg, len) == -1)
		return -1;

	mime_init();
	w.opts = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(w.opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(w.opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(w.opts,
	    GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_allow_addresses_without_domain(w.opts, TRUE);
	w.owned = g_ptr_array_new_with_free_func(g_object_unref);

	/* Borrowed, read only: never written, never freed through bytes. */
	bytes = g_byte_array_new_take((guint8 *)(uintptr_t)msg, len);
	stream = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	message = parse_message(&w, stream);
	if (w.over != OVER_NONE)
		goto out;
	if (message == NULL) {
		dm_err_set(err, DM_EMSG, "mail: not a mail message");
		goto out;
	}

	fill_info(info, message);
	rc = walk_message(&w, message, 0);
	info->nleaves = w.nleaves;
	if (rc == -1)
		goto out;
	rc = -1;
	if (fn != NULL && deliver(&w, fn, arg) == -1)
		goto out;
	rc = 0;
out:
	/* The trees hold substreams of stream: drop them first. */
	g_ptr_array_free(w.owned, TRUE);
	if (message != NULL)
		g_object_unref(message);
	if (stream != NULL)
		g_object_unref(stream);
	if (bytes != NULL)
		g_byte_array_free(bytes, FALSE);	/* the wrapper only */
	g_mime_parser_options_free(w.opts);
	buf_clear(&w.tmp);
	return rc;
}
