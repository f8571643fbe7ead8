/*
 * check_fetch.c: fetch.c (sources from their configuration, secrets) and
 * the IMAP source: its parsers offline, then the whole queue against the
 * test Dovecot of tests/dovecot.sh, and STARTTLS against a fake server
 * that offers no TLS.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "buf.h"
#include "dm.h"
#include "fetch.h"
#include "fetch_imap_parse.h"

#define SAMPLES		"samples/mail-auth/dmarc-feedback"

/* --- helpers -------------------------------------------------------------- */

static char tmpdir[64];

static void
tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_fetch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	char	 cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

/* Write s into tmpdir/name with mode; returns the path (static). */
static const char *
tmp_file(const char *name, const char *s, mode_t mode)
{
	static char	 path[4][128];
	static int	 next;
	char		*p = path[next++ % 4];
	FILE		*fp;

	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fputs(s, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(p, mode), 0);
	return p;
}

static const char *
env(const char *name)
{
	const char	*v = getenv(name);

	ck_assert_msg(v != NULL, "%s is not set", name);
	return v;
}

/* Run a shell command; fail the test when it fails. */
static void
sh(const char *fmt, ...) DM_PRINTF(1, 2);
static void
sh(const char *fmt, ...)
{
	char	 cmd[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

static const char *
script(void)
{
	static char	 path[1024];
	const char	*top = getenv("DM_TESTDATA");

	snprintf(path, sizeof(path), "%s/../dovecot.sh",
	    top != NULL ? top : "tests/data");
	return path;
}

/* Empty mailbox mbox (UTF-8) on the test server, then seed it. */
static void
dv_reset(const char *mbox)
{
	char	 cmd[1024];

	snprintf(cmd, sizeof(cmd), "doveadm -c '%s/dovecot.conf' mailbox "
	    "delete -r -s -u '%s' '%s' >/dev/null 2>&1", env("DOVECOT_DIR"),
	    env("DOVECOT_USER"), mbox);
	(void)system(cmd);
}

static void
dv_seed(const char *mbox, const char *file)
{
	sh("sh '%s' seed '%s' '%s' '%s'", script(), env("DOVECOT_DIR"), mbox,
	    test_path(SAMPLES, file));
}

/* doveadm mailbox status FIELD of mbox. */
static unsigned long
dv_status(const char *field, const char *mbox)
{
	char		 cmd[1024], line[256], *p;
	unsigned long	 v = 0;
	FILE		*fp;

	snprintf(cmd, sizeof(cmd), "doveadm -c '%s/dovecot.conf' mailbox "
	    "status -u '%s' %s '%s' 2>/dev/null", env("DOVECOT_DIR"),
	    env("DOVECOT_USER"), field, mbox);
	ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
	if (fgets(line, sizeof(line), fp) != NULL &&
	    (p = strchr(line, '=')) != NULL)
		v = strtoul(p + 1, NULL, 10);
	pclose(fp);
	return v;
}

static unsigned long
dv_count(const char *mbox)
{
	return dv_status("messages", mbox);
}

/* A source on the test server. */
struct tsrc {
	struct fetch_conf	 c;
	struct fetch		*f;
	char			 url[512];
};

/*
 * scheme "imaps" (port +1) or "imap" (+0, STARTTLS) at host; path is the
 * URL path (percent-encoded as in a configuration).
 */
static void
tsrc_init(struct tsrc *t, const char *scheme, const char *host,
    const char *path, enum fetch_after after)
{
	int	 port = atoi(env("DOVECOT_PORT"));

	memset(t, 0, sizeof(*t));
	if (strcmp(scheme, "imaps") == 0)
		port++;
	snprintf(t->url, sizeof(t->url), "%s://%s:%d/%s", scheme, host, port,
	    path);
	t->c.kind = FETCH_IMAP;
	t->c.name = "test";
	t->c.url = t->url;
	t->c.user = (char *)env("DOVECOT_USER");
	t->c.password_file = (char *)env("DOVECOT_PASSWORD_FILE");
	t->c.ca_file = (char *)env("DOVECOT_CA");
	t->c.after = after;
	t->c.processed_folder = "processed";
	t->c.invalid_folder = "invalid";
	t->c.timeout = 10;
}

static struct fetch *
tsrc_new(struct tsrc *t)
{
	struct dm_err	 err = { 0 };

	t->f = fetch_new(&t->c, &err);
	ck_assert_msg(t->f != NULL, "fetch_new: %s", err.msg);
	return t->f;
}

/* open, or fail the test with the reason */
static void
must_open(struct fetch *f)
{
	struct dm_err	 err = { 0 };

	ck_assert_msg(f->ops->open(f, &err) == 0, "open: %s", err.msg);
}

static size_t
must_list(struct fetch *f, struct fetch_item **items, size_t max)
{
	struct dm_err	 err = { 0 };
	size_t		 n = 0;

	ck_assert_msg(f->ops->list(f, items, &n, max, &err) == 0, "list: %s",
	    err.msg);
	return n;
}

static void
must_ack(struct fetch *f, const struct fetch_item *it, int invalid)
{
	struct dm_err	 err = { 0 };

	ck_assert_msg(f->ops->ack(f, it, invalid, invalid ? "test" : NULL,
	    &err) == 0, "ack: %s", err.msg);
}

/* open must fail with DM_ESOURCE and a message holding want. */
static void
open_fails(struct fetch *f, const char *want, struct dm_err *err)
{
	memset(err, 0, sizeof(*err));
	ck_assert_int_eq(f->ops->open(f, err), -1);
	ck_assert_msg(err->scope == DM_ESOURCE, "scope %d: %s", err->scope,
	    err->msg);
	ck_assert_msg(strstr(err->msg, want) != NULL, "want \"%s\" in: %s",
	    want, err->msg);
	ck_assert_msg(strstr(err->msg, "dmarc-test-secret") == NULL,
	    "the password leaked: %s", err->msg);
}

/* LF -> CRLF, as IMAP serves a message stored with bare LFs. */
static void
crlf(const struct buf *in, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < in->len; i++) {
		if (in->data[i] == '\n' && (i == 0 || in->data[i - 1] != '\r'))
			ck_assert_int_eq(buf_addc(out, '\r'), 0);
		ck_assert_int_eq(buf_addc(out, in->data[i]), 0);
	}
}

/* --- offline: URLs and where ---------------------------------------------- */

static const struct {
	const char	*url;
	int		 ok;
	const char	*where;		/* or the error's substring */
} url_cases[] = {
	{ "imaps://mail.example.com/INBOX", 1,
	    "imaps://mail.example.com/INBOX" },
	{ "imap://mail.example.com:143/INBOX", 1,
	    "imap://mail.example.com:143/INBOX" },
	{ "IMAPS://127.0.0.1:993", 1, "imaps://127.0.0.1:993/" },
	{ "imaps://dmarc@mail.example.com/Reports", 1,
	    "imaps://mail.example.com/Reports" },
	{ "imaps://[::1]:993/INBOX", 1, "imaps://[::1]:993/INBOX" },
	{ "imaps://h/F%C3%A9vrier%20%26%20Co", 1,
	    "imaps://h/F%C3%A9vrier%20%26%20Co" },
	{ "http://mail.example.com/", 0, "imaps://HOST/MAILBOX" },
	{ "pop3s://mail.example.com/", 0, "imaps://HOST/MAILBOX" },
	{ "imaps://dmarc:hunter2@mail.example.com/", 0, "password" },
	{ "imaps:///INBOX", 0, "no host" },
	{ "imaps://h:0/INBOX", 0, "port" },
	{ "imaps://h:99999/INBOX", 0, "port" },
	{ "imaps://h:99x/INBOX", 0, "port" },
	{ "imaps://h/INBOX?UNSEEN", 0, "'?'" },
	{ "imaps://h/INBOX;UID=4", 0, "';'" },
	{ "imaps://h/IN BOX", 0, "blanks" },
	{ "imaps://h/IN%00BOX", 0, "%XX" },
	{ "imaps://h/IN%0ABOX", 0, "control" },
	{ "imaps://h/IN%ZZBOX", 0, "%XX" },
	{ "imaps://h/%FF%FE", 0, "UTF-8" },
	{ "imaps://h[/", 0, "host" },
	{ "imaps://[::1/", 0, "unclosed" },
};

START_TEST(test_fetch_new_imap_url_table)
{
	struct fetch_conf	 c;
	struct fetch		*f;
	struct dm_err		 err = { 0 };

	memset(&c, 0, sizeof(c));
	c.kind = FETCH_IMAP;
	c.url = (char *)url_cases[_i].url;
	c.user = "dmarc";
	c.password_file = "/nonexistent";
	f = fetch_new(&c, &err);
	if (url_cases[_i].ok) {
		ck_assert_msg(f != NULL, "%s: %s", c.url, err.msg);
		ck_assert_str_eq(f->where, url_cases[_i].where);
		ck_assert_ptr_eq(f->ops, &fetch_imap_ops);
		ck_assert_uint_eq(f->uidvalidity, 0);
	} else {
		ck_assert_msg(f == NULL, "%s accepted", c.url);
		ck_assert_int_eq(err.scope, DM_ECONFIG);
		ck_assert_msg(strstr(err.msg, url_cases[_i].where) != NULL,
		    "%s: want \"%s\" in: %s", c.url, url_cases[_i].where,
		    err.msg);
	}
	fetch_free(f);
}
END_TEST

START_TEST(test_fetch_new_refuses_bad_folder_names)
{
	struct fetch_conf	 c;
	struct dm_err		 err = { 0 };

	memset(&c, 0, sizeof(c));
	c.kind = FETCH_IMAP;
	c.url = "imaps://h/INBOX";
	c.user = "dmarc";
	c.processed_folder = "done\r\nA1 LOGOUT";
	ck_assert_ptr_null(fetch_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "processed_folder"));
	c.processed_folder = "done";
	c.invalid_folder = "\xff\xfe";
	ck_assert_ptr_null(fetch_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid_folder"));
	c.invalid_folder = NULL;
	c.user = NULL;
	ck_assert_ptr_null(fetch_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "no user"));
}
END_TEST

