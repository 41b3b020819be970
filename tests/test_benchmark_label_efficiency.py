"""The label-efficiency benchmark's own machinery: paired seeds, parallel jobs, resuming."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # spawned workers inherit sys.path
    import label_efficiency

    tiny = {"initial": 20, "step": 10, "budget": 40, "seeds": 2, "targets": [0.5, 0.8]}
    monkeypatch.setitem(label_efficiency.QUICK, "digits", tiny)
    return label_efficiency


def test_parallel_run_is_paired_and_resumes(bench, tmp_path, capsys):
    out = tmp_path / "le.json"
    argv = ["--quick", "--datasets", "digits", "--strategies", "random,margin", "--peers", "",
            "--jobs", "2", "--epochs", "1", "--output", str(out)]
    assert bench.main(argv) == 0
    report = json.loads(out.read_text())
    curves = report["digits"]["curves"]
    assert set(curves) == {"random", "margin"}
    for c in curves.values():
        assert c["n_labeled"] == [20, 30, 40]
        scores = np.asarray(c["scores"])
        assert scores.shape == (3, 2) and ((scores > 0.1) & (scores <= 1)).all()
    # Paired seeds: same initial set and the same initial model, so round 0 is identical.
    np.testing.assert_array_equal(curves["random"]["scores"][0], curves["margin"]["scores"][0])
    runs = (tmp_path / "le_runs.jsonl").read_text().splitlines()
    assert len(runs) == 4
    by_seed = {}
    for rec in map(json.loads, runs):
        by_seed.setdefault(rec["seed"], set()).add(tuple(sorted(rec["initial"])))
    assert all(len(v) == 1 for v in by_seed.values()) and len(by_seed) == 2
    # Each record names the code it ran with (the commit, marked when skal differs from it).
    from _efficiency_runner import code_version

    assert {rec["code"] for rec in map(json.loads, runs)} == {code_version()}
    summary = report["digits"]["summary"]["strategies"]
    assert summary["random"]["ratio_0.500"] == 1.0
    capsys.readouterr()

    # A rerun finds every campaign done: nothing runs, and the report is rebuilt the same.
    assert bench.main(argv) == 0
    assert "0 to run" in capsys.readouterr().err
    assert (tmp_path / "le_runs.jsonl").read_text().splitlines() == runs
    assert json.loads(out.read_text())["digits"]["curves"] == curves

    # --summarize rebuilds the report from the runs file alone, and refuses a missing campaign.
    out.unlink()
    assert bench.main(argv + ["--summarize"]) == 0
    assert "to run" not in capsys.readouterr().err
    assert json.loads(out.read_text())["digits"]["curves"] == curves
    # A column never run is left out; one with a seed missing is refused (it is not paired).
    assert bench.main([*argv, "--summarize", "--strategies", "random,margin,entropy"]) == 0
    assert set(json.loads(out.read_text())["digits"]["curves"]) == {"random", "margin"}
    (tmp_path / "le_runs.jsonl").write_text("\n".join(runs[:-1]) + "\n")
    with pytest.raises(SystemExit):
        bench.main(argv + ["--summarize"])
    err = capsys.readouterr().err
    assert "1 campaign(s) of a column are not in" in err


def test_code_version_names_the_commit(bench):
    from _efficiency_runner import code_version

    try:
        head = subprocess.run(["git", "-C", str(BENCH), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert code_version() in {head, head + "+changes"}


def test_unknown_dataset_is_refused(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--datasets", "cifar", "--peers", ""])
    assert "unknown dataset 'cifar'" in capsys.readouterr().err


def test_training_settings_are_part_of_a_campaigns_key(bench, tmp_path, capsys):
    out = tmp_path / "le.json"
    base = ["--quick", "--datasets", "digits", "--strategies", "random", "--peers", "",
            "--seeds", "1", "--epochs", "1", "--output", str(out)]
    assert bench.main(base) == 0
    assert bench.main(base + ["--cnn-params", '{"batch_size": 8}', "--warm-start"]) == 0
    assert "1 to run" in capsys.readouterr().err  # not answered by the first record
    recs = [json.loads(line) for line in (tmp_path / "le_runs.jsonl").read_text().splitlines()]
    assert [(r["cnn_params"], r["warm_start"]) for r in recs] == [
        ("{}", False), ('{"batch_size": 8}', True)]
    assert recs[0]["scores"] != recs[1]["scores"]
    report = json.loads(out.read_text())
    assert report["digits"]["config"]["cnn"] == {"batch_size": 8}
    assert report["digits"]["config"]["epochs"] == 1 and report["warm_start"] is True


@pytest.mark.parametrize("dataset, epochs, cnn_params, expected", [
    ("digits", None, {}, (25, {})),
    ("mnist1d", None, {}, (75, {"shift_augment": 10})),
    ("mnist1d", 5, {"batch_size": 16}, (5, {"shift_augment": 10, "batch_size": 16})),
    # An override back to the CNN's default drops the key: it matches old records.
    ("mnist1d", 25, {"shift_augment": 0}, (25, {})),
])
def test_each_dataset_has_its_own_training(bench, dataset, epochs, cnn_params, expected):
    assert bench.training_of(dataset, epochs, cnn_params) == expected


@pytest.mark.parametrize("argv, message", [
    (["--cnn-params", "[1]"], "expected a JSON object"),
    (["--cnn-params", "{bad"], "not JSON"),
    (["--cnn-params", '{"epochs": 3}'], "set epochs with --epochs"),
    (["--cnn-params", '{"filterz": [8]}'], "unknown CNNClassifier parameters ['filterz']"),
    (["--warm-start"], "--warm-start: peers refit from scratch"),
])
def test_bad_training_settings_are_refused(bench, capsys, argv, message):
    with pytest.raises(SystemExit):
        bench.main(["--datasets", "digits"] + argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("name, expected", [
    ("margin", ("margin", None)),
    ("margin+spreading", ("margin", ("label_spreading", {}))),
    ("random+pseudo", ("random", ("pseudo_labels", {}))),
    ("vote_entropy+model_spreading",
     ("vote_entropy", ("label_spreading", {"embedding": "model"}))),
    ("diverse_margin+wide_spreading",
     ("diverse_margin", ("label_spreading", {"max_ratio": 10.0}))),
    ("vote_entropy+consistency", ("vote_entropy", ("consistency", {"epochs": 450}))),
])
def test_pool_training_suffixes(bench, name, expected):
    assert bench.split_pool_training(name) == expected


def test_a_pool_training_column_runs_beside_its_plain_strategy(bench, tmp_path, capsys):
    out = tmp_path / "le.json"
    argv = ["--quick", "--datasets", "digits", "--strategies", "random,random+model_spreading",
            "--peers", "", "--seeds", "1", "--epochs", "1", "--output", str(out)]
    assert bench.main(argv) == 0
    curves = json.loads(out.read_text())["digits"]["curves"]
    plain, pooled = (np.asarray(curves[k]["scores"])[:, 0]
                     for k in ("random", "random+model_spreading"))
    assert plain[0] == pooled[0]  # the first fit has no model to embed the pool with
    assert not np.array_equal(plain, pooled)  # later fits train on spread labels too
    capsys.readouterr()


@pytest.mark.parametrize("options", ["+spreading", "none,+nothing", "none,"])
def test_pool_training_cost_refuses_unknown_options(monkeypatch, capsys, options):
    monkeypatch.syspath_prepend(str(BENCH))
    import pool_training_cost

    with pytest.raises(SystemExit):
        pool_training_cost.main(["--options", options])
    assert "--options" in capsys.readouterr().err


def test_spreading_trial_columns_are_read_longest_suffix_first():
    code = ("import mnist1d_spreading_trials, label_efficiency as le; "
            "print(le.split_pool_training('margin+model_spreading2'), "
            "le.split_pool_training('margin+model_spreading'), le.DATASETS['mnist1d']['budget'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=BENCH, capture_output=True,
                         text=True, check=True).stdout
    assert out.split("\n")[0] == (
        "('margin', ('label_spreading', {'embedding': 'model', 'max_ratio': 2.0})) "
        "('margin', ('label_spreading', {'embedding': 'model'})) 600")


_KILLED_RUNNER = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor

import _efficiency_runner

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_efficiency_runner.init_worker, initargs=(0,))
    pool.submit(time.sleep, 120)  # a long campaign
    time.sleep(3)
    with open(sys.argv[1], "w") as f:
        print(*[p.pid for p in multiprocessing.active_children()], file=f)
    os._exit(0)  # as a killed runner: no shutdown
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # an orphan's zombie is gone for good


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_killed_runners_workers_end_with_it(tmp_path):
    script = tmp_path / "runner.py"
    script.write_text(_KILLED_RUNNER)
    env = {**os.environ, "PYTHONPATH": str(BENCH)}
    pid_file = tmp_path / "pids"
    # the worker's output goes nowhere: an orphan holding a pipe would block the run
    subprocess.run([sys.executable, str(script), str(pid_file)], env=env, timeout=60,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == 1
    try:
        deadline = time.monotonic() + 20
        while any(map(_running, pids)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_running, pids)), "the worker ran on after its runner was gone"
    finally:
        for pid in filter(_running, pids):
            os.kill(pid, 9)
