"""MNIST-1D single fits: how much of consistency training is the pool, how much the epochs?

For each seed, 500 random training samples are labeled and the other 3500 are the pool; the
benchmark's MNIST-1D CNN (``shift_augment=10``) is fitted three ways and scored on the test
set: the labels with the protocol's 75 epochs (Keras' own loop); ``ConsistencyTraining(
epochs=450, weight=0)`` -- the consistency loop for 450 epochs on the labels alone; and
``ConsistencyTraining(epochs=450)`` -- the same with the pool. One TensorFlow thread.
Prints a table and writes ``results/mnist1d_consistency_fits.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import label_efficiency as le  # noqa: E402

N_LABELED, SEEDS, EPOCHS = 500, (0, 1, 2), 450


def fits(seed: int, data) -> dict:
    from skal import CNNClassifier
    from skal.semi_supervised import ConsistencyTraining

    X, X_test, y, y_test = data
    labeled = np.random.default_rng(seed).choice(len(X), N_LABELED, replace=False)
    pool = np.setdiff1d(np.arange(len(X)), labeled)
    epochs, params = le.training_of("mnist1d", None, {})
    ways = {"labels, 75 epochs": {},
            f"labels, {EPOCHS} epochs (loop, weight=0)": {
                "X_unlabeled": X[pool],
                "consistency": ConsistencyTraining(epochs=EPOCHS, weight=0.0)},
            f"labels + pool, {EPOCHS} epochs": {
                "X_unlabeled": X[pool], "consistency": ConsistencyTraining(epochs=EPOCHS)}}
    out = {}
    for name, kwargs in ways.items():
        start = time.perf_counter()
        cnn = CNNClassifier(epochs=epochs, random_state=seed, **params)
        cnn.fit(X[labeled], y[labeled], **kwargs)
        out[name] = {"accuracy": float((cnn.predict(X_test) == y_test).mean()),
                     "seconds": time.perf_counter() - start}
        print(f"seed {seed} {name:38s} {out[name]['accuracy']:.3f} "
              f"({out[name]['seconds']:.0f} s)", flush=True)
    return out


def main() -> int:
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    data = le.load("mnist1d")
    results = {seed: fits(seed, data) for seed in SEEDS}
    print("\n| fit | " + " | ".join(f"seed {s}" for s in SEEDS) + " | s (mean) |")
    print("|---|" + "---:|" * (len(SEEDS) + 1))
    for name in results[SEEDS[0]]:
        cells = " | ".join(f"{results[s][name]['accuracy']:.3f}" for s in SEEDS)
        secs = np.mean([results[s][name]["seconds"] for s in SEEDS])
        print(f"| {name} | {cells} | {secs:.0f} |")
    out = HERE / "results" / "mnist1d_consistency_fits.json"
    out.write_text(json.dumps({"n_labeled": N_LABELED, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
