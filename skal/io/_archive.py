"""The save-file format: a zip of ``params.json``, ``state.npz`` and model files.

This module knows the format and nothing of what is saved in it: it writes and reads plain
data -- a JSON-able dict of parameters, a dict of numpy arrays, and model files written by
callables -- and refuses, with ``ValueError("'<path>' is not a readable skal save:
<what>.")``, every file it cannot read safely.

* ``params.json`` -- ``{"format": "skal-learner", "format_version": 1, "skal_version": ...}``
  and the caller's parameters, values encoded with :func:`to_json`;
* ``state.npz`` -- the arrays, as :func:`numpy.savez` writes them: bool, int, float or str
  arrays only (never objects: nothing is unpickled);
* ``model.keras`` -- the model file, a Keras archive (itself a zip, whose members are
  opaque here), extracted to a temporary file for the caller's loader;
* ``rounds/0.keras``, ``rounds/1.keras``, ... -- optional: a model file per round of a
  campaign, numbered from 0 without gaps (in decimal, no leading zeros), Keras archives as
  well. Files written before they existed have none, and read as a save without round models.

Reading is bounded (see :mod:`skal.io._bounded` and the limits below): no member is
inflated past its limit or, beyond :data:`RATIO_FREE_BYTES`, more than
:data:`MAX_COMPRESSION_RATIO` times its compressed size, whatever sizes the file declares --
and so are the members of the Keras archives inside, checked (what they declare: sizes,
ratios, :data:`MAX_MODEL_MEMBERS`) before any loader opens them. Python's zipfile, which
Keras reads them with, inflates no member past the size it declares.

Writing is atomic -- a temporary file in the same folder, flushed and fsynced, then renamed
over the target -- and never writes a file its own reader would refuse. The temporary file
(``.<name>.<12 hex digits>.tmp``, with its scratch folder ``<that>.d``) is locked while it
is written; one left behind by a killed writer (its lock gone with it) is removed by the
next save to the same path. (Where files cannot be locked -- no ``fcntl`` -- nothing is
removed.)
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from skal import __version__
from skal.io._bounded import BoundedZip, NotZip, json_depth, open_zip, parse_json, read_npz, short

try:  # POSIX: a temporary file is locked while a save writes it
    import fcntl
except ImportError:  # pragma: no cover - Windows: an open file cannot be removed anyway
    fcntl = None

__all__ = [
    "FORMAT", "FORMAT_VERSION", "MAX_COMPRESSION_RATIO", "MAX_JSON_DEPTH", "MAX_MODEL_BYTES",
    "MAX_MODEL_MEMBERS", "MAX_PARAMS_BYTES", "MAX_ROUND_MODELS", "MAX_ROUND_MODELS_BYTES",
    "MAX_STATE_BYTES", "RATIO_FREE_BYTES", "NotJSON", "SaveContents",
    "check_model_archive", "from_json", "read_json", "read_save", "remove_stale_temporaries",
    "to_json", "unreadable", "write_save",
]

FORMAT = "skal-learner"
FORMAT_VERSION = 1
PARAMS, STATE, MODEL = "params.json", "state.npz", "model.keras"
ROUND = "rounds/{}.keras"
_ROUND_NAME = re.compile(r"rounds/(0|[1-9][0-9]{0,5})\.keras")  # canonical: one name a round
_ENVELOPE = ("format", "format_version", "skal_version")
ARRAY_KINDS = "biufU"  # bool, int, unsigned, float, str

# Limits: what opening a file may cost, whatever the file claims. Raise them here (they are
# read at call time) for a labeled set or network beyond them.
#: params.json holds parameters only, a few KiB; 1 MiB leaves room and parses in milliseconds.
MAX_PARAMS_BYTES = 1 << 20
#: state.npz is read into memory: the labeled set (n_labeled x n_features x 8 bytes) and one
#: int64 per pool sample. 4 GiB is 500M float64 values, far beyond a hand-labeled set.
MAX_STATE_BYTES = 4 << 30
#: The model file (extracted to disk, never held in memory): weights plus optimizer state
#: (3x the weights for Adam); 4 GiB is a ~300M-parameter network.
MAX_MODEL_BYTES = 4 << 30
#: Members of one Keras archive (model.keras, rounds/N.keras): Keras writes three
#: (config.json, metadata.json, model.weights.h5), plus assets of a few layers. Each member,
#: and all of them together, inflate within MAX_MODEL_BYTES and MAX_COMPRESSION_RATIO.
MAX_MODEL_MEMBERS = 1_000
#: Round models (each also within MAX_MODEL_BYTES): one per fit of a campaign; 10,000 rounds
#: is far beyond a labeling campaign (hundreds of rounds at most) ...
MAX_ROUND_MODELS = 10_000
#: ... and together they are extracted to disk within this: 16 GiB is 10,000 rounds of a
#: 1.6 MB network (the default CNN with its optimizer state is ~1 MB), or 4 maximal ones.
MAX_ROUND_MODELS_BYTES = 16 << 30
#: A member may inflate at most this many times its compressed size: real saves compress
#: 2-20x (features, weights), DEFLATE bombs ~1000x ...
MAX_COMPRESSION_RATIO = 100
#: ... once it is larger than this. Smaller members (sparse features, a pool-sized
#: labeled_round of -1s up to 8M samples) may compress as much as they like: 64 MiB is
#: harmless to allocate. save() stores a member uncompressed rather than break the ratio.
RATIO_FREE_BYTES = 64 << 20
#: JSON nesting: skal writes ~10 levels at most (a dict parameter of tuples); 64 keeps the
#: parser and :func:`from_json` far from Python's recursion limit.
MAX_JSON_DEPTH = 64


class SaveContents(NamedTuple):
    """What :func:`read_save` found: plain data."""

    parameters: dict[str, Any]  # params.json without the envelope (format, versions)
    arrays: dict[str, np.ndarray]  # state.npz
    model_file: str  # the extracted model file; exists inside read_save's with-block
    skal_version: str  # the skal that wrote the file
    round_model_files: Sequence[str] = ()  # the extracted round models, round 0 first


def unreadable(path, why: str) -> ValueError:
    """The error for a file this skal cannot read: names the file and what is wrong."""
    return ValueError(f"{os.fspath(path)!r} is not a readable skal save: {why}.")


# --------------------------------------------------------------------------- JSON values


class NotJSON(TypeError):
    """A parameter value that :func:`to_json` cannot describe."""


def to_json(value: Any) -> Any:
    """A JSON-able form of a parameter value; tuples, dicts and inf/nan are tagged.

    Raises :class:`NotJSON` unless ``value`` is None, a bool, int, float or str, or a list,
    tuple or str-keyed dict of those.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v) for v in value]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: to_json(v) for k, v in value.items()}}
    raise NotJSON(type(value).__name__)


