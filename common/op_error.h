/*
 * One error type for the whole project: int codes, 0 = success.
 * Library errors (nng, libpq, libconfig, protobuf-c, errno) are converted at
 * the module boundary that meets them.
 */
#ifndef OP_ERROR_H
#define OP_ERROR_H

enum op_err {
	OP_OK = 0,
	OP_ENOMEM,       /* out of memory */
	OP_EINVAL,       /* bad argument or input */
	OP_EIO,          /* file or device error; see errno in the log */
	OP_ETIMEDOUT,    /* nothing answered in time */
	OP_EUNREACHABLE, /* could not connect to any address */
	OP_EPROTO,       /* peer sent something we cannot decode */
	OP_ETOOBIG,      /* over a size limit */
	OP_ENOTFOUND,    /* no such item */
	OP_EDB,          /* database error */
	OP_EUNAVAIL,     /* temporarily unavailable; retry later */
	OP_EREJECTED,    /* peer refused the request with an error reply */
	OP_ECLOSED,      /* object is closed or shutting down */
	OP_EFULL,        /* storage full */
	OP_ECONFIG,      /* configuration error */
	OP_EFORBIDDEN,   /* identity may not do this */
	OP_ECORRUPT,     /* stored data failed its checksum */
	OP_ERR_COUNT
};

/*
 * Marks a function whose int result is an op_err code: the caller must look
 * at it (pgbouncer's _MUSTCHECK).  GCC does not take a (void) cast as
 * looking: a caller that may ignore a failure logs it or says why in an
 * if-statement.
 */
#if defined(__GNUC__) || defined(__clang__)
#define OP_MUSTCHECK __attribute__((warn_unused_result))
#else
#define OP_MUSTCHECK
#endif

/*
 * Checks an invariant that only a bug in OpsPulse can break (nng's
 * NNI_ASSERT): when cond is false, logs the condition and where it is,
 * and aborts.  Never for bad input, a lost connection or a full disk.
 * Stays on in release builds, unlike assert(3).
 */
#define OP_ASSERT(cond)                                                        \
	((cond) ? (void)0 : op_assert_fail(#cond, __FILE__, __LINE__))

/* OP_ASSERT's failure path: reports and aborts.  Does not return. */
_Noreturn void op_assert_fail(const char *cond, const char *file, int line);

/* Returns a static description of code; never NULL.  This can't fail. */
const char *op_strerror(int code);

/* Maps an errno value to an op_err code.  This can't fail. */
OP_MUSTCHECK int op_errno_to_err(int errnum);

#endif
