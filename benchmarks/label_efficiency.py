"""Label efficiency: how many labels does each strategy need, against random and the peers?

Protocol (paired seeds): for each seed, every strategy and every peer starts from the same
initial labeled set and the same model initialisation (``CNNClassifier(random_state=seed)``),
and is scored on one fixed held-out test set after every round.

* digits (8x8, 2-D CNN): 20 initial labels, +10 per round, budget 300, 10 seeds.
* MNIST-1D (generated offline, 4000 train / 1000 test, 1-D CNN): 100 initial, +100 per
  round, budget 2000, 5 seeds.

Each data set has its own CNN training (``TRAINING``, the same for every strategy and peer,
full or ``--quick``): digits trains the default ``CNNClassifier`` for 25 epochs; MNIST-1D
trains 75 epochs with ``shift_augment=10`` (its digits are placed by circular
translation; with the default CNN, random sampling's accuracy at 2000 labels was 0.910 and
the best strategy needed 0.65x random's labels, with this training 0.946 and 0.53x; see
``benchmarks/README.md``). ``--epochs`` and ``--cnn-params`` override both data sets.

Peers, same CNN, same seeds, same initial sets: modAL's ``ActiveLearner`` (entropy, margin,
uncertainty sampling) and scikit-activeml's ``UncertaintySampling`` (entropy). modAL 0.4.2.1
calls ``check_X_y(force_all_finite=...)``, which scikit-learn >= 1.8 removed; a shim below
renames the argument to ``ensure_all_finite`` (nothing else is changed).

Run ``python benchmarks/label_efficiency.py`` (full) or ``--quick`` (2 seeds, short budgets);
``--jobs 2`` runs two campaigns at once, each process on one TensorFlow thread. Each finished
campaign is appended to ``..._runs.jsonl`` beside the JSON, and a rerun skips those already
there, so an interrupted run resumes where it stopped. Writes
``benchmarks/results/label_efficiency[_quick].json`` and ``.png`` and prints tables.
This file defines the protocols and campaigns; ``_efficiency_runner.py`` runs and records
them, ``_efficiency_tables.py`` summarises them.
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
sys.path.insert(0, str(HERE))
import _efficiency_runner as runner  # noqa: E402
import _efficiency_tables as tables  # noqa: E402

DATASETS = {
    "digits": {"initial": 20, "step": 10, "budget": 300, "seeds": 10, "targets": [0.90, 0.95]},
    "mnist1d": {"initial": 100, "step": 100, "budget": 2000, "seeds": 5, "targets": None},
}
# Low budgets (issue 17): where uncertainty sampling is known to lose to random.
LOW = {
    "digits": {"initial": 10, "step": 10, "budget": 100, "seeds": 10, "targets": [0.80, 0.85]},
    "mnist1d": {"initial": 20, "step": 20, "budget": 300, "seeds": 10, "targets": None},
}
QUICK = {
    "digits": {"initial": 20, "step": 20, "budget": 140, "seeds": 2, "targets": [0.90, 0.95]},
    "mnist1d": {"initial": 100, "step": 200, "budget": 700, "seeds": 2, "targets": None},
}
TRAINING = {  # (epochs, CNNClassifier params)
    "digits": (25, {}),
    "mnist1d": (75, {"shift_augment": 10}),
}
PEERS = ["modal_entropy", "modal_margin", "modal_uncertainty", "skactiveml_entropy"]


def load(name: str):
    from skal.datasets import load_digits_split, make_mnist1d

    if name == "digits":
        return load_digits_split(test_size=0.3, random_state=0)
    return make_mnist1d(n_train=4000, n_test=1000, seed=42)


def training_of(dataset: str, epochs: int | None, cnn_params: dict) -> tuple[int, dict]:
    """A data set's CNN training, ``(epochs, CNNClassifier params)``, with overrides applied.

    Parameters equal to ``CNNClassifier``'s defaults are dropped, so a campaign's key names
    only what differs from the default CNN and records written before a data set had its
    own training still answer for it.
    """
    from skal import CNNClassifier

    own_epochs, own_params = TRAINING[dataset]
    defaults = CNNClassifier().get_params()
    params = {k: v for k, v in {**own_params, **cnn_params}.items()
              if k not in defaults or defaults[k] != v}
    return (own_epochs if epochs is None else epochs), params


def make_cnn(name: str, seed: int, epochs: int, params: dict | None = None):
    from skal import CNNClassifier

    return CNNClassifier(epochs=epochs, random_state=seed, **(params or {}))


# ------------------------------------------------------------------ skal
# "<strategy>+spreading": the same strategy, trained on the unlabeled pool too (pseudo-labels
# spread over a neighbour graph, ActiveLearningClassifier(semi_supervised="label_spreading"));
# "<strategy>+pseudo": the CNN's own confident predictions (CEAL, semi_supervised="pseudo_labels");
# "<strategy>+model_spreading": spread over a graph of the previous round's CNN embedding;
# "<strategy>+wide_spreading": the raw-feature graph's spread labels, 10 per label (not 3);
# "<strategy>+capped_spreading": 10 per label, at most 600 a round (a round's cost bounded).
# "<strategy>+tsne_spreading": spread over a t-SNE map of the raw features, 30 per label, at
#   most 1000 a round.
# "<strategy>+consistency": the network trains on the unlabeled pool (FixMatch), 450 epochs
#   (6x MNIST-1D's 75: consistency training needs long training).
# Each maps to (a name of skal.semi_supervised.SEMI_SUPERVISED, its options).
POOL_TRAINING = {
    "+spreading": ("label_spreading", {}),
    "+wide_spreading": ("label_spreading", {"max_ratio": 10.0}),
    "+capped_spreading": ("label_spreading", {"max_ratio": 10.0, "max_pseudo_labels": 600}),
    "+tsne_spreading": ("label_spreading", {"embedding": "tsne", "max_ratio": 30.0,
                                            "max_pseudo_labels": 1000}),
    "+pseudo": ("pseudo_labels", {}),
    "+model_spreading": ("label_spreading", {"embedding": "model"}),
    "+consistency": ("consistency", {"epochs": 450}),
}
SPREADING = "+spreading"  # what --semi-supervised adds


def split_pool_training(name: str) -> tuple[str, tuple[str, dict] | None]:
    """``"margin+pseudo"`` -> ``("margin", ("pseudo_labels", {}))``; no suffix: ``(name, None)``."""
    for suffix, option in POOL_TRAINING.items():
        if name.endswith(suffix):
            return name.removesuffix(suffix), option
    return name, None


def semi_supervised_of(pool_training: tuple[str, dict] | None):
    """The learner's ``semi_supervised`` object for a ``POOL_TRAINING`` value (None: none)."""
    if pool_training is None:
        return None
    from skal.semi_supervised import SEMI_SUPERVISED

    kind, options = pool_training
    return SEMI_SUPERVISED[kind](**options)


