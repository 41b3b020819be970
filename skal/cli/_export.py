"""``skal export``: a label journal's answers as a CSV, JSON or Parquet table.

One row per answer in the journal, in answer order, with these columns:

* ``sample`` -- the journal's sample id (pool index, or user key);
* ``label`` -- the label, empty (None) for a skip: a skip is never exported as ``-1``;
* ``status`` -- ``labeled``, ``skipped``, or ``undone`` (an answer taken back later);
* ``current`` -- whether this answer is the sample's answer now (the one that trains): the
  latest answer since the sample's last undo. Earlier answers of the same sample (another
  person's, or a relabeled one) and undone ones are ``false``;
* ``annotator`` -- who answered (empty for journals written before annotators);
* ``time`` -- when, ISO 8601 in UTC; ``round`` -- the campaign round it was asked in;
* ``reason`` -- why it was asked: ``initial``, a strategy's name, ``overlap`` (a second
  opinion), ``adjudicated``, ``labels-file`` or ``given``.

The journal is opened read-only, so exporting while a labeling session runs (or after it was
killed) reads every answer committed so far.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
from datetime import UTC, datetime

from skal.io.journal import LabelJournal
from skal.oracles import safe_text

__all__ = ["COLUMNS", "FORMATS", "add_parser", "export_bytes", "export_rows", "run"]

COLUMNS = ("sample", "label", "status", "current", "annotator", "time", "round", "reason")
FORMATS = ("csv", "json", "parquet")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json",
               "parquet": "application/vnd.apache.parquet"}

EPILOG = """\
example:
  skal export digits.npy.journal.sqlite --format csv --output labels.csv
  skal export labels.sqlite --output labels.parquet --current   (one row per sample)
"""


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``skal export`` on the ``skal`` sub-command parser ``sub``."""
    p = sub.add_parser(
        "export", help="write a label journal's answers to CSV, JSON or Parquet",
        description=__doc__.split("\n", 2)[2], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("journal", help="the label journal (SQLite) of skal label")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="table format (default: from the --output suffix)")
    p.add_argument("--output", "-o", required=True, metavar="FILE",
                   help="where the table is written (replaced whole, never half-written)")
    p.add_argument("--current", action="store_true",
                   help="only each sample's current answer (what trains the model)")
    p.set_defaults(func=run)
    return p


def _is_skip(label) -> bool:
    """A skip is the int -1 (a regression journal's -1.0 is a target)."""
    return type(label) is int and label == -1


def export_rows(records, *, current_only: bool = False) -> list[dict]:
    """The export table of a journal's :meth:`~skal.LabelJournal.records`, as dicts.

    Examples
    --------
    >>> recs = [dict(seq=1, sample_id=3, label="cat", timestamp=0.0, round=0,
    ...              strategy="initial", score=None, annotator="ana"),
    ...         dict(seq=2, sample_id=4, label=-1, timestamp=1.0, round=0,
    ...              strategy="initial", score=None, annotator="ana"),
    ...         dict(seq=3, sample_id=3, label=None, timestamp=2.0, round=1,
    ...              strategy="undo", score=None, annotator="ana")]
    >>> [(r["sample"], r["label"], r["status"], r["current"]) for r in export_rows(recs)]
    [(3, 'cat', 'undone', False), (4, None, 'skipped', True)]
    """
    rows: list[dict] = []
    open_rows: dict = {}  # sample id -> its answers since its last undo
    for rec in records:
        sid = rec["sample_id"]
        if rec["label"] is None:  # a retraction: every answer of the sample so far is undone
            for row in open_rows.pop(sid, []):
                row["status"] = "undone"
            continue
        skip = _is_skip(rec["label"])
        row = {"sample": sid, "label": None if skip else rec["label"],
               "status": "skipped" if skip else "labeled", "current": False,
               "annotator": rec.get("annotator"),
               "time": datetime.fromtimestamp(rec["timestamp"], UTC).isoformat(
                   timespec="milliseconds"),
               "round": rec["round"], "reason": rec["strategy"]}
        rows.append(row)
        open_rows.setdefault(sid, []).append(row)
    for answers in open_rows.values():
        answers[-1]["current"] = True
    return [r for r in rows if r["current"]] if current_only else rows


