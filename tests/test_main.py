"""``python -m skae``: the help, and the demo on the bundled digits."""

# License: BSD-3-Clause

import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae.__main__ import N_COMPONENTS

FITTING = [
    f"fitting a SparseAutoEncoder with {N_COMPONENTS} code units",
    f"fitting PCA with {N_COMPONENTS} components",
    "fitting a logistic regression on",
]


def run_skae(*args):
    """Run ``python -W error -m skae ARGS``: any warning ends it with an error."""
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "skae", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_without_running_the_demo(flag):
    result = run_skae(flag)
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout
    assert "python -m skae" in result.stdout
    assert "fitting" not in result.stdout
    assert result.stderr == ""


def test_unknown_argument_is_an_error_without_running_the_demo():
    result = run_skae("--no-such-option")
    assert result.returncode == 2
    assert "usage" in result.stderr
    assert "fitting" not in result.stdout


def _number(pattern, text):
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in the demo's output:\n{text}"
    return float(match.group(1))


def _mean_image_error():
    """Squared error of reconstructing every test digit as the mean training one.

    The demo's split and scaling; any reconstruction worth the name beats it.
    """
    X = load_digits().data
    y = load_digits().target
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0, stratify=y)
    scaler = MinMaxScaler().fit(X_train)
    X_train = scaler.transform(X_train)
    X_test = np.clip(scaler.transform(X_test), 0, 1)
    return float(np.mean(np.sum((X_test - X_train.mean(axis=0)) ** 2, axis=1)))


def test_demo_says_what_it_fits_and_prints_the_pca_reference():
    result = run_skae()
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Warning" not in result.stderr
    assert result.stderr == ""

    # a line before each fit, in the order of the fits
    positions = [out.find(message) for message in FITTING]
    assert all(position >= 0 for position in positions), out
    assert positions == sorted(positions)
    assert out.count("fitting a logistic regression on") == 3

    iterations = _number(r"fit: (\d+) L-BFGS iterations", out)
    assert iterations < 1000  # stopped by tol, inside max_iter
    score = _number(
        r"reconstruction score \(minus mean cross-entropy, test\): (\S+)", out
    )
    assert score < 0

    # the reference: PCA of as many components, on the squared error, as the
    # autoencoder (both summed over pixels, averaged over the test images)
    sae_error = _number(rf"SparseAutoEncoder, {N_COMPONENTS} code units: +(\S+)", out)
    pca_error = _number(rf"PCA reference, {N_COMPONENTS} components: +(\S+)", out)
    assert 0 < pca_error < _mean_image_error()
    assert 0 < sae_error < _mean_image_error()

    rho_hat = _number(r"rho_hat = (\S+)", out)
    assert 0.05 < rho_hat < 0.2  # near the target 0.1

    for features in ["codes", "PCA components", "raw pixels"]:
        accuracy = _number(rf"on the \d+ {features}: +(\S+)", out)
        assert 0.9 < accuracy <= 1.0


def test_help_answers_before_scikit_learn_is_imported():
    # usage first: importing scikit-learn takes 3 s quiet, 12 s on a busy machine
    code = (
        "import sys, runpy\n"
        "sys.argv = ['skae', '--help']\n"
        "try:\n"
        "    runpy.run_module('skae', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('sklearn' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert "usage: python -m skae" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "False"
