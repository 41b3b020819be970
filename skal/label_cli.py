"""``skal label``: an interactive labelling session at the terminal.

The session is :meth:`ActiveLearningClassifier.fit` with a :class:`~skal.oracles.TerminalOracle`
(the person) and a :class:`~skal.LabelJournal` (the durable record): each answer is committed
to the journal before the next sample is shown, and re-running the same command resumes from
the journal. Registered in :mod:`skal.cli`.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

from skal.io.journal import LabelJournal, pool_fingerprint

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

DESCRIPTION = """\
Label a pool of samples, the ones the model asks for first. Each round, the model queries a
batch; each sample is shown (images as coloured half-block pictures, other rows as values)
and you type its label, an empty line or "s" to skip it, or "q" to stop. Every answer is
written to the label journal at once, and the model is retrained after each batch; progress
(labels so far, validation accuracy with --holdout) is printed after each round.

Nothing answered is lost on Ctrl-C, a crash or a kill: run the same command again to resume
where you stopped (samples already answered, or skipped, are not asked again). Answers can
also be piped on stdin, one per line.

POOL is a .npy array (n_samples, n_features) or of images (n, height, width[, channels]),
a .npz file (array "X", or its only array), or a folder of PNG/JPEG images (read as
greyscale, in file-name order).
"""

EPILOG = """\
example:
  skal label digits.npy --classes 0,1,2,3,4,5,6,7,8,9 --batch-size 10 --model logreg
  (answers go to digits.npy.journal.sqlite; re-run the same line to continue)
