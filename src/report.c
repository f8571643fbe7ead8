/*
 * report.c: canonical values of the enumerations in aggregate reports.
 * Real reporters send "Pass", "hardfail", "unknown": map what RFC 7489's
 * XSD comments and RFC 8601 name, keep anything else raw.
 */
#include <string.h>

#include "report.h"
#include "util.h"

struct alias {
	const char	*from;
	const char	*to;
};

static const char *const dispositions[] = {
	"none", "quarantine", "reject", NULL };
static const char *const actions[] = {
	"none", "pass", "quarantine", "reject", NULL };
static const char *const passfail[] = { "pass", "fail", NULL };
static const char *const reasons[] = {
	"forwarded", "sampled_out", "trusted_forwarder", "mailing_list",
	"local_policy", "other", "policy_test_mode", NULL };
static const char *const dkim_results[] = {
	"none", "pass", "fail", "policy", "neutral", "temperror",
	"permerror", NULL };
static const char *const spf_results[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror",
	"permerror", "policy", NULL };
static const char *const scopes[] = { "helo", "mfrom", NULL };
static const char *const alignments[] = { "r", "s", NULL };
static const char *const testing[] = { "n", "y", NULL };
static const char *const discovery[] = { "psl", "treewalk", NULL };

/* Old or vendor spellings seen in the wild (reference, section 5). */
static const struct alias aliases[] = {
	{ "hardfail", "fail" },
	{ "unknown", "temperror" },
	{ "error", "permerror" },
	{ "temperr", "temperror" },
	{ "permerr", "permerror" },
	{ "relaxed", "r" },
	{ "strict", "s" },
	{ "mailfrom", "mfrom" },
	{ "ehlo", "helo" },
};

static const char *const *
set_of(enum report_enum_kind kind)
{
	switch (kind) {
	case REP_DISPOSITION:	return dispositions;
	case REP_ACTION:	return actions;
	case REP_PASSFAIL:	return passfail;
	case REP_REASON:	return reasons;
	case REP_DKIM_RESULT:	return dkim_results;
	case REP_SPF_RESULT:	return spf_results;
	case REP_SPF_SCOPE:	return scopes;
	case REP_ALIGNMENT:	return alignments;
	case REP_TESTING:	return testing;
	case REP_DISCOVERY:	return discovery;
	}
	return passfail;
}

static const char *
lookup(const char *const *set, const char *text)
{
	for (; *set != NULL; set++)
		if ((*set)[0] == text[0] && strcmp(*set, text) == 0)
			return *set;
	return NULL;
}

struct report_enum
report_enum_canon(enum report_enum_kind kind, const char *text)
{
	struct report_enum	 e = { NULL, NULL };
	const char *const	*set = set_of(kind);
	size_t			 i;

	if (text == NULL || *text == '\0')
		return e;
	if ((e.val = lookup(set, text)) != NULL)
		return e;
	e.raw = text;
	for (i = 0; i < nitems(aliases); i++)
		if (strcmp(aliases[i].from, text) == 0) {
			e.val = lookup(set, aliases[i].to);
			break;
		}
	return e;
}
