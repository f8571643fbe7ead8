/*
 * check_mime.c: mail messages to leaf parts (src/mime.c).
 *
 * Real mail from tests/data/mime/ (see README.md there), hand-made
 * messages (each run with LF and with CRLF line ends) and the bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "test.h"
#include "bounds.h"
#include "buf.h"
#include "mime.h"

/* Not in mime.h: the decoder's cap, which no message can reach. */
int	mime_decode_part(GMimePart *part, size_t max, struct buf *out);

/* --- what fn saw ---------------------------------------------------- */

#define SEEN_MAX	80

struct seen_part {
	unsigned	 index;
	char		*content_type;
	char		*filename;
	unsigned char	*data;
	size_t		 len;
};

struct seen {
	struct seen_part parts[SEEN_MAX];
	unsigned	 n;
	unsigned	 stop_at;	/* return -1 on this index (0: never) */
};

static int
collect(void *arg, const struct mime_part *p, struct dm_err *err)
{
	struct seen		*s = arg;
	struct seen_part	*sp;

	ck_assert_uint_lt(s->n, SEEN_MAX);
	ck_assert_ptr_nonnull(p->data);
	ck_assert_ptr_nonnull(p->content_type);
	sp = &s->parts[s->n++];
	sp->index = p->index;
	sp->content_type = strdup(p->content_type);
	sp->filename = p->filename ? strdup(p->filename) : NULL;
	sp->data = malloc(p->len + 1);
	memcpy(sp->data, p->data, p->len);
	sp->len = p->len;
	if (s->stop_at != 0 && p->index == s->stop_at)
		return dm_err_set(err, DM_EMSG, "stopped at part %u", p->index);
	return 0;
}

static void
seen_clear(struct seen *s)
{
	unsigned	 i;

	for (i = 0; i < s->n; i++) {
		free(s->parts[i].content_type);
		free(s->parts[i].filename);
		free(s->parts[i].data);
	}
	memset(s, 0, sizeof(*s));
}

static int
run(const char *msg, size_t len, size_t max, struct mime_info *info,
    struct seen *s, struct dm_err *err)
{
	struct dm_limits	 lim;

	dm_limits_default(&lim);
	if (max != 0)
		lim.max_message = max;
	dm_err_clear(err);
	mime_init();
	return mime_parse((const unsigned char *)msg, len, &lim, info,
	    collect, s, err);
}

/* A copy of an LF text with CRLF line ends (free it). */
static char *
to_crlf(const char *lf)
{
	struct buf	 b;
	const char	*p;

	buf_init(&b, SIZE_MAX);
	for (p = lf; *p != '\0'; p++) {
		if (*p == '\n')
			buf_addc(&b, '\r');
		buf_addc(&b, *p);
	}
	buf_cstr(&b);
	return b.data;
}

/* data without its CRs equals want? */
static int
same_text(const unsigned char *data, size_t len, const char *want,
    size_t wantlen)
{
	size_t	 i, j = 0;

	for (i = 0; i < len; i++) {
		if (data[i] == '\r')
			continue;
		if (j == wantlen || data[i] != (unsigned char)want[j])
			return 0;
		j++;
	}
	return j == wantlen;
}

/* --- report bytes ---------------------------------------------------- */

/* gzip of a small XML report, and its base64 */
static const char GZ[] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xb3\xb1\xaf\xc8\xcd\x51"
    "\x28\x4b\x2d\x2a\xce\xcc\xcf\xb3\x55\x32\xd4\x33\x50\xb2\xb7\xb3"
    "\x49\x4b\x4d\x4d\x49\x4a\x4c\xce\xb6\xb3\x29\x4a\x2d\xc8\x2f\x2a"
    "\x89\xcf\x4d\x2d\x49\x4c\x49\x2c\x49\xd4\xb7\xb3\xd1\x87\x4b\x72"
    "\x01\x00\x66\xae\x5e\x4b\x3d\x00\x00\x00";
#define GZ_B64 \
    "H4sIAAAAAAACA7Oxr8jNUShLLSrOzM+zVTLUM1Cyt7NJS01NSUpMzrazKUotyC8qic9NLUlMSSxJ\n" \
    "1Lez0YdLcgEAZq5eSz0AAAA=\n"
#define GZ_UU \
    "begin 644 report.xml.gz\n" \
    "M'XL(       \" [.QK\\C-42A++2K.S,^S53+4,U\"RM[-)2TU-24I,SK:S*4HM\n" \
    "=R\"\\JB<]-+4E,22Q)U+>ST8=+<@$ 9JY>2ST     \n" \
    "`\n" \
    "end\n"

/* zip of one small XML report, and its base64 */
static const char ZIP[] =
    "\x50\x4b\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00\x21\x58\xd8\x81"
    "\xb5\x99\x23\x00\x00\x00\x21\x00\x00\x00\x05\x00\x00\x00\x72\x2e"
    "\x78\x6d\x6c\xb3\xb1\xaf\xc8\xcd\x51\x28\x4b\x2d\x2a\xce\xcc\xcf"
    "\xb3\x55\x32\xd4\x33\x50\xb2\xb7\xb3\x49\x4b\x4d\x4d\x49\x4a\x4c"
    "\xce\xd6\xb7\xe3\x02\x00\x50\x4b\x01\x02\x14\x03\x14\x00\x00\x00"
    "\x08\x00\x00\x00\x21\x58\xd8\x81\xb5\x99\x23\x00\x00\x00\x21\x00"
    "\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01"
    "\x00\x00\x00\x00\x72\x2e\x78\x6d\x6c\x50\x4b\x05\x06\x00\x00\x00"
    "\x00\x01\x00\x01\x00\x33\x00\x00\x00\x46\x00\x00\x00\x00\x00";
