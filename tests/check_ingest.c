/*
 * check_ingest.c: not yet written.
 */
#include "test.h"

START_TEST(test_ingest_placeholder)
{
	ck_assert_int_eq(1, 1);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("ingest");
	TCase	*tc = tcase_create("ingest");

	tcase_add_test(tc, test_ingest_placeholder);
	suite_add_tcase(s, tc);
	return s;
}
