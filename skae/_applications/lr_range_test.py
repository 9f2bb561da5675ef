"""lr_range_test: the learning-rate range test (Smith 2017; fastai's lr_find).

A clone of the estimator takes one mini-batch step per ``partial_fit`` call,
the learning rate growing geometrically from ``min_lr`` to ``max_lr``; the
loss of each step is read from the clone's ``loss_curve_``. Built on the
estimators' public API only: ``clone``, ``set_params`` and ``partial_fit``.
"""

# License: BSD-3-Clause

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils import Bunch, _safe_indexing, check_random_state, indexable
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import _num_samples

from skae._training.user_warnings import warn_user
from skae.exceptions import DivergenceError

__all__ = ["lr_range_test"]

# the suggestion: the rate at the lowest smoothed loss, divided by this
SUGGESTION_DIVISOR = 10.0


def lr_range_test(
    estimator,
    X,
    y=None,
    *,
    min_lr=1e-6,
    max_lr=10.0,
    n_steps=100,
    smoothing=0.98,
    stop_factor=4.0,
    random_state=None,
):
    """Find a learning rate: train a clone with a geometrically growing rate.

    The learning-rate range test of Smith (2017, "Cyclical learning rates for
    training neural networks"), as fastai's ``lr_find`` runs it. A clone of
    ``estimator`` takes ``n_steps`` mini-batch steps of its solver ("sgd" or
    "adam"), one per ``partial_fit`` call, with the learning rate of step
    ``i`` (from 0)::

        learning_rates[i] = min_lr * (max_lr / min_lr) ** (i / (n_steps - 1))

    The mini-batches are those of one epoch of ``fit`` (``batch_size`` rows,
    shuffled unless ``shuffle=False``); the data are passed over again, in a
    new order, if they hold fewer than ``n_steps`` batches. The loss falls
    once the rate is large enough to make progress, and rises, then explodes,
    once it is too large. The test stops at the explosion: when a step makes
    the loss or the parameters non-finite (a :class:`~skae.DivergenceError`
    of ``partial_fit``), or when the smoothed loss exceeds ``stop_factor``
    times its lowest value.

    The suggested ``learning_rate_init`` is the rate at the lowest smoothed
    loss divided by 10: the smoothed losses trail the raw ones (by about a
    decade of rates with the default smoothing), so their lowest point lies
    among the rates already too large, and a tenth of it is a rate at which
    the loss was still falling steadily. The benchmark
    ``benchmarks/bench_lr_range_test.py`` compares it with the default
    ``learning_rate_init=0.001``, with the undivided rate and with the rate
    of the steepest fall.

    The estimator passed is not changed: its clone is trained (from a fresh
    initialisation; ``init="greedy"`` is replaced by ``init="random"``, as the
    greedy stages would pretrain on the first mini-batch alone), with the
    learning-rate schedule ``learning_rate="constant"``, without early
    stopping and without its callbacks.

    Parameters
    ----------
    estimator : estimator
        An unfitted or fitted :class:`~skae.MLPRegressorGD`,
        :class:`~skae.MLPClassifierGD`, :class:`~skae.AutoEncoder`,
        :class:`~skae.SparseAutoEncoder` or
        :class:`~skae.VariationalAutoEncoder` with ``solver="sgd"`` or
        ``solver="adam"``; its other parameters (momentum, ``batch_size``,
        weight decay, ...) are those the rate is found for.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training inputs, prepared as for ``fit`` (scaled).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets; None for an autoencoder. A classifier's classes are those
        of ``y``.
    min_lr : float, default=1e-6
        Learning rate of the first step; positive.
    max_lr : float, default=10.0
        Learning rate of the last step; larger than ``min_lr``.
    n_steps : int, default=100
        Number of steps (mini-batches); at least 2.
    smoothing : float in [0, 1), default=0.98
        Factor ``beta`` of the exponential smoothing of the losses,
        ``a_i = beta a_{i-1} + (1 - beta) loss_i`` with ``a_{-1} = 0``,
        debiased: ``smoothed_losses[i] = a_i / (1 - beta ** (i + 1))``.
        0 leaves the losses as they are.
    stop_factor : float, default=4.0
        The test stops once the smoothed loss exceeds this factor times its
        lowest value so far; larger than 1.
    random_state : int, RandomState instance or None, default=None
        Seeds the test: the order of the mini-batches and the clone's initial
        weights (its ``random_state`` is set to it). None: the estimator's
        own ``random_state`` seeds both. Pass an int for reproducible results.

    Returns
    -------
    result : Bunch
        A scikit-learn ``Bunch`` (a dict whose keys are attributes too),
        with the keys:

        - ``learning_rates``: ndarray of shape (n_taken,), the rate of each
          step taken (``n_taken <= n_steps``);
        - ``losses``: ndarray of shape (n_taken,), the objective J on each
          step's mini-batch, computed just before the step (the clone's
          ``loss_curve_``: loss and penalties);
        - ``smoothed_losses``: ndarray of shape (n_taken,), the losses
          smoothed as above;
        - ``suggested_learning_rate``: float, the rate at the lowest smoothed
          loss divided by 10;
        - ``lowest_loss_learning_rate``: float, the rate at the lowest
          smoothed loss;
        - ``stopped_early``: bool, whether the loss exploded before the
          ``n_steps`` steps were all taken (the step that diverged, if one
          did, is not recorded);
        - ``model``: the trained clone, whose ``loss_curve_`` holds the
          losses; trained at rates up to the explosion, it is a record, not
          a model to use.

    Raises
    ------
    ValueError
        If ``solver="lbfgs"``, which has no learning rate, or if an argument
        is out of its range.
    TypeError
        If ``estimator`` has no ``partial_fit`` or no ``learning_rate_init``.

    Warns
    -----
    UserWarning
        If the smoothed loss is lowest at the first step: no rate of the range
        made progress, so the suggestion (below ``min_lr``) says little; lower
        ``min_lr``. Or if it is lowest at the last step without an explosion:
        the loss was still falling at ``max_lr``; raise ``max_lr``.

    See Also
    --------
    skae.plotting.plot_lr_range_test : Draw the losses against the rates.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skae import MLPClassifierGD, lr_range_test
    >>> X, y = load_digits(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifierGD(hidden_layer_sizes=(64,), random_state=0)
    >>> result = lr_range_test(clf, X, y, n_steps=60, random_state=0)
    >>> bool(result.learning_rates[0] <= result.suggested_learning_rate < 1.0)
    True
    >>> clf = clf.set_params(learning_rate_init=result.suggested_learning_rate)
    """
    _check_estimator(estimator)
    _check_arguments(min_lr, max_lr, n_steps, smoothing, stop_factor)
    X, y = indexable(X, y)
    n_samples = _num_samples(X)

    model = clone(estimator)
    if random_state is not None:
        model.set_params(random_state=random_state)
    rng = check_random_state(model.get_params()["random_state"])
    overrides = {"learning_rate": "constant", "early_stopping": False}
    overrides.update(batch_size="full", verbose=False)  # one step per call
    if model.get_params().get("init") == "greedy":
        overrides["init"] = "random"
    model.set_params(
        **{key: value for key, value in overrides.items() if key in model.get_params()}
    )
    if hasattr(model, "set_callbacks"):
        # a hundred one-step fits are not the user's fit: no checkpoint,
        # no monitor sees them
        model.set_callbacks()

    batch_size = _batch_size(estimator, n_samples)
    shuffle = estimator.get_params().get("shuffle", True)
    batches = _batches(n_samples, batch_size, n_steps, rng if shuffle else None)
    rates = min_lr * (max_lr / min_lr) ** (np.arange(n_steps) / (n_steps - 1))
    fit_options = {}
    if y is not None and is_classifier(model):
        fit_options["classes"] = unique_labels(y)

    losses, smoothed = [], []
    average, lowest, stopped_early = 0.0, math.inf, False
    for step, (rate, rows) in enumerate(zip(rates, batches)):
        model.set_params(learning_rate_init=float(rate))
        X_batch = _safe_indexing(X, rows)
        try:
            if y is None:
                model.partial_fit(X_batch)
            else:
                model.partial_fit(X_batch, _safe_indexing(y, rows), **fit_options)
        except DivergenceError:
            # partial_fit left the clone as it was before the step
            stopped_early = True
            break
        fit_options.pop("classes", None)  # the first call's only
        loss = model.loss_curve_[-1]
        average = smoothing * average + (1 - smoothing) * loss
        losses.append(loss)
        smoothed.append(average / (1 - smoothing ** (step + 1)))
        lowest = min(lowest, smoothed[-1])
        if not math.isfinite(loss) or smoothed[-1] > stop_factor * lowest:
            stopped_early = step < n_steps - 1
            break

    if not losses:
        raise DivergenceError(
            f"lr_range_test: the first step, at min_lr={min_lr:g}, diverged, so "
            "no loss was recorded. Lower min_lr, or scale the data (for example "
            "with StandardScaler)."
        )
    smoothed = np.asarray(smoothed)
    best = int(np.argmin(smoothed))
    if best == 0 and len(smoothed) > 1:
        warn_user(
            "lr_range_test: the smoothed loss is lowest at the first step, "
            f"min_lr={min_lr:g}: no rate of the range made progress, and the "
            "suggested rate lies below it. Lower min_lr, or check the data's "
            "scale.",
            UserWarning,
        )
    elif best == len(smoothed) - 1 and not stopped_early:
        warn_user(
            "lr_range_test: the smoothed loss was still falling at the last "
            f"step, max_lr={max_lr:g}, and the suggestion is a tenth of it; "
            "the range may stop short of the best rates. Raise max_lr.",
            UserWarning,
        )
    return Bunch(
        learning_rates=rates[: len(losses)],
        losses=np.asarray(losses),
        smoothed_losses=smoothed,
        suggested_learning_rate=float(rates[best] / SUGGESTION_DIVISOR),
        lowest_loss_learning_rate=float(rates[best]),
        stopped_early=stopped_early,
        model=model,
    )


