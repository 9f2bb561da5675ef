"""ReconstructionOutlierDetector: the outlier-detector contract and its scores."""

# License: BSD-3-Clause

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA, FastICA
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import f1_score, make_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import AutoEncoder, SparseAutoEncoder
from skae._applications.outlier import ReconstructionOutlierDetector

# the two scikit-learn checks a detector of tiny data runs into the iteration
# budget of the default autoencoder; what they check does not depend on it
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks(
    [
        # the default, as users get it: an AutoEncoder()
        ReconstructionOutlierDetector(),
        # PCA with fewer components than features: with all of them PCA
        # reconstructs every sample exactly, and the scores are rounding noise
        ReconstructionOutlierDetector(PCA(n_components=1)),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _plane_data(rng, n_inliers=300, n_outliers=15, noise=0.1, shift=0.6):
    """Points near a plane in six dimensions, and a few pushed off it.

    Returns X, the inliers first, and y: +1 for inliers, -1 for outliers.
    """
    basis = rng.normal(size=(2, 6))
    inliers = rng.normal(size=(n_inliers, 2)) @ basis
    inliers += noise * rng.normal(size=inliers.shape)
    outliers = rng.normal(size=(n_outliers, 2)) @ basis
    outliers += shift * rng.normal(size=outliers.shape)
    X = np.vstack([inliers, outliers])
    y = np.r_[np.ones(n_inliers, dtype=int), -np.ones(n_outliers, dtype=int)]
    return X, y


@pytest.mark.parametrize("contamination", [0.01, 0.05, 0.1, 0.25, 0.37, 0.5])
@pytest.mark.parametrize("n_samples", [97, 200])
def test_contamination_share_of_training_samples_below_offset(
    rng, contamination, n_samples
):
    X = rng.normal(size=(n_samples, 5))
    detector = ReconstructionOutlierDetector(PCA(n_components=2), contamination=0.1)
    detector.set_params(contamination=contamination).fit(X)
    n_outliers = np.sum(detector.predict(X) == -1)
    # no ties in continuous scores: the share is exact up to rounding to a count
    assert np.floor(contamination * n_samples) <= n_outliers
    assert n_outliers <= np.ceil(contamination * n_samples)
    assert n_outliers == np.sum(detector.score_samples(X) < detector.offset_)


def test_decision_function_and_predict_follow_score_samples(rng):
    X, _ = _plane_data(rng)
    X_new = rng.normal(size=(50, 6))
    detector = ReconstructionOutlierDetector(PCA(n_components=2)).fit(X)
    scores = detector.score_samples(X_new)
    decision = detector.decision_function(X_new)
    labels = detector.predict(X_new)
    np.testing.assert_allclose(decision, scores - detector.offset_)
    assert set(np.unique(labels)) <= {-1, 1}
    np.testing.assert_array_equal(labels, np.where(decision < 0, -1, 1))
    assert labels.dtype.kind == "i"


def test_fit_predict_equals_fit_then_predict(rng):
    X, _ = _plane_data(rng)
    detector = ReconstructionOutlierDetector(
        AutoEncoder(n_components=2, max_iter=50, random_state=0), contamination=0.05
    )
    labels = detector.fit_predict(X)
    np.testing.assert_array_equal(labels, detector.fit(X).predict(X))
    assert set(np.unique(labels)) == {-1, 1}


def test_score_samples_is_minus_the_squared_pca_reconstruction_error(rng):
    X, _ = _plane_data(rng)
    X_new = rng.normal(size=(40, 6))
    k = 2
    # PCA by hand: project the centred data on the top k right singular vectors
    mean = X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    V = Vt[:k].T
    reconstruction = mean + (X_new - mean) @ V @ V.T
    expected = -np.sum((X_new - reconstruction) ** 2, axis=1)

    detector = ReconstructionOutlierDetector(PCA(n_components=k)).fit(X)
    np.testing.assert_allclose(detector.score_samples(X_new), expected, rtol=1e-10)
    # PCA's own score_samples (a log-likelihood) is not what the detector returns
    assert not np.allclose(detector.estimator_.score_samples(X_new), expected)


def test_sparse_input_scores_as_dense(rng):
    X, _ = _plane_data(rng)
    X[np.abs(X) < 0.5] = 0.0
    dense = ReconstructionOutlierDetector(PCA(n_components=2)).fit(X)
    on_sparse = ReconstructionOutlierDetector(PCA(n_components=2)).fit(
        sparse.csr_matrix(X)
    )
    for X_test in (X, sparse.csr_matrix(X), sparse.csc_matrix(X)):
        np.testing.assert_allclose(
            on_sparse.score_samples(X_test), dense.score_samples(X), rtol=1e-8
        )


@pytest.mark.parametrize(
    "autoencoder",
    [
        AutoEncoder(n_components=4, max_iter=50, random_state=0),
        # cross-entropy: the autoencoder's own loss, not the squared error
        AutoEncoder(
            n_components=4, out_activation="sigmoid", max_iter=50, random_state=0
        ),
        SparseAutoEncoder(n_components=4, max_iter=50, random_state=0),
    ],
    ids=["squared_error", "cross_entropy", "sparse"],
)
def test_score_samples_is_the_autoencoders_own(digits01, autoencoder):
    X_train, X_test = digits01[:200], digits01[200:]
    detector = ReconstructionOutlierDetector(autoencoder).fit(X_train)
    fitted = detector.estimator_
    np.testing.assert_array_equal(
        detector.score_samples(X_test), fitted.score_samples(X_test)
    )
    assert np.all(detector.score_samples(X_test) <= 0)
    squared = -np.sum(
        (X_test - fitted.inverse_transform(fitted.transform(X_test))) ** 2, axis=1
    )
    if autoencoder.out_activation == "sigmoid":
        assert not np.allclose(detector.score_samples(X_test), squared)
    else:
        np.testing.assert_allclose(detector.score_samples(X_test), squared, rtol=1e-6)


def test_default_estimator_is_a_seeded_autoencoder(digits01):
    first = ReconstructionOutlierDetector(random_state=0).fit(digits01)
    second = ReconstructionOutlierDetector(random_state=0).fit(digits01)
    assert type(first.estimator_) is AutoEncoder
    assert first.estimator_.get_params() == AutoEncoder(random_state=0).get_params()
    np.testing.assert_array_equal(
        first.score_samples(digits01), second.score_samples(digits01)
    )


def test_pipeline_ending_in_an_autoencoder(rng):
    X, _ = _plane_data(rng)
    names = [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    pipe = make_pipeline(
        StandardScaler(), AutoEncoder(n_components=2, max_iter=50, random_state=0)
    )
    detector = ReconstructionOutlierDetector(pipe).fit(frame)
    # the pipeline's score_samples: the autoencoder's loss on the scaled data
    np.testing.assert_array_equal(
        detector.score_samples(frame), detector.estimator_.score_samples(frame)
    )
    assert detector.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(detector.feature_names_in_, names)
    with pytest.raises(ValueError, match="feature names"):
        detector.predict(frame[names[::-1]])


def test_detector_as_the_last_step_of_a_pipeline(rng):
    X, _ = _plane_data(rng)
    X_scaled = StandardScaler().fit_transform(X)
    alone = ReconstructionOutlierDetector(PCA(n_components=2)).fit(X_scaled)
    pipe = make_pipeline(
        StandardScaler(), ReconstructionOutlierDetector(PCA(n_components=2))
    ).fit(X)
    np.testing.assert_allclose(pipe.score_samples(X), alone.score_samples(X_scaled))
    np.testing.assert_allclose(
        pipe.decision_function(X), alone.decision_function(X_scaled)
    )
    np.testing.assert_array_equal(pipe.predict(X), alone.predict(X_scaled))


def test_grid_search_finds_the_true_dimension_with_roc_auc(rng):
    # the inliers lie near a plane: 2 components reconstruct them and leave
    # the outliers' offsets; 1 component leaves part of the plane unexplained,
    # and more than 2 start to reconstruct the outliers too
    X, y = _plane_data(rng)
    search = GridSearchCV(
        ReconstructionOutlierDetector(PCA()),
        {"estimator__n_components": [1, 2, 3, 4]},
        scoring="roc_auc",  # on decision_function, against y = +1 / -1
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] == scores.max()
    assert scores[1] > scores[0] and scores[1] > scores[3]
    # GridSearchCV breaks ties by the first candidate
    assert search.best_params_ == {"estimator__n_components": 2}
    assert search.best_estimator_.estimator_.n_components_ == 2


def test_grid_search_over_contamination_with_outlier_f1(rng):
    X, y = _plane_data(rng)  # 15 outliers in 315 samples: about 5%
    search = GridSearchCV(
        ReconstructionOutlierDetector(PCA(n_components=2)),
        {"contamination": [0.01, 0.05, 0.2, 0.4]},
        scoring=make_scorer(f1_score, pos_label=-1),
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(X, y)
    assert search.best_params_ == {"contamination": 0.05}


@pytest.mark.parametrize("contamination", [0, 0.0, 0.6, 0.5000001, -1, "auto", None])
def test_bad_contamination_is_rejected_by_name(rng, contamination):
    detector = ReconstructionOutlierDetector(
        PCA(n_components=1), contamination=contamination
    )
    with pytest.raises(InvalidParameterError, match="'contamination' parameter"):
        detector.fit(rng.normal(size=(20, 3)))


def test_largest_contamination_is_accepted(rng):
    X = rng.normal(size=(20, 3))
    detector = ReconstructionOutlierDetector(PCA(n_components=1), contamination=0.5)
    assert np.sum(detector.fit(X).predict(X) == -1) == 10


@pytest.mark.parametrize(
    "estimator, missing",
    [
        (KMeans(n_clusters=2, n_init=1), "no inverse_transform"),
        (make_pipeline(StandardScaler(), KMeans(n_clusters=2)), "no inverse_transform"),
        (LinearRegression(), "no transform and no inverse_transform"),
    ],
    ids=["KMeans", "pipeline", "LinearRegression"],
)
def test_estimator_that_cannot_reconstruct_is_rejected_at_fit(rng, estimator, missing):
    detector = ReconstructionOutlierDetector(estimator)  # constructing is fine
    with pytest.raises(TypeError, match=missing):
        detector.fit(rng.normal(size=(20, 3)))


def test_estimator_without_fit_is_rejected_by_name(rng):
    with pytest.raises(InvalidParameterError, match="'estimator' parameter"):
        ReconstructionOutlierDetector("pca").fit(rng.normal(size=(20, 3)))


def test_failed_refit_leaves_the_fitted_detector_unchanged(rng):
    X, _ = _plane_data(rng)
    detector = ReconstructionOutlierDetector(PCA(n_components=2)).fit(X)
    estimator, offset = detector.estimator_, detector.offset_
    scores = detector.score_samples(X)

    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.fit(X_nan)
    with pytest.raises(InvalidParameterError):
        detector.set_params(contamination=0.7).fit(X)
    with pytest.raises(TypeError):
        detector.set_params(contamination=0.1, estimator=KMeans(n_clusters=2)).fit(X)
    with pytest.raises(ValueError):
        detector.set_params(estimator=PCA(n_components=50)).fit(X)

    assert detector.estimator_ is estimator
    assert detector.offset_ == offset
    np.testing.assert_array_equal(detector.score_samples(X), scores)


def test_sparse_support_follows_the_estimator():
    assert get_tags(ReconstructionOutlierDetector()).input_tags.sparse
    assert get_tags(ReconstructionOutlierDetector(PCA())).input_tags.sparse
    assert not get_tags(ReconstructionOutlierDetector(FastICA())).input_tags.sparse


def _leave_one_digit_out_auc(model, X, y, digit):
    """ROC AUC of ``model.score_samples`` at telling ``digit`` from the others.

    Trained on 70% of the other nine classes, scored on the remaining 30% of
    them (the normal samples) and on every image of ``digit`` (the novelties).
    """
    normal = y != digit
    X_train, X_normal = train_test_split(X[normal], test_size=0.3, random_state=0)
    X_test = np.vstack([X_normal, X[~normal]])
    is_normal = np.r_[np.ones(len(X_normal)), np.zeros(np.sum(~normal))]
    return roc_auc_score(is_normal, model.fit(X_train).score_samples(X_test))


def test_novelty_detection_on_digits_beats_isolation_forest():
    # the target: leave-one-digit-out, all ten splits (about 4 s)
    X, y = load_digits(return_X_y=True)
    detector = ReconstructionOutlierDetector(
        make_pipeline(MinMaxScaler(), AutoEncoder(n_components=16, random_state=0))
    )
    forest = IsolationForest(random_state=0)
    detector_auc = [_leave_one_digit_out_auc(detector, X, y, d) for d in range(10)]
    forest_auc = [_leave_one_digit_out_auc(forest, X, y, d) for d in range(10)]
    assert np.mean(detector_auc) >= 0.80
    assert np.mean(detector_auc) >= np.mean(forest_auc)


# -- found in review ----------------------------------------------------------------


def test_a_pipeline_ending_in_an_autoencoder_needs_no_inverse_transform_before_it(
    rng,
):
    from sklearn.preprocessing import Normalizer

    X = rng.uniform(0.1, 1, size=(80, 6))
    pipe = make_pipeline(Normalizer(), AutoEncoder(n_components=2, max_iter=20))
    detector = ReconstructionOutlierDetector(pipe).fit(X)
    np.testing.assert_allclose(
        detector.score_samples(X), detector.estimator_.score_samples(X)
    )


def test_scores_are_computed_by_blocks_of_working_memory(rng):
    """The dense reconstruction of all the rows (sparse input included) is
    never made at once: the peak stays near one block's."""
    import tracemalloc

    from sklearn import config_context
    from sklearn.decomposition import TruncatedSVD

    X = sparse.random(20000, 500, density=0.002, format="csr", random_state=0)
    detector = ReconstructionOutlierDetector(TruncatedSVD(5, random_state=0))
    detector.fit(X[:2000])
    whole = 20000 * 500 * 8  # the dense reconstruction of every row: 80 MB
    with config_context(working_memory=4):
        tracemalloc.start()
        scores = detector.score_samples(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < whole / 4
    expected = -(
        (
            X.toarray()
            - detector.estimator_.inverse_transform(detector.estimator_.transform(X))
        )
        ** 2
    ).sum(axis=1)
    np.testing.assert_allclose(scores, expected, rtol=1e-10)


# -- samples whose reconstruction is not finite -----------------------------


@pytest.mark.parametrize(
    "dtype, largest", [(np.float64, 1.7e308), (np.float32, 3.4e38)]
)
@pytest.mark.parametrize("activation", ["relu", "identity", "prelu", "softplus"])
def test_a_reconstruction_that_overflows_is_an_outlier_never_nan(
    activation, dtype, largest
):
    # finite inputs near the dtype's largest value overflow the layers:
    # inf - inf there made NaN scores, and NaN < offset_ is False (an inlier)
    G = np.random.default_rng(0).uniform(-1, 1, size=(200, 6)).astype(dtype)
    autoencoder = AutoEncoder(
        n_components=3, hidden_layer_sizes=(4,), activation=activation, random_state=0
    )
    detector = ReconstructionOutlierDetector(autoencoder).fit(G)
    huge = G[:5] * dtype(largest)
    assert np.isfinite(huge).all()
    with np.errstate(over="ignore", invalid="ignore"):
        scores = detector.score_samples(huge)
        own = detector.estimator_.score_samples(huge)
        labels = detector.predict(huge)
    assert not np.isnan(scores).any() and not np.isnan(own).any()
    assert np.all(scores == -np.inf)
    assert np.all(labels == -1)


def test_an_unreconstructable_sample_is_an_outlier_even_at_an_infinite_offset():
    # reconstructs a row exactly, or as inf when its first feature is over 100
    overflowing = FunctionTransformer(
        inverse_func=lambda X: np.where(X[:, :1] > 100, np.inf, X), check_inverse=False
    )
    X = np.random.default_rng(1).normal(size=(40, 3))
    X[:20, 0] = 1e300  # half of the training rows: offset_ is -inf
    detector = ReconstructionOutlierDetector(overflowing, contamination=0.3)
    with pytest.warns(
        UserWarning, match="20 of the 40 training samples have no finite"
    ):
        detector.fit(X)
    assert detector.offset_ == -np.inf
    assert np.all(detector.score_samples(X[:20]) == -np.inf)
    assert np.all(detector.decision_function(X[:20]) == -np.inf)
    assert np.all(detector.predict(X[:20]) == -1)
    assert np.all(detector.predict(X[20:]) == 1)


@pytest.mark.parametrize(
    "estimator",
    [PCA(2), AutoEncoder(n_components=2, max_iter=5, random_state=0)],
    ids=["pca", "autoencoder"],
)
@pytest.mark.parametrize("method", ["predict", "score_samples", "decision_function"])
def test_no_samples_get_the_usual_message(rng, estimator, method):
    X = rng.normal(size=(30, 4))
    detector = ReconstructionOutlierDetector(estimator).fit(X)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        getattr(detector, method)(X[:0])


def test_on_breast_cancer_a_forest_wins_as_the_user_guide_says():
    # the scope the docs give: tabular outliers of a few extreme values
    from sklearn.datasets import load_breast_cancer

    page = Path(__file__).parents[1] / "docs" / "user_guide" / "outliers.rst"
    guide = " ".join(page.read_text(encoding="utf-8").split())
    assert "ROC AUC 0.699 against 0.799 for ``IsolationForest" in guide

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    malignant = y == 0
    detector = ReconstructionOutlierDetector(random_state=0).fit(X)
    forest = IsolationForest(random_state=0).fit(X)
    ours = roc_auc_score(malignant, -detector.decision_function(X))
    theirs = roc_auc_score(malignant, -forest.decision_function(X))
    assert abs(ours - 0.699) < 0.01 and abs(theirs - 0.799) < 0.01
