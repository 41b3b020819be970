"""Time of one active-learning round (query + label + refit): skal against modAL.

A round is what a user waits for between two labeling batches. Same CNN everywhere (the
architecture of ``CNNClassifier``), trained 25 epochs from scratch every round with no step
floor (``min_train_steps=None``), so every library does the same training work; margin
sampling; digits, 100 initial labels (skal's stratified draw, shared), +10 per round, 10
rounds, 3 seeds. Three set-ups:

* ``skal``: ``ActiveLearningClassifier(CNNClassifier(...)).fit`` (simulated campaign);
* ``modAL + SciKeras``: modAL's ``ActiveLearner`` around SciKeras' own ``KerasClassifier``
  with the same model-building function: modAL as its users run a Keras model;
* ``modAL + skal's CNNClassifier``: modAL around skal's wrapper, which brings skal's faster
  prediction and refit with it.

modAL 0.4.2.1 needs the ``force_all_finite`` shim of ``label_efficiency.py``. Prints a table
and writes ``benchmarks/results/round_time.json``.
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
INITIAL, STEP, ROUNDS = 100, 10, 10


def skal_rounds(data, seed):
    from skal import ActiveLearningClassifier, CNNClassifier

    X_tr, X_te, y_tr, y_te = data
    learner = ActiveLearningClassifier(
        CNNClassifier(random_state=seed, min_train_steps=None), query_strategy="margin",
        initial_size=INITIAL, n_instances=STEP, n_queries=ROUNDS, random_state=seed,
    ).fit(X_tr, y_tr)
    times = [h["query_time"] + h["fit_time"] for h in learner.history_[1:]]
    return times, learner.score(X_te, y_te), learner.labeled_indices_[:INITIAL]


def modal_rounds(data, seed, initial, wrapper):
    from label_efficiency import _shim_modal
    from modAL.models import ActiveLearner
    from modAL.uncertainty import margin_sampling

    from skal import CNNClassifier

    _shim_modal()
    X_tr, X_te, y_tr, y_te = data
    if wrapper == "scikeras":
        from scikeras.wrappers import KerasClassifier

        def build(meta):  # the same network, built and trained by SciKeras itself
            return CNNClassifier()._keras_build_fn(meta)

        estimator = KerasClassifier(model=build, epochs=25, batch_size=32,
                                    random_state=seed, verbose=0)
    else:
        estimator = CNNClassifier(random_state=seed, min_train_steps=None)
    learner = ActiveLearner(estimator, query_strategy=margin_sampling,
                            X_training=X_tr[initial], y_training=y_tr[initial])
    labeled = np.zeros(len(X_tr), dtype=bool)
    labeled[initial] = True
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        pool = np.flatnonzero(~labeled)
        pos, _ = learner.query(X_tr[pool], n_instances=STEP)
        picked = pool[np.asarray(pos)]
        learner.teach(X_tr[picked], y_tr[picked])
        times.append(time.perf_counter() - t0)
        labeled[picked] = True
    return times, learner.score(X_te, y_te)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "results" / "round_time.json"))
    args = parser.parse_args(argv)
    from skal.datasets import load_digits_split

    data = load_digits_split(test_size=0.3, random_state=0)
    names = ["skal", "modAL + SciKeras", "modAL + skal's CNNClassifier"]
    rows = {n: {"round_seconds": [], "final_accuracy": []} for n in names}
    for seed in range(args.seeds):  # interleaved, so load changes hit every set-up alike
        times, acc, initial = skal_rounds(data, seed)
        rows["skal"]["round_seconds"] += times
        rows["skal"]["final_accuracy"].append(acc)
        for name, wrapper in [(names[1], "scikeras"), (names[2], "skal")]:
            times, acc = modal_rounds(data, seed, initial, wrapper)
            rows[name]["round_seconds"] += times
            rows[name]["final_accuracy"].append(acc)
        print(f"seed {seed} done", file=sys.stderr, flush=True)
    base = np.median(rows["skal"]["round_seconds"])
    print(f"\nOne round (margin query on the digits pool + 10 labels + refit, 25 epochs), "
          f"{args.seeds} seeds x {ROUNDS} rounds")
    print(f"{'set-up':<30} | median s/round | mean s/round | x skal | accuracy after")
    for name, r in rows.items():
        t = np.asarray(r["round_seconds"])
        r["median"], r["mean"] = float(np.median(t)), float(t.mean())
        r["ratio_to_skal"] = r["median"] / base
        print(f"{name:<30} | {r['median']:14.2f} | {r['mean']:12.2f} | "
              f"{r['ratio_to_skal']:6.2f} | {np.mean(r['final_accuracy']):.3f}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(
        {"initial": INITIAL, "step": STEP, "rounds": ROUNDS, "seeds": args.seeds,
         "setups": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
