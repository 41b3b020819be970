"""``skal label``: an interactive labeling session at the terminal.

The session is a :class:`skal.Campaign` driven step by step by the terminal's loop
(:mod:`skal.cli._terminal`: a sample, the model's guess, a key) and whose journal is the
durable record: each answer is committed to the journal before the next sample is shown, and
re-running the same command resumes from the journal.
"""

from __future__ import annotations

import argparse
import sys
import time

from skal.cli._data import answer_imported, load_labels, parse_label
from skal.cli._holdout import LABEL_COLUMN, open_holdout
from skal.cli._kinds import CLASS, NUMBER, SET, TARGETS, campaign_learner
from skal.cli._models import CAMPAIGN_DEFAULTS, session_learner
from skal.cli._pools import open_pool, terminal_text
from skal.cli._terminal import Keys, NumberKeys, SetKeys, TerminalLabeling
from skal.io.journal import LabelJournal
from skal.oracles import TerminalOracle, safe_text

STOPPING = ("stable", "confident")  # --stop: skal.stopping criteria, by name

DESCRIPTION = """\
Label a pool of samples, the ones the model asks for first. Each round, the model queries a
batch; each sample is shown (images as coloured half-block pictures, other rows as values)
with the model's guess, and you type its label (a class, its number key 1-9, 0 when class
names are longer, or #position), an empty line or "s" to skip it, "u" to undo the last
answer (again to walk back; the sample is asked again), or "q" to stop at once. Every answer
and undo is written to the label journal at once; the model retrains in the background
after each batch while you answer the next; progress (labels so far, validation accuracy
with --holdout) is printed after each retraining.

With --target number, each answer is a number (a regression target: "-1" and "2.5e3" are
numbers; nan, inf and text are refused) and the guess is the model's prediction (± its
spread where the model gives one). With --target set and --classes a,b,c, each answer is
the labels that apply, typed as names or number keys separated by spaces or commas ("1 3",
"a,c"); "-" (or "none") answers "none of these", which differs from a skip.

Nothing answered is lost on Ctrl-C, a crash or a kill: run the same command again to resume
where you stopped (samples already answered, or skipped, are not asked again). Answers can
also be piped on stdin, one per line.

POOL is one of:
  a table, .csv/.tsv (UTF-8) or .parquet (needs pyarrow): each row a sample, shown as
    "column: value" lines (--columns picks them); the model reads --features (default:
    every column), numbers scaled and other columns one-hot, then a logistic regression;
  text: a table's --text-column, or a folder of .txt files (UTF-8, file-name order); the
    model is TF-IDF + a logistic regression; long texts scroll in the page and are cut
    in the terminal;
  a folder of PNG/JPEG images (in file-name order; greyscale when every image is, else
    RGB), a .npy array (n_samples, n_features) or of images (n, height, width[,
    channels]), or a .npz file (array "X", or its only array): the model is a small CNN.

The journal records each answer under the sample's key: its --id-column value, a .txt
file's name, else its row index.

--model takes your own model too: a file saved with learner.save(PATH) (read with
skal.load: no code from the file runs), or package.module:function, a function called
with no argument that returns a scikit-learn classifier or an ActiveLearningClassifier
(IMPORTING IT RUNS ITS CODE: name only modules you trust; the current folder is searched
first). A fitted model is the starting point: it picks the first samples. A learner keeps
its own settings (strategy, batch size...) except the options you change here.
"""

EPILOG = """\
examples:
  skal label digits.npy --classes 0,1,2,3,4,5,6,7,8,9 --batch-size 10 --model logreg
  (answers go to digits.npy.journal.sqlite; re-run the same line to continue)
  skal label reviews.csv --text-column body --id-column review_id --classes pos,neg --web
  skal label customers.parquet --id-column id --columns name,plan,spend --classes churn,stay
  skal label tickets/ --classes bug,question --model mymodels:text_pipeline
  skal label houses.csv --id-column id --target number   (a price per row)
  skal label photos/ --target set --classes cat,dog,car --model linear
"""


