/*
 * check_ruf.c: failure (ruf) reports (src/ruf.c).
 *
 * The failure samples in tests/data/samples/ (see the README.md there)
 * with exact field values; hand-made feedback parts (folding, CRLF,
 * missing fields, odd dates), each run with LF and with CRLF; the bounds.
 */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "bounds.h"
#include "buf.h"
#include "config.h"
#include "mime.h"
#include "ruf.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static void
str_eq(const char *got, const char *want, const char *what)
{
	if (want == NULL)
		ck_assert_msg(got == NULL, "%s: want NULL, got \"%s\"", what,
		    got);
	else {
		ck_assert_msg(got != NULL, "%s: want \"%s\", got NULL", what,
		    want);
		ck_assert_msg(strcmp(got, want) == 0, "%s: want \"%s\", got "
		    "\"%s\"", what, want, got);
	}
}

static const char *
first(const struct ruf_list *l)
{
	return l->n > 0 ? l->v[0] : NULL;
}

/* --- the samples ------------------------------------------------------ */

struct sample {
	const char	*dir, *file;
	const char	*feedback_type, *user_agent, *version;
	const char	*mail_from, *rcpt_to;
	int64_t		 arrival;	/* -1: none */
	const char	*source_ip, *auth_failure, *delivery_result;
	const char	*reported_domain, *dkim_domain, *envelope_id;
	size_t		 nauth;
	const char	*orig_from, *orig_to, *orig_subject, *orig_date;
	const char	*orig_message_id;
	int		 headers_only;
};

#define ARF	"samples/mail-auth/arf"
#define PDM	"samples/parsedmarc/failure"

static const struct sample samples[] = {
	{ ARF, "002.eml", "abuse", "SomeGenerator/1.0", "1",
	  "somespammer@example.net", "user@example.com", 1110304800,
	  "192.0.2.1", NULL, NULL, "example.net", NULL, NULL, 1,
	  "<somespammer@example.net>", NULL, NULL, NULL, NULL, 0 },
	{ ARF, "003.eml", "auth-failure", "SomeDKIMFilter/1.0", "1",
	  "randomuser@example.net", "user@example.com", 1271272531,
	  "192.0.2.1", "bodyhash", NULL, "example.net", "example.net", NULL,
	  1, "randomuser@example.net", "user@example.com", "This is a test",
	  "Wed, 14 Apr 2010 12:12:09 -0700 (PDT)", NULL, 0 },
	{ ARF, "004.eml", "auth-failure", "OpenDMARC-Filter/1.3.2", "1",
	  "info@interpublication.org", NULL, -1, "148.163.85.135", "dmarc",
	  NULL, "interpublication.org", NULL, "8BE2660E72", 1,
	  "\"Rolf Bader\" <info@interpublication.org>",
	  "\"address\" <address@myotherdomain.name>",
	  "Wir kaufen dein Auto!", "Tue, 5 Oct 2021 06:36:51 +0200", NULL,
	  1 },
	{ PDM, "dmarc_ruf_report_linkedin.eml", "auth-failure", "Lua/1.0",
	  "1.0", "", "recipient@linkedin.com", 1556590140, "10.10.10.10",
	  "dmarc", "delivered", "example.com", NULL, NULL, 1,
	  "Sender <sender@example.com>", "LinkedIn <recipient@linkedin.com>",
	  "Subject line, could be UTF8 encoded",
	  "Tue, 30 Apr 2019 02:09:09 +0000",
	  "01010101010101010101010101010101@ABAB01MS0016.someserver.loc", 0 },
	{ PDM, "DMARC Failure Report for domain.de (mail-from=sharepoint@"
	  "domain.de, ip=10.10.10.10).eml", "auth-failure", "Lua/1.0", "1.0",
	  "sharepoint@domain.de", "peter.pan@domain.de", 1538385627,
	  "10.10.10.10", "dmarc", "other", "domain.de", NULL, NULL, 1,
	  "\"Interaktive Wettbewerber-\xc3\x9c" "bersicht\" <sharepoint@"
	  "domain.de>", "<peter.pan@domain.de>", "Subject",
	  "01 Oct 2018 11:20:27 +0200", "38.E7.30937.BD6E1BB5@ mailrelay.de",
	  0 },
};

