/*
 * fuzz_ruf.c: libFuzzer target for the failure-report parsers
 * (src/ruf.c): the feedback part, the same bytes as an original
 * message (with its body), and as a whole mail message (then with its
 * addresses hashed).
 *
 * Build: see tests/fuzz/run.sh, which builds every fuzz_*.c.
 *   ./fuzz_ruf -max_len=65536 tests/fuzz/corpus/ruf
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "dm.h"
#include "mime.h"
#include "ruf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;	/* keeps the reads from being dropped */

static void
touch(const struct ruf_report *r)
{
	size_t	 i;

	if (r->feedback_type != NULL)
		sink += strlen(r->feedback_type);
	if (r->source_ip != NULL)
		sink += strlen(r->source_ip);
	for (i = 0; i < r->original_rcpt_to.n; i++)
		sink += strlen(r->original_rcpt_to.v[i]);
	for (i = 0; i < r->authentication_results.n; i++)
		sink += strlen(r->authentication_results.v[i]);
	if (r->orig_headers != NULL)
		sink += strlen(r->orig_headers);
	if (r->orig_subject != NULL)
		sink += strlen(r->orig_subject);
	for (i = 0; i < r->orig_body_len; i++)
		sink += r->orig_body[i];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 inited;
	struct dm_limits	 lim;
	struct ruf_report	 r;
	struct dm_err		 err;

	if (!inited) {
		mime_init();
		inited = 1;
	}
	dm_limits_default(&lim);
	lim.max_message = 32u << 10;

	ruf_report_init(&r);
	if (ruf_parse_feedback(data, size, &r, &err) == 0)
		touch(&r);
	ruf_report_clear(&r);

	if (ruf_parse_original(data, size, RUF_KEEP_BODY, &r, &err) == 0)
		touch(&r);
	ruf_report_clear(&r);

	if (ruf_parse_message(data, size, &lim, RUF_KEEP_BODY, &r,
	    &err) == 0) {
		touch(&r);
		ruf_hash_local_parts(&r);
		touch(&r);
	}
	ruf_report_clear(&r);
	return 0;
}
