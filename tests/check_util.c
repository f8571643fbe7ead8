/*
 * check_util.c: buf, util, log_kv and report_enum_canon.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "buf.h"
#include "log.h"
#include "report.h"
#include "util.h"

static const struct {
	const char	*in;
	uint64_t	 max;
	int		 ok;
	uint64_t	 want;
} u64_cases[] = {
	{ "0", 10, 1, 0 },
	{ "  42\n", 100, 1, 42 },
	{ "\t7 ", 7, 1, 7 },
	{ "8", 7, 0, 0 },
	{ "", 10, 0, 0 },
	{ "   ", 10, 0, 0 },
	{ "-1", 10, 0, 0 },
	{ "+1", 10, 0, 0 },
	{ "1 2", 100, 0, 0 },
	{ "0x10", 100, 0, 0 },
	{ "18446744073709551615", UINT64_MAX, 1, UINT64_MAX },
	{ "18446744073709551616", UINT64_MAX, 0, 0 },
	{ "9223372036854775808", INT64_MAX, 0, 0 },
};

START_TEST(test_util_parse_u64_table)
{
	uint64_t	 v = 12345;
	int		 rc;

	rc = dm_parse_u64(u64_cases[_i].in, u64_cases[_i].max, &v);
	ck_assert_msg((rc == 0) == u64_cases[_i].ok, "'%s'", u64_cases[_i].in);
	if (u64_cases[_i].ok)
		ck_assert_uint_eq(v, u64_cases[_i].want);
}
END_TEST

static const struct {
	const char	*in;
	const char	*want;	/* NULL: not an address */
} ip_cases[] = {
	{ "192.0.2.1", "192.0.2.1" },
	{ " 192.0.2.1\n", "192.0.2.1" },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
	{ "2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329" },
	{ "::ffff:192.0.2.7", "::ffff:192.0.2.7" },
	{ "::", "::" },
	{ "", NULL },
	{ "192.0.2", NULL },
	{ "192.0.2.256", NULL },
	{ "example.com", NULL },
	{ "1.2.3.4 5", NULL },
};

START_TEST(test_util_canon_ip_table)
{
	char	 out[64];
	int	 rc;

	rc = dm_canon_ip(ip_cases[_i].in, out, sizeof(out));
	if (ip_cases[_i].want == NULL)
		ck_assert_msg(rc == -1, "'%s' accepted", ip_cases[_i].in);
	else {
		ck_assert_msg(rc == 0, "'%s' refused", ip_cases[_i].in);
		ck_assert_str_eq(out, ip_cases[_i].want);
	}
}
END_TEST

/* want: the bytes in hex, NULL when not an address */
static const struct {
	const char	*in;
	const char	*want;
} ip_parse_cases[] = {
	{ "192.0.2.1", "c0000201" },
	{ "0.0.0.0", "00000000" },
	{ "255.255.255.255", "ffffffff" },
	{ "2001:db8::1", "20010db8000000000000000000000001" },
	{ "2001:DB8:0:0:0:0:0:1", "20010db8000000000000000000000001" },
	{ "::", "00000000000000000000000000000000" },
	/* IPv4-mapped stays IPv6, as PostgreSQL's inet reads it */
	{ "::ffff:192.0.2.1", "00000000000000000000ffffc0000201" },
	/* IPv6 with dots */
	{ "::192.0.2.1", "000000000000000000000000c0000201" },
	{ "64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221" },
	{ "2001:db8:1:2:3:4:192.0.2.1", "20010db80001000200030004c0000201" },
	/* the longest text of an address */
	{ "0000:0000:0000:0000:0000:ffff:255.255.255.255",
	    "00000000000000000000ffffffffffff" },
	/* XML white space around it, none inside */
	{ " \t\r\n192.0.2.1 \n", "c0000201" },
	{ "\n  2001:db8::1\t\t", "20010db8000000000000000000000001" },
	{ "                                                                "
	    "192.0.2.1", "c0000201" },
	{ "192.0.2.1\n                                                      "
	    "          ", "c0000201" },
	{ "\v192.0.2.1", NULL },
	{ "192.0.2.1\f", NULL },
	{ "1.2.3.4 5", NULL },
	{ "2001:db8:: 1", NULL },
	/* empty, garbage */
	{ "", NULL },
	{ " \t\r\n", NULL },
	{ "example.com", NULL },
	{ "not-an-address", NULL },
	{ ":", NULL },
	{ ".", NULL },
	/* a port, a mask, a zone, one part too few or too many */
	{ "1.2.3.4:", NULL },
	{ "1.2.3.4:25", NULL },
	{ ":1.2.3.4", NULL },
	{ "[2001:db8::1]", NULL },
	{ "192.0.2.1/24", NULL },
	{ "2001:db8::1/64", NULL },
	{ "fe80::1%eth0", NULL },
	{ "192.0.2", NULL },
	{ "1.2.3.4.5", NULL },
	{ "192.0.2.256", NULL },
	{ "::ffff:1.2.3.4.5", NULL },
	{ "::ffff:192.0.2", NULL },
	{ "2001:db8:::1", NULL },
	{ "1:2:3:4:5:6:7:8:9", NULL },
	{ "2001:db8::1::2", NULL },
	{ "12345::", NULL },
	/* over-long */
	{ "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:"
	    "0000", NULL },
	{ "192.0.2.1                                                         "
	    "x", NULL },
	{ "11111111111111111111111111111111111111111111111111111111111111111"
	    "11111111111111111111111111111111111111111111111111111111111111111",
	    NULL },
};