START_TEST(test_ruf_samples)
{
	const struct sample	*s = &samples[_i];
	struct dm_limits	 lim;
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };
	struct buf		 b;

	dm_limits_default(&lim);
	buf_init(&b, 1 << 20);
	test_load(&b, s->dir, s->file);
	ruf_report_init(&r);
	ck_assert_msg(ruf_parse_message((unsigned char *)b.data, b.len, &lim,
	    0, &r, &err) == 0, "%s: %s", s->file, err.msg);
	str_eq(r.feedback_type, s->feedback_type, "feedback_type");
	str_eq(r.user_agent, s->user_agent, "user_agent");
	str_eq(r.version, s->version, "version");
	str_eq(r.original_mail_from, s->mail_from, "original_mail_from");
	str_eq(first(&r.original_rcpt_to), s->rcpt_to, "original_rcpt_to");
	if (s->arrival == -1)
		ck_assert_int_eq(r.has_arrival_date, 0);
	else {
		ck_assert_int_eq(r.has_arrival_date, 1);
		ck_assert_int_eq(r.arrival_date, s->arrival);
	}
	str_eq(r.source_ip, s->source_ip, "source_ip");
	str_eq(r.auth_failure, s->auth_failure, "auth_failure");
	str_eq(r.delivery_result, s->delivery_result, "delivery_result");
	str_eq(first(&r.reported_domain), s->reported_domain,
	    "reported_domain");
	str_eq(r.dkim_domain, s->dkim_domain, "dkim_domain");
	str_eq(r.original_envelope_id, s->envelope_id, "envelope_id");
	ck_assert_uint_eq(r.authentication_results.n, s->nauth);
	ck_assert_int_eq(r.has_original, 1);
	ck_assert_int_eq(r.orig_headers_only, s->headers_only);
	str_eq(r.orig_from, s->orig_from, "orig_from");
	str_eq(r.orig_to, s->orig_to, "orig_to");
	str_eq(r.orig_subject, s->orig_subject, "orig_subject");
	str_eq(r.orig_date, s->orig_date, "orig_date");
	str_eq(r.orig_message_id, s->orig_message_id, "orig_message_id");
	ck_assert_ptr_nonnull(r.orig_headers);
	ck_assert_ptr_null(r.orig_body);	/* not asked for */
	ruf_report_clear(&r);
	buf_clear(&b);
}
END_TEST

/* The body is kept only when asked for, and never of headers only. */
START_TEST(test_ruf_body_only_when_asked)
{
	struct dm_limits	 lim;
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };
	struct buf		 b;

	dm_limits_default(&lim);
	buf_init(&b, 1 << 20);
	test_load(&b, ARF, "003.eml");
	ruf_report_init(&r);
	ck_assert_int_eq(ruf_parse_message((unsigned char *)b.data, b.len,
	    &lim, RUF_KEEP_BODY, &r, &err), 0);
	ck_assert_ptr_nonnull(r.orig_body);
	ck_assert_msg(r.orig_body_len >= 38 && memcmp(r.orig_body,
	    "Hi, just making sure DKIM is working!", 37) == 0,
	    "body: %.*s", (int)r.orig_body_len, r.orig_body);
	ck_assert_ptr_null(strstr(r.orig_headers, "making sure"));
	ck_assert_ptr_nonnull(strstr(r.orig_headers, "Subject: This is a "
	    "test"));
	ruf_report_clear(&r);

	buf_reset(&b);
	test_load(&b, ARF, "004.eml");
	ck_assert_int_eq(ruf_parse_message((unsigned char *)b.data, b.len,
	    &lim, RUF_KEEP_BODY, &r, &err), 0);
	ck_assert_ptr_null(r.orig_body);
	ruf_report_clear(&r);
	buf_clear(&b);
}
END_TEST

