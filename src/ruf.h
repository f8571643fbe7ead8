/*
 * ruf.h: a DMARC failure (forensic, ruf) report, RFC 5965 / 6591: the
 * fields of its message/feedback-report part and the headers (and,
 * when asked, the body) of the original message it reports. Bounded
 * by the DM_MAX_RUF_* limits in bounds.h; every string kept is valid
 * UTF-8 without NUL (other bytes become '?').
 */
#ifndef RUF_H
#define RUF_H

#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "dm.h"

/* A field that may appear more than once. */
struct ruf_list {
	char		**v;
	size_t		  n;
};

/* All strings owned by the struct; NULL when absent. */
struct ruf_report {
	char		*reporter;		/* From: address of the report
						   mail, lower case */
	char		*feedback_type;		/* lower case */
	char		*user_agent;
	char		*version;
	char		*original_mail_from;	/* without <>, "" for <> */
	struct ruf_list	 original_rcpt_to;	/* without <> */
	char		*original_envelope_id;
	char		*arrival_date_raw;	/* as sent */
	int64_t		 arrival_date;		/* UTC epoch, */
	int		 has_arrival_date;	/* when it could be read */
	char		*reporting_mta;
	char		*source_ip;		/* canonical, or NULL */
	char		*source_ip_raw;		/* as sent */
	int64_t		 incidents;		/* -1 when absent or junk */
	struct ruf_list	 authentication_results;
	char		*auth_failure;		/* lower case */
	char		*delivery_result;	/* delivered|spam|policy|
						   reject|other */
	char		*identity_alignment;
	char		*dkim_domain;
	char		*dkim_identity;
	char		*dkim_selector;
	char		*spf_dns;
	struct ruf_list	 reported_domain;	/* lower case */
	struct ruf_list	 reported_uri;

	/* the original message */
	char		*orig_from;
	char		*orig_to;
	char		*orig_subject;		/* RFC 2047 decoded */
	char		*orig_date;
	char		*orig_message_id;	/* without <> */
	char		*orig_headers;		/* raw, unfolded as sent */
	unsigned char	*orig_body;		/* only with RUF_KEEP_BODY */
	size_t		 orig_body_len;
	int		 has_original;
	int		 orig_headers_only;	/* text/rfc822-headers */
};

/* _init before the first parse, _clear after (it also re-inits). */
void	ruf_report_init(struct ruf_report *r);
void	ruf_report_clear(struct ruf_report *r);

/*
 * Parse the body of a message/feedback-report part (p[0..len),
 * borrowed) into r (ruf_report_init()ed). Header-style
 * fields, RFC 5322 folding, CRLF or LF, fields in any order; unknown
 * fields are ignored. Returns 0, or -1 with err set (DM_EMSG, "ruf: ..."):
 * over a bound, NUL bytes, no Feedback-Type.
 */
int	ruf_parse_feedback(const unsigned char *p, size_t len,
	    struct ruf_report *r, struct dm_err *err);

#define RUF_KEEP_BODY		0x1	/* keep the original's body */
#define RUF_HEADERS_ONLY	0x2	/* p is text/rfc822-headers */

/*
 * Parse the original message (message/rfc822, or the header block of
 * text/rfc822-headers) into r's orig_* fields. Headers past
 * DM_MAX_RUF_HEADERS are cut at a line end, a body past DM_MAX_RUF_BODY
 * is cut. Returns 0, or -1 with err set.
 */
int	ruf_parse_original(const unsigned char *p, size_t len, int flags,
	    struct ruf_report *r, struct dm_err *err);

/*
 * A whole mail message (multipart/report; report-type=feedback-report)
 * to r: finds the message/feedback-report part and the original
 * (message/rfc822 or text/rfc822-headers) with GMime (mime_init() must
 * have run). flags as for ruf_parse_original(). Returns 0, or -1 with
 * err set (no feedback part, a bound, ...).
 */
int	ruf_parse_message(const unsigned char *msg, size_t len,
	    const struct dm_limits *lim, int flags, struct ruf_report *r,
	    struct dm_err *err);

/*
 * Privacy: replace the local part of every address kept (Original-Mail-
 * From, Original-Rcpt-To, the original's From and To) by the hex
 * SHA-256 of it, "sha256:<hex>@domain"; display names go. The original's
 * raw headers are dropped (Received: and the rest name people too).
 */
void	ruf_hash_local_parts(struct ruf_report *r);

/* Privacy: forget the original message (headers and body). */
void	ruf_drop_original(struct ruf_report *r);

/*
 * RFC 5322 date (and odd formats seen in the wild: ISO 8601, missing
 * weekday or zone, two-digit years) to UTC epoch. Returns 0, or -1.
 */
int	ruf_parse_date(const char *s, int64_t *t);

#endif /* RUF_H */