#define ZIP_B64 \
    "UEsDBBQAAAAIAAAAIVjYgbWZIwAAACEAAAAFAAAAci54bWyzsa/IzVEoSy0qzszPs1Uy1DNQsrez\n" \
    "SUtNTUlKTM7Wt+MCAFBLAQIUAxQAAAAIAAAAIVjYgbWZIwAAACEAAAAFAAAAAAAAAAAAAACAAQAA\n" \
    "AAByLnhtbFBLBQYAAAAAAQABADMAAABGAAAAAAA=\n"

/* --- real mail --------------------------------------------------------- */

struct sample_case {
	const char	*file;
	enum mime_kind	 kind;
	const char	*message_id;	/* NULL: none */
	const char	*subject;	/* a substring */
	const char	*from;		/* a substring */
	const char	*feedback_type;	/* NULL: none */
	unsigned	 nleaves;
	unsigned	 report;	/* leaf with the report, 0: none */
	const char	*content_type;	/* of that leaf */
	const char	*filename;
	const char	*magic;		/* its first bytes */
	size_t		 len;		/* its exact length */
};

static const struct sample_case samples[] = {
	{ "google-zip.eml", MIME_PLAIN, "949348866075514174@google.com",
	    "Report-ID: 949348866075514174", "noreply-dmarc-support@google.com",
	    NULL, 2, 2, "application/zip",
	    "google.com!borschow.com!1549929600!1550015999.zip",
	    "PK\3\4", 661 },
	{ "mailauth-100.eml", MIME_PLAIN, "5264580628977113351@google.com",
	    "Report domain: stalw.art", "google.com", NULL, 1, 1,
	    "application/zip", "google.com!stalw.art!1669507200!1669593599.zip",
	    "PK\3\4", 687 },
	{ "mailauth-101.eml", MIME_PLAIN, "afe541eab3ec091f@backschues.net",
	    /* folded over two lines in the file */
	    "Report Domain: stalw.art Submitter: backschues.net Report-ID: "
	    "stalw.art.1667948400.1668034800", "backschues.net", NULL, 2, 2,
	    "application/gzip",
	    "backschues.net!stalw.art!1667948400!1668034800.xml.gz",
	    "\x1f\x8b", 479 },
	{ "mailauth-103.eml", MIME_PLAIN,
	    "725cbfbe133940149987cfc528387235@microsoft.com",
	    /* base64 UTF-8 encoded word in the file */
	    "Report Domain: stalw.art Submitter: protection.outlook.com",
	    "dmarcreport@microsoft.com", NULL, 3, 3, "application/gzip",
	    "protection.outlook.com!stalw.art!1666483200!1666569600.xml.gz",
	    "\x1f\x8b", 593 },
	{ "failure-domainde.eml", MIME_FEEDBACK,
	    "OF587285BA.CB01D107-ONC1258319.00334FCF@LocalDomain",
	    "DMARC Failure Report for domain.de", "dmarc-report@domain.de",
	    "auth-failure", 3, 2, "message/feedback-report", "report",
	    "Feedback-Type: auth-failure", 416 },
	{ "failure-linkedin.eml", MIME_FEEDBACK,
	    "BB.91.26019.C3EA7CC5@mail516.prod.linkedin.com",
	    "DMARC Failure report for example.com", "dmarc-noreply@linkedin.com",
	    "auth-failure", 4, 2, "message/feedback-report", NULL,
	    "Feedback-Type: auth-failure", 420 },
	{ "failure-exim.eml", MIME_PLAIN,
	    "E1u1tpB-00AA5u-ED@node04.mailgate.example.net",
	    "DMARC Forensic Report for example.com",
	    "no-reply@node01.mailgate.example.net", NULL, 1, 1, "text/plain",
	    NULL, "A message claiming to be from you", 1814 },
	{ "arf-001.eml", MIME_FEEDBACK, NULL, "FW: Earn money",
	    "abusedesk@example.com", "abuse", 3, 2, "message/feedback-report",
	    NULL, "Feedback-Type: abuse", 62 },
	{ "arf-002.eml", MIME_FEEDBACK, NULL, "FW: Earn money",
	    "abusedesk@example.com", "abuse", 3, 2, "message/feedback-report",
	    NULL, "Feedback-Type: abuse", 499 },
	{ "arf-003.eml", MIME_FEEDBACK, NULL, "This is a test",
	    "arf-daemon@example.com", "auth-failure", 3, 2,
	    "message/feedback-report", NULL, "Feedback-Type: auth-failure", 380 },
	{ "arf-004.eml", MIME_FEEDBACK,
	    "20211005043702.CF8FA658E0@box.mydomain.name",
	    "FW: Wir kaufen dein Auto!", "opendmarc@box.mydomain.name",
	    "auth-failure", 3, 2, "message/feedback-report", NULL,
	    "Feedback-Type: auth-failure", 354 },
};

