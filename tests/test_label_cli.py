"""`skal label`: piped sessions, kill -9 in the middle, resume, image folders."""

import io
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from skal import LabelJournal
from skal.cli._data import load_labels, load_pool

REPO_ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO_ROOT)}
SAVED = re.compile(r"saved sample (\d+): (\S+)")
ASKED = re.compile(r"^sample (\d+)")
FAST = ["--model", "logreg", "--classes", "0,1,2", "--batch-size", "4", "--initial-size", "4",
        "--color", "none"]


@pytest.fixture
def pool(tmp_path, digits_xy):
    X, y = digits_xy
    keep = np.flatnonzero(y < 3)
    path = tmp_path / "pool.npy"
    np.save(path, X[keep[:30]])
    np.savez(tmp_path / "holdout.npz", X=X[keep[30:90]], y=y[keep[30:90]])
    return path, y[keep[:30]]


def skal_label(*args):
    return [sys.executable, "-m", "skal", "label", *map(str, args)]


def interactive(cmd, truth, *, kill_after=None, timeout=120):
    """Run a session answering each asked sample with its true label, like a person.

    Returns (asked, acknowledged, returncode); with ``kill_after``, the process is killed
    with SIGKILL as soon as that many answers were acknowledged.
    """
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=REPO_ROOT)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    asked, acked = [], {}
    try:
        for line in proc.stdout:
            if m := ASKED.match(line):
                asked.append(int(m.group(1)))
                proc.stdin.write(f"{truth[int(m.group(1))]}\n")
                proc.stdin.flush()
            for i, label in SAVED.findall(line):
                acked[int(i)] = label
            if kill_after is not None and len(acked) >= kill_after:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
    finally:
        watchdog.cancel()
        proc.stdin.close()
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
    assert proc.returncode != -signal.SIGKILL or kill_after is not None, err
    return asked, acked, proc.returncode


def test_help_documents_the_session():
    out = subprocess.run(skal_label("--help"), capture_output=True, text=True, env=ENV,
                         check=True).stdout
    for word in ("--journal", "--labels", "--holdout", "--batch-size", "--strategy", "resume",
                 "skip", "stdin"):
        assert word in out


def test_sigkill_loses_no_answer_and_resume_asks_nothing_twice(pool):
    path, truth = pool
    journal = str(path) + ".journal.sqlite"
    asked1, acked, rc = interactive(skal_label(path, *FAST), truth, kill_after=7)
    assert rc == -signal.SIGKILL and len(acked) >= 7
    with LabelJournal(journal) as j:
        on_disk = j.labels()
    for i, label in acked.items():  # every acknowledged answer survived the kill
        assert str(on_disk[i]) == label

    asked2, acked2, rc = interactive(
        skal_label(path, *FAST, "--holdout", path.parent / "holdout.npz"), truth
    )
    assert rc == 0
    assert not set(on_disk) & set(asked2), "a sample answered before the kill was asked again"
    with LabelJournal(journal) as j:
        final = j.labels()
    assert set(final) == set(range(len(truth)))  # the session went on to the end
    assert all(final[i] == truth[i] for i in final)


