"""The label journal is durable, typed, crash-safe and tied to one pool."""

import contextlib
import os
import pickle
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skal.io import LabelJournal, pool_fingerprint
from skal.io.journal import JournalNotFoundError, JournalNotWritableError

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "labels.sqlite"


# --------------------------------------------------------------------------- round trip


def test_round_trip_int_and_str_ids_and_labels(path):
    with LabelJournal(path) as j:
        j.append([0, 5, 9], [1, 0, 2], round=0, strategy="margin", scores=[0.9, 0.5, 0.1])
        j.append(["img_a.png", "img_b.png"], ["cat", "dog"], round=1, strategy="random")
        j.append(np.array([11, 12]), np.array([3, 4], dtype=np.int8), round=np.int64(2))

        recs = j.records()
        assert [r["sample_id"] for r in recs] == [0, 5, 9, "img_a.png", "img_b.png", 11, 12]
        assert [r["label"] for r in recs] == [1, 0, 2, "cat", "dog", 3, 4]
        for r in recs:  # original Python types, not numpy and not str
            assert type(r["sample_id"]) in (int, str)
            assert type(r["label"]) in (int, str)
        assert type(recs[5]["sample_id"]) is int and type(recs[5]["label"]) is int
        assert [r["round"] for r in recs] == [0, 0, 0, 1, 1, 2, 2]
        assert [r["strategy"] for r in recs] == ["margin"] * 3 + ["random"] * 2 + [None] * 2
        assert [r["score"] for r in recs] == [0.9, 0.5, 0.1, None, None, None, None]
        assert [r["seq"] for r in recs] == sorted(r["seq"] for r in recs)
        assert all(isinstance(r["timestamp"], float) for r in recs)

        assert j.labels() == {
            0: 1,
            5: 0,
            9: 2,
            "img_a.png": "cat",
            "img_b.png": "dog",
            11: 3,
            12: 4,
        }
        assert j.labeled_ids() == [0, 5, 9, "img_a.png", "img_b.png", 11, 12]
        assert len(j) == 7
        assert j.n_rounds == 3


def test_int_id_and_str_id_are_distinct(path):
    with LabelJournal(path) as j:
        j.append([1, "1"], ["int", "str"])
        assert j.labels() == {1: "int", "1": "str"}


def test_relabel_last_label_wins_in_first_labeled_order(path):
    with LabelJournal(path) as j:
        j.append([4, 2, 7], ["a", "b", "c"], round=0)
        j.append([2], ["B"], round=1)
        j.append([9, 4], ["d", "A"], round=2)
        assert j.labels() == {4: "A", 2: "B", 7: "c", 9: "d"}
        assert list(j.labels()) == [4, 2, 7, 9]
        ids, labels = j.to_arrays()
        np.testing.assert_array_equal(ids, [4, 2, 7, 9])
        np.testing.assert_array_equal(labels, ["A", "B", "c", "d"])
        assert ids.dtype == np.int64
        assert len(j) == 6  # every append is kept
        assert len(j.labeled_ids()) == 4


def test_to_arrays_dtypes(path):
    with LabelJournal(path) as j:
        ids, labels = j.to_arrays()
        assert ids.shape == labels.shape == (0,)
        j.append(["a", "b"], [1, 2])
        ids, labels = j.to_arrays()
        assert ids.dtype.kind == "U" and labels.dtype.kind == "i"
        j.append([3], ["x"])  # mixed types: object arrays keep each value
        ids, labels = j.to_arrays()
        assert ids.dtype == object and labels.dtype == object
        assert ids.tolist() == ["a", "b", 3] and labels.tolist() == [1, 2, "x"]


def test_single_scalar_id_and_label(path):
    with LabelJournal(path) as j:
        j.append("only", "label")
        j.append(np.int64(3), np.str_("x"))
        assert j.labels() == {"only": "label", 3: "x"}


