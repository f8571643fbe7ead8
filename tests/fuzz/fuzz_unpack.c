/*
 * fuzz_unpack.c: libFuzzer target for unpack: the input is a payload
 * in memory (gzip, zip, XML or anything else); every document handed
 * over is drained to its end or its error. Tight limits keep each run
 * short; nothing is written anywhere.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "dm.h"
#include "unpack.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct drained {
	uint64_t	 bytes;
	unsigned	 docs;
};

static int
drain(void *arg, struct dm_rd *xml, const char *member, struct dm_err *err)
{
	struct drained	*d = arg;
	char		 buf[4096];
	long		 n;

	(void)err;
	d->docs++;
	if (member != NULL && strlen(member) > 1024)
		__builtin_trap();	/* labels are bounded */
	while ((n = dm_rd_read(xml, buf, sizeof(buf))) > 0) {
		if ((size_t)n > sizeof(buf))
			__builtin_trap();
		d->bytes += (uint64_t)n;
	}
	if (n < 0 && (xml->err.msg[0] == '\0' ||
	    dm_rd_read(xml, buf, sizeof(buf)) != -1))
		__builtin_trap();	/* a failure has a reason and sticks */
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dm_limits	 lim;
	struct dm_err		 err = { 0 };
	struct unpack_in	 in = { "fuzz", -1, data, size };
	struct drained		 d = { 0, 0 };

	dm_limits_default(&lim);
	lim.max_xml = 8u << 20;
	(void)unpack_kind_name(unpack_sniff(data, size));
	if (unpack_payload(&in, &lim, drain, &d, &err) == -1 &&
	    err.msg[0] == '\0')
		__builtin_trap();
	if (d.bytes > (uint64_t)lim.max_xml * (DM_MAX_ZIP_ENTRIES + 1) ||
	    d.docs > DM_MAX_ZIP_ENTRIES)
		__builtin_trap();
	return 0;
}
