"""Active regression against random: learning curves (R² on a test split) and their AULC.

``skal.ActiveLearningRegressor`` on data that ships or is generated offline: Friedman #1
(``make_friedman1``, 10 features of which 5 matter, noise 1.0; a pool of 600, a test set
of 400) and scikit-learn's bundled ``load_diabetes`` (a pool of 300, a test set of 142,
split anew for each seed). Models: a Gaussian process (RBF + white noise, standardised
targets) with ``"variance"`` (its own ``return_std``: modAL's active_regression
strategy), ``"greedy"`` (iGS, Wu et al. 2019) and ``"random"``; and on Friedman #1 a tiny
Keras MLP (``skal.keras.KerasRegressor``, one hidden layer of 32 with dropout 0.2) with
``"variance"`` from 20 MC-dropout passes, ``"greedy"`` on its embedding and ``"random"``.
Paired seeds (the same random initial set of 10 for every strategy), +10 labels a round.
AULC: the normalised area under the R² curve (:func:`skal.metrics.area_under_learning_
curve`), and the one-sided paired Wilcoxon p that a strategy's AULC beats random's.

``--seeds`` (default 8; 5 for the Keras rows), ``--budget`` (default 100), ``--no-keras``.
Prints a table, writes ``benchmarks/results/regression.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
INITIAL, STEP = 10, 10
STRATEGIES = ("variance", "greedy", "random")


def dataset(name: str, seed: int):
    """``(X_pool, X_test, y_pool, y_test)``, features standardised on the pool."""
    from sklearn.datasets import load_diabetes, make_friedman1
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "friedman1":
        X, y = make_friedman1(1000, noise=1.0, random_state=seed)
        X_pool, X_test, y_pool, y_test = X[:600], X[600:], y[:600], y[600:]
    else:
        X, y = load_diabetes(return_X_y=True)
        X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=142,
                                                          random_state=seed)
    scaler = StandardScaler().fit(X_pool)
    return (scaler.transform(X_pool).astype(np.float32),
            scaler.transform(X_test).astype(np.float32), y_pool, y_test)


def gp():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel() * RBF(length_scale=np.ones(1) * 3.0,
                                    length_scale_bounds=(1e-2, 1e3)) + WhiteKernel()
    return GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)


def mlp(seed: int, n_features: int):
    import keras

    from skal.keras import KerasRegressor

    def build():
        model = keras.Sequential([
            keras.Input((n_features,)), keras.layers.Dense(32, activation="relu"),
            keras.layers.Dropout(0.2), keras.layers.Dense(1)])
        model.compile(keras.optimizers.Adam(0.01), "mse")
        return model

    return KerasRegressor(build, epochs=20, batch_size=16, min_train_steps=200, verbose=0,
                          random_state=seed)


def run(data_name: str, model: str, strategy: str, seed: int, budget: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import r2_score

    from skal import ActiveLearningRegressor, Campaign
    from skal.strategies import VarianceSampling

    X_pool, X_test, y_pool, y_test = dataset(data_name, seed)
    estimator = gp() if model == "gp" else mlp(seed, X_pool.shape[1])
    query = VarianceSampling(n_samples=20) if strategy == "variance" else strategy
    curve = {}

    def score(campaign):
        n = campaign.history_[-1]["n_labeled"]
        curve[n] = float(r2_score(y_test, campaign.estimator_.predict(X_test)))

    learner = ActiveLearningRegressor(estimator, query_strategy=query, initial_size=INITIAL,
                                      n_instances=STEP, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)  # the training-step floor's note
        Campaign(learner, X_pool, y_pool, callbacks=[score]).run((budget - INITIAL) // STEP)
    return {"data": data_name, "model": model, "strategy": strategy, "seed": seed,
            "curve": curve, "seconds": time.perf_counter() - start}


def summarise(runs: list[dict]) -> dict:
    from scipy.stats import wilcoxon

    from skal.metrics import area_under_learning_curve

    rows = {}
    for key in sorted({(r["data"], r["model"]) for r in runs}):
        mine = [r for r in runs if (r["data"], r["model"]) == key]
        by = {s: sorted((r for r in mine if r["strategy"] == s), key=lambda r: r["seed"])
              for s in STRATEGIES}
        aulc = {s: [area_under_learning_curve(list(map(int, r["curve"])),
                                              list(r["curve"].values())) for r in by[s]]
                for s in STRATEGIES}
        for s in STRATEGIES:
            final = [list(r["curve"].values())[-1] for r in by[s]]
            diff = np.subtract(aulc[s], aulc["random"])
            p = 1.0 if s == "random" or not diff.any() else float(
                wilcoxon(aulc[s], aulc["random"], alternative="greater").pvalue)
            rows[f"{key[0]}/{key[1]}/{s}"] = {
                "aulc_mean": float(np.mean(aulc[s])), "aulc": aulc[s],
                "final_r2_mean": float(np.mean(final)), "wins_vs_random": int((diff > 0).sum()),
                "p_vs_random": p, "seeds": len(by[s])}
    return rows


def print_table(rows: dict, budget: int) -> None:
    print(f"\n| data / model | strategy | AULC of R² ({INITIAL}..{budget} labels) | "
          f"R² at {budget} | seeds beating random | one-sided Wilcoxon p vs random |")
    print("|---|---|---:|---:|---:|---:|")
    for name, row in rows.items():
        data, model, strategy = name.split("/")
        p = "" if strategy == "random" else f"{row['p_vs_random']:.3g}"
        wins = "" if strategy == "random" else f"{row['wins_vs_random']}/{row['seeds']}"
        print(f"| {data} / {model} | {strategy} | {row['aulc_mean']:.3f} | "
              f"{row['final_r2_mean']:.3f} | {wins} | {p} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--keras-seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--output", default=str(HERE / "results" / "regression.json"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    plan = [(d, "gp", args.seeds) for d in ("friedman1", "diabetes")]
    if not args.no_keras:
        plan.append(("friedman1", "keras_mlp", args.keras_seeds))
    runs = [run(d, m, s, seed, args.budget) for d, m, n in plan for seed in range(n)
            for s in STRATEGIES]
    rows = summarise(runs)
    print_table(rows, args.budget)
    Path(args.output).write_text(json.dumps(
        {"initial": INITIAL, "step": STEP, "budget": args.budget, "rows": rows,
         "runs": runs, "seconds": time.perf_counter() - start}, indent=1, default=float))
    print(f"\n{time.perf_counter() - start:.0f} s; wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
