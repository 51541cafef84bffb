/*
 * Version strings from what programs and files say about themselves.
 * Pure functions over bytes, with fuzz targets.
 */
#ifndef VERSION_H
#define VERSION_H

#include <stddef.h>

#include "op_error.h"

/*
 * Copies into out the first dotted version number in text (len bytes):
 * digits followed by one or more ".digits", as "1.22.1" in "nginx version:
 * nginx/1.22.1" or "7.0.15" in "5:7.0.15-1~deb12u1".  When text has no
 * dotted number, the first run of digits.  Returns OP_OK, or OP_ENOTFOUND
 * (no digits) or OP_ETOOBIG (does not fit in outsz); out is then "".
 */
OP_MUSTCHECK int agent_version_extract(const char *text, size_t len, char *out,
                                       size_t outsz);

/*
 * Reads ID and VERSION_ID from the text of an os-release file (shell-like
 * KEY=value lines, values optionally quoted with ' or " and \-escaped).
 * Returns OP_OK when both were found, else OP_ENOTFOUND; id and version are
 * always NUL-terminated (possibly empty, truncated to fit).
 */
OP_MUSTCHECK int agent_os_release_parse(const char *text, size_t len, char *id,
                                        size_t idsz, char *version,
                                        size_t versz);

/* The EOL catalog's product name for an os-release ID ("rocky" ->
 * "rocky-linux", "amzn" -> "amazon-linux"; others unchanged).  Never
 * NULL. */
const char *agent_os_product(const char *id);

#endif
