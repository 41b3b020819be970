"""scikit-learn's own API checks on the learner around Keras models, and on the CNN itself.

All of scikit-learn's checks on three estimators take ~280 s on this 2-core machine (a
Keras fit costs about a second, mostly building and tracing the model), so this file runs
a subset, ~90 s, chosen as follows (``tests/test_estimator_checks.py`` already runs every
check on the learner around a LogisticRegression, i.e. the learner's own validation):

* ``LEARNER_CNN``, the learner around the default model: every check except those in
  ``LEARNER_CNN_SKIPPED`` -- input-validation checks that fail in the learner before any
  Keras code runs (covered by the LogisticRegression suite), the read-only-memmap variants
  of checks kept in their plain form, the expected failure ``check_classifiers_classes``
  (the same as in the LogisticRegression suite) and ``check_methods_sample_order_invariance``
  (see the note above ``expected_failed_checks``). New scikit-learn checks run by default.
* ``LEARNER_KERAS``, the learner around a user's model function: ``LEARNER_KERAS_KEPT``,
  the checks that look at what the model learns and predicts.
* ``CNN``, the bare ``CNNClassifier``: ``CNN_KEPT``, the checks that exercise skal's own
  additions to SciKeras (batched forward pass, model reuse on refit, pickling without the
  cached sub-models, ``min_train_steps``, tags), with the expected failures explained in
  :func:`expected_failed_checks`.

The models are tiny but trained enough (``learning_rate=0.01``, ``min_train_steps=50``) for
the checks that test learning (``check_classifiers_train``: training accuracy > 0.83 on
blobs; ``check_class_weight_classifiers``): with one plain epoch (a few gradient steps) they
fail for want of training, which says nothing about the API.
"""

from functools import partial

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from skal import ActiveLearningClassifier, CNNClassifier, KerasClassifier


