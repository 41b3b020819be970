"""The label journal is durable, typed, crash-safe and tied to one pool."""

import os
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
        j.append([-1], ["after"])  # still writable after the crash
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
