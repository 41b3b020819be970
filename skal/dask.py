"""Helpers for running skal on a Dask cluster (``pip install skal[dask]``).

This module needs ``distributed``; ``import skal`` does not import it, nor does querying a
dask pool (that is ``skal._dask``, imported only when a pool is a dask array). TensorFlow is
imported on the workers only.
"""

from __future__ import annotations

import os

try:
    from distributed import WorkerPlugin
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "skal.dask needs dask and distributed: pip install 'skal[dask]'"
    ) from exc

__all__ = ["TensorFlowThreadsPlugin", "limit_tensorflow_threads"]

_ENV_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
PLUGIN_NAME = "skal-tensorflow-threads"


def _check_n_threads(n_threads) -> int:
    from skal._params import check_count

    return check_count(n_threads, "n_threads", caller="limit_tensorflow_threads")


def _set_tensorflow_threads(n_threads: int) -> None:
    """Limit this process's TensorFlow thread pools; effective until TF's runtime starts."""
    for var in _ENV_VARS:
        os.environ[var] = str(n_threads)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)
    except RuntimeError:  # TF already ran an op here; reported by limit_tensorflow_threads
        pass


def _tensorflow_threads() -> tuple[int, int]:
    import tensorflow as tf

    return (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )


class TensorFlowThreadsPlugin(WorkerPlugin):
    """Dask worker plugin: limit TensorFlow's thread pools on every worker it sets up.

    Sets ``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS`` and ``OMP_NUM_THREADS``,
    imports TensorFlow and sets its intra- and inter-op pools to ``n_threads``. Registered
    plugins also run on workers that start later (a restarted or added worker).

    Parameters
    ----------
    n_threads : int, default=1
        Threads of each of TensorFlow's pools per worker process.

    Examples
    --------
    The plugin that :func:`limit_tensorflow_threads` registers; building one starts nothing:

    >>> from skal.dask import TensorFlowThreadsPlugin
    >>> plugin = TensorFlowThreadsPlugin(n_threads=2)
    >>> plugin.name, plugin.n_threads
    ('skal-tensorflow-threads', 2)
    """

    name = PLUGIN_NAME

    def __init__(self, n_threads: int = 1) -> None:
        self.n_threads = _check_n_threads(n_threads)

    def setup(self, worker) -> None:
        """Called by each worker when the plugin is registered or the worker starts."""
        _set_tensorflow_threads(self.n_threads)


def limit_tensorflow_threads(client, n_threads: int = 1) -> dict[str, tuple[int, int]]:
    """Limit TensorFlow's threads on every worker of a Dask cluster, now and on restart.

    A worker running ``threads_per_worker`` tasks would otherwise let each TensorFlow call
    use every core of the machine, so workers oversubscribe the cores. Call this right after
    connecting the client, before any task has run TensorFlow on the workers: TensorFlow
    fixes its thread pools when it runs its first op. Alternatively start the workers with
    the environment variables ``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS`` and
    ``OMP_NUM_THREADS`` set (e.g. ``LocalCluster(..., env={...})``).

    Parameters
    ----------
    client : distributed.Client
        Client of the cluster.
    n_threads : int, default=1
        Threads of each of TensorFlow's pools (intra-op and inter-op) per worker; use
        ``cores per worker / threads_per_worker``.

    Returns
    -------
    threads : dict
        Worker address -> ``(intra_op, inter_op)`` threads TensorFlow now uses there.

    Raises
    ------
    ValueError
        If ``n_threads`` is not an int >= 1.
    TypeError
        If ``client`` is not a ``distributed.Client``.
    RuntimeError
        If TensorFlow had already started on some workers, so their pools cannot change
        any more; ``client.restart()`` applies the (still registered) limit to fresh
        workers.

    Examples
    --------
    Anything but a ``distributed.Client`` is refused, before any worker is touched:

    >>> from skal.dask import limit_tensorflow_threads
    >>> limit_tensorflow_threads("tcp://127.0.0.1:8786", n_threads=2)
    Traceback (most recent call last):
        ...
    TypeError: client must be a distributed.Client, got str.

    With a cluster of two single-threaded workers on a 4-core machine (skipped here: it starts
    a cluster):

    >>> from distributed import Client, LocalCluster
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> limit_tensorflow_threads(client, n_threads=2)  # doctest: +SKIP
    {'tcp://127.0.0.1:...': (2, 2), 'tcp://127.0.0.1:...': (2, 2)}
    """
    n_threads = _check_n_threads(n_threads)
    if not (hasattr(client, "register_plugin") and hasattr(client, "run")):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}.")
    client.register_plugin(TensorFlowThreadsPlugin(n_threads), name=PLUGIN_NAME)
    threads = {addr: tuple(v) for addr, v in client.run(_tensorflow_threads).items()}
    stuck = sorted(addr for addr, v in threads.items() if v != (n_threads, n_threads))
    if stuck:
        raise RuntimeError(
            f"TensorFlow had already started on workers {stuck}, so their thread pools "
            f"cannot be set to {n_threads} any more (they use {[threads[a] for a in stuck]}). "
            "The limit stays registered: call client.restart() to apply it to fresh workers."
        )
    return threads
