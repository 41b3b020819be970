"""Visualisation of active-learning curves, following scikit-learn's Display API.

matplotlib is an optional dependency (``pip install matplotlib`` or
``pip install skal[plot]``); it is imported only when a plot is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["ActiveLearningCurveDisplay"]

_STD_STYLES = ("fill_between", "errorbar", None)


def _check_matplotlib(caller_name: str) -> None:
    """Raise a clear ImportError when matplotlib is missing."""
    from sklearn.utils._optional_dependencies import check_matplotlib_support

    check_matplotlib_support(caller_name)


def _as_2d_scores(scores, name: str) -> np.ndarray:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, np.newaxis]
    if scores.ndim != 2:
        raise ValueError(
            f"scores for strategy {name!r} must be of shape (n_rounds,) or "
            f"(n_rounds, n_splits), got shape {scores.shape}."
        )
    return scores


def _learner_name(learner) -> str:
    """Name a single learner after its query strategy, or ``"learner"``."""
    get_params = getattr(learner, "get_params", None)
    strategy = get_params().get("query_strategy") if callable(get_params) else None
    if strategy is None:
        return "learner"
    if isinstance(strategy, str):
        return strategy
    return getattr(strategy, "__name__", None) or str(strategy)


def _default_score_name(estimators) -> str:
    """The y-axis label of ``scoring=None``: what the learners' own ``score`` measures."""
    from sklearn.base import is_regressor

    if all(is_regressor(learner) for learner in estimators):
        return "R\N{SUPERSCRIPT TWO}"
    return "Accuracy"


def _infer_score_name(scoring) -> str | None:
    """Readable y-axis label from a ``scoring`` string or callable, if possible."""
    if isinstance(scoring, str):
        if scoring.startswith("neg_"):
            return "Negative " + scoring[4:].replace("_", " ")
        return scoring.replace("_", " ").capitalize()
    name = getattr(scoring, "__name__", None)
    if isinstance(name, str) and not name.startswith("<"):
        return name.replace("_", " ").capitalize()
    return None


