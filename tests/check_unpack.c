/*
 * check_unpack.c: sniffing, plain XML, gzip (members, trailing bytes,
 * nesting, truncation, corruption, bombs), zip (entries, directories,
 * hostile names, methods, encryption, counts, nesting) and streaming
 * from a file in bounded memory. Hostile inputs are generated here
 * with zlib and libzip (or written byte by byte), not committed.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zip.h>
#include <zlib.h>

#include "test.h"
#include "ahead.h"
#include "bounds.h"
#include "buf.h"
#include "unpack.h"

#define MAXDOCS		24
#define BIG		(512u << 20)	/* buf max, generated payloads */

static const char XML_A[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<feedback><report_metadata><org_name>a.example</org_name>"
    "<report_id>1</report_id></report_metadata></feedback>\n";
static const char XML_B[] =
    "<feedback><report_metadata><org_name>b.example</org_name>"
    "<report_id>2</report_id></report_metadata></feedback>\n";

/* --- what fn saw ---------------------------------------------------- */

struct got {
	char		 member[1024];
	int		 has_member;
	int		 failed;
	char		 err[512];
	enum dm_scope	 scope;
	uint64_t	 n;
	uLong		 crc;
	struct buf	 data;	/* the first sink.keep bytes */
};

struct sink {
	struct got	 docs[MAXDOCS];
	int		 ndocs;
	size_t		 keep;
	size_t		 readsz;
	int		 fail_at;	/* return -1 on call n (from 0) */
};

static void
sink_init(struct sink *s, size_t keep, size_t readsz)
{
	memset(s, 0, sizeof(*s));
	s->keep = keep;
	s->readsz = readsz;
	s->fail_at = -1;
}

static void
sink_clear(struct sink *s)
{
	int	 i;

	for (i = 0; i < s->ndocs; i++)
		buf_clear(&s->docs[i].data);
	s->ndocs = 0;
}

static int
sink_fn(void *arg, struct dm_rd *xml, const char *member,
    struct dm_err *err)
{
	static unsigned char	 tmp[1u << 16];
	struct sink		*s = arg;
	struct got		*g;
	size_t			 room;
	long			 n;

	ck_assert_int_lt(s->ndocs, MAXDOCS);
	ck_assert_uint_le(s->readsz, sizeof(tmp));
	g = &s->docs[s->ndocs++];
	memset(g, 0, sizeof(*g));
	buf_init(&g->data, s->keep);
	g->crc = crc32(0, NULL, 0);
	if (member != NULL) {
		g->has_member = 1;
		snprintf(g->member, sizeof(g->member), "%s", member);
	}
	if (s->fail_at == s->ndocs - 1)
		return dm_err_set(err, DM_ESTORE, "the database went away");
	while ((n = dm_rd_read(xml, tmp, s->readsz)) > 0) {
		ck_assert_uint_le((size_t)n, s->readsz);
		g->n += (uint64_t)n;
		g->crc = crc32(g->crc, tmp, (uInt)n);
		room = s->keep - g->data.len;
		if (room > 0)
			buf_add(&g->data, tmp, (size_t)n < room ? (size_t)n :
			    room);
	}
	if (n < 0) {
		g->failed = 1;
		g->scope = xml->err.scope;
		snprintf(g->err, sizeof(g->err), "%s", xml->err.msg);
		/* a failed stream stays failed */
		ck_assert_int_eq(dm_rd_read(xml, tmp, s->readsz), -1);
	}
	return 0;
}

static void
limits(struct dm_limits *lim)
{
	dm_limits_default(lim);
}

static int
run_mem(const void *p, size_t len, const struct dm_limits *lim,
    struct sink *s, struct dm_err *err)
{
	struct unpack_in	 in = { "test", -1, p, len };

	return unpack_payload(&in, lim, sink_fn, s, err);
}

/* A file holding p: an unlinked temporary, so nothing is left behind. */
static int
tmp_fd(const void *p, size_t len)
{
	FILE	*f = tmpfile();
	int	 fd;

	ck_assert_ptr_nonnull(f);
	fd = dup(fileno(f));
	fclose(f);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
	return fd;
}

static int
run_fd(int fd, const struct dm_limits *lim, struct sink *s,
    struct dm_err *err)
{
	struct unpack_in	 in = { "test", fd, NULL, 0 };
	off_t			 before = lseek(fd, 0, SEEK_CUR);
	int			 rc;

	rc = unpack_payload(&in, lim, sink_fn, s, err);
	/* the fd stays open and is not ours to move */
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), before);
	return rc;
}

/* --- building payloads --------------------------------------------- */

static void
gz_add(struct buf *out, const void *p, size_t len)
{
	unsigned char	 tmp[16384];
	z_stream	 z;
	int		 zrc;

	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)p;
	z.avail_in = (uInt)len;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zrc = deflate(&z, Z_FINISH);
		ck_assert_int_ne(zrc, Z_STREAM_ERROR);
		ck_assert_int_eq(buf_add(out, tmp, sizeof(tmp) - z.avail_out),
		    0);
	} while (zrc != Z_STREAM_END);
	deflateEnd(&z);
}

/* out = gzip(in); in is cleared. */
static void
gz_wrap(struct buf *b)
{
	struct buf	 t;

	buf_init(&t, BIG);
	gz_add(&t, b->data, b->len);
	buf_clear(b);
	*b = t;
}

/*
 * Deflate a generated stream: len bytes of pattern repeated (after
 * prefix) without holding it; gzip framing when gzip, else raw.
 */
static void
gz_pattern(struct buf *out, const char *prefix, const void *pat,
    size_t patlen, uint64_t len)
{
	static unsigned char	 chunk[1u << 16];
	unsigned char		 tmp[1u << 16];
	z_stream		 z;
	size_t			 i, n, plen = strlen(prefix);
	int			 zrc, flush;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = ((const unsigned char *)pat)[i % patlen];
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9,
	    Z_RLE), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)prefix;
	z.avail_in = (uInt)plen;
	do {
		if (z.avail_in == 0 && len > 0) {
			/* whole patterns per chunk keep the phase */
			n = sizeof(chunk) - sizeof(chunk) % patlen;
			if (n > len)
				n = (size_t)len;
			z.next_in = chunk;
			z.avail_in = (uInt)n;
			len -= n;
		}
		flush = len == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zrc = deflate(&z, flush);
		ck_assert_int_ne(zrc, Z_STREAM_ERROR);
		ck_assert_int_eq(buf_add(out, tmp, sizeof(tmp) - z.avail_out),
		    0);
	} while (zrc != Z_STREAM_END);
	deflateEnd(&z);
}

struct zspec {
	const char	*name;
	const void	*data;
	size_t		 len;
	int		 method;	/* ZIP_CM_*, or -1: a directory */
	int		 enc;		/* ZIP_EM_* */
};

/* A zip written by libzip. */
static void
zip_build(struct buf *out, const struct zspec *e, size_t n)
{
	zip_error_t	 ze;
	zip_source_t	*src, *fs;
	zip_t		*za;
	zip_stat_t	 st;
	zip_int64_t	 idx, got;
	size_t		 i, old;

	zip_error_init(&ze);
	src = zip_source_buffer_create(NULL, 0, 0, &ze);
	ck_assert_ptr_nonnull(src);
	za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	ck_assert_ptr_nonnull(za);
	zip_source_keep(src);
	for (i = 0; i < n; i++) {
		if (e[i].method == -1) {
			ck_assert_int_ge(zip_dir_add(za, e[i].name, 0), 0);
			continue;
		}
		fs = zip_source_buffer(za, e[i].data, e[i].len, 0);
		ck_assert_ptr_nonnull(fs);
		idx = zip_file_add(za, e[i].name, fs, 0);
		ck_assert_int_ge(idx, 0);
		ck_assert_int_eq(zip_set_file_compression(za,
		    (zip_uint64_t)idx, e[i].method, 0), 0);
		if (e[i].enc != ZIP_EM_NONE)
			ck_assert_int_eq(zip_file_set_encryption(za,
			    (zip_uint64_t)idx, (zip_uint16_t)e[i].enc,
			    "secret"), 0);
	}
	ck_assert_msg(zip_close(za) == 0, "zip_close: %s", zip_strerror(za));
	ck_assert_int_eq(zip_source_stat(src, &st), 0);
	ck_assert_int_eq(zip_source_open(src), 0);
	old = out->len;
	ck_assert_int_eq(buf_add(out, "", 0), 0);
	for (;;) {
		char	 tmp[65536];

		got = zip_source_read(src, tmp, sizeof(tmp));
		ck_assert_int_ge(got, 0);
		if (got == 0)
			break;
		ck_assert_int_eq(buf_add(out, tmp, (size_t)got), 0);
	}
	ck_assert_uint_eq(out->len - old, st.size);
	zip_source_close(src);
	zip_source_free(src);
	zip_error_fini(&ze);
}

