/*
 * The binary encoders of the store's write path (store_ingest.c), seen
 * from outside only by tests/unit/store_encode_test.c, which checks them
 * against golden vectors.  Not for other modules: the store uses them
 * through store_ingest().
 */
#ifndef STORE_ENCODE_H
#define STORE_ENCODE_H

#include <stddef.h>

#include "op_codec.h"
#include "op_error.h"

/* Bytes of a content key (a uuid): the first 16 of a SHA-256. */
#define STORE_KEY_BYTES 16

/*
 * Encodes column col (0-based, in the order of the kind's table columns)
 * of b's events of kind kind (an Opspulse__V1__Event__KindCase) as a
 * PostgreSQL binary one-dimensional array, as the INSERT's $n parameter.
 * *n counts the events.  Returns OP_OK, OP_EINVAL (no such kind or
 * column) or OP_ENOMEM.  On OP_OK and OP_ENOMEM the caller frees *out
 * with free().
 */
OP_MUSTCHECK int store_encode_array(const op_batch *b, int kind, int col,
                                    char **out, size_t *len, long *n);

/*
 * Encodes b's events of kind kind as PostgreSQL's binary COPY stream:
 * header, one tuple per event, trailer.  Returns and frees as
 * store_encode_array.
 */
OP_MUSTCHECK int store_encode_copy(const op_batch *b, int kind, char **out,
                                   size_t *len, long *n);

/*
 * The content key of e (sent by agent) into key.  Returns OP_OK,
 * OP_EINVAL when e's kind is not stored by its content, or OP_ENOMEM
 * when SHA-256 is not available.
 */
OP_MUSTCHECK int store_content_key(const op_event *e, const char *agent,
                                   unsigned char key[STORE_KEY_BYTES]);

#endif
