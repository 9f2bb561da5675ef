"""Shared fixtures: a seeded generator and small data sets."""

# License: BSD-3-Clause

import os

# scikit-learn's Array API dispatch asks scipy's own support to be on, set
# before scipy is imported (the Array API checks of check_estimator need it)
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import importlib.util  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402
from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402


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


def pytest_collection_modifyitems(config, items):
    """scikit-learn's estimator checks include one per Array API namespace it
    knows (torch, cupy, dpnp, ...); those of namespaces not installed here
    are not collected, rather than reported as skipped."""
    absent = [
        name
        for name in ("torch", "cupy", "dpnp", "array_api_strict")
        if importlib.util.find_spec(name) is None
    ]
    if not absent:
        return
    names = "|".join(absent)
    pattern = re.compile(rf"array_namespace=({names})\b|xp='({names})'")
    deselected = [item for item in items if pattern.search(item.nodeid)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
