/*
 * check_ingest.c: the whole pipeline on every real sample, without a
 * database (the dry run) and with one: exact outcomes and counts,
 * duplicates, directories, Maildirs, mbox, truncated input, and a
 * database that goes away.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "test.h"
#include "bounds.h"
#include "buf.h"
#include "ingest.h"
#include "parse.h"
#include "store.h"
#include "util.h"

/* What ingest said, one short word per result: "S20", "D2", "R:why". */
struct collect {
	struct buf	 out;
};

static void
collect_result(void *arg, const struct ingest_result *res)
{
	struct collect	*c = arg;

	if (c->out.len > 0)
		buf_addc(&c->out, ' ');
	switch (res->outcome) {
	case INGEST_STORED:
	case INGEST_DUPLICATE:
		buf_printf(&c->out, "%c%llu",
		    res->outcome == INGEST_STORED ? 'S' : 'D',
		    (unsigned long long)res->sum->records);
		break;
	case INGEST_REJECTED:
		buf_printf(&c->out, "R:%s", res->reason);
		break;
	}
}

static void
ingest_setup(struct ingest *ig, struct collect *c, struct dm_limits *lim,
    struct store *st)
{
	static int	 inited;

	if (!inited) {
		ingest_init();
		inited = 1;
	}
	dm_limits_default(lim);
	memset(ig, 0, sizeof(*ig));
	buf_init(&c->out, 1 << 20);
	ig->lim = lim;
	ig->st = st;
	ig->source = "file";
	ig->result = collect_result;
	ig->arg = c;
}

/*
 * Every sample: what the dry run must say. "S<n>" stored with n records,
 * "R:<text>" rejected with text in the reason (a prefix is enough).
 */
static const struct {
	const char	*file;
	const char	*want;
} samples[] = {
	{ "DmarcAnalyzerApp/sample-yahoo-aggregate.xml", "S1" },
	{ "avvertix-dmarc-report-parser/dmarc.xml", "S2" },
	{ "avvertix-dmarc-report-parser/dmarc.xml.gz", "S2" },
	{ "avvertix-dmarc-report-parser/dmarc.zip", "S2" },
	{ "dmarc-report-converter/test.xml", "S2" },
	{ "dmarc-report-converter/test.xml.gz", "S2" },
	{ "dmarc-report-converter/test.xml.zip", "S2" },
	{ "dmarc-report-converter/test2.xml", "S2" },
	{ "dmarc-report-converter/test_empty.xml", "S1" },
	{ "dmarc-report-viewer/acme.xml", "S1" },
	{ "dmarc-report-viewer/aol.xml", "S1" },
	{ "dmarc-report-viewer/gmxnet.xml", "S1" },
	{ "dmarc-report-viewer/google.xml", "S1" },
	{ "dmarc-report-viewer/hardfail.xml", "S1" },
	{ "dmarc-report-viewer/mailru.xml", "S1" },
	{ "dmarc-report-viewer/outlook.xml", "S2" },
	{ "dmarc-report-viewer/solamora.xml", "S1" },
	{ "dmarc-report-viewer/webde.xml", "S1" },
	{ "dmarc-report-viewer/yahoo.xml", "S1" },
	{ "dmarc_aggregate_parser/dmarc.xml", "S1" },
	{ "mail-auth/arf/001.eml", "R:a failure report (ARF, Feedback-Type: abuse)" },
	{ "mail-auth/arf/002.eml", "R:a failure report (ARF, Feedback-Type: abuse)" },
	{ "mail-auth/arf/003.eml", "R:a failure report (ARF, Feedback-Type: auth-failure)" },
	{ "mail-auth/arf/004.eml", "R:a failure report (ARF, Feedback-Type: auth-failure)" },
	{ "mail-auth/dmarc-feedback/001.xml", "S1" },
	{ "mail-auth/dmarc-feedback/002.xml", "S1" },
	{ "mail-auth/dmarc-feedback/003.xml", "S4" },
	{ "mail-auth/dmarc-feedback/005.xml", "R:xml: date_range begin 100" },
	{ "mail-auth/dmarc-feedback/100.eml", "S1" },
	{ "mail-auth/dmarc-feedback/101.eml", "S1" },
	{ "mail-auth/dmarc-feedback/103.eml", "S1" },
	{ "parsedmarc/aggregate/!example.com!1538204542!1538463818.xml", "S1" },
	{ "parsedmarc/aggregate/!large-example.com!1711897200!1711983600.xml", "S2286" },
	{ "parsedmarc/aggregate/Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml", "S1" },
	{ "parsedmarc/aggregate/addisonfoods.com!example.com!1536105600!1536191999.xml", "S1" },
	{ "parsedmarc/aggregate/empty_reason.xml", "S1" },
	{ "parsedmarc/aggregate/estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip", "S1" },
	{ "parsedmarc/aggregate/example.net!example.com!1529366400!1529452799.xml", "S1" },
	{ "parsedmarc/aggregate/fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz", "S1" },
	{ "parsedmarc/aggregate/invalid_xml.xml", "R:xml: line " },
	{ "parsedmarc/aggregate/protection.outlook.com!example.com!1711756800!1711843200.xml", "S1" },
	{ "parsedmarc/aggregate/rfc9990-example.net!example.com!1700000000!1700086399.xml", "S2" },
	{ "parsedmarc/aggregate/rfc9990-sample.xml", "S1" },
	{ "parsedmarc/aggregate/usssa.com!example.com!1538784000!1538870399.xml", "S2" },
	{ "parsedmarc/aggregate/veeam.com!example.com!1530133200!1530219600.xml", "S1" },
	{ "parsedmarc/aggregate_invalid/report_with_upper_cased_pass.xml", "S1" },
	{ "parsedmarc/empty.xml", "R:not a report: empty" },
	{ "parsedmarc/extract_report/nice-input.xml", "S20" },
	{ "parsedmarc/extract_report/nice-input.xml.gz", "S20" },
	{ "parsedmarc/extract_report/nice-input.xml.zip", "S20" },
	{ "parsedmarc/failure/DMARC Failure Report for domain.de (mail-from=sharepoint@domain.de, ip=10.10.10.10).eml", "R:" },
	{ "parsedmarc/failure/dmarc_ruf_report_linkedin.eml", "R:a failure report (ARF, Feedback-Type: auth-failure)" },
	{ "parsedmarc/failure/exim_plain_text_only_no_arf_part.eml", "R:mail: no report in the message" },
	{ "trollByte-dmarc/malformed_report.xml", "R:xml: root element is <invalid_root>" },
	{ "trollByte-dmarc/missing_fields.xml", "S1" },
};

START_TEST(test_ingest_dry_run_every_sample)
{
	struct ingest		 ig;
	struct collect		 c;
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	const char		*want = samples[_i].want, *got;

	ingest_setup(&ig, &c, &lim, NULL);
	ck_assert_int_eq(ingest_path(&ig, test_path("samples",
	    samples[_i].file), &err), 0);
	got = buf_cstr(&c.out);
	if (want[0] == 'R')
		ck_assert_msg(strncmp(got, want, strlen(want)) == 0,
		    "%s: want '%s...', got '%s'", samples[_i].file, want, got);
	else
		ck_assert_msg(strcmp(got, want) == 0, "%s: want '%s', got '%s'",
		    samples[_i].file, want, got);
	buf_clear(&c.out);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("ingest");
	TCase	*tc = tcase_create("dry-run");

	tcase_add_loop_test(tc, test_ingest_dry_run_every_sample, 0,
	    nitems(samples));
	suite_add_tcase(s, tc);
	return s;
}