def test_empty_journal(path):
    with LabelJournal(path) as j:
        assert len(j) == 0 and j.n_rounds == 0
        assert j.records() == [] and j.labels() == {} and j.labeled_ids() == []
        j.append([], [])
        assert len(j) == 0
        j.append([1], [0])  # no round given
        assert j.n_rounds == 0


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 2**62), st.text(max_size=12)),
            st.one_of(
                st.integers(-(2**62), 2**62),
                st.text(max_size=12),
                st.booleans(),
                st.floats(allow_nan=False, allow_infinity=False),
            ),
        ),
        max_size=20,
    )
)
def test_round_trip_property(tmp_path_factory, pairs):
    path = tmp_path_factory.mktemp("j") / "j.sqlite"
    with LabelJournal(path) as j:
        if pairs:
            ids, labs = zip(*pairs, strict=True)
            j.append(list(ids), list(labs))
        got = [(r["sample_id"], r["label"]) for r in j.records()]
    assert got == pairs
    assert [tuple(map(type, g)) for g in got] == [tuple(map(type, p)) for p in pairs]


# --------------------------------------------------------------------------- validation


def test_length_mismatch_errors(path):
    with LabelJournal(path) as j:
        with pytest.raises(ValueError, match="labels has 1 entries but sample_ids has 2"):
            j.append([1, 2], [0])
        with pytest.raises(ValueError, match="scores has 3 entries but sample_ids has 2"):
            j.append([1, 2], [0, 1], scores=[0.1, 0.2, 0.3])
        assert len(j) == 0  # nothing half-written


def test_bad_types_refused(path):
    with LabelJournal(path) as j:
        with pytest.raises(TypeError, match="sample ids must be int"):
            j.append([1.5], [0])
        with pytest.raises(TypeError, match="sample ids must be int"):
            j.append([True], [0])
        for bad in (-1, np.int64(-5), 2**63):  # no pool has such a row: a campaign refused it
            with pytest.raises(ValueError, match=f"sample id {int(bad)} is no pool index"):
                j.append([3, bad], ["a", "b"])
        with pytest.raises(TypeError, match="labels must be"):
            j.append([1], [None])
        with pytest.raises(ValueError, match="finite"):
            j.append([1], [float("nan")])
        with pytest.raises(ValueError, match="round must be >= 0"):
            j.append([1], [0], round=-1)
        assert len(j) == 0


def test_closed_journal_refuses_use(path):
    j = LabelJournal(path)
    j.close()
    j.close()  # idempotent
    assert j.closed
    with pytest.raises(ValueError, match="closed"):
        j.append([1], [0])
    with pytest.raises(ValueError, match="closed"):
        j.labels()


# --------------------------------------------------------------------------- durability


def test_durable_across_reopen(path):
    with LabelJournal(path) as j:
        j.append([1, 2], ["a", "b"], round=0)
        created = j.created
    with LabelJournal(path) as j:
        assert j.labels() == {1: "a", 2: "b"}
        assert j.created == created
        j.append([3], ["c"], round=1)
    with LabelJournal(path) as j:
        assert j.labels() == {1: "a", 2: "b", 3: "c"}
        assert j.n_rounds == 2


def test_second_connection_sees_committed_rows(path):
    first = LabelJournal(path)
    first.append([1], ["a"])
    second = LabelJournal(path)  # while the first is still open
    assert second.labels() == {1: "a"}
    first.append([2], ["b"])
    assert second.labels() == {1: "a", 2: "b"}
    second.append([3], ["c"])
    assert first.labels() == {1: "a", 2: "b", 3: "c"}
    # a raw SQLite reader sees them too
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 3
    raw.close()
    first.close()
    second.close()


def test_wal_mode_and_full_sync(path):
    with LabelJournal(path) as j:
        assert j.journal_mode == "wal"
        assert j._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent
    raw.close()


