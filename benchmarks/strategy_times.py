"""Query time of every registered strategy on a 10k-sample digits pool, relative to entropy.

The model is the default ``CNNClassifier()`` fitted on 300 digits; the pool is the digits
tiled to 10 000 samples plus small Gaussian noise (so no two samples are identical). Each
strategy queries once to warm up (tracing of Keras functions), then ``--repeats`` times;
the median is reported, for batches of 10 and of 100.

``"auto"`` picks by the regime, so it is timed twice: fitted on the 300 digits (30 labels a
class: diverse margin) and, beside its components, on 20 (2 a class: ProbCover after checking
that label spreading over the pool's embedding recovers the labels, else random).

Run: ``.venv/bin/python benchmarks/strategy_times.py`` (about 2 minutes on 2 CPU cores).
Writes ``benchmarks/results/strategy_times.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skal import ActiveLearningClassifier, CNNClassifier  # noqa: E402
from skal.strategies import STRATEGIES, Committee  # noqa: E402

OUT = Path(__file__).parent / "results" / "strategy_times.json"


LOW_LABELS = 20
LOW_STRATEGIES = ("random", "probcover", "diverse_margin", "auto")


def make_data(n_pool: int, seed: int = 0):
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    train = order[:300]
    rest = X[order[300:]]
    reps = -(-n_pool // len(rest))
    pool = np.tile(rest, (reps, 1))[:n_pool]
    pool = np.clip(pool + rng.normal(0, 0.02, pool.shape), 0, 1).astype(np.float32)
    return X[train], y[train], pool


def time_query(learner, strategy, pool, n_instances, repeats):
    learner.set_params(query_strategy=strategy)
    learner.query(pool, n_instances)  # warm-up: traces Keras functions
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        learner.query(pool, n_instances)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_strategies(learner, strategies, pool, repeats, note=""):
    """One row per strategy: median seconds of a query of 10 and of 100."""
    rows = []
    for label, strategy in strategies.items():
        n = 1 if isinstance(strategy, Committee) else repeats
        t10 = time_query(learner, strategy, pool, 10, n)
        t100 = time_query(learner, strategy, pool, 100, n)
        rows.append({"strategy": label, "seconds_10": t10, "seconds_100": t100})
        print(f"  {label}{note}: {t10:.3f}s", flush=True)
    return rows


def print_rows(rows):
    for r in rows:
        print(f"{r['strategy']:<24}{r['seconds_10']:>9.3f}{r['relative_10']:>11.2f}"
              f"{r['seconds_100']:>10.3f}{r['relative_100']:>11.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-committee", action="store_true",
                        help="skip the bootstrap committee (it fits 5 CNNs per query)")
    args = parser.parse_args(argv)

    X, y, pool = make_data(args.n_pool)
    start = time.perf_counter()
    learner = ActiveLearningClassifier(CNNClassifier(random_state=0), random_state=0).fit(X, y)
    fit_time = time.perf_counter() - start

    strategies = {name: name for name in STRATEGIES}
    if not args.no_committee:
        strategies["Committee(n_members=5)"] = Committee("vote_entropy", n_members=5)
    rows = time_strategies(learner, strategies, pool, args.repeats)
    low = ActiveLearningClassifier(CNNClassifier(random_state=0), random_state=0).fit(
        X[:LOW_LABELS], y[:LOW_LABELS])
    low_rows = time_strategies(low, {name: name for name in LOW_STRATEGIES}, pool,
                               args.repeats, note=f" at {LOW_LABELS} labels")
    base = next(r for r in rows if r["strategy"] == "entropy")
    for r in rows + low_rows:
        r["relative_10"] = r["seconds_10"] / base["seconds_10"]
        r["relative_100"] = r["seconds_100"] / base["seconds_100"]

    print(f"\nQuery time on a {args.n_pool}-sample digits pool, CNNClassifier() fitted on "
          f"{len(X)} digits in {fit_time:.1f}s (median of {args.repeats}):\n")
    print(f"{'strategy':<24}{'10 (s)':>9}{'x entropy':>11}{'100 (s)':>10}{'x entropy':>11}")
    print_rows(rows)
    print(f"\nFitted on {LOW_LABELS} digits (x entropy at 300 labels):\n")
    print_rows(low_rows)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "n_pool": args.n_pool,
        "n_train": len(X),
        "repeats": args.repeats,
        "fit_seconds": fit_time,
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count()},
        "results": rows,
        "low_labels": LOW_LABELS,
        "low_label_results": low_rows,
    }, indent=2))
    print(f"\nwrote {OUT}")


if __name__ == "__main__":
    main()
