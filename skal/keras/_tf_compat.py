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
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = [
    "around_scikeras",
    "own_python_random",
    "quiet_tensorflow_logs",
    "restore_op_determinism",
]


class _OwnRetracingFilter(logging.Filter):
    """Drop TensorFlow's retracing warning about skal's own per-model forward function.

    Each refit builds a new Keras model, so its compiled forward pass is traced once per
    round by design; TensorFlow counts those traces and warns as if it were a bug.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "_get_forward_fn" not in record.getMessage()


def quiet_tensorflow_logs() -> None:
    """Keep TensorFlow's start-up chatter and expected retracing warnings off the terminal.

    Call before TensorFlow is first imported: the C++ log level (CUDA probes, oneDNN notes)
    is read once, at import. A level the user set is kept. Calling again changes nothing.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _OwnRetracingFilter) for f in logger.filters):
        logger.addFilter(_OwnRetracingFilter())


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