/* A zip written byte by byte: stored data, any name, method, flags. */
struct mzent {
	const char	*name;
	size_t		 namelen;
	const void	*data;
	size_t		 len;
	uint16_t	 method;
	uint16_t	 flags;
};

static void
le16(struct buf *b, unsigned v)
{
	unsigned char	 p[2] = { v & 0xff, (v >> 8) & 0xff };

	ck_assert_int_eq(buf_add(b, p, 2), 0);
}

static void
le32(struct buf *b, unsigned long v)
{
	le16(b, v & 0xffff);
	le16(b, (v >> 16) & 0xffff);
}

static void
mzip(struct buf *out, const struct mzent *e, size_t n)
{
	unsigned long	 off[MAXDOCS * 2], crc, cd, cdlen;
	size_t		 i;

	ck_assert_uint_le(n, nitems(off));
	for (i = 0; i < n; i++) {
		crc = crc32(0, e[i].data, (uInt)e[i].len);
		off[i] = out->len;
		le32(out, 0x04034b50);
		le16(out, 20);
		le16(out, e[i].flags);
		le16(out, e[i].method);
		le16(out, 0);
		le16(out, 0x21);
		le32(out, crc);
		le32(out, e[i].len);
		le32(out, e[i].len);
		le16(out, (unsigned)e[i].namelen);
		le16(out, 0);
		buf_add(out, e[i].name, e[i].namelen);
		buf_add(out, e[i].data, e[i].len);
	}
	cd = out->len;
	for (i = 0; i < n; i++) {
		crc = crc32(0, e[i].data, (uInt)e[i].len);
		le32(out, 0x02014b50);
		le16(out, 20);
		le16(out, 20);
		le16(out, e[i].flags);
		le16(out, e[i].method);
		le16(out, 0);
		le16(out, 0x21);
		le32(out, crc);
		le32(out, e[i].len);
		le32(out, e[i].len);
		le16(out, (unsigned)e[i].namelen);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0);
		le16(out, 0);
		le32(out, 0);
		le32(out, off[i]);
		buf_add(out, e[i].name, e[i].namelen);
	}
	cdlen = out->len - cd;
	le32(out, 0x06054b50);
	le16(out, 0);
	le16(out, 0);
	le16(out, (unsigned)n);
	le16(out, (unsigned)n);
	le32(out, cdlen);
	le32(out, cd);
	le16(out, 0);
}

#define MZ(name, data, method, flags) \
	{ name, sizeof(name) - 1, data, sizeof(data) - 1, method, flags }

/* --- sniffing ------------------------------------------------------- */

#define S(lit, kind)	{ lit, sizeof(lit) - 1, kind }
static const struct {
	const char		*head;
	size_t			 len;
	enum unpack_kind	 kind;
} sniff_cases[] = {
	S("", UNPACK_EMPTY),
	S("   \r\n\t ", UNPACK_EMPTY),
	S("\xef\xbb\xbf", UNPACK_EMPTY),
	S("\xef\xbb\xbf \r\n", UNPACK_EMPTY),
	S("\x1f\x8b\x08\x00", UNPACK_GZIP),
	S("\x1f\x8b", UNPACK_GZIP),
	S("\x1f", UNPACK_UNKNOWN),
	S("PK\x03\x04\x14\x00", UNPACK_ZIP),
	S("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", UNPACK_ZIP),
	S("PK\x01\x02", UNPACK_UNKNOWN),
	S("<?xml version=\"1.0\"?><feedback/>", UNPACK_XML),
	S("<feedback>", UNPACK_XML),
	S("  \r\n\t<feedback>", UNPACK_XML),
	S("\xef\xbb\xbf<?xml", UNPACK_XML),
	S("\xef\xbb\xbf \n<feedback>", UNPACK_XML),
	S("\xfe\xff\0<\0?\0x", UNPACK_XML),
	S("\xff\xfe<\0?\0x\0", UNPACK_XML),
	S("\xfe\xff\0 \0\n\0<", UNPACK_XML),
	S("\xff\xfe\n\0<\0", UNPACK_XML),
	S("<\0?\0x\0m\0", UNPACK_XML),
	S("\0<\0?\0x", UNPACK_XML),
	S(" \0\r\0\n\0<\0", UNPACK_XML),
	S("\xfe\xff\0A", UNPACK_UNKNOWN),
	S("\xff\xfe", UNPACK_EMPTY),
	S("{\"organization-name\":\"x\"}", UNPACK_JSON),
	S(" \n[1,2]", UNPACK_JSON),
	S("\xef\xbb\xbf{}", UNPACK_JSON),
	S("From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n", UNPACK_MBOX),
	S("From: reports@example.com\r\n", UNPACK_MAIL),
	S("Received: from mx.example.com\r\n", UNPACK_MAIL),
	S("Return-Path: <a@example.com>\n", UNPACK_MAIL),
	S("Delivered-To: dmarc@example.com\n", UNPACK_MAIL),
	S("MIME-Version: 1.0\n", UNPACK_MAIL),
	S("X-Weird:no-space\n", UNPACK_MAIL),
	S("  From x", UNPACK_UNKNOWN),
	S(": no name\n", UNPACK_UNKNOWN),
	S("Subject without colon\n", UNPACK_UNKNOWN),
	S("Received", UNPACK_UNKNOWN),
	S("unused", UNPACK_UNKNOWN),
	S("\0\0\0\0", UNPACK_UNKNOWN),
	S("\xef\xbb\xbfhello", UNPACK_UNKNOWN),
	S("%PDF-1.4", UNPACK_UNKNOWN),
};

START_TEST(test_unpack_sniff_table)
{
	enum unpack_kind	 k;

	k = unpack_sniff((const unsigned char *)sniff_cases[_i].head,
	    sniff_cases[_i].len);
	ck_assert_msg(k == sniff_cases[_i].kind, "case %d: got %s, want %s",
	    _i, unpack_kind_name(k), unpack_kind_name(sniff_cases[_i].kind));
}
END_TEST

START_TEST(test_unpack_kind_names)
{
	ck_assert_str_eq(unpack_kind_name(UNPACK_GZIP), "gzip");
	ck_assert_str_eq(unpack_kind_name(UNPACK_ZIP), "zip");
	ck_assert_str_eq(unpack_kind_name(UNPACK_XML), "XML");
	ck_assert_str_eq(unpack_kind_name(UNPACK_JSON), "JSON");
	ck_assert_str_eq(unpack_kind_name(UNPACK_MBOX), "mbox");
	ck_assert_str_eq(unpack_kind_name(UNPACK_MAIL), "mail message");
	ck_assert_str_eq(unpack_kind_name(UNPACK_EMPTY), "empty");
	ck_assert_str_eq(unpack_kind_name(UNPACK_UNKNOWN), "unknown data");
	ck_assert_str_eq(unpack_kind_name((enum unpack_kind)99),
	    "unknown data");
}
END_TEST

/* --- real samples: from memory and from a file, the same bytes ------ */

static const struct {
	const char	*file;
	const char	*member;	/* NULL: not a zip */
	const char	*plain;		/* the same, uncompressed */
	uint64_t	 size;
} sample_cases[] = {
	{ "nice-input.xml", NULL, "nice-input.xml", 15159 },
	{ "nice-input.xml.gz", NULL, "nice-input.xml", 15159 },
	{ "nice-input.xml.zip", "nice-input.xml", "nice-input.xml", 15159 },
	{ "avvertix-dmarc.zip", "dmarc.xml", "avvertix-dmarc.xml", 2242 },
	{ "converter-test.xml.gz", NULL, "converter-test.xml", 1861 },
	{ "estadocuenta.xml.zip", "estadocuenta1.infonacot.gob.mx!example.com"
	    "!1536853302!1536939702!2940.xml", NULL, 887 },
};