def from_json(value: Any) -> Any:
    """The value :func:`to_json` encoded as ``value`` (parsed JSON); ValueError if none."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "__tuple__" and isinstance(inner, list):
                return tuple(from_json(v) for v in inner)
            if tag == "__float__" and inner in ("nan", "inf", "-inf"):
                return float(inner)
            if tag == "__dict__" and isinstance(inner, dict):
                return {k: from_json(v) for k, v in inner.items()}
        raise ValueError(f"unexpected JSON object {short(value)}")
    return value


def read_json(text: str | bytes, what: str) -> Any:
    """JSON text of a save (``params.json``, or a str array), its nesting bounded."""
    return parse_json(text, what, MAX_JSON_DEPTH)


# --------------------------------------------------------------------------- writing


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_size(what: str, size: int, limit: int) -> None:
    if size > limit:
        raise ValueError(
            f"{what} would take {size} bytes, more than a skal save may hold ({limit}, a "
            "limit of skal.io._archive)."
        )


def _compression(data: bytes) -> int:
    """DEFLATE, unless the result would break the ratio guard of :func:`read_save`."""
    if len(data) > RATIO_FREE_BYTES:
        if len(data) > MAX_COMPRESSION_RATIO * len(zlib.compress(data, 6)):
            return zipfile.ZIP_STORED
    return zipfile.ZIP_DEFLATED


def write_save(
    path: str | os.PathLike,
    parameters: dict[str, Any],
    arrays: dict[str, np.ndarray],
    write_model: Callable[[str], None],
    round_models: Sequence[Callable[[str], None]] = (),
) -> Path:
    """Write a save file atomically; a crash leaves any previous file at ``path`` intact.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    parameters : dict
        JSON-able data for ``params.json`` (values encoded with :func:`to_json`).
    arrays : dict of str to ndarray
        Bool, int, float or str arrays for ``state.npz``.
    write_model : callable
        ``write_model(file)`` writes the model to ``file``, a path named ``model.keras`` in
        a temporary folder.
    round_models : sequence of callable, default=()
        ``round_models[r](file)`` writes the model of round ``r`` to ``file`` (a path ending
        in ``.keras``), stored as ``rounds/<r>.keras``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> def write(text):  # a model file is a Keras archive: a zip
    ...     def write_model(file):
    ...         with zipfile.ZipFile(file, "w") as zf:
    ...             zf.writestr("model.txt", text)
    ...     return write_model
    >>> def read(file):
    ...     with zipfile.ZipFile(file) as zf:
    ...         return zf.read("model.txt").decode()
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_save(Path(folder) / "a.skal", {"n": 3}, {"x": np.arange(2)},
    ...                       write("final"), [write("round 0"), write("round 1")])
    ...     with read_save(path) as saved:
    ...         print(saved.parameters, saved.arrays["x"], read(saved.model_file),
    ...               [read(f) for f in saved.round_model_files])
    {'n': 3} [0 1] final ['round 0', 'round 1']
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory; save() writes one file.")
    if len(round_models) > MAX_ROUND_MODELS:
        raise ValueError(
            f"{len(round_models)} round models are more than a skal save may hold "
            f"({MAX_ROUND_MODELS}, a limit of skal.io._archive)."
        )
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "skal_version": __version__,
              **parameters}
    params = json.dumps(header, indent=2)
    _check_size(PARAMS, len(params.encode()), MAX_PARAMS_BYTES)
    if json_depth(params) > MAX_JSON_DEPTH:
        raise ValueError(f"the parameters nest deeper than {MAX_JSON_DEPTH} levels.")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    state = buffer.getvalue()
    _check_size(STATE, len(state), MAX_STATE_BYTES)
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_temporaries(path)
    tmp, fh = _claim_temporary(folder, path.name)
    scratch = Path(f"{tmp}.d")
    try:
        with fh:
            os.mkdir(scratch)
            with zipfile.ZipFile(fh, "w") as zf:
                zf.writestr(PARAMS, params, _compression(params.encode()))
                zf.writestr(STATE, state, _compression(state))
                _add_model(zf, scratch, MODEL, write_model, "the model file")
                total = 0
                for r, write in enumerate(round_models):
                    total += _add_model(zf, scratch, ROUND.format(r), write,
                                        f"the model of round {r}")
                    _check_size("the round models", total, MAX_ROUND_MODELS_BYTES)
            shutil.rmtree(scratch)
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, path)  # still locked: no other save takes it for a stale one
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return path


