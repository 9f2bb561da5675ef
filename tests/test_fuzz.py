"""Property-based fuzzing: any data and use either works or gets a documented error.

Hypothesis draws data sets of 1-60 samples and 1-30 features, float32 or
float64, dense or CSR, with magnitudes from 1e-30 to 1e30, constant and
duplicated columns and rows, or all zeros; sample weights (none, positive
floats of any scale, integers, some or all zero, a single positive one); a
user validation set of one row or more, sometimes weighted; and an estimator of
every kind with every activation, solver, batch size, learning-rate schedule,
momentum, early stopping at any ``validation_fraction``, ``n_iter_no_change``
(up to ``np.inf``) and, for the autoencoders, tied weights. It then runs a
sequence of 1-4 operations on that one estimator: fit, partial_fit (sgd and
adam, without early stopping), a warm fit, and predict / transform / score in
between (the first operation trains: there is nothing to predict before),
under scikit-learn's default ``working_memory`` or one so small that every
pass over the rows runs in chunks of a few rows.

With warnings turned into errors, each operation must either succeed, leaving
finite parameters in the data's dtype, consistent training records and
outputs of the right shape and dtype, or raise one of the documented errors.
Outputs are finite, with no NumPy overflow warning, while the last training
call succeeded. A call that raises must leave the estimator bitwise as it was
(unless a fit diverged and says it kept the parameters of a recorded
iteration), and the next operations go on with it. Profiles (tests/conftest.py): "ci" by
default, ``--hypothesis-profile=long`` for a release.
"""

# License: BSD-3-Clause

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import event, given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

import skae
from skae import (
    AutoEncoder,
    MLPClassifierGD,
    MLPRegressorGD,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)
from skae.activations import ACTIVATIONS

ACTIVATION_NAMES = sorted(ACTIVATIONS) + ["logistic"]
SOLVERS = ["sgd", "adam", "lbfgs"]
VALIDATION_FRACTIONS = [0.01, 0.1, 0.3, 0.5, 0.9, 0.99]

# training that diverged raises skae.DivergenceError (a ValueError); a ValueError
# saying "diverged" until that class exists
DIVERGENCE_ERROR = getattr(skae, "DivergenceError", ValueError)

# the documented outcomes other than success, as (type, words of the message)
DOCUMENTED_ERRORS = [
    (DIVERGENCE_ERROR, "diverged"),  # non-finite loss: smaller learning rate, scale
    (ValueError, "Allowed activations"),  # sparsity needs a [0, 1] code activation
    (ValueError, "entries, but"),  # one activation or dropout per hidden layer
    (ValueError, "activations must mirror"),  # tied weights
    (ValueError, "dropout needs solver="),  # L-BFGS
    (ValueError, "needs data in [0, 1]"),  # cross-entropy outside [0, 1]
    (ValueError, "early_stopping holds out"),  # too few (weighted) samples to split
    (ValueError, "needs at least 2"),  # a validation set of one (weighted) row
    (ValueError, "All sample weights are zero"),
    # scikit-learn's own check of the weights, which comes first since 1.9
    (ValueError, "Sample weights must contain at least one non-zero number"),
    # corruption: the level outside its kind's range, a dense-only kind on sparse X
    # (and pretrain_corruption_level, the perceptrons' stages')
    (ValueError, "corruption_level' parameter"),
    (ValueError, "needs dense input"),
    # a classifier's labels: one class, a class it did not learn, a class
    # weight of a multilabel target, partial_fit's first call without classes
    (ValueError, "needs samples of at least 2 classes"),
    (ValueError, "that the model does not know"),
    (ValueError, "class_weight applies to binary and multiclass targets"),
    (ValueError, "classes must be passed on the first call to partial_fit"),
]
# documented warnings that may be ignored, as (category, start of the message)
DOCUMENTED_WARNINGS = [
    (ConvergenceWarning, ""),  # a short max_iter running out
    (UserWarning, "Got batch_size="),  # batch_size > n_samples: one whole batch
    (UserWarning, r"\w+: early_stopping applies to fit"),  # in partial_fit
    # hostile validation sets on another scale than the training data
    (UserWarning, r"\w+: X_val does not look like the training data"),
    # the perceptrons' stage corruption set without init="greedy"
    (UserWarning, "pretrain_corruption="),
]


