"""Pool-scoring speed and memory: skal's query against the raw forward pass and modAL.

Run ``python benchmarks/speed.py`` (``--quick`` for 10k/100k pools only). Every measurement
runs in a fresh subprocess so that its peak RSS is its own; all use the same fitted default
``CNNClassifier`` (trained on 300 digits) and the same pools of digits-shaped samples
(digits tiled with small noise; the 1M pool is a read-only ``np.memmap`` on disk).

Prints a table and writes ``benchmarks/results/speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_INSTANCES = 100
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    # Linux: writing 5 to clear_refs resets VmHWM (peak RSS) to the current RSS.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def make_pool(n: int, path: Path | None = None, seed: int = 0) -> np.ndarray:
    """Digits-shaped samples: digits tiled with small noise, built chunk by chunk."""
    from skal.datasets import load_digits_split

    X = np.concatenate(load_digits_split(random_state=0)[:2])
    rng = np.random.default_rng(seed)
    out = (
        np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, 64))
        if path is not None
        else np.empty((n, 64), dtype=np.float32)
    )
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        rows = X[rng.integers(0, len(X), stop - start)]
        out[start:stop] = np.clip(rows + rng.normal(0, 0.05, rows.shape), 0, 1)
    if path is not None:
        out.flush()
    return out


# ------------------------------------------------------------------ worker side
def worker(method: str, pool_path: str, model_path: str) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from skal import ActiveLearningClassifier, Campaign

    with open(model_path, "rb") as fh:
        cnn = pickle.load(fh)
    pool = np.load(pool_path, mmap_mode="r")
    in_memory = len(pool) < 1_000_000
    if in_memory:
        pool = np.ascontiguousarray(pool)
    from sklearn.base import clone

    # the fitted model (a copy of its weights) for every method, without a fit on labels
    campaign = Campaign(ActiveLearningClassifier(clone(cnn)), cnn._bench_X).start_from(cnn)
    learner = ActiveLearningClassifier.from_campaign(campaign)
    warm = pool[:2048]

    if method == "skal":
        learner.query(warm, N_INSTANCES)

        def run():
            return learner.query(pool, N_INSTANCES)

    elif method == "raw":
        model = cnn.model_
        model.predict(np.asarray(warm), batch_size=1024, verbose=0)

        def run():
            proba = model.predict(pool, batch_size=1024, verbose=0)
            ent = -(proba * np.log(np.clip(proba, 1e-12, None))).sum(axis=1)
            return np.argpartition(-ent, N_INSTANCES)[:N_INSTANCES]

    elif method.startswith("modal"):
        from modAL.models import ActiveLearner
        from modAL.uncertainty import entropy_sampling

        if method == "modal_scikeras":
            # What modAL users run: SciKeras' own predict_proba (Keras' batch size 32).
            from scikeras.wrappers import KerasClassifier as SciKeras

            class PlainSciKeras(type(cnn)):
                def _predict_raw(self, X, **kwargs):
                    return SciKeras._predict_raw(self, X, **kwargs)

            cnn.__class__ = PlainSciKeras
        modal = ActiveLearner(estimator=cnn, query_strategy=entropy_sampling)
        modal.query(np.asarray(warm), n_instances=N_INSTANCES)

        def run():
            return modal.query(pool, n_instances=N_INSTANCES)

    else:
        raise ValueError(method)

    rss_before = _rss_mb("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    run()
    seconds = time.perf_counter() - t0
    peak = _rss_mb("VmHWM")
    return {"seconds": seconds, "rss_before_mb": rss_before, "peak_rss_mb": peak,
            "added_peak_mb": peak - rss_before}


def round_worker(warm_start: bool, pool_path: str, model_path: str) -> dict:
    """One full round (teach 100 labels + query a 10k pool), from scratch or warm."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from skal import ActiveLearningClassifier
    from skal.datasets import load_digits_split

    with open(model_path, "rb") as fh:
        cnn = pickle.load(fh)
    X_tr, X_te, y_tr, y_te = load_digits_split(random_state=0)
    pool = np.ascontiguousarray(np.load(pool_path, mmap_mode="r"))
    learner = ActiveLearningClassifier(cnn, warm_start=warm_start, random_state=0)
    learner.fit(X_tr[:300], y_tr[:300])
    times, accs = [], []
    for r in range(3):
        new = slice(300 + 100 * r, 400 + 100 * r)
        t0 = time.perf_counter()
        learner.teach(X_tr[new], y_tr[new])
        learner.query(pool, N_INSTANCES)
        times.append(time.perf_counter() - t0)
        accs.append(learner.score(X_te, y_te))
    return {"round_seconds": float(np.median(times)), "accuracy_after_3_rounds": accs[-1],
            "n_labeled": learner.n_labeled_}


