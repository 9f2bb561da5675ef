"""Denoising autoencoders: corrupted inputs, clean targets (Vincent et al., 2008)."""

# License: BSD-3-Clause

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import InvalidParameterError

import skae._math.objective
from skae import AutoEncoder, SparseAutoEncoder
from skae._training.corruption import Corruption

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KINDS = ["masking", "gaussian", "salt_and_pepper"]
SOLVERS = ["lbfgs", "sgd", "adam"]


@pytest.fixture
def X():
    return np.random.default_rng(0).uniform(0.1, 0.9, (60, 6))


@pytest.fixture
def seen(monkeypatch):
    """The (input, target) pairs of every evaluation of the training objective."""
    calls = []
    original = skae._math.objective.Objective.loss_and_gradient

    def spy(self, theta, X, T, *args, **kwargs):
        calls.append((X.copy(), T.copy()))  # batches live in reused buffers
        return original(self, theta, X, T, *args, **kwargs)

    monkeypatch.setattr(skae._math.objective.Objective, "loss_and_gradient", spy)
    return calls


def _dense(A):
    return A.toarray() if sparse.issparse(A) else A


# -- what training sees ----------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_draw_fresh_masks_for_every_batch(solver, X, seen):
    AutoEncoder(
        n_components=3,
        solver=solver,
        batch_size=20,
        shuffle=False,
        max_iter=3,
        corruption="masking",
        corruption_level=0.4,
        random_state=0,
    ).fit(X)
    assert len(seen) == 9  # 3 batches in each of 3 epochs
    for step, (inputs, target) in enumerate(seen):
        rows = slice(20 * (step % 3), 20 * (step % 3) + 20)
        assert_array_equal(target, X[rows])  # scored against the clean input
        masked = inputs == 0
        assert_array_equal(inputs[~masked], X[rows][~masked])
        assert 0.2 < masked.mean() < 0.6  # about corruption_level of the entries
    # the same rows, epoch after epoch: a new mask each time
    first_batches = [inputs for step, (inputs, _) in enumerate(seen) if step % 3 == 0]
    assert not np.array_equal(first_batches[0], first_batches[1])
    assert not np.array_equal(first_batches[1], first_batches[2])


def test_lbfgs_draws_one_corruption_per_fit(X, seen):
    est = AutoEncoder(
        n_components=3, max_iter=5, corruption="gaussian", corruption_level=0.2
    )
    est.set_params(random_state=0).fit(X)
    first = [inputs for inputs, _ in seen]
    assert len(first) > 2
    for inputs in first[1:]:  # the line searches see one objective
        assert_array_equal(inputs, first[0])
    assert_array_equal(seen[0][1], X)
    noise = first[0] - X
    assert 0.15 < noise.std() < 0.25 and abs(noise.mean()) < 0.05
    seen.clear()
    est.fit(X)  # the same seed: the same draw
    assert_array_equal(seen[0][0], first[0])
    seen.clear()
    est.set_params(random_state=1).fit(X)
    assert not np.array_equal(seen[0][0], first[0])


def test_salt_and_pepper_sets_entries_to_their_features_extremes(X, seen):
    AutoEncoder(
        n_components=3,
        solver="adam",
        batch_size=60,
        max_iter=1,
        corruption="salt_and_pepper",
        corruption_level=0.5,
        shuffle=False,
        random_state=0,
    ).fit(X)
    (inputs, _), *_ = seen
    low, high = X.min(axis=0), X.max(axis=0)
    changed = inputs != X
    salt, pepper = inputs == high, inputs == low
    assert np.all(salt | pepper | ~changed)
    assert 0.4 < changed.mean() < 0.6  # about corruption_level of the entries
    assert 0.3 < salt[changed].mean() < 0.7  # minimum or maximum, at random


def test_salt_and_pepper_takes_the_range_of_all_partial_fit_calls(X, seen):
    # one row a call: its minimum is its maximum, so the call's own range
    # corrupted nothing, and the stream trained as if uncorrupted
    def stream(**corruption):
        est = AutoEncoder(n_components=3, solver="sgd", random_state=0, **corruption)
        for row in X[:30]:
            est.partial_fit(row[None, :])
        return est

    corrupted = stream(corruption="salt_and_pepper", corruption_level=1.0)
    inputs = np.vstack([batch for batch, _ in seen])
    rows_seen_before = [X[: i + 1] for i in range(30)]
    for row, earlier in zip(inputs, rows_seen_before):
        # every entry is set, to the minimum or maximum of the rows seen so far
        assert np.all((row == earlier.min(axis=0)) | (row == earlier.max(axis=0)))
    assert not np.array_equal(inputs[1:], X[1:30])
    clean = stream()
    assert not np.array_equal(corrupted.coefs_[0], clean.coefs_[0])