def test_piped_session_to_the_end(pool):
    path, truth = pool
    answers = ["0", "1", "s", "2", "nonsense", "1"] * 8  # 'nonsense' is refused, asked again
    out = subprocess.run(
        skal_label(path, *FAST, "--holdout", path.parent / "holdout.npz", "--journal",
                   path.parent / "j.sqlite"),
        input="\n".join(answers) + "\n", capture_output=True, text=True, env=ENV, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    asked = [int(m) for m in re.findall(r"^sample (\d+)", out.stdout, flags=re.M)]
    acked = SAVED.findall(out.stdout)
    assert len(asked) == len(set(asked)) == len(acked) == 30  # everyone asked exactly once
    assert "validation accuracy" in out.stdout and "every sample was asked" in out.stdout
    with LabelJournal(path.parent / "j.sqlite") as j:
        labels = j.labels()
    assert {str(i): (str(lab) if lab != -1 else "skipped") for i, lab in labels.items()} == {
        i: lab for i, lab in acked
    }
    assert sum(lab == -1 for lab in labels.values()) == sum(a == "skipped" for _, a in acked) > 0


def test_quit_and_another_pool(pool, tmp_path):
    path, truth = pool
    out = subprocess.run(skal_label(path, *FAST), input="0\n1\nq\n", capture_output=True,
                         text=True, env=ENV, timeout=120)
    assert out.returncode == 0 and "run the same command to continue" in out.stdout
    assert len(SAVED.findall(out.stdout)) == 2
    other = tmp_path / "other.npy"
    np.save(other, np.load(path)[::-1])
    out = subprocess.run(
        skal_label(other, *FAST, "--journal", str(path) + ".journal.sqlite"),
        input="", capture_output=True, text=True, env=ENV, timeout=120,
    )
    assert out.returncode == 2 and "another pool" in out.stderr


def test_image_folder_with_initial_labels_csv(tmp_path, digits_xy):
    from PIL import Image

    X, y = digits_xy
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(12):
        Image.fromarray((X[i].reshape(8, 8) * 255).astype(np.uint8)).save(folder / f"d{i:02}.png")
    (tmp_path / "labels.csv").write_text("id,label\nd00.png,0\nd01.png,1\n2,2\n")
    out = subprocess.run(
        skal_label(folder, "--labels", tmp_path / "labels.csv", "--model", "logreg",
                   "--batch-size", "3", "--initial-size", "3", "--rounds", "1",
                   "--color", "256"),
        input="5\n5\n5\n", capture_output=True, text=True, env=ENV, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "imported 3 labels" in out.stdout and "▀" in out.stdout and "(d" in out.stdout
    with LabelJournal(str(folder) + ".journal.sqlite") as j:
        labels = j.labels()
    assert labels[0] == 0 and labels[1] == 1 and labels[2] == 2 and len(labels) == 6


def test_readers(tmp_path):
    np.save(tmp_path / "imgs.npy", np.zeros((4, 5, 6), dtype=np.uint8))
    X, shape, names = load_pool(tmp_path / "imgs.npy")
    assert X.shape == (4, 30) and X.dtype == np.float32 and shape == (5, 6) and names is None
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 2)), b=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="name the pool array 'X'"):
        load_pool(tmp_path / "two.npz")
    np.save(tmp_path / "y.npy", np.array([-1, 3, -1, 4]))
    assert load_labels(tmp_path / "y.npy", 4, None) == ([1, 3], [3, 4])
    (tmp_path / "l.csv").write_text("0,cat\n3,-1\n")
    assert load_labels(tmp_path / "l.csv", 4, None) == ([0], ["cat"])
    (tmp_path / "bad.csv").write_text("0,cat\n9,dog\n")
    with pytest.raises(ValueError, match="outside the pool"):
        load_labels(tmp_path / "bad.csv", 4, None)


