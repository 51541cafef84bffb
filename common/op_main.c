#include <stdio.h>
#include <string.h>

#include "op_main.h"

int
op_main_options(const struct op_main_program *p, int argc, char **argv,
                const char **file, int *verbose, int *status)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			*file = argv[++i];
		} else if (verbose && strcmp(argv[i], "-v") == 0) {
			*verbose = 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", p->name, OPSPULSE_VERSION);
			*status = 0;
			return -1;
		} else if (strcmp(argv[i], "--help") == 0 ||
		           strcmp(argv[i], "-h") == 0) {
			p->usage(stdout);
			*status = 0;
			return -1;
		} else {
			fprintf(stderr,
			        "%s: unknown option '%s'; see %s --help\n",
			        p->name, argv[i], p->name);
			*status = 1;
			return -1;
		}
	}
	return i;
}