/* Messages that are not failure reports. */
START_TEST(test_ruf_rejects_no_feedback_part)
{
	static const char *const files[] = {
		"exim_plain_text_only_no_arf_part.eml",
	};
	struct dm_limits	 lim;
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };
	struct buf		 b;

	dm_limits_default(&lim);
	buf_init(&b, 1 << 20);
	test_load(&b, PDM, files[0]);
	ruf_report_init(&r);
	ck_assert_int_eq(ruf_parse_message((unsigned char *)b.data, b.len,
	    &lim, 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no message/feedback-report"));
	ruf_report_clear(&r);
	ck_assert_int_eq(ruf_parse_message((const unsigned char *)"", 0,
	    &lim, 0, &r, &err), -1);
	ruf_report_clear(&r);
	lim.max_message = 100;
	ck_assert_int_eq(ruf_parse_message((unsigned char *)b.data, b.len,
	    &lim, 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "over 100 bytes"));
	ruf_report_clear(&r);
	buf_clear(&b);
}
END_TEST

/* Found by fuzz_ruf: an empty feedback part (decoded to no bytes). */
START_TEST(test_ruf_fuzz_empty_feedback_part)
{
	static const char msg[] =
	    "From: a@example.org\n"
	    "Content-Type: multipart/report; report-type=feedback-report;\n"
	    " boundary=b\n"
	    "\n"
	    "--b\n"
	    "Content-Type: message/feedback-report\n"
	    "\n"
	    "--b--\n";
	struct dm_limits	 lim;
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };

	dm_limits_default(&lim);
	ruf_report_init(&r);
	ck_assert_int_eq(ruf_parse_message((const unsigned char *)msg,
	    strlen(msg), &lim, 0, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no Feedback-Type"));
	str_eq(r.reporter, "a@example.org", "reporter");
	ruf_report_clear(&r);
	ck_assert_int_eq(ruf_parse_feedback(NULL, 0, &r, &err), -1);
	ruf_report_clear(&r);
	ck_assert_int_eq(ruf_parse_original(NULL, 0, RUF_KEEP_BODY, &r,
	    &err), 0);
	str_eq(r.orig_headers, "", "orig_headers");
	ruf_report_clear(&r);
}
END_TEST

/* --- hand-made feedback parts ----------------------------------------- */

/* Run with LF as written and with every LF turned into CRLF. */
static int
parse_eol(const char *text, int crlf, struct ruf_report *r,
    struct dm_err *err)
{
	struct buf	 b;
	const char	*p;
	int		 rc;

	buf_init(&b, 1 << 24);
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' && crlf)
			buf_addc(&b, '\r');
		buf_addc(&b, *p);
	}
	ruf_report_init(r);
	rc = ruf_parse_feedback((unsigned char *)b.data, b.len, r, err);
	buf_clear(&b);
	return rc;
}

START_TEST(test_ruf_folded_and_repeated)
{
	static const char text[] =
	    "\n"
	    "feedback-type: Auth-Failure\n"
	    "User-Agent: Test/1\n"
	    "Version: 1\n"
	    "Original-Rcpt-To: <a@example.com>\n"
	    "Original-Rcpt-To: b@example.com\n"
	    "Authentication-Results: mx.example.com;\n"
	    "\tdkim=fail header.d=example.org;\n"
	    "     spf=pass smtp.mailfrom=example.org\n"
	    "Authentication-Results: other.example.com; dmarc=fail\n"
	    "Source-IP: [2001:DB8::0:1] (host.example)\n"
	    "Incidents: 3\n"
	    "Reporting-MTA: dns; mx.example.com\n"
	    "Delivery-Result: Reject\n"
	    "Identity-Alignment: DKIM, SPF\n"
	    "DKIM-Domain: Example.ORG\n"
	    "DKIM-Identity: @example.org\n"
	    "DKIM-Selector: s1\n"
	    "SPF-DNS: txt : example.org : \"v=spf1 -all\"\n"
	    "Reported-Domain: Example.ORG\n"
	    "Reported-URI: http://example.org/\n"
	    "Reported-URI: mailto:x@example.org\n"
	    "Not a field line\n"
	    "X-Unknown: ignored\n"
	    "Auth-Failure: dmarc\n"
	    "Auth-Failure: spf\n"
	    "Arrival-Date: 2019-04-30 02:09:00 +0000\n";
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };

	ck_assert_msg(parse_eol(text, _i, &r, &err) == 0, "%s", err.msg);
	str_eq(r.feedback_type, "auth-failure", "feedback_type");
	ck_assert_uint_eq(r.original_rcpt_to.n, 2);
	str_eq(r.original_rcpt_to.v[0], "a@example.com", "rcpt 0");
	str_eq(r.original_rcpt_to.v[1], "b@example.com", "rcpt 1");
	ck_assert_uint_eq(r.authentication_results.n, 2);
	str_eq(r.authentication_results.v[0], "mx.example.com; dkim=fail "
	    "header.d=example.org; spf=pass smtp.mailfrom=example.org",
	    "folded");
	str_eq(r.source_ip, "2001:db8::1", "source_ip");
	str_eq(r.source_ip_raw, "[2001:DB8::0:1] (host.example)", "raw");
	ck_assert_int_eq(r.incidents, 3);
	str_eq(r.reporting_mta, "dns; mx.example.com", "reporting_mta");
	str_eq(r.delivery_result, "reject", "delivery_result");
	str_eq(r.identity_alignment, "dkim, spf", "identity_alignment");
	str_eq(r.dkim_domain, "example.org", "dkim_domain");
	str_eq(r.dkim_identity, "@example.org", "dkim_identity");
	str_eq(r.dkim_selector, "s1", "dkim_selector");
	str_eq(r.spf_dns, "txt : example.org : \"v=spf1 -all\"", "spf_dns");
	str_eq(first(&r.reported_domain), "example.org", "reported_domain");
	ck_assert_uint_eq(r.reported_uri.n, 2);
	str_eq(r.auth_failure, "dmarc", "first Auth-Failure kept");
	ck_assert_int_eq(r.has_arrival_date, 1);
	ck_assert_int_eq(r.arrival_date, 1556590140);
	str_eq(r.original_mail_from, NULL, "original_mail_from");
	ruf_report_clear(&r);
}
END_TEST