def _check_estimator(estimator):
    params = estimator.get_params() if hasattr(estimator, "get_params") else {}
    # the class's partial_fit: the instance's exists only with "sgd" or "adam"
    if (
        not hasattr(type(estimator), "partial_fit")
        or "learning_rate_init" not in params
    ):
        raise TypeError(
            "lr_range_test trains with partial_fit and sets learning_rate_init: "
            "pass one of skae's estimators (MLPRegressorGD, MLPClassifierGD, "
            f"AutoEncoder, ...), not {type(estimator).__name__}. For a pipeline, "
            "transform X with its first steps and test its last step."
        )
    if params.get("solver") not in ("sgd", "adam"):
        raise ValueError(
            f"lr_range_test needs a solver with a step size, 'sgd' or 'adam'; "
            f"got solver={params.get('solver')!r}. L-BFGS has no learning rate "
            "to find: it sets each step by a line search. Either fit with "
            "solver='lbfgs' as it is, or test the estimator with "
            "set_params(solver='adam') (or 'sgd') and train it with that solver."
        )


def _check_arguments(min_lr, max_lr, n_steps, smoothing, stop_factor):
    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if not _real(value) or not (0 < value < math.inf):
            raise ValueError(
                f"{name} must be a positive finite learning rate; got {value!r}."
            )
    if not min_lr < max_lr:
        raise ValueError(
            f"min_lr must be smaller than max_lr, the rates growing from one to "
            f"the other; got min_lr={min_lr!r} and max_lr={max_lr!r}."
        )
    if not isinstance(n_steps, Integral) or isinstance(n_steps, bool) or n_steps < 2:
        raise ValueError(
            f"n_steps must be an int of at least 2 (a rate at min_lr and one at "
            f"max_lr); got {n_steps!r}."
        )
    if not _real(smoothing) or not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1); got {smoothing!r}.")
    if not _real(stop_factor) or not 1 < stop_factor < math.inf:
        raise ValueError(
            f"stop_factor must be a finite number larger than 1; got {stop_factor!r}."
        )


def _real(value):
    return isinstance(value, Real) and not isinstance(value, bool)


def _batch_size(estimator, n_samples):
    """The rows of one mini-batch of ``estimator``'s own fit: "auto" is
    min(200, n), "full" is n, an int at most n."""
    batch_size = estimator.get_params()["batch_size"]
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size == "full":
        return n_samples
    return min(int(batch_size), n_samples)


def _batches(n_samples, batch_size, n_steps, rng):
    """The rows of each of the ``n_steps`` mini-batches: consecutive slices of a
    permutation of the samples, a new one for each pass over the data (the
    samples in order when ``rng`` is None)."""
    batches = []
    while len(batches) < n_steps:
        order = np.arange(n_samples) if rng is None else rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            batches.append(order[start : start + batch_size])
    return batches[:n_steps]