START_TEST(test_fetch_new_picks_ops_by_kind)
{
	struct fetch_conf	 c;
	struct fetch		*f;
	struct dm_err		 err = { 0 };

	memset(&c, 0, sizeof(c));
	c.kind = FETCH_POP3;
	c.url = "pop3s://dmarc@mail.example.com:995";
	ck_assert_ptr_nonnull(f = fetch_new(&c, &err));
	ck_assert_ptr_eq(f->ops, &fetch_pop3_ops);
	ck_assert_str_eq(f->where, "pop3s://mail.example.com:995");
	fetch_free(f);
	c.url = "pop3s://dmarc:pw@mail.example.com";
	ck_assert_ptr_null(fetch_new(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "password"));
	c.url = "imaps://mail.example.com";
	ck_assert_ptr_null(fetch_new(&c, &err));
	memset(&c, 0, sizeof(c));
	c.kind = FETCH_MAILDIR;
	c.path = "/var/mail/dmarc";
	ck_assert_ptr_nonnull(f = fetch_new(&c, &err));
	ck_assert_ptr_eq(f->ops, &fetch_maildir_ops);
	ck_assert_str_eq(f->where, "/var/mail/dmarc");
	fetch_free(f);
	c.path = NULL;
	ck_assert_ptr_null(fetch_new(&c, &err));
	fetch_free(NULL);
}
END_TEST

/* --- offline: modified UTF-7 ---------------------------------------------- */

static const struct {
	const char	*utf8;
	const char	*mutf7;		/* NULL: refused */
} mutf7_cases[] = {
	{ "INBOX", "INBOX" },
	{ "processed", "processed" },
	{ "Tom & Jerry", "Tom &- Jerry" },
	{ "&", "&-" },
	{ "F\xc3\xa9vrier", "F&AOk-vrier" },
	{ "\xc3\xa9t\xc3\xa9", "&AOk-t&AOk-" },
	/* RFC 3501 5.1.3's example */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	    "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },		/* U+1F600 */
	{ "a\xe2\x82\xac", "a&IKw-" },			/* U+20AC */
	{ "", "" },
	{ "a\tb", NULL },
	{ "a\x7f", NULL },
	{ "\xc3", NULL },				/* truncated */
	{ "\xc0\xaf", NULL },				/* overlong */
	{ "\xed\xa0\x80", NULL },			/* surrogate */
	{ "\xf4\x90\x80\x80", NULL },			/* > U+10FFFF */
	{ "\xff", NULL },
};

