/*
 * Unit tests for agent/version: version numbers in program output and
 * os-release files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "op_error.h"
#include "version.h"

static void
expect_version(const char *text, const char *want)
{
	char out[64];
	int rv = agent_version_extract(text, strlen(text), out, sizeof(out));

	if (want == NULL) {
		assert_int_equal(rv, OP_ENOTFOUND);
		assert_string_equal(out, "");
		return;
	}
	if (rv != OP_OK || strcmp(out, want) != 0)
		fail_msg("'%s': got '%s' (%d), want '%s'", text, out, rv, want);
}

static void
test_extract(void **state)
{
	(void)state;
	expect_version("nginx version: nginx/1.22.1\n", "1.22.1");
	expect_version("5:7.0.15-1~deb12u1", "7.0.15");
	expect_version("1:1.22.1-9", "1.22.1");
	expect_version("15.4 (Debian 15.4-2.pgdg120+1)", "15.4");
	expect_version("x86_64 Python 3.11.2", "3.11.2");
	expect_version("v2.", "2");
	expect_version("build 20230311 then 1.2", "1.2");
	expect_version("build 20230311", "20230311");
	expect_version("1..2", "1");
	expect_version("no digits at all", NULL);
	expect_version("", NULL);
}

static void
test_extract_bounds(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(
	    agent_version_extract("1.22.1", 6, small, sizeof(small)),
	    OP_ETOOBIG);
	assert_string_equal(small, "");
	assert_int_equal(agent_version_extract("1.2", 3, small, sizeof(small)),
	                 OP_OK);
	assert_string_equal(small, "1.2");
	/* len bounds the text: "1.22" is cut to "1.2" */
	assert_int_equal(agent_version_extract("1.22", 3, small, sizeof(small)),
	                 OP_OK);
	assert_string_equal(small, "1.2");
}

static void
expect_osr(const char *text, int rv, const char *id, const char *ver)
{
	char gid[32], gver[32];

	assert_int_equal(agent_os_release_parse(text, strlen(text), gid,
	                                        sizeof(gid), gver,
	                                        sizeof(gver)),
	                 rv);
	assert_string_equal(gid, id);
	assert_string_equal(gver, ver);
}

static void
test_os_release(void **state)
{
	(void)state;
	expect_osr("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	           "VERSION_ID=\"12\"\nID=debian\n",
	           OP_OK, "debian", "12");
	expect_osr("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n"
	           "VERSION_ID=\"22.04\"",
	           OP_OK, "ubuntu", "22.04");
	expect_osr("ID='rocky'\n  VERSION_ID=9.3 # point release\n", OP_OK,
	           "rocky", "9.3");
	expect_osr("ID=\"a\\\"b\"\nVERSION_ID=1\n", OP_OK, "a\"b", "1");
	/* Debian testing has no VERSION_ID */
	expect_osr("ID=debian\nVERSION_CODENAME=trixie\n", OP_ENOTFOUND,
	           "debian", "");
	expect_osr("", OP_ENOTFOUND, "", "");
}

static void
test_products(void **state)
{
	(void)state;
	assert_string_equal(agent_os_product("rocky"), "rocky-linux");
	assert_string_equal(agent_os_product("amzn"), "amazon-linux");
	assert_string_equal(agent_os_product("debian"), "debian");
	assert_string_equal(agent_os_product("gentoo"), "gentoo");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_extract),
	    cmocka_unit_test(test_extract_bounds),
	    cmocka_unit_test(test_os_release),
	    cmocka_unit_test(test_products),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
