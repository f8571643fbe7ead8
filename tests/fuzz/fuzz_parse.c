/*
 * fuzz_parse.c: libFuzzer target for parse_report(). The input is the
 * XML, read through a memory stream in small uneven pieces; the sink
 * touches every string it is handed so ASan sees a stale pointer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "parse.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct memrd {
	struct dm_rd	 rd;
	const uint8_t	*p;
	size_t		 len, off, step;
};

static long
memrd_read(struct dm_rd *rd, void *dst, size_t len)
{
	struct memrd	*m = rd->ctx;
	size_t		 n = m->len - m->off;

	/* vary the piece sizes to shake out boundary bugs */
	m->step = m->step * 7 % 4093 + 1;
	if (n > len)
		n = len;
	if (n > m->step)
		n = m->step;
	memcpy(dst, m->p + m->off, n);
	m->off += n;
	return (long)n;
}

static volatile size_t	 sink_hole;

static void
touch(const char *s)
{
	if (s != NULL)
		sink_hole += strlen(s);
}

static void
touch_enum(const struct report_enum *e)
{
	touch(e->val);
	touch(e->raw);
}

static void
touch_report(const struct report *r)
{
	size_t	 i;

	touch(r->ns);
	touch(r->version);
	touch(r->org_name);
	touch(r->email);
	touch(r->extra_contact_info);
	touch(r->report_id);
	touch(r->generator);
	for (i = 0; i < r->nerrors; i++)
		touch(r->errors[i]);
	touch(r->domain);
	touch_enum(&r->discovery_method);
	touch_enum(&r->adkim);
	touch_enum(&r->aspf);
	touch_enum(&r->p);
	touch_enum(&r->sp);
	touch_enum(&r->np);
	touch(r->fo);
	touch_enum(&r->testing);
	sink_hole += (size_t)r->begin + (size_t)r->end + (size_t)r->pct;
}

static int
f_begin(void *arg, const struct report *r, struct dm_err *err)
{
	(void)arg;
	(void)err;
	touch_report(r);
	return r->report_id[0] == 'd' ? 1 : 0;	/* duplicates too */
}

static int
f_record(void *arg, const struct report *r, const struct record *x,
    struct dm_err *err)
{
	size_t	 i;

	(void)arg;
	touch(r->org_name);
	/* a record without an address is skipped, never handed over */
	if (x->ip_len != 4 && x->ip_len != 16)
		abort();
	sink_hole += x->ip[x->ip_len - 1];
	touch_enum(&x->disposition);
	touch_enum(&x->dkim);
	touch_enum(&x->spf);
	for (i = 0; i < x->nreasons; i++) {
		touch_enum(&x->reasons[i].type);
		touch(x->reasons[i].comment);
	}
	touch(x->envelope_to);
	touch(x->envelope_from);
	touch(x->header_from);
	for (i = 0; i < x->nauth_dkim; i++) {
		touch(x->auth_dkim[i].domain);
		touch(x->auth_dkim[i].selector);
		touch_enum(&x->auth_dkim[i].result);
		touch(x->auth_dkim[i].human_result);
	}
	for (i = 0; i < x->nauth_spf; i++) {
		touch(x->auth_spf[i].domain);
		touch_enum(&x->auth_spf[i].scope);
		touch_enum(&x->auth_spf[i].result);
		touch(x->auth_spf[i].human_result);
	}
	if (x->count == 13)
		return dm_err_set(err, DM_ESTORE, "fuzz: record refused");
	return 0;
}

static int
f_end(void *arg, const struct report *r, struct dm_err *err)
{
	(void)arg;
	(void)err;
	touch_report(r);
	return 0;
}

static void
f_abort(void *arg, const struct report *r)
{
	(void)arg;
	touch_report(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 init;
	struct report_sink	 sink = { f_begin, f_record, f_end, f_abort,
				    NULL };
	struct dm_limits	 lim;
	struct parse_summary	 sum;
	struct dm_err		 err;
	struct memrd		 m;

	if (!init) {
		parse_init();
		init = 1;
	}
	dm_limits_default(&lim);
	lim.max_records = 1000;
	memset(&m, 0, sizeof(m));
	m.rd.read = memrd_read;
	m.rd.ctx = &m;
	m.p = data;
	m.len = size;
	m.step = size % 97;
	parse_report(&m.rd, &lim, &sink, &sum, &err);
	touch(sum.org_name);
	touch(err.msg);
	return 0;
}
