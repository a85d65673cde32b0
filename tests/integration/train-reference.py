#!/usr/bin/python3
# train-reference.py: trains XGBoost models in Python the way a user would
# elsewhere, on public data (vega-datasets), and writes for each one what
# test_crosscheck.c needs to check verdict against XGBoost itself.
#
# Usage: train-reference.py DATA_DIR OUT_DIR
#   DATA_DIR  the directory deploy/fetch-data vega-datasets prints
#   OUT_DIR   created if needed; gets manifest.json and one directory per model
#
# Per model, OUT_DIR/<name>/ holds:
#   model.json, model.ubj   the booster, saved by Python's Booster.save_model
#   spec.json               a verdict feature spec that builds the same
#                           feature vector this script trained on
#   rows.json               held-out raw rows (a JSON list of objects), rows
#                           the model never saw; some leave optional fields out,
#                           some carry timestamps with their own UTC offset
#   features.csv            their feature vectors, one row per line,
#                           "nan" = missing, %.9g (exact for float32)
#   features.libsvm         the same vectors for the xgboost CLI (0-based
#                           indices, missing values left out, label 0)
#   python-pred.txt         Python's predictions for those rows: one line per
#                           row, space-separated (multiclass: probabilities
#                           in class order), %.9g
#   truth.json              what really happened for those rows (a JSON list:
#                           the number, or the class label), for feedback tests
# manifest.json lists the models with task, classes, threshold, width.
#
# Only python3, numpy and xgboost (Debian: python3-xgboost). The features are
# computed here independently of verdict's C code: that is the point.
import csv
import datetime
import json
import math
import os
import sys

import numpy as np
import xgboost as xgb

NAN = float("nan")


def dt_parts(t, parts):
    """verdict's datetime parts of a naive datetime (local time of the spec's zone)."""
    out = []
    for p in parts:
        if p == "year":
            out.append(t.year)
        elif p == "month":
            out.append(t.month)
        elif p == "day":
            out.append(t.day)
        elif p == "hour":
            out.append(t.hour)
        elif p == "minute_of_day":
            out.append(t.hour * 60 + t.minute)
        elif p == "day_of_week":
            out.append(t.weekday())  # Monday = 0
        elif p == "day_of_year":
            out.append(t.timetuple().tm_yday)
        elif p == "is_weekend":
            out.append(1 if t.weekday() >= 5 else 0)
        else:
            raise ValueError(p)
    return out


def num(row, key):
    v = row.get(key)
    return NAN if v is None else float(v)


def write_model(out_dir, name, booster, spec, raw_rows, x_test, preds, manifest, truths):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump(truths, f)
    booster.save_model(os.path.join(d, "model.json"))
    booster.save_model(os.path.join(d, "model.ubj"))
    with open(os.path.join(d, "spec.json"), "w") as f:
        json.dump(spec, f, indent=1)
    with open(os.path.join(d, "rows.json"), "w") as f:
        json.dump(raw_rows, f)
    x32 = np.asarray(x_test, dtype=np.float32)
    with open(os.path.join(d, "features.csv"), "w") as f:
        for r in x32:
            f.write(",".join("nan" if math.isnan(v) else "%.9g" % v for v in r) + "\n")
    with open(os.path.join(d, "features.libsvm"), "w") as f:
        for r in x32:
            cols = ["%d:%.9g" % (i, v) for i, v in enumerate(r) if not math.isnan(v)]
            f.write(" ".join(["0"] + cols) + "\n")
    p = np.asarray(preds, dtype=np.float32)
    if p.ndim == 1:
        p = p.reshape(-1, 1)
    with open(os.path.join(d, "python-pred.txt"), "w") as f:
        for r in p:
            f.write(" ".join("%.9g" % v for v in r) + "\n")
    manifest.append({
        "name": name,
        "task": spec["task"],
        "classes": spec.get("classes", []),
        "threshold": spec.get("threshold", 0.5),
        "width": int(x32.shape[1]),
        "rows": int(x32.shape[0]),
        "outputs": int(p.shape[1]),
    })


def train(params, x, y, rounds):
    d = xgb.DMatrix(np.asarray(x, dtype=np.float32), label=np.asarray(y), missing=NAN)
    base = {"max_depth": 4, "eta": 0.15, "seed": 7, "nthread": 1}
    base.update(params)
    return xgb.train(base, d, num_boost_round=rounds)