def test_a_new_fit_forgets_the_range_of_earlier_data(X, seen):
    est = AutoEncoder(
        n_components=3,
        solver="adam",
        batch_size=60,
        max_iter=1,
        corruption="salt_and_pepper",
        corruption_level=1.0,
        random_state=0,
    )
    est.partial_fit(X * 100)
    seen.clear()
    est.fit(X)  # not warm: the range of X alone
    (inputs, _), *_ = seen
    low, high = X.min(axis=0), X.max(axis=0)
    assert np.all((inputs == low) | (inputs == high))


def test_masking_keeps_sparse_input_sparse(seen):
    X = sparse.random(80, 12, density=0.3, format="csr", random_state=0)
    AutoEncoder(
        n_components=3,
        solver="sgd",
        batch_size=40,
        shuffle=False,
        max_iter=1,
        corruption="masking",
        corruption_level=0.5,
        random_state=0,
    ).fit(X)
    for step, (inputs, target) in enumerate(seen):
        assert sparse.issparse(inputs) and sparse.issparse(target)
        clean = X[40 * step : 40 * step + 40]
        assert_array_equal(target.toarray(), clean.toarray())
        kept = inputs.toarray() != 0
        assert_array_equal(inputs.toarray()[kept], clean.toarray()[kept])
        assert 0.3 < 1 - inputs.nnz / clean.nnz < 0.7


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
def test_the_training_data_is_never_changed(kind, solver, X):
    before = X.copy()
    kwargs = {} if solver == "lbfgs" else {"batch_size": "full"}  # views of X
    AutoEncoder(
        n_components=3,
        solver=solver,
        max_iter=3,
        corruption=kind,
        random_state=0,
        shuffle=False,
        **kwargs,
    ).fit(X)
    assert_array_equal(X, before)


# -- what users get --------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("Estimator", [AutoEncoder, SparseAutoEncoder])
def test_two_fits_with_one_seed_are_identical(Estimator, kind, solver, X):
    def fit(seed):
        return Estimator(
            n_components=3,
            solver=solver,
            max_iter=4,
            corruption=kind,
            batch_size=16,
            random_state=seed,
        ).fit(X)

    a, b, c = fit(0), fit(0), fit(1)
    assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.transform(X), c.transform(X))


@pytest.mark.parametrize("kind", KINDS)
def test_transform_and_the_scores_never_corrupt(kind, X):
    est = AutoEncoder(n_components=3, max_iter=20, corruption=kind, random_state=0)
    est.fit(X)
    codes = est.transform(X)
    reconstruction = est.inverse_transform(codes)
    assert_array_equal(est.transform(X), codes)  # deterministic
    losses = ((reconstruction - X) ** 2).sum(axis=1)
    assert_allclose(est.score_samples(X), -losses, rtol=1e-12)
    assert_allclose(est.score(X), -losses.mean(), rtol=1e-12)
    h = 1 / (1 + np.exp(-(X @ est.coefs_[0] + est.intercepts_[0])))
    assert_allclose(codes, h, rtol=1e-12)


def test_no_corruption_is_todays_autoencoder(X):
    plain = AutoEncoder(n_components=3, random_state=0, max_iter=30).fit(X)
    none = AutoEncoder(
        n_components=3, random_state=0, max_iter=30, corruption_level=0.9
    ).fit(X)
    zero = AutoEncoder(
        n_components=3, random_state=0, max_iter=30, corruption="masking"
    ).set_params(corruption_level=0.0)
    zero.fit(X)
    assert_array_equal(plain.transform(X), none.transform(X))
    assert_allclose(plain.transform(X), zero.transform(X), rtol=1e-12)


def test_loss_is_measured_against_the_clean_input(X, seen):
    est = AutoEncoder(
        n_components=3, max_iter=15, corruption="masking", weight_decay=0.0
    )
    est.set_params(random_state=0).fit(X)
    inputs, target = seen[0]
    h = 1 / (1 + np.exp(-(inputs @ est.coefs_[0] + est.intercepts_[0])))
    y = h @ est.coefs_[1] + est.intercepts_[1]
    assert_allclose(est.loss_, ((y - X) ** 2).sum(axis=1).mean(), rtol=1e-10)
    assert est.loss_ > -est.score(X)  # a harder task than reconstructing x


@pytest.mark.parametrize("Estimator", [AutoEncoder, SparseAutoEncoder])
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_for_a_fixed_corruption_matches_finite_differences(Estimator, kind, X):
    est = Estimator(n_components=3, max_iter=2, random_state=0, weight_decay=0.01)
    est.fit(X)  # the network and its objective
    objective = est._build_objective()
    X_tilde = Corruption(kind, 0.3, X, np.random.RandomState(0))(X)
    assert not np.allclose(X_tilde, X)
    theta = est._theta + 0.1 * np.random.default_rng(1).standard_normal(
        est._theta.shape
    )
    loss, gradient = objective.loss_and_gradient(theta, X_tilde, X)
    numerical = np.empty_like(theta)
    for k in range(theta.size):
        step = np.zeros_like(theta)
        step[k] = 1e-6
        numerical[k] = (
            objective.value(theta + step, X_tilde, X)
            - objective.value(theta - step, X_tilde, X)
        ) / 2e-6
    error = np.linalg.norm(gradient - numerical) / np.linalg.norm(gradient + numerical)
    assert np.linalg.norm(numerical) > 1e-3 and error < 1e-6


