"""Process-level TensorFlow workarounds: log noise, op determinism, Python's seed draws.

Everything here changes, or undoes a change to, state that belongs to the whole process
rather than to one estimator, so it is kept apart from the estimators that need it:

* :func:`quiet_tensorflow_logs` -- TensorFlow's C++ start-up chatter and its retracing
  warning about skal's own per-model forward function;
* :func:`restore_op_determinism` -- SciKeras leaves TensorFlow's op determinism on;
* :func:`own_python_random` -- Keras draws default seeds from Python's global ``random``,
  which other threads (a Dask worker's event loop) draw from too;
* :func:`around_scikeras` -- the last two, around every SciKeras call that seeds or builds.

Nothing here imports TensorFlow at import time.

TensorFlow's log lines, and what silences each (TensorFlow 2.21, measured)
--------------------------------------------------------------------------
* Lines written while ``import tensorflow`` loads its shared libraries -- ``WARNING: All log
  messages before absl::InitializeLog() is called are written to STDERR``, ``I0000 ...
  port.cc ... oneDNN custom operations are on``, ``I0000 ... cudart_stub.cc ... Could not
  find cuda drivers`` (each twice: two libraries) -- come from Abseil's logging before it is
  initialised, which writes every message to file descriptor 2 whatever
  ``TF_CPP_MIN_LOG_LEVEL`` says. Only filtering fd 2 during the import removes them:
  :func:`quiet_tensorflow_logs` imports TensorFlow with fd 2 redirected to a temporary file,
  then writes back every line except those ``TF_CPP_MIN_LOG_LEVEL`` would have dropped
  (see :func:`_without_noise`). ``TF_ENABLE_ONEDNN_OPTS=0`` would also remove the oneDNN
  note, but changes results, so it is left alone.
* ``E0000 ... cuda_platform.cc ... failed call to cuInit`` (no CUDA driver, or no device)
  comes when TensorFlow first lists its devices; the import above lists them inside the
  filter. ``CUDA_VISIBLE_DEVICES`` is never touched: a GPU stays visible to those who have one.
* ``E0000 ... node_def_util.cc ... NodeDef mentions attribute use_unbounded_threadpool``
  comes during training, from a bug in TensorFlow 2.21's tf.data: with op determinism on
  (SciKeras turns it on for every seeded fit) and a last partial batch, the parallel map of
  Keras' input pipeline is rewritten into a sequential one that keeps an attribute the
  sequential op does not have. Harmless; an ERROR-level line after Abseil is initialised, so
  only ``TF_CPP_MIN_LOG_LEVEL=3`` silences it. That is skal's default (set only when the
  variable is unset, before TensorFlow is imported); set ``TF_CPP_MIN_LOG_LEVEL=0`` (or 1, 2)
  before importing ``skal.keras`` to see TensorFlow's C++ logs again. TensorFlow reports its
  real failures as Python exceptions, which no log level hides.
* ``WARNING:tensorflow:5 out of the last 5 calls to <function
  TensorFlowTrainer.make_predict_function.<locals>.one_step_on_data_distributed> triggered
  tf.function retracing`` came from :meth:`~skal.keras.KerasClassifier.embed` building a new
  Keras sub-model (and so a new predict function) for each round's estimator, even when the
  round reused the previous network. The sub-model is now cached on the network itself, so
  a reused network keeps its traced predict function; see ``_wrapper.py``. skal's own
  forward function is cached the same way; a new network still traces it once, by design,
  and that warning is filtered (:class:`_OwnRetracingFilter`).
"""

from __future__ import annotations

import logging
import os
import random
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "around_scikeras",
    "own_python_random",
    "own_tracing",
    "quiet_tensorflow_logs",
    "restore_op_determinism",
]

#: TF_CPP_MIN_LOG_LEVEL set when the user has not set it: 3 drops INFO, WARNING and ERROR.
DEFAULT_TF_CPP_MIN_LOG_LEVEL = "3"

# One Abseil/glog record: severity letter, MMDD, time (before Abseil is initialised:
# 00:00:<seconds since 1970>), thread id, file:line].
_LOG_RECORD = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ [^\s:\]]+:\d+\] ")
_ABSL_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"
# cpu_feature_guard.cc's INFO record goes on over a second line without a prefix.
_CPU_GUARD_TAIL = re.compile(
    r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate "
    r"compiler flags\.?$"
)
_NO_CUDA_DRIVER = "Could not find cuda drivers"
_CUINIT_FAILED = "failed call to cuInit"


_TRACING = threading.local()


class _OwnRetracingFilter(logging.Filter):
    """Drop TensorFlow's retracing warnings about skal's own per-network functions.

    A refit that cannot reuse the previous network builds a new one, so its compiled
    forward pass (and, for :meth:`~skal.keras.KerasClassifier.embed`, its embedding
    sub-model's predict function) is traced once per such round by design; TensorFlow counts
    those traces across networks and warns as if it were a bug. Dropped: warnings naming
    skal's forward function, and retracing warnings raised in a thread while it is inside
    :func:`own_tracing`. A user's own retracing warnings are kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "_get_forward_fn" in message:
            return False
        return not (getattr(_TRACING, "depth", 0) and "retracing" in message)


@contextmanager
def own_tracing() -> Iterator[None]:
    """Retracing warnings raised in this thread meanwhile are skal's own: drop them."""
    _TRACING.depth = getattr(_TRACING, "depth", 0) + 1
    try:
        yield
    finally:
        _TRACING.depth -= 1