START_TEST(test_fetch_imap_mutf7_table)
{
	struct buf	 b;
	int		 rc;

	buf_init(&b, 1024);
	rc = fetch_imap_mutf7(mutf7_cases[_i].utf8, &b);
	if (mutf7_cases[_i].mutf7 == NULL)
		ck_assert_msg(rc == -1, "case %d accepted", _i);
	else {
		ck_assert_msg(rc == 0, "case %d refused", _i);
		/* not buf_cstr(): it is not NUL-terminated when never written */
		ck_assert_uint_eq(b.len, strlen(mutf7_cases[_i].mutf7));
		if (b.len > 0)
			ck_assert_int_eq(memcmp(b.data, mutf7_cases[_i].mutf7,
			    b.len), 0);
	}
	buf_clear(&b);
}
END_TEST

START_TEST(test_fetch_imap_mutf7_bounded)
{
	struct buf	 b;

	buf_init(&b, 4);
	ck_assert_int_eq(fetch_imap_mutf7("\xc3\xa9\xc3\xa9\xc3\xa9", &b), -1);
	buf_clear(&b);
}
END_TEST

/* --- offline: response lines ---------------------------------------------- */

static const struct {
	const char	*line;
	int		 rc;
	size_t		 n;
	uint32_t	 first, last;
} search_cases[] = {
	{ "* SEARCH", 1, 0, 0, 0 },
	{ "* SEARCH 4", 1, 1, 4, 4 },
	{ "* search 2 3 9", 1, 3, 2, 9 },
	{ "* SEARCH 1  4294967295", 1, 2, 1, 4294967295u },
	{ "* SEARCH 3 (MODSEQ 917162500)", 1, 1, 3, 3 },
	{ "* SEARCH 4294967296", -1, 0, 0, 0 },
	{ "* SEARCH 0", -1, 0, 0, 0 },
	{ "* SEARCH 1 2 3 4 5 6 7 8 9", -1, 0, 0, 0 },	/* over max 8 */
	{ "* SEARCH 12a", -1, 0, 0, 0 },
	{ "* SEARCH -1", -1, 0, 0, 0 },
	{ "* SEARCHING 1", 0, 0, 0, 0 },
	{ "* 3 EXISTS", 0, 0, 0, 0 },
	{ "* OK [UIDVALIDITY 3]", 0, 0, 0, 0 },
};

START_TEST(test_fetch_imap_parse_search_table)
{
	uint32_t	 uids[8];
	size_t		 n = 0;
	int		 rc;

	rc = fetch_imap_parse_search(search_cases[_i].line,
	    strlen(search_cases[_i].line), uids, nitems(uids), &n);
	ck_assert_msg(rc == search_cases[_i].rc, "%s: rc %d",
	    search_cases[_i].line, rc);
	if (rc == 1) {
		ck_assert_uint_eq(n, search_cases[_i].n);
		if (n > 0) {
			ck_assert_uint_eq(uids[0], search_cases[_i].first);
			ck_assert_uint_eq(uids[n - 1], search_cases[_i].last);
		}
	}
}
END_TEST

static const struct {
	const char	*line;
	int		 rc;
	unsigned	 have;
	uint32_t	 messages, uidvalidity;
} status_cases[] = {
	{ "* STATUS INBOX (MESSAGES 3 UIDVALIDITY 1795878139)", 1,
	    IMAP_ST_MESSAGES | IMAP_ST_UIDVALIDITY, 3, 1795878139u },
	{ "* STATUS \"a \\\"b\\\" (c)\" (UIDVALIDITY 7 UIDNEXT 9 MESSAGES "
	    "0)", 1, IMAP_ST_MESSAGES | IMAP_ST_UIDVALIDITY |
	    IMAP_ST_UIDNEXT, 0, 7 },
	{ "* STATUS x (HIGHESTMODSEQ 9223372036854775807 MESSAGES 1)", 1,
	    IMAP_ST_MESSAGES, 1, 0 },
	{ "* STATUS x ()", 1, 0, 0, 0 },
	{ "* STATUS x (UIDVALIDITY 0)", -1, 0, 0, 0 },
	{ "* STATUS x (UIDVALIDITY 4294967296)", -1, 0, 0, 0 },
	{ "* STATUS x (MESSAGES 99999999999999999999999)", -1, 0, 0, 0 },
	{ "* STATUS x (MESSAGES)", -1, 0, 0, 0 },
	{ "* STATUS x (MESSAGES 1", -1, 0, 0, 0 },
	{ "* STATUS x (MESSAGES 1) junk", -1, 0, 0, 0 },
	{ "* STATUS {5}", -1, 0, 0, 0 },
	{ "* STATUS \"x (MESSAGES 1)", -1, 0, 0, 0 },
	{ "* STATUS ", -1, 0, 0, 0 },
	{ "* LIST () \"/\" x", 0, 0, 0, 0 },
};

START_TEST(test_fetch_imap_parse_status_table)
{
	struct fetch_imap_status	 st;
	int				 rc;

	rc = fetch_imap_parse_status(status_cases[_i].line,
	    strlen(status_cases[_i].line), &st);
	ck_assert_msg(rc == status_cases[_i].rc, "%s: rc %d",
	    status_cases[_i].line, rc);
	if (rc == 1) {
		ck_assert_uint_eq(st.have, status_cases[_i].have);
		ck_assert_uint_eq(st.messages, status_cases[_i].messages);
		ck_assert_uint_eq(st.uidvalidity,
		    status_cases[_i].uidvalidity);
	}
}
END_TEST

static const struct {
	const char	*line;
	int		 rc;
	unsigned	 caps;
} caps_cases[] = {
	{ "* CAPABILITY IMAP4rev1 SASL-IR UIDPLUS MOVE IDLE", 1,
	    IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS },
	{ "* capability imap4rev1 move", 1, IMAP_CAP_MOVE },
	{ "* CAPABILITY IMAP4rev1 MOVEX UIDPLUS2", 1, 0 },
	{ "* CAPABILITY", 1, 0 },
	{ "* CAPABILITY IMAP4rev1 \x01", -1, 0 },
	{ "* CAPABILITYX MOVE", 0, 0 },
	{ "* OK [CAPABILITY MOVE]", 0, 0 },
};

START_TEST(test_fetch_imap_parse_caps_table)
{
	unsigned	 caps = 0;
	int		 rc;

	rc = fetch_imap_parse_caps(caps_cases[_i].line,
	    strlen(caps_cases[_i].line), &caps);
	ck_assert_msg(rc == caps_cases[_i].rc, "%s: rc %d",
	    caps_cases[_i].line, rc);
	if (rc == 1)
		ck_assert_uint_eq(caps, caps_cases[_i].caps);
}
END_TEST