NAN = np.nan
# (what, the --labels file: an array saved as .npy or a CSV text, extra options, the
# journal's labels after the import as {sample: (type, label)}, or a fragment of the error).
# Unlabeled samples are marked as for fit(y); a labels file never records a skip.
LABEL_FILES = [
    ("npy: NaN marks unlabeled, whole floats are ints",
     [0.0, NAN, NAN, 1.0, NAN, 2.0], [], {0: (int, 0), 3: (int, 1), 5: (int, 2)}),
    ("npy: -1 and NaN in floats", [-1.0, NAN, 1.0, 0.0, -1.0, NAN], [],
     {2: (int, 1), 3: (int, 0)}),
    ("npy: -1 in ints", [-1, 2, -1, 0, -1, -1], [], {1: (int, 2), 3: (int, 0)}),
    ("npy: '' marks unlabeled in strings", np.array(["a", "", "b", " ", "", ""]), [],
     {0: (str, "a"), 2: (str, "b")}),
    ("npy: '-1' in strings is ambiguous", np.array(["a", "-1", "b", "", "", ""]), [],
     "holds '-1': is it a class or an unlabeled sample?"),
    ("npy: 0.5 is no class", [0.5, NAN, 1.0, NAN, NAN, NAN], [], "0.5 is not a whole number"),
    ("npy: only -1 and 1", [-1, 1, -1, 1, -1, 1], [], "holds only -1 and 1"),
    ("npy: one label per sample", [0, 1, 2], [], "has shape (3,); expected (6,)"),
    ("npy: booleans", np.array([True, False] * 3), [], "holds bool values"),
    ("npy --target number: -1 is a target", [-1.0, NAN, 2.5, NAN, NAN, NAN],
     ["--target", "number", "--model", "linear"], {0: (float, -1.0), 2: (float, 2.5)}),
    ("csv: empty, nan and -1 mark unlabeled", "id,label\n0,1.0\n1,\n2,nan\n3,-1\n4,2\n",
     [], {0: (int, 1), 4: (int, 2)}),
    ("csv: names", "0,cat\n1,dog\n2,\n", [], {0: (str, "cat"), 1: (str, "dog")}),
    ("csv --target number", "id,label\n0,-1\n1,2.5\n2,\n",
     ["--target", "number", "--model", "linear"], {0: (float, -1.0), 1: (float, 2.5)}),
    ("csv: a label that is none of --classes", "0,cat\n1,zebra\n",
     ["--model", "logreg", "--classes", "cat,dog"],
     "sample 1's label 'zebra' is not one of --classes cat,dog"),
    ("csv: numbers read as the --classes they name", "0,1\n1,2.0\n",
     ["--model", "logreg", "--classes", "1,2,x"], {0: (str, "1"), 1: (str, "2")}),
    ("csv --target number: text", "id,label\n0,2.5\n1,big\n",
     ["--target", "number", "--model", "linear"], "known.csv:3: the label 'big' is not a number"),
]


@pytest.mark.parametrize("labels, extra, expected", [r[1:] for r in LABEL_FILES],
                         ids=[r[0] for r in LABEL_FILES])
def test_label_files_mark_unlabeled_samples_as_fit_does(tmp_path, monkeypatch, capsys, labels,
                                                         extra, expected):
    from skal.cli import main

    np.save(tmp_path / "pool.npy", np.random.default_rng(0).random((6, 3)))
    if isinstance(labels, str):
        known = tmp_path / "known.csv"
        known.write_text(labels)
    else:
        known = tmp_path / "known.npy"
        np.save(known, np.asarray(labels))
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    status = main(["label", str(tmp_path / "pool.npy"), "--labels", str(known), "--color",
                   "none", *(extra or ["--model", "logreg"])])
    err = capsys.readouterr().err
    with LabelJournal(tmp_path / "pool.npy.journal.sqlite") as j:
        recorded = {i: (type(label), label) for i, label in j.labels().items()}
    if isinstance(expected, str):
        assert status == 2 and expected in err and "known." in err, err
        assert recorded == {} and "Traceback" not in err
    else:
        assert status == 0, err
        assert recorded == expected  # no skip, no '' class, ints stay ints


def _image_folder(folder, images):
    from PIL import Image

    folder.mkdir()
    for i, img in enumerate(images):
        Image.fromarray(img).save(folder / f"im{i:02}.png")
    return folder


