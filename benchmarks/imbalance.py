"""Finding the rare classes: labels until every class has 3, and balanced accuracy.

A digits pool (the training split) is thinned so that class 8 is 2% of it and class 9 is
1%; the test split keeps every class, and is scored by balanced accuracy (the mean recall
over classes, which a model blind to a rare class cannot fake). For random sampling,
margin sampling and ``skal.strategies.RareClassSampling``, paired seeds (the same random
initial set of 20, honest protocol), +10 labels a round up to 300: the labels until every
class has at least 3, and the balanced accuracy at 50, 100, 200 and 300 labels.
Paired one-sided Wilcoxon p of RareClassSampling against each other column.

``--model logreg`` (default: seconds) or ``cnn`` (``CNNClassifier()``). Prints a table,
writes ``benchmarks/results/imbalance.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
BUDGETS = (50, 100, 200, 300)
INITIAL, STEP = 20, 10


def imbalanced_digits():
    from skal.datasets import load_digits_split

    X_tr, X_te, y_tr, y_te = load_digits_split(test_size=0.3, random_state=0)
    common = np.flatnonzero(y_tr < 8)
    n = len(common)  # class 8 at 2%, class 9 at 1% of the thinned pool
    n8, n9 = round(0.02 * n / 0.97), round(0.01 * n / 0.97)
    keep = np.r_[common, np.flatnonzero(y_tr == 8)[:n8], np.flatnonzero(y_tr == 9)[:n9]]
    return X_tr[keep], X_te, y_tr[keep], y_te


def strategies():
    from skal.strategies import RareClassSampling

    return {"random": "random", "margin": "margin", "rare_class": RareClassSampling()}


def run(name, strategy, data, seed, model):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score

    from skal import ActiveLearningClassifier, Campaign, CNNClassifier

    X_tr, X_te, y_tr, y_te = data
    estimator = CNNClassifier(random_state=seed) if model == "cnn" else \
        LogisticRegression(max_iter=500)
    curve = {}

    def score(campaign):
        n = campaign.history_[-1]["n_labeled"]
        curve[n] = float(balanced_accuracy_score(y_te, campaign.estimator_.predict(X_te)))

    learner = ActiveLearningClassifier(estimator, query_strategy=strategy,
                                       initial_size=INITIAL, n_instances=STEP, random_state=seed)
    campaign = Campaign(learner, X_tr, y_tr, callbacks=[score]).run((BUDGETS[-1] - INITIAL) // STEP)
    labels = y_tr[campaign.labeled_indices_]
    counts = np.array([np.cumsum(labels == c) for c in np.unique(y_tr)])
    enough = np.flatnonzero((counts >= 3).all(axis=0))
    return {"name": name, "seed": seed, "labels_until_3_each": int(enough[0]) + 1
            if len(enough) else None, "balanced_accuracy": {b: curve.get(b) for b in BUDGETS},
            "rare_labels": {str(c): int((labels == c).sum()) for c in (8, 9)}}


def main(argv=None) -> int:
    from scipy.stats import wilcoxon

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["logreg", "cnn"], default="logreg")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--output", default=str(HERE / "results" / "imbalance.json"))
    args = parser.parse_args(argv)
    data, start = imbalanced_digits(), time.perf_counter()
    runs = [run(name, s, data, seed, args.model) for seed in range(args.seeds)
            for name, s in strategies().items()]
    by = {name: [r for r in runs if r["name"] == name] for name in strategies()}
    never = BUDGETS[-1] + STEP  # "not within the budget" ranks after every budget
    print(f"\ndigits pool of {len(data[2])} (8: {int((data[2] == 8).sum())}, 9: "
          f"{int((data[2] == 9).sum())}), model {args.model}, {args.seeds} paired seeds\n")
    print("| strategy | labels until 3 of each class (mean; per seed) | "
          + " | ".join(f"bal. acc. @{b}" for b in BUDGETS) + " | labels of 8 / 9 at 300 |")
    print("|---|---|" + "---:|" * len(BUDGETS) + "---|")
    rows = {}
    for name, mine in by.items():
        until = [r["labels_until_3_each"] or never for r in mine]
        accs = [float(np.mean([r["balanced_accuracy"][b] for r in mine])) for b in BUDGETS]
        rare = (np.mean([r["rare_labels"]["8"] for r in mine]),
                np.mean([r["rare_labels"]["9"] for r in mine]))
        rows[name] = {"until": until, "balanced_accuracy": accs, "rare_labels": rare}
        print(f"| {name} | {np.mean(until):.0f}; {until} | "
              + " | ".join(f"{a:.3f}" for a in accs) + f" | {rare[0]:.1f} / {rare[1]:.1f} |")
    for other in ("random", "margin"):
        a, b = rows["rare_class"]["until"], rows[other]["until"]
        p = wilcoxon(a, b, alternative="less").pvalue if a != b else 1.0
        rows[f"p_until_rare_class_vs_{other}"] = float(p)
        print(f"\nlabels until 3 of each: rare_class < {other}, one-sided Wilcoxon p = {p:.3g}")
    Path(args.output).write_text(json.dumps(
        {"model": args.model, "seeds": args.seeds, "rows": rows, "runs": runs,
         "seconds": time.perf_counter() - start}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
