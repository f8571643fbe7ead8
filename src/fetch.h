/*
 * fetch.h: a mailbox as a queue. A source lists its messages, hands
 * each over whole, and files it away (acks) only when the caller says
 * the message's reports are committed. Each kind of source (IMAP, POP3,
 * Maildir) is one file that fills struct fetch_ops; a new source is one
 * new file. Servers are distrusted: every reply is bounded and parsed
 * against a maximum.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"

struct buf;

enum fetch_kind { FETCH_IMAP = 1, FETCH_POP3, FETCH_MAILDIR };
enum fetch_auth { FETCH_AUTH_PLAIN = 0, FETCH_AUTH_LOGIN, FETCH_AUTH_XOAUTH2 };
enum fetch_after {
	FETCH_AFTER_MOVE = 0,	/* IMAP: to processed_folder (default) */
	FETCH_AFTER_SEEN,	/* IMAP: flag \Seen, leave it */
	FETCH_AFTER_DELETE,	/* IMAP, POP3: delete */
	FETCH_AFTER_KEEP,	/* POP3: leave it (UIDL remembered in the ledger) */
};

/* One configured source: a [imap "name"], [pop3 ...] or [maildir ...]. */
struct fetch_conf {
	enum fetch_kind	 kind;
	char		*name;		/* "imap", or "billing" for [imap "billing"] */
	char		*url;		/* imaps://host[:port]/MAILBOX, pop3s://... */
	char		*user;
	char		*password_file;	/* first line is the password */
	char		*password_command; /* stdout's first line */
	enum fetch_auth	 auth;
	char		*token_command;	/* XOAUTH2 bearer token on stdout */
	char		*ca_file;	/* NULL: the system store */
	enum fetch_after after;
	char		*processed_folder;	/* IMAP, default "processed" */
	char		*invalid_folder;	/* IMAP, default "invalid" */
	char		*quarantine_dir;	/* POP3: rejected mail kept here */
	char		*path;		/* Maildir */
	char		*processed;	/* Maildir folder for processed mail */
	char		*invalid;	/* Maildir folder for rejected mail */
	unsigned	 poll_interval;	/* seconds */
	unsigned	 timeout;	/* seconds for one server operation */
};

/* One message in the queue. */
struct fetch_item {
	uint32_t	 uid;		/* IMAP UID; POP3 message number */
	char		 id[256];	/* POP3 UIDL, Maildir file name; else "" */
};

struct fetch;

struct fetch_ops {
	/* Connect, authenticate, select; sets f->uidvalidity (IMAP). */
	int	(*open)(struct fetch *f, struct dm_err *err);
	/*
	 * The messages waiting, oldest first, at most max of them: *items is
	 * a new array (free()), *n its length.
	 */
	int	(*list)(struct fetch *f, struct fetch_item **items, size_t *n,
		    size_t max, struct dm_err *err);
	/* The whole message into msg (buf_init'ed with max_message). */
	int	(*get)(struct fetch *f, const struct fetch_item *it,
		    struct buf *msg, struct dm_err *err);
	/*
	 * File the message: done (its reports are committed: stored or
	 * duplicate) or invalid (rejected: reason says why; kept aside, never
	 * fetched again). Only called after the store's COMMIT.
	 */
	int	(*ack)(struct fetch *f, const struct fetch_item *it, int invalid,
		    const char *reason, struct dm_err *err);
	/* Log out and disconnect; f stays usable for another open(). */
	void	(*close)(struct fetch *f);
};

struct fetch {
	const struct fetch_ops	*ops;
	const struct fetch_conf	*conf;		/* borrowed */
	uint32_t		 uidvalidity;	/* IMAP; 0 otherwise */
	char			 where[512];	/* "imaps://host/INBOX", for logs */
	void			*priv;		/* the source's own state */
};

/*
 * A new, unconnected source for conf (borrowed; must outlive it).
 * Returns NULL with err set (DM_ECONFIG) when the URL is not one this
 * kind of source takes (e.g. imap:// without STARTTLS possible).
 */
struct fetch	*fetch_new(const struct fetch_conf *conf, struct dm_err *err);
void		 fetch_free(struct fetch *f);

/*
 * The secret for conf: password_file's first line, password_command's or
 * token_command's first line of output. The returned string is new and
 * must be wiped and freed with fetch_secret_free(). NULL with err set on
 * failure; a password file others can read is refused.
 */
char	*fetch_secret(const struct fetch_conf *conf, struct dm_err *err);
void	 fetch_secret_free(char *secret);

extern const struct fetch_ops fetch_imap_ops;
extern const struct fetch_ops fetch_pop3_ops;
extern const struct fetch_ops fetch_maildir_ops;

#endif /* FETCH_H */