def _temporary_names(name: str) -> re.Pattern:
    """The names of a save's temporary file and scratch folder for the target ``name``."""
    return re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{12}}\.tmp(\.d)?")


def _claim_temporary(folder: Path, name: str):
    """A new temporary file for a save to ``folder/name``, open and locked: (path, file)."""
    while True:
        tmp = folder / f".{name}.{uuid.uuid4().hex[:12]}.tmp"
        fh = open(tmp, "xb")
        if fcntl is None:
            return tmp, fh
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            # Another save may have taken it for a stale one (and removed it) between its
            # creation and the lock; then it is no longer linked: take another name.
            if os.fstat(fh.fileno()).st_nlink > 0:
                return tmp, fh
        except BaseException:
            fh.close()
            raise
        fh.close()


def remove_stale_temporaries(path: str | os.PathLike) -> list[str]:
    """Remove what killed saves to ``path`` left beside it; the names removed.

    Only a save's own temporaries of that path are touched -- a file
    ``.<name>.<12 hex digits>.tmp`` and its scratch folder ``<that>.d`` -- and only once no
    save holds the file's lock (a save in progress keeps it until its file is renamed over
    ``path``; the system releases it when the writer dies, even by ``SIGKILL``). Without
    ``fcntl`` nothing is removed.
    """
    if fcntl is None:  # pragma: no cover
        return []
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = _temporary_names(path.name)
    removed = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or match.group(1) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: a save in progress
            if os.fstat(fd).st_nlink and os.path.samestat(os.fstat(fd), os.lstat(entry.path)):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
        finally:
            os.close(fd)
    # Scratch folders whose file is gone: their save died between the two, or above.
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or not match.group(1) or not entry.is_dir(follow_symlinks=False):
            continue
        if not os.path.lexists(entry.path[:-2]):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _add_model(zf: zipfile.ZipFile, scratch, name: str, write, what: str) -> int:
    """Have ``write`` write a model file in ``scratch``, store it as ``name``; its size."""
    file = os.path.join(scratch, os.path.basename(name))
    write(file)
    size = os.path.getsize(file)
    _check_size(what, size, MAX_MODEL_BYTES)
    zf.write(file, name, zipfile.ZIP_STORED)  # weights barely compress; no ratio to break
    os.remove(file)
    return size