START_TEST(test_util_ip_parse_table)
{
	const char	*in = ip_parse_cases[_i].in;
	const char	*want = ip_parse_cases[_i].want;
	unsigned char	 out[16];
	char		 hex[33];
	int		 len, i;

	len = dm_ip_parse(in, out);
	if (want == NULL) {
		ck_assert_msg(len == -1, "'%s' accepted", in);
		return;
	}
	ck_assert_msg(len == (int)strlen(want) / 2, "'%s': length %d", in,
	    len);
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	ck_assert_str_eq(hex, want);
}
END_TEST

START_TEST(test_util_ip_fmt)
{
	static const unsigned char	 v4[4] = { 192, 0, 2, 1 };
	static const unsigned char	 mapped[16] = { [10] = 0xff,
	    [11] = 0xff, [12] = 192, [13] = 0, [14] = 2, [15] = 1 };
	char				 out[DM_IP_TEXT];

	ck_assert_int_eq(dm_ip_fmt(v4, 4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "192.0.2.1");
	ck_assert_int_eq(dm_ip_fmt(mapped, 16, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "::ffff:192.0.2.1");
	/* no family's length, no room */
	ck_assert_int_eq(dm_ip_fmt(v4, 0, out, sizeof(out)), -1);
	ck_assert_int_eq(dm_ip_fmt(v4, 5, out, sizeof(out)), -1);
	ck_assert_int_eq(dm_ip_fmt(v4, 4, out, 9), -1);
	ck_assert_int_eq(dm_ip_fmt(v4, 4, out, 10), 0);
	ck_assert_str_eq(out, "192.0.2.1");
}
END_TEST

START_TEST(test_util_utf8)
{
	ck_assert_int_eq(is_utf8("abc", 3), 1);
	ck_assert_int_eq(is_utf8("\xc3\xa9", 2), 1);
	ck_assert_int_eq(is_utf8("\xc3", 1), 0);		/* cut */
	ck_assert_int_eq(is_utf8("\xc0\xaf", 2), 0);		/* overlong */
	ck_assert_int_eq(is_utf8("\xed\xa0\x80", 3), 0);	/* surrogate */
	ck_assert_int_eq(is_utf8("a\0b", 3), 0);		/* NUL */
	ck_assert_int_eq(is_utf8("\x91", 1), 0);		/* latin-1 */
}
END_TEST

/* is_utf8() reads ASCII eight bytes at a time: whatever it must refuse
 * or decode is found at every offset of a word and past the words. */
START_TEST(test_util_utf8_at_every_offset)
{
	char	 s[40];
	size_t	 len, at;

	for (len = 1; len <= 33; len++) {
		memset(s, 'a', sizeof(s));
		ck_assert_int_eq(is_utf8(s, len), 1);
		for (at = 0; at < len; at++) {
			memset(s, 'a', sizeof(s));
			s[at] = '\0';
			ck_assert_msg(is_utf8(s, len) == 0, "NUL at %zu of %zu",
			    at, len);
			s[at] = '\x80';
			ck_assert_msg(is_utf8(s, len) == 0, "0x80 at %zu of %zu",
			    at, len);
			s[at] = '\x7f';
			ck_assert_int_eq(is_utf8(s, len), 1);
			if (at + 1 < len) {
				s[at] = '\xc3';	/* é */
				s[at + 1] = '\xa9';
				ck_assert_int_eq(is_utf8(s, len), 1);
				s[at + 1] = 'a';	/* cut */
				ck_assert_int_eq(is_utf8(s, len), 0);
			}
		}
	}
}
END_TEST

START_TEST(test_log_kv_escapes_hostile_text)
{
	struct buf	 b;

	buf_init(&b, 4096);
	ck_assert_int_eq(log_kv(&b, "a", "plain"), 0);
	ck_assert_int_eq(log_kv(&b, "b", "two words"), 0);
	ck_assert_int_eq(log_kv(&b, "c", "line\nbreak\x1b[31m"), 0);
	ck_assert_int_eq(log_kv(&b, "d", ""), 0);
	ck_assert_int_eq(log_kv(&b, "e", "q\"uo=te"), 0);
	ck_assert_int_eq(log_kv(&b, "f", "caf\xc3\xa9 \xff"), 0);
	ck_assert_int_eq(log_kv(&b, "g", NULL), 0);
	ck_assert_str_eq(buf_cstr(&b),
	    " a=plain b=\"two words\" c=line\\nbreak\\x1b[31m d=\"\""
	    " e=\"q\\\"uo=te\" f=\"caf\xc3\xa9 \\xff\"");
	buf_clear(&b);
}
END_TEST

START_TEST(test_buf_refuses_past_max)
{
	struct buf	 b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_adds(&b, "12345678"), 0);
	ck_assert_int_eq(buf_addc(&b, '9'), -1);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_str_eq(buf_cstr(&b), "12345678");
	buf_clear(&b);
}
END_TEST

static const struct {
	enum report_enum_kind	 kind;
	const char		*in;
	const char		*val;
	const char		*raw;
} enum_cases[] = {
	{ REP_SPF_RESULT, "pass", "pass", NULL },
	{ REP_SPF_RESULT, "hardfail", "fail", "hardfail" },
	{ REP_SPF_RESULT, "unknown", "temperror", "unknown" },
	{ REP_SPF_RESULT, "error", "permerror", "error" },
	{ REP_SPF_RESULT, "bogus", NULL, "bogus" },
	{ REP_SPF_RESULT, "", NULL, NULL },
	{ REP_DKIM_RESULT, "policy", "policy", NULL },
	{ REP_ACTION, "pass", "pass", NULL },
	{ REP_DISPOSITION, "pass", NULL, "pass" },
	{ REP_REASON, "policy_test_mode", "policy_test_mode", NULL },
	{ REP_SPF_SCOPE, "mfrom", "mfrom", NULL },
	{ REP_ALIGNMENT, "relaxed", "r", "relaxed" },
};

START_TEST(test_report_enum_canon_table)
{
	struct report_enum	 e;

	e = report_enum_canon(enum_cases[_i].kind, enum_cases[_i].in);
	if (enum_cases[_i].val == NULL)
		ck_assert_ptr_null(e.val);
	else
		ck_assert_str_eq(e.val, enum_cases[_i].val);
	if (enum_cases[_i].raw == NULL)
		ck_assert_ptr_null(e.raw);
	else
		ck_assert_str_eq(e.raw, enum_cases[_i].raw);
}
END_TEST

START_TEST(test_util_arena_keeps_strings)
{
	struct dm_arena	 a;
	char		*s[1000];
	char		 want[32];
	int		 i;

	dm_arena_init(&a);
	for (i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "string %d", i);
		s[i] = dm_arena_strdup(&a, want);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "string %d", i);
		ck_assert_str_eq(s[i], want);
	}
	dm_arena_reset(&a);
	ck_assert_str_eq(dm_arena_strdup(&a, "again"), "again");
	dm_arena_clear(&a);
}
END_TEST