CHILD = textwrap.dedent(
    """
    import sys, time
    from skal.io import LabelJournal
    j = LabelJournal(sys.argv[1])
    for i in range(int(sys.argv[2])):
        j.append([i], [f"label-{i}"], round=i)
        print(i, flush=True)
        time.sleep(0.002)
    print("done", flush=True)
    """
)


def test_sigkilled_writer_loses_no_reported_label(path):
    n, k = 5000, 40
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    reported = []
    try:
        for _ in range(k):
            line = proc.stdout.readline()
            assert line, f"child died early: {proc.stderr.read()}"
            reported.append(int(line))
    finally:
        proc.kill()  # SIGKILL on POSIX: no cleanup, no checkpoint, mid-stream
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert reported == list(range(k))

    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    raw.close()
    with LabelJournal(path) as j:
        labels = j.labels()
        assert j._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        j.append([n], ["after"])  # still writable after the crash
    for i in reported:
        assert labels[i] == f"label-{i}"
    assert k <= len(labels) < n  # killed mid-way
    assert sorted(labels) == list(range(len(labels)))  # a prefix: no holes


# --------------------------------------------------------------------------- refusals


def test_fingerprint_stored_and_mismatch_refused(path):
    fp_a = pool_fingerprint(np.zeros((4, 2)))
    fp_b = pool_fingerprint(np.ones((4, 2)))
    with LabelJournal(path, pool_fingerprint=fp_a) as j:
        assert j.fingerprint == fp_a
        j.append([0], [1])
    with LabelJournal(path) as j:  # no fingerprint given: accepted, stored one kept
        assert j.fingerprint == fp_a
    with LabelJournal(path, pool_fingerprint=fp_a) as j:
        assert len(j) == 1
    with pytest.raises(ValueError, match="belongs to another pool") as info:
        LabelJournal(path, pool_fingerprint=fp_b)
    assert fp_a in str(info.value) and fp_b in str(info.value)
    with LabelJournal(path) as j:  # the refused open changed nothing
        assert j.fingerprint == fp_a and len(j) == 1


def test_fingerprint_set_later_when_journal_has_none(path):
    with LabelJournal(path) as j:
        assert j.fingerprint is None
    with LabelJournal(path, pool_fingerprint="float64:2x2:abc") as j:
        assert j.fingerprint == "float64:2x2:abc"


def test_random_bytes_file_refused(path):
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match="not a skal label journal"):
        LabelJournal(path)


def test_corrupt_sqlite_header_file_refused(path):
    path.write_bytes(b"SQLite format 3\x00" + np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match="not a skal label journal"):
        LabelJournal(path)


def test_foreign_sqlite_db_refused_and_untouched(path):
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    raw.execute("INSERT INTO customers VALUES (1, 'x')")
    raw.commit()
    raw.close()
    before = path.read_bytes()
    with pytest.raises(ValueError, match="not a skal label journal"):
        LabelJournal(path)
    assert path.read_bytes() == before


def test_sqlite_db_with_lookalike_tables_refused(path):
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    raw.execute("CREATE TABLE labels (x INTEGER)")
    raw.commit()
    raw.close()
    with pytest.raises(ValueError, match="not a skal label journal"):
        LabelJournal(path)


def test_unknown_schema_version_refused(path):
    LabelJournal(path).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    with pytest.raises(ValueError, match="schema version 99"):
        LabelJournal(path)


def test_empty_file_becomes_a_journal(path):
    path.touch()
    with LabelJournal(path) as j:
        j.append([1], [2])
    with LabelJournal(path) as j:
        assert j.labels() == {1: 2}


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_format():
    fp = pool_fingerprint(np.zeros((1797, 64)))
    dtype, shape, digest = fp.split(":")
    assert (dtype, shape) == ("float64", "1797x64")
    assert len(digest) == 32 and int(digest, 16) >= 0
    assert pool_fingerprint(np.zeros((1797, 64))) == fp