START_TEST(test_unpack_reads_samples_from_memory_and_file)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 in, plain;
	struct sink		 mem, file;
	const char		*path;
	int			 fd;

	limits(&lim);
	buf_init(&in, 1u << 20);
	path = test_load(&in, "unpack", sample_cases[_i].file);
	sink_init(&mem, 1u << 20, 4000);
	sink_init(&file, 1u << 20, 1);	/* byte by byte, for the edges */
	ck_assert_msg(run_mem(in.data, in.len, &lim, &mem, &err) == 0,
	    "%s: %s", path, err.msg);
	fd = open(path, O_RDONLY);
	ck_assert_int_ne(fd, -1);
	ck_assert_msg(run_fd(fd, &lim, &file, &err) == 0, "%s: %s", path,
	    err.msg);
	close(fd);

	ck_assert_int_eq(mem.ndocs, 1);
	ck_assert_int_eq(file.ndocs, 1);
	ck_assert_msg(!mem.docs[0].failed, "%s", mem.docs[0].err);
	ck_assert_msg(!file.docs[0].failed, "%s", file.docs[0].err);
	ck_assert_uint_eq(mem.docs[0].n, sample_cases[_i].size);
	ck_assert_uint_eq(file.docs[0].n, mem.docs[0].n);
	ck_assert_uint_eq(file.docs[0].crc, mem.docs[0].crc);
	ck_assert_mem_eq(file.docs[0].data.data, mem.docs[0].data.data,
	    mem.docs[0].data.len);
	ck_assert_int_eq(mem.docs[0].has_member,
	    sample_cases[_i].member != NULL);
	if (sample_cases[_i].member != NULL) {
		ck_assert_str_eq(mem.docs[0].member, sample_cases[_i].member);
		ck_assert_str_eq(file.docs[0].member, sample_cases[_i].member);
	}
	if (sample_cases[_i].plain != NULL) {
		buf_init(&plain, 1u << 20);
		test_load(&plain, "unpack", sample_cases[_i].plain);
		ck_assert_uint_eq(plain.len, mem.docs[0].data.len);
		ck_assert_mem_eq(plain.data, mem.docs[0].data.data, plain.len);
		buf_clear(&plain);
	} else
		ck_assert_ptr_nonnull(strstr(buf_cstr(&mem.docs[0].data),
		    "<feedback"));
	sink_clear(&mem);
	sink_clear(&file);
	buf_clear(&in);
}
END_TEST

/* --- generated payloads, good and hostile --------------------------- */

static void
b_xml_bom(struct buf *b)
{
	buf_adds(b, "\xef\xbb\xbf");
	buf_adds(b, XML_A);
}

static void
b_gz(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
}

static void
b_gz_two_members(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	gz_add(b, XML_B, strlen(XML_B));
}

static void
b_gz_crlf(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	buf_adds(b, "\r\n");
}

static void
b_gz_garbage(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	buf_add(b, "\x1fgarbage\0\0\x1f\x8b", 13);	/* 1f 8b too late */
}

static void
b_gz_nul_padding(struct buf *b)
{
	static const char	 zeros[4096];

	gz_add(b, XML_A, strlen(XML_A));
	buf_add(b, zeros, sizeof(zeros));
}

static void
b_gz_lone_1f(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	buf_addc(b, 0x1f);
}

static void
b_gz_empty_member_first(struct buf *b)
{
	gz_add(b, "", 0);
	gz_add(b, XML_A, strlen(XML_A));
}

static void
b_gz_in_gz(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	gz_wrap(b);
}

static void
b_gz_in_gz_two_inner_members(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	gz_add(b, XML_B, strlen(XML_B));
	gz_wrap(b);
}

static void
b_gz_three_deep(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	gz_wrap(b);
	gz_wrap(b);
}

static void
b_gz_truncated(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	b->len -= 6;	/* inside the trailer: all data, no end */
}

static void
b_gz_truncated_header(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	b->len = 5;
}

static void
b_gz_second_member_truncated(struct buf *b)
{
	size_t	 first;

	gz_add(b, XML_A, strlen(XML_A));
	first = b->len;
	gz_add(b, XML_B, strlen(XML_B));
	b->len = first + (b->len - first) / 2;
}

/* 64 KiB of records, cut in the middle: records come, then the error */
static void
b_gz_truncated_long(struct buf *b)
{
	struct buf	 x;
	unsigned	 i;

	buf_init(&x, 1u << 20);
	buf_adds(&x, "<feedback>");
	for (i = 0; x.len < (64u << 10); i++)
		buf_printf(&x, "<record><ip>192.0.2.%u</ip><count>%u</count>"
		    "</record>\n", i % 256, i * 7919 % 1000);
	gz_add(b, x.data, x.len);
	b->len /= 2;
	buf_clear(&x);
}

static void
b_gz_corrupt(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	b->data[b->len - 8] ^= 0x55;	/* the CRC */
}

static void
b_gz_corrupt_data(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	memset(b->data + 10, 0xff, 8);	/* deflate block header */
}

static void
b_gz_bad_method(struct buf *b)
{
	gz_add(b, XML_A, strlen(XML_A));
	b->data[2] = 9;
}

static void
b_gz_unused(struct buf *b)
{
	gz_add(b, "unused", 6);
}

static void
b_gz_empty(struct buf *b)
{
	gz_add(b, "", 0);
}

static void
b_gz_json(struct buf *b)
{
	static const char	 j[] = "{\"organization-name\":\"x\"}";

	gz_add(b, j, strlen(j));
}

static void
b_gz_zeros(struct buf *b)
{
	gz_pattern(b, "", "\0", 1, 64u << 20);
}

