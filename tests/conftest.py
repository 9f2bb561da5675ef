"""Shared fixtures: a seeded generator and small data sets."""

# License: BSD-3-Clause

import numpy as np
import pytest
from hypothesis import settings
from sklearn.datasets import load_digits, make_regression
from sklearn.preprocessing import MinMaxScaler


@pytest.fixture
def rng():
    """A seeded NumPy generator, so every test is reproducible."""
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def regression_data():
    """A small standardised regression problem with two outputs."""
    X, y = make_regression(
        n_samples=120,
        n_features=6,
        n_informative=4,
        n_targets=2,
        noise=0.1,
        random_state=0,
    )
    return X / X.std(axis=0), y / y.std(axis=0)


@pytest.fixture(scope="session")
def digits01():
    """The first 300 bundled digits, scaled to [0, 1]."""
    X = load_digits().data[:300]
    return MinMaxScaler().fit_transform(X)


# Hypothesis: a fixed, derandomized profile keeps CI reproducible and quick;
# "long" explores further for a release (pytest --hypothesis-profile=long).
settings.register_profile(
    "ci", max_examples=2000, deadline=None, derandomize=True, print_blob=True
)
settings.register_profile("long", max_examples=50_000, deadline=None)
settings.load_profile("ci")
