"""Training on the unlabeled pool: what each refit of a campaign trains on besides the labels.

An option is a :class:`PoolTraining` (or any object with its ``augment`` method), asked
through :func:`pool_training` before every refit with the pool, the labeled set, the rows
nobody labeled, the previous round's model and the round's seed; it answers with a
:class:`PoolTrainingResult`: pool rows to train on with labels it chose (pseudo-labels,
never recorded as answers), and/or keyword arguments of the estimator's ``fit``. Use a name
(``"pseudo_labels"``) or an object (``PseudoLabels(threshold=0.9)``) as
``ActiveLearningClassifier(semi_supervised=...)``; :func:`resolve_semi_supervised` turns
either into a checked option. The same option applies whatever the query strategy.

Built-in options: ``"pseudo_labels"`` (:class:`PseudoLabels`: the previous model's
confident predictions, CEAL), ``"label_spreading"`` (:class:`LabelSpreadingPseudoLabels`:
labels spread over a neighbour graph of the pool) and ``"consistency"``
(:class:`ConsistencyTraining`: the network trains on the pool itself, FixMatch; for
estimators whose ``fit`` takes ``X_unlabeled=`` and ``consistency=``, as skal's Keras
wrappers do).

Its modules, by job: ``_base`` the protocol and :func:`pool_training`; ``_select`` the
selection the pseudo-labelers share (candidates drawn, caps, class balance);
``_pseudo_labels``, ``_label_spreading`` (with ``_graph``, the check that a neighbour graph
follows the classes) and ``_consistency`` one option each; ``_registry`` the names.
"""

from skal.semi_supervised._base import PoolTraining, PoolTrainingResult, pool_training
from skal.semi_supervised._consistency import ConsistencyTraining
from skal.semi_supervised._label_spreading import LabelSpreadingPseudoLabels
from skal.semi_supervised._pseudo_labels import PseudoLabels
from skal.semi_supervised._registry import SEMI_SUPERVISED, resolve_semi_supervised

__all__ = [
    "SEMI_SUPERVISED",
    "ConsistencyTraining",
    "LabelSpreadingPseudoLabels",
    "PoolTraining",
    "PoolTrainingResult",
    "PseudoLabels",
    "pool_training",
    "resolve_semi_supervised",
]

# Public names belong to this package, where they are documented; pickles keep naming
# skal.semi_supervised.<name>, as before the package was split.
for _public in (ConsistencyTraining, LabelSpreadingPseudoLabels, PoolTraining,
                PoolTrainingResult, PseudoLabels, pool_training, resolve_semi_supervised):
    _public.__module__ = __name__
del _public