static void
b_gz_zip(struct buf *b)
{
	struct zspec	 z[] = {
		{ "a.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_DEFLATE, 0 },
	};
	struct buf	 t;

	buf_init(&t, 1u << 20);
	zip_build(&t, z, nitems(z));
	gz_add(b, t.data, t.len);
	buf_clear(&t);
}

static void
b_zip_one(struct buf *b)
{
	struct zspec	 z[] = {
		{ "report.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_DEFLATE, 0 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_stored(struct buf *b)
{
	struct zspec	 z[] = {
		{ "report.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_STORE, 0 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_two(struct buf *b)
{
	struct zspec	 z[] = {
		{ "a.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_DEFLATE, 0 },
		{ "b.xml", XML_B, sizeof(XML_B) - 1, ZIP_CM_STORE, 0 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_dir(struct buf *b)
{
	struct zspec	 z[] = {
		{ "reports/", NULL, 0, -1, 0 },
		{ "reports/a.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_DEFLATE,
		    0 },
		{ "empty/", NULL, 0, -1, 0 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_xml_gz(struct buf *b)
{
	struct buf	 t;

	buf_init(&t, 1u << 20);
	gz_add(&t, XML_A, strlen(XML_A));
	{
		struct zspec	 z[] = {
			{ "r.xml.gz", t.data, t.len, ZIP_CM_STORE, 0 },
			{ "s.xml.gz", t.data, t.len, ZIP_CM_DEFLATE, 0 },
		};

		zip_build(b, z, nitems(z));
	}
	buf_clear(&t);
}

static void
b_zip_gz_gz(struct buf *b)
{
	struct buf	 t;

	buf_init(&t, 1u << 20);
	gz_add(&t, XML_A, strlen(XML_A));
	gz_wrap(&t);
	{
		struct zspec	 z[] = {
			{ "r.xml.gz.gz", t.data, t.len, ZIP_CM_DEFLATE, 0 },
		};

		zip_build(b, z, nitems(z));
	}
	buf_clear(&t);
}

static void
b_zip_zip(struct buf *b)
{
	struct buf	 t;

	buf_init(&t, 1u << 20);
	b_zip_one(&t);
	{
		struct zspec	 z[] = {
			{ "inner.zip", t.data, t.len, ZIP_CM_DEFLATE, 0 },
			{ "b.xml", XML_B, sizeof(XML_B) - 1, ZIP_CM_DEFLATE,
			    0 },
		};

		zip_build(b, z, nitems(z));
	}
	buf_clear(&t);
}

static void
b_zip_not_xml(struct buf *b)
{
	struct zspec	 z[] = {
		{ "a.xml", "unused", 6, ZIP_CM_DEFLATE, 0 },
		{ "empty.xml", "", 0, ZIP_CM_STORE, 0 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_bzip2(struct buf *b)
{
	struct zspec	 z[] = {
		{ "a.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_BZIP2, 0 },
		{ "b.xml", XML_B, sizeof(XML_B) - 1, ZIP_CM_DEFLATE, 0 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_method14(struct buf *b)
{
	struct mzent	 z[] = { MZ("a.xml", XML_A, 14, 0) };

	mzip(b, z, nitems(z));
}

static void
b_zip_trad_encrypted(struct buf *b)
{
	struct mzent	 z[] = {
		MZ("secret.xml", XML_A, 0, 1),
		MZ("b.xml", XML_B, 0, 0),
	};

	mzip(b, z, nitems(z));
}

static void
b_zip_aes(struct buf *b)
{
	struct zspec	 z[] = {
		{ "aes.xml", XML_A, sizeof(XML_A) - 1, ZIP_CM_DEFLATE,
		    ZIP_EM_AES_256 },
	};

	zip_build(b, z, nitems(z));
}

static void
b_zip_hostile_names(struct buf *b)
{
	struct mzent	 z[] = {
		MZ("../../etc/passwd", XML_A, 0, 0),
		MZ("", XML_A, 0, 0),
		MZ("/abs/report.xml", XML_A, 0, 0),
		MZ("..\\..\\win.xml", XML_A, 0, 0),
		MZ("a\"b\n\x1b[31m.xml", XML_A, 0, 0),
	};

	mzip(b, z, nitems(z));
}

static void
b_zip_nul_name(struct buf *b)
{
	struct mzent	 z[] = { MZ("a\0/../../x", XML_A, 0, 0) };

	mzip(b, z, nitems(z));
}

static void
b_zip_8bit_names(struct buf *b)
{
	struct mzent	 z[] = {
		MZ("informe-espa\xc3\xb1" "a.xml", XML_A, 0, 0x800),
		MZ("informe-espa\xf1" "a.xml", XML_A, 0, 0),
	};

	mzip(b, z, nitems(z));
}

static void
b_zip_long_name(struct buf *b)
{
	char		 name[1000];
	struct mzent	 z[] = { { name, sizeof(name), XML_A,
	    sizeof(XML_A) - 1, 0, 0 } };

	memset(name, 'n', sizeof(name));
	mzip(b, z, nitems(z));
}

static void
b_zip_n(struct buf *b, int files, int dirs)
{
	struct mzent	 z[MAXDOCS * 2];
	char		 names[MAXDOCS * 2][32];
	int		 i;

	ck_assert_int_le(files + dirs, (int)nitems(z));
	for (i = 0; i < files + dirs; i++) {
		if (i < dirs)
			snprintf(names[i], sizeof(names[i]), "d%d/", i);
		else
			snprintf(names[i], sizeof(names[i]), "r%d.xml", i);
		z[i].name = names[i];
		z[i].namelen = strlen(names[i]);
		z[i].data = i < dirs ? "" : XML_A;
		z[i].len = i < dirs ? 0 : sizeof(XML_A) - 1;
		z[i].method = 0;
		z[i].flags = 0;
	}
	mzip(b, z, (size_t)(files + dirs));
}

static void
b_zip_16(struct buf *b)
{
	b_zip_n(b, 16, 5);
}

static void
b_zip_17(struct buf *b)
{
	b_zip_n(b, 17, 0);
}

static void
b_zip_only_dirs(struct buf *b)
{
	b_zip_n(b, 0, 3);
}

static void
b_zip_empty_archive(struct buf *b)
{
	buf_add(b, "PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22);
}

static void
b_zip_truncated(struct buf *b)
{
	b_zip_two(b);
	b->len /= 2;
}

static void
b_zip_corrupt_entry(struct buf *b)
{
	b_zip_one(b);
	/* the deflate data, after the 30-byte header and "report.xml" */
	memset(b->data + 30 + 10 + 2, 0xff, 8);
}

static void
b_zip_bad_crc(struct buf *b)
{
	struct mzent	 z[] = { MZ("a.xml", XML_A, 0, 0) };

	mzip(b, z, nitems(z));
	b->data[30 + 5 + 10] ^= 1;	/* the data, not the CRC */
}

static void
b_json(struct buf *b)
{
	buf_adds(b, "{\"organization-name\": \"Google Inc.\"}");
}

static void
b_mail(struct buf *b)
{
	buf_adds(b, "Return-Path: <x@example.com>\r\nSubject: Report\r\n\r\n");
}

static void
b_mbox(struct buf *b)
{
	buf_adds(b, "From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n");
}

static void
b_empty(struct buf *b)
{
	(void)b;
}

static void
b_blank(struct buf *b)
{
	buf_adds(b, " \r\n\r\n\t");
}

static void
b_binary(struct buf *b)
{
	buf_add(b, "\x00\x01\x02\"\\binary\xff", 11);
}

struct want {
	const char	*member;	/* NULL: no member */
	const char	*data;		/* exact bytes when ok */
	const char	*err;		/* substring: stream fails */
};

static const struct {
	const char	*name;
	void		(*build)(struct buf *);
	int		 need_aes;
	const char	*top_err;	/* NULL: 0 is returned */
	int		 ndocs;
	struct want	 docs[6];
} gen_cases[] = {
	{ "xml with BOM", b_xml_bom, 0, NULL, 1,
	    { { NULL, "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback><report_metadata><org_name>a.example</org_name>"
	    "<report_id>1</report_id></report_metadata></feedback>\n",
	    NULL } } },
	{ "gzip", b_gz, 0, NULL, 1, { { NULL, XML_A, NULL } } },
	{ "gzip two members", b_gz_two_members, 0, NULL, 1,
	    { { NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback><report_metadata><org_name>a.example</org_name>"
	    "<report_id>1</report_id></report_metadata></feedback>\n"
	    "<feedback><report_metadata><org_name>b.example</org_name>"
	    "<report_id>2</report_id></report_metadata></feedback>\n",
	    NULL } } },
	{ "gzip trailing CRLF", b_gz_crlf, 0, NULL, 1,
	    { { NULL, XML_A, NULL } } },
	{ "gzip trailing garbage", b_gz_garbage, 0, NULL, 1,
	    { { NULL, XML_A, NULL } } },
	{ "gzip NUL padding", b_gz_nul_padding, 0, NULL, 1,
	    { { NULL, XML_A, NULL } } },
	{ "gzip trailing 1f", b_gz_lone_1f, 0, NULL, 1,
	    { { NULL, XML_A, NULL } } },
	{ "gzip empty member first", b_gz_empty_member_first, 0, NULL, 1,
	    { { NULL, XML_A, NULL } } },
	{ "gzip in gzip", b_gz_in_gz, 0, NULL, 1, { { NULL, XML_A, NULL } } },
	{ "gzip in gzip, two inner members", b_gz_in_gz_two_inner_members, 0,
	    NULL, 1,
	    { { NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback><report_metadata><org_name>a.example</org_name>"
	    "<report_id>1</report_id></report_metadata></feedback>\n"
	    "<feedback><report_metadata><org_name>b.example</org_name>"
	    "<report_id>2</report_id></report_metadata></feedback>\n",
	    NULL } } },
	{ "gzip three deep", b_gz_three_deep, 0, NULL, 1,
	    { { NULL, NULL, "gzip: nested more than 2 containers deep" } } },
	{ "gzip truncated", b_gz_truncated, 0, NULL, 1,
	    { { NULL, NULL, "gzip: truncated" } } },
	{ "gzip truncated header", b_gz_truncated_header, 0, NULL, 1,
	    { { NULL, NULL, "gzip: truncated" } } },
	{ "gzip second member truncated", b_gz_second_member_truncated, 0,
	    NULL, 1, { { NULL, NULL, "gzip: truncated" } } },
	{ "gzip truncated after records", b_gz_truncated_long, 0, NULL, 1,
	    { { NULL, NULL, "gzip: truncated" } } },
	{ "gzip bad CRC", b_gz_corrupt, 0, NULL, 1,
	    { { NULL, NULL, "gzip: corrupt data (incorrect data check)" } } },
	{ "gzip corrupt deflate", b_gz_corrupt_data, 0, NULL, 1,
	    { { NULL, NULL, "gzip: corrupt data (" } } },
	{ "gzip bad method", b_gz_bad_method, 0, NULL, 1,
	    { { NULL, NULL, "gzip: corrupt data (unknown compression method)" }
	    } },
	{ "gzip of unused", b_gz_unused, 0, NULL, 1,
	    { { NULL, NULL, "gzip: content is not XML (looks like unknown "
	    "data, starts with \"unused\")" } } },
	{ "gzip of nothing", b_gz_empty, 0, NULL, 1,
	    { { NULL, NULL, "gzip: content is not XML (empty)" } } },
	{ "gzip of JSON", b_gz_json, 0, NULL, 1,
	    { { NULL, NULL, "gzip: content is not XML (looks like JSON, "
	    "starts with \"{\\\"organization-name\\\":\\\"x\\\"...\")" } } },
	{ "gzip of zeros", b_gz_zeros, 0, NULL, 1,
	    { { NULL, NULL, "gzip: content is not XML (looks like unknown "
	    "data, starts with \"\\x00\\x00\\x00\\x00\\x00\\x00" } } },
	{ "gzip of a zip", b_gz_zip, 0, NULL, 1,
	    { { NULL, NULL, "gzip: content is not XML (looks like zip, "
	    "starts with \"PK\\x03\\x04" } } },
	{ "zip one entry", b_zip_one, 0, NULL, 1,
	    { { "report.xml", XML_A, NULL } } },
	{ "zip stored", b_zip_stored, 0, NULL, 1,
	    { { "report.xml", XML_A, NULL } } },
	{ "zip two entries", b_zip_two, 0, NULL, 2,
	    { { "a.xml", XML_A, NULL }, { "b.xml", XML_B, NULL } } },
	{ "zip with directories", b_zip_dir, 0, NULL, 1,
	    { { "reports/a.xml", XML_A, NULL } } },
	{ "zip of .xml.gz", b_zip_xml_gz, 0, NULL, 2,
	    { { "r.xml.gz", XML_A, NULL }, { "s.xml.gz", XML_A, NULL } } },
	{ "zip of gzip in gzip", b_zip_gz_gz, 0, NULL, 1,
	    { { "r.xml.gz.gz", NULL, "zip: entry \"r.xml.gz.gz\": gzip: "
	    "nested more than 2 containers deep" } } },
	{ "zip in zip", b_zip_zip, 0, NULL, 2,
	    { { "inner.zip", NULL, "zip: entry \"inner.zip\": nested zip not "
	    "supported" }, { "b.xml", XML_B, NULL } } },
	{ "zip of non-XML", b_zip_not_xml, 0, NULL, 2,
	    { { "a.xml", NULL, "zip: entry \"a.xml\": content is not XML "
	    "(looks like unknown data, starts with \"unused\")" },
	    { "empty.xml", NULL, "zip: entry \"empty.xml\": content is not "
	    "XML (empty)" } } },
	{ "zip bzip2 entry", b_zip_bzip2, 0, NULL, 2,
	    { { "a.xml", NULL, "zip: entry \"a.xml\": compression method 12 "
	    "not supported" }, { "b.xml", XML_B, NULL } } },
	{ "zip method 14", b_zip_method14, 0, NULL, 1,
	    { { "a.xml", NULL, "zip: entry \"a.xml\": compression method 14 "
	    "not supported" } } },
	{ "zip PKWARE encrypted", b_zip_trad_encrypted, 0, NULL, 2,
	    { { "secret.xml", NULL, "zip: entry \"secret.xml\": encrypted" },
	    { "b.xml", XML_B, NULL } } },
	{ "zip AES encrypted", b_zip_aes, 1, NULL, 1,
	    { { "aes.xml", NULL, "zip: entry \"aes.xml\": encrypted" } } },
	{ "zip hostile names", b_zip_hostile_names, 0, NULL, 5,
	    { { "../../etc/passwd", XML_A, NULL },
	    { "(unnamed entry 1)", XML_A, NULL },
	    { "/abs/report.xml", XML_A, NULL },
	    { "..\\\\..\\\\win.xml", XML_A, NULL },
	    { "a\\\"b\\n\\x1b[31m.xml", XML_A, NULL } } },
	{ "zip NUL in name", b_zip_nul_name, 0, NULL, 1,
	    { { "a /../../x", XML_A, NULL } } },
	{ "zip UTF-8 and Latin-1 names", b_zip_8bit_names, 0, NULL, 2,
	    { { "informe-espa\xc3\xb1" "a.xml", XML_A, NULL },
	    { "informe-espa\\xf1a.xml", XML_A, NULL } } },
	{ "zip 16 entries", b_zip_16, 0, NULL, 16,
	    { { "r5.xml", XML_A, NULL }, { "r6.xml", XML_A, NULL } } },
	{ "zip 17 entries", b_zip_17, 0, "zip: more than 16 entries", 0,
	    { { NULL, NULL, NULL } } },
	{ "zip only directories", b_zip_only_dirs, 0, "zip: no entries", 0,
	    { { NULL, NULL, NULL } } },
	{ "zip empty archive", b_zip_empty_archive, 0, "zip: no entries", 0,
	    { { NULL, NULL, NULL } } },
	{ "zip truncated", b_zip_truncated, 0, "zip: cannot open (", 0,
	    { { NULL, NULL, NULL } } },
	{ "zip corrupt entry", b_zip_corrupt_entry, 0, NULL, 1,
	    { { "report.xml", NULL, "zip: entry \"report.xml\": read error (" }
	    } },
	{ "zip bad CRC", b_zip_bad_crc, 0, NULL, 1,
	    { { "a.xml", NULL, "zip: entry \"a.xml\": read error (CRC error)" }
	    } },
	{ "JSON", b_json, 0, "not a report: looks like JSON (an SMTP TLS "
	    "report?)", 0, { { NULL, NULL, NULL } } },
	{ "mail", b_mail, 0, "not a report: looks like a mail message", 0,
	    { { NULL, NULL, NULL } } },
	{ "mbox", b_mbox, 0, "not a report: looks like an mbox", 0,
	    { { NULL, NULL, NULL } } },
	{ "empty", b_empty, 0, "not a report: empty", 0,
	    { { NULL, NULL, NULL } } },
	{ "blank", b_blank, 0, "not a report: empty", 0,
	    { { NULL, NULL, NULL } } },
	{ "binary", b_binary, 0, "not a report: unknown data (starts with "
	    "\"\\x00\\x01\\x02\\\"\\\\binary", 0,
	    { { NULL, NULL, NULL } } },
};

static void
check_gen(int i, const char *how, int rc, const struct dm_err *err,
    const struct sink *s)
{
	const struct want	*w;
	const struct got	*g;
	int			 d;

	if (gen_cases[i].top_err != NULL) {
		ck_assert_msg(rc == -1, "%s (%s): accepted", gen_cases[i].name,
		    how);
		ck_assert_msg(strstr(err->msg, gen_cases[i].top_err) != NULL,
		    "%s (%s): '%s'", gen_cases[i].name, how, err->msg);
		ck_assert_int_eq(err->scope, DM_EMSG);
	} else
		ck_assert_msg(rc == 0, "%s (%s): %s", gen_cases[i].name, how,
		    err->msg);
	ck_assert_msg(s->ndocs == gen_cases[i].ndocs, "%s (%s): %d docs",
	    gen_cases[i].name, how, s->ndocs);
	for (d = 0; d < s->ndocs; d++) {
		/* documents past the listed ones are not checked */
		if (d >= (int)nitems(gen_cases[i].docs) ||
		    (gen_cases[i].docs[d].data == NULL &&
		    gen_cases[i].docs[d].err == NULL))
			continue;
		w = &gen_cases[i].docs[d];
		g = &s->docs[d];
		ck_assert_msg(g->has_member == (w->member != NULL),
		    "%s (%s) doc %d: member", gen_cases[i].name, how, d);
		if (w->member != NULL)
			ck_assert_msg(strcmp(g->member, w->member) == 0,
			    "%s (%s) doc %d: member '%s'", gen_cases[i].name,
			    how, d, g->member);
		if (w->err != NULL) {
			ck_assert_msg(g->failed, "%s (%s) doc %d: no error",
			    gen_cases[i].name, how, d);
			ck_assert_msg(strstr(g->err, w->err) != NULL,
			    "%s (%s) doc %d: '%s'", gen_cases[i].name, how, d,
			    g->err);
		} else {
			ck_assert_msg(!g->failed, "%s (%s) doc %d: %s",
			    gen_cases[i].name, how, d, g->err);
			ck_assert_msg(g->data.len == strlen(w->data) &&
			    memcmp(g->data.data, w->data, g->data.len) == 0,
			    "%s (%s) doc %d: wrong bytes (%zu)",
			    gen_cases[i].name, how, d, g->data.len);
		}
	}
}

START_TEST(test_unpack_generated_table)
{
	struct dm_limits	 lim;
	struct dm_err		 err;
	struct buf		 b;
	struct sink		 s;
	size_t			 sizes[] = { 65536, 4000, 1 };
	unsigned		 k;
	int			 fd, rc;

	if (gen_cases[_i].need_aes &&
	    !zip_encryption_method_supported(ZIP_EM_AES_256, 1)) {
		fprintf(stderr, "%s: libzip can't write AES: skipped\n",
		    gen_cases[_i].name);
		return;
	}
	limits(&lim);
	buf_init(&b, BIG);
	gen_cases[_i].build(&b);
	for (k = 0; k < nitems(sizes); k++) {
		memset(&err, 0, sizeof(err));
		sink_init(&s, 1u << 20, sizes[k]);
		rc = run_mem(b.data, b.len, &lim, &s, &err);
		check_gen(_i, "memory", rc, &err, &s);
		sink_clear(&s);
	}

	fd = tmp_fd(b.data, b.len);
	memset(&err, 0, sizeof(err));
	sink_init(&s, 1u << 20, 4000);
	rc = run_fd(fd, &lim, &s, &err);
	check_gen(_i, "file", rc, &err, &s);
	sink_clear(&s);
	close(fd);
	buf_clear(&b);
}
END_TEST

/* Truncated streams deliver what they have, then fail: never a clean end */
START_TEST(test_unpack_truncated_gzip_fails_after_records)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	struct sink		 s;

	limits(&lim);
	buf_init(&b, BIG);
	b_gz_truncated_long(&b);
	sink_init(&s, 1u << 20, 4000);
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), 0);
	ck_assert_int_eq(s.ndocs, 1);
	ck_assert_uint_gt(s.docs[0].n, 1000);
	ck_assert(s.docs[0].failed);
	ck_assert_int_eq(s.docs[0].scope, DM_EMSG);
	ck_assert_str_eq(s.docs[0].err, "gzip: truncated");
	ck_assert_ptr_nonnull(strstr(buf_cstr(&s.docs[0].data),
	    "</record>"));
	sink_clear(&s);
	buf_clear(&b);
}
END_TEST

/* Hostile names are labels: nothing appears in the working directory. */
START_TEST(test_unpack_zip_hostile_names_touch_no_files)
{
	char			 dir[] = "/tmp/check_unpack.XXXXXX";
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct dirent		*de;
	struct buf		 b;
	struct sink		 s;
	DIR			*dp;
	int			 n = 0;

	limits(&lim);
	buf_init(&b, BIG);
	b_zip_hostile_names(&b);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	sink_init(&s, 1u << 20, 4000);
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), 0);
	ck_assert_int_eq(s.ndocs, 5);
	ck_assert_ptr_nonnull(dp = opendir("."));
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dp);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	sink_clear(&s);
	buf_clear(&b);
}
END_TEST

START_TEST(test_unpack_long_member_name_is_cut)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	struct sink		 s;
	size_t			 n;

	limits(&lim);
	buf_init(&b, BIG);
	b_zip_long_name(&b);
	sink_init(&s, 1u << 20, 4000);
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), 0);
	ck_assert_int_eq(s.ndocs, 1);
	n = strlen(s.docs[0].member);
	ck_assert_uint_le(n, 200);
	ck_assert_uint_ge(n, 64);
	ck_assert_str_eq(s.docs[0].member + n - 3, "...");
	ck_assert_uint_eq(s.docs[0].n, strlen(XML_A));
	sink_clear(&s);
	buf_clear(&b);
}
END_TEST

START_TEST(test_unpack_stops_when_fn_fails)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	struct sink		 s;

	limits(&lim);
	buf_init(&b, BIG);
	b_zip_two(&b);
	sink_init(&s, 1u << 20, 4000);
	s.fail_at = 0;
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), -1);
	ck_assert_int_eq(s.ndocs, 1);
	ck_assert_int_eq(err.scope, DM_ESTORE);
	ck_assert_str_eq(err.msg, "the database went away");
	sink_clear(&s);

	/* and on a single gzip document too */
	buf_reset(&b);
	b_gz(&b);
	sink_init(&s, 1u << 20, 4000);
	s.fail_at = 0;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), -1);
	ck_assert_str_eq(err.msg, "the database went away");
	sink_clear(&s);
	buf_clear(&b);
}
END_TEST

/* A plain XML document over max_xml is cut there. */
START_TEST(test_unpack_rejects_plain_xml_over_max)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	struct sink		 s;

	limits(&lim);
	lim.max_xml = 1000;
	buf_init(&b, BIG);
	buf_adds(&b, "<feedback>");
	while (b.len < 5000)
		buf_adds(&b, "<record/>\n");
	sink_init(&s, 1u << 20, 300);
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), 0);
	ck_assert(s.docs[0].failed);
	ck_assert_str_eq(s.docs[0].err, "xml: unpacked size over 1000 bytes");
	ck_assert_uint_le(s.docs[0].n, 1000);
	sink_clear(&s);
	buf_clear(&b);
}
END_TEST

/* --- bombs ---------------------------------------------------------- */

static const char BOMB_PREFIX[] = "<?xml version=\"1.0\"?><a>";

struct bomb_case {
	const char	*name;
	int		 zip;		/* 0 gzip, 1 zip, 2 zip of gz */
	int		 nest;		/* gzip it once more */
	size_t		 max_xml;
	unsigned	 ratio;
	const char	*err;
	uint64_t	 most;		/* bytes delivered at most */
};

static const struct bomb_case bomb_cases[] = {
	{ "gzip ratio", 0, 0, DM_MAX_XML, DM_MAX_RATIO,
	    "gzip: compression ratio over 200:1", 4u << 20 },
	{ "gzip size", 0, 0, 8u << 20, 1000000,
	    "gzip: unpacked size over 8388608 bytes", 8u << 20 },
	{ "gzip in gzip ratio", 0, 1, DM_MAX_XML, DM_MAX_RATIO,
	    "gzip: compression ratio over 200:1", 4u << 20 },
	{ "zip ratio", 1, 0, DM_MAX_XML, DM_MAX_RATIO,
	    "zip: entry \"bomb.xml\": compression ratio over 200:1", 4u << 20 },
	{ "zip size", 1, 0, 8u << 20, 1000000,
	    "zip: entry \"bomb.xml\": unpacked size over 8388608 bytes",
	    8u << 20 },
	{ "zip of gzip ratio", 2, 0, DM_MAX_XML, DM_MAX_RATIO,
	    "zip: entry \"bomb.xml.gz\": gzip: compression ratio over 200:1",
	    4u << 20 },
};

/* 100 MB of "<a>" and spaces, about 100 KB compressed (32 MB in a zip). */
START_TEST(test_unpack_rejects_bombs)
{
	const struct bomb_case	*bc = &bomb_cases[_i];
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 b, t;
	struct sink		 s;
	uint64_t		 size;
	char			*raw;

	size = bc->zip == 1 ? (32u << 20) : (100u << 20);
	limits(&lim);
	lim.max_xml = bc->max_xml;
	lim.max_ratio = bc->ratio;
	buf_init(&b, BIG);
	buf_init(&t, BIG);
	if (bc->zip == 1) {
		/* libzip compresses from memory: a smaller bomb */
		raw = malloc(size);
		ck_assert_ptr_nonnull(raw);
		memset(raw, ' ', size);
		memcpy(raw, BOMB_PREFIX, strlen(BOMB_PREFIX));
		{
			struct zspec	 z[] = {
				{ "bomb.xml", raw, size, ZIP_CM_DEFLATE, 0 },
			};

			zip_build(&b, z, nitems(z));
		}
		free(raw);
	} else {
		gz_pattern(&t, BOMB_PREFIX, " ", 1, size);
		if (bc->nest)
			gz_wrap(&t);
		if (bc->zip == 2) {
			struct zspec	 z[] = {
				{ "bomb.xml.gz", t.data, t.len, ZIP_CM_STORE,
				    0 },
			};

			zip_build(&b, z, nitems(z));
		} else
			buf_add(&b, t.data, t.len);
	}
	ck_assert_uint_lt(b.len, 1u << 20);

	sink_init(&s, 1024, 65536);
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), 0);
	ck_assert_int_eq(s.ndocs, 1);
	ck_assert_msg(s.docs[0].failed, "%s: not refused", bc->name);
	ck_assert_msg(strcmp(s.docs[0].err, bc->err) == 0, "%s: '%s'",
	    bc->name, s.docs[0].err);
	ck_assert_msg(s.docs[0].n <= bc->most, "%s: %llu bytes", bc->name,
	    (unsigned long long)s.docs[0].n);
	ck_assert_uint_gt(s.docs[0].n, 0);
	ck_assert_int_eq(s.docs[0].scope, DM_EMSG);
	sink_clear(&s);
	buf_clear(&t);
	buf_clear(&b);
}
END_TEST

/*
 * A gzip whose content is another gzip made of nothing but empty
 * stored blocks: the inner inflater never outputs a byte, so only the
 * limits on the middle layer stop it.
 */
START_TEST(test_unpack_rejects_empty_block_bomb)
{
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0,
	    0, 3 };
	static const unsigned char blk[5] = { 0, 0, 0, 0xff, 0xff };
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct buf		 b;
	struct sink		 s;
	z_stream		 z;
	unsigned char		 pat[5 * 1000], tmp[65536];
	uint64_t		 left = 16u << 20;
	size_t			 i;
	int			 zrc;

	for (i = 0; i < sizeof(pat); i++)
		pat[i] = blk[i % 5];
	limits(&lim);
	buf_init(&b, BIG);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)hdr;
	z.avail_in = sizeof(hdr);
	do {
		if (z.avail_in == 0 && left > 0) {
			z.next_in = pat;
			z.avail_in = sizeof(pat);
			left -= left < sizeof(pat) ? left : sizeof(pat);
		}
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		zrc = deflate(&z, left == 0 && z.avail_in == 0 ? Z_FINISH :
		    Z_NO_FLUSH);
		ck_assert_int_ne(zrc, Z_STREAM_ERROR);
		buf_add(&b, tmp, sizeof(tmp) - z.avail_out);
	} while (zrc != Z_STREAM_END);
	deflateEnd(&z);

	sink_init(&s, 1024, 65536);
	ck_assert_int_eq(run_mem(b.data, b.len, &lim, &s, &err), 0);
	ck_assert_int_eq(s.ndocs, 1);
	ck_assert(s.docs[0].failed);
	ck_assert_str_eq(s.docs[0].err, "gzip: compression ratio over 200:1");
	ck_assert_uint_eq(s.docs[0].n, 0);
	sink_clear(&s);
	buf_clear(&b);
}
END_TEST

/* --- streaming from a file in bounded memory ----------------------- */

static uint64_t	rng_state;

/* len bytes of lines of random base64: text that hardly compresses. */
static size_t
fill_random_xml(unsigned char *p, size_t len)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
	    "ghijklmnopqrstuvwxyz0123456789+/";
	uint64_t		 r = 0;
	size_t			 i;
	int			 left = 0;

	for (i = 0; i < len; i++) {
		if (left == 0) {
			rng_state ^= rng_state << 13;
			rng_state ^= rng_state >> 7;
			rng_state ^= rng_state << 17;
			r = rng_state;
			left = 10;	/* 6 bits each */
		}
		p[i] = (i % 64 == 63) ? '\n' : (unsigned char)b64[r & 63];
		r >>= 6;
		left--;
	}
	return len;
}

