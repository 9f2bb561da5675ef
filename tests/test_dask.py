"""skae on Dask arrays with dask-ml, on a real cluster of two worker processes.

``dask_ml.wrappers.Incremental`` feeds ``partial_fit`` one row block at a
time, the model pickled from worker to worker; ``ParallelPostFit`` applies
the estimator block by block. The user guide's page "Beyond one machine"
shows the calls these tests check.
"""

# License: BSD-3-Clause

import warnings

import dask.array as da
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from dask_ml.wrappers import Incremental, ParallelPostFit
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits

from skae import (
    AutoEncoder,
    MLPClassifierGD,
    MLPRegressorGD,
    ReconstructionOutlierDetector,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # distributed's own, about its sockets and processes at shutdown
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

BLOCK = 150


@pytest.fixture(scope="module")
def client():
    """Two worker processes of two threads each: CI's two cores."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _estimators():
    return [
        (AutoEncoder(n_components=8, solver="adam", random_state=0), None),
        (SparseAutoEncoder(n_components=8, solver="sgd", random_state=0), None),
        (VariationalAutoEncoder(out_activation="sigmoid", random_state=0), None),
        (MLPRegressorGD(hidden_layer_sizes=(16,), random_state=0), "regression"),
        (MLPClassifierGD(hidden_layer_sizes=(16,), random_state=0), "labels"),
    ]


@pytest.mark.parametrize(
    "estimator, target", _estimators(), ids=lambda e: type(e).__name__
)
def test_incremental_fit_is_partial_fit_on_the_same_blocks(
    client, digits, estimator, target
):
    X, labels = digits
    y = {None: None, "regression": X[:, 20] - X[:, 40], "labels": labels}[target]
    kwargs = {"classes": np.unique(labels)} if target == "labels" else {}
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    fitted = Incremental(estimator, shuffle_blocks=False)
    if y is None:
        fitted.fit(X_dask)
    else:
        fitted.fit(X_dask, da.from_array(y, chunks=BLOCK), **kwargs)
    local = type(estimator)(**estimator.get_params())
    for start in range(0, len(X), BLOCK):
        rows = slice(start, start + BLOCK)
        local.partial_fit(X[rows], *(() if y is None else (y[rows],)), **kwargs)
    assert fitted.estimator_.n_iter_ == local.n_iter_ == len(X) // BLOCK
    assert_array_equal(fitted.estimator_._theta, local._theta)


def test_parallel_post_fit_applies_block_by_block(client, digits):
    X, labels = digits
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    clf = MLPClassifierGD(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    clf.fit(X, labels)
    applied = ParallelPostFit(clf)
    for method in ("predict", "predict_proba"):
        lazy = getattr(applied, method)(X_dask)
        expected = getattr(clf, method)(X)
        assert lazy.shape == expected.shape  # the lazy shape is the right one
        assert_allclose(lazy.compute(), expected, rtol=1e-12)
    reg = MLPRegressorGD(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    reg.fit(X, X[:, 20])
    assert_allclose(ParallelPostFit(reg).predict(X_dask).compute(), reg.predict(X))


def test_a_lazy_transform_of_the_right_width_and_block_wise_scores(client, digits):
    X, _ = digits
    X_dask = da.from_array(X, chunks=(BLOCK, X.shape[1]))
    ae = AutoEncoder(n_components=8, max_iter=30, random_state=0).fit(X)
    # ParallelPostFit's lazy transform claims the input's width (dask-ml
    # passes no chunks); the computed blocks are the codes
    lazy = ParallelPostFit(ae).transform(X_dask)
    assert lazy.shape == (len(X), 64) and lazy.compute().shape == (len(X), 8)
    # the user guide's call: map_blocks with the codes' chunks
    codes = X_dask.map_blocks(
        ae.transform, chunks=(X_dask.chunks[0], (8,)), dtype=X_dask.dtype
    )
    assert codes.shape == (len(X), 8)
    assert_allclose(codes.compute(), ae.transform(X), rtol=1e-12)
    # scores of each row, block by block: one value a row
    scores = X_dask.map_blocks(ae.score_samples, drop_axis=1, dtype=X_dask.dtype)
    assert scores.shape == (len(X),)
    assert_allclose(scores.compute(), ae.score_samples(X), rtol=1e-12)
    detector = ReconstructionOutlierDetector(ae).fit(X)
    decision = X_dask.map_blocks(
        detector.decision_function, drop_axis=1, dtype=X_dask.dtype
    )
    assert_allclose(decision.compute(), detector.decision_function(X), rtol=1e-12)


def test_dask_dataframes_keep_the_feature_names(client, digits):
    X, _ = digits
    names = [f"pixel_{i}" for i in range(X.shape[1])]
    frame = dd.from_pandas(pd.DataFrame(X, columns=names), npartitions=4)
    fitted = Incremental(
        AutoEncoder(n_components=3, solver="adam", random_state=0),
        shuffle_blocks=False,
    ).fit(frame)
    ae = fitted.estimator_
    assert list(ae.feature_names_in_) == names
    codes = ParallelPostFit(ae.set_output(transform="pandas")).transform(frame)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert_allclose(
        codes.compute().to_numpy(), ae.transform(pd.DataFrame(X, columns=names))
    )


def _fit_and_count_threads(X, n_components):
    """On a worker: a fit, and the BLAS thread counts before and after it."""
    from threadpoolctl import threadpool_info

    before = [(p["filepath"], p["num_threads"]) for p in threadpool_info()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = AutoEncoder(n_components=n_components, max_iter=40, random_state=0)
        ae.fit(X)
    after = [(p["filepath"], p["num_threads"]) for p in threadpool_info()]
    return ae._theta, before, after


def test_two_fits_at_once_on_one_worker_give_each_its_fit_alone(client, digits):
    X, _ = digits
    worker = sorted(client.scheduler_info()["workers"])[0]
    futures = [
        client.submit(_fit_and_count_threads, X, k, workers=[worker], pure=False)
        for k in (4, 6)
    ]
    for future, k in zip(futures, (4, 6)):
        theta, before, after = future.result()
        alone = AutoEncoder(n_components=k, max_iter=40, random_state=0).fit(X)
        assert_allclose(theta, alone._theta, rtol=1e-9, atol=1e-12)
        assert before == after  # the BLAS thread counts are restored


@pytest.mark.parametrize(
    "estimator",
    [
        AutoEncoder(n_components=4, solver="adam"),
        MLPRegressorGD(hidden_layer_sizes=(4,)),
        MLPClassifierGD(hidden_layer_sizes=(4,)),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_batch_of_other_columns_is_refused_with_the_dask_fix(estimator, digits):
    X, labels = digits
    y = {"MLPRegressorGD": X[:, 0], "MLPClassifierGD": labels}.get(
        type(estimator).__name__
    )
    kwargs = {"classes": np.unique(labels)} if y is labels else {}
    args = () if y is None else (y[:100],)
    estimator.partial_fit(X[:100], *args, **kwargs)
    before = estimator._theta.copy()
    fix = r"expecting 64 features.*rechunk\(\{1: -1\}\)"
    with pytest.raises(ValueError, match=fix):
        estimator.partial_fit(X[100:200, :32], *(() if y is None else (y[100:200],)))
    assert_array_equal(estimator._theta, before)
