"""Every classification strategy name on three kinds of model: accuracy after a short campaign.

The table #32 asks for: each registered name (``names_for_task("classification")``) runs a
campaign on

* ``cnn``: ``CNNClassifier()`` (defaults) on digits (8x8 images, 10 classes);
* ``logreg``: ``LogisticRegression(max_iter=1000)`` on the same digits, as flat rows;
* ``forest``: a DataFrame with two numeric columns and a city column, through
  ``ColumnTransformer(StandardScaler, OneHotEncoder)`` + ``RandomForestClassifier``, three
  string classes (the shape of a user's existing scikit-learn codebase).

Protocol: 20 labels drawn at random (the honest initial set), then 3 rounds of 10 labels,
accuracy on held-out rows after the last round; ``--seeds`` paired seeds (default 3). A cell
that cannot run holds the error's first line (it names the option that makes it run). The
regression names are not classification strategies: each gives an error naming
``query_strategy`` and the names that work (checked in tests/test_strategies_any_model.py).

    python benchmarks/strategy_models.py            # writes results/strategy_models.json
    python benchmarks/strategy_models.py --markdown # also a Markdown table
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
MODELS = ("cnn", "logreg", "forest")


def city_frame(n: int, seed: int):
    """Numeric columns a, b and a string column; classes north/east/west."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    city = rng.choice(["lyon", "paris", "nice"], n)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    y = np.where(city == "lyon", "north", np.where(a + b > 0, "east", "west"))
    return pd.DataFrame({"a": a, "b": b, "city": city}), y


def data_and_model(kind: str, seed: int):
    """(model, X_train, y_train, X_test, y_test) for one row of the table."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skal import CNNClassifier
    from skal.datasets import load_digits_split

    if kind == "forest":
        X, y = city_frame(1000, 0)
        encode = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                    ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])])
        model = Pipeline([("encode", encode),
                          ("forest", RandomForestClassifier(n_estimators=50,
                                                            random_state=seed))])
        return model, X.iloc[:700], y[:700], X.iloc[700:], y[700:]
    X_train, X_test, y_train, y_test = load_digits_split(random_state=0)
    if kind == "cnn":
        return CNNClassifier(random_state=seed), X_train, y_train, X_test, y_test
    flat = X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1)
    return LogisticRegression(max_iter=1000), flat[0], y_train, flat[1], y_test


def cell(kind: str, name: str, seed: int) -> dict:
    from skal import ActiveLearningClassifier

    model, X, y, X_test, y_test = data_and_model(kind, seed)
    learner = ActiveLearningClassifier(model, query_strategy=name, initial_size=20,
                                       n_instances=10, n_queries=3, random_state=seed)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learner.fit(X, y)
    except (ValueError, TypeError) as exc:
        return {"error": str(exc).splitlines()[0]}
    return {"accuracy": float(learner.score(X_test, y_test)),
            "seconds": time.perf_counter() - start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--output", default=str(HERE / "results" / "strategy_models.json"))
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from skal.strategies import names_for_task

    names = names_for_task("classification")
    models = [m for m in args.models.split(",") if m]
    table: dict[str, dict[str, dict]] = {}
    for name in names:
        table[name] = {}
        for kind in models:
            runs = [cell(kind, name, seed) for seed in range(args.seeds)]
            errors = [r["error"] for r in runs if "error" in r]
            if errors:
                table[name][kind] = {"error": errors[0]}
            else:
                acc = [r["accuracy"] for r in runs]
                table[name][kind] = {"accuracy": acc, "mean": float(np.mean(acc)),
                                     "seconds": float(np.mean([r["seconds"] for r in runs]))}
            shown = table[name][kind]
            print(f"{name:<18} {kind:<7} "
                  + (f"error: {shown['error'][:70]}" if "error" in shown else
                     f"{shown['mean']:.3f}  ({shown['seconds']:.1f} s)"), flush=True)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"protocol": "20 random labels + 3 rounds of 10",
                               "seeds": args.seeds, "table": table}, indent=1))
    if args.markdown:
        print("\n| strategy | " + " | ".join(models) + " |")
        print("|---|" + "---:|" * len(models))
        for name, row in table.items():
            cells = [f"{row[k]['mean']:.3f}" if "mean" in row[k] else "error" for k in models]
            print(f"| `{name}` | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
