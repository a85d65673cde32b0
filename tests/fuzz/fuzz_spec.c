/* fuzz_spec.c: a feature spec and raw inputs (split at the first '\n'): compile, then transform both strict and lax. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', size);
	size_t speclen = nl != NULL ? (size_t)(nl - p) : size;
	char err[SPEC_ERR_MAX];
	json_error_t e;
	json_t *sj, *ij = NULL;
	struct spec *s;
	float *out;

	sj = json_loadb(p, speclen, JSON_REJECT_DUPLICATES, &e);
	if (sj == NULL)
		return 0;
	s = spec_parse(sj, err, sizeof(err));
	json_decref(sj);
	if (s == NULL) {
		if (!utf8_valid(err, strlen(err)) || strncmp(err, "spec: ", 6) != 0)
			abort();
		return 0;
	}
	if (spec_width(s) == 0 || spec_ninputs(s) == 0)
		abort();
	for (size_t f = 0; f < spec_width(s); f++)
		if (spec_feature_input(s, f) >= spec_ninputs(s) || spec_feature_name(s, f) == NULL)
			abort();
	if (nl != NULL)
		ij = json_loadb(nl + 1, size - speclen - 1, JSON_REJECT_DUPLICATES, &e);
	if (ij == NULL)
		ij = json_object();
	out = malloc(spec_width(s) * sizeof(*out));
	for (int lax = 0; lax < 2; lax++) {
		if (spec_transform(s, ij, lax, out, err, sizeof(err)) == 0) {
			for (size_t f = 0; f < spec_width(s); f++)
				if (isinf(out[f]))
					abort();        /* finite or NaN only */
		} else if (!utf8_valid(err, strlen(err)) || err[0] == '\0')
			abort();
	}
	free(out);
	json_decref(ij);
	spec_free(s);
	return 0;
}
