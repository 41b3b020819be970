"""When do the stopping criteria stop, against when the learning curve has flattened?

For each data set and seed, one margin-sampling campaign runs to its full budget while a
callback scores the model on held-out data and asks every criterion of ``skal.stopping``
(each a fresh copy, fed the same models) whether it would stop. The reference is the first
round whose test accuracy is within 1 point (0.01) of the campaign's final accuracy. A
criterion that stops earlier saves labels and gives up accuracy; one that stops later (or
never, within the budget) saves nothing. Honest protocol: random initial set.

Model: ``--model logreg`` (default; a minute for 5 seeds on both data sets) or ``cnn``
(``CNNClassifier()``, skal's default network; much slower). Digits: 20 -> 400 labels by 10;
MNIST-1D: 50 -> 1500 by 50. Prints a table, writes ``benchmarks/results/stopping.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
PROTOCOLS = {"digits": (20, 10, 400), "mnist1d": (50, 50, 1500)}


def criteria():
    from skal.stopping import MaxUncertainty, OverallUncertainty, StabilizingPredictions

    return {"stabilizing (kappa 0.99, 3 rounds)": StabilizingPredictions(),
            "overall uncertainty < 0.1": OverallUncertainty(),
            "max uncertainty < 0.5": MaxUncertainty()}


def model_of(name: str, seed: int):
    if name == "cnn":
        from skal import CNNClassifier

        return CNNClassifier(random_state=seed)
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500)


def one_campaign(dataset: str, seed: int, model: str) -> dict:
    from sklearn.base import clone

    from skal import ActiveLearningClassifier, Campaign
    from skal.datasets import load_digits_split, make_mnist1d

    X_tr, X_te, y_tr, y_te = (load_digits_split(test_size=0.3, random_state=0)
                              if dataset == "digits" else make_mnist1d())
    initial, step, budget = PROTOCOLS[dataset]
    watched = {name: clone(c) for name, c in criteria().items()}
    curve, stops = [], {name: None for name in watched}

    def watch(campaign):
        n = campaign.history_[-1]["n_labeled"]
        curve.append((n, float(campaign.estimator_.score(X_te, y_te))))
        for name, criterion in watched.items():
            signal = criterion.check(campaign.estimator_, campaign.X, random_state=seed)
            if signal.stop and stops[name] is None:
                stops[name] = n

    learner = ActiveLearningClassifier(
        model_of(model, seed), query_strategy="margin", initial_size=initial,
        n_instances=step, random_state=seed)
    Campaign(learner, X_tr, y_tr, callbacks=[watch]).run((budget - initial) // step)
    labels, accuracy = np.array([c[0] for c in curve]), np.array([c[1] for c in curve])
    flat = int(labels[np.argmax(accuracy >= accuracy[-1] - 0.01)])
    return {"dataset": dataset, "seed": seed, "labels": labels.tolist(),
            "accuracy": accuracy.tolist(), "flat_at": flat, "stops": stops}


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for dataset in sorted({r["dataset"] for r in runs}):
        mine = [r for r in runs if r["dataset"] == dataset]
        for name in criteria():
            at = [r["stops"][name] for r in mine]
            stopped = [(a, r) for a, r in zip(at, mine) if a is not None]
            given_up = [r["accuracy"][-1] - r["accuracy"][r["labels"].index(a)]
                        for a, r in stopped]
            rows.append({
                "dataset": dataset, "criterion": name, "seeds": len(mine),
                "stopped": len(stopped),
                "stop_labels": at, "flat_labels": [r["flat_at"] for r in mine],
                "mean_labels_vs_flat": (float(np.mean([a - r["flat_at"] for a, r in stopped]))
                                        if stopped else None),
                "mean_accuracy_given_up": float(np.mean(given_up)) if given_up else None,
            })
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["logreg", "cnn"], default="logreg")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", default="digits,mnist1d")
    parser.add_argument("--output", default=str(HERE / "results" / "stopping.json"))
    args = parser.parse_args(argv)
    start, runs = time.perf_counter(), []
    for dataset in args.datasets.split(","):
        for seed in range(args.seeds):
            runs.append(one_campaign(dataset, seed, args.model))
            print(f"[{dataset} seed {seed}] flat at {runs[-1]['flat_at']}, stops "
                  f"{runs[-1]['stops']}", file=sys.stderr, flush=True)
    rows = summarise(runs)
    print(f"\nmodel {args.model}, margin sampling, {args.seeds} seeds; 'flat': first round "
          "within 0.01 of the final test accuracy\n")
    print("| data | criterion | stopped | labels at stop (per seed) | flat at (per seed) | "
          "mean labels vs flat | mean accuracy given up |\n|---|---|---:|---|---|---:|---:|")
    for r in rows:
        vs, lost = r["mean_labels_vs_flat"], r["mean_accuracy_given_up"]
        print(f"| {r['dataset']} | {r['criterion']} | {r['stopped']}/{r['seeds']} | "
              f"{r['stop_labels']} | {r['flat_labels']} | "
              f"{'-' if vs is None else f'{vs:+.0f}'} | "
              f"{'-' if lost is None else f'{lost:.3f}'} |")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(
        {"model": args.model, "seeds": args.seeds, "rows": rows, "runs": runs,
         "seconds": time.perf_counter() - start}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