def run_skal(strategy, data, cfg, seed, epochs, cnn_params=None, warm_start=False,
             initial_selection="random"):
    from skal import ActiveLearningClassifier
    from skal.evaluation import campaign_scores

    X_tr, X_te, y_tr, y_te = data
    n_queries = (cfg["budget"] - cfg["initial"]) // cfg["step"]
    strategy, pool_training = split_pool_training(strategy)
    learner = ActiveLearningClassifier(
        make_cnn(cfg["name"], seed, epochs, cnn_params),
        semi_supervised=semi_supervised_of(pool_training),
        query_strategy=strategy,
        warm_start=warm_start,
        initial_size=cfg["initial"],
        initial_selection=initial_selection,
        n_instances=cfg["step"],
        n_queries=n_queries,
        random_state=seed,
    )
    t0 = time.perf_counter()
    n_labeled, scores, fitted = campaign_scores(learner, X_tr, y_tr, X_te, y_te)
    wall = time.perf_counter() - t0
    initial = fitted.labeled_indices_[: cfg["initial"]]
    return n_labeled, scores, wall / max(1, n_queries), initial


# ------------------------------------------------------------------ peers
def _shim_modal() -> None:
    """modAL 0.4.2.1 passes force_all_finite, removed from scikit-learn 1.8."""
    import modAL.models.learners as learners
    from sklearn.utils import check_X_y

    def check_X_y_compat(*args, force_all_finite=True, **kwargs):
        return check_X_y(*args, ensure_all_finite=force_all_finite, **kwargs)

    learners.check_X_y = check_X_y_compat


