"""Scoring a pool of millions of samples on Dask against a single-process chunked query.

Run ``python benchmarks/dask_pool.py`` (``--n 200000`` for a quick run; needs
``pip install -e ".[dask]"``). The pool -- digits-shaped samples (digits from the bundled
data, tiled with small noise, clipped to [0, 1]) -- is generated block by block from a
seeded generator per block and never exists in memory as a whole:

* **numpy**: one process, ``learner.query(iterable of blocks)`` (chunked running top-k);
* **dask**: a 2-worker ``LocalCluster`` (1 thread per worker, TensorFlow limited to 1 thread
  per worker with ``skal.dask.limit_tensorflow_threads``), the same blocks built by
  ``da.from_delayed`` tasks on the workers, ``learner.query(dask array)``.

Both use the same default ``CNNClassifier()`` fitted on 300 digits (entropy, 100 samples
queried) and run in fresh subprocesses, alternating (``--repeats``, fastest reported), so
each reports its own peak RSS (``VmHWM``); the workers' peaks are read on the workers.
Times include generating the blocks; the dask time also includes shipping the model to the
workers. Prints a table and writes ``benchmarks/results/dask_pool.json``.
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
N_INSTANCES = 100
SEED = 0


def vm_hwm_mb() -> float:
    """Peak resident memory of this process (Linux ``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def digits_base() -> np.ndarray:
    from skal.datasets import load_digits_split

    return np.concatenate(load_digits_split(random_state=0)[:2]).astype(np.float32)


def make_block(base: np.ndarray, block_id: int, n_rows: int, seed: int = SEED) -> np.ndarray:
    """Block ``block_id`` of the synthetic pool: the same values wherever it is built."""
    rng = np.random.default_rng([seed, block_id])
    rows = base[rng.integers(0, len(base), n_rows)]
    noise = rng.standard_normal(rows.shape, dtype=np.float32) * np.float32(0.05)
    return np.clip(rows + noise, 0, 1)


def block_sizes(n: int, block: int) -> list[int]:
    return [min(block, n - start) for start in range(0, n, block)]


def run_numpy(model_path: str, n: int, block: int) -> dict:
    with open(model_path, "rb") as f:
        learner = pickle.load(f)
    base = digits_base()
    start = time.perf_counter()
    chunks = (make_block(base, i, size) for i, size in enumerate(block_sizes(n, block)))
    idx = learner.query(chunks, N_INSTANCES)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "indices": idx.tolist(), "peak_rss_mb": {"main": vm_hwm_mb()}}


def run_dask(model_path: str, n: int, block: int, n_workers: int) -> dict:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from skal.dask import limit_tensorflow_threads

    with open(model_path, "rb") as f:
        learner = pickle.load(f)
    with (
        LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster) as client,
    ):
        limit_tensorflow_threads(client, n_threads=1)  # imports TensorFlow on the workers
        base = dask.delayed(digits_base(), name="digits-base")  # one key, shared
        pool = da.concatenate([
            da.from_delayed(
                dask.delayed(make_block)(base, i, size), shape=(size, 64), dtype=np.float32
            )
            for i, size in enumerate(block_sizes(n, block))
        ])
        start = time.perf_counter()
        idx = learner.query(pool, N_INSTANCES)
        seconds = time.perf_counter() - start
        workers = client.run(vm_hwm_mb)
    peaks = {"client+scheduler+nannies": vm_hwm_mb()}  # LocalCluster: one process
    peaks.update({f"worker {i}": v for i, v in enumerate(workers.values())})
    return {
        "seconds": seconds, "indices": idx.tolist(), "peak_rss_mb": peaks,
        "n_blocks": len(block_sizes(n, block)),
    }


def fit_model(path: str, n_train: int = 300) -> None:
    from skal import ActiveLearningClassifier, CNNClassifier
    from skal.datasets import load_digits_split

    X_train, _, y_train, _ = load_digits_split(random_state=0)
    learner = ActiveLearningClassifier(
        CNNClassifier(random_state=0), query_strategy="entropy", random_state=0
    ).fit(X_train[:n_train], y_train[:n_train])
    with open(path, "wb") as f:
        pickle.dump(learner, f)


def in_subprocess(mode: str, *args) -> dict:
    load_before = os.getloadavg()[0]
    out = subprocess.run(
        [sys.executable, __file__, "--_child", mode, *map(str, args)],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{out.stderr[-4000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # Other processes on the machine skew the numbers; record how busy it was.
    result["load_avg_1min"] = [load_before, os.getloadavg()[0]]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000_000, help="pool size")
    parser.add_argument("--block", type=int, default=65_536, help="rows per block")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each query, alternating; the fastest is reported")
    parser.add_argument("--_child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        mode, model_path, n, block, *rest = args._child
        if mode == "numpy":
            result = run_numpy(model_path, int(n), int(block))
        else:
            result = run_dask(model_path, int(n), int(block), int(rest[0]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        model_path = str(Path(tmp) / "learner.pkl")
        fit_model(model_path)
        numpy_runs, dask_runs = [], []
        for _ in range(args.repeats):  # alternating, so both see the machine's load
            numpy_runs.append(in_subprocess("numpy", model_path, args.n, args.block))
            dask_runs.append(
                in_subprocess("dask", model_path, args.n, args.block, args.workers)
            )

    indices = {tuple(r.pop("indices")) for r in numpy_runs + dask_runs}
    same = len(indices) == 1
    numpy_run = dict(min(numpy_runs, key=lambda r: r["seconds"]), all_seconds=[
        r["seconds"] for r in numpy_runs])
    dask_run = dict(min(dask_runs, key=lambda r: r["seconds"]), all_seconds=[
        r["seconds"] for r in dask_runs])
    rows = []
    for name, run in [("numpy, 1 process", numpy_run),
                      (f"dask, {args.workers} workers", dask_run)]:
        run["samples_per_s"] = args.n / run["seconds"]
        rows.append((name, run))
    print(f"pool: {args.n:,} digits-shaped samples in blocks of {args.block:,}; "
          f"default CNNClassifier() fitted on 300 digits; {os.cpu_count()} CPU cores")
    print(f"{'query':<22}{'seconds':>10}{'samples/s':>12}  peak RSS (MiB)")
    for name, run in rows:
        peaks = ", ".join(f"{k} {v:,.0f}" for k, v in run["peak_rss_mb"].items())
        print(f"{name:<22}{run['seconds']:>10.1f}{run['samples_per_s']:>12,.0f}  {peaks}")
    print(f"fastest of {args.repeats} runs each; same {N_INSTANCES} indices in every run: {same}")

    result = {
        "n_pool": args.n, "block": args.block, "n_workers": args.workers,
        "repeats": args.repeats,
        "n_instances": N_INSTANCES, "same_indices": same,
        "numpy": numpy_run, "dask": dask_run,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "dask_pool.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
