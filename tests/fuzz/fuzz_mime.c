/*
 * fuzz_mime.c: libFuzzer target for mime_parse() (src/mime.c).
 *
 * Build (from a configured tree, with clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -I. \
 *       $(pkg-config --cflags gmime-3.0) tests/fuzz/fuzz_mime.c \
 *       src/{mime,buf,log,util}.c $(pkg-config --libs gmime-3.0) -o fuzz_mime
 *   ./fuzz_mime -max_len=65536 tests/fuzz/corpus/mime tests/data/mime
 *
 * The corpus holds hand-made seeds only; the real mail in tests/data/mime
 * (licences there) is the second seed directory, read but not written
 * (libFuzzer writes new inputs to the first).
 *
 * max_message is 32 KiB, below -max_len, so that its refusal is reached.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "dm.h"
#include "mime.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sink;	/* keeps the reads from being dropped */

static int
touch(void *arg, const struct mime_part *p, struct dm_err *err)
{
	unsigned	*sum = arg;
	size_t		 i;

	(void)err;
	/* every byte handed out must be readable */
	for (i = 0; i < p->len; i++)
		*sum += p->data[i];
	*sum += (unsigned)strlen(p->content_type);
	if (p->filename != NULL)
		*sum += (unsigned)strlen(p->filename);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	struct dm_limits	 lim;
	struct mime_info	 info;
	struct dm_err		 err;
	unsigned		 sum = 0;

	if (!inited) {
		mime_init();
		inited = 1;
	}
	dm_limits_default(&lim);
	lim.max_message = 32u << 10;
	dm_err_clear(&err);
	memset(&info, 0, sizeof(info));
	if (mime_parse(data, size, &lim, &info, touch, &sum, &err) == -1 &&
	    err.msg[0] == '\0')
		__builtin_trap();	/* an error must say what */
	if (info.message_id != NULL)
		sum += (unsigned)strlen(info.message_id);
	if (info.subject != NULL)
		sum += (unsigned)strlen(info.subject);
	if (info.from != NULL)
		sum += (unsigned)strlen(info.from);
	if (info.date != NULL)
		sum += (unsigned)strlen(info.date);
	if (info.feedback_type != NULL)
		sum += (unsigned)strlen(info.feedback_type);
	mime_info_clear(&info);
	sink = sum;
	return 0;
}
