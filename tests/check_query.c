/*
 * check_query.c: not yet written.
 */
#include "test.h"

START_TEST(test_query_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("query");
	TCase	*tc = tcase_create("query");

	tcase_add_test(tc, test_query_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
