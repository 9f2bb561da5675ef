"""The core on other Array API namespaces: the same numbers as NumPy's, in the
input's namespace (array_api_strict, and PyTorch on the CPU where installed)."""

# License: BSD-3-Clause

import importlib.util
import pickle
import warnings

import array_api_strict as xps
import numpy as np
import pytest
import sklearn
from callback_base import DoNothingCallback
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from skae import AutoEncoder, MLPClassifierGD, MLPRegressorGD, SparseAutoEncoder
from skae._math.activations import Softmax
from skae._math.array_api import NUMPY, ArrayAPIOps, ops_for
from skae._math.losses import CategoricalCrossEntropy, CrossEntropy, SquaredError
from skae._math.network import Network
from skae._math.objective import Objective
from skae._math.penalties import KLSparsity, WeightDecay
from skae._training.solvers import SGD, Adam
from skae.activations import ACTIVATIONS, ELU, Identity, PReLU, Sigmoid

ACTIVATION_OBJECTS = [cls() for cls in ACTIVATIONS.values()] + [PReLU(0.1), ELU(0.5)]
IDS = [repr(activation) for activation in ACTIVATION_OBJECTS]


def _values(dtype, n=3000):
    # more than 2048 values: the sigmoid's large-array formula; fewer below
    rng = np.random.default_rng(0)
    z = rng.normal(scale=4.0, size=n)
    z[:6] = [-800.0, -50.0, 0.0, 1e-12, 50.0, 800.0]
    return z.astype(dtype)


def _to_numpy(x):
    return np.asarray(x)  # array_api_strict arrays support the buffer protocol


