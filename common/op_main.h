/*
 * What every OpsPulse program's main() does first: the options taken
 * before the command.
 */
#ifndef OP_MAIN_H
#define OP_MAIN_H

#include <stdio.h>

/* A program: its name ("opspulse-agent") and its usage text. */
struct op_main_program {
	const char *name;
	void (*usage)(FILE *fp);
};

/*
 * Reads the options before the command: -c FILE into *file, -v (only
 * when verbose is not NULL) into *verbose, --version and --help (-h),
 * which print the version or the usage on stdout.  Returns the index of
 * the command in argv (argc when there is none), or -1 when main should
 * return *status: 0 after --version or --help, 1 after an unknown option
 * (named on stderr).  This can't fail otherwise.
 */
int op_main_options(const struct op_main_program *p, int argc, char **argv,
                    const char **file, int *verbose, int *status);

#endif
