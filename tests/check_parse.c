/*
 * check_parse.c: not yet written.
 */
#include "test.h"

START_TEST(test_parse_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("parse");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