START_TEST(test_samples)
{
	const struct sample_case	*c = &samples[_i];
	const struct seen_part		*p;
	struct buf			 b;
	struct mime_info		 info;
	struct seen			 s = { 0 };
	struct dm_err			 err;
	unsigned			 i;
	int				 rc;

	buf_init(&b, 1u << 20);
	test_load(&b, "mime", c->file);
	rc = run(b.data, b.len, 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s: %s", c->file, err.msg);
	ck_assert_int_eq(info.kind, c->kind);
	if (c->message_id == NULL)
		ck_assert_ptr_null(info.message_id);
	else
		ck_assert_str_eq(info.message_id, c->message_id);
	ck_assert_ptr_nonnull(info.subject);
	ck_assert_msg(strstr(info.subject, c->subject) != NULL,
	    "%s: subject [%s]", c->file, info.subject);
	ck_assert_ptr_nonnull(info.from);
	ck_assert_msg(strstr(info.from, c->from) != NULL, "%s: from [%s]",
	    c->file, info.from);
	ck_assert_ptr_nonnull(info.date);
	if (c->feedback_type == NULL)
		ck_assert_ptr_null(info.feedback_type);
	else
		ck_assert_str_eq(info.feedback_type, c->feedback_type);
	ck_assert_uint_eq(info.nleaves, c->nleaves);
	ck_assert_uint_eq(s.n, c->nleaves);
	for (i = 0; i < s.n; i++)
		ck_assert_uint_eq(s.parts[i].index, i + 1);

	p = &s.parts[c->report - 1];
	ck_assert_str_eq(p->content_type, c->content_type);
	if (c->filename == NULL)
		ck_assert_ptr_null(p->filename);
	else
		ck_assert_str_eq(p->filename, c->filename);
	ck_assert_msg(p->len >= strlen(c->magic) &&
	    memcmp(p->data, c->magic, strlen(c->magic)) == 0,
	    "%s: part %u does not start with the report", c->file, c->report);
	ck_assert_uint_eq(p->len, c->len);

	seen_clear(&s);
	mime_info_clear(&info);
	buf_clear(&b);
}
END_TEST

/* --- hand-made mail ---------------------------------------------------- */

#define INNER_ZIP \
	"From: noreply-dmarc-support@google.com\n" \
	"To: rua@example.com\n" \
	"Subject: Report domain: example.com Submitter: google.com\n" \
	"Message-ID: <inner@google.com>\n" \
	"MIME-Version: 1.0\n" \
	"Content-Type: multipart/mixed; boundary=\"in\"\n" \
	"\n" \
	"--in\n" \
	"Content-Type: text/plain\n" \
	"\n" \
	"This is an aggregate report from google.com.\n" \
	"--in\n" \
	"Content-Type: application/zip;\n" \
	"\tname=\"google.com!example.com!1704067200!1704153599.zip\"\n" \
	"Content-Disposition: attachment;\n" \
	"\tfilename=\"google.com!example.com!1704067200!1704153599.zip\"\n" \
	"Content-Transfer-Encoding: base64\n" \
	"\n" \
	ZIP_B64 \
	"--in--\n"

#define ARF_INNER \
	"From: arf@example.org\n" \
	"Subject: auth failure\n" \
	"Message-ID: <arf@example.org>\n" \
	"MIME-Version: 1.0\n" \
	"Content-Type: multipart/report; report-type=\"Feedback-Report\";\n" \
	"  boundary=\"arf\"\n" \
	"\n" \
	"--arf\n" \
	"Content-Type: text/plain\n" \
	"\n" \
	"An authentication failure report.\n" \
	"--arf\n" \
	"Content-Type: message/feedback-report\n" \
	"\n" \
	"Version: 1\n" \
	"Feedback-Type: Auth-Failure\n" \
	"Auth-Failure: dmarc\n" \
	"--arf\n" \
	"Content-Type: text/rfc822-headers\n" \
	"\n" \
	"From: someone@example.com\n" \
	"--arf--\n"

#define HDRS(id) \
	"From: DMARC Reporter <dmarc@example.net>\n" \
	"To: rua@example.com\n" \
	"Subject: Report Domain: example.com Submitter: example.net\n" \
	"Date: Mon, 1 Jan 2024 00:00:00 +0000\n" \
	"Message-ID: <" id "@example.net>\n" \
	"MIME-Version: 1.0\n"

struct hand_case {
	const char	*name;
	const char	*text;		/* LF line ends */
	enum mime_kind	 kind;
	const char	*message_id;
	const char	*feedback_type;
	unsigned	 nleaves;
	unsigned	 leaf;		/* the leaf to look at (1-based) */
	const char	*content_type;
	const char	*filename;
	const char	*data;		/* its bytes ... */
	size_t		 len;
	int		 text_data;	/* ... less CRs, for CRLF mail */
};

#define BIN(a)	a, sizeof(a) - 1, 0
#define TXT(s)	s, sizeof(s) - 1, 1

static const struct hand_case hands[] = {
	{ "report as the whole text/xml body",
	    HDRS("xml-body")
	    "Content-Type: text/xml; charset=utf-8\n"
	    "\n"
	    "<?xml version=\"1.0\"?>\n"
	    "<feedback><report_metadata/></feedback>\n",
	    MIME_PLAIN, "xml-body@example.net", NULL, 1, 1, "text/xml", NULL,
	    TXT("<?xml version=\"1.0\"?>\n"
	    "<feedback><report_metadata/></feedback>\n") },
	{ "inline gzip attachment",
	    HDRS("inline")
	    "Content-Type: multipart/mixed; boundary=\"XX\"\n"
	    "\n"
	    "This is a multi-part message in MIME format.\n"
	    "--XX\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n"
	    "See the report.\n"
	    "--XX\n"
	    "Content-Type: application/gzip\n"
	    "Content-Disposition: inline;\n"
	    "  filename=\"example.net!example.com!1704067200!1704153599.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    GZ_B64
	    "--XX--\n",
	    MIME_PLAIN, "inline@example.net", NULL, 2, 2, "application/gzip",
	    "example.net!example.com!1704067200!1704153599.xml.gz", BIN(GZ) },
	{ "application/octet-stream gzip, name in Content-Type",
	    HDRS("octet")
	    "Content-Type: multipart/mixed; boundary=XX\n"
	    "\n"
	    "--XX\n"
	    "Content-Type: Application/Octet-Stream; name=\"report.xml.gz\"\n"
	    "Content-Disposition: attachment\n"
	    "Content-Transfer-Encoding: BASE64\n"
	    "\n"
	    GZ_B64
	    "--XX--\n",
	    MIME_PLAIN, "octet@example.net", NULL, 1, 1,
	    "application/octet-stream", "report.xml.gz", BIN(GZ) },
	{ "zip labelled application/gzip",
	    HDRS("zipgz")
	    "Content-Type: multipart/mixed; boundary=XX\n"
	    "\n"
	    "--XX\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "report attached\n"
	    "--XX\n"
	    "Content-Type: application/gzip; name=\"report.zip\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    ZIP_B64
	    "--XX--\n",
	    MIME_PLAIN, "zipgz@example.net", NULL, 2, 2, "application/gzip",
	    "report.zip", BIN(ZIP) },
	{ "message/rfc822 wrapping a report mail",
	    HDRS("fwd")
	    "Content-Type: multipart/mixed; boundary=\"out\"\n"
	    "\n"
	    "--out\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "Forwarded report below.\n"
	    "--out\n"
	    "Content-Type: message/rfc822\n"
	    "Content-Disposition: attachment; filename=\"report.eml\"\n"
	    "\n"
	    INNER_ZIP
	    "--out--\n",
	    MIME_PLAIN, "fwd@example.net", NULL, 3, 3, "application/zip",
	    "google.com!example.com!1704067200!1704153599.zip", BIN(ZIP) },
	{ "forwarded failure report",
	    HDRS("fwdarf")
	    "Content-Type: multipart/mixed; boundary=\"out\"\n"
	    "\n"
	    "--out\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "Look at this.\n"
	    "--out\n"
	    "Content-Type: message/rfc822\n"
	    "\n"
	    ARF_INNER
	    "--out--\n",
	    MIME_FEEDBACK, "fwdarf@example.net", "auth-failure", 4, 3,
	    "message/feedback-report", NULL,
	    TXT("Version: 1\nFeedback-Type: Auth-Failure\nAuth-Failure: dmarc") },
	{ "multipart/alternative and multipart/related",
	    HDRS("alt")
	    "Content-Type: multipart/mixed; boundary=\"m\"\n"
	    "\n"
	    "--m\n"
	    "Content-Type: multipart/related; boundary=\"r\"\n"
	    "\n"
	    "--r\n"
	    "Content-Type: multipart/alternative; boundary=\"a\"\n"
	    "\n"
	    "--a\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "\n"
	    "Report attached.\n"
	    "--a\n"
	    "Content-Type: text/html; charset=utf-8\n"
	    "\n"
	    "<p>Report attached.</p>\n"
	    "--a--\n"
	    "--r--\n"
	    "--m\n"
	    "Content-Type: application/gzip;\n"
	    "\tname=\"protection.outlook.com!example.com!1.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    GZ_B64
	    "--m--\n",
	    MIME_PLAIN, "alt@example.net", NULL, 3, 3, "application/gzip",
	    "protection.outlook.com!example.com!1.xml.gz", BIN(GZ) },
	{ "quoted-printable XML body",
	    HDRS("qp")
	    "Content-Type: text/xml\n"
	    "Content-Transfer-Encoding: quoted-printable\n"
	    "\n"
	    "<?xml version=3D\"1.0\" encoding=3D\"UTF-8\"?>\n"
	    "<feedback><report_metadata><org_name>Exa=\n"
	    "mple =C3=A9</org_name></report_metadata></feedback>\n",
	    MIME_PLAIN, "qp@example.net", NULL, 1, 1, "text/xml", NULL,
	    TXT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback><report_metadata><org_name>Example \xc3\xa9</org_name>"
	    "</report_metadata></feedback>\n") },
	{ "uuencoded gzip",
	    HDRS("uu")
	    "Content-Type: multipart/mixed; boundary=XX\n"
	    "\n"
	    "--XX\n"
	    "Content-Type: application/gzip\n"
	    "Content-Transfer-Encoding: x-uuencode\n"
	    "\n"
	    GZ_UU
	    "--XX--\n",
	    MIME_PLAIN, "uu@example.net", NULL, 1, 1, "application/gzip", NULL,
	    BIN(GZ) },
	{ "ContentType: typo, so text/plain",
	    HDRS("typo")
	    "ContentType: application/zip; name=\"report.zip\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    ZIP_B64,
	    MIME_PLAIN, "typo@example.net", NULL, 1, 1, "text/plain", NULL,
	    BIN(ZIP) },
	{ "no Content-Type at all",
	    "From: a@example.net\n"
	    "Subject: plain\n"
	    "\n"
	    "<feedback/>\n",
	    MIME_PLAIN, NULL, NULL, 1, 1, "text/plain", NULL,
	    TXT("<feedback/>\n") },
	{ "TLS-RPT: multipart/report; report-type=tlsrpt",
	    HDRS("tlsrpt")
	    "TLS-Report-Domain: example.com\n"
	    "TLS-Report-Submitter: example.net\n"
	    "Content-Type: multipart/report; report-type=\"tlsrpt\";\n"
	    "  boundary=\"t\"\n"
	    "\n"
	    "--t\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "This is an aggregate TLS report from example.net\n"
	    "--t\n"
	    "Content-Type: application/tlsrpt+gzip\n"
	    "Content-Disposition: attachment;\n"
	    "  filename=\"example.net!example.com!1704067200!1704153599.json.gz\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    GZ_B64
	    "--t--\n",
	    MIME_TLSRPT, "tlsrpt@example.net", NULL, 2, 2,
	    "application/tlsrpt+gzip",
	    "example.net!example.com!1704067200!1704153599.json.gz", BIN(GZ) },
	{ "TLS-RPT: an application/tlsrpt+json part",
	    HDRS("tlsjson")
	    "Content-Type: multipart/mixed; boundary=t\n"
	    "\n"
	    "--t\n"
	    "Content-Type: application/tlsrpt+json\n"
	    "\n"
	    "{\"organization-name\":\"example.net\"}\n"
	    "--t--\n",
	    MIME_TLSRPT, "tlsjson@example.net", NULL, 1, 1,
	    "application/tlsrpt+json", NULL,
	    TXT("{\"organization-name\":\"example.net\"}") },
	{ "a message/feedback-report part in a plain multipart",
	    HDRS("fbpart")
	    "Content-Type: multipart/mixed; boundary=f\n"
	    "\n"
	    "--f\n"
	    "Content-Type: message/feedback-report\n"
	    "\n"
	    "Feedback-Type : ABUSE\n"
	    "--f--\n",
	    MIME_FEEDBACK, "fbpart@example.net", "abuse", 1, 1,
	    "message/feedback-report", NULL, TXT("Feedback-Type : ABUSE") },
	{ "an empty multipart",
	    HDRS("empty")
	    "Content-Type: multipart/mixed; boundary=\"e\"\n"
	    "\n"
	    "--e--\n",
	    MIME_PLAIN, "empty@example.net", NULL, 0, 0, NULL, NULL,
	    NULL, 0, 0 },
	{ "a multipart without a boundary",
	    HDRS("nobound")
	    "Content-Type: multipart/mixed\n"
	    "\n"
	    "no parts here\n",
	    MIME_PLAIN, "nobound@example.net", NULL, 0, 0, NULL, NULL,
	    NULL, 0, 0 },
	{ "an mbox From_ line before the headers",
	    "From dmarc@example.net Mon Jan  1 00:00:00 2024\n"
	    HDRS("fromline")
	    "Content-Type: application/gzip\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    GZ_B64,
	    MIME_PLAIN, "fromline@example.net", NULL, 1, 1, "application/gzip",
	    NULL, BIN(GZ) },
};

