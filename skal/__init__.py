"""skal: scikit-learn-native active learning for deep (Keras/TensorFlow) classifiers and regressors.

``import skal`` stays light: TensorFlow, SciKeras and matplotlib are imported only when a
Keras model is built or a plot is drawn.
"""

from importlib import import_module

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access (PEP 562), so that
# `import skal` costs neither TensorFlow (~3 s) nor scikit-learn (~0.8 s, with scipy).
_LAZY = {
    "ActiveLearningClassifier": "skal._learner",
    "ActiveLearningRegressor": "skal._regressor",
    "Campaign": "skal.campaign",
    "CNNClassifier": "skal.keras",
    "CNNRegressor": "skal.keras",
    "ConsistencyTraining": "skal.semi_supervised",
    "KerasClassifier": "skal.keras",
    "KerasRegressor": "skal.keras",
    "LabelJournal": "skal.io",
    "LabelSpreadingPseudoLabels": "skal.semi_supervised",
    "PseudoLabels": "skal.semi_supervised",
    "load": "skal._loading",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skal' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