def test_fingerprint_memmap_equals_in_memory_and_tracks_changes(tmp_path):
    X = np.random.default_rng(0).normal(size=(300, 17)).astype(np.float32)
    file = tmp_path / "pool.dat"
    mm = np.memmap(file, dtype=np.float32, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    mm = np.memmap(file, dtype=np.float32, mode="r", shape=X.shape)
    fp = pool_fingerprint(X)
    assert pool_fingerprint(mm) == fp
    assert pool_fingerprint(mm, chunk_bytes=100) == fp  # many blocks, same hash

    mm = np.memmap(file, dtype=np.float32, mode="r+", shape=X.shape)
    mm[123, 4] += 1e-3
    mm.flush()
    assert pool_fingerprint(mm) != fp
    Y = X.copy()
    Y[123, 4] += 1e-3
    assert pool_fingerprint(mm) == pool_fingerprint(Y)


def test_fingerprint_independent_of_layout_and_chunking():
    X = np.arange(1000 * 7, dtype=np.int64).reshape(1000, 7)
    fp = pool_fingerprint(X)
    assert pool_fingerprint(np.asfortranarray(X)) == fp
    assert pool_fingerprint(X, chunk_bytes=1) == fp
    assert pool_fingerprint(X.tolist()) == fp
    Z = np.zeros((2000, 7), dtype=np.int64)
    Z[::2] = X
    assert pool_fingerprint(Z[::2]) == fp  # a strided view


def test_fingerprint_sensitive_to_dtype_and_shape():
    X = np.arange(12, dtype=np.int64)
    fps = {
        pool_fingerprint(X),
        pool_fingerprint(X.reshape(3, 4)),
        pool_fingerprint(X.reshape(4, 3)),
        pool_fingerprint(X.view(np.float64)),
        pool_fingerprint(X.astype(np.int32)),
    }
    assert len(fps) == 5
    assert pool_fingerprint(X.reshape(3, 4)).startswith("int64:3x4:")


def test_fingerprint_other_dtypes_and_shapes():
    assert pool_fingerprint(np.array(["a", "bc"])).startswith("str64:2:")
    assert pool_fingerprint(np.zeros((0, 5))).startswith("float64:0x5:")
    assert pool_fingerprint(np.float64(3.0)).startswith("float64:scalar:")
    assert pool_fingerprint(np.zeros((2, 3, 4), dtype=bool)).startswith("bool:2x3x4:")
    dt = np.array(["2024-01-01", "2024-01-02"], dtype="datetime64[D]")
    assert pool_fingerprint(dt).startswith("datetime64[D]:2:")
    rec = np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])
    assert pool_fingerprint(rec) != pool_fingerprint(np.zeros(3, dtype=[("a", "i4"), ("c", "f8")]))
    with pytest.raises(TypeError, match="object-dtype"):
        pool_fingerprint(np.array([1, "a"], dtype=object))


# --------------------------------------------------------------------------- hostile records
# Each row of HOSTILE_RECORDS is one record written into a valid journal with the sqlite3
# module (not through LabelJournal): reading it must be a ValueError naming the journal, the
# record (seq=2) and the row's fragment -- never a raw JSONDecodeError, never a record
# silently skipped or reinterpreted. To add a case, add a row: (name, columns, fragment).

_GOOD = {"sample_id": "1", "label": '"cat"', "timestamp": 1.0, "round": 0,
         "strategy": "margin", "score": 0.5}
