#!/usr/bin/python3
"""make-predict-model.py: the models of tests/bench/run-predict (Debian's python3-xgboost, numpy).

    make-predict-model.py cancer-spec SPEC.json
        the feature spec of the FastAPI peer's booster (train.py: binary
        XGBClassifier on the breast-cancer table, 30 features f0..f29, classes
        in index order 0 = malignant, 1 = benign): 30 required "number" inputs
        named as the peer's predict.lua sends them, each a passthrough column.

    make-predict-model.py mixed BOOSTER.json SPEC.json
        a second binary model on synthetic flight data whose spec exercises the
        non-numeric transforms: three numbers, a category (one_hot) and an ISO
        8601 datetime (hour, day_of_week, month) -> 11 columns. The feature
        vector is built here exactly as spec.h describes (one_hot in the listed
        order, day_of_week Monday = 0), so verdict serves what was trained.

    make-predict-model.py score BOOSTER.json X0 X1 ...
        prints the booster's output for one row of raw feature values (xgboost's
        own inplace_predict): the reference a served prediction must equal.
"""
import datetime as dt
import json
import sys

CANCER_FEATURES = 30
ORIGINS = ["LAX", "JFK", "SFO", "ORD", "ATL"]
PARTS = ["hour", "day_of_week", "month"]


def cancer_spec():
    return {
        "description": "FastAPI peer's breast-cancer booster (tests/bench/run-predict)",
        "task": "binary",
        "classes": ["malignant", "benign"],
        "inputs": [{"name": f"f{i}", "type": "number", "required": True}
                   for i in range(CANCER_FEATURES)],
        "features": [{"input": f"f{i}"} for i in range(CANCER_FEATURES)],
    }


def mixed_spec():
    return {
        "description": "synthetic flights: numbers, a one_hot category, datetime parts (tests/bench/run-predict)",
        "task": "binary",
        "classes": ["on_time", "late"],
        "inputs": [
            {"name": "distance", "type": "number", "required": True},
            {"name": "passengers", "type": "number", "default": 120},
            {"name": "temperature", "type": "number"},
            {"name": "origin", "type": "category", "required": True},
            {"name": "departure", "type": "datetime", "required": True},
        ],
        "features": [
            {"input": "distance"},
            {"input": "passengers"},
            {"input": "temperature"},
            {"input": "origin", "transform": "one_hot", "categories": ORIGINS},
            {"input": "departure", "transform": "datetime", "parts": PARTS},
        ],
    }


def mixed_train(booster_path):
    import numpy as np
    import xgboost as xgb

    rng = np.random.default_rng(42)
    n = 5000
    distance = rng.uniform(100, 3000, n)
    passengers = rng.integers(20, 300, n).astype(float)
    temperature = rng.uniform(-15, 40, n)
    origin = rng.integers(0, len(ORIGINS), n)
    t0 = dt.datetime(2023, 1, 1, tzinfo=dt.timezone.utc)
    when = [t0 + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 2 * 365 * 24 * 60, n)]
    hour = np.array([w.hour for w in when], dtype=float)
    dow = np.array([w.weekday() for w in when], dtype=float)      # Monday = 0, as spec.h
    month = np.array([w.month for w in when], dtype=float)
    onehot = np.zeros((n, len(ORIGINS)))
    onehot[np.arange(n), origin] = 1
    X = np.column_stack([distance, passengers, temperature, onehot, hour, dow, month]).astype(np.float32)
    z = (0.0008 * distance - 0.004 * passengers + 0.05 * np.abs(temperature - 15)
         + 0.9 * (origin == 3) - 0.5 * (origin == 2) + 0.12 * np.abs(hour - 13)
         + 0.4 * (dow >= 5) + 0.6 * np.isin(month, [12, 1, 7]) - 2.5)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(np.float32)
    m = xgb.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.1, n_jobs=1)
    m.fit(X, y)
    m.save_model(booster_path)
    return X.shape


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def main(argv):
    if len(argv) == 3 and argv[1] == "cancer-spec":
        write_json(argv[2], cancer_spec())
    elif len(argv) == 4 and argv[1] == "mixed":
        shape = mixed_train(argv[2])
        write_json(argv[3], mixed_spec())
        print(f"mixed: trained {shape[0]} rows x {shape[1]} columns", file=sys.stderr)
    elif len(argv) > 3 and argv[1] == "score":
        import numpy as np
        import xgboost as xgb

        b = xgb.Booster()
        b.load_model(argv[2])
        x = np.array([[float(v) for v in argv[3:]]], dtype=np.float32)
        print("%.9g" % float(b.inplace_predict(x)[0]))
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