def _min_log_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def _without_noise(text: str, level: int) -> str:
    """``text`` (what TensorFlow wrote to fd 2 while loading) less the lines to drop.

    Dropped: Abseil/glog records whose severity (I=0, W=1, E=2; F is never dropped) is below
    ``level`` -- what ``TF_CPP_MIN_LOG_LEVEL=level`` does once Abseil is initialised -- and,
    when ``level`` is at least 1, Abseil's banner, the second line of the CPU-feature note
    and a failed ``cuInit`` when the same import said there is no CUDA driver (the failure
    then says nothing new). Every other line, Python's warnings included, is kept, in order;
    ``level`` 0 keeps everything.
    """
    kept = []
    no_driver = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        record = _LOG_RECORD.match(body)
        if record is not None:
            severity = "IWEF".index(record.group(1))
            if _NO_CUDA_DRIVER in body:
                no_driver = True
            if severity < 3 and severity < level:
                continue
            if level >= 1 and no_driver and _CUINIT_FAILED in body:
                continue
        elif level >= 1 and (body.startswith(_ABSL_BANNER) or _CPU_GUARD_TAIL.match(body)):
            continue
        kept.append(line)
    return "".join(kept)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


@contextmanager
def _filtered_stderr(level: int) -> Iterator[None]:
    """File descriptor 2 goes to a temporary file; on exit, the non-noise lines go to it.

    For the duration of ``import tensorflow`` only: C++ libraries write to fd 2 directly,
    past ``sys.stderr``. Lines come out in order, at the end. Does nothing where fd 2
    cannot be duplicated (no stderr).
    """
    _flush_stderr()
    try:
        saved = os.dup(2)
        capture = tempfile.TemporaryFile()
    except OSError:  # no fd 2 to duplicate, or nowhere to write: no filter
        if "saved" in locals():
            os.close(saved)
        saved = None
    if saved is None:
        yield
        return
    with capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            _flush_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = _without_noise(text, level)
            if kept:
                _write_all(2, kept.encode("utf-8", errors="replace"))


def _flush_stderr() -> None:
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # None, closed or odd
        pass


def quiet_tensorflow_logs() -> None:
    """Keep TensorFlow's start-up chatter and expected retracing warnings off the terminal.

    Sets ``TF_CPP_MIN_LOG_LEVEL`` to :data:`DEFAULT_TF_CPP_MIN_LOG_LEVEL` unless the user
    set it, and, when TensorFlow is not imported yet, imports it (and lists its devices)
    with the lines TensorFlow writes before its own log level applies filtered as that
    level says (see the module docstring). A TensorFlow imported earlier is left alone: its
    start-up lines are already out. Calling again changes nothing.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_TF_CPP_MIN_LOG_LEVEL)
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _OwnRetracingFilter) for f in logger.filters):
        logger.addFilter(_OwnRetracingFilter())
    if "tensorflow" in sys.modules:
        return
    with _filtered_stderr(_min_log_level()):
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe, inside the filter


@contextmanager
def restore_op_determinism() -> Iterator[None]:
    """Undo SciKeras leaving TensorFlow's op determinism on after a seeded fit.

    SciKeras sets ``TF_DETERMINISTIC_OPS=1`` *before* asking whether determinism was on, so
    it always hears "yes" and never turns it off again; every later unseeded random op
    (dropout, shuffling) then raises "Random ops require a seed".
    """
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    try:
        yield
    finally:
        if not was_enabled and config.is_op_determinism_enabled():
            config.disable_op_determinism()


class _ThreadPythonRandom:
    """Stands in for the ``random`` module where SciKeras seeds it and Keras draws seeds.

    Keras draws the default seeds of layers and initialisers from Python's global ``random``
    right after SciKeras seeds it, so a seeded fit is reproducible only if no other thread
    draws in between -- and a Dask worker's event loop does, so the same seeded CNN trained
    differently on a worker. Inside :func:`own_python_random` this thread uses its own
    ``random.Random`` (seeded by SciKeras, drawn from by Keras; seeding also seeds the
    global module, as SciKeras intends); elsewhere this is the global module.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def __getattr__(self, name: str):
        own = getattr(self._local, "rng", None)
        return getattr(random if own is None else own, name)

    def seed(self, *args, **kwargs) -> None:
        random.seed(*args, **kwargs)
        own = getattr(self._local, "rng", None)
        if own is not None:
            own.seed(*args, **kwargs)

    def getstate(self):
        own = getattr(self._local, "rng", None)
        return random.getstate() if own is None else (random.getstate(), own.getstate())

    def setstate(self, state) -> None:
        own = getattr(self._local, "rng", None)
        if own is None:
            random.setstate(state)
        else:
            random.setstate(state[0])
            own.setstate(state[1])


_PYTHON_RANDOM = _ThreadPythonRandom()


@contextmanager
def own_python_random() -> Iterator[None]:
    """SciKeras' seeding and Keras' seed draws use a random generator of this thread."""
    from keras.src.random import seed_generator
    from scikeras.utils import random_state

    seed_generator.python_random = _PYTHON_RANDOM  # idempotent: module-level stand-ins
    random_state.random = _PYTHON_RANDOM
    local = _PYTHON_RANDOM._local
    previous = getattr(local, "rng", None)
    local.rng = random.Random()
    try:
        yield
    finally:
        local.rng = previous


@contextmanager
def around_scikeras() -> Iterator[None]:
    """Both workarounds, around each SciKeras call that may seed or build a model.

    The same as ``with restore_op_determinism(), own_python_random():`` (that order).
    """
    with restore_op_determinism(), own_python_random():
        yield