HOSTILE_RECORDS = [
    # --- sample ids: JSON text of an int (not a bool) or a str, nothing else
    ("id not JSON", {"sample_id": "abc"}, "sample id 'abc' is not JSON"),
    ("id a float", {"sample_id": "7.9"}, "sample id '7.9' is JSON for a float"),
    ("id a whole float", {"sample_id": "7.0"}, "is JSON for a float"),
    ("id in exponent form", {"sample_id": "1e3"}, "is JSON for a float"),
    ("id a bool", {"sample_id": "true"}, "is JSON for a bool"),
    ("id null", {"sample_id": "null"}, "is JSON for a null"),
    ("id a list", {"sample_id": "[7]"}, "is JSON for a list"),
    ("id an object", {"sample_id": '{"id": 7}'}, "is JSON for a dict"),
    ("id empty", {"sample_id": ""}, "sample id '' is not JSON"),
    ("id a blob", {"sample_id": b"7"}, "sample id b'7' is binary data"),
    ("id of 5000 digits", {"sample_id": "9" * 5000}, "is not JSON (Exceeds the limit"),
    ("id nested 100000 deep", {"sample_id": "[" * 100_000 + "]" * 100_000},
     "nests too deeply"),
    ("id unquoted key", {"sample_id": "img_a.png"}, "is not JSON"),
    # --- labels: JSON text of a finite number, a str or a bool (null: a retraction)
    ("label not JSON", {"label": "{{{"}, "label '{{{' is not JSON"),
    ("label single-quoted", {"label": "'cat'"}, "is not JSON"),
    ("label empty", {"label": ""}, "label '' is not JSON"),
    ("label NaN", {"label": "NaN"}, "label 'NaN' is not a finite number"),
    ("label infinite", {"label": "Infinity"}, "is not a finite number"),
    ("label overflowing", {"label": "1e400"}, "label '1e400' is not a finite number"),
    ("label a list", {"label": "[1, 2]"}, "is JSON for a list"),
    ("label an object", {"label": '{"cat": 1}'}, "is JSON for a dict"),
    ("label a blob", {"label": b'"cat"'}, "is binary data"),
    # --- the other columns
    ("round not a number", {"round": "abc"}, "round 'abc' is not a round"),
    ("round negative", {"round": -1}, "round -1 is not a round"),
    ("round a fraction", {"round": 2.5}, "round 2.5 is not a round"),
    ("timestamp not a time", {"timestamp": "yesterday"}, "timestamp 'yesterday' is not a number"),
    ("strategy a blob", {"strategy": b"margin"}, "strategy b'margin' is not text"),
    ("score not a number", {"score": "high"}, "score 'high' is not a number"),
]


