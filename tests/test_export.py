"""`skal export`: a journal's answers as CSV, JSON and Parquet (skips as skips, undone answers
marked, who answered), after a labeling process was killed and resumed; bad inputs."""

import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from skal.cli import main
from skal.io.journal import LabelJournal

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO_ROOT)}
SAVED = re.compile(r"saved sample (\d+): (\S+)")
ASKED = re.compile(r"^sample (\d+)")
FAST = ["--model", "logreg", "--classes", "0,1,2", "--batch-size", "4", "--initial-size", "4",
        "--color", "none"]


@pytest.fixture
def journal(tmp_path):
    """A journal with a label, a skip, a relabel by another person and an undone answer."""
    path = tmp_path / "j.sqlite"
    with LabelJournal(path) as j:
        j.append([0, 1], ["cat", -1], round=0, strategy="initial", annotator="ana")
        j.append(0, "dog", round=1, strategy="overlap", annotator="ben")
        j.append(2, "cat", round=1, strategy="entropy", annotator="ana")
        j.retract(2, round=1, annotator="ana")
        j.append(3, "bird", round=1, strategy="entropy")  # nobody named
    return path


def _csv_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_csv_json_and_parquet_hold_every_answer_with_its_status(journal, tmp_path, capsys):
    assert main(["export", str(journal), "--format", "csv", "--output",
                 str(tmp_path / "out.csv")]) == 0
    rows = _csv_rows(tmp_path / "out.csv")
    assert list(rows[0]) == ["sample", "label", "status", "current", "annotator", "time",
                             "round", "reason"]
    got = [(r["sample"], r["label"], r["status"], r["current"], r["annotator"], r["reason"])
           for r in rows]
    assert got == [("0", "cat", "labeled", "false", "ana", "initial"),
                   ("1", "", "skipped", "true", "ana", "initial"),  # never the label -1
                   ("0", "dog", "labeled", "true", "ben", "overlap"),
                   ("2", "cat", "undone", "false", "ana", "entropy"),
                   ("3", "bird", "labeled", "true", "", "entropy")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", rows[0]["time"])
    assert "exported 5 answers" in capsys.readouterr().out

    assert main(["export", str(journal), "--output", str(tmp_path / "out.json"),
                 "--current"]) == 0  # the format from the suffix; one row per sample
    data = json.loads((tmp_path / "out.json").read_text())
    assert [(r["sample"], r["label"], r["status"], r["round"]) for r in data] == [
        (1, None, "skipped", 0), (0, "dog", "labeled", 1), (3, "bird", "labeled", 1)]

    pq = pytest.importorskip("pyarrow.parquet")
    assert main(["export", str(journal), "--format", "parquet", "--output",
                 str(tmp_path / "out.parquet")]) == 0
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [(r["sample"], r["label"], r["status"], r["current"]) for r in table] == [
        (0, "cat", "labeled", False), (1, None, "skipped", True), (0, "dog", "labeled", True),
        (2, "cat", "undone", False), (3, "bird", "labeled", True)]


def test_parquet_without_pyarrow_is_a_clear_error(journal, tmp_path):
    code = ("import sys; sys.modules['pyarrow'] = None; from skal.cli import main; "
            f"sys.exit(main(['export', {str(journal)!r}, '--output', "
            f"{str(tmp_path / 'x.parquet')!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert out.returncode == 2
    assert "--format parquet needs pyarrow" in out.stderr and "pip install pyarrow" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "x.parquet").exists()


def _not_a_journal(tmp_path):
    path = tmp_path / "foreign.sqlite"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (x)")
    raw.commit()
    raw.close()
    return path


# (what, journal maker, extra arguments, fragment of the error)
BAD_EXPORTS = [
    ("missing journal", lambda t, j: t / "nope.sqlite", ["--output", "{t}/o.csv"],
     "no label journal at"),
    ("journal in a missing folder", lambda t, j: t / "no" / "j.sqlite",
     ["--output", "{t}/o.csv"], "does not exist"),
    ("a journal that is not a journal", lambda t, j: _not_a_journal(t),
     ["--output", "{t}/o.csv"], "not a skal label journal"),
    ("random bytes", lambda t, j: (t / "r.bin").write_bytes(os.urandom(64)) and t / "r.bin",
     ["--output", "{t}/o.csv"], "not a skal label journal"),
    ("output in a missing folder", lambda t, j: j, ["--output", "{t}/missing/o.csv"],
     "its folder"),
    ("output is a folder", lambda t, j: j, ["--format", "csv", "--output", "{t}"],
     "is a folder"),
    ("no format and no suffix", lambda t, j: j, ["--output", "{t}/labels"],
     "cannot tell the format"),
]


@pytest.mark.parametrize("make, extra, fragment", [r[1:] for r in BAD_EXPORTS],
                         ids=[r[0] for r in BAD_EXPORTS])
def test_bad_exports_are_clear_errors(journal, tmp_path, capsys, make, extra, fragment):
    target = make(tmp_path, journal)
    before = sorted(p.name for p in tmp_path.iterdir())
    rc = main(["export", str(target), *[a.format(t=tmp_path) for a in extra]])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("skal export: error: ") and fragment in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_an_unknown_format_is_refused_by_name(journal, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(journal), "--format", "xlsx", "--output", str(tmp_path / "o")])
    assert exit_.value.code == 2
    assert "invalid choice: 'xlsx'" in capsys.readouterr().err