# --------------------------------------------------------------------------- reading


class _OtherVersion(Exception):
    pass


def _header(reader: BoundedZip, members: dict) -> dict:
    if PARAMS not in members:
        raise ValueError(f"no {PARAMS} inside (not a skal save)")
    header = read_json(reader.read(members[PARAMS], MAX_PARAMS_BYTES), PARAMS)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{PARAMS} does not describe a skal learner")
    version, writer = header.get("format_version"), header.get("skal_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{PARAMS}: format_version is {short(version)}, not an integer")
    if not isinstance(writer, str):
        raise ValueError(f"{PARAMS}: skal_version is {short(writer)}, not a string")
    if version != FORMAT_VERSION:
        raise _OtherVersion(version, writer)
    missing = sorted({STATE, MODEL} - set(members))
    if missing:
        raise ValueError(f"incomplete: {missing} missing")
    extra = sorted(n for n in members if n not in (PARAMS, STATE, MODEL)
                   and not _ROUND_NAME.fullmatch(n))
    if extra:
        raise ValueError(f"unexpected members {short(extra)}")
    return header


def _round_members(reader: BoundedZip, members: dict) -> list[zipfile.ZipInfo]:
    """The round models' members, round 0 first: numbered without gaps, within the limits."""
    numbers = sorted(int(m[1]) for m in map(_ROUND_NAME.fullmatch, members) if m)
    if len(numbers) > MAX_ROUND_MODELS:
        raise ValueError(f"{len(numbers)} round models, more than the limit of "
                         f"{MAX_ROUND_MODELS}")
    if numbers != list(range(len(numbers))):
        missing = min(set(range(len(numbers))) - set(numbers))
        raise ValueError(f"incomplete: {ROUND.format(missing)} missing (the round models "
                         f"are numbered {short(numbers)})")
    infos = [members[ROUND.format(r)] for r in numbers]
    for info in infos:
        reader.check(info, MAX_MODEL_BYTES)
    reader.check_together(infos, MAX_ROUND_MODELS_BYTES, "the round models")
    return infos


def _extract(reader: BoundedZip, info: zipfile.ZipInfo, file: str) -> str:
    with open(file, "wb") as out:
        for chunk in reader.chunks(info, MAX_MODEL_BYTES):
            out.write(chunk)
    return file