def _with_record(path, **columns):
    """A journal holding one good record (seq 1), then ``columns`` as record seq 2."""
    with LabelJournal(path) as journal:
        journal.append([0], ["dog"], round=0)
    row = {**_GOOD, **columns}
    raw = sqlite3.connect(path)
    raw.execute(f"INSERT INTO labels ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()))
    raw.commit()
    raw.close()
    return path


@pytest.mark.parametrize("columns, fragment",
                         [pytest.param(c, f, id=name) for name, c, f in HOSTILE_RECORDS])
def test_hostile_records_are_refused_naming_the_journal_and_the_record(path, columns,
                                                                       fragment):
    _with_record(path, **columns)
    readers = [LabelJournal.records]
    if {"sample_id", "label"} & set(columns):
        readers += [LabelJournal.labels, LabelJournal.to_arrays, LabelJournal.labeled_ids]
    if "round" in columns:
        readers.append(lambda j: j.n_rounds)
    with LabelJournal(path) as journal:
        for read in readers:
            with pytest.raises(ValueError) as info:
                read(journal)
            message = str(info.value)
            assert message.startswith(f"label journal {str(path)!r}, record seq=2: "), message
            assert fragment in message, message
            assert "correct or delete that record" in message


# Records written by hand as JSON for what skal writes are read as such: the strict reading
# refuses what is not an id or a label, not what is spelt another way. (A guard against a
# reader stricter than the format; these rows read the same before and after it.)
ACCEPTED_RECORDS = [
    ("a user key that looks like an index", {"sample_id": '"7"'}, {"7": "cat"}),
    ("JSON around whitespace", {"sample_id": " 7 "}, {7: "cat"}),
    ("a negative index (the campaign checks it)", {"sample_id": "-3"}, {-3: "cat"}),
    ("a bool label", {"label": "true"}, {1: True}),
    ("a float label", {"label": "2.5"}, {1: 2.5}),
    ("no round, strategy or score", {"round": None, "strategy": None, "score": None},
     {1: "cat"}),
    ("a retraction", {"sample_id": "0", "label": "null"}, {}),
]


@pytest.mark.parametrize("columns, labels",
                         [pytest.param(c, lab, id=name) for name, c, lab in ACCEPTED_RECORDS])
def test_records_written_by_hand_as_json_are_read_as_such(path, columns, labels):
    with LabelJournal(_with_record(path, **columns)) as journal:
        current = {k: v for k, v in journal.labels().items() if k != 0}
        assert current == labels
        assert [tuple(map(type, kv)) for kv in current.items()] == \
            [tuple(map(type, kv)) for kv in labels.items()]
        assert len(journal.records()) == 2


def test_a_labels_table_without_the_journal_columns_is_refused(path):
    LabelJournal(path).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE labels")
    raw.execute("CREATE TABLE labels (seq INTEGER PRIMARY KEY, sample_id TEXT, label TEXT)")
    raw.commit()
    raw.close()
    with pytest.raises(ValueError, match=r"lacks the columns \['round', 'score', 'strategy', "
                                         r"'timestamp'\]"):
        LabelJournal(path)


# --------------------------------------------------------------------------- read-only


@contextlib.contextmanager
def frozen(target):
    """``target`` (a file or folder) made read-only for this process, then restored.

    As root (where permissions do not stop writes) with ``chattr +i``, else with chmod.
    """
    target = str(target)
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("needs chattr to make a file read-only as root")
        if subprocess.run(["chattr", "+i", target], capture_output=True).returncode:
            pytest.skip("this file system does not support immutable files")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", target], check=True)
    else:
        mode = os.stat(target).st_mode
        os.chmod(target, 0o555 if os.path.isdir(target) else 0o444)
        try:
            yield
        finally:
            os.chmod(target, mode)


def _journal(path):
    with LabelJournal(path) as journal:
        journal.append([1, 2], ["a", "b"], round=0)
        journal.append([3], ["c"], round=1)
    return path


def _refuses_appends(journal, cause):
    for write in (lambda: journal.append([9], ["z"]), lambda: journal.retract(1)):
        with pytest.raises(JournalNotWritableError, match="opened read-only") as info:
            write()
        assert str(journal.path) in str(info.value) and cause in str(info.value)
        assert isinstance(info.value, PermissionError) and isinstance(info.value, ValueError)


def test_a_read_only_journal_file_is_read_and_refuses_appends(path):
    _journal(path)
    before = path.read_bytes()
    with frozen(path):
        with LabelJournal(path) as journal:
            assert journal.read_only and "read-only" in repr(journal)
            assert journal.labels() == {1: "a", 2: "b", 3: "c"}
            assert len(journal.records()) == 3 and journal.n_rounds == 2
            _refuses_appends(journal, "the file does not take writes")
        with pytest.raises(JournalNotWritableError, match="cannot be written") as info:
            LabelJournal(path, read_only=False)  # a labeling session: refused at open
        assert "the file does not take writes" in str(info.value)
    assert path.read_bytes() == before
    with LabelJournal(path) as journal:  # writable again
        assert not journal.read_only
        journal.append([4], ["d"])


def test_a_journal_in_a_read_only_folder_is_read_and_refuses_appends(path):
    _journal(path)
    assert os.listdir(path.parent) == [path.name]  # no -wal, no -shm: read as immutable
    with frozen(path.parent):
        with LabelJournal(path) as journal:
            assert journal.read_only
            assert journal.labels() == {1: "a", 2: "b", 3: "c"}
            _refuses_appends(journal, f"its folder {str(path.parent)!r} does not take new files")
        assert os.listdir(path.parent) == [path.name]


def test_a_write_ahead_log_in_a_read_only_folder_is_read_or_refused(tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    writer = LabelJournal(live / "j.sqlite")  # open: its appends stay in the -wal
    try:
        writer.append([1, 2], ["a", "b"], round=0)
        writer.append([3], ["c"], round=1)
        assert os.path.getsize(live / "j.sqlite-wal") > 0
        for name, files in {"all": ("", "-wal", "-shm"), "no_shm": ("", "-wal")}.items():
            (tmp_path / name).mkdir()
            for suffix in files:
                shutil.copyfile(live / f"j.sqlite{suffix}", tmp_path / name / f"j.sqlite{suffix}")
    finally:
        writer.close()
    with frozen(tmp_path / "all"), LabelJournal(tmp_path / "all" / "j.sqlite") as journal:
        assert journal.labels() == {1: "a", 2: "b", 3: "c"}  # its files exist: writable
    copy = tmp_path / "no_shm" / "j.sqlite"
    with frozen(tmp_path / "no_shm"):
        with pytest.raises(JournalNotWritableError, match="write-ahead log") as info:
            LabelJournal(copy)  # reading the file alone would miss the appends in the -wal
    assert str(copy) in str(info.value) and "does not take new files" in str(info.value)
    with LabelJournal(copy) as journal:  # with the folder writable again, all is there
        assert journal.labels() == {1: "a", 2: "b", 3: "c"}


def test_a_missing_or_read_only_folder_is_named_with_its_cause(tmp_path):
    missing = tmp_path / "no" / "such" / "j.sqlite"
    with pytest.raises(JournalNotFoundError, match="does not exist") as info:
        LabelJournal(missing)
    assert str(missing.parent) in str(info.value) and "unable to open" not in str(info.value)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, ValueError)
    assert not (tmp_path / "no").exists()
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(JournalNotFoundError, match="is a file, not a folder"):
        LabelJournal(tmp_path / "file" / "j.sqlite")
    folder = tmp_path / "ro"
    folder.mkdir()
    with frozen(folder):
        for new in (folder / "j.sqlite", folder / "j2.sqlite"):
            with pytest.raises(JournalNotWritableError, match="cannot be created") as info:
                LabelJournal(new)
            assert f"its folder {str(folder)!r} does not take new files" in str(info.value)
            assert "unable to open" not in str(info.value)
    assert os.listdir(folder) == []


def test_read_only_true_never_writes(path, tmp_path):
    _journal(path)
    with LabelJournal(path, read_only=True, pool_fingerprint="float64:2x2:abc") as journal:
        assert journal.read_only and journal.labels() == {1: "a", 2: "b", 3: "c"}
        _refuses_appends(journal, "read_only=True")
        assert journal.fingerprint is None  # not stored: nothing is written
        restored = pickle.loads(pickle.dumps(journal))
        assert restored.read_only
        restored.close()
    with pytest.raises(JournalNotFoundError, match="no label journal"):
        LabelJournal(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()
    with LabelJournal(path, pool_fingerprint="float64:2x2:abc"):
        pass
    with pytest.raises(ValueError, match="belongs to another pool"):
        LabelJournal(path, read_only=True, pool_fingerprint="float64:2x2:other")


# ----------------------------------------------------------------------------- annotators


def _version_1_journal(path):
    """A journal as skal wrote it before annotators (schema version 1), with two records."""
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA application_id=1936417132")
    raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    raw.execute("CREATE TABLE labels (seq INTEGER PRIMARY KEY AUTOINCREMENT, sample_id TEXT "
                "NOT NULL, label TEXT NOT NULL, timestamp REAL NOT NULL, round INTEGER, "
                "strategy TEXT, score REAL)")
    raw.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("format", "skal-label-journal"), ("schema_version", "1"), ("created", "1.0")])
    raw.executemany("INSERT INTO labels (sample_id, label, timestamp, round, strategy) "
                    "VALUES (?, ?, ?, ?, ?)", [("3", '"cat"', 1.0, 0, "initial"),
                                              ("4", "-1", 2.0, 0, "initial")])
    raw.commit()
    raw.close()


