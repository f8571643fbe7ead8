/*
 * check_parse.c: parse_report() over every real sample, hand-made
 * edge cases and hostile documents, with a sink that records exactly
 * what it was handed.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "test.h"
#include "bounds.h"
#include "buf.h"
#include "parse.h"
#include "util.h"

/* --- a byte stream over memory --------------------------------------- */

struct memrd {
	struct dm_rd	 rd;
	const char	*p;
	size_t		 len, off;
	size_t		 chunk;		/* at most this per read */
	size_t		 fail_at;	/* a read starting here fails */
	size_t		 max_off;	/* furthest byte handed out */
};

static long
memrd_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct memrd	*m = rd->ctx;
	size_t		 n = m->len - m->off;

	if (m->off >= m->fail_at)
		return dm_err_set(&rd->err, DM_EMSG, "gzip: truncated");
	if (n > len)
		n = len;
	if (n > m->chunk)
		n = m->chunk;
	if (m->off < m->fail_at && n > m->fail_at - m->off)
		n = m->fail_at - m->off;
	memcpy(dst, m->p + m->off, n);
	m->off += n;
	if (m->off > m->max_off)
		m->max_off = m->off;
	return (long)n;
}

static void
memrd_init(struct memrd *m, const char *p, size_t len)
{
	memset(m, 0, sizeof(*m));
	m->rd.read = memrd_read;
	m->rd.ctx = m;
	m->p = p;
	m->len = len;
	m->chunk = SIZE_MAX;
	m->fail_at = SIZE_MAX;
}

/* --- a sink that writes down everything it is handed ------------------ */

struct tsink {
	int		 begin_rc;	/* what begin() returns */
	uint64_t	 fail_record;	/* record() fails on this (from 1) */
	int		 fail_end;
	int		 nbegin, nend, nabort;
	uint64_t	 nrecord;
	size_t		 heap_base;	/* heap in use at record 1001 ... */
	size_t		 heap_max;	/* ... and the most after it */
	struct buf	 dump;
};

#define S(s)	((s) != NULL ? (s) : "(null)")

static void
dump_enum(struct buf *b, const struct report_enum *e)
{
	buf_adds(b, e->val != NULL ? e->val : "-");
	if (e->raw != NULL)
		buf_printf(b, "~%s", e->raw);
}

static int
t_begin(void *arg, const struct report *r, struct dm_err *err)
{
	struct tsink	*t = arg;
	struct buf	*b = &t->dump;
	size_t		 i;

	t->nbegin++;
	if (t->begin_rc == -1)
		return dm_err_set(err, DM_ESTORE, "store: begin failed");
	buf_printf(b, "report ns=%s version=%s org=%s email=%s extra=%s "
	    "id=%s begin=%lld end=%lld generator=%s errors=", S(r->ns),
	    S(r->version), S(r->org_name), S(r->email),
	    S(r->extra_contact_info), S(r->report_id), (long long)r->begin,
	    (long long)r->end, S(r->generator));
	for (i = 0; i < r->nerrors; i++)
		buf_printf(b, "%s%s", i ? "|" : "", r->errors[i]);
	buf_printf(b, " domain=%s discovery=", S(r->domain));
	dump_enum(b, &r->discovery_method);
	buf_adds(b, " adkim=");
	dump_enum(b, &r->adkim);
	buf_adds(b, " aspf=");
	dump_enum(b, &r->aspf);
	buf_adds(b, " p=");
	dump_enum(b, &r->p);
	buf_adds(b, " sp=");
	dump_enum(b, &r->sp);
	buf_adds(b, " np=");
	dump_enum(b, &r->np);
	buf_printf(b, " pct=%d fo=%s testing=", r->pct, S(r->fo));
	dump_enum(b, &r->testing);
	buf_adds(b, "\n");
	return t->begin_rc;
}

static int
t_record(void *arg, const struct report *r, const struct record *x,
    struct dm_err *err)
{
	struct tsink	*t = arg;
	struct buf	*b = &t->dump;
	struct mallinfo2 mi;
	char		 ip[DM_IP_TEXT];
	size_t		 i;

	(void)r;
	t->nrecord++;
	if (t->fail_record != 0 && t->nrecord == t->fail_record)
		return dm_err_set(err, DM_ESTORE, "store: record failed");
	if (t->nrecord > 1000) {
		/* big generated reports: count, and watch the heap */
		mi = mallinfo2();
		if (t->nrecord == 1001)
			t->heap_base = mi.uordblks;
		if (mi.uordblks > t->heap_max)
			t->heap_max = mi.uordblks;
		return 0;
	}
	/* the text the goldens hold, from the bytes parse handed over */
	buf_printf(b, "record ip=%s count=%llu disposition=",
	    dm_ip_fmt(x->ip, x->ip_len, ip, sizeof(ip)) == 0 ? ip : "(null)",
	    (unsigned long long)x->count);
	dump_enum(b, &x->disposition);
	buf_adds(b, " dkim=");
	dump_enum(b, &x->dkim);
	buf_adds(b, " spf=");
	dump_enum(b, &x->spf);
	buf_adds(b, " reasons=[");
	for (i = 0; i < x->nreasons; i++) {
		buf_adds(b, i ? ";" : "");
		dump_enum(b, &x->reasons[i].type);
		buf_printf(b, ":%s", S(x->reasons[i].comment));
	}
	buf_printf(b, "] to=%s from=%s header_from=%s auth_dkim=[",
	    S(x->envelope_to), S(x->envelope_from), S(x->header_from));
	for (i = 0; i < x->nauth_dkim; i++) {
		buf_printf(b, "%s%s,%s,", i ? ";" : "",
		    S(x->auth_dkim[i].domain), S(x->auth_dkim[i].selector));
		dump_enum(b, &x->auth_dkim[i].result);
		buf_printf(b, ",%s", S(x->auth_dkim[i].human_result));
	}
	buf_adds(b, "] auth_spf=[");
	for (i = 0; i < x->nauth_spf; i++) {
		buf_printf(b, "%s%s,", i ? ";" : "", S(x->auth_spf[i].domain));
		dump_enum(b, &x->auth_spf[i].scope);
		buf_adds(b, ",");
		dump_enum(b, &x->auth_spf[i].result);
		buf_printf(b, ",%s", S(x->auth_spf[i].human_result));
	}
	buf_adds(b, "]\n");
	return 0;
}

static int
t_end(void *arg, const struct report *r, struct dm_err *err)
{
	struct tsink	*t = arg;

	t->nend++;
	buf_printf(&t->dump, "end records=%llu messages=%llu skipped=%llu\n",
	    (unsigned long long)r->nrecords, (unsigned long long)r->messages,
	    (unsigned long long)r->skipped);
	if (t->fail_end)
		return dm_err_set(err, DM_ESTORE, "store: commit failed");
	return 0;
}

static void
t_abort(void *arg, const struct report *r)
{
	struct tsink	*t = arg;

	(void)r;
	t->nabort++;
}

static void
tsink_init(struct tsink *t, struct report_sink *s)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->dump, 4u << 20);
	buf_adds(&t->dump, "");	/* buf_cstr() of a fresh buf lacks a NUL */
	s->begin = t_begin;
	s->record = t_record;
	s->end = t_end;
	s->abort = t_abort;
	s->arg = t;
}

