"""skae.onnx: the exported models, run in onnxruntime, compute what skae does."""

# License: BSD-3-Clause

import subprocess
import sys

import numpy as np

# skl2onnx and onnxruntime are in the test extra: no skip hides their absence
import onnxruntime as rt
import pytest
import skl2onnx
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import skae.onnx
from skae import (
    AutoEncoder,
    MLPClassifierGD,
    MLPRegressorGD,
    ReconstructionOutlierDetector,
    SparseAutoEncoder,
    VariationalAutoEncoder,
)
from skae.activations import ELU, PReLU

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = [
    "identity",
    "sigmoid",
    "tanh",
    "softsign",
    "hardtanh",
    "relu",
    PReLU(alpha=0.2),
    ELU(alpha=0.7),
    "softplus",
]
# the issue's tolerance in float32; float64 runs agree to rounding
TOLERANCE = {
    np.float32: dict(rtol=1e-4, atol=1e-5),
    np.float64: dict(rtol=1e-10, atol=1e-12),
}


def run(model, X):
    """Every output of the ONNX ``model`` on ``X``, from onnxruntime."""
    session = rt.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _expected(estimator, method, X):
    if method == "reconstruct":
        return estimator.inverse_transform(estimator.transform(X))
    return getattr(estimator, method)(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_every_activation_and_method_of_a_deep_autoencoder(
    activation, tied, dtype, digits
):
    X = digits[0][:300].astype(dtype)
    est = AutoEncoder(
        n_components=5,
        hidden_layer_sizes=(12, 8),
        activation=activation,
        tied_weights=tied,
        max_iter=15,
        random_state=0,
    ).fit(X)
    for method in ("transform", "inverse_transform", "reconstruct", "score_samples"):
        inputs = est.transform(X) if method == "inverse_transform" else X
        (got,) = run(skae.onnx.to_onnx(est, inputs, method=method), inputs)
        expected = _expected(est, method, inputs)
        assert got.dtype == dtype
        assert_allclose(got.reshape(expected.shape), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_a_variational_autoencoders_encoder_mean_and_decoder(activation, dtype, digits):
    X = digits[0][:200].astype(dtype)
    vae = VariationalAutoEncoder(
        n_components=3,
        hidden_layer_sizes=(10,),
        activation=activation,
        out_activation="sigmoid",
        max_iter=5,
        random_state=0,
    ).fit(X)
    for method in ("transform", "inverse_transform", "reconstruct"):
        inputs = vae.transform(X) if method == "inverse_transform" else X
        (got,) = run(skae.onnx.to_onnx(vae, inputs, method=method), inputs)
        expected = _expected(vae, method, inputs)
        assert got.dtype == dtype and got.shape == expected.shape
        assert_allclose(got, expected, **TOLERANCE[dtype])
    (codes,) = run(skl2onnx.to_onnx(vae, X[:1]), X)  # skl2onnx's own entry
    assert_allclose(codes, vae.transform(X), **TOLERANCE[dtype])


def test_a_variational_autoencoders_elbo_is_not_exported(digits):
    X = digits[0][:100]
    vae = VariationalAutoEncoder(max_iter=3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="no ONNX export for method='score_samples'"):
        skae.onnx.to_onnx(vae, X, method="score_samples")
    detector = ReconstructionOutlierDetector(vae).fit(X)
    with pytest.raises(NotImplementedError, match="the ELBO estimated with draws"):
        skae.onnx.to_onnx(detector, X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_and_sparse_autoencoders_score_as_skae(dtype, digits):
    X = digits[0][:300].astype(dtype)
    for est in (
        AutoEncoder(n_components=6, out_activation="sigmoid"),
        SparseAutoEncoder(n_components=6, sparsity_weight=2.0),
    ):
        est.set_params(max_iter=20, random_state=0).fit(X)
        (scores,) = run(skae.onnx.to_onnx(est, X, method="score_samples"), X)
        assert_allclose(scores, est.score_samples(X), **TOLERANCE[dtype])
        (codes,) = run(skl2onnx.to_onnx(est, X[:1]), X)  # skl2onnx's own entry
        assert_allclose(codes, est.transform(X), **TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
def test_a_two_output_regressor(activation, dtype, digits):
    X, y = digits
    X = X[:300].astype(dtype)
    Y = np.c_[y[:300], np.sin(y[:300])].astype(dtype)
    reg = MLPRegressorGD(
        hidden_layer_sizes=(10, 6), activation=activation, max_iter=20, random_state=0
    ).fit(X, Y)
    (got,) = run(skae.onnx.to_onnx(reg, X), X)
    assert got.shape == (300, 2)
    assert_allclose(got, reg.predict(X), **TOLERANCE[dtype])


def test_a_network_of_mixed_activations_trained_with_dropout(digits):
    X, y = digits
    X = X[:300]
    reg = MLPRegressorGD(
        hidden_layer_sizes=(10, 6),
        activation=("tanh", PReLU(alpha=0.2)),
        dropout=0.3,
        max_iter=20,
        random_state=0,
    ).fit(X, y[:300])
    (got,) = run(skae.onnx.to_onnx(reg, X), X)
    assert_allclose(got.ravel(), reg.predict(X), **TOLERANCE[np.float64])
    ae = AutoEncoder(
        n_components=4,
        hidden_layer_sizes=(12,),
        activation=("relu", "sigmoid"),
        dropout=0.2,
        solver="adam",
        max_iter=15,
        random_state=0,
    ).fit(X)
    (got,) = run(skae.onnx.to_onnx(ae, X, method="reconstruct"), X)
    assert_allclose(got, _expected(ae, "reconstruct", X), **TOLERANCE[np.float64])


def test_a_one_output_regressor_gives_a_column(digits):
    X, y = digits
    X = X.astype(np.float32)
    reg = MLPRegressorGD(max_iter=10, random_state=0).fit(X, y)
    (got,) = run(skl2onnx.to_onnx(reg, X[:1]), X)
    assert got.shape == (len(X), 1)  # as skl2onnx exports MLPRegressor
    assert_allclose(got[:, 0], reg.predict(X), rtol=1e-4, atol=1e-5)


def test_the_issues_pipeline_scaler_sparse_autoencoder_logistic_regression(digits):
    X, y = digits
    X = (16 * X).astype(np.float32)
    pipe = make_pipeline(
        MinMaxScaler(),
        SparseAutoEncoder(n_components=16, max_iter=30, random_state=0),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    label, probabilities = run(skl2onnx.to_onnx(pipe, X[:1]), X)
    assert_array_equal(label, pipe.predict(X))
    expected = pipe.predict_proba(X)
    got = np.array([[row[k] for k in range(10)] for row in probabilities])
    assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_steps_after_an_autoencoder_and_a_regressor_in_a_pipeline(digits):
    X, y = digits
    X = X.astype(np.float32)
    pipe = make_pipeline(
        StandardScaler(),
        AutoEncoder(n_components=8, max_iter=20, random_state=0),
        StandardScaler(),
        MLPRegressorGD(hidden_layer_sizes=(6,), max_iter=20, random_state=0),
    ).fit(X, y)
    (got,) = run(skl2onnx.to_onnx(pipe, X[:1]), X)
    assert_allclose(got[:, 0], pipe.predict(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "estimator",
    [
        AutoEncoder(n_components=8, max_iter=30, random_state=0),
        make_pipeline(StandardScaler(), AutoEncoder(n_components=8, random_state=0)),
        PCA(n_components=8),
        PCA(n_components=8, whiten=True),
    ],
    ids=["autoencoder", "pipeline", "pca", "whitened pca"],
)
def test_the_outlier_detector_gives_labels_and_decision_scores(estimator, digits):
    X = digits[0].astype(np.float32)
    detector = ReconstructionOutlierDetector(estimator, contamination=0.1).fit(X)
    label, scores = run(skae.onnx.to_onnx(detector, X), X)
    decision = detector.decision_function(X)
    assert_allclose(scores[:, 0], decision, rtol=1e-4, atol=1e-4)
    clear = np.abs(decision) > 1e-3  # away from the threshold, labels agree
    assert_array_equal(label[clear], detector.predict(X)[clear])
    assert set(np.unique(label)) == {-1, 1}


# -- the classifier ------------------------------------------------------------------


def _targets(y, target_type):
    if target_type == "binary":  # string classes: a string label
        return np.where(y % 2, "odd", "even")
    if target_type == "multiclass":
        return y
    return np.c_[y % 2, y > 4, y % 3 == 0].astype(int)  # multilabel indicator


def _fit_classifier(X, y, target_type, activation="relu"):
    return MLPClassifierGD(
        hidden_layer_sizes=(8, 6),
        activation=activation,
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    ).fit(X, _targets(y, target_type))


def _assert_as_skae(clf, label, probabilities, X, dtype):
    """``label`` is ``predict(X)`` away from ties, ``probabilities`` is
    ``predict_proba(X)`` to a relative tolerance, small values included."""
    expected = clf.predict_proba(X)
    assert probabilities.dtype == dtype
    assert probabilities.shape == expected.shape
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    # only subnormal probabilities may differ by more than rtol
    assert_allclose(probabilities, expected, rtol=rtol, atol=np.finfo(dtype).tiny)
    predicted = clf.predict(X)
    if predicted.ndim == 2:  # multilabel: each label away from 0.5
        clear = np.all(np.abs(expected - 0.5) > 10 * rtol, axis=1)
    else:  # the two most probable classes apart
        top = np.sort(expected, axis=1)
        clear = top[:, -1] - top[:, -2] > 10 * rtol
    assert clear.mean() > 0.9
    assert_array_equal(label[clear], predicted[clear])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=str)
@pytest.mark.parametrize("target_type", ["binary", "multiclass", "multilabel"])
def test_a_classifier_gives_predict_and_predict_proba(
    target_type, activation, dtype, digits
):
    X, y = digits
    X, y = X[:300].astype(dtype), y[:300]
    clf = _fit_classifier(X, y, target_type, activation)
    model = skae.onnx.to_onnx(clf, X)
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    far = np.r_[X, 10 * X]  # large logits: probabilities to 1e-30 and less
    label, probabilities = run(model, far)
    _assert_as_skae(clf, label, probabilities, far, dtype)
    if target_type == "binary":
        assert label.dtype == object and set(label) <= {"even", "odd"}
    else:
        assert label.dtype == np.int64
    if target_type == "multilabel":
        assert label.shape == (len(far), 3)


@pytest.mark.parametrize("target_type", ["binary", "multiclass", "multilabel"])
def test_skl2onnx_exports_a_classifier_with_its_options(target_type, digits):
    X, y = digits
    X, y = X[:300].astype(np.float32), y[:300]
    clf = _fit_classifier(X, y, target_type)
    expected = clf.predict_proba(X)
    # skl2onnx's default: a ZipMap, a dict of class to probability a row
    label, dicts = run(skl2onnx.to_onnx(clf, X[:1]), X)
    keys = clf.classes_.tolist()
    got = np.array([[row[key] for key in keys] for row in dicts])
    assert_allclose(got, expected, rtol=1e-4, atol=1e-30)
    assert_array_equal(label, clf.predict(X))
    options = {id(clf): {"zipmap": False, "nocl": True}}
    label, probabilities = run(skl2onnx.to_onnx(clf, X[:1], options=options), X)
    assert_allclose(probabilities, expected, rtol=1e-4, atol=1e-30)
    if target_type == "multilabel":
        assert_array_equal(label, clf.predict(X))
    else:  # nocl: the indices of the classes
        assert_array_equal(clf.classes_[label], clf.predict(X))
    options = {id(clf): {"zipmap": False, "output_class_labels": True}}
    *_, classes = run(skl2onnx.to_onnx(clf, X[:1], options=options), X)
    assert_array_equal(classes, clf.classes_)


def test_a_classifier_in_a_pipeline(digits):
    X, y = digits
    X = (16 * X).astype(np.float32)
    pipe = make_pipeline(StandardScaler(), _fit_classifier(X, y, "multiclass"))
    pipe.fit(X, y)
    options = {id(pipe[-1]): {"zipmap": False}}
    label, probabilities = run(skl2onnx.to_onnx(pipe, X[:1], options=options), X)
    _assert_as_skae(pipe, label, probabilities, X, np.float32)


def test_integral_float_and_bool_classes_are_int64_labels(digits):
    X, y = digits
    X, y = X[:300].astype(np.float32), y[:300]
    for classes in ((y % 3).astype(float), y > 4):
        clf = MLPClassifierGD((6,), solver="lbfgs", max_iter=20, random_state=0)
        clf.fit(X, classes)
        label, probabilities = run(skae.onnx.to_onnx(clf, X), X)
        assert label.dtype == np.int64
        _assert_as_skae(
            clf, label.astype(clf.classes_.dtype), probabilities, X, np.float32
        )


def test_a_classifier_refuses_a_wrong_width_and_an_old_opset(digits):
    X, y = digits
    X, y = X[:100].astype(np.float32), y[:100]
    clf = MLPClassifierGD((4,), solver="lbfgs", max_iter=5, random_state=0)
    clf.fit(X, y)
    for export in (skae.onnx.to_onnx, skl2onnx.to_onnx):
        with pytest.raises(ValueError, match="has 4 columns, but MLPClassifierGD"):
            export(clf, X[:, :4])
        with pytest.raises(ValueError, match="opset 13 or later"):
            export(clf, X, target_opset=12)
    with pytest.raises(ValueError, match="no ONNX export for method='predict_proba'"):
        skae.onnx.to_onnx(clf, X, method="predict_proba")


# -- bad use ------------------------------------------------------------------------


def test_an_unfitted_estimator_is_refused(digits):
    X = digits[0][:5].astype(np.float32)
    for est in (AutoEncoder(), MLPRegressorGD(), MLPClassifierGD()):
        with pytest.raises(NotFittedError):
            skae.onnx.to_onnx(est, X)
        with pytest.raises(NotFittedError):
            skl2onnx.to_onnx(est, X)


def test_a_method_the_estimator_does_not_have_is_refused(digits):
    X, y = digits
    X = X[:50].astype(np.float32)
    reg = MLPRegressorGD(max_iter=5, random_state=0).fit(X, y[:50])
    with pytest.raises(ValueError, match="no ONNX export for method='transform'"):
        skae.onnx.to_onnx(reg, X, method="transform")
    ae = AutoEncoder(max_iter=5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="method='predict'.*'transform'"):
        skae.onnx.to_onnx(ae, X, method="predict")
    with pytest.raises(TypeError, match="skl2onnx.to_onnx for other models"):
        skae.onnx.to_onnx(PCA(2).fit(X), X)
    with pytest.raises(ValueError, match="float32 or float64"):
        skae.onnx.to_onnx(ae, X.astype(np.float16))


def test_a_detector_around_a_model_without_an_onnx_reconstruction(digits):
    from sklearn.decomposition import TruncatedSVD

    X = digits[0][:100].astype(np.float32)
    detector = ReconstructionOutlierDetector(TruncatedSVD(4)).fit(X)
    with pytest.raises(NotImplementedError, match="TruncatedSVD"):
        skae.onnx.to_onnx(detector, X)


def test_import_skae_never_imports_the_onnx_packages():
    code = (
        "import sys, skae\n"
        "assert not {'skl2onnx', 'onnxruntime', 'onnx'} & set(sys.modules), 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_skae_onnx_without_skl2onnx_names_the_extra():
    code = (
        "import sys\n"
        "sys.modules['skl2onnx'] = None\n"  # as if it were not installed
        "try:\n"
        "    import skae.onnx\n"
        "except ImportError as error:\n"
        "    assert 'skae[onnx]' in str(error), error\n"
        "else:\n"
        "    raise AssertionError('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def fitted_autoencoder(digits):
    X = digits[0][:100].astype(np.float32)
    return AutoEncoder(n_components=4, max_iter=5, random_state=0).fit(X), X


@pytest.mark.parametrize("export", [skae.onnx.to_onnx, skl2onnx.to_onnx])
def test_an_example_of_the_wrong_width_is_refused_at_export(export, fitted_autoencoder):
    ae, X = fitted_autoencoder
    with pytest.raises(ValueError, match="has 4 columns, but AutoEncoder.transform "):
        export(ae, X[:, :4])


def test_features_where_codes_are_expected_are_refused(fitted_autoencoder):
    ae, X = fitted_autoencoder
    with pytest.raises(ValueError, match=r"has 64 columns.*takes 4 codes"):
        skae.onnx.to_onnx(ae, X, method="inverse_transform")
    model = skae.onnx.to_onnx(ae, ae.transform(X), method="inverse_transform")
    assert_allclose(
        run(model, ae.transform(X))[0],
        ae.inverse_transform(ae.transform(X)),
        **TOLERANCE[np.float32],
    )


@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_a_one_dimensional_example_is_refused(method, fitted_autoencoder):
    ae, X = fitted_autoencoder
    with pytest.raises(ValueError, match=r"shape \(64,\).*reshape\(1, -1\)"):
        skae.onnx.to_onnx(ae, X[0], method=method)


def test_an_opset_before_13_is_refused_by_name(fitted_autoencoder):
    ae, X = fitted_autoencoder
    detector = ReconstructionOutlierDetector(ae).fit(X)
    for estimator, method in [(ae, "score_samples"), (ae, None), (detector, None)]:
        with pytest.raises(ValueError, match="opset 13 or later.*target_opset=12"):
            skae.onnx.to_onnx(estimator, X, method=method, target_opset=12)
    with pytest.raises(ValueError, match="opset 13 or later"):
        skl2onnx.to_onnx(detector, X[:1], target_opset=12)


def test_a_detector_around_a_nested_pipeline_exports(digits):
    X = digits[0].astype(np.float32)
    inner = make_pipeline(MinMaxScaler(), AutoEncoder(n_components=8, random_state=0))
    detector = ReconstructionOutlierDetector(make_pipeline(StandardScaler(), inner))
    detector.fit(X)
    label, scores = run(skae.onnx.to_onnx(detector, X), X)
    assert_allclose(scores[:, 0], detector.decision_function(X), rtol=1e-4, atol=1e-4)


def test_a_model_fitted_on_another_namespace_is_refused_with_the_fix(
    digits, monkeypatch
):
    import array_api_strict
    import sklearn

    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    X = digits[0][:100]
    with sklearn.config_context(array_api_dispatch=True):
        ae = AutoEncoder(n_components=4, max_iter=5, random_state=0)
        ae.fit(array_api_strict.asarray(X))
    detector = ReconstructionOutlierDetector(PCA(2)).fit(X)
    detector.estimator_ = ae  # as if the detector had wrapped it
    for estimator in (ae, detector):
        with pytest.raises(ValueError, match="array_api_strict.*move_estimator_to"):
            skae.onnx.to_onnx(estimator, X)


@pytest.mark.parametrize(
    "method", ["transform", "inverse_transform", "reconstruct", "score_samples"]
)
def test_the_output_is_named_after_the_method(method, fitted_autoencoder):
    ae, X = fitted_autoencoder
    example = ae.transform(X) if method == "inverse_transform" else X
    model = skae.onnx.to_onnx(ae, example, method=method)
    assert [output.name for output in model.graph.output] == [method]
    reg = MLPRegressorGD(max_iter=3, random_state=0).fit(X, X[:, 0])
    assert [o.name for o in skae.onnx.to_onnx(reg, X).graph.output] == ["predict"]
