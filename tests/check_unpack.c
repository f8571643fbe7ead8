/*
 * check_unpack.c: not yet written.
 */
#include "test.h"

START_TEST(test_unpack_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("unpack");
	TCase	*tc = tcase_create("unpack");

	tcase_add_test(tc, test_unpack_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