def _csv(rows) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else str(row[c]).lower()
                         if isinstance(row[c], bool) else row[c] for c in COLUMNS])
    return text.getvalue().encode("utf-8")


def _parquet(rows) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ValueError("--format parquet needs pyarrow, which is not installed: "
                         "pip install pyarrow (or export with --format csv or json)") from None
    columns = {c: [row[c] for row in rows] for c in COLUMNS}
    if len({type(v) for v in columns["label"] if v is not None}) > 1:
        columns["label"] = [None if v is None else str(v) for v in columns["label"]]
    if len({type(v) for v in columns["sample"]}) > 1:
        columns["sample"] = [str(v) for v in columns["sample"]]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue().to_pybytes()


def export_bytes(journal: LabelJournal, fmt: str, *, current_only: bool = False) -> bytes:
    """The whole export of an open journal in ``fmt`` (``csv``, ``json`` or ``parquet``)."""
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}.")
    rows = export_rows(journal.records(), current_only=current_only)
    if fmt == "csv":
        return _csv(rows)
    if fmt == "json":
        return (json.dumps(rows, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    return _parquet(rows)


def _format_of(args) -> str:
    if args.format is not None:
        return args.format
    suffix = os.path.splitext(args.output)[1].lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise ValueError(f"cannot tell the format of --output {args.output!r} from its suffix: "
                     f"pass --format {'|'.join(FORMATS)} (or name it .csv, .json, .parquet).")


def _check_output(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"--output {path!r} is a folder: pass a file name, e.g. "
                         f"{os.path.join(path, 'labels.csv')!r}.")
    if not os.path.isdir(folder):
        raise ValueError(f"cannot write --output {path!r}: its folder {folder!r} does not "
                         "exist; create it first, or pass another path.")
    return folder


#: SQLite's files beside a journal (WAL mode, or a rollback journal): part of the journal.
JOURNAL_SIDECARS = ("", "-wal", "-shm", "-journal")


def _check_not_journal(output: str, journal: str, fmt: str) -> None:
    """Refuse an ``--output`` that is the journal (or one of SQLite's files beside it): the
    export replaces the file whole, so it would destroy the answers it exports."""
    for suffix in JOURNAL_SIDECARS:
        part = journal + suffix
        same = os.path.realpath(output) == os.path.realpath(part)
        if not same and os.path.exists(output) and os.path.exists(part):
            same = os.path.samefile(output, part)  # hard links, case-insensitive names
        if same:
            what = "the journal itself" if not suffix else f"the journal's SQLite {suffix} file"
            raise ValueError(f"--output {output!r} is {what}: exporting there would replace "
                             "the journal's answers; pass another file, e.g. "
                             f"--output {os.path.splitext(journal)[0] + '.' + fmt!r}.")


def _write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole: a temporary file beside it, then a rename."""
    fd, tmp = tempfile.mkstemp(prefix=".skal-export-", dir=_check_output(path))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def run(args: argparse.Namespace) -> int:
    """Export a journal; the exit status (2 with a clear message when it cannot)."""
    try:
        fmt = _format_of(args)
        _check_output(args.output)
        _check_not_journal(args.output, args.journal, fmt)
        with LabelJournal(args.journal, read_only=True) as journal:
            data = export_bytes(journal, fmt, current_only=args.current)
            n = len(export_rows(journal.records(), current_only=args.current))
        _write(args.output, data)
    except (ValueError, TypeError, OSError) as exc:
        print(f"skal export: error: {safe_text(str(exc))}", file=sys.stderr)
        return 2
    print(f"exported {n} answers of {safe_text(args.journal)} to {safe_text(args.output)} "
          f"({fmt})", flush=True)
    return 0