/* Only Feedback-Type is needed; everything else may be missing. */
START_TEST(test_ruf_missing_optional_fields)
{
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };

	ck_assert_int_eq(parse_eol("Feedback-Type: auth-failure\n", _i, &r,
	    &err), 0);
	str_eq(r.user_agent, NULL, "user_agent");
	str_eq(r.source_ip, NULL, "source_ip");
	ck_assert_int_eq(r.has_arrival_date, 0);
	ck_assert_int_eq(r.incidents, -1);
	ck_assert_uint_eq(r.reported_domain.n, 0);
	ruf_report_clear(&r);
	ck_assert_int_eq(parse_eol("Source-IP: not-an-ip\nIncidents: -4\n"
	    "Feedback-Type: auth-failure\nArrival-Date: yesterday\n"
	    "Original-Mail-From: <>\n", _i, &r, &err), 0);
	str_eq(r.source_ip, NULL, "source_ip");
	str_eq(r.source_ip_raw, "not-an-ip", "source_ip_raw");
	ck_assert_int_eq(r.incidents, -1);
	ck_assert_int_eq(r.has_arrival_date, 0);
	str_eq(r.arrival_date_raw, "yesterday", "arrival_date_raw");
	str_eq(r.original_mail_from, "", "original_mail_from");
	ruf_report_clear(&r);
}
END_TEST

static const struct {
	const char	*date;
	int64_t		 t;	/* -1: unreadable */
} dates[] = {
	{ "Tue, 30 Apr 2019 02:09:00 +0000", 1556590140 },
	{ "30 Apr 2019 02:09:00 +0000", 1556590140 },
	{ "Tue, 30 Apr 2019 04:09:00 +0200 (CEST)", 1556590140 },
	{ "  Tue,  30 Apr 2019 02:09:00 GMT  ", 1556590140 },
	{ "2019-04-30T02:09:00Z", 1556590140 },
	{ "2019-04-30T04:09:00+02:00", 1556590140 },
	{ "2019-04-30 02:09:00", 1556590140 },
	{ "2021-10-05 04:36:52 +0200", 1633401412 },
	{ "Thu, 8 Mar 2005 14:00:00 EDT", 1110304800 },
	{ "", -1 },
	{ "yesterday", -1 },
	{ "Tue, 30 Foo 2019 99:99:99 +0000", -1 },
	{ "2019-13-45T02:09:00Z", -1 },
};

