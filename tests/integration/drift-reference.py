#!/usr/bin/python3
# drift-reference.py: an independent computation of the drift statistics with
# scipy/numpy, for test_drift.c. Usage: drift-reference.py TEST REF CUR
# (one value per line; numbers as text, categories as lines). Prints JSON:
# {"statistic", "p_value", "distance", "psi", ...} for TEST in ks,
# wasserstein, chisquare, z, jensenshannon; psi uses the reference's deciles
# for numbers (TEST ks/wasserstein) and the categories otherwise.
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def fill(p):
    # Evidently's fill for empty bins (get_binned_data, feel_zeroes).
    p = np.array(p, dtype=float)
    nz = p[p != 0]
    m = nz.min()
    p[p == 0] = m / 1e6 if m <= 1e-4 else 1e-4
    return p


def psi(r, c):
    return float(np.sum((r - c) * np.log(r / c)))


def shares(ref, cur):
    keys = sorted(set(ref) | set(cur))
    r = np.array([ref.count(k) for k in keys], dtype=float)
    c = np.array([cur.count(k) for k in keys], dtype=float)
    return keys, r, c


def main():
    test, rf, cf = sys.argv[1:4]
    with open(rf) as f:
        ref = f.read().splitlines()
    with open(cf) as f:
        cur = f.read().splitlines()
    out = {}
    if test in ("ks", "wasserstein"):
        a = np.array([float(x) for x in ref])
        b = np.array([float(x) for x in cur])
        if test == "ks":
            res = stats.ks_2samp(a, b, method="asymp")
            en = len(a) * len(b) / (len(a) + len(b))
            out["statistic"] = float(res.statistic)
            # The limiting Kolmogorov distribution (verdict's p-value) and,
            # for the record, scipy's own asymp and default (auto) p-values.
            out["p_value"] = float(stats.kstwobign.sf(np.sqrt(en) * res.statistic))
            out["scipy_asymp_p"] = float(res.pvalue)
            out["scipy_auto_p"] = float(stats.ks_2samp(a, b).pvalue)
        else:
            d = stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)
            out["statistic"] = out["distance"] = float(d)
        edges = np.quantile(a, [k / 10 for k in range(1, 10)])
        rc = np.bincount(np.searchsorted(edges, a, side="left"), minlength=10) / len(a)
        cc = np.bincount(np.searchsorted(edges, b, side="left"), minlength=10) / len(b)
        out["psi"] = psi(fill(rc), fill(cc))
    else:
        keys, r, c = shares(ref, cur)
        nr, nc = r.sum(), c.sum()
        if test == "chisquare":
            res = stats.chisquare(c, r * nc / nr)
            out["statistic"] = float(res.statistic)
            out["p_value"] = float(res.pvalue)
        elif test == "z":
            # keys[0] is "0", every other key "1" (Evidently's mapping).
            k1, k2 = r[1:].sum(), c[1:].sum()
            p = (k1 + k2) / (nr + nc)
            z = (k1 / nr - k2 / nc) / np.sqrt(p * (1 - p) * (1 / nr + 1 / nc))
            out["statistic"] = float(z)
            out["p_value"] = float(2 * stats.norm.sf(abs(z)))
        elif test == "jensenshannon":
            d = distance.jensenshannon(fill(r / nr), fill(c / nc))
            out["statistic"] = out["distance"] = float(d)
        out["psi"] = psi(fill(r / nr), fill(c / nc))
    print(json.dumps(out))


main()