def check_model_archive(file: str | os.PathLike, name: str) -> None:
    """A Keras archive (``model.keras``, ``rounds/N.keras``), checked before Keras opens it.

    It must be a zip archive -- else "<name>: the Keras model could not be loaded: it is not
    a zip archive ..." -- of at most :data:`MAX_MODEL_MEMBERS` members, none encrypted or
    named twice, each and all together declaring at most :data:`MAX_MODEL_BYTES` and
    inflating at most :data:`MAX_COMPRESSION_RATIO`-fold beyond :data:`RATIO_FREE_BYTES`:
    the limits of the save around it. Python's zipfile (Keras' reader) inflates no member
    past what it declares, so what is declared bounds what loading costs.
    """
    size = os.path.getsize(file)
    with open(file, "rb") as fh:
        try:
            zf = open_zip(fh, size, name, MAX_MODEL_MEMBERS)
        except NotZip as exc:
            why = str(exc).removeprefix(f"{name} ")
            raise ValueError(f"{name}: the Keras model could not be loaded: it {why}, as a "
                             ".keras file is") from None
        with zf:
            reader = BoundedZip(zf, size, f"{name}/", max_ratio=MAX_COMPRESSION_RATIO,
                                ratio_free=RATIO_FREE_BYTES)
            infos = list(reader.members().values())
            if len(infos) > MAX_MODEL_MEMBERS:
                raise ValueError(f"{name} holds {len(infos)} members, more than the limit of "
                                 f"{MAX_MODEL_MEMBERS}")
            for info in infos:
                reader.check(info, MAX_MODEL_BYTES)
            reader.check_together(infos, MAX_MODEL_BYTES, f"the members of {name}")


@contextmanager
def read_save(path: str | os.PathLike) -> Iterator[SaveContents]:
    """Open a save file: its parameters, its arrays and its models, extracted to files.

    The model files are temporary: they are removed when the ``with`` block ends.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        "... is not a readable skal save: <what>." for a file that is not a complete, intact
        save within the limits of this module; "... is a skal save in format version N ..."
        for a save of another format version.

    Examples
    --------
    See :func:`write_save`.
    """
    path = Path(path)
    if path.is_dir():
        raise unreadable(path, "it is a directory")
    if not path.exists():
        raise FileNotFoundError(f"no skal save at {str(path)!r}.")
    ratio = {"max_ratio": MAX_COMPRESSION_RATIO, "ratio_free": RATIO_FREE_BYTES}
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            zf = open_zip(fh, size, "the file", 3 + MAX_ROUND_MODELS)
        except NotZip as exc:
            raise unreadable(path, "not a zip archive (not a skal save, or a truncated one)") \
                from exc
        except ValueError as exc:
            raise unreadable(path, str(exc)) from None
        with zf, tempfile.TemporaryDirectory(prefix="skal-load-") as scratch:
            try:
                reader = BoundedZip(zf, size, "", **ratio)
                members = reader.members()
                header = _header(reader, members)
                reader.check(members[STATE], MAX_STATE_BYTES)  # refuse before inflating
                reader.check(members[MODEL], MAX_MODEL_BYTES)
                rounds = _round_members(reader, members)
                state = reader.read(members[STATE], MAX_STATE_BYTES)
                arrays = read_npz(state, STATE, MAX_STATE_BYTES, ARRAY_KINDS, **ratio)
                model_file = _extract(reader, members[MODEL], os.path.join(scratch, MODEL))
                check_model_archive(model_file, MODEL)
                os.mkdir(os.path.join(scratch, "rounds"))
                round_files = []
                for info in rounds:
                    round_files.append(
                        _extract(reader, info, os.path.join(scratch, info.filename)))
                    check_model_archive(round_files[-1], info.filename)
            except _OtherVersion as other:
                version, writer = other.args
                raise ValueError(
                    f"{str(path)!r} is a skal save in format version {version!r} (written by "
                    f"skal {writer}), but this skal reads version {FORMAT_VERSION}."
                ) from None
            except ValueError as exc:
                raise unreadable(path, str(exc)) from None
            parameters = {k: v for k, v in header.items() if k not in _ENVELOPE}
            yield SaveContents(parameters, arrays, model_file, header["skal_version"],
                               round_files)
