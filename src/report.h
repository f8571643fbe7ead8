/*
 * report.h: the aggregate report model (RFC 7489 appendix C and
 * RFC 9990 appendix A, both kept whole) and the sink that parse hands
 * it to, one record at a time.
 *
 * All strings are borrowed from the producer's arena: valid for the
 * duration of the sink call (record strings) or of the report (report
 * strings). NULL means "absent"; "" means "present but empty".
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

/*
 * An enumerated value: val is the canonical spelling (lower case,
 * "hardfail" -> "fail", "unknown" -> "temperror", ...) or NULL when
 * absent, empty or not a known value; raw is the value as sent, trimmed
 * and lower-cased, only when it is not exactly val (so "hardfail" and
 * "bogus" are kept, "pass" and "Pass" are not).
 */
struct report_enum {
	const char	*val;
	const char	*raw;
};

struct report_reason {			/* policy_evaluated/reason */
	struct report_enum	 type;	/* forwarded, local_policy, ... */
	const char		*comment;
};

struct report_dkim {			/* auth_results/dkim */
	const char		*domain;
	const char		*selector;
	struct report_enum	 result;	/* none pass fail policy neutral
						   temperror permerror */
	const char		*human_result;
};

struct report_spf {			/* auth_results/spf */
	const char		*domain;
	struct report_enum	 scope;		/* helo mfrom */
	struct report_enum	 result;	/* none neutral pass fail softfail
						   temperror permerror policy */
	const char		*human_result;
};

struct record {
	/* row */
	unsigned char		 ip[16];	/* source_ip in network order,
						   as dm_ip_parse() reads it */
	unsigned char		 ip_len;	/* 4 or 16; 0: none */
	uint64_t		 count;
	struct report_enum	 disposition;	/* none pass quarantine reject */
	struct report_enum	 dkim;		/* aligned verdict: pass fail */
	struct report_enum	 spf;
	struct report_reason	*reasons;
	size_t			 nreasons;
	/* identifiers */
	const char		*envelope_to;
	const char		*envelope_from;
	const char		*header_from;
	/* auth_results */
	struct report_dkim	*auth_dkim;
	size_t			 nauth_dkim;
	struct report_spf	*auth_spf;
	size_t			 nauth_spf;
};

struct report {
	const char		*ns;		/* namespace URI, NULL if none */
	const char		*version;
	/* report_metadata */
	const char		*org_name;
	const char		*email;
	const char		*extra_contact_info;
	const char		*report_id;
	int64_t			 begin;		/* epoch seconds, UTC */
	int64_t			 end;
	const char		*generator;
	const char	       **errors;
	size_t			 nerrors;
	/* policy_published */
	const char		*domain;
	struct report_enum	 discovery_method;	/* psl treewalk */
	struct report_enum	 adkim;		/* r s */
	struct report_enum	 aspf;
	struct report_enum	 p;		/* none quarantine reject */
	struct report_enum	 sp;
	struct report_enum	 np;
	int			 pct;		/* -1 when absent */
	const char		*fo;
	struct report_enum	 testing;	/* n y */
	/* running totals, final when the sink's end() is called */
	uint64_t		 nrecords;	/* records handed to the sink */
	uint64_t		 messages;	/* sum of their counts */
	uint64_t		 skipped;	/* rows without a source address */
};

/*
 * Where parse delivers a report. begin() is called once, when the
 * first <record> opens (metadata and policy are complete by then),
 * record() once per record, end() when </feedback> closes: only then
 * is the report complete. abort() is called instead of end() when
 * anything fails after begin(), and must undo what begin() and record()
 * did. Each returns 0, or -1 with err set (parse stops and the report
 * is rejected with that error); begin() may return 1 to say "already
 * stored": records are then still parsed and counted, but not handed
 * over.
 */
struct report_sink {
	int	(*begin)(void *arg, const struct report *rep,
		    struct dm_err *err);
	int	(*record)(void *arg, const struct report *rep,
		    const struct record *rec, struct dm_err *err);
	int	(*end)(void *arg, const struct report *rep,
		    struct dm_err *err);
	void	(*abort)(void *arg, const struct report *rep);
	void	*arg;
};

/* Canonical sets, for report_enum_canon(). */
enum report_enum_kind {
	REP_DISPOSITION,	/* none quarantine reject (+ pass in results) */
	REP_ACTION,		/* none pass quarantine reject */
	REP_PASSFAIL,
	REP_REASON,
	REP_DKIM_RESULT,
	REP_SPF_RESULT,
	REP_SPF_SCOPE,
	REP_ALIGNMENT,
	REP_TESTING,
	REP_DISCOVERY,
};

/*
 * Map text (trimmed, lower-cased by the caller) to its canonical value.
 * raw is set to text unless text is exactly the canonical spelling;
 * empty text gives { NULL, NULL }. text must outlive the result.
 */
struct report_enum report_enum_canon(enum report_enum_kind kind,
	    const char *text);

#endif /* REPORT_H */
