"""MNIST-1D: does a deep-ensemble committee beat margin's 0.65x of random's labels?

``Committee("vote_entropy", n_members=5, bootstrap=False)``: five clones of the CNN, each
with its own initialisation, trained on the whole labeled set at every query (Beluch et
al. 2018). The same protocol, seeds and initial sets as ``label_efficiency.py``; random's
curves are read from its runs file (run it first). Prints one JSON line and writes
``benchmarks/results/mnist1d_ensemble.json``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import label_efficiency as le  # noqa: E402
from _efficiency_runner import init_worker  # noqa: E402
from _efficiency_tables import summarise  # noqa: E402

CFG = dict(le.DATASETS["mnist1d"], name="mnist1d")
RUNS = HERE / "results" / "label_efficiency_runs.jsonl"


def campaign(seed: int):
    from skal import ActiveLearningClassifier, CNNClassifier
    from skal.evaluation import campaign_scores
    from skal.strategies import Committee

    X_tr, X_te, y_tr, y_te = le.load("mnist1d")
    n_queries = (CFG["budget"] - CFG["initial"]) // CFG["step"]
    learner = ActiveLearningClassifier(
        CNNClassifier(random_state=seed),
        query_strategy=Committee("vote_entropy", n_members=5, bootstrap=False),
        initial_size=CFG["initial"], n_instances=CFG["step"], n_queries=n_queries,
        random_state=seed,
    )
    t0 = time.perf_counter()
    n, s, fitted = campaign_scores(learner, X_tr, y_tr, X_te, y_te)
    wall = time.perf_counter() - t0
    return (seed, np.asarray(n).tolist(), np.asarray(s).tolist(), wall / n_queries,
            sorted(map(int, fitted.labeled_indices_[: CFG["initial"]])))


def main() -> int:
    random = {}
    for line in RUNS.read_text().splitlines():
        rec = json.loads(line)
        if rec["dataset"] == "mnist1d" and rec["name"] == "random" and rec["threads"] == 1:
            random[rec["seed"]] = rec
    seeds = sorted(random)[: CFG["seeds"]]
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"),
                             initializer=init_worker, initargs=(1,)) as pool:
        results = list(pool.map(campaign, seeds))
    curves = {name: {"scores": [], "round_seconds": []} for name in ("random", "ensemble")}
    for seed, n, scores, per_round, initial in results:
        assert initial == sorted(random[seed]["initial"]), f"seed {seed}: unpaired"
        for name, sc, sec in (("ensemble", scores, per_round),
                              ("random", random[seed]["scores"], random[seed]["round_seconds"])):
            curves[name]["n_labeled"] = n
            curves[name]["scores"].append(sc)
            curves[name]["round_seconds"].append(sec)
    for c in curves.values():
        c["scores"] = np.asarray(c["scores"]).T
    summary = summarise(curves, CFG)
    t = summary["targets"][0]
    e = summary["strategies"]["ensemble"]
    out = {"target": t, "seeds": seeds,
           "labels": np.minimum(e[f"labels_to_{t:.3f}"], summary["censored_at"]).tolist(),
           "ratio": e[f"ratio_{t:.3f}"], "p": e[f"p_{t:.3f}"],
           "aulc": float(np.mean(e["aulc"])),
           "round_seconds": float(np.mean(curves["ensemble"]["round_seconds"])),
           "mean_curve": np.round(curves["ensemble"]["scores"].mean(axis=1), 3).tolist()}
    print(json.dumps(out))
    (HERE / "results" / "mnist1d_ensemble.json").write_text(json.dumps(
        {**out, "curves": [r[2] for r in results]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