START_TEST(test_hand)
{
	const struct hand_case	*c = &hands[_i / 2];
	const struct seen_part	*p;
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	char			*msg;
	int			 rc, crlf = _i % 2;

	msg = crlf ? to_crlf(c->text) : strdup(c->text);
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s (%s): %s", c->name, crlf ? "CRLF" : "LF",
	    err.msg);
	ck_assert_int_eq(info.kind, c->kind);
	if (c->message_id == NULL)
		ck_assert_ptr_null(info.message_id);
	else
		ck_assert_str_eq(info.message_id, c->message_id);
	if (c->feedback_type == NULL)
		ck_assert_ptr_null(info.feedback_type);
	else
		ck_assert_str_eq(info.feedback_type, c->feedback_type);
	ck_assert_uint_eq(info.nleaves, c->nleaves);
	ck_assert_uint_eq(s.n, c->nleaves);
	if (c->leaf != 0) {
		p = &s.parts[c->leaf - 1];
		ck_assert_uint_eq(p->index, c->leaf);
		ck_assert_str_eq(p->content_type, c->content_type);
		if (c->filename == NULL)
			ck_assert_ptr_null(p->filename);
		else
			ck_assert_str_eq(p->filename, c->filename);
		if (c->text_data)
			ck_assert_msg(same_text(p->data, p->len, c->data,
			    c->len), "%s (%s): part %u is [%.*s]", c->name,
			    crlf ? "CRLF" : "LF", c->leaf, (int)p->len,
			    (const char *)p->data);
		else {
			ck_assert_uint_eq(p->len, c->len);
			ck_assert_mem_eq(p->data, c->data, c->len);
		}
	}
	seen_clear(&s);
	mime_info_clear(&info);
	free(msg);
}
END_TEST