static const struct {
	const char	*line;
	int		 rc;
	const char	*name;
	int		 selectable;
} list_cases[] = {
	{ "* LIST (\\HasNoChildren) \"/\" processed", 1, "processed", 1 },
	{ "* LIST () \".\" \"F&AOk-vrier \\\"x\\\"\"", 1,
	    "F&AOk-vrier \"x\"", 1 },
	{ "* LIST (\\Noselect \\HasChildren) NIL Archive", 1, "Archive", 0 },
	{ "* LIST (\\NonExistent) \"/\" gone", 1, "gone", 0 },
	{ "* LIST (\\HasNoChildren) \"/\" x (CHILDINFO (\"SUBSCRIBED\"))", 1,
	    "x", 1 },
	{ "* LIST (\\HasNoChildren) \"/\" {9}", -1, NULL, 0 },
	{ "* LIST (\\HasNoChildren \"/\" x", -1, NULL, 0 },
	{ "* LIST (\\HasNoChildren) \"/\"", -1, NULL, 0 },
	{ "* LIST (\\HasNoChildren) \"/\" \"unterminated", -1, NULL, 0 },
	{ "* LIST () \"/\" \"bad \\escape\"", -1, NULL, 0 },
	{ "* LSUB () \"/\" x", 0, NULL, 0 },
};

START_TEST(test_fetch_imap_parse_list_table)
{
	char	 name[64];
	int	 rc, sel = -1;

	rc = fetch_imap_parse_list(list_cases[_i].line,
	    strlen(list_cases[_i].line), name, sizeof(name), &sel);
	ck_assert_msg(rc == list_cases[_i].rc, "%s: rc %d",
	    list_cases[_i].line, rc);
	if (rc == 1) {
		ck_assert_str_eq(name, list_cases[_i].name);
		ck_assert_int_eq(sel, list_cases[_i].selectable);
	}
}
END_TEST

START_TEST(test_fetch_imap_parse_list_name_bounded)
{
	const char	*line = "* LIST () \"/\" abcdefghijklmnop";
	char		 name[8];
	int		 sel;

	ck_assert_int_eq(fetch_imap_parse_list(line, strlen(line), name,
	    sizeof(name), &sel), -1);
}
END_TEST

/* --- offline: secrets ----------------------------------------------------- */

START_TEST(test_fetch_secret_file_first_line)
{
	struct fetch_conf	 c;
	struct dm_err		 err = { 0 };
	char			*s;

	tmp_setup();
	memset(&c, 0, sizeof(c));
	c.password_file = (char *)tmp_file("pw", "s3cret pass\r\nsecond\n",
	    0600);
	s = fetch_secret(&c, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	ck_assert_str_eq(s, "s3cret pass");
	fetch_secret_free(s);
	c.password_file = (char *)tmp_file("empty", "\n", 0600);
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
	c.password_file = (char *)"/nonexistent/pw";
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/pw"));
	fetch_secret_free(NULL);
	tmp_teardown();
}
END_TEST

START_TEST(test_fetch_secret_file_readable_by_others_refused)
{
	struct fetch_conf	 c;
	struct dm_err		 err = { 0 };
	char			 want[256];

	tmp_setup();
	memset(&c, 0, sizeof(c));
	c.password_file = (char *)tmp_file("pw", "hunter2\n", 0644);
	ck_assert_ptr_null(fetch_secret(&c, &err));
	snprintf(want, sizeof(want), "password_file %s is readable by "
	    "others: chmod 600 %s", c.password_file, c.password_file);
	ck_assert_str_eq(err.msg, want);
	ck_assert_ptr_null(strstr(err.msg, "hunter2"));
	c.password_file = (char *)tmp_file("pw2", "hunter2\n", 0640);
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "chmod 600"));
	tmp_teardown();
}
END_TEST

START_TEST(test_fetch_secret_command_first_line)
{
	struct fetch_conf	 c;
	struct dm_err		 err = { 0 };
	char			*s;

	memset(&c, 0, sizeof(c));
	c.timeout = 5;
	c.password_command = "printf 'from-command\\nmore\\n'";
	ck_assert_ptr_nonnull(s = fetch_secret(&c, &err));
	ck_assert_str_eq(s, "from-command");
	fetch_secret_free(s);
	/* a token for XOAUTH2 comes from token_command only */
	c.password_command = NULL;
	c.auth = FETCH_AUTH_XOAUTH2;
	c.token_command = "echo ya29.token";
	ck_assert_ptr_nonnull(s = fetch_secret(&c, &err));
	ck_assert_str_eq(s, "ya29.token");
	fetch_secret_free(s);
	c.token_command = NULL;
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "token_command"));
	/* a huge output: bounded, the command is not waited for forever */
	c.auth = FETCH_AUTH_PLAIN;
	c.password_command = "yes";
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "password_command"));
}
END_TEST

START_TEST(test_fetch_secret_command_failure_hides_output)
{
	struct fetch_conf	 c;
	struct dm_err		 err = { 0 };

	memset(&c, 0, sizeof(c));
	c.timeout = 5;
	c.password_command = "echo leaked-output; exit 3";
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_str_eq(err.msg, "password_command exited with status 3");
	ck_assert_int_eq(err.scope, DM_ESOURCE);
	c.password_command = "true";
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "empty"));
	c.password_command = "kill -9 $$";
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "signal 9"));
	c.timeout = 1;
	c.password_command = "exec sleep 10";
	ck_assert_ptr_null(fetch_secret(&c, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "timed out"));
}
END_TEST

/* --- offline: connections that must fail --------------------------------- */