/* Forget the peak so far (Linux), so the next peak is ours alone. */
static void
reset_peak_rss(void)
{
	FILE	*f = fopen("/proc/self/clear_refs", "w");

	if (f != NULL) {
		fputs("5", f);
		fclose(f);
	}
}

static long
max_rss_kb(void)
{
	struct rusage	 ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* A >= 20 MB gzip written to a file in chunks; returns unpacked size. */
static uint64_t
write_big_gzip(int fd, uint64_t gzsize, uLong *crc)
{
	static unsigned char	 in[1u << 16], out[1u << 16];
	static const char	 head[] =
	    "<?xml version=\"1.0\"?>\n<feedback>\n";
	static const char	 tail[] = "</feedback>\n";
	z_stream		 z;
	uint64_t		 written = 0, total = 0;
	int			 zrc, fin = 0;

	*crc = crc32(0, NULL, 0);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	memcpy(in, head, sizeof(head) - 1);
	z.next_in = in;
	z.avail_in = sizeof(head) - 1;
	*crc = crc32(*crc, in, z.avail_in);
	total += z.avail_in;
	for (;;) {
		if (z.avail_in == 0 && !fin) {
			if (written < gzsize) {
				z.avail_in = (uInt)fill_random_xml(in,
				    sizeof(in));
			} else {
				memcpy(in, tail, sizeof(tail) - 1);
				z.avail_in = sizeof(tail) - 1;
				fin = 1;
			}
			z.next_in = in;
			*crc = crc32(*crc, in, z.avail_in);
			total += z.avail_in;
		}
		z.next_out = out;
		z.avail_out = sizeof(out);
		zrc = deflate(&z, fin ? Z_FINISH : Z_NO_FLUSH);
		ck_assert_int_ne(zrc, Z_STREAM_ERROR);
		ck_assert_int_eq(write(fd, out, sizeof(out) - z.avail_out),
		    (ssize_t)(sizeof(out) - z.avail_out));
		written += sizeof(out) - z.avail_out;
		if (zrc == Z_STREAM_END)
			break;
	}
	deflateEnd(&z);
	ck_assert_uint_ge(written, gzsize);
	return total;
}

START_TEST(test_unpack_streams_20mb_gzip_from_fd)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct sink		 s;
	uLong			 crc;
	uint64_t		 total;
	long			 before, after;
	int			 fd;

	limits(&lim);
	rng_state = 88172645463325252ull;
	fd = tmp_fd("", 0);
	total = write_big_gzip(fd, 20u << 20, &crc);
	ck_assert_uint_gt(total, 20u << 20);

	reset_peak_rss();
	before = max_rss_kb();
	sink_init(&s, 0, 65536);
	ck_assert_msg(run_fd(fd, &lim, &s, &err) == 0, "%s", err.msg);
	after = max_rss_kb();
	ck_assert_int_eq(s.ndocs, 1);
	ck_assert_msg(!s.docs[0].failed, "%s", s.docs[0].err);
	ck_assert_uint_eq(s.docs[0].n, total);
	ck_assert_uint_eq(s.docs[0].crc, crc);
	/* holding the 20 MB payload (or the 27 MB output) would show */
	ck_assert_msg(after - before < 8 * 1024, "max RSS grew by %ld KiB",
	    after - before);
	sink_clear(&s);
	close(fd);
}
END_TEST