def test_partial_fit_with_corruption(X, seen):
    est = AutoEncoder(
        n_components=3,
        solver="adam",
        batch_size=30,
        corruption="masking",
        random_state=0,
    )
    est.partial_fit(X).partial_fit(X)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert len(seen) == 4 and all(not np.array_equal(i, t) for i, t in seen)


def test_denoising_beats_the_plain_autoencoder_on_masked_digits():
    """The issue's target: at most 0.7x the plain autoencoder's squared error
    reconstructing masked test digits (70/30 split, masking 0.3, 32 units)."""
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    mask = np.random.default_rng(1).random(X_test.shape) >= 0.3
    masked = X_test * mask

    def error(corruption):
        est = AutoEncoder(n_components=32, corruption=corruption, corruption_level=0.3)
        est.set_params(random_state=0).fit(X_train)
        reconstruction = est.inverse_transform(est.transform(masked))
        return ((reconstruction - X_test) ** 2).sum(axis=1).mean()

    assert error("masking") <= 0.7 * error(None)


# -- bad values --------------------------------------------------------------------


def test_unknown_corruption_kind_is_rejected_by_name(X):
    with pytest.raises(InvalidParameterError, match="'corruption' parameter"):
        AutoEncoder(corruption="dropout").fit(X)


@pytest.mark.parametrize(
    ("kind", "level"),
    [
        ("masking", 1.0),
        ("masking", -0.1),
        ("salt_and_pepper", 1.5),
        ("gaussian", -1.0),
        ("gaussian", np.nan),
    ],
)
def test_corruption_level_out_of_its_kinds_range_is_rejected_by_name(kind, level, X):
    with pytest.raises(InvalidParameterError, match="corruption_level"):
        SparseAutoEncoder(corruption=kind, corruption_level=level).fit(X)


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper"])
def test_dense_only_kinds_say_so_on_sparse_input(kind):
    X = sparse.random(30, 5, density=0.5, format="csr", random_state=0)
    with pytest.raises(ValueError, match="needs dense input.*masking"):
        AutoEncoder(corruption=kind).fit(X)


def test_a_failed_fit_leaves_the_fitted_model_as_it_was(X):
    est = AutoEncoder(n_components=3, max_iter=5, random_state=0).fit(X)
    codes = est.transform(X)
    est.set_params(corruption="masking", corruption_level=1.0)
    with pytest.raises(InvalidParameterError, match="corruption_level"):
        est.fit(X)
    est.set_params(corruption="gaussian", corruption_level=0.1, warm_start=True)
    with pytest.raises(ValueError, match="dense"):
        est.fit(sparse.csr_matrix(X))
    assert_array_equal(est.transform(X), codes)


def test_no_convergence_warning_is_lost(X):
    with pytest.warns(ConvergenceWarning):
        AutoEncoder(n_components=3, max_iter=2, corruption="masking").fit(X)


# -- found in review ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gaussian", "salt_and_pepper"])
def test_a_sparse_validation_set_is_fine_with_dense_only_kinds(kind, X):
    """Validation data is never corrupted, so it may be sparse."""
    X_val = sparse.csr_matrix(X[:20])
    est = AutoEncoder(n_components=3, corruption=kind, max_iter=5, random_state=0)
    est.fit(X, X_val=X_val)
    assert len(est.validation_scores_) == est.n_iter_


def test_masking_at_a_level_near_one_keeps_its_share_of_float32_entries():
    """The draws are compared in float64: in float32 a level just below 1
    rounds to 1 and would erase every entry."""
    X = np.ones((2000, 1000), dtype=np.float32)
    kept = Corruption("masking", 0.999, X, np.random.RandomState(0))(X)
    assert kept.dtype == np.float32
    assert 1700 < np.count_nonzero(kept) < 2300  # 0.1% of 2e6 entries


def test_a_boolean_corruption_level_is_rejected(X):
    with pytest.raises(InvalidParameterError, match="corruption_level.*not a bool"):
        AutoEncoder(corruption="masking", corruption_level=True).fit(X)


def test_gaussian_noise_that_would_overflow_is_rejected_by_name(X):
    with pytest.raises(InvalidParameterError, match="corruption_level.*overflow"):
        AutoEncoder(corruption="gaussian", corruption_level=1e200).fit(
            X.astype(np.float32)
        )
    with pytest.raises(InvalidParameterError, match="corruption_level"):
        AutoEncoder(corruption="gaussian", corruption_level=np.inf).fit(X)