/* The protocol holds whatever the outcome. */
static void
check_protocol(const struct tsink *t, int rc)
{
	ck_assert_int_le(t->nbegin, 1);
	if (rc == -1) {
		ck_assert_int_eq(t->nend, t->fail_end ? 1 : 0);
		if (t->begin_rc == -1 || t->fail_end)
			ck_assert_int_eq(t->nabort, 0);
		else
			ck_assert_int_eq(t->nabort, t->nbegin);
	} else {
		ck_assert_int_eq(t->nbegin, 1);
		ck_assert_int_eq(t->nend, 1);
		ck_assert_int_eq(t->nabort, 0);
	}
}

static int
run_lim(const char *xml, size_t len, const struct dm_limits *lim,
    struct tsink *t, struct parse_summary *sum, struct dm_err *err)
{
	struct report_sink	 s;
	struct memrd		 m;
	int			 begin_rc = t->begin_rc, rc;
	uint64_t		 fail_record = t->fail_record;
	int			 fail_end = t->fail_end;

	tsink_init(t, &s);
	t->begin_rc = begin_rc;
	t->fail_record = fail_record;
	t->fail_end = fail_end;
	memrd_init(&m, xml, len);
	rc = parse_report(&m.rd, lim, &s, sum, err);
	check_protocol(t, rc);
	return rc;
}

static int
run(const char *xml, struct tsink *t, struct parse_summary *sum,
    struct dm_err *err)
{
	struct dm_limits	 lim;

	dm_limits_default(&lim);
	return run_lim(xml, strlen(xml), &lim, t, sum, err);
}

static void
setup(void)
{
	parse_init();
}

/* --- every real sample ------------------------------------------------ */

struct sample {
	const char	*file;
	int		 rc;
	uint64_t	 records, messages, skipped;
	const char	*org, *report_id, *domain;
	const char	*reason;	/* substring of err.msg when rc is -1 */
};

static const struct sample samples[] = {
	{ "!example.com!1538204542!1538463818.xml", 0, 1, 1, 0, "",
	    "example.com:1538463741", "example.com", NULL },
	{ "!large-example.com!1711897200!1711983600.xml", 0, 2286, 2286, 0,
	    "", "example.com:1711897200", "example.com", NULL },
	/* synthetic examples dated 1975 and 1979: refused like 005.xml */
	{ "001.xml", -1, 0, 0, 0, "Sample Reporter",
	    "3v98abbp8ya9n3va8yr8oa3ya", "",
	    "xml: date_range begin 161212415 (1975-02-09T21:13:35Z) is "
	    "before 2000" },
	{ "002.xml", 0, 1, 2, 0, "google.com", "2122885654478337555",
	    "example.org", NULL },
	{ "003.xml", 0, 4, 9, 0, "Fastmail Pty Ltd", "758848224",
	    "stalw.art", NULL },
	{ "005.xml", -1, 0, 0, 0, "Legacy Reporter", "legacy-1", "",
	    "xml: date_range begin 100 (1970-01-01T00:01:40Z) is before "
	    "2000" },
	{ "acme.xml", 0, 1, 2, 0, "acme.com", "9391651994964116463",
	    "example.com", NULL },
	{ "addisonfoods.com!example.com!1536105600!1536191999.xml", 0, 1, 1,
	    0, "addisonfoods.com", "3ceb5548498640beaeb47327e202b0b9",
	    "example.com", NULL },
	{ "aggregate_parser-dmarc.xml", 0, 1, 1, 0, "AOL",
	    "website.com_1504828800", "website.com", NULL },
	{ "aol.xml", 0, 1, 1, 0, "AOL", "website.com_1504828800",
	    "website.com", NULL },
	{ "avvertix-dmarc.xml", 0, 2, 2, 0, "Enterprise Outlook",
	    "17265e8a413a4989bc4eef2c46ef08d0", "a-domain.localhost", NULL },
	{ "converter-test.xml", 0, 2, 7, 0, "Test Inc.", "1.id.0",
	    "test.net", NULL },
	{ "converter-test2.xml", 0, 2, 12, 0, "Test Inc.", "1.id.0",
	    "test.net", NULL },
	/* a null record only: complete, nothing handed, one skipped */
	{ "converter-test_empty.xml", 0, 0, 0, 1, "Test Inc.", "1.id.0",
	    "test.net", NULL },
	{ "empty.xml", -1, 0, 0, 0, "", "", "", "xml: empty document" },
	{ "empty_reason.xml", 0, 1, 2, 0, "example.org",
	    "20240125141224705995", "example.com", NULL },
	{ "example.net!example.com!1529366400!1529452799.xml", 0, 1, 1, 0,
	    "example.net", "b043f0e264cf4ea995e93765242f6dfb", "example.com",
	    NULL },
	{ "gmxnet.xml", 0, 1, 1, 0, "GMX", "6d2be94cbabf4e838a3cf58fb4a42ab5",
	    "myserver.com", NULL },
	{ "google.xml", 0, 1, 1, 0, "google.com", "3166094538684628578",
	    "foo-bar.io", NULL },
	{ "hardfail.xml", 0, 1, 1, 0, "reporting org", "abcdef",
	    "mydomain.org", NULL },
	/* <email><bad-xml@bad-xml.net></email>: not well-formed */
	/* streamed: what came before the error is known */
	{ "invalid_xml.xml", -1, 0, 0, 0, "veeam.com", "", "",
	    "xml: line 5: error parsing attribute name" },
	{ "mailru.xml", 0, 1, 1, 0, "Mail.Ru", "28327321193681154911721360800",
	    "foobar.de", NULL },
	{ "malformed_report.xml", -1, 0, 0, 0, "", "", "",
	    "xml: root element is <invalid_root>, not <feedback>: not a "
	    "DMARC aggregate report" },
	/* no <email>, no <auth_results>: org_name names the reporter */
	{ "missing_fields.xml", 0, 1, 1, 0, "minimal.com", "minimal123",
	    "example.com", NULL },
	{ "nice-input.xml", 0, 20, 3047, 0, "google.com",
	    "11038226378739404135", "example.com", NULL },
	{ "outlook.xml", 0, 2, 3, 0, "Outlook.com",
	    "a4f4ef0654474d3faa5dca167a34a86a", "random.net", NULL },
	{ "protection.outlook.com!example.com!1711756800!1711843200.xml", 0,
	    1, 1, 0, "Outlook.com", "cfeafefe4129445e8c81018bd9177197",
	    "example.com", NULL },
	{ "report_with_upper_cased_pass.xml", 0, 1, 1, 0, "example.com",
	    "aggr_report_example.com_20191202_1638", "example.com", NULL },
	{ "rfc9990-example.net!example.com!1700000000!1700086399.xml", 0, 2,
	    7, 0, "example.net", "dmarcbis-test-report-001", "example.com",
	    NULL },
	{ "rfc9990-sample.xml", -1, 0, 0, 0, "Sample Reporter",
	    "3v98abbp8ya9n3va8yr8oa3ya", "",
	    "xml: date_range begin 302832000 (1979-08-07T00:00:00Z) is "
	    "before 2000" },
	{ "sample-yahoo-aggregate.xml", 0, 1, 1, 0, "Yahoo",
	    "1737770612.289931", "007ed325dddd44e3a0f17488f4312e49.com",
	    NULL },
	{ "solamora.xml", 0, 1, 2, 0, "solarmora.com", "9391651994964116463",
	    "bix-business.com", NULL },
	{ "usssa.com!example.com!1538784000!1538870399.xml", 0, 2, 2, 0,
	    "usssa.com", "8953b4d4a4ee4218b6ac0e2cb2667ee1", "example.com",
	    NULL },
	{ "veeam.com!example.com!1530133200!1530219600.xml", 0, 1, 1, 0,
	    "veeam.com", "sonexushealth.com:1530233361", "example.com", NULL },
	{ "webde.xml", 0, 1, 1, 0, "WEB.DE", "a3345c7cb5fd4f26aa62144bf449a54b",
	    "foobar.com", NULL },
	{ "yahoo.xml", 0, 1, 1, 0, "Yahoo", "1709600619.487850", "random.org",
	    NULL },
};