/* A stored zip entry of 20 MB written to a file, then read from it. */
START_TEST(test_unpack_streams_20mb_zip_from_fd)
{
	static unsigned char	 chunk[1u << 16];
	static const char	 name[] = "big.xml";
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct sink		 s;
	struct buf		 h;
	uLong			 crc;
	uint64_t		 size = 20u << 20, i;
	long			 before, after;
	int			 fd;

	limits(&lim);
	/* the data is generated twice: once for the CRC, once to write */
	rng_state = 42;
	crc = crc32(0, NULL, 0);
	for (i = 0; i < size; i += sizeof(chunk)) {
		fill_random_xml(chunk, sizeof(chunk));
		if (i == 0)
			chunk[0] = '<';
		crc = crc32(crc, chunk, sizeof(chunk));
	}
	buf_init(&h, 1u << 16);
	le32(&h, 0x04034b50);
	le16(&h, 20);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 0x21);
	le32(&h, crc);
	le32(&h, (unsigned long)size);
	le32(&h, (unsigned long)size);
	le16(&h, sizeof(name) - 1);
	le16(&h, 0);
	buf_add(&h, name, sizeof(name) - 1);
	fd = tmp_fd(h.data, h.len);
	rng_state = 42;
	for (i = 0; i < size; i += sizeof(chunk)) {
		fill_random_xml(chunk, sizeof(chunk));
		if (i == 0)
			chunk[0] = '<';
		ck_assert_int_eq(write(fd, chunk, sizeof(chunk)),
		    (ssize_t)sizeof(chunk));
	}
	buf_reset(&h);
	le32(&h, 0x02014b50);
	le16(&h, 20);
	le16(&h, 20);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 0x21);
	le32(&h, crc);
	le32(&h, (unsigned long)size);
	le32(&h, (unsigned long)size);
	le16(&h, sizeof(name) - 1);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 0);
	le32(&h, 0);
	le32(&h, 0);
	buf_add(&h, name, sizeof(name) - 1);
	le32(&h, 0x06054b50);
	le16(&h, 0);
	le16(&h, 0);
	le16(&h, 1);
	le16(&h, 1);
	le32(&h, 46 + sizeof(name) - 1);
	le32(&h, (unsigned long)(30 + sizeof(name) - 1 + size));
	le16(&h, 0);
	ck_assert_int_eq(write(fd, h.data, h.len), (ssize_t)h.len);
	buf_clear(&h);

	reset_peak_rss();
	before = max_rss_kb();
	sink_init(&s, 0, 65536);
	ck_assert_msg(run_fd(fd, &lim, &s, &err) == 0, "%s", err.msg);
	after = max_rss_kb();
	ck_assert_int_eq(s.ndocs, 1);
	ck_assert_msg(!s.docs[0].failed, "%s", s.docs[0].err);
	ck_assert_str_eq(s.docs[0].member, "big.xml");
	ck_assert_uint_eq(s.docs[0].n, size);
	ck_assert_uint_eq(s.docs[0].crc, crc);
	ck_assert_msg(after - before < 8 * 1024, "max RSS grew by %ld KiB",
	    after - before);
	sink_clear(&s);
	close(fd);
}
END_TEST