/* A message/rfc822 part in base64 (GMime does not enter those itself). */
START_TEST(test_encoded_rfc822)
{
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	struct buf		 b;
	gchar			*b64;
	int			 rc;

	b64 = g_base64_encode((const guchar *)INNER_ZIP, strlen(INNER_ZIP));
	buf_init(&b, SIZE_MAX);
	buf_printf(&b, "%s%s%s%s\n--out--\n", HDRS("b64fwd")
	    "Content-Type: multipart/mixed; boundary=\"out\"\n"
	    "\n"
	    "--out\n"
	    "Content-Type: text/plain\n"
	    "\n"
	    "Forwarded.\n"
	    "--out\n",
	    "Content-Type: message/rfc822\n",
	    "Content-Transfer-Encoding: base64\n\n", b64);
	rc = run(b.data, b.len, 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(info.message_id, "b64fwd@example.net");
	ck_assert_uint_eq(info.nleaves, 3);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.parts[2].content_type, "application/zip");
	ck_assert_uint_eq(s.parts[2].len, sizeof(ZIP) - 1);
	ck_assert_mem_eq(s.parts[2].data, ZIP, sizeof(ZIP) - 1);
	seen_clear(&s);
	mime_info_clear(&info);

	/* not a message inside: then it is a leaf like any other */
	buf_reset(&b);
	buf_printf(&b, "%s", HDRS("b64junk")
	    "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "AAECAwQF\n");
	rc = run(b.data, b.len, 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.parts[0].content_type, "message/rfc822");
	ck_assert_uint_eq(s.parts[0].len, 6);
	ck_assert_mem_eq(s.parts[0].data, "\0\1\2\3\4\5", 6);
	seen_clear(&s);
	mime_info_clear(&info);

	/* text without a header block is no message either */
	buf_reset(&b);
	buf_printf(&b, "%s", HDRS("b64text")
	    "Content-Type: message/rfc822\n"
	    "Content-Transfer-Encoding: base64\n"
	    "\n"
	    "CgpqdXN0IHRleHQK\n");		/* "\n\njust text\n" */
	rc = run(b.data, b.len, 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.parts[0].content_type, "message/rfc822");
	ck_assert_uint_eq(s.parts[0].len, 12);
	ck_assert_mem_eq(s.parts[0].data, "\n\njust text\n", 12);
	seen_clear(&s);
	mime_info_clear(&info);
	buf_clear(&b);
	g_free(b64);
}
END_TEST

/* --- bounds ---------------------------------------------------------- */

enum nest { NEST_MULTIPART, NEST_MESSAGE, NEST_MESSAGE_B64, NEST_MIXED };

/*
 * A message whose one leaf sits inside n containers: multiparts,
 * message/rfc822 parts (plain or base64), or both in turn.
 */
static char *
nested(enum nest how, unsigned n)
{
	struct buf	 b;
	char		*inner, *b64;
	unsigned	 i;
	int		 mp;

	buf_init(&b, SIZE_MAX);
	buf_adds(&b, "Content-Type: application/gzip\n"
	    "Content-Transfer-Encoding: base64\n\n" GZ_B64);
	inner = (char *)buf_cstr(&b);
	for (i = n; i > 0; i--) {
		mp = how == NEST_MULTIPART || (how == NEST_MIXED && i % 2);
		buf_init(&b, SIZE_MAX);
		buf_printf(&b, "From: a@example.net\nMessage-ID: <n%u@x>\n", i);
		if (mp)
			buf_printf(&b, "Content-Type: multipart/mixed; "
			    "boundary=\"b%u\"\n\n--b%u\n%s\n--b%u--\n",
			    i, i, inner, i);
		else if (how == NEST_MESSAGE_B64) {
			b64 = g_base64_encode((const guchar *)inner,
			    strlen(inner));
			buf_printf(&b, "Content-Type: message/rfc822\n"
			    "Content-Transfer-Encoding: base64\n\n%s\n", b64);
			g_free(b64);
		} else
			buf_printf(&b, "Content-Type: message/rfc822\n\n%s",
			    inner);
		free(inner);
		inner = (char *)buf_cstr(&b);
	}
	if (n == 0) {
		buf_init(&b, SIZE_MAX);
		buf_printf(&b, "From: a@example.net\n%s", inner);
		free(inner);
		inner = (char *)buf_cstr(&b);
	}
	return inner;
}

START_TEST(test_nesting)
{
	static const enum nest	 hows[] = { NEST_MULTIPART, NEST_MESSAGE,
	    NEST_MESSAGE_B64, NEST_MIXED };
	enum nest		 how = hows[_i];
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	char			*msg;
	unsigned		 n;
	int			 rc;

	for (n = 0; n <= DM_MAX_MIME_DEPTH; n++) {
		msg = nested(how, n);
		rc = run(msg, strlen(msg), 0, &info, &s, &err);
		ck_assert_msg(rc == 0, "nest %d depth %u: %s", how, n,
		    err.msg);
		ck_assert_uint_eq(s.n, 1);
		ck_assert_str_eq(s.parts[0].content_type, "application/gzip");
		ck_assert_uint_eq(s.parts[0].len, sizeof(GZ) - 1);
		ck_assert_mem_eq(s.parts[0].data, GZ, sizeof(GZ) - 1);
		seen_clear(&s);
		mime_info_clear(&info);
		free(msg);
	}
	msg = nested(how, DM_MAX_MIME_DEPTH + 1);
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "mail: MIME nesting deeper than 8");
	ck_assert_uint_eq(s.n, 0);	/* refused before any part is seen */
	seen_clear(&s);
	mime_info_clear(&info);
	free(msg);

	/* far deeper than GMime's own limit (1024) */
	if (how == NEST_MULTIPART || how == NEST_MESSAGE) {
		msg = nested(how, 1500);
		rc = run(msg, strlen(msg), 0, &info, &s, &err);
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(err.msg, "mail: MIME nesting deeper than 8");
		seen_clear(&s);
		mime_info_clear(&info);
		free(msg);
	}
}
END_TEST