def test_ops_for_numpy_is_numpy_itself():
    assert ops_for(np.zeros(3)) is NUMPY
    assert NUMPY.multiply is np.multiply and NUMPY.matmul is np.matmul
    ops = ops_for(xps.asarray([1.0]))
    assert isinstance(ops, ArrayAPIOps) and ops is ops_for(xps.asarray([2.0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_max_and_row_sums_are_numpys_reductions(dtype):
    # NumPy's row maximum and row sums read at the argmax and by a BLAS
    # product: the same values, nan and infinities included
    A = np.random.default_rng(0).normal(size=(7, 5)).astype(dtype)
    A[1, 3], A[2, :], A[3, 0], A[4, 2] = np.nan, -np.inf, np.inf, -np.inf
    strict = ArrayAPIOps(xps)
    for ops in (NUMPY, strict):
        B = A if ops is NUMPY else xps.asarray(A)
        assert_allclose(np.asarray(ops.row_max(B)), A.max(axis=1))
        assert np.asarray(ops.row_max(B)).dtype == dtype
        finite = A[[0, 5, 6]]
        C = finite if ops is NUMPY else xps.asarray(finite)
        assert_allclose(np.asarray(ops.row_sums(C)), finite.sum(axis=1), rtol=1e-6)
    assert NUMPY.row_max(A[:0]).shape == NUMPY.row_sums(A[:0]).shape == (0,)


@pytest.mark.parametrize("n", [10, 3000])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATION_OBJECTS, ids=IDS)
def test_activations_compute_in_the_inputs_namespace(activation, dtype, n):
    z = _values(dtype, n)
    expected_a = activation.forward(z)
    expected_d = activation.derivative(expected_a)
    z_xp = xps.asarray(z)
    a = activation.forward(z_xp)
    d = activation.derivative(a)
    for result, expected in ((a, expected_a), (d, expected_d)):
        assert type(result) is type(z_xp)
        assert result.dtype == z_xp.dtype
        rtol = 1e-6 if dtype == "float32" else 1e-14
        assert_allclose(_to_numpy(result), expected, rtol=rtol, atol=0)
    # the input is left as it was
    assert_allclose(_to_numpy(z_xp), z, rtol=0, atol=0)


@pytest.mark.parametrize("activation", ACTIVATION_OBJECTS, ids=IDS)
def test_activations_given_out_return_the_result_in_its_dtype(activation):
    # the core passes its NumPy buffers as ``out``: in another namespace the
    # result is a new array (of that dtype), and the core uses what is returned
    z = _values("float64", 50)
    z_xp = xps.asarray(z)
    a = activation.forward(z_xp, out=xps.empty_like(z_xp))
    d = activation.derivative(a, out=xps.empty_like(a))
    assert d.dtype == xps.float64
    assert_allclose(_to_numpy(a), activation.forward(z), rtol=1e-14)
    assert_allclose(
        _to_numpy(d), activation.derivative(activation.forward(z)), rtol=1e-14
    )


# -- the network and the objective ----------------------------------------------

OBJECTIVE_CASES = {
    # (layer sizes, hidden, output, loss, tied, kl)
    "regression-relu": ((5, 7, 2), "relu", Identity, SquaredError, False, False),
    "deep-tanh": ((5, 6, 4, 3), "tanh", Identity, SquaredError, False, False),
    "autoencoder-ce": ((5, 3, 5), "sigmoid", Sigmoid, CrossEntropy, False, False),
    "sparse-sigmoid": ((5, 3, 5), "sigmoid", Sigmoid, SquaredError, False, True),
    "tied-deep": ((5, 4, 2, 4, 5), "softplus", Identity, SquaredError, True, False),
    "one-output": ((5, 4, 1), "elu", Identity, SquaredError, False, False),
    "classifier-softmax": (
        (5, 4, 3),
        "tanh",
        Softmax,
        CategoricalCrossEntropy,
        False,
        False,
    ),
}


def _objective(case, chunk_rows=None):
    sizes, hidden, output, loss, tied, kl = OBJECTIVE_CASES[case]
    network = Network(sizes, ACTIVATIONS[hidden](), output(), tied=tied)
    return Objective(
        network,
        loss(),
        WeightDecay(1e-2),
        KLSparsity(0.1, 0.5) if kl else None,
        1 if kl else None,
        chunk_rows=chunk_rows,
    )


def _problem(objective, n_samples=11, seed=0):
    rng = np.random.default_rng(seed)
    network = objective.network
    theta = network.initialize(np.random.RandomState(seed), np.float64)
    theta += 0.1 * rng.normal(size=theta.shape)
    X = rng.uniform(size=(n_samples, network.layer_sizes[0]))
    T = rng.uniform(size=(n_samples, network.layer_sizes[-1]))
    if (
        objective.loss.name == "cross_entropy"
        or network.layer_sizes[0] == (network.layer_sizes[-1])
    ):
        T = X  # an autoencoder: the target is the input
    return theta, X, T


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("chunk_rows", [None, 4])
@pytest.mark.parametrize("case", OBJECTIVE_CASES)
def test_objective_computes_in_the_inputs_namespace(case, chunk_rows, weighted):
    objective = _objective(case, chunk_rows)
    theta, X, T = _problem(objective)
    weights = np.linspace(0.5, 2.0, len(X)) if weighted else None
    loss, gradient = objective.loss_and_gradient(theta, X, T, weights)

    as_xp = xps.asarray
    X_xp = as_xp(X)
    T_xp = X_xp if T is X else as_xp(T)
    weights_xp = None if weights is None else as_xp(weights)
    loss_xp, gradient_xp = objective.loss_and_gradient(
        as_xp(theta), X_xp, T_xp, weights_xp
    )
    assert type(gradient_xp) is type(X_xp) and gradient_xp.dtype == xps.float64
    assert loss_xp == pytest.approx(loss, rel=1e-13)
    assert_allclose(np.asarray(gradient_xp), gradient, rtol=1e-12, atol=1e-15)
    value = objective.value(as_xp(theta), X_xp, T_xp, weights_xp)
    assert value == pytest.approx(loss, rel=1e-13)
    losses = objective.sample_losses(as_xp(theta), X_xp, T_xp)
    assert_allclose(
        np.asarray(losses), objective.sample_losses(theta, X, T), rtol=1e-13
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1, momentum=0.0),
        lambda: SGD(0.1, momentum=0.9, nesterov=False),
        lambda: SGD(0.1, momentum=0.9, nesterov=True),
        lambda: Adam(0.01),
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_solver_steps_compute_in_the_parameters_namespace(make):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=20)
    gradients = rng.normal(size=(3, 20))
    ours, theirs = make(), make()
    theta_xp = xps.asarray(theta)  # a copy: updated in place like theta
    for gradient in gradients:
        ours.step(theta, gradient)
        theirs.step(theta_xp, xps.asarray(gradient))
    assert type(theta_xp) is type(xps.asarray(0.0))
    assert_allclose(np.asarray(theta_xp), theta, rtol=1e-14, atol=1e-15)


# -- the estimators under scikit-learn's array_api_dispatch ---------------------


@pytest.fixture
def dispatch(monkeypatch):
    """scikit-learn's Array API switch (and the variable it asks of scipy)."""
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with sklearn.config_context(array_api_dispatch=True):
        yield


def _six_iterations(cls, **params):
    """A maker of ``cls(**params)`` for a solver: six iterations, seeded."""
    return lambda solver: cls(solver=solver, max_iter=6, random_state=0, **params)


ESTIMATORS = {
    "regressor": _six_iterations(MLPRegressorGD, hidden_layer_sizes=(7,)),
    "autoencoder": _six_iterations(AutoEncoder, n_components=4),
    "sparse": _six_iterations(SparseAutoEncoder, n_components=4),
    "tied-deep": _six_iterations(
        AutoEncoder,
        n_components=3,
        hidden_layer_sizes=(8,),
        tied_weights=True,
        out_activation="sigmoid",
    ),
    "masking": _six_iterations(
        AutoEncoder, n_components=4, corruption="masking", corruption_level=0.3
    ),
    "gaussian": _six_iterations(
        AutoEncoder, n_components=4, corruption="gaussian", corruption_level=0.1
    ),
    "salt_and_pepper": _six_iterations(
        SparseAutoEncoder,
        n_components=4,
        corruption="salt_and_pepper",
        corruption_level=0.2,
    ),
    "greedy": _six_iterations(
        AutoEncoder, n_components=3, hidden_layer_sizes=(6,), init="greedy"
    ),
    # tanh: with relu, the second stage's L-BFGS sits on a plateau of dead
    # units, where PyTorch's last-bit differences from NumPy's BLAS choose
    # another step (array_api_strict computes with NumPy, bit for bit)
    "greedy-regressor": _six_iterations(
        MLPRegressorGD, hidden_layer_sizes=(6, 4), activation="tanh", init="greedy"
    ),
    "classifier": _six_iterations(MLPClassifierGD, hidden_layer_sizes=(7,)),
    "binary-classifier": _six_iterations(
        MLPClassifierGD, hidden_layer_sizes=(5,), activation="tanh"
    ),
}


def _data(digits01, kind, dtype="float64"):
    X = digits01[:150].astype(dtype)
    y = (X @ np.linspace(-1, 1, X.shape[1])).astype(dtype)
    if kind.endswith("classifier"):  # three classes, or two
        return X, np.digitize(
            y, np.quantile(y, [1 / 3, 2 / 3] if "binary" not in kind else [0.5])
        )
    return (X, y) if kind.endswith("regressor") else (X,)


def _outputs(estimator, X):
    if isinstance(estimator, MLPClassifierGD):
        return {
            "predict_proba": estimator.predict_proba(X),
            "predict_log_proba": estimator.predict_log_proba(X),
            "transform": estimator.transform(X),
        }
    if isinstance(estimator, MLPRegressorGD):
        return {"predict": estimator.predict(X), "transform": estimator.transform(X)}
    codes = estimator.transform(X)
    return {
        "transform": codes,
        "inverse_transform": estimator.inverse_transform(codes),
        "score_samples": estimator.score_samples(X),
    }


def _installed_namespaces():
    """array_api_strict (in the test extra) and, where installed, PyTorch on
    the CPU, as array_api_compat wraps it for scikit-learn."""
    namespaces = {"array_api_strict": xps}
    if importlib.util.find_spec("torch") is not None:
        from sklearn.externals.array_api_compat import torch as xp_torch

        namespaces["torch"] = xp_torch
    return namespaces


NAMESPACES = _installed_namespaces()


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_a_fit_in_a_namespace_is_the_numpy_fit(
    kind, solver, namespace, digits01, dispatch
):
    xp = NAMESPACES[namespace]
    data = _data(digits01, kind)
    with sklearn.config_context(array_api_dispatch=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = ESTIMATORS[kind](solver).fit(*data)
        expected = _outputs(reference, data[0])
        expected_score = reference.score(*data)
    data_xp = [xp.asarray(array) for array in data]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = ESTIMATORS[kind](solver).fit(*data_xp)
    for ours, theirs in zip(
        estimator.coefs_ + estimator.intercepts_,
        reference.coefs_ + reference.intercepts_,
    ):
        assert type(ours) is type(data_xp[0])
        assert_allclose(np.asarray(ours), theirs, rtol=1e-5, atol=1e-12)
    assert estimator.loss_curve_ == pytest.approx(reference.loss_curve_, rel=1e-10)
    for name, value in _outputs(estimator, data_xp[0]).items():
        assert type(value) is type(data_xp[0]), name
        assert value.dtype == xp.float64, name
        assert_allclose(np.asarray(value), expected[name], rtol=1e-5, atol=1e-10)
    # scikit-learn's accuracy in PyTorch is a mean in torch's default float32
    rel = 1e-6 if kind.endswith("classifier") and namespace == "torch" else 1e-8
    assert float(estimator.score(*data_xp)) == pytest.approx(expected_score, rel=rel)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_dropout_and_per_layer_activations_in_a_namespace_are_numpys(
    namespace, digits01, dispatch
):
    # the masks are drawn by NumPy and moved: the same fit everywhere
    xp = NAMESPACES[namespace]
    X = digits01[:80]
    make = _six_iterations(
        AutoEncoder,
        n_components=4,
        hidden_layer_sizes=(12,),
        activation=("relu", "sigmoid"),
        dropout=(0.3, 0.2),
    )
    with sklearn.config_context(array_api_dispatch=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = make("adam").fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator = make("adam").fit(xp.asarray(X))
    assert type(estimator._theta) is not np.ndarray
    assert_allclose(
        np.asarray(estimator._theta), reference._theta, rtol=1e-9, atol=1e-13
    )
    assert estimator.loss_curve_ == pytest.approx(reference.loss_curve_, rel=1e-10)


@pytest.mark.parametrize("kind", ["regressor", "autoencoder"])
def test_float32_partial_fit_and_validation_sets_stay_in_the_namespace(
    kind, digits01, dispatch
):
    data = _data(digits01, kind, "float32")
    half = len(data[0]) // 2
    train = [xps.asarray(array[:half]) for array in data]
    held_out = [xps.asarray(array[half:]) for array in data]
    with sklearn.config_context(array_api_dispatch=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = ESTIMATORS[kind]("adam").set_params(early_stopping=True)
        reference.fit(*[a[:half] for a in data], **_validation(kind, data, half))
        reference.set_params(early_stopping=False).partial_fit(
            *[a[:half] for a in data]
        )
    estimator = ESTIMATORS[kind]("adam").set_params(early_stopping=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(*train, **_validation(kind, held_out, 0))
        estimator.set_params(early_stopping=False).partial_fit(*train)
    assert estimator.coefs_[0].dtype == xps.float32
    assert estimator.validation_scores_ == pytest.approx(
        reference.validation_scores_, rel=1e-4
    )
    assert_allclose(
        np.asarray(estimator.coefs_[0]), reference.coefs_[0], rtol=1e-4, atol=1e-6
    )


def _validation(kind, data, start):
    names = ("X_val", "y_val") if kind == "regressor" else ("X_val",)
    return {name: array[start:, ...] for name, array in zip(names, data)}


def test_sample_weights_in_the_namespace(digits01, dispatch):
    X, y = _data(digits01, "regressor")
    w = np.linspace(0.0, 2.0, len(X))
    with sklearn.config_context(array_api_dispatch=False):
        reference = ESTIMATORS["regressor"]("lbfgs").set_params(tol=1e-3, max_iter=500)
        reference.fit(X, y, sample_weight=w)
    estimator = ESTIMATORS["regressor"]("lbfgs").set_params(tol=1e-3, max_iter=500)
    estimator.fit(xps.asarray(X), xps.asarray(y), sample_weight=xps.asarray(w))
    assert_allclose(np.asarray(estimator.coefs_[0]), reference.coefs_[0], rtol=1e-8)
    score = estimator.score(xps.asarray(X), xps.asarray(y), xps.asarray(w))
    assert float(score) == pytest.approx(reference.score(X, y, w), rel=1e-10)


def test_inputs_of_another_namespace_than_the_fit_are_refused(digits01, dispatch):
    (X,) = _data(digits01, "autoencoder")
    estimator = AutoEncoder(n_components=2, tol=1e-2, random_state=0)
    estimator.fit(xps.asarray(X))
    with pytest.raises(ValueError, match="fitted on array_api_strict arrays"):
        estimator.transform(X)
    numpy_model = AutoEncoder(n_components=2, tol=1e-2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="fitted on numpy arrays"):
        numpy_model.transform(xps.asarray(X))


def test_pickling_keeps_the_namespace_and_partial_fit_continues(digits01, dispatch):
    (X,) = _data(digits01, "autoencoder")
    X_xp = xps.asarray(X)
    estimator = AutoEncoder(n_components=3, solver="adam", max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):  # five epochs, on purpose
        estimator.fit(X_xp)
    restored = pickle.loads(pickle.dumps(estimator))
    assert type(restored.coefs_[0]) is type(X_xp)
    assert_allclose(
        np.asarray(restored.transform(X_xp)), np.asarray(estimator.transform(X_xp))
    )
    # the solver's state came along: both continue the same way
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        restored.partial_fit(X_xp)
        estimator.partial_fit(X_xp)
    assert_allclose(np.asarray(restored.coefs_[0]), np.asarray(estimator.coefs_[0]))


def test_a_model_moved_to_numpy_predicts_and_continues_there(digits01, dispatch):
    from sklearn.utils._array_api import move_estimator_to

    (X,) = _data(digits01, "autoencoder")
    estimator = AutoEncoder(n_components=3, solver="adam", max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):  # five epochs, on purpose
        estimator.fit(xps.asarray(X))
    moved = move_estimator_to(estimator, np, "cpu")
    assert type(moved.transform(X)) is np.ndarray
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        moved.partial_fit(X)  # the solver's state follows the parameters
    assert type(moved._optimizer.state["m"]) is np.ndarray


def test_set_output_pandas_from_a_namespace(digits01, dispatch):
    import pandas as pd  # in the test extra

    (X,) = _data(digits01, "autoencoder")
    estimator = SparseAutoEncoder(n_components=3, tol=1e-2, random_state=0)
    estimator.fit(xps.asarray(X))
    expected = np.asarray(estimator.transform(xps.asarray(X)))
    frame = estimator.set_output(transform="pandas").transform(xps.asarray(X))
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(estimator.get_feature_names_out())
    assert_allclose(frame.to_numpy(), expected)


def test_sparse_input_is_numpys_and_a_model_elsewhere_says_so(digits01, dispatch):
    (X,) = _data(digits01, "autoencoder")
    X_sparse = sparse.csr_matrix(X)
    numpy_model = AutoEncoder(n_components=2, tol=1e-2, random_state=0).fit(X_sparse)
    assert type(numpy_model.coefs_[0]) is np.ndarray  # trained on the NumPy path
    estimator = AutoEncoder(n_components=2, tol=1e-2, random_state=0)
    estimator.fit(xps.asarray(X))
    with pytest.raises(ValueError, match="SciPy sparse .NumPy only."):
        estimator.transform(X_sparse)


def test_targets_and_weights_of_numpy_follow_x(digits01, dispatch):
    X, y = _data(digits01, "regressor")
    w = np.linspace(0.5, 2.0, len(X))
    estimator = MLPRegressorGD(hidden_layer_sizes=(5,), tol=1e-2, random_state=0)
    estimator.set_params(solver="lbfgs", max_iter=500)
    estimator.fit(xps.asarray(X), y, sample_weight=w)  # y and w: NumPy
    with sklearn.config_context(array_api_dispatch=False):
        reference = MLPRegressorGD(hidden_layer_sizes=(5,), tol=1e-2, random_state=0)
        reference.set_params(solver="lbfgs", max_iter=500).fit(X, y, sample_weight=w)
    assert type(estimator.coefs_[0]) is type(xps.asarray(X))
    assert_allclose(np.asarray(estimator.coefs_[0]), reference.coefs_[0], rtol=1e-8)


def test_plot_filters_draws_a_model_of_another_namespace(digits01, dispatch):
    import matplotlib  # in the test extra

    matplotlib.use("Agg")
    from skae.plotting import plot_filters

    (X,) = _data(digits01, "autoencoder")
    estimator = AutoEncoder(n_components=4, tol=1e-2, random_state=0)
    estimator.fit(xps.asarray(X))
    ax = plot_filters(estimator, image_shape=(8, 8))
    shown = ax.get_images()[0].get_array()
    assert shown.shape == (2 * 9 + 1, 2 * 9 + 1)  # a 2 x 2 grid of 8 x 8 tiles


def test_a_device_without_float64_trains_in_float32_and_says_so(
    monkeypatch, digits01, dispatch
):
    # array_api_strict's devices all hold float64: one that does not (Apple's
    # MPS) is simulated by hiding float64 from the dtypes skae reads
    from skae._math import namespaces

    real = namespaces._floats_of
    monkeypatch.setattr(
        namespaces,
        "_floats_of",
        lambda array: {k: v for k, v in real(array).items() if k != "float64"},
    )
    (X,) = _data(digits01, "autoencoder")
    counts = xps.asarray((X * 16).astype(np.int64))  # integer data: cast to a float
    estimator = AutoEncoder(n_components=2, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning):  # five iterations, on purpose
        estimator.fit(counts)
    assert estimator.coefs_[0].dtype == xps.float32
    with sklearn.config_context(array_api_dispatch=False):
        numpy_model = AutoEncoder(n_components=2, tol=1e-2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="no float64.*fit on float32 data"):
        numpy_model.transform(xps.asarray(X.astype(np.float32)))


@pytest.mark.parametrize("weighted", [False, True])
def test_the_explosion_check_reads_targets_on_another_device(weighted):
    # the loss of predicting the mean target, computed on the host by parts,
    # only when J seems to have exploded
    from types import SimpleNamespace

    from skae._training.batches import Batches
    from skae._training.endings import AbnormalEndings

    rng = np.random.default_rng(0)
    T = rng.normal(size=(50, 3))
    w = rng.uniform(size=50) if weighted else None
    device = xps.Device("device1")

    def mean_prediction_loss(T, w):
        run = AbnormalEndings()
        run.batches = Batches(T, T, w, batch_size=T.shape[0])
        run.objective = SimpleNamespace(loss=SquaredError())
        return run._mean_prediction_loss()

    expected = mean_prediction_loss(T, w)
    T_xp = xps.asarray(T, device=device)
    w_xp = None if w is None else xps.asarray(w, device=device)
    assert mean_prediction_loss(T_xp, w_xp) == pytest.approx(expected, rel=1e-12)


class _InterruptAt(DoNothingCallback):
    """Raises KeyboardInterrupt (what Ctrl-C raises) at an iteration's end."""

    def __init__(self, at):
        self.at, self.seen = at, 0

    def on_fit_task_end(self, estimator, context, **kwargs):
        if context.task_name == "iteration":
            self.seen += 1
            if self.seen == self.at:
                raise KeyboardInterrupt


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_an_interrupted_fit_keeps_what_it_recorded_in_the_namespace(solver, dispatch):
    X = np.random.default_rng(0).uniform(size=(100, 5))
    estimator = AutoEncoder(n_components=2, solver=solver, max_iter=10, random_state=0)
    estimator.set_callbacks(_InterruptAt(3))
    with pytest.warns(UserWarning, match="interrupted by KeyboardInterrupt after 3"):
        estimator.fit(xps.asarray(X))
    assert estimator.n_iter_ == 3 and type(estimator.coefs_[0]) is type(xps.asarray(X))
    with sklearn.config_context(array_api_dispatch=False):
        reference = AutoEncoder(n_components=2, solver=solver, max_iter=3)
        with pytest.warns(ConvergenceWarning):
            reference.set_params(random_state=0).fit(X)
    assert_allclose(np.asarray(estimator.coefs_[0]), reference.coefs_[0], rtol=1e-10)


def test_concurrent_fits_in_threads_each_give_the_numpy_fit(monkeypatch):
    # scikit-learn's configuration is per thread: each turns dispatch on
    import threading

    from skae._math import array_api

    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    monkeypatch.setattr(array_api, "_NAMESPACES", {})  # threads race to fill it
    X = np.random.default_rng(0).uniform(size=(200, 8))
    solvers = ["adam", "lbfgs", "sgd"] * 2

    def model(index):
        solver = solvers[index]
        # converging by tol: warnings filters are process-wide, not per thread
        return AutoEncoder(n_components=3, solver=solver, tol=1e-2, random_state=index)

    results, errors = {}, []

    def fit(index):
        try:
            with sklearn.config_context(array_api_dispatch=True):
                results[index] = np.asarray(model(index).fit(xps.asarray(X)).coefs_[0])
        except BaseException as error:  # reported below, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=fit, args=(i,)) for i in range(len(solvers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for index in range(len(solvers)):
        reference = model(index).fit(X)
        assert_allclose(results[index], reference.coefs_[0], rtol=1e-10, atol=1e-13)