/* --- read-ahead (ahead.c) ------------------------------------------- */

/* A stream of len pattern bytes in uneven reads, then its end or error. */
struct pat {
	struct dm_rd	 rd;
	uint64_t	 len;
	uint64_t	 off;		/* bytes given */
	int		 fail;		/* after len bytes: -1, not the end */
	unsigned	 calls;
};

static unsigned char
pat_byte(uint64_t i)
{
	return (unsigned char)(i % 251);
}

static long
pat_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct pat	*p = rd->ctx;
	unsigned char	*d = dst;
	size_t		 n, i;

	p->calls++;
	if (p->off == p->len) {
		if (p->fail)
			return dm_err_set(&rd->err, DM_EMSG, "pattern: broken "
			    "after %llu bytes", (unsigned long long)p->len);
		return 0;
	}
	n = len - len / (p->calls % 5 + 2);	/* never quite what was asked */
	if (n == 0)
		n = 1;
	if (n > p->len - p->off)
		n = (size_t)(p->len - p->off);
	for (i = 0; i < n; i++)
		d[i] = pat_byte(p->off + i);
	/* atomic: a test watches it while the read-ahead thread reads */
	__atomic_store_n(&p->off, p->off + n, __ATOMIC_RELAXED);
	return (long)n;
}

