"""What training on the unlabeled pool costs a round, against a round on the labels alone.

One campaign round (query of ``step`` random samples, choosing the pseudo-labels, refit from
scratch) at several label counts, for each ``semi_supervised`` option, with each data set's
CNN training from ``label_efficiency.py`` (digits: the default CNN; MNIST-1D: 75 epochs,
``shift_augment=10``). The round is the learner's second (``n_queries=1``): the previous
model exists, as in every round of a campaign but the first. Time = the round's
``query_time + fit_time`` from ``history_`` (``fit_time`` includes choosing the pseudo-labels);
``first_fit_seconds`` is the first fit's, which for ``+tsne_spreading`` includes computing
the t-SNE map that later rounds reuse.

Run: ``.venv/bin/python benchmarks/pool_training_cost.py`` (about 10 minutes on 2 cores;
``--datasets digits`` about 1); ``--repeats 3`` reports the median of 3 rounds;
``--options none,+wide_spreading`` measures only those. TensorFlow runs on one thread, as in
``label_efficiency.py --jobs 2``. Writes ``benchmarks/results/pool_training_cost.json``, where
what it measured replaces the same rows of an earlier run and keeps the others.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).parent))

import label_efficiency as le  # noqa: E402

OUT = Path(__file__).parent / "results" / "pool_training_cost.json"
# label counts at the start, middle and end of each data set's standard protocol
LABELS = {"digits": (50, 150, 290), "mnist1d": (300, 1000, 1900)}
STEP = {"digits": 10, "mnist1d": 100}
OPTIONS = ("none", "+pseudo", "+spreading", "+model_spreading", "+wide_spreading",
           "+capped_spreading", "+tsne_spreading", "+consistency")


def one_round(dataset: str, data, n_labeled: int, option: str, seed: int = 0) -> dict:
    """Seconds of the round after the first, and its pseudo-labels, for one option."""
    from skal import ActiveLearningClassifier

    X_tr, _, y_tr, _ = data
    epochs, params = le.training_of(dataset, None, {})
    learner = ActiveLearningClassifier(
        le.make_cnn(dataset, seed, epochs, params), query_strategy="random",
        initial_size=n_labeled, n_instances=STEP[dataset], n_queries=1, random_state=seed,
        semi_supervised=le.semi_supervised_of(le.POOL_TRAINING.get(option)),
    ).fit(X_tr, y_tr)
    row = learner.history_[-1]
    return {"seconds": row["query_time"] + row["fit_time"],
            "n_labeled": row["n_labeled"], "n_pseudo_labeled": row["n_pseudo_labeled"],
            "first_fit_seconds": learner.history_[0]["fit_time"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits,mnist1d")
    parser.add_argument("--repeats", type=int, default=1, help="median of this many rounds")
    parser.add_argument("--options", default=",".join(OPTIONS),
                        help="comma-separated, of " + ", ".join(OPTIONS))
    parser.add_argument("--output", default=str(OUT))
    args = parser.parse_args(argv)
    options = args.options.split(",")
    if "none" not in options or set(options) - set(OPTIONS):
        parser.error(f"--options: 'none' and any of {OPTIONS}, got {args.options!r}")
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    output = Path(args.output)
    report = json.loads(output.read_text()) if output.exists() else {"results": {}}
    report.update(machine=platform.processor() or platform.machine(), cpus=os.cpu_count())
    for dataset in args.datasets.split(","):
        data = le.load(dataset)
        rows = report["results"].setdefault(dataset, [])
        for n in LABELS[dataset]:
            for option in options:
                runs = [one_round(dataset, data, n, option) for _ in range(args.repeats)]
                seconds = statistics.median(r["seconds"] for r in runs)
                result = {"labels": n, "option": option, **runs[0], "seconds": seconds}
                rows[:] = [r for r in rows if (r["labels"], r["option"]) != (n, option)]
                rows.append(result)
                print(f"{dataset:8s} {n:5d} labels {option:17s} {result['seconds']:7.2f} s "
                      f"({result['n_pseudo_labeled']} pseudo-labels; first fit "
                      f"{result['first_fit_seconds']:.2f} s)", flush=True)
    output.write_text(json.dumps(report, indent=1))
    print()
    print("| data | labels | " + " | ".join(f"{o} (s)" for o in OPTIONS) + " | × none |")
    print("|---|---:|" + "---:|" * (len(OPTIONS) + 1))
    for dataset, rows in report["results"].items():
        for n in LABELS[dataset]:
            secs = {r["option"]: r["seconds"] for r in rows if r["labels"] == n}
            cells = " | ".join(f"{secs[o]:.2f}" if o in secs else "–" for o in OPTIONS)
            ratios = "/".join(f"{secs[o] / secs['none']:.1f}" if o in secs else "–"
                              for o in OPTIONS[1:])
            print(f"| {dataset} | {n} | {cells} | {ratios} |")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