START_TEST(test_parse_samples)
{
	const struct sample	*c = &samples[_i];
	struct buf		 in;
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	int			 rc;

	buf_init(&in, 4u << 20);
	test_load(&in, "parse", c->file);
	dm_limits_default(&lim);
	rc = run_lim(in.data != NULL ? in.data : "", in.len, &lim, &t, &sum,
	    &err);
	ck_assert_msg(rc == c->rc, "%s: rc %d: %s", c->file, rc, err.msg);
	if (c->reason != NULL)
		ck_assert_msg(strstr(err.msg, c->reason) != NULL,
		    "%s: '%s' lacks '%s'", c->file, err.msg, c->reason);
	else
		ck_assert_str_eq(err.msg, "");
	ck_assert_uint_eq(sum.records, c->records);
	ck_assert_uint_eq(sum.messages, c->messages);
	ck_assert_uint_eq(sum.skipped, c->skipped);
	ck_assert_str_eq(sum.org_name, c->org);
	ck_assert_str_eq(sum.report_id, c->report_id);
	ck_assert_str_eq(sum.domain, c->domain);
	if (rc == 0)
		ck_assert_uint_eq(t.nrecord, c->records);
	buf_clear(&t.dump);
	buf_clear(&in);
}
END_TEST

/* --- every field of both schema versions, exactly --------------------- */