class ActiveLearningCurveDisplay:
    """Active-learning curve visualisation: score against number of labeled samples.

    Draws, for each query strategy, the mean score across splits as a line with a marker at
    every round and the mean plus/minus one standard deviation as a band, all on one axes;
    the legend gives each curve's AULC (and, on request, the labels it needs to reach a
    target score) and says what the band is; an optional dashed line marks a reference
    score, such as the model trained on the whole labeled pool.

    It is recommended to create the display with :meth:`from_estimator` or
    :meth:`from_results`, then call :meth:`plot`. All parameters are stored as
    attributes.

    Parameters
    ----------
    n_labeled : array-like of shape (n_rounds,) or dict of str to array-like
        Number of labeled samples at each round: one array shared by all strategies,
        or a dict mapping each strategy name to its own array.

    scores : array-like of shape (n_rounds, n_splits) or dict of str to array-like
        Scores at each round and split, as a dict mapping strategy names to arrays of
        shape ``(n_rounds, n_splits)``, or a single array for one strategy. 1-D arrays
        are treated as a single split (zero standard deviation).

    strategy_names : str or list of str, default=None
        With a single ``scores`` array: the name of that strategy (a string, or a list
        holding one string); ``"strategy"`` when None. With a dict of ``scores``: the
        subset of its keys to plot, in that order; all keys, in dict order, when None.

    score_name : str, default=None
        Label of the y axis; ``"Score"`` when None.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes holding the curves.

    figure_ : matplotlib Figure
        Figure holding the axes.

    lines_ : dict of str to matplotlib Line2D
        Mean-score line of each strategy (the data line of the error bars when
        ``std_display_style="errorbar"``).

    fill_between_ : dict of str to matplotlib PolyCollection
        Mean +/- std band of each strategy; empty unless
        ``std_display_style="fill_between"``.

    errorbar_ : dict of str to matplotlib ErrorbarContainer
        Error bars of each strategy; empty unless ``std_display_style="errorbar"``.

    reference_line_ : matplotlib Line2D or None
        The reference line (``plot(reference_score=...)``), None without one.

    aulc_ : dict of str to float
        Normalised area under each strategy's mean curve (curves of two rounds or more).

    See Also
    --------
    skal.evaluation.active_learning_curve : Compute active-learning curves.
    skal.metrics.area_under_learning_curve : Summarise a curve by its normalised area.

    Examples
    --------
    >>> import numpy as np
    >>> from skal.plotting import ActiveLearningCurveDisplay
    >>> n_labeled = np.array([10, 20, 30])
    >>> scores = {
    ...     "random": np.array([[0.5, 0.6], [0.6, 0.7], [0.7, 0.8]]),
    ...     "entropy": np.array([[0.5, 0.6], [0.7, 0.8], [0.8, 0.9]]),
    ... }
    >>> disp = ActiveLearningCurveDisplay(n_labeled=n_labeled, scores=scores)
    >>> disp.plot()  # doctest: +SKIP
    """

    def __init__(self, *, n_labeled, scores, strategy_names=None, score_name=None):
        self.n_labeled = n_labeled
        self.scores = scores
        self.strategy_names = strategy_names
        self.score_name = score_name

    def _curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Validated ``{name: (n_labeled (n_rounds,), scores (n_rounds, n_splits))}``."""
        names = self.strategy_names
        if isinstance(self.scores, Mapping):
            if not self.scores:
                raise ValueError("scores must contain at least one strategy, got an empty dict.")
            if names is None:
                names = list(self.scores)
            else:
                names = [names] if isinstance(names, str) else list(names)
                unknown = [name for name in names if name not in self.scores]
                if unknown:
                    raise ValueError(
                        f"strategy_names {unknown} are not keys of scores {list(self.scores)}."
                    )
            raw_scores = {name: self.scores[name] for name in names}
        else:
            if names is None:
                name = "strategy"
            elif isinstance(names, str):
                name = names
            else:
                names = list(names)
                if len(names) != 1:
                    raise ValueError(
                        "strategy_names must hold exactly one name when scores is a single "
                        f"array, got {names}."
                    )
                name = names[0]
            raw_scores = {name: self.scores}

        curves = {}
        for name, raw in raw_scores.items():
            if isinstance(self.n_labeled, Mapping):
                if name not in self.n_labeled:
                    raise ValueError(
                        f"n_labeled has no entry for strategy {name!r}; its keys are "
                        f"{list(self.n_labeled)}."
                    )
                x = self.n_labeled[name]
            else:
                x = self.n_labeled
            x = np.asarray(x)
            if x.ndim != 1:
                raise ValueError(
                    f"n_labeled for strategy {name!r} must be 1-D, got shape {x.shape}."
                )
            y = _as_2d_scores(raw, name)
            if y.shape[0] != x.shape[0]:
                raise ValueError(
                    f"scores for strategy {name!r} have {y.shape[0]} rounds but n_labeled "
                    f"has {x.shape[0]} values."
                )
            curves[str(name)] = (x, y)
        return curves

    def plot(
        self,
        ax=None,
        *,
        std_display_style="fill_between",
        show_legend=True,
        line_kw=None,
        fill_between_kw=None,
        errorbar_kw=None,
        reference_score=None,
        reference_label="Full data",
        show_aulc=True,
        target=None,
        title=None,
    ):
        """Plot the curves.

        Each strategy is a line of its mean score with a marker at every round. Its legend
        entry gives the normalised area under that mean curve (AULC, see
        :func:`skal.metrics.area_under_learning_curve`) and, with ``target``, the labels at
        which the mean curve first reaches it; the legend's title says what the band is.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.

        std_display_style : {"fill_between", "errorbar"} or None, default="fill_between"
            How to show the standard deviation across splits around the mean score:
            a shaded band, error bars, or nothing.

        show_legend : bool, default=True
            Whether to draw a legend naming the strategies.

        line_kw : dict, default=None
            Extra keyword arguments for ``ax.plot`` (mean lines); ``marker="o"`` and
            ``markersize=4`` unless given.

        fill_between_kw : dict, default=None
            Extra keyword arguments for ``ax.fill_between`` (std bands).

        errorbar_kw : dict, default=None
            Extra keyword arguments for ``ax.errorbar``.

        reference_score : float, default=None
            A horizontal dashed line at this score, e.g. the model trained on every
            label of the pool; none when None.

        reference_label : str, default="Full data"
            Legend label of the reference line (its score is appended).

        show_aulc : bool, default=True
            Whether each legend entry gives its curve's AULC (curves of two rounds or
            more).

        target : float, default=None
            When given, each legend entry also gives the labels at which the mean
            curve first reaches ``target`` (:func:`skal.metrics.labels_to_reach`), or
            says that it does not.

        title : str, default=None
            Title of the axes; ``"Active-learning curve"`` (``"curves"`` for several
            strategies) when None, no title when ``""``.

        Returns
        -------
        display : ActiveLearningCurveDisplay
            The display, with ``ax_``, ``figure_``, ``lines_``, ``fill_between_``,
            ``errorbar_``, ``reference_line_`` and ``aulc_`` set.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> from skal.plotting import ActiveLearningCurveDisplay
        >>> disp = ActiveLearningCurveDisplay(
        ...     n_labeled=[10, 20, 30], scores={"margin": [[0.6, 0.7], [0.8, 0.8], [0.9, 0.9]]},
        ...     score_name="Accuracy").plot(reference_score=0.95, target=0.8)
        >>> [t.get_text() for t in disp.ax_.get_legend().get_texts()]
        ['margin (AULC 0.787, 0.8 at 20 labels)', 'Full data (0.950)']
        >>> disp.ax_.get_legend().get_title().get_text()
        'Mean of 2 splits, band: ±1 s.d.'
        """
        _check_matplotlib(f"{self.__class__.__name__}.plot")
        import matplotlib.pyplot as plt

        if std_display_style not in _STD_STYLES:
            raise ValueError(
                f"Unknown std_display_style: {std_display_style!r}. Should be one of "
                "'fill_between', 'errorbar' or None."
            )
        curves = self._curves()
        if ax is None:
            _, ax = plt.subplots()

        line_kw = {"marker": "o", "markersize": 4, **(line_kw or {})}
        fill_between_kw = {"alpha": 0.2, **(fill_between_kw or {})}
        errorbar_kw = {"capsize": 3, "marker": "o", "markersize": 4, **(errorbar_kw or {})}

        self.lines_, self.fill_between_, self.errorbar_, self.aulc_ = {}, {}, {}, {}
        for name, (x, y) in curves.items():
            mean, std = y.mean(axis=1), y.std(axis=1)
            label = self._legend_label(name, x, mean, show_aulc, target)
            if std_display_style == "errorbar":
                container = ax.errorbar(x, mean, yerr=std, label=label, **errorbar_kw)
                self.errorbar_[name] = container
                self.lines_[name] = container.lines[0]
                continue
            (line,) = ax.plot(x, mean, label=label, **line_kw)
            self.lines_[name] = line
            if std_display_style == "fill_between":
                kw = {"color": line.get_color(), **fill_between_kw}
                self.fill_between_[name] = ax.fill_between(x, mean - std, mean + std, **kw)

        self.reference_line_ = None
        if reference_score is not None:
            self.reference_line_ = ax.axhline(
                float(reference_score), color="0.35", linestyle="--", linewidth=1,
                label=f"{reference_label} ({float(reference_score):.3f})",
            )

        ax.set_xlabel("Number of labeled samples")
        ax.set_ylabel(self.score_name if self.score_name is not None else "Score")
        if title is None:
            title = "Active-learning curve" + ("s" if len(curves) > 1 else "")
        ax.set_title(title)
        if show_legend:
            ax.legend(title=self._band_description(curves, std_display_style))

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _legend_label(self, name, x, mean, show_aulc, target) -> str:
        """``name (AULC a, t at n labels)``: the curve's summary, computed on its mean."""
        from skal.metrics import area_under_learning_curve, labels_to_reach

        notes = []
        if len(x) >= 2 and np.all(np.diff(x) > 0):
            self.aulc_[name] = float(area_under_learning_curve(x, mean))
            if show_aulc:
                notes.append(f"AULC {self.aulc_[name]:.3f}")
            if target is not None:
                needed = labels_to_reach(x, mean, target)
                notes.append(
                    f"{target:g} at {needed:g} labels" if np.isfinite(needed)
                    else f"{target:g} not reached"
                )
        return f"{name} ({', '.join(notes)})" if notes else name

    @staticmethod
    def _band_description(curves, std_display_style) -> str | None:
        """The legend's title: how many splits each line averages and what the band is."""
        n_splits = {y.shape[1] for _, y in curves.values()}
        if n_splits == {1}:
            return None
        splits = f"{n_splits.pop()} splits" if len(n_splits) == 1 else "splits"
        kind = {"fill_between": "band", "errorbar": "bars"}.get(std_display_style)
        return f"Mean of {splits}" + (f", {kind}: \N{PLUS-MINUS SIGN}1 s.d." if kind else "")

    @classmethod
    def from_results(cls, results, *, ax=None, score_name=None, **plot_kwargs):
        """Plot curves that were already computed.

        Parameters
        ----------
        results : dict of str to tuple or object
            Maps each strategy name to either a ``(n_labeled, scores)`` pair, or an
            object with ``n_labeled`` and ``scores`` attributes. ``scores`` has shape
            ``(n_rounds, n_splits)`` (or ``(n_rounds,)``).

        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.

        score_name : str, default=None
            Label of the y axis; ``"Score"`` when None.

        **plot_kwargs : dict
            Passed to :meth:`plot` (e.g. ``std_display_style``, ``show_legend``).

        Returns
        -------
        display : ActiveLearningCurveDisplay
            The plotted display.
        """
        _check_matplotlib(f"{cls.__name__}.from_results")
        if not isinstance(results, Mapping) or not results:
            raise ValueError(
                "results must be a non-empty dict {name: (n_labeled, scores)} or "
                f"{{name: object with n_labeled and scores}}, got {type(results).__name__}."
            )
        n_labeled, scores = {}, {}
        for name, result in results.items():
            if hasattr(result, "n_labeled") and hasattr(result, "scores"):
                n_labeled[name], scores[name] = result.n_labeled, result.scores
            elif isinstance(result, tuple | list) and len(result) == 2:
                n_labeled[name], scores[name] = result
            else:
                raise ValueError(
                    f"results[{name!r}] must be a (n_labeled, scores) pair or an object "
                    f"with n_labeled and scores attributes, got {type(result).__name__}."
                )
        display = cls(n_labeled=n_labeled, scores=scores, score_name=score_name)
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_estimator(
        cls,
        estimators,
        X,
        y,
        *,
        cv=5,
        scoring=None,
        n_jobs=None,
        ax=None,
        score_name=None,
        **plot_kwargs,
    ):
        """Run active-learning campaigns with cross-validation and plot their curves.

        Each learner is evaluated with
        :func:`skal.evaluation.active_learning_curve`.

        Parameters
        ----------
        estimators : ActiveLearningClassifier or dict of str to ActiveLearningClassifier
            The learners to compare, as a dict mapping a display name to each, or a
            single learner, named after its ``query_strategy`` parameter (or
            ``"learner"`` when it has none).

        X : array-like of shape (n_samples, n_features)
            Data, split into pool and test sets by ``cv``.

        y : array-like of shape (n_samples,)
            Labels (the oracle's answers).

        cv : int, cross-validation generator or iterable, default=5
            Cross-validation splitting strategy.

        scoring : str or callable, default=None
            Score measured after each round; the learner's default when None.

        n_jobs : int, default=None
            Number of splits evaluated in parallel.

        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.

        score_name : str, default=None
            Label of the y axis; when None, named after ``scoring`` (``"Accuracy"`` for
            ``scoring=None``, the learners' own ``score``; ``"R²"`` for regressors), or
            ``"Score"`` when it cannot be.

        **plot_kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : ActiveLearningCurveDisplay
            The plotted display.
        """
        _check_matplotlib(f"{cls.__name__}.from_estimator")
        from skal.evaluation import active_learning_curve

        if not isinstance(estimators, Mapping):
            estimators = {_learner_name(estimators): estimators}
        elif not estimators:
            raise ValueError("estimators must contain at least one learner, got an empty dict.")

        n_labeled, scores = {}, {}
        for name, learner in estimators.items():
            n_labeled[name], scores[name] = active_learning_curve(
                learner, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs
            )
        if score_name is None:
            score_name = (
                _default_score_name(estimators.values()) if scoring is None
                else _infer_score_name(scoring)
            )
        display = cls(n_labeled=n_labeled, scores=scores, score_name=score_name)
        return display.plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_cv_results(
        cls, cv_results, *, candidates=None, ax=None, score_name=None, **plot_kwargs
    ):
        """Plot the learning curves a search recorded, without running a campaign again.

        The search must have scored with ``skal.metrics.make_curve_scorer(kind="curve")``,
        which puts every round's score of every split into ``cv_results_``.

        Parameters
        ----------
        cv_results : dict
            A search's ``cv_results_`` (``GridSearchCV``, ``RandomizedSearchCV``).
        candidates : int, list of int or None, default=None
            Rows of ``cv_results`` to plot; None plots the best (``rank_test_aulc == 1``).
        ax : matplotlib Axes, default=None
            Axes to plot on. If None, a new figure and axes are created.
        score_name : str, default=None
            Label of the y axis; ``"Score"`` when None.
        **plot_kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : ActiveLearningCurveDisplay
            The plotted display, one curve per candidate, named after its parameters.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.model_selection import GridSearchCV
        >>> from skal import ActiveLearningClassifier
        >>> from skal.metrics import make_curve_scorer
        >>> from skal.plotting import ActiveLearningCurveDisplay
        >>> X, y = load_digits(return_X_y=True)
        >>> learner = ActiveLearningClassifier(
        ...     LogisticRegression(max_iter=300), n_queries=3, initial_size=20,
        ...     random_state=0, store_round_estimators=True)
        >>> search = GridSearchCV(learner, {"query_strategy": ["random", "margin"]}, cv=2,
        ...     scoring=make_curve_scorer(kind="curve"), refit="aulc").fit(X[:400], y[:400])
        >>> display = ActiveLearningCurveDisplay.from_cv_results(
        ...     search.cv_results_, candidates=[0, 1])  # doctest: +SKIP
        """
        _check_matplotlib(f"{cls.__name__}.from_cv_results")
        from skal.metrics import curves_from_cv_results

        n_labeled, scores = curves_from_cv_results(cv_results, candidates)
        display = cls(n_labeled=n_labeled, scores=scores, score_name=score_name)
        return display.plot(ax=ax, **plot_kwargs)