def predict(booster, x):
    d = xgb.DMatrix(np.asarray(x, dtype=np.float32), missing=NAN)
    return booster.predict(d, output_margin=False)


# ---- seattle-weather.csv: NOAA daily weather, Seattle, 2012-2015 ----

def seattle(data_dir):
    with open(os.path.join(data_dir, "data", "seattle-weather.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k in ("precipitation", "temp_max", "temp_min", "wind"):
            r[k] = float(r[k])
    # Train on 2012-2014, hold out 2015.
    train_rows = [r for r in rows if r["date"] < "2015-01-01"]
    test_rows = [r for r in rows if r["date"] >= "2015-01-01"]
    return train_rows, test_rows


WEATHER = ["drizzle", "rain", "sun", "snow", "fog"]


def seattle_temp(data_dir, out_dir, manifest):
    """Regression: the day's maximum temperature from the date, the weather and the rest."""
    train_rows, test_rows = seattle(data_dir)
    parts = ["year", "month", "day_of_year", "day_of_week", "is_weekend"]

    def vec(r):
        t = datetime.datetime.strptime(r["date"], "%Y-%m-%d")
        return (dt_parts(t, parts) + [num(r, "precipitation"), num(r, "temp_min"),
                num(r, "wind")] + [1.0 if r["weather"] == c else 0.0 for c in WEATHER])

    x = [vec(r) for r in train_rows]
    y = [r["temp_max"] for r in train_rows]
    booster = train({"objective": "reg:squarederror"}, x, y, 60)
    # Clients leave optional fields out now and then: wind on every 9th row,
    # precipitation on every 13th (NaN for XGBoost, as verdict's policy says).
    raw = []
    for i, r in enumerate(test_rows):
        o = {"date": r["date"], "weather": r["weather"], "temp_min": r["temp_min"]}
        if i % 13 != 5:
            o["precipitation"] = r["precipitation"]
        if i % 9 != 4:
            o["wind"] = r["wind"]
        raw.append(o)
    xt = [vec(o) for o in raw]
    spec = {
        "description": "Seattle daily maximum temperature (vega-datasets seattle-weather)",
        "task": "regression",
        "inputs": [
            {"name": "date", "type": "datetime", "format": "%Y-%m-%d",
             "timezone": "-08:00", "required": True},
            {"name": "precipitation", "type": "number"},
            {"name": "temp_min", "type": "number", "required": True},
            {"name": "wind", "type": "number"},
            {"name": "weather", "type": "category", "required": True, "unknown": "error"},
        ],
        "features": [
            {"input": "date", "transform": "datetime", "parts": parts},
            {"input": "precipitation"},
            {"input": "temp_min"},
            {"input": "wind", "transform": "passthrough"},
            {"input": "weather", "transform": "one_hot", "categories": WEATHER},
        ],
    }
    write_model(out_dir, "seattle_temp", booster, spec, raw, xt, predict(booster, xt), manifest,
                [r["temp_max"] for r in test_rows])


def seattle_weather(data_dir, out_dir, manifest):
    """Multiclass: which of five kinds of weather, from the date and the measurements."""
    train_rows, test_rows = seattle(data_dir)
    parts = ["month", "day", "day_of_year"]

    def vec(r):
        # A date alone is midnight UTC; a timestamp with an offset is read in
        # UTC, the spec's zone (23:30-08:00 is 07:30 UTC the next day).
        t = datetime.datetime.fromisoformat(r["date"])
        if t.tzinfo is not None:
            t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return dt_parts(t, parts) + [num(r, k) for k in
                                     ("precipitation", "temp_max", "temp_min", "wind")]

    x = [vec(r) for r in train_rows]
    y = [WEATHER.index(r["weather"]) for r in train_rows]
    booster = train({"objective": "multi:softprob", "num_class": len(WEATHER)}, x, y, 25)
    raw = []
    for i, r in enumerate(test_rows):
        o = {k: r[k] for k in ("date", "precipitation", "temp_max", "temp_min", "wind")}
        if i % 11 == 3:
            del o["temp_min"]
        if i % 5 == 2:
            # Some clients send local timestamps with their offset; late in
            # the evening in Seattle is already the next day in UTC.
            o["date"] = "%sT%02d:%02d:00-08:00" % (o["date"], 12 + i % 12, (7 * i) % 60)
        raw.append(o)
    xt = [vec(o) for o in raw]
    spec = {
        "description": "Seattle weather kind (vega-datasets seattle-weather)",
        "task": "multiclass",
        "classes": WEATHER,
        "inputs": [
            # No format: ISO 8601, read in UTC.
            {"name": "date", "type": "datetime", "required": True},
            {"name": "precipitation", "type": "number", "required": True},
            {"name": "temp_max", "type": "number", "required": True},
            {"name": "temp_min", "type": "number"},
            {"name": "wind", "type": "number", "required": True},
        ],
        "features": [
            {"input": "date", "transform": "datetime", "parts": parts},
            {"input": "precipitation"},
            {"input": "temp_max"},
            {"input": "temp_min"},
            {"input": "wind"},
        ],
    }
    write_model(out_dir, "seattle_weather", booster, spec, raw, xt, predict(booster, xt),
                manifest, [r["weather"] for r in test_rows])


def flights_late(data_dir, out_dir, manifest):
    """Binary: is a flight more than 15 minutes late (BTS on-time data, 2001)."""
    with open(os.path.join(data_dir, "data", "flights-2k.json")) as f:
        rows = json.load(f)
    rows.sort(key=lambda r: r["date"])
    train_rows, test_rows = rows[:1600], rows[1600:]
    fmt = "%Y/%m/%d %H:%M"
    parts = ["month", "day", "hour", "minute_of_day", "day_of_week", "is_weekend"]
    counts = {}
    for r in train_rows:
        counts[r["origin"]] = counts.get(r["origin"], 0) + 1
    # The busiest origins get a column each; the rest share "other".
    top = sorted(counts, key=lambda k: (-counts[k], k))[:10]
    dest_counts = {}
    for r in train_rows:
        dest_counts[r["destination"]] = dest_counts.get(r["destination"], 0) + 1
    dests = sorted(dest_counts)
    freq = {k: dest_counts[k] / len(train_rows) for k in dests}
    ordinal = {k: i for i, k in enumerate(dests)}

    def vec(r):
        t = datetime.datetime.strptime(r["date"], fmt)
        o = r["origin"]
        d = r.get("destination")
        return (dt_parts(t, parts) + [float(r["distance"])] +
                [1.0 if o == c else 0.0 for c in top] + [0.0 if o in top else 1.0] +
                # An unseen destination is missing (NaN) for both encodings.
                [freq.get(d, NAN), ordinal.get(d, NAN)])

    x = [vec(r) for r in train_rows]
    y = [1 if r["delay"] > 15 else 0 for r in train_rows]
    booster = train({"objective": "binary:logistic", "max_depth": 5}, x, y, 40)
    raw = []
    for i, r in enumerate(test_rows):
        o = {k: r[k] for k in ("date", "distance", "origin", "destination")}
        if i % 17 == 6:
            del o["destination"]
        raw.append(o)
    xt = [vec(o) for o in raw]
    spec = {
        "description": "Flights more than 15 minutes late (vega-datasets flights-2k)",
        "task": "binary",
        "classes": ["on_time", "late"],
        "threshold": 0.5,
        "inputs": [
            {"name": "date", "type": "datetime", "format": fmt, "timezone": "UTC",
             "required": True},
            {"name": "distance", "type": "integer", "required": True},
            {"name": "origin", "type": "category", "required": True, "unknown": "other"},
            {"name": "destination", "type": "category", "unknown": "missing"},
        ],
        "features": [
            {"input": "date", "transform": "datetime", "parts": parts},
            {"input": "distance"},
            {"input": "origin", "transform": "one_hot", "categories": top},
            {"input": "destination", "transform": "frequency", "map": freq},
            {"input": "destination", "transform": "ordinal", "map": ordinal},
        ],
    }
    write_model(out_dir, "flights_late", booster, spec, raw, xt, predict(booster, xt), manifest,
                ["late" if r["delay"] > 15 else "on_time" for r in test_rows])


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: train-reference.py DATA_DIR OUT_DIR\n")
        return 2
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    manifest = []
    seattle_temp(data_dir, out_dir, manifest)
    seattle_weather(data_dir, out_dir, manifest)
    flights_late(data_dir, out_dir, manifest)
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"xgboost": xgb.__version__, "models": manifest}, f, indent=1)
    for m in manifest:
        print("train-reference: %s (%s): %d held-out rows, %d features" %
              (m["name"], m["task"], m["rows"], m["width"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
