"""Running label-efficiency campaigns: worker processes, the runs file (one JSON record per
campaign, keyed by what decides its result, so a run resumes and a summary finds its
columns), the commit each record ran with, and the paired curves of a data set.
``label_efficiency.py`` defines the campaigns.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def init_worker(threads: int) -> None:
    """Each worker process runs TensorFlow on ``threads`` threads (set before any op) and
    ends with the process that started it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _exit_with_parent()
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def _exit_with_parent(poll_seconds: float = 1.0) -> None:
    """A worker whose runner is gone ends too: a killed runner's workers would otherwise run
    their campaigns on, holding the cores, for results no one collects (the runner resumes
    from the runs file). Nothing happens in a process that no multiprocessing parent started."""
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        while os.getppid() == parent.pid:
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def task_key(task: dict) -> dict:
    cfg = task["config"]
    return {"dataset": task["dataset"], "seed": task["seed"], "name": task["name"],
            "epochs": task["epochs"], "initial_size": cfg["initial"], "step": cfg["step"],
            "budget": cfg["budget"], "threads": task["threads"],
            "cnn_params": json.dumps(task["cnn_params"], sort_keys=True),
            "warm_start": task["warm_start"],
            "initial_selection": task.get("initial_selection", "random")}


# Records written before a key field existed were run with its default then (before
# December 2026 every skal initial set was stratified: it peeked at the labels).
_KEY_DEFAULTS = {"cnn_params": "{}", "warm_start": False, "initial_selection": "stratified"}


def _key(record: dict) -> tuple:
    return tuple(record[k] if k in record else _KEY_DEFAULTS[k]
                 for k in ("dataset", "seed", "name", "epochs", "initial_size", "step",
                           "budget", "threads", "cnn_params", "warm_start",
                           "initial_selection"))


def code_version() -> str | None:
    """The commit the campaigns run with, ``+changes`` when skal or the campaigns' code
    (``label_efficiency.py``) differ from it (each record keeps it: a column from older code
    can be told and rerun); None outside a git checkout."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", "-C", str(HERE.parent), *args], capture_output=True,
                              text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--", "skal", "benchmarks/label_efficiency.py")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+changes" if changed else "")


def load_runs(runs_path: Path) -> dict[tuple, dict]:
    """The campaigns recorded in ``runs_path`` (one JSON line each), by their key."""
    done: dict[tuple, dict] = {}
    if runs_path.exists():
        for line in runs_path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                done[_key(rec)] = rec
    return done


def summarizable(tasks: list[dict], done: dict) -> tuple[list[dict], list[dict]]:
    """``(tasks, missing)``: the tasks of every column (dataset and name) that has a campaign
    in ``done`` -- a column never run on a dataset is left out -- and those of such columns
    that are not there (a column with some seeds missing is not paired)."""
    present = {(t["dataset"], t["name"]) for t in tasks if _key(task_key(t)) in done}
    kept = [t for t in tasks if (t["dataset"], t["name"]) in present]
    return kept, [t for t in kept if _key(task_key(t)) not in done]


def run_all(tasks: list[dict], runs_path: Path, jobs: int, run_task) -> dict:
    """Run the campaigns not already in ``runs_path`` with ``run_task(task) -> record`` (a
    module-level function: it is sent to spawned processes), one JSON line each, appended
    as each finishes, so an interrupted run resumes. Peers wait for their seed's initial
    set."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    done = load_runs(runs_path)

    def initial_for(task):
        for rec in done.values():
            protocol = rec.get("initial_selection", _KEY_DEFAULTS["initial_selection"])
            if (rec["dataset"], rec["seed"]) == (task["dataset"], task["seed"]) and \
                    rec["name"] in task["skal_names"] and \
                    protocol == task.get("initial_selection", "random"):
                return rec["initial"]
        return None

    todo = [t for t in tasks if _key(task_key(t)) not in done]
    code = code_version()
    print(f"{len(tasks) - len(todo)} campaigns already in {runs_path}, {len(todo)} to run",
          file=sys.stderr, flush=True)
    ctx = get_context("spawn")  # TensorFlow is not fork-safe
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=init_worker,
                             initargs=(todo[0]["threads"] if todo else 0,)) as pool:
        running: dict = {}
        while todo or running:
            for task in list(todo):
                if len(running) >= jobs:
                    break
                if task["peer"]:
                    initial = initial_for(task)
                    if initial is None:
                        continue  # its seed's first skal campaign has not finished yet
                    task = {**task, "initial": initial}
                todo.remove(next(t for t in todo if t["name"] == task["name"]
                                 and t["seed"] == task["seed"]
                                 and t["dataset"] == task["dataset"]))
                running[pool.submit(run_task, task)] = task
            if not running:
                raise RuntimeError("peer campaigns are waiting for a skal campaign that "
                                   "is not scheduled")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                task = running.pop(fut)
                rec = {**fut.result(), "code": code}
                done[_key(rec)] = rec
                with runs_path.open("a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                sc = rec["scores"]
                print(f"[{rec['dataset']} seed {rec['seed']}] {rec['name']:<20} "
                      f"{sc[0]:.3f} -> {sc[-1]:.3f} ({rec['wall']:.0f}s)",
                      file=sys.stderr, flush=True)
    return done


def collect(done: dict, tasks: list[dict], dataset: str) -> dict:
    """Curves of one dataset, ``scores`` shaped (n_rounds + 1, n_seeds), seeds paired."""
    curves: dict[str, dict] = {}
    initial_of_seed: dict[int, list] = {}
    for task in tasks:
        if task["dataset"] != dataset:
            continue
        rec = done[_key(task_key(task))]
        first = initial_of_seed.setdefault(rec["seed"], sorted(rec["initial"]))
        assert sorted(rec["initial"]) == first, f"unpaired seeds: {rec['name']} seed {rec['seed']}"
        c = curves.setdefault(rec["name"], {"n_labeled": rec["n_labeled"], "scores": [],
                                            "round_seconds": [], "wall": [], "code": set()})
        c["scores"].append(rec["scores"])
        c["round_seconds"].append(rec["round_seconds"])
        c["wall"].append(rec["wall"])
        c["code"].add(rec.get("code") or "unrecorded")  # records older than the field
    for c in curves.values():
        c["scores"] = np.asarray(c["scores"]).T.tolist()
        c["code"] = sorted(c["code"])
    return curves