static const char full_xml[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<ns0:feedback xmlns:ns0=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n"
" <ns0:version>1.0</ns0:version>\n"
" <ns0:report_metadata>\n"
"  <ns0:date_range><ns0:begin> 1700000000 </ns0:begin>"
"<ns0:end>1700086399</ns0:end><ns0:vendor>x</ns0:vendor></ns0:date_range>\n"
"  <ns0:report_id>&lt;r-1@example.net&gt;</ns0:report_id>\n"
"  <ns0:org_name>Example &amp; Co </ns0:org_name>\n"
"  <ns0:email>dmarc@example.net</ns0:email>\n"
"  <ns0:extra_contact_info>https://example.net/dmarc"
"</ns0:extra_contact_info>\n"
"  <ns0:error>first error</ns0:error>\n"
"  <ns0:error>second error</ns0:error>\n"
"  <ns0:generator>Example MTA 1.2</ns0:generator>\n"
" </ns0:report_metadata>\n"
" <ns0:policy_published>\n"
"  <ns0:domain>example.com</ns0:domain>\n"
"  <ns0:discovery_method>treewalk</ns0:discovery_method>\n"
"  <ns0:adkim>s</ns0:adkim><ns0:aspf>relaxed</ns0:aspf>\n"
"  <ns0:p>Reject</ns0:p><ns0:sp>quarantine</ns0:sp><ns0:np>none</ns0:np>\n"
"  <ns0:pct>50</ns0:pct><ns0:fo>0:d:s</ns0:fo><ns0:testing>y</ns0:testing>\n"
"  <ns0:vendor_thing>ignored</ns0:vendor_thing>\n"
" </ns0:policy_published>\n"
" <ns0:extension><x:thing xmlns:x=\"urn:x\">ignored <ns0:record/>"
"</x:thing></ns0:extension>\n"
" <ns0:record>\n"
"  <ns0:row>\n"
"   <ns0:source_ip>2001:DB8:0:0:0:0:0:1</ns0:source_ip>\n"
"   <ns0:count>\n     42\n   </ns0:count>\n"
"   <ns0:policy_evaluated>\n"
"    <ns0:disposition>pass</ns0:disposition><ns0:dkim>Pass</ns0:dkim>"
"<ns0:spf>FAIL</ns0:spf>\n"
"    <ns0:reason><ns0:type>local_policy</ns0:type><ns0:comment>arc=pass "
"<![CDATA[a<b]]></ns0:comment></ns0:reason>\n"
"    <ns0:reason><ns0:type/></ns0:reason>\n"
"   </ns0:policy_evaluated>\n"
"  </ns0:row>\n"
"  <ns0:identifiers><ns0:envelope_to>rcpt.example.org</ns0:envelope_to>"
"<ns0:envelope_from></ns0:envelope_from>"
"<ns0:header_from>mail.example.com</ns0:header_from></ns0:identifiers>\n"
"  <ns0:auth_results>\n"
"   <ns0:dkim><ns0:domain>example.com</ns0:domain>"
"<ns0:selector>s1</ns0:selector><ns0:result>pass</ns0:result>"
"<ns0:human_result>good</ns0:human_result></ns0:dkim>\n"
"   <ns0:dkim><ns0:domain>esp.example</ns0:domain>"
"<ns0:result>permerr</ns0:result></ns0:dkim>\n"
"   <ns0:spf><ns0:domain>example.com</ns0:domain><ns0:scope>mfrom"
"</ns0:scope><ns0:result>hardfail</ns0:result>"
"<ns0:human_result>nope</ns0:human_result></ns0:spf>\n"
"   <ns0:spf><ns0:domain>mx.example.com</ns0:domain>"
"<ns0:scope>helo</ns0:scope><ns0:result>bogus</ns0:result></ns0:spf>\n"
"  </ns0:auth_results>\n"
"  <x:any xmlns:x=\"urn:x\"><x:deep>z</x:deep></x:any>\n"
" </ns0:record>\n"
" <ns0:record>\n"
"  <ns0:row><ns0:source_ip>192.0.2.1</ns0:source_ip><ns0:count>1"
"</ns0:count><ns0:policy_evaluated><ns0:disposition>none"
"</ns0:disposition></ns0:policy_evaluated></ns0:row>\n"
"  <ns0:identifiers><ns0:header_from>example.com</ns0:header_from>"
"</ns0:identifiers>\n"
"  <ns0:auth_results/>\n"
" </ns0:record>\n"
" <ns0:record><ns0:row><ns0:source_ip></ns0:source_ip><ns0:count>0"
"</ns0:count></ns0:row></ns0:record>\n"
"</ns0:feedback>\n";

static const char full_dump[] =
"report ns=urn:ietf:params:xml:ns:dmarc-2.0 version=1.0 org=Example & Co "
"email=dmarc@example.net extra=https://example.net/dmarc "
"id=<r-1@example.net> begin=1700000000 end=1700086399 "
"generator=Example MTA 1.2 errors=first error|second error "
"domain=example.com discovery=treewalk adkim=s aspf=r~relaxed p=reject "
"sp=quarantine np=none pct=50 fo=0:d:s testing=y\n"
"record ip=2001:db8::1 count=42 disposition=pass dkim=pass spf=fail "
"reasons=[local_policy:arc=pass a<b;-:(null)] to=rcpt.example.org from= "
"header_from=mail.example.com "
"auth_dkim=[example.com,s1,pass,good;esp.example,(null),"
"permerror~permerr,(null)] "
"auth_spf=[example.com,mfrom,fail~hardfail,nope;"
"mx.example.com,helo,-~bogus,(null)]\n"
"record ip=192.0.2.1 count=1 disposition=none dkim=- spf=- reasons=[] "
"to=(null) from=(null) header_from=example.com auth_dkim=[] auth_spf=[]\n"
"end records=2 messages=43 skipped=1\n";

START_TEST(test_parse_full_report_exact)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };

	ck_assert_msg(run(full_xml, &t, &sum, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(buf_cstr(&t.dump), full_dump);
	ck_assert_str_eq(sum.org_name, "Example & Co");
	ck_assert_str_eq(sum.email, "dmarc@example.net");
	ck_assert_str_eq(sum.report_id, "<r-1@example.net>");
	ck_assert_str_eq(sum.domain, "example.com");
	ck_assert_int_eq(sum.begin, 1700000000);
	ck_assert_int_eq(sum.end, 1700086399);
	ck_assert_uint_eq(sum.records, 2);
	ck_assert_uint_eq(sum.messages, 43);
	ck_assert_uint_eq(sum.skipped, 1);
	buf_clear(&t.dump);
}
END_TEST

/* --- hand-made documents ------------------------------------------------ */

#define META	"<report_metadata><org_name>Org</org_name>" \
		"<email>d@example.net</email><report_id>id-1</report_id>" \
		"<date_range><begin>1700000000</begin><end>1700086399</end>" \
		"</date_range></report_metadata>"
#define POL	"<policy_published><domain>example.com</domain><p>none</p>" \
		"</policy_published>"
#define ROW(ip, count) \
		"<row><source_ip>" ip "</source_ip><count>" count \
		"</count><policy_evaluated><disposition>none</disposition>" \
		"<dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>"
#define IDS	"<identifiers><header_from>example.com</header_from>" \
		"</identifiers>"
#define REC	"<record>" ROW("192.0.2.1", "1") IDS "</record>"
#define DOC(x)	"<feedback>" META POL x "</feedback>"
#define NEST8	"<x><x><x><x><x><x><x><x>"
#define END8	"</x></x></x></x></x></x></x></x>"

struct inline_case {
	const char	*name;
	const char	*xml;
	int		 rc;
	const char	*want;	/* in err.msg, or in the sink's dump */
};

static const struct inline_case cases[] = {
	/* namespaces, order, values */
	{ "ns_dmarc_2_prefixed",
	    "<ns0:feedback xmlns:ns0=\"urn:ietf:params:xml:ns:dmarc-2.0\">"
	    "<ns0:report_metadata><ns0:org_name>Org</ns0:org_name>"
	    "<ns0:report_id>r</ns0:report_id><ns0:date_range><ns0:begin>"
	    "1700000000</ns0:begin><ns0:end>1700000001</ns0:end>"
	    "</ns0:date_range></ns0:report_metadata><ns0:policy_published>"
	    "<ns0:domain>example.com</ns0:domain><ns0:p>none</ns0:p>"
	    "</ns0:policy_published><ns0:record><ns0:row><ns0:source_ip>"
	    "192.0.2.9</ns0:source_ip><ns0:count>3</ns0:count></ns0:row>"
	    "</ns0:record></ns0:feedback>", 0,
	    "report ns=urn:ietf:params:xml:ns:dmarc-2.0 version=(null) "
	    "org=Org email=(null)" },
	{ "ns_dmarc_org_0_2",
	    "<feedback xmlns=\"http://dmarc.org/dmarc-xml/0.2\">" META POL REC
	    "</feedback>", 0, "report ns=http://dmarc.org/dmarc-xml/0.2 " },
	{ "ns_dmarc_org_0_1",
	    "<feedback xmlns=\"http://dmarc.org/dmarc-xml/0.1\">" META POL REC
	    "</feedback>", 0, "report ns=http://dmarc.org/dmarc-xml/0.1 " },
	{ "ns_none", DOC(REC), 0, "report ns=(null) " },
	{ "metadata_any_order",
	    "<feedback><report_metadata><date_range><end>1700086399</end>"
	    "<begin>1700000000</begin></date_range><report_id>z</report_id>"
	    "<email>e@x</email><org_name>O</org_name></report_metadata>"
	    POL REC "</feedback>", 0,
	    "org=O email=e@x extra=(null) id=z begin=1700000000 "
	    "end=1700086399" },
	{ "policy_before_metadata", "<feedback>" POL META REC "</feedback>", 0,
	    "end records=1 messages=1 skipped=0" },
	{ "enum_hardfail_pass_empty_type",
	    DOC("<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
	    "<policy_evaluated><disposition>None</disposition><dkim>Pass"
	    "</dkim><spf> fail </spf><reason><type/></reason>"
	    "</policy_evaluated></row>" IDS "<auth_results><spf><domain>"
	    "example.com</domain><result>HardFail</result></spf>"
	    "</auth_results></record>"), 0,
	    "disposition=none dkim=pass spf=fail reasons=[-:(null)] " },
	{ "enum_hardfail_raw",
	    DOC("<record>" ROW("192.0.2.1", "1") IDS "<auth_results><spf>"
	    "<domain>example.com</domain><result>HardFail</result></spf>"
	    "</auth_results></record>"), 0,
	    "auth_spf=[example.com,-,fail~hardfail,(null)]" },
	{ "ipv6_canonical", DOC("<record>"
	    ROW("2001:0DB8:0000:0000:0000:0000:0000:00A1", "1") IDS
	    "</record>"), 0, "record ip=2001:db8::a1 count=1 " },
	{ "ipv4_mapped", DOC("<record>" ROW(" ::FFFF:192.0.2.1 ", "1") IDS
	    "</record>"), 0, "record ip=::ffff:192.0.2.1 " },
	{ "count_white_space", DOC("<record>" ROW("192.0.2.1", "\n\t 7 \r\n")
	    "</record>"), 0, "record ip=192.0.2.1 count=7 " },
	{ "count_int64_max",
	    DOC("<record>" ROW("192.0.2.1", "9223372036854775807")
	    "</record>"), 0, "count=9223372036854775807 " },
	{ "several_dkim_spf_reasons",
	    DOC("<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
	    "<policy_evaluated><disposition>quarantine</disposition><dkim>"
	    "fail</dkim><spf>fail</spf><reason><type>forwarded</type>"
	    "<comment>list</comment></reason><reason><type>sampled_out"
	    "</type></reason><reason><comment>why</comment><type>Other</type>"
	    "</reason></policy_evaluated></row>" IDS "<auth_results><dkim>"
	    "<domain>a.example</domain><result>pass</result></dkim><dkim>"
	    "<selector>s</selector><domain>b.example</domain><result>fail"
	    "</result></dkim><dkim><domain>c.example</domain><result>none"
	    "</result></dkim><spf><domain>a.example</domain><scope>helo"
	    "</scope><result>pass</result></spf><spf><domain/><scope>MFROM"
	    "</scope><result>softfail</result></spf></auth_results>"
	    "</record>"), 0,
	    "reasons=[forwarded:list;sampled_out:(null);other:why] to=(null) "
	    "from=(null) header_from=example.com auth_dkim=[a.example,(null),"
	    "pass,(null);b.example,s,fail,(null);c.example,(null),none,(null)]"
	    " auth_spf=[a.example,helo,pass,(null);,mfrom,softfail,(null)]" },
	{ "extension_elements_skipped",
	    "<feedback><version>1.0</version><report_metadata><org_name>O"
	    "</org_name><report_id>r</report_id><date_range><begin>1700000000"
	    "</begin><v:x xmlns:v=\"urn:v\"><begin>5</begin></v:x><end>"
	    "1700000001</end></date_range><vendor><org_name>no</org_name>"
	    "</vendor></report_metadata><policy_published><domain>example.com"
	    "</domain><p>none</p><unknown><p>reject</p></unknown>"
	    "</policy_published><extension><record><row><source_ip>192.0.2.7"
	    "</source_ip><count>9</count></row></record></extension><record>"
	    "<row><source_ip>192.0.2.1</source_ip><count>1</count><extra>"
	    "<count>5</count></extra></row><identifiers><foo>bar</foo>"
	    "<header_from>example.com</header_from></identifiers>"
	    "<auth_results><arc>x</arc></auth_results><any><record/></any>"
	    "</record><extension/></feedback>", 0,
	    "org=O email=(null) extra=(null) id=r begin=1700000000 "
	    "end=1700000001 generator=(null) errors= domain=example.com "
	    "discovery=- adkim=- aspf=- p=none sp=- np=- pct=-1 fo=(null) "
	    "testing=-\nrecord ip=192.0.2.1 count=1 " },
	{ "entity_amp_split_text",
	    "<feedback><report_metadata><org_name>A &amp; B &#x41;&#66;"
	    "</org_name><report_id>r</report_id><date_range><begin>"
	    "1700000000</begin><end>1700000001</end></date_range>"
	    "</report_metadata>" POL REC "</feedback>", 0, "org=A & B AB " },
	{ "cdata_value",
	    "<feedback><report_metadata><org_name><![CDATA[X<Y>&]]>"
	    "</org_name><report_id>r</report_id><date_range><begin>"
	    "1700000000</begin><end>1700000001</end></date_range>"
	    "</report_metadata>" POL REC "</feedback>", 0, "org=X<Y>& " },
	{ "comment_inside_value",
	    "<feedback><report_metadata><org_name>Or<!-- c -->g</org_name>"
	    "<report_id>r</report_id><date_range><begin>1700000000</begin>"
	    "<end>1700000001</end></date_range></report_metadata>" POL REC
	    "</feedback>", 0, "org=Org " },
	{ "windows_1252",
	    "<?xml version=\"1.0\" encoding=\"windows-1252\"?>"
	    "<feedback><report_metadata><org_name>Caf\xe9 \x80</org_name>"
	    "<report_id>r</report_id><date_range><begin>1700000000</begin>"
	    "<end>1700000001</end></date_range></report_metadata>" POL REC
	    "</feedback>", 0, "org=Caf\xc3\xa9 \xe2\x82\xac " },
	{ "iso_8859_1",
	    "<?xml version='1.0' encoding='ISO-8859-1'?>"
	    "<feedback><report_metadata><org_name>M\xfcller</org_name>"
	    "<report_id>r</report_id><date_range><begin>1700000000</begin>"
	    "<end>1700000001</end></date_range></report_metadata>" POL REC
	    "</feedback>", 0, "org=M\xc3\xbcller " },
	{ "utf8_bom", "\xef\xbb\xbf<?xml version=\"1.0\"?>" DOC(REC), 0,
	    "end records=1 messages=1 skipped=0" },
	{ "empty_org_name_email_names_reporter",
	    "<feedback><report_metadata><org_name/><email>d@x</email>"
	    "<report_id>r</report_id><date_range><begin>1700000000</begin>"
	    "<end>1700000001</end></date_range></report_metadata>" POL REC
	    "</feedback>", 0, "org= email=d@x " },
	{ "pct_empty_is_absent",
	    "<feedback>" META "<policy_published><domain>example.com</domain>"
	    "<p>none</p><pct/></policy_published>" REC "</feedback>", 0,
	    " pct=-1 " },
	{ "null_record_only", DOC("<record>" ROW("", "0") "</record>"), 0,
	    "end records=0 messages=0 skipped=1" },
	{ "row_without_ip_skipped",
	    DOC("<record><row><count>4</count></row></record>" REC
	    "<record>" ROW("not-an-ip", "2") "</record>"), 0,
	    "end records=1 messages=1 skipped=2" },
	{ "depth_16_accepted", DOC(NEST8 "<x><x><x><x><x><x><x>"
	    "</x></x></x></x></x></x></x>" END8 REC), 0,
	    "end records=1" },
	/* what follows the root is never looked at */
	{ "bytes_after_feedback", DOC(REC) "garbage <<< &&& \xff\xfe </x>", 0,
	    "end records=1" },
	{ "second_root_after_feedback", DOC(REC) "<feedback>", 0,
	    "end records=1" },
	{ "fake_end_in_comment", "<feedback><!-- </feedback> -->" META POL
	    "<!-- --> -->" REC "</feedback>", 0, "end records=1" },
	{ "fake_end_in_cdata",
	    "<feedback><report_metadata><org_name><![CDATA[</feedback>]]]]>"
	    "</org_name><report_id>r</report_id><date_range><begin>"
	    "1700000000</begin><end>1700000001</end></date_range>"
	    "</report_metadata>" POL REC "</feedback>", 0,
	    "org=</feedback>]] " },
	{ "fake_end_in_attribute_and_pi",
	    "<?xml version='1.0'?><?pi </feedback> ?><feedback a='x>y' "
	    "b=\"/>\">" META POL "<extension z='/feedback>'/>" REC
	    "</feedback>", 0, "end records=1" },
	{ "nested_feedback_in_extension",
	    DOC("<extension><feedback>x</feedback><feedback/></extension>" REC),
	    0, "end records=1" },

	/* refused */
	{ "empty_document", "", -1, "xml: empty document" },
	{ "white_space_only", "  \n ", -1, "xml: empty document" },
	{ "not_feedback", "<?xml version=\"1.0\"?><invalid_root/>", -1,
	    "xml: root element is <invalid_root>, not <feedback>" },
	{ "not_xml", "unused", -1,
	    "xml: line 1: Start tag expected, '<' not found (column 1)" },
	{ "tag_mismatch", "<feedback>\n" META "\n<policy_published></policy>",
	    -1, "xml: line 3: Opening and ending tag mismatch: "
	    "policy_published line 3 and policy" },
	{ "invalid_utf8",
	    "<feedback><report_metadata><org_name>a\xff</org_name>", -1,
	    "xml: line 1: Input is not proper UTF-8" },
	{ "control_char", "<feedback><report_metadata><org_name>a\x07"
	    "</org_name>", -1, "xml: line 1: PCDATA invalid Char value 7" },
	{ "undeclared_entity", "<feedback><report_metadata><org_name>&e;"
	    "</org_name>", -1, "xml: entity reference refused" },
	{ "doctype", "<!DOCTYPE feedback>" DOC(REC), -1,
	    "xml: DOCTYPE refused" },
	{ "xxe",
	    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM "
	    "\"file:///etc/passwd\">]><feedback><report_metadata><org_name>"
	    "&e;</org_name><report_id>r</report_id></report_metadata>"
	    "</feedback>", -1, "xml: DOCTYPE refused" },
	{ "xxe_parameter_entity",
	    "<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
	    DOC(REC), -1, "xml: DOCTYPE refused" },
	{ "external_dtd",
	    "<!DOCTYPE feedback SYSTEM \"file:///etc/passwd\">" DOC(REC), -1,
	    "xml: DOCTYPE refused" },
	{ "external_dtd_http",
	    "<!DOCTYPE feedback PUBLIC \"-//x//y\" \"http://192.0.2.1/x.dtd\">"
	    DOC(REC), -1, "xml: DOCTYPE refused" },
	{ "billion_laughs",
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"
	    "&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"
	    "&lol1;&lol1;&lol1;&lol1;\"><!ENTITY lol3 \"&lol2;&lol2;&lol2;"
	    "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\"><!ENTITY lol4 "
	    "\"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"
	    "&lol4;&lol4;\"><!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;"
	    "&lol5;&lol5;&lol5;&lol5;&lol5;\"><!ENTITY lol7 \"&lol6;&lol6;"
	    "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\"><!ENTITY lol8"
	    " \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;"
	    "&lol8;&lol8;\">]><feedback><report_metadata><org_name>&lol9;"
	    "</org_name></report_metadata></feedback>", -1,
	    "xml: DOCTYPE refused" },
	{ "depth_17", DOC(NEST8 NEST8 END8 END8 REC), -1,
	    "xml: elements nested deeper than 16" },
	{ "begin_after_end",
	    "<feedback><report_metadata><org_name>O</org_name><report_id>r"
	    "</report_id><date_range><begin>1700086399</begin><end>1700000000"
	    "</end></date_range></report_metadata>" POL REC "</feedback>", -1,
	    "xml: date_range begin 1700086399 is after end 1700000000" },
	{ "end_after_2100",
	    "<feedback><report_metadata><org_name>O</org_name><report_id>r"
	    "</report_id><date_range><begin>1700000000</begin><end>4102444801"
	    "</end></date_range></report_metadata>" POL REC "</feedback>", -1,
	    "xml: date_range end 4102444801 (2100-01-01T00:00:01Z) is after "
	    "2100" },
	{ "begin_in_milliseconds",
	    "<feedback><report_metadata><org_name>O</org_name><report_id>r"
	    "</report_id><date_range><begin>1700000000000</begin><end>"
	    "1700000000001</end></date_range></report_metadata>" POL REC
	    "</feedback>", -1, "xml: date_range begin 1700000000000" },
	{ "begin_negative",
	    "<feedback><report_metadata><org_name>O</org_name><report_id>r"
	    "</report_id><date_range><begin>-5</begin><end>1700000000</end>"
	    "</date_range></report_metadata>" POL REC "</feedback>", -1,
	    "xml: <begin> '-5' is not a number" },
	{ "begin_missing",
	    "<feedback><report_metadata><org_name>O</org_name><report_id>r"
	    "</report_id><date_range><end>1700000000</end></date_range>"
	    "</report_metadata>" POL REC "</feedback>", -1,
	    "xml: <date_range> lacks <begin>" },
	{ "report_id_empty",
	    "<feedback><report_metadata><org_name>O</org_name><report_id> "
	    "</report_id><date_range><begin>1700000000</begin><end>1700000000"
	    "</end></date_range></report_metadata>" POL REC "</feedback>", -1,
	    "xml: <report_id> missing or empty" },
	{ "no_reporter",
	    "<feedback><report_metadata><org_name/><email> </email><report_id>"
	    "r</report_id><date_range><begin>1700000000</begin><end>1700000000"
	    "</end></date_range></report_metadata>" POL REC "</feedback>", -1,
	    "xml: neither <org_name> nor <email>" },
	{ "policy_without_domain",
	    "<feedback>" META "<policy_published><p>none</p>"
	    "</policy_published>" REC "</feedback>", -1,
	    "xml: <policy_published> lacks <domain>" },
	{ "policy_without_p",
	    "<feedback>" META "<policy_published><domain>example.com</domain>"
	    "</policy_published>" REC "</feedback>", -1,
	    "xml: <policy_published> lacks <p>" },
	{ "pct_over_100",
	    "<feedback>" META "<policy_published><domain>example.com</domain>"
	    "<p>none</p><pct>150</pct></policy_published>" REC "</feedback>",
	    -1, "xml: <pct> '150' is not a number up to 100" },
	{ "record_before_policy", "<feedback>" META REC POL "</feedback>", -1,
	    "xml: <record> before <policy_published>" },
	{ "record_before_metadata", "<feedback>" POL REC META "</feedback>",
	    -1, "xml: <record> before <report_metadata>" },
	{ "second_report_metadata", "<feedback>" META META POL REC
	    "</feedback>", -1, "xml: second <report_metadata>" },
	{ "second_policy_published", "<feedback>" META POL POL REC
	    "</feedback>", -1, "xml: second <policy_published>" },
	{ "policy_after_records", "<feedback>" META POL REC POL "</feedback>",
	    -1, "xml: second <policy_published>" },
	{ "second_org_name",
	    "<feedback><report_metadata><org_name>a</org_name><org_name>b"
	    "</org_name>", -1, "xml: second <org_name>" },
	{ "second_source_ip",
	    DOC(REC "<record><row><source_ip>192.0.2.1</source_ip><source_ip>"
	    "192.0.2.2</source_ip></row></record>"), -1,
	    "xml: record 2: second <source_ip>" },
	{ "no_record", DOC(""), -1, "xml: no <record>" },
	{ "no_metadata", "<feedback/>", -1, "xml: no <report_metadata>" },
	{ "count_missing", DOC("<record><row><source_ip>192.0.2.1"
	    "</source_ip></row></record>"), -1,
	    "xml: record 1: <count> missing or empty" },
	{ "count_empty", DOC("<record>" ROW("192.0.2.1", " ") "</record>"),
	    -1, "xml: record 1: <count> missing or empty" },
	{ "count_junk", DOC(REC "<record>" ROW("192.0.2.1", "12a")
	    "</record>"), -1, "xml: record 2: <count> '12a' is not a number" },
	{ "count_over_int64", DOC("<record>"
	    ROW("192.0.2.1", "9223372036854775808") "</record>"), -1,
	    "is not a number up to 9223372036854775807" },
	{ "count_sum_over_int64", DOC("<record>"
	    ROW("192.0.2.1", "9223372036854775807") "</record><record>"
	    ROW("192.0.2.2", "1") "</record>"), -1,
	    "xml: record 2: message count over" },
	{ "truncated_before_end", "<feedback>" META POL REC REC, -1,
	    "xml: line 1: " },
};

START_TEST(test_parse_inline)
{
	const struct inline_case *c = &cases[_i];
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	int			 rc;

	rc = run(c->xml, &t, &sum, &err);
	ck_assert_msg(rc == c->rc, "%s: rc %d: %s\n%s", c->name, rc, err.msg,
	    buf_cstr(&t.dump));
	if (rc == -1) {
		ck_assert_int_eq(err.scope, DM_EMSG);
		ck_assert_msg(strstr(err.msg, c->want) != NULL,
		    "%s: '%s' lacks '%s'", c->name, err.msg, c->want);
	} else
		ck_assert_msg(strstr(buf_cstr(&t.dump), c->want) != NULL,
		    "%s: dump lacks '%s':\n%s", c->name, c->want,
		    buf_cstr(&t.dump));
	buf_clear(&t.dump);
}
END_TEST

/* A document as UTF-16 with a BOM, little or big endian. */
static char *
utf16(const char *ascii, int be, size_t *lenp)
{
	size_t	 n = strlen(ascii), i;
	char	*p = xmalloc(2 * n + 2);

	p[0] = be ? '\xfe' : '\xff';
	p[1] = be ? '\xff' : '\xfe';
	for (i = 0; i < n; i++) {
		p[2 + 2 * i + (be ? 1 : 0)] = ascii[i];
		p[2 + 2 * i + (be ? 0 : 1)] = '\0';
	}
	*lenp = 2 * n + 2;
	return p;
}

START_TEST(test_parse_utf16)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	size_t			 len;
	char			*doc;

	dm_limits_default(&lim);
	doc = utf16("<?xml version=\"1.0\" encoding=\"UTF-16\"?>" DOC(REC REC),
	    _i, &len);
	ck_assert_msg(run_lim(doc, len, &lim, &t, &sum, &err) == 0, "%s",
	    err.msg);
	ck_assert_str_eq(sum.org_name, "Org");
	ck_assert_uint_eq(t.nrecord, 2);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&t.dump),
	    "record ip=192.0.2.1 count=1 disposition=none dkim=pass"));
	free(doc);
	buf_clear(&t.dump);
}
END_TEST