static char *
many_parts(unsigned n, int crlf)
{
	struct buf	 b;
	unsigned	 i;
	char		*c;

	buf_init(&b, SIZE_MAX);
	buf_adds(&b, HDRS("many") "Content-Type: multipart/mixed; "
	    "boundary=\"p\"\n\n");
	for (i = 1; i <= n; i++)
		buf_printf(&b, "--p\nContent-Type: text/plain\n\npart %u\n", i);
	buf_adds(&b, "--p--\n");
	if (!crlf)
		return (char *)buf_cstr(&b);
	c = to_crlf(buf_cstr(&b));
	buf_clear(&b);
	return c;
}

START_TEST(test_parts)
{
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	char			*msg, want[32];
	unsigned		 i;
	int			 rc;

	msg = many_parts(DM_MAX_MIME_PARTS, _i);
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(info.nleaves, DM_MAX_MIME_PARTS);
	ck_assert_uint_eq(s.n, DM_MAX_MIME_PARTS);
	for (i = 0; i < s.n; i++) {
		ck_assert_uint_eq(s.parts[i].index, i + 1);
		snprintf(want, sizeof(want), "part %u", i + 1);
		ck_assert(same_text(s.parts[i].data, s.parts[i].len, want,
		    strlen(want)));
	}
	seen_clear(&s);
	mime_info_clear(&info);
	free(msg);

	msg = many_parts(DM_MAX_MIME_PARTS + 1, _i);
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "mail: more than 64 parts");
	ck_assert_uint_eq(s.n, 0);
	seen_clear(&s);
	mime_info_clear(&info);
	free(msg);
}
END_TEST

