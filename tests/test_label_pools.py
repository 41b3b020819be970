"""`skal label` in the terminal on the pools a codebase holds (CSV, Parquet, a text column, a
folder of .txt files) and with a model of your own (a factory, a fitted model to start from,
a saved learner); bad pools and bad --model values, table-driven, each a clear error that
names the option and the fix, never a traceback; hostile and huge cells shown escaped and cut."""

from __future__ import annotations

import io
import re
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from skal import LabelJournal
from skal.cli import main
from skal.cli._pools import TERMINAL_TEXT, open_pool, terminal_text

FAST = ["--classes", "pos,neg", "--batch-size", "4", "--initial-size", "4", "--color", "none"]
POS, NEG = "great love perfect thanks", "refund broken late awful"


def reviews(n=24, seed=0):
    """A table of reviews: an id, a rating (number), a channel (category) and a text."""
    rng = np.random.default_rng(seed)
    sentiment = np.array(["pos", "neg"] * (n // 2))
    return pd.DataFrame({
        "review_id": [f"r{k:03}" for k in range(n)],
        "stars": np.where(sentiment == "pos", rng.integers(4, 6, n), rng.integers(1, 3, n)),
        "channel": rng.choice(["web", "app", None], n),
        "body": [f"{POS if s == 'pos' else NEG} item {k}" for k, s in enumerate(sentiment)],
    }), sentiment


def rounds(out: str) -> list[int]:
    """The labels of each fit, from the 'round N: K labels' lines."""
    return [int(k) for k in re.findall(r"^round \d+: (\d+) labels", out, flags=re.M)]


def run_label(monkeypatch, capsys, args, answers=""):
    """``skal label ARGS`` in this process, answers on stdin: (status, stdout, stderr)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    status = main(["label", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


# ----------------------------------------------------------------------------- sessions


def test_a_csv_session_shows_records_and_journals_the_id_column(tmp_path, monkeypatch,
                                                               capsys):
    table, truth = reviews()
    table.to_csv(tmp_path / "reviews.csv", index=False)
    args = [tmp_path / "reviews.csv", "--id-column", "review_id", "--features", "stars,channel",
            "--columns", "stars,channel", *FAST, "--model", "logreg"]
    monkeypatch.setattr(sys, "stdin", _Truthful(truth))
    status = main(["label", *map(str, args)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "pool: 24 table rows of 2 feature columns" in out
    first = int(re.search(r"^sample (\d+) \((r\d+)\)", out, flags=re.M).group(1))
    block = out.split(f"sample {first} (r{first:03})")[1].split("label [")[0]
    channel = table["channel"][first]
    assert [line.strip() for line in block.strip().splitlines()] == [
        f"stars: {table['stars'][first]}", f"channel: {'' if channel is None else channel}"]
    with LabelJournal(str(tmp_path / "reviews.csv") + ".journal.sqlite") as journal:
        labels = journal.labels()
        asked_by = {r["strategy"].split(":")[0] for r in journal.records() if r["round"]}
    assert labels == {f"r{k:03}": truth[k] for k in range(len(truth))}  # keyed by review_id
    assert "round 2:" in out
    assert asked_by == {"auto"}  # no --strategy: the library's default


class _Truthful(io.StringIO):
    """stdin answering each sample shown with its true label (the last 'sample N' line)."""

    def __init__(self, truth, skip=()):
        super().__init__()
        self.truth, self.skip = truth, set(skip)

    def readline(self, *args):
        shown = re.findall(r"^sample (\d+)", sys.stdout.getvalue(), flags=re.M)
        if not shown:
            return ""
        i = int(shown[-1])
        return "s\n" if i in self.skip else f"{self.truth[i]}\n"


def test_a_text_folder_session_resumes_by_file_name(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "texts"
    folder.mkdir()
    truth = {}
    for k in range(16):
        name = f"{'z' if k % 3 else 'a'}{k:02}.txt"
        (folder / name).write_text(f"{POS if k % 2 else NEG}\nsecond line {k}", encoding="utf-8")
        truth[name] = "pos" if k % 2 else "neg"
    names = sorted(truth)
    by_row = [truth[n] for n in names]
    monkeypatch.setattr(sys, "stdin", _Truthful(by_row))
    assert main(["label", str(folder), *FAST, "--rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "pool: 16 texts" in out
    first = int(re.search(r"^sample (\d+)", out, flags=re.M).group(1))
    assert f"sample {first} ({names[first]})\n  {by_row[first] == 'pos' and POS or NEG}\n" \
           f"  second line" in out  # shown as text, its lines kept
    journal = str(folder) + ".journal.sqlite"
    with LabelJournal(journal) as j:
        part = j.labels()
    assert 4 <= len(part) < 16 and part == {n: truth[n] for n in part}  # keyed by file name
    monkeypatch.setattr(sys, "stdin", _Truthful(by_row))
    assert main(["label", str(folder), *FAST, "--strategy", "margin"]) == 0
    out = capsys.readouterr().out
    asked = {names[int(i)] for i in re.findall(r"^sample (\d+)", out, flags=re.M)}
    assert not asked & set(part)  # the resumed session asks nothing twice
    with LabelJournal(journal) as j:
        assert j.labels() == truth


@pytest.mark.parametrize("strategy", ["auto", "entropy", "margin"])
def test_text_pipelines_run_the_strategies(tmp_path, monkeypatch, capsys, strategy):
    """TF-IDF's sparse features through 'auto' (ProbCover's PCA at few labels, then margin),
    entropy and margin: two rounds after the initial set, with guesses from the model."""
    table, truth = reviews(40, seed=1)
    table.to_csv(tmp_path / "r.csv", index=False)
    monkeypatch.setattr(sys, "stdin", _Truthful(truth))
    status = main(["label", str(tmp_path / "r.csv"), "--text-column", "body", *FAST,
                   "--strategy", strategy, "--rounds", "2"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert np.diff(rounds(out)).tolist() == [4, 4], out


@pytest.mark.skipif(pytest.importorskip("pandas") and not __import__("importlib").util.find_spec(
    "pyarrow"), reason="Parquet needs pyarrow: pip install pyarrow")
def test_a_parquet_table_is_a_pool(tmp_path, monkeypatch, capsys):
    table, truth = reviews()
    table.to_parquet(tmp_path / "r.parquet")
    pool = open_pool(tmp_path / "r.parquet", id_column="review_id", text_column="body")
    assert pool.kind == "text" and pool.keys[:2] == ["r000", "r001"]
    assert list(pool.X.columns) == ["body"] and pool.record(0) == [["review_id", "r000"]]
    monkeypatch.setattr(sys, "stdin", _Truthful(truth))
    assert main(["label", str(tmp_path / "r.parquet"), "--id-column", "review_id", *FAST,
                 "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "pool: 24 table rows of 3 feature columns" in out and len(rounds(out)) == 3


def test_hostile_and_huge_cells_are_escaped_and_cut(tmp_path):
    evil = "\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>"
    table = pd.DataFrame({f"col{evil}": [evil, "ok"], "body": ["word " * 100_000, evil]})
    table.to_csv(tmp_path / "t.csv", index=False)
    pool = open_pool(tmp_path / "t.csv", text_column="body", columns=f"col{evil}")
    shown = terminal_text(pool, 0)
    assert "\x1b" not in shown and "\\x1b[2J" in shown and "<script>" in shown
    assert len(shown) < TERMINAL_TEXT + 1000 and "500,000 characters in all" in shown
    assert "\x1b" not in terminal_text(pool, 1) and "\x07" not in terminal_text(pool, 1)
    long_lines = pd.DataFrame({"body": ["\n".join(["line"] * 500)]})
    long_lines.to_csv(tmp_path / "lines.csv", index=False)
    assert "characters in all" in terminal_text(open_pool(tmp_path / "lines.csv",
                                                          text_column="body"), 0)


# ----------------------------------------------------------------------------- keys


def _cid_pool(folder):
    """20 rows keyed by a zero-padded --id-column 'cid' that runs backwards (row 0 is 019,
    row 14 is 005): pandas alone reads these ids as the numbers 19 and 5."""
    path = folder / "pool.csv"
    path.write_text("\n".join(["cid,x1,x2", *(f"{19 - i:03d},{i},{i % 3}" for i in range(20))])
                    + "\n")
    return path


KEYED = ["--id-column", "cid", "--classes", "a,b", "--model", "logreg", "--color", "none"]

# (what, the --labels CSV, the journal's labels after the import, or a fragment of the error)
ID_COLUMN_LABELS = [
    ("zero-padded ids as written", "id,label\n005,a\n015,b\n", {"005": "a", "015": "b"}),
    ("no header line", "005,a\n000,b\n", {"005": "a", "000": "b"}),
    ("one label twice", "id,label\n005,a\n005,a\n019,b\n", {"005": "a", "019": "b"}),
    ("empty and -1 are no label", "id,label\n005,\n015,-1\n019,b\n", {"019": "b"}),
    ("a row number is no id", "id,label\n005,a\n5,b\n",
     "known.csv:3: no sample of the pool has the id '5'"),
    ("a row number on the first line", "5,a\n015,b\n",
     "known.csv:1: no sample of the pool has the id '5'"),
    ("an id not in the pool", "id,label\n005,a\n020,b\n", "the id '020'"),
    ("two labels for one sample", "id,label\n005,a\n005,b\n",
     "known.csv:3: sample '005' is labeled 'b' here but 'a' on line 2"),
]


@pytest.mark.parametrize("labels, expected", [r[1:] for r in ID_COLUMN_LABELS],
                         ids=[r[0] for r in ID_COLUMN_LABELS])
def test_id_column_values_are_keys_exactly_as_written(tmp_path, monkeypatch, capsys, labels,
                                                      expected):
    pool, known = _cid_pool(tmp_path), tmp_path / "known.csv"
    known.write_text(labels)
    journal = tmp_path / "pool.csv.journal.sqlite"
    status, out, err = run_label(monkeypatch, capsys, [pool, *KEYED, "--labels", known], "q\n")
    if isinstance(expected, str):
        assert status == 2 and err.startswith("skal label: error: ") and expected in err, err
        assert "Traceback" not in err
        with LabelJournal(journal) as j:
            assert j.labels() == {}  # nothing recorded, on any sample
        return
    assert status == 0, err
    shown = re.search(r"^sample \d+ \((\d+)\)\n  cid: (\d+)$", out, flags=re.M)
    assert len(shown.group(1)) == 3 and shown.group(1) == shown.group(2)  # shown as written
    with LabelJournal(journal) as j:
        assert j.labels() == expected
    assert main(["export", str(journal), "--output", str(tmp_path / "out.csv")]) == 0
    exported = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert dict(zip(exported["sample"], exported["label"])) == expected


def test_a_journal_keyed_by_ids_read_as_numbers_is_refused(tmp_path, monkeypatch, capsys):
    """A journal written when 005 was read as 5 names no sample now: refused, untouched,
    never taken as the answers of other samples."""
    pool = _cid_pool(tmp_path)
    journal = tmp_path / "pool.csv.journal.sqlite"
    with LabelJournal(journal, pool_fingerprint=open_pool(pool, id_column="cid").fingerprint()
                      ) as j:
        j.append(["5", "15"], ["a", "b"], round=0, strategy="initial")
    status, _, err = run_label(monkeypatch, capsys, [pool, *KEYED], "q\n")
    assert status == 2 and "holds answers for sample id '5' (and 1 more)" in err, err
    assert "--id-column 'cid'" in err and "--journal NEW.sqlite" in err
    with LabelJournal(journal) as j:
        assert j.labels() == {"5": "a", "15": "b"}


# ----------------------------------------------------------------------------- your model


FACTORIES = textwrap.dedent('''
    """Factories of a user's models for skal label --model (a test module)."""
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline
    from skal import ActiveLearningClassifier

    def nb():
        return make_pipeline(ColumnTransformer([("words", CountVectorizer(), "body")]),
                             MultinomialNB())

    def learner():
        return ActiveLearningClassifier(nb(), query_strategy="margin", n_instances=3,
                                        initial_size=3)

    def default_model_learner():  # estimator=None: the learner's default model, the CNN
        return ActiveLearningClassifier(n_instances=3, initial_size=3)

    def trained():
        import pandas as pd
        X = pd.DataFrame({"body": ["great love", "refund broken", "love perfect", "late awful"]})
        return nb().fit(X, ["pos", "neg", "pos", "neg"])

    def not_callable_thing():
        pass

    NOT_CALLABLE = 3

    def a_class():
        return LogisticRegression

    def no_fit():
        return object()

    def no_proba():
        from sklearn.svm import SVC
        return SVC()

    def raises():
        raise RuntimeError("the GPU is on fire")
''')


@pytest.fixture
def factories(tmp_path, monkeypatch):
    (tmp_path / "my_models.py").write_text(FACTORIES)
    monkeypatch.syspath_prepend(str(tmp_path))
    table, truth = reviews()
    table.to_csv(tmp_path / "r.csv", index=False)
    sys.modules.pop("my_models", None)
    return tmp_path / "r.csv", truth


def test_a_factory_model_and_a_learner_of_your_own(factories, monkeypatch, capsys):
    path, truth = factories
    base = ["label", str(path), "--text-column", "body", *FAST]
    monkeypatch.setattr(sys, "stdin", _Truthful(truth))
    assert main([*base, "--model", "my_models:nb", "--rounds", "2"]) == 0
    assert np.diff(rounds(capsys.readouterr().out)).tolist() == [4, 4]  # the CLI's batch size

    monkeypatch.setattr(sys, "stdin", _Truthful(truth))  # a learner keeps its own batch size
    assert main(["label", str(path), "--text-column", "body", "--classes", "pos,neg",
                 "--model", "my_models:learner", "--rounds", "2", "--journal",
                 str(path.parent / "j2.sqlite")]) == 0
    out = capsys.readouterr().out
    assert np.diff(rounds(out)).tolist() == [3, 3]


def test_a_learner_with_the_default_model_from_a_factory(tmp_path, factories, monkeypatch,
                                                         capsys):
    # estimator=None is the learner's default model: nothing to clone (was a TypeError)
    pool = tmp_path / "pool.npy"
    np.save(pool, np.random.default_rng(0).random((12, 8, 8)))
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    assert main(["label", str(pool), "--classes", "0,1", "--model",
                 "my_models:default_model_learner", "--color", "none"]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_fitted_model_is_the_starting_point(factories, monkeypatch, capsys):
    path, truth = factories
    monkeypatch.setattr(sys, "stdin", _Truthful(truth))
    assert main(["label", str(path), "--text-column", "body", *FAST, "--model",
                 "my_models:trained", "--rounds", "4", "--strategy", "entropy"]) == 0
    out = capsys.readouterr().out
    # no random initial set: the trained model picks the first batches, kept while the
    # answers are of one class (its uncertain texts here), then the first fit on answers
    assert "starting from the trained model of --model" in out and "round 0:" not in out
    assert "answers of one class so far: the starting model keeps choosing" in out
    assert rounds(out) == [16], out  # 4 rounds of 4: three of one class, one fit


def test_a_saved_cnn_learner_is_the_starting_point(tmp_path, monkeypatch, capsys, digits_xy,
                                                  make_cnn):
    from skal import ActiveLearningClassifier

    X, y = digits_xy
    saved = ActiveLearningClassifier(make_cnn(epochs=1), initial_size=20, n_queries=0,
                                     random_state=0).fit(X[:40], y[:40]).save(tmp_path / "m.skal")
    np.save(tmp_path / "pool.npy", X[100:140])
    monkeypatch.setattr(sys, "stdin", _Truthful(y[100:140]))
    status = main(["label", str(tmp_path / "pool.npy"), "--model", str(saved), "--classes",
                   "0,1,2,3,4,5,6,7,8,9", "--batch-size", "5", "--rounds", "1", "--color",
                   "none"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert re.search(r"^round 1: 5 labels", out, flags=re.M) and "round 0:" not in out, out
    np.save(tmp_path / "wide.npy", np.zeros((10, 5)))
    status, _, err = run_label(monkeypatch, capsys, [tmp_path / "wide.npy", "--model", saved])
    assert status == 2 and "--model" in err and "reads 64 features" in err


# ----------------------------------------------------------------------------- bad input


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        path.mkdir()
        for file, data in content.items():
            (path / file).write_bytes(data)
    else:
        path.write_text(content, encoding="utf-8")
    return path


GOOD_CSV = "id,a,b,body\nx1,1,u,good\nx2,2,v,bad\n"

BAD_POOLS = [
    ("pool.xlsx", b"PK\x03\x04", [], "a pool is a .csv, .tsv, .parquet, .npy or .npz"),
    ("empty.csv", b"", [], "is empty: a table pool needs a header line and rows"),
    ("header.csv", "id,a\n", [], "holds no rows"),
    ("latin1.csv", "id,a\n1,caf\xe9\n".encode("latin-1"), [], "is not UTF-8 text (byte 0xe9"),
    ("t.csv", GOOD_CSV, ["--columns", "a,nope"], "--columns: the table has no column 'nope'"),
    ("t.csv", GOOD_CSV, ["--features", "zz"], "--features: the table has no column 'zz'; its "
                                              "columns are 'id', 'a', 'b', 'body'"),
    ("t.csv", GOOD_CSV, ["--text-column", "text"], "--text-column: the table has no column"),
    ("t.csv", GOOD_CSV, ["--id-column", "ID"], "--id-column: the table has no column 'ID'"),
    ("t.csv", "id,a\nx,1\nx,2\n", ["--id-column", "id"], "the key 'x' is on rows 0 and 1"),
    ("t.csv", "id,a\nx,1\n,2\n", ["--id-column", "id"], "row 1 has no value"),
    ("t.csv", GOOD_CSV, ["--text-column", "body", "--features", "a"], "--features and "
                                                                       "--text-column"),
    ("t.csv", GOOD_CSV, ["--text-column", "body", "--model", "cnn"], "the CNN reads images"),
    ("t.csv", GOOD_CSV, ["--model", "cnn"], "a table's default is a numeric + categorical"),
    ("t.csv", GOOD_CSV, ["--columns", ","], "--columns names no column"),
    ("t.csv", GOOD_CSV, ["--holdout", "h.npz"], "a table pool's holdout is a table (.csv"),
    ("t.csv", "a,b\n1,\"unclosed\n", [], "cannot read"),
    ("p.npy", None, ["--columns", "a"], "--columns applies to a table pool"),
    ("p.npy", None, ["--text-column", "a", "--id-column", "b"], "--text-column, --id-column "
                                                                "apply to a table pool"),
    ("texts", {"a.txt": b"fine", "b.txt": b"\xff\xfe bad"}, [], "b.txt is not UTF-8 text "
                                                                 "(byte 0xff at position 0)"),
    ("nothing", {"a.md": b"# hi"}, [], "holds no .png/.jpg/.jpeg image and no .txt file"),
    ("t.parquet", b"PAR1 not really", [], "cannot read"),
]


@pytest.mark.parametrize("name,content,extra,fragment", BAD_POOLS,
                         ids=[f"{r[0]}{' '.join(r[2])}" for r in BAD_POOLS])
def test_bad_pools_are_clear_errors(tmp_path, monkeypatch, capsys, name, content, extra,
                                    fragment):
    if name.endswith(".parquet"):  # without pyarrow the error is how to install it (below)
        pytest.importorskip("pyarrow", reason="reading a damaged Parquet file needs pyarrow")
    if content is None:
        np.save(tmp_path / name, np.zeros((4, 3)))
        path = tmp_path / name
    else:
        path = _write(tmp_path, name, content)
    status, out, err = run_label(monkeypatch, capsys, [path, "--model", "logreg", *extra]
                                 if "--model" not in extra else [path, *extra])
    assert status == 2 and fragment in err, err
    assert err.startswith("skal label: error: ") and "Traceback" not in err + out


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as when it is not installed
    path = _write(tmp_path, "t.parquet", b"PAR1")
    status, _, err = run_label(monkeypatch, capsys, [path])
    assert status == 2 and "reading Parquet needs pyarrow: pip install pyarrow" in err


BAD_MODELS = [
    ("no_such_module:make", "cannot import no_such_module: No module named 'no_such_module'"),
    ("my_models:missing", "my_models has no missing"),
    ("my_models:NOT_CALLABLE", "NOT_CALLABLE is not callable"),
    ("my_models:ActiveLearningClassifier", "ActiveLearningClassifier is a class"),
    ("my_models:a_class", "returned the class LogisticRegression, not an estimator"),
    ("my_models:no_fit", "returned object, which is not a scikit-learn estimator"),
    ("my_models:no_proba", "SVC has no predict_proba"),
    ("my_models:raises", "raises() raised RuntimeError: the GPU is on fire"),
    ("my_models:not_callable_thing", "returned NoneType, which is not a scikit-learn"),
    ("my-models:nb", "a factory is package.module:function"),
    ("nowhere.skal", "no such file, and not a name (auto, cnn, logreg, linear) or a "),
    ("r.csv", "not a saved skal learner"),
    ("cnn1", "no such file"),
]


@pytest.mark.parametrize("value,fragment", BAD_MODELS, ids=[r[0] for r in BAD_MODELS])
def test_bad_models_are_clear_errors_naming_model(factories, monkeypatch, capsys, value,
                                                  fragment):
    path, _ = factories
    if value == "r.csv":
        value = str(path)
    status, out, err = run_label(monkeypatch, capsys, [path, "--text-column", "body",
                                                        "--model", value])
    assert status == 2 and "--model" in err and fragment in err, err
    assert "Traceback" not in err + out


def test_a_trained_model_on_other_columns_is_refused(factories, monkeypatch, capsys):
    path, _ = factories  # my_models:trained reads the column 'body'; the pool gives 'stars'
    status, _, err = run_label(monkeypatch, capsys, [path, "--features", "stars", "--model",
                                                     "my_models:trained"])
    assert status == 2 and "--model" in err and "trained on columns ['body']" in err
