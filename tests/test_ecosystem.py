"""The scikit-learn ecosystem: DataFrames, persistence, Dask, data on disk."""

# License: BSD-3-Clause

import pickle
import textwrap
import tracemalloc
from pathlib import Path

import distributed
import joblib
import numpy as np
import pandas as pd
import polars as pl
import pytest
import skops.io
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import AutoEncoder, MLPRegressorGD, SparseAutoEncoder

ESTIMATORS = [
    MLPRegressorGD(hidden_layer_sizes=(4,), solver="adam", max_iter=5, random_state=0),
    AutoEncoder(n_components=3, max_iter=5, random_state=0),
    SparseAutoEncoder(n_components=3, max_iter=5, random_state=0),
]
IDS = [type(estimator).__name__ for estimator in ESTIMATORS]


def _fit(estimator, X):
    if isinstance(estimator, MLPRegressorGD):
        return estimator.fit(X, np.asarray(X)[:, 0])
    return estimator.fit(X)


# -- DataFrames in and out ----------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("container", ["pandas", "polars"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_set_output_returns_frames_named_by_feature_names_out(
    estimator, container, digits01
):
    columns = [f"pixel{i}" for i in range(8)]
    frame = pd.DataFrame(digits01[:, :8], columns=columns)
    if container == "polars":
        frame = pl.from_pandas(frame)
    estimator = clone(estimator).set_output(transform=container)
    codes = _fit(estimator, frame).transform(frame)
    assert list(codes.columns) == list(estimator.get_feature_names_out())
    assert codes.shape[0] == 300
    assert isinstance(codes, pd.DataFrame if container == "pandas" else pl.DataFrame)
    assert list(estimator.feature_names_in_) == columns
    # columns in another order are refused, as scikit-learn does
    renamed = pd.DataFrame(digits01[:, :8], columns=columns[::-1])
    with pytest.raises(ValueError, match="feature names"):
        estimator.transform(renamed)


# -- persistence: pickle, joblib, skops ----------------------------------------


def _round_trips(estimator, tmp_path):
    yield pickle.loads(pickle.dumps(estimator))
    joblib.dump(estimator, tmp_path / "model.joblib")
    yield joblib.load(tmp_path / "model.joblib")
    data = skops.io.dumps(estimator)
    untrusted = skops.io.get_untrusted_types(data=data)
    # only skae's own types need trusting
    assert all(name.startswith("skae.") for name in untrusted)
    yield skops.io.loads(data, trusted=untrusted)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_persistence_round_trips_give_identical_outputs(estimator, tmp_path, digits01):
    fitted = _fit(clone(estimator), digits01)
    for restored in _round_trips(fitted, tmp_path):
        assert type(restored) is type(fitted)
        np.testing.assert_array_equal(
            restored.transform(digits01), fitted.transform(digits01)
        )
        if isinstance(fitted, MLPRegressorGD):
            np.testing.assert_array_equal(
                restored.predict(digits01), fitted.predict(digits01)
            )
        else:
            assert restored.score(digits01) == fitted.score(digits01)


# -- distributed grid search on a Dask cluster ---------------------------------


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_grid_search_on_a_dask_cluster_matches_a_local_run(digits01):
    grid = {
        "sparsity_weight": [0.1, 3.0],
        "sparsity_target": [0.05, 0.2],
        "weight_decay": [1e-4, 1e-2],
    }
    estimator = SparseAutoEncoder(n_components=4, max_iter=10, random_state=0)
    local = GridSearchCV(estimator, grid, cv=2).fit(digits01)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        with joblib.parallel_backend("dask"):
            remote = GridSearchCV(estimator, grid, cv=2, n_jobs=-1).fit(digits01)
    assert local.cv_results_["params"] == remote.cv_results_["params"]
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(local.cv_results_[key], remote.cv_results_[key])


# -- data larger than memory: partial_fit over chunks on disk -----------------


def test_partial_fit_over_a_memmap_keeps_memory_to_a_chunk(tmp_path):
    n_samples, n_features, chunk = 40_000, 64, 1_000
    data = np.memmap(
        tmp_path / "data.f64",
        dtype=np.float64,
        mode="w+",
        shape=(n_samples, n_features),
    )
    rng = np.random.default_rng(0)
    for start in range(0, n_samples, chunk):
        data[start : start + chunk] = rng.uniform(size=(chunk, n_features))
    data.flush()
    X = np.memmap(
        tmp_path / "data.f64", dtype=np.float64, mode="r", shape=(n_samples, n_features)
    )
    ae = AutoEncoder(n_components=16, solver="adam", batch_size=100, random_state=0)
    ae.partial_fit(X[:chunk])  # warm-up: allocations of the first call
    tracemalloc.start()
    try:
        for start in range(chunk, n_samples, chunk):
            ae.partial_fit(X[start : start + chunk])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    data_bytes = n_samples * n_features * 8  # 20 MiB
    chunk_bytes = chunk * n_features * 8  # 0.5 MiB, 1/40 of the data
    assert peak < 4 * chunk_bytes
    assert peak < data_bytes / 10
    assert ae.n_iter_ == n_samples // chunk
    assert np.isfinite(ae.transform(X[:chunk])).all()