START_TEST(test_fetch_imap_connection_refused)
{
	struct fetch_conf	 c;
	struct fetch		*f;
	struct dm_err		 err = { 0 };

	tmp_setup();
	memset(&c, 0, sizeof(c));
	c.kind = FETCH_IMAP;
	c.url = "imaps://127.0.0.1:1/INBOX";
	c.user = "dmarc";
	c.password_file = (char *)tmp_file("pw", "hunter2\n", 0600);
	c.timeout = 5;
	ck_assert_ptr_nonnull(f = fetch_new(&c, &err));
	ck_assert_int_eq(f->ops->open(f, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESOURCE);
	ck_assert_str_eq(err.msg,
	    "imap: 127.0.0.1:1: cannot connect (Connection refused)");
	fetch_free(f);
	tmp_teardown();
}
END_TEST

/*
 * A fake IMAP server on 127.0.0.1 that offers no STARTTLS and records
 * every byte it gets. Returns its port; *pid and *rec (a pipe that
 * yields the bytes once the connection ends) are for fake_end().
 */
static int
fake_start(pid_t *pid, int *rec)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	char			 in[8192], line[1100], tag[64];
	size_t			 len = 0, i, start;
	ssize_t			 r;
	int			 ls, s, p[2], one = 1;

	ck_assert_int_ne(ls = socket(AF_INET, SOCK_STREAM, 0), -1);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(ls, 1), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sin, &slen), 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ne(*pid = fork(), -1);
	if (*pid > 0) {
		close(ls);
		close(p[1]);
		*rec = p[0];
		return ntohs(sin.sin_port);
	}
	close(p[0]);
	alarm(10);
	if ((s = accept(ls, NULL, NULL)) == -1)
		_exit(1);
	dprintf(s, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] "
	    "fake ready\r\n");
	start = 0;
	while (len < sizeof(in) && (r = read(s, in + len,
	    sizeof(in) - len)) > 0) {
		len += (size_t)r;
		for (i = start; i < len; i++) {
			if (in[i] != '\n')
				continue;
			snprintf(line, sizeof(line), "%.*s", (int)(i - start),
			    in + start);
			start = i + 1;
			if (sscanf(line, "%63s", tag) != 1)
				continue;
			if (strstr(line, "CAPABILITY") != NULL)
				dprintf(s, "* CAPABILITY IMAP4rev1 AUTH=PLAIN "
				    "AUTH=LOGIN\r\n%s OK done\r\n", tag);
			else if (strstr(line, "LOGOUT") != NULL)
				dprintf(s, "* BYE bye\r\n%s OK done\r\n", tag);
			else
				dprintf(s, "%s NO not here\r\n", tag);
		}
	}
	if (write(p[1], in, len) < 0)
		_exit(1);
	_exit(0);
}

