#!/usr/bin/python3
# train-python.py: trains the model `verdict train` trained, with Python
# XGBoost, so test_train.c can compare the validation metric.
#
# Usage: train-python.py --data FILE --spec SPEC --target COL --split SPLIT
#            --rounds N [--early-stopping N] [--param KEY=VALUE ...]
#   FILE    the CSV or JSON data verdict trained on
#   SPEC    the spec verdict used (--spec-out of --infer-spec)
#   SPLIT   verdict's --split-out: {"train": [row indices], "valid": [...]}
# Prints one JSON object: metric, best_iteration, best_score, the
# validation metrics at the best iteration, and train_seconds (xgb.train's
# wall time alone, for tests/bench/train).
#
# The features are computed here from the spec, independently of verdict's
# C code (datetime parts come from train-reference.py); the booster
# parameters are the ones verdict sets by default for the task (objective,
# eval_metric, seed 42, nthread = cores) plus --param.
import argparse
import csv
import datetime
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("train_reference",
                                               os.path.join(HERE, "train-reference.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

NAN = float("nan")


def load_rows(path):
    with open(path, newline="") as f:
        text = f.read()
    s = text.lstrip()
    if s.startswith("["):
        return json.loads(text)
    if s.startswith("{"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = []
    for r in csv.DictReader(text.splitlines()):
        rows.append({k: v for k, v in r.items() if v != ""})
    return rows


def text_of(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def parse_dt(v, fmt, tz):
    """A naive datetime in the spec's zone (tz: seconds east of UTC)."""
    if fmt is None:
        t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    else:
        t = datetime.datetime.strptime(v, fmt.replace("%T", "%H:%M:%S").replace("%F", "%Y-%m-%d"))
    if t.tzinfo is not None:
        t = (t.astimezone(datetime.timezone.utc) + datetime.timedelta(seconds=tz)).replace(tzinfo=None)
    return t


def tz_seconds(s):
    if s is None or s == "UTC":
        return 0
    sign = -1 if s[0] == "-" else 1
    return sign * (int(s[1:3]) * 3600 + int(s[4:6]) * 60)


def vector(spec, row):
    inputs = {i["name"]: i for i in spec["inputs"]}
    out = []
    for f in spec["features"]:
        inp = inputs[f["input"]]
        v = row.get(f["input"])
        if v is None:
            v = inp.get("default")
        tr = f.get("transform", "passthrough")
        if tr == "passthrough":
            if v is None:
                out.append(NAN)
            elif inp["type"] == "boolean":
                out.append(1.0 if v in (True, "true", "1", 1) else 0.0)
            else:
                out.append(float(v))
        elif tr == "one_hot":
            cats = f["categories"]
            other = inp.get("unknown", spec.get("unknown_category", "missing")) == "other"
            width = len(cats) + (1 if other else 0)
            if v is None:
                out.extend([NAN] * width)
                continue
            t = text_of(v)
            if t in cats:
                col = [0.0] * width
                col[cats.index(t)] = 1.0
            elif other:
                col = [0.0] * width
                col[-1] = 1.0
            else:
                col = [NAN] * width
            out.extend(col)
        elif tr in ("frequency", "ordinal"):
            out.append(NAN if v is None else float(f["map"].get(text_of(v), NAN)))
        elif tr == "datetime":
            if v is None:
                out.extend([NAN] * len(f["parts"]))
            else:
                t = parse_dt(v, inp.get("format"), tz_seconds(inp.get("timezone")))
                out.extend(float(x) for x in ref.dt_parts(t, f["parts"]))
        else:
            raise ValueError(tr)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--rounds", type=int, required=True)
    ap.add_argument("--early-stopping", type=int, default=0)
    ap.add_argument("--param", action="append", default=[])
    a = ap.parse_args()

    rows = load_rows(a.data)
    with open(a.spec) as f:
        spec = json.load(f)
    with open(a.split) as f:
        split = json.load(f)
    task = spec["task"]
    if task == "regression":
        params = {"objective": "reg:squarederror", "eval_metric": ["rmse", "mae"]}
        label = lambda v: float(v)
    elif task == "binary":
        params = {"objective": "binary:logistic", "eval_metric": ["logloss", "auc", "error"]}
        label = lambda v: spec["classes"].index(text_of(v))
    else:
        params = {"objective": "multi:softprob", "num_class": len(spec["classes"]),
                  "eval_metric": ["mlogloss", "merror"]}
        label = lambda v: spec["classes"].index(text_of(v))
    params.update({"seed": 42, "nthread": os.cpu_count()})
    for p in a.param:
        k, v = p.split("=", 1)
        params[k] = v.split(",") if k == "eval_metric" else v

    def matrix(idx):
        x = np.asarray([vector(spec, rows[i]) for i in idx], dtype=np.float32)
        y = np.asarray([label(rows[i][a.target]) for i in idx], dtype=np.float32)
        return xgb.DMatrix(x, label=y, missing=NAN)

    dtrain, dvalid = matrix(split["train"]), matrix(split["valid"])
    metrics = params["eval_metric"]
    history = {}
    callbacks = []
    if a.early_stopping > 0:
        callbacks.append(xgb.callback.EarlyStopping(rounds=a.early_stopping,
                                                    metric_name=metrics[0],
                                                    data_name="valid"))
    t0 = time.monotonic()
    bst = xgb.train(params, dtrain, num_boost_round=a.rounds,
                    evals=[(dtrain, "train"), (dvalid, "valid")],
                    evals_result=history, callbacks=callbacks, verbose_eval=False)
    train_seconds = time.monotonic() - t0
    n = len(history["valid"][metrics[0]])
    best = bst.best_iteration if a.early_stopping > 0 else n - 1
    json.dump({
        "metric": metrics[0],
        "rounds": n,
        "best_iteration": best,
        "best_score": history["valid"][metrics[0]][best],
        "valid": {m: history["valid"][m][best] for m in metrics},
        "train_seconds": train_seconds,
    }, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
