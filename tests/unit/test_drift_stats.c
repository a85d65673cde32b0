/* test_drift_stats.c: the drift statistics against values computed once with scipy 1.10 / numpy 1.24 (in the comments). */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "drift.h"

static void
near(double got, double want, double rtol)
{
	ck_assert_msg(fabs(got - want) <= rtol * fabs(want) + 1e-300,
	    "got %.17g, want %.17g", got, want);
}

/* scipy.stats.kstwobign.sf(x) */
START_TEST(kolmogorov)
{
	near(drift_kolmogorov_sf(0.5), 0.9639452436648751, 1e-12);
	near(drift_kolmogorov_sf(1.0), 0.26999967167735456, 1e-12);
	near(drift_kolmogorov_sf(1.5), 0.022217962616525127, 1e-12);
	near(drift_kolmogorov_sf(3.0), 3.045995948942526e-08, 1e-10);
	ck_assert(drift_kolmogorov_sf(0) == 1);
}
END_TEST

/* scipy.stats.chi2.sf(x, df) */
START_TEST(chi_square)
{
	near(drift_chi2_sf(3.5, 3), 0.3207621208056397, 1e-12);
	near(drift_chi2_sf(40.0, 5), 1.493367900050393e-07, 1e-10);
	near(drift_chi2_sf(0.1, 1), 0.7518296340458492, 1e-12);
	near(drift_chi2_sf(250.0, 200), 0.009379131668826098, 1e-10);
	ck_assert(drift_chi2_sf(INFINITY, 3) == 0);
}
END_TEST

/* wasserstein_distance, ks_2samp(...).statistic, jensenshannon, 2 * norm.sf, np.quantile */
START_TEST(samples)
{
	static const double a[] = { 1, 2, 3, 7 }, b[] = { 2, 2.5, 9 }, a5[] = { 1, 2, 3, 7, 8 };
	static const double q[] = { 1, 2, 4, 8, 16 };
	double p[] = { 0.5, 0.3, 0.2 }, r[] = { 0.2, 0.3, 0.5 }, z[] = { 0.5, 0, 0.5 };

	near(drift_wasserstein(a, 4, b, 3), 1.416666666666667, 1e-12);
	near(drift_ks_statistic(a5, 5, b, 3), 0.33333333333333337, 1e-12);
	near(drift_js_distance(p, r, 3), 0.257709748326061, 1e-12);
	near(drift_z_pvalue(1.96), 0.04999579029644087, 1e-12);
	near(drift_z_pvalue(-8.0), 1.244192114854348e-15, 1e-10);
	near(drift_quantile(q, 5, 0.3), 2.4, 1e-15);
	drift_fill_zeros(z, 3);
	ck_assert(z[1] == 1e-4);
	ck_assert_int_eq(drift_window_hours("7d"), 168);
	ck_assert_int_eq(drift_window_hours("24h"), 24);
	ck_assert_int_eq(drift_window_hours("366d"), -1);
	ck_assert_int_eq(drift_window_hours("07d"), -1);
	ck_assert_int_eq(drift_window_hours("d"), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("drift_stats");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, kolmogorov);
	tcase_add_test(tc, chi_square);
	tcase_add_test(tc, samples);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
