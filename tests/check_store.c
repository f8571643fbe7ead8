/*
 * check_store.c: not yet written.
 */
#include "test.h"

START_TEST(test_store_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("store");
	TCase	*tc = tcase_create("store");

	tcase_add_test(tc, test_store_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