static void
pat_init(struct pat *p, uint64_t len, int fail)
{
	memset(p, 0, sizeof(*p));
	p->rd.read = pat_read;
	p->rd.ctx = p;
	p->len = len;
	p->fail = fail;
}

static const struct {
	uint64_t	 len;
	int		 fail;
	size_t		 after;
	size_t		 readsz;
	int		 threaded;	/* a thread must have started */
} ahead_cases[] = {
	{ 0, 0, 0, 4000, 1 },
	{ 0, 1, 0, 4000, 1 },
	{ 1, 0, 0, 1, 1 },
	{ 1000003, 0, 0, 4000, 1 },
	{ 1000003, 1, 0, 4000, 1 },
	{ 1000003, 1, 0, 1, 1 },
	{ 1000003, 0, 300000, 4000, 1 },
	{ 1000003, 1, 300000, 150000, 1 },
	{ 8 * AHEAD_SLOTS * AHEAD_SLOT + 5, 0, 0, 3 * AHEAD_SLOT, 1 },
	{ 299999, 0, 300000, 4000, 0 },
	{ 299999, 1, 300000, 4000, 0 },
	{ 100, 0, AHEAD_AFTER, 7, 0 },
};

/* Same bytes, same end or error, sticky, threaded or not. */
START_TEST(test_ahead_gives_what_src_gives)
{
	static unsigned char	 buf[3 * AHEAD_SLOT];
	struct pat		 p;
	struct ahead		 a;
	uint64_t		 got = 0;
	size_t			 i;
	long			 n;
	int			 k;

	ck_assert_uint_le(ahead_cases[_i].readsz, sizeof(buf));
	pat_init(&p, ahead_cases[_i].len, ahead_cases[_i].fail);
	ahead_init(&a, &p.rd, ahead_cases[_i].after);
	while ((n = dm_rd_read(&a.rd, buf, ahead_cases[_i].readsz)) > 0) {
		ck_assert_uint_le((size_t)n, ahead_cases[_i].readsz);
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pat_byte(got + i))
				ck_abort_msg("byte %llu differs",
				    (unsigned long long)(got + i));
		got += (uint64_t)n;
	}
	ck_assert_uint_eq(got, ahead_cases[_i].len);
	ck_assert_int_eq(a.started, ahead_cases[_i].threaded);
	for (k = 0; k < 3; k++) {
		if (ahead_cases[_i].fail) {
			ck_assert_int_eq(n, -1);
			ck_assert_int_eq(a.rd.err.scope, DM_EMSG);
			ck_assert_str_eq(a.rd.err.msg, p.rd.err.msg);
			ck_assert_ptr_nonnull(strstr(a.rd.err.msg, "broken"));
		} else
			ck_assert_int_eq(n, 0);
		n = dm_rd_read(&a.rd, buf, ahead_cases[_i].readsz);
	}
	ahead_clear(&a);
	ck_assert_int_eq(a.started, 0);
	ahead_clear(&a);	/* twice is harmless */
}
END_TEST

/*
 * A reader that stops early (the parser at </feedback>, or failing)
 * stops the thread, which never reads more than its slots hold.
 */
START_TEST(test_ahead_stops_early_and_reads_ahead_boundedly)
{
	unsigned char	 buf[16];
	struct pat	 p;
	struct ahead	 a;
	int		 i;

	pat_init(&p, UINT64_MAX, 0);
	ahead_init(&a, &p.rd, 0);
	ck_assert_int_eq(dm_rd_read(&a.rd, buf, sizeof(buf)), sizeof(buf));
	ck_assert_int_eq(buf[15], pat_byte(15));
	ck_assert_int_eq(a.started, 1);
	/* let it fill every slot and wait for room */
	for (i = 0; i < 200 && __atomic_load_n(&p.off, __ATOMIC_RELAXED) <
	    AHEAD_SLOTS * (uint64_t)AHEAD_SLOT / 2; i++)
		usleep(5000);
	usleep(20000);
	ahead_clear(&a);
	ck_assert_uint_ge(p.off, AHEAD_SLOT / 2);
	ck_assert_uint_le(p.off, AHEAD_SLOTS * (uint64_t)AHEAD_SLOT);
	/* src is the caller's again, where the thread left it */
	ck_assert_int_gt(dm_rd_read(&p.rd, buf, sizeof(buf)), 0);

	/* never read, never started */
	pat_init(&p, 10, 0);
	ahead_init(&a, &p.rd, 0);
	ahead_clear(&a);
	ck_assert_uint_eq(p.calls, 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("unpack");
	TCase	*tc = tcase_create("unpack");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_unpack_sniff_table, 0,
	    nitems(sniff_cases));
	tcase_add_test(tc, test_unpack_kind_names);
	tcase_add_loop_test(tc, test_unpack_reads_samples_from_memory_and_file,
	    0, nitems(sample_cases));
	tcase_add_loop_test(tc, test_unpack_generated_table, 0,
	    nitems(gen_cases));
	tcase_add_test(tc, test_unpack_truncated_gzip_fails_after_records);
	tcase_add_test(tc, test_unpack_zip_hostile_names_touch_no_files);
	tcase_add_test(tc, test_unpack_long_member_name_is_cut);
	tcase_add_test(tc, test_unpack_stops_when_fn_fails);
	tcase_add_test(tc, test_unpack_rejects_plain_xml_over_max);
	tcase_add_loop_test(tc, test_unpack_rejects_bombs, 0,
	    nitems(bomb_cases));
	tcase_add_test(tc, test_unpack_rejects_empty_block_bomb);
	tcase_add_test(tc, test_unpack_streams_20mb_gzip_from_fd);
	tcase_add_test(tc, test_unpack_streams_20mb_zip_from_fd);
	tcase_add_loop_test(tc, test_ahead_gives_what_src_gives, 0,
	    nitems(ahead_cases));
	tcase_add_test(tc, test_ahead_stops_early_and_reads_ahead_boundedly);
	suite_add_tcase(s, tc);
	return s;
}