def _add_campaign_options(p) -> None:
    """How the session's campaign chooses, and when it stops."""
    p.add_argument("--batch-size", type=_positive_int, default=CAMPAIGN_DEFAULTS["batch_size"],
                   help="samples queried per round (default: %(default)s)")
    p.add_argument("--initial-size", type=_positive_int,
                   default=CAMPAIGN_DEFAULTS["initial_size"],
                   help="labels before the first query; random samples are asked when the "
                        "journal and --labels hold fewer (default: %(default)s)")
    p.add_argument("--rounds", type=_positive_int, default=None,
                   help="rounds in this terminal session (default: until every sample was "
                        "asked); not with --web, which stops at --max-labels")
    p.add_argument("--max-labels", type=_positive_int, default=None,
                   help="a labeling budget: stop once this many samples are answered, "
                        "counting earlier sessions of the same journal (default: none)")
    p.add_argument("--strategy", default=CAMPAIGN_DEFAULTS["strategy"],
                   help="query strategy name (default: auto, as the library's; variance "
                        "for --target number)")
    p.add_argument("--stop", choices=STOPPING, default=None,
                   help="stop before the budget when 'stable': successive models agree on "
                        "a sample of the pool (kappa >= 0.99 three rounds in a row), or "
                        "'confident': mean uncertainty on it below 0.1 (default: never)")


def _add_answer_options(p) -> None:
    """What a person answers: a class among --classes, a number, or a set of labels."""
    p.add_argument("--classes", metavar="A,B,...",
                   help="comma-separated allowed labels; other answers are refused (with "
                        "--target set: the label names, required)")
    p.add_argument("--target", choices=TARGETS, default=CLASS,
                   help="what a person answers: one class per sample (the default), a "
                        "number (regression: skal.ActiveLearningRegressor, strategy "
                        "'variance'), or a set of the --classes that apply (multi-label)")


def _add_table_options(p) -> None:
    """What a table pool shows, what its model reads, and its keys."""
    g = p.add_argument_group("table pools (.csv, .tsv, .parquet)")
    g.add_argument("--columns", metavar="A,B,...",
                   help="columns shown to the person (default: all; with --text-column: "
                        "the --id-column)")
    g.add_argument("--features", metavar="A,B,...",
                   help="columns the model reads (default: all but --id-column)")
    g.add_argument("--text-column", metavar="NAME",
                   help="label the text of this column: a text pool (TF-IDF model)")
    g.add_argument("--id-column", metavar="NAME",
                   help="the column of unique sample keys, recorded in the journal and "
                        "used by --labels (default: the row index)")


def _add_team_options(p) -> None:
    """Who answers, and how much is also shown to a second person (see skal.cli._team)."""
    from skal.cli._team import annotator_arg, fraction_arg

    p.add_argument("--annotator", metavar="NAME", type=annotator_arg, default=None,
                   help="your name, recorded with every answer in the journal (1-40 "
                        "letters, digits, spaces, . _ - @; default: your OS user name, else "
                        "'terminal'); in the page, the name of links without ?annotator=")
    p.add_argument("--overlap", metavar="F", type=fraction_arg, default=0.0,
                   help="--web: this fraction of the samples (0 to 1) is also shown to a "
                        "second, different person, for agreement (Cohen's kappa) on the "
                        "page's team view (default: 0)")


def _add_holdout_options(p) -> None:
    """Labeled validation data (see skal.cli._holdout)."""
    p.add_argument("--holdout", metavar="FILE",
                   help="labeled validation data, scored after each round: a .npz with "
                        "arrays X and y for an array or image pool; for a table or text "
                        "pool a .csv/.tsv/.parquet with the columns the model reads (the "
                        "--features, or the text column: 'text' for a folder of .txt "
                        "files) and a label column")
    p.add_argument("--holdout-label-column", metavar="NAME",
                   help=f"the label column of a table --holdout (default: {LABEL_COLUMN})")


