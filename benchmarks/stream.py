"""Stream-based selection on a drifting stream: each selector of skal.stream against random.

The stream, generated offline per seed: 3,000 samples of 8 features and 3 classes
(``make_classification``, one cluster per class); halfway, the concept changes abruptly --
the second half comes from another ``make_classification`` draw, shifted by 4 along a
random direction (new class regions where the old model is confidently wrong). A held-out
test set has 500 samples of each concept. Model: ``GaussianNB`` (seconds per run). Every
selector runs at budget 0.1 with ``skal.stream.simulate_stream`` (10 initial labels, one
sample at a time, a refit every 5 labels), under both budget accountings: the paper's
window of 100 (the default) and cumulative (``window=None``: every selector that wants
labels spends the same 10%). Paired seeds: seed ``s`` is the same stream for every
selector and the selector's ``random_state``.

Columns: labels spent; prequential accuracy (each sample predicted on arrival, before its
label; over the stream after the initial set, and after the drift alone); the last model's
test accuracy; AULC of test accuracy against labels spent. One-sided paired Wilcoxon p
that the selector beats random (prequential accuracy, AULC).

``python benchmarks/stream.py [--seeds 10]``: prints the tables, writes
``benchmarks/results/stream.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_HALF, N_TEST, BUDGET, SHIFT = 1500, 500, 0.1, 4.0
ACCOUNTINGS = {"window 100": 100, "cumulative": None}


def drifting_stream(seed: int):
    """(X_stream, y_stream, X_test, y_test): concept A, then concept B shifted away."""
    from sklearn.datasets import make_classification

    kw = dict(n_samples=N_HALF + N_TEST, n_features=8, n_informative=4, n_redundant=0,
              n_classes=3, n_clusters_per_class=1, class_sep=1.5)
    X_a, y_a = make_classification(random_state=1000 + seed, **kw)
    X_b, y_b = make_classification(random_state=2000 + seed, **kw)
    direction = np.random.default_rng(seed).normal(size=X_b.shape[1])
    X_b = X_b + SHIFT * direction / np.linalg.norm(direction)
    X = np.r_[X_a[:N_HALF], X_b[:N_HALF]]
    y = np.r_[y_a[:N_HALF], y_b[:N_HALF]]
    return X, y, np.r_[X_a[N_HALF:], X_b[N_HALF:]], np.r_[y_a[N_HALF:], y_b[N_HALF:]]


def one_run(name: str, window, seed: int, data) -> dict:
    from sklearn.naive_bayes import GaussianNB

    from skal.stream import resolve_selector, simulate_stream

    X, y, X_test, y_test = data
    selector = resolve_selector(name, budget=BUDGET).set_params(window=window,
                                                                 random_state=seed)
    start = time.perf_counter()
    result = simulate_stream(GaussianNB(), X, y, selector, initial=10, batch_size=1,
                             refit_every=5, X_test=X_test, y_test=y_test)
    return {"selector": name, "window": window, "seed": seed,
            "labels": int(result.asked.sum()),
            "prequential": float(np.nanmean(result.correct)),
            "prequential_after_drift": float(np.mean(result.correct[N_HALF:])),
            "final_test": float(result.test_accuracy[-1]), "aulc": result.aulc("test"),
            "curve": {"n_seen": result.n_seen.tolist(), "n_labels": result.n_labels.tolist(),
                      "test_accuracy": result.test_accuracy.tolist()},
            "seconds": time.perf_counter() - start}


def table(runs: list[dict], accounting: str) -> dict:
    from scipy.stats import wilcoxon

    from skal.stream import SELECTORS

    mine = [r for r in runs if r["window"] == ACCOUNTINGS[accounting]]
    by = {name: sorted((r for r in mine if r["selector"] == name), key=lambda r: r["seed"])
          for name in SELECTORS}
    print(f"\n### budget {BUDGET}, accounting: {accounting}, {len(by['random'])} paired seeds\n")
    print("| selector | labels | prequential acc. | after drift | final test acc. | AULC "
          "(test) | p prequential > random | p AULC > random |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = {}
    for name, rs in by.items():
        row = {k: float(np.mean([r[k] for r in rs])) for k in
               ("labels", "prequential", "prequential_after_drift", "final_test", "aulc")}
        for key in ("prequential", "aulc"):
            a = [r[key] for r in rs]
            b = [r[key] for r in by["random"]]
            row[f"p_{key}"] = None if name == "random" or a == b else \
                float(wilcoxon(a, b, alternative="greater").pvalue)
        rows[name] = row
        ps = " | ".join("--" if row[f"p_{k}"] is None else f"{row[f'p_{k}']:.3g}"
                        for k in ("prequential", "aulc"))
        print(f"| {name} | {row['labels']:.0f} | {row['prequential']:.3f} | "
              f"{row['prequential_after_drift']:.3f} | {row['final_test']:.3f} | "
              f"{row['aulc']:.3f} | {ps} |")
    return rows


def main(argv=None) -> int:
    from skal.stream import SELECTORS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--output", default=str(HERE / "results" / "stream.json"))
    args = parser.parse_args(argv)
    start, runs = time.perf_counter(), []
    for seed in range(args.seeds):
        data = drifting_stream(seed)
        runs += [one_run(name, window, seed, data) for window in ACCOUNTINGS.values()
                 for name in SELECTORS]
        print(f"seed {seed} done ({time.perf_counter() - start:.0f} s)", flush=True)
    tables = {accounting: table(runs, accounting) for accounting in ACCOUNTINGS}
    Path(args.output).write_text(json.dumps(
        {"budget": BUDGET, "seeds": args.seeds, "model": "GaussianNB", "tables": tables,
         "runs": runs, "seconds": time.perf_counter() - start}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