START_TEST(test_ruf_dates)
{
	int64_t	 t = 0;
	int	 rc = ruf_parse_date(dates[_i].date, &t);

	if (dates[_i].t == -1)
		ck_assert_msg(rc == -1, "\"%s\" read as %lld", dates[_i].date,
		    (long long)t);
	else {
		ck_assert_msg(rc == 0, "\"%s\" unreadable", dates[_i].date);
		ck_assert_msg(t == dates[_i].t, "\"%s\": %lld, want %lld",
		    dates[_i].date, (long long)t, (long long)dates[_i].t);
	}
}
END_TEST

/* A headers-only original, and one whose body is kept. */
START_TEST(test_ruf_original_headers)
{
	static const char hdrs[] =
	    "Received: from a\n  by b\n"
	    "From: =?utf-8?q?J=C3=B6rg?= <j@example.org>\n"
	    "Subject: =?iso-8859-1?q?Gr=FC=DFe?=\n"
	    "Message-ID:\n <id@example.org>\n"
	    "\n"
	    "body line\n";
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };

	ruf_report_init(&r);
	ck_assert_int_eq(ruf_parse_original((const unsigned char *)hdrs,
	    strlen(hdrs), RUF_HEADERS_ONLY | RUF_KEEP_BODY, &r, &err), 0);
	str_eq(r.orig_from, "J\xc3\xb6rg <j@example.org>", "orig_from");
	str_eq(r.orig_subject, "Gr\xc3\xbc\xc3\x9f" "e", "orig_subject");
	str_eq(r.orig_message_id, "id@example.org", "orig_message_id");
	str_eq(r.orig_headers, "Received: from a\n  by b\nFrom: =?utf-8?q?"
	    "J=C3=B6rg?= <j@example.org>\nSubject: =?iso-8859-1?q?Gr=FC=DFe?="
	    "\nMessage-ID:\n <id@example.org>", "orig_headers");
	ck_assert_ptr_null(r.orig_body);
	ruf_report_clear(&r);

	ck_assert_int_eq(ruf_parse_original((const unsigned char *)hdrs,
	    strlen(hdrs), RUF_KEEP_BODY, &r, &err), 0);
	ck_assert_uint_eq(r.orig_body_len, 10);
	ck_assert_int_eq(memcmp(r.orig_body, "body line\n", 10), 0);
	ruf_report_clear(&r);
}
END_TEST

/* Bytes that are not UTF-8 or are control characters never get kept. */
START_TEST(test_ruf_cleans_bytes)
{
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };

	ck_assert_int_eq(parse_eol("Feedback-Type: auth-failure\n"
	    "User-Agent: a\xff\x01" "b\xc3\xa9\n", _i, &r, &err), 0);
	str_eq(r.user_agent, "a??b\xc3\xa9", "user_agent");
	ruf_report_clear(&r);
}
END_TEST

/* --- hostile input ---------------------------------------------------- */

