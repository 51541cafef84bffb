#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "op_file.h"

char *
op_file_read(const char *path, size_t max)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    (size_t)n < max && fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
			errno = EIO;
		} else {
			buf[n] = '\0';
		}
	} else if (buf == NULL && errno == 0) {
		errno = EFBIG;
	}
	fclose(fp);
	return buf;
}

void
op_file_free_secret(char *p)
{
	volatile char *v = p;

	for (size_t i = 0; p && p[i]; i++)
		v[i] = 0;
	free(p);
}