def tiny_dense(meta):
    import keras

    model = keras.Sequential([
        keras.Input(shape=(meta["n_features_in_"],)),
        keras.layers.Dense(8, activation="relu", name="hidden"),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(meta["n_classes_"], activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def tiny_cnn():
    return CNNClassifier(filters=(4,), dense_units=8, epochs=1, learning_rate=0.01,
                         min_train_steps=50, random_state=0)


LEARNER_CNN = ActiveLearningClassifier(tiny_cnn())
LEARNER_KERAS = ActiveLearningClassifier(
    KerasClassifier(tiny_dense, epochs=1, min_train_steps=50, random_state=0, verbose=0)
)
CNN = tiny_cnn()

LEARNER_CNN_SKIPPED = {
    "check_classifiers_classes",  # expected failure, as around LogisticRegression
    "check_methods_sample_order_invariance",  # float32 rounding: see expected_failed_checks
    "check_classifiers_train(readonly_memmap=True)",
    "check_classifiers_train(readonly_memmap=True,X_dtype=float32)",
    "check_estimators_pickle(readonly_memmap=True)",
    # rejected or converted by the learner's validation before the CNN sees them
    "check_supervised_y_2d",
    "check_classifier_data_not_an_array",
    "check_estimators_nan_inf",
    "check_dtype_object",
    "check_positive_only_tag_during_fit",
    "check_fit_score_takes_y",
    "check_fit2d_1feature",
    "check_f_contiguous_array_estimator",
}
LEARNER_KERAS_KEPT = {
    "check_estimator_cloneable",
    "check_get_params_invariance",
    "check_classifiers_train",
    "check_fit_idempotent",
    "check_estimators_pickle",
    "check_methods_subset_invariance",
    "check_n_features_in",
}
CNN_KEPT = {
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_tags_renamed",
    "check_mixin_order",
    "check_estimators_unfitted",
    "check_classifiers_train",
    "check_class_weight_classifiers",
    "check_fit_idempotent",
    "check_methods_subset_invariance",
    "check_estimators_pickle",
    "check_estimators_overwrite_params",
    "check_fit2d_predict1d",
    "check_fit2d_1sample",
    "check_estimators_empty_data_messages",
    "check_n_features_in_after_fitting",
    "check_dict_unchanged",
    "check_estimator_sparse_tag",
}


# check_methods_sample_order_invariance is not run: it compares with rtol=1e-7, below
# float32's resolution (1.2e-7), and on some CPUs the float32 kernels round a row differently
# depending on where it falls in the batch (a full block or the tail), ~3e-8 apart, while on
# others (this machine) they do not. Neither a plain run nor an expected failure holds on
# every CPU (with xfail_strict, it passed here as an unexpected pass);
# test_predict_proba_sample_order_invariance below checks the same at 1e-5 instead.


def expected_failed_checks(estimator):
    if isinstance(estimator, ActiveLearningClassifier):
        return {
            # The check trains on labels {-1, 1}; -1 marks unlabeled samples (scikit-learn's
            # semi-supervised convention), so one class is left ("y has only one class").
            "check_classifiers_classes": "-1 means unlabeled, as in SelfTrainingClassifier",
        }
    return {
        # scikeras.wrappers.BaseWrapper defines the legacy _more_tags and no __sklearn_tags__
        # (the check looks at each class of the MRO; skal's subclass defines the new one).
        "check_estimator_tags_renamed": "SciKeras 0.13's BaseWrapper defines _more_tags",
        # SciKeras' KerasClassifier is (BaseWrapper, ClassifierMixin) and BaseWrapper is a
        # BaseEstimator, so BaseEstimator comes before ClassifierMixin in the MRO.
        "check_mixin_order": "SciKeras puts BaseEstimator before ClassifierMixin",
        # Not run (not in CNN_KEPT), but fail for these reasons:
        # Mini-batch gradient descent: weighting a sample is not the same as repeating it
        # (other batches, other loss normalisation); probabilities differ by ~1e-2.
        "check_sample_weight_equivalence_on_dense_data": "SGD: weights != repeated rows",
        # SciKeras accepts a column y of shape (n, 1) without a DataConversionWarning.
        "check_supervised_y_2d": "SciKeras takes 2-D y silently",
    }


def _check_id(check) -> str:
    """``check_name`` or ``check_name(keyword=value,...)``, as scikit-learn's test ids."""
    name = check.func.__name__ if isinstance(check, partial) else check.__name__
    kwargs = check.keywords if isinstance(check, partial) else {}
    if kwargs:
        name += "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"
    return name


def _params(label, estimator, *, kept=None, skipped=()):
    for item in estimator_checks_generator(
        estimator, expected_failed_checks=expected_failed_checks(estimator), mark="xfail"
    ):
        values, marks = (item.values, item.marks) if hasattr(item, "values") else (item, ())
        check_id = _check_id(values[1])
        if (kept is None or check_id in kept) and check_id not in skipped:
            yield pytest.param(*values, marks=marks, id=f"{label}-{check_id}")


CHECKS = [
    *_params("learner_cnn", LEARNER_CNN, skipped=LEARNER_CNN_SKIPPED),
    *_params("learner_keras", LEARNER_KERAS, kept=LEARNER_KERAS_KEPT),
    *_params("cnn", CNN, kept=CNN_KEPT),
]


def test_the_chosen_checks_exist():
    """A renamed scikit-learn check must not silently drop out of the subsets."""
    ids = {p.id.split("-", 1)[1] for p in CHECKS}
    assert LEARNER_KERAS_KEPT | CNN_KEPT <= ids
    learner_checks = {_check_id(c) for _, c in estimator_checks_generator(LEARNER_CNN)}
    assert LEARNER_CNN_SKIPPED <= learner_checks


@pytest.mark.parametrize("estimator, check", CHECKS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [LEARNER_CNN, CNN], ids=["learner_cnn", "cnn"])
def test_predict_proba_sample_order_invariance(estimator):
    """Shuffling the rows shuffles the probabilities, up to float32 rounding."""
    import numpy as np
    from sklearn.base import clone
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=30, centers=3, n_features=2, random_state=0)
    model = clone(estimator).fit(X, y)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(model.predict_proba(X)[order], model.predict_proba(X[order]),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X)[order], model.predict(X[order]))