START_TEST(test_ruf_rejects_hostile)
{
	struct ruf_report	 r;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	unsigned		 i;
	char			*big;
	const char		*want = NULL;

	buf_init(&b, 1 << 24);
	buf_adds(&b, "Feedback-Type: auth-failure\n");
	switch (_i) {
	case 0:		/* too many fields */
		for (i = 0; i < DM_MAX_RUF_FIELDS; i++)
			buf_printf(&b, "X-F%u: v\n", i);
		want = "more than 256 fields";
		break;
	case 1:		/* one field folded past the bound */
		buf_adds(&b, "Authentication-Results: x\n");
		for (i = 0; i < DM_MAX_RUF_VALUE / 8; i++)
			buf_adds(&b, " 1234567\n");
		want = "field Authentication-Results longer than";
		break;
	case 2:		/* one long line */
		big = malloc(DM_MAX_RUF_VALUE + 2);
		memset(big, 'a', DM_MAX_RUF_VALUE + 1);
		big[DM_MAX_RUF_VALUE + 1] = '\0';
		buf_printf(&b, "Reported-URI: %s\n", big);
		free(big);
		want = "field Reported-URI longer than";
		break;
	case 3:		/* too many values of a repeated field */
		for (i = 0; i <= DM_MAX_RUF_MULTI; i++)
			buf_adds(&b, "Original-Rcpt-To: a@example.com\n");
		want = "more than 64 Original-Rcpt-To fields";
		break;
	case 4:		/* the whole part */
		while (b.len <= DM_MAX_RUF_PART)
			buf_adds(&b, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n");
		want = "feedback report over";
		break;
	case 5:
		buf_add(&b, "X: a\0b\n", 7);
		want = "NUL byte";
		break;
	case 6:		/* no Feedback-Type at all */
		buf_reset(&b);
		buf_adds(&b, "User-Agent: x\n Feedback-Type: folded away\n");
		want = "no Feedback-Type";
		break;
	}
	ruf_report_init(&r);
	ck_assert_int_eq(ruf_parse_feedback((unsigned char *)b.data, b.len,
	    &r, &err), -1);
	ck_assert_msg(strstr(err.msg, want) != NULL, "want \"%s\", got "
	    "\"%s\"", want, err.msg);
	ck_assert_int_eq(strncmp(err.msg, "ruf: ", 5), 0);
	ruf_report_clear(&r);
	buf_clear(&b);
}
END_TEST

/* --- [failure] in the configuration --------------------------------- */

static const struct {
	const char	*text;
	int		 ok, store, hash;
	unsigned	 days;
} confs[] = {
	{ "", 1, INGEST_FAILURE_HEADERS, 0, 0 },
	{ "[failure]\nstore = full\nhash_local_parts = yes\n"
	  "retention_days = 90\n", 1, INGEST_FAILURE_FULL, 1, 90 },
	{ "[failure]\nstore = none\nhash_local_parts = no\n", 1,
	  INGEST_FAILURE_NONE, 0, 0 },
	{ "[failure]\nstore = body\n", 0, 0, 0, 0 },
	{ "[failure]\nhash_local_parts = maybe\n", 0, 0, 0, 0 },
	{ "[failure]\nretention_days = -1\n", 0, 0, 0, 0 },
	{ "[failure]\nretention_days = 36501\n", 0, 0, 0, 0 },
	{ "[failure]\nsample = 1\n", 0, 0, 0, 0 },
};

START_TEST(test_ruf_config_failure_keys)
{
	struct config	 cf;
	char		 path[] = "/tmp/check_ruf_conf.XXXXXX";
	int		 fd, rc;

	fd = mkstemp(path);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, confs[_i].text, strlen(confs[_i].text)),
	    (ssize_t)strlen(confs[_i].text));
	close(fd);
	config_init(&cf);
	rc = config_load(&cf, path, 1);
	unlink(path);
	ck_assert_int_eq(rc, confs[_i].ok ? 0 : -1);
	if (confs[_i].ok) {
		ck_assert_int_eq(cf.failure.store, confs[_i].store);
		ck_assert_int_eq(cf.failure.hash_local_parts, confs[_i].hash);
		ck_assert_uint_eq(cf.failure_retention_days, confs[_i].days);
	}
	config_clear(&cf);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("ruf");
	TCase	*tc = tcase_create("ruf");

	mime_init();
	tcase_add_loop_test(tc, test_ruf_samples, 0, (int)nitems(samples));
	tcase_add_test(tc, test_ruf_body_only_when_asked);
	tcase_add_test(tc, test_ruf_rejects_no_feedback_part);
	tcase_add_test(tc, test_ruf_fuzz_empty_feedback_part);
	tcase_add_loop_test(tc, test_ruf_folded_and_repeated, 0, 2);
	tcase_add_loop_test(tc, test_ruf_missing_optional_fields, 0, 2);
	tcase_add_loop_test(tc, test_ruf_dates, 0, (int)nitems(dates));
	tcase_add_test(tc, test_ruf_original_headers);
	tcase_add_loop_test(tc, test_ruf_cleans_bytes, 0, 2);
	tcase_add_loop_test(tc, test_ruf_rejects_hostile, 0, 7);
	tcase_add_loop_test(tc, test_ruf_config_failure_keys, 0,
	    (int)nitems(confs));
	suite_add_tcase(s, tc);
	return s;
}