def _hard_link(t, j):
    os.link(j, t / "linked.sqlite")
    return str(t / "linked.sqlite")


def _symlink(t, j):
    os.symlink(j, t / "alias.sqlite")
    return str(t / "alias.sqlite")


# (what, the --output path from (tmp folder, journal), --format, fragment of the error):
# every way of naming the journal, or SQLite's files beside it, as the output
OUTPUT_IS_THE_JOURNAL = [
    ("the same path", lambda t, j: str(j), "csv", "is the journal itself"),
    ("a relative path", lambda t, j: os.path.relpath(j), "json", "is the journal itself"),
    ("a path through ..", lambda t, j: str(t / ".." / t.name / j.name), "csv",
     "is the journal itself"),
    ("a symbolic link to it", _symlink, "csv", "is the journal itself"),
    ("a hard link to it", _hard_link, "parquet", "is the journal itself"),
    ("its -wal file", lambda t, j: f"{j}-wal", "csv", "the journal's SQLite -wal file"),
    ("its -shm file", lambda t, j: f"{j}-shm", "csv", "the journal's SQLite -shm file"),
]


@pytest.mark.parametrize("output, fmt, fragment", [r[1:] for r in OUTPUT_IS_THE_JOURNAL],
                         ids=[r[0] for r in OUTPUT_IS_THE_JOURNAL])
def test_the_journal_is_never_the_output(journal, tmp_path, capsys, output, fmt, fragment):
    target = output(tmp_path, journal)
    before = journal.read_bytes()
    listing = sorted(p.name for p in tmp_path.iterdir())
    rc = main(["export", str(journal), "--format", fmt, "--output", target])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("skal export: error: --output ") and fragment in err, err
    assert err.count("\n") == 1 and "pass another file" in err
    assert journal.read_bytes() == before  # nothing written: the journal still opens
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    with LabelJournal(journal, read_only=True) as j:
        assert len(j.records()) == 6


# ----------------------------------------------------------------------------- kill -9


@pytest.fixture
def pool(tmp_path, digits_xy):
    X, y = digits_xy
    keep = np.flatnonzero(y < 3)[:24]
    path = tmp_path / "pool.npy"
    np.save(path, X[keep])
    return path, y[keep]


def _label(path, truth, *extra, kill_after=None):
    """A terminal session answering like a person (the truth, every 5th a skip); killed
    with SIGKILL once ``kill_after`` answers are acknowledged. The acknowledged answers."""
    cmd = [sys.executable, "-m", "skal", "label", str(path), *FAST, *extra]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO_ROOT)
    watchdog = threading.Timer(120, proc.kill)
    watchdog.start()
    acked, n = {}, 0
    try:
        for line in proc.stdout:
            if m := ASKED.match(line):
                n += 1
                answer = "s" if n % 5 == 0 else str(truth[int(m.group(1))])
                proc.stdin.write(answer + "\n")
                proc.stdin.flush()
            for i, label in SAVED.findall(line):
                acked[int(i)] = label
            if kill_after is not None and len(acked) >= kill_after:
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait()
    finally:
        watchdog.cancel()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()
    return acked, proc.returncode


def test_export_after_kill_9_and_resume_has_every_acknowledged_answer(pool, tmp_path):
    path, truth = pool
    first, rc = _label(path, truth, "--annotator", "ana", kill_after=9)
    assert rc == -signal.SIGKILL and len(first) >= 9
    second, rc = _label(path, truth, "--annotator", "ben", kill_after=6)
    assert rc == -signal.SIGKILL and not set(first) & set(second)
    journal = f"{path}.journal.sqlite"
    assert main(["export", journal, "--output", str(tmp_path / "all.csv")]) == 0
    rows = {int(r["sample"]): r for r in _csv_rows(tmp_path / "all.csv")}
    for acked, who in ((first, "ana"), (second, "ben")):
        for i, label in acked.items():
            row = rows[i]
            shown = "skipped" if row["status"] == "skipped" else repr(int(row["label"]))
            assert (shown, row["annotator"], row["current"]) == (label, who, "true"), row
    assert any(r["status"] == "skipped" and r["label"] == "" for r in rows.values())
