/*
 * check_fetch_pop3.c: not yet written.
 */
#include "test.h"

START_TEST(test_fetch_pop3_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("fetch_pop3");
	TCase	*tc = tcase_create("fetch_pop3");

	tcase_add_test(tc, test_fetch_pop3_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