/* --- generated documents ---------------------------------------------- */

/* A report with n records, each with what per_record gives. */
static void
gen(struct buf *b, unsigned n, const char *per_record)
{
	unsigned	 i;

	buf_init(b, 64u << 20);
	buf_adds(b, "<feedback>" META POL);
	for (i = 0; i < n; i++)
		buf_printf(b, "<record><row><source_ip>10.%u.%u.%u</source_ip>"
		    "<count>%u</count></row>%s" IDS "</record>\n",
		    (i >> 16) & 255, (i >> 8) & 255, i & 255, i % 7 + 1,
		    per_record);
	buf_adds(b, "</feedback>");
}

/* n copies of s */
static char *
rep(const char *s, unsigned n)
{
	size_t	 len = strlen(s);
	char	*p = xmalloc(len * n + 1);
	unsigned i;

	for (i = 0; i < n; i++)
		memcpy(p + i * len, s, len);
	p[len * n] = '\0';
	return p;
}

START_TEST(test_parse_rejects_long_fields)
{
	static const struct {
		const char	*pre, *post;
		unsigned	 ok, over;
		const char	*reason;
	} f[] = {
		{ "<feedback><report_metadata><org_name>", "</org_name>"
		    "<report_id>r</report_id><date_range><begin>1700000000"
		    "</begin><end>1700000001</end></date_range>"
		    "</report_metadata>" POL REC "</feedback>", 1024, 1025,
		    "xml: <org_name> longer than 1024 bytes" },
		{ "<feedback>" META "<policy_published><domain>",
		    "</domain><p>none</p></policy_published>" REC "</feedback>",
		    255, 256, "xml: <domain> longer than 255 bytes" },
		{ "<feedback>" META POL "<record>" ROW("192.0.2.1", "1")
		    "<identifiers><header_from>", "</header_from>"
		    "</identifiers></record></feedback>", 255, 256,
		    "xml: record 1: <header_from> longer than 255 bytes" },
		{ "<feedback>" META POL "<record><row><source_ip>192.0.2.1"
		    "</source_ip><count>1</count><policy_evaluated><reason>"
		    "<comment>", "</comment></reason></policy_evaluated></row>"
		    "</record></feedback>", DM_MAX_COMMENT, DM_MAX_COMMENT + 1,
		    "xml: record 1: <comment> longer than 65536 bytes" },
	};
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	char			*v;
	size_t			 i;
	int			 pass;

	for (i = 0; i < nitems(f); i++)
		for (pass = 0; pass < 2; pass++) {
			/* split by entities: the cap is on the whole value */
			v = rep("a&amp;", (pass ? f[i].over : f[i].ok) / 2);
			buf_init(&b, 1u << 20);
			buf_printf(&b, "%s%s%s%s", f[i].pre, v,
			    (pass ? f[i].over : f[i].ok) % 2 ? "b" : "",
			    f[i].post);
			err.msg[0] = '\0';
			ck_assert_int_eq(run(buf_cstr(&b), &t, &sum, &err),
			    pass ? -1 : 0);
			if (pass)
				ck_assert_str_eq(err.msg, f[i].reason);
			buf_clear(&t.dump);
			buf_clear(&b);
			free(v);
		}
}
END_TEST