def _columns(path):
    raw = sqlite3.connect(path)
    try:
        version = raw.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return version[0], [row[1] for row in raw.execute("PRAGMA table_info(labels)")]
    finally:
        raw.close()


def test_a_version_1_journal_is_read_then_migrated_when_written(path):
    _version_1_journal(path)
    with LabelJournal(path, read_only=True) as old:  # read as it is: nobody named
        assert [(r["sample_id"], r["label"], r["annotator"]) for r in old.records()] == [
            (3, "cat", None), (4, -1, None)]
    assert _columns(path) == ("1", ["seq", "sample_id", "label", "timestamp", "round",
                                    "strategy", "score"])  # read_only never writes
    with LabelJournal(path) as journal:  # opened for appends: gains the column, version 2
        journal.append(5, "dog", annotator="ana")
        assert [r["annotator"] for r in journal.records()] == [None, None, "ana"]
        assert journal.labels() == {3: "cat", 4: -1, 5: "dog"}
    version, columns = _columns(path)
    assert version == "2" and columns[-1] == "annotator"
    with LabelJournal(path) as again:  # and opens again as any version-2 journal
        assert len(again) == 3


def test_the_annotator_of_each_answer_is_recorded(path):
    import threading

    with LabelJournal(path) as journal:
        journal.annotator = "terminal"
        journal.append([1, 2], ["a", "b"])
        with journal.answering_as("ana"):
            journal.append(3, "c")
            other = threading.Thread(target=journal.append, args=(4, "d"))
            other.start()  # another thread: not ana's answer
            other.join()
            journal.retract(1)
        journal.append(5, "e", annotator="ben")
        who = {(r["sample_id"], r["label"]): r["annotator"] for r in journal.records()}
    assert who == {(1, "a"): "terminal", (2, "b"): "terminal", (3, "c"): "ana",
                   (4, "d"): "terminal", (1, None): "ana", (5, "e"): "ben"}


