"""skal.load: a learner saved with its save method, read back safely."""

from __future__ import annotations

from skal._labels import CLASSIFICATION, REGRESSION
from skal._learner import ActiveLearningClassifier
from skal._persistence import load_learner
from skal._regressor import ActiveLearningRegressor

__all__ = ["load"]


def load(path, *, custom_objects=None, **params
         ) -> ActiveLearningClassifier | ActiveLearningRegressor:
    """Load a learner saved with :meth:`ActiveLearningClassifier.save` (or the regressor's).

    Nothing is unpickled and no code from the file runs: parameters are JSON, arrays are read
    without pickle and the Keras model with ``safe_mode=True``. Every part is read within
    size limits -- the Keras archives inside too, before Keras opens them -- and checked:
    the estimator's parameters against its class (known names, values in range), the state
    against itself and against the model, and the round models against the history (one per
    fit when the learner was saved with ``store_round_estimators=True``; at most one per
    fit otherwise). The loaded learner gives the same ``predict_proba`` and, having the
    same seed and history, the same next ``query`` as the saved one.

    Parameters
    ----------
    path : str or path-like
        The saved file.
    custom_objects : dict or None, default=None
        Custom Keras layers or functions of your own model, as for
        ``keras.saving.load_model``.
    **params
        Learner parameters to set on the loaded learner, typically ``oracle=`` and
        ``journal=`` (never saved), ``query_strategy=`` (a callable or object), or
        ``estimator=`` (an unfitted estimator whose parameters replace the saved ones, e.g.
        a ``KerasClassifier`` with its model-building function; the saved network is kept).
        ``store_round_estimators=False`` loads the round models a file holds even if it
        lacks some that its history says were kept (the first fits' models are taken).

    Returns
    -------
    learner : ActiveLearningClassifier or ActiveLearningRegressor
        The fitted learner (of the class that saved it), with the saved models of its
        campaign's rounds in ``round_estimators_`` (empty if none were saved).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        "... is not a readable skal save: <what>." if the file is not a skal save, is
        truncated, damaged, too large or inconsistent; or if it has another format version.

    Examples
    --------
    A learner with a tiny CNN fitted on 20 labels (``n_queries=0``: no campaign), saved and
    read back:

    >>> import os, tempfile
    >>> from skal import ActiveLearningClassifier, CNNClassifier, load
    >>> from skal.datasets import load_digits_split
    >>> X, _, y, _ = load_digits_split()
    >>> cnn = CNNClassifier(filters=(4,), dense_units=8, epochs=1, min_train_steps=None,
    ...                     random_state=0)
    >>> learner = ActiveLearningClassifier(cnn, random_state=0).fit(X[:20], y[:20])
    >>> path = learner.save(os.path.join(tempfile.mkdtemp(), "learner.skal"))
    >>> loaded = load(path)
    >>> loaded.n_labeled_, type(loaded.estimator_).__name__
    (20, 'CNNClassifier')
    >>> bool((loaded.predict_proba(X[:5]) == learner.predict_proba(X[:5])).all())
    True
    """
    learners = {CLASSIFICATION: ActiveLearningClassifier, REGRESSION: ActiveLearningRegressor}
    return load_learner(learners, path, custom_objects=custom_objects, **params)