/* The bytes the fake server got, NUL-terminated, into out. */
static void
fake_end(pid_t pid, int rec, char *out, size_t outlen)
{
	size_t	 len = 0;
	ssize_t	 r;
	int	 status;

	while (len + 1 < outlen && (r = read(rec, out + len,
	    outlen - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(rec);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
}

START_TEST(test_fetch_imap_starttls_required_never_sends_password)
{
	struct fetch_conf	 c;
	struct fetch		*f;
	struct dm_err		 err = { 0 };
	char			 url[128], got[8192];
	pid_t			 pid;
	int			 rec, port;

	tmp_setup();
	port = fake_start(&pid, &rec);
	snprintf(url, sizeof(url), "imap://127.0.0.1:%d/INBOX", port);
	memset(&c, 0, sizeof(c));
	c.kind = FETCH_IMAP;
	c.url = url;
	c.user = "dmarc";
	c.password_file = (char *)tmp_file("pw", "hunter2\n", 0600);
	c.timeout = 5;
	ck_assert_ptr_nonnull(f = fetch_new(&c, &err));
	ck_assert_int_eq(f->ops->open(f, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESOURCE);
	ck_assert_msg(strstr(err.msg, "STARTTLS") != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "127.0.0.1"));
	fetch_free(f);
	fake_end(pid, rec, got, sizeof(got));
	/* it asked what the server can do, then gave up: nothing else */
	ck_assert_msg(strstr(got, "CAPABILITY") != NULL, "got: %s", got);
	ck_assert_msg(strstr(got, "hunter2") == NULL, "got: %s", got);
	ck_assert_msg(strstr(got, "aHVudGVyMg") == NULL, "got: %s", got);
	ck_assert_msg(strstr(got, "ZG1hcmMAZG1hcmMAaHVudGVyMg") == NULL,
	    "got: %s", got);
	ck_assert_msg(strstr(got, "AUTHENTICATE") == NULL, "got: %s", got);
	ck_assert_msg(strstr(got, "LOGIN") == NULL, "got: %s", got);
	tmp_teardown();
}
END_TEST

/* --- against Dovecot ------------------------------------------------------ */

START_TEST(test_imap_imaps_list_get_exact_bytes)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct buf		 msg, file, want;
	struct dm_err		 err = { 0 };
	size_t			 n;

	dv_reset("t_get");
	dv_seed("t_get", "100.eml");
	dv_seed("t_get", "101.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_get", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(f->uidvalidity, dv_status("uidvalidity", "t_get"));
	ck_assert_uint_ne(f->uidvalidity, 0);
	n = must_list(f, &items, 100);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_lt(items[0].uid, items[1].uid);
	ck_assert_str_eq(items[0].id, "");
	buf_init(&msg, 1u << 20);
	buf_init(&file, 1u << 20);
	buf_init(&want, 1u << 20);
	test_load(&file, SAMPLES, "100.eml");
	crlf(&file, &want);
	ck_assert_msg(f->ops->get(f, &items[0], &msg, &err) == 0, "get: %s",
	    err.msg);
	ck_assert_uint_eq(msg.len, want.len);
	ck_assert_int_eq(memcmp(msg.data, want.data, want.len), 0);
	/* the second, on the same connection */
	buf_reset(&msg);
	buf_reset(&file);
	buf_reset(&want);
	test_load(&file, SAMPLES, "101.eml");
	crlf(&file, &want);
	ck_assert_msg(f->ops->get(f, &items[1], &msg, &err) == 0, "get: %s",
	    err.msg);
	ck_assert_uint_eq(msg.len, want.len);
	ck_assert_int_eq(memcmp(msg.data, want.data, want.len), 0);
	/* nothing acked: all still there */
	f->ops->close(f);
	ck_assert_uint_eq(dv_count("t_get"), 2);
	free(items);
	buf_clear(&msg);
	buf_clear(&file);
	buf_clear(&want);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_starttls_on_plain_port)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct buf		 msg;
	struct dm_err		 err = { 0 };

	dv_reset("t_starttls");
	dv_seed("t_starttls", "100.eml");
	tsrc_init(&t, "imap", "127.0.0.1", "t_starttls", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 1);
	buf_init(&msg, 1u << 20);
	ck_assert_msg(f->ops->get(f, &items[0], &msg, &err) == 0, "%s",
	    err.msg);
	ck_assert_uint_gt(msg.len, 3000);
	buf_clear(&msg);
	free(items);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_wrong_password_leaves_mail)
{
	struct tsrc	 t;
	struct fetch	*f;
	struct dm_err	 err;

	tmp_setup();
	dv_reset("t_wrongpw");
	dv_seed("t_wrongpw", "100.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_wrongpw", FETCH_AFTER_DELETE);
	t.c.password_file = (char *)tmp_file("pw", "not-the-password\n",
	    0600);
	f = tsrc_new(&t);
	open_fails(f, "login failed for user dmarc", &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "127.0.0.1:"));
	ck_assert_msg(strstr(err.msg, "AUTHENTICATIONFAILED") != NULL, "%s",
	    err.msg);
	ck_assert_ptr_null(strstr(err.msg, "not-the-password"));
	ck_assert_uint_eq(dv_count("t_wrongpw"), 1);
	/* and the calls after a failed open are refused, not crashes */
	ck_assert_ptr_null(f->priv);
	fetch_free(f);
	tmp_teardown();
}
END_TEST

START_TEST(test_imap_untrusted_certificate)
{
	struct tsrc	 t;
	struct fetch	*f;
	struct dm_err	 err;

	tsrc_init(&t, "imaps", "127.0.0.1", "INBOX", FETCH_AFTER_MOVE);
	t.c.ca_file = (char *)env("DOVECOT_OTHER_CA");
	f = tsrc_new(&t);
	open_fails(f, "certificate verify failed", &err);
	ck_assert_msg(strstr(err.msg, "issuer") != NULL, "%s", err.msg);
	fetch_free(f);
	/* STARTTLS too, and the system store does not know our CA */
	tsrc_init(&t, "imap", "127.0.0.1", "INBOX", FETCH_AFTER_MOVE);
	t.c.ca_file = NULL;
	f = tsrc_new(&t);
	open_fails(f, "certificate verify failed", &err);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_certificate_name_mismatch)
{
	struct tsrc	 t;
	struct fetch	*f;
	struct dm_err	 err;

	/* the certificate names 127.0.0.1 only */
	tsrc_init(&t, "imaps", "127.0.0.2", "INBOX", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	open_fails(f, "certificate verify failed", &err);
	ck_assert_msg(strstr(err.msg, "127.0.0.2") != NULL, "%s", err.msg);
	fetch_free(f);
	tsrc_init(&t, "imap", "127.0.0.2", "INBOX", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	open_fails(f, "certificate verify failed", &err);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_missing_mailbox)
{
	struct tsrc	 t;
	struct fetch	*f;
	struct dm_err	 err;

	dv_reset("t_missing");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_missing", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	open_fails(f, "t_missing", &err);
	fetch_free(f);
}
END_TEST

/* ack done with after = move, with MOVE, with COPY + UID EXPUNGE, and
 * with COPY + EXPUNGE */
static const unsigned move_caps[] = {
	IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS, IMAP_CAP_UIDPLUS, 0
};

START_TEST(test_imap_ack_move_creates_folder)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	char			 src[32], dst[32];
	size_t			 n, i;

	snprintf(src, sizeof(src), "t_move%d", _i);
	snprintf(dst, sizeof(dst), "t_move%d_done", _i);
	dv_reset(src);
	dv_reset(dst);
	dv_seed(src, "100.eml");
	dv_seed(src, "101.eml");
	dv_seed(src, "103.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", src, FETCH_AFTER_MOVE);
	t.c.processed_folder = dst;
	f = tsrc_new(&t);
	must_open(f);
	fetch_imap_test_caps(f, move_caps[_i]);
	n = must_list(f, &items, 2);
	ck_assert_uint_eq(n, 2);	/* max */
	for (i = 0; i < n; i++)
		must_ack(f, &items[i], 0);
	free(items);
	ck_assert_uint_eq(dv_count(src), 1);
	ck_assert_uint_eq(dv_count(dst), 2);
	/* the one left is the newest; the folder exists now */
	n = must_list(f, &items, 10);
	ck_assert_uint_eq(n, 1);
	must_ack(f, &items[0], 0);
	free(items);
	ck_assert_uint_eq(must_list(f, &items, 10), 0);
	free(items);
	ck_assert_uint_eq(dv_count(src), 0);
	ck_assert_uint_eq(dv_count(dst), 3);
	fetch_free(f);
}
END_TEST

/* A folder the server won't create: the message stays, the reason shows. */
START_TEST(test_imap_create_refused_keeps_message)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct dm_err		 err = { 0 };

	dv_reset("t_dot");
	dv_seed("t_dot", "100.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_dot", FETCH_AFTER_MOVE);
	/* Maildir++ under a "/" separator takes no '.' in names */
	t.c.processed_folder = "t_dot.done";
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 1);
	ck_assert_int_eq(f->ops->ack(f, &items[0], 0, NULL, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESOURCE);
	ck_assert_msg(strstr(err.msg, "refused CREATE \"t_dot.done\"") !=
	    NULL && strstr(err.msg, "(the server said NO ") != NULL, "%s",
	    err.msg);
	free(items);
	ck_assert_uint_eq(dv_count("t_dot"), 1);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_ack_invalid_goes_to_invalid_folder)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;

	dv_reset("t_inval");
	dv_reset("t_inval_bad");
	dv_reset("t_inval_done");
	dv_seed("t_inval", "100.eml");
	dv_seed("t_inval", "101.eml");
	/* whatever after says */
	tsrc_init(&t, "imaps", "127.0.0.1", "t_inval", FETCH_AFTER_SEEN);
	t.c.invalid_folder = "t_inval_bad";
	t.c.processed_folder = "t_inval_done";
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 2);
	must_ack(f, &items[0], 1);
	must_ack(f, &items[1], 0);
	free(items);
	ck_assert_uint_eq(dv_count("t_inval_bad"), 1);
	ck_assert_uint_eq(dv_count("t_inval"), 1);	/* seen: kept */
	ck_assert_uint_eq(dv_count("t_inval_done"), 0);
	ck_assert_uint_eq(must_list(f, &items, 10), 0);
	free(items);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_after_seen_not_listed_again)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct buf		 msg;
	struct dm_err		 err = { 0 };
	uint32_t		 second;

	dv_reset("t_seen");
	dv_seed("t_seen", "100.eml");
	dv_seed("t_seen", "101.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_seen", FETCH_AFTER_SEEN);
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 2);
	second = items[1].uid;
	/* fetching the second sets \Seen; that alone is not "done" */
	buf_init(&msg, 1u << 20);
	ck_assert_msg(f->ops->get(f, &items[1], &msg, &err) == 0, "%s",
	    err.msg);
	buf_clear(&msg);
	must_ack(f, &items[0], 0);
	free(items);
	f->ops->close(f);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 1);
	ck_assert_uint_eq(items[0].uid, second);
	free(items);
	ck_assert_uint_eq(dv_count("t_seen"), 2);
	ck_assert_uint_eq(dv_status("unseen", "t_seen"), 0);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_after_delete)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;

	dv_reset("t_del");
	dv_seed("t_del", "100.eml");
	dv_seed("t_del", "101.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_del", FETCH_AFTER_DELETE);
	f = tsrc_new(&t);
	must_open(f);
	/* without UIDPLUS the last resort is a plain EXPUNGE */
	fetch_imap_test_caps(f, 0);
	ck_assert_uint_eq(must_list(f, &items, 10), 2);
	must_ack(f, &items[0], 0);
	ck_assert_uint_eq(dv_count("t_del"), 1);
	fetch_imap_test_caps(f, IMAP_CAP_UIDPLUS);
	must_ack(f, &items[1], 0);
	free(items);
	ck_assert_uint_eq(dv_count("t_del"), 0);
	ck_assert_uint_eq(must_list(f, &items, 10), 0);
	free(items);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_message_over_bound_is_emsg)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct buf		 msg;
	struct dm_err		 err = { 0 };

	dv_reset("t_big");
	dv_reset("t_big_bad");
	dv_seed("t_big", "103.eml");
	dv_seed("t_big", "100.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_big", FETCH_AFTER_MOVE);
	t.c.invalid_folder = "t_big_bad";
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 2);
	buf_init(&msg, 5000);
	ck_assert_int_eq(f->ops->get(f, &items[0], &msg, &err), -1);
	ck_assert_int_eq(err.scope, DM_EMSG);
	ck_assert_str_eq(err.msg, "imap: message over 5000 bytes");
	/* the daemon quarantines it: the connection comes back for that */
	must_ack(f, &items[0], 1);
	buf_reset(&msg);
	ck_assert_msg(f->ops->get(f, &items[1], &msg, &err) == 0, "%s",
	    err.msg);
	ck_assert_uint_gt(msg.len, 3000);
	buf_clear(&msg);
	free(items);
	ck_assert_uint_eq(dv_count("t_big_bad"), 1);
	ck_assert_uint_eq(dv_count("t_big"), 1);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_password_command_and_auth_login)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	char			 cmd[512];

	snprintf(cmd, sizeof(cmd), "cat '%s'", env("DOVECOT_PASSWORD_FILE"));
	tsrc_init(&t, "imaps", "127.0.0.1", "INBOX", FETCH_AFTER_MOVE);
	t.c.password_file = NULL;
	t.c.password_command = cmd;
	f = tsrc_new(&t);
	must_open(f);
	(void)must_list(f, &items, 1);
	free(items);
	fetch_free(f);
	t.c.auth = FETCH_AUTH_LOGIN;
	f = tsrc_new(&t);
	must_open(f);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_password_file_readable_by_others_refused)
{
	struct tsrc	 t;
	struct fetch	*f;
	struct dm_err	 err = { 0 };

	tmp_setup();
	tsrc_init(&t, "imaps", "127.0.0.1", "INBOX", FETCH_AFTER_MOVE);
	t.c.password_file = (char *)tmp_file("pw", "dmarc-test-secret\n",
	    0644);
	f = tsrc_new(&t);
	ck_assert_int_eq(f->ops->open(f, &err), -1);
	ck_assert_int_eq(err.scope, DM_ECONFIG);
	ck_assert_msg(strstr(err.msg, "imap: password_file") == err.msg &&
	    strstr(err.msg, "chmod 600") != NULL, "%s", err.msg);
	fetch_free(f);
	tmp_teardown();
}
END_TEST

