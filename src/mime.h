/*
 * mime.h: a mail message (RFC 5322, via GMime 3) to the parts that may
 * hold a report. Every leaf is a candidate, attachment or inline,
 * whatever its Content-Type says; message/rfc822 parts are entered.
 * Bounded in depth, part count and size.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

#include "bounds.h"
#include "dm.h"

/* Once per process, before any mime_parse(). */
void	mime_init(void);

/* What the message says about itself; strings owned by struct. */
enum mime_kind {
	MIME_PLAIN = 0,		/* anything else: look at the parts */
	MIME_FEEDBACK,		/* multipart/report; report-type=feedback-report */
	MIME_TLSRPT,		/* an SMTP TLS report (RFC 8460) */
};

struct mime_info {
	enum mime_kind	 kind;
	char		*message_id;	/* without <>, or NULL */
	char		*subject;	/* decoded, or NULL */
	char		*from;
	char		*date;		/* as sent */
	char		*feedback_type;	/* Feedback-Type of the ARF part */
	unsigned	 nleaves;	/* leaf parts seen */
};

void	mime_info_clear(struct mime_info *info);

/* A leaf part, decoded (base64/QP undone); all borrowed for the call. */
struct mime_part {
	unsigned		 index;		/* 1-based, in walk order */
	const char		*content_type;	/* "type/subtype", lower case */
	const char		*filename;	/* untrusted, may be NULL */
	const unsigned char	*data;
	size_t			 len;
};

/* Return 0 to go on, -1 to stop (err is then fn's). */
typedef int	(*mime_fn)(void *arg, const struct mime_part *part,
		    struct dm_err *err);

/*
 * Parse msg[0..len) (borrowed) and call fn for each leaf part. info
 * (caller-owned, cleared with mime_info_clear()) is filled first.
 * Returns 0, or -1 with err set: not a message, over a bound
 * (DM_EMSG), or fn's -1.
 */
int	mime_parse(const unsigned char *msg, size_t len,
	    const struct dm_limits *lim, struct mime_info *info,
	    mime_fn fn, void *arg, struct dm_err *err);

#endif /* MIME_H */
