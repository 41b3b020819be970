"""Oracles: array and terminal oracles, and fitting a learner with an oracle."""

import io

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skal import ActiveLearningClassifier
from skal.oracles import ArrayOracle, StopLabeling, TerminalOracle, render_image


@pytest.fixture(scope="module")
def small(digits_xy):
    X, y = digits_xy
    return X[:300], y[:300]


def learner(**kw):
    params = dict(n_queries=3, n_instances=10, initial_size=10, random_state=0)
    params.update(kw)
    return ActiveLearningClassifier(LogisticRegression(max_iter=300), **params)


class Recorder:
    """An oracle that answers from ``truth`` and remembers what it was asked."""

    def __init__(self, truth):
        self.truth = np.asarray(truth)
        self.calls = []

    def label(self, X_batch, indices):
        self.calls.append(np.asarray(indices).tolist())
        return self.truth[np.asarray(indices)]


# --------------------------------------------------------------------------- ArrayOracle


def test_array_oracle():
    oracle = ArrayOracle([3, -1, 5])
    np.testing.assert_array_equal(oracle(np.zeros((2, 1)), [2, 0]), [5, 3])
    assert oracle.label(None, [1]).tolist() == [-1]
    with pytest.raises(IndexError, match="3 labels"):
        oracle.label(None, [3])
    with pytest.raises(ValueError, match="1-D"):
        ArrayOracle(np.zeros((2, 2)))


# --------------------------------------------------------------------------- TerminalOracle


def answer(oracle_kw, lines, X, indices):
    out = io.StringIO()
    oracle = TerminalOracle(input=io.StringIO("".join(f"{x}\n" for x in lines)), output=out,
                            **oracle_kw)
    return oracle, out, oracle.label(X, indices)


def test_terminal_oracle_labels_skips_and_refuses_unknown_classes():
    X = np.random.default_rng(0).random((4, 64))
    oracle, out, labels = answer(
        {"classes": ["cat", "dog"], "color": "none"}, ["cat", "", "bird", "#1", "s"], X,
        [7, 8, 9, 10],
    )
    assert labels == ["cat", None, "dog", None]
    text = out.getvalue()
    assert "sample 7" in text and "'bird' is not one of the classes" in text
    assert oracle.n_answered == 4 and not oracle.stopped


def test_terminal_oracle_parses_ints_without_classes():
    _, _, labels = answer({}, ["3", "x"], np.zeros((2, 5)), [0, 1])
    assert labels == [3, "x"]


@pytest.mark.parametrize("stop", ["q", None])  # "q", or the end of the input
def test_terminal_oracle_stop_keeps_answers(stop):
    lines = ["1", "0"] + ([stop] if stop else [])
    out = io.StringIO()
    oracle = TerminalOracle(input=io.StringIO("".join(f"{x}\n" for x in lines)), output=out)
    with pytest.raises(StopLabeling) as info:
        oracle.label(np.zeros((4, 3)), [0, 1, 2, 3])
    assert info.value.labels == [1, 0, None, None]
    assert oracle.stopped
    with pytest.raises(StopLabeling):  # stays stopped
        oracle.label_one(np.zeros(3), 5)


def test_terminal_oracle_renders_images_and_rows():
    rng = np.random.default_rng(0)
    out = io.StringIO()
    oracle = TerminalOracle(output=out, color="truecolor", feature_names=["a", "b", "c"])
    image = oracle.render(rng.random(64))  # 64 = 8x8, shown as an image: 4 text lines
    assert image.count("\n") == 3 and image.count("▀") == 32 and "\x1b[38;2;" in image
    assert "\x1b[38;5;" in TerminalOracle(color="256").render(rng.random((5, 6, 3)))
    assert oracle.render(np.array([1.5, 2.0, 3.25])) == "a=1.5  b=2  c=3.25"
    shaped = TerminalOracle(image_shape=(2, 3), color="none").render(np.arange(6.0))
    assert len(shaped.splitlines()) == 1
    assert "x1=" in TerminalOracle().render(np.arange(10.0))  # not a square: tabular