def add_parser(sub) -> argparse.ArgumentParser:
    """Register ``skal label`` on the ``skal`` sub-command parser ``sub``."""
    p = sub.add_parser(
        "label",
        help="label a pool interactively, the most informative samples first",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("pool", help="the samples: a .csv/.tsv/.parquet table, a folder of .txt "
                                "files or of PNG/JPEG images, a .npy or .npz array")
    _add_table_options(p)
    p.add_argument("--labels", metavar="FILE",
                   help="initial labels: a CSV of id,label (id = the sample's key exactly "
                        "as written: its --id-column value or file name, else its row index; "
                        "an empty label is none) or a .npy of one label per sample, -1 or "
                        "NaN for unlabeled ones ('' in an array of strings)")
    p.add_argument("--journal", metavar="PATH",
                   help="the label journal (SQLite; default: POOL.journal.sqlite, beside "
                        "the pool)")
    _add_answer_options(p)
    _add_campaign_options(p)
    p.add_argument("--model", default="auto", metavar="MODEL",
                   help="auto (the default: a CNN for images and arrays, a pipeline for a "
                        "table, TF-IDF + logistic regression for text), cnn, logreg, linear "
                        "(logistic regression; BayesianRidge for --target number; one "
                        "logistic regression per label for --target set), a "
                        "learner saved with learner.save(PATH), or package.module:function "
                        "returning an estimator or a learner (its code runs)")
    p.add_argument("--epochs", type=_positive_int, default=15,
                   help="CNN training epochs per retraining (default: %(default)s)")
    _add_holdout_options(p)
    p.add_argument("--image-size", metavar="WxH",
                   help="resize the images of a folder pool to this size")
    p.add_argument("--image-shape", metavar="HxW[xC]",
                   help="show flat samples as images of this shape")
    p.add_argument("--color", choices=("auto", "truecolor", "256", "none"), default="auto",
                   help="colours of images in the terminal (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    _add_team_options(p)
    p.add_argument("--save", metavar="PATH",
                   help="save the learner there at the end (see skal.load): a Keras model "
                        "(--model cnn, the default for images and arrays) on numeric "
                        "samples; checked before the first sample")
    web = p.add_argument_group("in the browser (needs: pip install 'skal[web]')")
    web.add_argument("--web", action="store_true",
                     help="label in a web page instead of the terminal: samples drawn large, "
                          "one key per class, undo, relabeling, the model's guess; the model "
                          "retrains in the background while you label")
    web.add_argument("--host", default="127.0.0.1",
                     help="address the page is served on (default: %(default)s, this machine "
                          "only)")
    web.add_argument("--port", type=int, default=None,
                     help="port of the page (default: a free one)")
    web.add_argument("--no-browser", action="store_true",
                     help="print the page's URL without opening a browser")
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
            shown = "skipped" if type(lab) is int and lab == -1 else repr(lab)
            print(f"saved sample {i}: {shown}", flush=True)

    def retract(self, sample_ids, **kwargs) -> None:
        super().retract(sample_ids, **kwargs)
        if not self.quiet:
            ids = sample_ids if isinstance(sample_ids, list | tuple) else [sample_ids]
            for i in ids:
                print(f"undone sample {i}: it is asked again", flush=True)


def _fail(message: str) -> int:
    print(f"skal label: error: {safe_text(message)}", file=sys.stderr)
    return 2


def _prepare(args: argparse.Namespace) -> dict:
    """The pool, journal, classes and holdout of a session; ValueError with the message."""
    _check_target(args)
    pool = open_pool(args.pool, columns=args.columns, features=args.features,
                     text_column=args.text_column, id_column=args.id_column,
                     image_size=_shape(args.image_size, "--image-size"))
    journal_path = args.journal or str(args.pool).rstrip("/\\") + ".journal.sqlite"
    try:
        journal = _AcknowledgingJournal(journal_path, pool_fingerprint=pool.fingerprint(),
                                        read_only=False)
    except ValueError as exc:
        raise ValueError(f"{exc} (use --journal to start a new journal for this pool)") from exc
    if args.id_column:
        _check_journal_keys(journal, pool, args.id_column)
    from skal.cli._team import default_annotator

    journal.annotator = getattr(args, "annotator", None) or default_annotator()
    classes = None
    if args.classes:
        classes = [parse_label(c) for c in args.classes.split(",") if c.strip()]
        if len({type(c) for c in classes}) > 1:
            classes = [str(c) for c in classes]
        if session_target(args) == SET and len(set(map(str, classes))) < len(classes):
            raise ValueError(f"--classes {safe_text(args.classes)!r} names a label twice: "
                             "with --target set each name is one label")
    holdout = _holdout(args, pool, classes)
    imported = None
    if args.labels:  # answered through the campaign, once it is open
        ids, labels = load_labels(args.labels, len(pool), pool.names, keys=pool.keys,
                                  task="regression" if session_target(args) == NUMBER
                                  else "classification")
        if classes is not None and session_target(args) == CLASS:
            labels = _among_classes(labels, ids, classes, args.labels)
        imported = (ids, labels, args.labels)
    return {"pool": pool, "X": pool.X, "names": pool.names, "journal": journal,
            "target": session_target(args),
            "journal_path": journal_path, "classes": classes, "holdout": holdout,
            "imported": imported,
            "display_shape": _shape(args.image_shape, "--image-shape") or pool.shape}


def _among_classes(labels: list, ids: list, classes: list, path) -> list:
    """``--labels``' labels as the ``--classes`` they name (``1`` read from a file is the
    class ``'1'`` of a string list); a label that is none of them is refused, not learned
    as a class nobody can type."""
    by_text = {str(c): c for c in classes}
    out = []
    for i, label in zip(ids, labels, strict=True):
        if str(label) not in by_text:
            shown = ",".join(str(c) for c in classes)
            raise ValueError(f"--labels {path}: sample {i}'s label {str(label)!r} is not one of "
                             f"--classes {shown}: correct the file, or add the class to "
                             "--classes")
        out.append(by_text[str(label)])
    return out


def _check_journal_keys(journal, pool, id_column: str) -> None:
    """Refuse a journal whose answers name keys this pool lacks, before they could count.

    Earlier versions read --id-column values such as ``005`` as the number ``5``: a journal
    they wrote holds ``'5'``, which is no longer any sample's key (nor row 5's).
    """
    keys = set(pool.keys)
    stale = [sid for sid in journal.labels() if isinstance(sid, str) and sid not in keys]
    if stale:
        journal.close()
        raise ValueError(
            f"the journal {journal.path!r} holds answers for sample id {stale[0]!r}"
            f"{f' (and {len(stale) - 1} more)' if len(stale) > 1 else ''}, which is no "
            f"--id-column {id_column!r} value of this pool (ids are read exactly as written, "
            f"such as {pool.keys[0]!r}; older versions of skal read 005 as 5). Start a new "
            "journal with --journal NEW.sqlite; to keep its answers, skal export it, write "
            "the ids as the pool does, and import that file with --labels")


def session_target(args) -> str:
    """The session's --target (class when not given)."""
    return getattr(args, "target", CLASS) or CLASS


def _check_target(args) -> None:
    """--target's companions, checked: --classes (a set's labels, never a number's),
    --labels (one class a sample) and --stop (class probabilities)."""
    target = session_target(args)
    if target == NUMBER and args.classes:
        raise ValueError("--classes names classes, but --target number takes any finite "
                         "number: drop --classes (or use --target class)")
    if target == SET and not args.classes:
        raise ValueError("--target set needs --classes a,b,c: the names of the labels a "
                         "sample can have")
    if target == SET and args.labels:
        raise ValueError("--labels reads one class per sample; with --target set give "
                         "the first sets in the session (or a learner's y)")
    if target != CLASS and args.stop:
        raise ValueError(f"--stop reads class probabilities; with --target {target} drop "
                         "it (stop with --max-labels)")


def _holdout(args, pool, classes):
    """``--holdout``'s ``(X, y)`` for the pool (see skal.cli._holdout), or None."""
    column = getattr(args, "holdout_label_column", None)
    if not args.holdout:
        if column is not None:
            raise ValueError("--holdout-label-column names the label column of a --holdout "
                             "table: give --holdout FILE too")
        return None
    return open_holdout(args.holdout, pool, label_column=column, classes=classes)


def _progress(holdout, emit=None):
    """A Campaign callback printing one line per fit (validation accuracy with a holdout);
    ``emit(line)`` instead of printing it, when given."""
    started = time.perf_counter()

    def progress(campaign):
        line = (f"round {len(campaign.history_) - 1}: {len(campaign.labeled_indices_)} labels, "
                f"{len(campaign.skipped_indices_)} skipped")
        if holdout is not None:
            what = "R²" if campaign.spec.task == "regression" else "accuracy"
            line += f", validation {what} {campaign.estimator_.score(*holdout):.3f}"
        for signal in campaign.history_[-1].get("stopping", ()):  # --stop's progress
            line += f", {signal}"
        line += f" ({time.perf_counter() - started:.0f}s)"
        if emit is None:
            print(line, flush=True)
        else:
            emit(line)

    return progress


def _describe(session) -> str:
    pool, holdout = session["pool"], session["holdout"]
    what = {"table": f"table rows of {pool.X.shape[1]} feature columns", "text": "texts"}.get(
        pool.kind, f"samples of {pool.X.shape[1]} features")
    holdout_note = f", holdout {len(holdout[1])}" if holdout else ""
    return (f"pool: {len(pool)} {what}{holdout_note}; journal: "
            f"{safe_text(session['journal_path'])} "
            f"({len(session['journal'].labeled_ids())} samples answered so far)")


def run(args: argparse.Namespace) -> int:
    """Run a labeling session; the exit status."""
    if getattr(args, "web", False) and args.rounds is not None:
        return _fail("--rounds counts rounds of the terminal session; the browser page asks "
                     "until the pool is done or --max-labels: use --max-labels with --web.")
    try:
        session = _prepare(args)
        session["learner"], session["start"] = session_learner(args, session["pool"])
        _check_save(args.save, session["learner"], session["pool"])
    except ValueError as exc:
        return _fail(str(exc))
    print(_describe(session), flush=True)
    if getattr(args, "web", False):
        from skal.cli._web import serve

        return serve(args, X=session["X"], learner=session["learner"],
                     journal=session["journal"], display_shape=session["display_shape"],
                     classes=session["classes"], names=session["names"],
                     holdout=session["holdout"], callbacks=[_progress(session["holdout"])],
                     imported=session["imported"], pool=session["pool"],
                     start_from=session["start"])
    return _run_terminal(args, session["learner"], session)


def _open_campaign(learner, session):
    """The campaign over the journal: keys, a starting model, then a --labels file."""
    from skal import Campaign

    pool = session["pool"]
    campaign = Campaign(campaign_learner(learner, session["target"]), pool.X,
                        journal=session["journal"], keys=pool.keys)
    if session["start"] is not None and campaign.estimator_ is None:
        campaign.start_from(session["start"])
        print("starting from the trained model of --model: it chooses the first samples",
              flush=True)
    answer_imported(campaign, session["imported"])
    return campaign


def _show(args, session):
    """``show(index)``: a sample as the terminal draws it (a record or text of a table or
    text pool; an image or a row of values of an array)."""
    pool = session["pool"]
    if pool.kind in ("table", "text"):
        return lambda i: terminal_text(pool, i)
    drawer = TerminalOracle(image_shape=session["display_shape"], color=args.color)
    return lambda i: drawer.render(pool.X[i])


def _keys(session) -> Keys:
    """What a typed line means for the session's --target."""
    target = session["target"]
    if target == NUMBER:
        return NumberKeys()
    return SetKeys(session["classes"]) if target == SET else Keys(session["classes"])


def _run_terminal(args, learner, session) -> int:
    X, journal = session["X"], session["journal"]
    try:
        campaign = _open_campaign(learner, session)
        labeling = TerminalLabeling(
            campaign, show=_show(args, session), keys=_keys(session),
            annotator=journal.annotator, rounds=args.rounds or len(X),
            names=session["names"], started=session["start"] is not None)
        campaign.callbacks.append(_progress(session["holdout"], labeling.note))
        why = labeling.run()
        labeling.finish(why, save=bool(args.save))
    except KeyboardInterrupt:
        print(f"\ninterrupted: {_summary(journal, len(X))}", flush=True)
        return 130
    except ValueError as exc:
        return _fail(str(exc))
    finally:
        journal.quiet = True
    state = "stopped" if why == "stopped" else "done"
    if why not in ("stopped", "done", "max_labels", "pool exhausted"):
        state += f" ({why})"  # a --stop criterion ended it
    print(f"{state}: {_summary(journal, len(X))}", flush=True)
    return _save(args, learner, campaign) if args.save else 0


def _check_save(path, learner, pool) -> None:
    """``--save``, checked before the first sample: what ``learner.save`` would refuse at
    the end (its documented limits: a Keras model of skal's allow-list, a strategy given by
    name, numeric samples) is refused now; a ValueError naming the option and what works."""
    if not path:
        return
    estimator = learner.estimator
    why = None
    if estimator is not None and not _savable(estimator):
        why = (f"this session's model is {type(estimator).__module__}."
               f"{type(estimator).__qualname__}")
    elif not isinstance(learner.query_strategy, str):
        why = (f"the learner's query_strategy is a {type(learner.query_strategy).__name__}, "
               "not a strategy name")
    elif pool.kind == "text" or (pool.kind == "table" and any(
            dtype.kind not in "biuf" for dtype in pool.X.dtypes)):
        why = f"the samples of this {pool.kind} pool are not all numbers"
    if why is not None:
        raise ValueError(
            f"--save {path}: a learner can be saved (see skal.load) when its model is a "
            "Keras network, skal.CNNClassifier or skal.CNNRegressor (--model cnn, the default "
            "for images and arrays) or skal.KerasClassifier/KerasRegressor (a saved learner "
            "of one, or a factory returning one), with a query strategy given by name, on "
            f"numeric samples; {why}. Leave out --save: every answer stays in the journal "
            f"(skal export writes it out; {type(learner).__name__}.from_journal rebuilds a "
            "learner).")


def _savable(estimator) -> bool:
    """Whether ``estimator``'s class is one a save may hold (skal.keras.SAVABLE_ESTIMATORS)."""
    if not callable(getattr(estimator, "save_fitted", None)):
        return False  # checked first: a scikit-learn model imports no TensorFlow
    from skal.keras import SAVABLE_ESTIMATORS

    cls = type(estimator)
    return SAVABLE_ESTIMATORS.get(cls.__name__) is cls


def _save(args, learner, campaign) -> int:
    """``--save``: the learner of the campaign's model, trained on every answer."""
    if campaign.estimator_ is None:
        print("nothing saved: there is no model yet (it needs labels of two classes)",
              flush=True)
        return 0
    try:
        saved = type(learner).from_campaign(campaign).save(args.save)
    except TypeError as exc:
        return _fail(str(exc))
    print(f"saved the learner to {saved}", flush=True)
    return 0


def _summary(journal: LabelJournal, n: int) -> str:
    labels = journal.labels()
    skipped = sum(1 for lab in labels.values() if type(lab) is int and lab == -1)
    left = n - len(labels)
    more = "; run the same command to continue" if left else "; every sample was asked"
    return (f"{len(labels) - skipped} labels and {skipped} skips in {safe_text(journal.path)}, "
            f"{left} samples never asked{more}.")
