#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "op_log.h"

static const char *op_log_program = "opspulse";
static enum op_log_level op_log_max = OP_LOG_INFO;

void
op_log_init(const char *program, enum op_log_level level)
{
	op_log_program = program;
	op_log_max = level;
}

void
op_log(enum op_log_level level, const char *module, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info",
	                                    "debug"};
	char line[2048];
	va_list ap;
	int n;

	if (level > op_log_max)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: %s: ", op_log_program,
	             names[level], module);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line so that lines from threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}