# (what, name, error type, fragment of the message)
BAD_ANNOTATORS = [
    ("empty", "", ValueError, "annotator is empty"),
    ("blank", "   ", ValueError, "annotator is empty"),
    ("too long", "a" * 41, ValueError, "has 41 characters"),
    ("control character", "ana\x1b[2J", ValueError, "has the character '\\x1b'"),
    ("newline", "ana\nben", ValueError, "has the character '\\n'"),
    ("HTML", "<img src=x onerror=alert(1)>", ValueError, "has the character '<'"),
    ("quote", 'ana"', ValueError, "has the character '\"'"),
    ("edge space", " ana", ValueError, "starts or ends with a space"),
    ("not a string", 7, TypeError, "annotator must be a str"),
]


@pytest.mark.parametrize("name, kind, fragment", [r[1:] for r in BAD_ANNOTATORS],
                         ids=[r[0] for r in BAD_ANNOTATORS])
def test_bad_annotator_names_are_refused_and_nothing_is_written(path, name, kind, fragment):
    with LabelJournal(path) as journal:
        with pytest.raises(kind, match=re.escape(fragment)):
            journal.append(1, "a", annotator=name)
        with pytest.raises(kind, match=re.escape(fragment)):
            journal.annotator = name
        with pytest.raises(kind, match=re.escape(fragment)):
            with journal.answering_as(name):
                pass
        assert len(journal) == 0
        journal.append(1, "a", annotator="Ana Lima-2")  # letters, digits, space, - . _ @
        assert journal.records()[0]["annotator"] == "Ana Lima-2"


def test_a_newer_schema_version_is_refused(path):
    LabelJournal(path).close()
    raw = sqlite3.connect(path)
    raw.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    raw.commit()
    raw.close()
    with pytest.raises(ValueError, match="schema version 3.*reads versions 1, 2; upgrade"):
        LabelJournal(path)