START_TEST(test_parse_rejects_too_many_repeats)
{
	static const struct {
		const char	*pre, *one, *post;
		unsigned	 max;
		const char	*reason;
	} f[] = {
		{ "<row><source_ip>192.0.2.1</source_ip><count>1</count>"
		    "<policy_evaluated>", "<reason><type>other</type></reason>",
		    "</policy_evaluated></row>", DM_MAX_REASONS,
		    "xml: record 1: more than 32 <reason>" },
		{ ROW("192.0.2.1", "1") "<auth_results>",
		    "<dkim><domain>d</domain><result>pass</result></dkim>",
		    "</auth_results>", DM_MAX_AUTH_DKIM,
		    "xml: record 1: more than 100 <dkim> in <auth_results>" },
		{ ROW("192.0.2.1", "1") "<auth_results>",
		    "<spf><domain>d</domain><result>pass</result></spf>",
		    "</auth_results>", DM_MAX_AUTH_SPF,
		    "xml: record 1: more than 16 <spf> in <auth_results>" },
	};
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	char			*many;
	size_t			 i;
	int			 pass;

	for (i = 0; i < nitems(f); i++)
		for (pass = 0; pass < 2; pass++) {
			many = rep(f[i].one, f[i].max + (unsigned)pass);
			buf_init(&b, 1u << 20);
			buf_printf(&b, "<feedback>" META POL "<record>%s%s%s"
			    "</record></feedback>", f[i].pre, many, f[i].post);
			err.msg[0] = '\0';
			ck_assert_msg(run(buf_cstr(&b), &t, &sum, &err) ==
			    (pass ? -1 : 0), "%s", err.msg);
			if (pass)
				ck_assert_str_eq(err.msg, f[i].reason);
			else
				ck_assert_uint_eq(t.nrecord, 1);
			buf_clear(&t.dump);
			buf_clear(&b);
			free(many);
		}
}
END_TEST

