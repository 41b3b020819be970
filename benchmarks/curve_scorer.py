"""What selecting strategies by learning curve costs: ``make_curve_scorer`` against accuracy.

The same ``GridSearchCV`` over ``query_strategy`` in {random, margin}, digits, the default
``CNNClassifier``, 20 initial labels + 10 rounds of 10, 3 folds, run twice:

* ``accuracy``: ``scoring="accuracy"`` (the final model of each campaign on the held-out fold);
* ``curve``: ``store_round_estimators=True`` and ``scoring=make_curve_scorer()`` (every
  round's model on the held-out fold, reduced to the AULC).

Also measured, in fresh subprocesses: the memory one kept round model costs (the peak RSS of
a campaign that keeps its round models minus one that does not, divided by its rounds) and
the pickled size of a round model. Prints a table and writes
``benchmarks/results/curve_scorer.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
ROUNDS, STEP, INITIAL = 10, 10, 20


def _data():
    import numpy as np
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32).reshape(-1, 8, 8, 1), y


def _learner(store: bool, rounds: int = ROUNDS):
    from skal import ActiveLearningClassifier, CNNClassifier

    return ActiveLearningClassifier(
        CNNClassifier(random_state=0), n_queries=rounds, n_instances=STEP,
        initial_size=INITIAL, random_state=0, store_round_estimators=store,
    )


def search(kind: str) -> dict:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from skal.metrics import make_curve_scorer

    X, y = _data()
    curve = kind == "curve"
    scoring = make_curve_scorer() if curve else "accuracy"
    start = time.perf_counter()
    grid = GridSearchCV(_learner(store=curve), {"query_strategy": ["random", "margin"]},
                        cv=StratifiedKFold(3), scoring=scoring, refit=False).fit(X, y)
    wall = time.perf_counter() - start
    res = grid.cv_results_
    return {"kind": kind, "seconds": wall, "mean_fit_time": res["mean_fit_time"].tolist(),
            "mean_score_time": res["mean_score_time"].tolist(),
            "mean_test_score": res["mean_test_score"].tolist()}


def memory(store: bool) -> dict:
    X, y = _data()
    learner = _learner(store).fit(X, y)
    out = {"store": store, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "rounds": len(learner.history_)}
    if store:
        sizes = [len(pickle.dumps(m)) / 2**20 for m in learner.round_estimators_]
        out["pickled_round_model_mb"] = sum(sizes) / len(sizes)
        model = learner.round_estimators_[-1].model_
        out["weights_mb"] = sum(w.nbytes for w in model.get_weights()) / 2**20
    return out


def _child(task: str, arg: str) -> dict:
    cmd = [sys.executable, __file__, "--child", task, arg]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--output", default=str(HERE / "results" / "curve_scorer.json"))
    args = parser.parse_args()
    if args.child:
        task, arg = args.child
        result = search(arg) if task == "search" else memory(arg == "store")
        print(json.dumps(result))
        return
    runs = {kind: _child("search", kind) for kind in ("accuracy", "curve")}
    mem = {key: _child("memory", key) for key in ("plain", "store")}
    per_round = (mem["store"]["peak_rss_mb"] - mem["plain"]["peak_rss_mb"]) / mem["store"]["rounds"]
    print("| scoring | search wall s | mean fit s | mean score s | score (random, margin) |")
    print("|---|---:|---:|---:|---|")
    for kind, r in runs.items():
        print(f"| {kind} | {r['seconds']:.1f} | {sum(r['mean_fit_time']) / 2:.2f} | "
              f"{sum(r['mean_score_time']) / 2:.3f} | "
              f"{', '.join(f'{s:.4f}' for s in r['mean_test_score'])} |")
    ratio = runs["curve"]["seconds"] / runs["accuracy"]["seconds"]
    print(f"\ncurve scorer / accuracy scorer wall time: {ratio:.2f}x")
    print(f"memory per kept round: {per_round:.2f} MB of peak RSS; pickled round model "
          f"{mem['store']['pickled_round_model_mb']:.3f} MB; weights "
          f"{mem['store']['weights_mb']:.3f} MB")
    out = {"runs": runs, "memory": mem, "rss_mb_per_round": per_round, "time_ratio": ratio}
    Path(args.output).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