"""


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``skal label`` on the ``skal`` sub-command parser ``sub``."""
    p = sub.add_parser(
        "label",
        help="label a pool interactively, the most informative samples first",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("pool", help="the samples: .npy, .npz or a folder of PNG/JPEG images")
    p.add_argument("--labels", metavar="FILE",
                   help="initial labels: a CSV of id,label (id = row index, or file name "
                        "for an image folder) or a .npy with -1 for unlabelled samples")
    p.add_argument("--journal", metavar="PATH",
                   help="the label journal (SQLite; default: POOL.journal.sqlite, beside "
                        "the pool)")
    p.add_argument("--classes", metavar="A,B,...",
                   help="comma-separated allowed labels; other answers are refused")
    p.add_argument("--batch-size", type=_positive_int, default=10,
                   help="samples queried per round (default: %(default)s)")
    p.add_argument("--initial-size", type=_positive_int, default=10,
                   help="labels before the first query; random samples are asked when the "
                        "journal and --labels hold fewer (default: %(default)s)")
    p.add_argument("--rounds", type=_positive_int, default=None,
                   help="rounds in this session (default: until every sample was asked)")
    p.add_argument("--strategy", default="entropy",
                   help="query strategy name (default: %(default)s)")
    p.add_argument("--model", choices=("cnn", "logreg"), default="cnn",
                   help="classifier: a small CNN or a logistic regression (default: cnn)")
    p.add_argument("--epochs", type=_positive_int, default=15,
                   help="CNN training epochs per retraining (default: %(default)s)")
    p.add_argument("--holdout", metavar="NPZ",
                   help="labelled validation data (.npz with arrays X and y): accuracy is "
                        "printed after each round")
    p.add_argument("--image-size", metavar="WxH",
                   help="resize the images of a folder pool to this size")
    p.add_argument("--image-shape", metavar="HxW[xC]",
                   help="show flat samples as images of this shape")
    p.add_argument("--color", choices=("auto", "truecolor", "256", "none"), default="auto",
                   help="colours of images in the terminal (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    p.add_argument("--save", metavar="PATH",
                   help="save the learner there at the end (CNN only; see skal.load)")
    p.set_defaults(func=run)
    return p


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _shape(text: str | None, name: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(t) for t in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"skal label: error: {name} must look like 28x28, got {text!r}") from None
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise SystemExit(f"skal label: error: {name} must look like 28x28, got {text!r}")
    return shape


def _parse_label(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


# --------------------------------------------------------------------------- data


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
    shape : tuple of int or None
        The shape of one sample as an image, when it is one.
    names : list of str or None
        File names, for a folder pool.
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
    rows, size = [], None
    for f in files:
        with Image.open(f) as im:
            im = im.convert("L")
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
    return np.stack(rows), (size[1], size[0]), [f.name for f in files]


def load_labels(path: str | Path, n: int, names: list[str] | None):
    """Initial labels: ``(pool indices, labels)`` from a CSV (id,label) or a .npy (-1 = none)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        y = np.asarray(_np_load(path))
        if y.shape != (n,):
            raise ValueError(f"{path} has shape {y.shape}; expected ({n},), -1 for unlabelled")
        keep = ~((y == -1) if y.dtype.kind in "iuf" else np.zeros(n, dtype=bool))
        return np.flatnonzero(keep).tolist(), y[keep].tolist()
    rows_of = {name: i for i, name in enumerate(names)} if names else {}
    ids, labels = [], []
    with open(path, newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise ValueError(f"{path}:{lineno}: expected 'id,label', got {row!r}")
            key, label = row[0].strip(), row[1].strip()
            if key in rows_of:
                i = rows_of[key]
            else:
                try:
                    i = int(key)
                except ValueError:
                    if lineno == 1:
                        continue  # a header
                    raise ValueError(f"{path}:{lineno}: unknown sample id {key!r}") from None
            if not 0 <= i < n:
                raise ValueError(f"{path}:{lineno}: sample id {i} is outside the pool (0..{n - 1})")
            if label in ("", "-1"):
                continue
            ids.append(i)
            labels.append(_parse_label(label))
    return ids, labels


def _load_holdout(path: str, n_features: int):
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


# --------------------------------------------------------------------------- session


class _AcknowledgingJournal(LabelJournal):
    """A journal that says so on stdout once each answer is committed."""

    quiet = False

    def append(self, sample_ids, labels, **kwargs) -> None:
        super().append(sample_ids, labels, **kwargs)
        if self.quiet:
            return
        ids = sample_ids if isinstance(sample_ids, list | tuple) else [sample_ids]
        labs = labels if isinstance(labels, list | tuple) else [labels]
        for i, lab in zip(ids, labs):
            shown = "skipped" if lab == -1 and not isinstance(lab, bool) else repr(lab)
            print(f"saved sample {i}: {shown}", flush=True)


def _model(args, shape):
    if args.model == "logreg":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=1000)
    from skal.keras import CNNClassifier

    input_shape = None
    if shape is not None:
        input_shape = (*shape, 1) if len(shape) == 2 else tuple(shape)
    return CNNClassifier(input_shape=input_shape, epochs=args.epochs, random_state=args.seed)


def run(args: argparse.Namespace) -> int:
    """Run a labelling session; the exit status."""
    from skal._learner import ActiveLearningClassifier
    from skal.oracles import TerminalOracle

    def fail(message: str) -> int:
        print(f"skal label: error: {message}", file=sys.stderr)
        return 2

    try:
        X, shape, names = load_pool(args.pool, _shape(args.image_size, "--image-size"))
    except ValueError as exc:
        return fail(str(exc))
    display_shape = _shape(args.image_shape, "--image-shape") or shape
    journal_path = args.journal or str(args.pool).rstrip("/\\") + ".journal.sqlite"
    try:
        journal = _AcknowledgingJournal(journal_path, pool_fingerprint=pool_fingerprint(X))
    except ValueError as exc:
        return fail(f"{exc} (use --journal to start a new journal for this pool)")
    classes = None
    if args.classes:
        classes = [_parse_label(c) for c in args.classes.split(",") if c.strip()]
        if len({type(c) for c in classes}) > 1:
            classes = [str(c) for c in classes]
    try:
        holdout = _load_holdout(args.holdout, X.shape[1]) if args.holdout else None
        if args.labels:
            ids, labels = load_labels(args.labels, len(X), names)
            known = journal.labels()
            new = [(i, lab) for i, lab in zip(ids, labels) if i not in known]
            if new:
                journal.quiet = True
                journal.append([i for i, _ in new], [lab for _, lab in new], round=0,
                               strategy="labels-file")
                journal.quiet = False
                print(f"imported {len(new)} labels from {args.labels}", flush=True)
    except ValueError as exc:
        return fail(str(exc))

    n_before = len(journal.labeled_ids())
    oracle = TerminalOracle(
        classes, input=sys.stdin, output=sys.stdout, image_shape=display_shape,
        color=args.color, names=names,
    )
    learner = ActiveLearningClassifier(
        _model(args, display_shape if display_shape and len(display_shape) in (2, 3) else None),
        query_strategy=args.strategy,
        n_instances=args.batch_size,
        n_queries=args.rounds or len(X),
        initial_size=args.initial_size,
        random_state=args.seed,
        oracle=oracle,
        journal=journal,
    )
    holdout_note = f", holdout {len(holdout[1])}" if holdout else ""
    print(f"pool: {len(X)} samples of {X.shape[1]} features{holdout_note}; "
          f"journal: {journal_path} ({n_before} samples answered so far)", flush=True)
    started = time.perf_counter()

    def progress(round_, estimator, labeled):
        n_skipped = sum(1 for lab in journal.labels().values() if lab == -1)
        line = f"round {round_}: {len(labeled)} labels, {n_skipped} skipped"
        if holdout is not None:
            line += f", validation accuracy {estimator.score(*holdout):.3f}"
        print(line + f" ({time.perf_counter() - started:.0f}s)", flush=True)

    try:
        learner._validate_params()
        learner._fit(X, np.full(len(X), -1), on_round=progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {_summary(journal, len(X))}", flush=True)
        return 130
    except ValueError as exc:
        if oracle.stopped:  # stopped before two classes were labelled
            print(f"stopped: {exc}\n{_summary(journal, len(X))}", flush=True)
            return 0
        return fail(str(exc))
    finally:
        journal.quiet = True
    state = "stopped" if oracle.stopped else "done"
    print(f"{state}: {_summary(journal, len(X))}", flush=True)
    if args.save:
        try:
            print(f"saved the learner to {learner.save(args.save)}", flush=True)
        except TypeError as exc:
            return fail(str(exc))
    return 0


def _summary(journal: LabelJournal, n: int) -> str:
    labels = journal.labels()
    skipped = sum(1 for lab in labels.values() if lab == -1)
    left = n - len(labels)
    more = "; run the same command to continue" if left else "; every sample was asked"
    return (f"{len(labels) - skipped} labels and {skipped} skips in {journal.path}, "
            f"{left} samples never asked{more}.")
