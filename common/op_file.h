/*
 * Small files read whole: certificates and keys for TLS.
 */
#ifndef OP_FILE_H
#define OP_FILE_H

#include <stddef.h>

/* Certificate and key files are smaller than this. */
#define OP_TLS_FILE_MAX ((size_t)1 << 20)

/* The contents of the file path, malloc'd and NUL-terminated, or NULL
 * (unreadable, max bytes or more, or out of memory; errno tells).  Free
 * with free(), or op_file_free_secret for a private key. */
char *op_file_read(const char *path, size_t max);

/* Wipes and frees a copy of a secret (a private key).  p may be NULL. */
void op_file_free_secret(char *p);

#endif /* OP_FILE_H */
