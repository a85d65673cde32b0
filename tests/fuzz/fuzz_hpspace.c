/* fuzz_hpspace.c: a search space for verdict train --search: parse, then draw trials that must stay inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hpspace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[HP_ERR_MAX] = "";
	struct hp_value v[HP_DIMS_MAX];
	json_error_t e;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	struct hpspace *sp;
	uint64_t state = size;

	if (j == NULL)
		return 0;
	sp = hpspace_parse(j, err, sizeof(err));
	json_decref(j);
	if (sp == NULL) {
		/* Every refusal names the key, or says what is wrong with the whole. */
		if (!utf8_valid(err, strlen(err)) || (strncmp(err, "key '", 5) != 0 &&
		    strncmp(err, "the space ", 10) != 0))
			abort();
		return 0;
	}
	if (hpspace_size(sp) == 0 || hpspace_size(sp) > HP_DIMS_MAX)
		abort();
	for (int t = 0; t < 64; t++) {
		hpspace_sample(sp, &state, v);
		for (size_t i = 0; i < hpspace_size(sp); i++)
			if (!hpspace_contains(sp, i, v[i].num) || strtod(v[i].text, NULL) != v[i].num)
				abort();
	}
	hpspace_free(sp);
	return 0;
}