def _user_guide_skops_recipe():
    """The skops recipe of the user guide, as the code a user copies, less the
    line that fits the estimator it saves: the test passes its own, ``sae``."""
    page = Path(__file__).parents[1] / "docs" / "user_guide" / "ecosystem.rst"
    guide = page.read_text(encoding="utf-8")
    start = guide.index("    import skops.io\n")
    block = textwrap.dedent(guide[start : guide.index("\n\nReview the list", start)])
    lines = block.splitlines(keepends=True)
    fits = [line for line in lines if line.startswith("sae = ")]
    assert len(fits) == 1
    return "".join(line for line in lines if line not in fits)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_the_user_guide_skops_recipe_trusts_skae_types_only(
    estimator, monkeypatch, digits01
):
    recipe = _user_guide_skops_recipe()
    assert "trusted=skops.io.get_untrusted_types" not in recipe
    fitted = _fit(clone(estimator).set_params(solver="adam"), digits01)
    namespace = {"sae": fitted}
    exec(recipe, namespace)
    np.testing.assert_array_equal(
        namespace["restored"].transform(digits01), fitted.transform(digits01)
    )
    # a crafted file that names another type is refused
    real = skops.io.get_untrusted_types
    monkeypatch.setattr(
        skops.io,
        "get_untrusted_types",
        lambda **kwargs: [*real(**kwargs), "posix.system"],
    )
    with pytest.raises(ValueError, match="posix.system"):
        exec(recipe, {"sae": fitted})


# -- a validation set through a Pipeline ---------------------------------------------


def _scaled_regression():
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split

    X, y = make_regression(400, 6, noise=5, random_state=0)
    X = 100 * X + 50  # on a scale only the pipeline's scaler undoes
    return train_test_split(X, y, random_state=0)


def test_x_val_routed_through_the_pipeline_reaches_the_estimator_scaled():
    """With transform_input=["X_val"], the final step scores the validation set
    after the earlier steps' transformations, as it does its training data."""
    import warnings

    import sklearn
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, X_val, y, y_val = _scaled_regression()
    with sklearn.config_context(enable_metadata_routing=True):
        reg = MLPRegressorGD(max_iter=20, random_state=0)
        reg.set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("reg", reg)], transform_input=["X_val"]
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # no "does not look like"
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X, y, X_val=X_val, y_val=y_val)
    scaled = pipe[0].transform(X_val)
    assert pipe[-1].validation_scores_[-1] == pytest.approx(
        pipe[-1].score(scaled, y_val), rel=1e-12
    )


def test_x_val_that_skipped_the_pipelines_steps_is_warned_about():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, X_val, y, y_val = _scaled_regression()
    pipe = Pipeline([("scale", StandardScaler()), ("reg", MLPRegressorGD(max_iter=20))])
    with pytest.warns(UserWarning, match="X_val does not look like the training"):
        with pytest.warns(ConvergenceWarning):  # 20 epochs: short on purpose
            pipe.fit(X, y, reg__X_val=X_val, reg__y_val=y_val)


def test_a_validation_set_like_the_training_data_is_not_warned_about():
    import warnings

    rng = np.random.default_rng(0)
    X, X_val = rng.normal(size=(200, 5)), rng.normal(size=(50, 5))
    for data in ((X, X_val), (X[:, :1] * 0 + 1, X_val[:, :1] * 0 + 1)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            AutoEncoder(n_components=1, max_iter=3).fit(data[0], X_val=data[1])


def test_the_validation_check_changes_nothing_and_works_by_chunks():
    import tracemalloc

    from sklearn import config_context

    from skae._training.batches import _moments

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 500)) + 1e8  # float64: chunks would be views
    before = X.copy()
    with config_context(working_memory=4):
        tracemalloc.start()
        mean, spread = _moments(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    np.testing.assert_array_equal(X, before)
    assert peak < X.nbytes / 8  # a float64 copy of all the rows would be 80 MB
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(spread, X.std(axis=0), rtol=1e-6)
