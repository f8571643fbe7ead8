/*
 * check_mime.c: not yet written.
 */
#include "test.h"

START_TEST(test_mime_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("mime");
	TCase	*tc = tcase_create("mime");

	tcase_add_test(tc, test_mime_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
