/*
 * genreport.c: a deterministic generator of big aggregate reports for the
 * benchmarks. genreport RECORDS [SEED] writes one RFC 7489 report with
 * RECORDS records to stdout (about 800 bytes of XML per record), the
 * same bytes for the same arguments on every machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t	 state;

/* splitmix64: fast, portable, deterministic */
static uint64_t
next(void)
{
	uint64_t	 z = (state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char *const verdict[] = { "pass", "fail" };
static const char *const disp[] = { "none", "none", "quarantine", "reject" };
static const char *const spfres[] = { "pass", "fail", "softfail", "neutral" };

int
main(int argc, char **argv)
{
	unsigned long long	 n, i;
	uint64_t		 r;

	if (argc < 2) {
		fprintf(stderr, "usage: genreport RECORDS [SEED]\n");
		return 2;
	}
	n = strtoull(argv[1], NULL, 10);
	state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>\n"
	    "  <version>1.0</version>\n  <report_metadata>\n"
	    "    <org_name>bench.example</org_name>\n"
	    "    <email>noreply-dmarc@bench.example</email>\n"
	    "    <report_id>bench-%llu-%" PRIu64 "</report_id>\n"
	    "    <date_range>\n      <begin>1767225600</begin>\n"
	    "      <end>1767311999</end>\n    </date_range>\n"
	    "  </report_metadata>\n  <policy_published>\n"
	    "    <domain>example.com</domain>\n    <adkim>r</adkim>\n"
	    "    <aspf>r</aspf>\n    <p>none</p>\n    <sp>none</sp>\n"
	    "    <pct>100</pct>\n    <fo>1</fo>\n  </policy_published>\n",
	    n, state);
	for (i = 0; i < n; i++) {
		r = next();
		printf("  <record>\n    <row>\n");
		if (r & 1)
			printf("      <source_ip>2001:db8:%x:%x::%x</source_ip>\n",
			    (unsigned)(r >> 8) & 0xffff,
			    (unsigned)(r >> 24) & 0xffff,
			    (unsigned)(r >> 40) & 0xfff);
		else
			printf("      <source_ip>%u.%u.%u.%u</source_ip>\n",
			    ((unsigned)(r >> 8) & 0x7f) | 0x40,
			    (unsigned)(r >> 16) & 0xff,
			    (unsigned)(r >> 24) & 0xff,
			    (unsigned)(r >> 32) & 0xff);
		printf("      <count>%u</count>\n      <policy_evaluated>\n"
		    "        <disposition>%s</disposition>\n"
		    "        <dkim>%s</dkim>\n        <spf>%s</spf>\n"
		    "      </policy_evaluated>\n    </row>\n"
		    "    <identifiers>\n"
		    "      <envelope_from>mail%u.example.com</envelope_from>\n"
		    "      <header_from>example.com</header_from>\n"
		    "    </identifiers>\n    <auth_results>\n"
		    "      <dkim>\n        <domain>example.com</domain>\n"
		    "        <selector>s%u</selector>\n"
		    "        <result>%s</result>\n      </dkim>\n"
		    "      <dkim>\n        <domain>esp%u.example.net</domain>\n"
		    "        <selector>k1</selector>\n"
		    "        <result>pass</result>\n      </dkim>\n"
		    "      <spf>\n        <domain>mail%u.example.com</domain>\n"
		    "        <scope>mfrom</scope>\n"
		    "        <result>%s</result>\n      </spf>\n"
		    "    </auth_results>\n  </record>\n",
		    (unsigned)(r >> 44) % 50 + 1, disp[(r >> 50) & 3],
		    verdict[(r >> 52) & 1], verdict[(r >> 53) & 1],
		    (unsigned)(r >> 54) % 100, (unsigned)(r >> 56) % 4,
		    verdict[(r >> 52) & 1], (unsigned)(r >> 58) % 8,
		    (unsigned)(r >> 54) % 100, spfres[(r >> 60) & 3]);
	}
	printf("</feedback>\n");
	return ferror(stdout) ? 1 : 0;
}
