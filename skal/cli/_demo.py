"""``skal demo``: simulated campaigns on the bundled digits data, a table and a plot."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["add_parser", "run"]

# random, skal's default strategy, and it with the best pool training measured on digits
# (honest protocol: the initial set is drawn without looking at a label)
DEMO_STRATEGIES = ("random", "auto", "auto+tsne_spreading")
#: pool training by name beyond ``skal.semi_supervised.SEMI_SUPERVISED``'s defaults:
#: "tsne_spreading" spreads 30 labels per label over a t-SNE map of the pool (at most 1000
#: a round), the configuration that needed fewest labels on digits (benchmarks/README.md)
POOL_PRESETS = {"tsne_spreading": ("label_spreading", {"embedding": "tsne", "max_ratio": 30.0,
                                                       "max_pseudo_labels": 1000})}


def _learner_options(name: str) -> dict:
    """``"strategy"`` or ``"strategy+pool_training"`` (a ``semi_supervised`` name or one of
    :data:`POOL_PRESETS`)."""
    from skal.semi_supervised import SEMI_SUPERVISED

    strategy, _, pool = name.partition("+")
    if pool in POOL_PRESETS:
        kind, options = POOL_PRESETS[pool]
        return {"query_strategy": strategy,
                "semi_supervised": SEMI_SUPERVISED[kind](**options)}
    if pool and pool not in SEMI_SUPERVISED:
        raise ValueError(f"--strategies: {name!r}: after '+' comes one of "
                         f"{sorted([*SEMI_SUPERVISED, *POOL_PRESETS])} (training on the pool), "
                         f"got {pool!r}.")
    return {"query_strategy": strategy, "semi_supervised": pool or None}


def run(args: argparse.Namespace) -> int:
    """Run the demo; the exit status."""
    from skal.datasets import load_digits_split
    from skal.evaluation import campaign_scores
    from skal.metrics import area_under_learning_curve

    start = time.perf_counter()
    X_train, X_test, y_train, y_test = load_digits_split(random_state=0)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    try:
        options = {name: _learner_options(name) for name in strategies}
    except ValueError as exc:
        print(f"skal demo: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    n_runs = len(strategies) * args.seeds
    run = 0
    for strategy in strategies:
        per_seed = []
        for seed in range(args.seeds):
            run += 1
            learner = _learner(args, options[strategy], seed)
            t0 = time.perf_counter()
            n_labeled, scores, _ = campaign_scores(learner, X_train, y_train, X_test, y_test)
            per_seed.append(scores)
            if not args.quiet:
                print(
                    f"[{run}/{n_runs}] {strategy:<20} seed {seed}: accuracy "
                    f"{scores[0]:.3f} -> {scores[-1]:.3f} with {n_labeled[-1]} labels "
                    f"({time.perf_counter() - t0:.1f}s)",
                    file=sys.stderr,
                    flush=True,
                )
        scores = np.column_stack(per_seed)
        results[strategy] = {
            "n_labeled": n_labeled.tolist(),
            "scores": scores.tolist(),
            "mean": scores.mean(axis=1).tolist(),
            "std": scores.std(axis=1).tolist(),
            "aulc": float(np.mean(area_under_learning_curve(n_labeled, scores))),
        }

    print(_table(results))
    wall = time.perf_counter() - start
    (out / "demo_results.json").write_text(
        json.dumps({"dataset": "digits", "seeds": args.seeds, "wall_time_s": wall,
                    "results": results}, indent=2)
    )
    png = out / "learning_curve.png"
    try:
        _plot(results, png)
        print(f"Wrote {out / 'demo_results.json'} and {png} ({wall:.0f}s).")
    except ImportError:
        print(f"Wrote {out / 'demo_results.json'} ({wall:.0f}s); pip install matplotlib "
              "for the plot.")
    return 0


def _learner(args: argparse.Namespace, options: dict, seed: int):
    """One column's learner: the CNN, the column's strategy and pool training, the budget."""
    from skal import ActiveLearningClassifier
    from skal.keras import CNNClassifier

    return ActiveLearningClassifier(
        CNNClassifier(epochs=args.epochs, random_state=seed), **options,
        n_queries=args.n_queries, n_instances=args.n_instances,
        initial_size=args.initial_size, random_state=seed,
    )


def _table(results: dict[str, dict]) -> str:
    names = list(results)
    n_labeled = results[names[0]]["n_labeled"]
    head = "labels | " + " | ".join(f"{n:>20}" for n in names)
    lines = ["Test accuracy (mean over seeds) on digits", head, "-" * len(head)]
    for i, n in enumerate(n_labeled):
        lines.append(f"{n:>6} | " + " | ".join(f"{results[s]['mean'][i]:>20.3f}" for s in names))
    lines.append("  AULC | " + " | ".join(f"{results[s]['aulc']:>20.3f}" for s in names))
    return "\n".join(lines)


def _plot(results: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from skal.plotting import ActiveLearningCurveDisplay

    display = ActiveLearningCurveDisplay.from_results(
        {k: (np.asarray(v["n_labeled"]), np.asarray(v["scores"])) for k, v in results.items()},
        score_name="Test accuracy",
    )
    display.ax_.set_title("Active learning on digits (CNN)")
    display.figure_.savefig(path, dpi=120, bbox_inches="tight")


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``skal demo`` on the ``skal`` sub-command parser ``sub``."""
    demo = sub.add_parser(
        "demo",
        help="simulated campaigns on the bundled digits data",
        description=(
            "Run simulated active-learning campaigns with a small CNN on scikit-learn's "
            "digits (70/30 split), for several strategies and seeds; print a table of test "
            "accuracy against the number of labels, and write demo_results.json and "
            "learning_curve.png to --output."
        ),
    )
    demo.add_argument("--strategies", default=",".join(DEMO_STRATEGIES),
                      help="comma-separated strategy names, each optionally +pool training "
                           "(pseudo_labels, label_spreading, consistency, tsne_spreading) "
                           "(default: %(default)s)")
    demo.add_argument("--seeds", type=int, default=2, help="seeds per strategy (default: 2)")
    demo.add_argument("--initial-size", type=int, default=20,
                      help="initial labels (default: 20)")
    demo.add_argument("--n-instances", type=int, default=20,
                      help="labels queried per round (default: 20)")
    demo.add_argument("--n-queries", type=int, default=5, help="rounds (default: 5)")
    demo.add_argument("--epochs", type=int, default=25,
                      help="CNN training epochs per fit (default: 25)")
    demo.add_argument("--output", default="skal-demo-output",
                      help="output folder (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no per-campaign progress lines")
    demo.set_defaults(func=run)
    return demo
