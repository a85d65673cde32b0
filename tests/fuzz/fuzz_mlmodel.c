/* fuzz_mlmodel.c: an MLmodel file (YAML) into JSON, then its xgboost flavor and the passthrough spec of its signature, for each task. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlmodel.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const objectives[] = { "reg:squarederror", "binary:logistic",
	    "multi:softprob" };
	char err[SPEC_ERR_MAX];
	json_t *m = mlmodel_parse((const char *)data, size, err, sizeof(err));

	if (m == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	if (!json_is_object(m))
		abort();
	(void)mlmodel_xgboost_data(m);
	for (size_t i = 0; i < sizeof(objectives) / sizeof(objectives[0]); i++) {
		int nosig = 0;
		json_t *spec = mlmodel_spec(m, objectives[i], 3, &nosig, err, sizeof(err));

		if (spec != NULL) {
			/* what the signature gives must be a spec the one parser accepts */
			struct spec *s = spec_parse(spec, err, sizeof(err));

			spec_free(s);
			json_decref(spec);
		} else if (err[0] == '\0')
			abort();
	}
	json_decref(m);
	return 0;
}
