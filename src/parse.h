/*
 * parse.h: one aggregate report, XML in through libxml2's streaming
 * reader, records out to a sink one at a time. Memory does not grow
 * with the report's size.
 */
#ifndef PARSE_H
#define PARSE_H

#include <stdint.h>

#include "bounds.h"
#include "dm.h"
#include "report.h"

/* Once per process, before any parse: safe libxml2 set-up. */
void	parse_init(void);

/* What the caller may print about a report after parse_report(). */
struct parse_summary {
	char		 org_name[256];	/* truncated copies; "" if unknown */
	char		 email[256];
	char		 report_id[256];
	char		 domain[256];
	int64_t		 begin, end;
	uint64_t	 records;	/* records seen (handed or not) */
	uint64_t	 messages;
	uint64_t	 skipped;	/* rows without a source address */
};

/*
 * Parse one report from xml and deliver it to sink (see report.h).
 * sum (may be NULL) is filled as far as the report got, also on error.
 * Returns 0 when the report was complete and stored by the sink, 1 when
 * complete and the sink's begin() said duplicate, -1 with err set
 * otherwise (DM_EMSG: the report is bad; other scopes come from the
 * sink). When xml's read fails, err carries xml->err's reason.
 */
int	parse_report(struct dm_rd *xml, const struct dm_limits *lim,
	    const struct report_sink *sink, struct parse_summary *sum,
	    struct dm_err *err);

#endif /* PARSE_H */
