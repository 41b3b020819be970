"""Pools, label files and holdout sets for the labeling front ends (``skal label``)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_SUFFIXES", "load_holdout", "load_labels", "load_pool", "parse_label"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Pillow modes of greyscale images (one channel, or one and alpha). Every other mode (RGB,
#: RGBA, palette, CMYK, YCbCr ...) is a colour image.
GREYSCALE_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})


def parse_label(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def load_pool(path: str | Path, image_size: tuple[int, ...] | None = None):
    """Read a pool: ``(X as flat float rows, sample shape to display or None, names)``.

    Parameters
    ----------
    path : str or Path
        A ``.npy``/``.npz`` file or a folder of PNG/JPEG images.
    image_size : (width, height) or None
        Resize folder images to this size.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Float rows; folder images are scaled to [0, 1], channels last.
    shape : tuple of int or None
        The shape of one sample as an image, when it is one: ``(height, width)`` for a
        greyscale folder, ``(height, width, 3)`` for a colour one, ``X.shape[1:]`` of an
        array of more than two dimensions.
    names : list of str or None
        File names, for a folder pool.

    Notes
    -----
    A folder's images are read in file-name order. When every image is greyscale (Pillow
    modes in :data:`GREYSCALE_MODES`) they stay one channel, ``(height, width)``; when any is
    in colour, all are converted to RGB, ``(height, width, 3)`` (greyscale ones get three
    equal channels, an alpha channel is dropped), so a colour folder keeps its colours and a
    mixed one has one shape.
    """
    path = Path(path)
    if path.is_dir():
        return _load_image_folder(path, image_size)
    if not path.exists():
        raise ValueError(f"no pool at {str(path)!r}")
    if path.suffix.lower() == ".npy":
        X = _np_load(path)
    elif path.suffix.lower() == ".npz":
        with _np_load(path) as npz:
            if "X" in npz.files:
                X = npz["X"]
            elif len(npz.files) == 1:
                X = npz[npz.files[0]]
            else:
                raise ValueError(f"{path} has arrays {npz.files}; name the pool array 'X'")
    else:
        raise ValueError(f"{path}: the pool must be a .npy or .npz file or a folder of images")
    X = np.asarray(X)
    if X.ndim < 2 or len(X) == 0 or X.dtype.kind not in "biuf":
        raise ValueError(
            f"{path}: the pool must be a non-empty numeric array of samples, got shape "
            f"{X.shape} and dtype {X.dtype}"
        )
    shape = X.shape[1:] if X.ndim > 2 else None
    X = X.reshape(len(X), -1)
    if X.dtype.kind != "f":
        X = X.astype(np.float32)
    return X, shape, None


def _np_load(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc


def _load_image_folder(folder: Path, image_size):
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        raise ValueError("a folder of images needs Pillow: pip install pillow") from None
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no .png/.jpg/.jpeg image")
    mode = "L"
    for f in files:  # Image.open reads the header only
        try:
            with Image.open(f) as im:
                if im.mode not in GREYSCALE_MODES:
                    mode = "RGB"
                    break
        except OSError as exc:
            raise ValueError(f"cannot read {f}: {exc}") from exc
    rows, size = [], None
    for f in files:
        with Image.open(f) as im:
            im = im.convert(mode)
            if image_size is not None:
                im = im.resize(tuple(image_size[:2]))
            if size is None:
                size = im.size
            elif im.size != size:
                raise ValueError(
                    f"{f.name} is {im.size[0]}x{im.size[1]} but {files[0].name} is "
                    f"{size[0]}x{size[1]}; use --image-size WxH to resize them all"
                )
            rows.append(np.asarray(im, dtype=np.float32).reshape(-1) / 255.0)
    shape = (size[1], size[0]) if mode == "L" else (size[1], size[0], 3)
    return np.stack(rows), shape, [f.name for f in files]


def load_labels(path: str | Path, n: int, names: list[str] | None = None, *,
                keys: list[str] | None = None, task: str = "classification"):
    """Initial labels of ``--labels``: ``(pool indices, labels)``, one label per sample.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` of one label per sample, or a CSV of ``id,label`` rows (a first row
        whose id is no sample's is a header).
    n : int
        The pool's size.
    names : list of str or None
        Names of a pool without keys (an image folder's files): a CSV id is a name or a
        row index.
    keys : list of str or None
        The journal's keys of the samples (``--id-column`` values, ``.txt`` file names): a
        CSV id must be one, exactly as written (``005`` is not ``5``, nor row 5).
    task : {"classification", "regression"}
        ``"regression"`` for ``--target number``.

    Notes
    -----
    Unlabeled samples are marked as in ``fit(y)`` (:mod:`skal._labels`), and a labels file
    never records a skip. In a ``.npy``: -1 or NaN (NaN only for numbers, where -1 is a
    target); in an array of strings an empty string, and ``'-1'`` is refused as ambiguous.
    In a CSV: an empty label, ``nan``, and ``-1`` for classes. Classes that are all whole
    numbers (``3`` or ``3.0``) are ints, else strings, as ``--classes`` reads them.
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return _npy_labels(path, n, task)
    return _csv_labels(path, n, names, keys, task)


def _npy_labels(path: Path, n: int, task: str):
    from skal._labels import REGRESSION, check_targets, check_y, unlabeled_mask

    y = np.asarray(_np_load(path))
    marks = "NaN" if task == REGRESSION else "-1 or NaN ('' for strings)"
    if y.shape != (n,):
        raise ValueError(f"--labels {path} has shape {y.shape}; expected ({n},): one label per "
                         f"pool sample, {marks} for the unlabeled ones")
    if y.dtype.kind not in "iufU":
        raise ValueError(f"--labels {path} holds {y.dtype} values; save numbers (-1 or NaN "
                         "for unlabeled) or strings ('' for unlabeled)")
    try:
        if task == REGRESSION:
            values = check_targets(y, n)
            known = ~np.isnan(values)
            return np.flatnonzero(known).tolist(), values[known].tolist()
        if y.dtype.kind == "U":
            if (y == "-1").any():  # as fit(y): a class or a gap? never guessed
                raise ValueError(
                    "it is an array of strings that holds '-1': is it a class or an unlabeled "
                    "sample? Mark unlabeled samples with '' (an empty string) and keep '-1' "
                    "out of class names")
            missing = np.char.strip(y) == ""  # '' would be a class no one can type
        else:
            missing = unlabeled_mask(y)
            _whole_classes(y[~missing])
            check_y(y, n)  # e.g. -1 and 1 only
    except ValueError as exc:
        raise ValueError(f"--labels {path}: {exc}") from None
    known = y[~missing]
    if known.dtype.kind == "f":
        known = known.astype(np.int64)  # NaN markers made the array float; classes are ints
    return np.flatnonzero(~missing).tolist(), known.tolist()


def _whole_classes(known: np.ndarray) -> None:
    """Float classes are whole numbers (ints once NaN markers are gone), never 0.5 or inf."""
    if known.dtype.kind != "f":
        return
    bad = known[~np.isfinite(known) | (known != np.round(known))]
    if len(bad):
        raise ValueError(f"the label {bad[0].item()!r} is not a whole number: classes are ints "
                         "or strings; for numbers to predict use --target number")


def _csv_labels(path: Path, n: int, names, keys, task: str):
    if keys is not None:
        rows_of, by_index = {key: i for i, key in enumerate(keys)}, False
    else:
        rows_of, by_index = ({name: i for i, name in enumerate(names)} if names else {}), True
    rows: dict[int, tuple[int, str]] = {}  # pool index -> (line, label text)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:  # Excel writes a BOM
            lines = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read --labels {path} (a UTF-8 CSV of id,label): {exc}") from None
    for lineno, row in enumerate(lines, start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise ValueError(f"{path}:{lineno}: expected 'id,label', got {row!r}")
        key, label = row[0].strip(), row[1].strip()
        i = _row_of(key, rows_of, by_index)
        if i is None:
            if lineno == 1 and not _is_number(key):
                continue  # a header; a number there is an id (a row number as a key: refused)
            raise ValueError(_unknown_id(path, lineno, key, keys, names, n))
        if not 0 <= i < n:
            raise ValueError(f"{path}:{lineno}: sample id {i} is outside the pool (0..{n - 1})")
        if _unlabeled(label, task):
            continue
        if i in rows and rows[i][1] != label:
            raise ValueError(
                f"{path}:{lineno}: sample {key!r} is labeled {label!r} here but "
                f"{rows[i][1]!r} on line {rows[i][0]}: keep one label per sample")
        rows.setdefault(i, (lineno, label))
    ids = list(rows)
    return ids, _typed_labels(path, [rows[i] for i in ids], task)


def _row_of(key: str, rows_of: dict, by_index: bool) -> int | None:
    if key in rows_of:
        return rows_of[key]
    if not by_index:  # keyed pools: '005' is a key, never row 5
        return None
    try:
        return int(key)
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unknown_id(path, lineno, key, keys, names, n) -> str:
    if keys is None:
        return (f"{path}:{lineno}: unknown sample id {key!r}: give "
                f"{'a file name of the pool or ' if names else ''}a row index (0..{n - 1})")
    return (f"{path}:{lineno}: no sample of the pool has the id {key!r}: --labels ids are the "
            f"pool's keys (its --id-column values or file names) exactly as written, such as "
            f"{keys[0]!r}, never row numbers; correct the id or remove the line")


def _unlabeled(text: str, task: str) -> bool:
    """A CSV label that marks no label (as ``fit(y)``: -1 is a target for numbers)."""
    if text == "" or text.lower() == "nan":
        return True
    try:
        return task != "regression" and float(text) == -1  # '-1.0' too: never a skip
    except ValueError:
        return False


def _typed_labels(path: Path, rows, task: str) -> list:
    """A CSV's label texts as labels: numbers (regression); ints when every class is a
    whole number (``3`` or ``3.0``), else strings."""
    numbers = []
    for lineno, text in rows:
        try:
            numbers.append(float(text))
        except ValueError:
            if task == "regression":
                raise ValueError(f"{path}:{lineno}: the label {text!r} is not a number; with "
                                 "--target number every label is one (empty: unlabeled)") from None
            return [text for _, text in rows]
    bad = next((r for r, v in zip(rows, numbers) if not np.isfinite(v)), None)
    if bad is not None:
        raise ValueError(f"{path}:{bad[0]}: the label {bad[1]!r} is not a finite number")
    if task == "regression":
        return numbers
    if all(v == round(v) for v in numbers):
        return [int(v) for v in numbers]
    lineno, text = next(r for r, v in zip(rows, numbers) if v != round(v))
    raise ValueError(f"{path}:{lineno}: the label {text!r} is not a whole number: classes are "
                     "ints or names; for numbers to predict use --target number")


def load_holdout(path: str, n_features: int):
    with _np_load(Path(path)) as npz:
        if "X" not in npz.files or "y" not in npz.files:
            raise ValueError(f"{path}: the holdout needs arrays 'X' and 'y', has {npz.files}")
        X, y = np.asarray(npz["X"]), np.asarray(npz["y"])
    X = X.reshape(len(X), -1).astype(np.float32)
    if X.shape[1] != n_features or len(y) != len(X):
        raise ValueError(
            f"{path}: holdout X has shape {X.shape} and y {y.shape}; samples must have "
            f"{n_features} features, one label each"
        )
    return X, y


def answer_imported(campaign, imported) -> None:
    """The labels of a ``--labels`` file, ``(ids, labels, source)`` or None, as answers of
    the campaign (recorded as ``"labels-file"``) for the samples it has no answer for."""
    if imported is None:
        return
    ids, labels, source = imported
    asked = set(campaign.labeled_indices_.tolist()) | set(campaign.skipped_indices_.tolist())
    new = [(i, lab) for i, lab in zip(ids, labels) if i not in asked]
    if not new:
        return
    journal = campaign.journal_
    quiet = getattr(journal, "quiet", None)
    if quiet is not None:  # a file's labels are not acknowledged one by one
        journal.quiet = True
    try:
        campaign.answer([i for i, _ in new], [lab for _, lab in new], reason="labels-file")
    finally:
        if quiet is not None:
            journal.quiet = quiet
    print(f"imported {len(new)} labels from {source}", flush=True)