START_TEST(test_parse_rejects_too_many_errors)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	char			*errs;
	int			 pass;

	for (pass = 0; pass < 2; pass++) {
		errs = rep("<error>e</error>", DM_MAX_ERRORS + pass);
		buf_init(&b, 1u << 20);
		buf_printf(&b, "<feedback><report_metadata><org_name>O"
		    "</org_name><report_id>r</report_id>%s<date_range><begin>"
		    "1700000000</begin><end>1700000001</end></date_range>"
		    "</report_metadata>" POL REC "</feedback>", errs);
		ck_assert_int_eq(run(buf_cstr(&b), &t, &sum, &err),
		    pass ? -1 : 0);
		if (pass)
			ck_assert_str_eq(err.msg, "xml: more than 64 <error>");
		else
			ck_assert_ptr_nonnull(strstr(buf_cstr(&t.dump),
			    "errors=e|e|e|"));
		buf_clear(&t.dump);
		buf_clear(&b);
		free(errs);
	}
}
END_TEST

START_TEST(test_parse_rejects_too_many_records)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct buf		 b;

	dm_limits_default(&lim);
	lim.max_records = 3;
	gen(&b, 3, "");
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), 0);
	ck_assert_uint_eq(t.nrecord, 3);
	buf_clear(&t.dump);
	buf_clear(&b);

	gen(&b, 4, "");
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), -1);
	ck_assert_str_eq(err.msg, "xml: more than 3 records");
	ck_assert_uint_eq(t.nrecord, 3);
	ck_assert_int_eq(t.nabort, 1);
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

/* --- streams that end or fail early ----------------------------------- */

START_TEST(test_parse_truncated_aborts)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct buf		 b;

	dm_limits_default(&lim);
	gen(&b, 200, "");
	/* EOF halfway: records were handed, yet no report at all */
	ck_assert_int_eq(run_lim(b.data, b.len / 2, &lim, &t, &sum, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "xml: line "));
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_uint_gt(t.nrecord, 0);
	ck_assert_int_eq(t.nabort, 1);
	ck_assert_int_eq(t.nend, 0);
	ck_assert_uint_gt(sum.records, 0);
	buf_clear(&t.dump);
	/* one byte short of the end */
	ck_assert_int_eq(run_lim(b.data, b.len - 1, &lim, &t, &sum, &err), -1);
	ck_assert_int_eq(t.nabort, 1);
	ck_assert_uint_eq(t.nrecord, 200);
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

