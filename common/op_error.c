#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_error.h"

static const char *const op_messages[OP_ERR_COUNT] = {
    [OP_OK] = "success",
    [OP_ENOMEM] = "out of memory",
    [OP_EINVAL] = "invalid argument",
    [OP_EIO] = "input/output error",
    [OP_ETIMEDOUT] = "timed out",
    [OP_EUNREACHABLE] = "cannot connect",
    [OP_EPROTO] = "protocol error",
    [OP_ETOOBIG] = "too large",
    [OP_ENOTFOUND] = "not found",
    [OP_EDB] = "database error",
    [OP_EUNAVAIL] = "temporarily unavailable",
    [OP_EREJECTED] = "rejected by peer",
    [OP_ECLOSED] = "closed",
    [OP_EFULL] = "storage full",
    [OP_ECONFIG] = "configuration error",
    [OP_EFORBIDDEN] = "forbidden",
    [OP_ECORRUPT] = "checksum mismatch",
};

const char *
op_strerror(int code)
{
	if (code < 0 || code >= OP_ERR_COUNT || op_messages[code] == NULL)
		return "unknown error";
	return op_messages[code];
}

int
op_errno_to_err(int errnum)
{
	switch (errnum) {
	case 0:
		return OP_OK;
	case ENOMEM:
		return OP_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		return OP_EFULL;
	case ETIMEDOUT:
		return OP_ETIMEDOUT;
	case ENOENT:
		return OP_ENOTFOUND;
	case EINVAL:
		return OP_EINVAL;
	case EACCES:
	case EPERM:
		return OP_EFORBIDDEN;
	default:
		return OP_EIO;
	}
}

void
op_assert_fail(const char *cond, const char *file, int line)
{
	/* Straight to stderr: the logger may be what is broken. */
	fprintf(stderr,
	        "opspulse: assertion failed: %s (%s:%d); please report "
	        "this bug\n",
	        cond, file, line);
	abort();
}