# ------------------------------------------------------------------ driver side
def _spawn(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k pools only")
    parser.add_argument("--output", default=str(HERE / "results" / "speed.json"))
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--round-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    if args.round_worker:
        warm, pool, model = args.round_worker
        print(json.dumps(round_worker(warm == "1", pool, model)))
        return 0

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from skal import CNNClassifier
    from skal.datasets import load_digits_split

    t0 = time.perf_counter()
    sizes = {k: v for k, v in SIZES.items() if not (args.quick and v >= 1_000_000)}
    tmp = Path(tempfile.mkdtemp(prefix="skal-speed-"))
    X_tr, _, y_tr, _ = load_digits_split(random_state=0)
    cnn = CNNClassifier(random_state=0).fit(X_tr[:300], y_tr[:300])
    cnn._bench_X, cnn._bench_y = X_tr[:300], y_tr[:300]
    model_path = tmp / "cnn.pkl"
    model_path.write_bytes(pickle.dumps(cnn))

    import_times = []
    for _ in range(3):
        s = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import skal"], check=True)
        import_times.append(time.perf_counter() - s)
    base = []
    for _ in range(3):
        s = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - s)

    rows = []
    methods = ["raw", "skal", "modal_skal", "modal_scikeras"]
    for name, n in sizes.items():
        pool_path = tmp / f"pool_{name}.npy"
        make_pool(n, pool_path)
        for method in methods:
            if method == "modal_scikeras" and n > 100_000:
                continue  # minutes per query; the 100k row already shows the gap
            res = _spawn(["--worker", method, str(pool_path), str(model_path)])
            rows.append({"pool": name, "n": n, "method": method, **res})
            print(f"  {name:>5} {method:<15} {res['seconds']:8.2f}s "
                  f"+{res['added_peak_mb']:7.1f} MB", file=sys.stderr, flush=True)
        if n != 10_000:
            pool_path.unlink()

    rounds = {
        ("warm_start" if w else "from_scratch"): _spawn(
            ["--round-worker", str(int(w)), str(tmp / "pool_10k.npy"), str(model_path)]
        )
        for w in (False, True)
    }

    def sec(pool, method):
        return next((r["seconds"] for r in rows if r["pool"] == pool and r["method"] == method),
                    float("nan"))

    print("\nQuery time (entropy, 100 instances) and added peak RSS, default CNNClassifier")
    print(f"{'pool':>5} | {'method':<15} | {'seconds':>8} | {'vs raw':>6} | {'+peak MB':>8}")
    print("-" * 56)
    for r in rows:
        ratio = r["seconds"] / sec(r["pool"], "raw")
        print(f"{r['pool']:>5} | {r['method']:<15} | {r['seconds']:8.3f} | {ratio:6.2f} | "
              f"{r['added_peak_mb']:8.1f}")
    print("\nOne round (teach 100 labels + query 10k pool), median of 3:")
    for k, v in rounds.items():
        print(f"  {k:<12} {v['round_seconds']:.2f}s  accuracy {v['accuracy_after_3_rounds']:.3f}"
              f" at {v['n_labeled']} labels")
    imp = float(np.median(import_times) - np.median(base))
    print(f"\n`import skal`: {imp:.3f}s (interpreter start subtracted)")
    wall = time.perf_counter() - t0
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "n_instances": N_INSTANCES, "rows": rows, "rounds": rounds,
        "import_skal_seconds": imp, "wall_seconds": wall,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(f"wrote {args.output} ({wall:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