START_TEST(test_imap_reconnect_after_close)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct buf		 msg;
	struct dm_err		 err = { 0 };
	uint32_t		 uv;
	int			 round;

	dv_reset("t_reconn");
	dv_seed("t_reconn", "100.eml");
	tsrc_init(&t, "imap", "127.0.0.1", "t_reconn", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	buf_init(&msg, 1u << 20);
	for (round = 0; round < 3; round++) {
		must_open(f);
		if (round == 0)
			uv = f->uidvalidity;
		ck_assert_uint_eq(f->uidvalidity, uv);
		ck_assert_uint_eq(must_list(f, &items, 10), 1);
		buf_reset(&msg);
		ck_assert_msg(f->ops->get(f, &items[0], &msg, &err) == 0,
		    "%s", err.msg);
		free(items);
		f->ops->close(f);
		f->ops->close(f);	/* twice is fine */
	}
	/* list after close is refused, not a crash */
	ck_assert_int_eq(f->ops->list(f, &items, &(size_t){ 0 }, 10, &err),
	    -1);
	buf_clear(&msg);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_uidvalidity_change_detected)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	struct buf		 msg;
	struct dm_err		 err = { 0 };
	size_t			 n;

	dv_reset("t_uidv");
	dv_seed("t_uidv", "100.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_uidv", FETCH_AFTER_MOVE);
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &items, 10), 1);
	/* the mailbox is recreated behind our back: UIDs mean nothing */
	sleep(1);	/* Dovecot's UIDVALIDITY is a time in seconds */
	dv_reset("t_uidv");
	dv_seed("t_uidv", "101.eml");
	buf_init(&msg, 1u << 20);
	ck_assert_int_eq(f->ops->get(f, &items[0], &msg, &err), -1);
	ck_assert_int_eq(err.scope, DM_ESOURCE);
	free(items);
	ck_assert_int_eq(f->ops->list(f, &items, &n, 10, &err), -1);
	ck_assert_msg(strstr(err.msg, "UIDVALIDITY") != NULL, "%s", err.msg);
	ck_assert_ptr_null(items);
	buf_clear(&msg);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_utf8_mailbox_names)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL;
	const char		*src = "t_F\xc3\xa9vrier & 100%";
	const char		*dst = "t_d\xc3\xa9j\xc3\xa0 vu \xe6\x97\xa5";

	dv_reset(src);
	dv_reset(dst);
	dv_seed(src, "100.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_F%C3%A9vrier%20%26%20100%25",
	    FETCH_AFTER_MOVE);
	t.c.processed_folder = (char *)dst;
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(f->uidvalidity, dv_status("uidvalidity", src));
	ck_assert_uint_eq(must_list(f, &items, 10), 1);
	must_ack(f, &items[0], 0);
	free(items);
	ck_assert_uint_eq(dv_count(src), 0);
	ck_assert_uint_eq(dv_count(dst), 1);
	fetch_free(f);
}
END_TEST

