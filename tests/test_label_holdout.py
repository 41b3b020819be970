"""`skal label --holdout` for table and text pools: a CSV/Parquet holdout with the columns the
model reads and a label column (``label``, or ``--holdout-label-column``) is scored after each
round, its labels in its rows' order; mismatched holdouts, table-driven, are clear errors that
name the option and the fix."""

from __future__ import annotations

import io
import re
import sys

import numpy as np
import pandas as pd
import pytest

from skal.cli import main

FAST = ["--classes", "pos,neg", "--batch-size", "4", "--initial-size", "4", "--rounds", "1",
        "--color", "none"]
POS, NEG = "great love perfect thanks", "refund broken late awful"
ACCURACY = re.compile(r"^round \d+: .*validation accuracy (\d\.\d{3})", flags=re.M)


class Truthful(io.StringIO):
    """stdin answering each sample shown (the last 'sample N' line) with ``truth[N]``."""

    def __init__(self, truth):
        super().__init__()
        self.truth = truth

    def readline(self, *args):
        i = int(re.findall(r"^sample (\d+)", sys.stdout.getvalue(), flags=re.M)[-1])
        return f"{self.truth[i]}\n"


def label(monkeypatch, capsys, args, truth):
    monkeypatch.setattr(sys, "stdin", Truthful(truth))
    status = main(["label", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def table(n, seed):
    """Rows whose class follows ``stars`` (a number); ``channel`` is a category."""
    rng = np.random.default_rng(seed)
    truth = np.array(["pos", "neg"] * (n // 2))
    return pd.DataFrame({
        "id": [f"r{seed}-{k}" for k in range(n)],
        "stars": np.where(truth == "pos", rng.integers(4, 6, n), rng.integers(1, 3, n)),
        "channel": rng.choice(["web", "app"], n)}), truth


def test_a_table_pool_scores_a_csv_holdout_by_its_label_column(tmp_path, monkeypatch,
                                                              capsys):
    pool, truth = table(24, 0)
    pool.to_csv(tmp_path / "pool.csv", index=False)
    held, held_truth = table(20, 1)
    held = held.drop(columns="id").assign(note="ignored", truth=held_truth)[
        ["truth", "note", "channel", "stars"]]  # any order, other columns too
    held.to_csv(tmp_path / "held.csv", index=False)
    held.assign(truth=np.where(held_truth == "pos", "neg", "pos")).to_csv(
        tmp_path / "flipped.csv", index=False)
    for holdout, expected in (("held.csv", "1.000"), ("flipped.csv", "0.000")):
        status, out, err = label(monkeypatch, capsys, [
            tmp_path / "pool.csv", "--id-column", "id", *FAST, "--holdout",
            tmp_path / holdout, "--holdout-label-column", "truth", "--journal",
            tmp_path / f"{holdout}.sqlite"], truth)
        assert status == 0, err
        assert "holdout 20;" in out
        assert ACCURACY.findall(out)[-1] == expected, out


def test_a_text_folder_scores_a_holdout_with_a_text_column(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "texts"
    folder.mkdir()
    truth = []
    for k in range(16):
        truth.append("pos" if k % 2 else "neg")
        (folder / f"t{k:02}.txt").write_text(f"{POS if k % 2 else NEG} item {k}")
    pd.DataFrame({"label": ["pos", "neg"] * 5,
                  "text": [f"{POS if k % 2 == 0 else NEG} other {k}" for k in range(10)]}
                 ).to_csv(tmp_path / "held.csv", index=False)  # no pyarrow needed
    status, out, err = label(monkeypatch, capsys, [folder, *FAST, "--holdout",
                                                   tmp_path / "held.csv"], truth)
    assert status == 0, err
    assert "holdout 10;" in out and ACCURACY.findall(out)[-1] == "1.000", out


GOOD = "stars,channel,label\n5,web,pos\n1,app,neg\n"

# (what, pool, holdout file name, its content, extra options, fragment of the error)
BAD_HOLDOUTS = [
    ("npz for a table", "csv", "h.npz", None, [],
     "a table pool's holdout is a table (.csv, .tsv, .parquet) with the columns 'stars', "
     "'channel' and a label column 'label'"),
    ("no label column", "csv", "h.csv", "stars,channel,y\n5,web,pos\n", [],
     "it has no column 'label' (name the label column with --holdout-label-column)"),
    ("a feature missing", "csv", "h.csv", "stars,label\n5,pos\n", [],
     "it has no column 'channel'; a table pool's holdout holds the columns 'stars', "
     "'channel' and the label column 'label'; its columns are 'stars', 'label'"),
    ("label column is a feature", "csv", "h.csv", GOOD, ["--holdout-label-column", "stars"],
     "--holdout-label-column 'stars' is a column the model reads"),
    ("a missing label", "csv", "h.csv", "stars,channel,label\n5,web,pos\n1,app,\n", [],
     "row 1 has no 'label'; every holdout row needs its label"),
    ("a label not a class", "csv", "h.csv", "stars,channel,label\n5,web,pos\n1,app,meh\n", [],
     "row 1 has the label 'meh', not one of --classes 'pos', 'neg'"),
    ("text in a number column", "csv", "h.csv", "stars,channel,label\n5,web,pos\nfive,app,neg\n",
     [], "the column 'stars' holds numbers in the pool but 'five' on row 1 of the holdout"),
    ("no such file", "csv", "nowhere.csv", "", [], "--holdout: no file at"),
    ("no text column", "texts", "h.csv", "body,label\nhi,pos\n", [],
     "it has no column 'text'; a text pool's holdout holds the text column 'text'"),
    ("a table for an array", "npy", "h.csv", GOOD, [],
     "h.csv: the holdout of an array or image pool is a .npz of arrays X and y (a table "
     "holdout is for a table or text pool)"),
    ("label column for an array", "npy", "h.npz", None, ["--holdout-label-column", "y"],
     "--holdout-label-column names a column of a table pool's holdout; this array pool's "
     "holdout is a .npz of arrays X and y"),
    ("label column alone", "csv", None, None, ["--holdout-label-column", "y"],
     "--holdout-label-column names the label column of a --holdout table: give --holdout"),
]


@pytest.mark.parametrize("pool_kind, name, content, extra, fragment",
                         [r[1:] for r in BAD_HOLDOUTS], ids=[r[0] for r in BAD_HOLDOUTS])
def test_a_mismatched_holdout_is_a_clear_error(tmp_path, monkeypatch, capsys, pool_kind, name,
                                               content, extra, fragment):
    if pool_kind == "csv":
        pool = tmp_path / "pool.csv"
        pool.write_text("id,stars,channel\na,5,web\nb,1,app\nc,4,web\n")
        extra = [*extra, "--id-column", "id"]
    elif pool_kind == "texts":
        pool = tmp_path / "texts"
        pool.mkdir()
        (pool / "a.txt").write_text("hello")
    else:
        pool = tmp_path / "pool.npy"
        np.save(pool, np.zeros((4, 3)))
    if name is not None:
        extra = [*extra, "--holdout", tmp_path / name]
    if name is not None and content is None:
        np.savez(tmp_path / name, X=np.zeros((2, 3)), y=np.zeros(2))
    elif content:
        (tmp_path / name).write_text(content)
    status, out, err = label(monkeypatch, capsys, [pool, "--model", "logreg", *FAST, *extra],
                             {})
    assert status == 2 and err.startswith("skal label: error: ") and fragment in err, err
    assert "sample" not in out
