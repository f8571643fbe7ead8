/*
 * bounds.h: every bound on input from outside, in one place.
 * The first group can be changed in the [limits] section of the
 * configuration (struct dm_limits); the rest are fixed by design.
 */
#ifndef BOUNDS_H
#define BOUNDS_H

#include <stddef.h>
#include <stdint.h>

/* Defaults of struct dm_limits, overridable in [limits]. */
#define DM_MAX_MESSAGE		(64u << 20)	/* one mail held in memory */
#define DM_MAX_XML		(256u << 20)	/* one report, unpacked */
#define DM_MAX_RATIO		200u		/* unpacked / packed */
#define DM_MAX_RECORDS		5000000u	/* <record>s in one report */

/* The ratio is only judged past this many unpacked bytes. */
#define DM_RATIO_FLOOR		(1u << 20)

/* XML */
#define DM_MAX_XML_DEPTH	16		/* element nesting */
#define DM_MAX_FIELD		1024		/* most text values */
#define DM_MAX_DOMAIN		255		/* a DNS name */
#define DM_MAX_COMMENT		(64u << 10)	/* reason comment, human_result */
#define DM_MAX_ERRORS		64		/* report_metadata/error */
#define DM_MAX_REASONS		32		/* reasons per record */
#define DM_MAX_AUTH_DKIM	100		/* RFC 9990's advice, per record */
#define DM_MAX_AUTH_SPF		16		/* spf results per record */

/* Containers */
#define DM_MAX_NEST		2		/* zip -> gz -> xml, gz -> gz */
#define DM_MAX_ZIP_ENTRIES	16
#define DM_MAX_MIME_DEPTH	8		/* nested multipart / message */
#define DM_MAX_MIME_PARTS	64
#define DM_MAX_MBOX_MESSAGES	100000

/* Failure (ruf) reports, src/ruf.c */
#define DM_MAX_RUF_PART		(256u << 10)	/* message/feedback-report */
#define DM_MAX_RUF_FIELDS	256		/* header fields in it */
#define DM_MAX_RUF_VALUE	(16u << 10)	/* one field, unfolded */
#define DM_MAX_RUF_MULTI	64		/* values of a repeated field */
#define DM_MAX_RUF_HEADERS	(256u << 10)	/* original's headers kept */
#define DM_MAX_RUF_BODY		(1u << 20)	/* original's body kept */

/* Limits that configuration may change; see dm_limits_default(). */
struct dm_limits {
	size_t		 max_message;
	size_t		 max_xml;
	unsigned	 max_ratio;
	uint64_t	 max_records;
};

void	dm_limits_default(struct dm_limits *lim);

#endif /* BOUNDS_H */