def test_render_image_shrinks_and_handles_odd_heights():
    lines = render_image(np.ones((12, 200)), color="none", max_width=50).splitlines()
    assert len(lines) == 2 and max(len(line) for line in lines) == 50  # 12x200 -> 3x50
    assert len(render_image(np.eye(3), color="256").splitlines()) == 2
    rgba = render_image(np.zeros((2, 2, 4)), color="truecolor")
    assert rgba.count("▀") == 2
    with pytest.raises(ValueError, match="image"):
        render_image(np.zeros(5))


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"color": "pink"}, "color"),
        ({"max_width": 1}, "max_width"),
        ({"image_shape": (3,)}, "image_shape"),
        ({"classes": []}, "classes"),
    ],
)
def test_terminal_oracle_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        TerminalOracle(**kw)


# --------------------------------------------------------------------------- fit(oracle=)


def test_fit_asks_the_oracle_only_for_unlabeled_samples_and_honours_skips(small):
    X, y = small
    y_partial = np.full(len(y), -1)
    y_partial[:50] = y[:50]
    truth = y.copy()
    truth[50::4] = -1  # the oracle skips every 4th unknown sample
    oracle = Recorder(truth)
    est = learner(oracle=oracle).fit(X, y_partial)

    asked = [i for call in oracle.calls for i in call]
    assert len(asked) == len(set(asked)), "a sample was asked twice"
    assert all(i >= 50 for i in asked), "a sample with a known y was asked"
    assert oracle.calls and len(oracle.calls) == 3  # the 50 given labels are the initial set
    skipped = set(range(50, len(y), 4))
    assert not skipped & set(est.labeled_indices_.tolist())
    assert skipped & set(asked)  # some skips happened
    np.testing.assert_array_equal(est.y_labeled_, y[est.labeled_indices_])
    queried = np.concatenate(est.queried_indices_)
    assert len(queried) == 30
    assert est.n_labeled_ == 50 + 30 - len(skipped & set(queried.tolist()))
    assert (est.labeled_round_[:50] == 0).all()  # every label already paid for, from round 0


def test_initial_set_is_asked_when_too_few_labels(small):
    X, y = small
    calls = []

    def oracle(X_batch, indices):  # a plain callable
        calls.append(list(indices))
        assert len(X_batch) == len(indices)
        return y[np.asarray(indices)]

    est = learner(oracle=oracle, n_queries=1).fit(X, np.full(len(y), -1))
    assert len(calls[0]) == 10 and est.labeled_round_[calls[0]].tolist() == [0] * 10
    assert est.n_labeled_ == 20


def test_oracle_stopping_ends_the_campaign_with_its_answers(small):
    X, y = small

    class Stopper:
        def __init__(self):
            self.n = 0

        def label(self, X_batch, indices):
            self.n += 1
            if self.n == 2:  # second round: answers two samples, then stops
                raise StopLabeling([y[indices[0]], y[indices[1]]])
            return y[np.asarray(indices)]

    est = learner(oracle=Stopper(), n_queries=5).fit(X, np.r_[y[:20], np.full(280, -1)])
    assert est.n_labeled_ == 20 + 10 + 2  # the 20 given, round 1, two answers of round 2
    assert len(est.history_) == 3  # initial, round 1, the stopped round 2


def test_oracle_with_one_class_only_is_an_error(small):
    X, y = small
    with pytest.raises(ValueError, match="two classes"):
        learner(oracle=ArrayOracle(np.where(y == 3, 3, -1))).fit(X, np.full(len(y), -1))


def test_oracle_returning_wrong_number_of_labels(small):
    X, y = small
    with pytest.raises(ValueError, match="oracle returned 1 labels"):
        learner(oracle=lambda Xb, idx: [0]).fit(X, np.full(len(y), -1))


def test_without_oracle_unlabeled_campaign_is_refused(small):
    X, y = small
    with pytest.raises(ValueError, match="oracle="):
        learner().fit(X, np.r_[y[:100], np.full(200, -1)])


def test_bad_oracle_parameter(small):
    X, y = small
    with pytest.raises(ValueError, match="'oracle' parameter"):
        learner(oracle="the user").fit(X, y)