START_TEST(test_message_size)
{
	const char		*msg = hands[1].text;
	size_t			 len = strlen(msg);
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	char			 want[64];
	int			 rc;

	rc = run(msg, len, len, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(s.n, 2);
	seen_clear(&s);
	mime_info_clear(&info);

	rc = run(msg, len, len - 1, &info, &s, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	snprintf(want, sizeof(want), "mail: message over %zu bytes", len - 1);
	ck_assert_str_eq(err.msg, want);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_null(info.message_id);
	mime_info_clear(&info);
}
END_TEST

/*
 * Every transfer encoding shrinks, so no part of a message within
 * max_message decodes to more than max_message: the cap is tested on
 * the decoder itself.
 */
START_TEST(test_part_size)
{
	GMimeStream		*stream;
	GMimeDataWrapper	*wrapper;
	GMimePart		*part;
	struct buf		 out;

	mime_init();
	stream = g_mime_stream_mem_new_with_buffer(GZ_B64, strlen(GZ_B64));
	wrapper = g_mime_data_wrapper_new_with_stream(stream,
	    GMIME_CONTENT_ENCODING_BASE64);
	part = g_mime_part_new_with_type("application", "gzip");
	g_mime_part_set_content(part, wrapper);
	buf_init(&out, 0);

	ck_assert_int_eq(mime_decode_part(part, sizeof(GZ) - 1, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(GZ) - 1);
	ck_assert_mem_eq(out.data, GZ, sizeof(GZ) - 1);
	/* and again: the content stream is rewound */
	ck_assert_int_eq(mime_decode_part(part, sizeof(GZ) - 1, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(GZ) - 1);
	ck_assert_int_eq(mime_decode_part(part, sizeof(GZ) - 2, &out), -1);
	ck_assert_int_eq(mime_decode_part(part, 0, &out), -1);

	buf_clear(&out);
	g_object_unref(part);
	g_object_unref(wrapper);
	g_object_unref(stream);
}
END_TEST

/*
 * What GMime itself is let to build: header fields, their bytes, lines
 * that start with "--" (each a part or a boundary check). Cheap to
 * refuse; without the bounds these cost GMime gigabytes or minutes at
 * a few tens of MB.
 */
enum cost { COST_FIELDS, COST_FIELD_BYTES, COST_DASHES, COST_INNER_FIELDS };

static char *
costly(enum cost what, unsigned n)
{
	struct buf	 b, in;
	gchar		*b64;
	unsigned	 i, j;

	buf_init(&b, SIZE_MAX);
	buf_adds(&b, "From: a@example.net\nMessage-ID: <cost@example.net>\n");
	switch (what) {
	case COST_FIELDS:
		for (i = 2; i < n; i++)
			buf_printf(&b, "X-Filler-%u: %u\n", i, i);
		buf_adds(&b, "\nbody\n");
		break;
	case COST_FIELD_BYTES:		/* n fields of 64 KiB */
		for (i = 0; i < n; i++) {
			buf_printf(&b, "X-Long-%u:", i);
			for (j = 0; j < 1024; j++)	/* 64 bytes */
				buf_adds(&b, " 123456789012345678901234567890"
				    "123456789012345678901234567890 ab");
			buf_adds(&b, "\n");
		}
		buf_adds(&b, "\nbody\n");
		break;
	case COST_DASHES:
		buf_adds(&b, "\n");
		for (i = 0; i < n; i++)
			buf_adds(&b, "-- \n");
		break;
	case COST_INNER_FIELDS:
		buf_init(&in, SIZE_MAX);
		for (i = 0; i < n; i++)
			buf_printf(&in, "X-Filler-%u: %u\n", i, i);
		buf_adds(&in, "\nbody\n");
		b64 = g_base64_encode((const guchar *)in.data, in.len);
		buf_printf(&b, "Content-Type: message/rfc822\n"
		    "Content-Transfer-Encoding: base64\n\n%s\n", b64);
		g_free(b64);
		buf_clear(&in);
		break;
	}
	buf_cstr(&b);
	return b.data;
}

START_TEST(test_gmime_costs)
{
	static const struct {
		enum cost	 what;
		unsigned	 ok, over;
		const char	*err;
	} cases[] = {
		{ COST_FIELDS, 10000, 10001,
		    "mail: more than 10000 header fields" },
		{ COST_FIELD_BYTES, 15, 16,
		    "mail: header fields over 1048576 bytes" },
		{ COST_DASHES, 10000, 10001,
		    "mail: more than 10000 lines starting with --" },
		{ COST_INNER_FIELDS, 9000, 10001,
		    "mail: more than 10000 header fields" },
	};
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	char			*msg;
	int			 rc;

	msg = costly(cases[_i].what, cases[_i].ok);
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "case %d: %s", _i, err.msg);
	ck_assert_uint_eq(s.n, 1);
	seen_clear(&s);
	mime_info_clear(&info);
	free(msg);

	msg = costly(cases[_i].what, cases[_i].over);
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, cases[_i].err);
	ck_assert_uint_eq(s.n, 0);
	seen_clear(&s);
	mime_info_clear(&info);
	free(msg);
}
END_TEST

static const struct {
	const char	*name;
	const char	*data;
	size_t		 len;
} garbage[] = {
	{ "empty", "", 0 },
	{ "a sentence", "hello world, this is not mail\n", 30 },
	{ "a zip file", ZIP, sizeof(ZIP) - 1 },
	{ "a gzip file", GZ, sizeof(GZ) - 1 },
	{ "XML", "<?xml version=\"1.0\"?>\n<feedback/>\n", 34 },
	{ "no headers, only a body", "\n\nbody only\n", 12 },
	{ "CRLF then a body", "\r\nbody only\r\n", 13 },
	{ "NUL bytes", "\0\0\0\0", 4 },
	{ "a From_ line alone", "From nobody Mon Jan  1 00:00:00 2024\n", 37 },
};

START_TEST(test_garbage)
{
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	int			 rc;

	rc = run(garbage[_i].data, garbage[_i].len, 0, &info, &s, &err);
	ck_assert_msg(rc == -1, "%s taken for mail", garbage[_i].name);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "mail: not a mail message");
	ck_assert_uint_eq(s.n, 0);
	seen_clear(&s);
	mime_info_clear(&info);
}
END_TEST

START_TEST(test_fn_stops)
{
	const char		*msg = hands[6].text;	/* 3 leaves */
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	int			 rc;

	ck_assert_str_eq(hands[6].name,
	    "multipart/alternative and multipart/related");
	s.stop_at = 2;
	rc = run(msg, strlen(msg), 0, &info, &s, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "stopped at part 2");
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(info.nleaves, 3);
	ck_assert_str_eq(info.message_id, "alt@example.net");
	seen_clear(&s);
	mime_info_clear(&info);
}
END_TEST

START_TEST(test_info)
{
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err;
	char			 msg[4096];
	int			 rc, n;

	memset(&info, 0, sizeof(info));
	mime_info_clear(&info);		/* a zeroed struct is fine */
	mime_init();
	mime_init();

	/* encoded words, folding, controls, a huge subject */
	n = snprintf(msg, sizeof(msg),
	    "From: =?ISO-8859-1?Q?Jos=E9?= <jose@example.net>\n"
	    "Subject: =?UTF-8?B?UmFwcG9ydCDDqXTDqQ==?=\n"
	    " folded\n"
	    "Date:  Mon, 1 Jan 2024 00:00:00 +0000 \n"
	    "Message-ID:\n <folded@example.net>\n"
	    "\n"
	    "body\n");
	rc = run(msg, (size_t)n, 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(info.from, "Jos\xc3\xa9 <jose@example.net>");
	ck_assert_str_eq(info.subject, "Rapport \xc3\xa9t\xc3\xa9 folded");
	ck_assert_str_eq(info.date, "Mon, 1 Jan 2024 00:00:00 +0000");
	ck_assert_str_eq(info.message_id, "folded@example.net");
	ck_assert_int_eq(info.kind, MIME_PLAIN);
	seen_clear(&s);
	mime_info_clear(&info);

	memset(msg, 'x', sizeof(msg));
	memcpy(msg, "Subject: ", 9);
	memcpy(msg + sizeof(msg) - 8, "\n\nbody\n", 7);
	rc = run(msg, sizeof(msg) - 1, 0, &info, &s, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(strlen(info.subject), DM_MAX_FIELD);
	ck_assert_ptr_null(info.from);
	ck_assert_ptr_null(info.date);
	ck_assert_ptr_null(info.message_id);
	seen_clear(&s);
	mime_info_clear(&info);
	ck_assert_ptr_null(info.subject);
}
END_TEST

/*
 * Found by fuzz_mime: a base64 message/rfc822 part that decodes to
 * nothing made count_dash_lines() do arithmetic on a NULL pointer (UBSan:
 * "applying zero offset to null pointer").
 */
START_TEST(test_mime_fuzz_empty_rfc822)
{
	struct buf		 b;
	struct mime_info	 info;
	struct seen		 s = { 0 };
	struct dm_err		 err = { 0 };

	buf_init(&b, 1u << 20);
	test_load(&b, "mime", "fuzz-empty-rfc822.eml");
	run(b.data, b.len, 0, &info, &s, &err);
	seen_clear(&s);
	mime_info_clear(&info);
	buf_clear(&b);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("mime");
	TCase	*tc = tcase_create("mime");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_samples, 0, (int)nitems(samples));
	tcase_add_loop_test(tc, test_hand, 0, 2 * (int)nitems(hands));
	tcase_add_test(tc, test_encoded_rfc822);
	tcase_add_loop_test(tc, test_nesting, 0, 4);
	tcase_add_loop_test(tc, test_parts, 0, 2);
	tcase_add_test(tc, test_message_size);
	tcase_add_test(tc, test_part_size);
	tcase_add_loop_test(tc, test_gmime_costs, 0, 4);
	tcase_add_loop_test(tc, test_garbage, 0, (int)nitems(garbage));
	tcase_add_test(tc, test_fn_stops);
	tcase_add_test(tc, test_info);
	tcase_add_test(tc, test_mime_fuzz_empty_rfc822);
	suite_add_tcase(s, tc);
	return s;
}
