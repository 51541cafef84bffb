#include <string.h>

#include "op_error.h"
#include "version.h"

static int
ver_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the version number starting at text[i] (a digit): digits and
 * ".digits" groups.  *dots counts the groups. */
static size_t
ver_span(const char *text, size_t len, size_t i, int *dots)
{
	size_t j = i;

	*dots = 0;
	while (j < len && ver_digit(text[j]))
		j++;
	while (j + 1 < len && text[j] == '.' && ver_digit(text[j + 1])) {
		(*dots)++;
		j++;
		while (j < len && ver_digit(text[j]))
			j++;
	}
	return j - i;
}

static int
ver_copy(const char *src, size_t n, char *out, size_t outsz)
{
	if (outsz == 0)
		return OP_ETOOBIG;
	if (n >= outsz) {
		out[0] = '\0';
		return OP_ETOOBIG;
	}
	memcpy(out, src, n);
	out[n] = '\0';
	return OP_OK;
}

int
agent_version_extract(const char *text, size_t len, char *out, size_t outsz)
{
	size_t first = len, first_len = 0;

	for (size_t i = 0; i < len; i++) {
		int dots;
		size_t n;

		if (!ver_digit(text[i]) || (i > 0 && ver_digit(text[i - 1])))
			continue;
		n = ver_span(text, len, i, &dots);
		if (dots > 0)
			return ver_copy(text + i, n, out, outsz);
		if (first == len) {
			first = i;
			first_len = n;
		}
		i += n - 1;
	}
	if (first == len) {
		if (outsz)
			out[0] = '\0';
		return OP_ENOTFOUND;
	}
	return ver_copy(text + first, first_len, out, outsz);
}

/* Unquotes value v (n bytes) into out: '...' literally, "..." and bare
 * words with backslash escapes. */
static void
osr_value(const char *v, size_t n, char *out, size_t outsz)
{
	char quote = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < outsz; i++) {
		char ch = v[i];
		if (quote == 0 && (ch == '"' || ch == '\'')) {
			quote = ch;
			continue;
		}
		if (ch == quote) {
			quote = 0;
			continue;
		}
		if (ch == '\\' && quote != '\'' && i + 1 < n)
			ch = v[++i];
		else if (quote == 0 && (ch == ' ' || ch == '\t' || ch == '#'))
			break;
		out[o++] = ch;
	}
	if (outsz)
		out[o] = '\0';
}

/* If line (n bytes) is "key=...", unquotes the value into out. */
static int
osr_match(const char *line, size_t n, const char *key, char *out, size_t outsz)
{
	size_t k = strlen(key);

	while (n > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (n <= k || memcmp(line, key, k) != 0 || line[k] != '=')
		return 0;
	osr_value(line + k + 1, n - k - 1, out, outsz);
	return 1;
}

int
agent_os_release_parse(const char *text, size_t len, char *id, size_t idsz,
                       char *version, size_t versz)
{
	int have_id = 0, have_ver = 0;
	size_t i = 0;

	if (idsz)
		id[0] = '\0';
	if (versz)
		version[0] = '\0';
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;

		have_id |= osr_match(text + i, n, "ID", id, idsz);
		have_ver |=
		    osr_match(text + i, n, "VERSION_ID", version, versz);
		i += n + 1;
	}
	return have_id && have_ver && idsz && versz && *id && *version
	           ? OP_OK
	           : OP_ENOTFOUND;
}

const char *
agent_os_product(const char *id)
{
	static const char *const map[][2] = {
	    {"rocky", "rocky-linux"},   {"amzn", "amazon-linux"},
	    {"ol", "oracle-linux"},     {"opensuse-leap", "opensuse"},
	    {"sles", "sles"},           {"rhel", "rhel"},
	    {"almalinux", "almalinux"}, {"centos", "centos"},
	    {"debian", "debian"},       {"ubuntu", "ubuntu"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(id, map[i][0]) == 0)
			return map[i][1];
	}
	return id;
}
