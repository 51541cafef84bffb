/*
 * The EOL catalog's import path (SPEC §4.4).
 */
#ifndef EOL_H
#define EOL_H

#include "op_codec.h"
#include "store.h"
#include "op_error.h"

/*
 * Checks every field of imp (product name, 1 to 2000 cycles, dates as
 * YYYY-MM-DD, booleans as "true"/"false") and replaces imp->product's
 * cycles in the catalog with them, in one statement.  On OP_OK, *out is
 * the product's catalog as stored (free with store_result_free).  Returns
 * OP_EINVAL with err naming the cycle and field, or OP_EUNAVAIL / OP_EDB
 * from the store.
 */
OP_MUSTCHECK int eol_import(struct store *s, const Opspulse__V1__EolImport *imp,
                            Opspulse__V1__QueryResult **out, char *err,
                            size_t errsz);

#endif