START_TEST(test_parse_stream_error_wins)
{
	struct tsink		 t = { 0 };
	struct report_sink	 s;
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct memrd		 m;
	struct buf		 b;
	int			 rc;

	dm_limits_default(&lim);
	gen(&b, 200, "");
	tsink_init(&t, &s);
	memrd_init(&m, b.data, b.len);
	m.chunk = 1000;
	m.fail_at = b.len / 2;
	rc = parse_report(&m.rd, &lim, &s, &sum, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.msg, "gzip: truncated");
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_uint_gt(t.nrecord, 0);
	ck_assert_int_eq(t.nabort, 1);
	ck_assert_int_eq(t.nend, 0);
	buf_clear(&t.dump);

	/* failing on the very first read */
	tsink_init(&t, &s);
	memrd_init(&m, b.data, b.len);
	m.fail_at = 0;
	ck_assert_int_eq(parse_report(&m.rd, &lim, &s, &sum, &err), -1);
	ck_assert_str_eq(err.msg, "gzip: truncated");
	ck_assert_int_eq(t.nbegin, 0);
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

START_TEST(test_parse_stops_reading_at_end)
{
	struct tsink		 t = { 0 };
	struct report_sink	 s;
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct memrd		 m;
	struct buf		 b;
	size_t			 doc, i;

	dm_limits_default(&lim);
	gen(&b, 50, "");
	doc = b.len;
	for (i = 0; i < 100000; i++)
		buf_addc(&b, "<&]>\xff"[i % 5]);
	tsink_init(&t, &s);
	memrd_init(&m, b.data, b.len);
	m.chunk = 4096;
	m.fail_at = doc + 1;	/* reads beyond the document fail */
	ck_assert_msg(parse_report(&m.rd, &lim, &s, &sum, &err) == 0, "%s",
	    err.msg);
	ck_assert_uint_eq(t.nrecord, 50);
	ck_assert_uint_le(m.max_off, doc + 1);
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

/* --- the sink's answers ----------------------------------------------- */

START_TEST(test_parse_duplicate_counts_but_hands_nothing)
{
	struct tsink		 t = { .begin_rc = 1 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct buf		 b;

	dm_limits_default(&lim);
	gen(&b, 10, "");
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), 1);
	ck_assert_uint_eq(t.nrecord, 0);
	ck_assert_int_eq(t.nend, 1);
	ck_assert_uint_eq(sum.records, 10);
	ck_assert_uint_eq(sum.messages, 1 + 2 + 3 + 4 + 5 + 6 + 7 + 1 + 2 + 3);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&t.dump),
	    "end records=10 messages=34 skipped=0"));
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

START_TEST(test_parse_sink_failures)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct buf		 b;

	dm_limits_default(&lim);
	gen(&b, 10, "");

	t.fail_record = 2;
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), -1);
	ck_assert_str_eq(err.msg, "store: record failed");
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_int_eq(t.nabort, 1);
	ck_assert_int_eq(t.nend, 0);
	ck_assert_uint_eq(t.nrecord, 2);
	buf_clear(&t.dump);

	memset(&t, 0, sizeof(t));
	t.begin_rc = -1;
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), -1);
	ck_assert_str_eq(err.msg, "store: begin failed");
	ck_assert_int_eq(t.nabort, 0);
	ck_assert_uint_eq(t.nrecord, 0);
	buf_clear(&t.dump);

	memset(&t, 0, sizeof(t));
	t.fail_end = 1;
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), -1);
	ck_assert_str_eq(err.msg, "store: commit failed");
	ck_assert_int_eq(t.nabort, 0);
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

/* --- no DTD, ever ----------------------------------------------------- */

static int	 loader_calls;

static xmlParserInputPtr
counting_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	loader_calls++;
	return NULL;
}

START_TEST(test_parse_never_asks_the_entity_loader)
{
	static const char	*const hostile[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM "
		    "\"file:///etc/passwd\">]><feedback><report_metadata>"
		    "<org_name>&e;</org_name></report_metadata></feedback>",
		"<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>"
		    "<feedback/>",
		"<!DOCTYPE feedback SYSTEM \"file:///etc/passwd\"><feedback/>",
		"<feedback xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
		    "<xi:include href=\"file:///etc/passwd\" parse=\"text\"/>"
		    "</feedback>",
	};
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	xmlDocPtr		 d;
	size_t			 i;

	xmlSetExternalEntityLoader(counting_loader);
	/* the harness works: an unsafe parse does ask */
	loader_calls = 0;
	d = xmlReadMemory(hostile[2], (int)strlen(hostile[2]), NULL, NULL,
	    XML_PARSE_DTDLOAD | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlFreeDoc(d);
	ck_assert_int_gt(loader_calls, 0);

	loader_calls = 0;
	for (i = 0; i < nitems(hostile); i++) {
		ck_assert_int_eq(run(hostile[i], &t, &sum, &err), -1);
		buf_clear(&t.dump);
	}
	ck_assert_int_eq(loader_calls, 0);
	parse_init();	/* the refusing loader again */
}
END_TEST

/* --- memory stays flat ------------------------------------------------ */

START_TEST(test_parse_memory_flat)
{
	struct tsink		 t = { 0 };
	struct parse_summary	 sum;
	struct dm_err		 err = { 0 };
	struct dm_limits	 lim;
	struct buf		 b;

	dm_limits_default(&lim);
	gen(&b, 30000, "<auth_results><dkim><domain>example.com</domain>"
	    "<selector>s</selector><result>pass</result><human_result>a "
	    "human result</human_result></dkim><spf><domain>example.com"
	    "</domain><result>pass</result></spf></auth_results>");
	ck_assert_int_eq(run_lim(b.data, b.len, &lim, &t, &sum, &err), 0);
	ck_assert_uint_eq(t.nrecord, 30000);
	ck_assert_uint_eq(sum.records, 30000);
	/* the dump stops at 1000 records: what grows is the parser */
	ck_assert_msg(t.heap_max < t.heap_base + (256u << 10),
	    "heap grew from %zu to %zu", t.heap_base, t.heap_max);
	buf_clear(&t.dump);
	buf_clear(&b);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("parse");
	TCase	*tc = tcase_create("parse");

	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_parse_samples, 0, nitems(samples));
	tcase_add_test(tc, test_parse_full_report_exact);
	tcase_add_loop_test(tc, test_parse_inline, 0, nitems(cases));
	tcase_add_loop_test(tc, test_parse_utf16, 0, 2);
	tcase_add_test(tc, test_parse_rejects_long_fields);
	tcase_add_test(tc, test_parse_rejects_too_many_repeats);
	tcase_add_test(tc, test_parse_rejects_too_many_errors);
	tcase_add_test(tc, test_parse_rejects_too_many_records);
	tcase_add_test(tc, test_parse_truncated_aborts);
	tcase_add_test(tc, test_parse_stream_error_wins);
	tcase_add_test(tc, test_parse_stops_reading_at_end);
	tcase_add_test(tc, test_parse_duplicate_counts_but_hands_nothing);
	tcase_add_test(tc, test_parse_sink_failures);
	tcase_add_test(tc, test_parse_never_asks_the_entity_loader);
	tcase_add_test(tc, test_parse_memory_flat);
	suite_add_tcase(s, tc);
	return s;
}
