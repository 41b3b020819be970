"""Multi-label active learning on digits: each multi-label strategy against random.

The labels of a digit are four facts about it: "is even", "is > 4", "is prime" and "has a
loop" (0, 4, 6, 8, 9) -- a 0/1 indicator y of shape (n, 4) with 7 distinct label sets (1
has none of the four; 3 only "is prime"). The model is
``OneVsRestClassifier(LogisticRegression())`` on the scaled pixels (CPU-cheap). Each
strategy runs one campaign per seed through ``ActiveLearningClassifier`` (initial 20 random
labels, then 10 per round to 300), and a callback scores every round's model on a held-out
30% split: micro-F1 and subset accuracy. Summary per strategy: the mean area under the
micro-F1 curve (AULC, normalised by the label range), labels to reach micro-F1 0.85, and a
one-sided Wilcoxon signed-rank p of "AULC greater than random's" over the paired seeds
(same initial set per seed).

Prints a table, writes ``benchmarks/results/multilabel.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
INITIAL, STEP, BUDGET, TARGET = 20, 10, 300, 0.85
STRATEGIES = ("random", "ml_entropy", "ml_binary_minimum", "ml_max_loss", "ml_mean_max_loss")
LABELS = ("even", "> 4", "prime", "loop")


def digit_labels(digit: np.ndarray) -> np.ndarray:
    """The (n, 4) 0/1 indicator of the four facts about each digit."""
    return np.column_stack([digit % 2 == 0, digit > 4, np.isin(digit, (2, 3, 5, 7)),
                            np.isin(digit, (0, 4, 6, 8, 9))]).astype(int)


def data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, digit = load_digits(return_X_y=True)
    X = X / 16.0
    return train_test_split(X, digit_labels(digit), test_size=0.3, random_state=0,
                            stratify=digit)


def model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(LogisticRegression(max_iter=1000))


def run(strategy: str, seed: int, split) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    from skal import ActiveLearningClassifier, Campaign

    X_tr, X_te, Y_tr, Y_te = split
    curve = {"labels": [], "f1_micro": [], "subset_accuracy": []}

    def score(campaign):
        Y_hat = campaign.estimator_.predict(X_te)
        curve["labels"].append(campaign.history_[-1]["n_labeled"])
        curve["f1_micro"].append(float(f1_score(Y_te, Y_hat, average="micro")))
        curve["subset_accuracy"].append(float(accuracy_score(Y_te, Y_hat)))

    learner = ActiveLearningClassifier(model(), query_strategy=strategy, initial_size=INITIAL,
                                       n_instances=STEP, random_state=seed)
    Campaign(learner, X_tr, Y_tr, callbacks=[score]).run((BUDGET - INITIAL) // STEP)
    return {"strategy": strategy, "seed": seed, **curve}


def summarise(runs: list[dict]) -> dict:
    from scipy.stats import wilcoxon

    from skal.metrics import area_under_learning_curve, labels_to_reach

    rows = {}
    for strategy in STRATEGIES:
        mine = sorted((r for r in runs if r["strategy"] == strategy), key=lambda r: r["seed"])
        aulc = [float(area_under_learning_curve(r["labels"], r["f1_micro"])) for r in mine]
        reach = [float(labels_to_reach(r["labels"], r["f1_micro"], TARGET)) for r in mine]
        rows[strategy] = {
            "aulc_f1_micro": aulc, "labels_to_f1_0.85": reach,
            "f1_micro_at_budget": [r["f1_micro"][-1] for r in mine],
            "subset_accuracy_at_budget": [r["subset_accuracy"][-1] for r in mine],
        }
    base = rows["random"]["aulc_f1_micro"]
    for strategy in STRATEGIES[1:]:
        mine = rows[strategy]["aulc_f1_micro"]
        rows[strategy]["p_aulc_greater_than_random"] = (
            float(wilcoxon(mine, base, alternative="greater").pvalue) if mine != base else 1.0)
    return rows


def table(rows: dict, seeds: int) -> str:
    def reach(values):
        finite = [v for v in values if np.isfinite(v)]
        shown = f"{np.mean(finite):.0f}" if finite else "-"
        return shown + ("" if len(finite) == len(values) else
                        f" ({len(values) - len(finite)} never)")

    lines = [
        f"digits, 4 labels ({', '.join(LABELS)}), OneVsRest(LogisticRegression), "
        f"{INITIAL} -> {BUDGET} labels by {STEP}, {seeds} paired seeds",
        "",
        "| strategy | AULC micro-F1 (mean) | labels to micro-F1 0.85 (mean) | micro-F1 @"
        f"{BUDGET} | subset acc. @{BUDGET} | one-sided Wilcoxon p (AULC > random) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for strategy, r in rows.items():
        p = r.get("p_aulc_greater_than_random")
        lines.append(
            f"| {strategy} | {np.mean(r['aulc_f1_micro']):.4f} | "
            f"{reach(r['labels_to_f1_0.85'])} | {np.mean(r['f1_micro_at_budget']):.3f} | "
            f"{np.mean(r['subset_accuracy_at_budget']):.3f} | "
            f"{'-' if p is None else f'{p:.3g}'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--output", default=str(HERE / "results" / "multilabel.json"))
    args = parser.parse_args(argv)
    split, start, runs = data(), time.perf_counter(), []
    for seed in range(args.seeds):
        for strategy in STRATEGIES:
            runs.append(run(strategy, seed, split))
            print(f"[seed {seed}] {strategy}: micro-F1 {runs[-1]['f1_micro'][-1]:.3f} at "
                  f"{runs[-1]['labels'][-1]}", file=sys.stderr, flush=True)
    rows = summarise(runs)
    print("\n" + table(rows, args.seeds))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(
        {"seeds": args.seeds, "initial": INITIAL, "step": STEP, "budget": BUDGET,
         "target_f1_micro": TARGET, "labels": LABELS, "rows": rows, "runs": runs,
         "seconds": time.perf_counter() - start}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