def _documented(error):
    """The words of the documented error that ``error`` is, or None."""
    for kind, words in DOCUMENTED_ERRORS:
        if isinstance(error, kind) and words in str(error):
            return words
    return None


def _is_divergence(error):
    return isinstance(error, DIVERGENCE_ERROR) and "diverged" in str(error)


# -- strategies ---------------------------------------------------------------


def _make_matrix(rng, n_samples, n_features, magnitude, structure, values):
    X = magnitude * rng.standard_normal((n_samples, n_features))
    if structure == "constant columns":
        X[:, ::2] = X[0, ::2]
    elif structure == "duplicated rows":
        X[1::2] = X[0]
    elif structure == "zeros":
        X[:] = 0.0
    if values == "any sign":
        return X
    X = np.abs(X)  # non-negative data, as for the sigmoid decoder
    if values == "in [0, 1]":  # as for cross-entropy
        X /= max(X.max(), 1.0)
    return X


@st.composite
def data_sets(draw):
    """Training and validation data with a drawn shape, dtype, storage,
    magnitude and structure (the validation rows share magnitude and structure)."""
    n_samples = draw(st.integers(1, 60))
    n_val = draw(st.integers(1, 20))
    n_features = draw(st.integers(1, 30))
    n_outputs = draw(st.integers(1, 2))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    magnitude = 10.0 ** draw(st.integers(-30, 30))
    structure = draw(
        st.sampled_from(["random", "constant columns", "duplicated rows", "zeros"])
    )
    values = draw(st.sampled_from(["any sign", "non-negative", "in [0, 1]"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X_all = _make_matrix(
        rng, n_samples + n_val, n_features, magnitude, structure, values
    ).astype(dtype)
    y_all = magnitude * rng.standard_normal((n_samples + n_val, n_outputs))
    if n_outputs == 1 and draw(st.booleans()):
        y_all = y_all[:, 0]
    X, X_val = X_all[:n_samples], X_all[n_samples:]
    if draw(st.booleans()):
        X = sparse.csr_matrix(X)
    if draw(st.booleans()):
        X_val = sparse.csr_matrix(X_val)
    return X, y_all[:n_samples], X_val, y_all[n_samples:]


@st.composite
def sample_weights(draw, n_samples):
    """None, or weights of one of the kinds a user may pass."""
    kind = draw(
        st.sampled_from(
            ["none", "one scale", "any scale", "integers", "with zeros", "one positive"]
        )
    )
    if kind == "none":
        return None
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = 10.0 ** draw(st.integers(-30, 30))
    if kind == "one scale":
        return scale * rng.uniform(0.5, 2.0, n_samples)
    if kind == "any scale":
        return 10.0 ** rng.uniform(-30, 30, n_samples)
    if kind == "integers":
        return rng.integers(draw(st.sampled_from([0, 1])), 5, n_samples)
    if kind == "with zeros":  # a share of 1 makes them all zero
        weights = scale * rng.uniform(0.5, 2.0, n_samples)
        weights[rng.random(n_samples) < draw(st.sampled_from([0.3, 0.7, 1.0]))] = 0
        return weights
    weights = np.zeros(n_samples)  # only one positive weight
    weights[rng.integers(n_samples)] = scale
    return weights


@st.composite
def estimators(draw, n_samples):
    """An estimator of a drawn kind and training setup, small and quick."""
    kind = draw(
        st.sampled_from(
            [
                MLPRegressorGD,
                MLPClassifierGD,
                AutoEncoder,
                SparseAutoEncoder,
                VariationalAutoEncoder,
            ]
        )
    )
    params = dict(
        # one for all, or one per hidden layer (of a length that may not fit)
        activation=draw(
            st.one_of(
                st.sampled_from(ACTIVATION_NAMES),
                st.lists(st.sampled_from(ACTIVATION_NAMES), min_size=1, max_size=3),
            )
        ),
        dropout=draw(st.sampled_from([0.0, 0.0, 0.5, 0.99, (0.0, 0.3)])),
        solver=draw(st.sampled_from(SOLVERS)),
        max_iter=draw(st.integers(1, 5)),
        batch_size=draw(
            st.one_of(st.sampled_from(["auto", "full"]), st.integers(1, n_samples + 5))
        ),
        learning_rate=draw(
            st.sampled_from(["constant", "invscaling", "adaptive", "cosine", "step"])
        ),
        lr_period=draw(st.sampled_from([None, 1, 3])),
        learning_rate_init=draw(st.sampled_from([1e-3, 1e-1, 10.0])),
        momentum=draw(st.sampled_from([0.0, 0.5, 0.9, 1.0])),
        nesterovs_momentum=draw(st.booleans()),
        tol=draw(st.sampled_from([1e-4, 0.0, 1e3])),
        n_iter_no_change=draw(st.sampled_from([1, 2, 10, np.inf])),
        early_stopping=draw(st.booleans()),
        validation_fraction=draw(
            st.one_of(
                st.sampled_from(VALIDATION_FRACTIONS),
                st.floats(0, 1, exclude_min=True, exclude_max=True),
            )
        ),
        init=draw(st.sampled_from(["random", "random", "greedy"])),
        random_state=0,
    )
    if kind in (MLPRegressorGD, MLPClassifierGD):
        params.update(
            pretrain_corruption=draw(st.sampled_from([None, "masking", "gaussian"])),
            pretrain_corruption_level=draw(st.sampled_from([0.0, 0.3, 1.0])),
        )
        if kind is MLPClassifierGD:
            params["class_weight"] = draw(st.sampled_from([None, "balanced"]))
        return kind(hidden_layer_sizes=(3,), **params)
    if kind is VariationalAutoEncoder:  # no greedy stages, ties or corruption
        params["init"] = "random"
        return kind(
            n_components=2,
            out_activation=draw(st.sampled_from(["identity", "sigmoid"])),
            beta=draw(st.sampled_from([0.0, 1.0, 5.0])),
            hidden_layer_sizes=draw(st.sampled_from([(), (3,)])),
            **params,
        )
    return kind(
        n_components=2,
        out_activation=draw(st.sampled_from(["identity", "sigmoid"])),
        tied_weights=draw(st.booleans()),
        corruption=draw(
            st.sampled_from([None, "masking", "gaussian", "salt_and_pepper"])
        ),
        corruption_level=draw(st.sampled_from([0.0, 0.3, 0.99, 1.0, 5.0])),
        **params,
    )


def _labels(y, kind, reference):
    """Class labels of ``kind`` from real targets ``y``, cut at the quantiles
    of ``reference`` (the training targets): validation labels may hold a
    class the training labels lack."""
    y, reference = np.asarray(y, dtype=float), np.asarray(reference, dtype=float)
    if kind == "multilabel":
        Y = y.reshape(len(y), -1)
        return (Y > np.median(reference)).astype(int).reshape(len(y), -1)[:, [0, -1]]
    y, reference = y.reshape(len(y), -1)[:, 0], reference.reshape(len(reference), -1)
    if kind == "one class":
        return np.zeros(len(y), dtype=int)
    cuts = np.quantile(reference[:, 0], [0.5] if kind == "binary" else [1 / 3, 2 / 3])
    labels = np.searchsorted(cuts, y)
    return np.array(["a", "b", "c"])[labels] if kind == "strings" else labels


@st.composite
def cases(draw):
    """Data, an estimator and a plan of 1-4 operations on it, the first training it.

    Each operation is ``(name, keyword arguments)``; fits draw their own
    sample weights (regressor) and validation set.
    """
    X, y, X_val, y_val = draw(data_sets())
    n_samples, n_val = X.shape[0], X_val.shape[0]
    estimator = draw(estimators(n_samples))
    supervised = _supervised(estimator)  # a perceptron: targets and weights
    if isinstance(estimator, MLPClassifierGD):
        kinds = ["binary", "multiclass", "strings", "multilabel", "one class"]
        kind = draw(st.sampled_from(kinds))
        y, y_val = _labels(y, kind, y), _labels(y_val, kind, y)
    names = ["fit", "warm fit", "predict", "transform", "score"]
    if estimator.solver != "lbfgs" and not estimator.early_stopping:
        names.append("partial_fit")
    training = [name for name in names if "fit" in name]
    plan = []
    for i in range(draw(st.integers(1, 4))):
        # the first is a training call: there is nothing to predict before
        name = draw(st.sampled_from(training if i == 0 else names))
        kwargs = {}
        if name in ("fit", "warm fit", "partial_fit") and supervised:
            kwargs["sample_weight"] = draw(sample_weights(n_samples))
        if name == "partial_fit" and isinstance(estimator, MLPClassifierGD):
            # the classes of all batches, required on the first call: given
            # as scikit-learn asks, or forgotten
            classes = np.arange(y.shape[1]) if y.ndim == 2 else np.unique(y)
            if draw(st.integers(0, 3)):
                kwargs["classes"] = classes
        if name in ("fit", "warm fit") and draw(st.booleans()):
            kwargs["X_val"] = X_val
            if supervised:
                kwargs["y_val"] = y_val
                if draw(st.booleans()):
                    kwargs["sample_weight_val"] = draw(sample_weights(n_val))
        if name == "score" and supervised:
            weights = draw(sample_weights(n_samples))
            # R^2 (and accuracy) need a positive weight
            kwargs["sample_weight"] = (
                None if weights is None or not weights.any() else weights
            )
        plan.append((name, kwargs))
    # scikit-learn's working_memory (MiB): the default, or so small that every
    # pass over the rows runs in chunks of one or a few rows
    working_memory = draw(st.sampled_from([None, None, 1e-4, 2e-3]))
    return X, y, estimator, plan, working_memory


# -- checks -------------------------------------------------------------------


def _state(estimator):
    return pickle.dumps(sorted(vars(estimator).items()))


def _fitted(estimator):
    return hasattr(estimator, "_theta")


def _check_fitted_state(estimator, X):
    """Finite parameters in the data's dtype and consistent training records."""
    parameters = estimator.coefs_ + estimator.intercepts_
    assert all(p.dtype == X.dtype for p in parameters)
    assert all(np.isfinite(p).all() for p in parameters)
    assert len(estimator.loss_curve_) >= estimator.n_iter_
    assert np.isfinite(estimator.loss_curve_).all()
    if estimator.loss_curve_:
        assert estimator.loss_ == estimator.loss_curve_[-1]
    if estimator.validation_scores_ is not None:
        assert len(estimator.validation_scores_) == len(
            estimator.validation_loss_curve_
        )


def _supervised(estimator):
    return isinstance(estimator, (MLPRegressorGD, MLPClassifierGD))


def _check_outputs(estimator, X, y, name, kwargs, finite=True):
    """Run ``name`` (predict, transform or score) and check what comes back:
    shapes and dtypes, and with ``finite`` finite values."""
    supervised = _supervised(estimator)
    classifier = isinstance(estimator, MLPClassifierGD)
    if name == "score":
        if supervised and not classifier and X.shape[0] < 2:
            return  # scikit-learn: R^2 is not defined with less than two samples
        score = estimator.score(X, y, **kwargs) if supervised else estimator.score(X)
        # a VAE fitted with beta = 0 leaves the posterior variance free, and
        # its ELBO (beta = 1) may be -inf, as score_samples documents
        free = isinstance(estimator, VariationalAutoEncoder) and estimator.beta == 0
        assert not finite or np.isfinite(score) or (free and score == -np.inf)
        assert not classifier or 0 <= score <= 1
        return
    if name == "transform":
        outputs = [estimator.transform(X)]
        assert outputs[0].shape[0] == X.shape[0]
        assert outputs[0].ndim == 2
    elif classifier:  # predict: labels of the classes learnt, and probabilities
        labels = estimator.predict(X)
        assert labels.shape == np.shape(y)
        assert np.isin(labels, estimator.classes_).all()
        outputs = [estimator.predict_proba(X), estimator.predict_log_proba(X)]
        proba = outputs[0]
        assert proba.shape == (X.shape[0], len(estimator.classes_))
        assert np.all((proba >= 0) & (proba <= 1))
        if y.ndim == 1:  # one class per row: the probabilities sum to 1
            assert np.allclose(proba.sum(axis=1), 1, rtol=1e-4)
    elif supervised:  # predict
        outputs = [estimator.predict(X)]
        assert outputs[0].shape == np.shape(y)
    else:  # predict: an autoencoder's reconstruction, through the code
        outputs = [estimator.transform(X)]
        outputs.append(estimator.inverse_transform(outputs[0]))
        assert outputs[0].shape == (X.shape[0], estimator.n_components)
        assert outputs[1].shape == X.shape
    for output in outputs:
        assert output.dtype == X.dtype
        assert not finite or np.isfinite(output).all()


def _run(estimator, X, y, name, kwargs, finite):
    """One operation of a plan; ``finite``: whether the last training call
    succeeded, so that outputs are finite and NumPy warns of no overflow."""
    supervised = _supervised(estimator)
    if name in ("fit", "warm fit"):  # warm_start is set by the caller
        if supervised:
            estimator.fit(X, y, **kwargs)
        else:
            estimator.fit(X, **kwargs)
    elif name == "partial_fit":
        if supervised:
            estimator.partial_fit(X, y, **kwargs)
        else:
            estimator.partial_fit(X)
    elif finite:
        _check_outputs(estimator, X, y, name, kwargs)
    else:  # the parameters a diverged fit kept may overflow on this data
        with np.errstate(all="ignore"):
            _check_outputs(estimator, X, y, name, kwargs, finite=False)


@given(case=cases())
def test_works_or_raises_a_documented_error(case):
    X, y, estimator, plan, working_memory = case
    memory = {} if working_memory is None else {"working_memory": working_memory}
    with warnings.catch_warnings(), sklearn.config_context(**memory):
        warnings.simplefilter("error")
        for category, message in DOCUMENTED_WARNINGS:
            warnings.filterwarnings("ignore", message, category)
        clean = False  # whether the last training call succeeded
        for name, kwargs in plan:
            if name in ("predict", "transform", "score") and not _fitted(estimator):
                continue  # not fitted: an earlier fit failed, or none yet
            if name == "warm fit":
                estimator.set_params(warm_start=True)
            elif name == "fit":
                estimator.set_params(warm_start=False)
            before = _state(estimator)
            try:
                _run(estimator, X, y, name, kwargs, clean)
            except ValueError as error:
                words = _documented(error)
                if words is None:
                    raise
                event(f"{name}: documented error: {words}")
                if _is_divergence(error) and error.parameters_kept:
                    # documented: a fit keeps the best or last recorded
                    # parameters whose J on the training data is finite
                    assert name in ("fit", "warm fit"), name
                    clean = False
                    _check_fitted_state(estimator, X)
                else:
                    assert _state(estimator) == before, f"{name} failed but changed it"
                continue
            event(f"{name}: ok")
            if name in ("fit", "warm fit", "partial_fit"):
                # every fit records at least one iteration (epoch), except an
                # L-BFGS fit that starts at an exact stationary point
                assert estimator.n_iter_ >= 1 or estimator.solver == "lbfgs"
                assert estimator.n_iter_ == 0 or estimator.loss_ is not None
                _check_fitted_state(estimator, X)
                _check_outputs(estimator, X, y, "predict", {})
                clean = True


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_documented_outcome_is_reachable(solver):
    # guard against a fuzz test that passes because everything errors out
    X = np.random.default_rng(0).uniform(size=(20, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = AutoEncoder(
            n_components=2, solver=solver, max_iter=50, tol=1e3, random_state=0
        )
        model.fit(X)
    assert np.isfinite(model.transform(X)).all()