def test_image_folders_keep_their_colours(tmp_path):
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, size=(3, 5, 4, 3), dtype=np.uint8)  # height 5, width 4
    grey = rng.integers(0, 256, size=(2, 5, 4), dtype=np.uint8)

    X, shape, names = load_pool(_image_folder(tmp_path / "grey", grey))
    assert shape == (5, 4) and X.shape == (2, 20)  # greyscale stays one channel, as before
    np.testing.assert_array_equal(X, grey.reshape(2, -1) / np.float32(255))

    X, shape, names = load_pool(_image_folder(tmp_path / "colour", colour))
    assert shape == (5, 4, 3) and X.shape == (3, 60) and X.dtype == np.float32
    np.testing.assert_array_equal(X.reshape(3, 5, 4, 3), colour / np.float32(255))

    # mixed: every image RGB, the greyscale ones as three equal channels
    X, shape, names = load_pool(_image_folder(tmp_path / "mixed", [*colour, *grey]))
    assert shape == (5, 4, 3) and names == [f"im{i:02}.png" for i in range(5)]
    np.testing.assert_array_equal(X[:3].reshape(3, 5, 4, 3), colour / np.float32(255))
    np.testing.assert_array_equal(X[3:].reshape(2, 5, 4, 3),
                                  np.repeat(grey[..., None], 3, axis=-1) / np.float32(255))

    X, shape, _ = load_pool(tmp_path / "colour", image_size=(2, 3))  # (width, height)
    assert shape == (3, 2, 3) and X.shape == (3, 18)


def test_colour_folder_session_with_the_cnn_and_no_tensorflow_noise(tmp_path):
    """A colour folder trains a CNN on (height, width, 3) images, shows them in colour, and
    stderr holds no TensorFlow C++ line and no retracing warning."""
    from skal import load

    rng = np.random.default_rng(0)
    y = np.arange(12) % 2
    images = rng.integers(0, 120, size=(12, 8, 8, 3), dtype=np.uint8)
    images[y == 1, :, :, 0] += 120  # class 1 is redder
    folder = _image_folder(tmp_path / "colour", images)
    env = {k: v for k, v in ENV.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    out = subprocess.run(
        skal_label(folder, "--model", "cnn", "--epochs", "1", "--batch-size", "3",
                   "--initial-size", "5", "--rounds", "1", "--color", "256",
                   "--save", tmp_path / "learner.skal"),
        input="\n".join(str(v) for v in y) + "\n", capture_output=True, text=True, env=env,
        timeout=300, cwd=REPO_ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "pool: 12 samples of 192 features" in out.stdout
    assert "\x1b[38;5;" in out.stdout  # coloured half blocks
    assert not re.search(r"^[IWEF]\d{4} |absl::InitializeLog|retracing", out.stderr,
                         flags=re.M), out.stderr
    learner = load(next(tmp_path.glob("learner.skal*")))
    assert learner.estimator_.input_shape_ == (8, 8, 3)


def test_web_refuses_rounds_before_touching_the_journal(pool):
    path, _ = pool
    done = subprocess.run(skal_label(path, "--web", "--rounds", "2", *FAST), env=ENV,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "--rounds" in done.stderr and "--max-labels" in done.stderr
    assert not Path(f"{path}.journal.sqlite").exists()


# (what, --annotator value, fragment of the error)
BAD_ANNOTATOR_OPTIONS = [
    ("empty", "", "--annotator is empty"),
    ("too long", "a" * 41, "has 41 characters"),
    ("control characters", "ana\x1b[2J", "has the character '\\x1b'"),
    ("HTML", "<b>ana</b>", "has the character '<'"),
]


@pytest.mark.parametrize("name, fragment", [r[1:] for r in BAD_ANNOTATOR_OPTIONS],
                         ids=[r[0] for r in BAD_ANNOTATOR_OPTIONS])
def test_bad_annotator_names_are_refused_before_the_journal(pool, capsys, name, fragment):
    from skal.cli import main

    path, _ = pool
    with pytest.raises(SystemExit) as exit_:
        main(["label", str(path), *FAST, "--annotator", name])
    assert exit_.value.code == 2 and fragment in capsys.readouterr().err
    assert not Path(f"{path}.journal.sqlite").exists()


def test_the_terminal_records_the_annotator(pool):
    path, truth = pool
    out = subprocess.run(skal_label(path, *FAST, "--annotator", "ana"), input="0\n1\nq\n",
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    with LabelJournal(f"{path}.journal.sqlite") as j:
        assert [r["annotator"] for r in j.records()] == ["ana", "ana"]