START_TEST(test_imap_list_in_windows_oldest_first)
{
	struct tsrc		 t;
	struct fetch		*f;
	struct fetch_item	*items = NULL, *all = NULL;
	size_t			 n, i;
	int			 k;

	dv_reset("t_window");
	for (k = 0; k < 5; k++)
		dv_seed("t_window", "100.eml");
	tsrc_init(&t, "imaps", "127.0.0.1", "t_window", FETCH_AFTER_DELETE);
	f = tsrc_new(&t);
	must_open(f);
	ck_assert_uint_eq(must_list(f, &all, 100), 5);
	fetch_imap_test_window(f, 2);
	n = must_list(f, &items, 3);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(items[i].uid, all[i].uid);
	free(items);
	/* a deleted one in the middle is skipped */
	must_ack(f, &all[1], 0);
	n = must_list(f, &items, 100);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(items[1].uid, all[2].uid);
	ck_assert_uint_eq(items[3].uid, all[4].uid);
	free(items);
	free(all);
	fetch_free(f);
}
END_TEST

/*
 * The test Dovecot offers PLAIN and LOGIN, not XOAUTH2 (it could not
 * check a real token). The token here is the account's password: a
 * client that sent it as a password would get in. XOAUTH2 only, so
 * the login must fail, cleanly, without the token in the message.
 */
START_TEST(test_imap_xoauth2_never_falls_back_to_password)
{
	struct tsrc	 t;
	struct fetch	*f;
	struct dm_err	 err;
	char		 cmd[512];

	snprintf(cmd, sizeof(cmd), "cat '%s'", env("DOVECOT_PASSWORD_FILE"));
	tsrc_init(&t, "imaps", "127.0.0.1", "INBOX", FETCH_AFTER_MOVE);
	t.c.password_file = NULL;
	t.c.auth = FETCH_AUTH_XOAUTH2;
	t.c.token_command = cmd;
	f = tsrc_new(&t);
	open_fails(f, "login failed for user dmarc (XOAUTH2)", &err);
	fetch_free(f);
	t.c.token_command = "echo ya29.a-token";
	f = tsrc_new(&t);
	open_fails(f, "login failed for user dmarc (XOAUTH2)", &err);
	ck_assert_ptr_null(strstr(err.msg, "ya29"));
	fetch_free(f);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("fetch");
	TCase	*tc = tcase_create("offline");
	TCase	*dv = tcase_create("dovecot");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_fetch_new_imap_url_table, 0,
	    nitems(url_cases));
	tcase_add_test(tc, test_fetch_new_refuses_bad_folder_names);
	tcase_add_test(tc, test_fetch_new_picks_ops_by_kind);
	tcase_add_loop_test(tc, test_fetch_imap_mutf7_table, 0,
	    nitems(mutf7_cases));
	tcase_add_test(tc, test_fetch_imap_mutf7_bounded);
	tcase_add_loop_test(tc, test_fetch_imap_parse_search_table, 0,
	    nitems(search_cases));
	tcase_add_loop_test(tc, test_fetch_imap_parse_status_table, 0,
	    nitems(status_cases));
	tcase_add_loop_test(tc, test_fetch_imap_parse_caps_table, 0,
	    nitems(caps_cases));
	tcase_add_loop_test(tc, test_fetch_imap_parse_list_table, 0,
	    nitems(list_cases));
	tcase_add_test(tc, test_fetch_imap_parse_list_name_bounded);
	tcase_add_test(tc, test_fetch_secret_file_first_line);
	tcase_add_test(tc, test_fetch_secret_file_readable_by_others_refused);
	tcase_add_test(tc, test_fetch_secret_command_first_line);
	tcase_add_test(tc, test_fetch_secret_command_failure_hides_output);
	tcase_add_test(tc, test_fetch_imap_connection_refused);
	tcase_add_test(tc,
	    test_fetch_imap_starttls_required_never_sends_password);
	suite_add_tcase(s, tc);

	/*
	 * The rest needs the test Dovecot: required under CI, skipped with
	 * a note otherwise so the offline tests still run.
	 */
	if (getenv("DOVECOT_DIR") == NULL && getenv("CI") == NULL) {
		fprintf(stderr, "DOVECOT_DIR not set: skipping the Dovecot "
		    "tests (eval \"$(tests/dovecot.sh start DIR)\")\n");
		return s;
	}
	(void)test_need_dovecot();
	tcase_set_timeout(dv, 60);
	tcase_add_test(dv, test_imap_imaps_list_get_exact_bytes);
	tcase_add_test(dv, test_imap_starttls_on_plain_port);
	tcase_add_test(dv, test_imap_wrong_password_leaves_mail);
	tcase_add_test(dv, test_imap_untrusted_certificate);
	tcase_add_test(dv, test_imap_certificate_name_mismatch);
	tcase_add_test(dv, test_imap_missing_mailbox);
	tcase_add_loop_test(dv, test_imap_ack_move_creates_folder, 0,
	    nitems(move_caps));
	tcase_add_test(dv, test_imap_create_refused_keeps_message);
	tcase_add_test(dv, test_imap_ack_invalid_goes_to_invalid_folder);
	tcase_add_test(dv, test_imap_after_seen_not_listed_again);
	tcase_add_test(dv, test_imap_after_delete);
	tcase_add_test(dv, test_imap_message_over_bound_is_emsg);
	tcase_add_test(dv, test_imap_password_command_and_auth_login);
	tcase_add_test(dv, test_imap_password_file_readable_by_others_refused);
	tcase_add_test(dv, test_imap_reconnect_after_close);
	tcase_add_test(dv, test_imap_uidvalidity_change_detected);
	tcase_add_test(dv, test_imap_utf8_mailbox_names);
	tcase_add_test(dv, test_imap_list_in_windows_oldest_first);
	tcase_add_test(dv, test_imap_xoauth2_never_falls_back_to_password);
	suite_add_tcase(s, dv);
	return s;
}