START_TEST(test_util_sha256)
{
	static char		 a[1000000];
	struct dm_sha256	 h;
	char			 hex[65];
	size_t			 off, n;

	dm_sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	dm_sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	/* FIPS 180-2's million 'a', fed in uneven pieces */
	memset(a, 'a', sizeof(a));
	dm_sha256_init(&h);
	for (off = 0, n = 1; off < sizeof(a); off += n, n = n * 3 + 1)
		dm_sha256_update(&h, a + off, n < sizeof(a) - off ? n :
		    sizeof(a) - off);
	dm_sha256_final(&h, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* libpq's connection message, hint and all, as one log line */
START_TEST(test_util_one_line)
{
	char	 out[64], tiny[8];

	ck_assert_str_eq(dm_one_line("connection to server failed: refused\n"
	    "\tIs the server running?\n", out, sizeof(out)),
	    "connection to server failed: refused Is the server running?");
	ck_assert_str_eq(dm_one_line("  \r\n a\x1b[2Jb\x7f \n\n", out,
	    sizeof(out)), "a?[2Jb?");
	ck_assert_str_eq(dm_one_line("", out, sizeof(out)), "");
	/* cut to fit, never a trailing space */
	ck_assert_str_eq(dm_one_line("abcdef ghijk", tiny, sizeof(tiny)),
	    "abcdef");
	ck_assert_str_eq(dm_one_line("abcdefghijk", tiny, sizeof(tiny)),
	    "abcdefg");
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("util");

	tcase_add_loop_test(tc, test_util_parse_u64_table, 0,
	    nitems(u64_cases));
	tcase_add_loop_test(tc, test_util_canon_ip_table, 0,
	    nitems(ip_cases));
	tcase_add_loop_test(tc, test_util_ip_parse_table, 0,
	    nitems(ip_parse_cases));
	tcase_add_test(tc, test_util_ip_fmt);
	tcase_add_test(tc, test_util_utf8);
	tcase_add_test(tc, test_util_utf8_at_every_offset);
	tcase_add_test(tc, test_log_kv_escapes_hostile_text);
	tcase_add_test(tc, test_buf_refuses_past_max);
	tcase_add_loop_test(tc, test_report_enum_canon_table, 0,
	    nitems(enum_cases));
	tcase_add_test(tc, test_util_arena_keeps_strings);
	tcase_add_test(tc, test_util_sha256);
	tcase_add_test(tc, test_util_one_line);
	suite_add_tcase(s, tc);
	return s;
}