def run_peer(peer, data, cfg, seed, epochs, initial, cnn_params=None):
    X_tr, X_te, y_tr, y_te = data
    n_queries = (cfg["budget"] - cfg["initial"]) // cfg["step"]
    cnn = make_cnn(cfg["name"], seed, epochs, cnn_params)
    labeled = np.zeros(len(X_tr), dtype=bool)
    labeled[initial] = True
    n_labeled, scores = [], []
    t0 = time.perf_counter()
    if peer.startswith("modal"):
        from modAL.models import ActiveLearner
        from modAL.uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling

        _shim_modal()
        strategy = {"modal_entropy": entropy_sampling, "modal_margin": margin_sampling,
                    "modal_uncertainty": uncertainty_sampling}[peer]
        learner = ActiveLearner(cnn, query_strategy=strategy,
                                X_training=X_tr[initial], y_training=y_tr[initial])
        model = learner
    else:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import UncertaintySampling

        qs = UncertaintySampling(method="entropy", random_state=seed)
        model = SklearnClassifier(cnn, classes=np.unique(y_tr), random_state=seed)
        y_obs = np.full(len(y_tr), np.nan)
        y_obs[initial] = y_tr[initial]
        model.fit(X_tr, y_obs)
    n_labeled.append(labeled.sum())
    scores.append(float((model.predict(X_te) == y_te).mean()))
    for _ in range(n_queries):
        pool = np.flatnonzero(~labeled)
        if peer.startswith("modal"):
            pos, _ = learner.query(X_tr[pool], n_instances=cfg["step"])
            picked = pool[np.asarray(pos)]
            learner.teach(X_tr[picked], y_tr[picked])
        else:
            picked = np.asarray(qs.query(X_tr, y_obs, model, fit_clf=False,
                                         batch_size=cfg["step"], candidates=pool))
            y_obs[picked] = y_tr[picked]
            model.fit(X_tr, y_obs)
        labeled[picked] = True
        n_labeled.append(labeled.sum())
        scores.append(float((model.predict(X_te) == y_te).mean()))
    wall = time.perf_counter() - t0
    return np.asarray(n_labeled), np.asarray(scores), wall / max(1, n_queries)


# ------------------------------------------------------------------ running
_DATA: dict = {}


def run_task(task: dict) -> dict:
    """One campaign: a strategy or a peer, on one dataset and seed. Returns its record."""
    import keras

    dataset, seed, name = task["dataset"], task["seed"], task["name"]
    if dataset not in _DATA:
        _DATA[dataset] = load(dataset)
    data, cfg = _DATA[dataset], task["config"]
    t0 = time.perf_counter()
    if task["peer"]:
        n_lab, sc, per_round = run_peer(name, data, cfg, seed, task["epochs"],
                                        np.asarray(task["initial"]), task["cnn_params"])
        initial = task["initial"]
    else:
        n_lab, sc, per_round, init = run_skal(name, data, cfg, seed, task["epochs"],
                                              task["cnn_params"], task["warm_start"],
                                              task.get("initial_selection", "random"))
        initial = np.asarray(init).tolist()  # skal's order: peers train on the same rows
    keras.backend.clear_session()
    return {**runner.task_key(task), "n_labeled": np.asarray(n_lab).tolist(),
            "scores": np.asarray(sc).tolist(), "round_seconds": per_round,
            "initial": initial, "wall": time.perf_counter() - t0}



def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, short budgets")
    parser.add_argument("--low", action="store_true",
                        help="the low-budget protocol: digits 10 -> 100 labels in steps of "
                             "10, MNIST-1D 20 -> 300 in steps of 20, 10 seeds")
    parser.add_argument("--semi-supervised", choices=["off", "on", "both"], default="off",
                        help="train skal strategies on the unlabeled pool too (pseudo-labels): "
                             "'both' runs every strategy with and without (name+spreading)")
    parser.add_argument("--datasets", default="digits,mnist1d")
    parser.add_argument("--strategies", default=None,
                        help="comma-separated; default: every registered strategy")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help="comma-separated peers, or '' for none")
    parser.add_argument("--seeds", type=int, default=None, help="override the seed count")
    parser.add_argument("--epochs", type=int, default=None,
                        help="CNN epochs per fit (default: the data set's, 25 or 75)")
    parser.add_argument("--cnn-params", default="{}",
                        help="JSON object of CNNClassifier parameters for every strategy and "
                             "peer, over the data set's own, e.g. '{\"batch_size\": 16}'")
    parser.add_argument("--warm-start", action="store_true",
                        help="skal strategies refit warm (ActiveLearningClassifier("
                             "warm_start=True)); not with peers")
    parser.add_argument("--initial", choices=["random", "stratified"], default="random",
                        help="how skal draws the initial set (peers train on the same "
                             "rows): 'random' looks at no label (the honest protocol), "
                             "'stratified' one per class (it peeks: the tables before "
                             "December 2026)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="campaigns run in parallel, one process each")
    parser.add_argument("--threads", type=int, default=None,
                        help="TensorFlow threads per process (default: 1 when --jobs > 1)")
    parser.add_argument("--output", default=None)
    parser.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    parser.add_argument("--summarize", action="store_true",
                        help="run no campaign: summarise the ones already in the runs file "
                             "(every one asked for must be there)")
    args = parser.parse_args(argv)

    from skal.strategies import STRATEGIES

    strategies = (args.strategies.split(",") if args.strategies else
                  ["random"] + sorted(s for s in STRATEGIES if s != "random"))
    if "random" not in strategies:
        strategies.insert(0, "random")
    if args.semi_supervised != "off":
        with_pool = [f"{name}{SPREADING}" for name in strategies
                     if split_pool_training(name)[1] is None]
        strategies = (strategies + with_pool if args.semi_supervised == "both" else
                      ["random"] + with_pool)
    peers = [p for p in args.peers.split(",") if p]
    try:
        cnn_params = json.loads(args.cnn_params)
    except json.JSONDecodeError as exc:
        parser.error(f"--cnn-params: not JSON ({exc})")
    if not isinstance(cnn_params, dict):
        parser.error("--cnn-params: expected a JSON object of CNNClassifier parameters")
    if {"epochs", "random_state"} & set(cnn_params):
        parser.error("--cnn-params: set epochs with --epochs; random_state is the seed")
    from skal import CNNClassifier

    unknown = set(cnn_params) - set(CNNClassifier().get_params())
    if unknown:
        parser.error(f"--cnn-params: unknown CNNClassifier parameters {sorted(unknown)}")
    if args.warm_start and peers:
        parser.error("--warm-start: peers refit from scratch; pass --peers ''")
    threads = args.threads if args.threads is not None else (1 if args.jobs > 1 else 0)
    if args.quick and args.low:
        parser.error("--quick and --low are two protocols; pick one")
    table = QUICK if args.quick else LOW if args.low else DATASETS
    stem = ("label_efficiency_quick" if args.quick else
            "label_efficiency_low" if args.low else "label_efficiency")
    out_json = Path(args.output) if args.output else HERE / "results" / f"{stem}.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    runs_path = out_json.with_name(out_json.stem + "_runs.jsonl")

    datasets = args.datasets.split(",")
    for dataset in datasets:
        if dataset not in DATASETS:
            parser.error(f"--datasets: unknown dataset {dataset!r}; known: {sorted(DATASETS)}")
    configs = {}
    for dataset in datasets:
        configs[dataset] = {**table[dataset], "name": dataset}
        configs[dataset]["epochs"], configs[dataset]["cnn"] = training_of(
            dataset, args.epochs, cnn_params)
        if args.seeds:
            configs[dataset]["seeds"] = args.seeds
    # Seed-major order across datasets: an interrupted run has every dataset at equal depth.
    tasks = []
    for seed in range(max(c["seeds"] for c in configs.values())):
        for dataset in datasets:
            if seed < configs[dataset]["seeds"]:
                tasks += [{"dataset": dataset, "seed": seed, "name": name, "peer": name in peers,
                           "epochs": configs[dataset]["epochs"],
                           "cnn_params": configs[dataset]["cnn"],
                           "warm_start": args.warm_start, "config": configs[dataset],
                           "initial_selection": args.initial,
                           "threads": threads, "skal_names": strategies}
                          for name in strategies + peers]
    start = time.perf_counter()
    if args.summarize:
        done = runner.load_runs(runs_path)
        tasks, missing = runner.summarizable(tasks, done)
        if missing:
            names = sorted({f"{t['dataset']}/{t['name']}" for t in missing})
            parser.error(f"--summarize: {len(missing)} campaign(s) of a column are not in "
                         f"{runs_path} (same seeds, epochs, threads and CNN): {names}; "
                         "run them first (without --summarize)")
    else:
        done = runner.run_all(tasks, runs_path, args.jobs, run_task)
    elapsed = time.perf_counter() - start

    report: dict = {"jobs": args.jobs, "threads_per_job": threads, "warm_start": args.warm_start,
                    "initial_selection": args.initial,
                    "elapsed_seconds_this_invocation": elapsed}
    all_curves = {}
    for dataset in datasets:
        curves = runner.collect(done, tasks, dataset)
        summary = tables.summarise(curves, configs[dataset])
        summary["vs_peers"] = tables.compare_peers(summary)
        tables.print_table(dataset, summary)
        if args.markdown:
            print("\n" + tables.markdown_tables(dataset, summary))
        report[dataset] = {"config": configs[dataset], "summary": summary, "curves": curves}
        all_curves[dataset] = curves
    report["campaign_seconds_total"] = float(sum(
        sum(c["wall"]) for curves in all_curves.values() for c in curves.values()))
    out_json.write_text(json.dumps(report, indent=1))
    try:
        tables.plot(all_curves, out_json.with_suffix(".png"), dashed=PEERS)
    except ImportError:
        pass
    total = report["campaign_seconds_total"]
    print(f"\nthis invocation {elapsed:.0f}s; all campaigns {total:.0f}s of process time"
          f"  ({args.jobs} jobs x {threads or 'default'} TF threads); "
          f"wrote {out_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
